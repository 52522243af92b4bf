//! What changed and where it goes: diff, merge, rebase, rehearse.

use super::{typed, Sqlfork};
use crate::copy::Progress;
use crate::error::Error;

impl Sqlfork {
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

    /// [`Sqlfork::diff`], and SQL that turns B into A written to `out`.
    pub fn diff_patch(
        &self,
        opts: &crate::diff::DiffOptions,
        out: &mut dyn std::io::Write,
    ) -> Result<crate::diff::DiffReport, Error> {
        crate::diff::patch(&self.home, &self.config, opts, out).map_err(typed)
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
}
