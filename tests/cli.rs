//! End-to-end tests: the real `sqlfork` binary, each test in its own
//! temporary home (see tests/common). Databases are built from SQL at run
//! time; nothing touches the network.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Create a database file at `name` whose sqlite_master holds `sql_from`
/// rewritten to `sql_to` (through writable_schema), to build sources that
/// need a collation or function only some application defines.
fn db_with_rewritten_schema(env: &Env, name: &str, setup: &str, object: &str, from: &str, to: &str) -> PathBuf {
    let p = env.db(name, setup);
    let n =
        rewrite_master(&p, "UPDATE sqlite_master SET sql = replace(sql, ?1, ?2) WHERE name = ?3", &[from, to, object]);
    assert_eq!(n, 1, "rewrote {object}");
    p
}

// ===========================================================================
// Addresses

#[test]
fn every_address_rule_is_exit_2_with_one_line_naming_it() {
    let env = Env::new();
    let long = "a".repeat(64);
    let cases: Vec<(String, &str)> = vec![
        ("acme".into(), "NAMESPACE/SLUG"),
        ("/orders".into(), "namespace is empty"),
        ("acme/".into(), "slug is empty"),
        (format!("{long}/orders"), "limit is 63"),
        (format!("acme/{long}"), "limit is 63"),
        ("Acme/orders".into(), "lowercase letters a-z, digits 0-9 and '-'"),
        ("acme/Orders".into(), "lowercase letters a-z, digits 0-9 and '-'"),
        ("acme/or_ders".into(), "'_'"),
        ("acme/or.ders".into(), "'.'"),
        ("acme/or ders".into(), "' '"),
        ("acme/or/ders".into(), "'/'"),
        ("acme/ördérs".into(), "'ö'"),
        ("-acme/orders".into(), "must not start or end with '-'"),
        ("acme-/orders".into(), "must not start or end with '-'"),
        ("acme/-orders".into(), "must not start or end with '-'"),
        ("acme/orders-".into(), "must not start or end with '-'"),
    ];
    for (addr, rule) in &cases {
        // `--` so that a leading '-' reaches sqlfork rather than clap.
        for cmd in [vec!["db", "create", "--", addr.as_str()], vec!["db", "show", "--", addr.as_str()]] {
            env.run(&cmd).code(2).one_line_error().stderr_has(rule);
        }
    }
    // The same rules for a bare fork destination, and for `db list NS`.
    let src = env.db("src.db", ORDERS_SQL);
    for (dst, rule) in [
        ("Pr-1", "lowercase"),
        ("pr_1", "'_'"),
        ("-pr", "start or end"),
        ("pr-", "start or end"),
        (long.as_str(), "limit is 63"),
    ] {
        env.run(&["db", "fork", src.to_str().unwrap(), "--", dst]).code(2).one_line_error().stderr_has(rule);
    }
    env.run(&["db", "list", "--", "-acme"]).code(2).one_line_error().stderr_has("start or end");
    env.run(&["db", "list", "Acme"]).code(2).one_line_error().stderr_has("lowercase");
    assert_eq!(env.registry_len(), 0, "nothing registered by a bad address");
    assert!(env.database_files().is_empty());
}

#[test]
fn address_length_boundaries_are_1_and_63() {
    let env = Env::new();
    let ns63 = "n".repeat(63);
    let slug63 = "s".repeat(63);
    env.run(&["db", "create", &format!("{ns63}/{slug63}")]).ok();
    env.run(&["db", "create", "a/b"]).ok();
    env.run(&["db", "create", "0-9/a-b-c"]).ok();
    assert_eq!(env.registry_len(), 3);
    env.run(&["db", "path", &format!("{ns63}/{slug63}")]).ok();
}

#[test]
fn bare_destination_lands_in_the_source_namespace() {
    let env = Env::new();
    env.with_orders();
    // A configured default namespace is for path sources only.
    env.config("default_namespace = \"team\"\n");
    let out = env.run(&["db", "fork", "acme/orders", "pr-1", "--json"]).ok().json();
    assert_eq!(s(&out, "address"), "acme/pr-1");
    assert_eq!(s(&out, "namespace"), "acme");
    env.run(&["db", "show", "acme/pr-1"]).ok();
    env.run(&["db", "show", "team/pr-1"]).code(3);
    env.run(&["db", "show", "local/pr-1"]).code(3);
}

