//! # keyward-core
//!
//! Every security decision Keyward makes, as pure functions: the token formats, secret
//! generation, hashing, constant-time comparison, PKCE, webhook signatures and email
//! normalisation. The same code runs natively (tests, benchmarks), inside the Cloudflare
//! Worker and inside the JavaScript SDK (through `keyward-wasm`).
//!
//! ```text
//!   worker/  (HTTP in workerd)                 pkg/  SDK + CLI (TypeScript)
//!   parse → core → commit → answer             Node, browser, Workers
//!      │      │                                        │
//!      │      ▼                                        ▼
//!      │   core/  pure decisions  ◄──────────────  wasm/  wasm-bindgen facade
//!      │   (no I/O, no clock, no RNG)
//!      │      │ storage ports (traits, atomicity stated)
//!      ▼      ▼
//!   worker/store: D1 (record) · KV (namespace values) · Durable Objects (serialised state)
//! ```
//!
//! ## What this crate does not do
//!
//! - **No I/O.** It never opens a socket, a file or a database. Storage, when a flow needs
//!   it, sits behind traits that the adapters implement.
//! - **No clock.** Functions that care about time take a [`time::UnixTime`] argument.
//! - **No global randomness.** Functions that mint secrets take `&mut impl CryptoRng`
//!   ([`rand_core::CryptoRng`]); the adapters pass the platform CSPRNG, tests pass a
//!   seeded one. The crate depends on no `getrandom` backend.
//! - **No HTTP.** Errors are typed enums with a stable [`ErrorCode::code`]; only the worker decides
//!   which status and body an error becomes.
//!
//! ## Map
//!
//! | module | what |
//! |---|---|
//! | [`secret`] | secret newtypes: redacted `Debug`, zeroized on drop, constant-time equality |
//! | [`encoding`] | strict (canonical-only) base64url and lowercase hex |
//! | [`api_key`] | the deployment prefix, both API-key schemes, `key_prefix`, the lookup hash |
//! | [`bearer`] | the `Authorization` header parser and the router that tells tokens apart by shape |
//! | [`jwt`] | session JWTs: EdDSA (Ed25519) signing, strict verification, key derivation, the JWKS |
//! | [`password`] | argon2id hash / verify / needs-rehash, with parameters as a value |
//! | [`password_policy`] | which passwords are accepted: NFKC, 8–4,096 characters, no control characters, not in the bundled common list |
//! | [`digest`] | SHA-256, HMAC-SHA256 and PBKDF2-HMAC-SHA256 |
//! | [`pkce`] | RFC 7636 verifiers and S256 challenges |
//! | [`access`] | who may read, change and manage the credentials of which entity (403 decisions) |
//! | [`rules`] | input rules: names, namespaces, rate limits per role, entity kinds, roles and statuses |
//! | [`ratelimit`] | the exact per-second sliding window behind per-key rate limits |
//! | [`webhook`] | Standard Webhooks signatures |
//! | [`webhook_events`] | the event types an endpoint may subscribe to |
//! | [`webhook_retry`] | when a failed delivery is tried again: the schedule and its jitter |
//! | [`webhook_url`] | which URLs may receive deliveries (https; no private or local address in production) |
//! | [`email`] | normalisation of email identifiers |
//! | [`email_token`] | tokens sent by mail: verification (`{p}v_…`), invitation (`{p}i_…`), password reset (`{p}r_…`) |
//! | [`oauth`] | the OAuth 2.0 authorization server: token shapes, redirect rules, registration, the grant state machine |
//! | [`membership`] | people in several orgs: which org a login opens, the last-owner rule, where an admin's power over a person ends |
//! | [`certificate`] | mTLS client certificates: one-PEM X.509 v3 parsing, SHA-256 fingerprints |
//! | [`time`] | [`time::UnixTime`], seconds since the epoch, passed in by the caller |
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod access;
pub mod api_key;
pub mod bearer;
pub mod certificate;
pub mod digest;
pub mod email;
pub mod email_token;
pub mod encoding;
pub mod error;
pub mod jwt;
pub mod membership;
pub mod namespace;
pub mod oauth;
pub mod password;
pub mod password_policy;
pub mod pkce;
pub mod ratelimit;
pub mod rules;
pub mod sealed;
pub mod secret;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod time;
pub mod webhook;
pub mod webhook_events;
pub mod webhook_retry;
pub mod webhook_url;

pub use error::ErrorCode;
pub use rand_core::CryptoRng;
