//! RFC 4648 §10 test vectors, in the base64url alphabet without padding (§5, §3.2):
//! the encodings are the RFC's with the trailing `=` removed (the alphabets agree on
//! these inputs), plus the padded standard forms verbatim.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use keyward_core::encoding::{b64_decode, b64_encode, b64url_decode, b64url_encode};

const VECTORS: [(&str, &str); 7] = [
    ("", ""),
    ("f", "Zg=="),
    ("fo", "Zm8="),
    ("foo", "Zm9v"),
    ("foob", "Zm9vYg=="),
    ("fooba", "Zm9vYmE="),
    ("foobar", "Zm9vYmFy"),
];

#[test]
fn standard_base64_with_padding_verbatim() {
    for (plain, encoded) in VECTORS {
        assert_eq!(b64_encode(plain.as_bytes()), encoded);
        assert_eq!(b64_decode(encoded).as_deref(), Some(plain.as_bytes()));
    }
}

#[test]
fn base64url_without_padding() {
    for (plain, encoded) in VECTORS {
        let unpadded = encoded.trim_end_matches('=');
        assert_eq!(b64url_encode(plain.as_bytes()), unpadded);
        assert_eq!(b64url_decode(unpadded).as_deref(), Some(plain.as_bytes()));
        if unpadded != encoded {
            assert_eq!(
                b64url_decode(encoded),
                None,
                "padding is refused: {encoded}"
            );
        }
    }
}

#[test]
fn url_alphabet_differs_from_standard_where_it_must() {
    assert_eq!(b64url_encode(&[0xfb, 0xff]), "-_8");
    assert_eq!(b64_encode(&[0xfb, 0xff]), "+/8=");
}
