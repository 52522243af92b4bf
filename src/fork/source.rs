//! Step 1 and 2 of a fork: where the source is, and reading it.
//!
//! [`resolve_source`] turns what the user named (a registered address or a
//! path) into a file and the parent the fork will remember;
//! [`SourceSession::open`] reads the source's schema and settings in one
//! read transaction and, for a data fork of a WAL source, keeps that
//! transaction open so the copy reads the same moment; [`check_schema`]
//! finds every error a replay could meet before anything is written.

use crate::address::{Address, Source};
use crate::copy::{SnapshotBytes, SourceReader};
use crate::error::{Error, NotResumableWhy};
use crate::home::{Config, CopyMethod, Home};
use crate::registry::{Entry, Parent, Status, Store};
use crate::schema::{self, Replayer, SourceSchema};
use anyhow::Context;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// A resolved fork source.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedSource {
    pub path: PathBuf,
    pub parent: Parent,
    /// The namespace a bare destination lands in.
    pub namespace: String,
    pub address: Option<Address>,
}

impl ResolvedSource {
    /// How errors name the source: its address, else its path.
    pub(crate) fn label(&self) -> String {
        match (&self.address, &self.parent) {
            (Some(a), Parent::Database { snapshot: Some(s), .. }) => format!("snapshot {a}:{}", s.name),
            (Some(a), _) => a.to_string(),
            (None, _) => self.path.display().to_string(),
        }
    }
}

/// Resolve what the user named: a registered database must be healthy and
/// have its file; a path must be a SQLite file.
pub(crate) fn resolve_source(home: &Home, config: &Config, source: &Source) -> anyhow::Result<ResolvedSource> {
    match source {
        Source::Registered(addr) => {
            let e = Store::open(home)?.require(addr)?;
            if e.status != Status::Healthy {
                return Err(Error::SourceProvisioning { address: addr.clone() }.into());
            }
            if !e.path.exists() {
                return Err(Error::FileMissing { address: addr.clone(), path: e.path.clone() }.into());
            }
            Ok(ResolvedSource {
                path: e.path.clone(),
                parent: Parent::Database {
                    id: e.id.clone(),
                    namespace: e.namespace.clone(),
                    slug: e.slug.clone(),
                    name: e.name.clone(),
                    branch: e.branch.clone(),
                    snapshot: None,
                },
                namespace: addr.namespace.clone(),
                address: Some(addr.clone()),
            })
        }
        Source::Snapshot(snap) => {
            let (db, s) = Store::open(home)?.find_snapshot(snap)?;
            if !s.path.exists() {
                return Err(Error::SourceFileMissing { path: s.path.clone() }.into());
            }
            Ok(ResolvedSource {
                path: s.path.clone(),
                parent: Parent::Database {
                    id: db.id.clone(),
                    namespace: db.namespace.clone(),
                    slug: db.slug.clone(),
                    name: db.name.clone(),
                    branch: db.branch.clone(),
                    snapshot: Some(s.as_ref()),
                },
                namespace: db.namespace.clone(),
                address: Some(db.address()),
            })
        }
        Source::Remote(r) => {
            // The local copy a pull made (the caller pulls first).
            let url = config.remotes.get(&r.remote).map(|c| c.url.clone()).ok_or_else(|| Error::RemoteNotFound {
                remote: r.remote.clone(),
                known: config.remotes.keys().cloned().collect(),
            })?;
            let reg = crate::registry::Registry::load(home)?;
            let s = reg.pulled(&url, &r.snapshot, true).ok_or_else(|| Error::NotPulled { snapshot: r.to_string() })?;
            if !s.path.exists() {
                return Err(Error::SourceFileMissing { path: s.path.clone() }.into());
            }
            Ok(ResolvedSource {
                path: s.path.clone(),
                parent: Parent::Database {
                    id: s.database_id.clone(),
                    namespace: s.namespace.clone(),
                    slug: s.slug.clone(),
                    name: r.to_string(),
                    branch: None,
                    snapshot: Some(s.as_ref()),
                },
                namespace: s.namespace.clone(),
                address: None,
            })
        }
        Source::Path(p) => {
            schema::check_source_file(p)?;
            let abs =
                std::fs::canonicalize(p).with_context(|| format!("could not resolve source path {}", p.display()))?;
            Ok(ResolvedSource {
                path: abs.clone(),
                parent: Parent::Path(abs),
                namespace: config.default_namespace.clone(),
                address: None,
            })
        }
    }
}

