//! Forking: a fork now, in a thread of this process, resumed, or waited for.

use super::{parse, typed, Background, BackgroundFork, Database, ForkOptions, Sqlfork};
use crate::address::Address;
use crate::copy::Progress;
use crate::error::Error;
use crate::fork;
use crate::home::Config;
use crate::settings;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

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
    /// [`Status::Provisioning`](crate::Status::Provisioning)), while a thread of this process copies the
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
                let found = crate::registry::store::Store::open(&self.home).and_then(|s| s.get(&dest));
                let entry = found.map_err(typed)?.ok_or_else(|| Error::Gone { address: dest.clone() })?;
                self.database(&entry)?
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;
    use std::path::{Path, PathBuf};

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
