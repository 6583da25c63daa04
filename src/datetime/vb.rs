//! VB `DateAndTime.DateAdd` and `DateAndTime.DateDiff` (F15) over UTC instants.
//!
//! VB goes through `double` for DateDiff; we use exact integer tick arithmetic, which agrees
//! for every realistic span and never loses precision near the ends of the range.

use super::{
    DateTime, TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_SECOND, days_from_civil,
    days_in_month,
};

/// A DateAdd/DateDiff interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    /// `yyyy`.
    Year,
    /// `q`.
    Quarter,
    /// `m`.
    Month,
    /// `y` (day of year; adds days).
    DayOfYear,
    /// `d`.
    Day,
    /// `w` (weekday; adds days, DateDiff counts 7-day spans).
    Weekday,
    /// `ww` (week; DateDiff counts Sunday-started calendar weeks).
    WeekOfYear,
    /// `h`.
    Hour,
    /// `n`.
    Minute,
    /// `s`.
    Second,
}

impl Interval {
    /// Parses an interval name, ignoring case (VB accepts no white space around it).
    pub fn parse(s: &str) -> Option<Interval> {
        Some(match s.to_ascii_lowercase().as_str() {
            "yyyy" => Interval::Year,
            "q" => Interval::Quarter,
            "m" => Interval::Month,
            "y" => Interval::DayOfYear,
            "d" => Interval::Day,
            "w" => Interval::Weekday,
            "ww" => Interval::WeekOfYear,
            "h" => Interval::Hour,
            "n" => Interval::Minute,
            "s" => Interval::Second,
            _ => return None,
        })
    }
}

/// The message of `invalid-interval`.
pub fn interval_message(s: &str) -> String {
    format!(
        "`{}` is not a date interval; use one of yyyy, q, m, y, d, w, ww, h, n, s",
        crate::value::truncate_for_message(s)
    )
}

/// DateAdd: `None` when the result leaves the DateTime range.
pub fn date_add(interval: Interval, n: i64, d: DateTime) -> Option<DateTime> {
    match interval {
        Interval::Year => add_months(d, n.checked_mul(12)?),
        Interval::Quarter => add_months(d, n.checked_mul(3)?),
        Interval::Month => add_months(d, n),
        Interval::DayOfYear | Interval::Day | Interval::Weekday => add_ticks(d, n, TICKS_PER_DAY),
        Interval::WeekOfYear => add_ticks(d, n, 7 * TICKS_PER_DAY),
        Interval::Hour => add_ticks(d, n, TICKS_PER_HOUR),
        Interval::Minute => add_ticks(d, n, TICKS_PER_MINUTE),
        Interval::Second => add_ticks(d, n, TICKS_PER_SECOND),
    }
}

fn add_ticks(d: DateTime, n: i64, unit: i64) -> Option<DateTime> {
    DateTime::from_ticks(d.ticks().checked_add(n.checked_mul(unit)?)?)
}

/// Moves the month by `n`, clamping the day to the target month's length and keeping the
/// time of day (.NET `AddMonths`; `AddYears` is the same with 12n for Feb 29).
fn add_months(d: DateTime, n: i64) -> Option<DateTime> {
    let c = d.civil();
    let index = i64::from(c.year) * 12 + i64::from(c.month) - 1 + n;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = (index.rem_euclid(12) + 1) as u32;
    let day = u32::from(c.day).min(days_in_month(year, month));
    let days = days_from_civil(year, month, day)?;
    DateTime::from_ticks(days * TICKS_PER_DAY + d.time_of_day())
}

