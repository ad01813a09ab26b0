//! D1 queries of namespaces (issue 11). A row says a namespace exists and which random
//! id its values are stored under in KV (`keyward_core::namespace`); the values
//! themselves are KV's.
//!
//! Every value request needs its namespace's row, and a D1 query costs more workerd CPU
//! than the rest of the request (`docs/benchmarks.md`). So the isolate keeps rows it
//! found for [`KEPT_MS`]: like a key's lease, a short, bounded staleness that a deletion
//! waits out ([`settle_after_delete`]) before it is acknowledged, so after the answer no
//! request anywhere reaches the deleted namespace. Absent names are never kept: a
//! namespace is usable the moment its creation is acknowledged.

use std::cell::RefCell;
use std::collections::HashMap;

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

/// How long the isolate keeps a namespace row it found.
pub const KEPT_MS: u64 = 1_000;
/// Rows kept at most (cleared when full).
const MAX_KEPT: usize = 4096;

type Kept = HashMap<(String, String), (NamespaceRow, u64)>;

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(HashMap::new());
}

/// The namespace `name` of `org_id`, from the isolate's memory when it was found there
/// less than [`KEPT_MS`] ago.
pub async fn by_name(
    db: &D1Database,
    org_id: &str,
    name: &str,
) -> worker::Result<Option<NamespaceRow>> {
    let now = worker::Date::now().as_millis();
    let key = (org_id.to_owned(), name.to_owned());
    let kept = KEPT.with_borrow(|kept| {
        kept.get(&key)
            .filter(|(_, at)| now.saturating_sub(*at) < KEPT_MS)
            .map(|(row, _)| row.clone())
    });
    if kept.is_some() {
        return Ok(kept);
    }
    let row = db
        .prepare(format!("{SELECT}WHERE org_id = ?1 AND name = ?2"))
        .bind(&[org_id.into(), name.into()])?
        .first::<NamespaceRow>(None)
        .await?;
    KEPT.with_borrow_mut(|kept| {
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        match &row {
            Some(found) => kept.insert(key, (found.clone(), now)),
            None => kept.remove(&key),
        };
    });
    Ok(row)
}

/// After a deletion: forgets this isolate's copy at once and waits until every other
/// isolate's copy has expired, so the deletion, once acknowledged, holds everywhere.
pub async fn settle_after_delete(org_id: &str, name: &str) {
    KEPT.with_borrow_mut(|kept| kept.remove(&(org_id.to_owned(), name.to_owned())));
    worker::Delay::from(std::time::Duration::from_millis(KEPT_MS + 100)).await;
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
