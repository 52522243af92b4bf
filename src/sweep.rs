//! The orphan sweep: removing what killed processes left under
//! `databases/` (and `claims/`) for ids that no registry record has.
//!
//! Every process that makes files for an id holds that id's claim from
//! before the first file until its entry is saved (and one that removes an
//! entry holds it until the files are gone), so an id whose claim can be
//! taken under the registry lock belongs to nobody.
//!
//! What a killed process can leave is found without listing `databases/`
//! (which holds a file per database: its cost would grow with the
//! registry): an id it was making has its claim file in `claims/`, and an
//! id whose record it removed is a tombstone in the registry, written in
//! the same transaction as the removal. [`tidy`] looks at those two only;
//! commands that add or remove entries (`db create`, `db fork`,
//! `db delete`, `snapshot delete`) run it in their registry write.
//! [`sweep_orphans`] lists everything (`db gc`, and once a day from
//! [`tidy`]): failure notes nobody read, and anything else an id left.

use crate::claim::Claim;
use crate::home::Home;
use crate::layout;
use crate::registry::{Entry, Registry, Status, Store};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

/// How long a failure note is kept for a `db wait` that has not come.
pub(crate) const FAILURE_NOTE_LIFE: Duration = Duration::from_secs(24 * 3600);

/// How often [`tidy`] lists every file under `databases/`.
pub(crate) const FULL_SWEEP_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The sweep a registry write runs: finish interrupted resets, then remove
/// the files of claimed ids no record has whose claim is free, and of
/// tombstones. Costs what was left behind, not what is registered; once a
/// day it lists everything instead ([`sweep_orphans`]). Call it inside
/// [`Store::edit`]. Returns the names of the files removed, sorted.
pub(crate) fn tidy(home: &Home, store: &Store) -> anyhow::Result<Vec<String>> {
    finish_interrupted_swaps_in(store)?;
    let due = match store.meta(crate::registry::store::FULL_SWEEP_AT)?.as_deref().and_then(crate::ttl::parse_time) {
        Some(t) => crate::ttl::now().duration_since(t).map_or(true, |age| age >= FULL_SWEEP_EVERY),
        None => true,
    };
    if due {
        let owned = store.all_ids()?;
        let removed = sweep_files(home, &|id| owned.contains(id));
        for id in store.tombstones()? {
            store.forget_tombstone(&id)?;
        }
        store.set_meta(crate::registry::store::FULL_SWEEP_AT, &crate::ttl::format_time(crate::ttl::now()))?;
        return Ok(removed);
    }
    let mut candidates: HashSet<String> = store.tombstones()?.into_iter().collect();
    if let Ok(dir) = std::fs::read_dir(home.claims_dir()) {
        for f in dir.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if let Some((id, "lock")) = layout::side_file_id(&name) {
                candidates.insert(id.to_string());
            }
        }
    }
    let mut removed = Vec::new();
    for id in candidates {
        if store.owns_id(&id)? {
            store.forget_tombstone(&id)?;
            continue;
        }
        // No waiting: an id whose claim is held is being made or removed
        // right now. Releasing the claim removes its file.
        if let Ok(Some(_claim)) = Claim::take_now(home, &id) {
            for f in layout::id_files(home, &id) {
                if std::fs::remove_file(&f).is_ok() {
                    removed.push(f.file_name().unwrap_or_default().to_string_lossy().into_owned());
                }
            }
            store.forget_tombstone(&id)?;
        }
    }
    removed.sort();
    Ok(removed)
}

/// Remove the files of ids no entry in `reg` has, listing every file under
/// `databases/` and `claims/`: a fork or `db create` killed before its
/// entry was written (its claim, copy state, perhaps its file), a
/// `db delete` or `db gc` killed after the entry went but before the files
/// did. First, finish a branch reset cut after its commit point
/// ([`finish_interrupted_swaps`]). Its cost grows with the registry:
/// `db gc` runs it, and [`tidy`] once a day.
///
/// Call it under the registry lock, with `reg` as loaded under that lock.
/// Failure notes (`<id>.failed`) are left for `db wait` for a day. Returns
/// the names of the files removed, sorted.
pub(crate) fn sweep_orphans(home: &Home, reg: &mut Registry) -> Vec<String> {
    finish_interrupted_swaps(reg);
    let owned: HashSet<&str> =
        reg.databases.iter().map(|e| e.id.as_str()).chain(reg.snapshots.iter().map(|s| s.id.as_str())).collect();
    sweep_files(home, &|id| owned.contains(id))
}

