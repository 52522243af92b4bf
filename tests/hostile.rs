//! Hostile sources: a source whose `sqlite_master` was rewritten (with
//! `PRAGMA writable_schema`) so that an object's SQL is not one `CREATE` of
//! the type and name the row claims. sqlfork must refuse it (exit 2, one
//! line on stderr naming the object) without writing anything: no file
//! outside home, no ATTACH target, the source unchanged, no registry entry
//! and no database file left. Schema that only *mentions* dangerous things
//! (a trigger calling `load_extension`) forks harmlessly.

mod common;

use common::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

const BASE: &str = "
    CREATE TABLE t(a, b);
    CREATE TABLE u(a, b);
    INSERT INTO t VALUES (1, 2);";

/// Build `src.db` from `setup`, then rewrite its `sqlite_master` with
/// `tamper` (run with `writable_schema` on), and check the rewrite took.
fn tampered(env: &Env, setup: &str, tamper: &str, params: &[&str]) -> PathBuf {
    let src = env.db("src.db", setup);
    let changed = rewrite_master(&src, tamper, params);
    assert!(changed > 0, "test setup: the tamper statement changed nothing: {tamper}");
    src
}

/// Set the SQL of the object named `victim`.
fn with_sql(env: &Env, setup: &str, sql: &str) -> PathBuf {
    let src = tampered(env, setup, "UPDATE sqlite_master SET sql = ?1 WHERE name = 'victim'", &[sql]);
    // The rewrite is in the file (read with writable_schema on, which
    // tolerates a schema SQLite itself cannot load).
    let conn = Connection::open_with_flags(&src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.execute_batch("PRAGMA writable_schema = ON;").unwrap();
    let stored: String =
        conn.query_row("SELECT sql FROM sqlite_master WHERE name = 'victim'", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, sql, "test setup: tamper did not take");
    src
}

/// Everything a refusal must leave as it was.
struct Scene<'a> {
    env: &'a Env,
    before: std::collections::BTreeMap<PathBuf, Vec<u8>>,
}

impl<'a> Scene<'a> {
    fn new(env: &'a Env) -> Self {
        Scene { env, before: tree_snapshot(env.dir.path(), &[&env.home]) }
    }

    fn assert_untouched(&self) {
        let after = tree_snapshot(self.env.dir.path(), &[&self.env.home]);
        let diff = snapshot_diff(&self.before, &after);
        assert!(diff.is_empty(), "files outside home changed: {diff:?}");
        assert!(!self.env.path("pwned.db").exists(), "the ATTACH target was created");
    }
}

/// Fork `src` and require a refusal: exit 2, one line on stderr naming
/// every `needle`, nothing written anywhere.
fn assert_refused(env: &Env, src: &Path, needles: &[&str]) -> Run {
    assert_refused_with(env, src, needles, 2)
}

/// Refused with exit `code`: 2 for a schema that is not what it claims (or
/// is hostile), 1 for a well-formed schema this SQLite cannot replay.
fn assert_refused_with(env: &Env, src: &Path, needles: &[&str], code: i32) -> Run {
    let scene = Scene::new(env);
    let run = env.run(&["db", "fork", &src_arg(env, src), "dst", "--json"]).code(code).one_line_error();
    for n in needles {
        assert!(run.stderr.contains(n), "stderr should name {n:?}: {}", run.stderr);
    }
    eprintln!("refused as expected: {}", run.stderr.trim_end());
    scene.assert_untouched();
    assert_eq!(env.registry_len(), 0, "no registry entry may be left after a refusal");
    assert!(env.database_files().is_empty(), "no database file may be left: {:?}", env.database_files());
    // Nothing registered under the name either.
    env.run(&["db", "path", "local/dst"]).code(3);
    run
}

fn attach_target(env: &Env) -> String {
    env.path("pwned.db").display().to_string().replace('\'', "''")
}

// --- a second statement ---------------------------------------------------

