//! Date functions: CDate, DateAdd, DateDiff, DateFromNum, FormatDateTime, Now, NumFromDate.
//!
//! Constant intervals, formats and styles are validated by the `prepare_*` functions at check
//! time (so a typo is a diagnostic with a column, not a run-time failure) and kept as call-site
//! data so that the bodies never re-parse a constant format.

use crate::datetime::filetime::{MAX_FILETIME, from_filetime, to_filetime};
use crate::datetime::format::{Format, ParseError};
use crate::datetime::parse_cdate;
use crate::datetime::styles::{Styles, check as check_styles, parse_styles};
use crate::datetime::vb::{
    Interval, date_add as vb_date_add, date_diff as vb_date_diff, interval_message,
};
use crate::error::{ErrorCode, FnError};
use crate::functions::{Args, ConstArgs, Env, PrepareError, SiteData};
use crate::value::{Value, multi_valued, truncate_for_message};

/// `CDate(expression: Str) -> Date`: date text to a UTC DateTime (F15). A DateTime is returned
/// unchanged; Null gives Null.
pub fn cdate<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    match args.take(0).into_single()? {
        Value::Null => Ok(Value::Null),
        Value::Date(d) => Ok(Value::Date(d)),
        other => match other.text()? {
            Some(t) => Ok(Value::Date(parse_cdate(&t)?)),
            None => Ok(Value::Null),
        },
    }
}

/// `DateAdd(interval: Str, value: IntFix, dateTime: Date) -> Date` (VB DateAdd). A Null date
/// gives Null.
pub fn date_add<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let interval = interval_arg(args)?;
    let n = fix_int(args.get(1))?;
    let Some(d) = args.get(2).to_date()? else {
        return Ok(Value::Null);
    };
    match vb_date_add(interval, n, d) {
        Some(r) => Ok(Value::Date(r)),
        None => Err(FnError::new(
            ErrorCode::DateOutOfRange,
            format!("adding {n} to {d} leaves the date range 0001-01-01 to 9999-12-31"),
        )),
    }
}

/// `DateDiff(interval: Str, date1: Date, date2: Date) -> Int` (VB DateDiff), positive when
/// date2 is later. Null in either date gives Null.
pub fn date_diff<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let interval = interval_arg(args)?;
    let d1 = args.get(1).to_date()?;
    let d2 = args.get(2).to_date()?;
    match (d1, d2) {
        (Some(a), Some(b)) => Ok(Value::Int(vb_date_diff(interval, a, b))),
        _ => Ok(Value::Null),
    }
}

/// `DateFromNum(value: Int) -> Date`: a Windows FILETIME to a DateTime. Null gives Null.
pub fn date_from_num<'a>(
    args: &mut Args<'_, 'a>,
    _env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    let v = args.get(0);
    if v.is_null() {
        return Ok(Value::Null);
    }
    let n = v.to_int()?;
    from_filetime(n).map(Value::Date).ok_or_else(|| {
        FnError::new(
            ErrorCode::DateOutOfRange,
            format!("`{n}` is not a FILETIME in the date range (0 to {MAX_FILETIME})"),
        )
    })
}

/// `NumFromDate(value: Date) -> Int`: a DateTime (or date text) to a Windows FILETIME. Null
/// gives Null.
pub fn num_from_date<'a>(
    args: &mut Args<'_, 'a>,
    _env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    let Some(d) = args.get(0).to_date()? else {
        return Ok(Value::Null);
    };
    to_filetime(d).map(Value::Int).ok_or_else(|| {
        FnError::new(
            ErrorCode::DateOutOfRange,
            format!("{d} is before 1601-01-01, where FILETIME starts"),
        )
    })
}

/// `Now() -> Date`: the evaluation's instant from the injected clock (F17).
pub fn now<'a>(_args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(Value::Date(env.now()))
}

