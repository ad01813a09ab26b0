//! Durable Objects.

mod admission;
pub mod grant_gate;
pub mod key_gate;
pub mod throttle;
pub mod webhook_outbox;

use keyward_core::ratelimit::RateWindow;
use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::{Env, Method, Request, RequestInit, State};

/// POSTs `body` as JSON to `url` on the object `name` of `binding`, and reads the JSON
/// answer: the one way the worker talks to its Durable Objects.
pub async fn call<T: DeserializeOwned>(
    env: &Env,
    binding: &str,
    name: &str,
    url: &str,
    body: &impl Serialize,
) -> worker::Result<T> {
    let stub = env
        .durable_object(binding)?
        .id_from_name(name)?
        .get_stub()?;
    let body = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let mut response = stub
        .fetch_with_request(Request::new_with_init(url, &init)?)
        .await?;
    response.json::<T>().await
}

/// The storage key under which an object persists its rate window.
const WINDOW_KEY: &str = "window";

/// The rate window this object persisted, or an empty one.
async fn stored_window(state: &State) -> worker::Result<RateWindow> {
    let entries: Vec<(u64, u32)> = state.storage().get(WINDOW_KEY).await?.unwrap_or_default();
    Ok(RateWindow::from_entries(&entries))
}

/// Persists the window's counts (`RateWindow::entries`, or a reservation snapshot).
async fn store_window(state: &State, entries: Vec<(u64, u32)>) -> worker::Result<()> {
    state.storage().put(WINDOW_KEY, entries).await
}
