//! Test harness: every test gets its own temporary home and an isolated
//! environment, drives the real `sqlfork` binary, and on failure sees the
//! command, stdout and stderr.
#![allow(dead_code)]

pub mod mount;

use assert_cmd::Command;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub struct Env {
    pub dir: TempDir,
    pub home: PathBuf,
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn dump(&self) -> String {
        format!(
            "command: sqlfork {}\nexit: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
    /// Assert success and return self.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success\n{}", self.dump());
        self
    }
    /// Assert the exit code.
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}\n{}", self.dump());
        self
    }
    /// Assert stderr mentions `needle`.
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n{}", self.dump());
        self
    }
    /// Assert stdout mentions `needle`.
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n{}", self.dump());
        self
    }
    /// An error must be exactly one line on stderr, and nothing on stdout.
    pub fn one_line_error(self) -> Self {
        assert!(self.stdout.is_empty(), "stdout should be empty on error\n{}", self.dump());
        assert_eq!(self.stderr.trim_end().lines().count(), 1, "stderr should be one line\n{}", self.dump());
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.dump()))
    }
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        Env { dir, home }
    }

    /// A path inside the temporary directory (not in home).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// Run `sqlfork ARGS` in this environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, |_| {})
    }

    pub fn run_with(&self, args: &[&str], f: impl FnOnce(&mut Command)) -> Run {
        let mut cmd = self.cmd();
        cmd.args(args);
        f(&mut cmd);
        let out = cmd.output().expect("run sqlfork");
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Create a SQLite file from SQL at `name` in the temp dir.
    pub fn db(&self, name: &str, sql: &str) -> PathBuf {
        let p = self.path(name);
        make_db(&p, sql);
        p
    }

    /// The registry file's entries, parsed.
    pub fn registry(&self) -> toml::Value {
        let text = std::fs::read_to_string(self.home.join("registry.toml")).unwrap_or_default();
        toml::from_str(&text).expect("registry.toml parses")
    }

    pub fn registry_len(&self) -> usize {
        self.registry().get("databases").and_then(|d| d.as_array()).map(|a| a.len()).unwrap_or(0)
    }

    /// Files under home/databases (sorted names).
    pub fn database_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.home.join("databases"))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The path of a registered database, via `db path`.
    pub fn db_path(&self, addr: &str) -> PathBuf {
        PathBuf::from(self.run(&["db", "path", addr]).ok().stdout.trim())
    }
}

pub fn make_db(path: &Path, sql: &str) {
    let conn = Connection::open(path).expect("open");
    conn.execute_batch(sql).unwrap_or_else(|e| panic!("setup SQL failed: {e}\n{sql}"));
}

/// `sqlite_master` as (type, name, tbl_name, sql), sorted; rootpage aside.
pub fn master(path: &Path) -> Vec<(String, String, String, Option<String>)> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut stmt = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(|r| r.unwrap()).collect()
}

/// The settings a fork carries.
pub fn settings(path: &Path) -> Vec<(String, String)> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    ["page_size", "auto_vacuum", "encoding", "user_version", "application_id", "journal_mode"]
        .iter()
        .map(|p| {
            let v: rusqlite::types::Value = conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0)).unwrap();
            (p.to_string(), format!("{v:?}"))
        })
        .collect()
}

/// integrity_check and foreign_key_check both clean.
pub fn assert_sound(path: &Path) {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let ic: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ic, "ok", "integrity_check on {}", path.display());
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
    let n = stmt.query_map([], |_| Ok(())).unwrap().count();
    assert_eq!(n, 0, "foreign_key_check on {}", path.display());
}

pub fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read file")
}

// ---------------------------------------------------------------------------
// Additions for tests/cli.rs (additive only).

/// What a failed command must leave exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub registry_len: usize,
    /// Every file under home/databases.
    pub database_files: Vec<String>,
    /// Every name directly in home (registry.toml, config.toml, temp files…).
    pub home_files: Vec<String>,
}

