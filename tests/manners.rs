//! Manners (SPEC section 14, issue 12): what a newcomer, a shell user and a
//! CI job expect. Each test drives the real binary in its own home and
//! fails without the behaviour it names.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// About 340 pages of 1 KiB: slow enough to interrupt with the test knobs.
const BIG_SQL: &str = "
    PRAGMA page_size = 1024;
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    CREATE INDEX t_v ON t(v);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
        INSERT INTO t SELECT i, hex(randomblob(40)) FROM n;
";

const SMALL_SQL: &str = "
    CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    INSERT INTO customers VALUES (1, 'ada'), (2, 'bob');
";

/// Slow-copy knobs: sleep `delay_ms` after every chunk of `chunk_pages`.
fn slow(delay_ms: u64, chunk_pages: u64) -> Vec<(&'static str, String)> {
    vec![("SQLFORK_TEST_DELAY_MS", delay_ms.to_string()), ("SQLFORK_TEST_CHUNK_PAGES", chunk_pages.to_string())]
}

fn run_at(env: &Env, now: &str, args: &[&str]) -> Run {
    env.cmd(args).now(now).run()
}

/// `db show --json` of `addr` once its copy is under way (a pid and some
/// progress).
fn wait_for_copy(env: &Env, addr: &str) -> Value {
    wait_for_percent(env, addr, 0.0)
}

/// `db show --json` of `addr` once its copy is past `pct` percent.
fn wait_for_percent(env: &Env, addr: &str, pct: f64) -> Value {
    let mut seen = Value::Null;
    wait_until(&format!("the copy into {addr} to be under way"), Duration::from_secs(20), || {
        let run = env.run(&["db", "show", addr, "--json"]);
        if run.code != 0 {
            return false;
        }
        let v = run.json();
        let going = v["pid"].as_u64().is_some() && v["progressPercent"].as_f64().is_some_and(|p| p > pct);
        if going {
            seen = v;
        }
        going
    });
    seen
}

fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped by its parent) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

/// Nothing of a removed fork is left under home.
fn assert_no_files_for(env: &Env, id: &str) {
    let left: Vec<String> = env.database_files().into_iter().filter(|f| f.starts_with(id)).collect();
    assert!(left.is_empty(), "files of {id} left behind: {left:?}");
}

/// `sqlfork ARGS` on a pseudo-terminal indicatif draws on.
fn run_on_tty(env: &Env, args: &[&str], vars: &[(&str, String)]) -> String {
    env.cmd(args).envs(vars).env("TERM", "xterm").tty()
}

// ===========================================================================
// 1. db cancel and db delete --force stop a copy; db show gives its pid

#[test]
fn cancel_stops_the_copier_and_removes_the_half_made_fork() {
    let env = Env::new();
    env.db("big.db", BIG_SQL);
    let args = ["db", "fork", "./big.db", "slow", "--with-data"];
    let child = env.cmd(args).envs(&slow(100, 10)).spawn();
    let shown = wait_for_copy(&env, "local/slow");
    let pid = shown["pid"].as_u64().unwrap() as u32;
    assert_eq!(pid, child.id(), "db show --json gives the copier's pid: {shown}");
    assert_eq!(shown["inFlight"], true);
    let human = env.run(&["db", "show", "local/slow"]).ok().stdout;
    assert!(human.contains(&format!("pid {pid}")) && human.contains("db cancel local/slow"), "{human}");
    let id = shown["id"].as_str().unwrap().to_string();

    // A plain delete refuses, and says how to stop it.
    env.run(&["db", "delete", "local/slow", "--yes"])
        .code(1)
        .one_line_error()
        .stderr_has("sqlfork db cancel local/slow");

    let run = env.run(&["db", "cancel", "local/slow"]).ok();
    assert!(run.stdout.contains("Cancelled local/slow") && run.stdout.contains(&pid.to_string()), "{}", run.stdout);
    let out = child.finish();
    assert_ne!(out.code, 0, "the copier was stopped:\n{}", out.dump());
    env.run(&["db", "show", "local/slow"]).code(3);
    assert_no_files_for(&env, &id);
    // A healthy database is not being built: cancel refuses, deletes nothing.
    env.run(&["db", "fork", "./big.db", "done"]).ok();
    env.run(&["db", "cancel", "local/done"]).code(2).one_line_error().stderr_has("db delete local/done");
    env.run(&["db", "show", "local/done"]).ok();
    // A healthy fork has no pid in JSON.
    assert_eq!(env.run(&["db", "show", "local/done", "--json"]).ok().json()["pid"], Value::Null);
}

