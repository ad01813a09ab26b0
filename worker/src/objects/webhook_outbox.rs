//! `WebhookOutbox`: one Durable Object per webhook endpoint, which makes its deliveries.
//!
//! The queue is in D1 (`store::webhook_deliveries`): events are taken into it in the
//! same transaction that moves the endpoint's cursor, and every attempt is recorded
//! there. The object adds what D1 cannot: one place where an endpoint's attempts are
//! made, and an alarm for the next one that survives a restart of the runtime.
//!
//! A run (the alarm handler) takes new events, attempts what is due, ten at a time and
//! concurrently, signs each attempt with the org's secret of that moment (so a rotated
//! secret stops signing at once), and sets the alarm for the next due delivery. A
//! wake-up that arrives during a run makes the run go round again rather than set an
//! alarm the run would overwrite.
//!
//! An attempt checks the URL again (`keyward_core::webhook_url`), does not follow
//! redirects, and is abandoned after `WEBHOOK_TIMEOUT_SECONDS`. A 2xx answer is a
//! success; anything else is a failure of one class: `http_status`, `redirect`,
//! `timeout`, `connection`, or `url_refused`.

// The `durable_object` macro generates undocumented glue.
#![allow(missing_docs)]

use std::cell::Cell;
use std::time::Duration;

use futures_util::future::{Either, join_all, select};
use keyward_core::time::UnixTime;
use keyward_core::webhook::WebhookSecret;
use keyward_core::webhook_url::WebhookUrl;
use serde::{Deserialize, Serialize};
use worker::{
    AbortController, D1Database, Delay, DurableObject, Env, Fetch, Headers, Method, Request,
    RequestInit, RequestRedirect, Response, State, durable_object,
};

use crate::config::Config;
use crate::context::Cx;
use crate::ids::now_secs;
use crate::store::audit::{self, AuditEvent};
use crate::store::webhook_deliveries::{self, Attempt, Due, Target};
use crate::store::webhook_secrets;

/// Deliveries attempted at once.
const BATCH: u32 = 10;
/// Batches per run before the run hands over to a fresh alarm (bounds one run's time).
const BATCHES_PER_RUN: u32 = 20;
/// The storage key of the endpoint id an object serves.
const ENDPOINT_KEY: &str = "endpoint";

#[derive(Serialize, Deserialize)]
struct Wake {
    endpoint_id: String,
}

/// After the answer: wakes the outboxes of the org's enabled endpoints, which read the
/// new events themselves. A lost wake-up is made up by [`sweep`].
pub fn announce(cx: &Cx<'_>, org_id: &str) {
    let env = cx.env.clone();
    let org_id = org_id.to_owned();
    cx.ctx.wait_until(async move {
        if let Err(error) = wake_org(&env, &org_id).await {
            worker::console_error!("webhook wake-up failed (the sweep will catch up): {error}");
        }
    });
}

async fn wake_org(env: &Env, org_id: &str) -> worker::Result<()> {
    let db = env.d1("DB")?;
    let endpoints = webhook_deliveries::enabled_endpoints(&db, org_id).await?;
    wake_all(env, &endpoints).await
}

/// Wakes the outboxes of `endpoints` at once (an org has at most 50).
async fn wake_all(env: &Env, endpoints: &[String]) -> worker::Result<()> {
    join_all(endpoints.iter().map(|id| wake(env, id)))
        .await
        .into_iter()
        .collect()
}

/// Asks the endpoint's object to run now.
pub async fn wake(env: &Env, endpoint_id: &str) -> worker::Result<()> {
    let body = Wake {
        endpoint_id: endpoint_id.to_owned(),
    };
    let _: serde_json::Value = super::call(
        env,
        "WEBHOOK_OUTBOX",
        endpoint_id,
        "https://outbox/wake",
        &body,
    )
    .await?;
    Ok(())
}

/// Wakes every endpoint with events not taken or deliveries overdue for 30 seconds (a
/// wake-up or an alarm was lost). Run each minute by the cron trigger, which also calls
/// [`forget_old`]; in development, by requests at most once a minute per isolate
/// (`wrangler dev` runs no cron triggers).
pub async fn sweep(env: &Env) -> worker::Result<()> {
    const GRACE_SECS: u64 = 30;
    let db = env.d1("DB")?;
    let stalled = webhook_deliveries::stalled_endpoints(&db, now_secs(), GRACE_SECS).await?;
    wake_all(env, &stalled).await
}

