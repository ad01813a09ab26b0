//! The JS-facing API, run in Node and in headless Chromium: the same RFC vectors the
//! core's native tests check, seen through the bindings, plus the error codes that
//! JavaScript callers branch on.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use keyward_wasm::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn code_of(error: JsValue) -> String {
    Reflect::get(&error, &JsValue::from_str("code"))
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

fn field(obj: &JsValue, name: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(name)).expect("object")
}

#[wasm_bindgen_test]
fn rfc7636_appendix_b_through_the_bindings() {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert_eq!(pkce_challenge(verifier).expect("valid"), challenge);
    assert!(pkce_verify(challenge, Some("S256".into()), verifier).expect("valid"));
    let plain = pkce_verify(challenge, Some("plain".into()), verifier).expect_err("refused");
    assert_eq!(code_of(plain), "unsupported_challenge_method");
    assert_eq!(
        code_of(pkce_challenge("short").expect_err("refused")),
        "malformed_code_verifier"
    );
}

#[wasm_bindgen_test]
fn generated_verifiers_and_keys_come_from_the_platform_rng() {
    let a = pkce_generate_verifier();
    let b = pkce_generate_verifier();
    assert_eq!(a.len(), 43);
    assert_ne!(a, b);
    for scheme in ["lookup", "id_secret"] {
        let key = generate_key("ptmc", scheme).expect("mints");
        let parsed = parse_key(&key, None).expect("parses");
        assert_eq!(
            field(&parsed, "scheme").as_string().as_deref(),
            Some(scheme)
        );
        assert_eq!(
            field(&parsed, "keyPrefix").as_string(),
            Some(key[..12].to_string())
        );
    }
    assert_eq!(
        code_of(generate_key("ptmc", "other").expect_err("refused")),
        "unknown_scheme"
    );
    assert_eq!(
        code_of(generate_key("PT", "lookup").expect_err("refused")),
        "invalid_prefix"
    );
}

#[wasm_bindgen_test]
fn the_router_names_kinds_and_reasons() {
    assert_eq!(
        route_bearer("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0", None).expect("key"),
        "lookup_key"
    );
    assert_eq!(
        route_bearer("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln", None).expect("jwt"),
        "jwt"
    );
    let wrong = route_bearer(
        "ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0",
        Some("prim".into()),
    );
    assert_eq!(code_of(wrong.expect_err("refused")), "unknown_token_shape");
    assert_eq!(
        key_prefix("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0"),
        "ptmc_zI7yqBg"
    );
}

#[wasm_bindgen_test]
fn standard_webhooks_example_through_the_bindings() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = br#"{"test": 2432232314}"#;
    let sig = webhook_sign(
        secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330.0,
        body,
    )
    .expect("signs");
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    webhook_verify(
        secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        &sig,
        body,
        1_614_265_330.0,
        None,
    )
    .expect("verifies");
    let late = webhook_verify(
        secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        &sig,
        body,
        1_614_266_000.0,
        None,
    );
    assert_eq!(
        code_of(late.expect_err("too late")),
        "timestamp_out_of_tolerance"
    );
}

#[wasm_bindgen_test]
fn hashes_through_the_bindings() {
    // RFC 4231 test case 2 and RFC 7914 §11's first PBKDF2 vector (first 16 bytes).
    assert_eq!(
        hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
        hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    assert_eq!(
        pbkdf2_sha256(b"passwd", b"salt", 1, 16),
        hex("55ac046e56e3089fec1691c22544b605")
    );
    let tag = argon2id_raw(&[1; 32], &[2; 16], &[3; 8], &[4; 12], 32, 3, 4, 32).expect("RFC 9106");
    assert_eq!(
        tag,
        hex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    );
    let phc = argon2id_hash(b"pw", "light").expect("hashes");
    assert!(argon2id_verify(b"pw", &phc).expect("verifies"));
    assert!(!argon2id_verify(b"px", &phc).expect("verifies"));
    assert!(argon2id_needs_rehash(&phc, "password").expect("known profile"));
    assert_eq!(
        normalize_email(" Alice@Example.COM").expect("valid"),
        "alice@example.com"
    );
    assert_eq!(
        code_of(normalize_email("nope").expect_err("refused")),
        "missing_at"
    );
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[wasm_bindgen_test]
fn namespace_names_and_keys_are_checked_as_the_service_does() {
    assert!(check_namespace_name("my-app.v2").is_ok());
    assert_eq!(
        code_of(check_namespace_name("My App").expect_err("refused")),
        "invalid_namespace"
    );
    assert!(check_namespace_key("users/42").is_ok());
    assert_eq!(
        code_of(check_namespace_key("a\0b").expect_err("refused")),
        "invalid_key"
    );
    assert_eq!(
        code_of(check_namespace_key("").expect_err("refused")),
        "invalid_key"
    );
}
