//! TTLs end to end: `--ttl` on every command that creates a database, the
//! configured default, `db ttl` to change or clear one, the `db list` badge
//! and `db show`'s "Auto-deletes in". Time is set with `SQLFORK_NOW`.

mod common;

use common::*;
use serde_json::Value;

const SRC_SQL: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('a'), ('b');";

/// An env with `acme/orders` imported.
fn with_parent(env: &Env) {
    let src = env.db("orders.db", SRC_SQL);
    env.run(&["db", "import", "acme/orders", src.to_str().unwrap()]).ok();
}

#[test]
fn ttl_outside_one_hour_to_thirty_days_is_exit_2_stating_the_range() {
    let env = Env::new();
    with_parent(&env);
    let before = env.snapshot();
    for bad in ["59m", "31d", "30d 1s", "0s", "1s", "soon", "7", "-1h", ""] {
        let flag = format!("--ttl={bad}");
        let commands: Vec<Vec<&str>> = vec![
            vec!["db", "create", "acme/x", &flag],
            vec!["db", "fork", "acme/orders", "x", &flag],
            vec!["db", "fork", "./orders.db", "x", "--with-data", &flag],
            vec!["branch", "put", "acme/orders@pr-1", &flag],
            vec!["db", "ttl", "acme/orders", "--", bad],
        ];
        for cmd in commands {
            let run = env.run(&cmd).code(2).one_line_error();
            assert!(
                run.stderr.contains("1 hour") && run.stderr.contains("30 days"),
                "the error must state the range:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(env.snapshot(), before, "nothing written by a bad TTL");
    // A bad default in config.toml is exit 2 naming the key and the range.
    env.config("default_ttl = \"45d\"\n");
    env.run(&["db", "create", "acme/x"]).code(2).one_line_error().stderr_has("default_ttl").stderr_has("30 days");
}

#[test]
fn ttl_bounds_are_inclusive_and_expiry_is_creation_plus_ttl() {
    let env = Env::new();
    with_parent(&env);
    let cases = [("1h", HOUR), ("90m", 90 * 60), ("12h", 12 * HOUR), ("7d", 7 * DAY), ("30d", 30 * DAY)];
    for (i, (ttl, secs)) in cases.iter().enumerate() {
        let want = plus(T0, *secs);
        let c = env.cmd(["db", "create", &format!("acme/c{i}"), "--ttl", ttl, "--json"]).now(T0).run().ok().json();
        assert_eq!(s(&c, "createdAt"), T0);
        assert_eq!(s(&c, "expiresAt"), want, "create --ttl {ttl}");
        let f =
            env.cmd(["db", "fork", "acme/orders", &format!("f{i}"), "--ttl", ttl, "--json"]).now(T0).run().ok().json();
        assert_eq!(s(&f, "expiresAt"), want, "fork --ttl {ttl}");
        let d = env
            .cmd(["db", "fork", "./orders.db", &format!("acme/d{i}"), "--with-data", "--ttl", ttl, "--json"])
            .now(T0)
            .run()
            .ok()
            .json();
        assert_eq!(s(&d, "expiresAt"), want, "fork --with-data --ttl {ttl}");
        let b =
            env.cmd(["branch", "put", &format!("acme/orders@b{i}"), "--ttl", ttl, "--json"]).now(T0).run().ok().json();
        assert_eq!(s(&b, "expiresAt"), want, "branch put --ttl {ttl}");
        // Stored in the registry too.
        assert_eq!(env.entry(&s(&b, "id"))["expires_at"].as_str(), Some(want.as_str()));
    }
    // Without a TTL (and no default), nothing expires.
    let n = env.cmd(["db", "create", "acme/never", "--json"]).now(T0).run().ok().json();
    assert_eq!(n["expiresAt"], Value::Null);
    assert!(env.entry(&s(&n, "id")).get("expires_at").is_none());
}

#[test]
fn default_ttl_from_config_applies_everywhere_unless_ttl_is_given() {
    let env = Env::new();
    with_parent(&env);
    env.config("default_ttl = \"3d\"\n");
    let want = plus(T0, 3 * DAY);
    let runs = [
        vec!["db", "create", "acme/a", "--json"],
        vec!["db", "fork", "acme/orders", "b", "--json"],
        vec!["db", "fork", "acme/orders", "c", "--with-data", "--json"],
        vec!["branch", "put", "acme/orders@pr-1", "--json"],
        vec!["branch", "put", "acme/orders@pr-2", "--with-data", "--json"],
    ];
    for args in &runs {
        let out = env.cmd(args).now(T0).run().ok().json();
        assert_eq!(s(&out, "expiresAt"), want, "{args:?}");
    }
    // An explicit --ttl wins over the default.
    let out = env.cmd(["db", "create", "acme/z", "--ttl", "2h", "--json"]).now(T0).run().ok().json();
    assert_eq!(s(&out, "expiresAt"), plus(T0, 2 * HOUR));
    // A reset counts from the reset, with the default again.
    let later = plus(T0, DAY);
    let out = env.cmd(["branch", "put", "acme/orders@pr-1", "--json"]).now(&later).run().ok().json();
    assert_eq!(s(&out, "action"), "reset");
    assert_eq!(s(&out, "expiresAt"), plus(&later, 3 * DAY));
    // Imports are never owned, so the default does not make them expire.
    let other = env.db("other.db", SRC_SQL);
    let imp = env.cmd(["db", "import", "acme/imp", other.to_str().unwrap(), "--json"]).now(T0).run().ok().json();
    assert_eq!(imp["expiresAt"], Value::Null);
}

#[test]
fn db_ttl_changes_clears_and_shows_the_expiry() {
    let env = Env::new();
    with_parent(&env);
    env.cmd(["db", "create", "acme/a", "--ttl", "2h"]).now(T0).run().ok();
    env.cmd(["branch", "put", "acme/orders@pr-1"]).now(T0).run().ok();
    let later = plus(T0, HOUR);

    // Show.
    env.cmd(["db", "ttl", "acme/a"]).now(&later).run().ok().stdout_has("auto-deletes in 1h");
    env.cmd(["db", "ttl", "acme/orders@pr-1"]).now(&later).run().ok().stdout_has("never expires");

    // Change: the new expiry counts from now, not from creation.
    let out = env.cmd(["db", "ttl", "acme/a", "7d", "--json"]).now(&later).run().ok().json();
    assert_eq!(s(&out, "expiresAt"), plus(&later, 7 * DAY));
    assert_eq!(s(&out, "createdAt"), T0, "creation time unchanged");
    env.cmd(["db", "ttl", "acme/a"]).now(&later).run().ok().stdout_has("auto-deletes in 7d");
    let id = s(&out, "id");
    assert_eq!(env.entry(&id)["expires_at"].as_str(), Some(plus(&later, 7 * DAY).as_str()));

    // On a branch too.
    let out = env.cmd(["db", "ttl", "acme/orders@pr-1", "12h", "--json"]).now(&later).run().ok().json();
    assert_eq!(s(&out, "expiresAt"), plus(&later, 12 * HOUR));

    // Clear.
    let out = env.cmd(["db", "ttl", "acme/a", "--clear", "--json"]).now(&later).run().ok().json();
    assert_eq!(out["expiresAt"], Value::Null);
    assert!(env.entry(&id).get("expires_at").is_none());
    env.cmd(["db", "ttl", "acme/a", "--clear"]).now(&later).run().ok().stdout_has("never expires");
    let list = env.cmd(["db", "list"]).now(&later).run().ok().stdout;
    let row = list.lines().find(|l| l.starts_with("acme/a ")).unwrap();
    assert!(!row.contains("expire"), "{row}");

    // Errors: an imported database cannot expire (its file is never
    // deleted); missing database; a duration and --clear together.
    env.run(&["db", "ttl", "acme/orders", "7d"]).code(2).one_line_error().stderr_has("imported");
    env.run(&["db", "ttl", "acme/orders", "--clear"]).ok();
    env.run(&["db", "ttl", "acme/nope", "7d"]).code(3).one_line_error();
    env.run(&["db", "ttl", "acme/orders@nope", "7d"]).code(3).one_line_error();
    env.run(&["db", "ttl", "acme/a", "7d", "--clear"]).code(2);
    env.run(&["db", "ttl", "acme", "7d"]).code(2).one_line_error();
}

#[test]
fn list_badge_counts_down_and_says_expired() {
    let env = Env::new();
    env.cmd(["db", "create", "acme/week", "--ttl", "7d"]).now(T0).run().ok();
    env.cmd(["db", "create", "acme/short", "--ttl", "5h"]).now(T0).run().ok();
    env.cmd(["db", "create", "acme/forever"]).now(T0).run().ok();
    let row = |out: &str, addr: &str| -> String {
        out.lines().find(|l| l.starts_with(&format!("{addr} "))).unwrap_or_else(|| panic!("{addr} in\n{out}")).into()
    };
    let at = |now: &str| env.cmd(["db", "list"]).now(now).run().ok().stdout;

    let out = at(T0);
    assert!(row(&out, "acme/week").ends_with("expires in 7d"), "{out}");
    assert!(row(&out, "acme/short").ends_with("expires in 5h"), "{out}");
    assert!(!row(&out, "acme/forever").contains("expire"), "{out}");
    // Rounded to the nearest unit (6d 23h 59m 59s is "7d", 5d 23h is "6d").
    let out = at(&plus(T0, 1));
    assert!(row(&out, "acme/week").ends_with("expires in 7d"), "{out}");
    let out = at(&plus(T0, DAY + 1));
    assert!(row(&out, "acme/week").ends_with("expires in 6d"), "{out}");
    let out = at(&plus(T0, 2 * DAY + 13 * HOUR));
    assert!(row(&out, "acme/week").ends_with("expires in 4d"), "{out}");
    let out = at(&plus(T0, 4 * HOUR + 30 * 60));
    assert!(row(&out, "acme/short").ends_with("expires in 30m"), "{out}");
    let out = at(&plus(T0, 5 * HOUR));
    assert!(row(&out, "acme/short").ends_with("expired"), "{out}");
    let out = at(&plus(T0, 8 * DAY));
    assert!(row(&out, "acme/week").ends_with("expired"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when stdout is not a terminal:\n{out:?}");
    // JSON carries the raw time, no badge.
    let json = env.cmd(["db", "list", "--json"]).now(&plus(T0, 8 * DAY)).run().ok().json();
    let week = json.as_array().unwrap().iter().find(|e| e["address"] == "acme/week").unwrap();
    assert_eq!(s(week, "expiresAt"), plus(T0, 7 * DAY));
}

#[test]
fn badge_is_red_under_six_hours_on_a_colour_terminal_and_never_with_no_color() {
    let env = Env::new();
    env.cmd(["db", "create", "acme/long", "--ttl", "8h"]).now(T0).run().ok();
    env.cmd(["db", "create", "acme/edge", "--ttl", "6h 1s"]).now(T0).run().ok();
    env.cmd(["db", "create", "acme/short", "--ttl", "5h"]).now(T0).run().ok();
    env.cmd(["db", "create", "acme/gone", "--ttl", "1h"]).now(T0).run().ok();
    let now = plus(T0, 2 * HOUR);
    const RED: &str = "\x1b[31m";

    let tty = env.cmd(["db", "list"]).env_remove("NO_COLOR").now(&now).tty();
    let line = |addr: &str| -> String {
        tty.lines().find(|l| l.starts_with(&format!("{addr} "))).unwrap_or_else(|| panic!("{addr} in\n{tty:?}")).into()
    };
    // 6h left or more: not red; under 6h: red; past: red `expired`.
    assert!(line("acme/long").contains("expires in 6h"), "{tty:?}");
    assert!(!line("acme/long").contains(RED), "6h left is not red: {tty:?}");
    assert!(line("acme/edge").contains(&format!("{RED}expires in 4h")), "under 6h is red: {tty:?}");
    assert!(line("acme/short").contains(&format!("{RED}expires in 3h")), "under 6h is red: {tty:?}");
    assert!(line("acme/gone").contains(&format!("{RED}expired")), "expired is red: {tty:?}");

    // NO_COLOR (any non-empty value) turns colour off, even on a terminal.
    for v in ["1", "yes"] {
        let plain = env.cmd(["db", "list"]).env_remove("NO_COLOR").env("NO_COLOR", v).now(&now).tty();
        assert!(!plain.contains('\x1b'), "NO_COLOR={v}: {plain:?}");
        assert!(plain.contains("expires in 3h") && plain.contains("expired"), "{plain:?}");
    }
    // --json is never coloured.
    let json = env.cmd(["db", "list", "--json"]).env_remove("NO_COLOR").now(&now).tty();
    assert!(!json.contains('\x1b'), "{json:?}");
}

#[test]
fn show_says_auto_deletes_in_and_expired() {
    let env = Env::new();
    with_parent(&env);
    env.cmd(["db", "fork", "acme/orders", "pr-1", "--ttl", "7d"]).now(T0).run().ok();
    let out = env.cmd(["db", "show", "acme/pr-1"]).now(&plus(T0, 13 * HOUR)).run().ok().stdout;
    assert!(out.contains("Auto-deletes in 6d"), "{out}");
    let out = env.cmd(["db", "show", "acme/pr-1"]).now(&plus(T0, 6 * DAY + 20 * HOUR)).run().ok().stdout;
    assert!(out.contains("Auto-deletes in 4h"), "{out}");
    let out = env.cmd(["db", "show", "acme/pr-1"]).now(&plus(T0, 8 * DAY)).run().ok().stdout;
    assert!(out.contains("Expired") && out.contains("db gc"), "{out}");
    assert!(!out.contains("Auto-deletes"), "{out}");
    let json = env.cmd(["db", "show", "acme/pr-1", "--json"]).now(&plus(T0, DAY)).run().ok().json();
    assert_eq!(s(&json, "expiresAt"), plus(T0, 7 * DAY));
    // Without a TTL there is no line about it.
    let out = env.run(&["db", "show", "acme/orders"]).ok().stdout;
    assert!(!out.contains("Auto-deletes") && !out.contains("Expired"), "{out}");
    // Branches too.
    env.cmd(["branch", "put", "acme/orders@pr-9", "--ttl", "2d"]).now(T0).run().ok();
    let out = env.cmd(["db", "show", "acme/orders@pr-9"]).now(&plus(T0, HOUR)).run().ok().stdout;
    assert!(out.contains("Auto-deletes in 2d"), "47h left is 2d, to the nearest day: {out}");
}

#[test]
fn sqlfork_now_must_be_rfc3339() {
    let env = Env::new();
    env.cmd(["db", "list"]).now("yesterday").run().code(2).one_line_error().stderr_has("SQLFORK_NOW");
    env.cmd(["db", "list"]).now("2026-01-01T00:00:00Z").run().ok();
    // The documented testing aid is in --help.
    env.run(&["--help"]).ok().stdout_has("SQLFORK_NOW");
}
