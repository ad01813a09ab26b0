//! API keys and the bearer router: `parseKey`, `routeBearer`, `keyPrefix`,
//! `generateKey`, `lookupHash`.

use keyward_core::api_key::{self, IdSecretKey, KeyError, KeyPrefix, KeyScheme, LookupKey};
use keyward_core::bearer::Bearer;
use wasm_bindgen::prelude::*;

use crate::{js_error, object, os_rng, to_js};

/// The configured prefix, or the one the token claims when none is given.
fn prefix_for(token: &str, prefix: Option<String>) -> Result<KeyPrefix, JsValue> {
    match prefix {
        Some(p) => KeyPrefix::new(&p).map_err(to_js),
        None => KeyPrefix::of_token(token).map_err(to_js),
    }
}

/// Parses an API key of either scheme strictly. Returns
/// `{ scheme, keyPrefix, credentialId }` (`credentialId` is `null` for `lookup` keys).
#[wasm_bindgen(js_name = parseKey)]
pub fn parse_key(token: &str, prefix: Option<String>) -> Result<JsValue, JsValue> {
    let prefix = prefix_for(token, prefix)?;
    let route = Bearer::route(token, &prefix).map_err(to_js)?;
    let (scheme, credential_id) = match &route {
        Bearer::LookupKey(_) => (KeyScheme::Lookup, JsValue::NULL),
        Bearer::IdSecretKey(key) => (
            KeyScheme::IdSecret,
            JsValue::from_str(&key.credential_id().to_hex()),
        ),
        _ => return Err(to_js(KeyError::Malformed)),
    };
    Ok(object(&[
        ("scheme", JsValue::from_str(scheme.as_str())),
        ("keyPrefix", JsValue::from_str(api_key::key_prefix(token))),
        ("credentialId", credential_id),
    ]))
}

/// Classifies a bearer token by shape: `jwt`, `access_token`, `refresh_token`,
/// `lookup_key` or `id_secret_key`; throws with the precise reason otherwise.
#[wasm_bindgen(js_name = routeBearer)]
pub fn route_bearer(token: &str, prefix: Option<String>) -> Result<String, JsValue> {
    let prefix = if token.starts_with("eyJ") {
        // JWTs carry no prefix; any valid placeholder routes them.
        KeyPrefix::new("kw").map_err(to_js)?
    } else {
        prefix_for(token, prefix)?
    };
    Bearer::route(token, &prefix)
        .map(|b| b.kind().to_owned())
        .map_err(to_js)
}

/// The first 12 characters of a token: the only part safe to log or display.
#[wasm_bindgen(js_name = keyPrefix)]
pub fn key_prefix(token: &str) -> String {
    api_key::key_prefix(token).to_owned()
}

/// Mints a key of `scheme` (`lookup` or `id_secret`) from the platform CSPRNG.
#[wasm_bindgen(js_name = generateKey)]
pub fn generate_key(prefix: &str, scheme: &str) -> Result<String, JsValue> {
    let prefix = KeyPrefix::new(prefix).map_err(to_js)?;
    let mut rng = os_rng();
    match KeyScheme::parse(scheme) {
        Some(KeyScheme::Lookup) => Ok(LookupKey::generate(&prefix, &mut rng).expose().to_owned()),
        Some(KeyScheme::IdSecret) => {
            Ok(IdSecretKey::generate(&prefix, &mut rng).expose().to_owned())
        }
        None => Err(js_error(
            "unknown_scheme",
            "scheme must be lookup or id_secret",
        )),
    }
}

/// The stored value of a `lookup` key: PBKDF2-HMAC-SHA256(key, hashSecret, iterations).
#[wasm_bindgen(js_name = lookupHash)]
pub fn lookup_hash(key: &str, hash_secret: &[u8], iterations: u32) -> Vec<u8> {
    api_key::lookup_hash(key.as_bytes(), hash_secret, iterations).to_vec()
}
