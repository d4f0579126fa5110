//! Date and timestamp parsing shared by all readers.
//!
//! Accepted: `YYYY-MM-DD`, `YYYY/MM/DD`, RFC 3339 / ISO 8601 timestamps with `Z` or an offset
//! (`2024-01-02T03:04:05+00:00`, fractional seconds allowed), and `YYYY-MM-DD HH:MM:SS[.fff]` taken as
//! UTC. Ambiguous forms such as `01/02/2024` are refused rather than guessed.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

const HINT: &str = "expected YYYY-MM-DD or an RFC 3339 timestamp such as 2024-01-31T09:00:00Z";

/// Parse a timestamp. A bare date means midnight UTC.
pub fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    let t = s.trim();
    // "Never expires" sentinels (gcloud's 9999-12-31T23:59:59Z) lie past jiff's range: clamp.
    if t.starts_with("9999-") && parse_date(&t[..10.min(t.len())]).is_ok() {
        return Ok(Timestamp::MAX);
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(dt) = t.replacen(' ', "T", 1).parse::<DateTime>() {
        if t.len() > 10 {
            return dt
                .to_zoned(TimeZone::UTC)
                .map(|z| z.timestamp())
                .map_err(|e| e.to_string());
        }
    }
    let d = parse_date(t)?;
    d.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| e.to_string())
}

/// Parse a calendar date. A timestamp is accepted and reduced to its UTC date.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let t = s.trim();
    if t.len() == 10 {
        let iso = t.replace('/', "-");
        if iso.as_bytes().get(4) == Some(&b'-') {
            return iso
                .parse::<Date>()
                .map_err(|_| format!("invalid date {} ({HINT})", crate::error::quote(t)));
        }
    }
    if t.len() > 10 {
        if let Ok(ts) = t.parse::<Timestamp>() {
            return Ok(ts.to_zoned(TimeZone::UTC).date());
        }
        if let Ok(dt) = t.replacen(' ', "T", 1).parse::<DateTime>() {
            return Ok(dt.date());
        }
    }
    Err(format!("invalid date {} ({HINT})", crate::error::quote(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_documented_forms() {
        assert_eq!(parse_date("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert_eq!(parse_date("2024/02/29").unwrap().to_string(), "2024-02-29");
        assert_eq!(
            parse_date("2024-03-01T01:00:00+09:00").unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(
            parse_timestamp("2015-03-21T17:57:00+00:00")
                .unwrap()
                .to_string(),
            "2015-03-21T17:57:00Z"
        );
        assert_eq!(
            parse_timestamp("2024-01-02 03:04:05").unwrap().to_string(),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            parse_timestamp("2024-01-02").unwrap().to_string(),
            "2024-01-02T00:00:00Z"
        );
        assert_eq!(
            parse_timestamp("2024-01-02T03:04:05.123456Z")
                .unwrap()
                .as_millisecond(),
            1704164645123
        );
    }

    #[test]
    fn refuses_bad_and_ambiguous_dates() {
        for bad in [
            "2024-02-30",
            "01/02/2024",
            "yesterday",
            "",
            "2024-13-01",
            "20240101",
        ] {
            assert!(parse_date(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_timestamp("2024-01-02T25:00:00Z").is_err());
    }
}
