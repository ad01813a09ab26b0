//! D1 queries of namespaces (issue 11). A row says a namespace exists and which random
//! id its values are stored under in KV (`keyward_core::namespace`); the values
//! themselves are KV's.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

/// A namespace of an org.
#[derive(Clone, Debug, Deserialize)]
pub struct NamespaceRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub created_at: u64,
    pub created_by: String,
}

/// An org has at most this many namespaces.
pub const MAX_PER_ORG: u32 = 1000;

const SELECT: &str = "SELECT id, org_id, name, created_at, created_by FROM namespaces ";

/// Creates the namespace unless the name is taken or the org is at its limit, in one
/// statement; false when nothing was written.
pub async fn insert(db: &D1Database, row: &NamespaceRow) -> worker::Result<bool> {
    let result = db
        .prepare(
            "INSERT INTO namespaces (id, org_id, name, created_at, created_by) \
             SELECT ?1, ?2, ?3, ?4, ?5 \
             WHERE (SELECT COUNT(*) FROM namespaces WHERE org_id = ?2) < ?6 \
             ON CONFLICT (org_id, name) DO NOTHING",
        )
        .bind(&[
            row.id.as_str().into(),
            row.org_id.as_str().into(),
            row.name.as_str().into(),
            JsValue::from_f64(row.created_at as f64),
            row.created_by.as_str().into(),
            JsValue::from_f64(f64::from(MAX_PER_ORG)),
        ])?
        .run()
        .await?;
    Ok(crate::store::d1::changed(&result) == 1)
}

pub async fn by_name(
    db: &D1Database,
    org_id: &str,
    name: &str,
) -> worker::Result<Option<NamespaceRow>> {
    db.prepare(format!("{SELECT}WHERE org_id = ?1 AND name = ?2"))
        .bind(&[org_id.into(), name.into()])?
        .first::<NamespaceRow>(None)
        .await
}

/// A page of the org's namespaces by name, after `after`; with `only` (a JSON array of
/// names), just those of them.
pub async fn page_of(
    db: &D1Database,
    org_id: &str,
    only: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> worker::Result<Vec<NamespaceRow>> {
    db.prepare(format!(
        "{SELECT}WHERE org_id = ?1 AND (?2 IS NULL OR name IN (SELECT value FROM json_each(?2))) \
         AND name > ?3 ORDER BY name LIMIT ?4"
    ))
    .bind(&[
        org_id.into(),
        only.map_or(JsValue::NULL, JsValue::from_str),
        after.unwrap_or("").into(),
        JsValue::from_f64(f64::from(limit)),
    ])?
    .all()
    .await?
    .results::<NamespaceRow>()
}

/// Deletes the namespace with this id; false if it was already gone.
pub async fn delete(db: &D1Database, id: &str) -> worker::Result<bool> {
    let result = db
        .prepare("DELETE FROM namespaces WHERE id = ?1")
        .bind(&[id.into()])?
        .run()
        .await?;
    Ok(crate::store::d1::changed(&result) == 1)
}
