//! The `sqlfork` binary: parse, run, print the error, exit with its code.

use clap::Parser;
use sqlfork::cli::Cli;
use sqlfork::error::exit_code_for;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match sqlfork::commands::run(cli) {
        Ok(code) => std::process::ExitCode::from(code.code()),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(exit_code_for(&err).code())
        }
    }
}