/// `FormatDateTime(source: Str, dateTimeStyles?: Str, inputFormat: Str, outputFormat: Str)
/// -> Str` (F16): .NET ParseExact with the input format and styles, then the output format.
///
/// The compiler always passes four slots; a three-slot call (as written) is also accepted.
/// An absent or empty styles slot means 131.
pub fn format_date_time<'a>(
    args: &mut Args<'_, 'a>,
    env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    let layout = Layout::of(args.len());
    let site = args.site::<FormatDateTimeSite>();
    let Some(source) = args.get(0).text()? else {
        return Ok(Value::Null);
    };
    let styles = match (site.and_then(|s| s.styles), layout.styles) {
        (Some(s), _) => s,
        (None, Some(i)) if args.present(i) => styles_from_value(args.get(i))
            .map_err(|m| FnError::new(ErrorCode::InvalidDatetimeStyles, m))?,
        _ => Styles::DEFAULT,
    };
    let parsed_in;
    let input = match site.and_then(|s| s.input.as_ref()) {
        Some(f) => f,
        None => {
            parsed_in = format_from_value(args.get(layout.input), "input")?;
            &parsed_in
        }
    };
    let parsed_out;
    let output = match site.and_then(|s| s.output.as_ref()) {
        Some(f) => f,
        None => {
            parsed_out = format_from_value(args.get(layout.output), "output")?;
            &parsed_out
        }
    };
    let d = input
        .parse_exact_stamp(&source, styles, || env.now())
        .map_err(|e| match e {
            ParseError::NoMatch(why) => FnError::new(
                ErrorCode::InvalidDate,
                format!(
                    "`{}` does not match the input format: {why}",
                    truncate_for_message(&source)
                ),
            ),
            ParseError::OutOfRange => FnError::new(
                ErrorCode::DateOutOfRange,
                format!(
                    "`{}` is outside the date range 0001-01-01 to 9999-12-31",
                    truncate_for_message(&source)
                ),
            ),
        })?;
    let out = output.format_stamp(&d);
    env.check_len(out.len())?;
    Ok(Value::string(out))
}

/// FormatDateTime's call-site data: whatever was constant at compile time.
#[derive(Debug, Default)]
pub struct FormatDateTimeSite {
    /// The styles, when constant or absent.
    pub styles: Option<Styles>,
    /// The parsed input format, when constant.
    pub input: Option<Format>,
    /// The parsed output format, when constant.
    pub output: Option<Format>,
}

/// Where FormatDateTime's arguments are, by slot count.
struct Layout {
    styles: Option<usize>,
    input: usize,
    output: usize,
}

impl Layout {
    fn of(slots: usize) -> Layout {
        if slots == 3 {
            Layout {
                styles: None,
                input: 1,
                output: 2,
            }
        } else {
            Layout {
                styles: Some(1),
                input: 2,
                output: 3,
            }
        }
    }
}