#[test]
fn destination_may_name_another_namespace() {
    let env = Env::new();
    env.with_orders();
    let out = env.run(&["db", "fork", "acme/orders", "other/pr-1", "--json"]).ok().json();
    assert_eq!(s(&out, "address"), "other/pr-1");
    env.run(&["db", "show", "other/pr-1"]).ok();
    env.run(&["db", "show", "acme/pr-1"]).code(3);
    let listed = env.run(&["db", "list", "other", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn path_sources_go_to_local_and_record_the_absolute_path() {
    let env = Env::new();
    std::fs::create_dir(env.path("sub")).unwrap();
    let file = env.db("sub/a.db", ORDERS_SQL);
    let canon = std::fs::canonicalize(&file).unwrap();
    env.db("b.sqlite", ORDERS_SQL);
    env.db("c.sqlite3", ORDERS_SQL);
    env.db("noext", ORDERS_SQL);
    // The harness runs in the temp dir, with HOME set to it.
    let forms: Vec<(String, &str, PathBuf)> = vec![
        ("./sub/a.db".into(), "p-dot", canon.clone()),
        (canon.display().to_string(), "p-abs", canon.clone()),
        ("sub/a.db".into(), "p-ext", canon.clone()),
        ("b.sqlite".into(), "p-sqlite", std::fs::canonicalize(env.path("b.sqlite")).unwrap()),
        ("c.sqlite3".into(), "p-sqlite3", std::fs::canonicalize(env.path("c.sqlite3")).unwrap()),
        ("~/noext".into(), "p-tilde", std::fs::canonicalize(env.path("noext")).unwrap()),
        ("./sub/../noext".into(), "p-dotdot", std::fs::canonicalize(env.path("noext")).unwrap()),
    ];
    for (src, dst, abs) in &forms {
        let out = env.run(&["db", "fork", src, dst, "--json"]).ok().json();
        assert_eq!(s(&out, "address"), format!("local/{dst}"), "fork {src}");
        assert_eq!(out["forkedFrom"]["path"].as_str(), Some(abs.to_str().unwrap()), "fork {src}: {out:#}");
        let shown = env.run(&["db", "show", &format!("local/{dst}"), "--json"]).ok().json();
        assert_eq!(shown["forkedFrom"]["path"].as_str(), Some(abs.to_str().unwrap()));
        let entry = env.entry(&s(&out, "id"));
        assert_eq!(entry["forked_from"].as_str(), Some(abs.to_str().unwrap()), "registry records the path");
        assert!(Path::new(entry["forked_from"].as_str().unwrap()).is_absolute());
    }
    // `../` from a sub directory.
    let out =
        env.cmd(["db", "fork", "../b.sqlite", "p-parent", "--json"]).current_dir(env.path("sub")).run().ok().json();
    assert_eq!(out["forkedFrom"]["path"].as_str(), std::fs::canonicalize(env.path("b.sqlite")).unwrap().to_str());
    // A bare name without a database extension is an address, not a path.
    env.run(&["db", "fork", "noext", "x"]).code(2).one_line_error().stderr_has("NAMESPACE/SLUG");
}

#[test]
fn path_source_uses_config_default_namespace() {
    let env = Env::new();
    env.config("default_namespace = \"team\"\n");
    let src = env.db("src.db", ORDERS_SQL);
    let out = env.run(&["db", "fork", src.to_str().unwrap(), "pr-1", "--json"]).ok().json();
    assert_eq!(s(&out, "address"), "team/pr-1");
    // An explicit namespace still wins.
    let out = env.run(&["db", "fork", "./src.db", "mine/pr-1", "--json"]).ok().json();
    assert_eq!(s(&out, "address"), "mine/pr-1");
}

// ===========================================================================
// Home, files, config

#[test]
fn home_flag_beats_sqlfork_home() {
    let env = Env::new();
    let other = env.path("flag-home");
    env.run(&["--home", other.to_str().unwrap(), "db", "create", "acme/a"]).ok();
    assert!(other.join("registry.sqlite").is_file(), "--home is used");
    assert!(!env.home.exists(), "SQLFORK_HOME is ignored when --home is given");
    // And the flag works after the subcommand too (it is global).
    env.run(&["db", "show", "acme/a", "--home", other.to_str().unwrap()]).ok();
    env.run(&["db", "show", "acme/a"]).code(3);
    // Without the flag, SQLFORK_HOME is used.
    env.run(&["db", "create", "acme/b"]).ok();
    assert!(env.home.join("registry.sqlite").is_file());
    // A relative --home is resolved against the working directory.
    env.run(&["--home", "rel-home", "db", "create", "acme/c"]).ok();
    assert!(env.path("rel-home").join("registry.sqlite").is_file());
    let p = env.run(&["--home", "rel-home", "db", "path", "acme/c"]).ok().stdout;
    assert!(Path::new(p.trim()).is_absolute(), "{p}");
}

#[test]
fn home_is_0700_and_files_0600_even_with_umask_0() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    // Run through sh to set a permissive umask: modes must not depend on it.
    let nested = env.path("deep/er/home");
    for args in [
        format!("db create acme/a --home {}", nested.display()),
        format!("db fork {} acme/b --home {}", src.display(), nested.display()),
    ] {
        env.sh(&format!("umask 000; exec \"$SQLFORK\" {args}")).run().ok();
    }
    assert_eq!(mode(&nested), 0o700, "home");
    assert_eq!(mode(&nested.join("databases")), 0o700, "home/databases");
    assert_eq!(mode(&nested.join("registry.sqlite")), 0o600, "registry.sqlite");
    assert_eq!(mode(&nested.join("registry.sqlite-wal")), 0o600, "registry.sqlite-wal");
    assert_eq!(mode(&nested.join("claims")), 0o700, "home/claims");
    let files: Vec<_> = std::fs::read_dir(nested.join("databases")).unwrap().map(|e| e.unwrap().path()).collect();
    let dbs: Vec<_> = files.iter().filter(|p| p.extension().is_some_and(|e| e == "sqlite")).collect();
    assert_eq!(dbs.len(), 2, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}

#[test]
fn database_files_are_named_by_id_not_slug() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    let a = env.run(&["db", "create", "acme/orders-slug", "--json"]).ok().json();
    let b = env.run(&["db", "fork", src.to_str().unwrap(), "acme/fork-slug", "--json"]).ok().json();
    for v in [&a, &b] {
        let id = s(v, "id");
        let path = PathBuf::from(s(v, "path"));
        assert_eq!(path, env.home.join("databases").join(format!("{id}.sqlite")));
        assert!(path.is_file());
        assert!(!path.to_string_lossy().contains("slug"), "{}", path.display());
    }
    assert_ne!(s(&a, "id"), s(&b, "id"));
    for f in env.database_files() {
        assert!(!f.contains("slug") && !f.contains("acme"), "file named after the address: {f}");
    }
}

#[test]
fn config_unknown_key_is_exit_2_naming_the_key() {
    let env = Env::new();
    env.config("default_namespace = \"team\"\ncolour = true\n");
    let src = env.db("src.db", ORDERS_SQL);
    let before = env.snapshot();
    env.run(&["db", "fork", src.to_str().unwrap(), "x"]).code(2).one_line_error().stderr_has("colour");
    env.run(&["db", "create", "acme/x"]).code(2).one_line_error().stderr_has("colour");
    env.run(&["db", "create", "acme/x", "--json"]).code(2).one_line_error().stderr_has("config.toml");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn config_bad_values_are_rejected() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    for (text, needle) in [
        ("default_ttl = \"5m\"\n", "default_ttl"),
        ("default_ttl = \"31d\"\n", "30 days"),
        ("default_ttl = \"soon\"\n", "default_ttl"),
        ("default_ttl = 7\n", "default_ttl"),
        ("default_namespace = \"Team\"\n", "default_namespace"),
        ("default_namespace = \n", "config.toml"),
    ] {
        env.config(text);
        let before = env.snapshot();
        env.run(&["db", "fork", src.to_str().unwrap(), "x"]).code(2).one_line_error().stderr_has(needle);
        env.run(&["db", "create", "acme/x"]).code(2).one_line_error().stderr_has(needle);
        assert_eq!(env.snapshot(), before, "{text}");
    }
}

#[test]
fn config_default_ttl_applies_unless_ttl_is_given() {
    let env = Env::new();
    env.config("default_ttl = \"7d\"\n");
    let src = env.db("src.db", ORDERS_SQL);
    let a = env.cmd(["db", "create", "acme/a", "--json"]).now(T0).run().ok().json();
    assert_eq!(s(&a, "expiresAt"), "2026-01-08T00:00:00Z");
    let b = env.cmd(["db", "fork", src.to_str().unwrap(), "acme/b", "--json"]).now(T0).run().ok().json();
    assert_eq!(s(&b, "expiresAt"), "2026-01-08T00:00:00Z");
    let c = env.cmd(["db", "create", "acme/c", "--ttl", "12h", "--json"]).now(T0).run().ok().json();
    assert_eq!(s(&c, "expiresAt"), "2026-01-01T12:00:00Z");
}

// ===========================================================================
// Each command

#[test]
fn create_makes_an_owned_empty_sqlite_database() {
    let env = Env::new();
    let out =
        env.cmd(["db", "create", "acme/new", "--name", "New one", "--ttl", "2d", "--json"]).now(T0).run().ok().json();
    assert_eq!(s(&out, "address"), "acme/new");
    assert_eq!(s(&out, "name"), "New one");
    assert_eq!(out["owned"], Value::Bool(true));
    assert_eq!(s(&out, "status"), "healthy");
    assert_eq!(s(&out, "createdAt"), T0);
    assert_eq!(s(&out, "expiresAt"), "2026-01-03T00:00:00Z");
    assert_eq!(out["forkedAt"], Value::Null);
    let path = PathBuf::from(s(&out, "path"));
    assert_eq!(&file_bytes(&path)[..16], b"SQLite format 3\0");
    assert!(master(&path).is_empty());
    assert_sound(&path);
    // Human output names the address and path; the name defaults to the slug.
    env.run(&["db", "create", "acme/plain"]).ok().stdout_has("acme/plain").stdout_has("/databases/");
    let shown = env.run(&["db", "show", "acme/plain", "--json"]).ok().json();
    assert_eq!(s(&shown, "name"), "plain");
    assert_eq!(shown["forkedFrom"], Value::Null);
    env.run(&["db", "create", "acme/new"]).code(4).one_line_error().stderr_has("already exists");
}

#[test]
fn import_registers_in_place_without_owning_or_writing() {
    let env = Env::new();
    let file = env.db("mine.db", ORDERS_SQL);
    let bytes = file_bytes(&file);
    let out = env.run(&["db", "import", "acme/mine", "mine.db", "--name", "Mine", "--json"]).ok().json();
    assert_eq!(out["owned"], Value::Bool(false));
    assert_eq!(s(&out, "name"), "Mine");
    assert_eq!(PathBuf::from(s(&out, "path")), std::fs::canonicalize(&file).unwrap(), "absolute path of the file");
    assert!(env.database_files().is_empty(), "import copies nothing into home");
    // Use it: show, path, fork from it.
    assert_eq!(env.db_path("acme/mine"), std::fs::canonicalize(&file).unwrap());
    env.run(&["db", "show", "acme/mine"]).ok().stdout_has("no (registered in place; never deleted)");
    env.run(&["db", "fork", "acme/mine", "pr-1"]).ok();
    assert_eq!(file_bytes(&file), bytes, "import and fork leave the file's bytes alone");
    // Deleting the entry never deletes the file, with or without --yes.
    let del = env.run(&["db", "delete", "acme/mine", "--yes", "--json"]).ok().json();
    assert_eq!(del["fileDeleted"], Value::Bool(false));
    assert!(file.exists());
    assert_eq!(file_bytes(&file), bytes);
    env.run(&["db", "import", "acme/mine", "mine.db"]).ok();
    env.cmd(["db", "delete", "acme/mine"]).stdin("y\n").run().ok().stdout_has("untouched");
    assert!(file.exists());
    assert_eq!(file_bytes(&file), bytes);
    // The fork made from it is unaffected.
    env.run(&["db", "show", "acme/pr-1"]).ok().stdout_has("Forked from acme/mine (deleted)");
}

#[test]
fn import_errors_have_their_exit_codes() {
    let env = Env::new();
    let file = env.db("mine.db", ORDERS_SQL);
    std::fs::write(env.path("junk.db"), b"this is not a database at all, just some text....").unwrap();
    env.run(&["db", "import", "acme/x", "missing.db"]).code(3).one_line_error();
    env.run(&["db", "import", "acme/x", "junk.db"]).code(2).one_line_error().stderr_has("not a SQLite database");
    env.run(&["db", "import", "Acme/x", file.to_str().unwrap()]).code(2).one_line_error();
    env.run(&["db", "import", "acme/x", file.to_str().unwrap()]).ok();
    // The same file again is a no-op success (issue 12); another file is taken.
    env.run(&["db", "import", "acme/x", file.to_str().unwrap()]).ok();
    let other = env.db("other.db", ORDERS_SQL);
    env.run(&["db", "import", "acme/x", other.to_str().unwrap()]).code(4).one_line_error();
    assert_eq!(env.registry_len(), 1);
}

#[test]
fn fork_is_schema_only_and_faithful() {
    let env = Env::new();
    let src = env.with_orders();
    let out = env.run(&["db", "fork", "acme/orders", "pr-1", "--json"]).ok().json();
    let path = PathBuf::from(s(&out, "path"));
    assert_eq!(s(&out, "status"), "healthy");
    assert_eq!(out["includeData"], Value::Bool(false));
    assert_eq!(out["resumed"], Value::Bool(false));
    assert_eq!(out["copy"]["rowsCopied"], Value::from(0));
    assert_eq!(out["copy"]["objectsCreated"], Value::from(5), "{out:#}");
    assert_eq!(master(&path), master(&src));
    assert_eq!(settings(&path), settings(&src));
    assert_sound(&path);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for t in ["customers", "orders"] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "schema-only fork has no rows in {t}");
    }
    // The fork is independent: writing it does not touch the source.
    conn.execute("INSERT INTO customers VALUES (9, 'zed')", []).unwrap();
    drop(conn);
    let src_conn = rusqlite::Connection::open(&src).unwrap();
    let n: i64 = src_conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
    // Human result states address, path, objects, rows and expiry.
    env.run(&["db", "fork", "acme/orders", "pr-2", "--ttl", "7d"])
        .ok()
        .stdout_has("acme/pr-2")
        .stdout_has("/databases/")
        .stdout_has("5 created")
        .stdout_has("auto-deletes");
}

