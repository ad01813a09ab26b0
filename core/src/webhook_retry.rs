//! When a failed webhook delivery is tried again (issue 10).
//!
//! A schedule is a list of delays in seconds, one per retry: the first attempt is made
//! at once, the retry after the n-th failure waits the n-th delay, and a delivery that
//! fails after the last one is given up. Each delay is spread by ±10% of jitter so that
//! the retries of many deliveries that failed together (a receiver's outage) do not
//! come back together. The default, [`DEFAULT_SCHEDULE`], retries for about 27.6 hours:
//! even with all its jitter drawn low it spans more than 24.

use alloc::vec::Vec;
use core::fmt;

use crate::error::ErrorCode;

/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Svix's and Stripe's shape).
pub const DEFAULT_SCHEDULE: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// The most retries a schedule may list.
pub const MAX_RETRIES: usize = 20;
/// The longest single delay: a week.
pub const MAX_DELAY_SECS: u64 = 7 * 86_400;

/// A schedule setting that is not 1–20 comma-separated delays of 1 s to a week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduleError;

impl core::error::Error for ScheduleError {}

impl ErrorCode for ScheduleError {
    fn code(&self) -> &'static str {
        "invalid_retry_schedule"
    }
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a retry schedule is 1-{MAX_RETRIES} delays in seconds (1-{MAX_DELAY_SECS}), separated by commas"
        )
    }
}

/// The retry delays of a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<u64>);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(DEFAULT_SCHEDULE.to_vec())
    }
}

impl RetrySchedule {
    /// Parses `"5,300,1800"` (spaces around the numbers are allowed).
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let delays = text
            .split(',')
            .map(|d| d.trim().parse::<u64>().map_err(|_| ScheduleError))
            .collect::<Result<Vec<u64>, _>>()?;
        let in_range = delays.iter().all(|d| (1..=MAX_DELAY_SECS).contains(d));
        if delays.is_empty() || delays.len() > MAX_RETRIES || !in_range {
            return Err(ScheduleError);
        }
        Ok(Self(delays))
    }

    /// The delay before the retry that follows `failures` failed attempts (1 after the
    /// first failure), or `None` when the delivery is to be given up. `unit` is a
    /// uniform random number in `[0, 1)` that places the delay within its ±10% jitter;
    /// the result is never below one second.
    #[must_use]
    pub fn delay_after(&self, failures: usize, unit: f64) -> Option<u64> {
        let base = *self.0.get(failures.checked_sub(1)?)?;
        // In thousandths, so that no float rounding (which `no_std` lacks) is needed.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let permille = 900 + (200.0 * unit.clamp(0.0, 0.999_999)) as u64;
        let jittered = (base.saturating_mul(permille) + 500) / 1000;
        Some(jittered.max(1))
    }

    /// The shortest time from the first failure to giving up, with every delay's jitter
    /// drawn low.
    #[must_use]
    pub fn min_span_secs(&self) -> u64 {
        (1..=self.0.len())
            .filter_map(|n| self.delay_after(n, 0.0))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_retries_for_more_than_a_day_even_with_low_jitter() {
        let schedule = RetrySchedule::default();
        assert!(
            schedule.min_span_secs() >= 86_400,
            "{}",
            schedule.min_span_secs()
        );
        assert_eq!(schedule.delay_after(1, 0.5), Some(5));
        assert_eq!(schedule.delay_after(7, 0.5), Some(36_000));
        assert_eq!(schedule.delay_after(8, 0.5), None);
        assert_eq!(schedule.delay_after(0, 0.5), None);
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_above_one_second() {
        let schedule = RetrySchedule::parse("100, 1").expect("a schedule");
        assert_eq!(schedule.delay_after(1, 0.0), Some(90));
        assert_eq!(schedule.delay_after(1, 0.999_999), Some(110));
        assert_eq!(schedule.delay_after(1, 7.0), Some(110));
        assert_eq!(schedule.delay_after(2, 0.0), Some(1));
    }

    #[test]
    fn parse_refuses_what_is_not_a_schedule() {
        for bad in ["", ",", "5,,6", "0", "-1", "1.5", "x", "604801"] {
            assert_eq!(RetrySchedule::parse(bad), Err(ScheduleError), "{bad:?}");
        }
        let many = alloc::vec!["1"; MAX_RETRIES + 1].join(",");
        assert!(RetrySchedule::parse(&many).is_err());
        assert_eq!(
            RetrySchedule::parse("1,2,3").map(|s| s.0),
            Ok(alloc::vec![1, 2, 3])
        );
    }
}