/// DateDiff: positive when `d2` is later.
pub fn date_diff(interval: Interval, d1: DateTime, d2: DateTime) -> i64 {
    let delta = d2.ticks() - d1.ticks();
    let (c1, c2) = (d1.civil(), d2.civil());
    let (y1, y2) = (i64::from(c1.year), i64::from(c2.year));
    let (m1, m2) = (i64::from(c1.month), i64::from(c2.month));
    match interval {
        Interval::Year => y2 - y1,
        Interval::Quarter => (y2 - y1) * 4 + (m2 - 1) / 3 - (m1 - 1) / 3,
        Interval::Month => (y2 - y1) * 12 + m2 - m1,
        // Rust's `/` on integers truncates toward zero, which is VB's `Fix`.
        Interval::Day | Interval::DayOfYear => delta / TICKS_PER_DAY,
        Interval::Hour => delta / TICKS_PER_HOUR,
        Interval::Minute => delta / TICKS_PER_MINUTE,
        Interval::Second => delta / TICKS_PER_SECOND,
        Interval::Weekday => delta / TICKS_PER_DAY / 7,
        Interval::WeekOfYear => {
            // Each date moves back to the Saturday before its Sunday-started week, keeping its
            // time of day; intermediate values may precede 0001-01-01, so plain ticks are used.
            let back1 = d1.ticks() - (i64::from(c1.weekday) + 1) * TICKS_PER_DAY;
            let back2 = d2.ticks() - (i64::from(c2.weekday) + 1) * TICKS_PER_DAY;
            (back2 - back1) / TICKS_PER_DAY / 7
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::parse_cdate;

    fn d(s: &str) -> DateTime {
        parse_cdate(s).unwrap_or(DateTime::MIN)
    }

    #[test]
    fn interval_names() {
        for (s, want) in [
            ("yyyy", Some(Interval::Year)),
            ("YYYY", Some(Interval::Year)),
            ("q", Some(Interval::Quarter)),
            ("M", Some(Interval::Month)),
            ("y", Some(Interval::DayOfYear)),
            ("D", Some(Interval::Day)),
            ("w", Some(Interval::Weekday)),
            ("WW", Some(Interval::WeekOfYear)),
            ("h", Some(Interval::Hour)),
            ("n", Some(Interval::Minute)),
            ("s", Some(Interval::Second)),
            ("mi", None),
            ("yy", None),
            (" d", None),
            ("", None),
        ] {
            assert_eq!(Interval::parse(s), want, "{s:?}");
        }
    }

    #[test]
    fn date_add_cases() {
        let cases: &[(&str, i64, &str, &str)] = &[
            ("d", 7, "2012-03-16-07:00", "3/23/2012 7:00:00 AM"),
            ("d", -10, "2012-03-16-07:00", "3/6/2012 7:00:00 AM"),
            ("ww", 2, "2012-03-16-07:00", "3/30/2012 7:00:00 AM"),
            ("m", 10, "2012-03-16-07:00", "1/16/2013 7:00:00 AM"),
            ("yyyy", 2, "2012-03-16-07:00", "3/16/2014 7:00:00 AM"),
            ("m", 1, "2021-01-31", "2/28/2021 12:00:00 AM"),
            ("m", 1, "2020-01-31", "2/29/2020 12:00:00 AM"),
            ("m", -1, "2021-03-31T10:00:00Z", "2/28/2021 10:00:00 AM"),
            ("m", -13, "2021-01-15", "12/15/2019 12:00:00 AM"),
            ("m", 12, "2021-12-31", "12/31/2022 12:00:00 AM"),
            ("q", 1, "2021-11-30", "2/28/2022 12:00:00 AM"),
            ("q", -2, "2021-08-31", "2/28/2021 12:00:00 AM"),
            ("yyyy", 1, "2020-02-29", "2/28/2021 12:00:00 AM"),
            ("yyyy", 4, "2020-02-29", "2/29/2024 12:00:00 AM"),
            ("yyyy", -100, "2000-02-29", "2/28/1900 12:00:00 AM"),
            ("y", 1, "2021-12-31", "1/1/2022 12:00:00 AM"),
            ("w", -1, "2021-01-01", "12/31/2020 12:00:00 AM"),
            ("h", 25, "2021-01-01", "1/2/2021 1:00:00 AM"),
            ("n", -1, "2021-01-01", "12/31/2020 11:59:00 PM"),
            ("s", 86_400, "2021-01-01", "1/2/2021 12:00:00 AM"),
            ("d", 0, "2021-01-01T10:00:00.5Z", "1/1/2021 10:00:00 AM"),
            ("yyyy", 1, "9999-01-01", "date-out-of-range"),
            ("m", 1, "9999-12-01", "date-out-of-range"),
            ("d", -1, "0001-01-01", "date-out-of-range"),
            ("s", -1, "0001-01-01", "date-out-of-range"),
            ("s", 2_147_483_647, "2021-01-01", "1/19/2089 3:14:07 AM"),
            ("yyyy", 2_147_483_647, "2021-01-01", "date-out-of-range"),
            ("h", -2_147_483_648, "2021-01-01", "date-out-of-range"),
            ("yyyy", i64::MAX, "2021-01-01", "date-out-of-range"),
            ("s", i64::MIN, "2021-01-01", "date-out-of-range"),
        ];
        for (i, n, date, want) in cases {
            let Some(interval) = Interval::parse(i) else {
                panic!("bad interval {i}")
            };
            let got = date_add(interval, *n, d(date))
                .map_or("date-out-of-range".to_owned(), |r| r.to_string());
            assert_eq!(&got, want, "DateAdd({i}, {n}, {date})");
        }
    }

    #[test]
    fn date_diff_cases() {
        let now = "2021-08-25T17:41:18Z";
        let cases: &[(&str, &str, &str, i64)] = &[
            ("d", "2021-08-18+08:00", "2021-08-31+08:00", 13),
            ("d", now, "2012-03-16-07:00", -3449),
            ("ww", now, "2012-03-16-07:00", -493),
            ("w", now, "2012-03-16-07:00", -492),
            ("m", now, "2012-03-16-07:00", -113),
            ("yyyy", now, "2012-03-16-07:00", -9),
            ("q", now, "2012-03-16-07:00", -38),
            ("d", "2021-08-31+08:00", "2021-08-31+08:00", 0),
            ("h", "2021-08-24", "2021-08-25", 24),
            ("n", "2021-08-24", "2021-08-25", 1440),
            ("s", "2021-08-24", "2021-08-25", 86_400),
            ("y", "2021-08-24", "2021-08-25", 1),
            ("d", "2021-08-24T12:00", "2021-08-25T11:59", 0),
            ("d", "2021-08-25T11:59", "2021-08-24T12:00", 0),
            ("yyyy", "2021-12-31T23:59:59Z", "2022-01-01", 1),
            ("m", "2021-01-31", "2021-02-01", 1),
            ("q", "2021-03-31", "2021-04-01", 1),
            ("q", "2021-01-01", "2021-03-31", 0),
            // Saturday -> Sunday is one calendar week, zero 7-day spans.
            ("ww", "2021-08-21", "2021-08-22", 1),
            ("w", "2021-08-21", "2021-08-22", 0),
            // Sunday 12:00 -> next Sunday 06:00: the time of day makes it one smaller.
            ("ww", "2021-08-22T12:00", "2021-08-29T06:00", 0),
            ("ww", "2021-08-22T06:00", "2021-08-29T06:00", 1),
            ("ww", "2021-08-29", "2021-08-22", -1),
            ("ww", "0001-01-01", "0001-01-02", 0),
            ("d", "0001-01-01", "9999-12-31T23:59:59.9999999Z", 3_652_058),
            (
                "s",
                "0001-01-01",
                "9999-12-31T23:59:59.9999999Z",
                315_537_897_599,
            ),
            ("yyyy", "9999-12-31", "0001-01-01", -9998),
        ];
        for (i, a, b, want) in cases {
            let Some(interval) = Interval::parse(i) else {
                panic!("bad interval {i}")
            };
            assert_eq!(
                date_diff(interval, d(a), d(b)),
                *want,
                "DateDiff({i}, {a}, {b})"
            );
        }
    }

    fn arb_date() -> impl proptest::strategy::Strategy<Value = DateTime> {
        use proptest::strategy::Strategy;
        (0..=DateTime::MAX.ticks()).prop_map(|t| DateTime::from_ticks(t).unwrap_or(DateTime::MIN))
    }

    proptest::proptest! {
        /// DateDiff undoes DateAdd for the fixed-length intervals.
        #[test]
        fn add_then_diff(d in arb_date(), n in -5_000_000i64..5_000_000, k in 0usize..6) {
            let intervals = [Interval::Day, Interval::Hour, Interval::Minute, Interval::Second, Interval::DayOfYear, Interval::Weekday];
            let i = intervals[k];
            if let Some(r) = date_add(i, n, d) {
                let want = if i == Interval::Weekday { n / 7 } else { n };
                proptest::prop_assert_eq!(date_diff(i, d, r), want);
            }
        }

        /// Month arithmetic: DateDiff("m") after DateAdd("m", n) is n, and the day never grows.
        #[test]
        fn months(d in arb_date(), n in -120_000i64..120_000) {
            if let Some(r) = date_add(Interval::Month, n, d) {
                proptest::prop_assert_eq!(date_diff(Interval::Month, d, r), n);
                proptest::prop_assert!(r.civil().day <= d.civil().day);
                proptest::prop_assert_eq!(r.time_of_day(), d.time_of_day());
            }
            if let Some(r) = date_add(Interval::Year, n / 12, d) {
                proptest::prop_assert_eq!(date_diff(Interval::Year, d, r), n / 12);
            }
        }

        /// DateDiff is antisymmetric for every interval but ww (which keeps the time of day).
        #[test]
        fn antisymmetric(a in arb_date(), b in arb_date()) {
            for i in [Interval::Year, Interval::Quarter, Interval::Month, Interval::Day, Interval::Hour, Interval::Minute, Interval::Second, Interval::Weekday] {
                proptest::prop_assert_eq!(date_diff(i, a, b), -date_diff(i, b, a));
            }
        }
    }
}
