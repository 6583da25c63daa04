//! Limits (spec §2.2): every function whose work or output grows with its input is bounded
//! by the step budget, the per-value size limit or the output budget, each failing with
//! `limit-exceeded`; and the nesting limit is exactly 100 for every stage, probed on a thread
//! with a 2 MiB stack in a debug build (parse, check, compile, eval, print, reference).

use mapexpr::{
    CompileOptions, DateTime, EvalContext, FixedClock, JsonRecord, Limits, NoRandom, Outcome,
    TakenSet, Value,
};

const MIB: usize = 1 << 20;

/// What an evaluation ended with: a value's text length, Ignore, or an error code.
#[derive(Debug, PartialEq)]
enum End {
    Len(usize),
    Items(usize),
    Null,
    Ignore,
    Error(String),
}

fn end(r: Result<Outcome<'_>, mapexpr::EvalError>) -> End {
    match r {
        Ok(Outcome::Ignore) => End::Ignore,
        Ok(Outcome::Value(Value::Null)) => End::Null,
        Ok(Outcome::Value(Value::Multi(m))) => End::Items(m.len()),
        Ok(Outcome::Value(v)) => End::Len(v.render_scalar().len()),
        Err(e) => End::Error(e.code.as_str().to_owned()),
    }
}

/// Compiles and evaluates `src` against `rec` with `limits`, through the VM and (with the
/// feature) the reference evaluator, which must end the same way.
fn eval_with(src: &str, rec: &JsonRecord, limits: &Limits) -> End {
    let opts = CompileOptions {
        schema: None,
        limits: limits.clone(),
    };
    let program = match mapexpr::compile_with(src, &opts) {
        Ok(c) => c.program,
        Err(e) => return End::Error(format!("compile {}", e.code().map_or("?", |c| c.as_str()))),
    };
    let clock = FixedClock(DateTime::MIN);
    let oracle = TakenSet::new();
    let mut rng = NoRandom;
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, limits);
    let vm = end(program.eval(rec, &mut ctx));
    #[cfg(feature = "reference")]
    {
        let parsed = mapexpr::syntax::parse_with(src, limits).expect("compiled, so it parses");
        let mut rng = NoRandom;
        let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, limits);
        let reference = end(mapexpr::reference::eval(&parsed.expr, rec, &mut ctx));
        assert_eq!(vm, reference, "VM and reference disagree on `{src}`");
    }
    vm
}

fn eval(src: &str, rec: &JsonRecord) -> End {
    eval_with(src, rec, &Limits::default())
}

/// Small limits for the tests that only need to show that a function is bounded: the same
/// code paths as the defaults, a fraction of the work in a debug build.
fn small() -> Limits {
    Limits {
        max_steps: 10_000,
        max_value_bytes: 64 * 1024,
        max_output_bytes: MIB,
        ..Limits::default()
    }
}

fn limit() -> End {
    End::Error("limit-exceeded".to_owned())
}

fn record(attrs: Vec<(&str, Value<'static>)>) -> JsonRecord {
    let mut r = JsonRecord::new();
    for (k, v) in attrs {
        r.insert(k, v);
    }
    r
}

fn many(n: usize, s: &str) -> Value<'static> {
    Value::multi((0..n).map(|_| Value::string(s.to_owned())).collect())
}

fn text(n: usize, c: char) -> Value<'static> {
    Value::string(std::iter::repeat_n(c, n).collect())
}

// ---- step budget -----------------------------------------------------------------------

