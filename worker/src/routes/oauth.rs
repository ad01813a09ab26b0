//! The OAuth 2.0 authorization server's HTTP surface (issue 9, SPEC §4), so far:
//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and `POST /oauth/register`
//! (RFC 7591). Every decision is the core's (`keyward_core::oauth`); errors answer in
//! the RFC 6749 shape (`http::Family::OAuth`), and the public endpoints allow any web
//! origin without credentials.
//!
//! Registration takes public clients only and ignores metadata it does not use (RFC
//! 7591 §2). It is limited per client address (`CF-Connecting-IP`) with the core's exact
//! window; past the limit the answer is 429 `slow_down` with `Retry-After`.

use keyward_core::bearer::Bearer;
use keyward_core::oauth::error::{OAuthError, OAuthErrorCode};
use keyward_core::oauth::grant::{self, Ending, Issue};
use keyward_core::oauth::registration::ClientMetadataRequest;
use keyward_core::oauth::token::{AuthorizationCode, GrantId, OAuthToken, OAuthTokenKind};
use keyward_core::oauth::{form, metadata};
use serde::Deserialize;
use serde_json::json;
use worker::Request;

use crate::Outcome;
use crate::context::Cx;
use crate::http::{self, ApiError};
use crate::ids::{self, now_secs, rng};
use crate::objects::grant_gate::{self, GrantAsk, Inspection, IssuedTokens};
use crate::objects::throttle::{self, Purpose};
use crate::objects::webhook_outbox;
use crate::store::audit::{self, AuditEvent};
use crate::store::grants;
use crate::store::oauth::{self, ClientRow};
use crate::store::webhook_events::{self, Event};

/// `GET /.well-known/oauth-authorization-server`.
pub fn server_metadata(req: &Request, cx: &Cx<'_>) -> Outcome {
    let issuer = cx.config.issuer_for(req);
    let document =
        metadata::authorization_server(&issuer, &cx.config.oauth_scopes, cx.config.oauth_lifetimes);
    let mut response = http::bare_ok(200, &document);
    response
        .headers_mut()
        .set("Cache-Control", "public, max-age=300")?;
    Ok(response)
}

/// The RFC 7591 fields this server reads; any other member of the object is ignored.
#[derive(Deserialize)]
struct RegistrationBody {
    redirect_uris: Option<Vec<String>>,
    client_name: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    scope: Option<String>,
}

/// `POST /oauth/register`.
pub async fn register(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let address = req
        .headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into());
    throttle::attempt(cx, Purpose::ClientRegistration, &address).await?;
    let body: RegistrationBody = http::json_body(req).await.map_err(|e| {
        ApiError::oauth(OAuthError {
            code: OAuthErrorCode::InvalidClientMetadata,
            description: e.message.into(),
        })
        .with_status(e.status)
    })?;
    let checked = ClientMetadataRequest {
        redirect_uris: body.redirect_uris,
        client_name: body.client_name,
        grant_types: body.grant_types,
        response_types: body.response_types,
        token_endpoint_auth_method: body.token_endpoint_auth_method,
        scope: body.scope,
    }
    .check(&cx.config.oauth_scopes)
    .map_err(ApiError::oauth)?;
    let uris: Vec<&str> = checked.redirect_uris.iter().map(|u| u.as_str()).collect();
    let row = ClientRow {
        id: ids::client_id(),
        name: checked.client_name.clone(),
        redirect_uris: serde_json::to_string(&uris).map_err(|_| ApiError::internal())?,
        scope: checked.scope.to_scope_string(),
        refresh_tokens: u8::from(checked.refresh_tokens),
        created_at: now_secs(),
    };
    oauth::insert_client(&cx.env.d1("DB")?, &row).await?;
    audit::append(
        cx,
        AuditEvent {
            event: "oauth.client_registered",
            detail: Some(json!({ "client_id": row.id, "redirect_uris": uris.len() })),
            ..AuditEvent::default()
        },
    );
    let grant_types: &[&str] = if checked.refresh_tokens {
        &["authorization_code", "refresh_token"]
    } else {
        &["authorization_code"]
    };
    Ok(http::bare_ok(
        201,
        &json!({
            "client_id": row.id,
            "client_id_issued_at": row.created_at,
            "client_name": row.name,
            "redirect_uris": uris,
            "grant_types": grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": row.scope,
        }),
    ))
}

/// One parameter of a form, if present and not empty.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form::value(pairs, name).filter(|v| !v.is_empty())
}

fn oauth_error(code: OAuthErrorCode, description: &'static str) -> ApiError {
    ApiError::oauth(OAuthError::new(code, description))
}

