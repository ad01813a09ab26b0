//! Email verification tokens (SPEC §3): `{p}v_` + base64url(32 bytes), stored only as
//! a keyed hash, valid 24 hours and once. The link carries the token; a resend retires
//! every earlier one (the worker does that in storage).

use alloc::format;
use core::fmt;

use crate::api_key::KeyPrefix;
use crate::digest::{Digest32, keyed_token_hash};
use crate::encoding::{b64url_decode_exact, b64url_encode};
use crate::error::ErrorCode;
use crate::secret::{SecretString, random_bytes};

/// How long a verification link works.
pub const LIFETIME_SECS: u64 = 24 * 60 * 60;

/// A verification token, held as a secret.
#[derive(Debug)]
pub struct EmailToken(SecretString);

/// A presented string is not a token of this deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedEmailToken;

impl fmt::Display for MalformedEmailToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a verification token of this deployment")
    }
}

impl core::error::Error for MalformedEmailToken {}

impl ErrorCode for MalformedEmailToken {
    fn code(&self) -> &'static str {
        "malformed_email_token"
    }
}

impl EmailToken {
    /// Mints a token.
    pub fn generate(prefix: &KeyPrefix, rng: &mut impl rand_core::CryptoRng) -> Self {
        let bytes = random_bytes::<32>(rng);
        let body = zeroize::Zeroizing::new(b64url_encode(bytes.as_ref()));
        Self(SecretString::new(format!("{}v_{}", prefix.as_str(), *body)))
    }

    /// Parses a presented token strictly: this prefix, `v_`, canonical base64url of
    /// exactly 32 bytes.
    pub fn parse(prefix: &KeyPrefix, text: &str) -> Result<Self, MalformedEmailToken> {
        let body = text
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_prefix("v_"))
            .ok_or(MalformedEmailToken)?;
        b64url_decode_exact::<32>(body).ok_or(MalformedEmailToken)?;
        Ok(Self(SecretString::new(text.into())))
    }

    /// The token, to put in the link: sent once, never stored.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The stored value: HMAC-SHA256 under the server's hash secret.
    #[must_use]
    pub fn keyed_hash(&self, hash_secret: &[u8]) -> Digest32 {
        keyed_token_hash(hash_secret, self.0.expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRng;
    use alloc::string::String;

    fn prefix() -> KeyPrefix {
        KeyPrefix::new("atom").expect("valid prefix")
    }

    #[test]
    fn generated_tokens_parse_back_and_hash_stably() {
        let token = EmailToken::generate(&prefix(), &mut SeededRng::new(7));
        assert!(token.expose().starts_with("atomv_"));
        assert_eq!(token.expose().len(), "atomv_".len() + 43);
        let parsed = EmailToken::parse(&prefix(), token.expose()).expect("parses");
        assert_eq!(parsed.keyed_hash(b"k"), token.keyed_hash(b"k"));
        assert_ne!(parsed.keyed_hash(b"k"), token.keyed_hash(b"other"));
    }

    #[test]
    fn foreign_and_malformed_tokens_are_refused() {
        let token = EmailToken::generate(&prefix(), &mut SeededRng::new(8));
        let body = &token.expose()["atomv_".len()..];
        for bad in [
            format!("ptmcv_{body}"),
            format!("atom_{body}"),
            format!("atomv_{}", &body[1..]),
            format!("atomv_{body}A"),
            format!("atomv_{}=", body),
            String::new(),
        ] {
            assert_eq!(
                EmailToken::parse(&prefix(), &bad).err(),
                Some(MalformedEmailToken),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_does_not_show_the_token() {
        let token = EmailToken::generate(&prefix(), &mut SeededRng::new(9));
        assert!(!format!("{token:?}").contains(&token.expose()[6..]));
    }
}
