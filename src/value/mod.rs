//! Run-time values and the Entra coercions (spec §3).
//!
//! A [`Value`] borrows from the record it was read from wherever it can (`Cow::Borrowed`), so a
//! pass-through mapping such as `[mail]` never copies the string. Functions that do not change
//! their input hand the borrowed value back unchanged.

use std::borrow::Cow;
use std::fmt;

use crate::datetime::DateTime;
use crate::error::{ErrorCode, FnError};

pub mod buffers;
mod compare;
mod record;

pub use compare::{compare, equals};
pub use record::{AppRole, JsonRecord, Record, SlotRecord, json_to_value};

/// A run-time value (spec §3.1, V1).
///
/// Invariant: a `Multi` holds at least one element (an empty list is `Null`), and its elements
/// are never `Multi` themselves.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value<'a> {
    /// No value: an absent attribute, JSON `null`, an empty list.
    #[default]
    Null,
    /// Text.
    Str(Cow<'a, str>),
    /// A Boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A UTC instant with 100 ns precision.
    Date(DateTime),
    /// An ordered list of one or more values.
    Multi(List<'a>),
    /// An app role assignment object `{id, value, displayName}` (only inside `appRoleAssignments`).
    Role(std::sync::Arc<AppRole>),
}

impl<'a> Value<'a> {
    /// A borrowed string value.
    #[inline]
    pub fn str(s: &'a str) -> Value<'a> {
        Value::Str(Cow::Borrowed(s))
    }

    /// An owned string value.
    #[inline]
    pub fn string(s: String) -> Value<'a> {
        Value::Str(Cow::Owned(s))
    }

    /// Builds a list value; an empty list is Null.
    pub fn multi(values: Vec<Value<'a>>) -> Value<'a> {
        if values.is_empty() {
            Value::Null
        } else {
            Value::Multi(List::Owned(values))
        }
    }

    /// True for Null.
    #[inline]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for Null and `""` (spec §3.4); a list with values is never empty.
    #[inline]
    pub fn is_null_or_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Str(s) => s.is_empty(),
            _ => false,
        }
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Str(_) => "String",
            Value::Bool(_) => "Boolean",
            Value::Int(_) => "Integer",
            Value::Date(_) => "DateTime",
            Value::Multi(_) => "multi-valued",
            Value::Role(_) => "app role assignment",
        }
    }

    /// Detaches the value from any borrowed storage.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Date(d) => Value::Date(d),
            Value::Multi(m) => Value::Multi(List::Owned(
                m.iter().cloned().map(Value::into_owned).collect(),
            )),
            Value::Role(r) => Value::Role(r),
        }
    }

    /// True when dropping the value frees something (an owned string, a list, a role).
    #[inline(always)]
    pub fn owns_memory(&self) -> bool {
        matches!(
            self,
            Value::Str(Cow::Owned(_)) | Value::Multi(_) | Value::Role(_)
        )
    }

    /// Drops the value, skipping the drop glue when it owns nothing (a borrowed string, a
    /// scalar: the usual attribute read), which the compiler cannot see by itself.
    #[inline(always)]
    pub fn release(self) {
        if self.owns_memory() {
            drop(self);
        } else {
            std::mem::forget(self);
        }
    }

    /// A cheap borrowed view of the value (no allocation for strings and lists).
    #[inline]
    pub fn reborrow(&self) -> Value<'_> {
        match self {
            Value::Null => Value::Null,
            Value::Str(s) => Value::Str(Cow::Borrowed(s)),
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Date(d) => Value::Date(*d),
            Value::Multi(m) => Value::Multi(List::Borrowed(m)),
            Value::Role(r) => Value::Role(std::sync::Arc::clone(r)),
        }
    }

    /// Unwraps a one-element list (a Multi holding one value behaves as that value, §3.2);
    /// a list of two or more is `multi-valued-argument`.
    #[inline]
    pub fn into_single(self) -> Result<Value<'a>, FnError> {
        match self {
            Value::Multi(m) => {
                if m.len() == 1 {
                    Ok(match m {
                        List::Borrowed(s) => s[0].reborrow(),
                        List::Owned(mut v) => v.swap_remove(0),
                    })
                } else {
                    Err(multi_valued(m.len()))
                }
            }
            other => Ok(other),
        }
    }

    /// The text of the value (spec §3.3); `None` for Null.
    ///
    /// Borrowed strings stay borrowed. A list of two or more is `multi-valued-argument`.
    #[inline]
    pub fn into_text(self) -> Result<Option<Cow<'a, str>>, FnError> {
        match self {
            Value::Str(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => other.into_text_slow(),
        }
    }

    #[cold]
    fn into_text_slow(self) -> Result<Option<Cow<'a, str>>, FnError> {
        Ok(match self.into_single()? {
            Value::Null => None,
            Value::Str(s) => Some(s),
            other => Some(Cow::Owned(other.render_scalar())),
        })
    }

    /// The text of the value as a borrowed or freshly rendered string; `None` for Null.
    #[inline]
    pub fn text(&self) -> Result<Option<Cow<'_, str>>, FnError> {
        Ok(match self {
            Value::Null => None,
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Multi(m) if m.len() == 1 => return m[0].text(),
            Value::Multi(m) => return Err(multi_valued(m.len())),
            other => Some(Cow::Owned(other.render_scalar())),
        })
    }

    /// Renders a scalar (non-list) value as text per spec §3.3; Null renders as `""`.
    pub fn render_scalar(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Str(s) => s.to_string(),
            Value::Bool(true) => "True".to_owned(),
            Value::Bool(false) => "False".to_owned(),
            Value::Int(i) => i.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Multi(m) => m
                .iter()
                .map(Value::render_scalar)
                .collect::<Vec<_>>()
                .join(","),
            Value::Role(r) => r.to_json(),
        }
    }

    /// Integer conversion for `Int` slots (spec §3.2, S4): integers, and text matching
    /// `^[ \t]*[+-]?[0-9]+[ \t]*$` within i64. Null and other text are `invalid-integer`;
    /// Booleans and dates are `type-mismatch`.
    #[inline]
    pub fn to_int(&self) -> Result<i64, FnError> {
        match self {
            Value::Int(i) => Ok(*i),
            Value::Str(s) => parse_integer_text(s).ok_or_else(|| {
                FnError::new(
                    ErrorCode::InvalidInteger,
                    format!("`{}` is not an integer", truncate_for_message(s)),
                )
            }),
            Value::Null => Err(FnError::new(
                ErrorCode::InvalidInteger,
                "expected an integer, found no value",
            )),
            Value::Multi(m) if m.len() == 1 => m[0].to_int(),
            Value::Multi(m) => Err(multi_valued(m.len())),
            other => Err(FnError::new(
                ErrorCode::TypeMismatch,
                format!("expected an integer, found a {}", other.type_name()),
            )),
        }
    }

    /// Date conversion for `Date` slots: a DateTime, or text parsed as CDate parses (F15).
    /// `None` for Null; Integer and Boolean are `type-mismatch`.
    pub fn to_date(&self) -> Result<Option<DateTime>, FnError> {
        match self {
            Value::Null => Ok(None),
            Value::Date(d) => Ok(Some(*d)),
            Value::Str(s) => crate::datetime::parse_cdate(s).map(Some),
            Value::Multi(m) if m.len() == 1 => m[0].to_date(),
            Value::Multi(m) => Err(multi_valued(m.len())),
            other => Err(FnError::new(
                ErrorCode::TypeMismatch,
                format!("expected a date, found a {}", other.type_name()),
            )),
        }
    }

    /// The values of a `List` slot: a list's elements, or a single value as a one-element
    /// list; Null gives an empty slice.
    #[inline]
    pub fn as_list(&self) -> &[Value<'a>] {
        match self {
            Value::Null => &[],
            Value::Multi(m) => m,
            single => std::slice::from_ref(single),
        }
    }
}

