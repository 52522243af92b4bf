//! `db rehearse`: run migrations on a data fork of production and report
//! what they would do to it (SPEC section 16).
//!
//! The pipeline, in order (`rehearse`):
//! 1. **Check** everything before anything is written: the migration files
//!    are read and split into statements (`script.rs`; a dot-command is bad
//!    input), `--keep` is a free address, the lock budget is positive.
//! 2. **Fork** the source through the fork pipeline: an instant data fork
//!    (a clone on XFS/btrfs), masked or subset when asked, at a hidden
//!    address (`NS/rehearsal@~rehearse~ID`, a ref no user can type, so
//!    neither `db list` nor `branch list` shows it). It expires in a day,
//!    so `db gc` removes what a killed rehearsal leaves.
//! 3. For each up file, in name order:
//!    - the fork's state before the file is kept as a clone of its file
//!      (`<id>.before-N.sqlite`, free on a copy-on-write file system, a
//!      kernel copy elsewhere);
//!    - the file runs statement by statement (`script.rs`), with the write
//!      lock's hold measured; a failure stops it and the later files;
//!    - section 11's diff compares the fork with that clone: forks share
//!      pages, so only what the file changed is read (`analyze.rs` turns
//!      the diff and scoped `integrity_check`/`foreign_key_check` runs into
//!      findings).
//! 4. **Down** files (`--down`) run in reverse name order the same way;
//!    each must give back the state before its up file (paired by
//!    position when there are as many downs as ups, else the whole set
//!    against the state before the first up).
//! 5. **End**: the fork is deleted — also on an error or Ctrl-C, by the
//!    `Rehearsal` guard — or, with `--keep`, moved to that address. The
//!    source is only ever read.

mod analyze;
pub(crate) mod render;
mod script;

use crate::address::{Address, Source};
use crate::copy::{Cancellable, Progress};
use crate::diff::{DiffOptions, DiffReport, Opened, SchemaDiff, SettingChange};
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::Registry;
use anyhow::Context;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to rehearse.
#[derive(Debug, Clone)]
pub struct RehearseOptions {
    /// Anything a fork takes: an address, a branch, a snapshot or a path.
    pub source: String,
    /// `.sql` files, and directories whose `.sql` files run in name order.
    pub migrations: Vec<PathBuf>,
    /// Down migrations (files or directories), run in reverse name order
    /// after the ups; empty for none.
    pub down: Vec<PathBuf>,
    /// Mask and subset the fork's rows (SPEC 12).
    pub safe: crate::mask::SafeOptions,
    /// A write lock held longer than this is a warning.
    pub lock_budget: Duration,
    /// Keep the rehearsal fork at this address (`NS/SLUG`) instead of
    /// deleting it.
    pub keep: Option<String>,
    /// Set from another thread to stop the rehearsal (the fork is removed).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for RehearseOptions {
    fn default() -> Self {
        RehearseOptions {
            source: String::new(),
            migrations: vec![],
            down: vec![],
            safe: Default::default(),
            lock_budget: Duration::from_secs(1),
            keep: None,
            cancel: None,
        }
    }
}

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One thing a migration did that a reviewer should know. `code` is
/// stable (scripts match on it): `failed`, `integrity_check`,
/// `foreign_key_violation`, `not_undone` (errors); `rows_deleted`,
/// `non_null_dropped`, `table_rebuilt`, `lock_budget`, `open_transaction`
/// (warnings); `rows_inserted`, `rows_updated`, `index_added`,
/// `object_added`, `object_removed`, `object_changed`, `object_renamed`,
/// `setting_changed`, `file_size` (info).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct Finding {
    pub severity: Severity,
    pub code: &'static str,
    /// The table it is about, if one.
    pub table: Option<String>,
    pub message: String,
}

/// Rows changed in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct RowCounts {
    pub inserted: u64,
    pub deleted: u64,
    pub updated: u64,
}

/// The statement that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct StatementError {
    /// The line of the statement's first token in its file (1-based).
    pub line: u64,
    pub statement: String,
    /// SQLite's message.
    pub message: String,
}

