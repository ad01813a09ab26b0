//! Authentication of `/v1/*` (SPEC §4, the 401 rule).
//!
//! The core parses and routes the bearer token; the key's Durable Object answers status
//! and rate limit in one call. Every failure becomes the same 401 (rendered by
//! `http.rs`); the precise reason goes to the audit log only. Authentication happens
//! before rate limiting: a request that fails here consumes no budget.

use futures_util::future::Either;
use keyward_core::ErrorCode;
use keyward_core::api_key::key_prefix;
use keyward_core::bearer::{Bearer, token_from_header};
use keyward_core::digest::sha256;
use keyward_core::encoding::hex_encode;
use keyward_core::password::{self, Argon2Profile};
use worker::{Method, Request, RequestInit};

use crate::http::ApiError;
use crate::lease;
use crate::lookup_memo;
use crate::objects::key_gate::{GateAnswer, GateRequest, KeyRef};
use crate::routes::Cx;
use crate::store::audit::{self, AuditEvent};
use crate::store::d1::{KeyLocator, KeyRecord};

/// An authenticated caller.
pub struct Principal {
    pub org_id: String,
    pub entity_id: String,
    pub role: String,
    pub credential_id: String,
    pub key_prefix: String,
    pub auth_method: &'static str,
    pub namespaces: Vec<String>,
    pub rate: RateInfo,
}

impl Principal {
    /// Owners and admins manage their org.
    pub fn is_admin(&self) -> bool {
        matches!(self.role.as_str(), "owner" | "admin")
    }
}

/// What the `RateLimit-*` headers report.
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
}

/// Authenticates the request's bearer credential and consumes one unit of its budget.
pub async fn authenticate(req: &Request, cx: &Cx<'_>) -> Result<Principal, ApiError> {
    let header = req.headers().get("Authorization").ok().flatten();
    let token = match token_from_header(header.as_deref()) {
        Ok(token) => token,
        Err(reason) => return Err(refuse(cx, reason.code(), None, None)),
    };
    let shown = Some(key_prefix(token).to_owned());
    let bearer = match Bearer::route(token, &cx.config.prefix) {
        Ok(bearer) => bearer,
        Err(reason) => return Err(refuse(cx, reason.code(), shown, None)),
    };
    let now_ms = worker::Date::now().as_millis();
    let (locator, digest) = match &bearer {
        Bearer::LookupKey(key) => {
            let hash = lookup_memo::lookup_hash(
                key,
                cx.config.hash_secret.expose(),
                cx.config.lookup_iterations,
            );
            (KeyLocator::LookupHash(hex_encode(&hash)), None)
        }
        Bearer::IdSecretKey(key) => (
            KeyLocator::CredentialId(key.credential_id().to_hex()),
            Some(hex_encode(&sha256(key.secret().as_bytes()))),
        ),
        Bearer::Jwt(_) | Bearer::AccessToken(_) | Bearer::RefreshToken(_) => {
            return Err(refuse_owned(
                cx,
                format!("unsupported_{}", bearer.kind()),
                shown,
                None,
            ));
        }
        _ => return Err(refuse(cx, "unknown_token_shape", shown, None)),
    };
    let object = locator.object_name();
    if let Some((key, rate)) = lease::spend(&object, now_ms, digest.as_deref()) {
        return Ok(principal(key, rate));
    }
    let mut ask = GateRequest {
        locator,
        now_ms,
        secret_digest: digest.clone(),
        verified: false,
    };
    let mut answer = gate(cx, &ask).await?;
    if let Bearer::IdSecretKey(key) = &bearer {
        answer = match answer {
            GateAnswer::Verify { phc } => match password::verify(key.secret().as_bytes(), &phc) {
                Ok(true) => {
                    ask.verified = true;
                    gate(cx, &ask).await?
                }
                _ => GateAnswer::Refused {
                    reason: "wrong_secret".into(),
                    key: None,
                },
            },
            GateAnswer::Refused { reason, key: None } if reason == "unknown_key" => {
                // Spend what a real verification costs, so timing does not tell.
                let _ = password::verify_dummy(key.secret().as_bytes(), Argon2Profile::LIGHT);
                GateAnswer::Refused { reason, key: None }
            }
            other => other,
        };
    }
    match answer {
        GateAnswer::Allowed {
            key,
            limit,
            remaining,
            reset,
            granted,
            expires_ms,
        } => {
            let spare = granted.saturating_sub(1);
            if spare > 0 {
                let lease = lease::Lease {
                    key: key.clone(),
                    limit,
                    remaining,
                    reset,
                    left: spare,
                    expires_ms,
                    digest,
                };
                lease::keep(object, lease);
            }
            let reset = if remaining + spare > 0 { 0 } else { reset };
            Ok(principal(
                key,
                RateInfo {
                    limit,
                    remaining: remaining + spare,
                    reset,
                },
            ))
        }
        GateAnswer::Limited { retry_after, .. } => Err(ApiError::rate_limited(
            retry_after,
            "rate limit exceeded for this API key",
        )),
        GateAnswer::Refused { reason, key } => Err(refuse_owned(cx, reason, shown, key)),
        GateAnswer::Verify { .. } => Err(refuse(cx, "verification_loop", shown, None)),
    }
}

