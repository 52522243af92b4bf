//! End-to-end tests of safe copies of production (SPEC section 12): masked
//! and subset forks, `--mask-check` and `--strict`, bad rules. Every source
//! is built from SQL at run time; every test drives the real binary in its
//! own temporary home.

mod common;

use common::*;
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROWS: i64 = 300;

/// A shop whose customers are personal: every masked column holds values
/// that appear nowhere else, an FTS5 table indexes customers' names and
/// notes (external content, kept in sync by triggers), an index covers
/// the phone, orders reference customers by e-mail, and the source is in
/// WAL mode with rows still in its WAL.
fn personal_source(env: &Env) -> PathBuf {
    personal_source_in(env, true)
}

/// The same, in WAL mode (rows in the WAL) or with a rollback journal.
fn personal_source_in(env: &Env, wal: bool) -> PathBuf {
    let mut sql = String::from(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE customers (
           id INTEGER PRIMARY KEY,
           email TEXT NOT NULL UNIQUE COLLATE NOCASE,
           name TEXT NOT NULL,
           handle TEXT UNIQUE,
           phone TEXT UNIQUE,
           ssn TEXT,
           notes TEXT,
           card INTEGER,
           tier TEXT NOT NULL DEFAULT 'basic',
           email_domain TEXT GENERATED ALWAYS AS (substr(email, instr(email, '@') + 1)) STORED
         );
         CREATE INDEX customers_by_phone ON customers(phone);
         CREATE INDEX customers_by_name ON customers(lower(name));
         CREATE TABLE orders (
           id INTEGER PRIMARY KEY,
           customer_email TEXT NOT NULL REFERENCES customers(email),
           total INTEGER NOT NULL
         );
         CREATE VIRTUAL TABLE customer_search USING fts5(name, notes, content='customers', content_rowid='id');
         CREATE TRIGGER customers_ai AFTER INSERT ON customers BEGIN
           INSERT INTO customer_search(rowid, name, notes) VALUES (new.id, new.name, new.notes);
         END;
         BEGIN;",
    );
    for i in 0..ROWS {
        let o = original(i);
        sql.push_str(&format!(
            "INSERT INTO customers(id, email, name, handle, phone, ssn, notes, card) VALUES ({i}, '{}', '{}', '{}', '{}', '{}', '{}', {});
             INSERT INTO orders(customer_email, total) VALUES ('{}', {});",
            o.email,
            o.name,
            o.handle,
            o.phone,
            o.ssn,
            o.notes,
            o.card,
            o.email,
            i * 7
        ));
    }
    sql.push_str("COMMIT;");
    if !wal {
        sql = sql.replacen("PRAGMA journal_mode = WAL;", "", 1);
    }
    let p = env.path("prod.db");
    // Keep the rows in the WAL: the test's connection stays open while
    // sqlfork reads, so no checkpoint moves them into the main file.
    let conn = Connection::open(&p).unwrap();
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;").unwrap();
    conn.execute_batch(&sql).unwrap();
    std::mem::forget(conn);
    p
}

struct Original {
    email: String,
    name: String,
    handle: String,
    phone: String,
    ssn: String,
    notes: String,
    card: i64,
}

fn original(i: i64) -> Original {
    Original {
        email: format!("origmail{i:04}.person@corp-secret.test"),
        name: format!("Zyxname{i:04} Qvsurname{i:04}"),
        handle: format!("Zyxhandle{i:04}"),
        phone: format!("+1 (555) 7{i:02}-{:04}", 9000 + i),
        ssn: format!("987-65-{i:04}"),
        notes: format!("private note {i:04} wolframite"),
        card: 4_111_111_111_000_000 + i * 7919,
    }
}

const RULES: &str = r#"seed = "test seed, not a secret"
[tables.customers]
email = "email"
name = "name"
handle = "name"
phone = "phone"
ssn = "null"
notes = { sql = "'redacted ' || id" }
card = "hash"
tier = "keep"
[tables.orders]
customer_email = "email"
"#;

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let p = env.path(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The fork's file and whatever journal lies beside it.
fn fork_bytes(path: &Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap();
    for suffix in ["-wal", "-journal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        if let Ok(b) = std::fs::read(PathBuf::from(side)) {
            all.extend(b);
        }
    }
    all
}

/// Bytes as a string, one char per byte (Latin-1), so that the standard
/// library's fast substring search can scan binary files.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn contains(hay: &str, needle: &[u8]) -> bool {
    !needle.is_empty() && hay.contains(&latin1(needle))
}

#[test]
fn masked_fork_leaves_no_original_value_anywhere_in_its_bytes() {
    byte_scan(true);
}

#[test]
fn masked_fork_of_a_rollback_journal_source_leaves_no_original_value() {
    byte_scan(false);
}

