//! Standard Webhooks: `webhookSign`, `webhookVerify`, `webhookGenerateSecret`.

use keyward_core::time::UnixTime;
use keyward_core::webhook::{DEFAULT_TOLERANCE_SECS, WebhookSecret};
use wasm_bindgen::prelude::*;

use crate::{os_rng, to_js};

/// The `v1,<base64>` signature of a delivery.
#[wasm_bindgen(js_name = webhookSign)]
pub fn webhook_sign(
    secret: &str,
    msg_id: &str,
    timestamp: f64,
    payload: &[u8],
) -> Result<String, JsValue> {
    let secret = WebhookSecret::parse(secret).map_err(to_js)?;
    Ok(secret.sign(msg_id, UnixTime(seconds(timestamp)), payload))
}

/// Verifies a delivery; throws with a code (`no_matching_signature`,
/// `timestamp_out_of_tolerance`, …) when it does not verify.
#[wasm_bindgen(js_name = webhookVerify)]
pub fn webhook_verify(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    signature: &str,
    payload: &[u8],
    now_secs: f64,
    tolerance_secs: Option<f64>,
) -> Result<(), JsValue> {
    let secret = WebhookSecret::parse(secret).map_err(to_js)?;
    let tolerance = tolerance_secs.map_or(DEFAULT_TOLERANCE_SECS, seconds);
    secret
        .verify(
            msg_id,
            timestamp,
            signature,
            payload,
            UnixTime(seconds(now_secs)),
            tolerance,
        )
        .map_err(to_js)
}

/// A fresh `whsec_…` secret.
#[wasm_bindgen(js_name = webhookGenerateSecret)]
pub fn webhook_generate_secret() -> String {
    WebhookSecret::generate(&mut os_rng())
        .to_text()
        .expose()
        .to_owned()
}

/// JS numbers to whole non-negative seconds (NaN and negatives become 0).
fn seconds(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value as u64
    } else {
        0
    }
}
