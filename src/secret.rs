//! [`SecretValue`]: bytes that came from a secret. Its `Debug` and `Display`
//! are redacted, and its buffer is zeroed when dropped.
//!
//! Everything that holds a resolved value holds it as a `SecretValue`, so a
//! stray `{:?}` in a log line or a panic prints `<redacted N bytes>`.

use std::fmt;
use zeroize::Zeroizing;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretValue(Zeroizing::new(bytes))
    }

    pub fn from_text(s: &str) -> Self {
        SecretValue::new(s.as_bytes().to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains_nul(&self) -> bool {
        self.0.contains(&0)
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0.len())
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0.len())
    }
}

/// Debug-formats text that may be a secret as its length only, for the
/// hand-written `Debug` impls of types that hold values as written.
pub struct Redacted(pub usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {} bytes>", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let v = SecretValue::from_text("hunter2-4c1f");
        assert_eq!(format!("{v:?}"), "<redacted 12 bytes>");
        assert_eq!(format!("{v}"), "<redacted 12 bytes>");
        assert_eq!(format!("{:?}", Some(&v)), "Some(<redacted 12 bytes>)");
    }
}
