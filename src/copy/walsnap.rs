//! One moment of a SQLite database, taken under SQLite's own locking, and
//! the pages that make a copy of its main file into exactly that moment.
//!
//! Rollback-journal source: a read transaction holds SQLite's SHARED lock,
//! under which no writer may touch the main file; the file change counter
//! (header bytes 24..28) names the moment.
//!
//! WAL source: a read transaction pins a snapshot `(salts, mxFrame)` of the
//! write-ahead log. sqlfork finds that snapshot without the snapshot API
//! (`SQLITE_ENABLE_SNAPSHOT`): it reads the wal-index header in the `-shm`
//! file before and after the transaction's first read; when both reads
//! agree (both header copies equal, checksum right, same salts and
//! `mxFrame`), the header did not move while the reader chose its snapshot,
//! so it is that snapshot. While the transaction is open:
//! - no checkpoint backfills past the reader's mark (≤ `mxFrame`), so any
//!   page a checkpointer writes into the main file meanwhile is in a WAL
//!   frame ≤ `mxFrame`;
//! - the WAL cannot restart (new salts, frames overwritten from 1) while the
//!   reader holds a mark above 0; a reader on mark 0 has every frame already
//!   in the main file, and no checkpoint can write the main file at all.
//!
//! So a copy of the main file taken inside the transaction, overwritten with
//! the latest version ≤ `mxFrame` of every page in the WAL (read from the
//! `-wal` file itself, no `sqlite_dbpage` needed) and cut to the snapshot's
//! page count, is exactly the snapshot. If the WAL did restart under a
//! mark-0 reader, the overwritten pages are taken from the main file again.

use crate::copy::fsclone::RangeCopier;
use rusqlite::Connection;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A path with a suffix appended (`-wal`, `-shm`).
pub(crate) fn side_file(db: &Path, suffix: &str) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// The first 48-byte copy of the wal-index header in `-shm`, with the
/// checkpointer's progress (`nBackfill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexHeader {
    /// Bumped by every write transaction.
    pub(crate) change: u32,
    /// Frames in the WAL that belong to committed transactions.
    pub(crate) mx_frame: u32,
    /// The database's size in pages as of `mx_frame`.
    pub(crate) n_page: u32,
    /// The WAL's salts (raw bytes, as in the WAL file): new at every restart.
    pub(crate) salt: [u8; 8],
    pub(crate) page_size: u32,
    /// Frames already copied back into the main file.
    pub(crate) backfilled: u32,
}

const HDR: usize = 48;

/// Read the wal-index header. `None` when there is no usable header (no
/// `-shm`, not initialised yet, or caught mid-write: the two copies differ).
pub(crate) fn read_index_header(shm: &File) -> io::Result<Option<IndexHeader>> {
    let mut b = [0u8; 136];
    let n = shm.read_at(&mut b, 0)?;
    if n < b.len() {
        return Ok(None);
    }
    // SQLite writes copy 2 then copy 1; a reader reads copy 1 then copy 2
    // (read_at copies in ascending order) and trusts them only when equal.
    if b[..HDR] != b[HDR..2 * HDR] {
        return Ok(None);
    }
    let u32_at = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let is_init = b[12];
    let big_end_cksum = b[13] != 0;
    if is_init == 0 || u32_at(0) != 3007000 {
        return Ok(None);
    }
    let want = [u32_at(40), u32_at(44)];
    if checksum(&b[..40], big_end_cksum) != want {
        return Ok(None);
    }
    let sz = u16::from_ne_bytes([b[14], b[15]]) as u32;
    let page_size = if sz == 1 { 65536 } else { sz };
    let mut salt = [0u8; 8];
    salt.copy_from_slice(&b[32..40]);
    Ok(Some(IndexHeader {
        change: u32_at(8),
        mx_frame: u32_at(16),
        n_page: u32_at(20),
        salt,
        page_size,
        backfilled: u32_at(96),
    }))
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), in the byte
/// order the header says it was computed in.
fn checksum(data: &[u8], big_endian: bool) -> [u32; 2] {
    let (mut s1, mut s2) = (0u32, 0u32);
    let word = |c: &[u8]| {
        let w = [c[0], c[1], c[2], c[3]];
        if big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    };
    for pair in data.chunks_exact(8) {
        s1 = s1.wrapping_add(word(&pair[..4])).wrapping_add(s2);
        s2 = s2.wrapping_add(word(&pair[4..])).wrapping_add(s1);
    }
    [s1, s2]
}

