//! `random` and `shuffle`: with a `seed`, Python's `random.Random(seed)` draws, so a seeded
//! result is Ansible's; without one, the system's randomness.

use std::hash::{BuildHasher, RandomState};

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};

use crate::compat::random::{PyRandom, Seed};

use super::args::*;

/// A number in `0..n` from the system's randomness.
pub(super) fn system_below(n: u64) -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now()) % n.max(1)
}

fn generator(seed: Option<&Value>) -> Result<PyRandom, Error> {
    let seed = match seed {
        Some(v) if v.kind() == ValueKind::String => Seed::Str(v.as_str().unwrap_or_default()),
        Some(v) => match i128::try_from(v.clone()) {
            Ok(n) => Seed::Int(n),
            Err(_) => {
                return Err(fail(format!(
                    "random: a seed must be a string or an integer, got {}",
                    type_name(v)
                )));
            }
        },
        None => Seed::Int(i128::from(system_below(u64::MAX))),
    };
    Ok(PyRandom::new(seed))
}

/// `random(start=None, step=None, seed=None)`: a number of `range(start, end, step)`, or an item
/// of a list.
pub(super) fn random(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("random", &args, &kwargs, &["start", "step", "seed"])?;
    let start = params.int(0, "start")?;
    let step = params.int(1, "step")?;
    let seed = params.get(2, "seed")?.filter(|s| !s.is_none());
    params.finish()?;
    defined(value)?;
    let mut rng = generator(seed.as_ref())?;
    if value.kind() == ValueKind::Number {
        let end = value
            .as_i64()
            .ok_or_else(|| fail("random can only be used on sequences and integers"))?;
        let start = start.filter(|&s| s != 0).unwrap_or(0);
        let step = step.filter(|&s| s != 0).unwrap_or(1);
        return rng
            .randrange(start, end, step)
            .map(Value::from)
            .ok_or_else(|| fail(format!("empty range for randrange() ({start}, {end}, {step})")));
    }
    if start.is_some_and(|s| s != 0) || step.is_some_and(|s| s != 0) {
        return Err(fail("start and step can only be used with integer values"));
    }
    let list = items("random", value)?;
    let list = if value.kind() == ValueKind::String {
        text(value)?.chars().map(|c| Value::from(c.to_string())).collect()
    } else {
        list
    };
    rng.choice(list.len())
        .map(|i| list[i].clone())
        .ok_or_else(|| fail("Cannot choose from an empty sequence"))
}

/// `shuffle(seed=None)`: the list in a random order.
pub(super) fn shuffle(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let params = Params::new("shuffle", &args, &kwargs, &["seed"])?;
    // As Ansible's `if seed:`, a false seed is no seed.
    let seed = params.get(0, "seed")?.filter(|s| s.is_true());
    params.finish()?;
    let mut list = items("shuffle", value)?;
    generator(seed.as_ref())?.shuffle(&mut list);
    Ok(Value::from(list))
}
