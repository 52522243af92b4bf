//! Schemas that need their application (SPEC section 4): a collation, a
//! function, a full-text tokenizer or a virtual-table module that only the
//! source's application defines. Each source is made from SQL at run time
//! by a connection that registers the real piece; sqlfork has none of them.
//!
//! For each: the fork's `sqlite_master` equals the source's, and a
//! connection that registers the real piece sees the fork behave exactly as
//! the source does (rows inserted, queries, MATCH, integrity_check): no
//! stand-in sqlfork used during replay reaches the fork.

mod common;

use common::*;
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use std::cmp::Ordering;
use std::ffi::{c_char, c_int, c_void};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// The application's pieces, registered on the test's own connections.

/// Android's PHONEBOOK stand-in for this test: case-insensitive, and in
/// reverse order, so that binary order (a stand-in) would be visible.
fn phonebook(a: &str, b: &str) -> Ordering {
    b.to_lowercase().cmp(&a.to_lowercase())
}

/// `rev(x)`: the characters of x reversed (NULL stays NULL).
fn add_rev(conn: &Connection) {
    conn.create_scalar_function(
        "rev",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| Ok(ctx.get::<Option<String>>(0)?.map(|s| s.chars().rev().collect::<String>())),
    )
    .unwrap();
}

/// FTS3/FTS4 tokenizer `mozporter`: SQLite's porter tokenizer registered
/// under Thunderbird's name with `fts3_tokenizer(NAME, POINTER)`.
fn add_mozporter(conn: &Connection) {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, true).unwrap();
    conn.query_row("SELECT fts3_tokenizer('mozporter', fts3_tokenizer('porter'))", [], |_| Ok(())).unwrap();
}

/// FTS5 tokenizer `stemmer`: the porter tokenizer registered under a new
/// name through the `fts5_api` (what an application's C code does).
fn add_fts5_stemmer(conn: &Connection) {
    use rusqlite::ffi;
    // SAFETY: plain calls of SQLite's C API on a live connection; the
    // statement is finalized, and FTS5 copies the tokenizer struct.
    unsafe {
        let db = conn.handle();
        let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        let sql = c"SELECT fts5(?1)";
        assert_eq!(ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut()), ffi::SQLITE_OK);
        let mut api: *mut ffi::fts5_api = std::ptr::null_mut();
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            &mut api as *mut *mut ffi::fts5_api as *mut c_void,
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
        assert!(!api.is_null(), "could not get the fts5_api");
        let find = (*api).xFindTokenizer.expect("xFindTokenizer");
        let create = (*api).xCreateTokenizer.expect("xCreateTokenizer");
        let mut user: *mut c_void = std::ptr::null_mut();
        let mut tok: ffi::fts5_tokenizer = std::mem::zeroed();
        assert_eq!(find(api, c"porter".as_ptr() as *const c_char, &mut user, &mut tok), ffi::SQLITE_OK);
        let rc: c_int = create(api, c"stemmer".as_ptr() as *const c_char, user, &mut tok, None);
        assert_eq!(rc, ffi::SQLITE_OK, "could not register the fts5 tokenizer");
    }
}

/// A connection with every piece the application defines.
fn app_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    conn.create_collation("PHONEBOOK", phonebook).unwrap();
    add_rev(&conn);
    add_mozporter(&conn);
    add_fts5_stemmer(&conn);
    conn
}

// ---------------------------------------------------------------------------
// Checking

/// Every row of `sql`, each value `quote()`d by Rust's debug format.
fn query(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| Ok(format!("{:?}", r.get::<_, rusqlite::types::Value>(i)?))).collect())
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// Make the source from `sql` with the application's pieces; fork it
/// (schema-only unless `args` say otherwise); check `sqlite_master` and
/// that the source's bytes are unchanged. Returns (env, source, fork).
fn fork_app_schema(sql: &str, args: &[&str]) -> (Env, PathBuf, PathBuf) {
    let env = Env::new();
    let src = env.path("src.db");
    app_connection(&src).execute_batch(sql).unwrap_or_else(|e| panic!("setup SQL failed: {e}\n{sql}"));
    let before = file_bytes(&src);
    let mut full = vec!["db", "fork"];
    let arg = src_arg(&env, &src);
    full.extend([arg.as_str(), "dst", "--json"]);
    full.extend(args);
    let run = env.run(&full).ok();
    let fork = PathBuf::from(run.json()["path"].as_str().expect("JSON has path"));
    assert_eq!(run.json()["status"], "healthy");
    let (a, b) = (master_set(&src), master_set(&fork));
    assert!(a == b, "sqlite_master differs:\n{}", master_diff(&a, &b));
    assert!(file_bytes(&src) == before, "the source changed");
    (env, src, fork)
}

