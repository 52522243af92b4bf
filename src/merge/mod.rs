//! `db merge` and `db rebase` (SPEC section 17): a fork's changes since its
//! base land in its parent, or the fork is rebuilt on its parent's current
//! state with its own changes on top.
//!
//! The three states: the *base* (the fork as it was made, kept by
//! `fork::base`), the *fork* now, and the *parent* now. `apply` computes the
//! fork's changes (base → fork) with the diff engine's page scoping and
//! merge-join, and decides each one against the parent's row with the same
//! key; see there for the rules.
//!
//! A merge runs in one SQLite transaction on the parent (`BEGIN
//! IMMEDIATE`): its readers see all of it or none, and its writers wait for
//! it (or it for them, up to the busy timeout). A registered parent gets a
//! snapshot just before that transaction begins (a write another process
//! commits in the instant between the two is undone too by a `db reset
//! --to` of that snapshot); a conflict rolls everything back and deletes
//! that snapshot. `--dry-run` runs the same transaction
//! and rolls it back, so its report (constraint checks included) is the
//! real merge's.
//!
//! Why not the SQLite session extension: `sqlite3session_diff` compares
//! whole tables (it reads every row of both), so it cannot use the page
//! scoping that makes a merge of a 1 GB fork cost milliseconds, and its
//! changesets need a declared primary key (tables without one, matched here
//! by rowid, are skipped). Its `changeset_apply` conflict handler decides
//! row by row (not cell by cell: an UPDATE whose old values differ in any
//! column is a conflict as a whole), and it fires the target's triggers
//! unless they are disabled on the connection anyway. What is taken from
//! it is the shape: changes keyed by primary key, old and new values, a
//! conflict per kind (DATA, NOTFOUND, CONFLICT, CONSTRAINT, FOREIGN_KEY)
//! and foreign keys checked once at the end.

mod alter;
pub(crate) mod apply;
mod decide;
mod foreign_keys;

use crate::address::{Address, Source};
use crate::copy::Progress;
use crate::diff::{Method, Opened, Val};
use crate::error::{Error, NoParentFor};
use crate::home::{Config, Home};
use crate::registry::{Entry, Parent, Registry, Status};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Which side wins a data conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub enum Prefer {
    /// Any conflict writes nothing (the default).
    #[default]
    Abort,
    /// The fork's value wins.
    Fork,
    /// The parent's value stays.
    Parent,
}

impl Prefer {
    /// Parse `abort`, `fork` or `parent`.
    pub fn parse(text: &str) -> Result<Prefer, Error> {
        match text {
            "abort" => Ok(Prefer::Abort),
            "fork" => Ok(Prefer::Fork),
            "parent" => Ok(Prefer::Parent),
            _ => Err(Error::invalid(format!("--prefer `{text}` is not one of abort, fork, parent"))),
        }
    }
    pub(crate) fn side(self) -> Option<Prefer> {
        (self != Prefer::Abort).then_some(self)
    }
}

/// What kind of conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub enum ConflictKind {
    /// The same cell changed to different values on both sides.
    Cell,
    /// The fork deleted a row the parent changed.
    DeleteUpdate,
    /// The fork changed a row the parent deleted.
    UpdateDelete,
    /// The same key inserted on both sides with different rows.
    Insert,
    /// The same object's DDL (or a setting) changed differently, or a
    /// change a merge cannot apply.
    Schema,
    /// The merged state breaks a UNIQUE (or PRIMARY KEY) constraint.
    Unique,
    /// … a NOT NULL constraint.
    NotNull,
    /// … a CHECK constraint.
    Check,
    /// … a foreign key.
    ForeignKey,
    /// … another constraint.
    Constraint,
}

impl ConflictKind {
    /// Data conflicts are the ones `--prefer fork|parent` resolves.
    pub fn is_data(self) -> bool {
        matches!(
            self,
            ConflictKind::Cell | ConflictKind::DeleteUpdate | ConflictKind::UpdateDelete | ConflictKind::Insert
        )
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::Cell => "cell",
            ConflictKind::DeleteUpdate => "deleteUpdate",
            ConflictKind::UpdateDelete => "updateDelete",
            ConflictKind::Insert => "insert",
            ConflictKind::Schema => "schema",
            ConflictKind::Unique => "unique",
            ConflictKind::NotNull => "notNull",
            ConflictKind::Check => "check",
            ConflictKind::ForeignKey => "foreignKey",
            ConflictKind::Constraint => "constraint",
        }
    }
}

