//! The `clone` and `file` copy methods: a data fork that costs what the
//! file system charges for a copy of the source's file.
//!
//! - `clone`: the fork shares the source's extents (`FICLONE`), taken inside
//!   one read transaction on the source ([`walsnap::pin`]): a
//!   rollback-journal source is cloned under SQLite's SHARED lock, held only
//!   for the clone; a WAL source's main file is cloned inside a read
//!   transaction, then the pages its snapshot reads from the WAL are written
//!   over the clone ([`walsnap::overlay`]). Cost: flat in the size.
//! - `file`: the bytes are copied by the kernel (`copy_file_range`, or
//!   `sendfile` across file systems) in chunks that a killed copy resumes
//!   after. A rollback source is read chunk by chunk, each chunk under its
//!   own short SHARED lock that first checks the file change counter; a WAL
//!   source is copied inside one read transaction (which does not block its
//!   writers) and overlaid at the end.
//!
//! Both produce a file that is byte for byte the source's database at one
//! moment, in the source's journal mode, with no `-wal` beside it.

use crate::copy::fsclone::{self, RangeCopier};
use crate::copy::walsnap::{self, Moment, PinError};
use crate::copy::{self, Progress};
use crate::schema;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why an instant copy stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    /// This method cannot copy this source here; the reason is for the
    /// result ("say why a fallback was used"). Nothing usable was written.
    Impossible(String),
    /// A rollback-journal source was committed to between two chunks.
    SourceChanged,
    /// A real failure (the source's own errors are already clear sentences).
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Stop {
    fn from(e: E) -> Self {
        Stop::Failed(e.into())
    }
}

/// What an instant copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Copied {
    /// Bytes of the fork (its page count × page size).
    pub(crate) bytes: u64,
    /// Pages written over the main file's copy from the source's WAL.
    pub(crate) wal_pages: u64,
    /// `file`: bytes an interrupted copy had made that this one kept.
    pub(crate) kept: u64,
}

/// The moment a `file` copy is copying, and how far it got: kept in the
/// copy state so that a killed copy resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileCopyState {
    /// Bytes of the main file written and synced.
    pub(crate) bytes_done: u64,
    /// Rollback source: the file change counter the copy started at.
    #[serde(default)]
    pub(crate) change_counter: Option<u32>,
    /// WAL source: the WAL's salts (hex) when the copy started.
    #[serde(default)]
    pub(crate) wal_salt: Option<String>,
    /// Bytes of the main file this copy copies (for progress).
    #[serde(default)]
    pub(crate) total_bytes: u64,
}

/// What the source looks like at the moment a `file` copy pins, for the
/// caller's "may the bytes of the interrupted copy be kept?" decision
/// (`fork::resume::same_file_moment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceNow {
    Rollback { change_counter: u32 },
    Wal { salt: [u8; 8] },
}

impl From<&Moment> for SourceNow {
    fn from(m: &Moment) -> Self {
        match m {
            Moment::Rollback { change_counter } => SourceNow::Rollback { change_counter: *change_counter },
            Moment::Wal(h) => SourceNow::Wal { salt: h.salt },
        }
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The caller's side of a `file` copy: whether an interrupted copy's bytes
/// may be kept at the moment this one pins (`keep`), and a checkpoint each
/// time the bytes so far are synced (save the state: a resume may keep
/// them).
pub(crate) struct FileHooks<'a> {
    pub(crate) keep: &'a dyn Fn(&FileCopyState, SourceNow) -> bool,
    pub(crate) checkpoint: &'a mut dyn FnMut(&FileCopyState) -> anyhow::Result<()>,
}

/// One instant copy of `source` (read-only) into the fork file `fork`.
pub(crate) struct InstantCopy<'a> {
    pub(crate) source: &'a Path,
    pub(crate) fork: &'a Path,
    /// The source is in WAL mode.
    pub(crate) wal: bool,
}

