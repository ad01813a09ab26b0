//! Leased admissions, kept in the isolate's memory.
//!
//! A busy key's Durable Object grants several admissions at once (a lease, counted up
//! front in its window); this isolate spends them on the next requests for that key
//! without another call, until the lease runs out or expires (one second). Everything a
//! request needs is in the lease: the key's record, to re-check expiry, and for
//! `id_secret` keys the digest of the secret the object saw verified, so another secret
//! never rides on it. When a key changes, the change waits until every lease granted
//! before it has expired (see `routes/keys.rs`), so the next request after an
//! acknowledged revocation is refused everywhere.

use std::cell::RefCell;
use std::collections::HashMap;

use keyward_core::api_key::KeyRefusal;
use keyward_core::time::UnixTime;

use crate::store::d1::KeyRecord;

/// What the `RateLimit-*` headers report.
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    pub reset: u64,
}

/// Admissions leased for one key.
pub struct Lease {
    pub key: KeyRecord,
    pub limit: u32,
    /// What the window had left after the whole lease was counted.
    pub remaining: u32,
    pub reset: u64,
    /// Admissions of the lease not yet spent.
    pub left: u32,
    /// The object's clock time after which the lease may not be spent.
    pub expires_ms: u64,
    /// For `id_secret` keys: hex SHA-256 of the verified secret.
    pub digest: Option<String>,
}

/// Leases kept at most; beyond, expired and exhausted ones are dropped first.
const MAX_LEASES: usize = 4096;

thread_local! {
    static LEASES: RefCell<HashMap<String, Lease>> = RefCell::new(HashMap::new());
}

/// Spends one leased admission for the key whose object is `object`, if a valid lease
/// for this very credential is held.
pub fn spend(object: &str, now_ms: u64, digest: Option<&str>) -> Option<(KeyRecord, RateInfo)> {
    LEASES.with_borrow_mut(|leases| {
        let lease = leases.get_mut(object)?;
        let usable = lease.left > 0
            && now_ms < lease.expires_ms
            && lease.digest.as_deref() == digest
            && KeyRefusal::check(
                lease.key.revoked_at.is_some(),
                lease.key.expires_at.map(UnixTime),
                &lease.key.entity_status,
                UnixTime(now_ms / 1000),
            )
            .is_ok();
        if !usable {
            leases.remove(object);
            return None;
        }
        lease.left -= 1;
        let remaining = lease.remaining + lease.left;
        let rate = RateInfo {
            limit: lease.limit,
            remaining,
            reset: if remaining > 0 { 0 } else { lease.reset },
        };
        Some((lease.key.clone(), rate))
    })
}

/// Keeps a new lease for `object`. Concurrent requests each bring one back; a lease
/// still held for the same credential is merged rather than dropped (its admissions
/// were counted), under the earlier expiry, which is always the safe one.
pub fn keep(object: String, mut lease: Lease) {
    LEASES.with_borrow_mut(|leases| {
        if let Some(old) = leases.get(&object) {
            let now_ms = worker::Date::now().as_millis();
            if old.left > 0 && now_ms < old.expires_ms && old.digest == lease.digest {
                lease.left += old.left;
                lease.expires_ms = lease.expires_ms.min(old.expires_ms);
            }
        }
        if leases.len() >= MAX_LEASES {
            let now_ms = worker::Date::now().as_millis();
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