/// One moment of a source, held by an open read transaction on `conn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moment {
    /// Rollback journal: SHARED lock held; the file change counter.
    Rollback { change_counter: u32 },
    /// WAL: the snapshot's index header.
    Wal(IndexHeader),
}

/// Why no moment could be pinned.
#[derive(Debug)]
pub(crate) enum PinError {
    /// The source could not be read (locked, hot journal, not a database):
    /// the caller reports it as it reports any source error.
    Sqlite(rusqlite::Error),
    /// The WAL's index could not be read, or writers moved it every time:
    /// another method must copy this source.
    NoSnapshot(String),
    Io(io::Error),
}

impl From<rusqlite::Error> for PinError {
    fn from(e: rusqlite::Error) -> Self {
        PinError::Sqlite(e)
    }
}

impl From<io::Error> for PinError {
    fn from(e: io::Error) -> Self {
        PinError::Io(e)
    }
}

/// The source's files as sqlfork itself reads them.
///
/// POSIX record locks belong to the process, and closing ANY descriptor of
/// a file drops all of the process's locks on it — SQLite's included: a
/// `File::open(db)` closed while a read transaction is open would silently
/// release its SHARED lock (rollback journal) or its WAL read mark and the
/// `-shm` "dead man switch" (WAL), letting writers, checkpointers and WAL
/// restarts through. So sqlfork opens each file once, and closes it only
/// after the SQLite connection is closed (declare it after the connection).
pub(crate) struct Held {
    pub(crate) main: File,
    pub(crate) shm: Option<File>,
}

impl Held {
    pub(crate) fn open(db: &Path) -> io::Result<Held> {
        Ok(Held { main: File::open(db)?, shm: None })
    }
}

/// How many times to try pinning a WAL snapshot while writers commit.
const PIN_TRIES: u32 = 200;

/// Begin a read transaction on `conn` (a read-only connection to `db`, not
/// in a transaction) and say which moment it reads. The transaction stays
/// open: end it with `COMMIT` when the copy no longer needs the moment.
/// `held` must outlive `conn` (see [`Held`]).
pub(crate) fn pin(conn: &Connection, db: &Path, held: &mut Held, wal: bool) -> Result<Moment, PinError> {
    if !wal {
        conn.execute_batch("BEGIN")?;
        let read = conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |_| Ok(()));
        if let Err(e) = read {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        // Under SHARED no writer can change the file: read the counter.
        // (A zero-byte file is an empty database: counter 0.)
        let mut h = [0u8; 4];
        let counter = match held.main.read_exact_at(&mut h, 24) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(()),
            r => r,
        };
        if let Err(e) = counter {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        return Ok(Moment::Rollback { change_counter: u32::from_be_bytes(h) });
    }
    // One read in autocommit first: it opens the WAL and, if nobody had the
    // database open, rebuilds the wal-index, so the header below is live.
    conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |_| Ok(()))?;
    if held.shm.is_none() {
        held.shm = Some(
            File::open(side_file(db, "-shm"))
                .map_err(|e| PinError::NoSnapshot(format!("could not read the source's wal-index (-shm): {e}")))?,
        );
    }
    let shm = held.shm.as_ref().expect("opened above");
    for attempt in 0..PIN_TRIES {
        let before = read_index_header(shm)?;
        conn.execute_batch("BEGIN")?;
        if let Err(e) = conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |_| Ok(())) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        let after = read_index_header(shm)?;
        match (before, after) {
            (Some(a), Some(b)) if same_snapshot(&a, &b) => return Ok(Moment::Wal(b)),
            _ => {
                conn.execute_batch("COMMIT")?;
                if attempt > 20 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
    }
    Err(PinError::NoSnapshot(format!(
        "writers moved the source's WAL during each of {PIN_TRIES} tries to pin a snapshot"
    )))
}

/// The header moved only in what a checkpoint changes (`nBackfill`): the
/// snapshot is the same.
fn same_snapshot(a: &IndexHeader, b: &IndexHeader) -> bool {
    a.change == b.change && a.mx_frame == b.mx_frame && a.salt == b.salt && a.n_page == b.n_page
}

