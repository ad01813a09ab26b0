//! OAuth error codes as a typed enum: RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2,
//! RFC 8707 §2 and RFC 6750 §3.1, each serialising to its registered string. The worker
//! decides the HTTP status; this crate only says which error and why.

use alloc::borrow::Cow;
use core::fmt;

/// An OAuth `error` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// A required parameter is missing, repeated, or malformed (RFC 6749 §5.2).
    InvalidRequest,
    /// The client is unknown, or not the one the code or token was issued to.
    InvalidClient,
    /// The code or refresh token is invalid, expired, revoked, reused, or was issued
    /// for another redirect URI or client; or the PKCE verifier does not match.
    InvalidGrant,
    /// The client may not use this grant type.
    UnauthorizedClient,
    /// A grant type this server does not support.
    UnsupportedGrantType,
    /// A scope that is unknown, or wider than granted.
    InvalidScope,
    /// The person declined (authorization endpoint, RFC 6749 §4.1.2.1).
    AccessDenied,
    /// A `response_type` other than `code`.
    UnsupportedResponseType,
    /// A redirect URI the registration rules refuse (RFC 7591).
    InvalidRedirectUri,
    /// Other client metadata the registration rules refuse (RFC 7591).
    InvalidClientMetadata,
    /// A `resource` that does not name this API (RFC 8707).
    InvalidTarget,
    /// Too many requests from this client: wait `Retry-After` seconds (the code comes
    /// from RFC 8628 §3.5, where it means the same).
    SlowDown,
    /// The server failed; nothing was decided.
    ServerError,
}

impl OAuthErrorCode {
    /// The registered string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidTarget => "invalid_target",
            Self::SlowDown => "slow_down",
            Self::ServerError => "server_error",
        }
    }
}

/// An OAuth error with its `error_description`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OAuthError {
    /// The `error` value.
    pub code: OAuthErrorCode,
    /// The `error_description`: says what to fix, never echoes a secret.
    pub description: Cow<'static, str>,
}

impl OAuthError {
    /// An error with a fixed description.
    #[must_use]
    pub const fn new(code: OAuthErrorCode, description: &'static str) -> Self {
        Self {
            code,
            description: Cow::Borrowed(description),
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl core::error::Error for OAuthError {}

impl crate::error::ErrorCode for OAuthError {
    fn code(&self) -> &'static str {
        self.code.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_registered_strings() {
        let all = [
            (OAuthErrorCode::InvalidRequest, "invalid_request"),
            (OAuthErrorCode::InvalidClient, "invalid_client"),
            (OAuthErrorCode::InvalidGrant, "invalid_grant"),
            (OAuthErrorCode::UnauthorizedClient, "unauthorized_client"),
            (
                OAuthErrorCode::UnsupportedGrantType,
                "unsupported_grant_type",
            ),
            (OAuthErrorCode::InvalidScope, "invalid_scope"),
            (OAuthErrorCode::AccessDenied, "access_denied"),
            (
                OAuthErrorCode::UnsupportedResponseType,
                "unsupported_response_type",
            ),
            (OAuthErrorCode::InvalidRedirectUri, "invalid_redirect_uri"),
            (
                OAuthErrorCode::InvalidClientMetadata,
                "invalid_client_metadata",
            ),
            (OAuthErrorCode::InvalidTarget, "invalid_target"),
            (OAuthErrorCode::SlowDown, "slow_down"),
            (OAuthErrorCode::ServerError, "server_error"),
        ];
        for (code, text) in all {
            assert_eq!(code.as_str(), text);
        }
        let e = OAuthError::new(OAuthErrorCode::InvalidGrant, "code expired");
        assert_eq!(alloc::format!("{e}"), "invalid_grant: code expired");
    }
}
