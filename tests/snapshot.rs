//! Snapshots, `db reset` and forks from a point in time (SPEC section 10),
//! end to end through the binary.

mod common;

use common::*;
use std::path::Path;

/// `sqlfork ARGS` with the clock at `now`.
fn run_at(env: &Env, now: &str, args: &[&str]) -> Run {
    env.cmd(args).now(now).run()
}

const T0: &str = "2026-11-30T12:00:00Z";

/// A WAL source with 100 rows, imported as acme/orders.
fn orders(env: &Env) -> std::path::PathBuf {
    let src = env.db(
        "orders.db",
        "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100) INSERT INTO t(v) SELECT 'row' || i FROM n;",
    );
    env.run(&["db", "import", "acme/orders", src.to_str().unwrap()]).ok();
    src
}

/// Rows in `t`, read through a read-write connection: a read-only one would
/// leave `-wal` and `-shm` beside a WAL database, which the tests check
/// sqlfork never does.
fn rows(path: &Path) -> i64 {
    count(path, "SELECT count(*) FROM t")
}

/// Rows in a snapshot's `t`, read as sqlfork reads it: immutable.
fn snapshot_rows(path: &Path) -> i64 {
    let uri = format!("file:{}?immutable=1", path.display());
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let conn = rusqlite::Connection::open_with_flags(uri, flags).unwrap();
    conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
}

fn count(path: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()))
}

fn snapshot_json(env: &Env, db: &str) -> Vec<serde_json::Value> {
    env.run(&["--json", "snapshot", "list", db]).ok().json().as_array().expect("an array").clone()
}

/// Bad input: one line on stderr, the exit code, and nothing changed on
/// disk (registry and files alike).
fn refused(env: &Env, args: &[&str], code: i32, needle: &str) {
    let before = (env.registry().to_string(), env.database_files());
    env.run(args).code(code).one_line_error().stderr_has(needle);
    let after = (env.registry().to_string(), env.database_files());
    assert_eq!(before, after, "`sqlfork {}` left something behind", args.join(" "));
}

#[test]
fn create_list_and_delete_snapshots_of_an_imported_database() {
    let env = Env::new();
    let src = orders(&env);
    let out = run_at(&env, T0, &["--json", "snapshot", "create", "acme/orders", "--ttl", "2d"]).ok().json();
    assert_eq!(out["name"], "20261130T120000Z", "the default name is the UTC time");
    assert_eq!(out["takenAt"], T0);
    assert_eq!(out["expiresAt"], plus(T0, 2 * 86_400));
    let quiet = env.run(&["--quiet", "snapshot", "create", "acme/orders:before-0042"]).ok();
    assert_eq!(quiet.stdout, "acme/orders:before-0042\n", "--quiet prints only the snapshot's address");

    // The source changes; the snapshots do not.
    exec(&src, "DELETE FROM t WHERE id > 10");
    let list = snapshot_json(&env, "acme/orders");
    assert_eq!(list.len(), 2);
    for s in &list {
        let path = Path::new(s["path"].as_str().unwrap());
        assert!(path.starts_with(env.home.join("databases")), "the snapshot file is sqlfork's own: {path:?}");
        assert_eq!(mode(path), 0o400, "a snapshot file is read-only");
        assert_eq!(snapshot_rows(path), 100);
        assert!(s["sizeBytes"].as_u64().unwrap() > 0);
        for key in ["name", "takenAt", "expiresAt", "address"] {
            assert!(s.get(key).is_some(), "{key} missing in {s}");
        }
    }
    let human = env.run(&["snapshot", "list", "acme/orders"]).ok();
    assert!(human.stdout.contains("NAME") && human.stdout.contains("before-0042") && human.stdout.contains("never"));
    // Hidden copies never show as databases.
    assert_eq!(env.run(&["--json", "db", "list"]).ok().json().as_array().unwrap().len(), 1);

    refused(&env, &["snapshot", "create", "acme/orders:before-0042"], 4, "already exists");
    refused(&env, &["snapshot", "create", "acme/orders:bad name"], 2, "' '");
    refused(&env, &["snapshot", "create", "acme/orders:"], 2, "empty");
    refused(&env, &["snapshot", "create", "acme/nope:x"], 3, "acme/nope");
    refused(&env, &["snapshot", "delete", "acme/orders:nope"], 3, "before-0042");
    refused(&env, &["snapshot", "delete", "acme/orders"], 2, "NAMESPACE/SLUG:NAME");

    let gone = list.iter().find(|s| s["name"] == "before-0042").unwrap()["path"].as_str().unwrap().to_string();
    env.run(&["snapshot", "delete", "acme/orders:before-0042"]).ok();
    assert!(!Path::new(&gone).exists(), "the file goes with the snapshot");
    assert_eq!(snapshot_json(&env, "acme/orders").len(), 1);
    assert_eq!(rows(&src), 10, "the imported file is untouched by all of this");
}