/// The WAL's salts now. A header caught mid-write (a commit right now) is
/// read again: only a header that reads whole says anything.
pub(crate) fn current_salt(shm: &File) -> io::Result<[u8; 8]> {
    for _ in 0..10_000 {
        if let Some(h) = read_index_header(shm)? {
            return Ok(h.salt);
        }
        std::thread::yield_now();
    }
    Err(io::Error::other("the source's wal-index header never read whole"))
}

/// What an overlay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Overlay {
    /// Pages written over the copy from WAL frames.
    pub(crate) pages: u64,
    /// The WAL restarted while it was read (a mark-0 reader): the pages were
    /// taken from the main file again.
    pub(crate) restarted: bool,
}

const WAL_HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;

/// Make `fork` (a copy of `db`'s main file taken inside the transaction
/// that pinned `snap`) exactly the snapshot: write every page's latest
/// frame ≤ `mx_frame` over it, cut it to `page_count` pages and fix the
/// header's size fields. Call it with the transaction still open.
/// (`page_size` comes from the connection: an index header of an empty WAL
/// has none.)
pub(crate) fn overlay(
    db: &Path,
    held: &Held,
    snap: &IndexHeader,
    page_count: u64,
    page_size: u64,
    fork: &File,
) -> io::Result<Overlay> {
    let ps = page_size;
    let mut out = Overlay::default();
    if snap.mx_frame > 0 {
        let wal = File::open(side_file(db, "-wal"))?;
        let mut latest: HashMap<u32, u32> = HashMap::new();
        let mut fh = [0u8; FRAME_HEADER as usize];
        for frame in 1..=snap.mx_frame {
            let at = WAL_HEADER + (frame as u64 - 1) * (FRAME_HEADER + ps);
            wal.read_exact_at(&mut fh, at)?;
            if fh[8..16] != snap.salt {
                out.restarted = true;
                break;
            }
            let pgno = u32::from_be_bytes([fh[0], fh[1], fh[2], fh[3]]);
            if pgno as u64 <= page_count && pgno > 0 {
                latest.insert(pgno, frame);
            }
        }
        let mut pages: Vec<(u32, u32)> = latest.into_iter().collect();
        pages.sort_unstable();
        let mut buf = vec![0u8; ps as usize];
        if !out.restarted {
            for &(pgno, frame) in &pages {
                let at = WAL_HEADER + (frame as u64 - 1) * (FRAME_HEADER + ps) + FRAME_HEADER;
                wal.read_exact_at(&mut buf, at)?;
                fork.write_all_at(&buf, (pgno as u64 - 1) * ps)?;
                out.pages += 1;
            }
            // A restart after the scan may have overwritten frames as they
            // were read: look again.
            let shm = held.shm.as_ref().ok_or_else(|| io::Error::other("the wal-index is not open"))?;
            out.restarted = current_salt(shm)? != snap.salt;
        }
        if out.restarted {
            // Only a mark-0 reader lets the WAL restart, and then every frame
            // of its snapshot was in the main file, which nothing may write
            // until it ends: take the pages from there.
            let main = &held.main;
            let mut mover = RangeCopier::default();
            for &(pgno, _) in &pages {
                let at = (pgno as u64 - 1) * ps;
                if at + ps <= main.metadata()?.len() {
                    mover.copy(main, fork, at, ps)?;
                }
            }
            out.pages = 0;
        }
    }
    fork.set_len(page_count * ps)?;
    fix_header(fork, page_count)?;
    Ok(out)
}

