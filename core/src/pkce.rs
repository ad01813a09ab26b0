//! PKCE (RFC 7636) with the S256 method only.
//!
//! `plain` is refused on purpose (OAuth 2.1 and RFC 9700 §2.1.1): it protects nothing
//! against an attacker who can read the authorization request. A [`CodeVerifier`] is
//! not `Clone` and prints redacted, like oauth2-rs's `PkceCodeVerifier`.

use alloc::string::{String, ToString};
use core::fmt;

use crate::digest::sha256;
use crate::encoding::{b64url_decode_exact, b64url_encode};
use crate::secret::{SecretString, ct_eq, random_bytes};

/// Why a PKCE value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PkceError {
    /// `code_challenge_method` other than `S256` (including `plain`).
    UnsupportedMethod,
    /// A challenge that is not base64url(SHA-256) (43 canonical characters).
    MalformedChallenge,
    /// A verifier outside 43–128 characters of `[A-Za-z0-9-._~]`.
    MalformedVerifier,
}

impl crate::error::ErrorCode for PkceError {
    fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedMethod => "unsupported_challenge_method",
            Self::MalformedChallenge => "malformed_code_challenge",
            Self::MalformedVerifier => "malformed_code_verifier",
        }
    }
}

impl fmt::Display for PkceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnsupportedMethod => "code_challenge_method must be S256",
            Self::MalformedChallenge => "code_challenge must be 43 base64url characters",
            Self::MalformedVerifier => "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]",
        })
    }
}

impl core::error::Error for PkceError {}

/// A PKCE code verifier: 43–128 unreserved characters (RFC 7636 §4.1).
pub struct CodeVerifier(SecretString);

impl CodeVerifier {
    /// A fresh verifier: base64url of 32 random bytes (43 characters), as §4.1
    /// recommends.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
        let bytes = random_bytes::<32>(rng);
        Self(SecretString::new(b64url_encode(bytes.as_ref())))
    }

    /// Accepts a presented verifier if it has the RFC's syntax.
    pub fn parse(verifier: &str) -> Result<Self, PkceError> {
        let ok = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if ok {
            Ok(Self(SecretString::new(verifier.to_string())))
        } else {
            Err(PkceError::MalformedVerifier)
        }
    }

    /// The verifier text, to send to the token endpoint.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Its S256 challenge: `BASE64URL(SHA256(ASCII(verifier)))`.
    #[must_use]
    pub fn challenge(&self) -> CodeChallenge {
        CodeChallenge(b64url_encode(&sha256(self.0.expose().as_bytes())))
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

/// An S256 code challenge, as stored with an authorization code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Accepts `(code_challenge, code_challenge_method)` from an authorization request.
    /// A missing method is refused too: RFC 7636 would default it to `plain`.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, PkceError> {
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        b64url_decode_exact::<32>(challenge).ok_or(PkceError::MalformedChallenge)?;
        Ok(Self(challenge.to_string()))
    }

    /// The challenge text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` hashes to this challenge (constant-time comparison).
    #[must_use]
    pub fn verify(&self, verifier: &CodeVerifier) -> bool {
        ct_eq(verifier.challenge().0.as_bytes(), self.0.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRng;

    #[test]
    fn plain_and_missing_methods_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            CodeChallenge::parse(c, Some("plain")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(c, None),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse(c, Some("s256")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            CodeChallenge::parse("short", Some("S256")),
            Err(PkceError::MalformedChallenge)
        );
    }

    #[test]
    fn verifier_syntax() {
        assert!(CodeVerifier::parse(&"a".repeat(42)).is_err());
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
        assert!(CodeVerifier::parse(&"~".repeat(128)).is_ok());
        assert!(CodeVerifier::parse(&"a".repeat(129)).is_err());
        assert!(CodeVerifier::parse(&alloc::format!("{}+", "a".repeat(43))).is_err());
    }

    #[test]
    fn generated_verifiers_verify() {
        let v = CodeVerifier::generate(&mut SeededRng::new(5));
        assert_eq!(v.expose().len(), 43);
        assert!(v.challenge().verify(&v));
        let other = CodeVerifier::generate(&mut SeededRng::new(6));
        assert!(!v.challenge().verify(&other));
        assert_eq!(alloc::format!("{v:?}"), "CodeVerifier([redacted])");
    }
}
