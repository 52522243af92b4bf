//! Faults beyond the power cut (SPEC section 18): a reset under a running
//! application, a full disk, I/O errors.
//!
//! The running application is this test binary itself, started again as a
//! child (`app_child`, below): it opens the database with SQLite, keeps the
//! connection open, and answers commands on stdin (`count`, `write N`,
//! `quit`), so a test decides exactly when it reads and writes.

mod common;

use common::mount::{self, FsKind, LoopMount};
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

// ---------------------------------------------------------------------------
// The application: a second process that keeps the database open.

const APP_VAR: &str = "SQLFORK_TEST_APP_DB";

/// Not a test: the body of the application child. Runs only when started
/// by [`App::start`] (the variable names the database); in a normal test
/// run it does nothing.
#[test]
fn app_child() {
    let Ok(db) = std::env::var(APP_VAR) else { return };
    let conn = rusqlite::Connection::open(&db).expect("the app opens its database");
    conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    if std::env::var("SQLFORK_TEST_APP_WAL").is_ok() {
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let reply = match line.split_once(' ').unwrap_or((line.as_str(), "")) {
            ("count", _) => {
                conn.query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0)).map(|n| n.to_string())
            }
            ("write", what) => conn.execute("INSERT INTO items(body) VALUES (?1)", [what]).map(|_| "ok".to_string()),
            ("quit", _) => break,
            (other, _) => Ok(format!("unknown command {other}")),
        };
        writeln!(out, "{}", reply.unwrap_or_else(|e| format!("error: {e}"))).unwrap();
        out.flush().unwrap();
    }
}

struct App {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl App {
    /// Start the application on `db` (in WAL mode when `wal`), and wait
    /// until it has the database open.
    fn start(db: &Path, wal: bool) -> App {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.args(["app_child", "--exact", "--nocapture", "--test-threads=1"]).env(APP_VAR, db);
        if wal {
            c.env("SQLFORK_TEST_APP_WAL", "1");
        }
        let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut app = App { child, stdin, stdout };
        // libtest prints its own lines first; wait for ours.
        loop {
            let mut line = String::new();
            let n = app.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "the app ended before it was ready");
            if line.trim_end().ends_with("ready") {
                break;
            }
        }
        app
    }

    fn line(&mut self) -> String {
        let mut s = String::new();
        self.stdout.read_line(&mut s).unwrap();
        s.trim_end().to_string()
    }

    fn ask(&mut self, cmd: &str) -> String {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
        self.line()
    }

    fn count(&mut self) -> i64 {
        let r = self.ask("count");
        r.parse().unwrap_or_else(|_| panic!("the app could not count: {r}"))
    }

