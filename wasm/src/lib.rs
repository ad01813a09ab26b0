//! # keyward-wasm
//!
//! The JavaScript face of `keyward-core`: one small module per core area, each a thin
//! wasm-bindgen wrapper that converts types and nothing else. Every decision stays in
//! the core, so Node, the browser and a Worker compute exactly what the native tests
//! check.
//!
//! ## Conventions
//!
//! - Functions are exported in camelCase (`parseKey`, `pkceChallenge`, …).
//! - Failures throw a JS `Error` whose `code` property is the core error's stable
//!   [`ErrorCode::code`] (`malformed_key`, `unsupported_challenge_method`, …); messages
//!   are for people and may change.
//! - Randomness comes from the platform CSPRNG (`crypto.getRandomValues`, through
//!   `getrandom`); this crate is the only place that picks it, the core never does.
//! - Secrets cross the boundary as plain strings only where JavaScript asked for them
//!   (a freshly generated key or verifier): JS strings cannot be zeroized, so the SDK
//!   keeps them no longer than the caller does.
#![forbid(unsafe_code)]

pub use digest::*;
pub use email::*;
pub use keys::*;
pub use namespace::*;
pub use password::*;
pub use pkce::*;
pub use webhook::*;

mod digest;
mod email;
mod keys;
mod namespace;
mod password;
mod pkce;
mod webhook;

use keyward_core::ErrorCode;
use wasm_bindgen::JsValue;

/// A JS `Error` with a stable `code` property.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

/// Converts any core error into a coded JS `Error`.
pub(crate) fn to_js<E: ErrorCode>(error: E) -> JsValue {
    js_error(error.code(), &error.to_string())
}

/// The platform CSPRNG, as the core's `CryptoRng`.
pub(crate) fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Builds a plain JS object from string-keyed values.
pub(crate) fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let obj = js_sys::Object::new();
    for (key, value) in entries {
        let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj.into()
}
