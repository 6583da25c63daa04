//! Runs the date, generator and directory case files against the native bodies before the VM
//! exists on this branch: a tiny evaluator for calls whose arguments are literals, attributes,
//! empty slots and nested calls of this family. Cases that need other functions or operators
//! are left to the VM harness (`tests/it/cases.rs`); this only guards the files' expectations
//! against the implementation of the functions they test.

use crate::context::{FixedClock, Limits, TakenSet};
use crate::datetime::{DateTime, parse_rfc3339};
use crate::functions::generate::SeededRng;
use crate::functions::{Args, ConstArgs, ConstSlot, Env, Imp, lookup};
use crate::value::{JsonRecord, Record, Value};

/// Functions this evaluator may call.
const OWN: &[&str] = &[
    "CDate",
    "DateAdd",
    "DateDiff",
    "DateFromNum",
    "FormatDateTime",
    "Guid",
    "Now",
    "NumFromDate",
    "RandomString",
    "SingleAppRoleAssignment",
    "AppRoleAssignmentsComplex",
];

enum Expr {
    Empty,
    Str(String),
    Int(i64),
    Attr(String),
    Call(String, Vec<Expr>),
}

struct P<'s> {
    s: &'s [char],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn expr(&mut self) -> Option<Expr> {
        self.ws();
        let c = *self.s.get(self.i)?;
        if c == '"' {
            self.i += 1;
            let mut out = String::new();
            loop {
                match *self.s.get(self.i)? {
                    '"' => {
                        self.i += 1;
                        return Some(Expr::Str(out));
                    }
                    '\\' => {
                        let n = *self.s.get(self.i + 1)?;
                        if n == '\\' || n == '"' {
                            out.push(n);
                        } else {
                            out.push('\\');
                            out.push(n);
                        }
                        self.i += 2;
                    }
                    ch => {
                        out.push(ch);
                        self.i += 1;
                    }
                }
            }
        } else if c == '[' {
            let end = self.s.get(self.i..)?.iter().position(|&c| c == ']')?;
            let name: String = self.s.get(self.i + 1..self.i + end)?.iter().collect();
            self.i += end + 1;
            Some(Expr::Attr(name))
        } else if c == '-' || c.is_ascii_digit() {
            let start = self.i;
            self.i += 1;
            while self.s.get(self.i).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            let t: String = self.s.get(start..self.i)?.iter().collect();
            t.parse().ok().map(Expr::Int)
        } else if c.is_ascii_alphabetic() {
            let start = self.i;
            while self
                .s
                .get(self.i)
                .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                self.i += 1;
            }
            let name: String = self.s.get(start..self.i)?.iter().collect();
            self.ws();
            if self.s.get(self.i) != Some(&'(') {
                return None;
            }
            self.i += 1;
            let mut args = Vec::new();
            self.ws();
            if self.s.get(self.i) == Some(&')') {
                self.i += 1;
                return Some(Expr::Call(name, args));
            }
            loop {
                self.ws();
                let arg = if matches!(self.s.get(self.i), Some(',' | ')')) {
                    Expr::Empty
                } else {
                    self.expr()?
                };
                args.push(arg);
                self.ws();
                match *self.s.get(self.i)? {
                    ',' => self.i += 1,
                    ')' => {
                        self.i += 1;
                        return Some(Expr::Call(name, args));
                    }
                    _ => return None,
                }
            }
        } else {
            None
        }
    }
}

