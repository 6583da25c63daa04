//! Batch integrity (hardening): `run` over inputs mixing good records, malformed JSON,
//! invalid UTF-8, non-objects, blank lines, unrepresentable values and records whose mappings
//! fail accounts for every input line exactly once — in the output or the rejects, in input
//! order — and the summary's counts match, on any thread count and chunk size.

use mapexpr::mapping::batch::{BatchOptions, InputFormat, run};
use mapexpr::mapping::{CompiledSet, MappingSet, Mode};
use mapexpr::{CompileOptions, Limits, TakenSet};
use proptest::prelude::*;

const SET: &str = r#"{"name": "integrity", "mappings": [
    {"target": "id", "attribute": "id"},
    {"target": "upn", "expression": "ToLower(Join(\"@\", NormalizeDiacritics([name]), \"x.com\"))"},
    {"target": "hired", "expression": "IgnoreFlowIfNullOrEmpty(FormatDateTime([hired], , \"yyyy-MM-dd\", \"yyyyMMdd\"))"}
]}"#;

/// One input line and what must become of it.
#[derive(Clone, Debug)]
enum Line {
    /// A good record: written, with this id.
    Good(u32, String),
    /// A record whose `hired` date does not parse: rejected with `invalid-date`.
    BadDate(u32),
    /// Broken JSON: rejected with `invalid-input`.
    Broken(String),
    /// Bytes that are not UTF-8: rejected with `invalid-input`.
    NotUtf8,
    /// JSON that is not an object: rejected.
    NotObject,
    /// A fractional number in an attribute the set reads: rejected.
    Fraction(u32),
    /// Only white space: skipped, counted as blank.
    Blank,
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        4 => (any::<u32>(), "[a-zA-Zäöüøß' -]{0,12}").prop_map(|(i, n)| Line::Good(i, n)),
        1 => any::<u32>().prop_map(Line::BadDate),
        1 => "\\{\"id\": [0-9]{0,3}, \"name\": \"[a-z]{0,5}".prop_map(Line::Broken),
        1 => Just(Line::NotUtf8),
        1 => Just(Line::NotObject),
        1 => any::<u32>().prop_map(Line::Fraction),
        1 => Just(Line::Blank),
    ]
}

fn render(l: &Line) -> Vec<u8> {
    match l {
        Line::Good(i, n) => {
            serde_json::json!({"id": format!("{i}"), "name": n, "hired": "2020-02-29"})
                .to_string()
                .into_bytes()
        }
        Line::BadDate(i) => {
            serde_json::json!({"id": format!("{i}"), "name": "x", "hired": "2021-02-30"})
                .to_string()
                .into_bytes()
        }
        Line::Broken(s) => s.clone().into_bytes(),
        Line::NotUtf8 => b"{\"id\": \"\xff\xfe\"}".to_vec(),
        Line::NotObject => b"[1, 2, 3]".to_vec(),
        Line::Fraction(i) => format!("{{\"id\": \"{i}\", \"name\": 1.5}}").into_bytes(),
        Line::Blank => b"   ".to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_line_is_accounted_for_once_in_order(
        lines in proptest::collection::vec(line(), 0..60),
        threads in 1usize..4,
        chunk in 1usize..9,
    ) {
        let set = MappingSet::load(SET, None).expect("the set loads");
        let compiled = CompiledSet::compile(&set, &CompileOptions::default()).expect("the set compiles");
        let mut input = Vec::new();
        for l in &lines {
            input.extend_from_slice(&render(l));
            input.push(b'\n');
        }
        let oracle = TakenSet::new();
        let opts = BatchOptions {
            threads,
            mode: Mode::Create,
            now: None,
            seed: Some(1),
            oracle: &oracle,
            limits: Limits::default(),
            chunk_records: chunk,
        };
        let (mut out, mut rej) = (Vec::new(), Vec::new());
        let summary = run(&compiled, input.as_slice(), InputFormat::Ndjson, &mut out, &mut rej, &opts, &mut |_| {})
            .expect("no I/O error");

        let out: Vec<serde_json::Value> = String::from_utf8(out).expect("UTF-8 output").lines()
            .map(|l| serde_json::from_str(l).expect("output lines are JSON")).collect();
        let rej: Vec<serde_json::Value> = String::from_utf8(rej).expect("UTF-8 rejects").lines()
            .map(|l| serde_json::from_str(l).expect("reject lines are JSON")).collect();

        let blank = lines.iter().filter(|l| matches!(l, Line::Blank)).count() as u64;
        prop_assert_eq!(summary.blank, blank);
        prop_assert_eq!(summary.read, lines.len() as u64 - blank);
        prop_assert_eq!(summary.read, summary.written + summary.rejected);
        prop_assert_eq!(out.len() as u64, summary.written);
        prop_assert_eq!(rej.len() as u64, summary.rejected);

        // Walk the input: each line lands where it must, in order.
        let (mut o, mut r) = (out.iter(), rej.iter());
        for (n, l) in lines.iter().enumerate() {
            let line_no = n as u64 + 1;
            match l {
                Line::Blank => {}
                Line::Good(i, _) => {
                    let got = o.next().expect("an output line for a good record");
                    prop_assert_eq!(&got["id"], &serde_json::json!(format!("{i}")));
                    prop_assert_eq!(&got["hired"], &serde_json::json!("20200229"));
                }
                bad => {
                    let got = r.next().expect("a reject line for a bad record");
                    prop_assert_eq!(&got["line"], &serde_json::json!(line_no), "{:?}", bad);
                    let code = got["errors"][0]["code"].as_str().unwrap_or_default().to_owned();
                    let want = if matches!(bad, Line::BadDate(_)) { "invalid-date" } else { "invalid-input" };
                    prop_assert_eq!(code, want, "{:?}", bad);
                }
            }
        }
        prop_assert!(o.next().is_none() && r.next().is_none());
    }
}
