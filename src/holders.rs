//! Who else has a database file open (SPEC section 18).
//!
//! A reset that renames a new file over a database's path cuts off every
//! process that still has the old file open: its later writes go into an
//! unlinked inode and are lost without a word. Before such a replace,
//! [`find`] looks for those processes two ways:
//!
//! - Linux `/proc/*/fd`: every process (that this one may look at) with an
//!   open descriptor on the file or its `-wal` / `-shm`, by pid and command;
//! - SQLite's own locks (`fcntl(F_GETLK)` on the lock bytes of the file and
//!   of its `-shm`): catches a connection whose process `/proc` does not
//!   show (another pid namespace, another user). A connection in WAL mode
//!   holds a read lock on the `-shm` for as long as it is open; one in
//!   rollback mode only while it is in a transaction.
//!
//! Neither this process (it has no connection of its own open on the file
//! when it asks) nor, from the sqlfork binary, another sqlfork process
//! (which only reads a database it is not building) is counted. The answer is a moment's: a process can
//! open the file right after; the reset asks again just before its rename.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// What a reset does when other processes have the database open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenOpen {
    /// Refuse, naming them ([`crate::Error::OpenElsewhere`], exit 4).
    #[default]
    Refuse,
    /// Rename the new file over the old one anyway (`--force`): they keep
    /// the old, unlinked file, and whatever they write next is lost.
    Force,
    /// Write the new state into the same file through SQLite's backup API,
    /// under SQLite's locks (`--in-place`): open connections see it at
    /// their next transaction, and what they write after it is kept.
    InPlace,
}

/// A process that has a database file open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its pid, when known (a SQLite lock from another pid namespace has none).
    pub pid: Option<u32>,
    /// Its command line (or `/proc/PID/comm`); empty when unknown.
    pub command: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pid, self.command.is_empty()) {
            (Some(pid), false) => write!(f, "pid {pid} ({})", self.command),
            (Some(pid), true) => write!(f, "pid {pid}"),
            (None, _) => f.write_str("a process this one cannot see (it holds a SQLite lock on the file)"),
        }
    }
}

/// The processes other than this one that have `path` (or its `-wal` or
/// `-shm`) open, sorted by pid; empty when none.
pub(crate) fn find(path: &Path) -> Vec<Holder> {
    let files = [path.to_path_buf(), side(path, "-wal"), side(path, "-shm")];
    let targets: Vec<PathBuf> = files.iter().map(|p| p.canonicalize().unwrap_or_else(|_| p.clone())).collect();
    let me = std::process::id();
    let mut pids = by_descriptor(&targets, me);
    // Closing a descriptor drops every POSIX lock this process holds on the
    // file: when this process has it open itself (a program using the
    // library, with a connection of its own), the locks are not probed.
    if !open_here(&targets) {
        pids.extend(by_lock(path, me));
    }
    pids.sort_unstable();
    pids.dedup();
    // Other sqlfork processes only read a database they do not build (a
    // fork of it, a diff, a snapshot), and a reader keeps its consistent
    // view of the old file: not an application to protect.
    // (Only when this is the sqlfork binary: a program using the library
    // may well run twice, as an application.)
    let own = std::fs::read_link("/proc/self/exe")
        .ok()
        .filter(|e| e.file_name().is_some_and(|n| n.to_string_lossy().starts_with("sqlfork")));
    pids.retain(|p| p.is_none_or(|p| own.is_none() || std::fs::read_link(format!("/proc/{p}/exe")).ok() != own));
    let mut out: Vec<Holder> = pids
        .into_iter()
        .map(|pid| match pid {
            Some(p) => Holder { pid: Some(p), command: command(p) },
            None => unseen(),
        })
        .collect();
    // A lock without a pid says nothing a pid did not say already.
    if out.iter().any(|h| h.pid.is_some()) {
        out.retain(|h| h.pid.is_some());
    }
    out
}

fn unseen() -> Holder {
    Holder { pid: None, command: String::new() }
}

fn side(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// True when this process has a descriptor on one of `targets`.
fn open_here(targets: &[PathBuf]) -> bool {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else { return true };
    fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| targets.contains(&t)))
}

/// Pids with a descriptor on one of `targets`.
fn by_descriptor(targets: &[PathBuf], me: u32) -> Vec<Option<u32>> {
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else { return out };
    for p in procs.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else { continue };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else { continue };
        if fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| targets.contains(&t))) {
            out.push(Some(pid));
        }
    }
    out
}

