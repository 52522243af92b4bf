//! Where snapshots live: this home ([`Local`]: a registry record and a
//! read-only file under `databases/`, `snapshot.rs`) or a remote
//! ([`Remote`]: object storage or a directory, `remote/`). Both do what
//! [`SnapshotStore`] asks; a new place for snapshots is a third
//! implementation and an arm in [`locate`], and the fork pipeline never
//! knows it: a fork reads a snapshot only once [`SnapshotStore::bring_here`]
//! has made it a local record and file.
//!
//! [`locate`] is the one place an address says where: `REMOTE:NS/SLUG[:NAME]`
//! is a remote's, `NS/SLUG[@REF][:NAME]` this home's. [`bring_source_here`]
//! is the one step before every fork of a snapshot (CLI, MCP, SDK,
//! `db rehearse`).

use crate::address::{self, Address, AddressProblem, RemoteSnapshotAddress, SnapshotAddress, Source};
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::Snapshot;
use crate::remote::{RemoteSnapshot, TransferFigures};

/// A place that keeps snapshots.
pub(crate) trait SnapshotStore {
    /// How this place describes one of its snapshots.
    type Snapshot;

    /// The snapshots of `db` kept here, oldest first.
    fn list(&self, db: &Address) -> anyhow::Result<Vec<Self::Snapshot>>;

    /// Delete the snapshot `name` of `db` here, and say what it was.
    fn delete(&self, db: &Address, name: &str) -> anyhow::Result<Self::Snapshot>;

    /// Make the snapshot `name` of `db` something a fork reads: a registry
    /// record and a read-only file under `databases/` (only its schema
    /// when `!with_data`). The figures of what was transferred, if
    /// anything was.
    fn bring_here(
        &self,
        db: &Address,
        name: &str,
        with_data: bool,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Option<TransferFigures>>;
}

/// This home's snapshots (`snapshot create` makes them).
pub(crate) struct Local<'h> {
    pub home: &'h Home,
}

impl SnapshotStore for Local<'_> {
    type Snapshot = Snapshot;

    fn list(&self, db: &Address) -> anyhow::Result<Vec<Snapshot>> {
        crate::snapshot::list(self.home, db)
    }

    fn delete(&self, db: &Address, name: &str) -> anyhow::Result<Snapshot> {
        crate::snapshot::delete(self.home, &SnapshotAddress { database: db.clone(), name: name.to_string() })
    }

    /// Here already.
    fn bring_here(
        &self,
        _: &Address,
        _: &str,
        _: bool,
        _: &mut dyn Progress,
    ) -> anyhow::Result<Option<TransferFigures>> {
        Ok(None)
    }
}

/// The snapshots on the remote `name` of `config` (`config.toml`).
pub(crate) struct Remote<'h> {
    pub home: &'h Home,
    pub config: Config,
    pub name: String,
}

impl Remote<'_> {
    fn address(&self, db: &Address, name: &str) -> RemoteSnapshotAddress {
        RemoteSnapshotAddress {
            remote: self.name.clone(),
            snapshot: SnapshotAddress { database: db.clone(), name: name.to_string() },
        }
    }
}

impl SnapshotStore for Remote<'_> {
    type Snapshot = RemoteSnapshot;

    fn list(&self, db: &Address) -> anyhow::Result<Vec<RemoteSnapshot>> {
        let store = crate::remote::open(&self.config, &self.name)?;
        crate::remote::list_snapshots(&store, db)
    }

    /// Its manifest goes; the data it alone needed goes with the next
    /// `remote gc`.
    fn delete(&self, db: &Address, name: &str) -> anyhow::Result<RemoteSnapshot> {
        crate::remote::delete_snapshot(&self.config, &self.address(db, name))
    }

    /// A pull (its schema record alone for a schema-only fork).
    fn bring_here(
        &self,
        db: &Address,
        name: &str,
        with_data: bool,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Option<TransferFigures>> {
        let opts = crate::remote::PullOptions { snapshot: self.address(db, name), schema_only: !with_data };
        let (_, figures, _) = crate::remote::pull(self.home, &self.config, &opts, progress)?;
        Ok(Some(figures))
    }
}