#[test]
fn list_shows_each_database_human_and_json() {
    let env = Env::new();
    env.with_orders();
    env.cmd(["db", "fork", "acme/orders", "pr-1", "--ttl", "7d", "--name", "PR one"]).now(T0).run().ok();
    env.cmd(["db", "create", "zeta/z"]).now(T0).run().ok();

    let human = env.cmd(["db", "list"]).now(T0).run().ok().stdout;
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(lines.len(), 4, "header + 3 rows:\n{human}");
    assert!(lines[0].starts_with("ADDRESS"), "{human}");
    // Sorted by address.
    assert!(lines[1].starts_with("acme/orders "), "{human}");
    assert!(lines[2].starts_with("acme/pr-1 "), "{human}");
    assert!(lines[3].starts_with("zeta/z "), "{human}");
    // The fork's age, as `db show` gives it (the raw time is in --json).
    for needle in ["PR one", "healthy", "KiB", "just now", "expires in 7d"] {
        assert!(lines[2].contains(needle), "row lacks {needle:?}: {}", lines[2]);
    }
    assert!(!lines[1].contains("expires"), "no TTL, no badge: {}", lines[1]);

    let json = env.run(&["db", "list", "--json"]).ok().json();
    let arr = json.as_array().expect("list --json is an array");
    assert_eq!(arr.len(), 3);
    let pr = arr.iter().find(|e| e["address"] == "acme/pr-1").unwrap();
    assert_eq!(s(pr, "forkedAt"), T0, "raw forkedAt");
    assert_eq!(s(pr, "expiresAt"), "2026-01-08T00:00:00Z");
    for e in arr {
        assert!(e.get("forkedFrom").is_none(), "list resolves no lineage: {e:#}");
        assert!(e.get("forkedAt").is_some(), "forkedAt is always present: {e:#}");
    }
    // Filter by namespace.
    let acme = env.run(&["db", "list", "acme", "--json"]).ok().json();
    assert_eq!(acme.as_array().unwrap().len(), 2);
    let none = env.run(&["db", "list", "nobody", "--json"]).ok().json();
    assert_eq!(none, Value::Array(vec![]));
}

