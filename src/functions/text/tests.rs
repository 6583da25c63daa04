//! Table-driven tests of the text bodies, called directly (no VM): each case is a function,
//! its argument slots and the expected value or error code.

use super::*;
use crate::context::{FixedClock, Limits, RandomSource, TakenSet};
use crate::datetime::DateTime;
use crate::functions::{ConstSlot, NativeFn, PrepareFn};
use crate::value::List;
use proptest::prelude::*;

/// A deterministic random source; the text functions never draw from it.
struct NoRandom;

impl RandomSource for NoRandom {
    fn next_u64(&mut self) -> u64 {
        4
    }
}

/// One argument slot.
#[derive(Clone, Copy)]
enum A {
    S(&'static str),
    I(i64),
    B(bool),
    /// A present argument whose value is Null.
    N,
    /// An empty slot.
    E,
    M(&'static [&'static str]),
}

/// An expected outcome.
enum W {
    S(&'static str),
    I(i64),
    Null,
    M(&'static [&'static str]),
    Err(ErrorCode),
}
use W::Err as X;

fn value(a: A) -> Value<'static> {
    match a {
        A::S(s) => Value::str(s),
        A::I(i) => Value::Int(i),
        A::B(b) => Value::Bool(b),
        A::N | A::E => Value::Null,
        A::M(m) => Value::Multi(List::Owned(m.iter().map(|s| Value::str(s)).collect())),
    }
}

/// Runs `prepare` (when given) on the constant arguments, then the body with its site data,
/// the way the compiler and the VM will.
fn run(f: NativeFn, prepare: Option<PrepareFn>, slots: &[A]) -> Result<Value<'static>, ErrorCode> {
    let consts: Vec<Value<'static>> = slots.iter().map(|&a| value(a)).collect();
    let cslots: Vec<ConstSlot<'_>> = slots
        .iter()
        .zip(&consts)
        .map(|(a, v)| ConstSlot {
            present: !matches!(a, A::E),
            value: (!matches!(a, A::E)).then_some(v),
        })
        .collect();
    let site = match prepare {
        Some(p) => p(&ConstArgs { slots: &cslots }).map_err(|e| e.code)?,
        None => None,
    };
    let mut vals: Vec<Value<'static>> = consts.clone();
    let mask = slots.iter().enumerate().fold(
        0u64,
        |m, (i, a)| if matches!(a, A::E) { m } else { m | 1 << i },
    );
    let clock = FixedClock(DateTime::MIN);
    let mut rng = NoRandom;
    let taken = TakenSet::new();
    let limits = Limits::default();
    let mut env = Env::new(&clock, &mut rng, &taken, &limits);
    let mut args = Args::new(&mut vals, mask, site.as_deref());
    f(&mut args, &mut env)
        .map(Value::into_owned)
        .map_err(|e| e.code)
}

fn check(name: &str, f: NativeFn, prepare: Option<PrepareFn>, cases: &[(&[A], W)]) {
    for (i, (slots, want)) in cases.iter().enumerate() {
        let got = run(f, prepare, slots);
        // Without prepare too: dynamic arguments must give the same result.
        let dynamic = run(f, None, slots);
        let ok = |g: &Result<Value<'static>, ErrorCode>| match (g, want) {
            (Ok(Value::Str(s)), W::S(w)) => s == w,
            (Ok(Value::Int(n)), W::I(w)) => n == w,
            (Ok(Value::Null), W::Null) => true,
            (Ok(Value::Multi(m)), W::M(w)) => {
                m.len() == w.len()
                    && m.iter()
                        .zip(w.iter())
                        .all(|(v, w)| matches!(v, Value::Str(s) if s == w))
            }
            (Err(c), W::Err(w)) => c == w,
            _ => false,
        };
        assert!(ok(&got), "{name} case {i}: got {got:?}");
        assert!(
            ok(&dynamic) || matches!(want, W::Err(_)),
            "{name} case {i} (dynamic): got {dynamic:?}"
        );
    }
}

use A::{E, I, M, N, S};
use ErrorCode as C;

