//! The remotes' half of the Rust SDK: [`Sqlfork::push`], [`Sqlfork::pull`],
//! remote snapshot listing and the rest, on the same core as the CLI.

use super::typed;
use crate::address::{RemoteSnapshotAddress, SnapshotAddress};
use crate::copy::Progress;
use crate::error::Error;
use crate::home::Config;
use crate::remote::{
    Finished, GcOptions, GcReport, PullOptions, PushOptions, RemoteInfo, RemoteOptions, RemoteSnapshot, Transfer,
    TransferFigures,
};
use crate::storage::{self, SnapshotStore};
use crate::Sqlfork;
use std::path::PathBuf;
use std::time::Duration;

/// A remote snapshot brought into the home ([`Sqlfork::pull`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// `REMOTE:NS/SLUG:NAME`: fork it with [`Sqlfork::fork`].
    pub address: String,
    /// The local copy (mode 0400).
    pub path: PathBuf,
    /// True when the home held it already (nothing was downloaded).
    pub already_here: bool,
    pub figures: TransferFigures,
}

/// A pushed snapshot ([`Sqlfork::push`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub snapshot: RemoteSnapshot,
    pub figures: TransferFigures,
}

impl Sqlfork {
    fn config_now(&self) -> Result<Config, Error> {
        // Remotes added since this handle was opened count too.
        Config::load(self.parts().0).map_err(typed)
    }

    /// Add a remote (`remote add`): `url` is `s3://BUCKET[/PREFIX]` or
    /// `file:///PATH`. No credential is stored.
    pub fn add_remote(&self, name: &str, url: &str, opts: &RemoteOptions) -> Result<RemoteInfo, Error> {
        crate::remote::add(self.parts().0, name, url, opts).map_err(typed)
    }

    /// The remotes in `config.toml`.
    pub fn remotes(&self) -> Result<Vec<RemoteInfo>, Error> {
        Ok(crate::remote::list(&self.config_now()?))
    }

    /// Remove a remote from `config.toml` (what it holds stays there).
    pub fn remove_remote(&self, name: &str) -> Result<RemoteInfo, Error> {
        crate::remote::remove(self.parts().0, &self.config_now()?, name).map_err(typed)
    }

    /// Upload the local snapshot `NS/SLUG:NAME` to `remote` (`None`: the
    /// only one there is), expiring there after `ttl`. Only pages the remote
    /// lacks are sent; a name it holds is [`Error::RemoteSnapshotTaken`].
    ///
    /// On glibc this sets the process's `M_MMAP_THRESHOLD` to 128 KiB (its
    /// initial value) once, which stops glibc raising it: the transfer's
    /// multi-MiB buffers are then returned to the system when freed, which
    /// keeps its peak memory flat in the snapshot's size.
    pub fn push(
        &self,
        snapshot: &str,
        remote: Option<&str>,
        ttl: Option<Duration>,
        progress: &mut dyn Progress,
    ) -> Result<Pushed, Error> {
        if let Some(t) = ttl {
            crate::ttl::check_ttl(t)?;
        }
        let opts = PushOptions {
            snapshot: SnapshotAddress::parse(snapshot).map_err(Error::from)?,
            remote: remote.map(str::to_string),
            ttl,
        };
        let (snapshot, figures) =
            crate::remote::push(self.parts().0, &self.config_now()?, &opts, progress).map_err(typed)?;
        Ok(Pushed { snapshot, figures })
    }

    /// Bring `REMOTE:NS/SLUG:NAME` into the home; forks of it are then
    /// local. Every page is checked against its hash.
    ///
    /// On glibc this sets the process's `M_MMAP_THRESHOLD` to 128 KiB (its
    /// initial value) once, which stops glibc raising it: the transfer's
    /// multi-MiB buffers are then returned to the system when freed, which
    /// keeps its peak memory flat in the snapshot's size.
    pub fn pull(&self, snapshot: &str, progress: &mut dyn Progress) -> Result<Pulled, Error> {
        let addr = RemoteSnapshotAddress::parse(snapshot).map_err(Error::from)?;
        let opts = PullOptions { snapshot: addr.clone(), schema_only: false };
        let (local, figures, already_here) =
            crate::remote::pull(self.parts().0, &self.config_now()?, &opts, progress).map_err(typed)?;
        Ok(Pulled { address: addr.to_string(), path: local.path, already_here, figures })
    }

    /// The pushes and pulls of this home that were interrupted (killed,
    /// Ctrl-C, the network) and that no process is running now, oldest
    /// first. [`Sqlfork::resume_transfer`] finishes one.
    pub fn interrupted_transfers(&self) -> Vec<Transfer> {
        crate::remote::interrupted(self.parts().0)
    }

    /// Finish an interrupted push or pull (`db resume`): packs already
    /// uploaded are not sent again, pages already downloaded not fetched
    /// again. Returns the figures of this run.
    pub fn resume_transfer(&self, transfer: &Transfer, progress: &mut dyn Progress) -> Result<TransferFigures, Error> {
        match crate::remote::resume(self.parts().0, &self.config_now()?, transfer, progress).map_err(typed)? {
            Finished::Pushed(_, f) | Finished::Pulled(_, f, _) => Ok(f),
        }
    }

    /// The snapshots of `REMOTE:NS/SLUG` on the remote, oldest first.
    pub fn remote_snapshots(&self, database: &str) -> Result<Vec<RemoteSnapshot>, Error> {
        let (remote, db, name) = RemoteSnapshotAddress::parse_optional(database).map_err(Error::from)?;
        if name.is_some() {
            return Err(crate::error::Error::bad_address(
                crate::address::AddressProblem::NamesASnapshot,
                format!("`{database}` names a snapshot; list REMOTE:NS/SLUG"),
            ));
        }
        let store = storage::Remote { home: self.parts().0, config: self.config_now()?, name: remote };
        store.list(&db).map_err(typed)
    }

    /// Delete `REMOTE:NS/SLUG:NAME` from the remote (its data goes with
    /// the next [`Sqlfork::remote_gc`]).
    pub fn delete_remote_snapshot(&self, snapshot: &str) -> Result<RemoteSnapshot, Error> {
        let addr = RemoteSnapshotAddress::parse(snapshot).map_err(Error::from)?;
        let store = storage::Remote { home: self.parts().0, config: self.config_now()?, name: addr.remote.clone() };
        store.delete(&addr.snapshot.database, &addr.snapshot.name).map_err(typed)
    }

    /// Remove a remote's expired snapshots and the data no snapshot needs
    /// (older than `grace`, and never while a push holds a lease).
    pub fn remote_gc(&self, remote: &str, grace: Duration) -> Result<GcReport, Error> {
        let opts = GcOptions { remote: remote.to_string(), grace, dry_run: false };
        crate::remote::gc(&self.config_now()?, &opts).map_err(typed)
    }
}
