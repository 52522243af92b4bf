//! sqlfork as a library: a separate crate that depends on it by path
//! builds, links and forks with nothing else set up, as a new user's crate
//! would (SPEC section 13).
//!
//! The dependent is built with cargo, offline, outside this repository (so
//! `.cargo/config.toml` and its SQLite flags do not apply), without
//! sqlfork's `cli` feature, into a target directory kept between runs
//! (`<target>/external-dependent`) so only the first run compiles SQLite.

mod common;

use common::Env;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAIN_RS: &str = r#"
use sqlfork::{ForkOptions, Lineage, Progress, Sqlfork, Status};
use std::sync::{Arc, Mutex};

/// Counts what the copy reports.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<(u64, u64, u64, bool)>>);

impl Progress for Counter {
    fn start(&mut self, total: u64, done: u64) {
        let mut c = self.0.lock().unwrap();
        c.0 += 1;
        c.1 = total;
        c.2 = done;
    }
    fn table(&mut self, _: &str) {}
    fn advance(&mut self, n: u64) {
        self.0.lock().unwrap().2 += n;
    }
    fn finish(&mut self) {
        self.0.lock().unwrap().3 = true;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let home = args.next().expect("home");
    let source = args.next().expect("source");
    let sqlfork = Sqlfork::open(&home)?;

    // Schema only, from a file.
    let schema = sqlfork.fork(&source, "acme/schema", &ForkOptions::default())?;
    assert_eq!(schema.status, Status::Healthy);
    assert!(!schema.include_data);
    println!("schema {}", schema.path.display());

    // With data, from the registered fork's parent file, with progress.
    let counter = Counter::default();
    let mut progress = counter.clone();
    let opts = ForkOptions { with_data: true, name: Some("Orders copy".into()), ..Default::default() };
    let data = sqlfork.fork_with_progress(&source, "acme/data", &opts, &mut progress)?;
    let c = counter.0.lock().unwrap().clone();
    assert!(c.0 >= 1 && c.3, "progress started and finished: {c:?}");
    assert_eq!(c.2, c.1, "progress reached its total: {c:?}");
    println!("data {} {}", data.path.display(), data.copy.as_ref().unwrap().rows_copied);
    println!("progress {} {}", c.1, c.2);

    // Lineage: a fork of a fork names its parent.
    let child = sqlfork.fork("acme/data", "child", &ForkOptions { with_data: true, ..Default::default() })?;
    match &child.forked_from {
        Some(Lineage::Database { address, deleted: false, .. }) => println!("lineage {} {address}", child.address),
        other => panic!("unexpected lineage {other:?}"),
    }
    sqlfork.delete("acme/data")?;
    match sqlfork.show("acme/child")?.forked_from {
        Some(Lineage::Database { address, deleted: true, .. }) => println!("orphaned {address}"),
        other => panic!("unexpected lineage {other:?}"),
    }

    // A background copy is a thread of this process, not a new process.
    let bg = sqlfork.fork_in_background(&source, "acme/bg", &ForkOptions { with_data: true, ..Default::default() }, sqlfork::NoProgress)?;
    let done = bg.join()?;
    assert_eq!(done.status, Status::Healthy);
    println!("background {}", done.path.display());

    // Snapshot, a change, a diff that sees it, and a reset that undoes it.
    let snap = sqlfork.snapshot("acme/bg", Some("before"), None)?;
    println!("snapshot {}", snap.address);
    let db = sqlfork.path("acme/bg")?;
    let opts = sqlfork::diff::DiffOptions { a: "acme/bg".into(), b: Some("acme/bg:before".into()), ..Default::default() };
    println!("identical {}", sqlfork.diff(&opts)?.identical);
    let back = sqlfork.reset("acme/bg", &sqlfork::ResetOptions { to: Some("before".into()), ..Default::default() }, &mut sqlfork::NoProgress)?;
    assert_eq!(back.path, db);

    // Errors by variant.
    match sqlfork.fork(&source, "acme/schema", &ForkOptions::default()) {
        Err(sqlfork::Error::Taken { .. }) => println!("taken"),
        other => panic!("expected Taken, got {other:?}"),
    }
    Ok(())
}
"#;

/// The cargo target directory this test binary was built into.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // <target>/<profile>/deps/library-<hash>
    exe.ancestors().nth(3).expect("target directory").to_path_buf()
}

