//! End-to-end tests of data forks (`db fork --with-data`): fidelity, kill -9
//! and resume, live sources, disk full, progress, `--detach` and `db wait`,
//! and the one-copier-per-fork claim. Every source is built from SQL at run
//! time; every test drives the real binary in its own temporary home, for
//! both copy methods (`copy_method = "pages"`, the default, and `"rows"`)
//! where the method matters.
//!
//! Slow copies come from the testing knobs `SQLFORK_TEST_DELAY_MS` (a sleep
//! after every committed chunk or page) and `SQLFORK_TEST_CHUNK_PAGES`
//! (pages per chunk in the page copy; durable checkpoints every 16 chunks).

mod common;

use common::*;
use rusqlite::Connection;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ===========================================================================
// Helpers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Pages,
    Rows,
    /// The kernel file copy (issue 9): what a data fork does on ext4.
    File,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Pages => "pages",
            Method::Rows => "rows",
            Method::File => "file",
        }
    }
}

/// An env whose config picks the copy method (and a small page of rows, so
/// that even small tables take several pages in the rows method).
fn env_for(method: Method, rows_per_page: u64) -> Env {
    let env = Env::new();
    env.config(&format!("copy_method = \"{}\"\nrows_per_page = {rows_per_page}\n", method.name()));
    env
}

/// Every table's content, independent of sqlfork: for each table in
/// `sqlite_master` (SQLite's own `sqlite_sequence` and `sqlite_stat*` and
/// virtual tables' shadow tables included; virtual tables themselves
/// excluded, their content is in the shadow tables), one line per row in the
/// table's own key order (a full scan of its b-tree, `NOT INDEXED`): the
/// rowid when SQL can reach it, then `quote()` of every column, generated
/// columns included.
fn contents(path: &Path) -> BTreeMap<String, Vec<String>> {
    let conn = ro(path);
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL TABLE%'",
            )
            .unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
    };
    let mut out = BTreeMap::new();
    for t in tables {
        let cols: Vec<String> = {
            let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_xinfo({})", sql_str(&t))).unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
        };
        let without_rowid: i64 = conn
            .query_row("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1", [&t], |r| r.get(0))
            .unwrap();
        let lower: Vec<String> = cols.iter().map(|c| c.to_lowercase()).collect();
        let rowid = if without_rowid != 0 {
            None
        } else {
            ["_rowid_", "rowid", "oid"].into_iter().find(|a| !lower.contains(&a.to_string()))
        };
        let mut exprs: Vec<String> = rowid.map(|a| format!("quote({a})")).into_iter().collect();
        exprs.extend(cols.iter().map(|c| format!("quote({})", quote_name(c))));
        let sql = format!("SELECT {} FROM main.{} NOT INDEXED", exprs.join(" || '|' || "), quote_name(&t));
        let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let rows: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        out.insert(t, rows);
    }
    out
}

/// Assert two databases hold the same rows in every table, naming the first
/// difference.
fn assert_same_contents(a: &Path, b: &Path) {
    let (ca, cb) = (contents(a), contents(b));
    let names_a: Vec<&String> = ca.keys().collect();
    let names_b: Vec<&String> = cb.keys().collect();
    assert_eq!(names_a, names_b, "tables differ between {} and {}", a.display(), b.display());
    for (t, rows_a) in &ca {
        let rows_b = &cb[t];
        if rows_a != rows_b {
            let i = rows_a.iter().zip(rows_b).position(|(x, y)| x != y).unwrap_or(rows_a.len().min(rows_b.len()));
            panic!(
                "table {t}: {} rows in {}, {} in {}; first difference at row {i}:\n  {:?}\n  {:?}",
                rows_a.len(),
                a.display(),
                rows_b.len(),
                b.display(),
                rows_a.get(i),
                rows_b.get(i)
            );
        }
    }
}

/// The fork equals the source: sqlite_master (rootpage aside), settings,
/// rows of every table; and it is sound.
fn assert_fork_equals(src: &Path, fork: &Path) {
    let (ms, mf) = (master_set(src), master_set(fork));
    assert!(ms == mf, "sqlite_master differs:\n{}", master_diff(&ms, &mf));
    assert_eq!(settings(fork), settings(src), "settings differ");
    assert_same_contents(src, fork);
    assert_sound(fork);
}

/// Rows a data fork should report copying: every row of every table that
/// is neither SQLite's own nor virtual (shadow tables count).
fn expected_rows(path: &Path) -> u64 {
    contents(path).iter().filter(|(t, _)| !t.to_lowercase().starts_with("sqlite_")).map(|(_, r)| r.len() as u64).sum()
}

/// Slow-copy knobs: a sleep of `delay_ms` after every committed chunk (of
/// `chunk_pages` pages) or page of rows, and progress lines at every step.
fn slow(delay_ms: u64, chunk_pages: u64) -> Vec<(&'static str, String)> {
    vec![
        ("SQLFORK_TEST_DELAY_MS", delay_ms.to_string()),
        ("SQLFORK_TEST_CHUNK_PAGES", chunk_pages.to_string()),
        ("SQLFORK_PROGRESS_INTERVAL", "0".to_string()),
    ]
}

fn json_path(v: &Value) -> PathBuf {
    PathBuf::from(v["path"].as_str().unwrap_or_else(|| panic!("no path in {v:#}")))
}

// ===========================================================================
// 1. Fidelity with data

