//! The copy engines behind `db fork --with-data`, and what they share: the
//! source side of a copy ([`SourceReader`], pinned at one moment) and the
//! [`Progress`] sink.
//!
//! **Page copy** ([`PageCopy`], the default): the source's pages read
//! through SQLite's pager (`sqlite_dbpage`) and written into the new file
//! as they are; synced in chunks, each sync a checkpoint a resume can
//! start after.
//!
//! **Clone and file copy** (`instant`): the source's file at one moment,
//! as a clone of its extents (`FICLONE`) or copied by the kernel
//! (`copy_file_range`) in resumable chunks; a WAL source's snapshot pages
//! are then written over it from its WAL (`walsnap`). The file-system calls
//! are in `fsclone`.
//!
//! **Row copy** ([`Copier`]): rows go across with `INSERT INTO main.t(rowid, cols…) SELECT … FROM
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

mod cancel;
pub(crate) mod fsclone;
pub(crate) mod instant;
mod pages;
mod rows;
pub(crate) mod walsnap;

pub(crate) use cancel::Cancellable;
pub(crate) use pages::{PageCopy, PageCopyStop};
pub(crate) use rows::{create_tables, finish_journal_mode, plan, prune_orphans, Copier, TablePlan};

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::ffi::CString;
use std::path::Path;

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
    /// How many bytes one counted unit stands for (a page's size, or a
    /// row's average share of the source), so progress can be shown in
    /// bytes.
    fn unit_bytes(&mut self, _bytes: f64) {}
    /// True when the user asked the copy to stop (Ctrl-C). The copy checks
    /// between chunks, keeps what it committed, and returns an
    /// [`Error::CopyStopped`](crate::error::Error::CopyStopped) error.
    fn interrupted(&mut self) -> bool {
        false
    }
}

/// Phase C of a copy built from rows: run `f` in one transaction on the
/// fork, rolled back if it fails, committed if not.
pub(crate) fn in_transaction<T>(conn: &Connection, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    conn.execute_batch("BEGIN")?;
    let out = match f() {
        Ok(v) => v,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    };
    conn.execute_batch("COMMIT").context("could not commit the indexes, views and triggers")?;
    Ok(out)
}