fn byte_scan(wal: bool) {
    let env = Env::new();
    let src = personal_source_in(&env, wal);
    let rules = write(&env, "rules.toml", RULES);
    let run = env
        .run(&[
            "--json",
            "db",
            "fork",
            src.to_str().unwrap(),
            "acme/safe",
            "--with-data",
            "--mask",
            rules.to_str().unwrap(),
        ])
        .ok();
    let v = run.json();
    let safe = &v["safe"];
    assert_eq!(safe["masked"], true, "{v:#}");
    // Built from the rows, and the result says so (SPEC 4a: users see why).
    assert_eq!(v["copy"]["method"], "rows", "{v:#}");
    let want_sha = {
        use std::process::Command;
        let out = Command::new("sha256sum").arg(&rules).output().unwrap();
        String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
    };
    assert_eq!(safe["rulesSha256"], want_sha.as_str(), "{v:#}");
    let fork = PathBuf::from(s(&v, "path"));
    assert_sound(&fork);

    // The byte scan: every original value of every masked column, in every
    // form the fork could hold it (the text; FTS tokens in lower case; the
    // integer as SQLite's 8-byte big-endian record value).
    let bytes = latin1(&fork_bytes(&fork));
    // The scanner sees originals where they are: in the source's bytes.
    let source_bytes = latin1(&fork_bytes(&src));
    for needle in [original(0).email.into_bytes(), original(0).card.to_be_bytes().to_vec(), b"zyxname0000".to_vec()] {
        assert!(contains(&source_bytes, &needle), "the scan cannot find {needle:?} in the source");
    }
    let mut leaks = Vec::new();
    for i in 0..ROWS {
        let o = original(i);
        let mut needles: Vec<(String, Vec<u8>)> = vec![];
        for (what, text) in [
            ("email", o.email.clone()),
            ("email local part", o.email.split('@').next().unwrap().to_string()),
            ("email domain", "corp-secret".to_string()),
            ("name", o.name.clone()),
            ("name token", format!("zyxname{i:04}")),
            ("surname token", format!("qvsurname{i:04}")),
            ("handle", o.handle.clone()),
            ("handle lower", o.handle.to_lowercase()),
            ("phone", o.phone.clone()),
            ("phone digits", format!("7{i:02}-{:04}", 9000 + i)),
            ("ssn", o.ssn.clone()),
            ("notes", o.notes.clone()),
            ("notes token", "wolframite".to_string()),
        ] {
            needles.push((format!("{what} of row {i}"), text.into_bytes()));
        }
        needles.push((format!("card of row {i}"), o.card.to_be_bytes().to_vec()));
        for (what, n) in needles {
            if contains(&bytes, &n) {
                leaks.push(what);
            }
        }
    }
    assert!(leaks.is_empty(), "originals found in the fork's bytes: {:?}", &leaks[..leaks.len().min(10)]);

    // The source does hold them (the scan can see what it looks for).
    let src_conn = ro(&src);
    let n: i64 =
        src_conn.query_row("SELECT count(*) FROM customers WHERE email LIKE 'origmail%'", [], |r| r.get(0)).unwrap();
    assert_eq!(n, ROWS);

    // The masked fork still works: joins on the masked e-mail hold, the
    // full-text index was rebuilt from the masked names, the generated
    // column follows the masked e-mail, ssn is NULL, notes follow the
    // expression, keep kept.
    let joined = int(&fork, "SELECT count(*) FROM orders o JOIN customers c ON c.email = o.customer_email");
    assert_eq!(joined, ROWS);
    let (name, domain, ssn, notes, tier): (String, String, Option<String>, String, String) = ro(&fork)
        .query_row("SELECT name, email_domain, ssn, notes, tier FROM customers WHERE id = 7", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    assert_eq!(domain, "example.com");
    assert_eq!(ssn, None);
    assert_eq!(notes, "redacted 7");
    assert_eq!(tier, "basic");
    let first = name.split(' ').next().unwrap().to_string();
    let hits =
        int(&fork, &format!("SELECT count(*) FROM customer_search WHERE customer_search MATCH {}", sql_str(&first)));
    assert!(hits >= 1, "the FTS index does not find the masked name {name}");
    assert_eq!(int(&fork, "SELECT count(*) FROM customer_search WHERE customer_search MATCH 'wolframite'"), 0);
    // UNIQUE on masked columns held (names on a unique column are tagged).
    assert_eq!(int(&fork, "SELECT count(DISTINCT handle) FROM customers"), ROWS);
    assert_eq!(int(&fork, "SELECT count(DISTINCT phone) FROM customers"), ROWS);
    assert_eq!(int(&fork, "SELECT typeof(card) = 'integer' FROM customers WHERE id = 1"), 1);
    // The phone kept its format.
    let phone: String = scalar(&fork, "SELECT phone FROM customers WHERE id = 3");
    assert_eq!(phone.len(), original(3).phone.len());
    assert!(phone.starts_with("+") && phone.contains(" (") && phone.contains(") ") && phone.contains('-'), "{phone}");

    // db show records it.
    env.run(&["db", "show", "acme/safe"]).ok().stdout_has("masked (rules sha256 ");
}

#[test]
fn masking_is_deterministic_across_forks_and_keyed_by_the_seed() {
    let env = Env::new();
    let src = personal_source(&env);
    let rules = write(&env, "rules.toml", RULES);
    let other = write(&env, "other.toml", &RULES.replace("test seed, not a secret", "another seed"));
    let src = src.to_str().unwrap();
    for (dst, r) in [("acme/a", &rules), ("acme/b", &rules), ("acme/c", &other)] {
        env.run(&["db", "fork", src, dst, "--with-data", "--mask", r.to_str().unwrap()]).ok();
    }
    let masked = |addr: &str| {
        query(&env.db_path(addr), "SELECT id, email, name, handle, phone, card FROM customers ORDER BY id")
    };
    let (a, b, c) = (masked("acme/a"), masked("acme/b"), masked("acme/c"));
    assert_eq!(a, b, "two forks with the same seed differ");
    assert_eq!(a.len() as i64, ROWS);
    assert!(a.iter().zip(&c).all(|(x, y)| x[1] != y[1] && x[5] != y[5]), "another seed gives the same values");
}

/// people ↔ teams is a cycle (a team's lead is a person, a person is in a
/// team), people → people (mentor) is a self-cycle; tasks reference
/// people; audit references nothing.
const GRAPH: &str = "PRAGMA foreign_keys = OFF;
CREATE TABLE teams (id INTEGER PRIMARY KEY, lead_id INTEGER REFERENCES people(id), label TEXT);
CREATE TABLE people (id INTEGER PRIMARY KEY, team_id INTEGER REFERENCES teams(id), mentor_id INTEGER REFERENCES people(id), email TEXT UNIQUE);
CREATE TABLE tasks (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people(id), title TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY, line TEXT);
CREATE TABLE task_notes (task_id INTEGER NOT NULL REFERENCES tasks(id), n INTEGER NOT NULL, body TEXT, PRIMARY KEY (task_id, n)) WITHOUT ROWID;
";

fn graph_source(env: &Env) -> PathBuf {
    let mut sql = String::from(GRAPH);
    for t in 1..=10 {
        sql.push_str(&format!("INSERT INTO teams VALUES ({t}, NULL, 'team {t}');"));
    }
    for p in 1..=60 {
        let team = (p % 10) + 1;
        let mentor = if p % 3 == 0 { "NULL".to_string() } else { ((p * 7) % 60 + 1).to_string() };
        sql.push_str(&format!("INSERT INTO people VALUES ({p}, {team}, {mentor}, 'p{p}@corp.test');"));
    }
    for t in 1..=10 {
        sql.push_str(&format!("UPDATE teams SET lead_id = {} WHERE id = {t};", t * 6));
    }
    for k in 1..=200 {
        sql.push_str(&format!("INSERT INTO tasks VALUES ({k}, {}, 'task {k}');", (k * 13) % 60 + 1));
    }
    for k in 1..=25 {
        sql.push_str(&format!("INSERT INTO audit VALUES ({k}, 'line {k}');"));
    }
    for k in 1..=200 {
        sql.push_str(&format!("INSERT INTO task_notes VALUES ({k}, 1, 'note'), ({k}, 2, 'note');"));
    }
    env.db("graph.db", &sql)
}

/// The rows a subset of people must keep, worked out independently:
/// start from the seed people, follow every reference until nothing new.
fn expected_closure(src: &Path, seed: &[i64]) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let people: BTreeMap<i64, (Option<i64>, Option<i64>)> = query(src, "SELECT id, team_id, mentor_id FROM people")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), (r[1].parse().ok(), r[2].parse().ok())))
        .collect();
    let teams: BTreeMap<i64, Option<i64>> = query(src, "SELECT id, lead_id FROM teams")
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].parse().ok()))
        .collect();
    let (mut kp, mut kt): (BTreeSet<i64>, BTreeSet<i64>) = (seed.iter().copied().collect(), BTreeSet::new());
    loop {
        let before = (kp.len(), kt.len());
        for p in kp.clone() {
            let (team, mentor) = people[&p];
            kt.extend(team);
            kp.extend(mentor);
        }
        for t in kt.clone() {
            kp.extend(teams[&t]);
        }
        if (kp.len(), kt.len()) == before {
            return (kp, kt);
        }
    }
}

