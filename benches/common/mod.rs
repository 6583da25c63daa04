//! Workloads shared by the criterion benches (`benches/eval.rs`, `benches/frontend.rs`), the
//! `compare` example and the allocation test: one definition of every expression, its record,
//! its expected result, its hand-written native baseline and its closest CEL equivalent, so the
//! instruments cannot drift apart.
//!
//! Included with `#[path]` from each target; not every target uses every item.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use mapexpr::compile::Layout;
use mapexpr::functions::generate::SeededRng;
use mapexpr::{
    CompileOptions, DateTime, EvalContext, FixedClock, JsonRecord, Limits, Outcome, Program,
    Record, SlotRecord, TakenSet, Value,
};

// ---- evaluation environment ---------------------------------------------------------------

/// The clock, randomness, oracle and limits an evaluation borrows; built once per bench.
pub struct Env {
    pub clock: FixedClock,
    pub rng: SeededRng,
    pub oracle: TakenSet,
    pub limits: Limits,
}

impl Env {
    pub fn new() -> Env {
        Env {
            clock: FixedClock(DateTime::MIN),
            rng: SeededRng::from_seed(7),
            oracle: TakenSet::new(),
            limits: Limits::default(),
        }
    }

    pub fn ctx(&mut self) -> EvalContext<'_> {
        EvalContext::new(&self.clock, &mut self.rng, &self.oracle, &self.limits)
    }
}

// ---- records ------------------------------------------------------------------------------

/// The realistic Workday worker record (about 530 bytes of JSON) the single workloads and the
/// 30-mapping set read.
pub const USER_JSON: &str = r#"{"WorkerID":"21000123","UserID":"zakesson","FirstName":"Zoë","LastName":"Åkesson-Müller","PreferredFirstName":"Zoe","PreferredLastName":"Akesson","Email":"zoe.akesson@contoso.com","WorkPhone":"+46 (8) 555-0100","Mobile":"+1 (425) 555-0199","BusinessTitle":"Senior Research Engineer","Department":"Research & Development","Company":"Contoso AB","CountryReferenceTwoLetter":"SE","City":"Stockholm","State":"AB","PostalCode":"111 22","AddressLineData":"Kungsgatan 12","CostCenter":"CC-4410","LocationName":"Stockholm HQ","ManagerID":"21000007","StatusHireDate":"2021-08-18-07:00","Active":"1","WorkerType":"Employee","JobCode":"ENG-3","SupervisoryOrganization":"R&D Platform"}"#;

/// Attributes used only by single workloads (kept out of the 530-byte set record).
fn extra_attrs() -> serde_json::Value {
    let other_mails: Vec<String> = (0..20)
        .map(|i| format!("alias{i:02}@contoso.com"))
        .collect();
    serde_json::json!({
        "givenName": "John",
        "surname": "Smith",
        "givenNameD": "Zoë",
        "surnameD": "Åkesson-Müller",
        "mail": "john.smith@contoso.com",
        "samAccountName": "jsmith",
        "country": "AU",
        "key250": "K187",
        "employeeType": "Contractor",
        "mobile": "+1 (425) 555-0100",
        "telephoneNumber": "+1 4255550100",
        "hireDate": "2021-08-18-07:00",
        "otherMails": other_mails,
    })
}

/// The record a workload evaluates against: `USER_JSON` plus the extra attributes.
pub fn workload_record() -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(USER_JSON).unwrap();
    let obj = v.as_object_mut().unwrap();
    for (k, x) in extra_attrs().as_object().unwrap() {
        obj.insert(k.clone(), x.clone());
    }
    v
}

/// Lays a JSON object out in the order of `names` (a program's or layout's attribute table).
pub fn slot_values(json: &serde_json::Value, names: &[String]) -> Vec<Value<'static>> {
    let rec = JsonRecord::from_json(json).unwrap();
    names.iter().map(|n| rec.get(n).into_owned()).collect()
}

/// Binding: builds the slot table from an already parsed JSON object, borrowing its strings
/// (what a batch runner does per record). Lists allocate their element vector; objects are
/// not attribute values here and bind as Null.
pub fn bind_borrowed<'j>(
    obj: &'j serde_json::Map<String, serde_json::Value>,
    names: &[String],
    out: &mut Vec<Value<'j>>,
) {
    out.clear();
    for n in names {
        out.push(match obj.get(n.as_str()) {
            Some(serde_json::Value::String(s)) => Value::str(s),
            Some(serde_json::Value::Null) | None => Value::Null,
            Some(serde_json::Value::Array(items)) => Value::multi(
                items
                    .iter()
                    .filter_map(|x| x.as_str().map(Value::str))
                    .collect(),
            ),
            Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
            Some(serde_json::Value::Number(x)) => Value::Int(x.as_i64().unwrap_or(0)),
            Some(serde_json::Value::Object(_)) => Value::Null,
        });
    }
}

// ---- native helpers -----------------------------------------------------------------------

/// The text of a string value (natives only read string attributes).
#[inline]
pub fn text<'a>(v: &'a Value<'a>) -> &'a str {
    match v {
        Value::Str(s) => s,
        _ => "",
    }
}

