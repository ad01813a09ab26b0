//! D1 queries of accounts (issue 8): the person behind human entities, their password,
//! their memberships and the login that chooses one. Writes that must not race say how
//! they are made atomic, as in `d1.rs`.

use keyward_core::access::AccountHold;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::store::d1::{changed, opt_secs};

/// An account row.
#[derive(Clone, Debug, Deserialize)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<u64>,
    pub status: String,
}

const ACCOUNT_SELECT: &str = "SELECT id, email, email_verified_at, status FROM accounts ";

/// The account whose login identifier (normalised email) is `email`.
pub async fn by_email(db: &D1Database, email: &str) -> worker::Result<Option<Account>> {
    db.prepare(format!("{ACCOUNT_SELECT}WHERE email = ?1"))
        .bind(&[email.into()])?
        .first::<Account>(None)
        .await
}

/// A new account's insert; the unique index on `email` refuses a second one.
pub fn insert(
    db: &D1Database,
    id: &str,
    email: &str,
    verified_at: Option<u64>,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "INSERT INTO accounts (id, email, email_verified_at, status, created_at, updated_at) \
         VALUES (?1, ?2, ?3, 'active', ?4, ?4)",
    )
    .bind(&[
        id.into(),
        email.into(),
        opt_secs(verified_at),
        JsValue::from_f64(now as f64),
    ])
}

/// Sets an account's status everywhere (`PATCH /admin/accounts`): `Ok(true)` if it
/// changed.
pub async fn set_status(db: &D1Database, id: &str, status: &str, now: u64) -> worker::Result<bool> {
    let result = db
        .prepare(
            "UPDATE accounts SET status = ?1, updated_at = ?2, version = version + 1 WHERE id = ?3 AND status != ?1",
        )
        .bind(&[status.into(), JsValue::from_f64(now as f64), id.into()])?
        .run()
        .await?;
    Ok(changed(&result) == 1)
}

/// Marks the account's address verified (once), for the address the proof was sent to.
pub fn verify_email(
    db: &D1Database,
    account_id: &str,
    email: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE accounts SET email_verified_at = ?1, updated_at = ?1, version = version + 1 \
         WHERE id = ?2 AND email = ?3 AND email_verified_at IS NULL",
    )
    .bind(&[
        JsValue::from_f64(now as f64),
        account_id.into(),
        email.into(),
    ])
}

/// Remembers the org a login opened, so the next login without `org_id` opens it too.
pub fn touch_last_org(
    db: &D1Database,
    account_id: &str,
    org_id: &str,
) -> worker::Result<D1PreparedStatement> {
    db.prepare("UPDATE accounts SET last_org_id = ?1 WHERE id = ?2")
        .bind(&[org_id.into(), account_id.into()])
}

/// What an org may weigh before setting a person's password: whether the address was
/// proved, and how many live memberships the account has.
pub async fn hold(db: &D1Database, account_id: &str) -> worker::Result<AccountHold> {
    #[derive(Deserialize)]
    struct Row {
        email_verified_at: Option<u64>,
        memberships: u64,
    }
    let row = db
        .prepare(
            "SELECT a.email_verified_at, (SELECT COUNT(*) FROM entities e WHERE e.account_id = a.id AND e.status != 'deleted') AS memberships \
             FROM accounts a WHERE a.id = ?1",
        )
        .bind(&[account_id.into()])?
        .first::<Row>(None)
        .await?;
    Ok(row.map_or(
        // No account: nothing anyone could take over, but nothing to set either.
        AccountHold {
            verified: true,
            memberships: 0,
        },
        |r| AccountHold {
            verified: r.email_verified_at.is_some(),
            memberships: r.memberships,
        },
    ))
}

/// A password's metadata.
#[derive(Clone, Debug, Deserialize)]
pub struct PasswordMeta {
    pub id: String,
    pub created_at: u64,
    pub revoked_at: Option<u64>,
}

const PASSWORD_SELECT: &str = "SELECT id, created_at, revoked_at FROM passwords ";