#[test]
fn a_snapshot_is_a_fork_source_and_lineage_names_it() {
    let env = Env::new();
    let src = orders(&env);
    run_at(&env, T0, &["snapshot", "create", "acme/orders:before-0042"]).ok();
    exec(&src, "DELETE FROM t");

    let out = run_at(
        &env,
        &plus(T0, 3 * 86_400),
        &["--json", "db", "fork", "acme/orders:before-0042", "pr-1", "--with-data"],
    )
    .ok()
    .json();
    assert_eq!(out["forkedFrom"]["snapshot"]["name"], "before-0042");
    let fork = Path::new(out["path"].as_str().unwrap()).to_path_buf();
    assert_eq!(rows(&fork), 100, "the fork holds the snapshot's rows, not the source's current ones");
    assert_eq!(mode(&fork), 0o600, "a fork of a snapshot is an ordinary writable fork");
    exec(&fork, "INSERT INTO t(v) VALUES ('mine')");

    // Schema only from a snapshot too.
    env.run(&["db", "fork", "acme/orders:before-0042", "acme/pr-2"]).ok();
    assert_eq!(rows(&env.db_path("acme/pr-2")), 0);

    let show = run_at(&env, &plus(T0, 6 * 86_400), &["db", "show", "acme/pr-1"]).ok();
    show.stdout_has("Forked from acme/orders:before-0042 · 3d ago");
    let j = env.run(&["--json", "db", "show", "acme/pr-1"]).ok().json();
    assert_eq!(j["forkedFrom"]["slug"], "orders");
    assert_eq!(j["forkedFrom"]["snapshot"]["deleted"], false);

    // A deleted snapshot keeps its label, marked deleted; so does a deleted parent.
    env.run(&["snapshot", "delete", "acme/orders:before-0042"]).ok();
    env.run(&["db", "show", "acme/pr-1"]).ok().stdout_has("Forked from acme/orders:before-0042 (deleted)");
    let j = env.run(&["--json", "db", "show", "acme/pr-1"]).ok().json();
    assert_eq!(j["forkedFrom"]["snapshot"]["deleted"], true);
    assert_eq!(j["forkedFrom"]["snapshot"]["name"], "before-0042");
    env.run(&["db", "delete", "acme/orders"]).ok();
    let j = env.run(&["--json", "db", "show", "acme/pr-1"]).ok().json();
    assert_eq!(
        (j["forkedFrom"]["deleted"].clone(), j["forkedFrom"]["snapshot"]["name"].clone()),
        (true.into(), "before-0042".into())
    );
    assert_eq!(rows(&fork), 101, "the fork lives on after its snapshot and parent are gone");
}

#[test]
fn fork_at_takes_the_newest_snapshot_at_or_before_the_time() {
    let env = Env::new();
    let src = orders(&env);
    for (i, name) in ["one", "two", "three"].iter().enumerate() {
        exec(&src, &format!("DELETE FROM t WHERE id > {}", 90 - 10 * i));
        run_at(&env, &plus(T0, i as u64 * HOUR), &["snapshot", "create", &format!("acme/orders:{name}")]).ok();
    }
    // 12:00 → 90 rows, 13:00 → 80, 14:00 → 70.
    let at = plus(T0, 90 * 60);
    let out = env.run(&["--json", "db", "fork", "acme/orders", "a", "--with-data", "--at", &at]).ok().json();
    assert_eq!(out["forkedFrom"]["snapshot"]["name"], "two");
    assert_eq!(rows(Path::new(out["path"].as_str().unwrap())), 80);
    // Exactly at a snapshot's time counts.
    let out =
        env.run(&["--json", "db", "fork", "acme/orders", "b", "--with-data", "--at", &plus(T0, 2 * HOUR)]).ok().json();
    assert_eq!(out["forkedFrom"]["snapshot"]["name"], "three");
    // An age: 2h30m before 14:40 is 12:10.
    let out =
        run_at(&env, &plus(T0, 2 * HOUR + 40 * 60), &["--json", "db", "fork", "acme/orders", "c", "--at", "2h 30m"])
            .ok()
            .json();
    assert_eq!(out["forkedFrom"]["snapshot"]["name"], "one");

    refused(
        &env,
        &["db", "fork", "acme/orders", "d", "--at", "2026-11-29T00:00:00Z"],
        3,
        "one (taken 2026-11-30T12:00:00Z)",
    );
    refused(&env, &["db", "fork", "acme/orders", "d", "--at", "last tuesday"], 2, "RFC 3339");
    refused(&env, &["db", "fork", "acme/orders:nope", "d"], 3, "acme/orders has one");
    refused(&env, &["db", "fork", "acme/orders:no way", "d"], 2, "' '");
    let empty = env.db("empty.db", "CREATE TABLE x(a);");
    env.run(&["db", "import", "acme/empty", empty.to_str().unwrap()]).ok();
    refused(&env, &["db", "fork", "acme/empty", "d", "--at", "1h"], 3, "has no snapshots");
}

