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

use crate::address::{self, Address, SnapshotAddress, Source};
use crate::claim::Claim;
use crate::copy::Progress;
use crate::error::Error;
use crate::fork::{self, ForkOptions};
use crate::holders::{self, WhenOpen};
use crate::home::{Config, Home};
use crate::layout;
use crate::ops;
use crate::registry::{CopyStats, Entry, Parent, Registry, Snapshot, Status, Store};
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

/// `--in-place`: copy the finished copy `temp` into the target's own file
/// through SQLite's backup API, in one write transaction under SQLite's
/// locks (waiting for a writer that holds them), so connections other
/// processes have open see the new state at their next transaction and
/// keep writing into the same file. Then the target's entry takes the
/// copy's figures and the copy goes.
///
/// A crash during the backup leaves the old state (SQLite's journal or WAL
/// rolls it back); one after it and before the registry write leaves the
/// new state with the old figures, and the copy's entry, which the next
/// reset removes.
fn write_in_place(home: &Home, target: &Entry, temp: &Entry, plan: &Plan, deadline: Instant) -> anyhow::Result<Entry> {
    let addr = target.address();
    let unchanged = |e: &dyn std::fmt::Display| {
        Error::failed(format!("could not write the new state into {addr} in place ({e}); it is unchanged"))
    };
    let src =
        Connection::open_with_flags(&temp.path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| unchanged(&e))?;
    let mut dst =
        Connection::open_with_flags(&target.path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| unchanged(&e))?;
    dst.busy_timeout(Duration::from_secs(5)).map_err(|e| unchanged(&e))?;
    // EXTRA: in rollback-journal mode the commit point is the journal's
    // deletion, which only EXTRA syncs (under FULL a power cut can bring
    // the journal back, and the next open rolls the reset back). Found by
    // the power-cut suite (`in-place-written`).
    dst.pragma_update(None, "synchronous", "EXTRA").map_err(|e| unchanged(&e))?;
    {
        use rusqlite::backup::{Backup, StepResult};
        let backup = Backup::new(&src, &mut dst).map_err(|e| unchanged(&e))?;
        loop {
            match backup.step(-1) {
                Ok(StepResult::Done) => break,
                Ok(StepResult::More) => {}
                Ok(StepResult::Busy | StepResult::Locked) => {
                    if Instant::now() >= deadline {
                        return Err(Error::Busy { address: addr.clone() }.into());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(_) => {}
                Err(e) => {
                    let e = crate::space::explain(unchanged(&e).into(), &target.path, "the reset", None);
                    return Err(e);
                }
            }
        }
    }
    dst.close().map_err(|(_, e)| unchanged(&e))?;
    drop(src);
    crate::env::test_pause("in-place-written");
    let now = ttl::now();
    let entry = Registry::update(home, |reg| {
        let t = reg.remove_id(&temp.id).unwrap_or_else(|| temp.clone());
        if reg.by_id(&target.id).is_none() {
            return Err(Error::NotFound { address: target.address() }.into());
        }
        Ok(take_over(home, reg, &target.id, t, plan, now))
    })?;
    layout::remove_database_files(&temp.path);
    layout::remove_copy_state(home, &temp.id);
    layout::remove_base_file(home, &temp.id);
    Ok(entry)
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

/// What a reset that wrote only the differing pages did.
#[derive(Debug, Clone, Copy)]
struct PagesWritten {
    pages: u64,
    page_size: u64,
    page_count: u64,
}

/// Bring the database file `target` to the state of `source` by writing,
/// in one SQLite transaction through `sqlite_dbpage`, only the pages whose
/// bytes differ (found as `db diff` finds them: `diff::pages`), and
/// truncating or extending it to the source's length: what a reset after
/// a few changed rows costs on a file system that cannot clone (ext4).
///
/// Exact: the source is read at one moment (its read transaction is held
/// throughout), and every page that differs is written. Atomic: SQLite's
/// journal makes the transaction all or nothing, so a kill or a power cut
/// leaves the old state (rolled back by the next connection) or the new
/// one; the file keeps its inode, and a connection another process has
/// open sees the new state at its next transaction.
///
/// `Ok(None)` when this is not the way, and the caller builds a copy and
/// renames it over instead: the file system can clone (a clone costs
/// nothing), the two files differ in page size or journal mode, the target
/// is in WAL mode, the source has WAL frames, or more than a fifth of the
/// pages differ.
fn write_changed_pages(home: &Home, target: &Path, source: &Path) -> anyhow::Result<Option<PagesWritten>> {
    use std::os::unix::fs::FileExt;
    if crate::copy::fsclone::clone_possible(source, &home.databases_dir()).is_ok()
        || !crate::sqlite_optional::dbpage()
        || crate::env::test_reset_copy()
    {
        return Ok(None);
    }
    if !crate::diff::pages::wal_pages(source).map(|w| w.len() == 0).unwrap_or(false) {
        return Ok(None);
    }
    settle(target);
    if layout::SQLITE_SIDE_SUFFIXES.iter().any(|s| layout::sqlite_side_file(target, s).exists()) {
        return Ok(None);
    }
    // Files opened here stay open until the connections are closed: closing
    // any descriptor of a file drops the POSIX locks SQLite holds on it.
    let src_file = std::fs::File::open(source)?;
    let dst_file = std::fs::File::open(target)?;
    let header = |f: &std::fs::File| -> std::io::Result<[u8; 100]> {
        let mut h = [0u8; 100];
        f.read_exact_at(&mut h, 0)?;
        Ok(h)
    };
    let (hs, ht) = match (header(&src_file), header(&dst_file)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Ok(None),
    };
    // Page size (16..18), the file-format bytes that say rollback or WAL
    // (18, 19) and the reserved bytes per page (20): the same, and not WAL.
    if hs[16..21] != ht[16..21] || ht[18] != 1 || ht[19] != 1 {
        return Ok(None);
    }
    let mut src = crate::schema::open_source(source)?;
    let read = src.transaction()?;
    let size: i64 = read.query_row("PRAGMA main.page_size", [], |r| r.get(0))?;
    let scount: i64 = read.query_row("PRAGMA main.page_count", [], |r| r.get(0))?;
    let dst = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    dst.busy_timeout(Duration::from_secs(5))?;
    // EXTRA: the journal's unlink (the commit in DELETE mode) is synced
    // too; with FULL a power cut can bring the journal back, and the next
    // connection would roll an acknowledged reset back.
    dst.pragma_update(None, "synchronous", "EXTRA")?;
    dst.execute_batch("BEGIN IMMEDIATE")?;
    let tcount: i64 = dst.query_row("PRAGMA main.page_count", [], |r| r.get(0))?;
    let tsize: i64 = dst.query_row("PRAGMA main.page_size", [], |r| r.get(0))?;
    let lens = (src_file.metadata()?.len(), dst_file.metadata()?.len());
    if tsize != size || lens.0 < scount as u64 * size as u64 {
        dst.execute_batch("ROLLBACK")?;
        return Ok(None);
    }
    let size_u = size as usize;
    let common = scount.min(tcount).min((lens.1 / size as u64) as i64) as u32;
    let mut changed = crate::diff::pages::PageSet::default();
    crate::diff::pages::differing_pages(&src_file, &dst_file, size_u, common, &mut changed)?;
    let (mut p1s, mut p1t) = (vec![0u8; size_u], vec![0u8; size_u]);
    src_file.read_exact_at(&mut p1s, 0)?;
    if dst_file.read_exact_at(&mut p1t, 0).is_err() || p1s != p1t {
        changed.insert(1);
    }
    for p in common + 1..=scount as u32 {
        changed.insert(p);
    }
    crate::env::trace(&format!("reset by pages: {} of {scount} pages differ (target had {tcount})", changed.len()));
    if changed.len() as i64 * 5 > scount {
        // Much of it differs: a fresh copy costs less than journaling it
        // (each page changed in place is written twice, journal and file;
        // measured on ext4, past about a fifth of the pages a copy wins).
        dst.execute_batch("ROLLBACK")?;
        return Ok(None);
    }
    let write = || -> anyhow::Result<()> {
        let mut stmt = dst.prepare("INSERT INTO main.sqlite_dbpage (pgno, data) VALUES (?1, ?2)")?;
        let mut buf = vec![0u8; size_u];
        for p in changed.iter() {
            src_file.read_exact_at(&mut buf, (p as u64 - 1) * size as u64)?;
            stmt.execute(rusqlite::params![p, buf])?;
        }
        if scount < tcount {
            // Page scount+1 and every one after it go.
            stmt.execute(rusqlite::params![scount + 1, rusqlite::types::Null])?;
        }
        Ok(())
    };
    if let Err(e) = write() {
        let _ = dst.execute_batch("ROLLBACK");
        return Err(e.context(format!("could not write the changed pages into {}", target.display())));
    }
    crate::env::test_pause("pages-reset-written");
    dst.execute_batch("COMMIT").with_context(|| format!("could not commit the reset of {}", target.display()))?;
    dst.close().map_err(|(_, e)| e)?;
    drop(read);
    drop(src);
    drop((src_file, dst_file));
    Ok(Some(PagesWritten { pages: changed.len() as u64, page_size: size as u64, page_count: scount as u64 }))
}

/// The registry half of a reset by pages: the database takes its new
/// lineage, data mode, figures and expiry as the plan says.
fn record_page_reset(
    home: &Home,
    target: &Entry,
    parent: &Parent,
    plan: &Plan,
    written: PagesWritten,
    started: Instant,
) -> anyhow::Result<Entry> {
    let now = ttl::now();
    Store::edit(home, |reg| {
        let mut b = reg.by_id(&target.id)?.ok_or_else(|| Error::NotFound { address: target.address() })?;
        b.status = Status::Healthy;
        if !plan.keep_lineage {
            b.forked_from = Some(parent.clone());
            b.forked_at = Some(ttl::format_time(now));
        }
        b.include_data = plan.remember_data;
        let objects_created = b.copy.as_ref().map_or(0, |c| c.objects_created);
        b.copy = Some(CopyStats {
            objects_created,
            rows_copied: 0,
            bytes_copied: written.pages * written.page_size,
            duration_ms: started.elapsed().as_millis() as u64,
            exact: true,
            orphans_pruned: 0,
            method: Some(crate::home::CopyMethod::Pages),
            fallback: Some(format!(
                "a reset writes only the pages that differ: {} of {}",
                written.pages, written.page_count
            )),
        });
        if let Expiry::FromNow(ttl) = plan.expiry {
            b.expires_at = ttl.map(|d| ttl::format_time(now + d));
        }
        reg.put(&b)?;
        Ok(b)
    })
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

// ---------------------------------------------------------------------------
// db reset

/// What a reset from the parent copies from: the database's parent (its
/// address, or its file), or the database itself when it has none.
pub(crate) fn parent_source(home: &Home, addr: &Address) -> anyhow::Result<Source> {
    let entry = Registry::load(home)?.require(addr)?.clone();
    Ok(match entry.forked_from {
        Some(Parent::Database { namespace, slug, branch, .. }) => {
            Source::Registered(Address { namespace, slug, branch })
        }
        Some(Parent::Path(p)) => Source::Path(p),
        None => Source::Registered(addr.clone()),
    })
}

/// What `db reset` should do.
#[derive(Debug, Clone)]
pub(crate) struct ResetOptions {
    pub address: Address,
    /// Go back to this snapshot of the database itself (`NAME`, or
    /// `NS/SLUG:NAME` naming the same database) instead of its parent.
    pub to: Option<String>,
    /// `Some(true)` with data, `Some(false)` schema only; `None` keeps the
    /// database's data mode (a reset to a snapshot restores it whole).
    pub with_data: Option<bool>,
    /// Expire this long from the reset; `None` keeps the expiry.
    pub ttl: Option<Duration>,
    /// `--mask` / `--subset` (see [`Plan::safe`]).
    pub safe: crate::mask::SafeOptions,
    /// `--force` / `--in-place`: what to do when other processes have it open.
    pub when_open: WhenOpen,
}

/// What `db reset` did.
#[derive(Debug, Clone)]
pub(crate) struct ResetOutcome {
    pub entry: Entry,
    /// The snapshot it went back to, with `--to`.
    pub snapshot: Option<Snapshot>,
    /// What it was reset to, for people: `acme/orders`, `acme/orders:x`.
    pub source_label: String,
    pub with_data: bool,
}

/// `db reset`: the database back to its parent's current state, or to one
/// of its own snapshots. Same id, same path.
pub(crate) fn reset(
    home: &Home,
    config: &Config,
    opts: &ResetOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<ResetOutcome> {
    let addr = &opts.address;
    let deadline = Instant::now() + WAIT;
    loop {
        let reg = Store::open(home)?;
        let entry = reg.require(addr)?;
        let (source, label, snapshot) = decide_source(&reg, &entry, opts.to.as_deref())?;
        let with_data = opts.with_data.unwrap_or(snapshot.is_some() || entry.include_data);
        let remember_data = if snapshot.is_some() { opts.with_data.unwrap_or(entry.include_data) } else { with_data };
        let plan = Plan {
            target: &entry,
            source,
            with_data,
            keep_lineage: snapshot.is_some(),
            remember_data,
            expiry: match opts.ttl {
                Some(d) => Expiry::FromNow(Some(d)),
                None => Expiry::Keep,
            },
            safe: opts.safe.clone(),
            when_open: opts.when_open,
            before_swap: None,
        };
        match reset_in_place(home, config, &plan, deadline, &mut *progress) {
            Ok(Some(entry)) => return Ok(ResetOutcome { entry, snapshot, source_label: label, with_data }),
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

/// Where a reset of `entry` reads from, refusing what cannot be reset.
fn decide_source(reg: &Store, entry: &Entry, to: Option<&str>) -> anyhow::Result<(Source, String, Option<Snapshot>)> {
    let addr = entry.address();
    let refuse = |why: String| -> anyhow::Error { Error::NotResettable { address: addr.clone(), why }.into() };
    if !entry.owned {
        return Err(refuse(format!(
            "it was imported (`db import`), and sqlfork never writes a file it did not create; fork it instead with `sqlfork db fork {addr} NEW`"
        )));
    }
    if entry.status != Status::Healthy {
        return Err(Error::StillProvisioning { address: addr.clone(), action: "reset" }.into());
    }
    if let Some(to) = to {
        let snap = if to.contains(':') {
            let s = SnapshotAddress::parse(to)?;
            if s.database != addr {
                return Err(refuse(format!(
                    "--to {to} is a snapshot of {}, not of {addr}: a reset goes back only to {addr}'s own snapshots (`sqlfork snapshot list {addr}`)",
                    s.database
                )));
            }
            s
        } else {
            address::check_snapshot_name(to)
                .map_err(|e| crate::error::Error::bad_address(format!("--to {to}: {e}")))?;
            SnapshotAddress { database: addr.clone(), name: to.to_string() }
        };
        let (_, s) = reg.find_snapshot(&snap)?;
        return Ok((Source::Snapshot(snap.clone()), snap.to_string(), Some(s.clone())));
    }
    match &entry.forked_from {
        None => Err(refuse(format!(
            "it was created empty (`db create`), so it has no parent to go back to; reset it to one of its snapshots with `sqlfork db reset {addr} --to NAME`"
        ))),
        Some(Parent::Path(p)) => Ok((Source::Path(p.clone()), p.display().to_string(), None)),
        Some(Parent::Database { namespace, slug, branch, snapshot: Some(r), .. }) => {
            let Some(s) = reg.snapshot_by_id(&r.id)? else {
                let mut from = format!("{namespace}/{slug}");
                if let Some(b) = branch {
                    from.push_str(&format!("@{b}"));
                }
                return Err(refuse(format!(
                    "the snapshot it was forked from ({from}:{}) was deleted; reset it to one of its own snapshots with --to NAME, or fork again",
                    r.name
                )));
            };
            let sa = s.address();
            Ok((Source::Snapshot(sa.clone()), sa.to_string(), None))
        }
        Some(Parent::Database { id, namespace, slug, branch, snapshot: None, .. }) => match reg.by_id(id)? {
            Some(p) => Ok((Source::Registered(p.address()), p.address().to_string(), None)),
            None => {
                let mut from = format!("{namespace}/{slug}");
                if let Some(b) = branch {
                    from.push_str(&format!("@{b}"));
                }
                Err(refuse(format!(
                    "its parent {from} was deleted; reset it to one of its snapshots with --to NAME, or fork again"
                )))
            }
        },
    }
}
