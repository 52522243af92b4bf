//! A data fork copying in a thread of this process
//! ([`Sqlfork::fork_in_background`](super::Sqlfork::fork_in_background)).

use super::Database;
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
pub(super) type Background<P> = crate::copy::Cancellable<P>;
