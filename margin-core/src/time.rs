//! Time without a clock: millisecond timestamps, proleptic-Gregorian civil dates, ISO-8601.
//!
//! The valuation time is always an input. Year fractions use Deribit's convention,
//! `T = seconds / (365 × 86 400)`.

use crate::error::Error;
use core::fmt;

/// Milliseconds per 365-day year, the denominator of every time to expiry.
pub const MS_PER_YEAR: f64 = 365.0 * 86_400_000.0;
const MS_PER_DAY: i64 = 86_400_000;

/// A UTC instant in milliseconds since the Unix epoch (Deribit's unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Earliest instant the engine accepts: 0000-01-01T00:00:00Z.
    pub const MIN_SUPPORTED: Timestamp = Timestamp(-62_167_219_200_000);
    /// Latest instant the engine accepts: 9999-12-31T23:59:59.999Z. Between the two bounds
    /// every difference of timestamps fits an `i64`, so no time to expiry can wrap.
    pub const MAX_SUPPORTED: Timestamp = Timestamp(253_402_300_799_999);

    /// `self` if it lies within [`Timestamp::MIN_SUPPORTED`, `Timestamp::MAX_SUPPORTED`]
    /// (years 0000 to 9999, what ISO-8601 can write), else [`Error::BadTime`]. Timestamps
    /// given as raw milliseconds (the C ABI) pass through this check.
    pub fn checked(self) -> Result<Timestamp, Error> {
        if (Self::MIN_SUPPORTED..=Self::MAX_SUPPORTED).contains(&self) {
            Ok(self)
        } else {
            Err(Error::BadTime)
        }
    }

    /// The instant at `hour`:00 UTC on the civil date `year-month-day`, or `None` if the date does not exist.
    pub fn from_civil(year: i64, month: u32, day: u32, hour: u32) -> Option<Timestamp> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        Some(Timestamp(days * MS_PER_DAY + hour as i64 * 3_600_000))
    }

    /// Civil date `(year, month, day)` of this instant in UTC.
    pub fn civil_date(self) -> (i64, u32, u32) {
        civil_from_days(self.0.div_euclid(MS_PER_DAY))
    }

    /// Years from `self` to `later` (negative if `later` is earlier), on a 365-day year.
    /// The difference is taken in `i128`, so even timestamps outside the supported range
    /// never wrap (for supported ones the result is the same bits as an `i64` difference).
    pub fn years_until(self, later: Timestamp) -> f64 {
        (i128::from(later.0) - i128::from(self.0)) as f64 / MS_PER_YEAR
    }

    /// Parses ISO-8601 UTC: `2026-08-22T15:33:51Z`, `2026-08-22T15:33:51.683630+00:00`, or a
    /// bare date `2026-08-22` (midnight). Fractions of a millisecond are truncated; offsets
    /// other than UTC are applied.
    pub fn parse_iso8601(s: &str) -> Result<Timestamp, Error> {
        let b = s.as_bytes();
        let num = |r: core::ops::Range<usize>| -> Result<i64, Error> {
            let part = b.get(r).ok_or(Error::BadTime)?;
            let mut v = 0i64;
            for &c in part {
                if !c.is_ascii_digit() {
                    return Err(Error::BadTime);
                }
                v = v * 10 + (c - b'0') as i64;
            }
            Ok(v)
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(Error::BadTime);
        }
        let (year, month, day) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
        let date = Timestamp::from_civil(year, month, day, 0).ok_or(Error::BadTime)?;
        if b.len() == 10 {
            return Ok(date);
        }
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
            return Err(Error::BadTime);
        }
        let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if h > 23 || m > 59 || sec > 60 {
            return Err(Error::BadTime);
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 3 {
                    millis = millis * 10 + (b[i] - b'0') as i64;
                }
                i += 1;
            }
            if i == start {
                return Err(Error::BadTime);
            }
            for _ in (i - start)..3 {
                millis *= 10;
            }
        }
        let offset_ms = match &b[i..] {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return Err(Error::BadTime);
                }
                let o = (oh * 60 + om) * 60_000;
                if *sign == b'+' { o } else { -o }
            }
            _ => return Err(Error::BadTime),
        };
        Ok(Timestamp(
            date.0 + ((h * 60 + m) * 60 + sec) * 1000 + millis - offset_ms,
        ))
    }
}

