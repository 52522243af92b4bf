//! Instant data forks (SPEC 4a): clones on XFS and btrfs made in loop-mounted
//! images, kernel copies elsewhere. Every fidelity case cloned equals its
//! source; clones are independent of their sources; a WAL source with a live
//! writer and a checkpointer forks to an exact snapshot; a `file` copy killed
//! at random moments resumes to an exact fork; a source on another file
//! system than the home falls back to `file` and says why.
//!
//! The loop mounts need root and xfsprogs/btrfs-progs: without them these
//! tests say so loudly, and fail under `CI=true`.
mod common;

use common::mount::{FsKind, LoopMount};
use common::*;
use rusqlite::Connection;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A test environment whose temporary directory (the sources) and home
/// are both on the mounted file system.
fn env_on(m: &LoopMount) -> Env {
    let dir = tempfile::tempdir_in(m.path()).expect("tempdir on the mount");
    let home = dir.path().join("home");
    Env { dir, home }
}

fn mounts() -> Vec<LoopMount> {
    [FsKind::Xfs, FsKind::Btrfs].into_iter().filter_map(|k| LoopMount::new(k, 320)).collect()
}

/// Fork `src` with data (`--json`) and return the result.
fn fork_data(env: &Env, src: &str, dst: &str) -> Value {
    env.run(&["db", "fork", src, dst, "--with-data", "--json"]).ok().json()
}

fn method(v: &Value) -> &str {
    v["copy"]["method"].as_str().unwrap_or_else(|| panic!("no copy.method in {v:#}"))
}

