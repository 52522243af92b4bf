//! `db merge`, `db rebase` and `db diff --since-fork` (SPEC section 17), end
//! to end through the binary.
//!
//! Each case builds a parent (`acme/main`, a data fork sqlfork owns) and a
//! fork of it (`acme/fix`, keeping its base), changes both with SQL, and
//! checks the merged parent against an expected state computed
//! independently: a copy of the parent before the merge with the intended
//! row operations applied by plain SQL.

mod common;

use common::db::{exec, int, query};
use common::mount::{FsKind, LoopMount};
use common::{make_db, Env};
use serde_json::Value;
use std::path::{Path, PathBuf};

const SCHEMA: &str = "
CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT);
INSERT INTO t VALUES (1,'a1','b1'),(2,'a2','b2'),(3,'a3','b3'),(4,'a4','b4'),(5,'a5','b5');
CREATE TABLE log(msg TEXT);
INSERT INTO log VALUES ('start');
CREATE TRIGGER t_audit AFTER UPDATE ON t BEGIN INSERT INTO log VALUES ('updated ' || new.id); END;
";

struct Case {
    env: Env,
    main: PathBuf,
    fix: PathBuf,
}

/// `acme/main` (owned, with data, from `sql`) and `acme/fix`, its fork
/// with a base.
fn case(sql: &str) -> Case {
    let env = Env::new();
    let src = env.db("prod.db", sql);
    env.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    env.run(&["db", "fork", "acme/prod", "main", "--with-data"]).ok();
    env.run(&["db", "fork", "acme/main", "fix", "--with-data", "--mergeable"]).ok();
    let (main, fix) = (env.db_path("acme/main"), env.db_path("acme/fix"));
    Case { env, main, fix }
}

impl Case {
    /// A copy of the parent as it is now, to build the expected state on.
    fn expected(&self, name: &str, sql: &str) -> PathBuf {
        let p = self.env.path(name);
        std::fs::copy(&self.main, &p).unwrap();
        exec(&p, sql);
        p
    }
    fn merge(&self, extra: &[&str]) -> common::env::Run {
        let mut args = vec!["db", "merge", "acme/fix", "--json"];
        args.extend_from_slice(extra);
        self.env.run(&args)
    }
}

fn rows(p: &Path, table: &str) -> Vec<Vec<String>> {
    query(p, &format!("SELECT rowid, * FROM {table} ORDER BY rowid"))
}

fn same_tables(a: &Path, b: &Path, tables: &[&str]) {
    for t in tables {
        assert_eq!(rows(a, t), rows(b, t), "table {t} differs");
    }
}

fn kinds(report: &Value) -> Vec<String> {
    let mut k: Vec<String> =
        report["conflicts"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap().to_string()).collect();
    k.sort();
    k.dedup();
    k
}

