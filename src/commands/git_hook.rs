//! The `git-hook` subcommands.

use super::Context;
use crate::address::Address;
use crate::api::Database;
use crate::cli::GitHookCommand;
use crate::error::{Error, ExitCode};
use crate::githook::{self, InstallOptions, Repo, RunOptions, RunOutcome};
use crate::ttl;
use anyhow::Context as _;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub(super) fn run(ctx: &mut Context, cmd: GitHookCommand) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    match cmd {
        GitHookCommand::Install { address, with_data, path_file, reset, ttl } => {
            install(ctx, &cwd, &address, with_data, path_file, reset, ttl.ttl)
        }
        GitHookCommand::Uninstall => uninstall(ctx, &cwd),
        GitHookCommand::Run { address, with_data, path_file, reset, ttl, hook_args } => {
            let opts = RunOptions {
                database: Address::parse_database(&address)?,
                with_data,
                ttl: ttl.ttl.map(|t| ttl::parse_ttl(&t)).transpose()?,
                reset,
                path_file,
                // post-checkout: previous HEAD, new HEAD, 1 for a branch checkout.
                branch_checkout: hook_args.get(2).is_none_or(|f| f == "1"),
            };
            hook_run(ctx, &cwd, &opts)
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InstallView {
    hook: String,
    database: String,
    path_file: String,
    with_data: bool,
    reset: bool,
    /// The hook that was there before, now run first by ours.
    chained: Option<String>,
    /// What the hook did for the branch checked out now.
    current: Option<RunView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunView {
    /// The git branch (absent for a detached HEAD or a file checkout).
    git_branch: Option<String>,
    /// `created`, `reset`, `resumed`, `kept`, `detached` or `skipped`.
    action: &'static str,
    database: Option<Database>,
    path_file: Option<String>,
}

fn view(out: &RunOutcome) -> RunView {
    match out {
        RunOutcome::NotBranchCheckout => {
            RunView { git_branch: None, action: "skipped", database: None, path_file: None }
        }
        RunOutcome::Detached => RunView { git_branch: None, action: "detached", database: None, path_file: None },
        RunOutcome::Switched { branch, action, entry, path_file, .. } => RunView {
            git_branch: Some(branch.clone()),
            action,
            database: Some(Database::from_entry(entry.as_ref())),
            path_file: Some(path_file.display().to_string()),
        },
    }
}

/// One line for people: what the branch switch did.
fn describe(out: &RunOutcome, path_file: &Path) -> String {
    match out {
        RunOutcome::NotBranchCheckout => String::new(),
        RunOutcome::Detached => format!(
            "sqlfork: HEAD is detached (no branch), so {} still names the last branch's database",
            path_file.display()
        ),
        RunOutcome::Switched { branch, address, action, .. } => {
            let mapped = match address.branch.as_deref() {
                Some(r) if r != branch => {
                    format!(" (git branch `{branch}` has characters a REF does not allow; its database is @{r})")
                }
                _ => String::new(),
            };
            format!("sqlfork: {address} {action}{mapped}; its path is in {}", path_file.display())
        }
    }
}

fn install(
    ctx: &mut Context,
    cwd: &Path,
    address: &str,
    with_data: bool,
    path_file: PathBuf,
    reset: bool,
    ttl: Option<String>,
) -> anyhow::Result<ExitCode> {
    let database = Address::parse(address)?;
    let ttl = ttl.map(|t| ttl::parse_ttl(&t)).transpose()?;
    let repo = Repo::find(cwd)?;
    let exe = std::env::current_exe().context("could not find the sqlfork executable for the hook to run")?;
    let opts = InstallOptions { database: database.clone(), with_data, ttl, reset, path_file: path_file.clone(), exe };
    let installed = githook::install(&ctx.home, &repo, &opts)?;
    if !ctx.printer.json {
        let mut note = format!("Installed {} for {database}", installed.hook.display());
        if installed.replaced_own {
            note.push_str(" (replacing sqlfork's earlier hook)");
        }
        if let Some(c) = &installed.chained {
            note.push_str(&format!("; the hook that was there runs first (kept as {})", c.display()));
        }
        ctx.printer.note(&note);
        if path_file.is_relative() {
            ctx.printer
                .note(&format!("Add {} to .gitignore: it names a database on this machine.", path_file.display()));
        }
    }
    // Set up the branch checked out now, as a switch to it would.
    let config = ctx.config()?.clone();
    let run_opts = RunOptions {
        database: database.clone(),
        with_data,
        ttl,
        reset,
        path_file: path_file.clone(),
        branch_checkout: true,
    };
    let mut progress = ctx.printer.copy_progress(&database.to_string());
    let current = githook::run(&ctx.home, &config, &repo, &run_opts, &mut progress)
        .context("the hook is installed, but the database for the current branch could not be set up")?;
    let text = describe(&current, &path_file);
    ctx.printer.result(
        || text.clone(),
        &InstallView {
            hook: installed.hook.display().to_string(),
            database: database.to_string(),
            path_file: repo.path_file(&path_file).display().to_string(),
            with_data,
            reset,
            chained: installed.chained.as_ref().map(|c| c.display().to_string()),
            current: Some(view(&current)),
        },
    )?;
    Ok(ExitCode::Success)
}

fn uninstall(ctx: &mut Context, cwd: &Path) -> anyhow::Result<ExitCode> {
    let repo = Repo::find(cwd)?;
    let out = githook::uninstall(&repo)?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct UninstallView {
        hook: String,
        /// True when the hook that was there before sqlfork's is back.
        restored: bool,
    }
    ctx.printer.result(
        || match &out.restored {
            Some(h) => format!("Removed sqlfork's post-checkout hook; the previous hook is back at {}", h.display()),
            None => format!("Removed sqlfork's post-checkout hook {}", out.hook.display()),
        },
        &UninstallView { hook: out.hook.display().to_string(), restored: out.restored.is_some() },
    )?;
    Ok(ExitCode::Success)
}

fn hook_run(ctx: &mut Context, cwd: &Path, opts: &RunOptions) -> anyhow::Result<ExitCode> {
    let repo = Repo::find(cwd)?;
    let config = ctx.config()?.clone();
    let mut progress = ctx.printer.copy_progress(&opts.database.to_string());
    match githook::run(&ctx.home, &config, &repo, opts, &mut progress) {
        Ok(out) => {
            let text = describe(&out, &opts.path_file);
            ctx.printer.result(|| text.clone(), &view(&out))?;
            Ok(ExitCode::Success)
        }
        Err(e) => {
            // Never leave the path naming another branch's database.
            githook::clear_path_file(&repo, &opts.path_file);
            Err(e.context(Error::failed(format!(
                "sqlfork: could not set up this branch's database, so {} was removed",
                opts.path_file.display()
            ))))
        }
    }
}
