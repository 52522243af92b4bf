//! Resetting a database in place: `db reset` and the reset half of
//! `branch put`.
//!
//! A reset is atomic. The new state is built as a separate, hidden fork
//! (`NS/SLUG@REF~reset`, or `NS/SLUG@~reset` for a database that is not a
//! branch: a ref no user can type, because `~` is not allowed in refs)
//! while the database itself stays healthy and readable. Once that fork is
//! complete, its file is renamed over the database's file and the
//! database's entry takes over its figures, in one step under the registry
//! lock. Throughout, the database's build claim is held, so `db delete`,
//! `db gc` and other resets of the same database wait or refuse.
//!
//! A crash during a reset therefore leaves either the old state (the
//! half-built hidden fork beside it is resumed or replaced by the next
//! reset) or the new one; never a mix at the database's path. Same id, same
//! path: a connection string stays valid.

mod command;
mod in_place;
mod pages;

pub(crate) use command::{parent_source, reset, ResetOptions, ResetOutcome};
use in_place::write_in_place;
use pages::{record_page_reset, write_changed_pages};

use crate::address::{Address, Source};
use crate::claim::Claim;
use crate::copy::Progress;
use crate::error::Error;
use crate::fork::{self, ForkOptions};
use crate::holders::{self, WhenOpen};
use crate::home::{Config, Home};
use crate::layout;
use crate::ops;
use crate::registry::{Entry, Parent, Registry, Status, Store};
use crate::ttl;
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a reset waits for another process that is building, resetting
/// or deleting the same database.
pub(crate) const WAIT: Duration = Duration::from_secs(30 * 60);

/// What becomes of the expiry when a reset swaps the new state in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Keep the expiry the database has.
    Keep,
    /// Expire this long from the reset (`None`: never).
    FromNow(Option<Duration>),
}

/// One reset to carry out.
pub(crate) struct Plan<'a> {
    pub target: &'a Entry,
    pub source: Source,
    pub with_data: bool,
    /// Keep the database's lineage (a reset to its own snapshot) instead of
    /// taking the new copy's.
    pub keep_lineage: bool,
    /// The data mode the database remembers for its next reset.
    pub remember_data: bool,
    pub expiry: Expiry,
    /// Masking rules and subset filters for the new copy. Without any, a
    /// reset to the parent makes the same kind of fork as the target's last
    /// one (its recorded rules file is read again); a reset to the target's
    /// own snapshot restores it as it was (already masked, if it was).
    pub safe: crate::mask::SafeOptions,
    /// What to do when other processes have the database open.
    pub when_open: WhenOpen,
    /// Run on the finished new copy before it is put in place (`db
    /// rebase` applies the fork's own changes to it); an error leaves the
    /// database as it was.
    pub before_swap: Option<&'a BeforeSwap<'a>>,
}

/// See [`Plan::before_swap`].
pub(crate) type BeforeSwap<'b> = dyn Fn(&Entry) -> anyhow::Result<()> + 'b;