#[test]
fn subset_keeps_referenced_rows_through_cycles_and_drops_dangling_ones() {
    let env = Env::new();
    let src = graph_source(&env);
    let v = env
        .run(&[
            "--json",
            "db",
            "fork",
            src.to_str().unwrap(),
            "acme/small",
            "--with-data",
            "--subset",
            "people:id IN (4, 5)",
        ])
        .ok()
        .json();
    let fork = PathBuf::from(s(&v, "path"));
    assert_sound(&fork);
    assert!(query(&fork, "PRAGMA foreign_key_check").is_empty());
    let (kp, kt) = expected_closure(&src, &[4, 5]);
    assert!(kp.len() > 2 && kp.len() < 60, "the closure should be a real subset: {kp:?}");
    let got_people: BTreeSet<i64> =
        query(&fork, "SELECT id FROM people").into_iter().map(|r| r[0].parse().unwrap()).collect();
    let got_teams: BTreeSet<i64> =
        query(&fork, "SELECT id FROM teams").into_iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(got_people, kp);
    // Teams is not named: it keeps every row that references no removed
    // person (a team whose lead is gone is removed).
    let leads_kept: BTreeSet<i64> = query(&src, "SELECT id, lead_id FROM teams")
        .into_iter()
        .filter(|r| kp.contains(&r[1].parse().unwrap()))
        .map(|r| r[0].parse().unwrap())
        .collect();
    assert!(kt.is_subset(&got_teams));
    assert_eq!(got_teams, leads_kept);
    // Tasks of removed people are gone, tasks of kept people all there;
    // the unrelated audit table is whole.
    let kept_list = kp.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
    let expect_tasks = int(&src, &format!("SELECT count(*) FROM tasks WHERE person_id IN ({kept_list})"));
    assert_eq!(int(&fork, "SELECT count(*) FROM tasks"), expect_tasks);
    // Two levels down (a note on a task of a removed person): removed too.
    assert_eq!(int(&fork, "SELECT count(*) FROM task_notes"), 2 * expect_tasks);
    assert_eq!(int(&fork, "SELECT count(*) FROM audit"), 25);
    // The result reports rows kept per table.
    let kept = &v["safe"]["rowsKept"];
    assert_eq!(kept["people"], kp.len() as i64, "{v:#}");
    assert_eq!(kept["tasks"], expect_tasks, "{v:#}");
    assert_eq!(kept["audit"], 25, "{v:#}");
    assert_eq!(v["safe"]["subset"][0], "people:id IN (4, 5)");
}