/// A source with every kind of content a data fork must carry. Page size
/// 1024 so that even this small database spans many pages.
const RICH_SQL: &str = r#"
    PRAGMA page_size = 1024;
    PRAGMA auto_vacuum = INCREMENTAL;
    PRAGMA user_version = 42;
    PRAGMA application_id = 1234;

    CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
    CREATE TABLE child(
        id INTEGER PRIMARY KEY,
        parent_id INTEGER NOT NULL REFERENCES parent(id),
        note TEXT, amount REAL, data BLOB);
    CREATE INDEX child_parent ON child(parent_id, note);
    CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
    CREATE TRIGGER parent_audit AFTER INSERT ON parent BEGIN
        INSERT INTO audit(what) VALUES ('parent ' || new.id);
    END;
    CREATE TRIGGER child_audit AFTER INSERT ON child BEGIN
        INSERT INTO audit(what) VALUES ('child ' || new.id);
    END;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
        INSERT INTO parent(name) SELECT 'parent-' || i FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
        INSERT INTO child(parent_id, note, amount, data)
        SELECT 1 + (i * 7) % 55, 'note ' || i || ' ünïcødé', i * 1.25, randomblob(i % 17) FROM n;
    INSERT INTO child(parent_id, note, amount, data) VALUES (1, NULL, NULL, NULL), (2, '', -0.0, x'');
    -- AUTOINCREMENT counters above max(id).
    DELETE FROM parent WHERE id > 55;
    DELETE FROM audit WHERE id % 4 = 0 OR id > 250;
    CREATE VIEW child_totals AS SELECT parent_id, sum(amount) AS total FROM child GROUP BY parent_id;
    CREATE TRIGGER child_totals_insert INSTEAD OF INSERT ON child_totals BEGIN
        INSERT INTO child(parent_id, amount) VALUES (new.parent_id, new.total);
    END;

    -- A column named rowid: the rowid is reached as _rowid_.
    CREATE TABLE named_rowid(rowid TEXT, value INTEGER);
    INSERT INTO named_rowid(_rowid_, rowid, value) VALUES (-7, 'minus seven', 1), (3, 'three', 2), (1000000000000, 'big', 3);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
        INSERT INTO named_rowid(_rowid_, rowid, value) SELECT i * 13, 'r' || i, i FROM n;
    -- Every alias taken, but an INTEGER PRIMARY KEY reaches the rowid.
    CREATE TABLE aliases_ipk(rowid TEXT, _rowid_ TEXT, oid TEXT, id INTEGER PRIMARY KEY);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25)
        INSERT INTO aliases_ipk(rowid, _rowid_, oid, id) SELECT 'a' || i, 'b' || i, 'c' || i, i * 1000 - 12000 FROM n;
    -- Every alias taken and no INTEGER PRIMARY KEY: SQL cannot reach the rowid.
    CREATE TABLE aliases_all(rowid TEXT, _rowid_ TEXT, oid TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
        INSERT INTO aliases_all SELECT 'x' || i, 'y' || i, 'z' || i FROM n;
    -- Negative, zero and extreme rowids.
    CREATE TABLE negative(x TEXT);
    INSERT INTO negative(rowid, x) VALUES
        (-9223372036854775808, 'min'), (-1, 'minus one'), (0, 'zero'), (9223372036854775807, 'max');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
        INSERT INTO negative(rowid, x) SELECT -100 - i * 3, 'neg ' || i FROM n;

    -- WITHOUT ROWID: a DESC key column, NOCASE keys, mixed-type keys.
    CREATE TABLE wr_desc(a TEXT NOT NULL, b INTEGER NOT NULL, c BLOB, PRIMARY KEY(a, b DESC)) WITHOUT ROWID;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 59)
        INSERT INTO wr_desc SELECT char(120 + i % 3), i / 3, randomblob(3) FROM n;
    -- The key's collation differs from the column's (BINARY).
    CREATE TABLE wr_nocase(k TEXT, v INTEGER, PRIMARY KEY(k COLLATE NOCASE)) WITHOUT ROWID;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 49)
        INSERT INTO wr_nocase SELECT CASE WHEN i % 2 THEN 'KEY' ELSE 'key' END || printf('%03d', i), i FROM n;
    CREATE TABLE wr_mixed(a, b TEXT, c, PRIMARY KEY(b COLLATE NOCASE DESC, a)) WITHOUT ROWID;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
        INSERT INTO wr_mixed SELECT
            CASE i % 4 WHEN 0 THEN i WHEN 1 THEN i + 0.5 WHEN 2 THEN 'text' || i ELSE CAST('blob' || i AS BLOB) END,
            CASE i % 3 WHEN 0 THEN 'Alpha' WHEN 1 THEN 'beta' ELSE 'GAMMA' END,
            i FROM n;

    -- Generated columns, with a normal column after them.
    CREATE TABLE gen(
        id INTEGER PRIMARY KEY, a INTEGER,
        b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
        c TEXT GENERATED ALWAYS AS ('v' || a) STORED,
        d TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
        INSERT INTO gen(id, a, d) SELECT i * 2, i, 'd' || i FROM n;

    -- FTS5 (normal, external content, contentless), FTS4, R*Tree.
    CREATE VIRTUAL TABLE ft USING fts5(title, body);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
        INSERT INTO ft(title, body) SELECT 'title ' || i,
            CASE i % 3 WHEN 0 THEN 'sqlite forks are cheap' WHEN 1 THEN 'rust code and sqlite' ELSE 'apples and oranges' END
        FROM n;
    DELETE FROM ft WHERE rowid % 5 = 0;
    CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
        INSERT INTO docs SELECT i * 3,
            CASE i % 2 WHEN 0 THEN 'forks of databases' ELSE 'apples in rust' END FROM n;
    CREATE VIRTUAL TABLE ft_ext USING fts5(body, content = 'docs', content_rowid = 'id');
    INSERT INTO ft_ext(ft_ext) VALUES ('rebuild');
    CREATE VIRTUAL TABLE ft_none USING fts5(body, content = '');
    INSERT INTO ft_none(rowid, body) SELECT id, body FROM docs;
    CREATE VIRTUAL TABLE ft4 USING fts4(body);
    INSERT INTO ft4(docid, body) SELECT id + 7, body FROM docs;
    CREATE VIRTUAL TABLE rt USING rtree(id, minx, maxx, miny, maxy);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
        INSERT INTO rt SELECT i, i, i + 5, i * 2, i * 2 + 3 FROM n;

    ANALYZE;
"#;

/// Queries whose answers must be the same on the fork (none may be empty).
const RICH_QUERIES: &[&str] = &[
    "SELECT rowid, title, body FROM ft WHERE ft MATCH 'sqlite' ORDER BY rowid",
    "SELECT rowid, highlight(ft, 1, '[', ']'), bm25(ft) FROM ft WHERE ft MATCH 'body:rust' ORDER BY rank",
    "SELECT rowid FROM ft_ext WHERE ft_ext MATCH 'forks' ORDER BY rowid",
    "SELECT d.id, d.body FROM ft_ext JOIN docs d ON d.id = ft_ext.rowid WHERE ft_ext MATCH 'apples' ORDER BY d.id",
    "SELECT rowid FROM ft_none WHERE ft_none MATCH 'rust' ORDER BY rowid",
    "SELECT docid, body FROM ft4 WHERE ft4 MATCH 'databases' ORDER BY docid",
    "SELECT id FROM rt WHERE minx >= 10 AND maxx <= 30 AND miny < 50 ORDER BY id",
    "SELECT count(*), sum(amount) FROM child WHERE parent_id BETWEEN 3 AND 9",
    "SELECT * FROM child_totals ORDER BY parent_id",
    "SELECT k FROM wr_nocase WHERE k >= 'key020' ORDER BY k LIMIT 5",
];

/// The source must really have what the test claims to check.
fn assert_rich_source(src: &Path) {
    let seq: i64 = scalar(src, "SELECT seq FROM sqlite_sequence WHERE name = 'parent'");
    let max: i64 = scalar(src, "SELECT max(id) FROM parent");
    assert!(seq > max, "parent's AUTOINCREMENT counter ({seq}) should be above max(id) ({max})");
    assert!(scalar::<i64>(src, "SELECT count(*) FROM sqlite_stat1") > 0, "source has sqlite_stat1 rows");
    assert!(scalar::<i64>(src, "SELECT count(*) FROM sqlite_stat4") > 0, "source has sqlite_stat4 rows");
    assert!(scalar::<i64>(src, "SELECT min(_rowid_) FROM named_rowid") < 0);
    assert_eq!(scalar::<i64>(src, "SELECT min(rowid) FROM negative"), i64::MIN);
    for q in RICH_QUERIES {
        assert!(!query(src, q).is_empty(), "query answers nothing on the source: {q}");
    }
}

/// Build the rich source (optionally in WAL mode, with part of its content
/// only in the WAL), fork it with data with `method`, and check everything.
fn rich_fork(method: Method, wal: bool) {
    let env = env_for(method, 7);
    let src = env.path("rich.db");
    let sql = if wal {
        RICH_SQL.replace("PRAGMA user_version = 42;", "PRAGMA journal_mode = WAL; PRAGMA user_version = 42;")
    } else {
        RICH_SQL.to_string()
    };
    make_db(&src, &sql);
    // In WAL mode, keep a connection open with rows that exist only in the
    // WAL (no checkpoint), so the fork must read through the WAL.
    let wal_holder = wal.then(|| {
        let conn = Connection::open(&src).unwrap();
        conn.execute_batch(
            "PRAGMA wal_autocheckpoint = 0;
             INSERT INTO child(parent_id, note) VALUES (5, 'only in the wal');
             INSERT INTO parent(name) VALUES ('wal parent');
             DELETE FROM parent WHERE id = (SELECT max(id) FROM parent);",
        )
        .unwrap();
        let wal_len = std::fs::metadata(env.path("rich.db-wal")).map(|m| m.len()).unwrap_or(0);
        assert!(wal_len > 0, "the source's WAL holds uncheckpointed pages");
        conn
    });
    assert_rich_source(&src);
    assert_eq!(settings(&src).iter().find(|(k, _)| k == "journal_mode").unwrap().1.contains("wal"), wal);
    let src_tree = tree_snapshot(env.dir.path(), &[&env.home]);

    let started = Instant::now();
    let run = env.cmd(["db", "fork", &src_arg(&env, &src), "copy", "--with-data", "--json"]).run().ok();
    let wall = started.elapsed();
    let out = run.json();
    let fork = json_path(&out);
    let fork_len = file_len(&fork);

    assert_eq!(out["status"], "healthy", "{out:#}");
    assert_eq!(out["includeData"], true);
    let copy = &out["copy"];
    assert_eq!(copy["exact"], true, "an idle source gives an exact copy\n{out:#}");
    assert_eq!(copy["orphansPruned"], 0, "{out:#}");
    assert_eq!(copy["rowsCopied"].as_u64(), Some(expected_rows(&src)), "rowsCopied\n{out:#}");
    assert_eq!(copy["bytesCopied"].as_u64(), Some(fork_len), "bytesCopied is the fork's size\n{out:#}");
    let ms = copy["durationMs"].as_u64().expect("durationMs is a number");
    assert!(ms <= wall.as_millis() as u64, "durationMs {ms} exceeds the command's wall time {wall:?}");

    assert_fork_equals(&src, &fork);
    for q in RICH_QUERIES {
        assert_eq!(query(&fork, q), query(&src, q), "query answers differ on the fork: {q}");
    }
    // Triggers did not fire during the copy: audit has the source's rows
    // (checked with every table above), by count too for a clear message.
    assert_eq!(
        scalar::<i64>(&fork, "SELECT count(*) FROM audit"),
        scalar::<i64>(&src, "SELECT count(*) FROM audit"),
        "audit rows: a trigger fired during the copy"
    );
    // The source is untouched (no -journal, -wal or -shm left by the fork,
    // no byte changed).
    drop(wal_holder);
    let after = tree_snapshot(env.dir.path(), &[&env.home]);
    if !wal {
        let diff = snapshot_diff(&src_tree, &after);
        assert!(diff.is_empty(), "the source directory changed: {diff:?}");
    }

    // The fork is alive: AUTOINCREMENT continues from the source's counter,
    // and the triggers are in place and fire now.
    let conn = Connection::open(&fork).unwrap();
    let seq: i64 = conn.query_row("SELECT seq FROM sqlite_sequence WHERE name = 'parent'", [], |r| r.get(0)).unwrap();
    conn.execute("INSERT INTO parent(name) VALUES ('new')", []).unwrap();
    assert_eq!(conn.last_insert_rowid(), seq + 1, "AUTOINCREMENT continues from the carried counter");
    let audited: i64 =
        conn.query_row("SELECT count(*) FROM audit WHERE what = 'parent ' || ?1", [seq + 1], |r| r.get(0)).unwrap();
    assert_eq!(audited, 1, "the audit trigger fires on the finished fork");
    drop(conn);
    assert_sound(&fork);
}

#[test]
fn rich_source_pages_rollback() {
    rich_fork(Method::Pages, false);
}

#[test]
fn rich_source_pages_wal() {
    rich_fork(Method::Pages, true);
}

#[test]
fn rich_source_file_rollback() {
    rich_fork(Method::File, false);
}

#[test]
fn rich_source_file_wal() {
    rich_fork(Method::File, true);
}

#[test]
fn rich_source_rows_rollback() {
    rich_fork(Method::Rows, false);
}

#[test]
fn rich_source_rows_wal() {
    rich_fork(Method::Rows, true);
}

// ===========================================================================
// 2. kill -9 (and Ctrl-C) at several moments, then finish

/// A source of about 120 pages of 1 KiB and ~800 rows (rowid tables, a
/// WITHOUT ROWID table with a NOCASE and a DESC key, FTS5, AUTOINCREMENT,
/// statistics): a slowed-down copy of it takes a second or two.
const MEDIUM_SQL: &str = r#"
    PRAGMA page_size = 1024;
    PRAGMA user_version = 9;
    CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
    CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), payload TEXT);
    CREATE INDEX child_parent ON child(parent_id);
    CREATE TABLE kv(a TEXT, b INTEGER, v, PRIMARY KEY(a COLLATE NOCASE, b DESC)) WITHOUT ROWID;
    CREATE VIRTUAL TABLE ft USING fts5(body);
    CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT);
    CREATE TRIGGER child_audit AFTER INSERT ON child BEGIN INSERT INTO audit(what) VALUES (new.id); END;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 110)
        INSERT INTO parent(name) SELECT 'parent ' || i FROM n;
    DELETE FROM parent WHERE id > 100;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700)
        INSERT INTO child(id, parent_id, payload) SELECT i * 2 - 300, 1 + i % 100, hex(randomblob(60)) FROM n;
    DELETE FROM audit WHERE id % 2 = 0;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99)
        INSERT INTO kv SELECT CASE WHEN i % 2 THEN 'K' ELSE 'k' END || (i % 10), i, i * 1.5 FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
        INSERT INTO ft(rowid, body) SELECT i * 3, 'word' || (i % 7) || ' forks and sqlite ' || i FROM n;
    ANALYZE;
