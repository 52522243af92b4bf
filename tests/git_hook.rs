//! `sqlfork git-hook`: a real git repository in a temporary directory, real
//! branch switches, and the post-checkout hook sqlfork installs.

mod common;

use common::Env;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// git on PATH, or a loud skip (a failure under CI=true).
fn have_git() -> bool {
    common::require(
        Command::new("git").arg("--version").output().is_ok_and(|o| o.status.success()),
        "git is not on PATH: the git-hook tests cannot run (apt-get install git)",
    )
}

struct Repo<'a> {
    env: &'a Env,
    dir: PathBuf,
}

impl<'a> Repo<'a> {
    /// A repository with one commit on `main`, and `acme/orders` registered
    /// from a database with rows.
    fn new(env: &'a Env) -> Repo<'a> {
        let src = env.db(
            "orders.db",
            "CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT);
             INSERT INTO orders(item) VALUES ('apple'), ('pear'), ('plum');",
        );
        env.run(&["db", "import", "acme/orders", src.to_str().unwrap()]).ok();
        let dir = env.path("repo");
        std::fs::create_dir_all(&dir).unwrap();
        let repo = Repo { env, dir };
        repo.git(&["init", "-q", "-b", "main"]);
        std::fs::write(repo.dir.join("README"), "hello\n").unwrap();
        repo.git(&["add", "README"]);
        repo.git(&["commit", "-q", "-m", "init"]);
        repo
    }

    /// Run git in the repository; returns (success, stdout + stderr).
    fn try_git(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.env.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("run git");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    fn git(&self, args: &[&str]) -> String {
        let (ok, text) = self.try_git(args);
        assert!(ok, "git {args:?} failed:\n{text}");
        text
    }

    /// `sqlfork ARGS` run inside the repository.
    fn sqlfork(&self, args: &[&str]) -> common::Run {
        self.env.cmd(args).current_dir(&self.dir).run()
    }

    fn path_file(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join(".sqlfork-path")).ok().map(|s| s.trim_end().to_string())
    }

    fn hooks(&self) -> PathBuf {
        self.dir.join(".git/hooks")
    }
}

fn count(db: &str) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row("SELECT count(*) FROM orders", [], |r| r.get(0)).unwrap()
}

fn db_path(env: &Env, addr: &str) -> String {
    env.db_path(addr).display().to_string()
}

#[test]
fn each_branch_gets_its_own_database_at_a_stable_path() {
    if !have_git() {
        return;
    }
    let env = Env::new();
    let repo = Repo::new(&env);
    let run = repo.sqlfork(&["git-hook", "install", "acme/orders", "--with-data"]).ok();
    assert!(run.stdout.contains("acme/orders@main created"), "{}", run.stdout);
    let hook = repo.hooks().join("post-checkout");
    assert!(std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111 != 0, "the hook is executable");
    // Install sets up the current branch at once.
    let main_db = db_path(&env, "acme/orders@main");
    assert_eq!(repo.path_file().as_deref(), Some(main_db.as_str()));
    assert_eq!(count(&main_db), 3, "--with-data copies the rows");

    // A new branch forks its own database; the hook says so on git's output.
    let out = repo.git(&["checkout", "-b", "feature/login"]);
    assert!(out.contains("acme/orders@feature/login created"), "{out}");
    let feature_db = db_path(&env, "acme/orders@feature/login");
    assert_ne!(feature_db, main_db);
    assert_eq!(repo.path_file().as_deref(), Some(feature_db.as_str()));
    rusqlite::Connection::open(&feature_db).unwrap().execute("DELETE FROM orders WHERE id = 1", []).unwrap();

    // Back to main and back again: each branch keeps its database as it was.
    let out = repo.git(&["checkout", "main"]);
    assert!(out.contains("acme/orders@main kept"), "{out}");
    assert_eq!(repo.path_file().as_deref(), Some(main_db.as_str()));
    assert_eq!(count(&main_db), 3);
    repo.git(&["checkout", "feature/login"]);
    assert_eq!(repo.path_file().as_deref(), Some(feature_db.as_str()));
    assert_eq!(count(&feature_db), 2, "switching back keeps the branch's changes");

    // A file checkout (third argument 0) is not a branch switch.
    std::fs::write(repo.dir.join("README"), "changed\n").unwrap();
    let out = repo.git(&["checkout", "--", "README"]);
    assert!(!out.contains("sqlfork"), "{out}");
    assert_eq!(repo.path_file().as_deref(), Some(feature_db.as_str()));
}

