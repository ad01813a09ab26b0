//! Client certificates for mTLS: what Keyward stores about a `certificate` credential and
//! how it recognises one later.
//!
//! Keyward does not terminate TLS. At the edge, Cloudflare verifies the client's chain
//! and hands the Worker the leaf's SHA-256 fingerprint (`request.cf.tlsClientAuth
//! .certFingerprintSHA256`, lowercase hex); a certificate credential is therefore
//! identified by that fingerprint. Registering one means uploading the certificate as
//! PEM: [`parse_pem`] checks it is exactly one X.509 v3 certificate and extracts the
//! fingerprint plus the fields worth showing an administrator (subject, issuer, serial,
//! validity). Looking one up means reading a fingerprint in whichever spelling it comes:
//! [`parse_fingerprint`].
//!
//! Parsing is deliberately narrow. The input is one `CERTIFICATE` block and nothing else:
//! no chains (which certificate would the credential be?), no bundles with a key, no text
//! around the block. A private key is refused with its own code so the caller can tell the
//! user that the key left their hands and should be replaced.
//!
//! Nothing here verifies a signature or a chain: that is the TLS terminator's job, and the
//! fingerprint pins the exact certificate anyway.

use alloc::string::String;
use core::fmt::{self, Write as _};

use x509_cert::Certificate;
use x509_cert::der::Decode as _;

use crate::digest::sha256;
use crate::encoding::{hex_decode_exact, hex_encode};
use crate::time::UnixTime;

/// The largest PEM input accepted, in bytes. A client certificate is typically 0.5–2 KiB;
/// 16 KiB leaves room for long names and many extensions while bounding the work of an
/// upload.
pub const MAX_PEM_BYTES: usize = 16 * 1024;

/// The one PEM label accepted (RFC 7468 §5).
const LABEL: &str = "CERTIFICATE";

/// What Keyward keeps about a client certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the certificate's DER: the credential's identifier, the value
    /// Cloudflare reports for the presented client certificate.
    pub fingerprint: [u8; 32],
    /// The subject as an RFC 4514 string, most specific RDN first, e.g.
    /// `CN=device-01,O=Acme`.
    pub subject: String,
    /// The issuer, in the same form as `subject`.
    pub issuer: String,
    /// The serial number in lowercase hex, whole bytes, without DER's leading sign
    /// byte: `openssl x509 -serial` prints the same digits in uppercase.
    pub serial_hex: String,
    /// Start of the validity period.
    pub not_before: UnixTime,
    /// End of the validity period (inclusive, RFC 5280 §4.1.2.5).
    pub not_after: UnixTime,
}

impl CertificateInfo {
    /// The fingerprint as 64 lowercase hex digits without colons (Cloudflare's form).
    #[must_use]
    pub fn fingerprint_hex(&self) -> String {
        hex_encode(&self.fingerprint)
    }
}

/// Why a certificate or a fingerprint was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The input is larger than [`MAX_PEM_BYTES`].
    TooLarge,
    /// Empty, or not a PEM block: no `-----BEGIN …-----` line, broken armour, or text
    /// before or after the block.
    NotPem,
    /// More than one PEM block (a chain or a bundle): exactly one certificate is needed.
    MultipleBlocks,
    /// A private key: it must never be sent anywhere, and should be replaced now.
    PrivateKey,
    /// A PEM block of another kind (a public key, a CSR, …).
    WrongLabel,
    /// The block's base64 or its DER is not a well-formed X.509 certificate.
    Malformed,
    /// A well-formed certificate of version 1 or 2: only v3 is accepted.
    UnsupportedVersion,
    /// Not 64 hex digits, nor 32 colon-separated pairs of them.
    FingerprintMalformed,
}

impl crate::error::ErrorCode for CertificateError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "certificate_too_large",
            Self::NotPem => "certificate_not_pem",
            Self::MultipleBlocks => "certificate_multiple_blocks",
            Self::PrivateKey => "certificate_private_key",
            Self::WrongLabel => "certificate_wrong_label",
            Self::Malformed => "certificate_malformed",
            Self::UnsupportedVersion => "certificate_unsupported_version",
            Self::FingerprintMalformed => "fingerprint_malformed",
        }
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => write!(f, "certificate PEM must be at most {MAX_PEM_BYTES} bytes"),
            Self::NotPem => f.write_str(
                "expected one PEM block starting with -----BEGIN CERTIFICATE----- and nothing else",
            ),
            Self::MultipleBlocks => {
                f.write_str("expected exactly one certificate, not a chain or a bundle")
            }
            Self::PrivateKey => f.write_str(
                "this is a private key: send only the certificate, and replace the key",
            ),
            Self::WrongLabel => f.write_str("expected a CERTIFICATE PEM block"),
            Self::Malformed => f.write_str("the PEM block is not a well-formed X.509 certificate"),
            Self::UnsupportedVersion => f.write_str("only X.509 version 3 certificates are accepted"),
            Self::FingerprintMalformed => f.write_str(
                "fingerprint must be a SHA-256 as 64 hex digits, optionally in colon-separated pairs",
            ),
        }
    }
}

