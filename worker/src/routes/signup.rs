//! Self-registration and email verification (SPEC §4; the Atom seed):
//! `POST /auth/signup`, `GET /auth/email/verify?token=`, `POST /auth/email/resend`.
//!
//! Signup needs `SELF_REGISTRATION_ENABLED=true`. It creates, in one D1 batch, the
//! person's account (the normalised email is its login identifier), its password, a
//! personal org, the membership owning it and a verification token; the link goes out
//! through the mail port. The answer is the same 202 whether or not the address was taken (an owner of a
//! taken address gets a notice instead of a link), so signup does not tell who has an
//! account; resend answers the same 202 for every address, and a resend retires every
//! earlier link. Signups and verification emails are limited per address.

use keyward_core::email::normalize_email;
use keyward_core::email_token::{EmailToken, TokenPurpose};
use keyward_core::rules;
use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement, Request};

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs};
use crate::mail::{self, Message};
use crate::objects::throttle::{self, Purpose};
use crate::objects::webhook_outbox;
use crate::routes::{Cx, query, secrets};
use crate::store::accounts;
use crate::store::audit::{self, AuditEvent};
use crate::store::identity::{self, Entity};
use crate::store::tokens::{self, TokenTable};
use crate::store::webhook_events::{self, Event};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupBody {
    name: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendBody {
    email: String,
}

/// The one answer of signup and resend.
fn accepted(email: &str) -> Outcome {
    Ok(http::bare_ok(
        202,
        &json!({
            "status": "verification_sent",
            "email": email,
            "message": "if this address can receive a verification link, one is on its way",
        }),
    ))
}

pub async fn signup(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    if !cx.config.self_registration {
        return Err(ApiError::forbidden_because(
            "registration_disabled",
            "self-registration is disabled on this deployment",
        ));
    }
    let body: SignupBody = http::json_body(req).await?;
    let name = rules::name(&body.name)?;
    let email =
        normalize_email(&body.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let prepared = secrets::acceptable(&body.password)?;
    throttle::attempt(cx, Purpose::Signup, &email).await?;
    let password = secrets::hash_password(&prepared)?;
    let now = now_secs();
    let account_id = ids::account_id();
    let entity = Entity::new(
        &ids::org_id(),
        "human",
        name,
        Some((account_id.clone(), email.clone())),
        "owner",
        now,
    );
    let db = cx.env.d1("DB")?;
    let mut batch = vec![
        accounts::insert(&db, &account_id, &email, None, now)?,
        identity::insert_personal_org(&db, &entity.org_id, &format!("{}'s org", entity.name), now)?,
        identity::insert_entity(&db, &entity)?,
        accounts::touch_last_org(&db, &account_id, &entity.org_id)?,
    ];
    batch.extend(accounts::set_password(
        &db,
        &account_id,
        &password.id,
        &password.phc,
        now,
    )?);
    let (token, statements) = new_link(cx, &db, &account_id, &email, now)?;
    batch.extend(statements);
    // Counted before the write: a mail over the limit is skipped (a resend can follow
    // later), but never turns a committed signup into a refusal.
    let may_mail = throttle::attempt(cx, Purpose::VerificationEmail, &email)
        .await
        .is_ok();
    match db.batch(batch).await {
        Ok(_) => {
            if may_mail {
                mail::send(cx, link_message(cx, req, &email, &token));
            }
            audit::append(
                cx,
                AuditEvent {
                    org_id: Some(entity.org_id.clone()),
                    event: "entity.signed_up",
                    actor_id: Some(entity.id.clone()),
                    ..AuditEvent::default()
                },
            );
        }
        Err(error) if identity::is_unique_violation(&error) => {
            // The address has an account: tell its owner, not the caller.
            if may_mail {
                mail::send(
                    cx,
                    Message {
                        to: email.clone(),
                        subject: "Someone tried to sign up with your address".into(),
                        text: "An account with this email address exists already. If this was you, log in instead; if not, you can ignore this message.".into(),
                    },
                );
            }
        }
        Err(error) => return Err(error.into()),
    }
    accepted(&email)
}

pub async fn verify(req: &Request, cx: &Cx<'_>) -> Outcome {
    let invalid = || {
        ApiError::invalid_because(
            "invalid_token",
            "this verification link is invalid, used or expired; ask for a new one",
        )
    };
    let text = query(req, "token").ok_or_else(|| ApiError::invalid("token is required"))?;
    let token_hash =
        secrets::presented(cx, TokenPurpose::Verification, &text).ok_or_else(invalid)?;
    let db = cx.env.d1("DB")?;
    let now = now_secs();
    let pending = tokens::find(&db, TokenTable::Verification, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    if pending.used_at.is_some() || pending.expires_at <= now {
        return Err(invalid());
    }
    // The token's use is guarded in its WHERE; the account is marked verified only for
    // the address the token was sent to. A self-registration's first verification
    // completes the signup: its event goes to the personal org, in the same batch.
    let personal = identity::personal_membership(&db, &pending.account_id).await?;
    let mut batch = vec![
        tokens::use_once(&db, TokenTable::Verification, &token_hash, now)?,
        accounts::verify_email(&db, &pending.account_id, &pending.email, now)?,
    ];
    if let Some((org_id, entity_id)) = &personal {
        let event = Event::new(
            org_id,
            "signup.completed",
            json!({ "org_id": org_id, "entity_id": entity_id, "account_id": pending.account_id }),
        );
        batch.push(webhook_events::insert_if_changed(&db, &event)?);
    }
    let results = db.batch(batch).await?;
    if results.first().map_or(0, crate::store::d1::changed) != 1 {
        return Err(invalid());
    }
    if let Some((org_id, _)) = &personal {
        webhook_outbox::announce(cx, org_id);
    }
    audit::append(
        cx,
        AuditEvent {
            event: "email.verified",
            detail: Some(json!({ "account_id": pending.account_id })),
            ..AuditEvent::default()
        },
    );
    Ok(http::bare_ok(
        200,
        &json!({ "verified": true, "account_id": pending.account_id, "email": pending.email }),
    ))
}

pub async fn resend(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let body: ResendBody = http::json_body(req).await?;
    let email =
        normalize_email(&body.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    throttle::attempt(cx, Purpose::VerificationEmail, &email).await?;
    let db = cx.env.d1("DB")?;
    let account = accounts::by_email(&db, &email).await?;
    if let Some(account) = account.filter(|a| a.email_verified_at.is_none() && a.status == "active")
    {
        let (token, statements) = new_link(cx, &db, &account.id, &email, now_secs())?;
        // After the answer, so a known address takes no longer than an unknown one; the
        // link goes out once its token is stored.
        let delivery = mail::delivery(cx, link_message(cx, req, &email, &token));
        cx.ctx.wait_until(async move {
            match db.batch(statements).await {
                Ok(_) => delivery.await,
                Err(error) => worker::console_error!("verification token not stored: {error}"),
            }
        });
    }
    accepted(&email)
}

/// A fresh verification token for `email`, and the statements that store it and retire
/// every earlier one.
fn new_link(
    cx: &Cx<'_>,
    db: &D1Database,
    account_id: &str,
    email: &str,
    now: u64,
) -> worker::Result<(EmailToken, Vec<D1PreparedStatement>)> {
    secrets::account_token(cx, db, TokenTable::Verification, account_id, email, now)
}

fn link_message(cx: &Cx<'_>, req: &Request, email: &str, token: &EmailToken) -> Message {
    let link = format!(
        "{}/auth/email/verify?token={}",
        cx.config.issuer_for(req),
        token.expose()
    );
    Message {
        to: email.to_owned(),
        subject: "Verify your email address".into(),
        text: format!(
            "Follow this link within 24 hours to verify your address:\n\n{link}\n\nIf you did not sign up, ignore this message."
        ),
    }
}
