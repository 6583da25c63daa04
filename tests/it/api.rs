//! The library API: thread safety, custom zero-copy records, slot records, deep inputs.

use std::borrow::Cow;

use mapexpr::functions::generate::SeededRng;
use mapexpr::{
    EvalContext, FixedClock, JsonRecord, Limits, Outcome, Program, Record, SlotRecord, TakenSet,
    Value, compile,
};

fn ctx_parts() -> (FixedClock, SeededRng, TakenSet, Limits) {
    (
        FixedClock(mapexpr::DateTime::MIN),
        SeededRng::from_seed(1),
        TakenSet::new(),
        Limits::default(),
    )
}

#[test]
fn program_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Program>();
}

/// A sync engine's own user type: the program reads it without copying.
struct User {
    given: String,
    mail: String,
}

impl Record for User {
    fn get(&self, name: &str) -> Value<'_> {
        match name {
            "givenName" => Value::Str(Cow::Borrowed(&self.given)),
            "mail" => Value::Str(Cow::Borrowed(&self.mail)),
            _ => Value::Null,
        }
    }
}

#[test]
fn custom_record_pass_through_is_zero_copy() {
    let program = compile("[mail]").expect("compiles");
    let user = User {
        given: "Zoë".into(),
        mail: "zoe@contoso.com".into(),
    };
    let (clock, mut rng, oracle, limits) = ctx_parts();
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    let Outcome::Value(Value::Str(Cow::Borrowed(s))) =
        program.eval(&user, &mut ctx).expect("evaluates")
    else {
        panic!("expected a borrowed string");
    };
    assert!(
        std::ptr::eq(s.as_ptr(), user.mail.as_ptr()),
        "the result points into the record"
    );

    // Unchanged values stay borrowed through functions that do not change them.
    let program = compile("NormalizeDiacritics(StripSpaces([mail]))").expect("compiles");
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    let Outcome::Value(Value::Str(Cow::Borrowed(s))) =
        program.eval(&user, &mut ctx).expect("evaluates")
    else {
        panic!("expected a borrowed string");
    };
    assert!(std::ptr::eq(s.as_ptr(), user.mail.as_ptr()));
}

#[test]
fn concurrent_evaluation_of_one_program() {
    let program =
        compile(r#"ToLower(Join(".", NormalizeDiacritics([givenName]), "x"))"#).expect("compiles");
    let names = ["Zoë", "Åsa", "Łukasz", "Søren"];
    std::thread::scope(|scope| {
        for (i, name) in names.iter().enumerate() {
            let program = &program;
            scope.spawn(move || {
                let user = User {
                    given: (*name).to_owned(),
                    mail: String::new(),
                };
                let (clock, mut rng, oracle, limits) = ctx_parts();
                for _ in 0..200 {
                    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
                    let got = program.eval(&user, &mut ctx).expect("evaluates");
                    let want = ["zoe.x", "asa.x", "lukasz.x", "soeren.x"][i];
                    assert_eq!(got, Outcome::Value(Value::str(want)));
                }
            });
        }
    });
}

#[test]
fn slot_record_uses_the_attribute_table() {
    let program = compile(r#"Join(" ", [surname], [givenName])"#).expect("compiles");
    assert_eq!(program.attributes(), ["surname", "givenName"]);
    let values = [Value::str("Smith"), Value::str("John")];
    let record = SlotRecord::new(&values);
    let (clock, mut rng, oracle, limits) = ctx_parts();
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    assert_eq!(
        program.eval(&record, &mut ctx).expect("evaluates"),
        Outcome::Value(Value::str("Smith John"))
    );
}

#[test]
fn runtime_errors_carry_the_span_of_the_failing_call() {
    let src = r#"Join(",", [a], Mid([b], [start], 2))"#;
    let program = compile(src).expect("compiles");
    let record =
        JsonRecord::from_json_str(r#"{"a": "x", "b": "abc", "start": "0"}"#).expect("record");
    let (clock, mut rng, oracle, limits) = ctx_parts();
    let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
    let err = program.eval(&record, &mut ctx).expect_err("fails");
    assert_eq!(err.code.as_str(), "invalid-start");
    assert_eq!(err.span.text(src), "Mid([b], [start], 2)");
}

/// The deepest input the limits allow goes through every stage on a 2 MiB thread, in the
/// build profile the tests run in (debug in CI).
#[test]
fn depth_limit_holds_on_a_small_stack() {
    let run = || {
        let calls = format!("{}[a]{}", "Trim(".repeat(99), ")".repeat(99));
        let parens = format!("{}[a]{}", "(".repeat(100), ")".repeat(100));
        for src in [&calls, &parens] {
            let program = compile(src).expect("compiles at the limit");
            let record = JsonRecord::from_json_str(r#"{"a": " x "}"#).expect("record");
            let (clock, mut rng, oracle, limits) = ctx_parts();
            let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
            program.eval(&record, &mut ctx).expect("evaluates");
            let printed = mapexpr::syntax::parse(src)
                .expect("parses")
                .expr
                .to_string();
            mapexpr::syntax::parse(&printed).expect("the printed form parses");
        }
        let over = format!("{}[a]{}", "Trim(".repeat(101), ")".repeat(101));
        let err = compile(&over).err().and_then(|e| e.code());
        assert_eq!(err, Some(mapexpr::ErrorCode::NestingTooDeep));
    };
    let t = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(run)
        .expect("spawn");
    t.join().expect("no stack overflow");
}
