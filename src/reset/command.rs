//! `db reset`: where a reset reads from (the database's parent, or one of
//! its own snapshots), refusing what cannot be reset, and the command
//! itself over [`super::reset_in_place`].

use super::{reset_in_place, until_free, Expiry, Plan};
use crate::address::{self, Address, SnapshotAddress, Source};
use crate::copy::Progress;
use crate::error::Error;
use crate::holders::WhenOpen;
use crate::home::{Config, Home};
use crate::registry::{Entry, Parent, Registry, Snapshot, Status, Store};
use std::time::Duration;

/// What a reset from the parent copies from: the database's parent (its
/// address, or its file), or the database itself when it has none.
pub(crate) fn parent_source(home: &Home, addr: &Address) -> anyhow::Result<Source> {
    let entry = Registry::load(home)?.require(addr)?.clone();
    Ok(match entry.forked_from {
        Some(Parent::Database { namespace, slug, branch, .. }) => {
            Source::Registered(Address { namespace, slug, branch })
        }
        Some(Parent::Path(p)) => Source::Path(p),
        None => Source::Registered(addr.clone()),
    })
}

/// What `db reset` should do.
#[derive(Debug, Clone)]
pub(crate) struct ResetOptions {
    pub address: Address,
    /// Go back to this snapshot of the database itself (`NAME`, or
    /// `NS/SLUG:NAME` naming the same database) instead of its parent.
    pub to: Option<String>,
    /// `Some(true)` with data, `Some(false)` schema only; `None` keeps the
    /// database's data mode (a reset to a snapshot restores it whole).
    pub with_data: Option<bool>,
    /// Expire this long from the reset; `None` keeps the expiry.
    pub ttl: Option<Duration>,
    /// `--mask` / `--subset` (see [`Plan::safe`]).
    pub safe: crate::mask::SafeOptions,
    /// `--force` / `--in-place`: what to do when other processes have it open.
    pub when_open: WhenOpen,
}

/// What `db reset` did.
#[derive(Debug, Clone)]
pub(crate) struct ResetOutcome {
    pub entry: Entry,
    /// The snapshot it went back to, with `--to`.
    pub snapshot: Option<Snapshot>,
    /// What it was reset to, for people: `acme/orders`, `acme/orders:x`.
    pub source_label: String,
    pub with_data: bool,
}

/// `db reset`: the database back to its parent's current state, or to one
/// of its own snapshots. Same id, same path.
pub(crate) fn reset(
    home: &Home,
    config: &Config,
    opts: &ResetOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<ResetOutcome> {
    let addr = &opts.address;
    until_free(addr, |deadline| {
        let reg = Store::open(home)?;
        let entry = reg.require(addr)?;
        let (source, label, snapshot) = decide_source(&reg, &entry, opts.to.as_deref())?;
        let with_data = opts.with_data.unwrap_or(snapshot.is_some() || entry.include_data);
        let remember_data = if snapshot.is_some() { opts.with_data.unwrap_or(entry.include_data) } else { with_data };
        let plan = Plan {
            target: &entry,
            source,
            with_data,
            keep_lineage: snapshot.is_some(),
            remember_data,
            expiry: match opts.ttl {
                Some(d) => Expiry::FromNow(Some(d)),
                None => Expiry::Keep,
            },
            safe: opts.safe.clone(),
            when_open: opts.when_open,
            before_swap: None,
        };
        Ok(reset_in_place(home, config, &plan, deadline, &mut *progress)?.map(|entry| ResetOutcome {
            entry,
            snapshot,
            source_label: label,
            with_data,
        }))
    })
}

/// Where a reset of `entry` reads from, refusing what cannot be reset.
fn decide_source(reg: &Store, entry: &Entry, to: Option<&str>) -> anyhow::Result<(Source, String, Option<Snapshot>)> {
    let addr = entry.address();
    let refuse = |why: String| -> anyhow::Error { Error::NotResettable { address: addr.clone(), why }.into() };
    if !entry.owned {
        return Err(refuse(format!(
            "it was imported (`db import`), and sqlfork never writes a file it did not create; fork it instead with `sqlfork db fork {addr} NEW`"
        )));
    }
    if entry.status != Status::Healthy {
        return Err(Error::StillProvisioning { address: addr.clone(), action: "reset" }.into());
    }
    if let Some(to) = to {
        let snap = if to.contains(':') {
            let s = SnapshotAddress::parse(to)?;
            if s.database != addr {
                return Err(refuse(format!(
                    "--to {to} is a snapshot of {}, not of {addr}: a reset goes back only to {addr}'s own snapshots (`sqlfork snapshot list {addr}`)",
                    s.database
                )));
            }
            s
        } else {
            address::check_snapshot_name(to).map_err(|e| Error::BadAddress(e.within(format!("--to {to}: {e}"))))?;
            SnapshotAddress { database: addr.clone(), name: to.to_string() }
        };
        let (_, s) = reg.find_snapshot(&snap)?;
        return Ok((Source::Snapshot(snap.clone()), snap.to_string(), Some(s.clone())));
    }
    match &entry.forked_from {
        None => Err(refuse(format!(
            "it was created empty (`db create`), so it has no parent to go back to; reset it to one of its snapshots with `sqlfork db reset {addr} --to NAME`"
        ))),
        Some(Parent::Path(p)) => Ok((Source::Path(p.clone()), p.display().to_string(), None)),
        Some(Parent::Database { namespace, slug, branch, snapshot: Some(r), .. }) => {
            let Some(s) = reg.snapshot_by_id(&r.id)? else {
                let mut from = format!("{namespace}/{slug}");
                if let Some(b) = branch {
                    from.push_str(&format!("@{b}"));
                }
                return Err(refuse(format!(
                    "the snapshot it was forked from ({from}:{}) was deleted; reset it to one of its own snapshots with --to NAME, or fork again",
                    r.name
                )));
            };
            let sa = s.address();
            Ok((Source::Snapshot(sa.clone()), sa.to_string(), None))
        }
        Some(Parent::Database { id, namespace, slug, branch, snapshot: None, .. }) => match reg.by_id(id)? {
            Some(p) => Ok((Source::Registered(p.address()), p.address().to_string(), None)),
            None => {
                let mut from = format!("{namespace}/{slug}");
                if let Some(b) = branch {
                    from.push_str(&format!("@{b}"));
                }
                Err(refuse(format!(
                    "its parent {from} was deleted; reset it to one of its snapshots with --to NAME, or fork again"
                )))
            }
        },
    }
}