"#;

#[derive(Debug, Clone, Copy)]
enum Finisher {
    /// The same `db fork` again.
    Fork,
    /// `db resume NS/SLUG`.
    ResumeOne,
    /// `db resume` (every interrupted fork).
    ResumeAll,
    /// `db wait NS/SLUG`.
    Wait,
}

#[derive(Debug, Clone, Copy)]
enum Moment {
    /// This long after the entry appears in the registry.
    After(Duration),
    /// Once the copy state says this many pages (pages method) are synced,
    /// or this many rows (rows method) are committed.
    Done(u64),
}

/// How far the copy state says the copy is: synced pages, or rows.
fn state_done(env: &Env, id: &str, method: Method) -> u64 {
    let key = match method {
        Method::Pages | Method::File => "pages_done",
        Method::Rows => "rows_done",
    };
    env.copy_state(id).and_then(|s| s[key].as_u64()).unwrap_or(0)
}

/// Where the copy started, in pages or rows, as (D, T): from the trace
/// line `sqlfork trace: copy starts at D of T UNIT` (`SQLFORK_TRACE`; the
/// progress people see is in MiB, too coarse to tell pages apart).
fn first_progress(stderr: &str) -> Option<(u64, u64)> {
    stderr.lines().find_map(|l| {
        let rest = l.strip_prefix("sqlfork trace: copy starts at ")?;
        let mut words = rest.split_whitespace();
        let d = words.next()?.parse().ok()?;
        words.next().filter(|w| *w == "of")?;
        Some((d, words.next()?.parse().ok()?))
    })
}

/// Kill `child` with `signal` at `moment` of a copy into `ns/slug`; the
/// child must still be running then, and must die of that signal. Returns
/// the entry's id.
fn interrupt_at(env: &Env, mut child: Bg, ns: &str, slug: &str, method: Method, moment: Moment, signal: i32) -> String {
    wait_until("the fork's registry entry", Duration::from_secs(10), || env.entry_at(ns, slug).is_some());
    let id = env.entry_at(ns, slug).unwrap()["id"].as_str().unwrap().to_string();
    match moment {
        Moment::After(d) => std::thread::sleep(d),
        Moment::Done(n) => wait_until(&format!("{n} {} copied", method.name()), Duration::from_secs(20), || {
            state_done(env, &id, method) >= n
        }),
    }
    assert!(child.signal(signal), "the copy ended before it could be interrupted at {moment:?}");
    let run = child.finish();
    // Ctrl-C during the copy stops it between chunks with exit code 130
    // (issue 12); before the copy starts it is the default: death by SIGINT.
    let stopped = signal == libc::SIGINT && run.code == 130;
    assert!(stopped || run.signal == Some(signal), "the copy died of signal {signal}\n{}", run.dump());
    id
}

/// The state a killed fork leaves: the entry is provisioning, no process
/// holds it, `db show` and `db list` say so.
fn assert_interrupted(env: &Env, addr: &str) {
    let shown = env.run(&["db", "show", addr, "--json"]).ok().json();
    assert_eq!(shown["status"], "provisioning", "{shown:#}");
    assert_eq!(shown["inFlight"], false, "{shown:#}");
    env.run(&["db", "show", addr]).ok().stdout_has("interrupted");
    env.run(&["db", "list"]).ok().stdout_has("provisioning");
}

/// Fork MEDIUM_SQL with a slowed-down copy, interrupt it at each of
/// `kills` (the first interrupts the `db fork`, later ones a slowed-down
/// run of the finisher), then let `finisher` complete it; the result must
/// equal the source and an uninterrupted fork.
fn kill_then_finish(method: Method, finisher: Finisher, kills: &[(Moment, i32)]) {
    kill_then_finish_source(method, finisher, kills, Journal::Rollback)
}

/// The source's journal for [`kill_then_finish_source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Journal {
    Rollback,
    /// WAL, with another connection holding it open and frames in the WAL:
    /// a snapshot exists and outlives the killed copy, so the resumed copy
    /// must reopen it and continue.
    WalHeld,
    /// WAL, every connection closed (SQLite removed the WAL): SQLite cannot
    /// hand out a snapshot; a resumed page copy continues only because the
    /// WAL is still empty and the main file untouched.
    WalEmpty,
}

/// [`kill_then_finish`] from a source with the given journal (idle).
fn kill_then_finish_source(method: Method, finisher: Finisher, kills: &[(Moment, i32)], journal: Journal) {
    let env = env_for(method, 10);
    let sql = if journal == Journal::Rollback {
        MEDIUM_SQL.to_string()
    } else {
        MEDIUM_SQL.replace("PRAGMA user_version = 9;", "PRAGMA user_version = 9; PRAGMA journal_mode = WAL;")
    };
    let src = env.db("src.db", &sql);
    let _holder = (journal == Journal::WalHeld).then(|| {
        let conn = Connection::open(&src).unwrap();
        conn.execute_batch(
            "PRAGMA wal_autocheckpoint = 0;
             INSERT INTO parent(name) VALUES ('in the wal');
             UPDATE child SET payload = 'changed in the wal' WHERE id = 100;",
        )
        .unwrap();
        conn
    });
    let wal_file = env.path("src.db-wal");
    match journal {
        Journal::Rollback => assert_eq!(scalar::<String>(&src, "PRAGMA journal_mode"), "delete"),
        Journal::WalHeld => assert!(file_len(&wal_file) > 0, "frames in the WAL"),
        Journal::WalEmpty => assert!(!wal_file.exists(), "no WAL"),
    }
    let src_bytes = file_bytes(&src);
    let reference = json_path(&env.run(&["db", "fork", "./src.db", "reference", "--with-data", "--json"]).ok().json());
    assert_eq!(wal_file.exists(), journal == Journal::WalHeld, "the reference fork tidied the WAL it caused");
    let knobs = slow(if method == Method::Pages { 15 } else { 12 }, 2);
    let fork_args = ["db", "fork", "./src.db", "copy", "--with-data"];
    let finisher_args: Vec<&str> = match finisher {
        Finisher::Fork => fork_args.to_vec(),
        Finisher::ResumeOne => vec!["db", "resume", "local/copy"],
        Finisher::ResumeAll => vec!["db", "resume"],
        Finisher::Wait => vec!["db", "wait", "local/copy"],
    };

    let mut id = String::new();
    for (i, (moment, signal)) in kills.iter().enumerate() {
        let args: &[&str] = if i == 0 { &fork_args } else { &finisher_args };
        let child = env.cmd(args).envs(&knobs).spawn();
        id = interrupt_at(&env, child, "local", "copy", method, *moment, *signal);
        assert_interrupted(&env, "local/copy");
        assert_eq!(file_bytes(&src), src_bytes, "the source changed");
    }
    let resumable = state_done(&env, &id, method);
    if let Some(n) = kills.iter().filter_map(|(m, _)| if let Moment::Done(n) = m { Some(*n) } else { None }).max() {
        assert!(resumable >= n, "the interrupted copy had {resumable} {} saved, expected at least {n}", method.name());
    }

    let mut args = finisher_args.clone();
    args.push("--json");
    let run = env.cmd(&args).env("SQLFORK_PROGRESS_INTERVAL", "0").env("SQLFORK_TRACE", "1").run().ok();
    let out = run.json();
    let entry = match finisher {
        Finisher::ResumeAll => {
            let all = out.as_array().unwrap_or_else(|| panic!("db resume --json gives an array: {out:#}"));
            assert_eq!(all.len(), 1, "one interrupted fork resumed: {out:#}");
            all[0].clone()
        }
        _ => out,
    };
    assert_eq!(entry["id"], id.as_str(), "the same fork was finished: {entry:#}");
    assert_eq!(entry["status"], "healthy", "{entry:#}");
    assert_eq!(entry["copy"]["exact"], true, "an idle source gives an exact copy, resumed or not: {entry:#}");
    assert_eq!(entry["copy"]["orphansPruned"], 0, "{entry:#}");
    if matches!(finisher, Finisher::Fork | Finisher::ResumeOne) {
        assert_eq!(entry["resumed"], true, "{entry:#}");
    }
    assert_eq!(env.entry_at("local", "copy").unwrap()["status"].as_str(), Some("healthy"));
    // The finisher continued where the copy stopped: its first progress
    // line starts from the synced pages (pages) or the committed rows.
    if resumable > 0 {
        let (done, total) = first_progress(&run.stderr)
            .unwrap_or_else(|| panic!("no progress line from the resumed copy\n{}", run.stderr));
        match method {
            Method::Pages | Method::File => {
                assert_eq!(done, resumable, "the copy resumed after the synced pages\n{}", run.stderr)
            }
            Method::Rows => {
                assert!(done >= resumable && done < total, "rows resumed from {done} of {total}\n{}", run.stderr)
            }
        }
    }

    // Before anything opens them (a read-only open of a WAL-mode fork
    // leaves -wal and -shm files beside it).
    let files = env.database_files();
    assert_eq!(files.len(), 2, "only the two forks' files are left in home/databases: {files:?}");
    assert!(files.iter().all(|f| f.ends_with(".sqlite")), "{files:?}");
    let fork = json_path(&entry);
    assert_fork_equals(&src, &fork);
    assert_same_contents(&reference, &fork);
    assert_eq!(master_set(&reference), master_set(&fork));
    if matches!(method, Method::Pages | Method::File) {
        assert!(
            file_bytes(&fork) == file_bytes(&reference),
            "a resumed page copy is byte-identical to an uninterrupted one"
        );
    }
    assert_eq!(file_bytes(&src), src_bytes, "the source changed");
}

