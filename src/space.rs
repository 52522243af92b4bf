//! Free space and full disks (SPEC section 18).
//!
//! Where the size of a copy is known before it starts (a file copy, a page
//! copy, a snapshot), [`check`] refuses it when the file system cannot hold
//! it; where the disk fills mid-way, [`no_space`] turns the ENOSPC (or
//! SQLite's "database or disk is full") into one sentence naming the file
//! system, what was needed and what is free: [`Error::NoSpace`].

use crate::error::Error;
use std::path::{Path, PathBuf};

/// Slack kept beyond a copy's own bytes: the registry, SQLite's journal,
/// file system metadata.
const SLACK: u64 = 1 << 20;

/// Bytes free to an unprivileged writer on the file system holding `path`.
pub(crate) fn free(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: a zeroed statvfs is a valid value for statvfs(3) to fill; the
    // path is a NUL-terminated string that outlives the call.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// `/home (ext4)`: the mount point and type of the file system holding
/// `path` (from `/proc/self/mountinfo`), else the path itself.
pub(crate) fn describe(path: &Path) -> String {
    let abs = nearest_existing(path);
    let abs = abs.canonicalize().unwrap_or(abs);
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return abs.display().to_string() };
    let mut best: Option<(PathBuf, String)> = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(mnt), Some(dash)) = (fields.get(4), fields.iter().position(|f| *f == "-")) else { continue };
        let mnt = PathBuf::from(unescape(mnt));
        let fstype = fields.get(dash + 1).copied().unwrap_or("?");
        // The last matching line wins: later mounts cover earlier ones.
        if abs.starts_with(&mnt) && best.as_ref().is_none_or(|(b, _)| mnt.as_os_str().len() >= b.as_os_str().len()) {
            best = Some((mnt, fstype.to_string()));
        }
    }
    match best {
        Some((mnt, fstype)) => format!("{} ({fstype})", mnt.display()),
        None => abs.display().to_string(),
    }
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push(u8::from_str_radix(&s[i + 1..i + 4], 8).unwrap_or(b'?'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn nearest_existing(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    while !p.exists() {
        match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => p = parent.to_path_buf(),
            _ => break,
        }
    }
    p
}

/// The bytes a verbatim copy of `src` needs: its file and its WAL (what a
/// file or page copy writes, and a clone that cannot share blocks). Each
/// copy method says what it needs (`fork::DataCopy::space_needed`).
pub(crate) fn source_bytes(src: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    size(src) + size(&crate::layout::sqlite_side_file(src, "-wal"))
}

/// True when a clone of `src` into `dest_dir` (or the nearest folder of it
/// that exists) shares its blocks, so it needs no space.
pub(crate) fn clone_shares_blocks(src: &Path, dest_dir: &Path) -> bool {
    shares_blocks(src, &nearest_existing(dest_dir))
}

/// True when a clone of `src` into `dir` shares its blocks: the same XFS
/// or btrfs file system.
fn shares_blocks(src: &Path, dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    const XFS: i64 = 0x5846_5342;
    const BTRFS: i64 = 0x9123_683e;
    let (Ok(a), Ok(b)) = (std::fs::metadata(src), std::fs::metadata(dir)) else { return false };
    if a.dev() != b.dev() {
        return false;
    }
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return false };
    // SAFETY: a zeroed statfs is a valid value for statfs(2) to fill; the
    // path is a NUL-terminated string that outlives the call.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    matches!(st.f_type as i64, XFS | BTRFS)
}

/// Refuse `what` (a copy of `needed` bytes into `dir`) when the file system
/// has not that much free (with a little slack).
pub(crate) fn check(dir: &Path, needed: u64, what: &str) -> Result<(), Error> {
    let at = nearest_existing(dir);
    let Some(free) = free(&at) else { return Ok(()) };
    if free < needed.saturating_add(SLACK) {
        return Err(Error::NoSpace { what: what.to_string(), fs: describe(&at), needed: Some(needed), free });
    }
    Ok(())
}

/// True when `err` is, anywhere in its chain, a full disk: ENOSPC or EDQUOT,
/// or SQLite's SQLITE_FULL.
pub(crate) fn is_full(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return matches!(io.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT));
        }
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = e.downcast_ref::<rusqlite::Error>() {
            return f.code == rusqlite::ErrorCode::DiskFull;
        }
        if let Some(Error::NoSpace { .. }) = e.downcast_ref::<Error>() {
            return true;
        }
        false
    }) || err.chain().any(|e| e.to_string().contains("No space left on device"))
}

/// The [`Error::NoSpace`] for `what` that ran out of space writing under
/// `dir` (`needed`: its full size, when known).
pub(crate) fn no_space(dir: &Path, what: &str, needed: Option<u64>) -> Error {
    let at = nearest_existing(dir);
    Error::NoSpace { what: what.to_string(), fs: describe(&at), needed, free: free(&at).unwrap_or(0) }
}

/// `err` as [`Error::NoSpace`] when it is a full disk, else unchanged.
pub(crate) fn explain(err: anyhow::Error, dir: &Path, what: &str, needed: Option<u64>) -> anyhow::Error {
    if Error::any_in(&err, |e| matches!(e, Error::NoSpace { .. })) || !is_full(&err) {
        return err;
    }
    no_space(dir, what, needed).into()
}

/// What the operating system says when `path` (and its directory) is
/// opened and its first page read, when that fails: SQLite's "unable to
/// open database file" or "disk I/O error" hides an EIO or a file system
/// gone read-only, which is the sentence a person needs.
pub(crate) fn os_reason(path: &Path) -> Option<String> {
    use std::io::Read;
    let probe = || -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::read_dir(dir)?.next().transpose()?;
        }
        let mut page = [0u8; 512];
        let _read = std::fs::File::open(path)?.read(&mut page)?;
        Ok(())
    };
    if let Err(e) = probe() {
        return Some(e.to_string());
    }
    read_only(path).then(|| format!("{} is read-only (mounted so, or switched after I/O errors)", describe(path)))
}

/// True when the file system holding `path` is mounted read-only.
fn read_only(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(nearest_existing(path).as_os_str().as_bytes()) else { return false };
    // SAFETY: as in `free`.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    (unsafe { libc::statvfs(c.as_ptr(), &mut st) }) == 0 && st.f_flag & libc::ST_RDONLY != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_system_is_named_by_mount_point_and_type() {
        let d = describe(Path::new("/proc/self"));
        assert_eq!(d, "/proc (proc)");
        assert!(describe(Path::new("/no/such/dir/below/root")).ends_with(')'));
        assert_eq!(unescape("/mnt/a\\040b"), "/mnt/a b");
    }

    #[test]
    fn a_copy_bigger_than_the_free_space_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        check(dir.path(), 1, "a tiny copy").unwrap();
        let e = check(dir.path(), u64::MAX / 2, "the fork").unwrap_err();
        assert!(e.to_string().starts_with("not enough space on /"), "{e}");
        assert!(e.to_string().contains("the fork needs 8388608.0 TiB, "), "{e}");
    }
}
