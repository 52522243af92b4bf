//! `sqlfork completions SHELL`: generated from the one clap definition.

use crate::cli::Cli;
use crate::error::ExitCode;
use clap::CommandFactory;

pub(super) fn run(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "sqlfork", &mut std::io::stdout());
    Ok(ExitCode::Success)
}
