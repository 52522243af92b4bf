//! `sqlfork git-hook`: one database per git branch.
//!
//! `install` writes a `post-checkout` hook into the current repository's
//! hooks directory (`git rev-parse --git-path hooks`, so `core.hooksPath`
//! and linked worktrees are respected). On every branch switch the hook
//! runs `sqlfork git-hook run`, which makes sure the branch database
//! `NS/SLUG@<git branch>` exists (`branch put` creates it on the first
//! switch) and writes its path to the path file (default `.sqlfork-path`,
//! relative to the work tree's top), so the application always opens the
//! checked-out branch's database.
//!
//! A hook that was there before is moved aside (`post-checkout.sqlfork-chained`)
//! and called first by ours, with the same arguments; `uninstall` removes
//! our hook and puts it back. Our hook is recognised by a marker line, so
//! `uninstall` never removes a hook sqlfork did not write.

use crate::address::{self, Address};
use crate::branch::{self, PutAction, PutOptions};
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::{Entry, Registry, Status};
use anyhow::Context;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The line that marks a hook as sqlfork's.
pub(crate) const MARKER: &str = "# sqlfork-git-hook v1";
/// Where a hook that was there before ours is kept.
pub(crate) const CHAINED: &str = "post-checkout.sqlfork-chained";

/// What `git-hook install` should install.
#[derive(Debug, Clone)]
pub(crate) struct InstallOptions {
    /// `NS/SLUG`: the database every branch database is forked from.
    pub database: Address,
    pub with_data: bool,
    pub ttl: Option<Duration>,
    /// Reset the branch database on every switch instead of keeping it.
    pub reset: bool,
    /// Where the hook writes the path (relative to the work tree's top, or
    /// absolute).
    pub path_file: PathBuf,
    /// The sqlfork binary the hook runs.
    pub exe: PathBuf,
}

/// What `install` did.
#[derive(Debug, Clone)]
pub(crate) struct Installed {
    pub hook: PathBuf,
    /// The hook that was there before, now called from ours.
    pub chained: Option<PathBuf>,
    /// True when our hook was already installed (it was rewritten).
    pub replaced_own: bool,
}

/// The repository the current directory is in.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    /// The work tree's top directory.
    pub top: PathBuf,
    /// The hooks directory git runs hooks from.
    pub hooks: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<Option<String>> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| Error::failed(format!("could not run git ({e}); install git or put it on PATH")))?;
    if !out.status.success() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).trim_end_matches('\n').to_string()))
}

impl Repo {
    /// The repository around `dir`.
    pub(crate) fn find(dir: &Path) -> anyhow::Result<Repo> {
        let not_repo = || {
            Error::invalid(format!("{} is not inside a git work tree; run this from your repository", dir.display()))
        };
        let top = git(dir, &["rev-parse", "--show-toplevel"])?.filter(|t| !t.is_empty()).ok_or_else(not_repo)?;
        let top = PathBuf::from(top);
        let hooks = git(&top, &["rev-parse", "--git-path", "hooks"])?.ok_or_else(not_repo)?;
        let hooks = PathBuf::from(hooks);
        let hooks = if hooks.is_absolute() { hooks } else { top.join(hooks) };
        Ok(Repo { top, hooks })
    }

    pub(crate) fn hook(&self) -> PathBuf {
        self.hooks.join("post-checkout")
    }
    pub(crate) fn chained(&self) -> PathBuf {
        self.hooks.join(CHAINED)
    }
    /// The path file, resolved against the work tree's top.
    pub(crate) fn path_file(&self, file: &Path) -> PathBuf {
        if file.is_absolute() {
            file.to_path_buf()
        } else {
            self.top.join(file)
        }
    }
}

/// True when the file at `path` is a hook sqlfork wrote.
pub(crate) fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l == MARKER))
}

