//! Namespace names and keys: `checkNamespaceName`, `checkNamespaceKey`, so the SDK
//! refuses offline exactly what the service refuses.

use keyward_core::namespace;
use wasm_bindgen::prelude::*;

use crate::to_js;

/// Throws (`code`: `invalid_namespace`) unless `name` is `[a-z0-9][a-z0-9._-]{0,62}`.
#[wasm_bindgen(js_name = checkNamespaceName)]
pub fn check_namespace_name(name: &str) -> Result<(), JsValue> {
    namespace::check_name(name).map_err(to_js)
}

/// Throws (`code`: `invalid_key`) unless `key` is 1-400 bytes of UTF-8 without control
/// characters.
#[wasm_bindgen(js_name = checkNamespaceKey)]
pub fn check_namespace_key(key: &str) -> Result<(), JsValue> {
    namespace::check_key(key).map_err(to_js)
}
