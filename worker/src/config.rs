//! Settings, read from the Worker's environment on each request (cheap: no I/O).
//!
//! | name | kind | default | meaning |
//! |---|---|---|---|
//! | `KEY_PREFIX` | var | `ptmc` | token prefix, `[a-z][a-z0-9]{1,15}` |
//! | `DEFAULT_KEY_SCHEME` | var | `lookup` | scheme of `POST /v1/keys` when the request names none |
//! | `LOOKUP_ITERATIONS` | var | `1000` | PBKDF2 iterations of the `lookup` hash (changing it invalidates existing lookup keys) |
//! | `REALM` | var | `Keyward API` | the `realm` of `WWW-Authenticate` |
//! | `ISSUER` | var | the request's origin | base URL in metadata, `WWW-Authenticate` and the session JWT's `iss` (at most 64 characters) |
//! | `HASH_SECRET` | secret | – | salt of the lookup hash, key of token hashes |
//! | `ADMIN_TOKEN` | secret | – | bearer of `POST /admin/bootstrap` and `POST /admin/signing-keys/rotate` |
//! | `SIGNING_SECRET` | secret | – | master secret the session-JWT signing keys are derived from (≥ 32 characters) |
//! | `SESSION_TTL_SECONDS` | var | `3600` | lifetime of a session and its JWT |
//! | `OAUTH_ACCESS_TOKEN_TTL_SECONDS` | var | `3600` | lifetime of an OAuth access token |
//! | `OAUTH_REFRESH_TOKEN_TTL_SECONDS` | var | `7776000` | lifetime of each OAuth refresh token (90 days) |
//! | `OAUTH_CODE_TTL_SECONDS` | var | `600` | lifetime of an authorization code |
//! | `OAUTH_RATE_LIMIT_RPM` | var | `600` | requests per rolling minute of one OAuth grant's access tokens |
//! | `REFRESH_REUSE_GRACE_SECONDS` | var | `0` | within this many seconds of a rotation, an identical retry with the spent refresh token gets the same tokens again instead of revoking the grant (at most 300) |
//! | `OAUTH_SCOPE` | var | `keyward:api` | the scopes the OAuth server offers, space-separated (the Primitive seed's `primitive:api` by setting) |
//! | `WEBHOOK_RETRY_SCHEDULE` | var | `5,300,1800,7200,18000,36000,36000` | seconds before each retry of a failed webhook delivery, ±10% jitter (about 27.6 hours in all); after the last, the delivery is `failed` |
//! | `WEBHOOK_TIMEOUT_SECONDS` | var | `15` | how long one delivery attempt may take (1-30) |
//! | `WEBHOOK_DISABLE_AFTER_SECONDS` | var | `86400` | an endpoint whose deliveries have failed this long, with no success between, is disabled |
//! | `CORS_ALLOWED_ORIGINS` | var | – | web origins (`https://app.example`, comma-separated; `http://` only on a loopback host) whose pages may call `/v1`, `/auth` and `/entities` from a browser (CORS, without cookies) |
//! | `SELF_REGISTRATION_ENABLED` | var | `false` | `POST /auth/signup` is open |
//! | `ALLOW_UNVERIFIED_EMAIL_LOGIN` | var | `false` | password login before the email is verified |
//! | `MAIL_TRANSPORT` | var | `outbox` | `outbox` (messages stored in D1) or `http` (an HTTP email API) |
//! | `MAIL_HTTP_URL` | var | – | with `http`: the endpoint messages are POSTed to as JSON |
//! | `MAIL_HTTP_TOKEN` | secret | – | with `http`: sent as `Authorization: Bearer …` |
//! | `MAIL_FROM` | var | `Keyward <no-reply@keyward.invalid>` | sender of every message |
//! | `ENVIRONMENT` | var | `production` | `development` allows the two settings below; `npm start` and the tests set it |
//! | `DEV_OUTBOX` | var | `false` | `GET /dev/outbox` lists stored messages (development only) |
//! | `DEV_CLIENT_CERT_HEADER` | var | `false` | take the client-certificate fingerprint from the `X-Client-Cert-Fingerprint` header instead of mTLS (development only) |
//!
//! A development-only setting turned on while `ENVIRONMENT` is not `development` is a
//! configuration error: every request answers 500 and the log says why, so a copy of
//! the local settings can never open those doors in production.