#[test]
fn detached_heads_and_unusual_branch_names_are_handled_and_said() {
    if !have_git() {
        return;
    }
    let env = Env::new();
    let repo = Repo::new(&env);
    repo.sqlfork(&["git-hook", "install", "acme/orders"]).ok();
    let main_db = db_path(&env, "acme/orders@main");
    assert_eq!(count(&main_db), 0, "schema only without --with-data");

    let out = repo.git(&["checkout", "--detach"]);
    assert!(out.contains("detached"), "{out}");
    assert_eq!(repo.path_file().as_deref(), Some(main_db.as_str()), "a detached HEAD keeps the path");

    // `#`, `@` and non-ASCII letters are fine in git branch names, not in a
    // REF: mapped, and said.
    let out = repo.git(&["checkout", "-b", "fix#12@café"]);
    let mapped_ref = format!("fix-12-caf--{}", short_sha256("fix#12@café"));
    assert!(out.contains(&format!("acme/orders@{mapped_ref} created")), "{out}");
    assert!(out.contains("`fix#12@café`"), "{out}");
    let mapped = db_path(&env, &format!("acme/orders@{mapped_ref}"));
    assert_eq!(repo.path_file().as_deref(), Some(mapped.as_str()));

    // A branch whose name is what another one maps to gets its own
    // database: two git branches never share one.
    let out = repo.git(&["checkout", "-b", "fix-12-caf-"]);
    assert!(out.contains("acme/orders@fix-12-caf- created"), "{out}");
    let plain = db_path(&env, "acme/orders@fix-12-caf-");
    assert_ne!(plain, mapped);
    assert_eq!(repo.path_file().as_deref(), Some(plain.as_str()));
}

/// The first 8 hex digits of the SHA-256 of `text`.
fn short_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_hook_that_was_there_is_chained_and_restored() {
    if !have_git() {
        return;
    }
    let env = Env::new();
    let repo = Repo::new(&env);
    let log = env.path("previous.log");
    let previous = format!("#!/bin/sh\necho \"previous $3\" >> '{}'\n", log.display());
    let hook = repo.hooks().join("post-checkout");
    std::fs::write(&hook, &previous).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let run = repo.sqlfork(&["git-hook", "install", "acme/orders", "--path-file", "db/current-path"]).ok();
    assert!(run.stderr.contains("runs first"), "{}", run.stderr);
    repo.git(&["checkout", "-b", "next"]);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "previous 1\n",
        "the previous hook still runs, with git's arguments"
    );
    let next_db = db_path(&env, "acme/orders@next");
    assert_eq!(std::fs::read_to_string(repo.dir.join("db/current-path")).unwrap().trim_end(), next_db);
    // Installing again replaces only sqlfork's own hook.
    repo.sqlfork(&["git-hook", "install", "acme/orders", "--path-file", "db/current-path"]).ok();
    repo.git(&["checkout", "main"]);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "previous 1\nprevious 1\n");

    let run = repo.sqlfork(&["git-hook", "uninstall"]).ok();
    assert!(run.stdout.contains("previous hook is back"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), previous, "the previous hook is back, byte for byte");
    assert!(!repo.hooks().join("post-checkout.sqlfork-chained").exists());
    // The restored hook is a hook sqlfork did not write: uninstall leaves it.
    repo.sqlfork(&["git-hook", "uninstall"]).code(3).one_line_error().stderr_has("not written by sqlfork");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), previous);
}