impl Env {
    /// A plain `std::process::Command` for the binary with this
    /// environment, for tests that spawn children concurrently.
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sqlfork"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("SQLFORK_HOME", &self.home)
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        cmd
    }

    /// Run with `data` on stdin (a pipe, so never a terminal).
    pub fn run_stdin(&self, args: &[&str], data: &str) -> Run {
        let data = data.to_string();
        self.run_with(args, move |c| {
            c.write_stdin(data);
        })
    }

    /// Hold the build claim of database `id`, as a process building,
    /// resetting or deleting it does; released when the file is dropped.
    pub fn hold_claim(&self, id: &str) -> std::fs::File {
        let claim = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.home.join("databases").join(format!("{id}.lock")))
            .expect("open the claim file");
        claim.lock().expect("take the claim");
        claim
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut home_files: Vec<String> = std::fs::read_dir(&self.home)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        home_files.sort();
        Snapshot { registry_len: self.registry_len(), database_files: self.database_files(), home_files }
    }

    /// The registry entry with this id.
    pub fn entry(&self, id: &str) -> toml::Value {
        self.registry()
            .get("databases")
            .and_then(|d| d.as_array())
            .and_then(|a| a.iter().find(|e| e.get("id").and_then(|v| v.as_str()) == Some(id)).cloned())
            .unwrap_or_else(|| panic!("no registry entry with id {id}"))
    }

    /// Write `config.toml` in home (creating home).
    pub fn config(&self, text: &str) {
        std::fs::create_dir_all(&self.home).expect("create home");
        std::fs::write(self.home.join("config.toml"), text).expect("write config.toml");
    }
}

/// Unix permission bits of a path.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).permissions().mode() & 0o777
}

// ===========================================================================
// Fidelity helpers (tests/fidelity.rs, tests/hostile.rs, tests/corpus.rs).
// Additive block in its own module (`common::fid`) so that names cannot
// clash with other additions; nothing above this line depends on it.
// ===========================================================================
pub mod fid {
    use super::{assert_sound, file_bytes, master, settings, Env, Run};
    use rusqlite::Connection;
    use std::path::{Path, PathBuf};

    /// One `sqlite_master` row: (type, name, tbl_name, sql).
    pub type MasterRow = (String, String, String, Option<String>);

    /// `sqlite_master` as a set (the order SQL sorts names in depends on the
    /// encoding, so compare sets, not lists).
    pub fn master_set(path: &Path) -> std::collections::BTreeSet<MasterRow> {
        master(path).into_iter().collect()
    }

    /// Rows only in `a` and rows only in `b`, for failure messages.
    pub fn master_diff(a: &std::collections::BTreeSet<MasterRow>, b: &std::collections::BTreeSet<MasterRow>) -> String {
        let mut out = String::new();
        for r in a.difference(b) {
            out.push_str(&format!("  only in source: {r:?}\n"));
        }
        for r in b.difference(a) {
            out.push_str(&format!("  only in fork:   {r:?}\n"));
        }
        out
    }

