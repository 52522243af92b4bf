//! Running on a pseudo-terminal (`openpty`), as in an interactive shell:
//! stdout and stderr are the terminal, stdin is `/dev/null`. No outside
//! tool is needed, so a terminal test never has a reason to skip.

use super::env::Cmd;
use std::io::Read;
use std::os::fd::FromRawFd;

impl Cmd {
    /// Run with stdout and stderr on a fresh pseudo-terminal; assert
    /// success and return what the terminal showed. The environment is the
    /// builder's: remove `NO_COLOR` with [`Cmd::env_remove`] for colours,
    /// set `TERM` with [`Cmd::env`] for a terminal indicatif draws on.
    pub fn tty(self) -> String {
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two fresh descriptors into the out-pointers.
        let rc =
            unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
        assert_eq!(rc, 0, "openpty failed: {}", std::io::Error::last_os_error());
        // SAFETY: the descriptors were just created and are owned here.
        let (mut master, slave) = unsafe { (std::fs::File::from_raw_fd(master), std::fs::File::from_raw_fd(slave)) };
        let mut cmd = self.command();
        cmd.stdout(slave.try_clone().expect("dup the pty")).stderr(slave);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start `{}` on a pty: {e}", self.line()));
        // Our copies of the slave side go with the command, so the reader
        // sees the end (EIO) once the child has exited.
        drop(cmd);
        // Read while it runs: a full pty buffer would block the child.
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match master.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
            out
        });
        let status = child.wait().expect("wait");
        let text = String::from_utf8_lossy(&reader.join().expect("pty reader")).into_owned();
        assert!(
            status.success(),
            "`{}` on a tty failed ({status}), cwd {}:\n{text}",
            self.line(),
            self.cwd().display()
        );
        text
    }
}