/// `POST /oauth/token`: `authorization_code` and `refresh_token` grants (RFC 6749 §4.1.3,
/// §6). The grant's object decides; this mints the tokens it may accept, passes their
/// keyed hashes in, and hands them out only if it answers `Issued`. Token requests are
/// limited per client (`slow_down` past the limit).
pub async fn token(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let pairs = http::form_body(req).await?;
    let client_id = param(&pairs, "client_id").ok_or_else(|| {
        oauth_error(
            OAuthErrorCode::InvalidClient,
            "client_id is required (public clients)",
        )
    })?;
    let db = cx.env.d1("DB")?;
    let client = oauth::client(&db, client_id)
        .await?
        .ok_or_else(|| oauth_error(OAuthErrorCode::InvalidClient, "unknown client"))?;
    throttle::attempt(cx, Purpose::TokenRequest, &client.id).await?;
    let now = now_secs();
    let (grant_id, ask) = match param(&pairs, "grant_type") {
        Some("authorization_code") => {
            let code = param(&pairs, "code")
                .ok_or_else(|| oauth_error(OAuthErrorCode::InvalidRequest, "code is required"))?;
            let code = AuthorizationCode::parse(code)
                .map_err(|_| oauth_error(OAuthErrorCode::InvalidGrant, "the code is invalid"))?;
            let grant = code.grant();
            let issue = mint(cx, grant, client.refresh_tokens == 1);
            let ask = GrantAsk::Exchange {
                code_hash: code.keyed_hash(cx.config.hash_secret.expose()),
                client_id: client.id.clone(),
                redirect_uri: param(&pairs, "redirect_uri").map(str::to_owned),
                code_verifier: param(&pairs, "code_verifier").map(str::to_owned),
                issue: issue.hashes,
                lifetimes: cx.config.oauth_lifetimes,
                now,
            };
            (grant, (ask, issue))
        }
        Some("refresh_token") => {
            let presented = param(&pairs, "refresh_token").ok_or_else(|| {
                oauth_error(OAuthErrorCode::InvalidRequest, "refresh_token is required")
            })?;
            let Ok(Bearer::RefreshToken(token)) = Bearer::route(presented, &cx.config.prefix)
            else {
                return Err(oauth_error(
                    OAuthErrorCode::InvalidGrant,
                    "the refresh token is invalid",
                ));
            };
            let grant = token.grant();
            let issue = mint(cx, grant, true);
            let grace_secs = cx.config.refresh_reuse_grace_secs;
            // Only with a grace period does the grant's object keep the plain tokens (in
            // memory) to answer an identical retry again.
            let tokens = (grace_secs > 0).then(|| IssuedTokens {
                access: issue.access.expose().to_owned(),
                refresh: issue.refresh.as_ref().map(|t| t.expose().to_owned()),
            });
            let ask = GrantAsk::Refresh {
                token_hash: token.keyed_hash(cx.config.hash_secret.expose()),
                client_id: client.id.clone(),
                scope: param(&pairs, "scope").map(str::to_owned),
                grace_secs,
                issue: issue.hashes,
                tokens,
                lifetimes: cx.config.oauth_lifetimes,
                now,
            };
            (grant, (ask, issue))
        }
        Some(_) => {
            return Err(oauth_error(
                OAuthErrorCode::UnsupportedGrantType,
                "grant_type must be authorization_code or refresh_token",
            ));
        }
        None => {
            return Err(oauth_error(
                OAuthErrorCode::InvalidRequest,
                "grant_type is required",
            ));
        }
    };
    let (ask, minted) = ask;
    let answer = grant_gate::step(cx, &grant_id.to_hex(), &ask).await?;
    match answer.outcome {
        grant::Outcome::Repeat => match &answer.repeat {
            Some(rotation) => {
                let tokens = &rotation.tokens;
                token_answer(
                    &rotation.outcome,
                    &tokens.access,
                    tokens.refresh.as_deref(),
                    now,
                )
                .map(|body| http::bare_ok(200, &body))
                .ok_or_else(|| oauth_error(OAuthErrorCode::InvalidGrant, "the grant has ended"))
            }
            None => Err(oauth_error(
                OAuthErrorCode::InvalidGrant,
                "the grant has ended",
            )),
        },
        ref issued @ grant::Outcome::Issued { .. } => {
            let refresh = minted.refresh.as_ref().map(|t| t.expose());
            let body = token_answer(issued, minted.access.expose(), refresh, now)
                .ok_or_else(|| oauth_error(OAuthErrorCode::InvalidGrant, "the grant has ended"))?;
            if matches!(ask, GrantAsk::Exchange { .. })
                && let Some(standing) = &answer.standing
            {
                // The grant's object made the change; its event is written before the
                // answer acknowledges it.
                let event = grant_event(standing, "oauth.grant_issued", None);
                webhook_events::insert(&db, &event)?.run().await?;
                webhook_outbox::announce(cx, &standing.org_id);
                audit::append(
                    cx,
                    AuditEvent {
                        org_id: Some(standing.org_id.clone()),
                        event: "oauth.grant_issued",
                        actor_id: Some(standing.entity_id.clone()),
                        credential_id: Some(standing.id.clone()),
                        detail: Some(json!({ "client_id": client.id })),
                        ..AuditEvent::default()
                    },
                );
            }
            Ok(http::bare_ok(200, &body))
        }
        grant::Outcome::Ended(ending) => {
            end_record(
                cx,
                &db,
                &grant_id.to_hex(),
                ending,
                answer.standing.as_ref(),
                now,
            )
            .await?;
            audit::append(
                cx,
                AuditEvent {
                    org_id: answer.standing.as_ref().map(|s| s.org_id.clone()),
                    event: if ending == Ending::CodeReplay {
                        "oauth.code_replay"
                    } else {
                        "oauth.refresh_reuse"
                    },
                    actor_id: answer.standing.as_ref().map(|s| s.entity_id.clone()),
                    credential_id: Some(grant_id.to_hex()),
                    detail: Some(json!({ "client_id": client.id, "grant_revoked": true })),
                    ..AuditEvent::default()
                },
            );
            Err(oauth_error(
                OAuthErrorCode::InvalidGrant,
                "this code or refresh token was already used: the grant is revoked",
            ))
        }
        grant::Outcome::Refused(error) => Err(ApiError::oauth(error)),
        grant::Outcome::AlreadyEnded(_) | grant::Outcome::Revoked => Err(oauth_error(
            OAuthErrorCode::InvalidGrant,
            "the grant has ended",
        )),
    }
}

