//! Shared helpers: run one expression the way the CLI does and render the outcome the way
//! the conformance files write expectations.

use mapexpr::functions::generate::SeededRng;
use mapexpr::{
    CompileOptions, DateTime, EvalContext, FixedClock, JsonRecord, Limits, Outcome, TakenSet, Value,
};

/// What an expression produced, in the conformance files' string form.
#[derive(Clone, Debug, PartialEq)]
pub enum Got {
    /// A single value rendered as text (Booleans `True`/`False`, integers decimal).
    Text(String),
    /// A multi-valued result.
    List(Vec<String>),
    /// No value.
    Null,
    /// IgnoreFlowIfNullOrEmpty fired.
    Ignored,
    /// A parse, check or run-time error code.
    Error(String),
}

/// Options of one run.
#[derive(Default)]
pub struct RunOptions<'a> {
    pub now: Option<&'a str>,
    pub seed: Option<u64>,
    pub taken: &'a [String],
}

/// Parses an RFC 3339 UTC instant like `2021-08-25T17:41:18Z` (test data only).
pub fn instant(s: &str) -> DateTime {
    mapexpr::datetime::parse_rfc3339(s).unwrap_or_else(|| panic!("bad `now` {s}"))
}

/// Compiles and evaluates `expr` against a JSON record with the VM and, when the
/// `reference` feature is on, with the reference evaluator too. When the two engines
/// disagree (value, outcome, error code or error span) the result is an error naming both,
/// so every runner built on `run` fails on a disagreement.
pub fn run(expr: &str, record: &serde_json::Value, opts: &RunOptions<'_>) -> Got {
    let (vm, vm_span) = run_vm(expr, record, opts);
    #[cfg(feature = "reference")]
    {
        if let Some((reference, ref_span)) = run_reference(expr, record, opts) {
            if reference != vm || ref_span != vm_span {
                return Got::Error(format!(
                    "engines disagree: vm {vm:?} at {vm_span:?}, reference {reference:?} at {ref_span:?}"
                ));
            }
        }
    }
    let _ = vm_span;
    vm
}

/// The VM's result and, for a run-time error, its span.
pub fn run_vm(
    expr: &str,
    record: &serde_json::Value,
    opts: &RunOptions<'_>,
) -> (Got, Option<(u32, u32)>) {
    let program = match mapexpr::compile_with(expr, &CompileOptions::default()) {
        Ok(c) => c.program,
        Err(e) => {
            return (
                Got::Error(e.code().map_or("unknown".into(), |c| c.as_str().to_owned())),
                None,
            );
        }
    };
    let record = match JsonRecord::from_json(record) {
        Ok(r) => r,
        Err(e) => return (Got::Error(e.code.as_str().to_owned()), None),
    };
    let clock = FixedClock(opts.now.map_or(DateTime::MIN, instant));
    let mut rng = SeededRng::from_seed(opts.seed.unwrap_or(0));
    let oracle: TakenSet = opts.taken.iter().collect();
    let limits = Limits::default();
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    match program.eval(&record, &mut ctx) {
        Ok(Outcome::Ignore) => (Got::Ignored, None),
        Ok(Outcome::Value(v)) => (render(&v), None),
        Err(e) => (
            Got::Error(e.code.as_str().to_owned()),
            Some((e.span.start, e.span.end)),
        ),
    }
}

/// The reference evaluator's result for an expression that compiles (`None` when it does
/// not: compile errors are the VM path's business, the reference needs a checked tree).
#[cfg(feature = "reference")]
pub fn run_reference(
    expr: &str,
    record: &serde_json::Value,
    opts: &RunOptions<'_>,
) -> Option<(Got, Option<(u32, u32)>)> {
    mapexpr::compile_with(expr, &CompileOptions::default()).ok()?;
    let parsed = mapexpr::syntax::parse(expr).ok()?;
    let record = match JsonRecord::from_json(record) {
        Ok(r) => r,
        Err(e) => return Some((Got::Error(e.code.as_str().to_owned()), None)),
    };
    let clock = FixedClock(opts.now.map_or(DateTime::MIN, instant));
    let mut rng = SeededRng::from_seed(opts.seed.unwrap_or(0));
    let oracle: TakenSet = opts.taken.iter().collect();
    let limits = Limits::default();
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    Some(
        match mapexpr::reference::eval(&parsed.expr, &record, &mut ctx) {
            Ok(Outcome::Ignore) => (Got::Ignored, None),
            Ok(Outcome::Value(v)) => (render(&v), None),
            Err(e) => (
                Got::Error(e.code.as_str().to_owned()),
                Some((e.span.start, e.span.end)),
            ),
        },
    )
}

/// Renders a value the way expectations are written.
pub fn render(v: &Value<'_>) -> Got {
    match v {
        Value::Null => Got::Null,
        Value::Multi(m) => Got::List(m.iter().map(Value::render_scalar).collect()),
        other => Got::Text(other.render_scalar()),
    }
}

/// Converts a JSON expectation (`"x"`, `["a"]`, `true`, `3`, `null`) to the string form.
pub fn expected_from_json(v: &serde_json::Value) -> Got {
    use serde_json::Value as J;
    match v {
        J::Null => Got::Null,
        J::Bool(b) => Got::Text(if *b { "True" } else { "False" }.to_owned()),
        J::Number(n) => Got::Text(n.to_string()),
        J::String(s) => Got::Text(s.clone()),
        J::Array(a) => Got::List(
            a.iter()
                .map(|x| match expected_from_json(x) {
                    Got::Text(t) => t,
                    other => format!("{other:?}"),
                })
                .collect(),
        ),
        J::Object(_) => Got::Error("object expectation".into()),
    }
}