/// Pins the source's moment on a read-only connection of its own.
struct Pinned {
    conn: Connection,
    /// Declared after `conn`, so closed after it (see `walsnap::Held`).
    held: walsnap::Held,
    moment: Moment,
    /// The snapshot's size in pages and page size.
    page_count: u64,
    page_size: u64,
}

impl Pinned {
    fn take(source: &Path, wal: bool) -> Result<Pinned, Stop> {
        // The connection first: it says clearly what is wrong with a source
        // (missing, not a database, locked).
        let conn = schema::open_source(source).map_err(Stop::Failed)?;
        let mut held = walsnap::Held::open(source)
            .map_err(|e| Stop::Failed(anyhow::Error::new(e).context(format!("could not open {}", source.display()))))?;
        let moment = match walsnap::pin(&conn, source, &mut held, wal) {
            Ok(m) => m,
            Err(PinError::Sqlite(e)) => return Err(Stop::Failed(schema::source_error(source, e))),
            Err(PinError::NoSnapshot(why)) => return Err(Stop::Impossible(why)),
            Err(PinError::Io(e)) => {
                return Err(Stop::Failed(anyhow::Error::new(e).context(format!("could not read {}", source.display()))))
            }
        };
        let sizes = conn.query_row("SELECT * FROM pragma_page_count, pragma_page_size", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        });
        let (page_count, page_size) = match sizes {
            Ok(s) => s,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(Stop::Failed(schema::source_error(source, e)));
            }
        };
        Ok(Pinned { conn, held, moment, page_count: page_count as u64, page_size: page_size as u64 })
    }

    /// End the transaction, close the connection, then our own files.
    fn release(self) {
        let _ = self.conn.execute_batch("COMMIT");
        drop(self.conn);
        drop(self.held);
    }

    /// The rollback source's lock for the next chunk; false when a commit
    /// happened since the copy began.
    fn relock(&mut self, source: &Path, counter: u32) -> Result<bool, Stop> {
        match walsnap::pin(&self.conn, source, &mut self.held, false) {
            Ok(Moment::Rollback { change_counter }) if change_counter == counter => Ok(true),
            Ok(_) => {
                let _ = self.conn.execute_batch("COMMIT");
                Ok(false)
            }
            Err(PinError::Sqlite(e)) => Err(Stop::Failed(schema::source_error(source, e))),
            Err(PinError::Io(e)) => Err(e.into()),
            Err(PinError::NoSnapshot(w)) => Err(Stop::Impossible(w)),
        }
    }
}

fn open_fork(path: &Path, fresh: bool) -> Result<File, Stop> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).mode(0o600);
    if fresh {
        o.create(true).truncate(true);
    }
    o.open(path).map_err(|e| Stop::Failed(anyhow::Error::new(e).context(format!("could not open {}", path.display()))))
}

fn sync(file: &File, path: &Path) -> Result<(), Stop> {
    fsclone::sync_file_and_dir(file, path)
        .map_err(|e| Stop::Failed(anyhow::Error::new(e).context(format!("could not sync {}", path.display()))))
}