/// The elements of a multi-valued value: borrowed from the record or built by a function.
///
/// A hand-written `Cow` because `Cow<'a, [Value<'a>]>` would make `Value` invariant in `'a`
/// (the owned type is an associated type), which breaks borrowing a `Value<'static>` as a
/// `Value<'a>`.
#[derive(Clone, Debug)]
pub enum List<'a> {
    /// Borrowed elements.
    Borrowed(&'a [Value<'a>]),
    /// Owned elements.
    Owned(Vec<Value<'a>>),
}

impl<'a> std::ops::Deref for List<'a> {
    type Target = [Value<'a>];
    fn deref(&self) -> &[Value<'a>] {
        match self {
            List::Borrowed(s) => s,
            List::Owned(v) => v,
        }
    }
}

impl PartialEq for List<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<'a> List<'a> {
    /// The elements as an owned vector (clones only when borrowed).
    pub fn into_vec(self) -> Vec<Value<'a>> {
        match self {
            List::Borrowed(s) => s.iter().map(Value::reborrow).collect(),
            List::Owned(v) => v,
        }
    }
}

/// Parses integer text (S4): optional blanks, optional sign, ASCII digits, optional blanks.
pub fn parse_integer_text(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // i64::from_str accepts a leading `+` or `-` and rejects overflow.
    t.parse::<i64>().ok()
}

/// The `multi-valued-argument` error for a list of `n` values.
#[cold]
pub fn multi_valued(n: usize) -> FnError {
    FnError::new(
        ErrorCode::MultiValuedArgument,
        format!("expected a single value, found a multi-valued attribute with {n} values"),
    )
}

/// Shortens user text quoted in messages so that an error never echoes a megabyte.
pub fn truncate_for_message(s: &str) -> Cow<'_, str> {
    const MAX: usize = 60;
    if s.len() <= MAX {
        Cow::Borrowed(s)
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Cow::Owned(format!("{}…", &s[..end]))
    }
}

impl fmt::Display for Value<'_> {
    /// The Entra rendering (spec §3.3); lists are written as a JSON-like array.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Multi(m) => {
                f.write_str("[")?;
                for (i, v) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{:?}", v.render_scalar())?;
                }
                f.write_str("]")
            }
            other => f.write_str(&other.render_scalar()),
        }
    }
}

// Values are moved and dropped on every VM step: keep them four words.
const _: () = assert!(std::mem::size_of::<Value<'static>>() == 32);
