//! Bearer credentials: the `Authorization` header and the router that tells tokens
//! apart by shape.
//!
//! | shape | routed to |
//! |---|---|
//! | `eyJ…` with three dot-separated base64url segments | [`Bearer::Jwt`] (a session JWT) |
//! | `{p}_oat_` + base64url(grant id ‖ secret) | [`Bearer::AccessToken`] |
//! | `{p}_ort_` + base64url(grant id ‖ secret) | [`Bearer::RefreshToken`] |
//! | `{p}_` + base64url(32 bytes) | [`Bearer::LookupKey`] |
//! | `{p}_{32 hex}_{64 hex}` | [`Bearer::IdSecretKey`] |
//!
//! Anything else is refused with a precise [`BearerError`]. The precise reason is for the
//! audit log only: the HTTP answer to every one of them is the same 401.

use alloc::string::{String, ToString};
use core::fmt;

use crate::api_key::{IdSecretKey, KeyError, KeyPrefix, LookupKey};
use crate::error::ErrorCode;
pub use crate::oauth::token::{OAuthToken, OAuthTokenKind};

/// Tokens longer than this are refused before any other work (SPEC §8: 512). Keys are
/// 48 to 120 characters; a session JWT is about 440 with a 22-character issuer and 500
/// with a 64-character one, the longest `ISSUER` the worker accepts.
pub const MAX_TOKEN_LEN: usize = 512;

/// Why a presented credential was refused before any lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BearerError {
    /// No `Authorization` header.
    MissingHeader,
    /// A header with another scheme (`Basic …`) or no scheme.
    NotBearer,
    /// `Bearer` with nothing after it.
    EmptyToken,
    /// Longer than [`MAX_TOKEN_LEN`].
    TooLong,
    /// Characters outside RFC 6750's `b64token` set.
    InvalidCharacters,
    /// Neither a JWT nor this deployment's prefix.
    UnknownShape,
    /// Starts like a JWT but is not three base64url segments.
    MalformedJwt,
    /// An OAuth token (`{p}_oat_`, `{p}_ort_`) whose body is not base64url(grant id ‖
    /// secret).
    MalformedOAuthToken,
    /// This deployment's prefix, but not the shape of either key scheme.
    MalformedKey,
}

impl crate::error::ErrorCode for BearerError {
    fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::NotBearer => "not_bearer_scheme",
            Self::EmptyToken => "empty_token",
            Self::TooLong => "token_too_long",
            Self::InvalidCharacters => "invalid_characters",
            Self::UnknownShape => "unknown_token_shape",
            Self::MalformedJwt => "malformed_jwt",
            Self::MalformedOAuthToken => "malformed_oauth_token",
            Self::MalformedKey => "malformed_key",
        }
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl core::error::Error for BearerError {}

/// Extracts the token from an `Authorization` header value (RFC 6750 §2.1): the scheme
/// `Bearer` in any case, one or more spaces, then a `b64token`.
pub fn token_from_header(header: Option<&str>) -> Result<&str, BearerError> {
    let value = header.ok_or(BearerError::MissingHeader)?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::NotBearer);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(BearerError::EmptyToken);
    }
    check_b64token(token)?;
    Ok(token)
}

/// Length cap and RFC 6750 `b64token` character set:
/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn check_b64token(token: &str) -> Result<(), BearerError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(BearerError::TooLong);
    }
    let body = token.trim_end_matches('=');
    let valid = !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        });
    if valid {
        Ok(())
    } else {
        Err(BearerError::InvalidCharacters)
    }
}

/// A presented credential, classified by shape and parsed strictly. Nothing here has
/// been checked against storage yet.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Bearer {
    /// A compact JWS with three segments; its signature is checked elsewhere.
    Jwt(String),
    /// An OAuth access token.
    AccessToken(OAuthToken),
    /// An OAuth refresh token (valid only at the token endpoint).
    RefreshToken(OAuthToken),
    /// An API key of the `lookup` scheme.
    LookupKey(LookupKey),
    /// An API key of the `id_secret` scheme.
    IdSecretKey(IdSecretKey),
}

