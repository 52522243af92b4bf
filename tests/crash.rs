//! Crash suite: `kill -9` at many random moments during every kind of write
//! sqlfork does — schema replay, data copies by pages and by rows (the row
//! copy and the index build after it), registry writes, branch resets and
//! `db gc` — and after each kill:
//!
//! - the registry (`registry.sqlite`) reads whole, and every entry is `healthy` or `provisioning`;
//! - every healthy database passes `integrity_check`, and a fork equals its
//!   source (sqlite_master, settings, every table's rows with their rowids);
//! - every provisioning fork is resumable: `db resume`, `db wait` or the same
//!   `db fork` again finishes it, and then it equals its source;
//! - once the next command of the same kind has run (the fork again, the
//!   next `branch put`, `db gc`, `db create`), no file is left under home
//!   that no entry owns.
//!
//! Kill moments come from a seeded generator; each test prints its seed and
//! `SQLFORK_CRASH_SEED=N` replays it. Each operation is timed once first and
//! the kills are spread over that whole duration (one random moment in each
//! equal slice of it).
//!
//! `cargo test` runs a quick version (about 40 kill points). The long
//! version (about 400 kill points) is:
//!
//!     SQLFORK_CRASH_LONG=1 cargo test --release --test crash -- --nocapture
//!
//! (it works without `--release` too, only slower).

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A schema of a few hundred objects: replaying it takes long enough to be
/// interrupted. A few rows too, which a schema-only fork must not copy.
fn schema_source(env: &Env) -> PathBuf {
    let mut sql = String::from("PRAGMA user_version = 7; PRAGMA application_id = 1234;\n");
    for i in 0..120 {
        sql.push_str(&format!(
            "CREATE TABLE t_{i}(id INTEGER PRIMARY KEY, a TEXT, b INTEGER DEFAULT {i}, c REAL);
             CREATE INDEX t_{i}_a ON t_{i}(a);
             CREATE INDEX t_{i}_bc ON t_{i}(b, c DESC);
             CREATE TRIGGER t_{i}_tr AFTER INSERT ON t_{i} BEGIN UPDATE t_{i} SET b = b + 1 WHERE id = new.id; END;
             INSERT INTO t_{i}(a, c) VALUES ('x', 1.5);\n"
        ));
        if i % 3 == 0 {
            sql.push_str(&format!("CREATE VIEW v_{i} AS SELECT a, b FROM t_{i} WHERE b > {i};\n"));
        }
    }
    env.db("schema.db", &sql)
}

/// A source with rows: AUTOINCREMENT, a WITHOUT ROWID table, rowid gaps,
/// indexes to build, a view, a trigger that must not fire during a copy,
/// and statistics.
const DATA_SQL: &str = "
    PRAGMA user_version = 42;
    CREATE TABLE customers(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT UNIQUE);
    CREATE TABLE items(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id), body TEXT, qty INTEGER, price REAL);
    CREATE TABLE tags(tag TEXT, item INTEGER, weight INTEGER, PRIMARY KEY(tag, item)) WITHOUT ROWID;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
      INSERT INTO customers(name, email) SELECT printf('customer %d', i), printf('c%d@example.com', i) FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
      INSERT INTO items SELECT i, 1 + i % 500, printf('item %d %s', i, hex(randomblob(20))), i % 13, i * 0.25 FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
      INSERT INTO tags SELECT printf('tag-%d', i % 40), i, i % 7 FROM n;
    DELETE FROM items WHERE id % 7 = 0;
    UPDATE items SET customer = NULL WHERE customer > 490;
    DELETE FROM customers WHERE id > 490;
    CREATE INDEX items_customer ON items(customer);
    CREATE INDEX items_body ON items(body);
    CREATE INDEX items_qty_price ON items(qty, price DESC);
    CREATE VIEW big_items AS SELECT * FROM items WHERE qty > 5;
    CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN UPDATE customers SET name = name || '!' WHERE id = new.customer; END;
    ANALYZE;
";

fn data_source(env: &Env, name: &str, wal: bool) -> PathBuf {
    let p = env.db(name, DATA_SQL);
    if wal {
        exec(&p, "PRAGMA journal_mode = WAL;");
    }
    p
}

/// Outcomes of the kill points of one scenario, for the log.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, usize>);

