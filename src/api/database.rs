//! The one shape of a database (and of a snapshot): what the SDK returns,
//! what `--json` prints and what the MCP tools answer with (their output
//! schemas are derived from these types), in camelCase. Made from the
//! registry's records here, with lineage resolved here and nowhere else.

use crate::registry::store::Store;
use crate::registry::{CopyStats, Entry, Parent, SafeRecord, Snapshot, Status};
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One database in the registry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct Database {
    /// `NS/SLUG`, or `NS/SLUG@REF` for a branch.
    pub address: String,
    pub id: String,
    pub namespace: String,
    pub slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub name: String,
    /// The SQLite file.
    #[serde(serialize_with = "display_path")]
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub path: PathBuf,
    /// True when sqlfork created the file (and deletes it with the entry).
    pub owned: bool,
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub status: Status,
    /// The file's size when this was read; `None` when it is missing.
    pub size_bytes: Option<u64>,
    #[serde(serialize_with = "rfc3339")]
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub created_at: Option<SystemTime>,
    #[serde(serialize_with = "rfc3339")]
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub forked_at: Option<SystemTime>,
    #[serde(serialize_with = "rfc3339")]
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub expires_at: Option<SystemTime>,
    pub include_data: bool,
    /// What its copy did, once it is healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyFigures>,
    /// What a masked or subset fork was made with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe: Option<SafeInfo>,
    /// Where it was forked from. In JSON as `forkedFrom` where a command
    /// shows lineage (`db show`, `db fork`, `branch put`, `db reset`), not
    /// in lists.
    #[serde(skip)]
    pub forked_from: Option<Lineage>,
}

/// Where a fork came from (`forkedFrom` in JSON).
// One per database, read by people and scripts: boxing the labels would
// only make it harder to match on.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lineage {
    /// A registered database: its current labels, or the ones it had when
    /// it was deleted (`deleted`).
    Database {
        id: String,
        /// `NS/SLUG` or `NS/SLUG@REF`.
        address: String,
        namespace: String,
        slug: String,
        name: String,
        branch: Option<String>,
        deleted: bool,
        /// The snapshot of that database the fork was made from.
        snapshot: Option<SnapshotLineage>,
    },
    /// An unregistered SQLite file.
    File(PathBuf),
}

/// `forkedFrom.snapshot`: the snapshot a fork was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct SnapshotLineage {
    pub id: String,
    pub name: String,
    /// RFC 3339, as recorded.
    pub taken_at: String,
    /// True once the snapshot has been deleted (the label stays).
    pub deleted: bool,
}

/// What a fork's copy did.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFigures {
    pub objects_created: u64,
    /// Rows copied (a clone reads none and counts none: `null` in JSON).
    pub rows_copied: u64,
    pub bytes_copied: u64,
    pub duration: Duration,
    /// True when the fork is one point in time of its source.
    pub exact: bool,
    /// Rows whose parent row a best-effort copy missed, removed.
    pub orphans_pruned: u64,
    /// `clone`, `file`, `pages` or `rows`; `None` for a schema-only fork.
    pub method: Option<String>,
    /// Why a slower method than the configured one was used.
    pub fallback: Option<String>,
}

/// A masked or subset fork: what it was made with (`safe` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct SafeInfo {
    pub masked: bool,
    pub rules_sha256: Option<String>,
    #[serde(serialize_with = "display_opt_path")]
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub mask_file: Option<PathBuf>,
    pub subset: Vec<String>,
    pub subset_sha256: Option<String>,
    pub rows_kept: std::collections::BTreeMap<String, u64>,
}