/// The token response (RFC 6749 §5.1) for an `Issued` outcome and its plain tokens.
fn token_answer(
    outcome: &grant::Outcome,
    access: &str,
    refresh: Option<&str>,
    now: u64,
) -> Option<serde_json::Value> {
    let grant::Outcome::Issued {
        scope,
        access_expires_at,
        refresh: with_refresh,
    } = outcome
    else {
        return None;
    };
    Some(metadata::token_response(
        access,
        access_expires_at.saturating_sub(now),
        refresh.filter(|_| *with_refresh),
        scope,
    ))
}

/// Tokens minted for one step, and the hashes the grant's object is given.
struct Minted {
    access: OAuthToken,
    refresh: Option<OAuthToken>,
    hashes: Issue,
}

fn mint(cx: &Cx<'_>, grant: GrantId, with_refresh: bool) -> Minted {
    let mut rng = rng();
    let access = OAuthToken::generate(OAuthTokenKind::Access, grant, &cx.config.prefix, &mut rng);
    let refresh = with_refresh
        .then(|| OAuthToken::generate(OAuthTokenKind::Refresh, grant, &cx.config.prefix, &mut rng));
    let secret = cx.config.hash_secret.expose();
    let hashes = Issue {
        access: access.keyed_hash(secret),
        refresh: refresh.as_ref().map(|t| t.keyed_hash(secret)),
    };
    Minted {
        access,
        refresh,
        hashes,
    }
}

/// `POST /oauth/revoke` (RFC 7009): a live access or refresh token of a grant revokes the
/// whole grant. The answer is 200 whatever was presented; a token of another client, or
/// one that only names a grant's id without being its token, changes nothing. The
/// grant's object decides and ends the grant, then the record is ended.
pub async fn revoke(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let pairs = http::form_body(req).await?;
    let presented = param(&pairs, "token")
        .ok_or_else(|| oauth_error(OAuthErrorCode::InvalidRequest, "token is required"))?;
    let client_id = param(&pairs, "client_id");
    let token = match Bearer::route(presented, &cx.config.prefix) {
        Ok(Bearer::AccessToken(t) | Bearer::RefreshToken(t)) => Some(t),
        _ => None,
    };
    if let Some(token) = token {
        let id = token.grant().to_hex();
        let db = cx.env.d1("DB")?;
        let owned = grants::standing(&db, &id)
            .await?
            .filter(|g| Some(g.client_id.as_str()) == client_id && g.ended_at.is_none());
        if let Some(standing) = owned {
            let now = now_secs();
            let ask = GrantAsk::RevokeToken {
                hash: token.keyed_hash(cx.config.hash_secret.expose()),
                now,
            };
            let answer = grant_gate::step(cx, &id, &ask).await?;
            if answer.outcome == grant::Outcome::Revoked {
                end_record(cx, &db, &id, Ending::Revoked, Some(&standing), now).await?;
                audit_revoked(cx, &standing);
            }
        }
    }
    Ok(http::bare_ok(200, &json!({})))
}

