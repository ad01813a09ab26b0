//! D1 queries of invitations to join an org (`{p}i_` tokens, 7 days, single use). A
//! second invitation for the same org and email withdraws the first in the same batch
//! (the partial unique index `invitations_pending` allows one pending invitation per
//! org and email). Accepting is one batch whose inserts are guarded by the invitation
//! still being pending, and whose last statement marks it accepted: two concurrent
//! accepts create one membership.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::store::d1::{changed, keyset};

/// An invitation row (never its token hash).
#[derive(Clone, Debug, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub invited_by: String,
    pub created_at: u64,
    pub expires_at: u64,
    pub accepted_at: Option<u64>,
    pub withdrawn_at: Option<u64>,
    /// The membership an accepted invitation created (or found).
    pub entity_id: Option<String>,
}

impl Invitation {
    /// `pending`, `accepted`, `withdrawn` or `expired` at `now`.
    pub fn status(&self, now: u64) -> &'static str {
        match (self.accepted_at, self.withdrawn_at) {
            (Some(_), _) => "accepted",
            (None, Some(_)) => "withdrawn",
            (None, None) if self.expires_at <= now => "expired",
            (None, None) => "pending",
        }
    }
}

const INVITATION_SELECT: &str = "SELECT id, org_id, email, name, role, invited_by, created_at, expires_at, accepted_at, withdrawn_at, entity_id FROM invitations ";

/// A new invitation.
pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub token_hash: &'a str,
    pub invited_by: &'a str,
    pub now: u64,
    pub expires_at: u64,
}

/// Withdraws the pending invitation of the same org and email, then stores this one.
pub fn replace(db: &D1Database, i: &NewInvitation<'_>) -> worker::Result<Vec<D1PreparedStatement>> {
    let now = JsValue::from_f64(i.now as f64);
    Ok(vec![
        db.prepare(
            "UPDATE invitations SET withdrawn_at = ?1 WHERE org_id = ?2 AND email = ?3 AND accepted_at IS NULL AND withdrawn_at IS NULL",
        )
        .bind(&[now.clone(), i.org_id.into(), i.email.into()])?,
        db.prepare(
            "INSERT INTO invitations (id, org_id, email, name, role, token_hash, invited_by, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(&[
            i.id.into(),
            i.org_id.into(),
            i.email.into(),
            i.name.into(),
            i.role.into(),
            i.token_hash.into(),
            i.invited_by.into(),
            now,
            JsValue::from_f64(i.expires_at as f64),
        ])?,
    ])
}

/// The invitation a token names.
pub async fn by_token(db: &D1Database, token_hash: &str) -> worker::Result<Option<Invitation>> {
    db.prepare(format!("{INVITATION_SELECT}WHERE token_hash = ?1"))
        .bind(&[token_hash.into()])?
        .first::<Invitation>(None)
        .await
}

/// An invitation of `org_id`, or `None` (also for another org's id).
pub async fn of_org(db: &D1Database, org_id: &str, id: &str) -> worker::Result<Option<Invitation>> {
    db.prepare(format!("{INVITATION_SELECT}WHERE org_id = ?1 AND id = ?2"))
        .bind(&[org_id.into(), id.into()])?
        .first::<Invitation>(None)
        .await
}

/// A page of the org's pending invitations (not accepted, withdrawn or expired).
pub async fn pending_page(
    db: &D1Database,
    org_id: &str,
    now: u64,
    after: Option<(u64, String)>,
    limit: u32,
) -> worker::Result<Vec<Invitation>> {
    let [created, id] = keyset(after);
    db.prepare(format!(
        "{INVITATION_SELECT}WHERE org_id = ?1 AND accepted_at IS NULL AND withdrawn_at IS NULL AND expires_at > ?2 \
         AND (created_at, id) > (?3, ?4) ORDER BY created_at, id LIMIT ?5"
    ))
    .bind(&[
        org_id.into(),
        JsValue::from_f64(now as f64),
        created,
        id,
        JsValue::from_f64(f64::from(limit)),
    ])?
    .all()
    .await?
    .results::<Invitation>()
}

/// Withdraws a pending invitation once: `Ok(true)` if this call withdrew it.
pub async fn withdraw(db: &D1Database, org_id: &str, id: &str, now: u64) -> worker::Result<bool> {
    let result = db
        .prepare(
            "UPDATE invitations SET withdrawn_at = ?1 WHERE org_id = ?2 AND id = ?3 AND accepted_at IS NULL AND withdrawn_at IS NULL",
        )
        .bind(&[JsValue::from_f64(now as f64), org_id.into(), id.into()])?
        .run()
        .await?;
    Ok(changed(&result) == 1)
}

