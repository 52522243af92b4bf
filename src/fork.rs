//! The fork pipeline, in the order the spec gives it:
//!
//! 1. validate everything (source, destination, schema) — nothing is written
//!    before this passes; the schema is even replayed into memory first so
//!    that a collation or module sqlfork lacks is found here;
//! 2. read the source's schema and settings in one read transaction (for a
//!    WAL source, that transaction's snapshot is kept for the row copy);
//! 3. add the registry entry with status `provisioning`;
//! 4. create the fresh file, set the settings that must precede the first
//!    table, replay the tables in one transaction, carry the header values;
//! 5. schema-only: replay the rest in the same transaction, flip to healthy;
//! 6. with data: copy rows page by page (`copy`), carry `sqlite_sequence`
//!    and the statistics, then build indexes, views and triggers in one
//!    transaction (triggers come last, so none fires during the copy), and
//!    flip to healthy.
//!
//! On failure the new file and the entry are removed. On interruption the
//! entry stays `provisioning`; the same `db fork`, `db resume` or `db wait`
//! continues from the last committed page.

use crate::address::{Address, Source};
use crate::claim::{is_claimed, Claim};
use crate::copy::{self, Copier, Progress, SnapshotBytes, SourceReader};
use crate::error::Error;
use crate::home::{Config, CopyMethod, Home};
use crate::layout;
use crate::registry::{self, CopyStats, Entry, Parent, Registry, Status};
use crate::schema::{self, open_fork, Replayer, SourceSchema};
use crate::ttl;
use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::fs::OpenOptions;
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
    /// Return once the schema is in place; a background process copies rows.
    pub detach: bool,
    /// Make the new database the branch `NS/SLUG@branch` of the destination
    /// address (used by `branch put`; the caller validates the ref).
    pub branch: Option<String>,
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

impl ResolvedSource {
    fn label(&self) -> String {
        match &self.address {
            Some(a) => a.to_string(),
            None => self.path.display().to_string(),
        }
    }
}

