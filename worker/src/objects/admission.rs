//! The exact rate window a credential's object keeps (a key's `KeyGate`, a grant's
//! `GrantGate`), shared so that both count and lease in exactly the same way.
//!
//! - Decisions are made in memory, where the object serialises requests, by the core's
//!   `RateWindow`.
//! - The window is persisted by write-ahead reservation (`RateWindow::reserve`): a
//!   snapshot counting a few admissions ahead is written before the answer, so a
//!   restart cannot reopen a spent window while most requests write nothing.
//! - Busy credentials get several admissions at once (`lease_size`), counted up front in
//!   the last second they may be spent in; the worker spends them from `lease.rs`
//!   without calling again for up to [`LEASE_MILLIS`]. The object remembers when the
//!   last such lease stops being spendable, so a change to the credential can wait that
//!   long before it is acknowledged ([`Admissions::settle_ms`]).

use std::cell::RefCell;

use keyward_core::ratelimit::{Decision, LEASE_MILLIS, RateWindow, Reservation, lease_size};
use worker::State;

/// Allowance for the clocks of the worker and the object disagreeing.
const CLOCK_SKEW_MARGIN_MS: u64 = 100;

/// One credential's window, reservation and lease horizon.
#[derive(Default)]
pub struct Admissions {
    window: Option<RateWindow>,
    reservation: Reservation,
    /// When the last multi-admission lease stops being spendable (object clock, ms).
    lease_expires_ms: u64,
}

impl Admissions {
    /// How long leases already granted may still be spent, plus the clock margin: a
    /// change waits this long before it is acknowledged.
    pub fn settle_ms(&self, now_ms: u64) -> u64 {
        (self.lease_expires_ms + CLOCK_SKEW_MARGIN_MS).saturating_sub(now_ms)
    }
}

/// Decides one request at `now_ms` under `limit` per rolling minute, granting a lease
/// of further admissions when the limit is high enough; persists the reservation
/// snapshot, when one is due, before returning.
pub async fn admit(
    cell: &RefCell<Admissions>,
    state: &State,
    now_ms: u64,
    limit: u32,
) -> worker::Result<Decision> {
    if cell.borrow().window.is_none() {
        let stored = super::stored_window(state).await?;
        cell.borrow_mut().window.get_or_insert(stored);
    }
    let now_secs = now_ms / 1000;
    let units = lease_size(limit);
    // A single admission is spent now; a lease may be spent until it expires, so it is
    // counted in the last second it can be spent in.
    let count_at = if units == 1 {
        now_secs
    } else {
        (now_ms + LEASE_MILLIS) / 1000
    };
    let (decision, snapshot) = {
        let mut guard = cell.borrow_mut();
        let admissions = &mut *guard;
        let window = admissions.window.get_or_insert_with(RateWindow::default);
        let decision = window.grant(now_secs, limit, units, count_at);
        let snapshot = decision
            .allowed()
            .then(|| {
                window.reserve(
                    &mut admissions.reservation,
                    count_at,
                    limit,
                    decision.granted,
                )
            })
            .flatten();
        if decision.granted > 1 {
            admissions.lease_expires_ms = admissions.lease_expires_ms.max(now_ms + LEASE_MILLIS);
        }
        (decision, snapshot)
    };
    if let Some(snapshot) = snapshot {
        super::store_window(state, snapshot).await?;
    }
    Ok(decision)
}
