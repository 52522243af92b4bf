//! Branches: `NS/SLUG@REF`, a fork of `NS/SLUG` that `branch put` creates
//! on first use and resets to the parent's current state on every later
//! use, keeping its id and its path so that a CI connection string stays
//! valid.
//!
//! A reset is atomic. The new database is built as a separate, hidden fork
//! (`NS/SLUG@REF~reset`, a ref no user can type because `~` is not allowed
//! in refs) while the branch itself stays healthy and readable. Once that
//! fork is complete, its file is renamed over the branch's file and the
//! branch's entry takes over its figures, in one step under the registry
//! lock. Throughout, the branch's build claim is held, so `db delete`,
//! `db gc` and other resets of the same branch wait or refuse.
//!
//! A crash during a reset therefore leaves either the old branch (the
//! half-built `~reset` fork beside it is resumed by the next `branch put`)
//! or the new one; never a broken file at the branch's path.

use crate::address::{self, is_internal_ref, Address, Source};
use crate::claim::Claim;
use crate::copy::Progress;
use crate::error::Error;
use crate::fork::{self, ForkOptions};
use crate::home::{Config, Home};
use crate::layout;
use crate::ops;
use crate::registry::{Entry, Parent, Registry, Status};
use crate::ttl;
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long `branch put` waits for another process that is building or
/// resetting the same branch.
pub(crate) const WAIT: Duration = Duration::from_secs(30 * 60);

/// What `branch put` should make.
#[derive(Debug, Clone)]
pub struct PutOptions {
    /// `NS/SLUG@REF`.
    pub address: Address,
    /// Copy the rows too (`Some(true)`), only the schema (`Some(false)`), or
    /// as the branch was made (`None`; schema only for a new branch).
    pub with_data: Option<bool>,
    /// Expiry counted from this put; `None` means the configured default
    /// TTL, if any (and no expiry without one).
    pub ttl: Option<Duration>,
}

/// What `branch put` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutAction {
    /// The branch did not exist; it was forked from its parent.
    Created,
    /// The branch's first put had been interrupted; it was finished.
    Resumed,
    /// The branch existed; it now holds the parent's current state.
    Reset,
}

impl PutAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PutAction::Created => "created",
            PutAction::Resumed => "resumed",
            PutAction::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PutOutcome {
    pub entry: Entry,
    pub action: PutAction,
}

/// Check that `addr` names a branch, and return its ref.
pub fn require_ref(addr: &Address) -> Result<&str, Error> {
    match addr.branch.as_deref() {
        Some(r) => {
            address::check_ref(r).map_err(|e| Error::invalid(format!("`{addr}` is not a valid branch: {e}")))?;
            Ok(r)
        }
        None => Err(Error::invalid(format!(
            "`{addr}` names no branch; write NAMESPACE/SLUG@REF, for example {addr}@pr-142"
        ))),
    }
}

