//! Authentication of `/v1/*` (SPEC §4, the 401 rule).
//!
//! The core parses and routes the bearer token; the key's Durable Object answers status
//! and rate limit in one call. Every failure becomes the same 401 (rendered by
//! `http.rs`); the precise reason goes to the audit log only. Authentication happens
//! before rate limiting: a request that fails here consumes no budget.

use futures_util::future::Either;
use keyward_core::ErrorCode;
use keyward_core::api_key::{KeyRefusal, key_prefix};
use keyward_core::bearer::{Bearer, token_from_header};
use keyward_core::certificate;
use keyward_core::digest::sha256;
use keyward_core::encoding::hex_encode;
use keyward_core::jwt;
use keyward_core::password::{self, Argon2Profile};
use keyward_core::time::UnixTime;
use worker::Request;

use crate::context::Cx;
use crate::http::ApiError;
use crate::ids::now_secs;
use crate::lease;
use crate::lookup_memo;
use crate::objects::grant_gate::{self, AccessAnswer, GrantAsk};
use crate::objects::key_gate::{GateAnswer, GateRequest, KeyRef};
use crate::principal::Principal;
use crate::signing;
use crate::store::audit::{self, AuditEvent};
use crate::store::d1::{KeyLocator, KeyRecord};
use crate::store::sessions;

/// Authenticates the request's credential (a bearer token or, without an
/// `Authorization` header, a verified client certificate) and, for keys and
/// certificates, consumes one unit of its budget.
pub async fn authenticate(req: &Request, cx: &Cx<'_>) -> Result<Principal, ApiError> {
    let header = req.headers().get("Authorization").ok().flatten();
    if header.is_none() {
        match client_certificate(req, cx) {
            Some(Ok(fingerprint)) => {
                let shown = Some(fingerprint[..12].to_owned());
                return admit(cx, KeyLocator::Fingerprint(fingerprint), None, shown).await;
            }
            Some(Err(reason)) => return Err(refuse(cx, reason, None, None)),
            None => {}
        }
    }
    let token = match token_from_header(header.as_deref()) {
        Ok(token) => token,
        Err(reason) => return Err(refuse(cx, reason.code(), None, None)),
    };
    let shown = Some(key_prefix(token).to_owned());
    let bearer = match Bearer::route(token, &cx.config.prefix) {
        Ok(bearer) => bearer,
        Err(reason) => return Err(refuse(cx, reason.code(), shown, None)),
    };
    match &bearer {
        Bearer::LookupKey(key) => {
            let hash = lookup_memo::lookup_hash(
                key,
                cx.config.hash_secret.expose(),
                cx.config.lookup_iterations,
            );
            admit(cx, KeyLocator::LookupHash(hex_encode(&hash)), None, shown).await
        }
        Bearer::IdSecretKey(key) => {
            let locator = KeyLocator::CredentialId(key.credential_id().to_hex());
            admit(cx, locator, Some(key.secret()), shown).await
        }
        Bearer::Jwt(jwt) => session(req, cx, jwt, shown).await,
        Bearer::AccessToken(token) => access_token(cx, token, shown).await,
        Bearer::RefreshToken(_) => Err(refuse(cx, "refresh_token_at_resource", shown, None)),
        _ => Err(refuse(cx, "unknown_token_shape", shown, None)),
    }
}