#[test]
fn reset_goes_back_to_the_parent_or_a_snapshot_in_place() {
    let env = Env::new();
    let src = orders(&env);
    let out = env.run(&["--json", "db", "fork", "acme/orders", "pr-1", "--with-data", "--ttl", "7d"]).ok().json();
    let (id, path) = (out["id"].clone(), std::path::PathBuf::from(out["path"].as_str().unwrap()));
    let expires = out["expiresAt"].clone();

    // The migrate → look → reset loop.
    env.run(&["snapshot", "create", "acme/pr-1:before"]).ok();
    exec(&path, "ALTER TABLE t ADD COLUMN migrated INTEGER; DELETE FROM t WHERE id > 50;");
    let r = env.run(&["--quiet", "db", "reset", "acme/pr-1", "--to", "before"]).ok();
    assert_eq!(r.stdout.trim(), path.to_str().unwrap(), "--quiet prints only the path");
    assert_eq!(rows(&path), 100);
    assert_eq!(count(&path, "SELECT count(*) FROM pragma_table_info('t') WHERE name = 'migrated'"), 0);
    let j = env.run(&["--json", "db", "show", "acme/pr-1"]).ok().json();
    assert_eq!((j["id"].clone(), j["expiresAt"].clone()), (id.clone(), expires.clone()), "same id, expiry kept");
    assert_eq!(j["forkedFrom"]["slug"], "orders", "a reset to its own snapshot keeps its lineage");

    // To the parent's current state, keeping the data mode (with data).
    exec(&src, "DELETE FROM t WHERE id > 30");
    let j = env.run(&["--json", "db", "reset", "acme/pr-1"]).ok().json();
    assert_eq!((j["id"].clone(), j["path"].as_str().unwrap()), (id.clone(), path.to_str().unwrap()));
    assert_eq!(j["resetTo"], "acme/orders");
    assert_eq!(rows(&path), 30);
    // Overrides, remembered for next time.
    env.run(&["db", "reset", "acme/pr-1", "--schema-only"]).ok();
    assert_eq!(rows(&path), 0);
    env.run(&["db", "reset", "acme/pr-1"]).ok();
    assert_eq!(rows(&path), 0, "the schema-only mode is remembered");
    env.run(&["db", "reset", "acme/pr-1", "--with-data"]).ok();
    assert_eq!(rows(&path), 30);
    // --to restores a snapshot whole even for a schema-only fork.
    env.run(&["db", "fork", "acme/orders", "pr-2"]).ok();
    let p2 = env.db_path("acme/pr-2");
    exec(&p2, "INSERT INTO t(v) VALUES ('a'), ('b')");
    env.run(&["snapshot", "create", "acme/pr-2:two-rows"]).ok();
    exec(&p2, "DELETE FROM t");
    env.run(&["db", "reset", "acme/pr-2", "--to", "acme/pr-2:two-rows"]).ok();
    assert_eq!(rows(&p2), 2);
    env.run(&["db", "reset", "acme/pr-2"]).ok();
    assert_eq!(rows(&p2), 0, "a reset to the parent still keeps pr-2's schema-only mode");
    assert!(env.run(&["--json", "db", "list"]).ok().json().as_array().unwrap().len() == 3, "no hidden copy shows");
    assert!(!env.database_files().iter().any(|f| f.ends_with("-wal") || f.ends_with("-journal")));

    // A fork of a snapshot resets to that snapshot.
    env.run(&["db", "fork", "acme/pr-1:before", "pr-3", "--with-data"]).ok();
    let p3 = env.db_path("acme/pr-3");
    exec(&p3, "DELETE FROM t");
    env.run(&["db", "reset", "acme/pr-3"]).ok().stderr_has("acme/pr-1:before");
    assert_eq!(rows(&p3), 100);
}

