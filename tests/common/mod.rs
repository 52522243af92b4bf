//! The test harness, by concept. Every test gets its own temporary home and
//! an isolated environment, drives the real `sqlfork` binary through one
//! command builder, and on failure sees the command, its working directory,
//! stdout and stderr.
//!
//! - [`env`]: [`Env`] (a temporary home) and [`Cmd`], the one way to run
//!   the binary (to the end with [`Cmd::run`], in the background with
//!   [`Cmd::spawn`], on a terminal with [`Cmd::tty`]); [`Run`], what a run
//!   did, with assertions.
//! - [`proc`]: background processes ([`Bg`]): kills, signals, waiting on
//!   what they print or on the files they open.
//! - [`tty`]: running on a pseudo-terminal.
//! - [`home`]: the home's state: registry entries, files, claims, config.
//! - [`db`]: databases made from SQL, and reading them back: `sqlite_master`,
//!   settings, soundness (integrity and foreign keys), one value, rows.
//! - [`compare`]: a fork against its source (images, user objects, the
//!   schema-only fork-and-compare).
//! - [`files`]: bytes, modes and trees of plain files.
//! - [`fixtures`]: shared sources ([`ORDERS_SQL`], [`Env::with_orders`]).
//! - [`rng`]: the seeded generator of the randomised tests.
//! - [`mcp`]: [`mcp::Session`], an MCP client of `sqlfork mcp`.
//! - [`mount`]: loop-mounted XFS (reflink) and btrfs file systems, with a
//!   guard that unmounts on drop (used as `common::mount::…`).
//!
//! Here: [`s`], the clock constants, [`wait_until`], and [`require`] /
//! [`skip_or_fail`] for a test that cannot do its job (it says so loudly,
//! and fails under `CI=true`).
#![allow(dead_code, unused_imports)]

pub mod cases;
pub mod compare;
pub mod db;
pub mod env;
pub mod files;
pub mod fixtures;
pub mod home;
pub mod mcp;
pub mod mount;
pub mod proc;
pub mod rng;
pub mod s3;
pub mod tty;

pub use compare::*;
pub use db::*;
pub use env::*;
pub use files::*;
pub use fixtures::*;
pub use home::*;
pub use proc::*;
pub use rng::*;

use serde_json::Value;
use std::io::Write;
use std::time::{Duration, Instant};

/// The fixed clock most tests run at (`SQLFORK_NOW`).
pub const T0: &str = "2026-01-01T00:00:00Z";
/// Two hours after [`T0`]: what expired after one hour is due.
pub const T_LATER: &str = "2026-01-01T02:00:00Z";
pub const HOUR: u64 = 3600;
pub const DAY: u64 = 86_400;

/// `t0` plus `secs` seconds, as RFC 3339.
pub fn plus(t0: &str, secs: u64) -> String {
    let t = humantime::parse_rfc3339(t0).expect("RFC 3339") + Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The string field `key` of a JSON object; panics naming the object.
pub fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("no string `{key}` in {v:#}")).to_string()
}

/// True when running in CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// A test that cannot do its job: say so loudly (straight to stderr, which
/// libtest does not capture), and fail under `CI=true`. Outside CI the
/// caller then returns; it never passes silently.
pub fn skip_or_fail(why: &str) {
    let banner = format!(
        "\n!!! SKIPPED, NOT TESTED: {} — {why}\n!!! (under CI=true this fails)\n",
        std::thread::current().name().unwrap_or("a test")
    );
    // Not eprintln!: libtest captures that and shows it only for failures.
    let _ = std::io::stderr().write_all(banner.as_bytes());
    if in_ci() {
        panic!("cannot do its job under CI=true: {why}");
    }
}

/// `cond`, or [`skip_or_fail`] with `why` and false: `if !require(..) { return; }`.
pub fn require(cond: bool, why: &str) -> bool {
    if !cond {
        skip_or_fail(why);
    }
    cond
}

/// Poll `f` every 5 ms until it is true; panic after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Progress lines `LABEL: D/T MiB (P%)…` on stderr, as (D, T, P, line).
pub fn progress_lines<'a>(stderr: &'a str, label: &str) -> Vec<(f64, f64, u32, &'a str)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(label)?.strip_prefix(": ")?;
            let (d, rest) = rest.split_once('/')?;
            let (t, rest) = rest.split_once(" MiB (")?;
            let (p, _) = rest.split_once("%)")?;
            Some((d.parse().ok()?, t.parse().ok()?, p.parse().ok()?, l))
        })
        .collect()
}
