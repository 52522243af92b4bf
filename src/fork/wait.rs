//! `db wait`: until a fork is healthy — following another process's copy,
//! or, when nobody is copying it, finishing it here.

use super::resume::resume;
use crate::address::Address;
use crate::claim::is_claimed;
use crate::copy::Progress;
use crate::error::Error;
use crate::home::{Config, Home};
use crate::layout;
use crate::registry::{Entry, Status, Store};
use std::time::{Duration, Instant};

/// Wait until the database at `addr` is healthy and return its entry.
/// While another process copies it, `waiting` is called once; when nobody
/// does, the copy is resumed here (progress to `progress`). Gives up with
/// [`Error::Timeout`] after `timeout`; a fork that vanishes meanwhile is
/// [`Error::BackgroundFailed`] (with the background copy's reason) or
/// [`Error::Gone`].
pub(crate) fn wait(
    home: &Home,
    config: &Config,
    addr: &Address,
    timeout: Option<Duration>,
    progress: &mut dyn Progress,
    waiting: &mut dyn FnMut(),
) -> anyhow::Result<Entry> {
    let started = Instant::now();
    let id = Store::open(home)?.require(addr)?.id;
    let mut noted = false;
    loop {
        let Some(entry) = Store::open(home)?.by_id(&id)? else {
            return Err(vanished(home, &id, addr).into());
        };
        if entry.status == Status::Healthy {
            crate::registry::sync_found(home, &[&entry.path])?;
            return Ok(entry);
        }
        if !is_claimed(home, &id) {
            // Nobody is copying it: do it here.
            match resume(home, config, addr, progress) {
                Ok(out) => return Ok(out.entry),
                Err(e) if Error::any_in(&e, |e| matches!(e, Error::Busy { address } if address == addr)) => {}
                // The copier failed and removed it between our two looks:
                // the next look reports why.
                Err(e)
                    if Error::any_in(&e, |e| matches!(e, Error::NotFound { .. }))
                        && Store::open(home)?.by_id(&id)?.is_none() => {}
                Err(e) => return Err(e),
            }
        } else if !noted {
            waiting();
            noted = true;
        }
        if let Some(t) = timeout {
            if started.elapsed() >= t {
                return Err(Error::Timeout { address: addr.clone(), waited: t }.into());
            }
        }
        // The caller gave up (an MCP client cancelled, a library caller
        // stopped its background copy): stop following.
        if progress.interrupted() {
            return Err(crate::copy::interrupted());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Why the fork with `id` is gone: a background copy that failed left its
/// reason in a note (read once, then removed); otherwise the entry was
/// deleted, or a foreground fork of it failed, meanwhile.
fn vanished(home: &Home, id: &str, addr: &Address) -> Error {
    let note = layout::failure_note(home, id);
    let why = std::fs::read_to_string(&note).unwrap_or_default();
    let _ = std::fs::remove_file(&note);
    if why.is_empty() {
        Error::Gone { address: addr.clone() }
    } else {
        Error::BackgroundFailed { address: addr.clone(), reason: why.trim().to_string() }
    }
}
