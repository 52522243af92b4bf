//! Finishing an interrupted fork: `db resume`, `db wait`, the same
//! `db fork` again, and the background copy of `db fork --detach`.
//!
//! The entry stays `provisioning` while a fork is built; a process that
//! takes its claim can continue it. Data already copied is kept only if the
//! source is still the same moment ([`same_moment`]); otherwise the page
//! copy starts over and the row copy goes on, no longer exact.

use super::source::{self, check_schema, Plan, SourceSession};
use super::state::{file_stamp, CopyState};
use super::{build_or_discard, method, Build, ForkOutcome, Job};
use crate::address::Address;
use crate::claim::{is_claimed, Claim};
use crate::copy::instant::{hex, FileCopyState, SourceNow};
use crate::copy::{self, NoProgress, Progress};
use crate::error::Error;
use crate::home::{Config, CopyMethod, Home};
use crate::layout;
use crate::registry::{Entry, Parent, Registry, Status, Store};
use crate::schema;

/// Continue an interrupted fork (`db resume`, `db wait`).
pub(crate) fn resume(
    home: &Home,
    config: &Config,
    addr: &Address,
    progress: &mut dyn Progress,
) -> anyhow::Result<ForkOutcome> {
    let entry = Store::open(home)?.require(addr)?;
    if entry.status == Status::Healthy {
        crate::registry::sync_found(home, &[&entry.path])?;
        return Ok(ForkOutcome { entry, resumed: false });
    }
    resume_entry(home, config, entry, progress, How::default())
}

/// [`resume`] as the background copy of `db fork --detach`. `ready` is
/// called once this process holds the fork's claim and reads the source at
/// the snapshot the fork began with: the process that started it may then
/// let go of its own hold on the source. Nobody sees its errors but
/// `db wait`, so a failure leaves its reason in a note for it.
pub(crate) fn resume_in_background(
    home: &Home,
    config: &Config,
    addr: &Address,
    ready: &mut dyn FnMut(),
) -> anyhow::Result<ForkOutcome> {
    let entry = Store::open(home)?.require(addr)?;
    if entry.status == Status::Healthy {
        crate::registry::sync_found(home, &[&entry.path])?;
        return Ok(ForkOutcome { entry, resumed: false });
    }
    // The claim `db fork --detach` handed over, when this is its copy.
    let claim = crate::env::take_claim_fd().and_then(|fd| Claim::adopt(home, &entry.id, fd));
    let how = How { note_failure: true, ready: Some(ready), detach: false, claim };
    resume_entry(home, config, entry, &mut NoProgress, how)
}

/// Every provisioning entry that no process is building (and what was
/// read made durable: "nothing to resume" is state found).
pub(crate) fn interrupted(home: &Home) -> anyhow::Result<Vec<Entry>> {
    let reg = Registry::load(home)?;
    crate::registry::sync_found(home, &[])?;
    Ok(reg.databases.into_iter().filter(|e| e.status == Status::Provisioning && !is_claimed(home, &e.id)).collect())
}

/// An existing entry is this same fork, interrupted, when it is still
/// provisioning from the same parent with the same data option.
pub(crate) fn is_same_fork(e: &Entry, parent: &Parent, with_data: bool) -> bool {
    let same_parent = match (&e.forked_from, parent) {
        (Some(Parent::Database { id: a, snapshot: sa, .. }), Parent::Database { id: b, snapshot: sb, .. }) => {
            a == b && sa.as_ref().map(|s| &s.id) == sb.as_ref().map(|s| &s.id)
        }
        (Some(Parent::Path(a)), Parent::Path(b)) => a == b,
        _ => false,
    };
    e.status == Status::Provisioning && e.owned && same_parent && e.include_data == with_data
}

/// How a resume runs.
#[derive(Default)]
pub(crate) struct How<'r> {
    /// Hand the copy to a background process (the same `db fork --detach`).
    pub detach: bool,
    /// Leave a failure note for `db wait` (the background copy).
    pub note_failure: bool,
    /// Told when the source is held at the fork's snapshot.
    pub ready: Option<&'r mut dyn FnMut()>,
    /// The fork's claim, already held (handed over by `db fork --detach`).
    pub claim: Option<Claim>,
}

