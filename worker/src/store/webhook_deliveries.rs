//! D1 queries of webhook deliveries (issue 10): the queue of each endpoint and the log
//! of every attempt. D1 is the queue's record of truth; an endpoint's Durable Object
//! (`objects::webhook_outbox`) only serialises the attempts and keeps the alarm.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use crate::store::d1::{changed, opt_secs};

/// What an outbox needs of its endpoint, with its org's sealed secret (read in the same
/// query: one D1 round trip fewer per run).
#[derive(Clone, Deserialize)]
pub struct Target {
    pub id: String,
    pub org_id: String,
    pub url: String,
    pub enabled: u8,
    pub sealed_secret: Option<String>,
}

pub async fn target(db: &D1Database, endpoint_id: &str) -> worker::Result<Option<Target>> {
    db.prepare(
        "SELECT w.id, w.org_id, w.url, w.enabled, s.sealed AS sealed_secret FROM webhook_endpoints w \
         LEFT JOIN webhook_secrets s ON s.org_id = w.org_id WHERE w.id = ?1",
    )
        .bind(&[endpoint_id.into()])?
        .first::<Target>(None)
        .await
}

/// The ids of the org's enabled endpoints.
pub async fn enabled_endpoints(db: &D1Database, org_id: &str) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows = db
        .prepare("SELECT id FROM webhook_endpoints WHERE org_id = ?1 AND enabled = 1")
        .bind(&[org_id.into()])?
        .all()
        .await?
        .results::<Id>()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Queues, for an enabled endpoint, every event of its org after its cursor that it
/// subscribed to, and moves the cursor past them: one transaction, so an event is
/// queued once however many outboxes or sweeps run this at the same time. Returns up to
/// `limit` deliveries then due, read in the same batch.
pub async fn take_new_events(
    db: &D1Database,
    endpoint_id: &str,
    now: u64,
    limit: u32,
) -> worker::Result<Vec<Due>> {
    let at = JsValue::from_f64(now as f64);
    let queue = db
        .prepare(
            "INSERT OR IGNORE INTO webhook_deliveries (endpoint_id, msg_id, event_seq, status, next_attempt_at, created_at, updated_at) \
             SELECT w.id, e.id, e.seq, 'pending', ?2, ?2, ?2 FROM webhook_endpoints w \
             JOIN webhook_events e ON e.org_id = w.org_id AND e.seq > w.event_cursor \
             WHERE w.id = ?1 AND w.enabled = 1 \
             AND (w.event_types = '[\"*\"]' OR e.type IN (SELECT value FROM json_each(w.event_types)))",
        )
        .bind(&[endpoint_id.into(), at])?;
    let advance = db
        .prepare(
            "UPDATE webhook_endpoints SET event_cursor = \
             (SELECT COALESCE(MAX(seq), webhook_endpoints.event_cursor) FROM webhook_events WHERE org_id = webhook_endpoints.org_id) \
             WHERE id = ?1 AND enabled = 1",
        )
        .bind(&[endpoint_id.into()])?;
    let results = db
        .batch(vec![
            queue,
            advance,
            due_statement(db, endpoint_id, now, limit)?,
        ])
        .await?;
    results
        .last()
        .map_or(Ok(Vec::new()), |r| r.results::<Due>())
}

/// A delivery whose attempt is due.
#[derive(Deserialize)]
pub struct Due {
    pub msg_id: String,
    pub attempts: u32,
    pub schedule_step: u32,
    pub payload: String,
}

/// Up to `limit` pending deliveries due by `now`, oldest due first.
pub async fn due(
    db: &D1Database,
    endpoint_id: &str,
    now: u64,
    limit: u32,
) -> worker::Result<Vec<Due>> {
    due_statement(db, endpoint_id, now, limit)?
        .all()
        .await?
        .results::<Due>()
}

fn due_statement(
    db: &D1Database,
    endpoint_id: &str,
    now: u64,
    limit: u32,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "SELECT d.msg_id, d.attempts, d.schedule_step, e.payload FROM webhook_deliveries d \
         JOIN webhook_events e ON e.id = d.msg_id \
         WHERE d.endpoint_id = ?1 AND d.status = 'pending' AND d.next_attempt_at <= ?2 \
         ORDER BY d.next_attempt_at, d.event_seq LIMIT ?3",
    )
    .bind(&[
        endpoint_id.into(),
        JsValue::from_f64(now as f64),
        JsValue::from_f64(f64::from(limit)),
    ])
}

#[derive(Deserialize)]
struct NextDue {
    at: Option<u64>,
}

fn next_due_statement(db: &D1Database, endpoint_id: &str) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries \
         WHERE endpoint_id = ?1 AND status = 'pending'",
    )
    .bind(&[endpoint_id.into()])
}