/// Header bytes 28..32 (database size in pages) and 92..96 (the change
/// counter it is valid for): a file without its WAL needs them right.
pub(crate) fn fix_header(fork: &File, page_count: u64) -> io::Result<()> {
    if page_count == 0 {
        return Ok(());
    }
    let mut h = [0u8; 100];
    fork.read_exact_at(&mut h, 0)?;
    let size = (page_count as u32).to_be_bytes();
    let counter = [h[24], h[25], h[26], h[27]];
    if h[28..32] != size || h[92..96] != counter {
        fork.write_all_at(&size, 28)?;
        fork.write_all_at(&counter, 92)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::OpenFlags;

    fn rows(path: &Path) -> Vec<(i64, String)> {
        let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut s = c.prepare("SELECT id, v FROM t ORDER BY id").unwrap();
        let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
        r
    }

    fn integrity(path: &Path) -> String {
        let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
    }

    fn reader(db: &Path) -> Connection {
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
    }

    /// Copy the main file and overlay it, inside the pinned transaction.
    fn snapshot_copy(db: &Path, conn: &Connection, held: &mut Held, out: &Path, between: impl FnOnce()) -> Overlay {
        let Moment::Wal(snap) = pin(conn, db, held, true).unwrap() else { panic!("a WAL source") };
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        between();
        let fork = File::options().create(true).truncate(true).read(true).write(true).open(out).unwrap();
        let src = &held.main;
        RangeCopier::default().copy(src, &fork, 0, src.metadata().unwrap().len()).unwrap();
        let o = overlay(db, held, &snap, pages as u64, page_size as u64, &fork).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        o
    }

    #[test]
    fn checksum_matches_sqlites_header() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let w = Connection::open(&db).unwrap();
        w.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1,'a');",
        )
        .unwrap();
        let h = read_index_header(&File::open(side_file(&db, "-shm")).unwrap()).unwrap().expect("a valid header");
        assert!(h.mx_frame >= 2, "{h:?}");
        assert_eq!(h.page_size, 4096);
        assert_eq!(h.n_page, 2);
    }

    #[test]
    fn a_copy_overlaid_at_the_snapshot_is_the_snapshot_while_a_writer_and_a_checkpointer_run() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let w = Connection::open(&db).unwrap();
        w.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 3000)
             INSERT INTO t SELECT i, printf('%.200c', char(65 + i % 26)) FROM n;
             PRAGMA wal_checkpoint(TRUNCATE);
             UPDATE t SET v = 'changed ' || id WHERE id % 7 = 0;",
        )
        .unwrap();
        let want = rows(&db);
        let mut held = Held::open(&db).unwrap();
        let conn = reader(&db);
        let out = dir.path().join("fork.db");
        // Between pinning and copying: commits that grow and change the
        // table, and a checkpoint that backfills what it may into the main
        // file (the frames up to our snapshot).
        let o = snapshot_copy(&db, &conn, &mut held, &out, || {
            w.execute_batch(
                "UPDATE t SET v = 'later' WHERE id % 3 = 0;
                 WITH RECURSIVE n(i) AS (SELECT 3001 UNION ALL SELECT i+1 FROM n WHERE i < 6000)
                 INSERT INTO t SELECT i, 'new' FROM n;",
            )
            .unwrap();
            let (busy, _, done): (i64, i64, i64) =
                w.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
            assert_eq!(busy, 0);
            assert!(done > 0, "the checkpoint backfilled the frames up to the snapshot");
        });
        assert!(o.pages > 0 && !o.restarted, "{o:?}");
        assert!(!side_file(&out, "-wal").exists());
        assert_eq!(integrity(&out), "ok");
        assert_eq!(rows(&out), want, "the fork is the snapshot, not the later commits");
    }

    #[test]
    fn a_restart_under_a_mark_0_reader_takes_the_pages_from_the_main_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let w = Connection::open(&db).unwrap();
        w.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO t VALUES (1, 'one'), (2, 'two'); PRAGMA wal_checkpoint(PASSIVE);",
        )
        .unwrap();
        let want = rows(&db);
        let mut held = Held::open(&db).unwrap();
        let conn = reader(&db);
        let out = dir.path().join("fork.db");
        // Everything is backfilled: the reader takes mark 0 and the next
        // writer restarts the WAL, overwriting frames from 1.
        let o = snapshot_copy(&db, &conn, &mut held, &out, || {
            w.execute_batch("UPDATE t SET v = 'restarted'; INSERT INTO t VALUES (3, 'three');").unwrap();
        });
        assert!(o.restarted, "{o:?}");
        assert_eq!(integrity(&out), "ok");
        assert_eq!(rows(&out), want);
    }

    #[test]
    fn a_rollback_source_is_pinned_under_shared_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let w = Connection::open(&db).unwrap();
        w.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a');").unwrap();
        let mut held = Held::open(&db).unwrap();
        let conn = reader(&db);
        let Moment::Rollback { change_counter } = pin(&conn, &db, &mut held, false).unwrap() else { panic!() };
        assert!(change_counter > 0);
        w.busy_timeout(std::time::Duration::from_millis(50)).unwrap();
        assert!(w.execute("INSERT INTO t VALUES (2, 'b')", []).is_err(), "a writer waits for the shared lock");
        conn.execute_batch("COMMIT").unwrap();
        w.execute("INSERT INTO t VALUES (2, 'b')", []).unwrap();
    }
}
