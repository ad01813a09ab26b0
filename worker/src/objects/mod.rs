//! Durable Objects.

pub mod key_gate;
