//! The Standard Webhooks specification's published example (also the test vector of
//! its reference libraries): secret, id, timestamp and body below, verbatim.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use keyward_core::time::UnixTime;
use keyward_core::webhook::{WebhookError, WebhookSecret};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP: u64 = 1_614_265_330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

#[test]
fn signing_reproduces_the_published_signature() {
    let secret = WebhookSecret::parse(SECRET).expect("valid secret");
    assert_eq!(secret.sign(MSG_ID, UnixTime(TIMESTAMP), BODY), SIGNATURE);
}

#[test]
fn verification_accepts_it_within_tolerance_only() {
    let secret = WebhookSecret::parse(SECRET).expect("valid secret");
    let ts = TIMESTAMP.to_string();
    assert_eq!(
        secret.verify(MSG_ID, &ts, SIGNATURE, BODY, UnixTime(TIMESTAMP + 300), 300),
        Ok(())
    );
    assert_eq!(
        secret.verify(MSG_ID, &ts, SIGNATURE, BODY, UnixTime(TIMESTAMP + 301), 300),
        Err(WebhookError::TimestampOutOfTolerance)
    );
}

#[test]
fn the_prefix_is_optional() {
    let bare = WebhookSecret::parse(SECRET.trim_start_matches("whsec_")).expect("valid");
    assert_eq!(bare.sign(MSG_ID, UnixTime(TIMESTAMP), BODY), SIGNATURE);
}