macro_rules! case_table {
    ($($(#[$meta:meta])* $name:ident: $sql:expr;)*) => {
        const CASES: &[(&str, &str)] = &[$((stringify!($name), $sql)),*];
    };
}
common::cases::fidelity_cases!(case_table);

/// Fork every fidelity case with data in `env` and check each fork is its
/// source byte for byte, made by `want_method`.
fn fidelity_forks(env: &Env, fs: &str, want_method: &str) {
    for (name, sql) in CASES {
        let src = env.db(&format!("{name}.db"), sql);
        let what = format!("{name} on {fs}");
        let want = file_bytes(&src);
        let v = fork_data(env, &format!("./{name}.db"), &name.replace('_', "-"));
        assert_eq!(method(&v), want_method, "{what}: {v:#}");
        assert_eq!(v["copy"]["exact"], true, "{what}");
        let fork = PathBuf::from(v["path"].as_str().unwrap());
        assert!(file_bytes(&fork) == want, "{what}: the fork differs from its source");
        assert_same(&image(&src), &fork, false, &what);
        assert!(file_bytes(&src) == want, "{what}: the source changed");
    }
}

#[test]
fn every_fidelity_case_cloned_on_xfs_and_btrfs_is_its_source_byte_for_byte() {
    for m in mounts() {
        let env = env_on(&m);
        fidelity_forks(&env, m.kind().name(), "clone");
        let v = env.run(&["db", "show", "local/fts5-normal", "--json"]).ok().json();
        assert!(v["copy"].get("fallback").is_none(), "a clone is no fallback: {v:#}");
    }
}

#[test]
fn every_fidelity_case_file_copied_on_ext4_is_its_source_byte_for_byte() {
    fidelity_forks(&Env::new(), "ext4", "file");
}

#[test]
fn a_clone_and_its_source_are_independent() {
    for m in mounts() {
        let env = env_on(&m);
        let fs = m.kind().name();
        let src = env.db(
            "src.db",
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 5000)
             INSERT INTO t SELECT i, printf('%.100c', 'x') FROM n;",
        );
        let v = fork_data(&env, "./src.db", "f");
        assert_eq!(method(&v), "clone", "{fs}");
        let fork = PathBuf::from(v["path"].as_str().unwrap());
        let src_bytes = file_bytes(&src);
        exec(&fork, "UPDATE t SET v = 'fork' WHERE id % 2 = 0; INSERT INTO t(v) VALUES ('only in the fork');");
        assert!(file_bytes(&src) == src_bytes, "{fs}: writing the fork changed the source");
        let fork_bytes = file_bytes(&fork);
        exec(&src, "UPDATE t SET v = 'source' WHERE id % 3 = 0; DELETE FROM t WHERE id > 4000;");
        assert!(file_bytes(&fork) == fork_bytes, "{fs}: writing the source changed the fork");
        integrity_ok(&fork).unwrap();
        integrity_ok(&src).unwrap();
        let n = |p: &Path, sql: &str| -> i64 { Connection::open(p).unwrap().query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(n(&fork, "SELECT count(*) FROM t"), 5001);
        assert_eq!(n(&src, "SELECT count(*) FROM t"), 4000);
    }
}

/// `PRAGMA integrity_check` (and foreign keys) clean.
fn integrity_ok(path: &Path) -> Result<(), String> {
    sound(path)
}

// ---------------------------------------------------------------------------
// A WAL source with a live writer and a checkpointer

const LOG_DDL: &str = "CREATE TABLE log(id INTEGER PRIMARY KEY, v TEXT, touched INTEGER);
                       CREATE INDEX log_touched ON log(touched);
                       CREATE TABLE total(n INTEGER); INSERT INTO total VALUES (0);";

/// Commit number `k`: the writer's whole effect depends on `k` alone, so
/// the database after commit `n` can be rebuilt from `n`. It appends a row
/// and changes one of the first rows (the first pages of the file, which a
/// killed copy has already copied).
fn commit_sql(k: u64) -> String {
    format!(
        "INSERT INTO log VALUES ({k}, printf('%.{}c', char(65 + {k} % 26)), 0);
         UPDATE log SET touched = {k} WHERE id = {};
         UPDATE total SET n = {k};",
        50 + k % 400,
        k % 97 + 1
    )
}

/// The database a source that had `n` commits holds.
fn after_commits(dir: &Path, n: u64) -> PathBuf {
    let p = dir.join(format!("expected-{n}.db"));
    let c = Connection::open(&p).unwrap();
    c.execute_batch(&format!("PRAGMA journal_mode=WAL; {LOG_DDL} BEGIN;")).unwrap();
    for k in 1..=n {
        c.execute_batch(&commit_sql(k)).unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
    p
}

/// A WAL source written to by one thread (a commit every millisecond or
/// so) and checkpointed by another, until dropped. Every commit must
/// succeed.
struct LiveSource {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Result<u64, String>>>,
}

impl LiveSource {
    fn start(db: &Path, first: u64) -> LiveSource {
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (db.to_path_buf(), stop.clone());
        let writer = std::thread::spawn(move || -> Result<u64, String> {
            let c = Connection::open(&p).map_err(|e| e.to_string())?;
            c.busy_timeout(Duration::from_secs(10)).unwrap();
            let mut k = first;
            while !s.load(Ordering::Relaxed) {
                c.execute_batch(&format!("BEGIN IMMEDIATE; {} COMMIT;", commit_sql(k)))
                    .map_err(|e| format!("commit {k} failed: {e}"))?;
                k += 1;
                std::thread::sleep(Duration::from_micros(500));
            }
            Ok(k - 1)
        });
        let (p, s) = (db.to_path_buf(), stop.clone());
        let checkpointer = std::thread::spawn(move || -> Result<u64, String> {
            let c = Connection::open(&p).map_err(|e| e.to_string())?;
            c.busy_timeout(Duration::from_secs(10)).unwrap();
            let mut n = 0;
            while !s.load(Ordering::Relaxed) {
                c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).map_err(|e| e.to_string())?;
                n += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(n)
        });
        LiveSource { stop, threads: vec![writer, checkpointer] }
    }

    /// Stop; (last commit, checkpoints run).
    fn stop(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let mut out = self.threads.drain(..).map(|t| t.join().unwrap().unwrap_or_else(|e| panic!("{e}")));
        (out.next().unwrap(), out.next().unwrap())
    }
}

/// The commit count a fork of the log source holds.
fn commits_in(fork: &Path) -> u64 {
    let c = Connection::open(fork).unwrap();
    c.query_row("SELECT n FROM total", [], |r| r.get::<_, i64>(0)).unwrap() as u64
}

fn wal_source(env: &Env) -> PathBuf {
    let src = env.path("live.db");
    let c = Connection::open(&src).unwrap();
    c.execute_batch(&format!("PRAGMA journal_mode=WAL; {LOG_DDL} BEGIN;")).unwrap();
    for k in 1..=3000 {
        c.execute_batch(&commit_sql(k)).unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
    src
}

/// Fork the live source `times` times while it is written and
/// checkpointed; each fork must be exactly the database after some commit.
fn forks_of_a_live_wal_source(env: &Env, times: usize, vars: &[(&str, &str)], want_method: &str) {
    let src = wal_source(env);
    let live = LiveSource::start(&src, 3001);
    let mut forks = Vec::new();
    for i in 0..times {
        let v = env
            .cmd(["db", "fork", "./live.db", &format!("f{i}"), "--with-data", "--json"])
            .envs(vars)
            .run()
            .ok()
            .json();
        assert_eq!(method(&v), want_method, "{v:#}");
        assert_eq!(v["copy"]["exact"], true);
        forks.push(PathBuf::from(v["path"].as_str().unwrap()));
    }
    let (last, checkpoints) = live.stop();
    assert!(checkpoints > 0 && last > 3000, "the writer committed ({last}) and checkpoints ran ({checkpoints})");
    for (i, fork) in forks.iter().enumerate() {
        assert!(!side(fork, "-wal").exists(), "fork {i} has a -wal beside it");
        integrity_ok(fork).unwrap_or_else(|e| panic!("fork {i}: {e}"));
        let n = commits_in(fork);
        assert!((3000..=last).contains(&n), "fork {i} holds {n} commits");
        let want = after_commits(env.dir.path(), n);
        // (The expected database is in WAL mode: so must the fork be.)
        assert_same(&image(&want), fork, false, &format!("fork {i} (after commit {n})"));
    }
}

#[test]
fn a_wal_source_with_a_live_writer_and_a_checkpointer_clones_to_an_exact_snapshot() {
    for m in mounts() {
        forks_of_a_live_wal_source(&env_on(&m), 6, &[], "clone");
    }
}

#[test]
fn a_wal_source_with_a_live_writer_and_a_checkpointer_file_copies_to_an_exact_snapshot() {
    // ext4 (the temporary directory): no clone; small slow chunks so that
    // checkpoints run while the file is copied.
    let env = Env::new();
    forks_of_a_live_wal_source(&env, 3, &[("SQLFORK_TEST_CHUNK_PAGES", "16"), ("SQLFORK_TEST_DELAY_MS", "2")], "file");
}

// ---------------------------------------------------------------------------
// A killed file copy resumes

fn copy_state(env: &Env) -> Option<Value> {
    let dir = env.home.join("databases");
    let name =
        std::fs::read_dir(&dir).ok()?.flatten().find(|f| f.file_name().to_string_lossy().ends_with(".copy.json"))?;
    serde_json::from_str(&std::fs::read_to_string(name.path()).ok()?).ok()
}

const SLOW: [(&str, &str); 2] = [("SQLFORK_TEST_CHUNK_PAGES", "8"), ("SQLFORK_TEST_DELAY_MS", "4")];

/// Start `db fork` (then `db resume`) `kills` times, each killed at a
/// random moment once its copy has started; then let a resume finish.
/// Returns the result and how many kills landed mid-copy.
fn kill_and_resume(env: &Env, src: &str, dst: &str, kills: usize, span: Duration, rng: &mut Rng) -> (Value, usize) {
    let mut landed = 0;
    let addr = format!("local/{dst}");
    for i in 0..kills {
        let args: Vec<&str> =
            if i == 0 { vec!["db", "fork", src, dst, "--with-data"] } else { vec!["db", "resume", &addr] };
        let mut bg = env.cmd(&args).envs(&SLOW).env("SQLFORK_TRACE", "1").spawn();
        bg.wait_for_stderr("copy starts at", Duration::from_secs(30));
        if bg.kill_after(span.mul_f64(rng.unit())) {
            landed += 1;
        } else {
            // The copy finished before the kill: there is nothing left to
            // resume (a further `db resume` would find it healthy).
            break;
        }
    }
    let run = env.cmd(["db", "resume", &addr, "--json"]).run().ok();
    let v: Value =
        if run.stdout.trim().is_empty() { env.run(&["db", "show", &addr, "--json"]).ok().json() } else { run.json() };
    (v, landed)
}

#[test]
fn a_file_copy_killed_at_random_moments_resumes_to_the_source_byte_for_byte() {
    let env = Env::new();
    let src = env.db(
        "src.db",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 12000)
         INSERT INTO t SELECT i, printf('%.150c', char(65 + i % 26)) FROM n;",
    );
    let mut rng = Rng::new("file-kill");
    // The uninterrupted copy's time, with the same slow chunks.
    let t = Instant::now();
    env.cmd(["db", "fork", "./src.db", "whole", "--with-data"]).envs(&SLOW).run().ok();
    let full = t.elapsed();
    for round in 0..3 {
        let dst = format!("k{round}");
        let (v, landed) = kill_and_resume(&env, "./src.db", &dst, 3, full / 3, &mut rng);
        // The first kill, a third of the way at most into a whole copy, lands.
        assert!(landed >= 1, "round {round}: no kill landed mid-copy (full copy {full:?})");
        assert_eq!(method(&v), "file", "{v:#}");
        let fork = PathBuf::from(v["path"].as_str().unwrap());
        assert!(file_bytes(&fork) == file_bytes(&src), "round {round}: the resumed fork is not the source");
    }
}

#[test]
fn a_killed_file_copy_of_a_wal_source_keeps_its_bytes_while_the_wal_is_not_restarted() {
    let env = Env::new();
    let src = wal_source(&env);
    // Keep the WAL's generation: a connection stays open (no delete on
    // close) and checkpoints never complete (no restart) while it reads.
    let keeper = Connection::open(&src).unwrap();
    keeper.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    for k in 3001..=3200 {
        keeper.execute_batch(&commit_sql(k)).unwrap();
    }
    let mut rng = Rng::new("wal-file-kill");
    let mut next = 3201;
    let mut kept_seen = false;
    for round in 0..4 {
        let dst = format!("w{round}");
        let mut child = env.cmd(["db", "fork", "./live.db", &dst, "--with-data"]).envs(&SLOW).spawn();
        // Kill once part of the copy is durable.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(child.running(), "round {round}: the copy ended before it was killed");
            assert!(Instant::now() < deadline, "round {round}: no durable progress");
            if copy_state(&env).and_then(|s| s["file"]["bytes_done"].as_u64()).unwrap_or(0) > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(1 + rng.below(5)));
        }
        assert!(child.kill(), "round {round}: the kill landed"); // SIGKILL
                                                                 // Commits and a checkpoint that backfills them into the main file
                                                                 // the interrupted copy already copied: in one WAL generation (even
                                                                 // rounds: the copy may keep its bytes), or across restarts that drop
                                                                 // frames whose pages the checkpoints changed (odd rounds: it must
                                                                 // start again).
        for _ in 0..(1 + 2 * (round % 2)) {
            for _ in 0..50 {
                keeper.execute_batch(&commit_sql(next)).unwrap();
                next += 1;
            }
            keeper.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).unwrap();
        }
        let run = env.cmd(["db", "resume", &format!("local/{dst}"), "--json"]).env("SQLFORK_TRACE", "1").run().ok();
        kept_seen |= !run.stderr.contains("file copy done: 0 bytes kept");
        let v = run.json();
        let fork = PathBuf::from(v["path"].as_str().unwrap());
        integrity_ok(&fork).unwrap();
        let n = commits_in(&fork);
        assert_eq!(n, next - 1, "round {round}: the resumed fork is the source as it is now");
        assert_same(&image(&after_commits(env.dir.path(), n)), &fork, false, &format!("round {round}"));
    }
    assert!(kept_seen, "no resume kept the bytes of its interrupted copy");
}

