//! The authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 8707, RFC 9700 §2.1.1):
//! checked in two steps, because what may happen on a failure depends on how far the
//! request got.
//!
//! 1. [`AuthorizeParams::parse`] takes the query (or form) pairs. A repeated parameter,
//!    a missing or unknown `client_id`, and a `redirect_uri` that is not registered are
//!    [`AuthorizeFailure::Page`]: an error page, never a redirect, since the client
//!    cannot be trusted with the answer.
//! 2. [`AuthorizeParams::check`] runs once the client is loaded and the redirect URI is
//!    known to be its own. From then on a failure is [`AuthorizeFailure::Redirect`]: the
//!    error goes back to the client's redirect URI with `state` and `iss` (RFC 9207).
//!
//! Rules: `response_type=code`; PKCE with S256 only (a missing `code_challenge`, a
//! missing `code_challenge_method`, and `plain` are refused); no `scope` means the
//! client's whole registered scope; `resource`, when present, must name this API;
//! `state` is echoed as given (at most [`MAX_STATE_LEN`] bytes). Unknown parameters are
//! ignored (RFC 6749 §3.1).

use alloc::string::{String, ToString};

use super::error::{OAuthError, OAuthErrorCode};
use super::redirect::RedirectUri;
use super::scope::{ScopeRefusal, Scopes};
use crate::pkce::CodeChallenge;

/// The parameters an authorization request is made of; any other is ignored.
pub const PARAMETERS: [&str; 8] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "scope",
    "resource",
    "state",
];

/// The longest `state` echoed back, in bytes.
pub const MAX_STATE_LEN: usize = 1024;
/// The longest value of any authorization parameter, in bytes.
const MAX_VALUE_LEN: usize = 2048;

/// Why an authorization request fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeFailure {
    /// Show an error page; never redirect (the reason is for the page).
    Page(&'static str),
    /// Send the error to the client's redirect URI.
    Redirect {
        /// The redirect URI as presented (it matched a registered one).
        redirect_uri: String,
        /// The error.
        error: OAuthError,
        /// The request's `state`, echoed.
        state: Option<String>,
    },
}

/// The request's parameters, with `client_id` present and nothing repeated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizeParams {
    /// `client_id`.
    pub client_id: String,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    scope: Option<String>,
    resource: Option<String>,
    state: Option<String>,
}

/// A request that may proceed to sign-in and consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// `client_id`.
    pub client_id: String,
    /// The redirect URI to send the code to, exactly as presented (or the only
    /// registered one when the request named none).
    pub redirect_uri: String,
    /// The PKCE challenge the code will be bound to.
    pub code_challenge: String,
    /// The scopes asked for (all the client's registered ones when `scope` was absent).
    pub scope: Scopes,
    /// The `resource` indicator, when given (it names this API).
    pub resource: Option<String>,
    /// `state`, to echo.
    pub state: Option<String>,
}

