//! The bad-input matrix: every class of bad input gets one clear sentence on
//! stderr, its documented exit code, nothing left behind in home, and the
//! source's bytes unchanged — for schema-only and data forks alike.

mod common;

use common::*;
use rusqlite::Connection;
use std::path::Path;

const GOOD: &str = "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), note TEXT);
    CREATE INDEX child_parent ON child(parent_id);
    INSERT INTO parent(name) SELECT hex(randomblob(300)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 200) SELECT i FROM n);";

/// Rewrite one object's SQL in `sqlite_master` (what a foreign application
/// or a hostile file would have there).
fn rewritten(env: &Env, name: &str, setup: &str, object: &str, sql: &str) -> String {
    let path = env.db(name, setup);
    rewrite_master(&path, "UPDATE sqlite_master SET sql = ?1 WHERE name = ?2", &[sql, object]);
    format!("./{name}")
}

/// One case: arguments, expected exit code, words the one-line error names.
struct Case {
    what: &'static str,
    args: Vec<String>,
    code: i32,
    needles: Vec<&'static str>,
}

fn case(what: &'static str, args: &[&str], code: i32, needles: &[&'static str]) -> Case {
    Case { what, args: args.iter().map(|s| s.to_string()).collect(), code, needles: needles.to_vec() }
}

