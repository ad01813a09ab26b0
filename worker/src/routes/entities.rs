//! `/entities`, `/entities/{id}`: admins manage the entities of their org (SPEC §2, §4).
//!
//! Who may do what is decided by the core (`keyward_core::access`): owners and admins
//! manage entities, anyone reads their own, nobody changes their own role or status,
//! only an owner makes or changes an owner. A status change writes D1 first, then
//! invalidates the gate of every key and certificate the entity holds and waits out
//! their leases, so each of them fails on the very next request; sessions read the
//! entity's status live. `deleted` is final.

use keyward_core::email::normalize_email;
use keyward_core::rules::{self, ENTITY_KINDS, ENTITY_STATUSES, ROLES};
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::auth::Principal;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs};
use crate::objects::key_gate;
use crate::routes::{Cx, decode_cursor, encode_cursor, page_limit, query};
use crate::store::audit::{self, AuditEvent};
use crate::store::d1;
use crate::store::identity::{self, Entity};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    kind: String,
    name: String,
    email: Option<String>,
    role: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    role: Option<String>,
    status: Option<String>,
}

pub async fn create(req: &mut Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    let body: CreateBody = http::json_body(req).await?;
    let kind = rules::one_of(&body.kind, &ENTITY_KINDS, "kind")?;
    let role = rules::one_of(body.role.as_deref().unwrap_or("member"), &ROLES, "role")?;
    p.acting_on(false).may_create(role)?;
    let email = body
        .email
        .as_deref()
        .map(normalize_email)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let now = now_secs();
    let entity = Entity {
        id: ids::entity_id(),
        org_id: p.org_id.clone(),
        kind: kind.to_owned(),
        name: rules::name(&body.name)?,
        email,
        email_verified_at: None,
        role: role.to_owned(),
        status: "active".into(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let db = cx.env.d1("DB")?;
    if let Err(error) = identity::insert_entity(&db, &entity)?.run().await {
        return Err(if identity::is_unique_violation(&error) {
            ApiError::conflict("an entity with this email exists")
        } else {
            error.into()
        });
    }
    record(
        cx,
        p,
        "entity.created",
        &entity.id,
        Some(json!({ "kind": kind, "role": role })),
    );
    Ok(http::bare_ok(201, &render(&entity)))
}

pub async fn list(req: &Request, cx: &Cx<'_>, p: &Principal) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    let limit = page_limit(req)?;
    let after = query(req, "cursor")
        .map(|c| decode_cursor(&c))
        .transpose()?;
    let mut rows = identity::entity_page(&cx.env.d1("DB")?, &p.org_id, after, limit + 1).await?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|e| encode_cursor(e.created_at, &e.id))
    } else {
        None
    };
    let items: Vec<Value> = rows.iter().map(render).collect();
    Ok(http::bare_ok(
        200,
        &json!({ "items": items, "next_cursor": next }),
    ))
}

pub async fn get(cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    let entity = target(cx, p, id).await?;
    Ok(http::bare_ok(200, &render(&entity)))
}

pub async fn patch(req: &mut Request, cx: &Cx<'_>, p: &Principal, id: &str) -> Outcome {
    p.acting_on(false).may_manage_entities()?;
    let mut entity = target(cx, p, id).await?;
    let body: PatchBody = http::json_body(req).await?;
    if entity.status == "deleted" {
        return Err(ApiError::conflict(
            "the entity is deleted; deletion is final",
        ));
    }
    let before = (entity.role.clone(), entity.status.clone());
    if let Some(name) = &body.name {
        entity.name = rules::name(name)?;
    }
    if let Some(role) = &body.role {
        entity.role = rules::one_of(role, &ROLES, "role")?.to_owned();
    }
    if let Some(status) = &body.status {
        entity.status = rules::one_of(status, &ENTITY_STATUSES, "status")?.to_owned();
    }
    let changes_access =
        (entity.role.as_str(), entity.status.as_str()) != (before.0.as_str(), before.1.as_str());
    p.acting_on(entity.id == p.entity_id)
        .may_change(&before.0, &entity.role, changes_access)?;
    let db = cx.env.d1("DB")?;
    if !identity::update_entity(&db, &entity, now_secs()).await? {
        return Err(ApiError::conflict(
            "entity changed concurrently; read it again and retry",
        ));
    }
    if changes_access {
        // D1 first, then every gate: once this answers, no credential of the entity
        // passes with its old status or role.
        let locators = d1::entity_locators(&db, &entity.id).await?;
        key_gate::invalidate_all(cx, &locators).await?;
    }
    record(
        cx,
        p,
        "entity.updated",
        &entity.id,
        Some(json!({ "role": entity.role, "status": entity.status })),
    );
    let entity = identity::entity(&db, &p.org_id, &entity.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(http::bare_ok(200, &render(&entity)))
}

/// The entity `id` of the caller's org that the caller may see: admins see all of
/// them, others only themselves (403). Unknown ids and other orgs' ids are 404.
pub async fn target(cx: &Cx<'_>, p: &Principal, id: &str) -> Result<Entity, ApiError> {
    if !is_entity_id(id) {
        return Err(ApiError::not_found());
    }
    let entity = identity::entity(&cx.env.d1("DB")?, &p.org_id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    p.acting_on(entity.id == p.entity_id).may_read()?;
    Ok(entity)
}

fn is_entity_id(id: &str) -> bool {
    id.strip_prefix("ent_")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn record(cx: &Cx<'_>, p: &Principal, event: &'static str, entity_id: &str, detail: Option<Value>) {
    audit::append(
        cx,
        AuditEvent {
            detail: Some(json!({ "entity_id": entity_id, "change": detail })),
            ..AuditEvent::by(p, event)
        },
    );
}

fn render(e: &Entity) -> Value {
    json!({
        "id": e.id,
        "org_id": e.org_id,
        "kind": e.kind,
        "name": e.name,
        "email": e.email,
        "email_verified": e.email_verified_at.is_some(),
        "role": e.role,
        "status": e.status,
        "created_at": UnixTime(e.created_at).to_rfc3339(),
        "updated_at": UnixTime(e.updated_at).to_rfc3339(),
    })
}
