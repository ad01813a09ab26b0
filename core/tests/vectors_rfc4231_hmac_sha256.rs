//! RFC 4231 §4.2–§4.8: HMAC-SHA-256 test cases 1–7, verbatim.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use hex_literal::hex;
use keyward_core::digest::hmac_sha256;

#[test]
fn test_case_1() {
    assert_eq!(
        hmac_sha256(
            &hex!("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            &[b"Hi There"]
        ),
        hex!("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    );
}

#[test]
fn test_case_2_key_shorter_than_length_of_hmac_output() {
    assert_eq!(
        hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"]),
        hex!("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
}

#[test]
fn test_case_3_combined_length_of_key_and_data_larger_than_64_bytes() {
    assert_eq!(
        hmac_sha256(&[0xaa; 20], &[&[0xdd; 50]]),
        hex!("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
    );
}

#[test]
fn test_case_4() {
    assert_eq!(
        hmac_sha256(
            &hex!("0102030405060708090a0b0c0d0e0f10111213141516171819"),
            &[&[0xcd; 50]]
        ),
        hex!("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
    );
}

#[test]
fn test_case_5_truncation_to_128_bits() {
    let mac = hmac_sha256(&[0x0c; 20], &[b"Test With Truncation"]);
    assert_eq!(mac[..16], hex!("a3b6167473100ee06e0c796c2955552b"));
}

#[test]
fn test_case_6_key_larger_than_block_size() {
    assert_eq!(
        hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
        ),
        hex!("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    );
}

#[test]
fn test_case_7_key_and_data_larger_than_block_size() {
    let data = b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";
    assert_eq!(
        hmac_sha256(&[0xaa; 131], &[data]),
        hex!("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    );
}

#[test]
fn parts_are_concatenated() {
    assert_eq!(
        hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]),
        hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"])
    );
}
