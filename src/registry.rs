//! The registry: one entry per database sqlfork knows about, and one record
//! per snapshot, kept in `registry.sqlite` ([`store`]).
//!
//! Two ways in:
//! - per record ([`Store`]: `Store::open(home)?.get(addr)`, and writes in
//!   `Store::edit(home, |s| …)`), whose cost does not grow with the number
//!   of entries: what the everyday commands use;
//! - the whole registry ([`Registry::load`], [`Registry::update`]), which
//!   reads every record: for commands about all of it (`db gc`, `db list`
//!   without a namespace).
//!
//! Promises (both ways): every write happens in one transaction under an
//! exclusive advisory lock on `registry.lock`, so concurrent `sqlfork`
//! processes never lose an entry; a crash or power cut never leaves half a
//! change, and what a command reported is on disk.

use crate::address::{Address, SnapshotAddress};
use crate::error::Error;
use crate::home::Home;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) mod store;
pub(crate) use store::Store;

/// How long a command waits for another process's registry lock, unless
/// `SQLFORK_LOCK_TIMEOUT` says otherwise.
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The registry lock timeout: `SQLFORK_LOCK_TIMEOUT` (a duration such as
/// `30s` or `5m`), else [`LOCK_TIMEOUT`].
pub(crate) fn lock_timeout() -> Result<Duration, Error> {
    match crate::env::lock_timeout() {
        Some(v) => crate::ttl::parse_duration_arg("SQLFORK_LOCK_TIMEOUT", &v, "30s or 5m"),
        None => Ok(LOCK_TIMEOUT),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being created; a data copy may be in flight or interrupted.
    Provisioning,
    /// Ready to use.
    Healthy,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Provisioning => "provisioning",
            Status::Healthy => "healthy",
        })
    }
}

/// Where a fork came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Parent {
    /// A registered database, by id (the slug and name are the label kept
    /// even after the parent is deleted).
    Database {
        id: String,
        namespace: String,
        slug: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        branch: Option<String>,
        /// Set when the fork was made from one of that database's snapshots.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot: Option<SnapshotRef>,
    },
    /// An unregistered SQLite file.
    Path(PathBuf),
}

/// What a fork's copy did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CopyStats {
    pub objects_created: u64,
    pub rows_copied: u64,
    pub bytes_copied: u64,
    pub duration_ms: u64,
    /// True when the fork is an exact snapshot of the source.
    pub exact: bool,
    #[serde(default)]
    pub orphans_pruned: u64,
    /// How the data came across (`clone`, `file`, `pages`, `rows`); none for
    /// a schema-only fork, and in registries written before methods had names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<crate::home::CopyMethod>,
    /// Why the method is not the one configured (a clone was impossible, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// What the registry records about a masked or subset fork.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeRecord {
    pub masked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_sha256: Option<String>,
    /// The rules file, so that `branch put` can make the same fork again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subset: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset_sha256: Option<String>,
    /// Rows kept per table (subset forks).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rows_kept: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub id: String,
    pub namespace: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub name: String,
    pub path: PathBuf,
    /// True when sqlfork created the file (and may delete it).
    pub owned: bool,
    pub status: Status,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<Parent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub include_data: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyStats>,
    /// Set when the fork is masked or a subset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe: Option<SafeRecord>,
    /// The state it was forked from, kept for `db merge` (SPEC section 17);
    /// absent in registries written before merges existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Base>,
}

/// How a fork's base (its state at fork time) is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BaseKind {
    /// A read-only clone of the fork as it was made (`<id>.base.sqlite`,
    /// sharing its extents: free on XFS and btrfs).
    Clone,
    /// A read-only full copy (`--mergeable` where the file system cannot
    /// clone).
    Copy,
    /// The snapshot the fork was made from.
    Snapshot,
}

impl BaseKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BaseKind::Clone => "clone",
            BaseKind::Copy => "copy",
            BaseKind::Snapshot => "snapshot",
        }
    }
}

/// A fork's base: where it is and what keeping it cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Base {
    pub kind: BaseKind,
    /// The snapshot's id, for [`BaseKind::Snapshot`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// When the state it holds was the parent's.
    pub taken_at: String,
    /// Bytes written to keep it (a copy; 0 for a clone or a snapshot).
    #[serde(default)]
    pub bytes_copied: u64,
    /// Time spent keeping it.
    #[serde(default)]
    pub duration_ms: u64,
}

