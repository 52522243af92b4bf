//! The fork pipeline. [`fork`] runs these steps, in this order:
//!
//! 1. **Resolve** the source (a registered database or a SQLite file) and
//!    the destination address (`source.rs`). Nothing is written before
//!    step 3. An entry already at the destination that is this same fork,
//!    interrupted, is finished instead (`resume.rs`).
//! 2. **Read** the source's schema and settings in one read transaction
//!    and check every object (`source.rs`). For a data fork of a WAL
//!    source that transaction stays open: the copy reads that one moment
//!    while writers go on.
//! 3. **Register**: claim a fresh id (`claim`), add the registry entry with
//!    status `provisioning`, and save the copy state (`state.rs`).
//! 4. **Build** the file, by the copy method the configuration names, each
//!    falling back to the next where it cannot apply (and saying why; the
//!    order and the steps between two methods are `chain.rs`'s alone):
//!    - schema only: the schema replayed into memory in step 2 is written
//!      to the new file whole (`schema_only.rs`);
//!    - `clone` (the default for data): the source's file cloned at one
//!      moment on a copy-on-write file system (`clone.rs`); else
//!    - `file`: the source's file copied by the kernel in resumable chunks
//!      at one moment (`file.rs`); else
//!    - `pages`: the source's pages, read through SQLite at the snapshot,
//!      written as they are (`pages.rs`);
//!    - `rows`: the tables replayed, rows copied in keyset-paged
//!      transactions, then indexes, views and triggers (`rows.rs`);
//!    - with `--detach`, a background `db resume` copies the data
//!      (`detach.rs`).
//! 5. **Finish**: flip the entry to `healthy` with the copy figures; on any
//!    error, discard the fork (its files, its copy state, its entry) —
//!    `build_or_discard` is the one ending every fork and resume goes
//!    through.
//!
//! A fork interrupted in step 4 stays `provisioning`; `db resume`,
//! `db wait` or the same `db fork` continues it from its last checkpoint.
//!
//! **Adding a copy method**: a new file with a type implementing
//! `DataCopy`, a variant of `home::CopyMethod`, an arm in `method`, and its
//! place in `chain::ORDER`.

pub(crate) mod base;
mod build;
mod chain;
mod clone;
mod detach;
mod file;
mod pages;
mod resume;
mod rows;
mod schema_only;
mod source;
mod state;
mod wait;

pub(crate) use chain::{Copied, FallBack};
pub(crate) use detach::READY;
pub(crate) use resume::{interrupted, resume, resume_in_background};
pub(crate) use source::{mask_check, resolve_source, ResolvedSource, SourceSession};
pub(crate) use state::CopyState;
pub(crate) use wait::wait;

use crate::address::{Address, Source};
use crate::claim::Claim;
use crate::copy::{self, Progress};
use crate::error::Error;
use crate::home::{Config, CopyMethod, Home};
use crate::layout;
use crate::registry::{self, Entry, Status, Store};
use crate::schema;
use crate::ttl;
use anyhow::Context;
use build::{discard, Build, Job};
use resume::{is_same_fork, resume_entry, How, Observed};
use source::{check_schema, Plan};
use state::file_stamp;
use std::time::Duration;

/// What to fork, and how.
#[derive(Debug, Clone)]
pub(crate) struct ForkOptions {
    pub source: Source,
    /// `SLUG` (lands in the source's namespace) or `NS/SLUG`.
    pub destination: String,
    pub name: Option<String>,
    pub ttl: Option<Duration>,
    pub with_data: bool,
    /// Return once the schema is in place; a background process copies the
    /// data.
    pub detach: bool,
    /// Make the new database the branch `NS/SLUG@branch` of the destination
    /// address (used by `branch put`; the caller validates the ref).
    pub branch: Option<String>,
    /// Masking rules and subset filters: a data fork
    /// built from the rows, with only masked values ever written.
    pub safe: crate::mask::SafeOptions,
    /// Keep the fork's base (its state now, for `db merge`) even where the
    /// file system cannot clone it for free: a full copy.
    pub mergeable: bool,
}

/// What a fork produced.
#[derive(Debug, Clone)]
pub(crate) struct ForkOutcome {
    pub entry: Entry,
    /// True when this run finished an interrupted fork.
    pub resumed: bool,
}

