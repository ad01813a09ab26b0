//! Webhook signatures in the Standard Webhooks scheme.
//!
//! A delivery carries three headers: `webhook-id` (stable across retries),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature` (a space-separated list of
//! `v1,<base64 HMAC-SHA256>`). The MAC is over `"{id}.{timestamp}.{body}"` under the
//! org's key; the key is shown to users as `whsec_` + base64(key bytes). Verification
//! accepts any listed `v1` signature (so a sender may sign with two keys during a
//! rotation), compares in constant time, and refuses timestamps further than the
//! tolerance from `now` in either direction, which bounds replays.

use alloc::format;
use alloc::string::String;
use core::fmt;

use crate::digest::hmac_sha256;
use crate::encoding::{b64_decode, b64_encode};
use crate::secret::{SecretBytes, SecretString, ct_eq, random_bytes};
use crate::time::UnixTime;

/// The tolerance the reference implementations use: five minutes either way.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;
/// The user-facing prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The longest `webhook-id` accepted.
const MAX_MSG_ID_LEN: usize = 256;
/// The longest `webhook-signature` header accepted (a few signatures).
const MAX_SIGNATURE_HEADER_LEN: usize = 1024;

/// Why a webhook was not verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// The secret is not `whsec_` + base64 of 24–64 bytes.
    MalformedSecret,
    /// `webhook-id` empty, too long or not printable ASCII.
    MalformedMessageId,
    /// `webhook-timestamp` is not a canonical decimal number of seconds.
    MalformedTimestamp,
    /// The timestamp is further from `now` than the tolerance.
    TimestampOutOfTolerance,
    /// No `v1` signature in the header matches.
    NoMatchingSignature,
}

impl crate::error::ErrorCode for WebhookError {
    fn code(&self) -> &'static str {
        match self {
            Self::MalformedSecret => "malformed_secret",
            Self::MalformedMessageId => "malformed_message_id",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
            Self::NoMatchingSignature => "no_matching_signature",
        }
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedSecret => {
                "webhook secret must be whsec_ followed by base64 of 24-64 bytes"
            }
            Self::MalformedMessageId => "webhook-id header is missing or malformed",
            Self::MalformedTimestamp => "webhook-timestamp header is missing or malformed",
            Self::TimestampOutOfTolerance => "webhook-timestamp is outside the allowed tolerance",
            Self::NoMatchingSignature => "no webhook signature matches",
        })
    }
}

impl core::error::Error for WebhookError {}

/// An org's signing key.
#[derive(Debug, PartialEq, Eq)]
pub struct WebhookSecret(SecretBytes);

impl WebhookSecret {
    /// A fresh 32-byte key.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
        Self(SecretBytes::new(random_bytes::<32>(rng).to_vec()))
    }

    /// Parses `whsec_<base64>`; the prefix may be omitted, as the reference
    /// implementations allow.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = b64_decode(b64).ok_or(WebhookError::MalformedSecret)?;
        if (24..=64).contains(&key.len()) {
            Ok(Self(SecretBytes::new(key)))
        } else {
            Err(WebhookError::MalformedSecret)
        }
    }

    /// The `whsec_…` text to hand to the user.
    #[must_use]
    pub fn to_text(&self) -> SecretString {
        SecretString::new(format!("{SECRET_PREFIX}{}", b64_encode(self.0.expose())))
    }

    /// The `v1,<base64>` signature of one delivery.
    #[must_use]
    pub fn sign(&self, msg_id: &str, timestamp: UnixTime, payload: &[u8]) -> String {
        let ts = format!("{}", timestamp.secs());
        format!("v1,{}", b64_encode(&self.mac(msg_id, &ts, payload)))
    }

    fn mac(&self, msg_id: &str, timestamp: &str, payload: &[u8]) -> [u8; 32] {
        hmac_sha256(
            self.0.expose(),
            &[msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", payload],
        )
    }

    /// Verifies a delivery from its three header values and its raw body.
    pub fn verify(
        &self,
        msg_id: &str,
        timestamp: &str,
        signatures: &str,
        payload: &[u8],
        now: UnixTime,
        tolerance_secs: u64,
    ) -> Result<(), WebhookError> {
        let printable = |s: &str| s.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if msg_id.is_empty() || msg_id.len() > MAX_MSG_ID_LEN || !printable(msg_id) {
            return Err(WebhookError::MalformedMessageId);
        }
        let sent = parse_timestamp(timestamp)?;
        if sent.abs_diff(now) > tolerance_secs {
            return Err(WebhookError::TimestampOutOfTolerance);
        }
        if signatures.len() > MAX_SIGNATURE_HEADER_LEN {
            return Err(WebhookError::NoMatchingSignature);
        }
        let expected = self.mac(msg_id, timestamp, payload);
        let mut matched = false;
        for candidate in signatures.split(' ') {
            let Some(sig) = candidate.strip_prefix("v1,") else {
                continue;
            };
            if let Some(bytes) = b64_decode(sig) {
                matched |= ct_eq(&bytes, &expected);
            }
        }
        if matched {
            Ok(())
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }
}

fn parse_timestamp(text: &str) -> Result<UnixTime, WebhookError> {
    let canonical = !text.is_empty()
        && text.len() <= 12
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(WebhookError::MalformedTimestamp);
    }
    text.parse()
        .map(UnixTime)
        .map_err(|_| WebhookError::MalformedTimestamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRng;

    #[test]
    fn round_trip_and_tamper() {
        let secret = WebhookSecret::generate(&mut SeededRng::new(1));
        let now = UnixTime(1_700_000_000);
        let sig = secret.sign("msg_1", now, b"{}");
        assert_eq!(
            secret.verify("msg_1", "1700000000", &sig, b"{}", now, 300),
            Ok(())
        );
        let both = format!("v1,bm9wZQ== {sig}");
        assert_eq!(
            secret.verify("msg_1", "1700000000", &both, b"{}", now, 300),
            Ok(())
        );
        assert_eq!(
            secret.verify("msg_1", "1700000000", &sig, b"{ }", now, 300),
            Err(WebhookError::NoMatchingSignature)
        );
        assert_eq!(
            secret.verify("msg_1", "1700000000", &sig, b"{}", now.plus(301), 300),
            Err(WebhookError::TimestampOutOfTolerance)
        );
        assert_eq!(
            secret.verify("msg_1", "01700000000", &sig, b"{}", now, 300),
            Err(WebhookError::MalformedTimestamp)
        );
        assert_eq!(
            secret.verify("", "1700000000", &sig, b"{}", now, 300),
            Err(WebhookError::MalformedMessageId)
        );
        let text = secret.to_text();
        assert_eq!(WebhookSecret::parse(text.expose()), Ok(secret));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            WebhookSecret::parse("whsec_c2hvcnQ="),
            Err(WebhookError::MalformedSecret)
        );
        assert_eq!(
            WebhookSecret::parse("whsec_!!"),
            Err(WebhookError::MalformedSecret)
        );
    }
}