    /// Tables a virtual-table module creates by itself (shadow tables), found
    /// independently of sqlfork: each virtual table of the source is created
    /// alone in a fresh in-memory database and the tables that appear with it
    /// are its shadow tables. When a virtual table cannot be created alone
    /// (say, FTS4 with external content and no column list), SQLite's own
    /// `PRAGMA table_list` verdict is used for it. Names are lower-cased.
    pub fn module_tables(path: &Path) -> std::collections::BTreeSet<String> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
        let vtabs: Vec<(String, String)> = {
            let mut stmt = conn
                .prepare(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
                )
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
        };
        let listed_shadow: Vec<String> = {
            let mut stmt =
                conn.prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'").unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(|r| r.unwrap().to_lowercase()).collect()
        };
        let mut out = std::collections::BTreeSet::new();
        for (name, sql) in vtabs {
            let prefix = format!("{}_", name.to_lowercase());
            let mem = Connection::open_in_memory().unwrap();
            if mem.execute_batch(&sql).is_ok() {
                let mut stmt = mem.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").unwrap();
                for n in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
                    let n = n.unwrap().to_lowercase();
                    if n.starts_with(&prefix) {
                        out.insert(n);
                    }
                }
            } else {
                out.extend(listed_shadow.iter().filter(|n| n.starts_with(&prefix)).cloned());
            }
        }
        out
    }

    /// The user objects a schema-only fork must create: every `sqlite_master`
    /// row with SQL, except SQLite's own tables (`sqlite_*`) and the shadow
    /// tables a virtual table makes by itself.
    pub fn user_object_count(path: &Path) -> u64 {
        let shadows = module_tables(path);
        master(path)
            .into_iter()
            .filter(|(ty, name, _, sql)| {
                let lower = name.to_lowercase();
                sql.is_some() && !lower.starts_with("sqlite_") && !(ty == "table" && shadows.contains(&lower))
            })
            .count() as u64
    }

    /// Quote an identifier for test SQL.
    pub fn quote_name(name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// Row counts of every user table (real and virtual, shadow tables and
    /// `sqlite_*` aside) of `path`.
    pub fn user_table_rows(path: &Path) -> Vec<(String, i64)> {
        let shadows = module_tables(path);
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
        let names: Vec<String> = {
            let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
        };
        names
            .into_iter()
            .filter(|n: &String| !n.to_lowercase().starts_with("sqlite_") && !shadows.contains(&n.to_lowercase()))
            .map(|n| {
                let c: i64 = conn
                    .query_row(&format!("SELECT count(*) FROM {}", quote_name(&n)), [], |r| r.get(0))
                    .unwrap_or_else(|e| panic!("count rows of {n} in {}: {e}", path.display()));
                (n, c)
            })
            .collect()
    }

    /// Every file under `root` (recursively) with its bytes, skipping `skip`
    /// and anything below it.
    pub fn tree_snapshot(root: &Path, skip: &[&Path]) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, skip: &[&Path], out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
            let Ok(rd) = std::fs::read_dir(dir) else { return };
            for e in rd.filter_map(|e| e.ok()) {
                let p = e.path();
                if skip.iter().any(|s| p.starts_with(s)) {
                    continue;
                }
                if p.is_dir() {
                    walk(&p, skip, out);
                } else {
                    out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
                }
            }
        }
        let mut out = std::collections::BTreeMap::new();
        walk(root, skip, &mut out);
        out
    }

    /// Describe how two snapshots differ (added, removed, changed files).
    pub fn snapshot_diff(
        before: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
        after: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for (p, b) in before {
            match after.get(p) {
                None => out.push(format!("removed {}", p.display())),
                Some(a) if a != b => out.push(format!("changed {}", p.display())),
                _ => {}
            }
        }
        for p in after.keys().filter(|p| !before.contains_key(*p)) {
            out.push(format!("created {}", p.display()));
        }
        out
    }

    /// The argument that names `src` for `db fork`: `./REL` relative to the
    /// temp dir the binary runs in.
    pub fn src_arg(env: &Env, src: &Path) -> String {
        let rel = src.strip_prefix(env.dir.path()).expect("source lives in the test's temp dir");
        format!("./{}", rel.display())
    }

    /// What a schema-only fork produced, after [`fork_and_compare`] checked it.
    pub struct Forked {
        pub run: Run,
        pub fork: PathBuf,
        /// Shadow tables whose SQL differs between source and fork (allowed
        /// only when the caller said so).
        pub shadow_sql_diffs: Vec<String>,
    }

    /// Fork `src` schema-only with `db fork ./SRC DST --json` and check the
    /// fork object by object against the source: `sqlite_master` (type, name,
    /// tbl_name, sql) equal as sets, the settings equal, `integrity_check` and
    /// `foreign_key_check` clean, zero rows in every user table, the JSON's
    /// `copy.objectsCreated` equal to the source's number of user objects, the
    /// source's bytes unchanged. With `allow_shadow_sql_diff`, shadow tables of
    /// virtual tables may differ in SQL only (written by another SQLite
    /// version); they are reported, and everything else is compared strictly.
    pub fn fork_and_compare(env: &Env, src: &Path, dst: &str, allow_shadow_sql_diff: bool) -> Forked {
        let src_master = master_set(src);
        let src_settings = settings(src);
        let shadows = module_tables(src);
        let expected_objects = user_object_count(src);
        let src_bytes = file_bytes(src);

        let run = env.run(&["db", "fork", &src_arg(env, src), dst, "--json"]).ok();
        let json = run.json();
        let fork = PathBuf::from(json["path"].as_str().expect("JSON has path"));
        assert!(fork.starts_with(&env.home), "fork {} is not under home {}", fork.display(), env.home.display());
        assert_eq!(json["status"], "healthy", "fork status\n{}", run.stdout);
        assert_eq!(json["includeData"], false, "schema-only fork\n{}", run.stdout);
        assert_eq!(json["copy"]["rowsCopied"], 0, "schema-only fork copies no rows\n{}", run.stdout);
        assert_eq!(
            json["copy"]["objectsCreated"].as_u64(),
            Some(expected_objects),
            "objectsCreated should be the number of user objects (sqlite_* and shadow tables aside)\n{}",
            run.stdout
        );

        let fork_master = master_set(&fork);
        let is_shadow = |r: &MasterRow| r.0 == "table" && shadows.contains(&r.1.to_lowercase());
        let mut shadow_sql_diffs = Vec::new();
        if allow_shadow_sql_diff {
            let strip = |s: &std::collections::BTreeSet<MasterRow>| -> std::collections::BTreeSet<MasterRow> {
                s.iter().filter(|r| !is_shadow(r)).cloned().collect()
            };
            let (a, b) = (strip(&src_master), strip(&fork_master));
            assert!(
                a == b,
                "sqlite_master differs (shadow tables aside) for {}:\n{}",
                src.display(),
                master_diff(&a, &b)
            );
            // Shadow tables: same names and types, SQL may differ.
            let names =
                |s: &std::collections::BTreeSet<MasterRow>| -> std::collections::BTreeSet<(String, String, String)> {
                    s.iter().filter(|r| is_shadow(r)).map(|r| (r.0.clone(), r.1.clone(), r.2.clone())).collect()
                };
            assert_eq!(names(&src_master), names(&fork_master), "shadow tables differ for {}", src.display());
            for r in src_master.iter().filter(|r| is_shadow(r)) {
                if !fork_master.contains(r) {
                    shadow_sql_diffs.push(r.1.clone());
                }
            }
        } else {
            assert!(
                src_master == fork_master,
                "sqlite_master differs for {}:\n{}",
                src.display(),
                master_diff(&src_master, &fork_master)
            );
        }
        assert_eq!(settings(&fork), src_settings, "settings of the fork differ from {}", src.display());
        assert_sound(&fork);
        let rows: Vec<_> = user_table_rows(&fork).into_iter().filter(|(_, n)| *n != 0).collect();
        assert!(rows.is_empty(), "a schema-only fork must have no rows in user tables, found {rows:?}");
        assert!(file_bytes(src) == src_bytes, "the source {} changed", src.display());
        Forked { run, fork, shadow_sql_diffs }
    }
}

