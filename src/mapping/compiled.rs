//! A mapping set compiled into one evaluator with a shared attribute layout.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::{Apply, MappingSet, Mode, Source};
use crate::bytecode::{Program, Simple};
use crate::compile::Layout;
use crate::diagnostic::Diagnostic;
use crate::error::{ErrorCode, EvalError, FnError};
use crate::value::{Record, Value, buffers, json_to_value};
use crate::vm::{EvalContext, Outcome};
use crate::{CompileOptions, compile_in_layout};

/// A compiled mapping set: every expression compiled once, attribute names resolved to slots
/// of one shared layout, so a record is bound once and every mapping reads the same table.
pub struct CompiledSet {
    attributes: Vec<String>,
    index: super::bind::SlotIndex,
    mappings: Vec<CompiledMapping>,
    warnings: Vec<MappingDiagnostics>,
}

struct CompiledMapping {
    target: String,
    origin: String,
    kind: Kind,
    default: Option<Value<'static>>,
    apply: Apply,
}

enum Kind {
    Program(Box<Program>),
    /// A direct mapping reads its slot without running the VM.
    Direct(usize),
    Constant(Value<'static>),
}

/// The diagnostics of one mapping's expression.
#[derive(Clone, Debug)]
pub struct MappingDiagnostics {
    /// Where the mapping was read (`mappings[3]`).
    pub origin: String,
    /// Its target attribute.
    pub target: String,
    /// The expression text the spans point into.
    pub source: String,
    /// Errors, warnings and hints.
    pub diagnostics: Vec<Diagnostic>,
}

/// Some mapping did not compile; every mapping's diagnostics are listed.
#[derive(Clone, Debug)]
pub struct SetError {
    /// One entry per mapping with diagnostics (errors and warnings).
    pub mappings: Vec<MappingDiagnostics>,
}

impl std::fmt::Display for SetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for m in &self.mappings {
            if let Some(d) = m.diagnostics.iter().find(|d| d.is_error()) {
                return write!(
                    f,
                    "{} (`{}`): {}: {}",
                    m.origin, m.target, d.code, d.message
                );
            }
        }
        f.write_str("the mapping set does not compile")
    }
}

impl std::error::Error for SetError {}

impl std::fmt::Debug for CompiledSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSet")
            .field("attributes", &self.attributes)
            .field("targets", &self.targets().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A mapping that failed on a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The target attribute of the failing mapping; `None` when the record itself is unusable
    /// (bad JSON, invalid UTF-8, a value mapexpr cannot represent).
    pub target: Option<String>,
    /// The error.
    pub error: EvalError,
}

impl CompiledSet {
    /// Compiles every mapping. Fails with the diagnostics of every mapping that has errors
    /// (and the warnings of the others), so a broken set is reported in one go.
    pub fn compile(set: &MappingSet, opts: &CompileOptions<'_>) -> Result<CompiledSet, SetError> {
        let mut layout = Layout::new();
        let mut mappings = Vec::with_capacity(set.mappings.len());
        let mut diags = Vec::new();
        let mut failed = false;
        for m in &set.mappings {
            let kind = match &m.source {
                Source::Constant(c) => Kind::Constant(Value::string(c.clone())),
                Source::Attribute(a) => Kind::Direct(layout.slot(a).get()),
                Source::Expression(e) => match compile_in_layout(e, opts, &mut layout) {
                    Ok(c) => {
                        if !c.warnings.is_empty() {
                            diags.push(entry(m, e, c.warnings));
                        }
                        // A pass-through or a constant runs without the VM: no program
                        // to reach through a pointer, no entry to dispatch on.
                        match c.program.simple() {
                            Some(Simple::Attr(slot)) => Kind::Direct(slot),
                            Some(Simple::Const(v)) => Kind::Constant(v),
                            None => Kind::Program(Box::new(c.program)),
                        }
                    }
                    Err(err) => {
                        failed = true;
                        diags.push(entry(m, e, err.diagnostics));
                        continue;
                    }
                },
            };
            mappings.push(CompiledMapping {
                target: m.target.clone(),
                origin: m.origin.clone(),
                kind,
                default: m.default.clone().map(Value::string),
                apply: m.apply,
            });
        }
        if failed {
            return Err(SetError { mappings: diags });
        }
        Ok(CompiledSet {
            attributes: layout.names().to_vec(),
            index: super::bind::SlotIndex::new(layout.names()),
            mappings,
            warnings: diags,
        })
    }

