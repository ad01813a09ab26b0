//! D1 queries. Every write that must not race states how it is made atomic: a single
//! statement with a guard in its `WHERE`, a batch (one transaction), or a
//! compare-and-swap on `version` whose changed-row count is checked.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// What authentication needs of an API key: the credential joined with its entity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRecord {
    pub id: String,
    pub org_id: String,
    pub entity_id: String,
    pub role: String,
    pub entity_status: String,
    pub scheme: String,
    pub key_prefix: String,
    pub secret_phc: Option<String>,
    pub rate_limit_rpm: u32,
    pub namespaces: String,
    pub expires_at: Option<u64>,
    pub revoked_at: Option<u64>,
}

/// Certificates have no scheme or prefix of their own: they report `certificate` and the
/// first 12 hex digits of the fingerprint, and expire at the earlier of `expires_at` and
/// the certificate's `notAfter`. Credentials default to 60 rpm (SPEC §4). A membership
/// of a disabled account reports the status `disabled`.
const KEY_RECORD_SELECT: &str = "SELECT c.id, c.org_id, c.entity_id, e.role, \
     CASE WHEN e.account_id IS NULL OR EXISTS (SELECT 1 FROM accounts a WHERE a.id = e.account_id AND a.status = 'active') \
     THEN e.status ELSE 'disabled' END AS entity_status, \
     COALESCE(c.scheme, c.kind) AS scheme, COALESCE(c.key_prefix, substr(c.cert_fingerprint, 1, 12)) AS key_prefix, \
     c.secret_phc, COALESCE(c.rate_limit_rpm, 60) AS rate_limit_rpm, c.namespaces, \
     MIN(COALESCE(c.expires_at, c.cert_not_after), COALESCE(c.cert_not_after, c.expires_at)) AS expires_at, c.revoked_at \
     FROM credentials c JOIN entities e ON e.id = c.entity_id WHERE ";

/// Loads a key by its lookup hash (lookup scheme) or its id (id_secret scheme), or a
/// certificate by its fingerprint (the live one if there is one, else the newest).
pub async fn key_record(db: &D1Database, by: &KeyLocator) -> worker::Result<Option<KeyRecord>> {
    let (clause, value) = match by {
        KeyLocator::LookupHash(hash) => ("c.kind = 'api_key' AND c.lookup_hash = ?1", hash),
        KeyLocator::CredentialId(id) => (
            "c.kind = 'api_key' AND c.id = ?1 AND c.scheme = 'id_secret'",
            id,
        ),
        KeyLocator::Fingerprint(fp) => (
            "c.kind = 'certificate' AND c.cert_fingerprint = ?1 ORDER BY c.revoked_at IS NOT NULL, c.created_at DESC LIMIT 1",
            fp,
        ),
    };
    db.prepare(format!("{KEY_RECORD_SELECT}{clause}"))
        .bind(&[JsValue::from_str(value)])?
        .first::<KeyRecord>(None)
        .await
}

/// How a credential's row (and its Durable Object) is found.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum KeyLocator {
    LookupHash(String),
    CredentialId(String),
    /// Lowercase hex SHA-256 of a client certificate.
    Fingerprint(String),
}

impl KeyLocator {
    /// The Durable Object name of the credential: one object per key or certificate.
    pub fn object_name(&self) -> String {
        match self {
            Self::LookupHash(h) => format!("lookup:{h}"),
            Self::CredentialId(id) => format!("id:{id}"),
            Self::Fingerprint(fp) => format!("cert:{fp}"),
        }
    }
}

/// The gates of every key and certificate an entity holds (to invalidate them when the
/// entity's status changes).
pub async fn entity_locators(db: &D1Database, entity_id: &str) -> worker::Result<Vec<KeyLocator>> {
    locators_where(db, "entity_id = ?1", entity_id).await
}

/// The gates of every key and certificate held by any membership of an account (to
/// invalidate them when the account is disabled or restored).
pub async fn account_locators(
    db: &D1Database,
    account_id: &str,
) -> worker::Result<Vec<KeyLocator>> {
    locators_where(
        db,
        "entity_id IN (SELECT id FROM entities WHERE account_id = ?1)",
        account_id,
    )
    .await
}

async fn locators_where(
    db: &D1Database,
    holder: &str,
    value: &str,
) -> worker::Result<Vec<KeyLocator>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        kind: String,
        lookup_hash: Option<String>,
        cert_fingerprint: Option<String>,
    }
    let rows = db
        .prepare(format!("SELECT id, kind, lookup_hash, cert_fingerprint FROM credentials WHERE {holder} AND kind IN ('api_key', 'certificate')"))
        .bind(&[value.into()])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows
        .into_iter()
        .map(
            |r| match (r.kind.as_str(), r.lookup_hash, r.cert_fingerprint) {
                ("certificate", _, Some(fp)) => KeyLocator::Fingerprint(fp),
                (_, Some(hash), _) => KeyLocator::LookupHash(hash),
                _ => KeyLocator::CredentialId(r.id),
            },
        )
        .collect())
}

/// A key's public metadata row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub org_id: String,
    pub entity_id: String,
    pub name: String,
    pub key_prefix: String,
    pub scheme: String,
    pub lookup_hash: Option<String>,
    pub rate_limit_rpm: u32,
    pub namespaces: String,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub revoked_at: Option<u64>,
    pub last_used_at: Option<u64>,
    pub version: u64,
}

