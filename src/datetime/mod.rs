//! Dates: the DateTime value type, CDate parsing, Entra rendering, the .NET custom format
//! engine (format and ParseExact), DateTimeStyles, VB DateAdd/DateDiff and FILETIME.
//!
//! The calendar itself (days in a month, civil date <-> day number, weekday) comes from jiff;
//! everything .NET- or VB-specific is written here because no crate reproduces it.
//!
//! Invariants: every public function is total (no panics on any input), and every
//! `DateTime` lies in 0001-01-01T00:00:00 ..= 9999-12-31T23:59:59.9999999 UTC.

use std::fmt;

use crate::error::{ErrorCode, FnError};
use crate::value::truncate_for_message;

mod cdate;
pub mod filetime;
pub mod format;
pub mod styles;
pub mod vb;

pub use cdate::parse_cdate;

/// Ticks per second (100 ns ticks).
pub const TICKS_PER_SECOND: i64 = 10_000_000;
/// Ticks per minute.
pub const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
/// Ticks per hour.
pub const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
/// Ticks per day.
pub const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;

/// A UTC instant: 100 ns ticks since 0001-01-01T00:00:00Z, up to 9999-12-31T23:59:59.9999999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    ticks: i64,
}

/// The broken-down civil fields of a [`DateTime`] (UTC, proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// 1..=9999.
    pub year: i32,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
    /// Ticks within the second, 0..=9_999_999.
    pub fraction: u32,
    /// Day of the week, Sunday = 0 … Saturday = 6 (.NET `DayOfWeek`).
    pub weekday: u8,
}

impl DateTime {
    /// 0001-01-01T00:00:00Z.
    pub const MIN: DateTime = DateTime { ticks: 0 };
    /// 9999-12-31T23:59:59.9999999Z.
    pub const MAX: DateTime = DateTime {
        ticks: 3_155_378_975_999_999_999,
    };

    /// The instant `ticks` after 0001-01-01, if in range.
    pub fn from_ticks(ticks: i64) -> Option<DateTime> {
        (0..=Self::MAX.ticks)
            .contains(&ticks)
            .then_some(DateTime { ticks })
    }

    /// Ticks since 0001-01-01.
    pub const fn ticks(self) -> i64 {
        self.ticks
    }

    /// The system clock's current instant.
    pub fn now_utc() -> DateTime {
        const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / TICKS_PER_SECOND);
        let ticks = secs
            .saturating_mul(TICKS_PER_SECOND)
            .saturating_add(UNIX_EPOCH_TICKS)
            .saturating_add(i64::from(d.subsec_nanos() / 100));
        DateTime::from_ticks(ticks).unwrap_or(DateTime::MAX)
    }

    /// The instant at the given civil date and time of day, if the date is a valid Gregorian
    /// date in 0001..=9999 and the time fields are in range.
    pub fn from_civil(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        fraction: u32,
    ) -> Option<DateTime> {
        if hour > 23 || minute > 59 || second > 59 || fraction >= TICKS_PER_SECOND as u32 {
            return None;
        }
        let days = days_from_civil(year, month, day)?;
        let ticks = days * TICKS_PER_DAY
            + i64::from(hour) * TICKS_PER_HOUR
            + i64::from(minute) * TICKS_PER_MINUTE
            + i64::from(second) * TICKS_PER_SECOND
            + i64::from(fraction);
        DateTime::from_ticks(ticks)
    }

    /// The civil fields of the instant.
    pub fn civil(self) -> Civil {
        // Ticks are in 0..=MAX by the type's invariant, so unsigned arithmetic is exact (and
        // division by a constant is a multiply and a shift).
        let ticks = self.ticks.max(0) as u64;
        let days = ticks / TICKS_PER_DAY as u64;
        let rem = ticks % TICKS_PER_DAY as u64;
        let (year, month, day) = ymd_from_days(days as i64);
        let secs = (rem / TICKS_PER_SECOND as u64) as u32;
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            fraction: (rem % TICKS_PER_SECOND as u64) as u32,
            weekday: ((days + 1) % 7) as u8,
        }
    }

    /// Day of the week, Sunday = 0 … Saturday = 6 (.NET `DayOfWeek`).
    pub fn weekday(self) -> u8 {
        weekday_of_days(self.ticks / TICKS_PER_DAY)
    }

    /// Ticks since midnight.
    pub fn time_of_day(self) -> i64 {
        self.ticks % TICKS_PER_DAY
    }
}