pub fn resolve_source(home: &Home, config: &Config, source: &Source) -> anyhow::Result<ResolvedSource> {
    match source {
        Source::Registered(addr) => {
            let reg = Registry::load(home)?;
            let e = reg.require(addr)?;
            if e.status != Status::Healthy {
                return Err(Error::SourceProvisioning { address: addr.clone() }.into());
            }
            if !e.path.exists() {
                return Err(Error::FileMissing { address: addr.clone(), path: e.path.clone() }.into());
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

/// The source's path for an entry's parent, for resuming.
fn source_of(home: &Home, entry: &Entry) -> anyhow::Result<ResolvedSource> {
    let addr = entry.address();
    match &entry.forked_from {
        Some(Parent::Path(p)) => Ok(ResolvedSource {
            path: p.clone(),
            parent: Parent::Path(p.clone()),
            namespace: entry.namespace.clone(),
            address: None,
        }),
        Some(parent @ Parent::Database { id, .. }) => {
            let reg = Registry::load(home)?;
            let p = reg.by_id(id).ok_or_else(|| {
                Error::failed(format!(
                    "cannot resume {addr}: its source database was deleted; delete it with `sqlfork db delete {addr}`"
                ))
            })?;
            Ok(ResolvedSource {
                path: p.path.clone(),
                parent: parent.clone(),
                namespace: p.namespace.clone(),
                address: Some(p.address()),
            })
        }
        None => Err(Error::failed(format!("{addr} is not a fork, so there is nothing to resume")).into()),
    }
}

// ---------------------------------------------------------------------------
// Reading the source

/// An open source: its schema, read in one read transaction, and (for a WAL
/// source being copied with data) that transaction kept open as a snapshot.
pub struct SourceSession {
    pub schema: SourceSchema,
    pub reader: SourceReader,
    /// The schema replayed into an in-memory database with the source's
    /// settings (schema-only forks): validated, and copied to the fork file
    /// whole.
    prepared: Option<Connection>,
}

impl SourceSession {
    /// Open `path` read-only and read its schema. With `keep_snapshot`, a
    /// WAL source's read transaction stays open and its snapshot is kept;
    /// `reuse` asks for an earlier snapshot (a resumed copy) first.
    pub fn open(path: &Path, keep_snapshot: bool, reuse: Option<&SnapshotBytes>) -> anyhow::Result<(Self, bool)> {
        let conn = schema::open_source(path)?;
        if reuse.is_some() {
            // sqlite3_snapshot_open needs the pager to have the WAL open
            // already (else SQLITE_ERROR): one read in autocommit opens it.
            conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |_| Ok(()))
                .map_err(|e| schema::source_error(path, e))?;
        }
        conn.execute_batch("BEGIN").map_err(|e| schema::source_error(path, e))?;
        let mut reused = false;
        if let Some(snap) = reuse {
            reused = SourceReader::open_snapshot(&conn, "main", snap).is_ok();
        }
        let schema = match schema::read_schema_in_transaction(&conn, path) {
            Ok(s) => s,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        // A WAL source stays pinned even when SQLite cannot hand out a
        // snapshot (it cannot while the WAL is empty): reads through this
        // connection still see one point in time, and a checkpoint cannot
        // overwrite what it reads.
        let pin = keep_snapshot && schema.settings.journal_mode == "wal";
        let snapshot = if pin { SourceReader::take_snapshot(&conn) } else { None };
        let reader = if pin {
            SourceReader::new(path.to_path_buf(), Some(conn), snapshot)
        } else {
            let _ = conn.execute_batch("COMMIT");
            SourceReader::new(path.to_path_buf(), None, None)
        };
        Ok((SourceSession { schema, reader, prepared: None }, reused))
    }
}

/// Open the source, read schema and settings in one read transaction,
/// refuse anything unsafe, and replay the schema into memory so that every
/// error a real replay could meet is found before anything is written.
pub fn read_and_check(path: &Path) -> anyhow::Result<SourceSchema> {
    let _side_files = schema::SourceSideFiles::note(path);
    let (mut session, _) = SourceSession::open(path, false, None)?;
    check_schema(&mut session, Plan::SchemaOnly)?;
    Ok(session.schema)
}

/// What a fork will do with the schema, which decides how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Replay the schema: it is replayed into memory first (every error a
    /// replay can meet is found before anything is written), and that
    /// in-memory database becomes the fork's file.
    SchemaOnly,
    /// Replay the schema and copy rows: replayed into memory to check it.
    Rows,
    /// Copy pages: no SQL is executed, so only the objects' shape is checked
    /// (a collation or module only the source's application has does not
    /// stop a page-exact copy).
    Pages,
}

impl Plan {
    fn of(with_data: bool, method: CopyMethod) -> Plan {
        match (with_data, method) {
            (false, _) => Plan::SchemaOnly,
            (true, CopyMethod::Rows) => Plan::Rows,
            (true, CopyMethod::Pages) => Plan::Pages,
        }
    }
}

fn check_schema(session: &mut SourceSession, plan: Plan) -> anyhow::Result<()> {
    schema::check_objects(&session.schema)?;
    if plan == Plan::Pages {
        return Ok(());
    }
    let mut mem = Connection::open_in_memory()?;
    schema::harden(&mem)?;
    Replayer::apply_file_settings(&mem, &session.schema.settings)?;
    let tx = mem.transaction()?;
    let stand_ins = replay_all(&tx, &session.schema)?.stand_ins;
    if plan == Plan::Rows {
        refuse_row_copy_with_stand_ins(&Replayer::collations(&tx)?, &stand_ins.functions)?;
    }
    Replayer::apply_header_values(&tx, &session.schema.settings)?;
    tx.commit()?;
    if plan == Plan::SchemaOnly {
        session.prepared = Some(mem);
    }
    Ok(())
}

fn replay_all<'s>(conn: &Connection, schema: &'s SourceSchema) -> anyhow::Result<Replayer<'s>> {
    let mut r = Replayer::new(schema);
    r.create_tables(conn)?;
    r.fill_starter_rows(conn)?;
    r.create_indexes(conn)?;
    r.create_stat_tables(conn)?;
    r.create_views(conn)?;
    r.create_triggers(conn)?;
    r.verify(conn)?;
    Ok(r)
}

/// A row copy builds indexes, computes generated columns and checks
/// constraints with what the replay has: a stand-in would reach the fork.
/// Such a schema is copied page by page (the default), never row by row.
fn refuse_row_copy_with_stand_ins(collations: &[String], functions: &[String]) -> anyhow::Result<()> {
    let mut pieces: Vec<String> = collations.iter().map(|c| format!("collation `{c}`")).collect();
    pieces.extend(functions.iter().map(|f| format!("function `{f}`")));
    if pieces.is_empty() {
        return Ok(());
    }
    Err(Error::failed(format!(
        "cannot copy this source row by row: its schema uses the {} that only its application defines, and a row copy would fill the fork's indexes without it; use the page copy (copy_method = \"pages\", the default) while nothing writes to the source",
        pieces.join(", ")
    ))
    .into())
}

// ---------------------------------------------------------------------------
// Fork

/// Fork a database. See the module docs for the steps.
pub fn fork(
    home: &Home,
    config: &Config,
    opts: &ForkOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<ForkOutcome> {
    // 1. Validate.
    let src = resolve_source(home, config, &opts.source)?;
    let dest =
        Address { branch: opts.branch.clone(), ..Address::parse_destination(&opts.destination, &src.namespace)? };
    if src.address.as_ref() == Some(&dest) {
        return Err(Error::invalid(format!("cannot fork {dest} onto itself; pick another destination")).into());
    }
    let ttl = opts.ttl.or(config.default_ttl);
    if let Some(e) = Registry::load(home)?.get(&dest).cloned() {
        if !is_same_fork(&e, &src.parent, opts.with_data) {
            return Err(Error::Taken { address: dest }.into());
        }
        // The same fork, interrupted: finish it. If another process is
        // building it, or finished it meanwhile, the destination is taken;
        // if it was deleted meanwhile, make it afresh.
        match resume_entry(home, config, e, progress, opts.detach, false) {
            Ok(out) if !out.resumed => return Err(Error::Taken { address: dest }.into()),
            Err(err) if Error::any_in(&err, |e| matches!(e, Error::Busy { address } if *address == dest)) => {
                return Err(Error::BeingBuilt { address: dest }.into())
            }
            Err(err) if Error::any_in(&err, |e| matches!(e, Error::NotFound { address } if *address == dest)) => {}
            other => return other,
        }
    }

    // 2. Read the source in one read transaction, and check every object.
    let _side_files = schema::SourceSideFiles::note(&src.path);
    let counter = copy::change_counter(&src.path);
    let (mut session, _) = SourceSession::open(&src.path, opts.with_data, None)?;
    check_schema(&mut session, Plan::of(opts.with_data, config.copy_method))?;

    // 3. Registry entry, status provisioning; claim the fork first so that
    //    no other process resumes it while we build it.
    home.ensure()?;
    let id = registry::new_id();
    let claim = Claim::take(home, &id)?.context("a fresh fork id is already claimed")?;
    let now = ttl::now();
    let entry = Entry {
        id: id.clone(),
        namespace: dest.namespace.clone(),
        slug: dest.slug.clone(),
        branch: dest.branch.clone(),
        name: opts.name.clone().unwrap_or_else(|| dest.slug.clone()),
        path: layout::database_file(home, &id),
        owned: true,
        status: Status::Provisioning,
        created_at: ttl::format_time(now),
        forked_from: Some(src.parent.clone()),
        forked_at: Some(ttl::format_time(now)),
        expires_at: ttl.map(|d| ttl::format_time(now + d)),
        include_data: opts.with_data,
        copy: None,
    };
    let state = CopyState {
        snapshot: session.reader.snapshot.map(hex),
        file_stamp: file_stamp(&src.path),
        change_counter: counter,
        exact: session.reader.consistent() || session.schema.settings.journal_mode != "wal",
        method: config.copy_method,
        ..CopyState::default()
    };
    if let Err(e) = Registry::update(home, |reg| {
        crate::sweep::sweep_orphans(home, reg);
        reg.insert(entry.clone())?;
        Ok(())
    }) {
        drop(claim);
        return Err(e);
    }
    // The copy state is written only once the entry exists, so a kill never
    // leaves a state file that no entry owns (a resume without one starts
    // the copy over).
    if opts.with_data {
        if let Err(e) = state.save(home, &id) {
            discard(home, &entry, &e, false);
            return Err(e);
        }
    }

    crate::copy::test_pause("fork-registered");

    // 4–6. Build, then flip to healthy; on failure leave nothing behind.
    //    The claim is held until a failed fork is discarded, so that no
    //    `db wait` or `db resume` takes up a fork while it is being removed.
    let job = Job { home, entry: &entry, src: &src, page_rows: config.rows_per_page };
    let mut claim = Some(claim);
    let out = if opts.detach && opts.with_data {
        job.build_schema_then_detach(session, state, &mut claim)
    } else {
        job.build(session, state, progress)
    };
    let out = match out {
        Ok(entry) => Ok(ForkOutcome { entry, resumed: false }),
        Err(e) => {
            discard(home, &entry, &e, false);
            Err(e)
        }
    };
    drop(claim);
    out
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

/// Continue an interrupted fork (`db resume`, `db wait`, or the same
/// `db fork` again).
pub fn resume(
    home: &Home,
    config: &Config,
    addr: &Address,
    progress: &mut dyn Progress,
) -> anyhow::Result<ForkOutcome> {
    resume_addr(home, config, addr, progress, false)
}

/// [`resume`] as the background copy of `db fork --detach`: nobody sees its
/// errors but `db wait`, so a failure leaves its reason in a note for it.
pub fn resume_in_background(
    home: &Home,
    config: &Config,
    addr: &Address,
    progress: &mut dyn Progress,
) -> anyhow::Result<ForkOutcome> {
    resume_addr(home, config, addr, progress, true)
}

fn resume_addr(
    home: &Home,
    config: &Config,
    addr: &Address,
    progress: &mut dyn Progress,
    background: bool,
) -> anyhow::Result<ForkOutcome> {
    let entry = Registry::load(home)?.require(addr)?.clone();
    if entry.status == Status::Healthy {
        return Ok(ForkOutcome { entry, resumed: false });
    }
    resume_entry(home, config, entry, progress, false, background)
}

fn resume_entry(
    home: &Home,
    config: &Config,
    entry: Entry,
    progress: &mut dyn Progress,
    detach: bool,
    note_failure: bool,
) -> anyhow::Result<ForkOutcome> {
    let addr = entry.address();
    let Some(claim) = Claim::take(home, &entry.id)? else {
        return Err(Error::Busy { address: addr }.into());
    };
    // Re-read under the claim: another process may have finished it, or
    // discarded it (then our claim file is a new one: remove it).
    let entry = match Registry::load(home)?.by_id(&entry.id) {
        Some(e) if e.status == Status::Provisioning => e.clone(),
        found => {
            // Another process finished or discarded it; releasing the claim
            // removes the claim file this look made.
            return match found {
                Some(e) => Ok(ForkOutcome { entry: e.clone(), resumed: false }),
                None => Err(Error::NotFound { address: addr }.into()),
            };
        }
    };
    // Held until a failed fork is discarded (see `fork`).
    let mut claim = Some(claim);
    let src = source_of(home, &entry)?;
    let _side_files = schema::SourceSideFiles::note(&src.path);
    let mut state = CopyState::load(home, &entry.id)
        .unwrap_or_else(|| CopyState { method: config.copy_method, ..CopyState::default() });
    let out = (|| -> anyhow::Result<Entry> {
        let saved = state.snapshot.as_deref().and_then(unhex);
        let counter = copy::change_counter(&src.path);
        // A source that vanished or no longer replays ends this fork.
        let removed = |e: anyhow::Error| -> anyhow::Error {
            Error::failed(format!("could not finish {addr}, so it was removed: {e:#}")).into()
        };
        let (mut session, reused) =
            SourceSession::open(&src.path, entry.include_data, saved.as_ref()).map_err(removed)?;
        let method = if entry.include_data { state.method } else { CopyMethod::Pages };
        check_schema(&mut session, Plan::of(entry.include_data, method)).map_err(removed)?;
        if entry.include_data && state.method == CopyMethod::Pages {
            // Pages already written are only good if the source is the same
            // point in time: the same WAL snapshot, or no commit since.
            let stamp = file_stamp(&src.path);
            let same = if session.schema.settings.journal_mode == "wal" {
                match &saved {
                    Some(_) => reused,
                    // No snapshot was saved because the WAL was empty: the
                    // source is the same if its WAL is still empty and no
                    // checkpoint has touched the main file since.
                    None => session.reader.snapshot.is_none() && stamp.is_some() && stamp == state.file_stamp,
                }
            } else {
                counter.is_some() && counter == state.change_counter
            };
            if !same {
                state.pages_done = 0;
                state.change_counter = counter;
                state.file_stamp = stamp;
            }
            state.exact = true;
            state.snapshot = session.reader.snapshot.map(hex);
            state.save(home, &entry.id)?;
        } else if entry.include_data {
            if saved.is_some() && !reused {
                // The snapshot the copy started from is gone (checkpointed):
                // the rest comes from a newer one, so the fork is best-effort.
                state.exact = false;
            }
            if saved.is_none() && session.schema.settings.journal_mode == "wal" {
                // The copy began frozen (empty WAL, no snapshot to save): it
                // continues exactly only if the source still is that moment.
                let stamp = file_stamp(&src.path);
                if !(session.reader.frozen() && stamp.is_some() && stamp == state.file_stamp) {
                    state.exact = false;
                }
            }
            state.snapshot = session.reader.snapshot.map(hex);
            state.save(home, &entry.id)?;
        } else {
            layout::remove_database_files(&entry.path);
        }
        let job = Job { home, entry: &entry, src: &src, page_rows: config.rows_per_page };
        if detach && entry.include_data {
            return job.build_schema_then_detach(session, state, &mut claim);
        }
        job.build(session, state, progress)
    })();
    let out = match out {
        Ok(entry) => Ok(ForkOutcome { entry, resumed: true }),
        Err(e) => {
            discard(home, &entry, &e, note_failure);
            Err(e)
        }
    };
    drop(claim);
    out
}

/// Every provisioning entry that no process is building.
pub fn interrupted(home: &Home) -> anyhow::Result<Vec<Entry>> {
    Ok(Registry::load(home)?
        .databases
        .into_iter()
        .filter(|e| e.status == Status::Provisioning && !is_claimed(home, &e.id))
        .collect())
}

// ---------------------------------------------------------------------------
// Building

/// One fork being built.
struct Job<'a> {
    home: &'a Home,
    entry: &'a Entry,
    src: &'a ResolvedSource,
    page_rows: u64,
}

impl Job<'_> {
    fn build(&self, session: SourceSession, state: CopyState, progress: &mut dyn Progress) -> anyhow::Result<Entry> {
        let started = Instant::now();
        trace(&format!("building {} (id {})", self.entry.address(), self.entry.id));
        let stats = if self.entry.include_data {
            self.build_with_data(session, state, progress)
        } else {
            build_schema_only(&self.entry.path, session)
        }
        .with_context(|| format!("could not fork {} into {}", self.src.label(), self.entry.address()))
        .map_err(explain_write_failure)?;
        let stats = CopyStats { duration_ms: started.elapsed().as_millis() as u64, ..stats };
        let entry = finish(self.home, &self.entry.id, stats)?;
        crate::copy::test_pause("healthy");
        layout::remove_copy_state(self.home, &self.entry.id);
        Ok(entry)
    }

    /// `--detach`: put the tables in place, then hand the claim to a
    /// background `sqlfork db resume` and return.
    fn build_schema_then_detach(
        &self,
        session: SourceSession,
        state: CopyState,
        claim: &mut Option<Claim>,
    ) -> anyhow::Result<Entry> {
        if state.method == CopyMethod::Rows && !tables_in_place(&self.entry.path)? {
            layout::remove_database_files(&self.entry.path);
            create_tables(&self.entry.path, &session.schema)?;
        }
        state.save(self.home, &self.entry.id)?;
        let exe = std::env::current_exe().context("could not find the sqlfork executable to run the copy")?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("--home")
            .arg(self.home.root())
            .args(["--quiet", "db", "resume", "--background"])
            .arg(self.entry.address().to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            // Its own process group: a Ctrl-C on this terminal does not stop it.
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().context("could not start the background copy")?;
        // The child waits for our claim; it says "ready" once it holds the
        // claim and has reopened the snapshot, and only then may we let go
        // of our own pin on the source. (On an error before this point the
        // caller still holds the claim while it discards the fork.)
        if let Some(claim) = claim.take() {
            claim.hand_over();
        }
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            use std::io::BufRead;
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        drop(session);
        Ok(Registry::load(self.home)?.by_id(&self.entry.id).cloned().unwrap_or_else(|| self.entry.clone()))
    }

    /// A data copy: page by page when it can be (see `copy::PageCopy`), else
    /// row by row. A rollback-journal source written to during a page copy
    /// makes the copy start again row by row, best-effort.
    fn build_with_data(
        &self,
        mut session: SourceSession,
        mut state: CopyState,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<CopyStats> {
        if state.method == CopyMethod::Pages {
            match self.build_pages(&mut session, &mut state, progress) {
                Ok(stats) => return Ok(stats),
                Err(copy::PageCopyStop::Failed(e)) => return Err(e),
                Err(copy::PageCopyStop::SourceChanged) => {
                    trace("source changed during the page copy; copying rows instead");
                    drop(session);
                    layout::remove_database_files(&self.entry.path);
                    let counter = copy::change_counter(&self.src.path);
                    let (mut fresh, _) = SourceSession::open(&self.src.path, true, None)?;
                    check_schema(&mut fresh, Plan::Rows)?;
                    let state = CopyState {
                        change_counter: counter,
                        exact: fresh.schema.settings.journal_mode != "wal" || fresh.reader.consistent(),
                        snapshot: fresh.reader.snapshot.map(hex),
                        method: CopyMethod::Rows,
                        ..CopyState::default()
                    };
                    state.save(self.home, &self.entry.id)?;
                    return self.build_rows(fresh, state, progress);
                }
            }
        }
        self.build_rows(session, state, progress)
    }

    /// The page copy. Resumes after `state.pages_done` when the caller has
    /// established that the source is unchanged since those were written.
    fn build_pages(
        &self,
        session: &mut SourceSession,
        state: &mut CopyState,
        progress: &mut dyn Progress,
    ) -> Result<CopyStats, copy::PageCopyStop> {
        let path = &self.entry.path;
        let own;
        let (conn, pinned) = match session.reader.pin_connection() {
            Some(c) => (c, true),
            None => {
                own = schema::open_source(&self.src.path)?;
                (&own, false)
            }
        };
        let page_count: i64 = conn.query_row("PRAGMA main.page_count", [], |r| r.get(0))?;
        let page_size = session.schema.settings.page_size as u64;
        let page_count = page_count as u64;
        if state.pages_done == 0 || state.page_count != page_count || state.page_size != page_size {
            layout::remove_database_files(path);
            layout::create_new_file(path)?;
            state.pages_done = 0;
        }
        state.page_count = page_count;
        state.page_size = page_size;
        state.pages_written = state.pages_done;
        state.save(self.home, &self.entry.id)?;
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::failed(format!("could not open {}: {e}", path.display())))?;
        let copier = copy::PageCopy { conn, pinned, change_counter: state.change_counter, page_size, page_count };
        let start = state.pages_done;
        let mut tracker =
            StateProgress { inner: progress, state: state.clone(), home: self.home, id: &self.entry.id, last: None };
        tracker.unit("pages");
        tracker.start(page_count, start);
        let result = copier.run(&file, start, &mut tracker);
        tracker.inner.finish();
        result?;
        drop(file);
        crate::copy::test_pause("pages-synced");
        session.reader.release();
        *state = tracker.done();
        let rows = count_fork_rows(path, &session.schema)?;
        Ok(CopyStats {
            objects_created: count_objects(&session.schema),
            rows_copied: rows,
            bytes_copied: page_count * page_size,
            exact: true,
            ..CopyStats::default()
        })
    }

    fn build_rows(
        &self,
        mut session: SourceSession,
        mut state: CopyState,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<CopyStats> {
        let path = &self.entry.path;
        let schema = &session.schema;
        let t0 = Instant::now();
        // Phase A: the tables, in one transaction (done already when resuming).
        if !tables_in_place(path)? {
            layout::remove_database_files(path);
            create_tables(path, schema)?;
        }
        if objects_in_place(path, schema)? {
            // Phase C committed before an interruption: the journal mode and
            // the flip are left.
            session.reader.release();
            let conn = open_fork(path)?;
            finish_journal_mode(&conn, &schema.settings)?;
            conn.close().map_err(|(_, e)| e).context("could not close the fork")?;
            return Ok(CopyStats {
                objects_created: count_objects(&session.schema),
                rows_copied: count_fork_rows(path, schema)?,
                bytes_copied: layout::file_size(path).unwrap_or(0),
                exact: state.exact,
                ..CopyStats::default()
            });
        }

        trace(&format!("phase A done at {:?}", t0.elapsed()));
        // Phase B: rows, page by page.
        let conn = copy::open_copy_connection(path, &self.src.path, session.reader.frozen())?;
        conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        let plans = copy::plan(&conn, schema)?;
        let copier = Copier::new(&conn, &session.reader, self.page_rows);
        let (total, already) = count_rows(&conn, &copier, &plans)?;
        state.rows_total = total;
        state.rows_done = already;
        let mut tracker = StateProgress { inner: progress, state, home: self.home, id: &self.entry.id, last: None };
        tracker.start(total, already);
        let mut copied = 0;
        for plan in &plans {
            tracker.table(&plan.name);
            copied += copier.copy_table(plan, &mut tracker)?;
        }
        trace(&format!("rows copied at {:?}", t0.elapsed()));
        carry_internal_tables(&copier, schema)?;
        let mut state = tracker.done();
        progress.finish();
        session.reader.release();
        if session.schema.settings.journal_mode != "wal" {
            // Rollback-journal source: exact only if no commit happened
            // between the schema read and the last row read.
            let now = copy::change_counter(&self.src.path);
            if now.is_none() || now != state.change_counter {
                state.exact = false;
            }
        }
        conn.execute_batch("DETACH DATABASE src")?;

        // Phase C: indexes, orphan pruning, views, triggers — one transaction,
        // no source reads.
        let mut r = Replayer::adopt(&conn, schema)?;
        conn.execute_batch("BEGIN")?;
        let phase_c = (|| -> anyhow::Result<u64> {
            r.create_indexes(&conn)?;
            let pruned = if state.exact { 0 } else { copy::prune_orphans(&conn)? };
            r.create_views(&conn)?;
            r.create_triggers(&conn)?;
            r.verify(&conn)?;
            Ok(pruned)
        })();
        let pruned = match phase_c {
            Ok(p) => p,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        conn.execute_batch("COMMIT").context("could not commit the indexes, views and triggers")?;
        trace(&format!("indexes, views, triggers committed at {:?}", t0.elapsed()));
        finish_journal_mode(&conn, &schema.settings)?;
        trace(&format!("journal mode set at {:?}", t0.elapsed()));
        conn.close().map_err(|(_, e)| e).context("could not close the fork")?;
        Ok(CopyStats {
            objects_created: count_objects(&session.schema),
            rows_copied: state.rows_done.max(copied),
            bytes_copied: layout::file_size(path).unwrap_or(0),
            exact: state.exact,
            orphans_pruned: pruned,
            ..CopyStats::default()
        })
    }
}

/// A fork that could not be written for lack of space (or a file size
/// limit) says so and what to do, after the error itself, on one line.
fn explain_write_failure(e: anyhow::Error) -> anyhow::Error {
    let mut certain = false;
    let mut likely = false;
    for cause in e.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            certain |= matches!(io.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EFBIG) | Some(libc::EDQUOT));
        }
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = cause.downcast_ref::<rusqlite::Error>() {
            certain |= f.code == rusqlite::ErrorCode::DiskFull;
            likely |= f.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE;
        }
    }
    let hint = if certain {
        "the disk is full or a file size limit was reached; the partial fork was removed: free some space and fork again"
    } else if likely {
        "the partial fork was removed: check that the disk has free space and that no file size limit applies, then fork again"
    } else {
        return e;
    };
    Error::failed(format!("{e:#} ({hint})")).into()
}

/// Timings on stderr when `SQLFORK_TRACE` is set (for the benchmark).
fn trace(msg: &str) {
    if std::env::var_os("SQLFORK_TRACE").is_some() {
        eprintln!("sqlfork trace: {msg}");
    }
}

/// Schema objects the source's SQL creates (not the shadow tables its
/// virtual tables make for themselves, not SQLite's internal tables). The
/// shadow tables are found by creating each virtual table alone in memory:
/// a real table named like one (`ft_content` as an FTS5 external content
/// table) is not one.
fn count_objects(schema: &SourceSchema) -> u64 {
    let mut shadows = std::collections::HashSet::new();
    if let Ok(mem) = Connection::open_in_memory() {
        let names = |c: &Connection| -> std::collections::HashSet<String> {
            c.prepare("SELECT lower(name) FROM sqlite_master")
                .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect())
                .unwrap_or_default()
        };
        for vt in schema.objects.iter().filter(|o| o.is_virtual()) {
            let before = names(&mem);
            let made = mem.execute_batch(&vt.sql).is_ok()
                || crate::standin::with_builtin_tokenizer(&vt.sql, &vt.name)
                    .is_some_and(|fresh| mem.execute_batch(&fresh).is_ok());
            if made {
                shadows.extend(names(&mem).difference(&before).filter(|n| **n != vt.name.to_lowercase()).cloned());
            }
        }
    }
    schema
        .objects
        .iter()
        .filter(|o| {
            let shadow = o.kind == schema::Kind::Table && shadows.contains(&o.name.to_lowercase());
            !o.is_internal() && !shadow
        })
        .count() as u64
}