impl Entry {
    /// Remove what sqlfork made for this database, once its entry is out
    /// of the registry (or is about to go): its file with SQLite's side
    /// files, when sqlfork owns it, and its copy state. Every way a fork
    /// goes (delete, gc, a failed or cancelled build, a failed snapshot)
    /// ends here.
    pub(crate) fn remove_files(&self, home: &Home) {
        if self.owned {
            crate::layout::remove_database_files(&self.path);
        }
        crate::layout::remove_copy_state(home, &self.id);
        // A base is sqlfork's own file even for an imported database.
        crate::layout::remove_base_file(home, &self.id);
    }
    pub(crate) fn address(&self) -> Address {
        Address { namespace: self.namespace.clone(), slug: self.slug.clone(), branch: self.branch.clone() }
    }
    pub(crate) fn is(&self, addr: &Address) -> bool {
        self.namespace == addr.namespace && self.slug == addr.slug && self.branch == addr.branch
    }
}

/// The snapshot a fork was made from: its id (to tell whether it still
/// exists) and the labels kept after it is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SnapshotRef {
    pub id: String,
    pub name: String,
    pub taken_at: String,
}

/// A snapshot: a read-only restore point of one database, in its own file
/// (named by the snapshot's id, mode 0400, always owned by sqlfork).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub id: String,
    /// The id of the database it was taken of.
    pub database_id: String,
    /// The database's address when it was taken (a label).
    pub namespace: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub name: String,
    pub path: PathBuf,
    pub taken_at: String,
    /// The order snapshots were taken in, across the home: one more than
    /// any snapshot recorded before it (`taken_at` has one-second
    /// precision, so two taken in the same second tie on it). 0 in
    /// registries written before it existed.
    #[serde(default)]
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyStats>,
    /// Set when the database was a masked or subset fork when the snapshot
    /// was taken (a `--require-masked` remote takes only those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe: Option<SafeRecord>,
    /// Set on a snapshot pulled from a remote (SPEC 15): where it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteOrigin>,
}

/// Where a pulled snapshot came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RemoteOrigin {
    /// The remote's name when it was pulled.
    pub remote: String,
    /// The remote's URL (a renamed remote still finds its pulls).
    pub url: String,
    /// The SHA-256 of the manifest it was pulled from.
    pub manifest_sha256: String,
    /// True for a schema record alone (what a schema-only fork pulls); it
    /// holds no rows and is never a data fork's source.
    #[serde(default)]
    pub schema_only: bool,
}

