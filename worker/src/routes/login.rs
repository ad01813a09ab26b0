//! `POST /auth/login`, `POST /auth/logout` and `GET /auth/orgs` (SPEC §4, §5; the Atom
//! seed; issue 8).
//!
//! Login takes `{identifier, secret, org_id?}`: the identifier is an email address,
//! normalised by the core, naming an account; the password is NFKC-normalised by the
//! core before argon2id. The session opens in one of the person's orgs, chosen by the
//! core (`keyward_core::membership::login_org`): `org_id` when given, else the org last
//! used, else the oldest active membership. An unknown identifier, a wrong password, an
//! account without a password, a disabled account, and an `org_id` the person is not
//! an active member of all answer the same 401 bytes after the same work (one D1 query,
//! one argon2id at the password profile); the precise reason goes to the audit log.
//! Every attempt counts against a per-identifier limit (`objects/throttle.rs`). A
//! correct password of an account whose email is unverified gets 403
//! `email_not_verified` unless `ALLOW_UNVERIFIED_EMAIL_LOGIN`: only someone who knows
//! the password learns that. A hash with weaker parameters than the current profile is
//! upgraded on success.

use keyward_core::ErrorCode;
use keyward_core::bearer::MAX_TOKEN_LEN;
use keyward_core::email::normalize_email;
use keyward_core::jwt::{self, Claims};
use keyward_core::membership::{self, Membership};
use keyward_core::password::{self, Argon2Profile};
use keyward_core::password_policy;
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::auth;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs, rng};
use crate::objects::throttle::{self, Purpose};
use crate::principal::Principal;
use crate::routes::Cx;
use crate::signing;
use crate::store::accounts::{self, LoginRow};
use crate::store::audit::{self, AuditEvent};
use crate::store::sessions::{self, NewSession};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    identifier: String,
    secret: String,
    org_id: Option<String>,
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
    if body.org_id.as_deref().is_some_and(|o| !ids::is_org_id(o)) {
        return Err(ApiError::invalid(
            "org_id must be an org id (org_ and 32 hex digits)",
        ));
    }
    let rows = check_password(cx, &identifier, &body.secret).await?;
    let account = &rows[0];
    let memberships: Vec<(Membership<'_>, &LoginRow)> = rows
        .iter()
        .filter_map(|r| {
            let m = Membership {
                org_id: r.org_id.as_deref()?,
                status: r.entity_status.as_deref()?,
            };
            Some((m, r))
        })
        .collect();
    let choices: Vec<Membership<'_>> = memberships.iter().map(|(m, _)| *m).collect();
    let chosen = match membership::login_org(
        &choices,
        body.org_id.as_deref(),
        account.last_org_id.as_deref(),
    ) {
        Ok(index) => memberships[index].1,
        Err(refusal) => {
            return Err(failed(
                cx,
                Some(account),
                body.org_id.as_deref(),
                refusal.code(),
            ));
        }
    };
    unverified(cx, account)?;
    let (Some(password_id), Some(entity_id), Some(org_id)) = (
        account.password_id.clone(),
        chosen.entity_id.clone(),
        chosen.org_id.clone(),
    ) else {
        return Err(ApiError::internal());
    };
    let db = cx.env.d1("DB")?;
    let issuer = cx.config.issuer_for(req);
    let (kid, key) = signing::current(cx).await?;
    let now = now_secs();
    let session_id = ids::session_id();
    let expires_at = now + cx.config.session_ttl_secs;
    db.batch(vec![
        sessions::insert_session(
            &db,
            &NewSession {
                id: &session_id,
                org_id: &org_id,
                entity_id: &entity_id,
                account_id: &account.account_id,
                password_id: &password_id,
                kid: &kid,
                created_at: now,
                expires_at,
            },
        )?,
        accounts::touch_last_org(&db, &account.account_id, &org_id)?,
    ])
    .await?;
    let claims = Claims {
        iss: issuer,
        aud: jwt::SESSION_AUDIENCE.to_owned(),
        sub: entity_id.clone(),
        sid: session_id.clone(),
        org: org_id.clone(),
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
            org_id: Some(org_id),
            event: "login.succeeded",
            actor_id: Some(entity_id.clone()),
            credential_id: Some(password_id),
            detail: Some(json!({ "session_id": session_id, "account_id": account.account_id })),
            ..AuditEvent::default()
        },
    );
    Ok(http::bare_ok(
        200,
        &json!({
            "token": token,
            "entity_id": entity_id,
            "session_id": session_id,
            "expires_at": UnixTime(expires_at).to_rfc3339(),
        }),
    ))
}