/// Fork a database. See the module docs for the steps.
pub(crate) fn fork(
    home: &Home,
    config: &Config,
    opts: &ForkOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<ForkOutcome> {
    // 1. Resolve the source and the destination.
    let src = resolve_source(home, config, &opts.source)?;
    let dest =
        Address { branch: opts.branch.clone(), ..Address::parse_destination(&opts.destination, &src.namespace)? };
    if src.address.as_ref() == Some(&dest) {
        return Err(Error::OntoItself { address: dest.clone(), action: "fork" }.into());
    }
    if let Some(e) = Store::open(home)?.get(&dest)? {
        // An interrupted plain fork is never finished as a masked one.
        if !is_same_fork(&e, &src.parent, opts.with_data) || (opts.safe.is_active() && e.safe.is_none()) {
            // Another fork at this address, interrupted: say so and how to
            // go on, rather than only "already exists".
            if opts.branch.is_none()
                && e.status == Status::Provisioning
                && e.owned
                && !crate::claim::is_claimed(home, &e.id)
            {
                return Err(interrupted_here(home, &e).into());
            }
            return Err(Error::Taken { address: dest }.into());
        }
        // The same fork, interrupted: finish it. If another process is
        // building it, or finished it meanwhile, the destination is taken;
        // if it was deleted meanwhile, make it afresh.
        let how = How { detach: opts.detach, ..How::default() };
        match resume_entry(home, config, e, progress, how) {
            Ok(out) if !out.resumed => return Err(Error::Taken { address: dest }.into()),
            Err(err) if Error::any_in(&err, |e| matches!(e, Error::Busy { address } if *address == dest)) => {
                return Err(Error::BeingBuilt { address: dest }.into())
            }
            Err(err) if Error::any_in(&err, |e| matches!(e, Error::NotFound { address } if *address == dest)) => {}
            // Finished: keep what this run asked for (its TTL and name).
            Ok(out) => return rerun_options(home, out, opts),
            other => return other,
        }
    }

    // 2. Read the source in one read transaction, and check every object.
    let _side_files = schema::SourceSideFiles::note(&src.path);
    let counter = copy::change_counter(&src.path);
    // A masked or subset fork is built from the rows, whatever the method:
    // like the row copy, it reads the source through the pinned snapshot.
    let safe = opts.with_data && opts.safe.is_active();
    let (mut session, _) = SourceSession::open(&src.path, opts.with_data && (safe || pins(config.copy_method)), None)?;
    let plan = if safe { Plan::Masked } else { Plan::of(opts.with_data, config.copy_method) };
    check_schema(&mut session, plan)?;
    let resolved = crate::mask::prepare(
        &src.path,
        session.reader.pin_connection(),
        &session.schema,
        &opts.safe,
        (opts.with_data, opts.detach),
    )?;
    // A copy that cannot fit is refused before anything is written.
    if opts.with_data && resolved.is_none() {
        if let Some(needed) = method(config.copy_method).space_needed(&src.path, &home.databases_dir()) {
            crate::space::check(&home.databases_dir(), needed, &format!("a copy of {}", src.label()))?;
        }
    }

    // 3. Claim a fresh id (so that no other process resumes the fork while
    //    this one builds it), then add the entry, status provisioning.
    home.ensure()?;
    let id = registry::new_id();
    let claim = Claim::take(home, &id)?.context("a fresh fork id is already claimed")?;
    let mut entry = new_entry(home, config, opts, &src, &dest, &id);
    entry.safe = resolved.as_ref().map(|_| opts.safe.record());
    Store::edit(home, |reg| {
        crate::sweep::tidy(home, reg)?;
        reg.insert(&entry)
    })?;
    crate::env::test_pause("fork-registered");
    let state = state_at_start(&session, &src.path, counter, config.copy_method);

    // 4–5. Build, flip to healthy; or discard.
    build_or_discard(home, &entry, claim, false, false, |claim| {
        // The copy state is written only once the entry exists, so a kill
        // never leaves a state file that no entry owns (a resume without
        // one starts the copy over). A clone has nothing to resume (it
        // starts over), so it spares the sync; one that falls back to the
        // file copy saves the state at that copy's first checkpoint.
        if opts.with_data && state.method != CopyMethod::Clone {
            state.save(home, &id)?;
        }
        let job = Job {
            home,
            entry: &entry,
            src: &src,
            page_rows: config.rows_per_page,
            safe: resolved.as_ref(),
            mergeable: opts.mergeable,
        };
        let build = if opts.detach && opts.with_data { Build::Detach(claim) } else { Build::Here(&mut *progress) };
        job.run(session, state, build)
    })
}

/// Write the schema and settings of the SQLite file `src` (checked like
/// any source) to a new schema-only file `dst`: a remote's schema record.
pub(crate) fn schema_file(src: &std::path::Path, dst: &std::path::Path) -> anyhow::Result<()> {
    schema::check_source_file(src)?;
    let (session, _) = SourceSession::open(src, false, None)?;
    schema_only::build(dst, session).map(|_| ())
}

/// The registry entry of a new fork, status provisioning.
fn new_entry(
    home: &Home,
    config: &Config,
    opts: &ForkOptions,
    src: &ResolvedSource,
    dest: &Address,
    id: &str,
) -> Entry {
    let now = ttl::now();
    Entry {
        id: id.to_string(),
        namespace: dest.namespace.clone(),
        slug: dest.slug.clone(),
        branch: dest.branch.clone(),
        name: opts.name.clone().unwrap_or_else(|| dest.slug.clone()),
        path: layout::database_file(home, id),
        owned: true,
        status: Status::Provisioning,
        created_at: ttl::format_time(now),
        forked_from: Some(src.parent.clone()),
        forked_at: Some(ttl::format_time(now)),
        expires_at: opts.ttl.or(config.default_ttl).map(|d| ttl::format_time(now + d)),
        include_data: opts.with_data,
        copy: None,
        safe: None,
        base: None,
    }
}

/// The copy state of a copy that begins now, from `session`. `counter` is
/// the source's change counter read before the session opened.
pub(super) fn state_at_start(
    session: &SourceSession,
    src: &std::path::Path,
    counter: Option<u32>,
    method: CopyMethod,
) -> CopyState {
    let mut state = CopyState {
        file_stamp: file_stamp(src),
        change_counter: counter,
        // A pinned WAL source is read at one moment; a rollback-journal
        // source is exact unless a commit lands during the copy.
        exact: session.reader.pinned() || !session.schema.settings.journal_mode.is_wal(),
        method,
        ..CopyState::default()
    };
    state.set_snapshot(session.reader.snapshot);
    state
}

/// The one ending of every fork and resume: run `build` (which gets the
/// claim, for `--detach` to hand over); on success the fork is done, on
/// error it is discarded — its files, copy state and entry removed, with a
/// note for `db wait` when `note_failure`. The claim is held until then, so
/// that no `db wait` or `db resume` takes up a fork while it is removed.
pub(crate) fn build_or_discard(
    home: &Home,
    entry: &Entry,
    claim: Claim,
    note_failure: bool,
    resumed: bool,
    build: impl FnOnce(&mut Option<Claim>) -> anyhow::Result<Entry>,
) -> anyhow::Result<ForkOutcome> {
    let mut claim = Some(claim);
    let out = match build(&mut claim) {
        Ok(entry) => Ok(ForkOutcome { entry, resumed }),
        // Interrupted (Ctrl-C): the fork stays provisioning, to be resumed.
        Err(e) if Error::any_in(&e, |e| matches!(e, Error::CopyStopped)) => Err(interrupted_error(home, entry)),
        Err(e) => {
            discard(home, entry, &e, note_failure);
            Err(e)
        }
    };
    drop(claim);
    out
}

/// The command that continues an interrupted fork.
pub(crate) fn resume_command(entry: &Entry) -> String {
    let db = format!("{}/{}", entry.namespace, entry.slug);
    let branch = entry.branch.as_deref().unwrap_or_default();
    if let Some((r, name)) = branch.split_once(crate::address::SNAPSHOT_INFIX) {
        // The hidden copy of a snapshot: taking it again finishes the job.
        let at = if r.is_empty() { String::new() } else { format!("@{r}") };
        return format!("sqlfork snapshot create {db}{at}:{name}");
    }
    match branch.strip_suffix(crate::address::RESET_SUFFIX) {
        // The hidden copy of a reset: the next reset (or put) continues it.
        Some("") => format!("sqlfork db reset {db}"),
        Some(r) => format!("sqlfork branch put {db}@{r}"),
        None => format!("sqlfork db resume {}", entry.address()),
    }
}

/// "Interrupted at 45.2/100.0 MiB (45%); `sqlfork db resume X` continues it".
fn interrupted_error(home: &Home, entry: &Entry) -> anyhow::Error {
    let how_far = CopyState::load(home, &entry.id).and_then(|s| s.how_far());
    Error::Interrupted { address: entry.address(), how_far, resume: resume_command(entry) }.into()
}

/// A fork re-run with other arguments finds this interrupted fork at its
/// destination.
fn interrupted_here(home: &Home, e: &Entry) -> Error {
    Error::InterruptedFork {
        address: e.address(),
        with_data: e.include_data,
        how_far: CopyState::load(home, &e.id).and_then(|s| s.how_far()),
        resume: resume_command(e),
    }
}

/// A re-run of `db fork` that finished an interrupted fork applies what it
/// was asked this time: `--ttl` (counted from now) and `--name`.
fn rerun_options(home: &Home, out: ForkOutcome, opts: &ForkOptions) -> anyhow::Result<ForkOutcome> {
    if opts.ttl.is_none() && opts.name.is_none() {
        return Ok(out);
    }
    let now = ttl::now();
    let entry = Store::edit(home, |reg| {
        let Some(mut e) = reg.by_id(&out.entry.id)? else { return Ok(out.entry.clone()) };
        if let Some(d) = opts.ttl {
            e.expires_at = Some(ttl::format_time(now + d));
        }
        if let Some(n) = &opts.name {
            e.name = n.clone();
        }
        reg.put(&e)?;
        Ok(e)
    })?;
    Ok(ForkOutcome { entry, ..out })
}

/// A way of copying a source's data into a fork: one per
/// [`CopyMethod`], each in its own file. Which method follows which is not
/// theirs to know: `chain.rs` decides.
pub(crate) trait DataCopy {
    /// How the source's schema is checked before anything is written.
    fn plan(&self) -> Plan;

    /// True when the copy reads the source through the session's read
    /// transaction, kept open (a WAL snapshot); `clone` and `file` pin
    /// their own moment without the snapshot API.
    fn pins(&self) -> bool {
        false
    }

    /// The bytes a copy of `src` needs in `dest_dir`, when known before it
    /// starts (a copy that cannot fit is refused then): by default the
    /// source's file and WAL.
    fn space_needed(&self, src: &std::path::Path, _dest_dir: &std::path::Path) -> Option<u64> {
        Some(crate::space::source_bytes(src))
    }

    /// (done, total) of what the copy counts, for "45%" (`db show`): by
    /// default pages.
    fn how_far(&self, state: &CopyState) -> Option<(u64, u64)> {
        Some((state.pages_written.max(state.pages_done), state.page_count))
    }

    /// A resume found the source still at the moment the copy began
    /// (`same`) or not (see `resume::same_moment`): keep or drop what was
    /// copied, and say whether the fork can still be exact.
    fn resume(&self, state: &mut CopyState, same: bool, now: &Observed);

    /// What must be in the fork file before `--detach` hands the copy to a
    /// background process.
    fn before_detach(&self, _job: &Job, _session: &SourceSession) -> anyhow::Result<()> {
        Ok(())
    }

    /// Copy the source into `job.entry.path` (continuing from `state`),
    /// leaving a complete database; or say why this method cannot, and the
    /// chain (`chain::run`) goes on with the next. Progress goes to
    /// `progress`.
    fn copy(
        &self,
        job: &Job,
        session: SourceSession,
        state: CopyState,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Copied>;
}

/// The copier for a method.
pub(crate) fn method(m: CopyMethod) -> &'static dyn DataCopy {
    match m {
        CopyMethod::Clone => &clone::Clone,
        CopyMethod::File => &file::File,
        CopyMethod::Pages => &pages::Pages,
        CopyMethod::Rows => &rows::Rows,
    }
}

/// True when a data copy by `method` reads the source through the
/// session's read transaction, kept open ([`DataCopy::pins`]).
pub(crate) fn pins(method: CopyMethod) -> bool {
    self::method(method).pins()
}