/// Run `workload` (writes) then `queries` on a copy of the source and on
/// the fork, both opened with the application's pieces: every answer, and
/// integrity_check, must be the same.
fn behaves_like_source(env: &Env, src: &Path, fork: &Path, workload: &str, queries: &[&str]) {
    let twin = env.path("twin.db");
    std::fs::copy(src, &twin).unwrap();
    let (t, f) = (app_connection(&twin), app_connection(fork));
    t.execute_batch(workload).unwrap_or_else(|e| panic!("workload on the source: {e}"));
    f.execute_batch(workload).unwrap_or_else(|e| panic!("workload on the fork: {e}"));
    for q in queries.iter().chain(&["PRAGMA integrity_check"]) {
        let (a, b) = (query(&t, q), query(&f, q));
        assert_eq!(a, b, "`{q}` answers differently on the fork");
        assert!(!a.is_empty() || q.starts_with("PRAGMA"), "test setup: `{q}` should return rows");
    }
    let ok = query(&f, "PRAGMA integrity_check");
    assert_eq!(ok, vec![vec!["Text(\"ok\")".to_string()]], "integrity_check of the fork");
}

// ---------------------------------------------------------------------------
// The cases

const COLLATION: &str = "
    CREATE TABLE contacts(id INTEGER PRIMARY KEY, name TEXT COLLATE PHONEBOOK UNIQUE, phone TEXT);
    CREATE INDEX contacts_phone ON contacts(phone COLLATE PHONEBOOK, name);
    CREATE VIEW by_name AS SELECT name FROM contacts ORDER BY name COLLATE PHONEBOOK;
    CREATE TABLE keyed(k TEXT COLLATE PHONEBOOK PRIMARY KEY, v) WITHOUT ROWID;";

const COLLATION_WORK: &str = "
    INSERT INTO contacts(name, phone) VALUES ('anna', '1'), ('Bob', '2'), ('carl', '3'), ('Dora', '10');
    INSERT OR IGNORE INTO contacts(name, phone) VALUES ('ANNA', '9');
    INSERT INTO keyed VALUES ('x', 1), ('Y', 2), ('z', 3);";

#[test]
fn a_custom_collation_on_columns_indexes_and_views() {
    let (env, src, fork) = fork_app_schema(COLLATION, &[]);
    behaves_like_source(
        &env,
        &src,
        &fork,
        COLLATION_WORK,
        &[
            "SELECT * FROM by_name",
            "SELECT name, phone FROM contacts ORDER BY phone",
            "SELECT name FROM contacts WHERE name = 'BOB'",
            "SELECT count(*) FROM contacts",
            "SELECT k FROM keyed ORDER BY k",
        ],
    );
}

const FUNCTION: &str = "
    CREATE TABLE words(id INTEGER PRIMARY KEY, w TEXT CHECK (rev(w) <> 'kcab'),
        r TEXT GENERATED ALWAYS AS (rev(w)) STORED,
        u TEXT GENERATED ALWAYS AS (upper(rev(w))) VIRTUAL);
    CREATE INDEX words_rev ON words(rev(w));
    CREATE VIEW reversed AS SELECT w, r, u, rev(r) AS back FROM words;";

