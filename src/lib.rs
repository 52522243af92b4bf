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
//!     safe: Default::default(),
//! }, &mut sqlfork::NoProgress)?;
//! println!("{}", out.entry.path.display());
//! # Ok::<(), anyhow::Error>(())
//! ```

#![warn(unreachable_pub)]

pub mod address;
pub mod branch;
pub mod cancel;
mod claim;
mod copy;
pub mod diff;
mod env;
pub mod error;
pub mod fork;
pub mod gc;
pub mod home;
mod layout;
pub mod mask;
pub mod ops;
pub mod registry;
pub mod reset;
mod schema;
pub mod snapshot;
#[cfg(feature = "cli")]
mod suggest;
mod sweep;
pub mod ttl;

pub use copy::{NoProgress, Progress};
pub use error::{Error, ExitCode};

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
mod commands;
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
                Some(e @ (Error::Interrupted { .. } | Error::CopyStopped)) => eprintln!("{e}"),
                _ => eprintln!("error: {err:#}"),
            }
            std::process::ExitCode::from(code.code())
        }
    }
}
