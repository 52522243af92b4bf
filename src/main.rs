//! The `sqlfork` binary: parse, run, print the error, exit with its code.

use clap::Parser;
use sqlfork::cli::Cli;
use sqlfork::error::exit_code_for;

fn main() -> std::process::ExitCode {
    // The shell completions ask for database addresses this way.
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let result = if args.get(1).is_some_and(|a| a == "__complete") {
        sqlfork::commands::complete(&args[2..])
    } else {
        sqlfork::commands::run(Cli::parse())
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code.code()),
        // A closed stdout (`sqlfork db list | head`) is not an error.
        Err(err) if sqlfork::error::is_broken_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let code = exit_code_for(&err);
            match sqlfork::error::typed(&err) {
                // Ctrl-C: one line saying how far the copy got and how to go on.
                Some(e) if code == sqlfork::ExitCode::Interrupted => eprintln!("{e}"),
                _ => eprintln!("error: {err:#}"),
            }
            std::process::ExitCode::from(code.code())
        }
    }
}
