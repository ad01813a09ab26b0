//! Secrets the service must read back (an org's webhook signing secret), kept at rest
//! only sealed: XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) under a key derived
//! from a Worker secret, so a copy of the database alone reveals and forges nothing.
//!
//! - The key is `HMAC-SHA256(master, "keyward sealed:" ‖ purpose)`: one master secret
//!   serves several purposes without one key ever opening another purpose's secrets.
//! - The associated data names whose secret it is (an org id): a sealed value copied to
//!   another org's row does not open there.
//! - The 24-byte nonce is random, passed in by the caller (the core picks no randomness),
//!   and stored with the ciphertext: `base64url(nonce ‖ ciphertext ‖ tag)`.

use alloc::string::String;
use alloc::vec::Vec;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::digest::hmac_sha256;
use crate::encoding::{b64url_decode, b64url_encode};

/// Nonce length of XChaCha20-Poly1305.
pub const NONCE_LEN: usize = 24;

fn cipher(master: &[u8], purpose: &str) -> XChaCha20Poly1305 {
    let key = Zeroizing::new(hmac_sha256(
        master,
        &[b"keyward sealed:", purpose.as_bytes()],
    ));
    XChaCha20Poly1305::new(&(*key).into())
}

/// Seals `plaintext` for `purpose`, bound to `aad`, under `nonce` (random, never reused).
#[must_use]
pub fn seal(
    master: &[u8],
    purpose: &str,
    aad: &[u8],
    plaintext: &[u8],
    nonce: [u8; NONCE_LEN],
) -> String {
    let sealed = cipher(master, purpose)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message under 256 GiB");
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    b64url_encode(&out)
}

/// Opens a [`seal`]ed value; `None` if it was sealed under another key, purpose or
/// `aad`, or altered.
#[must_use]
pub fn open(master: &[u8], purpose: &str, aad: &[u8], sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
    let bytes = b64url_decode(sealed)?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, body) = bytes.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    cipher(master, purpose)
        .decrypt(&XNonce::from(nonce), Payload { msg: body, aad })
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &[u8] = b"a worker secret of at least thirty-two bytes";

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_purpose_and_owner() {
        let sealed = seal(
            MASTER,
            "webhook-secret",
            b"org_a",
            b"whsec_abc",
            [7; NONCE_LEN],
        );
        assert_eq!(
            open(MASTER, "webhook-secret", b"org_a", &sealed)
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"whsec_abc"[..])
        );
        assert!(
            open(
                b"another master secret of thirty-two bytes",
                "webhook-secret",
                b"org_a",
                &sealed
            )
            .is_none()
        );
        assert!(open(MASTER, "another-purpose", b"org_a", &sealed).is_none());
        assert!(
            open(MASTER, "webhook-secret", b"org_b", &sealed).is_none(),
            "copied to another org"
        );
        let mut bytes = b64url_decode(&sealed).expect("base64url");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(
            open(MASTER, "webhook-secret", b"org_a", &b64url_encode(&bytes)).is_none(),
            "altered"
        );
        assert!(open(MASTER, "webhook-secret", b"org_a", "short").is_none());
        assert!(!sealed.contains("whsec"), "the plaintext does not show");
    }

    #[test]
    fn nonces_make_equal_secrets_look_different() {
        let a = seal(MASTER, "p", b"o", b"same", [1; NONCE_LEN]);
        let b = seal(MASTER, "p", b"o", b"same", [2; NONCE_LEN]);
        assert_ne!(a, b);
    }
}
