//! End-to-end tests of remotes (SPEC section 15): push and pull through a
//! real S3 server on 127.0.0.1 (SeaweedFS `weed mini`, one per run of this
//! binary, see `common::s3`) and through `file://`, with two or three
//! homes standing for machines.
//!
//! Every test works under a prefix of its own in the one bucket. Sources
//! are small (a few MiB); packs are made small with `SQLFORK_TEST_CHUNK_PAGES`
//! where a test needs several.

mod common;

use common::s3::{self, S3};
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// About 2.5 MiB: 8000 rows of 200 bytes and an index.
const SOURCE_SQL: &str = "
    PRAGMA page_size = 4096;
    CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER);
    CREATE INDEX t_n ON t(n);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000)
    INSERT INTO t(v, n) SELECT printf('%.200c', char(65 + x % 26)) || x, x % 97 FROM c;";

/// One machine: a home, and the variables that reach the S3 server.
struct Machine {
    env: Env,
    vars: Vec<(&'static str, String)>,
}

impl Machine {
    fn new(s3: Option<&S3>) -> Self {
        Machine { env: Env::new(), vars: s3.map(S3::vars).unwrap_or_default() }
    }
    fn cmd(&self, args: &[&str]) -> Cmd {
        self.env.cmd(args).envs(&self.vars)
    }
    fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }
    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        self.run(&a).ok().json()
    }
    /// The file of a local snapshot, from `snapshot list`.
    fn snapshot_file(&self, db: &str, name: &str) -> PathBuf {
        let v = self.json(&["snapshot", "list", db]);
        let s = v.as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("{v:#}"));
        PathBuf::from(s["path"].as_str().unwrap())
    }
    /// The files of the snapshots pulled into this home.
    fn pulled_files(&self) -> Vec<PathBuf> {
        let v = self.env.registry();
        v.get("snapshots")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter(|s| s.get("remote").is_some())
                    .map(|s| PathBuf::from(s["path"].as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Nothing half-made: no partial pull, no pulled snapshot, no entry.
    fn assert_nothing_pulled(&self, what: &str) {
        assert!(self.pulled_files().is_empty(), "{what}: a pulled snapshot was recorded");
        let partial = self.env.home.join("remotes").join("partial");
        let left: Vec<_> =
            std::fs::read_dir(&partial).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert!(left.is_empty(), "{what}: partial files left: {left:?}");
        assert_no_strays(&self.env, what);
    }
}

/// The S3 server, or (loudly) none.
fn server() -> Option<&'static S3> {
    s3::server()
}

/// A machine with `acme/orders` imported from [`SOURCE_SQL`] and the
/// remote `origin` at `url`.
fn origin(s3: Option<&S3>, url: &str) -> Machine {
    let m = Machine::new(s3);
    let src = m.env.db("orders.db", SOURCE_SQL);
    m.run(&["db", "import", "acme/orders", src.to_str().unwrap()]).ok();
    m.run(&["remote", "add", "origin", url]).ok();
    m
}

fn other(s3: Option<&S3>, url: &str) -> Machine {
    let m = Machine::new(s3);
    m.run(&["remote", "add", "origin", url]).ok();
    m
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no number `{key}` in {v:#}"))
}

/// Change about 1 % of the rows of the database at `path`.
fn change_one_percent(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("UPDATE t SET v = upper(v) || '!' WHERE id % 100 = 7").unwrap();
}

#[test]
fn remotes_live_in_config_and_bad_input_is_one_clear_error() {
    let m = Machine::new(None);
    std::fs::create_dir_all(&m.env.home).unwrap();
    std::fs::write(m.env.home.join("config.toml"), "# my settings\ndefault_namespace = \"acme\"\n").unwrap();
    let store = m.env.path("store");
    let url = format!("file://{}", store.display());
    m.run(&["remote", "add", "origin", &url]).ok();
    m.run(&["remote", "add", "s3", "s3://my-bucket/team", "--region", "eu-west-1", "--require-masked"]).ok();
    let config = std::fs::read_to_string(m.env.home.join("config.toml")).unwrap();
    assert!(config.contains("# my settings") && config.contains("[remotes.origin]"), "{config}");
    assert!(!config.to_lowercase().contains("secret"), "{config}");
    let list = m.json(&["remote", "list"]);
    assert_eq!(list[0]["name"], "origin", "{list:#}");
    assert_eq!(list[1]["requireMasked"], true, "{list:#}");
    assert_eq!(list[1]["region"], "eu-west-1", "{list:#}");
    m.run(&["remote", "add", "origin", &url]).code(4).one_line_error().stderr_has("already exists");
    m.run(&["remote", "add", "Origin", &url]).code(2).one_line_error();
    m.run(&["remote", "add", "x", "http://example.com/b"]).code(2).one_line_error().stderr_has("s3://");
    m.run(&["remote", "add", "x", "file://relative/dir"]).code(2).one_line_error();
    m.run(&["remote", "remove", "nope"]).code(3).one_line_error().stderr_has("origin");
    m.run(&["remote", "remove", "s3"]).ok();
    assert_eq!(m.json(&["remote", "list"]).as_array().unwrap().len(), 1);
    // Addresses.
    m.run(&["pull", "origin:acme/orders"]).code(2).one_line_error();
    m.run(&["pull", "nope:acme/orders:n"]).code(3).one_line_error().stderr_has("no remote `nope`");
    m.run(&["db", "fork", "nope:acme/orders:n", "x"]).code(3).one_line_error();
    m.run(&["pull", "origin:acme/orders:none"]).code(3).one_line_error().stderr_has("no snapshots");
    m.run(&["push", "acme/orders:n"]).code(3).one_line_error();
    assert!(!store.join("snapshots").exists());
}

/// Every fidelity case survives a push and a pull byte for byte (through
/// `file://`, a shared directory), and a schema-only fork from a remote
/// needs nothing but the schema record.
#[test]
fn file_remote_round_trip_is_exact_and_a_schema_only_fork_needs_only_the_schema() {
    macro_rules! case_table {
        ($($name:ident: $sql:expr;)*) => {
            const CASES: &[(&str, &str)] = &[$((stringify!($name), $sql)),*];
        };
    }
    common::cases::fidelity_cases!(case_table);
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let a = Machine::new(None);
    a.run(&["remote", "add", "origin", &url]).ok();
    let b = other(None, &url);
    // Three at a time (each case is five runs of the binary).
    let round_trip = |(name, sql): &(&str, &str)| {
        let slug = name.replace('_', "-");
        let src = a.env.db(&format!("{name}.db"), sql);
        a.run(&["db", "import", &format!("local/{slug}"), src.to_str().unwrap()]).ok();
        a.run(&["snapshot", "create", &format!("local/{slug}:s")]).ok();
        a.run(&["push", &format!("local/{slug}:s")]).ok();
        let v = b.json(&["db", "fork", &format!("origin:local/{slug}:s"), &slug, "--with-data"]);
        let fork = PathBuf::from(v["path"].as_str().unwrap());
        let snap = a.snapshot_file(&format!("local/{slug}"), "s");
        assert_same(&image(&src), &fork, false, name);
        let pulled = b.pulled_files();
        let got = pulled.iter().find(|p| file_bytes(p) == file_bytes(&snap));
        assert!(got.is_some(), "{name}: no pulled snapshot is the pushed one byte for byte");
    };
    std::thread::scope(|scope| {
        for part in CASES.chunks(CASES.len().div_ceil(3)) {
            scope.spawn(|| part.iter().for_each(round_trip));
        }
    });
    // Schema only: with every pack and page list gone from the store, a
    // schema-only fork still works (it reads the schema record alone); a
    // data fork is one clear error and leaves nothing.
    let src = a.env.db("orders.db", SOURCE_SQL);
    a.run(&["db", "import", "local/orders", src.to_str().unwrap()]).ok();
    a.run(&["snapshot", "create", "local/orders:s"]).ok();
    a.run(&["push", "local/orders:s"]).ok();
    let slug = "orders";
    let mut removed = 0;
    for e in walk(store.path()) {
        let name = e.to_string_lossy().into_owned();
        if name.ends_with(".pack") || name.ends_with(".list") {
            std::fs::remove_file(&e).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 0);
    let c = other(None, &url);
    let v = c.json(&["db", "fork", &format!("origin:local/{slug}:s"), "only-schema"]);
    assert_same(&image(&src), Path::new(v["path"].as_str().unwrap()), true, "schema-only fork from a remote");
    let d = other(None, &url);
    d.run(&["db", "fork", &format!("origin:local/{slug}:s"), "x", "--with-data", "--quiet"])
        .code(1)
        .one_line_error()
        .stderr_has(&format!("origin:local/{slug}:s"))
        .stderr_has("missing");
    d.assert_nothing_pulled("a data fork of a remote snapshot whose data is gone");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn push_and_pull_through_s3_are_exact_and_incremental() {
    let Some(s3) = server() else { return };
    let url = s3.remote_url("incremental");
    let a = origin(Some(s3), &url);
    a.run(&["snapshot", "create", "acme/orders:n1"]).ok();
    let first = a.json(&["push", "acme/orders:n1", "origin"]);
    let size = n(&first, "sizeBytes");
    assert!(n(&first, "bytesUploaded") >= size, "{first:#}");
    assert_eq!(n(&first, "pagesTotal"), size / 4096, "{first:#}");
    // A name on a remote never changes.
    a.run(&["push", "acme/orders:n1"]).code(4).one_line_error().stderr_has("already exists");
    // The second push after 1 % of rows changed sends a little.
    change_one_percent(&a.env.path("orders.db"));
    a.run(&["snapshot", "create", "acme/orders:n2"]).ok();
    let second = a.json(&["push", "acme/orders:n2"]);
    assert!(
        n(&second, "bytesUploaded") * 4 < n(&first, "bytesUploaded"),
        "the second push is not incremental: {second:#} after {first:#}"
    );
    assert!(n(&second, "pagesReused") * 10 >= n(&second, "pagesTotal") * 6, "{second:#}");

    // Another machine forks it exactly.
    let b = other(Some(s3), &url);
    let v = b.json(&["db", "fork", "origin:acme/orders:n1", "pr-1", "--with-data"]);
    assert_eq!(v["forkedFrom"]["name"], "origin:acme/orders:n1", "{v:#}");
    let n1 = a.snapshot_file("acme/orders", "n1");
    assert!(file_bytes(Path::new(v["path"].as_str().unwrap())) == file_bytes(&n1), "the fork is not n1");
    // A second fork, and a pull, download nothing.
    let r = b.run(&["db", "fork", "origin:acme/orders:n1", "pr-2", "--with-data"]).ok();
    assert!(!r.stderr.contains("Pulled"), "{}", r.dump());
    let again = b.json(&["pull", "origin:acme/orders:n1"]);
    assert_eq!(n(&again, "bytesDownloaded"), 0, "{again:#}");
    // A pull of n2 reuses n1's pages.
    let p2 = b.json(&["pull", "origin:acme/orders:n2"]);
    assert!(n(&p2, "bytesDownloaded") * 3 < size, "the pull of n2 downloaded too much: {p2:#}");
    assert!(n(&p2, "pagesReused") * 10 >= n(&p2, "pagesTotal") * 6, "{p2:#}");
    let n2 = a.snapshot_file("acme/orders", "n2");
    assert!(file_bytes(Path::new(p2["path"].as_str().unwrap())) == file_bytes(&n2), "the pull is not n2");
    // What the remote holds.
    let list = b.json(&["snapshot", "list", "origin:acme/orders"]);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["n1", "n2"], "{list:#}");
    assert_eq!(n(&list[0], "sizeBytes"), size);
    assert!(!list[0]["host"].as_str().unwrap().is_empty());
    let all = b.json(&["remote", "list", "--snapshots"]);
    assert_eq!(all[0]["snapshots"].as_array().unwrap().len(), 2, "{all:#}");

    // Two machines race to push one name: exactly one wins.
    let c = origin(Some(s3), &url);
    change_one_percent(&c.env.path("orders.db"));
    for round in 0..3 {
        let name = format!("race-{round}");
        a.run(&["snapshot", "create", &format!("acme/orders:{name}")]).ok();
        c.run(&["snapshot", "create", &format!("acme/orders:{name}")]).ok();
        // --quiet: a slow push draws progress on stderr before it fails.
        let pa = a.cmd(&["push", &format!("acme/orders:{name}"), "--quiet"]).spawn();
        let pc = c.cmd(&["push", &format!("acme/orders:{name}"), "--quiet"]).spawn();
        let (ra, rc) = (pa.finish(), pc.finish());
        let mut codes = [ra.code, rc.code];
        codes.sort();
        assert_eq!(codes, [0, 4], "round {round}:\n{}\n{}", ra.dump(), rc.dump());
        let loser = if ra.code == 4 { ra } else { rc };
        loser.one_line_error().stderr_has("already exists");
        let got = b.json(&["pull", &format!("origin:acme/orders:{name}")]);
        let bytes = file_bytes(Path::new(got["path"].as_str().unwrap()));
        let (fa, fc) = (a.snapshot_file("acme/orders", &name), c.snapshot_file("acme/orders", &name));
        assert!(bytes == file_bytes(&fa) || bytes == file_bytes(&fc), "round {round}: the pull is neither push");
    }
    // Deleting one on the remote.
    b.run(&["snapshot", "delete", "origin:acme/orders:race-0", "--yes"]).ok();
    b.run(&["pull", "origin:acme/orders:race-0"]).code(3).one_line_error();
}

/// The key of the first object under `prefix` whose name ends with `ext`.
fn first_object(s3: &S3, prefix: &str, ext: &str) -> String {
    s3.list(prefix).into_iter().map(|(k, _)| k).find(|k| k.ends_with(ext)).unwrap_or_else(|| panic!("no {ext}"))
}

#[test]
fn damaged_missing_and_crafted_objects_are_one_clear_error_with_nothing_made() {
    let Some(s3) = server() else { return };
    let url = s3.remote_url("damage");
    let a = origin(Some(s3), &url);
    a.run(&["snapshot", "create", "acme/orders:n1"]).ok();
    a.run(&["push", "acme/orders:n1"]).ok();
    let b = other(Some(s3), &url);
    let pack = first_object(s3, "damage/data", ".pack");
    let good = s3.get(&pack);
    // One flipped byte.
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x40;
    s3.put(&pack, bad);
    b.run(&["pull", "origin:acme/orders:n1", "--quiet"])
        .code(1)
        .one_line_error()
        .stderr_has("origin:acme/orders:n1")
        .stderr_has("does not match its hash");
    b.assert_nothing_pulled("a damaged pack");
    // A missing pack.
    s3.delete(&pack);
    b.run(&["db", "fork", "origin:acme/orders:n1", "x", "--with-data", "--quiet"])
        .code(1)
        .one_line_error()
        .stderr_has("origin:acme/orders:n1")
        .stderr_has("is missing");
    b.assert_nothing_pulled("a missing pack");
    s3.put(&pack, good);
    b.run(&["pull", "origin:acme/orders:n1"]).ok();

    // Crafted manifests: a name with '..', absurd sizes, a page list that
    // does not add up, a huge manifest.
    let manifest: Value = serde_json::from_slice(&s3.get("damage/snapshots/acme/orders/n1.json")).unwrap();
    let craft = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut m = manifest.clone();
        m["name"] = Value::from(name);
        f(&mut m);
        s3.put(&format!("damage/snapshots/acme/orders/{name}.json"), serde_json::to_vec(&m).unwrap());
        let c = other(Some(s3), &url);
        let r = c.run(&["pull", &format!("origin:acme/orders:{name}")]).code(1).one_line_error();
        assert!(r.stderr.contains("damaged"), "{}", r.dump());
        c.assert_nothing_pulled(name);
    };
    craft("dots", &|m| m["name"] = Value::from("../../etc"));
    craft("absurd", &|m| m["pageCount"] = Value::from(u64::MAX));
    craft("not-adding-up", &|m| m["pageCount"] = Value::from(manifest["pageCount"].as_u64().unwrap() + 1));
    craft("bad-hash", &|m| m["packs"] = Value::from(vec!["../../../x"]));
    craft("bad-list", &|m| m["pages"]["sha256"] = manifest["schema"]["sha256"].clone());
}

/// Start `push SNAP` with small packs (32 pages) and kill it once one is
/// uploaded.
fn kill_push_after_a_pack(m: &Machine, snap: &str) {
    let mut push = m
        .cmd(&["push", snap])
        .env("SQLFORK_TEST_CHUNK_PAGES", "32")
        .env("SQLFORK_TEST_PAUSE", "remote-pack-uploaded:60000")
        .spawn();
    push.wait_for_stderr("paused at remote-pack-uploaded", Duration::from_secs(60));
    push.kill();
    push.finish();
}

#[test]
fn a_killed_push_and_a_killed_pull_resume_where_they_stopped() {
    let Some(s3) = server() else { return };
    let url = s3.remote_url("resume");
    let a = origin(Some(s3), &url);
    a.run(&["snapshot", "create", "acme/orders:n1"]).ok();
    kill_push_after_a_pack(&a, "acme/orders:n1");
    let r = a.run(&["snapshot", "list", "origin:acme/orders"]).ok();
    assert!(!r.stdout.contains("n1"), "a killed push is listed:\n{}", r.dump());
    // `db resume` finds it (by the address the push took) and does not send
    // again the packs that were uploaded.
    let size = std::fs::metadata(a.snapshot_file("acme/orders", "n1")).unwrap().len();
    let done = a.json(&["db", "resume", "acme/orders:n1"]);
    assert!(n(&done, "pagesReused") >= 32, "the push did not resume: {done:#}");
    assert!(n(&done, "bytesUploaded") < size, "the resumed push sent it all again ({size} bytes): {done:#}");
    assert_eq!(done["address"], "origin:acme/orders:n1", "{done:#}");
    let again = a.run(&["db", "resume", "acme/orders:n1"]).ok();
    assert!(again.stdout.contains("nothing to resume"), "{}", again.dump());
    a.run(&["db", "resume", "acme/orders:nope"]).code(3);

    let b = other(Some(s3), &url);
    let mut pull =
        b.cmd(&["pull", "origin:acme/orders:n1"]).env("SQLFORK_TEST_PAUSE", "remote-range-written:60000").spawn();
    pull.wait_for_stderr("paused at remote-range-written", Duration::from_secs(60));
    pull.kill();
    pull.finish();
    assert!(b.pulled_files().is_empty());
    // `db resume` with no address finishes every interrupted fork, push
    // and pull; the pages already downloaded are not fetched again.
    let all = b.json(&["db", "resume"]);
    let all = all.as_array().unwrap_or_else(|| panic!("db resume --json gives an array: {all:#}"));
    assert_eq!(all.len(), 1, "{all:#?}");
    let got = &all[0];
    assert_eq!(got["address"], "origin:acme/orders:n1", "{got:#}");
    assert!(n(got, "pagesReused") >= 1, "the pull did not resume: {got:#}");
    assert!(n(got, "bytesDownloaded") < size, "the resumed pull fetched it all again ({size} bytes): {got:#}");
    let want = file_bytes(&a.snapshot_file("acme/orders", "n1"));
    assert!(file_bytes(Path::new(got["path"].as_str().unwrap())) == want, "the resumed pull is not n1");
    let none = b.run(&["db", "resume"]).ok();
    assert!(none.stdout.contains("Nothing to resume"), "{}", none.dump());
    let r = b.run(&["db", "resume", "origin:acme/orders:n1"]).ok();
    assert!(r.stdout.contains("nothing to resume"), "{}", r.dump());
}

#[test]
fn gc_removes_expired_and_unreferenced_data_but_never_what_a_snapshot_or_a_push_needs() {
    let Some(s3) = server() else { return };
    let url = s3.remote_url("gc");
    let a = origin(Some(s3), &url);
    a.run(&["snapshot", "create", "acme/orders:n1"]).ok();
    a.run(&["push", "acme/orders:n1", "--ttl", "1h"]).ok();
    change_one_percent(&a.env.path("orders.db"));
    a.run(&["snapshot", "create", "acme/orders:n2"]).ok();
    a.run(&["push", "acme/orders:n2"]).ok();
    a.run(&["remote", "gc", "origin", "--grace", "0s"]).ok();
    let later = humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(7200)).to_string();
    let v = a.cmd(&["remote", "gc", "origin", "--grace", "0s", "--json"]).now(&later).run().ok().json();
    assert_eq!(v["expired"][0]["name"], "n1", "{v:#}");
    assert!(n(&v, "objectsRemoved") >= 1, "{v:#}");
    let b = other(Some(s3), &url);
    b.run(&["pull", "origin:acme/orders:n1"]).code(3);
    let got = b.json(&["pull", "origin:acme/orders:n2"]);
    assert!(file_bytes(Path::new(got["path"].as_str().unwrap())) == file_bytes(&a.snapshot_file("acme/orders", "n2")));

    // gc racing a push: while the push holds its lease, nothing
    // unreferenced goes (its packs are unreferenced until its manifest).
    change_one_percent(&a.env.path("orders.db"));
    a.run(&["snapshot", "create", "acme/orders:n3"]).ok();
    let mut push = a
        .cmd(&["push", "acme/orders:n3"])
        .env("SQLFORK_TEST_CHUNK_PAGES", "16")
        .env("SQLFORK_TEST_PAUSE", "remote-pack-uploaded:1500")
        .spawn();
    push.wait_for_stderr("paused at remote-pack-uploaded", Duration::from_secs(60));
    let v = a.json(&["remote", "gc", "origin", "--grace", "0s"]);
    assert_eq!(n(&v, "objectsRemoved"), 0, "{v:#}");
    assert!(v["keptBecause"].as_str().unwrap().contains("push"), "{v:#}");
    push.finish().ok();
    a.run(&["remote", "gc", "origin", "--grace", "0s"]).ok();
    let c = other(Some(s3), &url);
    for name in ["n2", "n3"] {
        let got = c.json(&["pull", &format!("origin:acme/orders:{name}")]);
        let want = file_bytes(&a.snapshot_file("acme/orders", name));
        assert!(file_bytes(Path::new(got["path"].as_str().unwrap())) == want, "{name} after gc");
    }
    // A deleted snapshot's data goes; the rest stays whole.
    a.run(&["snapshot", "delete", "origin:acme/orders:n2", "--yes"]).ok();
    let v = a.json(&["remote", "gc", "origin", "--grace", "0s"]);
    assert!(n(&v, "objectsRemoved") >= 1, "{v:#}");
    let d = other(Some(s3), &url);
    let got = d.json(&["pull", "origin:acme/orders:n3"]);
    assert!(file_bytes(Path::new(got["path"].as_str().unwrap())) == file_bytes(&a.snapshot_file("acme/orders", "n3")));
}

#[test]
fn snapshot_delete_removes_a_pulled_copy_and_the_remote_keeps_it() {
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let a = origin(None, &url);
    a.run(&["snapshot", "create", "acme/orders:n1"]).ok();
    a.run(&["push", "acme/orders:n1"]).ok();
    let b = other(None, &url);
    // A schema-only copy (a schema-only fork's), then the data copy.
    b.run(&["db", "fork", "origin:acme/orders:n1", "only-schema"]).ok();
    let got = b.json(&["pull", "origin:acme/orders:n1"]);
    let file = PathBuf::from(got["path"].as_str().unwrap());
    assert_eq!(b.pulled_files().len(), 2);
    let r = b.run(&["snapshot", "delete", "acme/orders:n1", "--yes"]).ok();
    assert!(r.stdout.contains("pulled into this home") && r.stdout.contains("origin:acme/orders:n1"), "{}", r.dump());
    assert!(b.pulled_files().is_empty(), "a pulled copy is still recorded");
    assert!(!file.exists(), "the pulled file is still there");
    assert_no_strays(&b.env, "after deleting a pulled copy");
    b.run(&["snapshot", "delete", "acme/orders:n1", "--yes"]).code(3);
    let listed = b.run(&["snapshot", "list", "origin:acme/orders"]).ok();
    assert!(listed.stdout.contains("n1"), "the remote lost it:\n{}", listed.dump());
    // The fork made from it lives on; a new pull brings it back.
    b.run(&["db", "show", "acme/only-schema"]).ok();
    b.run(&["pull", "origin:acme/orders:n1"]).ok();
}

#[test]
fn a_push_that_starts_while_gc_sweeps_waits_for_it_and_loses_nothing() {
    // The race: a killed push left packs no manifest names, and its lease
    // went stale; gc lists the leases (none), then a push of the same
    // snapshot starts, finds those packs still there and would reuse them,
    // and gc sweeps them. A file:// remote, so the test can age the lease.
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let a = origin(None, &url);
    a.run(&["snapshot", "create", "acme/orders:n1"]).ok();
    kill_push_after_a_pack(&a, "acme/orders:n1");
    // An hour later: the killed push's lease is stale (here: gone).
    std::fs::remove_dir_all(store.path().join("leases")).unwrap();
    let mut gc = a
        .cmd(&["remote", "gc", "origin", "--grace", "0s", "--json"])
        .env("SQLFORK_TEST_PAUSE", "remote-gc-before-sweep:4000")
        .spawn();
    gc.wait_for_stderr("paused at remote-gc-before-sweep", Duration::from_secs(60));
    // gc has listed the leases and chosen what to sweep: the killed push's
    // packs. The push started now waits for the sweep, then sends them again.
    let pushed = a.json(&["push", "acme/orders:n1"]);
    let swept = gc.finish().ok().json();
    assert!(n(&swept, "objectsRemoved") >= 2, "gc did not sweep the killed push's packs: {swept:#}");
    assert!(n(&pushed, "bytesUploaded") > 0, "{pushed:#}");
    let b = other(None, &url);
    let got = b.json(&["pull", "origin:acme/orders:n1"]);
    assert!(
        file_bytes(Path::new(got["path"].as_str().unwrap())) == file_bytes(&a.snapshot_file("acme/orders", "n1")),
        "the push that raced gc is not n1"
    );
    let left: Vec<_> = walk(store.path()).into_iter().filter(|p| p.to_string_lossy().contains("/sweeps/")).collect();
    assert!(left.is_empty(), "gc left its sweep marker: {left:?}");
}

const CUSTOMERS_SQL: &str = "
    CREATE TABLE customers(id INTEGER PRIMARY KEY, email TEXT NOT NULL, city TEXT);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
    INSERT INTO customers(email, city) SELECT 'person' || x || '.original@leak-check.example', 'Paris' FROM c;";

/// True when any object under `prefix` holds `needle`.
fn bucket_holds(s3: &S3, prefix: &str, needle: &[u8]) -> bool {
    s3.list(prefix).iter().any(|(k, _)| s3.get(k).windows(needle.len()).any(|w| w == needle))
}

#[test]
fn a_require_masked_remote_takes_only_masked_snapshots_and_credentials_never_show() {
    let Some(s3) = server() else { return };
    let m = Machine::new(Some(s3));
    let src = m.env.db("prod.db", CUSTOMERS_SQL);
    m.run(&["db", "import", "acme/prod", src.to_str().unwrap()]).ok();
    m.run(&["remote", "add", "secure", &s3.remote_url("masked"), "--require-masked"]).ok();
    m.run(&["remote", "add", "open", &s3.remote_url("unmasked")]).ok();
    m.run(&["snapshot", "create", "acme/prod:plain"]).ok();
    m.run(&["push", "acme/prod:plain", "secure"]).code(2).one_line_error().stderr_has("masked");
    let rules = m.env.path("mask.toml");
    std::fs::write(&rules, "seed = \"s\"\n[tables.customers]\nemail = \"email\"\n").unwrap();
    m.run(&["db", "fork", "acme/prod", "acme/safe", "--with-data", "--mask", rules.to_str().unwrap()]).ok();
    m.run(&["snapshot", "create", "acme/safe:s"]).ok();
    let v = m.json(&["push", "acme/safe:s", "secure"]);
    assert_eq!(v["masked"], true, "{v:#}");
    // The byte scan: no original value in any object; the same scan finds
    // them in a remote that took the unmasked snapshot.
    let original = b"person17.original@leak-check.example";
    assert!(!bucket_holds(s3, "masked", original), "an original value reached the require-masked remote");
    m.run(&["push", "acme/prod:plain", "open"]).ok();
    assert!(bucket_holds(s3, "unmasked", original), "the scan cannot see originals");
    let list = m.json(&["snapshot", "list", "secure:acme/safe"]);
    assert_eq!(list[0]["masked"], true, "{list:#}");

    // A wrong secret: one sentence, and the secret never shows.
    let wrong = "wrong-secret-4f9a8b7c6d5e";
    for args in [&["push", "acme/safe:s", "open"][..], &["snapshot", "list", "open:acme/safe", "--json"][..]] {
        let r = m.cmd(args).env("AWS_SECRET_ACCESS_KEY", wrong).run().code(1).one_line_error();
        assert!(r.stderr.contains("credentials"), "{}", r.dump());
        assert!(!r.stderr.contains(wrong) && !r.stdout.contains(wrong), "the secret was printed:\n{}", r.dump());
        assert!(!r.stderr.contains(s3::SECRET_KEY), "{}", r.dump());
    }
    // Keys from ~/.aws/credentials (and the endpoint from ~/.aws/config).
    let aws = m.env.dir.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!("[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n", s3::ACCESS_KEY, s3::SECRET_KEY),
    )
    .unwrap();
    std::fs::write(aws.join("config"), format!("[default]\nregion = us-east-1\nendpoint_url = {}\n", s3.endpoint))
        .unwrap();
    let bare = m.env.cmd(["snapshot", "list", "secure:acme/safe", "--json"]).run().ok().json();
    assert_eq!(bare[0]["name"], "s", "{bare:#}");
    let home_files = walk(&m.env.home);
    for f in home_files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(!bytes.windows(s3::SECRET_KEY.len()).any(|w| w == s3::SECRET_KEY.as_bytes()), "{f:?} holds the secret");
    }
}