/// What a resume finds when it reopens the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Observed {
    /// The source is in WAL mode.
    pub wal: bool,
    /// The copy saved a WAL snapshot when it began.
    pub had_snapshot: bool,
    /// That snapshot could be opened again (no checkpoint has passed it).
    pub reopened: bool,
    /// SQLite handed out a snapshot now (it cannot while the WAL is empty).
    pub snapshot_now: bool,
    /// The main file's size and modification time now.
    pub stamp: Option<String>,
    /// The file change counter now.
    pub counter: Option<u32>,
}

/// Is the source still the moment the copy began at?
///
/// - a WAL source with a saved snapshot: if that snapshot could be opened
///   again;
/// - a WAL source that had no snapshot (its WAL was empty): if its WAL is
///   still empty and no checkpoint has touched the main file since;
/// - a rollback-journal source: if no commit has bumped its change counter.
pub(crate) fn same_moment(then: &CopyState, now: &Observed) -> bool {
    if now.wal {
        if now.had_snapshot {
            now.reopened
        } else {
            !now.snapshot_now && now.stamp.is_some() && now.stamp == then.file_stamp
        }
    } else {
        now.counter.is_some() && now.counter == then.change_counter
    }
}

/// May a killed `file` copy keep the bytes it wrote? Decided by the
/// resumed copy once it has pinned the source (`now`):
/// - a rollback-journal source: if no commit bumped its change counter;
/// - a WAL source: if its WAL was not restarted (same salts). Then every
///   page a checkpoint changed in the main file since is still in the WAL,
///   at a frame no later than the new snapshot, so the bytes kept + the
///   rest copied now + the WAL pages written over them at the new snapshot
///   are exactly that snapshot. After a restart those frames are gone and
///   the copy starts again.
pub(crate) fn same_file_moment(then: &FileCopyState, now: SourceNow) -> bool {
    match now {
        SourceNow::Rollback { change_counter } => {
            then.wal_salt.is_none() && then.change_counter == Some(change_counter)
        }
        SourceNow::Wal { salt } => then.change_counter.is_none() && then.wal_salt.as_deref() == Some(&hex(&salt)),
    }
}