impl Tally {
    fn add(&mut self, what: &'static str) {
        *self.0.entry(what).or_default() += 1;
    }
    fn get(&self, what: &str) -> usize {
        self.0.get(what).copied().unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.0.values().sum()
    }
}

// ---------------------------------------------------------------------------
// Forks

/// How a killed fork gets finished.
const RECOVERIES: [&str; 4] = ["resume", "resume-all", "wait", "fork-again"];

struct ForkScenario<'a> {
    env: &'a Env,
    /// `db fork` arguments before the destination (source) and after it.
    src_arg: String,
    extra: Vec<&'static str>,
    vars: Vec<(&'static str, String)>,
    want: Image,
    schema_only: bool,
}

impl ForkScenario<'_> {
    fn args<'b>(&'b self, dst: &'b str) -> Vec<&'b str> {
        let mut a = vec!["db", "fork", self.src_arg.as_str(), dst];
        a.extend(self.extra.iter().copied());
        a
    }

    fn vars(&self) -> Vec<(&str, &str)> {
        self.vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// Fork into `dst`, killed after `delay`; check what is left (and tally
    /// the moment), finish it the way `rng` picks, check the result, delete
    /// it.
    fn kill_point(&self, rng: &mut Rng, dst: &str, delay: Duration, tally: &mut Tally) {
        let addr = format!("crash/{dst}");
        let vars = self.vars();
        let running = self.env.cmd(self.args(&addr)).envs(&vars).spawn().kill_after(delay);
        let what = format!("fork killed after {delay:?}");
        let state = self.state_after_kill(&addr, &what);
        tally.add(if running { state } else { "finished-before-kill" });
        let entry = entries(self.env).into_iter().find(|e| e.address == addr);
        match entry {
            Some(e) if e.healthy => {}
            Some(_) => {
                let how = *rng.pick(&RECOVERIES);
                let run = match how {
                    "resume" => self.env.cmd(["db", "resume", &addr, "--json"]).run(),
                    "resume-all" => self.env.cmd(["db", "resume", "--json"]).run(),
                    "wait" => self.env.cmd(["db", "wait", &addr, "--timeout", "120s", "--json"]).run(),
                    _ => self.env.cmd(self.args(&addr)).arg("--json").run(),
                };
                run.ok().json();
            }
            // Killed before its entry was written: the same fork again
            // makes it (and tidies what the killed one left).
            None => {
                self.env.cmd(self.args(&addr)).run().ok();
            }
        }
        let e = entries(self.env).into_iter().find(|e| e.address == addr).expect("the fork exists after recovery");
        assert!(e.healthy, "{what}: {addr} still provisioning after recovery");
        assert_same(&self.want, &e.path, self.schema_only, &what);
        assert_no_strays(self.env, &what);
        self.env.cmd(["db", "delete", &addr, "--yes"]).run().ok();
        assert_no_strays(self.env, &format!("{what}, then deleted"));
    }

    /// What the kill left: checks the invariants and classifies the moment.
    fn state_after_kill(&self, addr: &str, what: &str) -> &'static str {
        let all = entries(self.env);
        for e in &all {
            if e.healthy {
                assert!(e.path.is_file(), "{what}: healthy {} has no file", e.address);
                sound(&e.path).unwrap_or_else(|err| panic!("{what}: {err}"));
            }
        }
        let Some(e) = all.iter().find(|e| e.address == addr) else { return "before-entry" };
        if e.healthy {
            assert_same(&self.want, &e.path, self.schema_only, what);
            return "healthy";
        }
        let state_file = self.env.home.join("databases").join(format!("{}.copy.json", e.id));
        let Ok(text) = std::fs::read_to_string(state_file) else { return "provisioning" };
        let Ok(state) = serde_json::from_str::<serde_json::Value>(&text) else { return "provisioning" };
        let n = |k: &str| state.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        match state.get("method").and_then(|m| m.as_str()) {
            Some("rows") => self.row_copy_phase(&e.path),
            Some("pages") if n("pages_written") > 0 && n("pages_written") >= n("page_count") => "pages-copied",
            Some("pages") if n("pages_done") > 0 => "page-copy-synced",
            Some("pages") if n("pages_written") > 0 => "page-copy",
            _ => "provisioning",
        }
    }

    /// Where a killed row copy stopped, read from the fork itself (its copy
    /// state is only saved twice a second): tables not made yet, rows being
    /// copied, all rows in but indexes not built, or indexes built.
    fn row_copy_phase(&self, fork: &Path) -> &'static str {
        let Ok(conn) = rusqlite::Connection::open_with_flags(fork, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
            return "provisioning";
        };
        let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).ok();
        let Some(rows) = q("SELECT count(*) FROM items") else { return "provisioning" };
        let want = self.want.tables.get("items").map_or(0, |t| t.0) as i64;
        if rows < want {
            "row-copy"
        } else if q("SELECT count(*) FROM sqlite_master WHERE name = 'items_body'") == Some(0) {
            "index-build"
        } else {
            "indexes-built"
        }
    }
}