/// Every password the account had, oldest first.
pub async fn passwords_of(db: &D1Database, account_id: &str) -> worker::Result<Vec<PasswordMeta>> {
    db.prepare(format!(
        "{PASSWORD_SELECT}WHERE account_id = ?1 ORDER BY created_at, id LIMIT 100"
    ))
    .bind(&[account_id.into()])?
    .all()
    .await?
    .results::<PasswordMeta>()
}

/// One password of the account.
pub async fn password_of(
    db: &D1Database,
    account_id: &str,
    id: &str,
) -> worker::Result<Option<PasswordMeta>> {
    db.prepare(format!(
        "{PASSWORD_SELECT}WHERE account_id = ?1 AND id = ?2"
    ))
    .bind(&[account_id.into(), id.into()])?
    .first::<PasswordMeta>(None)
    .await
}

/// Replaces the account's password: the old one is revoked and the new one inserted
/// in one batch (a transaction; the partial unique index allows one live password).
pub fn set_password(
    db: &D1Database,
    account_id: &str,
    id: &str,
    phc: &str,
    now: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        revoke_passwords(db, account_id, now)?,
        db.prepare(
            "INSERT INTO passwords (id, account_id, secret_phc, created_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(&[
            id.into(),
            account_id.into(),
            phc.into(),
            JsValue::from_f64(now as f64),
        ])?,
    ])
}

/// Revokes the account's live password (if any).
pub fn revoke_passwords(
    db: &D1Database,
    account_id: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare("UPDATE passwords SET revoked_at = ?1 WHERE account_id = ?2 AND revoked_at IS NULL")
        .bind(&[JsValue::from_f64(now as f64), account_id.into()])
}

/// Revokes one password once: the statement changes no row if it already was.
pub fn revoke_password(
    db: &D1Database,
    account_id: &str,
    id: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare("UPDATE passwords SET revoked_at = ?1 WHERE id = ?2 AND account_id = ?3 AND revoked_at IS NULL")
        .bind(&[JsValue::from_f64(now as f64), id.into(), account_id.into()])
}

/// Upgrades a password hash found with outdated parameters, only if it is still the
/// stored one (compare-and-swap on the PHC string).
pub async fn upgrade_password_hash(
    db: &D1Database,
    id: &str,
    old: &str,
    new: &str,
) -> worker::Result<()> {
    db.prepare("UPDATE passwords SET secret_phc = ?1 WHERE id = ?2 AND secret_phc = ?3 AND revoked_at IS NULL")
        .bind(&[new.into(), id.into(), old.into()])?
        .run()
        .await
        .map(|_| ())
}

/// What a login needs, in one query whether or not the account or its password exists
/// (an unknown identifier and a known one cost the same storage work): the account, its
/// live password, and one row per live membership, oldest first (a person with no
/// membership gets one row with the membership columns NULL).
#[derive(Clone, Debug, Deserialize)]
pub struct LoginRow {
    pub account_id: String,
    pub account_status: String,
    pub email_verified_at: Option<u64>,
    pub last_org_id: Option<String>,
    pub password_id: Option<String>,
    pub secret_phc: Option<String>,
    pub entity_id: Option<String>,
    pub org_id: Option<String>,
    pub entity_status: Option<String>,
}

pub async fn login_rows(db: &D1Database, email: &str) -> worker::Result<Vec<LoginRow>> {
    db.prepare(
        "SELECT a.id AS account_id, a.status AS account_status, a.email_verified_at, a.last_org_id, \
         p.id AS password_id, p.secret_phc, e.id AS entity_id, e.org_id, e.status AS entity_status \
         FROM accounts a \
         LEFT JOIN passwords p ON p.account_id = a.id AND p.revoked_at IS NULL \
         LEFT JOIN entities e ON e.account_id = a.id AND e.status != 'deleted' \
         WHERE a.email = ?1 ORDER BY e.created_at, e.id LIMIT 1000",
    )
    .bind(&[email.into()])?
    .all()
    .await?
    .results::<LoginRow>()
}

/// The PHC string of the account's live password, to check a signed-in person's
/// current password (`/auth/password/change`).
pub async fn live_password(db: &D1Database, account_id: &str) -> worker::Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        secret_phc: String,
    }
    Ok(db
        .prepare("SELECT secret_phc FROM passwords WHERE account_id = ?1 AND revoked_at IS NULL")
        .bind(&[account_id.into()])?
        .first::<Row>(None)
        .await?
        .map(|r| r.secret_phc))
}

