//! The loop-mount guard itself: XFS and btrfs images mount, clone, survive a
//! power cut on XFS, and leave nothing mounted when dropped.
mod common;

use common::mount::{FsKind, LoopMount};
use std::process::Command;

fn mounted(path: &std::path::Path) -> bool {
    let text = std::fs::read_to_string("/proc/self/mounts").unwrap();
    text.lines().any(|l| l.split_whitespace().nth(1) == Some(path.to_str().unwrap()))
}

#[test]
fn xfs_and_btrfs_mount_clone_and_unmount_on_drop() {
    for kind in [FsKind::Xfs, FsKind::Btrfs] {
        let Some(m) = LoopMount::new(kind, 320) else { continue };
        let dir = m.path().to_path_buf();
        assert!(mounted(&dir), "{} not mounted at {}", kind.name(), dir.display());
        let a = dir.join("a");
        std::fs::write(&a, vec![7u8; 1 << 20]).unwrap();
        let st = Command::new("cp").arg("--reflink=always").arg(&a).arg(dir.join("b")).status().unwrap();
        assert!(st.success(), "{} cannot reflink", kind.name());
        drop(m);
        assert!(!mounted(&dir), "{} still mounted after drop", kind.name());
    }
}

#[test]
fn xfs_shutdown_loses_what_was_not_durable() {
    let Some(mut m) = LoopMount::new(FsKind::Xfs, 320) else { return };
    let durable = m.path().join("durable");
    let f = std::fs::File::create(&durable).unwrap();
    use std::io::Write;
    (&f).write_all(b"kept").unwrap();
    f.sync_all().unwrap();
    std::fs::File::open(m.path()).unwrap().sync_all().unwrap();
    drop(f);
    std::fs::write(m.path().join("volatile"), b"lost").unwrap();
    m.shutdown();
    m.remount();
    assert_eq!(std::fs::read(&durable).unwrap(), b"kept");
    // A file never synced is gone or empty after the cut.
    let v = std::fs::read(m.path().join("volatile")).unwrap_or_default();
    assert!(v.is_empty(), "an unsynced write survived a power cut: {v:?}");
}