#[test]
fn what_cannot_be_reset_or_snapshotted_is_refused_cleanly() {
    let env = Env::new();
    orders(&env);
    env.run(&["db", "fork", "acme/orders", "pr-1", "--with-data"]).ok();
    env.run(&["snapshot", "create", "acme/orders:prod"]).ok();
    env.run(&["db", "create", "acme/blank"]).ok();

    refused(&env, &["db", "reset", "acme/orders"], 2, "imported");
    refused(&env, &["db", "reset", "acme/blank"], 2, "created empty");
    refused(&env, &["db", "reset", "acme/pr-1", "--to", "acme/orders:prod"], 2, "not of acme/pr-1");
    refused(&env, &["db", "reset", "acme/pr-1", "--to", "nope"], 3, "acme/pr-1 has no snapshots");
    refused(&env, &["db", "reset", "acme/pr-1", "--to", "no/pe"], 2, "'/'");
    refused(&env, &["db", "reset", "acme/nope"], 3, "acme/nope");
    env.run(&["db", "reset", "acme/pr-1", "--with-data", "--schema-only"]).code(2);

    // A database created empty can go back to its own snapshot.
    let blank = env.db_path("acme/blank");
    exec(&blank, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    env.run(&["snapshot", "create", "acme/blank:v1"]).ok();
    exec(&blank, "DROP TABLE t");
    env.run(&["db", "reset", "acme/blank", "--to", "v1"]).ok();
    assert_eq!(rows(&blank), 0);

    // Provisioning: neither reset nor snapshot.
    env.set_entry_field("acme", "pr-1", None, "status", toml::Value::String("provisioning".into()));
    refused(&env, &["db", "reset", "acme/pr-1"], 1, "still provisioning");
    refused(&env, &["snapshot", "create", "acme/pr-1:x"], 1, "still provisioning");
}

#[test]
fn branches_remember_their_data_mode_and_take_snapshots() {
    let env = Env::new();
    let src = orders(&env);
    let path =
        std::path::PathBuf::from(env.run(&["branch", "put", "acme/orders@pr-9", "--with-data"]).ok().stdout.trim());
    assert_eq!(rows(&path), 100);
    exec(&src, "DELETE FROM t WHERE id > 60");
    let again = env.run(&["branch", "put", "acme/orders@pr-9"]).ok();
    assert_eq!(again.stdout.trim(), path.to_str().unwrap());
    assert_eq!(rows(&path), 60, "a later put without flags resets with data, as the branch was made");
    env.run(&["branch", "put", "acme/orders@pr-9", "--schema-only"]).ok();
    assert_eq!(rows(&path), 0);

    exec(&path, "INSERT INTO t(v) VALUES ('x')");
    env.run(&["snapshot", "create", "acme/orders@pr-9:mine"]).ok();
    let list = snapshot_json(&env, "acme/orders@pr-9");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["address"], "acme/orders@pr-9:mine");
    assert!(snapshot_json(&env, "acme/orders").is_empty(), "a branch's snapshots are its own");
    env.run(&["db", "fork", "acme/orders@pr-9:mine", "from-branch", "--with-data"]).ok();
    assert_eq!(rows(&env.db_path("acme/from-branch")), 1);
    exec(&path, "DELETE FROM t");
    env.run(&["db", "reset", "acme/orders@pr-9", "--to", "mine"]).ok();
    assert_eq!(rows(&path), 1);
    let out = env.run(&["branch", "delete", "acme/orders@pr-9"]).ok();
    assert!(out.stdout.contains("1 snapshot"), "{}", out.stdout);
    assert!(!Path::new(list[0]["path"].as_str().unwrap()).exists());
}

