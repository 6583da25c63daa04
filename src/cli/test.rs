//! `mapexpr test`: run expression test cases and print a pass/fail table.
//!
//! A case file is JSON: an array of cases, `{"mappings": "set.json", "now": "…", "cases": […]}`
//! (file-wide defaults), or a single case object. A case is either mapexpr's shape
//!
//! ```json
//! { "name": "upn-100", "expression": "ToLower([a])",        // or "target" (+ "mappings")
//!   "input": {"a": "X"},
//!   "expected": "x" }                  // or "expectedError": "invalid-date", "expectIgnored": true
//! ```
//!
//! with optional `mappings` (a mapping-set file, relative to the case file), `mode`
//! (`create`/`update`) and `now`, or the shape of the community's Pester-based HR provisioning
//! test harness: `TargetAttributeName`, `Description`, `ExpectedResult`, `Expression`,
//! `InputAttributes`. A Pester case without `Expression` evaluates the mapping of
//! `TargetAttributeName` in the mapping set (`--mappings` or the file's `mappings`).
//!
//! Comparison: a JSON `expected` matches the output value's JSON form (text, number,
//! Boolean, array of texts, `null` for Null); expected text also matches the rendering of a
//! non-text scalar (`"True"`, `"42"`, a date's `M/d/yyyy h:mm:ss tt`). A Pester
//! `ExpectedResult` text is compared with the rendered result, where Null and an ignored
//! attribute render as `""`. Randomness is seeded (`--seed`, default 0) so Guid/RandomString
//! cases are reproducible; `Now()` is the system clock unless `--now` or the case's `now`.
//!
//! Exit status: 0 when every case passes, 1 when any fails, 2 when a file cannot be read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mapexpr::functions::generate::SeededRng;
use mapexpr::mapping::{CompiledSet, MappingSet, Mode, value_to_json};
use mapexpr::{
    CompileOptions, DateTime, EvalContext, FixedClock, JsonRecord, Limits, Outcome, TakenSet, Value,
};
use serde_json::{Value as Json, json};

use super::Format;

/// Arguments of `test`.
#[derive(clap::Args)]
pub struct Args {
    /// Case files (JSON).
    #[arg(required = true)]
    cases: Vec<PathBuf>,
    /// The mapping set for cases that name a target attribute without an expression.
    #[arg(long)]
    mappings: Option<PathBuf>,
    /// With an exported schema: the object mapping (name, source or target object name).
    #[arg(long)]
    object: Option<String>,
    /// The instant `Now()` returns (RFC 3339); default the system clock.
    #[arg(long)]
    now: Option<String>,
    /// Seed for Guid and RandomString.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// One case, normalized from either shape.
struct Case {
    name: String,
    what: What,
    input: Json,
    expect: Expect,
    mode: Mode,
    now: Option<String>,
}

enum What {
    Expression(String),
    Target {
        target: String,
        mappings: Option<PathBuf>,
    },
}

enum Expect {
    Value(Json),
    /// Pester's `ExpectedResult`: compared with the rendered text.
    Text(String),
    Ignored,
    Error(String),
}

/// A case's result.
struct Row {
    file: String,
    name: String,
    pass: bool,
    detail: String,
}

/// Runs `test`.
pub fn run(a: Args) -> i32 {
    let mut rows = Vec::new();
    let mut sets: HashMap<PathBuf, Result<CompiledSet, String>> = HashMap::new();
    for file in &a.cases {
        let cases = match super::read_text(file).and_then(|t| read_cases(&t, file)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: `{}`: {e}", file.display());
                return 2;
            }
        };
        for case in cases {
            let (pass, detail) = match run_case(&case, &a, &mut sets) {
                Ok(()) => (true, String::new()),
                Err(why) => (false, why),
            };
            rows.push(Row {
                file: file.display().to_string(),
                name: case.name,
                pass,
                detail,
            });
        }
    }
    let failed = rows.iter().filter(|r| !r.pass).count();
    match a.format {
        Format::Human => {
            let width = rows
                .iter()
                .map(|r| r.name.chars().count())
                .max()
                .unwrap_or(0);
            for r in &rows {
                let status = if r.pass { "PASS" } else { "FAIL" };
                let row = format!("{status}  {:width$}  {}", r.name, r.detail);
                outln!("{}", row.trim_end());
            }
            outln!("{} passed, {failed} failed", rows.len() - failed);
        }
        _ => {
            let cases: Vec<Json> = rows
                .iter()
                .map(|r| json!({ "file": r.file, "name": r.name, "pass": r.pass, "detail": r.detail }))
                .collect();
            outln!(
                "{}",
                json!({ "passed": rows.len() - failed, "failed": failed, "cases": cases })
            );
        }
    }
    if failed > 0 { 1 } else { 0 }
}

