//! `strftime`: a time stamp formatted as Python's `time.strftime` does.

use chrono::{DateTime, Local, Utc};
use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value};

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