impl InstantCopy<'_> {
    /// `clone`: the whole file as one clone of the source's extents at one
    /// moment. `Stop::Impossible` (nothing kept) when the file systems
    /// cannot clone.
    pub(crate) fn clone_file(&self) -> Result<Copied, Stop> {
        let home_dir = self.fork.parent().unwrap_or(Path::new("."));
        let pinned = Pinned::take(self.source, self.wal)?;
        if let Err(why) = fsclone::clone_possible(self.source, home_dir) {
            pinned.release();
            return Err(Stop::Impossible(why.to_string()));
        }
        let result = (|| -> Result<Copied, Stop> {
            let dst = open_fork(self.fork, true)?;
            if let Err(why) = fsclone::clone_file(&pinned.held.main, &dst) {
                let _ = std::fs::remove_file(self.fork);
                return Err(Stop::Impossible(why.to_string()));
            }
            let copied = self.finish(&pinned, &dst)?;
            Ok(copied)
        })();
        pinned.release();
        let (copied, dst) = (result?, open_fork(self.fork, false)?);
        sync(&dst, self.fork)?;
        Ok(copied)
    }

    /// Within the pinned transaction: overlay the WAL pages (WAL source) or
    /// check the size (rollback source).
    fn finish(&self, pinned: &Pinned, dst: &File) -> Result<Copied, Stop> {
        let bytes = pinned.page_count * pinned.page_size;
        let wal_pages = match &pinned.moment {
            Moment::Wal(h) => {
                walsnap::overlay(self.source, &pinned.held, h, pinned.page_count, pinned.page_size, dst)?.pages
            }
            Moment::Rollback { .. } => {
                // The file is the database; pages past the page count are
                // not (a file extended by a crashed writer).
                if dst.metadata()?.len() != bytes {
                    dst.set_len(bytes)?;
                    walsnap::fix_header(dst, pinned.page_count)?;
                }
                0
            }
        };
        Ok(Copied { bytes, wal_pages, kept: 0 })
    }

    /// `file`: the kernel copies the bytes in chunks; `state` says how far a
    /// killed copy got (and is updated, through `checkpoint`, as chunks are
    /// synced). `progress` counts pages.
    pub(crate) fn copy_file(
        &self,
        state: &mut FileCopyState,
        sink: &mut dyn Progress,
        hooks: &mut FileHooks,
    ) -> Result<Copied, Stop> {
        let mut pinned = Pinned::take(self.source, self.wal)?;
        let result = self.copy_chunks(&mut pinned, state, sink, hooks);
        pinned.release();
        let copied = result?;
        let dst = open_fork(self.fork, false)?;
        sync(&dst, self.fork)?;
        Ok(copied)
    }

    fn copy_chunks(
        &self,
        pinned: &mut Pinned,
        state: &mut FileCopyState,
        sink: &mut dyn Progress,
        hooks: &mut FileHooks,
    ) -> Result<Copied, Stop> {
        let ps = pinned.page_size.max(512);
        let keep = state.bytes_done > 0
            && (hooks.keep)(state, SourceNow::from(&pinned.moment))
            && crate::layout::file_size(self.fork).is_some();
        if !keep {
            *state = FileCopyState::default();
            match pinned.moment {
                Moment::Rollback { change_counter } => state.change_counter = Some(change_counter),
                Moment::Wal(h) => state.wal_salt = Some(hex(&h.salt)),
            }
        }
        let dst = open_fork(self.fork, !keep)?;
        // The main file's bytes that belong to the snapshot; pages past the
        // file's end (WAL source) come from the overlay.
        let len = pinned.held.main.metadata()?.len().min(pinned.page_count_bytes());
        state.bytes_done = state.bytes_done.min(len) / ps * ps;
        state.total_bytes = len;
        let kept = state.bytes_done;
        (hooks.checkpoint)(state)?;
        let chunk = chunk_bytes(ps);
        let chunks = len.div_ceil(chunk);
        let per_sync = (chunks / SYNCS_PER_COPY).clamp(1, MAX_CHUNKS_PER_SYNC);
        sink.unit("pages");
        sink.unit_bytes(ps as f64);
        sink.start(len / ps, state.bytes_done / ps);
        let mut mover = RangeCopier::default();
        let mut unsynced = 0u64;
        let mut first = true;
        while state.bytes_done < len {
            if let (Moment::Rollback { change_counter }, false) = (pinned.moment, first) {
                // Each chunk is its own short read under SHARED.
                if !pinned.relock(self.source, change_counter)? {
                    return Err(Stop::SourceChanged);
                }
            }
            let n = chunk.min(len - state.bytes_done);
            mover.copy(&pinned.held.main, &dst, state.bytes_done, n).map_err(|e| {
                Stop::Failed(
                    anyhow::Error::new(e).context(format!("could not copy {} into the fork", self.source.display())),
                )
            })?;
            if matches!(pinned.moment, Moment::Rollback { .. }) {
                pinned.conn.execute_batch("COMMIT")?;
            }
            first = false;
            state.bytes_done += n;
            sink.advance(n / ps);
            crate::env::test_delay();
            if sink.interrupted() {
                // Keep what was written: sync it so a resume starts here.
                dst.sync_data()?;
                (hooks.checkpoint)(state)?;
                return Err(Stop::Failed(copy::interrupted()));
            }
            unsynced += 1;
            if unsynced >= per_sync && state.bytes_done < len {
                dst.sync_data()?;
                (hooks.checkpoint)(state)?;
                unsynced = 0;
            }
        }
        // Rollback source: take the lock once more for the end, so that the
        // size check (and nothing else) happens under it.
        if let Moment::Rollback { change_counter } = pinned.moment {
            if !first && !pinned.relock(self.source, change_counter)? {
                return Err(Stop::SourceChanged);
            }
        }
        let copied = self.finish(pinned, &dst)?;
        sink.finish();
        Ok(Copied { kept, ..copied })
    }
}

