//! `db gc` end to end: it deletes exactly the expired databases sqlfork
//! owns (file and entry), never a file it did not create, deletes nothing
//! with `--dry-run`, lists what it deleted (human and JSON), and is safe to
//! run while other sqlfork processes fork, list and delete in the same home.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const SRC_SQL: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('a'), ('b');";

fn addrs(list: &Value) -> BTreeSet<String> {
    list.as_array().unwrap().iter().map(|e| s(e, "address")).collect()
}

/// A home with databases expiring at different times, at T0:
/// - acme/hour (created, 1h), acme/pr-1 (fork, 2h), acme/orders@ci (branch, 2h):
///   expired at T0+3h;
/// - acme/week (fork with data, 7d), acme/forever (no TTL): kept;
/// - acme/orders (imported, never owned) and acme/legacy (imported, with an
///   expiry written into the registry by hand): never deleted.
struct Home {
    env: Env,
    paths: std::collections::BTreeMap<String, PathBuf>,
    imported: PathBuf,
    legacy: PathBuf,
}

fn home() -> Home {
    let env = Env::new();
    let imported = env.db("orders.db", SRC_SQL);
    let legacy = env.db("legacy.db", SRC_SQL);
    env.run(&["db", "import", "acme/orders", imported.to_str().unwrap()]).ok();
    env.run(&["db", "import", "acme/legacy", legacy.to_str().unwrap()]).ok();
    env.set_entry_field("acme", "legacy", None, "expires_at", toml::Value::String(plus(T0, HOUR)));
    let mut paths = std::collections::BTreeMap::new();
    for (addr, args) in [
        ("acme/hour", vec!["db", "create", "acme/hour", "--ttl", "1h", "--json"]),
        ("acme/pr-1", vec!["db", "fork", "acme/orders", "pr-1", "--ttl", "2h", "--json"]),
        ("acme/orders@ci", vec!["branch", "put", "acme/orders@ci", "--ttl", "2h", "--json"]),
        ("acme/week", vec!["db", "fork", "acme/orders", "week", "--with-data", "--ttl", "7d", "--json"]),
        ("acme/forever", vec!["db", "create", "acme/forever", "--json"]),
    ] {
        let out = env.cmd(&args).now(T0).run().ok().json();
        paths.insert(addr.to_string(), PathBuf::from(s(&out, "path")));
    }
    Home { env, paths, imported, legacy }
}

#[test]
fn gc_deletes_exactly_the_expired_owned_databases_files_and_entries() {
    let h = home();
    let env = &h.env;
    let later = plus(T0, 3 * HOUR);
    let imported_bytes = file_bytes(&h.imported);
    let legacy_bytes = file_bytes(&h.legacy);

    // Nothing has expired yet at T0.
    let out = env.cmd(["db", "gc", "--json"]).now(T0).run().ok().json();
    assert_eq!(out["deleted"], Value::Array(vec![]));

    let out = env.cmd(["db", "gc", "--json"]).now(&later).run().ok().json();
    assert_eq!(out["dryRun"], Value::Bool(false));
    let deleted = addrs(&out["deleted"]);
    assert_eq!(
        deleted,
        ["acme/hour", "acme/orders@ci", "acme/pr-1"].iter().map(|s| s.to_string()).collect(),
        "{out:#}"
    );
    for e in out["deleted"].as_array().unwrap() {
        assert!(e["sizeBytes"].as_u64().unwrap() > 0, "size before deletion is reported: {e:#}");
        assert!(e["expiresAt"].is_string());
    }
    // The imported database with an expiry is kept, file and entry.
    assert_eq!(addrs(&out["kept"]), ["acme/legacy".to_string()].into_iter().collect());
    assert_eq!(out["kept"][0]["reason"], "not-owned");

    for a in &deleted {
        let p = &h.paths[a];
        assert!(!p.exists(), "{a}: {} should be gone", p.display());
        for suffix in ["-journal", "-wal", "-shm"] {
            assert!(!PathBuf::from(format!("{}{suffix}", p.display())).exists());
        }
    }
    assert_eq!(
        env.addresses(),
        vec!["acme/forever", "acme/legacy", "acme/orders", "acme/week"],
        "exactly the expired owned entries are gone"
    );
    for a in ["acme/week", "acme/forever"] {
        assert!(h.paths[a].is_file(), "{a} kept");
        assert_sound(&h.paths[a]);
    }
    assert_eq!(file_bytes(&h.imported), imported_bytes, "an imported file is never touched");
    assert_eq!(file_bytes(&h.legacy), legacy_bytes, "an imported file is never deleted, even expired");
    // Only the kept databases' files remain under home.
    let sqlite: Vec<String> = env.database_files().into_iter().filter(|f| !f.ends_with(".lock")).collect();
    assert_eq!(sqlite.len(), 2, "{sqlite:?}");

    // Running it again deletes nothing more.
    let again = env.cmd(["db", "gc", "--json"]).now(&later).run().ok().json();
    assert_eq!(again["deleted"], Value::Array(vec![]));
    // A week later, acme/week goes too; acme/forever never does.
    let out = env.cmd(["db", "gc", "--json"]).now(&plus(T0, 8 * DAY)).run().ok().json();
    assert_eq!(addrs(&out["deleted"]), ["acme/week".to_string()].into_iter().collect());
    assert_eq!(env.addresses(), vec!["acme/forever", "acme/legacy", "acme/orders"]);
    let out = env.cmd(["db", "gc", "--json"]).now(&plus(T0, 365 * DAY)).run().ok().json();
    assert_eq!(out["deleted"], Value::Array(vec![]));
}