#[test]
fn subset_and_mask_together_keep_unique_and_foreign_keys() {
    let env = Env::new();
    let src = graph_source(&env);
    let rules = write(
        &env,
        "rules.toml",
        "seed = \"s\"\n[tables.people]\nemail = \"email\"\n[tables.teams]\nlabel = { fixed = \"a team\" }\n",
    );
    let v = env
        .run(&[
            "--json",
            "db",
            "fork",
            src.to_str().unwrap(),
            "acme/both",
            "--with-data",
            "--mask",
            rules.to_str().unwrap(),
            "--subset",
            "people:id <= 3",
        ])
        .ok()
        .json();
    let fork = PathBuf::from(s(&v, "path"));
    assert_sound(&fork);
    assert_eq!(v["safe"]["masked"], true);
    assert_eq!(int(&fork, "SELECT count(*) FROM people WHERE email LIKE '%@corp.test'"), 0);
    assert_eq!(int(&fork, "SELECT count(*) FROM people"), int(&fork, "SELECT count(DISTINCT email) FROM people"));
    assert_eq!(int(&fork, "SELECT count(*) FROM teams WHERE label <> 'a team'"), 0);
}

#[test]
fn bad_rules_exit_2_naming_the_rule_before_anything_is_written() {
    let env = Env::new();
    let src = personal_source(&env);
    let src = src.to_str().unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        ("seed = \"s\"\n[tables.clients]\nemail = \"email\"\n", "tables.clients", &[]),
        ("seed = \"s\"\n[tables.customers]\nmail = \"email\"\n", "tables.customers.mail", &[]),
        ("seed = \"s\"\n[tables.customers]\nemail = \"scramble\"\n", "tables.customers.email", &[]),
        ("seed = \"s\"\n[tables.customers]\nnotes = { sql = \"'x' ||| id\" }\n", "tables.customers.notes", &[]),
        (
            "seed = \"s\"\n[tables.customers]\nnotes = { sql = \"json_extract(notes, '$.a')\" }\n",
            "tables.customers.notes",
            &[],
        ),
        ("seed = \"s\"\n[tables.customers]\nemail = \"null\"\n", "tables.customers.email", &[]),
        ("[tables.customers]\nemail = \"email\"\n", "seed", &[]),
        ("seed = \"s\"\n[tables.customers]\nhandle = { sql = \"'same'\" }\n", "tables.customers.handle", &[]),
        ("seed = \"s\"\n[tables.customers]\nhandle = { fixed = \"x\" }\n", "tables.customers.handle", &[]),
        // orders.customer_email references customers.email: masked alike or not at all.
        ("seed = \"s\"\n[tables.customers]\nemail = \"email\"\n", "orders.customer_email", &[]),
        ("seed = \"s\"\n", "customers:", &["--subset", "customers:id >>> 3"]),
        ("seed = \"s\"\n", "nosuch", &["--subset", "nosuch:id > 3"]),
    ];
    for (i, (rules, names, extra)) in cases.iter().enumerate() {
        let r = write(&env, &format!("bad{i}.toml"), rules);
        let mut args = vec!["db", "fork", src, "acme/bad", "--with-data", "--mask", r.to_str().unwrap()];
        args.extend_from_slice(extra);
        env.run(&args).code(2).one_line_error().stderr_has(names);
        assert!(env.addresses().is_empty(), "case {i}: an entry was written");
        assert!(env.database_files().is_empty(), "case {i}: a file was written: {:?}", env.database_files());
    }
    // A subset without --with-data is a usage error too.
    env.run(&["db", "fork", src, "acme/bad", "--subset", "customers:id < 3"]).code(2).one_line_error();
}

