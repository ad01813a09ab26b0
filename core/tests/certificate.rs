//! Client certificates (`keyward_core::certificate`) against certificates made by the
//! `openssl` CLI (OpenSSL 3.0.19), with every expected value printed by openssl itself.
//!
//! The fixtures in `tests/fixtures/` were made with (private keys and the CSR deleted
//! afterwards; only the certificates are kept):
//!
//! ```sh
//! openssl req -x509 -newkey ed25519 -keyout ed.key -nodes -subj "/O=Acme/CN=device-01" \
//!   -days 365 -set_serial 0x8a1b2c3d4e5f60718293a4b5c6d7e8f901234567 -out ed25519-device.pem
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout ec.key -nodes \
//!   -subj "/C=DE/O=Acme, Inc./OU=Services/CN=billing.example" -days 36500 -set_serial 1 \
//!   -out p256-service.pem
//! openssl req -new -newkey rsa:2048 -keyout rsa.key -nodes -subj "/CN=legacy-v1" -out rsa.csr
//! openssl x509 -req -in rsa.csr -signkey rsa.key -days 30 -set_serial 0x00ff -out rsa-v1.pem
//! ```
//!
//! and the expected values come from, verbatim:
//!
//! ```sh
//! openssl x509 -in F.pem -noout -fingerprint -sha256 -subject -issuer -serial -dates
//! openssl x509 -in F.pem -noout -subject -issuer -nameopt RFC2253   # the RFC 4514 form
//! date -u -d "Nov 22 22:20:14 2026 GMT" +%s                         # dates as Unix time
//! ```

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use keyward_core::ErrorCode;
use keyward_core::certificate::{
    CertificateError, CertificateInfo, MAX_PEM_BYTES, parse_fingerprint, parse_pem,
};
use keyward_core::encoding::{b64_decode, b64_encode};
use keyward_core::time::UnixTime;

/// Ed25519, v3, a 20-byte serial with its top bit set (DER stores 21 bytes).
const ED25519: &str = include_str!("fixtures/ed25519-device.pem");
/// P-256, v3, a comma in the organisation, notAfter in 2126 (a GeneralizedTime).
const P256: &str = include_str!("fixtures/p256-service.pem");
/// RSA-2048, X.509 version 1.
const RSA_V1: &str = include_str!("fixtures/rsa-v1.pem");

/// The Ed25519 example private key of RFC 8410 §10.3: a published test key, used here
/// so that no real private key is ever committed.
const RFC8410_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";
/// The matching public key of RFC 8410 §10.1.
const RFC8410_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";

fn parsed(pem: &str) -> CertificateInfo {
    parse_pem(pem).expect("fixture parses")
}

/// The DER inside a single-block PEM.
fn der_of(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    b64_decode(&body).expect("fixture base64")
}

/// `der` armoured as a CERTIFICATE block with lines of `width` characters and `eol`.
fn armour(der: &[u8], width: usize, eol: &str) -> String {
    let b64 = b64_encode(der);
    let mut out = format!("-----BEGIN CERTIFICATE-----{eol}");
    for line in b64.as_bytes().chunks(width) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push_str(eol);
    }
    out.push_str("-----END CERTIFICATE-----");
    out.push_str(eol);
    out
}