/// Checks a person's password (`identifier` already normalised): counts the attempt
/// against the identifier's login limit, reads the account, its live password and its
/// memberships in one query, spends one argon2id verification whether or not the
/// account exists, refuses disabled accounts, and upgrades an outdated hash. Every
/// failure is the same 401 (the reason goes to the audit log). Returns the login rows:
/// the first names the account, and each names one live membership.
pub async fn check_password(
    cx: &Cx<'_>,
    identifier: &str,
    secret: &str,
) -> Result<Vec<LoginRow>, ApiError> {
    throttle::attempt(cx, Purpose::Login, identifier).await?;
    let secret = password_policy::normalize(secret);
    let db = cx.env.d1("DB")?;
    let rows = accounts::login_rows(&db, identifier).await?;
    let account = rows.first();
    let stored = account.and_then(|r| r.secret_phc.clone());
    let matched = match stored.as_deref() {
        Some(phc) => password::verify(secret.expose().as_bytes(), phc).unwrap_or(false),
        None => {
            let _ = password::verify_dummy(secret.expose().as_bytes(), Argon2Profile::PASSWORD);
            false
        }
    };
    let (account, phc) = match (account, stored) {
        (Some(account), Some(phc)) if matched => (account, phc),
        (account, _) => {
            let reason = match account {
                None => "unknown_identifier",
                Some(r) if r.secret_phc.is_none() => "no_password",
                Some(_) => "wrong_password",
            };
            return Err(failed(cx, account, None, reason));
        }
    };
    if account.account_status != "active" {
        return Err(failed(cx, Some(account), None, "account_disabled"));
    }
    if let (Some(password_id), true) = (
        &account.password_id,
        password::needs_rehash(&phc, Argon2Profile::PASSWORD),
    ) {
        let upgraded = password::hash(
            secret.expose().as_bytes(),
            Argon2Profile::PASSWORD,
            &mut rng(),
        )
        .map_err(|_| ApiError::internal())?;
        accounts::upgrade_password_hash(&db, password_id, &phc, &upgraded).await?;
    }
    Ok(rows)
}

/// The answer to a right password of an account whose address is not verified, unless
/// the deployment allows that.
pub fn unverified(cx: &Cx<'_>, account: &LoginRow) -> Result<(), ApiError> {
    if account.email_verified_at.is_none() && !cx.config.allow_unverified_login {
        return Err(ApiError::forbidden_because(
            "email_not_verified",
            "verify your email address first: follow the link we sent, or ask for a new one at /auth/email/resend",
        ));
    }
    Ok(())
}

/// `GET /auth/orgs`: the signed-in person's orgs, each with their role and status
/// there; `current` marks the session's org.
pub async fn orgs(req: &Request, cx: &Cx<'_>) -> Outcome {
    let p = auth::authenticate(req, cx).await?;
    let account_id = p.account_id.as_deref().ok_or_else(session_required)?;
    let rows = accounts::memberships(&cx.env.d1("DB")?, account_id).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|m| {
            json!({
                "org_id": m.org_id,
                "name": m.org_name,
                "personal": m.personal == 1,
                "entity_id": m.entity_id,
                "role": m.role,
                "status": m.status,
                "current": m.org_id == p.org_id,
                "joined_at": UnixTime(m.created_at).to_rfc3339(),
            })
        })
        .collect();
    Ok(http::bare_ok(200, &json!({ "items": items })))
}

/// What a person's own endpoints answer to a key or certificate.
pub fn session_required() -> ApiError {
    ApiError::invalid(
        "this endpoint acts on a person's account: present a session JWT from /auth/login",
    )
}

/// Revokes the session of the presented JWT; its token fails from the next request on.
pub async fn logout(req: &Request, cx: &Cx<'_>) -> Outcome {
    let p: Principal = auth::authenticate(req, cx).await?;
    if p.auth_method != "session" {
        return Err(session_required());
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
fn failed(cx: &Cx<'_>, account: Option<&LoginRow>, org_id: Option<&str>, reason: &str) -> ApiError {
    audit::append(
        cx,
        AuditEvent {
            event: "login.failed",
            reason: Some(reason.to_owned()),
            detail: Some(json!({
                "account_id": account.map(|a| &a.account_id),
                "requested_org_id": org_id,
            })),
            ..AuditEvent::default()
        },
    );
    ApiError::invalid_credentials()
}