/// Deletes events older than 30 days with their deliveries and attempts; the cron
/// trigger calls it once an hour.
pub async fn forget_old(env: &Env) -> worker::Result<()> {
    const KEEP_SECS: u64 = 30 * 86_400;
    let db = env.d1("DB")?;
    webhook_deliveries::forget_before(&db, now_secs().saturating_sub(KEEP_SECS)).await
}

thread_local! {
    /// When this isolate last started a sweep, in seconds.
    static LAST_SWEEP: Cell<u64> = const { Cell::new(0) };
}

/// In development, starts [`sweep`] after the answer if this isolate has not in the
/// last minute: `wrangler dev` runs no cron triggers. Production has the cron trigger.
pub fn sweep_now_and_then(cx: &Cx<'_>) {
    const EVERY_SECS: u64 = 60;
    if cx.config.deployment != keyward_core::webhook_url::Deployment::Development {
        return;
    }
    let now = now_secs();
    if LAST_SWEEP.get() + EVERY_SECS > now {
        return;
    }
    LAST_SWEEP.set(now);
    let env = cx.env.clone();
    cx.ctx.wait_until(async move {
        if let Err(error) = sweep(&env).await {
            worker::console_error!("webhook sweep failed: {error}");
        }
    });
}

#[durable_object]
pub struct WebhookOutbox {
    state: State,
    env: Env,
    running: Cell<bool>,
    woken: Cell<bool>,
}

impl DurableObject for WebhookOutbox {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            running: Cell::new(false),
            woken: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let wake: Wake = req.json().await?;
        let storage = self.state.storage();
        if storage.get::<String>(ENDPOINT_KEY).await?.is_none() {
            storage.put(ENDPOINT_KEY, &wake.endpoint_id).await?;
        }
        self.woken.set(true);
        if !self.running.get() && storage.get_alarm().await?.is_none_or(|at| at > now_ms()) {
            storage.set_alarm(0_i64).await?;
        }
        Response::from_json(&serde_json::json!({ "woken": true }))
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        let Some(endpoint_id) = storage.get::<String>(ENDPOINT_KEY).await? else {
            return Response::ok("idle");
        };
        self.running.set(true);
        let outcome = self.run_until_quiet(&endpoint_id).await;
        self.running.set(false);
        outcome?;
        Response::ok("done")
    }
}

impl WebhookOutbox {
    /// Runs until no wake-up arrived during the last run, then leaves the alarm at the
    /// next due delivery (or none).
    async fn run_until_quiet(&self, endpoint_id: &str) -> worker::Result<()> {
        let storage = self.state.storage();
        loop {
            self.woken.set(false);
            match self.run(endpoint_id).await? {
                Next::At(at) => {
                    let due_ms = i64::try_from(at.saturating_mul(1000)).unwrap_or(i64::MAX);
                    let delay_ms = due_ms.saturating_sub(now_ms()).max(0);
                    storage.set_alarm(delay_ms).await?;
                }
                Next::Nothing => storage.delete_alarm().await?,
                Next::Gone => {
                    storage.delete_alarm().await?;
                    storage.delete_all().await?;
                    return Ok(());
                }
            }
            if !self.woken.get() {
                return Ok(());
            }
        }
    }

    async fn run(&self, endpoint_id: &str) -> worker::Result<Next> {
        let config = Config::get(&self.env)
            .map_err(|_| worker::Error::RustError("the settings are invalid".into()))?;
        let db = self.env.d1("DB")?;
        let Some(target) = webhook_deliveries::target(&db, endpoint_id).await? else {
            return Ok(Next::Gone);
        };
        if target.enabled != 1 {
            return Ok(Next::Nothing);
        }
        let mut due =
            webhook_deliveries::take_new_events(&db, endpoint_id, now_secs(), BATCH).await?;
        // The secret read with the endpoint, then again before each further batch: a
        // rotation stops the old one signing at once.
        let mut sealed_secret = target.sealed_secret.clone();
        for _ in 0..BATCHES_PER_RUN {
            if due.is_empty() {
                break;
            }
            let secret = webhook_secrets::signing_key(
                &db,
                config.signing_secret.expose(),
                &target.org_id,
                sealed_secret.take(),
            )
            .await?
            .ok_or_else(|| {
                worker::Error::RustError("the org's webhook secret does not open".into())
            })?;
            let full_batch = due.len() == BATCH as usize;
            let attempts = join_all(
                due.into_iter()
                    .map(|d| attempt(&config, &target, &secret, d)),
            )
            .await;
            let next = webhook_deliveries::record(&db, endpoint_id, &attempts).await?;
            if attempts.iter().any(|a| a.error.is_some())
                && self.disable_if_failing(&db, &config, &target).await?
            {
                return Ok(Next::Nothing);
            }
            if !full_batch {
                return Ok(next.map_or(Next::Nothing, Next::At));
            }
            due = webhook_deliveries::due(&db, endpoint_id, now_secs(), BATCH).await?;
        }
        Ok(webhook_deliveries::next_due(&db, endpoint_id)
            .await?
            .map_or(Next::Nothing, Next::At))
    }

