//! OAuth token and code shapes (SPEC §3, as amended by issue 9). Each carries the id of
//! its grant before its secret, as `id_secret` keys carry their credential id, so the
//! grant is found in O(1) with no index and its one serialisation point (a Durable
//! Object per grant) answers in one hop:
//!
//! | what | shape | lifetime |
//! |---|---|---|
//! | access token | `{p}_oat_` + base64url(grant id ‖ secret) | 1 hour |
//! | refresh token | `{p}_ort_` + base64url(grant id ‖ secret) | 90 days, single use |
//! | authorization code | base64url(grant id ‖ secret) | 10 minutes, single use |
//!
//! The grant id is 16 random bytes, the secret 32; the body is 64 base64url characters.
//! Only a keyed hash of the whole token is stored ([`OAuthToken::keyed_hash`]): it covers
//! the kind too, so an access token's secret can never pass as a refresh token's.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use crate::api_key::{KeyPrefix, key_prefix};
use crate::digest::{Digest32, keyed_token_hash};
use crate::encoding::{b64url_decode_exact, b64url_encode, hex_encode};
use crate::secret::{SecretString, random_bytes};

/// Bytes of grant id, then of secret, in a token or code body.
const ID_LEN: usize = 16;
const SECRET_LEN: usize = 32;
const BODY_LEN: usize = ID_LEN + SECRET_LEN;

/// A grant's id: 16 random bytes, shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId([u8; ID_LEN]);

impl GrantId {
    /// A fresh grant id.
    pub fn generate(rng: &mut impl rand_core::CryptoRng) -> Self {
        Self(*random_bytes::<ID_LEN>(rng))
    }

    /// Parses 32 lowercase hex digits.
    #[must_use]
    pub fn parse_hex(text: &str) -> Option<Self> {
        crate::encoding::hex_decode_exact::<ID_LEN>(text).map(Self)
    }

    /// 32 lowercase hex digits: how storage and URLs name the grant.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }
}

impl fmt::Debug for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrantId({})", self.to_hex())
    }
}

/// Which kind of opaque OAuth token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthTokenKind {
    /// `{p}_oat_…`: one hour, presented to `/v1/*`.
    Access,
    /// `{p}_ort_…`: 90 days, single use, presented only to `/oauth/token`.
    Refresh,
}

impl OAuthTokenKind {
    /// What follows `{p}_`.
    pub(crate) const fn sub_prefix(self) -> &'static str {
        match self {
            Self::Access => "oat_",
            Self::Refresh => "ort_",
        }
    }
}

/// A presented token or code whose body is not base64url(grant id ‖ secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedOAuthToken;

/// An opaque OAuth token: `{p}_oat_` or `{p}_ort_` + base64url(grant id ‖ secret).
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthToken {
    kind: OAuthTokenKind,
    grant: GrantId,
    token: SecretString,
}

impl OAuthToken {
    /// Mints a fresh token of `kind` for `grant`.
    pub fn generate(
        kind: OAuthTokenKind,
        grant: GrantId,
        prefix: &KeyPrefix,
        rng: &mut impl rand_core::CryptoRng,
    ) -> Self {
        let body = body(grant, rng);
        let token = format!("{}_{}{}", prefix.as_str(), kind.sub_prefix(), *body);
        Self {
            kind,
            grant,
            token: SecretString::new(token),
        }
    }

    /// Parses the part after `{p}_oat_` or `{p}_ort_` strictly; `token` is the whole
    /// presented token.
    pub(crate) fn parse_body(
        kind: OAuthTokenKind,
        token: &str,
        body: &str,
    ) -> Result<Self, MalformedOAuthToken> {
        Ok(Self {
            kind,
            grant: grant_of(body)?,
            token: SecretString::new(token.to_string()),
        })
    }

    /// Access or refresh.
    #[must_use]
    pub fn kind(&self) -> OAuthTokenKind {
        self.kind
    }

    /// The grant the token belongs to (not yet checked against it).
    #[must_use]
    pub fn grant(&self) -> GrantId {
        self.grant
    }

    /// The full token: returned once, at issue.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.token.expose()
    }

    /// The stored value: HMAC-SHA256 of the whole token under the server's hash secret.
    #[must_use]
    pub fn keyed_hash(&self, hash_secret: &[u8]) -> Digest32 {
        keyed_token_hash(hash_secret, self.token.expose())
    }

    /// The first 12 characters: safe to log and show.
    #[must_use]
    pub fn key_prefix(&self) -> &str {
        key_prefix(self.token.expose())
    }
}

/// An authorization code: base64url(grant id ‖ secret), no prefix (RFC 6749 leaves its
/// shape to the server; clients treat it as opaque).
#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    grant: GrantId,
    code: SecretString,
}

