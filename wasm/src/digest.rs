//! Hash primitives and encodings: `sha256`, `hmacSha256`, `pbkdf2Sha256`,
//! `base64urlEncode`, `base64urlDecode`.

use keyward_core::{digest, encoding};
use wasm_bindgen::prelude::*;

use crate::js_error;

/// SHA-256 of `data`.
#[wasm_bindgen]
pub fn sha256(data: &[u8]) -> Vec<u8> {
    digest::sha256(data).to_vec()
}

/// HMAC-SHA256 of `data` under `key`.
#[wasm_bindgen(js_name = hmacSha256)]
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    digest::hmac_sha256(key, &[data]).to_vec()
}

/// PBKDF2-HMAC-SHA256 of `password` and `salt`, `length` bytes.
#[wasm_bindgen(js_name = pbkdf2Sha256)]
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32, length: usize) -> Vec<u8> {
    let mut out = vec![0u8; length];
    digest::pbkdf2_sha256(password, salt, iterations, &mut out);
    out
}

/// base64url without padding.
#[wasm_bindgen(js_name = base64urlEncode)]
pub fn base64url_encode(data: &[u8]) -> String {
    encoding::b64url_encode(data)
}

/// Decodes canonical unpadded base64url; throws `malformed_base64url` otherwise.
#[wasm_bindgen(js_name = base64urlDecode)]
pub fn base64url_decode(text: &str) -> Result<Vec<u8>, JsValue> {
    encoding::b64url_decode(text)
        .ok_or_else(|| js_error("malformed_base64url", "not canonical unpadded base64url"))
}