/// SQLite's lock bytes: the database file's (pending, reserved and the
/// shared range) and the `-shm`'s (its eight locks and the
/// dead-man-switch byte every WAL connection holds a read lock on).
const DB_LOCKS: (i64, i64) = (0x4000_0000, 2 + 510);
const SHM_LOCKS: (i64, i64) = (120, 9);

/// Holders of a SQLite lock on the file or its `-shm`, by the pid the
/// kernel reports (`None`: a process outside this pid namespace).
fn by_lock(path: &Path, me: u32) -> Vec<Option<u32>> {
    let mut out = Vec::new();
    for (file, (start, len)) in [(path.to_path_buf(), DB_LOCKS), (side(path, "-shm"), SHM_LOCKS)] {
        // Read-only: opening never creates, and F_GETLK for a write lock
        // needs no write access. (Closing it drops this process's own POSIX
        // locks on the file: `find` asks only when it has none open.)
        let Ok(f) = File::open(&file) else { continue };
        if let Some(pid) = lock_holder(&f, start, len) {
            if pid != Some(me) {
                out.push(pid);
            }
        }
    }
    out
}

/// `Some(pid)` when another process holds a lock that a write lock on
/// `start..start+len` would conflict with.
fn lock_holder(f: &File, start: i64, len: i64) -> Option<Option<u32>> {
    // SAFETY: a zeroed flock is a valid value; fcntl(F_GETLK) only writes
    // into the struct we pass, which lives across the call.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = start as libc::off_t;
    fl.l_len = len as libc::off_t;
    // SAFETY: see above; the descriptor is open for the whole call.
    let rc = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETLK, &mut fl) };
    if rc != 0 || fl.l_type == libc::F_UNLCK as libc::c_short {
        return None;
    }
    Some(u32::try_from(fl.l_pid).ok().filter(|p| *p > 0))
}

/// `/proc/PID/cmdline` (arguments joined by spaces, shortened), else
/// `/proc/PID/comm`.
fn command(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> =
        cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    let mut line = args.join(" ");
    if line.is_empty() {
        line = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string();
    }
    if line.chars().count() > 80 {
        line = line.chars().take(77).collect::<String>() + "...";
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_holds_a_file_only_this_process_opened() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t(a); INSERT INTO t VALUES (1);").unwrap();
        assert_eq!(find(&db), vec![], "this process's own connection is not another holder");
    }

    #[test]
    fn a_sqlite_lock_held_by_another_process_is_found_with_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        std::fs::write(&db, b"").unwrap();
        let shm = side(&db, "-shm");
        std::fs::write(&shm, [0u8; 256]).unwrap();
        let c = std::ffi::CString::new(shm.to_str().unwrap()).unwrap();
        let mut pipe = [0i32; 2];
        // SAFETY: pipe(2) fills the two descriptors.
        assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
        // SAFETY: the child calls only async-signal-safe functions (open,
        // fcntl, write, sleep, _exit) on memory prepared before the fork:
        // it takes the read lock a WAL connection holds on the -shm's
        // dead-man-switch byte, says so, and waits to be killed.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe {
                let fd = libc::open(c.as_ptr(), libc::O_RDWR);
                let mut fl: libc::flock = std::mem::zeroed();
                fl.l_type = libc::F_RDLCK as libc::c_short;
                fl.l_whence = libc::SEEK_SET as libc::c_short;
                fl.l_start = 128;
                fl.l_len = 1;
                libc::fcntl(fd, libc::F_SETLK, &fl);
                libc::write(pipe[1], b"x".as_ptr().cast(), 1);
                libc::sleep(30);
                libc::_exit(0);
            }
        }
        let mut byte = [0u8; 1];
        // SAFETY: read(2) into a one-byte buffer; kill/waitpid on our child.
        let found = unsafe {
            libc::read(pipe[0], byte.as_mut_ptr().cast(), 1);
            let found = by_lock(&db, std::process::id());
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            libc::close(pipe[0]);
            libc::close(pipe[1]);
            found
        };
        assert_eq!(found, vec![Some(pid as u32)]);
        assert_eq!(by_lock(&db, std::process::id()), vec![], "gone with its process");
    }

    #[test]
    fn a_child_with_the_file_open_is_found_by_pid_and_command() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        std::fs::write(&db, b"").unwrap();
        // `sleep` with the file open on descriptor 3.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("exec 3<\"$1\"; exec sleep 30")
            .arg("sh")
            .arg(&db)
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let found = loop {
            let f = find(&db);
            if f.iter().any(|h| h.command.starts_with("sleep")) || std::time::Instant::now() > deadline {
                break f;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(found, vec![Holder { pid: Some(pid), command: "sleep 30".into() }]);
        assert_eq!(found[0].to_string(), format!("pid {pid} (sleep 30)"));
    }
}
