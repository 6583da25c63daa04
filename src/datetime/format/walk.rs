//! The straight walk: ParseExact for the common shape of an input format (numeric fields,
//! literals and an offset, with the whole date given, as in `yyyy-MM-ddzzz`), compiled once
//! into a list of steps that reads the text without the general parser's bookkeeping and
//! returns the UTC civil fields without going through ticks.
//!
//! The walk only ever *succeeds*: on anything it is unsure about (a character that does not
//! match, a field out of range, an offset that leaves the DateTime range, AllowInnerWhite)
//! it returns `None` and the caller runs the general parser from the start, so every error
//! and every unusual input keeps exactly one implementation. That is sound because the
//! general parser never backtracks: each token consumes what the walk's step for it would,
//! so when the walk reads the whole text, the general parser would have read the same
//! fields.

use super::super::styles::Styles;
use super::super::{MARCH_EPOCH_OFFSET, MAX_DAY, ymd_from_days};
use super::{Spec, Stamp, Token};

/// A compiled input format (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Walk {
    steps: Box<[Step]>,
    /// The fixed-width steps at the start, when they cover at least eight bytes.
    prefix: Option<Prefix>,
    /// `y`/`yy`: the year is read as two digits and mapped with TwoDigitYearMax 2049.
    two_digit_year: bool,
}

/// The steps at the start of a walk whose widths are fixed (exact digit counts and
/// literals, as `yyyy-MM-dd`): the text they read is checked eight bytes at a time against
/// masks, then each number is read from its known place, without a step loop.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Prefix {
    /// How many bytes the steps read (at least eight).
    len: usize,
    /// How many steps they are; the walk goes on with the next one.
    steps: usize,
    /// Eight-byte windows that together cover the prefix (the last one may overlap the one
    /// before it).
    windows: Box<[Window]>,
    /// The numbers it holds.
    numbers: Box<[Number]>,
}

/// What the eight bytes at `at` must be: the bytes under `mask` equal `bits` (literals,
/// and the high nibble `3` of a digit), and the low nibble under `digits` is at most 9.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    at: usize,
    mask: u64,
    bits: u64,
    digits: u64,
}

/// A number of a [`Prefix`]: `width` digits at `at`, times `scale`, into field `field`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Number {
    at: usize,
    width: usize,
    field: usize,
    /// 1, or ticks per unit of the last digit of a fraction.
    scale: u32,
}

/// One step of a [`Walk`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// A doubled specifier (`MM`, `dd`, `HH`, `yy`, …): exactly two digits.
    Two(F),
    /// A one-letter specifier (`M`, `d`, `H`, `y`, …): one digit, or two when a second
    /// follows (greedy, as .NET's parser).
    OneTwo(F),
    /// `yyy` to `yyyyyyyyy`: exactly that many digits.
    Year(u8),
    /// `f…` (exactly `digits` digits) or `F…` (up to `digits`, `trim`): the fraction field.
    Fraction {
        /// 1–7.
        digits: u8,
        /// True for `F`.
        trim: bool,
    },
    /// An ASCII character other than white space (a literal, a separator, a quoted
    /// character, the `.` before a fraction).
    Byte(u8),
    /// `z`, `zz`, `zzz`.
    Offset(u8),
    /// `Z`: the letter `Z` (`GMT`, which also matches, is left to the general parser).
    Z,
    /// `K`: `Z`, an offset or nothing.
    K,
}

/// The numeric fields a [`Step::Two`] or [`Step::OneTwo`] sets; indexes into the walk's
/// field table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum F {
    Year = 0,
    Month = 1,
    Day = 2,
    Hour = 3,
    Minute = 4,
    Second = 5,
}

/// The index of the fraction in the walk's field table, after those of [`F`].
const FRACTION_FIELD: usize = 6;

/// Bits of the fields a format sets, to refuse a format that sets one twice (the general
/// parser compares the two values) or leaves the date to `today`.
const YEAR: u8 = 1;
const MONTH: u8 = 2;
const DAY: u8 = 4;
const HOUR: u8 = 8;
const MINUTE: u8 = 16;
const SECOND: u8 = 32;
const FRACTION: u8 = 64;
const OFFSET: u8 = 128;

impl F {
    fn bit(self) -> u8 {
        match self {
            F::Year => YEAR,
            F::Month => MONTH,
            F::Day => DAY,
            F::Hour => HOUR,
            F::Minute => MINUTE,
            F::Second => SECOND,
        }
    }
}

