//! A reset on a file system that cannot clone (ext4) writes only the pages
//! that differ from its target, in one SQLite transaction in the same file
//! (SPEC sections 8 and 10): exact, the same inode, and old-or-new after a
//! kill or a power cut.

mod common;

use common::mount::{FsKind, LoopMount};
use common::*;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SOURCE: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, x TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
    INSERT INTO t(x) SELECT printf('%.200c', 'x') FROM n;
    CREATE INDEX t_x ON t(x);";
const CHANGE: &str = "UPDATE t SET x = 'changed ' || id WHERE id % 1000 = 0;";

/// Open `p` read-write once, as the next application (or sqlfork) would:
/// SQLite rolls back a journal a kill or a cut left hot.
fn reopen(p: &Path) {
    let c = rusqlite::Connection::open(p).unwrap();
    c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).unwrap();
}

fn inode(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

/// A data fork `acme/f` of `acme/src` (made from `SOURCE` in `dir`), with
/// 20 rows changed. Returns the source's and the fork's paths.
fn changed_fork(env: &Env, home: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let src = dir.join("src.db");
    exec(&src, SOURCE);
    let h = home.to_str().unwrap();
    env.cmd(["--home", h, "db", "import", "acme/src", src.to_str().unwrap()]).run().ok();
    env.cmd(["--home", h, "db", "fork", "acme/src", "f", "--with-data"]).run().ok();
    let path = PathBuf::from(env.cmd(["--home", h, "db", "path", "acme/f"]).run().ok().stdout.trim());
    exec(&path, CHANGE);
    // The commit's journal is unlinked: made durable only by syncing the
    // directory (what `synchronous = EXTRA` does), else a power cut brings
    // the journal back and the next connection rolls the change back.
    std::fs::File::open(path.parent().unwrap()).unwrap().sync_all().unwrap();
    (src, path)
}

#[test]
fn a_reset_after_a_few_changed_rows_writes_only_those_pages() {
    let env = Env::new();
    let (src, path) = changed_fork(&env, &env.home, env.dir.path());
    let ino = inode(&path);
    let out = env.run(&["db", "reset", "acme/f", "--json"]).ok().json();
    let copy = &out["copy"];
    assert_eq!(copy["method"], "pages", "{out:#}");
    // "a reset writes only the pages that differ: N of M"
    let why = s(copy, "fallback");
    let (n, m) = why.rsplit_once(": ").unwrap().1.split_once(" of ").unwrap();
    let (n, m): (u64, u64) = (n.parse().unwrap(), m.parse().unwrap());
    assert!(n > 0 && n * 10 < m, "only what changed was written: {out:#}");
    assert_eq!(copy["bytesCopied"].as_u64().unwrap(), n * 4096);
    assert_eq!(inode(&path), ino, "the same file");
    sound(&path).unwrap();
    assert!(image(&path) == image(&src), "the fork is its parent again");

    // Back to its own snapshot the same way.
    env.run(&["snapshot", "create", "acme/f:s"]).ok();
    let at_snapshot = image(&path);
    exec(&path, "DELETE FROM t WHERE id BETWEEN 100 AND 150;");
    let out = env.run(&["db", "reset", "acme/f", "--to", "s", "--json"]).ok().json();
    assert_eq!(out["copy"]["method"], "pages", "{out:#}");
    assert!(image(&path) == at_snapshot && inode(&path) == ino);

    // Grown and shrunk: the file takes the target's length.
    exec(&path, "INSERT INTO t(x) SELECT x FROM t WHERE id < 5000;");
    env.run(&["db", "reset", "acme/f"]).ok();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), std::fs::metadata(&src).unwrap().len());
    assert!(image(&path) == image(&src));
    exec(&path, "DELETE FROM t WHERE id > 15000; VACUUM;");
    env.run(&["db", "reset", "acme/f"]).ok();
    sound(&path).unwrap();
    assert!(image(&path) == image(&src), "after a VACUUM (most pages differ: a fresh copy)");
    assert_no_strays(&env, "after the resets");
}

#[test]
fn a_reset_by_pages_killed_before_its_commit_leaves_the_old_state() {
    let env = Env::new();
    let (src, path) = changed_fork(&env, &env.home, env.dir.path());
    exec(&path, "DELETE FROM t WHERE id BETWEEN 1 AND 3000;");
    let changed = image(&path);
    let mut bg = env.cmd(["db", "reset", "acme/f"]).env("SQLFORK_TEST_PAUSE", "pages-reset-written:20000").spawn();
    bg.wait_for_stderr("paused at pages-reset-written", Duration::from_secs(60));
    bg.kill();
    reopen(&path);
    sound(&path).unwrap();
    assert!(image(&path) == changed, "all or nothing: the old state");
    let show = env.run(&["db", "show", "acme/f", "--json"]).ok().json();
    assert_eq!(s(&show, "status"), "healthy");
    env.run(&["db", "reset", "acme/f"]).ok();
    assert!(image(&path) == image(&src), "the same reset again finishes it");
    assert_no_strays(&env, "after the killed reset");
}

#[test]
fn a_reset_by_pages_cut_by_a_power_loss_is_old_or_new() {
    let Some(mut m) = LoopMount::new(FsKind::Ext4, 128) else { return };
    let dir = tempfile::tempdir_in(m.path()).unwrap();
    let env = Env { home: dir.path().join("home"), dir };
    let (src, path) = changed_fork(&env, &env.home, env.dir.path());
    let h = env.home.to_str().unwrap().to_string();
    let changed = image(&path);
    let want = image(&src);

    // Cut while the pages are being written.
    let mut bg =
        env.cmd(["--home", &h, "db", "reset", "acme/f"]).env("SQLFORK_TEST_PAUSE", "pages-reset-written:20000").spawn();
    bg.wait_for_stderr("paused at pages-reset-written", Duration::from_secs(60));
    m.shutdown();
    bg.kill();
    m.remount();
    reopen(&path);
    sound(&path).unwrap();
    let n = int(&path, "SELECT count(*) FROM t WHERE x LIKE 'changed%'");
    assert!(image(&path) == changed, "a cut before the commit: the old state ({n} changed rows, want 20)");
    let show = env.cmd(["--home", &h, "db", "show", "acme/f", "--json"]).run().ok().json();
    assert_eq!(s(&show, "status"), "healthy");

    // Cut right after a reset that reported success: it stays done.
    env.cmd(["--home", &h, "db", "reset", "acme/f"]).run().ok();
    m.shutdown();
    m.remount();
    sound(&path).unwrap();
    assert!(image(&path) == want, "an acknowledged reset survives the cut");
    let show = env.cmd(["--home", &h, "db", "show", "acme/f", "--json"]).run().ok().json();
    assert_eq!(show["copy"]["method"], "pages", "{show:#}");
    drop(env);
}
