//! The fork pipeline, in the order the spec gives it:
//!
//! 1. validate everything (source, destination, schema) — nothing is written
//!    before this passes; the schema is even replayed into memory first so
//!    that a collation or module sqlfork lacks is found here;
//! 2. read the source's schema and settings in one read transaction;
//! 3. add the registry entry with status `provisioning`;
//! 4. create the fresh file, set the settings that must precede the first
//!    table, replay the schema in one transaction, then carry the header
//!    values and WAL mode;
//! 5. flip the entry to `healthy`.
//!
//! On failure the new file and the entry are removed. On interruption the
//! entry stays `provisioning` and running the same fork again finishes it.

use crate::address::{Address, Source};
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::{self, CopyStats, Entry, FileLock, Parent, Registry, Status};
use crate::schema::{self, Replayer, SourceSchema};
use crate::ttl;
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to fork, and how.
#[derive(Debug, Clone)]
pub struct ForkOptions {
    pub source: Source,
    /// `SLUG` (lands in the source's namespace) or `NS/SLUG`.
    pub destination: String,
    pub name: Option<String>,
    pub ttl: Option<Duration>,
    pub with_data: bool,
}

/// What a fork produced.
#[derive(Debug, Clone)]
pub struct ForkOutcome {
    pub entry: Entry,
    /// True when this run finished an interrupted fork.
    pub resumed: bool,
}

/// A resolved fork source.
#[derive(Debug, Clone)]
pub struct ResolvedSource {
    pub path: PathBuf,
    pub parent: Parent,
    /// The namespace a bare destination lands in.
    pub namespace: String,
    pub address: Option<Address>,
}

pub fn resolve_source(home: &Home, config: &Config, source: &Source) -> anyhow::Result<ResolvedSource> {
    match source {
        Source::Registered(addr) => {
            let reg = Registry::load(home)?;
            let e = reg.require(addr)?;
            if e.status != Status::Healthy {
                return Err(Error::failed(format!(
                    "source {addr} is still provisioning; run `sqlfork db wait {addr}` and fork it after"
                ))
                .into());
            }
            if !e.path.exists() {
                return Err(Error::not_found(format!(
                    "the file of {addr} ({}) is missing; delete the entry with `sqlfork db delete {addr}`",
                    e.path.display()
                ))
                .into());
            }
            Ok(ResolvedSource {
                path: e.path.clone(),
                parent: Parent::Database {
                    id: e.id.clone(),
                    namespace: e.namespace.clone(),
                    slug: e.slug.clone(),
                    name: e.name.clone(),
                    branch: e.branch.clone(),
                },
                namespace: addr.namespace.clone(),
                address: Some(addr.clone()),
            })
        }
        Source::Path(p) => {
            schema::check_source_file(p)?;
            let abs =
                std::fs::canonicalize(p).with_context(|| format!("could not resolve source path {}", p.display()))?;
            Ok(ResolvedSource {
                path: abs.clone(),
                parent: Parent::Path(abs),
                namespace: config.default_namespace.clone(),
                address: None,
            })
        }
    }
}

/// Fork a database. See the module docs for the steps.
pub fn fork(home: &Home, config: &Config, opts: &ForkOptions) -> anyhow::Result<ForkOutcome> {
    // 1. Validate.
    let src = resolve_source(home, config, &opts.source)?;
    let dest = Address::parse_destination(&opts.destination, &src.namespace)?;
    if src.address.as_ref() == Some(&dest) {
        return Err(Error::invalid(format!("cannot fork {dest} onto itself; pick another destination")).into());
    }
    let ttl = opts.ttl.or(config.default_ttl);
    let existing = Registry::load(home)?.get(&dest).cloned();
    if let Some(e) = &existing {
        if !is_same_fork(e, &src.parent, opts.with_data) {
            return Err(taken(&dest).into());
        }
    }

    // 2. Read the source in one read transaction, and check every object.
    let schema = read_and_check(&src.path)?;

    if let Some(entry) = existing {
        return resume_fork(home, entry, &src, &schema);
    }

    // 3. Registry entry, status provisioning; claim the fork first so that
    //    no other process resumes it while we build it.
    let id = registry::new_id();
    home.ensure()?;
    let claim = claim(home, &id)?.context("a fresh fork id is already claimed")?;
    let now = ttl::now();
    let entry = Entry {
        id: id.clone(),
        namespace: dest.namespace.clone(),
        slug: dest.slug.clone(),
        branch: None,
        name: opts.name.clone().unwrap_or_else(|| dest.slug.clone()),
        path: home.database_file(&id),
        owned: true,
        status: Status::Provisioning,
        created_at: ttl::format_time(now),
        forked_from: Some(src.parent.clone()),
        forked_at: Some(ttl::format_time(now)),
        expires_at: ttl.map(|d| ttl::format_time(now + d)),
        include_data: opts.with_data,
        copy: None,
    };
    Registry::update(home, |reg| {
        if reg.get(&dest).is_some() {
            return Err(taken(&dest).into());
        }
        reg.insert(entry.clone())?;
        Ok(())
    })?;

    // 4–5. Build, then flip to healthy; on failure leave nothing behind.
    let out = build_and_finish(home, &entry, &src, &schema);
    drop(claim);
    match out {
        Ok(entry) => Ok(ForkOutcome { entry, resumed: false }),
        Err(e) => {
            discard(home, &entry);
            Err(e)
        }
    }
}

fn taken(dest: &Address) -> Error {
    Error::already_exists(format!(
        "{dest} already exists; pick another name or delete it first with `sqlfork db delete {dest}`"
    ))
}

