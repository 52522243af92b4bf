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

use crate::address::{Address, Source};
use crate::api::Sqlfork;
use crate::claim::FileLock;
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::layout;
use crate::registry::{Entry, Store};
use crate::ttl;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The name of a pool's base snapshot (`NS/SLUG:pool-base`).
pub(crate) const BASE_SNAPSHOT: &str = "pool-base";
/// The ref prefix of a pool's slots (`NS/SLUG@pool-1`).
const SLOT_PREFIX: &str = "pool-";
/// The most slots a pool may have.
pub(crate) const MAX_SIZE: usize = 256;
/// How long the pool's lock is waited for (it is held for milliseconds).
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The process a lease belongs to: its pid and start time (clock ticks
/// since boot, field 22 of `/proc/PID/stat`), so a reused pid is told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Holder {
    pub pid: u32,
    pub start: u64,
}

impl Holder {
    /// The process `pid`, as it is now; `None` when there is none.
    pub(crate) fn of(pid: u32) -> Option<Holder> {
        start_time(pid).map(|start| Holder { pid, start })
    }

    /// True while this very process runs (the pid not reused since).
    pub(crate) fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}

/// Field 22 of `/proc/PID/stat` (the process's start time), or `None` when
/// no such process exists (or it is a zombie: dead, not yet reaped).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold anything.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // Field 3 is the state.
    if fields.next()? == "Z" {
        return None;
    }
    // Fields 4..=21 follow; 22 is the 19th after the state.
    fields.nth(18)?.parse().ok()
}

/// One slot's lease file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeaseState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder: Option<Holder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    leased_at: Option<String>,
    /// Handed out since its last reset: the next lease resets it.
    #[serde(default)]
    dirty: bool,
}

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

fn pool_dir(home: &Home) -> PathBuf {
    layout::pools_dir(home)
}

fn ensure_dir(home: &Home) -> anyhow::Result<()> {
    home.ensure()?;
    let dir = pool_dir(home);
    if !dir.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::failed(format!("could not create {}: {e}", dir.display())))?;
    }
    Ok(())
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
    pool_dir(home).join(format!("{base_id}.making"))
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
    layout::sync_dir(&pool_dir(home))?;
    Ok(())
}

fn lock(home: &Home, base: &Entry) -> anyhow::Result<FileLock> {
    ensure_dir(home)?;
    FileLock::acquire(&layout::pool_lock_file(home, &base.id), LOCK_WAIT, "the pool's lock")
}

fn read_state(home: &Home, slot_id: &str) -> LeaseState {
    std::fs::read(layout::lease_file(home, slot_id))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        // A missing file is a slot never leased; an unreadable one (cut
        // before its first sync) is treated as dirty, to be safe.
        .unwrap_or_else(|| LeaseState { dirty: layout::lease_file(home, slot_id).exists(), ..LeaseState::default() })
}

