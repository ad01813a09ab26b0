//! Rate-limit arithmetic: an exact sliding window counted per second, with leases.
//!
//! The contract (SPEC §6) is "at most `limit` requests in **any** rolling 60-second
//! window". The window keeps one counter per wall-clock second and admits at second `s`
//! only if the counters of seconds `s-60` and later sum to less than `limit`. Any real
//! 60-second interval, wherever it starts within a second, lies inside one span of 61
//! whole seconds, so no interval ever sees more than `limit` admissions: no burst leaks
//! at a window edge, as it would with fixed windows or a token bucket. The price is that
//! a slot frees up to one second later than a millisecond-exact log would free it: the
//! limit errs on the safe side.
//!
//! [`RateWindow::grant`] is a pure function of the state, the time and the limit; the
//! caller (a Durable Object per key) serialises the calls, which is what makes it exact
//! under concurrency.
//!
//! ## Leases
//!
//! A grant may cover several admissions ([`lease_size`]) that the caller spends locally
//! within [`LEASE_MILLIS`], without asking again. They are counted up front, in the
//! latest second they can be spent in, so the window can only over-count: a lease that
//! expires unspent refuses a few requests early, never lets one too many through.
//! Keys with small limits get leases of one, so every admission is decided here.
//!
//! ## Persistence by write-ahead reservation
//!
//! Writing the window to storage on every grant would make each request pay for a
//! storage commit. Instead [`RateWindow::reserve`] persists a snapshot that counts a
//! few admissions *ahead* (a reservation, in one second only) and is not asked again
//! until those are used or the second changes. The persisted counts are never below the
//! real ones: a restarted object may refuse up to one reservation too early for a
//! minute, but can never admit more than the limit.

use alloc::vec::Vec;

/// Seconds covered by one decision: the current second and the 60 before it.
pub const SPAN_SECS: u64 = 61;
/// How long a leased admission may be spent after its grant.
pub const LEASE_MILLIS: u64 = 1_000;
/// Ring size: the 61-second span plus room for seconds counted ahead (leases).
const SLOTS: usize = 64;

/// Admissions per lease for a limit: one below 1,200 rpm (every admission decided
/// centrally), then a six-hundredth of the limit, at most 100.
#[must_use]
pub fn lease_size(limit: u32) -> u32 {
    (limit / 600).clamp(1, 100)
}

/// The per-key window state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateWindow {
    /// `slots[s % 64] = (s, admissions counted in second s)`.
    slots: [(u64, u32); SLOTS],
}

impl Default for RateWindow {
    fn default() -> Self {
        Self {
            slots: [(0, 0); SLOTS],
        }
    }
}

/// The outcome of one [`RateWindow::grant`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Admissions granted (0 when refused); the caller spends them within the lease.
    pub granted: u32,
    /// The limit in force (`RateLimit-Limit`).
    pub limit: u32,
    /// Admissions still possible after the granted ones (`RateLimit-Remaining` of the
    /// last granted admission).
    pub remaining: u32,
    /// Seconds until at least one more admission becomes possible: `Retry-After` when
    /// refused, `RateLimit-Reset` when granted (0 while capacity remains).
    pub reset_secs: u64,
}

impl Decision {
    /// Whether at least one admission was granted.
    #[must_use]
    pub fn allowed(&self) -> bool {
        self.granted > 0
    }
}

impl RateWindow {
    /// Decides one request at `now_secs` under `limit` per rolling minute and, if
    /// admitted, counts it.
    pub fn check(&mut self, now_secs: u64, limit: u32) -> Decision {
        self.grant(now_secs, limit, 1, now_secs)
    }

    /// Grants up to `wanted` admissions at `now_secs`, counted in second `count_at`
    /// (`>= now_secs`: the last second the caller may spend them in).
    pub fn grant(&mut self, now_secs: u64, limit: u32, wanted: u32, count_at: u64) -> Decision {
        let count_at = count_at.max(now_secs);
        let used = self.used(now_secs);
        let granted = wanted.min(limit.saturating_sub(used));
        if granted == 0 {
            let reset_secs = self.secs_until_free(now_secs, limit);
            return Decision {
                granted: 0,
                limit,
                remaining: 0,
                reset_secs,
            };
        }
        let slot = &mut self.slots[(count_at % SLOTS as u64) as usize];
        if slot.0 != count_at {
            *slot = (count_at, 0);
        }
        slot.1 += granted;
        let remaining = limit - used - granted;
        let reset_secs = if remaining > 0 {
            0
        } else {
            self.secs_until_free(now_secs, limit)
        };
        Decision {
            granted,
            limit,
            remaining,
            reset_secs,
        }
    }

    /// Admissions counted in the span ending at `now_secs`, including seconds counted
    /// ahead of it (leases, or a clock that stepped back).
    fn used(&self, now_secs: u64) -> u32 {
        self.live(now_secs)
            .map(|(_, n)| n)
            .fold(0u32, u32::saturating_add)
    }