#[test]
fn show_resolves_lineage_and_keeps_the_label_after_delete() {
    let env = Env::new();
    env.db("orders.db", ORDERS_SQL);
    env.run(&["db", "import", "acme/orders", "orders.db", "--name", "Orders"]).ok();
    let parent_id = s(&env.run(&["db", "show", "acme/orders", "--json"]).ok().json(), "id");
    env.cmd(["db", "fork", "acme/orders", "pr-1", "--ttl", "7d"]).now(T0).run().ok();

    let human = env.cmd(["db", "show", "acme/pr-1"]).now("2026-01-04T00:00:00Z").run().ok().stdout;
    assert!(human.contains("Forked from acme/orders · 3d ago"), "{human}");
    assert!(human.contains("Auto-deletes in 4d"), "{human}");
    assert!(human.contains("healthy"), "{human}");
    let json = env.run(&["db", "show", "acme/pr-1", "--json"]).ok().json();
    let from = &json["forkedFrom"];
    assert_eq!(s(from, "id"), parent_id);
    assert_eq!(s(from, "namespace"), "acme");
    assert_eq!(s(from, "slug"), "orders");
    assert_eq!(s(from, "name"), "Orders");
    assert_eq!(from["deleted"], Value::Bool(false));
    assert_eq!(s(&json, "forkedAt"), T0);

    env.run(&["db", "delete", "acme/orders", "--yes"]).ok();
    let human = env.cmd(["db", "show", "acme/pr-1"]).now("2026-01-04T00:00:00Z").run().ok().stdout;
    assert!(human.contains("Forked from acme/orders (deleted) · 3d ago"), "{human}");
    let json = env.run(&["db", "show", "acme/pr-1", "--json"]).ok().json();
    let from = &json["forkedFrom"];
    assert_eq!(s(from, "id"), parent_id);
    assert_eq!(s(from, "slug"), "orders");
    assert_eq!(s(from, "name"), "Orders");
    assert_eq!(from["deleted"], Value::Bool(true));

    // A new database at the parent's old address is not the parent.
    env.run(&["db", "create", "acme/orders"]).ok();
    let json = env.run(&["db", "show", "acme/pr-1", "--json"]).ok().json();
    assert_eq!(json["forkedFrom"]["deleted"], Value::Bool(true));
    assert_eq!(s(&json["forkedFrom"], "id"), parent_id);
}

#[test]
fn path_prints_only_the_absolute_path() {
    let env = Env::new();
    let out = env.run(&["db", "create", "acme/a", "--json"]).ok().json();
    let run = env.run(&["db", "path", "acme/a"]).ok();
    assert_eq!(run.stdout, format!("{}\n", s(&out, "path")));
    assert!(Path::new(run.stdout.trim_end()).is_absolute());
    assert!(Path::new(run.stdout.trim_end()).is_file());
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    // Usable as $(sqlfork db path …) with a relative --home too.
    env.run(&["--home", "rel", "db", "create", "acme/b"]).ok();
    let p = env.run(&["--home", "rel", "db", "path", "acme/b"]).ok().stdout;
    assert_eq!(p.lines().count(), 1);
    assert!(Path::new(p.trim_end()).is_absolute(), "{p}");
    let json = env.run(&["db", "path", "acme/a", "--json"]).ok().json();
    assert_eq!(s(&json, "path"), s(&out, "path"));
    env.run(&["db", "path", "acme/none"]).code(3).one_line_error();
}

