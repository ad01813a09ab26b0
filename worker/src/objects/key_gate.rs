//! `KeyGate`: one Durable Object per API key, the single serialisation point of that key.
//!
//! It answers "is this key usable, and may this request pass its rate limit?" in one
//! call, which is the only storage hop on the hot path:
//!
//! - the key's record (status, expiry, entity status, limit) is loaded from D1 on first
//!   use and kept in memory; every change to the key or its entity writes D1 first, then
//!   calls `/invalidate`, so the next request reloads it (a generation counter makes a
//!   load that raced an invalidation start over instead of caching stale data);
//! - the rate window is decided in memory and persisted by write-ahead reservation, and
//!   busy keys get short leases of admissions the worker spends locally for up to a
//!   second (`admission.rs`, shared with grants); `/invalidate` answers how long the
//!   last lease may still be spent, and changes to a key wait that long before they are
//!   acknowledged;
//! - for `id_secret` keys it remembers SHA-256 digests of secrets the worker has already
//!   verified with argon2id, so a repeat request costs no argon2 while status, expiry
//!   and revocation are still read live on every request.

// The `durable_object` macro generates undocumented glue.
#![allow(missing_docs)]

use std::cell::RefCell;

use keyward_core::api_key::KeyRefusal;
use keyward_core::time::UnixTime;
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Method, Request, RequestInit, Response, State, durable_object};

use super::admission::{self, Admissions};
use crate::context::Cx;
use crate::http::ApiError;
use crate::lease::{self, Admitted};
use crate::store::d1::{self, KeyLocator, KeyRecord};

/// What the worker asks.
#[derive(Debug, Serialize, Deserialize)]
pub struct GateRequest {
    pub locator: KeyLocator,
    pub now_ms: u64,
    /// Hex SHA-256 of an `id_secret` key's secret.
    pub secret_digest: Option<String>,
    /// The worker verified `secret_digest` against the record's PHC string.
    pub verified: bool,
}

/// What the audit log needs of a refused key: ids and the shown prefix, nothing more.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRef {
    pub id: String,
    pub org_id: String,
    pub entity_id: String,
    pub key_prefix: String,
}

impl From<&KeyRecord> for KeyRef {
    fn from(key: &KeyRecord) -> Self {
        Self {
            id: key.id.clone(),
            org_id: key.org_id.clone(),
            entity_id: key.entity_id.clone(),
            key_prefix: key.key_prefix.clone(),
        }
    }
}

/// What the gate answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum GateAnswer {
    /// Authenticated and admitted (and perhaps a lease of further admissions).
    Allowed { key: KeyRecord, admitted: Admitted },
    /// Authenticated, over its limit.
    Limited {
        key: KeyRecord,
        limit: u32,
        retry_after: u64,
    },
    /// Not authenticated; `reason` goes to the audit log.
    Refused { reason: String, key: Option<KeyRef> },
    /// An `id_secret` key whose secret must be checked first (argon2id in the worker).
    Verify { phc: String },
}

/// The answer to `/invalidate`: how long leases already granted may still be spent.
#[derive(Debug, Serialize, Deserialize)]
pub struct Invalidated {
    pub wait_ms: u64,
}

/// Tells the key's gate to reload from D1, then waits until every lease it granted
/// before has expired: only then is the change acknowledged, so the very next request
/// anywhere sees it.
pub async fn invalidate(cx: &Cx<'_>, locator: &KeyLocator) -> Result<(), ApiError> {
    invalidate_all(cx, core::slice::from_ref(locator)).await
}

/// [`invalidate`] for several keys (an entity's credentials): each gate is told first,
/// then one wait covers the longest lease.
pub async fn invalidate_all(cx: &Cx<'_>, locators: &[KeyLocator]) -> Result<(), ApiError> {
    let mut wait_ms = 0;
    for locator in locators {
        let object = locator.object_name();
        lease::forget(&object);
        let stub = cx
            .env
            .durable_object("KEY_GATE")?
            .id_from_name(&object)?
            .get_stub()?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post);
        let request = Request::new_with_init("https://key-gate/invalidate", &init)?;
        let answer = match stub.fetch_with_request(request).await {
            Ok(mut r) if r.status_code() == 200 => r.json::<Invalidated>().await.ok(),
            _ => None,
        };
        wait_ms = wait_ms.max(answer.ok_or_else(ApiError::unavailable)?.wait_ms);
    }
    if wait_ms > 0 {
        worker::Delay::from(std::time::Duration::from_millis(wait_ms)).await;
    }
    Ok(())
}

enum Loaded {
    Found(Box<KeyRecord>),
    Missing,
}

#[derive(Default)]
struct Gate {
    record: Option<Loaded>,
    generation: u64,
    verified_digests: Vec<String>,
    last_touch_secs: u64,
}

/// Verified digests remembered per key (a key has one secret; the cap bounds memory
/// against a caller cycling garbage that happens to… never verify: only verified
/// digests are stored).
const MAX_VERIFIED_DIGESTS: usize = 4;