const KEY_ROW_SELECT: &str = "SELECT id, org_id, entity_id, name, key_prefix, scheme, lookup_hash, rate_limit_rpm, \
     namespaces, created_at, expires_at, revoked_at, last_used_at, version FROM credentials WHERE kind = 'api_key' ";

impl KeyRow {
    /// Where this key's Durable Object lives.
    pub fn locator(&self) -> KeyLocator {
        match &self.lookup_hash {
            Some(hash) => KeyLocator::LookupHash(hash.clone()),
            None => KeyLocator::CredentialId(self.id.clone()),
        }
    }
}

/// One key of an org, or `None` (also for another org's id: the caller answers 404).
pub async fn key_row(db: &D1Database, org_id: &str, id: &str) -> worker::Result<Option<KeyRow>> {
    db.prepare(format!("{KEY_ROW_SELECT}AND org_id = ?1 AND id = ?2"))
        .bind(&[org_id.into(), id.into()])?
        .first::<KeyRow>(None)
        .await
}

/// A page of an entity's keys in (created_at, id) order, after `after` if given.
pub async fn key_page(
    db: &D1Database,
    entity_id: &str,
    after: Option<(u64, String)>,
    limit: u32,
) -> worker::Result<Vec<KeyRow>> {
    let [created, id] = keyset(after);
    db.prepare(format!(
        "{KEY_ROW_SELECT}AND entity_id = ?1 AND (created_at, id) > (?2, ?3) ORDER BY created_at, id LIMIT ?4"
    ))
    .bind(&[entity_id.into(), created, id, JsValue::from_f64(f64::from(limit))])?
    .all()
    .await?
    .results::<KeyRow>()
}

/// The `(created_at, id)` a keyset page starts after (`(0, "")`: the first page).
pub fn keyset(after: Option<(u64, String)>) -> [JsValue; 2] {
    let (created, id) = after.unwrap_or((0, String::new()));
    [JsValue::from_f64(created as f64), JsValue::from_str(&id)]
}

/// A new API key's row.
pub struct NewKey<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub entity_id: &'a str,
    pub name: &'a str,
    pub scheme: &'a str,
    pub key_prefix: &'a str,
    pub lookup_hash: Option<&'a str>,
    pub secret_phc: Option<&'a str>,
    pub rate_limit_rpm: u32,
    pub namespaces: &'a str,
    pub created_at: u64,
    pub expires_at: Option<u64>,
}

fn opt_str(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

pub fn opt_secs(value: Option<u64>) -> JsValue {
    value.map_or(JsValue::NULL, |v| JsValue::from_f64(v as f64))
}

/// The insert of a key row, to run alone or inside a batch.
pub fn insert_key(db: &D1Database, key: &NewKey<'_>) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "INSERT INTO credentials (id, org_id, entity_id, kind, name, scheme, key_prefix, lookup_hash, secret_phc, \
         rate_limit_rpm, namespaces, created_at, expires_at) VALUES (?1, ?2, ?3, 'api_key', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .bind(&[
        key.id.into(),
        key.org_id.into(),
        key.entity_id.into(),
        key.name.into(),
        key.scheme.into(),
        key.key_prefix.into(),
        opt_str(key.lookup_hash),
        opt_str(key.secret_phc),
        JsValue::from_f64(f64::from(key.rate_limit_rpm)),
        key.namespaces.into(),
        JsValue::from_f64(key.created_at as f64),
        opt_secs(key.expires_at),
    ])
}

/// A PATCH with compare-and-swap on `version`: it changes no row when the row changed
/// (or was revoked) since it was read.
pub fn update_key(
    db: &D1Database,
    row: &KeyRow,
    name: &str,
    rate_limit_rpm: u32,
    expires_at: Option<u64>,
    namespaces: &str,
) -> worker::Result<D1PreparedStatement> {
    db
        .prepare(
            "UPDATE credentials SET name = ?1, rate_limit_rpm = ?2, expires_at = ?3, namespaces = ?4, version = version + 1 \
             WHERE id = ?5 AND org_id = ?6 AND version = ?7 AND revoked_at IS NULL",
        )
        .bind(&[
            name.into(),
            JsValue::from_f64(f64::from(rate_limit_rpm)),
            opt_secs(expires_at),
            namespaces.into(),
            row.id.as_str().into(),
            row.org_id.as_str().into(),
            JsValue::from_f64(row.version as f64),
        ])
}

/// Sets `revoked_at` once; the statement changes no row if the key already was. A
/// revoked key is never reactivated: no statement clears `revoked_at`.
pub fn revoke_key(
    db: &D1Database,
    org_id: &str,
    id: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "UPDATE credentials SET revoked_at = ?1, version = version + 1 \
             WHERE id = ?2 AND org_id = ?3 AND kind = 'api_key' AND revoked_at IS NULL",
    )
    .bind(&[JsValue::from_f64(now as f64), id.into(), org_id.into()])
}

/// Records use, at most once a minute per key (the key's Durable Object throttles).
pub async fn touch_key(db: &D1Database, id: &str, now: u64) -> worker::Result<()> {
    db.prepare("UPDATE credentials SET last_used_at = ?1 WHERE id = ?2")
        .bind(&[JsValue::from_f64(now as f64), id.into()])?
        .run()
        .await
        .map(|_| ())
}

/// Rows changed by a write, from D1's metadata.
pub fn changed(result: &worker::D1Result) -> u64 {
    result
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .map_or(0, |c| c as u64)
}