use keyward_core::api_key::{KeyPrefix, KeyScheme};
use keyward_core::secret::{SecretBytes, SecretString};
use std::rc::Rc;

use worker::Env;

use crate::http::ApiError;

/// The longest `ISSUER`: a session JWT naming it stays within the 512-character bearer
/// limit (`keyward_core::bearer::MAX_TOKEN_LEN`).
const MAX_ISSUER_LEN: usize = 64;

/// The deployment's settings.
pub struct Config {
    pub prefix: KeyPrefix,
    pub default_scheme: KeyScheme,
    pub lookup_iterations: u32,
    pub realm: String,
    /// `ISSUER`; when unset, the origin each request came to (see `lib.rs`).
    pub issuer: Option<String>,
    pub hash_secret: SecretBytes,
    pub admin_token: Option<SecretString>,
    pub signing_secret: SecretBytes,
    pub session_ttl_secs: u64,
    /// `OAUTH_SCOPE`: what the OAuth server offers (and a request without `scope` gets).
    pub oauth_scopes: keyward_core::oauth::scope::Scopes,
    /// The `OAUTH_*_TTL_SECONDS` settings.
    pub oauth_lifetimes: keyward_core::oauth::grant::Lifetimes,
    /// `OAUTH_RATE_LIMIT_RPM`: the exact per-grant limit of access tokens.
    pub oauth_rate_limit_rpm: u32,
    /// `REFRESH_REUSE_GRACE_SECONDS`: how long after a rotation an identical retry is
    /// answered again rather than treated as reuse.
    pub refresh_reuse_grace_secs: u64,
    /// `CORS_ALLOWED_ORIGINS`: exact origins whose pages may call `/v1` and `/auth`.
    pub cors_origins: Vec<String>,
    /// `ENVIRONMENT`: which webhook URLs are allowed (`keyward_core::webhook_url`).
    pub deployment: keyward_core::webhook_url::Deployment,
    /// `WEBHOOK_RETRY_SCHEDULE`: the delays between a failed delivery's attempts.
    pub webhook_retry: keyward_core::webhook_retry::RetrySchedule,
    /// `WEBHOOK_TIMEOUT_SECONDS`: how long one attempt may take.
    pub webhook_timeout_secs: u64,
    /// `WEBHOOK_DISABLE_AFTER_SECONDS`: how long an endpoint may fail before it is
    /// disabled.
    pub webhook_disable_after_secs: u64,
    pub self_registration: bool,
    pub allow_unverified_login: bool,
    pub mail: MailTransport,
    pub mail_from: String,
    pub dev_outbox: bool,
    pub dev_cert_header: bool,
}

/// Where outgoing mail goes.
pub enum MailTransport {
    /// Stored in D1's `outbox` table (readable at `GET /dev/outbox` in development).
    Outbox,
    /// POSTed as JSON `{from, to, subject, text}` to an email API.
    Http {
        url: String,
        token: Option<SecretString>,
    },
}

impl Config {
    /// The issuer of tokens and metadata: `ISSUER`, or the origin the request came to.
    pub fn issuer_for(&self, req: &worker::Request) -> String {
        self.issuer.clone().unwrap_or_else(|| {
            req.url()
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_default()
        })
    }
}

/// A boolean setting: `true` or `false` (absent: `false`).
fn flag(env: &Env, name: &str) -> Result<bool, String> {
    match var(env, name).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(format!("{name} must be true or false")),
    }
}

fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