#[test]
fn the_library_pushes_and_pulls() {
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("orders.db");
    make_db(&src, SOURCE_SQL);
    let one = sqlfork::Sqlfork::open(dir.path().join("one")).unwrap();
    one.add_remote("origin", &url, &Default::default()).unwrap();
    one.import("acme/orders", &src, None).unwrap();
    one.snapshot("acme/orders", Some("n1"), None).unwrap();
    let pushed = one.push("acme/orders:n1", None, None, &mut sqlfork::NoProgress).unwrap();
    assert_eq!(pushed.snapshot.address, "origin:acme/orders:n1");
    let again = one.push("acme/orders:n1", Some("origin"), None, &mut sqlfork::NoProgress).unwrap_err();
    assert!(matches!(again, sqlfork::Error::RemoteSnapshotTaken { .. }), "{again:?}");
    let two = sqlfork::Sqlfork::open(dir.path().join("two")).unwrap();
    two.add_remote("origin", &url, &Default::default()).unwrap();
    assert_eq!(two.remote_snapshots("origin:acme/orders").unwrap().len(), 1);
    let pulled = two.pull("origin:acme/orders:n1", &mut sqlfork::NoProgress).unwrap();
    assert!(!pulled.already_here && pulled.figures.bytes_transferred > 0);
    let fork = two
        .fork("origin:acme/orders:n1", "acme/pr-1", &sqlfork::ForkOptions { with_data: true, ..Default::default() })
        .unwrap();
    assert_same(&image(&src), &fork.path, false, "library fork of a pulled snapshot");
    let missing = two.pull("origin:acme/orders:n9", &mut sqlfork::NoProgress).unwrap_err();
    assert!(matches!(missing, sqlfork::Error::RemoteSnapshotNotFound { .. }), "{missing:?}");
}