fn check(env: &Env, c: &Case, sources: &[&Path]) {
    let before = env.snapshot();
    let bytes: Vec<Vec<u8>> = sources.iter().map(|p| if p.is_file() { file_bytes(p) } else { vec![] }).collect();
    for json in [false, true] {
        let mut args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        if json {
            args.push("--json");
        }
        let run: Run = env.run(&args);
        assert_eq!(run.code, c.code, "{}: {:?} exit {}\nstderr: {}", c.what, args, run.code, run.stderr);
        let run = run.one_line_error();
        assert!(run.stderr.starts_with("error: "), "{}: {}", c.what, run.stderr);
        for n in &c.needles {
            assert!(run.stderr.contains(n), "{}: stderr lacks {n:?}: {}", c.what, run.stderr);
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert_eq!(env.snapshot(), before, "{}: something was left behind in home", c.what);
        for (p, b) in sources.iter().zip(&bytes) {
            if p.is_file() {
                assert!(file_bytes(p) == *b, "{}: source {} changed", c.what, p.display());
            }
        }
    }
}

#[test]
fn bad_sources_schema_only_and_with_data() {
    let env = Env::new();
    make_db(&env.path("good.db"), GOOD);
    env.run(&["db", "import", "acme/good", "./good.db"]).ok();
    env.run(&["db", "create", "acme/taken"]).ok();
    let good = file_bytes(&env.path("good.db"));

    std::fs::write(env.path("empty-text.db"), "just some notes, not a database\n").unwrap();
    std::fs::write(env.path("truncated.db"), &good[..1500]).unwrap();
    std::fs::write(env.path("half.db"), &good[..good.len() / 2]).unwrap();
    let mut corrupt = good.clone();
    corrupt[16..18].copy_from_slice(&[0x00, 0x03]); // page size 3: impossible
    std::fs::write(env.path("bad-header.db"), &corrupt).unwrap();
    let mut encrypted = good.clone();
    for (i, b) in encrypted.iter_mut().enumerate() {
        *b ^= (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(env.path("encrypted.db"), &encrypted).unwrap();
    std::fs::create_dir(env.path("folder.db")).unwrap();

    // A hot journal: a writer that died mid-transaction.
    make_db(&env.path("hot.db"), GOOD);
    {
        let conn = Connection::open(env.path("hot.db")).unwrap();
        conn.execute_batch("PRAGMA cache_size = 1; BEGIN; UPDATE parent SET name = 'x';").unwrap();
        std::fs::copy(env.path("hot.db"), env.path("hot2.db")).unwrap();
        std::fs::copy(env.path("hot.db-journal"), env.path("hot2.db-journal")).unwrap();
        conn.execute_batch("ROLLBACK").unwrap();
    }

    let collation = rewritten(
        &env,
        "collation.db",
        "CREATE TABLE t(x TEXT); CREATE INDEX t_x ON t(x COLLATE nocase);",
        "t_x",
        "CREATE INDEX t_x ON t(x COLLATE phonebook)",
    );
    let function = rewritten(
        &env,
        "function.db",
        "CREATE TABLE t(x TEXT); CREATE INDEX t_fx ON t(lower(x));",
        "t_fx",
        "CREATE INDEX t_fx ON t(title_sort(x))",
    );
    let module = rewritten(
        &env,
        "module.db",
        "CREATE VIRTUAL TABLE v USING fts5(x);",
        "v",
        "CREATE VIRTUAL TABLE v USING spatialite_index(x)",
    );
    let tokenizer = rewritten(
        &env,
        "tokenizer.db",
        "CREATE VIRTUAL TABLE v USING fts4(x);",
        "v",
        "CREATE VIRTUAL TABLE v USING fts4(x, tokenize=mozporter)",
    );
    let second_statement =
        rewritten(&env, "second.db", "CREATE TABLE t(x);", "t", "CREATE TABLE t(x); ATTACH 'elsewhere.db' AS e");

    let mut cases = vec![
        case("missing file", &["db", "fork", "./missing.db", "x"], 3, &["missing.db", "does not exist"]),
        case("text file", &["db", "fork", "./empty-text.db", "x"], 2, &["not a SQLite database"]),
        case("truncated file", &["db", "fork", "./truncated.db", "x"], 2, &["truncated.db"]),
        case("half a file", &["db", "fork", "./half.db", "x"], 2, &["half.db"]),
        case("corrupt header", &["db", "fork", "./bad-header.db", "x"], 2, &["bad-header.db"]),
        case("encrypted file", &["db", "fork", "./encrypted.db", "x"], 2, &["not a SQLite database", "encrypted"]),
        case("a directory", &["db", "fork", "./folder.db", "x"], 2, &["directory"]),
        case("hot journal", &["db", "fork", "./hot2.db", "x"], 2, &["hot journal", "sqlite3"]),
        case("a second statement", &["db", "fork", &second_statement, "x"], 2, &["`t`", "more than one statement"]),
        case("taken destination", &["db", "fork", "acme/good", "taken"], 4, &["acme/taken", "already exists"]),
        case("fork onto itself", &["db", "fork", "acme/good", "good"], 2, &["itself"]),
        case("unknown source address", &["db", "fork", "acme/nope", "x"], 3, &["acme/nope"]),
        case("malformed destination", &["db", "fork", "acme/good", "Pr_1"], 2, &["lowercase"]),
        case("malformed source address", &["db", "fork", "acme/-bad", "x"], 2, &["start or end"]),
        case("bad branch ref", &["db", "show", "acme/good@a..b"], 2, &[".."]),
        case("ref with a space", &["db", "show", "acme/good@a b"], 2, &["' '"]),
        case("TTL too short", &["db", "fork", "acme/good", "x", "--ttl", "30m"], 2, &["1 hour and 30 days"]),
        case("TTL too long", &["db", "fork", "acme/good", "x", "--ttl", "31d"], 2, &["1 hour and 30 days"]),
        case("TTL not a duration", &["db", "fork", "acme/good", "x", "--ttl", "soon"], 2, &["not a duration"]),
        case("import of a text file", &["db", "import", "acme/text", "./empty-text.db"], 2, &["not a SQLite database"]),
        case("import of a missing file", &["db", "import", "acme/gone", "./missing.db"], 3, &["missing.db"]),
        case("show of nothing", &["db", "show", "acme/nothing"], 3, &["acme/nothing", "db list"]),
        case("delete of nothing", &["db", "delete", "acme/nothing", "--yes"], 3, &["acme/nothing"]),
    ];
    // The same bad sources with --with-data.
    let data: Vec<Case> = cases
        .iter()
        .filter(|c| c.args[1] == "fork" && c.args.len() == 4)
        .map(|c| Case {
            what: c.what,
            args: c.args.iter().cloned().chain(["--with-data".to_string()]).collect(),
            code: c.code,
            needles: c.needles.clone(),
        })
        .collect();
    cases.extend(data);
    assert!(cases.len() >= 36, "the matrix shrank: {}", cases.len());
    let sources: Vec<std::path::PathBuf> = [
        "good.db",
        "truncated.db",
        "half.db",
        "bad-header.db",
        "encrypted.db",
        "hot2.db",
        "hot2.db-journal",
        "collation.db",
        "function.db",
        "module.db",
        "tokenizer.db",
        "second.db",
    ]
    .iter()
    .map(|n| env.path(n))
    .collect();
    let refs: Vec<&Path> = sources.iter().map(|p| p.as_path()).collect();
    for c in &cases {
        check(&env, c, &refs);
    }
    assert!(!env.path("elsewhere.db").exists(), "the smuggled ATTACH ran");

    // A schema that needs its application's collation, function, module or
    // tokenizer is not bad input (SPEC section 4): it forks, schema-only
    // and with data, and its sqlite_master comes across unchanged.
    for (i, src) in [&collation, &function, &module, &tokenizer].into_iter().enumerate() {
        for data in [false, true] {
            let dst = format!("app-{i}-{data}");
            let mut args = vec!["db", "fork", src.as_str(), dst.as_str()];
            if data {
                args.push("--with-data");
            }
            env.run(&args).ok();
            let fork = env.db_path(&format!("local/{dst}"));
            assert_eq!(common::master(&fork), common::master(&env.path(src.trim_start_matches("./"))), "{src}");
        }
    }
}

#[test]
fn a_locked_source_is_one_clear_error() {
    let env = Env::new();
    make_db(&env.path("locked.db"), GOOD);
    let holder = Connection::open(env.path("locked.db")).unwrap();
    // An exclusive lock: no reader gets in until it is released.
    holder.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE parent SET name = name;").unwrap();
    let c = case("locked source", &["db", "fork", "./locked.db", "x"], 1, &["locked", "try again"]);
    check(&env, &c, &[]);
    holder.execute_batch("COMMIT").unwrap();
}

#[test]
fn registry_and_config_edited_into_nonsense() {
    let env = Env::new();
    make_db(&env.path("good.db"), GOOD);
    env.run(&["db", "import", "acme/good", "./good.db"]).ok();
    let registry = env.home.join("registry.sqlite");
    let saved = std::fs::read(&registry).unwrap();
    for f in ["registry.sqlite-wal", "registry.sqlite-shm"] {
        let _ = std::fs::remove_file(env.home.join(f));
    }

    std::fs::write(&registry, "this is [not sqlite\n").unwrap();
    for args in [&["db", "list"][..], &["db", "fork", "./good.db", "x"], &["db", "show", "acme/good"]] {
        let run = env.run(args).code(1).one_line_error().stderr_has("registry");
        assert!(run.stderr.contains("registry.sqlite"), "{}", run.stderr);
    }
    assert_eq!(
        std::fs::read_to_string(&registry).unwrap(),
        "this is [not sqlite\n",
        "a bad registry is never rewritten"
    );
    assert!(env.database_files().is_empty(), "{:?}", env.database_files());

    // A TOML registry of an earlier version that is not valid is never
    // migrated (nor rewritten): the error names it.
    std::fs::remove_file(&registry).unwrap();
    let legacy = env.home.join("registry.toml");
    for text in ["this is [not toml\n", "[[databases]]\nid = 7\n"] {
        std::fs::write(&legacy, text).unwrap();
        env.run(&["db", "list"]).code(1).one_line_error().stderr_has("registry.toml");
        assert_eq!(std::fs::read_to_string(&legacy).unwrap(), text);
        assert!(!registry.exists(), "nothing migrated");
    }
    std::fs::remove_file(&legacy).unwrap();

    std::fs::write(&registry, &saved).unwrap();
    env.config("default_ttl = \"2 minutes\"\n");
    env.run(&["db", "fork", "./good.db", "x"]).code(2).one_line_error().stderr_has("default_ttl");
    env.config("copy_method = \"magic\"\n");
    env.run(&["db", "fork", "./good.db", "x", "--with-data"]).code(2).one_line_error().stderr_has("copy_method");
    env.config("");
    env.run(&["db", "fork", "./good.db", "x"]).ok();
}

#[test]
fn an_empty_file_is_an_empty_database() {
    // SQLite treats a zero-byte file as an empty database (as the sqlite3
    // shell does), so sqlfork forks it into an empty database rather than
    // refusing it.
    let env = Env::new();
    std::fs::write(env.path("empty.db"), b"").unwrap();
    let run = env.run(&["db", "fork", "./empty.db", "e", "--with-data", "--json"]).ok();
    assert_eq!(run.json()["copy"]["objectsCreated"], 0);
    let conn = Connection::open(env.db_path("local/e")).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    assert_eq!(std::fs::metadata(env.path("empty.db")).unwrap().len(), 0, "the source stays empty");
}

#[test]
fn a_data_fork_copies_a_schema_this_sqlite_cannot_replay() {
    // Android's contacts use a PHONEBOOK collation only Android has: a
    // schema-only fork replays the schema with a stand-in that is never
    // stored; a data fork copies the pages as they are, so the fork is
    // exact and works wherever the source works; a row copy would fill the
    // index through the stand-in, so it is refused.
    let env = Env::new();
    let src = rewritten(
        &env,
        "android.db",
        "CREATE TABLE contacts(name TEXT); CREATE INDEX by_name ON contacts(name COLLATE nocase);
         INSERT INTO contacts VALUES ('Ada'), ('grace');",
        "by_name",
        "CREATE INDEX by_name ON contacts(name COLLATE PHONEBOOK)",
    );
    env.run(&["db", "fork", &src, "schema"]).ok();
    assert_eq!(common::master(&env.db_path("local/schema")), common::master(&env.path("android.db")));
    for method in ["pages", "rows"] {
        env.config(&format!("copy_method = \"{method}\"\n"));
        let run = env.run(&["db", "fork", &src, &format!("data-{method}"), "--with-data"]);
        if method == "rows" {
            // The row copy would fill the index through a stand-in.
            run.code(1).one_line_error().stderr_has("PHONEBOOK");
            continue;
        }
        run.ok();
        let fork = env.db_path(&format!("local/data-{method}"));
        assert_eq!(common::master(&fork), common::master(&env.path("android.db")));
        assert_eq!(
            file_bytes(&fork),
            file_bytes(&env.path("android.db")),
            "a page copy of an idle source is byte-exact"
        );
    }
}
