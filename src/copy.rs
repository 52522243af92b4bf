//! The paged, resumable row copy behind `db fork --with-data`.
//!
//! Rows go across with `INSERT INTO main.t(rowid, cols…) SELECT … FROM
//! src.t WHERE key > ? ORDER BY key LIMIT n` over one connection that has
//! the fork as `main` and the source attached read-only as `src`; every page
//! is its own transaction. The fork's own content is the checkpoint: the
//! last key copied is the greatest key in the fork's table, so a resumed
//! copy continues exactly after the last committed page and never needs a
//! bookkeeping table.
//!
//! The source is never held locked for more than one page's read:
//! - a WAL source is read from one snapshot (`sqlite3_snapshot_get/open`,
//!   built in through `.cargo/config.toml`): a second connection keeps a read
//!   transaction open so the snapshot survives, which does not block writers
//!   in WAL mode; every page transaction opens that snapshot;
//! - a rollback-journal source is read page by page, each page its own short
//!   read; the file change counter tells whether the source changed during
//!   the copy (the fork is then best-effort and foreign-key orphans are
//!   pruned).

use crate::schema::{quote_ident, Object, SourceSchema};
use anyhow::Context;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OpenFlags};
use std::ffi::CString;
use std::path::{Path, PathBuf};

/// Receives progress from the copy. Core code never draws anything itself.
pub trait Progress {
    /// The copy starts (or resumes) with `done` of `total` rows copied.
    fn start(&mut self, total: u64, done: u64);
    /// A new table begins.
    fn table(&mut self, name: &str);
    /// `rows` more rows were committed.
    fn advance(&mut self, rows: u64);
    /// The copy is over (successfully or not).
    fn finish(&mut self);
    /// What is being counted: "rows" (the default) or "pages".
    fn unit(&mut self, _unit: &'static str) {}
    /// The first `done` pages are written and synced: a resumed copy may
    /// start after them.
    fn durable(&mut self, _done: u64) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A progress sink that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: u64, _: u64) {}
    fn table(&mut self, _: &str) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// A point-in-time WAL snapshot, as the 48 opaque bytes SQLite defines.
pub type SnapshotBytes = [u8; 48];

/// The source side of a data copy: where it is, and how its reads stay
/// consistent.
pub struct SourceReader {
    pub path: PathBuf,
    /// Holds the read transaction that keeps a WAL snapshot alive.
    pin: Option<Connection>,
    pub snapshot: Option<SnapshotBytes>,
}

impl SourceReader {
    /// Pin a snapshot of a WAL source: `conn` must be inside a read
    /// transaction that has already read something. Returns None when the
    /// source is not in WAL mode (the snapshot API needs WAL).
    pub fn take_snapshot(conn: &Connection) -> Option<SnapshotBytes> {
        let schema = CString::new("main").ok()?;
        let mut snap: *mut rusqlite::ffi::sqlite3_snapshot = std::ptr::null_mut();
        // SAFETY: the handle is a live connection; `snap` is freed below.
        unsafe {
            let rc = rusqlite::ffi::sqlite3_snapshot_get(conn.handle(), schema.as_ptr(), &mut snap);
            if rc != rusqlite::ffi::SQLITE_OK || snap.is_null() {
                return None;
            }
            let bytes = (*snap).hidden;
            rusqlite::ffi::sqlite3_snapshot_free(snap);
            Some(bytes)
        }
    }