#[test]
fn mask_check_lists_personal_columns_and_strict_refuses() {
    let env = Env::new();
    let src = env.db(
        "p.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, contact TEXT, last_ip TEXT, total INTEGER, api_token TEXT);
         INSERT INTO users VALUES (1, 'a@x.test', 'Ada L', 'ada@corp.test', '10.0.0.1', 5, 'tok'),
                                  (2, 'b@x.test', 'Bo K', 'bo@corp.test', '10.0.0.2', 7, 'tok2');
         CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, origin TEXT);
         INSERT INTO notes VALUES (1, 'hello', '192.168.1.20'), (2, 'there', '192.168.1.21');",
    );
    let src = src.to_str().unwrap();
    let rules = write(&env, "r.toml", "seed = \"s\"\n[tables.users]\nemail = \"email\"\ntotal = \"keep\"\n");
    let v = env
        .run(&["--json", "db", "fork", src, "acme/x", "--with-data", "--mask", rules.to_str().unwrap(), "--mask-check"])
        .ok()
        .json();
    let found: BTreeSet<String> =
        v["unruled"].as_array().unwrap().iter().map(|f| format!("{}.{}", s(f, "table"), s(f, "column"))).collect();
    let want: BTreeSet<String> =
        ["users.full_name", "users.contact", "users.last_ip", "users.api_token", "notes.origin"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    assert_eq!(found, want, "{v:#}");
    assert!(env.addresses().is_empty(), "--mask-check forked something");

    env.run(&["db", "fork", src, "acme/x", "--with-data", "--mask", rules.to_str().unwrap(), "--strict"])
        .code(2)
        .one_line_error()
        .stderr_has("users.contact");
    assert!(env.addresses().is_empty());

    let full = write(
        &env,
        "full.toml",
        "seed = \"s\"\n[tables.users]\nemail = \"email\"\nfull_name = \"name\"\ncontact = \"email\"\nlast_ip = \"hash\"\ntotal = \"keep\"\napi_token = \"null\"\n[tables.notes]\norigin = \"hash\"\n",
    );
    env.run(&["db", "fork", src, "acme/x", "--with-data", "--mask", full.to_str().unwrap(), "--strict"]).ok();
}

#[test]
fn branch_put_and_config_remember_the_mask() {
    let env = Env::new();
    let src = personal_source(&env);
    let rules = write(&env, "rules.toml", RULES);
    env.run(&["db", "fork", src.to_str().unwrap(), "acme/prod", "--with-data"]).ok();
    // branch put --mask, then a put without flags resets it masked again.
    env.run(&["branch", "put", "acme/prod@ci", "--with-data", "--mask", rules.to_str().unwrap()]).ok();
    for _ in 0..2 {
        let p = env.db_path("acme/prod@ci");
        assert_eq!(int(&p, "SELECT count(*) FROM customers WHERE email LIKE 'origmail%'"), 0);
        assert_eq!(int(&p, "SELECT count(*) FROM customers"), ROWS);
        env.run(&["branch", "put", "acme/prod@ci"]).ok();
    }
    let v = env.run(&["--json", "db", "show", "acme/prod@ci"]).ok().json();
    assert_eq!(v["safe"]["masked"], true, "{v:#}");
    // mask = "FILE" in config.toml masks every data fork.
    std::fs::create_dir_all(&env.home).unwrap();
    std::fs::copy(&rules, env.home.join("rules.toml")).unwrap();
    env.config("mask = \"rules.toml\"\n");
    env.run(&["db", "fork", "acme/prod", "acme/cfg", "--with-data"]).ok();
    assert_eq!(int(&env.db_path("acme/cfg"), "SELECT count(*) FROM customers WHERE email LIKE 'origmail%'"), 0);
    // A schema-only fork has no rows to mask: the config's rules do not apply.
    env.run(&["db", "fork", "acme/prod", "acme/cfg-schema"]).ok();
    // Rules that are not there: exit 2 naming the file, nothing written.
    env.config("mask = \"missing.toml\"\n");
    let before = env.addresses();
    env.run(&["db", "fork", "acme/prod", "acme/cfg2", "--with-data"])
        .code(2)
        .one_line_error()
        .stderr_has("missing.toml");
    assert_eq!(env.addresses(), before);
}