#[test]
fn ed25519_certificate_matches_openssl() {
    // sha256 Fingerprint=C5:75:D4:B9:EE:A7:0E:FE:89:FB:C4:39:48:1A:45:EA:E1:D4:2C:8F:2E:B4:EC:A1:C3:30:40:E4:12:DC:ED:5A
    // subject=CN=device-01,O=Acme          (-nameopt RFC2253)
    // issuer=CN=device-01,O=Acme
    // serial=8A1B2C3D4E5F60718293A4B5C6D7E8F901234567
    // notBefore=Nov 22 22:20:14 2026 GMT   (1795386014)
    // notAfter=Nov 22 22:20:14 2027 GMT    (1826922014)
    let info = parsed(ED25519);
    assert_eq!(
        info.fingerprint_hex(),
        "c575d4b9eea70efe89fbc439481a45eae1d42c8f2eb4eca1c33040e412dced5a"
    );
    assert_eq!(
        parse_fingerprint(
            "C5:75:D4:B9:EE:A7:0E:FE:89:FB:C4:39:48:1A:45:EA:E1:D4:2C:8F:2E:B4:EC:A1:C3:30:40:E4:12:DC:ED:5A"
        ),
        Ok(info.fingerprint)
    );
    assert_eq!(info.subject, "CN=device-01,O=Acme");
    assert_eq!(info.issuer, "CN=device-01,O=Acme");
    assert_eq!(info.serial_hex, "8a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
    assert_eq!(info.not_before, UnixTime(1_795_386_014));
    assert_eq!(info.not_after, UnixTime(1_826_922_014));
    assert_eq!(info.not_before.to_rfc3339(), "2026-11-22T22:20:14Z");
}

#[test]
fn p256_certificate_matches_openssl() {
    // sha256 Fingerprint=DD:78:DD:B5:32:41:26:44:25:37:9E:9A:05:82:DE:39:CC:69:A0:A8:B3:AB:54:AD:3E:00:CC:0E:CF:40:28:1C
    // subject=CN=billing.example,OU=Services,O=Acme\, Inc.,C=DE   (-nameopt RFC2253)
    // issuer=CN=billing.example,OU=Services,O=Acme\, Inc.,C=DE
    // serial=01
    // notBefore=Nov 22 22:20:14 2026 GMT   (1795386014)
    // notAfter=Oct 29 22:20:14 2126 GMT    (4948986014)
    let info = parsed(P256);
    assert_eq!(
        info.fingerprint,
        parse_fingerprint(
            "DD:78:DD:B5:32:41:26:44:25:37:9E:9A:05:82:DE:39:CC:69:A0:A8:B3:AB:54:AD:3E:00:CC:0E:CF:40:28:1C"
        )
        .expect("openssl's form parses")
    );
    assert_eq!(
        info.fingerprint_hex(),
        "dd78ddb53241264425379e9a0582de39cc69a0a8b3ab54ad3e00cc0ecf40281c"
    );
    assert_eq!(
        info.subject,
        r"CN=billing.example,OU=Services,O=Acme\, Inc.,C=DE"
    );
    assert_eq!(info.issuer, info.subject);
    assert_eq!(info.serial_hex, "01");
    assert_eq!(info.not_before, UnixTime(1_795_386_014));
    assert_eq!(info.not_after, UnixTime(4_948_986_014));
}

#[test]
fn version_1_certificates_are_refused() {
    // openssl x509 -text: "Version: 1 (0x0)"; the DER itself is well-formed.
    assert_eq!(parse_pem(RSA_V1), Err(CertificateError::UnsupportedVersion));
}

#[test]
fn whitespace_line_endings_and_line_width_do_not_matter() {
    let expected = parsed(ED25519);
    let der = der_of(ED25519);
    for pem in [
        format!("\n\n  {ED25519}\n\t "),
        ED25519.replace('\n', "\r\n"),
        armour(&der, 76, "\n"),
        armour(&der, 64, "\r\n"),
        ED25519.trim_end().to_string(),
    ] {
        assert_eq!(parse_pem(&pem), Ok(expected.clone()), "{pem:?}");
    }
}

#[test]
fn private_keys_are_refused_with_their_own_code() {
    assert_eq!(
        parse_pem(RFC8410_PRIVATE_KEY),
        Err(CertificateError::PrivateKey)
    );
    // A certificate bundled with its key is reported as the key, not as two blocks.
    let bundle = format!("{ED25519}{RFC8410_PRIVATE_KEY}");
    assert_eq!(parse_pem(&bundle), Err(CertificateError::PrivateKey));
    let legacy = RFC8410_PRIVATE_KEY.replace("PRIVATE KEY", "EC PRIVATE KEY");
    assert_eq!(parse_pem(&legacy), Err(CertificateError::PrivateKey));
}

#[test]
fn other_labels_are_refused() {
    assert_eq!(
        parse_pem(RFC8410_PUBLIC_KEY),
        Err(CertificateError::WrongLabel)
    );
    let csr_label = ED25519.replace("CERTIFICATE", "CERTIFICATE REQUEST");
    assert_eq!(parse_pem(&csr_label), Err(CertificateError::WrongLabel));
}

#[test]
fn exactly_one_block_is_accepted() {
    let chain = format!("{ED25519}{P256}");
    assert_eq!(parse_pem(&chain), Err(CertificateError::MultipleBlocks));
}

#[test]
fn anything_that_is_not_a_lone_pem_block_is_refused() {
    for bad in [
        String::new(),
        "   \n\t".to_string(),
        "MIIBXDCCAQ6gAwIBAgIVAIobLD1OX2BxgpOktcbX6PkBI0VnMAUGAytlcDAj".to_string(),
        format!("{ED25519}trailing garbage"),
        format!("Certificate:\n{ED25519}"),
        ED25519.replace("-----END CERTIFICATE-----", "-----END CERTIFICATE"),
        ED25519.replace("-----END CERTIFICATE-----", ""),
        // Armour with nothing inside is not a PEM block (RFC 7468 needs the base64 line).
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".to_string(),
    ] {
        assert_eq!(parse_pem(&bad), Err(CertificateError::NotPem), "{bad:?}");
    }
}

#[test]
fn broken_contents_are_malformed() {
    let der = der_of(ED25519);
    let garbage_base64 =
        "-----BEGIN CERTIFICATE-----\n!!!!not*base64!!!!\n-----END CERTIFICATE-----\n";
    let truncated = armour(&der[..der.len() - 10], 64, "\n");
    let mut trailing = der.clone();
    trailing.push(0);
    let not_a_certificate = armour(b"\x30\x03\x02\x01\x01", 64, "\n");
    for bad in [
        garbage_base64.to_string(),
        truncated,
        armour(&trailing, 64, "\n"),
        not_a_certificate,
    ] {
        assert_eq!(parse_pem(&bad), Err(CertificateError::Malformed), "{bad:?}");
    }
}

#[test]
fn input_over_16_kib_is_refused_before_parsing() {
    let padded = format!("{ED25519}{}", " ".repeat(MAX_PEM_BYTES - ED25519.len()));
    assert_eq!(padded.len(), 16 * 1024);
    assert!(parse_pem(&padded).is_ok(), "16 KiB exactly is accepted");
    let over = format!("{padded} ");
    assert_eq!(parse_pem(&over), Err(CertificateError::TooLarge));
}

#[test]
fn fingerprints_parse_in_cloudflare_and_openssl_forms() {
    let bytes: [u8; 32] = core::array::from_fn(|i| (i as u8) * 8 + 1);
    let lower = "0109111921293139414951596169717981899199a1a9b1b9c1c9d1d9e1e9f1f9";
    let upper_colons = "01:09:11:19:21:29:31:39:41:49:51:59:61:69:71:79:81:89:91:99:A1:A9:B1:B9:C1:C9:D1:D9:E1:E9:F1:F9";
    for good in [
        lower.to_string(),
        lower.to_uppercase(),
        upper_colons.to_string(),
        upper_colons.to_lowercase(),
        format!(" {lower}\n"),
    ] {
        assert_eq!(parse_fingerprint(&good), Ok(bytes), "{good}");
    }
}

#[test]
fn malformed_fingerprints_are_refused() {
    let lower = "0109111921293139414951596169717981899199a1a9b1b9c1c9d1d9e1e9f1f9";
    let colons = "01:09:11:19:21:29:31:39:41:49:51:59:61:69:71:79:81:89:91:99:a1:a9:b1:b9:c1:c9:d1:d9:e1:e9:f1:f9";
    for bad in [
        String::new(),
        lower[..63].to_string(),
        format!("{lower}0"),
        format!("{}g", &lower[..63]),
        lower.replacen('a', "\u{e9}", 1),
        colons[..colons.len() - 1].to_string(),
        format!("{colons}:"),
        format!(":{colons}"),
        colons.replacen(':', "", 1),
        colons.replacen(":09:", ":0:9", 1),
        colons.replacen(':', "::", 1),
        format!("{}:{}", &lower[..32], &lower[32..]),
        colons.replace(':', "-"),
        colons.replace(':', " "),
        format!("sha256 Fingerprint={}", colons.to_uppercase()),
    ] {
        assert_eq!(
            parse_fingerprint(&bad),
            Err(CertificateError::FingerprintMalformed),
            "{bad}"
        );
    }
}

#[test]
fn every_error_has_a_stable_code_and_a_reason() {
    let expected = [
        (CertificateError::TooLarge, "certificate_too_large"),
        (CertificateError::NotPem, "certificate_not_pem"),
        (
            CertificateError::MultipleBlocks,
            "certificate_multiple_blocks",
        ),
        (CertificateError::PrivateKey, "certificate_private_key"),
        (CertificateError::WrongLabel, "certificate_wrong_label"),
        (CertificateError::Malformed, "certificate_malformed"),
        (
            CertificateError::UnsupportedVersion,
            "certificate_unsupported_version",
        ),
        (
            CertificateError::FingerprintMalformed,
            "fingerprint_malformed",
        ),
    ];
    for (error, code) in expected {
        assert_eq!(error.code(), code);
        assert!(!error.to_string().is_empty(), "{code} has a reason");
    }
}