/// A read-only restore point of one database ([`Sqlfork::snapshot`](crate::Sqlfork::snapshot)).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// `NS/SLUG:NAME` (or `NS/SLUG@REF:NAME`): a fork source like any other.
    pub address: String,
    pub id: String,
    /// The database it was taken of.
    pub database: String,
    pub name: String,
    /// Its file (mode 0400; sqlfork never opens it writable).
    #[serde(serialize_with = "display_path")]
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub path: PathBuf,
    #[serde(serialize_with = "rfc3339")]
    #[cfg_attr(feature = "cli", schemars(with = "String"))]
    pub taken_at: Option<SystemTime>,
    #[serde(serialize_with = "rfc3339")]
    #[cfg_attr(feature = "cli", schemars(with = "Option<String>"))]
    pub expires_at: Option<SystemTime>,
    pub size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyFigures>,
}

// ---------------------------------------------------------------------------
// JSON

fn display_path<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&p.display())
}

fn display_opt_path<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.collect_str(&p.display()),
        None => s.serialize_none(),
    }
}

/// A time as the registry records it: RFC 3339 to the second, UTC.
fn rfc3339<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&crate::ttl::format_time(*t)),
        None => s.serialize_none(),
    }
}

/// `copy` in JSON.
#[derive(Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
struct CopyJson<'a> {
    objects_created: u64,
    /// None for a clone: it reads no rows, and counting them would cost what
    /// the clone saved.
    rows_copied: Option<u64>,
    bytes_copied: u64,
    duration_ms: u64,
    exact: bool,
    orphans_pruned: u64,
    /// `clone`, `file`, `pages` or `rows`; null for a schema-only fork.
    method: Option<&'a str>,
    /// Why a slower method than the configured one was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<&'a str>,
}

impl CopyFigures {
    /// Rows copied, or `None` for a clone (which counts none).
    pub fn rows_counted(&self) -> Option<u64> {
        (self.method.as_deref() != Some("clone")).then_some(self.rows_copied)
    }
}

impl Serialize for CopyFigures {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CopyJson {
            objects_created: self.objects_created,
            rows_copied: self.rows_counted(),
            bytes_copied: self.bytes_copied,
            duration_ms: self.duration.as_millis() as u64,
            exact: self.exact,
            orphans_pruned: self.orphans_pruned,
            method: self.method.as_deref(),
            fallback: self.fallback.as_deref(),
        }
        .serialize(s)
    }
}

#[cfg(feature = "cli")]
impl rmcp::schemars::JsonSchema for CopyFigures {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CopyFigures".into()
    }
    fn json_schema(g: &mut rmcp::schemars::SchemaGenerator) -> rmcp::schemars::Schema {
        CopyJson::json_schema(g)
    }
}

/// `forkedFrom` in JSON.
#[derive(Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(untagged)]
enum LineageJson<'a> {
    #[serde(rename_all = "camelCase")]
    Database {
        id: &'a str,
        namespace: &'a str,
        slug: &'a str,
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        branch: Option<&'a str>,
        deleted: bool,
        /// The snapshot of that database the fork was made from.
        #[serde(skip_serializing_if = "Option::is_none")]
        snapshot: Option<&'a SnapshotLineage>,
    },
    Path {
        path: String,
    },
}

impl Serialize for Lineage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Lineage::Database { id, namespace, slug, name, branch, deleted, snapshot, .. } => LineageJson::Database {
                id,
                namespace,
                slug,
                name,
                branch: branch.as_deref(),
                deleted: *deleted,
                snapshot: snapshot.as_ref(),
            },
            Lineage::File(p) => LineageJson::Path { path: p.display().to_string() },
        }
        .serialize(s)
    }
}

#[cfg(feature = "cli")]
impl rmcp::schemars::JsonSchema for Lineage {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Lineage".into()
    }
    fn json_schema(g: &mut rmcp::schemars::SchemaGenerator) -> rmcp::schemars::Schema {
        LineageJson::json_schema(g)
    }
}

// ---------------------------------------------------------------------------
// From the registry's records

fn time(text: &str) -> Option<SystemTime> {
    crate::ttl::parse_time(text)
}

/// Resolves lineage: a fork's recorded parent, given what exists now. The
/// one place it is done (the SDK, `db show`, `--json`, MCP). Remembers the
/// parents it looked up, for lists.
pub(crate) struct Lineages<'s> {
    store: &'s Store,
    live: HashMap<String, Option<Entry>>,
}

