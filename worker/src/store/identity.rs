//! D1 queries of entities and their credentials (issue 4). Writes that must not race
//! say how they are made atomic, as in `d1.rs`.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::http::ApiError;
use crate::store::d1::{changed, opt_secs};

/// An entity row.
#[derive(Clone, Debug, Deserialize)]
pub struct Entity {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
    pub email_verified_at: Option<u64>,
    pub role: String,
    pub status: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub version: u64,
}

const ENTITY_SELECT: &str = "SELECT id, org_id, kind, name, email, email_verified_at, role, status, created_at, updated_at, version FROM entities ";

/// An entity of `org_id`, or `None` (also for another org's id: the caller answers 404).
pub async fn entity(db: &D1Database, org_id: &str, id: &str) -> worker::Result<Option<Entity>> {
    db.prepare(format!("{ENTITY_SELECT}WHERE org_id = ?1 AND id = ?2"))
        .bind(&[org_id.into(), id.into()])?
        .first::<Entity>(None)
        .await
}

/// The entity whose login identifier (normalised email) is `email`.
pub async fn entity_by_email(db: &D1Database, email: &str) -> worker::Result<Option<Entity>> {
    db.prepare(format!("{ENTITY_SELECT}WHERE email = ?1"))
        .bind(&[email.into()])?
        .first::<Entity>(None)
        .await
}

/// A page of an org's entities in (created_at, id) order.
pub async fn entity_page(
    db: &D1Database,
    org_id: &str,
    after: Option<(u64, String)>,
    limit: u32,
) -> worker::Result<Vec<Entity>> {
    let [created, id] = crate::store::d1::keyset(after);
    db.prepare(format!(
        "{ENTITY_SELECT}WHERE org_id = ?1 AND (created_at, id) > (?2, ?3) ORDER BY created_at, id LIMIT ?4"
    ))
    .bind(&[org_id.into(), created, id, JsValue::from_f64(f64::from(limit))])?
    .all()
    .await?
    .results::<Entity>()
}

/// A new entity's insert. The unique index on `email` refuses a second entity with the
/// same login identifier (the caller maps that to 409).
pub fn insert_entity(db: &D1Database, e: &Entity) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "INSERT INTO entities (id, org_id, kind, name, email, email_verified_at, role, status, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )
    .bind(&[
        e.id.as_str().into(),
        e.org_id.as_str().into(),
        e.kind.as_str().into(),
        e.name.as_str().into(),
        e.email.as_deref().map_or(JsValue::NULL, JsValue::from_str),
        opt_secs(e.email_verified_at),
        e.role.as_str().into(),
        e.status.as_str().into(),
        JsValue::from_f64(e.created_at as f64),
    ])
}

/// Whether a D1 error is a unique-constraint violation (a lost race or a duplicate).
pub fn is_unique_violation(error: &worker::Error) -> bool {
    error.to_string().contains("UNIQUE constraint failed")
}

/// Writes `name`, `role` and `status` with compare-and-swap on `version`: `Ok(false)`
/// when the row changed since it was read, and nothing was written.
pub async fn update_entity(db: &D1Database, e: &Entity, now: u64) -> Result<bool, ApiError> {
    let result = db
        .prepare(
            "UPDATE entities SET name = ?1, role = ?2, status = ?3, updated_at = ?4, version = version + 1 \
             WHERE id = ?5 AND org_id = ?6 AND version = ?7",
        )
        .bind(&[
            e.name.as_str().into(),
            e.role.as_str().into(),
            e.status.as_str().into(),
            JsValue::from_f64(now as f64),
            e.id.as_str().into(),
            e.org_id.as_str().into(),
            JsValue::from_f64(e.version as f64),
        ])?
        .run()
        .await?;
    Ok(changed(&result) == 1)
}

/// Marks the entity's email verified (once).
pub fn verify_email(
    db: &D1Database,
    entity_id: &str,
    email: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE entities SET email_verified_at = ?1, updated_at = ?1, version = version + 1 \
         WHERE id = ?2 AND email = ?3 AND email_verified_at IS NULL",
    )
    .bind(&[
        JsValue::from_f64(now as f64),
        entity_id.into(),
        email.into(),
    ])
}

/// A credential as listed: metadata only.
#[derive(Clone, Debug, Deserialize)]
pub struct CredentialMeta {
    pub id: String,
    pub kind: String,
    pub key_prefix: Option<String>,
    pub lookup_hash: Option<String>,
    pub cert_fingerprint: Option<String>,
    pub cert_not_after: Option<u64>,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub revoked_at: Option<u64>,
}

const CREDENTIAL_SELECT: &str = "SELECT id, kind, key_prefix, lookup_hash, cert_fingerprint, cert_not_after, \
     created_at, expires_at, revoked_at FROM credentials ";

/// Every credential of an entity, oldest first (an entity holds a handful).
pub async fn credentials_of(
    db: &D1Database,
    entity_id: &str,
) -> worker::Result<Vec<CredentialMeta>> {
    db.prepare(format!(
        "{CREDENTIAL_SELECT}WHERE entity_id = ?1 ORDER BY created_at, id LIMIT 1000"
    ))
    .bind(&[entity_id.into()])?
    .all()
    .await?
    .results::<CredentialMeta>()
}