/// Rows in the fork's tables (not virtual tables, whose rows live in their
/// shadow tables, which are counted).
fn count_fork_rows(path: &Path, schema: &SourceSchema) -> anyhow::Result<u64> {
    // Read-write although it only reads: a page-copied fork of a WAL source
    // is in WAL mode, and a read-only connection would leave the -wal and
    // -shm files it creates beside it.
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    // count(*) may walk an index whose collation only the source's
    // application has; counting needs no order, so a stand-in serves.
    crate::standin::allow_unknown_collations(&conn)?;
    let mut total = 0u64;
    for obj in schema.objects.iter().filter(|o| o.kind == schema::Kind::Table && !o.is_virtual() && !o.is_internal()) {
        let n: i64 =
            conn.query_row(&format!("SELECT count(*) FROM main.{}", schema::quote_ident(&obj.name)), [], |r| r.get(0))?;
        total += n as u64;
    }
    Ok(total)
}

/// Row totals for the progress bar: (rows in the source, rows already in
/// the fork). Each count is its own short read (at the snapshot, if any).
fn count_rows(conn: &Connection, copier: &Copier, plans: &[copy::TablePlan]) -> anyhow::Result<(u64, u64)> {
    let (mut total, mut done) = (0u64, 0u64);
    for plan in plans {
        copier.begin()?;
        let n: rusqlite::Result<i64> =
            conn.query_row(&format!("SELECT count(*) FROM src.{}", schema::quote_ident(&plan.name)), [], |r| r.get(0));
        copier.commit()?;
        total += n? as u64;
        done += copier.rows_in_fork(plan)?;
    }
    Ok((total, done))
}

