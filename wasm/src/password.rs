//! argon2id: `argon2idHash`, `argon2idVerify`, `argon2idNeedsRehash`, `argon2idRaw`.
//!
//! Profiles are named (`password`, `light`) or given as `{ m, t, p }` numbers.

use keyward_core::password::{self, Argon2Profile};
use wasm_bindgen::prelude::*;

use crate::{js_error, os_rng, to_js};

/// Resolves a profile name.
fn profile(name: &str) -> Result<Argon2Profile, JsValue> {
    match name {
        "password" => Ok(Argon2Profile::PASSWORD),
        "light" => Ok(Argon2Profile::LIGHT),
        _ => Err(js_error(
            "unknown_profile",
            "argon2 profile must be password or light",
        )),
    }
}

/// Hashes `secret` under the named profile with a fresh salt; returns a PHC string.
#[wasm_bindgen(js_name = argon2idHash)]
pub fn argon2id_hash(secret: &[u8], profile_name: &str) -> Result<String, JsValue> {
    password::hash(secret, profile(profile_name)?, &mut os_rng()).map_err(to_js)
}

/// Verifies `secret` against a PHC string (constant-time comparison).
#[wasm_bindgen(js_name = argon2idVerify)]
pub fn argon2id_verify(secret: &[u8], phc: &str) -> Result<bool, JsValue> {
    password::verify(secret, phc).map_err(to_js)
}

/// Whether a PHC string is weaker than the named profile.
#[wasm_bindgen(js_name = argon2idNeedsRehash)]
pub fn argon2id_needs_rehash(phc: &str, profile_name: &str) -> Result<bool, JsValue> {
    Ok(password::needs_rehash(phc, profile(profile_name)?))
}

/// Raw argon2id with explicit parameters, secret and associated data (RFC 9106 §3).
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen(js_name = argon2idRaw)]
pub fn argon2id_raw(
    password: &[u8],
    salt: &[u8],
    secret: &[u8],
    associated_data: &[u8],
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    length: usize,
) -> Result<Vec<u8>, JsValue> {
    let profile = Argon2Profile {
        m_cost_kib,
        t_cost,
        p_cost,
    };
    password::argon2id_raw(password, salt, secret, associated_data, profile, length).map_err(to_js)
}