#[test]
fn disjoint_changes_merge_cell_by_cell_with_schema_and_undo() {
    let c = case(SCHEMA);
    // The fork: a data fix, a backfill in a new column, an index, a delete,
    // an insert (its trigger logs the update).
    exec(
        &c.fix,
        "UPDATE t SET a = 'A1' WHERE id = 1; ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 0;
         UPDATE t SET c = 7 WHERE id = 4; DELETE FROM t WHERE id = 3; INSERT INTO t VALUES (6, 'a6', 'b6', 1);
         CREATE INDEX t_by_a ON t(a);",
    );
    // The parent meanwhile: the same row, another column; another row.
    exec(&c.main, "UPDATE t SET b = 'B1' WHERE id = 1; INSERT INTO t VALUES (7, 'a7', 'b7');");
    let before = c.expected("before.db", "");
    let want = c.expected(
        "want.db",
        "DROP TRIGGER t_audit; ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 0; UPDATE t SET a = 'A1' WHERE id = 1; UPDATE t SET c = 7 WHERE id = 4;
         DELETE FROM t WHERE id = 3; INSERT INTO t VALUES (6, 'a6', 'b6', 1);
         INSERT INTO log(rowid, msg) VALUES (3, 'updated 4');",
    );
    // --since-fork: only the fork's own changes.
    let since = c.env.run(&["db", "diff", "acme/fix", "--since-fork", "--json"]).ok().json();
    assert_eq!(since["tables"]["t"]["inserted"], 1, "{since}");
    assert_eq!(since["tables"]["t"]["deleted"], 1);
    // A dry run reports what the merge does and writes nothing.
    let dry = c.merge(&["--dry-run"]).ok().json();
    assert_eq!(dry["merged"], false);
    same_tables(&c.main, &before, &["t", "log"]);
    let real = c.merge(&[]).ok().json();
    assert_eq!(real["merged"], true, "{real}");
    assert_eq!(dry["tables"], real["tables"], "a dry run reports what the merge does");
    assert_eq!(dry["schema"], real["schema"]);
    assert!(real["conflicts"].as_array().unwrap().is_empty());
    same_tables(&c.main, &want, &["t", "log"]);
    assert_eq!(int(&c.main, "SELECT count(*) FROM sqlite_master WHERE name = 't_by_a'"), 1);
    // The parent's trigger did not fire while the fork's rows were applied:
    // the log holds the fork's own entry (as data), not a second one.
    assert_eq!(int(&c.main, "SELECT count(*) FROM log WHERE msg = 'updated 4'"), 1);
    assert_eq!(int(&c.main, "SELECT count(*) FROM log WHERE msg = 'updated 1'"), 1, "the parent's own update");
    // The pre-merge snapshot undoes it exactly.
    let snap = real["snapshot"].as_str().expect("a snapshot").to_string();
    let name = snap.rsplit(':').next().unwrap();
    c.env.run(&["db", "reset", "acme/main", "--to", name]).ok();
    same_tables(&c.main, &before, &["t", "log"]);
    assert_eq!(int(&c.main, "SELECT count(*) FROM pragma_table_info('t')"), 3);
}

/// A fork and parent with one conflict of each data kind.
fn conflicted() -> Case {
    let c = case(SCHEMA);
    exec(
        &c.fix,
        "UPDATE t SET a = 'fork' WHERE id = 1; DELETE FROM t WHERE id = 2; UPDATE t SET b = 'fork' WHERE id = 3;
         INSERT INTO t VALUES (9, 'fork9', 'x'); UPDATE t SET a = 'fork5' WHERE id = 5;",
    );
    exec(
        &c.main,
        "UPDATE t SET a = 'parent' WHERE id = 1; UPDATE t SET a = 'parent2' WHERE id = 2; DELETE FROM t WHERE id = 3;
         INSERT INTO t VALUES (9, 'parent9', 'x');",
    );
    c
}

#[test]
fn every_conflict_kind_under_each_prefer() {
    // abort: the report names every kind with its three values; nothing written.
    let c = conflicted();
    let before = c.expected("before.db", "");
    let r = c.merge(&[]).code(1).json();
    assert_eq!(r["merged"], false);
    assert_eq!(kinds(&r), ["cell", "deleteUpdate", "insert", "updateDelete"], "{r}");
    let cell = r["conflicts"].as_array().unwrap().iter().find(|x| x["kind"] == "cell").unwrap();
    assert_eq!(cell["table"], "t");
    assert_eq!(cell["key"]["id"], 1);
    assert_eq!(cell["column"], "a");
    assert_eq!(
        (cell["base"].as_str(), cell["fork"].as_str(), cell["parent"].as_str()),
        (Some("a1"), Some("fork"), Some("parent"))
    );
    same_tables(&c.main, &before, &["t", "log"]);
    let snaps = c.env.run(&["snapshot", "list", "acme/main", "--json"]).ok().json();
    assert!(snaps.as_array().unwrap().is_empty(), "a conflict leaves no snapshot: {snaps}");

    // fork: the fork's side of every data conflict.
    let c = conflicted();
    let want = c.expected(
        "want.db",
        "UPDATE t SET a = 'fork' WHERE id = 1; DELETE FROM t WHERE id = 2; INSERT INTO t VALUES (3, 'a3', 'fork');
         UPDATE t SET a = 'fork9' WHERE id = 9; UPDATE t SET a = 'fork5' WHERE id = 5;",
    );
    let r = c.merge(&["--prefer", "fork"]).ok().json();
    assert_eq!(r["merged"], true);
    assert_eq!(kinds(&r).len(), 4);
    same_tables(&c.main, &want, &["t"]);

    // parent: the parent keeps its side; the rest merges.
    let c = conflicted();
    let want = c.expected("want.db", "UPDATE t SET a = 'fork5' WHERE id = 5;");
    let r = c.merge(&["--prefer", "parent"]).ok().json();
    assert!(r["conflicts"].as_array().unwrap().iter().all(|x| x["resolution"] == "parent"), "{r}");
    same_tables(&c.main, &want, &["t"]);
}

