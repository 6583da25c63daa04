//! Conversions and bit operations: CStr, BitAnd, Redact.

use super::{Args, Env};
use crate::error::FnError;
use crate::value::Value;

/// `CStr(value)`: the text of the value (spec §3.3); Null stays Null.
pub fn cstr<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(match args.take(0).into_text()? {
        Some(t) => Value::Str(t),
        None => Value::Null,
    })
}

/// `BitAnd(value1, value2)`: 64-bit two's-complement AND; integer text accepted (S4).
pub fn bit_and<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let a = args.get(0).to_int()?;
    let b = args.get(1).to_int()?;
    Ok(Value::Int(a & b))
}

/// `Redact(source)` (F20): the value unchanged; displays (traces, `explain`) show `[Redact]`.
pub fn redact<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(args.take(0))
}