/// The source of an interrupted fork, from its entry's parent.
pub(crate) fn source_of(home: &Home, entry: &Entry) -> anyhow::Result<ResolvedSource> {
    let addr = entry.address();
    match &entry.forked_from {
        Some(Parent::Path(p)) => Ok(ResolvedSource {
            path: p.clone(),
            parent: Parent::Path(p.clone()),
            namespace: entry.namespace.clone(),
            address: None,
        }),
        Some(parent @ Parent::Database { snapshot: Some(snap), .. }) => {
            // A fork of a snapshot continues from that snapshot's file.
            let s = Store::open(home)?
                .snapshot_by_id(&snap.id)?
                .ok_or_else(|| Error::NotResumable { address: addr.clone(), why: NotResumableWhy::SnapshotDeleted })?;
            Ok(ResolvedSource {
                path: s.path.clone(),
                parent: parent.clone(),
                namespace: s.namespace.clone(),
                address: Some(s.database_address()),
            })
        }
        Some(parent @ Parent::Database { id, .. }) => {
            let p = Store::open(home)?
                .by_id(id)?
                .ok_or_else(|| Error::NotResumable { address: addr.clone(), why: NotResumableWhy::SourceDeleted })?;
            Ok(ResolvedSource {
                path: p.path.clone(),
                parent: parent.clone(),
                namespace: p.namespace.clone(),
                address: Some(p.address()),
            })
        }
        None => Err(Error::NotResumable { address: addr.clone(), why: NotResumableWhy::NotAFork }.into()),
    }
}

/// An open source: its schema, read in one read transaction, and (for a WAL
/// source being copied with data) that transaction kept open as the
/// snapshot the copy reads.
pub(crate) struct SourceSession {
    pub schema: SourceSchema,
    pub reader: SourceReader,
    /// The schema replayed into an in-memory database with the source's
    /// settings (schema-only forks): validated, and copied to the fork file
    /// whole.
    pub prepared: Option<Connection>,
}

impl SourceSession {
    /// Open `path` read-only and read its schema. With `keep_snapshot`, a
    /// WAL source's read transaction stays open and its snapshot is kept;
    /// `reuse` asks for an earlier snapshot (a resumed copy) first. The
    /// second value is true when that earlier snapshot was reopened.
    pub(crate) fn open(
        path: &Path,
        keep_snapshot: bool,
        reuse: Option<&SnapshotBytes>,
    ) -> anyhow::Result<(Self, bool)> {
        let conn = schema::open_source(path)?;
        if reuse.is_some() {
            // sqlite3_snapshot_open needs the pager to have the WAL open
            // already (else SQLITE_ERROR): one read in autocommit opens it.
            conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |_| Ok(()))
                .map_err(|e| schema::source_error(path, e))?;
        }
        conn.execute_batch("BEGIN").map_err(|e| schema::source_error(path, e))?;
        let mut reused = false;
        if let Some(snap) = reuse {
            reused = SourceReader::open_snapshot(&conn, "main", snap).is_ok();
        }
        let schema = match schema::read_schema_in_transaction(&conn, path) {
            Ok(s) => s,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        // A WAL source stays pinned even when SQLite cannot hand out a
        // snapshot (it cannot while the WAL is empty): reads through this
        // connection still see one point in time, and a checkpoint cannot
        // overwrite what it reads.
        let pin = keep_snapshot && schema.settings.journal_mode.is_wal();
        let snapshot = if pin { SourceReader::take_snapshot(&conn) } else { None };
        let reader = if pin {
            SourceReader::new(path, Some(conn), snapshot)
        } else {
            let _ = conn.execute_batch("COMMIT");
            SourceReader::new(path, None, None)
        };
        Ok((SourceSession { schema, reader, prepared: None }, reused))
    }
}