    /// The source attributes the set reads, in slot order.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }

    /// Warnings and hints found while compiling.
    pub fn warnings(&self) -> &[MappingDiagnostics] {
        &self.warnings
    }

    /// The target attributes, in mapping order.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.mappings.iter().map(|m| m.target.as_str())
    }

    /// Binds a record: one value per slot, in slot order.
    pub fn bind<'r, R: Record + ?Sized>(&self, record: &'r R) -> Vec<Value<'r>> {
        self.attributes
            .iter()
            .enumerate()
            .map(|(i, name)| record.get_slot(i, name))
            .collect()
    }

    /// Binds one line of JSON text straight into the slot table, borrowing its strings (see
    /// [`super::bind`]); only the attributes the set reads are converted.
    pub fn bind_json_text<'t>(
        &self,
        text: &'t str,
    ) -> Result<Vec<Value<'t>>, super::bind::BindError> {
        self.index.bind(text)
    }

    /// [`CompiledSet::bind_json_text`] into a table the caller keeps between records (cleared
    /// first; see [`super::bind::recycle`] to reuse it across lines).
    pub fn bind_json_text_into<'t>(
        &self,
        text: &'t str,
        slots: &mut Vec<Value<'t>>,
    ) -> Result<(), super::bind::BindError> {
        self.index.bind_into(text, slots)
    }

    /// The attribute name → slot index the binders use.
    pub fn slot_index(&self) -> &super::bind::SlotIndex {
        &self.index
    }

    /// Binds a JSON object (spec §3.1), copying its strings so the table outlives the object;
    /// see [`CompiledSet::bind_json_borrowed`] to borrow them instead. Only the attributes the
    /// set reads are converted, so an unrepresentable value in an unused attribute does not
    /// fail the record.
    pub fn bind_json(
        &self,
        obj: &serde_json::Map<String, Json>,
    ) -> Result<Vec<Value<'static>>, FnError> {
        let mut slots = Vec::new();
        self.bind_json_borrowed(obj, &mut slots)?;
        Ok(slots.into_iter().map(Value::into_owned).collect())
    }

    /// Binds a JSON object into `slots` (cleared first, one value per slot), borrowing its
    /// strings: one pass over the object's entries, each key looked up in the set's slot index
    /// (cheaper than a by-name lookup per slot), lists of text, Booleans and nulls converted
    /// in place and everything else by [`json_to_value`]. When several attributes hold bad
    /// values, the error names the first in slot order, as [`CompiledSet::bind_json`] always
    /// did. On an error `slots` holds no meaningful values.
    pub fn bind_json_borrowed<'j>(
        &self,
        obj: &'j serde_json::Map<String, Json>,
        slots: &mut Vec<Value<'j>>,
    ) -> Result<(), FnError> {
        slots.clear();
        slots.resize(self.attributes.len(), Value::Null);
        let mut failed = false;
        for (name, v) in obj {
            let Some(slot) = self.index.slot(name) else {
                continue;
            };
            let value = match v {
                Json::String(s) => Value::str(s),
                Json::Array(items)
                    if items
                        .iter()
                        .all(|i| matches!(i, Json::Null | Json::String(_) | Json::Bool(_))) =>
                {
                    Value::multi(
                        items
                            .iter()
                            .filter_map(|item| match item {
                                Json::String(s) => Some(Value::str(s)),
                                Json::Bool(true) => Some(Value::str("True")),
                                Json::Bool(false) => Some(Value::str("False")),
                                _ => None,
                            })
                            .collect(),
                    )
                }
                other => match json_to_value(name, other) {
                    Ok(v) => v,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                },
            };
            if let Some(dst) = slots.get_mut(slot) {
                *dst = value;
            }
        }
        if failed {
            // The error path: the first bad attribute in slot order.
            for name in &self.attributes {
                if let Some(v) = obj.get(name) {
                    json_to_value(name, v)?;
                }
            }
        }
        Ok(())
    }

    /// Applies every mapping to a record bound in slot order (see [`CompiledSet::bind`] and
    /// [`SlotRecord`](crate::SlotRecord)). Returns the
    /// attributes to write, in mapping order — an IgnoreFlowIfNullOrEmpty outcome and a
    /// create-only mapping in [`Mode::Update`] leave the attribute out, a Null result takes
    /// the mapping's default — or, when any mapping fails, every failure (the record is
    /// rejected whole, nothing partial is written).
    pub fn apply<'r, R: Record + ?Sized>(
        &'r self,
        record: &'r R,
        mode: Mode,
        ctx: &mut EvalContext<'_>,
    ) -> Result<Vec<(&'r str, Value<'r>)>, Vec<Failure>> {
        let mut out = Vec::with_capacity(self.mappings.len());
        self.apply_with(record, mode, ctx, |_, target, v| out.push((target, v)))?;
        Ok(out)
    }

    /// [`CompiledSet::apply`] without collecting: each attribute to write is handed to `emit`
    /// as `(mapping index, target, value)`, in mapping order, as soon as it is computed, so a
    /// caller that serializes it (the batch runner) needs no vector per record. After the
    /// first failure `emit` is not called again; the remaining mappings still run so that
    /// every failure is listed, and the caller discards what it already got for the record.
    pub fn apply_with<'r, R: Record + ?Sized>(
        &'r self,
        record: &'r R,
        mode: Mode,
        ctx: &mut EvalContext<'_>,
        mut emit: impl FnMut(usize, &'r str, Value<'r>),
    ) -> Result<(), Vec<Failure>> {
        self.apply_each(record, mode, ctx, |i, target, v| {
            emit(i, target, std::mem::take(v));
        })
    }

    /// [`CompiledSet::apply_with`] handing each value to `emit` by reference: `emit` may take
    /// it (`std::mem::take`), and whatever it leaves is released after it returns: a built
    /// string's buffer goes back to the thread's spare buffers and builds the next result.
    ///
    /// This is the fastest way to apply a set (a sync engine that serializes each value, the
    /// batch runner): nothing is moved, and in the steady state a record allocates nothing
    /// at all (`tests/alloc.rs` counts it). Keeping values (`apply_with`, [`CompiledSet::apply`])
    /// costs an allocation per built string unless they are handed back with
    /// [`crate::recycle`].
    pub fn apply_each<'r, R: Record + ?Sized>(
        &'r self,
        record: &'r R,
        mode: Mode,
        ctx: &mut EvalContext<'_>,
        mut emit: impl FnMut(usize, &'r str, &mut Value<'r>),
    ) -> Result<(), Vec<Failure>> {
        let mut failures = Vec::new();
        // The steps of `eval_mapping` without its `Result<Option<Value>>` to build and take
        // apart: each result goes straight from the program to `emit`, the default stored in
        // place (this loop runs for every mapping of every record of a batch).
        for (i, m) in self.mappings.iter().enumerate() {
            if m.skipped_in(mode) {
                continue;
            }
            let mut r = self.outcome(m, record, ctx);
            // The result is used where it was returned, by reference, and never moved as a
            // whole: it was just written field by field, and a whole-value copy would read
            // it back before those writes can be forwarded (a stall per mapping).
            match &mut r {
                Ok(Outcome::Value(v)) => {
                    m.fill_default(v);
                    if failures.is_empty() {
                        emit(i, m.target.as_str(), v);
                    }
                    release_in_place(v);
                }
                Ok(Outcome::Ignore) => {}
                Err(_) => {
                    if let Err(error) = std::mem::replace(&mut r, Ok(Outcome::Ignore)) {
                        failures.push(Failure {
                            target: Some(m.target.clone()),
                            error,
                        });
                    }
                }
            }
            // `r` now owns nothing (see `release_in_place`): no drop glue to run.
            std::mem::forget(r);
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }

    /// Applies only the mapping that writes `target` (test cases): `None` when no mapping
    /// writes it, `Some(Ok(None))` when the attribute is left out.
    pub fn apply_target<'r, R: Record + ?Sized>(
        &'r self,
        target: &str,
        record: &'r R,
        mode: Mode,
        ctx: &mut EvalContext<'_>,
    ) -> Option<Result<Option<Value<'r>>, EvalError>> {
        let m = self.mappings.iter().find(|m| m.target == target)?;
        Some(self.eval_mapping(m, record, mode, ctx))
    }

    /// One mapping's value: `None` when the attribute is left out (Ignore, or a create-only
    /// mapping in update mode); a Null result takes the default.
    fn eval_mapping<'r, R: Record + ?Sized>(
        &'r self,
        m: &'r CompiledMapping,
        record: &'r R,
        mode: Mode,
        ctx: &mut EvalContext<'_>,
    ) -> Result<Option<Value<'r>>, EvalError> {
        if m.skipped_in(mode) {
            return Ok(None);
        }
        Ok(match self.outcome(m, record, ctx)? {
            Outcome::Ignore => None,
            Outcome::Value(mut v) => {
                m.fill_default(&mut v);
                Some(v)
            }
        })
    }

    /// A mapping's outcome before its default: the program, the attribute it passes
    /// through, or its constant. Inlined, so that `apply_each` uses the result where the
    /// program returned it.
    #[inline(always)]
    fn outcome<'r, R: Record + ?Sized>(
        &'r self,
        m: &'r CompiledMapping,
        record: &'r R,
        ctx: &mut EvalContext<'_>,
    ) -> Result<Outcome<'r>, EvalError> {
        match &m.kind {
            Kind::Program(p) => p.eval(record, ctx),
            Kind::Direct(slot) => Ok(Outcome::Value(self.read_direct(record, *slot))),
            Kind::Constant(v) => Ok(Outcome::Value(v.reborrow())),
        }
    }

    /// A direct mapping's value: its slot, read without the VM.
    #[inline]
    fn read_direct<'r, R: Record + ?Sized>(&self, record: &'r R, slot: usize) -> Value<'r> {
        let name = self.attributes.get(slot).map_or("", String::as_str);
        record.get_slot(slot, name)
    }

    /// Applies the set to any [`Record`] (binds it first); results are detached from it.
    pub fn apply_record<R: Record + ?Sized>(
        &self,
        record: &R,
        mode: Mode,
        ctx: &mut EvalContext<'_>,
    ) -> Result<Vec<(String, Value<'static>)>, Vec<Failure>> {
        let slots = self.bind(record);
        let bound = crate::value::SlotRecord::new(&slots);
        let out = self.apply(&bound, mode, ctx)?;
        Ok(out
            .into_iter()
            .map(|(t, v)| (t.to_owned(), v.into_owned()))
            .collect())
    }

    /// The origin (`mappings[3]`) of the mapping writing `target`.
    pub fn origin_of(&self, target: &str) -> Option<&str> {
        self.mappings
            .iter()
            .find(|m| m.target == target)
            .map(|m| m.origin.as_str())
    }
}

