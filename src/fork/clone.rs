//! The clone (`copy_method = "clone"`, the default for data forks): the
//! fork shares the source's extents (`FICLONE`), taken as one moment under
//! SQLite's locking (see `copy::instant`). Its cost does not grow with the
//! source's size. Where the file systems cannot clone (ext4, tmpfs, a home
//! on another file system than the source), it says so and why, and the
//! chain (`chain.rs`) goes on with the next method.
//!
//! A clone is never resumed: an interrupted one starts again (it is
//! instant). A clone reads no rows, so it does not count them.

use super::build::{count_objects, Job};
use super::resume::Observed;
use super::source::{Plan, SourceSession};
use super::state::CopyState;
use super::{Copied, DataCopy, FallBack};
use crate::copy::instant::{InstantCopy, Stop};
use crate::copy::Progress;
use crate::home::CopyMethod;
use crate::registry::CopyStats;

pub(crate) struct Clone;

impl DataCopy for Clone {
    fn plan(&self) -> Plan {
        Plan::Verbatim
    }

    fn space_needed(&self, src: &std::path::Path, dest_dir: &std::path::Path) -> Option<u64> {
        // Shared blocks cost nothing; else the file copy it falls back to.
        (!crate::space::clone_shares_blocks(src, dest_dir)).then(|| crate::space::source_bytes(src))
    }

    fn how_far(&self, _state: &CopyState) -> Option<(u64, u64)> {
        // Instant: nothing to count.
        None
    }

    fn resume(&self, _state: &mut CopyState, _same: bool, _now: &Observed) {}

    fn copy(
        &self,
        job: &Job,
        session: SourceSession,
        state: CopyState,
        _progress: &mut dyn Progress,
    ) -> anyhow::Result<Copied> {
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
                Ok(Copied::Done(CopyStats {
                    objects_created: count_objects(&session.schema),
                    bytes_copied: copied.bytes,
                    exact: true,
                    method: Some(CopyMethod::Clone),
                    fallback: state.fallback.clone(),
                    ..CopyStats::default()
                }))
            }
            // Nothing was written and no moment taken: the next method may
            // read through the same session.
            Err(Stop::Impossible(why)) => {
                Ok(Copied::FallBack(FallBack::Impossible { why, session: Some(Box::new(session)) }))
            }
            Err(Stop::Failed(e)) => Err(e),
            Err(Stop::SourceChanged) => unreachable!("a clone is one read, so it never sees the source change"),
        }
    }
}
