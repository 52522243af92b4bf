//! The clone (`copy_method = "clone"`, the default for data forks): the
//! fork shares the source's extents (`FICLONE`), taken as one moment under
//! SQLite's locking (see `copy::instant`). Its cost does not grow with the
//! source's size. Where the file systems cannot clone (ext4, tmpfs, a home
//! on another file system than the source), the kernel copies the file
//! instead (`file.rs`), and the result says why.
//!
//! A clone is never resumed: an interrupted one starts again (it is
//! instant). A clone reads no rows, so it does not count them.

use super::build::{count_objects, Job};
use super::resume::Observed;
use super::source::{Plan, SourceSession};
use super::state::CopyState;
use super::DataCopy;
use crate::copy::instant::{InstantCopy, Stop};
use crate::copy::Progress;
use crate::home::CopyMethod;
use crate::registry::CopyStats;

pub(crate) struct Clone;

impl DataCopy for Clone {
    fn plan(&self) -> Plan {
        Plan::Verbatim
    }

    fn resume(&self, _state: &mut CopyState, _same: bool, _now: &Observed) {}

    fn copy(
        &self,
        job: &Job,
        session: SourceSession,
        mut state: CopyState,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<CopyStats> {
        let copy = InstantCopy {
            source: &job.src.path,
            fork: &job.entry.path,
            wal: session.schema.settings.journal_mode.is_wal(),
        };
        match copy.clone_file() {
            Ok(copied) => {
                crate::env::trace(&format!("clone done: {} pages from the WAL", copied.wal_pages));
                // The clone is durable; the entry is still provisioning.
                crate::env::test_pause("pages-synced");
                Ok(CopyStats {
                    objects_created: count_objects(&session.schema),
                    bytes_copied: copied.bytes,
                    exact: true,
                    method: Some(CopyMethod::Clone),
                    fallback: state.fallback.clone(),
                    ..CopyStats::default()
                })
            }
            Err(Stop::Impossible(why)) => {
                crate::env::trace(&format!("no clone: {why}"));
                // Saved at the file copy's first checkpoint.
                state.method = CopyMethod::File;
                state.fallback = Some(why);
                super::file::File.copy(job, session, state, progress)
            }
            Err(Stop::Failed(e)) => Err(e),
            Err(Stop::SourceChanged) => unreachable!("a clone is one read, so it never sees the source change"),
        }
    }
}