/// `db rehearse` takes a remote snapshot as its SOURCE, as `db fork` does:
/// pulled into the home first, then rehearsed on a local fork of it.
#[test]
fn a_rehearsal_of_a_remote_snapshot_pulls_it_first() {
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let a = origin(None, &url);
    a.run(&["snapshot", "create", "acme/orders:s1"]).ok();
    a.run(&["push", "acme/orders:s1"]).ok();
    let b = other(None, &url);
    let migration = b.env.path("0001.sql");
    std::fs::write(&migration, "DELETE FROM t WHERE n = 0;\n").unwrap();
    let report = b.json(&["db", "rehearse", "origin:acme/orders:s1", migration.to_str().unwrap()]);
    // x % 97 = 0 for x in 1..=8000: 82 rows.
    assert_eq!(report["migrations"][0]["ok"], true, "{report:#}");
    assert_eq!(n(&report["migrations"][0]["tables"]["t"], "deleted"), 82, "{report:#}");
    assert_eq!(report["worst"], "warning", "{report:#}");
    // The pulled snapshot stays (the next rehearsal downloads nothing); the
    // rehearsal fork is gone.
    assert_eq!(b.pulled_files().len(), 1);
    let listed = b.json(&["db", "list"]);
    assert_eq!(listed.as_array().map(|a| a.len()), Some(0), "{listed:#}");
}
