//! One function per command: parsed arguments → typed options → a library
//! call → the printer. Addresses and TTLs are parsed here so that bad input
//! is one sentence and exit code 2.

mod branch;
mod completions;
mod db;
mod diff;
mod expiry;
mod mask;
mod reset;
mod snapshot;

use crate::cli::{Cli, Command};
use crate::error::ExitCode;
use crate::home::{Config, Home};
use crate::output::Printer;

/// Everything a command needs, resolved once before any work starts.
pub(crate) struct Context {
    pub home: Home,
    pub printer: Printer,
    config: Option<Config>,
}

impl Context {
    /// `config.toml`, loaded (and validated) on first use.
    pub(crate) fn config(&mut self) -> anyhow::Result<&Config> {
        if self.config.is_none() {
            self.config = Some(Config::load(&self.home)?);
        }
        Ok(self.config.as_ref().expect("just loaded"))
    }
}

/// `sqlfork __complete WORDS… CURRENT`, which the shell completions call to
/// complete database addresses. Not a clap subcommand, so that it is never
/// offered as one.
pub(crate) fn complete(words: &[String]) -> anyhow::Result<ExitCode> {
    let home = Home::resolve(None)?;
    completions::complete(&home, words)
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::ttl::check_clock_override()?;
    let printer = Printer::new(cli.global.json, cli.global.quiet);
    if let Command::Completions { shell } = cli.command {
        return completions::run(shell);
    }
    let home = Home::resolve(cli.global.home.clone())?;
    let named = named_address(&cli.command);
    let mut ctx = Context { home, printer, config: None };
    let out = match cli.command {
        Command::Db(cmd) => db::run(&mut ctx, cmd),
        Command::Branch(cmd) => branch::run(&mut ctx, cmd),
        Command::Snapshot(cmd) => snapshot::run(&mut ctx, cmd),
        Command::Completions { .. } => unreachable!("handled above"),
    };
    out.map_err(|e| suggest_nearest(&ctx.home, named.as_deref(), e))
}

/// The database address a command names (the one a typo would be in).
fn named_address(cmd: &Command) -> Option<String> {
    use crate::cli::{BranchCommand as B, DbCommand as D};
    match cmd {
        Command::Db(
            D::Show { address }
            | D::Path { address }
            | D::Delete { address, .. }
            | D::Cancel { address }
            | D::Ttl { address, .. }
            | D::Wait { address, .. }
            | D::Resume { address: Some(address), .. },
        ) => Some(address.clone()),
        Command::Db(D::Fork { src, .. }) => Some(src.clone()),
        Command::Branch(B::Put { address, .. }) => {
            crate::address::Address::parse(address).ok().map(|a| a.database().to_string())
        }
        Command::Branch(B::List { address } | B::Delete { address, .. }) => Some(address.clone()),
        _ => None,
    }
}

/// A "not found" for an address that does not exist gets the nearest
/// existing address: "did you mean acme/prod?".
fn suggest_nearest(home: &Home, named: Option<&str>, e: anyhow::Error) -> anyhow::Error {
    let Some(text) = named else { return e };
    if !crate::error::Error::any_in(&e, crate::error::Error::is_not_found) {
        return e;
    }
    let Ok(addr) = crate::address::Address::parse(text) else { return e };
    let Ok(reg) = crate::registry::Registry::load(home) else { return e };
    if reg.get(&addr).is_some() {
        // The address exists; something else was not found.
        return e;
    }
    match crate::suggest::nearest(&reg, &addr.to_string()) {
        Some(near) => match crate::error::typed(&e) {
            Some(t) => {
                crate::error::Error::Hinted { error: Box::new(t.clone()), hint: format!(" (did you mean {near}?)") }
                    .into()
            }
            None => e,
        },
        None => e,
    }
}