fn rows(path: &str) -> i64 {
    rusqlite::Connection::open(path).unwrap().query_row("SELECT count(*) FROM orders", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_dependent_crate_builds_links_and_forks() {
    let env = Env::new();
    let source = env.db(
        "orders.db",
        "PRAGMA journal_mode = WAL;
         CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL);
         CREATE INDEX orders_item ON orders(item);
         CREATE TRIGGER orders_touch AFTER UPDATE ON orders BEGIN SELECT 1; END;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO orders(item) SELECT 'item ' || i FROM n;",
    );

    // The dependent crate, as a new user would write it.
    let krate = dependent_crate(&env, "dependent", MAIN_RS);
    let mut cmd = cargo_run(&krate);
    cmd.arg(env.home.as_os_str()).arg(source.as_os_str());
    let out = cmd.output().expect("run cargo for the dependent crate");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "the dependent crate failed to build or run\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );

    let line = |key: &str| -> Vec<String> {
        let l = stdout
            .lines()
            .find(|l| l.split(' ').next() == Some(key))
            .unwrap_or_else(|| panic!("no `{key}` line in\n{stdout}"));
        l.split(' ').skip(1).map(str::to_string).collect()
    };
    let schema = line("schema");
    assert_eq!(rows(&schema[0]), 0, "a schema-only fork has no rows");
    assert_eq!(common::master(Path::new(&schema[0])), common::master(&source), "same schema");
    let data = line("data");
    assert_eq!(data[1], "5000");
    // The data fork was deleted by the example; its child holds the rows.
    assert!(!Path::new(&data[0]).exists(), "delete removed the file");
    let progress = line("progress");
    assert_eq!(progress[0], progress[1], "progress counted to its total");
    assert!(progress[0].parse::<u64>().unwrap() > 0);
    assert_eq!(line("lineage"), ["acme/child", "acme/data"]);
    assert_eq!(line("orphaned"), ["acme/data"]);
    let background = line("background");
    assert_eq!(rows(&background[0]), 5000);
    common::assert_sound(Path::new(&background[0]));
    assert!(stdout.lines().any(|l| l == "taken"), "{stdout}");
    assert_eq!(line("snapshot"), ["acme/bg:before"]);
    assert_eq!(line("identical"), ["true"], "a fresh snapshot equals its database");

    // The CLI sees what the library made: one registry.
    let listed = env.run(&["--json", "db", "list", "acme"]).ok().json();
    let addresses: Vec<&str> = listed.as_array().unwrap().iter().map(|e| e["address"].as_str().unwrap()).collect();
    assert_eq!(addresses, ["acme/bg", "acme/child", "acme/schema"]);
    let snaps = env.run(&["--json", "snapshot", "list", "acme/bg"]).ok().json();
    assert_eq!(snaps[0]["name"], "before");
    let child = env.run(&["--json", "db", "show", "acme/child"]).ok().json();
    assert_eq!(child["forkedFrom"]["slug"], "data");
    assert_eq!(child["forkedFrom"]["deleted"], true);
    assert_eq!(rows(child["path"].as_str().unwrap()), 5000);
}

/// A crate named `name` that depends on sqlfork by path, without the `cli`
/// feature, whose `src/main.rs` is `main_rs`.
fn dependent_crate(env: &Env, name: &str, main_rs: &str) -> PathBuf {
    let krate = env.path(name);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\
             sqlfork = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
            manifest_dir.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(krate.join("src/main.rs"), main_rs).unwrap();
    // The same versions as sqlfork's own build, so nothing is fetched.
    std::fs::copy(manifest_dir.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    krate
}

/// `cargo run` of a dependent crate, offline, into the shared target
/// directory; arguments for the program go after.
fn cargo_run(krate: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["run", "--offline", "--quiet", "--"])
        .current_dir(krate)
        .env("CARGO_TARGET_DIR", target_dir().join("external-dependent"))
        // What a dependent never has: sqlfork's own SQLite flags (cargo
        // passes its [env] to this test) and the SQLFORK_* test knobs.
        .env_remove("LIBSQLITE3_FLAGS")
        .env_remove("SQLFORK_HOME")
        .env_remove("RUSTC_WRAPPER");
    cmd
}

/// The README's one Rust block, as printed.
fn readme_example() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks: Vec<&str> = readme.split("```rust\n").skip(1).map(|b| b.split("\n```").next().unwrap()).collect();
    assert_eq!(blocks.len(), 1, "the README has one Rust example");
    format!("{}\n", blocks[0])
}

/// The README's library example builds and runs exactly as printed, and a
/// failure prints the error's sentence (not its Debug form) with its exit
/// code.
#[test]
fn the_readme_library_example_runs_as_printed() {
    let env = Env::new();
    let krate = dependent_crate(&env, "readme-example", &readme_example());
    // It forks ./prod.db, in the directory it runs in.
    let prod = env.db("prod.db", "CREATE TABLE t(id INTEGER PRIMARY KEY, x); INSERT INTO t(x) VALUES (1), (2);");
    std::fs::copy(&prod, krate.join("prod.db")).unwrap();
    let run = || {
        let out = cargo_run(&krate).env("SQLFORK_HOME", &env.home).output().expect("run cargo for the README example");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, stdout, stderr) = run();
    assert_eq!(code, Some(0), "the README example failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let fork = env.db_path("acme/pr-142");
    assert!(stdout.contains(&format!("acme/pr-142 at {}", fork.display())), "{stdout}");
    assert!(stdout.contains("Created acme/pr-142@ci at "), "{stdout}");
    assert!(stdout.contains("acme/nope does not exist"), "{stdout}");
    assert_eq!(rows_of(&fork, "t"), 2);
    // Again: the fork exists, and the example says so in the CLI's words.
    let (code, _, stderr) = run();
    assert_eq!(code, Some(4), "exit code 4 (already exists): {stderr}");
    let cli = env.run(&["db", "fork", prod.to_str().unwrap(), "acme/pr-142", "--with-data"]);
    assert_eq!(stderr.trim_end(), cli.stderr.trim_end(), "the CLI's sentence, not Debug");
    assert!(!stderr.contains("Taken {") && !stderr.contains("Address {"), "no Debug form: {stderr}");
}

fn rows_of(path: &Path, table: &str) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_library_alone_has_no_cli_dependencies() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--offline", "--edges", "normal", "--no-default-features", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(tree.contains("rusqlite"), "the tree lists the library's dependencies:\n{tree}");
    // tokio is not here: remotes (object_store) run on it, and push, pull
    // and remote listings are part of the library.
    for cli_only in ["clap ", "clap_complete ", "indicatif ", "rmcp ", "signal-hook "] {
        assert!(!tree.lines().any(|l| l.starts_with(cli_only)), "{cli_only}is in the library's tree:\n{tree}");
    }
}