/// List `databases/` and `claims/` (and claims of the old layout in
/// `databases/`), and remove the files of every id `owned` says no record
/// has and whose claim is free.
fn sweep_files(home: &Home, owned: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut removed = Vec::new();
    let mut orphans: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for dir in [home.databases_dir(), home.claims_dir()] {
        let Ok(list) = std::fs::read_dir(&dir) else { continue };
        for f in list.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let Some((id, rest)) = layout::side_file_id(&name) else { continue };
            if owned(id) {
                continue;
            }
            if rest == layout::FAILURE_NOTE_EXTENSION {
                // A failure note waits for a `db wait`; one nobody read in a
                // day never will be.
                let age = f.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                if age.is_some_and(|a| a >= FAILURE_NOTE_LIFE) && std::fs::remove_file(f.path()).is_ok() {
                    removed.push(name);
                }
                continue;
            }
            orphans.entry(id.to_string()).or_default().push(f.path());
        }
    }
    for (id, files) in orphans {
        // No waiting here: this runs under the registry lock, and an id
        // whose claim is held is being made right now. Releasing the claim
        // removes its file.
        if let Ok(Some(_claim)) = Claim::take_now(home, &id) {
            let claim_file = layout::claim_file(home, &id);
            for f in files.iter().filter(|f| **f != claim_file) {
                if std::fs::remove_file(f).is_ok() {
                    removed.push(f.file_name().unwrap_or_default().to_string_lossy().into_owned());
                }
            }
            if files.contains(&claim_file) {
                removed.push(claim_file.file_name().unwrap_or_default().to_string_lossy().into_owned());
            }
        }
    }
    removed.sort();
    removed
}

/// Finish resets (`branch put`, `db reset`) that a crash or power cut
/// stopped between their commit point and their registry write. A reset
/// renames its new file over the database's (durably) and only then saves
/// the registry, so a cut in between leaves the hidden `~reset` entry
/// healthy with its file gone, and the database's entry with the old copy
/// figures over the new file. Rolled forward here: the database takes the
/// reset's copy figures and the hidden entry goes (its lineage and expiry
/// stay as they were: what the reset would have set depends on its plan,
/// which the registry does not keep). Call under the registry lock (a live
/// reset holds it from its rename to its save, so what is seen here is
/// always a dead one). True when anything changed.
pub(crate) fn finish_interrupted_swaps(reg: &mut Registry) -> bool {
    let done: Vec<Entry> = reg
        .databases
        .iter()
        .filter(|t| t.status == Status::Healthy && t.owned && !t.path.exists())
        .filter(|t| t.address().reset_owner().is_some())
        .cloned()
        .collect();
    let mut changed = false;
    for t in done {
        let Some(addr) = t.address().reset_owner() else { continue };
        let Some(b) = reg.get_mut(&addr) else { continue };
        if !b.path.exists() {
            continue;
        }
        b.status = Status::Healthy;
        b.copy = t.copy.clone();
        reg.remove_id(&t.id);
        changed = true;
    }
    changed
}

/// [`finish_interrupted_swaps`] on the store: reads only the hidden
/// entries (and the databases they belong to).
pub(crate) fn finish_interrupted_swaps_in(store: &Store) -> anyhow::Result<bool> {
    let mut changed = false;
    for t in store.hidden()? {
        if t.status != Status::Healthy || !t.owned || t.path.exists() {
            continue;
        }
        let Some(addr) = t.address().reset_owner() else { continue };
        let Some(mut b) = store.get(&addr)? else { continue };
        if !b.path.exists() {
            continue;
        }
        b.status = Status::Healthy;
        b.copy = t.copy.clone();
        store.put(&b)?;
        store.remove_id(&t.id)?;
        changed = true;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;

    #[test]
    fn the_sweep_removes_orphans_and_failure_notes_nobody_read_in_a_day() {
        let (_dir, home) = crate::home::temporary_home();
        let (kept, orphan, old_note, new_note, busy) =
            (registry::new_id(), registry::new_id(), registry::new_id(), registry::new_id(), registry::new_id());
        let file = |name: String| {
            let p = home.databases_dir().join(name);
            std::fs::write(&p, b"x").unwrap();
            p
        };
        let kept_file = file(format!("{kept}.sqlite"));
        let orphan_files = [file(format!("{orphan}.sqlite")), file(format!("{orphan}.copy.json"))];
        let old = file(format!("{old_note}.failed"));
        let f = std::fs::File::options().write(true).open(&old).unwrap();
        f.set_modified(std::time::SystemTime::now() - FAILURE_NOTE_LIFE - Duration::from_secs(60)).unwrap();
        let new = file(format!("{new_note}.failed"));
        let busy_file = file(format!("{busy}.copy.json"));
        let busy_claim = Claim::take_now(&home, &busy).unwrap().unwrap();
        let other = file("notes.txt".into());
        let mut reg = Registry::default();
        reg.databases.push(Entry {
            id: kept.clone(),
            namespace: "a".into(),
            slug: "b".into(),
            branch: None,
            name: "b".into(),
            path: kept_file.clone(),
            owned: true,
            status: Status::Healthy,
            created_at: String::new(),
            forked_from: None,
            forked_at: None,
            expires_at: None,
            include_data: false,
            copy: None,
            safe: None,
            base: None,
        });
        let removed = sweep_orphans(&home, &mut reg);
        assert!(kept_file.exists(), "an entry's file stays");
        assert!(orphan_files.iter().all(|p| !p.exists()), "an id no entry has goes");
        assert!(!layout::claim_file(&home, &orphan).exists());
        assert!(!old.exists(), "a day-old failure note goes");
        assert!(new.exists(), "a fresh failure note waits for db wait");
        assert!(busy_file.exists(), "an id being made (claimed) stays");
        assert!(other.exists(), "files sqlfork did not name are never touched");
        assert_eq!(removed.len(), 3, "{removed:?}");
        drop(busy_claim);
    }
}
