//! Stopping a fork that is being built: `db cancel` and `db delete --force`.
//!
//! Every process that builds, resets or deletes a database holds its claim
//! (an advisory lock the kernel drops when the process dies) and writes its
//! pid into the claim file. Stopping a build is: send that process SIGTERM,
//! then SIGKILL after a short grace, until the claim can be taken; then
//! remove the half-made fork and its entry while holding the claim, so no
//! `db wait` or `db resume` takes it up in between.

use crate::address::Address;
use crate::claim::{self, Claim};
use crate::error::Error;
use crate::home::Home;
use crate::ops;
use crate::registry::{Entry, Registry, Snapshot, Status};
use std::time::{Duration, Instant};

/// How long a copier gets to stop after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long stopping may take in all before it gives up.
const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// What `cancel` did.
#[derive(Debug, Clone)]
pub(crate) struct Cancelled {
    /// The removed entry.
    pub entry: Entry,
    /// The process that was building it and was stopped, if one was.
    pub stopped: Option<u32>,
    /// The database's snapshots, deleted with it.
    pub snapshots: Vec<Snapshot>,
}

/// `db cancel`: stop the process building `addr` (a provisioning fork) and
/// remove the half-made fork. A fork whose copy was interrupted (nobody is
/// building it) is removed too. A healthy database is refused: it is not
/// being built (`db delete` removes it).
pub(crate) fn cancel(home: &Home, addr: &Address) -> anyhow::Result<Cancelled> {
    let entry = Registry::load(home)?.require(addr)?.clone();
    if entry.status == Status::Healthy {
        return Err(Error::NotBeingBuilt { address: addr.clone() }.into());
    }
    let (claim, stopped) = stop_holder(home, &entry)?;
    let (entry, snapshots) = ops::delete_with(home, addr, Some(claim))?;
    Ok(Cancelled { entry, stopped, snapshots })
}

/// `db delete --force` of a database sqlfork owns: stop whatever sqlfork
/// process is building, resetting or deleting it, then delete it.
pub(crate) fn delete_stopping(home: &Home, entry: &Entry) -> anyhow::Result<Cancelled> {
    let (claim, stopped) = stop_holder(home, entry)?;
    let (entry, snapshots) = ops::delete_with(home, &entry.address(), Some(claim))?;
    Ok(Cancelled { entry, stopped, snapshots })
}

/// Take the claim on `entry`, stopping whatever sqlfork process holds it.
/// Returns the claim and the pid that was stopped.
fn stop_holder(home: &Home, entry: &Entry) -> anyhow::Result<(Claim, Option<u32>)> {
    let addr = entry.address();
    let start = Instant::now();
    let mut stopped = None;
    // (pid, when it got SIGTERM, whether it got SIGKILL)
    let mut signalled: Option<(u32, Instant, bool)> = None;
    loop {
        if let Some(claim) = Claim::take(home, &entry.id)? {
            return Ok((claim, stopped));
        }
        if let Some(pid) = claim::holder(home, &entry.id).filter(|p| *p != std::process::id()) {
            match signalled {
                Some((p, at, killed)) if p == pid => {
                    if !killed && at.elapsed() >= TERM_GRACE {
                        signal(pid, rustix::process::Signal::KILL);
                        signalled = Some((p, at, true));
                    }
                }
                // A new holder (another process took the copy up meanwhile).
                _ => {
                    if is_sqlfork(pid) {
                        signal(pid, rustix::process::Signal::TERM);
                        stopped = Some(pid);
                    }
                    signalled = Some((pid, Instant::now(), false));
                }
            }
        }
        if start.elapsed() >= STOP_DEADLINE {
            let who = stopped.map(|p| format!(" (pid {p})")).unwrap_or_default();
            return Err(Error::failed(format!(
                "could not stop the sqlfork process{who} building {addr}; stop it by hand and run the command again"
            ))
            .into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Send `sig` to `pid`, read from the claim file and checked to be a live
/// sqlfork process holding the claim.
fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// True when `pid` runs the sqlfork executable (a guard against a pid that
/// was reused): same executable name as this process. Where `/proc` cannot
/// tell, the claim file's word is taken.
fn is_sqlfork(pid: u32) -> bool {
    let name = |p: std::path::PathBuf| {
        p.file_name().map(|n| n.to_string_lossy().trim_end_matches(" (deleted)").to_string()).unwrap_or_default()
    };
    match (std::fs::read_link(format!("/proc/{pid}/exe")), std::env::current_exe()) {
        (Ok(theirs), Ok(ours)) => name(theirs) == name(ours),
        _ => true,
    }
}