/// An existing entry is this same fork, interrupted, when it is still
/// provisioning from the same parent with the same data option.
fn is_same_fork(e: &Entry, parent: &Parent, with_data: bool) -> bool {
    let same_parent = match (&e.forked_from, parent) {
        (Some(Parent::Database { id: a, .. }), Parent::Database { id: b, .. }) => a == b,
        (Some(Parent::Path(a)), Parent::Path(b)) => a == b,
        _ => false,
    };
    e.status == Status::Provisioning && e.owned && same_parent && e.include_data == with_data
}

/// Open the source, read schema and settings in one read transaction,
/// refuse anything unsafe, and replay the schema into memory so that every
/// error a real replay could meet is found before anything is written.
pub fn read_and_check(path: &Path) -> anyhow::Result<SourceSchema> {
    let mut conn = schema::open_source(path)?;
    let schema = schema::read_schema(&mut conn, path)?;
    schema::check_objects(&schema)?;
    let mut mem = Connection::open_in_memory()?;
    schema::harden(&mem)?;
    let tx = mem.transaction()?;
    replay_all(&tx, &schema)?;
    Ok(schema)
}

fn replay_all<'s>(tx: &rusqlite::Transaction, schema: &'s SourceSchema) -> anyhow::Result<Replayer<'s>> {
    let mut r = Replayer::new(schema);
    r.create_tables(tx)?;
    r.create_indexes(tx)?;
    r.create_stat_tables(tx)?;
    r.create_views(tx)?;
    r.create_triggers(tx)?;
    r.verify(tx)?;
    Ok(r)
}

/// Claim the right to build fork `id`: an advisory lock that the kernel
/// drops when the process dies, so a killed fork can be resumed.
pub fn claim(home: &Home, id: &str) -> anyhow::Result<Option<FileLock>> {
    FileLock::try_acquire(&claim_path(home, id))
}

pub fn claim_path(home: &Home, id: &str) -> PathBuf {
    home.databases_dir().join(format!("{id}.lock"))
}

fn resume_fork(home: &Home, entry: Entry, src: &ResolvedSource, schema: &SourceSchema) -> anyhow::Result<ForkOutcome> {
    let addr = entry.address();
    let Some(claim) = claim(home, &entry.id)? else {
        return Err(Error::failed(format!(
            "another sqlfork process is building {addr} right now; run `sqlfork db wait {addr}` to follow it"
        ))
        .into());
    };
    // A schema-only build is one transaction: start it again from scratch.
    remove_files(&entry.path);
    let out = build_and_finish(home, &entry, src, schema);
    drop(claim);
    match out {
        Ok(entry) => Ok(ForkOutcome { entry, resumed: true }),
        Err(e) => {
            discard(home, &entry);
            Err(e)
        }
    }
}

fn build_and_finish(home: &Home, entry: &Entry, src: &ResolvedSource, schema: &SourceSchema) -> anyhow::Result<Entry> {
    let started = Instant::now();
    let objects = build(&entry.path, schema).with_context(|| format!("could not fork {}", src_label(src)))?;
    let stats = CopyStats {
        objects_created: objects,
        rows_copied: 0,
        bytes_copied: 0,
        duration_ms: started.elapsed().as_millis() as u64,
        exact: true,
        orphans_pruned: 0,
    };
    finish(home, &entry.id, stats)
}

fn src_label(src: &ResolvedSource) -> String {
    match &src.address {
        Some(a) => a.to_string(),
        None => src.path.display().to_string(),
    }
}

/// Create the fork file and replay the schema into it; returns the number of
/// objects created.
fn build(path: &Path, schema: &SourceSchema) -> anyhow::Result<u64> {
    create_file(path)?;
    let mut conn = open_fork(path)?;
    Replayer::apply_file_settings(&conn, &schema.settings)?;
    let tx = conn.transaction()?;
    let replayer = replay_all(&tx, schema)?;
    Replayer::apply_header_values(&tx, &schema.settings)?;
    let objects = replayer.objects_created;
    tx.commit().context("could not commit the schema to the new database")?;
    Replayer::apply_journal_mode(&conn, &schema.settings)?;
    conn.close().map_err(|(_, e)| e).context("could not close the new database")?;
    Ok(objects)
}

/// Create a new, empty file with mode 0600; it must not exist yet.
pub fn create_file(path: &Path) -> anyhow::Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::failed(format!("could not create {}: {e}", path.display())))?;
    Ok(())
}

/// Open a database sqlfork owns, read-write, with the fork-side settings.
pub fn open_fork(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("could not open {}", path.display()))?;
    schema::harden(&conn)?;
    Ok(conn)
}

/// Flip an entry to healthy with its copy figures.
fn finish(home: &Home, id: &str, stats: CopyStats) -> anyhow::Result<Entry> {
    Registry::update(home, |reg| {
        let e = reg
            .by_id_mut(id)
            .ok_or_else(|| Error::failed("the fork's registry entry disappeared while it was being built"))?;
        e.status = Status::Healthy;
        e.copy = Some(stats);
        Ok(e.clone())
    })
}

/// Remove a failed fork: its files and its entry.
fn discard(home: &Home, entry: &Entry) {
    if entry.owned {
        remove_files(&entry.path);
    }
    let _ = Registry::update(home, |reg| {
        reg.remove_id(&entry.id);
        Ok(())
    });
    let _ = std::fs::remove_file(claim_path(home, &entry.id));
}

/// Remove a database file and the journal files SQLite keeps beside it.
pub fn remove_files(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}
