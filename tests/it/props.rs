//! Properties over generated expressions and records (proptest):
//!
//! - the printer round-trips: `parse(print(e)) == e`, and printing is idempotent;
//! - evaluation is total: whatever compiles evaluates without panicking, for well-typed and
//!   for wild (random registry calls, any arguments) expressions;
//! - with `--features reference`, the VM and the reference evaluator agree on every outcome:
//!   same value, same Ignore, or the same error code at the same span;
//! - NormalizeDiacritics is idempotent, `Join(sep, Split(s, sep)) == s` when no piece is empty,
//!   RemoveDuplicates keeps first occurrences in order — all through the real engine.
//!
//! Case counts are moderate so the module runs in a few seconds in a debug build.

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use crate::harness::{Got, RunOptions, run_vm};

// ---- text and records ------------------------------------------------------------------

/// Characters that stress the text functions: quotes and backslashes (escapes), separators,
/// upper/lower ASCII, Latin-1 and decomposed diacritics, combining marks, characters outside
/// the BMP (surrogate pairs in UTF-16), case-mapping oddities.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(vec!['a', 'b', 'c', 'x', 'A', 'B', 'Z', '0', '1', '9']),
        2 => prop::sample::select(vec![' ', ',', '.', '-', '_', '@', '\t', ';']),
        1 => prop::sample::select(vec!['"', '\\', '\'', '[', ']', '(', ')', '&', '=']),
        2 => prop::sample::select(vec!['é', 'É', 'ü', 'ß', 'ø', 'Ł', 'ñ', 'İ', 'ı', 'ǅ', 'ﬁ', 'Ω']),
        1 => prop::sample::select(vec!['\u{0301}', '\u{0308}', '\u{0327}', '\u{200D}', '\u{00A0}']),
        1 => prop::sample::select(vec!['😀', '𝔸', '𐐷', '🇫', '\u{10FFFF}']),
    ]
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(interesting_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

/// A string literal in source form: `"` and `\` escaped with a backslash.
fn literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    prop_oneof![
        2 => Just(J::Null),
        2 => Just(J::String(String::new())),
        6 => text(12).prop_map(J::String),
        2 => (-1000i64..1000).prop_map(J::from),
        1 => prop::sample::select(vec![i64::MIN, i64::MAX, 0, -1]).prop_map(J::from),
        1 => any::<bool>().prop_map(J::Bool),
        1 => prop::sample::select(vec!["True", "false", "1", " 42 ", "-7", "2021-08-25T17:41:18Z", "8/25/2021"])
            .prop_map(|s| J::String(s.to_owned())),
        3 => prop::collection::vec(
            prop_oneof![4 => text(8).prop_map(J::String), 1 => Just(J::String(String::new())), 1 => (0i64..5).prop_map(J::from)],
            0..5
        )
        .prop_map(J::Array),
    ]
}

/// Attribute names the generators use; records assign some of them.
const ATTRS: &[&str] = &["a", "b", "c", "m", "n"];

fn record() -> impl Strategy<Value = serde_json::Value> {
    prop::collection::vec(json_value(), ATTRS.len()).prop_map(|vals| {
        serde_json::Value::Object(
            ATTRS
                .iter()
                .zip(vals)
                .map(|(k, v)| ((*k).to_owned(), v))
                .collect(),
        )
    })
}

// ---- well-typed expressions ------------------------------------------------------------

/// Generated expressions by static type, one set per depth.
#[derive(Clone)]
struct Level {
    s: BoxedStrategy<String>,
    i: BoxedStrategy<String>,
    b: BoxedStrategy<String>,
    m: BoxedStrategy<String>,
}

fn attr() -> BoxedStrategy<String> {
    prop::sample::select(ATTRS)
        .prop_map(|a| format!("[{a}]"))
        .boxed()
}

fn int_literal() -> BoxedStrategy<String> {
    prop_oneof![
        6 => (-3i64..40).prop_map(|i| i.to_string()),
        1 => (0u32..0x1_0000).prop_map(|i| format!("&H{i:X}")),
        1 => prop::sample::select(vec!["9223372036854775807", "-9223372036854775808", "&HFFFFFFFFFFFFFFFF", "0"])
            .prop_map(str::to_owned),
    ]
    .boxed()
}

