//! The reference parser never panics, and what it accepts prints back to a
//! reference that parses to the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrun::reference;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(Ok(r)) = reference::parse(text) {
        let printed = r.to_string();
        assert_eq!(reference::parse(&printed), Some(Ok(r.clone())), "{printed}");
        assert!(!r.aws_id().is_empty());
        let _ = r.without_key();
        let _ = reference::strip_random_suffix(&r.aws_id());
    }
});