impl fmt::Display for Timestamp {
    /// ISO-8601 UTC, with milliseconds only when they are not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = self.civil_date();
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let (h, mi, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if milli != 0 {
            write!(f, ".{milli:03}")?;
        }
        f.write_str("Z")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in `month` of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic-Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(Timestamp::from_civil(1970, 1, 1, 0), Some(Timestamp(0)));
        // 2026-03-27T08:00:00Z = 1774598400000 ms (date -u -d 2026-03-27T08:00:00Z +%s).
        assert_eq!(
            Timestamp::from_civil(2026, 3, 27, 8),
            Some(Timestamp(1_774_598_400_000))
        );
        assert_eq!(Timestamp::from_civil(2026, 2, 29, 0), None);
        assert!(Timestamp::from_civil(2028, 2, 29, 0).is_some());
    }

    /// Issue 13: the supported range is exactly years 0000..=9999, and a time to expiry
    /// between extreme timestamps does not wrap to the wrong sign.
    #[test]
    fn supported_range_and_no_wrapping() {
        assert_eq!(
            Timestamp::from_civil(0, 1, 1, 0),
            Some(Timestamp::MIN_SUPPORTED)
        );
        assert_eq!(
            Timestamp::from_civil(10_000, 1, 1, 0).map(|t| Timestamp(t.0 - 1)),
            Some(Timestamp::MAX_SUPPORTED)
        );
        assert_eq!(
            Timestamp::MAX_SUPPORTED.to_string(),
            "9999-12-31T23:59:59.999Z"
        );
        for t in [
            Timestamp::MIN_SUPPORTED,
            Timestamp(0),
            Timestamp::MAX_SUPPORTED,
        ] {
            assert_eq!(t.checked(), Ok(t));
        }
        for t in [
            Timestamp(i64::MIN),
            Timestamp(Timestamp::MIN_SUPPORTED.0 - 1),
            Timestamp(Timestamp::MAX_SUPPORTED.0 + 1),
            Timestamp(i64::MAX),
        ] {
            assert_eq!(t.checked(), Err(Error::BadTime));
        }
        assert!(Timestamp(i64::MIN).years_until(Timestamp(i64::MAX)) > 0.0);
        assert!(Timestamp(i64::MAX).years_until(Timestamp(i64::MIN)) < 0.0);
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        for day in (-800_000i64..800_000).step_by(97) {
            let t = Timestamp(day * MS_PER_DAY);
            let (y, m, d) = t.civil_date();
            assert_eq!(Timestamp::from_civil(y, m, d, 0), Some(t));
        }
    }

    #[test]
    fn iso8601_forms() {
        let t = Timestamp::parse_iso8601("2026-08-22T15:33:51.683630+00:00").unwrap();
        assert_eq!(t, Timestamp(1_787_412_831_683));
        assert_eq!(
            Timestamp::parse_iso8601("2026-08-22T15:33:51.683Z").unwrap(),
            t
        );
        assert_eq!(
            Timestamp::parse_iso8601("2026-08-22T17:33:51.683+02:00").unwrap(),
            t
        );
        assert_eq!(t.to_string(), "2026-08-22T15:33:51.683Z");
        assert_eq!(
            Timestamp::parse_iso8601("2026-08-22").unwrap().to_string(),
            "2026-08-22T00:00:00Z"
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-02-30T00:00:00Z",
            "2026-08-22T25:00:00Z",
            "2026-08-22T15:33:51",
            "2026-08-22T15:33:51.Z",
            "x026-08-22",
        ] {
            assert_eq!(Timestamp::parse_iso8601(bad), Err(Error::BadTime), "{bad}");
        }
    }
}
