//! Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`) for consul-template's `timestamp`,
//! which formats the current time in UTC.

use std::fmt::Write as _;

/// Go's `time.RFC3339`, consul-template's default timestamp layout.
pub(crate) const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A UTC time broken into its calendar parts.
struct Civil {
    year: i64,
    month: usize,
    day: i64,
    yday: i64,
    weekday: usize,
    hour: i64,
    minute: i64,
    second: i64,
    nanos: u32,
}

/// Days since 1970-01-01 to a (year, month 1-12, day) date, proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as usize, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn civil(secs: i64, nanos: u32) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    const BEFORE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = BEFORE[month - 1] + day + i64::from(month > 2 && is_leap(year));
    Civil {
        year,
        month,
        day,
        yday,
        weekday: (days + 4).rem_euclid(7) as usize,
        hour: rem / 3600,
        minute: rem / 60 % 60,
        second: rem % 60,
        nanos,
    }
}

/// Formats a UTC instant with a Go layout.
pub(crate) fn format(layout: &str, secs: i64, nanos: u32) -> String {
    let t = civil(secs, nanos);
    let b = layout.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let at = |i: usize, s: &str| layout.get(i..).is_some_and(|rest| rest.starts_with(s));
    let lower_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    while i < b.len() {
        let hour12 = if t.hour % 12 == 0 { 12 } else { t.hour % 12 };
        let (text, len): (String, usize) = if at(i, "January") {
            (MONTHS[t.month - 1].into(), 7)
        } else if at(i, "Jan") && !lower_at(i + 3) {
            (MONTHS[t.month - 1][..3].into(), 3)
        } else if at(i, "Monday") {
            (DAYS[t.weekday].into(), 6)
        } else if at(i, "Mon") && !lower_at(i + 3) {
            (DAYS[t.weekday][..3].into(), 3)
        } else if at(i, "MST") {
            ("UTC".into(), 3)
        } else if at(i, "2006") {
            (format!("{:04}", t.year), 4)
        } else if at(i, "002") {
            (format!("{:03}", t.yday), 3)
        } else if at(i, "01") {
            (format!("{:02}", t.month), 2)
        } else if at(i, "02") {
            (format!("{:02}", t.day), 2)
        } else if at(i, "03") {
            (format!("{hour12:02}"), 2)
        } else if at(i, "04") {
            (format!("{:02}", t.minute), 2)
        } else if at(i, "05") {
            (format!("{:02}", t.second), 2)
        } else if at(i, "06") {
            (format!("{:02}", t.year.rem_euclid(100)), 2)
        } else if at(i, "15") {
            (format!("{:02}", t.hour), 2)
        } else if at(i, "1") {
            (t.month.to_string(), 1)
        } else if at(i, "2") {
            (t.day.to_string(), 1)
        } else if at(i, "_2006") {
            (format!("_{:04}", t.year), 5)
        } else if at(i, "__2") {
            (format!("{:>3}", t.yday), 3)
        } else if at(i, "_2") {
            (format!("{:>2}", t.day), 2)
        } else if at(i, "3") {
            (hour12.to_string(), 1)
        } else if at(i, "4") {
            (t.minute.to_string(), 1)
        } else if at(i, "5") {
            (t.second.to_string(), 1)
        } else if at(i, "PM") {
            ((if t.hour >= 12 { "PM" } else { "AM" }).into(), 2)
        } else if at(i, "pm") {
            ((if t.hour >= 12 { "pm" } else { "am" }).into(), 2)
        } else if let Some((zone, len)) = zone(layout, i) {
            (zone.into(), len)
        } else if let Some((frac, len)) = fraction(b, i, t.nanos) {
            (frac, len)
        } else {
            let c = layout[i..].chars().next().unwrap_or(' ');
            (c.to_string(), c.len_utf8())
        };
        out.push_str(&text);
        i += len;
    }
    out
}

/// Zone layouts; the time is UTC, so `Z…` forms print `Z` and `-07…` forms print zeros.
fn zone(layout: &str, i: usize) -> Option<(&'static str, usize)> {
    let rest = layout.get(i..)?;
    const FORMS: [(&str, &str); 10] = [
        ("Z07:00:00", "Z"),
        ("-07:00:00", "+00:00:00"),
        ("Z070000", "Z"),
        ("-070000", "+000000"),
        ("Z07:00", "Z"),
        ("-07:00", "+00:00"),
        ("Z0700", "Z"),
        ("-0700", "+0000"),
        ("Z07", "Z"),
        ("-07", "+00"),
    ];
    FORMS
        .iter()
        .find(|(form, _)| rest.starts_with(form))
        .map(|(form, text)| (*text, form.len()))
}

/// `.000` (fixed) or `.999` (trailing zeros dropped) fractional seconds.
fn fraction(b: &[u8], i: usize, nanos: u32) -> Option<(String, usize)> {
    let sep = *b.get(i)?;
    let digit = *b.get(i + 1)?;
    if !matches!(sep, b'.' | b',') || !matches!(digit, b'0' | b'9') {
        return None;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&digit) {
        j += 1;
    }
    if b.get(j).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let n = (j - i - 1).min(9);
    let mut digits = String::new();
    let _ = write!(digits, "{nanos:09}");
    digits.truncate(n);
    if digit == b'9' {
        let trimmed = digits.trim_end_matches('0');
        if trimmed.is_empty() {
            return Some((String::new(), j - i));
        }
        return Some((format!("{}{trimmed}", sep as char), j - i));
    }
    Some((format!("{}{digits}", sep as char), j - i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_like_go() {
        // 2016-02-29 13:04:05.25 UTC, a Monday.
        let secs = 1_456_751_045;
        assert_eq!(format(RFC3339, secs, 250_000_000), "2016-02-29T13:04:05Z");
        assert_eq!(
            format("Mon Jan _2 15:04:05.000 MST 2006", secs, 250_000_000),
            "Mon Feb 29 13:04:05.250 UTC 2016"
        );
        assert_eq!(
            format("3:04PM .999 -0700 002 06", secs, 250_000_000),
            "1:04PM .25 +0000 060 16"
        );
        assert_eq!(format("Monday, January 2", 0, 0), "Thursday, January 1");
    }
}
