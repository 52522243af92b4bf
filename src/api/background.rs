//! A data fork copying in a thread of this process
//! ([`Sqlfork::fork_in_background`](super::Sqlfork::fork_in_background)).

use super::Database;
use crate::copy::Progress;
use crate::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A data fork copying in a thread of this process
/// ([`Sqlfork::fork_in_background`](crate::Sqlfork::fork_in_background)).
#[derive(Debug)]
pub struct BackgroundFork {
    pub(super) database: Database,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) thread: Option<std::thread::JoinHandle<Result<Database, Error>>>,
    /// Set when the fork was done before the call returned.
    pub(super) done: Option<Database>,
}

impl BackgroundFork {
    /// The fork as it was when the copy began (status provisioning, its
    /// path already known).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// True once the copy has ended (successfully or not).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Ask the copy to stop at its next committed page. The fork stays
    /// provisioning; [`Sqlfork::resume`](crate::Sqlfork::resume) finishes it later. `join` then
    /// returns [`Error::Interrupted`].
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Wait for the copy to end and return the healthy fork.
    pub fn join(mut self) -> Result<Database, Error> {
        if let Some(db) = self.done.take() {
            return Ok(db);
        }
        let address = self.database.address.clone();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            _ => Err(Error::failed(format!("the copy into {address} stopped unexpectedly"))),
        }
    }
}

/// The progress of a background copy: says when the copy has begun,
/// forwards everything to the caller's sink, and carries cancellation.
pub(super) struct Background<P> {
    pub(super) inner: P,
    pub(super) started: Option<std::sync::mpsc::Sender<()>>,
    pub(super) cancel: Arc<AtomicBool>,
}

impl<P: Progress> Progress for Background<P> {
    fn start(&mut self, total: u64, done: u64) {
        self.inner.start(total, done);
        if let Some(tx) = self.started.take() {
            let _ = tx.send(());
        }
    }
    fn table(&mut self, name: &str) {
        self.inner.table(name);
    }
    fn advance(&mut self, n: u64) {
        self.inner.advance(n);
    }
    fn finish(&mut self) {
        self.inner.finish();
    }
    fn unit(&mut self, unit: &'static str) {
        self.inner.unit(unit);
    }
    fn interrupted(&mut self) -> bool {
        self.cancel.load(Ordering::SeqCst) || self.inner.interrupted()
    }
}