/// `branch put`: create the branch, or reset it to its parent's current
/// state (same id, same path). Idempotent: the caller need not know whether
/// the branch exists.
pub fn put(home: &Home, config: &Config, opts: &PutOptions, progress: &mut dyn Progress) -> anyhow::Result<PutOutcome> {
    let addr = &opts.address;
    require_ref(addr)?;
    let parent = addr.database();
    // Validate before anything is written: the parent exists and is healthy.
    fork::resolve_source(home, config, &Source::Registered(parent.clone()))?;
    let reg = Registry::load(home)?;
    let parent_id = reg.require(&parent)?.id.clone();
    // The data mode: as asked, else as the branch was made.
    let with_data = opts.with_data.or_else(|| reg.get(addr).map(|e| e.include_data)).unwrap_or(false);
    let opts = &PutOptions { with_data: Some(with_data), ..opts.clone() };
    let ttl = opts.ttl.or(config.default_ttl);
    let branch_ref = addr.branch.clone().unwrap_or_default();
    let deadline = Instant::now() + WAIT;
    loop {
        let existing = Registry::load(home)?.get(addr).cloned();
        let attempt = match existing {
            // First put, or an interrupted first put that the same fork
            // continues (same parent, same data option).
            None => run_fork(home, config, opts, &branch_ref, ttl, &mut *progress).map(Some),
            Some(e) if resumable(&e, &parent_id, with_data) => {
                run_fork(home, config, opts, &branch_ref, ttl, &mut *progress).map(Some)
            }
            Some(e) => reset(home, config, opts, &e, ttl, deadline, &mut *progress),
        };
        match attempt {
            Ok(Some(out)) => return Ok(out),
            // Another process got in the way; look again.
            Ok(None) => {}
            Err(e) if is_contention(&e, addr) => {}
            Err(e) => return Err(e),
        }
        if Instant::now() >= deadline {
            return Err(Error::Busy { address: addr.clone() }.into());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Fork the parent into the branch (or continue that fork).
fn run_fork(
    home: &Home,
    config: &Config,
    opts: &PutOptions,
    branch_ref: &str,
    ttl: Option<Duration>,
    progress: &mut dyn Progress,
) -> anyhow::Result<PutOutcome> {
    let out = fork::fork(home, config, &fork_options(opts, branch_ref.to_string()), progress)?;
    if out.resumed {
        // Its expiry counts from this put, like a fresh one's.
        let entry = set_expiry(home, &out.entry.id, ttl)?;
        Ok(PutOutcome { entry, action: PutAction::Resumed })
    } else {
        Ok(PutOutcome { entry: out.entry, action: PutAction::Created })
    }
}

fn fork_options(opts: &PutOptions, branch: String) -> ForkOptions {
    let addr = &opts.address;
    ForkOptions {
        source: Source::Registered(addr.database()),
        destination: format!("{}/{}", addr.namespace, addr.slug),
        name: Some(format!("{}@{}", addr.slug, addr.branch.as_deref().unwrap_or_default())),
        ttl: opts.ttl,
        with_data: opts.with_data.unwrap_or(false),
        detach: false,
        branch: Some(branch),
    }
}

fn parent_id(e: &Entry) -> Option<&str> {
    match &e.forked_from {
        Some(Parent::Database { id, .. }) => Some(id),
        _ => None,
    }
}

/// An interrupted fork that the same fork options would continue.
fn resumable(e: &Entry, parent_id_now: &str, with_data: bool) -> bool {
    e.status == Status::Provisioning && e.owned && parent_id(e) == Some(parent_id_now) && e.include_data == with_data
}

/// Errors that mean "another process is busy with this branch, or with
/// its reset's hidden copy, right now": the put looks again.
fn is_contention(err: &anyhow::Error, addr: &Address) -> bool {
    let temp = addr.reset_copy();
    Error::any_in(err, |e| match e {
        Error::Busy { address } => *address == *addr || *address == temp,
        // Two first puts at once: the loser looks again and resets. Or a
        // `db resume` took up (or just finished) an interrupted reset's copy.
        Error::Taken { address } | Error::BeingBuilt { address } => *address == *addr || *address == temp,
        Error::InUse { address } => *address == temp,
        _ => false,
    })
}

/// Reset an existing branch: build a fresh fork beside it, then swap it
/// in. `None` when another process got in the way.
fn reset(
    home: &Home,
    config: &Config,
    opts: &PutOptions,
    branch: &Entry,
    ttl: Option<Duration>,
    deadline: Instant,
    progress: &mut dyn Progress,
) -> anyhow::Result<Option<PutOutcome>> {
    let addr = &opts.address;
    let Some(claim) = Claim::wait(home, &branch.id, deadline)? else {
        return Err(Error::Busy { address: addr.clone() }.into());
    };
    // Look again now that we hold the branch: it may have been deleted or
    // reset meanwhile.
    let reg = Registry::load(home)?;
    let Some(branch) = reg.by_id(&branch.id).cloned() else { return Ok(None) };
    if branch.address() != *addr {
        return Ok(None);
    }
    let temp_addr = addr.reset_copy();
    let parent_id_now = reg.require(&addr.database())?.id.clone();
    if let Some(t) = reg.get(&temp_addr) {
        if t.status == Status::Healthy && !t.path.exists() {
            // A reset killed or cut after its swap's rename: the branch
            // has the new file; finish its registry write, then reset
            // again as asked.
            Registry::update(home, |reg| {
                crate::sweep::finish_interrupted_swaps(reg);
                Ok(())
            })?;
        } else if !resumable(t, &parent_id_now, opts.with_data.unwrap_or(false)) {
            // What an interrupted reset left: continue its copy if it is
            // the same fork, else start over.
            ops::delete(home, &temp_addr)?;
        }
    }
    let mut fork_opts = fork_options(opts, temp_addr.branch.clone().unwrap_or_default());
    fork_opts.name = Some(branch.name.clone());
    // The temporary fork has its own claim; the branch's stays ours.
    let built = fork::fork(home, config, &fork_opts, progress)?;
    let entry = swap(home, &branch, &built.entry, ttl)?;
    // Releasing the claim tidies its file away as a finished build does.
    drop(claim);
    Ok(Some(PutOutcome { entry, action: PutAction::Reset }))
}

/// Put the finished fork `temp` in place of `branch`: its file is renamed
/// over the branch's path and the branch's entry takes its figures, under
/// the registry lock.
fn swap(home: &Home, branch: &Entry, temp: &Entry, ttl: Option<Duration>) -> anyhow::Result<Entry> {
    settle(&branch.path);
    std::fs::File::open(&temp.path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("could not sync the new copy of {}", branch.address()))?;
    let now = ttl::now();
    let entry = Registry::update(home, |reg| {
        let t = reg.by_id(&temp.id).cloned().filter(|t| t.status == Status::Healthy).ok_or_else(|| {
            Error::failed(format!("the new copy of {} disappeared before it could be put in place", branch.address()))
        })?;
        if reg.by_id(&branch.id).is_none() {
            return Err(Error::NotFound { address: branch.address() }.into());
        }
        // Nothing beside the path may belong to the old file: a stale
        // journal or WAL would be replayed into the new one.
        layout::remove_sqlite_side_files(&branch.path);
        std::fs::rename(&t.path, &branch.path).map_err(|e| {
            Error::failed(format!(
                "could not put the new copy of {} in place ({e}); the branch is unchanged",
                branch.address()
            ))
        })?;
        if let Some(dir) = branch.path.parent() {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        // The commit point: a cut from here to the registry save is rolled
        // forward by the next registry write (`sweep::finish_interrupted_swaps`).
        crate::env::test_pause("swap-renamed");
        reg.remove_id(&t.id);
        let b = reg.by_id_mut(&branch.id).expect("checked above");
        b.status = Status::Healthy;
        b.forked_from = t.forked_from;
        b.forked_at = t.forked_at;
        b.include_data = t.include_data;
        b.copy = t.copy;
        b.expires_at = ttl.map(|d| ttl::format_time(now + d));
        Ok(b.clone())
    })?;
    layout::remove_copy_state(home, &temp.id);
    Ok(entry)
}

/// Bring the old branch file to a state where nothing beside it matters:
/// roll back a hot journal and checkpoint a WAL (best effort).
fn settle(path: &Path) {
    if let Ok(conn) =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    {
        let _ = conn.busy_timeout(Duration::from_secs(2));
        let _ = conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()));
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let _ = conn.close();
    }
}

/// Set an entry's expiry to now + `ttl` (or none).
fn set_expiry(home: &Home, id: &str, ttl: Option<Duration>) -> anyhow::Result<Entry> {
    let now = ttl::now();
    Registry::update(home, |reg| {
        let e = reg.by_id_mut(id).ok_or_else(|| Error::failed("the branch's entry disappeared"))?;
        e.expires_at = ttl.map(|d| ttl::format_time(now + d));
        Ok(e.clone())
    })
}

/// The branches of `db` (internal reset forks aside), sorted by ref.
pub fn list(home: &Home, db: &Address) -> anyhow::Result<Vec<Entry>> {
    let db = db.database();
    let reg = Registry::load(home)?;
    let mut out: Vec<Entry> = reg
        .databases
        .iter()
        .filter(|e| e.namespace == db.namespace && e.slug == db.slug)
        .filter(|e| e.branch.as_deref().is_some_and(|r| !is_internal_ref(r)))
        .cloned()
        .collect();
    if out.is_empty() && reg.get(&db).is_none() {
        return Err(Error::NotFound { address: db }.into());
    }
    out.sort_by_key(|e| e.address());
    Ok(out)
}

/// Remove what an interrupted reset of `addr` left (best effort).
pub(crate) fn remove_reset_leftover(home: &Home, addr: &Address) {
    if addr.branch.is_none() {
        return;
    }
    let temp = addr.reset_copy();
    if Registry::load(home).is_ok_and(|r| r.get(&temp).is_some()) {
        let _ = ops::delete(home, &temp);
    }
}

/// `branch delete`: remove the branch (its file is owned) and anything an
/// interrupted reset left.
pub fn delete(home: &Home, addr: &Address) -> anyhow::Result<Entry> {
    require_ref(addr)?;
    let e = ops::delete(home, addr)?;
    remove_reset_leftover(home, addr);
    Ok(e)
}
