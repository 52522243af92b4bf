//! The database operations behind `db create`, `db import`, `db list`,
//! `db show`, `db path` and `db delete`. Each takes typed options and
//! returns data; printing is the command line's job (`commands`).

use crate::address::Address;
use crate::claim::{is_claimed, Claim};
use crate::error::Error;
use crate::fork;
use crate::home::{Config, Home};
use crate::layout;
use crate::registry::{self, Entry, Snapshot, Status, Store};
use crate::schema;
use crate::ttl;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Create a new, empty database owned by sqlfork.
pub(crate) fn create(
    home: &Home,
    config: &Config,
    addr: &Address,
    name: Option<String>,
    ttl: Option<Duration>,
) -> anyhow::Result<Entry> {
    let addr = addr.database();
    if Store::open(home)?.get(&addr)?.is_some() {
        return Err(Error::Taken { address: addr }.into());
    }
    home.ensure()?;
    let id = registry::new_id();
    let path = layout::database_file(home, &id);
    let now = ttl::now();
    let entry = Entry {
        id: id.clone(),
        namespace: addr.namespace.clone(),
        slug: addr.slug.clone(),
        branch: None,
        name: name.unwrap_or_else(|| addr.slug.clone()),
        path: path.clone(),
        owned: true,
        status: Status::Healthy,
        created_at: ttl::format_time(now),
        forked_from: None,
        forked_at: None,
        expires_at: ttl.or(config.default_ttl).map(|d| ttl::format_time(now + d)),
        include_data: false,
        copy: None,
        safe: None,
        base: None,
    };
    // The claim, then the file, then the entry: a crash in between leaves
    // files named by an id no entry has (the next registry write sweeps
    // them away), never an entry without its file.
    let claim = Claim::take(home, &id)?.context("a fresh database id is already claimed")?;
    let init = || -> anyhow::Result<()> {
        layout::create_new_file(&path)?;
        let conn = schema::open_fork(&path)?;
        // Writing the header makes it a real SQLite file, not an empty one.
        conn.execute_batch("PRAGMA user_version = 0; VACUUM;")?;
        // VACUUM synced the file; its name must be durable before the entry.
        layout::sync_dir(&home.databases_dir())?;
        Ok(())
    };
    let result = init().and_then(|_| {
        Store::edit(home, |s| {
            crate::sweep::tidy(home, s)?;
            s.insert(&entry)
        })
    });
    if result.is_err() {
        layout::remove_database_files(&path);
    }
    drop(claim);
    result
        .map(|_| entry)
        .map_err(|e| crate::space::explain(e, &home.databases_dir(), &format!("creating {addr}"), None))
}

/// What `import` did.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    pub entry: Entry,
    /// True when the same file was already registered under this address:
    /// nothing changed (a CI job that imports on every run succeeds).
    pub already: bool,
}

/// The entry at `addr` when it is `file` registered in place.
fn same_import(reg: &Store, addr: &Address, file: &Path) -> anyhow::Result<Option<Entry>> {
    let Some(e) = reg.get(addr)? else { return Ok(None) };
    let same = !e.owned && std::fs::canonicalize(file).is_ok_and(|p| p == e.path);
    Ok(same.then_some(e))
}

/// Register an existing SQLite file in place. sqlfork never writes or
/// deletes it. Importing the same file under the same address again is a
/// no-op success; another file under a taken address is refused.
pub(crate) fn import(home: &Home, addr: &Address, file: &Path, name: Option<String>) -> anyhow::Result<Imported> {
    let addr = addr.database();
    let reg = Store::open(home)?;
    if let Some(entry) = same_import(&reg, &addr, file)? {
        crate::registry::sync_found(home, &[])?;
        return Ok(Imported { entry, already: true });
    }
    if reg.get(&addr)?.is_some() {
        return Err(Error::Taken { address: addr }.into());
    }
    let _side_files = schema::SourceSideFiles::note(file);
    let mut conn = schema::open_source(file)?;
    schema::read_schema(&mut conn, file)?;
    drop(conn);
    let path = std::fs::canonicalize(file).with_context(|| format!("could not resolve {}", file.display()))?;
    let now = ttl::now();
    let entry = Entry {
        id: registry::new_id(),
        namespace: addr.namespace.clone(),
        slug: addr.slug.clone(),
        branch: None,
        name: name.unwrap_or_else(|| addr.slug.clone()),
        path,
        owned: false,
        status: Status::Healthy,
        created_at: ttl::format_time(now),
        forked_from: None,
        forked_at: None,
        expires_at: None,
        include_data: false,
        copy: None,
        safe: None,
        base: None,
    };
    Store::edit(home, |reg| {
        // Two imports of the same file at once: the second is a no-op too.
        if let Some(e) = same_import(reg, &addr, file)? {
            return Ok(Imported { entry: e, already: true });
        }
        reg.insert(&entry)?;
        Ok(Imported { entry: entry.clone(), already: false })
    })
}

