//! The library API of pools (`Sqlfork::pool_*`), for test harnesses: the
//! options, the slots as the SDK shows them, and the `PoolLease` guard that
//! gives its slot back when dropped.

use super::{create, delete, give_back, holder_for, lease, list, release, CreateOptions, Holder, Slot};
use crate::address::Address;
use crate::api::Sqlfork;
use crate::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How to make a pool ([`Sqlfork::pool_create`]).
#[derive(Debug, Clone, Default)]
pub struct PoolOptions {
    /// How many slots (1 to 256): one per parallel worker.
    pub size: usize,
    /// Copy the rows into every slot, not only the schema.
    pub with_data: bool,
    /// Expire the slots and the base this long from now; `None` never.
    pub ttl: Option<Duration>,
}

/// One slot of a pool: an ordinary database (`NS/SLUG@pool-N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSlot {
    /// 1-based.
    pub slot: u32,
    /// `NS/SLUG@pool-N`.
    pub address: String,
    /// Its SQLite file.
    pub path: PathBuf,
    /// The live process holding it, if any.
    pub holder_pid: Option<u32>,
    /// When it was leased (RFC 3339), while it is.
    pub leased_at: Option<String>,
    /// Handed out since its last reset: its next lease resets it first.
    pub dirty: bool,
}

impl From<&Slot> for PoolSlot {
    fn from(s: &Slot) -> Self {
        PoolSlot {
            slot: s.number,
            address: s.entry.address().to_string(),
            path: s.entry.path.clone(),
            holder_pid: s.holder.map(|h| h.pid),
            leased_at: s.leased_at.clone(),
            dirty: s.dirty,
        }
    }
}

/// A leased slot ([`Sqlfork::pool_lease`]); returned to the pool when
/// dropped (or by [`PoolLease::release`]), and by the kernel's word when
/// the process dies: a lease held by a dead process is free.
#[derive(Debug)]
pub struct PoolLease {
    sqlfork: Sqlfork,
    pool: Address,
    slot: PoolSlot,
    id: String,
    holder: Holder,
    released: bool,
}

impl PoolLease {
    /// The slot's SQLite file, reset to the pool's base.
    pub fn path(&self) -> &Path {
        &self.slot.path
    }

    /// The slot.
    pub fn slot(&self) -> &PoolSlot {
        &self.slot
    }

    /// Give the slot back now (what dropping does, with its error).
    pub fn release(mut self) -> Result<(), Error> {
        self.released = true;
        let (home, _) = self.sqlfork.parts();
        release(home, &self.pool, &self.id, Some(self.holder)).map(|_| ()).map_err(crate::api::typed)
    }
}

impl Drop for PoolLease {
    fn drop(&mut self) {
        if !self.released {
            let (home, _) = self.sqlfork.parts();
            let _ = release(home, &self.pool, &self.id, Some(self.holder));
        }
    }
}

fn parse_db(address: &str) -> Result<Address, Error> {
    Address::parse_database(address).map_err(Error::from)
}

impl Sqlfork {
    /// Make a pool of `opts.size` forks of `database` for parallel test
    /// workers: the snapshot `NS/SLUG:pool-base` and the slots
    /// `NS/SLUG@pool-1` … `NS/SLUG@pool-N`, forked from it.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// # let source = dir.path().join("orders.db");
    /// # rusqlite::Connection::open(&source)?.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")?;
    /// use sqlfork::{ForkOptions, PoolOptions, Sqlfork};
    /// let sqlfork = Sqlfork::open(dir.path().join("home"))?;
    /// sqlfork.fork(source.to_str().unwrap(), "acme/orders", &ForkOptions { with_data: true, ..Default::default() })?;
    /// sqlfork.pool_create("acme/orders", &PoolOptions { size: 2, with_data: true, ..Default::default() })?;
    /// {
    ///     let lease = sqlfork.pool_lease("acme/orders", None, std::time::Duration::from_secs(30))?;
    ///     rusqlite::Connection::open(lease.path())?.execute("DELETE FROM t", [])?;
    /// } // returned here
    /// let again = sqlfork.pool_lease("acme/orders", None, std::time::Duration::from_secs(30))?;
    /// let n: i64 = rusqlite::Connection::open(again.path())?.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
    /// assert_eq!(n, 1); // reset to the base
    /// # Ok(()) }
    /// ```
    pub fn pool_create(&self, database: &str, opts: &PoolOptions) -> Result<Vec<PoolSlot>, Error> {
        let (home, config) = self.parts();
        let core =
            CreateOptions { address: parse_db(database)?, size: opts.size, with_data: opts.with_data, ttl: opts.ttl };
        let slots = create(home, config, &core, &mut crate::copy::NoProgress).map_err(crate::api::typed)?;
        Ok(slots.iter().map(PoolSlot::from).collect())
    }

    /// Lease a free slot of `database`'s pool for the process `pid`
    /// (default: this process), waiting up to `timeout` for one
    /// ([`Error::PoolBusy`] after that). The slot is reset to the pool's
    /// base if it was used since; it is returned when the guard drops.
    pub fn pool_lease(&self, database: &str, pid: Option<u32>, timeout: Duration) -> Result<PoolLease, Error> {
        let (home, config) = self.parts();
        let pool = parse_db(database)?;
        let holder = holder_for(pid.unwrap_or_else(std::process::id))?;
        let slot = lease(home, config, &pool, holder, timeout).map_err(crate::api::typed)?;
        Ok(PoolLease {
            sqlfork: self.clone(),
            pool,
            id: slot.entry.id.clone(),
            slot: PoolSlot::from(&slot),
            holder,
            released: false,
        })
    }

    /// Return a slot (its number, address or path) to `database`'s pool,
    /// whoever holds it. A slot that is not leased is [`Error::Invalid`].
    pub fn pool_return(&self, database: &str, slot: &str) -> Result<PoolSlot, Error> {
        let (home, _) = self.parts();
        give_back(home, &parse_db(database)?, slot).map(|s| PoolSlot::from(&s)).map_err(crate::api::typed)
    }

    /// The slots of `database`'s pool and who holds each.
    pub fn pool_list(&self, database: &str) -> Result<Vec<PoolSlot>, Error> {
        let (home, _) = self.parts();
        Ok(list(home, &parse_db(database)?).map_err(crate::api::typed)?.iter().map(PoolSlot::from).collect())
    }

    /// Delete `database`'s pool (its slots and base snapshot); refused
    /// while a live process holds a slot, unless `force`. Returns how many
    /// slots were deleted.
    pub fn pool_delete(&self, database: &str, force: bool) -> Result<usize, Error> {
        let (home, _) = self.parts();
        delete(home, &parse_db(database)?, force).map_err(crate::api::typed)
    }
}
