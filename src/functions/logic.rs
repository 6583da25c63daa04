//! Predicates and Boolean logic: IsNull, IsNullOrEmpty, IsPresent, IsString, Not, CBool.
//! (IIF, Switch, Coalesce and IgnoreFlowIfNullOrEmpty are compiled to jumps and opcodes.)

use super::{Args, Env};
use crate::error::{ErrorCode, FnError};
use crate::value::{Value, parse_integer_text, truncate_for_message};

/// `IsNull(expression)`: true only for Null (V3).
pub fn is_null<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(Value::Bool(args.get(0).is_null()))
}

/// `IsNullOrEmpty(expression)`: Null or `""`; a multi-valued value with values is not empty.
pub fn is_null_or_empty<'a>(
    args: &mut Args<'_, 'a>,
    _env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    Ok(Value::Bool(args.get(0).is_null_or_empty()))
}

/// `IsPresent(expression)`: neither Null nor `""`.
pub fn is_present<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(Value::Bool(!args.get(0).is_null_or_empty()))
}

/// `IsString(expression)`: any single non-Null value (everything renders as text); False for
/// Null and for two or more values.
pub fn is_string<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(Value::Bool(match args.get(0) {
        Value::Null => false,
        Value::Multi(m) => m.len() == 1,
        _ => true,
    }))
}

/// `Not(source)` (F13): False for True or text `True` (any case); True for everything else
/// (False, other text, `""`, Null, numbers, dates).
pub fn not<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let v = args.take(0).into_single()?;
    let truthy = match &v {
        Value::Bool(b) => *b,
        Value::Str(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    Ok(Value::Bool(!truthy))
}

/// `CBool(expression)` (F13): Boolean as is; Null is False; a non-zero integer or integer
/// text is True; `True`/`False` text in any case; anything else is `invalid-cast`.
pub fn cbool<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let v = args.take(0).into_single()?;
    let b = match &v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Int(i) => *i != 0,
        Value::Str(s) if s.eq_ignore_ascii_case("true") => true,
        Value::Str(s) if s.eq_ignore_ascii_case("false") => false,
        Value::Str(s) => match parse_integer_text(s) {
            Some(i) => i != 0,
            None => {
                return Err(FnError::new(
                    ErrorCode::InvalidCast,
                    format!("cannot convert `{}` to a Boolean", truncate_for_message(s)),
                ));
            }
        },
        other => {
            return Err(FnError::new(
                ErrorCode::InvalidCast,
                format!("cannot convert a {} value to a Boolean", other.type_name()),
            ));
        }
    };
    Ok(Value::Bool(b))
}