    /// Start a read transaction on `schema` of `conn` at `snap`. The
    /// connection must be inside BEGIN with no read yet on that schema.
    pub fn open_snapshot(conn: &Connection, schema: &str, snap: &SnapshotBytes) -> rusqlite::Result<()> {
        let name = CString::new(schema).expect("schema name has no NUL");
        let mut s = rusqlite::ffi::sqlite3_snapshot { hidden: *snap };
        // SAFETY: live handle; SQLite only reads the snapshot struct.
        let rc = unsafe { rusqlite::ffi::sqlite3_snapshot_open(conn.handle(), name.as_ptr(), &mut s) };
        if rc == rusqlite::ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rc),
                Some("the source snapshot is no longer available".into()),
            ))
        }
    }

    pub fn new(path: PathBuf, pin: Option<Connection>, snapshot: Option<SnapshotBytes>) -> Self {
        SourceReader { path, pin, snapshot }
    }

    /// True when a WAL source is pinned but SQLite gave no snapshot (its WAL
    /// was empty): the pin holds WAL read-lock 0, which no checkpoint can
    /// pass, so the main file itself is frozen at the pinned moment and
    /// other connections may read it as `immutable` (ignoring newer WAL
    /// frames) and still see exactly that moment.
    pub fn frozen(&self) -> bool {
        self.pin.is_some() && self.snapshot.is_none()
    }

    /// True when every read sees one point in time.
    pub fn consistent(&self) -> bool {
        self.pin.is_some()
    }

    /// The connection holding the snapshot's read transaction, if any.
    pub fn pin_connection(&self) -> Option<&Connection> {
        self.pin.as_ref()
    }

    /// Release the pinned snapshot (end of the copy).
    pub fn release(&mut self) {
        if let Some(pin) = self.pin.take() {
            let _ = pin.execute_batch("COMMIT");
        }
        self.snapshot = None;
    }
}

/// The file change counter (header bytes 24..28). In rollback-journal mode
/// every commit increments it, so an unchanged counter means no commit.
pub fn change_counter(path: &Path) -> Option<u32> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = [0u8; 28];
    f.read_exact(&mut h).ok()?;
    Some(u32::from_be_bytes([h[24], h[25], h[26], h[27]]))
}

// ---------------------------------------------------------------------------
// Page copy: the fast path

/// Why a page copy stopped before the end.
#[derive(Debug)]
pub enum PageCopyStop {
    /// A rollback-journal source was committed to between two chunks: the
    /// pages no longer form one consistent image.
    SourceChanged,
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for PageCopyStop {
    fn from(e: E) -> Self {
        PageCopyStop::Failed(e.into())
    }
}

/// Copies a source's pages, as they are at one point in time, into a new
/// file: page-exact (rowids, free pages, statistics, FTS and R*Tree shadow
/// tables, every header setting), with no SQL replayed and no trigger run.
///
/// Pages are read through SQLite's pager (`sqlite_dbpage`), so a WAL source
/// is read at the snapshot of `conn`'s open read transaction (the caller
/// keeps it open for the whole copy; it does not block writers). A
/// rollback-journal source is read in chunks, each its own short read
/// transaction that first checks the file change counter has not moved.
///
/// The written file is synced before `progress.durable` is told how many
/// pages are safe, so a resumed copy can start after them.
pub struct PageCopy<'a> {
    pub conn: &'a Connection,
    /// True when `conn` holds a read transaction for the whole copy.
    pub pinned: bool,
    /// The change counter every chunk must still see (rollback sources).
    pub change_counter: Option<u32>,
    pub page_size: u64,
    pub page_count: u64,
}

/// Pages per chunk (one short read on a rollback-journal source).
const CHUNK_PAGES: u64 = 2048;
/// Chunks written between syncs (and durable checkpoints for a resume), at
/// most: a copy syncs about eight times in all, so that one killed halfway
/// keeps at least three eighths of its work, whatever the source's size.
const MAX_CHUNKS_PER_SYNC: u64 = 16;
const SYNCS_PER_COPY: u64 = 8;

