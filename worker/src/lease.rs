//! Leased admissions, kept in the isolate's memory.
//!
//! A busy credential's Durable Object (a key's `KeyGate`, a grant's `GrantGate`) grants
//! several admissions at once (a lease, counted up front in its window); this isolate
//! spends them on the next requests for that credential without another call, until
//! the lease runs out or expires (one second, or sooner if the credential itself
//! expires first). Everything a request needs is in the lease: the caller it resolves
//! to, and a digest of the very secret the object saw (an `id_secret` key's secret, an
//! access token's keyed hash), so another secret never rides on it. When a credential
//! changes, the change waits until every lease granted before it has expired (see
//! `objects/admission.rs`), so the next request after an acknowledged revocation is
//! refused everywhere.

use std::cell::RefCell;
use std::collections::HashMap;

use keyward_core::ratelimit::{Decision, LEASE_MILLIS};
use serde::{Deserialize, Serialize};

use crate::principal::{Principal, RateInfo};

/// What a credential's object admitted: this request and, when `granted > 1`, a lease
/// of `granted - 1` more to spend before `expires_ms`. `remaining` is what the window
/// has left after all of them.
#[derive(Debug, Serialize, Deserialize)]
pub struct Admitted {
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
    pub granted: u32,
    pub expires_ms: u64,
}

impl Admitted {
    /// An allowed decision made at `now_ms` for a credential that expires at
    /// `credential_expires_ms` (if it does): a lease is never spent past either.
    pub fn new(decision: &Decision, now_ms: u64, credential_expires_ms: Option<u64>) -> Self {
        let lease_expires_ms = now_ms + LEASE_MILLIS;
        Self {
            limit: decision.limit,
            remaining: decision.remaining,
            reset: decision.reset_secs,
            granted: decision.granted,
            expires_ms: credential_expires_ms
                .map_or(lease_expires_ms, |at| at.min(lease_expires_ms)),
        }
    }

    /// Keeps the spare admissions as this isolate's lease for `object` (tied to
    /// `digest`) and returns the caller with the rate headers of this request.
    pub fn admit(self, object: String, mut caller: Principal, digest: Option<String>) -> Principal {
        let spare = self.granted.saturating_sub(1);
        if spare > 0 {
            let lease = Lease {
                caller: caller.clone(),
                limit: self.limit,
                remaining: self.remaining,
                reset: self.reset,
                left: spare,
                expires_ms: self.expires_ms,
                digest,
            };
            keep(object, lease);
        }
        let remaining = self.remaining + spare;
        caller.rate = Some(RateInfo {
            limit: self.limit,
            remaining,
            reset: if remaining > 0 { 0 } else { self.reset },
        });
        caller
    }
}

/// Admissions leased for one credential.
struct Lease {
    /// Who the admissions act as (its `rate` is filled in at each spend).
    pub caller: Principal,
    pub limit: u32,
    /// What the window had left after the whole lease was counted.
    pub remaining: u32,
    pub reset: u64,
    /// Admissions of the lease not yet spent.
    pub left: u32,
    /// The time (ms) after which the lease may not be spent: the object's lease expiry
    /// or the credential's own, whichever is earlier.
    pub expires_ms: u64,
    /// Hex digest of the secret the object checked, when the object name alone does not
    /// identify the credential.
    pub digest: Option<String>,
}

/// Leases kept at most; beyond, expired and exhausted ones are dropped first.
const MAX_LEASES: usize = 4096;

thread_local! {
    static LEASES: RefCell<HashMap<String, Lease>> = RefCell::new(HashMap::new());
}

/// Spends one leased admission of the credential whose object is `object`, if a valid
/// lease for this very secret is held.
pub fn spend(object: &str, now_ms: u64, digest: Option<&str>) -> Option<Principal> {
    LEASES.with_borrow_mut(|leases| {
        let lease = leases.get_mut(object)?;
        if lease.left == 0 || now_ms >= lease.expires_ms || lease.digest.as_deref() != digest {
            leases.remove(object);
            return None;
        }
        lease.left -= 1;
        let remaining = lease.remaining + lease.left;
        let mut caller = lease.caller.clone();
        caller.rate = Some(RateInfo {
            limit: lease.limit,
            remaining,
            reset: if remaining > 0 { 0 } else { lease.reset },
        });
        Some(caller)
    })
}

/// Keeps a new lease for `object`. Concurrent requests each bring one back; a lease
/// still held for the same credential is merged rather than dropped (its admissions
/// were counted), under the earlier expiry, which is always the safe one.
fn keep(object: String, mut lease: Lease) {
    LEASES.with_borrow_mut(|leases| {
        let now_ms = worker::Date::now().as_millis();
        if let Some(old) = leases.get(&object)
            && old.left > 0
            && now_ms < old.expires_ms
            && old.digest == lease.digest
        {
            lease.left += old.left;
            lease.expires_ms = lease.expires_ms.min(old.expires_ms);
        }
        if leases.len() >= MAX_LEASES {
            leases.retain(|_, l| l.left > 0 && now_ms < l.expires_ms);
            if leases.len() >= MAX_LEASES {
                leases.clear();
            }
        }
        leases.insert(object, lease);
    });
}

/// Drops this isolate's lease for `object` (other isolates' leases expire on their own).
pub fn forget(object: &str) {
    LEASES.with_borrow_mut(|leases| {
        leases.remove(object);
    });
}
