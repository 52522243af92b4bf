//! `db diff A [B]`: what changed between two databases.
//!
//! The pipeline, in order:
//! 1. `resolve`: A and B become files (address, branch, snapshot or path;
//!    B defaults to A's parent, or to a snapshot's database as it is now).
//! 2. Both files are opened read-only and a read transaction is pinned on
//!    each, so neither changes under us while we read them (see `pages`
//!    for why reading the files directly is then safe).
//! 3. `schema`: objects added, removed and changed, and settings.
//! 4. `pages`: which tables can hold a change. Pages that are
//!    byte-identical in both files (or extents both files still share on a
//!    copy-on-write file system, which are not even read) cannot; a changed
//!    leaf page gives the key range to compare. When the files share nothing
//!    every table is compared in full (`method: full`).
//! 5. `rows`: rows of those tables (or key ranges) are streamed in key
//!    order from both sides and merge-joined; memory stays bounded.
//!
//! Promises: before = B, after = A (inserted means "in A, not in B"); values
//! compare exactly (a change of case in a NOCASE column is an update, `1` and
//! `'1'` differ); virtual tables are compared through themselves, never as
//! their shadow tables; an added or dropped column is one schema change:
//! rows are compared on the columns both sides have, and on an added
//! column's value against what its DEFAULT (or NULL) gives, so a backfill
//! counts as updates (`plan: NULL → 'pro'`) and an untouched row does not.
//! A dropped column's values are not compared.

mod btree;
mod fiemap;
pub(crate) mod pages;
pub(crate) mod render;
pub(crate) mod resolve;
pub(crate) mod rows;
pub(crate) mod schema;
pub(crate) mod sql;
mod value;

use crate::home::{Config, Home};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) use value::row_vals;
pub use value::Val;

/// What to compare and how much to report.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// A: an address, branch, snapshot or path.
    pub a: String,
    /// B; `None` means A's parent.
    pub b: Option<String>,
    /// Compare schema and settings only.
    pub schema_only: bool,
    /// List up to this many changed rows per table.
    pub rows: usize,
    /// Compare every row of every table, whatever the pages say (the
    /// reference the page method is tested against).
    pub full: bool,
    /// Compare A with its base (its state when it was forked): only what
    /// the fork changed, none of its parent's later writes. B must be `None`.
    pub since_fork: bool,
}

/// How the tables to compare were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Pages compared; extents both files share were skipped unread.
    Extents,
    /// Pages compared byte by byte.
    Pages,
    /// Every table compared row by row (the files share no layout).
    Full,
    /// Only the schema was compared (`--schema`).
    Schema,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Extents => "extents",
            Method::Pages => "pages",
            Method::Full => "full",
            Method::Schema => "schema",
        }
    }
}

/// One schema object as it is on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct ObjectView {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub sql: String,
}

/// An object present on both sides with different SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct ObjectChange {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct SchemaDiff {
    pub added: Vec<ObjectView>,
    pub removed: Vec<ObjectView>,
    pub changed: Vec<ObjectChange>,
}

impl SchemaDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// A setting's value before (B) and after (A).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct SettingChange {
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// What kind of change a row saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Insert,
    Delete,
    Update,
}

/// One column of a listed row: its value before and after (absent on the
/// side that has no row).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct ColumnChange {
    pub column: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Val>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Val>,
}

/// One changed row, as `--rows N` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct RowChange {
    pub change: ChangeKind,
    /// Key column (or `rowid`) → value; empty for tables compared as multisets.
    pub key: BTreeMap<String, Val>,
    /// Updates: the changed columns. Inserts and deletes: every column.
    pub columns: Vec<ColumnChange>,
}

/// How rows of a table were matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "lowercase")]
pub enum Matching {
    /// By rowid (or its INTEGER PRIMARY KEY alias).
    Rowid,
    /// By the declared primary key of a WITHOUT ROWID table.
    Key,
    /// No usable key: rows compared as multisets (no updates, only
    /// inserted and deleted copies).
    Multiset,
}