fn leaves() -> Level {
    let s = prop_oneof![
        4 => text(10).prop_map(|t| literal(&t)),
        4 => attr(),
        1 => int_literal(),
    ]
    .boxed();
    let i = prop_oneof![3 => int_literal(), 1 => attr(), 1 => Just("\"12\"".to_owned())].boxed();
    let b = prop_oneof![
        2 => prop::sample::select(vec!["True", "False", "\"true\"", "\"False\""]).prop_map(str::to_owned),
        1 => attr(),
    ]
    .boxed();
    let m = prop_oneof![3 => attr(), 1 => text(10).prop_map(|t| literal(&t))].boxed();
    Level { s, i, b, m }
}

fn level_up(l: &Level, leaf: &Level) -> Level {
    let (s, i, b, m) = (l.s.clone(), l.i.clone(), l.b.clone(), l.m.clone());
    let any = prop_oneof![s.clone(), i.clone(), b.clone(), m.clone()].boxed();
    let sep = prop::sample::select(vec!["\",\"", "\" \"", "\"\"", "\"ab\"", "\"é\""])
        .prop_map(str::to_owned);
    let str_fns = prop_oneof![
        (s.clone(), s.clone()).prop_map(|(a, b)| format!("Append({a}, {b})")),
        (s.clone(), i.clone()).prop_map(|(a, n)| format!("Left({a}, {n})")),
        (s.clone(), 1i64..6, 0i64..6).prop_map(|(a, x, y)| format!("Mid({a}, {x}, {y})")),
        (s.clone(), i.clone(), i.clone()).prop_map(|(a, x, y)| format!("Mid({a}, {x}, {y})")),
        s.clone().prop_map(|a| format!("ToLower({a})")),
        s.clone().prop_map(|a| format!("ToUpper({a}, \"tr-TR\")")),
        s.clone().prop_map(|a| format!("PCase({a})")),
        (s.clone(), s.clone()).prop_map(|(a, w)| format!("PCase({a}, {w})")),
        s.clone().prop_map(|a| format!("Trim({a})")),
        s.clone().prop_map(|a| format!("StripSpaces({a})")),
        s.clone().prop_map(|a| format!("NormalizeDiacritics({a})")),
        s.clone().prop_map(|a| format!("ConvertToBase64({a})")),
        s.clone().prop_map(|a| format!("ConvertToUTF8Hex({a})")),
        (s.clone(), s.clone(), s.clone())
            .prop_map(|(a, f, r)| format!("Replace({a}, {f}, , , {r}, , )")),
        (s.clone(), s.clone()).prop_map(|(a, r)| format!("Replace({a}, , \"[aeiou]\", , {r}, , )")),
        (sep.clone(), m.clone(), s.clone()).prop_map(|(p, a, b)| format!("Join({p}, {a}, {b})")),
        (s.clone(), m.clone()).prop_map(|(p, a)| format!("Join({p}, {a})")),
        (s.clone(), i.clone(), sep.clone()).prop_map(|(a, n, d)| format!("Word({a}, {n}, {d})")),
        any.clone().prop_map(|a| format!("CStr({a})")),
        any.clone().prop_map(|a| format!("Redact({a})")),
        (s.clone(), s.clone()).prop_map(|(a, b)| format!("({a} & {b})")),
        (any.clone(), any.clone(), any.clone())
            .prop_map(|(a, b, c)| format!("Coalesce({a}, {b}, {c})")),
        (b.clone(), s.clone(), s.clone()).prop_map(|(c, x, y)| format!("IIF({c}, {x}, {y})")),
        (s.clone(), s.clone(), s.clone(), s.clone(), s.clone())
            .prop_map(|(src, d, k, v, k2)| format!("Switch({src}, {d}, {k}, {v}, {k2}, {d})")),
        (s.clone(), s.clone()).prop_map(|(src, v)| format!(
            "Switch({src}, , \"a\", {v}, \"\", \"empty\", \"1\", \"one\")"
        )),
        (m.clone(), i.clone()).prop_map(|(a, n)| format!("Item({a}, {n})")),
    ]
    .boxed();
    let int_fns = prop_oneof![
        s.clone().prop_map(|a| format!("Len({a})")),
        (s.clone(), s.clone()).prop_map(|(a, b)| format!("InStr({a}, {b})")),
        (s.clone(), s.clone(), 1i64..4)
            .prop_map(|(a, b, n)| format!("InStr({a}, {b}, {n}, vbTextCompare)")),
        m.clone().prop_map(|a| format!("Count({a})")),
        (i.clone(), i.clone()).prop_map(|(a, b)| format!("BitAnd({a}, {b})")),
    ]
    .boxed();
    let cmp = prop::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]);
    let bool_fns = prop_oneof![
        any.clone().prop_map(|a| format!("IsNull({a})")),
        any.clone().prop_map(|a| format!("IsNullOrEmpty({a})")),
        any.clone().prop_map(|a| format!("IsPresent({a})")),
        any.clone().prop_map(|a| format!("IsString({a})")),
        b.clone().prop_map(|a| format!("Not({a})")),
        any.clone().prop_map(|a| format!("CBool({a})")),
        (any.clone(), cmp, any.clone()).prop_map(|(x, o, y)| format!("({x} {o} {y})")),
    ]
    .boxed();
    let multi_fns = prop_oneof![
        (s.clone(), sep).prop_map(|(a, d)| format!("Split({a}, {d})")),
        m.clone().prop_map(|a| format!("RemoveDuplicates({a})")),
        m.clone().prop_map(|a| format!("ToUpper({a})")),
        (m.clone(), s.clone()).prop_map(|(a, x)| format!("Append({a}, {x})")),
    ]
    .boxed();
    Level {
        s: prop_oneof![1 => leaf.s.clone(), 3 => str_fns].boxed(),
        i: prop_oneof![1 => leaf.i.clone(), 2 => int_fns].boxed(),
        b: prop_oneof![1 => leaf.b.clone(), 2 => bool_fns].boxed(),
        m: prop_oneof![1 => leaf.m.clone(), 2 => multi_fns].boxed(),
    }
}

