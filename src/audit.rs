//! The audit trail of deploys: one JSON record per deploy in Consul's KV under
//! `<service>/deploys/<UTC timestamp>` (user, controller, started, finished, from and to color
//! and version, outcome, the failing step's message). The `audit` module writes records;
//! `bgrun history` reads them back as a table.

use serde_json::Value as Json;

use crate::consul::{Consul, ConsulError};

/// The outcomes a deploy record may have.
pub const OUTCOMES: &[&str] = &["deployed", "rejected", "reverted", "rolled-back", "refused", "failed"];

/// The KV folder of a service's records.
pub fn prefix(service: &str) -> String {
    format!("{}/deploys/", service.trim_matches('/'))
}

/// Writes a record under its start time; returns its key.
pub async fn write(consul: &Consul, service: &str, record: &Json) -> Result<String, ConsulError> {
    let stamp = record
        .get("started")
        .and_then(Json::as_str)
        .map(str::to_string)
        .unwrap_or_else(crate::controller::utc_now);
    let mut key = format!("{}{stamp}", prefix(service));
    // Two records of one instant (a refused deploy beside the one running) keep both.
    let mut n = 1;
    while !consul.kv_put(&key, &record.to_string(), Some(0)).await? {
        n += 1;
        key = format!("{}{stamp}-{n}", prefix(service));
    }
    Ok(key)
}

/// A service's records, oldest first.
pub async fn read(consul: &Consul, service: &str) -> Result<Vec<(String, Json)>, ConsulError> {
    let mut records: Vec<(String, Json)> = consul
        .kv_list(&prefix(service))
        .await?
        .into_iter()
        .map(|(key, text)| {
            let record = serde_json::from_str(&text).unwrap_or(Json::String(text));
            (key, record)
        })
        .collect();
    records.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(records)
}

/// Records as a table for people, one line per deploy.
pub fn table(records: &[Json]) -> String {
    let text = |record: &Json, path: &[&str]| -> String {
        let mut value = record;
        for part in path {
            value = &value[*part];
        }
        match value {
            Json::Null => String::new(),
            other => crate::yaml::scalar_text(other),
        }
    };
    let release = |record: &Json, side: &str| {
        let color = text(record, &[side, "color"]);
        let version = text(record, &[side, "version"]);
        match (color.is_empty(), version.is_empty()) {
            (true, true) => "-".to_string(),
            (false, true) => color,
            (true, false) => version,
            (false, false) => format!("{color} {version}"),
        }
    };
    let mut rows: Vec<[String; 7]> = vec![[
        "STARTED".into(),
        "SECONDS".into(),
        "OUTCOME".into(),
        "FROM".into(),
        "TO".into(),
        "BY".into(),
        "MESSAGE".into(),
    ]];
    for record in records {
        let seconds = record["seconds"]
            .as_f64()
            .map(|s| format!("{s:.1}"))
            .unwrap_or_default();
        let by = match (text(record, &["user"]), text(record, &["controller"])) {
            (user, host) if host.is_empty() => user,
            (user, host) => format!("{user}@{host}"),
        };
        rows.push([
            text(record, &["started"]),
            seconds,
            text(record, &["outcome"]),
            release(record, "from"),
            release(record, "to"),
            by,
            text(record, &["message"]).replace('\n', " "),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i < 6 {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_table_of_deploys() {
        let records = [
            json!({"started": "2026-12-01T10:00:00.000Z", "seconds": 4.21, "outcome": "deployed", "user": "al", "controller": "ci",
                   "from": {"color": null, "version": null}, "to": {"color": "blue", "version": "1"}, "message": ""}),
            json!({"started": "2026-12-01T10:05:00.000Z", "seconds": 2.0, "outcome": "rejected", "user": "al", "controller": "ci",
                   "from": {"color": "blue", "version": "1"}, "to": {"color": "green", "version": "broken"},
                   "message": "health check failed"}),
        ];
        insta::assert_snapshot!(super::table(&records), @r"
        STARTED                   SECONDS  OUTCOME   FROM    TO            BY     MESSAGE
        2026-12-01T10:00:00.000Z  4.2      deployed  -       blue 1        al@ci
        2026-12-01T10:05:00.000Z  2.0      rejected  blue 1  green broken  al@ci  health check failed
        ");
    }
}