impl Walk {
    /// The walk of a format, when every token is one it reads and the format gives year,
    /// month and day, each field at most once.
    pub(super) fn of(tokens: &[Token]) -> Option<Walk> {
        let mut steps = Vec::with_capacity(tokens.len());
        let mut seen = 0u8;
        let mut two_digit_year = false;
        for t in tokens {
            let num = |field: F, width: u8| {
                let step = if width == 1 {
                    Step::OneTwo(field)
                } else {
                    Step::Two(field)
                };
                (step, field.bit())
            };
            let (step, bit) = match &t.spec {
                Spec::Day(n @ (1 | 2)) => num(F::Day, *n),
                Spec::Month(n @ (1 | 2)) => num(F::Month, *n),
                Spec::Hour24(n) => num(F::Hour, *n),
                Spec::Minute(n) => num(F::Minute, *n),
                Spec::Second(n) => num(F::Second, *n),
                Spec::Year(n @ (1 | 2)) => {
                    two_digit_year = true;
                    num(F::Year, *n)
                }
                // Up to nine digits always fit a u32.
                Spec::Year(n @ 3..=9) => (Step::Year(*n), YEAR),
                Spec::Fraction { digits, trim } => (
                    Step::Fraction {
                        digits: *digits,
                        trim: *trim,
                    },
                    FRACTION,
                ),
                Spec::Offset(n) => (Step::Offset(*n), OFFSET),
                Spec::OffsetK => (Step::K, OFFSET),
                Spec::UtcZ => (Step::Z, OFFSET),
                Spec::TimeSep => (Step::Byte(b':'), 0),
                Spec::DateSep => (Step::Byte(b'/'), 0),
                // A missing dot is optional before `FF…`: the general parser decides.
                Spec::Dot => (Step::Byte(b'.'), 0),
                // White space is trimmed from the format's ends and made optional by the
                // styles; non-ASCII literals are compared as characters.
                Spec::Literal(c) => (Step::Byte(plain_byte(*c)?), 0),
                Spec::Quoted(q) => {
                    for c in q.chars() {
                        steps.push(Step::Byte(plain_byte(c)?));
                    }
                    continue;
                }
                // Names, AM/PM, 12-hour clocks, eras, long years and `GMT`.
                _ => return None,
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            steps.push(step);
        }
        if seen & (YEAR | MONTH | DAY) != YEAR | MONTH | DAY {
            return None;
        }
        Some(Walk {
            prefix: Prefix::of(&steps),
            steps: steps.into(),
            two_digit_year,
        })
    }

    /// ParseExact of `text` to the UTC civil fields, or `None` when the general parser must
    /// decide (see the module documentation).
    #[inline(always)]
    pub(super) fn run(&self, text: &str, styles: Styles) -> Option<Stamp> {
        // AllowInnerWhite skips white space before every token; leading and trailing white
        // space (allowed or not) makes a step or the final length check fail.
        if styles.has(Styles::ALLOW_INNER_WHITE) {
            return None;
        }
        let s = text.as_bytes();
        // Year, month, day, hour, minute, second (by `F`), fraction.
        let mut v = [0u32; 7];
        let (mut i, from) = match &self.prefix {
            Some(p) if s.len() >= p.len => {
                p.read(s, &mut v)?;
                (p.len, p.steps)
            }
            _ => (0, 0),
        };
        let offset = self.steps(s, &mut i, from, &mut v)?;
        if i != s.len() {
            return None;
        }
        let [mut year, month, day, hour, minute, second, fraction] = v;
        if self.two_digit_year {
            // At most two digits were read.
            year += if year <= 49 { 2000 } else { 1900 };
        }
        to_utc(year, month, day, hour, minute, second, fraction, offset)
    }

    /// Runs the steps from `from` on, reading from `*i`: the offset read (0 if none).
    #[inline]
    fn steps(&self, s: &[u8], i: &mut usize, from: usize, v: &mut [u32; 7]) -> Option<i32> {
        let mut offset = 0i32;
        for step in self.steps.get(from..).unwrap_or_default() {
            match *step {
                Step::Two(field) => {
                    let (Some(a), Some(b)) = (digit(s, *i), digit(s, *i + 1)) else {
                        return None;
                    };
                    *i += 2;
                    v[field as usize] = a * 10 + b;
                }
                Step::OneTwo(field) => {
                    let a = digit(s, *i)?;
                    v[field as usize] = match digit(s, *i + 1) {
                        Some(b) => {
                            *i += 2;
                            a * 10 + b
                        }
                        None => {
                            *i += 1;
                            a
                        }
                    };
                }
                Step::Year(n) => {
                    let mut y = 0;
                    for _ in 0..n {
                        y = y * 10 + digit(s, *i)?;
                        *i += 1;
                    }
                    v[F::Year as usize] = y;
                }
                Step::Fraction { digits: n, trim } => {
                    let (f, got) = digits(s, i, n);
                    if got < n && !trim {
                        return None;
                    }
                    v[FRACTION_FIELD] = f * POW10[usize::from(7 - got.min(7))];
                }
                Step::Byte(b) => {
                    if s.get(*i) != Some(&b) {
                        return None;
                    }
                    *i += 1;
                }
                Step::Offset(n) => offset = read_offset(s, i, n)?,
                Step::Z => {
                    if s.get(*i) != Some(&b'Z') {
                        return None;
                    }
                    *i += 1;
                }
                Step::K => match s.get(*i) {
                    Some(b'Z') => *i += 1,
                    Some(b'+' | b'-') => offset = read_offset(s, i, 3)?,
                    _ => {}
                },
            }
        }
        Some(offset)
    }
}

impl Prefix {
    /// The prefix of `steps`, if its fixed-width steps read at least eight bytes.
    fn of(steps: &[Step]) -> Option<Prefix> {
        // Per byte: `None` for a digit, else the literal.
        let mut pattern: Vec<Option<u8>> = Vec::new();
        let mut numbers = Vec::new();
        let mut count = 0;
        for step in steps {
            let (width, field, scale) = match *step {
                Step::Two(f) => (2, f as usize, 1),
                Step::Year(n) => (usize::from(n), F::Year as usize, 1),
                Step::Fraction {
                    digits,
                    trim: false,
                } => (
                    usize::from(digits),
                    FRACTION_FIELD,
                    POW10[usize::from(7 - digits.min(7))],
                ),
                Step::Byte(b) => {
                    pattern.push(Some(b));
                    count += 1;
                    continue;
                }
                // `Z` sets the offset to 0, which is what no offset means.
                Step::Z => {
                    pattern.push(Some(b'Z'));
                    count += 1;
                    continue;
                }
                _ => break,
            };
            numbers.push(Number {
                at: pattern.len(),
                width,
                field,
                scale,
            });
            pattern.extend(std::iter::repeat_n(None, width));
            count += 1;
        }
        let len = pattern.len();
        if len < 8 {
            return None;
        }
        let starts = (0..len - 8).step_by(8).chain(std::iter::once(len - 8));
        let windows = starts
            .map(|at| {
                let mut w = Window {
                    at,
                    mask: 0,
                    bits: 0,
                    digits: 0,
                };
                for (k, b) in pattern.iter().skip(at).take(8).enumerate() {
                    let shift = 8 * k;
                    match b {
                        Some(b) => {
                            w.mask |= 0xFF << shift;
                            w.bits |= u64::from(*b) << shift;
                        }
                        None => {
                            w.mask |= 0xF0 << shift;
                            w.bits |= 0x30 << shift;
                            w.digits |= 0x0F << shift;
                        }
                    }
                }
                w
            })
            .collect();
        Some(Prefix {
            len,
            steps: count,
            windows,
            numbers: numbers.into(),
        })
    }