#[test]
fn table_sql_with_a_second_statement_attach() {
    let env = Env::new();
    let sql = format!("CREATE TABLE victim(a); ATTACH '{}' AS pwned", attach_target(&env));
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn relative_attach_target_is_not_created_either() {
    let env = Env::new();
    let src =
        with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "CREATE TABLE victim(a);ATTACH 'pwned.db' AS p");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn second_statement_behind_a_line_comment() {
    let env = Env::new();
    let sql = format!("CREATE TABLE victim(a) -- ;\n; ATTACH '{}' AS pwned", attach_target(&env));
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn second_statement_after_a_block_comment() {
    let env = Env::new();
    let sql = format!("CREATE TABLE victim(a /* ) ; */) /* ; */ ; ATTACH '{}' AS pwned", attach_target(&env));
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn second_statement_pragma() {
    let env = Env::new();
    let src =
        with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "CREATE TABLE victim(a); PRAGMA user_version = 666");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn view_sql_with_a_second_statement() {
    let env = Env::new();
    let sql = format!("CREATE VIEW victim AS SELECT 1; ATTACH '{}' AS pwned", attach_target(&env));
    let src = with_sql(&env, &format!("{BASE} CREATE VIEW victim AS SELECT 1;"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn index_sql_with_a_second_statement() {
    let env = Env::new();
    let sql = format!("CREATE INDEX victim ON t(a); ATTACH '{}' AS pwned", attach_target(&env));
    let src = with_sql(&env, &format!("{BASE} CREATE INDEX victim ON t(a);"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn trigger_sql_with_a_statement_after_end() {
    let env = Env::new();
    let sql = format!(
        "CREATE TRIGGER victim AFTER INSERT ON t BEGIN SELECT ';'; SELECT CASE WHEN 1 THEN 2 END; END; ATTACH '{}' AS pwned",
        attach_target(&env)
    );
    let src = with_sql(&env, &format!("{BASE} CREATE TRIGGER victim AFTER INSERT ON t BEGIN SELECT 1; END;"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn nul_byte_hiding_a_second_statement() {
    // SQLite reads sql as a C string and stops at the NUL; a program that
    // reads the whole text would see (and might run) what follows.
    let env = Env::new();
    let src = env.db("src.db", &format!("{BASE} CREATE TABLE victim(a);"));
    {
        let conn = Connection::open(&src).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET sql = 'CREATE TABLE victim(a)' || char(0) || '; ATTACH ''{}'' AS pwned'
               WHERE name = 'victim';
             PRAGMA writable_schema = OFF;",
            attach_target(&env).replace('\'', "''")
        ))
        .unwrap();
        let len: i64 = conn
            .query_row("SELECT length(CAST(sql AS BLOB)) FROM sqlite_master WHERE name = 'victim'", [], |r| r.get(0))
            .unwrap();
        assert!(len > 30, "test setup: NUL and tail stored");
    }
    assert_refused(&env, &src, &["victim"]);
}

// --- not a CREATE at all --------------------------------------------------

#[test]
fn table_sql_is_a_pragma() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "PRAGMA writable_schema = ON");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn view_sql_is_an_attach() {
    let env = Env::new();
    let sql = format!("ATTACH '{}' AS pwned", attach_target(&env));
    let src = with_sql(&env, &format!("{BASE} CREATE VIEW victim AS SELECT 1;"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn trigger_sql_is_an_insert() {
    let env = Env::new();
    let src = with_sql(
        &env,
        &format!("{BASE} CREATE TRIGGER victim AFTER INSERT ON t BEGIN SELECT 1; END;"),
        "INSERT INTO t VALUES (6, 6)",
    );
    assert_refused(&env, &src, &["victim"]);
}

// --- a CREATE of another type ---------------------------------------------

#[test]
fn table_row_creates_a_view() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "CREATE VIEW victim AS SELECT 1 AS a");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn view_row_creates_a_table() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE VIEW victim AS SELECT 1;"), "CREATE TABLE victim(a)");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn index_row_creates_a_trigger() {
    let env = Env::new();
    let src = with_sql(
        &env,
        &format!("{BASE} CREATE INDEX victim ON t(a);"),
        "CREATE TRIGGER victim AFTER INSERT ON t BEGIN DELETE FROM u; END",
    );
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn trigger_row_creates_an_index() {
    let env = Env::new();
    let src = with_sql(
        &env,
        &format!("{BASE} CREATE TRIGGER victim AFTER INSERT ON t BEGIN SELECT 1; END;"),
        "CREATE INDEX victim ON t(a)",
    );
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn unknown_object_type() {
    let env = Env::new();
    let src = tampered(
        &env,
        &format!("{BASE} CREATE TABLE victim(a);"),
        "UPDATE sqlite_master SET type = 'module' WHERE name = 'victim'",
        &[],
    );
    assert_refused(&env, &src, &["victim"]);
}

// --- a CREATE of another name or schema -------------------------------------

#[test]
fn table_row_creates_another_name() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "CREATE TABLE other(a)");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn table_row_creates_an_existing_name() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "CREATE TABLE IF NOT EXISTS u(a)");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn index_row_creates_another_name() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE INDEX victim ON t(a);"), "CREATE INDEX other ON t(a)");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn trigger_row_creates_another_name() {
    let env = Env::new();
    let src = with_sql(
        &env,
        &format!("{BASE} CREATE TRIGGER victim AFTER INSERT ON t BEGIN SELECT 1; END;"),
        "CREATE TRIGGER other AFTER INSERT ON t BEGIN SELECT 1; END",
    );
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn index_row_on_another_table_than_tbl_name() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE INDEX victim ON t(a);"), "CREATE INDEX victim ON u(a)");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn table_row_creates_temp_dot_name() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "CREATE TABLE temp.victim(a)");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn table_row_creates_a_temp_table() {
    let env = Env::new();
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), "CREATE TEMP TABLE victim(a)");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn trigger_row_creates_a_temp_trigger() {
    let env = Env::new();
    let src = with_sql(
        &env,
        &format!("{BASE} CREATE TRIGGER victim AFTER INSERT ON t BEGIN SELECT 1; END;"),
        "CREATE TEMP TRIGGER victim AFTER INSERT ON t BEGIN SELECT 1; END",
    );
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn view_row_creates_in_another_schema() {
    let env = Env::new();
    let src =
        with_sql(&env, &format!("{BASE} CREATE VIEW victim AS SELECT 1;"), "CREATE VIEW pwned.victim AS SELECT 1");
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn table_named_like_sqlite_internals() {
    let env = Env::new();
    let src = tampered(
        &env,
        &format!("{BASE} CREATE TABLE victim(a);"),
        "UPDATE sqlite_master SET name = 'sqlite_victim', tbl_name = 'sqlite_victim', sql = 'CREATE TABLE sqlite_victim(a)'
           WHERE name = 'victim'",
        &[],
    );
    assert_refused(&env, &src, &["sqlite_victim"]);
}

#[test]
fn virtual_table_with_an_unknown_module() {
    // Not hostile, only foreign: the fork carries the table as `.dump`
    // does (SPEC section 4), and nothing of module `evil` runs.
    let env = Env::new();
    let src = with_sql(
        &env,
        &format!("{BASE} CREATE VIRTUAL TABLE victim USING fts5(x);"),
        "CREATE VIRTUAL TABLE victim USING evil(x)",
    );
    let run = env.run(&["db", "fork", &src_arg(&env, &src), "dst", "--json"]).ok();
    let fork = PathBuf::from(run.json()["path"].as_str().unwrap());
    let (a, b) = (master_set(&src), master_set(&fork));
    assert!(a == b, "sqlite_master differs:\n{}", master_diff(&a, &b));
}

#[test]
fn index_expression_calling_load_extension() {
    let env = Env::new();
    let sql = format!("CREATE INDEX victim ON t(load_extension('{}'))", env.path("evil.so").display());
    let src = with_sql(&env, &format!("{BASE} CREATE INDEX victim ON t(a);"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

#[test]
fn check_constraint_calling_load_extension() {
    // SQLite itself refuses to create this; smuggled in, it must not load.
    let env = Env::new();
    let sql = format!("CREATE TABLE victim(a CHECK (load_extension('{}') IS NULL))", env.path("evil.so").display());
    let src = with_sql(&env, &format!("{BASE} CREATE TABLE victim(a);"), &sql);
    assert_refused(&env, &src, &["victim"]);
}

// --- harmless mentions ------------------------------------------------------

/// A trigger, a view and a DEFAULT that call `load_extension` are
/// valid single CREATE statements: the schema-only fork carries them
/// faithfully, runs none of them, and writes nothing outside home.
#[test]
fn load_extension_in_trigger_view_and_default_forks_harmlessly() {
    let env = Env::new();
    let evil = env.path("evil.so").display().to_string();
    let src = env.db(
        "src.db",
        &format!(
            "{BASE}
             CREATE TRIGGER victim AFTER INSERT ON t BEGIN SELECT load_extension('{evil}'); END;
             CREATE TRIGGER victim2 BEFORE DELETE ON t BEGIN INSERT INTO u VALUES (load_extension('{evil}'), 1); END;
             CREATE VIEW victim_v AS SELECT load_extension('{evil}') AS x;
             CREATE TABLE victim_d(a, b DEFAULT (load_extension('{evil}')));"
        ),
    );
    let scene = Scene::new(&env);
    let forked = fork_and_compare(&env, &src, "dst", false);
    scene.assert_untouched();
    assert!(!env.path("evil.so").exists());
    assert_eq!(env.registry_len(), 1);
    assert_eq!(env.database_files().iter().filter(|f| f.ends_with(".sqlite")).count(), 1);
    assert!(forked.fork.exists());
}

/// A trigger whose body quotes an ATTACH inside a string is one statement
/// and must be carried, not refused.
#[test]
fn attach_inside_a_string_is_not_a_second_statement() {
    let env = Env::new();
    let src = env.db(
        "src.db",
        &format!(
            "{BASE}
             CREATE TRIGGER victim AFTER INSERT ON t BEGIN INSERT INTO u VALUES ('; ATTACH ''pwned.db'' AS p;', 1); END;
             CREATE VIEW victim_v AS SELECT '; ATTACH ''pwned.db'' AS p' AS s;
             CREATE TABLE victim_d(a DEFAULT '); ATTACH ''pwned.db'' AS p; --');"
        ),
    );
    let scene = Scene::new(&env);
    fork_and_compare(&env, &src, "dst", false);
    scene.assert_untouched();
}
