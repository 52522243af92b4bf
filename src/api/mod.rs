//! The Rust SDK: a small, typed API over the same core the `sqlfork`
//! binary uses. Addresses go in as text (`"acme/orders"`,
//! `"acme/orders@pr-142"`), typed options and results come out, and every
//! failure is an [`Error`] whose variant says what went wrong and whose
//! `Display` is the same sentence the CLI prints.
//!
//! Nothing here re-executes the calling program: a background copy
//! ([`Sqlfork::fork_in_background`]) is a thread of this process that the
//! returned [`BackgroundFork`] can wait for or cancel.

//!
//! The door has one file per kind of work: forking (`fork.rs`), the
//! databases of a home (`databases.rs`), branches (`branch.rs`),
//! snapshots and resets (`snapshot.rs`), diff, merge and rehearse
//! (`changes.rs`), remotes (`remote.rs`); the types a caller passes in
//! (`types.rs`) and the one shape of a database it gets back, which is
//! also the JSON the command line and the MCP server print
//! (`database.rs`).

use crate::address::Address;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::store::Store;
use crate::registry::Entry;
use std::path::{Path, PathBuf};

mod background;
mod branch;
mod changes;
mod database;
mod databases;
mod fork;
mod remote;
mod snapshot;
mod types;

pub use crate::registry::Status;
use background::Background;
pub use background::BackgroundFork;
pub(crate) use database::{resolved, snapshot_info, Lineages};
pub use database::{CopyFigures, Database, Lineage, SafeInfo, SnapshotInfo, SnapshotLineage};
pub use remote::{Pulled, Pushed};
pub use types::{BranchAction, BranchOptions, ForkOptions, ResetOptions};

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
        Ok(self.databases(std::slice::from_ref(entry))?.remove(0))
    }

    /// These entries as databases, with their lineage resolved.
    fn databases(&self, entries: &[Entry]) -> Result<Vec<Database>, Error> {
        let store = Store::open(&self.home).map_err(typed)?;
        let mut lineages = Lineages::new(&store);
        entries.iter().map(|e| lineages.database(e).map_err(typed)).collect()
    }
}