#[test]
fn broken_unique_foreign_key_check_and_not_null_are_never_resolved_by_a_side() {
    let sql = "
    PRAGMA foreign_keys = ON;
    CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL);
    CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total INTEGER CHECK (total >= 0));
    INSERT INTO users VALUES (1,'a@x'),(2,'b@x'),(3,'c@x');
    INSERT INTO orders VALUES (1,1,10),(2,2,20);";
    let c = case(sql);
    exec(&c.fix, "UPDATE users SET email = 'new@x' WHERE id = 1; INSERT INTO orders VALUES (3, 3, 30);");
    exec(&c.main, "INSERT INTO users VALUES (4, 'new@x'); DELETE FROM users WHERE id = 3;");
    let before = c.expected("before.db", "");
    for prefer in ["abort", "fork", "parent"] {
        let r = c.merge(&["--prefer", prefer]).code(1).json();
        assert_eq!(r["merged"], false);
        let k = kinds(&r);
        assert!(k.contains(&"unique".to_string()) && k.contains(&"foreignKey".to_string()), "{prefer}: {r}");
        assert!(r["conflicts"].as_array().unwrap().iter().all(|x| x["resolution"].is_null()));
        same_tables(&c.main, &before, &["users", "orders"]);
    }
    // A CHECK and a NOT NULL the parent added (rebuilding its table), which
    // the fork's rows break.
    let c = case(sql);
    exec(&c.fix, "UPDATE orders SET total = 5 WHERE id = 1; INSERT INTO orders VALUES (4, 1, NULL);");
    exec(
        &c.main,
        "CREATE TABLE o2(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total INTEGER NOT NULL CHECK (total >= 10));
         INSERT INTO o2 SELECT * FROM orders; DROP TABLE orders; ALTER TABLE o2 RENAME TO orders;",
    );
    let before = c.expected("before.db", "");
    for prefer in ["abort", "fork", "parent"] {
        let r = c.merge(&["--prefer", prefer]).code(1).json();
        assert_eq!(kinds(&r), ["check", "notNull"], "{prefer}: {r}");
        same_tables(&c.main, &before, &["orders"]);
    }
}

#[test]
fn a_live_writer_loses_nothing_and_readers_never_see_half() {
    let c = case(SCHEMA);
    exec(&c.main, "PRAGMA journal_mode = WAL;");
    exec(&c.fix, "UPDATE t SET a = 'merged' WHERE id IN (1, 2, 3, 4, 5); INSERT INTO t VALUES (10, 'merged', 'x');");
    let mut merge =
        c.env.cmd(["db", "merge", "acme/fix", "--json"]).env("SQLFORK_TEST_PAUSE", "merge-applied:1500").spawn();
    let main = c.main.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (main, stop) = (main.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let conn = rusqlite::Connection::open(&main).unwrap();
                conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
                let n: i64 = conn.query_row("SELECT count(*) FROM t WHERE a = 'merged'", [], |r| r.get(0)).unwrap();
                seen.insert(n);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            seen
        })
    };
    // A writer during the merge (applied, not yet committed): it waits for
    // the merge's transaction, and loses nothing.
    merge.wait_for_stderr("paused at merge-applied", std::time::Duration::from_secs(60));
    let conn = rusqlite::Connection::open(&main).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    for i in 100..110 {
        conn.execute("INSERT INTO log VALUES (?1)", [format!("writer {i}")]).unwrap();
    }
    let out = merge.finish();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = reader.join().unwrap();
    let report = out.ok().json();
    assert_eq!(report["merged"], true, "{report}");
    assert!(seen.iter().all(|n| *n == 0 || *n == 6), "a reader saw half a merge: {seen:?}");
    assert_eq!(int(&main, "SELECT count(*) FROM t WHERE a = 'merged'"), 6);
    assert_eq!(int(&main, "SELECT count(*) FROM log WHERE msg LIKE 'writer %'"), 10);
}