#[test]
fn left_cases() {
    check(
        "Left",
        left,
        None,
        &[
            (&[S("John Doe"), I(3)], W::S("Joh")),
            (&[S("John Doe"), I(0)], W::S("")),
            (&[S("John Doe"), I(-1)], W::S("John Doe")),
            (&[N, I(3)], W::S("")),
            (&[S("Jo"), I(5)], W::S("Jo")),
            (&[S("😀a"), I(1)], W::S("😀")),
            (&[S("a😀b"), I(2)], W::S("a😀")),
            (&[S("abc"), S(" 2 ")], W::S("ab")),
            (&[S("abc"), S("x")], X(C::InvalidInteger)),
            (&[S("abc"), N], X(C::InvalidInteger)),
            (&[I(12345), I(2)], W::S("12")),
            (&[A::B(true), I(2)], W::S("Tr")),
            (&[M(&["abc"]), I(2)], W::S("ab")),
            (&[M(&["abc", "d"]), I(2)], X(C::MultiValuedArgument)),
        ],
    );
}

#[test]
fn mid_cases() {
    check(
        "Mid",
        mid,
        Some(prepare_mid),
        &[
            (&[S("John Doe"), I(3), I(5)], W::S("hn Do")),
            (&[S("John"), I(4), I(5)], W::S("n")),
            (&[S("John"), I(5), I(2)], W::S("")),
            (&[S("John"), I(0), I(2)], X(C::InvalidStart)),
            (&[S("John"), I(-3), I(2)], X(C::InvalidStart)),
            (&[N, I(1), I(1)], W::S("")),
            (&[S("John"), I(2), I(0)], W::S("")),
            (&[S("John"), I(2), I(-1)], W::S("John")),
            (&[S("John"), S("1"), S("1")], W::S("J")),
            (&[S("John"), I(1), I(64)], W::S("John")),
            (&[S("😀ab"), I(2), I(2)], W::S("a")),
            (&[S("😀ab"), I(1), I(1)], W::S("😀")),
            (&[S("😀ab"), I(3), I(1)], W::S("a")),
            (&[S("😀ab"), I(5), I(1)], W::S("")),
            (&[S("x"), I(i64::MAX), I(i64::MAX)], W::S("")),
        ],
    );
}

#[test]
fn word_cases() {
    check(
        "Word",
        word,
        None,
        &[
            (&[S("The quick brown fox"), I(3), S(" ")], W::S("brown")),
            (
                &[S("This,string!has&many separators"), I(3), S(",!&#")],
                W::S("has"),
            ),
            (&[S("The quick brown fox"), I(0), S(" ")], W::S("")),
            (&[S("The quick brown fox"), I(5), S(" ")], W::S("")),
            (&[N, I(1), S(" ")], W::S("")),
            (&[S("a,,b"), I(2), S(",")], W::S("b")),
            (&[S(",,a,,b,,"), I(1), S(",")], W::S("a")),
            (&[S("a b"), I(1), S("")], W::S("a b")),
            (&[S("a b"), I(2), N], W::S("")),
            (&[S("a😀b😀c"), I(3), S("😀")], W::S("c")),
            (&[S("a b"), I(-1), S(" ")], W::S("")),
        ],
    );
}