/// Where an address's snapshots live.
pub(crate) enum Place<'h> {
    Local(Local<'h>),
    Remote(Remote<'h>),
}

/// A snapshot address (`[REMOTE:]NS/SLUG[:NAME]`) parsed once: where, which
/// database, and the snapshot's name when it has one.
pub(crate) struct Located<'h> {
    pub place: Place<'h>,
    pub database: Address,
    pub name: Option<String>,
    text: String,
}

impl Located<'_> {
    /// The snapshot's name, or the parser's sentence for an address that
    /// names none (`delete`).
    pub(crate) fn name(&self) -> Result<&str, Error> {
        if let Some(n) = &self.name {
            return Ok(n);
        }
        let parsed = match self.place {
            Place::Local(_) => SnapshotAddress::parse(&self.text).map(|_| ()),
            Place::Remote(_) => RemoteSnapshotAddress::parse(&self.text).map(|_| ()),
        };
        Err(parsed.map_err(Error::from).err().unwrap_or_else(|| {
            Error::bad_address(AddressProblem::NoSnapshot, format!("`{}` names no snapshot", self.text))
        }))
    }

    /// Refuse an address that names a snapshot where a database is meant
    /// (`list`).
    pub(crate) fn database_only(&self) -> Result<&Address, Error> {
        if self.name.is_none() {
            return Ok(&self.database);
        }
        let form = match self.place {
            Place::Local(_) => "NS/SLUG",
            Place::Remote(_) => "REMOTE:NS/SLUG",
        };
        Err(Error::bad_address(
            AddressProblem::NamesASnapshot,
            format!("`{}` names a snapshot; list {form}", self.text),
        ))
    }
}

/// Where the snapshots `text` names live: the one place that tells a
/// remote's address from this home's. `config` is read only for a remote.
pub(crate) fn locate<'h>(
    home: &'h Home,
    text: &str,
    config: impl FnOnce() -> anyhow::Result<Config>,
) -> anyhow::Result<Located<'h>> {
    let (place, database, name) = if address::is_remote(text) {
        let (remote, db, name) = RemoteSnapshotAddress::parse_optional(text).map_err(Error::from)?;
        (Place::Remote(Remote { home, config: config()?, name: remote }), db, name)
    } else {
        let (db, name) = SnapshotAddress::parse_optional(text).map_err(Error::from)?;
        (Place::Local(Local { home }), db, name)
    };
    Ok(Located { place, database, name, text: text.to_string() })
}

/// Before a fork of `source`: a snapshot kept elsewhere is brought here
/// first (a remote's is pulled: its schema record alone for a schema-only
/// fork), so the fork itself is an ordinary local one. Other sources need
/// nothing.
pub(crate) fn bring_source_here(
    home: &Home,
    config: &Config,
    source: &Source,
    with_data: bool,
    progress: &mut dyn Progress,
) -> anyhow::Result<Option<TransferFigures>> {
    match source {
        Source::Remote(r) => Remote { home, config: config.clone(), name: r.remote.clone() }.bring_here(
            &r.snapshot.database,
            &r.snapshot.name,
            with_data,
            progress,
        ),
        Source::Snapshot(s) => Local { home }.bring_here(&s.database, &s.name, with_data, progress),
        Source::Registered(_) | Source::Path(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> anyhow::Result<Config> {
        Ok(Config::default())
    }

    #[test]
    fn an_address_says_where_its_snapshots_live() {
        let home = Home::at("/nonexistent");
        let local = locate(&home, "acme/orders@pr-1:nightly", || panic!("a local address reads no config")).unwrap();
        assert!(matches!(local.place, Place::Local(_)));
        assert_eq!((local.database.to_string(), local.name()), ("acme/orders@pr-1".into(), Ok("nightly")));
        let remote = locate(&home, "origin:acme/orders", config).unwrap();
        assert!(matches!(&remote.place, Place::Remote(r) if r.name == "origin"));
        assert_eq!(remote.database_only().unwrap().to_string(), "acme/orders");
    }

    #[test]
    fn a_database_is_not_a_snapshot_nor_the_reverse() {
        let home = Home::at("/nonexistent");
        let named = locate(&home, "origin:acme/orders:nightly", config).unwrap();
        assert!(named.database_only().unwrap_err().to_string().contains("list REMOTE:NS/SLUG"));
        let local = locate(&home, "acme/orders", config).unwrap();
        assert!(local.name().is_err(), "a delete needs NS/SLUG:NAME");
        assert!(locate(&home, "origin:acme/orders@pr-1", config).is_err(), "a remote keeps no branches");
    }
}
