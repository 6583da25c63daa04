//! CLI golden tests: the real binary, its stdout, stderr and exit codes.

use std::process::{Command, Output};

fn mapexpr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapexpr"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    let text = stdout(o);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn eval_json_value() {
    let o = mapexpr(&[
        "eval",
        r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [surname]))), "contoso.com"))"#,
        "--record",
        r#"{"givenName": "Zoë", "surname": "Van Dijk"}"#,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        json(&o),
        serde_json::json!({"value": "zoe.vandijk@contoso.com"})
    );
}

#[test]
fn eval_json_kinds() {
    let cases: &[(&str, &str, serde_json::Value, i32)] = &[
        (
            "Len([x])",
            r#"{"x": "abc"}"#,
            serde_json::json!({"value": 3}),
            0,
        ),
        ("IsNull([x])", "{}", serde_json::json!({"value": true}), 0),
        (
            "Split([x], \",\")",
            r#"{"x": "a,b"}"#,
            serde_json::json!({"value": ["a", "b"]}),
            0,
        ),
        ("[x]", "{}", serde_json::json!({"value": null}), 0),
        (
            "IgnoreFlowIfNullOrEmpty([x])",
            "{}",
            serde_json::json!({"ignored": true}),
            0,
        ),
    ];
    for (expr, rec, want, code) in cases {
        let o = mapexpr(&["eval", expr, "--record", rec, "--format", "json"]);
        assert_eq!(o.status.code(), Some(*code), "{expr}");
        assert_eq!(&json(&o), want, "{expr}");
    }
}

