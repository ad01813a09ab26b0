//! The OAuth 2.0 authorization server's decisions (issue 9), pure and sans-IO like the
//! rest of the crate: time and randomness come in as arguments, and the worker stores
//! and serves what these functions decide. One file per concern:
//!
//! | module | what |
//! |---|---|
//! | [`token`] | token and code shapes: `{p}_oat_`, `{p}_ort_`, codes; each carries its grant id |
//! | [`redirect`] | which redirect URIs may be registered, and matching a presented one |
//! | [`authorize`] | the authorization request: what fails with a page, what redirects, what passes |
//! | [`grant`] | the grant state machine: code → exchange → rotations → revoked, replay and reuse |
//! | [`metadata`] | RFC 8414 and RFC 9728 documents, the token response, the `WWW-Authenticate` challenge |
//! | [`registration`] | RFC 7591 client metadata of public clients |
//! | [`scope`] | scope sets: parsing, defaults, narrowing |
//! | [`form`] | strict `application/x-www-form-urlencoded` decoding and encoding |
//! | [`error`] | RFC 6749 §5.2 (and related) error codes |
pub mod authorize;
pub mod error;
pub mod form;
pub mod grant;
pub mod metadata;
pub mod redirect;
pub mod registration;
pub mod scope;
pub mod token;
