//! Time as a value.
//!
//! The core never reads a clock: a caller that needs "now" passes a [`UnixTime`] it read
//! itself (`Date.now()` in the worker and the SDK, `SystemTime` in native tests). That
//! keeps every decision reproducible under a fixed clock.

/// Whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// The seconds since the epoch.
    #[must_use]
    pub const fn secs(self) -> u64 {
        self.0
    }

    /// `self + secs`, saturating at the end of representable time.
    #[must_use]
    pub const fn plus(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// The distance between two instants in seconds, whichever comes first.
    #[must_use]
    pub const fn abs_diff(self, other: Self) -> u64 {
        self.0.abs_diff(other.0)
    }
}
