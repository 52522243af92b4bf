//! Test harness: every test gets its own temporary home and an isolated
//! environment, drives the real `sqlfork` binary, and on failure sees the
//! command, stdout and stderr.
#![allow(dead_code)]

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
        let mut cmd = Command::cargo_bin("sqlfork").expect("binary");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("SQLFORK_HOME", &self.home)
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        cmd
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
