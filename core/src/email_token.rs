//! Tokens sent by mail (SPEC §3): `{p}` + a letter for the purpose + `_` + base64url
//! of 32 random bytes, stored only as a keyed hash, single use, with a lifetime per
//! purpose:
//!
//! | purpose | shape | lifetime |
//! |---|---|---|
//! | email verification | `{p}v_…` | 24 hours |
//! | invitation to an org | `{p}i_…` | 7 days |
//! | password reset | `{p}r_…` | 1 hour |
//!
//! The mailed link or message carries the token; a newer token of the same purpose
//! retires every earlier one (the worker does that in storage). The letter keeps the
//! purposes apart: a verification token is never accepted as a reset token.

use alloc::format;
use core::fmt;

use crate::api_key::KeyPrefix;
use crate::digest::{Digest32, keyed_token_hash};
use crate::encoding::{b64url_decode_exact, b64url_encode};
use crate::error::ErrorCode;
use crate::secret::{SecretString, random_bytes};

/// What a mailed token is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPurpose {
    /// Proves the address of an account (`{p}v_`).
    Verification,
    /// Joins an org, creating the account if the address has none (`{p}i_`).
    Invitation,
    /// Sets a new password for the account of the address (`{p}r_`).
    PasswordReset,
}

impl TokenPurpose {
    /// The letter after the deployment prefix.
    #[must_use]
    pub const fn letter(self) -> &'static str {
        match self {
            Self::Verification => "v",
            Self::Invitation => "i",
            Self::PasswordReset => "r",
        }
    }

    /// How long a token of this purpose works, in seconds.
    #[must_use]
    pub const fn lifetime_secs(self) -> u64 {
        match self {
            Self::Verification => 24 * 60 * 60,
            Self::Invitation => 7 * 24 * 60 * 60,
            Self::PasswordReset => 60 * 60,
        }
    }
}

/// A mailed token, held as a secret.
#[derive(Debug)]
pub struct EmailToken(SecretString);

/// A presented string is not a token of this deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedEmailToken;

impl fmt::Display for MalformedEmailToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a token of this deployment and purpose")
    }
}

impl core::error::Error for MalformedEmailToken {}

impl ErrorCode for MalformedEmailToken {
    fn code(&self) -> &'static str {
        "malformed_email_token"
    }
}

impl EmailToken {
    /// Mints a token for `purpose`.
    pub fn generate(
        purpose: TokenPurpose,
        prefix: &KeyPrefix,
        rng: &mut impl rand_core::CryptoRng,
    ) -> Self {
        let bytes = random_bytes::<32>(rng);
        let body = zeroize::Zeroizing::new(b64url_encode(bytes.as_ref()));
        Self(SecretString::new(format!(
            "{}{}_{}",
            prefix.as_str(),
            purpose.letter(),
            *body
        )))
    }

    /// Parses a presented token strictly: this prefix, the purpose's letter, `_`,
    /// canonical base64url of exactly 32 bytes.
    pub fn parse(
        purpose: TokenPurpose,
        prefix: &KeyPrefix,
        text: &str,
    ) -> Result<Self, MalformedEmailToken> {
        let body = text
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_prefix(purpose.letter()))
            .and_then(|rest| rest.strip_prefix('_'))
            .ok_or(MalformedEmailToken)?;
        b64url_decode_exact::<32>(body).ok_or(MalformedEmailToken)?;
        Ok(Self(SecretString::new(text.into())))
    }

    /// The token, to put in the link or message: sent once, never stored.
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

    const V: TokenPurpose = TokenPurpose::Verification;

    #[test]
    fn generated_tokens_parse_back_and_hash_stably() {
        let token = EmailToken::generate(V, &prefix(), &mut SeededRng::new(7));
        assert!(token.expose().starts_with("atomv_"));
        assert_eq!(token.expose().len(), "atomv_".len() + 43);
        let parsed = EmailToken::parse(V, &prefix(), token.expose()).expect("parses");
        assert_eq!(parsed.keyed_hash(b"k"), token.keyed_hash(b"k"));
        assert_ne!(parsed.keyed_hash(b"k"), token.keyed_hash(b"other"));
    }

    #[test]
    fn foreign_and_malformed_tokens_are_refused() {
        let token = EmailToken::generate(V, &prefix(), &mut SeededRng::new(8));
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
                EmailToken::parse(V, &prefix(), &bad).err(),
                Some(MalformedEmailToken),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_does_not_show_the_token() {
        let token = EmailToken::generate(V, &prefix(), &mut SeededRng::new(9));
        assert!(!format!("{token:?}").contains(&token.expose()[6..]));
    }

    #[test]
    fn purposes_are_kept_apart_and_have_their_lifetimes() {
        let purposes = [
            (TokenPurpose::Verification, "atomv_", 86_400),
            (TokenPurpose::Invitation, "atomi_", 604_800),
            (TokenPurpose::PasswordReset, "atomr_", 3_600),
        ];
        for (n, (purpose, shape, lifetime)) in purposes.into_iter().enumerate() {
            let token =
                EmailToken::generate(purpose, &prefix(), &mut SeededRng::new(10 + n as u64));
            assert!(token.expose().starts_with(shape));
            assert_eq!(purpose.lifetime_secs(), lifetime);
            for (other, _, _) in purposes {
                assert_eq!(
                    EmailToken::parse(other, &prefix(), token.expose()).is_ok(),
                    other == purpose,
                    "{shape} as {other:?}"
                );
            }
        }
    }
}
