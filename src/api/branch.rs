//! Branches: one per git branch or pull request.

use super::{typed, BranchAction, BranchOptions, Database, Sqlfork};
use crate::address::Address;
use crate::branch::{self, PutAction};
use crate::copy::Progress;
use crate::error::Error;
use crate::settings;

impl Sqlfork {
    /// The branches of `NS/SLUG`, sorted by address.
    pub fn branches(&self, database: &str) -> Result<Vec<Database>, Error> {
        let db = Address::parse_database(database).map_err(Error::from)?;
        let entries = branch::list(&self.home, &db).map_err(typed)?;
        self.databases(&entries)
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
