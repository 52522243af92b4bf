//! Locks: the advisory file lock every other lock is made of, and a
//! database's build claim.
//!
//! A [`FileLock`] is an exclusive `flock` on a file, released when dropped
//! and by the kernel when the process dies. The registry lock is one; the
//! build claim on a database id is another.
//!
//! A [`Claim`] is held by the one process that builds, resumes, resets or
//! deletes a database: other processes see it taken and wait, skip or
//! refuse. A killed process's claim is released by the kernel, so its fork
//! can be resumed. The claim file (`databases/<id>.lock`) is removed when the
//! claim is released, while it is still locked; a process that opened that
//! file just before locks a file nobody else can see, so a lock only counts
//! while the path still names the locked file ([`FileLock::is_current`]).

use crate::error::Error;
use crate::home::Home;
use crate::layout;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An exclusive advisory lock on a file, released when dropped (and by the
/// kernel when the process dies).
#[derive(Debug)]
pub(crate) struct FileLock {
    file: File,
}

impl FileLock {
    fn open(path: &Path) -> std::io::Result<File> {
        OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)
    }

    /// Take the lock without waiting; `None` when another process holds it.
    pub(crate) fn try_acquire(path: &Path) -> anyhow::Result<Option<FileLock>> {
        let file = Self::open(path).map_err(|e| match e.raw_os_error() {
            // A read-only home (a read-only mount, a directory the user
            // may not write): say which and what to do, in one sentence.
            Some(libc::EROFS) | Some(libc::EACCES) | Some(libc::EPERM) => anyhow::Error::from(Error::failed(format!(
                "could not write to {} ({e}): the sqlfork home must be writable; pass --home DIR or set SQLFORK_HOME to a writable directory",
                path.parent().unwrap_or(path).display()
            ))),
            _ => anyhow::Error::from(e).context(format!("could not open lock file {}", path.display())),
        })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(anyhow::anyhow!("could not lock {}: {e}", path.display())),
        }
    }

    /// Wait up to `timeout` for the lock.
    pub(crate) fn acquire(path: &Path, timeout: Duration, what: &str) -> anyhow::Result<FileLock> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            if let Some(lock) = Self::try_acquire(path)? {
                return Ok(lock);
            }
            if start.elapsed() >= timeout {
                return Err(Error::LockTimeout { what: what.to_string(), waited: timeout }.into());
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// True when `path` still names the file this lock is held on. A lock
    /// taken on a file that another process removed (and perhaps created
    /// anew) in the meantime protects nothing; callers that wait for a lock
    /// check this and take it again.
    pub(crate) fn is_current(&self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (self.file.metadata(), fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
}

impl FileLock {
    /// Close this descriptor without unlocking: a process that inherited a
    /// copy of it keeps the lock (flock belongs to the open file, which
    /// lives while any descriptor refers to it).
    fn close_keeping_lock(self) {
        let me = std::mem::ManuallyDrop::new(self);
        // SAFETY: `me` is never used or dropped again; the file is moved
        // out exactly once and closed here.
        drop(unsafe { std::ptr::read(&me.file) });
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// How long [`Claim::take`] keeps trying a claim that is taken. A process
/// building, resetting or deleting a database holds its claim for much
/// longer; a process that only looks ([`is_claimed`], for `db show`,
/// `db wait`, `db resume`) holds it for microseconds, which must not make
/// anyone fail.
pub(crate) const CLAIM_GRACE: Duration = Duration::from_millis(100);

/// The right to build, resume, reset or delete the database with one id.
/// Released when dropped: its file is removed first, then unlocked.
#[derive(Debug)]
pub(crate) struct Claim {
    path: PathBuf,
    /// `None` once handed over (the file stays).
    lock: Option<FileLock>,
}

impl Claim {
    /// Claim `id`, waiting [`CLAIM_GRACE`] at most for a process that only
    /// looks. `None` when another process holds it.
    pub(crate) fn take(home: &Home, id: &str) -> anyhow::Result<Option<Claim>> {
        poll(Instant::now() + CLAIM_GRACE, Duration::from_millis(5), || Self::take_now(home, id))
    }

    /// [`Claim::take`] without waiting at all.
    pub(crate) fn take_now(home: &Home, id: &str) -> anyhow::Result<Option<Claim>> {
        home.ensure()?;
        let path = layout::claim_file(home, id);
        loop {
            match FileLock::try_acquire(&path)? {
                Some(lock) if lock.is_current(&path) => {
                    // Record who holds it, for `db show` and `db cancel`.
                    let _ = fs::write(&path, format!("{}\n", std::process::id()));
                    return Ok(Some(Claim { path, lock: Some(lock) }));
                }
                // The file was removed meanwhile: take the one that is there now.
                Some(_) => continue,
                None => return Ok(None),
            }
        }
    }

    /// Wait until `deadline` for the claim on `id` (held by a process
    /// building, resetting or deleting it). `None` when the deadline passed.
    pub(crate) fn wait(home: &Home, id: &str, deadline: Instant) -> anyhow::Result<Option<Claim>> {
        poll(deadline, Duration::from_millis(20), || Self::take(home, id))
    }

    /// The locked file's descriptor, for a child process to inherit so that
    /// it holds the claim from the moment it starts ([`Claim::adopt`]).
    pub(crate) fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.lock.as_ref().map(|l| l.file.as_raw_fd())
    }

    /// Let go without removing the file or unlocking it: the background copy
    /// of `db fork --detach` inherited the descriptor and holds the claim
    /// now (had it not, closing the last descriptor releases the lock).
    pub(crate) fn hand_over(mut self) {
        if let Some(lock) = self.lock.take() {
            lock.close_keeping_lock();
        }
    }

    /// Adopt the claim on `id` through a descriptor inherited from the
    /// process that held it ([`Claim::raw_fd`], [`Claim::hand_over`]): the
    /// lock was never let go, so no other process could take the fork up in
    /// between. `None` when the descriptor is not that claim.
    pub(crate) fn adopt(home: &Home, id: &str, fd: std::os::fd::RawFd) -> Option<Claim> {
        use std::os::fd::FromRawFd;
        // SAFETY: the descriptor was inherited for this and is taken once
        // (`env::take_claim_fd`); nothing else in this process owns it.
        let lock = FileLock { file: unsafe { File::from_raw_fd(fd) } };
        let path = layout::claim_file(home, id);
        // Locking an open file this process already holds the lock of
        // succeeds at once.
        if !lock.is_current(&path) || lock.file.try_lock().is_err() {
            return None;
        }
        // Record who holds it now, for `db show` and `db cancel`.
        let _ = fs::write(&path, format!("{}\n", std::process::id()));
        Some(Claim { path, lock: Some(lock) })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            // Removed while still locked: a process waiting on it notices
            // (`FileLock::is_current`) and takes a fresh one.
            if lock.is_current(&self.path) {
                let _ = fs::remove_file(&self.path);
            }
            drop(lock);
        }
    }
}

/// Try `attempt` every `pause` until it gives a claim or `deadline` passes.
fn poll(
    deadline: Instant,
    pause: Duration,
    mut attempt: impl FnMut() -> anyhow::Result<Option<Claim>>,
) -> anyhow::Result<Option<Claim>> {
    loop {
        if let Some(claim) = attempt()? {
            return Ok(Some(claim));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(pause);
    }
}

/// True when a live process holds the build claim on `id`.
///
/// It only looks: the claim file is never created here (a probe racing
/// with a finished or discarded fork would leave it behind). flock cannot
/// test a lock without taking it, so this holds the claim for a moment;
/// [`Claim::take`] allows for that.
pub(crate) fn is_claimed(home: &Home, id: &str) -> bool {
    let Ok(file) = OpenOptions::new().read(true).write(true).open(layout::claim_file(home, id)) else {
        return false;
    };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// The pid of the process holding the build claim on `id`, while one
/// does (each holder writes its pid into the claim file when it takes it).
pub(crate) fn holder(home: &Home, id: &str) -> Option<u32> {
    if !is_claimed(home, id) {
        return None;
    }
    fs::read_to_string(layout::claim_file(home, id)).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_held_for_a_moment_is_waited_for() {
        let (_dir, home) = crate::home::temporary_home();
        let id = "0123456789abcdef0123456789abcdef".to_string();
        // Another process looking (`is_claimed`) holds the claim briefly:
        // a raw lock on the file, as `is_claimed` takes it.
        let probe = Claim::take_now(&home, &id).unwrap().unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            probe.hand_over();
        });
        assert!(Claim::take(&home, &id).unwrap().is_some(), "a look must not make a claim fail");
        t.join().unwrap();
        // A claim held for longer is reported taken.
        let held = Claim::take(&home, &id).unwrap().unwrap();
        let t = Instant::now();
        assert!(Claim::take(&home, &id).unwrap().is_none());
        assert!(t.elapsed() >= CLAIM_GRACE);
        assert!(is_claimed(&home, &id));
        drop(held);
        assert!(!layout::claim_file(&home, &id).exists(), "a released claim removes its file");
        assert!(!is_claimed(&home, &id));
    }

    #[test]
    fn a_claim_on_a_removed_claim_file_is_taken_again() {
        let (_dir, home) = crate::home::temporary_home();
        let id = "0123456789abcdef0123456789abcdef".to_string();
        let path = layout::claim_file(&home, &id);
        // Locked by someone who then removed the file (a finished build).
        let stale = FileLock::try_acquire(&path).unwrap().unwrap();
        std::fs::remove_file(&path).unwrap();
        let fresh = Claim::take_now(&home, &id).unwrap().expect("a new claim file can be claimed");
        assert!(fresh.lock.as_ref().unwrap().is_current(&path));
        drop(stale);
    }

    #[test]
    fn a_claim_handed_over_through_its_descriptor_is_never_free() {
        let (_dir, home) = crate::home::temporary_home();
        let id = "0123456789abcdef0123456789abcdef".to_string();
        let claim = Claim::take(&home, &id).unwrap().unwrap();
        // What a child process inherits: another descriptor of the same open file.
        // SAFETY: dup of a descriptor this test owns.
        let inherited = unsafe { libc::dup(claim.raw_fd().unwrap()) };
        assert!(inherited >= 0);
        claim.hand_over();
        assert!(is_claimed(&home, &id), "the lock was never let go");
        assert!(Claim::take_now(&home, &id).unwrap().is_none());
        let adopted = Claim::adopt(&home, &id, inherited).expect("the inherited descriptor is the claim");
        assert!(is_claimed(&home, &id));
        drop(adopted);
        assert!(!is_claimed(&home, &id) && !layout::claim_file(&home, &id).exists());
    }

    #[test]
    fn a_handed_over_claim_keeps_its_file_for_the_next_holder() {
        let (_dir, home) = crate::home::temporary_home();
        let id = "0123456789abcdef0123456789abcdef".to_string();
        Claim::take(&home, &id).unwrap().unwrap().hand_over();
        assert!(layout::claim_file(&home, &id).exists());
        assert!(Claim::take_now(&home, &id).unwrap().is_some());
    }
}