impl CompiledMapping {
    /// A create-only mapping is left out of an update.
    #[inline]
    fn skipped_in(&self, mode: Mode) -> bool {
        mode == Mode::Update && self.apply == Apply::OnCreate
    }

    /// A Null result takes the mapping's default (or stays Null without one).
    #[inline]
    fn fill_default<'r>(&'r self, v: &mut Value<'r>) {
        if let (Value::Null, Some(d)) = (&*v, &self.default) {
            *v = d.reborrow();
        }
    }
}

/// Releases what a result owns, leaving a value that owns nothing: an owned string's buffer
/// goes back to the thread's spare buffers for the next result (`value::buffers`; an empty
/// string stays, which holds no memory), anything else that owns memory becomes Null
/// through the general drop.
#[inline(always)]
fn release_in_place(v: &mut Value<'_>) {
    match v {
        Value::Str(Cow::Owned(s)) => buffers::give(std::mem::take(s)),
        other if other.owns_memory() => *other = Value::Null,
        _ => {}
    }
}

fn entry(m: &super::Mapping, src: &str, diagnostics: Vec<Diagnostic>) -> MappingDiagnostics {
    MappingDiagnostics {
        origin: m.origin.clone(),
        target: m.target.clone(),
        source: src.to_owned(),
        diagnostics,
    }
}

