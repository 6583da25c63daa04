//! `mapexpr eval`: evaluate one expression against a record.

use std::path::PathBuf;

use mapexpr::functions::generate::SeededRng;
use mapexpr::{
    CompileOptions, Diagnostic, EvalContext, FixedClock, JsonRecord, Outcome, SystemClock,
    TakenSet, Value,
};
use serde_json::{Value as Json, json};

use super::Format;

/// Arguments of `eval`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    expression: super::ExprArgs,
    /// The record as JSON text (`{"givenName": "John"}`); default `{}`.
    #[arg(long)]
    record: Option<String>,
    /// Read the record from a JSON file.
    #[arg(long, conflicts_with = "record")]
    input: Option<PathBuf>,
    /// The instant `Now()` returns (RFC 3339, e.g. 2021-08-25T17:41:18Z).
    #[arg(long)]
    now: Option<String>,
    /// Seed for Guid and RandomString (same seed, same output).
    #[arg(long)]
    seed: Option<u64>,
    /// A value that already exists in the target (SelectUniqueValue); repeatable.
    #[arg(long)]
    taken: Vec<String>,
    /// A file of taken values, one per line.
    #[arg(long)]
    taken_file: Option<PathBuf>,
    /// Source attribute schema (JSON).
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    limits: super::LimitArgs,
}

/// How the evaluation ended, for every output format.
enum End {
    /// Parse or check errors (exit 2).
    Compile(Vec<Diagnostic>),
    /// The record or an option was unusable (exit 1).
    Input(String),
    /// Evaluation failed (exit 1).
    Eval(mapexpr::EvalError),
    /// A result (exit 0).
    Done(Outcome<'static>),
}

/// Runs `eval`: exit 0 for a value or ignored, 1 for an evaluation error, 2 for a
/// parse/check error.
pub fn run(a: Args) -> i32 {
    let format = a.format;
    let (src, origin) = match a.expression.source() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let (end, warnings, parsed) = evaluate(&a, &src);
    if format != Format::Graph {
        super::print_diagnostics(&warnings, &src, &origin);
    }
    match format {
        Format::Human => human(&end, &src, &origin),
        Format::Json => outln!("{}", json_output(&end)),
        Format::Graph => outln!("{}", graph_output(&end, parsed.as_ref(), &src)),
    }
    match end {
        End::Done(_) => 0,
        End::Input(_) | End::Eval(_) => 1,
        End::Compile(_) => 2,
    }
}

fn evaluate(a: &Args, src: &str) -> (End, Vec<Diagnostic>, Option<mapexpr::syntax::ast::Expr>) {
    let schema = match super::load_schema(a.schema.as_deref()) {
        Ok(s) => s,
        Err(e) => return (End::Input(e), Vec::new(), None),
    };
    let parsed = mapexpr::syntax::parse_with(src, &a.limits.limits())
        .ok()
        .map(|p| p.expr);
    let opts = CompileOptions {
        schema: schema.as_ref(),
        limits: a.limits.limits(),
    };
    let compiled = match mapexpr::compile_with(src, &opts) {
        Ok(c) => c,
        Err(e) => return (End::Compile(e.diagnostics), Vec::new(), parsed),
    };
    let record_text = match (&a.record, &a.input) {
        (Some(r), _) => r.clone(),
        (None, Some(path)) => match super::read_text(path) {
            Ok(t) => t,
            Err(e) => return (End::Input(e), compiled.warnings, parsed),
        },
        (None, None) => "{}".to_owned(),
    };
    let record = match JsonRecord::from_json_str(&record_text) {
        Ok(r) => r,
        Err(e) => return (End::Input(e.message), compiled.warnings, parsed),
    };
    let clock: Box<dyn mapexpr::Clock> = match &a.now {
        Some(t) => match mapexpr::datetime::parse_rfc3339(t) {
            Some(d) => Box::new(FixedClock(d)),
            None => {
                return (
                    End::Input(format!("--now `{t}` is not an RFC 3339 instant")),
                    compiled.warnings,
                    parsed,
                );
            }
        },
        None => Box::new(SystemClock),
    };
    let mut oracle: TakenSet = a.taken.iter().collect();
    if let Some(path) = &a.taken_file {
        match super::read_text(path) {
            Ok(t) => t
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.is_empty())
                .for_each(|l| oracle.insert(l)),
            Err(e) => return (End::Input(e), compiled.warnings, parsed),
        }
    }
    let mut rng = match a.seed {
        Some(s) => SeededRng::from_seed(s),
        None => SeededRng::from_entropy(),
    };
    let limits = a.limits.limits();
    let mut ctx = EvalContext::new(clock.as_ref(), &mut rng, &oracle, &limits);
    let mut warnings = compiled.warnings;
    // Attributes the record has only in another casing: the value is Null, say why.
    for name in compiled.program.attributes() {
        if mapexpr::Record::get(&record, name).is_null() {
            if let Some(other) = mapexpr::Record::find_case_insensitive(&record, name) {
                if let Some(span) = attr_span(src, name) {
                    warnings.push(
                        Diagnostic::warning(
                            mapexpr::ErrorCode::AttributeCaseMismatch,
                            span,
                            format!("the record has no `[{name}]`, only `[{other}]`; names are case-sensitive"),
                        )
                        .with_help(format!("did you mean `[{other}]`?")),
                    );
                }
            }
        }
    }
    let end = match compiled.program.eval(&record, &mut ctx) {
        Ok(o) => End::Done(o.into_owned()),
        Err(e) => End::Eval(e),
    };
    (end, warnings, parsed)
}