#[test]
fn delete_removes_owned_files_and_never_prompts_without_a_tty() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    let a = PathBuf::from(s(&env.run(&["db", "fork", "./src.db", "acme/a", "--json"]).ok().json(), "path"));
    let b = PathBuf::from(s(&env.run(&["db", "create", "acme/b", "--json"]).ok().json(), "path"));
    // --yes
    let del = env.run(&["db", "delete", "acme/a", "--yes", "--json"]).ok().json();
    assert_eq!(del["fileDeleted"], Value::Bool(true));
    assert_eq!(s(&del["deleted"], "address"), "acme/a");
    assert!(!a.exists(), "owned file removed");
    // No --yes, stdin is a pipe that says "n": it must not be asked, and
    // it proceeds.
    let run = env.cmd(["db", "delete", "acme/b"]).stdin("n\n").run().ok();
    assert!(!run.stderr.contains("[y/N]"), "prompted without a TTY:\n{}", run.stderr);
    assert!(!b.exists(), "owned file removed");
    // Nothing left beside them (journals, WAL).
    assert!(
        env.database_files().iter().all(|f| !f.ends_with(".sqlite") && !f.contains("-wal") && !f.contains("-journal")),
        "{:?}",
        env.database_files()
    );
    assert_eq!(env.registry_len(), 0);
    env.run(&["db", "delete", "acme/a", "--yes"]).code(3).one_line_error();
    env.run(&["db", "show", "acme/a"]).code(3);
    assert!(src.exists());
}

// ===========================================================================
// --json and --quiet

#[test]
fn json_is_exactly_one_document_for_every_command() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    let src = src.to_str().unwrap();
    let commands: Vec<(Vec<&str>, bool)> = vec![
        (vec!["db", "list"], true),
        (vec!["db", "create", "acme/a"], false),
        (vec!["db", "import", "acme/imp", src], false),
        (vec!["db", "fork", "acme/imp", "pr-1"], false),
        (vec!["db", "fork", src, "acme/pr-2"], false),
        (vec!["db", "list"], true),
        (vec!["db", "list", "acme"], true),
        (vec!["db", "show", "acme/pr-1"], false),
        (vec!["db", "path", "acme/pr-1"], false),
        (vec!["db", "delete", "acme/pr-1"], false),
        (vec!["db", "delete", "acme/imp", "--yes"], false),
    ];
    for (mut args, is_array) in commands {
        args.push("--json");
        let run = env.run(&args).ok();
        // serde_json rejects trailing characters, so this is "exactly one".
        let v: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON document ({e}):\n{}", run.stdout));
        assert_eq!(v.is_array(), is_array, "{args:?}: {v:#}");
        assert!(v.is_array() || v.is_object(), "{args:?}");
        assert!(!run.stderr.contains('{') && !run.stderr.contains('['), "{args:?}: JSON on stderr:\n{}", run.stderr);
    }
    // Also with --json before the subcommand.
    let v = env.run(&["--json", "db", "show", "acme/a"]).ok().json();
    assert_eq!(s(&v, "address"), "acme/a");
}

#[test]
fn json_errors_print_nothing_on_stdout() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    env.run(&["db", "create", "acme/a"]).ok();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["db", "show", "acme/none"], 3),
        (vec!["db", "path", "acme/none"], 3),
        (vec!["db", "delete", "acme/none", "--yes"], 3),
        (vec!["db", "create", "acme/a"], 4),
        (vec!["db", "create", "Acme/a"], 2),
        (vec!["db", "fork", "./missing.db", "x"], 3),
        (vec!["db", "fork", src.to_str().unwrap(), "acme/a"], 4),
        (vec!["db", "fork", src.to_str().unwrap(), "x", "--ttl", "5m"], 2),
        (vec!["db", "list", "Bad"], 2),
        (vec!["db", "import", "acme/b", "missing.db"], 3),
    ];
    for (mut args, code) in cases {
        args.push("--json");
        env.run(&args).code(code).one_line_error();
    }
}

#[test]
fn quiet_prints_no_notes() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    // Without --quiet an empty list explains itself on stderr…
    let loud = env.run(&["db", "list"]).ok();
    assert!(!loud.stderr.is_empty(), "expected a note for an empty list");
    assert!(loud.stdout.is_empty());
    // …with --quiet (or -q) it says nothing.
    for q in ["--quiet", "-q"] {
        let run = env.run(&["db", "list", q]).ok();
        assert!(run.stderr.is_empty(), "{q}: {}", run.stderr);
    }
    for args in [
        vec!["db", "create", "acme/a", "--quiet"],
        vec!["db", "fork", src.to_str().unwrap(), "acme/b", "--quiet"],
        vec!["db", "fork", "acme/b", "c", "-q", "--ttl", "1h"],
        vec!["db", "list", "--quiet"],
        vec!["db", "show", "acme/b", "--quiet"],
    ] {
        let run = env.run(&args).ok();
        assert!(run.stderr.is_empty(), "{args:?} wrote to stderr with --quiet:\n{}", run.stderr);
        assert!(!run.stdout.is_empty(), "{args:?}: --quiet still prints the result");
    }
    // A delete has no result a script needs: nothing at all (issue 12).
    let run = env.run(&["db", "delete", "acme/a", "--quiet"]).ok();
    assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
    // Errors are still printed.
    env.run(&["db", "show", "acme/none", "--quiet"]).code(3).one_line_error();
}

// ===========================================================================
// Exit codes