#[test]
fn ci_trap_cleanup_with_delete_force_always_succeeds() {
    let env = Env::new();
    env.db("big.db", BIG_SQL);
    // The CI story: a detached copy, a wait that times out, then cleanup.
    env.cmd(["db", "fork", "./big.db", "slow", "--with-data", "--detach"]).envs(&slow(100, 10)).run().ok();
    env.run(&["db", "wait", "local/slow", "--timeout", "1s"]).code(5);
    let shown = wait_for_copy(&env, "local/slow");
    let pid = shown["pid"].as_u64().unwrap() as u32;
    let id = shown["id"].as_str().unwrap().to_string();
    assert!(alive(pid));
    let run = env.run(&["db", "delete", "--force", "local/slow"]).ok();
    assert!(run.stderr.contains(&format!("pid {pid}")), "says what it stopped: {}", run.stderr);
    wait_until("the background copier to stop", Duration::from_secs(10), || !alive(pid));
    env.run(&["db", "show", "local/slow"]).code(3);
    assert_no_files_for(&env, &id);
    // Already gone: still a success (as `rm -f`), with a note.
    env.run(&["db", "delete", "--force", "local/slow"]).ok().stderr_has("does not exist");
    // Healthy: deleted without a question.
    env.run(&["db", "fork", "./big.db", "fine"]).ok();
    env.run(&["db", "delete", "--force", "local/fine"]).ok();
    env.run(&["db", "show", "local/fine"]).code(3);
    // The trap itself, through a shell.
    env.sh("trap '\"$SQLFORK\" db delete --force local/trapped' EXIT; \"$SQLFORK\" db fork ./big.db trapped")
        .run()
        .ok();
    env.run(&["db", "show", "local/trapped"]).code(3);
}

// ===========================================================================
// 2. A re-run of an interrupted fork keeps --ttl and --name, or says why not

/// Start a slow data fork into `local/SLUG` and stop it with Ctrl-C once
/// it is past `pct` percent.
fn interrupted_fork(env: &Env, slug: &str, pct: f64) -> Run {
    let mut child = env.cmd(["db", "fork", "./big.db", slug, "--with-data"]).envs(&slow(60, 10)).spawn();
    wait_for_percent(env, &format!("local/{slug}"), pct);
    assert!(child.signal(libc::SIGINT), "the copy ended before Ctrl-C");
    child.finish().code(130)
}

/// The same, stopped with `kill -9` (what Ctrl-C did before it was handled).
fn killed_fork(env: &Env, slug: &str, pct: f64) {
    let mut child = env.cmd(["db", "fork", "./big.db", slug, "--with-data"]).envs(&slow(60, 10)).spawn();
    wait_for_percent(env, &format!("local/{slug}"), pct);
    assert!(child.kill(), "the copy ended before the kill");
}

