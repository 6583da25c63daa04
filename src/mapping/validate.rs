//! Offline validation of an exported Entra synchronization schema (spec §7.3): every
//! expression of every attribute mapping is parsed and checked against the schema's own
//! source object definition, plus the validate-only checks of spec §6.
//!
//! Severity follows "is it safe to import": what Entra rejects is an error — including an
//! expression over 10,000 characters, which the plain checker only warns about.

use serde_json::Value as Json;

use super::entra::{self, ObjectMapping, bool_field, str_field};
use crate::check::{self, CheckOptions, Schema, Ty};
use crate::context::Limits;
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::ErrorCode;
use crate::syntax::{self, Span};

/// One problem, located in the schema.
#[derive(Clone, Debug)]
pub struct Finding {
    /// `synchronizationRules[i].objectMappings[j].attributeMappings[k]` (or the object
    /// mapping's location for object-level findings).
    pub location: String,
    /// The target attribute of the mapping, when the finding is about one.
    pub target: Option<String>,
    /// The expression the diagnostic's span points into, when there is one.
    pub expression: Option<String>,
    /// Code, severity, span, message, help.
    pub diagnostic: Diagnostic,
}

/// The result of validating a schema.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every finding, in schema order.
    pub findings: Vec<Finding>,
    /// Object mappings seen.
    pub object_mappings: usize,
    /// Attribute mappings checked.
    pub attribute_mappings: usize,
}

impl Report {
    /// Findings of one severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.diagnostic.severity == severity)
            .count()
    }

    /// True when nothing would make Entra reject the schema.
    pub fn is_safe(&self) -> bool {
        self.count(Severity::Error) == 0
    }
}

/// Validates the JSON text of an exported schema. Errors are for text that is not an
/// exported schema at all; problems in mappings are findings.
pub fn validate_schema(text: &str) -> Result<Report, String> {
    let v: Json = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    validate(&v)
}

/// See [`validate_schema`].
pub fn validate(schema: &Json) -> Result<Report, String> {
    let mut report = Report::default();
    for om in entra::object_mappings(schema)? {
        report.object_mappings += 1;
        object_mapping(schema, &om, &mut report);
    }
    Ok(report)
}

/// The attribute definitions of one side of an object mapping, or a `schema-incomplete`
/// finding saying why they are missing.
fn definitions<'a>(
    schema: &'a Json,
    dir: Option<&str>,
    object: Option<&str>,
    side: &str,
    location: &str,
    report: &mut Report,
) -> Option<&'a [Json]> {
    let missing = |what: String| Finding {
        location: location.to_owned(),
        target: None,
        expression: None,
        diagnostic: Diagnostic::warning(ErrorCode::SchemaIncomplete, Span::new(0, 0), what)
            .with_help(format!("{side} attribute checks are skipped")),
    };
    let (Some(dir), Some(object)) = (dir, object) else {
        report.findings.push(missing(format!(
            "the {side} directory or object name is missing"
        )));
        return None;
    };
    if schema.get("directories").is_none() {
        report
            .findings
            .push(missing("the schema has no `directories`".to_owned()));
        return None;
    }
    let defs = entra::object_definition(schema, dir, object);
    if defs.is_none() {
        report.findings.push(missing(format!(
            "no definition of object `{object}` in directory `{dir}`"
        )));
    }
    defs
}

fn object_mapping(schema: &Json, om: &ObjectMapping<'_>, report: &mut Report) {
    let base = om.location();
    let source_defs = definitions(
        schema,
        om.source_directory(),
        om.source_object(),
        "source",
        &base,
        report,
    );
    let target_defs = definitions(
        schema,
        om.target_directory(),
        om.target_object(),
        "target",
        &base,
        report,
    );
    let source_schema = source_defs.map(entra::schema_from_definition);
    for (k, am) in om.attribute_mappings().iter().enumerate() {
        report.attribute_mappings += 1;
        let mut cx = Mapping {
            location: format!("{base}.attributeMappings[{k}]"),
            target: str_field(am, "targetAttributeName")
                .unwrap_or("")
                .to_owned(),
            findings: &mut report.findings,
        };
        let target_def = target_defs.and_then(|defs| cx.target_definition(defs));
        attribute_mapping(am, &mut cx, source_schema.as_ref(), source_defs, target_def);
    }
}

/// The finding sink of one attribute mapping.
struct Mapping<'r> {
    location: String,
    target: String,
    findings: &'r mut Vec<Finding>,
}

