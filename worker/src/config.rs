//! Settings, read from the Worker's environment on each request (cheap: no I/O).
//!
//! | name | kind | default | meaning |
//! |---|---|---|---|
//! | `KEY_PREFIX` | var | `ptmc` | token prefix, `[a-z][a-z0-9]{1,15}` |
//! | `DEFAULT_KEY_SCHEME` | var | `lookup` | scheme of `POST /v1/keys` when the request names none |
//! | `LOOKUP_ITERATIONS` | var | `1000` | PBKDF2 iterations of the `lookup` hash (changing it invalidates existing lookup keys) |
//! | `REALM` | var | `Keyward API` | the `realm` of `WWW-Authenticate` |
//! | `ISSUER` | var | the request's origin | base URL in metadata and `WWW-Authenticate` |
//! | `HASH_SECRET` | secret | – | salt of the lookup hash, key of token hashes |
//! | `ADMIN_TOKEN` | secret | – | bearer of `POST /admin/bootstrap` |

use keyward_core::api_key::{KeyPrefix, KeyScheme};
use keyward_core::secret::{SecretBytes, SecretString};
use std::rc::Rc;

use worker::Env;

use crate::http::ApiError;

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
        let hash_secret = env
            .secret("HASH_SECRET")
            .map(|s| s.to_string())
            .ok()
            .filter(|s| s.len() >= 32)
            .ok_or_else(|| misconfigured("HASH_SECRET missing or shorter than 32 characters"))?;
        let admin_token = env
            .secret("ADMIN_TOKEN")
            .ok()
            .map(|s| s.to_string())
            .filter(|s| s.len() >= 32);
        let issuer = var(env, "ISSUER").map(|i| i.trim_end_matches('/').to_string());
        Ok(Self {
            prefix,
            default_scheme,
            lookup_iterations,
            realm: var(env, "REALM").unwrap_or_else(|| "Keyward API".into()),
            issuer,
            hash_secret: SecretBytes::new(hash_secret.into_bytes()),
            admin_token: admin_token.map(SecretString::new),
        })
    }
}