/// One conflict: where, and the three values (absent on a side that has no
/// row, or for a constraint).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    pub kind: ConflictKind,
    /// The table (or the object, for a schema conflict).
    pub table: String,
    pub key: BTreeMap<String, Val>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub base: Option<Val>,
    pub fork: Option<Val>,
    pub parent: Option<Val>,
    /// The side `--prefer` chose; `None` when nothing resolved it (then
    /// nothing is written).
    pub resolution: Option<Prefer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A schema change the merge applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct SchemaAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub action: String,
}

/// Rows a merge wrote to one table of the parent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct TableMerge {
    pub inserted: u64,
    pub deleted: u64,
    pub updated: u64,
}

/// What to merge where.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The fork (`NS/SLUG` or `NS/SLUG@REF`).
    pub fork: String,
    /// The database to merge into (an address or a path); `None` is the
    /// fork's parent.
    pub into: Option<String>,
    pub dry_run: bool,
    pub prefer: Prefer,
    /// Write a parent sqlfork did not create (an imported or unregistered file).
    pub yes: bool,
}

/// What a merge did (or, with conflicts or `--dry-run`, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct MergeReport {
    pub fork: String,
    pub parent: String,
    /// How the base is kept (`clone`, `copy`, `snapshot`).
    pub base: String,
    pub dry_run: bool,
    /// True when the parent now holds the merge.
    pub merged: bool,
    /// How the fork's changed rows were found (`extents`, `pages`, `full`).
    pub method: Method,
    /// The snapshot of the parent taken before (undo with `db reset --to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    pub schema: Vec<SchemaAction>,
    pub tables: BTreeMap<String, TableMerge>,
    pub conflicts: Vec<Conflict>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub duration_ms: u64,
}

impl MergeReport {
    /// Conflicts nothing resolved (any of them means nothing was written).
    pub fn unresolved(&self) -> usize {
        self.conflicts.iter().filter(|c| c.resolution.is_none()).count()
    }
}

pub(crate) use crate::fork::base::base_of;

/// The database a merge writes.
struct Target {
    label: String,
    path: PathBuf,
    /// Its entry, when it is registered.
    entry: Option<Entry>,
}

fn resolve_target(
    home: &Home,
    config: &Config,
    reg: &Registry,
    fork: &Entry,
    into: Option<&str>,
) -> anyhow::Result<Target> {
    let addr = fork.address();
    if let Some(text) = into {
        let source = Source::parse(text)?;
        if let Source::Snapshot(s) = &source {
            return Err(crate::error::Error::bad_address(
                crate::address::AddressProblem::NamesASnapshot,
                format!("{s} is a snapshot, which is read-only; merge into a database"),
            )
            .into());
        }
        let resolved = crate::fork::resolve_source(home, config, &source)?;
        let entry = resolved.address.as_ref().and_then(|a| reg.get(a)).cloned();
        if entry.as_ref().is_some_and(|e| e.id == fork.id) {
            return Err(Error::OntoItself { address: addr, action: "merge" }.into());
        }
        let label = resolved.address.map(|a| a.to_string()).unwrap_or_else(|| resolved.path.display().to_string());
        return Ok(Target { label, path: resolved.path, entry });
    }
    match &fork.forked_from {
        None => Err(Error::NoParent { address: addr.to_string(), why: NoParentFor::Merge }.into()),
        Some(Parent::Path(p)) => {
            if !p.exists() {
                return Err(Error::NoSuchFile { path: p.clone() }.into());
            }
            Ok(Target { label: p.display().to_string(), path: p.clone(), entry: None })
        }
        Some(Parent::Database { id, namespace, slug, branch, .. }) => {
            let label = Address { namespace: namespace.clone(), slug: slug.clone(), branch: branch.clone() };
            let parent = reg.by_id(id).cloned().ok_or_else(|| Error::Hinted {
                error: Box::new(Error::NotFound { address: label.clone() }),
                hint: format!(" (the parent of {addr} was deleted; name another database with --into)"),
            })?;
            if parent.status != Status::Healthy {
                return Err(Error::StillProvisioning { address: parent.address(), action: "merge into" }.into());
            }
            if !parent.path.exists() {
                return Err(Error::FileMissing { address: parent.address(), path: parent.path.clone() }.into());
            }
            Ok(Target { label: parent.address().to_string(), path: parent.path.clone(), entry: Some(parent) })
        }
    }
}

/// How long a merge waits for the parent's other writers.
const BUSY: Duration = Duration::from_secs(30);