impl core::error::Error for CertificateError {}

/// Parses exactly one `CERTIFICATE` PEM block (surrounding whitespace allowed) holding an
/// X.509 v3 certificate.
pub fn parse_pem(pem: &str) -> Result<CertificateInfo, CertificateError> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(CertificateError::TooLarge);
    }
    let text = pem.trim();
    // Checked before anything else, so a certificate bundled with its key is reported
    // as the key it leaks rather than as "multiple blocks".
    if text.contains("PRIVATE KEY-----") {
        return Err(CertificateError::PrivateKey);
    }
    match text.matches("-----BEGIN ").count() {
        0 => return Err(CertificateError::NotPem),
        1 => {}
        _ => return Err(CertificateError::MultipleBlocks),
    }
    // RFC 7468 allows explanatory text around a block; a credential upload does not.
    if !text.starts_with("-----BEGIN ") || !text.ends_with("-----") {
        return Err(CertificateError::NotPem);
    }
    let label = pem_rfc7468::decode_label(text.as_bytes()).map_err(|_| CertificateError::NotPem)?;
    if label != LABEL {
        return Err(CertificateError::WrongLabel);
    }
    // Line width detected rather than fixed at 64: some tools wrap at 76. Certificates
    // are public, so the detection not being constant-time costs nothing.
    let mut decoder = pem_rfc7468::Decoder::new_detect_wrap(text.as_bytes())
        .map_err(|_| CertificateError::Malformed)?;
    let mut der = alloc::vec::Vec::new();
    decoder
        .decode_to_end(&mut der)
        .map_err(|_| CertificateError::Malformed)?;
    // `from_der` refuses trailing bytes, so the fingerprint below covers exactly the
    // certificate and nothing else.
    let cert = Certificate::from_der(&der).map_err(|_| CertificateError::Malformed)?;
    let tbs = cert.tbs_certificate();
    if tbs.version() != x509_cert::Version::V3 {
        return Err(CertificateError::UnsupportedVersion);
    }
    let validity = tbs.validity();
    Ok(CertificateInfo {
        fingerprint: sha256(&der),
        subject: display(tbs.subject())?,
        issuer: display(tbs.issuer())?,
        serial_hex: serial_hex(tbs.serial_number().as_bytes()),
        not_before: unix_time(validity.not_before),
        not_after: unix_time(validity.not_after),
    })
}

/// Parses a SHA-256 fingerprint: 64 hex digits in any case (Cloudflare sends lowercase),
/// or 32 colon-separated pairs (`openssl x509 -fingerprint -sha256` prints
/// `AB:CD:…`). Surrounding whitespace is ignored; nothing else is.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], CertificateError> {
    let s = s.trim();
    if s.contains(':') && !(s.len() == 32 * 3 - 1 && s.split(':').all(|pair| pair.len() == 2)) {
        return Err(CertificateError::FingerprintMalformed);
    }
    let digits: String = s
        .chars()
        .filter(|&c| c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex_decode_exact::<32>(&digits).ok_or(CertificateError::FingerprintMalformed)
}

/// A name in RFC 4514 form. Written through `fmt::Write` rather than `to_string` so that
/// a name `x509-cert` cannot display is a refusal, not a panic.
fn display(name: &x509_cert::name::Name) -> Result<String, CertificateError> {
    let mut out = String::new();
    write!(out, "{name}").map_err(|_| CertificateError::Malformed)?;
    Ok(out)
}

/// Lowercase hex of a DER INTEGER's content without the leading zero byte DER adds to
/// keep a positive number's top bit clear.
fn serial_hex(bytes: &[u8]) -> String {
    let magnitude = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => bytes,
    };
    hex_encode(magnitude)
}

fn unix_time(time: x509_cert::time::Time) -> UnixTime {
    UnixTime(time.to_unix_duration().as_secs())
}
