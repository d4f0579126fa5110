//! Simulated time: seconds since the Unix epoch, formatted the way each log format wants.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// UTC midnight of a date, in epoch seconds.
pub fn midnight(d: Date) -> i64 {
    d.to_zoned(TimeZone::UTC)
        .expect("date in range")
        .timestamp()
        .as_second()
}

/// `2025-04-14T01:02:03Z`.
pub fn rfc3339(t: i64) -> String {
    Timestamp::from_second(t).expect("in range").to_string()
}

/// `2025-04-14T01:02:03+00:00` (IAM credential report style).
pub fn iam_time(t: i64) -> String {
    let s = rfc3339(t);
    format!("{}+00:00", s.trim_end_matches('Z'))
}
