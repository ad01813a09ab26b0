//! RFC 8037 Appendix A: the Ed25519 private key (A.1), its public key (A.2), the JWK
//! thumbprint (A.3), signing (A.4) and validation (A.5), verbatim. The key is also RFC
//! 8032 §7.1 TEST 1's, whose hex is given as a cross-check of the base64url.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use hex_literal::hex;
use keyward_core::encoding::{b64url_decode, b64url_decode_exact, b64url_encode};
use keyward_core::jwt::{
    JwtError, SigningKey, VerifyingKey, jwk_thumbprint, sign_compact, verify_compact_signature,
};

/// A.1: the private key's `d`.
const D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
/// A.1 and A.2: the public key's `x`.
const X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// A.3: the thumbprint, as hex and as base64url.
const THUMBPRINT_HEX: [u8; 32] =
    hex!("90facafea9b1556698540f70c0117a22ea37bd5cf3ed3c47093c1707282b4b89");
const THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
/// A.4: the protected header and the payload, and their base64url.
const HEADER: &str = r#"{"alg":"EdDSA"}"#;
const HEADER_B64: &str = "eyJhbGciOiJFZERTQSJ9";
const PAYLOAD: &str = "Example of Ed25519 signing";
const PAYLOAD_B64: &str = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
/// A.4: the compact JWS.
const JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn private_key() -> SigningKey {
    SigningKey::from_seed(&b64url_decode_exact::<32>(D).expect("A.1 d is 32 bytes"))
}

#[test]
fn a1_a2_the_private_key_yields_the_public_key() {
    assert_eq!(
        b64url_decode_exact::<32>(D),
        Some(hex!(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
        ))
    );
    let public = private_key().verifying_key();
    assert_eq!(public.x(), X);
    assert_eq!(
        public.to_bytes(),
        hex!("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    );
    assert_eq!(VerifyingKey::from_x(X), Ok(public));
}

#[test]
fn a3_jwk_thumbprint() {
    let public = VerifyingKey::from_x(X).expect("A.2 x is a valid key");
    assert_eq!(
        b64url_decode(THUMBPRINT).as_deref(),
        Some(&THUMBPRINT_HEX[..])
    );
    assert_eq!(jwk_thumbprint(&public), THUMBPRINT);
}

#[test]
fn a4_signing_reproduces_the_jws() {
    assert_eq!(b64url_encode(HEADER.as_bytes()), HEADER_B64);
    assert_eq!(b64url_encode(PAYLOAD.as_bytes()), PAYLOAD_B64);
    assert_eq!(
        sign_compact(&private_key(), HEADER_B64, PAYLOAD.as_bytes()),
        JWS
    );
}

#[test]
fn a5_validation() {
    let public = VerifyingKey::from_x(X).expect("A.2 x is a valid key");
    assert_eq!(verify_compact_signature(JWS, &public), Ok(()));
    let tampered = JWS.replace(PAYLOAD_B64, &b64url_encode(b"Example of Ed25519 signinG"));
    assert_eq!(
        verify_compact_signature(&tampered, &public),
        Err(JwtError::BadSignature)
    );
}
