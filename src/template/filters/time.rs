//! `strftime`: a time stamp formatted as Python's `time.strftime` does; `to_datetime`: a
//! Python `datetime` read with `strptime`, with its fields, `strftime` and `isoformat`, printed
//! as Python prints it (datetimes do not subtract here).

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveDateTime, Timelike, Utc};
use minijinja::value::{Kwargs, Object, ObjectRepr, Rest, Value};
use minijinja::{Error, State};

use super::args::*;

/// `format | strftime(second=None, utc=False)`: the time given in seconds since the epoch (now
/// if none), local or UTC, in the format's `%` codes.
pub(super) fn strftime(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("strftime", &args, &kwargs, &["second", "utc"])?;
    let second = params.get(0, "second")?.filter(|s| !s.is_none());
    let utc = params.flag(1, "utc")?;
    params.finish()?;
    let format = text(value)?;
    let when: DateTime<Utc> = match second {
        None => Utc::now(),
        Some(s) => {
            let seconds: f64 = match s.as_str() {
                Some(t) => t.trim().parse().ok(),
                None => f64::try_from(s.clone()).ok(),
            }
            .ok_or_else(|| fail(format!("Invalid value for epoch value ({s})")))?;
            DateTime::from_timestamp(seconds.trunc() as i64, 0)
                .ok_or_else(|| fail(format!("Invalid value for epoch value ({s})")))?
        }
    };
    let mut out = String::new();
    let written = if utc {
        std::fmt::write(&mut out, format_args!("{}", when.format(&format)))
    } else {
        std::fmt::write(&mut out, format_args!("{}", when.with_timezone(&Local).format(&format)))
    };
    written.map_err(|_| fail(format!("strftime: cannot use the format `{format}`")))?;
    Ok(out)
}

/// A Python `datetime` without a time zone.
#[derive(Debug)]
struct PyDateTime(NaiveDateTime);

impl Object for PyDateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let t = &self.0;
        Some(Value::from(match key.as_str()? {
            "year" => t.year(),
            "month" => t.month() as i32,
            "day" => t.day() as i32,
            "hour" => t.hour() as i32,
            "minute" => t.minute() as i32,
            "second" => t.second() as i32,
            "microsecond" => (t.nanosecond() / 1000) as i32,
            _ => return None,
        }))
    }

    fn call_method(self: &Arc<Self>, _: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match (method, args) {
            ("strftime", [format]) => Ok(Value::from(self.0.format(&text(format)?).to_string())),
            ("isoformat", []) => Ok(Value::from(python_text(&self.0, 'T'))),
            _ => Err(fail(format!(
                "datetime has no method `{method}` here (bgrun has strftime and isoformat)"
            ))),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&python_text(&self.0, ' '))
    }
}

/// `str(datetime)`: `YYYY-MM-DD HH:MM:SS`, with `.ffffff` when there are microseconds.
fn python_text(t: &NaiveDateTime, separator: char) -> String {
    let micros = t.nanosecond() / 1000;
    let base = t.format(&format!("%Y-%m-%d{separator}%H:%M:%S")).to_string();
    if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    }
}

/// `to_datetime(format='%Y-%m-%d %H:%M:%S')`: `datetime.strptime(value, format)`.
pub(super) fn to_datetime(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("to_datetime", &args, &kwargs, &["format"])?;
    let format = params
        .string(0, "format")?
        .unwrap_or_else(|| "%Y-%m-%d %H:%M:%S".into());
    params.finish()?;
    let input = text(value)?;
    let parsed = NaiveDateTime::parse_from_str(&input, &format)
        .or_else(|_| NaiveDate::parse_from_str(&input, &format).map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default()))
        .map_err(|_| fail(format!("time data '{input}' does not match format '{format}'")))?;
    Ok(Value::from_object(PyDateTime(parsed)))
}