/// The SHA-256 fingerprint (lowercase hex) of the client certificate, when one was
/// presented and verified: from Cloudflare's mTLS (`request.cf.tlsClientAuth`), or, in
/// development with `DEV_CLIENT_CERT_HEADER`, from the `X-Client-Cert-Fingerprint` header.
fn client_certificate(req: &Request, cx: &Cx<'_>) -> Option<Result<String, &'static str>> {
    let presented = if cx.config.dev_cert_header {
        req.headers()
            .get("X-Client-Cert-Fingerprint")
            .ok()
            .flatten()?
    } else {
        let auth = req.cf()?.tls_client_auth()?;
        if auth.cert_verified() != "SUCCESS" {
            return None;
        }
        auth.cert_fingerprint_sha256()
    };
    Some(
        certificate::parse_fingerprint(&presented)
            .map(|fp| hex_encode(&fp))
            .map_err(|_| "certificate_fingerprint_malformed"),
    )
}

/// A key or certificate: its gate answers status and rate limit, from a lease when
/// this isolate holds one. `secret` is an `id_secret` key's secret, checked with
/// argon2id here unless the gate has seen it verified.
async fn admit(
    cx: &Cx<'_>,
    locator: KeyLocator,
    secret: Option<&str>,
    shown: Option<String>,
) -> Result<Principal, ApiError> {
    let now_ms = worker::Date::now().as_millis();
    let digest = secret.map(|s| hex_encode(&sha256(s.as_bytes())));
    let object = locator.object_name();
    if let Some(caller) = lease::spend(&object, now_ms, digest.as_deref()) {
        return Ok(caller);
    }
    let mut ask = GateRequest {
        locator,
        now_ms,
        secret_digest: digest.clone(),
        verified: false,
    };
    let mut answer = gate(cx, &ask).await?;
    if let Some(secret) = secret {
        answer = match answer {
            GateAnswer::Verify { phc } => match password::verify(secret.as_bytes(), &phc) {
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
                let _ = password::verify_dummy(secret.as_bytes(), Argon2Profile::LIGHT);
                GateAnswer::Refused { reason, key: None }
            }
            other => other,
        };
    }
    match answer {
        GateAnswer::Allowed { key, admitted } => Ok(admitted.admit(object, principal(key), digest)),
        GateAnswer::Limited { retry_after, .. } => Err(ApiError::rate_limited(
            retry_after,
            "rate limit exceeded for this API key",
        )),
        GateAnswer::Refused { reason, key } => Err(refuse_owned(cx, reason, shown, key)),
        GateAnswer::Verify { .. } => Err(refuse(cx, "verification_loop", shown, None)),
    }
}

fn principal(key: KeyRecord) -> Principal {
    Principal {
        namespaces: serde_json::from_str(&key.namespaces).unwrap_or_default(),
        auth_method: if key.scheme == "certificate" {
            "certificate"
        } else {
            "api_key"
        },
        org_id: key.org_id,
        entity_id: key.entity_id,
        account_id: None,
        client_id: None,
        role: key.role,
        credential_id: key.id,
        key_prefix: key.key_prefix,
        rate: None,
    }
}

/// A session JWT: the core checks the token (EdDSA only, strict header, `iss`, `aud`,
/// `exp`) against the key its `kid` names, then the session, its membership and its
/// account are read live, so logout, suspension, removal and an account-wide disable
/// take effect on the next request.
async fn session(
    req: &Request,
    cx: &Cx<'_>,
    token: &str,
    shown: Option<String>,
) -> Result<Principal, ApiError> {
    let kid = jwt::header_kid(token).map_err(|e| refuse(cx, e.code(), shown.clone(), None))?;
    let Some(key) = signing::verifying_key(cx, &kid).await? else {
        return Err(refuse(cx, "jwt_unknown_kid", shown, None));
    };
    let issuer = cx.config.issuer_for(req);
    let now = now_secs();
    let expect = jwt::Expect {
        issuer: &issuer,
        audience: jwt::SESSION_AUDIENCE,
        now: UnixTime(now),
        leeway_secs: 0,
    };
    let claims =
        jwt::verify(token, &key, &expect).map_err(|e| refuse(cx, e.code(), shown.clone(), None))?;
    let db = cx.env.d1("DB")?;
    let live = sessions::live_session(&db, &claims.sid)
        .await?
        .filter(|s| s.entity_id == claims.sub && s.org_id == claims.org);
    let Some(live) = live else {
        return Err(refuse(cx, "session_unknown", shown, None));
    };
    let refusal = KeyRefusal::check(
        live.revoked_at.is_some(),
        Some(UnixTime(live.expires_at)),
        &live.entity_status,
        UnixTime(now),
    );
    if let Err(reason) = refusal {
        let who = KeyRef {
            id: live.id,
            org_id: live.org_id,
            entity_id: live.entity_id,
            key_prefix: shown.clone().unwrap_or_default(),
        };
        return Err(refuse_owned(
            cx,
            format!("session_{}", reason.code()),
            shown,
            Some(who),
        ));
    }
    Ok(Principal {
        org_id: live.org_id,
        entity_id: live.entity_id,
        account_id: Some(live.account_id),
        client_id: None,
        role: live.role,
        credential_id: live.id,
        key_prefix: String::new(),
        auth_method: "session",
        // A person's session reaches every namespace of its org.
        namespaces: vec![keyward_core::namespace::ALL.to_owned()],
        rate: None,
    })
}

/// An OAuth access token: its grant's object answers whether it is live, the grant's
/// standing (membership and account, live) and the per-grant rate limit in one call,
/// and for a busy grant leases admissions for this very token as a key's gate does.
async fn access_token(
    cx: &Cx<'_>,
    token: &keyward_core::bearer::OAuthToken,
    shown: Option<String>,
) -> Result<Principal, ApiError> {
    let grant_id = token.grant().to_hex();
    let hash = token.keyed_hash(cx.config.hash_secret.expose());
    let digest = Some(hex_encode(&hash));
    let now_ms = worker::Date::now().as_millis();
    let object = grant_gate::object_name(&grant_id);
    if let Some(caller) = lease::spend(&object, now_ms, digest.as_deref()) {
        return Ok(caller);
    }
    let ask = GrantAsk::Access {
        hash,
        now_ms,
        limit: cx.config.oauth_rate_limit_rpm,
    };
    match grant_gate::ask::<AccessAnswer>(cx, &grant_id, &ask).await? {
        AccessAnswer::Allowed { standing, admitted } => {
            let caller = Principal {
                org_id: standing.org_id,
                entity_id: standing.entity_id,
                account_id: None,
                client_id: Some(standing.client_id),
                role: standing.role,
                credential_id: standing.id,
                key_prefix: token.key_prefix().to_owned(),
                auth_method: "oauth",
                // A grant reaches every namespace of its org (the Primitive seed's full
                // API access).
                namespaces: vec![keyward_core::namespace::ALL.to_owned()],
                rate: None,
            };
            Ok(admitted.admit(object, caller, digest))
        }
        AccessAnswer::Limited { retry_after } => Err(ApiError::rate_limited(
            retry_after,
            "rate limit exceeded for this OAuth grant",
        )),
        AccessAnswer::Refused { reason, standing } => {
            let who = standing.map(|s| KeyRef {
                id: s.id,
                org_id: s.org_id,
                entity_id: s.entity_id,
                key_prefix: token.key_prefix().to_owned(),
            });
            Err(refuse_owned(cx, reason, shown, who))
        }
    }
}

/// Asks the key's Durable Object. If it cannot be reached, or does not answer within
/// [`GATE_TIMEOUT_MS`], the request fails closed (503).
async fn gate(cx: &Cx<'_>, ask: &GateRequest) -> Result<GateAnswer, ApiError> {
    let name = ask.locator.object_name();
    let attempt = crate::objects::call::<GateAnswer>(
        cx.env,
        "KEY_GATE",
        &name,
        "https://key-gate/authorize",
        ask,
    );
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
