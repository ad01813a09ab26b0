//! People in an org (issue 8): `POST/GET /v1/members`, `DELETE /v1/members/{id}`,
//! `GET /v1/invitations`, `DELETE /v1/invitations/{id}`, and
//! `POST /auth/invitations/accept`.
//!
//! Owners and admins add a person by email with a role. An address that has an account
//! joins at once (a new membership, and a notice by mail); any other address gets an
//! invitation by mail with a single-use `{p}i_` token valid 7 days, and accepting it
//! creates the account and the membership. Both cases answer the same status and
//! body, so the answer does not tell whether the address had an account; a second
//! invitation for the same org and address replaces the first. What an admin then
//! lists (members, or pending invitations) does show it: an org learns who joined it.
//!
//! Removing a member marks the membership `deleted` and, in the same transaction,
//! revokes every key, certificate and session it holds; its gates are invalidated
//! before the answer. The person's other orgs are untouched, and no change leaves the
//! org without an active owner (409).

use keyward_core::email::normalize_email;
use keyward_core::email_token::TokenPurpose;
use keyward_core::rules::{self, ROLES};
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs};
use crate::mail::{self, Message};
use crate::objects::throttle::{self, Purpose};
use crate::principal::Principal;
use crate::routes::entities::{authorize_change, commit_change, target};
use crate::routes::{Cx, next_page, page, secrets};
use crate::store::accounts;
use crate::store::audit::{self, AuditEvent};
use crate::store::identity::{self, Entity, Listing};
use crate::store::invitations::{self, Acceptor, Invitation, NewInvitation};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddBody {
    email: String,
    role: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    token: String,
    password: Option<String>,
}

