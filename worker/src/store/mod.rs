//! Storage adapters. D1 is the record of truth (`d1.rs`); the audit log lives in D1 too
//! (`audit.rs`). Every table, index and object is described in `worker/STORAGE.md`.

pub mod accounts;
pub mod audit;
pub mod d1;
pub mod grants;
pub mod identity;
pub mod invitations;
pub mod namespaces;
pub mod oauth;
pub mod sessions;
pub mod tokens;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhook_events;
pub mod webhook_secrets;
