//! Comparison operators `= <> < <= > >=` (spec §3.7, F5).
//!
//! Both operands are evaluated first; Null compares as `""`; a list of two or more values is
//! `multi-valued-argument`. The operand kinds pick numeric, chronological or ordinal comparison.

use std::cmp::Ordering;

use super::{Value, parse_integer_text};
use crate::error::FnError;

/// Compares two values for `<`, `<=`, `>`, `>=`.
pub fn compare(a: &Value<'_>, b: &Value<'_>) -> Result<Ordering, FnError> {
    let a = single(a)?;
    let b = single(b)?;
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(x), t @ (Value::Str(_) | Value::Null)) => match as_int_text(t) {
            Some(y) => x.cmp(&y),
            None => ordinal(&a.render_scalar(), &text_of(t)),
        },
        (t @ (Value::Str(_) | Value::Null), Value::Int(y)) => match as_int_text(t) {
            Some(x) => x.cmp(y),
            None => ordinal(&text_of(t), &b.render_scalar()),
        },
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Date(x), t @ (Value::Str(_) | Value::Null)) => match as_date_text(t) {
            Some(y) => x.cmp(&y),
            None => ordinal(&a.render_scalar(), &text_of(t)),
        },
        (t @ (Value::Str(_) | Value::Null), Value::Date(y)) => match as_date_text(t) {
            Some(x) => x.cmp(y),
            None => ordinal(&text_of(t), &b.render_scalar()),
        },
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => ordinal(&text_of(a), &text_of(b)),
    })
}

/// Tests two values for `=` (and, negated, `<>`).
pub fn equals(a: &Value<'_>, b: &Value<'_>) -> Result<bool, FnError> {
    let a = single(a)?;
    let b = single(b)?;
    Ok(match (a, b) {
        // Fast path: two texts are equal exactly when their bytes are.
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Str(x), Value::Null) | (Value::Null, Value::Str(x)) => x.is_empty(),
        (Value::Bool(x), t @ (Value::Str(_) | Value::Null))
        | (t @ (Value::Str(_) | Value::Null), Value::Bool(x)) => bool_text(t) == Some(*x),
        _ => compare(a, b)? == Ordering::Equal,
    })
}

fn single<'v, 'a>(v: &'v Value<'a>) -> Result<&'v Value<'a>, FnError> {
    match v {
        Value::Multi(m) if m.len() == 1 => Ok(&m[0]),
        Value::Multi(m) => Err(super::multi_valued(m.len())),
        other => Ok(other),
    }
}

fn text_of<'v>(v: &'v Value<'_>) -> std::borrow::Cow<'v, str> {
    match v {
        Value::Str(s) => std::borrow::Cow::Borrowed(s),
        Value::Null => std::borrow::Cow::Borrowed(""),
        other => std::borrow::Cow::Owned(other.render_scalar()),
    }
}

fn as_int_text(v: &Value<'_>) -> Option<i64> {
    match v {
        Value::Str(s) => parse_integer_text(s),
        _ => None,
    }
}

fn as_date_text(v: &Value<'_>) -> Option<crate::datetime::DateTime> {
    match v {
        Value::Str(s) => crate::datetime::parse_cdate(s).ok(),
        _ => None,
    }
}

fn bool_text(v: &Value<'_>) -> Option<bool> {
    match v {
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Ordinal comparison by UTF-16 code units, like .NET `string.CompareOrdinal`.
///
/// UTF-8 byte order equals code point order, which differs from UTF-16 order only when a
/// character in U+E000..U+FFFF meets a supplementary character; the byte comparison is the
/// fast path and the UTF-16 walk runs only when both texts hold such characters.
pub fn ordinal(a: &str, b: &str) -> Ordering {
    if a.is_ascii() || b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_order_differs_from_code_point_order() {
        // U+FF21 (fullwidth A) is above U+1F600 in code points order? No: below. In UTF-16 the
        // surrogate 0xD83D sorts before 0xFF21.
        assert_eq!(ordinal("\u{FF21}", "\u{1F600}"), Ordering::Greater);
        assert_eq!("\u{FF21}".cmp("\u{1F600}"), Ordering::Less);
    }

    #[test]
    fn null_equals_empty_and_numeric_text() {
        assert!(equals(&Value::Null, &Value::str("")).unwrap());
        assert!(equals(&Value::str("01"), &Value::Int(1)).unwrap());
        assert!(!equals(&Value::str("010"), &Value::str("10")).unwrap());
        assert!(!equals(&Value::Null, &Value::Int(0)).unwrap());
        assert!(equals(&Value::Bool(true), &Value::str("TRUE")).unwrap());
    }
}