    fn write(&mut self, what: &str) {
        assert_eq!(self.ask(&format!("write {what}")), "ok", "the app could not write");
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn quit(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

const SRC_SQL: &str = "CREATE TABLE items(id INTEGER PRIMARY KEY, body TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
      INSERT INTO items(body) SELECT printf('item %d', i) FROM n;";

/// A home with `acme/src` (50 rows) and the fork `acme/dev` of it with
/// data, plus its snapshot `before`; then 5 more rows written into the fork.
fn fork_with_snapshot(env: &Env) -> PathBuf {
    env.db("src.db", SRC_SQL);
    env.run(&["db", "import", "acme/src", "./src.db"]).ok();
    env.run(&["db", "fork", "acme/src", "acme/dev", "--with-data"]).ok();
    env.run(&["snapshot", "create", "acme/dev:before"]).ok();
    let dev = env.db_path("acme/dev");
    exec(&dev, "INSERT INTO items(body) SELECT 'later ' || id FROM items LIMIT 5;");
    dev
}

#[test]
fn a_reset_refuses_while_an_app_has_the_database_open_and_names_it() {
    let env = Env::new();
    let dev = fork_with_snapshot(&env);
    let mut app = App::start(&dev, false);
    assert_eq!(app.count(), 55);
    let run = env.run(&["db", "reset", "acme/dev", "--to", "before"]).code(4).one_line_error();
    run.stderr_has(&format!("acme/dev is open in another process: pid {} (", app.pid()))
        .stderr_has("app_child")
        .stderr_has("--in-place")
        .stderr_has("--force");
    // Nothing changed: the app goes on with the same file.
    app.write("after the refusal");
    assert_eq!(app.count(), 56);
    assert_eq!(int(&dev, "SELECT count(*) FROM items"), 56);
    // The same for a branch put that resets.
    env.run(&["branch", "put", "acme/src@pr-1", "--with-data"]).ok();
    let branch = env.db_path("acme/src@pr-1");
    let mut on_branch = App::start(&branch, true);
    env.run(&["branch", "put", "acme/src@pr-1"]).code(4).stderr_has(&format!("pid {}", on_branch.pid()));
    on_branch.write("kept");
    assert_eq!(on_branch.count(), 51);
    on_branch.quit();
    app.quit();
    // Once nobody has it open, the same reset works.
    env.run(&["db", "reset", "acme/dev", "--to", "before"]).ok();
    assert_eq!(int(&dev, "SELECT count(*) FROM items"), 50);
    assert_no_strays(&env, "after the refused resets");
}

#[test]
fn an_in_place_reset_keeps_the_apps_connection_and_everything_it_writes_after() {
    for wal in [true, false] {
        let what = if wal { "WAL" } else { "rollback journal" };
        let env = Env::new();
        let dev = fork_with_snapshot(&env);
        let id = env.run(&["db", "show", "acme/dev", "--json"]).json()["id"].as_str().unwrap().to_string();
        let mut app = App::start(&dev, wal);
        assert_eq!(app.count(), 55, "{what}");
        let out = env.run(&["db", "reset", "acme/dev", "--to", "before", "--in-place", "--json"]).ok().json();
        assert_eq!(
            (s(&out, "id"), PathBuf::from(s(&out, "path"))),
            (id.clone(), dev.clone()),
            "{what}: same id, same path"
        );
        // The open connection sees the restored state at its next read,
        // and what it writes afterwards lands in the database.
        assert_eq!(app.count(), 50, "{what}: the app sees the reset");
        app.write("written after the reset");
        app.write("and another");
        assert_eq!(app.count(), 52, "{what}");
        app.quit();
        assert_eq!(int(&dev, "SELECT count(*) FROM items"), 52, "{what}: nothing the app wrote is lost");
        assert_eq!(int(&dev, "SELECT count(*) FROM items WHERE body = 'and another'"), 1, "{what}");
        sound(&dev).unwrap();
        assert_no_strays(&env, what);
        // A branch put reset in place, with the app on the branch.
        env.run(&["branch", "put", "acme/src@pr-2", "--with-data"]).ok();
        let branch = env.db_path("acme/src@pr-2");
        let mut app = App::start(&branch, wal);
        app.write("on the branch");
        assert_eq!(app.count(), 51);
        env.run(&["branch", "put", "acme/src@pr-2", "--in-place"]).ok();
        assert_eq!(app.count(), 50, "{what}: the branch is its parent again");
        app.write("after the put");
        app.quit();
        assert_eq!(int(&branch, "SELECT count(*) FROM items"), 51, "{what}");
        assert_no_strays(&env, what);
    }
}

#[test]
fn a_forced_reset_replaces_the_file_under_the_app_as_it_says() {
    let env = Env::new();
    let dev = fork_with_snapshot(&env);
    let mut app = App::start(&dev, false);
    assert_eq!(app.count(), 55);
    env.run(&["db", "reset", "acme/dev", "--to", "before", "--force"]).ok();
    // The app still has the old, unlinked file: what it writes now does
    // not reach the database (SQLite notices the file was moved and
    // refuses the write, `readonly database`).
    let reply = app.ask("write into the old file");
    assert!(reply.contains("readonly") || reply == "ok", "{reply}");
    app.quit();
    assert_eq!(int(&dev, "SELECT count(*) FROM items"), 50);
    // --force and --in-place do not go together.
    env.run(&["db", "reset", "acme/dev", "--force", "--in-place"]).code(2);
}

#[test]
fn the_library_and_mcp_refuse_and_reset_in_place_too() {
    let env = Env::new();
    let dev = fork_with_snapshot(&env);
    let mut app = App::start(&dev, true);
    let sqlfork = sqlfork::Sqlfork::open(&env.home).unwrap();
    let err = sqlfork
        .reset(
            "acme/dev",
            &sqlfork::ResetOptions { to: Some("before".into()), ..Default::default() },
            &mut sqlfork::NoProgress,
        )
        .unwrap_err();
    match &err {
        sqlfork::Error::OpenElsewhere { holders, .. } => {
            assert!(holders.iter().any(|h| h.pid == Some(app.pid())), "{holders:?}")
        }
        other => panic!("expected OpenElsewhere, got {other:?}"),
    }
    assert_eq!(err.exit_code().code(), 4);
    let opts = sqlfork::ResetOptions {
        to: Some("before".into()),
        when_open: sqlfork::WhenOpen::InPlace,
        ..Default::default()
    };
    sqlfork.reset("acme/dev", &opts, &mut sqlfork::NoProgress).unwrap();
    assert_eq!(app.count(), 50);
    app.write("x");
    app.quit();
    assert_eq!(int(&dev, "SELECT count(*) FROM items"), 51);
}

// ---------------------------------------------------------------------------
// A full disk: the home on a small ext4.

/// A source of about `mib` MiB of rows, outside the small file system.
fn big_source(env: &Env, name: &str, mib: u32) -> PathBuf {
    env.db(
        name,
        &format!(
            "CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})
               INSERT INTO blobs(b) SELECT randomblob(1000) FROM n;",
            mib * 1000
        ),
    )
}

/// After a full disk stopped something: the registry reads, nothing stray,
/// every database whole.
fn nothing_half_made(env: &Env, what: &str) {
    env.run(&["db", "list", "--json"]).ok();
    assert_no_strays(env, what);
    for e in entries(env) {
        assert!(e.healthy, "{what}: {} is left {e:?}", e.address);
        sound(&e.path).unwrap_or_else(|err| panic!("{what}: {}: {err}", e.address));
    }
}

fn fill(dir: &Path, leave: u64) -> PathBuf {
    let filler = dir.join("filler");
    let f = std::fs::File::create(&filler).unwrap();
    // SAFETY: statvfs(3) fills the struct; the path is NUL-terminated.
    let free = {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
        st.f_bavail * st.f_frsize
    };
    let want = free.saturating_sub(leave);
    // Written, not fallocated: some file systems count those differently.
    let chunk = vec![0x5au8; 1 << 20];
    let mut left = want;
    use std::io::Write as _;
    let mut w = std::io::BufWriter::new(&f);
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        if w.write_all(&chunk[..n]).is_err() {
            break;
        }
        left -= n as u64;
    }
    let _ = w.flush();
    drop(w);
    let _ = f.sync_all();
    filler
}

#[test]
fn a_full_disk_stops_every_operation_with_one_sentence_and_leaves_nothing_half_made() {
    let Some(m) = LoopMount::new(FsKind::Ext4, 24) else { return };
    let env = Env { dir: tempfile::tempdir().unwrap(), home: m.path().join("home") };
    let fs = format!("{} (ext4)", m.path().display());
    let small = big_source(&env, "small.db", 3);
    let big = big_source(&env, "big.db", 30);
    env.run(&["db", "fork", "./small.db", "acme/keep", "--with-data"]).ok();
    env.run(&["snapshot", "create", "acme/keep:s1"]).ok();

    // Refused before it starts: a copy bigger than the free space.
    let run = env.run(&["db", "fork", "./big.db", "acme/big", "--with-data"]).code(6).one_line_error();
    run.stderr_has(&format!("not enough space on {fs}: a copy of "))
        .stderr_has("big.db needs 29.")
        .stderr_has(" MiB free");
    nothing_half_made(&env, "a refused fork");
    for method in ["file", "pages"] {
        std::fs::write(env.home.join("config.toml"), format!("copy_method = \"{method}\"\n")).unwrap();
        env.run(&["db", "fork", "./big.db", "acme/big", "--with-data"]).code(6).stderr_has("not enough space on");
    }
    nothing_half_made(&env, "refused file and page copies");

    // Found mid-way: the disk fills while the copy runs (another writer
    // fills it while the fork is paused after registering).
    for (method, what) in [("pages", "a page copy"), ("rows", "a row copy"), ("clone", "a file copy")] {
        std::fs::write(env.home.join("config.toml"), format!("copy_method = \"{method}\"\n")).unwrap();
        let child = env
            .cmd(["db", "fork", "./small.db", "acme/mid", "--with-data"])
            .env("SQLFORK_TEST_PAUSE", "fork-registered:1500")
            .spawn();
        wait_until("the fork registers", std::time::Duration::from_secs(30), || {
            entries(&env).iter().any(|e| e.address == "acme/mid")
        });
        let filler = fill(m.path(), 256 << 10);
        let run = child.finish();
        assert_eq!(run.code, 6, "{what}: {}", run.dump());
        assert!(run.stderr.contains(&format!("not enough space on {fs}")), "{what}: {}", run.dump());
        let said = run.stderr.lines().filter(|l| !l.starts_with("sqlfork test:")).count();
        assert_eq!(said, 1, "{what}: one sentence: {}", run.dump());
        std::fs::remove_file(&filler).unwrap();
        nothing_half_made(&env, what);
        assert!(!entries(&env).iter().any(|e| e.address == "acme/mid"), "{what}: the entry is gone");
    }
    std::fs::remove_file(env.home.join("config.toml")).unwrap();

    // A snapshot, a reset, a branch put and a db create on a full disk.
    let filler = fill(m.path(), 64 << 10);
    env.run(&["snapshot", "create", "acme/keep:s2"]).code(6).one_line_error().stderr_has("not enough space on");
    // The copy-and-rename reset needs a whole copy's room: refused.
    env.cmd(["db", "reset", "acme/keep", "--to", "s1"])
        .env("SQLFORK_TEST_RESET_COPY", "1")
        .run()
        .code(6)
        .one_line_error()
        .stderr_has("not enough space on");
    // A reset by pages (ext4) writes only what differs, in the same file:
    // nothing differs from s1 here, so it needs no room and succeeds.
    env.run(&["db", "reset", "acme/keep", "--to", "s1"]).ok();
    env.run(&["branch", "put", "acme/keep@b1", "--with-data"]).code(6).one_line_error();
    let run = env.run(&["db", "create", "acme/empty"]);
    // A create needs a few KiB: it either fits or says so.
    if run.code != 0 {
        assert_eq!(run.code, 6, "{}", run.dump());
        assert!(run.stderr.contains("not enough space on"), "{}", run.dump());
    }
    nothing_half_made(&env, "operations on a full disk");
    std::fs::remove_file(&filler).unwrap();
    // With space again, everything works.
    env.run(&["snapshot", "create", "acme/keep:s2"]).ok();
    env.run(&["db", "reset", "acme/keep", "--to", "s1"]).ok();
    env.run(&["db", "fork", "./small.db", "acme/mid", "--with-data"]).ok();
    let _ = (small, big);
    nothing_half_made(&env, "after space was freed");
}

// ---------------------------------------------------------------------------
// I/O errors: the home on an ext4 whose image lives on an XFS that is shut
// down under it while sqlfork runs on (this kernel has no device-mapper
// `error` target; the loop device then fails every write and flush: EIO).

/// Wait until no process has a file open under `dir` (or its cwd there).
fn wait_for_users(dir: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let busy = std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|p| {
            let fds = std::fs::read_dir(p.path().join("fd")).into_iter().flatten().flatten().map(|f| f.path());
            fds.chain([p.path().join("cwd")]).any(|l| std::fs::read_link(&l).is_ok_and(|t| t.starts_with(dir)))
        });
        if !busy {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Run `sqlfork ARGS` until it pauses at `point`, then shut the file system
/// under the home down: it must end (no hang) without a panic.
fn io_errors_at(env: &Env, fs: &mount::CutFs, args: &[&str], point: &str) -> common::env::Run {
    let what = args.join(" ");
    // (A reset takes its copy-and-rename path: a reset by pages builds no
    // fork to pause in.)
    let mut child =
        env.cmd(args).env("SQLFORK_TEST_PAUSE", format!("{point}:1500")).env("SQLFORK_TEST_RESET_COPY", "1").spawn();
    child.wait_for_stderr(&format!("paused at {point}"), std::time::Duration::from_secs(30));
    fs.shutdown();
    let (run, late) = child.finish_by(std::time::Instant::now() + std::time::Duration::from_secs(60));
    assert!(!late, "{what}: hung on the I/O errors: {}", run.dump());
    assert!(!run.stderr.contains("panicked"), "{what}: panicked: {}", run.dump());
    run
}

#[test]
fn io_errors_give_a_clear_error_and_leave_every_healthy_database_whole() {
    let Some(mut fs) = mount::CutFs::on_xfs(FsKind::Ext4, 64) else { return };
    let env = Env { dir: tempfile::tempdir_in(fs.path()).unwrap(), home: fs.path().join("home") };
    let src = env.db("src.db", SRC_SQL);
    let src_bytes = std::fs::read(&src).unwrap();
    std::fs::write(env.home.join("config.toml"), "").ok();
    env.run(&["db", "fork", "./src.db", "acme/keep", "--with-data"]).ok();
    env.run(&["branch", "put", "acme/keep@b", "--with-data"]).ok();
    env.run(&["db", "fork", "./src.db", "acme/gone", "--with-data"]).ok();
    // SAFETY: sync(2) takes no arguments.
    unsafe { libc::sync() };
    let ops: [(&[&str], &str); 4] = [
        (&["db", "fork", "./src.db", "acme/new", "--with-data"], "fork-registered"),
        (&["snapshot", "create", "acme/keep:s"], "fork-registered"),
        (&["branch", "put", "acme/keep@b"], "fork-registered"),
        (&["db", "delete", "acme/gone", "--yes"], "delete-unregistered"),
    ];
    let mut faults = 0;
    for (args, point) in ops {
        let what = args.join(" ");
        let run = io_errors_at(&env, &fs, args, point);
        faults += 1;
        // A delete paused after its durable commit point (the entry is gone
        // from the registry) has nothing left that can fail but the
        // removal of its files, which the next command sweeps: it may
        // report success. Everything else fails with one sentence.
        let committed = point == "delete-unregistered";
        if run.code == 0 && committed {
            assert!(run.stdout.contains("Deleted acme/gone"), "{}", run.dump());
        } else {
            assert_eq!(run.code, 1, "{what}: an I/O error is a failure (exit 1): {}", run.dump());
            let said: Vec<&str> = run.stderr.lines().filter(|l| !l.starts_with("sqlfork test:")).collect();
            assert_eq!(said.len(), 1, "{what}: one sentence: {}", run.dump());
            assert!(said[0].starts_with("error: "), "{what}: {}", run.dump());
            eprintln!("I/O error during `{what}`: {}", said[0]);
        }
        wait_for_users(fs.path());
        fs.remount();
        if committed {
            assert!(!entries(&env).iter().any(|e| e.address == "acme/gone"), "{what}: the delete came back");
        }
        // The registry reads, every healthy database is whole, the source
        // is untouched; the next commands finish or tidy what was cut off.
        for e in entries(&env) {
            if e.healthy && !e.is_reset_temp() {
                sound(&e.path).unwrap_or_else(|err| panic!("{what}: {} after the I/O errors: {err}", e.address));
            }
        }
        assert_eq!(std::fs::read(&src).unwrap(), src_bytes, "{what}: the source changed");
        env.run(&["db", "resume"]).ok();
        env.run(&["db", "gc"]).ok();
        nothing_half_made(&env, &what);
        let keep = entries(&env).into_iter().find(|e| e.address == "acme/keep").expect("acme/keep survives");
        assert_eq!(int(&keep.path, "SELECT count(*) FROM items"), 50, "{what}");
    }
    eprintln!("I/O errors: {faults} faults injected, every healthy database whole after each");
}

// ---------------------------------------------------------------------------
// A full disk under the newer commands: a pool lease that must reset a
// dirty slot, a merge into a parent, a pull.

/// One clear sentence about a full disk: exit 6, naming the file system.
fn says_no_space(run: &common::env::Run, fs: &str, what: &str) {
    assert_eq!(run.code, 6, "{what}: a full disk is exit 6: {}", run.dump());
    let said: Vec<&str> = run.stderr.lines().filter(|l| !l.starts_with("sqlfork test:")).collect();
    assert_eq!(said.len(), 1, "{what}: one sentence: {}", run.dump());
    assert!(said[0].contains(&format!("not enough space on {fs}")), "{what}: {}", run.dump());
}

#[test]
fn a_full_disk_stops_a_pool_lease_a_merge_and_a_pull_with_one_sentence() {
    let Some(m) = LoopMount::new(FsKind::Ext4, 24) else { return };
    let env = Env { dir: tempfile::tempdir().unwrap(), home: m.path().join("home") };
    let fs = format!("{} (ext4)", m.path().display());
    big_source(&env, "small.db", 2);
    let me = std::process::id().to_string();

    // A pool whose slot 1 was used (it resets at its next lease).
    env.run(&["db", "fork", "./small.db", "acme/p", "--with-data"]).ok();
    env.run(&["pool", "create", "acme/p", "--size", "1", "--with-data"]).ok();
    let slot = PathBuf::from(env.run(&["pool", "lease", "acme/p", "--pid", &me, "--quiet"]).ok().stdout.trim());
    let base_rows = int(&slot, "SELECT count(*) FROM blobs");
    exec(&slot, "UPDATE blobs SET b = randomblob(1000) WHERE id % 2 = 0;");
    env.run(&["pool", "return", "acme/p", "1"]).ok();

    // A merge: a fork of a file on the full disk, merged into it (--yes:
    // sqlfork did not make it, so no snapshot is taken first).
    let parent = m.path().join("parent.db");
    std::fs::copy(env.path("small.db"), &parent).unwrap();
    env.run(&["db", "fork", parent.to_str().unwrap(), "acme/fix", "--with-data", "--mergeable"]).ok();
    exec(&env.db_path("acme/fix"), "UPDATE blobs SET b = randomblob(1000) WHERE id % 3 = 0;");
    let parent_bytes = std::fs::read(&parent).unwrap();

    // A remote to pull from (off the full disk).
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let a = Env::new();
    big_source(&a, "src.db", 2);
    a.run(&["remote", "add", "origin", &url]).ok();
    a.run(&["db", "import", "acme/src", "./src.db"]).ok();
    a.run(&["snapshot", "create", "acme/src:s"]).ok();
    a.run(&["push", "acme/src:s"]).ok();
    env.run(&["remote", "add", "origin", &url]).ok();

    let pools_tidy = |what: &str| {
        for f in std::fs::read_dir(env.home.join("pools")).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            assert!(name.ends_with(".lease") || name.ends_with(".lock"), "{what}: pools/{name} is left");
        }
        let partial = std::fs::read_dir(env.home.join("remotes/partial")).into_iter().flatten().flatten().count();
        assert_eq!(partial, 0, "{what}: a partial pull is left on the full disk");
        assert!(!m.path().join("parent.db-journal").exists(), "{what}: the parent's journal is left");
        assert_eq!(std::fs::read(&parent).unwrap(), parent_bytes, "{what}: the parent changed");
        let pulled = snapshot_ids(&env).len();
        assert_eq!(pulled, 1, "{what}: only the pool's base is a snapshot (nothing pulled half-way)");
    };

    // Nearly full: each is refused (or stopped) with one sentence.
    let filler = fill(m.path(), 64 << 10);
    let run = env.run(&["pool", "lease", "acme/p", "--pid", &me, "--timeout", "0s"]);
    says_no_space(&run, &fs, "a lease that resets a used slot");
    let listed = env.run(&["pool", "list", "acme/p", "--json"]).ok().json();
    assert!(listed[0]["holderPid"].is_null(), "a lease that failed holds nothing: {listed}");
    says_no_space(&env.run(&["db", "merge", "acme/fix", "--yes"]), &fs, "a merge into a file on the full disk");
    let run = env.run(&["pull", "origin:acme/src:s"]);
    says_no_space(&run, &fs, "a pull");
    assert!(run.stderr.contains("needs 2."), "a pull is refused before it starts: {}", run.dump());
    pools_tidy("nearly full");
    nothing_half_made(&env, "nearly full");
    std::fs::remove_file(&filler).unwrap();

    // Full to the last block: even opening the registry says so.
    let filler = fill(m.path(), 0);
    for args in [
        &["pool", "lease", "acme/p", "--pid", &me, "--timeout", "0s"][..],
        &["db", "merge", "acme/fix", "--yes"],
        &["pull", "origin:acme/src:s"],
    ] {
        says_no_space(&env.run(args), &fs, &format!("{} on a full disk", args.join(" ")));
    }
    let listed = env.run(&["db", "list", "--json"]);
    assert!(listed.code == 0 || listed.code == 6, "db list on a full disk: {}", listed.dump());
    std::fs::remove_file(&filler).unwrap();
    pools_tidy("full");
    nothing_half_made(&env, "full");

    // With space again, each works.
    let leased = env.run(&["pool", "lease", "acme/p", "--pid", &me, "--quiet"]).ok();
    assert_same(&image(&env.path("small.db")), Path::new(leased.stdout.trim()), false, "the slot, reset");
    assert_eq!(int(&slot, "SELECT count(*) FROM blobs"), base_rows);
    env.run(&["db", "merge", "acme/fix", "--yes"]).ok();
    assert_same(&image(&env.db_path("acme/fix")), &parent, false, "the merged parent");
    env.run(&["pull", "origin:acme/src:s"]).ok();
    nothing_half_made(&env, "after space was freed");
}

/// I/O errors (the home's ext4 on an XFS that is shut down under it) in a
/// pool lease resetting a used slot, a merge about to commit, a pull
/// half-way: a clear error, nothing half-made, every healthy database
/// whole, the source untouched; after a remount the next lease, merge and
/// pull work.
#[test]
fn io_errors_in_a_pool_lease_a_merge_and_a_pull_give_a_clear_error_and_leave_nothing_half_made() {
    let Some(mut fs) = mount::CutFs::on_xfs(FsKind::Ext4, 64) else { return };
    let env = Env { dir: tempfile::tempdir_in(fs.path()).unwrap(), home: fs.path().join("home") };
    let src = env.db("src.db", SRC_SQL);
    let src_bytes = std::fs::read(&src).unwrap();
    let want_src = image(&src);
    // A pool of one slot, used and returned (its next lease resets it).
    env.run(&["db", "fork", "./src.db", "acme/p", "--with-data"]).ok();
    env.run(&["pool", "create", "acme/p", "--size", "1", "--with-data"]).ok();
    let mut holder = Command::new("sleep").arg("600").current_dir("/").spawn().unwrap();
    let hp = holder.id().to_string();
    let slot = PathBuf::from(env.run(&["pool", "lease", "acme/p", "--pid", &hp, "--quiet"]).ok().stdout.trim());
    exec(&slot, "DELETE FROM items WHERE id < 20;");
    env.run(&["pool", "return", "acme/p", "1"]).ok();
    // A parent sqlfork made and a fork of it with a change to merge.
    env.run(&["db", "fork", "./src.db", "acme/main", "--with-data"]).ok();
    env.run(&["db", "fork", "acme/main", "acme/fix", "--with-data", "--mergeable"]).ok();
    exec(&env.db_path("acme/fix"), "UPDATE items SET body = 'fixed ' || id WHERE id % 5 = 0;");
    let main = env.db_path("acme/main");
    let (pre, merged) = (image(&main), image(&env.db_path("acme/fix")));
    // A remote (off the mount) holding a snapshot to pull.
    let store = tempfile::tempdir().unwrap();
    let url = format!("file://{}", store.path().display());
    let a = Env::new();
    a.db("src.db", SRC_SQL);
    a.run(&["remote", "add", "origin", &url]).ok();
    a.run(&["db", "import", "acme/src", "./src.db"]).ok();
    a.run(&["snapshot", "create", "acme/src:s"]).ok();
    a.run(&["push", "acme/src:s"]).ok();
    let pushed = image(&a.path("src.db"));
    env.run(&["remote", "add", "origin", &url]).ok();
    // SAFETY: sync(2) takes no arguments.
    unsafe { libc::sync() };
    let lease = ["pool", "lease", "acme/p", "--pid", &hp, "--timeout", "0s"];
    let ops: [(&[&str], &str); 3] = [
        (&lease, "fork-registered"),
        (&["db", "merge", "acme/fix"], "merge-applied"),
        (&["pull", "origin:acme/src:s"], "remote-range-written"),
    ];
    for (args, point) in ops {
        let what = args.join(" ");
        let run = io_errors_at(&env, &fs, args, point);
        assert_eq!(run.code, 1, "{what}: an I/O error is a failure (exit 1): {}", run.dump());
        let said: Vec<&str> = run.stderr.lines().filter(|l| !l.starts_with("sqlfork test:")).collect();
        assert_eq!(said.len(), 1, "{what}: one sentence: {}", run.dump());
        assert!(said[0].starts_with("error: "), "{what}: {}", run.dump());
        eprintln!("I/O error during `{what}`: {}", said[0]);
        if args[0] == "pull" {
            assert!(said[0].contains("could not write the pulled copy of origin:acme/src:s"), "{what}: {}", run.dump());
        }
        wait_for_users(fs.path());
        fs.remount();
        // A hot journal left by the cut-off commit: the next open rolls it back.
        exec(&main, "SELECT count(*) FROM sqlite_master;");
        for e in entries(&env) {
            if e.healthy && !e.is_reset_temp() {
                sound(&e.path).unwrap_or_else(|err| panic!("{what}: {} after the I/O errors: {err}", e.address));
            }
        }
        assert_eq!(std::fs::read(&src).unwrap(), src_bytes, "{what}: the source changed");
        let now = image(&main);
        assert!(now == pre || now == merged, "{what}: the parent is half merged");
        for (_, p) in pulled(&env) {
            assert_same(&pushed, &p, false, &format!("{what}: a pulled snapshot is listed half-made"));
        }
        env.run(&["db", "resume"]).ok();
        env.run(&["db", "gc"]).ok();
        nothing_half_made(&env, &what);
    }
    // The worker that asked for the lease is gone (as after a reboot): the
    // next lease, merge and pull work.
    let _ = holder.kill();
    let _ = holder.wait();
    let me = std::process::id().to_string();
    let leased = env.run(&["pool", "lease", "acme/p", "--pid", &me, "--quiet"]).ok();
    assert_same(&want_src, Path::new(leased.stdout.trim()), false, "the slot after the I/O errors");
    env.run(&["db", "merge", "acme/fix"]).ok();
    assert_same(&merged, &main, false, "the merge after the I/O errors");
    env.run(&["pull", "origin:acme/src:s"]).ok();
    let got = pulled(&env);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_same(&pushed, &got[0].1, false, "the pull after the I/O errors");
    nothing_half_made(&env, "after the I/O errors");
}

/// Pulled snapshots: (name, path).
fn pulled(env: &Env) -> Vec<(String, PathBuf)> {
    let reg = env.registry();
    let snaps = reg.get("snapshots").and_then(|s| s.as_array()).cloned().unwrap_or_default();
    snaps
        .iter()
        .filter(|s| s.get("remote").is_some())
        .map(|s| (s["name"].as_str().unwrap().to_string(), PathBuf::from(s["path"].as_str().unwrap())))
        .collect()
}