/// When the endpoint's next pending delivery is due, if it has one.
pub async fn next_due(db: &D1Database, endpoint_id: &str) -> worker::Result<Option<u64>> {
    let next = next_due_statement(db, endpoint_id)?
        .first::<NextDue>(None)
        .await?;
    Ok(next.and_then(|n| n.at))
}

/// The result of one attempt.
pub struct Attempt {
    pub msg_id: String,
    /// 1, 2, … over the delivery's life.
    pub number: u32,
    pub at: u64,
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// `None` on success, else the error class.
    pub error: Option<&'static str>,
    /// The next attempt, when the delivery is tried again.
    pub next_attempt_at: Option<u64>,
    /// The failures since the delivery was (re)queued, after this attempt.
    pub schedule_step: u32,
}

/// Records attempts: each one's log row and its delivery's new state, and the
/// endpoint's run of failures (cleared by a success, begun by the first failure after
/// one), in one transaction. Returns when the endpoint's next pending delivery is due,
/// read in the same batch.
pub async fn record(
    db: &D1Database,
    endpoint_id: &str,
    attempts: &[Attempt],
) -> worker::Result<Option<u64>> {
    let mut batch: Vec<D1PreparedStatement> = Vec::with_capacity(attempts.len() * 2 + 1);
    for a in attempts {
        let status = match (a.error, a.next_attempt_at) {
            (None, _) => "delivered",
            (Some(_), Some(_)) => "pending",
            (Some(_), None) => "failed",
        };
        // Only for a delivery that still exists: the endpoint may have been deleted while
        // the attempt was under way.
        batch.push(
            db.prepare(
                "INSERT OR REPLACE INTO webhook_attempts (endpoint_id, msg_id, attempt, at, status_code, duration_ms, error, next_attempt_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE EXISTS \
                 (SELECT 1 FROM webhook_deliveries WHERE endpoint_id = ?1 AND msg_id = ?2)",
            )
            .bind(&[
                endpoint_id.into(),
                a.msg_id.as_str().into(),
                JsValue::from_f64(f64::from(a.number)),
                JsValue::from_f64(a.at as f64),
                a.status_code.map_or(JsValue::NULL, |c| JsValue::from_f64(f64::from(c))),
                JsValue::from_f64(a.duration_ms as f64),
                a.error.map_or(JsValue::NULL, JsValue::from_str),
                opt_secs(a.next_attempt_at),
            ])?,
        );
        batch.push(
            db.prepare(
                "UPDATE webhook_deliveries SET status = ?3, attempts = ?4, schedule_step = ?5, next_attempt_at = ?6, updated_at = ?7 \
                 WHERE endpoint_id = ?1 AND msg_id = ?2",
            )
            .bind(&[
                endpoint_id.into(),
                a.msg_id.as_str().into(),
                status.into(),
                JsValue::from_f64(f64::from(a.number)),
                JsValue::from_f64(f64::from(a.schedule_step)),
                opt_secs(a.next_attempt_at),
                JsValue::from_f64(a.at as f64),
            ])?,
        );
    }
    if let Some(last) = attempts.iter().max_by_key(|a| a.at) {
        batch.push(if last.error.is_none() {
            db.prepare("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1")
                .bind(&[endpoint_id.into()])?
        } else {
            let first_failure = attempts.iter().map(|a| a.at).min().unwrap_or(last.at);
            db.prepare(
                "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?2) WHERE id = ?1",
            )
            .bind(&[endpoint_id.into(), JsValue::from_f64(first_failure as f64)])?
        });
    }
    batch.push(next_due_statement(db, endpoint_id)?);
    let results = db.batch(batch).await?;
    let next = match results.last() {
        Some(result) => result.results::<NextDue>()?.into_iter().next(),
        None => None,
    };
    Ok(next.and_then(|n| n.at))
}

/// Disables the endpoint if it has failed for `after_secs`; true if this call did.
pub async fn disable_if_failing(
    db: &D1Database,
    endpoint_id: &str,
    now: u64,
    after_secs: u64,
) -> worker::Result<bool> {
    let result = db
        .prepare(
            "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'failing', disabled_at = ?2, \
             updated_at = ?2, version = version + 1 \
             WHERE id = ?1 AND enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ?2 - ?3",
        )
        .bind(&[
            endpoint_id.into(),
            JsValue::from_f64(now as f64),
            JsValue::from_f64(after_secs as f64),
        ])?
        .run()
        .await?;
    Ok(changed(&result) == 1)
}

