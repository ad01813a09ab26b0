//! The hash primitives the rest of the core builds on: SHA-256, HMAC-SHA256 and
//! PBKDF2-HMAC-SHA256, each a thin, typed wrapper over RustCrypto so that callers never
//! pick an algorithm or an output length by hand.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// A 32-byte SHA-256 output.
pub type Digest32 = [u8; 32];

/// SHA-256 (FIPS 180-4).
#[must_use]
pub fn sha256(data: &[u8]) -> Digest32 {
    Sha256::digest(data).into()
}

/// HMAC-SHA256 (RFC 2104) of `parts` concatenated, without building the concatenation.
#[must_use]
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Digest32 {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) filling `out`.
///
/// `iterations` must be at least 1; the callers' settings enforce a sane minimum.
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations.max(1), out);
}

/// The keyed hash under which short-lived opaque tokens (OAuth access and refresh
/// tokens, authorization codes, verification tokens) are stored: HMAC-SHA256 with the
/// server's hash secret. These tokens carry 256 random bits, so a single keyed pass is
/// enough: no dictionary can reach them, and the key keeps a stolen table useless.
#[must_use]
pub fn keyed_token_hash(hash_secret: &[u8], token: &str) -> Digest32 {
    hmac_sha256(hash_secret, &[token.as_bytes()])
}