/// Build a fresh copy of the plan's source beside the target and rename it
/// over. `None` when another process got in the way (the caller looks
/// again).
pub(crate) fn reset_in_place(
    home: &Home,
    config: &Config,
    plan: &Plan,
    deadline: Instant,
    progress: &mut dyn Progress,
) -> anyhow::Result<Option<Entry>> {
    let addr = plan.target.address();
    let Some(claim) = Claim::wait(home, &plan.target.id, deadline)? else {
        return Err(Error::Busy { address: addr.clone() }.into());
    };
    // Look again now that we hold the database: it may have been deleted or
    // reset meanwhile.
    let reg = Store::open(home)?;
    let Some(target) = reg.by_id(&plan.target.id)? else { return Ok(None) };
    if target.address() != addr {
        return Ok(None);
    }
    // Before any copy: refuse a reset that would cut off a running
    // application (asked again just before the rename).
    if plan.when_open == WhenOpen::Refuse {
        refuse_if_open(&target)?;
    }
    let src = fork::resolve_source(home, config, &plan.source)?;
    let temp_addr = addr.reset_copy();
    if let Some(t) = reg.get(&temp_addr)? {
        // What an interrupted reset left: continue its copy if it is the
        // same fork, else start over. One killed or cut after its swap's
        // rename (its commit point) is finished first: deleting its entry
        // would finish it too but fail, and save nothing.
        // A masked or subset copy is never continued (its rules are not
        // kept beside it).
        let same = t.status == Status::Provisioning
            && t.safe.is_none()
            && t.include_data == plan.with_data
            && t.forked_from.as_ref().is_some_and(|p| same_parent(p, &src.parent));
        if t.status == Status::Healthy && !t.path.exists() {
            Registry::update(home, |reg| {
                crate::sweep::finish_interrupted_swaps(reg);
                Ok(())
            })?;
        } else if !same {
            ops::delete(home, &temp_addr)?;
        }
    }
    // Where the file system cannot clone, write only the pages that differ
    // (in one SQLite transaction, into the same file) when that is the
    // cheaper way.
    if plan.with_data && target.owned && target.safe.is_none() && !plan.safe.is_active() {
        let started = Instant::now();
        if let Some(written) = write_changed_pages(home, &target.path, &src.path)? {
            if Store::open(home)?.get(&temp_addr)?.is_some() {
                // An interrupted copy of an earlier reset: not needed now.
                ops::delete(home, &temp_addr)?;
            }
            let entry = record_page_reset(home, &target, &src.parent, plan, written, started)?;
            drop(claim);
            return Ok(Some(entry));
        }
    }
    // The hidden copy expires when the database will after the reset, so
    // that `db gc` tidies away one a killed reset leaves.
    let ttl = match plan.expiry {
        Expiry::FromNow(ttl) => ttl,
        Expiry::Keep => target
            .expires_at
            .as_deref()
            .and_then(ttl::parse_time)
            .map(|t| t.duration_since(ttl::now()).unwrap_or_default()),
    };
    let fork_opts = ForkOptions {
        source: plan.source.clone(),
        destination: format!("{}/{}", addr.namespace, addr.slug),
        name: Some(target.name.clone()),
        ttl,
        with_data: plan.with_data,
        detach: false,
        branch: temp_addr.branch.clone(),
        safe: match (&target.safe, plan.safe.is_active()) {
            (Some(rec), false) if plan.with_data && !plan.keep_lineage => crate::mask::SafeOptions::from_record(rec)?,
            _ => plan.safe.clone(),
        },
        // A fork that kept a base keeps one for its new state.
        mergeable: target.base.is_some() && !plan.keep_lineage,
    };
    // The temporary fork has its own claim; the database's stays ours.
    let built = fork::fork(home, config, &fork_opts, progress)?;
    if let Some(hook) = plan.before_swap {
        hook(&built.entry)?;
    }
    let entry = match plan.when_open {
        WhenOpen::InPlace => write_in_place(home, &target, &built.entry, plan, deadline).inspect_err(|_| {
            // The database is unchanged; its copy goes.
            let _ = ops::delete(home, &built.entry.address());
        })?,
        WhenOpen::Refuse | WhenOpen::Force => swap(home, &target, &built.entry, plan)?,
    };
    // Releasing the claim tidies its file away as a finished build does.
    drop(claim);
    Ok(Some(entry))
}

fn same_parent(a: &Parent, b: &Parent) -> bool {
    match (a, b) {
        (Parent::Database { id: a, snapshot: sa, .. }, Parent::Database { id: b, snapshot: sb, .. }) => {
            a == b && sa.as_ref().map(|s| &s.id) == sb.as_ref().map(|s| &s.id)
        }
        (Parent::Path(a), Parent::Path(b)) => a == b,
        _ => false,
    }
}