/// Testing aids (documented in the README): `SQLFORK_TEST_CHUNK_PAGES`
/// shrinks page-copy chunks and `SQLFORK_TEST_DELAY_MS` sleeps after every
/// committed page or chunk (and after every database `db gc` removes), so
/// tests can interrupt a copy or a gc, or change the source halfway through
/// a small database.
fn test_knob(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// Testing aid: `SQLFORK_TEST_PAUSE=POINT:MS[,POINT:MS…]` stops for MS
/// milliseconds at each named point (saying so on stderr first), so a test
/// can cut the power or kill the process at exactly that moment. Points:
/// `fork-registered` (the entry is written, nothing built),
/// `pages-synced` (every page is durable, the entry still provisioning),
/// `healthy` (the entry flipped, success not printed yet),
/// `swap-renamed` (a branch reset's new file is renamed over the branch,
/// the registry not yet saved), `delete-unregistered` (the entry is gone,
/// the files not yet), `registry-synced` (a new registry is written and
/// synced beside the old one, not yet renamed over it).
pub fn test_pause(point: &str) {
    let Ok(spec) = std::env::var("SQLFORK_TEST_PAUSE") else { return };
    for item in spec.split(',') {
        if let Some((p, ms)) = item.split_once(':') {
            if p == point {
                if let Ok(ms) = ms.parse() {
                    eprintln!("sqlfork test: paused at {point}");
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
            }
        }
    }
}

pub fn test_delay() {
    if let Some(ms) = test_knob("SQLFORK_TEST_DELAY_MS") {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

impl PageCopy<'_> {
    /// Copy pages `done+1..=page_count` into `file`. Returns pages copied.
    pub fn run(&self, file: &std::fs::File, mut done: u64, progress: &mut dyn Progress) -> Result<u64, PageCopyStop> {
        use std::os::unix::fs::FileExt;
        let mut stmt = self.conn.prepare("SELECT pgno, data FROM main.sqlite_dbpage WHERE pgno > ?1 LIMIT ?2")?;
        let chunk_pages = test_knob("SQLFORK_TEST_CHUNK_PAGES").unwrap_or(CHUNK_PAGES).max(1);
        let chunks = self.page_count.div_ceil(chunk_pages);
        let chunks_per_sync = (chunks / SYNCS_PER_COPY).clamp(1, MAX_CHUNKS_PER_SYNC);
        let mut unsynced = 0u64;
        while done < self.page_count {
            if !self.pinned {
                self.conn.execute_batch("BEGIN")?;
                let page1: Vec<u8> =
                    self.conn.query_row("SELECT data FROM main.sqlite_dbpage WHERE pgno = 1", [], |r| r.get(0))?;
                let counter = page1.get(24..28).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                if counter != self.change_counter {
                    let _ = self.conn.execute_batch("COMMIT");
                    return Err(PageCopyStop::SourceChanged);
                }
            }
            let want = chunk_pages.min(self.page_count - done);
            let mut rows = stmt.query([done as i64, want as i64])?;
            let mut n = 0u64;
            while let Some(r) = rows.next()? {
                let pgno: i64 = r.get(0)?;
                let data = r.get_ref(1)?.as_blob()?;
                if data.len() as u64 != self.page_size {
                    return Err(anyhow::anyhow!(
                        "page {pgno} of the source has {} bytes, not {}",
                        data.len(),
                        self.page_size
                    )
                    .into());
                }
                file.write_all_at(data, (pgno as u64 - 1) * self.page_size)
                    .map_err(|e| anyhow::Error::new(e).context("could not write the fork"))?;
                n += 1;
            }
            drop(rows);
            if !self.pinned {
                self.conn.execute_batch("COMMIT")?;
            }
            if n == 0 {
                return Err(anyhow::anyhow!(
                    "the source ended at page {done}, before its page count {}",
                    self.page_count
                )
                .into());
            }
            done += n;
            unsynced += 1;
            progress.advance(n);
            test_delay();
            if unsynced >= chunks_per_sync {
                file.sync_data().map_err(|e| anyhow::Error::new(e).context("could not sync the fork"))?;
                progress.durable(done)?;
                unsynced = 0;
            }
        }
        file.sync_all().map_err(|e| anyhow::Error::new(e).context("could not sync the fork"))?;
        progress.durable(done)?;
        Ok(done)
    }
}

/// How a table's rows are ordered and addressed.
#[derive(Debug, Clone)]
enum Key {
    /// A rowid table: order by this spelling of the rowid.
    Rowid(String),
    /// A WITHOUT ROWID table: its primary key columns, in declared order,
    /// direction and collation.
    Primary(Vec<KeyColumn>),
    /// A rowid table whose rowid SQL cannot reach (every alias is a column
    /// name and there is no INTEGER PRIMARY KEY): copied in one statement.
    Unreachable,
}

#[derive(Debug, Clone)]
struct KeyColumn {
    name: String,
    desc: bool,
    collation: String,
}

/// One table's copy plan.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub name: String,
    columns: Vec<String>,
    key: Key,
}

/// Work out how to copy every table with rows of its own: real tables and
/// virtual tables' shadow tables, not virtual tables themselves nor SQLite's
/// internal tables (those are copied separately).
pub fn plan(conn: &Connection, schema: &SourceSchema) -> anyhow::Result<Vec<TablePlan>> {
    let mut plans = Vec::new();
    for obj in schema.objects.iter().filter(|o| o.kind == crate::schema::Kind::Table) {
        if obj.is_virtual() || obj.is_internal() {
            continue;
        }
        plans.push(plan_table(conn, obj).with_context(|| format!("could not plan the copy of table `{}`", obj.name))?);
    }
    Ok(plans)
}

fn plan_table(conn: &Connection, obj: &Object) -> anyhow::Result<TablePlan> {
    let t = quote_ident(&obj.name);
    // hidden: 0 normal, 1 hidden (virtual tables), 2/3 generated columns —
    // only normal columns can be inserted.
    let mut columns = Vec::new();
    let mut names = Vec::new();
    {
        let mut stmt = conn.prepare(&format!("PRAGMA main.table_xinfo({t})"))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let name: String = r.get(1)?;
            let hidden: i64 = r.get(6)?;
            names.push(name.to_ascii_lowercase());
            if hidden == 0 {
                columns.push(name);
            }
        }
    }
    let without_rowid: bool = conn
        .query_row("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1", [&obj.name], |r| {
            r.get::<_, i64>(0)
        })
        .map(|v| v != 0)?;
    let key = if without_rowid {
        Key::Primary(primary_key(conn, &obj.name)?)
    } else {
        match ["_rowid_", "rowid", "oid"].iter().find(|a| !names.contains(&a.to_string())) {
            Some(alias) => Key::Rowid(alias.to_string()),
            None => match integer_primary_key(conn, &obj.name)? {
                Some(col) => Key::Rowid(col),
                None => Key::Unreachable,
            },
        }
    };
    Ok(TablePlan { name: obj.name.clone(), columns, key })
}

/// The key columns of a WITHOUT ROWID table's primary key.
fn primary_key(conn: &Connection, table: &str) -> anyhow::Result<Vec<KeyColumn>> {
    let index: String = conn.query_row(
        &format!("SELECT name FROM pragma_index_list({}) WHERE origin = 'pk'", sql_string(table)),
        [],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT name, desc, coll FROM pragma_index_xinfo({}) WHERE key = 1 ORDER BY seqno",
        sql_string(&index)
    ))?;
    let cols = stmt
        .query_map([], |r| Ok(KeyColumn { name: r.get(0)?, desc: r.get::<_, i64>(1)? != 0, collation: r.get(2)? }))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols)
}

