//! `--in-place`: the finished copy written into the target's own file
//! through SQLite's backup API, so connections other processes keep open
//! see the new state at their next transaction.

use super::{take_over, Plan};
use crate::error::Error;
use crate::home::Home;
use crate::layout;
use crate::registry::{Entry, Registry};
use crate::ttl;
use rusqlite::{Connection, OpenFlags};
use std::time::{Duration, Instant};

/// `--in-place`: copy the finished copy `temp` into the target's own file
/// through SQLite's backup API, in one write transaction under SQLite's
/// locks (waiting for a writer that holds them), so connections other
/// processes have open see the new state at their next transaction and
/// keep writing into the same file. Then the target's entry takes the
/// copy's figures and the copy goes.
///
/// A crash during the backup leaves the old state (SQLite's journal or WAL
/// rolls it back); one after it and before the registry write leaves the
/// new state with the old figures, and the copy's entry, which the next
/// reset removes.
pub(super) fn write_in_place(
    home: &Home,
    target: &Entry,
    temp: &Entry,
    plan: &Plan,
    deadline: Instant,
) -> anyhow::Result<Entry> {
    let addr = target.address();
    let unchanged = |e: &dyn std::fmt::Display| {
        Error::failed(format!("could not write the new state into {addr} in place ({e}); it is unchanged"))
    };
    let src =
        Connection::open_with_flags(&temp.path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| unchanged(&e))?;
    let mut dst =
        Connection::open_with_flags(&target.path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| unchanged(&e))?;
    dst.busy_timeout(Duration::from_secs(5)).map_err(|e| unchanged(&e))?;
    // EXTRA: in rollback-journal mode the commit point is the journal's
    // deletion, which only EXTRA syncs (under FULL a power cut can bring
    // the journal back, and the next open rolls the reset back). Found by
    // the power-cut suite (`in-place-written`).
    dst.pragma_update(None, "synchronous", "EXTRA").map_err(|e| unchanged(&e))?;
    {
        use rusqlite::backup::{Backup, StepResult};
        let backup = Backup::new(&src, &mut dst).map_err(|e| unchanged(&e))?;
        loop {
            match backup.step(-1) {
                Ok(StepResult::Done) => break,
                Ok(StepResult::More) => {}
                Ok(StepResult::Busy | StepResult::Locked) => {
                    if Instant::now() >= deadline {
                        return Err(Error::Busy { address: addr.clone() }.into());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(_) => {}
                Err(e) => {
                    let e = crate::space::explain(unchanged(&e).into(), &target.path, "the reset", None);
                    return Err(e);
                }
            }
        }
    }
    dst.close().map_err(|(_, e)| unchanged(&e))?;
    drop(src);
    crate::env::test_pause("in-place-written");
    let now = ttl::now();
    let entry = Registry::update(home, |reg| {
        let t = reg.remove_id(&temp.id).unwrap_or_else(|| temp.clone());
        if reg.by_id(&target.id).is_none() {
            return Err(Error::NotFound { address: target.address() }.into());
        }
        Ok(take_over(home, reg, &target.id, t, plan, now))
    })?;
    layout::remove_database_files(&temp.path);
    layout::remove_copy_state(home, &temp.id);
    layout::remove_base_file(home, &temp.id);
    Ok(entry)
}
