//! Pools end to end: `pool create/lease/return/list/delete`; a slot leased
//! again is reset to the pool's base; a lease belongs to a live process (a
//! worker killed with kill -9 frees its slot); concurrent leases get
//! distinct slots; a lease with every slot held waits, then exits 5; bad
//! input is one sentence and its exit code.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// `acme/orders` with 3 rows, and a pool of `size` data slots of it.
fn pool(env: &Env, size: usize) {
    env.with_orders();
    env.run(&["pool", "create", "acme/orders", "--size", &size.to_string(), "--with-data"]).ok();
}

fn slots(env: &Env) -> Vec<Value> {
    env.run(&["pool", "list", "acme/orders", "--json"]).ok().json().as_array().unwrap().clone()
}

/// A process that lives until killed, to hold leases.
fn worker() -> Child {
    std::process::Command::new("sleep").arg("300").stdin(Stdio::null()).spawn().expect("sleep")
}

#[test]
fn create_lease_return_list_delete_and_a_leased_slot_is_reset_to_the_base() {
    let env = Env::new();
    pool(&env, 2);
    let listed = slots(&env);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["address"], "acme/orders@pool-1");
    assert!(listed.iter().all(|s| s["state"] == "free" && s["dirty"] == false));
    // A slot is an ordinary database.
    let path1 = env.db_path("acme/orders@pool-1");
    assert_eq!(int(&path1, "SELECT count(*) FROM orders"), int(&env.path("orders.db"), "SELECT count(*) FROM orders"));
    let base_rows = int(&path1, "SELECT count(*) FROM orders");

    let me = std::process::id().to_string();
    let first = env.run(&["pool", "lease", "acme/orders", "--pid", &me, "--quiet"]).ok();
    let leased = PathBuf::from(first.stdout.trim_end());
    assert_eq!(first.stdout, format!("{}\n", leased.display()), "--quiet prints the path alone");
    assert_eq!(leased, path1);
    let held = slots(&env);
    assert_eq!(held[0]["state"], "leased");
    assert_eq!(held[0]["holderPid"], std::process::id());
    assert_eq!(held[0]["dirty"], true);
    // The worker changes rows, then gives the slot back (by path).
    exec(&leased, "DELETE FROM orders; INSERT INTO orders(id, customer, total) VALUES (99, NULL, 1)");
    env.run(&["pool", "return", "acme/orders", leased.to_str().unwrap()]).ok();
    assert_eq!(slots(&env)[0]["state"], "free");
    // The next worker gets the first free slot back at the base state.
    let again = env.run(&["pool", "lease", "acme/orders", "--pid", &me, "--json"]).ok().json();
    assert_eq!(again["slot"], 1);
    assert_eq!(again["path"], path1.to_str().unwrap());
    assert_eq!(int(&path1, "SELECT count(*) FROM orders"), base_rows, "the last worker's rows are gone");
    assert_eq!(int(&path1, "SELECT count(*) FROM orders WHERE id = 99"), 0);
    env.run(&["pool", "return", "acme/orders", "1"]).ok();
    // Delete removes the slots and the base snapshot, nothing else.
    env.run(&["pool", "delete", "acme/orders"]).ok();
    let dbs = env.run(&["db", "list", "--json"]).ok().json();
    assert_eq!(dbs.as_array().unwrap().len(), 1, "{dbs}");
    assert!(env.run(&["snapshot", "list", "acme/orders", "--json"]).ok().json().as_array().unwrap().is_empty());
    assert!(!path1.exists());
    env.run(&["pool", "list", "acme/orders"]).code(3).one_line_error().stderr_has("has no pool");
}

#[test]
fn a_worker_killed_with_kill_9_frees_its_slot() {
    let env = Env::new();
    pool(&env, 1);
    // A worker shell leases (it is the holder by default: the parent of
    // sqlfork) and keeps running its tests.
    let mut shell = env
        .sh("\"$SQLFORK\" pool lease acme/orders --quiet && exec sleep 300")
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while slots(&env)[0]["state"] != "leased" {
        assert!(t.elapsed() < Duration::from_secs(30), "the worker never leased");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(slots(&env)[0]["holderPid"], shell.id());
    // Held: another lease waits, then gives up.
    let other = worker();
    let other_pid = other.id().to_string();
    env.run(&["pool", "lease", "acme/orders", "--pid", &other_pid, "--timeout", "200ms"]).code(5);
    shell.kill().unwrap(); // SIGKILL
    shell.wait().unwrap();
    assert_eq!(slots(&env)[0]["state"], "free", "a dead holder holds nothing");
    let got = env.run(&["pool", "lease", "acme/orders", "--pid", &other_pid, "--timeout", "0s", "--json"]).ok().json();
    assert_eq!(got["slot"], 1);
    let mut other = other;
    other.kill().unwrap();
    other.wait().unwrap();
}

#[test]
fn eight_concurrent_leases_get_eight_slots_and_a_ninth_waits_then_exits_5() {
    let env = Env::new();
    pool(&env, 8);
    let mut holder = worker();
    let pid = holder.id().to_string();
    let children: Vec<_> = (0..8)
        .map(|_| {
            env.cmd(["pool", "lease", "acme/orders", "--pid", &pid, "--quiet"])
                .command()
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut paths: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 8, "eight distinct slots: {paths:?}");
    // All held: waits for --timeout, then one sentence and exit 5.
    let busy = env.run(&["pool", "lease", "acme/orders", "--pid", &pid, "--timeout", "1s"]).code(5).one_line_error();
    assert!(busy.took >= Duration::from_secs(1), "{}", busy.dump());
    assert!(busy.stderr.contains("all 8 slots of acme/orders's pool stayed leased"), "{}", busy.dump());
    // One returned while another waits: the waiter gets it.
    let waiter = env
        .cmd(["pool", "lease", "acme/orders", "--pid", &pid, "--json", "--timeout", "30s"])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    env.run(&["pool", "return", "acme/orders", "acme/orders@pool-5"]).ok();
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["slot"], 5);
    holder.kill().unwrap();
    holder.wait().unwrap();
    // Its holder is gone: every slot is free again.
    assert!(slots(&env).iter().all(|s| s["state"] == "free"));
}

#[test]
fn bad_inputs_are_one_sentence_and_leave_nothing() {
    let env = Env::new();
    env.with_orders();
    env.run(&["pool", "lease", "acme/nope"]).code(3).one_line_error();
    env.run(&["pool", "lease", "acme/orders", "--timeout", "0s"]).code(3).one_line_error().stderr_has("has no pool");
    env.run(&["pool", "create", "acme/orders", "--size", "0"]).code(2).one_line_error().stderr_has("--size 0");
    assert_eq!(env.run(&["db", "list", "--json"]).ok().json().as_array().unwrap().len(), 1);
    env.run(&["pool", "create", "acme/orders", "--size", "2"]).ok();
    env.run(&["pool", "create", "acme/orders", "--size", "2"])
        .code(2)
        .one_line_error()
        .stderr_has("already has a pool");
    env.run(&["pool", "return", "acme/orders", "2"]).code(2).one_line_error().stderr_has("is not leased");
    env.run(&["pool", "return", "acme/orders", "7"]).code(2).one_line_error().stderr_has("not a slot");
    env.run(&["pool", "lease", "acme/orders", "--pid", "4194303"]).code(2).one_line_error().stderr_has("--pid");
    env.run(&["pool", "lease", "acme/orders", "--timeout", "soon"]).code(2).one_line_error();
    assert!(slots(&env).iter().all(|s| s["state"] == "free"));
}
