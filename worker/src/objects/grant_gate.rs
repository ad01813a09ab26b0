//! `GrantGate`: one Durable Object per OAuth grant, the grant's single serialisation
//! point (issue 9), named `grant:<grant id>` from the id every code and token carries.
//!
//! It holds the grant's state (`keyward_core::oauth::grant::Grant`: the code, the token
//! hashes, the rotations) in its storage and runs the core's transitions on it one at a
//! time, so under any concurrency exactly one presentation of a code or refresh token
//! wins. It answers access-token checks with the grant's live standing (the membership
//! and account, loaded from D1 and dropped by `/invalidate`) and the per-grant rate
//! window (`OAUTH_RATE_LIMIT_RPM`) in the same call: at most one storage hop per `/v1`
//! request. Busy grants get short leases of admissions for one access token, exactly
//! as busy keys do (`admission.rs`); whatever ends the grant or changes its standing
//! waits until those leases have expired before it is acknowledged ([`step`],
//! [`invalidate_all`]), so the next request after it is refused everywhere.

// The `durable_object` macro generates undocumented glue.
#![allow(missing_docs)]

use std::cell::RefCell;

use keyward_core::digest::Digest32;
use keyward_core::oauth::grant::{
    AccessRefusal, Exchange, Grant, Issue, Lifetimes, Outcome, Refresh,
};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, State, durable_object};