/// What one file did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    /// The file's name.
    pub file: String,
    pub path: PathBuf,
    pub ok: bool,
    pub error: Option<StatementError>,
    pub time_ms: u64,
    /// The longest the write lock was held.
    pub lock_ms: u64,
    pub schema: SchemaDiff,
    pub settings: BTreeMap<String, SettingChange>,
    pub tables: BTreeMap<String, RowCounts>,
    pub size_before: u64,
    pub size_after: u64,
    /// Most severe first.
    pub findings: Vec<Finding>,
    /// How the file was analysed, where a reader should know (a check
    /// narrowed to a quick_check, the diff's own notes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The answer to `db rehearse`; its JSON is the `--format json` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct RehearsalReport {
    pub source: String,
    /// How the rehearsal fork was made (`clone`, `file`, `pages`, `rows`,
    /// `masked`, or `subset`: built from the rows).
    pub fork_method: String,
    pub fork_ms: u64,
    /// The up files that ran, in order.
    pub migrations: Vec<FileReport>,
    /// Files not run because an earlier one failed (or a down did not undo
    /// its up).
    pub skipped: Vec<String>,
    /// The down files that ran (in the order they ran); `None` without
    /// `--down`.
    pub down: Option<Vec<FileReport>>,
    /// The most severe finding.
    pub worst: Option<Severity>,
    pub lock_budget_ms: u64,
    /// Where the rehearsal fork was kept (`--keep`).
    pub kept: Option<String>,
    pub time_ms: u64,
}

impl RehearsalReport {
    /// Every file's findings, ups then downs.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.migrations.iter().chain(self.down.iter().flatten()).flat_map(|f| f.findings.iter())
    }
}

/// The rehearsal fork and the clones beside it, removed on drop (an error,
/// Ctrl-C, a panic) unless it is kept.
struct Rehearsal<'h> {
    home: &'h Home,
    address: Address,
    path: PathBuf,
    id: String,
    clones: Vec<PathBuf>,
    keep: bool,
}

impl Rehearsal<'_> {
    /// The next clone's path: `<id>.before-N.sqlite` (named by the fork's
    /// id, so the orphan sweep removes it if the fork's entry is gone).
    fn clone_path(&self) -> PathBuf {
        self.home.databases_dir().join(format!("{}.before-{}.sqlite", self.id, self.clones.len() + 1))
    }

    /// Keep the fork's state now as a clone of its file.
    fn take_clone(&mut self) -> anyhow::Result<PathBuf> {
        settle(&self.path)?;
        let dst = self.clone_path();
        self.clones.push(dst.clone());
        clone_file(&self.path, &dst)?;
        Ok(dst)
    }

    fn drop_clone(&mut self, path: &Path) {
        crate::layout::remove_database_files(path);
        self.clones.retain(|p| p != path);
    }
}

impl Drop for Rehearsal<'_> {
    fn drop(&mut self) {
        for c in &self.clones {
            crate::layout::remove_database_files(c);
        }
        if !self.keep {
            let _ = crate::ops::delete(self.home, &self.address);
        }
    }
}

/// A file copy of `src` at `dst`: a clone where the file system can (no
/// bytes written), else the kernel's copy.
fn clone_file(src: &Path, dst: &Path) -> anyhow::Result<()> {
    use crate::copy::fsclone;
    let s = std::fs::File::open(src).with_context(|| format!("could not read {}", src.display()))?;
    let d = crate::layout::create_private_file(dst).with_context(|| format!("could not create {}", dst.display()))?;
    if fsclone::clone_file(&s, &d).is_err() {
        let len = s.metadata()?.len();
        d.set_len(0)?;
        fsclone::RangeCopier::default()
            .copy(&s, &d, 0, len)
            .with_context(|| format!("could not copy {} to {}", src.display(), dst.display()))?;
    }
    Ok(())
}

