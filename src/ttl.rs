//! Time: the clock (with the `SQLFORK_NOW` test override), RFC 3339
//! timestamps, TTL parsing and the short "3d" durations shown to people.

use crate::error::Error;
use std::time::{Duration, SystemTime};

pub const MIN_TTL: Duration = Duration::from_secs(3600);
pub const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The current time. `SQLFORK_NOW` (RFC 3339) overrides it: a testing aid
/// so that expiry can be tested without waiting.
pub fn now() -> SystemTime {
    if let Ok(text) = std::env::var("SQLFORK_NOW") {
        if let Ok(t) = humantime::parse_rfc3339_weak(text.trim()) {
            return t;
        }
    }
    SystemTime::now()
}

/// Check `SQLFORK_NOW` once at start-up so a typo is an error, not a
/// silently ignored override.
pub fn check_clock_override() -> Result<(), Error> {
    if let Ok(text) = std::env::var("SQLFORK_NOW") {
        humantime::parse_rfc3339_weak(text.trim()).map_err(|e| {
            Error::invalid(format!(
                "SQLFORK_NOW=`{text}` is not an RFC 3339 time ({e}); write it like 2026-01-31T12:00:00Z"
            ))
        })?;
    }
    Ok(())
}

/// RFC 3339 UTC, to the second: `2026-11-21T15:13:34Z`.
pub fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text).ok()
}

/// Parse a TTL such as `7d`, `12h` or `1h 30m`; 1 hour to 30 days.
pub fn parse_ttl(text: &str) -> Result<Duration, Error> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        Error::invalid(format!(
            "TTL `{text}` is not a duration ({e}); write it like 12h, 7d or 30d (1 hour to 30 days)"
        ))
    })?;
    if d < MIN_TTL || d > MAX_TTL {
        return Err(Error::invalid(format!("TTL `{text}` is out of range: it must be between 1 hour and 30 days")));
    }
    Ok(d)
}

/// A short human duration: `45s`, `12m`, `5h`, `3d`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// "3d ago" for a past timestamp (or "just now").
pub fn ago(then: SystemTime, now: SystemTime) -> String {
    match now.duration_since(then) {
        Ok(d) if d.as_secs() >= 1 => format!("{} ago", short_duration(d)),
        _ => "just now".to_string(),
    }
}

/// Time left until `expires`, or None when it has passed.
pub fn remaining(expires: SystemTime, now: SystemTime) -> Option<Duration> {
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
        let t = parse_time("2026-01-10T00:00:00Z").unwrap();
        assert_eq!(ago(t, t + Duration::from_secs(3 * 86400)), "3d ago");
        assert_eq!(format_time(t), "2026-01-10T00:00:00Z");
    }
}