/// What changed in one table present on both sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct TableDiff {
    pub inserted: u64,
    pub deleted: u64,
    pub updated: u64,
    pub matched_by: Matching,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowChange>,
}

impl TableDiff {
    pub fn changes(&self) -> u64 {
        self.inserted + self.deleted + self.updated
    }
}

/// The answer to `db diff`; its JSON is the `--format json` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
pub struct DiffReport {
    pub a: String,
    pub b: String,
    pub method: Method,
    pub identical: bool,
    pub schema: SchemaDiff,
    pub settings: BTreeMap<String, SettingChange>,
    pub tables: BTreeMap<String, TableDiff>,
    /// Things a reader should know (tables compared as multisets, virtual
    /// tables whose module is not available, why the method is `full`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One side, opened read-only with a read transaction pinned.
pub(crate) struct Opened {
    pub(crate) label: String,
    pub(crate) path: PathBuf,
    pub(crate) conn: Connection,
    /// The database file, read directly for the page comparison. Declared
    /// after `conn` so it is closed after it: closing any descriptor of a
    /// file drops every POSIX lock this process holds on it, and that must
    /// not end SQLite's read lock while the connection still reads.
    pub(crate) file: std::fs::File,
    pub(crate) schema: crate::schema::SourceSchema,
    /// Lower-cased names of virtual tables' shadow tables (reported through
    /// their virtual table).
    pub(crate) shadows: std::collections::HashSet<String>,
    /// B only: this live parent of A was written to after A was forked
    /// (a note for the report, see `resolve::parent_written_since_fork`).
    pub(crate) written_since_fork: Option<String>,
    /// Keeps SQLite's `-wal`/`-shm` tidy: removed on drop if we made them.
    _side_files: crate::schema::SourceSideFiles,
}

impl Opened {
    pub(crate) fn open(label: &str, path: &Path) -> anyhow::Result<Opened> {
        resolve::check_side(path)?;
        let side_files = crate::schema::SourceSideFiles::note(path);
        let conn = crate::schema::open_source(path)?;
        // A deferred BEGIN takes its snapshot at the first read: the schema
        // read below pins it, and every later read sees the same state.
        conn.execute_batch("BEGIN").map_err(|e| crate::schema::source_error(path, e))?;
        let schema = crate::schema::read_schema_in_transaction(&conn, path)?;
        let shadows = schema::shadow_tables(&conn).map_err(|e| crate::schema::source_error(path, e))?;
        let file = std::fs::File::open(path)
            .map_err(|e| crate::error::Error::failed(format!("could not read {} ({label}): {e}", path.display())))?;
        Ok(Opened {
            label: label.to_string(),
            path: path.to_path_buf(),
            conn,
            file,
            schema,
            shadows,
            written_since_fork: None,
            _side_files: side_files,
        })
    }
}

/// Compare A with B and report what changed (before = B, after = A).
pub(crate) fn diff(home: &Home, config: &Config, opts: &DiffOptions) -> anyhow::Result<DiffReport> {
    let (a, b) = open_sides(home, config, opts)?;
    diff_opened(&a, &b, opts)
}

/// Write SQL that turns B into A to `out` (what `--format sql` prints), and
/// return the report of what differs.
pub(crate) fn patch(
    home: &Home,
    config: &Config,
    opts: &DiffOptions,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<DiffReport> {
    let (a, b) = open_sides(home, config, opts)?;
    let report = diff_opened(&a, &b, &DiffOptions { rows: 0, ..opts.clone() })?;
    sql::write_patch(&a, &b, out)?;
    Ok(report)
}

/// Resolve and open both sides.
pub(crate) fn open_sides(home: &Home, config: &Config, opts: &DiffOptions) -> anyhow::Result<(Opened, Opened)> {
    if opts.since_fork {
        if opts.b.is_some() {
            return Err(crate::error::Error::invalid(
                "--since-fork compares the fork with its own base; drop the second database or --since-fork",
            )
            .into());
        }
        let addr = crate::address::Address::parse(&opts.a)?;
        let reg = crate::registry::Registry::load(home)?;
        let entry = reg.require(&addr)?.clone();
        let (base, _) = crate::fork::base::base_of(home, &reg, &entry)?;
        let a = Opened::open(&addr.to_string(), &entry.path)?;
        let b = Opened::open(&format!("{addr} (at fork)"), &base)?;
        return Ok((a, b));
    }
    let (sa, sb) = resolve::resolve_sides(home, config, &opts.a, opts.b.as_deref())?;
    // Before B is opened: opening may create its `-wal`.
    let written_since_fork = resolve::parent_written_since_fork(home, &opts.a, &sb);
    let a = Opened::open(&sa.label, &sa.path)?;
    let b = Opened { written_since_fork, ..Opened::open(&sb.label, &sb.path)? };
    Ok((a, b))
}

/// Compare two opened sides.
pub(crate) fn diff_opened(a: &Opened, b: &Opened, opts: &DiffOptions) -> anyhow::Result<DiffReport> {
    let schema = schema::diff_schema(a, b);
    let settings = schema::diff_settings(&a.schema.settings, &b.schema.settings);
    let mut notes = Vec::new();
    let mut tables = BTreeMap::new();
    let method = if opts.schema_only {
        Method::Schema
    } else {
        let started = std::time::Instant::now();
        let plans = rows::plan_tables(a, b, &mut notes)?;
        trace(&format!("tables planned at {:?}", started.elapsed()));
        let scope = if opts.full { pages::Scope::full(&plans, "asked for") } else { pages::scope(a, b, &plans)? };
        trace(&format!("scope decided at {:?}", started.elapsed()));
        if let Some(why) = &scope.full_reason {
            notes.push(format!("compared every row: {why}"));
        }
        for plan in &plans {
            let Some(ranges) = scope.tables.get(&plan.name) else { continue };
            let mut sink = rows::Collect::new(opts.rows);
            rows::compare_table(a, b, plan, ranges, &mut sink)?;
            if sink.diff.changes() > 0 {
                tables.insert(plan.name.clone(), sink.into_diff(plan.matching));
            }
        }
        one_sided_internal_tables(a, b, &mut tables)?;
        trace(&format!("rows compared at {:?}", started.elapsed()));
        scope.method
    };
    let identical = schema.is_empty() && settings.is_empty() && tables.is_empty();
    if !identical {
        notes.extend(b.written_since_fork.clone());
    }
    Ok(DiffReport { a: a.label.clone(), b: b.label.clone(), method, identical, schema, settings, tables, notes })
}

/// SQLite's own tables (`sqlite_sequence`, `sqlite_stat1`, `sqlite_stat4`)
/// on one side only: not schema a user wrote, but rows that differ, all of
/// them inserted (in A only) or deleted (in B only).
fn one_sided_internal_tables(a: &Opened, b: &Opened, tables: &mut BTreeMap<String, TableDiff>) -> anyhow::Result<()> {
    let has = |o: &Opened, name: &str| o.schema.objects.iter().any(|x| x.name.eq_ignore_ascii_case(name));
    for name in ["sqlite_sequence", "sqlite_stat1", "sqlite_stat4"] {
        let (in_a, in_b) = (has(a, name), has(b, name));
        if in_a == in_b {
            continue;
        }
        let side = if in_a { a } else { b };
        let n: i64 = side.conn.query_row(&format!("SELECT count(*) FROM main.{name}"), [], |r| r.get(0))?;
        if n > 0 {
            let n = n as u64;
            let (inserted, deleted) = if in_a { (n, 0) } else { (0, n) };
            tables.insert(
                name.to_string(),
                TableDiff { inserted, deleted, updated: 0, matched_by: Matching::Rowid, rows: vec![] },
            );
        }
    }
    Ok(())
}

/// Timings on stderr when `SQLFORK_TRACE` is set (for the benchmark).
fn trace(msg: &str) {
    crate::env::trace(&format!("diff {msg}"));
}