/// `POST /v1/members`.
pub async fn add(req: &mut Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    let body: AddBody = http::json_body(req).await?;
    let role = rules::one_of(body.role.as_deref().unwrap_or("member"), &ROLES, "role")?;
    p.acting_on(false).may_create(role)?;
    let email =
        normalize_email(&body.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let name = match &body.name {
        Some(name) => rules::name(name)?,
        None => rules::name(email.split('@').next().unwrap_or("member"))?,
    };
    throttle::attempt(cx, Purpose::Invitation, &email).await?;
    let db = cx.env.d1("DB")?;
    let org_name = identity::org_name(&db, &p.org_id).await?;
    let now = now_secs();
    match accounts::by_email(&db, &email).await? {
        Some(account) => {
            let membership = Some((account.id.clone(), email.clone()));
            let entity = Entity::new(&p.org_id, "human", name, membership, role, now);
            match identity::insert_entity(&db, &entity)?.run().await {
                Ok(_) => {
                    mail::send(
                        cx,
                        Message {
                            to: email.clone(),
                            subject: format!("You were added to {org_name}"),
                            text: format!(
                                "You are now a member of {org_name} ({}) as {role}. Sign in as usual and choose it, or pass its org_id to POST /auth/login.",
                                p.org_id
                            ),
                        },
                    );
                    record(
                        cx,
                        p,
                        "member.added",
                        json!({ "entity_id": entity.id, "role": role }),
                    );
                }
                // Already a member here: nothing changes, and the answer is the same.
                Err(error) if identity::is_unique_violation(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
        None => {
            let (token, token_hash) = secrets::mint(cx, TokenPurpose::Invitation);
            let id = ids::invitation_id();
            let expires_at = now + TokenPurpose::Invitation.lifetime_secs();
            db.batch(invitations::replace(
                &db,
                &NewInvitation {
                    id: &id,
                    org_id: &p.org_id,
                    email: &email,
                    name: &name,
                    role,
                    token_hash: &token_hash,
                    invited_by: &p.entity_id,
                    now,
                    expires_at,
                },
            )?)
            .await?;
            mail::send(
                cx,
                Message {
                    to: email.clone(),
                    subject: format!("You are invited to {org_name}"),
                    text: format!(
                        "You are invited to join {org_name} as {role}. To accept within 7 days, choose a password and send it with this token to {}/auth/invitations/accept:\n\n{}\n\nIf you did not expect this, ignore this message.",
                        cx.config.issuer_for(req),
                        token.expose()
                    ),
                },
            );
            record(
                cx,
                p,
                "member.invited",
                json!({ "invitation_id": id, "role": role }),
            );
        }
    }
    Ok(http::v1_ok(
        202,
        json!({
            "email": email,
            "role": role,
            "status": "accepted",
            "message": "if this address has an account it joined the org; otherwise an invitation is on its way",
        }),
        None,
    ))
}

/// `GET /v1/members`: the org's people (live memberships), oldest first.
pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    let (limit, after) = page(req)?;
    let rows = identity::entity_page(
        &cx.env.d1("DB")?,
        &p.org_id,
        Listing::Members,
        after,
        limit + 1,
    )
    .await?;
    let (rows, next) = next_page(rows, limit, |e| (e.created_at, &e.id));
    Ok(http::v1_ok(
        200,
        Value::Array(rows.iter().map(render_member).collect()),
        Some(next),
    ))
}

/// `DELETE /v1/members/{id}`: removes the membership and everything it holds.
pub async fn remove(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    let before = target(cx, p, id).await?;
    if before.account_id.is_none() || before.status == "deleted" {
        return Err(ApiError::not_found());
    }
    let after = Entity {
        status: "deleted".into(),
        ..before.clone()
    };
    let db = cx.env.d1("DB")?;
    authorize_change(&db, p, &before, &after, true).await?;
    let now = now_secs();
    let also = identity::revoke_everything_of(&db, &before.id, now)?;
    commit_change(cx, &db, &before, &after, also).await?;
    record(cx, p, "member.removed", json!({ "entity_id": before.id }));
    let removed = identity::entity(&db, &p.org_id, &before.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(http::v1_ok(200, render_member(&removed), None))
}

/// `GET /v1/invitations`: the org's pending invitations.
pub async fn list_invitations(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    let (limit, after) = page(req)?;
    let now = now_secs();
    let rows =
        invitations::pending_page(&cx.env.d1("DB")?, &p.org_id, now, after, limit + 1).await?;
    let (rows, next) = next_page(rows, limit, |i| (i.created_at, &i.id));
    Ok(http::v1_ok(
        200,
        Value::Array(rows.iter().map(|i| render_invitation(i, now)).collect()),
        Some(next),
    ))
}

/// `DELETE /v1/invitations/{id}`: withdraws a pending invitation (idempotent).
pub async fn withdraw(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    if !ids::has_id_shape(id, "inv_") {
        return Err(ApiError::not_found());
    }
    let db = cx.env.d1("DB")?;
    let now = now_secs();
    invitations::of_org(&db, &p.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if invitations::withdraw(&db, &p.org_id, id, now).await? {
        record(
            cx,
            p,
            "invitation.withdrawn",
            json!({ "invitation_id": id }),
        );
    }
    let invitation = invitations::of_org(&db, &p.org_id, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(http::v1_ok(200, render_invitation(&invitation, now), None))
}

/// `POST /auth/invitations/accept {token, password?}`. Every unusable token (unknown,
/// used, withdrawn, replaced, expired) answers the same 400.
pub async fn accept(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let body: AcceptBody = http::json_body(req).await?;
    let invalid = || {
        ApiError::invalid_because(
            "invalid_token",
            "this invitation is invalid, used, withdrawn or expired; ask for a new one",
        )
    };
    let token_hash =
        secrets::presented(cx, TokenPurpose::Invitation, &body.token).ok_or_else(invalid)?;
    let db = cx.env.d1("DB")?;
    let now = now_secs();
    let invitation = invitations::by_token(&db, &token_hash)
        .await?
        .filter(|i| i.status(now) == "pending")
        .ok_or_else(invalid)?;
    let existing = accounts::by_email(&db, &invitation.email).await?;
    let (account_id, password_id, phc) = match (&existing, &body.password) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "this address has an account already: accept without a password, then sign in with yours",
            ));
        }
        (Some(account), None) => (account.id.clone(), String::new(), String::new()),
        (None, None) => {
            return Err(ApiError::invalid(
                "password is required: accepting creates your account",
            ));
        }
        (None, Some(password)) => {
            let new = secrets::hash_password(&secrets::acceptable(password)?)?;
            (ids::account_id(), new.id, new.phc)
        }
    };
    let acceptor = if existing.is_some() {
        Acceptor::Existing {
            account_id: &account_id,
        }
    } else {
        Acceptor::New {
            account_id: &account_id,
            password_id: &password_id,
            phc: &phc,
        }
    };
    let entity_id = ids::entity_id();
    let results = match db
        .batch(invitations::accept(
            &db,
            &invitation,
            &acceptor,
            &entity_id,
            now,
        )?)
        .await
    {
        Ok(results) => results,
        Err(error) if identity::is_unique_violation(&error) => {
            return Err(ApiError::conflict(
                "an account for this address was created meanwhile: accept again",
            ));
        }
        Err(error) => return Err(error.into()),
    };
    if results.last().map_or(0, crate::store::d1::changed) != 1 {
        return Err(invalid());
    }
    let accepted = invitations::of_org(&db, &invitation.org_id, &invitation.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    let member_id = accepted.entity_id.unwrap_or(entity_id);
    audit::append(
        cx,
        AuditEvent {
            org_id: Some(invitation.org_id.clone()),
            event: "invitation.accepted",
            actor_id: Some(member_id.clone()),
            detail: Some(json!({
                "invitation_id": invitation.id,
                "account_id": account_id,
                "account_created": existing.is_none(),
            })),
            ..AuditEvent::default()
        },
    );
    Ok(http::bare_ok(
        200,
        &json!({
            "org_id": invitation.org_id,
            "entity_id": member_id,
            "role": invitation.role,
            "account_created": existing.is_none(),
        }),
    ))
}

fn record(cx: &Cx<'_>, p: &Principal, event: &'static str, detail: Value) {
    audit::append(
        cx,
        AuditEvent {
            detail: Some(detail),
            ..p.audit(event)
        },
    );
}

fn render_member(e: &Entity) -> Value {
    json!({
        "id": e.id,
        "email": e.email,
        "email_verified": e.email_verified_at.is_some(),
        "name": e.name,
        "role": e.role,
        "status": e.status,
        "joined_at": UnixTime(e.created_at).to_rfc3339(),
    })
}

fn render_invitation(i: &Invitation, now: u64) -> Value {
    json!({
        "id": i.id,
        "email": i.email,
        "name": i.name,
        "role": i.role,
        "status": i.status(now),
        "invited_by": i.invited_by,
        "created_at": UnixTime(i.created_at).to_rfc3339(),
        "expires_at": UnixTime(i.expires_at).to_rfc3339(),
    })
}
