//! The INI inventory parser: a file read as `-i hosts.ini`, then its hosts' variables and
//! a few host patterns.
#![no_main]

mod inventory;
mod scratch;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    inventory::load(&scratch::write("hosts.ini", data));
});