#[test]
fn instr_cases() {
    check(
        "InStr",
        instr,
        Some(prepare_instr),
        &[
            (&[S("The quick brown fox"), S("quick")], W::I(5)),
            (&[S("repEated"), S("e"), I(3), I(0)], W::I(7)),
            (&[S("Microsoft"), S("SOFT"), E, I(1)], W::I(6)),
            (&[S("Microsoft"), S("SOFT"), E, I(0)], W::I(0)),
            (&[S("abc"), S("")], W::I(1)),
            (&[S("abc"), S("a"), I(0)], X(C::InvalidStart)),
            (&[N, S("a"), I(0)], X(C::InvalidStart)),
            (&[S("abc"), S("a"), I(1), I(2)], X(C::InvalidCompareType)),
            (&[S("abc"), S("a"), I(1), S("x")], X(C::InvalidCompareType)),
            (&[S("abc"), S("a"), E, E], W::I(1)),
            (&[N, S("a")], W::I(0)),
            (&[S(""), S("")], W::I(0)),
            (&[S("abc"), N], W::I(1)),
            (&[S("abc"), S(""), I(4)], W::I(4)),
            (&[S("abc"), S(""), I(5)], W::I(0)),
            (&[S("abc"), S("c"), I(4)], W::I(0)),
            (&[S("a/b/c"), S("/"), I(3)], W::I(4)),
            (&[S("😀x"), S("x")], W::I(3)),
            (&[S("😀x😀x"), S("x"), I(4)], W::I(6)),
            (&[S("ÉCOLE"), S("école"), E, I(1)], W::I(1)),
            (&[S("xİ"), S("i"), E, I(1)], W::I(0)),
            (&[S("abc"), S("abcd")], W::I(0)),
        ],
    );
}

#[test]
fn split_cases() {
    check(
        "Split",
        split,
        None,
        &[
            (
                &[S("PermissionSetOne, PermissionSetTwo"), S(",")],
                W::M(&["PermissionSetOne", " PermissionSetTwo"]),
            ),
            (&[S("a,,b,"), S(",")], W::M(&["a", "", "b", ""])),
            (&[S("a::b"), S("::")], W::M(&["a", "b"])),
            (&[S("a:::b"), S("::")], W::M(&["a", ":b"])),
            (&[N, S(",")], W::Null),
            (&[S(""), S(",")], W::M(&[""])),
            (&[S("a,b"), S("")], W::M(&["a,b"])),
            (&[S("a,b"), N], W::M(&["a,b"])),
            (&[M(&["a,b", "c"]), S(",")], W::M(&["a", "b", "c"])),
            (&[S("a😀b"), S("😀")], W::M(&["a", "b"])),
        ],
    );
}

#[test]
fn case_cases() {
    check(
        "ToUpper",
        to_upper,
        Some(prepare_case),
        &[
            (&[S("straße")], W::S("STRAßE")),
            (&[S("istanbul"), S("tr-TR")], W::S("İSTANBUL")),
            (&[S("istanbul"), S("az")], W::S("İSTANBUL")),
            (&[S("istanbul"), S("en-US")], W::S("ISTANBUL")),
            (&[S("ı"), E], W::S("ı")),
            (&[S("ı"), S("")], W::S("ı")),
            (&[S("ı"), N], W::S("ı")),
            (&[S("x"), S("en_US")], X(C::InvalidCulture)),
            (&[S("x"), S("english")], X(C::InvalidCulture)),
            (&[N], W::Null),
            (&[I(5)], W::S("5")),
        ],
    );
    check(
        "ToLower",
        to_lower,
        Some(prepare_case),
        &[
            (&[S("ISPARTA"), S("tr")], W::S("ısparta")),
            (&[S("İ")], W::S("İ")),
            (&[S("İ"), S("TR-tr")], W::S("i")),
            (&[S("ΟΔΟΣ")], W::S("οδοσ")),
            (
                &[S("John.Smith@contoso.com")],
                W::S("john.smith@contoso.com"),
            ),
            (&[S("x"), S("xx-XX-")], X(C::InvalidCulture)),
            (&[N, S("en-US")], W::Null),
        ],
    );
}