impl Mapping<'_> {
    fn push(&mut self, expression: Option<&str>, diagnostic: Diagnostic) {
        self.findings.push(Finding {
            location: self.location.clone(),
            target: Some(self.target.clone()),
            expression: expression.map(str::to_owned),
            diagnostic,
        });
    }

    /// The target attribute's definition; `unknown-target-attribute` when it has none.
    fn target_definition<'d>(&mut self, defs: &'d [Json]) -> Option<&'d Json> {
        let name = self.target.clone();
        if let Some(d) = defs
            .iter()
            .find(|d| str_field(d, "name") == Some(name.as_str()))
        {
            return Some(d);
        }
        let other = defs
            .iter()
            .filter_map(|d| str_field(d, "name"))
            .find(|n| n.eq_ignore_ascii_case(&name));
        let mut d = Diagnostic::warning(
            ErrorCode::UnknownTargetAttribute,
            Span::new(0, 0),
            format!("the target object defines no attribute `{name}`"),
        );
        if let Some(o) = other {
            d = d.with_help(format!(
                "did you mean `{o}`? attribute names are case-sensitive"
            ));
        }
        self.push(None, d);
        None
    }
}

fn attribute_mapping(
    am: &Json,
    cx: &mut Mapping<'_>,
    schema: Option<&Schema>,
    source_defs: Option<&[Json]>,
    target_def: Option<&Json>,
) {
    let target_multi = target_def.map(|d| bool_field(d, "multivalued"));
    let Some(source) = am.get("source").filter(|s| !s.is_null()) else {
        if str_field(am, "defaultValue").is_none_or(str::is_empty) {
            cx.push(
                None,
                Diagnostic::error(
                    ErrorCode::MissingDefaultValue,
                    Span::new(0, 0),
                    "a mapping without `source` is a constant mapping and needs a `defaultValue`",
                ),
            );
        }
        return;
    };
    let kind = str_field(source, "type").unwrap_or("");
    if kind.eq_ignore_ascii_case("Constant") {
        return;
    }
    if kind.eq_ignore_ascii_case("Attribute") {
        let name = str_field(source, "name").unwrap_or("");
        let expr = format!("[{name}]");
        let span = Span::new(0, expr.len());
        let Some(schema) = schema else { return };
        if let Some(def) = schema.get(name) {
            if def.ty == Ty::Multi && target_multi == Some(false) {
                cx.push(Some(&expr), multi_target(span, &cx.target));
            }
        } else if let Some(other) = source_defs.and_then(|d| case_variant(d, name)) {
            cx.push(
                Some(&expr),
                Diagnostic::warning(
                    ErrorCode::AttributeCaseMismatch,
                    span,
                    format!("the source object has no `[{name}]`, only `[{other}]`; names are case-sensitive"),
                )
                .with_help(format!("did you mean `[{other}]`?")),
            );
        } else {
            cx.push(
                Some(&expr),
                Diagnostic::error(
                    ErrorCode::UnknownAttribute,
                    span,
                    format!("the source object defines no attribute `{name}`"),
                ),
            );
        }
        return;
    }
    if !kind.eq_ignore_ascii_case("Function") {
        cx.push(
            None,
            Diagnostic::error(
                ErrorCode::UnexpectedToken,
                Span::new(0, 0),
                format!(
                    "unknown source type `{kind}` (expected `Attribute`, `Constant` or `Function`)"
                ),
            ),
        );
        return;
    }
    let Some(expr) = str_field(source, "expression") else {
        cx.push(
            None,
            Diagnostic::error(
                ErrorCode::UnexpectedToken,
                Span::new(0, 0),
                "a Function source without `expression`",
            ),
        );
        return;
    };
    function(am, source, expr, cx, schema, target_multi);
}

