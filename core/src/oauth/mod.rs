//! The OAuth 2.0 authorization server's decisions (issue 9), pure and sans-IO like the
//! rest of the crate: time and randomness come in as arguments, and the worker stores
//! and serves what these functions decide. One file per concern:
//!
//! | module | what |
//! |---|---|
//! | [`token`] | token and code shapes: `{p}_oat_`, `{p}_ort_`, codes; each carries its grant id |
//! | [`redirect`] | which redirect URIs may be registered, and matching a presented one |
pub mod redirect;
pub mod token;