/// A hand-written NormalizeDiacritics for the Latin letters the records use: the fast path
/// a native implementation would take (ASCII is copied as is).
#[inline]
pub fn fold_latin(c: char) -> char {
    match c {
        'À'..='Å' => 'A',
        'à'..='å' => 'a',
        'Ç' => 'C',
        'ç' => 'c',
        'È'..='Ë' => 'E',
        'è'..='ë' => 'e',
        'Ì'..='Ï' => 'I',
        'ì'..='ï' => 'i',
        'Ñ' => 'N',
        'ñ' => 'n',
        'Ò'..='Ö' => 'O',
        'ò'..='ö' => 'o',
        'Ù'..='Ü' => 'U',
        'ù'..='ü' => 'u',
        'Ý' => 'Y',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

/// `ToLower(NormalizeDiacritics(StripSpaces(Join(sep, a, b))))` appended to `out`.
#[inline]
pub fn push_lower_folded(out: &mut String, parts: &[&str], sep: char) {
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        for c in p.chars() {
            if c == ' ' {
                continue;
            }
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                let f = fold_latin(c);
                if f.is_ascii() {
                    out.push(f.to_ascii_lowercase());
                } else {
                    out.extend(f.to_lowercase());
                }
            }
        }
    }
}

/// The UPN computed by hand: one allocation, sized up front.
pub fn native_upn<'a>(given: &str, sur: &str, domain: &str) -> Cow<'a, str> {
    let mut out = String::with_capacity(given.len() + sur.len() + 2 + domain.len());
    push_lower_folded(&mut out, &[given, sur], '.');
    out.push('@');
    out.push_str(domain);
    Cow::Owned(out)
}

/// Deletes `(`, `)`, whitespace and `-` (the `[()\s-]+` character class) by hand.
pub fn native_strip_phone<'a>(s: &'a str) -> Cow<'a, str> {
    let del = |c: char| matches!(c, '(' | ')' | '-') || c.is_whitespace();
    if !s.chars().any(del) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    out.extend(s.chars().filter(|c| !del(*c)));
    Cow::Owned(out)
}

/// `\+(?<isdCode>\d* )(?<phoneNumber>\d{10})` → `${phoneNumber}`, by hand (first match only
/// is enough for the record; the general case would loop).
pub fn native_phone_number<'a>(s: &'a str) -> Cow<'a, str> {
    let b = s.as_bytes();
    if let Some(plus) = s.find('+') {
        let mut i = plus + 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i < b.len()
            && b[i] == b' '
            && i + 11 <= b.len()
            && b[i + 1..i + 11].iter().all(u8::is_ascii_digit)
        {
            let mut out = String::with_capacity(s.len());
            out.push_str(&s[..plus]);
            out.push_str(&s[i + 1..i + 11]);
            out.push_str(&s[i + 11..]);
            return Cow::Owned(out);
        }
    }
    Cow::Borrowed(s)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(b: &[u8]) -> i64 {
    b.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
}

/// `FormatDateTime(x, , "yyyy-MM-ddzzz", "yyyyMMddHHmmss.fZ")` by hand: parse a date with an
/// offset, convert to UTC, render. One allocation (the output).
pub fn native_hr_date<'a>(s: &str) -> Cow<'a, str> {
    let b = s.as_bytes();
    let (y, mo, d) = (num(&b[0..4]), num(&b[5..7]), num(&b[8..10]));
    let sign = if b[10] == b'-' { -1 } else { 1 };
    let off_min = sign * (num(&b[11..13]) * 60 + num(&b[14..16]));
    // Local midnight minus the offset is the UTC instant.
    let mins = days_from_civil(y, mo, d) * 1440 - off_min;
    let (days, min_of_day) = (mins.div_euclid(1440), mins.rem_euclid(1440));
    let (y, mo, d) = civil_from_days(days);
    let mut out = String::with_capacity(17);
    let mut two = |n: i64| {
        out.push((b'0' + (n / 10) as u8) as char);
        out.push((b'0' + (n % 10) as u8) as char);
    };
    two(y / 100);
    two(y % 100);
    two(mo);
    two(d);
    two(min_of_day / 60);
    two(min_of_day % 60);
    two(0);
    out.push_str(".0Z");
    Cow::Owned(out)
}

// ---- workloads ----------------------------------------------------------------------------

/// A native baseline: reads the record's slot values (in the program's attribute order,
/// indices resolved at setup) and computes the result by hand.
pub type Native = for<'a> fn(&'a [Value<'a>], &[usize]) -> Cow<'a, str>;

/// The closest CEL equivalent of a workload.
pub struct CelSpec {
    pub expr: String,
    /// Variables bound from the record (string or list-of-string attributes).
    pub vars: Vec<&'static str>,
    /// CEL's own result when it differs from mapexpr's (the equivalent is not exact).
    pub expected: Option<String>,
}

pub struct Workload {
    pub name: &'static str,
    pub expr: String,
    pub expected: String,
    /// Attributes the native reads, in the order it indexes them.
    pub native_attrs: Vec<&'static str>,
    pub native: Native,
    /// For the Replace workloads: the pattern and replacement to run on the `regex` crate
    /// directly, with the attribute it reads.
    pub regex: Option<(&'static str, &'static str, &'static str)>,
    pub cel: Option<CelSpec>,
    /// Target for steady-state allocations per evaluation (issue 6).
    pub max_allocs: usize,
}

const SWITCH6: &[(&str, &str)] = &[
    ("US", "United States"),
    ("SE", "Sweden"),
    ("DE", "Germany"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("AU", "Australia"),
];

/// The 250-way Switch's table: keys `K000`..`K249`, sorted (so the native can binary-search).
pub fn switch250_table() -> &'static [(String, String)] {
    static T: OnceLock<Vec<(String, String)>> = OnceLock::new();
    T.get_or_init(|| {
        (0..250)
            .map(|i| (format!("K{i:03}"), format!("Cost center {i:03}")))
            .collect()
    })
}

fn quote(s: &str) -> String {
    format!("\"{s}\"")
}

fn switch_expr(attr: &str, default: &str, pairs: impl Iterator<Item = (String, String)>) -> String {
    let mut e = format!("Switch([{attr}], {}", quote(default));
    for (k, v) in pairs {
        e.push_str(&format!(", {}, {}", quote(&k), quote(&v)));
    }
    e.push(')');
    e
}

fn cel_ternary(var: &str, default: &str, pairs: impl Iterator<Item = (String, String)>) -> String {
    let mut e = String::new();
    for (k, v) in pairs {
        e.push_str(&format!("{var} == {} ? {} : ", quote(&k), quote(&v)));
    }
    e.push_str(&quote(default));
    e
}

pub const UPN_EXPR: &str = r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [surname]))), "contoso.com"))"#;