#[test]
fn an_unregistered_parent_is_written_only_with_yes() {
    let env = Env::new();
    let src = env.db("app.db", SCHEMA);
    env.run(&["db", "fork", src.to_str().unwrap(), "acme/fix", "--with-data", "--mergeable"]).ok();
    let fix = env.db_path("acme/fix");
    exec(&fix, "UPDATE t SET a = 'fixed' WHERE id = 2;");
    let before = rows(&src, "t");
    env.run(&["db", "merge", "acme/fix"]).code(2).one_line_error().stderr_has("--yes");
    assert_eq!(rows(&src, "t"), before);
    env.run(&["db", "merge", "acme/fix", "--dry-run"]).ok();
    assert_eq!(rows(&src, "t"), before);
    let r = env.run(&["db", "merge", "acme/fix", "--yes", "--json"]).ok().json();
    assert!(r["snapshot"].is_null(), "an unregistered file gets no snapshot");
    assert_eq!(query(&src, "SELECT a FROM t WHERE id = 2"), vec![vec!["'fixed'".to_string()]]);
}

#[test]
fn rebase_puts_the_forks_changes_on_the_parents_state() {
    let c = case(SCHEMA);
    let id = c.env.run(&["db", "show", "acme/fix", "--json"]).ok().json()["id"].clone();
    exec(&c.fix, "UPDATE t SET a = 'mine' WHERE id = 1; INSERT INTO t VALUES (20, 'mine', 'x');");
    exec(
        &c.main,
        "UPDATE t SET b = 'theirs' WHERE id = 1; DELETE FROM t WHERE id = 5; INSERT INTO t VALUES (30, 'theirs', 'y');",
    );
    let want = c.expected("want.db", "UPDATE t SET a = 'mine' WHERE id = 1; INSERT INTO t VALUES (20, 'mine', 'x');");
    c.env.run(&["db", "rebase", "acme/fix"]).ok();
    assert_eq!(c.env.db_path("acme/fix"), c.fix, "same path");
    assert_eq!(c.env.run(&["db", "show", "acme/fix", "--json"]).ok().json()["id"], id, "same id");
    same_tables(&c.fix, &want, &["t"]);
    // The base moved to the parent state it was rebased on.
    let since = c.env.run(&["db", "diff", "acme/fix", "--since-fork", "--json"]).ok().json();
    assert_eq!(since["tables"]["t"]["inserted"], 1, "{since}");
    assert_eq!(since["tables"]["t"]["updated"], 1);
    assert!(since["tables"]["t"]["deleted"].as_u64().unwrap_or(0) == 0);
    // Merging it now lands exactly its own changes.
    c.merge(&[]).ok();
    same_tables(&c.main, &want, &["t"]);
}

#[test]
fn without_rowid_tables_and_tables_without_a_key() {
    let sql = "
    CREATE TABLE kv(k TEXT, n INTEGER, v TEXT, PRIMARY KEY (k, n)) WITHOUT ROWID;
    INSERT INTO kv VALUES ('a',1,'x'),('b',2,'y'),('c',3,'z');
    CREATE TABLE events(what TEXT);
    INSERT INTO events VALUES ('e1'),('e2');";
    let c = case(sql);
    exec(
        &c.fix,
        "UPDATE kv SET v = 'X' WHERE k = 'a'; DELETE FROM kv WHERE k = 'c'; INSERT INTO kv VALUES ('d',4,'w');
                  INSERT INTO events VALUES ('fork event'); UPDATE events SET what = 'E1' WHERE what = 'e1';",
    );
    exec(&c.main, "UPDATE kv SET v = 'Y' WHERE k = 'b'; INSERT INTO events VALUES ('parent event');");
    let want = c.expected(
        "want.db",
        "UPDATE kv SET v = 'X' WHERE k = 'a'; DELETE FROM kv WHERE k = 'c'; INSERT INTO kv VALUES ('d',4,'w');
         UPDATE events SET what = 'E1' WHERE what = 'e1'; INSERT INTO events(rowid, what) VALUES (4, 'fork event');",
    );
    c.merge(&[]).ok();
    assert_eq!(query(&c.main, "SELECT * FROM kv ORDER BY k"), query(&want, "SELECT * FROM kv ORDER BY k"));
    // A table without a declared key is matched by rowid; the fork's
    // appended row, whose rowid the parent took, gets a new one.
    same_tables(&c.main, &want, &["events"]);
}