fn principal(key: KeyRecord, rate: RateInfo) -> Principal {
    Principal {
        namespaces: serde_json::from_str(&key.namespaces).unwrap_or_default(),
        org_id: key.org_id,
        entity_id: key.entity_id,
        role: key.role,
        credential_id: key.id,
        key_prefix: key.key_prefix,
        auth_method: "api_key",
        rate,
    }
}

/// Asks the key's Durable Object. If it cannot be reached, or does not answer within
/// [`GATE_TIMEOUT_MS`], the request fails closed (503).
async fn gate(cx: &Cx<'_>, ask: &GateRequest) -> Result<GateAnswer, ApiError> {
    let attempt = async {
        let stub = cx
            .env
            .durable_object("KEY_GATE")?
            .id_from_name(&ask.locator.object_name())?
            .get_stub()?;
        let body =
            serde_json::to_string(ask).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let mut response = stub
            .fetch_with_request(Request::new_with_init("https://key-gate/authorize", &init)?)
            .await?;
        response.json::<GateAnswer>().await
    };
    // A gate that does not answer in time is as good as unreachable: refuse, do not wait.
    let deadline = worker::Delay::from(std::time::Duration::from_millis(GATE_TIMEOUT_MS));
    match futures_util::future::select(Box::pin(attempt), Box::pin(deadline)).await {
        Either::Left((Ok(answer), _)) => Ok(answer),
        Either::Left((Err(error), _)) => {
            worker::console_error!("key gate unreachable: {error}");
            Err(ApiError::unavailable())
        }
        Either::Right(_) => {
            worker::console_error!("key gate did not answer in {GATE_TIMEOUT_MS} ms");
            Err(ApiError::unavailable())
        }
    }
}

/// How long a request waits for its key's Durable Object before failing closed.
const GATE_TIMEOUT_MS: u64 = 5_000;

fn refuse(
    cx: &Cx<'_>,
    reason: &'static str,
    shown: Option<String>,
    key: Option<KeyRef>,
) -> ApiError {
    refuse_owned(cx, reason.to_owned(), shown, key)
}

/// Writes the precise reason to the audit log and returns the uniform 401.
fn refuse_owned(
    cx: &Cx<'_>,
    reason: String,
    shown: Option<String>,
    key: Option<KeyRef>,
) -> ApiError {
    let event = AuditEvent {
        org_id: key.as_ref().map(|k| k.org_id.clone()),
        event: "auth.failed",
        reason: Some(reason),
        actor_id: key.as_ref().map(|k| k.entity_id.clone()),
        credential_id: key.as_ref().map(|k| k.id.clone()),
        key_prefix: key.as_ref().map(|k| k.key_prefix.clone()).or(shown),
        detail: None,
    };
    audit::append(cx, event);
    ApiError::unauthorized()
}
