//! Session JWTs: the round trip, and every refusal with its stable code. Forged tokens
//! are built by hand (`sign_compact` with a chosen header and payload) so that each case
//! differs from a valid token in exactly one way, and is properly signed unless the
//! signature is the point.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use keyward_core::ErrorCode;
use keyward_core::digest::hmac_sha256;
use keyward_core::encoding::{b64url_decode, b64url_encode, hex_encode};
use keyward_core::jwt::{
    ALG, Claims, Expect, JwtError, MAX_TOKEN_LEN, SigningKey, VerifyingKey, header_kid, jwk_json,
    jwks_json, sign, sign_compact, verify,
};
use keyward_core::time::UnixTime;

const KID: &str = "k1";
const ISS: &str = "https://keyward.example";
const AUD: &str = "keyward";
const IAT: u64 = 1_700_000_000;
const EXP: u64 = IAT + 3600;
const SEED: [u8; 32] = [7; 32];
/// The header `sign` writes for `KID`.
const HEADER: &str = r#"{"alg":"EdDSA","typ":"JWT","kid":"k1"}"#;

fn key() -> SigningKey {
    SigningKey::from_seed(&SEED)
}

fn claims() -> Claims {
    Claims {
        iss: ISS.into(),
        aud: AUD.into(),
        sub: "usr_1".into(),
        sid: "ses_1".into(),
        org: "org_1".into(),
        iat: IAT,
        exp: EXP,
    }
}

/// The claims of `claims()` as JSON.
fn payload() -> String {
    serde_json::to_string(&claims()).expect("claims serialise")
}

/// `claims()` under `HEADER`, properly signed, with the claim `name` set to `value`
/// (`None`: removed).
fn with_claim(name: &str, value: Option<serde_json::Value>) -> String {
    let mut object = serde_json::to_value(claims()).expect("claims serialise");
    let members = object.as_object_mut().expect("claims are an object");
    match value {
        Some(value) => members.insert(name.into(), value),
        None => members.remove(name),
    };
    forge(HEADER, &object.to_string())
}

fn expect_at(now: u64, leeway_secs: u64) -> Expect<'static> {
    Expect {
        issuer: ISS,
        audience: AUD,
        now: UnixTime(now),
        leeway_secs,
    }
}

fn now() -> Expect<'static> {
    expect_at(IAT + 10, 0)
}

/// A token with this header and payload text, properly signed by `key()`.
fn forge(header: &str, payload: &str) -> String {
    sign_compact(
        &key(),
        &b64url_encode(header.as_bytes()),
        payload.as_bytes(),
    )
}

/// Asserts that `verify` refuses `token` with `error`, whose code is `code`.
fn refused(token: &str, error: JwtError, code: &str) {
    assert_eq!(
        verify(token, &key().verifying_key(), &now()),
        Err(error),
        "{token}"
    );
    assert_eq!(error.code(), code);
}

/// Asserts that both `header_kid` and `verify` refuse `token` with `error` / `code`.
fn header_refused(token: &str, error: JwtError, code: &str) {
    assert_eq!(header_kid(token), Err(error), "{token}");
    refused(token, error, code);
}

#[test]
fn round_trip() {
    let token = sign(&key(), KID, &claims());
    assert!(token.starts_with("eyJ"), "the bearer router expects eyJ");
    let header = token.split('.').next().expect("three parts");
    assert_eq!(b64url_decode(header).as_deref(), Some(HEADER.as_bytes()));
    assert_eq!(header_kid(&token).as_deref(), Ok(KID));
    assert_eq!(verify(&token, &key().verifying_key(), &now()), Ok(claims()));
    // The hand-built form of the same token is byte-identical: Ed25519 is deterministic.
    assert_eq!(forge(HEADER, &payload()), token);
}