#[test]
fn exit_codes_are_exact() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    let src = src.to_str().unwrap();
    env.run(&["db", "create", "acme/a"]).ok();
    // 3: not found.
    env.run(&["db", "show", "acme/none"]).code(3).one_line_error().stderr_has("acme/none");
    env.run(&["db", "path", "acme/none"]).code(3).one_line_error();
    env.run(&["db", "delete", "acme/none", "--yes"]).code(3).one_line_error();
    env.run(&["db", "fork", "acme/none", "x"]).code(3).one_line_error().stderr_has("acme/none");
    env.run(&["db", "fork", "./missing.db", "x"]).code(3).one_line_error().stderr_has("missing.db");
    env.run(&["db", "fork", "/nonexistent/dir/x.sqlite", "x"]).code(3).one_line_error();
    // 4: taken.
    env.run(&["db", "fork", src, "acme/a"]).code(4).one_line_error().stderr_has("acme/a");
    env.run(&["db", "fork", "acme/a", "a"]).code(2).one_line_error().stderr_has("itself");
    env.run(&["db", "fork", src, "acme/b"]).ok();
    env.run(&["db", "fork", "acme/a", "b"]).code(4).one_line_error();
    env.run(&["db", "create", "acme/b"]).code(4).one_line_error();
    // 2: bad TTL, with the range in the message.
    for ttl in ["5m", "59m", "31d", "soon", "", "-1h", "7"] {
        let flag = format!("--ttl={ttl}");
        env.run(&["db", "fork", src, "x", &flag]).code(2).one_line_error().stderr_has("1 hour").stderr_has("30 days");
        env.run(&["db", "create", "acme/x", &flag]).code(2).one_line_error().stderr_has("30 days");
    }
    env.run(&["db", "fork", src, "acme/t1", "--ttl", "1h"]).ok();
    env.run(&["db", "fork", src, "acme/t2", "--ttl", "30d"]).ok();
    // 2: malformed addresses and clap usage errors.
    env.run(&["db", "fork", "acme", "x"]).code(2).one_line_error();
    env.run(&["db", "fork", src, "A/b"]).code(2).one_line_error();
    env.run(&["db", "show", "acme"]).code(2).one_line_error();
    env.run(&["db", "fork", src]).code(2);
    env.run(&["db", "frobnicate"]).code(2);
    env.run(&["db", "show", "acme/a", "--no-such-flag"]).code(2);
    // 0: --help and --version, which also document the exit codes.
    env.run(&["--help"]).ok().stdout_has("Exit codes").stdout_has("4  already exists");
    env.run(&["--version"]).ok().stdout_has("sqlfork");
    assert_eq!(env.registry_len(), 4, "acme/a, acme/b, acme/t1, acme/t2");
}

// ===========================================================================
// Errors leave nothing behind

struct Before {
    snap: Snapshot,
    src: Option<(PathBuf, Vec<u8>)>,
}

fn before(env: &Env, src: Option<&Path>) -> Before {
    Before { snap: env.snapshot(), src: src.filter(|p| p.is_file()).map(|p| (p.to_path_buf(), file_bytes(p))) }
}

fn assert_unchanged(env: &Env, b: &Before, what: &str) {
    assert_eq!(env.snapshot(), b.snap, "{what}: registry or home/databases changed");
    if let Some((p, bytes)) = &b.src {
        assert!(file_bytes(p) == *bytes, "{what}: source bytes changed");
    }
}

#[test]
fn failed_forks_leave_nothing_behind() {
    let env = Env::new();
    // A home with something in it already, so "as before" is not "empty".
    env.with_orders();
    env.run(&["db", "create", "acme/taken"]).ok();
    env.run(&["db", "fork", "acme/orders", "pr-0"]).ok();

    // Corrupt inputs derived from a real multi-page database.
    let good = env.db("good.db", &format!("{ORDERS_SQL} INSERT INTO customers(name) SELECT hex(randomblob(200)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 300) SELECT i FROM n);"));
    let good_bytes = file_bytes(&good);
    assert!(good_bytes.len() > 8 * 4096);
    std::fs::write(env.path("truncated-page.db"), &good_bytes[..1000]).unwrap();
    std::fs::write(env.path("truncated-half.db"), &good_bytes[..good_bytes.len() / 2]).unwrap();
    let mut garbled = good_bytes.clone();
    garbled[100..4096].fill(0xff);
    std::fs::write(env.path("garbled.db"), &garbled).unwrap();
    // Random bytes (deterministic pseudo-random, no header).
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let random: Vec<u8> = (0..16384)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(env.path("random.db"), &random).unwrap();
    std::fs::write(env.path("header-only.db"), b"SQLite format 3\0").unwrap();
    std::fs::create_dir(env.path("dir.db")).unwrap();
    db_with_rewritten_schema(
        &env,
        "collation.db",
        "CREATE TABLE t(x TEXT); CREATE INDEX t_x ON t(x COLLATE nocase);",
        "t_x",
        "nocase",
        "app_collation",
    );
    db_with_rewritten_schema(
        &env,
        "function.db",
        "CREATE TABLE t(x TEXT); CREATE INDEX t_fx ON t(lower(x));",
        "t_fx",
        "lower(",
        "app_function(",
    );

    // (source, destination, expected exit codes, a word the error names)
    let cases: Vec<(&str, &str, &[i32], &str)> = vec![
        ("./missing.db", "x", &[3], "missing.db"),
        ("./random.db", "x", &[2], "not a SQLite database"),
        ("./header-only.db", "x", &[1, 2], "header-only.db"),
        ("./truncated-page.db", "x", &[1, 2], "truncated-page.db"),
        ("./truncated-half.db", "x", &[1, 2], "truncated-half.db"),
        ("./garbled.db", "x", &[1, 2], "garbled.db"),
        ("./dir.db", "x", &[2], "directory"),
        ("./good.db", "acme/taken", &[4], "acme/taken"),
        ("acme/orders", "taken", &[4], "acme/taken"),
        ("acme/orders", "orders", &[2], "itself"),
        ("acme/orders", "Bad", &[2], "lowercase"),
        ("acme/orders", "a/b/c", &[2], "'/'"),
        ("acme/none", "x", &[3], "acme/none"),
        ("./good.db", "x@ref", &[2], "x@ref"),
        ("./good.db", "acme/x@ref", &[2], "branch"),
    ];
    // A schema that needs its application's collation or function is not
    // a failed fork (SPEC section 4): it forks, and a later failure still
    // leaves the home as it was.
    for src in ["./collation.db", "./function.db"] {
        let dst = format!("app-{}", src.trim_start_matches("./").trim_end_matches(".db"));
        env.run(&["db", "fork", src, &dst]).ok();
    }
    for (src, dst, codes, needle) in cases {
        let src_path = src.strip_prefix("./").map(|rel| env.path(rel));
        let b = before(&env, src_path.as_deref().or(Some(&env.path("orders.db"))));
        for json in [false, true] {
            let mut args = vec!["db", "fork", src, dst];
            if json {
                args.push("--json");
            }
            let run = env.run(&args);
            assert!(codes.contains(&run.code), "fork {src} {dst}: exit {} not in {codes:?}\n{}", run.code, run.stderr);
            let run = run.one_line_error().stderr_has(needle);
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
            assert_unchanged(&env, &b, &format!("fork {src} {dst}"));
        }
    }
    assert_eq!(file_bytes(&good), good_bytes);
    assert_eq!(file_bytes(&env.path("garbled.db")), garbled);
    // And the databases that were there are untouched and usable.
    env.run(&["db", "show", "acme/pr-0"]).ok();
    // orders, taken, pr-0 and the two forks of application schemas.
    assert_eq!(env.registry_len(), 5);
}

