//! `GrantGate`: one Durable Object per OAuth grant, the grant's single serialisation
//! point (issue 9), named `grant:<grant id>` from the id every code and token carries.
//!
//! It holds the grant's state (`keyward_core::oauth::grant::Grant`: the code, the token
//! hashes, the rotations) in its storage and runs the core's transitions on it one at a
//! time, so under any concurrency exactly one presentation of a code or refresh token
//! wins. It answers access-token checks with the grant's live standing (the membership
//! and account, loaded from D1 and dropped by `/invalidate`) and the per-grant rate
//! window (`OAUTH_RATE_LIMIT_RPM`) in the same call: one storage hop per `/v1` request.

// The `durable_object` macro generates undocumented glue.
#![allow(missing_docs)]

use std::cell::RefCell;

use keyward_core::digest::Digest32;
use keyward_core::oauth::grant::{
    AccessRefusal, Exchange, Grant, Issue, Lifetimes, Outcome, Refresh,
};
use keyward_core::ratelimit::{RateWindow, Reservation};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, State, durable_object};

use crate::context::Cx;
use crate::http::ApiError;
use crate::store::grants::{self, GrantStanding};

/// What the worker asks a grant. No `Debug`: an exchange carries the PKCE verifier.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GrantAsk {
    /// Store a new pending grant (its code was just minted).
    Create { grant: Grant },
    /// `grant_type=authorization_code`.
    Exchange {
        code_hash: Digest32,
        client_id: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
        issue: Issue,
        lifetimes: Lifetimes,
        now: u64,
    },
    /// `grant_type=refresh_token`.
    Refresh {
        token_hash: Digest32,
        client_id: String,
        scope: Option<String>,
        grace_secs: u64,
        issue: Issue,
        lifetimes: Lifetimes,
        now: u64,
    },
    /// End the grant (the record in D1 was ended first).
    Revoke { now: u64 },
    /// End the grant by one of its tokens (RFC 7009), if it is a live one of this grant.
    RevokeToken { hash: Digest32, now: u64 },
    /// Is this access token live, and may this request pass the grant's rate limit?
    Access {
        hash: Digest32,
        now_ms: u64,
        limit: u32,
    },
    /// Introspection (RFC 7662): is this access token live? Counts nothing.
    Inspect { hash: Digest32, now: u64 },
    /// The membership or account changed: reload the standing.
    Invalidate,
}

/// What a grant answers to an introspection.
#[derive(Debug, Serialize, Deserialize)]
pub struct Inspection {
    /// The grant's record, when the token is live and its person still has access.
    pub live: Option<GrantStanding>,
    pub scope: String,
    pub expires_at: u64,
}

/// What a grant answers to an access check.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AccessAnswer {
    Allowed {
        standing: GrantStanding,
        scope: String,
        limit: u32,
        remaining: u32,
        reset: u64,
    },
    Limited {
        retry_after: u64,
    },
    /// `reason` goes to the audit log; `standing` names the grant when it exists.
    Refused {
        reason: String,
        standing: Option<GrantStanding>,
    },
}

/// What a grant answers to the other asks.
#[derive(Debug, Serialize, Deserialize)]
pub struct StepAnswer {
    pub outcome: Outcome,
    /// The grant's record, when it exists (for the audit log and the answer).
    pub standing: Option<GrantStanding>,
}

/// Asks the grant `grant_id`. An unreachable object fails the request closed (503).
pub async fn ask<T: serde::de::DeserializeOwned>(
    cx: &Cx<'_>,
    grant_id: &str,
    ask: &GrantAsk,
) -> Result<T, ApiError> {
    let (name, url) = (
        format!("grant:{grant_id}"),
        format!("https://grant/{grant_id}"),
    );
    super::call::<T>(cx.env, "GRANT_GATE", &name, &url, ask)
        .await
        .map_err(|error| {
            worker::console_error!("grant gate unreachable: {error}");
            ApiError::unavailable()
        })
}

/// Tells the grants of a membership to reload its standing (after a suspension,
/// removal or account change).
pub async fn invalidate_all(cx: &Cx<'_>, grant_ids: &[String]) -> Result<(), ApiError> {
    for id in grant_ids {
        let _: serde_json::Value = ask(cx, id, &GrantAsk::Invalidate).await?;
    }
    Ok(())
}

