//! A slot's lease: the process it belongs to (`Holder`: pid and start time
//! from `/proc/PID/stat`), the lease file (`LeaseState`), read and written
//! atomically under the pool's lock (`pools/<base id>.lock`).

use crate::claim::FileLock;
use crate::error::Error;
use crate::home::Home;
use crate::layout;
use crate::registry::Entry;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// How long the pool's lock is waited for (it is held for milliseconds).
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The process a lease belongs to: its pid and start time (clock ticks
/// since boot, field 22 of `/proc/PID/stat`), so a reused pid is told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Holder {
    pub pid: u32,
    pub start: u64,
}

impl Holder {
    /// The process `pid`, as it is now; `None` when there is none.
    pub(crate) fn of(pid: u32) -> Option<Holder> {
        start_time(pid).map(|start| Holder { pid, start })
    }

    /// True while this very process runs (the pid not reused since).
    pub(crate) fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}

/// Field 22 of `/proc/PID/stat` (the process's start time), or `None` when
/// no such process exists (or it is a zombie: dead, not yet reaped).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold anything.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // Field 3 is the state.
    if fields.next()? == "Z" {
        return None;
    }
    // Fields 4..=21 follow; 22 is the 19th after the state.
    fields.nth(18)?.parse().ok()
}

/// One slot's lease file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LeaseState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) holder: Option<Holder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) leased_at: Option<String>,
    /// Handed out since its last reset: the next lease resets it.
    #[serde(default)]
    pub(super) dirty: bool,
}

fn pool_dir(home: &Home) -> PathBuf {
    layout::pools_dir(home)
}

pub(super) fn ensure_dir(home: &Home) -> anyhow::Result<()> {
    home.ensure()?;
    let dir = pool_dir(home);
    if !dir.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::failed(format!("could not create {}: {e}", dir.display())))?;
    }
    Ok(())
}

pub(super) fn lock(home: &Home, base: &Entry) -> anyhow::Result<FileLock> {
    ensure_dir(home)?;
    FileLock::acquire(&layout::pool_lock_file(home, &base.id), LOCK_WAIT, "the pool's lock")
}

pub(super) fn read_state(home: &Home, slot_id: &str) -> LeaseState {
    std::fs::read(layout::lease_file(home, slot_id))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        // A missing file is a slot never leased; an unreadable one (cut
        // before its first sync) is treated as dirty, to be safe.
        .unwrap_or_else(|| LeaseState { dirty: layout::lease_file(home, slot_id).exists(), ..LeaseState::default() })
}

/// Replace a slot's lease file atomically and durably (the dirty mark
/// must survive a power cut: the slot's writes may).
pub(super) fn write_state(home: &Home, slot_id: &str, state: &LeaseState) -> anyhow::Result<()> {
    use std::io::Write;
    let path = layout::lease_file(home, slot_id);
    let tmp = path.with_extension("lease.tmp");
    let mut f = layout::create_private_file(&tmp)?;
    f.write_all(&serde_json::to_vec(state)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    layout::sync_dir(&pool_dir(home))?;
    Ok(())
}

/// The holder for process `pid`, which must be running.
pub(crate) fn holder_for(pid: u32) -> Result<Holder, Error> {
    Holder::of(pid).ok_or(Error::NoSuchProcess { pid })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_this_process_and_a_reused_pid_is_not() {
        let me = Holder::of(std::process::id()).unwrap();
        assert!(me.alive());
        assert!(!Holder { start: me.start + 1, ..me }.alive());
        assert!(Holder::of(u32::MAX).is_none());
    }
}