#[test]
fn uninstall_removes_only_what_install_wrote() {
    if !have_git() {
        return;
    }
    let env = Env::new();
    let repo = Repo::new(&env);
    repo.sqlfork(&["git-hook", "uninstall"]).code(3).one_line_error().stderr_has("no post-checkout hook");
    repo.sqlfork(&["git-hook", "install", "acme/orders"]).ok();
    let before: Vec<_> = std::fs::read_dir(repo.hooks()).unwrap().map(|e| e.unwrap().file_name()).collect();
    repo.sqlfork(&["git-hook", "uninstall"]).ok().stdout_has("Removed sqlfork's post-checkout hook");
    assert!(!repo.hooks().join("post-checkout").exists());
    let after: Vec<_> = std::fs::read_dir(repo.hooks()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(after.len(), before.len() - 1, "only the hook went: {before:?} -> {after:?}");
    // Branch switches no longer touch the path file.
    let path = repo.path_file();
    repo.git(&["checkout", "-b", "later"]);
    assert_eq!(repo.path_file(), path);
    env.run(&["db", "show", "acme/orders@later"]).code(3);
}

#[test]
fn core_hooks_path_is_respected() {
    if !have_git() {
        return;
    }
    let env = Env::new();
    let repo = Repo::new(&env);
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    repo.sqlfork(&["git-hook", "install", "acme/orders"]).ok();
    assert!(githook_marker(&repo.dir.join(".githooks/post-checkout")));
    assert!(!repo.hooks().join("post-checkout").exists());
    repo.git(&["checkout", "-b", "elsewhere"]);
    assert_eq!(repo.path_file(), Some(db_path(&env, "acme/orders@elsewhere")));
    repo.sqlfork(&["git-hook", "uninstall"]).ok();
    assert!(!repo.dir.join(".githooks/post-checkout").exists());
}

fn githook_marker(p: &Path) -> bool {
    std::fs::read_to_string(p).is_ok_and(|t| t.contains("sqlfork-git-hook"))
}

#[test]
fn bad_installs_write_nothing() {
    if !have_git() {
        return;
    }
    let env = Env::new();
    let repo = Repo::new(&env);
    // No such database: exit 3, no hook.
    repo.sqlfork(&["git-hook", "install", "acme/nope"]).code(3).one_line_error();
    assert!(!repo.hooks().join("post-checkout").exists());
    // A branch instead of a database, a bad TTL: exit 2.
    repo.sqlfork(&["git-hook", "install", "acme/orders@main"]).code(2).one_line_error();
    repo.sqlfork(&["git-hook", "install", "acme/orders", "--ttl", "5m"]).code(2).one_line_error();
    assert!(!repo.hooks().join("post-checkout").exists());
    // Outside a repository: exit 2, says where to run it.
    let outside = env.path("not-a-repo");
    std::fs::create_dir_all(&outside).unwrap();
    env.cmd(["git-hook", "install", "acme/orders"])
        .current_dir(&outside)
        .run()
        .code(2)
        .one_line_error()
        .stderr_has("not inside a git work tree");
}

#[test]
fn a_failed_switch_removes_the_path_file_and_says_why() {
    if !have_git() {
        return;
    }
    let env = Env::new();
    let repo = Repo::new(&env);
    repo.sqlfork(&["git-hook", "install", "acme/orders"]).ok();
    assert!(repo.path_file().is_some());
    // The parent goes away: the next new branch cannot be forked.
    env.run(&["db", "delete", "acme/orders", "--yes"]).ok();
    let (ok, out) = repo.try_git(&["checkout", "-b", "orphan"]);
    assert!(!ok, "the hook's failure is git checkout's exit status:\n{out}");
    assert!(out.contains("acme/orders"), "{out}");
    assert_eq!(repo.path_file(), None, "no path file naming another branch's database");
}
