//! `POST /admin/bootstrap`: creates the first org, its owner and an owner API key;
//! `POST /admin/signing-keys/rotate`: rotates the session-JWT signing key;
//! `PATCH /admin/accounts`: disables a person everywhere, or restores them.
//!
//! Guarded by `ADMIN_TOKEN` (compared in constant time) and usable once: the three rows
//! are written in one D1 batch (a transaction) whose inserts only happen while no org
//! exists, so concurrent bootstraps create exactly one org and the others get 409.

use keyward_core::api_key::{CredentialId, LookupKey};
use keyward_core::bearer::token_from_header;
use keyward_core::email::normalize_email;
use keyward_core::encoding::hex_encode;
use keyward_core::secret::ct_eq;
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::Request;

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs, rng};
use crate::routes::Cx;
use crate::signing;
use crate::store::audit::{self, AuditEvent};
use crate::store::d1::{self, NewKey};
use crate::store::{accounts, grants};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    email: String,
    status: String,
}

/// `PATCH /admin/accounts {email, status}`: an operator's decision above every org. A
/// disabled account cannot sign in, and its sessions, keys and certificates in every
/// org fail from the next request (D1 first, then every gate); memberships keep their
/// own status, so restoring the account restores exactly what each org had allowed.
/// The last-owner rule does not stop it: an operator may lock out an org's only owner.
pub async fn set_account_status(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    require_admin_token(req, cx)?;
    let body: AccountBody = http::json_body(req).await?;
    let email =
        normalize_email(&body.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let status = keyward_core::rules::one_of(&body.status, &["disabled", "active"], "status")?;
    let db = cx.env.d1("DB")?;
    let account = accounts::by_email(&db, &email)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if accounts::set_status(&db, &account.id, status, now_secs()).await? {
        let locators = d1::account_locators(&db, &account.id).await?;
        crate::objects::key_gate::invalidate_all(cx, &locators).await?;
        let grants = grants::ids_of(&db, grants::Holder::Account(&account.id)).await?;
        crate::objects::grant_gate::invalidate_all(cx, &grants).await?;
        audit::append(
            cx,
            AuditEvent {
                event: if status == "disabled" {
                    "account.disabled"
                } else {
                    "account.restored"
                },
                detail: Some(json!({ "account_id": account.id })),
                ..AuditEvent::default()
            },
        );
    }
    Ok(http::bare_ok(
        200,
        &json!({ "account_id": account.id, "email": email, "status": status }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BootstrapBody {
    org_name: String,
    owner_email: Option<String>,
}

/// Refuses (401) unless the request presents `ADMIN_TOKEN`, compared in constant time.
fn require_admin_token(req: &Request, cx: &Cx<'_>) -> Result<(), ApiError> {
    let header = req.headers().get("Authorization").ok().flatten();
    let presented = token_from_header(header.as_deref()).unwrap_or("");
    let authorized = cx
        .config
        .admin_token
        .as_ref()
        .is_some_and(|t| ct_eq(t.expose().as_bytes(), presented.as_bytes()));
    if authorized {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

/// `POST /admin/signing-keys/rotate`: a new session-signing key signs from now on; the
/// old ones stay published until their tokens have expired (`signing.rs`).
pub async fn rotate_signing_key(req: &Request, cx: &Cx<'_>) -> Outcome {
    require_admin_token(req, cx)?;
    let kid = signing::add(cx, true).await?;
    audit::append(
        cx,
        AuditEvent {
            event: "signing_key.rotated",
            detail: Some(json!({ "kid": kid })),
            ..AuditEvent::default()
        },
    );
    Ok(http::bare_ok(201, &json!({ "kid": kid })))
}

pub async fn bootstrap(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    require_admin_token(req, cx)?;
    let body: BootstrapBody = http::json_body(req).await?;
    let org_name = body.org_name.trim();
    if org_name.is_empty()
        || org_name.chars().count() > 100
        || org_name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "org_name must be 1-100 characters without control characters",
        ));
    }
    let email = body
        .owner_email
        .as_deref()
        .map(normalize_email)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("owner_email: {e}")))?;

    let db = cx.env.d1("DB")?;
    if any_org(&db).await? {
        return Err(already_bootstrapped());
    }
    let (org_id, entity_id, now) = (ids::org_id(), ids::entity_id(), now_secs());
    let mut rng = rng();
    let key = LookupKey::generate(&cx.config.prefix, &mut rng);
    let key_id = CredentialId::generate(&mut rng).to_hex();
    let hash =
        hex_encode(&key.lookup_hash(cx.config.hash_secret.expose(), cx.config.lookup_iterations));
    let db = cx.env.d1("DB")?;
    let org = db
        .prepare("INSERT INTO orgs (id, name, created_at) SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM orgs WHERE personal = 0)")
        .bind(&[org_id.as_str().into(), org_name.into(), JsValue::from_f64(now as f64)])?;
    // If another bootstrap won the race since the check above, the org insert is
    // skipped, the key row then breaks its foreign key and the whole batch rolls back.
    // The owner's address becomes an account (verified: the operator vouches for it),
    // or joins the account it already has (someone who signed up before the bootstrap).
    let account = db
        .prepare(
            "INSERT OR IGNORE INTO accounts (id, email, email_verified_at, status, last_org_id, created_at, updated_at) \
             SELECT ?1, ?2, ?3, 'active', ?4, ?3, ?3 WHERE ?2 IS NOT NULL AND EXISTS (SELECT 1 FROM orgs WHERE id = ?4)",
        )
        .bind(&[
            ids::account_id().into(),
            email.as_deref().map_or(JsValue::NULL, JsValue::from_str),
            JsValue::from_f64(now as f64),
            org_id.as_str().into(),
        ])?;
    let entity = db
        .prepare(
            "INSERT INTO entities (id, org_id, kind, name, account_id, role, status, created_at, updated_at) \
             SELECT ?1, ?2, 'human', ?3, (SELECT id FROM accounts WHERE email = ?4), 'owner', 'active', ?5, ?5 \
             WHERE EXISTS (SELECT 1 FROM orgs WHERE id = ?2)",
        )
        .bind(&[
            entity_id.as_str().into(),
            org_id.as_str().into(),
            email.as_deref().unwrap_or("owner").into(),
            email.as_deref().map_or(JsValue::NULL, JsValue::from_str),
            JsValue::from_f64(now as f64),
        ])?;
    let key_prefix = key.key_prefix().to_owned();
    let new_key = NewKey {
        id: &key_id,
        org_id: &org_id,
        entity_id: &entity_id,
        name: "bootstrap owner key",
        scheme: "lookup",
        key_prefix: &key_prefix,
        lookup_hash: Some(&hash),
        secret_phc: None,
        rate_limit_rpm: 1000,
        // The owner's first key reaches every namespace of the org.
        namespaces: r#"["*"]"#,
        created_at: now,
        expires_at: None,
    };
    let results = db
        .batch(vec![org, account, entity, d1::insert_key(&db, &new_key)?])
        .await?;
    if results.first().map_or(0, d1::changed) != 1 {
        return Err(ApiError::conflict("already bootstrapped: an org exists"));
    }
    let event = AuditEvent {
        org_id: Some(org_id.clone()),
        event: "org.bootstrapped",
        actor_id: Some(entity_id.clone()),
        credential_id: Some(key_id.clone()),
        key_prefix: Some(key_prefix.clone()),
        ..AuditEvent::default()
    };
    audit::append(cx, event);
    Ok(http::bare_ok(
        201,
        &json!({
            "org_id": org_id,
            "entity_id": entity_id,
            "key_id": key_id,
            "key_prefix": key_prefix,
            "plain_key": key.expose(),
        }),
    ))
}

async fn any_org(db: &worker::D1Database) -> Result<bool, ApiError> {
    Ok(db
        .prepare("SELECT 1 AS one FROM orgs WHERE personal = 0 LIMIT 1")
        .first::<serde_json::Value>(None)
        .await?
        .is_some())
}

fn already_bootstrapped() -> ApiError {
    ApiError::conflict("already bootstrapped: an org exists")
}