/// Well-typed expressions up to `depth` calls deep, optionally wrapped in one of the
/// top-level-only functions.
fn typed_expr(depth: usize) -> BoxedStrategy<String> {
    let leaf = leaves();
    let mut l = leaf.clone();
    for _ in 0..depth {
        l = level_up(&l, &leaf);
    }
    let body = prop_oneof![4 => l.s.clone(), 1 => l.i, 1 => l.b, 2 => l.m].boxed();
    prop_oneof![
        6 => body.clone(),
        1 => body.clone().prop_map(|x| format!("IgnoreFlowIfNullOrEmpty({x})")),
        1 => (l.s.clone(), l.s).prop_map(|(x, y)| format!("SelectUniqueValue({x}, {y}, \"fallback\")")),
    ]
    .boxed()
}

// ---- wild expressions ------------------------------------------------------------------

/// Random calls of registry functions (and a few unknown names) with random argument counts,
/// empty slots and arguments of any kind: most do not compile, and none may panic.
fn wild_expr() -> BoxedStrategy<String> {
    let mut names: Vec<&'static str> = mapexpr::functions::REGISTRY
        .iter()
        .map(|f| f.name)
        .collect();
    names.extend(["Nope", "iif", "JOIN"]);
    let leaf = prop_oneof![
        text(6).prop_map(|t| literal(&t)),
        attr(),
        int_literal(),
        prop::sample::select(vec![
            "True",
            "False",
            "vbTextCompare",
            "vbBinaryCompare",
            "\"yyyyMMdd\"",
            "\"d\"",
            "\"(a)\""
        ])
        .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(4, 40, 5, move |inner| {
        let slot = prop_oneof![4 => inner.clone().prop_map(Some), 1 => Just(None)];
        prop_oneof![
            4 => (prop::sample::select(names.clone()), prop::collection::vec(slot, 0..6)).prop_map(|(n, args)| {
                let args: Vec<String> = args.into_iter().map(Option::unwrap_or_default).collect();
                format!("{n}({})", args.join(", "))
            }),
            1 => (inner.clone(), prop::sample::select(vec!["&", "=", "<>", "<", ">="]), inner)
                .prop_map(|(a, o, b)| format!("({a} {o} {b})")),
        ]
    })
    .boxed()
}

// ---- properties ------------------------------------------------------------------------

/// Parses, prints, parses again: the trees are equal and printing is idempotent.
fn check_roundtrip(src: &str) -> Result<(), TestCaseError> {
    let Ok(parsed) = mapexpr::syntax::parse(src) else {
        return Ok(());
    };
    let printed = parsed.expr.to_string();
    let again = mapexpr::syntax::parse(&printed).map_err(|d| {
        TestCaseError::fail(format!(
            "`{printed}` (printed from `{src}`) does not parse: {d:?}"
        ))
    })?;
    prop_assert_eq!(&again.expr, &parsed.expr, "printed as `{}`", printed);
    prop_assert_eq!(again.expr.to_string(), printed);
    Ok(())
}

/// Evaluates with the VM (must not panic) and, with the feature, compares with the
/// reference evaluator.
fn check_engines(src: &str, record: &serde_json::Value, seed: u64) -> Result<(), TestCaseError> {
    let opts = RunOptions {
        now: Some("2021-08-25T17:41:18Z"),
        seed: Some(seed),
        taken: &[],
    };
    let (vm, vm_span) = run_vm(src, record, &opts);
    #[cfg(feature = "reference")]
    {
        if let Some((reference, ref_span)) = crate::harness::run_reference(src, record, &opts) {
            prop_assert_eq!(
                (&vm, vm_span),
                (&reference, ref_span),
                "VM and reference disagree on `{}` with {}",
                src,
                record
            );
        }
    }
    let _ = (vm, vm_span);
    Ok(())
}

/// `cases` per property unless `PROPTEST_CASES` asks for more (a longer local run).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn printer_round_trips_typed(src in typed_expr(3)) {
        check_roundtrip(&src)?;
    }

    #[test]
    fn printer_round_trips_wild(src in wild_expr()) {
        check_roundtrip(&src)?;
    }

    #[test]
    fn typed_eval_is_total_and_engines_agree(src in typed_expr(3), rec in record(), seed in 0u64..4) {
        check_engines(&src, &rec, seed)?;
    }

    #[test]
    fn wild_eval_is_total_and_engines_agree(src in wild_expr(), rec in record(), seed in 0u64..4) {
        check_engines(&src, &rec, seed)?;
    }

    #[test]
    fn normalize_diacritics_is_idempotent(s in text(16)) {
        let once = eval_text("NormalizeDiacritics([s])", &serde_json::json!({ "s": s }));
        let twice = eval_text("NormalizeDiacritics([s])", &serde_json::json!({ "s": once }));
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn join_of_split_is_identity(
        sep in prop::sample::select(vec![",", ";", " ", "--", "é", "😀", "\\"]),
        pieces in prop::collection::vec(text(6), 1..6),
    ) {
        // Pieces must be non-empty and free of the separator's characters, so that no
        // empty piece (which Join skips) appears.
        let pieces: Vec<String> = pieces
            .into_iter()
            .map(|p| p.chars().filter(|c| !sep.contains(*c)).collect::<String>())
            .filter(|p| !p.is_empty())
            .collect();
        prop_assume!(!pieces.is_empty());
        let s = pieces.join(sep);
        let got = eval_text("Join([sep], Split([s], [sep]))", &serde_json::json!({ "s": s, "sep": sep }));
        prop_assert_eq!(got, s);
    }

    #[test]
    fn remove_duplicates_keeps_first_occurrences(
        values in prop::collection::vec(prop::sample::select(vec!["a", "A", "b", "é", "e\u{301}", "😀", "", "1"]), 2..10),
    ) {
        let rec = serde_json::json!({ "m": values });
        let got = run_vm("RemoveDuplicates([m])", &rec, &RunOptions::default()).0;
        let mut want: Vec<String> = Vec::new();
        for v in &values {
            if !want.iter().any(|w| w == v) {
                want.push((*v).to_owned());
            }
        }
        prop_assert_eq!(got, Got::List(want));
    }
}