/// Time a fork into `crash/timing`, check it, delete it.
fn timed_fork(s: &ForkScenario<'_>) -> Duration {
    let vars = s.vars();
    let took = s.env.cmd(s.args("crash/timing")).envs(&vars).run().ok().took;
    let e = entries(s.env).into_iter().find(|e| e.address == "crash/timing").unwrap();
    assert_same(&s.want, &e.path, s.schema_only, "uninterrupted fork");
    s.env.cmd(["db", "delete", "crash/timing", "--yes"]).run().ok();
    took
}

fn run_fork_scenario(name: &str, s: &ForkScenario<'_>, n: usize, must_see: &[&str]) {
    let mut rng = Rng::new(name);
    let full = timed_fork(s);
    let started = Instant::now();
    let mut tally = Tally::default();
    // A little past the end too: a kill after the last write must be fine.
    for (i, delay) in rng.spread(n, full.mul_f64(1.1)).into_iter().enumerate() {
        s.kill_point(&mut rng, &format!("k-{i}"), delay, &mut tally);
    }
    eprintln!("{name}: {n} kill points over {full:?} each, {:?} in all; states: {:?}", started.elapsed(), tally.0);
    assert_eq!(tally.total(), n);
    assert!(tally.get("finished-before-kill") < n, "{name}: every kill came after the fork was done");
    for state in must_see {
        assert!(tally.get(state) > 0, "{name}: no kill landed in state {state:?}: {:?}", tally.0);
    }
}

#[test]
fn schema_only_fork_killed_anywhere_is_resumable_and_leaves_nothing_stray() {
    let env = Env::new();
    let src = schema_source(&env);
    let s = ForkScenario {
        env: &env,
        src_arg: "./schema.db".into(),
        extra: vec![],
        vars: vec![],
        want: image(&src),
        schema_only: true,
    };
    // Much of a schema-only fork is checking the schema before anything is
    // written; the kills land there, in the replay, and after it.
    run_fork_scenario("schema-only fork", &s, points(5, 60), &[]);
}

#[test]
fn page_copy_killed_anywhere_resumes_to_an_identical_fork() {
    let env = Env::new();
    let rollback = data_source(&env, "data.db", false);
    let wal = data_source(&env, "data-wal.db", true);
    let vars = vec![("SQLFORK_TEST_CHUNK_PAGES", "4".to_string()), ("SQLFORK_TEST_DELAY_MS", "2".to_string())];
    for (name, src, n) in
        [("page copy, rollback source", &rollback, points(5, 50)), ("page copy, WAL source", &wal, points(3, 30))]
    {
        let s = ForkScenario {
            env: &env,
            src_arg: format!("./{}", src.file_name().unwrap().to_string_lossy()),
            extra: vec!["--with-data"],
            vars: vars.clone(),
            want: image(src),
            schema_only: false,
        };
        run_fork_scenario(name, &s, n, &[]);
    }
}

#[test]
fn row_copy_and_index_build_killed_anywhere_resume_to_an_identical_fork() {
    let env = Env::new();
    let src = data_source(&env, "data.db", false);
    env.config("copy_method = \"rows\"\nrows_per_page = 300\n");
    let s = ForkScenario {
        env: &env,
        src_arg: "./data.db".into(),
        extra: vec!["--with-data"],
        vars: vec![("SQLFORK_TEST_DELAY_MS", "4".to_string())],
        want: image(&src),
        schema_only: false,
    };
    // The index build is about a fifth of the time: ten slices make sure
    // some kill lands in it.
    run_fork_scenario("row copy", &s, points(10, 80), &["row-copy", "index-build"]);
}

// ---------------------------------------------------------------------------
// Registry writes: several workers create, fork and delete at once; all of
// them are killed at one random moment.