#[test]
fn gc_dry_run_deletes_nothing_and_says_what_it_would_delete() {
    let h = home();
    let env = &h.env;
    let later = plus(T0, 3 * HOUR);
    let before = env.snapshot();
    let registry_text = env.registry().to_string();

    let out = env.cmd(["db", "gc", "--dry-run", "--json"]).now(&later).run().ok().json();
    assert_eq!(out["dryRun"], Value::Bool(true));
    assert_eq!(
        addrs(&out["deleted"]),
        ["acme/hour", "acme/orders@ci", "acme/pr-1"].iter().map(|s| s.to_string()).collect()
    );
    let human = env.cmd(["db", "gc", "--dry-run"]).now(&later).run().ok().stdout;
    assert!(human.contains("Would delete 3 expired databases"), "{human}");
    assert!(human.contains("dry run"), "{human}");
    for a in ["acme/hour", "acme/orders@ci", "acme/pr-1"] {
        assert!(human.contains(a), "{human}");
    }
    assert!(human.contains("Kept acme/legacy"), "{human}");

    assert_eq!(env.snapshot(), before, "--dry-run deletes nothing");
    assert_eq!(env.registry().to_string(), registry_text);
    for p in h.paths.values() {
        assert!(p.is_file());
    }
}

#[test]
fn gc_human_output_lists_deleted_databases() {
    let h = home();
    let env = &h.env;
    let out = env.cmd(["db", "gc"]).now(&plus(T0, 3 * HOUR)).run().ok();
    assert!(out.stdout.starts_with("Deleted 3 expired databases:\n"), "{}", out.stdout);
    for a in ["acme/hour", "acme/orders@ci", "acme/pr-1"] {
        let line = out.stdout.lines().find(|l| l.trim_start().starts_with(a)).unwrap_or_else(|| panic!("{a}"));
        assert!(line.contains("expired") && line.contains("ago") && line.contains("KiB"), "{line}");
    }
    assert!(out.stdout.contains("Freed"), "{}", out.stdout);
    assert!(out.stdout.contains("Kept acme/legacy"), "{}", out.stdout);
    let again = env.cmd(["db", "gc"]).now(&plus(T0, 3 * HOUR)).run().ok();
    assert!(again.stdout.starts_with("Nothing to delete"), "{}", again.stdout);
    // --quiet keeps the result (stdout) and drops notes.
    env.cmd(["db", "gc", "--quiet"]).now(&plus(T0, 3 * HOUR)).run().ok();
}

#[test]
fn gc_on_an_empty_or_missing_home_is_a_no_op() {
    let env = Env::new();
    let out = env.run(&["db", "gc", "--json"]).ok().json();
    assert_eq!(out["deleted"], Value::Array(vec![]));
    env.run(&["db", "gc"]).ok().stdout_has("Nothing to delete");
    assert!(!env.home.exists(), "gc does not create a home");
}