/// The first day of the DateTime range, day number 0.
const EPOCH: jiff::civil::Date = jiff::civil::date(1, 1, 1);

// The calendar arithmetic below is Howard Hinnant's `days_from_civil` / `civil_from_days`
// (proleptic Gregorian, years counted from March so that the leap day ends the year), shifted
// so that day 0 is 0001-01-01. It is a handful of integer operations, where going through
// jiff's `Date::until` / `checked_add` with a `Span` cost several hundred instructions per
// call and dominated FormatDateTime; jiff stays the oracle in the tests.

/// Days from 0000-03-01 to 0001-01-01.
const MARCH_EPOCH_OFFSET: i64 = 306;
/// Days in 400 Gregorian years.
const DAYS_PER_ERA: i64 = 146_097;
/// The last day number of the range, 9999-12-31.
const MAX_DAY: i64 = 3_652_058;

/// Days since 0001-01-01 of a valid Gregorian date in 0001..=9999.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i64> {
    if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // Years start in March; January and February belong to the previous year.
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * DAYS_PER_ERA + doe - MARCH_EPOCH_OFFSET)
}

/// Year, month and day of day number `days` (0 = 0001-01-01), clamped into the range.
pub(crate) fn ymd_from_days(days: i64) -> (i32, u8, u8) {
    // Everything is non-negative and below 2^32 here; unsigned 32-bit division by a constant
    // is a multiply and a shift.
    let z = days.clamp(0, MAX_DAY) as u32 + MARCH_EPOCH_OFFSET as u32;
    let era = z / DAYS_PER_ERA as u32;
    let doe = z - era * DAYS_PER_ERA as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u32::from(month <= 2);
    (year as i32, month as u8, day as u8)
}

/// Weekday (Sunday = 0) of day number `days`; 0001-01-01 was a Monday.
fn weekday_of_days(days: i64) -> u8 {
    ((days + 1).rem_euclid(7)) as u8
}

/// The civil date `days` days after 0001-01-01, if within 0001..=9999.
pub fn civil_from_days(days: i64) -> Option<jiff::civil::Date> {
    if !(0..=MAX_DAY).contains(&days) {
        return None;
    }
    let span = jiff::Span::new().try_days(days).ok()?;
    EPOCH.checked_add(span).ok()
}