#[derive(Clone, Debug)]
enum Op {
    Create(String),
    Fork(String),
    Delete(String),
}

impl Op {
    fn args(&self) -> Vec<String> {
        let v: Vec<&str> = match self {
            Op::Create(a) => vec!["db", "create", a, "--ttl", "2d"],
            Op::Fork(a) => vec!["db", "fork", "./small.db", a],
            Op::Delete(a) => vec!["db", "delete", a, "--yes"],
        };
        v.into_iter().map(String::from).collect()
    }
    fn address(&self) -> &str {
        match self {
            Op::Create(a) | Op::Fork(a) | Op::Delete(a) => a,
        }
    }
}

/// Each worker's commands: make two databases, delete the previous two.
fn worker_ops(round: usize, worker: usize, steps: usize) -> Vec<Op> {
    let mut ops = Vec::new();
    for j in 0..steps {
        ops.push(Op::Create(format!("crash/r{round}-w{worker}-c{j}")));
        ops.push(Op::Fork(format!("crash/r{round}-w{worker}-f{j}")));
        if j > 0 {
            ops.push(Op::Delete(format!("crash/r{round}-w{worker}-c{}", j - 1)));
            ops.push(Op::Delete(format!("crash/r{round}-w{worker}-f{}", j - 1)));
        }
    }
    ops
}

struct Pids {
    stop: bool,
    running: Vec<Option<u32>>,
}