fn eval_text(src: &str, rec: &serde_json::Value) -> String {
    match run_vm(src, rec, &RunOptions::default()).0 {
        Got::Text(t) => t,
        Got::Null => String::new(),
        other => panic!("`{src}` on {rec}: {other:?}"),
    }
}

/// The generators must mostly produce expressions that compile and evaluate to values, or
/// the engine properties test little: at least half of the well-typed ones compile and a
/// fair share of those produce a value.
#[test]
fn typed_generator_mostly_compiles() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (typed_expr(3), record());
    let (mut compiled, mut values, mut errors) =
        (0, 0, std::collections::BTreeMap::<String, usize>::new());
    let total = 300;
    for _ in 0..total {
        let (src, rec) = strategy.new_tree(&mut runner).expect("a tree").current();
        match mapexpr::compile(&src) {
            Ok(_) => compiled += 1,
            Err(e) => *errors.entry(format!("compile {:?}", e.code())).or_default() += 1,
        }
        match run_vm(&src, &rec, &RunOptions::default()).0 {
            Got::Error(e) => *errors.entry(e).or_default() += 1,
            _ => values += 1,
        }
    }
    eprintln!("typed generator: {compiled}/{total} compile, {values} values; errors {errors:?}");
    assert!(
        compiled * 2 > total,
        "only {compiled} of {total} generated expressions compile: {errors:?}"
    );
    assert!(
        values * 4 > total,
        "only {values} of {total} generated expressions produce a value: {errors:?}"
    );
}
