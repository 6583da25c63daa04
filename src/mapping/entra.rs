//! Exported Entra synchronization schemas (spec §7.3): the JSON of the portal's "Download
//! schema" or `GET …/synchronization/jobs/{jobId}/schema`.
//!
//! The reader walks `serde_json::Value`s instead of deserializing into strict structs because
//! exports vary: unknown fields, `flowTypes` spelled `"Add, Update, Delete"` or
//! `"Add,Update,Delete"`, metadata values that are JSON text, missing `directories`. Only the
//! fields mapexpr uses are read, and each is read leniently.

use serde_json::Value as Json;

use super::{Apply, Mapping, MappingSet, Source};
use crate::check::Schema;

/// One object mapping of an exported schema, with its location.
#[derive(Clone, Copy, Debug)]
pub struct ObjectMapping<'a> {
    /// Index in `synchronizationRules`.
    pub rule: usize,
    /// Index in the rule's `objectMappings`.
    pub object: usize,
    /// The rule.
    pub rule_json: &'a Json,
    /// The object mapping.
    pub json: &'a Json,
}

impl<'a> ObjectMapping<'a> {
    /// `synchronizationRules[i].objectMappings[j]`.
    pub fn location(&self) -> String {
        format!(
            "synchronizationRules[{}].objectMappings[{}]",
            self.rule, self.object
        )
    }

    /// The object mapping's `name`.
    pub fn name(&self) -> &'a str {
        str_field(self.json, "name").unwrap_or("")
    }

    /// `sourceObjectName`.
    pub fn source_object(&self) -> Option<&'a str> {
        str_field(self.json, "sourceObjectName")
    }

    /// `targetObjectName`.
    pub fn target_object(&self) -> Option<&'a str> {
        str_field(self.json, "targetObjectName")
    }

    /// The rule's `sourceDirectoryName`.
    pub fn source_directory(&self) -> Option<&'a str> {
        str_field(self.rule_json, "sourceDirectoryName")
    }

    /// The rule's `targetDirectoryName`.
    pub fn target_directory(&self) -> Option<&'a str> {
        str_field(self.rule_json, "targetDirectoryName")
    }

    /// `enabled` (absent counts as enabled).
    pub fn enabled(&self) -> bool {
        self.json
            .get("enabled")
            .and_then(Json::as_bool)
            .unwrap_or(true)
    }

    /// The `attributeMappings` array (empty when absent).
    pub fn attribute_mappings(&self) -> &'a [Json] {
        match self.json.get("attributeMappings") {
            Some(Json::Array(a)) => a,
            _ => &[],
        }
    }
}

/// Every object mapping of every rule, in order.
pub fn object_mappings(schema: &Json) -> Result<Vec<ObjectMapping<'_>>, String> {
    let Some(rules) = schema.get("synchronizationRules") else {
        return Err("not an exported synchronization schema: no `synchronizationRules`".to_owned());
    };
    let rules = rules
        .as_array()
        .ok_or("`synchronizationRules` must be an array")?;
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let oms = match rule.get("objectMappings") {
            Some(Json::Array(a)) => a.as_slice(),
            None | Some(Json::Null) => &[],
            Some(_) => {
                return Err(format!(
                    "synchronizationRules[{i}].objectMappings must be an array"
                ));
            }
        };
        for (j, om) in oms.iter().enumerate() {
            out.push(ObjectMapping {
                rule: i,
                object: j,
                rule_json: rule,
                json: om,
            });
        }
    }
    Ok(out)
}

/// The attribute definitions (`directories[name=dir].objects[name=object].attributes`), or
/// `None` when the schema does not define them. Names compare ignoring ASCII case, as Entra's
/// object and directory names do.
pub fn object_definition<'a>(schema: &'a Json, dir: &str, object: &str) -> Option<&'a [Json]> {
    let dirs = schema.get("directories")?.as_array()?;
    let d = dirs
        .iter()
        .find(|d| str_field(d, "name").is_some_and(|n| n.eq_ignore_ascii_case(dir)))?;
    let objects = d.get("objects")?.as_array()?;
    let o = objects
        .iter()
        .find(|o| str_field(o, "name").is_some_and(|n| n.eq_ignore_ascii_case(object)))?;
    match o.get("attributes") {
        Some(Json::Array(a)) => Some(a),
        _ => None,
    }
}