/// Reads a case file in any accepted shape.
fn read_cases(text: &str, file: &Path) -> Result<Vec<Case>, String> {
    let v: Json = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let dir = file.parent().unwrap_or(Path::new(""));
    let (items, defaults): (Vec<Json>, Option<&serde_json::Map<String, Json>>) = match &v {
        Json::Array(a) => (a.clone(), None),
        Json::Object(o) if o.contains_key("cases") => match o.get("cases") {
            Some(Json::Array(a)) => (a.clone(), Some(o)),
            _ => return Err("`cases` must be an array".to_owned()),
        },
        Json::Object(_) => (vec![v.clone()], None),
        _ => {
            return Err(
                "a case file must hold a case, an array of cases or {\"cases\": […]}".to_owned(),
            );
        }
    };
    let default_str = |k: &str| {
        defaults
            .and_then(|d| d.get(k))
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let case = item
                .as_object()
                .ok_or_else(|| format!("case {} is not a JSON object", i + 1))?;
            normalize(case, i, dir, default_str("mappings"), default_str("now"))
                .map_err(|e| format!("case {}: {e}", i + 1))
        })
        .collect()
}

fn normalize(
    c: &serde_json::Map<String, Json>,
    i: usize,
    dir: &Path,
    default_mappings: Option<String>,
    default_now: Option<String>,
) -> Result<Case, String> {
    let s = |k: &str| c.get(k).and_then(Json::as_str).map(str::to_owned);
    let mappings = s("mappings").or(default_mappings).map(|p| dir.join(p));
    if c.contains_key("TargetAttributeName")
        || c.contains_key("ExpectedResult")
        || c.contains_key("InputAttributes")
    {
        let target = s("TargetAttributeName");
        let name = s("Description")
            .filter(|d| !d.is_empty())
            .or(target.clone())
            .unwrap_or_else(|| format!("case-{}", i + 1));
        let what = match (s("Expression").filter(|e| !e.is_empty()), target) {
            (Some(e), _) => What::Expression(e),
            (None, Some(target)) => What::Target { target, mappings },
            (None, None) => {
                return Err("a Pester case needs `Expression` or `TargetAttributeName`".to_owned());
            }
        };
        let expect = match c.get("ExpectedResult") {
            Some(Json::String(t)) => Expect::Text(t.clone()),
            Some(Json::Null) | None => Expect::Text(String::new()),
            Some(other) => Expect::Value(other.clone()),
        };
        let input = c
            .get("InputAttributes")
            .cloned()
            .unwrap_or_else(|| json!({}));
        return Ok(Case {
            name,
            what,
            input,
            expect,
            mode: Mode::Create,
            now: default_now,
        });
    }
    let name = s("name").unwrap_or_else(|| format!("case-{}", i + 1));
    let what = match (s("expression"), s("target")) {
        (Some(e), None) => What::Expression(e),
        (None, Some(target)) => What::Target { target, mappings },
        _ => return Err("give exactly one of `expression` or `target`".to_owned()),
    };
    let expect = match (
        c.get("expected"),
        s("expectedError"),
        c.get("expectIgnored").and_then(Json::as_bool),
    ) {
        (Some(v), None, None | Some(false)) => Expect::Value(v.clone()),
        (None, Some(code), None | Some(false)) => Expect::Error(code),
        (None, None, Some(true)) => Expect::Ignored,
        _ => {
            return Err(
                "give exactly one of `expected`, `expectedError` or `expectIgnored: true`"
                    .to_owned(),
            );
        }
    };
    let mode = match s("mode").as_deref() {
        None | Some("create") => Mode::Create,
        Some("update") => Mode::Update,
        Some(m) => return Err(format!("`mode` is `{m}`; expected `create` or `update`")),
    };
    let input = c.get("input").cloned().unwrap_or_else(|| json!({}));
    Ok(Case {
        name,
        what,
        input,
        expect,
        mode,
        now: s("now").or(default_now),
    })
}