const GRANT_KEY: &str = "grant";

#[derive(Default)]
struct Cell {
    grant: Option<Grant>,
    standing: Option<Option<GrantStanding>>,
    window: Option<RateWindow>,
    reservation: Reservation,
    last_touch_secs: u64,
}

#[durable_object]
pub struct GrantGate {
    state: State,
    env: Env,
    cell: RefCell<Cell>,
}

impl DurableObject for GrantGate {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            cell: RefCell::new(Cell::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let grant_id = req.path().trim_start_matches('/').to_owned();
        match req.json::<GrantAsk>().await? {
            GrantAsk::Create { grant } => {
                if self.grant().await?.is_none() {
                    self.save(grant).await?;
                }
                Response::from_json(&serde_json::json!({ "created": true }))
            }
            GrantAsk::Invalidate => {
                self.cell.borrow_mut().standing = None;
                Response::from_json(&serde_json::json!({ "invalidated": true }))
            }
            GrantAsk::Inspect { hash, now } => {
                Response::from_json(&self.inspect(&grant_id, hash, now).await?)
            }
            GrantAsk::Access {
                hash,
                now_ms,
                limit,
            } => Response::from_json(&self.access(&grant_id, hash, now_ms, limit).await?),
            step => Response::from_json(&self.step(&grant_id, step).await?),
        }
    }
}

impl GrantGate {
    async fn grant(&self) -> worker::Result<Option<Grant>> {
        if let Some(grant) = self.cell.borrow().grant.clone() {
            return Ok(Some(grant));
        }
        let stored: Option<Grant> = self.state.storage().get(GRANT_KEY).await?;
        if let Some(grant) = &stored {
            self.cell.borrow_mut().grant = Some(grant.clone());
        }
        Ok(stored)
    }

    /// Persists before memory: a restart never sees a state older than an answer given.
    async fn save(&self, grant: Grant) -> worker::Result<()> {
        self.state.storage().put(GRANT_KEY, &grant).await?;
        self.cell.borrow_mut().grant = Some(grant);
        Ok(())
    }

    async fn standing(&self, grant_id: &str) -> worker::Result<Option<GrantStanding>> {
        if let Some(standing) = self.cell.borrow().standing.clone() {
            return Ok(standing);
        }
        let loaded = grants::standing(&self.env.d1("DB")?, grant_id).await?;
        self.cell.borrow_mut().standing = Some(loaded.clone());
        Ok(loaded)
    }

    async fn step(&self, grant_id: &str, ask: GrantAsk) -> worker::Result<StepAnswer> {
        let standing = self.standing(grant_id).await?;
        let Some(grant) = self.grant().await? else {
            return Ok(StepAnswer {
                outcome: Outcome::Refused(invalid_grant("the code or token is invalid")),
                standing,
            });
        };
        let member_active = standing.as_ref().is_some_and(|s| s.refusal().is_none());
        let (next, outcome) = match ask {
            GrantAsk::Revoke { now } => grant.revoke(now),
            GrantAsk::RevokeToken { hash, now } => grant.revoke_by_token(&hash, now),
            _ if !member_active && grant.ended().is_none() => {
                return Ok(StepAnswer {
                    outcome: Outcome::Refused(invalid_grant(
                        "the person who granted access no longer has it",
                    )),
                    standing,
                });
            }
            GrantAsk::Exchange {
                code_hash,
                client_id,
                redirect_uri,
                code_verifier,
                issue,
                lifetimes,
                now,
            } => grant.exchange(
                &Exchange {
                    code_hash,
                    client_id: &client_id,
                    redirect_uri: redirect_uri.as_deref(),
                    code_verifier: code_verifier.as_deref(),
                },
                now,
                lifetimes,
                issue,
            ),
            GrantAsk::Refresh {
                token_hash,
                client_id,
                scope,
                grace_secs,
                issue,
                lifetimes,
                now,
            } => grant.refresh(
                &Refresh {
                    token_hash,
                    client_id: &client_id,
                    scope: scope.as_deref(),
                },
                now,
                lifetimes,
                grace_secs,
                issue,
            ),
            _ => {
                return Err(worker::Error::RustError(
                    "not a step of the grant's state machine".into(),
                ));
            }
        };
        self.save(next).await?;
        Ok(StepAnswer { outcome, standing })
    }

