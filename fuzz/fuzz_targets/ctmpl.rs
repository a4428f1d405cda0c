//! The `.ctmpl` parser and renderer, on a fixed Consul catalog.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = bgrun::fuzzing::render_ctmpl(text);
    }
});