/// What a case produced.
enum Got {
    Value(Json, String),
    Ignored,
    Error(String, String),
}

fn run_case(
    case: &Case,
    a: &Args,
    sets: &mut HashMap<PathBuf, Result<CompiledSet, String>>,
) -> Result<(), String> {
    let record =
        JsonRecord::from_json(&case.input).map_err(|e| format!("bad input: {}", e.message))?;
    let now = match case.now.as_ref().or(a.now.as_ref()) {
        Some(t) => mapexpr::datetime::parse_rfc3339(t)
            .ok_or_else(|| format!("`now` `{t}` is not an RFC 3339 instant"))?,
        None => DateTime::now_utc(),
    };
    let clock = FixedClock(now);
    let mut rng = SeededRng::from_seed(a.seed);
    let (oracle, limits) = (TakenSet::new(), Limits::default());
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    let got = match &case.what {
        What::Expression(src) => match mapexpr::compile_with(src, &CompileOptions::default()) {
            Err(e) => {
                let d = e.diagnostics.iter().find(|d| d.is_error());
                Got::Error(
                    d.map_or("", |d| d.code.as_str()).to_owned(),
                    d.map_or(String::new(), |d| d.message.clone()),
                )
            }
            Ok(c) => match c.program.eval(&record, &mut ctx) {
                Ok(Outcome::Ignore) => Got::Ignored,
                Ok(Outcome::Value(v)) => Got::Value(value_to_json(&v), rendered(&v)),
                Err(e) => Got::Error(e.code.as_str().to_owned(), e.message),
            },
        },
        What::Target { target, mappings } => {
            let path = mappings.clone().or_else(|| a.mappings.clone()).ok_or(
                "the case names a target but no mapping set is given (--mappings or `mappings`)",
            )?;
            let set = sets
                .entry(path.clone())
                .or_insert_with(|| load_set(&path, a.object.as_deref()));
            let set = set.as_ref().map_err(Clone::clone)?;
            let slots = set.bind(&record);
            let bound = mapexpr::SlotRecord::new(&slots);
            match set.apply_target(target, &bound, case.mode, &mut ctx) {
                None => return Err(format!("no mapping writes `{target}`")),
                Some(Ok(None)) => Got::Ignored,
                Some(Ok(Some(v))) => Got::Value(value_to_json(&v), rendered(&v)),
                Some(Err(e)) => Got::Error(e.code.as_str().to_owned(), e.message),
            }
        }
    };
    compare(&case.expect, &got)
}

fn load_set(path: &Path, object: Option<&str>) -> Result<CompiledSet, String> {
    let set = MappingSet::load(&super::read_text(path)?, object)
        .map_err(|e| format!("`{}`: {e}", path.display()))?;
    CompiledSet::compile(&set, &CompileOptions::default())
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// The text a Pester harness compares: scalars rendered, lists joined by `,`, Null `""`.
fn rendered(v: &Value<'_>) -> String {
    v.render_scalar()
}

fn compare(expect: &Expect, got: &Got) -> Result<(), String> {
    let show = |g: &Got| match g {
        Got::Value(j, _) => j.to_string(),
        Got::Ignored => "(ignored)".to_owned(),
        Got::Error(code, msg) => format!("error {code}: {msg}"),
    };
    let ok = match (expect, got) {
        (Expect::Value(want), Got::Value(j, text)) => {
            want == j
                || (want.is_string()
                    && !j.is_array()
                    && !j.is_null()
                    && want.as_str() == Some(text.as_str()))
        }
        (Expect::Text(want), Got::Value(_, text)) => want == text,
        (Expect::Text(want), Got::Ignored) => want.is_empty(),
        (Expect::Ignored, Got::Ignored) => true,
        (Expect::Error(want), Got::Error(code, _)) => want == code,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let want = match expect {
        Expect::Value(j) => j.to_string(),
        Expect::Text(t) => Json::String(t.clone()).to_string(),
        Expect::Ignored => "(ignored)".to_owned(),
        Expect::Error(c) => format!("error {c}"),
    };
    Err(format!("expected {want}, got {}", show(got)))
}
