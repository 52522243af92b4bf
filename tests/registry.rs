//! The registry store (SPEC section 2): `registry.sqlite`, and the one-time
//! migration of a `registry.toml` written by earlier versions — whole,
//! once, and safe against a kill at any point.

mod common;

use common::*;
use std::time::Duration;

/// A home holding the TOML registry an earlier version wrote, made from a
/// real one: two databases (a fork with lineage, TTL and copy figures, and
/// its parent) and a snapshot, with their files. Returns the parsed TOML.
fn legacy_home(env: &Env) -> toml::Value {
    env.db("src.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, x TEXT); INSERT INTO t(x) VALUES ('a'), ('b');");
    env.run(&["db", "fork", "./src.db", "acme/orders", "--with-data"]).ok();
    env.run(&["db", "fork", "acme/orders", "pr-1", "--ttl", "7d"]).ok();
    env.run(&["snapshot", "create", "acme/orders:before"]).ok();
    let reg = env.registry();
    for f in ["registry.sqlite", "registry.sqlite-wal", "registry.sqlite-shm"] {
        let _ = std::fs::remove_file(env.home.join(f));
    }
    std::fs::write(env.home.join("registry.toml"), toml::to_string(&reg).unwrap()).unwrap();
    reg
}

fn list(env: &Env) -> Vec<String> {
    let out: serde_json::Value = env.run(&["db", "list", "--json"]).ok().json();
    let mut v: Vec<String> = out.as_array().unwrap().iter().map(|e| s(e, "address")).collect();
    v.sort();
    v
}

#[test]
fn a_toml_registry_is_migrated_once_whole() {
    let env = Env::new();
    let old = legacy_home(&env);
    // A claim file an old version left in databases/ for an id nobody has.
    let dead = "0123456789abcdef0123456789abcdef";
    std::fs::write(env.home.join("databases").join(format!("{dead}.lock")), "1\n").unwrap();
    std::fs::write(env.home.join("databases").join(format!("{dead}.sqlite")), "x").unwrap();

    // A read migrates it.
    assert_eq!(list(&env), vec!["acme/orders", "acme/pr-1"]);
    assert!(env.home.join("registry.sqlite").is_file());
    assert!(!env.home.join("registry.toml").exists(), "the TOML registry is retired");
    assert!(env.home.join("registry.toml.migrated").is_file(), "and kept beside, renamed");
    assert_eq!(env.registry(), old, "every record, every field, as it was");
    let show: serde_json::Value = env.run(&["db", "show", "acme/pr-1", "--json"]).ok().json();
    assert_eq!(s(&show, "status"), "healthy");
    assert!(show["expiresAt"].is_string(), "{show:#}");
    env.run(&["snapshot", "list", "acme/orders"]).ok().stdout_has("before");

    // Only once: the retired file is never read again.
    std::fs::write(env.home.join("registry.toml.migrated"), "not toml [").unwrap();
    env.run(&["db", "fork", "acme/orders", "pr-2"]).ok();
    assert_eq!(list(&env), vec!["acme/orders", "acme/pr-1", "acme/pr-2"]);
    // The first write after a migration sweeps in full: the old layout's
    // leftovers go.
    assert!(!env.home.join("databases").join(format!("{dead}.sqlite")).exists());
    assert!(!env.home.join("databases").join(format!("{dead}.lock")).exists());
    assert_no_strays(&env, "after the migration");
}

#[test]
fn a_migration_killed_anywhere_loses_nothing() {
    let env = Env::new();
    let old = legacy_home(&env);
    let toml_text = std::fs::read_to_string(env.home.join("registry.toml")).unwrap();

    // Killed after the new registry was built beside, before its rename.
    let mut bg = env.cmd(["db", "list"]).env("SQLFORK_TEST_PAUSE", "registry-migration-built:20000").spawn();
    bg.wait_for_stderr("paused at registry-migration-built", Duration::from_secs(30));
    assert!(env.home.join("registry.sqlite.tmp").is_file());
    bg.kill();
    assert!(!env.home.join("registry.sqlite").exists());
    assert_eq!(std::fs::read_to_string(env.home.join("registry.toml")).unwrap(), toml_text, "untouched");

    // Cut between the two renames: the new registry is whole and wins; the
    // TOML is retired by the next command, not migrated again.
    assert_eq!(list(&env), vec!["acme/orders", "acme/pr-1"]);
    assert!(!env.home.join("registry.sqlite.tmp").exists(), "the half-built one went");
    env.run(&["db", "fork", "acme/orders", "pr-2"]).ok();
    std::fs::rename(env.home.join("registry.toml.migrated"), env.home.join("registry.toml")).unwrap();
    assert_eq!(list(&env), vec!["acme/orders", "acme/pr-1", "acme/pr-2"], "the new registry, not the TOML");
    assert!(!env.home.join("registry.toml").exists());

    // What the TOML held is all there.
    let now = env.registry();
    for e in old["databases"].as_array().unwrap() {
        assert!(now["databases"].as_array().unwrap().contains(e), "{e} kept");
    }
    assert_eq!(now["snapshots"], old["snapshots"]);
    assert_no_strays(&env, "after the interrupted migrations");
}

#[test]
fn removed_records_leave_no_files_after_a_kill() {
    // `db delete` killed after its registry commit, before removing the
    // files: the tombstone written in the same transaction lets the next
    // write find them without listing databases/.
    let env = Env::new();
    env.db("src.db", "CREATE TABLE t(id INTEGER PRIMARY KEY);");
    env.run(&["db", "fork", "./src.db", "acme/a", "--with-data"]).ok();
    let path = env.db_path("acme/a");
    let mut bg =
        env.cmd(["db", "delete", "acme/a", "--yes"]).env("SQLFORK_TEST_PAUSE", "delete-unregistered:20000").spawn();
    bg.wait_for_stderr("paused at delete-unregistered", Duration::from_secs(30));
    bg.kill();
    assert!(path.exists(), "killed before the files went");
    env.run(&["db", "fork", "./src.db", "acme/b"]).ok();
    assert!(!path.exists(), "the next write removed the orphan");
    assert_no_strays(&env, "after the killed delete");
}