#[test]
fn failed_fork_into_an_unwritable_home_leaves_nothing_behind() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    env.run(&["db", "fork", "./src.db", "first"]).ok();
    let b = before(&env, Some(&src));
    std::fs::set_permissions(&env.home, std::fs::Permissions::from_mode(0o500)).unwrap();
    // Root (CAP_DAC_OVERRIDE) writes through 0500: detect that by trying.
    let probe = env.home.join(".probe");
    let enforced = std::fs::write(&probe, b"x").is_err();
    let _ = std::fs::remove_file(&probe);
    let run = env.run(&["db", "fork", "./src.db", "second"]);
    std::fs::set_permissions(&env.home, std::fs::Permissions::from_mode(0o700)).unwrap();
    if enforced {
        let run = run.code(1).one_line_error();
        assert!(run.stderr.contains(env.home.to_str().unwrap()), "names the home: {}", run.stderr);
        assert_unchanged(&env, &b, "fork into a 0500 home");
    } else {
        // Running as root: permissions do not stop writes, so the fork
        // succeeds and there is no failure to check. The source must still
        // be untouched.
        run.ok();
        assert_eq!(file_bytes(&src), b.src.as_ref().unwrap().1);
    }

    // A home that cannot be created at all (its parent is a file) fails
    // for everyone, root included.
    let blocker = env.path("not-a-dir");
    std::fs::write(&blocker, b"file").unwrap();
    let home = blocker.join("home");
    let run = env.run(&["--home", home.to_str().unwrap(), "db", "fork", "./src.db", "x"]).code(1).one_line_error();
    assert!(run.stderr.contains("home"), "{}", run.stderr);
    assert_eq!(std::fs::read(&blocker).unwrap(), b"file");
    env.run(&["--home", home.to_str().unwrap(), "db", "create", "acme/x"]).code(1).one_line_error();
    assert_eq!(file_bytes(&src), b.src.as_ref().unwrap().1);
}

// ===========================================================================
// Safety: the source is never written

fn assert_fork_keeps_source(env: &Env, src: &Path, dst: &str) -> PathBuf {
    let bytes = file_bytes(src);
    let out = env.run(&["db", "fork", src.to_str().unwrap(), dst, "--json"]).ok().json();
    assert!(file_bytes(src) == bytes, "source bytes changed by fork into {dst}");
    let path = PathBuf::from(s(&out, "path"));
    assert_eq!(master(&path), master(src), "fork {dst} has the source's schema");
    assert_sound(&path);
    path
}

#[test]
fn source_bytes_never_change_rollback_journal() {
    let env = Env::new();
    let src = env.db("plain.db", ORDERS_SQL);
    assert_fork_keeps_source(&env, &src, "a");
    assert_fork_keeps_source(&env, &src, "b");
    assert!(!env.path("plain.db-journal").exists());
}

#[test]
fn source_bytes_never_change_wal_with_live_writer() {
    let env = Env::new();
    let src = env.path("wal.db");
    // Keep a writer connection open so the WAL holds frames that are not
    // checkpointed into the main file.
    let writer = rusqlite::Connection::open(&src).unwrap();
    writer.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;").unwrap();
    writer.execute_batch(ORDERS_SQL).unwrap();
    writer.execute_batch("CREATE TABLE later(x); INSERT INTO later VALUES (1);").unwrap();
    let wal = env.path("wal.db-wal");
    let wal_before = file_bytes(&wal);
    assert!(!wal_before.is_empty(), "the WAL holds frames");
    let path = assert_fork_keeps_source(&env, &src, "w");
    assert_eq!(file_bytes(&wal), wal_before, "the WAL is not written either");
    // The fork sees the committed schema in the WAL, and keeps WAL mode.
    assert!(master(&path).iter().any(|m| m.1 == "later"));
    assert_eq!(settings(&path), settings(&src));
    drop(writer);
}

#[test]
fn source_bytes_never_change_autoincrement_and_fts5() {
    let env = Env::new();
    let src = env.db(
        "rich.db",
        "CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT);
         INSERT INTO log(msg) VALUES ('a'), ('b'), ('c');
         DELETE FROM log WHERE id = 3;
         CREATE VIRTUAL TABLE docs USING fts5(title, body);
         INSERT INTO docs VALUES ('hello', 'world'), ('fork', 'sqlite databases');
         CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
         CREATE TABLE gen(a INT, b INT GENERATED ALWAYS AS (a * 2) STORED);",
    );
    let path = assert_fork_keeps_source(&env, &src, "rich");
    let conn = rusqlite::Connection::open(&path).unwrap();
    // The fork is usable: FTS5 answers, AUTOINCREMENT works.
    conn.execute("INSERT INTO docs VALUES ('x', 'needle')", []).unwrap();
    let hits: i64 = conn.query_row("SELECT count(*) FROM docs WHERE docs MATCH 'needle'", [], |r| r.get(0)).unwrap();
    assert_eq!(hits, 1);
    conn.execute("INSERT INTO log(msg) VALUES ('new')", []).unwrap();
    drop(conn);
    assert_sound(&path);
}

// ===========================================================================
// Concurrency

