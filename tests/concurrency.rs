//! Concurrency suite: dozens of sqlfork processes, all started at once in
//! one home, forking (schema only and with data), deleting, listing,
//! showing, resuming, waiting, branch putting and collecting. Afterwards:
//!
//! - no entry is lost or doubled: the registry holds exactly what the
//!   processes said they made, minus what they said they deleted;
//! - no two processes ever copy one fork (each build says so on stderr under
//!   `SQLFORK_TRACE`, and exactly one process builds an interrupted fork
//!   however many resume or wait for it);
//! - every exit code is explained: 0, or the documented code of a real
//!   conflict (3 for something another process deleted first, 4 for a
//!   destination another process took, 1 with "another sqlfork process is
//!   building" for a resume that lost the race) — never a failure because
//!   another process held a lock for a moment;
//! - every process ends within a bound, and a writer that meets a held
//!   registry lock waits for it rather than failing.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use std::path::Path;
use std::time::{Duration, Instant};

/// No process may take longer than this (the copies here take about a
/// second; the registry lock timeout is a minute).
const BOUND: Duration = Duration::from_secs(90);

const SRC_SQL: &str = "
    CREATE TABLE customers(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
    CREATE TABLE items(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id), body TEXT);
    CREATE INDEX items_customer ON items(customer);
    CREATE VIEW named AS SELECT items.id, name FROM items JOIN customers ON customers.id = items.customer;
    CREATE TRIGGER items_touch AFTER INSERT ON items BEGIN UPDATE customers SET name = name WHERE id = new.customer; END;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
      INSERT INTO customers(name) SELECT printf('c%d', i) FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
      INSERT INTO items SELECT i, 1 + i % 100, printf('item %d %s', i, hex(randomblob(24))) FROM n;
";

/// One process of the crowd.
struct Proc {
    role: &'static str,
    bg: Bg,
}

/// What one process did.
struct Done {
    role: &'static str,
    run: Run,
}

impl std::ops::Deref for Done {
    type Target = Run;
    fn deref(&self) -> &Run {
        &self.run
    }
}

impl Done {
    fn describe(&self) -> String {
        format!("[{}] {}", self.role, self.run.dump())
    }
    /// The ids this process started building (`SQLFORK_TRACE`).
    fn built(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("sqlfork trace: building "))
            .filter_map(|l| l.split("(id ").nth(1))
            .map(|l| l.trim_end_matches(')').to_string())
            .collect()
    }
}

struct Crowd<'a> {
    env: &'a Env,
    procs: Vec<Proc>,
}

impl<'a> Crowd<'a> {
    fn new(env: &'a Env) -> Self {
        Crowd { env, procs: Vec::new() }
    }

    fn add(&mut self, role: &'static str, args: &[&str], vars: &[(&str, &str)]) {
        self.add_cmd(role, self.env.cmd(args).envs(vars));
    }

    /// A shell script run with this home (`$SQLFORK` is the binary).
    fn add_sh(&mut self, role: &'static str, script: &str, vars: &[(&str, &str)]) {
        self.add_cmd(role, self.env.sh(script).envs(vars));
    }

    fn add_cmd(&mut self, role: &'static str, cmd: Cmd) {
        self.procs.push(Proc { role, bg: cmd.env("SQLFORK_TRACE", "1").spawn() });
    }

    /// Wait for everyone, killing (and failing on) any process that runs
    /// past `BOUND`.
    fn finish(self) -> Vec<Done> {
        let deadline = Instant::now() + BOUND;
        let mut out = Vec::new();
        let mut late = Vec::new();
        for p in self.procs {
            let (run, was_late) = p.bg.finish_by(deadline);
            if was_late {
                late.push(format!("[{}] {}", p.role, run.line));
            }
            out.push(Done { role: p.role, run });
        }
        assert!(late.is_empty(), "processes still running after {BOUND:?}: {late:?}");
        out
    }
}

/// Start a data fork and kill it once its copy has written something:
/// an interrupted fork, `provisioning`, with part of its data.
fn interrupted_fork(env: &Env, src: &str, dst: &str) -> String {
    let vars = [("SQLFORK_TEST_CHUNK_PAGES", "2"), ("SQLFORK_TEST_DELAY_MS", "20")];
    let mut child = env.cmd(["db", "fork", src, dst, "--with-data"]).envs(&vars).spawn();
    let id = copy_under_way(env, &mut child, |e| e.address == dst, &format!("the fork into {dst}"));
    child.kill();
    let e = entries(env).into_iter().find(|e| e.id == id).unwrap();
    assert!(!e.healthy, "{dst} is provisioning after the kill");
    id
}