#[test]
fn eval_errors_and_exit_codes() {
    let o = mapexpr(&[
        "eval",
        "Mid([x], [s], 2)",
        "--record",
        r#"{"x": "abc", "s": "0"}"#,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let j = json(&o);
    assert_eq!(j["error"]["code"], "invalid-start");
    assert_eq!(j["error"]["span"], serde_json::json!([0, 16]));

    let o = mapexpr(&["eval", "Mid([x], 0, 2)", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["error"]["code"], "invalid-start");

    let o = mapexpr(&["eval", "Join(\",\" [a])", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["error"]["code"], "unexpected-token");

    let o = mapexpr(&["eval", "[x]", "--record", "{not json", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"]["code"], "invalid-input");
}

#[test]
fn eval_now_seed_taken() {
    let o = mapexpr(&[
        "eval",
        "Now()",
        "--now",
        "2021-08-25T17:41:18Z",
        "--format",
        "json",
    ]);
    assert_eq!(
        json(&o),
        serde_json::json!({"value": "8/25/2021 5:41:18 PM"})
    );
    let a = mapexpr(&["eval", "Guid()", "--seed", "7", "--format", "json"]);
    let b = mapexpr(&["eval", "Guid()", "--seed", "7", "--format", "json"]);
    assert_eq!(json(&a), json(&b));
    let o = mapexpr(&[
        "eval",
        r#"SelectUniqueValue(NormalizeDiacritics([a]), NormalizeDiacritics([b]))"#,
        "--record",
        r#"{"a": "x@c.com", "b": "y@c.com"}"#,
        "--taken",
        "X@C.COM",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o), serde_json::json!({"value": "y@c.com"}));
}

#[test]
fn eval_graph_shape() {
    let o = mapexpr(&[
        "eval",
        "Mid([userPrincipalName], 1, 8)",
        "--record",
        r#"{"userPrincipalName": "abcdefghijk"}"#,
        "--format",
        "graph",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let j = json(&o);
    assert_eq!(j["parsingSucceeded"], true);
    assert_eq!(j["evaluationSucceeded"], true);
    assert_eq!(j["evaluationResult"], serde_json::json!(["abcdefgh"]));
    assert_eq!(j["evaluationOutcome"], "value");
    let expected: serde_json::Value = serde_json::from_str(
        r#"{"expression":"Mid([userPrincipalName], 1, 8)","name":"Mid","parameters":[{"key":"source","value":{"expression":"[userPrincipalName]","name":"userPrincipalName","parameters":[],"type":"Attribute"}},{"key":"start","value":{"expression":"\"1\"","name":"1","parameters":[],"type":"Constant"}},{"key":"length","value":{"expression":"\"8\"","name":"8","parameters":[],"type":"Constant"}}],"type":"Function"}"#,
    )
    .expect("spec example");
    assert_eq!(j["parsedExpression"], expected);

    let o = mapexpr(&["eval", "IgnoreFlowIfNullOrEmpty([x])", "--format", "graph"]);
    let j = json(&o);
    assert_eq!(j["evaluationResult"], serde_json::json!([]));
    assert_eq!(j["evaluationOutcome"], "ignore");

    let o = mapexpr(&["eval", "Foo([x])", "--format", "graph"]);
    let j = json(&o);
    assert_eq!(j["parsingSucceeded"], true);
    assert_eq!(j["evaluationSucceeded"], false);
    assert_eq!(j["error"]["code"], "unknown-function");
    assert_eq!(j["error"]["target"], "Foo");
}

#[test]
fn check_renders_carets_and_exit_codes() {
    let o = mapexpr(&["check", "Join(\",\", ToLowr([a]))"]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(
        out.contains("error[unknown-function]: unknown function `ToLowr`"),
        "{out}"
    );
    assert!(out.contains("1 | Join(\",\", ToLowr([a]))"), "{out}");
    assert!(out.contains("  |           ^^^^^^"), "{out}");
    assert!(out.contains("= help: did you mean `ToLower`?"), "{out}");

    let o = mapexpr(&["check", "Trim([a])"]);
    assert_eq!(o.status.code(), Some(0));
    let o = mapexpr(&["check", "Trim([a])", "--deny-warnings"]);
    assert_eq!(o.status.code(), Some(1));
    let o = mapexpr(&["check", "Join(\",\", [a])"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("ok: no problems found"));

    let o = mapexpr(&["check", "Left([a], \"x\")", "--format", "json"]);
    let j = json(&o);
    assert_eq!(j["errors"], 1);
    assert_eq!(j["diagnostics"][0]["code"], "invalid-integer");
    assert_eq!(j["diagnostics"][0]["span"], serde_json::json!([10, 13]));
}

#[test]
fn check_file_errors_never_panic() {
    let dir = std::env::temp_dir().join(format!("mapexpr-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, b"Join(\",\", \xff\xfe)").expect("write");
    let o = mapexpr(&["check", "--file", bad.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not valid UTF-8"));

    // A 1 MB string literal is fine; 50,000 nested calls are a diagnostic.
    let big = dir.join("big.txt");
    std::fs::write(&big, format!("Len(\"{}\")", "a".repeat(99_000))).expect("write");
    let o = mapexpr(&[
        "eval",
        "--file",
        big.to_str().unwrap_or_default(),
        "--format",
        "json",
    ]);
    assert_eq!(json(&o), serde_json::json!({"value": 99_000}));
    let deep = dir.join("deep.txt");
    std::fs::write(
        &deep,
        format!("{}[a]{}", "F(".repeat(50_000), ")".repeat(50_000)),
    )
    .expect("write");
    let o = mapexpr(&[
        "check",
        "--file",
        deep.to_str().unwrap_or_default(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&o)["diagnostics"][0]["code"], "expression-too-long");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_shows_parameter_names_and_bytecode() {
    let o = mapexpr(&[
        "explain",
        "Replace([x], , \"\\\\d+\", , \"#\", , )",
        "--bytecode",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for key in [
        "source: [x]",
        "Find: (empty)",
        "RegularExpression: \"\\\\d+\"",
        "RegularExpressionGroupName: (empty)",
        "Replacement: \"#\"",
        "ReplacementPropertyName: (empty)",
        "Template: (empty)",
    ] {
        assert!(out.contains(key), "missing `{key}` in\n{out}");
    }
    assert!(out.contains("call      Replace/7 +prepared"), "{out}");

    let o = mapexpr(&[
        "explain",
        "Join(\",\", [a], Redact(\"secret\"))",
        "--bytecode",
    ]);
    let out = stdout(&o);
    assert!(out.contains("source: [Redact]"), "{out}");
    assert!(out.contains("const     [Redact]"), "{out}");
    assert!(!out.contains("secret"), "{out}");
}

#[test]
fn functions_lists_every_function() {
    let o = mapexpr(&["functions", "--format", "json"]);
    let j = json(&o);
    let list = j.as_array().expect("array");
    assert_eq!(list.len(), 45);
    assert!(list.iter().all(|f| f["supported"] == true));
    let o = mapexpr(&["functions"]);
    assert!(stdout(&o).contains("Mid(source: Str, start: Int, length: Int) -> Str"));
}

#[test]
fn limit_flags_have_their_own_codes() {
    let o = mapexpr(&[
        "eval",
        r#"Join(",", [a], [a], [a])"#,
        "--record",
        r#"{"a": "xxxxxxxxxx"}"#,
        "--max-value-bytes",
        "20",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"]["code"], "limit-exceeded");
    let o = mapexpr(&[
        "eval",
        r#"Join(",", [a], [a]) & Join(",", [a], [a])"#,
        "--record",
        r#"{"a": "xxxxxxxxxx"}"#,
        "--max-output-bytes",
        "30",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o)["error"]["code"], "limit-exceeded");
    let o = mapexpr(&[
        "check",
        "Trim(Trim(Trim([a])))",
        "--max-depth",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o)["diagnostics"][0]["code"], "nesting-too-deep");
    let o = mapexpr(&[
        "check",
        "Join(\",\", [a], [b], [c])",
        "--max-args",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o)["diagnostics"][0]["code"], "too-many-arguments");
    let o = mapexpr(&[
        "check",
        "Join(\",\", [a])",
        "--max-expression-len",
        "5",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o)["diagnostics"][0]["code"], "expression-too-long");
    let o = mapexpr(&[
        "eval",
        "ToLower([m])",
        "--record",
        r#"{"m": ["A", "B", "C"]}"#,
        "--max-multi-len",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o)["error"]["code"], "limit-exceeded");
    let o = mapexpr(&[
        "eval",
        "Join(\",\", [m])",
        "--record",
        r#"{"m": ["A", "B", "C"]}"#,
        "--max-steps",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(json(&o)["error"]["code"], "limit-exceeded");
}
