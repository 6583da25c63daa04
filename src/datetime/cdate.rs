//! CDate's text forms (F15): ISO 8601 with an optional offset, and the Entra rendering.
//!
//! The accepted grammar is deliberately narrow (spec §5 CDate) so that the same text parses the
//! same way everywhere a Date slot converts text; anything else is `invalid-date`.

use super::{DateTime, TICKS_PER_MINUTE, invalid_date, out_of_range};
use crate::error::FnError;

/// Parses date text as CDate does (F15).
///
/// ```text
/// iso    = yyyy "-" MM "-" dd [ ("T"|"t"|" ") HH ":" mm [ ":" ss [ "." 1*7digit ] ] ] [ offset ]
/// offset = "Z" | "z" | ("+"|"-") hh ":" mm          ; at most 14:00
/// entra  = M "/" d "/" yyyy " " h ":" mm ":" ss " " ("AM"|"PM")
/// ```
/// Leading and trailing white space is ignored. Unparseable text is `invalid-date`; a valid
/// date that falls outside the DateTime range once its offset is applied is
/// `date-out-of-range`.
pub fn parse_cdate(s: &str) -> Result<DateTime, FnError> {
    let t = s.trim();
    let mut c = Cursor {
        b: t.as_bytes(),
        i: 0,
    };
    let fields = if t.contains('/') {
        entra(&mut c)
    } else {
        iso(&mut c)
    };
    let Some(f) = fields.filter(|_| c.i == c.b.len()) else {
        return Err(invalid_date(s));
    };
    let Some(local) = DateTime::from_civil(
        f.year, f.month, f.day, f.hour, f.minute, f.second, f.fraction,
    ) else {
        return Err(invalid_date(s));
    };
    let utc = local.ticks() - i64::from(f.offset_minutes) * TICKS_PER_MINUTE;
    DateTime::from_ticks(utc)
        .ok_or_else(|| out_of_range(format_args!("`{}`", crate::value::truncate_for_message(s))))
}

struct Fields {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    fraction: u32,
    offset_minutes: i32,
}

struct Cursor<'b> {
    b: &'b [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    /// Between `min` and `max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut n = 0u32;
        let mut count = 0;
        while count < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    n = n * 10 + u32::from(d - b'0');
                    self.i += 1;
                    count += 1;
                }
                _ => break,
            }
        }
        (count >= min).then_some(n)
    }
}

fn iso(c: &mut Cursor<'_>) -> Option<Fields> {
    let year = c.digits(4, 4)? as i32;
    c.eat(b'-')?;
    let month = c.digits(2, 2)?;
    c.eat(b'-')?;
    let day = c.digits(2, 2)?;
    let mut f = Fields {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        fraction: 0,
        offset_minutes: 0,
    };
    if matches!(c.peek(), Some(b'T' | b't' | b' ')) {
        c.i += 1;
        f.hour = c.digits(2, 2)?;
        c.eat(b':')?;
        f.minute = c.digits(2, 2)?;
        if c.eat(b':').is_some() {
            f.second = c.digits(2, 2)?;
            if c.eat(b'.').is_some() {
                let start = c.i;
                let digits = c.digits(1, 7)?;
                let n = c.i - start;
                f.fraction = digits * 10u32.pow((7 - n) as u32);
            }
        }
    }
    match c.peek() {
        Some(b'Z' | b'z') => c.i += 1,
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let hh = c.digits(2, 2)?;
            c.eat(b':')?;
            let mm = c.digits(2, 2)?;
            if hh > 14 || mm > 59 || (hh == 14 && mm > 0) {
                return None;
            }
            let total = (hh * 60 + mm) as i32;
            f.offset_minutes = if sign == b'-' { -total } else { total };
        }
        _ => {}
    }
    Some(f)
}