    /// Checks the first [`Prefix::len`] bytes of `s` (there are that many) and reads the
    /// numbers into `v`.
    #[inline(always)]
    fn read(&self, s: &[u8], v: &mut [u32; 7]) -> Option<()> {
        const SIX: u64 = 0x0606_0606_0606_0606;
        for w in self.windows.iter() {
            let bytes: [u8; 8] = s.get(w.at..w.at + 8)?.try_into().ok()?;
            let x = u64::from_le_bytes(bytes);
            // A low nibble above 9 carries into the high nibble when 6 is added.
            if x & w.mask != w.bits || ((x & w.digits) + (SIX & w.digits)) & (w.digits << 4) != 0 {
                return None;
            }
        }
        // The digits are checked: `wrapping_sub` never wraps.
        let pair =
            |a: u8, b: u8| u32::from(a.wrapping_sub(b'0')) * 10 + u32::from(b.wrapping_sub(b'0'));
        for n in self.numbers.iter() {
            let x = match *s.get(n.at..n.at + n.width)? {
                [a, b] => pair(a, b),
                [a, b, c, d] => pair(a, b) * 100 + pair(c, d),
                ref digits => digits
                    .iter()
                    .fold(0, |x, d| x * 10 + u32::from(d.wrapping_sub(b'0'))),
            };
            *v.get_mut(n.field)? = x * n.scale;
        }
        Some(())
    }
}

/// The byte of an ASCII character other than white space.
fn plain_byte(c: char) -> Option<u8> {
    (c.is_ascii() && !c.is_whitespace()).then_some(c as u8)
}

/// `10^(7 - n)`: ticks per unit of an `n`-digit fraction.
const POW10: [u32; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// The ASCII digit at `i`.
#[inline(always)]
fn digit(s: &[u8], i: usize) -> Option<u32> {
    match s.get(i) {
        Some(d @ b'0'..=b'9') => Some(u32::from(d - b'0')),
        _ => None,
    }
}

/// Up to `max` (at most 9) ASCII digits from `*i`: the value and how many were read.
#[inline(always)]
fn digits(s: &[u8], i: &mut usize, max: u8) -> (u32, u8) {
    let mut v = 0;
    let mut n = 0;
    while n < max.min(9) {
        let Some(d) = digit(s, *i) else { break };
        v = v * 10 + d;
        *i += 1;
        n += 1;
    }
    (v, n)
}

/// `z` (sign, 1–2 digit hours), `zz` (sign, 2-digit hours), `zzz` (sign, 1–2 digit hours,
/// optional `:`, 2-digit minutes), in minutes east of UTC; hours 0–14, minutes 0–59.
#[inline(always)]
fn read_offset(s: &[u8], i: &mut usize, n: u8) -> Option<i32> {
    let negative = match s.get(*i) {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    let first = digit(s, *i + 1)?;
    let (hours, mut j) = match digit(s, *i + 2) {
        Some(second) => (first * 10 + second, *i + 3),
        None if n != 2 => (first, *i + 2),
        None => return None,
    };
    let minutes = if n >= 3 {
        if s.get(j) == Some(&b':') {
            j += 1;
        }
        let (Some(a), Some(b)) = (digit(s, j), digit(s, j + 1)) else {
            return None;
        };
        j += 2;
        a * 10 + b
    } else {
        0
    };
    if hours > 14 || minutes > 59 {
        return None;
    }
    *i = j;
    let off = (hours * 60 + minutes) as i32;
    Some(if negative { -off } else { off })
}

/// The UTC fields of a local date and time `offset` minutes east of UTC, or `None` when a
/// field is out of range or the instant leaves the DateTime range. The offset moves the
/// time by less than a day, so the date moves by at most one day, found through the day
/// number only when it does.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn to_utc(
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    fraction: u32,
    offset: i32,
) -> Option<Stamp> {
    if hour > 23 || minute > 59 || second > 59 || !is_date(year, month, day) {
        return None;
    }
    // Minutes into the UTC day, before moving the date.
    let minutes = (hour * 60 + minute) as i32 - offset;
    // Valid: year 1..=9999, month 1..=12, day 1..=31.
    let (mut year, mut month, mut day) = (year as i32, month as u8, day as u8);
    let minutes = if (0..MINUTES_PER_DAY).contains(&minutes) {
        minutes as u32
    } else {
        let moved = i64::from(day_number(year as u32, month.into(), day.into()))
            + i64::from(minutes.div_euclid(MINUTES_PER_DAY));
        if !(0..=MAX_DAY).contains(&moved) {
            return None;
        }
        (year, month, day) = ymd_from_days(moved);
        minutes.rem_euclid(MINUTES_PER_DAY) as u32
    };
    Some(Stamp {
        year,
        month,
        day,
        hour: (minutes / 60) as u8,
        minute: (minutes % 60) as u8,
        second: second as u8,
        fraction,
    })
}

const MINUTES_PER_DAY: i32 = 24 * 60;

/// Days in each month (February of a common year), by month number.
const MONTH_DAYS: [u32; 13] = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Days from 1 March to the first of each month, by month number (January and February
/// end the March-based year).
const DAYS_BEFORE: [u32; 13] = [0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275];

/// True for a calendar date in 0001..=9999.
#[inline(always)]
fn is_date(year: u32, month: u32, day: u32) -> bool {
    let Some(&last) = MONTH_DAYS.get(month as usize) else {
        return false;
    };
    let leap_day = month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    (1..=9999).contains(&year) && day != 0 && day <= last + u32::from(leap_day)
}

/// Days since 0001-01-01 of a calendar date (see [`is_date`]), as `days_from_civil` but in
/// unsigned arithmetic (every division by a constant is a multiply and a shift), which the
/// valid fields allow.
fn day_number(year: u32, month: u32, day: u32) -> u32 {
    let before = DAYS_BEFORE.get(month as usize).copied().unwrap_or(0);
    // Years start in March (see `days_from_civil`): year 0 runs from March 0000 to
    // February 0001, so every term is non-negative.
    let y = year - u32::from(month <= 2);
    y * 365 + y / 4 - y / 100 + y / 400 + before + day - 1 - MARCH_EPOCH_OFFSET as u32
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::super::DateTime;
    use super::super::{Format, ParseError, Stamp};
    use super::*;

    fn today() -> DateTime {
        DateTime::from_civil(2021, 8, 25, 17, 41, 18, 0).unwrap_or(DateTime::MIN)
    }

    /// What the general parser says, as the walk would say it.
    fn general(f: &Format, text: &str, styles: Styles) -> Result<Stamp, ParseError> {
        f.parse_exact_general(text, styles, today)
            .map(|d| Stamp::from(d.civil()))
    }

    /// The walk, where the format has one, agrees with the general parser: when it reads a
    /// text, the general parser reads the same instant; when it declines, the public entry
    /// points give the general parser's exact result (error message included).
    /// True when the walk read the text.
    fn check(format: &str, text: &str, styles: Styles) -> Result<bool, TestCaseError> {
        let Ok(f) = Format::parse(format) else {
            return Ok(false);
        };
        let want = general(&f, text, styles);
        let walked = f.input().walk.as_ref().and_then(|w| w.run(text, styles));
        if let Some(got) = walked {
            prop_assert_eq!(Ok(got), want.clone(), "walk {:?} on {:?}", format, text);
        }
        prop_assert_eq!(
            f.parse_exact_stamp(text, styles, today),
            want,
            "{:?} on {:?} ({})",
            format,
            text,
            styles.0
        );
        prop_assert_eq!(
            f.parse_exact(text, styles, today),
            f.parse_exact_general(text, styles, today),
            "{:?} on {:?} ({})",
            format,
            text,
            styles.0
        );
        Ok(walked.is_some())
    }

    #[test]
    fn which_formats_walk() {
        for (f, walks, prefix) in [
            ("yyyy-MM-ddzzz", true, true),
            ("yyyyMMddHHmmss.fZ", true, true),
            ("yyyyMMddHHmmss.FZ", true, true),
            ("O", true, true),
            ("s", true, true),
            ("u", false, false),
            ("yyyy-MM-dd", true, true),
            ("yyyyMMdd", true, true),
            ("yyMMdd", true, false),
            ("M/d/yyyy", true, false),
            ("dd/MM/yyyy HH:mm:ss K", false, false),
            ("yyyy-MM", false, false),
            ("MM-dd", false, false),
            ("yyyy-MM-dd hh:mm tt", false, false),
            ("dd MMM yyyy", false, false),
            ("yyyy-MM-dd-dd", false, false),
            ("yyyy-MM-ddzzzZ", false, false),
            ("yyyyy-MM-dd", true, true),
            ("yyyyyyyyyy-MM-dd", false, false),
            ("yyyy-MM-dd'é'", false, false),
            ("yyyy-MM-dd' '", false, false),
            ("yyyy-MM-dd'T'", true, true),
            ("yyyy-MM-dd GMT", false, false),
        ] {
            let w = Format::parse(f).ok().and_then(|f| f.input().walk.clone());
            assert_eq!(w.is_some(), walks, "{f}");
            assert_eq!(w.is_some_and(|w| w.prefix.is_some()), prefix, "{f}");
        }
    }

    /// Boundaries: offsets across a day, a month, a year and the ends of the range; dates
    /// that are not calendar dates; fields and offsets just out of range; white space with
    /// and without the styles that allow it.
    #[test]
    fn boundaries() -> Result<(), TestCaseError> {
        let texts = [
            "2021-08-18-07:00",
            "2021-08-18+07:00",
            "2021-08-18+0700",
            "2021-08-18+7:00",
            "2021-08-18+700",
            "2021-08-18+14:00",
            "2021-08-18+14:59",
            "2021-08-18+15:00",
            "2021-08-18-14:60",
            "2021-08-18+05:3",
            "2021-08-18+",
            "2021-08-18",
            "2021-08-18Z",
            "2021-08-18 -07:00",
            " 2021-08-18-07:00",
            "2021-08-18-07:00 ",
            "2021-08-18-07:00\u{3000}",
            "2021-01-01+00:01",
            "2020-12-31-00:01",
            "2021-03-01+01:00",
            "2020-03-01+01:00",
            "2020-02-28-23:00",
            "2021-02-28-23:00",
            "2020-02-29+00:00",
            "2021-02-29+00:00",
            "2100-02-29+00:00",
            "2000-02-29+00:00",
            "2021-04-31+00:00",
            "2021-13-01+00:00",
            "2021-00-01+00:00",
            "2021-01-00+00:00",
            "0000-01-01+00:00",
            "0001-01-01+00:00",
            "0001-01-01+00:01",
            "0001-01-01-00:01",
            "9999-12-31-00:01",
            "9999-12-31+00:01",
            "9999-12-31+00:00",
            "2021-08-1x-07:00",
            "2021/08/18-07:00",
            "２０２１-08-18-07:00",
            "2021-08-18-07:00x",
            "",
            "2021",
        ];
        let formats = [
            "yyyy-MM-ddzzz",
            "yyyy-MM-ddzz",
            "yyyy-MM-ddz",
            "yyyy-MM-ddK",
        ];
        let mut walked = 0;
        for f in formats {
            for t in texts {
                for styles in [0, 1, 2, 3, 4, 7, 8, 131, 255] {
                    walked += usize::from(check(f, t, Styles(styles))?);
                }
            }
        }
        // The walk reads the well-formed texts (and declines under AllowInnerWhite).
        assert_eq!(walked, 216);
        assert!(check("yyyy-MM-ddzzz", "2021-08-18-07:00", Styles::DEFAULT)?);
        let more = [
            ("yyyyMMddHHmmss.fZ", "20150123105347.1Z"),
            ("yyyyMMddHHmmss.fZ", "20150123105347.Z"),
            ("yyyyMMddHHmmss.fZ", "20150123105347Z"),
            ("yyyyMMddHHmmss.fZ", "20150123105347.1GMT"),
            ("yyyyMMddHHmmss.fZ", "20150123245347.1Z"),
            ("yyyyMMddHHmmss.fZ", "20150123106047.1Z"),
            ("yyyyMMddHHmmss.fZ", "20150123105360.1Z"),
            ("yyyyMMddHHmmss.FFZ", "20150123105347.Z"),
            ("yyyyMMddHHmmss.FFZ", "20150123105347Z"),
            ("yyyyMMddHHmmss.FFZ", "20150123105347.12Z"),
            ("yyyyMMddHHmmss.FFZ", "20150123105347.123Z"),
            ("O", "2009-06-01T13:45:30.0615000Z"),
            ("O", "2009-06-01T13:45:30.0615000+01:00"),
            ("O", "2009-06-01T13:45:30.0615000"),
            ("O", "2009-06-01T13:45:30.061500Z"),
            ("yy-MM-dd", "49-03-15"),
            ("yy-MM-dd", "50-03-15"),
            ("y-M-d", "5-3-15"),
            ("y-M-d", "5-3-1"),
            ("y-M-d", "5-3-"),
            ("M/d/yyyy", "12/31/2021"),
            ("M/d/yyyy", "123/1/2021"),
            ("yyyyy-MM-dd", "02021-03-15"),
            ("yyyyy-MM-dd", "10000-03-15"),
            ("yyy-MM-dd", "021-03-15"),
            ("yyyy-MM-dd'T'HH", "2021-03-15T7"),
            ("yyyy-MM-dd'T'H", "2021-03-15T7"),
            ("yyyy-MM-dd'T'H", "2021-03-15T17"),
        ];
        let mut walked = 0;
        for (f, t) in more {
            for styles in [0, 3, 4, 131] {
                walked += usize::from(check(f, t, Styles(styles))?);
            }
        }
        assert_eq!(walked, 45);
        Ok(())
    }

    /// Formats drawn from what the walk reads (and a little it does not).
    fn arb_format() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            Just("yyyy"),
            Just("yy"),
            Just("y"),
            Just("yyy"),
            Just("yyyyy"),
            Just("MM"),
            Just("M"),
            Just("dd"),
            Just("d"),
            Just("HH"),
            Just("H"),
            Just("mm"),
            Just("m"),
            Just("ss"),
            Just("s"),
            Just("f"),
            Just("fff"),
            Just("fffffff"),
            Just("FF"),
            Just("F"),
            Just("zzz"),
            Just("zz"),
            Just("z"),
            Just("K"),
            Just("Z"),
            Just("-"),
            Just(":"),
            Just("/"),
            Just("."),
            Just(" "),
            Just("'T'"),
            Just("\\x"),
            Just("hh"),
            Just("tt"),
            Just("MMM"),
        ];
        proptest::collection::vec(part, 1..10).prop_map(|p| p.concat())
    }

    /// Texts near what a format writes: the formatted date (UTC or with an offset), then
    /// damaged: a byte replaced, a cut, white space added.
    fn arb_text() -> impl Strategy<Value = (DateTime, i32, usize, u8, u8)> {
        (
            (0..=DateTime::MAX.ticks())
                .prop_map(|t| DateTime::from_ticks(t).unwrap_or(DateTime::MIN)),
            -900i32..=900,
            0usize..40,
            any::<u8>(),
            0u8..6,
        )
    }

    fn damage(text: &str, at: usize, byte: u8, how: u8) -> String {
        let mut b = text.as_bytes().to_vec();
        let at = at.min(b.len());
        match how {
            0 => {}
            1 => {
                if let Some(x) = b.get_mut(at) {
                    *x = b"0123456789+-:. TZx"[usize::from(byte) % 18];
                }
            }
            2 => b.truncate(at),
            3 => b.insert(at, b' '),
            4 => b.insert(0, b' '),
            _ => b.push(b' '),
        }
        String::from_utf8_lossy(&b).into_owned()
    }

    /// With an offset written as the format's zzz would be (replacing the `+00:00` the
    /// formatter writes for UTC).
    fn with_offset(text: &str, minutes: i32) -> String {
        let sign = if minutes < 0 { '-' } else { '+' };
        let m = minutes.unsigned_abs();
        text.replace("+00:00", &format!("{sign}{:02}:{:02}", m / 60, m % 60))
            .replace("+00", &format!("{sign}{:02}", m / 60))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn walk_matches_general_near_formatted_text(
            f in arb_format(),
            (d, off, at, byte, how) in arb_text(),
            styles in prop_oneof![Just(0u8), Just(3), Just(4), Just(131), any::<u8>()],
        ) {
            let Ok(parsed) = Format::parse(&f) else { return Ok(()) };
            let text = damage(&with_offset(&parsed.format(d), off), at, byte, how);
            check(&f, &text, Styles(styles))?;
        }

        #[test]
        fn walk_matches_general_on_any_text(
            f in arb_format(),
            text in "[0-9+:. TZ/-]{0,24}",
            styles in any::<u8>(),
        ) {
            check(&f, &text, Styles(styles))?;
        }

        /// Every day of the range, with offsets that move it across midnight.
        #[test]
        fn walk_matches_general_across_midnight(days in 0i64..=3_652_058, off in -899i32..=899, minute in 0u32..1440) {
            let d = DateTime::from_ticks(days * super::super::super::TICKS_PER_DAY).unwrap_or(DateTime::MIN);
            let c = d.civil();
            let sign = if off < 0 { '-' } else { '+' };
            let m = off.unsigned_abs();
            let text = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}{sign}{:02}:{:02}",
                c.year, c.month, c.day, minute / 60, minute % 60, m / 60, m % 60
            );
            let walked = check("yyyy-MM-dd'T'HH:mmzzz", &text, Styles::DEFAULT)?;
            // Only an instant outside the range is left to the general parser.
            let in_range = (1..=3_652_057).contains(&days);
            prop_assert!(walked || !in_range, "{}", text);
        }
    }
}