const SIGKILL: i32 = libc::SIGKILL;
const SIGINT: i32 = libc::SIGINT;

#[test]
fn pages_killed_early_finished_by_the_same_fork() {
    kill_then_finish(Method::Pages, Finisher::Fork, &[(Moment::After(Duration::from_millis(30)), SIGKILL)]);
}

#[test]
fn pages_killed_twice_finished_by_resume_one() {
    kill_then_finish(Method::Pages, Finisher::ResumeOne, &[(Moment::Done(32), SIGKILL), (Moment::Done(64), SIGKILL)]);
}

#[test]
fn pages_interrupted_late_finished_by_resume_all() {
    kill_then_finish(Method::Pages, Finisher::ResumeAll, &[(Moment::Done(96), SIGINT)]);
}

#[test]
fn pages_killed_mid_copy_finished_by_wait() {
    kill_then_finish(Method::Pages, Finisher::Wait, &[(Moment::Done(32), SIGKILL)]);
}

#[test]
fn pages_wal_source_killed_then_resumed_from_the_same_snapshot() {
    kill_then_finish_source(Method::Pages, Finisher::ResumeOne, &[(Moment::Done(64), SIGKILL)], Journal::WalHeld);
}

#[test]
fn file_killed_twice_finished_by_resume_one() {
    kill_then_finish(Method::File, Finisher::ResumeOne, &[(Moment::Done(32), SIGKILL), (Moment::Done(64), SIGKILL)]);
}

#[test]
fn file_wal_source_killed_then_resumed_in_the_same_wal() {
    kill_then_finish_source(Method::File, Finisher::ResumeOne, &[(Moment::Done(64), SIGKILL)], Journal::WalHeld);
}

#[test]
fn rows_wal_source_killed_then_resumed_from_the_same_snapshot() {
    kill_then_finish_source(Method::Rows, Finisher::Wait, &[(Moment::Done(300), SIGKILL)], Journal::WalHeld);
}

#[test]
fn pages_wal_source_without_a_snapshot_killed_then_resumed() {
    kill_then_finish_source(Method::Pages, Finisher::Fork, &[(Moment::Done(32), SIGKILL)], Journal::WalEmpty);
}

/// The same, but the source is written to (into its WAL) between the kill
/// and the resume: the pages already copied are stale, so the copy must
/// start over, and the fork is the source with that write.
#[test]
fn pages_wal_source_without_a_snapshot_written_after_the_kill_starts_over() {
    let env = env_for(Method::Pages, 10);
    let sql = MEDIUM_SQL.replace("PRAGMA user_version = 9;", "PRAGMA user_version = 9; PRAGMA journal_mode = WAL;");
    let src = env.db("src.db", &sql);
    assert!(!env.path("src.db-wal").exists());
    let child = env.cmd(["db", "fork", "./src.db", "copy", "--with-data"]).envs(&slow(15, 2)).spawn();
    let id = interrupt_at(&env, child, "local", "copy", Method::Pages, Moment::Done(32), SIGKILL);
    let resumable = state_done(&env, &id, Method::Pages);
    // A write that stays in the WAL (the connection stays open, no
    // checkpoint): the main file is untouched.
    let writer = Connection::open(&src).unwrap();
    writer
        .execute_batch(
            "PRAGMA wal_autocheckpoint = 0;
             UPDATE child SET payload = 'written after the kill' WHERE id = (SELECT min(id) FROM child);",
        )
        .unwrap();
    let run = env
        .cmd(["db", "resume", "local/copy", "--json"])
        .env("SQLFORK_PROGRESS_INTERVAL", "0")
        .env("SQLFORK_TRACE", "1")
        .run()
        .ok();
    let (done, _) = first_progress(&run.stderr).expect("progress");
    assert_ne!(done, resumable, "a fresh copy's first line is its first chunk, not the killed copy's pages");
    let out = run.json();
    assert_eq!(out["copy"]["exact"], true, "{out:#}");
    let fork = json_path(&out);
    assert_eq!(scalar::<i64>(&fork, "SELECT count(*) FROM child WHERE payload = 'written after the kill'"), 1);
    assert_fork_equals(&src, &fork);
    drop(writer);
}

#[test]
fn rows_killed_early_finished_by_the_same_fork() {
    kill_then_finish(Method::Rows, Finisher::Fork, &[(Moment::After(Duration::from_millis(30)), SIGKILL)]);
}

#[test]
fn rows_killed_twice_finished_by_resume_one() {
    kill_then_finish(
        Method::Rows,
        Finisher::ResumeOne,
        &[(Moment::Done(100), SIGKILL), (Moment::After(Duration::from_millis(300)), SIGKILL)],
    );
}

#[test]
fn rows_interrupted_late_finished_by_resume_all() {
    kill_then_finish(Method::Rows, Finisher::ResumeAll, &[(Moment::Done(700), SIGINT)]);
}

#[test]
fn rows_killed_mid_copy_finished_by_wait() {
    kill_then_finish(Method::Rows, Finisher::Wait, &[(Moment::Done(300), SIGKILL)]);
}

#[test]
fn resume_all_finishes_every_interrupted_fork() {
    let env = env_for(Method::Pages, 10);
    let one = env.db("one.db", MEDIUM_SQL);
    let two = env.db("two.db", RICH_SQL);
    let knobs = slow(15, 2);
    let a = env.cmd(["db", "fork", "./one.db", "acme/one", "--with-data"]).envs(&knobs).spawn();
    interrupt_at(&env, a, "acme", "one", Method::Pages, Moment::Done(32), SIGKILL);
    let b = env.cmd(["db", "fork", "./two.db", "acme/two", "--with-data"]).envs(&knobs).spawn();
    interrupt_at(&env, b, "acme", "two", Method::Pages, Moment::After(Duration::from_millis(50)), SIGKILL);
    // A healthy fork beside them is left alone.
    env.run(&["db", "fork", "./one.db", "acme/done", "--with-data"]).ok();
    assert_interrupted(&env, "acme/one");
    assert_interrupted(&env, "acme/two");

    let run = env.run(&["db", "resume"]).ok();
    assert!(run.stdout.contains("Finished acme/one") && run.stdout.contains("Finished acme/two"), "{}", run.stdout);
    assert!(!run.stdout.contains("acme/done"), "{}", run.stdout);
    // Issue 20, point 13: and says that was all.
    assert!(run.stdout.contains("No other fork needs resuming."), "{}", run.stdout);
    for (addr, src) in [("acme/one", &one), ("acme/two", &two)] {
        let v = env.run(&["db", "show", addr, "--json"]).ok().json();
        assert_eq!(v["status"], "healthy", "{v:#}");
        assert_fork_equals(src, &json_path(&v));
    }
    let again = env.run(&["db", "resume", "--json"]).ok().json();
    assert_eq!(again, Value::Array(vec![]), "nothing left to resume");
}