    fn live(&self, now_secs: u64) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.slots
            .iter()
            .copied()
            .filter(move |&(s, n)| n > 0 && s + SPAN_SECS > now_secs)
    }

    /// The smallest wait after which fewer than `limit` admissions remain in the span.
    fn secs_until_free(&self, now_secs: u64, limit: u32) -> u64 {
        let mut live: Vec<(u64, u32)> = self.live(now_secs).collect();
        live.sort_unstable();
        let mut used = self.used(now_secs);
        for (second, count) in live {
            // Second `second` leaves the span at `second + 61`.
            used -= count;
            if used < limit {
                return second + SPAN_SECS - now_secs;
            }
        }
        1
    }

    /// The non-empty `(second, count)` pairs, for persistence.
    #[must_use]
    pub fn entries(&self) -> Vec<(u64, u32)> {
        self.slots.iter().copied().filter(|&(_, n)| n > 0).collect()
    }

    /// Rebuilds a window from [`RateWindow::entries`]; later duplicates of a slot win.
    #[must_use]
    pub fn from_entries(entries: &[(u64, u32)]) -> Self {
        let mut window = Self::default();
        for &(second, count) in entries {
            window.slots[(second % SLOTS as u64) as usize] = (second, count);
        }
        window
    }
}

/// Admissions already covered by the last persisted snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reservation {
    second: u64,
    left: u32,
}

impl RateWindow {
    /// Call after a grant of `units` counted in second `count_at`. Returns the snapshot
    /// to persist **before** answering, or `None` when the grant is already covered.
    pub fn reserve(
        &self,
        reservation: &mut Reservation,
        count_at: u64,
        limit: u32,
        units: u32,
    ) -> Option<Vec<(u64, u32)>> {
        if reservation.second == count_at && reservation.left >= units {
            reservation.left -= units;
            return None;
        }
        let ahead = (limit / 20).clamp(1, 1000).max(units);
        let mut snapshot = self.entries();
        match snapshot.iter_mut().find(|(s, _)| *s == count_at) {
            Some(slot) => slot.1 = slot.1.saturating_add(ahead),
            None => snapshot.push((count_at, ahead)),
        }
        *reservation = Reservation {
            second: count_at,
            left: ahead,
        };
        Some(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_exactly_the_limit_then_refuses() {
        let mut w = RateWindow::default();
        for i in 0..60 {
            let d = w.check(1000, 60);
            assert!(d.allowed(), "request {i}");
            assert_eq!(d.remaining, 59 - i);
        }
        let refused = w.check(1000, 60);
        assert!(!refused.allowed());
        assert_eq!(refused.reset_secs, 61, "all 60 were counted in second 1000");
        assert!(
            !w.check(1060, 60).allowed(),
            "second 1000 is still inside the span at 1060"
        );
        assert!(w.check(1061, 60).allowed(), "and leaves it at 1061");
    }

    #[test]
    fn no_rolling_minute_ever_exceeds_the_limit() {
        // Requests over 5 minutes at irregular, sometimes backwards-stepping seconds:
        // count admissions in every 60-second interval and check none exceeds the limit.
        let mut w = RateWindow::default();
        let mut admitted = Vec::new();
        let limit = 7;
        for step in 0u64..3000 {
            let second = 10_000 + (step * 37 % 11) + step / 10;
            if w.check(second, limit).allowed() {
                admitted.push(second);
            }
        }
        for start in 10_000..10_400 {
            let n = admitted
                .iter()
                .filter(|&&s| s >= start && s < start + 60)
                .count();
            assert!(
                n <= limit as usize,
                "{n} admissions in [{start}, {})",
                start + 60
            );
        }
        assert!(admitted.len() >= 30, "the limit still lets traffic through");
    }

    #[test]
    fn leases_are_counted_up_front_in_their_last_second() {
        let mut w = RateWindow::default();
        let d = w.grant(500, 10, 4, 501);
        assert_eq!((d.granted, d.remaining), (4, 6));
        let d = w.grant(500, 10, 8, 501);
        assert_eq!(
            (d.granted, d.remaining),
            (6, 0),
            "never more than what is left"
        );
        assert!(
            !w.check(561, 10).allowed(),
            "second 501 still counts at 561"
        );
        assert!(w.check(562, 10).allowed());
        assert_eq!(lease_size(60), 1);
        assert_eq!(lease_size(6_000), 10);
        assert_eq!(lease_size(100_000), 100);
    }

    #[test]
    fn retry_after_points_at_the_first_free_second() {
        let mut w = RateWindow::default();
        assert!(w.check(100, 2).allowed());
        assert!(w.check(130, 2).allowed());
        let d = w.check(140, 2);
        assert!(!d.allowed());
        assert_eq!(d.reset_secs, 100 + 61 - 140);
        assert!(w.check(140 + d.reset_secs, 2).allowed());
    }

    #[test]
    fn persisted_snapshots_never_undercount_and_are_rare() {
        let (mut w, mut r) = (RateWindow::default(), Reservation::default());
        let mut persisted = RateWindow::default();
        let mut writes = 0;
        for i in 0..1000u64 {
            let now = 5_000 + i / 37;
            let units = if i % 3 == 0 { 5 } else { 1 };
            let d = w.grant(now, 600, units, now + 1);
            if d.allowed() {
                if let Some(snapshot) = w.reserve(&mut r, now + 1, 600, d.granted) {
                    persisted = RateWindow::from_entries(&snapshot);
                    writes += 1;
                }
                // A restart right now would load `persisted`: it must count at least
                // every admission granted so far, in every span.
                for end in now..now + 62 {
                    assert!(persisted.used(end) >= w.used(end), "undercount at {end}");
                }
            }
        }
        assert!(writes < 100, "{writes} writes for 1000 grants");
    }

    #[test]
    fn entries_round_trip() {
        let mut w = RateWindow::default();
        w.check(5, 10);
        w.check(5, 10);
        w.check(9, 10);
        assert_eq!(RateWindow::from_entries(&w.entries()), w);
    }
}