#[durable_object]
pub struct KeyGate {
    state: State,
    env: Env,
    gate: RefCell<Gate>,
    admissions: RefCell<Admissions>,
}

impl DurableObject for KeyGate {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            gate: RefCell::new(Gate::default()),
            admissions: RefCell::new(Admissions::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        match req.path().as_str() {
            "/authorize" => {
                let ask: GateRequest = req.json().await?;
                let answer = self.authorize(ask).await?;
                Response::from_json(&answer)
            }
            "/invalidate" => {
                let mut gate = self.gate.borrow_mut();
                gate.generation += 1;
                gate.record = None;
                gate.verified_digests.clear();
                let wait_ms = self
                    .admissions
                    .borrow()
                    .settle_ms(worker::Date::now().as_millis());
                Response::from_json(&Invalidated { wait_ms })
            }
            _ => Response::error("not found", 404),
        }
    }
}

impl KeyGate {
    async fn authorize(&self, ask: GateRequest) -> worker::Result<GateAnswer> {
        let record = self.record(&ask.locator).await?;
        let Some(key) = record else {
            return Ok(GateAnswer::Refused {
                reason: "unknown_key".into(),
                key: None,
            });
        };
        if let (KeyLocator::CredentialId(_), Some(digest)) = (&ask.locator, &ask.secret_digest) {
            let known = self.gate.borrow().verified_digests.contains(digest);
            if !known && !ask.verified {
                let Some(phc) = key.secret_phc.clone() else {
                    return Ok(GateAnswer::Refused {
                        reason: "unknown_key".into(),
                        key: None,
                    });
                };
                return Ok(GateAnswer::Verify { phc });
            }
            if !known {
                let mut gate = self.gate.borrow_mut();
                if gate.verified_digests.len() >= MAX_VERIFIED_DIGESTS {
                    gate.verified_digests.remove(0);
                }
                gate.verified_digests.push(digest.clone());
            }
        }
        let now_secs = ask.now_ms / 1000;
        if let Some(reason) = refusal(&key, now_secs) {
            return Ok(GateAnswer::Refused {
                reason: reason.into(),
                key: Some(KeyRef::from(&key)),
            });
        }
        let decision = admission::admit(
            &self.admissions,
            &self.state,
            ask.now_ms,
            key.rate_limit_rpm,
        )
        .await?;
        if !decision.allowed() {
            return Ok(GateAnswer::Limited {
                key,
                limit: decision.limit,
                retry_after: decision.reset_secs,
            });
        }
        self.touch(&key, now_secs);
        let key_expires_ms = key.expires_at.map(|at| at.saturating_mul(1000));
        Ok(GateAnswer::Allowed {
            admitted: Admitted::new(&decision, ask.now_ms, key_expires_ms),
            key,
        })
    }

    /// The key's record, loaded from D1 once per generation.
    async fn record(&self, locator: &KeyLocator) -> worker::Result<Option<KeyRecord>> {
        loop {
            let generation = {
                let gate = self.gate.borrow();
                match &gate.record {
                    Some(Loaded::Found(key)) => return Ok(Some((**key).clone())),
                    Some(Loaded::Missing) => return Ok(None),
                    None => gate.generation,
                }
            };
            // One load at a time: other requests wait for it instead of each sending
            // its own query (a burst after an invalidation would otherwise send hundreds).
            let (db, by) = (self.env.d1("DB")?, locator.clone());
            let loaded = self
                .state
                .block_concurrency_while(async move { d1::key_record(&db, &by).await })
                .await?;
            let mut gate = self.gate.borrow_mut();
            if gate.generation == generation {
                gate.record = Some(match &loaded {
                    Some(key) => Loaded::Found(Box::new(key.clone())),
                    None => Loaded::Missing,
                });
                return Ok(loaded);
            }
            // Invalidated while loading: the row may have changed; read it again.
        }
    }

    /// Updates `last_used_at` at most once a minute, after the answer.
    fn touch(&self, key: &KeyRecord, now_secs: u64) {
        let due = {
            let mut gate = self.gate.borrow_mut();
            let due = now_secs >= gate.last_touch_secs + 60;
            if due {
                gate.last_touch_secs = now_secs;
            }
            due
        };
        if let (true, Ok(db)) = (due, self.env.d1("DB")) {
            let id = key.id.clone();
            self.state.wait_until(async move {
                if let Err(error) = d1::touch_key(&db, &id, now_secs).await {
                    worker::console_error!("last_used_at update failed: {error}");
                }
            });
        }
    }
}

/// Why a known key may not be used now, if it may not (decided by the core).
fn refusal(key: &KeyRecord, now_secs: u64) -> Option<&'static str> {
    KeyRefusal::check(
        key.revoked_at.is_some(),
        key.expires_at.map(UnixTime),
        &key.entity_status,
        UnixTime(now_secs),
    )
    .err()
    .map(KeyRefusal::code)
}
