//! sqlfork forks SQLite databases.
//!
//! A fork is a new, fully independent SQLite file that starts with the
//! source's schema (and, on request, its rows), remembers its parent, can
//! expire, and is addressed by name (`NS/SLUG`) from a registry in a home
//! directory. This crate is the library behind the `sqlfork` binary; its
//! public API, the Rust SDK, is [`Sqlfork`] and the types it returns:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let source = dir.path().join("orders.db");
//! # rusqlite::Connection::open(&source)?.execute_batch(
//! #     "CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders(item) VALUES ('apple'), ('pear');")?;
//! use sqlfork::{ForkOptions, Sqlfork};
//!
//! let sqlfork = Sqlfork::open(dir.path().join("home"))?;
//! // Schema only (the default): instant, whatever the source's size.
//! let empty = sqlfork.fork(source.to_str().unwrap(), "acme/pr-142", &ForkOptions::default())?;
//! // With every row.
//! let full = sqlfork.fork("acme/pr-142", "acme/staging", &ForkOptions { with_data: true, ..Default::default() })?;
//! println!("open {} with SQLite", full.path.display());
//! assert_eq!(sqlfork.list(Some("acme"))?.len(), 2);
//! sqlfork.delete(&empty.address)?;
//! # Ok(()) }
//! ```
//!
//! Errors are [`Error`]s: match on the variant (`Error::NotFound`,
//! `Error::Taken`, `Error::Invalid`, …); their `Display` is the sentence the
//! CLI prints. No call re-executes the calling program: a background copy
//! is a thread ([`Sqlfork::fork_in_background`]). The crate links against
//! any build of rusqlite's bundled SQLite (no environment, no config file).

pub mod address;
mod api;
pub mod branch;
pub mod cancel;
pub mod claim;
pub mod copy;
pub mod error;
pub mod fork;
pub mod gc;
pub mod home;
pub mod layout;
pub mod ops;
pub mod registry;
pub mod schema;
mod sqlite_optional;
pub mod suggest;
pub mod sweep;
pub mod ttl;
pub mod wait;

pub use api::{
    BackgroundFork, BranchAction, BranchOptions, CopyFigures, Database, ForkOptions, Lineage, Sqlfork, Status,
};
pub use copy::{NoProgress, Progress};
pub use error::{Error, ExitCode};

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod commands;
#[cfg(feature = "cli")]
pub mod githook;
#[cfg(feature = "cli")]
pub mod mcp;
#[cfg(feature = "cli")]
pub mod output;