// ===========================================================================
// 3. A live WAL source: one snapshot while a writer keeps committing

/// What a background writer did.
#[derive(Debug, Default)]
struct WriterReport {
    commits: u64,
    errors: Vec<String>,
}

/// A thread committing to the source until stopped; `step(conn, k)` is
/// commit number k's statements, run inside BEGIN IMMEDIATE … COMMIT.
struct Writer {
    stop: Arc<AtomicBool>,
    commits: Arc<std::sync::atomic::AtomicU64>,
    handle: std::thread::JoinHandle<WriterReport>,
}

impl Writer {
    fn start(
        path: &Path,
        busy_timeout: Duration,
        pause: Duration,
        step: impl Fn(&Connection, u64) -> rusqlite::Result<()> + Send + 'static,
    ) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (path, stop2, commits2) = (path.to_path_buf(), stop.clone(), commits.clone());
        let handle = std::thread::spawn(move || {
            let conn = Connection::open(&path).unwrap();
            conn.busy_timeout(busy_timeout).unwrap();
            let mut report = WriterReport::default();
            let mut k = 0;
            while !stop2.load(Ordering::SeqCst) {
                k += 1;
                let r = conn
                    .execute_batch("BEGIN IMMEDIATE")
                    .and_then(|_| step(&conn, k))
                    .and_then(|_| conn.execute_batch("COMMIT"));
                match r {
                    Ok(()) => {
                        report.commits += 1;
                        commits2.store(report.commits, Ordering::SeqCst);
                    }
                    Err(e) => {
                        let _ = conn.execute_batch("ROLLBACK");
                        report.errors.push(format!("commit {k}: {e}"));
                        k -= 1;
                    }
                }
                std::thread::sleep(pause);
            }
            report
        });
        Writer { stop, commits, handle }
    }

    fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    fn stop(self) -> WriterReport {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("writer thread")
    }
}

fn ids(path: &Path, table: &str) -> Vec<i64> {
    let conn = ro(path);
    let mut stmt = conn.prepare(&format!("SELECT id FROM {table} ORDER BY id")).unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
}

/// The live-writer source: two tables with ids 1..=300.
const PAIR_SQL: &str = "
    PRAGMA page_size = 1024;
    PRAGMA journal_mode = WAL;
    CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT);
    CREATE TABLE b(id INTEGER PRIMARY KEY, v TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
        INSERT INTO a SELECT i, hex(randomblob(40)) FROM n;
    INSERT INTO b SELECT id, v FROM a;
";
const PAIR_BASE: i64 = 100_000;

/// Commit k of the pair writer: id BASE+k into both tables, and every third
/// commit deletes id k from both, in one transaction.
fn pair_step(conn: &Connection, k: u64) -> rusqlite::Result<()> {
    let id = PAIR_BASE + k as i64;
    conn.execute("INSERT INTO a(id, v) VALUES (?1, hex(randomblob(40)))", [id])?;
    conn.execute("INSERT INTO b(id, v) VALUES (?1, 'b')", [id])?;
    if k.is_multiple_of(3) {
        conn.execute("DELETE FROM a WHERE id = ?1", [k as i64])?;
        conn.execute("DELETE FROM b WHERE id = ?1", [k as i64])?;
    }
    Ok(())
}

/// The ids both tables hold right after commit `k` of the pair writer.
fn pair_ids_after(k: u64) -> Vec<i64> {
    let mut v: Vec<i64> = (1..=300).filter(|i| !(i % 3 == 0 && *i as u64 <= k)).collect();
    v.extend((1..=k as i64).map(|j| PAIR_BASE + j));
    v
}

fn live_wal_writer(method: Method) {
    let env = env_for(method, 10);
    let src = env.db("live.db", PAIR_SQL);
    // The writer never waits for a lock: any SQLITE_BUSY is an error.
    let writer = Writer::start(&src, Duration::ZERO, Duration::from_millis(2), pair_step);
    wait_until("the writer's first commits", Duration::from_secs(10), || writer.commits() >= 5);
    let before = writer.commits();
    let mut knobs = slow(20, 2);
    knobs.push(("SQLFORK_TRACE", "1".into()));
    let run = env.cmd(["db", "fork", "./live.db", "live", "--with-data", "--json"]).envs(&knobs).run().ok();
    let after = writer.commits();
    // A WAL source never makes the page copy start over as a row copy.
    assert!(!run.stderr.contains("copying rows instead"), "the copy fell back to rows\n{}", run.stderr);
    // The writer goes on committing once the fork is done.
    wait_until("the writer's commits after the fork", Duration::from_secs(10), || writer.commits() >= after + 5);
    let report = writer.stop();
    assert!(report.errors.is_empty(), "the writer failed while the fork ran: {:?}", report.errors);
    assert!(after - before >= 20, "the writer committed only {} times during the fork", after - before);

    let out = run.json();
    assert_eq!(out["copy"]["exact"], true, "a WAL source is copied from one snapshot\n{out:#}");
    assert_eq!(out["copy"]["orphansPruned"], 0);
    let fork = json_path(&out);
    let (fa, fb) = (ids(&fork, "a"), ids(&fork, "b"));
    assert_eq!(fa, fb, "both tables hold the same ids in the fork");
    // The fork is the source as it was right after one commit k, taken
    // while the fork ran.
    let k = (fa.last().copied().unwrap() - PAIR_BASE).max(0) as u64;
    assert!((before..=after).contains(&k), "the snapshot is commit {k}, not between {before} and {after}");
    assert_eq!(fa, pair_ids_after(k), "the fork is not the source as of commit {k}");
    assert_sound(&fork);
    assert_eq!(settings(&fork), settings(&src));
}

#[test]
fn live_wal_writer_pages() {
    live_wal_writer(Method::Pages);
}

#[test]
fn live_wal_writer_rows() {
    live_wal_writer(Method::Rows);
}

/// A WAL source whose WAL is empty when the fork starts (every connection
/// had closed, so SQLite removed it; no snapshot can be taken then), and a
/// writer that starts once the copy is under way, updating the same rows of
/// both tables in place in one transaction (no page but those rows' leaves
/// changes, so the file change counter on page 1 does not move).
fn wal_writer_starting_mid_copy(method: Method) {
    let env = env_for(method, 10);
    let src = env.db("live.db", PAIR_SQL);
    assert!(!env.path("live.db-wal").exists(), "the WAL is gone once the last connection closed");
    let original: Vec<(i64, String)> = {
        let conn = ro(&src);
        let mut stmt = conn.prepare("SELECT id, v FROM a ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
    };
    let args = ["db", "fork", "./live.db", "live", "--with-data", "--json"];
    let child = env.cmd(args).envs(&slow(20, 2)).spawn();
    wait_until("the copy under way", Duration::from_secs(10), || {
        env.entry_at("local", "live")
            .is_some_and(|e| std::fs::metadata(e["path"].as_str().unwrap()).is_ok_and(|m| m.len() > 0))
    });
    // Commit k sets v to k (same length as before: an in-place update) in
    // row (37k mod 300) + 1 of both tables: rows all over both tables.
    let writer = Writer::start(&src, Duration::ZERO, Duration::from_millis(2), |conn, k| {
        let v = format!("{k:080}");
        let id = ((k * 37) % 300 + 1) as i64;
        conn.execute("UPDATE a SET v = ?1 WHERE id = ?2", rusqlite::params![v, id])?;
        conn.execute("UPDATE b SET v = ?1 WHERE id = ?2", rusqlite::params![v, id])?;
        Ok(())
    });
    let run = child.finish().ok();
    let during = writer.commits();
    let report = writer.stop();
    assert!(report.errors.is_empty(), "the writer failed while the fork ran: {:?}", report.errors);
    assert!(during >= 20, "the writer committed only {during} times during the fork");
    let src_updated: i64 = scalar(&src, "SELECT count(*) FROM a WHERE v GLOB '0*'");
    assert!(src_updated > 0);
    let out = run.json();
    let fork = json_path(&out);
    assert_sound(&fork);
    let rows = |t: &str| -> Vec<(i64, String)> {
        let conn = ro(&fork);
        let mut stmt = conn.prepare(&format!("SELECT id, v FROM {t} ORDER BY id")).unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
    };
    let (fa, fb) = (rows("a"), rows("b"));
    // Both methods pin the source: the page copy reads through the pinned
    // connection, the row copy reads the main file as immutable while the
    // pin's WAL read-lock 0 keeps every checkpoint out of it.
    assert_eq!(out["copy"]["exact"], true, "a copy of a WAL source is exact: {out:#}");
    {
        assert!(fa == fb, "exact:true, but the fork's tables disagree (rows from different moments)");
        // The source as of one commit k: row i holds the last k' <= k with
        // (37k' mod 300) + 1 = i, or its original value.
        let k = fa.iter().filter_map(|(_, v)| v.parse::<u64>().ok()).max().unwrap_or(0);
        let expected: Vec<(i64, String)> = original
            .iter()
            .map(|(id, v)| {
                let last = (1..=k).rev().find(|j| ((j * 37) % 300 + 1) as i64 == *id);
                (*id, last.map(|j| format!("{j:080}")).unwrap_or_else(|| v.clone()))
            })
            .collect();
        assert!(fa == expected, "exact:true, but the fork is not the source as of commit {k}");
    }
}

#[test]
fn wal_writer_starting_mid_copy_pages() {
    wal_writer_starting_mid_copy(Method::Pages);
}

#[test]
fn wal_writer_starting_mid_copy_rows() {
    wal_writer_starting_mid_copy(Method::Rows);
}

// ===========================================================================
// 4. A rollback-journal source changed mid-copy: best-effort, orphans pruned

const FAMILY_SQL: &str = "
    PRAGMA page_size = 1024;
    CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id), note TEXT);
    CREATE INDEX child_parent ON child(parent_id);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
        INSERT INTO parent SELECT i, 'parent ' || i FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
        INSERT INTO child SELECT i, 1 + i % 20, hex(randomblob(30)) FROM n;