#[test]
fn transform_cases() {
    check(
        "NormalizeDiacritics",
        normalize_diacritics,
        None,
        &[
            (&[S("Zoë")], W::S("Zoe")),
            (
                &[S("Æsir Øster Straße Łódź")],
                W::S("AEsir OEster Strasse Lodz"),
            ),
            (&[N], W::Null),
            (&[S("")], W::S("")),
        ],
    );
    check(
        "PCase",
        pcase,
        None,
        &[
            (
                &[S("PABLO GONSALVES (SECOND)")],
                W::S("Pablo Gonsalves (Second)"),
            ),
            (&[S("PINTO-DE'SILVA"), S(" '-")], W::S("Pinto-De'Silva")),
            (&[S("jean-luc o'neil")], W::S("Jean-Luc O'neil")),
            (&[S("3rd street"), S(" ")], W::S("3rd Street")),
            (&[S("3rd street"), E], W::S("3Rd Street")),
            (&[S("3rd street"), N], W::S("3Rd Street")),
            (&[S("HELLO WORLD"), S("")], W::S("Hello world")),
            (&[N], W::Null),
        ],
    );
    check(
        "ConvertToBase64",
        convert_to_base64,
        None,
        &[
            (
                &[S("Hello world!")],
                W::S("SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
            ),
            (&[S("Zoë")], W::S("WgBvAOsA")),
            (&[S("😀")], W::S("PdgA3g==")),
            (&[S("")], W::S("")),
            (&[N], W::Null),
        ],
    );
    check(
        "ConvertToUTF8Hex",
        convert_to_utf8_hex,
        None,
        &[
            (&[S("Hello world!")], W::S("48656C6C6F20776F726C6421")),
            (&[S("Zoë")], W::S("5A6FC3AB")),
            (&[N], W::Null),
        ],
    );
}

#[test]
fn replace_cases() {
    let phone = r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})";
    check(
        "Replace",
        replace,
        Some(prepare_replace),
        &[
            // mode 1: literal
            (
                &[
                    S("Product Developer"),
                    S("Product Developer"),
                    E,
                    E,
                    S("Software Engineer"),
                    E,
                    E,
                ],
                W::S("Software Engineer"),
            ),
            (
                &[
                    S("john.doe@contoso.com"),
                    S("@contoso.com"),
                    E,
                    E,
                    S(""),
                    E,
                    E,
                ],
                W::S("john.doe"),
            ),
            (&[S("aaa"), S("aa"), E, E, S("b")], W::S("ba")),
            (&[N, S("a"), E, E, S("b")], W::Null),
            (&[S("abc"), S(""), E, E, S("x")], W::S("abc")),
            (&[S("abc"), N, E, E, S("x")], W::S("abc")),
            (&[S("abc"), S("b"), E, E, N], W::S("ac")),
            (&[S("a.b"), S("."), E, E, S("$&")], W::S("a$&b")),
            // mode 2: template
            (
                &[
                    S("jsmith"),
                    S("<username>"),
                    E,
                    E,
                    E,
                    E,
                    S("<username>@contoso.com"),
                ],
                W::S("jsmith@contoso.com"),
            ),
            (&[N, S("<u>"), E, E, E, E, S("<u>@x")], W::Null),
            (&[S("j"), S("<u>"), E, E, E, E, N], W::Null),
            (&[S("j"), S(""), E, E, E, E, S("<u>@x")], W::S("<u>@x")),
            (&[S("j"), S("<u>"), E, E, E, E, S("<u>.<u>")], W::S("j.j")),
            // mode 3: regex
            (
                &[
                    S("+91 9998887777"),
                    E,
                    S(phone),
                    E,
                    S("${phoneNumber}"),
                    E,
                    E,
                ],
                W::S("9998887777"),
            ),
            (
                &[S("+1 (999) 888-7777"), E, S(r"[()\s-]+"), E, S(""), E, E],
                W::S("+19998887777"),
            ),
            (
                &[S("john_doe72"), E, S("[a-zA-Z_]*"), E, S(""), E, E],
                W::S("72"),
            ),
            (&[S("xab"), E, S("x*"), E, S("-")], W::S("--a-b-")),
            (&[S("ab"), E, S("(a)"), E, S("$1x")], W::S("axb")),
            (&[S("ab"), E, S("(a)"), E, N], W::S("b")),
            (&[S("ab"), E, N, E, S("x")], W::S("ab")),
            (&[N, E, S("a"), E, S("x")], W::Null),
            (&[S("a<b>"), E, S(r"\<b\>"), E, S("!")], W::S("a!")),
            (&[S("ab"), E, S("a(?=b)"), E, S("x")], X(C::DotnetOnlyRegex)),
            (&[S("ab"), E, S("(a"), E, S("x")], X(C::InvalidRegex)),
            // mode 4: group
            (
                &[
                    S("545 Tremont Street"),
                    E,
                    S(r"(?<streetNumber>^\d*)"),
                    S("streetNumber"),
                    S("888"),
                    E,
                    E,
                ],
                W::S("888 Tremont Street"),
            ),
            (
                &[
                    S("jsmith@contoso.com"),
                    E,
                    S("(?<Suffix>@(.)*)"),
                    S("Suffix"),
                    S(""),
                    E,
                    E,
                ],
                W::S("jsmith"),
            ),
            (
                &[S("a1b2"), E, S(r"(?<d>\d)|x"), S("d"), S("#")],
                W::S("a#b#"),
            ),
            (&[S("ax"), E, S(r"(?<d>\d)|x"), S("d"), S("#")], W::S("ax")),
            (
                &[S("a1"), E, S(r"(?<d>\d)"), S("nope"), S("#")],
                X(C::UnknownRegexGroup),
            ),
            (&[S("a1"), E, S(r"(\d)"), S("1"), S("#")], W::S("a#")),
            // mode 5: fallback attribute
            (
                &[
                    S(""),
                    E,
                    S(phone),
                    S("phoneNumber"),
                    E,
                    S("+91 8887779999"),
                    E,
                ],
                W::S("8887779999"),
            ),
            (
                &[N, E, S(phone), S("phoneNumber"), E, S("+91 8887779999"), E],
                W::S("8887779999"),
            ),
            (
                &[
                    S("+1 4255550100"),
                    E,
                    S(phone),
                    S("phoneNumber"),
                    E,
                    S("+91 8887779999"),
                    E,
                ],
                W::S("+1 4255550100"),
            ),
            (
                &[S(""), E, S(phone), S("phoneNumber"), E, S("none"), E],
                W::S(""),
            ),
            (&[N, E, S(phone), S("phoneNumber"), E, N, E], W::Null),
            (
                &[N, E, S(phone), S("nope"), E, S("x"), E],
                X(C::UnknownRegexGroup),
            ),
            // modes that do not exist
            (&[S("a"), S("b")], X(C::ReplaceMode)),
            (&[S("a"), S("b"), S("c"), E, S("d")], X(C::ReplaceMode)),
            (&[S("a"), E, S("c")], X(C::ReplaceMode)),
            (&[S("a"), E, S("c"), S("g")], X(C::ReplaceMode)),
            (
                &[S("a"), E, S("c"), E, S("r"), E, S("t")],
                X(C::ReplaceMode),
            ),
            (
                &[S("a"), S("b"), E, E, S("r"), E, S("t")],
                X(C::ReplaceMode),
            ),
            (&[S("a")], X(C::ReplaceMode)),
        ],
    );
}

