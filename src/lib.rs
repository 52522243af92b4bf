//! sqlfork forks SQLite databases.
//!
//! A fork is a new, fully independent SQLite file that starts with the
//! source's schema (and, on request, its rows), remembers its parent, can
//! expire, and is addressed by name (`NS/SLUG`) from a registry in a home
//! directory. This crate is the library behind the `sqlfork` binary; its
//! public API is the Rust SDK:
//!
//! ```no_run
//! use sqlfork::{address::Source, fork::{fork, ForkOptions}, home::{Config, Home}};
//! let home = Home::at("/tmp/sqlfork-home");
//! let config = Config::load(&home)?;
//! let out = fork(&home, &config, &ForkOptions {
//!     source: Source::parse("./orders.db")?,
//!     destination: "pr-142".into(),
//!     name: None,
//!     ttl: None,
//!     with_data: false,
//!     detach: false,
//!     branch: None,
//! }, &mut sqlfork::copy::NoProgress)?;
//! println!("{}", out.entry.path.display());
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod address;
pub mod branch;
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
pub mod standin;
pub mod sweep;
pub mod ttl;

pub use error::{Error, ExitCode};

pub mod cli;
pub mod commands;
pub mod output;
