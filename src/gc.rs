//! Expiry: changing a database's TTL, and `db gc`, which deletes every
//! owned database whose `expires_at` has passed.
//!
//! Promises of `db gc`:
//! - it deletes only databases sqlfork created (`owned`); an expired entry
//!   whose file sqlfork did not create is kept whole, file and entry;
//! - it never deletes a database another process is building, resetting or
//!   deleting right now (it holds that database's build claim while it
//!   removes it, and skips it when the claim is taken);
//! - the expiry is checked again under the registry lock, so a TTL changed
//!   or a database deleted by another process meanwhile is respected, and
//!   entries other processes add meanwhile are never lost;
//! - the entries leave the registry first, then the files go: a crash in
//!   between leaves at worst unreferenced files named by id (which the next
//!   gc, or any command that adds or removes a database, sweeps away), never
//!   an entry without its file.

use crate::address::Address;
use crate::claim::{is_claimed, Claim};
use crate::error::Error;
use crate::home::Home;
use crate::layout;
use crate::registry::{Entry, Registry, Snapshot};
use crate::ttl;
use std::time::{Duration, SystemTime};

/// True when `entry` has an expiry and it is not after `now`.
pub(crate) fn is_expired(entry: &Entry, now: SystemTime) -> bool {
    entry.expires_at.as_deref().and_then(ttl::parse_time).is_some_and(|t| ttl::remaining(t, now).is_none())
}

/// Why an expired database was not deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeptReason {
    /// sqlfork did not create its file (`db import`): never deleted.
    NotOwned,
    /// Another process is building, resetting or deleting it right now.
    Busy,
}

impl KeptReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeptReason::NotOwned => "not-owned",
            KeptReason::Busy => "busy",
        }
    }
    pub(crate) fn describe(self) -> &'static str {
        match self {
            KeptReason::NotOwned => "sqlfork did not create its file, so it never deletes it",
            KeptReason::Busy => "another sqlfork process is working on it; the next gc takes it",
        }
    }
}

/// One database gc deleted (or, with `dry_run`, would delete).
#[derive(Debug, Clone)]
pub(crate) struct Collected {
    pub entry: Entry,
    /// The file's size before it was deleted.
    pub size_bytes: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct GcReport {
    pub now: SystemTime,
    pub dry_run: bool,
    pub deleted: Vec<Collected>,
    pub kept: Vec<(Entry, KeptReason)>,
    /// Files under `databases/` that belonged to no entry (left by a process
    /// killed between creating them and registering them), now removed.
    pub strays_removed: Vec<String>,
    /// Snapshots deleted (with `dry_run`: that would be): expired ones, and
    /// those of the databases deleted.
    pub snapshots_deleted: Vec<Snapshot>,
}

/// Delete every owned database whose `expires_at` has passed, file and
/// entry. With `dry_run`, only say which.
pub(crate) fn gc(home: &Home, dry_run: bool) -> anyhow::Result<GcReport> {
    let now = ttl::now();
    let mut report = GcReport {
        now,
        dry_run,
        deleted: Vec::new(),
        kept: Vec::new(),
        strays_removed: Vec::new(),
        snapshots_deleted: Vec::new(),
    };
    if !home.registry_path().exists() && !home.databases_dir().exists() {
        // Nothing registered; do not create the home just to say so. (With
        // a `databases/` folder but no registry, a crash or power cut came
        // before the first registry write: sweep what it left.)
        return Ok(report);
    }
    if dry_run {
        let reg = Registry::load(home)?;
        for e in reg.databases.iter().filter(|e| is_expired(e, now)).cloned() {
            if !e.owned {
                report.kept.push((e, KeptReason::NotOwned));
            } else if is_claimed(home, &e.id) || reset_owner(&reg, &e).is_some_and(|b| is_claimed(home, &b.id)) {
                report.kept.push((e, KeptReason::Busy));
            } else {
                let size_bytes = layout::file_size(&e.path);
                report.deleted.push(Collected { entry: e, size_bytes });
            }
        }
        report.snapshots_deleted = reg
            .snapshots
            .iter()
            .filter(|s| s.is_expired(now) || report.deleted.iter().any(|c| c.entry.id == s.database_id))
            .cloned()
            .collect();
        return Ok(report);
    }
    // Decide and remove the entries under the registry lock, holding each
    // victim's build claim so no other process starts on it.
    let mut strays = Vec::new();
    let claims = Registry::update(home, |reg| {
        // What a killed gc (or delete, or fork) left goes too.
        strays = crate::sweep::sweep_orphans(home, reg);
        // Claims held by this run, by id.
        let mut claims: Vec<(String, Claim)> = Vec::new();
        let expired: Vec<Entry> = reg.databases.iter().filter(|e| is_expired(e, now)).cloned().collect();
        for e in expired {
            if !e.owned {
                report.kept.push((e, KeptReason::NotOwned));
                continue;
            }
            // The hidden copy a branch reset builds is the reset's until it
            // is swapped in: the reset holds the branch's claim throughout,
            // and between the copy's end and the swap nothing else holds the
            // copy's own. Take both.
            let mut ids = vec![e.id.clone()];
            if let Some(branch) = reset_owner(reg, &e) {
                ids.push(branch.id.clone());
            }
            let mut taken = Vec::new();
            let mut all = true;
            for id in ids {
                if claims.iter().any(|(held, _)| *held == id) {
                    continue;
                }
                match Claim::take(home, &id)? {
                    Some(claim) => taken.push((id, claim)),
                    None => {
                        all = false;
                        break;
                    }
                }
            }
            if all {
                reg.remove_id(&e.id);
                report.snapshots_deleted.extend(reg.take_snapshots_of(&e.id));
                let size_bytes = layout::file_size(&e.path);
                report.deleted.push(Collected { entry: e, size_bytes });
                claims.extend(taken);
            } else {
                report.kept.push((e, KeptReason::Busy));
            }
        }
        // Expired snapshots: the record goes now, the file after the save.
        let (expired, kept): (Vec<Snapshot>, Vec<Snapshot>) =
            std::mem::take(&mut reg.snapshots).into_iter().partition(|s| s.is_expired(now));
        reg.snapshots = kept;
        report.snapshots_deleted.extend(expired);
        Ok(claims)
    })?;
    for s in &report.snapshots_deleted {
        s.remove_files();
    }
    // The entries are gone (saved); now their files.
    let mut claims = claims;
    for c in &report.deleted {
        c.entry.remove_files(home);
        // Releasing its claim removes the claim file.
        claims.retain(|(id, _)| *id != c.entry.id);
        crate::env::test_delay();
    }
    drop(claims);
    report.strays_removed = strays;
    Ok(report)
}

/// The branch whose reset is building `e`, when `e` is such a hidden copy.
fn reset_owner<'r>(reg: &'r Registry, e: &Entry) -> Option<&'r Entry> {
    reg.get(&e.address().reset_owner()?)
}

/// Set (`Some`) or clear (`None`) the TTL of a database: it then expires
/// `ttl` from now, or never. Only databases sqlfork owns can expire.
pub(crate) fn set_ttl(home: &Home, addr: &Address, ttl: Option<Duration>) -> anyhow::Result<Entry> {
    let now = ttl::now();
    Registry::update(home, |reg| {
        if reg.get(addr).is_none() {
            return Err(reg.not_found(addr).into());
        }
        let e = reg.get_mut(addr).expect("looked up above");
        if ttl.is_some() && !e.owned {
            return Err(Error::CannotExpire { address: addr.clone() }.into());
        }
        e.expires_at = ttl.map(|d| ttl::format_time(now + d));
        Ok(e.clone())
    })
}