";

#[test]
fn rollback_source_changed_mid_copy_prunes_the_orphan_rows() {
    let env = env_for(Method::Rows, 5);
    let src = env.db("family.db", FAMILY_SQL);
    let child = env.cmd(["db", "fork", "./family.db", "fam", "--with-data", "--json"]).envs(&slow(15, 2)).spawn();
    wait_until("the entry", Duration::from_secs(10), || env.entry_at("local", "fam").is_some());
    let id = env.entry_at("local", "fam").unwrap()["id"].as_str().unwrap().to_string();
    // Once the copy is in the child table (the parent table is done), add
    // a parent the copy has passed and a child pointing at it, which the
    // copy will still reach.
    wait_until("the copy to reach table child", Duration::from_secs(20), || {
        env.copy_state(&id).is_some_and(|s| s["table"] == "child")
    });
    let conn = Connection::open(&src).unwrap();
    conn.busy_timeout(Duration::from_secs(2)).unwrap();
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         INSERT INTO parent VALUES (1000, 'late parent');
         INSERT INTO child VALUES (100000, 1000, 'late child');
         COMMIT;",
    )
    .expect("a writer gets the rollback-journal source between two page reads");
    drop(conn);
    let run = child.finish().ok();
    let out = run.json();
    assert_eq!(out["copy"]["exact"], false, "{out:#}");
    assert!(out["copy"]["orphansPruned"].as_u64().unwrap() >= 1, "{out:#}");
    let fork = json_path(&out);
    assert_sound(&fork);
    let src_children: Vec<i64> = ids(&src, "child").into_iter().filter(|i| *i != 100000).collect();
    assert_eq!(ids(&fork, "child"), src_children, "every child but the orphan is in the fork");
    assert_eq!(ids(&fork, "parent"), (1..=20).collect::<Vec<_>>(), "the parent the copy passed is missing");
    // The human output says so too.
    env.run(&["db", "show", "local/fam"]).ok().stdout_has("best-effort").stdout_has("orphans pruned");
}

/// `family.db` forked with its data (slow chunks, traced) while new parents
/// with children are committed all along the copy.
fn fork_family_while_written(env: &Env) -> (Run, PathBuf) {
    let src = env.db("family.db", FAMILY_SQL);
    let writer = Writer::start(&src, Duration::from_secs(2), Duration::from_millis(15), |conn, k| {
        conn.execute("INSERT INTO parent VALUES (?1, 'new')", [1000 + k as i64])?;
        conn.execute("INSERT INTO child VALUES (?1, ?2, 'new')", [100_000 + k as i64, 1000 + k as i64])?;
        Ok(())
    });
    let mut knobs = slow(15, 2);
    knobs.push(("SQLFORK_TRACE", "1".into()));
    let run = env.cmd(["db", "fork", "./family.db", "fam", "--with-data", "--json"]).envs(&knobs).run().ok();
    let report = writer.stop();
    assert!(report.errors.is_empty(), "the writer failed while the fork ran: {:?}", report.errors);
    (run, src)
}

/// The whole chain on one fork: the default method (clone) is impossible on
/// ext4, so the kernel copies the file; the rollback-journal source changes
/// during that copy, so the rows are copied instead. `copy.fallback` gives
/// both reasons, in order.
#[test]
fn a_clone_on_ext4_falls_back_to_file_then_to_rows_when_the_source_changes() {
    let env = Env::new();
    env.config("rows_per_page = 10\n");
    let (run, _) = fork_family_while_written(&env);
    let run = run.stderr_has("no clone copy").stderr_has("source changed during the file copy; copying rows instead");
    let out = run.json();
    assert_eq!(out["copy"]["method"], "rows", "{out:#}");
    assert_eq!(out["copy"]["exact"], false, "{out:#}");
    let why = out["copy"]["fallback"].as_str().unwrap_or_default();
    let (clone, changed) = (why.find("clone"), why.find("written to during the copy"));
    assert!(clone.is_some() && changed.is_some() && clone < changed, "both reasons, in order: {why}");
    assert_sound(&json_path(&out));
}

#[test]
fn pages_copy_of_a_rollback_source_changed_mid_copy_falls_back_to_rows() {
    let env = env_for(Method::Pages, 10);
    let (run, src) = fork_family_while_written(&env);
    let run = run.stderr_has("copying rows instead");
    let out = run.json();
    assert_eq!(out["copy"]["exact"], false, "{out:#}");
    assert!(out["copy"]["orphansPruned"].as_u64().unwrap() >= 1, "{out:#}");
    let fork = json_path(&out);
    assert_sound(&fork);
    // Everything in the fork is in the source; the original rows are all there.
    let src_children = ids(&src, "child");
    let fork_children = ids(&fork, "child");
    assert!(fork_children.iter().all(|i| src_children.binary_search(i).is_ok()));
    assert!((1..=300).all(|i| fork_children.binary_search(&i).is_ok()));
}

// ===========================================================================
// 5. Disk full, for real: the binary under RLIMIT_FSIZE

/// About 340 KiB: well over the 32 KiB file size limit below.
const BIG_SQL: &str = "
    PRAGMA page_size = 1024;
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
    CREATE INDEX t_v ON t(v);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
        INSERT INTO t SELECT i, hex(randomblob(40)) FROM n;
";

/// `sqlfork ARGS` run by `sh` with files limited to 64 blocks of 512 bytes
/// (32 KiB) and SIGXFSZ ignored, so writes past the limit fail with EFBIG
/// the way they fail with ENOSPC on a full disk.
fn run_size_limited(env: &Env, args: &[&str], vars: &[(&str, String)]) -> Run {
    env.sh("trap '' XFSZ; ulimit -f 64 || exit 99; exec \"$SQLFORK\" \"$@\"").args(args).envs(vars).run()
}

fn disk_full(method: Method) {
    let env = env_for(method, 50);
    let src = env.db("big.db", BIG_SQL);
    assert!(file_len(&src) > 300 * 1024);
    let before = tree_snapshot(env.dir.path(), &[&env.home]);
    let run = run_size_limited(&env, &["db", "fork", "./big.db", "full", "--with-data", "--quiet"], &[])
        .code(1)
        .one_line_error()
        .stderr_has("could not fork")
        .stderr_has("local/full");
    assert!(
        run.stderr.contains("disk") && run.stderr.contains("file size limit") && run.stderr.contains("fork again"),
        "the error says the disk is full (or a size limit was hit) and what to do:\n{}",
        run.stderr
    );
    assert_eq!(env.registry_len(), 0, "no entry left");
    assert_eq!(env.database_files(), Vec::<String>::new(), "no file left in home/databases");
    let after = tree_snapshot(env.dir.path(), &[&env.home]);
    let diff = snapshot_diff(&before, &after);
    assert!(diff.is_empty(), "the source or its directory changed: {diff:?}");
    // Without the limit the same fork works: the limit was the failure.
    let out = env.run(&["db", "fork", "./big.db", "full", "--with-data", "--json"]).ok().json();
    assert_fork_equals(&src, &json_path(&out));
}

#[test]
fn disk_full_pages_leaves_nothing_behind() {
    disk_full(Method::Pages);
}

#[test]
fn disk_full_rows_leaves_nothing_behind() {
    disk_full(Method::Rows);
}

#[test]
fn detached_fork_that_fills_the_disk_makes_wait_exit_1() {
    let env = env_for(Method::Pages, 50);
    let src = env.db("big.db", BIG_SQL);
    let src_bytes = file_bytes(&src);
    // The background copy inherits the limit; slowed down so that `db wait`
    // starts while it still runs (it fails after ~16 chunks of 2 pages).
    let out =
        run_size_limited(&env, &["db", "fork", "./big.db", "bg", "--with-data", "--detach", "--json"], &slow(60, 2))
            .ok()
            .json();
    assert_eq!(out["status"], "provisioning", "{out:#}");
    let wait = env.run(&["db", "wait", "local/bg", "--quiet"]).code(1).one_line_error().stderr_has("local/bg");
    assert!(wait.stderr.contains("file size limit"), "db wait tells why the copy failed:\n{}", wait.stderr);
    assert_eq!(env.registry_len(), 0, "no entry left");
    // The background copy may still be letting go of its claim file.
    wait_until("home/databases to be empty", Duration::from_secs(5), || env.database_files().is_empty());
    assert_eq!(file_bytes(&src), src_bytes);
    // Afterwards the address is simply unknown.
    env.run(&["db", "wait", "local/bg"]).code(3).one_line_error();
}

