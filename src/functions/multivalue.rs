//! Functions over multi-valued attributes: Count, Item, RemoveDuplicates (F7).

use super::{Args, Env};
use crate::error::FnError;
use crate::value::{List, Value};

/// `Count(attribute)`: the number of values; a single value counts 1, Null 0.
pub fn count<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    Ok(Value::Int(args.get(0).as_list().len() as i64))
}

/// `Item(attribute, index)`: the 1-based element; out of range (or a Null list) gives Null.
pub fn item<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let index = args.get(1).to_int()?;
    let list = args.take(0);
    let len = list.as_list().len() as i64;
    if index < 1 || index > len {
        return Ok(Value::Null);
    }
    let i = (index - 1) as usize;
    Ok(match list {
        Value::Multi(List::Borrowed(s)) => s.get(i).map_or_else(Value::default, Value::reborrow),
        Value::Multi(List::Owned(mut v)) => {
            if i < v.len() {
                v.swap_remove(i)
            } else {
                Value::Null
            }
        }
        single => single,
    })
}

/// `RemoveDuplicates(attribute)`: the first occurrence of each value (exact, case-sensitive),
/// in order. A list stays a list even with one value left; a single value is unchanged.
pub fn remove_duplicates<'a>(
    args: &mut Args<'_, 'a>,
    env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    let v = args.take(0);
    let Value::Multi(list) = v else {
        return Ok(v);
    };
    let mut seen: std::collections::HashSet<String> =
        std::collections::HashSet::with_capacity(list.len());
    let mut out = Vec::with_capacity(list.len());
    for item in list.into_vec() {
        env.charge(1)?;
        if seen.insert(item.render_scalar()) {
            out.push(item);
        }
    }
    Ok(Value::multi(out))
}