pub fn workloads() -> Vec<Workload> {
    let w250 = switch250_table();
    vec![
        Workload {
            name: "constant",
            expr: r#""Contoso""#.into(),
            expected: "Contoso".into(),
            native_attrs: vec![],
            native: |_, _| Cow::Borrowed("Contoso"),
            regex: None,
            cel: Some(CelSpec { expr: r#""Contoso""#.into(), vars: vec![], expected: None }),
            max_allocs: 0,
        },
        Workload {
            name: "passthrough",
            expr: "[mail]".into(),
            expected: "john.smith@contoso.com".into(),
            native_attrs: vec!["mail"],
            native: |v, i| Cow::Borrowed(text(&v[i[0]])),
            regex: None,
            cel: Some(CelSpec { expr: "mail".into(), vars: vec!["mail"], expected: None }),
            max_allocs: 0,
        },
        Workload {
            name: "iif",
            expr: r#"IIF([employeeType]="Contractor", "External", "Internal")"#.into(),
            expected: "External".into(),
            native_attrs: vec!["employeeType"],
            native: |v, i| {
                Cow::Borrowed(if text(&v[i[0]]) == "Contractor" { "External" } else { "Internal" })
            },
            regex: None,
            cel: Some(CelSpec {
                expr: r#"employeeType == "Contractor" ? "External" : "Internal""#.into(),
                vars: vec!["employeeType"],
                expected: None,
            }),
            max_allocs: 0,
        },
        Workload {
            name: "switch6",
            expr: switch_expr(
                "country",
                "Unknown",
                SWITCH6.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            ),
            expected: "Australia".into(),
            native_attrs: vec!["country"],
            native: |v, i| {
                Cow::Borrowed(match text(&v[i[0]]) {
                    "US" => "United States",
                    "SE" => "Sweden",
                    "DE" => "Germany",
                    "FR" => "France",
                    "GB" => "United Kingdom",
                    "AU" => "Australia",
                    _ => "Unknown",
                })
            },
            regex: None,
            // CEL has no switch: a chain of conditionals is the closest equivalent.
            cel: Some(CelSpec {
                expr: cel_ternary(
                    "country",
                    "Unknown",
                    SWITCH6.iter().map(|(k, v)| (k.to_string(), v.to_string())),
                ),
                vars: vec!["country"],
                expected: None,
            }),
            max_allocs: 0,
        },
        Workload {
            name: "switch250",
            expr: switch_expr("key250", "Unknown", w250.iter().cloned()),
            expected: "Cost center 187".into(),
            native_attrs: vec!["key250"],
            native: |v, i| {
                let t = switch250_table();
                let k = text(&v[i[0]]);
                Cow::Borrowed(match t.binary_search_by(|(x, _)| x.as_str().cmp(k)) {
                    Ok(j) => t[j].1.as_str(),
                    Err(_) => "Unknown",
                })
            },
            regex: None,
            // CEL has no switch: a map literal indexed by the key (guarded by `in`) is the
            // closest equivalent; a 250-deep conditional chain is also possible but slower.
            cel: Some(CelSpec {
                expr: {
                    let m: Vec<String> =
                        w250.iter().map(|(k, v)| format!("{}: {}", quote(k), quote(v))).collect();
                    let m = format!("{{{}}}", m.join(", "));
                    format!("key250 in {m} ? {m}[key250] : \"Unknown\"")
                },
                vars: vec!["key250"],
                expected: None,
            }),
            max_allocs: 0,
        },
        Workload {
            name: "append",
            expr: r#"Append([samAccountName], "@contoso.com")"#.into(),
            expected: "jsmith@contoso.com".into(),
            native_attrs: vec!["samAccountName"],
            native: |v, i| {
                let s = text(&v[i[0]]);
                let mut out = String::with_capacity(s.len() + 12);
                out.push_str(s);
                out.push_str("@contoso.com");
                Cow::Owned(out)
            },
            regex: None,
            cel: Some(CelSpec {
                expr: r#"samAccountName + "@contoso.com""#.into(),
                vars: vec!["samAccountName"],
                expected: None,
            }),
            max_allocs: 1,
        },
        Workload {
            name: "upn_ascii",
            expr: UPN_EXPR.into(),
            expected: "john.smith@contoso.com".into(),
            native_attrs: vec!["givenName", "surname"],
            native: |v, i| native_upn(text(&v[i[0]]), text(&v[i[1]]), "contoso.com"),
            regex: None,
            // cel 0.12 has no string extensions: `replace` and `lowerAscii` are registered as
            // Rust functions following cel-go's strings extension; CEL has no
            // NormalizeDiacritics at all, so the equivalent leaves it out (a no-op on ASCII).
            cel: Some(CelSpec {
                expr: r#"(givenName + "." + surname).replace(" ", "").lowerAscii() + "@contoso.com""#.into(),
                vars: vec!["givenName", "surname"],
                expected: None,
            }),
            max_allocs: 1,
        },
        // The UPN without NormalizeDiacritics, on the same ASCII record: the difference to
        // `upn_ascii` is what NormalizeDiacritics costs on ASCII (target: nothing).
        Workload {
            name: "upn_nonorm",
            expr: r#"ToLower(Join("@", StripSpaces(Join(".", [givenName], [surname])), "contoso.com"))"#.into(),
            expected: "john.smith@contoso.com".into(),
            native_attrs: vec!["givenName", "surname"],
            native: |v, i| native_upn(text(&v[i[0]]), text(&v[i[1]]), "contoso.com"),
            regex: None,
            cel: Some(CelSpec {
                expr: r#"(givenName + "." + surname).replace(" ", "").lowerAscii() + "@contoso.com""#.into(),
                vars: vec!["givenName", "surname"],
                expected: None,
            }),
            max_allocs: 1,
        },
        Workload {
            name: "upn_diacritics",
            expr: UPN_EXPR.replace("[givenName]", "[givenNameD]").replace("[surname]", "[surnameD]"),
            expected: "zoe.akesson-muller@contoso.com".into(),
            native_attrs: vec!["givenNameD", "surnameD"],
            native: |v, i| native_upn(text(&v[i[0]]), text(&v[i[1]]), "contoso.com"),
            regex: None,
            // No NormalizeDiacritics in CEL (see upn_ascii): the result keeps the accents.
            cel: Some(CelSpec {
                expr: r#"(givenNameD + "." + surnameD).replace(" ", "").lowerAscii() + "@contoso.com""#.into(),
                vars: vec!["givenNameD", "surnameD"],
                expected: Some("zoë.Åkesson-müller@contoso.com".into()),
            }),
            max_allocs: 1,
        },
        Workload {
            name: "replace_class",
            expr: r#"Replace([mobile], , "[()\\s-]+", , "", , )"#.into(),
            expected: "+14255550100".into(),
            native_attrs: vec!["mobile"],
            native: |v, i| native_strip_phone(text(&v[i[0]])),
            regex: Some(("mobile", r"[()\s-]+", "")),
            // CEL (and cel 0.12) has no regex replace: `regexReplace` is registered as a Rust
            // function on the regex crate with the compiled pattern cached (as a peer would).
            cel: Some(CelSpec {
                expr: r#"mobile.regexReplace("[()\\s-]+", "")"#.into(),
                vars: vec!["mobile"],
                expected: None,
            }),
            max_allocs: 1,
        },
        Workload {
            name: "replace_regex",
            expr: r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#.into(),
            expected: "4255550100".into(),
            native_attrs: vec!["telephoneNumber"],
            native: |v, i| native_phone_number(text(&v[i[0]])),
            regex: Some(("telephoneNumber", r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})", "${phoneNumber}")),
            cel: Some(CelSpec {
                expr: r#"telephoneNumber.regexReplace("\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "${phoneNumber}")"#.into(),
                vars: vec!["telephoneNumber"],
                expected: None,
            }),
            max_allocs: 1,
        },
        Workload {
            name: "join20",
            expr: r#"Join(";", [otherMails])"#.into(),
            expected: (0..20).map(|i| format!("alias{i:02}@contoso.com")).collect::<Vec<_>>().join(";"),
            native_attrs: vec!["otherMails"],
            native: |v, i| {
                let items = v[i[0]].as_list();
                let len = items.iter().map(|x| text(x).len() + 1).sum::<usize>();
                let mut out = String::with_capacity(len);
                for (j, x) in items.iter().enumerate() {
                    if j > 0 {
                        out.push(';');
                    }
                    out.push_str(text(x));
                }
                Cow::Owned(out)
            },
            regex: None,
            // `join` is cel-go's strings extension, registered as a Rust function here.
            cel: Some(CelSpec {
                expr: r#"otherMails.join(";")"#.into(),
                vars: vec!["otherMails"],
                expected: None,
            }),
            max_allocs: 1,
        },
        Workload {
            name: "format_datetime",
            expr: r#"FormatDateTime([hireDate], , "yyyy-MM-ddzzz", "yyyyMMddHHmmss.fZ")"#.into(),
            expected: "20210818070000.0Z".into(),
            native_attrs: vec!["hireDate"],
            native: |v, i| native_hr_date(text(&v[i[0]])),
            regex: None,
            // CEL has no date formatting: the closest equivalent parses the date with its
            // offset into a timestamp (RFC 3339 only, so the text is rearranged with
            // `substring`, cel-go's strings extension registered here) and renders it with
            // `string()`: RFC 3339 in the source offset (cel 0.12 has no conversion to UTC),
            // not the requested format.
            cel: Some(CelSpec {
                expr: r#"string(timestamp(hireDate.substring(0, 10) + "T00:00:00" + hireDate.substring(10, 16)))"#.into(),
                vars: vec!["hireDate"],
                expected: Some("2021-08-18T00:00:00-07:00".into()),
            }),
            max_allocs: 1,
        },
    ]
}

/// A compiled workload with its records.
pub struct Prepared {
    pub w: Workload,
    pub program: Program,
    pub ast: mapexpr::syntax::ast::Expr,
    pub slots: Vec<Value<'static>>,
    pub json: JsonRecord,
    pub native_idx: Vec<usize>,
    pub expected: Value<'static>,
    pub regex: Option<(regex::Regex, usize)>,
    pub cel: Option<CelPrepared>,
}

impl Prepared {
    pub fn new(w: Workload) -> Prepared {
        let program = mapexpr::compile(&w.expr).unwrap_or_else(|e| panic!("{}: {e}", w.name));
        let ast = mapexpr::syntax::parse(&w.expr).unwrap().expr;
        let rec = workload_record();
        let slots = slot_values(&rec, program.attributes());
        let json = JsonRecord::from_json(&rec).unwrap();
        let pos = |n: &str| program.attributes().iter().position(|a| a == n).unwrap();
        let native_idx = w.native_attrs.iter().map(|n| pos(n)).collect();
        let regex = w
            .regex
            .map(|(attr, pat, _)| (regex::Regex::new(pat).unwrap(), pos(attr)));
        let cel = w.cel.as_ref().map(|c| CelPrepared::new(c, &rec));
        let expected = Value::string(w.expected.clone());
        Prepared {
            w,
            program,
            ast,
            slots,
            json,
            native_idx,
            expected,
            regex,
            cel,
        }
    }

    pub fn slot_record(&self) -> SlotRecord<'_, 'static> {
        SlotRecord::new(&self.slots)
    }

    /// Asserts a VM outcome (inside timed loops: a string compare).
    #[inline]
    pub fn check(&self, out: &Outcome<'_>) {
        match out {
            Outcome::Value(Value::Str(s)) if **s == *self.w.expected => {}
            other => panic!(
                "{}: got {other:?}, expected {:?}",
                self.w.name, self.w.expected
            ),
        }
    }

    #[inline]
    pub fn native(&self) -> Cow<'_, str> {
        (self.w.native)(&self.slots, &self.native_idx)
    }

    /// The `regex` crate called directly on the attribute.
    #[inline]
    pub fn regex_direct(&self) -> Option<Cow<'_, str>> {
        let (re, slot) = self.regex.as_ref()?;
        let rep = self.w.regex.unwrap().2;
        Some(re.replace_all(text(&self.slots[*slot]), rep))
    }
}