#[test]
fn replace_mode_messages() {
    let msg = |slots: &[usize]| {
        replace_mode(|i| slots.contains(&i))
            .err()
            .unwrap_or_default()
    };
    assert_eq!(msg(&[1]), "oldValue needs replacementValue or template");
    assert_eq!(msg(&[2]), "regexPattern needs replacementValue");
    assert_eq!(
        msg(&[2, 3]),
        "regexGroupName needs replacementValue or replacementAttributeName"
    );
    assert_eq!(
        msg(&[2, 5]),
        "replacementAttributeName needs regexGroupName"
    );
}

#[test]
fn prepare_messages_name_the_construct() {
    let slots = [A::S("x"), E, S("(?<=a)b"), E, S("")];
    let consts: Vec<Value<'static>> = slots.iter().map(|&a| value(a)).collect();
    let cslots: Vec<ConstSlot<'_>> = slots
        .iter()
        .zip(&consts)
        .map(|(a, v)| ConstSlot {
            present: !matches!(a, A::E),
            value: Some(v),
        })
        .collect();
    match prepare_replace(&ConstArgs { slots: &cslots }) {
        Err(e) => {
            assert_eq!(e.code, C::DotnetOnlyRegex);
            assert_eq!(e.arg, Some(2));
            assert!(
                e.message.contains("lookbehind `(?<=…)` at position 1"),
                "{}",
                e.message
            );
        }
        Ok(_) => panic!("lookbehind accepted"),
    }
}