#[test]
fn masked_integer_keys_page_and_join_like_the_source() {
    // Small pages (rows_per_page = 7): the copy pages by the source's rowid
    // both when the fork keeps it and when the key itself is masked.
    let env = Env::new();
    env.config("rows_per_page = 7\n");
    let mut sql = String::from(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT);
         CREATE TABLE events (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts(id), kind TEXT);",
    );
    for i in 1..=50 {
        sql.push_str(&format!("INSERT INTO accounts VALUES ({i}, 'owner{i}');"));
    }
    for k in 1..=120 {
        sql.push_str(&format!("INSERT INTO events VALUES ({k}, {}, 'kind{}');", k % 50 + 1, k % 3));
    }
    let src = env.db("keys.db", &sql);
    let rules = write(
        &env,
        "r.toml",
        "seed = \"k\"\n[tables.accounts]\nid = \"hash\"\nowner = \"name\"\n[tables.events]\naccount_id = \"hash\"\n",
    );
    let src_s = src.to_str().unwrap();
    env.run(&["db", "fork", src_s, "acme/keys", "--with-data", "--mask", rules.to_str().unwrap()]).ok();
    let fork = env.db_path("acme/keys");
    assert_sound(&fork);
    assert_eq!(int(&fork, "SELECT count(*) FROM accounts"), 50);
    assert_eq!(int(&fork, "SELECT count(*) FROM events"), 120);
    assert_eq!(int(&fork, "SELECT count(*) FROM accounts WHERE id BETWEEN 1 AND 50"), 0, "ids were not masked");
    // Every event still finds its account, and per-account counts are the source's.
    let per = |p: &Path| {
        let mut v: Vec<i64> =
            query(p, "SELECT count(*) FROM events e JOIN accounts a ON a.id = e.account_id GROUP BY a.id")
                .into_iter()
                .map(|r| r[0].parse().unwrap())
                .collect();
        v.sort();
        v
    };
    assert_eq!(per(&fork), per(&src));
    // A subset over the masked key, paged too.
    env.run(&[
        "db",
        "fork",
        src_s,
        "acme/keys-sub",
        "--with-data",
        "--mask",
        rules.to_str().unwrap(),
        "--subset",
        "events:id <= 30",
    ])
    .ok();
    let sub = env.db_path("acme/keys-sub");
    assert_sound(&sub);
    assert_eq!(int(&sub, "SELECT count(*) FROM events"), 30);
    assert_eq!(int(&sub, "SELECT count(*) FROM accounts"), 50, "accounts is not named: it keeps every row");
}