/// `sqlite_sequence` (AUTOINCREMENT counters) and `sqlite_stat1`/`stat4`
/// carry the source's rows, read in one short transaction at the snapshot.
fn carry_internal_tables(copier: &Copier, schema: &SourceSchema) -> anyhow::Result<()> {
    copier.begin()?;
    let conn = copier.connection();
    let run = || -> anyhow::Result<()> {
        if schema.has_table("sqlite_sequence") {
            conn.execute_batch(
                "DELETE FROM main.sqlite_sequence; INSERT INTO main.sqlite_sequence(name, seq) SELECT name, seq FROM src.sqlite_sequence;",
            )?;
        }
        let mut r = Replayer::new(schema);
        r.create_stat_tables(conn)?;
        for stat in ["sqlite_stat1", "sqlite_stat4"] {
            if schema.has_table(stat) {
                conn.execute_batch(&format!("INSERT INTO main.{stat} SELECT * FROM src.{stat};"))?;
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => copier.commit(),
        Err(e) => {
            copier.rollback();
            Err(e.context("could not copy sqlite_sequence and the statistics tables"))
        }
    }
}

/// Schema-only: everything in one transaction. Returns the copy figures.
/// Schema-only: the schema was replayed into memory, in one transaction,
/// when it was checked; that database is copied into the new file whole
/// (SQLite's backup API), then WAL mode is set if the source has it.
fn build_schema_only(path: &Path, mut session: SourceSession) -> anyhow::Result<CopyStats> {
    if session.prepared.is_none() {
        check_schema(&mut session, Plan::SchemaOnly)?;
    }
    let mem = session.prepared.take().context("the schema was not prepared")?;
    layout::create_new_file(path)?;
    let mut conn = open_fork(path)?;
    {
        let backup = rusqlite::backup::Backup::new(&mem, &mut conn)?;
        backup
            .run_to_completion(1 << 20, Duration::ZERO, None)
            .context("could not write the schema to the new database")?;
    }
    Replayer::apply_journal_mode(&conn, &session.schema.settings)?;
    conn.close().map_err(|(_, e)| e).context("could not close the new database")?;
    Ok(CopyStats { objects_created: count_objects(&session.schema), exact: true, ..CopyStats::default() })
}

/// Phase A of a data fork: a fresh file with the source's settings and
/// tables (and empty shadow tables, ready for the source's rows), in one
/// transaction. The copy runs in WAL mode with synchronous=NORMAL: commits
/// need no fsync, and a power cut loses at most the last pages, never the
/// file.
fn create_tables(path: &Path, schema: &SourceSchema) -> anyhow::Result<()> {
    layout::create_new_file(path)?;
    let mut conn = open_fork(path)?;
    Replayer::apply_file_settings(&conn, &schema.settings)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    let tx = conn.transaction()?;
    let mut r = Replayer::new(schema);
    r.create_tables(&tx)?;
    // A fresh FTS5 or R*Tree table has starter rows; the source's replace them.
    for shadow in &r.shadow_tables {
        tx.execute_batch(&format!("DELETE FROM main.{};", schema::quote_ident(shadow)))?;
    }
    Replayer::apply_header_values(&tx, &schema.settings)?;
    tx.commit().context("could not commit the tables to the new database")?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(())
}

/// The final journal mode: the source's WAL, or the default rollback
/// journal (the copy itself ran in WAL).
fn finish_journal_mode(conn: &Connection, settings: &schema::Settings) -> anyhow::Result<()> {
    let want = if settings.journal_mode == "wal" { "WAL" } else { "DELETE" };
    let got: String = conn.query_row(&format!("PRAGMA main.journal_mode = {want}"), [], |r| r.get(0))?;
    if !got.eq_ignore_ascii_case(want) {
        anyhow::bail!("could not set the fork's journal mode to {want} (it stayed {got})");
    }
    Ok(())
}

/// True when phase A committed: the fork file has its tables.
fn tables_in_place(path: &Path) -> anyhow::Result<bool> {
    if layout::file_size(path).unwrap_or(0) == 0 {
        return Ok(false);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let n: i64 = conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |r| r.get(0)).unwrap_or(0);
    Ok(n > 0)
}

/// True when phase C committed: every source index, view and trigger is in
/// the fork.
fn objects_in_place(path: &Path, schema: &SourceSchema) -> anyhow::Result<bool> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    let late: Vec<&str> =
        schema.objects.iter().filter(|o| o.kind != schema::Kind::Table).map(|o| o.name.as_str()).collect();
    if late.is_empty() {
        // Nothing distinguishes phase C; run it again (it is cheap then).
        return Ok(false);
    }
    let mut stmt = conn.prepare("SELECT count(*) FROM main.sqlite_master WHERE type <> 'table' AND name = ?1")?;
    for name in late {
        let n: i64 = stmt.query_row([name], |r| r.get(0))?;
        if n == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Flip an entry to healthy with its copy figures.
fn finish(home: &Home, id: &str, stats: CopyStats) -> anyhow::Result<Entry> {
    // The file's data is synced by whoever wrote it (SQLite's commit, the
    // page copy's last sync); its name in `databases/` must be durable too
    // before the entry says healthy.
    layout::sync_dir(&home.databases_dir()).context("could not sync the databases folder")?;
    Registry::update(home, |reg| {
        let e = reg
            .by_id_mut(id)
            .ok_or_else(|| Error::failed("the fork's registry entry disappeared while it was being built"))?;
        e.status = Status::Healthy;
        e.copy = Some(stats);
        Ok(e.clone())
    })
}

/// Remove a failed fork: its files and its entry. With `note`, leave a note
/// for `db wait` saying why (a background copy, whose errors nobody else
/// sees); a failure in the foreground prints its error and leaves nothing.
///
/// The note is written before the entry goes (`db wait` reads it as soon as
/// it sees the entry gone), and the claim file goes last (while the entry is
/// there, nobody else may take the fork up).
fn discard(home: &Home, entry: &Entry, why: &anyhow::Error, note: bool) {
    if note {
        let _ = layout::create_private_file(&layout::failure_note(home, &entry.id))
            .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{why:#}").as_bytes()));
    }
    if entry.owned {
        layout::remove_database_files(&entry.path);
    }
    layout::remove_copy_state(home, &entry.id);
    let _ = Registry::update(home, |reg| {
        reg.remove_id(&entry.id);
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// Copy state: what a resumed copy needs, and progress for `db show`

/// Kept beside a fork while its rows are copied (`<id>.copy.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CopyState {
    /// The WAL snapshot the copy reads from, hex.
    pub snapshot: Option<String>,
    /// The source's file change counter when the copy began.
    pub change_counter: Option<u32>,
    /// A WAL source read while its WAL was empty (no snapshot to save): the
    /// main file's size and modification time, which only a checkpoint
    /// changes.
    #[serde(default)]
    pub file_stamp: Option<String>,
    /// Still an exact point-in-time copy so far.
    pub exact: bool,
    pub rows_total: u64,
    pub rows_done: u64,
    pub table: Option<String>,
    /// How the data is copied: page by page or row by row.
    #[serde(default)]
    pub method: CopyMethod,
    /// Page copy: pages written and synced, of how many, of what size.
    #[serde(default)]
    pub pages_done: u64,
    #[serde(default)]
    pub page_count: u64,
    #[serde(default)]
    pub page_size: u64,
    /// Page copy: pages written so far (for progress; not all synced yet).
    #[serde(default)]
    pub pages_written: u64,
}

impl CopyState {
    pub fn load(home: &Home, id: &str) -> Option<CopyState> {
        let text = std::fs::read_to_string(layout::copy_state_file(home, id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn save(&self, home: &Home, id: &str) -> anyhow::Result<()> {
        let (path, tmp) = (layout::copy_state_file(home, id), layout::copy_state_temp(home, id));
        let text = serde_json::to_string(self)?;
        let mut f = layout::create_private_file(&tmp)?;
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    /// Percentage copied, when known.
    pub fn percent(&self) -> Option<f64> {
        match self.method {
            CopyMethod::Pages => (self.page_count > 0)
                .then(|| (self.pages_written.max(self.pages_done) as f64 * 100.0 / self.page_count as f64).min(100.0)),
            CopyMethod::Rows => {
                (self.rows_total > 0).then(|| (self.rows_done as f64 * 100.0 / self.rows_total as f64).min(100.0))
            }
        }
    }
}

/// Forwards progress and keeps `<id>.copy.json` current (at most twice a
/// second) so `db show` in another process can tell how far the copy is.
struct StateProgress<'a> {
    inner: &'a mut dyn Progress,
    state: CopyState,
    home: &'a Home,
    id: &'a str,
    last: Option<Instant>,
}

impl StateProgress<'_> {
    fn save_soon(&mut self) {
        if self.last.is_none_or(|t| t.elapsed() >= Duration::from_millis(500)) {
            let _ = self.state.save(self.home, self.id);
            self.last = Some(Instant::now());
        }
    }
    fn done(self) -> CopyState {
        let _ = self.state.save(self.home, self.id);
        self.state
    }
}

impl Progress for StateProgress<'_> {
    fn start(&mut self, total: u64, done: u64) {
        if self.state.method == CopyMethod::Rows {
            self.state.rows_total = total;
            self.state.rows_done = done;
        }
        self.inner.start(total, done);
        self.save_soon();
    }
    fn table(&mut self, name: &str) {
        self.state.table = Some(name.to_string());
        self.inner.table(name);
    }
    fn advance(&mut self, n: u64) {
        match self.state.method {
            CopyMethod::Rows => self.state.rows_done += n,
            CopyMethod::Pages => self.state.pages_written += n,
        }
        self.inner.advance(n);
        self.save_soon();
    }
    fn finish(&mut self) {}
    fn unit(&mut self, unit: &'static str) {
        self.inner.unit(unit);
    }
    fn durable(&mut self, done: u64) -> anyhow::Result<()> {
        self.state.pages_done = done;
        self.state.pages_written = self.state.pages_written.max(done);
        self.state.save(self.home, self.id)?;
        self.last = Some(Instant::now());
        Ok(())
    }
}

/// Size and modification time of a file, as one comparable string.
fn file_stamp(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(format!("{}:{}.{:09}", m.len(), m.mtime(), m.mtime_nsec()))
}

fn hex(bytes: SnapshotBytes) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<SnapshotBytes> {
    let mut out = [0u8; 48];
    if text.len() != 96 {
        return None;
    }
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}
