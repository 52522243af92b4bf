//! Copy-on-write and power-cut file systems for tests: an XFS (reflink) or
//! btrfs file system made in a sparse image file and loop-mounted under a
//! temporary directory. The guard unmounts (which also detaches the loop
//! device: `mount -o loop` sets autoclear) and deletes the image on drop, so
//! a failing test leaves nothing mounted.
//!
//! Needs root, loop devices and `mkfs.xfs` / `mkfs.btrfs` (Debian packages
//! `xfsprogs`, `btrfs-progs`; `.ci/run` installs them). When any is missing
//! [`LoopMount::new`] says so loudly and returns `None` — or panics under
//! `CI=true`, where such a test must run, never pass empty.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// Which file system to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// XFS with reflink (`mkfs.xfs -m reflink=1`): clones, and power cuts
    /// through `xfs_io -x -c shutdown`.
    Xfs,
    /// btrfs: clones.
    Btrfs,
}

impl FsKind {
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Xfs => "xfs",
            FsKind::Btrfs => "btrfs",
        }
    }
    fn mkfs(self) -> &'static str {
        match self {
            FsKind::Xfs => "mkfs.xfs",
            FsKind::Btrfs => "mkfs.btrfs",
        }
    }
}

/// A loop-mounted file system that is unmounted and removed on drop.
pub struct LoopMount {
    kind: FsKind,
    image: PathBuf,
    mount_point: PathBuf,
    mounted: bool,
    // Holds the image and the mount point; dropped after the unmount.
    _dir: TempDir,
}

/// Says loudly why a test cannot do its job; under `CI=true` that is a
/// failure (see [`super::skip_or_fail`]).
pub fn cannot_run(why: &str) {
    super::skip_or_fail(why);
}

fn have_tool(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success())
        || Path::new("/usr/sbin").join(tool).exists()
        || Path::new("/sbin").join(tool).exists()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} exited {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl LoopMount {
    /// Makes and mounts a `size_mib` file system of `kind`, or says why it
    /// cannot ([`cannot_run`]) and returns `None`.
    pub fn new(kind: FsKind, size_mib: u64) -> Option<LoopMount> {
        if !is_root() {
            cannot_run(&format!("making a {} file system needs root", kind.name()));
            return None;
        }
        if !Path::new("/dev/loop-control").exists() {
            cannot_run("no loop devices (/dev/loop-control is missing)");
            return None;
        }
        if !have_tool(kind.mkfs()) {
            cannot_run(&format!(
                "{} is not installed (apt-get install {})",
                kind.mkfs(),
                if kind == FsKind::Xfs { "xfsprogs" } else { "btrfs-progs" }
            ));
            return None;
        }
        match Self::try_new(kind, size_mib) {
            Ok(m) => Some(m),
            Err(e) => {
                cannot_run(&format!("could not make a {} file system: {e}", kind.name()));
                None
            }
        }
    }

    fn try_new(kind: FsKind, size_mib: u64) -> Result<LoopMount, String> {
        let dir = tempfile::Builder::new().prefix("sqlfork-mnt-").tempdir().map_err(|e| e.to_string())?;
        let image = dir.path().join(format!("{}.img", kind.name()));
        let mount_point = dir.path().join("mnt");
        std::fs::create_dir(&mount_point).map_err(|e| e.to_string())?;
        let f = std::fs::File::create(&image).map_err(|e| e.to_string())?;
        f.set_len(size_mib.max(320) * 1024 * 1024).map_err(|e| e.to_string())?;
        drop(f);
        let mut mkfs = Command::new(kind.mkfs());
        match kind {
            FsKind::Xfs => mkfs.args(["-q", "-f", "-m", "reflink=1"]),
            FsKind::Btrfs => mkfs.args(["-q", "-f"]),
        };
        run(mkfs.arg(&image))?;
        let mut m = LoopMount { kind, image, mount_point, mounted: false, _dir: dir };
        m.mount()?;
        Ok(m)
    }

    fn mount(&mut self) -> Result<(), String> {
        run(Command::new("mount").args(["-o", "loop"]).arg(&self.image).arg(&self.mount_point))?;
        self.mounted = true;
        // A test process may run as root but hand paths to children that
        // expect a writable, private directory.
        Ok(())
    }

    fn unmount(&mut self) -> Result<(), String> {
        if !self.mounted {
            return Ok(());
        }
        let mut last = String::new();
        for _ in 0..50 {
            match run(Command::new("umount").arg(&self.mount_point)) {
                Ok(()) => {
                    self.mounted = false;
                    return Ok(());
                }
                Err(e) => last = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(last)
    }

    /// The mount point: put homes and sources under it.
    pub fn path(&self) -> &Path {
        &self.mount_point
    }

    pub fn kind(&self) -> FsKind {
        self.kind
    }

    /// Cuts the power to the file system as xfstests does (`xfs_io -x -c
    /// shutdown`, without flushing the log): whatever was not durable is gone
    /// once it is mounted again. Processes using it then get EIO.
    pub fn shutdown(&self) {
        assert_eq!(self.kind, FsKind::Xfs, "only XFS can be shut down");
        run(Command::new("xfs_io").args(["-x", "-c", "shutdown"]).arg(&self.mount_point))
            .unwrap_or_else(|e| panic!("xfs_io shutdown failed: {e}"));
    }

    /// Makes the file system read-only (`mount -o remount,ro`), as a home
    /// on a read-only mount is.
    pub fn read_only(&self) {
        run(Command::new("mount").args(["-o", "remount,ro"]).arg(&self.mount_point))
            .unwrap_or_else(|e| panic!("remount read-only failed: {e}"));
    }

    /// Unmounts and mounts again (after [`shutdown`](Self::shutdown): log
    /// recovery, as after a reboot). Every process using the file system
    /// must have exited first.
    pub fn remount(&mut self) {
        self.unmount().unwrap_or_else(|e| panic!("umount failed: {e}"));
        self.mount().unwrap_or_else(|e| panic!("mount again failed: {e}"));
    }
}

impl Drop for LoopMount {
    fn drop(&mut self) {
        if let Err(e) = self.unmount() {
            // Last resort: detach lazily so nothing stays mounted.
            let _ = Command::new("umount").arg("-l").arg(&self.mount_point).status();
            eprintln!("warning: could not unmount {}: {e}", self.mount_point.display());
        }
    }
}