#[test]
fn db_delete_and_gc_remove_snapshots() {
    let env = Env::new();
    orders(&env);
    run_at(&env, T0, &["snapshot", "create", "acme/orders:short", "--ttl", "1h"]).ok();
    run_at(&env, T0, &["snapshot", "create", "acme/orders:long", "--ttl", "2d"]).ok();
    run_at(&env, T0, &["snapshot", "create", "acme/orders:kept"]).ok();
    let files = env.database_files();
    assert_eq!(files.len(), 3);

    let dry = run_at(&env, &plus(T0, 2 * HOUR), &["--json", "db", "gc", "--dry-run"]).ok().json();
    assert_eq!(dry["snapshotsDeleted"].as_array().unwrap().len(), 1);
    assert_eq!(env.database_files(), files, "a dry run deletes nothing");
    let gc = run_at(&env, &plus(T0, 2 * HOUR), &["--json", "db", "gc"]).ok().json();
    assert_eq!(gc["snapshotsDeleted"][0]["name"], "short");
    let names: Vec<String> =
        snapshot_json(&env, "acme/orders").iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["long", "kept"], "oldest first: in the order they were taken");
    assert_eq!(env.database_files().len(), 2);
    run_at(&env, &plus(T0, 3 * 86_400), &["db", "gc"]).ok().stdout_has("acme/orders:long");

    // A forked database with snapshots: db delete says how many went.
    env.run(&["db", "fork", "acme/orders", "pr-1", "--with-data", "--ttl", "1h"]).ok();
    env.run(&["snapshot", "create", "acme/pr-1:a"]).ok();
    env.run(&["snapshot", "create", "acme/pr-1:b"]).ok();
    let j = env.run(&["--json", "db", "delete", "acme/pr-1"]).ok().json();
    assert_eq!(j["snapshotsDeleted"], 2);
    // The imported orders: its kept snapshot goes with it; its file stays.
    env.run(&["db", "delete", "acme/orders"]).ok().stdout_has("1 snapshot");
    assert!(env.database_files().is_empty(), "left: {:?}", env.database_files());
    assert!(env.path("orders.db").exists());

    // gc of an expired database takes its snapshots along.
    orders_again(&env);
    run_at(&env, T0, &["db", "fork", "acme/orders", "pr-2", "--ttl", "1h"]).ok();
    run_at(&env, T0, &["snapshot", "create", "acme/pr-2:s"]).ok();
    run_at(&env, &plus(T0, 2 * HOUR), &["db", "gc"]).ok();
    assert!(env.database_files().is_empty(), "left: {:?}", env.database_files());
}

fn orders_again(env: &Env) {
    env.run(&["db", "import", "acme/orders", env.path("orders.db").to_str().unwrap()]).ok();
}

#[test]
fn forks_of_a_wal_snapshot_are_wal_by_every_method_and_leave_nothing_beside_it() {
    let env = Env::new();
    orders(&env);
    let snap = env.run(&["--json", "snapshot", "create", "acme/orders:s"]).ok().json();
    let snap_path = std::path::PathBuf::from(snap["path"].as_str().unwrap());
    let journal = |p: &Path| -> String {
        let c = rusqlite::Connection::open(p).unwrap();
        c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap()
    };
    env.run(&["db", "fork", "acme/orders:s", "pages", "--with-data"]).ok();
    env.run(&["db", "fork", "acme/orders:s", "schema"]).ok();
    env.config("copy_method = \"rows\"\n");
    env.run(&["db", "fork", "acme/orders:s", "rows", "--with-data"]).ok();
    for (name, n) in [("pages", 100), ("schema", 0), ("rows", 100)] {
        let p = env.db_path(&format!("acme/{name}"));
        assert_eq!(rows(&p), n, "{name}");
        assert_eq!(journal(&p), "wal", "a fork of a WAL database's snapshot is WAL ({name})");
    }
    let beside: Vec<String> =
        env.database_files().into_iter().filter(|f| f.contains(snap["id"].as_str().unwrap())).collect();
    assert_eq!(beside, [format!("{}.sqlite", snap["id"].as_str().unwrap())], "nothing beside the snapshot");
    assert_eq!(mode(&snap_path), 0o400);
}

