//! The page copy (`copy_method = "pages"`, the default for data forks):
//! the source's pages, read through SQLite at the fork's snapshot, written
//! into the new file as they are (see `copy::PageCopy`). Page-exact, no SQL
//! replayed, as fast as the disk.
//!
//! A resume continues after the last synced chunk when the source is still
//! the same moment, else starts over. A rollback-journal source committed
//! to during the copy ends it with a fallback (`chain.rs`: the copy starts
//! again row by row, no longer exact).

use super::build::{count_fork_rows, count_objects, Job};
use super::resume::Observed;
use super::source::{Plan, SourceSession};
use super::state::{CopyState, StateFile, Tracked};
use super::{Copied, DataCopy, FallBack};
use crate::copy::{self, PageCopyStop, Progress};
use crate::error::Error;
use crate::home::CopyMethod;
use crate::layout;
use crate::registry::CopyStats;
use crate::schema;
use std::fs::OpenOptions;

pub(crate) struct Pages;

impl DataCopy for Pages {
    fn plan(&self) -> Plan {
        Plan::Verbatim
    }

    fn pins(&self) -> bool {
        true
    }

    fn resume(&self, state: &mut CopyState, same: bool, now: &Observed) {
        // Pages already written are only good if the source is the same
        // moment; otherwise the copy starts over from this one.
        if !same {
            state.pages_done = 0;
            state.change_counter = now.counter;
            state.file_stamp = now.stamp.clone();
        }
        state.exact = true;
    }

    fn copy(
        &self,
        job: &Job,
        mut session: SourceSession,
        state: CopyState,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Copied> {
        match copy_pages(job, &mut session, state, progress) {
            Ok(stats) => Ok(Copied::Done(stats)),
            Err(PageCopyStop::Failed(e)) => Err(e),
            Err(PageCopyStop::SourceChanged) => Ok(Copied::FallBack(FallBack::SourceChanged)),
        }
    }
}

/// Copy the pages after `state.pages_done` (the caller has established
/// that the source is the moment those were written at).
fn copy_pages(
    job: &Job,
    session: &mut SourceSession,
    mut state: CopyState,
    progress: &mut dyn Progress,
) -> Result<CopyStats, PageCopyStop> {
    let path = &job.entry.path;
    let own;
    let (conn, pinned) = match session.reader.pin_connection() {
        Some(c) => (c, true),
        None => {
            own = schema::open_source(&job.src.path)?;
            (&own, false)
        }
    };
    let page_count: i64 = conn.query_row("PRAGMA main.page_count", [], |r| r.get(0))?;
    let page_size = session.schema.settings.page_size as u64;
    let page_count = page_count as u64;
    if state.pages_done == 0 || state.page_count != page_count || state.page_size != page_size {
        layout::remove_database_files(path);
        layout::create_new_file(path)?;
        state.pages_done = 0;
    }
    state.page_count = page_count;
    state.page_size = page_size;
    state.pages_written = state.pages_done;
    state.save(job.home, &job.entry.id)?;
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::failed(format!("could not open {}: {e}", path.display())))?;
    let copier = copy::PageCopy { conn, pinned, change_counter: state.change_counter, page_size, page_count };
    let start = state.pages_done;
    state.bytes_total = page_count * page_size;
    let state_file = StateFile::new(job.home, &job.entry.id, state);
    let mut tracker = Tracked { inner: &mut *progress, state: &state_file };
    tracker.unit("pages");
    tracker.unit_bytes(page_size as f64);
    tracker.start(page_count, start);
    // A resume may start after every chunk that is synced.
    let mut checkpoint = |done: u64| {
        state_file.checkpoint(|s| {
            s.pages_done = done;
            s.pages_written = s.pages_written.max(done);
        })
    };
    let result = copier.run(&file, start, &mut tracker, &mut checkpoint);
    progress.finish();
    result?;
    drop(file);
    crate::env::test_pause("pages-synced");
    session.reader.release();
    let state_file_fallback = state_file.finish().fallback;
    let rows = count_fork_rows(path, &session.schema)?;
    Ok(CopyStats {
        objects_created: count_objects(&session.schema),
        rows_copied: rows,
        bytes_copied: page_count * page_size,
        exact: true,
        method: Some(CopyMethod::Pages),
        fallback: state_file_fallback,
        ..CopyStats::default()
    })
}
