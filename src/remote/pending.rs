//! Pushes and pulls in progress, so that an interrupted one can be found
//! and finished (`db resume`, SPEC section 15).
//!
//! A push or a (data) pull writes a small record,
//! `remotes/transfers/ID.json`, when it starts and removes it when it ends
//! (done, or failed for good: the name taken, the snapshot damaged or
//! refused). A killed, interrupted (Ctrl-C) or cut-off (network) one leaves
//! it. While it runs the process holds the claim on ID, so a record whose
//! claim is free is an interrupted transfer. ID is the transfer's identity
//! (what is moved, where), so running the same command again reuses it.
//!
//! Resuming does not redo what was done: a push finds the packs it already
//! uploaded in the home's list of them (`remotes/<url hash>/pushed`); a
//! pull keeps every page of its partial file that matches its hash.

use super::{format, PullOptions, PushOptions, RemoteSnapshot, TransferFigures};
use crate::address::{RemoteSnapshotAddress, SnapshotAddress};
use crate::claim::{is_claimed, Claim};
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::registry::Snapshot;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// An interrupted push or pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Transfer {
    /// `push SNAPSHOT REMOTE [--ttl]`.
    #[serde(rename_all = "camelCase")]
    Push {
        /// The local snapshot, `NS/SLUG:NAME`.
        snapshot: String,
        remote: String,
        /// The expiry asked for, in seconds from the push.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_secs: Option<u64>,
    },
    /// `pull REMOTE:NS/SLUG:NAME`.
    Pull {
        /// `REMOTE:NS/SLUG:NAME`.
        snapshot: String,
    },
}

impl Transfer {
    /// The address `db resume` takes for it: `NS/SLUG:NAME` for a push,
    /// `REMOTE:NS/SLUG:NAME` for a pull.
    pub fn address(&self) -> &str {
        match self {
            Transfer::Push { snapshot, .. } | Transfer::Pull { snapshot } => snapshot,
        }
    }

    /// The expiry asked for (a push).
    pub fn ttl(&self) -> Option<Duration> {
        match self {
            Transfer::Push { ttl_secs, .. } => ttl_secs.map(Duration::from_secs),
            Transfer::Pull { .. } => None,
        }
    }

    /// The record's id: the same for the same command.
    fn id(&self) -> String {
        let key = match self {
            Transfer::Push { snapshot, remote, .. } => format!("push\n{snapshot}\n{remote}"),
            Transfer::Pull { snapshot } => format!("pull\n{snapshot}"),
        };
        format!("transfer-{}", &format::hex(&format::hash(key.as_bytes()))[..24])
    }
}

fn dir(home: &Home) -> PathBuf {
    home.root().join("remotes").join("transfers")
}

/// A transfer's record while it runs.
pub(crate) struct Running {
    path: PathBuf,
    _claim: Option<Claim>,
}

/// Record `t` as started (and claim it while this process runs it).
pub(crate) fn begin(home: &Home, t: &Transfer) -> anyhow::Result<Running> {
    let id = t.id();
    let claim = Claim::take_now(home, &id)?;
    let d = dir(home);
    // A full disk is one sentence (exit 6) here as anywhere.
    let full = |e: std::io::Error, what: String| {
        crate::space::explain(anyhow::Error::new(e).context(what), home.root(), "a record of this transfer", None)
    };
    std::fs::create_dir_all(&d).map_err(|e| full(e, format!("could not create {}", d.display())))?;
    let path = d.join(format!("{id}.json"));
    let bytes = serde_json::to_vec(t).expect("a transfer serialises");
    super::push::write_atomic(&path, &bytes).map_err(|e| full(e, format!("could not write {}", path.display())))?;
    Ok(Running { path, _claim: claim })
}

impl Running {
    /// The transfer ended with `result`: its record goes, unless running it
    /// again may finish it (interrupted, the network, the disk).
    pub(crate) fn end<T>(self, result: &anyhow::Result<T>) {
        if ended(result) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// True when a transfer that gave `result` is over: done, or failed in a
/// way running it again cannot change.
fn ended<T>(result: &anyhow::Result<T>) -> bool {
    match result {
        Ok(_) => true,
        Err(e) => Error::any_in(e, |e| {
            matches!(
                e,
                Error::RemoteSnapshotTaken { .. }
                    | Error::RemoteDamaged { .. }
                    | Error::RemoteRefused { .. }
                    | Error::RemoteSnapshotNotFound { .. }
                    | Error::RemoteNotFound { .. }
            ) || e.is_not_found()
        }),
    }
}

/// What finishing a transfer gave.
pub(crate) enum Finished {
    Pushed(RemoteSnapshot, TransferFigures),
    /// The local copy, the figures, and whether it was here already.
    Pulled(Box<Snapshot>, TransferFigures, bool),
}

/// Finish the interrupted transfer `t` (`db resume`): the same push or
/// pull again, which skips what was done.
pub(crate) fn resume(
    home: &Home,
    config: &Config,
    t: &Transfer,
    progress: &mut dyn Progress,
) -> anyhow::Result<Finished> {
    let result = match t {
        Transfer::Push { snapshot, remote, .. } => SnapshotAddress::parse(snapshot)
            .map_err(|e| anyhow::Error::from(Error::from(e)))
            .and_then(|snapshot| {
                let opts = PushOptions { snapshot, remote: Some(remote.clone()), ttl: t.ttl() };
                super::push(home, config, &opts, progress)
            })
            .map(|(s, f)| Finished::Pushed(s, f)),
        Transfer::Pull { snapshot } => RemoteSnapshotAddress::parse(snapshot)
            .map_err(|e| anyhow::Error::from(Error::from(e)))
            .and_then(|snapshot| super::pull(home, config, &PullOptions { snapshot, schema_only: false }, progress))
            .map(|(s, f, here)| Finished::Pulled(Box::new(s), f, here)),
    };
    // A remote removed from config.toml since, say: nothing to come back to.
    if ended(&result) {
        let _ = std::fs::remove_file(dir(home).join(format!("{}.json", t.id())));
    }
    result
}

/// The interrupted transfers: recorded, and run by no process now. Oldest
/// first.
pub(crate) fn interrupted(home: &Home) -> Vec<Transfer> {
    let Ok(entries) = std::fs::read_dir(dir(home)) else { return Vec::new() };
    let mut found: Vec<(std::time::SystemTime, Transfer)> = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let Some(t) = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Transfer>(&b).ok()) else {
            continue;
        };
        if is_claimed(home, &t.id()) {
            continue;
        }
        let when = e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
        found.push((when, t));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.address().cmp(b.1.address())));
    found.into_iter().map(|(_, t)| t).collect()
}

/// The interrupted transfer of `address` (as `db resume` takes it), if any.
pub(crate) fn find(home: &Home, address: &str) -> Option<Transfer> {
    interrupted(home).into_iter().find(|t| t.address() == address)
}