/// The INTEGER PRIMARY KEY column of a rowid table, if it has one.
fn integer_primary_key(conn: &Connection, table: &str) -> anyhow::Result<Option<String>> {
    let mut stmt = conn.prepare(&format!("SELECT name, type, pk FROM pragma_table_info({})", sql_string(table)))?;
    let pks: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?)))?
        .filter_map(|r| r.ok())
        .filter(|(_, _, pk)| *pk > 0)
        .map(|(n, t, _)| (n, t))
        .collect();
    Ok(match pks.as_slice() {
        [(name, ty)] if ty.eq_ignore_ascii_case("INTEGER") => Some(name.clone()),
        _ => None,
    })
}

/// A string literal for SQL.
pub fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl TablePlan {
    fn column_list(&self, with_key: bool) -> String {
        let mut cols: Vec<String> = Vec::new();
        if with_key {
            if let Key::Rowid(alias) = &self.key {
                cols.push(quote_ident(alias));
            }
        }
        cols.extend(self.columns.iter().map(|c| quote_ident(c)));
        cols.join(", ")
    }

    fn order_by(&self) -> String {
        match &self.key {
            Key::Rowid(alias) => quote_ident(alias),
            Key::Primary(cols) => cols
                .iter()
                .map(|c| format!("{} COLLATE {} {}", quote_ident(&c.name), quote_ident(&c.collation), dir(c.desc)))
                .collect::<Vec<_>>()
                .join(", "),
            Key::Unreachable => String::new(),
        }
    }

    /// The reverse order: the first row is the last one copied.
    fn order_by_reversed(&self) -> String {
        match &self.key {
            Key::Rowid(alias) => format!("{} DESC", quote_ident(alias)),
            Key::Primary(cols) => cols
                .iter()
                .map(|c| format!("{} COLLATE {} {}", quote_ident(&c.name), quote_ident(&c.collation), dir(!c.desc)))
                .collect::<Vec<_>>()
                .join(", "),
            Key::Unreachable => String::new(),
        }
    }

    fn key_columns(&self) -> Vec<String> {
        match &self.key {
            Key::Rowid(alias) => vec![quote_ident(alias)],
            Key::Primary(cols) => cols.iter().map(|c| quote_ident(&c.name)).collect(),
            Key::Unreachable => vec![],
        }
    }

    /// `key > last` in the table's order, with parameters ?1..?n holding
    /// the last key. For a multi-column key the first column also gets a
    /// plain range bound so that the primary-key index is used.
    fn after_last(&self) -> String {
        match &self.key {
            Key::Rowid(alias) => format!("{} > ?1", quote_ident(alias)),
            Key::Primary(cols) => {
                let cmp = |c: &KeyColumn, i: usize, strict: bool| {
                    let op = match (c.desc, strict) {
                        (false, true) => ">",
                        (false, false) => ">=",
                        (true, true) => "<",
                        (true, false) => "<=",
                    };
                    format!("{} COLLATE {} {op} ?{}", quote_ident(&c.name), quote_ident(&c.collation), i + 1)
                };
                let mut alternatives = Vec::new();
                for (i, c) in cols.iter().enumerate() {
                    let mut terms: Vec<String> = cols[..i]
                        .iter()
                        .enumerate()
                        .map(|(j, p)| {
                            format!("{} = ?{} COLLATE {}", quote_ident(&p.name), j + 1, quote_ident(&p.collation))
                        })
                        .collect();
                    terms.push(cmp(c, i, true));
                    alternatives.push(format!("({})", terms.join(" AND ")));
                }
                if cols.len() > 1 {
                    format!("{} AND ({})", cmp(&cols[0], 0, false), alternatives.join(" OR "))
                } else {
                    alternatives.join("")
                }
            }
            Key::Unreachable => "1".into(),
        }
    }
}

