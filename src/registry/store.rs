//! `registry.sqlite`: the registry as a SQLite database, so that a command
//! reads and writes only the records it needs, whatever their number.
//!
//! One row per database (`databases`) and per snapshot (`snapshots`). Each
//! row holds the record's whole serde form as JSON (`record`), beside the
//! key columns it is found by, which are derived from the record on every
//! write: a field added to [`Entry`] or [`Snapshot`] with
//! `#[serde(default)]` needs no change here.
//!
//! Promises (SPEC section 2 and 7):
//! - WAL, `synchronous = FULL`: a commit is on disk before any reader can
//!   see it, so a power cut loses nothing a command acknowledged, and
//!   readers never wait for writers;
//! - every write runs in one transaction (`BEGIN IMMEDIATE`) under the
//!   registry lock (`registry.lock`, the same flock as before), so
//!   concurrent processes never lose an entry and a crash never leaves half
//!   a change;
//! - removing a record leaves its id in `tombstones` in the same
//!   transaction (a trigger): the orphan sweep finds the files a killed
//!   `db delete` left there, without listing `databases/`.
//!
//! A `registry.toml` of earlier versions is migrated once, under the lock:
//! the new database is built beside it (`registry.sqlite.tmp`), synced and
//! renamed into place, and only then is the TOML file renamed
//! `registry.toml.migrated`. A cut at any point leaves the TOML registry
//! (migrated again next time) or the whole new one.

use super::{Entry, Parent, Registry, Snapshot};
use crate::address::Address;
use crate::claim::FileLock;
use crate::error::{Error, RegistryProblem};
use crate::home::Home;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// `PRAGMA user_version` of the layout below.
const LAYOUT_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE databases (
    id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    slug TEXT NOT NULL,
    branch TEXT NOT NULL,
    parent_id TEXT,
    hidden INTEGER NOT NULL,
    expires_at TEXT,
    record TEXT NOT NULL
);
CREATE INDEX databases_address ON databases (namespace, slug, branch);
CREATE INDEX databases_parent ON databases (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX databases_hidden ON databases (hidden) WHERE hidden = 1;
CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    database_id TEXT NOT NULL,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    expires_at TEXT,
    record TEXT NOT NULL
);
CREATE INDEX snapshots_database ON snapshots (database_id);
CREATE TABLE tombstones (id TEXT PRIMARY KEY);
CREATE TRIGGER databases_gone AFTER DELETE ON databases BEGIN
    INSERT OR IGNORE INTO tombstones (id) VALUES (old.id);
END;
CREATE TRIGGER snapshots_gone AFTER DELETE ON snapshots BEGIN
    INSERT OR IGNORE INTO tombstones (id) VALUES (old.id);
END;
";

/// The meta key holding the registry's fields other than its databases and
/// snapshots (JSON), so that a collection added to [`Registry`] with
/// `#[serde(default)]` is kept without a table of its own (read and written
/// with the whole registry only).
const EXTRA: &str = "registry";

/// The registry's fields besides its databases and snapshots, as JSON.
fn extra_of(reg: &Registry) -> anyhow::Result<String> {
    let mut v =
        serde_json::to_value(reg).map_err(|e| Error::failed(format!("could not serialise the registry: {e}")))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("databases");
        o.remove("snapshots");
    }
    Ok(v.to_string())
}

/// The meta key holding when the last full orphan sweep ran (RFC 3339).
pub(crate) const FULL_SWEEP_AT: &str = "full_sweep_at";

/// An open registry: reads anywhere, writes inside [`Store::edit`].
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

fn failed(path: &Path, what: &str, e: impl std::fmt::Display) -> anyhow::Error {
    Error::failed(format!("could not {what} the registry {}: {e}", path.display())).into()
}

/// A full disk under the registry is [`Error::NoSpace`] (exit 6): SQLite
/// says "database or disk is full", or "disk I/O error" when the WAL's
/// shared-memory index cannot grow.
fn full_disk(path: &Path, e: &rusqlite::Error) -> Option<anyhow::Error> {
    let rusqlite::Error::SqliteFailure(f, _) = e else { return None };
    let dir = path.parent().unwrap_or(path);
    let tight = crate::space::free(dir).is_some_and(|free| free < 1 << 20);
    let full = f.code == rusqlite::ErrorCode::DiskFull || (f.code == rusqlite::ErrorCode::SystemIoFailure && tight);
    full.then(|| crate::space::no_space(dir, "the registry", None).into())
}

