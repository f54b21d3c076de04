//! Interpolation never panics, on any bytes, and text without `$` is kept
//! byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secrun::reference::Reference;
use secrun::template::{self, Missing, Scope};

struct Fixed;

impl Scope for Fixed {
    type Error = Missing;
    fn var(&mut self, name: &str) -> Result<Option<Vec<u8>>, Missing> {
        // Some names set, some empty, the rest unset.
        Ok(match name.len() % 3 {
            0 => Some(name.as_bytes().to_vec()),
            1 => Some(Vec::new()),
            _ => None,
        })
    }
    fn reference(&mut self, r: &Reference) -> Result<Vec<u8>, Missing> {
        Ok(r.aws_id().into_bytes())
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(pieces) = template::parse(data) else { return };
    let expanded = template::expand(&pieces, &mut Fixed);
    if !data.contains(&b'$') {
        assert_eq!(expanded.as_deref(), Ok(data));
    }
    let mut vars = Vec::new();
    template::variables(&pieces, &mut vars);
    let mut refs = Vec::new();
    template::references(&pieces, &mut refs);
});