fn eval(e: &Expr, rec: &JsonRecord, env: &mut Env<'_>) -> Result<Value<'static>, String> {
    match e {
        Expr::Empty => Ok(Value::Null),
        Expr::Str(s) => Ok(Value::string(s.clone())),
        Expr::Int(i) => Ok(Value::Int(*i)),
        Expr::Attr(a) => Ok(rec.get(a).into_owned()),
        Expr::Call(name, args) => {
            let spec = lookup(name).ok_or("unknown")?;
            let Imp::Native {
                eval: body,
                prepare,
                ..
            } = spec.imp
            else {
                return Err("lazy".into());
            };
            let mut slots: Vec<Option<&Expr>> = args
                .iter()
                .map(|a| (!matches!(a, Expr::Empty)).then_some(a))
                .collect();
            if spec.name == "FormatDateTime" && slots.len() == 3 {
                // The compiler's normalisation of the three-argument form.
                slots.insert(1, None);
            }
            let consts: Vec<Option<Value<'static>>> = slots
                .iter()
                .map(|a| match a {
                    Some(Expr::Str(s)) => Some(Value::string(s.clone())),
                    Some(Expr::Int(i)) => Some(Value::Int(*i)),
                    _ => None,
                })
                .collect();
            let const_slots: Vec<ConstSlot<'_>> = slots
                .iter()
                .zip(&consts)
                .map(|(a, v)| ConstSlot {
                    present: a.is_some(),
                    value: v.as_ref(),
                })
                .collect();
            let site = match prepare {
                Some(p) => p(&ConstArgs {
                    slots: &const_slots,
                })
                .map_err(|e| e.code.as_str().to_owned())?,
                None => None,
            };
            let mut vals = Vec::new();
            let mut mask = 0u64;
            for (k, a) in slots.iter().enumerate() {
                match a {
                    Some(a) => {
                        vals.push(eval(a, rec, env)?);
                        mask |= 1 << k;
                    }
                    None => vals.push(Value::Null),
                }
            }
            let mut call_args = Args::new(&mut vals, mask, site.as_deref());
            body(&mut call_args, env)
                .map(Value::into_owned)
                .map_err(|e| e.code.as_str().to_owned())
        }
    }
}

fn uses_only_own(e: &Expr) -> bool {
    match e {
        Expr::Call(name, args) => {
            OWN.iter().any(|o| o.eq_ignore_ascii_case(name)) && args.iter().all(uses_only_own)
        }
        _ => true,
    }
}

fn render(v: &Value<'_>) -> toml::Value {
    match v {
        Value::Int(i) => toml::Value::Integer(*i),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Multi(m) => toml::Value::Array(
            m.iter()
                .map(|x| toml::Value::String(x.render_scalar()))
                .collect(),
        ),
        other => toml::Value::String(other.render_scalar()),
    }
}

fn run_file(text: &str) -> (usize, Vec<String>) {
    let doc: toml::Value = match toml::from_str(text) {
        Ok(d) => d,
        Err(e) => return (0, vec![format!("bad toml: {e}")]),
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    let cases = doc
        .get("case")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    for case in &cases {
        let name = case.get("name").and_then(|v| v.as_str()).unwrap_or("?");
        let expr = case.get("expr").and_then(|v| v.as_str()).unwrap_or("");
        let chars: Vec<char> = expr.chars().collect();
        let mut p = P { s: &chars, i: 0 };
        let Some(e) = p.expr() else { continue };
        p.ws();
        if p.i != chars.len() || !uses_only_own(&e) {
            continue;
        }
        let attrs = case
            .get("attrs")
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()));
        let rec = serde_json::to_value(&attrs)
            .map_err(|e| e.to_string())
            .and_then(|j| JsonRecord::from_json(&j).map_err(|e| e.message));
        let Ok(rec) = rec else {
            failures.push(format!("{name}: bad attrs"));
            continue;
        };
        let now = case
            .get("now")
            .and_then(|v| v.as_str())
            .and_then(parse_rfc3339)
            .unwrap_or_else(DateTime::now_utc);
        let clock = FixedClock(now);
        let mut rng = match case.get("seed").and_then(|v| v.as_integer()) {
            Some(s) => SeededRng::from_seed(s as u64),
            None => SeededRng::from_entropy(),
        };
        let taken = TakenSet::new();
        let limits = Limits::default();
        let mut env = Env::new(&clock, &mut rng, &taken, &limits);
        let got = eval(&e, &rec, &mut env);
        let want_err = case.get("error").and_then(|v| v.as_str());
        let want_null = case.get("null").and_then(|v| v.as_bool()).unwrap_or(false);
        let ok = match (&got, want_err, want_null, case.get("output")) {
            (Err(code), Some(w), _, _) => code == w,
            (Ok(Value::Null), None, true, _) => true,
            (Ok(v), None, false, Some(out)) if !v.is_null() => &render(v) == out,
            _ => false,
        };
        checked += 1;
        if !ok {
            let shown = match &got {
                Ok(v) => format!("{:?}", render(v)),
                Err(c) => format!("error {c}"),
            };
            failures.push(format!("{name}: `{expr}` gave {shown}"));
        }
    }
    (checked, failures)
}

#[test]
fn own_case_files_hold() {
    let files = [
        (
            "datetime",
            include_str!("../../tests/data/cases/datetime.toml"),
        ),
        (
            "generate",
            include_str!("../../tests/data/cases/generate.toml"),
        ),
        (
            "directory",
            include_str!("../../tests/data/cases/directory.toml"),
        ),
    ];
    let mut all = Vec::new();
    let mut total = 0;
    for (file, text) in files {
        let (checked, failures) = run_file(text);
        total += checked;
        all.extend(failures.into_iter().map(|f| format!("{file}.toml {f}")));
    }
    assert!(
        all.is_empty(),
        "{} of {total} checked cases fail:\n{}",
        all.len(),
        all.join("\n")
    );
    assert!(total > 250, "only {total} cases were checkable");
}