impl Store {
    /// The registry of `home`, for reading. A home without one reads as
    /// empty (nothing is created); a `registry.toml` is migrated first.
    pub(crate) fn open(home: &Home) -> anyhow::Result<Store> {
        let path = home.registry_path();
        let legacy = home.legacy_registry_path().exists();
        if !path.exists() && !legacy {
            return Store::empty(path);
        }
        if legacy {
            // To migrate, or one whose migration was cut before the TOML
            // file was retired.
            let _lock = lock(home)?;
            prepare(home)?;
        }
        Store::connect(&path)
    }

    /// Run `f` in one write transaction under the registry lock; commit
    /// when it succeeds, roll back when it fails.
    pub(crate) fn edit<T>(home: &Home, f: impl FnOnce(&Store) -> anyhow::Result<T>) -> anyhow::Result<T> {
        home.ensure()?;
        let _lock = lock(home)?;
        prepare(home)?;
        let store = Store::connect(&home.registry_path())?;
        store.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| failed(&store.path, "lock", e))?;
        match f(&store) {
            Ok(v) => {
                crate::env::test_pause("registry-synced");
                store.conn.execute_batch("COMMIT").map_err(|e| {
                    let _ = store.conn.execute_batch("ROLLBACK");
                    full_disk(&store.path, &e).unwrap_or_else(|| failed(&store.path, "write", e))
                })?;
                // Committed (and, under `synchronous = FULL`, synced before
                // any reader can see it); the lock is still held.
                crate::env::test_pause("registry-committed");
                Ok(v)
            }
            Err(e) => {
                let _ = store.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn empty(path: PathBuf) -> anyhow::Result<Store> {
        let conn = Connection::open_in_memory().map_err(|e| failed(&path, "open", e))?;
        conn.execute_batch(SCHEMA).map_err(|e| failed(&path, "open", e))?;
        Ok(Store { conn, path })
    }

    fn connect(path: &Path) -> anyhow::Result<Store> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| failed(path, "open", e))?;
        let setup = || -> rusqlite::Result<i64> {
            conn.busy_timeout(super::lock_timeout().unwrap_or(super::LOCK_TIMEOUT))?;
            // A command's connection closes without checkpointing: the next
            // writer's automatic checkpoint does it, off the path of a read.
            conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        };
        let bad = |why| Error::BadRegistry { path: path.to_path_buf(), why };
        let version = setup().map_err(|e| match full_disk(path, &e) {
            Some(full) => full,
            None => bad(RegistryProblem::NotValid { detail: e.to_string() }).into(),
        })?;
        if version > LAYOUT_VERSION {
            return Err(bad(RegistryProblem::Newer { layout: version }).into());
        }
        Ok(Store { conn, path: path.to_path_buf() })
    }

    fn err(&self, e: rusqlite::Error) -> anyhow::Error {
        failed(&self.path, "read", e)
    }

    /// The records (JSON in the first column) `sql` selects.
    fn records<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> anyhow::Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(args, |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for text in rows {
            out.push(self.decode(&text.map_err(|e| self.err(e))?)?);
        }
        Ok(out)
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, text: &str) -> anyhow::Result<T> {
        serde_json::from_str(text).map_err(|e| {
            let why = RegistryProblem::BadRecord { detail: e.to_string(), record: text.to_string() };
            Error::BadRegistry { path: self.path.clone(), why }.into()
        })
    }

    // -- reading -----------------------------------------------------------

    /// The entry at `addr`.
    pub(crate) fn get(&self, addr: &Address) -> anyhow::Result<Option<Entry>> {
        Ok(self
            .records::<Entry>(
                "SELECT record FROM databases WHERE namespace = ?1 AND slug = ?2 AND branch = ?3",
                params![addr.namespace, addr.slug, addr.branch.as_deref().unwrap_or_default()],
            )?
            .pop())
    }

    /// The entry at `addr`, or the not-found error (with a "did you mean"
    /// hint, which reads every address: only on this error path).
    pub(crate) fn require(&self, addr: &Address) -> anyhow::Result<Entry> {
        match self.get(addr)? {
            Some(e) => Ok(e),
            None => Err(self.all()?.not_found(addr).into()),
        }
    }

    pub(crate) fn by_id(&self, id: &str) -> anyhow::Result<Option<Entry>> {
        Ok(self.records::<Entry>("SELECT record FROM databases WHERE id = ?1", [id])?.pop())
    }

    pub(crate) fn snapshot_by_id(&self, id: &str) -> anyhow::Result<Option<Snapshot>> {
        Ok(self.records::<Snapshot>("SELECT record FROM snapshots WHERE id = ?1", [id])?.pop())
    }