/// The error a copy returns when [`Progress::interrupted`] says stop.
pub(crate) fn interrupted() -> anyhow::Error {
    crate::error::Error::CopyStopped.into()
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
pub(crate) type SnapshotBytes = [u8; 48];

/// The source side of a data copy: where it is, and how its reads stay
/// at one moment.
pub(crate) struct SourceReader {
    /// Holds the read transaction that keeps a WAL snapshot alive.
    pin: Option<Connection>,
    pub snapshot: Option<SnapshotBytes>,
    /// No snapshot can mean "the WAL was empty when pinned" (see
    /// [`SourceReader::pinned_without_snapshot`]): true when SQLite has the
    /// snapshot API (it hands one out whenever the WAL has frames) or the
    /// WAL file was empty when pinned.
    empty_wal_when_unsnapshotted: bool,
}

impl SourceReader {
    /// Pin a snapshot of a WAL source: `conn` must be inside a read
    /// transaction that has already read something. Returns None when the
    /// source is not in WAL mode (the snapshot API needs WAL).
    pub(crate) fn take_snapshot(conn: &Connection) -> Option<SnapshotBytes> {
        let schema = CString::new("main").ok()?;
        let mut snap: *mut rusqlite::ffi::sqlite3_snapshot = std::ptr::null_mut();
        // SAFETY: the handle is a live connection; `snap` is freed below.
        unsafe {
            let rc = crate::sqlite_optional::snapshot_get(conn.handle(), schema.as_ptr(), &mut snap);
            if rc != rusqlite::ffi::SQLITE_OK || snap.is_null() {
                return None;
            }
            let bytes = (*snap).hidden;
            crate::sqlite_optional::snapshot_free(snap);
            Some(bytes)
        }
    }

    /// Start a read transaction on `schema` of `conn` at `snap`. The
    /// connection must be inside BEGIN with no read yet on that schema.
    pub(crate) fn open_snapshot(conn: &Connection, schema: &str, snap: &SnapshotBytes) -> rusqlite::Result<()> {
        let name = CString::new(schema).expect("schema name has no NUL");
        let mut s = rusqlite::ffi::sqlite3_snapshot { hidden: *snap };
        // SAFETY: live handle; SQLite only reads the snapshot struct.
        let rc = unsafe { crate::sqlite_optional::snapshot_open(conn.handle(), name.as_ptr(), &mut s) };
        if rc == rusqlite::ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rc),
                Some("the source snapshot is no longer available".into()),
            ))
        }
    }

    /// Called right after `pin` took its read transaction on `path`.
    pub(crate) fn new(path: &Path, pin: Option<Connection>, snapshot: Option<SnapshotBytes>) -> Self {
        let empty_wal_when_unsnapshotted = crate::sqlite_optional::snapshot_api() || {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            std::fs::metadata(std::path::PathBuf::from(wal)).map_or(true, |m| m.len() == 0)
        };
        SourceReader { pin, snapshot, empty_wal_when_unsnapshotted }
    }

    /// True when a WAL source is pinned but SQLite gave no snapshot (its WAL
    /// was empty): the pin holds WAL read-lock 0, which no checkpoint can
    /// pass, so the main file itself stays as it was at the pinned moment
    /// and other connections may read it as `immutable` (ignoring newer WAL
    /// frames) and still see exactly that moment.
    ///
    /// Without the snapshot API (see `sqlite_optional`) a WAL that has
    /// frames gives no snapshot either: then this is false, and the row
    /// copy reads each page's latest state (best-effort).
    pub(crate) fn pinned_without_snapshot(&self) -> bool {
        self.pin.is_some() && self.snapshot.is_none() && self.empty_wal_when_unsnapshotted
    }

    /// True when the source is pinned: a read transaction is held open, so
    /// every read sees one moment (for the row copy: at the pinned
    /// snapshot, or the main file frozen while the WAL is empty).
    pub(crate) fn pinned(&self) -> bool {
        self.pin.is_some() && (self.snapshot.is_some() || self.empty_wal_when_unsnapshotted)
    }

    /// The connection holding the snapshot's read transaction, if any.
    pub(crate) fn pin_connection(&self) -> Option<&Connection> {
        self.pin.as_ref()
    }

    /// Release the pinned snapshot (end of the copy).
    pub(crate) fn release(&mut self) {
        if let Some(pin) = self.pin.take() {
            let _ = pin.execute_batch("COMMIT");
        }
        self.snapshot = None;
    }
}

/// The file change counter (header bytes 24..28). In rollback-journal mode
/// every commit increments it, so an unchanged counter means no commit.
pub(crate) fn change_counter(path: &Path) -> Option<u32> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = [0u8; 28];
    f.read_exact(&mut h).ok()?;
    Some(u32::from_be_bytes([h[24], h[25], h[26], h[27]]))
}

/// Open the connection a data copy runs on: the fork as `main` with
/// foreign keys off (rows arrive in table order, not dependency order) and
/// a bounded cache, the source attached read-only as `src` (immutable when
/// the source is [`SourceReader::pinned_without_snapshot`]).
pub(crate) fn open_copy_connection(fork_path: &Path, source: &Path, immutable: bool) -> anyhow::Result<Connection> {
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
    let mut uri = crate::schema::source_uri(source);
    // A snapshot never changes: it is always read as immutable.
    if immutable || crate::schema::is_snapshot_file(source) {
        uri.push_str("&immutable=1");
    }
    conn.execute("ATTACH DATABASE ?1 AS src", [uri])
        .with_context(|| format!("could not attach the source {} read-only", source.display()))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_reserved_characters() {
        assert_eq!(crate::schema::source_uri(Path::new("/a b/c?d#e%.db")), "file:/a%20b/c%3Fd%23e%25.db?mode=ro");
    }
}
