//! A memo of `lookup` hashes, in the isolate's memory.
//!
//! The `lookup` hash is PBKDF2 (1,000 iterations by default, ≈0.4 ms of CPU): it exists
//! to make a stolen table expensive to attack offline, not to slow the holder of a key.
//! Recomputing it on every request of a busy key would be most of the request's CPU,
//! so the isolate remembers SHA-256(key) → lookup hash for the keys it has seen. Nothing
//! leaves memory, status is still decided live by the key's object or its short lease,
//! and the memo is bounded (cleared when full), so spraying random keys only costs the
//! sprayer PBKDF2 again.

use std::cell::RefCell;
use std::collections::HashMap;

use keyward_core::api_key::LookupKey;
use keyward_core::digest::{Digest32, sha256};

const MAX_ENTRIES: usize = 4096;

thread_local! {
    static MEMO: RefCell<HashMap<Digest32, Digest32>> = RefCell::new(HashMap::new());
}

/// The key's lookup hash, from the memo or computed (and remembered).
pub fn lookup_hash(key: &LookupKey, hash_secret: &[u8], iterations: u32) -> Digest32 {
    let fingerprint = sha256(key.expose().as_bytes());
    if let Some(hash) = MEMO.with_borrow(|memo| memo.get(&fingerprint).copied()) {
        return hash;
    }
    let hash = key.lookup_hash(hash_secret, iterations);
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= MAX_ENTRIES {
            memo.clear();
        }
        memo.insert(fingerprint, hash);
    });
    hash
}
