//! The file-system layer under the `clone` and `file` copy methods: clones
//! of whole files (`FICLONE`), byte copies that stay in the kernel
//! (`copy_file_range`, else `sendfile`), and the question "can the home's
//! file system clone the source at all?".
//!
//! Nothing here knows SQLite. The callers (the instant copy methods) take
//! SQLite's locks around these calls, so that what is cloned or copied is
//! one consistent moment of the database.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// What a file system is, as far as cloning goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FsInfo {
    /// The device number of the file system (one per mounted super block).
    pub(crate) dev: u64,
    /// `statfs` magic number.
    pub(crate) magic: i64,
}

impl FsInfo {
    /// The file system a path lives on.
    pub(crate) fn of(path: &Path) -> io::Result<FsInfo> {
        let dev = std::fs::metadata(path)?.dev();
        let st = rustix::fs::statfs(path)?;
        Ok(FsInfo { dev, magic: st.f_type as i64 })
    }

    /// A short human name for the file system type ("xfs", "ext4", ...).
    pub(crate) fn name(&self) -> String {
        match self.magic {
            0x5846_5342 => "xfs".into(),
            0x9123_683e => "btrfs".into(),
            0xef53 => "ext4".into(),
            0x0102_1994 => "tmpfs".into(),
            0x2fc1_2fc1 => "zfs".into(),
            0xca45_1a4e => "bcachefs".into(),
            0x794c_7630 => "overlayfs".into(),
            0x6969 => "nfs".into(),
            0x6573_5546 => "fuse".into(),
            0xf2f5_2010 => "f2fs".into(),
            m => format!("file system type {m:#x}"),
        }
    }

    /// True for file systems that can share extents between files.
    pub(crate) fn can_reflink(&self) -> bool {
        matches!(self.magic, 0x5846_5342 | 0x9123_683e | 0x2fc1_2fc1 | 0xca45_1a4e)
    }
}

/// Why a clone cannot be made, as the sentence the result shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoClone {
    /// Source and fork are on different file systems.
    DifferentFileSystems { source: String, home: String },
    /// One file system, but it does not clone (ext4, tmpfs, XFS without reflink).
    Unsupported { fs: String },
    /// The kernel refused for another reason.
    Refused { why: String },
}

impl std::fmt::Display for NoClone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoClone::DifferentFileSystems { source, home } => write!(
                f,
                "a clone is impossible: the source is on {source} and the home on another file system ({home}); put the home on the source's file system (SQLFORK_HOME) to get instant forks"
            ),
            NoClone::Unsupported { fs } => write!(f, "a clone is impossible: the file system ({fs}) cannot clone files"),
            NoClone::Refused { why } => write!(f, "the kernel refused to clone the source: {why}"),
        }
    }
}

/// Can a file in `home_dir` be a clone of `source`? Only a first answer: a
/// clone that is then refused says why itself ([`clone_file`]).
pub(crate) fn clone_possible(source: &Path, home_dir: &Path) -> Result<(), NoClone> {
    let (Ok(s), Ok(h)) = (FsInfo::of(source), FsInfo::of(home_dir)) else {
        return Err(NoClone::Refused { why: "could not tell which file system the source or the home is on".into() });
    };
    if s.dev != h.dev {
        let (source, mut home) = (s.name(), h.name());
        if home == source {
            home = format!("another {home}");
        }
        return Err(NoClone::DifferentFileSystems { source, home });
    }
    if !s.can_reflink() && !matches!(s.magic, 0x6969 | 0x794c_7630) {
        return Err(NoClone::Unsupported { fs: s.name() });
    }
    Ok(())
}

/// Make `dst` share all of `src`'s extents (`FICLONE`). `dst` takes `src`'s
/// length. Fails with the kernel's reason when the file system cannot.
pub(crate) fn clone_file(src: &File, dst: &File) -> Result<(), NoClone> {
    let Err(e) = rustix::fs::ioctl_ficlone(dst, src) else { return Ok(()) };
    let e = io::Error::from(e);
    let fs = fs_name_of_fd(dst).unwrap_or_else(|| "this file system".into());
    Err(match e.raw_os_error() {
        Some(libc::EOPNOTSUPP) | Some(libc::ENOTTY) | Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            NoClone::Unsupported { fs }
        }
        Some(libc::EXDEV) => NoClone::Refused { why: "source and fork are on different mounts".into() },
        _ => NoClone::Refused { why: e.to_string() },
    })
}

fn fs_name_of_fd(f: &File) -> Option<String> {
    let st = rustix::fs::fstatfs(f).ok()?;
    Some(FsInfo { dev: 0, magic: st.f_type as i64 }.name())
}

