//! `log`, `pow`, `root`, `human_readable` and `human_to_bytes`, as Ansible's mathstuff
//! computes and formats them.

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};

use super::args::*;

fn number(filter: &str, value: &Value) -> Result<f64, Error> {
    defined(value)?;
    match value.kind() {
        ValueKind::Number | ValueKind::Bool => f64::try_from(value.clone()).map_err(|e| fail(format!("{filter}: {e}"))),
        _ => Err(fail(format!(
            "{filter}() can only be used on numbers: must be real number, not {}",
            type_name(value)
        ))),
    }
}

fn domain(filter: &str, result: f64) -> Result<Value, Error> {
    if result.is_nan() {
        return Err(fail(format!("{filter}(): math domain error")));
    }
    Ok(Value::from(result))
}

/// `log(base=e)`: `math.log10` for base 10, `math.log(x, base)` otherwise.
pub(super) fn log(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("log", &args, &kwargs, &["base"])?;
    let base = params.get(0, "base")?.map(|b| number("log", &b)).transpose()?;
    params.finish()?;
    let x = number("log", value)?;
    if x <= 0.0 || base.is_some_and(|b| b <= 0.0) {
        return Err(fail("log(): math domain error"));
    }
    domain(
        "log",
        match base {
            Some(10.0) => x.log10(),
            Some(b) => x.ln() / b.ln(),
            None => x.ln(),
        },
    )
}

/// `pow(y)`: `math.pow`, always a float.
pub(super) fn pow(value: &Value, y: &Value) -> Result<Value, Error> {
    domain("pow", number("pow", value)?.powf(number("pow", y)?))
}

/// `root(base=2)`: `math.sqrt` for 2, `x ** (1 / base)` otherwise.
pub(super) fn root(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("root", &args, &kwargs, &["base"])?;
    let base = params.get(0, "base")?.map(|b| number("root", &b)).transpose()?;
    params.finish()?;
    let x = number("root", value)?;
    domain(
        "root",
        match base {
            Some(b) if b != 2.0 => x.powf(1.0 / b),
            _ => x.sqrt(),
        },
    )
}

/// The units of `human_readable` and `human_to_bytes`, largest first.
const UNITS: [(char, u128); 9] = [
    ('Y', 1 << 80),
    ('Z', 1 << 70),
    ('E', 1 << 60),
    ('P', 1 << 50),
    ('T', 1 << 40),
    ('G', 1 << 30),
    ('M', 1 << 20),
    ('K', 1 << 10),
    ('B', 1),
];

/// `human_readable(isbits=False, unit=None)`: `"%.2f %s"` of the size in the largest unit it
/// reaches, or in the unit asked for.
pub(super) fn human_readable(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let params = Params::new("human_readable", &args, &kwargs, &["isbits", "unit"])?;
    let isbits = params.flag(0, "isbits")?;
    let unit = params.string(1, "unit")?;
    params.finish()?;
    let size = number("human_readable", value)?;
    let base = if isbits { "bits" } else { "Bytes" };
    let (mut suffix, mut limit) = ('B', 1u128);
    for (s, l) in UNITS {
        (suffix, limit) = (s, l);
        let asked = unit.as_deref().map(|u| u.to_uppercase().starts_with(s));
        if asked.unwrap_or(size >= l as f64) {
            break;
        }
    }
    let suffix = if limit == 1 {
        base.to_string()
    } else {
        format!("{suffix}{}", &base[..1])
    };
    Ok(format!("{:.2} {suffix}", size / limit as f64))
}

/// `human_to_bytes(default_unit=None, isbits=False)`: `"10M"` → 10485760.
pub(super) fn human_to_bytes(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("human_to_bytes", &args, &kwargs, &["default_unit", "isbits"])?;
    let default_unit = params.string(0, "default_unit")?;
    let isbits = params.flag(1, "isbits")?;
    params.finish()?;
    let input = crate::template::convert::python_text(value).map_err(fail)?;
    let cant = || fail(format!("human_to_bytes() can't interpret following string: {input}"));
    let rest = input.trim_start();
    let digits_end = rest
        .char_indices()
        .scan(false, |dot, (i, c)| match c {
            '0'..='9' => Some(i + 1),
            '.' if !*dot => {
                *dot = true;
                Some(i + 1)
            }
            _ => None,
        })
        .last()
        .unwrap_or(0);
    let num: f64 = rest[..digits_end].parse().map_err(|_| cant())?;
    let after = rest[digits_end..].trim_start();
    let letters: String = after.chars().take_while(char::is_ascii_alphabetic).collect();
    let unit = if letters.is_empty() {
        default_unit
    } else {
        Some(letters)
    };
    let Some(unit) = unit else {
        return Ok(Value::from(num.round_ties_even() as i64));
    };
    let key = unit.chars().next().map(|c| c.to_ascii_uppercase()).unwrap_or('B');
    let limit = UNITS
        .iter()
        .find(|(s, _)| *s == key)
        .map(|(_, l)| *l)
        .ok_or_else(|| {
            fail(format!(
                "human_to_bytes() failed to convert {input} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B"
            ))
        })?;
    let (class, class_name) = if isbits { ('b', "bit") } else { ('B', "byte") };
    if unit.chars().count() > 1 && !unit.to_lowercase().contains(class_name) && unit.chars().nth(1) != Some(class) {
        let expect = if key == 'B' {
            format!("expect {class} or {class_name}")
        } else {
            format!("expect {key}{class} or {key}")
        };
        return Err(fail(format!(
            "human_to_bytes() failed to convert {input}. Value is not a valid string ({expect})"
        )));
    }
    Ok(Value::from((num * limit as f64).round_ties_even() as i128))
}