/// A read-write connection to the database a merge writes, with its
/// triggers disabled and foreign-key enforcement (and so its ON DELETE
/// actions) off; the merge checks foreign keys itself.
pub(crate) fn open_target(path: &std::path::Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| Error::failed(format!("could not open {} to merge into it: {e}", path.display())))?;
    conn.busy_timeout(BUSY)?;
    crate::schema::standin::allow_unknown_collations(&conn)?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    // A merge that exits 0 must survive a power cut: in rollback-journal
    // mode the commit is the journal's unlink, which only EXTRA syncs (the
    // directory); under FULL a cut can bring the journal back, and the
    // next open rolls the merge back.
    conn.pragma_update(None, "synchronous", "EXTRA")?;
    Ok(conn)
}

/// `db merge`.
pub(crate) fn merge(home: &Home, config: &Config, opts: &MergeOptions) -> anyhow::Result<MergeReport> {
    let started = Instant::now();
    let addr = Address::parse(&opts.fork)?;
    let reg = Registry::load(home)?;
    let entry = reg.require(&addr)?.clone();
    if entry.status != Status::Healthy {
        return Err(Error::StillProvisioning { address: addr, action: "merge" }.into());
    }
    let (base_path, base_kind) = base_of(home, &reg, &entry)?;
    let target = resolve_target(home, config, &reg, &entry, opts.into.as_deref())?;
    drop(reg);
    let owned = target.entry.as_ref().is_some_and(|e| e.owned);
    if !owned && !opts.dry_run && !opts.yes {
        return Err(Error::NotOwned { target: target.label }.into());
    }
    let base = Opened::open(&format!("{addr} (base)"), &base_path)?;
    let fork = Opened::open(&addr.to_string(), &entry.path)?;
    // The snapshot is taken just before the transaction begins, not
    // inside it: taking it opens and closes descriptors of the parent's
    // files, and closing any descriptor drops every POSIX lock this process
    // holds on that file, the transaction's own included.
    let snapshot = match (&target.entry, opts.dry_run) {
        (Some(t), false) => {
            let name = format!("pre-merge-{}", crate::snapshot::default_name(crate::ttl::now()));
            let take = |name: Option<String>| {
                let opts = crate::snapshot::CreateOptions { address: t.address(), name, ttl: None };
                crate::snapshot::create(home, config, &opts, &mut crate::copy::NoProgress)
            };
            // Two merges in one second: the next free timestamp name.
            let snap = take(Some(name)).or_else(|_| take(None));
            match snap {
                Ok(s) => Some(s),
                Err(e) => {
                    return Err(e.context(format!("could not take a snapshot of {} before merging", target.label)));
                }
            }
        }
        _ => None,
    };
    let conn = open_target(&target.path)?;
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        if let Some(s) = &snapshot {
            let _ = crate::snapshot::delete(home, &s.address());
        }
        return Err(Error::failed(format!("could not start writing {} ({e}); try again", target.label)).into());
    }
    let drop_snapshot = |s: &Option<crate::registry::Snapshot>| {
        if let Some(s) = s {
            let _ = crate::snapshot::delete(home, &s.address());
        }
    };
    trace(&format!("merge began at {:?}", started.elapsed()));
    let applied = match apply::apply(&base, &fork, &conn, &target.path, opts.prefer) {
        Ok(a) => a,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            drop_snapshot(&snapshot);
            // A full disk under the parent is one sentence (exit 6).
            return Err(crate::space::explain(e, &target.path, &format!("the merge into {}", target.label), None));
        }
    };
    trace(&format!("merge applied at {:?}", started.elapsed()));
    let unresolved = applied.conflicts.iter().any(|c| c.resolution.is_none());
    let merged = !unresolved && !opts.dry_run;
    crate::env::test_pause("merge-applied");
    if merged {
        if let Err(e) = conn.execute_batch("COMMIT") {
            let _ = conn.execute_batch("ROLLBACK");
            drop_snapshot(&snapshot);
            if matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull) {
                return Err(
                    crate::space::no_space(&target.path, &format!("the merge into {}", target.label), None).into()
                );
            }
            return Err(Error::failed(format!(
                "could not commit the merge into {} ({e}); nothing was written",
                target.label
            ))
            .into());
        }
    } else {
        conn.execute_batch("ROLLBACK")?;
        drop_snapshot(&snapshot);
    }
    trace(&format!("merge ended at {:?}", started.elapsed()));
    Ok(MergeReport {
        fork: addr.to_string(),
        parent: target.label,
        base: base_kind.as_str().to_string(),
        dry_run: opts.dry_run,
        merged,
        method: applied.method.unwrap_or(Method::Full),
        snapshot: if merged { snapshot.map(|s| s.address().to_string()) } else { None },
        schema: applied.schema,
        tables: applied.tables,
        conflicts: applied.conflicts,
        notes: applied.notes,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// Timings on stderr when `SQLFORK_TRACE` is set (for the benchmark).
fn trace(msg: &str) {
    crate::env::trace(msg);
}

/// What to rebase.
#[derive(Debug, Clone, Default)]
pub struct RebaseOptions {
    pub fork: String,
    pub prefer: Prefer,
}

/// `db rebase`: the fork becomes its parent's current state plus its own
/// changes since its base, at the same path and id, through the reset
/// machinery (the new state is built beside it and renamed over it); its
/// base becomes that parent state.
pub(crate) fn rebase(
    home: &Home,
    config: &Config,
    opts: &RebaseOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<MergeReport> {
    let started = Instant::now();
    let addr = Address::parse(&opts.fork)?;
    let reg = Registry::load(home)?;
    let entry = reg.require(&addr)?.clone();
    if entry.status != Status::Healthy {
        return Err(Error::StillProvisioning { address: addr, action: "rebase" }.into());
    }
    if !entry.owned {
        return Err(Error::NotResettable {
            address: addr,
            why: "it was imported, and sqlfork never writes a file it did not create".into(),
        }
        .into());
    }
    let (base_path, base_kind) = base_of(home, &reg, &entry)?;
    let (source, parent_label) = match &entry.forked_from {
        Some(Parent::Database { id, namespace, slug, branch, .. }) => {
            let p = reg.by_id(id).cloned().ok_or_else(|| Error::Hinted {
                error: Box::new(Error::NotFound {
                    address: Address { namespace: namespace.clone(), slug: slug.clone(), branch: branch.clone() },
                }),
                hint: format!(" (the parent of {addr} was deleted, so there is nothing to rebase on)"),
            })?;
            (Source::Registered(p.address()), p.address().to_string())
        }
        Some(Parent::Path(p)) => {
            if !p.exists() {
                return Err(Error::NoSuchFile { path: p.clone() }.into());
            }
            (Source::Path(p.clone()), p.display().to_string())
        }
        None => return Err(Error::NoParent { address: addr.to_string(), why: NoParentFor::Rebase }.into()),
    };
    drop(reg);
    let outcome = std::cell::RefCell::new(None::<apply::Applied>);
    let hook = |temp: &Entry| -> anyhow::Result<()> {
        let base = Opened::open(&format!("{addr} (base)"), &base_path)?;
        let fork = Opened::open(&addr.to_string(), &entry.path)?;
        let conn = open_target(&temp.path)?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let applied = apply::apply(&base, &fork, &conn, &temp.path, opts.prefer)?;
        let unresolved = applied.conflicts.iter().any(|c| c.resolution.is_none());
        conn.execute_batch(if unresolved { "ROLLBACK" } else { "COMMIT" })?;
        *outcome.borrow_mut() = Some(applied);
        if unresolved {
            return Err(Error::failed("the rebase has conflicts").into());
        }
        Ok(())
    };
    let plan = crate::reset::Plan {
        target: &entry,
        source,
        with_data: true,
        keep_lineage: false,
        remember_data: true,
        expiry: crate::reset::Expiry::Keep,
        safe: Default::default(),
        // A fork another process has open is not rebased under it (exit 4).
        when_open: Default::default(),
        before_swap: Some(&hook),
    };
    let deadline = Instant::now() + crate::reset::WAIT;
    let result = crate::reset::reset_in_place(home, config, &plan, deadline, progress);
    let applied = outcome.borrow_mut().take();
    let rebased = match result {
        Ok(Some(_)) => true,
        Ok(None) => return Err(Error::Busy { address: addr }.into()),
        Err(e) => {
            let _ = crate::ops::delete(home, &addr.reset_copy());
            match &applied {
                Some(a) if a.conflicts.iter().any(|c| c.resolution.is_none()) => false,
                _ => return Err(e),
            }
        }
    };
    let applied = applied.unwrap_or_default();
    Ok(MergeReport {
        fork: addr.to_string(),
        parent: parent_label,
        base: base_kind.as_str().to_string(),
        dry_run: false,
        merged: rebased,
        method: applied.method.unwrap_or(Method::Full),
        snapshot: None,
        schema: applied.schema,
        tables: applied.tables,
        conflicts: applied.conflicts,
        notes: applied.notes,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}