impl AuthorizationCode {
    /// Mints a code for `grant`.
    pub fn generate(grant: GrantId, rng: &mut impl rand_core::CryptoRng) -> Self {
        Self {
            grant,
            code: SecretString::new(body(grant, rng).to_string()),
        }
    }

    /// Parses a presented code strictly: canonical base64url of exactly 48 bytes.
    pub fn parse(text: &str) -> Result<Self, MalformedOAuthToken> {
        Ok(Self {
            grant: grant_of(text)?,
            code: SecretString::new(text.to_string()),
        })
    }

    /// The grant the code names (not yet checked against it).
    #[must_use]
    pub fn grant(&self) -> GrantId {
        self.grant
    }

    /// The code, to put in the redirect: sent once, never stored.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.code.expose()
    }

    /// The stored value: HMAC-SHA256 under the server's hash secret, with a label that
    /// keeps a code's hash apart from any token's.
    #[must_use]
    pub fn keyed_hash(&self, hash_secret: &[u8]) -> Digest32 {
        crate::digest::hmac_sha256(hash_secret, &[b"code:", self.code.expose().as_bytes()])
    }
}

/// A fresh body for `grant`, zeroized when dropped.
fn body(grant: GrantId, rng: &mut impl rand_core::CryptoRng) -> zeroize::Zeroizing<String> {
    let secret = random_bytes::<SECRET_LEN>(rng);
    let mut bytes = zeroize::Zeroizing::new([0u8; BODY_LEN]);
    bytes[..ID_LEN].copy_from_slice(&grant.0);
    bytes[ID_LEN..].copy_from_slice(secret.as_ref());
    zeroize::Zeroizing::new(b64url_encode(bytes.as_ref()))
}

fn grant_of(body: &str) -> Result<GrantId, MalformedOAuthToken> {
    let bytes =
        zeroize::Zeroizing::new(b64url_decode_exact::<BODY_LEN>(body).ok_or(MalformedOAuthToken)?);
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&bytes[..ID_LEN]);
    Ok(GrantId(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bearer::Bearer;
    use crate::testing::SeededRng;

    fn p() -> KeyPrefix {
        KeyPrefix::new("prim").expect("valid prefix")
    }

    #[test]
    fn tokens_carry_their_grant_and_route_by_kind() {
        let mut rng = SeededRng::new(1);
        let grant = GrantId::generate(&mut rng);
        for kind in [OAuthTokenKind::Access, OAuthTokenKind::Refresh] {
            let token = OAuthToken::generate(kind, grant, &p(), &mut rng);
            assert_eq!(token.expose().len(), "prim_oat_".len() + 64);
            let routed = Bearer::route(token.expose(), &p()).expect("routes");
            let parsed = match routed {
                Bearer::AccessToken(t) | Bearer::RefreshToken(t) => t,
                other => panic!("routed to {}", other.kind()),
            };
            assert_eq!(parsed.kind(), kind);
            assert_eq!(parsed.grant(), grant);
            assert_eq!(parsed.keyed_hash(b"k"), token.keyed_hash(b"k"));
        }
    }

    #[test]
    fn codes_parse_back_strictly_and_hash_apart_from_tokens() {
        let mut rng = SeededRng::new(2);
        let grant = GrantId::generate(&mut rng);
        let code = AuthorizationCode::generate(grant, &mut rng);
        assert_eq!(code.expose().len(), 64);
        let parsed = AuthorizationCode::parse(code.expose()).expect("parses");
        assert_eq!(parsed.grant(), grant);
        assert_eq!(parsed.keyed_hash(b"k"), code.keyed_hash(b"k"));
        assert_ne!(code.keyed_hash(b"k"), keyed_token_hash(b"k", code.expose()));
        for bad in [
            &code.expose()[1..],
            &format!("{}A", code.expose()),
            &format!("{}=", code.expose()),
            "",
            "not a code",
        ] {
            assert_eq!(
                AuthorizationCode::parse(bad),
                Err(MalformedOAuthToken),
                "{bad}"
            );
        }
    }

    #[test]
    fn grant_ids_round_trip_as_hex_and_debug_shows_only_the_id() {
        let mut rng = SeededRng::new(3);
        let grant = GrantId::generate(&mut rng);
        assert_eq!(GrantId::parse_hex(&grant.to_hex()), Some(grant));
        assert_eq!(GrantId::parse_hex(&grant.to_hex().to_uppercase()), None);
        let token = OAuthToken::generate(OAuthTokenKind::Access, grant, &p(), &mut rng);
        assert!(!format!("{token:?}").contains(&token.expose()[9..]));
    }
}