#[test]
fn a_custom_function_in_an_index_a_check_generated_columns_and_a_view() {
    let (env, src, fork) = fork_app_schema(FUNCTION, &[]);
    behaves_like_source(
        &env,
        &src,
        &fork,
        "INSERT INTO words(w) VALUES ('abc'), ('stressed'), ('level');",
        &[
            "SELECT * FROM reversed ORDER BY w",
            "SELECT w FROM words WHERE rev(w) = 'desserts'",
            "SELECT w, r, u FROM words ORDER BY rev(w)",
        ],
    );
    // The CHECK works in the fork as in the source.
    let f = app_connection(&fork);
    assert!(f.execute_batch("INSERT INTO words(w) VALUES ('back')").is_err(), "the fork's CHECK must hold");
}

const FTS: &str = "
    CREATE VIRTUAL TABLE mail3 USING fts3(subject, body, tokenize=mozporter);
    CREATE VIRTUAL TABLE mail4 USING fts4(subject, body, tokenize=mozporter, prefix=\"2\");
    CREATE VIRTUAL TABLE mail5 USING fts5(subject, body, tokenize='stemmer unicode61');
    CREATE TABLE after_fts(a);";

const FTS_WORK: &str = "
    INSERT INTO mail3 VALUES ('Running late', 'the dogs were barking'), ('lunch', 'nothing ran');
    INSERT INTO mail4 VALUES ('Running late', 'the dogs were barking'), ('lunch', 'nothing ran');
    INSERT INTO mail5 VALUES ('Running late', 'the dogs were barking'), ('lunch', 'nothing ran');";

fn fts_queries() -> Vec<&'static str> {
    vec![
        // Porter stemming: 'run' matches 'Running', 'dog' matches 'dogs';
        // the default tokenizers (a stand-in) would match neither.
        "SELECT subject FROM mail3 WHERE mail3 MATCH 'run'",
        "SELECT subject FROM mail3 WHERE mail3 MATCH 'dog'",
        "SELECT subject FROM mail4 WHERE mail4 MATCH 'bark'",
        "SELECT subject FROM mail4 WHERE mail4 MATCH 'ru*'",
        "SELECT subject FROM mail5 WHERE mail5 MATCH 'run'",
        "SELECT subject FROM mail5 WHERE mail5 MATCH 'bark'",
        "SELECT * FROM mail5_config ORDER BY k",
        "SELECT count(*) FROM mail5_data",
    ]
}

#[test]
fn fts3_fts4_and_fts5_with_a_custom_tokenizer() {
    let (env, src, fork) = fork_app_schema(FTS, &[]);
    behaves_like_source(&env, &src, &fork, FTS_WORK, &fts_queries());
}

#[test]
fn a_data_fork_of_fts_with_a_custom_tokenizer_answers_the_same_queries() {
    let sql = format!("{FTS}{FTS_WORK}");
    for method in ["pages", "rows"] {
        let (env, src, fork) = {
            let env = Env::new();
            env.config(&format!("copy_method = \"{method}\"\n"));
            let src = env.path("src.db");
            app_connection(&src).execute_batch(&sql).unwrap();
            let run = env.run(&["db", "fork", &src_arg(&env, &src), "dst", "--with-data", "--json"]).ok();
            let fork = PathBuf::from(run.json()["path"].as_str().unwrap());
            let (a, b) = (master_set(&src), master_set(&fork));
            assert!(a == b, "{method}: sqlite_master differs:\n{}", master_diff(&a, &b));
            (env, src, fork)
        };
        behaves_like_source(&env, &src, &fork, "INSERT INTO mail5 VALUES ('more', 'runs');", &fts_queries());
    }
}

/// A virtual table of a module nobody here has (SpatiaLite's), with its
/// "shadow" tables, written as `.dump` writes it.
const UNKNOWN_MODULE: &str = "
    PRAGMA writable_schema = ON;
    INSERT INTO sqlite_master(type, name, tbl_name, rootpage, sql)
        VALUES ('table', 'geo', 'geo', 0, 'CREATE VIRTUAL TABLE geo USING VirtualSpatialIndex(a, b)');
    PRAGMA writable_schema = OFF;
    CREATE TABLE geo_node(nodeno INTEGER PRIMARY KEY, data BLOB);
    CREATE TABLE geo_rowid(rowid INTEGER PRIMARY KEY, nodeno INTEGER);
    CREATE TABLE plain(x);";

