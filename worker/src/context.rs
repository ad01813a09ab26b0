//! The request context every layer may use: the Worker's bindings, the execution
//! context (for work after the answer), the settings and the request id. It sits at the
//! bottom of the worker's layers (routes → authentication → Durable Objects and stores),
//! so that no module below the routes needs to import from them.

use worker::{Context, Env};

use crate::config::Config;

/// What every handler, store and object stub may use for one request.
pub struct Cx<'a> {
    pub env: &'a Env,
    pub ctx: &'a Context,
    pub config: &'a Config,
    pub request_id: &'a str,
}