#[test]
fn twenty_four_concurrent_forks_into_one_home() {
    const N: usize = 24;
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    let src_bytes = file_bytes(&src);
    env.run(&["db", "create", "acme/warm"]).ok(); // the registry exists and is non-empty

    let mut children: Vec<_> =
        (0..N).map(|i| env.cmd(["db", "fork", "./src.db", &format!("team/pr-{i}"), "--json"]).spawn()).collect();

    // While they run, the registry must always read whole.
    let mut reads = 0usize;
    loop {
        let all_done = children.iter_mut().all(|c| !c.running());
        let reg = common::home::read_registry(&env.home).expect("the registry vanished mid-run");
        let n = reg.get("databases").and_then(|d| d.as_array()).map_or(0, |a| a.len());
        assert!((1..=N + 1).contains(&n), "{n} entries mid-run");
        reads += 1;
        if all_done {
            break;
        }
    }
    assert!(reads > 0);

    let mut ids = std::collections::BTreeSet::new();
    for (i, child) in children.into_iter().enumerate() {
        let run = child.finish();
        assert!(run.code == 0, "fork {i} failed\n{}", run.dump());
        let v: Value = run.json();
        assert_eq!(s(&v, "address"), format!("team/pr-{i}"));
        ids.insert(s(&v, "id"));
    }
    assert_eq!(ids.len(), N, "distinct ids");

    let reg = env.registry();
    let entries = reg["databases"].as_array().unwrap();
    assert_eq!(entries.len(), N + 1);
    let forks: Vec<_> = entries.iter().filter(|e| e["namespace"].as_str() == Some("team")).collect();
    assert_eq!(forks.len(), N);
    for e in &forks {
        assert_eq!(e["status"].as_str(), Some("healthy"), "{e}");
        assert!(ids.contains(e["id"].as_str().unwrap()));
        let p = PathBuf::from(e["path"].as_str().unwrap());
        assert!(p.is_file());
        assert_eq!(master(&p), master(&src));
    }
    let sqlite_files: Vec<_> = env.database_files().into_iter().filter(|f| f.ends_with(".sqlite")).collect();
    assert_eq!(sqlite_files.len(), N + 1, "{sqlite_files:?}");
    // No temporary registry files left behind.
    let stray: Vec<_> = env.snapshot().home_files.into_iter().filter(|f| f.contains("tmp")).collect();
    assert!(stray.is_empty(), "{stray:?}");
    assert_eq!(file_bytes(&src), src_bytes);
}

// ===========================================================================
// Interrupted forks

/// Put an entry back into the state a killed fork leaves: status
/// provisioning, its file gone.
fn interrupt(env: &Env, id: &str) {
    let mut file = PathBuf::new();
    env.edit_registry(|list| {
        let e = list.iter_mut().find(|e| e["id"].as_str() == Some(id)).unwrap();
        file = PathBuf::from(e["path"].as_str().unwrap());
        let t = e.as_table_mut().unwrap();
        t.insert("status".into(), toml::Value::String("provisioning".into()));
        t.remove("copy");
    });
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn running_the_same_fork_again_finishes_an_interrupted_one() {
    let env = Env::new();
    let src = env.db("src.db", ORDERS_SQL);
    env.db("other.db", "CREATE TABLE other(x);");
    let first = env.run(&["db", "fork", "./src.db", "pr-1", "--json"]).ok().json();
    let id = s(&first, "id");
    let path = PathBuf::from(s(&first, "path"));
    interrupt(&env, &id);
    assert!(!path.exists());

    let shown = env.run(&["db", "show", "local/pr-1", "--json"]).ok().json();
    assert_eq!(s(&shown, "status"), "provisioning");
    assert_eq!(shown["inFlight"], Value::Bool(false));
    env.run(&["db", "list"]).ok().stdout_has("provisioning");
    // A provisioning database is not a fork source.
    env.run(&["db", "fork", "local/pr-1", "pr-2"]).code(1).one_line_error().stderr_has("provisioning");

    // A different source may not take over the half-made destination.
    let before = env.snapshot();
    env.run(&["db", "fork", "./other.db", "pr-1"]).code(4).one_line_error().stderr_has("local/pr-1");
    env.run(&["db", "create", "local/pr-1"]).code(4).one_line_error();
    assert_eq!(env.snapshot(), before);
    assert_eq!(env.entry(&id)["status"].as_str(), Some("provisioning"));

    // The same fork finishes it: same id, same path, healthy.
    let src_bytes = file_bytes(&src);
    let out = env.run(&["db", "fork", "./src.db", "pr-1", "--json"]).ok().json();
    assert_eq!(out["resumed"], Value::Bool(true), "{out:#}");
    assert_eq!(s(&out, "id"), id);
    assert_eq!(PathBuf::from(s(&out, "path")), path);
    assert_eq!(s(&out, "status"), "healthy");
    assert_eq!(env.entry(&id)["status"].as_str(), Some("healthy"));
    assert_eq!(env.registry_len(), 1);
    assert_eq!(master(&path), master(&src));
    assert_sound(&path);
    assert_eq!(file_bytes(&src), src_bytes);

    // Now it is finished: the same fork again is a taken destination.
    env.run(&["db", "fork", "./src.db", "pr-1"]).code(4).one_line_error();
    // Human output says it finished an interrupted fork.
    let second = env.run(&["db", "fork", "./src.db", "pr-3", "--json"]).ok().json();
    interrupt(&env, &s(&second, "id"));
    env.run(&["db", "fork", "./src.db", "pr-3"]).ok().stdout_has("Finished forking");
}

#[test]
fn interrupted_fork_of_a_registered_source_resumes_by_parent_id() {
    let env = Env::new();
    env.with_orders();
    env.run(&["db", "create", "acme/other"]).ok();
    let first = env.run(&["db", "fork", "acme/orders", "pr-1", "--json"]).ok().json();
    let id = s(&first, "id");
    interrupt(&env, &id);
    env.run(&["db", "fork", "acme/other", "pr-1"]).code(4).one_line_error();
    let out = env.run(&["db", "fork", "acme/orders", "acme/pr-1", "--json"]).ok().json();
    assert_eq!(out["resumed"], Value::Bool(true));
    assert_eq!(s(&out, "id"), id);
    assert_eq!(s(&out["forkedFrom"], "slug"), "orders");
}