use super::admission::{self, Admissions};
use crate::context::Cx;
use crate::http::ApiError;
use crate::lease::{self, Admitted};
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
    /// `grant_type=refresh_token`. With a grace period, `tokens` are the plain tokens
    /// of `issue`, kept in the object's memory (never its storage) for a retry.
    Refresh {
        token_hash: Digest32,
        client_id: String,
        scope: Option<String>,
        grace_secs: u64,
        issue: Issue,
        tokens: Option<IssuedTokens>,
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
    /// Admitted, and perhaps a lease of further admissions for this same token.
    Allowed {
        standing: GrantStanding,
        admitted: Admitted,
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

/// The plain tokens of a rotation. No `Debug`; wiped from memory when dropped.
#[derive(Clone, Serialize, Deserialize)]
pub struct IssuedTokens {
    pub access: String,
    pub refresh: Option<String>,
}

impl Drop for IssuedTokens {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.access.zeroize();
        self.refresh.zeroize();
    }
}

/// What the latest rotation answered, for an identical retry within the grace period:
/// the refresh token it spent (keyed hash), the scope asked, what it issued.
#[derive(Clone, Serialize, Deserialize)]
pub struct Rotation {
    spent: Digest32,
    asked_scope: Option<String>,
    pub outcome: Outcome,
    pub tokens: IssuedTokens,
}

/// What a grant answers to the other asks. No `Debug`: a repeat carries tokens.
#[derive(Serialize, Deserialize)]
pub struct StepAnswer {
    pub outcome: Outcome,
    /// The grant's record, when it exists (for the audit log and the answer).
    pub standing: Option<GrantStanding>,
    /// When the step ended the grant: how long leases of its access tokens may still
    /// be spent.
    pub settle_ms: u64,
    /// With [`Outcome::Repeat`]: the rotation to answer again.
    pub repeat: Option<Rotation>,
}

/// How long leases may still be spent, after an `Invalidate`.
#[derive(Debug, Serialize, Deserialize)]
struct Settle {
    settle_ms: u64,
}

/// The name of grant `grant_id`'s object (and of its leases in `lease.rs`).
pub fn object_name(grant_id: &str) -> String {
    format!("grant:{grant_id}")
}

/// Asks the grant `grant_id`. An unreachable object fails the request closed (503).
pub async fn ask<T: serde::de::DeserializeOwned>(
    cx: &Cx<'_>,
    grant_id: &str,
    ask: &GrantAsk,
) -> Result<T, ApiError> {
    let (name, url) = (object_name(grant_id), format!("https://grant/{grant_id}"));
    super::call::<T>(cx.env, "GRANT_GATE", &name, &url, ask)
        .await
        .map_err(|error| {
            worker::console_error!("grant gate unreachable: {error}");
            ApiError::unavailable()
        })
}

/// Runs a step of grant `grant_id`'s state machine. If it ended the grant, the answer
/// waits until every lease of the grant's access tokens has expired: once the caller
/// hears of the ending, no request with a token of the grant passes anywhere.
pub async fn step(cx: &Cx<'_>, grant_id: &str, step: &GrantAsk) -> Result<StepAnswer, ApiError> {
    let answer: StepAnswer = ask(cx, grant_id, step).await?;
    if answer.settle_ms > 0 {
        lease::forget(&object_name(grant_id));
        settle(answer.settle_ms).await;
    }
    Ok(answer)
}

/// Tells the grants of a membership to reload its standing (after a suspension,
/// removal or account change), then waits out their leases once.
pub async fn invalidate_all(cx: &Cx<'_>, grant_ids: &[String]) -> Result<(), ApiError> {
    let mut wait_ms = 0;
    for id in grant_ids {
        lease::forget(&object_name(id));
        let answer: Settle = ask(cx, id, &GrantAsk::Invalidate).await?;
        wait_ms = wait_ms.max(answer.settle_ms);
    }
    settle(wait_ms).await;
    Ok(())
}

async fn settle(wait_ms: u64) {
    if wait_ms > 0 {
        worker::Delay::from(std::time::Duration::from_millis(wait_ms)).await;
    }
}

const GRANT_KEY: &str = "grant";

#[derive(Default)]
struct Cell {
    grant: Option<Grant>,
    standing: Option<Option<GrantStanding>>,
    /// Bumped by every `Invalidate`, so a load that raced one starts over.
    generation: u64,
    /// The latest rotation, kept in memory only while a grace period is set.
    last_rotation: Option<Rotation>,
    last_touch_secs: u64,
}

#[durable_object]
pub struct GrantGate {
    state: State,
    env: Env,
    cell: RefCell<Cell>,
    admissions: RefCell<Admissions>,
}

impl DurableObject for GrantGate {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            cell: RefCell::new(Cell::default()),
            admissions: RefCell::new(Admissions::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let grant_id = req.path().trim_start_matches('/').to_owned();
        match req.json::<GrantAsk>().await? {
            GrantAsk::Create { grant } => {
                if self.grant().await?.is_none() {
                    self.save(grant).await?;
                }
                // Load the standing now, while the person waits for the consent page's
                // redirect, rather than in the client's code exchange.
                self.standing(&grant_id).await?;
                Response::from_json(&serde_json::json!({ "created": true }))
            }
            GrantAsk::Invalidate => {
                {
                    let mut cell = self.cell.borrow_mut();
                    cell.standing = None;
                    cell.generation += 1;
                }
                Response::from_json(&Settle {
                    settle_ms: self.settle_ms(),
                })
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

    /// The grant's record and its person's standing, loaded from D1 once per generation:
    /// a load that an `Invalidate` overtook is read again rather than cached stale.
    async fn standing(&self, grant_id: &str) -> worker::Result<Option<GrantStanding>> {
        loop {
            let generation = {
                let cell = self.cell.borrow();
                if let Some(standing) = cell.standing.clone() {
                    return Ok(standing);
                }
                cell.generation
            };
            let loaded = grants::standing(&self.env.d1("DB")?, grant_id).await?;
            let mut cell = self.cell.borrow_mut();
            if cell.generation == generation {
                cell.standing = Some(loaded.clone());
                return Ok(loaded);
            }
        }
    }

    async fn step(&self, grant_id: &str, ask: GrantAsk) -> worker::Result<StepAnswer> {
        let standing = self.standing(grant_id).await?;
        let Some(grant) = self.grant().await? else {
            return Ok(StepAnswer {
                outcome: Outcome::Refused(invalid_grant("the code or token is invalid")),
                standing,
                settle_ms: 0,
                repeat: None,
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
                    settle_ms: 0,
                    repeat: None,
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
                tokens,
                lifetimes,
                now,
            } => {
                let (next, outcome) = grant.refresh(
                    &Refresh {
                        token_hash,
                        client_id: &client_id,
                        scope: scope.as_deref(),
                    },
                    now,
                    lifetimes,
                    grace_secs,
                    issue,
                );
                return self
                    .rotated(next, outcome, standing, token_hash, scope, tokens)
                    .await;
            }
            _ => {
                return Err(worker::Error::RustError(
                    "not a step of the grant's state machine".into(),
                ));
            }
        };
        self.stepped(next, outcome, standing, None).await
    }

    /// Persists the grant after a step and answers it.
    async fn stepped(
        &self,
        next: Grant,
        outcome: Outcome,
        standing: Option<GrantStanding>,
        repeat: Option<Rotation>,
    ) -> worker::Result<StepAnswer> {
        let settle_ms = if next.ended().is_some() {
            self.settle_ms()
        } else {
            0
        };
        self.save(next).await?;
        Ok(StepAnswer {
            outcome,
            standing,
            settle_ms,
            repeat,
        })
    }

    /// After a refresh: remembers an issued rotation's tokens (when a grace period is
    /// set), and answers a repeat with the remembered rotation if the retry is identical
    /// (the same spent token and scope). A repeat whose rotation this object no longer
    /// remembers (it restarted) is refused without ending the grant.
    async fn rotated(
        &self,
        next: Grant,
        outcome: Outcome,
        standing: Option<GrantStanding>,
        spent: Digest32,
        asked_scope: Option<String>,
        tokens: Option<IssuedTokens>,
    ) -> worker::Result<StepAnswer> {
        match (&outcome, tokens) {
            (Outcome::Issued { .. }, Some(tokens)) => {
                self.cell.borrow_mut().last_rotation = Some(Rotation {
                    spent,
                    asked_scope,
                    outcome: outcome.clone(),
                    tokens,
                });
            }
            (Outcome::Issued { .. }, None) => self.cell.borrow_mut().last_rotation = None,
            (Outcome::Repeat, _) => {
                let kept = self.cell.borrow().last_rotation.clone().filter(|r| {
                    keyward_core::secret::ct_eq(&r.spent, &spent) && r.asked_scope == asked_scope
                });
                let outcome = if kept.is_some() {
                    Outcome::Repeat
                } else {
                    Outcome::Refused(invalid_grant(
                        "the refresh token was already used; use the tokens it was exchanged for",
                    ))
                };
                return self.stepped(next, outcome, standing, kept).await;
            }
            _ => {}
        }
        self.stepped(next, outcome, standing, None).await
    }

    fn settle_ms(&self) -> u64 {
        self.admissions
            .borrow()
            .settle_ms(worker::Date::now().as_millis())
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
        let token_expires_ms = grant
            .access_expires_at(&hash)
            .unwrap_or(0)
            .saturating_mul(1000);
        match grant.check_access(&hash, now) {
            Ok(_) => {}
            Err(AccessRefusal::Unknown) => return Ok(refused("oauth_unknown_token", standing)),
            Err(AccessRefusal::Expired) => return Ok(refused("oauth_expired", standing)),
            Err(AccessRefusal::Ended(_)) => return Ok(refused("oauth_grant_ended", standing)),
        }
        if let Some(why) = record.refusal() {
            return Ok(refused(&format!("oauth_{}", why.code()), standing));
        }
        let decision = admission::admit(&self.admissions, &self.state, now_ms, limit).await?;
        if !decision.allowed() {
            return Ok(AccessAnswer::Limited {
                retry_after: decision.reset_secs,
            });
        }
        self.touch(grant_id, now);
        Ok(AccessAnswer::Allowed {
            standing: record,
            admitted: Admitted::new(&decision, now_ms, Some(token_expires_ms)),
        })
    }
}

fn invalid_grant(description: &'static str) -> keyward_core::oauth::error::OAuthError {
    keyward_core::oauth::error::OAuthError::new(
        keyward_core::oauth::error::OAuthErrorCode::InvalidGrant,
        description,
    )
}