// ===========================================================================
// 6. Progress: lines for logs, a bar on a terminal, nothing when quiet, and
//    the percentage in `db show` from another process

fn progress_lines_on_stderr(method: Method) {
    let env = env_for(method, 100);
    let src = env.db("big.db", BIG_SQL);
    let run = env.cmd(["db", "fork", "./big.db", "logged", "--with-data", "--json"]).envs(&slow(15, 20)).run().ok();
    // stdout is exactly one JSON document, stderr has the progress.
    let out = run.json();
    assert_eq!(out["status"], "healthy");
    let lines = progress_lines(&run.stderr, "logged");
    assert!(lines.len() >= 5, "expected a progress line per step on stderr:\n{}", run.stderr);
    for (done, total, _, l) in &lines {
        assert!(done <= total, "{l}");
        if method == Method::Rows {
            assert!(l.contains("table t"), "the current table: {l}");
        }
    }
    assert!(lines.iter().any(|(_, _, _, l)| l.contains(" MiB/s")), "a rate:\n{}", run.stderr);
    assert!(
        lines.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].2 <= w[1].2),
        "progress only goes forward:\n{}",
        run.stderr
    );
    assert_eq!(lines.iter().filter(|(_, _, p, _)| *p == 100).count(), 1, "one final line:\n{}", run.stderr);
    let (done, total, p, last) = lines.last().unwrap();
    assert_eq!((done, *p), (total, 100), "the last line says the copy is complete: {last}");
    assert!(lines.iter().any(|(_, _, p, l)| *p < 100 && l.contains("ETA")), "an ETA while copying:\n{}", run.stderr);
    // MiB of the source (pages, or the source's size for rows).
    let expect_total = format!("{:.1}", file_len(&src) as f64 / (1024.0 * 1024.0));
    assert_eq!(format!("{total:.1}"), expect_total, "{last}");
    // Human output: progress still on stderr only, the result on stdout.
    let run = env.cmd(["db", "fork", "./big.db", "logged-2", "--with-data"]).envs(&slow(0, 20)).run().ok();
    assert!(!progress_lines(&run.stderr, "logged-2").is_empty(), "{}", run.stderr);
    assert!(run.stdout.contains("Forked") && !run.stdout.contains(" MiB ("), "{}", run.stdout);
    assert!(run.stdout.contains("rows:    2000"), "the result states the rows copied:\n{}", run.stdout);
    assert!(run.stdout.contains("exact snapshot"), "{}", run.stdout);
}

#[test]
fn progress_lines_on_stderr_pages() {
    progress_lines_on_stderr(Method::Pages);
}

#[test]
fn progress_lines_on_stderr_rows() {
    progress_lines_on_stderr(Method::Rows);
}

#[test]
fn quiet_prints_no_progress() {
    for method in [Method::Pages, Method::Rows] {
        let env = env_for(method, 100);
        env.db("big.db", BIG_SQL);
        let run = env.cmd(["db", "fork", "./big.db", "hush", "--with-data", "--quiet"]).envs(&slow(2, 20)).run().ok();
        assert_eq!(run.stderr, "", "--quiet prints nothing on stderr ({method:?})");
        assert!(run.stdout.trim_end().ends_with(".sqlite"), "the path is still printed: {}", run.stdout);
        let run = env
            .cmd(["db", "fork", "./big.db", "hush-2", "--with-data", "--quiet", "--json"])
            .envs(&slow(2, 20))
            .run()
            .ok();
        assert_eq!(run.stderr, "");
        assert_eq!(run.json()["status"], "healthy");
    }
}

/// Run `sqlfork ARGS` (slowed down) on a pseudo-terminal with TERM as given.
fn on_tty(env: &Env, args: &[&str], term: Option<&str>) -> String {
    let cmd = env.cmd(args).envs(&slow(10, 10));
    match term {
        Some(t) => cmd.env("TERM", t),
        None => cmd.env_remove("TERM"),
    }
    .tty()
}

/// True when `text` holds an indicatif bar: `[` 30 cells of `=`, `>` or
/// space `]`.
fn has_bar(text: &str) -> bool {
    text.match_indices('[').any(|(i, _)| {
        let cells: Vec<char> = text[i + 1..].chars().take(31).collect();
        cells.len() == 31 && cells[30] == ']' && cells[..30].iter().all(|c| matches!(c, '=' | '>' | ' '))
    })
}

#[test]
fn terminal_shows_a_bar() {
    let env = env_for(Method::Pages, 100);
    env.db("big.db", BIG_SQL);
    let text = on_tty(&env, &["db", "fork", "./big.db", "tty", "--with-data"], Some("xterm"));
    assert!(has_bar(&text), "no progress bar on the terminal:\n{text}");
    assert!(text.contains(" MiB (") && text.contains("ETA"), "{text}");
    assert!(progress_lines(&text, "tty").is_empty(), "no log lines on a terminal:\n{text}");
    assert!(text.contains("Forked"), "{text}");
    // --quiet: no bar on a terminal either.
    let text = on_tty(&env, &["db", "fork", "./big.db", "tty-q", "--with-data", "--quiet"], Some("xterm"));
    assert!(!has_bar(&text) && !text.contains("ETA"), "--quiet on a terminal:\n{text}");
    // A terminal indicatif cannot draw on (TERM unset or dumb) gets lines.
    for term in [None, Some("dumb")] {
        let text = on_tty(&env, &["db", "fork", "./big.db", "dumb", "--with-data"], term);
        assert!(!progress_lines(&text, "dumb").is_empty(), "no progress on a dumb terminal ({term:?}):\n{text}");
        env.run(&["db", "delete", "local/dumb", "--yes"]).ok();
    }
}

fn show_reports_progress(method: Method) {
    let env = env_for(method, 20);
    env.db("big.db", BIG_SQL);
    let args = ["db", "fork", "./big.db", "watched", "--with-data"];
    let child = env.cmd(args).envs(&slow(15, 4)).spawn();
    wait_until("the entry", Duration::from_secs(10), || env.entry_at("local", "watched").is_some());
    let (mut json_seen, mut human_seen) = (None, None);
    wait_until("db show to report a percentage", Duration::from_secs(20), || {
        if json_seen.is_none() {
            let v = env.run(&["db", "show", "local/watched", "--json"]).ok().json();
            if let Some(p) = v["progressPercent"].as_f64().filter(|p| *p > 0.0 && *p < 100.0) {
                assert_eq!(v["status"], "provisioning", "{v:#}");
                assert_eq!(v["inFlight"], true, "{v:#}");
                json_seen = Some(p);
            }
        }
        if human_seen.is_none() {
            let text = env.run(&["db", "show", "local/watched"]).ok().stdout;
            let line = text.lines().find(|l| l.contains("Status:")).unwrap_or_default().to_string();
            let pct = line
                .split_whitespace()
                .find_map(|w| w.strip_suffix('%').and_then(|n| n.parse::<u32>().ok()))
                .filter(|p| (1..100).contains(p));
            if pct.is_some() {
                assert!(line.contains("provisioning") && line.contains("copy in progress"), "{line}");
                human_seen = Some(line);
            }
        }
        json_seen.is_some() && human_seen.is_some()
    });
    let run = child.finish().ok();
    assert!(run.stdout.contains("Forked"), "{}", run.stdout);
    let v = env.run(&["db", "show", "local/watched", "--json"]).ok().json();
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["inFlight"], false);
    assert!(v["progressPercent"].is_null(), "no progress once healthy: {v:#}");
}

#[test]
fn show_reports_progress_pages() {
    show_reports_progress(Method::Pages);
}

#[test]
fn show_reports_progress_rows() {
    show_reports_progress(Method::Rows);
}

// ===========================================================================
// 7. --detach and db wait

fn detach_then_wait(method: Method) {
    let env = env_for(method, 20);
    let src = env.db("src.db", MEDIUM_SQL);
    let knobs = slow(20, 2);
    let started = Instant::now();
    let out =
        env.cmd(["db", "fork", "./src.db", "bg", "--with-data", "--detach", "--json"]).envs(&knobs).run().ok().json();
    let took = started.elapsed();
    assert_eq!(out["status"], "provisioning", "{out:#}");
    assert_eq!(out["address"], "local/bg");
    // The copy itself takes over a second with these knobs (68 chunks or
    // 60+ pages of rows, 20 ms each); the command returned well before.
    assert!(took < Duration::from_millis(1000), "db fork --detach took {took:?}");
    let shown = env.run(&["db", "show", "local/bg", "--json"]).ok().json();
    assert_eq!(shown["status"], "provisioning", "{shown:#}");
    assert_eq!(shown["inFlight"], true, "a background process is copying: {shown:#}");
    let run = env.run(&["db", "wait", "local/bg", "--json"]).ok();
    let v = run.json();
    assert_eq!(v["status"], "healthy", "{v:#}");
    assert_eq!(v["copy"]["exact"], true, "{v:#}");
    assert_eq!(v["copy"]["rowsCopied"].as_u64(), Some(expected_rows(&src)), "{v:#}");
    assert_fork_equals(&src, &json_path(&v));
    assert_eq!(env.database_files().len(), 1, "{:?}", env.database_files());
    // Waiting on a healthy database returns at once.
    env.run(&["db", "wait", "local/bg", "--timeout", "1s"]).ok().stdout_has("healthy");
}

