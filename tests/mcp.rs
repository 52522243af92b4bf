//! `sqlfork mcp`: the real binary driven over stdio with JSON-RPC, as an MCP
//! client drives it. Results must equal the CLI's `--json` documents and
//! errors must carry the CLI's sentences.

mod common;

use common::Env;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

/// One `sqlfork mcp` session.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    /// Notifications seen so far (progress, …).
    notifications: Vec<Value>,
    /// Responses read while waiting for another id.
    responses: Vec<Value>,
    next_id: u64,
}

impl Session {
    fn start(env: &Env) -> Session {
        Self::start_with(env, &[])
    }

    /// `sqlfork mcp` with these extra environment variables.
    fn start_with(env: &Env, vars: &[(&str, &str)]) -> Session {
        Self::start_cmd(env.cmd(["mcp"]).envs(vars))
    }

    fn start_cmd(cmd: common::Cmd) -> Session {
        let mut cmd = cmd.command();
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start sqlfork mcp");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("server wrote a non-JSON line ({e}): {line}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut s = Session { child, stdin, lines, notifications: Vec::new(), responses: Vec::new(), next_id: 1 };
        let init = s.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "sqlfork-tests", "version": "1"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "sqlfork", "{init}");
        assert!(init["result"]["capabilities"]["tools"].is_object(), "{init}");
        s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        s
    }

    fn send(&mut self, msg: Value) {
        let stdin = self.stdin.as_mut().expect("session open");
        writeln!(stdin, "{msg}").expect("write to sqlfork mcp");
        stdin.flush().expect("flush");
    }

    /// Send a request; return its id without waiting.
    fn send_request(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Read the next message, or None after `timeout`.
    fn read(&mut self, timeout: Duration) -> Option<Value> {
        match self.lines.recv_timeout(timeout) {
            Ok(v) => {
                if v.get("id").is_none() {
                    self.notifications.push(v.clone());
                }
                Some(v)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("sqlfork mcp closed stdout"),
        }
    }

    fn response(&mut self, id: u64) -> Value {
        if let Some(i) = self.responses.iter().position(|r| r["id"] == id) {
            return self.responses.remove(i);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self.read(left).unwrap_or_else(|| panic!("no response to request {id} within {WAIT:?}"));
            if msg["id"] == id {
                return msg;
            }
            if msg.get("id").is_some() {
                self.responses.push(msg);
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id)
    }

    /// `tools/call`; returns the `result` (a CallToolResult).
    fn call(&mut self, tool: &str, args: Value) -> Value {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}));
        assert!(r.get("error").is_none(), "{tool} gave a protocol error: {r}");
        r["result"].clone()
    }

    /// A successful call's document, parsed from its text (which must equal
    /// its structured content when it is an object).
    fn ok(&mut self, tool: &str, args: Value) -> (String, Value) {
        let result = self.call(tool, args.clone());
        assert_eq!(result["isError"], false, "{tool} {args} failed: {result}");
        let text = result["content"][0]["text"].as_str().expect("text content").to_string();
        let doc: Value = serde_json::from_str(&text).expect("the text is a JSON document");
        if doc.is_object() {
            assert_eq!(result["structuredContent"], doc, "structured content differs from the text");
        }
        (text, doc)
    }

    /// A failed call's sentence.
    fn err(&mut self, tool: &str, args: Value) -> String {
        let result = self.call(tool, args.clone());
        assert_eq!(result["isError"], true, "{tool} {args} should fail: {result}");
        result["content"][0]["text"].as_str().expect("text content").to_string()
    }

    /// Close stdin; the server must exit cleanly.
    fn close(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "sqlfork mcp exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "sqlfork mcp did not exit after stdin closed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

#[test]
fn a_data_fork_reports_progress_and_a_detached_one_is_waited_for() {
    let env = Env::new();
    let src = source(&env, 2000);
    let mut s = Session::start_with(&env, &[("SQLFORK_TEST_CHUNK_PAGES", "8")]);
    let id = s.send_request(
        "tools/call",
        json!({"name": "fork_database", "arguments": {"source": src.to_str().unwrap(), "destination": "acme/big", "includeData": true},
               "_meta": {"progressToken": "copy-1"}}),
    );
    let r = s.response(id);
    assert_eq!(r["result"]["isError"], false, "{r}");
    let progress: Vec<&Value> = s.notifications.iter().filter(|n| n["method"] == "notifications/progress").collect();
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
