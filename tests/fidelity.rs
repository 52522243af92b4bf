//! Schema-only fork fidelity: a matrix of tricky schemas, each built from
//! SQL at run time, forked with the real binary, and compared object by
//! object with the source (see `common::fork_and_compare`).

mod common;

use common::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Build `src.db` from `sql`, fork it and compare. Returns the env (keep it
/// alive), the source and the fork.
fn check(sql: &str) -> (Env, PathBuf, PathBuf) {
    let env = Env::new();
    let src = env.db("src.db", sql);
    let forked = fork_and_compare(&env, &src, "dst", false);
    (env, src, forked.fork)
}

/// The source had rows, so "the fork has none" means something.
fn assert_source_has_rows(src: &Path) {
    let total: i64 = user_table_rows(src).iter().map(|(_, n)| n).sum();
    assert!(total > 0, "test setup: the source should have rows");
}

macro_rules! fidelity {
    ($($(#[$meta:meta])* $name:ident: $sql:expr;)*) => {$(
        $(#[$meta])*
        #[test]
        fn $name() {
            let (_env, src, _fork) = check($sql);
            assert_source_has_rows(&src);
        }
    )*};
}

common::cases::fidelity_cases!(fidelity);

/// Triggers live in their own namespace: a trigger may share its name with
/// a table or a view (seen in real schemas: a trigger named after the table
/// it guards).
#[test]
fn trigger_named_like_its_table_or_view() {
    check(
        "CREATE TABLE t(a); CREATE TRIGGER t AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE VIEW v AS SELECT a FROM t; CREATE TRIGGER v INSTEAD OF INSERT ON v BEGIN SELECT 1; END;
         INSERT INTO t VALUES (1);",
    );
}

/// `ALTER TABLE ... RENAME` of an FTS5 table rewrites its shadow tables'
/// SQL with double quotes (`CREATE TABLE "ft2_data"(...)`), while a fresh
/// FTS5 table writes single quotes (`CREATE TABLE 'ft2_data'(...)`). A
/// fork cannot create shadow tables itself, so only those may differ, in
/// SQL only; everything else must be equal.
#[test]
fn renamed_fts5_table_shadow_sql_may_differ_only() {
    let env = Env::new();
    let src = env.db(
        "src.db",
        "CREATE VIRTUAL TABLE ft USING fts5(x); INSERT INTO ft VALUES ('a');
         ALTER TABLE ft RENAME TO ft2;
         CREATE TRIGGER keep AFTER INSERT ON ft2_content BEGIN SELECT 1; END;",
    );
    let forked = fork_and_compare(&env, &src, "dst", true);
    let mut diffs = forked.shadow_sql_diffs.clone();
    diffs.sort();
    eprintln!("shadow tables whose SQL differs after an FTS5 rename: {diffs:?}");
    for d in &diffs {
        assert!(d.starts_with("ft2_"), "only ft2's shadow tables may differ, got {d}");
    }
}

#[test]
fn autoincrement_fork_has_sqlite_sequence() {
    let (_env, src, fork) =
        check("CREATE TABLE ai(id INTEGER PRIMARY KEY AUTOINCREMENT, x); INSERT INTO ai(x) VALUES (1);");
    for p in [&src, &fork] {
        let n: i64 = scalar(p, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'");
        assert_eq!(n, 1, "sqlite_sequence in {}", p.display());
    }
}

#[test]
fn statistics_tables_are_carried_as_in_the_source() {
    let (_env, _src, fork) = check(
        "CREATE TABLE t(a); CREATE INDEX t_a ON t(a); INSERT INTO t VALUES (1); ANALYZE; DROP TABLE sqlite_stat4;",
    );
    let stat1: i64 = scalar(&fork, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'");
    let stat4: i64 = scalar(&fork, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat4'");
    assert_eq!((stat1, stat4), (1, 0), "the fork has stat1 and no stat4, like its source");
}

#[test]
fn settings_really_are_non_default() {
    // Guard the matrix: the settings cases above must produce non-default
    // values in the source, or comparing them proves nothing.
    let (_env, src, fork) = check(
        "PRAGMA page_size = 512; PRAGMA auto_vacuum = INCREMENTAL; PRAGMA encoding = 'UTF-16be';
         PRAGMA user_version = -7; PRAGMA application_id = 99; PRAGMA journal_mode = WAL;
         CREATE TABLE t(a); INSERT INTO t VALUES (1);",
    );
    for p in [&src, &fork] {
        let s = settings(p);
        let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("page_size"), "Integer(512)", "{}", p.display());
        assert_eq!(get("auto_vacuum"), "Integer(2)", "{}", p.display());
        assert_eq!(get("encoding"), "Text(\"UTF-16be\")", "{}", p.display());
        assert_eq!(get("user_version"), "Integer(-7)", "{}", p.display());
        assert_eq!(get("application_id"), "Integer(99)", "{}", p.display());
        assert_eq!(get("journal_mode"), "Text(\"wal\")", "{}", p.display());
    }
}

#[test]
fn page_size_65536_and_auto_vacuum_full_reach_the_fork() {
    let (_env, _src, fork) =
        check("PRAGMA page_size = 65536; PRAGMA auto_vacuum = FULL; CREATE TABLE t(a); INSERT INTO t VALUES (1);");
    assert_eq!(scalar::<i64>(&fork, "PRAGMA page_size"), 65536);
    assert_eq!(scalar::<i64>(&fork, "PRAGMA auto_vacuum"), 1);
    assert_eq!(scalar::<String>(&fork, "PRAGMA encoding"), "UTF-8");
}

#[test]
fn utf16le_reaches_the_fork() {
    let (_env, _src, fork) = check("PRAGMA encoding = 'UTF-16le'; CREATE TABLE t(a); INSERT INTO t VALUES (1);");
    assert_eq!(scalar::<String>(&fork, "PRAGMA encoding"), "UTF-16le");
}

#[test]
fn virtual_tables_in_the_fork_work() {
    // The fork's virtual tables are usable, not just present in
    // sqlite_master: they accept rows and answer queries.
    let (_env, _src, fork) = check(
        "CREATE VIRTUAL TABLE ft USING fts5(x, tokenize = 'porter');
         CREATE VIRTUAL TABLE f4 USING fts4(x);
         CREATE VIRTUAL TABLE rt USING rtree(id, a, b);
         INSERT INTO ft VALUES ('running'); INSERT INTO rt VALUES (1, 0, 1);",
    );
    let conn = Connection::open(&fork).unwrap();
    conn.execute_batch(
        "INSERT INTO ft VALUES ('runs fast'); INSERT INTO f4 VALUES ('hello'); INSERT INTO rt VALUES (1, 0, 1);",
    )
    .unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM ft WHERE ft MATCH 'run'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let n: i64 = conn.query_row("SELECT count(*) FROM f4 WHERE f4 MATCH 'hello'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    let n: i64 = conn.query_row("SELECT count(*) FROM rt WHERE a <= 0.5 AND b >= 0.5", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn empty_zero_byte_database() {
    let env = Env::new();
    let src = env.path("src.db");
    std::fs::write(&src, b"").unwrap();
    let forked = fork_and_compare(&env, &src, "dst", false);
    assert_eq!(forked.run.json()["copy"]["objectsCreated"], 0);
    assert!(master(&forked.fork).is_empty());
    assert_eq!(file_bytes(&src).len(), 0, "the zero-byte source stays zero bytes");
}

#[test]
fn database_with_no_schema_but_header_values() {
    let (_env, src, fork) = check("PRAGMA user_version = 7; PRAGMA application_id = 5;");
    assert!(!file_bytes(&src).is_empty());
    assert_eq!(scalar::<i64>(&fork, "PRAGMA user_version"), 7);
}

#[test]
fn very_large_schema_2000_tables() {
    let mut sql = String::from("BEGIN;\n");
    for i in 0..2000 {
        sql.push_str(&format!("CREATE TABLE t{i:04}(id INTEGER PRIMARY KEY, v TEXT, w INT UNIQUE);\n"));
        if i % 4 == 0 {
            sql.push_str(&format!("CREATE INDEX t{i:04}_v ON t{i:04}(v);\n"));
        }
        if i % 20 == 0 {
            sql.push_str(&format!("CREATE VIEW v{i:04} AS SELECT * FROM t{i:04};\n"));
            sql.push_str(&format!(
                "CREATE TRIGGER tr{i:04} AFTER INSERT ON t{i:04} BEGIN UPDATE t{i:04} SET v = 'x;' WHERE id = new.id; END;\n"
            ));
        }
        if i % 200 == 0 {
            sql.push_str(&format!("CREATE VIRTUAL TABLE ft{i:04} USING fts5(x);\n"));
        }
    }
    sql.push_str("INSERT INTO t0000(v) VALUES ('row');\nCOMMIT;");
    let (_env, src, fork) = check(&sql);
    let n: i64 = scalar(&fork, "SELECT count(*) FROM sqlite_master");
    assert_eq!(n, scalar::<i64>(&src, "SELECT count(*) FROM sqlite_master"));
    assert!(n > 2000 + 500 + 100 + 100 + 10, "test setup: large schema, got {n} objects");
}

/// SQLite leaves an empty `-wal` and a `-shm` beside a WAL-mode database
/// that a read-only connection opened when none existed. sqlfork then
/// leaves those files beside the user's source, even when it refuses the
/// fork.
#[test]
fn wal_source_leaves_no_files_beside_it() {
    let env = Env::new();
    let ok = env.db("ok.db", "PRAGMA journal_mode = WAL; CREATE TABLE t(a); INSERT INTO t VALUES (1);");
    // Refused: a table's SQL smuggles in a second statement.
    let bad = env.path("bad.db");
    {
        let conn = Connection::open(&bad).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t(a TEXT COLLATE NOCASE);
             PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET sql = 'CREATE TABLE t(a TEXT); ATTACH ''x.db'' AS x' WHERE name = 't';",
        )
        .unwrap();
    }
    let before = tree_snapshot(env.dir.path(), &[&env.home]);
    assert!(!env.path("ok.db-wal").exists() && !env.path("bad.db-wal").exists(), "test setup: WAL checkpointed");
    env.run(&["db", "fork", &src_arg(&env, &ok), "dst", "--json"]).ok();
    env.run(&["db", "fork", &src_arg(&env, &bad), "dst2", "--json"]).code(2);
    let after = tree_snapshot(env.dir.path(), &[&env.home]);
    let diff = snapshot_diff(&before, &after);
    assert!(diff.is_empty(), "files beside the sources changed: {diff:?}");
}

/// A WAL-mode source whose schema is still only in its -wal file (a
/// writer holds it open, no checkpoint yet): the fork sees that schema.
#[test]
fn wal_source_with_schema_not_yet_checkpointed() {
    let env = Env::new();
    let src = env.path("src.db");
    let writer = Connection::open(&src).unwrap();
    writer
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t(a); CREATE INDEX t_a ON t(a); CREATE VIRTUAL TABLE ft USING fts5(x);
             INSERT INTO t VALUES (1); INSERT INTO ft VALUES ('w');",
        )
        .unwrap();
    assert!(std::fs::metadata(env.path("src.db-wal")).unwrap().len() > 0, "test setup: schema sits in the WAL");
    let forked = fork_and_compare(&env, &src, "dst", false);
    let n: i64 = scalar(&forked.fork, "SELECT count(*) FROM sqlite_master WHERE name IN ('t', 't_a', 'ft')");
    assert_eq!(n, 3);
    drop(writer);
}

// ---------------------------------------------------------------------------
// Header fields no PRAGMA shows: reserved bytes per page (byte 20), the
// schema format (44-47) and the default cache size (48-51), for every copy
// method (masked and subset forks included: they have a build of their own).
// `settings()` compares them with the rest of the header.

/// A schema with what the schema format changes (a DESC index, 0 and 1
/// values), a WITHOUT ROWID table, an FTS5 table and a column to mask.
const HEADER_SQL: &str = "
    CREATE TABLE t(id INTEGER PRIMARY KEY, flag INT, name TEXT);
    CREATE INDEX t_by_flag ON t(flag DESC, name);
    CREATE TABLE people(id INTEGER PRIMARY KEY, email TEXT);
    CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
    CREATE VIRTUAL TABLE ft USING fts5(x);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
    INSERT INTO t SELECT i, i % 2, 'name ' || i FROM n;
    INSERT INTO people SELECT id, 'person' || id || '@example.com' FROM t;
    INSERT INTO kv VALUES ('a', 0), ('b', 1);
    INSERT INTO ft VALUES ('hello world');
    PRAGMA default_cache_size = 4321; PRAGMA user_version = 9;";

/// (name, reserved bytes, legacy format, SQL after HEADER_SQL, the schema
/// format SQLite writes for it).
const HEADER_SOURCES: &[(&str, u8, bool, &str, u32)] = &[
    ("reserve8-format4", 8, false, "", 4),
    ("reserve12-format4", 12, false, "", 4),
    ("reserve8-format1", 8, true, "", 1),
    ("reserve12-format1", 12, true, "", 1),
    // SQLite raises format 1 to 3 on ADD COLUMN.
    ("reserve12-format3-wal", 12, true, "ALTER TABLE t ADD COLUMN added DEFAULT 5; PRAGMA journal_mode = WAL;", 3),
];

fn header_source(env: &Env, name: &str, reserve: u8, legacy: bool, extra: &str, format: u32) -> PathBuf {
    let src = env.path(&format!("{name}.db"));
    make_db_with_header(&src, reserve, legacy, &format!("{HEADER_SQL}{extra}"));
    // Guard: the source really has the header it is meant to have.
    let h = header_fields(&src);
    let get = |k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("reserved_bytes"), reserve.to_string(), "test setup: {name}");
    assert_eq!(get("schema_format"), format.to_string(), "test setup: {name}");
    assert_eq!(get("default_cache_size"), "4321", "test setup: {name}");
    src
}

fn fork_with_data(env: &Env, src: &Path, dst: &str, extra: &[&str]) -> serde_json::Value {
    let src = src_arg(env, src);
    let mut args = vec!["db", "fork", &src, dst, "--with-data", "--json"];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

#[test]
fn header_fields_survive_every_copy_method() {
    let env = Env::new();
    let rules = env.path("rules.toml");
    std::fs::write(&rules, "seed = \"s\"\n[tables.people]\nemail = \"email\"\n").unwrap();
    for &(name, reserve, legacy, extra, format) in HEADER_SOURCES {
        let src = header_source(&env, name, reserve, legacy, extra, format);
        let want = image(&src);
        env.config("");
        fork_and_compare(&env, &src, &format!("{name}-schema"), false);
        for method in ["file", "pages", "rows"] {
            env.config(&format!("copy_method = \"{method}\"\n"));
            let v = fork_with_data(&env, &src, &format!("{name}-{method}"), &[]);
            assert_eq!(v["copy"]["method"], method, "{name}: {v:#}");
            let fork = PathBuf::from(v["path"].as_str().unwrap());
            assert_same(&want, &fork, false, &format!("{name} by {method}"));
        }
        env.config("");
        let v = fork_with_data(&env, &src, &format!("{name}-masked"), &["--mask", rules.to_str().unwrap()]);
        let fork = PathBuf::from(v["path"].as_str().unwrap());
        assert_sound(&fork);
        assert_eq!(settings(&fork), want.settings, "{name} masked: settings of {}", fork.display());
        let masked: i64 = scalar(&fork, "SELECT count(*) FROM people WHERE email LIKE 'person%@example.com'");
        assert_eq!(masked, 0, "{name}: the masked fork was masked");
        let v = fork_with_data(&env, &src, &format!("{name}-subset"), &["--subset", "t:id <= 50"]);
        let fork = PathBuf::from(v["path"].as_str().unwrap());
        assert_sound(&fork);
        assert_eq!(settings(&fork), want.settings, "{name} subset: settings of {}", fork.display());
        assert_eq!(scalar::<i64>(&fork, "SELECT count(*) FROM t"), 50, "{name}: the subset fork is a subset");
    }
}

/// A clone (XFS with reflink) is the source's bytes: the header included.
#[test]
fn header_fields_survive_a_clone() {
    let Some(m) = common::mount::LoopMount::new(common::mount::FsKind::Xfs, 320) else { return };
    let dir = tempfile::tempdir_in(m.path()).expect("tempdir on the mount");
    let env = Env { home: dir.path().join("home"), dir };
    for &(name, reserve, legacy, extra, format) in HEADER_SOURCES {
        let src = header_source(&env, name, reserve, legacy, extra, format);
        let v = fork_with_data(&env, &src, name, &[]);
        assert_eq!(v["copy"]["method"], "clone", "{name}: {v:#}");
        assert_same(&image(&src), Path::new(v["path"].as_str().unwrap()), false, &format!("{name} cloned"));
    }
}

/// Formats 1 to 3 ignore DESC in an index: a fork's index is the same
/// b-tree order as its source's, and SQLite agrees it is sound.
#[test]
fn a_format_1_fork_keeps_desc_ignored_and_takes_new_rows() {
    let env = Env::new();
    let src = header_source(&env, "old", 12, true, "", 1);
    let forked = fork_and_compare(&env, &src, "dst", false);
    exec(&forked.fork, "INSERT INTO t(flag, name) VALUES (1, 'new'), (0, 'newer'); INSERT INTO kv VALUES ('c', 1);");
    assert_sound(&forked.fork);
    let order = |p: &Path| query(p, "SELECT flag FROM t INDEXED BY t_by_flag WHERE flag IS NOT NULL LIMIT 1");
    // Ascending order on disk in format 1 (DESC ignored), as in the source.
    assert_eq!(order(&forked.fork), order(&src));
    assert_eq!(order(&src), vec![vec!["0".to_string()]]);
    assert_eq!(header_fields(&forked.fork), header_fields(&src), "a write keeps the fork's header fields");
}