// ---- CEL ----------------------------------------------------------------------------------

/// A compiled CEL program with its variables' values, and the result to assert.
pub struct CelPrepared {
    pub program: cel::Program,
    /// The variables' values as CEL values (converted once; binding clones the `Arc`s).
    pub vars: Vec<(&'static str, serde_json::Value)>,
    pub expected: cel::Value,
}

impl CelPrepared {
    pub fn new(c: &CelSpec, rec: &serde_json::Value) -> CelPrepared {
        let program =
            cel::Program::compile(&c.expr).unwrap_or_else(|e| panic!("cel `{}`: {e}", c.expr));
        let vars = c.vars.iter().map(|n| (*n, rec[*n].clone())).collect();
        CelPrepared {
            program,
            vars,
            expected: cel::Value::Null,
        }
    }
}

/// Converts a JSON attribute to a CEL value: what a peer pays per variable per record.
#[inline]
pub fn cel_value(v: &serde_json::Value) -> cel::Value {
    match v {
        serde_json::Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            cel::Value::List(Arc::new(items.iter().map(cel_value).collect()))
        }
        serde_json::Value::Bool(b) => cel::Value::Bool(*b),
        serde_json::Value::Number(n) => cel::Value::Int(n.as_i64().unwrap_or(0)),
        _ => cel::Value::Null,
    }
}

