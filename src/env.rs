//! Every environment variable sqlfork reads, in one place. No other module
//! calls `std::env::var`. (The README's Environment table lists them for
//! users.)

// Some are read only by the command line (feature `cli`).
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use std::ffi::OsString;

/// The home directory when `--home` is not given.
pub(crate) const SQLFORK_HOME: &str = "SQLFORK_HOME";
/// How long a command waits for another process's registry lock (`30s`,
/// `5m`; default one minute).
pub(crate) const SQLFORK_LOCK_TIMEOUT: &str = "SQLFORK_LOCK_TIMEOUT";
/// Pretend the current time is this RFC 3339 time (testing aid).
pub(crate) const SQLFORK_NOW: &str = "SQLFORK_NOW";
/// Turn off colour in human output (any non-empty value).
pub(crate) const NO_COLOR: &str = "NO_COLOR";
/// Seconds between progress lines when stderr is not a terminal.
pub(crate) const SQLFORK_PROGRESS_INTERVAL: &str = "SQLFORK_PROGRESS_INTERVAL";
/// Timings of a fork's phases on stderr (for the benchmark).
pub(crate) const SQLFORK_TRACE: &str = "SQLFORK_TRACE";
/// Testing aid: pages per page-copy chunk (default 2048).
#[cfg(feature = "test-knobs")]
pub(crate) const SQLFORK_TEST_CHUNK_PAGES: &str = "SQLFORK_TEST_CHUNK_PAGES";
/// Testing aid: milliseconds to sleep after every committed page or chunk,
/// and after every database `db gc` removes, so tests can interrupt them.
#[cfg(feature = "test-knobs")]
pub(crate) const SQLFORK_TEST_DELAY_MS: &str = "SQLFORK_TEST_DELAY_MS";
/// Testing aid: a reset always builds a copy beside the database and
/// renames it over (as on XFS and btrfs, or when much of it differs), so
/// that the tests of that path run on ext4 too.
#[cfg(feature = "test-knobs")]
pub(crate) const SQLFORK_TEST_RESET_COPY: &str = "SQLFORK_TEST_RESET_COPY";
/// Internal: the descriptor of the build claim `db fork --detach` hands to
/// its background copy.
pub(crate) const SQLFORK_CLAIM_FD: &str = "SQLFORK_CLAIM_FD";
/// Testing aid: `POINT:MS[,POINT:MS…]` stops MS milliseconds at each named
/// moment (see [`test_pause`]), so a test can cut the power exactly there.
#[cfg(feature = "test-knobs")]
pub(crate) const SQLFORK_TEST_PAUSE: &str = "SQLFORK_TEST_PAUSE";
/// The user's home directory, for a source path written `~/…`.
pub(crate) const HOME: &str = "HOME";

/// The AWS variables sqlfork reads itself for remotes (SPEC section 15);
/// `object_store` reads the rest of the `AWS_*` family (keys, endpoint,
/// `AWS_ALLOW_HTTP`) in `AmazonS3Builder::from_env`.
pub(crate) const AWS_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
];

/// One of [`AWS_VARS`], when set and not empty.
pub(crate) fn aws(name: &str) -> Option<String> {
    debug_assert!(AWS_VARS.contains(&name), "{name} is not in AWS_VARS");
    text(name)
}

/// A variable's value, when it is set and not empty.
fn text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `SQLFORK_HOME`, when set and not empty.
pub(crate) fn home() -> Option<OsString> {
    std::env::var_os(SQLFORK_HOME).filter(|v| !v.is_empty())
}

/// `HOME`.
pub(crate) fn user_home() -> Option<OsString> {
    std::env::var_os(HOME)
}

/// `SQLFORK_CLAIM_FD`, the first time it is asked for (a descriptor is
/// adopted once).
pub(crate) fn take_claim_fd() -> Option<std::os::fd::RawFd> {
    static TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return None;
    }
    text(SQLFORK_CLAIM_FD)?.parse().ok()
}

