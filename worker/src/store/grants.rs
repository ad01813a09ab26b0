//! D1 queries of OAuth grants (issue 9): the record. The live state is the grant's
//! Durable Object's (`objects/grant_gate.rs`); ending a grant writes here first, then
//! the object, as for keys.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// A grant's record.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct GrantRow {
    pub id: String,
    pub client_id: String,
    pub org_id: String,
    pub entity_id: String,
    pub account_id: String,
    pub scope: String,
    pub created_at: u64,
    pub ended_at: Option<u64>,
}

pub async fn insert(db: &D1Database, g: &GrantRow) -> worker::Result<()> {
    db.prepare(
        "INSERT INTO grants (id, client_id, org_id, entity_id, account_id, scope, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&[
        g.id.as_str().into(),
        g.client_id.as_str().into(),
        g.org_id.as_str().into(),
        g.entity_id.as_str().into(),
        g.account_id.as_str().into(),
        g.scope.as_str().into(),
        JsValue::from_f64(g.created_at as f64),
    ])?
    .run()
    .await
    .map(|_| ())
}

/// What the grant's object needs at load: the record and the membership's live standing
/// (`disabled` when the account is).
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct GrantStanding {
    pub id: String,
    pub client_id: String,
    pub org_id: String,
    pub entity_id: String,
    pub role: String,
    pub entity_status: String,
    pub ended_at: Option<u64>,
}

impl GrantStanding {
    /// Why the grant may not act now, if it may not: its record ended, or its person's
    /// membership or account is not active (decided by the core, as for keys).
    pub fn refusal(&self) -> Option<keyward_core::api_key::KeyRefusal> {
        keyward_core::api_key::KeyRefusal::check(
            self.ended_at.is_some(),
            None,
            &self.entity_status,
            // No expiry is passed, so the time is not read.
            keyward_core::time::UnixTime(0),
        )
        .err()
    }
}

pub async fn standing(db: &D1Database, id: &str) -> worker::Result<Option<GrantStanding>> {
    db.prepare(
        "SELECT g.id, g.client_id, g.org_id, g.entity_id, e.role, \
         CASE WHEN a.status = 'active' THEN e.status ELSE 'disabled' END AS entity_status, g.ended_at \
         FROM grants g JOIN entities e ON e.id = g.entity_id JOIN accounts a ON a.id = g.account_id WHERE g.id = ?1",
    )
    .bind(&[id.into()])?
    .first::<GrantStanding>(None)
    .await
}

/// Records use (the grant's object calls it at most once a minute).
pub async fn touch(db: &D1Database, id: &str, now: u64) -> worker::Result<()> {
    db.prepare("UPDATE grants SET last_used_at = ?1 WHERE id = ?2")
        .bind(&[JsValue::from_f64(now as f64), id.into()])?
        .run()
        .await
        .map(|_| ())
}

/// Ends a grant in the record (once: the statement changes no row if it had ended);
/// `ending` is `revoked`, `code_replay` or `refresh_reuse`.
pub fn end(
    db: &D1Database,
    id: &str,
    ending: &str,
    now: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare("UPDATE grants SET ended_at = ?1, ending = ?2 WHERE id = ?3 AND ended_at IS NULL")
        .bind(&[JsValue::from_f64(now as f64), ending.into(), id.into()])
}

/// Who holds grants: a membership, or an account (through all its memberships).
#[derive(Clone, Copy, Debug)]
pub enum Holder<'a> {
    Entity(&'a str),
    Account(&'a str),
}

/// The grants of `holder` (ended ones too: a removal ends them in the same batch that
/// must then reach their objects): whose objects to invalidate when its standing changes.
pub async fn ids_of(db: &D1Database, holder: Holder<'_>) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let (column, value) = match holder {
        Holder::Entity(id) => ("entity_id", id),
        Holder::Account(id) => ("account_id", id),
    };
    Ok(db
        .prepare(format!("SELECT id FROM grants WHERE {column} = ?1"))
        .bind(&[value.into()])?
        .all()
        .await?
        .results::<Row>()?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// A grant as its person sees it in a list.
#[derive(Clone, Debug, Deserialize)]
pub struct GrantListed {
    pub id: String,
    pub client_id: String,
    pub client_name: Option<String>,
    pub scope: String,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
    pub ended_at: Option<u64>,
    pub ending: Option<String>,
}

const LISTED_SELECT: &str = "SELECT g.id, g.client_id, c.name AS client_name, g.scope, g.created_at, g.last_used_at, \
     g.ended_at, g.ending FROM grants g JOIN oauth_clients c ON c.id = g.client_id ";

/// One grant a membership made.
pub async fn listed(
    db: &D1Database,
    entity_id: &str,
    id: &str,
) -> worker::Result<Option<GrantListed>> {
    db.prepare(format!(
        "{LISTED_SELECT}WHERE g.entity_id = ?1 AND g.id = ?2"
    ))
    .bind(&[entity_id.into(), id.into()])?
    .first::<GrantListed>(None)
    .await
}

/// A page of the grants a membership made, in (created_at, id) order.
pub async fn page_of(
    db: &D1Database,
    entity_id: &str,
    after: Option<(u64, String)>,
    limit: u32,
) -> worker::Result<Vec<GrantListed>> {
    let [created, id] = crate::store::d1::keyset(after);
    db.prepare(format!(
        "{LISTED_SELECT}WHERE g.entity_id = ?1 AND (g.created_at, g.id) > (?2, ?3) ORDER BY g.created_at, g.id LIMIT ?4"
    ))
    .bind(&[entity_id.into(), created, id, JsValue::from_f64(f64::from(limit))])?
    .all()
    .await?
    .results::<GrantListed>()
}

/// A grant as its person sees it across their orgs.
#[derive(Clone, Debug, Deserialize)]
pub struct AccountGrant {
    pub id: String,
    pub client_id: String,
    pub client_name: Option<String>,
    pub org_name: String,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
    pub ended_at: Option<u64>,
}

/// Every grant an account made, in any org, oldest first (a person holds a handful).
pub async fn of_account(db: &D1Database, account_id: &str) -> worker::Result<Vec<AccountGrant>> {
    db.prepare(
        "SELECT g.id, g.client_id, c.name AS client_name, o.name AS org_name, g.created_at, g.last_used_at, g.ended_at \
         FROM grants g JOIN oauth_clients c ON c.id = g.client_id JOIN orgs o ON o.id = g.org_id \
         WHERE g.account_id = ?1 ORDER BY g.created_at, g.id LIMIT 500",
    )
    .bind(&[account_id.into()])?
    .all()
    .await?
    .results::<AccountGrant>()
}