#[test]
fn typ_may_be_omitted_and_members_reordered() {
    let token = forge(r#"{"kid":"k1","alg":"EdDSA"}"#, &payload());
    assert_eq!(verify(&token, &key().verifying_key(), &now()), Ok(claims()));
}

#[test]
fn unknown_claims_are_ignored() {
    let token = with_claim("jti", Some("abc".into()));
    assert_eq!(verify(&token, &key().verifying_key(), &now()), Ok(claims()));
}

#[test]
fn alg_none_is_refused() {
    let header = b64url_encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    let payload = b64url_encode(payload().as_bytes());
    let token = format!("{header}.{payload}.");
    header_refused(&token, JwtError::AlgorithmNotAllowed, "jwt_alg_not_allowed");
}

#[test]
fn hs256_keyed_with_the_public_key_is_refused() {
    let public = key().verifying_key();
    let header = b64url_encode(br#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#);
    let payload = b64url_encode(payload().as_bytes());
    let input = format!("{header}.{payload}");
    // Both spellings of "the public key" a confused verifier might use as the HMAC key.
    for hmac_key in [public.to_bytes().to_vec(), public.x().into_bytes()] {
        let mac = hmac_sha256(&hmac_key, &[input.as_bytes()]);
        let token = format!("{input}.{}", b64url_encode(&mac));
        header_refused(&token, JwtError::AlgorithmNotAllowed, "jwt_alg_not_allowed");
    }
}

#[test]
fn other_algorithms_and_spellings_are_refused() {
    let payload = payload();
    for alg in [
        r#""ES256""#,
        r#""EDDSA""#,
        r#""eddsa""#,
        r#""Ed25519""#,
        r#""EdDSA ""#,
        r#"["EdDSA"]"#,
        "null",
    ] {
        let token = forge(
            &format!(r#"{{"alg":{alg},"typ":"JWT","kid":"k1"}}"#),
            &payload,
        );
        header_refused(&token, JwtError::AlgorithmNotAllowed, "jwt_alg_not_allowed");
    }
    let token = forge(r#"{"typ":"JWT","kid":"k1"}"#, &payload);
    header_refused(&token, JwtError::AlgorithmNotAllowed, "jwt_alg_not_allowed");
}

#[test]
fn key_pointing_and_processing_headers_are_refused() {
    let payload = payload();
    for (name, value) in [
        ("jku", r#""https://evil.example/jwks.json""#),
        ("x5u", r#""https://evil.example/cert.pem""#),
        (
            "jwk",
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        ),
        ("x5c", r#"["MIIB"]"#),
        ("x5t", r#""abc""#),
        ("x5t#S256", r#""abc""#),
        ("crit", r#"["exp"]"#),
        ("b64", "false"),
        ("cty", r#""JWT""#),
        ("zip", r#""DEF""#),
    ] {
        let header = format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"k1","{name}":{value}}}"#);
        header_refused(
            &forge(&header, &payload),
            JwtError::ForbiddenHeader,
            "jwt_forbidden_header",
        );
    }
}

#[test]
fn kid_must_be_present_and_sane() {
    let payload = payload();
    let long = "a".repeat(65);
    for kid in [
        None,
        Some(r#""""#),
        Some("7"),
        Some("null"),
        Some(r#""a b""#),
        Some(long.as_str()),
    ] {
        let header = match kid {
            None => r#"{"alg":"EdDSA","typ":"JWT"}"#.to_owned(),
            Some(kid) if kid.starts_with('a') => format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#),
            Some(kid) => format!(r#"{{"alg":"EdDSA","kid":{kid}}}"#),
        };
        header_refused(
            &forge(&header, &payload),
            JwtError::MissingKid,
            "jwt_missing_kid",
        );
    }
    let longest = "a".repeat(64);
    let token = forge(&format!(r#"{{"alg":"EdDSA","kid":"{longest}"}}"#), &payload);
    assert_eq!(header_kid(&token), Ok(longest));
}

#[test]
fn other_token_types_are_refused() {
    let payload = payload();
    for typ in [r#""at+jwt""#, r#""jwt""#, r#""JOSE""#, "1"] {
        let header = format!(r#"{{"alg":"EdDSA","typ":{typ},"kid":"k1"}}"#);
        header_refused(
            &forge(&header, &payload),
            JwtError::TypeNotAllowed,
            "jwt_typ_not_allowed",
        );
    }
}

#[test]
fn expiry_is_exclusive_and_leeway_extends_it() {
    let token = sign(&key(), KID, &claims());
    let public = key().verifying_key();
    assert!(verify(&token, &public, &expect_at(EXP - 1, 0)).is_ok());
    assert_eq!(
        verify(&token, &public, &expect_at(EXP, 0)),
        Err(JwtError::Expired)
    );
    assert_eq!(JwtError::Expired.code(), "jwt_expired");
    assert!(verify(&token, &public, &expect_at(EXP, 30)).is_ok());
    assert!(verify(&token, &public, &expect_at(EXP + 29, 30)).is_ok());
    assert_eq!(
        verify(&token, &public, &expect_at(EXP + 30, 30)),
        Err(JwtError::Expired)
    );
    assert_eq!(
        verify(&token, &public, &expect_at(u64::MAX, 30)),
        Err(JwtError::Expired)
    );
}

#[test]
fn tokens_from_the_future_are_refused() {
    let token = sign(&key(), KID, &claims());
    let public = key().verifying_key();
    assert_eq!(
        verify(&token, &public, &expect_at(IAT - 61, 60)),
        Err(JwtError::NotYetValid)
    );
    assert_eq!(JwtError::NotYetValid.code(), "jwt_not_yet_valid");
    assert!(verify(&token, &public, &expect_at(IAT - 60, 60)).is_ok());
    assert!(verify(&token, &public, &expect_at(IAT, 0)).is_ok());

    let nbf = with_claim("nbf", Some((IAT + 100).into()));
    refused(&nbf, JwtError::NotYetValid, "jwt_not_yet_valid");
}

#[test]
fn missing_exp_is_refused() {
    let token = with_claim("exp", None);
    refused(&token, JwtError::MissingExp, "jwt_missing_exp");
}

#[test]
fn missing_or_mistyped_claims_are_malformed() {
    let cases: [(&str, Option<serde_json::Value>); 10] = [
        ("exp", Some("1700003600".into())),
        ("exp", Some(serde_json::json!(1_700_003_600.5))),
        ("exp", Some(serde_json::json!(-1))),
        ("iat", None),
        ("sub", None),
        ("sid", Some("".into())),
        ("org", Some(serde_json::json!(1))),
        ("iss", None),
        ("aud", Some(serde_json::json!([AUD]))),
        ("nbf", Some("0".into())),
    ];
    for (name, value) in cases {
        let token = with_claim(name, value);
        refused(&token, JwtError::Malformed, "jwt_malformed");
    }
}

#[test]
fn wrong_issuer_and_audience_are_refused() {
    let token = with_claim("iss", Some("https://evil.example".into()));
    refused(&token, JwtError::WrongIssuer, "jwt_wrong_issuer");
    let token = with_claim("aud", Some("other-service".into()));
    refused(&token, JwtError::WrongAudience, "jwt_wrong_audience");
}

#[test]
fn repeated_members_are_malformed() {
    let payload = payload();
    let header = r#"{"alg":"none","alg":"EdDSA","kid":"k1"}"#;
    header_refused(
        &forge(header, &payload),
        JwtError::Malformed,
        "jwt_malformed",
    );
    let payload = payload.replacen('{', r#"{"aud":"other","#, 1);
    refused(
        &forge(HEADER, &payload),
        JwtError::Malformed,
        "jwt_malformed",
    );
}

#[test]
fn tampering_breaks_the_signature() {
    let token = sign(&key(), KID, &claims());
    let parts: Vec<&str> = token.split('.').collect();

    let mut evil = claims();
    evil.sub = "usr_admin".into();
    let evil_payload = b64url_encode(serde_json::to_string(&evil).expect("serialise").as_bytes());
    let tampered = format!("{}.{evil_payload}.{}", parts[0], parts[2]);
    refused(&tampered, JwtError::BadSignature, "jwt_bad_signature");

    let mut signature = b64url_decode(parts[2]).expect("canonical");
    signature[10] ^= 1;
    let tampered = format!("{}.{}.{}", parts[0], parts[1], b64url_encode(&signature));
    refused(&tampered, JwtError::BadSignature, "jwt_bad_signature");

    for bad_length in ["", "AAAA"] {
        let tampered = format!("{}.{}.{bad_length}", parts[0], parts[1]);
        refused(&tampered, JwtError::BadSignature, "jwt_bad_signature");
    }
}

#[test]
fn another_keys_token_is_refused() {
    let other = SigningKey::from_seed(&[8; 32]);
    let token = sign(&other, KID, &claims());
    refused(&token, JwtError::BadSignature, "jwt_bad_signature");
    assert_eq!(verify(&token, &other.verifying_key(), &now()), Ok(claims()));
}

#[test]
fn non_canonical_base64url_is_malformed() {
    let token = sign(&key(), KID, &claims());
    let (rest, signature) = token.rsplit_once('.').expect("three parts");
    let last = signature.chars().last().expect("non-empty");
    // 64 bytes leave 4 unused bits in the last character; set one.
    let sloppy_last = char::from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            [(b64_index(last) | 1) as usize],
    );
    assert_ne!(
        last, sloppy_last,
        "the canonical last char has zero low bits"
    );
    let trailing_bits = format!("{rest}.{}{sloppy_last}", &signature[..signature.len() - 1]);
    let padded = format!("{token}==");
    let header = token.split('.').next().expect("three parts");
    let padded_header = token.replacen(header, &format!("{header}="), 1);
    let standard_alphabet = token.replace('-', "+").replace('_', "/");
    let spaced = token.replacen('.', " .", 1);
    for bad in [trailing_bits, padded, padded_header, spaced] {
        header_refused(&bad, JwtError::Malformed, "jwt_malformed");
    }
    if standard_alphabet != token {
        header_refused(&standard_alphabet, JwtError::Malformed, "jwt_malformed");
    }
}

fn b64_index(c: char) -> u8 {
    match c {
        'A'..='Z' => c as u8 - b'A',
        'a'..='z' => c as u8 - b'a' + 26,
        '0'..='9' => c as u8 - b'0' + 52,
        '-' => 62,
        _ => 63,
    }
}

#[test]
fn shapes_other_than_three_parts_are_malformed() {
    let token = sign(&key(), KID, &claims());
    let five = format!("{token}.AAAA.AAAA");
    let (two, _) = token.rsplit_once('.').expect("three parts");
    let four = format!("{token}.");
    for bad in [
        five.as_str(),
        two,
        four.as_str(),
        "",
        ".",
        "..",
        "eyJ",
        "\u{0}\u{ff}garbage",
    ] {
        header_refused(bad, JwtError::Malformed, "jwt_malformed");
    }
    header_refused("not a token at all", JwtError::Malformed, "jwt_malformed");
    let header_not_object = forge("[]", &payload());
    header_refused(&header_not_object, JwtError::Malformed, "jwt_malformed");
    let payload_not_json = forge(HEADER, "not json");
    refused(&payload_not_json, JwtError::Malformed, "jwt_malformed");
}

#[test]
fn overlong_tokens_are_refused_before_parsing() {
    let long = "A".repeat(MAX_TOKEN_LEN + 1);
    header_refused(&long, JwtError::TooLong, "jwt_too_long");
    let padded_claims = with_claim("pad", Some("x".repeat(MAX_TOKEN_LEN).into()));
    header_refused(&padded_claims, JwtError::TooLong, "jwt_too_long");
    // At the limit the length is not the reason.
    assert_eq!(
        header_kid(&"A".repeat(MAX_TOKEN_LEN)),
        Err(JwtError::Malformed)
    );
}

#[test]
fn signing_key_debug_is_redacted() {
    let text = format!("{:?}", key());
    assert_eq!(text, "SigningKey([redacted])");
    assert!(!text.contains(&hex_encode(&SEED)));
    assert!(!text.contains(&b64url_encode(&SEED)));
    assert!(!text.contains("7, 7"));
}

#[test]
fn derived_keys_are_deterministic_and_separated() {
    let master = b"a 32-byte deployment master key";
    let x = |master: &[u8], kid: &str| SigningKey::derive(master, kid).verifying_key();
    assert_eq!(x(master, "k1"), x(master, "k1"));
    assert_ne!(x(master, "k1"), x(master, "k2"));
    assert_ne!(x(master, "k1"), x(b"another deployment master key", "k1"));
    // The documented derivation, spelled out.
    let seed = hmac_sha256(master, &[b"keyward/jwt/ed25519/v1/", b"k1"]);
    assert_eq!(
        x(master, "k1"),
        SigningKey::from_seed(&seed).verifying_key()
    );
}

#[test]
fn jwk_and_jwks_shapes() {
    let public = key().verifying_key();
    let x = public.x();
    assert_eq!(
        jwk_json(KID, &public),
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"k1","alg":"{ALG}","use":"sig"}}"#
        )
    );
    let other = SigningKey::from_seed(&[8; 32]).verifying_key();
    assert_eq!(
        jwks_json(&[("k1", public), ("k0", other)]),
        format!(
            r#"{{"keys":[{},{}]}}"#,
            jwk_json("k1", &public),
            jwk_json("k0", &other)
        )
    );
    assert_eq!(jwks_json(&[]), r#"{"keys":[]}"#);
    assert_eq!(VerifyingKey::from_x(&x), Ok(public));
    assert_eq!(VerifyingKey::from_bytes(&public.to_bytes()), Ok(public));
    assert_eq!(format!("{public:?}"), format!("VerifyingKey({x:?})"));
}

#[test]
fn invalid_public_keys_are_refused() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    for bytes in [identity, [0; 32], [0xff; 32]] {
        assert_eq!(VerifyingKey::from_bytes(&bytes), Err(JwtError::InvalidKey));
    }
    let x = key().verifying_key().x();
    for bad in [
        format!("{x}="),
        x[1..].to_owned(),
        format!("{x}A"),
        String::new(),
    ] {
        assert_eq!(VerifyingKey::from_x(&bad), Err(JwtError::InvalidKey));
    }
    assert_eq!(JwtError::InvalidKey.code(), "jwt_invalid_key");
}

/// `header_kid` and `verify` are total: whatever the text, they answer, never panic.
/// Native only: proptest needs `std`'s process and time facilities.
#[cfg(not(target_arch = "wasm32"))]
mod totality {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn verify_never_panics_on_any_text(text in any::<String>()) {
            let _ = header_kid(&text);
            let _ = verify(&text, &key().verifying_key(), &now());
        }

        #[test]
        fn verify_never_panics_on_jws_shaped_text(
            header in "[A-Za-z0-9_-]{0,80}",
            payload in "[A-Za-z0-9_-]{0,200}",
            signature in "[A-Za-z0-9_-]{0,90}",
        ) {
            let text = format!("{header}.{payload}.{signature}");
            let _ = header_kid(&text);
            let _ = verify(&text, &key().verifying_key(), &now());
        }

        #[test]
        fn any_one_character_change_is_refused(at in any::<prop::sample::Index>(), c in "[A-Za-z0-9_.=-]") {
            let token = sign(&key(), KID, &claims());
            let at = at.index(token.len());
            let mut changed = token.clone();
            changed.replace_range(at..=at, &c);
            prop_assume!(changed != token);
            prop_assert!(verify(&changed, &key().verifying_key(), &now()).is_err());
        }
    }
}