#[test]
fn join_over_more_values_than_the_step_budget() {
    let rec = record(vec![("m", many(1_100_000, "a"))]);
    assert_eq!(eval(r#"Join(",", [m])"#, &rec), limit());
}

#[test]
fn join_within_the_step_budget() {
    let rec = record(vec![("m", many(100_000, "a"))]);
    assert_eq!(eval(r#"Join(",", [m])"#, &rec), End::Len(199_999));
}

#[test]
fn split_into_more_pieces_than_the_step_budget() {
    let rec = record(vec![("x", text(1_100_000, ','))]);
    assert_eq!(eval(r#"Count(Split([x], ","))"#, &rec), limit());
}

#[test]
fn mapping_over_more_values_than_the_step_budget() {
    let rec = record(vec![("m", many(11_000, "a"))]);
    assert_eq!(eval_with(r#"Count(ToUpper([m]))"#, &rec, &small()), limit());
}

#[test]
fn remove_duplicates_over_more_values_than_the_step_budget() {
    let rec = record(vec![("m", many(11_000, "a"))]);
    assert_eq!(
        eval_with("Count(RemoveDuplicates([m]))", &rec, &small()),
        limit()
    );
}

/// RandomString's length is bounded by its own rule (1 to 256), statically and at run time.
#[test]
fn random_string_length_is_bounded() {
    assert_eq!(
        eval("RandomString(2000000, 0, 0, 0, 0)", &JsonRecord::new()),
        End::Error("compile random-string-spec".into())
    );
    let rec = record(vec![("n", Value::Int(2_000_000))]);
    assert_eq!(
        eval("RandomString([n], 0, 0, 0, 0)", &rec),
        End::Error("random-string-spec".into())
    );
    let rec = record(vec![("n", Value::Int(256))]);
    assert_eq!(eval("RandomString([n], 0, 0, 0, 0)", &rec), End::Len(256));
}

#[test]
fn replace_over_a_long_source_is_charged() {
    // Regex replacement over ~64 MiB of matches: charged per match, fails on steps or size.
    let rec = record(vec![("x", text(20_000, 'a'))]);
    assert_eq!(
        eval_with(r#"Replace([x], , "a", , "b", , )"#, &rec, &small()),
        limit()
    );
}

// ---- per-value size --------------------------------------------------------------------

#[test]
fn join_of_a_big_multi_valued_attribute() {
    let rec = record(vec![("m", many(300_000, "abcd"))]);
    assert_eq!(eval(r#"Join(",", [m])"#, &rec), limit());
}

#[test]
fn repeated_ampersand() {
    let rec = record(vec![("x", text(100 * 1024, 'x'))]);
    let src = ["[x]"; 11].join(" & ");
    assert_eq!(eval(&src, &rec), limit());
    let src = ["[x]"; 10].join(" & ");
    assert_eq!(eval(&src, &rec), End::Len(1_024_000));
}

#[test]
fn nested_ampersand_in_parentheses() {
    // Each `&` is checked on its own when the chain is broken by a call.
    let rec = record(vec![("x", text(300 * 1024, 'x'))]);
    assert_eq!(eval("Trim(Trim([x] & [x]) & [x]) & [x]", &rec), limit());
}

#[test]
fn append_chain() {
    let rec = record(vec![("x", text(300 * 1024, 'x'))]);
    assert_eq!(
        eval(
            "Append(Append(Append(Append([x], [x]), [x]), [x]), [x])",
            &rec
        ),
        limit()
    );
    assert_eq!(
        eval("Append(Append([x], [x]), [x])", &rec),
        End::Len(900 * 1024)
    );
}

#[test]
fn replace_that_explodes_the_output() {
    let rec = record(vec![("x", text(2_000, 'a')), ("y", text(1_000, 'b'))]);
    assert_eq!(eval(r#"Replace([x], "a", , , [y], , )"#, &rec), limit());
    assert_eq!(eval(r#"Replace([x], , "a", , [y], , )"#, &rec), limit());
}

#[test]
fn convert_to_base64_and_hex_of_big_input() {
    let rec = record(vec![("x", text(600 * 1024, 'x'))]);
    assert_eq!(eval("ConvertToBase64([x])", &rec), limit());
    assert_eq!(eval("ConvertToUTF8Hex([x])", &rec), limit());
}

#[test]
fn pcase_of_big_input() {
    let rec = record(vec![("x", text(65 * 1024, 'a'))]);
    assert_eq!(eval_with("PCase([x])", &rec, &small()), limit());
}

/// `ȿ` (2 bytes) upper-cases to `Ȿ` (3 bytes): a value under the limit can grow past it.
#[test]
fn to_upper_that_grows_past_the_limit() {
    let rec = record(vec![("x", text(24 * 1024, '\u{023F}'))]);
    assert_eq!(eval_with("ToUpper([x])", &rec, &small()), limit());
}

/// A record value may be larger than the per-value limit; transforming it builds a value
/// over the limit, which no function may hand on.
#[test]
fn transforms_of_an_oversized_record_value() {
    let big: String = "aB \u{00E9}".repeat(32 * 1024);
    let rec = record(vec![("x", Value::string(big))]);
    let limits = small();
    for f in [
        "ToLower",
        "ToUpper",
        "NormalizeDiacritics",
        "PCase",
        "StripSpaces",
        "ConvertToBase64",
    ] {
        assert_eq!(
            eval_with(&format!("{f}([x])"), &rec, &limits),
            limit(),
            "{f}"
        );
    }
    // Trim and Left hand on a slice of the record value: nothing is built.
    assert_eq!(eval_with("Trim([x])", &rec, &limits), End::Len(160 * 1024));
    assert_eq!(
        eval_with("Left([x], 100000)", &rec, &limits),
        End::Len(125_000)
    );
    // Passing it through builds nothing.
    assert_eq!(
        eval_with("Redact([x])", &rec, &limits),
        End::Len(160 * 1024)
    );
    assert_eq!(
        eval_with("Coalesce([y], [x])", &rec, &limits),
        End::Len(160 * 1024)
    );
}

#[test]
fn normalize_diacritics_of_big_input() {
    // 128 KiB of `é` folds to exactly 64 KiB of `e`: at the limit, allowed; one more is over.
    let rec = record(vec![("x", text(64 * 1024, '\u{00E9}'))]);
    assert_eq!(
        eval_with("NormalizeDiacritics([x])", &rec, &small()),
        End::Len(64 * 1024)
    );
    let rec = record(vec![("x", text(64 * 1024 + 1, '\u{00E9}'))]);
    assert_eq!(
        eval_with("NormalizeDiacritics([x])", &rec, &small()),
        limit()
    );
}

#[test]
fn format_date_time_with_a_huge_output_format() {
    // A run of four or more `d` is one day name, so the tokens are separated by spaces.
    let rec = record(vec![("f", Value::string("dddd ".repeat(200_000)))]);
    assert_eq!(
        eval(r#"FormatDateTime("20210825", , "yyyyMMdd", [f])"#, &rec),
        limit()
    );
}

#[test]
fn switch_with_a_big_source() {
    let rec = record(vec![("x", text(2 * MIB, 'a'))]);
    assert_eq!(eval(r#"Switch([x] & "", "d", "a", "b")"#, &rec), limit());
    assert_eq!(eval(r#"Switch([x], "d", "a", "b")"#, &rec), End::Len(1));
}

// ---- output budget ---------------------------------------------------------------------

/// Twenty values of 900 KiB each, every one under the per-value limit, dropped at once:
/// together they pass the 16 MiB output budget.
#[test]
fn output_budget_over_many_values() {
    let rec = record(vec![("x", text(900 * 1024, 'x'))]);
    let one = r#"Len([x] & "")"#;
    let src = vec![one; 20].join(" & ");
    assert_eq!(eval(&src, &rec), limit());
    let src = [one; 10].join(" & ");
    assert!(matches!(eval(&src, &rec), End::Len(_)));
}

/// A value handed on unchanged (Redact, Trim of trimmed text, Item, RemoveDuplicates) is
/// not built again: passing one 900 KiB value through 40 calls stays within the budget.
#[test]
fn output_budget_does_not_count_values_handed_on() {
    let rec = record(vec![("x", text(900 * 1024, 'X')), ("m", many(3, "A"))]);
    // (default limits: 40 × 900 KiB would pass the 16 MiB budget if counted)
    let src = format!(
        "Len({}ToLower([x]){})",
        "Redact(Trim(".repeat(20),
        "))".repeat(20)
    );
    assert_eq!(eval(&src, &rec), End::Len(6));
    let src = format!(
        "Count({}ToLower([m]){})",
        "RemoveDuplicates(".repeat(40),
        ")".repeat(40)
    );
    assert_eq!(eval(&src, &rec), End::Len(1));
}

/// Mapping over a list builds one value per element; they are counted as they are built.
#[test]
fn output_budget_over_a_mapped_list() {
    let rec = record(vec![("m", many(1_000, "")), ("x", text(100 * 1024, 'X'))]);
    assert_eq!(eval("Count(Append([m], ToLower([x])))", &rec), limit());
    let rec = record(vec![("m", many(100, "")), ("x", text(100 * 1024, 'X'))]);
    assert_eq!(eval("Count(Append([m], ToLower([x])))", &rec), End::Len(3));
}

/// Many big arguments of one call: the output budget stops them before they pile up.
#[test]
fn output_budget_over_one_call_with_many_big_arguments() {
    let rec = record(vec![("x", text(60 * 1024, 'X'))]);
    let src = format!("Len(Join(\"\", {}))", vec!["ToLower([x])"; 40].join(", "));
    assert_eq!(eval_with(&src, &rec, &small()), limit());
}

// ---- configurable limits ----------------------------------------------------------------

#[test]
fn smaller_limits_apply() {
    let limits = Limits {
        max_value_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        eval_with(r#""abcdef" & [x] & "ghijk""#, &JsonRecord::new(), &limits),
        limit()
    );
    let limits = Limits {
        max_steps: 5,
        ..Limits::default()
    };
    let rec = record(vec![("m", many(6, "a"))]);
    assert_eq!(eval_with(r#"Join(",", [m])"#, &rec, &limits), limit());
    let limits = Limits {
        max_output_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        eval_with(
            r#"ToLower([a] & "ABCDEF") & ToLower([a] & "GHIJKL")"#,
            &JsonRecord::new(),
            &limits
        ),
        limit()
    );
}

// ---- stack-depth probe ------------------------------------------------------------------

/// Runs `f` on a thread with a 2 MiB stack (the default for spawned threads, and smaller
/// than a main thread's), so a recursion that only fits a big stack fails here.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * MIB)
        .spawn(f)
        .expect("spawn")
        .join()
        .unwrap_or_else(|_| {
            panic!("the probe panicked (stack overflow aborts the process instead)")
        })
}

/// Every stage on one expression: parse, check, print and reparse, clone, compare, compile,
/// disassemble, eval (VM and reference), drop. Returns the first error code, or the value's
/// length. (`Debug` of the tree and `graph::tree` still recurse per `&` operand; see the
/// hardening report.)
fn all_stages(src: String) -> Result<usize, String> {
    let limits = Limits::default();
    let parsed =
        mapexpr::syntax::parse_with(&src, &limits).map_err(|d| d[0].code.as_str().to_owned())?;
    let checked = mapexpr::check::check(
        &parsed.expr,
        &mapexpr::CheckOptions {
            schema: None,
            limits: limits.clone(),
        },
    );
    if let Some(d) = checked.diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.code.as_str().to_owned());
    }
    let printed = parsed.expr.to_string();
    let again = mapexpr::syntax::parse_with(
        &printed,
        &Limits {
            max_expression_len: usize::MAX,
            ..limits.clone()
        },
    )
    .map_err(|d| format!("reparse {}", d[0].code))?;
    assert_eq!(again.expr, parsed.expr);
    let cloned = parsed.expr.clone();
    assert!(cloned == parsed.expr, "a clone equals its original");
    drop(cloned);
    let program = mapexpr::compile(&src)
        .map_err(|e| e.code().map_or("?".into(), |c| c.as_str().to_owned()))?;
    let _ = program.disassemble();
    let rec = record(vec![("x", Value::str("abc"))]);
    let clock = FixedClock(DateTime::MIN);
    let oracle = TakenSet::new();
    let mut rng = NoRandom;
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    let vm = end(program.eval(&rec, &mut ctx));
    #[cfg(feature = "reference")]
    {
        let mut rng = NoRandom;
        let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
        assert_eq!(
            vm,
            end(mapexpr::reference::eval(&parsed.expr, &rec, &mut ctx))
        );
    }
    drop(again);
    drop(parsed);
    match vm {
        End::Len(n) => Ok(n),
        other => Err(format!("{other:?}")),
    }
}

fn nested_calls(n: usize) -> String {
    format!("{}[x]{}", "Trim(".repeat(n), ")".repeat(n))
}

fn nested_parens(n: usize) -> String {
    format!("{}[x]{}", "(".repeat(n), ")".repeat(n))
}

fn nested_iif(n: usize) -> String {
    format!("{}[x]{}", "IIF(True, ".repeat(n), ", \"no\")".repeat(n))
}

#[test]
fn depth_100_calls_on_a_small_stack() {
    assert_eq!(on_small_stack(|| all_stages(nested_calls(100))), Ok(3));
    assert_eq!(
        on_small_stack(|| all_stages(nested_calls(101))),
        Err("nesting-too-deep".to_owned())
    );
}

#[test]
fn depth_100_parentheses_on_a_small_stack() {
    assert_eq!(on_small_stack(|| all_stages(nested_parens(100))), Ok(3));
    assert_eq!(
        on_small_stack(|| all_stages(nested_parens(101))),
        Err("nesting-too-deep".to_owned())
    );
}

#[test]
fn depth_100_mixed_on_a_small_stack() {
    let src = |n: usize| format!("{}[x]{}", "(Trim(".repeat(n / 2), "))".repeat(n / 2));
    assert_eq!(on_small_stack(move || all_stages(src(100))), Ok(3));
    assert_eq!(on_small_stack(|| all_stages(nested_iif(100))), Ok(3));
    assert_eq!(
        on_small_stack(|| all_stages(nested_iif(101))),
        Err("nesting-too-deep".to_owned())
    );
}

/// `&` chains and comparisons open no parenthesis, so the depth limit does not bound them:
/// an expression of 30,000 `&` operands is a left-leaning tree 30,000 deep.
#[test]
fn long_ampersand_chain_on_a_small_stack() {
    let src = vec!["[x]"; 24_000].join("&");
    assert_eq!(on_small_stack(move || all_stages(src)), Ok(3 * 24_000));
}

/// A long chain inside nested calls at the depth limit.
#[test]
fn long_ampersand_chain_inside_deep_calls_on_a_small_stack() {
    let chain = vec!["[x]"; 2_000].join("&");
    let src = format!("{}{chain}{}", "Trim(".repeat(99), ")".repeat(99));
    assert_eq!(on_small_stack(move || all_stages(src)), Ok(3 * 2_000));
}

// ---- work that grows faster than the budget charges ----------------------------------------

/// True when the VM finishes `src` on `rec` within `limit` (the evaluation runs on its own
/// thread; one that overruns is left to finish in the background).
fn finishes_within(src: &'static str, rec: JsonRecord, limit: std::time::Duration) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let program = mapexpr::compile(src).expect("compiles");
        let (clock, oracle, limits) = (
            FixedClock(DateTime::MIN),
            TakenSet::new(),
            Limits::default(),
        );
        let mut rng = NoRandom;
        let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
        let _ = program.eval(&rec, &mut ctx);
        let _ = tx.send(());
    });
    rx.recv_timeout(limit).is_ok()
}

fn cjk(n: u32) -> Value<'static> {
    Value::string((0..n).filter_map(|i| char::from_u32(0x4E00 + i)).collect())
}

/// Searches and splits over big values run in time linear in their input.
#[test]
fn work_is_linear() {
    let second = std::time::Duration::from_secs(2);
    let big = || {
        record(vec![
            ("x", text(MIB, 'a')),
            ("y", Value::string(format!("{}b", "a".repeat(10_000)))),
        ])
    };
    assert!(finishes_within("InStr([x], [y])", big(), second));
    assert!(finishes_within(
        r#"Count(Split([x], "aab"))"#,
        big(),
        second
    ));
    assert!(finishes_within(
        r#"Replace([x], [y], , , "z", , )"#,
        big(),
        second
    ));
    assert!(finishes_within(
        r#"Replace([x], , "a+b", , "z", , )"#,
        big(),
        second
    ));
}

/// Case-insensitive search and long delimiter or separator lists stay linear too (these were
/// quadratic once: InStr restarted the comparison at every position, Word and PCase tested
/// every character against the whole list).
#[test]
fn work_is_linear_in_both_inputs() {
    let seconds = std::time::Duration::from_secs(3);
    let instr = record(vec![
        ("x", text(100_000, 'a')),
        ("y", Value::string(format!("{}b", "a".repeat(2_000)))),
    ]);
    assert!(finishes_within(
        "InStr([x], [y], 1, vbTextCompare)",
        instr,
        seconds
    ));
    let word = || record(vec![("x", text(400_000, 'a')), ("d", cjk(60_000))]);
    assert!(finishes_within("Word([x], 2, [d])", word(), seconds));
    assert!(finishes_within("PCase([x], [d])", word(), seconds));
}

// ---- the VM's direct entry paths -------------------------------------------------------

/// A whole-program string chain and a whole-program call run without the generic loop;
/// their limits must still be the generic code's, with the same errors.
#[test]
fn direct_paths_keep_their_limits() {
    let rec = record(vec![("a", text(8, 'x')), ("b", text(8, 'y'))]);
    // The chain has 3 nodes: over a budget of 1 step (the generic Join charges 2 for its two
    // pieces, the chain one per node: see `reference`'s module doc).
    let steps = Limits {
        max_steps: 1,
        ..Limits::default()
    };
    assert_eq!(eval_with(r#"Join(".", [a], [b])"#, &rec, &steps), limit());
    let steps = Limits {
        max_steps: 3,
        ..Limits::default()
    };
    assert_eq!(
        eval_with(r#"Join(".", [a], [b])"#, &rec, &steps),
        End::Len(17)
    );
    // One value over the output budget, and over the per-value limit.
    let output = Limits {
        max_output_bytes: 16,
        ..Limits::default()
    };
    assert_eq!(eval_with(r#"Join(".", [a], [b])"#, &rec, &output), limit());
    assert_eq!(eval_with(r#"Left([a], 3)"#, &rec, &output), End::Len(3));
    let value = Limits {
        max_value_bytes: 16,
        ..Limits::default()
    };
    assert_eq!(
        eval_with(r#"ToUpper([a] & [b] & "!")"#, &rec, &value),
        limit()
    );
    assert_eq!(
        eval_with(r#"ToUpper([a] & [b])"#, &rec, &value),
        End::Len(16)
    );
    // A direct call whose result is over the per-value limit.
    let src = r#"Replace([a], "x", , , "0123456789", , )"#;
    assert_eq!(eval_with(src, &rec, &value), limit());
    // A transform entry: a changed text over the limits is an error; an unchanged one is
    // the record's own (borrowed) value, not built by the evaluation.
    let value = Limits {
        max_value_bytes: 7,
        ..Limits::default()
    };
    assert_eq!(eval_with("ToUpper([a])", &rec, &value), limit());
    assert_eq!(eval_with("ToLower([a])", &rec, &value), End::Len(8));
    let output = Limits {
        max_output_bytes: 7,
        ..Limits::default()
    };
    assert_eq!(eval_with("ToUpper([a])", &rec, &output), limit());
    // The date-format entry: a 17-byte result over either limit is the generic error.
    let rec = record(vec![("d", Value::str("2021-08-18-07:00"))]);
    let fdt = r#"FormatDateTime([d], , "yyyy-MM-ddzzz", "yyyyMMddHHmmss.fZ")"#;
    assert_eq!(eval_with(fdt, &rec, &Limits::default()), End::Len(17));
    for limits in [
        Limits {
            max_value_bytes: 16,
            ..Limits::default()
        },
        Limits {
            max_output_bytes: 16,
            ..Limits::default()
        },
    ] {
        assert_eq!(eval_with(fdt, &rec, &limits), limit());
    }
}
