//! Pools: N forks of one database for N parallel test workers
//! (pytest-xdist, `cargo test`, Go's `t.Parallel`, Django's `--parallel`).
//!
//! `pool create NS/SLUG --size N` takes the snapshot `NS/SLUG:pool-base`
//! (the pool's base state) and forks it into the branches
//! `NS/SLUG@pool-1` … `NS/SLUG@pool-N`: ordinary databases that `db path`
//! and `db show` know. A slot's state lives in its lease file
//! (`pools/<slot id>.lease`, see `layout`): who holds it (a pid and that
//! process's start time, field 22 of `/proc/PID/stat`) and whether it was
//! handed out since its last reset (dirty).
//!
//! A lease is tied to a live process: a slot whose holder has died, or
//! whose pid now names another process (a different start time), is free.
//! So a worker killed with `kill -9` cannot leak its slot. Lease files are
//! read and written (a temporary file, synced, renamed over) only under the
//! pool's lock (`pools/<base id>.lock`, a `flock`), so two processes
//! leasing at once never get the same slot.
//!
//! A dirty slot is reset to the base when it is leased (by `reset`: on
//! ext4 only the changed pages are written, on XFS/btrfs a clone), outside
//! the pool's lock, so a return is instant and leases of other slots do not
//! wait for it. The slot is marked dirty before it is handed out, so a
//! crash during the reset leaves it dirty and the next lease resets it.

mod lease;
mod sdk;

use lease::{ensure_dir, lock, read_state, write_state, LeaseState};
pub(crate) use lease::{holder_for, Holder};
pub use sdk::{PoolLease, PoolOptions, PoolSlot};

use crate::address::{Address, Source};
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::layout;
use crate::registry::{Entry, Store};
use crate::ttl;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The name of a pool's base snapshot (`NS/SLUG:pool-base`).
pub(crate) const BASE_SNAPSHOT: &str = "pool-base";
/// The ref prefix of a pool's slots (`NS/SLUG@pool-1`).
const SLOT_PREFIX: &str = "pool-";
/// The most slots a pool may have.
pub(crate) const MAX_SIZE: usize = 256;

/// One slot as `pool list` shows it.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// 1-based.
    pub number: u32,
    pub entry: Entry,
    /// The live process holding it, if any.
    pub holder: Option<Holder>,
    pub leased_at: Option<String>,
    pub dirty: bool,
}

/// What `pool create` makes.
#[derive(Debug, Clone)]
pub(crate) struct CreateOptions {
    pub address: Address,
    pub size: usize,
    pub with_data: bool,
    pub ttl: Option<Duration>,
}

fn slot_ref(n: u32) -> String {
    format!("{SLOT_PREFIX}{n}")
}

fn slot_number(r: &str) -> Option<u32> {
    r.strip_prefix(SLOT_PREFIX)
        .and_then(|n| n.parse().ok())
        .filter(|n: &u32| *n >= 1 && n.to_string().len() == r.len() - SLOT_PREFIX.len())
}

fn base_snapshot(db: &Address) -> crate::address::SnapshotAddress {
    crate::address::SnapshotAddress { database: db.clone(), name: BASE_SNAPSHOT.to_string() }
}

/// The base database and its slots, numbered; `NoPool` when it has none.
fn load(home: &Home, db: &Address) -> anyhow::Result<(Entry, Vec<(u32, Entry)>)> {
    let store = Store::open(home)?;
    let base = store.require(db)?;
    let has_base = store.snapshots_of(&base.id)?.iter().any(|s| s.name == BASE_SNAPSHOT);
    let mut slots: Vec<(u32, Entry)> = store
        .with_name(&db.namespace, &db.slug)?
        .into_iter()
        .filter_map(|e| e.branch.as_deref().and_then(slot_number).map(|n| (n, e.clone())))
        .collect();
    if making_file(home, &base.id).exists() {
        return Err(Error::PoolIncomplete { address: db.clone() }.into());
    }
    if !has_base || slots.is_empty() {
        return Err(Error::NoPool { address: db.clone() }.into());
    }
    slots.sort_by_key(|(n, _)| *n);
    Ok((base, slots))
}

/// Present from before a pool's first file is made until its last slot
/// is: a pool a power cut stopped half-way is never listed as a smaller one.
fn making_file(home: &Home, base_id: &str) -> PathBuf {
    layout::pools_dir(home).join(format!("{base_id}.making"))
}

/// Create (`on`) or remove the making mark, durably.
fn mark_making(home: &Home, base_id: &str, on: bool) -> anyhow::Result<()> {
    let path = making_file(home, base_id);
    if on {
        ensure_dir(home)?;
        layout::create_private_file(&path)?.sync_all()?;
    } else {
        std::fs::remove_file(&path)?;
    }
    layout::sync_dir(&layout::pools_dir(home))?;
    Ok(())
}

