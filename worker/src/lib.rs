//! # keyward-worker
//!
//! Keyward's HTTP service on Cloudflare Workers. It is a thin adapter: every request is
//! parsed here, every decision is made by `keyward-core`, state is committed through
//! the storage modules, and [`http`] alone turns an outcome into a status and a body.
//!
//! ```text
//!  request ─► lib.rs (route) ─► auth.rs ─┬─► objects/key_gate.rs (one DO per key or
//!                │                       │     certificate: live status + rate window)
//!                │                       └─► session JWT: core verifies, D1 row read live
//!                ├─► routes/*.rs ─► store/*.rs (D1, the record of truth) ─► http.rs ─► response
//!                ├─► objects/throttle.rs (login, signup and mail attempts per subject)
//!                ├─► mail.rs (outbox or HTTP email API, after the answer)
//!                └─► store/audit.rs (every failure and change, never a secret)
//! ```
//!
//! Modules import downward only: routes → `auth.rs` → `objects/` and `lease.rs` →
//! `principal.rs` (the authenticated caller) → `store/`; `context.rs` (the request
//! context `Cx`), `config.rs`, `http.rs` and `ids.rs` sit at the bottom, where every
//! layer may reach them.
//!
//! It does not: hold secrets in logs (only 12-character key prefixes), read the clock
//! or RNG inside the core (it passes them in), or trust KV for anything that must be
//! consistent (KV holds namespace values only). Storage is documented in `STORAGE.md`.

mod auth;
mod config;
mod context;
mod http;
mod ids;
mod lease;
mod lookup_memo;
mod mail;
mod objects;
mod principal;
mod routes;
mod signing;
mod store;

pub use objects::grant_gate::GrantGate;
pub use objects::key_gate::KeyGate;
pub use objects::throttle::Throttle;
pub use objects::webhook_outbox::WebhookOutbox;

use worker::{Context, Env, Request, Response, event};

use crate::http::{ApiError, Family};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let request_id = ids::request_id();
    let path = req.path();
    // workers-rs reads any method it does not know (PURGE, COPY, …) as GET: refuse them
    // here, from the method as sent, before any route could serve them as a read.
    if !KNOWN_METHODS.contains(&req.inner().method().as_str()) {
        let response = http::error_response(
            &ApiError::method_not_allowed(),
            Family::of(&path),
            &request_id,
            None,
        );
        return http::finish(response, &request_id, &path, None);
    }
    let family = Family::of(&path);
    let config = config::Config::get(&env);
    // The page's origin, when it is one the settings allow to call this path (CORS).
    let cors = config
        .as_ref()
        .ok()
        .and_then(|c| http::cors_origin(&req, &path, &c.cors_origins));
    let outcome = match config {
        Ok(config) => {
            let cx = context::Cx {
                env: &env,
                ctx: &ctx,
                config: &config,
                request_id: &request_id,
            };
            objects::webhook_outbox::sweep_now_and_then(&cx);
            routes::dispatch(&mut req, &cx, cors.is_some())
                .await
                .map_err(|e| (e, Some(config)))
        }
        Err(e) => Err((e, None)),
    };
    let response = match outcome {
        Ok(response) => response,
        Err((error, config)) => {
            // The challenge of a 401 names the issuer: configured, or this request's origin.
            let challenge = config
                .filter(|_| error.status == 401)
                .map(|config| (config.realm.clone(), config.issuer_for(&req)));
            http::error_response(&error, family, &request_id, challenge)
        }
    };
    // A body nobody read (a refused request) is drained, or the connection it came on
    // could not carry the next request.
    if !req.inner().body_used() {
        http::drain(&mut req).await;
    }
    http::finish(response, &request_id, &path, cors.as_deref())
}

/// The cron trigger (`wrangler.toml`, each minute): the webhook sweep, and once an hour
/// the 30-day retention of webhook events.
#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    if let Err(error) = objects::webhook_outbox::sweep(&env).await {
        worker::console_error!("webhook sweep failed: {error}");
    }
    // `schedule()` is the trigger's time in milliseconds: the first minute of each hour.
    let minute_of_hour = (event.schedule() / 60_000.0) as u64 % 60;
    if minute_of_hour == 0
        && let Err(error) = objects::webhook_outbox::forget_old(&env).await
    {
        worker::console_error!("webhook retention failed: {error}");
    }
}

/// The methods the service answers; any other is 405.
const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Result of a route handler: a response, or an error [`http`] will render.
pub(crate) type Outcome = Result<Response, ApiError>;
