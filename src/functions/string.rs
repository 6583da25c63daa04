//! String building: Append, Join, Len, StripSpaces, Trim.
//!
//! Each returns its input borrowed when nothing changes, so chains over record values
//! allocate only where text is actually built.

use std::borrow::Cow;

use super::{Args, Env};
use crate::error::FnError;
use crate::value::Value;

/// `Append(source, suffix)`: text(source) then text(suffix); Null counts as `""` and the
/// result is never Null. Maps over a multi-valued source.
pub fn append<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let source = args.take(0).into_text()?;
    let suffix = args.take(1).into_text()?;
    Ok(match (source, suffix) {
        (Some(s), None) => Value::Str(s),
        (None, Some(x)) => Value::Str(x),
        (None, None) => Value::str(""),
        (Some(s), Some(x)) if x.is_empty() => Value::Str(s),
        (Some(s), Some(x)) if s.is_empty() => Value::Str(x),
        (Some(s), Some(x)) => {
            let len = s.len() + x.len();
            env.check_len(len)?;
            let out = match s {
                // An owned source with room is extended in place.
                Cow::Owned(mut o) if o.capacity() >= len => {
                    o.push_str(&x);
                    o
                }
                s => {
                    let mut out = env.buffer(len);
                    out.push_str(&s);
                    out.push_str(&x);
                    if let Cow::Owned(o) = s {
                        env.recycle(Value::string(o));
                    }
                    out
                }
            };
            Value::string(out)
        }
    })
}

/// `Join(separator, source…)` (F1): every value of every source (a multi-valued source
/// contributes all its values), rendered as text; Null and `""` are skipped; the rest are
/// joined with the separator. Nothing left gives `""`, never Null.
pub fn join<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let sep = args.take(0).into_text()?;
    let sep: &str = sep.as_deref().unwrap_or("");
    // First pass: count the pieces and the length, remembering a lone piece so that joining
    // a single non-empty value returns it without copying.
    let mut count = 0usize;
    let mut len = 0usize;
    let mut lone: Option<usize> = None;
    for i in 1..args.len() {
        let values = args.get(i).as_list();
        // One step per value, charged per argument: the budget is exceeded exactly when
        // charging them one by one would exceed it, with the same error.
        env.charge(values.len() as u64)?;
        for v in values {
            let n = match v {
                Value::Str(s) => s.len(),
                Value::Null => 0,
                other => piece(other).map_or(0, |t| t.len()),
            };
            if n > 0 {
                if count == 0 {
                    lone = Some(i);
                }
                count += 1;
                len += n;
            }
        }
    }
    if count == 0 {
        return Ok(Value::str(""));
    }
    if count == 1 {
        if let Some(i) = lone {
            let v = args.take(i);
            // The lone piece is the only non-empty value of that argument.
            let single = match v {
                Value::Multi(list) => list
                    .into_vec()
                    .into_iter()
                    .find(|x| piece(x).is_some())
                    .unwrap_or_default(),
                other => other,
            };
            return Ok(match single.into_text()? {
                Some(t) => Value::Str(t),
                None => Value::str(""),
            });
        }
    }
    len += sep.len() * (count - 1);
    env.check_len(len)?;
    let mut out = env.buffer(len);
    let mut first = true;
    // A one-byte separator (the usual `;` or `,`) is pushed as a byte, not copied.
    let byte_sep = match sep.as_bytes() {
        [b] if b.is_ascii() => Some(char::from(*b)),
        _ => None,
    };
    for i in 1..args.len() {
        for v in args.get(i).as_list() {
            let text = match v {
                Value::Str(s) if !s.is_empty() => Cow::Borrowed(&**s),
                Value::Str(_) | Value::Null => continue,
                other => match piece(other) {
                    Some(t) => t,
                    None => continue,
                },
            };
            if !first {
                match byte_sep {
                    Some(c) => out.push(c),
                    None => out.push_str(sep),
                }
            }
            first = false;
            out.push_str(&text);
        }
    }
    Ok(Value::string(out))
}

/// The text a Join contributes for one value: `None` for Null and `""`.
fn piece<'v>(v: &'v Value<'_>) -> Option<Cow<'v, str>> {
    match v {
        Value::Null => None,
        Value::Str(s) if s.is_empty() => None,
        Value::Str(s) => Some(Cow::Borrowed(s)),
        other => Some(Cow::Owned(other.render_scalar())),
    }
}

/// `Len(source)` (F22): length of the text in UTF-16 code units; Null is 0.
pub fn len<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let n = match args.get(0).text()? {
        Some(t) if t.is_ascii() => t.len(),
        Some(t) => t.encode_utf16().count(),
        None => 0,
    };
    Ok(Value::Int(n as i64))
}

/// `StripSpaces(source)`: removes every U+0020 and nothing else. Null gives Null.
pub fn strip_spaces<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(match args.take(0).into_text()? {
        None => Value::Null,
        Some(Cow::Borrowed(t)) => Value::Str(crate::text::strip_spaces(t)),
        Some(Cow::Owned(t)) => match crate::text::strip_spaces(&t) {
            Cow::Borrowed(_) => Value::string(t),
            Cow::Owned(stripped) => Value::string(stripped),
        },
    })
}

/// `Trim(source)` (F22): strips leading and trailing White_Space code points. Null gives Null.
pub fn trim<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(match args.take(0).into_text()? {
        None => Value::Null,
        Some(Cow::Borrowed(s)) => Value::str(crate::text::trim(s)),
        Some(Cow::Owned(s)) => {
            let t = crate::text::trim(&s);
            if t.len() == s.len() {
                Value::string(s)
            } else {
                Value::string(t.to_owned())
            }
        }
    })
}