/// Validates FormatDateTime's constant styles and formats (`invalid-datetime-styles`,
/// `invalid-format` with the column) and keeps them parsed.
pub fn prepare_format_date_time(ca: &ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError> {
    if ca.len() != 3 && ca.len() != 4 {
        return Ok(None);
    }
    let layout = Layout::of(ca.len());
    let mut site = FormatDateTimeSite::default();
    match layout.styles {
        None => site.styles = Some(Styles::DEFAULT),
        Some(i) if !ca.present(i) => site.styles = Some(Styles::DEFAULT),
        Some(i) => {
            if let Some(v) = ca.constant(i) {
                let s = styles_from_value(v)
                    .map_err(|m| PrepareError::at(i, ErrorCode::InvalidDatetimeStyles, m))?;
                site.styles = Some(s);
            }
        }
    }
    for (i, what) in [(layout.input, "input"), (layout.output, "output")] {
        let Some(v) = ca.constant(i) else { continue };
        let f = format_from_value(v, what).map_err(|e| PrepareError::at(i, e.code, e.message))?;
        // Lowered now, at check time, rather than by the first evaluation.
        if i == layout.input {
            f.prepare_input();
            site.input = Some(f);
        } else {
            f.prepare_output();
            site.output = Some(f);
        }
    }
    Ok(Some(Box::new(site)))
}

/// Validates a constant DateAdd/DateDiff interval and keeps it; for DateAdd also a constant
/// number.
pub fn prepare_interval(ca: &ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError> {
    let interval = match ca.constant(0) {
        Some(v) => {
            Some(interval_from_value(v).map_err(|e| PrepareError::at(0, e.code, e.message))?)
        }
        None => None,
    };
    Ok(interval.map(|i| Box::new(i) as SiteData))
}

/// DateAdd's prepare: the interval as for DateDiff, and a constant number must convert.
pub fn prepare_date_add(ca: &ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError> {
    if let Some(v) = ca.constant(1) {
        fix_int(v).map_err(|e| PrepareError::at(1, e.code, e.message))?;
    }
    prepare_interval(ca)
}

fn interval_arg(args: &Args<'_, '_>) -> Result<Interval, FnError> {
    match args.site::<Interval>() {
        Some(i) => Ok(*i),
        None => interval_from_value(args.get(0)),
    }
}

fn interval_from_value(v: &Value<'_>) -> Result<Interval, FnError> {
    let t = v.text()?.unwrap_or_default();
    Interval::parse(&t)
        .ok_or_else(|| FnError::new(ErrorCode::InvalidInterval, interval_message(&t)))
}

/// A styles slot's value: Null means the default, an Integer is the number, text is parsed
/// per 5.F2. The error is the message of `invalid-datetime-styles`.
fn styles_from_value(v: &Value<'_>) -> Result<Styles, String> {
    match v {
        Value::Null => Ok(Styles::DEFAULT),
        Value::Int(n) => match u8::try_from(*n) {
            Ok(b) => check_styles(Styles(b)),
            Err(_) => Err(format!(
                "`{n}` is not a DateTimeStyles value; numbers run from 0 to 255"
            )),
        },
        Value::Multi(m) if m.len() == 1 => styles_from_value(&m[0]),
        other => match other.text() {
            Ok(Some(t)) => parse_styles(&t),
            Ok(None) => Ok(Styles::DEFAULT),
            Err(e) => Err(e.message),
        },
    }
}

fn format_from_value(v: &Value<'_>, what: &str) -> Result<Format, FnError> {
    let Some(text) = v.text()? else {
        return Err(FnError::new(
            ErrorCode::InvalidFormat,
            format!("the {what} format has no value"),
        ));
    };
    Format::parse(&text).map_err(|e| {
        FnError::new(
            ErrorCode::InvalidFormat,
            format!(
                "{} in the {what} format `{}`",
                e,
                truncate_for_message(&text)
            ),
        )
    })
}

/// DateAdd's number: an Integer, or integer text where a fractional part is truncated toward
/// zero (VB `Fix`); it must fit VB's `Integer` (i32), else `date-out-of-range`.
fn fix_int(v: &Value<'_>) -> Result<i64, FnError> {
    let n = match v {
        Value::Int(i) => *i,
        Value::Str(s) => fix_text(s).ok_or_else(|| {
            FnError::new(
                ErrorCode::InvalidInteger,
                format!("`{}` is not a number", truncate_for_message(s)),
            )
        })?,
        Value::Multi(m) if m.len() == 1 => return fix_int(&m[0]),
        Value::Multi(m) => return Err(multi_valued(m.len())),
        other => other.to_int()?,
    };
    if i32::try_from(n).is_err() {
        return Err(FnError::new(
            ErrorCode::DateOutOfRange,
            format!("`{n}` is outside DateAdd's number range -2147483648 to 2147483647"),
        ));
    }
    Ok(n)
}

/// `[ \t]*[+-]?(digits[.digits*] | .digits)[ \t]*`, truncated toward zero and saturated to
/// i64 (a saturated value then fails the i32 range check).
fn fix_text(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let mut v: i64 = 0;
    for b in int.bytes() {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{FixedClock, Limits, RandomSource, TakenSet};
    use crate::datetime::DateTime;
    use crate::functions::{ConstSlot, NativeFn};

    struct NoRng;
    impl RandomSource for NoRng {
        fn next_u64(&mut self) -> u64 {
            0
        }
    }

    fn now_2021() -> DateTime {
        crate::datetime::parse_rfc3339("2021-08-25T17:41:18Z").unwrap_or(DateTime::MIN)
    }

    /// Calls a body with the given slots (`None` = empty slot), running `prepare` first the
    /// way the compiler does when every argument is constant. Returns the rendered result or
    /// the error code.
    fn call(
        f: NativeFn,
        prepare: Option<crate::functions::PrepareFn>,
        slots: &[Option<Value<'static>>],
    ) -> String {
        let consts: Vec<ConstSlot<'_>> = slots
            .iter()
            .map(|s| ConstSlot::constant(s.as_ref()))
            .collect();
        let site = match prepare {
            Some(p) => match p(&ConstArgs { slots: &consts }) {
                Ok(s) => s,
                Err(e) => return format!("check {}", e.code),
            },
            None => None,
        };
        let without_site = run(f, slots, None);
        let with_site = run(f, slots, site.as_deref());
        assert_eq!(without_site, with_site, "site data changed the result");
        with_site
    }

    fn run(
        f: NativeFn,
        slots: &[Option<Value<'static>>],
        site: Option<&(dyn std::any::Any + Send + Sync)>,
    ) -> String {
        let mut vals: Vec<Value<'static>> = slots
            .iter()
            .map(|s| s.clone().unwrap_or(Value::Null))
            .collect();
        let mask = slots
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, s)| if s.is_some() { m | 1 << i } else { m });
        let clock = FixedClock(now_2021());
        let mut rng = NoRng;
        let taken = TakenSet::new();
        let limits = Limits::default();
        let mut env = Env::new(&clock, &mut rng, &taken, &limits);
        let mut args = Args::new(&mut vals, mask, site);
        match f(&mut args, &mut env) {
            Ok(Value::Null) => "Null".to_owned(),
            Ok(v) => v.render_scalar(),
            Err(e) => e.code.as_str().to_owned(),
        }
    }

    fn s(x: &str) -> Option<Value<'static>> {
        Some(Value::string(x.to_owned()))
    }
    fn i(x: i64) -> Option<Value<'static>> {
        Some(Value::Int(x))
    }
    fn date(x: &str) -> Option<Value<'static>> {
        Some(Value::Date(parse_cdate(x).unwrap_or(DateTime::MIN)))
    }
    const NULL: Option<Value<'static>> = Some(Value::Null);

    #[test]
    fn cdate_cases() {
        let cases: Vec<(Option<Value<'static>>, &str)> = vec![
            (s("2020-03-16-07:00"), "3/16/2020 7:00:00 AM"),
            (s("nope"), "invalid-date"),
            (s(""), "invalid-date"),
            (NULL, "Null"),
            (date("2021-01-01T10:00:00Z"), "1/1/2021 10:00:00 AM"),
            (i(5), "invalid-date"),
            (
                Some(Value::multi(vec![Value::str("2021-01-01")])),
                "1/1/2021 12:00:00 AM",
            ),
            (
                Some(Value::multi(vec![
                    Value::str("2021-01-01"),
                    Value::str("x"),
                ])),
                "multi-valued-argument",
            ),
        ];
        for (arg, want) in cases {
            assert_eq!(
                call(cdate, None, std::slice::from_ref(&arg)),
                want,
                "CDate({arg:?})"
            );
        }
    }

    #[test]
    fn date_add_cases() {
        let p = Some(prepare_date_add as crate::functions::PrepareFn);
        let cases: Vec<([Option<Value<'static>>; 3], &str)> = vec![
            (
                [s("m"), i(10), s("2012-03-16-07:00")],
                "1/16/2013 7:00:00 AM",
            ),
            (
                [s("M"), s("1"), date("2021-01-31")],
                "2/28/2021 12:00:00 AM",
            ),
            ([s("d"), s("1.9"), s("2021-01-01")], "1/2/2021 12:00:00 AM"),
            (
                [s("d"), s("-1.5"), s("2021-01-01")],
                "12/31/2020 12:00:00 AM",
            ),
            ([s("d"), s(" +2 "), s("2021-01-01")], "1/3/2021 12:00:00 AM"),
            ([s("d"), s(".5"), s("2021-01-01")], "1/1/2021 12:00:00 AM"),
            ([s("d"), s("1."), s("2021-01-01")], "1/2/2021 12:00:00 AM"),
            ([s("d"), s("."), s("2021-01-01")], "check invalid-integer"),
            ([s("d"), s("1e3"), s("2021-01-01")], "check invalid-integer"),
            ([s("d"), s("abc"), s("2021-01-01")], "check invalid-integer"),
            ([s("d"), NULL, s("2021-01-01")], "check invalid-integer"),
            (
                [s("d"), Some(Value::Bool(true)), s("2021-01-01")],
                "check type-mismatch",
            ),
            (
                [s("d"), i(2_147_483_648), s("2021-01-01")],
                "check date-out-of-range",
            ),
            (
                [s("d"), s("99999999999999999999999"), s("2021-01-01")],
                "check date-out-of-range",
            ),
            (
                [s("s"), i(-2_147_483_648), s("2021-01-01")],
                "12/13/1952 8:45:52 PM",
            ),
            ([s("d"), i(1), NULL], "Null"),
            ([s("d"), i(1), s("bad")], "invalid-date"),
            ([s("d"), i(1), i(5)], "type-mismatch"),
            ([s("x"), i(1), s("2021-01-01")], "check invalid-interval"),
            ([NULL, i(1), s("2021-01-01")], "check invalid-interval"),
            ([s("yyyy"), i(1), s("9999-06-01")], "date-out-of-range"),
        ];
        for (args, want) in cases {
            assert_eq!(call(date_add, p, &args), want, "DateAdd{args:?}");
        }
    }

    #[test]
    fn date_diff_cases() {
        let p = Some(prepare_interval as crate::functions::PrepareFn);
        let cases: Vec<([Option<Value<'static>>; 3], &str)> = vec![
            (
                [s("d"), date("2021-08-25T17:41:18Z"), s("2012-03-16-07:00")],
                "-3449",
            ),
            (
                [s("WW"), date("2021-08-25T17:41:18Z"), s("2012-03-16-07:00")],
                "-493",
            ),
            ([s("h"), s("2021-08-24"), s("2021-08-25")], "24"),
            ([s("d"), NULL, s("2021-08-25")], "Null"),
            ([s("d"), s("2021-08-25"), NULL], "Null"),
            ([s("d"), s("x"), s("2021-08-25")], "invalid-date"),
            (
                [s("days"), s("2021-08-24"), s("2021-08-25")],
                "check invalid-interval",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(call(date_diff, p, &args), want, "DateDiff{args:?}");
        }
    }

    #[test]
    fn filetime_functions() {
        assert_eq!(
            call(date_from_num, None, &[i(129_699_324_000_000_000)]),
            "1/1/2012 11:00:00 PM"
        );
        assert_eq!(call(date_from_num, None, &[s("0")]), "1/1/1601 12:00:00 AM");
        assert_eq!(
            call(date_from_num, None, &[i(i64::MAX)]),
            "date-out-of-range"
        );
        assert_eq!(call(date_from_num, None, &[i(-1)]), "date-out-of-range");
        assert_eq!(
            call(date_from_num, None, &[i(2_650_467_743_999_999_999)]),
            "12/31/9999 11:59:59 PM"
        );
        assert_eq!(
            call(date_from_num, None, &[i(2_650_467_744_000_000_000)]),
            "date-out-of-range"
        );
        assert_eq!(call(date_from_num, None, &[NULL]), "Null");
        assert_eq!(call(date_from_num, None, &[s("x")]), "invalid-integer");
        assert_eq!(
            call(num_from_date, None, &[s("2012-01-01T23:00:00Z")]),
            "129699324000000000"
        );
        assert_eq!(
            call(num_from_date, None, &[s("2020-12-31 23:59:59-08:00")]),
            "132539615990000000"
        );
        assert_eq!(
            call(num_from_date, None, &[s("1600-12-31T23:59:59Z")]),
            "date-out-of-range"
        );
        assert_eq!(call(num_from_date, None, &[s("1601-01-01")]), "0");
        assert_eq!(call(num_from_date, None, &[s("junk")]), "invalid-date");
        assert_eq!(call(num_from_date, None, &[NULL]), "Null");
        assert_eq!(call(now, None, &[]), "8/25/2021 5:41:18 PM");
    }

    #[test]
    fn format_date_time_cases() {
        let p = Some(prepare_format_date_time as crate::functions::PrepareFn);
        let cases: Vec<(Vec<Option<Value<'static>>>, &str)> = vec![
            (
                vec![
                    s("20150123105347.1Z"),
                    None,
                    s("yyyyMMddHHmmss.fZ"),
                    s("yyyy-MM-dd"),
                ],
                "2015-01-23",
            ),
            (
                vec![
                    s("2021-08-18-07:00"),
                    None,
                    s("yyyy-MM-ddzzz"),
                    s("yyyyMMddHHmmss.fZ"),
                ],
                "20210818070000.0Z",
            ),
            (
                vec![
                    s("2020-12-31-08:00"),
                    None,
                    s("yyyy-MM-ddzzz"),
                    s("yyyy-MM-dd"),
                ],
                "2020-12-31",
            ),
            (
                vec![s("25/08/2021"), s("32"), s("dd/MM/yyyy"), s("yyyy-MM-dd")],
                "2021-08-25",
            ),
            (
                vec![s("25/08/2021"), i(0), s("dd/MM/yyyy"), s("yyyy-MM-dd")],
                "2021-08-25",
            ),
            (
                vec![s(" 25/08/2021"), i(0), s("dd/MM/yyyy"), s("yyyy-MM-dd")],
                "invalid-date",
            ),
            (
                vec![
                    s(" 25/08/2021 "),
                    s("AllowWhiteSpaces"),
                    s("dd/MM/yyyy"),
                    s("yyyy-MM-dd"),
                ],
                "2021-08-25",
            ),
            (
                vec![s("25/08/2021"), s(""), s("dd/MM/yyyy"), s("yyyy-MM-dd")],
                "2021-08-25",
            ),
            (
                vec![s("25/08/2021"), NULL, s("dd/MM/yyyy"), s("yyyy-MM-dd")],
                "2021-08-25",
            ),
            (
                vec![
                    s("25/08/2021"),
                    s("Bogus"),
                    s("dd/MM/yyyy"),
                    s("yyyy-MM-dd"),
                ],
                "check invalid-datetime-styles",
            ),
            (
                vec![s("25/08/2021"), i(256), s("dd/MM/yyyy"), s("yyyy-MM-dd")],
                "check invalid-datetime-styles",
            ),
            (
                vec![
                    s("25/08/2021"),
                    s("AssumeLocal,AssumeUniversal"),
                    s("dd/MM/yyyy"),
                    s("yyyy-MM-dd"),
                ],
                "check invalid-datetime-styles",
            ),
            (
                vec![s("25/08/2021"), None, s("dd/MM/yyyy'"), s("yyyy-MM-dd")],
                "check invalid-format",
            ),
            (
                vec![s("25/08/2021"), None, s("dd/MM/yyyy"), s("")],
                "check invalid-format",
            ),
            (
                vec![s("25/08/2021"), None, s("dd/MM/yyyy"), s("yyyy fffffffff")],
                "check invalid-format",
            ),
            (
                vec![s("25/08/2021"), None, s("dd/MM/yyyy"), NULL],
                "check invalid-format",
            ),
            (vec![NULL, None, s("dd/MM/yyyy"), s("yyyy-MM-dd")], "Null"),
            (
                vec![s(""), None, s("dd/MM/yyyy"), s("yyyy-MM-dd")],
                "invalid-date",
            ),
            (
                vec![s("2021-02-30"), None, s("yyyy-MM-dd"), s("yyyy-MM-dd")],
                "invalid-date",
            ),
            (
                vec![
                    s("0001-01-01+01:00"),
                    None,
                    s("yyyy-MM-ddzzz"),
                    s("yyyy-MM-dd"),
                ],
                "date-out-of-range",
            ),
            (
                vec![
                    date("2021-08-25T17:41:18Z"),
                    None,
                    s("M/d/yyyy h:mm:ss tt"),
                    s("yyyy-MM-ddTHH:mm:ssK"),
                ],
                "2021-08-25T17:41:18Z",
            ),
            (
                vec![
                    date("2021-08-25T17:41:18Z"),
                    None,
                    s("yyyy-MM-dd"),
                    s("yyyy"),
                ],
                "invalid-date",
            ),
            (
                vec![s("10:30"), None, s("HH:mm"), s("yyyy-MM-dd HH:mm")],
                "2021-08-25 10:30",
            ),
            (
                vec![
                    s("10:30"),
                    s("NoCurrentDateDefault"),
                    s("HH:mm"),
                    s("yyyy-MM-dd HH:mm"),
                ],
                "0001-01-01 10:30",
            ),
            (
                vec![i(2021), None, s("yyyy"), s("yyyy-MM-dd")],
                "2021-01-01",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(
                call(format_date_time, p, &args),
                want,
                "FormatDateTime{args:?}"
            );
        }
        // The three-slot form as written.
        let three = vec![
            s("20150123105347.1Z"),
            s("yyyyMMddHHmmss.fZ"),
            s("yyyy-MM-dd"),
        ];
        assert_eq!(call(format_date_time, p, &three), "2015-01-23");
    }

    #[test]
    fn format_errors_carry_the_column() {
        let slots = [s("x"), None, s("yyyy-MM-dd"), s("yyyy-MM-dd 'T")];
        let consts: Vec<ConstSlot<'_>> = slots
            .iter()
            .map(|s| ConstSlot::constant(s.as_ref()))
            .collect();
        let e = prepare_format_date_time(&ConstArgs { slots: &consts }).err();
        assert_eq!(
            e.map(|e| (e.arg, e.code, e.message)),
            Some((
                Some(3),
                ErrorCode::InvalidFormat,
                "unterminated `'` quote at column 11 in the output format `yyyy-MM-dd 'T`"
                    .to_owned()
            ))
        );
    }

    #[test]
    fn dynamic_arguments_leave_site_partial() {
        // Four written arguments, none of them constant.
        let dynamic = ConstSlot {
            present: true,
            value: None,
        };
        let consts = [dynamic.clone(), dynamic.clone(), dynamic.clone(), dynamic];
        let site = prepare_format_date_time(&ConstArgs { slots: &consts })
            .ok()
            .flatten();
        let site = site
            .as_deref()
            .and_then(|s| s.downcast_ref::<FormatDateTimeSite>());
        assert!(
            site.is_some_and(|s| s.styles.is_none() && s.input.is_none() && s.output.is_none())
        );
    }

    fn arb_value() -> impl proptest::strategy::Strategy<Value = Option<Value<'static>>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            any::<i64>().prop_map(|i| Some(Value::Int(i))),
            any::<bool>().prop_map(|b| Some(Value::Bool(b))),
            (0..=DateTime::MAX.ticks()).prop_map(|t| Some(Value::Date(
                DateTime::from_ticks(t).unwrap_or(DateTime::MIN)
            ))),
            "[-+0-9 :/.TZtzyMdHhmsfFKg'\\\\%,a-zA-Z]{0,24}".prop_map(|s| Some(Value::string(s))),
            "\\PC{0,12}".prop_map(|s| Some(Value::string(s))),
        ]
    }

    proptest::proptest! {
        /// No body panics on any arguments, with or without prepared site data.
        #[test]
        fn bodies_never_panic(args in proptest::collection::vec(arb_value(), 0..5)) {
            let fns: [(NativeFn, Option<crate::functions::PrepareFn>); 7] = [
                (cdate, None),
                (date_add, Some(prepare_date_add)),
                (date_diff, Some(prepare_interval)),
                (date_from_num, None),
                (num_from_date, None),
                (format_date_time, Some(prepare_format_date_time)),
                (now, None),
            ];
            for (f, p) in fns {
                let _ = call(f, p, &args);
            }
        }
    }
}