/// A membership as `GET /auth/orgs` lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct OrgMembership {
    pub org_id: String,
    pub org_name: String,
    pub personal: u8,
    pub entity_id: String,
    pub role: String,
    pub status: String,
    pub created_at: u64,
}

/// The account's live memberships, oldest first.
pub async fn memberships(db: &D1Database, account_id: &str) -> worker::Result<Vec<OrgMembership>> {
    db.prepare(
        "SELECT o.id AS org_id, o.name AS org_name, o.personal, e.id AS entity_id, e.role, e.status, e.created_at \
         FROM entities e JOIN orgs o ON o.id = e.org_id \
         WHERE e.account_id = ?1 AND e.status != 'deleted' ORDER BY e.created_at, e.id LIMIT 1000",
    )
    .bind(&[account_id.into()])?
    .all()
    .await?
    .results::<OrgMembership>()
}

/// Ends the account's sessions, all of them or all but `keep`.
pub fn end_sessions(
    db: &D1Database,
    account_id: &str,
    keep: Option<&str>,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE sessions SET revoked_at = ?1 WHERE account_id = ?2 AND revoked_at IS NULL AND id != ?3",
    )
    .bind(&[
        JsValue::from_f64(now as f64),
        account_id.into(),
        keep.unwrap_or("").into(),
    ])
}

/// The account with id `id`.
pub async fn by_id(db: &D1Database, id: &str) -> worker::Result<Option<Account>> {
    db.prepare(format!("{ACCOUNT_SELECT}WHERE id = ?1"))
        .bind(&[id.into()])?
        .first::<Account>(None)
        .await
}

/// A confirmed password reset, as one batch: a new password, every session ended, the
/// address proved, every reset link of the account retired. Every statement is guarded
/// by the link `?1` still being unused at `?2`, and the last one uses it: its
/// changed-row count says whether this confirmation won (two at once set one password).
pub fn reset_password(
    db: &D1Database,
    token_hash: &str,
    account_id: &str,
    email: &str,
    password_id: &str,
    phc: &str,
    now: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    const UNUSED: &str = "EXISTS (SELECT 1 FROM password_resets WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2)";
    let head = [
        JsValue::from_str(token_hash),
        JsValue::from_f64(now as f64),
        JsValue::from_str(account_id),
    ];
    let with = |extra: &[JsValue]| -> Vec<JsValue> { head.iter().chain(extra).cloned().collect() };
    Ok(vec![
        db.prepare(format!(
            "UPDATE passwords SET revoked_at = ?2 WHERE account_id = ?3 AND revoked_at IS NULL AND {UNUSED}"
        ))
        .bind(&with(&[]))?,
        db.prepare(format!(
            "INSERT INTO passwords (id, account_id, secret_phc, created_at) SELECT ?4, ?3, ?5, ?2 WHERE {UNUSED}"
        ))
        .bind(&with(&[password_id.into(), phc.into()]))?,
        db.prepare(format!(
            "UPDATE sessions SET revoked_at = ?2 WHERE account_id = ?3 AND revoked_at IS NULL AND {UNUSED}"
        ))
        .bind(&with(&[]))?,
        db.prepare(format!(
            "UPDATE accounts SET email_verified_at = ?2, updated_at = ?2, version = version + 1 \
             WHERE id = ?3 AND email = ?4 AND email_verified_at IS NULL AND {UNUSED}"
        ))
        .bind(&with(&[email.into()]))?,
        db.prepare(format!(
            "UPDATE password_resets SET used_at = ?2 WHERE account_id = ?3 AND token_hash != ?1 AND used_at IS NULL AND {UNUSED}"
        ))
        .bind(&with(&[]))?,
        db.prepare(
            "UPDATE password_resets SET used_at = ?2 WHERE token_hash = ?1 AND account_id = ?3 AND used_at IS NULL AND expires_at > ?2",
        )
        .bind(&with(&[]))?,
    ])
}
