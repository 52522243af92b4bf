//! `db rehearse` (SPEC section 16), end to end through the binary.
//!
//! Every case runs through [`rehearse`], which also checks what must hold
//! whatever the migration did: the source's bytes are unchanged, and the
//! rehearsal fork (and its clones) are gone from the home unless `--keep`.

mod common;

use common::home::assert_no_strays;
use common::{files::file_bytes, Env, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A shop with foreign keys: 10 customers, 100 orders (order i belongs to
/// customer i % 10 + 1), 40 notes; one order already points at a missing
/// customer (a violation that was there before any migration).
const SHOP: &str = "
PRAGMA user_version = 41;
CREATE TABLE customers(id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, legacy_code TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), status TEXT NOT NULL DEFAULT 'open', total INTEGER);
CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO customers SELECT i, 'person' || i || '@example.com', 'Person ' || i, CASE WHEN i <= 7 THEN 'L' || i END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO orders SELECT i, i % 10 + 1, CASE WHEN i % 4 = 0 THEN 'cancelled' ELSE 'open' END, i * 10 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO notes SELECT i, 'note ' || i FROM n;
PRAGMA foreign_keys = OFF;
INSERT INTO orders VALUES (1000, 999, 'open', 0);
";

struct Case {
    env: Env,
    src: PathBuf,
}

impl Case {
    fn new() -> Case {
        let env = Env::new();
        let src = env.db("shop.db", SHOP);
        Case { env, src }
    }

    /// Write a migration file (in `dir` under the temp dir) and return its path.
    fn file(&self, dir: &str, name: &str, sql: &str) -> PathBuf {
        let d = self.env.path(dir);
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, sql).unwrap();
        p
    }

    /// `sqlfork db rehearse ./shop.db ARGS…`, checking that the source is
    /// byte for byte what it was and (without --keep) that nothing is left
    /// in the home.
    fn rehearse(&self, args: &[&str]) -> Run {
        let before = file_bytes(&self.src);
        let mut all = vec!["db", "rehearse", "./shop.db"];
        all.extend_from_slice(args);
        let run = self.env.run(&all);
        assert!(file_bytes(&self.src) == before, "the source changed\n{}", run.dump());
        for side in ["-wal", "-shm", "-journal"] {
            let mut p = self.src.as_os_str().to_owned();
            p.push(side);
            assert!(!Path::new(&p).exists(), "a {side} file was left beside the source");
        }
        if !args.contains(&"--keep") && self.env.home.exists() {
            assert_eq!(self.env.registry_len(), 0, "the rehearsal fork is still registered\n{}", run.dump());
            assert_eq!(self.env.database_files(), Vec::<String>::new(), "files left in the home\n{}", run.dump());
        }
        run
    }
}

fn codes(file: &Value) -> Vec<String> {
    file["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

fn finding<'a>(file: &'a Value, code: &str) -> &'a Value {
    file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} finding in {file:#}"))
}

