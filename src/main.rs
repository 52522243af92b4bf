//! The `sqlfork` binary: parse, run, print the error, exit with its code.

use clap::Parser;
use sqlfork::cli::Cli;
use sqlfork::error::exit_code_for;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match sqlfork::commands::run(cli) {
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
