//! D1 queries of entities and their credentials (issue 4); a human entity's email and
//! password live on its account (`accounts.rs`). Writes that must not race say how they
//! are made atomic, as in `d1.rs`.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// An entity row, with its account's email for a person's membership.
#[derive(Clone, Debug, Deserialize)]
pub struct Entity {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub name: String,
    pub account_id: Option<String>,
    pub email: Option<String>,
    pub email_verified_at: Option<u64>,
    pub role: String,
    pub status: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub version: u64,
}

impl Entity {
    /// A new active entity of `org_id`, as inserted: a person's membership when
    /// `account` names their account and address.
    pub fn new(
        org_id: &str,
        kind: &str,
        name: String,
        account: Option<(String, String)>,
        role: &str,
        now: u64,
    ) -> Self {
        let (account_id, email) = account.unzip();
        Self {
            id: crate::ids::entity_id(),
            org_id: org_id.to_owned(),
            kind: kind.to_owned(),
            name,
            account_id,
            email,
            email_verified_at: None,
            role: role.to_owned(),
            status: "active".into(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

const ENTITY_SELECT: &str = "SELECT e.id, e.org_id, e.kind, e.name, e.account_id, a.email, a.email_verified_at, \
     e.role, e.status, e.created_at, e.updated_at, e.version FROM entities e LEFT JOIN accounts a ON a.id = e.account_id ";

/// An entity of `org_id`, or `None` (also for another org's id: the caller answers 404).
pub async fn entity(db: &D1Database, org_id: &str, id: &str) -> worker::Result<Option<Entity>> {
    db.prepare(format!("{ENTITY_SELECT}WHERE e.org_id = ?1 AND e.id = ?2"))
        .bind(&[org_id.into(), id.into()])?
        .first::<Entity>(None)
        .await
}

/// Which entities a page lists.
#[derive(Clone, Copy, Debug)]
pub enum Listing {
    /// Every entity of the org (`/entities`), removed ones included.
    All,
    /// People's live memberships (`/v1/members`).
    Members,
}

/// A page of an org's entities in (created_at, id) order.
pub async fn entity_page(
    db: &D1Database,
    org_id: &str,
    listing: Listing,
    after: Option<(u64, String)>,
    limit: u32,
) -> worker::Result<Vec<Entity>> {
    let [created, id] = crate::store::d1::keyset(after);
    let filter = match listing {
        Listing::All => "",
        Listing::Members => "AND e.account_id IS NOT NULL AND e.status != 'deleted' ",
    };
    db.prepare(format!(
        "{ENTITY_SELECT}WHERE e.org_id = ?1 {filter}AND (e.created_at, e.id) > (?2, ?3) ORDER BY e.created_at, e.id LIMIT ?4"
    ))
    .bind(&[org_id.into(), created, id, JsValue::from_f64(f64::from(limit))])?
    .all()
    .await?
    .results::<Entity>()
}

/// A new entity's insert. The partial unique index `entities_membership` refuses a
/// second live membership of one account in one org.
pub fn insert_entity(db: &D1Database, e: &Entity) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "INSERT INTO entities (id, org_id, kind, name, account_id, role, status, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )
    .bind(&[
        e.id.as_str().into(),
        e.org_id.as_str().into(),
        e.kind.as_str().into(),
        e.name.as_str().into(),
        e.account_id.as_deref().map_or(JsValue::NULL, JsValue::from_str),
        e.role.as_str().into(),
        e.status.as_str().into(),
        JsValue::from_f64(e.created_at as f64),
    ])
}

/// An org's active owners other than `except` (a disabled account does not count).
pub async fn other_active_owners(
    db: &D1Database,
    org_id: &str,
    except: &str,
) -> worker::Result<u64> {
    #[derive(Deserialize)]
    struct Row {
        n: u64,
    }
    Ok(db
        .prepare(format!(
            "SELECT COUNT(*) AS n FROM entities o WHERE {OTHER_ACTIVE_OWNER}"
        ))
        .bind(&[org_id.into(), except.into()])?
        .first::<Row>(None)
        .await?
        .map_or(0, |r| r.n))
}

/// `o` is an active owner of org `?1` other than entity `?2`, whose account (if any) is
/// active: the condition of the last-owner rule, counted above and guarded in writes.
const OTHER_ACTIVE_OWNER: &str = "o.org_id = ?1 AND o.id != ?2 AND o.role = 'owner' AND o.status = 'active' \
     AND (o.account_id IS NULL OR EXISTS (SELECT 1 FROM accounts oa WHERE oa.id = o.account_id AND oa.status = 'active'))";

/// Whether a D1 error is a unique-constraint violation (a lost race or a duplicate).
pub fn is_unique_violation(error: &worker::Error) -> bool {
    error.to_string().contains("UNIQUE constraint failed")
}

/// Writes `name`, `role` and `status` with compare-and-swap on `version`. When
/// `takes_an_owner` (the change demotes, suspends or removes an active owner), the write
/// also needs another active owner to exist at that moment, so that two concurrent
/// demotions cannot both pass. `Ok(false)` when either guard failed, and nothing was
/// written.
pub fn update_entity(
    db: &D1Database,
    e: &Entity,
    takes_an_owner: bool,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(format!(
        "UPDATE entities SET name = ?3, role = ?4, status = ?5, updated_at = ?6, version = version + 1 \
         WHERE id = ?2 AND org_id = ?1 AND version = ?7 AND (?8 = 0 OR EXISTS (SELECT 1 FROM entities o WHERE {OTHER_ACTIVE_OWNER}))"
    ))
    .bind(&[
        e.org_id.as_str().into(),
        e.id.as_str().into(),
        e.name.as_str().into(),
        e.role.as_str().into(),
        e.status.as_str().into(),
        JsValue::from_f64(now as f64),
        JsValue::from_f64(e.version as f64),
        JsValue::from_f64(if takes_an_owner { 1.0 } else { 0.0 }),
    ])
}

/// Revokes every live credential (keys, certificates), session and OAuth grant of a
/// membership: the rest of a member's removal, in the same batch as the status change.
pub fn revoke_everything_of(
    db: &D1Database,
    entity_id: &str,
    now: u64,
) -> worker::Result<Vec<D1PreparedStatement>> {
    let now = JsValue::from_f64(now as f64);
    // Guarded on the removal having happened: a refused removal revokes nothing.
    const REMOVED: &str = "EXISTS (SELECT 1 FROM entities WHERE id = ?2 AND status = 'deleted')";
    Ok(vec![
        db.prepare(format!("UPDATE credentials SET revoked_at = ?1, version = version + 1 WHERE entity_id = ?2 AND revoked_at IS NULL AND {REMOVED}"))
            .bind(&[now.clone(), entity_id.into()])?,
        db.prepare(format!("UPDATE sessions SET revoked_at = ?1 WHERE entity_id = ?2 AND revoked_at IS NULL AND {REMOVED}"))
            .bind(&[now.clone(), entity_id.into()])?,
        db.prepare(format!("UPDATE grants SET ended_at = ?1, ending = 'revoked' WHERE entity_id = ?2 AND ended_at IS NULL AND {REMOVED}"))
            .bind(&[now, entity_id.into()])?,
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

/// Revokes one credential of an entity, once: the statement changes no row if it
/// already was.
pub fn revoke_credential(
    db: &D1Database,
    entity_id: &str,
    id: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE credentials SET revoked_at = ?1, version = version + 1 \
             WHERE id = ?2 AND entity_id = ?3 AND revoked_at IS NULL",
    )
    .bind(&[JsValue::from_f64(now as f64), id.into(), entity_id.into()])
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

/// The insert of a certificate; the partial unique index refuses a fingerprint that is
/// live.
pub fn insert_certificate(
    db: &D1Database,
    c: &NewCertificate<'_>,
) -> worker::Result<D1PreparedStatement> {
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
    ])
}

/// An org's name, for mail (the id itself when the org is gone).
pub async fn org_name(db: &D1Database, org_id: &str) -> worker::Result<String> {
    #[derive(Deserialize)]
    struct Row {
        name: String,
    }
    Ok(db
        .prepare("SELECT name FROM orgs WHERE id = ?1")
        .bind(&[org_id.into()])?
        .first::<Row>(None)
        .await?
        .map_or_else(|| org_id.to_owned(), |r| r.name))
}

/// The membership of an account in the personal org its self-registration created:
/// `(org_id, entity_id)`, if it has one.
pub async fn personal_membership(
    db: &D1Database,
    account_id: &str,
) -> worker::Result<Option<(String, String)>> {
    #[derive(Deserialize)]
    struct Row {
        org_id: String,
        id: String,
    }
    let row = db
        .prepare(
            "SELECT e.org_id, e.id FROM entities e JOIN orgs o ON o.id = e.org_id AND o.personal = 1 \
             WHERE e.account_id = ?1 LIMIT 1",
        )
        .bind(&[account_id.into()])?
        .first::<Row>(None)
        .await?;
    Ok(row.map(|r| (r.org_id, r.id)))
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