    /// True when a database or a snapshot has this id.
    pub(crate) fn owns_id(&self, id: &str) -> anyhow::Result<bool> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM databases WHERE id = ?1) OR EXISTS (SELECT 1 FROM snapshots WHERE id = ?1)",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_row([id], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// The snapshots of the database `database_id`, oldest first (as
    /// [`Registry::snapshots_of`]).
    pub(crate) fn snapshots_of(&self, database_id: &str) -> anyhow::Result<Vec<Snapshot>> {
        let mut out = self.records::<Snapshot>("SELECT record FROM snapshots WHERE database_id = ?1", [database_id])?;
        out.sort_by_cached_key(|s| s.order_key());
        Ok(out)
    }

    /// How many snapshots the database `database_id` has.
    pub(crate) fn count_snapshots_of(&self, database_id: &str) -> anyhow::Result<usize> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT count(*) FROM snapshots WHERE database_id = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row([database_id], |r| r.get::<_, i64>(0)).map(|n| n as usize).map_err(|e| self.err(e))
    }

    /// The database `snap.database` and its snapshot `snap.name`, or an
    /// error that lists the snapshots that exist.
    pub(crate) fn find_snapshot(&self, snap: &crate::address::SnapshotAddress) -> anyhow::Result<(Entry, Snapshot)> {
        let db = self.require(&snap.database)?;
        let all = self.snapshots_of(&db.id)?;
        match all.iter().find(|s| s.name == snap.name) {
            Some(s) => Ok((db.clone(), s.clone())),
            None => {
                let refs: Vec<&Snapshot> = all.iter().collect();
                Err(Error::SnapshotNotFound {
                    snapshot: snap.clone(),
                    existing: super::what_exists(&snap.database, &refs),
                }
                .into())
            }
        }
    }

    /// Every entry in the namespace `ns`, hidden ones included, in the order
    /// they were added.
    pub(crate) fn in_namespace(&self, ns: &str) -> anyhow::Result<Vec<Entry>> {
        self.records::<Entry>("SELECT record FROM databases WHERE namespace = ?1 ORDER BY rowid", [ns])
    }

    /// Every entry of `NS/SLUG`: the database and its branches (hidden
    /// ones included).
    pub(crate) fn with_name(&self, ns: &str, slug: &str) -> anyhow::Result<Vec<Entry>> {
        self.records::<Entry>(
            "SELECT record FROM databases WHERE namespace = ?1 AND slug = ?2 ORDER BY rowid",
            [ns, slug],
        )
    }

    /// The hidden entries: the copies resets and snapshots build.
    pub(crate) fn hidden(&self) -> anyhow::Result<Vec<Entry>> {
        self.records::<Entry>("SELECT record FROM databases WHERE hidden = 1 ORDER BY rowid", [])
    }

    /// The whole registry (reads every record: for commands about all of
    /// it, and callers not yet moved to the per-record reads).
    pub(crate) fn all(&self) -> anyhow::Result<Registry> {
        let mut reg: Registry = match self.meta(EXTRA)? {
            Some(text) => self.decode(&text)?,
            None => Registry { version: 1, ..Registry::default() },
        };
        reg.databases = self.records::<Entry>("SELECT record FROM databases ORDER BY rowid", [])?;
        reg.snapshots = self.records::<Snapshot>("SELECT record FROM snapshots ORDER BY rowid", [])?;
        Ok(reg)
    }

    /// Every id a database or snapshot has.
    pub(crate) fn all_ids(&self) -> anyhow::Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM databases UNION ALL SELECT id FROM snapshots")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Ids whose record was removed and whose files may still be there.
    pub(crate) fn tombstones(&self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM tombstones").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub(crate) fn meta(&self, key: &str) -> anyhow::Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT value FROM meta WHERE key = ?1").map_err(|e| self.err(e))?;
        stmt.query_row([key], |r| r.get(0)).optional().map_err(|e| self.err(e))
    }

    // -- writing (inside `edit`) ---------------------------------------------

    fn werr(&self, e: rusqlite::Error) -> anyhow::Error {
        failed(&self.path, "write", e)
    }

    /// Run one write statement.
    fn write(&self, sql: &str, args: impl rusqlite::Params) -> anyhow::Result<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|err| self.werr(err))?;
        stmt.execute(args).map_err(|err| self.werr(err))?;
        Ok(())
    }

    /// A record as the JSON the store keeps.
    fn encode<T: serde::Serialize>(&self, record: &T) -> anyhow::Result<String> {
        serde_json::to_string(record).map_err(|err| self.werr(rusqlite::Error::ToSqlConversionFailure(err.into())))
    }

    /// Add an entry; its address must be free.
    pub(crate) fn insert(&self, entry: &Entry) -> anyhow::Result<()> {
        if self.get(&entry.address())?.is_some() {
            return Err(Error::Taken { address: entry.address() }.into());
        }
        self.put(entry)
    }

    /// Write an entry (added, or replacing the one with its id).
    pub(crate) fn put(&self, e: &Entry) -> anyhow::Result<()> {
        let record = self.encode(e)?;
        let parent = match &e.forked_from {
            Some(Parent::Database { id, .. }) => Some(id.as_str()),
            _ => None,
        };
        self.write(
            "INSERT INTO databases (id, namespace, slug, branch, parent_id, hidden, expires_at, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, slug = excluded.slug,
                 branch = excluded.branch, parent_id = excluded.parent_id, hidden = excluded.hidden,
                 expires_at = excluded.expires_at, record = excluded.record",
            params![
                e.id,
                e.namespace,
                e.slug,
                e.branch.as_deref().unwrap_or_default(),
                parent,
                e.address().is_internal(),
                e.expires_at,
                record
            ],
        )
    }

    /// Remove the entry with this id (its id becomes a tombstone).
    pub(crate) fn remove_id(&self, id: &str) -> anyhow::Result<Option<Entry>> {
        let Some(e) = self.by_id(id)? else { return Ok(None) };
        self.write("DELETE FROM databases WHERE id = ?1", [id])?;
        Ok(Some(e))
    }

    /// Write a snapshot record (added, or replacing the one with its id).
    pub(crate) fn put_snapshot(&self, s: &Snapshot) -> anyhow::Result<()> {
        self.write(
            "INSERT INTO snapshots (id, database_id, name, seq, expires_at, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET database_id = excluded.database_id, name = excluded.name,
                 seq = excluded.seq, expires_at = excluded.expires_at, record = excluded.record",
            params![s.id, s.database_id, s.name, s.seq as i64, s.expires_at, self.encode(s)?],
        )
    }

    /// Remove the snapshot record with this id.
    pub(crate) fn remove_snapshot(&self, id: &str) -> anyhow::Result<Option<Snapshot>> {
        let Some(s) = self.snapshot_by_id(id)? else { return Ok(None) };
        self.write("DELETE FROM snapshots WHERE id = ?1", [id])?;
        Ok(Some(s))
    }

    /// Remove every snapshot of the database `id` (the caller removes their
    /// files after the commit).
    pub(crate) fn take_snapshots_of(&self, id: &str) -> anyhow::Result<Vec<Snapshot>> {
        let gone = self.snapshots_of(id)?;
        self.write("DELETE FROM snapshots WHERE database_id = ?1", [id])?;
        Ok(gone)
    }

    /// Forget a tombstone (its files are gone, or its id is in use again).
    pub(crate) fn forget_tombstone(&self, id: &str) -> anyhow::Result<()> {
        self.write("DELETE FROM tombstones WHERE id = ?1", [id])?;
        Ok(())
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> anyhow::Result<()> {
        self.write(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
    }

    /// Write what changed from `before` to `after` (whole registries, as
    /// [`Registry::update`] hands them out).
    pub(crate) fn write_changes(&self, before: &Registry, after: &Registry) -> anyhow::Result<()> {
        use std::collections::HashMap;
        let extra = extra_of(after)?;
        if extra != extra_of(before)? {
            self.set_meta(EXTRA, &extra)?;
        }
        let old: HashMap<&str, &Entry> = before.databases.iter().map(|e| (e.id.as_str(), e)).collect();
        let new: HashMap<&str, &Entry> = after.databases.iter().map(|e| (e.id.as_str(), e)).collect();
        for id in old.keys().filter(|id| !new.contains_key(*id)) {
            self.write("DELETE FROM databases WHERE id = ?1", [id])?;
        }
        for e in &after.databases {
            if old.get(e.id.as_str()) != Some(&e) {
                self.put(e)?;
            }
        }
        let old: HashMap<&str, &Snapshot> = before.snapshots.iter().map(|s| (s.id.as_str(), s)).collect();
        let new: HashMap<&str, &Snapshot> = after.snapshots.iter().map(|s| (s.id.as_str(), s)).collect();
        for id in old.keys().filter(|id| !new.contains_key(*id)) {
            self.write("DELETE FROM snapshots WHERE id = ?1", [id])?;
        }
        for s in &after.snapshots {
            if old.get(s.id.as_str()) != Some(&s) {
                self.put_snapshot(s)?;
            }
        }
        Ok(())
    }
}

fn lock(home: &Home) -> anyhow::Result<FileLock> {
    FileLock::acquire(&home.lock_path(), super::lock_timeout()?, "the registry lock")
}

/// Under the registry lock: make sure `registry.sqlite` exists, migrating
/// a `registry.toml` into it (or creating an empty one), and finish a
/// migration a cut interrupted. Cheap when there is nothing to do (two
/// `stat`s).
fn prepare(home: &Home) -> anyhow::Result<()> {
    let path = home.registry_path();
    let legacy = home.legacy_registry_path();
    if path.exists() {
        if legacy.exists() {
            // Cut between the two renames: the new registry is whole.
            retire_legacy(home)?;
        }
        return Ok(());
    }
    let old = if legacy.exists() { Some(Registry::parse_toml(&legacy)?) } else { None };
    build(home, old.as_ref().unwrap_or(&Registry::default()), old.is_none())?;
    if old.is_some() {
        retire_legacy(home)?;
        super::remove_stale_temporaries(home);
    }
    Ok(())
}

/// Rename `registry.toml` to `registry.toml.migrated`, durably.
fn retire_legacy(home: &Home) -> anyhow::Result<()> {
    let legacy = home.legacy_registry_path();
    let done = legacy.with_extension("toml.migrated");
    fs::rename(&legacy, &done).map_err(|e| failed(&legacy, "retire", e))?;
    sync_dir(home.root()).map_err(|e| failed(&legacy, "retire", e))?;
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Build `registry.sqlite` holding `reg`: beside it first, synced, then
/// renamed into place.
fn build(home: &Home, reg: &Registry, fresh: bool) -> anyhow::Result<()> {
    let path = home.registry_path();
    let tmp = home.root().join("registry.sqlite.tmp");
    let side = |s: &str| crate::layout::sqlite_side_file(&tmp, s);
    for stale in [tmp.clone(), side("-journal"), side("-wal"), side("-shm")] {
        let _ = fs::remove_file(stale);
    }
    crate::layout::create_new_file(&tmp)?;
    let result = fill(&tmp, reg, fresh).and_then(|_| {
        if side("-wal").exists() {
            return Err(failed(&tmp, "close", "its write-ahead log was left behind"));
        }
        File::open(&tmp).and_then(|f| f.sync_all()).map_err(|e| failed(&tmp, "sync", e))?;
        crate::env::test_pause("registry-migration-built");
        fs::rename(&tmp, &path).map_err(|e| failed(&path, "create", e))?;
        sync_dir(home.root()).map_err(|e| failed(&path, "create", e))
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Write the layout and every record of `reg` into the new file `tmp`, in
/// one transaction, and switch it to WAL (kept in the file).
fn fill(tmp: &Path, reg: &Registry, fresh: bool) -> anyhow::Result<()> {
    let conn = Connection::open_with_flags(tmp, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| failed(tmp, "create", e))?;
    let store = Store { conn, path: tmp.to_path_buf() };
    let w = |e| failed(tmp, "create", e);
    store.conn.pragma_update(None, "synchronous", "FULL").map_err(w)?;
    // Small pages keep a new home's registry small (a dozen pages: about
    // 24 KiB; a record is a few hundred bytes).
    store.conn.pragma_update(None, "page_size", 2048).map_err(w)?;
    store.conn.execute_batch("BEGIN").map_err(w)?;
    store.conn.execute_batch(SCHEMA).map_err(w)?;
    store.conn.pragma_update(None, "user_version", LAYOUT_VERSION).map_err(w)?;
    for e in &reg.databases {
        store.put(e)?;
    }
    for s in &reg.snapshots {
        store.put_snapshot(s)?;
    }
    store.set_meta(EXTRA, &extra_of(reg)?)?;
    // A new home has nothing to sweep: its first full sweep is due in a
    // day. A migrated one is swept in full by its next sweeping write
    // (claims of the old layout lie in `databases/`).
    if fresh {
        store.set_meta(FULL_SWEEP_AT, &crate::ttl::format_time(crate::ttl::now()))?;
    }
    store.conn.execute_batch("COMMIT").map_err(w)?;
    // The journal mode is kept in the file: every later connection is WAL.
    store.conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(w)?;
    // Closing the last connection folds the WAL into the file and removes it.
    store.conn.close().map_err(|(_, e)| failed(tmp, "close", e))?;
    Ok(())
}
