//! Dynamic client registration (RFC 7591) of public clients: which metadata is
//! accepted. Only what Keyward supports is allowed through: the `authorization_code`
//! grant (with `refresh_token`), the `code` response type and the `none` endpoint
//! authentication method (public clients, PKCE instead of a secret). Metadata this
//! server does not use (`client_uri`, `logo_uri`, `contacts`, `software_id`…) is
//! ignored, as RFC 7591 §2 asks; the worker does not store it.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::error::{OAuthError, OAuthErrorCode};
use super::redirect::{MAX_REDIRECT_URIS, RedirectUri};
use super::scope::Scopes;

/// The longest `client_name`, in characters.
pub const MAX_CLIENT_NAME_CHARS: usize = 100;

/// What a registration request says, before checking (absent fields are `None`).
#[derive(Clone, Debug, Default)]
pub struct ClientMetadataRequest {
    /// `redirect_uris`: required, 1 to 20.
    pub redirect_uris: Option<Vec<String>>,
    /// `client_name`: shown on the consent page (escaped).
    pub client_name: Option<String>,
    /// `grant_types`: default `["authorization_code", "refresh_token"]`.
    pub grant_types: Option<Vec<String>>,
    /// `response_types`: default `["code"]`.
    pub response_types: Option<Vec<String>>,
    /// `token_endpoint_auth_method`: `none` (the default here: public clients).
    pub token_endpoint_auth_method: Option<String>,
    /// `scope`: space-separated; default the deployment's default scope.
    pub scope: Option<String>,
}

/// Checked metadata of a client to register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientMetadata {
    /// The redirect URIs, in the order given, without duplicates.
    pub redirect_uris: Vec<RedirectUri>,
    /// The name to show, trimmed.
    pub client_name: Option<String>,
    /// Whether the client may use refresh tokens.
    pub refresh_tokens: bool,
    /// The scopes the client may ask for.
    pub scope: Scopes,
}

fn metadata_error(description: &'static str) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidClientMetadata, description)
}

