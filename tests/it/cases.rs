//! The case corpus (`tests/data/cases/*.toml`) and the conformance cases
//! (`tests/data/conformance/reference.jsonl`), run through the VM and, with the `reference`
//! feature, through the reference evaluator as well; `harness::run` turns any disagreement
//! between the two engines into a failure.

use std::path::Path;

use serde::Deserialize;

use crate::harness::{Got, RunOptions, expected_from_json, run};

#[derive(Deserialize)]
struct CaseFile {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    expr: String,
    #[serde(default)]
    attrs: Option<toml::Table>,
    output: Option<toml::Value>,
    #[serde(default)]
    null: bool,
    #[serde(default)]
    ignored: bool,
    error: Option<String>,
    now: Option<String>,
    seed: Option<u64>,
    #[serde(default)]
    taken: Vec<String>,
    #[allow(dead_code)]
    source: Option<String>,
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::json!(f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

fn expectation(c: &Case) -> Got {
    if let Some(e) = &c.error {
        return Got::Error(e.clone());
    }
    if c.ignored {
        return Got::Ignored;
    }
    if c.null {
        return Got::Null;
    }
    match &c.output {
        Some(v) => expected_from_json(&toml_to_json(v)),
        None => panic!("case {} has no expectation", c.name),
    }
}

#[test]
fn case_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/cases exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files in {}", dir.display());
    let mut failures = Vec::new();
    let mut total = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let parsed: CaseFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut names = std::collections::HashSet::new();
        for c in parsed.case {
            assert!(
                names.insert(c.name.clone()),
                "{}: duplicate case name {}",
                file.display(),
                c.name
            );
            total += 1;
            let record = serde_json::Value::Object(match &c.attrs {
                Some(t) => t
                    .iter()
                    .map(|(k, v)| (k.clone(), toml_to_json(v)))
                    .collect(),
                None => Default::default(),
            });
            let opts = RunOptions {
                now: c.now.as_deref(),
                seed: c.seed,
                taken: &c.taken,
            };
            let got = run(&c.expr, &record, &opts);
            let want = expectation(&c);
            if got != want {
                failures.push(format!(
                    "{}::{}: `{}`\n    expected {want:?}\n    got      {got:?}",
                    file.file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    c.name,
                    c.expr
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct Conformance {
    id: String,
    expr: String,
    #[serde(default)]
    input: serde_json::Value,
    #[serde(default)]
    expect: serde_json::Value,
    expect_kind: String,
    error: Option<String>,
    now: Option<String>,
    taken: Option<Vec<String>>,
    seed: Option<u64>,
}

fn conformance_cases() -> Vec<Conformance> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/reference.jsonl");
    let text = std::fs::read_to_string(path).expect("conformance file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("bad conformance line {l}: {e}"))
        })
        .collect()
}

/// Every conformance case whose functions this build supports must pass; cases that need a
/// function this build reports as `not-yet-supported` are listed, and the test fails loudly if
/// one of them starts passing without being removed from the list (tvix's notyetpassing).
#[test]
fn conformance_reference() {
    let mut failures = Vec::new();
    let mut pending = Vec::new();
    let mut passed = 0;
    for c in conformance_cases() {
        let record = if c.input.is_null() {
            serde_json::json!({})
        } else {
            c.input.clone()
        };
        let taken = c.taken.clone().unwrap_or_default();
        let opts = RunOptions {
            now: c.now.as_deref(),
            seed: c.seed,
            taken: &taken,
        };
        if c.expect_kind == "nondeterministic" {
            let got = run(&c.expr, &record, &opts);
            if got == Got::Error("not-yet-supported".into()) {
                pending.push(c.id.clone());
            } else {
                nondeterministic(&c.id, &c.expr, &record);
                passed += 1;
            }
            continue;
        }
        let got = run(&c.expr, &record, &opts);
        if got == Got::Error("not-yet-supported".into()) {
            pending.push(c.id.clone());
            continue;
        }
        let want = match c.expect_kind.as_str() {
            "value" => expected_from_json(&c.expect),
            "ignore-flow" => Got::Ignored,
            "error" => Got::Error(c.error.clone().unwrap_or_default()),
            other => panic!("unknown expect_kind {other}"),
        };
        if got == want {
            passed += 1;
        } else {
            failures.push(format!(
                "{}: `{}`\n    expected {want:?}\n    got      {got:?}",
                c.id, c.expr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} conformance cases failed ({passed} passed):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "conformance: {passed} passed, {} pending functions of later issues: {pending:?}",
        pending.len()
    );
}

/// Property checks for the random cases, over several seeds.
fn nondeterministic(id: &str, expr: &str, record: &serde_json::Value) {
    let guid =
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .expect("valid regex");
    for seed in 0..20u64 {
        let opts = RunOptions {
            seed: Some(seed),
            ..Default::default()
        };
        let Got::Text(s) = run(expr, record, &opts) else {
            panic!("{id}: expected text for seed {seed}");
        };
        if expr.starts_with("Guid") {
            assert!(guid.is_match(&s), "{id}: `{s}` is not a lower-case v4 GUID");
        } else if expr == "RandomString(6,3,0,0,3)" {
            assert_eq!(s.chars().count(), 6, "{id}: {s}");
            assert!(
                s.chars().filter(char::is_ascii_digit).count() >= 3,
                "{id}: {s}"
            );
            assert!(
                s.chars().filter(char::is_ascii_lowercase).count() >= 3,
                "{id}: {s}"
            );
        } else if expr == "RandomString(10,2,2,2,1,\"?,\")" {
            const SPECIAL: &str = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/";
            assert_eq!(s.chars().count(), 10, "{id}: {s}");
            assert!(
                s.chars().filter(char::is_ascii_digit).count() >= 2,
                "{id}: {s}"
            );
            assert!(
                s.chars().filter(|c| SPECIAL.contains(*c)).count() >= 2,
                "{id}: {s}"
            );
            assert!(
                s.chars().filter(char::is_ascii_uppercase).count() >= 2,
                "{id}: {s}"
            );
            assert!(
                s.chars().filter(char::is_ascii_lowercase).count() >= 1,
                "{id}: {s}"
            );
            assert!(!s.contains('?') && !s.contains(','), "{id}: {s}");
        } else {
            panic!("{id}: no property known for `{expr}`");
        }
    }
}