/// One credential of an entity.
pub async fn credential_of(
    db: &D1Database,
    entity_id: &str,
    id: &str,
) -> worker::Result<Option<CredentialMeta>> {
    db.prepare(format!(
        "{CREDENTIAL_SELECT}WHERE entity_id = ?1 AND id = ?2"
    ))
    .bind(&[entity_id.into(), id.into()])?
    .first::<CredentialMeta>(None)
    .await
}

/// Revokes one credential of an entity, once: `Ok(true)` if this call revoked it.
pub async fn revoke_credential(
    db: &D1Database,
    entity_id: &str,
    id: &str,
    now: u64,
) -> Result<bool, ApiError> {
    let result = db
        .prepare(
            "UPDATE credentials SET revoked_at = ?1, version = version + 1 \
             WHERE id = ?2 AND entity_id = ?3 AND revoked_at IS NULL",
        )
        .bind(&[JsValue::from_f64(now as f64), id.into(), entity_id.into()])?
        .run()
        .await?;
    Ok(changed(&result) == 1)
}

/// Replaces an entity's password: the old one is revoked and the new one inserted in
/// one batch (a transaction; the partial unique index allows one live password).
pub fn set_password(
    db: &D1Database,
    org_id: &str,
    entity_id: &str,
    id: &str,
    phc: &str,
    now: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        db.prepare(
            "UPDATE credentials SET revoked_at = ?1, version = version + 1 \
             WHERE entity_id = ?2 AND kind = 'password' AND revoked_at IS NULL",
        )
        .bind(&[JsValue::from_f64(now as f64), entity_id.into()])?,
        db.prepare(
            "INSERT INTO credentials (id, org_id, entity_id, kind, name, secret_phc, created_at) \
             VALUES (?1, ?2, ?3, 'password', 'password', ?4, ?5)",
        )
        .bind(&[
            id.into(),
            org_id.into(),
            entity_id.into(),
            phc.into(),
            JsValue::from_f64(now as f64),
        ])?,
    ])
}

/// Upgrades a password hash found with outdated parameters, only if it is still the
/// stored one (compare-and-swap on the PHC string).
pub async fn upgrade_password_hash(
    db: &D1Database,
    id: &str,
    old: &str,
    new: &str,
) -> worker::Result<()> {
    db.prepare("UPDATE credentials SET secret_phc = ?1, version = version + 1 WHERE id = ?2 AND secret_phc = ?3 AND revoked_at IS NULL")
        .bind(&[new.into(), id.into(), old.into()])?
        .run()
        .await
        .map(|_| ())
}

/// A new certificate credential.
pub struct NewCertificate<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub entity_id: &'a str,
    pub name: &'a str,
    pub fingerprint: &'a str,
    pub subject: &'a str,
    pub not_before: u64,
    pub not_after: u64,
    pub now: u64,
}

/// Inserts a certificate; the partial unique index refuses a fingerprint that is live.
pub async fn insert_certificate(db: &D1Database, c: &NewCertificate<'_>) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO credentials (id, org_id, entity_id, kind, name, cert_fingerprint, cert_subject, cert_not_before, \
         cert_not_after, rate_limit_rpm, created_at) VALUES (?1, ?2, ?3, 'certificate', ?4, ?5, ?6, ?7, ?8, 60, ?9)",
    )
    .bind(&[
        c.id.into(),
        c.org_id.into(),
        c.entity_id.into(),
        c.name.into(),
        c.fingerprint.into(),
        c.subject.into(),
        JsValue::from_f64(c.not_before as f64),
        JsValue::from_f64(c.not_after as f64),
        JsValue::from_f64(c.now as f64),
    ])?
    .run()
    .await
    .map(|_| ())
}

/// What a login needs, read in one query whether or not the password exists, so an
/// unknown identifier and a known one cost the same storage work.
#[derive(Clone, Debug, Deserialize)]
pub struct LoginRecord {
    pub id: String,
    pub org_id: String,
    pub status: String,
    pub email_verified_at: Option<u64>,
    pub password_id: Option<String>,
    pub secret_phc: Option<String>,
}

pub async fn login_record(db: &D1Database, email: &str) -> worker::Result<Option<LoginRecord>> {
    db.prepare(
        "SELECT e.id, e.org_id, e.status, e.email_verified_at, c.id AS password_id, c.secret_phc \
         FROM entities e LEFT JOIN credentials c ON c.entity_id = e.id AND c.kind = 'password' AND c.revoked_at IS NULL \
         WHERE e.email = ?1",
    )
    .bind(&[email.into()])?
    .first::<LoginRecord>(None)
    .await
}

/// A personal org's insert (self-registration).
pub fn insert_personal_org(
    db: &D1Database,
    id: &str,
    name: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare("INSERT INTO orgs (id, name, created_at, personal) VALUES (?1, ?2, ?3, 1)")
        .bind(&[id.into(), name.into(), JsValue::from_f64(now as f64)])
}