#[test]
fn unchanged_values_stay_borrowed() {
    let clock = FixedClock(DateTime::MIN);
    let mut rng = NoRandom;
    let taken = TakenSet::new();
    let limits = Limits::default();
    let mut env = Env::new(&clock, &mut rng, &taken, &limits);
    let bodies: &[(NativeFn, &[A])] = &[
        (to_lower, &[S("john")]),
        (to_upper, &[S("JOHN")]),
        (normalize_diacritics, &[S("John")]),
        (pcase, &[S("John Smith")]),
        (left, &[S("John"), I(9)]),
        (replace, &[S("John"), S("x"), E, E, S("y")]),
        (replace, &[S("John"), E, S("x"), E, S("y")]),
    ];
    for (f, slots) in bodies {
        let mut vals: Vec<Value<'static>> = slots.iter().map(|&a| value(a)).collect();
        let mask =
            slots.iter().enumerate().fold(
                0u64,
                |m, (i, a)| if matches!(a, A::E) { m } else { m | 1 << i },
            );
        let mut args = Args::new(&mut vals, mask, None);
        let got = f(&mut args, &mut env);
        assert!(
            matches!(got, Ok(Value::Str(Cow::Borrowed(_)))),
            "{slots:?} gave {got:?}",
            slots = slots.len()
        );
    }
}

proptest! {
    #[test]
    fn split_then_join_is_identity(s in "[a,b😀:]{0,20}", d in "[,:]{1,2}|😀") {
        let got = run(split, None, &[A::S(Box::leak(s.clone().into_boxed_str())), A::S(Box::leak(d.clone().into_boxed_str()))]);
        let Ok(Value::Multi(parts)) = got else { return Err(TestCaseError::fail("not a list")) };
        let texts: Vec<String> = parts.iter().map(Value::render_scalar).collect();
        prop_assert_eq!(texts.join(&d), s);
    }

    #[test]
    fn no_body_panics(s in "\\PC{0,12}", n in -3i64..20, p in "[abdkpPGZxuc0-9()\\[\\]*+?{}\\\\$<>^.|:=!&~#'_ -]{0,10}") {
        let st: &'static str = Box::leak(s.into_boxed_str());
        let pt: &'static str = Box::leak(p.into_boxed_str());
        let _ = run(left, None, &[S(st), I(n)]);
        let _ = run(mid, None, &[S(st), I(n), I(n)]);
        let _ = run(word, None, &[S(st), I(n), S(" ")]);
        let _ = run(instr, None, &[S(st), S(pt), I(n)]);
        let _ = run(replace, Some(prepare_replace), &[S(st), E, S(pt), E, S(pt)]);
        let _ = run(replace, Some(prepare_replace), &[S(st), E, S(pt), S(pt), S("x")]);
        let _ = run(pcase, None, &[S(st), S(pt)]);
    }
}

/// A miniature evaluator for the case corpus: enough syntax (calls, empty slots, strings,
/// integers, attributes, the four constants) to run `tests/data/cases/text.toml` through the
/// registry's native bodies and prepare fns, so that the corpus the VM will run after the merge
/// is known to agree with the bodies. Cases that call functions without a native body yet
/// (Join, Switch, …) are skipped here and covered by the VM harness.
mod corpus {
    use super::*;
    use crate::functions::{Arity, Imp, lookup};

    enum Outcome {
        Value(Value<'static>),
        Error(String),
        Skip,
    }

    struct Parser<'s> {
        src: &'s str,
        pos: usize,
    }

    /// A parsed argument: the expression, or `None` for an empty slot.
    enum Expr {
        Lit(Value<'static>),
        Attr(String),
        Call(String, Vec<Option<Expr>>),
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.src[self.pos..].starts_with([' ', '\t', '\r', '\n']) {
                self.pos += 1;
            }
        }

        fn peek(&self) -> Option<char> {
            self.src[self.pos..].chars().next()
        }

