//! RFC 7636 Appendix B: "Example for the S256 code_challenge_method".

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use keyward_core::encoding::b64url_encode;
use keyward_core::pkce::{CodeChallenge, CodeVerifier};

/// The 32 octets of the verifier, verbatim from Appendix B.
const VERIFIER_OCTETS: [u8; 32] = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
];
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[test]
fn verifier_is_base64url_of_the_octets() {
    assert_eq!(b64url_encode(&VERIFIER_OCTETS), VERIFIER);
}

#[test]
fn s256_challenge_matches_appendix_b() {
    let verifier = CodeVerifier::parse(VERIFIER).expect("the RFC's verifier is valid");
    assert_eq!(verifier.challenge().as_str(), CHALLENGE);
}

#[test]
fn the_challenge_verifies_the_verifier_and_nothing_else() {
    let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).expect("valid challenge");
    assert!(challenge.verify(&CodeVerifier::parse(VERIFIER).expect("valid")));
    let other = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK").expect("valid");
    assert!(!challenge.verify(&other));
}