/// True for a Gregorian leap year.
fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` of `year` (Gregorian); 0 for an invalid month or year.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    if !(1..=9999).contains(&year) {
        return 0;
    }
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for DateTime {
    /// `M/d/yyyy h:mm:ss tt` (spec §3.3): invariant culture, fraction dropped, year padded to
    /// four digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        let h12 = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
        write!(
            f,
            "{}/{}/{:04} {}:{:02}:{:02} {}",
            c.month,
            c.day,
            c.year,
            h12,
            c.minute,
            c.second,
            if c.hour < 12 { "AM" } else { "PM" }
        )
    }
}

/// Parses an RFC 3339 / ISO 8601 instant with an offset (`2021-08-25T17:41:18Z`), as the
/// CLI's `--now` takes it. `None` when malformed or outside the DateTime range.
pub fn parse_rfc3339(s: &str) -> Option<DateTime> {
    let ts: jiff::Timestamp = s.trim().parse().ok()?;
    // Seconds relative to 0001-01-01 are within i64 for any jiff timestamp.
    const UNIX_EPOCH_SECONDS: i64 = 62_135_596_800;
    let secs = ts.as_second().checked_add(UNIX_EPOCH_SECONDS)?;
    let ticks = secs
        .checked_mul(TICKS_PER_SECOND)?
        .checked_add(i64::from(ts.subsec_nanosecond()) / 100)?;
    DateTime::from_ticks(ticks)
}

/// The `invalid-date` error for text that is not a date.
#[cold]
pub(crate) fn invalid_date(text: &str) -> FnError {
    FnError::new(
        ErrorCode::InvalidDate,
        format!("`{}` is not a date", truncate_for_message(text)),
    )
}

/// The `date-out-of-range` error.
#[cold]
pub(crate) fn out_of_range(what: impl fmt::Display) -> FnError {
    FnError::new(
        ErrorCode::DateOutOfRange,
        format!("{what} is outside the date range 0001-01-01 to 9999-12-31"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, f: u32) -> DateTime {
        DateTime::from_civil(y, mo, d, h, mi, s, f).unwrap_or(DateTime::MIN)
    }

    #[test]
    fn rendering() {
        let cases: &[(DateTime, &str)] = &[
            (
                dt(2021, 8, 25, 17, 41, 18, 9_999_999),
                "8/25/2021 5:41:18 PM",
            ),
            (dt(1601, 1, 1, 0, 0, 0, 0), "1/1/1601 12:00:00 AM"),
            (dt(2021, 1, 1, 12, 0, 0, 0), "1/1/2021 12:00:00 PM"),
            (dt(2021, 1, 1, 11, 59, 59, 0), "1/1/2021 11:59:59 AM"),
            (DateTime::MIN, "1/1/0001 12:00:00 AM"),
            (DateTime::MAX, "12/31/9999 11:59:59 PM"),
            (dt(999, 12, 31, 23, 0, 5, 0), "12/31/0999 11:00:05 PM"),
        ];
        for (d, want) in cases {
            assert_eq!(d.to_string(), *want);
        }
    }

    #[test]
    fn civil_round_trip_at_edges() {
        assert_eq!(days_from_civil(1, 1, 1), Some(0));
        assert_eq!(days_from_civil(9999, 12, 31), Some(3_652_058));
        assert_eq!(days_from_civil(2021, 2, 29), None);
        assert_eq!(days_from_civil(0, 1, 1), None);
        assert_eq!(days_from_civil(10000, 1, 1), None);
        assert_eq!(DateTime::MAX.civil().fraction, 9_999_999);
        assert_eq!(DateTime::MIN.civil().weekday, 1, "0001-01-01 is a Monday");
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            parse_rfc3339("2021-08-25T17:41:18Z"),
            Some(dt(2021, 8, 25, 17, 41, 18, 0))
        );
        assert_eq!(
            parse_rfc3339("2021-08-25T17:41:18.1234567-01:00"),
            Some(dt(2021, 8, 25, 18, 41, 18, 1_234_567))
        );
        assert_eq!(parse_rfc3339("nope"), None);
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00+01:00"), None);
    }

    /// Every day of the range agrees with jiff's calendar: date, weekday and days in month.
    #[test]
    fn calendar_matches_jiff_on_every_day() {
        let mut date = EPOCH;
        for days in 0..=MAX_DAY {
            let (y, m, d) = ymd_from_days(days);
            assert_eq!(
                (y, m, d),
                (
                    i32::from(date.year()),
                    date.month().unsigned_abs(),
                    date.day().unsigned_abs()
                ),
                "day {days}"
            );
            assert_eq!(
                weekday_of_days(days),
                date.weekday().to_sunday_zero_offset().unsigned_abs()
            );
            assert_eq!(days_from_civil(y, m.into(), d.into()), Some(days));
            if d == 1 {
                assert_eq!(
                    days_in_month(y, m.into()),
                    u32::from(date.days_in_month().unsigned_abs())
                );
            }
            date = date.tomorrow().unwrap_or(date);
        }
        assert_eq!(
            civil_from_days(MAX_DAY),
            Some(jiff::civil::date(9999, 12, 31))
        );
        assert_eq!(civil_from_days(MAX_DAY + 1), None);
        for (y, m, d) in [
            (2021, 13, 1),
            (2021, 0, 1),
            (2021, 4, 31),
            (2021, 1, 0),
            (2021, 1, 32),
        ] {
            assert_eq!(days_from_civil(y, m, d), None, "{y}-{m}-{d}");
        }
        assert_eq!(days_in_month(0, 1), 0);
        assert_eq!(days_in_month(2021, 13), 0);
    }

    proptest::proptest! {
        #[test]
        fn civil_round_trips(ticks in 0..=DateTime::MAX.ticks()) {
            let d = DateTime::from_ticks(ticks).unwrap_or(DateTime::MIN);
            let c = d.civil();
            let back = DateTime::from_civil(c.year, c.month.into(), c.day.into(), c.hour.into(), c.minute.into(), c.second.into(), c.fraction);
            proptest::prop_assert_eq!(back, Some(d));
        }
    }
}
