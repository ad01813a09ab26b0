//! Rate-limit arithmetic: an exact sliding window counted per second.
//!
//! The contract (SPEC §6) is "at most `limit` requests in **any** rolling 60-second
//! window". The window keeps one counter per wall-clock second for the last 61 seconds
//! and admits a request at second `s` only if the counters of seconds `s-60 ..= s` sum
//! to less than `limit`. Any real 60-second interval, wherever it starts within a second,
//! lies inside some such span of 61 whole seconds, so no interval ever sees more than
//! `limit` admissions: no burst leaks at a window edge, as it would with fixed windows
//! or a token bucket. The price is that a slot frees up to one second later than a
//! millisecond-exact log would free it: the limit errs on the safe side.
//!
//! The state is 61 `(second, count)` pairs (under 1 KiB) whatever the limit.
//! [`RateWindow::check`] is a pure function of the state, the time and the limit; the
//! caller (a Durable Object per key) serialises the calls, which is what makes it exact
//! under concurrency.
//!
//! ## Persistence by write-ahead reservation
//!
//! Writing the window to storage on every admission would make each request pay for a
//! storage commit. Instead [`RateWindow::reserve`] persists a snapshot that counts a
//! few admissions *ahead* (a reservation, in the current second only) and is not asked
//! again until those are used or the second changes. The persisted counts are therefore
//! never below the real ones: a restarted object may refuse up to one reservation too
//! early for a minute, but can never admit more than the limit. Writes drop to about one
//! per reservation (a twentieth of the limit, at most 1,000) and at most one per second.

use alloc::vec::Vec;

/// Seconds covered by one decision: the current second and the 60 before it.
pub const SPAN_SECS: u64 = 61;
const SLOTS: usize = SPAN_SECS as usize;

/// The per-key window state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateWindow {
    /// `slots[s % 61] = (s, admissions during second s)`.
    slots: [(u64, u32); SLOTS],
}

impl Default for RateWindow {
    fn default() -> Self {
        Self {
            slots: [(0, 0); SLOTS],
        }
    }
}

/// The outcome of one [`RateWindow::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is admitted (and was counted).
    pub allowed: bool,
    /// The limit in force (`RateLimit-Limit`).
    pub limit: u32,
    /// Requests still admissible right now (`RateLimit-Remaining`).
    pub remaining: u32,
    /// Seconds until at least one more request becomes admissible: `Retry-After` when
    /// refused, `RateLimit-Reset` when admitted (0 if capacity remains now).
    pub reset_secs: u64,
}

impl RateWindow {
    /// Decides one request at `now_secs` under `limit` requests per rolling minute and,
    /// if admitted, counts it.
    pub fn check(&mut self, now_secs: u64, limit: u32) -> Decision {
        // A clock that steps backwards must not reopen seconds already counted: time
        // never runs behind the newest second this window has seen.
        let latest = self.slots.iter().map(|&(s, _)| s).max().unwrap_or(0);
        let now_secs = now_secs.max(latest);
        let used = self.used(now_secs);
        if used < limit {
            let slot = &mut self.slots[(now_secs % SPAN_SECS) as usize];
            if slot.0 != now_secs {
                *slot = (now_secs, 0);
            }
            slot.1 += 1;
            let remaining = limit - used - 1;
            let reset_secs = if remaining > 0 {
                0
            } else {
                self.secs_until_free(now_secs, limit)
            };
            Decision {
                allowed: true,
                limit,
                remaining,
                reset_secs,
            }
        } else {
            let reset_secs = self.secs_until_free(now_secs, limit);
            Decision {
                allowed: false,
                limit,
                remaining: 0,
                reset_secs,
            }
        }
    }

    /// Admissions counted in the span that ends at `now_secs`.
    fn used(&self, now_secs: u64) -> u32 {
        self.live(now_secs)
            .map(|(_, n)| n)
            .fold(0u32, u32::saturating_add)
    }

    fn live(&self, now_secs: u64) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.slots
            .iter()
            .copied()
            .filter(move |&(s, n)| n > 0 && s <= now_secs && now_secs - s < SPAN_SECS)
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
            window.slots[(second % SPAN_SECS) as usize] = (second, count);
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
    /// Call after an admission at `now_secs`. Returns the snapshot to persist **before**
    /// answering, or `None` when the admission is already covered by the last one.
    pub fn reserve(
        &self,
        reservation: &mut Reservation,
        now_secs: u64,
        limit: u32,
    ) -> Option<Vec<(u64, u32)>> {
        if reservation.second == now_secs && reservation.left > 0 {
            reservation.left -= 1;
            return None;
        }
        let ahead = (limit / 20).clamp(1, 1000);
        let mut snapshot = self.entries();
        match snapshot.iter_mut().find(|(s, _)| *s == now_secs) {
            Some(slot) => slot.1 = slot.1.saturating_add(ahead),
            None => snapshot.push((now_secs, ahead)),
        }
        *reservation = Reservation {
            second: now_secs,
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
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 59 - i);
        }
        let refused = w.check(1000, 60);
        assert!(!refused.allowed);
        assert_eq!(refused.reset_secs, 61, "all 60 were counted in second 1000");
        assert!(
            !w.check(1060, 60).allowed,
            "second 1000 is still inside the span at 1060"
        );
        assert!(w.check(1061, 60).allowed, "and leaves it at 1061");
    }

    #[test]
    fn no_rolling_minute_ever_exceeds_the_limit() {
        // Requests spread over 5 minutes at irregular seconds: count admissions in every
        // 60-second interval [t, t+60) and check none exceeds the limit.
        let mut w = RateWindow::default();
        let mut admitted = Vec::new();
        let limit = 7;
        for step in 0u64..3000 {
            let second = 10_000 + (step * 37 % 11) + step / 10;
            if w.check(second, limit).allowed {
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
        // The clock above steps backwards by up to 10 s; the window treats that as "now".
    }

    #[test]
    fn retry_after_points_at_the_first_free_second() {
        let mut w = RateWindow::default();
        assert!(w.check(100, 2).allowed);
        assert!(w.check(130, 2).allowed);
        let d = w.check(140, 2);
        assert!(!d.allowed);
        assert_eq!(d.reset_secs, 100 + 61 - 140);
        assert!(w.check(140 + d.reset_secs, 2).allowed);
    }

    #[test]
    fn persisted_snapshots_never_undercount_and_are_rare() {
        let (mut w, mut r) = (RateWindow::default(), Reservation::default());
        let mut persisted = RateWindow::default();
        let mut writes = 0;
        for i in 0..1000u64 {
            let now = 5_000 + i / 37;
            if w.check(now, 600).allowed {
                if let Some(snapshot) = w.reserve(&mut r, now, 600) {
                    persisted = RateWindow::from_entries(&snapshot);
                    writes += 1;
                }
                // A restart right now would load `persisted`: it must count at least
                // every admission made so far, in every span.
                for end in now..now + 61 {
                    assert!(persisted.used(end) >= w.used(end), "undercount at {end}");
                }
            }
        }
        assert!(writes < 100, "{writes} writes for 1000 requests");
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
