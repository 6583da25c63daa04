//! Named regressions found by proptest and the fuzz targets. Each input is committed under
//! `tests/data/fuzz/<name>.expr` (with `<name>.json` for a record) so the fuzzers' corpora
//! and this file stay in step; each test runs the input through the VM and, with
//! `--features reference`, the reference evaluator (`harness::run` fails on a disagreement).

use std::path::Path;

use crate::harness::{Got, RunOptions, run, run_vm};

fn input(name: &str) -> (String, serde_json::Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let expr = std::fs::read_to_string(dir.join(format!("{name}.expr")))
        .unwrap_or_else(|e| panic!("tests/data/fuzz/{name}.expr: {e}"));
    let record = match std::fs::read_to_string(dir.join(format!("{name}.json"))) {
        Ok(t) => {
            serde_json::from_str(&t).unwrap_or_else(|e| panic!("tests/data/fuzz/{name}.json: {e}"))
        }
        Err(_) => serde_json::json!({}),
    };
    (expr.trim_end_matches('\n').to_owned(), record)
}

/// Runs a committed input through both engines and checks the outcome (and the error span,
/// as source text, for errors).
fn check(name: &str, want: Got, span_text: Option<&str>) {
    let (expr, record) = input(name);
    let opts = RunOptions {
        seed: Some(3),
        ..Default::default()
    };
    let got = run(&expr, &record, &opts);
    assert_eq!(got, want, "{name}: `{expr}`");
    if let Some(t) = span_text {
        let (_, span) = run_vm(&expr, &record, &opts);
        let (s, e) = span.unwrap_or_else(|| panic!("{name}: no span"));
        assert_eq!(&expr[s as usize..e as usize], t, "{name}: span");
    }
}

/// proptest: a Switch whose source is multi-valued and whose keys are not all constant
/// reported `multi-valued-argument` at the first key (the VM compared key and source text
/// at each key) while the constant-key path and the reference report it at the source.
/// Fixed by `Op::SwitchSource`, which checks the source once before any key runs.
#[test]
fn switch_multi_source_dynamic_keys_span() {
    check(
        "switch-multi-source-dynamic-keys",
        Got::Error("multi-valued-argument".into()),
        Some("[m]"),
    );
}
