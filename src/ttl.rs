//! Time: the clock (with the `SQLFORK_NOW` test override), RFC 3339
//! timestamps, TTL parsing and the short "3d" durations shown to people.

use crate::error::{DurationProblem, Error, TtlProblem};
use std::time::{Duration, SystemTime};

pub(crate) const MIN_TTL: Duration = Duration::from_secs(3600);
pub(crate) const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The current time. `SQLFORK_NOW` (RFC 3339) overrides it: a testing aid
/// so that expiry can be tested without waiting.
pub(crate) fn now() -> SystemTime {
    if let Some(text) = crate::env::now() {
        if let Ok(t) = humantime::parse_rfc3339_weak(text.trim()) {
            return t;
        }
    }
    SystemTime::now()
}

/// Check `SQLFORK_NOW` once at start-up so a typo is an error, not a
/// silently ignored override.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn check_clock_override() -> Result<(), Error> {
    if let Some(text) = crate::env::now() {
        humantime::parse_rfc3339_weak(text.trim()).map_err(|e| {
            Error::invalid(format!(
                "SQLFORK_NOW=`{text}` is not an RFC 3339 time ({e}); write it like 2026-01-31T12:00:00Z"
            ))
        })?;
    }
    Ok(())
}

/// RFC 3339 UTC, to the second: `2026-11-21T15:13:34Z`.
pub(crate) fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text).ok()
}

/// Parse a TTL such as `7d`, `12h` or `1h 30m`; 1 hour to 30 days.
/// A TTL given as a duration (the library's): in range, or why not.
pub(crate) fn check_ttl(d: Duration) -> Result<Duration, Error> {
    if d < MIN_TTL || d > MAX_TTL {
        let text = humantime::format_duration(d).to_string();
        return Err(Error::BadTtl { text, duration: Some(d), why: TtlProblem::OutOfRange });
    }
    Ok(d)
}

pub(crate) fn parse_ttl(text: &str) -> Result<Duration, Error> {
    let bad = |why| Error::BadTtl { text: text.to_string(), duration: None, why };
    let d = humantime::parse_duration(text.trim()).map_err(|_| {
        // A bare number: humantime suggests `7sec or 7ms`, which are out of
        // range for a TTL; suggest the unit the user most likely meant.
        if let Ok(n) = text.trim().parse::<u64>() {
            let meant = if (1..=30).contains(&n) { format!("{n}d") } else { format!("{n}h") };
            return bad(TtlProblem::NoUnit { meant });
        }
        bad(TtlProblem::NotADuration)
    })?;
    if d < MIN_TTL || d > MAX_TTL {
        return Err(bad(TtlProblem::OutOfRange));
    }
    Ok(d)
}

/// A duration typed by a user (`--timeout`, `SQLFORK_LOCK_TIMEOUT`), with
/// sqlfork's own sentence: `what` names it, `like` gives examples. A bare
/// number gets the unit it most likely lacks (seconds), not the parsing
/// library's wording.
pub(crate) fn parse_duration_arg(what: &str, text: &str, like: &str) -> Result<Duration, Error> {
    let t = text.trim();
    humantime::parse_duration(t).map_err(|_| Error::BadDuration {
        option: what.to_string(),
        text: text.to_string(),
        why: match t.parse::<u64>() {
            Ok(number) => DurationProblem::NoUnit { number },
            Err(_) => DurationProblem::NotADuration { like: like.to_string() },
        },
    })
}

/// A short human duration, rounded to the nearest unit: `45s`, `12m`,
/// `5h`, `3d` (`--ttl 2d` a moment later is still `2d`, not `1d`).
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn short_duration(d: Duration) -> String {
    let ms = d.as_millis();
    let round = |unit_ms: u128| (ms + unit_ms / 2) / unit_ms;
    let s = round(1000);
    if s < 60 {
        return format!("{s}s");
    }
    let m = round(60_000);
    if m < 60 {
        return format!("{m}m");
    }
    let h = round(3_600_000);
    if h < 24 {
        return format!("{h}h");
    }
    format!("{}d", round(86_400_000))
}

/// "3d ago" for a past timestamp (or "just now").
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn ago(then: SystemTime, now: SystemTime) -> String {
    match now.duration_since(then) {
        Ok(d) if d.as_secs() >= 1 => format!("{} ago", short_duration(d)),
        _ => "just now".to_string(),
    }
}

/// Time left until `expires`, or None when it has passed.
pub(crate) fn remaining(expires: SystemTime, now: SystemTime) -> Option<Duration> {
    expires.duration_since(now).ok().filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_range_is_one_hour_to_thirty_days() {
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(7 * 86400));
        assert_eq!(parse_ttl("1h").unwrap(), MIN_TTL);
        assert_eq!(parse_ttl("30d").unwrap(), MAX_TTL);
        assert!(parse_ttl("90m").is_ok());
        assert!(parse_ttl("59m").unwrap_err().to_string().contains("between 1 hour and 30 days"));
        assert!(parse_ttl("31d").unwrap_err().to_string().contains("between 1 hour and 30 days"));
        assert!(parse_ttl("soon").unwrap_err().to_string().contains("not a duration"));
    }

    #[test]
    fn short_durations() {
        assert_eq!(short_duration(Duration::from_secs(5)), "5s");
        assert_eq!(short_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(short_duration(Duration::from_secs(6 * 86400 + 5)), "6d");
        // Rounded to the nearest unit, not down.
        assert_eq!(short_duration(Duration::from_secs(2 * 86400 - 1)), "2d");
        assert_eq!(short_duration(Duration::from_secs(3 * 3600 - 2)), "3h");
        assert_eq!(short_duration(Duration::from_secs(7 * 86400 - 3)), "7d");
        assert_eq!(short_duration(Duration::from_secs(59 * 60 + 50)), "1h");
        assert_eq!(short_duration(Duration::from_secs(86400 - 60)), "1d");
        let t = parse_time("2026-01-10T00:00:00Z").unwrap();
        assert_eq!(ago(t, t + Duration::from_secs(3 * 86400)), "3d ago");
        assert_eq!(format_time(t), "2026-01-10T00:00:00Z");
    }
}
