//! The one trait all of the core's error enums share.

/// An error with a stable, machine-readable code: the same string in Rust, in the
/// worker's audit log and in JavaScript (`err.code`). Codes never change meaning once
/// released; messages may be reworded.
pub trait ErrorCode: core::error::Error {
    /// The stable code, e.g. `malformed_key`.
    fn code(&self) -> &'static str;
}