#[test]
fn a_virtual_table_of_an_unknown_module() {
    let (env, src, fork) = fork_app_schema(UNKNOWN_MODULE, &[]);
    behaves_like_source(
        &env,
        &src,
        &fork,
        "INSERT INTO geo_node VALUES (1, x'00'); INSERT INTO geo_rowid VALUES (7, 1); INSERT INTO plain VALUES (1);",
        &["SELECT * FROM geo_node", "SELECT * FROM geo_rowid", "SELECT * FROM plain"],
    );
    // Using the table needs its module, in the fork as in the source.
    let f = Connection::open(&fork).unwrap();
    let e = f.query_row("SELECT count(*) FROM geo", [], |_| Ok(())).unwrap_err().to_string();
    assert!(e.contains("no such module: VirtualSpatialIndex"), "{e}");
}

/// Everything at once, in one schema: a data fork copied page by page must
/// need none of the application's pieces after the copy (it used to fail
/// counting rows through a collated index: "no such collation sequence").
#[test]
fn a_data_fork_with_a_collated_index_needs_no_collation_after_the_copy() {
    let sql = format!("{COLLATION}{COLLATION_WORK}{FUNCTION}INSERT INTO words(w) VALUES ('abc');");
    let (env, src, fork) = fork_app_schema(&sql, &["--with-data"]);
    // The data came across exactly: the same answers before and after more writes.
    let (s, f) = (app_connection(&src), app_connection(&fork));
    for q in ["SELECT * FROM contacts ORDER BY name", "SELECT * FROM keyed ORDER BY k", "SELECT * FROM words"] {
        assert_eq!(query(&s, q), query(&f, q), "{q}");
    }
    drop(s);
    behaves_like_source(
        &env,
        &src,
        &fork,
        "INSERT INTO contacts(name, phone) VALUES ('erik', '4'); INSERT INTO words(w) VALUES ('xyz');",
        &["SELECT * FROM by_name", "SELECT * FROM reversed ORDER BY w"],
    );
}

/// A row copy would build indexes through a stand-in: it is refused, in one
/// sentence naming the piece, and leaves nothing behind.
#[test]
fn a_row_copy_that_would_need_a_stand_in_is_refused() {
    let env = Env::new();
    env.config("copy_method = \"rows\"\n");
    let src = env.path("src.db");
    app_connection(&src).execute_batch(&format!("{COLLATION}{COLLATION_WORK}")).unwrap();
    env.run(&["db", "fork", &src_arg(&env, &src), "dst", "--with-data"])
        .code(1)
        .one_line_error()
        .stderr_has("collation `PHONEBOOK`")
        .stderr_has("page copy");
    assert_eq!(env.registry_len(), 0);
    assert!(env.database_files().is_empty(), "{:?}", env.database_files());
}

/// A masked or subset fork is built from the rows, so it would build the
/// indexes through a stand-in too: refused before anything is written, for
/// a collation and for a function alike.
#[test]
fn a_masked_or_subset_fork_that_would_need_a_stand_in_is_refused() {
    let env = Env::new();
    let rules = env.path("rules.toml");
    std::fs::write(&rules, "seed = \"s\"\n[tables.contacts]\nphone = \"phone\"\n").unwrap();
    for (what, sql, piece) in [
        ("collation", format!("{COLLATION}{COLLATION_WORK}"), "collation `PHONEBOOK`"),
        ("function", format!("{FUNCTION}{COLLATION}"), "function `rev`"),
    ] {
        let src = env.path(&format!("{what}.db"));
        app_connection(&src).execute_batch(&sql).unwrap();
        let before = file_bytes(&src);
        let arg = src_arg(&env, &src);
        for extra in [vec!["--mask", rules.to_str().unwrap()], vec!["--subset", "contacts:id < 3"]] {
            let mut args = vec!["db", "fork", arg.as_str(), "dst", "--with-data"];
            args.extend(extra.iter().copied());
            env.run(&args).code(1).one_line_error().stderr_has(piece).stderr_has("masked or subset");
            assert_eq!(env.registry_len(), 0, "{what} {extra:?}");
            assert!(env.database_files().is_empty(), "{what} {extra:?}: {:?}", env.database_files());
        }
        assert!(file_bytes(&src) == before, "the source changed");
    }
}