impl Bearer {
    /// Routes a token by its shape. Never panics, whatever the input.
    pub fn route(token: &str, prefix: &KeyPrefix) -> Result<Self, BearerError> {
        check_b64token(token)?;
        if token.starts_with("eyJ") {
            return route_jwt(token);
        }
        let body = prefix.strip(token).ok_or(BearerError::UnknownShape)?;
        for kind in [OAuthTokenKind::Access, OAuthTokenKind::Refresh] {
            if let Some(rest) = body.strip_prefix(kind.sub_prefix()) {
                let token = OAuthToken::parse_body(kind, token, rest)
                    .map_err(|_| BearerError::MalformedOAuthToken)?;
                return Ok(match kind {
                    OAuthTokenKind::Access => Self::AccessToken(token),
                    OAuthTokenKind::Refresh => Self::RefreshToken(token),
                });
            }
        }
        let as_key_error = |_: KeyError| BearerError::MalformedKey;
        match body.len() {
            crate::api_key::LOOKUP_BODY_LEN => LookupKey::parse(prefix, token)
                .map(Self::LookupKey)
                .map_err(as_key_error),
            _ => IdSecretKey::parse(prefix, token)
                .map(Self::IdSecretKey)
                .map_err(as_key_error),
        }
    }

    /// A stable name of the credential kind, for logs and the audit log.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Jwt(_) => "jwt",
            Self::AccessToken(_) => "access_token",
            Self::RefreshToken(_) => "refresh_token",
            Self::LookupKey(_) => "lookup_key",
            Self::IdSecretKey(_) => "id_secret_key",
        }
    }
}

fn route_jwt(token: &str) -> Result<Bearer, BearerError> {
    let mut segments = token.split('.');
    let well_formed = segments.clone().count() == 3
        && segments.all(|s| !s.is_empty() && crate::encoding::b64url_decode(s).is_some());
    if well_formed {
        Ok(Bearer::Jwt(token.to_string()))
    } else {
        Err(BearerError::MalformedJwt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeededRng;
    use alloc::format;

    fn p() -> KeyPrefix {
        KeyPrefix::new("prim").expect("valid")
    }

    #[test]
    fn header_parsing() {
        assert_eq!(token_from_header(None), Err(BearerError::MissingHeader));
        assert_eq!(
            token_from_header(Some("Basic abc")),
            Err(BearerError::NotBearer)
        );
        assert_eq!(
            token_from_header(Some("Bearer")),
            Err(BearerError::EmptyToken)
        );
        assert_eq!(
            token_from_header(Some("Bearer   ")),
            Err(BearerError::EmptyToken)
        );
        assert_eq!(token_from_header(Some("bearer abc")), Ok("abc"));
        assert_eq!(
            token_from_header(Some("Bearer a b")),
            Err(BearerError::InvalidCharacters)
        );
        assert_eq!(
            token_from_header(Some("Bearer a\r\nX: y")),
            Err(BearerError::InvalidCharacters)
        );
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(token_from_header(Some(&long)), Err(BearerError::TooLong));
    }

    #[test]
    fn every_shape_routes_to_its_kind() {
        let mut rng = SeededRng::new(9);
        let lookup = LookupKey::generate(&p(), &mut rng);
        let id_secret = IdSecretKey::generate(&p(), &mut rng);
        let grant = crate::oauth::token::GrantId::generate(&mut rng);
        let access = OAuthToken::generate(OAuthTokenKind::Access, grant, &p(), &mut rng);
        let refresh = OAuthToken::generate(OAuthTokenKind::Refresh, grant, &p(), &mut rng);
        let route = |t: &str| Bearer::route(t, &p()).map(|b| b.kind());
        assert_eq!(route(lookup.expose()), Ok("lookup_key"));
        assert_eq!(route(id_secret.expose()), Ok("id_secret_key"));
        assert_eq!(route(access.expose()), Ok("access_token"));
        assert_eq!(route(refresh.expose()), Ok("refresh_token"));
        assert_eq!(
            route("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"),
            Ok("jwt")
        );
    }

    #[test]
    fn garbage_gets_a_precise_reason() {
        let route = |t: &str| Bearer::route(t, &p());
        assert_eq!(
            route("ptmc_zI7yqBgWoCemHre5bJA3t_g8elCHlB7fK6mNk1tIan0"),
            Err(BearerError::UnknownShape)
        );
        assert_eq!(route("prim_short"), Err(BearerError::MalformedKey));
        assert_eq!(
            route("prim_oat_short"),
            Err(BearerError::MalformedOAuthToken)
        );
        assert_eq!(route("eyJ.x"), Err(BearerError::MalformedJwt));
        assert_eq!(route("eyJhbGci..c2ln"), Err(BearerError::MalformedJwt));
        assert_eq!(route("prim_\u{0}"), Err(BearerError::InvalidCharacters));
    }
}