/// Quote for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn script(home: &Home, opts: &InstallOptions) -> String {
    let mut run = vec![
        "\"$sqlfork\"".to_string(),
        "--home".into(),
        sh_quote(&home.root().display().to_string()),
        "git-hook".into(),
        "run".into(),
        sh_quote(&opts.database.to_string()),
        "--path-file".into(),
        sh_quote(&opts.path_file.display().to_string()),
    ];
    if opts.with_data {
        run.push("--with-data".into());
    }
    if opts.reset {
        run.push("--reset".into());
    }
    if let Some(ttl) = opts.ttl {
        run.push("--ttl".into());
        run.push(sh_quote(&humantime::format_duration(ttl).to_string()));
    }
    run.push("--".into());
    run.push("\"$@\"".into());
    format!(
        r#"#!/bin/sh
{MARKER}
# Gives each git branch its own database, forked from {db}, and writes its
# path to {file}. Installed by `sqlfork git-hook install`;
# `sqlfork git-hook uninstall` removes it (and puts back a hook it replaced).
status=0
chained="$(dirname "$0")/{CHAINED}"
if [ -x "$chained" ]; then
    "$chained" "$@" || status=$?
fi
sqlfork={exe}
[ -x "$sqlfork" ] || sqlfork=sqlfork
{run} || status=$?
exit $status
"#,
        db = opts.database,
        file = opts.path_file.display(),
        exe = sh_quote(&opts.exe.display().to_string()),
        run = run.join(" "),
    )
}

/// Install the hook in `repo` (see the module docs). The database must
/// exist. Installing again replaces our own hook and keeps the chained one.
pub(crate) fn install(home: &Home, repo: &Repo, opts: &InstallOptions) -> anyhow::Result<Installed> {
    let db = opts.database.database();
    if opts.database.branch.is_some() {
        return Err(crate::error::Error::bad_address(
            crate::address::AddressProblem::NamesABranch,
            format!("`{}` names a branch; give the database every git branch forks from, like {db}", opts.database),
        )
        .into());
    }
    Registry::load(home)?.require(&db)?;
    std::fs::create_dir_all(&repo.hooks)
        .with_context(|| format!("could not create the hooks directory {}", repo.hooks.display()))?;
    let hook = repo.hook();
    let chained = repo.chained();
    let exists = hook.symlink_metadata().is_ok();
    let replaced_own = exists && is_ours(&hook);
    if exists && !replaced_own {
        if chained.symlink_metadata().is_ok() {
            return Err(Error::HookInTheWay { path: chained }.into());
        }
        std::fs::rename(&hook, &chained)
            .with_context(|| format!("could not move the existing hook {} aside", hook.display()))?;
    }
    // Written beside and renamed over, so git never runs half a hook.
    let tmp = repo.hooks.join(".post-checkout.sqlfork-tmp");
    let written = std::fs::write(&tmp, script(home, opts))
        .and_then(|_| std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)))
        .and_then(|_| std::fs::rename(&tmp, &hook));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        if exists && !replaced_own {
            let _ = std::fs::rename(&chained, &hook);
        }
        return Err(anyhow::Error::new(e).context(format!("could not write the hook {}", hook.display())));
    }
    Ok(Installed { hook, chained: chained.symlink_metadata().is_ok().then_some(chained), replaced_own })
}

/// What `uninstall` did.
#[derive(Debug, Clone)]
pub(crate) struct Uninstalled {
    pub hook: PathBuf,
    /// The hook put back in place of ours.
    pub restored: Option<PathBuf>,
}

/// Remove our hook and put back the one it replaced. A hook sqlfork did
/// not write is left alone (an error says so).
pub(crate) fn uninstall(repo: &Repo) -> anyhow::Result<Uninstalled> {
    let hook = repo.hook();
    if hook.symlink_metadata().is_err() {
        return Err(Error::NoHook { path: hook, foreign: false }.into());
    }
    if !is_ours(&hook) {
        return Err(Error::NoHook { path: hook, foreign: true }.into());
    }
    let chained = repo.chained();
    if chained.symlink_metadata().is_ok() {
        std::fs::rename(&chained, &hook)
            .with_context(|| format!("could not put the previous hook {} back", chained.display()))?;
        Ok(Uninstalled { hook: hook.clone(), restored: Some(hook) })
    } else {
        std::fs::remove_file(&hook).with_context(|| format!("could not remove {}", hook.display()))?;
        Ok(Uninstalled { hook, restored: None })
    }
}

/// The REF a git branch's database gets: the branch name itself when it is
/// a valid REF, else the name with every character a REF does not allow
/// replaced by `-`, `..` folded to `.`, cut to 91 characters, and
/// `-` plus 8 hex digits of the name's SHA-256 added, so that two branches
/// never share a database (`a+b` and `a-b`, or two long names alike in
/// their first 100 characters).
pub(crate) fn ref_for_branch(branch: &str) -> String {
    use sha2::{Digest, Sha256};
    if address::check_ref(branch).is_ok() {
        return branch.to_string();
    }
    let mut r: String = branch
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-') { c } else { '-' })
        .collect();
    while r.contains("..") {
        r = r.replace("..", ".");
    }
    let hash: String = Sha256::digest(branch.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hash}", r.chars().take(91).collect::<String>())
}

