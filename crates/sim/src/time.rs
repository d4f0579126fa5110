//! Simulated time: seconds since the Unix epoch, formatted the way each log format wants.

use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// UTC midnight of a date, in epoch seconds.
pub fn midnight(d: Date) -> i64 {
    d.to_zoned(TimeZone::UTC)
        .expect("date in range")
        .timestamp()
        .as_second()
}

/// `2025-04-14T01:02:03Z`. Hand-rolled (civil-from-days, Hinnant) because it runs for every event.
pub fn rfc3339(t: i64) -> String {
    let (days, secs) = (t.div_euclid(DAY), t.rem_euclid(DAY));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `2025-04-14T01:02:03+00:00` (IAM credential report style).
pub fn iam_time(t: i64) -> String {
    let s = rfc3339(t);
    format!("{}+00:00", s.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_matches_jiff() {
        for t in [
            0i64,
            951_782_400,
            1_709_164_800,
            1_740_960_000 + 86_399,
            4_102_444_800,
            1_234_567_890,
        ] {
            assert_eq!(
                super::rfc3339(t),
                jiff::Timestamp::from_second(t).unwrap().to_string(),
                "{t}"
            );
        }
    }
}
