//! Mapping sets through the real binary: `run` (NDJSON, CSV, rejects, modes), `validate`
//! (clean and broken exported schemas), `test` (own and Pester case shapes) and `deps`.
//!
//! Inputs live in `tests/data/mapping/` and `examples/`; the NDJSON run is compared with
//! golden files (`records.expected.ndjson`, `records.rejects.ndjson`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mapping")
        .join(name)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A fresh scratch directory for one test's output files.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mapping")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory can be created");
    dir
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn mapexpr(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_mapexpr"))
        .args(args)
        .output()
        .expect("the binary runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("the file exists")
}

fn json_lines(text: &str) -> Vec<Json> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

#[test]
fn mapping_run_ndjson_matches_golden_files_on_any_thread_count() {
    let input = data("records.ndjson");
    let physical_lines = std::fs::read(&input)
        .unwrap()
        .iter()
        .filter(|b| **b == b'\n')
        .count();
    for threads in ["1", "2", "4"] {
        let dir = scratch(&format!("ndjson-{threads}"));
        let (out, rej) = (dir.join("out.ndjson"), dir.join("rejects.ndjson"));
        let r = mapexpr(&[
            "run",
            "--mappings",
            path(&data("set.json")),
            "--input",
            path(&input),
            "--output",
            path(&out),
            "--rejects",
            path(&rej),
            "--now",
            "2026-01-01T00:00:00Z",
            "--seed",
            "7",
            "--threads",
            threads,
        ]);
        assert_eq!(r.code, 1, "some records are rejected: {}", r.stderr);
        assert_eq!(
            read(&out),
            read(&data("records.expected.ndjson")),
            "threads {threads}"
        );
        assert_eq!(
            read(&rej),
            read(&data("records.rejects.ndjson")),
            "threads {threads}"
        );
        assert!(
            r.stderr
                .contains("read 9 record(s): 4 written, 5 rejected, 2 blank line(s) skipped"),
            "{}",
            r.stderr
        );
        // Every physical line is accounted for exactly once: output (by id), reject (by line) or blank.
        let written = json_lines(&read(&out)).len();
        let rejected: Vec<u64> = json_lines(&read(&rej))
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        assert_eq!(written + rejected.len() + 2, physical_lines);
        assert!(
            rejected.windows(2).all(|w| w[0] < w[1]),
            "rejects are in input order"
        );
    }
}

#[test]
fn mapping_run_rejects_list_every_failing_mapping() {
    let rejects = json_lines(&read(&data("records.rejects.ndjson")));
    let got: Vec<(u64, Vec<(Json, String)>)> = rejects
        .iter()
        .map(|r| {
            let errs = r["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["target"].clone(), e["code"].as_str().unwrap().to_owned()))
                .collect();
            (r["line"].as_u64().unwrap(), errs)
        })
        .collect();
    let s = |t: &str| Json::String(t.to_owned());
    let input = || (Json::Null, "invalid-input".to_owned());
    assert_eq!(
        got,
        vec![
            (
                3,
                vec![
                    (s("hired"), "invalid-date".to_owned()),
                    (s("level"), "invalid-integer".to_owned())
                ]
            ),
            (5, vec![input()]),
            (6, vec![input()]),
            (7, vec![input()]),
            (8, vec![input()]),
        ]
    );
}

#[test]
fn mapping_run_output_honours_ignore_defaults_and_create_only() {
    let out = json_lines(&read(&data("records.expected.ndjson")));
    // Record 2: empty mobile → IgnoreFlowIfNullOrEmpty leaves it out; no dept → the default.
    let r2 = out[1].as_object().unwrap();
    assert!(!r2.contains_key("mobile"));
    assert!(!r2.contains_key("hired"));
    assert_eq!(r2["department"], "Unassigned");
    assert_eq!(r2["aliases"], Json::Null);
    // Update mode leaves create-only mappings out.
    let dir = scratch("update");
    let r = mapexpr(&[
        "run",
        "--mappings",
        path(&data("set.json")),
        "--input",
        path(&data("records.ndjson")),
        "--mode",
        "update",
        "--output",
        path(&dir.join("out.ndjson")),
        "--rejects",
        path(&dir.join("rej.ndjson")),
    ]);
    assert_eq!(r.code, 1);
    let upd = json_lines(&read(&dir.join("out.ndjson")));
    assert_eq!(upd.len(), 4);
    assert!(
        upd.iter()
            .all(|r| !r.as_object().unwrap().contains_key("upn"))
    );
    assert!(
        out.iter()
            .all(|r| r.as_object().unwrap().contains_key("upn"))
    );
}

#[test]
fn mapping_run_csv_input() {
    let dir = scratch("csv");
    let (out, rej) = (dir.join("out.ndjson"), dir.join("rejects.ndjson"));
    let r = mapexpr(&[
        "run",
        "--mappings",
        path(&data("set.json")),
        "--input",
        path(&data("users.csv")),
        "--output",
        path(&out),
        "--rejects",
        path(&rej),
        "--threads",
        "2",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("read 4 record(s): 2 written, 2 rejected"),
        "{}",
        r.stderr
    );
    let out = json_lines(&read(&out));
    assert_eq!(out[0]["displayName"], "José García, Jr.");
    assert_eq!(out[0]["upn"], "jose.garcia, jr.@contoso.com");
    assert_eq!(out[0]["aliases"], serde_json::json!(["jose@x", "j@x"]));
    assert_eq!(out[0]["id"], "10");
    assert_eq!(out[1]["level"], "Senior");
    assert_eq!(out[1]["department"], "Unassigned");
    let rej = json_lines(&read(&rej));
    let lines: Vec<u64> = rej.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [4, 5]);
    assert_eq!(
        rej[0]["errors"][0]["message"],
        "the row has 3 fields, the header has 8"
    );
    assert_eq!(rej[1]["errors"][0]["target"], "level");
    assert_eq!(rej[1]["input"]["surname"], "Line\nName");
}

#[test]
fn mapping_run_reports_a_broken_set_and_bad_options() {
    let dir = scratch("broken");
    let set = dir.join("set.json");
    std::fs::write(&set, r#"[{"target": "a", "expression": "Join(\",\""}, {"target": "b", "expression": "Nope([x])"}]"#).unwrap();
    let r = mapexpr(&[
        "run",
        "--mappings",
        path(&set),
        "--input",
        path(&data("records.ndjson")),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error[unexpected-token]"), "{}", r.stderr);
    assert!(r.stderr.contains("--> mappings[1]:1:1"), "{}", r.stderr);
    assert!(r.stderr.contains("2 mapping(s)"), "{}", r.stderr);
    let r = mapexpr(&[
        "run",
        "--mappings",
        path(&data("set.json")),
        "--input",
        path(&data("records.ndjson")),
        "--now",
        "yesterday",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--now `yesterday` is not an RFC 3339 instant"),
        "{}",
        r.stderr
    );
    let r = mapexpr(&[
        "run",
        "--mappings",
        path(&data("set.json")),
        "--input",
        path(&dir.join("missing.ndjson")),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
}

#[test]
fn mapping_run_example_set_is_clean() {
    let dir = scratch("example");
    let out = dir.join("out.ndjson");
    let r = mapexpr(&[
        "run",
        "--mappings",
        path(&example("workday-to-ad.json")),
        "--input",
        path(&example("users.ndjson")),
        "--output",
        path(&out),
        "--now",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = json_lines(&read(&out));
    assert_eq!(out.len(), 2000);
    assert!(out.iter().all(|r| {
        r["userPrincipalName"]
            .as_str()
            .is_some_and(|u| u.is_ascii() && u.ends_with("@contoso.com"))
    }));
    // The same set read from the exported schema gives the same records.
    let out2 = dir.join("out2.ndjson");
    let r = mapexpr(&[
        "run",
        "--mappings",
        path(&example("workday-to-ad.schema.json")),
        "--input",
        path(&example("users.csv")),
        "--output",
        path(&out2),
        "--now",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv_out = json_lines(&read(&out2));
    assert_eq!(csv_out.len(), 200);
    assert_eq!(
        csv_out[0]["userPrincipalName"],
        out[0]["userPrincipalName"].clone()
    );
}

/// The example set over generated users (with failing records every 7th) and CSV rows gives,
/// byte for byte, the output and rejects `run` wrote before it serialized by hand and bound
/// lines with its own scanner (`tests/data/mapping/golden/`), in both modes and on 1 and 3
/// threads.
#[test]
fn mapping_run_output_is_byte_identical_to_the_golden_files() {
    let golden = |name: &str| data(&format!("golden/{name}"));
    let cases = [
        ("users60.ndjson", "create", "users60.create"),
        ("users60.ndjson", "update", "users60.update"),
        ("users40.csv", "create", "users40.csv"),
    ];
    for (input, mode, expected) in cases {
        for threads in ["1", "3"] {
            let dir = scratch(&format!("golden-{expected}-{threads}"));
            let (out, rej) = (dir.join("out.ndjson"), dir.join("rejects.ndjson"));
            let r = mapexpr(&[
                "run",
                "--mappings",
                path(&example("workday-to-ad.json")),
                "--input",
                path(&golden(input)),
                "--output",
                path(&out),
                "--rejects",
                path(&rej),
                "--now",
                "2024-01-01T00:00:00Z",
                "--seed",
                "1",
                "--mode",
                mode,
                "--threads",
                threads,
                "-q",
            ]);
            assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
            assert!(
                read(&out) == read(&golden(&format!("{expected}.expected.ndjson"))),
                "{expected} output differs on {threads} thread(s)"
            );
            let want_rej = golden(&format!("{expected}.rejects.ndjson"));
            let want_rej = if want_rej.exists() {
                read(&want_rej)
            } else {
                String::new()
            };
            assert!(
                read(&rej) == want_rej,
                "{expected} rejects differ on {threads} thread(s)"
            );
        }
    }
}

#[test]
fn mapping_validate_clean_schema_is_safe() {
    let r = mapexpr(&["validate", path(&example("workday-to-ad.schema.json"))]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("0 error(s), 0 warning(s)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("ok: safe to import"));
}

#[test]
fn mapping_validate_reports_each_mistake_with_location_and_code() {
    let r = mapexpr(&[
        "validate",
        "--format",
        "json",
        path(&example("workday-to-ad.schema-mistakes.json")),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report: Json = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["safe"], false);
    let got: Vec<(String, String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "hint")
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_owned();
            (s("location"), s("target"), s("code"), s("severity"))
        })
        .collect();
    let am = |k: usize| format!("synchronizationRules[0].objectMappings[0].attributeMappings[{k}]");
    let row =
        |loc: String, t: &str, c: &str, s: &str| (loc, t.to_owned(), c.to_owned(), s.to_owned());
    let om1 = "synchronizationRules[0].objectMappings[1]".to_owned();
    assert_eq!(
        got,
        vec![
            row(am(1), "givenName", "attribute-case-mismatch", "warning"),
            row(am(3), "displayName", "tree-mismatch", "warning"),
            row(
                am(6),
                "sAMAccountName",
                "selectuniquevalue-matching-attribute",
                "error"
            ),
            row(
                am(6),
                "sAMAccountName",
                "selectuniquevalue-flow-type",
                "warning"
            ),
            row(am(11), "department", "unknown-attribute", "error"),
            row(am(12), "company", "missing-default-value", "error"),
            row(am(22), "telephoneNumber", "unexpected-token", "error"),
            row(am(28), "description", "length-over-10000", "error"),
            row(
                am(29),
                "extensionattribute1",
                "unknown-target-attribute",
                "warning"
            ),
            row(am(33), "homePhone", "multi-valued-target", "warning"),
            row(om1.clone(), "", "schema-incomplete", "warning"),
            row(om1, "", "schema-incomplete", "warning"),
        ]
    );
    // The human form puts a caret under the expression and names the target.
    let r = mapexpr(&[
        "validate",
        path(&example("workday-to-ad.schema-mistakes.json")),
    ]);
    assert_eq!(r.code, 1);
    let expected = "error[unexpected-token]: expected `,`, `)`, `&` or a comparison operator, found end of input\n \
--> synchronizationRules[0].objectMappings[0].attributeMappings[22]:1:79\n";
    assert!(r.stdout.contains(expected), "{}", r.stdout);
    assert!(r.stdout.contains("  = target attribute: `telephoneNumber`"));
    assert!(
        r.stdout.contains("5 error(s), 7 warning(s)"),
        "{}",
        r.stdout
    );
}

#[test]
fn mapping_validate_rejects_files_that_are_not_schemas() {
    let r = mapexpr(&["validate", path(&data("set.json"))]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no `synchronizationRules`"),
        "{}",
        r.stderr
    );
}

#[test]
fn mapping_test_runner_passes_own_and_pester_cases() {
    let r = mapexpr(&["test", path(&data("cases.json"))]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("11 passed, 0 failed"), "{}", r.stdout);
    let r = mapexpr(&[
        "test",
        "--mappings",
        path(&data("set.json")),
        path(&data("pester.json")),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("PASS  Department falls back to the mapping default"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("3 passed, 0 failed"));
}

#[test]
fn mapping_test_runner_fails_loudly() {
    let r = mapexpr(&["test", path(&data("failing.json"))]);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "FAIL  wrong-100     expected \"x\", got \"X\"",
            "PASS  right-100",
            "FAIL  pester-wrong  expected \"a@b\", got \"a@c\"",
            "1 passed, 2 failed",
        ]
    );
    let r = mapexpr(&["test", path(&data("missing.json"))]);
    assert_eq!(r.code, 2);
}

#[test]
fn mapping_deps_of_expressions_and_sets() {
    let r = mapexpr(&[
        "deps",
        r#"Join("@", ToLower([givenName]), [domain], [givenName])"#,
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "givenName\ndomain\n"));
    let r = mapexpr(&[
        "deps",
        "--format",
        "json",
        "--mappings",
        path(&data("set.json")),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Json = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["attributes"],
        serde_json::json!([
            "id",
            "givenName",
            "surname",
            "dept",
            "mobile",
            "hireDate",
            "title",
            "levelLength",
            "aliases"
        ])
    );
    assert_eq!(
        v["mappings"][8],
        serde_json::json!({"target": "company", "attributes": []})
    );
    let r = mapexpr(&["deps", "Join("]);
    assert_eq!(r.code, 2);
}

#[test]
fn mapping_run_seeded_output_does_not_depend_on_threads() {
    let dir = scratch("seeded");
    let set = dir.join("set.json");
    std::fs::write(&set, r#"[{"target": "id", "attribute": "id"}, {"target": "guid", "expression": "Guid()"}, {"target": "now", "expression": "Now()"}]"#).unwrap();
    let input = dir.join("in.ndjson");
    let lines: Vec<String> = (0..300).map(|i| format!("{{\"id\": {i}}}")).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = dir.join(format!("out-{threads}.ndjson"));
        let r = mapexpr(&[
            "run",
            "--mappings",
            path(&set),
            "--input",
            path(&input),
            "--output",
            path(&out),
            "--seed",
            "42",
            "--now",
            "2021-08-25T17:41:18Z",
            "--threads",
            threads,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        outputs.push(read(&out));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    let records = json_lines(&outputs[0]);
    assert_eq!(records.len(), 300);
    assert_eq!(records[299]["id"], 299);
    assert_eq!(records[0]["now"], "8/25/2021 5:41:18 PM");
    assert_ne!(records[0]["guid"], records[1]["guid"]);
}
