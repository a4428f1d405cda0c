//! The playbook loader: YAML text to plays and step graphs, as `bgrun --syntax-check` loads them.
#![no_main]

mod scratch;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch::write("play.yml", data);
    let _ = bgrun::fuzzing::syntax_check(&path);
});
