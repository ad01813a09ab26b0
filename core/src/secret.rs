//! Secret newtypes.
//!
//! A plain secret (an API key, a PKCE verifier, a webhook key) lives in one of these
//! types from the moment it exists. They share three properties:
//!
//! - `Debug` prints `[redacted]`, so a stray `{:?}` in a log line leaks nothing;
//! - the bytes are overwritten with zeros when the value is dropped;
//! - equality is constant-time ([`subtle`]), so comparing secrets tells nothing by timing
//!   beyond the length.
//!
//! None of them is `Clone`: a copy of a secret is a deliberate act (`expose` + a new
//! value), never an accident.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Compares two byte strings in constant time (for a given length).
///
/// Returns `false` at once when the lengths differ: lengths of our secrets and hashes
/// are fixed by their formats and are not secret.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A secret text, e.g. a plain API key or a PKCE verifier.
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a string that is a secret from now on.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The plain value. Call it only where the secret must leave: in the one response
    /// that returns it, or as the input of a hash.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for SecretString {}

/// Secret bytes, e.g. a webhook signing key or the server's hash secret.
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes that are a secret from now on.
    #[must_use]
    pub fn new(value: Vec<u8>) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The plain bytes, for the one place that must use them (a MAC, a hash).
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes([redacted])")
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

/// Fills a fresh zeroizing buffer of `N` bytes from the caller's CSPRNG.
pub(crate) fn random_bytes<const N: usize>(
    rng: &mut impl rand_core::CryptoRng,
) -> Zeroizing<[u8; N]> {
    let mut buf = Zeroizing::new([0u8; N]);
    rng.fill_bytes(buf.as_mut());
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn debug_never_prints_the_value() {
        let s = SecretString::new("ptmc_supersecret".to_string());
        let b = SecretBytes::new(b"hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "SecretString([redacted])");
        assert_eq!(format!("{b:?}"), "SecretBytes([redacted])");
    }

    #[test]
    fn equality_compares_contents() {
        assert_eq!(SecretString::new("a".into()), SecretString::new("a".into()));
        assert_ne!(SecretString::new("a".into()), SecretString::new("b".into()));
        assert_ne!(
            SecretString::new("a".into()),
            SecretString::new("ab".into())
        );
        assert!(ct_eq(b"same", b"same"));
        assert!(!ct_eq(b"same", b"sane"));
        assert!(!ct_eq(b"", b"x"));
    }
}
