//! One door: the same operation through the command line, the MCP server
//! and the Rust SDK gives the same result, because all three resolve their
//! arguments in one place (`settings`) and call the same library. Each
//! surface makes a masked subset data fork of one source, a branch of it,
//! and a fork of a past snapshot (`--at`); their documents and their rows
//! must agree.

mod common;

use common::mcp::Session;
use common::Env;
use serde_json::{json, Value};
use sqlfork::mask::{Rules, SafeOptions, SubsetRule};
use sqlfork::{BranchOptions, ForkOptions, Sqlfork};
use std::path::Path;

const RULES: &str = "seed = \"same seed everywhere\"\n[tables.users]\nemail = \"email\"\nname = \"name\"\n";
const SUBSET: &str = "orders:total >= 50";

fn source(env: &Env) -> std::path::PathBuf {
    env.db(
        "shop.db",
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT);
         CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO users SELECT i, 'user' || i || '@example.test', 'Person ' || i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
         INSERT INTO orders SELECT i, 1 + i % 200, i % 100 FROM n;",
    )
}

/// Every row of every user table, in order.
fn rows(path: &Path) -> Vec<Vec<String>> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut out = Vec::new();
    for table in ["users", "orders"] {
        let mut st = c.prepare(&format!("SELECT * FROM {table} ORDER BY rowid")).unwrap();
        let n = st.column_count();
        let mut q = st.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let mut row = vec![table.to_string()];
            row.extend((0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())));
            out.push(row);
        }
    }
    out
}

/// A `--json` document without what differs by surface on purpose: the
/// address, id, name, slug, path and times (and the parent's, for a branch
/// of each surface's own fork).
fn comparable(doc: &Value) -> Value {
    let mut d = doc.clone();
    let obj = d.as_object_mut().unwrap();
    for key in ["address", "id", "name", "slug", "path", "createdAt", "forkedAt", "expiresAt", "branch"] {
        obj.remove(key);
    }
    if let Some(copy) = obj.get_mut("copy").and_then(Value::as_object_mut) {
        copy.remove("durationMs");
    }
    // A branch's parent is that surface's own fork.
    if let Some(parent) = obj.get_mut("forkedFrom").and_then(Value::as_object_mut) {
        for key in ["id", "name", "slug"] {
            parent.remove(key);
        }
    }
    d
}

