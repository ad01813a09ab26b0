//! Durable Objects.

pub mod key_gate;
pub mod throttle;
