//! `/entities`, `/entities/{id}`: admins manage the entities of their org (SPEC §2, §4).
//!
//! Who may do what is decided by the core (`keyward_core::access`): owners and admins
//! manage entities, anyone reads their own, nobody changes their own role or status,
//! only an owner makes or changes an owner, and no change leaves the org without an
//! active owner (`keyward_core::membership::keeps_an_owner`, also guarded in the
//! write). A status change writes D1 first, then invalidates the gate of every key and
//! certificate the entity holds and waits out their leases, so each of them fails on
//! the very next request; sessions read the entity's status live. `deleted` is final.
//!
//! A human entity created with an email is a new person's account and its membership
//! here (the Atom seed's flow: the admin then sets its password). An address that
//! already has an account is refused with 409: people who exist join through
//! `POST /v1/members`, which does not create a second account.

use keyward_core::email::normalize_email;
use keyward_core::membership::{self, Standing};
use keyward_core::rules::{self, ENTITY_KINDS, ENTITY_STATUSES, ROLES};
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::{D1Database, D1PreparedStatement, Request};

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs};
use crate::objects::{grant_gate, key_gate, webhook_outbox};
use crate::principal::Principal;
use crate::routes::{Cx, next_page, page};
use crate::store::accounts;
use crate::store::audit::{self, AuditEvent};
use crate::store::identity::{self, Entity};
use crate::store::webhook_events::{self, Event};
use crate::store::{d1, grants};

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
    if email.is_some() && kind != "human" {
        return Err(ApiError::invalid(
            "email: only a human entity has one (it names the person's account)",
        ));
    }
    let now = now_secs();
    let account = email.map(|email| (ids::account_id(), email));
    let entity = Entity::new(
        &p.org_id,
        kind,
        rules::name(&body.name)?,
        account,
        role,
        now,
    );
    let db = cx.env.d1("DB")?;
    let mut batch = Vec::new();
    if let (Some(account_id), Some(email)) = (&entity.account_id, &entity.email) {
        batch.push(accounts::insert(&db, account_id, email, None, now)?);
    }
    batch.push(identity::insert_entity(&db, &entity)?);
    if let Err(error) = db.batch(batch).await {
        return Err(if identity::is_unique_violation(&error) {
            ApiError::conflict("this address has an account: add the person with POST /v1/members")
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
    let (limit, after) = page(req)?;
    let rows = identity::entity_page(
        &cx.env.d1("DB")?,
        &p.org_id,
        identity::Listing::All,
        after,
        limit + 1,
    )
    .await?;
    let (rows, next) = next_page(rows, limit, |e| (e.created_at, &e.id));
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
    let before = entity.clone();
    if let Some(name) = &body.name {
        entity.name = rules::name(name)?;
    }
    if let Some(role) = &body.role {
        entity.role = rules::one_of(role, &ROLES, "role")?.to_owned();
    }
    if let Some(status) = &body.status {
        entity.status = rules::one_of(status, &ENTITY_STATUSES, "status")?.to_owned();
    }
    let changes_access = (entity.role.as_str(), entity.status.as_str())
        != (before.role.as_str(), before.status.as_str());
    let db = cx.env.d1("DB")?;
    authorize_change(&db, p, &before, &entity, changes_access).await?;
    commit_change(cx, &db, &before, &entity, Vec::new()).await?;
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

/// Whether changing `before` into `after` takes an active owner away.
fn takes_an_owner(before: &Entity, after: &Entity) -> bool {
    membership::takes_an_owner(standing(before), standing(after))
}

fn standing(e: &Entity) -> Standing<'_> {
    Standing {
        role: &e.role,
        status: &e.status,
    }
}

/// The access rules and the last-owner rule for changing `before` into `after`. The
/// sole owner acting on themselves hears the rule that binds them (409: the org keeps
/// an owner) rather than only that nobody changes their own standing (403); anyone
/// else is first asked whether they may act at all.
pub async fn authorize_change(
    db: &D1Database,
    p: &Principal,
    before: &Entity,
    after: &Entity,
    changes_access: bool,
) -> Result<(), ApiError> {
    let actor = p.acting_on(before.id == p.entity_id);
    if actor.is_target {
        keeps_an_owner(db, before, after).await?;
    }
    actor.may_change(&before.role, &after.role, changes_access)?;
    keeps_an_owner(db, before, after).await
}

async fn keeps_an_owner(db: &D1Database, before: &Entity, after: &Entity) -> Result<(), ApiError> {
    if !takes_an_owner(before, after) {
        return Ok(());
    }
    let others = identity::other_active_owners(db, &before.org_id, &before.id).await?;
    membership::keeps_an_owner(standing(before), standing(after), others).map_err(last_owner)
}

/// Writes a change of `before` into `after` (already allowed by the access rules and
/// [`keeps_an_owner`]) with compare-and-swap, the last-owner rule guarded again in the
/// same statement (two concurrent demotions cannot both pass), and `also` in the same
/// transaction (statements that must guard themselves on the change having happened);
/// then, if the role or status changed, invalidates every gate of the entity's keys
/// and certificates, so none of them passes with its old standing once this returns.
pub async fn commit_change(
    cx: &Cx<'_>,
    db: &D1Database,
    before: &Entity,
    after: &Entity,
    also: Vec<D1PreparedStatement>,
) -> Result<(), ApiError> {
    let takes_an_owner = takes_an_owner(before, after);
    let mut batch = vec![identity::update_entity(
        db,
        &Entity {
            version: before.version,
            ..after.clone()
        },
        takes_an_owner,
        now_secs(),
    )?];
    let status_changed = after.status != before.status;
    if status_changed {
        let event = Event::new(
            &before.org_id,
            "entity.status_changed",
            json!({ "entity_id": before.id, "previous_status": before.status, "status": after.status }),
        );
        batch.push(webhook_events::insert_if_changed(db, &event)?);
    }
    batch.extend(also);
    let results = db.batch(batch).await?;
    if results.first().map_or(0, d1::changed) != 1 {
        let now = identity::entity(db, &before.org_id, &before.id).await?;
        return Err(match now {
            Some(now) if now.version == before.version => last_owner(membership::LastOwner),
            _ => ApiError::conflict("entity changed concurrently; read it again and retry"),
        });
    }
    if status_changed {
        webhook_outbox::announce(cx, &before.org_id);
    }
    if (&after.role, &after.status) != (&before.role, &before.status) {
        // D1 first, then every gate: once this answers, no credential of the entity
        // passes with its old status or role.
        let locators = d1::entity_locators(db, &after.id).await?;
        key_gate::invalidate_all(cx, &locators).await?;
        let grants = grants::ids_of(db, grants::Holder::Entity(&after.id)).await?;
        grant_gate::invalidate_all(cx, &grants).await?;
    }
    Ok(())
}

fn last_owner(refusal: membership::LastOwner) -> ApiError {
    ApiError::conflict(refusal.to_string())
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
    ids::has_id_shape(id, "ent_")
}

fn record(cx: &Cx<'_>, p: &Principal, event: &'static str, entity_id: &str, detail: Option<Value>) {
    audit::append(
        cx,
        AuditEvent {
            detail: Some(json!({ "entity_id": entity_id, "change": detail })),
            ..p.audit(event)
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