#[test]
fn rerun_of_an_interrupted_fork_applies_ttl_and_name() {
    let env = Env::new();
    env.db("big.db", BIG_SQL);
    killed_fork(&env, "intr", 0.0);
    // Other arguments (no --with-data): not "already exists" but how far it
    // got and the command that continues it.
    let run = env.run(&["db", "fork", "./big.db", "intr"]).code(4).one_line_error();
    assert!(run.stderr.contains("interrupted") && run.stderr.contains('%'), "{}", run.stderr);
    assert!(run.stderr.contains("`sqlfork db resume local/intr`"), "{}", run.stderr);
    // The same fork again finishes it, with this run's TTL and name.
    let now = "2026-03-01T12:00:00Z";
    let v = run_at(
        &env,
        now,
        &["db", "fork", "./big.db", "intr", "--with-data", "--ttl", "2d", "--name", "Intr", "--json"],
    )
    .ok()
    .json();
    assert_eq!(v["resumed"], true, "{v}");
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["expiresAt"], plus(now, 2 * 86400), "{v}");
    assert_eq!(v["name"], "Intr", "{v}");
}

// ===========================================================================
// 3. Ctrl-C prints one line: how far, and the command that continues

#[test]
fn ctrl_c_says_how_far_and_how_to_continue() {
    for method in ["pages", "rows"] {
        let env = Env::new();
        env.config(&format!("copy_method = \"{method}\"\nrows_per_page = 50\n"));
        let src = env.db("big.db", BIG_SQL);
        let run = interrupted_fork(&env, "cc", 0.0);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{method}: exactly one line on Ctrl-C:\n{}", run.stderr);
        let line = lines[0];
        assert!(line.contains("MiB") && line.contains('%'), "{method}: how far: {line}");
        assert!(line.contains("`sqlfork db resume local/cc`"), "{method}: how to continue: {line}");
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        // The fork is interrupted, not removed, and resumes to an exact copy.
        let v = env.run(&["db", "show", "local/cc", "--json"]).ok().json();
        assert_eq!(v["status"], "provisioning");
        env.run(&["db", "resume", "local/cc"]).ok();
        assert_same(&image(&src), &env.db_path("local/cc"), false, method);
    }
}

// ===========================================================================
// 4. Progress: MiB, a rate and an ETA; nothing for short copies; resumed
//    copies count the whole copy

/// No empty field, and no figure with more than one decimal.
fn assert_tidy(line: &str) {
    for empty in ["· ·", ", ,", "·  ·", "( )", "()"] {
        assert!(!line.contains(empty), "an empty field in {line:?}");
    }
    let over_precise = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|w| w.split_once('.').is_some_and(|(_, decimals)| decimals.len() > 1));
    assert!(!over_precise, "over-precise figure in {line:?}");
    assert!(!line.contains("pages"), "progress is in MiB, not pages: {line:?}");
}

#[test]
fn progress_lines_are_in_mib_with_rate_and_eta() {
    let env = Env::new();
    env.db("big.db", BIG_SQL);
    let mut vars = slow(40, 10);
    vars.push(("SQLFORK_PROGRESS_INTERVAL", "0".into()));
    let run = env.cmd(["db", "fork", "./big.db", "logged", "--with-data"]).envs(&vars).run().ok();
    let lines = progress_lines(&run.stderr, "logged");
    assert!(lines.len() >= 5, "progress lines on stderr:\n{}", run.stderr);
    for (d, t, _, l) in &lines {
        assert_tidy(l);
        assert!(d <= t, "{l}");
    }
    assert!(lines.iter().any(|(_, _, p, l)| *p < 100 && l.contains(" MiB/s") && l.contains("ETA ")), "{}", run.stderr);
    let (_, _, p, last) = lines.last().unwrap();
    assert_eq!(*p, 100, "the last line is complete: {last}");
    assert!(run.stderr.lines().all(|l| l.starts_with("logged: ")), "{}", run.stderr);
}

#[test]
fn a_copy_that_is_over_quickly_draws_nothing() {
    let env = Env::new();
    env.db("small.db", "PRAGMA page_size = 1024; CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);");
    // Default interval, off a terminal: a copy of a few pages says nothing
    // on stderr (it would have printed `15/15 pages (100%)`).
    for method in ["pages", "rows"] {
        env.config(&format!("copy_method = \"{method}\"\n"));
        let dst = format!("quick-{method}");
        let run = env.run(&["db", "fork", "./small.db", &dst, "--with-data"]).ok();
        assert_eq!(run.stderr, "", "{method}: no progress for a copy well under a second");
    }
}

