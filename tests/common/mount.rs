//! Copy-on-write, power-cut and small file systems for tests: an XFS
//! (reflink), btrfs or ext4 file system made in a sparse image file and
//! loop-mounted under a temporary directory (or with its image in a
//! directory of the caller's: [`LoopMount::new_in`]).
//! [`CutFs`] is a file system whose power can be cut on all three. The guard unmounts (which also detaches the loop
//! device: `mount -o loop` sets autoclear) and deletes the image on drop, so
//! a failing test leaves nothing mounted; a killed one's mounts are swept by
//! the next run's first mount ([`sweep_stale_mounts`]).
//!
//! Needs root, loop devices and `mkfs.xfs` / `mkfs.btrfs` / `mkfs.ext4`
//! (Debian packages `xfsprogs`, `btrfs-progs`, `e2fsprogs`; `.ci/run`
//! installs them). When any is missing
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
    /// ext4: no clones; power cuts through `xfs_io -x -c shutdown` too
    /// (`EXT4_IOC_SHUTDOWN` is the same ioctl).
    Ext4,
}

impl FsKind {
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Xfs => "xfs",
            FsKind::Btrfs => "btrfs",
            FsKind::Ext4 => "ext4",
        }
    }
    fn mkfs(self) -> &'static str {
        match self {
            FsKind::Xfs => "mkfs.xfs",
            FsKind::Btrfs => "mkfs.btrfs",
            FsKind::Ext4 => "mkfs.ext4",
        }
    }
    fn package(self) -> &'static str {
        match self {
            FsKind::Xfs => "xfsprogs",
            FsKind::Btrfs => "btrfs-progs",
            FsKind::Ext4 => "e2fsprogs",
        }
    }
    /// The smallest image its mkfs accepts (with room to spare).
    fn min_mib(self) -> u64 {
        match self {
            FsKind::Xfs => 320,
            FsKind::Btrfs => 128,
            FsKind::Ext4 => 4,
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
        Self::new_in(kind, size_mib, None)
    }

    /// [`new`](Self::new), with the image file in `parent` (a directory on
    /// another test file system, to cut that one's power under this one).
    pub fn new_in(kind: FsKind, size_mib: u64, parent: Option<&Path>) -> Option<LoopMount> {
        if !is_root() {
            cannot_run(&format!("making a {} file system needs root", kind.name()));
            return None;
        }
        if !Path::new("/dev/loop-control").exists() {
            cannot_run("no loop devices (/dev/loop-control is missing)");
            return None;
        }
        if !have_tool(kind.mkfs()) {
            cannot_run(&format!("{} is not installed (apt-get install {})", kind.mkfs(), kind.package()));
            return None;
        }
        if kind != FsKind::Btrfs && !have_tool("xfs_io") {
            cannot_run("xfs_io is not installed (apt-get install xfsprogs)");
            return None;
        }
        match Self::try_new(kind, size_mib, parent) {
            Ok(m) => Some(m),
            Err(e) => {
                cannot_run(&format!("could not make a {} file system: {e}", kind.name()));
                None
            }
        }
    }

    fn try_new(kind: FsKind, size_mib: u64, parent: Option<&Path>) -> Result<LoopMount, String> {
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(sweep_stale_mounts);
        let mut b = tempfile::Builder::new();
        b.prefix(PREFIX);
        let dir = match parent {
            Some(p) => b.tempdir_in(p),
            None => b.tempdir(),
        }
        .map_err(|e| e.to_string())?;
        // Which process made it, for the sweep of a later run.
        std::fs::write(dir.path().join(OWNER), std::process::id().to_string()).map_err(|e| e.to_string())?;
        let image = dir.path().join(format!("{}.img", kind.name()));
        let mount_point = dir.path().join("mnt");
        std::fs::create_dir(&mount_point).map_err(|e| e.to_string())?;
        let f = std::fs::File::create(&image).map_err(|e| e.to_string())?;
        f.set_len(size_mib.max(kind.min_mib()) * 1024 * 1024).map_err(|e| e.to_string())?;
        drop(f);
        let mut mkfs = Command::new(kind.mkfs());
        match kind {
            FsKind::Xfs => mkfs.args(["-q", "-f", "-m", "reflink=1"]),
            FsKind::Btrfs => mkfs.args(["-q", "-f"]),
            // No reserved blocks: the free space a test sees is all there is.
            FsKind::Ext4 => mkfs.args(["-q", "-F", "-m", "0"]),
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

    /// Cuts the power to the file system (XFS or ext4) as xfstests does (`xfs_io -x -c
    /// shutdown`, without flushing the log): whatever was not durable is gone
    /// once it is mounted again. Processes using it then get EIO.
    pub fn shutdown(&self) {
        assert_ne!(self.kind, FsKind::Btrfs, "btrfs has no shutdown ioctl: cut the file system its image is on");
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

/// A file system whose power a test can cut: XFS or ext4 directly
/// ([`LoopMount::shutdown`]); btrfs, which has no shutdown ioctl, by making
/// its image on an XFS and cutting that XFS (what btrfs flushed through
/// the loop device survives, the rest is lost).
pub struct CutFs {
    // Field order: the inner mount is unmounted before the outer one.
    inner: LoopMount,
    outer: Option<LoopMount>,
}

impl CutFs {
    pub fn new(kind: FsKind, size_mib: u64) -> Option<CutFs> {
        if kind != FsKind::Btrfs {
            return Some(CutFs { inner: LoopMount::new(kind, size_mib)?, outer: None });
        }
        Self::on_xfs(kind, size_mib)
    }

    /// `kind` in an image on an XFS, which [`shutdown`](Self::shutdown)
    /// cuts: for btrfs, a power cut; for any kind while its processes run
    /// on, real I/O errors (EIO) from the loop device under it.
    pub fn on_xfs(kind: FsKind, size_mib: u64) -> Option<CutFs> {
        let outer = LoopMount::new(FsKind::Xfs, size_mib + 64)?;
        let inner = LoopMount::new_in(kind, size_mib, Some(outer.path()))?;
        Some(CutFs { inner, outer: Some(outer) })
    }

    pub fn path(&self) -> &Path {
        self.inner.path()
    }

    pub fn kind(&self) -> FsKind {
        self.inner.kind
    }

    /// Cut the power (see [`LoopMount::shutdown`]).
    pub fn shutdown(&self) {
        match &self.outer {
            Some(outer) => outer.shutdown(),
            None => self.inner.shutdown(),
        }
    }

    /// Unmount and mount again, as after a reboot: for btrfs, the inner
    /// file system first (its loop device detaches), then the XFS under it.
    pub fn remount(&mut self) {
        match &mut self.outer {
            None => self.inner.remount(),
            Some(outer) => {
                self.inner.unmount().unwrap_or_else(|e| panic!("umount btrfs failed: {e}"));
                outer.remount();
                self.inner.mount().unwrap_or_else(|e| panic!("mount btrfs again failed: {e}"));
            }
        }
    }
}

/// The name every test mount's directory starts with.
const PREFIX: &str = "sqlfork-mnt-";
/// The file in that directory naming the process that made the mount.
const OWNER: &str = "owner.pid";

/// Unmount what test processes that are gone left mounted (a killed test
/// never runs its guard's drop): every mount at `…/sqlfork-mnt-*/mnt`
/// whose `owner.pid` names no live process, deepest first (a file system
/// whose image lives on another test mount goes before that one). Mounts of
/// live processes (other test binaries, other sessions) are left alone.
fn sweep_stale_mounts() {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return };
    let mut stale: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|m| m.file_name().is_some_and(|n| n == "mnt"))
        .filter(|m| {
            let Some(dir) = m.parent() else { return false };
            if !dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with(PREFIX)) {
                return false;
            }
            // No owner file: made before owners were recorded; only the
            // age of its directory can say it is stale.
            match std::fs::read_to_string(dir.join(OWNER)) {
                Ok(pid) => !Path::new("/proc").join(pid.trim()).exists(),
                Err(_) => std::fs::metadata(dir)
                    .and_then(|d| d.modified())
                    .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(6 * 3600))),
            }
        })
        .collect();
    stale.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
    for m in stale {
        let done = Command::new("umount").arg(&m).status().is_ok_and(|s| s.success())
            || Command::new("umount").arg("-l").arg(&m).status().is_ok_and(|s| s.success());
        eprintln!(
            "swept a test mount a killed test left: {} ({})",
            m.display(),
            if done { "unmounted" } else { "FAILED" }
        );
        if done {
            if let Some(dir) = m.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
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