/// `CORS_ALLOWED_ORIGINS`: each entry an origin exactly as browsers send it, checked by
/// the core (`RedirectUri::web_origin`: https, or http on a loopback host; no path).
fn cors_origins(value: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            keyward_core::oauth::redirect::RedirectUri::web_origin(origin)
                .map(|o| o.as_str().to_owned())
                .map_err(|_| {
                    format!(
                        "CORS_ALLOWED_ORIGINS: {origin:?} is not an https origin (or http on a loopback host)"
                    )
                })
        })
        .collect()
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
}

thread_local! {
    /// Settings cannot change within an isolate (a new deployment or `wrangler dev`
    /// reload starts a new one), so they are read and validated once.
    static CONFIG: std::cell::OnceCell<Rc<Config>> = const { std::cell::OnceCell::new() };
}

impl Config {
    /// The isolate's settings, read on first use.
    pub fn get(env: &Env) -> Result<Rc<Self>, ApiError> {
        if let Some(config) = CONFIG.with(|c| c.get().cloned()) {
            return Ok(config);
        }
        let config = Rc::new(Self::from_env(env)?);
        CONFIG.with(|c| c.get_or_init(|| config.clone()).clone());
        Ok(config)
    }

    /// Reads and validates the settings. A bad setting is an operator error: 500
    /// `internal`, with the reason in the Worker's log.
    fn from_env(env: &Env) -> Result<Self, ApiError> {
        let misconfigured = |what: &str| {
            worker::console_error!("configuration error: {what}");
            ApiError::internal()
        };
        let prefix = KeyPrefix::new(&var(env, "KEY_PREFIX").unwrap_or_else(|| "ptmc".into()))
            .map_err(|_| misconfigured("KEY_PREFIX"))?;
        let default_scheme =
            KeyScheme::parse(&var(env, "DEFAULT_KEY_SCHEME").unwrap_or_else(|| "lookup".into()))
                .ok_or_else(|| misconfigured("DEFAULT_KEY_SCHEME"))?;
        let lookup_iterations = var(env, "LOOKUP_ITERATIONS")
            .map_or(Ok(keyward_core::api_key::DEFAULT_LOOKUP_ITERATIONS), |v| {
                v.parse()
            })
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| misconfigured("LOOKUP_ITERATIONS"))?;
        let hash_secret = secret(env, "HASH_SECRET")
            .filter(|s| s.len() >= 32)
            .ok_or_else(|| misconfigured("HASH_SECRET missing or shorter than 32 characters"))?;
        let signing_secret = secret(env, "SIGNING_SECRET")
            .filter(|s| s.len() >= 32)
            .ok_or_else(|| misconfigured("SIGNING_SECRET missing or shorter than 32 characters"))?;
        let admin_token = secret(env, "ADMIN_TOKEN").filter(|s| s.len() >= 32);
        let issuer = var(env, "ISSUER").map(|i| i.trim_end_matches('/').to_string());
        if issuer.as_ref().is_some_and(|i| i.len() > MAX_ISSUER_LEN) {
            // Session JWTs carry it, and must fit the 512-character bearer limit.
            return Err(misconfigured("ISSUER is longer than 64 characters"));
        }
        let session_ttl_secs = var(env, "SESSION_TTL_SECONDS")
            .map_or(Ok(3600), |v| v.parse::<u64>())
            .ok()
            .filter(|n| (60..=86_400).contains(n))
            .ok_or_else(|| misconfigured("SESSION_TTL_SECONDS must be 60-86400"))?;
        let oauth_scopes = keyward_core::oauth::scope::Scopes::parse(
            &var(env, "OAUTH_SCOPE").unwrap_or_else(|| "keyward:api".into()),
        )
        .map_err(|_| misconfigured("OAUTH_SCOPE must be space-separated scope tokens"))?;
        let seconds = |name: &str, default: u64, allowed: std::ops::RangeInclusive<u64>| {
            var(env, name)
                .map_or(Ok(default), |v| v.parse::<u64>())
                .ok()
                .filter(|n| allowed.contains(n))
                .ok_or_else(|| {
                    misconfigured(&format!(
                        "{name} must be {}-{}",
                        allowed.start(),
                        allowed.end()
                    ))
                })
        };
        let defaults = keyward_core::oauth::grant::Lifetimes::default();
        let oauth_lifetimes = keyward_core::oauth::grant::Lifetimes {
            access: seconds(
                "OAUTH_ACCESS_TOKEN_TTL_SECONDS",
                defaults.access,
                1..=86_400,
            )?,
            refresh: seconds(
                "OAUTH_REFRESH_TOKEN_TTL_SECONDS",
                defaults.refresh,
                1..=365 * 86_400,
            )?,
            code: seconds("OAUTH_CODE_TTL_SECONDS", defaults.code, 1..=600)?,
        };
        let oauth_rate_limit_rpm = var(env, "OAUTH_RATE_LIMIT_RPM")
            .map_or(Ok(600), |v| v.parse::<u32>())
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| misconfigured("OAUTH_RATE_LIMIT_RPM must be 1-100000"))?;
        let flag = |name: &str| flag(env, name).map_err(|e| misconfigured(&e));
        let development = var(env, "ENVIRONMENT").as_deref() == Some("development");
        let dev_outbox = flag("DEV_OUTBOX")?;
        let dev_cert_header = flag("DEV_CLIENT_CERT_HEADER")?;
        if (dev_outbox || dev_cert_header) && !development {
            return Err(misconfigured(
                "DEV_OUTBOX and DEV_CLIENT_CERT_HEADER are refused unless ENVIRONMENT=development",
            ));
        }
        let mail = match var(env, "MAIL_TRANSPORT").as_deref() {
            None | Some("outbox") => MailTransport::Outbox,
            Some("http") => MailTransport::Http {
                url: var(env, "MAIL_HTTP_URL")
                    .filter(|u| u.starts_with("https://") || development)
                    .ok_or_else(|| misconfigured("MAIL_HTTP_URL must be an https:// URL"))?,
                token: secret(env, "MAIL_HTTP_TOKEN").map(SecretString::new),
            },
            Some(_) => return Err(misconfigured("MAIL_TRANSPORT must be outbox or http")),
        };
        Ok(Self {
            prefix,
            default_scheme,
            lookup_iterations,
            realm: var(env, "REALM").unwrap_or_else(|| "Keyward API".into()),
            issuer,
            hash_secret: SecretBytes::new(hash_secret.into_bytes()),
            admin_token: admin_token.map(SecretString::new),
            signing_secret: SecretBytes::new(signing_secret.into_bytes()),
            session_ttl_secs,
            oauth_scopes,
            oauth_lifetimes,
            oauth_rate_limit_rpm,
            refresh_reuse_grace_secs: seconds("REFRESH_REUSE_GRACE_SECONDS", 0, 0..=300)?,
            deployment: if development {
                keyward_core::webhook_url::Deployment::Development
            } else {
                keyward_core::webhook_url::Deployment::Production
            },
            webhook_retry: var(env, "WEBHOOK_RETRY_SCHEDULE")
                .map_or(Ok(Default::default()), |v| {
                    keyward_core::webhook_retry::RetrySchedule::parse(&v)
                })
                .map_err(|e| misconfigured(&format!("WEBHOOK_RETRY_SCHEDULE: {e}")))?,
            webhook_timeout_secs: seconds("WEBHOOK_TIMEOUT_SECONDS", 15, 1..=30)?,
            webhook_disable_after_secs: seconds(
                "WEBHOOK_DISABLE_AFTER_SECONDS",
                86_400,
                1..=30 * 86_400,
            )?,
            cors_origins: var(env, "CORS_ALLOWED_ORIGINS")
                .map_or(Ok(Vec::new()), |v| cors_origins(&v))
                .map_err(|e| misconfigured(&e))?,
            self_registration: flag("SELF_REGISTRATION_ENABLED")?,
            allow_unverified_login: flag("ALLOW_UNVERIFIED_EMAIL_LOGIN")?,
            mail,
            mail_from: var(env, "MAIL_FROM")
                .unwrap_or_else(|| "Keyward <no-reply@keyward.invalid>".into()),
            dev_outbox,
            dev_cert_header,
        })
    }
}