/// A caller tells one failure from another by variant, never by wording:
/// a bad TTL, a bad address, a file that is not a database, a database with
/// no parent (or no base) to merge or compare with, a fork onto itself, a
/// bad config.toml.
#[test]
fn a_caller_branches_on_error_variants() {
    use sqlfork::address::AddressProblem;
    use sqlfork::error::{ConfigProblem, NoBaseWhy, NoParentFor, TtlProblem};
    use sqlfork::{diff::DiffOptions, merge::MergeOptions, Error, ForkOptions, Sqlfork};
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let sqlfork = Sqlfork::open(dir.path().join("home")).unwrap();
    let src = dir.path().join("src.db");
    rusqlite::Connection::open(&src)
        .unwrap()
        .execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, x); INSERT INTO t VALUES (1, 1);")
        .unwrap();
    let src = src.to_str().unwrap();

    let short = ForkOptions { ttl: Some(Duration::from_secs(60)), ..Default::default() };
    match sqlfork.fork(src, "acme/x", &short) {
        Err(Error::BadTtl { why: TtlProblem::OutOfRange, duration, .. }) => {
            assert_eq!(duration, Some(Duration::from_secs(60)))
        }
        other => panic!("expected BadTtl, got {other:?}"),
    }
    match sqlfork.fork(src, "Bad Name", &ForkOptions::default()) {
        Err(Error::BadAddress(e)) => {
            assert_eq!(e.problem(), AddressProblem::BadCharacter('B'));
            assert!(e.to_string().contains("Bad Name"), "{e}");
        }
        other => panic!("expected BadAddress, got {other:?}"),
    }
    assert!(matches!(sqlfork.show("nope"), Err(Error::BadAddress(e)) if e.problem() == AddressProblem::NoNamespace));

    let notes = dir.path().join("notes.db");
    std::fs::write(&notes, "just some notes\n").unwrap();
    match sqlfork.fork(notes.to_str().unwrap(), "acme/x", &ForkOptions::default()) {
        Err(Error::NotADatabase { path, .. }) => assert_eq!(path, notes),
        other => panic!("expected NotADatabase, got {other:?}"),
    }

    // A database created empty has no parent to compare with, and keeps no
    // base to merge from.
    sqlfork.create("acme/empty", None, None).unwrap();
    match sqlfork.diff(&DiffOptions { a: "acme/empty".into(), ..Default::default() }) {
        Err(Error::NoParent { address, why: NoParentFor::Diff }) => assert_eq!(address, "acme/empty"),
        other => panic!("expected NoParent, got {other:?}"),
    }
    match sqlfork.merge(&MergeOptions { fork: "acme/empty".into(), ..Default::default() }) {
        Err(Error::NoBase { address, why: NoBaseWhy::NotKept }) => assert_eq!(address.to_string(), "acme/empty"),
        other => panic!("expected NoBase, got {other:?}"),
    }

    // A mergeable fork merged into itself, and forked onto itself.
    let mergeable = ForkOptions { with_data: true, mergeable: true, ..Default::default() };
    sqlfork.fork(src, "acme/m", &mergeable).unwrap();
    let into_itself = MergeOptions { fork: "acme/m".into(), into: Some("acme/m".into()), ..Default::default() };
    assert!(matches!(sqlfork.merge(&into_itself), Err(Error::OntoItself { action: "merge", .. })));
    assert!(matches!(
        sqlfork.fork("acme/m", "acme/m", &ForkOptions::default()),
        Err(Error::OntoItself { action: "fork", .. })
    ));

    // A config.toml setting a caller can fix: the path and the setting.
    let home = dir.path().join("home");
    std::fs::write(home.join("config.toml"), "default_ttl = \"45d\"\n").unwrap();
    let outcome = match Sqlfork::open(&home) {
        Ok(s) => s.fork(src, "acme/y", &ForkOptions::default()).map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Err(Error::BadConfig { path, problem: ConfigProblem::DefaultTtl { why: TtlProblem::OutOfRange, .. } }) => {
            assert_eq!(path, Some(home.join("config.toml")))
        }
        other => panic!("expected BadConfig, got {other:?}"),
    }
}