#[test]
fn ctrl_c_removes_a_masked_fork_it_cannot_resume() {
    let env = Env::new();
    env.config("rows_per_page = 5\n");
    let src = personal_source(&env);
    let rules = write(&env, "rules.toml", RULES);
    let mut child = env
        .cmd(["db", "fork", src.to_str().unwrap(), "acme/stop", "--with-data", "--mask", rules.to_str().unwrap()])
        .env("SQLFORK_TEST_DELAY_MS", "100")
        .spawn();
    wait_until("the masked copy to be under way", std::time::Duration::from_secs(20), || {
        env.run(&["db", "show", "acme/stop", "--json"]).code == 0
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.signal(libc::SIGINT), "the copy ended before Ctrl-C");
    let run = child.finish();
    assert_ne!(run.code, 0, "{}", run.dump());
    assert!(run.stderr.contains("cannot be resumed"), "{}", run.dump());
    assert!(env.addresses().is_empty(), "the partial fork is still registered");
    assert!(env.database_files().is_empty(), "files left: {:?}", env.database_files());
}

/// Random graphs with cycles (a: self and mutual references with b; c
/// references a and c), one named table: the fork keeps exactly what the
/// definition says, worked out here independently.
#[test]
fn random_subsets_keep_exactly_what_the_definition_says() {
    let mut rng = Rng::new("random_subsets_keep_exactly_what_the_definition_says");
    for round in 0..4 {
        let env = Env::new();
        let n = 40i64;
        let r = |rng: &mut Rng| if rng.chance(0.25) { None } else { Some(rng.below(n as u64) as i64 + 1) };
        let mut a = BTreeMap::new();
        let mut b = BTreeMap::new();
        let mut c = BTreeMap::new();
        for i in 1..=n {
            a.insert(i, (r(&mut rng), r(&mut rng))); // (a_id, b_id)
            b.insert(i, r(&mut rng)); // a_id
            c.insert(i, (r(&mut rng), r(&mut rng))); // (a_id, c_id)
        }
        let lit = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "NULL".into());
        let mut sql = String::from(
            "PRAGMA foreign_keys = OFF;
             CREATE TABLE a (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), b_id INTEGER REFERENCES b(id));
             CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));
             CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), c_id INTEGER REFERENCES c(id));",
        );
        for i in 1..=n {
            sql.push_str(&format!("INSERT INTO a VALUES ({i}, {}, {});", lit(a[&i].0), lit(a[&i].1)));
            sql.push_str(&format!("INSERT INTO b VALUES ({i}, {});", lit(b[&i])));
            sql.push_str(&format!("INSERT INTO c VALUES ({i}, {}, {});", lit(c[&i].0), lit(c[&i].1)));
        }
        let src = env.db("g.db", &sql);
        let m = 2 + round as i64;
        let filter = format!("a:id % {m} = 0");
        env.run(&["db", "fork", src.to_str().unwrap(), "acme/g", "--with-data", "--subset", &filter]).ok();
        let fork = env.db_path("acme/g");
        assert_sound(&fork);

        // 1–2: seeds and everything they reference, transitively.
        let (mut ka, mut kb, mut kc): (BTreeSet<i64>, BTreeSet<i64>, BTreeSet<i64>) =
            ((1..=n).filter(|i| i % m == 0).collect(), BTreeSet::new(), BTreeSet::new());
        loop {
            let before = (ka.len(), kb.len(), kc.len());
            for i in ka.clone() {
                ka.extend(a[&i].0);
                kb.extend(a[&i].1);
            }
            for i in kb.clone() {
                ka.extend(b[&i]);
            }
            for i in kc.clone() {
                ka.extend(c[&i].0);
                kc.extend(c[&i].1);
            }
            if (ka.len(), kb.len(), kc.len()) == before {
                break;
            }
        }
        // 3: b and c are not named: all rows but those that reference a
        // row not kept, transitively.
        let mut rb: BTreeSet<i64> = (1..=n).collect();
        let mut rc: BTreeSet<i64> = (1..=n).collect();
        loop {
            let before = (rb.len(), rc.len());
            rb.retain(|i| b[i].is_none_or(|p| ka.contains(&p)));
            let (ka2, rc2) = (ka.clone(), rc.clone());
            rc.retain(|i| c[i].0.is_none_or(|p| ka2.contains(&p)) && c[i].1.is_none_or(|p| rc2.contains(&p)));
            if (rb.len(), rc.len()) == before {
                break;
            }
        }
        // a keeps its closure; a row of a that references a b row removed
        // cannot be in the closure (the closure keeps what it references).
        let ids = |t: &str| -> BTreeSet<i64> {
            query(&fork, &format!("SELECT id FROM {t}")).into_iter().map(|r| r[0].parse().unwrap()).collect()
        };
        assert_eq!(ids("a"), ka, "round {round}: table a");
        assert_eq!(ids("b"), rb, "round {round}: table b");
        assert_eq!(ids("c"), rc, "round {round}: table c");
    }
}

#[test]
fn db_reset_masks_again_from_the_parent_and_restores_its_own_snapshot_as_it_was() {
    let env = Env::new();
    let src = personal_source(&env);
    let rules = write(&env, "rules.toml", RULES);
    env.run(&["db", "fork", src.to_str().unwrap(), "acme/prod", "--with-data"]).ok();
    env.run(&["db", "fork", "acme/prod", "acme/dev", "--with-data", "--mask", rules.to_str().unwrap()]).ok();
    let dev = env.db_path("acme/dev");
    let masked = |p: &Path| query(p, "SELECT id, email, name, phone FROM customers ORDER BY id");
    let first = masked(&dev);
    assert_eq!(int(&dev, "SELECT count(*) FROM customers WHERE email LIKE 'origmail%'"), 0);
    // A snapshot of the masked fork, then a change.
    env.run(&["snapshot", "create", "acme/dev:clean"]).ok();
    exec(&dev, "DELETE FROM orders; DELETE FROM customers WHERE id < 10;");
    // Back to its own snapshot: restored as it was, not masked twice.
    env.run(&["db", "reset", "acme/dev", "--to", "clean"]).ok();
    assert_eq!(masked(&dev), first);
    // Back to the parent without flags: masked again with the same rules,
    // so the same values; the record stays.
    exec(&dev, "DELETE FROM orders;");
    let v = env.run(&["--json", "db", "reset", "acme/dev"]).ok().json();
    assert_eq!(v["safe"]["masked"], true, "{v:#}");
    assert_eq!(masked(&dev), first);
    assert_eq!(int(&dev, "SELECT count(*) FROM orders"), ROWS);
    // A reset with a subset: kept rows only, foreign keys whole.
    env.run(&["db", "reset", "acme/dev", "--mask", rules.to_str().unwrap(), "--subset", "customers:id < 5"]).ok();
    assert_eq!(int(&dev, "SELECT count(*) FROM customers"), 5);
    assert_eq!(int(&dev, "SELECT count(*) FROM orders"), 5);
    assert_eq!(int(&dev, "SELECT count(*) FROM customers WHERE email LIKE 'origmail%'"), 0);
    assert_sound(&dev);
}

