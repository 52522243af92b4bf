//! The Rust SDK: a small, typed API over the same core the `sqlfork`
//! binary uses. Addresses go in as text (`"acme/orders"`,
//! `"acme/orders@pr-142"`), typed options and results come out, and every
//! failure is an [`Error`] whose variant says what went wrong and whose
//! `Display` is the same sentence the CLI prints.
//!
//! Nothing here re-executes the calling program: a background copy
//! ([`Sqlfork::fork_in_background`]) is a thread of this process that the
//! returned [`BackgroundFork`] can wait for or cancel.

use crate::address::Address;
use crate::branch::{self, PutAction};
use crate::copy::Progress;
use crate::error::Error;
use crate::fork;
use crate::home::{Config, Home};
use crate::ops;
use crate::registry::{Entry, Registry};
use crate::settings;
use crate::storage::{Local, SnapshotStore};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

mod background;
mod remote;
pub use remote::{Pulled, Pushed};
mod types;

pub use crate::registry::Status;
use background::Background;
pub use background::BackgroundFork;
use types::{snapshot_info, to_database};
pub use types::{BranchAction, BranchOptions, CopyFigures, Database, ForkOptions, Lineage, ResetOptions, SnapshotInfo};

/// A sqlfork home: the registry, `config.toml` and the database files.
///
/// ```
/// # fn main() -> Result<(), sqlfork::Error> {
/// # let dir = tempfile::tempdir().unwrap();
/// let sqlfork = sqlfork::Sqlfork::open(dir.path().join("home"))?;
/// assert!(sqlfork.list(None)?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Sqlfork {
    home: Home,
    config: Config,
}

/// A typed failure: the first [`Error`] in the chain (a bad address is
/// [`Error::BadAddress`]), else the whole chain as [`Error::Failed`].
pub(crate) fn typed(err: anyhow::Error) -> Error {
    err.chain()
        .find_map(|e| {
            e.downcast_ref::<Error>()
                .cloned()
                .or_else(|| e.downcast_ref::<crate::address::AddressError>().map(|a| Error::from(a.clone())))
        })
        .unwrap_or_else(|| Error::Failed(format!("{err:#}")))
}

fn parse(address: &str) -> Result<Address, Error> {
    Address::parse(address).map_err(Error::from)
}

impl Sqlfork {
    /// The core's fork options, resolved as every surface resolves them.
    fn fork_request(&self, source: &str, destination: &str, opts: &ForkOptions) -> Result<fork::ForkOptions, Error> {
        let request = settings::ForkRequest {
            source: source.to_string(),
            at: opts.at.clone(),
            destination: destination.to_string(),
            name: opts.name.clone(),
            ttl: settings::Ttl::duration(opts.ttl),
            with_data: opts.with_data,
            // The library never starts a process; see `fork_in_background`.
            detach: false,
            safe: settings::Safe { given: opts.safe.clone(), ..Default::default() },
            mergeable: opts.mergeable,
        };
        Ok(request.resolve(&self.home, &self.config).map_err(typed)?.options)
    }