#[test]
fn db_diff_takes_snapshots_and_a_fork_of_one_defaults_to_it() {
    let env = Env::new();
    let src = orders(&env);
    env.run(&["snapshot", "create", "acme/orders:before"]).ok();
    exec(&src, "DELETE FROM t WHERE id > 90");
    env.run(&["db", "fork", "acme/orders:before", "pr-1", "--with-data"]).ok();
    let pr = env.db_path("acme/pr-1");
    exec(&pr, "DELETE FROM t WHERE id <= 3");
    // B defaults to A's parent: the snapshot it was forked from.
    let d = env.run(&["--json", "db", "diff", "acme/pr-1"]).ok().json();
    assert_eq!((d["b"].as_str(), d["tables"]["t"]["deleted"].as_i64()), (Some("acme/orders:before"), Some(3)));
    // A snapshot as either side, against the database now.
    let d = env.run(&["--json", "db", "diff", "acme/orders", "acme/orders:before"]).ok().json();
    assert_eq!((d["a"].as_str(), d["tables"]["t"]["deleted"].as_i64()), (Some("acme/orders"), Some(10)));
    refused(&env, &["db", "diff", "acme/pr-1", "acme/orders:nope"], 3, "acme/orders has before");
}

#[test]
fn snapshots_taken_in_the_same_second_keep_the_order_they_were_taken_in() {
    // The clock stands still, so both are taken "at" the same second; the
    // later one sorts before the earlier by name.
    let env = Env::new();
    let src = orders(&env);
    run_at(&env, T0, &["snapshot", "create", "acme/orders:zz-first"]).ok();
    exec(&src, "INSERT INTO t(v) VALUES ('new')");
    run_at(&env, T0, &["snapshot", "create", "acme/orders:aa-second"]).ok();

    let names: Vec<String> =
        snapshot_json(&env, "acme/orders").iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["zz-first", "aa-second"], "snapshot list is oldest first");
    let human = env.run(&["snapshot", "list", "acme/orders"]).ok().stdout;
    let (first, second) = (human.find("zz-first").unwrap(), human.find("aa-second").unwrap());
    assert!(first < second, "{human}");

    let out = env
        .run(&["--json", "db", "fork", "acme/orders", "tie", "--at", "2099-01-01T00:00:00Z", "--with-data"])
        .ok()
        .json();
    assert_eq!(out["forkedFrom"]["snapshot"]["name"], "aa-second", "--at takes the newest");
    assert_eq!(rows(Path::new(out["path"].as_str().unwrap())), 101);
    let out = run_at(&env, T0, &["--json", "db", "fork", "acme/orders", "tie2", "--at", T0]).ok().json();
    assert_eq!(out["forkedFrom"]["snapshot"]["name"], "aa-second");
}

#[test]
fn concurrent_snapshots_with_the_default_name_all_succeed_under_distinct_names() {
    let env = Env::new();
    orders(&env);
    let runs: Vec<_> =
        (0..3).map(|_| env.cmd(["--json", "snapshot", "create", "acme/orders"]).now(T0).spawn()).collect();
    let mut names: Vec<String> =
        runs.into_iter().map(|r| r.finish().ok().json()["name"].as_str().unwrap().into()).collect();
    names.sort();
    assert_eq!(names, ["20261130T120000Z", "20261130T120000Z-2", "20261130T120000Z-3"]);
    // One after another in the same second: the next free name again.
    let out = run_at(&env, T0, &["--json", "snapshot", "create", "acme/orders"]).ok().json();
    assert_eq!(out["name"], "20261130T120000Z-4");
    assert_eq!(snapshot_json(&env, "acme/orders").len(), 4);
    assert_eq!(env.database_files().len(), 4, "one file per snapshot, nothing left over");
    // An explicit name that is taken is still refused.
    refused(&env, &["snapshot", "create", "acme/orders:20261130T120000Z-2"], 4, "already exists");
}

#[test]
fn gc_that_deletes_only_snapshots_does_not_say_nothing_was_deleted() {
    let env = Env::new();
    orders(&env);
    run_at(&env, T0, &["snapshot", "create", "acme/orders:old", "--ttl", "1h"]).ok();
    let later = plus(T0, 2 * HOUR);
    for args in [&["db", "gc", "--dry-run"][..], &["db", "gc"][..]] {
        let run = run_at(&env, &later, args).ok();
        assert!(!run.stdout.contains("Nothing to delete"), "{}", run.stdout);
        assert!(run.stdout.contains("1 snapshot:") && run.stdout.contains("acme/orders:old"), "{}", run.stdout);
    }
    let run = run_at(&env, &later, &["db", "gc"]).ok();
    assert!(run.stdout.starts_with("Nothing to delete"), "{}", run.stdout);
    let j = run_at(&env, &later, &["--json", "db", "gc"]).ok().json();
    assert_eq!(j["snapshotsDeleted"].as_array().unwrap().len(), 0);
    assert_eq!(j["deleted"].as_array().unwrap().len(), 0);
}