/// Full-text tables that store their own content (FTS5 `n`, FTS4 `s4`):
/// masked by naming the virtual table's columns, they are filled through
/// the module from masked values, so no original reaches their index.
#[test]
fn full_text_tables_with_their_own_content_are_masked_in_their_index_too() {
    let env = Env::new();
    let src = env.db(
        "fts.db",
        "CREATE VIRTUAL TABLE n USING fts5(email, note);
         INSERT INTO n(rowid, email, note) VALUES (7, 'Quentinzap@corp.io', 'plain words'), (42, 'Ulrikvex@corp.io', 'more words');
         CREATE VIRTUAL TABLE s4 USING fts4(email);
         INSERT INTO s4(docid, email) VALUES (9, 'Quentinzap@corp.io'), (11, 'Ulrikvex@corp.io');",
    );
    let src = src.to_str().unwrap();

    // --mask-check names the virtual tables' columns, not their shadow tables'.
    let v = env.run(&["--json", "db", "fork", src, "acme/x", "--with-data", "--mask-check"]).ok().json();
    let found: BTreeSet<String> =
        v["unruled"].as_array().unwrap().iter().map(|f| format!("{}.{}", s(f, "table"), s(f, "column"))).collect();
    assert!(found.contains("n.email") && found.contains("s4.email"), "{v:#}");
    assert!(!found.iter().any(|f| f.contains("_content")), "{v:#}");

    let rules =
        write(&env, "fts.toml", "seed = \"s\"\n[tables.n]\nemail = \"email\"\n[tables.s4]\nemail = \"email\"\n");
    let v = env
        .run(&["--json", "db", "fork", src, "acme/fts", "--with-data", "--mask", rules.to_str().unwrap()])
        .ok()
        .json();
    let fork = PathBuf::from(s(&v, "path"));
    let bytes = latin1(&fork_bytes(&fork)).to_ascii_lowercase();
    assert!(contains(&latin1(&fork_bytes(Path::new(src))).to_ascii_lowercase(), b"quentinzap"));
    for original in ["quentinzap", "ulrikvex"] {
        assert!(!contains(&bytes, original.as_bytes()), "the fork's bytes hold `{original}`");
    }
    let conn = Connection::open(&fork).unwrap();
    for (t, rowid) in [("n", 7), ("s4", 9)] {
        conn.execute_batch(&format!("INSERT INTO {t}({t}) VALUES('integrity-check')"))
            .unwrap_or_else(|e| panic!("{t}: the full-text index is not sound: {e}"));
        let masked: String =
            conn.query_row(&format!("SELECT email FROM {t} WHERE rowid = {rowid}"), [], |r| r.get(0)).unwrap();
        assert_ne!(masked, "Quentinzap@corp.io");
        let token: String = masked.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        assert!(!token.is_empty(), "{masked}");
        let hits = |q: &str| -> Vec<i64> {
            let sql = format!("SELECT rowid FROM {t} WHERE {t} MATCH ?1");
            let mut stmt = conn.prepare(&sql).unwrap();
            stmt.query_map([q], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert!(hits(&format!("\"{token}\"")).contains(&rowid), "{t}: MATCH does not find the masked `{token}`");
        assert!(hits("quentinzap").is_empty(), "{t}: MATCH finds the original");
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2);
    }
    let note: String = conn.query_row("SELECT note FROM n WHERE rowid = 42", [], |r| r.get(0)).unwrap();
    assert_eq!(note, "more words", "an unmasked column is kept");
    drop(conn);

    // A rule on a shadow table is refused, pointing at the virtual table's column.
    let env = Env::new();
    let src = env.db(
        "fts.db",
        "CREATE VIRTUAL TABLE n USING fts5(email); INSERT INTO n VALUES ('Quentinzap@corp.io');
         CREATE VIRTUAL TABLE s4 USING fts4(email); INSERT INTO s4 VALUES ('Quentinzap@corp.io');",
    );
    let src = src.to_str().unwrap();
    for (i, (rules, names)) in [
        ("seed = \"s\"\n[tables.n_content]\nc0 = \"email\"\n", "mask n.email instead"),
        ("seed = \"s\"\n[tables.s4_content]\nc0email = \"email\"\n", "mask s4.email instead"),
        ("seed = \"s\"\n[tables.n_data]\nblock = \"hash\"\n", "mask n.email instead"),
    ]
    .iter()
    .enumerate()
    {
        let r = write(&env, &format!("shadow{i}.toml"), rules);
        env.run(&["db", "fork", src, "acme/bad", "--with-data", "--mask", r.to_str().unwrap()])
            .code(2)
            .one_line_error()
            .stderr_has(names);
        assert!(env.addresses().is_empty(), "case {i}: an entry was written");
        assert!(env.database_files().is_empty(), "case {i}: a file was written: {:?}", env.database_files());
    }
}