impl Snapshot {
    pub(crate) fn database_address(&self) -> Address {
        Address { namespace: self.namespace.clone(), slug: self.slug.clone(), branch: self.branch.clone() }
    }
    pub(crate) fn as_ref(&self) -> SnapshotRef {
        SnapshotRef { id: self.id.clone(), name: self.name.clone(), taken_at: self.taken_at.clone() }
    }
    /// What orders it among its database's snapshots, oldest first: taken
    /// time, then `seq`, then name.
    pub(crate) fn order_key(&self) -> (Option<std::time::SystemTime>, u64, String) {
        (crate::ttl::parse_time(&self.taken_at), self.seq, self.name.clone())
    }
    /// Its address, `NS/SLUG[@REF]:NAME`.
    pub(crate) fn address(&self) -> SnapshotAddress {
        SnapshotAddress { database: self.database_address(), name: self.name.clone() }
    }
    /// True when it has an expiry and that is not after `now`.
    pub(crate) fn is_expired(&self, now: std::time::SystemTime) -> bool {
        self.expires_at
            .as_deref()
            .and_then(crate::ttl::parse_time)
            .is_some_and(|t| crate::ttl::remaining(t, now).is_none())
    }
    /// Remove its file (and anything a reader or a killed `snapshot create`
    /// left beside it: SQLite's side files, a claim file).
    pub(crate) fn remove_files(&self) {
        crate::layout::remove_database_files(&self.path);
        if let Some(dir) = self.path.parent() {
            // A claim file in the layout of earlier versions.
            let _ = fs::remove_file(dir.join(format!("{}.lock", self.id)));
            if let Some(root) = dir.parent() {
                let _ = fs::remove_file(crate::layout::claim_file(&Home::at(root), &self.id));
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Registry {
    #[serde(default = "format_version")]
    pub version: u32,
    #[serde(default)]
    pub databases: Vec<Entry>,
    /// Snapshots (section 10); absent in registries written before them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<Snapshot>,
}

fn format_version() -> u32 {
    1
}

impl Registry {
    /// Read the whole registry (no lock needed: readers see the last
    /// commit). A home without one is an empty registry. Reads every
    /// record: prefer [`Store`] where a command needs a few.
    pub(crate) fn load(home: &Home) -> anyhow::Result<Self> {
        Store::open(home)?.all()
    }

    /// Run `f` on the whole registry under the exclusive lock, and write
    /// what it changed in one transaction if `f` succeeds. Reads every
    /// record: prefer [`Store::edit`] where a command changes a few.
    pub(crate) fn update<T>(home: &Home, f: impl FnOnce(&mut Registry) -> anyhow::Result<T>) -> anyhow::Result<T> {
        Store::edit(home, |store| {
            let mut reg = store.all()?;
            let before = reg.clone();
            let out = f(&mut reg)?;
            if reg != before {
                store.write_changes(&before, &reg)?;
            }
            Ok(out)
        })
    }

    /// A `registry.toml` of earlier versions, parsed (for its migration).
    pub(crate) fn parse_toml(path: &Path) -> anyhow::Result<Self> {
        let text = fs::read_to_string(path)
            .map_err(|e| Error::failed(format!("could not read the registry {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| {
            let why = crate::error::RegistryProblem::OldNotValid { detail: e.message().trim().to_string() };
            Error::BadRegistry { path: path.to_path_buf(), why }.into()
        })
    }

    pub(crate) fn get(&self, addr: &Address) -> Option<&Entry> {
        self.databases.iter().find(|e| e.is(addr))
    }
    pub(crate) fn get_mut(&mut self, addr: &Address) -> Option<&mut Entry> {
        self.databases.iter_mut().find(|e| e.is(addr))
    }
    pub(crate) fn by_id(&self, id: &str) -> Option<&Entry> {
        self.databases.iter().find(|e| e.id == id)
    }
    pub(crate) fn by_id_mut(&mut self, id: &str) -> Option<&mut Entry> {
        self.databases.iter_mut().find(|e| e.id == id)
    }
    pub(crate) fn snapshot_by_id(&self, id: &str) -> Option<&Snapshot> {
        self.snapshots.iter().find(|s| s.id == id)
    }
    /// The local copy of remote snapshot `snap` pulled from `url`: a whole
    /// one, else (when `schema_ok`) a schema record.
    pub(crate) fn pulled(&self, url: &str, snap: &SnapshotAddress, schema_ok: bool) -> Option<&Snapshot> {
        let of = |schema_only: bool| {
            self.snapshots.iter().find(|s| {
                s.remote.as_ref().is_some_and(|r| r.url == url && r.schema_only == schema_only)
                    && s.namespace == snap.database.namespace
                    && s.slug == snap.database.slug
                    && s.name == snap.name
            })
        };
        of(false).or_else(|| if schema_ok { of(true) } else { None })
    }
    /// True when a database or a snapshot has this id (its files are
    /// someone's, not orphans).
    #[allow(dead_code)] // the whole-registry API; the sweep asks the store
    pub(crate) fn owns_id(&self, id: &str) -> bool {
        self.by_id(id).is_some() || self.snapshot_by_id(id).is_some()
    }
    /// The database `snap.database` and its snapshot `snap.name`, or an
    /// error that lists the snapshots that exist.
    pub(crate) fn find_snapshot(&self, snap: &SnapshotAddress) -> Result<(&Entry, &Snapshot), Error> {
        let db = self.require(&snap.database)?;
        let all = self.snapshots_of(&db.id);
        match all.iter().find(|s| s.name == snap.name) {
            Some(s) => Ok((db, *s)),
            None => {
                Err(Error::SnapshotNotFound { snapshot: snap.clone(), existing: what_exists(&snap.database, &all) })
            }
        }
    }

    /// Take every snapshot of the database `id` out of the registry (the
    /// caller saves it, then removes their files).
    pub(crate) fn take_snapshots_of(&mut self, id: &str) -> Vec<Snapshot> {
        let (gone, kept): (Vec<Snapshot>, Vec<Snapshot>) =
            std::mem::take(&mut self.snapshots).into_iter().partition(|s| s.database_id == id);
        self.snapshots = kept;
        gone
    }

    /// The snapshots of the database with this id, oldest first: by taken
    /// time, then by the order they were recorded in (`seq`), then by name
    /// (old registries without `seq`).
    pub(crate) fn snapshots_of(&self, database_id: &str) -> Vec<&Snapshot> {
        let mut out: Vec<&Snapshot> = self.snapshots.iter().filter(|s| s.database_id == database_id).collect();
        out.sort_by_cached_key(|s| s.order_key());
        out
    }

    /// The `seq` for the next snapshot recorded (under the registry lock).
    pub(crate) fn next_snapshot_seq(&self) -> u64 {
        self.snapshots.iter().map(|s| s.seq).max().unwrap_or(0) + 1
    }

    /// The entry at `addr`, or a not-found error that says what to do.
    pub(crate) fn require(&self, addr: &Address) -> Result<&Entry, Error> {
        self.get(addr).ok_or_else(|| self.not_found(addr))
    }

    /// The error for an address that is not in this registry: not found,
    /// with the nearest existing address when one is a likely typo ("did
    /// you mean acme/prod?", [`Error::Hinted`] around [`Error::NotFound`]).
    /// Every lookup of an address a user typed fails through here.
    pub(crate) fn not_found(&self, addr: &Address) -> Error {
        let error = Error::NotFound { address: addr.clone() };
        let known = self
            .databases
            .iter()
            .filter(|e| !e.branch.as_deref().is_some_and(crate::address::is_internal_ref))
            .map(|e| e.address().to_string());
        match crate::suggest::nearest(known, &addr.to_string()) {
            Some(near) => Error::Hinted { error: Box::new(error), hint: format!(" (did you mean {near}?)") },
            None => error,
        }
    }

    pub(crate) fn remove_id(&mut self, id: &str) -> Option<Entry> {
        let i = self.databases.iter().position(|e| e.id == id)?;
        Some(self.databases.remove(i))
    }

    /// Add an entry; its address must be free.
    #[allow(dead_code)] // the whole-registry API; commands insert through the store
    pub(crate) fn insert(&mut self, entry: Entry) -> Result<(), Error> {
        let addr = entry.address();
        if self.get(&addr).is_some() {
            return Err(Error::Taken { address: addr });
        }
        self.databases.push(entry);
        Ok(())
    }
}

/// Make durable the state this process found rather than made, before it
/// reports it (SPEC section 18: every exit 0 is durable): the registry and
/// the home directory (another process may have renamed a new registry in
/// and not yet synced the rename), and each of `files` with its directory.
/// A `db resume` that finds the fork healthy, a `db delete --force` that
/// finds it gone, `db wait`, a repeated `db import`: they read without the
/// registry lock, and without this, a power cut right after could take back
/// what they reported. A file that is not there is nothing to sync. Call
/// it after the read.
pub(crate) fn sync_found(home: &Home, files: &[&std::path::Path]) -> anyhow::Result<()> {
    let mut all = vec![home.registry_path(), home.root().to_path_buf()];
    for f in files {
        all.push(f.to_path_buf());
        all.extend(f.parent().map(|d| d.to_path_buf()));
    }
    for p in all {
        match std::fs::File::open(&p).and_then(|f| f.sync_all()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // A read-only file system has nothing unsynced; some cannot
            // sync a directory at all.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EROFS) | Some(libc::EINVAL)) => {}
            Err(e) => return Err(Error::failed(format!("could not sync {}: {e}", p.display())).into()),
        }
    }
    Ok(())
}

/// Remove temporary registries left by a process killed (or a power cut)
/// between writing one and renaming it into place. Under the lock no other
/// process is writing one, so every one found is stale. Runs on every
/// registry update, also one that changes nothing, so that the next
/// command that takes the lock tidies up.
/// Remove temporary TOML registries an earlier version left when killed
/// between writing one and renaming it into place (at the migration, under
/// the lock).
fn remove_stale_temporaries(home: &Home) {
    if let Ok(dir) = fs::read_dir(home.root()) {
        for f in dir.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.starts_with(".registry.toml.") && name.ends_with(".tmp") {
                let _ = fs::remove_file(f.path());
            }
        }
    }
}

/// "acme/orders has a (taken …), b (taken …)", or how to take a first one.
pub(crate) fn what_exists(db: &Address, snaps: &[&Snapshot]) -> String {
    if snaps.is_empty() {
        format!("{db} has no snapshots; take one with `sqlfork snapshot create {db}`")
    } else {
        let names: Vec<String> = snaps.iter().map(|s| format!("{} (taken {})", s.name, s.taken_at)).collect();
        format!("{db} has {}", names.join(", "))
    }
}

/// A fresh database id, used to name its file.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_figures_without_a_method_are_from_before_methods_had_names() {
        let old = "objects_created = 3\nrows_copied = 10\nbytes_copied = 4096\nduration_ms = 5\nexact = true\n";
        let c: CopyStats = toml::from_str(old).unwrap();
        assert_eq!((c.method, c.fallback.as_deref(), c.rows_copied), (None, None, 10));
        let new = CopyStats { method: Some(crate::home::CopyMethod::File), fallback: Some("why".into()), ..c };
        let back: CopyStats = toml::from_str(&toml::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
        assert!(toml::to_string(&CopyStats::default()).unwrap().find("method").is_none(), "none is not written");
    }
}