impl Pinned {
    fn page_count_bytes(&self) -> u64 {
        self.page_count * self.page_size
    }
}

/// Bytes per `file` chunk: 16 MiB (`SQLFORK_TEST_CHUNK_PAGES` pages in tests).
fn chunk_bytes(page_size: u64) -> u64 {
    match crate::env::test_chunk_pages() {
        Some(p) => p.max(1) * page_size,
        None => (16 << 20) / page_size * page_size,
    }
}

/// As the page copy: about eight syncs per copy, at most every 16 chunks.
const SYNCS_PER_COPY: u64 = 8;
const MAX_CHUNKS_PER_SYNC: u64 = 16;

#[cfg(test)]
mod tests {
    use super::*;

    fn make(dir: &Path, wal: bool) -> std::path::PathBuf {
        let db = dir.join(if wal { "w.db" } else { "r.db" });
        let c = Connection::open(&db).unwrap();
        if wal {
            c.execute_batch("PRAGMA journal_mode=WAL").unwrap();
        }
        c.execute_batch(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000)
             INSERT INTO t SELECT i, printf('%.300c', char(65 + i % 26)) FROM n;",
        )
        .unwrap();
        if wal {
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); UPDATE t SET v = 'changed' WHERE id % 5 = 0;").unwrap();
        }
        // Keep a WAL source's WAL (a closing last connection checkpoints it).
        std::mem::forget(c);
        db
    }

    fn dump(path: &Path) -> Vec<(i64, String)> {
        let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut s = c.prepare("SELECT id, v FROM t ORDER BY id").unwrap();
        let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
        r
    }

    #[test]
    fn a_file_copy_in_small_chunks_is_the_source_and_a_clone_on_ext4_says_why_not() {
        let dir = tempfile::tempdir().unwrap();
        for wal in [false, true] {
            let db = make(dir.path(), wal);
            let fork = dir.path().join(format!("fork-{wal}.db"));
            let copy = InstantCopy { source: &db, fork: &fork, wal };
            if let Err(Stop::Impossible(why)) = copy.clone_file() {
                assert!(why.contains("clone"), "{why}");
            }
            let mut state = FileCopyState::default();
            std::env::set_var("SQLFORK_TEST_CHUNK_PAGES", "16");
            let mut syncs = 0;
            let mut count = |_: &FileCopyState| {
                syncs += 1;
                Ok(())
            };
            let mut hooks = FileHooks { keep: &|_, _| false, checkpoint: &mut count };
            let out = copy.copy_file(&mut state, &mut copy::NoProgress, &mut hooks).unwrap_or_else(|e| panic!("{e:?}"));
            assert!(syncs > 1, "checkpoints as it goes: {syncs} {state:?} {out:?}");
            assert_eq!(out.bytes, crate::layout::file_size(&fork).unwrap());
            assert_eq!(wal, out.wal_pages > 0, "{out:?}");
            assert!(!walsnap::side_file(&fork, "-wal").exists());
            assert_eq!(dump(&fork), dump(&db));
        }
    }
}