#[test]
fn gc_skips_a_database_another_process_holds_and_takes_it_next_time() {
    let env = Env::new();
    let out = env.cmd(["db", "create", "acme/busy", "--ttl", "1h", "--json"]).now(T0).run().ok().json();
    let id = s(&out, "id");
    let path = PathBuf::from(s(&out, "path"));
    // Hold its build claim, as a process building or resetting it does.
    let lock = env.hold_claim(&id);
    let later = plus(T0, 2 * HOUR);
    let out = env.cmd(["db", "gc", "--json"]).now(&later).run().ok().json();
    assert_eq!(out["deleted"], Value::Array(vec![]));
    assert_eq!(out["kept"][0]["reason"], "busy");
    assert!(path.is_file());
    assert_eq!(env.registry_len(), 1);
    lock.unlock().unwrap();
    let out = env.cmd(["db", "gc", "--json"]).now(&later).run().ok().json();
    assert_eq!(addrs(&out["deleted"]), ["acme/busy".to_string()].into_iter().collect());
    assert!(!path.exists());
    assert_eq!(env.registry_len(), 0);
}

#[test]
fn gc_racing_with_forks_deletes_and_lists_in_one_home_loses_nothing() {
    const EXPIRED: usize = 12;
    const STAY: usize = 12;
    const NEW: usize = 12;
    const DELETED: usize = 4;
    let env = Env::new();
    let src = env.db("src.db", SRC_SQL);
    env.run(&["db", "import", "acme/src", src.to_str().unwrap()]).ok();
    let src_bytes = file_bytes(&src);
    let later = plus(T0, 2 * HOUR);
    // Set-up at T0: some expire after 1h, some stay (7d, or no TTL).
    for i in 0..EXPIRED {
        env.cmd(["db", "fork", "acme/src", &format!("old-{i}"), "--ttl", "1h"]).now(T0).run().ok();
    }
    for i in 0..STAY {
        let ttl: &[&str] = if i % 2 == 0 { &["--ttl", "7d"] } else { &[] };
        let mut args = vec!["db", "fork", "acme/src"];
        let slug = format!("stay-{i}");
        args.push(&slug);
        args.extend_from_slice(ttl);
        env.cmd(&args).now(T0).run().ok();
    }
    let expired_paths: Vec<PathBuf> = (0..EXPIRED).map(|i| env.db_path(&format!("acme/old-{i}"))).collect();

    // Everything at once, at T0+2h: gc runs (three times over), new forks
    // (with and without TTLs, with and without data), deletes of some
    // staying databases, branch puts, lists.
    let mut children = Vec::new();
    for _ in 0..3 {
        children.push(("gc", env.cmd(["db", "gc", "--json"]).now(&later).spawn()));
    }
    for i in 0..NEW {
        let slug = format!("new-{i}");
        let mut args = vec!["db", "fork", "acme/src", slug.as_str()];
        if i % 3 == 0 {
            args.push("--with-data");
        }
        if i % 2 == 0 {
            args.extend_from_slice(&["--ttl", "1h"]);
        }
        children.push(("fork", env.cmd(&args).now(&later).spawn()));
    }
    for i in 0..DELETED {
        let addr = format!("acme/stay-{i}");
        children.push(("delete", env.cmd(["db", "delete", &addr, "--yes"]).now(&later).spawn()));
    }
    // Deletes of expired databases race gc for the same entries: one of
    // them gets each, the other finds it gone (exit 3).
    for i in 0..2 {
        let addr = format!("acme/old-{i}");
        children.push(("delete-expired", env.cmd(["db", "delete", &addr, "--yes", "--json"]).now(&later).spawn()));
    }
    for i in 0..3 {
        let addr = format!("acme/src@pr-{i}");
        children.push(("put", env.cmd(["branch", "put", &addr, "--ttl", "1h"]).now(&later).spawn()));
        children.push(("list", env.cmd(["db", "list", "--json"]).now(&later).spawn()));
    }
    let mut gc_deleted = BTreeSet::new();
    let mut deleted_by_delete = BTreeSet::new();
    for (what, child) in children {
        let Run { code, stdout, stderr, .. } = child.finish();
        if what == "delete-expired" {
            assert!(code == 0 || code == 3, "delete racing gc: exit {code}\n{stderr}");
            if code == 0 {
                let v: Value = serde_json::from_str(&stdout).unwrap();
                deleted_by_delete.insert(s(&v["deleted"], "address"));
            }
            continue;
        }
        assert_eq!(code, 0, "{what} failed:\n{stdout}\n{stderr}");
        if what == "gc" {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            for a in addrs(&v["deleted"]) {
                assert!(gc_deleted.insert(a.clone()), "{a} deleted by two gc runs");
            }
        }
        if what == "list" {
            let _: Value = serde_json::from_str(&stdout).expect("list prints whole JSON");
        }
    }
    let expected_gone: BTreeSet<String> = (0..EXPIRED).map(|i| format!("acme/old-{i}")).collect();
    assert!(gc_deleted.is_disjoint(&deleted_by_delete), "{gc_deleted:?} / {deleted_by_delete:?}");
    let all: BTreeSet<String> = gc_deleted.union(&deleted_by_delete).cloned().collect();
    assert_eq!(all, expected_gone, "gc (and the racing deletes) removed exactly the expired ones, each once");

    let mut want: Vec<String> = vec!["acme/src".into()];
    want.extend((DELETED..STAY).map(|i| format!("acme/stay-{i}")));
    want.extend((0..NEW).map(|i| format!("acme/new-{i}")));
    want.extend((0..3).map(|i| format!("acme/src@pr-{i}")));
    want.sort();
    assert_eq!(env.addresses(), want, "no entry that should stay was lost");

    // Every remaining owned entry has its healthy file; the expired files
    // are gone; no file is left without an entry.
    let reg = env.registry();
    let mut live_files = BTreeSet::new();
    for e in reg["databases"].as_array().unwrap() {
        assert_eq!(e["status"].as_str(), Some("healthy"), "{e}");
        let p = PathBuf::from(e["path"].as_str().unwrap());
        assert!(p.is_file(), "{e}");
        if e["owned"].as_bool() == Some(true) {
            assert_sound(&p);
            live_files.insert(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    for p in &expired_paths {
        assert!(!p.exists(), "{} should be deleted", p.display());
    }
    let on_disk: BTreeSet<String> = env.database_files().into_iter().filter(|f| f.ends_with(".sqlite")).collect();
    assert_eq!(on_disk, live_files, "files on disk are exactly the entries' files");
    assert_eq!(file_bytes(&src), src_bytes, "the imported source is untouched");
}

/// Files a killed process left under `databases/` that no entry owns are
/// swept by gc once they are a minute old, and never while fresh (a fork
/// creates its claim file a moment before its entry) or owned.
#[test]
fn gc_sweeps_files_no_entry_owns() {
    let env = Env::new();
    let src = env.db("src.db", "CREATE TABLE t(a); INSERT INTO t VALUES (1);");
    env.run(&["db", "fork", src.to_str().unwrap(), "acme/kept", "--with-data"]).ok();
    let dir = env.home.join("databases");
    let stray_id = "0123456789abcdef0123456789abcdef";
    for suffix in [".sqlite", ".lock", ".copy.json", ".copy.json.tmp"] {
        std::fs::write(dir.join(format!("{stray_id}{suffix}")), b"left behind").unwrap();
    }
    // A fork being made right now: its claim exists (and is held) before its
    // entry does.
    let fresh = env.claim_path("fedcba9876543210fedcba9876543210");
    let held = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&fresh).unwrap();
    held.lock().unwrap();
    // Age the strays too (no age is needed: nobody holds their claim).
    let strays: Vec<PathBuf> = [".sqlite", ".lock", ".copy.json", ".copy.json.tmp"]
        .iter()
        .map(|s| dir.join(format!("{stray_id}{s}")))
        .collect();
    let status = std::process::Command::new("touch").arg("-d").arg("2 hours ago").args(&strays).status().unwrap();
    assert!(status.success());
    let kept_before = env.database_files().into_iter().filter(|f| !f.starts_with(stray_id)).collect::<Vec<_>>();
    let out = env.run(&["db", "gc", "--json"]).ok().json();
    let swept: Vec<String> =
        out["straysRemoved"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(swept.len(), 4, "{out:#}");
    assert!(swept.iter().all(|f| f.starts_with(stray_id)), "{swept:?}");
    assert_eq!(env.database_files(), kept_before, "only the strays go; the held claim and real forks stay");
    assert!(fresh.exists());
    drop(held);
    env.run(&["db", "show", "acme/kept"]).ok();
}
