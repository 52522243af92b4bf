//! `db wait`: block until a database is healthy, finishing its copy here
//! when no process is copying it. Shared by the CLI, the MCP server and the
//! library.

use crate::address::Address;
use crate::copy::Progress;
use crate::error::Error;
use crate::fork;
use crate::home::{Config, Home};
use crate::ops;
use crate::registry::{Entry, Registry, Status};
use std::time::{Duration, Instant};

/// Wait until `addr` is healthy and return its entry. When no process is
/// copying it, the copy is resumed here (reporting to `progress`); while
/// another process copies it, `on_waiting` is called once and this polls.
/// `progress.interrupted()` is honoured while polling too.
pub(crate) fn wait(
    home: &Home,
    config: &Config,
    addr: &Address,
    timeout: Option<Duration>,
    progress: &mut dyn Progress,
    on_waiting: &mut dyn FnMut(),
) -> anyhow::Result<Entry> {
    let started = Instant::now();
    let id = ops::get(home, addr)?.id;
    let mut noted = false;
    loop {
        let entry = Registry::load(home)?.by_id(&id).cloned();
        let Some(entry) = entry else {
            let why = std::fs::read_to_string(crate::layout::failure_note(home, &id)).unwrap_or_default();
            let _ = std::fs::remove_file(crate::layout::failure_note(home, &id));
            // A background copy that failed leaves its reason; otherwise the
            // entry was deleted (or a foreground fork of it failed) meanwhile.
            return Err(if why.is_empty() {
                Error::Gone { address: addr.clone() }
            } else {
                Error::BackgroundFailed { address: addr.clone(), reason: why.trim().to_string() }
            }
            .into());
        };
        if entry.status == Status::Healthy {
            return Ok(entry);
        }
        if !crate::claim::is_claimed(home, &id) {
            // Nobody is copying it: do it ourselves.
            match fork::resume(home, config, addr, &mut *progress) {
                Ok(out) => return Ok(out.entry),
                Err(e) if Error::any_in(&e, |e| matches!(e, Error::Busy { address } if address == addr)) => {}
                // The copier failed and removed it between our two looks:
                // the next look reports why.
                Err(e)
                    if Error::any_in(&e, |e| matches!(e, Error::NotFound { .. }))
                        && Registry::load(home)?.by_id(&id).is_none() => {}
                Err(e) => return Err(e),
            }
        } else if !noted {
            on_waiting();
            noted = true;
        }
        if let Some(t) = timeout {
            if started.elapsed() >= t {
                return Err(Error::Timeout { address: addr.clone(), waited: t }.into());
            }
        }
        if progress.interrupted() {
            return Err(crate::copy::interrupted());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