impl<'s> Lineages<'s> {
    pub(crate) fn new(store: &'s Store) -> Self {
        Lineages { store, live: HashMap::new() }
    }

    /// Where `parent` is now: a live database's current labels, or the
    /// ones it had when it was deleted; whether the snapshot it was forked
    /// from still exists.
    pub(crate) fn of(&mut self, parent: &Parent) -> anyhow::Result<Lineage> {
        let (id, namespace, slug, name, branch, snapshot) = match parent {
            Parent::Path(path) => return Ok(Lineage::File(path.clone())),
            Parent::Database { id, namespace, slug, name, branch, snapshot } => {
                (id, namespace, slug, name, branch, snapshot)
            }
        };
        if !self.live.contains_key(id) {
            let found = self.store.by_id(id)?;
            self.live.insert(id.clone(), found);
        }
        let live = self.live[id].as_ref();
        let (namespace, slug, name, branch) = match live {
            Some(l) => (&l.namespace, &l.slug, &l.name, &l.branch),
            None => (namespace, slug, name, branch),
        };
        let snapshot = match snapshot {
            Some(r) => Some(SnapshotLineage {
                id: r.id.clone(),
                name: r.name.clone(),
                taken_at: r.taken_at.clone(),
                deleted: self.store.snapshot_by_id(&r.id)?.is_none(),
            }),
            None => None,
        };
        Ok(Lineage::Database {
            id: id.clone(),
            address: match branch {
                Some(b) => format!("{namespace}/{slug}@{b}"),
                None => format!("{namespace}/{slug}"),
            },
            namespace: namespace.clone(),
            slug: slug.clone(),
            name: name.clone(),
            branch: branch.clone(),
            deleted: live.is_none(),
            snapshot,
        })
    }

    /// The database this entry is, with its lineage resolved.
    pub(crate) fn database(&mut self, e: &Entry) -> anyhow::Result<Database> {
        let forked_from = match &e.forked_from {
            Some(p) => Some(self.of(p)?),
            None => None,
        };
        Ok(Database { forked_from, ..Database::from_entry(e) })
    }
}

/// The database this entry is, with its lineage resolved.
pub(crate) fn resolved(home: &crate::home::Home, e: &Entry) -> anyhow::Result<Database> {
    Lineages::new(&Store::open(home)?).database(e)
}

impl Database {
    /// The database this entry is, without its lineage (`forked_from` is
    /// `None`): what the lists `--json` prints show, which have none.
    pub(crate) fn from_entry(e: &Entry) -> Database {
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
            size_bytes: crate::layout::file_size(&e.path),
            created_at: time(&e.created_at),
            forked_at: e.forked_at.as_deref().and_then(time),
            expires_at: e.expires_at.as_deref().and_then(time),
            include_data: e.include_data,
            copy: e.copy.as_ref().map(figures),
            safe: e.safe.as_ref().map(safe_info),
            forked_from: None,
        }
    }
}

pub(crate) fn snapshot_info(s: &Snapshot) -> SnapshotInfo {
    SnapshotInfo {
        address: s.address().to_string(),
        id: s.id.clone(),
        database: s.database_address().to_string(),
        name: s.name.clone(),
        path: s.path.clone(),
        taken_at: time(&s.taken_at),
        expires_at: s.expires_at.as_deref().and_then(time),
        size_bytes: s.size_bytes,
        copy: s.copy.as_ref().map(figures),
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
        method: c.method.map(|m| m.to_string()),
        fallback: c.fallback.clone(),
    }
}

fn safe_info(s: &SafeRecord) -> SafeInfo {
    SafeInfo {
        masked: s.masked,
        rules_sha256: s.rules_sha256.clone(),
        mask_file: s.mask_file.clone(),
        subset: s.subset.clone(),
        subset_sha256: s.subset_sha256.clone(),
        rows_kept: s.rows_kept.clone(),
    }
}