/// A checker [`Schema`] from an object's attribute definitions (types per spec §3.2).
pub fn schema_from_definition(attrs: &[Json]) -> Schema {
    let mut s = Schema::new();
    for a in attrs {
        let Some(name) = str_field(a, "name") else {
            continue;
        };
        let ty = str_field(a, "type").unwrap_or("String");
        s.add(
            name,
            ty,
            bool_field(a, "multivalued"),
            bool_field(a, "required"),
        );
    }
    s
}

/// Reads one `attributeMappings[k]` entry into the model. `source: null` is a constant
/// mapping whose value is the `defaultValue`.
pub fn attribute_mapping(am: &Json, origin: &str) -> Result<Mapping, String> {
    let target = str_field(am, "targetAttributeName")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("{origin}: no `targetAttributeName`"))?
        .to_owned();
    let default = str_field(am, "defaultValue").map(str::to_owned);
    let source = match am.get("source") {
        None | Some(Json::Null) => Source::Constant(default.clone().unwrap_or_default()),
        Some(src) => match str_field(src, "type").unwrap_or("") {
            t if t.eq_ignore_ascii_case("Constant") => {
                Source::Constant(str_field(src, "name").unwrap_or("").to_owned())
            }
            t if t.eq_ignore_ascii_case("Attribute") => {
                Source::Attribute(str_field(src, "name").unwrap_or("").to_owned())
            }
            t if t.eq_ignore_ascii_case("Function") => match str_field(src, "expression") {
                Some(e) => Source::Expression(e.to_owned()),
                None => return Err(format!("{origin}: a Function source without `expression`")),
            },
            other => return Err(format!("{origin}: unknown source type `{other}`")),
        },
    };
    Ok(Mapping {
        target,
        source,
        default,
        apply: flow_type_apply(str_field(am, "flowType")),
        matching_priority: am
            .get("matchingPriority")
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        origin: origin.to_owned(),
    })
}

/// `ObjectAddOnly` applies only on creation; every other flow type (`Always`, and the
/// add-only variants for values and multi-valued attributes, which still write on creation)
/// is treated as always.
fn flow_type_apply(flow: Option<&str>) -> Apply {
    match flow {
        Some(f) if f.eq_ignore_ascii_case("ObjectAddOnly") => Apply::OnCreate,
        _ => Apply::Always,
    }
}

/// The mapping set of one object mapping: the one whose `name`, `sourceObjectName` or
/// `targetObjectName` equals `object` (ignoring case), or without a name the first enabled
/// object mapping that has attribute mappings.
pub fn mapping_set(schema: &Json, object: Option<&str>) -> Result<MappingSet, String> {
    let all = object_mappings(schema)?;
    let chosen = match object {
        Some(name) => all.iter().find(|om| {
            [Some(om.name()), om.source_object(), om.target_object()]
                .into_iter()
                .flatten()
                .any(|n| n.eq_ignore_ascii_case(name))
        }),
        None => all
            .iter()
            .find(|om| om.enabled() && !om.attribute_mappings().is_empty()),
    };
    let Some(om) = chosen else {
        let names: Vec<&str> = all.iter().map(|om| om.name()).collect();
        return Err(match object {
            Some(n) => format!(
                "no object mapping named `{n}` (the schema has: {})",
                names.join(", ")
            ),
            None => "the schema has no enabled object mapping with attribute mappings".to_owned(),
        });
    };
    let base = om.location();
    let mut mappings = Vec::new();
    for (k, am) in om.attribute_mappings().iter().enumerate() {
        mappings.push(attribute_mapping(
            am,
            &format!("{base}.attributeMappings[{k}]"),
        )?);
    }
    let set = MappingSet {
        name: Some(om.name().to_owned()).filter(|n| !n.is_empty()),
        mappings,
    };
    super::check_duplicate_targets(&set)?;
    Ok(set)
}

