//! The SDK's typed options and results: what a caller passes to
//! [`Sqlfork`](super::Sqlfork) and what it gets back, made from the
//! registry's records.

use crate::ops;
use crate::registry::{CopyStats, Entry, Registry};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::registry::Status;

/// How to fork (or create a branch). `Default` is a schema-only fork that
/// never expires, named after its slug.
#[derive(Debug, Clone, Default)]
pub struct ForkOptions {
    /// Human-readable name (default: the slug).
    pub name: Option<String>,
    /// Expire this long from now (1 hour to 30 days); `None` uses
    /// `default_ttl` from `config.toml`, if any.
    pub ttl: Option<Duration>,
    /// Copy every row too, not only the schema.
    pub with_data: bool,
    /// Mask and subset the rows as they are copied (see
    /// [`crate::mask`]); the default masks a data fork with `mask` in
    /// `config.toml`, if set, as the command line does.
    pub safe: crate::mask::SafeOptions,
    /// Fork the source's newest snapshot taken at or before this time: an
    /// RFC 3339 time (`2026-11-30T02:00:00Z`) or an age (`2h`, two hours
    /// ago). The source must then be a registered database.
    pub at: Option<String>,
    /// Keep the fork's base (its state now, which [`Sqlfork::merge`]
    /// needs) even where that costs a full copy; where the file system
    /// clones, or the source is a snapshot, it is kept anyway.
    pub mergeable: bool,
}

/// How to create or reset a branch ([`Sqlfork::branch_put`](crate::Sqlfork::branch_put)).
#[derive(Debug, Clone, Default)]
pub struct BranchOptions {
    /// Copy the rows too (`Some(true)`), only the schema (`Some(false)`),
    /// or as the branch was made (`None`; schema only for a new branch).
    pub with_data: Option<bool>,
    /// Expire this long from this put; `None` uses `default_ttl`, if any.
    pub ttl: Option<Duration>,
    /// Mask and subset rules; the default keeps what the branch was made with.
    pub safe: crate::mask::SafeOptions,
    /// What a reset does when other processes have the branch open: by
    /// default it fails with [`Error::OpenElsewhere`](crate::Error::OpenElsewhere) naming them.
    pub when_open: crate::holders::WhenOpen,
}

/// One database in the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// `NS/SLUG`, or `NS/SLUG@REF` for a branch.
    pub address: String,
    pub id: String,
    pub namespace: String,
    pub slug: String,
    pub branch: Option<String>,
    pub name: String,
    /// The SQLite file.
    pub path: PathBuf,
    /// True when sqlfork created the file (and deletes it with the entry).
    pub owned: bool,
    pub status: Status,
    pub created_at: Option<SystemTime>,
    /// Where it was forked from.
    pub forked_from: Option<Lineage>,
    pub forked_at: Option<SystemTime>,
    pub expires_at: Option<SystemTime>,
    pub include_data: bool,
    /// What its copy did, once it is healthy.
    pub copy: Option<CopyFigures>,
}

/// Where a fork came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lineage {
    /// A registered database (its current address, or the one it had when
    /// it was deleted).
    Database { id: String, address: String, name: String, deleted: bool },
    /// An unregistered SQLite file.
    File(PathBuf),
}

/// What a fork's copy did.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFigures {
    pub objects_created: u64,
    pub rows_copied: u64,
    pub bytes_copied: u64,
    pub duration: Duration,
    /// True when the fork is one point in time of its source.
    pub exact: bool,
    /// Rows whose parent row a best-effort copy missed, removed.
    pub orphans_pruned: u64,
}

/// A read-only restore point of one database ([`Sqlfork::snapshot`](crate::Sqlfork::snapshot)).
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotInfo {
    /// `NS/SLUG:NAME` (or `NS/SLUG@REF:NAME`): a fork source like any other.
    pub address: String,
    /// The database it was taken of.
    pub database: String,
    pub name: String,
    /// Its file (mode 0400; sqlfork never opens it writable).
    pub path: PathBuf,
    pub taken_at: Option<SystemTime>,
    pub expires_at: Option<SystemTime>,
    pub size_bytes: u64,
}

/// How to reset a database in place ([`Sqlfork::reset`](crate::Sqlfork::reset)).
#[derive(Debug, Clone, Default)]
pub struct ResetOptions {
    /// Go back to this snapshot of the database itself (`NAME`) instead of
    /// its parent's current state.
    pub to: Option<String>,
    /// `Some(true)` with data, `Some(false)` schema only; `None` keeps the
    /// database's data mode.
    pub with_data: Option<bool>,
    /// Expire this long from the reset; `None` keeps the expiry.
    pub ttl: Option<Duration>,
    /// Mask and subset rules; the default keeps what the database was made with.
    pub safe: crate::mask::SafeOptions,
    /// What to do when other processes have the database open: by default
    /// fail with [`Error::OpenElsewhere`](crate::Error::OpenElsewhere) naming them.
    pub when_open: crate::holders::WhenOpen,
}

/// What [`Sqlfork::branch_put`](crate::Sqlfork::branch_put) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchAction {
    /// The branch did not exist; it was forked from its parent.
    Created,
    /// It existed; it now holds its parent's current state (same path).
    Reset,
    /// An interrupted first put was finished.
    Resumed,
}

fn time(text: &str) -> Option<SystemTime> {
    crate::ttl::parse_time(text)
}

pub(super) fn to_database(e: &Entry, reg: &Registry) -> Database {
    let forked_from = e.forked_from.as_ref().map(|p| {
        let label = |ns: &str, slug: &str, branch: &Option<String>| match branch {
            Some(b) => format!("{ns}/{slug}@{b}"),
            None => format!("{ns}/{slug}"),
        };
        let live = match p {
            crate::registry::Parent::Database { id, .. } => reg.by_id(id),
            crate::registry::Parent::Path(_) => None,
        };
        match ops::ResolvedParent::of(p, live) {
            ops::ResolvedParent::Path(path) => Lineage::File(path),
            ops::ResolvedParent::Live { id, namespace, slug, name, branch } => {
                Lineage::Database { id, address: label(&namespace, &slug, &branch), name, deleted: false }
            }
            ops::ResolvedParent::Deleted { id, namespace, slug, name, branch } => {
                Lineage::Database { id, address: label(&namespace, &slug, &branch), name, deleted: true }
            }
        }
    });
    Database {
        address: e.address().to_string(),
        id: e.id.clone(),
        namespace: e.namespace.clone(),
        slug: e.slug.clone(),
        branch: e.branch.clone(),
        name: e.name.clone(),
        path: e.path.clone(),
        owned: e.owned,
        status: e.status,
        created_at: time(&e.created_at),
        forked_from,
        forked_at: e.forked_at.as_deref().and_then(time),
        expires_at: e.expires_at.as_deref().and_then(time),
        include_data: e.include_data,
        copy: e.copy.as_ref().map(figures),
    }
}

pub(super) fn snapshot_info(s: &crate::registry::Snapshot) -> SnapshotInfo {
    SnapshotInfo {
        address: s.address().to_string(),
        database: s.database_address().to_string(),
        name: s.name.clone(),
        path: s.path.clone(),
        taken_at: time(&s.taken_at),
        expires_at: s.expires_at.as_deref().and_then(time),
        size_bytes: s.size_bytes,
    }
}

fn figures(c: &CopyStats) -> CopyFigures {
    CopyFigures {
        objects_created: c.objects_created,
        rows_copied: c.rows_copied,
        bytes_copied: c.bytes_copied,
        duration: Duration::from_millis(c.duration_ms),
        exact: c.exact,
        orphans_pruned: c.orphans_pruned,
    }
}
