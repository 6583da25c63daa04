//! Checker diagnostics as data (`tests/data/lints/*.toml`): for each expression, the exact
//! list of codes `diagnose` reports, in source order.
//!
//! A code written `code:0` is a hint that may be ignored in the comparison (hints such as
//! `comparison-outside-condition` are noisy by design); every other code must match exactly.

use std::path::Path;

use mapexpr::{CompileOptions, Schema, Severity};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Repeat {
    text: String,
    times: usize,
    tail: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    expr: Option<String>,
    expr_repeat: Option<Repeat>,
    #[serde(default)]
    schema: Option<toml::Table>,
    codes: Vec<String>,
    help: Option<String>,
}

fn schema_of(t: &toml::Table) -> Schema {
    let mut s = Schema::new();
    for (name, ty) in t {
        let ty = ty.as_str().unwrap_or("String");
        let (ty, required) = match ty.strip_suffix('!') {
            Some(t) => (t, true),
            None => (ty, false),
        };
        let (ty, multi) = match ty.strip_suffix("[]") {
            Some(t) => (t, true),
            None => (ty, false),
        };
        s.add(name, ty, multi, required);
    }
    s
}

#[test]
fn lint_corpus() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lints/lints.toml");
    let file: File =
        toml::from_str(&std::fs::read_to_string(path).expect("lints file")).expect("valid TOML");
    let mut failures = Vec::new();
    for c in &file.case {
        let expr = match (&c.expr, &c.expr_repeat) {
            (Some(e), _) => e.clone(),
            (None, Some(r)) => format!("{}{}", r.text.repeat(r.times), r.tail),
            (None, None) => panic!("{}: no expression", c.name),
        };
        let schema = c.schema.as_ref().map(schema_of);
        let opts = CompileOptions {
            schema: schema.as_ref(),
            ..Default::default()
        };
        let diags = mapexpr::diagnose(&expr, &opts);
        let optional: Vec<&str> = c
            .codes
            .iter()
            .filter_map(|x| x.strip_suffix(":0"))
            .collect();
        let want: Vec<&str> = c
            .codes
            .iter()
            .filter(|x| !x.ends_with(":0"))
            .map(String::as_str)
            .collect();
        let got: Vec<&str> = diags
            .iter()
            .map(|d| d.code.as_str())
            .filter(|code| !optional.contains(code))
            // Hints the case does not name are tolerated; warnings and errors are not.
            .zip(diags.iter())
            .filter(|(code, d)| d.severity != Severity::Hint || want.contains(code))
            .map(|(code, _)| code)
            .collect();
        if got != want {
            failures.push(format!(
                "{}: `{}`\n    expected {want:?}\n    got      {got:?}",
                c.name,
                truncate(&expr)
            ));
        }
        if let Some(h) = &c.help {
            if !diags.iter().any(|d| d.help.as_deref() == Some(h.as_str())) {
                failures.push(format!(
                    "{}: no diagnostic with help `{h}`: {diags:#?}",
                    c.name
                ));
            }
        }
        for d in &diags {
            assert!(
                d.span.start <= d.span.end && d.span.end as usize <= expr.len(),
                "{}: span out of range",
                c.name
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} lint cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