    async fn inspect(
        &self,
        grant_id: &str,
        hash: Digest32,
        now: u64,
    ) -> worker::Result<Inspection> {
        let standing = self.standing(grant_id).await?;
        let grant = self.grant().await?;
        let live = match (&grant, standing) {
            (Some(grant), Some(standing))
                if grant.check_access(&hash, now).is_ok() && standing.refusal().is_none() =>
            {
                Some(standing)
            }
            _ => None,
        };
        Ok(Inspection {
            scope: grant
                .as_ref()
                .map(|g| g.scope().to_scope_string())
                .unwrap_or_default(),
            expires_at: grant
                .as_ref()
                .and_then(|g| g.access_expires_at(&hash))
                .unwrap_or(0),
            live,
        })
    }

    /// Records `last_used_at` at most once a minute, after the answer.
    fn touch(&self, grant_id: &str, now: u64) {
        let due = {
            let mut cell = self.cell.borrow_mut();
            let due = now >= cell.last_touch_secs + 60;
            if due {
                cell.last_touch_secs = now;
            }
            due
        };
        if let (true, Ok(db)) = (due, self.env.d1("DB")) {
            let id = grant_id.to_owned();
            self.state.wait_until(async move {
                if let Err(error) = grants::touch(&db, &id, now).await {
                    worker::console_error!("grant last_used_at update failed: {error}");
                }
            });
        }
    }

    async fn access(
        &self,
        grant_id: &str,
        hash: Digest32,
        now_ms: u64,
        limit: u32,
    ) -> worker::Result<AccessAnswer> {
        let now = now_ms / 1000;
        let standing = self.standing(grant_id).await?;
        let refused = |reason: &str, standing: Option<GrantStanding>| AccessAnswer::Refused {
            reason: reason.to_owned(),
            standing,
        };
        let (Some(grant), Some(record)) = (self.grant().await?, standing.clone()) else {
            return Ok(refused("oauth_unknown_grant", standing));
        };
        let scope = match grant.check_access(&hash, now) {
            Ok(scope) => scope.to_scope_string(),
            Err(AccessRefusal::Unknown) => return Ok(refused("oauth_unknown_token", standing)),
            Err(AccessRefusal::Expired) => return Ok(refused("oauth_expired", standing)),
            Err(AccessRefusal::Ended(_)) => return Ok(refused("oauth_grant_ended", standing)),
        };
        if let Some(why) = record.refusal() {
            return Ok(refused(&format!("oauth_{}", why.code()), standing));
        }
        if self.cell.borrow().window.is_none() {
            let stored = super::stored_window(&self.state).await?;
            self.cell.borrow_mut().window.get_or_insert(stored);
        }
        // Write-ahead reservation, as in `KeyGate`: the stored counts run a few admissions
        // ahead of the real ones, so a restart cannot reopen a spent window while most
        // admissions write nothing.
        let (decision, snapshot) = {
            let mut guard = self.cell.borrow_mut();
            let cell = &mut *guard;
            let window = cell.window.get_or_insert_with(RateWindow::default);
            let decision = window.check(now, limit);
            let snapshot = decision
                .allowed()
                .then(|| window.reserve(&mut cell.reservation, now, limit, decision.granted))
                .flatten();
            (decision, snapshot)
        };
        if !decision.allowed() {
            return Ok(AccessAnswer::Limited {
                retry_after: decision.reset_secs,
            });
        }
        if let Some(snapshot) = snapshot {
            super::store_window(&self.state, snapshot).await?;
        }
        self.touch(grant_id, now);
        Ok(AccessAnswer::Allowed {
            standing: record,
            scope,
            limit: decision.limit,
            remaining: decision.remaining,
            reset: decision.reset_secs,
        })
    }
}

fn invalid_grant(description: &'static str) -> keyward_core::oauth::error::OAuthError {
    keyward_core::oauth::error::OAuthError::new(
        keyward_core::oauth::error::OAuthErrorCode::InvalidGrant,
        description,
    )
}