#[test]
fn a_clean_set_runs_in_name_order_and_reports_each_file() {
    let c = Case::new();
    c.file("m", "0002_index.sql", "CREATE INDEX orders_by_status ON orders(status);\nPRAGMA user_version = 42;\n");
    c.file(
        "m",
        "0001_close.sql",
        "-- close the cancelled orders\nUPDATE orders SET status = 'closed' WHERE status = 'cancelled';\nINSERT INTO notes(body) VALUES ('migrated');\nCREATE TABLE audit(id INTEGER PRIMARY KEY, at TEXT);\n",
    );
    c.file("m", "README.md", "not a migration");
    let run = c.rehearse(&["m", "--json"]).ok();
    let doc = run.json();
    assert_eq!(doc["source"], "./shop.db");
    let files = doc["migrations"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{doc:#}");
    let (first, second) = (&files[0], &files[1]);
    assert_eq!(first["file"], "0001_close.sql");
    assert_eq!(first["ok"], true);
    assert!(first["error"].is_null());
    assert_eq!(first["tables"]["orders"], serde_json::json!({"inserted": 0, "deleted": 0, "updated": 25}));
    assert_eq!(first["tables"]["notes"], serde_json::json!({"inserted": 1, "deleted": 0, "updated": 0}));
    assert!(first["tables"].get("customers").is_none(), "untouched tables are left out: {first:#}");
    assert_eq!(first["schema"]["added"][0]["name"], "audit");
    for k in ["timeMs", "lockMs"] {
        assert!(first[k].is_u64(), "{k}: {first:#}");
    }
    assert!(codes(first).contains(&"rows_updated".to_string()));
    assert!(finding(first, "rows_updated")["message"].as_str().unwrap().contains("25 rows"));
    assert_eq!(finding(first, "rows_updated")["table"], "orders");
    assert_eq!(second["file"], "0002_index.sql");
    let idx = finding(second, "index_added");
    assert_eq!(idx["severity"], "info");
    assert!(idx["message"].as_str().unwrap().contains("orders_by_status"), "{idx}");
    assert_eq!(second["settings"]["user_version"], serde_json::json!({"before": 41, "after": 42}));
    assert!(codes(second).contains(&"file_size".to_string()));
    assert_eq!(doc["worst"], "info");
    assert!(doc["down"].is_null());
    assert_eq!(doc["skipped"], serde_json::json!([]));
    assert_no_strays(&c.env, "after a rehearsal");

    // Human text by default, naming each file.
    let text = c.rehearse(&["m"]).ok();
    assert!(
        text.stdout.contains("0001_close.sql  ok") && text.stdout.contains("0002_index.sql  ok"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Worst finding: info"), "{}", text.stdout);
}

#[test]
fn data_loss_is_a_warning_with_exact_counts() {
    let c = Case::new();
    let m = c.file(
        "m",
        "0001_loss.sql",
        "DELETE FROM orders WHERE status = 'cancelled';
ALTER TABLE customers DROP COLUMN legacy_code;
DROP TABLE notes;
-- the usual way to change a table in SQLite: create, copy, drop, rename
PRAGMA foreign_keys = OFF;
CREATE TABLE orders_new(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), status TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0);
INSERT INTO orders_new SELECT id, customer_id, status, coalesce(total, 0) FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
PRAGMA foreign_keys = ON;
",
    );
    let run = c.rehearse(&[m.to_str().unwrap(), "--json"]).ok();
    let doc = run.json();
    let f = &doc["migrations"][0];
    assert_eq!(f["ok"], true, "{f:#}");
    assert_eq!(doc["worst"], "warning");
    assert_eq!(f["tables"]["orders"]["deleted"], 25);
    let msg = |code: &str, table: &str| -> String {
        f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == code && x["table"] == table)
            .unwrap_or_else(|| panic!("no {code} on {table}: {f:#}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(msg("rows_deleted", "orders").contains("25 rows deleted"), "{f:#}");
    assert!(msg("non_null_dropped", "customers").contains("legacy_code dropped with 7 non-NULL values"), "{f:#}");
    assert!(msg("non_null_dropped", "notes").contains("table notes dropped with 40 rows"), "{f:#}");
    assert!(msg("table_rebuilt", "orders").contains("76 rows"), "{f:#}");
    for x in f["findings"].as_array().unwrap() {
        let want = match x["code"].as_str().unwrap() {
            "rows_deleted" | "non_null_dropped" | "table_rebuilt" => "warning",
            "failed" | "integrity_check" | "foreign_key_violation" => "error",
            _ => "info",
        };
        assert_eq!(x["severity"], want, "{x}");
    }
    // Warnings fail only when asked to.
    c.rehearse(&[m.to_str().unwrap(), "--quiet"]).code(0);
    let strict = c.rehearse(&[m.to_str().unwrap(), "--fail-on", "warning", "--quiet"]).code(1);
    assert!(strict.stdout.contains("worst finding: warning"), "{}", strict.dump());
    c.rehearse(&[m.to_str().unwrap(), "--fail-on", "never", "--quiet"]).code(0);
}

#[test]
fn a_failing_file_stops_the_rehearsal_and_later_files_do_not_run() {
    let c = Case::new();
    c.file("m", "0001_ok.sql", "UPDATE orders SET total = 1 WHERE id = 1;\n");
    c.file("m", "0002_bad.sql", "INSERT INTO notes(body) VALUES ('a');\n\n  -- oops\n  UPDATE nosuch SET x = 1;\nINSERT INTO notes(body) VALUES ('never');\n");
    c.file("m", "0003_later.sql", "DELETE FROM orders;\n");
    let run = c.rehearse(&["m", "--json"]).code(1);
    let doc = run.json();
    let files = doc["migrations"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{doc:#}");
    let bad = &files[1];
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["error"]["line"], 4, "{bad:#}");
    assert_eq!(bad["error"]["message"], "no such table: nosuch");
    assert_eq!(bad["error"]["statement"], "UPDATE nosuch SET x = 1;");
    assert_eq!(finding(bad, "failed")["severity"], "error");
    // What ran before the failure is reported; nothing after it ran.
    assert_eq!(bad["tables"]["notes"]["inserted"], 1, "{bad:#}");
    assert_eq!(doc["skipped"], serde_json::json!(["0003_later.sql"]));
    assert_eq!(doc["worst"], "error");
    // --fail-on never still reports the failure, and exits 0.
    let text = c.rehearse(&["m", "--fail-on", "never"]).code(0);
    assert!(
        text.stdout.contains("0002_bad.sql  FAILED") && text.stdout.contains("line 4: no such table: nosuch"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Not run: 0003_later.sql"), "{}", text.stdout);
}

#[test]
fn new_foreign_key_violations_are_errors_and_old_ones_are_not() {
    let c = Case::new();
    // Touches orders (which already has one orphan) without adding any.
    let harmless = c.file("m", "0001.sql", "UPDATE orders SET total = total + 1 WHERE id <= 5;\n");
    let doc = c.rehearse(&[harmless.to_str().unwrap(), "--json"]).ok().json();
    assert!(!codes(&doc["migrations"][0]).contains(&"foreign_key_violation".to_string()), "{doc:#}");
    // Deleting a customer with foreign keys turned off orphans its 10 orders.
    let orphaning = c.file("n", "0001.sql", "PRAGMA foreign_keys = OFF;\nDELETE FROM customers WHERE id = 3;\n");
    let run = c.rehearse(&[orphaning.to_str().unwrap(), "--json"]).code(1);
    let doc = run.json();
    let f = &doc["migrations"][0];
    let v = finding(f, "foreign_key_violation");
    assert_eq!(v["severity"], "error");
    assert_eq!(v["table"], "orders");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("11 rows of orders point at no row of customers") && m.contains("10 new"), "{m}");
    // With foreign keys on (as the rehearsal runs files), the same delete fails.
    let refused = c.file("o", "0001.sql", "DELETE FROM customers WHERE id = 3;\n");
    let doc = c.rehearse(&[refused.to_str().unwrap(), "--json"]).code(1).json();
    assert_eq!(doc["migrations"][0]["error"]["message"], "FOREIGN KEY constraint failed");
}

#[test]
fn a_down_must_undo_its_up() {
    let c = Case::new();
    let up = c.file(
        "m",
        "0042.sql",
        "CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT);\nINSERT INTO audit(what) VALUES ('x');\nALTER TABLE orders ADD COLUMN region TEXT;\nPRAGMA user_version = 42;\n",
    );
    let good = c.file(
        "good",
        "0042_down.sql",
        "DROP TABLE audit;\nALTER TABLE orders DROP COLUMN region;\nPRAGMA user_version = 41;\n",
    );
    let doc = c.rehearse(&[up.to_str().unwrap(), "--down", good.to_str().unwrap(), "--json"]).ok().json();
    let down = doc["down"].as_array().unwrap();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0]["file"], "0042_down.sql");
    assert!(!codes(&down[0]).contains(&"not_undone".to_string()), "{doc:#}");
    assert_ne!(doc["worst"], "error");

    let wrong = c.file("wrong", "0042_down.sql", "ALTER TABLE orders DROP COLUMN region;\nPRAGMA user_version = 41;\n");
    let run = c.rehearse(&[up.to_str().unwrap(), "--down", c.env.path("wrong").to_str().unwrap(), "--json"]).code(1);
    let doc = run.json();
    let f = finding(&doc["down"][0], "not_undone");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["message"], "0042_down.sql does not undo 0042.sql: table audit still exists", "{doc:#}");
    let _ = wrong;

    // A down that misses rows says which table and how many.
    let partial = c.file("partial", "0042_down.sql", "DROP TABLE audit;\nALTER TABLE orders DROP COLUMN region;\nPRAGMA user_version = 41;\nDELETE FROM notes WHERE id > 38;\n");
    let doc = c.rehearse(&[up.to_str().unwrap(), "--down", partial.to_str().unwrap(), "--json"]).code(1).json();
    let m = finding(&doc["down"][0], "not_undone")["message"].as_str().unwrap().to_string();
    assert!(m.ends_with("table notes has 2 rows missing"), "{m}");
}

#[test]
fn a_masked_rehearsal_kept_holds_no_original_value() {
    let c = Case::new();
    let rules = c.env.path("mask.toml");
    std::fs::write(&rules, "seed = \"s3cret\"\n[tables.customers]\nemail = \"email\"\nname = \"name\"\n").unwrap();
    let m = c.file("m", "0001.sql", "UPDATE customers SET name = upper(name);\nVACUUM;\n");
    let run = c
        .rehearse(&[m.to_str().unwrap(), "--mask", rules.to_str().unwrap(), "--keep", "acme/rehearsed", "--json"])
        .ok();
    let doc = run.json();
    assert_eq!(doc["kept"], "acme/rehearsed");
    assert_eq!(doc["forkMethod"], "masked");
    assert_eq!(doc["migrations"][0]["tables"]["customers"]["updated"], 10);
    let kept = c.env.db_path("acme/rehearsed");
    let bytes = file_bytes(&kept);
    for i in 1..=10 {
        for original in [format!("person{i}@example.com"), format!("Person {i}"), format!("PERSON {i}")] {
            assert!(
                !bytes.windows(original.len()).any(|w| w == original.as_bytes()),
                "{original} is in the kept rehearsal"
            );
        }
    }
    // It is an ordinary database now; nothing hidden is left beside it.
    assert_eq!(c.env.registry_len(), 1);
    assert_no_strays(&c.env, "after a kept rehearsal");
    // A taken --keep address is refused before anything runs.
    c.rehearse(&[m.to_str().unwrap(), "--keep", "acme/rehearsed"]).code(4).one_line_error();
    assert_eq!(c.env.registry_len(), 1);
}

#[test]
fn a_write_lock_held_past_the_budget_is_a_warning() {
    let c = Case::new();
    // A write transaction that stays open while a slow query runs.
    let m = c.file(
        "m",
        "0001.sql",
        "BEGIN;\nUPDATE orders SET total = 0 WHERE id = 1;\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000) SELECT count(*) FROM n;\nCOMMIT;\n",
    );
    let doc = c.rehearse(&[m.to_str().unwrap(), "--lock-budget", "20ms", "--json"]).ok().json();
    let f = &doc["migrations"][0];
    let lock = f["lockMs"].as_u64().unwrap();
    assert!(lock >= 20, "the lock was held across the slow query: {f:#}");
    assert_eq!(finding(f, "lock_budget")["severity"], "warning");
    assert!(finding(f, "lock_budget")["message"].as_str().unwrap().contains("over the 20 ms budget"));
    assert_eq!(doc["lockBudgetMs"], 20);
    let relaxed = c.rehearse(&[m.to_str().unwrap(), "--lock-budget", "1h", "--json"]).ok().json();
    assert!(!codes(&relaxed["migrations"][0]).contains(&"lock_budget".to_string()));
    // A file that ends inside its transaction loses it, as sqlite3 does.
    let open = c.file("o", "0001.sql", "BEGIN;\nDELETE FROM notes;\n");
    let doc = c.rehearse(&[open.to_str().unwrap(), "--json"]).ok().json();
    let f = &doc["migrations"][0];
    assert_eq!(finding(f, "open_transaction")["severity"], "warning");
    assert!(f["tables"].get("notes").is_none(), "the rolled-back delete changed nothing: {f:#}");
}

#[test]
fn markdown_is_a_pull_request_comment() {
    let c = Case::new();
    c.file("m", "0001.sql", "DELETE FROM notes WHERE id <= 3;\n");
    c.file("m", "0002.sql", "SELECT * FROM nowhere;\n");
    let run = c.rehearse(&["m", "--format", "markdown"]).code(1);
    let md = &run.stdout;
    assert!(md.starts_with("### Migration rehearsal on `./shop.db`: ❌ errors"), "{md}");
    assert!(md.contains("| file | result | time | write lock | rows | schema |"), "{md}");
    assert!(md.contains("| `0001.sql` | ✅ ok |") && md.contains("notes: 3 deleted"), "{md}");
    assert!(md.contains("| `0002.sql` | ❌ line 1 |"), "{md}");
    assert!(md.contains("**warning** `rows_deleted`: 3 rows deleted from notes"), "{md}");
    assert!(md.contains("```sql\nSELECT * FROM nowhere;\n```"), "{md}");
}

#[test]
fn bad_input_is_one_sentence_and_leaves_nothing() {
    let c = Case::new();
    let ok = c.file("m", "0001.sql", "SELECT 1;\n");
    let dot = c.file("d", "0001.sql", "UPDATE orders SET total = 1;\n.read other.sql\n");
    std::fs::create_dir_all(c.env.path("empty")).unwrap();
    let ok = ok.to_str().unwrap();
    for (args, code, says) in [
        (vec![c.env.path("missing.sql").to_str().unwrap().to_string()], 2, "missing.sql cannot be read"),
        (
            vec![dot.to_str().unwrap().to_string()],
            2,
            "0001.sql line 2: `.read other.sql` is a sqlite3 shell dot-command",
        ),
        (vec![c.env.path("empty").to_str().unwrap().to_string()], 2, "holds no .sql files"),
        (vec![ok.into(), "--lock-budget".into(), "soon".into()], 2, "--lock-budget `soon` is not a duration"),
        (vec![ok.into(), "--json".into(), "--format".into(), "markdown".into()], 2, "cannot be combined"),
        (vec![ok.into(), "--keep".into(), "Bad Name".into()], 2, "--keep"),
        (vec![ok.into(), "--down".into(), c.env.path("nodown").to_str().unwrap().into()], 2, "down migration"),
        (vec![ok.into(), "--fail-on".into(), "sometimes".into()], 2, "sometimes"),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = c.rehearse(&args).code(code).stderr_has(says);
        if code != 2 || !says.contains("sometimes") {
            run.one_line_error();
        }
    }
    // An unknown source is "not found", as for a fork.
    let run = c.env.run(&["db", "rehearse", "acme/nope", ok]).code(3);
    assert!(run.stderr.contains("acme/nope"), "{}", run.dump());
    c.env.run(&["db", "rehearse", "./shop.db"]).code(2);
    if c.env.home.exists() {
        assert_eq!(c.env.registry_len(), 0);
        assert_no_strays(&c.env, "after bad input");
    }
}

#[test]
fn ctrl_c_removes_the_rehearsal_fork() {
    let c = Case::new();
    let m = c.file("m", "0001.sql", "DELETE FROM notes;\n");
    let mut bg = c
        .env
        .cmd(["db", "rehearse", "./shop.db", m.to_str().unwrap()])
        .env("SQLFORK_TEST_PAUSE", "rehearse-file:5000")
        .spawn();
    bg.wait_for_stderr("paused at rehearse-file", std::time::Duration::from_secs(30));
    assert_eq!(c.env.registry_len(), 1, "the hidden fork exists while it runs");
    assert!(bg.signal(libc::SIGINT));
    let run = bg.finish().code(130);
    assert!(run.stderr.contains("Interrupted; the rehearsal fork was removed"), "{}", run.dump());
    assert_eq!(c.env.registry_len(), 0, "{}", run.dump());
    assert_eq!(c.env.database_files(), Vec::<String>::new());
    assert_eq!(common::db::int(&c.src, "SELECT count(*) FROM notes"), 40);
}

#[test]
fn the_readme_example_on_the_sample_database_prints_what_the_readme_shows() {
    let env = Env::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let sample = root.join("fixtures/sample.db");
    let before = file_bytes(&sample);
    let run = env
        .cmd(["db", "rehearse", "fixtures/sample.db", "fixtures/migrations/", "--down", "fixtures/down/"])
        .current_dir(root)
        .run()
        .code(1);
    assert!(file_bytes(&sample) == before, "the sample database changed");
    // Every finding, rows and schema line the README shows (timings vary).
    let start = readme.find("    Rehearsal of fixtures/sample.db").expect("the README shows a rehearsal");
    let shown: Vec<&str> = readme[start..]
        .lines()
        .take_while(|l| !l.starts_with("- **SOURCE**"))
        .map(str::trim)
        .filter(|l| ["info ", "warning ", "error ", "rows:", "schema:", "Not run:"].iter().any(|p| l.starts_with(p)))
        .collect();
    assert!(shown.len() >= 10, "{shown:?}");
    for line in shown {
        assert!(
            run.stdout.lines().any(|l| l.trim() == line),
            "README shows `{line}`, the run printed:\n{}",
            run.stdout
        );
    }
    assert_eq!(env.registry_len(), 0);
}

#[test]
fn a_subset_rehearsal_runs_on_the_rows_kept() {
    let c = Case::new();
    let m = c.file("m", "0001.sql", "UPDATE orders SET total = 0;\n");
    let doc = c.rehearse(&[m.to_str().unwrap(), "--subset", "customers:id <= 2", "--json"]).ok().json();
    // Customers 1 and 2 keep their 20 orders (order i belongs to customer i % 10 + 1).
    assert_eq!(doc["migrations"][0]["tables"]["orders"]["updated"], 20, "{doc:#}");
    assert_eq!(doc["forkMethod"], "subset");
}

#[test]
fn a_rebuild_is_found_by_what_the_file_did_not_by_root_pages_alone() {
    // In an auto-vacuum database SQLite moves root pages by itself: a DROP
    // moves the last table's root into the freed page (no row is copied),
    // and a create-copy-drop-rename can end on the old root page.
    let c = Case::new();
    c.env.db(
        "av.db",
        "PRAGMA auto_vacuum = FULL;
CREATE TABLE a(x); CREATE TABLE b(x); CREATE TABLE c(x);
INSERT INTO b VALUES (1), (2), (3); INSERT INTO c VALUES (1), (2);",
    );
    let drop = c.file("m", "0001_drop.sql", "DROP TABLE a;\n");
    let run = c.env.run(&["db", "rehearse", "./av.db", drop.to_str().unwrap(), "--json"]).ok();
    let doc = run.json();
    assert!(!codes(&doc["migrations"][0]).contains(&"table_rebuilt".to_string()), "{doc:#}");
    let rebuild = c.file(
        "r",
        "0001_rebuild.sql",
        "CREATE TABLE b_new(x, y);\nINSERT INTO b_new SELECT x, 0 FROM b;\nDROP TABLE b;\nALTER TABLE b_new RENAME TO b;\n",
    );
    let doc = c.env.run(&["db", "rehearse", "./av.db", rebuild.to_str().unwrap(), "--json"]).ok().json();
    let f = finding(&doc["migrations"][0], "table_rebuilt");
    assert_eq!(f["table"], "b", "{doc:#}");
    assert!(f["message"].as_str().unwrap().contains("3 rows"), "{f}");
    // A rebuild inside a transaction the file leaves open is rolled back:
    // nothing was rebuilt.
    let open =
        c.file("o", "0001_open.sql", "BEGIN;\nCREATE TABLE c_new(x);\nDROP TABLE c;\nALTER TABLE c_new RENAME TO c;\n");
    let doc = c.env.run(&["db", "rehearse", "./av.db", open.to_str().unwrap(), "--json"]).ok().json();
    assert!(!codes(&doc["migrations"][0]).contains(&"table_rebuilt".to_string()), "{doc:#}");
    assert_eq!(c.env.registry_len(), 0);
}

#[test]
fn the_json_document_has_exactly_the_documented_fields() {
    let c = Case::new();
    let m = c.file("m", "0001.sql", "DELETE FROM notes WHERE id = 1;\n");
    let d = c.file("d", "0001_down.sql", "INSERT INTO notes VALUES (1, 'note 1');\n");
    let doc = c.rehearse(&[m.to_str().unwrap(), "--down", d.to_str().unwrap(), "--json"]).ok().json();
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect::<Vec<_>>() };
    let sorted = |mut v: Vec<&str>| -> Vec<String> {
        v.sort();
        v.into_iter().map(String::from).collect()
    };
    assert_eq!(
        keys(&doc),
        sorted(vec![
            "source",
            "forkMethod",
            "forkMs",
            "migrations",
            "skipped",
            "down",
            "worst",
            "lockBudgetMs",
            "kept",
            "timeMs"
        ])
    );
    let file = sorted(vec![
        "file",
        "path",
        "ok",
        "error",
        "timeMs",
        "lockMs",
        "schema",
        "settings",
        "tables",
        "sizeBefore",
        "sizeAfter",
        "findings",
    ]);
    assert_eq!(keys(&doc["migrations"][0]), file);
    assert_eq!(keys(&doc["down"][0]), file, "a down file is reported as an up is");
    assert_eq!(keys(&doc["migrations"][0]["tables"]["notes"]), sorted(vec!["inserted", "deleted", "updated"]));
    assert_eq!(keys(&doc["migrations"][0]["findings"][0]), sorted(vec!["severity", "code", "table", "message"]));
    assert_eq!(doc["worst"], "warning", "{doc:#}");
}

#[test]
fn a_column_dropped_and_another_added_at_its_place_is_not_a_rename() {
    let c = Case::new();
    // legacy_code is customers' last column: the added one takes its place.
    let m = c.file(
        "m",
        "0001.sql",
        "ALTER TABLE customers DROP COLUMN legacy_code;\nALTER TABLE customers ADD COLUMN tier TEXT;\n",
    );
    let doc = c.rehearse(&[m.to_str().unwrap(), "--json"]).ok().json();
    let f = &doc["migrations"][0];
    let lost = finding(f, "non_null_dropped");
    assert!(lost["message"].as_str().unwrap().contains("legacy_code dropped with 7 non-NULL values"), "{f:#}");
    assert_eq!(doc["worst"], "warning");
    // A real rename at the same place is not a drop.
    let r = c.file("r", "0001.sql", "ALTER TABLE customers RENAME COLUMN legacy_code TO code;\n");
    let doc = c.rehearse(&[r.to_str().unwrap(), "--json"]).ok().json();
    assert!(!codes(&doc["migrations"][0]).contains(&"non_null_dropped".to_string()), "{doc:#}");
}

#[test]
fn markdown_keeps_the_notes_the_text_shows() {
    // A table that both gained and lost columns: the diff says it did not
    // compare the new columns' values, so a reviewer must not read the row
    // counts as the whole truth.
    let c = Case::new();
    let m = c.file(
        "m",
        "0001.sql",
        "ALTER TABLE customers DROP COLUMN legacy_code;\nALTER TABLE customers ADD COLUMN tier TEXT;\nALTER TABLE customers ADD COLUMN since TEXT;\nUPDATE customers SET tier = 'gold';\n",
    );
    let text = c.rehearse(&[m.to_str().unwrap()]).ok();
    let note = "table `customers` both gained and lost columns";
    assert!(text.stdout.contains(note), "{}", text.stdout);
    let md = c.rehearse(&[m.to_str().unwrap(), "--format", "markdown"]).ok();
    assert!(md.stdout.contains(note), "{}", md.stdout);
}
