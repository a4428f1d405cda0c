//! The machine bgrun runs on, as deploy locks and the audit trail name it: the user, the host
//! name, the process and the time in UTC.

use std::time::SystemTime;

/// The user running bgrun (`$USER`, else `$LOGNAME`, else the name of its uid).
pub fn user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .or_else(|| {
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|status| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix("Uid:"))
                        .and_then(|ids| ids.split_whitespace().next().map(str::to_string))
                })
                .map(|uid| {
                    std::fs::read_to_string("/etc/passwd")
                        .ok()
                        .and_then(|passwd| {
                            passwd.lines().find_map(|line| {
                                let mut fields = line.split(':');
                                let name = fields.next()?;
                                (fields.nth(1)? == uid).then(|| name.to_string())
                            })
                        })
                        .unwrap_or(format!("uid {uid}"))
                })
        })
        .unwrap_or_else(|| "unknown".into())
}

/// This machine's host name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The time now in UTC, RFC 3339 with milliseconds: `2026-12-01T22:58:01.123Z`. Such stamps
/// sort as they happened.
pub fn utc_now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Seconds from one of [`utc_now`]'s stamps to another, when both parse.
pub fn seconds_between(started: &str, finished: &str) -> Option<f64> {
    let started = humantime::parse_rfc3339(started).ok()?;
    let finished = humantime::parse_rfc3339(finished).ok()?;
    let seconds = finished.duration_since(started).ok()?.as_secs_f64();
    Some((seconds * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_between_stamps() {
        assert_eq!(
            super::seconds_between("2026-12-31T23:59:59.500Z", "2027-01-01T00:00:01.750Z"),
            Some(2.25)
        );
        assert_eq!(super::seconds_between("yesterday", "2027-01-01T00:00:01.750Z"), None);
    }

    #[test]
    fn utc_stamps_have_milliseconds() {
        let now = super::utc_now();
        assert_eq!(now.len(), "2026-12-01T22:58:01.123Z".len(), "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }
}