    /// The home at `dir` (created on the first write, mode 0700), with its
    /// `config.toml` if there is one.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Sqlfork, Error> {
        let home = Home::resolve(Some(dir.into())).map_err(typed)?;
        let config = Config::load(&home).map_err(typed)?;
        Ok(Sqlfork { home, config })
    }

    /// The home the CLI uses by default: `$SQLFORK_HOME`, else the platform
    /// data directory.
    pub fn open_default() -> Result<Sqlfork, Error> {
        let home = Home::resolve(None).map_err(typed)?;
        let config = Config::load(&home).map_err(typed)?;
        Ok(Sqlfork { home, config })
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        self.home.root()
    }

    /// The home and its configuration, for the methods other modules add
    /// (`remote::sdk`, `pool`).
    pub(crate) fn parts(&self) -> (&Home, &Config) {
        (&self.home, &self.config)
    }

    /// The database this entry is, with its lineage resolved.
    fn database(&self, entry: &Entry) -> Result<Database, Error> {
        let reg = Registry::parents_of(&self.home, std::slice::from_ref(entry)).map_err(typed)?;
        Ok(to_database(entry, &reg))
    }

    /// Fork `source` (an address, or a path to a SQLite file) into
    /// `destination` (`SLUG` in the source's namespace, or `NS/SLUG`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let source = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&source)?.execute_batch(
    /// #     "CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders(item) VALUES ('apple');")?;
    /// use sqlfork::{ForkOptions, Lineage, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// let fork = sqlfork.fork(source.to_str().unwrap(), "acme/pr-142", &ForkOptions::default())?;
    /// assert_eq!(fork.address, "acme/pr-142");
    /// assert!(matches!(fork.forked_from, Some(Lineage::File(_))));
    /// // A fork of a registered database, with its rows, expiring in a week.
    /// let opts = ForkOptions { with_data: true, ttl: Some(std::time::Duration::from_secs(7 * 86400)), ..Default::default() };
    /// let copy = sqlfork.fork("acme/pr-142", "pr-143", &opts)?;
    /// assert_eq!(copy.address, "acme/pr-143");
    /// assert!(copy.expires_at.is_some());
    /// # Ok(()) }
    /// ```
    pub fn fork(&self, source: &str, destination: &str, opts: &ForkOptions) -> Result<Database, Error> {
        self.fork_with_progress(source, destination, opts, &mut crate::copy::NoProgress)
    }

    /// [`Sqlfork::fork`], reporting the data copy to `progress`.
    pub fn fork_with_progress(
        &self,
        source: &str,
        destination: &str,
        opts: &ForkOptions,
        progress: &mut dyn Progress,
    ) -> Result<Database, Error> {
        let core = self.fork_request(source, destination, opts)?;
        // A remote snapshot (`REMOTE:NS/SLUG:NAME`) is pulled first (with
        // the remotes config.toml has now: one may have been added since).
        let config = match core.source {
            crate::address::Source::Remote(_) => Config::load(&self.home).map_err(typed)?,
            _ => self.config.clone(),
        };
        let data = core.with_data || core.safe.is_active();
        crate::storage::bring_source_here(&self.home, &config, &core.source, data, progress).map_err(typed)?;
        let out = fork::fork(&self.home, &config, &core, progress).map_err(typed)?;
        self.database(&out.entry)
    }

    /// Start a data fork and return once the schema is in place (status
    /// [`Status::Provisioning`]), while a thread of this process copies the
    /// rows. [`BackgroundFork::join`] waits for it; dropping the handle lets
    /// the copy go on, and if this process ends first the fork is left
    /// provisioning and [`Sqlfork::resume`] or [`Sqlfork::wait`] finishes it.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let source = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&source)?.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);")?;
    /// use sqlfork::{ForkOptions, Sqlfork, Status};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// let opts = ForkOptions { with_data: true, ..Default::default() };
    /// let copy = sqlfork.fork_in_background(source.to_str().unwrap(), "acme/big", &opts, sqlfork::NoProgress)?;
    /// println!("{} is {:?} at {}", copy.database().address, copy.database().status, copy.database().path.display());
    /// let done = copy.join()?;
    /// assert_eq!(done.status, Status::Healthy);
    /// # Ok(()) }
    /// ```
    pub fn fork_in_background(
        &self,
        source: &str,
        destination: &str,
        opts: &ForkOptions,
        progress: impl Progress + Send + 'static,
    ) -> Result<BackgroundFork, Error> {
        let core = self.fork_request(source, destination, opts)?;
        // The address the fork will have, to find its entry once it exists.
        let src = fork::resolve_source(&self.home, &self.config, &core.source).map_err(typed)?;
        let dest = Address::parse_destination(destination, &src.namespace).map_err(Error::from)?;
        let cancel = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let this = self.clone();
        let flag = cancel.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sqlfork {dest}"))
            .spawn(move || {
                let mut progress = Background { inner: progress, started: Some(started_tx), cancel: flag };
                let out = fork::fork(&this.home, &this.config, &core, &mut progress).map_err(typed)?;
                this.database(&out.entry)
            })
            .map_err(|e| Error::failed(format!("could not start the copy into {dest}: {e}")))?;
        let database = match started_rx.recv() {
            // The copy has begun: the entry is there, provisioning.
            Ok(()) => {
                let reg = Registry::load(&self.home).map_err(typed)?;
                let entry = reg.get(&dest).cloned().ok_or_else(|| Error::Gone { address: dest.clone() })?;
                to_database(&entry, &reg)
            }
            // It ended before any copy began: done, or failed.
            Err(_) => match thread.join() {
                Ok(result) => {
                    let db = result?;
                    return Ok(BackgroundFork { database: db.clone(), cancel, thread: None, done: Some(db) });
                }
                Err(_) => return Err(Error::failed(format!("the copy into {dest} stopped unexpectedly"))),
            },
        };
        Ok(BackgroundFork { database, cancel, thread: Some(thread), done: None })
    }

    /// Finish an interrupted fork (one whose copy was stopped, cancelled or
    /// killed). A healthy database is returned as it is.
    pub fn resume(&self, address: &str, progress: &mut dyn Progress) -> Result<Database, Error> {
        let out = fork::resume(&self.home, &self.config, &parse(address)?, progress).map_err(typed)?;
        self.database(&out.entry)
    }

    /// Wait until `address` is healthy, finishing its copy in this thread
    /// when no process is copying it; `None` waits as long as it takes.
    pub fn wait(&self, address: &str, timeout: Option<Duration>) -> Result<Database, Error> {
        let entry = crate::fork::wait(
            &self.home,
            &self.config,
            &parse(address)?,
            timeout,
            &mut crate::copy::NoProgress,
            &mut || {},
        )
        .map_err(typed)?;
        self.database(&entry)
    }

    /// Every database, or those in one namespace, sorted by address.
    pub fn list(&self, namespace: Option<&str>) -> Result<Vec<Database>, Error> {
        let entries = ops::list(&self.home, namespace).map_err(typed)?;
        let reg = Registry::parents_of(&self.home, &entries).map_err(typed)?;
        Ok(entries.iter().map(|e| to_database(e, &reg)).collect())
    }

    /// One database, with its lineage resolved.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// use sqlfork::{Error, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// match sqlfork.show("acme/nope") {
    ///     Err(Error::NotFound { .. }) => {}
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn show(&self, address: &str) -> Result<Database, Error> {
        let entry = ops::get(&self.home, &parse(address)?).map_err(typed)?;
        self.database(&entry)
    }

    /// The SQLite file of `address`.
    pub fn path(&self, address: &str) -> Result<PathBuf, Error> {
        ops::path(&self.home, &parse(address)?).map_err(typed)
    }

    /// Create a new, empty database owned by sqlfork.
    pub fn create(&self, address: &str, name: Option<String>, ttl: Option<Duration>) -> Result<Database, Error> {
        let addr = Address::parse_database(address).map_err(Error::from)?;
        let ttl = settings::ttl(settings::Ttl::duration(ttl))?;
        let entry = ops::create(&self.home, &self.config, &addr, name, ttl).map_err(typed)?;
        self.database(&entry)
    }

    /// Register an existing SQLite file in place (sqlfork never writes or
    /// deletes it).
    pub fn import(&self, address: &str, file: &Path, name: Option<String>) -> Result<Database, Error> {
        let addr = Address::parse_database(address).map_err(Error::from)?;
        let imported = ops::import(&self.home, &addr, file, name).map_err(typed)?;
        self.database(&imported.entry)
    }

    /// Delete a database (or branch): its entry, and its file when sqlfork
    /// created it. Returns what was deleted.
    pub fn delete(&self, address: &str) -> Result<Database, Error> {
        let addr = parse(address)?;
        let entry =
            if addr.branch.is_some() { branch::delete(&self.home, &addr) } else { ops::delete(&self.home, &addr) }
                .map_err(typed)?;
        let reg = Registry::parents_of(&self.home, std::slice::from_ref(&entry)).map_err(typed)?;
        Ok(to_database(&entry, &reg))
    }

    /// Stop the process building `address` (a provisioning fork) and remove
    /// the half-made fork, as `sqlfork db cancel` does. Returns what was
    /// removed and the pid that was stopped, if a process was building it.
    /// A healthy database is refused ([`Error::Invalid`]): use
    /// [`Sqlfork::delete`].
    pub fn cancel(&self, address: &str) -> Result<(Database, Option<u32>), Error> {
        let out = crate::cancel::cancel(&self.home, &parse(address)?).map_err(typed)?;
        let reg = Registry::load(&self.home).map_err(typed)?;
        Ok((to_database(&out.entry, &reg), out.stopped))
    }

    /// Set (counted from now) or clear (`None`) when `address` expires.
    pub fn set_ttl(&self, address: &str, ttl: Option<Duration>) -> Result<Database, Error> {
        if let Some(ttl) = ttl {
            crate::ttl::check_ttl(ttl)?;
        }
        let entry = crate::gc::set_ttl(&self.home, &parse(address)?, ttl).map_err(typed)?;
        self.database(&entry)
    }

    /// Delete every database sqlfork created whose expiry has passed (as
    /// `sqlfork db gc`), or with `dry_run` only say which. Returns them.
    pub fn gc(&self, dry_run: bool) -> Result<Vec<Database>, Error> {
        let report = crate::gc::gc(&self.home, dry_run).map_err(typed)?;
        let reg = Registry::load(&self.home).map_err(typed)?;
        Ok(report.deleted.iter().map(|c| to_database(&c.entry, &reg)).collect())
    }

    /// What changed between two databases (`sqlfork db diff`): `opts.a`
    /// is the database to inspect (after), `opts.b` the one to compare with
    /// (before; `None` is A's parent). Each is an address, a branch, a
    /// snapshot or a path.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let source = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&source)?.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, x); INSERT INTO t(x) VALUES (1);")?;
    /// use sqlfork::{diff::DiffOptions, ForkOptions, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// let fork = sqlfork.fork(source.to_str().unwrap(), "acme/pr-1", &ForkOptions { with_data: true, ..Default::default() })?;
    /// rusqlite::Connection::open(&fork.path)?.execute("UPDATE t SET x = 2", [])?;
    /// let report = sqlfork.diff(&DiffOptions { a: "acme/pr-1".into(), rows: 10, ..Default::default() })?;
    /// assert!(!report.identical);
    /// assert_eq!(report.tables["t"].updated, 1);
    /// # Ok(()) }
    /// ```
    pub fn diff(&self, opts: &crate::diff::DiffOptions) -> Result<crate::diff::DiffReport, Error> {
        crate::diff::diff(&self.home, &self.config, opts).map_err(typed)
    }

    /// Merge a fork's changes since its base into its parent (or
    /// `opts.into`), three ways (`sqlfork db merge`, SPEC section 17). A
    /// report with unresolved conflicts (`merged: false`) wrote nothing.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let orders = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&orders)?.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, x); INSERT INTO t(x) VALUES (1), (2);")?;
    /// use sqlfork::{merge::MergeOptions, ForkOptions, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// sqlfork.import("acme/orders", &orders, None)?;
    /// let main = sqlfork.fork("acme/orders", "acme/main", &ForkOptions { with_data: true, ..Default::default() })?;
    /// let fix = sqlfork.fork("acme/main", "acme/fix", &ForkOptions { with_data: true, mergeable: true, ..Default::default() })?;
    /// rusqlite::Connection::open(&fix.path)?.execute("UPDATE t SET x = 10 WHERE id = 1", [])?;
    /// rusqlite::Connection::open(&main.path)?.execute("UPDATE t SET x = 20 WHERE id = 2", [])?;
    /// let report = sqlfork.merge(&MergeOptions { fork: "acme/fix".into(), ..Default::default() })?;
    /// assert!(report.merged && report.conflicts.is_empty());
    /// let x: Vec<i64> = rusqlite::Connection::open(&main.path)?
    ///     .prepare("SELECT x FROM t ORDER BY id")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    /// assert_eq!(x, vec![10, 20]);
    /// # Ok(()) }
    /// ```
    pub fn merge(&self, opts: &crate::merge::MergeOptions) -> Result<crate::merge::MergeReport, Error> {
        crate::merge::merge(&self.home, &self.config, opts).map_err(typed)
    }

    /// Rebuild a fork on its parent's current state with its own changes
    /// since its base on top (`sqlfork db rebase`): same id, same path; its
    /// base becomes that parent state. With unresolved conflicts
    /// (`merged: false`) the fork is unchanged.
    pub fn rebase(
        &self,
        opts: &crate::merge::RebaseOptions,
        progress: &mut dyn Progress,
    ) -> Result<crate::merge::MergeReport, Error> {
        crate::merge::rebase(&self.home, &self.config, opts, progress).map_err(typed)
    }

    /// [`Sqlfork::diff`], and SQL that turns B into A written to `out`.
    pub fn diff_patch(
        &self,
        opts: &crate::diff::DiffOptions,
        out: &mut dyn std::io::Write,
    ) -> Result<crate::diff::DiffReport, Error> {
        crate::diff::patch(&self.home, &self.config, opts, out).map_err(typed)
    }

    /// Rehearse migrations (`sqlfork db rehearse`): run them on a data fork
    /// of `opts.source` and report what they would do to it, file by file,
    /// with findings whose severity a CI job can fail on. The fork is
    /// deleted at the end (also on an error or when `opts.cancel` is set)
    /// unless `opts.keep` names where to keep it; the source is only read.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let source = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&source)?.execute_batch(
    /// #     "CREATE TABLE orders(id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders(status) VALUES ('new'), ('old');")?;
    /// # let migration = dir.path().join("0042.sql");
    /// # std::fs::write(&migration, "DELETE FROM orders WHERE status = 'old';\nCREATE INDEX orders_status ON orders(status);\n")?;
    /// use sqlfork::rehearse::{RehearseOptions, Severity};
    /// let sqlfork = sqlfork::Sqlfork::open(dir.path().join("home"))?;
    /// let opts = RehearseOptions {
    ///     source: source.to_str().unwrap().into(),
    ///     migrations: vec![migration],
    ///     ..Default::default()
    /// };
    /// let report = sqlfork.rehearse(&opts, &mut sqlfork::NoProgress)?;
    /// assert!(report.migrations[0].ok);
    /// assert_eq!(report.migrations[0].tables["orders"].deleted, 1);
    /// assert_eq!(report.worst, Some(Severity::Warning)); // rows deleted
    /// assert!(sqlfork.list(None)?.is_empty()); // the rehearsal fork is gone
    /// # Ok(()) }
    /// ```
    pub fn rehearse(
        &self,
        opts: &crate::rehearse::RehearseOptions,
        progress: &mut dyn Progress,
    ) -> Result<crate::rehearse::RehearsalReport, Error> {
        crate::rehearse::rehearse(&self.home, &self.config, opts, progress).map_err(typed)
    }

    /// Take a snapshot of `database` (an address or a branch) named `name`
    /// (default: the UTC time, `20261130T120000Z`), optionally expiring.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let orders = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&orders)?.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")?;
    /// use sqlfork::{ForkOptions, ResetOptions, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// let pr = sqlfork.fork(orders.to_str().unwrap(), "acme/pr-1", &ForkOptions { with_data: true, ..Default::default() })?;
    /// let before = sqlfork.snapshot("acme/pr-1", Some("before"), None)?;
    /// assert_eq!(before.address, "acme/pr-1:before");
    /// rusqlite::Connection::open(&pr.path)?.execute_batch("DELETE FROM t")?; // a migration gone wrong
    /// let back = sqlfork.reset("acme/pr-1", &ResetOptions { to: Some("before".into()), ..Default::default() }, &mut sqlfork::NoProgress)?;
    /// assert_eq!(back.path, pr.path); // same path, the rows are back
    /// let n: i64 = rusqlite::Connection::open(&back.path)?.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub fn snapshot(&self, database: &str, name: Option<&str>, ttl: Option<Duration>) -> Result<SnapshotInfo, Error> {
        let opts = settings::SnapshotRequest {
            address: database.to_string(),
            name: name.map(str::to_string),
            ttl: settings::Ttl::duration(ttl),
        }
        .resolve()
        .map_err(typed)?;
        let snap =
            crate::snapshot::create(&self.home, &self.config, &opts, &mut crate::copy::NoProgress).map_err(typed)?;
        Ok(snapshot_info(&snap))
    }

    /// The snapshots of `database`, oldest first.
    pub fn snapshots(&self, database: &str) -> Result<Vec<SnapshotInfo>, Error> {
        let snaps = Local { home: &self.home }.list(&parse(database)?).map_err(typed)?;
        Ok(snaps.iter().map(snapshot_info).collect())
    }

    /// Delete the snapshot `NS/SLUG:NAME`.
    pub fn delete_snapshot(&self, snapshot: &str) -> Result<SnapshotInfo, Error> {
        let addr = crate::address::SnapshotAddress::parse(snapshot).map_err(Error::from)?;
        let snap = Local { home: &self.home }.delete(&addr.database, &addr.name).map_err(typed)?;
        Ok(snapshot_info(&snap))
    }

    /// Reset a fork in place to its parent's current state, or to one of its
    /// own snapshots (`opts.to`): same id, same path, built beside the file
    /// and renamed over it.
    pub fn reset(&self, address: &str, opts: &ResetOptions, progress: &mut dyn Progress) -> Result<Database, Error> {
        let core = settings::ResetRequest {
            address: address.to_string(),
            to: opts.to.clone(),
            with_data: opts.with_data,
            ttl: settings::Ttl::duration(opts.ttl),
            safe: settings::Safe { given: opts.safe.clone(), ..Default::default() },
            when_open: opts.when_open,
        }
        .resolve(&self.config)
        .map_err(typed)?;
        let out = crate::reset::reset(&self.home, &self.config, &core, progress).map_err(typed)?;
        self.database(&out.entry)
    }

    /// The branches of `NS/SLUG`, sorted by address.
    pub fn branches(&self, database: &str) -> Result<Vec<Database>, Error> {
        let db = Address::parse_database(database).map_err(Error::from)?;
        let entries = branch::list(&self.home, &db).map_err(typed)?;
        let reg = Registry::parents_of(&self.home, &entries).map_err(typed)?;
        Ok(entries.iter().map(|e| to_database(e, &reg)).collect())
    }

    /// Create the branch `NS/SLUG@REF` from `NS/SLUG`, or reset it to its
    /// parent's current state (same id, same path). Idempotent.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// use sqlfork::{BranchAction, BranchOptions, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// sqlfork.create("acme/orders", None, None)?;
    /// let (first, action) = sqlfork.branch_put("acme/orders@pr-7", &BranchOptions::default(), &mut sqlfork::NoProgress)?;
    /// assert_eq!(action, BranchAction::Created);
    /// let (again, action) = sqlfork.branch_put("acme/orders@pr-7", &BranchOptions::default(), &mut sqlfork::NoProgress)?;
    /// assert_eq!(action, BranchAction::Reset);
    /// assert_eq!(first.path, again.path);
    /// assert_eq!(sqlfork.branches("acme/orders")?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn branch_put(
        &self,
        address: &str,
        opts: &BranchOptions,
        progress: &mut dyn Progress,
    ) -> Result<(Database, BranchAction), Error> {
        let core = settings::BranchRequest {
            address: address.to_string(),
            with_data: opts.with_data,
            ttl: settings::Ttl::duration(opts.ttl),
            safe: settings::Safe { given: opts.safe.clone(), ..Default::default() },
            when_open: opts.when_open,
        }
        .resolve(&self.config)
        .map_err(typed)?;
        let out = branch::put(&self.home, &self.config, &core, progress).map_err(typed)?;
        let action = match out.action {
            PutAction::Created => BranchAction::Created,
            PutAction::Reset => BranchAction::Reset,
            PutAction::Resumed => BranchAction::Resumed,
        };
        Ok((self.database(&out.entry)?, action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source big enough for a page copy of several chunks.
    fn source(dir: &Path) -> PathBuf {
        let path = dir.join("big.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)
                 INSERT INTO t(body) SELECT randomblob(200) FROM n;",
            )
            .unwrap();
        path
    }

    #[test]
    fn a_background_fork_is_a_thread_that_can_be_cancelled_and_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let src = source(dir.path());
        let sqlfork = Sqlfork::open(dir.path().join("home")).unwrap();
        let opts = ForkOptions { with_data: true, ..Default::default() };
        /// Slow to take each chunk's count, so the cancel below lands
        /// before the copy checks for it (a one-chunk copy of a fast disk
        /// could otherwise finish first).
        struct Slow;
        impl Progress for Slow {
            fn start(&mut self, _: u64, _: u64) {}
            fn table(&mut self, _: &str) {}
            fn advance(&mut self, _: u64) {
                std::thread::sleep(Duration::from_millis(300));
            }
            fn finish(&mut self) {}
        }
        let copy = sqlfork.fork_in_background(src.to_str().unwrap(), "acme/big", &opts, Slow).unwrap();
        assert_eq!(copy.database().status, Status::Provisioning);
        assert!(copy.database().path.exists(), "the fork's file is there from the start");
        // Cancelled before its first chunk is done: it stops after it.
        copy.cancel();
        match copy.join() {
            Err(Error::Interrupted { address, .. }) => assert_eq!(address.to_string(), "acme/big"),
            other => panic!("expected Interrupted, got {other:?}"),
        }
        assert_eq!(sqlfork.show("acme/big").unwrap().status, Status::Provisioning);
        let done = sqlfork.resume("acme/big", &mut crate::NoProgress).unwrap();
        assert_eq!(done.status, Status::Healthy);
        let rows: i64 = rusqlite::Connection::open(&done.path)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 40000);
    }

    #[test]
    fn a_caller_tells_not_a_database_from_bad_input_by_variant() {
        let dir = tempfile::tempdir().unwrap();
        let sqlfork = Sqlfork::open(dir.path().join("home")).unwrap();
        let text = dir.path().join("notes.db");
        std::fs::write(&text, "just some notes\n").unwrap();
        match sqlfork.fork(text.to_str().unwrap(), "acme/x", &ForkOptions::default()) {
            Err(Error::NotADatabase { path, why }) => {
                assert_eq!(path, text);
                assert!(why.contains("text file"), "{why}");
            }
            other => panic!("expected NotADatabase, got {other:?}"),
        }
        match sqlfork.fork(dir.path().to_str().unwrap(), "acme/x", &ForkOptions::default()) {
            Err(Error::NotADatabase { why, .. }) => assert!(why.contains("directory"), "{why}"),
            other => panic!("expected NotADatabase, got {other:?}"),
        }
        assert!(sqlfork.list(None).unwrap().is_empty());
    }

    #[test]
    fn options_are_checked_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let sqlfork = Sqlfork::open(dir.path().join("home")).unwrap();
        let src = source(dir.path());
        let short = ForkOptions { ttl: Some(Duration::from_secs(60)), ..Default::default() };
        assert!(matches!(
            sqlfork.fork(src.to_str().unwrap(), "acme/x", &short),
            Err(Error::BadTtl { why: crate::error::TtlProblem::OutOfRange, duration: Some(_), .. })
        ));
        assert!(matches!(
            sqlfork.fork(src.to_str().unwrap(), "Bad Name", &ForkOptions::default()),
            Err(Error::BadAddress(_))
        ));
        assert!(matches!(sqlfork.show("acme/x"), Err(Error::NotFound { .. })));
        assert!(sqlfork.list(None).unwrap().is_empty());
    }
}