/// Binds variables into a child scope of `base` (inside the timed loop for the `cel` variant).
#[inline]
pub fn cel_bind<'b>(
    base: &'b cel::Context<'b>,
    vars: &[(&'static str, serde_json::Value)],
) -> cel::Context<'b> {
    let mut c = base.new_inner_scope();
    for (n, v) in vars {
        c.add_variable_from_value(*n, cel_value(v));
    }
    c
}

/// The root CEL context: the standard library plus the cel-go extension functions the
/// equivalents need, which cel 0.12 lacks (registered as Rust functions here, so CEL pays
/// only its interpreter overhead for them, not a slower implementation).
pub fn cel_base() -> cel::Context<'static> {
    use cel::extractors::This;
    let mut ctx = cel::Context::default();
    ctx.add_function("lowerAscii", |This(s): This<Arc<String>>| -> Arc<String> {
        Arc::new(s.to_ascii_lowercase())
    });
    ctx.add_function(
        "replace",
        |This(s): This<Arc<String>>, from: Arc<String>, to: Arc<String>| -> Arc<String> {
            Arc::new(s.replace(from.as_str(), &to))
        },
    );
    ctx.add_function(
        "substring",
        |This(s): This<Arc<String>>, a: i64, b: i64| -> Arc<String> {
            Arc::new(s.get(a as usize..b as usize).unwrap_or("").to_owned())
        },
    );
    ctx.add_function(
        "join",
        |This(l): This<Arc<Vec<cel::Value>>>, sep: Arc<String>| -> Arc<String> {
            let mut out = String::new();
            for (i, v) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(&sep);
                }
                if let cel::Value::String(s) = v {
                    out.push_str(s);
                }
            }
            Arc::new(out)
        },
    );
    // Compiled regexes cached by pattern (built once; read-only while evaluating).
    let cache: HashMap<String, regex::Regex> =
        [r"[()\s-]+", r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})"]
            .iter()
            .map(|p| (p.to_string(), regex::Regex::new(p).unwrap()))
            .collect();
    ctx.add_function(
        "regexReplace",
        move |This(s): This<Arc<String>>, pat: Arc<String>, rep: Arc<String>| -> Arc<String> {
            let out = match cache.get(pat.as_str()) {
                Some(re) => re.replace_all(&s, rep.as_str()).into_owned(),
                None => regex::Regex::new(&pat)
                    .unwrap()
                    .replace_all(&s, rep.as_str())
                    .into_owned(),
            };
            Arc::new(out)
        },
    );
    ctx
}

