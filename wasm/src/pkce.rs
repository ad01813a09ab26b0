//! PKCE (S256 only): `pkceGenerateVerifier`, `pkceChallenge`, `pkceVerify`.

use keyward_core::pkce::{CodeChallenge, CodeVerifier};
use wasm_bindgen::prelude::*;

use crate::{os_rng, to_js};

/// A fresh 43-character verifier from the platform CSPRNG.
#[wasm_bindgen(js_name = pkceGenerateVerifier)]
pub fn pkce_generate_verifier() -> String {
    CodeVerifier::generate(&mut os_rng()).expose().to_owned()
}

/// The S256 challenge of a verifier; throws `malformed_code_verifier`.
#[wasm_bindgen(js_name = pkceChallenge)]
pub fn pkce_challenge(verifier: &str) -> Result<String, JsValue> {
    let verifier = CodeVerifier::parse(verifier).map_err(to_js)?;
    Ok(verifier.challenge().as_str().to_owned())
}

/// Whether `verifier` matches `challenge` under `method` (which must be `S256`).
/// Throws on a malformed challenge or verifier or another method.
#[wasm_bindgen(js_name = pkceVerify)]
pub fn pkce_verify(
    challenge: &str,
    method: Option<String>,
    verifier: &str,
) -> Result<bool, JsValue> {
    let challenge = CodeChallenge::parse(challenge, method.as_deref()).map_err(to_js)?;
    let verifier = CodeVerifier::parse(verifier).map_err(to_js)?;
    Ok(challenge.verify(&verifier))
}