/// What a fork will do with the schema, which decides how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Replay the schema: it is replayed into memory first (every error a
    /// replay can meet is found before anything is written), and that
    /// in-memory database becomes the fork's file.
    SchemaOnly,
    /// Replay the schema and copy rows: replayed into memory to check it.
    Replay,
    /// A masked or subset fork: built from the rows like `Replay`, so a
    /// stand-in would reach it just the same.
    Masked,
    /// Copy the file as it is: no SQL is executed, so only the objects'
    /// shape is checked (a collation or module only the source's
    /// application has does not stop a page-exact copy).
    Verbatim,
}

impl Plan {
    pub(crate) fn of(with_data: bool, method: CopyMethod) -> Plan {
        if with_data {
            super::method(method).plan()
        } else {
            Plan::SchemaOnly
        }
    }
}

/// Check every object of the source for the plan; a schema-only plan keeps
/// the replayed in-memory database in the session.
pub(crate) fn check_schema(session: &mut SourceSession, plan: Plan) -> anyhow::Result<()> {
    schema::check_objects(&session.schema)?;
    if plan == Plan::Verbatim {
        return Ok(());
    }
    let mut mem = Connection::open_in_memory()?;
    schema::harden(&mem)?;
    Replayer::apply_file_settings(&mem, &session.schema.settings)?;
    let tx = mem.transaction()?;
    let stand_ins = replay_all(&tx, &session.schema)?.stand_ins;
    if matches!(plan, Plan::Replay | Plan::Masked) {
        refuse_row_copy_with_stand_ins(&Replayer::collations(&tx)?, &stand_ins.functions, plan == Plan::Masked)?;
    }
    Replayer::apply_header_values(&tx, &session.schema.settings)?;
    tx.commit()?;
    if plan == Plan::SchemaOnly {
        session.prepared = Some(mem);
    }
    Ok(())
}

fn replay_all<'s>(conn: &Connection, schema: &'s SourceSchema) -> anyhow::Result<Replayer<'s>> {
    let mut r = Replayer::new(schema);
    r.create_tables(conn)?;
    r.fill_starter_rows(conn)?;
    r.create_indexes(conn)?;
    r.create_stat_tables(conn)?;
    r.create_views(conn)?;
    r.create_triggers(conn)?;
    r.verify(conn)?;
    Ok(r)
}

/// A row copy builds indexes, computes generated columns and checks
/// constraints with what the replay has: a stand-in would reach the fork.
/// Such a schema is copied page by page (the default), never row by row.
fn refuse_row_copy_with_stand_ins(collations: &[String], functions: &[String], masked: bool) -> anyhow::Result<()> {
    let mut pieces: Vec<String> = collations.iter().map(|c| format!("collation `{c}`")).collect();
    pieces.extend(functions.iter().map(|f| format!("function `{f}`")));
    if pieces.is_empty() {
        return Ok(());
    }
    if masked {
        return Err(crate::error::Error::failed(format!(
            "cannot build a masked or subset fork of this source: its schema uses the {} that only its application defines, and a fork built from rows would fill its indexes without it; fork it unmasked (a file or clone copy needs none of them) only where its data may go",
            pieces.join(", ")
        ))
        .into());
    }
    Err(crate::error::Error::failed(format!(
        "cannot copy this source row by row: its schema uses the {} that only its application defines, and a row copy would fill the fork's indexes without it; use the page copy (copy_method = \"pages\", the default) while nothing writes to the source",
        pieces.join(", ")
    ))
    .into())
}

/// `--mask-check`: the source's personal-looking columns without a rule.
/// Reads the source only.
pub(crate) fn mask_check(
    home: &crate::home::Home,
    config: &crate::home::Config,
    source: &crate::address::Source,
    safe: &crate::mask::SafeOptions,
) -> anyhow::Result<Vec<crate::mask::check::Finding>> {
    let src = resolve_source(home, config, source)?;
    let _side_files = crate::schema::SourceSideFiles::note(&src.path);
    let mut conn = crate::schema::open_source(&src.path)?;
    let schema = crate::schema::read_schema(&mut conn, &src.path)?;
    crate::mask::validate(&conn, "main", &schema, safe)?;
    crate::mask::check::unruled(&conn, "main", &schema, safe.rules.as_ref())
}
