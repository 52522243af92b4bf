//! One function per command: parsed arguments → typed options → a library
//! call → the printer. Addresses and TTLs are parsed here so that bad input
//! is one sentence and exit code 2.

mod branch;
mod completions;
mod db;
mod diff;
mod expiry;
mod git_hook;
mod mask;
mod merge;
pub(crate) mod pool;
mod rehearse;
mod remote;
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
    let mut ctx = Context { home, printer, config: None };
    // Every command reads `config.toml` first, so an invalid one is the
    // same error (exit 2, naming the file and the line) whatever the
    // command, not only for those that happen to need a setting.
    ctx.config()?;
    let home = ctx.home.clone();
    match cli.command {
        Command::Db(cmd) => db::run(&mut ctx, cmd),
        Command::Branch(cmd) => branch::run(&mut ctx, cmd),
        Command::GitHook(cmd) => git_hook::run(&mut ctx, cmd),
        Command::Mcp => crate::mcp::serve(ctx.home.clone()).map(|_| ExitCode::Success),
        Command::Snapshot(cmd) => snapshot::run(&mut ctx, cmd),
        Command::Pool(cmd) => pool::run(&mut ctx, cmd),
        Command::Remote(cmd) => remote::run(&mut ctx, cmd),
        Command::Push { snapshot, remote, ttl } => remote::push(&mut ctx, &snapshot, remote, ttl),
        Command::Pull { snapshot } => remote::pull(&mut ctx, &snapshot),
        Command::Completions { .. } => unreachable!("handled above"),
    }
    .map_err(|e| with_namespace_hint(&home, e))
}

/// A bare name (`prod`, `prod@pr-7`) that is the slug of registered
/// databases: "did you mean acme/prod?".
fn with_namespace_hint(home: &Home, e: anyhow::Error) -> anyhow::Error {
    let Some(bad) = e.chain().find_map(|c| c.downcast_ref::<crate::address::AddressError>()) else { return e };
    let Some(text) = bad.bare_name() else { return e };
    let (slug, branch) = match text.split_once('@') {
        Some((s, b)) => (s, Some(b)),
        None => (text, None),
    };
    let Ok(reg) = crate::registry::Registry::load(home) else { return e };
    let mut near: Vec<String> = reg
        .databases
        .iter()
        .filter(|d| d.branch.is_none() && d.slug.eq_ignore_ascii_case(slug))
        .map(|d| match branch {
            Some(b) => format!("{}/{}@{b}", d.namespace, d.slug),
            None => format!("{}/{}", d.namespace, d.slug),
        })
        .collect();
    near.sort();
    near.dedup();
    if near.is_empty() {
        return e;
    }
    let hint = format!(" (did you mean {}?)", near.join(" or "));
    crate::error::Error::Hinted { error: Box::new(bad.clone().into()), hint }.into()
}
