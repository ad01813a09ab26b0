//! The audit log (SPEC §7): an append-only D1 table of ids, key prefixes and reasons,
//! never secrets.
//!
//! Writes are group-committed. [`append`] queues the entry in the isolate and, if no
//! flush is running, starts one under the request's `ctx.wait_until`, so a slow log
//! never slows an answer. A flush writes everything queued so far in one D1 batch and
//! loops until the queue is empty, so a burst of N refusals costs a handful of D1
//! round trips, not N. Under wrangler dev, one D1 write per refused request in a
//! 500-request burst left some responses unanswered; group commit also keeps an
//! attacker's flood of bad keys from becoming a flood of database writes.
//!
//! The queue is bounded: past [`MAX_QUEUED`] entries, new ones are counted, not kept,
//! and the next flush writes one `audit.dropped` entry with the count.

use std::cell::RefCell;

use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::context::Cx;
use crate::ids::now_secs;

/// One entry. `key_prefix` is at most 12 characters by construction (`key_prefix()`).
#[derive(Debug, Default, Serialize)]
pub struct AuditEvent {
    pub org_id: Option<String>,
    pub event: &'static str,
    pub reason: Option<String>,
    pub actor_id: Option<String>,
    pub credential_id: Option<String>,
    pub key_prefix: Option<String>,
    pub detail: Option<serde_json::Value>,
}

impl AuditEvent {
    /// An entry of `event` done by the entity `actor_id` of `org_id`.
    pub fn by(org_id: &str, actor_id: &str, event: &'static str) -> Self {
        Self {
            org_id: Some(org_id.to_owned()),
            event,
            actor_id: Some(actor_id.to_owned()),
            ..Self::default()
        }
    }
}

/// Entries waiting for a flush in this isolate.
const MAX_QUEUED: usize = 2_000;
/// Rows per INSERT: D1 binds at most 100 parameters per statement, a row takes 9.
const ROWS_PER_STATEMENT: usize = 11;
/// A flush that has not finished after this long is presumed dead (its request was
/// cancelled), and the next append starts a new one.
const FLUSH_STALE_MS: u64 = 30_000;

struct Queued {
    at: u64,
    request_id: String,
    event: AuditEvent,
}

#[derive(Default)]
struct Queue {
    entries: Vec<Queued>,
    dropped: u64,
    /// When the running flush started, if one is running.
    flushing_since: Option<u64>,
}

thread_local! {
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
}

/// Queues `event` for the audit log, starting a flush if none is running.
pub fn append(cx: &Cx<'_>, event: AuditEvent) {
    let now_ms = worker::Date::now().as_millis();
    let start_flush = QUEUE.with_borrow_mut(|q| {
        if q.entries.len() < MAX_QUEUED {
            q.entries.push(Queued {
                at: now_secs(),
                request_id: cx.request_id.to_owned(),
                event,
            });
        } else {
            q.dropped += 1;
        }
        let idle = q
            .flushing_since
            .is_none_or(|since| now_ms.saturating_sub(since) > FLUSH_STALE_MS);
        if idle {
            q.flushing_since = Some(now_ms);
        }
        idle
    });
    if start_flush {
        match cx.env.d1("DB") {
            Ok(db) => cx.ctx.wait_until(flush(db)),
            Err(error) => {
                worker::console_error!("audit log unavailable: {error}");
                QUEUE.with_borrow_mut(|q| q.flushing_since = None);
            }
        }
    }
}

/// Writes one entry at once, for work that runs outside any request (a Durable
/// Object's alarm), where there is no request to keep a flush alive.
pub async fn write_now(db: &D1Database, event: AuditEvent) -> worker::Result<()> {
    let entry = Queued {
        at: now_secs(),
        request_id: String::new(),
        event,
    };
    db.batch(statements(db, vec![entry])?).await.map(|_| ())
}

/// Writes queued entries until none are left. Failures are logged, never surfaced.
async fn flush(db: D1Database) {
    loop {
        let (entries, dropped) = QUEUE.with_borrow_mut(|q| {
            let taken = (std::mem::take(&mut q.entries), q.dropped);
            q.dropped = 0;
            if taken.0.is_empty() && taken.1 == 0 {
                q.flushing_since = None;
            }
            taken
        });
        if entries.is_empty() && dropped == 0 {
            return;
        }
        let mut entries = entries;
        if dropped > 0 {
            entries.push(Queued {
                at: now_secs(),
                request_id: String::new(),
                event: AuditEvent {
                    event: "audit.dropped",
                    detail: Some(serde_json::json!({ "count": dropped })),
                    ..AuditEvent::default()
                },
            });
        }
        let outcome = match statements(&db, entries) {
            Ok(batch) => db.batch(batch).await.map(|_| ()),
            Err(error) => Err(error),
        };
        if let Err(error) = outcome {
            worker::console_error!("audit write failed: {error}");
        }
    }
}

/// Multi-row INSERTs of `entries`, [`ROWS_PER_STATEMENT`] rows each.
fn statements(db: &D1Database, entries: Vec<Queued>) -> worker::Result<Vec<D1PreparedStatement>> {
    let text = |v: Option<String>| v.map_or(JsValue::NULL, |s| JsValue::from_str(&s));
    let mut out = Vec::new();
    let mut rows = entries.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Queued> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let placeholders: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n: Vec<String> = (1..=9).map(|c| format!("?{}", i * 9 + c)).collect();
                format!("({})", n.join(", "))
            })
            .collect();
        let mut values = Vec::with_capacity(chunk.len() * 9);
        for Queued {
            at,
            request_id,
            event,
        } in chunk
        {
            values.extend([
                JsValue::from_f64(at as f64),
                text(event.org_id),
                JsValue::from_str(event.event),
                text(event.reason),
                text(event.actor_id),
                text(event.credential_id),
                text(event.key_prefix),
                JsValue::from_str(&request_id),
                text(event.detail.map(|d| d.to_string())),
            ]);
        }
        let sql = format!(
            "INSERT INTO audit_events (at, org_id, event, reason, actor_id, credential_id, key_prefix, request_id, detail) VALUES {}",
            placeholders.join(", ")
        );
        out.push(db.prepare(sql).bind(&values)?);
    }
    Ok(out)
}