fn attr_span(src: &str, name: &str) -> Option<mapexpr::syntax::Span> {
    let needle = format!("[{name}]");
    src.find(&needle)
        .map(|i| mapexpr::syntax::Span::new(i, i + needle.len()))
}

/// The JSON form of a value: strings, integers, Booleans, lists of strings, null.
pub fn value_json(v: &Value<'_>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => json!(i),
        Value::Multi(m) => Json::Array(m.iter().map(|x| Json::String(x.render_scalar())).collect()),
        other => Json::String(other.render_scalar()),
    }
}

fn error_json(code: &str, message: &str, span: Option<mapexpr::syntax::Span>) -> Json {
    json!({ "error": { "code": code, "message": message, "span": span.map(|s| [s.start, s.end]) } })
}

fn json_output(end: &End) -> Json {
    match end {
        End::Done(Outcome::Value(v)) => json!({ "value": value_json(v) }),
        End::Done(Outcome::Ignore) => json!({ "ignored": true }),
        End::Eval(e) => error_json(e.code.as_str(), &e.message, Some(e.span)),
        End::Input(m) => error_json("invalid-input", m, None),
        End::Compile(diags) => match diags.iter().find(|d| d.is_error()) {
            Some(d) => error_json(d.code.as_str(), &d.message, Some(d.span)),
            None => error_json("unexpected-token", "compilation failed", None),
        },
    }
}

fn human(end: &End, src: &str, origin: &str) {
    match end {
        End::Done(Outcome::Value(Value::Null)) => outln!("(no value)"),
        End::Done(Outcome::Value(Value::Multi(m))) => {
            for v in m.iter() {
                outln!("{}", v.render_scalar());
            }
        }
        End::Done(Outcome::Value(v)) => outln!("{}", v.render_scalar()),
        End::Done(Outcome::Ignore) => {
            outln!("(ignored: IgnoreFlowIfNullOrEmpty leaves the attribute out)")
        }
        End::Input(m) => eprintln!("error[invalid-input]: {m}"),
        End::Eval(e) => {
            let d = Diagnostic::error(e.code, e.span, e.message.clone());
            eprint!("{}", d.render(src, origin));
        }
        End::Compile(diags) => super::print_diagnostics(diags, src, origin),
    }
}

/// Graph's `parseExpressionResponse` (spec §7.1).
fn graph_output(end: &End, parsed: Option<&mapexpr::syntax::ast::Expr>, src: &str) -> Json {
    let tree = parsed.map(mapexpr::graph::tree);
    let graph_error =
        |code: &str, message: &str, span: Option<mapexpr::syntax::Span>, details: Vec<Json>| {
            json!({
                "code": code,
                "message": message,
                "target": span.map(|s| s.text(src).to_owned()),
                "details": details,
                "innerError": null,
            })
        };
    match end {
        End::Compile(diags) => {
            let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
            let details: Vec<Json> = errors
                .iter()
                .skip(1)
                .map(|d| json!({ "code": d.code.as_str(), "message": d.message, "target": d.span.text(src) }))
                .collect();
            let first = errors.first();
            json!({
                "parsingSucceeded": parsed.is_some(),
                "parsedExpression": tree,
                "evaluationSucceeded": false,
                "evaluationResult": null,
                "evaluationOutcome": null,
                "error": first.map(|d| graph_error(d.code.as_str(), &d.message, Some(d.span), details)),
            })
        }
        End::Input(m) => json!({
            "parsingSucceeded": true,
            "parsedExpression": tree,
            "evaluationSucceeded": false,
            "evaluationResult": null,
            "evaluationOutcome": null,
            "error": graph_error("invalid-input", m, None, Vec::new()),
        }),
        End::Eval(e) => json!({
            "parsingSucceeded": true,
            "parsedExpression": tree,
            "evaluationSucceeded": false,
            "evaluationResult": null,
            "evaluationOutcome": null,
            "error": graph_error(e.code.as_str(), &e.message, Some(e.span), Vec::new()),
        }),
        End::Done(outcome) => {
            let (result, kind): (Vec<Json>, &str) = match outcome {
                Outcome::Ignore => (Vec::new(), "ignore"),
                Outcome::Value(Value::Null) => (Vec::new(), "null"),
                Outcome::Value(Value::Multi(m)) => (
                    m.iter().map(|v| Json::String(v.render_scalar())).collect(),
                    "value",
                ),
                Outcome::Value(v) => (vec![Json::String(v.render_scalar())], "value"),
            };
            json!({
                "parsingSucceeded": true,
                "parsedExpression": tree,
                "evaluationSucceeded": true,
                "evaluationResult": result,
                "evaluationOutcome": kind,
                "error": null,
            })
        }
    }
}