    /// Disables the endpoint after `WEBHOOK_DISABLE_AFTER_SECONDS` of failures, with an
    /// audit entry; true if it did.
    async fn disable_if_failing(
        &self,
        db: &D1Database,
        config: &Config,
        target: &Target,
    ) -> worker::Result<bool> {
        let now = now_secs();
        let disabled = webhook_deliveries::disable_if_failing(
            db,
            &target.id,
            now,
            config.webhook_disable_after_secs,
        )
        .await?;
        if disabled {
            let entry = AuditEvent {
                org_id: Some(target.org_id.clone()),
                event: "webhook.disabled",
                reason: Some("failing".into()),
                detail: Some(serde_json::json!({
                    "webhook_id": target.id,
                    "failing_for_seconds": config.webhook_disable_after_secs,
                })),
                ..AuditEvent::default()
            };
            audit::write_now(db, entry).await?;
        }
        Ok(disabled)
    }
}

enum Next {
    At(u64),
    Nothing,
    Gone,
}

/// One attempt of `due` to `target`, and what to do next.
async fn attempt(config: &Config, target: &Target, secret: &WebhookSecret, due: Due) -> Attempt {
    let started_ms = now_ms();
    let at = now_secs();
    let (status_code, error) = match send(config, target, secret, &due, at).await {
        Ok(status) if (200..300).contains(&status) => (Some(status), None),
        Ok(status) if (300..400).contains(&status) => (Some(status), Some("redirect")),
        Ok(status) => (Some(status), Some("http_status")),
        Err(class) => (None, Some(class)),
    };
    let schedule_step = if error.is_some() {
        due.schedule_step + 1
    } else {
        due.schedule_step
    };
    let next_attempt_at = error.and_then(|_| {
        config
            .webhook_retry
            .delay_after(schedule_step as usize, js_sys::Math::random())
            .map(|delay| at + delay)
    });
    Attempt {
        msg_id: due.msg_id,
        number: due.attempts + 1,
        at,
        status_code,
        duration_ms: u64::try_from(now_ms().saturating_sub(started_ms)).unwrap_or(0),
        error,
        next_attempt_at,
        schedule_step,
    }
}

/// POSTs the signed payload; the status code, or the class of the failure.
async fn send(
    config: &Config,
    target: &Target,
    secret: &WebhookSecret,
    due: &Due,
    at: u64,
) -> Result<u16, &'static str> {
    let url = WebhookUrl::parse(&target.url, config.deployment).map_err(|_| "url_refused")?;
    let headers = Headers::new();
    let signature = secret.sign(&due.msg_id, UnixTime(at), due.payload.as_bytes());
    for (name, value) in [
        ("content-type", "application/json"),
        ("user-agent", "Keyward-Webhooks/1"),
        ("webhook-id", due.msg_id.as_str()),
        ("webhook-timestamp", &at.to_string()),
        ("webhook-signature", &signature),
    ] {
        headers.set(name, value).map_err(|_| "connection")?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(due.payload.clone().into()));
    let request = Request::new_with_init(url.as_str(), &init).map_err(|_| "url_refused")?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sent = Box::pin(fetch.send_with_signal(&signal));
    let deadline = Box::pin(Delay::from(Duration::from_secs(
        config.webhook_timeout_secs,
    )));
    match select(sent, deadline).await {
        Either::Left((Ok(response), _)) => Ok(response.status_code()),
        Either::Left((Err(_), _)) => Err("connection"),
        Either::Right(_) => {
            controller.abort();
            Err("timeout")
        }
    }
}

fn now_ms() -> i64 {
    i64::try_from(worker::Date::now().as_millis()).unwrap_or(i64::MAX)
}
