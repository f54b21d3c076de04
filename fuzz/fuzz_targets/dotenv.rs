//! The env-file parser never panics, and the lines it reports (for entries
//! and errors) are lines of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrun::dotenv;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines = text.matches('\n').count() + 1;
    for interpolate in [true, false] {
        match dotenv::parse(text, interpolate) {
            Ok(entries) => {
                for e in entries {
                    assert!(e.line >= 1 && e.line <= lines, "entry line {} of {lines}", e.line);
                    assert!(!e.key.is_empty());
                }
            }
            Err(e) => assert!(e.line >= 1 && e.line <= lines, "error line {} of {lines}", e.line),
        }
    }
});