/// Evaluates once and records CEL's result as the value to assert (the spec's CEL expected
/// text, when given, is checked here).
pub fn cel_expect(p: &mut Prepared, base: &cel::Context<'_>) {
    let Some(c) = p.cel.as_mut() else { return };
    let scope = cel_bind(base, &c.vars);
    let got = c
        .program
        .execute(&scope)
        .unwrap_or_else(|e| panic!("{}: cel: {e}", p.w.name));
    let want =
        p.w.cel
            .as_ref()
            .unwrap()
            .expected
            .clone()
            .unwrap_or_else(|| p.w.expected.clone());
    assert_eq!(
        got,
        cel::Value::String(Arc::new(want)),
        "{}: cel result",
        p.w.name
    );
    c.expected = got;
}

// ---- the 30-mapping set -------------------------------------------------------------------

/// 30 realistic Workday → Active Directory mappings (target, expression).
pub const SET30: &[(&str, &str)] = &[
    ("employeeID", "[WorkerID]"),
    ("sAMAccountName", "[UserID]"),
    (
        "givenName",
        "IIF(IsNullOrEmpty([PreferredFirstName]), [FirstName], [PreferredFirstName])",
    ),
    (
        "sn",
        "IIF(IsNullOrEmpty([PreferredLastName]), [LastName], [PreferredLastName])",
    ),
    (
        "displayName",
        r#"Join(" ", [PreferredFirstName], [PreferredLastName])"#,
    ),
    (
        "userPrincipalName",
        r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName]))), "contoso.com"))"#,
    ),
    ("mail", "[Email]"),
    (
        "mailNickname",
        r#"ToLower(NormalizeDiacritics(StripSpaces(Join(".", [PreferredFirstName], [PreferredLastName]))))"#,
    ),
    (
        "cn",
        r#"Join(" ", [PreferredFirstName], [PreferredLastName], [WorkerID])"#,
    ),
    ("title", "[BusinessTitle]"),
    ("department", "[Department]"),
    ("company", "[Company]"),
    ("c", "[CountryReferenceTwoLetter]"),
    (
        "co",
        r#"Switch([CountryReferenceTwoLetter], "Unknown", "US", "United States", "SE", "Sweden", "DE", "Germany", "FR", "France", "GB", "United Kingdom", "AU", "Australia")"#,
    ),
    (
        "countryCode",
        r#"Switch([CountryReferenceTwoLetter], "0", "US", "840", "SE", "752", "DE", "276", "FR", "250", "GB", "826", "AU", "36")"#,
    ),
    ("l", "[City]"),
    ("st", "[State]"),
    ("postalCode", "[PostalCode]"),
    ("streetAddress", "[AddressLineData]"),
    (
        "telephoneNumber",
        r#"Replace([WorkPhone], , "[()\\s-]+", , "", , )"#,
    ),
    ("mobile", r#"Replace([Mobile], , "[()\\s-]+", , "", , )"#),
    ("physicalDeliveryOfficeName", "[LocationName]"),
    ("extensionAttribute1", "[CostCenter]"),
    (
        "accountDisabled",
        r#"Switch([Active], , "1", "False", "0", "True")"#,
    ),
    (
        "employeeHireDate",
        r#"FormatDateTime([StatusHireDate], , "yyyy-MM-ddzzz", "yyyyMMddHHmmss.fZ")"#,
    ),
    ("employeeType", "[WorkerType]"),
    (
        "description",
        r#"Join(" - ", [JobCode], [SupervisoryOrganization])"#,
    ),
    ("extensionAttribute2", "ToUpper([UserID])"),
    ("manager", "[ManagerID]"),
    (
        "parentDistinguishedName",
        r#"Switch([CountryReferenceTwoLetter], "OU=Users,DC=contoso,DC=com", "SE", "OU=SE,OU=Users,DC=contoso,DC=com", "US", "OU=US,OU=Users,DC=contoso,DC=com", "DE", "OU=DE,OU=Users,DC=contoso,DC=com")"#,
    ),
];

/// `SET30` as a mapping set (one mapping per entry, in order), compiled.
pub fn set30_compiled(name: &str) -> mapexpr::mapping::CompiledSet {
    use mapexpr::mapping::{Apply, CompiledSet, Mapping, MappingSet, Source};
    let set = MappingSet {
        name: Some(name.into()),
        mappings: SET30
            .iter()
            .enumerate()
            .map(|(i, (t, e))| Mapping {
                target: (*t).into(),
                source: Source::Expression((*e).into()),
                default: None,
                apply: Apply::Always,
                matching_priority: 0,
                origin: format!("mappings[{i}]"),
            })
            .collect(),
    };
    CompiledSet::compile(&set, &mapexpr::CompileOptions::default()).unwrap()
}

/// The set's expected results for `USER_JSON`, in `SET30` order.
pub const SET30_EXPECTED: &[&str] = &[
    "21000123",
    "zakesson",
    "Zoe",
    "Akesson",
    "Zoe Akesson",
    "zoe.akesson-muller@contoso.com",
    "zoe.akesson@contoso.com",
    "zoe.akesson",
    "Zoe Akesson 21000123",
    "Senior Research Engineer",
    "Research & Development",
    "Contoso AB",
    "SE",
    "Sweden",
    "752",
    "Stockholm",
    "AB",
    "111 22",
    "Kungsgatan 12",
    "+4685550100",
    "+14255550199",
    "Stockholm HQ",
    "CC-4410",
    "False",
    "20210818070000.0Z",
    "Employee",
    "ENG-3 - R&D Platform",
    "ZAKESSON",
    "21000007",
    "OU=SE,OU=Users,DC=contoso,DC=com",
];

