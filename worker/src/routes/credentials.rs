//! `/entities/{id}/credentials…`: passwords, `id_secret` API keys and client
//! certificates of an entity (SPEC §4, the Atom seed).
//!
//! An entity manages its own credentials; admins manage those of their org's entities,
//! except an owner's, which only owners touch. A person's password belongs to their
//! account: it is listed with each membership's credentials, but set or revoked here
//! only while the org holds the account (`keyward_core::access::AccountHold`: created
//! here, a member nowhere else, address never proved); past that, only the person
//! changes it (`/auth/password/*`). Listing shows metadata only. Revoking a key or
//! certificate invalidates its gate and waits out its leases, so it fails on the very
//! next request.

use keyward_core::api_key::{CredentialId, KeyScheme};
use keyward_core::certificate;
use keyward_core::rules;
use keyward_core::time::UnixTime;
use serde::Deserialize;
use serde_json::{Value, json};
use worker::Request;

use crate::Outcome;
use crate::http::{self, ApiError};
use crate::ids::{now_secs, rng};
use crate::objects::{key_gate, webhook_outbox};
use crate::principal::Principal;
use crate::routes::Cx;
use crate::routes::entities::target;
use crate::routes::keys::{self, KeySpec, valid_expiry};
use crate::routes::secrets::{self, NewPassword};
use crate::store::accounts::{self, PasswordMeta};
use crate::store::audit::{self, AuditEvent};
use crate::store::d1::KeyLocator;
use crate::store::identity::{self, CredentialMeta, Entity, NewCertificate};
use crate::store::webhook_events::{self, Event};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeyBody {
    description: Option<String>,
    expires_at: Option<String>,
    rate_limit_rpm: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateBody {
    pem: String,
    description: Option<String>,
}

pub async fn set_password(
    req: &mut Request,
    cx: &Cx<'_>,
    p: &Principal,
    entity_id: &str,
) -> Outcome {
    let entity = manageable(cx, p, entity_id).await?;
    let db = cx.env.d1("DB")?;
    let account_id = password_holder(&db, p, &entity).await?;
    let body: PasswordBody = http::json_body(req).await?;
    let NewPassword { id, phc } = secrets::hash_password(&secrets::acceptable(&body.password)?)?;
    let now = now_secs();
    let mut batch = accounts::set_password(&db, &account_id, &id, &phc, now)?;
    let event = credential_event(p, "credential.created", &id, &entity, "password");
    batch.push(webhook_events::insert(&db, &event)?);
    db.batch(batch).await?;
    webhook_outbox::announce(cx, &p.org_id);
    record(cx, p, "credential.created", &id, &entity, "password");
    Ok(http::bare_ok(
        201,
        &json!({ "credential_id": id, "kind": "password", "created_at": UnixTime(now).to_rfc3339() }),
    ))
}

/// The account whose password the caller may set or revoke through `entity`: a
/// person's membership, while the org holds the account (see the module doc).
async fn password_holder(
    db: &worker::D1Database,
    p: &Principal,
    entity: &Entity,
) -> Result<String, ApiError> {
    let account_id = entity.account_id.clone().ok_or_else(|| {
        ApiError::invalid("only a person has a password: this entity has no account (give it an API key or a certificate)")
    })?;
    let hold = accounts::hold(db, &account_id).await?;
    p.acting_on(entity.id == p.entity_id)
        .may_set_password(&entity.role, hold)?;
    Ok(account_id)
}

pub async fn create_api_key(
    req: &mut Request,
    cx: &Cx<'_>,
    p: &Principal,
    entity_id: &str,
) -> Outcome {
    let entity = manageable(cx, p, entity_id).await?;
    let body: ApiKeyBody = http::json_body(req).await?;
    let spec = KeySpec {
        name: rules::name(body.description.as_deref().unwrap_or("api key"))?,
        rate_limit_rpm: rules::rate_limit(
            body.rate_limit_rpm.unwrap_or(rules::MEMBER_MAX_RPM),
            &p.role,
        )?,
        expires_at: body.expires_at.as_deref().map(valid_expiry).transpose()?,
        namespaces: Vec::new(),
        scheme: KeyScheme::IdSecret,
    };
    let (row, plain) = keys::create_key(cx, p, &entity.id, spec).await?;
    Ok(http::bare_ok(
        201,
        &json!({
            "credential_id": row.id,
            "key": plain.expose(),
            "expires_at": row.expires_at.map(|t| UnixTime(t).to_rfc3339()),
        }),
    ))
}

pub async fn add_certificate(
    req: &mut Request,
    cx: &Cx<'_>,
    p: &Principal,
    entity_id: &str,
) -> Outcome {
    let entity = manageable(cx, p, entity_id).await?;
    let body: CertificateBody = http::json_body(req).await?;
    let cert = certificate::parse_pem(&body.pem).map_err(ApiError::refused_input)?;
    let now = now_secs();
    if cert.not_after.secs() <= now {
        return Err(ApiError::invalid_because(
            "certificate_expired",
            "the certificate has expired",
        ));
    }
    let id = CredentialId::generate(&mut rng()).to_hex();
    let fingerprint = cert.fingerprint_hex();
    let default_name: String = cert.subject.chars().take(100).collect();
    let name = rules::name(body.description.as_deref().unwrap_or(&default_name))?;
    let new = NewCertificate {
        id: &id,
        org_id: &entity.org_id,
        entity_id: &entity.id,
        name: &name,
        fingerprint: &fingerprint,
        subject: &cert.subject,
        not_before: cert.not_before.secs(),
        not_after: cert.not_after.secs(),
        now,
    };
    let db = cx.env.d1("DB")?;
    let event = credential_event(p, "credential.created", &id, &entity, "certificate");
    let insert = identity::insert_certificate(&db, &new)?;
    if let Err(error) = webhook_events::run_with(&db, insert, &event).await {
        return Err(if identity::is_unique_violation(&error) {
            ApiError::conflict("this certificate is already registered")
        } else {
            error.into()
        });
    }
    webhook_outbox::announce(cx, &p.org_id);
    // A gate that answered "unknown" for this fingerprint before must reload.
    key_gate::invalidate(cx, &KeyLocator::Fingerprint(fingerprint.clone())).await?;
    record(cx, p, "credential.created", &id, &entity, "certificate");
    let time = |t: UnixTime| t.to_rfc3339();
    Ok(http::bare_ok(
        201,
        &json!({
            "credential_id": id,
            "kind": "certificate",
            "identifier": format!("sha256:{fingerprint}"),
            "fingerprint_sha256": fingerprint,
            "subject": cert.subject,
            "issuer": cert.issuer,
            "not_before": time(cert.not_before),
            "not_after": time(cert.not_after),
            "expires_at": time(cert.not_after),
            "created_at": time(UnixTime(now)),
        }),
    ))
}

pub async fn list(cx: &Cx<'_>, p: &Principal, entity_id: &str) -> Outcome {
    let entity = target(cx, p, entity_id).await?;
    let db = cx.env.d1("DB")?;
    let mut items: Vec<(u64, Value)> = identity::credentials_of(&db, &entity.id)
        .await?
        .iter()
        .map(|c| (c.created_at, render(c, &entity)))
        .collect();
    if let Some(account_id) = &entity.account_id {
        let passwords = accounts::passwords_of(&db, account_id).await?;
        items.extend(
            passwords
                .iter()
                .map(|pw| (pw.created_at, render_password(pw, &entity))),
        );
        items.sort_by_key(|(created_at, _)| *created_at);
    }
    let items: Vec<Value> = items.into_iter().map(|(_, item)| item).collect();
    Ok(http::bare_ok(200, &json!({ "items": items })))
}

pub async fn revoke(cx: &Cx<'_>, p: &Principal, entity_id: &str, id: &str) -> Outcome {
    let entity = manageable(cx, p, entity_id).await?;
    if CredentialId::parse(id).is_none() {
        return Err(ApiError::not_found());
    }
    let db = cx.env.d1("DB")?;
    if let Some(account_id) = &entity.account_id
        && accounts::password_of(&db, account_id, id).await?.is_some()
    {
        password_holder(&db, p, &entity).await?;
        let change = accounts::revoke_password(&db, account_id, id, now_secs())?;
        let event = credential_event(p, "credential.revoked", id, &entity, "password");
        if webhook_events::run_with(&db, change, &event).await? == 1 {
            webhook_outbox::announce(cx, &p.org_id);
            record(cx, p, "credential.revoked", id, &entity, "password");
        }
        let row = accounts::password_of(&db, account_id, id)
            .await?
            .ok_or_else(ApiError::internal)?;
        return Ok(http::bare_ok(200, &render_password(&row, &entity)));
    }
    let row = identity::credential_of(&db, &entity.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // D1 first, then the gate: once this answers, no reload can bring it back.
    let change = identity::revoke_credential(&db, &entity.id, id, now_secs())?;
    let event = if row.kind == "api_key" {
        let prefix = row.key_prefix.as_deref().unwrap_or_default();
        keys::key_event(&p.org_id, "key.revoked", id, prefix, &entity.id, p)
    } else {
        credential_event(p, "credential.revoked", id, &entity, &row.kind)
    };
    let revoked_now = webhook_events::run_with(&db, change, &event).await? == 1;
    if revoked_now {
        webhook_outbox::announce(cx, &p.org_id);
    }
    if let Some(locator) = locator(&row) {
        key_gate::invalidate(cx, &locator).await?;
    }
    if revoked_now {
        record(cx, p, "credential.revoked", id, &entity, &row.kind);
    }
    let row = identity::credential_of(&db, &entity.id, id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(http::bare_ok(200, &render(&row, &entity)))
}

/// The entity if the caller may change its credentials: its own, or as an admin of
/// its org, but an owner's only as an owner.
async fn manageable(cx: &Cx<'_>, p: &Principal, entity_id: &str) -> Result<Entity, ApiError> {
    let entity = target(cx, p, entity_id).await?;
    p.acting_on(entity.id == p.entity_id)
        .may_manage_credentials(&entity.role)?;
    if entity.status == "deleted" {
        return Err(ApiError::conflict("the entity is deleted"));
    }
    Ok(entity)
}

/// Where a key's or certificate's gate lives; passwords have none.
fn locator(c: &CredentialMeta) -> Option<KeyLocator> {
    match (c.kind.as_str(), &c.lookup_hash, &c.cert_fingerprint) {
        ("certificate", _, Some(fp)) => Some(KeyLocator::Fingerprint(fp.clone())),
        ("api_key", Some(hash), _) => Some(KeyLocator::LookupHash(hash.clone())),
        ("api_key", None, _) => Some(KeyLocator::CredentialId(c.id.clone())),
        _ => None,
    }
}

/// The webhook event of a password or certificate created or revoked (API keys have
/// the `key.*` events).
fn credential_event(
    p: &Principal,
    kind_of_event: &'static str,
    id: &str,
    entity: &Entity,
    kind: &str,
) -> Event {
    Event::new(
        &p.org_id,
        kind_of_event,
        json!({ "credential_id": id, "kind": kind, "entity_id": entity.id, "actor_id": p.entity_id }),
    )
}

fn record(cx: &Cx<'_>, p: &Principal, event: &'static str, id: &str, entity: &Entity, kind: &str) {
    audit::append(
        cx,
        AuditEvent {
            credential_id: Some(id.to_owned()),
            detail: Some(json!({ "entity_id": entity.id, "kind": kind })),
            ..p.audit(event)
        },
    );
}

/// A credential's metadata, exactly the Atom seed's list item: never a hash or a secret.
fn render(c: &CredentialMeta, entity: &Entity) -> Value {
    let identifier = match c.kind.as_str() {
        "api_key" => c.key_prefix.as_ref().map(|p| format!("{p}...")),
        "certificate" => c.cert_fingerprint.as_ref().map(|f| format!("sha256:{f}")),
        _ => entity.email.clone(),
    };
    item(
        &c.id,
        &c.kind,
        identifier,
        c.revoked_at,
        c.expires_at.or(c.cert_not_after),
        c.created_at,
    )
}

/// The account's password as an item of the membership's list; its identifier is the
/// login email.
fn render_password(pw: &PasswordMeta, entity: &Entity) -> Value {
    item(
        &pw.id,
        "password",
        entity.email.clone(),
        pw.revoked_at,
        None,
        pw.created_at,
    )
}

fn item(
    id: &str,
    kind: &str,
    identifier: Option<String>,
    revoked_at: Option<u64>,
    expires_at: Option<u64>,
    created_at: u64,
) -> Value {
    json!({
        "id": id,
        "kind": kind,
        "identifier": identifier,
        "status": if revoked_at.is_some() { "revoked" } else { "active" },
        "expires_at": expires_at.map(|t| UnixTime(t).to_rfc3339()),
        "created_at": UnixTime(created_at).to_rfc3339(),
    })
}