// ===========================================================================
// Expiry and branch helpers (tests/ttl.rs, tests/gc.rs, tests/branch.rs).
// Additive block in its own module (`common::exp`); nothing above depends
// on it.
// ===========================================================================
pub mod exp {
    use super::{Env, Run};
    use rusqlite::Connection;
    use std::path::Path;
    use std::process::{Child, Stdio};

    /// Run `sqlfork ARGS` with the clock at `now` (`SQLFORK_NOW`).
    pub fn run_at(env: &Env, now: &str, args: &[&str]) -> Run {
        let now = now.to_string();
        env.run_with(args, move |c| {
            c.env("SQLFORK_NOW", now);
        })
    }

    /// `T0` plus `secs` seconds, as RFC 3339.
    pub fn plus(t0: &str, secs: u64) -> String {
        let t = humantime::parse_rfc3339(t0).expect("RFC 3339") + std::time::Duration::from_secs(secs);
        humantime::format_rfc3339_seconds(t).to_string()
    }

    pub const HOUR: u64 = 3600;
    pub const DAY: u64 = 86_400;

    /// Start `sqlfork ARGS` without waiting, output piped.
    pub fn spawn(env: &Env, args: &[&str], now: Option<&str>) -> Child {
        let mut cmd = env.std_cmd();
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(n) = now {
            cmd.env("SQLFORK_NOW", n);
        }
        cmd.spawn().expect("spawn sqlfork")
    }