/// Run `attempt` (given the deadline) until it is done (`Some`), looking
/// again every 25 ms while another process is busy with `addr` (`None`, or
/// an error [`is_contention`] recognises), for up to [`WAIT`]; then
/// `Error::Busy`.
pub(crate) fn until_free<T>(
    addr: &Address,
    mut attempt: impl FnMut(Instant) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + WAIT;
    loop {
        match attempt(deadline) {
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

/// Errors that mean "another process is busy with this database, or with
/// its reset's hidden copy, right now": the reset looks again.
pub(crate) fn is_contention(err: &anyhow::Error, addr: &Address) -> bool {
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

/// Put the finished fork `temp` in place of `target`: its file is renamed
/// over the target's path and the target's entry takes its figures, under
/// the registry lock.
fn swap(home: &Home, target: &Entry, temp: &Entry, plan: &Plan) -> anyhow::Result<Entry> {
    settle(&target.path);
    std::fs::File::open(&temp.path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("could not sync the new copy of {}", target.address()))?;
    let now = ttl::now();
    let entry = Registry::update(home, |reg| {
        let t = reg.by_id(&temp.id).cloned().filter(|t| t.status == Status::Healthy).ok_or_else(|| {
            Error::failed(format!("the new copy of {} disappeared before it could be put in place", target.address()))
        })?;
        if reg.by_id(&target.id).is_none() {
            return Err(Error::NotFound { address: target.address() }.into());
        }
        if plan.when_open == WhenOpen::Refuse {
            refuse_if_open(target)?;
        }
        // Nothing beside the path may belong to the old file: a stale
        // journal or WAL would be replayed into the new one.
        layout::remove_sqlite_side_files(&target.path);
        std::fs::rename(&t.path, &target.path).map_err(|e| {
            Error::failed(format!("could not put the new copy of {} in place ({e}); it is unchanged", target.address()))
        })?;
        if let Some(dir) = target.path.parent() {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        // The commit point: a cut from here to the registry save is rolled
        // forward by the next registry write (`sweep::finish_interrupted_swaps`).
        crate::env::test_pause("swap-renamed");
        reg.remove_id(&t.id);
        Ok(take_over(home, reg, &target.id, t, plan, now))
    })?;
    layout::remove_copy_state(home, &temp.id);
    layout::remove_base_file(home, &temp.id);
    Ok(entry)
}

/// The target's entry takes the finished copy `t`'s figures (and lineage,
/// data mode, rules and expiry as the plan says).
fn take_over(
    home: &Home,
    reg: &mut Registry,
    target_id: &str,
    t: Entry,
    plan: &Plan,
    now: std::time::SystemTime,
) -> Entry {
    // The base: the new copy's, moved beside the database (a reset to the
    // parent starts the fork over from the parent's state now); a reset to
    // its own snapshot keeps the base it had.
    let new_base = (!plan.keep_lineage).then(|| move_base(home, &t, target_id));
    let b = reg.by_id_mut(target_id).expect("checked by the caller");
    if let Some(base) = new_base {
        b.base = base;
    }
    b.status = Status::Healthy;
    if !plan.keep_lineage {
        b.forked_from = t.forked_from;
        b.forked_at = t.forked_at;
    }
    b.include_data = plan.remember_data;
    b.copy = t.copy;
    // Back to its own snapshot without new rules: it is what it was.
    if t.safe.is_some() || !plan.keep_lineage {
        b.safe = t.safe;
    }
    if let Expiry::FromNow(ttl) = plan.expiry {
        b.expires_at = ttl.map(|d| ttl::format_time(now + d));
    }
    b.clone()
}

/// Exit 4 naming the processes that have the target open, if any.
fn refuse_if_open(target: &Entry) -> Result<(), Error> {
    let holders = holders::find(&target.path);
    if holders.is_empty() {
        Ok(())
    } else {
        Err(Error::OpenElsewhere { address: target.address(), holders })
    }
}

/// Move the base of the hidden copy `temp` to database `id`'s base file;
/// the base `id` ends with (none when `temp` kept none, or its file could
/// not be moved).
pub(crate) fn move_base(home: &Home, temp: &Entry, id: &str) -> Option<crate::registry::Base> {
    let to = layout::base_file(home, id);
    let base = temp.base.clone()?;
    if base.kind == crate::registry::BaseKind::Snapshot {
        layout::remove_base_file(home, id);
        return Some(base);
    }
    match std::fs::rename(layout::base_file(home, &temp.id), &to) {
        Ok(()) => Some(base),
        Err(_) => {
            layout::remove_base_file(home, id);
            None
        }
    }
}

/// Bring a database file to a state where nothing beside it matters:
/// roll back a hot journal and checkpoint a WAL (best effort).
pub(crate) fn settle(path: &Path) {
    if let Ok(conn) =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    {
        let _ = conn.busy_timeout(Duration::from_secs(2));
        let _ = conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()));
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let _ = conn.close();
    }
}
