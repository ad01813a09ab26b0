//! Durable Objects.

pub mod key_gate;
pub mod throttle;

use keyward_core::ratelimit::RateWindow;
use worker::State;

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