/// Wait until `child` (still running) has a copy under way into the entry
/// `which` picks: the entry exists and its copy state shows pages or rows
/// written. Returns the entry's id.
fn copy_under_way(env: &Env, child: &mut Bg, which: impl Fn(&Entry) -> bool, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "{what} never started copying");
        assert!(child.running(), "{what} ended before it could be interrupted");
        if let Some(e) = entries(env).into_iter().find(|e| which(e) && env.copy_started(&e.id)) {
            return e.id;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn expect_code(d: &Done, allowed: &[i32]) {
    assert!(allowed.contains(&d.code), "unexplained exit code (allowed {allowed:?}):\n{}", d.describe());
    if d.code != 0 {
        assert_eq!(d.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", d.describe());
    }
}

#[test]
fn dozens_of_processes_in_one_home_lose_nothing_double_nothing_and_fail_only_on_real_conflicts() {
    let env = Env::new();
    let src_path = env.db("src.db", SRC_SQL);
    let src_image = image(&src_path);
    env.cmd(["db", "import", "acme/src", "./src.db"]).run().ok();
    for i in 0..5 {
        env.cmd(["db", "create", &format!("acme/del-{i}")]).run().ok();
        env.cmd(["db", "fork", "acme/src", &format!("old-{i}"), "--ttl", "1h"]).now(T0).run().ok();
    }
    let half_id = interrupted_fork(&env, "acme/src", "acme/half");
    // A source deleted while it is being forked.
    env.cmd(["db", "fork", "acme/src", "doomed", "--with-data"]).run().ok();

    // Everyone at once. Data copies are slowed a little so they overlap.
    let slow = [("SQLFORK_TEST_CHUNK_PAGES", "8"), ("SQLFORK_TEST_DELAY_MS", "5")];
    let later = [("SQLFORK_NOW", T_LATER)];
    let mut crowd = Crowd::new(&env);
    for i in 0..12 {
        crowd.add("fork", &["db", "fork", "acme/src", &format!("f-{i}"), "--json"], &[]);
    }
    for i in 0..4 {
        crowd.add("fork-data", &["db", "fork", "acme/src", &format!("d-{i}"), "--with-data", "--json"], &slow);
    }
    for _ in 0..3 {
        crowd.add("same-fork", &["db", "fork", "./src.db", "same", "--with-data", "--json"], &slow);
    }
    for i in 0..5 {
        for _ in 0..2 {
            crowd.add("delete", &["db", "delete", &format!("acme/del-{i}"), "--yes", "--json"], &[]);
        }
    }
    for _ in 0..2 {
        crowd.add("gc", &["db", "gc", "--json"], &later);
    }
    for i in 0..3 {
        crowd.add("resume", &["db", "resume", "acme/half", "--json"], &slow);
        let dst = format!("of-doomed-{i}");
        let mut args = vec!["db", "fork", "acme/doomed", dst.as_str(), "--json"];
        if i > 0 {
            args.push("--with-data");
        }
        crowd.add("fork-doomed", &args, &slow);
    }
    crowd.add("delete-doomed", &["db", "delete", "acme/doomed", "--yes", "--json"], &[]);
    for i in 0..2 {
        // A background copy, and two processes waiting for it.
        crowd.add_sh(
            "detach-wait",
            &format!(
                "\"$SQLFORK\" db fork acme/src det-{i} --with-data --detach --json && \
                 {{ \"$SQLFORK\" db wait acme/det-{i} --timeout 80s --json & \
                    \"$SQLFORK\" db wait acme/det-{i} --timeout 80s --json; wait $!; }}"
            ),
            &slow,
        );
    }
    for _ in 0..2 {
        crowd.add("wait", &["db", "wait", "acme/half", "--timeout", "80s", "--json"], &slow);
        crowd.add("resume-all", &["db", "resume", "--json"], &slow);
    }
    for _ in 0..3 {
        crowd.add("put-1", &["branch", "put", "acme/src@pr-1", "--with-data", "--json"], &slow);
        crowd.add("put-2", &["branch", "put", "acme/src@pr-2", "--json"], &[]);
    }
    for _ in 0..4 {
        crowd.add("list", &["db", "list", "--json"], &[]);
        crowd.add("show", &["db", "show", "acme/src", "--json"], &[]);
    }
    let n = crowd.procs.len();
    let t = Instant::now();
    let done = crowd.finish();
    let wall = t.elapsed();

    // Exit codes, and what each process says it made or removed.
    let mut made: BTreeMap<String, String> = BTreeMap::new(); // address → id
    let mut deleted: BTreeMap<String, usize> = BTreeMap::new();
    let mut gc_deleted: BTreeSet<String> = BTreeSet::new();
    let mut same_made = 0;
    let mut put_ids: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut builders: Vec<&Done> = Vec::new();
    let mut doomed_forks: Vec<Value> = Vec::new();
    let mut codes: BTreeMap<&str, BTreeMap<i32, usize>> = BTreeMap::new();
    for d in &done {
        *codes.entry(d.role).or_default().entry(d.code).or_default() += 1;
        if d.built().contains(&half_id) {
            builders.push(d);
        }
        match d.role {
            "fork" | "fork-data" => {
                expect_code(d, &[0]);
                let v = d.json();
                assert_eq!(v["status"], "healthy", "{}", d.describe());
                assert!(made.insert(s(&v, "address"), s(&v, "id")).is_none(), "{}", d.describe());
            }
            "fork-doomed" => {
                // Its source may be deleted before it starts (3), or while it
                // runs: the fork then completes from the open file.
                expect_code(d, &[0, 3]);
                if d.code == 0 {
                    let v = d.json();
                    made.insert(s(&v, "address"), s(&v, "id"));
                    doomed_forks.push(v);
                } else {
                    assert!(d.stderr.contains("acme/doomed"), "{}", d.describe());
                }
            }
            "delete-doomed" => expect_code(d, &[0]),
            "detach-wait" => {
                assert_eq!(d.code, 0, "{}", d.describe());
                let first: Value = serde_json::Deserializer::from_str(&d.stdout)
                    .into_iter::<Value>()
                    .next()
                    .unwrap_or_else(|| panic!("{}", d.describe()))
                    .unwrap();
                assert!(made.insert(s(&first, "address"), s(&first, "id")).is_none(), "{}", d.describe());
            }
            "same-fork" => {
                // One makes it; the others find it taken (4), whether it is
                // still being built or done.
                expect_code(d, &[0, 4]);
                if d.code == 0 {
                    same_made += 1;
                    made.insert(s(&d.json(), "address"), s(&d.json(), "id"));
                } else {
                    assert!(d.stderr.contains("local/same"), "{}", d.describe());
                }
            }
            "delete" => {
                // Each address is deleted by exactly one of its two deletes;
                // the other finds it gone (3).
                expect_code(d, &[0, 3]);
                if d.code == 0 {
                    *deleted.entry(s(&d.json()["deleted"], "address")).or_default() += 1;
                }
            }
            "gc" => {
                expect_code(d, &[0]);
                for e in d.json()["deleted"].as_array().unwrap() {
                    assert!(gc_deleted.insert(s(e, "address")), "two gc runs deleted {e}");
                }
            }
            "resume" => {
                // The loser of the race says another process is building it;
                // one that comes after it is done finds it healthy.
                expect_code(d, &[0, 1]);
                if d.code == 1 {
                    assert!(d.stderr.contains("another sqlfork process is building acme/half"), "{}", d.describe());
                } else {
                    assert_eq!(d.json()["status"], "healthy", "{}", d.describe());
                }
            }
            "wait" | "resume-all" | "list" | "show" => {
                expect_code(d, &[0]);
                d.json();
            }
            "put-1" | "put-2" => {
                expect_code(d, &[0]);
                put_ids.entry(d.role).or_default().insert(s(&d.json(), "id"));
            }
            other => panic!("unknown role {other}"),
        }
    }
    let slowest = done.iter().max_by_key(|d| d.took).unwrap();
    eprintln!("{n} processes at once: {wall:?} in all; slowest {:?}: {}", slowest.took, slowest.line);
    eprintln!("exit codes by role: {codes:?}");

    assert_eq!(same_made, 1, "exactly one of the identical forks made local/same");
    assert_eq!(
        deleted.keys().cloned().collect::<Vec<_>>(),
        (0..5).map(|i| format!("acme/del-{i}")).collect::<Vec<_>>()
    );
    assert!(deleted.values().all(|n| *n == 1), "{deleted:?}");
    assert_eq!(gc_deleted, (0..5).map(|i| format!("acme/old-{i}")).collect(), "gc took exactly the expired ones");
    assert_eq!(
        builders.len(),
        1,
        "exactly one process copied acme/half: {:?}",
        builders.iter().map(|d| d.describe()).collect::<Vec<_>>()
    );
    for (role, ids) in &put_ids {
        assert_eq!(ids.len(), 1, "{role}: every put of one branch reports one id: {ids:?}");
    }

    // The registry: exactly what was made, plus what was there and stayed.
    let all = entries(&env);
    let have: BTreeMap<String, String> = all.iter().map(|e| (e.address.clone(), e.id.clone())).collect();
    let mut want = made.clone();
    want.insert("acme/src".into(), have["acme/src"].clone());
    want.insert("acme/half".into(), half_id.clone());
    for (role, addr) in [("put-1", "acme/src@pr-1"), ("put-2", "acme/src@pr-2")] {
        want.insert(addr.into(), put_ids[role].iter().next().unwrap().clone());
    }
    assert_eq!(have, want, "registry = what the processes reported");
    for e in &all {
        assert!(e.healthy, "{} is still provisioning", e.address);
        if !e.owned {
            continue;
        }
        // Forks of acme/doomed (itself a data fork of acme/src) equal the
        // source too.
        assert_same(&src_image, &e.path, !e.include_data, &e.address);
    }
    eprintln!("forks of a source deleted meanwhile that completed: {}", doomed_forks.len());
    let strays = stray_files(&env);
    assert!(strays.is_empty(), "files no entry owns: {strays:?}");
    assert_eq!(image(&src_path), src_image, "the source is untouched");
}

#[test]
fn every_racer_for_one_interrupted_fork_ends_well_and_only_one_copies() {
    let env = Env::new();
    let src_path = env.db("src.db", SRC_SQL);
    let want = image(&src_path);
    env.config("copy_method = \"rows\"\nrows_per_page = 200\n");
    let id = interrupted_fork(&env, "./src.db", "local/half");
    let slow = [("SQLFORK_TEST_DELAY_MS", "10")];
    let mut crowd = Crowd::new(&env);
    for _ in 0..5 {
        crowd.add("resume", &["db", "resume", "local/half", "--json"], &slow);
        crowd.add("wait", &["db", "wait", "local/half", "--timeout", "80s", "--json"], &slow);
        crowd.add("again", &["db", "fork", "./src.db", "half", "--with-data", "--json"], &slow);
    }
    let done = crowd.finish();
    let mut builders = 0;
    let mut finished = 0;
    for d in &done {
        builders += d.built().iter().filter(|b| **b == id).count();
        match d.role {
            "resume" => {
                expect_code(d, &[0, 1]);
                if d.code == 1 {
                    assert!(d.stderr.contains("another sqlfork process is building local/half"), "{}", d.describe());
                } else if d.json()["resumed"] == true {
                    finished += 1;
                }
            }
            "wait" => {
                expect_code(d, &[0]);
                assert_eq!(d.json()["status"], "healthy");
            }
            // The same fork again: it finishes the interrupted one, or finds
            // the destination taken (being finished by another, or done).
            "again" => {
                expect_code(d, &[0, 4]);
                if d.code == 0 {
                    assert_eq!(d.json()["resumed"], true, "{}", d.describe());
                    finished += 1;
                }
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(builders, 1, "exactly one process copied local/half");
    assert!(finished <= 1, "{finished} processes say they finished the fork");
    let e = entries(&env).into_iter().find(|e| e.id == id).unwrap();
    assert!(e.healthy);
    assert_same(&want, &e.path, false, "the finished fork");
    assert_no_strays(&env, "at the end");
}

#[test]
fn a_registry_lock_held_for_a_moment_makes_writers_wait_not_fail() {
    let env = Env::new();
    env.db("src.db", SRC_SQL);
    env.cmd(["db", "import", "acme/src", "./src.db"]).run().ok();
    env.cmd(["db", "create", "acme/gone"]).run().ok();
    env.cmd(["db", "create", "acme/ttl"]).run().ok();
    env.cmd(["db", "create", "acme/old", "--ttl", "1h"]).now(T0).run().ok();
    // Hold the registry lock as a slow writer would.
    let lock = std::fs::OpenOptions::new().read(true).write(true).open(env.home.join("registry.lock")).unwrap();
    lock.lock().unwrap();
    let held = Instant::now();
    let hold = Duration::from_secs(3);
    let mut crowd = Crowd::new(&env);
    crowd.add("write", &["db", "create", "acme/new"], &[]);
    crowd.add("write", &["db", "fork", "acme/src", "f"], &[]);
    crowd.add("write", &["db", "fork", "acme/src", "d", "--with-data"], &[]);
    crowd.add("write", &["db", "delete", "acme/gone", "--yes"], &[]);
    crowd.add("write", &["db", "ttl", "acme/ttl", "2d"], &[]);
    crowd.add("write", &["db", "gc"], &[("SQLFORK_NOW", T_LATER)]);
    crowd.add("write", &["branch", "put", "acme/src@pr-1"], &[]);
    // Readers do not need the lock.
    crowd.add("read", &["db", "list", "--json"], &[]);
    crowd.add("read", &["db", "show", "acme/src", "--json"], &[]);
    crowd.add("read", &["db", "path", "acme/src"], &[]);
    // Readers finish while the lock is still held (with time to spare on a
    // busy machine).
    let readers_by = held + hold - Duration::from_millis(500);
    loop {
        let running: Vec<_> = crowd
            .procs
            .iter_mut()
            .filter(|p| p.role == "read")
            .filter_map(|p| p.bg.running().then(|| p.bg.line()))
            .collect();
        if running.is_empty() {
            break;
        }
        assert!(Instant::now() < readers_by, "readers waited for the registry lock: {running:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    // No writer got through meanwhile.
    for p in crowd.procs.iter_mut().filter(|p| p.role == "write") {
        assert!(p.bg.running(), "a writer ended while the lock was held: {}", p.bg.line());
    }
    std::thread::sleep(hold.saturating_sub(held.elapsed()));
    drop(lock);
    for d in crowd.finish() {
        expect_code(&d, &[0]);
        if d.role == "write" {
            assert!(d.took >= Duration::from_secs(2), "a writer did not wait for the lock: {}", d.describe());
        }
    }
    let addrs: BTreeSet<String> = entries(&env).into_iter().map(|e| e.address).collect();
    let want: BTreeSet<String> = ["acme/src", "acme/new", "acme/f", "acme/d", "acme/ttl", "acme/src@pr-1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(addrs, want);
    assert_no_strays(&env, "at the end");
}

#[test]
fn a_registry_lock_held_too_long_is_a_bounded_wait_that_says_why() {
    let env = Env::new();
    env.cmd(["db", "create", "acme/a"]).run().ok();
    let before = stray_files(&env);
    let lock = std::fs::OpenOptions::new().read(true).write(true).open(env.home.join("registry.lock")).unwrap();
    lock.lock().unwrap();
    let bound = [("SQLFORK_LOCK_TIMEOUT", "700ms")];
    for args in [
        vec!["db", "create", "acme/b"],
        vec!["db", "fork", "acme/a", "c"],
        vec!["db", "delete", "acme/a", "--yes"],
        vec!["db", "gc"],
    ] {
        let Run { code, stderr, took, .. } = env.cmd(&args).envs(&bound).run();
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("gave up after 700ms waiting for the registry lock held by another sqlfork process"),
            "{stderr}"
        );
        assert!(took >= Duration::from_millis(700) && took < Duration::from_secs(10), "{args:?} took {took:?}");
    }
    // Reads do not wait at all.
    env.cmd(["db", "list"]).envs(&bound).run().ok();
    let Run { code, stderr, .. } = env.cmd(["db", "list"]).envs(&[("SQLFORK_LOCK_TIMEOUT", "soon")]).run();
    assert_eq!(code, 0, "{stderr}");
    let Run { code, stderr, .. } = env.cmd(["db", "create", "acme/b"]).envs(&[("SQLFORK_LOCK_TIMEOUT", "soon")]).run();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("SQLFORK_LOCK_TIMEOUT"), "{stderr}");
    drop(lock);
    assert_eq!(entries(&env).into_iter().map(|e| e.address).collect::<Vec<_>>(), vec!["acme/a"]);
    assert_eq!(stray_files(&env), before, "the commands that gave up left nothing");
}

#[test]
fn a_wait_whose_database_is_deleted_meanwhile_says_so_with_exit_3() {
    let env = Env::new();
    env.db("src.db", SRC_SQL);
    let id = interrupted_fork(&env, "./src.db", "local/gone");
    // Another process is building it (its claim is held) …
    let claim = env.hold_claim(&id);
    let mut waiter = env.cmd(["db", "wait", "local/gone", "--timeout", "60s"]).spawn();
    waiter.wait_for_stderr("Waiting for the copy into local/gone", Duration::from_secs(30));
    // … and it goes away meanwhile (as a delete right after it finished
    // would do; written by hand, as the claim is ours).
    env.remove_entry(&id);
    let Run { code, stdout, stderr, .. } = waiter.finish();
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stderr.contains("local/gone no longer exists"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().filter(|l| l.starts_with("error:")).count(), 1, "{stderr}");
    drop(claim);
}

#[test]
fn gc_leaves_the_copy_a_branch_reset_is_about_to_swap_in() {
    let env = Env::new();
    env.db("src.db", SRC_SQL);
    env.cmd(["db", "import", "acme/src", "./src.db"]).run().ok();
    let branch =
        env.cmd(["branch", "put", "acme/src@pr-1", "--with-data", "--ttl", "1h", "--json"]).now(T0).run().ok().json();
    let branch_id = s(&branch, "id");
    // A reset whose copy is done but not yet swapped in: build the hidden
    // copy (a reset killed midway, finished by `db resume`) and hold the
    // branch's claim, as the reset does until its swap.
    let vars = [
        ("SQLFORK_NOW", T0),
        ("SQLFORK_TEST_CHUNK_PAGES", "2"),
        ("SQLFORK_TEST_DELAY_MS", "20"),
        ("SQLFORK_TEST_RESET_COPY", "1"),
    ];
    let mut reset = env.cmd(["branch", "put", "acme/src@pr-1", "--with-data", "--ttl", "1h"]).envs(&vars).spawn();
    wait_until("the reset's hidden copy", Duration::from_secs(60), || {
        assert!(reset.running(), "the reset ended before its copy was seen");
        entries(&env).iter().any(|e| e.is_reset_temp())
    });
    assert!(reset.kill(), "the reset ended before it could be killed");
    env.cmd(["db", "resume"]).now(T0).run().ok();
    let temp = entries(&env).into_iter().find(|e| e.is_reset_temp()).expect("the reset's copy");
    assert!(temp.healthy);
    let claim = env.hold_claim(&branch_id);

    // Both have expired; gc must not take the copy from under the reset.
    let out: Value = env.cmd(["db", "gc", "--json"]).now(T_LATER).run().ok().json();
    assert_eq!(out["deleted"], Value::Array(vec![]), "{out:#}");
    assert!(out["kept"].as_array().unwrap().iter().all(|k| k["reason"] == "busy"), "{out:#}");
    assert!(entries(&env).iter().any(|e| e.id == temp.id) && temp.path.is_file());
    drop(claim);
    // Once the reset is over, gc takes both.
    let out: Value = env.cmd(["db", "gc", "--json"]).now(T_LATER).run().ok().json();
    assert_eq!(out["deleted"].as_array().unwrap().len(), 2, "{out:#}");
    assert_eq!(entries(&env).into_iter().map(|e| e.address).collect::<Vec<_>>(), vec!["acme/src"]);
    assert_no_strays(&env, "at the end");
}

/// One chaos command: its kind, arguments, exit code and stderr.
type ChaosRun = (String, Vec<String>, i32, String);

/// What a chaos command may answer besides 0: (exit code, words its error
/// must contain). Anything else is a command failing for no good reason.
/// Exit codes per kind of command; every failure must be one `explained`
/// allows for that kind (its exit code, and words in its error).
fn tally(
    results: Vec<Vec<ChaosRun>>,
    explained: fn(&str) -> &'static [(i32, &'static str)],
    label: &str,
) -> BTreeMap<String, BTreeMap<i32, usize>> {
    let mut codes: BTreeMap<String, BTreeMap<i32, usize>> = BTreeMap::new();
    for (kind, args, code, stderr) in results.into_iter().flatten() {
        *codes.entry(kind.clone()).or_default().entry(code).or_default() += 1;
        if code == 0 {
            continue;
        }
        assert!(
            explained(&kind).iter().any(|(c, words)| *c == code && stderr.contains(words)),
            "unexplained: sqlfork {} → exit {code}\n{stderr}",
            args.join(" ")
        );
    }
    eprintln!("{label} exit codes: {codes:?}");
    codes
}

fn explained(kind: &str) -> &'static [(i32, &'static str)] {
    const TAKEN: (i32, &str) = (4, "already exists");
    const GONE: (i32, &str) = (3, "does not exist");
    const BUILDING: (i32, &str) = (1, "is being built by another sqlfork process");
    match kind {
        "fork" => &[TAKEN],
        "delete" | "branch-delete" => &[GONE, BUILDING],
        "resume" => &[GONE, (1, "another sqlfork process is building")],
        "wait" => &[GONE, (3, "no longer exists")],
        _ => &[],
    }
}

#[test]
fn random_commands_on_a_few_addresses_at_once_fail_only_for_explained_reasons() {
    const WORKERS: usize = 8;
    // More with SQLFORK_CRASH_LONG=1 (see tests/crash.rs).
    let steps = points(12, 80);
    let env = Env::new();
    let src_path = env.db("src.db", SRC_SQL);
    let want = image(&src_path);
    env.cmd(["db", "import", "acme/src", "./src.db"]).run().ok();
    let mut rng = Rng::new("chaos");
    let mut rngs: Vec<Rng> = (0..WORKERS).map(|_| rng.split()).collect();
    let results: Vec<Vec<ChaosRun>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rngs
            .iter_mut()
            .map(|rng| {
                let env = &env;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for _ in 0..steps {
                        let x = format!("x{}", rng.below(3));
                        let addr = format!("acme/{x}");
                        let branch = format!("acme/src@pr-{}", rng.below(2));
                        let (kind, args): (&str, Vec<&str>) = match rng.below(12) {
                            0 => ("fork", vec!["db", "fork", "acme/src", &x, "--ttl", "1h"]),
                            1 => ("fork", vec!["db", "fork", "acme/src", &x, "--with-data"]),
                            2 => ("fork", vec!["db", "fork", "acme/src", &x, "--with-data", "--detach"]),
                            3 => ("delete", vec!["db", "delete", &addr, "--yes"]),
                            4 => ("put", vec!["branch", "put", &branch, "--with-data", "--ttl", "1h"]),
                            5 => ("put", vec!["branch", "put", &branch]),
                            6 => ("branch-delete", vec!["branch", "delete", &branch, "--yes"]),
                            7 => ("resume", vec!["db", "resume", &addr]),
                            8 => ("wait", vec!["db", "wait", &addr, "--timeout", "60s"]),
                            9 => ("gc", vec!["db", "gc"]),
                            10 => ("resume-all", vec!["db", "resume"]),
                            _ => ("list", vec!["db", "list"]),
                        };
                        let now = if kind == "gc" { T_LATER } else { T0 };
                        let vars =
                            [("SQLFORK_NOW", now), ("SQLFORK_TEST_CHUNK_PAGES", "16"), ("SQLFORK_TEST_DELAY_MS", "2")];
                        let Run { code, stderr, .. } = env.cmd(&args).envs(&vars).run();
                        out.push((kind.to_string(), args.iter().map(|a| a.to_string()).collect(), code, stderr));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    tally(results, explained, "chaos");
    // Let background copies finish, then everything is whole.
    for e in entries(&env).into_iter().filter(|e| !e.healthy) {
        let Run { code, stderr, .. } = env.cmd(["db", "wait", &e.address, "--timeout", "60s"]).run();
        assert!(code == 0 || code == 3, "{stderr}");
    }
    env.cmd(["db", "resume"]).run().ok();
    env.cmd(["db", "gc"]).now(T0).run().ok();
    for e in entries(&env) {
        assert!(e.healthy, "{e:?}");
        if e.owned {
            assert_same(&want, &e.path, !e.include_data, &e.address);
        }
    }
    assert_no_strays(&env, "at the end");
}

#[test]
fn the_same_fork_again_makes_it_afresh_when_the_interrupted_one_is_deleted_meanwhile() {
    let env = Env::new();
    let src = env.db("src.db", SRC_SQL);
    let want = image(&src);
    // The fork run again must reach its wait for the claim before the claim
    // is let go; one that gave up waiting first (exit 4) is a miss: again.
    let mut misses = 0;
    loop {
        let id = interrupted_fork(&env, "./src.db", "local/again");
        // Another process has the interrupted fork (its claim is held) …
        let claim = env.hold_claim(&id);
        let tries = OpenWatch::new(&env.claim_path(&id));
        // … when the same fork is run again: it finds the interrupted entry
        // and waits a moment for the claim (opening the claim file to try) …
        let again = env.cmd(["db", "fork", "./src.db", "again", "--with-data", "--json"]).spawn();
        tries.wait_opened(Duration::from_secs(30));
        // … which the other process lets go of after deleting the entry.
        env.remove_entry(&id);
        let _ = std::fs::remove_file(env.home.join("databases").join(format!("{id}.sqlite")));
        drop(claim);
        let run = again.finish();
        if run.code == 4 && run.stderr.contains("is building it right now") {
            misses += 1;
            eprintln!("miss {misses}: the fork gave up waiting before the claim was let go");
            assert!(misses < 5, "{misses} misses in a row\n{}", run.dump());
            continue;
        }
        assert_eq!(run.code, 0, "the fork is made afresh:\n{}", run.dump());
        assert_ne!(s(&run.json(), "id"), id);
        break;
    }
    let e = entries(&env).into_iter().find(|e| e.address == "local/again").unwrap();
    assert_same(&want, &e.path, false, "the new fork");
    env.cmd(["db", "gc"]).run().ok();
    assert_no_strays(&env, "at the end");
}

#[test]
fn a_put_waits_for_a_resume_that_took_up_its_interrupted_reset() {
    let env = Env::new();
    let src = env.db("src.db", SRC_SQL);
    let want = image(&src);
    env.cmd(["db", "import", "acme/src", "./src.db"]).run().ok();
    let put = ["branch", "put", "acme/src@pr-1", "--with-data", "--json"];
    let first: Value = env.cmd(put).run().ok().json();
    // A reset killed midway leaves its hidden copy provisioning …
    // (The copy-and-rename reset: a reset by pages has no copy to take up.)
    let slow = [("SQLFORK_TEST_CHUNK_PAGES", "2"), ("SQLFORK_TEST_DELAY_MS", "20"), ("SQLFORK_TEST_RESET_COPY", "1")];
    let mut reset = env.cmd(put).envs(&slow).spawn();
    let temp = copy_under_way(&env, &mut reset, Entry::is_reset_temp, "the reset");
    reset.kill();
    // … which `db resume` takes up, slowly (it holds the copy's claim),
    // while the next put comes.
    let resume = env.cmd(["db", "resume", "--json"]).envs(&slow).spawn();
    wait_until("db resume to take up the reset's copy", Duration::from_secs(30), || env.claimed(&temp));
    let out = env.cmd(put).run();
    assert_eq!(out.code, 0, "the put waits for the resume, then resets:\n{}", out.dump());
    let out = out.json();
    assert_eq!(s(&out, "id"), s(&first, "id"));
    resume.finish().ok();
    assert_same(&want, Path::new(&s(&out, "path")), false, "the branch");
    assert_eq!(entries(&env).into_iter().map(|e| e.address).collect::<Vec<_>>(), vec!["acme/src", "acme/src@pr-1"]);
    env.cmd(["db", "gc"]).run().ok();
    assert_no_strays(&env, "at the end");
}

#[test]
fn a_background_copy_whose_fork_is_deleted_before_it_starts_leaves_no_failure_note() {
    let env = Env::new();
    env.db("src.db", SRC_SQL);
    let id = interrupted_fork(&env, "./src.db", "local/bg");
    // The process that started the background copy still holds the claim
    // (as `db fork --detach` does until the copy takes over) …
    let claim = env.hold_claim(&id);
    let tries = OpenWatch::new(&env.claim_path(&id));
    let child = env.cmd(["db", "resume", "--background", "local/bg"]).spawn();
    // It has found the fork and tries for the claim …
    tries.wait_opened(Duration::from_secs(30));
    // … and the fork is deleted before the copy gets to it.
    env.remove_entry(&id);
    drop(claim);
    let Run { code, stderr, .. } = child.finish();
    assert_eq!(code, 3, "{stderr}");
    env.cmd(["db", "gc"]).run().ok();
    let notes: Vec<String> = env.database_files().into_iter().filter(|f| f.ends_with(".failed")).collect();
    assert!(notes.is_empty(), "nothing failed, yet a note was left for a `db wait` that will never come: {notes:?}");
    assert_no_strays(&env, "at the end");
}

/// What a snapshot-chaos command may answer besides 0.
fn snapshot_explained(kind: &str) -> &'static [(i32, &'static str)] {
    const TAKEN: (i32, &str) = (4, "already exists");
    const NO_SNAPSHOT: (i32, &str) = (3, "there is no snapshot");
    const GONE: (i32, &str) = (3, "does not exist");
    match kind {
        "snapshot-create" => &[TAKEN, (4, "another sqlfork process is taking snapshot")],
        "snapshot-delete" => &[NO_SNAPSHOT],
        // A snapshot deleted between the lookup and the first read.
        "fork-snapshot" | "fork-at" => {
            &[TAKEN, NO_SNAPSHOT, (3, "no snapshot of acme/src was taken"), (3, "does not exist")]
        }
        "reset" => &[GONE, (2, "the snapshot it was forked from"), NO_SNAPSHOT, (1, "it is still provisioning")],
        "delete" => &[GONE, (1, "is being built by another sqlfork process")],
        _ => &[],
    }
}

/// Snapshot create and delete, forks from snapshots (by name and `--at`),
/// resets, deletes and gc, all at once in one home: every exit is
/// explained, every snapshot listed is whole, read-only and the moment it
/// was taken, every fork is whole, and nothing hidden or stray is left.
#[test]
fn snapshots_forks_resets_deletes_and_gc_at_once_lose_nothing_and_expose_no_half_snapshot() {
    const WORKERS: usize = 6;
    let steps = points(8, 60);
    let env = Env::new();
    let src_path = env.db("src.db", SRC_SQL);
    let want = image(&src_path);
    env.cmd(["db", "import", "acme/src", "./src.db"]).run().ok();
    // Something for the crowd to reset, delete and fork from.
    env.cmd(["snapshot", "create", "acme/src:s0", "--ttl", "3h"]).now(T0).run().ok();
    env.cmd(["db", "fork", "acme/src", "x0", "--with-data"]).now(T0).run().ok();
    env.cmd(["db", "fork", "acme/src:s0", "x1", "--with-data"]).now(T0).run().ok();
    let mut rng = Rng::new("snapshot chaos");
    let mut rngs: Vec<Rng> = (0..WORKERS).map(|_| rng.split()).collect();
    let results: Vec<Vec<ChaosRun>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rngs
            .iter_mut()
            .map(|rng| {
                let env = &env;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for _ in 0..steps {
                        let x = format!("x{}", rng.below(3));
                        let addr = format!("acme/{x}");
                        let snap = format!("acme/src:s{}", rng.below(4));
                        // gc runs two hours on: it takes the 1h snapshots.
                        let ttl = if rng.chance(0.5) { "1h" } else { "3h" };
                        let (kind, args): (&str, Vec<&str>) = match rng.below(9) {
                            0 | 1 => ("snapshot-create", vec!["snapshot", "create", &snap, "--ttl", ttl]),
                            2 => ("snapshot-delete", vec!["snapshot", "delete", &snap, "--yes"]),
                            3 => ("fork-snapshot", vec!["db", "fork", &snap, &x, "--with-data"]),
                            4 => ("fork-at", vec!["db", "fork", "acme/src", &x, "--with-data", "--at", T0]),
                            5 => ("reset", vec!["db", "reset", &addr]),
                            6 => ("delete", vec!["db", "delete", &addr, "--yes"]),
                            7 => ("gc", vec!["db", "gc"]),
                            _ => ("list", vec!["snapshot", "list", "acme/src"]),
                        };
                        let now = if kind == "gc" { T_LATER } else { T0 };
                        let vars =
                            [("SQLFORK_NOW", now), ("SQLFORK_TEST_CHUNK_PAGES", "16"), ("SQLFORK_TEST_DELAY_MS", "2")];
                        let Run { code, stderr, .. } = env.cmd(&args).envs(&vars).run();
                        out.push((kind.to_string(), args.iter().map(|a| a.to_string()).collect(), code, stderr));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let codes = tally(results, snapshot_explained, "snapshot chaos");
    assert!(codes.get("snapshot-create").is_some_and(|c| c.contains_key(&0)), "no snapshot was taken: {codes:?}");
    let list = env.cmd(["--json", "snapshot", "list", "acme/src"]).run().ok().json();
    for s in list.as_array().unwrap() {
        let p = std::path::PathBuf::from(s["path"].as_str().unwrap());
        assert_eq!(mode(&p), 0o400, "{s}");
        assert_same(&want, &p, false, &format!("snapshot {}", s["name"]));
    }
    for e in entries(&env) {
        assert!(e.healthy && !e.is_reset_temp(), "{e:?}");
        if e.owned {
            assert_same(&want, &e.path, !e.include_data, &e.address);
        }
    }
    assert!(stray_files(&env).is_empty(), "{:?}", stray_files(&env));
}