impl ClientMetadataRequest {
    /// Checks the request against the rules of the module doc; `supported` are the
    /// deployment's scopes.
    pub fn check(&self, supported: &Scopes) -> Result<ClientMetadata, OAuthError> {
        let uris = self.redirect_uris.as_deref().unwrap_or_default();
        if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
            return Err(OAuthError::new(
                OAuthErrorCode::InvalidRedirectUri,
                "redirect_uris must list 1 to 20 URIs",
            ));
        }
        let mut redirect_uris: Vec<RedirectUri> = Vec::with_capacity(uris.len());
        for text in uris {
            let uri = RedirectUri::parse(text).map_err(|e| OAuthError {
                code: OAuthErrorCode::InvalidRedirectUri,
                description: e.to_string().into(),
            })?;
            if !redirect_uris.iter().any(|u| u.as_str() == uri.as_str()) {
                redirect_uris.push(uri);
            }
        }
        let client_name = match self.client_name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name)
                if name.chars().count() <= MAX_CLIENT_NAME_CHARS
                    && !name.chars().any(char::is_control) =>
            {
                Some(name.to_string())
            }
            Some(_) => {
                return Err(metadata_error(
                    "client_name must be at most 100 characters without control characters",
                ));
            }
        };
        let grant_types = self.grant_types.as_deref().unwrap_or_default();
        if !grant_types
            .iter()
            .all(|g| g == "authorization_code" || g == "refresh_token")
        {
            return Err(metadata_error(
                "grant_types may be only authorization_code and refresh_token",
            ));
        }
        if !grant_types.is_empty() && !grant_types.iter().any(|g| g == "authorization_code") {
            return Err(metadata_error(
                "grant_types must include authorization_code",
            ));
        }
        let refresh_tokens =
            grant_types.is_empty() || grant_types.iter().any(|g| g == "refresh_token");
        if !self
            .response_types
            .as_deref()
            .unwrap_or_default()
            .iter()
            .all(|r| r == "code")
        {
            return Err(metadata_error("response_types may be only code"));
        }
        match self.token_endpoint_auth_method.as_deref() {
            None | Some("none") => {}
            Some(_) => {
                return Err(metadata_error(
                    "token_endpoint_auth_method must be none: clients are public and use PKCE",
                ));
            }
        }
        let scope = match self.scope.as_deref() {
            None => supported.default_scope(),
            Some(asked) => supported
                .narrow(asked)
                .map_err(|_| metadata_error("scope names a scope this server does not offer"))?,
        };
        Ok(ClientMetadata {
            redirect_uris,
            client_name,
            refresh_tokens,
            scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn supported() -> Scopes {
        Scopes::parse("keyward:api").expect("valid")
    }

    fn request(uris: &[&str]) -> ClientMetadataRequest {
        ClientMetadataRequest {
            redirect_uris: Some(uris.iter().map(|u| (*u).to_string()).collect()),
            ..ClientMetadataRequest::default()
        }
    }

    #[test]
    fn a_minimal_public_client_gets_the_defaults() {
        let checked = request(&["http://127.0.0.1/cb", "http://127.0.0.1/cb"])
            .check(&supported())
            .expect("accepted");
        assert_eq!(checked.redirect_uris.len(), 1, "duplicates folded");
        assert!(checked.refresh_tokens);
        assert_eq!(checked.scope, supported());
        assert_eq!(checked.client_name, None);
    }

    #[test]
    fn unsupported_metadata_is_refused_with_the_rfc_codes() {
        let code = |r: ClientMetadataRequest| r.check(&supported()).map(|_| ()).map_err(|e| e.code);
        assert_eq!(code(request(&[])), Err(OAuthErrorCode::InvalidRedirectUri));
        assert_eq!(
            code(ClientMetadataRequest::default()),
            Err(OAuthErrorCode::InvalidRedirectUri)
        );
        let many: Vec<String> = (0..21)
            .map(|i| alloc::format!("https://a.example/{i}"))
            .collect();
        assert_eq!(
            code(ClientMetadataRequest {
                redirect_uris: Some(many),
                ..ClientMetadataRequest::default()
            }),
            Err(OAuthErrorCode::InvalidRedirectUri)
        );
        assert_eq!(
            code(request(&["http://evil.example/cb"])),
            Err(OAuthErrorCode::InvalidRedirectUri)
        );
        let with = |f: fn(&mut ClientMetadataRequest)| {
            let mut r = request(&["https://a.example/cb"]);
            f(&mut r);
            code(r)
        };
        let bad = Err(OAuthErrorCode::InvalidClientMetadata);
        assert_eq!(
            with(|r| r.grant_types = Some(vec!["client_credentials".into()])),
            bad
        );
        assert_eq!(
            with(|r| r.grant_types = Some(vec!["refresh_token".into()])),
            bad
        );
        assert_eq!(with(|r| r.grant_types = Some(vec!["implicit".into()])), bad);
        assert_eq!(with(|r| r.response_types = Some(vec!["token".into()])), bad);
        assert_eq!(
            with(|r| r.token_endpoint_auth_method = Some("client_secret_basic".into())),
            bad
        );
        assert_eq!(with(|r| r.client_name = Some("x".repeat(101))), bad);
        assert_eq!(with(|r| r.client_name = Some("evil\u{7}".into())), bad);
        assert_eq!(with(|r| r.scope = Some("admin".into())), bad);
        assert_eq!(
            with(|r| r.grant_types = Some(vec!["authorization_code".into()])),
            Ok(())
        );
        let no_refresh = {
            let mut r = request(&["https://a.example/cb"]);
            r.grant_types = Some(vec!["authorization_code".into()]);
            r.check(&supported()).expect("ok")
        };
        assert!(!no_refresh.refresh_tokens);
    }
}
