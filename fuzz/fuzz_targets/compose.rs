//! The Compose file reader: a `docker-compose.yml` read as `docker-compose -f` would.
#![no_main]

mod scratch;

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch::write("docker-compose.yml", data);
    let dir = path
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let env = HashMap::from([
        ("HOME".to_string(), "/root".to_string()),
        ("TAG".to_string(), "1.0".to_string()),
    ]);
    let _ = bgrun::compose::load_in(&[path], Some("fuzz"), &env, &dir);
});