#[test]
fn detach_then_wait_pages() {
    detach_then_wait(Method::Pages);
}

#[test]
fn detach_then_wait_rows() {
    detach_then_wait(Method::Rows);
}

/// The background copy of a detached fork of a live WAL source reads the
/// snapshot the `db fork` took: the fork is the source as of a commit made
/// before `db fork --detach` returned.
fn detach_keeps_the_snapshot(method: Method) {
    let env = env_for(method, 10);
    let src = env.db("live.db", PAIR_SQL);
    let writer = Writer::start(&src, Duration::ZERO, Duration::from_millis(2), pair_step);
    wait_until("the writer's first commits", Duration::from_secs(10), || writer.commits() >= 5);
    let before = writer.commits();
    env.cmd(["db", "fork", "./live.db", "bg", "--with-data", "--detach", "--json"]).envs(&slow(20, 2)).run().ok();
    let returned = writer.commits();
    let v = env.run(&["db", "wait", "local/bg", "--json"]).ok().json();
    let after = writer.commits();
    let report = writer.stop();
    assert!(report.errors.is_empty(), "the writer failed: {:?}", report.errors);
    assert!(after - returned >= 20, "the writer committed only {} times during the copy", after - returned);
    assert_eq!(v["copy"]["exact"], true, "{v:#}");
    let fork = json_path(&v);
    let (fa, fb) = (ids(&fork, "a"), ids(&fork, "b"));
    assert_eq!(fa, fb);
    let k = (fa.last().copied().unwrap() - PAIR_BASE).max(0) as u64;
    assert!((before..=returned).contains(&k), "snapshot at commit {k}, not between {before} and {returned}");
    assert_eq!(fa, pair_ids_after(k));
    assert_sound(&fork);
}

#[test]
fn detach_keeps_the_snapshot_pages() {
    detach_keeps_the_snapshot(Method::Pages);
}

#[test]
fn detach_keeps_the_snapshot_rows() {
    detach_keeps_the_snapshot(Method::Rows);
}

#[test]
fn wait_times_out_with_exit_5_while_another_process_copies() {
    let env = env_for(Method::Pages, 10);
    let src = env.db("src.db", MEDIUM_SQL);
    let args = ["db", "fork", "./src.db", "slow", "--with-data"];
    let mut copier = env.cmd(args).envs(&slow(100, 2)).spawn();
    wait_until("the entry", Duration::from_secs(10), || env.entry_at("local", "slow").is_some());
    let started = Instant::now();
    let run = env.run(&["db", "wait", "local/slow", "--timeout", "1s", "--quiet"]).code(5).one_line_error();
    let took = started.elapsed();
    assert!(run.stderr.contains("local/slow") && run.stderr.contains("provisioning"), "{}", run.stderr);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(4), "gave up after {took:?}");
    assert!(copier.running(), "the copy was still running");
    assert_eq!(env.run(&["db", "show", "local/slow", "--json"]).ok().json()["inFlight"], true);
    // Other errors of db wait keep their own codes.
    env.run(&["db", "wait", "local/slow", "--timeout", "soon"]).code(2).one_line_error();
    env.run(&["db", "wait", "local/nope"]).code(3).one_line_error();
    // Stop the copier; db wait then finishes the copy itself.
    assert!(copier.kill(), "the copier was still running");
    let v = env.run(&["db", "wait", "local/slow", "--json"]).ok().json();
    assert_eq!(v["status"], "healthy");
    assert_fork_equals(&src, &json_path(&v));
}

// ===========================================================================
// 8. One process copies a given fork at a time

#[test]
fn two_resumes_of_one_fork_one_copies_the_other_refuses() {
    let env = env_for(Method::Pages, 10);
    let src = env.db("src.db", MEDIUM_SQL);
    let child = env.cmd(["db", "fork", "./src.db", "twice", "--with-data"]).envs(&slow(15, 2)).spawn();
    let id = interrupt_at(&env, child, "local", "twice", Method::Pages, Moment::Done(32), SIGKILL);
    assert_interrupted(&env, "local/twice");

    let args = ["db", "resume", "local/twice", "--json"];
    let knobs = slow(20, 2);
    let (a, b) = (env.cmd(args).envs(&knobs).spawn(), env.cmd(args).envs(&knobs).spawn());
    wait_until("a resumed copy in flight", Duration::from_secs(10), || {
        env.run(&["db", "show", "local/twice", "--json"]).ok().json()["inFlight"] == true
    });
    // While it copies: resume-all finds nothing to do, the same fork again
    // finds the destination taken (exit 4), and db wait follows the copy to
    // the end.
    let all = env.run(&["db", "resume"]).ok();
    assert!(all.stdout.contains("Nothing to resume"), "{}", all.stdout);
    env.run(&["db", "fork", "./src.db", "twice", "--with-data", "--quiet"])
        .code(4)
        .one_line_error()
        .stderr_has("local/twice already exists: another sqlfork process is building it")
        .stderr_has("sqlfork db wait local/twice");
    let waiter = env.cmd(["db", "wait", "local/twice", "--json"]).spawn();

    let runs = [a.finish(), b.finish()];
    let winners: Vec<&Run> = runs.iter().filter(|r| r.code == 0).collect();
    let losers: Vec<&Run> = runs.iter().filter(|r| r.code != 0).collect();
    assert_eq!(winners.len(), 1, "exactly one resume copies: {runs:#?}");
    assert_eq!(losers[0].code, 1, "{runs:#?}");
    assert!(
        losers[0].stderr.contains("another sqlfork process is building local/twice")
            && losers[0].stderr.contains("sqlfork db wait local/twice"),
        "the other says who is building it and how to follow: {runs:#?}"
    );
    assert!(losers[0].stdout.is_empty());
    let won = winners[0].json();
    assert_eq!(won["resumed"], true);
    assert_eq!(won["id"], id.as_str());
    let waited = waiter.finish().ok();
    assert_eq!(waited.json()["status"], "healthy");
    assert_fork_equals(&src, &json_path(&won));
    assert_eq!(env.database_files().len(), 1, "{:?}", env.database_files());
}

// ===========================================================================
// Failures other than the disk: the source vanished, a schema that cannot
// be replayed

#[test]
fn resume_after_the_source_vanished_removes_the_fork_and_says_so() {
    for method in [Method::Pages, Method::Rows] {
        let env = env_for(method, 10);
        let src = env.db("src.db", MEDIUM_SQL);
        let child = env.cmd(["db", "fork", "./src.db", "gone", "--with-data"]).envs(&slow(15, 2)).spawn();
        interrupt_at(&env, child, "local", "gone", method, Moment::After(Duration::from_millis(200)), SIGKILL);
        std::fs::remove_file(&src).unwrap();
        let run = env.run(&["db", "resume", "local/gone"]).code(1).one_line_error().stderr_has("removed");
        assert!(run.stderr.contains("src.db"), "the error names the missing source: {}", run.stderr);
        assert_eq!(env.registry_len(), 0, "the half-made fork's entry is removed ({method:?})");
        assert_eq!(env.database_files(), Vec::<String>::new(), "its files are removed ({method:?})");
        env.run(&["db", "show", "local/gone"]).code(3);
    }
}

/// A schema that needs a collation sqlfork lacks: the row copy, which
/// replays the schema, refuses it and leaves nothing; the page copy, which
/// replays nothing, copies it verbatim.
#[test]
fn data_fork_of_a_schema_that_cannot_be_replayed() {
    for method in [Method::Rows, Method::Pages, Method::File] {
        let env = env_for(method, 10);
        let src = env.db("src.db", "CREATE TABLE t(x TEXT); INSERT INTO t VALUES ('a');");
        rewrite_master(
            &src,
            "UPDATE sqlite_master SET sql = 'CREATE TABLE t(x TEXT COLLATE mystery)' WHERE name = 't'",
            &[],
        );
        let src_bytes = file_bytes(&src);
        let args = ["db", "fork", "./src.db", "bad", "--with-data", "--json"];
        match method {
            Method::Rows => {
                env.run(&args).code(1).one_line_error().stderr_has("mystery");
                assert_eq!(env.registry_len(), 0);
                assert_eq!(env.database_files(), Vec::<String>::new());
            }
            Method::Pages | Method::File => {
                let fork = json_path(&env.run(&args).ok().json());
                assert_eq!(master_set(&fork), master_set(&src));
                assert!(file_bytes(&fork) == src_bytes, "a page or file copy is the source's bytes");
            }
        }
        assert_eq!(file_bytes(&src), src_bytes);
    }
}