pub(crate) fn str_field<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str)
}

/// A Boolean field; also accepts the text `"true"` some exports carry.
pub(crate) fn bool_field(v: &Json, key: &str) -> bool {
    match v.get(key) {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Apply, MappingSet, Source};
    use serde_json::json;

    fn export() -> serde_json::Value {
        json!({
            "id": "x", "version": "1",
            "synchronizationRules": [{
                "name": "USER", "sourceDirectoryName": "Workday", "targetDirectoryName": "AD",
                "metadata": [{"key": "k", "value": "{\"a\":1}"}],
                "objectMappings": [
                    { "enabled": false, "name": "Disabled", "flowTypes": "Add,Update,Delete", "attributeMappings": [
                        {"targetAttributeName": "x", "source": null, "defaultValue": "1"}] },
                    { "enabled": true, "name": "Provision Workday Workers", "flowTypes": "Add, Update, Delete",
                      "sourceObjectName": "worker", "targetObjectName": "user", "somethingNew": 1,
                      "attributeMappings": [
                        {"targetAttributeName": "company", "source": null, "defaultValue": "Contoso", "flowType": "Always", "matchingPriority": 0},
                        {"targetAttributeName": "employeeID", "source": {"expression": "[WorkerID]", "name": "WorkerID", "parameters": [], "type": "Attribute"}, "matchingPriority": 1},
                        {"targetAttributeName": "c", "source": {"expression": "\"US\"", "name": "US", "parameters": [], "type": "Constant"}},
                        {"targetAttributeName": "upn", "flowType": "ObjectAddOnly", "defaultValue": null,
                         "source": {"expression": "Join(\"@\", [a], \"b\")", "name": "Join", "parameters": [], "type": "Function"}}
                    ]}
                ]
            }]
        })
    }

    #[test]
    fn entra_reader_reads_sources_flow_types_and_priorities() {
        let set = MappingSet::load(&export().to_string(), None).unwrap();
        assert_eq!(set.name.as_deref(), Some("Provision Workday Workers"));
        let got: Vec<(&str, &Source, Apply, u32)> = set
            .mappings
            .iter()
            .map(|m| (m.target.as_str(), &m.source, m.apply, m.matching_priority))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "company",
                    &Source::Constant("Contoso".into()),
                    Apply::Always,
                    0
                ),
                (
                    "employeeID",
                    &Source::Attribute("WorkerID".into()),
                    Apply::Always,
                    1
                ),
                ("c", &Source::Constant("US".into()), Apply::Always, 0),
                (
                    "upn",
                    &Source::Expression("Join(\"@\", [a], \"b\")".into()),
                    Apply::OnCreate,
                    0
                ),
            ]
        );
        assert_eq!(
            set.mappings[3].origin,
            "synchronizationRules[0].objectMappings[1].attributeMappings[3]"
        );
    }

    #[test]
    fn entra_reader_selects_object_mappings_by_name() {
        let text = export().to_string();
        assert_eq!(
            MappingSet::load(&text, Some("disabled"))
                .unwrap()
                .mappings
                .len(),
            1
        );
        assert_eq!(
            MappingSet::load(&text, Some("USER"))
                .unwrap()
                .mappings
                .len(),
            4
        );
        let err = MappingSet::load(&text, Some("group")).unwrap_err();
        assert!(err.contains("no object mapping named `group`"), "{err}");
    }

    #[test]
    fn entra_reader_rejects_broken_entries() {
        let bad = json!({"synchronizationRules": [{"objectMappings": [{"attributeMappings": [
            {"targetAttributeName": "a", "source": {"type": "Function", "name": "Join"}}]}]}]});
        let err = MappingSet::load(&bad.to_string(), None).unwrap_err();
        assert!(
            err.contains("attributeMappings[0]: a Function source without `expression`"),
            "{err}"
        );
        let bad = json!({"synchronizationRules": [{"objectMappings": [{"attributeMappings": [{"source": null}]}]}]});
        assert!(
            MappingSet::load(&bad.to_string(), None)
                .unwrap_err()
                .contains("no `targetAttributeName`")
        );
    }
}
