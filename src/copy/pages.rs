//! The page copy: a source's pages, as they are at one moment, written
//! into a new file.

use rusqlite::Connection;

use super::Progress;

/// Why a page copy stopped before the end.
#[derive(Debug)]
pub(crate) enum PageCopyStop {
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
/// The written file is synced before `checkpoint` is told how many pages
/// are safe, so a resumed copy can start after them.
pub(crate) struct PageCopy<'a> {
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

impl PageCopy<'_> {
    /// Copy pages `done+1..=page_count` into `file`. After every sync,
    /// `checkpoint` is told how many pages are written and synced. Returns
    /// pages copied.
    pub(crate) fn run(
        &self,
        file: &std::fs::File,
        mut done: u64,
        progress: &mut dyn Progress,
        checkpoint: &mut dyn FnMut(u64) -> anyhow::Result<()>,
    ) -> Result<u64, PageCopyStop> {
        use std::os::unix::fs::FileExt;
        let mut stmt = self.conn.prepare("SELECT pgno, data FROM main.sqlite_dbpage WHERE pgno > ?1 LIMIT ?2")?;
        let chunk_pages = crate::env::test_chunk_pages().unwrap_or(CHUNK_PAGES).max(1);
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
            crate::env::test_delay();
            if progress.interrupted() {
                // Keep what was written: sync it so a resume starts here.
                file.sync_data().map_err(|e| anyhow::Error::new(e).context("could not sync the fork"))?;
                checkpoint(done)?;
                return Err(PageCopyStop::Failed(super::interrupted()));
            }
            if unsynced >= chunks_per_sync {
                file.sync_data().map_err(|e| anyhow::Error::new(e).context("could not sync the fork"))?;
                checkpoint(done)?;
                unsynced = 0;
            }
        }
        file.sync_all().map_err(|e| anyhow::Error::new(e).context("could not sync the fork"))?;
        checkpoint(done)?;
        Ok(done)
    }
}
