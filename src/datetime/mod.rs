//! Dates: the DateTime value type, CDate parsing and rendering.
//!
//! PLACEHOLDER OWNED BY THE DATE ENGINE WORK: this file is replaced by the full date module
//! (format engine, VB arithmetic). Only the contract below is relied on by the core.

use std::fmt;

use crate::error::{ErrorCode, FnError};

/// Ticks per second (100 ns ticks).
pub const TICKS_PER_SECOND: i64 = 10_000_000;
/// Ticks per day.
pub const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;

/// A UTC instant: 100 ns ticks since 0001-01-01T00:00:00Z, up to 9999-12-31T23:59:59.9999999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    ticks: i64,
}

impl DateTime {
    /// 0001-01-01T00:00:00Z.
    pub const MIN: DateTime = DateTime { ticks: 0 };
    /// 9999-12-31T23:59:59.9999999Z.
    pub const MAX: DateTime = DateTime { ticks: 3_155_378_975_999_999_999 };

    /// The instant `ticks` after 0001-01-01, if in range.
    pub fn from_ticks(ticks: i64) -> Option<DateTime> {
        (0..=Self::MAX.ticks).contains(&ticks).then_some(DateTime { ticks })
    }

    /// Ticks since 0001-01-01.
    pub fn ticks(self) -> i64 {
        self.ticks
    }

    /// The system clock's current instant.
    pub fn now_utc() -> DateTime {
        const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let ticks = UNIX_EPOCH_TICKS
            + d.as_secs() as i64 * TICKS_PER_SECOND
            + i64::from(d.subsec_nanos() / 100);
        DateTime::from_ticks(ticks).unwrap_or(DateTime::MAX)
    }

    fn civil(self) -> jiff::civil::DateTime {
        let days = self.ticks / TICKS_PER_DAY;
        let rem = self.ticks % TICKS_PER_DAY;
        let date = jiff::civil::date(1, 1, 1)
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(jiff::civil::date(9999, 12, 31));
        let secs = rem / TICKS_PER_SECOND;
        let time = jiff::civil::time((secs / 3600) as i8, (secs / 60 % 60) as i8, (secs % 60) as i8, 0);
        date.to_datetime(time)
    }
}

impl fmt::Display for DateTime {
    /// `M/d/yyyy h:mm:ss tt` (spec §3.3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        let h = c.hour();
        let h12 = if h % 12 == 0 { 12 } else { h % 12 };
        write!(
            f,
            "{}/{}/{:04} {}:{:02}:{:02} {}",
            c.month(),
            c.day(),
            c.year(),
            h12,
            c.minute(),
            c.second(),
            if h < 12 { "AM" } else { "PM" }
        )
    }
}

/// Parses date text as CDate does (F15).
pub fn parse_cdate(s: &str) -> Result<DateTime, FnError> {
    Err(FnError::new(ErrorCode::InvalidDate, format!("`{s}` is not a date (date engine pending)")))
}
