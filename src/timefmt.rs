//! RFC 3339 timestamps as the on-disk format writes them.
//!
//! Timestamps are kept as the strings the writer produced, so reading and
//! rewriting never changes their spelling; these helpers parse and produce them.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// A point in time with the writer's UTC offset.
pub type Timestamp = DateTime<FixedOffset>;

/// The zero time the reference writes for "never".
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Parses an RFC 3339 timestamp; the zero time and bad strings give `None`.
pub fn parse(s: &str) -> Option<Timestamp> {
    let t = DateTime::parse_from_rfc3339(s).ok()?;
    if t.timestamp() == ZERO_TIMESTAMP_SECS && t.timestamp_subsec_nanos() == 0 {
        None
    } else {
        Some(t)
    }
}

const ZERO_TIMESTAMP_SECS: i64 = -62_135_596_800;

/// Formats a time as RFC 3339 with nanoseconds, trailing zeros dropped, `Z` for UTC.
pub fn format(t: &Timestamp) -> String {
    let mut s = t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    // Drop trailing zeros of the fraction, and the dot if nothing is left.
    if let Some(dot) = s.find('.') {
        let end = s[dot..]
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .map(|i| dot + i)
            .unwrap_or(s.len());
        let frac = s[dot + 1..end].trim_end_matches('0').to_string();
        let rest = s[end..].to_string();
        s.truncate(dot);
        if !frac.is_empty() {
            s.push('.');
            s.push_str(&frac);
        }
        s.push_str(&rest);
    }
    s
}

/// The current time, formatted (UTC, `Z`), as [`format`] would write it.
///
/// On the append path: the date-and-seconds prefix is cached per thread and
/// only the fraction is formatted for each call.
pub fn now_string() -> String {
    use std::cell::RefCell;
    thread_local! {
        static PREFIX: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let now = Utc::now();
    let (secs, nanos) = (now.timestamp(), now.timestamp_subsec_nanos());
    if nanos >= 1_000_000_000 {
        // A leap second: let chrono spell it.
        return format(&now.fixed_offset());
    }
    PREFIX.with(|cell| {
        let mut cache = cell.borrow_mut();
        if cache.0 != secs {
            *cache = (secs, now.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
        let mut out = String::with_capacity(31);
        out.push_str(&cache.1);
        if nanos > 0 {
            let digits = format!("{nanos:09}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
        out.push('Z');
        out
    })
}

/// The current time in UTC.
pub fn now() -> Timestamp {
    Utc::now().fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_string_matches_format() {
        for _ in 0..1000 {
            let s = now_string();
            let t = parse(&s).unwrap();
            assert_eq!(format(&t), s);
            assert!(s.ends_with('Z'));
        }
    }

    #[test]
    fn round_trips_reference_spellings() {
        for s in [
            "2026-02-01T12:20:00Z",
            "2026-02-01T12:20:01.5Z",
            "2026-02-01T17:50:02.123456789+05:30",
            "2026-02-01T09:20:03.12-03:00",
        ] {
            assert_eq!(format(&parse(s).unwrap()), s);
        }
        assert!(parse(ZERO_TIME).is_none());
        assert!(parse("yesterday").is_none());
    }
}
