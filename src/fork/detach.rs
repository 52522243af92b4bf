//! `db fork --detach`: the fork is registered and its file started here,
//! then a background `sqlfork db resume --background` copies the data.
//!
//! The hand-over: the child inherits the claim's locked descriptor
//! (`SQLFORK_CLAIM_FD`), so the claim is held without a gap and no other
//! process sees the fork unclaimed. This process keeps its own read of the
//! source (for a WAL source, the snapshot) until the child says `ready` on
//! its stdout — which it does once it reads the source at that same
//! snapshot (`resume::resume_in_background`) — so no checkpoint can pass
//! the snapshot in between.

use super::build::Job;
use super::method;
use super::source::SourceSession;
use super::state::CopyState;
use crate::claim::Claim;
use crate::registry::{Entry, Store};
use anyhow::Context;
use std::io::BufRead;

/// The line the background copy prints once it has taken over.
pub(crate) const READY: &str = "ready";

impl Job<'_> {
    /// Put what the method needs in place, then hand the claim to a
    /// background `sqlfork db resume` and return the entry (provisioning).
    pub(super) fn detach(
        &self,
        session: SourceSession,
        state: CopyState,
        claim: &mut Option<Claim>,
    ) -> anyhow::Result<Entry> {
        method(state.method).before_detach(self, &session)?;
        state.save(self.home, &self.entry.id)?;
        let exe = std::env::current_exe().context("could not find the sqlfork executable to run the copy")?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("--home")
            .arg(self.home.root())
            .args(["--quiet", "db", "resume", "--background"])
            .arg(self.entry.address().to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            // Its own process group: a Ctrl-C on this terminal does not stop it.
            cmd.process_group(0);
            // It inherits the claim's locked descriptor, so the claim is held
            // throughout the hand-over: no other process sees the fork
            // unclaimed (interrupted) and takes it up.
            if let Some(fd) = claim.as_ref().and_then(Claim::raw_fd) {
                cmd.env(crate::env::SQLFORK_CLAIM_FD, fd.to_string());
                // SAFETY: fcntl is async-signal-safe; it only clears
                // close-on-exec on the child's copy of the descriptor, which
                // is open for the whole call.
                unsafe {
                    cmd.pre_exec(move || {
                        let fd = std::os::fd::BorrowedFd::borrow_raw(fd);
                        Ok(rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?)
                    });
                }
            }
        }
        let mut child = cmd.spawn().context("could not start the background copy")?;
        // The child holds the claim through the inherited descriptor. (On an
        // error before this point the caller still holds the claim while it
        // discards the fork.)
        if let Some(claim) = claim.take() {
            claim.hand_over();
        }
        // Hold the source until the child is ready (or has ended: then
        // `db wait` reports what happened).
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        drop(session);
        Ok(Store::open(self.home)?.by_id(&self.entry.id)?.unwrap_or_else(|| self.entry.clone()))
    }
}
