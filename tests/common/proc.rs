//! Background processes: [`Cmd::spawn`] starts one as a [`Bg`], whose
//! stdout and stderr are read as they come (so a chatty child never blocks
//! on a full pipe, and a test can wait for a line it prints). Kills and
//! signals; [`OpenWatch`] to wait until some process opens a file (say, a
//! claim it is about to wait for) instead of sleeping and hoping.

use super::env::{Cmd, Run};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running `sqlfork` (or shell) started by [`Cmd::spawn`].
pub struct Bg {
    cmd: Cmd,
    child: Child,
    started: Instant,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

fn drain(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

impl Cmd {
    /// Start without waiting; stdout and stderr are collected.
    pub fn spawn(self) -> Bg {
        let mut c = self.command();
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap_or_else(|e| panic!("cannot start `{}`: {e}", self.line()));
        let (stdout, stderr) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let readers = vec![
            drain(child.stdout.take().unwrap(), stdout.clone()),
            drain(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Bg { cmd: self, child, started: Instant::now(), stdout, stderr, readers }
    }
}

impl Bg {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The command line, for messages.
    pub fn line(&self) -> String {
        self.cmd.line()
    }

    /// True while the process has not ended.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// What it has printed on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Wait until stderr shows `needle`; panics (with what it printed) when
    /// the process ends first or `timeout` passes.
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.stderr_so_far().contains(needle) {
            assert!(
                self.running(),
                "`{}` ended before printing {needle:?}; stderr:\n{}",
                self.line(),
                self.stderr_so_far()
            );
            assert!(
                Instant::now() < deadline,
                "`{}` did not print {needle:?} within {timeout:?}; stderr:\n{}",
                self.line(),
                self.stderr_so_far()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Send `signal`; true when the process was still running to get it.
    pub fn signal(&mut self, signal: i32) -> bool {
        if !self.running() {
            return false;
        }
        // SAFETY: kill(2) on our own child, not yet reaped (so its pid
        // cannot have been reused).
        unsafe { libc::kill(self.child.id() as i32, signal) == 0 }
    }

    /// `kill -9` now; true when it was still running.
    pub fn kill(&mut self) -> bool {
        let running = self.signal(libc::SIGKILL);
        self.child.wait().expect("wait");
        running
    }

    /// `kill -9` after `delay` (polling, so one that ends early is reaped
    /// early). True when it was still running, i.e. the kill landed.
    pub fn kill_after(mut self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        loop {
            if !self.running() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(2)));
        }
        self.kill()
    }

    /// Wait for the end; what it did.
    pub fn finish(mut self) -> Run {
        let status = self.child.wait().expect("wait");
        for r in self.readers.drain(..) {
            r.join().expect("output reader");
        }
        let out = std::mem::take(&mut *self.stdout.lock().unwrap());
        let err = std::mem::take(&mut *self.stderr.lock().unwrap());
        Run::from_output(&self.cmd, status, out, err, self.started.elapsed())
    }

    /// [`Bg::finish`], but kill it at `deadline`; the bool says it was
    /// still running then (late).
    pub fn finish_by(mut self, deadline: Instant) -> (Run, bool) {
        while self.running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let late = self.running();
        if late {
            self.kill();
        }
        (self.finish(), late)
    }
}

impl Drop for Bg {
    /// A test that panics mid-way leaves no process running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// How long `f` takes.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

/// Watches one existing file for being opened (inotify `IN_OPEN`): a test
/// that needs another process to have reached the point where it opens a
/// file (a claim it then waits for) waits for that, not for a sleep.
pub struct OpenWatch {
    fd: std::os::fd::OwnedFd,
    path: std::path::PathBuf,
}

impl OpenWatch {
    /// Start watching `path` (it must exist). Opens before this call are
    /// not seen.
    pub fn new(path: &Path) -> Self {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: plain syscalls; the descriptor is owned from here on.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        assert!(fd >= 0, "inotify_init1: {}", std::io::Error::last_os_error());
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        use std::os::fd::AsRawFd;
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), libc::IN_OPEN) };
        assert!(wd >= 0, "inotify_add_watch {}: {}", path.display(), std::io::Error::last_os_error());
        OpenWatch { fd, path: path.to_path_buf() }
    }

    /// Wait until someone opened the file since [`OpenWatch::new`] (or the
    /// last call); panics after `timeout`.
    pub fn wait_opened(&self, timeout: Duration) {
        use std::os::fd::AsRawFd;
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reading into our own buffer from our own descriptor.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                return;
            }
            assert!(Instant::now() < deadline, "nobody opened {} within {timeout:?}", self.path.display());
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
