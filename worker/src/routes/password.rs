//! A person's own password (issue 8): `POST /auth/password/change` with a session and
//! the current password, and a reset by mail: `POST /auth/password/reset` and
//! `POST /auth/password/reset/confirm`.
//!
//! A change ends the account's other sessions; a confirmed reset ends all of them and
//! proves the address (the link came by mail). A reset request answers the same 202
//! for every address, known or not, and mails a single-use `{p}r_` link valid 1 hour
//! to an active account only, after the answer; a newer link retires older ones.
//! Guesses at the current password count against the login limit of the address, and
//! reset requests against a per-address limit, like verification emails.

use keyward_core::email::normalize_email;
use keyward_core::email_token::TokenPurpose;
use keyward_core::password;
use keyward_core::password_policy;
use serde::Deserialize;
use serde_json::json;
use worker::Request;

use crate::Outcome;
use crate::auth;
use crate::http::{self, ApiError};
use crate::ids::now_secs;
use crate::mail::{self, Message};
use crate::objects::throttle::{self, Purpose};
use crate::routes::Cx;
use crate::routes::login::session_required;
use crate::routes::secrets::{self, NewPassword};
use crate::store::accounts;
use crate::store::audit::{self, AuditEvent};
use crate::store::tokens::{self, TokenTable};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    current: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    token: String,
    password: String,
}

/// `POST /auth/password/change {current, password}`.
pub async fn change(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let p = auth::authenticate(req, cx).await?;
    let account_id = p.account_id.clone().ok_or_else(session_required)?;
    let body: ChangeBody = http::json_body(req).await?;
    if body.current.chars().count() > password_policy::MAX_CHARS {
        return Err(wrong_current());
    }
    let prepared = secrets::acceptable(&body.password)?;
    let db = cx.env.d1("DB")?;
    let account = accounts::by_id(&db, &account_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    throttle::attempt(cx, Purpose::Login, &account.email).await?;
    let current = password_policy::normalize(&body.current);
    let live = accounts::live_password(&db, &account_id).await?;
    let matches = live
        .as_deref()
        .is_some_and(|phc| password::verify(current.expose().as_bytes(), phc).unwrap_or(false));
    if !matches {
        audit::append(
            cx,
            AuditEvent {
                reason: Some("wrong_current_password".into()),
                ..p.audit("password.change_failed")
            },
        );
        return Err(wrong_current());
    }
    let NewPassword { id, phc } = secrets::hash_password(&prepared)?;
    let now = now_secs();
    let mut batch = accounts::set_password(&db, &account_id, &id, &phc, now)?;
    batch.push(accounts::end_sessions(
        &db,
        &account_id,
        Some(&p.credential_id),
        now,
    )?);
    db.batch(batch).await?;
    audit::append(
        cx,
        AuditEvent {
            credential_id: Some(id.clone()),
            detail: Some(json!({ "account_id": account_id })),
            ..p.audit("password.changed")
        },
    );
    Ok(http::bare_ok(
        200,
        &json!({ "changed": true, "credential_id": id, "other_sessions_ended": true }),
    ))
}

fn wrong_current() -> ApiError {
    ApiError::invalid_because("wrong_password", "the current password is not right")
}

/// `POST /auth/password/reset {email}`: the same 202 for every address.
pub async fn reset(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let body: ResetBody = http::json_body(req).await?;
    let email =
        normalize_email(&body.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    throttle::attempt(cx, Purpose::PasswordReset, &email).await?;
    let db = cx.env.d1("DB")?;
    if let Some(account) = accounts::by_email(&db, &email)
        .await?
        .filter(|a| a.status == "active")
    {
        let (token, statements) = secrets::account_token(
            cx,
            &db,
            TokenTable::PasswordReset,
            &account.id,
            &email,
            now_secs(),
        )?;
        let message = Message {
            to: email.clone(),
            subject: "Reset your password".into(),
            text: format!(
                "Someone asked to reset the password of your account. Within one hour, send this token with your new password to {}/auth/password/reset/confirm:\n\n{}\n\nIf it was not you, ignore this message: your password stays as it is.",
                cx.config.issuer_for(req),
                token.expose()
            ),
        };
        // After the answer, so a known address takes no longer than an unknown one; the
        // link goes out once its token is stored.
        let delivery = mail::delivery(cx, message);
        cx.ctx.wait_until(async move {
            match db.batch(statements).await {
                Ok(_) => delivery.await,
                Err(error) => worker::console_error!("reset token not stored: {error}"),
            }
        });
    }
    Ok(http::bare_ok(
        202,
        &json!({
            "status": "reset_sent",
            "email": email,
            "message": "if this address has an account, a reset link is on its way",
        }),
    ))
}

/// `POST /auth/password/reset/confirm {token, password}`.
pub async fn confirm(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let body: ConfirmBody = http::json_body(req).await?;
    let invalid = || {
        ApiError::invalid_because(
            "invalid_token",
            "this reset link is invalid, used or expired; ask for a new one",
        )
    };
    let token_hash =
        secrets::presented(cx, TokenPurpose::PasswordReset, &body.token).ok_or_else(invalid)?;
    let prepared = secrets::acceptable(&body.password)?;
    let db = cx.env.d1("DB")?;
    let now = now_secs();
    let pending = tokens::find(&db, TokenTable::PasswordReset, &token_hash)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid)?;
    throttle::attempt(cx, Purpose::Login, &pending.email).await?;
    let NewPassword { id, phc } = secrets::hash_password(&prepared)?;
    let results = db
        .batch(accounts::reset_password(
            &db,
            &token_hash,
            &pending.account_id,
            &pending.email,
            &id,
            &phc,
            now,
        )?)
        .await?;
    if results.last().map_or(0, crate::store::d1::changed) != 1 {
        return Err(invalid());
    }
    audit::append(
        cx,
        AuditEvent {
            event: "password.reset",
            credential_id: Some(id.clone()),
            detail: Some(json!({ "account_id": pending.account_id })),
            ..AuditEvent::default()
        },
    );
    Ok(http::bare_ok(
        200,
        &json!({ "reset": true, "credential_id": id, "sessions_ended": true }),
    ))
}
