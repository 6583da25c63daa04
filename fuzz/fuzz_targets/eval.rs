//! Expression + record + seed → the VM and the reference evaluator agree: the same value,
//! the same Ignore, or the same error code at the same span. Evaluation never panics.
//!
//! Input layout (read from the front with `Unstructured`): a mode byte, a seed byte, a
//! record (five attributes `a b c m n`, each a tagged value), then either the rest of the
//! input as expression text (even mode: seeds from the conformance expressions and the
//! dictionary work here) or a structured expression built from registry functions (odd
//! mode: reaches deep, mostly well-formed calls).
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use mapexpr::{DateTime, EvalContext, FixedClock, JsonRecord, Limits, Outcome, RandomSource, TakenSet, Value};

const ATTRS: [&str; 5] = ["a", "b", "c", "m", "n"];
const TEXTS: [&str; 12] =
    ["", "a", "John Doe", "é", "e\u{301}", "😀x", "\"\\", "1", " 42 ", "True", "2021-08-25T17:41:18Z", "a,b,,c"];

struct Rng(u64);
impl RandomSource for Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn text(u: &mut Unstructured<'_>) -> String {
    match u.int_in_range(0u8..=3).unwrap_or(0) {
        0 => {
            let n = u.int_in_range(0u8..=12).unwrap_or(0);
            (0..n).map(|_| char::from_u32(u.int_in_range(0u32..=0x1F600).unwrap_or(97)).unwrap_or('?')).collect()
        }
        _ => TEXTS[u.choose_index(TEXTS.len()).unwrap_or(0)].to_owned(),
    }
}

fn json_value(u: &mut Unstructured<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match u.int_in_range(0u8..=6).unwrap_or(0) {
        0 => J::Null,
        1 | 2 => J::String(text(u)),
        3 => J::from(u.arbitrary::<i64>().unwrap_or(0) % 1000),
        4 => J::Bool(u.arbitrary().unwrap_or(false)),
        _ => {
            let n = u.int_in_range(0u8..=4).unwrap_or(0);
            J::Array((0..n).map(|_| J::String(text(u))).collect())
        }
    }
}

fn structured(u: &mut Unstructured<'_>, depth: u32) -> String {
    let leaf = depth == 0 || u.ratio(1u8, 3u8).unwrap_or(true);
    if leaf {
        return match u.int_in_range(0u8..=5).unwrap_or(0) {
            0 | 1 => format!("[{}]", ATTRS[u.choose_index(ATTRS.len()).unwrap_or(0)]),
            2 => {
                let t = text(u).replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{t}\"")
            }
            3 => (u.arbitrary::<i8>().unwrap_or(0) as i64).to_string(),
            4 => format!("&H{:X}", u.arbitrary::<u16>().unwrap_or(0)),
            _ => ["True", "False", "vbTextCompare", "vbBinaryCompare", "\"yyyyMMdd\"", "\"(\\w)\""]
                [u.choose_index(6).unwrap_or(0)]
            .to_owned(),
        };
    }
    if u.ratio(1u8, 6u8).unwrap_or(false) {
        let ops = ["&", "=", "<>", "<", "<=", ">", ">="];
        let op = ops[u.choose_index(ops.len()).unwrap_or(0)];
        return format!("({} {op} {})", structured(u, depth - 1), structured(u, depth - 1));
    }
    let reg = mapexpr::functions::REGISTRY;
    let spec = &reg[u.choose_index(reg.len()).unwrap_or(0)];
    let min = spec.min_args();
    let max = spec.max_args().unwrap_or(min + 3).max(min);
    let n = u.int_in_range(min..=max).unwrap_or(min);
    let args: Vec<String> = (0..n)
        .map(|_| if u.ratio(1u8, 12u8).unwrap_or(false) { String::new() } else { structured(u, depth - 1) })
        .collect();
    format!("{}({})", spec.name, args.join(", "))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mode: u8 = u.arbitrary().unwrap_or(0);
    let seed: u8 = u.arbitrary().unwrap_or(0);
    let record: serde_json::Map<String, serde_json::Value> =
        ATTRS.iter().map(|a| ((*a).to_owned(), json_value(&mut u))).collect();
    let src = if mode % 2 == 0 {
        match std::str::from_utf8(u.take_rest()) {
            Ok(s) => s.to_owned(),
            Err(_) => return,
        }
    } else {
        structured(&mut u, 6)
    };
    let Ok(program) = mapexpr::compile(&src) else { return };
    let Ok(parsed) = mapexpr::syntax::parse(&src) else {
        panic!("`{src}` compiles but does not parse");
    };
    let Ok(record) = JsonRecord::from_json(&serde_json::Value::Object(record)) else { return };
    let now = mapexpr::datetime::parse_rfc3339("2021-08-25T17:41:18Z").unwrap_or(DateTime::MIN);
    let clock = FixedClock(now);
    let limits = Limits::default();
    let taken: TakenSet = ["taken@contoso.com", "a"].into_iter().collect();

    let mut rng = Rng(seed as u64);
    let mut ctx = EvalContext::new(&clock, &mut rng, &taken, &limits);
    let vm = program.eval(&record, &mut ctx).map(Outcome::into_owned);

    let mut rng = Rng(seed as u64);
    let mut ctx = EvalContext::new(&clock, &mut rng, &taken, &limits);
    let reference = mapexpr::reference::eval(&parsed.expr, &record, &mut ctx).map(Outcome::into_owned);

    match (&vm, &reference) {
        (Ok(a), Ok(b)) => assert!(same(a, b), "`{src}`: vm {a:?}, reference {b:?}"),
        (Ok(_) | Err(_), Err(b)) if b.code == mapexpr::ErrorCode::LimitExceeded && vm.as_ref().err().is_none_or(|a| a.code != b.code) => {}
        (Err(a), Err(b)) => {
            // Constant parts charge the step budget only in the reference (the VM folded
            // them), so a step-budget failure may be reported by the reference alone.
            assert_eq!((a.code, a.span), (b.code, b.span), "`{src}`: vm {a:?}, reference {b:?}");
        }
        _ => panic!("`{src}`: vm {vm:?}, reference {reference:?}"),
    }
});

/// Equal outcomes; Str values compare by text whether borrowed or owned.
fn same(a: &Outcome<'_>, b: &Outcome<'_>) -> bool {
    match (a, b) {
        (Outcome::Ignore, Outcome::Ignore) => true,
        (Outcome::Value(x), Outcome::Value(y)) => value_eq(x, y),
        _ => false,
    }
}

fn value_eq(x: &Value<'_>, y: &Value<'_>) -> bool {
    x == y
}