    /// Wait for a spawned child: (exit code, stdout, stderr).
    pub fn finish(child: Child) -> (i32, String, String) {
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `PRAGMA integrity_check` of a file (opened read-only).
    pub fn integrity(path: &Path) -> String {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap_or_else(|e| format!("error: {e}"))
    }

    /// One integer from `sql` on `path`.
    pub fn int(path: &Path, sql: &str) -> i64 {
        let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()))
    }

    /// Execute `sql` on `path` (read-write).
    pub fn exec(path: &Path, sql: &str) {
        let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        conn.execute_batch(sql).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()));
    }

    /// Rewrite one field of the registry entry with this address (by
    /// namespace, slug and optional branch), as a hand edit would.
    pub fn set_entry_field(env: &Env, ns: &str, slug: &str, branch: Option<&str>, key: &str, value: toml::Value) {
        let path = env.home.join("registry.toml");
        let mut reg: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let entries = reg.get_mut("databases").and_then(|d| d.as_array_mut()).unwrap();
        let e = entries
            .iter_mut()
            .find(|e| {
                e["namespace"].as_str() == Some(ns)
                    && e["slug"].as_str() == Some(slug)
                    && e.get("branch").and_then(|b| b.as_str()) == branch
            })
            .unwrap_or_else(|| panic!("no entry {ns}/{slug}@{branch:?}"));
        e.as_table_mut().unwrap().insert(key.into(), value);
        std::fs::write(&path, toml::to_string(&reg).unwrap()).unwrap();
    }

    /// Addresses in the registry, sorted.
    pub fn addresses(env: &Env) -> Vec<String> {
        let reg = env.registry();
        let mut v: Vec<String> = reg
            .get("databases")
            .and_then(|d| d.as_array())
            .map(|a| {
                a.iter()
                    .map(|e| {
                        let mut s = format!("{}/{}", e["namespace"].as_str().unwrap(), e["slug"].as_str().unwrap());
                        if let Some(b) = e.get("branch").and_then(|b| b.as_str()) {
                            s.push('@');
                            s.push_str(b);
                        }
                        s
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Run `sqlfork ARGS` with stdout and stderr on a pseudo-terminal, as in
    /// an interactive shell; `vars` are added to the environment (the
    /// harness's `NO_COLOR=1` is removed first). Returns what the terminal
    /// showed.
    pub fn run_on_tty(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> String {
        use std::io::Read;
        use std::os::fd::FromRawFd;
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two fresh descriptors into the out-pointers.
        let rc =
            unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: the descriptors were just created and are owned here.
        let (master, slave) = unsafe { (std::fs::File::from_raw_fd(master), std::fs::File::from_raw_fd(slave)) };
        let mut cmd = env.std_cmd();
        cmd.env_remove("NO_COLOR").args(args).stdin(Stdio::null());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.stdout(slave.try_clone().unwrap()).stderr(slave);
        let mut child = cmd.spawn().expect("spawn on pty");
        // The child's copies of the slave are its own; ours were moved into
        // the command and are dropped with it.
        drop(cmd);
        let status = child.wait().expect("wait");
        let mut out = Vec::new();
        let mut master = master;
        let mut buf = [0u8; 4096];
        // Read what is buffered; EIO means the slave side is closed.
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        assert!(status.success(), "sqlfork {args:?} on a tty failed:\n{}", String::from_utf8_lossy(&out));
        String::from_utf8_lossy(&out).into_owned()
    }
}

// ===========================================================================
// Crash and concurrency helpers (tests/crash.rs, tests/concurrency.rs).
// Additive block in its own module (`common::crash`); nothing above depends
// on it.
// ===========================================================================
pub mod crash {
    use super::{settings, Env};
    use rusqlite::types::ValueRef;
    use rusqlite::{Connection, OpenFlags};
    use std::collections::{BTreeMap, BTreeSet};
    use std::hash::{Hash, Hasher};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};

    /// A small seeded generator (splitmix64): the seed is printed, and
    /// `SQLFORK_CRASH_SEED=N` replays a run.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(test: &str) -> Self {
            let seed = std::env::var("SQLFORK_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
            });
            eprintln!("{test}: seed {seed} (replay with SQLFORK_CRASH_SEED={seed})");
            Rng(seed)
        }
        /// A generator of its own for a worker thread, drawn from this one.
        pub fn split(&mut self) -> Rng {
            Rng(self.next_u64())
        }
        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// Uniform in `0..n`.
        pub fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n.max(1)
        }
        /// Uniform in `0.0..1.0`.
        pub fn unit(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        pub fn chance(&mut self, p: f64) -> bool {
            self.unit() < p
        }
        pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }
        /// `n` kill delays spread over `0..span`: one uniformly random point
        /// in each of `n` equal slices, in random order, so every part of
        /// the operation is hit whatever the seed.
        pub fn spread(&mut self, n: usize, span: Duration) -> Vec<Duration> {
            let mut v: Vec<Duration> = (0..n).map(|i| span.mul_f64((i as f64 + self.unit()) / n as f64)).collect();
            for i in (1..v.len()).rev() {
                let j = self.below(i as u64 + 1) as usize;
                v.swap(i, j);
            }
            v
        }
    }

    /// True for the long run (`SQLFORK_CRASH_LONG=1`).
    pub fn long() -> bool {
        std::env::var("SQLFORK_CRASH_LONG").is_ok_and(|v| v == "1")
    }

    /// Kill points for a scenario: `quick` in `cargo test`, `long` in the
    /// long run.
    pub fn points(quick: usize, long_points: usize) -> usize {
        if long() {
            long_points
        } else {
            quick
        }
    }

    /// Start `sqlfork ARGS` with extra environment, output piped.
    pub fn spawn(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Child {
        let mut cmd = env.std_cmd();
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.spawn().expect("spawn sqlfork")
    }

    /// Run `sqlfork ARGS` with extra environment to the end: (code, stdout, stderr).
    pub fn run_vars(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> (i32, String, String) {
        finish(spawn(env, args, vars))
    }

    pub fn finish(child: Child) -> (i32, String, String) {
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `kill -9` the child after `delay`. True when it was still running.
    pub fn kill_after(mut child: Child, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        // Poll rather than sleep, so a child that ends early is reaped early.
        loop {
            if child.try_wait().expect("try_wait").is_some() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(2)));
        }
        let running = child.try_wait().expect("try_wait").is_none();
        // SAFETY: plain kill(2) on our own child's pid, which is not yet
        // reaped (so the pid cannot have been reused).
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        child.wait().expect("wait");
        running
    }

    /// How long `f` takes.
    pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
        let t = Instant::now();
        let out = f();
        (out, t.elapsed())
    }

    /// One registry entry, as the crash checks need it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Entry {
        pub id: String,
        pub address: String,
        pub path: PathBuf,
        pub owned: bool,
        pub healthy: bool,
        pub include_data: bool,
        pub branch: Option<String>,
    }

    impl Entry {
        /// The hidden fork a branch reset builds (`REF~reset`).
        pub fn is_reset_temp(&self) -> bool {
            self.branch.as_deref().is_some_and(|b| b.contains('~'))
        }
    }

    /// The registry after a crash: it must parse, every entry must be
    /// `healthy` or `provisioning`, ids and addresses must be unique.
    pub fn entries(env: &Env) -> Vec<Entry> {
        let path = env.home.join("registry.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return vec![],
            Err(e) => panic!("read {}: {e}", path.display()),
        };
        let reg: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("registry.toml does not parse ({e}):\n{text}"));
        let list = reg.get("databases").and_then(|d| d.as_array()).cloned().unwrap_or_default();
        let mut out = Vec::new();
        let (mut ids, mut addrs) = (BTreeSet::new(), BTreeSet::new());
        for e in list {
            let get = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("entry lacks {k}: {e}"));
            let status = get("status");
            assert!(status == "healthy" || status == "provisioning", "bad status {status:?} in {e}");
            let branch = e.get("branch").and_then(|b| b.as_str()).map(String::from);
            let mut address = format!("{}/{}", get("namespace"), get("slug"));
            if let Some(b) = &branch {
                address.push('@');
                address.push_str(b);
            }
            let entry = Entry {
                id: get("id").to_string(),
                address,
                path: PathBuf::from(get("path")),
                owned: e.get("owned").and_then(|v| v.as_bool()).unwrap_or(false),
                healthy: status == "healthy",
                include_data: e.get("include_data").and_then(|v| v.as_bool()).unwrap_or(false),
                branch,
            };
            assert!(ids.insert(entry.id.clone()), "id {} twice in the registry:\n{text}", entry.id);
            assert!(addrs.insert(entry.address.clone()), "{} twice in the registry:\n{text}", entry.address);
            out.push(entry);
        }
        out
    }

    /// Files in home that no registry entry owns: under `databases/`,
    /// anything not named `<id>.…` for an owned entry's id (its file, its
    /// SQLite journal files, its claim and copy state), and in home itself
    /// anything but the registry, its lock, the config and `databases/`.
    pub fn stray_files(env: &Env) -> Vec<String> {
        let entries = entries(env);
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&env.home) {
            for f in rd.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if !["registry.toml", "registry.lock", "config.toml", "databases"].contains(&name.as_str()) {
                    out.push(name);
                }
            }
        }
        let Ok(rd) = std::fs::read_dir(env.home.join("databases")) else { return out };
        for f in rd.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let (id, rest) = name.split_once('.').unwrap_or((name.as_str(), ""));
            let owner = entries.iter().find(|e| e.id == id && e.owned);
            // A snapshot's file is named by the snapshot's id (and a claim
            // file may stay beside it).
            if owner.is_none() && snapshot_ids(env).contains(id) && ["sqlite", "lock"].contains(&rest) {
                continue;
            }
            let ok = match owner {
                None => false,
                Some(e) => match rest {
                    "sqlite" | "sqlite-journal" | "sqlite-wal" | "sqlite-shm" => {
                        e.path.file_name().map(|n| n.to_string_lossy().into_owned()) == Some(format!("{id}.sqlite"))
                    }
                    "lock" | "copy.json" | "copy.json.tmp" => true,
                    _ => false,
                },
            };
            if !ok {
                out.push(format!("databases/{name}"));
            }
        }
        out.sort();
        out
    }

    /// The ids of the snapshots in the registry (`[[snapshots]]`).
    pub fn snapshot_ids(env: &Env) -> BTreeSet<String> {
        let text = std::fs::read_to_string(env.home.join("registry.toml")).unwrap_or_default();
        let reg: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("registry.toml does not parse ({e})"));
        reg.get("snapshots")
            .and_then(|d| d.as_array())
            .map(|a| a.iter().filter_map(|s| s.get("id")?.as_str().map(String::from)).collect())
            .unwrap_or_default()
    }

    /// What "equal to the source" compares: `sqlite_master` (rootpage
    /// aside), the settings, and every table's rows with their rowids (as a
    /// count and a digest per table).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Image {
        pub master: BTreeSet<(String, String, String, Option<String>)>,
        pub settings: Vec<(String, String)>,
        pub tables: BTreeMap<String, (u64, u64)>,
    }

    fn digest_value(h: &mut std::collections::hash_map::DefaultHasher, v: ValueRef<'_>) {
        match v {
            ValueRef::Null => 0u8.hash(h),
            ValueRef::Integer(i) => (1u8, i).hash(h),
            ValueRef::Real(f) => (2u8, f.to_bits()).hash(h),
            ValueRef::Text(t) => (3u8, t).hash(h),
            ValueRef::Blob(b) => (4u8, b).hash(h),
        }
    }

    /// The image of a database file (opened read-only).
    pub fn image(path: &Path) -> Image {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let master: BTreeSet<_> = {
            let mut stmt = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master").unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        };
        // Real tables (SQLite's own and virtual tables' shadow tables
        // included; virtual tables themselves are their shadow tables).
        let tables: Vec<(String, bool)> = {
            let mut stmt = conn
                .prepare("SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow')")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0))).unwrap().map(|r| r.unwrap()).collect()
        };
        let mut digests = BTreeMap::new();
        for (name, without_rowid) in tables {
            if name == "sqlite_schema" || name == "sqlite_temp_schema" {
                continue;
            }
            let q = format!("\"{}\"", name.replace('"', "\"\""));
            let ncols: usize = conn
                .query_row(&format!("SELECT count(*) FROM pragma_table_xinfo({})", sql_str(&name)), [], |r| {
                    r.get::<_, i64>(0)
                })
                .unwrap() as usize;
            let sql = if without_rowid {
                let order: Vec<String> = (1..=ncols).map(|i| i.to_string()).collect();
                format!("SELECT * FROM {q} ORDER BY {}", order.join(", "))
            } else {
                format!("SELECT _rowid_, * FROM {q} ORDER BY _rowid_")
            };
            let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| panic!("{sql} on {}: {e}", path.display()));
            let width = stmt.column_count();
            let mut rows = stmt.query([]).unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            let mut n = 0u64;
            while let Some(r) = rows.next().unwrap() {
                for i in 0..width {
                    digest_value(&mut h, r.get_ref(i).unwrap());
                }
                n += 1;
            }
            digests.insert(name, (n, h.finish()));
        }
        drop(conn);
        Image { master, settings: settings(path), tables: digests }
    }

    fn sql_str(s: &str) -> String {
        format!("'{}'", s.replace('\'', "''"))
    }

    /// `PRAGMA integrity_check` is ok.
    pub fn integrity_ok(path: &Path) -> Result<(), String> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| format!("open {}: {e}", path.display()))?;
        let ic: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| format!("integrity_check on {}: {e}", path.display()))?;
        if ic == "ok" {
            Ok(())
        } else {
            Err(format!("integrity_check on {}: {ic}", path.display()))
        }
    }

    /// Assert `fork` is sound and equals the source image `want` (with its
    /// rows, or, with `schema_only`, with every table but SQLite's own
    /// empty; sources for schema-only checks have no virtual tables).
    pub fn assert_same(want: &Image, fork: &Path, schema_only: bool, what: &str) {
        integrity_ok(fork).unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = image(fork);
        assert!(
            got.master == want.master,
            "{what}: sqlite_master of {} differs:\n  only in source: {:?}\n  only in fork: {:?}",
            fork.display(),
            want.master.difference(&got.master).collect::<Vec<_>>(),
            got.master.difference(&want.master).collect::<Vec<_>>()
        );
        assert_eq!(got.settings, want.settings, "{what}: settings of {}", fork.display());
        if schema_only {
            let user: Vec<_> =
                got.tables.iter().filter(|(n, (rows, _))| *rows > 0 && !n.starts_with("sqlite_")).collect();
            assert!(user.is_empty(), "{what}: a schema-only fork has rows: {user:?}");
        } else {
            let diff: Vec<_> = want
                .tables
                .iter()
                .filter(|(n, v)| got.tables.get(*n) != Some(v))
                .map(|(n, v)| format!("{n}: source {v:?}, fork {:?}", got.tables.get(n)))
                .collect();
            assert!(diff.is_empty() && got.tables.len() == want.tables.len(), "{what}: rows differ: {diff:?}");
        }
    }
}