        fn expr(&mut self) -> Expr {
            self.ws();
            match self.peek() {
                Some('"') => {
                    self.pos += 1;
                    let mut s = String::new();
                    loop {
                        let c = self.peek().expect("unterminated string");
                        self.pos += c.len_utf8();
                        match c {
                            '"' => break,
                            '\\' => {
                                let n = self.peek().expect("lone backslash");
                                self.pos += n.len_utf8();
                                if n != '\\' && n != '"' {
                                    s.push('\\');
                                }
                                s.push(n);
                            }
                            _ => s.push(c),
                        }
                    }
                    Expr::Lit(Value::string(s))
                }
                Some('[') => {
                    let end = self.src[self.pos..]
                        .find(']')
                        .expect("unterminated attribute")
                        + self.pos;
                    let name = self.src[self.pos + 1..end].to_owned();
                    self.pos = end + 1;
                    Expr::Attr(name)
                }
                Some(c) if c == '-' || c.is_ascii_digit() => {
                    let start = self.pos;
                    self.pos += 1;
                    while self.peek().is_some_and(|d| d.is_ascii_digit()) {
                        self.pos += 1;
                    }
                    Expr::Lit(Value::Int(
                        self.src[start..self.pos].parse().expect("integer"),
                    ))
                }
                _ => {
                    let start = self.pos;
                    while self
                        .peek()
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.pos += 1;
                    }
                    let name = self.src[start..self.pos].to_owned();
                    self.ws();
                    if self.peek() != Some('(') {
                        return Expr::Lit(match name.to_ascii_lowercase().as_str() {
                            "vbtextcompare" => Value::Int(1),
                            "vbbinarycompare" => Value::Int(0),
                            "true" => Value::Bool(true),
                            "false" => Value::Bool(false),
                            other => panic!("unknown constant {other}"),
                        });
                    }
                    self.pos += 1;
                    let mut args = Vec::new();
                    self.ws();
                    if self.peek() == Some(')') {
                        self.pos += 1;
                        return Expr::Call(name, args);
                    }
                    loop {
                        self.ws();
                        if matches!(self.peek(), Some(',') | Some(')')) {
                            args.push(None);
                        } else {
                            args.push(Some(self.expr()));
                            self.ws();
                        }
                        match self.peek() {
                            Some(',') => self.pos += 1,
                            Some(')') => {
                                self.pos += 1;
                                break;
                            }
                            other => panic!("unexpected {other:?} in {}", self.src),
                        }
                    }
                    Expr::Call(name, args)
                }
            }
        }
    }

    fn attr_value(v: Option<&toml::Value>) -> Value<'static> {
        match v {
            None => Value::Null,
            Some(toml::Value::String(s)) => Value::string(s.clone()),
            Some(toml::Value::Integer(i)) => Value::Int(*i),
            Some(toml::Value::Boolean(b)) => Value::Bool(*b),
            Some(toml::Value::Array(a)) => {
                Value::multi(a.iter().map(|e| attr_value(Some(e))).collect())
            }
            Some(other) => panic!("unsupported attribute {other:?}"),
        }
    }

    fn eval(e: &Expr, attrs: &toml::Table) -> Outcome {
        match e {
            Expr::Lit(v) => Outcome::Value(v.clone()),
            Expr::Attr(n) => Outcome::Value(attr_value(attrs.get(n))),
            Expr::Call(name, args) => {
                let spec = lookup(name).expect("known function");
                let Imp::Native {
                    eval: body,
                    prepare,
                    ..
                } = spec.imp
                else {
                    return Outcome::Skip;
                };
                if args.len() < spec.min_args() || spec.max_args().is_some_and(|m| args.len() > m) {
                    return Outcome::Error("wrong-argument-count".into());
                }
                for (i, a) in args.iter().enumerate() {
                    if a.is_none()
                        && spec
                            .param_for(i)
                            .is_some_and(|p| p.arity != Arity::Optional)
                    {
                        return Outcome::Error("empty-required-arg".into());
                    }
                }
                let mut vals = Vec::new();
                for a in args {
                    match a.as_ref().map(|a| eval(a, attrs)) {
                        None => vals.push(Value::Null),
                        Some(Outcome::Value(v)) => vals.push(v),
                        Some(other) => return other,
                    }
                }
                let consts: Vec<ConstSlot<'_>> = args
                    .iter()
                    .zip(&vals)
                    .map(|(a, v)| ConstSlot {
                        present: a.is_some(),
                        value: matches!(a, Some(Expr::Lit(_))).then_some(v),
                    })
                    .collect();
                let site = match prepare.map(|p| p(&ConstArgs { slots: &consts })) {
                    Some(Err(e)) => return Outcome::Error(e.code.as_str().into()),
                    Some(Ok(site)) => site,
                    None => None,
                };
                let mask = args
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (i, a)| if a.is_some() { m | 1 << i } else { m });
                let clock = FixedClock(DateTime::MIN);
                let mut rng = NoRandom;
                let taken = TakenSet::new();
                let limits = Limits::default();
                let mut env = Env::new(&clock, &mut rng, &taken, &limits);
                let mut call = |vals: &mut Vec<Value<'static>>| {
                    let mut a = Args::new(vals, mask, site.as_deref());
                    body(&mut a, &mut env).map(Value::into_owned)
                };
                let result = match vals.first() {
                    Some(Value::Multi(list)) if spec.maps_multi => {
                        let mut out = Vec::new();
                        let mut err = None;
                        for el in list.iter() {
                            let mut v = vals.clone();
                            v[0] = el.clone();
                            match call(&mut v) {
                                Ok(r) => out.push(r),
                                Err(e) => {
                                    err = Some(e);
                                    break;
                                }
                            }
                        }
                        match err {
                            Some(e) => Err(e),
                            None => Ok(Value::multi(out)),
                        }
                    }
                    _ => call(&mut vals),
                };
                match result {
                    Ok(v) => Outcome::Value(v),
                    Err(e) => Outcome::Error(e.code.as_str().into()),
                }
            }
        }
    }

    fn expected_matches(case: &toml::Table, got: &Value<'_>) -> bool {
        if case.get("null").is_some() {
            return got.is_null();
        }
        match (case.get("output"), got) {
            (Some(toml::Value::String(w)), Value::Str(s)) => s == w,
            (Some(toml::Value::String(w)), Value::Bool(_)) => &got.render_scalar() == w,
            (Some(toml::Value::Integer(w)), Value::Int(n)) => n == w,
            (Some(toml::Value::Array(w)), Value::Multi(m)) => m.len() == w.len()
                && m.iter().zip(w).all(
                    |(v, w)| matches!((v, w), (Value::Str(s), toml::Value::String(w)) if s == w),
                ),
            _ => false,
        }
    }

    #[test]
    fn text_toml_agrees_with_the_bodies() {
        let corpus: toml::Table =
            toml::from_str(include_str!("../../../tests/data/cases/text.toml"))
                .expect("valid TOML");
        let cases = corpus
            .get("case")
            .and_then(toml::Value::as_array)
            .expect("[[case]] tables");
        let mut ran = 0;
        let mut failures = Vec::new();
        let empty = toml::Table::new();
        for case in cases {
            let case = case.as_table().expect("table");
            let name = case
                .get("name")
                .and_then(toml::Value::as_str)
                .expect("name");
            let expr = case
                .get("expr")
                .and_then(toml::Value::as_str)
                .expect("expr");
            let attrs = case
                .get("attrs")
                .and_then(toml::Value::as_table)
                .unwrap_or(&empty);
            let mut p = Parser { src: expr, pos: 0 };
            let e = p.expr();
            let want_err = case.get("error").and_then(toml::Value::as_str);
            match eval(&e, attrs) {
                Outcome::Skip => continue,
                Outcome::Value(v) => {
                    if want_err.is_some() || !expected_matches(case, &v) {
                        failures.push(format!("{name}: got {v:?}"));
                    }
                }
                Outcome::Error(code) => {
                    if want_err != Some(code.as_str()) {
                        failures.push(format!("{name}: got error {code}"));
                    }
                }
            }
            ran += 1;
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(ran >= 190, "only {ran} cases ran");
    }
}
