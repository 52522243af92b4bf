//! The copy methods' fallback chain, in one place: the order they are
//! tried in ([`ORDER`]) and what happens between two of them.
//!
//! A method's [`DataCopy::copy`] makes the fork or says it cannot
//! ([`Copied::FallBack`]): it cannot apply here (a file system that cannot
//! clone, a `-shm` that cannot be read: the next method in [`ORDER`] takes
//! over), or the source was written to during the copy (a rollback-journal
//! source: the copy starts over with the method that copes with a changing
//! source). [`run`] is the only code that knows which method comes next. It
//! joins the reasons (`copy.fallback` says all of them), removes what the
//! failed method half made, reopens the source when the next method needs
//! its own read of it, and saves the copy state for a resume
//! (`resume.rs` continues with `state.method`, `state.fallback` as saved).

use super::build::Job;
use super::source::{check_schema, SourceSession};
use super::state::CopyState;
use super::{method, pins, state_at_start};
use crate::copy::{self, Progress};
use crate::error::Error;
use crate::home::CopyMethod;
use crate::layout;
use crate::registry::CopyStats;

/// The order the methods are tried in, fastest first. A method that cannot
/// apply falls back to the next one the linked SQLite can run
/// ([`CopyMethod::available`]).
pub(super) const ORDER: [CopyMethod; 4] = [CopyMethod::Clone, CopyMethod::File, CopyMethod::Pages, CopyMethod::Rows];

/// The method a copy starts over with when a rollback-journal source is
/// written to during it: it copies rows in short transactions, so a change
/// makes the fork inexact, never wrong.
const COPES_WITH_CHANGE: CopyMethod = CopyMethod::Rows;

/// Why the rows were copied after a source change (in `copy.fallback`).
const CHANGED: &str = "the source was written to during the copy, so its rows were copied instead";

/// What a method's [`DataCopy::copy`](super::DataCopy::copy) ended with.
pub(crate) enum Copied {
    /// The fork is complete.
    Done(CopyStats),
    /// This method cannot make it: the chain goes on.
    FallBack(FallBack),
}

/// Why a method gave the fork up, and what the next one needs.
pub(crate) enum FallBack {
    /// The method cannot apply here (`why`, said to the user). `session`:
    /// the source read it was given, handed back when the next method may
    /// go on with it (nothing was written, no moment was taken); `None`
    /// when the next needs a fresh read.
    Impossible { why: String, session: Option<Box<SourceSession>> },
    /// A rollback-journal source was written to during the copy: what was
    /// copied is dropped, and the copy starts over from a fresh read with
    /// the method that copes with a changing source.
    SourceChanged,
}

/// The method after `from` stopped (`changed`: for a source change), or
/// `None` when nothing follows.
pub(super) fn next(from: CopyMethod, changed: bool) -> Option<CopyMethod> {
    if changed {
        return (from != COPES_WITH_CHANGE).then_some(COPES_WITH_CHANGE);
    }
    ORDER.iter().skip_while(|m| **m != from).nth(1).map(|m| m.available())
}

/// "earlier reason; this reason".
fn join(earlier: Option<String>, why: &str) -> String {
    earlier.map_or(why.to_string(), |w| format!("{w}; {why}"))
}

/// Copy the source into `job.entry.path` with `state.method`, falling back
/// along the chain until one method makes the fork.
pub(super) fn run(
    job: &Job,
    mut session: SourceSession,
    mut state: CopyState,
    progress: &mut dyn Progress,
) -> anyhow::Result<CopyStats> {
    loop {
        let from = state.method;
        let stop = match method(from).copy(job, session, state.clone(), progress)? {
            Copied::Done(stats) => return Ok(stats),
            Copied::FallBack(stop) => stop,
        };
        let (why, kept, changed) = match stop {
            FallBack::Impossible { why, session } => (why, session, false),
            FallBack::SourceChanged => (CHANGED.to_string(), None, true),
        };
        let Some(to) = next(from, changed) else {
            return Err(Error::failed(format!(
                "the {from} copy could not make the fork ({why}), and no method follows it"
            ))
            .into());
        };
        if changed {
            crate::env::trace(&format!("source changed during the {from} copy; copying {to} instead"));
        } else {
            crate::env::trace(&format!("no {from} copy: {why}"));
        }
        let fallback = Some(join(state.fallback.take(), &why));
        // A session handed back serves a next method that pins no moment of
        // its own; one that does (and the case of no session) reads afresh.
        match kept.filter(|_| !pins(to)) {
            Some(kept) => {
                // Saved at the next method's first checkpoint.
                session = *kept;
                state.method = to;
                state.fallback = fallback;
            }
            None => {
                layout::remove_database_files(&job.entry.path);
                let counter = copy::change_counter(&job.src.path);
                let (mut fresh, _) = SourceSession::open(&job.src.path, pins(to), None)?;
                check_schema(&mut fresh, method(to).plan())?;
                state = state_at_start(&fresh, &job.src.path, counter, to);
                state.fallback = fallback;
                state.save(job.home, &job.entry.id)?;
                session = fresh;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_runs_clone_file_pages_rows() {
        assert_eq!(next(CopyMethod::Clone, false), Some(CopyMethod::File), "an impossible clone: the kernel copies");
        assert_eq!(next(CopyMethod::File, false), Some(CopyMethod::Pages.available()), "no -shm to read: pages");
        assert_eq!(next(CopyMethod::Pages, false), Some(CopyMethod::Rows));
        assert_eq!(next(CopyMethod::Rows, false), None, "rows is the last");
    }

    #[test]
    fn a_source_change_starts_over_with_rows() {
        for from in [CopyMethod::Clone, CopyMethod::File, CopyMethod::Pages] {
            assert_eq!(next(from, true), Some(CopyMethod::Rows), "{from}");
        }
        assert_eq!(next(CopyMethod::Rows, true), None, "rows copes with a change itself");
    }

    #[test]
    fn reasons_are_joined_in_order() {
        assert_eq!(join(None, "b"), "b");
        assert_eq!(join(Some("a".into()), "b"), "a; b");
    }
}