fn dir(desc: bool) -> &'static str {
    if desc {
        "DESC"
    } else {
        "ASC"
    }
}

/// Copies pages of rows from `src` into `main` over one connection.
pub struct Copier<'a> {
    conn: &'a Connection,
    source: &'a SourceReader,
    page_rows: u64,
}

impl<'a> Copier<'a> {
    pub fn new(conn: &'a Connection, source: &'a SourceReader, page_rows: u64) -> Self {
        Copier { conn, source, page_rows }
    }

    pub fn connection(&self) -> &Connection {
        self.conn
    }

    /// Begin a page transaction that reads the source at the pinned
    /// snapshot (when there is one).
    pub fn begin(&self) -> anyhow::Result<()> {
        self.conn.execute_batch("BEGIN")?;
        if let Some(snap) = &self.source.snapshot {
            if let Err(e) = SourceReader::open_snapshot(self.conn, "src", snap) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e).context("could not read the source at its snapshot");
            }
        }
        Ok(())
    }

    pub fn commit(&self) -> anyhow::Result<()> {
        self.conn.execute_batch("COMMIT").context("could not commit a page to the fork")?;
        Ok(())
    }

    pub fn rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Rows of `plan` already in the fork (a resumed copy).
    pub fn rows_in_fork(&self, plan: &TablePlan) -> anyhow::Result<u64> {
        let n: i64 =
            self.conn.query_row(&format!("SELECT count(*) FROM main.{}", quote_ident(&plan.name)), [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The last key copied into the fork, or None when the table is empty.
    fn last_key(&self, plan: &TablePlan) -> anyhow::Result<Option<Vec<Value>>> {
        let cols = plan.key_columns();
        let sql = format!(
            "SELECT {} FROM main.{} ORDER BY {} LIMIT 1",
            cols.join(", "),
            quote_ident(&plan.name),
            plan.order_by_reversed()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([])?;
        match rows.next()? {
            Some(r) => Ok(Some((0..cols.len()).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<_>>()?)),
            None => Ok(None),
        }
    }

    /// Copy every remaining row of one table, page by page.
    pub fn copy_table(&self, plan: &TablePlan, progress: &mut dyn Progress) -> anyhow::Result<u64> {
        let t = quote_ident(&plan.name);
        if matches!(plan.key, Key::Unreachable) {
            // Nothing to page by: one statement, and only if not done yet.
            self.begin()?;
            let done = self.rows_in_fork(plan)? > 0;
            let n = if done {
                0
            } else {
                let cols = plan.column_list(false);
                self.conn.execute(&format!("INSERT INTO main.{t}({cols}) SELECT {cols} FROM src.{t}"), [])? as u64
            };
            self.commit()?;
            progress.advance(n);
            return Ok(n);
        }
        let cols = plan.column_list(true);
        let first =
            format!("INSERT INTO main.{t}({cols}) SELECT {cols} FROM src.{t} ORDER BY {} LIMIT ?1", plan.order_by());
        let key_count = plan.key_columns().len();
        let next = format!(
            "INSERT INTO main.{t}({cols}) SELECT {cols} FROM src.{t} WHERE {} ORDER BY {} LIMIT ?{}",
            plan.after_last(),
            plan.order_by(),
            key_count + 1
        );
        let mut total = 0u64;
        let mut last = self.last_key(plan)?;
        loop {
            self.begin()?;
            let result = (|| -> anyhow::Result<u64> {
                let n = match &last {
                    None => self.conn.prepare_cached(&first)?.execute([self.page_rows as i64])?,
                    Some(key) => {
                        let mut params: Vec<Value> = key.clone();
                        params.push(Value::Integer(self.page_rows as i64));
                        self.conn.prepare_cached(&next)?.execute(params_from_iter(params))?
                    }
                };
                Ok(n as u64)
            })();
            let n = match result {
                Ok(n) => n,
                Err(e) => {
                    self.rollback();
                    return Err(e.context(format!("could not copy rows of table `{}`", plan.name)));
                }
            };
            if n > 0 {
                last = self.last_key(plan)?;
            }
            self.commit()?;
            total += n;
            progress.advance(n);
            test_delay();
            if n < self.page_rows {
                return Ok(total);
            }
        }
    }
}

/// Delete rows whose foreign keys point at a parent row the fork does not
/// have, until none are left (a deleted row can orphan its own children).
/// Foreign-key enforcement and triggers must be off. Returns rows deleted.
pub fn prune_orphans(conn: &Connection) -> anyhow::Result<u64> {
    let mut pruned = 0u64;
    for _round in 0..64 {
        let orphans: Vec<(String, Option<i64>, i64)> = {
            let mut stmt = conn.prepare("PRAGMA main.foreign_key_check")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(3)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if orphans.is_empty() {
            return Ok(pruned);
        }
        let mut by_key: Vec<(String, i64)> = Vec::new();
        for (table, rowid, fkid) in &orphans {
            match rowid {
                Some(id) => {
                    pruned += conn
                        .execute(&format!("DELETE FROM main.{} WHERE _rowid_ = ?1", quote_ident(table)), [id])?
                        as u64;
                }
                None => {
                    if !by_key.contains(&(table.clone(), *fkid)) {
                        by_key.push((table.clone(), *fkid));
                    }
                }
            }
        }
        // WITHOUT ROWID children: foreign_key_check gives no rowid; delete
        // by the foreign key itself.
        for (table, fkid) in by_key {
            pruned += delete_orphans_by_key(conn, &table, fkid)?;
        }
    }
    anyhow::bail!("foreign-key orphans remained after 64 pruning rounds")
}

fn delete_orphans_by_key(conn: &Connection, table: &str, fkid: i64) -> anyhow::Result<u64> {
    let mut stmt = conn.prepare(&format!(
        "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list({}) WHERE id = ?1 ORDER BY seq",
        sql_string(table)
    ))?;
    let cols: Vec<(String, String, Option<String>)> =
        stmt.query_map([fkid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    let Some((parent, _, _)) = cols.first().cloned() else { return Ok(0) };
    let parent_cols: Vec<String> = if cols.iter().all(|(_, _, to)| to.is_some()) {
        cols.iter().map(|(_, _, to)| to.clone().unwrap_or_default()).collect()
    } else {
        let mut s = conn.prepare(&format!(
            "SELECT name FROM pragma_table_info({}) WHERE pk > 0 ORDER BY pk",
            sql_string(&parent)
        ))?;
        let cols = s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        cols
    };
    let not_null: Vec<String> =
        cols.iter().map(|(_, from, _)| format!("c.{} IS NOT NULL", quote_ident(from))).collect();
    let matches: Vec<String> = cols
        .iter()
        .zip(&parent_cols)
        .map(|((_, from, _), to)| format!("p.{} = c.{}", quote_ident(to), quote_ident(from)))
        .collect();
    let sql = format!(
        "DELETE FROM main.{t} AS c WHERE {nn} AND NOT EXISTS (SELECT 1 FROM main.{p} AS p WHERE {m})",
        t = quote_ident(table),
        p = quote_ident(&parent),
        nn = not_null.join(" AND "),
        m = matches.join(" AND ")
    );
    Ok(conn.execute(&sql, [])? as u64)
}

/// Open the connection a data copy runs on: the fork as `main` with
/// foreign keys off (rows arrive in table order, not dependency order) and
/// a bounded cache, the source attached read-only as `src` (immutable when
/// the source is [`SourceReader::frozen`]).
pub fn open_copy_connection(fork_path: &Path, source: &Path, frozen: bool) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        fork_path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .with_context(|| format!("could not open {}", fork_path.display()))?;
    crate::schema::harden(&conn)?;
    // foreign_keys is a no-op inside a transaction: set it first.
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; PRAGMA recursive_triggers = OFF; PRAGMA cache_size = -16384; PRAGMA threads = 0;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mut uri = source_uri(source);
    if frozen {
        uri.push_str("&immutable=1");
    }
    conn.execute("ATTACH DATABASE ?1 AS src", [uri])
        .with_context(|| format!("could not attach the source {} read-only", source.display()))?;
    Ok(conn)
}

/// A read-only URI for a path, with the characters URIs reserve escaped.
pub fn source_uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match *b {
            b'?' | b'#' | b'%' | b'&' | b'=' | b' ' | 0x80..=0xff | 0..=0x1f => out.push_str(&format!("%{b:02X}")),
            c => out.push(c as char),
        }
    }
    out.push_str("?mode=ro");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_reserved_characters() {
        assert_eq!(source_uri(Path::new("/a b/c?d#e%.db")), "file:/a%20b/c%3Fd%23e%25.db?mode=ro");
    }

    #[test]
    fn keyset_predicate_respects_direction() {
        let plan = TablePlan {
            name: "t".into(),
            columns: vec!["a".into(), "b".into()],
            key: Key::Primary(vec![
                KeyColumn { name: "a".into(), desc: false, collation: "BINARY".into() },
                KeyColumn { name: "b".into(), desc: true, collation: "NOCASE".into() },
            ]),
        };
        let p = plan.after_last();
        assert!(p.starts_with("\"a\" COLLATE \"BINARY\" >= ?1 AND"), "{p}");
        assert!(p.contains("(\"a\" = ?1 COLLATE \"BINARY\" AND \"b\" COLLATE \"NOCASE\" < ?2)"), "{p}");
        assert_eq!(plan.order_by(), "\"a\" COLLATE \"BINARY\" ASC, \"b\" COLLATE \"NOCASE\" DESC");
    }
}
