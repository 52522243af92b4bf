//! Snapshots, and resetting a database to one (or to its parent).

use super::{parse, snapshot_info, typed, Database, ResetOptions, SnapshotInfo, Sqlfork};
use crate::copy::Progress;
use crate::error::Error;
use crate::settings;
use crate::storage::{Local, SnapshotStore};
use std::time::Duration;

impl Sqlfork {
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
}
