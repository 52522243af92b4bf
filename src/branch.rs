//! Branches: `NS/SLUG@REF`, a fork of `NS/SLUG` that `branch put` creates
//! on first use and resets to the parent's current state on every later
//! use, keeping its id and its path so that a CI connection string stays
//! valid.
//!
//! A reset is the one mechanism of `db reset` (see `reset`): built beside
//! the branch as a hidden fork and renamed over it, so a crash leaves the
//! old branch or the new one, never a mix. A branch remembers whether it was
//! made with data, and a later put resets it the same way unless told
//! otherwise.

use crate::address::{self, is_internal_ref, Address, Source};
use crate::copy::Progress;
use crate::error::Error;
use crate::fork::{self, ForkOptions};
use crate::home::{Config, Home};
use crate::ops;
use crate::registry::{Entry, Parent, Registry, Status};
use crate::reset::{self, Expiry};
use crate::ttl;
use std::time::{Duration, Instant};

/// What `branch put` should make.
#[derive(Debug, Clone)]
pub(crate) struct PutOptions {
    /// `NS/SLUG@REF`.
    pub address: Address,
    /// Copy the rows too (`Some(true)`), only the schema (`Some(false)`), or
    /// as the branch was made (`None`; schema only for a new branch).
    pub with_data: Option<bool>,
    /// Expiry counted from this put; `None` means the configured default
    /// TTL, if any (and no expiry without one).
    pub ttl: Option<Duration>,
    /// Masking rules and subset filters. A reset without any makes the
    /// same kind of fork as the branch's last put (its rules file is read
    /// again).
    pub safe: crate::mask::SafeOptions,
    /// What a reset does when other processes have the branch open.
    pub when_open: crate::holders::WhenOpen,
}

/// What `branch put` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutAction {
    /// The branch did not exist; it was forked from its parent.
    Created,
    /// The branch's first put had been interrupted; it was finished.
    Resumed,
    /// The branch existed; it now holds the parent's current state.
    Reset,
}

impl PutAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PutAction::Created => "created",
            PutAction::Resumed => "resumed",
            PutAction::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PutOutcome {
    pub entry: Entry,
    pub action: PutAction,
}

/// Check that `addr` names a branch, and return its ref.
pub(crate) fn require_ref(addr: &Address) -> Result<&str, Error> {
    match addr.branch.as_deref() {
        Some(r) => {
            address::check_ref(r).map_err(|e| {
                crate::error::Error::BadAddress(e.within(format!("`{addr}` is not a valid branch: {e}")))
            })?;
            Ok(r)
        }
        None => Err(crate::error::Error::bad_address(
            crate::address::AddressProblem::NoBranch,
            format!("`{addr}` names no branch; write NAMESPACE/SLUG@REF, for example {addr}@pr-142"),
        )),
    }
}

/// `branch put`: create the branch, or reset it to its parent's current
/// state (same id, same path). Idempotent: the caller need not know whether
/// the branch exists.
pub(crate) fn put(
    home: &Home,
    config: &Config,
    opts: &PutOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<PutOutcome> {
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
    reset::until_free(addr, |deadline| {
        let existing = Registry::load(home)?.get(addr).cloned();
        match existing {
            // First put, or an interrupted first put that the same fork
            // continues (same parent, same data option).
            None => run_fork(home, config, opts, &branch_ref, ttl, &mut *progress).map(Some),
            Some(e) if resumable(&e, &parent_id, with_data) => {
                run_fork(home, config, opts, &branch_ref, ttl, &mut *progress).map(Some)
            }
            Some(e) => reset_branch(home, config, opts, &e, ttl, deadline, &mut *progress),
        }
    })
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
        safe: opts.safe.clone(),
        mergeable: false,
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

/// Reset an existing branch to its parent's current state with the shared
/// reset mechanism (see `reset`). `None` when another process got in the
/// way.
fn reset_branch(
    home: &Home,
    config: &Config,
    opts: &PutOptions,
    branch: &Entry,
    ttl: Option<Duration>,
    deadline: Instant,
    progress: &mut dyn Progress,
) -> anyhow::Result<Option<PutOutcome>> {
    let with_data = opts.with_data.unwrap_or(branch.include_data);
    let plan = reset::Plan {
        target: branch,
        source: Source::Registered(opts.address.database()),
        with_data,
        keep_lineage: false,
        remember_data: with_data,
        // Without `--ttl` (or `default_ttl`, which counts from every put)
        // the branch keeps its expiry, as `db reset` does: a put that
        // forgot the flag must not make a CI branch live for ever.
        expiry: match ttl {
            Some(d) => Expiry::FromNow(Some(d)),
            None => Expiry::Keep,
        },
        safe: opts.safe.clone(),
        when_open: opts.when_open,
        before_swap: None,
    };
    Ok(reset::reset_in_place(home, config, &plan, deadline, progress)?
        .map(|entry| PutOutcome { entry, action: PutAction::Reset }))
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
pub(crate) fn list(home: &Home, db: &Address) -> anyhow::Result<Vec<Entry>> {
    let db = db.database();
    let reg = crate::registry::Store::open(home)?;
    let mut out: Vec<Entry> = reg
        .with_name(&db.namespace, &db.slug)?
        .into_iter()
        .filter(|e| e.branch.as_deref().is_some_and(|r| !is_internal_ref(r)))
        .collect();
    if out.is_empty() {
        reg.require(&db)?;
    }
    out.sort_by_key(|e| e.address());
    Ok(out)
}

/// Remove what an interrupted reset or snapshot of `addr` left: the hidden
/// forks `NS/SLUG@REF~…` (best effort).
pub(crate) fn remove_reset_leftover(home: &Home, addr: &Address) {
    let prefix = format!("{}~", addr.branch.as_deref().unwrap_or_default());
    let Ok(all) = crate::registry::Store::open(home).and_then(|s| s.with_name(&addr.namespace, &addr.slug)) else {
        return;
    };
    for e in all.iter().filter(|e| e.branch.as_deref().is_some_and(|b| b.starts_with(&prefix))) {
        let _ = ops::delete(home, &e.address());
    }
}

/// `branch delete`: remove the branch (its file is owned) and anything an
/// interrupted reset left.
pub(crate) fn delete(home: &Home, addr: &Address) -> anyhow::Result<Entry> {
    require_ref(addr)?;
    let e = ops::delete(home, addr)?;
    remove_reset_leftover(home, addr);
    Ok(e)
}