fn side(db: &Path, suffix: &str) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

#[test]
fn a_clone_killed_at_random_moments_resumes_to_its_source() {
    let Some(m) = LoopMount::new(FsKind::Xfs, 320) else { return };
    let env = env_on(&m);
    let src = env.db(
        "src.db",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 3000)
         INSERT INTO t SELECT i, printf('%.100c', 'x') FROM n;",
    );
    let t = Instant::now();
    fork_data(&env, "./src.db", "whole");
    let whole = t.elapsed();
    let mut rng = Rng::new("clone-kill");
    for (i, d) in rng.spread(8, whole).into_iter().enumerate() {
        let dst = format!("c{i}");
        let addr = format!("local/{dst}");
        let killed = env.cmd(["db", "fork", "./src.db", &dst, "--with-data"]).spawn().kill_after(d);
        // Killed before its entry was written: nothing of it may remain (the
        // next fork sweeps what a kill left). Else it finishes exactly.
        if env.entry_at("local", &dst).is_some() {
            let v = env.cmd(["db", "resume", &addr, "--json"]).run().ok().json();
            let v = if v.get("path").is_some() { v } else { env.run(&["db", "show", &addr, "--json"]).ok().json() };
            assert_eq!(v["status"], "healthy", "{v:#}");
            let fork = PathBuf::from(v["path"].as_str().unwrap());
            assert!(file_bytes(&fork) == file_bytes(&src), "kill {i} after {d:?} (landed: {killed})");
        }
    }
    fork_data(&env, "./src.db", "last");
    assert_no_strays(&env, "after the killed clones");
}