fn entra(c: &mut Cursor<'_>) -> Option<Fields> {
    let month = c.digits(1, 2)?;
    c.eat(b'/')?;
    let day = c.digits(1, 2)?;
    c.eat(b'/')?;
    let year = c.digits(4, 4)? as i32;
    c.eat(b' ')?;
    let h12 = c.digits(1, 2)?;
    c.eat(b':')?;
    let minute = c.digits(2, 2)?;
    c.eat(b':')?;
    let second = c.digits(2, 2)?;
    c.eat(b' ')?;
    let pm = match (
        c.peek()?.to_ascii_uppercase(),
        c.b.get(c.i + 1)?.to_ascii_uppercase(),
    ) {
        (b'A', b'M') => false,
        (b'P', b'M') => true,
        _ => return None,
    };
    c.i += 2;
    if !(1..=12).contains(&h12) {
        return None;
    }
    let hour = h12 % 12 + if pm { 12 } else { 0 };
    Some(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
        fraction: 0,
        offset_minutes: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    /// `(input, rendering or error code)`.
    const CASES: &[(&str, &str)] = &[
        ("2020-03-16-07:00", "3/16/2020 7:00:00 AM"),
        ("2021-06-30+08:00", "6/29/2021 4:00:00 PM"),
        ("2009-06-15T01:45:30-07:00", "6/15/2009 8:45:30 AM"),
        ("2021-08-24", "8/24/2021 12:00:00 AM"),
        ("  2021-08-24\t", "8/24/2021 12:00:00 AM"),
        ("2021-08-24T13:05", "8/24/2021 1:05:00 PM"),
        ("2021-08-24t13:05Z", "8/24/2021 1:05:00 PM"),
        ("2021-08-24 13:05:09.9999999z", "8/24/2021 1:05:09 PM"),
        ("2012-01-01T23:00:00Z", "1/1/2012 11:00:00 PM"),
        ("2020-12-31 23:59:59-08:00", "1/1/2021 7:59:59 AM"),
        ("2020-02-29", "2/29/2020 12:00:00 AM"),
        ("2021-01-01+14:00", "12/31/2020 10:00:00 AM"),
        ("8/25/2021 5:41:18 PM", "8/25/2021 5:41:18 PM"),
        ("08/05/2021 12:00:00 am", "8/5/2021 12:00:00 AM"),
        ("1/1/2021 12:30:00 PM", "1/1/2021 12:30:00 PM"),
        ("12/31/9999 11:59:59 PM", "12/31/9999 11:59:59 PM"),
        ("9999-12-31T23:59:59.9999999Z", "12/31/9999 11:59:59 PM"),
        ("0001-01-01", "1/1/0001 12:00:00 AM"),
        ("", "invalid-date"),
        ("   ", "invalid-date"),
        ("nope", "invalid-date"),
        ("2021-02-29", "invalid-date"),
        ("2021-02-30", "invalid-date"),
        ("2021-13-01", "invalid-date"),
        ("2021-1-01", "invalid-date"),
        ("21-01-01", "invalid-date"),
        ("2021-01-01T24:00", "invalid-date"),
        ("2021-01-01T10", "invalid-date"),
        ("2021-01-01T10:00:00.", "invalid-date"),
        ("2021-01-01T10:00:00.12345678", "invalid-date"),
        ("2021-01-01+14:01", "invalid-date"),
        ("2021-01-01+15:00", "invalid-date"),
        ("2021-01-01+0100", "invalid-date"),
        ("2021-01-01Zjunk", "invalid-date"),
        ("0000-01-01", "invalid-date"),
        ("13/1/2021 1:00:00 AM", "invalid-date"),
        ("1/1/2021 13:00:00 PM", "invalid-date"),
        ("1/1/2021 0:00:00 AM", "invalid-date"),
        ("1/1/2021 1:00:00", "invalid-date"),
        ("1/1/21 1:00:00 AM", "invalid-date"),
        ("２０２１-01-01", "invalid-date"),
        ("0001-01-01T00:00:00+01:00", "date-out-of-range"),
        ("9999-12-31T23:00:00-01:00", "date-out-of-range"),
    ];

    #[test]
    fn cdate_cases() {
        for (input, want) in CASES {
            let got = match parse_cdate(input) {
                Ok(d) => d.to_string(),
                Err(e) => e.code.as_str().to_owned(),
            };
            assert_eq!(&got, want, "CDate({input:?})");
        }
    }

    #[test]
    fn error_messages_quote_input() {
        let e = parse_cdate("nope").err();
        assert_eq!(
            e.map(|e| (e.code, e.message)),
            Some((ErrorCode::InvalidDate, "`nope` is not a date".to_owned()))
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_cdate(&s);
        }

        #[test]
        fn rendering_parses_back(ticks in 0..=DateTime::MAX.ticks()) {
            let d = DateTime::from_ticks(ticks).unwrap_or(DateTime::MIN);
            let whole_seconds = d.ticks() - i64::from(d.civil().fraction);
            proptest::prop_assert_eq!(parse_cdate(&d.to_string()).map(|d| d.ticks()), Ok(whole_seconds));
        }
    }
}
