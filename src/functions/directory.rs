//! App role assignment functions (F21): SingleAppRoleAssignment, AppRoleAssignmentsComplex.
//!
//! `[appRoleAssignments]` is a list whose elements are `{id, value, displayName}` objects
//! (`Value::Role`) or plain display-name strings; both functions accept either.

use crate::error::{ErrorCode, FnError};
use crate::functions::{Args, Env};
use crate::value::{AppRole, Value};

/// `SingleAppRoleAssignment(source: List) -> Str`: no assignment gives Null, exactly one gives
/// its display name (a string element as is; an object's `displayName`, Null if missing),
/// more than one is `multiple-app-role-assignments`.
pub fn single_app_role_assignment<'a>(
    args: &mut Args<'_, 'a>,
    _env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    let n = args.get(0).as_list().len();
    if n > 1 {
        return Err(FnError::new(
            ErrorCode::MultipleAppRoleAssignments,
            format!("expected at most one app role assignment, found {n}"),
        ));
    }
    Ok(match args.take(0).into_single()? {
        Value::Null => Value::Null,
        Value::Role(r) => r.display_name.clone().map_or(Value::Null, Value::string),
        s @ Value::Str(_) => s,
        // Another scalar (a number or Boolean from JSON) is its text, like any Str result.
        other => Value::string(other.render_scalar()),
    })
}

/// `AppRoleAssignmentsComplex(source: List) -> Multi`: each assignment as compact JSON with
/// keys `id`, `value`, `displayName`; a string element is a display name with null id and
/// value. Null gives Null.
pub fn app_role_assignments_complex<'a>(
    args: &mut Args<'_, 'a>,
    env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    let items = args.get(0).as_list();
    env.charge(items.len() as u64)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let json = match item {
            Value::Role(r) => r.to_json(),
            Value::Null => continue,
            other => AppRole {
                id: None,
                value: None,
                display_name: Some(other.render_scalar()),
            }
            .to_json(),
        };
        env.check_len(json.len())?;
        out.push(Value::string(json));
    }
    Ok(Value::multi(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{FixedClock, Limits, RandomSource, TakenSet};
    use crate::datetime::DateTime;
    use crate::functions::NativeFn;

    struct NoRng;
    impl RandomSource for NoRng {
        fn next_u64(&mut self) -> u64 {
            0
        }
    }

    fn run(f: NativeFn, arg: Value<'static>) -> String {
        let mut vals = vec![arg];
        let clock = FixedClock(DateTime::MIN);
        let mut rng = NoRng;
        let taken = TakenSet::new();
        let limits = Limits::default();
        let mut env = Env::new(&clock, &mut rng, &taken, &limits);
        let mut args = Args::new(&mut vals, 1, None);
        match f(&mut args, &mut env) {
            Ok(Value::Null) => "Null".to_owned(),
            Ok(v) => v.to_string(),
            Err(e) => e.code.as_str().to_owned(),
        }
    }

    fn role(id: Option<&str>, value: Option<&str>, name: Option<&str>) -> Value<'static> {
        Value::Role(std::sync::Arc::new(AppRole {
            id: id.map(str::to_owned),
            value: value.map(str::to_owned),
            display_name: name.map(str::to_owned),
        }))
    }

    #[test]
    fn single() {
        let cases: Vec<(Value<'static>, &str)> = vec![
            (
                Value::multi(vec![Value::str("Default Assignment")]),
                "Default Assignment",
            ),
            (Value::str("Default Assignment"), "Default Assignment"),
            (
                Value::multi(vec![role(Some("1"), Some("Admin"), Some("Administrator"))]),
                "Administrator",
            ),
            (
                Value::multi(vec![role(Some("1"), Some("Admin"), None)]),
                "Null",
            ),
            (Value::Null, "Null"),
            (
                Value::multi(vec![Value::str("a"), Value::str("b")]),
                "multiple-app-role-assignments",
            ),
            (
                Value::multi(vec![role(None, None, Some("a")), Value::str("b")]),
                "multiple-app-role-assignments",
            ),
        ];
        for (arg, want) in cases {
            assert_eq!(
                run(single_app_role_assignment, arg.clone()),
                want,
                "{arg:?}"
            );
        }
    }

    #[test]
    fn complex() {
        let cases: Vec<(Value<'static>, &str)> = vec![
            (
                Value::multi(vec![role(Some("1"), Some("Admin"), Some("Administrator"))]),
                r#"["{\"id\":\"1\",\"value\":\"Admin\",\"displayName\":\"Administrator\"}"]"#,
            ),
            (
                Value::multi(vec![Value::str("Reader"), role(None, Some("v\"q"), None)]),
                r#"["{\"id\":null,\"value\":null,\"displayName\":\"Reader\"}", "{\"id\":null,\"value\":\"v\\\"q\",\"displayName\":null}"]"#,
            ),
            (Value::Null, "Null"),
        ];
        for (arg, want) in cases {
            assert_eq!(
                run(app_role_assignments_complex, arg.clone()),
                want,
                "{arg:?}"
            );
        }
    }
}
