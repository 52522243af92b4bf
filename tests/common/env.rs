//! A temporary home ([`Env`]) and the one command builder ([`Cmd`]): every
//! run of the binary (or of a shell script around it) goes through `Cmd`,
//! in an isolated environment (`env_clear`, then `PATH`, `HOME`,
//! `SQLFORK_HOME`, `NO_COLOR=1`), in the temp dir. [`Run`] is what a run
//! did; its assertions dump the command, cwd, exit, stdout and stderr.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// One test's temporary directory, with the home in `home` (not created
/// until the binary creates it).
pub struct Env {
    pub dir: TempDir,
    pub home: PathBuf,
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

    /// Create a SQLite file from SQL at `name` in the temp dir.
    pub fn db(&self, name: &str, sql: &str) -> PathBuf {
        let p = self.path(name);
        super::db::make_db(&p, sql);
        p
    }

    /// `sqlfork ARGS` in this environment, to be run, spawned or put on a
    /// terminal.
    pub fn cmd<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Cmd {
        Cmd {
            program: PathBuf::from(env!("CARGO_BIN_EXE_sqlfork")).into_os_string(),
            shown: "sqlfork".into(),
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            vars: vec![
                ("PATH".into(), Some(std::env::var_os("PATH").unwrap_or_default())),
                ("HOME".into(), Some(self.dir.path().into())),
                ("SQLFORK_HOME".into(), Some(self.home.clone().into())),
                ("NO_COLOR".into(), Some("1".into())),
            ],
            cwd: self.dir.path().to_path_buf(),
            stdin: None,
        }
    }

    /// `sh -c SCRIPT` in this environment, with `$SQLFORK` the binary;
    /// further `.arg`s are `$1`, `$2`, …
    pub fn sh(&self, script: &str) -> Cmd {
        let mut c = self.cmd(["-c", script, "sh"]).env("SQLFORK", env!("CARGO_BIN_EXE_sqlfork"));
        c.program = "sh".into();
        c.shown = "sh".into();
        c
    }

    /// Run `sqlfork ARGS` to the end (short for `cmd(args).run()`).
    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }

    /// The path of a registered database, via `db path`.
    pub fn db_path(&self, addr: &str) -> PathBuf {
        PathBuf::from(self.run(&["db", "path", addr]).ok().stdout.trim())
    }
}

/// A command to run: the binary (or `sh`), its arguments, environment,
/// working directory and stdin. Built by [`Env::cmd`] / [`Env::sh`];
/// cloneable, so one builder can start many processes.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: OsString,
    shown: String,
    args: Vec<OsString>,
    /// Environment in order; `None` removes.
    vars: Vec<(OsString, Option<OsString>)>,
    cwd: PathBuf,
    stdin: Option<Vec<u8>>,
}

impl Cmd {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Self {
        self.vars.push((k.as_ref().to_owned(), Some(v.as_ref().to_owned())));
        self
    }

    pub fn envs<K: AsRef<OsStr>, V: AsRef<OsStr>>(mut self, vars: &[(K, V)]) -> Self {
        for (k, v) in vars {
            self = self.env(k, v);
        }
        self
    }

    pub fn env_remove(mut self, k: impl AsRef<OsStr>) -> Self {
        self.vars.push((k.as_ref().to_owned(), None));
        self
    }

    /// The clock at `now` (`SQLFORK_NOW`, RFC 3339).
    pub fn now(self, now: &str) -> Self {
        self.env("SQLFORK_NOW", now)
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cwd = dir.as_ref().to_path_buf();
        self
    }

    /// Feed `data` on stdin (a pipe, so never a terminal); stdin is
    /// otherwise `/dev/null`.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    /// The arguments, as text.
    pub fn arg_strings(&self) -> Vec<String> {
        self.args.iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    /// `sqlfork ARGS` (or `sh -c …`) as a line, for messages.
    pub fn line(&self) -> String {
        let mut s = self.shown.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The configured `std::process::Command` (stdin `/dev/null`, output
    /// not redirected).
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.env_clear().args(&self.args).current_dir(&self.cwd).stdin(Stdio::null());
        // A shell starts background jobs with SIGINT ignored, and children
        // inherit that: give the binary the default, as in a terminal, so
        // that a test's SIGINT works however `cargo test` was started.
        // SAFETY: signal(2) is async-signal-safe; nothing else runs here.
        unsafe {
            use std::os::unix::process::CommandExt;
            c.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        for (k, v) in &self.vars {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    /// Run to the end.
    pub fn run(self) -> Run {
        let started = Instant::now();
        let mut c = self.command();
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        if self.stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().unwrap_or_else(|e| panic!("cannot start `{}`: {e}", self.line()));
        if let Some(data) = &self.stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            // The command may exit without reading it all.
            let _ = pipe.write_all(data);
        }
        let out = child.wait_with_output().expect("wait for the command");
        Run::from_output(&self, out.status, out.stdout, out.stderr, started.elapsed())
    }
}

/// What one run did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line (`sqlfork ARGS`, or `sh -c …`).
    pub line: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The exit code; -1 when a signal ended it (see `signal`).
    pub code: i32,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub(crate) fn from_output(
        cmd: &Cmd,
        status: std::process::ExitStatus,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
        took: Duration,
    ) -> Run {
        use std::os::unix::process::ExitStatusExt;
        Run {
            line: cmd.line(),
            args: cmd.arg_strings(),
            cwd: cmd.cwd.clone(),
            code: status.code().unwrap_or(-1),
            signal: status.signal(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            took,
        }
    }

    /// The command, cwd, exit, stdout and stderr, for failure messages.
    pub fn dump(&self) -> String {
        let exit = match self.signal {
            Some(sig) => format!("killed by signal {sig}"),
            None => self.code.to_string(),
        };
        format!(
            "command: {}\ncwd: {}\nexit: {exit} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.line,
            self.cwd.display(),
            self.took,
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

    /// stdout as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.dump()))
    }
}
