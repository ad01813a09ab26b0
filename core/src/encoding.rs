//! Strict encodings.
//!
//! Tokens are compared and hashed as text, so a token must have exactly one spelling:
//! two different strings that decode to the same bytes would be two different hashes of
//! one secret (or a way around a deny-list). These decoders accept only the canonical
//! form: base64url without padding and with zero trailing bits (RFC 4648 §5, §3.5), and
//! lowercase hex.

use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// base64url, no padding, canonical trailing bits only.
const URL_SAFE_STRICT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Standard base64 with padding, canonical (used by Standard Webhooks signatures).
const STANDARD_STRICT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(false),
);

/// Standard base64 without padding (the PHC string format's `B64`).
const STANDARD_NO_PAD_STRICT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes as base64url without padding (RFC 4648 §5).
#[must_use]
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_STRICT.encode(bytes)
}

/// Decodes canonical unpadded base64url; `None` for anything else.
#[must_use]
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_STRICT.decode(text).ok()
}

/// Decodes canonical unpadded base64url of exactly `N` bytes.
#[must_use]
pub fn b64url_decode_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Reject on length first: cheap, and bounds the work on hostile input.
    if text.len() != encoded_len_unpadded(N) {
        return None;
    }
    b64url_decode(text)?.try_into().ok()
}

/// Encodes as standard padded base64 (RFC 4648 §4).
#[must_use]
pub fn b64_encode(bytes: &[u8]) -> String {
    STANDARD_STRICT.encode(bytes)
}

/// Decodes canonical padded standard base64.
#[must_use]
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD_STRICT.decode(text).ok()
}

/// Encodes as standard base64 without padding (PHC `B64`).
#[must_use]
pub(crate) fn b64_nopad_encode(bytes: &[u8]) -> String {
    STANDARD_NO_PAD_STRICT.encode(bytes)
}

/// Decodes canonical standard base64 without padding (PHC `B64`).
#[must_use]
pub(crate) fn b64_nopad_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD_STRICT.decode(text).ok()
}

/// The length of `n` bytes in unpadded base64: `ceil(4n / 3)`.
#[must_use]
pub const fn encoded_len_unpadded(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Encodes as lowercase hex.
#[must_use]
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes lowercase hex of exactly `N` bytes; uppercase, odd lengths and other
/// characters are refused.
#[must_use]
pub fn hex_decode_exact<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Percent-decoding (RFC 3986 §2.1), strictly: a `%` must start two hex digits and the
/// decoded bytes must be UTF-8. With `plus_as_space` (form bodies and query strings,
/// `application/x-www-form-urlencoded`) a `+` is a space; in a path it is a plus.
#[must_use]
pub fn percent_decode(bytes: &[u8], plus_as_space: bool) -> Option<String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_as_space => out.push(b' '),
            b'%' => {
                let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
                let (hi, lo) = (hex(bytes.get(i + 1))?, hex(bytes.get(i + 2))?);
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_canonical_base64url_is_refused() {
        // 32 zero bytes encode to 43 'A's; the last char carries 2 unused bits.
        let canonical = "A".repeat(43);
        assert_eq!(b64url_decode_exact::<32>(&canonical), Some([0u8; 32]));
        let mut trailing = "A".repeat(42);
        trailing.push('B'); // sets an unused bit
        assert_eq!(b64url_decode_exact::<32>(&trailing), None);
        assert_eq!(b64url_decode(&alloc::format!("{canonical}=")), None);
        assert_eq!(
            b64url_decode("Zm9v+g"),
            None,
            "standard alphabet is not base64url"
        );
    }

    #[test]
    fn hex_is_lowercase_only() {
        assert_eq!(hex_decode_exact::<2>("0aff"), Some([0x0a, 0xff]));
        assert_eq!(hex_decode_exact::<2>("0AFF"), None);
        assert_eq!(hex_decode_exact::<2>("0af"), None);
        assert_eq!(hex_decode_exact::<2>("0afg"), None);
        assert_eq!(hex_encode(&[0x0a, 0xff]), "0aff");
    }
}