/// Take the claim, look again, reopen the source at the fork's snapshot
/// (or find it moved on), and build the rest.
pub(crate) fn resume_entry(
    home: &Home,
    config: &Config,
    entry: Entry,
    progress: &mut dyn Progress,
    how: How,
) -> anyhow::Result<ForkOutcome> {
    let addr = entry.address();
    let How { detach, note_failure, ready, claim } = how;
    let claim = match claim {
        Some(claim) => claim,
        None => match Claim::take(home, &entry.id)? {
            Some(claim) => claim,
            None => return Err(Error::Busy { address: addr }.into()),
        },
    };
    // Look again under the claim: another process may have finished it, or
    // discarded it (releasing our claim then removes the file it made).
    let entry = match Store::open(home)?.by_id(&entry.id)? {
        Some(e) if e.status == Status::Provisioning => e.clone(),
        Some(e) => return Ok(ForkOutcome { entry: e.clone(), resumed: false }),
        None => return Err(Error::NotFound { address: addr }.into()),
    };
    if entry.safe.is_some() {
        // Its rules are not kept beside it: it is made again, not resumed.
        let e: anyhow::Error =
            Error::NotResumable { address: addr.clone(), why: crate::error::NotResumableWhy::Masked }.into();
        super::build::discard(home, &entry, &e, how.note_failure);
        drop(claim);
        return Err(e);
    }
    let src = source::source_of(home, &entry)?;
    let _side_files = schema::SourceSideFiles::note(&src.path);
    // No copy state: the fork was interrupted before its copy began (the
    // state is saved before the first page), so it starts afresh below.
    let saved_state = CopyState::load(home, &entry.id);
    let fresh = saved_state.is_none();
    let mut state = saved_state.unwrap_or_else(|| CopyState { method: config.copy_method, ..CopyState::default() });
    build_or_discard(home, &entry, claim, note_failure, true, |claim| {
        let saved = state.saved_snapshot();
        let counter = copy::change_counter(&src.path);
        // A source that vanished or no longer replays ends this fork.
        let removed = |e: anyhow::Error| -> anyhow::Error {
            Error::failed(format!("could not finish {addr}, so it was removed: {e:#}")).into()
        };
        let (mut session, reopened) =
            SourceSession::open(&src.path, entry.include_data && super::pins(state.method), saved.as_ref())
                .map_err(removed)?;
        let plan_method = if entry.include_data { state.method } else { CopyMethod::Pages };
        check_schema(&mut session, Plan::of(entry.include_data, plan_method)).map_err(removed)?;
        if entry.include_data && fresh {
            layout::remove_database_files(&entry.path);
            state = super::state_at_start(&session, &src.path, counter, config.copy_method);
            state.save(home, &entry.id)?;
        } else if entry.include_data {
            let now = Observed {
                wal: session.schema.settings.journal_mode.is_wal(),
                had_snapshot: saved.is_some(),
                reopened,
                snapshot_now: session.reader.snapshot.is_some(),
                stamp: file_stamp(&src.path),
                counter,
            };
            let same = same_moment(&state, &now);
            method(state.method).resume(&mut state, same, &now);
            state.set_snapshot(session.reader.snapshot);
            state.save(home, &entry.id)?;
        } else {
            layout::remove_database_files(&entry.path);
        }
        if let Some(ready) = ready {
            ready();
        }
        let job = Job { home, entry: &entry, src: &src, page_rows: config.rows_per_page, safe: None, mergeable: false };
        let build = if detach && entry.include_data { Build::Detach(claim) } else { Build::Here(progress) };
        job.run(session, state, build)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn then() -> CopyState {
        CopyState { change_counter: Some(7), file_stamp: Some("4096:1.0".into()), ..CopyState::default() }
    }

    #[test]
    fn a_wal_source_is_the_same_moment_while_its_snapshot_opens() {
        let now = Observed { wal: true, had_snapshot: true, reopened: true, ..Observed::default() };
        assert!(same_moment(&then(), &now));
        assert!(!same_moment(&then(), &Observed { reopened: false, ..now }), "checkpointed past it");
    }

    #[test]
    fn a_wal_source_read_with_an_empty_wal_is_the_same_while_nothing_moved() {
        let now = Observed { wal: true, stamp: Some("4096:1.0".into()), ..Observed::default() };
        assert!(same_moment(&then(), &now));
        assert!(!same_moment(&then(), &Observed { snapshot_now: true, ..now.clone() }), "a commit since");
        assert!(!same_moment(&then(), &Observed { stamp: Some("8192:2.0".into()), ..now.clone() }), "checkpointed");
        assert!(!same_moment(&then(), &Observed { stamp: None, ..now }), "cannot tell");
    }

    fn saved(counter: Option<u32>, salt: Option<[u8; 8]>) -> FileCopyState {
        FileCopyState { bytes_done: 4096, change_counter: counter, wal_salt: salt.map(|s| hex(&s)), total_bytes: 8192 }
    }

    #[test]
    fn a_rollback_file_copy_keeps_its_bytes_only_when_no_commit_happened() {
        let s = saved(Some(7), None);
        assert!(same_file_moment(&s, SourceNow::Rollback { change_counter: 7 }));
        assert!(!same_file_moment(&s, SourceNow::Rollback { change_counter: 8 }));
        assert!(!same_file_moment(&s, SourceNow::Wal { salt: [0; 8] }), "the source switched to WAL");
    }

    #[test]
    fn a_wal_file_copy_keeps_its_bytes_while_the_wal_was_not_restarted() {
        let salt = [1, 2, 3, 4, 5, 6, 7, 8];
        let s = saved(None, Some(salt));
        assert!(same_file_moment(&s, SourceNow::Wal { salt }));
        let mut restarted = salt;
        restarted[3] += 1;
        assert!(!same_file_moment(&s, SourceNow::Wal { salt: restarted }));
        assert!(!same_file_moment(&s, SourceNow::Rollback { change_counter: 1 }), "the source left WAL mode");
        assert!(!same_file_moment(&FileCopyState::default(), SourceNow::Wal { salt }), "nothing saved");
    }

    #[test]
    fn a_rollback_source_is_the_same_while_its_change_counter_is() {
        let now = Observed { counter: Some(7), ..Observed::default() };
        assert!(same_moment(&then(), &now));
        assert!(!same_moment(&then(), &Observed { counter: Some(8), ..now }));
        assert!(!same_moment(&then(), &Observed { counter: None, ..Observed::default() }));
        assert!(!same_moment(&CopyState::default(), &Observed { counter: None, ..Observed::default() }));
    }
}