/// `SQLFORK_LOCK_TIMEOUT` as written, when set.
pub(crate) fn lock_timeout() -> Option<String> {
    text(SQLFORK_LOCK_TIMEOUT).map(|v| v.trim().to_string())
}

/// `SQLFORK_NOW` as written, when set (even empty: that is a typo to report).
pub(crate) fn now() -> Option<String> {
    std::env::var(SQLFORK_NOW).ok()
}

/// True when `NO_COLOR` asks for no colour.
pub(crate) fn no_color() -> bool {
    std::env::var_os(NO_COLOR).is_some_and(|v| !v.is_empty())
}

/// `SQLFORK_PROGRESS_INTERVAL` in seconds, when set to a number.
pub(crate) fn progress_interval() -> Option<f64> {
    text(SQLFORK_PROGRESS_INTERVAL)?.parse().ok()
}

/// Print a timing line on stderr when `SQLFORK_TRACE` is set.
pub(crate) fn trace(msg: &str) {
    if std::env::var_os(SQLFORK_TRACE).is_some() {
        eprintln!("sqlfork trace: {msg}");
    }
}

/// Testing aids, compiled only with the `test-knobs` feature (the test
/// suite turns it on; a release build never reads these variables).
#[cfg(feature = "test-knobs")]
mod knobs {
    use super::*;
    use std::time::Duration;

    fn number(name: &str) -> Option<u64> {
        std::env::var(name).ok()?.parse().ok()
    }

    /// `SQLFORK_TEST_CHUNK_PAGES`, when set to a number.
    pub(crate) fn test_chunk_pages() -> Option<u64> {
        number(SQLFORK_TEST_CHUNK_PAGES)
    }

    /// True when `SQLFORK_TEST_RESET_COPY` is set (to anything but empty).
    pub(crate) fn test_reset_copy() -> bool {
        std::env::var_os(SQLFORK_TEST_RESET_COPY).is_some_and(|v| !v.is_empty())
    }

    /// Sleep for `SQLFORK_TEST_DELAY_MS`, when set.
    pub(crate) fn test_delay() {
        if let Some(ms) = number(SQLFORK_TEST_DELAY_MS) {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }

    /// With `SQLFORK_TEST_PAUSE=POINT:MS[,POINT:MS…]`, stop for MS
    /// milliseconds at each named point (saying so on stderr first), so that
    /// a test can cut the power or kill the process at exactly that moment.
    /// Points: `fork-registered` (the entry is written, nothing built),
    /// `pages-synced` (every page is durable, the entry still provisioning),
    /// `healthy` (the entry flipped, success not printed yet), `swap-renamed`
    /// (a branch reset's new file is renamed over the branch, the registry
    /// not yet saved), `delete-unregistered` (the entry is gone, the files
    /// not yet), `registry-synced` (a registry change is made, not yet
    /// committed), `registry-committed` (committed, the registry lock still
    /// held), `in-place-written` (an `--in-place` reset has written the new
    /// state into the database, the registry not yet saved).
    pub(crate) fn test_pause(point: &str) {
        let Ok(spec) = std::env::var(SQLFORK_TEST_PAUSE) else { return };
        for item in spec.split(',') {
            if let Some((p, ms)) = item.split_once(':') {
                if p == point {
                    if let Ok(ms) = ms.parse() {
                        eprintln!("sqlfork test: paused at {point}");
                        std::thread::sleep(Duration::from_millis(ms));
                    }
                }
            }
        }
    }
}

/// Without the `test-knobs` feature the testing aids do nothing and read
/// nothing.
#[cfg(not(feature = "test-knobs"))]
mod knobs {
    pub(crate) fn test_chunk_pages() -> Option<u64> {
        None
    }
    pub(crate) fn test_reset_copy() -> bool {
        false
    }
    pub(crate) fn test_delay() {}
    pub(crate) fn test_pause(_point: &str) {}
}

pub(crate) use knobs::{test_chunk_pages, test_delay, test_pause, test_reset_copy};