/// What one run of the hook did.
#[derive(Debug, Clone)]
pub(crate) enum RunOutcome {
    /// Not a branch checkout (a file checkout): nothing to do.
    NotBranchCheckout,
    /// HEAD is detached (a rebase, a bisect, a tag): the path file is kept.
    Detached,
    /// The branch's database is in place and its path written.
    Switched {
        branch: String,
        address: Address,
        /// `created`, `reset`, `resumed` (from `branch put`) or `kept`.
        action: &'static str,
        entry: Box<Entry>,
        path_file: PathBuf,
    },
}

/// What `git-hook run` should do (the hook's arguments included).
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    pub database: Address,
    pub with_data: bool,
    pub ttl: Option<Duration>,
    pub reset: bool,
    pub path_file: PathBuf,
    /// post-checkout's third argument: 1 for a branch checkout.
    pub branch_checkout: bool,
}

/// The hook's work: make sure the checked-out branch has its database,
/// write the path. A branch that has one keeps it as it is (unless
/// `reset`); `branch put` creates it on the first switch.
pub(crate) fn run(
    home: &Home,
    config: &Config,
    repo: &Repo,
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<RunOutcome> {
    if !opts.branch_checkout {
        return Ok(RunOutcome::NotBranchCheckout);
    }
    let Some(branch) = git(&repo.top, &["symbolic-ref", "--short", "-q", "HEAD"])?.filter(|b| !b.is_empty()) else {
        return Ok(RunOutcome::Detached);
    };
    let address = Address { branch: Some(ref_for_branch(&branch)), ..opts.database.database() };
    let existing = Registry::load(home)?.get(&address).cloned();
    let (action, entry) = match existing {
        Some(e) if e.status == Status::Healthy && !opts.reset => {
            crate::registry::sync_found(home, &[&e.path])?;
            ("kept", e)
        }
        _ => {
            let out = branch::put(
                home,
                config,
                &PutOptions {
                    address: address.clone(),
                    with_data: opts.with_data.then_some(true),
                    ttl: opts.ttl,
                    safe: Default::default(),
                    when_open: Default::default(),
                },
                progress,
            )?;
            let action = match out.action {
                PutAction::Created => "created",
                PutAction::Reset => "reset",
                PutAction::Resumed => "resumed",
            };
            (action, out.entry)
        }
    };
    let path_file = repo.path_file(&opts.path_file);
    write_path_file(&path_file, &entry.path)?;
    Ok(RunOutcome::Switched { branch, address, action, entry: Box::new(entry), path_file })
}

/// Write the path file whole (beside it, then renamed over it), so the
/// application never reads half a path.
fn write_path_file(file: &Path, db: &Path) -> anyhow::Result<()> {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = file.with_file_name(format!(".{name}.sqlfork-tmp"));
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&tmp, format!("{}\n", db.display())).and_then(|_| std::fs::rename(&tmp, file)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::failed(format!("could not write the path file {}: {e}", file.display())).into()
    })
}

/// Remove the path file so it cannot point at another branch's database
/// after a failed switch.
pub(crate) fn clear_path_file(repo: &Repo, file: &Path) {
    let _ = std::fs::remove_file(repo.path_file(file));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_map_to_valid_refs() {
        assert_eq!(ref_for_branch("feature/login"), "feature/login");
        assert_eq!(ref_for_branch("main"), "main");
        assert!(ref_for_branch("fix#12 ünï").starts_with("fix-12--n--"));
        assert!(ref_for_branch("a..b...c").starts_with("a.b.c-"));
        assert!(ref_for_branch("we@ird~1").starts_with("we-ird-1-"));
        let long = "x".repeat(150) + "@";
        assert_eq!(ref_for_branch(&long).len(), 100);
        for b in ["fix#12 ünï", "a..b...c", "we@ird~1", &long] {
            address::check_ref(&ref_for_branch(b)).unwrap();
        }
        // Mapped names never meet each other or a name that needed no map.
        assert_ne!(ref_for_branch("a+b"), ref_for_branch("a-b"));
        assert_ne!(ref_for_branch("a+b"), ref_for_branch("a#b"));
        assert_ne!(ref_for_branch(&long), ref_for_branch(&("x".repeat(150) + "#")));
    }

    #[test]
    fn scripts_quote_what_they_embed() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
    }
}