/// Run every worker's commands concurrently (each worker in order); with
/// `kill_at`, kill -9 whatever runs at that moment and stop. Returns, per
/// worker, the exit codes of the commands that ended (None: killed).
fn run_workers(env: &Env, work: &[Vec<Op>], kill_at: Option<Duration>) -> Vec<Vec<Option<i32>>> {
    let pids = Arc::new(Mutex::new(Pids { stop: false, running: vec![None; work.len()] }));
    let handles: Vec<_> = work
        .iter()
        .cloned()
        .enumerate()
        .map(|(w, ops)| {
            let pids = pids.clone();
            let base = env.cmd::<&str>([]);
            std::thread::spawn(move || {
                let mut codes = Vec::new();
                for op in ops {
                    let child = {
                        let mut p = pids.lock().unwrap();
                        if p.stop {
                            break;
                        }
                        let child = base.clone().args(op.args()).spawn();
                        p.running[w] = Some(child.id());
                        child
                    };
                    let run = child.finish();
                    pids.lock().unwrap().running[w] = None;
                    codes.push((run.signal.is_none()).then_some(run.code));
                    if run.code > 0 {
                        eprintln!("worker {w}: failed\n{}", run.dump());
                    }
                }
                codes
            })
        })
        .collect();
    if let Some(at) = kill_at {
        std::thread::sleep(at);
        let mut p = pids.lock().unwrap();
        p.stop = true;
        for pid in p.running.iter().flatten() {
            // SAFETY: kill(2) on a child the worker has not reaped yet (the
            // worker clears the pid under this lock before it could reuse).
            unsafe {
                libc::kill(*pid as i32, libc::SIGKILL);
            }
        }
    }
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Check the registry against what the workers did: every command that
/// finished must show, the one each worker had in flight may or may not.
/// Returns how many commands were killed.
fn check_against_model(env: &Env, round: usize, work: &[Vec<Op>], codes: &[Vec<Option<i32>>], what: &str) -> usize {
    let mut must: BTreeSet<String> = BTreeSet::new();
    let mut maybe: BTreeSet<String> = BTreeSet::new();
    let mut killed = 0;
    for (ops, codes) in work.iter().zip(codes) {
        for (op, code) in ops.iter().zip(codes) {
            match code {
                Some(0) => match op {
                    Op::Create(a) | Op::Fork(a) => {
                        must.insert(a.clone());
                    }
                    Op::Delete(a) => {
                        must.remove(a);
                        maybe.remove(a);
                    }
                },
                Some(c) => panic!("{what}: sqlfork {} exited {c}", op.args().join(" ")),
                None => {
                    killed += 1;
                    maybe.insert(op.address().to_string());
                    if matches!(op, Op::Delete(_)) {
                        must.remove(op.address());
                    }
                }
            }
        }
    }
    let prefix = format!("crash/r{round}-");
    let all = entries(env);
    let have: BTreeSet<String> =
        all.iter().filter(|e| e.address.starts_with(&prefix)).map(|e| e.address.clone()).collect();
    let lost: Vec<_> = must.difference(&have).collect();
    assert!(lost.is_empty(), "{what}: entries lost: {lost:?}");
    let extra: Vec<_> = have.difference(&must).filter(|a| !maybe.contains(*a)).collect();
    assert!(extra.is_empty(), "{what}: entries that should not exist: {extra:?}");
    for e in all.iter().filter(|e| e.healthy) {
        assert!(e.path.is_file(), "{what}: healthy {} has no file", e.address);
        sound(&e.path).unwrap_or_else(|err| panic!("{what}: {err}"));
    }
    killed
}

#[test]
fn registry_writes_killed_anywhere_lose_nothing_and_leave_nothing_stray() {
    const WORKERS: usize = 4;
    const STEPS: usize = 3;
    let env = Env::new();
    let small = image(&env.db("small.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, x TEXT); CREATE INDEX t_x ON t(x);"));
    let mut rng = Rng::new("registry writes");
    // Timing round, not killed: every command succeeds, nothing is lost.
    let work: Vec<Vec<Op>> = (0..WORKERS).map(|w| worker_ops(0, w, STEPS)).collect();
    let (codes, full) = time(|| run_workers(&env, &work, None));
    assert_eq!(check_against_model(&env, 0, &work, &codes, "uninterrupted round"), 0);
    assert_no_strays(&env, "uninterrupted round");

    let n = points(6, 60);
    let mut killed = 0;
    let started = Instant::now();
    for (i, at) in rng.spread(n, full).into_iter().enumerate() {
        let round = i + 1;
        let work: Vec<Vec<Op>> = (0..WORKERS).map(|w| worker_ops(round, w, STEPS)).collect();
        let codes = run_workers(&env, &work, Some(at));
        let what = format!("round {round}, killed after {at:?}");
        killed += check_against_model(&env, round, &work, &codes, &what);
        // Provisioning forks finish; the next create and delete tidy up.
        env.cmd(["db", "resume"]).run().ok();
        for e in entries(&env) {
            assert!(e.healthy, "{what}: db resume left {} provisioning", e.address);
            if e.address.contains("-f") {
                assert_same(&small, &e.path, true, &format!("{what}: {}", e.address));
            }
        }
        let next = format!("crash/after-{round}");
        env.cmd(["db", "create", &next]).run().ok();
        env.cmd(["db", "delete", &next, "--yes"]).run().ok();
        assert_no_strays(&env, &what);
    }
    eprintln!(
        "registry writes: {n} rounds of {WORKERS} workers killed over {full:?}, {killed} commands killed, {:?} in all",
        started.elapsed()
    );
    assert!(killed > 0, "no command was running at any kill");
}

// ---------------------------------------------------------------------------
// Branch resets

const MARK: &str = "INSERT INTO tags VALUES ('branch-mark', -1, 0)";

#[test]
fn branch_reset_killed_anywhere_keeps_a_sound_branch_and_the_next_put_finishes() {
    let env = Env::new();
    let parent = data_source(&env, "parent.db", false);
    let want = image(&parent);
    env.cmd(["db", "import", "acme/parent", parent.to_str().unwrap()]).run().ok();
    let vars = [("SQLFORK_TEST_CHUNK_PAGES", "4"), ("SQLFORK_TEST_DELAY_MS", "2")];
    let addr = "acme/parent@pr-1";
    let put = ["branch", "put", addr, "--with-data", "--json"];
    let first = env.cmd(put).envs(&vars).run().ok().json();
    let mut id = first["id"].as_str().unwrap().to_string();
    let mut path = PathBuf::from(first["path"].as_str().unwrap());
    exec(&path, MARK);
    let full = env.cmd(put).envs(&vars).run().ok().took;
    assert_same(&want, &path, false, "uninterrupted reset");

    let mut rng = Rng::new("branch reset");
    let n = points(6, 60);
    let mut tally = Tally::default();
    let started = Instant::now();
    for (i, delay) in rng.spread(n, full.mul_f64(1.1)).into_iter().enumerate() {
        // Now and then a schema-only put, and now and then the first put
        // of a branch (deleted first) rather than a reset.
        let with_data = rng.chance(0.75);
        let first_put = rng.chance(0.2);
        if first_put {
            env.cmd(["branch", "delete", addr, "--yes"]).run().ok();
        } else if int(&path, "SELECT count(*) FROM tags WHERE item = -1") == 0 {
            exec(&path, MARK);
        }
        // A put keeps the branch's data mode unless told: say which.
        let args = vec!["branch", "put", addr, if with_data { "--with-data" } else { "--schema-only" }];
        let what = format!("put {i} (data {with_data}, first {first_put}) killed after {delay:?}");
        let running = env.cmd(&args).envs(&vars).spawn().kill_after(delay);

        let all = entries(&env);
        let branch = all.iter().find(|e| e.address == addr);
        let state = match branch {
            None => {
                assert!(first_put, "{what}: the branch vanished");
                "before-entry"
            }
            Some(b) if !b.healthy => {
                assert!(first_put, "{what}: a reset made the branch provisioning");
                "first-put-provisioning"
            }
            Some(b) => {
                // A branch that is healthy is whole: the old one (marked)
                // or the new one, equal to the parent.
                sound(&b.path).unwrap_or_else(|e| panic!("{what}: {e}"));
                if first_put {
                    assert_same(&want, &b.path, !with_data, &what);
                    "first-put-done"
                } else {
                    assert_eq!(b.id, id, "{what}: same id");
                    assert_eq!(b.path, path, "{what}: same path");
                    if int(&b.path, "SELECT count(*) FROM tags WHERE item = -1") == 1 {
                        if all.iter().any(|e| e.is_reset_temp()) {
                            "reset-in-progress"
                        } else {
                            "old-branch"
                        }
                    } else {
                        assert_same(&want, &b.path, !with_data, &what);
                        "new-branch"
                    }
                }
            }
        };
        tally.add(if running { state } else { "finished-before-kill" });
        for e in all.iter().filter(|e| e.healthy && !e.is_reset_temp()) {
            sound(&e.path).unwrap_or_else(|err| panic!("{what}: {err}"));
        }

        // The next put finishes the job: the parent's state, same id and
        // path, no hidden reset copy, no stray file.
        let out = env.cmd(["branch", "put", addr, "--with-data", "--json"]).run().ok().json();
        let b = PathBuf::from(out["path"].as_str().unwrap());
        assert_same(&want, &b, false, &format!("{what}, then put again"));
        if !first_put {
            assert_eq!(out["id"].as_str(), Some(id.as_str()), "{what}");
            assert_eq!(b, path, "{what}");
        }
        let all = entries(&env);
        assert_eq!(
            all.iter().map(|e| e.address.as_str()).collect::<Vec<_>>(),
            vec!["acme/parent", addr],
            "{what}: the next put left exactly the parent and the branch"
        );
        assert_no_strays(&env, &what);
        if first_put {
            // A new branch: its id and path are the ones from now on.
            id = out["id"].as_str().unwrap().to_string();
            path = b;
        }
    }
    eprintln!(
        "branch reset: {n} kill points over {full:?} each, {:?} in all; states: {:?}",
        started.elapsed(),
        tally.0
    );
    assert!(
        tally.get("reset-in-progress") + tally.get("old-branch") + tally.get("new-branch") > 0,
        "no kill landed in a reset: {:?}",
        tally.0
    );
}

// ---------------------------------------------------------------------------
// db gc

#[test]
fn gc_killed_anywhere_never_leaves_an_entry_without_its_file_and_the_next_gc_tidies() {
    let env = Env::new();
    env.db("small.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, x TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');");
    let legacy = env.db("legacy.db", "CREATE TABLE l(x);");
    env.cmd(["db", "import", "acme/src", "./small.db"]).run().ok();
    env.cmd(["db", "import", "acme/legacy", legacy.to_str().unwrap()]).run().ok();
    let legacy_bytes = file_bytes(&legacy);
    exp_set_expiry(&env, "acme/legacy");
    let at = |t: &'static str| [("SQLFORK_NOW", t)];
    // What stays: not expired, or not owned.
    env.cmd(["db", "create", "acme/keep-1", "--ttl", "7d"]).envs(&at(T0)).run().ok();
    env.cmd(["db", "fork", "acme/src", "keep-2"]).envs(&at(T0)).run().ok();
    let keep: BTreeSet<String> =
        ["acme/keep-1", "acme/keep-2", "acme/legacy", "acme/src"].iter().map(|s| s.to_string()).collect();

    // Expired databases of every kind, made again before each kill.
    let populate = |round: usize| {
        let mut children = Vec::new();
        for j in 0..4 {
            let (a, b, c) = (format!("acme/x{round}-c{j}"), format!("x{round}-f{j}"), format!("x{round}-d{j}"));
            let b2 = format!("acme/src@x{round}-b{j}");
            for args in [
                vec!["db", "create", a.as_str(), "--ttl", "1h"],
                vec!["db", "fork", "acme/src", b.as_str(), "--ttl", "1h"],
                vec!["db", "fork", "acme/src", c.as_str(), "--with-data", "--ttl", "1h"],
                vec!["branch", "put", b2.as_str(), "--ttl", "1h"],
            ] {
                children.push((args.join(" "), env.cmd(&args).envs(&at(T0)).spawn()));
            }
        }
        for (what, c) in children {
            let Run { code, stderr, .. } = c.finish();
            assert_eq!(code, 0, "{what}: {stderr}");
        }
    };
    let gc_vars = [("SQLFORK_NOW", T_LATER), ("SQLFORK_TEST_DELAY_MS", "5")];
    populate(0);
    let gc = env.cmd(["db", "gc", "--json"]).envs(&gc_vars).run().ok();
    let full = gc.took;
    assert_eq!(gc.json()["deleted"].as_array().unwrap().len(), 16);
    assert_eq!(entries(&env).into_iter().map(|e| e.address).collect::<BTreeSet<_>>(), keep);
    assert_no_strays(&env, "uninterrupted gc");

    let mut rng = Rng::new("db gc");
    let n = points(5, 50);
    let mut tally = Tally::default();
    let started = Instant::now();
    for (i, delay) in rng.spread(n, full.mul_f64(1.1)).into_iter().enumerate() {
        let round = i + 1;
        populate(round);
        let what = format!("gc {round} killed after {delay:?}");
        let running = env.cmd(["db", "gc"]).envs(&gc_vars).spawn().kill_after(delay);
        let all = entries(&env);
        for e in &all {
            assert!(e.healthy, "{what}: {} is {e:?}", e.address);
            assert!(e.path.is_file(), "{what}: {} lost its file", e.address);
            sound(&e.path).unwrap_or_else(|err| panic!("{what}: {err}"));
        }
        let have: BTreeSet<String> = all.iter().map(|e| e.address.clone()).collect();
        assert!(have.is_superset(&keep), "{what}: gc removed something that had not expired");
        let gone = 16 - (have.len() - keep.len());
        // The entries leave the registry in one write, then the files go.
        assert!(gone == 0 || gone == 16, "{what}: {gone} of 16 entries gone");
        let left_behind = stray_files(&env).iter().filter(|f| f.ends_with(".sqlite")).count();
        tally.add(match (running, gone, left_behind) {
            (false, ..) => "finished-before-kill",
            (true, 0, _) => "nothing-deleted-yet",
            (true, _, 0) => "all-deleted",
            (true, ..) => "entries-gone-files-half-removed",
        });
        // The next gc finishes the job and tidies what the killed one left.
        env.cmd(["db", "gc"]).envs(&gc_vars[..1]).run().ok();
        assert_eq!(entries(&env).into_iter().map(|e| e.address).collect::<BTreeSet<_>>(), keep, "{what}");
        assert_no_strays(&env, &what);
        assert_eq!(file_bytes(&legacy), legacy_bytes, "{what}: an imported file is never touched");
    }
    eprintln!("db gc: {n} kill points over {full:?} each, {:?} in all; states: {:?}", started.elapsed(), tally.0);
    assert!(tally.get("entries-gone-files-half-removed") > 0, "no kill landed mid-gc: {:?}", tally.0);
}

/// Give an imported database an expiry by hand (sqlfork refuses to), so gc
/// must keep it because it is not owned.
fn exp_set_expiry(env: &Env, addr: &str) {
    let (ns, slug) = addr.split_once('/').unwrap();
    env.set_entry_field(ns, slug, None, "expires_at", toml::Value::String(T0.into()));
}

// ---------------------------------------------------------------------------
// Snapshots and db reset

/// `snapshot create`, `db reset --to` and `snapshot delete`, each killed at
/// random moments: the fork stays whole (old state or new, same id and
/// path), every snapshot listed is whole and read-only, and the next run of
/// the same command leaves no hidden copy and no stray file.
#[test]
fn snapshot_create_reset_and_delete_killed_anywhere_never_expose_a_half_snapshot() {
    let env = Env::new();
    let parent = data_source(&env, "parent.db", false);
    env.cmd(["db", "import", "acme/parent", parent.to_str().unwrap()]).run().ok();
    let fork = env.cmd(["--json", "db", "fork", "acme/parent", "pr-1", "--with-data"]).run().ok().json();
    let id = s(&fork, "id");
    let path = PathBuf::from(s(&fork, "path"));
    let base = image(&path);
    env.cmd(["snapshot", "create", "acme/pr-1:base"]).run().ok();
    exec(&path, MARK);
    let marked = image(&path);
    let vars = [("SQLFORK_TEST_CHUNK_PAGES", "4"), ("SQLFORK_TEST_DELAY_MS", "2")];
    let t_create = env.cmd(["snapshot", "create", "acme/pr-1:timing"]).envs(&vars).run().ok().took;
    let t_delete = env.cmd(["snapshot", "delete", "acme/pr-1:timing"]).envs(&vars).run().ok().took;
    let t_reset = env.cmd(["db", "reset", "acme/pr-1", "--to", "base"]).envs(&vars).run().ok().took;

    let mut rng = Rng::new("snapshot");
    let n = points(9, 60);
    let mut tally = Tally::default();
    for i in 0..n {
        if int(&path, "SELECT count(*) FROM tags WHERE item = -1") == 0 {
            exec(&path, MARK);
        }
        let snap = format!("acme/pr-1:s{i}");
        let kind = ["create", "reset", "delete"][i % 3];
        if kind == "delete" {
            env.cmd(["snapshot", "create", &snap]).run().ok();
        }
        let (args, span): (Vec<&str>, Duration) = match kind {
            "create" => (vec!["snapshot", "create", &snap], t_create),
            "reset" => (vec!["db", "reset", "acme/pr-1", "--to", "base"], t_reset),
            _ => (vec!["snapshot", "delete", &snap], t_delete),
        };
        let delay = span.mul_f64(1.1 * rng.unit());
        let what = format!("{kind} {i} killed after {delay:?}");
        let running = env.cmd(&args).envs(&vars).spawn().kill_after(delay);
        tally.add(if running { kind } else { "finished-before-kill" });

        // The fork is whole: the old state or the new one, same id and path.
        let all = entries(&env);
        let pr = all.iter().find(|e| e.address == "acme/pr-1").unwrap_or_else(|| panic!("{what}: the fork vanished"));
        assert!(pr.healthy && pr.id == id && pr.path == path, "{what}: {pr:?}");
        sound(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
        let now = image(&path);
        assert!(
            now == marked || (kind == "reset" && now == base),
            "{what}: the fork is neither its old nor its new state"
        );
        // Every snapshot listed is whole and read-only.
        let list = env.cmd(["--json", "snapshot", "list", "acme/pr-1"]).run().ok().json();
        for snapshot in list.as_array().unwrap() {
            let p = PathBuf::from(s(snapshot, "path"));
            assert_eq!(mode(&p), 0o400, "{what}: {snapshot}");
            sound(&p).unwrap_or_else(|e| panic!("{what}: snapshot {snapshot}: {e}"));
            let want = if snapshot["name"] == "base" { &base } else { &marked };
            assert!(image(&p) == *want, "{what}: snapshot {} is not the moment it was taken", snapshot["name"]);
        }

        // The same command again finishes the job.
        let again = env.cmd(&args).run();
        let allowed: &[i32] = match kind {
            "create" => &[0, 4],
            "reset" => &[0],
            _ => &[0, 3],
        };
        assert!(allowed.contains(&again.code), "{what}, then again: {}", again.dump());
        if kind == "create" {
            // Keep the list short: every check above looks at each snapshot.
            env.cmd(["snapshot", "delete", &snap]).run().ok();
        }
        let addrs: Vec<String> = entries(&env).into_iter().map(|e| e.address).collect();
        assert_eq!(addrs, ["acme/parent", "acme/pr-1"], "{what}: a hidden copy stayed");
        assert_no_strays(&env, &what);
    }
    eprintln!("snapshot: {n} kill points, states {:?}", tally.0);
    assert!(tally.total() - tally.get("finished-before-kill") > 0, "no kill landed while a command ran");
}