/// Queues event `msg_id` of the endpoint's org for the endpoint again, due at `now`
/// and at the start of the retry schedule; false if the org has no such event.
pub async fn requeue(
    db: &D1Database,
    org_id: &str,
    endpoint_id: &str,
    msg_id: &str,
    now: u64,
) -> worker::Result<bool> {
    let result = db
        .prepare(
            "INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_seq, status, next_attempt_at, created_at, updated_at) \
             SELECT ?2, e.id, e.seq, 'pending', ?4, ?4, ?4 FROM webhook_events e WHERE e.id = ?3 AND e.org_id = ?1 \
             ON CONFLICT (endpoint_id, msg_id) DO UPDATE SET status = 'pending', schedule_step = 0, \
             next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at",
        )
        .bind(&[
            org_id.into(),
            endpoint_id.into(),
            msg_id.into(),
            JsValue::from_f64(now as f64),
        ])?
        .run()
        .await?;
    Ok(changed(&result) >= 1)
}

/// A delivery as the log shows it.
#[derive(Deserialize)]
pub struct DeliveryRow {
    pub msg_id: String,
    pub event_seq: u64,
    pub event_type: String,
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<u64>,
    pub created_at: u64,
    pub updated_at: u64,
}

const DELIVERY_SELECT: &str = "SELECT d.msg_id, d.event_seq, e.type AS event_type, d.status, d.attempts, \
     d.next_attempt_at, d.created_at, d.updated_at FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.msg_id ";

/// The endpoint's deliveries, newest event first, before the event `before_seq`.
pub async fn page(
    db: &D1Database,
    endpoint_id: &str,
    before_seq: Option<u64>,
    limit: u32,
) -> worker::Result<Vec<DeliveryRow>> {
    db.prepare(format!(
        "{DELIVERY_SELECT}WHERE d.endpoint_id = ?1 AND d.event_seq < ?2 ORDER BY d.event_seq DESC LIMIT ?3"
    ))
    .bind(&[
        endpoint_id.into(),
        JsValue::from_f64(before_seq.map_or(9.0e15, |s| s as f64)),
        JsValue::from_f64(f64::from(limit)),
    ])?
    .all()
    .await?
    .results::<DeliveryRow>()
}

pub async fn delivery(
    db: &D1Database,
    endpoint_id: &str,
    msg_id: &str,
) -> worker::Result<Option<DeliveryRow>> {
    db.prepare(format!(
        "{DELIVERY_SELECT}WHERE d.endpoint_id = ?1 AND d.msg_id = ?2"
    ))
    .bind(&[endpoint_id.into(), msg_id.into()])?
    .first::<DeliveryRow>(None)
    .await
}

/// One line of the attempt log.
#[derive(Deserialize)]
pub struct AttemptRow {
    pub attempt: u32,
    pub at: u64,
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub next_attempt_at: Option<u64>,
}

pub async fn attempts(
    db: &D1Database,
    endpoint_id: &str,
    msg_id: &str,
) -> worker::Result<Vec<AttemptRow>> {
    db.prepare(
        "SELECT attempt, at, status_code, duration_ms, error, next_attempt_at FROM webhook_attempts \
         WHERE endpoint_id = ?1 AND msg_id = ?2 ORDER BY attempt",
    )
    .bind(&[endpoint_id.into(), msg_id.into()])?
    .all()
    .await?
    .results::<AttemptRow>()
}

/// Endpoints the sweep should wake: enabled, with events not yet taken or deliveries
/// overdue by `grace` seconds (their wake-up or alarm was lost); at most 200 a sweep,
/// the next sweep takes the rest.
pub async fn stalled_endpoints(
    db: &D1Database,
    now: u64,
    grace: u64,
) -> worker::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows = db
        .prepare(
            "SELECT w.id FROM webhook_endpoints w WHERE w.enabled = 1 AND ( \
             EXISTS (SELECT 1 FROM webhook_events e WHERE e.org_id = w.org_id AND e.seq > w.event_cursor AND e.created_at <= ?1 - ?2) \
             OR EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= ?1 - ?2)) \
             LIMIT 200",
        )
        .bind(&[JsValue::from_f64(now as f64), JsValue::from_f64(grace as f64)])?
        .all()
        .await?
        .results::<Id>()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Deletes events created before `cutoff` with their deliveries and attempts (found
/// through `webhook_events_created` and `webhook_deliveries_msg`).
pub async fn forget_before(db: &D1Database, cutoff: u64) -> worker::Result<()> {
    let at = || JsValue::from_f64(cutoff as f64);
    db.batch(vec![
        db.prepare(
            "DELETE FROM webhook_attempts WHERE (endpoint_id, msg_id) IN (SELECT endpoint_id, msg_id FROM webhook_deliveries \
             WHERE msg_id IN (SELECT id FROM webhook_events WHERE created_at < ?1))",
        )
        .bind(&[at()])?,
        db.prepare(
            "DELETE FROM webhook_deliveries WHERE msg_id IN (SELECT id FROM webhook_events WHERE created_at < ?1)",
        )
        .bind(&[at()])?,
        db.prepare("DELETE FROM webhook_events WHERE created_at < ?1").bind(&[at()])?,
    ])
    .await
    .map(|_| ())
}