fn function(
    am: &Json,
    source: &Json,
    expr: &str,
    cx: &mut Mapping<'_>,
    schema: Option<&Schema>,
    target_multi: Option<bool>,
) {
    let limits = Limits::default();
    let parsed = match syntax::parse_with(expr, &limits) {
        Ok(p) => p,
        Err(diags) => {
            for d in diags {
                cx.push(Some(expr), import_severity(d));
            }
            return;
        }
    };
    let checked = check::check(&parsed.expr, &CheckOptions { schema, limits });
    let mut diags = parsed.warnings;
    diags.extend(checked.diagnostics);
    diags.sort_by_key(|d| d.span.start);
    let whole = Span::new(0, expr.len());
    for d in diags {
        cx.push(Some(expr), import_severity(d));
    }
    if let Some(diff) = tree_diff(source, &crate::graph::tree(&parsed.expr), "source") {
        cx.push(
            Some(expr),
            Diagnostic::warning(
                ErrorCode::TreeMismatch,
                whole,
                format!("the stored `source` tree differs from the parsed expression: {diff}"),
            )
            .with_help("re-save the mapping so the stored tree is rebuilt from the expression"),
        );
    }
    let top = parsed
        .expr
        .as_call()
        .filter(|c| c.name.eq_ignore_ascii_case("SelectUniqueValue"));
    if top.is_some() {
        let priority = am
            .get("matchingPriority")
            .and_then(Json::as_u64)
            .unwrap_or(0);
        if priority > 0 {
            cx.push(
                Some(expr),
                Diagnostic::error(
                    ErrorCode::SelectuniquevalueMatchingAttribute,
                    whole,
                    format!("SelectUniqueValue cannot be used in a matching attribute (matchingPriority is {priority})"),
                )
                .with_help("set matchingPriority to 0, or match on another attribute"),
            );
        }
        let flow = str_field(am, "flowType").unwrap_or("Always");
        if !flow.eq_ignore_ascii_case("ObjectAddOnly") {
            cx.push(
                Some(expr),
                Diagnostic::warning(
                    ErrorCode::SelectuniquevalueFlowType,
                    whole,
                    format!("SelectUniqueValue on a mapping with flowType `{flow}`"),
                )
                .with_help(
                    "apply this mapping only during object creation (flowType `ObjectAddOnly`)",
                ),
            );
        }
    }
    if checked.ty == Ty::Multi && target_multi == Some(false) {
        cx.push(Some(expr), multi_target(whole, &cx.target));
    }
}

fn multi_target(span: Span, target: &str) -> Diagnostic {
    Diagnostic::warning(
        ErrorCode::MultiValuedTarget,
        span,
        format!("a multi-valued result flows into the single-valued target attribute `{target}`"),
    )
    .with_help("pick one value, e.g. with Item(…, 1) or Join")
}

/// Entra rejects expressions over 10,000 characters, so for import safety the length lint is
/// an error.
fn import_severity(mut d: Diagnostic) -> Diagnostic {
    if d.code == ErrorCode::LengthOver10000 {
        d.severity = Severity::Error;
    }
    d
}

fn case_variant<'a>(defs: &'a [Json], name: &str) -> Option<&'a str> {
    defs.iter()
        .filter_map(|d| str_field(d, "name"))
        .find(|n| *n != name && n.eq_ignore_ascii_case(name))
}