#[test]
fn terminal_bar_is_in_mib_with_rate_and_eta_and_absent_for_quick_copies() {
    let env = Env::new();
    env.db("big.db", BIG_SQL);
    env.db("small.db", "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    let text = run_on_tty(&env, &["db", "fork", "./big.db", "tty", "--with-data"], &slow(25, 5));
    // The bar's last drawn state, between carriage returns / clears.
    let frames: Vec<&str> = text.split(['\r', '\n']).filter(|f| f.contains("tty [")).collect();
    assert!(!frames.is_empty(), "no bar on the terminal:\n{text:?}");
    let frame = frames.iter().rev().find(|f| f.contains("ETA")).unwrap_or_else(|| panic!("no ETA: {frames:?}"));
    assert!(frame.contains(" MiB (") && frame.contains(" MiB/s"), "{frame:?}");
    let cleaned: String = frame.chars().filter(|c| !c.is_control()).collect();
    let figures = cleaned.split(']').nth(1).unwrap_or_default().to_string();
    assert_tidy(&figures);
    // A quick copy draws no bar at all.
    let text = run_on_tty(&env, &["db", "fork", "./small.db", "tiny", "--with-data"], &[]);
    assert!(!text.contains("tiny ["), "a bar for a quick copy:\n{text:?}");
}

#[test]
fn a_resumed_copy_counts_the_whole_copy() {
    let env = Env::new();
    env.db("big.db", BIG_SQL);
    let started = Instant::now();
    killed_fork(&env, "res", 60.0);
    let first_run = started.elapsed();
    let run = env.cmd(["db", "resume", "local/res", "--json"]).env("SQLFORK_PROGRESS_INTERVAL", "0").run().ok();
    let lines = progress_lines(&run.stderr, "local/res");
    let (d, t, p, first) = *lines.first().unwrap_or_else(|| panic!("no progress lines:\n{}", run.stderr));
    assert!(d > 0.0 && p > 0, "the first line counts what the first run copied: {first}");
    assert!(t > 0.3, "the total is the whole copy: {first}");
    assert!(!first.contains("0.0 MiB/s") && !first.contains("ETA 0s"), "no rate before one is known: {first}");
    // The figures: the time counts the interrupted run too.
    let v = run.json();
    let ms = v["copy"]["durationMs"].as_u64().unwrap();
    assert!(ms >= 500, "duration {ms} ms counts the first run too (it ran {first_run:?})");
}

// ===========================================================================
// 5. Durations round to the nearest unit

#[test]
fn ttl_display_rounds_to_the_nearest_unit() {
    let env = Env::new();
    env.db("src.db", SMALL_SQL);
    // Real time passes between the fork and the list: a moment under 2d
    // left is still `2d`.
    let cases = [("2d", "2d"), ("3h", "3h"), ("1w", "7d")];
    for (ttl, _) in cases {
        env.run(&["db", "fork", "./src.db", &format!("t{ttl}"), "--ttl", ttl]).ok();
    }
    std::thread::sleep(Duration::from_millis(1100));
    for (ttl, want) in cases {
        let slug = format!("t{ttl}");
        let list = env.run(&["db", "list", "local"]).ok().stdout;
        let row = list.lines().find(|l| l.starts_with(&format!("local/{slug} "))).unwrap();
        assert!(row.ends_with(&format!("expires in {want}")), "--ttl {ttl}: {row}");
        let show = env.run(&["db", "show", &format!("local/{slug}")]).ok().stdout;
        assert!(show.contains(&format!("Auto-deletes in {want}")), "--ttl {ttl}: {show}");
    }
}

// ===========================================================================
// 6. --quiet prints only what a script needs

#[test]
fn quiet_prints_the_path_or_nothing() {
    let env = Env::new();
    let src = env.db("src.db", SMALL_SQL);
    let run = env.run(&["db", "fork", "./src.db", "q", "-q"]).ok();
    assert_eq!(run.stderr, "");
    let path = run.stdout.trim_end().to_string();
    assert_eq!(run.stdout, format!("{path}\n"), "only the path: {:?}", run.stdout);
    assert_eq!(Path::new(&path), env.db_path("local/q"));
    let run = env.run(&["-q", "db", "fork", "./src.db", "qd", "--with-data"]).ok();
    assert_eq!(run.stdout, format!("{}\n", env.db_path("local/qd").display()));
    let run = env.run(&["db", "create", "acme/c", "-q"]).ok();
    assert_eq!(run.stdout, format!("{}\n", env.db_path("acme/c").display()));
    let run = env.run(&["db", "import", "acme/i", src.to_str().unwrap(), "-q"]).ok();
    assert_eq!(run.stdout.trim_end(), std::fs::canonicalize(&src).unwrap().to_str().unwrap());
    let run = env.run(&["-q", "branch", "put", "local/q@b1"]).ok();
    assert_eq!(run.stdout, format!("{}\n", env.db_path("local/q@b1").display()));
    assert_eq!(run.stderr, "");
    // Delete: nothing at all.
    let run = env.run(&["-q", "db", "delete", "local/q", "--yes"]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    let run = env.run(&["branch", "delete", "local/q@b1", "--quiet"]);
    // (the branch's parent is gone, the branch itself is still there)
    let run = run.ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    // Errors still speak.
    env.run(&["db", "delete", "local/q", "-q"]).code(3).one_line_error();
}

// ===========================================================================
// 7. One JSON format for every command; 8. a closed stdout is not an error

#[test]
fn every_command_prints_json_the_same_way() {
    let env = Env::new();
    let src = env.db("src.db", SMALL_SQL);
    let s = src.to_str().unwrap();
    let runs = [
        run_at(&env, T0, &["db", "import", "acme/src", s, "--json"]),
        run_at(&env, T0, &["db", "create", "acme/new", "--json", "--ttl", "1h"]),
        run_at(&env, T0, &["db", "fork", "acme/src", "f", "--json"]),
        run_at(&env, T0, &["branch", "put", "acme/src@b", "--json"]),
        run_at(&env, T0, &["branch", "list", "acme/src", "--json"]),
        run_at(&env, T0, &["db", "list", "--json"]),
        run_at(&env, T0, &["db", "show", "acme/f", "--json"]),
        run_at(&env, T0, &["db", "path", "acme/f", "--json"]),
        run_at(&env, T0, &["db", "wait", "acme/f", "--json"]),
        run_at(&env, T0, &["db", "ttl", "acme/f", "2h", "--json"]),
        run_at(&env, T0, &["db", "resume", "--json"]),
        run_at(&env, &plus(T0, 7200), &["db", "gc", "--dry-run", "--json"]),
        run_at(&env, &plus(T0, 7200), &["db", "gc", "--json"]),
        run_at(&env, T0, &["db", "delete", "acme/src@b", "--yes", "--json"]),
    ];
    for run in runs {
        let run = run.ok();
        run.json();
        // Compact: the whole document on one line.
        assert_eq!(run.stdout.lines().count(), 1, "one line of JSON for {:?}:\n{}", run.args, run.stdout);
    }
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let env = Env::new();
    env.db("src.db", SMALL_SQL);
    for i in 0..20 {
        env.run(&["db", "fork", "./src.db", &format!("fork-{i}")]).ok();
    }
    for args in [vec!["db", "list", "--json"], vec!["db", "list"], vec!["db", "show", "local/fork-1"]] {
        let mut child = env.cmd(&args).command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Close the read end at once, as `| head -c 0` would, before it writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

// ===========================================================================
// 9. db import is idempotent for the same file

#[test]
fn import_of_the_same_file_twice_succeeds_and_another_file_does_not() {
    let env = Env::new();
    let a = env.db("a.db", SMALL_SQL);
    let b = env.db("b.db", SMALL_SQL);
    env.run(&["db", "import", "acme/prod", a.to_str().unwrap()]).ok();
    let before = env.registry().to_string();
    let run = env.run(&["db", "import", "acme/prod", a.to_str().unwrap()]).ok();
    assert!(run.stdout.contains("already registered"), "{}", run.stdout);
    // Through another spelling of the same path too.
    let v = env.run(&["db", "import", "acme/prod", "./a.db", "--json"]).ok().json();
    assert_eq!(v["alreadyRegistered"], true);
    assert_eq!(env.registry().to_string(), before, "nothing changed");
    env.run(&["db", "import", "acme/prod", b.to_str().unwrap()]).code(4).one_line_error();
}

// ===========================================================================
// 10. branch put remembers --with-data and says what the reset did

#[test]
fn branch_put_keeps_its_data_mode_and_says_so() {
    let env = Env::new();
    let src = env.db("src.db", SMALL_SQL);
    env.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    env.run(&["branch", "put", "acme/prod@ci", "--with-data"]).ok();
    let rows = |env: &Env| -> i64 {
        rusqlite::Connection::open(env.db_path("acme/prod@ci"))
            .unwrap()
            .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(rows(&env), 2);
    // A re-put without the flag resets it the same way, and says so.
    let run = env.run(&["branch", "put", "acme/prod@ci"]).ok();
    assert!(run.stderr.contains("Reset") && run.stderr.contains("with data, as the branch was made"), "{}", run.stderr);
    assert_eq!(rows(&env), 2, "the reset kept the data");
    let v = env.run(&["db", "show", "acme/prod@ci", "--json"]).ok().json();
    assert_eq!(v["includeData"], true);
    // --schema-only overrides it (and is then remembered).
    env.run(&["branch", "put", "acme/prod@ci", "--schema-only"]).ok();
    assert_eq!(rows(&env), 0);
    let run = env.run(&["branch", "put", "acme/prod@ci"]).ok();
    assert!(run.stderr.contains("schema only, as the branch was made"), "{}", run.stderr);
    env.run(&["branch", "put", "acme/prod@ci", "--with-data", "--schema-only"]).code(2);
}

// ===========================================================================
// 11. Help a user find the right name

#[test]
fn every_command_suggests_a_near_address_and_none_suggests_nonsense() {
    let env = Env::new();
    for db in ["acme/c1", "acme/t1", "acme/m2"] {
        env.run(&["db", "create", db]).ok();
    }
    for args in [
        &["db", "diff", "acme/cc"][..],
        &["db", "diff", "acme/c1", "acme/t11"],
        &["db", "reset", "acme/t11"],
        &["db", "delete", "acme/t11"],
        &["db", "ttl", "acme/t11", "2h"],
        &["db", "cancel", "acme/t11"],
        &["db", "wait", "acme/t11"],
        &["db", "resume", "acme/t11"],
        &["db", "fork", "acme/t11:s", "x"],
        &["snapshot", "create", "acme/cc"],
        &["snapshot", "list", "acme/cc"],
        &["snapshot", "delete", "acme/cc:s"],
        &["branch", "list", "acme/cc"],
        &["branch", "put", "acme/cc@b"],
    ] {
        let run = env.run(args).code(3).one_line_error();
        assert!(
            run.stderr.contains("(did you mean acme/c1?)") || run.stderr.contains("(did you mean acme/t1?)"),
            "{}",
            run.dump()
        );
    }
    // A whole short name replaced is not a typo: no guess.
    for args in [&["db", "cancel", "acme/zz"][..], &["db", "show", "acme/zz"], &["snapshot", "list", "acme/qq"]] {
        let run = env.run(args).code(3).one_line_error();
        assert!(!run.stderr.contains("did you mean"), "{}", run.dump());
    }
}

#[test]
fn not_found_suggests_the_nearest_name_and_the_file() {
    let env = Env::new();
    let src = env.db("src.db", SMALL_SQL);
    env.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    env.run(&["branch", "put", "acme/prod@feature"]).ok();
    env.run(&["db", "show", "acme/prdo"]).code(3).one_line_error().stderr_has("did you mean acme/prod?");
    env.run(&["db", "path", "acme/prod@featrue"]).code(3).stderr_has("did you mean acme/prod@feature?");
    env.run(&["db", "fork", "acme/prdo", "x"]).code(3).stderr_has("did you mean acme/prod?");
    // Nothing near: no guess.
    let run = env.run(&["db", "show", "zzz/qqq"]).code(3);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    // A bare file name in the current directory.
    std::fs::copy(&src, env.path("prodfile")).unwrap();
    env.run(&["db", "fork", "prodfile", "acme/m"]).code(2).one_line_error().stderr_has("write ./prodfile");
    // An unknown branch points at `branch list`.
    let run = env.run(&["branch", "delete", "acme/prod@nothere"]).code(3).one_line_error();
    assert!(run.stderr.contains("sqlfork branch list acme/prod") && !run.stderr.contains("db list"), "{}", run.stderr);
    // An empty namespace on a home that has others says so.
    let run = env.run(&["db", "list", "nons"]).ok();
    assert!(run.stderr.contains("nons is empty") && run.stderr.contains("acme"), "{}", run.stderr);
    assert!(!run.stderr.contains("No databases yet"), "{}", run.stderr);
}

// ===========================================================================
// 12. Output details

#[test]
fn output_details() {
    let env = Env::new();
    env.db("src.db", SMALL_SQL);
    // A schema-only fork says nothing about exactness.
    let out = run_at(&env, T0, &["db", "fork", "./src.db", "acme/s"]).ok().stdout;
    assert!(!out.contains("exact snapshot") && !out.contains("copy:"), "{out}");
    let show = env.run(&["db", "show", "acme/s"]).ok().stdout;
    assert!(!show.contains("exact"), "{show}");
    let out = run_at(&env, T0, &["db", "fork", "./src.db", "acme/d", "--with-data"]).ok().stdout;
    assert!(out.contains("exact snapshot"), "{out}");
    // db list: ages like db show, no NAME column repeating the slug.
    let list = run_at(&env, &plus(T0, 45), &["db", "list"]).ok().stdout;
    let header = list.lines().next().unwrap();
    assert!(!header.contains("NAME"), "{list}");
    assert!(list.lines().any(|l| l.starts_with("acme/s ") && l.contains("45s ago")), "{list}");
    assert!(!list.contains(T0), "{list}");
    // A database with a name of its own brings the NAME column back.
    run_at(&env, T0, &["db", "fork", "./src.db", "acme/n", "--name", "Nightly copy"]).ok();
    let list = run_at(&env, &plus(T0, 3 * 3600), &["db", "list"]).ok().stdout;
    assert!(list.lines().next().unwrap().contains("NAME") && list.contains("Nightly copy"), "{list}");
    assert!(list.contains("3h ago"), "{list}");
    // JSON keeps the raw time.
    let v = env.run(&["db", "list", "--json"]).ok().json();
    assert_eq!(v[0]["forkedAt"], T0);
    // db gc lists in address order.
    for slug in ["zed", "alpha", "mid"] {
        run_at(&env, T0, &["db", "fork", "./src.db", &format!("acme/{slug}"), "--ttl", "1h"]).ok();
    }
    let gc = run_at(&env, &plus(T0, 7200), &["db", "gc"]).ok().stdout;
    let order: Vec<&str> =
        gc.lines().filter_map(|l| l.split_whitespace().next()).filter(|w| w.starts_with("acme/")).collect();
    assert_eq!(order, ["acme/alpha", "acme/mid", "acme/zed"], "{gc}");
    // A TTL without a unit suggests days, not seconds.
    let run = env.run(&["db", "fork", "./src.db", "acme/t", "--ttl", "7"]).code(2).one_line_error();
    assert!(run.stderr.contains("7d") && !run.stderr.contains("7sec") && !run.stderr.contains("7ms"), "{}", run.stderr);
}

// ===========================================================================
// 13. Completions and help

#[test]
fn help_texts_match_what_is_accepted() {
    let env = Env::new();
    let help = env.run(&["completions", "--help"]).ok().stdout;
    assert!(help.contains("elvish"), "completions accepts elvish; its help says so:\n{help}");
    env.run(&["completions", "elvish"]).ok();
    for cmd in ["wait", "resume", "cancel"] {
        let help = env.run(&["db", cmd, "--help"]).ok().stdout;
        assert!(help.contains("NS/SLUG@REF"), "db {cmd} takes branches; its help says so:\n{help}");
    }
    let help = env.run(&["db", "delete", "--help"]).ok().stdout;
    assert!(help.contains("--force") && help.contains("trap"), "{help}");
    let help = env.run(&["--help"]).ok().stdout;
    assert!(help.contains("130"), "the interrupted exit code is documented:\n{help}");
}

#[test]
fn completions_complete_database_addresses() {
    let env = Env::new();
    let src = env.db("src.db", SMALL_SQL);
    env.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    env.run(&["db", "fork", "acme/prod", "pr-1"]).ok();
    env.run(&["db", "fork", "acme/prod", "other/x"]).ok();
    env.run(&["branch", "put", "acme/prod@ci"]).ok();
    let complete = |words: &[&str]| -> Vec<String> {
        let mut args = vec!["__complete"];
        args.extend(words);
        env.run(&args).ok().stdout.lines().map(String::from).collect()
    };
    assert_eq!(complete(&["db", "show", "acme/"]), ["acme/pr-1", "acme/prod", "acme/prod@ci"]);
    assert_eq!(complete(&["db", "delete", "--yes", "o"]), ["other/x"]);
    assert_eq!(complete(&["branch", "delete", ""]), ["acme/prod@ci"]);
    assert_eq!(complete(&["branch", "put", "acme/p"]), ["acme/pr-1", "acme/prod"]);
    assert!(complete(&["db", "fork", "acme/prod", ""]).is_empty(), "DST is a new name");
    assert!(complete(&["db", "import", ""]).is_empty());
    // Every committed script asks sqlfork for addresses.
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = env.run(&["completions", shell]).ok().stdout;
        assert!(script.contains("__complete"), "{shell} completions do not complete addresses");
    }
    // bash, for real: the completion function fills COMPREPLY.
    let bash = std::process::Command::new("bash").arg("--version").output().is_ok_and(|o| o.status.success());
    if !require(bash, "bash is needed to test the bash completions") {
        return;
    }
    let script = env.run(&["completions", "bash"]).ok().stdout;
    std::fs::write(env.path("c.bash"), script).unwrap();
    std::fs::write(
        env.path("t.bash"),
        "source ./c.bash; COMP_WORDS=(\"$SQLFORK\" db show acme/pr); COMP_CWORD=3; _sqlfork_addresses; printf '%s\\n' \"${COMPREPLY[@]}\"",
    )
    .unwrap();
    let run = env.sh("bash ./t.bash").run().ok();
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), ["acme/pr-1", "acme/prod", "acme/prod@ci"], "{}", run.dump());
}

// ===========================================================================
// 14. README: install before the recipes that assume the binary

#[test]
fn readme_installs_before_the_recipes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let msrv = cargo.lines().find_map(|l| l.strip_prefix("rust-version = ")).unwrap().trim_matches('"');
    let install = readme.find("cargo install --path .").expect("README shows `cargo install --path .`");
    assert!(readme.contains(&format!("Rust {msrv}")), "README names the minimum Rust version {msrv}");
    let cron = readme.find("crontab").or_else(|| readme.find("cron")).expect("a cron recipe");
    let systemd = readme.find("systemd").expect("a systemd recipe");
    assert!(install < cron && install < systemd, "install comes before the cron and systemd recipes");
    assert!(readme.contains("first `cargo run`"), "README warns that the first build is silent for a while");
}