/// Bring a WAL file's changes into the database file, so the file alone is
/// the state (a no-op in rollback-journal mode).
fn settle(path: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Rehearse. See the module docs for the steps.
pub(crate) fn rehearse(
    home: &Home,
    config: &Config,
    opts: &RehearseOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<RehearsalReport> {
    let started = Instant::now();
    // 1. Check everything first.
    if opts.migrations.is_empty() {
        return Err(Error::invalid("name at least one migration file or directory to rehearse").into());
    }
    let ups = script::collect(&opts.migrations, "migration")?;
    let downs = script::collect(&opts.down, "down migration")?;
    if opts.lock_budget.is_zero() {
        let why = crate::error::DurationProblem::Zero { like: "1s or 250ms".into() };
        return Err(Error::BadDuration { option: "--lock-budget".into(), text: "0s".into(), why }.into());
    }
    let source = Source::parse(&opts.source)?;
    let keep = match &opts.keep {
        Some(k) => {
            let addr = Address::parse_database(k)
                .map_err(|e| crate::error::Error::BadAddress(e.within(format!("--keep: {e}"))))?;
            if Registry::load(home)?.get(&addr).is_some() {
                return Err(Error::Taken { address: addr }.into());
            }
            Some(addr)
        }
        None => None,
    };
    let cancel = opts.cancel.clone().unwrap_or_default();

    // 2. The rehearsal fork, at a hidden address.
    let fork_started = Instant::now();
    let hidden_ref = format!("~rehearse~{}", &crate::registry::new_id()[..12]);
    let fork_opts = crate::fork::ForkOptions {
        source,
        destination: "rehearsal".into(),
        name: Some(format!("rehearsal of {}", opts.source)),
        ttl: Some(Duration::from_secs(86_400)),
        with_data: true,
        detach: false,
        branch: Some(hidden_ref.clone()),
        safe: opts.safe.clone(),
        mergeable: false,
    };
    let fork_config = Config { default_ttl: None, ..config.clone() };
    let mut cancellable = Cancellable { inner: progress, cancel: cancel.clone(), started: None };
    // A remote snapshot (`REMOTE:NS/SLUG:NAME`) is pulled into the home
    // first, as `db fork` does (a failed pull leaves nothing half-made).
    crate::storage::bring_source_here(home, config, &fork_opts.source, true, &mut cancellable)?;
    let entry = match crate::fork::fork(home, &fork_config, &fork_opts, &mut cancellable) {
        Ok(out) => out.entry,
        Err(e) => {
            // An interrupted copy stays provisioning: a rehearsal has nothing
            // to resume, so it goes.
            let reg = Registry::load(home)?;
            if let Some(left) = reg.databases.iter().find(|d| d.branch.as_deref() == Some(&hidden_ref)) {
                let _ = crate::ops::delete(home, &left.address());
            }
            if Error::any_in(&e, |e| matches!(e, Error::Interrupted { .. } | Error::CopyStopped)) {
                return Err(Error::RehearsalInterrupted.into());
            }
            return Err(e.context("could not fork the source for the rehearsal"));
        }
    };
    let mut reh = Rehearsal {
        home,
        address: entry.address(),
        path: entry.path.clone(),
        id: entry.id.clone(),
        clones: vec![],
        keep: false,
    };
    let fork_ms = fork_started.elapsed().as_millis() as u64;
    let fork_method = if let Some(safe) = &entry.safe {
        (if safe.masked { "masked" } else { "subset" }).to_string()
    } else {
        entry.copy.as_ref().and_then(|c| c.method).map(|m| m.as_str().to_string()).unwrap_or_else(|| "data".into())
    };
    crate::env::trace(&format!("rehearse fork {fork_method} in {fork_ms} ms"));
    crate::env::test_pause("rehearse-forked");

    let stop = |cancellable: &mut Cancellable<&mut dyn Progress>| -> anyhow::Result<()> {
        if cancellable.interrupted() {
            cancel.store(true, Ordering::SeqCst);
            return Err(Error::RehearsalInterrupted.into());
        }
        Ok(())
    };
    // Once the rehearsal is cancelled, whatever a step fails with is the
    // interruption: SQLite's interrupt can also land on a statement that
    // sqlfork runs between the migration's own (the schema version, the
    // table names), which fails with SQLITE_INTERRUPT, not CopyStopped.
    let interrupted = |e: anyhow::Error| -> anyhow::Error {
        if cancel.load(Ordering::SeqCst) || Error::any_in(&e, |e| matches!(e, Error::CopyStopped)) {
            Error::RehearsalInterrupted.into()
        } else {
            e
        }
    };

    // 3. The ups.
    let mut migrations = Vec::new();
    let mut skipped = Vec::new();
    // The state before each up, kept for the down check.
    let mut before_ups: Vec<PathBuf> = Vec::new();
    let mut all_ok = true;
    for (i, up) in ups.iter().enumerate() {
        if !all_ok {
            skipped.push(up.name.clone());
            continue;
        }
        stop(&mut cancellable)?;
        let before = reh.take_clone()?;
        crate::env::trace(&format!("rehearse clone before {} at {:?}", up.name, started.elapsed()));
        let report = step(&reh.path, &before, up, &cancel, opts.lock_budget).map_err(interrupted)?;
        all_ok = report.ok;
        migrations.push(report);
        crate::env::trace(&format!("rehearse up {} done at {:?}", up.name, started.elapsed()));
        // Kept for the downs: the state before each up (paired), or only
        // the first.
        if downs.is_empty() || (i > 0 && downs.len() != ups.len()) {
            reh.drop_clone(&before);
        } else {
            before_ups.push(before);
        }
    }

    // 4. The downs, in reverse name order.
    let down = if downs.is_empty() {
        None
    } else if !all_ok {
        skipped.extend(downs.iter().rev().map(|d| d.name.clone()));
        Some(vec![])
    } else {
        let paired = downs.len() == ups.len();
        let mut reports = Vec::new();
        let mut undone = true;
        for (j, d) in downs.iter().enumerate().rev() {
            if !undone {
                skipped.push(d.name.clone());
                continue;
            }
            stop(&mut cancellable)?;
            let before = reh.take_clone()?;
            let mut report = step(&reh.path, &before, d, &cancel, opts.lock_budget).map_err(interrupted)?;
            reh.drop_clone(&before);
            let expected = if paired { Some(j) } else { (j == 0).then_some(0) };
            if let (true, Some(k)) = (report.ok, expected) {
                let differences = compare_with(&reh.path, &before_ups[k])?;
                if !differences.is_empty() {
                    // Named by file name, or by path where the names are the same.
                    let (dn, un) = if d.name == ups[k].name {
                        (d.path.display().to_string(), ups[k].path.display().to_string())
                    } else {
                        (d.name.clone(), ups[k].name.clone())
                    };
                    let what = if paired {
                        format!("{dn} does not undo {un}")
                    } else {
                        "the down files do not undo the up files".to_string()
                    };
                    report.findings.insert(
                        0,
                        Finding {
                            severity: Severity::Error,
                            code: "not_undone",
                            table: None,
                            message: format!("{what}: {}", differences.join("; ")),
                        },
                    );
                    undone = false;
                }
            }
            undone &= report.ok;
            reports.push(report);
        }
        Some(reports)
    };

    // 5. Keep or delete (the guard deletes on drop).
    let kept = match keep {
        Some(addr) => {
            keep_as(home, &reh.id, &addr, config)?;
            reh.keep = true;
            Some(addr.to_string())
        }
        None => None,
    };
    drop(reh);
    let mut report = RehearsalReport {
        source: opts.source.clone(),
        fork_method,
        fork_ms,
        migrations,
        skipped,
        down,
        worst: None,
        lock_budget_ms: opts.lock_budget.as_millis() as u64,
        kept,
        time_ms: 0,
    };
    report.worst = report.findings().map(|f| f.severity).max();
    report.time_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Run one file on the fork and analyse what it did against `before`.
fn step(
    fork: &Path,
    before: &Path,
    script: &script::Script,
    cancel: &Arc<AtomicBool>,
    budget: Duration,
) -> anyhow::Result<FileReport> {
    let size_before = crate::layout::file_size(fork).unwrap_or(0);
    crate::env::test_pause("rehearse-file");
    let t0 = Instant::now();
    let run = script::run(fork, script, cancel)?;
    settle(fork)?;
    crate::env::trace(&format!("rehearse {} ran in {:?}", script.name, t0.elapsed()));
    let size_after = crate::layout::file_size(fork).unwrap_or(0);
    let after_side = Opened::open("after", fork)?;
    let before_side = Opened::open("before", before)?;
    let diff = crate::diff::diff_opened(&after_side, &before_side, &DiffOptions::default())?;
    crate::env::trace(&format!("rehearse {} diffed at {:?}", script.name, t0.elapsed()));
    let mut report = FileReport {
        file: script.name.clone(),
        path: script.path.clone(),
        ok: run.error.is_none(),
        error: run.error.as_ref().map(|(st, message)| StatementError {
            line: st.line,
            statement: st.sql.trim().to_string(),
            message: message.clone(),
        }),
        time_ms: run.time.as_millis() as u64,
        lock_ms: run.lock.as_millis() as u64,
        schema: diff.schema.clone(),
        settings: diff.settings.clone(),
        tables: diff
            .tables
            .iter()
            .map(|(t, d)| (t.clone(), RowCounts { inserted: d.inserted, deleted: d.deleted, updated: d.updated }))
            .collect(),
        size_before,
        size_after,
        findings: vec![],
        notes: diff.notes.clone(),
    };
    analyze::findings(&after_side, &before_side, &diff, &run, budget, &mut report)?;
    crate::env::trace(&format!("rehearse {} analysed at {:?}", script.name, t0.elapsed()));
    Ok(report)
}

/// What differs between the fork now and `expected`, in words
/// ("table audit still exists"); empty when nothing does. SQLite's own
/// counters (`sqlite_sequence`, `sqlite_stat*`) are left out: a down that
/// deletes the rows its up inserted cannot turn AUTOINCREMENT back.
fn compare_with(fork: &Path, expected: &Path) -> anyhow::Result<Vec<String>> {
    let now = Opened::open("after the down", fork)?;
    let then = Opened::open("before the up", expected)?;
    let d = crate::diff::diff_opened(&now, &then, &DiffOptions::default())?;
    Ok(describe_differences(&d))
}

fn describe_differences(d: &DiffReport) -> Vec<String> {
    let mut out = Vec::new();
    for o in &d.schema.added {
        out.push(format!("{} {} still exists", o.kind, o.name));
    }
    for o in &d.schema.removed {
        out.push(format!("{} {} is missing", o.kind, o.name));
    }
    for o in &d.schema.changed {
        out.push(format!("{} {} is defined differently", o.kind, o.name));
    }
    for (k, v) in &d.settings {
        out.push(format!("{k} is {}, was {}", v.after, v.before));
    }
    for (t, c) in d.tables.iter().filter(|(t, _)| !t.starts_with("sqlite_")) {
        let mut parts = Vec::new();
        for (n, what) in [(c.inserted, "more"), (c.deleted, "missing"), (c.updated, "changed")] {
            if n > 0 {
                parts.push(format!("{n} {} {what}", if n == 1 { "row" } else { "rows" }));
            }
        }
        out.push(format!("table {t} has {}", parts.join(", ")));
    }
    out
}

/// Move the finished rehearsal fork to `addr` (one registry write): it
/// becomes an ordinary database there, with the home's default TTL.
fn keep_as(home: &Home, id: &str, addr: &Address, config: &Config) -> anyhow::Result<()> {
    Registry::update(home, |reg| {
        if reg.get(addr).is_some() {
            return Err(Error::Taken { address: addr.clone() }.into());
        }
        let e =
            reg.by_id_mut(id).ok_or_else(|| Error::failed("the rehearsal fork vanished before it could be kept"))?;
        e.namespace = addr.namespace.clone();
        e.slug = addr.slug.clone();
        e.branch = None;
        e.name = addr.slug.clone();
        e.expires_at = config.default_ttl.map(|d| crate::ttl::format_time(crate::ttl::now() + d));
        Ok(())
    })
}