/// The guard every statement of an acceptance carries: the invitation `?1` is still
/// pending at `?2`.
const STILL_PENDING: &str = "EXISTS (SELECT 1 FROM invitations WHERE id = ?1 AND accepted_at IS NULL AND withdrawn_at IS NULL AND expires_at > ?2)";

/// Marks the invitation accepted, naming the account's membership in its org: the last
/// statement of the acceptance batch, whose changed-row count says whether this
/// acceptance won.
fn mark_accepted(
    db: &D1Database,
    id: &str,
    account_id: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE invitations SET accepted_at = ?2, entity_id = \
         (SELECT e.id FROM entities e WHERE e.account_id = ?3 AND e.org_id = invitations.org_id AND e.status != 'deleted') \
         WHERE id = ?1 AND accepted_at IS NULL AND withdrawn_at IS NULL AND expires_at > ?2",
    )
    .bind(&[id.into(), JsValue::from_f64(now as f64), account_id.into()])
}

/// Who accepts: an account that exists, or a new one with its first password.
pub enum Acceptor<'a> {
    Existing {
        account_id: &'a str,
    },
    New {
        account_id: &'a str,
        password_id: &'a str,
        phc: &'a str,
    },
}

/// The acceptance batch: every statement is guarded by [`STILL_PENDING`], the new
/// membership also by the account having none in the org yet, and the acceptance
/// proves the address (it came by mail). Check the changed-row count of the last
/// statement ([`mark_accepted`]).
pub fn accept(
    db: &D1Database,
    invitation: &Invitation,
    acceptor: &Acceptor<'_>,
    entity_id: &str,
    now: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    let id = JsValue::from_str(&invitation.id);
    let at = JsValue::from_f64(now as f64);
    let mut batch = Vec::new();
    let account_id = match acceptor {
        Acceptor::New {
            account_id,
            password_id,
            phc,
        } => {
            batch.push(
                db.prepare(format!(
                    "INSERT INTO accounts (id, email, email_verified_at, status, last_org_id, created_at, updated_at) \
                     SELECT ?3, ?4, ?2, 'active', ?5, ?2, ?2 WHERE {STILL_PENDING}"
                ))
                .bind(&[
                    id.clone(),
                    at.clone(),
                    (*account_id).into(),
                    invitation.email.as_str().into(),
                    invitation.org_id.as_str().into(),
                ])?,
            );
            batch.push(
                db.prepare(format!(
                    "INSERT INTO passwords (id, account_id, secret_phc, created_at) SELECT ?3, ?4, ?5, ?2 WHERE {STILL_PENDING}"
                ))
                .bind(&[
                    id.clone(),
                    at.clone(),
                    (*password_id).into(),
                    (*account_id).into(),
                    (*phc).into(),
                ])?,
            );
            *account_id
        }
        Acceptor::Existing { account_id } => {
            batch.push(
                db.prepare(format!(
                    "UPDATE accounts SET email_verified_at = ?2, updated_at = ?2, version = version + 1 \
                     WHERE id = ?3 AND email = ?4 AND email_verified_at IS NULL AND {STILL_PENDING}"
                ))
                .bind(&[
                    id.clone(),
                    at.clone(),
                    (*account_id).into(),
                    invitation.email.as_str().into(),
                ])?,
            );
            *account_id
        }
    };
    batch.push(
        db.prepare(format!(
            "INSERT INTO entities (id, org_id, kind, name, account_id, role, status, created_at, updated_at) \
             SELECT ?3, ?4, 'human', ?5, ?6, ?7, 'active', ?2, ?2 WHERE {STILL_PENDING} \
             AND NOT EXISTS (SELECT 1 FROM entities WHERE account_id = ?6 AND org_id = ?4 AND status != 'deleted')"
        ))
        .bind(&[
            id.clone(),
            at.clone(),
            entity_id.into(),
            invitation.org_id.as_str().into(),
            invitation.name.as_str().into(),
            account_id.into(),
            invitation.role.as_str().into(),
        ])?,
    );
    batch.push(mark_accepted(db, &invitation.id, account_id, now)?);
    Ok(batch)
}