/// Every entry, optionally in one namespace, sorted by address.
pub(crate) fn list(home: &Home, namespace: Option<&str>) -> anyhow::Result<Vec<Entry>> {
    if let Some(ns) = namespace {
        crate::address::check_part("namespace", ns)?;
    }
    // The hidden forks a reset or a snapshot builds (`REF~reset`,
    // `REF~snapshot~NAME`) are not databases anyone asked for; they are
    // swapped in or cleaned up by the command that made them.
    let store = Store::open(home)?;
    let all = match namespace {
        Some(ns) => store.in_namespace(ns)?,
        None => store.all()?.databases,
    };
    let mut entries: Vec<Entry> = all.into_iter().filter(|e| !e.address().is_internal()).collect();
    entries.sort_by_key(|a| a.address());
    Ok(entries)
}

pub(crate) fn get(home: &Home, addr: &Address) -> anyhow::Result<Entry> {
    Store::open(home)?.require(addr)
}

/// An entry and what is happening to it now (`db show`; its lineage is
/// resolved by the API, `api::Lineages`).
#[derive(Debug, Clone)]
pub(crate) struct Detail {
    pub entry: Entry,
    /// True when a process holds the build claim right now.
    pub in_flight: bool,
    /// How far a data copy is, while the entry is provisioning.
    pub progress: Option<fork::CopyState>,
    /// How many snapshots of this database exist.
    pub snapshots: usize,
    /// The pid of the process building it, while one is.
    pub pid: Option<u32>,
    /// True when its base (for `db merge`) is recorded and still there.
    pub base_kept: bool,
}

pub(crate) fn show(home: &Home, addr: &Address) -> anyhow::Result<Detail> {
    let reg = Store::open(home)?;
    let entry = reg.require(addr)?;
    let in_flight = entry.status == Status::Provisioning && is_claimed(home, &entry.id);
    let progress = if entry.status == Status::Provisioning { fork::CopyState::load(home, &entry.id) } else { None };
    let snapshots = reg.count_snapshots_of(&entry.id)?;
    let pid = if in_flight { crate::claim::holder(home, &entry.id) } else { None };
    let base_kept = match &entry.base {
        None => false,
        Some(b) if b.kind == crate::registry::BaseKind::Snapshot => {
            reg.snapshot_by_id(b.snapshot_id.as_deref().unwrap_or_default())?.is_some()
        }
        Some(_) => layout::base_file(home, &entry.id).exists(),
    };
    Ok(Detail { base_kept, entry, in_flight, progress, pid, snapshots })
}

/// The absolute path of a database's file.
pub(crate) fn path(home: &Home, addr: &Address) -> anyhow::Result<PathBuf> {
    Ok(get(home, addr)?.path)
}

/// Remove an entry, and its file when sqlfork owns it. Refused while another
/// process is building it.
///
/// The entry leaves the registry first, then the files go (under the
/// database's claim): a crash in between leaves files that no entry names,
/// which the next registry write sweeps away, never an entry without its
/// file.
pub(crate) fn delete(home: &Home, addr: &Address) -> anyhow::Result<Entry> {
    Ok(delete_with(home, addr, None)?.0)
}

/// [`delete`] with the database's claim already held (`held`, taken by a
/// caller that stopped the process building it). The database's snapshots
/// go too (their records in the same registry write, then their files);
/// they are returned with the entry.
pub(crate) fn delete_with(home: &Home, addr: &Address, held: Option<Claim>) -> anyhow::Result<(Entry, Vec<Snapshot>)> {
    let mut held = held;
    let (entry, claim, snapshots) = Store::edit(home, |reg| {
        crate::sweep::tidy(home, reg)?;
        let entry = reg.require(addr)?;
        // Hold the claim while deleting so no process starts resuming it.
        let claim = if entry.owned {
            match held.take() {
                Some(c) => Some(c),
                None => match Claim::take(home, &entry.id)? {
                    Some(c) => Some(c),
                    None => return Err(Error::InUse { address: addr.clone() }.into()),
                },
            }
        } else {
            None
        };
        reg.remove_id(&entry.id)?;
        let snapshots = reg.take_snapshots_of(&entry.id)?;
        Ok((entry, claim, snapshots))
    })?;
    crate::env::test_pause("delete-unregistered");
    for s in &snapshots {
        s.remove_files();
    }
    entry.remove_files(home);
    drop(claim);
    Ok((entry, snapshots))
}