impl AuthorizeParams {
    /// Reads the pairs of a query string or form. Refuses (with a page) repeated
    /// parameters, overlong values and a missing `client_id`.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, AuthorizeFailure> {
        let mut values: [Option<String>; 8] = Default::default();
        for (name, value) in pairs {
            let Some(index) = PARAMETERS.iter().position(|k| k == name) else {
                continue;
            };
            if values[index].is_some() {
                return Err(AuthorizeFailure::Page(
                    "a parameter of the request is repeated",
                ));
            }
            if value.len() > MAX_VALUE_LEN {
                return Err(AuthorizeFailure::Page(
                    "a parameter of the request is too long",
                ));
            }
            values[index] = Some(value.clone());
        }
        let [
            client_id,
            redirect_uri,
            response_type,
            code_challenge,
            code_challenge_method,
            scope,
            resource,
            state,
        ] = values;
        let client_id = client_id
            .filter(|c| !c.is_empty())
            .ok_or(AuthorizeFailure::Page("the request names no client_id"))?;
        Ok(Self {
            client_id,
            redirect_uri,
            response_type,
            code_challenge,
            code_challenge_method,
            scope,
            resource,
            state,
        })
    }

    /// Checks the request against the loaded client: its registered redirect URIs and
    /// scope, and `resource_id`, this API's resource identifier.
    pub fn check(
        &self,
        registered: &[RedirectUri],
        client_scope: &Scopes,
        resource_id: &str,
    ) -> Result<AuthorizeRequest, AuthorizeFailure> {
        let redirect_uri = match (&self.redirect_uri, registered) {
            (Some(presented), _) if registered.iter().any(|r| r.matches(presented)) => {
                presented.clone()
            }
            (Some(_), _) => {
                return Err(AuthorizeFailure::Page(
                    "the redirect_uri is not registered for this client",
                ));
            }
            (None, [only]) => only.as_str().to_string(),
            (None, _) => {
                return Err(AuthorizeFailure::Page(
                    "the request must name a redirect_uri: the client registered several",
                ));
            }
        };
        if self.state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
            return Err(AuthorizeFailure::Page("state is longer than 1024 bytes"));
        }
        let fail = |code, description| AuthorizeFailure::Redirect {
            redirect_uri: redirect_uri.clone(),
            error: OAuthError::new(code, description),
            state: self.state.clone(),
        };
        match self.response_type.as_deref() {
            Some("code") => {}
            None => {
                return Err(fail(
                    OAuthErrorCode::InvalidRequest,
                    "response_type is required",
                ));
            }
            Some(_) => {
                return Err(fail(
                    OAuthErrorCode::UnsupportedResponseType,
                    "response_type must be code",
                ));
            }
        }
        let challenge = self.code_challenge.as_deref().ok_or_else(|| {
            fail(
                OAuthErrorCode::InvalidRequest,
                "code_challenge is required (PKCE with S256)",
            )
        })?;
        let challenge = CodeChallenge::parse(challenge, self.code_challenge_method.as_deref())
            .map_err(|e| {
                fail(
                    OAuthErrorCode::InvalidRequest,
                    match e {
                        crate::pkce::PkceError::UnsupportedMethod => {
                            "code_challenge_method must be S256"
                        }
                        _ => "code_challenge must be 43 base64url characters (S256)",
                    },
                )
            })?;
        let scope = match self.scope.as_deref() {
            None => client_scope.default_scope(),
            Some(asked) => client_scope.narrow(asked).map_err(|e| {
                fail(
                    OAuthErrorCode::InvalidScope,
                    match e {
                        ScopeRefusal::Malformed => "scope is malformed",
                        ScopeRefusal::Wider => "scope asks for more than this client may have",
                    },
                )
            })?,
        };
        if self.resource.as_deref().is_some_and(|r| r != resource_id) {
            return Err(fail(
                OAuthErrorCode::InvalidTarget,
                "resource must name this API",
            ));
        }
        Ok(AuthorizeRequest {
            client_id: self.client_id.clone(),
            redirect_uri,
            code_challenge: challenge.as_str().to_string(),
            scope,
            resource: self.resource.clone(),
            state: self.state.clone(),
        })
    }
}