// ---------------------------------------------------------------------------
// Fallbacks, and branch resets

#[test]
fn a_source_on_ext4_with_a_home_on_xfs_falls_back_to_file_and_says_why() {
    let Some(m) = LoopMount::new(FsKind::Xfs, 320) else { return };
    let dir = tempfile::tempdir().unwrap(); // ext4 here
    let env = Env { dir, home: m.path().join("home") };
    let src = env.db("src.db", "CREATE TABLE t(a); INSERT INTO t VALUES (1), (2);");
    let v = fork_data(&env, "./src.db", "f");
    assert_eq!(method(&v), "file", "{v:#}");
    let why = v["copy"]["fallback"].as_str().unwrap_or_default();
    assert!(why.contains("another file system") && why.contains("SQLFORK_HOME"), "{why}");
    let fork = PathBuf::from(v["path"].as_str().unwrap());
    assert!(file_bytes(&fork) == file_bytes(&src));
    let show = env.run(&["db", "show", "local/f", "--json"]).ok().json();
    assert_eq!(show["copy"]["method"], "file");
    env.run(&["db", "fork", "./src.db", "g", "--with-data"]).ok().stdout_has("method:  file (a clone is impossible");
    env.run(&["db", "show", "local/g"]).ok().stdout_has("with data by file");
}

#[test]
fn branch_put_resets_by_clone() {
    let Some(m) = LoopMount::new(FsKind::Xfs, 320) else { return };
    let env = env_on(&m);
    let src = env.db("orders.db", "CREATE TABLE t(a); INSERT INTO t VALUES (1), (2);");
    env.run(&["db", "import", "acme/orders", "./orders.db"]).ok();
    let first = env.run(&["branch", "put", "acme/orders@pr-1", "--with-data", "--json"]).ok().json();
    assert_eq!(method(&first), "clone", "{first:#}");
    exec(&src, "INSERT INTO t VALUES (3);");
    let reset = env.run(&["branch", "put", "acme/orders@pr-1", "--with-data", "--json"]).ok().json();
    assert_eq!(method(&reset), "clone", "{reset:#}");
    let path = PathBuf::from(reset["path"].as_str().unwrap());
    assert!(file_bytes(&path) == file_bytes(&src), "the reset branch is its parent now");
}
