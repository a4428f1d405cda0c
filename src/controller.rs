//! The machine bgrun runs on, as deploy locks and the audit trail name it: the user, the host
//! name, the process and the time in UTC.

use std::time::{SystemTime, UNIX_EPOCH};

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
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    crate::ctmpl::gotime::format(
        "2006-01-02T15:04:05.000Z07:00",
        i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        now.subsec_nanos(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_stamps_have_milliseconds() {
        let now = super::utc_now();
        assert_eq!(now.len(), "2026-12-01T22:58:01.123Z".len(), "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }
}