#[test]
fn bad_inputs_say_what_to_do() {
    let c = case(SCHEMA);
    c.env.run(&["db", "merge", "acme/nope"]).code(3).one_line_error();
    c.env.run(&["db", "merge", "acme/fix", "--prefer", "sometimes"]).code(2);
    c.env.run(&["db", "diff", "acme/fix", "acme/main", "--since-fork"]).code(2);
    // No base: a schema-only fork, or a data fork on a file system that
    // cannot clone without --mergeable.
    c.env.run(&["db", "fork", "acme/main", "bare"]).ok();
    assert!(c.env.run(&["db", "show", "acme/bare", "--json"]).ok().json()["base"].is_null());
    let fix = c.env.run(&["db", "show", "acme/fix", "--json"]).ok().json();
    assert!(["copy", "clone"].contains(&fix["base"]["kind"].as_str().unwrap()), "{fix}");
    c.env.run(&["db", "show", "acme/fix"]).ok().stdout_has("Base:");
    c.env.run(&["db", "merge", "acme/bare"]).code(2).one_line_error().stderr_has("--mergeable");
    c.env.run(&["db", "diff", "acme/bare", "--since-fork"]).code(2).one_line_error();
    // No parent.
    c.env.run(&["db", "create", "acme/empty"]).ok();
    c.env.run(&["db", "merge", "acme/empty", "--into", "acme/main"]).code(2).one_line_error();
    // The base goes with the fork.
    let base = c.env.home.join("databases").join(format!(
        "{}.base.sqlite",
        c.env.run(&["db", "show", "acme/fix", "--json"]).ok().json()["id"].as_str().unwrap()
    ));
    assert!(base.exists());
    c.env.run(&["db", "delete", "acme/fix", "--yes"]).ok();
    assert!(!base.exists(), "db delete removes the base");
}

#[test]
fn on_xfs_the_base_is_a_free_clone() {
    let Some(m) = LoopMount::new(FsKind::Xfs, 320) else { return };
    let env = Env { home: m.path().join("home"), dir: tempfile::tempdir().unwrap() };
    let src = m.path().join("prod.db");
    make_db(&src, SCHEMA);
    env.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    env.run(&["db", "fork", "acme/prod", "main", "--with-data"]).ok();
    let out = env.run(&["db", "fork", "acme/main", "fix", "--with-data", "--json"]).ok().json();
    assert_eq!(out["base"]["kind"], "clone", "{out}");
    let show = env.run(&["db", "show", "acme/fix", "--json"]).ok().json();
    assert_eq!(show["base"]["kind"], "clone");
    let base = env.home.join("databases").join(format!("{}.base.sqlite", show["id"].as_str().unwrap()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&base).unwrap().permissions().mode() & 0o777, 0o400);
    let (main, fix) = (env.db_path("acme/main"), env.db_path("acme/fix"));
    exec(&fix, "UPDATE t SET a = 'x' WHERE id = 3;");
    exec(&main, "UPDATE t SET b = 'y' WHERE id = 3;");
    let r = env.run(&["db", "merge", "acme/fix", "--json"]).ok().json();
    assert_eq!(r["merged"], true, "{r}");
    assert_eq!(query(&main, "SELECT a, b FROM t WHERE id = 3"), vec![vec!["'x'".to_string(), "'y'".to_string()]]);
    env.run(&["db", "gc"]).ok();
    env.run(&["db", "delete", "acme/fix", "--yes"]).ok();
    assert!(!base.exists());
}
