//! Snapshots: read-only restore points of one database.
//!
//! A snapshot is a data fork of the database taken in one consistent moment
//! through the fork pipeline itself (so it uses whatever exact data-copy
//! method the files allow: a clone on a copy-on-write file system, else the
//! page copy), then frozen:
//!
//! 1. the copy is built as a hidden fork `NS/SLUG@REF~snapshot~NAME` (a ref
//!    no user can type), invisible to `snapshot list` and `db list`;
//! 2. its file is settled (no journal or WAL beside it), synced, made mode
//!    0400 and its directory synced;
//! 3. under the registry lock, the hidden entry is replaced by the snapshot
//!    record (same id, same file): one atomic registry write, so a snapshot
//!    is either absent or whole, never half-written.
//!
//! A kill before step 3 leaves a hidden fork, which the next `snapshot
//! create` or `db delete` of that database removes; a kill after it leaves
//! a whole snapshot. The snapshot file is never opened writable again: forks
//! read it read-only like any source. It belongs to sqlfork even when the
//! database was imported, and goes with the database (`db delete`), with
//! `snapshot delete`, or with `db gc` once its `--ttl` has passed.
//!
//! In the library: [`crate::Sqlfork::snapshot`] takes one and
//! [`crate::Sqlfork::reset`] goes back to it (the example there runs as a
//! doc test).

use crate::address::{self, Address, SnapshotAddress, Source};
use crate::claim::{is_claimed, Claim};
use crate::copy::Progress;
use crate::error::{DurationProblem, Error};
use crate::fork::{self, ForkOptions};
use crate::home::{Config, Home};
use crate::layout;
use crate::registry::{self, Entry, Registry, Snapshot, Status};
use crate::ttl;
use anyhow::Context;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The infix of the hidden fork a snapshot is built as.
use crate::address::SNAPSHOT_INFIX as BUILD_INFIX;

/// What `snapshot create` should take.
#[derive(Debug, Clone)]
pub(crate) struct CreateOptions {
    /// The database (or branch) to snapshot.
    pub address: Address,
    /// The snapshot's name; `None` means the UTC time, `20261130T120000Z`.
    pub name: Option<String>,
    /// Expire this long after it is taken (`db gc` deletes it then).
    pub ttl: Option<Duration>,
}

/// The default snapshot name for a moment: `20261130T120000Z`.
pub(crate) fn default_name(t: SystemTime) -> String {
    ttl::format_time(t).replace(['-', ':'], "")
}

/// The address of the hidden fork that builds snapshot `name` of `db`.
pub(crate) fn build_address(db: &Address, name: &str) -> Address {
    let r = db.branch.as_deref().unwrap_or_default();
    Address { branch: Some(format!("{r}{BUILD_INFIX}{name}")), ..db.clone() }
}

/// A snapshot's address, for messages.
pub(crate) fn address_of(s: &Snapshot) -> SnapshotAddress {
    s.address()
}

/// The database `db` and its snapshot `name`, or an error that lists what
/// exists.
pub(crate) fn find<'r>(reg: &'r Registry, snap: &SnapshotAddress) -> Result<(&'r Entry, &'r Snapshot), Error> {
    reg.find_snapshot(snap)
}

/// Parse `--at`: an RFC 3339 time, or a humantime age (`2h` = two hours
/// before `now`).
pub(crate) fn parse_at(text: &str, now: SystemTime) -> Result<SystemTime, Error> {
    let t = text.trim();
    if let Ok(time) = humantime::parse_rfc3339_weak(t) {
        return Ok(time);
    }
    match humantime::parse_duration(t) {
        Ok(age) => now.checked_sub(age).ok_or_else(|| bad_at(text, DurationProblem::TooFarBack)),
        Err(_) => Err(bad_at(text, DurationProblem::NotATimeOrAge)),
    }
}

fn bad_at(text: &str, why: DurationProblem) -> Error {
    Error::BadDuration { option: "--at".into(), text: text.into(), why }
}