#[test]
fn cli_mcp_and_sdk_give_the_same_result() {
    let env = Env::new();
    let src = source(&env);
    let src = src.to_str().unwrap();
    let rules = env.path("rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let rules = rules.to_str().unwrap();

    // A masked subset data fork, then a branch of it, expiring in two days.
    let cli = env
        .run(&[
            "--json",
            "db",
            "fork",
            src,
            "acme/cli",
            "--with-data",
            "--mask",
            rules,
            "--subset",
            SUBSET,
            "--ttl",
            "2d",
        ])
        .ok()
        .json();
    let cli_branch = env.run(&["--json", "branch", "put", "acme/cli@pr-1", "--with-data", "--ttl", "2d"]).ok().json();

    let mut mcp = Session::start(&env);
    let (_, via_mcp) = mcp.ok(
        "fork_database",
        json!({"source": src, "destination": "acme/mcp", "includeData": true, "mask": rules, "subset": [SUBSET], "ttl": "2d"}),
    );
    let (_, mcp_branch) = mcp.ok("branch_put", json!({"address": "acme/mcp@pr-1", "includeData": true, "ttl": "2d"}));

    let sdk = Sqlfork::open(&env.home).unwrap();
    let safe = SafeOptions {
        rules: Some(Rules::load(Path::new(rules)).unwrap()),
        subset: vec![SubsetRule::parse(SUBSET).unwrap()],
        strict: false,
    };
    let two_days = Some(std::time::Duration::from_secs(2 * 86400));
    let opts = ForkOptions { with_data: true, ttl: two_days, safe, ..Default::default() };
    let via_sdk = sdk.fork(src, "acme/sdk", &opts).unwrap();
    let branch_opts = BranchOptions { with_data: Some(true), ttl: two_days, ..Default::default() };
    let (sdk_branch, _) = sdk.branch_put("acme/sdk@pr-1", &branch_opts, &mut sqlfork::NoProgress).unwrap();

    // The SDK's fork, as the CLI shows it.
    let sdk_doc = env.run(&["--json", "db", "show", "acme/sdk"]).ok().json();
    let cli_doc = env.run(&["--json", "db", "show", "acme/cli"]).ok().json();
    let mcp_doc = env.run(&["--json", "db", "show", "acme/mcp"]).ok().json();
    assert_eq!(comparable(&cli), comparable(&via_mcp), "CLI and MCP fork documents differ");
    assert_eq!(comparable(&cli_doc), comparable(&sdk_doc), "CLI and SDK forks differ");
    assert_eq!(comparable(&cli_doc), comparable(&mcp_doc), "CLI and MCP forks differ");
    assert!(cli["safe"]["masked"] == true && cli["safe"]["subset"][0] == SUBSET, "{cli}");
    assert_eq!(comparable(&cli_branch), comparable(&mcp_branch), "CLI and MCP branches differ");
    let sdk_branch_doc = env.run(&["--json", "db", "show", "acme/sdk@pr-1"]).ok().json();
    let cli_branch_doc = env.run(&["--json", "db", "show", "acme/cli@pr-1"]).ok().json();
    assert_eq!(comparable(&cli_branch_doc), comparable(&sdk_branch_doc), "CLI and SDK branches differ");

    // The same rows, masked the same way (the masks are keyed by the seed).
    let want = rows(Path::new(cli["path"].as_str().unwrap()));
    assert!(want.iter().all(|r| !r.iter().any(|v| v.contains("@example.test"))), "an e-mail was left unmasked");
    assert!(want.iter().filter(|r| r[0] == "orders").count() < 400, "the subset kept every order");
    assert_eq!(rows(Path::new(via_mcp["path"].as_str().unwrap())), want, "MCP's rows differ");
    assert_eq!(rows(&via_sdk.path), want, "the SDK's rows differ");
    let branch_rows = rows(Path::new(cli_branch["path"].as_str().unwrap()));
    assert_eq!(rows(Path::new(mcp_branch["path"].as_str().unwrap())), branch_rows);
    assert_eq!(rows(&sdk_branch.path), branch_rows);

    // `--at`: the newest snapshot at or before a time, from every surface.
    env.run(&["snapshot", "create", "acme/cli:first"]).ok();
    let at = "2h";
    let cli_at = env.run(&["--json", "db", "fork", "acme/cli", "acme/cli-at", "--with-data", "--at", at]);
    let (mcp_code, sdk_result) = {
        let r = mcp.call(
            "fork_database",
            json!({"source": "acme/cli", "destination": "acme/mcp-at", "includeData": true, "at": at}),
        );
        let sdk_at = ForkOptions { with_data: true, at: Some(at.into()), ..Default::default() };
        (r, sdk.fork("acme/cli", "acme/sdk-at", &sdk_at))
    };
    // Taken just now, so two hours ago there was none: the same refusal everywhere.
    let sentence = cli_at.code(3).stderr.trim_end().strip_prefix("error: ").unwrap().to_string();
    assert_eq!(mcp_code["isError"], true, "{mcp_code}");
    assert_eq!(mcp_code["content"][0]["text"], sentence.as_str());
    let err = sdk_result.expect_err("no snapshot two hours ago");
    assert_eq!(err.to_string(), sentence);
    let (_, mcp_at) = mcp.ok(
        "fork_database",
        json!({"source": "acme/cli", "destination": "acme/mcp-now", "includeData": true, "at": "2099-01-01T00:00:00Z"}),
    );
    let cli_now = env
        .run(&["--json", "db", "fork", "acme/cli", "acme/cli-now", "--with-data", "--at", "2099-01-01T00:00:00Z"])
        .ok()
        .json();
    let sdk_now = ForkOptions { with_data: true, at: Some("2099-01-01T00:00:00Z".into()), ..Default::default() };
    let sdk_now = sdk.fork("acme/cli", "acme/sdk-now", &sdk_now).unwrap();
    assert_eq!(mcp_at["forkedFrom"]["snapshot"]["name"], "first", "{mcp_at}");
    assert_eq!(cli_now["forkedFrom"]["snapshot"]["name"], "first", "{cli_now}");
    let sdk_now_doc = env.run(&["--json", "db", "show", "acme/sdk-now"]).ok().json();
    assert_eq!(sdk_now_doc["forkedFrom"]["snapshot"]["name"], "first", "{sdk_now_doc}");
    assert_eq!(rows(&sdk_now.path), want);
    mcp.close();
}

/// One shape: the SDK's `Database` and `SnapshotInfo`, serialised, are the
/// documents `--json` prints and the MCP tools answer with, byte for byte
/// (lists), and `db show`/`db fork` add only their own fields beside them,
/// with `forkedFrom` the SDK's `Lineage`.
#[test]
fn the_sdk_types_are_the_json_documents() {
    let env = Env::new();
    let src = source(&env);
    let rules = env.path("rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let rules = rules.to_str().unwrap();
    env.run(&["db", "import", "acme/shop", src.to_str().unwrap()]).ok();
    env.run(&["db", "fork", "acme/shop", "acme/pr-1", "--with-data", "--mask", rules, "--ttl", "2d"]).ok();
    env.run(&["snapshot", "create", "acme/pr-1:before"]).ok();
    env.run(&["db", "fork", "acme/pr-1:before", "acme/pr-2"]).ok();
    let sdk = Sqlfork::open(&env.home).unwrap();

    // Lists: the very same bytes.
    let cli = env.run(&["--json", "db", "list"]).ok().stdout;
    assert_eq!(serde_json::to_string(&sdk.list(None).unwrap()).unwrap(), cli.trim_end());
    let cli = env.run(&["--json", "snapshot", "list", "acme/pr-1"]).ok().stdout;
    assert_eq!(serde_json::to_string(&sdk.snapshots("acme/pr-1").unwrap()).unwrap(), cli.trim_end());
    let mut mcp = Session::start(&env);
    let (_, listed) = mcp.ok("list_databases", json!({}));
    assert_eq!(listed, serde_json::to_value(sdk.list(None).unwrap()).unwrap());

    // One database: the SDK's fields, in the same order, then the command's own.
    let fork = env.run(&["--json", "db", "fork", "acme/pr-1:before", "acme/pr-3"]).ok().stdout;
    let show = env.run(&["--json", "db", "show", "acme/pr-2"]).ok().stdout;
    let (via_mcp, _) = mcp.ok("show_database", json!({"address": "acme/pr-2"}));
    for (address, text) in [("acme/pr-3", fork), ("acme/pr-2", show), ("acme/pr-2", via_mcp)] {
        let db = sdk.show(address).unwrap();
        let shape = serde_json::to_string(&db).unwrap();
        let fields = shape.strip_suffix('}').unwrap();
        assert!(text.starts_with(&format!("{fields},")), "{text}\ndoes not begin with\n{fields}");
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(db.forked_from.is_some());
        assert_eq!(doc["forkedFrom"], serde_json::to_value(&db.forked_from).unwrap(), "{doc}");
        assert_eq!(doc["forkedFrom"]["snapshot"]["name"], "before", "{doc}");
    }
    mcp.close();
}