/// The first difference between a stored `attributeMappingSource` tree and the parsed one.
/// `expression` texts are not compared (Entra stores what the admin typed, spacing included);
/// types, names and parameters are, function names and parameter keys ignoring case.
fn tree_diff(stored: &Json, parsed: &Json, path: &str) -> Option<String> {
    let field = |v: &Json, k: &str| str_field(v, k).unwrap_or("").to_owned();
    let (st, pt) = (field(stored, "type"), field(parsed, "type"));
    if !st.eq_ignore_ascii_case(&pt) {
        return Some(format!(
            "`{path}` is a {st} node in the stored tree, a {pt} node in the expression"
        ));
    }
    let (sn, pn) = (field(stored, "name"), field(parsed, "name"));
    let same_name = if pt == "Function" {
        sn.eq_ignore_ascii_case(&pn)
    } else {
        sn == pn
    };
    if !same_name {
        return Some(format!(
            "`{path}.name` is `{sn}` in the stored tree, `{pn}` in the expression"
        ));
    }
    let params = |v: &Json| {
        v.get("parameters")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (sp, pp) = (params(stored), params(parsed));
    if sp.len() != pp.len() {
        return Some(format!(
            "`{path}` ({pn}) has {} parameter(s) in the stored tree, {} in the expression",
            sp.len(),
            pp.len()
        ));
    }
    for (i, (s, p)) in sp.iter().zip(&pp).enumerate() {
        let (sk, pk) = (field(s, "key"), field(p, "key"));
        if !sk.eq_ignore_ascii_case(&pk) {
            return Some(format!(
                "`{path}.parameters[{i}].key` is `{sk}` in the stored tree, `{pk}` in the expression"
            ));
        }
        let (Some(sv), Some(pv)) = (s.get("value"), p.get("value")) else {
            return Some(format!("`{path}.parameters[{i}]` has no value"));
        };
        if let Some(d) = tree_diff(sv, pv, &format!("{path}.parameters[{i}].value")) {
            return Some(d);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn findings(am: Json) -> Vec<(String, &'static str)> {
        let schema = json!({
            "synchronizationRules": [{"sourceDirectoryName": "HR", "targetDirectoryName": "AD", "objectMappings": [{
                "sourceObjectName": "worker", "targetObjectName": "user", "attributeMappings": [am]}]}],
            "directories": [
                {"name": "HR", "objects": [{"name": "worker", "attributes": [
                    {"name": "FirstName", "type": "String"}, {"name": "Emails", "type": "String", "multivalued": true}]}]},
                {"name": "AD", "objects": [{"name": "user", "attributes": [
                    {"name": "givenName", "type": "String"}, {"name": "proxyAddresses", "type": "String", "multivalued": true}]}]}
            ]
        });
        let report = validate(&schema).unwrap();
        report
            .findings
            .iter()
            .filter(|f| f.diagnostic.severity > Severity::Hint)
            .map(|f| {
                (
                    f.target.clone().unwrap_or_default(),
                    f.diagnostic.code.as_str(),
                )
            })
            .collect()
    }

    fn function_source(expr: &str) -> Json {
        let tree = crate::graph::tree(&crate::syntax::parse(expr).unwrap().expr);
        let mut t = tree.as_object().unwrap().clone();
        t.insert("expression".into(), json!(expr));
        Json::Object(t)
    }

    #[test]
    fn validate_attribute_mapping_cases() {
        let g = |src: Json| json!({"targetAttributeName": "givenName", "source": src, "matchingPriority": 0});
        assert_eq!(
            findings(g(json!({"type": "Attribute", "name": "FirstName"}))),
            []
        );
        assert_eq!(
            findings(g(json!({"type": "Attribute", "name": "firstName"}))),
            [("givenName".into(), "attribute-case-mismatch")]
        );
        assert_eq!(
            findings(g(json!({"type": "Attribute", "name": "Nope"}))),
            [("givenName".into(), "unknown-attribute")]
        );
        assert_eq!(
            findings(g(json!({"type": "Attribute", "name": "Emails"}))),
            [("givenName".into(), "multi-valued-target")]
        );
        assert_eq!(
            findings(g(Json::Null)),
            [("givenName".into(), "missing-default-value")]
        );
        assert_eq!(
            findings(
                json!({"targetAttributeName": "gn", "source": {"type": "Constant", "name": "x"}})
            ),
            [("gn".into(), "unknown-target-attribute")]
        );
        assert_eq!(findings(g(function_source("ToLower([FirstName])"))), []);
        assert_eq!(
            findings(g(function_source("ToLower([Missing])"))),
            [("givenName".into(), "unknown-attribute")]
        );
        let mut stale = function_source("ToLower([FirstName])");
        stale["name"] = json!("ToUpper");
        assert_eq!(findings(g(stale)), [("givenName".into(), "tree-mismatch")]);
        let suv = function_source(
            r#"SelectUniqueValue(NormalizeDiacritics([FirstName]), NormalizeDiacritics(Join(".", [FirstName], "x")))"#,
        );
        let am = json!({"targetAttributeName": "givenName", "source": suv, "matchingPriority": 1, "flowType": "Always"});
        assert_eq!(
            findings(am),
            [
                ("givenName".into(), "selectuniquevalue-matching-attribute"),
                ("givenName".into(), "selectuniquevalue-flow-type")
            ]
        );
        let long = format!("Join(\"\", [FirstName], \"{}\")", "x".repeat(10_001));
        let f = findings(g(function_source(&long)));
        assert_eq!(f, [("givenName".into(), "length-over-10000")]);
    }

    #[test]
    fn validate_reports_missing_definitions() {
        let schema = json!({"synchronizationRules": [{"objectMappings": [{"sourceObjectName": "a", "targetObjectName": "b",
            "attributeMappings": [{"targetAttributeName": "x", "source": {"type": "Attribute", "name": "y"}}]}]}]});
        let report = validate(&schema).unwrap();
        let codes: Vec<&str> = report
            .findings
            .iter()
            .map(|f| f.diagnostic.code.as_str())
            .collect();
        assert_eq!(codes, ["schema-incomplete", "schema-incomplete"]);
        assert!(report.is_safe());
        assert!(validate(&json!({"x": 1})).is_err());
    }
}