/// The newest snapshot of `db` taken at or before `at`; none is a
/// not-found error that lists what exists.
pub(crate) fn resolve_at(home: &Home, db: &Address, at: SystemTime) -> anyhow::Result<SnapshotAddress> {
    let reg = Registry::load(home)?;
    let entry = reg.require(db)?;
    let all = reg.snapshots_of(&entry.id);
    // `all` is oldest first (taken time, then the order they were taken
    // in), so the last one at or before `at` is the newest.
    let best = all.iter().rev().find(|s| ttl::parse_time(&s.taken_at).is_some_and(|t| t <= at)).copied();
    match best {
        Some(s) => Ok(SnapshotAddress { database: db.clone(), name: s.name.clone() }),
        None => Err(Error::NoSnapshotAt {
            address: db.clone(),
            at: ttl::format_time(at),
            existing: registry::what_exists(db, &all),
        }
        .into()),
    }
}

/// The snapshots of `db`, oldest first.
pub(crate) fn list(home: &Home, db: &Address) -> anyhow::Result<Vec<Snapshot>> {
    let reg = Registry::load(home)?;
    let entry = reg.require(db)?;
    Ok(reg.snapshots_of(&entry.id).into_iter().cloned().collect())
}

/// Take a snapshot. See the module docs for the steps.
pub(crate) fn create(
    home: &Home,
    config: &Config,
    opts: &CreateOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<Snapshot> {
    let db = &opts.address;
    let now = ttl::now();
    let name = opts.name.clone().unwrap_or_else(|| default_name(now));
    address::check_snapshot_name(&name).map_err(|e| {
        crate::error::Error::BadAddress(e.within(format!("`{db}:{name}` is not a valid snapshot: {e}")))
    })?;
    let mut snap_addr = SnapshotAddress { database: db.clone(), name: name.clone() };
    // Validate before anything is written.
    let reg = Registry::load(home)?;
    let entry = reg.require(db)?.clone();
    if entry.status != Status::Healthy {
        return Err(Error::StillProvisioning { address: db.clone(), action: "take a snapshot of" }.into());
    }
    if !entry.path.exists() {
        return Err(Error::FileMissing { address: db.clone(), path: entry.path.clone() }.into());
    }
    // The claim on the name is held from here until the snapshot is
    // recorded (or abandoned): no other process takes the same snapshot
    // meanwhile, and none tidies our hidden copy away as a leftover between
    // its build and its recording.
    let (name, _taking) = if opts.name.is_some() {
        if reg.snapshots_of(&entry.id).iter().any(|s| s.name == name) {
            return Err(Error::SnapshotTaken { snapshot: snap_addr.clone() }.into());
        }
        drop(reg);
        let Some(taking) = Claim::take(home, &taking_id(&entry.id, &name))? else {
            return Err(Error::SnapshotBeingTaken { snapshot: snap_addr }.into());
        };
        (name, taking)
    } else {
        drop(reg);
        free_default_name(home, &entry.id, &name)?
    };
    snap_addr.name = name.clone();
    remove_leftovers(home, db, Some(&name));

    // Build the copy through the fork pipeline, as a hidden fork. No TTL:
    // the hidden fork lives only until it becomes the snapshot.
    let hidden = build_address(db, &name);
    let fork_config = Config { default_ttl: None, ..config.clone() };
    let fork_opts = ForkOptions {
        source: Source::Registered(db.clone()),
        destination: format!("{}/{}", db.namespace, db.slug),
        name: Some(format!("snapshot {snap_addr}")),
        ttl: None,
        with_data: true,
        detach: false,
        branch: hidden.branch.clone(),
        safe: Default::default(),
        mergeable: false,
    };
    let built = match fork::fork(home, &fork_config, &fork_opts, progress) {
        Ok(out) => out.entry,
        Err(e)
            if Error::any_in(
                &e,
                |e| matches!(e, Error::Taken { address } | Error::BeingBuilt { address } | Error::Busy { address } if *address == hidden),
            ) =>
        {
            return Err(Error::SnapshotBeingTaken { snapshot: snap_addr.clone() }.into())
        }
        Err(e) => return Err(e.context(format!("could not take snapshot {snap_addr}"))),
    };
    // Hold the copy while it is frozen and recorded, so that nothing
    // (a `db delete` tidying leftovers) removes it meanwhile.
    let claim = Claim::take(home, &built.id)?;
    let result = (|| -> anyhow::Result<Snapshot> {
        if claim.is_none() {
            return Err(Error::failed(format!(
                "the copy for snapshot {snap_addr} was taken away by another process; take the snapshot again"
            ))
            .into());
        }
        freeze(&built.path).with_context(|| format!("could not make snapshot {snap_addr} read-only"))?;
        let size = layout::file_size(&built.path).unwrap_or(0);
        Registry::update(home, |reg| {
            let Some(db_now) = reg.by_id(&entry.id).cloned() else {
                return Err(Error::Gone { address: db.clone() }.into());
            };
            let Some(hidden_now) = reg.by_id(&built.id).filter(|e| e.status == Status::Healthy).cloned() else {
                return Err(Error::failed(format!(
                    "the copy for snapshot {snap_addr} disappeared before it could be recorded; take it again"
                ))
                .into());
            };
            if reg.snapshots_of(&entry.id).iter().any(|s| s.name == name) {
                return Err(Error::SnapshotTaken { snapshot: snap_addr.clone() }.into());
            }
            let taken_at = hidden_now.forked_at.clone().unwrap_or_else(|| ttl::format_time(now));
            let taken_time = ttl::parse_time(&taken_at).unwrap_or(now);
            let snap = Snapshot {
                id: hidden_now.id.clone(),
                database_id: db_now.id.clone(),
                namespace: db_now.namespace.clone(),
                slug: db_now.slug.clone(),
                branch: db_now.branch.clone(),
                name: name.clone(),
                path: hidden_now.path.clone(),
                taken_at,
                seq: reg.next_snapshot_seq(),
                expires_at: opts.ttl.map(|d| ttl::format_time(taken_time + d)),
                size_bytes: size,
                copy: hidden_now.copy.clone(),
                safe: db_now.safe.clone(),
                remote: None,
            };
            reg.remove_id(&hidden_now.id);
            reg.snapshots.push(snap.clone());
            Ok(snap)
        })
    })();
    match result {
        Ok(snap) => {
            drop(claim);
            Ok(snap)
        }
        Err(e) => {
            // Nothing half-made stays: the hidden copy goes, entry and file.
            let _ = Registry::update(home, |reg| {
                reg.remove_id(&built.id);
                Ok(())
            });
            built.remove_files(home);
            drop(claim);
            Err(e)
        }
    }
}

/// The first of `base`, `base-2`, `base-3`, … that no snapshot of the
/// database `db_id` has and no other process is taking, with its claim
/// held: a default (time-based) name never clashes, even when several
/// `snapshot create`s run in the same second.
fn free_default_name(home: &Home, db_id: &str, base: &str) -> anyhow::Result<(String, Claim)> {
    for n in 1..=1000u32 {
        let name = if n == 1 { base.to_string() } else { format!("{base}-{n}") };
        let exists = |reg: &Registry| reg.snapshots_of(db_id).iter().any(|s| s.name == name);
        if exists(&Registry::load(home)?) {
            continue;
        }
        let Some(claim) = Claim::take_now(home, &taking_id(db_id, &name))? else { continue };
        // Recorded by another process between the look and the claim.
        if exists(&Registry::load(home)?) {
            continue;
        }
        return Ok((name, claim));
    }
    Err(Error::failed(format!("could not find a free snapshot name after {base}-1000; name the snapshot yourself"))
        .into())
}

/// Make a finished copy a snapshot file: nothing beside it (its WAL folded
/// in), synced, mode 0400, and its directory synced.
fn freeze(path: &Path) -> anyhow::Result<()> {
    crate::reset::settle(path);
    layout::remove_sqlite_side_files(path);
    std::fs::File::open(path)?.sync_all()?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o400))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Remove what interrupted `snapshot create`s of `db` left (hidden copies
/// no process is building). Best effort.
///
/// `ours` is the name this process is taking (it holds that name's claim,
/// so a hidden copy of that name is a dead process's).
pub(crate) fn remove_leftovers(home: &Home, db: &Address, ours: Option<&str>) {
    let Ok(reg) = Registry::load(home) else { return };
    let Some(db_id) = reg.get(db).map(|e| e.id.clone()) else { return };
    let prefix = format!("{}{BUILD_INFIX}", db.branch.as_deref().unwrap_or_default());
    for e in reg.databases.iter().filter(|e| e.namespace == db.namespace && e.slug == db.slug) {
        let Some(name) = e.branch.as_deref().and_then(|b| b.strip_prefix(&prefix)) else { continue };
        let taken_by_another = ours != Some(name) && is_claimed(home, &taking_id(&db_id, name));
        if !is_claimed(home, &e.id) && !taken_by_another {
            let _ = crate::ops::delete(home, &e.address());
        }
    }
}

/// The id whose claim a process holds while it takes snapshot `name` of the
/// database `db_id`: 32 hex digits derived from both (FNV-1a, twice), so
/// that it names a claim file like any id and the orphan sweep leaves it
/// alone while it is held.
fn taking_id(db_id: &str, name: &str) -> String {
    let fnv = |seed: u64| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
        for b in db_id.bytes().chain([b':']).chain(name.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    format!("{:016x}{:016x}", fnv(0), fnv(0x9e37_79b9_7f4a_7c15))
}

/// `snapshot delete`: the record leaves the registry first, then the file
/// goes (a crash in between leaves a file no record names, which the next
/// registry write sweeps away).
pub(crate) fn delete(home: &Home, snap: &SnapshotAddress) -> anyhow::Result<Snapshot> {
    let removed = crate::registry::Store::edit(home, |reg| {
        crate::sweep::tidy(home, reg)?;
        let (_, s) = reg.find_snapshot(snap)?;
        reg.remove_snapshot(&s.id)?;
        Ok(s)
    })?;
    removed.remove_files();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_the_utc_time() {
        let t = ttl::parse_time("2026-11-30T12:00:00Z").unwrap();
        assert_eq!(default_name(t), "20261130T120000Z");
        assert!(address::check_snapshot_name(&default_name(t)).is_ok());
    }

    #[test]
    fn at_takes_times_and_ages() {
        let now = ttl::parse_time("2026-11-30T12:00:00Z").unwrap();
        assert_eq!(parse_at("2h", now).unwrap(), ttl::parse_time("2026-11-30T10:00:00Z").unwrap());
        assert_eq!(parse_at("2026-11-29T01:02:03Z", now).unwrap(), ttl::parse_time("2026-11-29T01:02:03Z").unwrap());
        assert!(parse_at("yesterday", now).unwrap_err().to_string().contains("RFC 3339"));
    }

    #[test]
    fn taking_ids_are_ids_and_differ_by_name() {
        let a = taking_id("0123456789abcdef0123456789abcdef", "x");
        assert!(layout::is_id(&a), "{a}");
        assert_eq!(a, taking_id("0123456789abcdef0123456789abcdef", "x"));
        assert_ne!(a, taking_id("0123456789abcdef0123456789abcdef", "y"));
    }

    #[test]
    fn build_addresses_are_internal() {
        let a = Address::parse("acme/orders").unwrap();
        assert_eq!(build_address(&a, "x").to_string(), "acme/orders@~snapshot~x");
        let b = Address::parse("acme/orders@pr-1").unwrap();
        assert_eq!(build_address(&b, "x").to_string(), "acme/orders@pr-1~snapshot~x");
        assert!(build_address(&b, "x").is_internal());
    }
}
