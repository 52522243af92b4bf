//! Manners, second round (issue 20): what a new user tripped over in a
//! realistic day. Each test drives the real binary in its own home and
//! failed before the fix it names (the point of the issue in brackets).

mod common;

use common::*;

/// A WAL source (about 0.6 MiB) with a parent table, a child table and a
/// grandchild table.
const SHOP_WAL: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA page_size = 1024;
    CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT NOT NULL);
    CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total INT);
    CREATE TABLE items(id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id), q INT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
        INSERT INTO users SELECT i, 'user' || i || '@example.com' FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
        INSERT INTO orders SELECT i, 1 + i % 300, i FROM n;
    INSERT INTO items SELECT id, id, hex(randomblob(120)) FROM orders;
";

const MASK: &str = "seed = \"s\"\n[tables.users]\nemail = \"email\"\n";

// [1] A masked or subset fork of an idle WAL source is exact, and a
// subset's deliberate removals are not "orphans".
#[test]
fn masked_and_subset_forks_of_an_idle_wal_source_are_exact() {
    let env = Env::new();
    env.db("prod.db", SHOP_WAL);
    std::fs::write(env.path("m.toml"), MASK).unwrap();
    let v = env.run(&["db", "fork", "./prod.db", "t/m", "--with-data", "--mask", "m.toml", "--json"]).ok().json();
    assert_eq!(v["copy"]["exact"], true, "masked fork of an idle source:\n{v:#}");
    assert_eq!(v["copy"]["orphansPruned"], 0, "{v:#}");

    let run = env.run(&["db", "fork", "./prod.db", "t/s", "--with-data", "--subset", "orders:id <= 100"]).ok();
    assert!(run.stdout.contains("exact snapshot"), "{}", run.stdout);
    assert!(!run.stdout.contains("orphan") && !run.stdout.contains("best-effort"), "{}", run.stdout);
    let v = env.run(&["db", "show", "t/s", "--json"]).ok().json();
    assert_eq!(v["copy"]["exact"], true, "{v:#}");
    assert_eq!(v["copy"]["orphansPruned"], 0, "a subset's removals are deliberate:\n{v:#}");
    // [14] The rows figure is the rows kept.
    let kept: u64 = v["safe"]["rowsKept"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(v["copy"]["rowsCopied"].as_u64(), Some(kept), "{v:#}");
    assert_eq!(kept, 300 + 100 + 100, "{v:#}");
}

// [14] A table the subset does not name keeps its rows, and the output
// says so.
#[test]
fn a_subset_says_which_tables_it_did_not_cut() {
    let env = Env::new();
    env.db("prod.db", SHOP_WAL);
    let run = env.run(&["db", "fork", "./prod.db", "t/s", "--with-data", "--subset", "orders:id <= 100"]).ok();
    let line = |t: &str| run.stdout.lines().find(|l| l.trim_start().starts_with(&format!("{t}:"))).unwrap_or("");
    assert!(line("users").contains("300 rows kept") && line("users").contains("not in --subset"), "{}", run.stdout);
    assert!(!line("orders").contains("not in --subset"), "{}", run.stdout);
}

// [4] Masked and subset progress is in real MiB, reaches 100%, and its ETA
// does not climb while a filtered table is read.
#[test]
fn masked_and_subset_progress_shows_real_figures() {
    let env = Env::new();
    let src = env.db("prod.db", SHOP_WAL);
    std::fs::write(env.path("m.toml"), MASK).unwrap();
    env.config("rows_per_page = 50\n");
    let vars = [("SQLFORK_TEST_DELAY_MS", "3"), ("SQLFORK_PROGRESS_INTERVAL", "0")];
    for (dst, extra) in [("t/m", ["--mask", "m.toml"]), ("t/s", ["--subset", "orders:id <= 100"])] {
        let run = env.cmd(["db", "fork", "./prod.db", dst, "--with-data"]).args(extra).envs(&vars).run().ok();
        let lines = progress_lines(&run.stderr, dst);
        assert!(lines.len() >= 5, "{dst}: progress lines:\n{}", run.stderr);
        let (done, total, pct, last) = *lines.last().unwrap();
        assert!(total > 0.0, "{dst}: a real total in MiB, not 0.0: {last}");
        assert_eq!((pct, done), (100, total), "{dst}: the last line is complete: {last}");
        let source_mib = std::fs::metadata(&src).unwrap().len() as f64 / 1048576.0;
        assert!(total <= source_mib + 0.05, "{dst}: at most the source's size ({source_mib:.2} MiB): {last}");
        assert!(lines.windows(2).all(|w| w[0].2 <= w[1].2), "{dst}: only forward:\n{}", run.stderr);
        assert!(
            lines.iter().any(|(_, _, p, l)| *p < 100 && l.contains(" MiB/s") && !l.contains(" 0.0 MiB/s")),
            "{dst}: a real rate:\n{}",
            run.stderr
        );
        // Progress moves through the filtered `items` too, instead of
        // jumping at the end.
        let jump = lines.windows(2).map(|w| w[1].2 - w[0].2).max().unwrap_or(0);
        assert!(jump <= 40, "{dst}: a jump of {jump} points:\n{}", run.stderr);
    }
}

// [2] `branch put` without `--ttl` keeps the branch's expiry, as `db reset`
// does; with `--ttl` it counts from this put.
#[test]
fn branch_put_without_ttl_keeps_the_expiry() {
    let env = Env::new();
    env.db("prod.db", "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    env.run(&["db", "import", "acme/prod", "./prod.db"]).ok();
    let t0 = "2026-01-01T00:00:00Z";
    let first = env.cmd(["branch", "put", "acme/prod@pr-7", "--ttl", "2d", "--json"]).now(t0).run().ok().json();
    let expires = s(&first, "expiresAt");
    assert_eq!(expires, plus(t0, 2 * 86400));
    let later = plus(t0, 3600);
    let again = env.cmd(["branch", "put", "acme/prod@pr-7", "--json"]).now(&later).run().ok().json();
    assert_eq!(s(&again, "action"), "reset");
    assert_eq!(s(&again, "expiresAt"), expires, "a put without --ttl keeps the expiry:\n{again:#}");
    env.cmd(["db", "ttl", "acme/prod@pr-7"]).now(&later).run().ok().stdout_has("auto-deletes in 2d");
    let renewed = env.cmd(["branch", "put", "acme/prod@pr-7", "--ttl", "1d", "--json"]).now(&later).run().ok().json();
    assert_eq!(s(&renewed, "expiresAt"), plus(&later, 86400));
}

// [3] The SQL patch restores the statistics a re-created table loses, and
// an added column is `ALTER TABLE … ADD COLUMN` plus updates, not a copy of
// the whole table: applied, the two databases do not differ.
#[test]
fn sql_patch_keeps_statistics_and_adds_columns_in_place() {
    let env = Env::new();
    env.db(
        "prod.db",
        "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT, name TEXT);
         CREATE INDEX users_name ON users(name);
         CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
         CREATE INDEX notes_body ON notes(body);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
             INSERT INTO users SELECT i, 'user' || i || '@example.com', 'n' || (i % 7) FROM n;
         INSERT INTO notes SELECT id, 'note ' || id FROM users;
         ANALYZE;",
    );
    env.run(&["db", "import", "acme/prod", "./prod.db"]).ok();
    env.run(&["db", "fork", "acme/prod", "acme/mig", "--with-data"]).ok();
    env.run(&["db", "fork", "acme/prod", "acme/target", "--with-data"]).ok();
    // The migration: a column added and back-filled, a table re-created
    // with a CHECK, statistics refreshed.
    exec(
        &env.db_path("acme/mig"),
        "ALTER TABLE users ADD COLUMN score INTEGER DEFAULT 0;
         UPDATE users SET score = id * 2 WHERE id <= 3;
         CREATE TABLE notes2(id INTEGER PRIMARY KEY, body TEXT CHECK (length(body) > 0));
         INSERT INTO notes2 SELECT * FROM notes; DROP TABLE notes; ALTER TABLE notes2 RENAME TO notes;
         CREATE INDEX notes_body ON notes(body);
         ANALYZE;",
    );
    let patch = env.run(&["db", "diff", "acme/mig", "acme/prod", "--format", "sql"]).ok().stdout;
    assert!(patch.contains("ALTER TABLE \"users\" ADD COLUMN score INTEGER DEFAULT 0;"), "{patch}");
    assert!(!patch.contains("'user100@example.com'"), "the whole users table was copied:\n{patch}");
    exec(&env.db_path("acme/target"), &patch);
    env.run(&["db", "diff", "acme/mig", "acme/target", "--exit-code"]).ok();
}

// [5] `db diff` of a fork against its live parent says when the parent was
// written to after the fork (its own writes are in the diff too).
#[test]
fn diff_says_when_the_live_parent_changed_since_the_fork() {
    let env = Env::new();
    let prod = env.db("prod.db", "PRAGMA journal_mode = WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1, 'a'), (2, 'b');");
    env.run(&["db", "import", "acme/prod", "./prod.db"]).ok();
    env.run(&["db", "fork", "acme/prod", "acme/mig", "--with-data"]).ok();
    exec(&env.db_path("acme/mig"), "DELETE FROM t WHERE id = 1;");
    let quiet = env.run(&["db", "diff", "acme/mig", "--json"]).ok().json();
    assert!(quiet.get("notes").is_none(), "no note while production is as it was:\n{quiet:#}");
    std::thread::sleep(std::time::Duration::from_millis(50));
    // Production goes on: a live parent, in WAL mode, held open.
    let live = rusqlite::Connection::open(&prod).unwrap();
    live.execute_batch("INSERT INTO t VALUES (3, 'c');").unwrap();
    let v = env.run(&["db", "diff", "acme/mig", "--json"]).ok().json();
    let notes = v["notes"].to_string();
    assert!(notes.contains("acme/prod was written to after acme/mig was forked"), "{v:#}");
    let text = env.run(&["db", "diff", "acme/mig"]).ok().stdout;
    assert!(text.contains("was written to after"), "{text}");
    // Against another database, no such note.
    env.run(&["db", "fork", "acme/prod", "acme/other", "--with-data"]).ok();
    let v = env.run(&["db", "diff", "acme/mig", "acme/other", "--json"]).ok().json();
    assert!(v.get("notes").is_none(), "{v:#}");
    drop(live);
}

// [8] A read-only home: one sentence naming it and the next step, exit 1
// (documented: a home that cannot be written).
#[test]
fn a_read_only_home_says_so_and_what_to_do() {
    let Some(m) = mount::LoopMount::new(mount::FsKind::Xfs, 320) else { return };
    let env = Env::new();
    let home = m.path().join("home");
    let home_arg = home.to_str().unwrap();
    env.run(&["--home", home_arg, "db", "create", "acme/a"]).ok();
    m.read_only();
    for args in [vec!["db", "create", "acme/b"], vec!["db", "delete", "acme/a", "--yes"]] {
        let run = env.cmd(["--home", home_arg]).args(&args).run().code(1).one_line_error();
        assert!(run.stderr.contains(home_arg), "names the home:\n{}", run.dump());
        assert!(run.stderr.contains("--home") && run.stderr.contains("SQLFORK_HOME"), "the next step:\n{}", run.dump());
    }
    // Reading still works.
    env.run(&["--home", home_arg, "db", "list"]).ok().stdout_has("acme/a");
}

// [16] An invalid config.toml is the same error for every command: exit 2,
// one sentence naming the file (a damaged registry, sqlfork's own file, is
// a failure: exit 1).
#[test]
fn an_invalid_config_is_one_error_for_every_command() {
    let env = Env::new();
    env.run(&["db", "create", "acme/a"]).ok();
    env.config("copy_method = [\n");
    for args in [
        vec!["db", "list"],
        vec!["db", "show", "acme/a"],
        vec!["db", "path", "acme/a"],
        vec!["db", "create", "acme/b"],
        vec!["branch", "list", "acme/a"],
        vec!["snapshot", "list", "acme/a"],
        vec!["db", "delete", "acme/a", "--yes"],
    ] {
        env.run(&args).code(2).one_line_error().stderr_has("config.toml");
    }
    env.config("");
    env.run(&["db", "path", "acme/a"]).ok();
    for f in ["registry.sqlite-wal", "registry.sqlite-shm"] {
        let _ = std::fs::remove_file(env.home.join(f));
    }
    std::fs::write(env.home.join("registry.sqlite"), "garbage [\n").unwrap();
    env.run(&["db", "list"]).code(1).one_line_error().stderr_has("registry.sqlite");
}

// [11] Duration errors are sqlfork's own sentences: no parsing library's
// wording, and a bare number gets the unit that fits.
#[test]
fn duration_errors_speak_sqlfork() {
    let env = Env::new();
    env.run(&["db", "create", "acme/a"]).ok();
    let run = env.run(&["db", "create", "acme/b", "--ttl", "abc"]).code(2).one_line_error();
    assert!(run.stderr.contains("TTL `abc` is not a duration; write it like 12h"), "{}", run.dump());
    assert!(!run.stderr.contains("expected"), "{}", run.dump());
    let run = env.run(&["db", "wait", "acme/a", "--timeout", "5"]).code(2).one_line_error();
    assert!(run.stderr.contains("write it like 5s"), "{}", run.dump());
    assert!(!run.stderr.contains("5sec") && !run.stderr.contains("unit needed"), "{}", run.dump());
    let run = env.run(&["db", "wait", "acme/a", "--timeout", "soon"]).code(2).one_line_error();
    assert!(run.stderr.contains("--timeout `soon` is not a duration; write it like 30s"), "{}", run.dump());
    let run = env.cmd(["db", "create", "acme/c"]).env("SQLFORK_LOCK_TIMEOUT", "x1").run().code(2).one_line_error();
    assert!(!run.stderr.contains("expected"), "{}", run.dump());
}

// [12] A bare name that is the slug of a registered database gets "did you
// mean".
#[test]
fn a_bare_slug_suggests_its_address() {
    let env = Env::new();
    env.db("big.db", "CREATE TABLE t(x);");
    env.run(&["db", "import", "acme/big1", "./big.db"]).ok();
    let run = env.run(&["db", "fork", "big1", "x/y"]).code(2).one_line_error();
    assert!(run.stderr.contains("did you mean acme/big1?"), "{}", run.dump());
    let run = env.run(&["branch", "put", "big1@pr-7"]).code(2).one_line_error();
    assert!(run.stderr.contains("did you mean acme/big1@pr-7?"), "{}", run.dump());
    // A name that is no slug gets no guess.
    let run = env.run(&["db", "show", "other"]).code(2).one_line_error();
    assert!(!run.stderr.contains("did you mean"), "{}", run.dump());
}

// [17] A text file is said to be one; encryption is mentioned only for a
// file that looks encrypted (whole pages of bytes that are not text).
#[test]
fn a_text_file_is_not_called_encrypted() {
    let env = Env::new();
    std::fs::write(env.path("notes.db"), "just some notes, not a database\n").unwrap();
    let pages: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(env.path("sealed.db"), &pages).unwrap();
    let run = env.run(&["db", "fork", "./notes.db", "x/y"]).code(2).one_line_error();
    assert!(run.stderr.contains("is a text file, not a SQLite database"), "{}", run.dump());
    assert!(!run.stderr.contains("encrypt"), "{}", run.dump());
    let run = env.run(&["db", "fork", "./sealed.db", "x/y"]).code(2).one_line_error();
    assert!(run.stderr.contains("not a SQLite database") && run.stderr.contains("encrypted"), "{}", run.dump());
    let run = env.run(&["db", "diff", "./notes.db", "./sealed.db"]).code(2).one_line_error();
    assert!(run.stderr.contains("text file") && !run.stderr.contains("encrypt"), "{}", run.dump());
}

// [9] The Markdown diff says how many more rows changed than it lists.
#[test]
fn markdown_diff_says_and_n_more() {
    let env = Env::new();
    env.db(
        "prod.db",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e');",
    );
    env.run(&["db", "import", "acme/prod", "./prod.db"]).ok();
    env.run(&["db", "fork", "acme/prod", "acme/mig", "--with-data"]).ok();
    exec(&env.db_path("acme/mig"), "UPDATE t SET v = upper(v);");
    let md = env.run(&["db", "diff", "acme/mig", "--rows", "2", "--format", "markdown"]).ok().stdout;
    assert!(md.contains("… and 3 more"), "{md}");
    let md = env.run(&["db", "diff", "acme/mig", "--rows", "5", "--format", "markdown"]).ok().stdout;
    assert!(!md.contains("more"), "{md}");
}

// [13] `db resume` of a healthy fork says there was nothing to resume, not
// "Forked …" with old figures.
#[test]
fn resuming_a_healthy_fork_says_nothing_to_do() {
    let env = Env::new();
    env.db("prod.db", "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    env.run(&["db", "fork", "./prod.db", "acme/big1", "--with-data"]).ok();
    let run = env.run(&["db", "resume", "acme/big1"]).ok();
    assert!(run.stdout.contains("acme/big1 is healthy already: nothing to resume."), "{}", run.dump());
    assert!(!run.stdout.contains("Forked") && !run.stdout.contains("rows:"), "{}", run.dump());
    let path = env.run(&["db", "resume", "acme/big1", "--quiet"]).ok().stdout;
    assert_eq!(path.trim(), env.db_path("acme/big1").display().to_string());
}

// [15] Every mask-rule error names the rules file the same way; a missing
// column in --subset is called missing, without sqlfork's internal SQL.
#[test]
fn rule_errors_name_the_file_and_the_column() {
    let env = Env::new();
    env.db("prod.db", SHOP_WAL);
    let cases = [
        ("bad-masker.toml", "seed = \"s\"\n[tables.users]\nemail = \"scramble\"\n", "unknown masker"),
        ("no-table.toml", "seed = \"s\"\n[tables.people]\nemail = \"email\"\n", "no table `people`"),
        ("no-column.toml", "seed = \"s\"\n[tables.users]\nmail = \"email\"\n", "no column `mail`"),
        ("bad-sql.toml", "seed = \"s\"\n[tables.users]\nemail = { sql = \"nope(\" }\n", "does not parse"),
        ("fk.toml", "seed = \"s\"\n[tables.orders]\nuser_id = \"hash\"\n", "references"),
    ];
    for (file, rules, why) in cases {
        std::fs::write(env.path(file), rules).unwrap();
        let run = env.run(&["db", "fork", "./prod.db", "t/m", "--with-data", "--mask", file]).code(2).one_line_error();
        let whole = std::fs::canonicalize(env.path(file)).unwrap();
        let first = format!("error: {}: ", whole.display());
        assert!(run.stderr.starts_with(&first), "names the file first, by its whole path:\n{}", run.dump());
        assert!(run.stderr.contains(why), "{}", run.dump());
    }
    let run = env.run(&["db", "fork", "./prod.db", "t/s", "--with-data", "--subset", "orders:nocol = 1"]).code(2);
    let run = run.one_line_error();
    assert!(run.stderr.contains("table `orders` has no column `nocol`"), "{}", run.dump());
    assert!(!run.stderr.contains("SELECT") && !run.stderr.contains("does not parse"), "{}", run.dump());
    let run = env.run(&["db", "fork", "./prod.db", "t/s", "--with-data", "--subset", "orders:id = ("]).code(2);
    let run = run.one_line_error();
    assert!(run.stderr.contains("does not parse") && !run.stderr.contains("SELECT"), "{}", run.dump());
}

// [7] Completion knows snapshots: `snapshot` subcommands' addresses,
// snapshot addresses, the branches after `branch put acme/prod@`, and
// `db reset … --to` offers snapshot names, not files.
#[test]
fn completions_know_snapshots_and_branches() {
    let env = Env::new();
    env.db("prod.db", "CREATE TABLE t(x);");
    env.run(&["db", "import", "acme/prod", "./prod.db"]).ok();
    env.run(&["db", "fork", "acme/prod", "acme/pr-1"]).ok();
    env.run(&["branch", "put", "acme/prod@pr-7"]).ok();
    env.run(&["snapshot", "create", "acme/pr-1:before"]).ok();
    env.run(&["snapshot", "create", "acme/pr-1:base"]).ok();
    let complete = |words: &[&str]| -> Vec<String> {
        let mut args = vec!["__complete"];
        args.extend(words);
        env.run(&args).ok().stdout.lines().map(String::from).collect()
    };
    assert_eq!(complete(&["branch", "put", "acme/prod@"]), ["acme/prod@pr-7"]);
    assert_eq!(complete(&["db", "reset", "acme/pr-1", "--to", ""]), ["base", "before"]);
    assert_eq!(complete(&["db", "reset", "acme/pr-1", "--to", "bef"]), ["before"]);
    assert_eq!(complete(&["db", "reset", "acme/p"]), ["acme/pr-1", "acme/prod", "acme/prod@pr-7"]);
    assert_eq!(complete(&["snapshot", "list", "acme/pr"]), ["acme/pr-1", "acme/prod", "acme/prod@pr-7"]);
    assert_eq!(complete(&["snapshot", "delete", ""]), ["acme/pr-1:base", "acme/pr-1:before"]);
    assert_eq!(complete(&["db", "fork", "acme/pr-1:b"]), ["acme/pr-1:base", "acme/pr-1:before"]);
    assert!(complete(&["db", "fork", "./x", "--mask", ""]).is_empty(), "a file: the shell completes it");
    // bash, for real: it splits `acme/pr-1:bef` at ':'.
    let bash = std::process::Command::new("bash").arg("--version").output().is_ok_and(|o| o.status.success());
    if !require(bash, "bash is needed to test the bash completions") {
        return;
    }
    let bash_script = env.run(&["completions", "bash"]).ok().stdout;
    // With no snapshot to offer, `--to` offers no file names either.
    let to = bash_script.split("--to)").nth(1).and_then(|rest| rest.split(";;").next()).unwrap_or_default();
    assert!(!to.is_empty() && !to.contains("compgen -f"), "--to completes files:\n{to}");
    std::fs::write(env.path("c.bash"), &bash_script).unwrap();
    let script = "source ./c.bash; COMP_WORDS=(\"$SQLFORK\" snapshot delete acme/pr-1 : bef); COMP_CWORD=5; \
                  _sqlfork_addresses; printf '%s\\n' \"${COMPREPLY[@]}\"";
    std::fs::write(env.path("t.bash"), script).unwrap();
    let run = env.sh("bash ./t.bash").run().ok();
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), ["before"], "{}", run.dump());
}