/// `pool create`: the base snapshot and `size` slots forked from it.
/// Nothing is left behind when it fails.
pub(crate) fn create(
    home: &Home,
    config: &Config,
    opts: &CreateOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<Vec<Slot>> {
    let db = &opts.address;
    if db.branch.is_some() {
        return Err(Error::bad_address(
            crate::address::AddressProblem::NamesABranch,
            format!("`{db}` is a branch; a pool is made of a database NS/SLUG"),
        )
        .into());
    }
    if opts.size == 0 || opts.size > MAX_SIZE {
        return Err(Error::PoolSize { size: opts.size, max: MAX_SIZE }.into());
    }
    if let Some(t) = opts.ttl {
        ttl::check_ttl(t)?;
    }
    match load(home, db) {
        Ok(_) => return Err(Error::PoolExists { address: db.clone() }.into()),
        Err(e) if Error::any_in(&e, |e| matches!(e, Error::NoPool { .. })) => {}
        Err(e) => return Err(e),
    }
    // A slot address that is taken (by a user's branch, or a pool half
    // made and not deleted) is refused before anything is written.
    let store = Store::open(home)?;
    for n in 1..=opts.size as u32 {
        let a = Address { branch: Some(slot_ref(n)), ..db.clone() };
        if store.get(&a)?.is_some() {
            return Err(Error::Taken { address: a }.into());
        }
    }
    if store.snapshots_of(&store.require(db)?.id)?.iter().any(|s| s.name == BASE_SNAPSHOT) {
        return Err(Error::SnapshotTaken { snapshot: base_snapshot(db) }.into());
    }
    let base_id = store.require(db)?.id;
    drop(store);
    mark_making(home, &base_id, true)?;
    let made = (|| -> anyhow::Result<()> {
        crate::snapshot::create(
            home,
            config,
            &crate::snapshot::CreateOptions { address: db.clone(), name: Some(BASE_SNAPSHOT.into()), ttl: opts.ttl },
            &mut *progress,
        )?;
        for n in 1..=opts.size as u32 {
            crate::fork::fork(
                home,
                config,
                &crate::fork::ForkOptions {
                    source: Source::Snapshot(base_snapshot(db)),
                    destination: format!("{}/{}", db.namespace, db.slug),
                    name: Some(format!("{}@{}", db.slug, slot_ref(n))),
                    ttl: opts.ttl,
                    with_data: opts.with_data,
                    detach: false,
                    branch: Some(slot_ref(n)),
                    safe: Default::default(),
                    // Its base is the pool's base snapshot: free.
                    mergeable: false,
                },
                &mut *progress,
            )?;
        }
        Ok(())
    })();
    if let Err(e) = made.and_then(|()| mark_making(home, &base_id, false)) {
        let _ = remove(home, db, opts.size as u32);
        let _ = mark_making(home, &base_id, false);
        return Err(e);
    }
    list(home, db)
}

/// The slots of `db`'s pool with their holders.
pub(crate) fn list(home: &Home, db: &Address) -> anyhow::Result<Vec<Slot>> {
    let (_, slots) = load(home, db)?;
    Ok(slots
        .into_iter()
        .map(|(number, entry)| {
            let st = read_state(home, &entry.id);
            let holder = st.holder.filter(Holder::alive);
            Slot { number, leased_at: holder.and(st.leased_at), holder, dirty: st.dirty, entry }
        })
        .collect())
}

/// `pool lease`: hand out a free slot to `holder`, waiting up to `timeout`
/// for one; reset it to the base first if it was used since.
pub(crate) fn lease(
    home: &Home,
    config: &Config,
    db: &Address,
    holder: Holder,
    timeout: Duration,
) -> anyhow::Result<Slot> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        let (base, slots) = load(home, db)?;
        let picked = {
            let _lock = lock(home, &base)?;
            let mut picked = None;
            for (n, e) in &slots {
                let st = read_state(home, &e.id);
                if st.holder.is_some_and(|h| h.alive()) {
                    continue;
                }
                let now = ttl::format_time(ttl::now());
                // Marked dirty before it is handed out: the holder writes.
                write_state(
                    home,
                    &e.id,
                    &LeaseState { holder: Some(holder), leased_at: Some(now.clone()), dirty: true },
                )?;
                picked = Some((*n, e.clone(), st.dirty, now));
                break;
            }
            picked
        };
        if let Some((number, entry, dirty, leased_at)) = picked {
            if dirty {
                if let Err(e) = reset_slot(home, config, &entry) {
                    // Not handed out: free again (still dirty).
                    let _ = release(home, db, &entry.id, Some(holder));
                    return Err(e);
                }
            }
            let entry = Store::open(home)?.by_id(&entry.id)?.unwrap_or(entry);
            return Ok(Slot { number, entry, holder: Some(holder), leased_at: Some(leased_at), dirty: true });
        }
        if Instant::now() >= deadline {
            return Err(Error::PoolBusy { address: db.clone(), size: slots.len(), waited: timeout }.into());
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Back to the pool's base: `db reset` of the slot (to the snapshot it was
/// forked from), replacing the file even if a returned worker still has it
/// open (it gave the slot back).
fn reset_slot(home: &Home, config: &Config, slot: &Entry) -> anyhow::Result<()> {
    crate::reset::reset(
        home,
        config,
        &crate::reset::ResetOptions {
            address: slot.address(),
            to: None,
            with_data: None,
            ttl: None,
            safe: Default::default(),
            when_open: crate::holders::WhenOpen::Force,
        },
        &mut crate::copy::NoProgress,
    )?;
    Ok(())
}

/// Which slot `what` names: its number (`3`), its address
/// (`NS/SLUG@pool-3`) or its file's path.
pub(crate) fn find_slot(home: &Home, db: &Address, what: &str) -> anyhow::Result<(u32, Entry)> {
    let (_, slots) = load(home, db)?;
    let by_path = |p: &Path| {
        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        slots.iter().find(|(_, e)| std::fs::canonicalize(&e.path).unwrap_or_else(|_| e.path.clone()) == p)
    };
    let found = if let Ok(n) = what.parse::<u32>() {
        slots.iter().find(|(m, _)| *m == n)
    } else if let Ok(a) = Address::parse(what) {
        slots.iter().find(|(_, e)| e.address() == a)
    } else {
        by_path(Path::new(what))
    };
    found
        .cloned()
        .ok_or_else(|| Error::NoSuchSlot { address: db.clone(), slot: what.into(), slots: slots.len() }.into())
}

/// `pool return`: the slot is free again (reset at its next lease).
/// `expect`: return it only if this holder still has it (a guard).
pub(crate) fn give_back(home: &Home, db: &Address, what: &str) -> anyhow::Result<Slot> {
    let (number, entry) = find_slot(home, db, what)?;
    if !release(home, db, &entry.id, None)? {
        return Err(Error::SlotNotLeased { address: db.clone(), slot: entry.address().to_string() }.into());
    }
    Ok(Slot { number, entry, holder: None, leased_at: None, dirty: true })
}

/// Free slot `slot_id` if a live process holds it (`expect`: only if that
/// one does). True when it was held.
pub(crate) fn release(home: &Home, db: &Address, slot_id: &str, expect: Option<Holder>) -> anyhow::Result<bool> {
    let base = Store::open(home)?.require(db)?;
    let _lock = lock(home, &base)?;
    let st = read_state(home, slot_id);
    let held = match (st.holder, expect) {
        (Some(h), Some(want)) => h == want,
        (Some(h), None) => h.alive(),
        (None, _) => false,
    };
    if held {
        write_state(home, slot_id, &LeaseState { holder: None, leased_at: None, dirty: st.dirty })?;
    }
    Ok(held)
}

/// `pool delete`: every slot, the base snapshot and the lease files.
/// Refused while a live process holds a slot, unless `force`.
pub(crate) fn delete(home: &Home, db: &Address, force: bool) -> anyhow::Result<usize> {
    // A pool whose making was stopped half-way: what was made goes.
    let base_id = Store::open(home)?.require(db)?.id;
    if making_file(home, &base_id).exists() {
        remove(home, db, MAX_SIZE as u32)?;
        mark_making(home, &base_id, false)?;
        return Ok(0);
    }
    let slots = list(home, db)?;
    if !force {
        if let Some(s) = slots.iter().find(|s| s.holder.is_some()) {
            let pid = s.holder.map(|h| h.pid).unwrap_or_default();
            return Err(Error::SlotLeased {
                address: db.clone(),
                slot: s.entry.address().to_string(),
                number: s.number,
                pid,
            }
            .into());
        }
    }
    let n = slots.iter().map(|s| s.number).max().unwrap_or(0);
    remove(home, db, n)?;
    if let Ok(base) = Store::open(home)?.require(db) {
        let _ = std::fs::remove_file(layout::pool_lock_file(home, &base.id));
    }
    Ok(slots.len())
}

/// Remove slots 1..=n (and any other `@pool-N` branch of `db`), their
/// lease files and the base snapshot; what is missing is skipped.
fn remove(home: &Home, db: &Address, n: u32) -> anyhow::Result<()> {
    let store = Store::open(home)?;
    let mut slots: Vec<Entry> = store
        .with_name(&db.namespace, &db.slug)?
        .into_iter()
        .filter(|e| e.branch.as_deref().and_then(slot_number).is_some_and(|m| m <= n.max(MAX_SIZE as u32)))
        .collect();
    slots.sort_by_key(|e| e.address());
    drop(store);
    for e in slots {
        crate::branch::delete(home, &e.address())?;
        let _ = std::fs::remove_file(layout::lease_file(home, &e.id));
    }
    match crate::snapshot::delete(home, &base_snapshot(db)) {
        Ok(_) => Ok(()),
        Err(e) if Error::any_in(&e, |e| matches!(e, Error::SnapshotNotFound { .. })) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_refs_round_trip() {
        assert_eq!(slot_number(&slot_ref(7)), Some(7));
        assert_eq!(slot_number("pool-0"), None);
        assert_eq!(slot_number("pool-07"), None);
        assert_eq!(slot_number("pool-base"), None);
        assert_eq!(slot_number("pr-1"), None);
    }
}
