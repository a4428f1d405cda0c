//! The Jinja template renderer: bgrun's Templar and its filters, on fixed variables.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = bgrun::fuzzing::render_jinja(text);
    }
});
