//! PBKDF2-HMAC-SHA256 known answers.
//!
//! - RFC 7914 §11 ("Test Vectors for PBKDF2 with HMAC-SHA-256"), both vectors.
//! - The RFC 6070 inputs run with HMAC-SHA-256 instead of SHA-1 (the widely used set
//!   first published alongside draft-josefsson-pbkdf2-test-vectors and reproduced by
//!   RustCrypto's `pbkdf2` tests), cross-checked against Python's `hashlib`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use hex_literal::hex;
use keyward_core::digest::pbkdf2_sha256;

fn derive(password: &[u8], salt: &[u8], c: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    pbkdf2_sha256(password, salt, c, &mut out);
    out
}

#[test]
fn rfc7914_section_11_first_vector() {
    assert_eq!(
        derive(b"passwd", b"salt", 1, 64),
        hex!(
            "55 ac 04 6e 56 e3 08 9f ec 16 91 c2 25 44 b6 05
             f9 41 85 21 6d de 04 65 e6 8b 9d 57 c2 0d ac bc
             49 ca 9c cc f1 79 b6 45 99 16 64 b3 9d 77 ef 31
             7c 71 b8 45 b1 e3 0b d5 09 11 20 41 d3 a1 97 83"
        )
    );
}

#[test]
fn rfc7914_section_11_second_vector() {
    assert_eq!(
        derive(b"Password", b"NaCl", 80000, 64),
        hex!(
            "4d dc d8 f6 0b 98 be 21 83 0c ee 5e f2 27 01 f9
             64 1a 44 18 d0 4c 04 14 ae ff 08 87 6b 34 ab 56
             a1 d4 25 a1 22 58 33 54 9a db 84 1b 51 c9 b3 17
             6a 27 2b de bb a1 d0 78 47 8f 62 b3 97 f3 3c 8d"
        )
    );
}

/// (password, salt, iterations, expected output)
type Case = (&'static [u8], &'static [u8], u32, &'static [u8]);

#[test]
fn rfc6070_inputs_with_sha256() {
    let cases: [Case; 5] = [
        (
            b"password",
            b"salt",
            1,
            &hex!("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
        ),
        (
            b"password",
            b"salt",
            2,
            &hex!("ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
        ),
        (
            b"password",
            b"salt",
            4096,
            &hex!("c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
        ),
        (
            b"passwordPASSWORDpassword",
            b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
            4096,
            &hex!(
                "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"
            ),
        ),
        (
            b"pass\0word",
            b"sa\0lt",
            4096,
            &hex!("89b69d0516f829893c696226650a8687"),
        ),
    ];
    for (password, salt, c, expected) in cases {
        assert_eq!(derive(password, salt, c, expected.len()), expected, "c={c}");
    }
}

#[test]
fn the_lookup_hash_is_pbkdf2_of_the_whole_key_salted_with_the_secret() {
    let key = "ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0";
    let expected = derive(key.as_bytes(), b"server-hash-secret", 1000, 32);
    assert_eq!(
        keyward_core::api_key::lookup_hash(key.as_bytes(), b"server-hash-secret", 1000).to_vec(),
        expected
    );
    // Cross-checked with Python: hashlib.pbkdf2_hmac("sha256", key, secret, 1000).
    assert_eq!(
        expected,
        hex!("da462fa1527b212ef316e36f2426ffc3dfa5ffd38ee50fe9e23558a24a76b2ff")
    );
}
