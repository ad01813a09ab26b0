//! `POST /auth/login` and `POST /auth/logout` (SPEC §4, §5; the Atom seed).
//!
//! Login takes `{identifier, secret}`: the identifier is an email address, normalised by
//! the core; the password is NFKC-normalised by the core before argon2id. An unknown
//! identifier, a wrong password, an entity without a password and an entity that is not
//! active all answer the same 401 bytes after the same work (one D1 query, one argon2id
//! at the password profile); the precise reason goes to the audit log. Every attempt
//! counts against a per-identifier limit (`objects/throttle.rs`). A correct password of
//! an entity whose email is unverified gets 403 `email_not_verified` unless
//! `ALLOW_UNVERIFIED_EMAIL_LOGIN`: only someone who knows the password learns that.
//! A hash with weaker parameters than the current profile is upgraded on success.

use keyward_core::bearer::MAX_TOKEN_LEN;
use keyward_core::email::normalize_email;
use keyward_core::jwt::{self, Claims};
use keyward_core::password::{self, Argon2Profile};
use keyward_core::password_policy;
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::json;
use worker::Request;

use crate::Outcome;
use crate::auth::{self, Principal};
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs, rng};
use crate::objects::throttle::{self, Purpose};
use crate::routes::Cx;
use crate::signing;
use crate::store::audit::{self, AuditEvent};
use crate::store::identity::{self, LoginRecord};
use crate::store::sessions::{self, NewSession};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    identifier: String,
    secret: String,
}

pub async fn login(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let body: LoginBody = http::json_body(req).await?;
    let identifier = normalize_email(&body.identifier)
        .map_err(|_| ApiError::invalid("identifier must be an email address"))?;
    if body.secret.chars().count() > password_policy::MAX_CHARS {
        return Err(ApiError::invalid(format!(
            "secret is longer than {} characters",
            password_policy::MAX_CHARS
        )));
    }
    throttle::attempt(cx, Purpose::Login, &identifier).await?;
    let secret = password_policy::normalize(&body.secret);
    let db = cx.env.d1("DB")?;
    let record = identity::login_record(&db, &identifier).await?;
    let stored = record.as_ref().and_then(|r| r.secret_phc.clone());
    let matched = match stored.as_deref() {
        Some(phc) => password::verify(secret.expose().as_bytes(), phc).unwrap_or(false),
        None => {
            let _ = password::verify_dummy(secret.expose().as_bytes(), Argon2Profile::PASSWORD);
            false
        }
    };
    let (record, phc) = match (record, stored) {
        (Some(record), Some(phc)) if matched => (record, phc),
        (record, _) => {
            let reason = match &record {
                None => "unknown_identifier",
                Some(r) if r.secret_phc.is_none() => "no_password",
                Some(_) => "wrong_password",
            };
            return Err(failed(cx, record.as_ref(), reason));
        }
    };
    if record.status != "active" {
        let reason = format!("entity_{}", record.status);
        return Err(failed(cx, Some(&record), &reason));
    }
    if record.email_verified_at.is_none() && !cx.config.allow_unverified_login {
        return Err(ApiError::forbidden_because(
            "email_not_verified",
            "verify your email address first: follow the link we sent, or ask for a new one at /auth/email/resend",
        ));
    }
    let password_id = record.password_id.clone().ok_or_else(ApiError::internal)?;
    if password::needs_rehash(&phc, Argon2Profile::PASSWORD) {
        let upgraded = password::hash(
            secret.expose().as_bytes(),
            Argon2Profile::PASSWORD,
            &mut rng(),
        )
        .map_err(|_| ApiError::internal())?;
        identity::upgrade_password_hash(&db, &password_id, &phc, &upgraded).await?;
    }
    let issuer = cx.config.issuer_for(req);
    let (kid, key) = signing::current(cx).await?;
    let now = now_secs();
    let session_id = ids::session_id();
    let expires_at = now + cx.config.session_ttl_secs;
    sessions::insert_session(
        &db,
        &NewSession {
            id: &session_id,
            org_id: &record.org_id,
            entity_id: &record.id,
            credential_id: &password_id,
            kid: &kid,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    let claims = Claims {
        iss: issuer,
        aud: jwt::SESSION_AUDIENCE.to_owned(),
        sub: record.id.clone(),
        sid: session_id.clone(),
        org: record.org_id.clone(),
        iat: now,
        exp: expires_at,
    };
    let token = jwt::sign(&key, &kid, &claims);
    if token.len() > MAX_TOKEN_LEN {
        // Only a request origin far longer than any `ISSUER` the settings accept gets here.
        worker::console_error!(
            "session token of {} characters: set ISSUER (at most 64 characters)",
            token.len()
        );
        return Err(ApiError::internal());
    }
    audit::append(
        cx,
        AuditEvent {
            org_id: Some(record.org_id.clone()),
            event: "login.succeeded",
            actor_id: Some(record.id.clone()),
            credential_id: Some(password_id),
            detail: Some(json!({ "session_id": session_id })),
            ..AuditEvent::default()
        },
    );
    Ok(http::bare_ok(
        200,
        &json!({
            "token": token,
            "entity_id": record.id,
            "session_id": session_id,
            "expires_at": UnixTime(expires_at).to_rfc3339(),
        }),
    ))
}

/// Revokes the session of the presented JWT; its token fails from the next request on.
pub async fn logout(req: &Request, cx: &Cx<'_>) -> Outcome {
    let p: Principal = auth::authenticate(req, cx).await?;
    if p.auth_method != "session" {
        return Err(ApiError::invalid(
            "logout ends a session: present the session's JWT",
        ));
    }
    let db = cx.env.d1("DB")?;
    if sessions::revoke_session(&db, &p.credential_id, now_secs()).await? {
        audit::append(
            cx,
            AuditEvent {
                org_id: Some(p.org_id.clone()),
                event: "logout",
                actor_id: Some(p.entity_id.clone()),
                detail: Some(json!({ "session_id": p.credential_id })),
                ..AuditEvent::default()
            },
        );
    }
    Ok(http::bare_ok(
        200,
        &json!({ "session_id": p.credential_id, "revoked": true }),
    ))
}

/// The one answer to every failed login, after the reason went to the audit log.
fn failed(cx: &Cx<'_>, record: Option<&LoginRecord>, reason: &str) -> ApiError {
    audit::append(
        cx,
        AuditEvent {
            org_id: record.map(|r| r.org_id.clone()),
            event: "login.failed",
            reason: Some(reason.to_owned()),
            actor_id: record.map(|r| r.id.clone()),
            ..AuditEvent::default()
        },
    );
    ApiError::invalid_credentials()
}
