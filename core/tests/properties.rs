//! Property tests of the token formats: generation and parsing agree, only canonical
//! spellings parse, and the bearer router is total (never panics). Native only:
//! proptest needs `std`'s process and time facilities.
#![cfg(not(target_arch = "wasm32"))]

use keyward_core::api_key::{IdSecretKey, KeyPrefix, LookupKey};
use keyward_core::bearer::{Bearer, OAuthToken, OAuthTokenKind};
use keyward_core::encoding::{b64url_decode, b64url_encode};
use keyward_core::oauth::token::GrantId;
use keyward_core::testing::SeededRng;
use proptest::prelude::*;

fn prefix_strategy() -> impl Strategy<Value = KeyPrefix> {
    "[a-z][a-z0-9]{1,15}".prop_map(|p| KeyPrefix::new(&p).expect("strategy yields valid prefixes"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_generated_key_parses_back_to_itself(prefix in prefix_strategy(), seed in any::<u64>()) {
        let mut rng = SeededRng::new(seed);
        let lookup = LookupKey::generate(&prefix, &mut rng);
        let reparsed = LookupKey::parse(&prefix, lookup.expose());
        prop_assert_eq!(reparsed.as_ref(), Ok(&lookup));
        prop_assert_eq!(Bearer::route(lookup.expose(), &prefix), Ok(Bearer::LookupKey(lookup)));

        let id_secret = IdSecretKey::generate(&prefix, &mut rng);
        let reparsed = IdSecretKey::parse(&prefix, id_secret.expose());
        prop_assert_eq!(reparsed.as_ref(), Ok(&id_secret));
        prop_assert_eq!(Bearer::route(id_secret.expose(), &prefix), Ok(Bearer::IdSecretKey(id_secret)));

        let grant = GrantId::generate(&mut rng);
        let access = OAuthToken::generate(OAuthTokenKind::Access, grant, &prefix, &mut rng);
        prop_assert_eq!(Bearer::route(access.expose(), &prefix).map(|b| b.kind()), Ok("access_token"));
        let refresh = OAuthToken::generate(OAuthTokenKind::Refresh, grant, &prefix, &mut rng);
        prop_assert_eq!(Bearer::route(refresh.expose(), &prefix).map(|b| b.kind()), Ok("refresh_token"));
    }

    #[test]
    fn a_parsed_lookup_body_is_the_canonical_encoding_of_its_bytes(body in "[A-Za-z0-9_-]{43}") {
        let prefix = KeyPrefix::new("ptmc").expect("valid");
        let token = format!("ptmc_{body}");
        if LookupKey::parse(&prefix, &token).is_ok() {
            let bytes = b64url_decode(&body).expect("parsed bodies decode");
            prop_assert_eq!(b64url_encode(&bytes), body);
        }
    }

    #[test]
    fn non_canonical_spellings_never_parse(seed in any::<u64>(), pos in 0usize..32) {
        let prefix = KeyPrefix::new("atom").expect("valid");
        let mut rng = SeededRng::new(seed);
        // Lookup: flip the last character to one with a non-zero unused low bit.
        let key = LookupKey::generate(&prefix, &mut rng);
        let mut chars: Vec<char> = key.expose().chars().collect();
        let last = chars.len() - 1;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.iter().position(|&c| c as char == chars[last]).expect("b64url char");
        chars[last] = alphabet[(idx & !0b11) | 0b01] as char;
        let non_canonical: String = chars.into_iter().collect();
        prop_assert!(LookupKey::parse(&prefix, &non_canonical).is_err());
        let padded = format!("{}=", key.expose());
        prop_assert!(LookupKey::parse(&prefix, &padded).is_err());
        // id_secret: any uppercase hex digit is refused.
        let key = IdSecretKey::generate(&prefix, &mut rng);
        let upper: String = key
            .expose()
            .char_indices()
            .map(|(i, c)| if i == 5 + pos { 'A' } else { c })
            .collect();
        prop_assert!(IdSecretKey::parse(&prefix, &upper).is_err());
    }

    #[test]
    fn the_router_never_panics_on_arbitrary_text(token in any::<String>()) {
        let prefix = KeyPrefix::new("prim").expect("valid");
        let _ = Bearer::route(&token, &prefix);
        let _ = keyward_core::bearer::token_from_header(Some(&token));
        let _ = keyward_core::api_key::key_prefix(&token);
    }

    #[test]
    fn the_router_never_panics_on_prefixed_noise(noise in "[ -~]{0,120}", sub in prop::sample::select(vec!["", "oat_", "ort_"])) {
        let prefix = KeyPrefix::new("prim").expect("valid");
        let _ = Bearer::route(&format!("prim_{sub}{noise}"), &prefix);
        let _ = Bearer::route(&format!("eyJ{noise}"), &prefix);
    }
}