/// The redirect URI with `params` appended to its query, form-urlencoded: where the
/// code (or the error) is sent.
#[must_use]
pub fn redirect_location(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = String::from(redirect_uri);
    let mut separator = if redirect_uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(separator);
        separator = '&';
        super::form::encode_into(&mut out, name);
        out.push('=');
        super::form::encode_into(&mut out, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn pairs(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut base = vec![
            ("client_id", "c1"),
            ("redirect_uri", "http://127.0.0.1:5000/cb"),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
        ];
        for (k, v) in extra {
            base.retain(|(name, _)| name != k);
            if !v.is_empty() || *k == "state" {
                base.push((k, v));
            }
        }
        base.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn check(extra: &[(&str, &str)]) -> Result<AuthorizeRequest, AuthorizeFailure> {
        let registered = [RedirectUri::parse("http://127.0.0.1/cb").expect("valid")];
        let scope = Scopes::parse("keyward:api keyward:read").expect("valid");
        AuthorizeParams::parse(&pairs(extra))?.check(&registered, &scope, "https://api.example")
    }

    fn redirected(result: Result<AuthorizeRequest, AuthorizeFailure>) -> Option<OAuthErrorCode> {
        match result {
            Err(AuthorizeFailure::Redirect { error, state, .. }) => {
                assert_eq!(state.as_deref(), Some("xyz"), "state echoed");
                Some(error.code)
            }
            _ => None,
        }
    }

    #[test]
    fn a_good_request_passes_with_the_default_scope() {
        let ok = check(&[]).expect("valid");
        assert_eq!(ok.redirect_uri, "http://127.0.0.1:5000/cb");
        assert_eq!(ok.scope.to_scope_string(), "keyward:api keyward:read");
        assert_eq!(ok.code_challenge, CHALLENGE);
        let narrowed = check(&[
            ("scope", "keyward:read"),
            ("resource", "https://api.example"),
        ])
        .expect("valid");
        assert_eq!(narrowed.scope.to_scope_string(), "keyward:read");
    }

    #[test]
    fn untrusted_client_or_redirect_gets_a_page_never_a_redirect() {
        let page = |r: Result<AuthorizeRequest, AuthorizeFailure>| {
            matches!(r, Err(AuthorizeFailure::Page(_)))
        };
        assert!(page(check(&[("redirect_uri", "https://evil.example/cb")])));
        assert!(page(check(&[(
            "redirect_uri",
            "http://127.0.0.1:5000/other"
        )])));
        assert!(page(check(&[("client_id", "")])));
        let mut twice = pairs(&[]);
        twice.push(("redirect_uri".into(), "https://evil.example/cb".into()));
        assert!(page(AuthorizeParams::parse(&twice).map(|_| unreachable!())));
        let mut twice_state = pairs(&[]);
        twice_state.push(("state".into(), "again".into()));
        assert!(page(
            AuthorizeParams::parse(&twice_state).map(|_| unreachable!())
        ));
        assert!(page(check(&[("state", &"s".repeat(MAX_STATE_LEN + 1))])));
    }

    #[test]
    fn pkce_response_type_scope_and_resource_errors_redirect_with_state() {
        assert_eq!(
            redirected(check(&[("response_type", "token")])),
            Some(OAuthErrorCode::UnsupportedResponseType)
        );
        assert_eq!(
            redirected(check(&[("response_type", "")])),
            Some(OAuthErrorCode::InvalidRequest)
        );
        assert_eq!(
            redirected(check(&[("code_challenge", "")])),
            Some(OAuthErrorCode::InvalidRequest)
        );
        assert_eq!(
            redirected(check(&[("code_challenge_method", "")])),
            Some(OAuthErrorCode::InvalidRequest)
        );
        assert_eq!(
            redirected(check(&[("code_challenge_method", "plain")])),
            Some(OAuthErrorCode::InvalidRequest)
        );
        assert_eq!(
            redirected(check(&[("code_challenge", &CHALLENGE[1..])])),
            Some(OAuthErrorCode::InvalidRequest)
        );
        assert_eq!(
            redirected(check(&[("scope", "admin")])),
            Some(OAuthErrorCode::InvalidScope)
        );
        assert_eq!(
            redirected(check(&[("scope", "a  b")])),
            Some(OAuthErrorCode::InvalidScope)
        );
        assert_eq!(
            redirected(check(&[("resource", "https://other.example")])),
            Some(OAuthErrorCode::InvalidTarget)
        );
    }

    #[test]
    fn the_only_registered_uri_is_used_when_none_is_named() {
        let mut no_redirect = pairs(&[]);
        no_redirect.retain(|(k, _)| k != "redirect_uri");
        let registered = [RedirectUri::parse("https://a.example/cb").expect("valid")];
        let scope = Scopes::parse("keyward:api").expect("valid");
        let ok = AuthorizeParams::parse(&no_redirect)
            .and_then(|p| p.check(&registered, &scope, "r"))
            .expect("valid");
        assert_eq!(ok.redirect_uri, "https://a.example/cb");
    }

    #[test]
    fn redirect_locations_encode_their_parameters() {
        assert_eq!(
            redirect_location(
                "https://a.example/cb",
                &[
                    ("code", "a+b/c"),
                    ("state", "x y&z"),
                    ("iss", "https://kw.example")
                ]
            ),
            "https://a.example/cb?code=a%2Bb%2Fc&state=x+y%26z&iss=https%3A%2F%2Fkw.example"
        );
        assert_eq!(
            redirect_location("https://a.example/cb?v=1", &[("code", "c")]),
            "https://a.example/cb?v=1&code=c"
        );
    }
}
