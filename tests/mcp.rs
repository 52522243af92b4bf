//! `sqlfork mcp`: the real binary driven over stdio with JSON-RPC, as an MCP
//! client drives it. Results must equal the CLI's `--json` documents and
//! errors must carry the CLI's sentences.

mod common;

use common::mcp::{Session, WAIT};
use common::Env;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The sentence the CLI prints for a failing command (after `error: `).
fn cli_error(env: &Env, args: &[&str], code: i32) -> String {
    let run = env.run(args).code(code);
    run.stderr.trim_end().strip_prefix("error: ").expect("error: prefix").to_string()
}

fn source(env: &Env, rows: u32) -> std::path::PathBuf {
    env.db(
        "src.db",
        &format!(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT);
             CREATE INDEX t_body ON t(body);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < {rows})
             INSERT INTO t(body) SELECT printf('row %d %s', i, hex(randomblob(200))) FROM n;"
        ),
    )
}

fn rows(path: &str) -> i64 {
    rusqlite::Connection::open(path).unwrap().query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
}

#[test]
fn tools_are_listed_with_json_schemas() {
    let env = Env::new();
    let mut s = Session::start(&env);
    let list = s.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().expect("tools").clone();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for want in [
        "fork_database",
        "list_databases",
        "show_database",
        "database_path",
        "wait_database",
        "branch_put",
        "diff_databases",
        "create_snapshot",
        "push_snapshot",
        "reset_database",
        "delete_database",
        "rehearse_migration",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let tool = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap().clone();
    let fork = tool("fork_database");
    assert_eq!(fork["inputSchema"]["type"], "object");
    for field in ["source", "destination", "name", "includeData", "ttl", "detach"] {
        assert!(fork["inputSchema"]["properties"][field].is_object(), "fork_database lacks {field}: {fork}");
    }
    assert_eq!(fork["inputSchema"]["required"], json!(["source", "destination"]));
    assert!(fork["description"].as_str().unwrap().contains("Fork"), "{fork}");
    for destructive in ["delete_database", "reset_database"] {
        let t = tool(destructive);
        assert!(t["inputSchema"]["required"].as_array().unwrap().contains(&json!("confirm")), "{t}");
    }
    let delete = tool("delete_database");
    assert_eq!(delete["annotations"]["destructiveHint"], true);
    s.close();
}

#[test]
fn every_tool_answers_as_the_cli_does() {
    let env = Env::new();
    let src = source(&env, 300);
    let mut s = Session::start(&env);

    // fork_database, schema only and with data, from a path and from an address.
    let (_, forked) = s.ok(
        "fork_database",
        json!({"source": src.to_str().unwrap(), "destination": "acme/orders", "includeData": true, "name": "Orders", "ttl": "7d"}),
    );
    assert_eq!(forked["address"], "acme/orders");
    assert_eq!(forked["status"], "healthy");
    assert_eq!(forked["name"], "Orders");
    assert_eq!(forked["includeData"], true);
    assert_eq!(forked["resumed"], false);
    assert_eq!(forked["forkedFrom"]["path"], src.canonicalize().unwrap().to_str().unwrap());
    assert!(forked["expiresAt"].is_string());
    assert_eq!(rows(forked["path"].as_str().unwrap()), 300);
    let (_, schema_only) = s.ok("fork_database", json!({"source": "acme/orders", "destination": "pr-1"}));
    assert_eq!(schema_only["address"], "acme/pr-1");
    assert_eq!(schema_only["includeData"], false);
    assert_eq!(schema_only["forkedFrom"]["slug"], "orders");
    assert_eq!(rows(schema_only["path"].as_str().unwrap()), 0);

    // list, show, path and wait: the very documents the CLI prints.
    let (text, _) = s.ok("list_databases", json!({}));
    assert_eq!(text.trim_end(), env.run(&["--json", "db", "list"]).ok().stdout.trim_end());
    let (text, listed) = s.ok("list_databases", json!({"namespace": "acme"}));
    assert_eq!(text.trim_end(), env.run(&["--json", "db", "list", "acme"]).ok().stdout.trim_end());
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let (text, shown) = s.ok("show_database", json!({"address": "acme/pr-1"}));
    assert_eq!(text.trim_end(), env.run(&["--json", "db", "show", "acme/pr-1"]).ok().stdout.trim_end());
    assert_eq!(shown["forkedFrom"]["slug"], "orders");
    assert_eq!(shown["forkedFrom"]["deleted"], false);
    let (text, path) = s.ok("database_path", json!({"address": "acme/orders"}));
    assert_eq!(text.trim_end(), env.run(&["--json", "db", "path", "acme/orders"]).ok().stdout.trim_end());
    assert_eq!(path["path"], forked["path"]);
    let (text, _) = s.ok("wait_database", json!({"address": "acme/orders", "timeout": "10s"}));
    assert_eq!(text.trim_end(), env.run(&["--json", "db", "wait", "acme/orders"]).ok().stdout.trim_end());

    // branch_put: created, then reset at the same path.
    let (_, put) = s.ok("branch_put", json!({"address": "acme/orders@feature/login", "includeData": true}));
    assert_eq!(put["action"], "created");
    assert_eq!(put["branch"], "feature/login");
    assert_eq!(rows(put["path"].as_str().unwrap()), 300);
    rusqlite::Connection::open(put["path"].as_str().unwrap()).unwrap().execute("DELETE FROM t", []).unwrap();
    let (_, again) = s.ok("branch_put", json!({"address": "acme/orders@feature/login", "includeData": true}));
    assert_eq!(again["action"], "reset");
    assert_eq!(again["path"], put["path"]);
    assert_eq!(rows(again["path"].as_str().unwrap()), 300, "the reset brings the rows back");
    let (text, _) = s.ok("show_database", json!({"address": "acme/orders@feature/login"}));
    assert_eq!(text.trim_end(), env.run(&["--json", "db", "show", "acme/orders@feature/login"]).ok().stdout.trim_end());

    // delete_database needs confirm: true, and then deletes.
    let sentence = s.err("delete_database", json!({"address": "acme/pr-1", "confirm": false}));
    assert!(sentence.contains("confirm: true"), "{sentence}");
    env.run(&["db", "show", "acme/pr-1"]).ok();
    let (_, deleted) = s.ok("delete_database", json!({"address": "acme/pr-1", "confirm": true}));
    assert_eq!(deleted["deleted"]["address"], "acme/pr-1");
    assert_eq!(deleted["fileDeleted"], true);
    assert!(!std::path::Path::new(schema_only["path"].as_str().unwrap()).exists());
    let (_, deleted) = s.ok("delete_database", json!({"address": "acme/orders@feature/login", "confirm": true}));
    assert_eq!(deleted["deleted"]["branch"], "feature/login");

    // Errors are tool errors with the CLI's sentences.
    let want = cli_error(&env, &["db", "show", "acme/pr-1"], 3);
    assert_eq!(s.err("show_database", json!({"address": "acme/pr-1"})), want);
    let want = cli_error(&env, &["db", "fork", "acme/orders", "Bad_Slug"], 2);
    assert_eq!(s.err("fork_database", json!({"source": "acme/orders", "destination": "Bad_Slug"})), want);
    let want = cli_error(&env, &["db", "fork", "acme/orders", "x", "--ttl", "5m"], 2);
    assert_eq!(s.err("fork_database", json!({"source": "acme/orders", "destination": "x", "ttl": "5m"})), want);
    let want = cli_error(&env, &["branch", "put", "acme/orders"], 2);
    assert_eq!(s.err("branch_put", json!({"address": "acme/orders"})), want);
    env.run(&["db", "fork", "acme/orders", "orders2"]).ok();
    let taken = s.err("fork_database", json!({"source": "acme/orders", "destination": "orders2"}));
    assert_eq!(taken, cli_error(&env, &["db", "fork", "acme/orders", "orders2"], 4));
    let result = s.call("show_database", json!({"address": "acme/nope"}));
    assert_eq!(result["structuredContent"]["exitCode"], 3, "{result}");
    s.close();
}

#[test]
fn a_bad_argument_is_refused_and_nothing_is_made() {
    let env = Env::new();
    let src = source(&env, 10);
    let mut s = Session::start(&env);
    let before = env.snapshot();
    // Wrong type, unknown field, missing field: refused with a message that
    // names the argument.
    for (args, needle) in [
        (json!({"source": src.to_str().unwrap(), "destination": "a/b", "includeData": "yes"}), "includeData"),
        (json!({"source": src.to_str().unwrap(), "destination": "a/b", "withData": true}), "withData"),
        (json!({"source": src.to_str().unwrap()}), "destination"),
    ] {
        let r = s.request("tools/call", json!({"name": "fork_database", "arguments": args}));
        let message = match r.get("error") {
            Some(e) => e["message"].as_str().unwrap().to_string(),
            None => {
                assert_eq!(r["result"]["isError"], true, "{r}");
                r["result"]["content"][0]["text"].as_str().unwrap().to_string()
            }
        };
        assert!(message.contains(needle), "{message} should name {needle}");
    }
    // detach without data, and an unknown tool.
    let sentence =
        s.err("fork_database", json!({"source": src.to_str().unwrap(), "destination": "a/b", "detach": true}));
    assert!(sentence.contains("includeData"), "{sentence}");
    let r = s.request("tools/call", json!({"name": "drop_everything", "arguments": {}}));
    assert!(r.get("error").is_some() || r["result"]["isError"] == true, "{r}");
    assert_eq!(env.snapshot(), before, "a refused call leaves nothing behind");
    s.close();
}

/// An MCP session that made the data fork `acme/big` (2,000 rows, copied
/// in small chunks) with progress token `token`; the tool's answer.
fn data_fork_with_progress(env: &Env, token: &str) -> (Session, Value) {
    let src = source(env, 2000);
    let mut s = Session::start_with(env, &[("SQLFORK_TEST_CHUNK_PAGES", "8")]);
    let id = s.send_request(
        "tools/call",
        json!({"name": "fork_database", "arguments": {"source": src.to_str().unwrap(), "destination": "acme/big", "includeData": true},
               "_meta": {"progressToken": token}}),
    );
    let r = s.response(id);
    assert_eq!(r["result"]["isError"], false, "{r}");
    (s, r)
}

/// The progress notifications a session received.
fn progress_of(s: &Session) -> Vec<Value> {
    s.notifications.iter().filter(|n| n["method"] == "notifications/progress").cloned().collect()
}

#[test]
fn a_data_fork_reports_progress_and_a_detached_one_is_waited_for() {
    let env = Env::new();
    let (mut s, _) = data_fork_with_progress(&env, "copy-1");
    let progress = progress_of(&s);
    assert!(progress.len() >= 2, "expected progress notifications, got {:?}", s.notifications);
    assert!(progress.iter().all(|p| p["params"]["progressToken"] == "copy-1"));
    let last = progress.last().unwrap();
    assert_eq!(last["params"]["progress"], last["params"]["total"], "the last notification is the whole copy");

    let (_, detached) = s.ok(
        "fork_database",
        json!({"source": "acme/big", "destination": "acme/bg", "includeData": true, "detach": true}),
    );
    assert!(detached["status"] == "provisioning" || detached["status"] == "healthy", "{detached}");
    let (_, waited) = s.ok("wait_database", json!({"address": "acme/bg"}));
    assert_eq!(waited["status"], "healthy");
    assert_eq!(rows(waited["path"].as_str().unwrap()), 2000);
    common::assert_sound(std::path::Path::new(waited["path"].as_str().unwrap()));
    s.close();
}

#[test]
fn a_cancelled_copy_stops_and_wait_database_finishes_it() {
    let env = Env::new();
    let src = source(&env, 2000);
    // One page per chunk and a pause after each: the copy would take
    // minutes, so only a honoured cancellation ends it soon.
    let mut s = Session::start_with(&env, &[("SQLFORK_TEST_CHUNK_PAGES", "1"), ("SQLFORK_TEST_DELAY_MS", "100")]);
    let id = s.send_request(
        "tools/call",
        json!({"name": "fork_database", "arguments": {"source": src.to_str().unwrap(), "destination": "acme/slow", "includeData": true},
               "_meta": {"progressToken": 9}}),
    );
    // Cancel once the copy has begun.
    let deadline = Instant::now() + WAIT;
    while !s
        .notifications
        .iter()
        .any(|n| n["method"] == "notifications/progress" && n["params"]["progress"].as_f64() > Some(0.0))
    {
        assert!(Instant::now() < deadline, "no progress before cancelling");
        if let Some(msg) = s.read(Duration::from_millis(200)) {
            assert!(msg.get("id").is_none(), "the copy finished before it was cancelled: {msg}");
        }
    }
    let cancelled_at = Instant::now();
    s.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id, "reason": "test"}}),
    );
    // The copy stops at its next page: the fork stays provisioning and no
    // process holds it any more.
    loop {
        let show = env.run(&["--json", "db", "show", "acme/slow"]).ok().json();
        if show["inFlight"] == false {
            assert_eq!(show["status"], "provisioning", "{show}");
            break;
        }
        assert!(cancelled_at.elapsed() < Duration::from_secs(10), "the copy went on after it was cancelled: {show}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Any late answer to the cancelled request must not claim success.
    while let Some(msg) = s.read(Duration::from_millis(300)) {
        if msg["id"] == id {
            assert_ne!(msg["result"]["isError"], false, "a cancelled fork answered success: {msg}");
        }
    }
    drop(s);
    // A fresh session (at full speed) finishes it with wait_database.
    let mut s = Session::start(&env);
    let (_, waited) = s.ok("wait_database", json!({"address": "acme/slow"}));
    assert_eq!(waited["status"], "healthy");
    assert_eq!(rows(waited["path"].as_str().unwrap()), 2000);
    common::assert_sound(std::path::Path::new(waited["path"].as_str().unwrap()));
    s.close();
}

#[test]
fn the_home_comes_from_the_flag_as_for_the_cli() {
    let env = Env::new();
    let other = env.path("other-home");
    env.run(&["--home", other.to_str().unwrap(), "db", "create", "team/notes"]).ok();
    // SQLFORK_HOME (the test's home) is empty…
    let mut s = Session::start(&env);
    let (_, listed) = s.ok("list_databases", json!({}));
    assert_eq!(listed, json!([]));
    s.close();
    // …and `sqlfork --home OTHER mcp` serves OTHER.
    let mut s = Session::start_cmd(env.cmd(["--home", other.to_str().unwrap(), "mcp"]));
    let (_, listed) = s.ok("list_databases", json!({}));
    assert_eq!(listed[0]["address"], "team/notes", "{listed}");
    s.close();
}

#[test]
fn a_copy_stops_when_the_client_goes_away() {
    let env = Env::new();
    let src = source(&env, 2000);
    let mut s = Session::start_with(&env, &[("SQLFORK_TEST_CHUNK_PAGES", "1"), ("SQLFORK_TEST_DELAY_MS", "100")]);
    s.send_request(
        "tools/call",
        json!({"name": "fork_database", "arguments": {"source": src.to_str().unwrap(), "destination": "acme/left", "includeData": true},
               "_meta": {"progressToken": 1}}),
    );
    let deadline = Instant::now() + WAIT;
    while !s.notifications.iter().any(|n| n["params"]["progress"].as_f64() > Some(0.0)) {
        assert!(Instant::now() < deadline, "no progress");
        s.read(Duration::from_millis(200));
    }
    // Closing stdin ends the session: the server stops the copy at its next
    // page (the fork stays provisioning) instead of finishing a copy nobody
    // waits for (about 40 s at this pace), and exits.
    let closed = Instant::now();
    drop(s.stdin.take());
    loop {
        let show = env.run(&["--json", "db", "show", "acme/left"]).ok().json();
        if show["inFlight"] == false {
            assert_eq!(show["status"], "provisioning", "{show}");
            break;
        }
        assert!(closed.elapsed() < Duration::from_secs(3), "the copy went on after stdin closed: {show}");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.close();
    env.run(&["db", "resume", "acme/left"]).ok();
    common::assert_sound(&env.db_path("acme/left"));
}

#[test]
fn diff_databases_answers_as_db_diff_does() {
    let env = Env::new();
    let src = source(&env, 50);
    let mut s = Session::start(&env);
    let (_, fork) = s
        .ok("fork_database", json!({"source": src.to_str().unwrap(), "destination": "acme/pr-9", "includeData": true}));
    let path = fork["path"].as_str().unwrap().to_string();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("UPDATE t SET body = 'changed' WHERE id = 3; DELETE FROM t WHERE id = 4; CREATE TABLE extra(x);")
        .unwrap();
    // The JSON document, as `db diff --json` prints it.
    let (_, report) = s.ok("diff_databases", json!({"a": "acme/pr-9", "rows": 5}));
    let cli = env.run(&["--json", "db", "diff", "acme/pr-9", "--rows", "5"]).ok().json();
    assert_eq!(report, cli);
    assert_eq!(report["identical"], false);
    assert_eq!(report["tables"]["t"]["updated"], 1);
    assert_eq!(report["tables"]["t"]["deleted"], 1);
    assert_eq!(report["schema"]["added"][0]["name"], "extra");
    // Markdown and SQL are text; the SQL turns the parent into the fork.
    let md = s.call("diff_databases", json!({"a": "acme/pr-9", "format": "markdown"}));
    assert_eq!(md["isError"], false, "{md}");
    let md_text = md["content"][0]["text"].as_str().unwrap();
    assert_eq!(md_text, env.run(&["db", "diff", "acme/pr-9", "--format", "markdown"]).ok().stdout);
    let sql = s.call("diff_databases", json!({"a": "acme/pr-9", "format": "sql"}));
    let patch = sql["content"][0]["text"].as_str().unwrap().to_string();
    let copy = env.path("patched.db");
    std::fs::copy(&src, &copy).unwrap();
    rusqlite::Connection::open(&copy).unwrap().execute_batch(&patch).unwrap();
    let (_, after) = s.ok("diff_databases", json!({"a": path, "b": copy.to_str().unwrap()}));
    assert_eq!(after["identical"], true, "{after}");
    // Errors: the CLI's sentence; a bad format names the argument.
    let want = cli_error(&env, &["db", "diff", "acme/nope"], 3);
    assert_eq!(s.err("diff_databases", json!({"a": "acme/nope"})), want);
    let refused = s.err("diff_databases", json!({"a": "acme/pr-9", "format": "xml"}));
    assert!(refused.contains("xml"), "{refused}");
    let refused = s.err("diff_databases", json!({"a": "acme/pr-9", "rows": -1}));
    assert!(refused.contains("rows"), "{refused}");
    s.close();
}

#[test]
fn merge_database_is_a_dry_run_unless_apply() {
    let env = Env::new();
    let src = source(&env, 20);
    env.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    env.run(&["db", "fork", "acme/prod", "main", "--with-data"]).ok();
    env.run(&["db", "fork", "acme/main", "fix", "--with-data", "--mergeable"]).ok();
    let (main, fix) = (env.db_path("acme/main"), env.db_path("acme/fix"));
    rusqlite::Connection::open(&fix).unwrap().execute_batch("UPDATE t SET body = 'fixed' WHERE id = 3;").unwrap();
    let fixed = || -> i64 {
        rusqlite::Connection::open(&main)
            .unwrap()
            .query_row("SELECT count(*) FROM t WHERE body = 'fixed'", [], |r| r.get(0))
            .unwrap()
    };
    let mut s = Session::start(&env);
    let (_, dry) = s.ok("merge_database", json!({"fork": "acme/fix"}));
    assert_eq!((dry["dryRun"].clone(), dry["merged"].clone()), (json!(true), json!(false)), "{dry}");
    assert_eq!(dry["tables"]["t"]["updated"], 1);
    assert_eq!(fixed(), 0, "a dry run writes nothing");
    let refused = s.err("merge_database", json!({"fork": "acme/fix", "prefer": "sometimes"}));
    assert!(refused.contains("sometimes") && refused.contains("abort"), "{refused}");
    let (_, done) = s.ok("merge_database", json!({"fork": "acme/fix", "apply": true}));
    assert_eq!(done["merged"], true, "{done}");
    assert_eq!(fixed(), 1);
    s.close();
}

#[test]
fn snapshots_and_resets_answer_as_the_cli_does() {
    let env = Env::new();
    let src = source(&env, 40);
    let mut s = Session::start(&env);
    let (_, fork) = s
        .ok("fork_database", json!({"source": src.to_str().unwrap(), "destination": "acme/pr-5", "includeData": true}));
    let path = fork["path"].as_str().unwrap().to_string();

    // create_snapshot: the `snapshot create --json` document.
    let (_, snap) = s.ok("create_snapshot", json!({"address": "acme/pr-5:before", "ttl": "2d"}));
    assert_eq!(snap["address"], "acme/pr-5:before");
    assert!(snap["expiresAt"].is_string(), "{snap}");
    let listed = env.run(&["--json", "snapshot", "list", "acme/pr-5"]).ok().json();
    assert_eq!(listed[0], snap);
    let (_, unnamed) = s.ok("create_snapshot", json!({"address": "acme/pr-5"}));
    assert!(unnamed["name"].as_str().unwrap().ends_with('Z'), "named by the time: {unnamed}");
    let want = cli_error(&env, &["snapshot", "create", "acme/pr-5:before"], 4);
    assert_eq!(s.err("create_snapshot", json!({"address": "acme/pr-5:before"})), want);

    // A migration gone wrong, then reset_database to the snapshot.
    rusqlite::Connection::open(&path).unwrap().execute("DELETE FROM t", []).unwrap();
    let refused = s.err("reset_database", json!({"address": "acme/pr-5", "to": "before", "confirm": false}));
    assert!(refused.contains("confirm: true"), "{refused}");
    assert_eq!(rows(&path), 0, "an unconfirmed reset changes nothing");
    let (_, reset) = s.ok("reset_database", json!({"address": "acme/pr-5", "to": "before", "confirm": true}));
    assert_eq!(reset["path"], path.as_str(), "same path");
    assert_eq!(reset["resetTo"], "acme/pr-5:before");
    assert_eq!(reset["snapshot"]["name"], "before");
    assert_eq!(rows(&path), 40, "the rows are back");
    // And to the parent (a file here), schema only this time.
    let (_, reset) = s.ok("reset_database", json!({"address": "acme/pr-5", "includeData": false, "confirm": true}));
    assert_eq!(reset["includeData"], false);
    assert_eq!(rows(&path), 0);
    // A snapshot is a fork source.
    let (_, from_snap) =
        s.ok("fork_database", json!({"source": "acme/pr-5:before", "destination": "again", "includeData": true}));
    assert_eq!(rows(from_snap["path"].as_str().unwrap()), 40);
    // An imported database cannot be reset: the CLI's sentence, exit 2.
    env.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    let want = cli_error(&env, &["db", "reset", "acme/prod"], 2);
    assert_eq!(s.err("reset_database", json!({"address": "acme/prod", "confirm": true})), want);
    // delete_database says how many snapshots went with the database.
    let (_, deleted) = s.ok("delete_database", json!({"address": "acme/pr-5", "confirm": true}));
    assert_eq!(deleted["snapshotsDeleted"], 2, "{deleted}");
    s.close();
}

/// `push_snapshot`, and `fork_database` from a remote address (a
/// `file://` remote standing for object storage) on another home.
#[test]
fn push_snapshot_and_fork_from_a_remote() {
    let env = Env::new();
    let src = source(&env, 300);
    let store = env.path("store");
    let url = format!("file://{}", store.display());
    env.run(&["db", "import", "acme/orders", src.to_str().unwrap()]).ok();
    env.run(&["snapshot", "create", "acme/orders:n1"]).ok();
    env.run(&["remote", "add", "origin", &url]).ok();
    let mut s = Session::start(&env);
    let (_, pushed) = s.ok("push_snapshot", json!({"snapshot": "acme/orders:n1"}));
    assert_eq!(pushed["address"], "origin:acme/orders:n1", "{pushed}");
    assert!(pushed["bytesUploaded"].as_u64().unwrap() > 0, "{pushed}");
    let taken = s.err("push_snapshot", json!({"snapshot": "acme/orders:n1", "remote": "origin"}));
    assert!(taken.contains("already exists"), "{taken}");
    s.close();
    let other = Env::new();
    other.run(&["remote", "add", "origin", &url]).ok();
    let mut s = Session::start(&other);
    let (_, forked) = s.ok(
        "fork_database",
        json!({"source": "origin:acme/orders:n1", "destination": "acme/pr-1", "includeData": true}),
    );
    assert_eq!(forked["status"], "healthy", "{forked}");
    let fork = std::path::Path::new(forked["path"].as_str().unwrap());
    common::assert_same(&common::image(&src), fork, false, "an MCP fork of a remote snapshot");
    s.close();
}

#[test]
fn every_tool_declares_an_output_schema_its_results_follow() {
    let env = Env::new();
    let src = source(&env, 20);
    let mut s = Session::start(&env);
    let list = s.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().expect("tools").clone();
    for t in &tools {
        assert_eq!(t["outputSchema"]["type"], "object", "{} has no object output schema: {t}", t["name"]);
    }
    let schema = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap()["outputSchema"].clone();
    // The fork's document carries the fields its schema names.
    let (_, forked) =
        s.ok("fork_database", json!({"source": src.to_str().unwrap(), "destination": "acme/o", "includeData": true}));
    for (field, _) in schema("fork_database")["properties"].as_object().unwrap() {
        let optional = ["branch", "copy", "safe"].contains(&field.as_str());
        assert!(optional || forked.get(field).is_some(), "fork_database's result lacks {field}: {forked}");
    }
    // A list is structured under its name; its text is still the CLI's array.
    let result = s.call("list_databases", json!({}));
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(result["structuredContent"]["databases"], text, "{result}");
    assert_eq!(text[0]["address"], "acme/o");
    assert!(schema("list_databases")["properties"]["databases"].is_object());
    // Markdown and SQL diffs are structured too.
    let md = s.call("diff_databases", json!({"a": "acme/o", "format": "markdown"}));
    assert_eq!(md["structuredContent"]["markdown"], md["content"][0]["text"], "{md}");
    s.close();
}

#[test]
fn an_agent_can_list_and_clean_up_what_it_made() {
    let env = Env::new();
    let src = source(&env, 2000);
    let rules = env.path("rules.toml");
    std::fs::write(&rules, "seed = \"s\"\n[tables.t]\nbody = \"hash\"\n").unwrap();
    let mut s = Session::start(&env);
    s.ok("fork_database", json!({"source": src.to_str().unwrap(), "destination": "acme/o", "includeData": true}));

    // Branches and snapshots it made, listed as the CLI lists them.
    s.ok("branch_put", json!({"address": "acme/o@pr-1"}));
    let (text, _) = s.ok("list_branches", json!({"address": "acme/o"}));
    assert_eq!(text.trim_end(), env.run(&["--json", "branch", "list", "acme/o"]).ok().stdout.trim_end());
    s.ok("create_snapshot", json!({"address": "acme/o:before"}));
    let result = s.call("list_snapshots", json!({"address": "acme/o"}));
    let text = result["content"][0]["text"].as_str().unwrap();
    assert_eq!(text.trim_end(), env.run(&["--json", "snapshot", "list", "acme/o"]).ok().stdout.trim_end());
    assert_eq!(result["structuredContent"]["snapshots"][0]["name"], "before", "{result}");
    let sentence = s.err("delete_snapshot", json!({"address": "acme/o:before", "confirm": false}));
    assert!(sentence.contains("confirm: true"), "{sentence}");
    let (_, deleted) = s.ok("delete_snapshot", json!({"address": "acme/o:before", "confirm": true}));
    assert_eq!(deleted["deleted"]["name"], "before");
    assert_eq!(env.run(&["--json", "snapshot", "list", "acme/o"]).ok().json(), json!([]));

    // A copy still running in another process: cancelled, and gone.
    let slow = env
        .cmd(["db", "fork", src.to_str().unwrap(), "acme/slow", "--with-data"])
        .envs(&[("SQLFORK_TEST_CHUNK_PAGES", "1"), ("SQLFORK_TEST_DELAY_MS", "200")])
        .spawn();
    common::wait_until("the slow copy to be in flight", Duration::from_secs(30), || {
        let show = env.run(&["--json", "db", "show", "acme/slow"]);
        show.code == 0 && show.json()["inFlight"] == true
    });
    let (_, cancelled) = s.ok("cancel_database", json!({"address": "acme/slow"}));
    assert_eq!(cancelled["cancelled"]["address"], "acme/slow");
    assert!(cancelled["stoppedPid"].is_u64(), "{cancelled}");
    slow.finish();
    env.run(&["db", "show", "acme/slow"]).code(3);

    // Masking: what check_mask finds, and a masked fork as the CLI makes it.
    let (_, check) = s.ok("check_mask", json!({"source": src.to_str().unwrap()}));
    let cli = env.run(&["--json", "db", "fork", src.to_str().unwrap(), "acme/x", "--with-data", "--mask-check"]).ok();
    assert_eq!(check, cli.json());
    let (_, masked) = s.ok(
        "fork_database",
        json!({"source": src.to_str().unwrap(), "destination": "acme/m", "includeData": true, "mask": rules.to_str().unwrap()}),
    );
    assert_eq!(masked["safe"]["masked"], true, "{masked}");
    let body: String = rusqlite::Connection::open(masked["path"].as_str().unwrap())
        .unwrap()
        .query_row("SELECT body FROM t WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert!(!body.starts_with("row 1 "), "body was not masked: {body}");
    s.close();
}

#[test]
fn mcp_progress_speaks_mib_as_the_cli_does() {
    let env = Env::new();
    let (s, r) = data_fork_with_progress(&env, "p");
    let progress = progress_of(&s);
    let last = progress.last().expect("progress notifications");
    let size = std::fs::metadata(r["result"]["structuredContent"]["path"].as_str().unwrap()).unwrap().len() as f64;
    let total = last["params"]["total"].as_f64().unwrap();
    assert!((total - size).abs() <= size * 0.05, "total {total} is not the copy's bytes ({size}): {last}");
    let message = last["params"]["message"].as_str().unwrap();
    assert!(message.starts_with("acme/big: ") && message.ends_with(" MiB"), "{message}");
    s.close();
}

#[test]
fn rehearse_migration_answers_as_db_rehearse_does() {
    let env = Env::new();
    let src = source(&env, 50);
    let before = std::fs::read(&src).unwrap();
    let migration = env.path("0001.sql");
    std::fs::write(&migration, "DELETE FROM t WHERE id <= 5;\nCREATE INDEX t_by_body ON t(body, id);\n").unwrap();
    let mut s = Session::start(&env);
    let args = json!({"source": src.to_str().unwrap(), "migrations": [migration.to_str().unwrap()]});
    let (_, report) = s.ok("rehearse_migration", args.clone());
    assert_eq!(report["migrations"][0]["ok"], true, "{report}");
    assert_eq!(report["migrations"][0]["tables"]["t"]["deleted"], 5);
    assert_eq!(report["worst"], "warning");
    let cli = env.run(&["--json", "db", "rehearse", src.to_str().unwrap(), migration.to_str().unwrap()]).ok().json();
    let codes = |r: &Value| {
        r["migrations"][0]["findings"].as_array().unwrap().iter().map(|f| f["code"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(codes(&report), codes(&cli));
    // A bad file is the CLI's sentence; the source is never written.
    let missing = env.path("missing.sql");
    let want = cli_error(&env, &["db", "rehearse", src.to_str().unwrap(), missing.to_str().unwrap()], 2);
    assert_eq!(s.err("rehearse_migration", json!({"source": src.to_str().unwrap(), "migrations": [missing]})), want);
    s.close();
    assert_eq!(std::fs::read(&src).unwrap(), before);
    assert_eq!(env.registry_len(), 0);
}

#[test]
fn reset_database_refuses_under_an_open_file_unless_told_what_to_do() {
    let env = Env::new();
    let src = source(&env, 10);
    let mut s = Session::start(&env);
    let (_, fork) =
        s.ok("fork_database", json!({"source": src.to_str().unwrap(), "destination": "acme/app", "includeData": true}));
    let path = fork["path"].as_str().unwrap().to_string();
    s.ok("create_snapshot", json!({"address": "acme/app:before"}));
    rusqlite::Connection::open(&path).unwrap().execute("DELETE FROM t", []).unwrap();
    // Another process with the file open (a shell holding a descriptor).
    let mut holder =
        std::process::Command::new("sh").args(["-c", "exec 3<\"$1\"; exec sleep 60", "sh", &path]).spawn().unwrap();
    common::wait_until("the holder opens the file", WAIT, || {
        std::fs::read_dir(format!("/proc/{}/fd", holder.id()))
            .map(|d| d.flatten().any(|f| std::fs::read_link(f.path()).is_ok_and(|t| t == std::path::Path::new(&path))))
            .unwrap_or(false)
    });
    let want = cli_error(&env, &["db", "reset", "acme/app", "--to", "before"], 4);
    let refused = s.err("reset_database", json!({"address": "acme/app", "to": "before", "confirm": true}));
    assert_eq!(refused, want);
    assert!(refused.contains(&format!("pid {} (sleep 60)", holder.id())), "{refused}");
    assert_eq!(rows(&path), 0, "refused: unchanged");
    s.ok("reset_database", json!({"address": "acme/app", "to": "before", "confirm": true, "whenOpen": "inPlace"}));
    assert_eq!(rows(&path), 10, "written in place");
    s.ok("branch_put", json!({"address": "acme/app@b", "includeData": true}));
    let _ = holder.kill();
    let _ = holder.wait();
}
