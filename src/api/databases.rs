//! The databases of a home: list, show, create, import, delete, cancel,
//! expiry.

use super::{parse, typed, Database, Sqlfork};
use crate::address::Address;
use crate::branch;
use crate::error::Error;
use crate::ops;
use crate::settings;
use std::path::{Path, PathBuf};
use std::time::Duration;

impl Sqlfork {
    /// Every database, or those in one namespace, sorted by address.
    pub fn list(&self, namespace: Option<&str>) -> Result<Vec<Database>, Error> {
        let entries = ops::list(&self.home, namespace).map_err(typed)?;
        self.databases(&entries)
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
        self.database(&entry)
    }

    /// Stop the process building `address` (a provisioning fork) and remove
    /// the half-made fork, as `sqlfork db cancel` does. Returns what was
    /// removed and the pid that was stopped, if a process was building it.
    /// A healthy database is refused ([`Error::NotBeingBuilt`]): use
    /// [`Sqlfork::delete`].
    pub fn cancel(&self, address: &str) -> Result<(Database, Option<u32>), Error> {
        let out = crate::cancel::cancel(&self.home, &parse(address)?).map_err(typed)?;
        Ok((self.database(&out.entry)?, out.stopped))
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
        let entries: Vec<_> = report.deleted.into_iter().map(|c| c.entry).collect();
        self.databases(&entries)
    }
}
