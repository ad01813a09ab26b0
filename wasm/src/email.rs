//! `normalizeEmail`.

use keyward_core::email;
use wasm_bindgen::prelude::*;

use crate::to_js;

/// The one stored spelling of an email address; throws with a code when invalid.
#[wasm_bindgen(js_name = normalizeEmail)]
pub fn normalize_email(input: &str) -> Result<String, JsValue> {
    email::normalize_email(input).map_err(to_js)
}
