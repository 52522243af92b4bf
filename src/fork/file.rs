//! The kernel copy (`copy_method = "file"`, and where a clone is
//! impossible): the source's file copied by the kernel (`copy_file_range`,
//! or `sendfile` across file systems) in chunks, at one moment (see
//! `copy::instant`), with no trip through user space.
//!
//! Each synced chunk is a checkpoint. A resume keeps the bytes copied when
//! the source is still the same moment in the sense of
//! `resume::same_file_moment`, decided when the resumed copy pins the
//! source. A rollback-journal source committed to during the copy, or a
//! WAL source whose snapshot cannot be pinned this way, ends this copy with
//! a fallback (`chain.rs`: rows, or pages).

use super::build::{count_fork_rows, count_objects, Job};
use super::resume::{same_file_moment, Observed};
use super::source::{Plan, SourceSession};
use super::state::{CopyState, StateFile, Tracked};
use super::{Copied, DataCopy, FallBack};
use crate::copy::instant::{FileHooks, InstantCopy, Stop};
use crate::copy::{self, Progress};
use crate::home::CopyMethod;
use crate::registry::CopyStats;

pub(crate) struct File;

impl DataCopy for File {
    fn plan(&self) -> Plan {
        Plan::Verbatim
    }

    /// Decided when the copy pins the source (`same_file_moment`).
    fn resume(&self, _state: &mut CopyState, _same: bool, _now: &Observed) {}

    fn copy(
        &self,
        job: &Job,
        session: SourceSession,
        state: CopyState,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Copied> {
        match copy_file(job, &session, state, progress) {
            Ok(stats) => Ok(Copied::Done(stats)),
            Err(Stop::Failed(e)) => Err(e),
            // The next method reads the source through a pinned read
            // transaction of its own.
            Err(Stop::Impossible(why)) => Ok(Copied::FallBack(FallBack::Impossible { why, session: None })),
            Err(Stop::SourceChanged) => Ok(Copied::FallBack(FallBack::SourceChanged)),
        }
    }
}

fn copy_file(
    job: &Job,
    session: &SourceSession,
    mut state: CopyState,
    progress: &mut dyn Progress,
) -> Result<CopyStats, Stop> {
    let path = &job.entry.path;
    let copy = InstantCopy { source: &job.src.path, fork: path, wal: session.schema.settings.journal_mode.is_wal() };
    let mut file = state.file.clone().unwrap_or_default();
    let page_size = session.schema.settings.page_size as u64;
    state.method = CopyMethod::File;
    state.page_size = page_size;
    let state_file = StateFile::new(job.home, &job.entry.id, state);
    let mut tracker = Tracked { inner: &mut *progress, state: &state_file };
    // A resume may start after every chunk that is synced.
    let mut checkpoint = |f: &copy::instant::FileCopyState| {
        state_file.checkpoint(|s| {
            s.file = Some(f.clone());
            s.bytes_total = f.total_bytes;
            s.page_count = f.total_bytes / page_size.max(1);
            s.pages_done = f.bytes_done / page_size.max(1);
            s.pages_written = s.pages_written.max(s.pages_done);
        })
    };
    let mut hooks = FileHooks { keep: &same_file_moment, checkpoint: &mut checkpoint };
    let result = copy.copy_file(&mut file, &mut tracker, &mut hooks);
    progress.finish();
    let copied = result?;
    let state = state_file.finish();
    // Every byte is durable; the entry is still provisioning.
    crate::env::test_pause("pages-synced");
    crate::env::trace(&format!(
        "file copy done: {} bytes kept from an interrupted copy, {} pages from the WAL",
        copied.kept, copied.wal_pages
    ));
    Ok(CopyStats {
        objects_created: count_objects(&session.schema),
        rows_copied: count_fork_rows(path, &session.schema)?,
        bytes_copied: copied.bytes,
        exact: true,
        method: Some(CopyMethod::File),
        fallback: state.fallback,
        ..CopyStats::default()
    })
}
