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

/// Why an RFC 3339 timestamp was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampError;

impl core::fmt::Display for TimestampError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("timestamp must be RFC 3339, e.g. 2026-01-01T00:00:00Z")
    }
}

impl core::error::Error for TimestampError {}

impl crate::error::ErrorCode for TimestampError {
    fn code(&self) -> &'static str {
        "invalid_timestamp"
    }
}

impl UnixTime {
    /// Parses an RFC 3339 date-time (`2026-01-01T00:00:00Z`, with optional fraction,
    /// `Z` or a `±hh:mm` offset) from 1970 to 9999. Fractions of a second are dropped.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        let b = text.as_bytes();
        if b.len() < 20
            || b.len() > 40
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(TimestampError);
        }
        let num = |from: usize, to: usize| -> Result<i64, TimestampError> {
            let digits = &b[from..to];
            if digits.iter().all(u8::is_ascii_digit) {
                Ok(digits
                    .iter()
                    .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
            } else {
                Err(TimestampError)
            }
        };
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        let mut rest = &b[19..];
        if rest.first() == Some(&b'.') {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(TimestampError);
            }
            rest = &rest[1 + digits..];
        }
        let offset_secs = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let two = |a: u8, b: u8| -> Result<i64, TimestampError> {
                    if a.is_ascii_digit() && b.is_ascii_digit() {
                        Ok(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
                    } else {
                        Err(TimestampError)
                    }
                };
                let (oh, om) = (two(*h1, *h2)?, two(*m1, *m2)?);
                if oh > 23 || om > 59 {
                    return Err(TimestampError);
                }
                let magnitude = oh * 3600 + om * 60;
                if *sign == b'+' { magnitude } else { -magnitude }
            }
            _ => return Err(TimestampError),
        };
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = [
            31,
            if leap(year) { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        if !(1970..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day < 1
            || day > month_days[(month - 1) as usize]
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(TimestampError);
        }
        let secs =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
                - offset_secs;
        u64::try_from(secs).map(Self).map_err(|_| TimestampError)
    }

    /// Formats as RFC 3339 in UTC with second precision: `2026-01-01T00:00:00Z`.
    #[must_use]
    pub fn to_rfc3339(self) -> alloc::string::String {
        let days = (self.0 / 86_400) as i64;
        let rem = self.0 % 86_400;
        let (y, m, d) = civil_from_days(days);
        alloc::format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_refuses_nonsense() {
        assert_eq!(
            UnixTime::parse_rfc3339("1970-01-01T00:00:00Z"),
            Ok(UnixTime(0))
        );
        assert_eq!(
            UnixTime::parse_rfc3339("2025-01-01T01:00:00Z"),
            Ok(UnixTime(1_735_693_200))
        );
        assert_eq!(
            UnixTime::parse_rfc3339("2025-01-01T02:00:00.123+01:00"),
            Ok(UnixTime(1_735_693_200))
        );
        assert_eq!(UnixTime(1_735_693_200).to_rfc3339(), "2025-01-01T01:00:00Z");
        assert_eq!(UnixTime(951_782_400).to_rfc3339(), "2000-02-29T00:00:00Z");
        for bad in [
            "",
            "2025-02-30T00:00:00Z",
            "2025-01-01 00:00:00Z",
            "2025-01-01T00:00:00",
            "1969-12-31T23:59:59Z",
            "2025-13-01T00:00:00Z",
            "２025-01-01T00:00:00Z",
            "2025-01-01T00:00:00.Z",
        ] {
            assert_eq!(UnixTime::parse_rfc3339(bad), Err(TimestampError), "{bad}");
        }
    }
}
