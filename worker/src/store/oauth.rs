//! D1 queries of OAuth clients (issue 9). A client row is written once, at
//! registration, and only read afterwards; so the isolate keeps the rows it has read
//! (bounded, cleared when full) and every token request after the first skips a query.
//! Only rows found are kept: an id unknown now may be registered a moment later.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

/// A registered client.
#[derive(Clone, Debug, Deserialize)]
pub struct ClientRow {
    pub id: String,
    pub name: Option<String>,
    /// JSON array of the redirect URIs.
    pub redirect_uris: String,
    pub scope: String,
    pub refresh_tokens: u8,
    pub created_at: u64,
}

pub async fn insert_client(db: &D1Database, c: &ClientRow) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO oauth_clients (id, name, redirect_uris, scope, refresh_tokens, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(&[
        c.id.as_str().into(),
        c.name.as_deref().map_or(JsValue::NULL, JsValue::from_str),
        c.redirect_uris.as_str().into(),
        c.scope.as_str().into(),
        JsValue::from_f64(f64::from(c.refresh_tokens)),
        JsValue::from_f64(c.created_at as f64),
    ])?
    .run()
    .await
    .map(|_| ())
}

/// Client rows kept in the isolate at most.
const MAX_KEPT: usize = 1024;

thread_local! {
    static KEPT: RefCell<HashMap<String, ClientRow>> = RefCell::new(HashMap::new());
}

pub async fn client(db: &D1Database, id: &str) -> worker::Result<Option<ClientRow>> {
    if let Some(row) = KEPT.with_borrow(|kept| kept.get(id).cloned()) {
        return Ok(Some(row));
    }
    let row = db
        .prepare("SELECT id, name, redirect_uris, scope, refresh_tokens, created_at FROM oauth_clients WHERE id = ?1")
        .bind(&[id.into()])?
        .first::<ClientRow>(None)
        .await?;
    if let Some(row) = &row {
        KEPT.with_borrow_mut(|kept| {
            if kept.len() >= MAX_KEPT {
                kept.clear();
            }
            kept.insert(row.id.clone(), row.clone());
        });
    }
    Ok(row)
}