/// Replace a slot's lease file atomically and durably (the dirty mark
/// must survive a power cut: the slot's writes may).
fn write_state(home: &Home, slot_id: &str, state: &LeaseState) -> anyhow::Result<()> {
    use std::io::Write;
    let path = layout::lease_file(home, slot_id);
    let tmp = path.with_extension("lease.tmp");
    let mut f = layout::create_private_file(&tmp)?;
    f.write_all(&serde_json::to_vec(state)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    layout::sync_dir(&pool_dir(home))?;
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
        return Err(crate::error::Error::bad_address(format!(
            "`{db}` is a branch; a pool is made of a database NS/SLUG"
        ))
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
        return Err(Error::SlotNotLeased { address: db.clone(), slot: entry.address() }.into());
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
            return Err(
                Error::SlotLeased { address: db.clone(), slot: s.entry.address(), number: s.number, pid }.into()
            );
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

// ---------------------------------------------------------------------------
// The library API (`Sqlfork::pool_*`), for test harnesses.

/// How to make a pool ([`Sqlfork::pool_create`]).
#[derive(Debug, Clone, Default)]
pub struct PoolOptions {
    /// How many slots (1 to 256): one per parallel worker.
    pub size: usize,
    /// Copy the rows into every slot, not only the schema.
    pub with_data: bool,
    /// Expire the slots and the base this long from now; `None` never.
    pub ttl: Option<Duration>,
}

/// One slot of a pool: an ordinary database (`NS/SLUG@pool-N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSlot {
    /// 1-based.
    pub slot: u32,
    /// `NS/SLUG@pool-N`.
    pub address: String,
    /// Its SQLite file.
    pub path: PathBuf,
    /// The live process holding it, if any.
    pub holder_pid: Option<u32>,
    /// When it was leased (RFC 3339), while it is.
    pub leased_at: Option<String>,
    /// Handed out since its last reset: its next lease resets it first.
    pub dirty: bool,
}

impl From<&Slot> for PoolSlot {
    fn from(s: &Slot) -> Self {
        PoolSlot {
            slot: s.number,
            address: s.entry.address().to_string(),
            path: s.entry.path.clone(),
            holder_pid: s.holder.map(|h| h.pid),
            leased_at: s.leased_at.clone(),
            dirty: s.dirty,
        }
    }
}

/// A leased slot ([`Sqlfork::pool_lease`]); returned to the pool when
/// dropped (or by [`PoolLease::release`]), and by the kernel's word when
/// the process dies: a lease held by a dead process is free.
#[derive(Debug)]
pub struct PoolLease {
    sqlfork: Sqlfork,
    pool: Address,
    slot: PoolSlot,
    id: String,
    holder: Holder,
    released: bool,
}

impl PoolLease {
    /// The slot's SQLite file, reset to the pool's base.
    pub fn path(&self) -> &Path {
        &self.slot.path
    }

    /// The slot.
    pub fn slot(&self) -> &PoolSlot {
        &self.slot
    }

    /// Give the slot back now (what dropping does, with its error).
    pub fn release(mut self) -> Result<(), Error> {
        self.released = true;
        let (home, _) = self.sqlfork.parts();
        release(home, &self.pool, &self.id, Some(self.holder)).map(|_| ()).map_err(crate::api::typed)
    }
}

impl Drop for PoolLease {
    fn drop(&mut self) {
        if !self.released {
            let (home, _) = self.sqlfork.parts();
            let _ = release(home, &self.pool, &self.id, Some(self.holder));
        }
    }
}

fn parse_db(address: &str) -> Result<Address, Error> {
    Address::parse_database(address).map_err(Error::from)
}

impl Sqlfork {
    /// Make a pool of `opts.size` forks of `database` for parallel test
    /// workers: the snapshot `NS/SLUG:pool-base` and the slots
    /// `NS/SLUG@pool-1` … `NS/SLUG@pool-N`, forked from it.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let source = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&source)?.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")?;
    /// use sqlfork::{ForkOptions, PoolOptions, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// sqlfork.fork(source.to_str().unwrap(), "acme/orders", &ForkOptions { with_data: true, ..Default::default() })?;
    /// sqlfork.pool_create("acme/orders", &PoolOptions { size: 2, with_data: true, ..Default::default() })?;
    /// {
    ///     let lease = sqlfork.pool_lease("acme/orders", None, std::time::Duration::from_secs(30))?;
    ///     rusqlite::Connection::open(lease.path())?.execute("DELETE FROM t", [])?;
    /// } // returned here
    /// let again = sqlfork.pool_lease("acme/orders", None, std::time::Duration::from_secs(30))?;
    /// let n: i64 = rusqlite::Connection::open(again.path())?.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    /// assert_eq!(n, 1); // reset to the base
    /// # Ok(()) }
    /// ```
    pub fn pool_create(&self, database: &str, opts: &PoolOptions) -> Result<Vec<PoolSlot>, Error> {
        let (home, config) = self.parts();
        let core =
            CreateOptions { address: parse_db(database)?, size: opts.size, with_data: opts.with_data, ttl: opts.ttl };
        let slots = create(home, config, &core, &mut crate::copy::NoProgress).map_err(crate::api::typed)?;
        Ok(slots.iter().map(PoolSlot::from).collect())
    }

    /// Lease a free slot of `database`'s pool for the process `pid`
    /// (default: this process), waiting up to `timeout` for one
    /// ([`Error::PoolBusy`] after that). The slot is reset to the pool's
    /// base if it was used since; it is returned when the guard drops.
    pub fn pool_lease(&self, database: &str, pid: Option<u32>, timeout: Duration) -> Result<PoolLease, Error> {
        let (home, config) = self.parts();
        let pool = parse_db(database)?;
        let holder = holder_for(pid.unwrap_or_else(std::process::id))?;
        let slot = lease(home, config, &pool, holder, timeout).map_err(crate::api::typed)?;
        Ok(PoolLease {
            sqlfork: self.clone(),
            pool,
            id: slot.entry.id.clone(),
            slot: PoolSlot::from(&slot),
            holder,
            released: false,
        })
    }

    /// Return a slot (its number, address or path) to `database`'s pool,
    /// whoever holds it. A slot that is not leased is [`Error::Invalid`].
    pub fn pool_return(&self, database: &str, slot: &str) -> Result<PoolSlot, Error> {
        let (home, _) = self.parts();
        give_back(home, &parse_db(database)?, slot).map(|s| PoolSlot::from(&s)).map_err(crate::api::typed)
    }

    /// The slots of `database`'s pool and who holds each.
    pub fn pool_list(&self, database: &str) -> Result<Vec<PoolSlot>, Error> {
        let (home, _) = self.parts();
        Ok(list(home, &parse_db(database)?).map_err(crate::api::typed)?.iter().map(PoolSlot::from).collect())
    }

    /// Delete `database`'s pool (its slots and base snapshot); refused
    /// while a live process holds a slot, unless `force`. Returns how many
    /// slots were deleted.
    pub fn pool_delete(&self, database: &str, force: bool) -> Result<usize, Error> {
        let (home, _) = self.parts();
        delete(home, &parse_db(database)?, force).map_err(crate::api::typed)
    }
}

/// The holder for process `pid`, which must be running.
pub(crate) fn holder_for(pid: u32) -> Result<Holder, Error> {
    Holder::of(pid).ok_or(Error::NoSuchProcess { pid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_this_process_and_a_reused_pid_is_not() {
        let me = Holder::of(std::process::id()).unwrap();
        assert!(me.alive());
        assert!(!Holder { start: me.start + 1, ..me }.alive());
        assert!(Holder::of(u32::MAX).is_none());
    }

    #[test]
    fn slot_refs_round_trip() {
        assert_eq!(slot_number(&slot_ref(7)), Some(7));
        assert_eq!(slot_number("pool-0"), None);
        assert_eq!(slot_number("pool-07"), None);
        assert_eq!(slot_number("pool-base"), None);
        assert_eq!(slot_number("pr-1"), None);
    }
}
