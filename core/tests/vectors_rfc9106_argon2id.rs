//! RFC 9106 §5.3 (Argon2id test vector), verbatim, and the two profiles' round trips.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use hex_literal::hex;
use keyward_core::password::{self, Argon2Profile};
use keyward_core::testing::SeededRng;

#[test]
fn rfc9106_section_5_3_argon2id() {
    // Memory: 32 KiB, Passes: 3, Parallelism: 4 lanes, Tag length: 32 bytes.
    let profile = Argon2Profile {
        m_cost_kib: 32,
        t_cost: 3,
        p_cost: 4,
    };
    let tag = password::argon2id_raw(
        &hex!("01010101010101010101010101010101 01010101010101010101010101010101"),
        &hex!("02020202020202020202020202020202"),
        &hex!("0303030303030303"),
        &hex!("040404040404040404040404"),
        profile,
        32,
    )
    .expect("RFC parameters are valid");
    assert_eq!(
        tag,
        hex!(
            "0d 64 0d f5 8d 78 76 6c 08 c0 37 a3 4a 8b 53 c9
             d0 1e f0 45 2d 75 b6 5e b5 25 20 e9 6b 01 e6 59"
        )
    );
}

#[test]
fn both_profiles_round_trip_and_record_their_parameters() {
    let mut rng = SeededRng::new(42);
    for profile in [Argon2Profile::PASSWORD, Argon2Profile::LIGHT] {
        let stored = password::hash(b"s3cur3-p@ssw0rd", profile, &mut rng).expect("hashes");
        let expected_params = format!(
            "m={},t={},p={}",
            profile.m_cost_kib, profile.t_cost, profile.p_cost
        );
        assert!(stored.contains(&expected_params), "{stored}");
        assert_eq!(password::verify(b"s3cur3-p@ssw0rd", &stored), Ok(true));
        assert_eq!(password::verify(b"s3cur3-p@ssw0rD", &stored), Ok(false));
        assert!(!password::needs_rehash(&stored, profile));
    }
}

#[test]
fn a_light_hash_needs_rehash_under_the_password_profile() {
    let stored =
        password::hash(b"x", Argon2Profile::LIGHT, &mut SeededRng::new(1)).expect("hashes");
    assert!(password::needs_rehash(&stored, Argon2Profile::PASSWORD));
}
