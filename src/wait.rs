//! `db wait`: block until a database is healthy, finishing its copy here
//! when no process is copying it. Shared by the CLI, the MCP server and the
//! library.

use crate::address::Address;
use crate::copy::{self, Progress};
use crate::error::Error;
use crate::fork;
use crate::home::{Config, Home};
use crate::ops;
use crate::registry::{Entry, Registry, Status};
use std::time::{Duration, Instant};

/// Wait until `addr` is healthy and return its entry. When no process is
/// copying it, the copy is resumed here (reporting to `progress`); while
/// another process copies it, `on_waiting` is called once and this polls.
/// `progress.cancelled()` is honoured while polling too.
pub fn wait(
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
            let why = std::fs::read_to_string(fork::failure_note(home, &id)).unwrap_or_default();
            let _ = std::fs::remove_file(fork::failure_note(home, &id));
            // A background copy that failed leaves its reason; otherwise the
            // entry was deleted (or a foreground fork of it failed) meanwhile.
            return Err(if why.is_empty() {
                Error::not_found(format!(
                    "{addr} no longer exists: it was deleted, or its fork failed, while this waited; fork it again if you still need it"
                ))
            } else {
                Error::failed(format!("{addr} failed and was removed: {}", why.trim()))
            }
            .into());
        };
        if entry.status == Status::Healthy {
            return Ok(entry);
        }
        if !fork::is_claimed(home, &id) {
            // Nobody is copying it: do it ourselves.
            match fork::resume(home, config, addr, &mut *progress) {
                Ok(out) => return Ok(out.entry),
                Err(e) if fork::is_busy_error(&e, addr) => {}
                // The copier failed and removed it between our two looks:
                // the next look reports why.
                Err(e)
                    if crate::error::exit_code_for(&e) == crate::error::ExitCode::NotFound
                        && Registry::load(home)?.by_id(&id).is_none() => {}
                Err(e) => return Err(e),
            }
        } else if !noted {
            on_waiting();
            noted = true;
        }
        if let Some(t) = timeout {
            if started.elapsed() >= t {
                return Err(Error::timeout(format!(
                    "gave up waiting for {addr} after {}; it is still provisioning (`sqlfork db show {addr}` shows progress)",
                    humantime::format_duration(t)
                ))
                .into());
            }
        }
        if progress.cancelled() {
            return Err(copy::Cancelled.into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
