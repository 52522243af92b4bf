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
//! Errors are [`Error`]s: match on the variant and its data
//! (`Error::NotFound`, `Error::Taken`, `Error::BadTtl`, `Error::BadAddress`,
//! `Error::NotADatabase`, `Error::NoParent`, …); their `Display` is the
//! sentence the CLI prints. No call re-executes the calling program: a background copy
//! is a thread ([`Sqlfork::fork_in_background`]). The crate links against
//! any build of rusqlite's bundled SQLite (no environment, no config file).

#![warn(unreachable_pub)]
// Some of the crate serves only the command line (its views, `db show`'s
// detail, the background copy's handshake): without the `cli` feature it is
// unused, and a dependent crate should not see warnings about it.
#![cfg_attr(not(feature = "cli"), allow(dead_code, unused_imports))]

// Clones (FICLONE), kernel copies (copy_file_range), FIEMAP and /proc are
// Linux system calls and files; nothing else is supported yet.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "sqlfork runs on Linux only: it forks with Linux system calls (FICLONE, copy_file_range, FIEMAP) and reads /proc."
);

pub mod address;
mod api;
mod branch;
mod cancel;
mod claim;
mod copy;
pub mod diff;
mod env;
pub mod error;
mod fork;
mod gc;
mod holders;
mod home;
mod layout;
pub mod mask;
pub mod merge;
mod ops;
mod pool;
mod registry;
pub mod rehearse;
mod remote;
mod reset;
mod schema;
mod settings;
mod snapshot;
mod space;
mod sqlite_optional;
mod storage;
mod suggest;
mod sweep;
mod ttl;

pub use api::{
    BackgroundFork, BranchAction, BranchOptions, CopyFigures, Database, ForkOptions, Lineage, ResetOptions, SafeInfo,
    SnapshotInfo, SnapshotLineage, Sqlfork, Status,
};
pub use api::{Pulled, Pushed};
pub use copy::{NoProgress, Progress};
pub use error::{Error, ExitCode};
pub use holders::{Holder, WhenOpen};
pub use pool::{PoolLease, PoolOptions, PoolSlot};
pub use remote::{GcReport, RemoteInfo, RemoteOptions, RemoteSnapshot, Transfer, TransferFigures};

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
mod commands;
#[cfg(feature = "cli")]
mod githook;
#[cfg(feature = "cli")]
mod mcp;
#[cfg(feature = "cli")]
mod output;

/// The `sqlfork` command line, as the binary runs it: parse the arguments,
/// run the command, print an error as one line on stderr, and return the
/// documented exit code. (Feature `cli`, on by default.)
#[cfg(feature = "cli")]
pub fn run_cli() -> std::process::ExitCode {
    use clap::Parser;
    // The shell completions ask for database addresses this way.
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let result = if args.get(1).is_some_and(|a| a == "__complete") {
        commands::complete(&args[2..])
    } else {
        commands::run(cli::Cli::parse())
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code.code()),
        // A closed stdout (`sqlfork db list | head`) is not an error.
        Err(err) if error::is_broken_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let code = error::exit_code_for(&err);
            match error::typed(&err) {
                // Ctrl-C: one line saying how far the copy got and how to go on.
                Some(e @ (Error::Interrupted { .. } | Error::CopyStopped | Error::RehearsalInterrupted)) => {
                    eprintln!("{e}")
                }
                _ => eprintln!("error: {err:#}"),
            }
            std::process::ExitCode::from(code.code())
        }
    }
}