/// The JSON form of an output value: text, integers and Booleans as themselves, dates as
/// their rendering (spec §3.3), lists as arrays of text, Null as `null`.
pub fn value_to_json(v: &Value<'_>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Multi(m) => Json::Array(m.iter().map(|x| Json::String(x.render_scalar())).collect()),
        other => Json::String(other.render_scalar()),
    }
}

/// An input error as a failure without a target.
pub(crate) fn input_failure(message: impl Into<Cow<'static, str>>) -> Failure {
    Failure {
        target: None,
        error: EvalError {
            code: ErrorCode::InvalidInput,
            message: message.into().into_owned(),
            span: crate::syntax::Span::new(0, 0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{FixedClock, Limits, TakenSet};
    use crate::datetime::DateTime;
    use crate::functions::NoRandom;
    use crate::value::JsonRecord;

    /// The written attributes, or each failure's target and code.
    type Applied = Result<Vec<(String, Json)>, Vec<(Option<String>, &'static str)>>;

    fn run(set: &str, record: &str, mode: Mode) -> Applied {
        let set = MappingSet::from_json_str(set).unwrap();
        let compiled = CompiledSet::compile(&set, &CompileOptions::default()).unwrap();
        let rec = JsonRecord::from_json_str(record).unwrap();
        let clock = FixedClock(DateTime::MIN);
        let (mut rng, oracle, limits) = (NoRandom, TakenSet::new(), Limits::default());
        let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
        compiled
            .apply_record(&rec, mode, &mut ctx)
            .map(|v| v.into_iter().map(|(t, v)| (t, value_to_json(&v))).collect())
            .map_err(|f| {
                f.into_iter()
                    .map(|f| (f.target, f.error.code.as_str()))
                    .collect()
            })
    }

    const SET: &str = r#"{"mappings": [
        {"target": "dn", "expression": "Join(\" \", [g], [s])"},
        {"target": "dept", "attribute": "d", "default": "none"},
        {"target": "co", "constant": "Contoso"},
        {"target": "ph", "expression": "IgnoreFlowIfNullOrEmpty([p])"},
        {"target": "upn", "expression": "ToLower([g] & \"@x\")", "apply": "create"},
        {"target": "n", "expression": "Switch([k], [missing], \"1\", \"one\")", "default": "other"}
    ]}"#;

    #[test]
    fn mapping_set_applies_defaults_ignore_and_modes() {
        let got = run(SET, r#"{"g": "Ann", "s": "Lee", "k": "1"}"#, Mode::Create).unwrap();
        let want: Vec<(String, Json)> = vec![
            ("dn".into(), "Ann Lee".into()),
            ("dept".into(), "none".into()),
            ("co".into(), "Contoso".into()),
            ("upn".into(), "ann@x".into()),
            ("n".into(), "one".into()),
        ];
        assert_eq!(got, want);
        let got = run(
            SET,
            r#"{"g": "Ann", "d": "IT", "p": "555", "k": "2"}"#,
            Mode::Update,
        )
        .unwrap();
        let targets: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(targets, ["dn", "dept", "co", "ph", "n"]);
        assert_eq!(got[4].1, Json::from("other"));
    }

    #[test]
    fn mapping_set_lists_every_failure() {
        let set = r#"{"mappings": [
            {"target": "a", "expression": "CDate([x])"},
            {"target": "b", "constant": "ok"},
            {"target": "c", "expression": "Left([x], [n])"}]}"#;
        let got = run(set, r#"{"x": "nope", "n": "z"}"#, Mode::Create).unwrap_err();
        assert_eq!(
            got,
            vec![
                (Some("a".into()), "invalid-date"),
                (Some("c".into()), "invalid-integer")
            ]
        );
    }

    #[test]
    fn mapping_set_shares_one_layout() {
        let set = MappingSet::from_json_str(
            r#"[{"target": "a", "expression": "Join(\",\", [x], [y])"}, {"target": "b", "attribute": "y"}, {"target": "c", "expression": "[z] & [x]"}]"#,
        )
        .unwrap();
        let compiled = CompiledSet::compile(&set, &CompileOptions::default()).unwrap();
        assert_eq!(compiled.attributes(), ["x", "y", "z"]);
    }

    #[test]
    fn mapping_set_reports_every_broken_mapping() {
        let set = MappingSet::from_json_str(
            r#"[{"target": "a", "expression": "Join(\",\""}, {"target": "b", "attribute": "y"}, {"target": "c", "expression": "Nope([x])"}]"#,
        )
        .unwrap();
        let err = CompiledSet::compile(&set, &CompileOptions::default()).unwrap_err();
        let got: Vec<(&str, &str)> = err
            .mappings
            .iter()
            .map(|m| {
                (
                    m.target.as_str(),
                    m.diagnostics
                        .iter()
                        .find(|d| d.is_error())
                        .map_or("", |d| d.code.as_str()),
                )
            })
            .collect();
        assert_eq!(got, [("a", "unexpected-token"), ("c", "unknown-function")]);
    }

    /// Binding a parsed object through the set's index gives what converting each slot's
    /// attribute with `json_to_value` gives (the previous `bind_json`), strings borrowed, and
    /// the first bad attribute in slot order as the error.
    #[test]
    fn bind_json_borrowed_matches_per_slot_conversion() {
        let set = MappingSet::from_json_str(
            r#"[{"target": "a", "expression": "Join(\",\", [m], [s], [i], [b], [n], [o], [f], [appRoleAssignments])"}]"#,
        )
        .unwrap();
        let set = CompiledSet::compile(&set, &CompileOptions::default()).unwrap();
        let objects = [
            r#"{"s": "x", "m": ["a", true, null, 7, false], "i": -4, "b": true, "n": null, "extra": {"deep": 1.5}}"#,
            r#"{"m": [null], "s": "", "appRoleAssignments": [{"id": "1", "value": "Admin", "displayName": "A"}, "plain"]}"#,
            r#"{"f": 1.5, "o": {"x": 1}}"#,
            r#"{"o": {"x": 1}, "f": 1.5}"#,
            r#"{"m": [[1]]}"#,
            r#"{}"#,
        ];
        for text in objects {
            let v: Json = serde_json::from_str(text).unwrap();
            let obj = v.as_object().unwrap();
            let want: Result<Vec<Value<'static>>, FnError> = set
                .attributes()
                .iter()
                .map(|name| match obj.get(name) {
                    Some(v) => json_to_value(name, v),
                    None => Ok(Value::Null),
                })
                .collect();
            let mut got = Vec::new();
            match (want, set.bind_json_borrowed(obj, &mut got)) {
                (Ok(w), Ok(())) => {
                    assert_eq!(got, w, "{text}");
                    assert_eq!(set.bind_json(obj).unwrap(), w, "{text}");
                }
                (Err(w), Err(g)) => {
                    assert_eq!(g.message, w.message, "{text}");
                    assert_eq!(set.bind_json(obj).unwrap_err().message, w.message);
                }
                (w, g) => panic!("{text}: {w:?} vs {g:?}"),
            }
        }
        // Text is borrowed from the object.
        let v: Json = serde_json::from_str(r#"{"s": "borrowed"}"#).unwrap();
        let mut got = Vec::new();
        set.bind_json_borrowed(v.as_object().unwrap(), &mut got)
            .unwrap();
        let slot = set.slot_index().slot("s").unwrap();
        assert!(matches!(&got[slot], Value::Str(Cow::Borrowed("borrowed"))));
    }
}