/// Ends a grant's record once, with its webhook event in the same transaction:
/// `oauth.refresh_reuse_detected` when reuse ended it, else `oauth.grant_revoked`.
async fn end_record(
    cx: &Cx<'_>,
    db: &worker::D1Database,
    id: &str,
    ending: Ending,
    standing: Option<&grants::GrantStanding>,
    now: u64,
) -> Result<(), ApiError> {
    let change = grants::end(db, id, ending.as_str(), now)?;
    let Some(standing) = standing else {
        change.run().await?;
        return Ok(());
    };
    let kind = if ending == Ending::RefreshReuse {
        "oauth.refresh_reuse_detected"
    } else {
        "oauth.grant_revoked"
    };
    let event = grant_event(standing, kind, Some(ending));
    if webhook_events::run_with(db, change, &event).await? == 1 {
        webhook_outbox::announce(cx, &standing.org_id);
    }
    Ok(())
}

/// The webhook event of a grant: its id, client and person, and why it ended.
fn grant_event(
    standing: &grants::GrantStanding,
    kind: &'static str,
    ending: Option<Ending>,
) -> Event {
    let mut data = json!({
        "grant_id": standing.id,
        "client_id": standing.client_id,
        "entity_id": standing.entity_id,
    });
    if let Some(ending) = ending {
        data["reason"] = ending.as_str().into();
    }
    Event::new(&standing.org_id, kind, data)
}

fn audit_revoked(cx: &Cx<'_>, standing: &grants::GrantStanding) {
    audit::append(
        cx,
        AuditEvent {
            org_id: Some(standing.org_id.clone()),
            event: "oauth.grant_revoked",
            actor_id: Some(standing.entity_id.clone()),
            credential_id: Some(standing.id.clone()),
            detail: Some(json!({ "client_id": standing.client_id })),
            ..AuditEvent::default()
        },
    );
}

/// Ends a grant: the record first, then its object, so no reload brings it back.
pub async fn end_grant(
    cx: &Cx<'_>,
    db: &worker::D1Database,
    standing: &grants::GrantStanding,
) -> Result<(), ApiError> {
    let now = now_secs();
    end_record(cx, db, &standing.id, Ending::Revoked, Some(standing), now).await?;
    grant_gate::step(cx, &standing.id, &GrantAsk::Revoke { now }).await?;
    audit_revoked(cx, standing);
    Ok(())
}

/// `POST /oauth/introspect` (RFC 7662), for the org's resource servers: authenticated by
/// an API key or certificate of an org, it tells whether an access token is live and
/// what it resolves to. A token of another org, a refresh token, or anything not live
/// answers `{"active": false}`.
pub async fn introspect(req: &mut Request, cx: &Cx<'_>) -> Outcome {
    let caller = crate::auth::authenticate(req, cx).await?;
    if !matches!(caller.auth_method, "api_key" | "certificate") {
        return Err(oauth_error(
            OAuthErrorCode::InvalidClient,
            "introspection is for resource servers: authenticate with an API key of the org",
        ));
    }
    let pairs = http::form_body(req).await?;
    let presented = param(&pairs, "token")
        .ok_or_else(|| oauth_error(OAuthErrorCode::InvalidRequest, "token is required"))?;
    let inactive = || Ok(http::bare_ok(200, &json!({ "active": false })));
    let Ok(Bearer::AccessToken(token)) = Bearer::route(presented, &cx.config.prefix) else {
        return inactive();
    };
    let ask = GrantAsk::Inspect {
        hash: token.keyed_hash(cx.config.hash_secret.expose()),
        now: now_secs(),
    };
    let seen: Inspection = grant_gate::ask(cx, &token.grant().to_hex(), &ask).await?;
    match seen.live.filter(|s| s.org_id == caller.org_id) {
        Some(standing) => Ok(http::bare_ok(
            200,
            &json!({
                "active": true,
                "scope": seen.scope,
                "client_id": standing.client_id,
                "token_type": "access_token",
                "exp": seen.expires_at,
                "sub": standing.entity_id,
                "org_id": standing.org_id,
                "grant_id": standing.id,
                "iss": cx.config.issuer_for(req),
            }),
        )),
        None => inactive(),
    }
}