/// How the kernel moved the bytes of a [`copy_range`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mover {
    /// `copy_file_range` (the kernel may clone or copy server-side).
    #[default]
    CopyFileRange,
    /// `sendfile`: across file systems where `copy_file_range` refuses.
    Sendfile,
    /// `pread`/`pwrite` through a buffer, where neither works.
    ReadWrite,
}

/// Copies byte ranges from one file to the same offsets in another with the
/// cheapest call the kernel accepts, remembering which one worked.
#[derive(Debug, Default)]
pub(crate) struct RangeCopier {
    pub(crate) mover: Mover,
}

impl RangeCopier {
    /// Copy `len` bytes at `offset` of `src` to the same offset of `dst`.
    /// Fails if `src` ends before `offset + len`.
    pub(crate) fn copy(&mut self, src: &File, dst: &File, offset: u64, len: u64) -> io::Result<()> {
        let mut done = 0u64;
        while done < len {
            let at = offset + done;
            let want = (len - done).min(1 << 30) as usize;
            let n = match self.mover {
                Mover::CopyFileRange => match copy_file_range(src, dst, at, want) {
                    Err(e) if refuses(&e) => {
                        self.mover = Mover::Sendfile;
                        continue;
                    }
                    r => r?,
                },
                Mover::Sendfile => match sendfile(src, dst, at, want) {
                    Err(e) if refuses(&e) => {
                        self.mover = Mover::ReadWrite;
                        continue;
                    }
                    r => r?,
                },
                Mover::ReadWrite => read_write(src, dst, at, want)?,
            };
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the source ended at byte {at}, before {}", offset + len),
                ));
            }
            done += n as u64;
        }
        Ok(())
    }
}

/// Errors that mean "this call cannot do this copy; try another".
fn refuses(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EXDEV) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) | Some(libc::EBADF)
    )
}

fn copy_file_range(src: &File, dst: &File, at: u64, len: usize) -> io::Result<usize> {
    let (mut off_in, mut off_out) = (at, at);
    loop {
        match rustix::fs::copy_file_range(src, Some(&mut off_in), dst, Some(&mut off_out), len) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return Ok(r?),
        }
    }
}

fn sendfile(src: &File, dst: &File, at: u64, len: usize) -> io::Result<usize> {
    // sendfile writes at the output's file position.
    rustix::fs::seek(dst, rustix::fs::SeekFrom::Start(at))?;
    let mut off = at;
    loop {
        match rustix::fs::sendfile(dst, src, Some(&mut off), len) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return Ok(r?),
        }
    }
}

fn read_write(src: &File, dst: &File, at: u64, len: usize) -> io::Result<usize> {
    let mut buf = vec![0u8; len.min(1 << 20)];
    let n = src.read_at(&mut buf, at)?;
    dst.write_all_at(&buf[..n], at)?;
    Ok(n)
}

/// Sync a file's data and metadata, and the directory entry that names it.
pub(crate) fn sync_file_and_dir(file: &File, path: &Path) -> io::Result<()> {
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn range_copy_moves_the_bytes_at_the_same_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::File::create(&a).unwrap().write_all(&data).unwrap();
        let src = File::open(&a).unwrap();
        let dst = File::options().create(true).truncate(true).read(true).write(true).open(&b).unwrap();
        let mut c = RangeCopier::default();
        c.copy(&src, &dst, 100_000, 200_000).unwrap();
        c.copy(&src, &dst, 0, 100_000).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), data);
        let err = c.copy(&src, &dst, 250_000, 100_000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn every_mover_copies_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let data: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&a, &data).unwrap();
        for mover in [Mover::CopyFileRange, Mover::Sendfile, Mover::ReadWrite] {
            let b = dir.path().join(format!("{mover:?}"));
            let src = File::open(&a).unwrap();
            let dst = File::options().create(true).truncate(true).write(true).open(&b).unwrap();
            let mut c = RangeCopier { mover };
            c.copy(&src, &dst, 4096, 65_904).unwrap();
            c.copy(&src, &dst, 0, 4096).unwrap();
            assert_eq!(c.mover, mover, "{mover:?} works between two files on one file system");
            assert_eq!(std::fs::read(&b).unwrap(), data, "{mover:?}");
        }
    }

    #[test]
    fn the_same_file_system_is_one_device_and_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let (a, b) = (FsInfo::of(&f).unwrap(), FsInfo::of(dir.path()).unwrap());
        assert_eq!(a, b);
        assert!(!a.name().is_empty());
        if std::fs::read_to_string("/proc/mounts").is_ok_and(|m| m.contains(" /proc proc ")) {
            let p = FsInfo::of(Path::new("/proc")).unwrap();
            assert_ne!(p.dev, a.dev);
            assert!(matches!(clone_possible(&f, Path::new("/proc")), Err(NoClone::DifferentFileSystems { .. })));
        }
    }
}