/// Ten more mappings for the 40-mapping compile benchmark.
pub const SET40_EXTRA: &[(&str, &str)] = &[
    ("extensionAttribute3", r#""Workday""#),
    ("extensionAttribute4", r#"Left([CostCenter], 2)"#),
    ("extensionAttribute5", r#"Mid([WorkerID], 3, 4)"#),
    ("extensionAttribute6", r#"PCase([City])"#),
    ("extensionAttribute7", r#"Trim([BusinessTitle])"#),
    (
        "extensionAttribute8",
        r#"IIF([WorkerType]="Contractor", "External", "Internal")"#,
    ),
    (
        "extensionAttribute9",
        r#"Coalesce([PreferredFirstName], [FirstName])"#,
    ),
    (
        "extensionAttribute10",
        r#"Replace([Department], "&", , , "and", , )"#,
    ),
    (
        "extensionAttribute11",
        r#"Append([UserID], "@contoso.com")"#,
    ),
    ("extensionAttribute12", r#"Word([BusinessTitle], 1, " ")"#),
];

/// The 40 expressions (30 + 10).
pub fn set40() -> Vec<&'static str> {
    SET30.iter().chain(SET40_EXTRA).map(|(_, e)| *e).collect()
}

/// Compiles a mapping set into programs sharing one layout.
pub fn compile_set(exprs: &[&str]) -> (Vec<Program>, Layout) {
    let mut layout = Layout::new();
    let opts = CompileOptions::default();
    let programs = exprs
        .iter()
        .map(|e| {
            mapexpr::compile_in_layout(e, &opts, &mut layout)
                .unwrap_or_else(|err| panic!("`{e}`: {err}"))
                .program
        })
        .collect();
    (programs, layout)
}

/// The set's attributes, by slot, as a native computation reads them.
pub struct SetSlots {
    pub idx: HashMap<&'static str, usize>,
}

/// The 30 mappings computed by hand into `out` (cleared first): the native baseline of the
/// whole set. Pass-throughs borrow; computed values allocate once each.
pub fn native_set30<'a>(v: &'a [Value<'a>], s: &[usize; 25], out: &mut Vec<Cow<'a, str>>) {
    out.clear();
    let t = |i: usize| text(&v[s[i]]);
    let (
        worker,
        user,
        first,
        last,
        pfirst,
        plast,
        email,
        wphone,
        mobile,
        title,
        dept,
        company,
        country,
        city,
        state,
        postal,
        street,
        cost,
        loc,
        mgr,
        hire,
        active,
        wtype,
        job,
        org,
    ) = (
        t(0),
        t(1),
        t(2),
        t(3),
        t(4),
        t(5),
        t(6),
        t(7),
        t(8),
        t(9),
        t(10),
        t(11),
        t(12),
        t(13),
        t(14),
        t(15),
        t(16),
        t(17),
        t(18),
        t(19),
        t(20),
        t(21),
        t(22),
        t(23),
        t(24),
    );
    let b = Cow::Borrowed;
    let join = |sep: &str, parts: &[&str]| -> Cow<'a, str> {
        let mut o = String::with_capacity(parts.iter().map(|p| p.len() + sep.len()).sum());
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                o.push_str(sep);
            }
            o.push_str(p);
        }
        Cow::Owned(o)
    };
    out.push(b(worker));
    out.push(b(user));
    out.push(b(if pfirst.is_empty() { first } else { pfirst }));
    out.push(b(if plast.is_empty() { last } else { plast }));
    out.push(join(" ", &[pfirst, plast]));
    out.push(native_upn(first, last, "contoso.com"));
    out.push(b(email));
    let mut nick = String::with_capacity(pfirst.len() + plast.len() + 1);
    push_lower_folded(&mut nick, &[pfirst, plast], '.');
    out.push(Cow::Owned(nick));
    out.push(join(" ", &[pfirst, plast, worker]));
    out.push(b(title));
    out.push(b(dept));
    out.push(b(company));
    out.push(b(country));
    out.push(b(match country {
        "US" => "United States",
        "SE" => "Sweden",
        "DE" => "Germany",
        "FR" => "France",
        "GB" => "United Kingdom",
        "AU" => "Australia",
        _ => "Unknown",
    }));
    out.push(b(match country {
        "US" => "840",
        "SE" => "752",
        "DE" => "276",
        "FR" => "250",
        "GB" => "826",
        "AU" => "36",
        _ => "0",
    }));
    out.push(b(city));
    out.push(b(state));
    out.push(b(postal));
    out.push(b(street));
    out.push(native_strip_phone(wphone));
    out.push(native_strip_phone(mobile));
    out.push(b(loc));
    out.push(b(cost));
    out.push(b(match active {
        "1" => "False",
        "0" => "True",
        _ => "",
    }));
    out.push(native_hr_date(hire));
    out.push(b(wtype));
    out.push(join(" - ", &[job, org]));
    out.push(Cow::Owned(user.to_ascii_uppercase()));
    out.push(b(mgr));
    out.push(b(match country {
        "SE" => "OU=SE,OU=Users,DC=contoso,DC=com",
        "US" => "OU=US,OU=Users,DC=contoso,DC=com",
        "DE" => "OU=DE,OU=Users,DC=contoso,DC=com",
        _ => "OU=Users,DC=contoso,DC=com",
    }));
}

/// The attribute names `native_set30` reads, in the order of its index array.
pub const SET30_NATIVE_ATTRS: [&str; 25] = [
    "WorkerID",
    "UserID",
    "FirstName",
    "LastName",
    "PreferredFirstName",
    "PreferredLastName",
    "Email",
    "WorkPhone",
    "Mobile",
    "BusinessTitle",
    "Department",
    "Company",
    "CountryReferenceTwoLetter",
    "City",
    "State",
    "PostalCode",
    "AddressLineData",
    "CostCenter",
    "LocationName",
    "ManagerID",
    "StatusHireDate",
    "Active",
    "WorkerType",
    "JobCode",
    "SupervisoryOrganization",
];

/// The closest CEL equivalents of the 30 mappings (same order). Differences from mapexpr:
/// no NormalizeDiacritics (the UPN keeps accents), FormatDateTime renders RFC 3339, and the
/// extension functions are registered in `cel_base`.
pub fn cel_set30() -> Vec<String> {
    let sw = |var: &str, d: &str, pairs: &[(&str, &str)]| {
        cel_ternary(
            var,
            d,
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    };
    vec![
        "WorkerID".into(),
        "UserID".into(),
        r#"PreferredFirstName == "" ? FirstName : PreferredFirstName"#.into(),
        r#"PreferredLastName == "" ? LastName : PreferredLastName"#.into(),
        r#"PreferredFirstName + " " + PreferredLastName"#.into(),
        r#"(FirstName + "." + LastName).replace(" ", "").lowerAscii() + "@contoso.com""#.into(),
        "Email".into(),
        r#"(PreferredFirstName + "." + PreferredLastName).replace(" ", "").lowerAscii()"#.into(),
        r#"PreferredFirstName + " " + PreferredLastName + " " + WorkerID"#.into(),
        "BusinessTitle".into(),
        "Department".into(),
        "Company".into(),
        "CountryReferenceTwoLetter".into(),
        sw("CountryReferenceTwoLetter", "Unknown", SWITCH6),
        sw("CountryReferenceTwoLetter", "0", &[("US", "840"), ("SE", "752"), ("DE", "276"), ("FR", "250"), ("GB", "826"), ("AU", "36")]),
        "City".into(),
        "State".into(),
        "PostalCode".into(),
        "AddressLineData".into(),
        r#"WorkPhone.regexReplace("[()\\s-]+", "")"#.into(),
        r#"Mobile.regexReplace("[()\\s-]+", "")"#.into(),
        "LocationName".into(),
        "CostCenter".into(),
        sw("Active", "", &[("1", "False"), ("0", "True")]),
        r#"string(timestamp(StatusHireDate.substring(0, 10) + "T00:00:00" + StatusHireDate.substring(10, 16)))"#.into(),
        "WorkerType".into(),
        r#"JobCode + " - " + SupervisoryOrganization"#.into(),
        // cel 0.12 has no upperAscii; the lower-case form is the closest registered function.
        "UserID.lowerAscii()".into(),
        "ManagerID".into(),
        sw("CountryReferenceTwoLetter", "OU=Users,DC=contoso,DC=com", &[("SE", "OU=SE,OU=Users,DC=contoso,DC=com"), ("US", "OU=US,OU=Users,DC=contoso,DC=com"), ("DE", "OU=DE,OU=Users,DC=contoso,DC=com")]),
    ]
}

/// The whole set, ready: programs on one layout, the slot record, the JSON record, the CEL
/// programs with their expected results.
pub struct Set30 {
    pub programs: Vec<Program>,
    pub layout: Layout,
    pub json_value: serde_json::Value,
    pub slots: Vec<Value<'static>>,
    pub json: JsonRecord,
    pub native_idx: [usize; 25],
    pub cel: Vec<cel::Program>,
    pub cel_vars: Vec<(&'static str, serde_json::Value)>,
    pub cel_expected: Vec<cel::Value>,
    /// The same mappings as one `CompiledSet`, and the record in its slot order.
    pub set: mapexpr::mapping::CompiledSet,
    pub set_slots: Vec<Value<'static>>,
}

impl Set30 {
    pub fn new(base: &cel::Context<'_>) -> Set30 {
        let exprs: Vec<&str> = SET30.iter().map(|(_, e)| *e).collect();
        let (programs, layout) = compile_set(&exprs);
        let json_value: serde_json::Value = serde_json::from_str(USER_JSON).unwrap();
        let slots = slot_values(&json_value, layout.names());
        let json = JsonRecord::from_json(&json_value).unwrap();
        let native_idx = SET30_NATIVE_ATTRS.map(|n| layout.get(n).unwrap().get());
        let cel: Vec<cel::Program> = cel_set30()
            .iter()
            .map(|e| cel::Program::compile(e).unwrap())
            .collect();
        let cel_vars: Vec<(&'static str, serde_json::Value)> = json_value
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (&*k.clone().leak(), v.clone()))
            .collect();
        let scope = cel_bind(base, &cel_vars);
        let cel_expected = cel.iter().map(|p| p.execute(&scope).unwrap()).collect();
        let set = set30_compiled("set30");
        let set_slots = slot_values(&json_value, set.attributes());
        Set30 {
            set,
            set_slots,
            programs,
            layout,
            json_value,
            slots,
            json,
            native_idx,
            cel,
            cel_vars,
            cel_expected,
        }
    }
}
