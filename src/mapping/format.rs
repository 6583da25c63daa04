//! mapexpr's own mapping-set JSON format (documented on `MappingSet::from_json_str`).

use serde_json::{Map, Value as Json, json};

use super::{Apply, Mapping, MappingSet, Source};

const KEYS: &[&str] = &[
    "target",
    "expression",
    "attribute",
    "constant",
    "default",
    "apply",
    "matchingPriority",
    "description",
];

pub(super) fn from_json(v: &Json) -> Result<MappingSet, String> {
    let (name, list) = match v {
        Json::Array(items) => (None, items),
        Json::Object(obj) => {
            for k in obj.keys() {
                if !matches!(k.as_str(), "name" | "mappings" | "description" | "$schema") {
                    return Err(format!(
                        "unknown key `{k}` in the mapping set (expected `name`, `mappings`)"
                    ));
                }
            }
            let name = match obj.get("name") {
                None | Some(Json::Null) => None,
                Some(Json::String(s)) => Some(s.clone()),
                Some(_) => return Err("`name` must be text".to_owned()),
            };
            match obj.get("mappings") {
                Some(Json::Array(items)) => (name, items),
                Some(_) => return Err("`mappings` must be an array".to_owned()),
                None => return Err("a mapping set needs `mappings`".to_owned()),
            }
        }
        _ => return Err("a mapping set must be a JSON object or array".to_owned()),
    };
    let mut mappings = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let origin = format!("mappings[{i}]");
        mappings.push(mapping(item, &origin).map_err(|e| format!("{origin}: {e}"))?);
    }
    let set = MappingSet { name, mappings };
    super::check_duplicate_targets(&set)?;
    Ok(set)
}

fn mapping(v: &Json, origin: &str) -> Result<Mapping, String> {
    let obj = v.as_object().ok_or("a mapping must be a JSON object")?;
    for k in obj.keys() {
        if !KEYS.contains(&k.as_str()) {
            let hint = crate::check::did_you_mean(k, KEYS.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!("unknown key `{k}`{hint}"));
        }
    }
    let target = text(obj, "target")?.ok_or("a mapping needs `target`")?;
    if target.is_empty() {
        return Err("`target` is empty".to_owned());
    }
    let sources = [
        text(obj, "expression")?.map(Source::Expression),
        text(obj, "attribute")?.map(Source::Attribute),
        text(obj, "constant")?.map(Source::Constant),
    ];
    let mut given = sources.into_iter().flatten();
    let source = match (given.next(), given.next()) {
        (Some(s), None) => s,
        _ => return Err("give exactly one of `expression`, `attribute` or `constant`".to_owned()),
    };
    let apply = match text(obj, "apply")?.as_deref() {
        None | Some("always") => Apply::Always,
        Some("create") => Apply::OnCreate,
        Some(other) => {
            return Err(format!(
                "`apply` is `{other}`; expected `always` or `create`"
            ));
        }
    };
    let matching_priority = match obj.get("matchingPriority") {
        None | Some(Json::Null) => 0,
        Some(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or("`matchingPriority` must be a whole number from 0")?,
    };
    Ok(Mapping {
        target,
        source,
        default: text(obj, "default")?,
        apply,
        matching_priority,
        origin: origin.to_owned(),
    })
}

/// A text field; absent and `null` are `None`.
fn text(obj: &Map<String, Json>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be text")),
    }
}

pub(super) fn to_json(set: &MappingSet) -> Json {
    let mappings: Vec<Json> = set
        .mappings
        .iter()
        .map(|m| {
            let mut o = Map::new();
            o.insert("target".into(), json!(m.target));
            let (k, v) = match &m.source {
                Source::Expression(e) => ("expression", e),
                Source::Attribute(a) => ("attribute", a),
                Source::Constant(c) => ("constant", c),
            };
            o.insert(k.into(), json!(v));
            if let Some(d) = &m.default {
                o.insert("default".into(), json!(d));
            }
            if m.apply == Apply::OnCreate {
                o.insert("apply".into(), json!("create"));
            }
            if m.matching_priority > 0 {
                o.insert("matchingPriority".into(), json!(m.matching_priority));
            }
            Json::Object(o)
        })
        .collect();
    let mut o = Map::new();
    if let Some(n) = &set.name {
        o.insert("name".into(), json!(n));
    }
    o.insert("mappings".into(), Json::Array(mappings));
    Json::Object(o)
}

#[cfg(test)]
mod tests {
    use super::super::{Apply, MappingSet, Source};

    /// `(input, expected)`: `Ok` = number of mappings, `Err` = a fragment of the message.
    const CASES: &[(&str, Result<usize, &str>)] = &[
        (r#"{"mappings": []}"#, Ok(0)),
        (r#"[{"target": "a", "constant": "x"}]"#, Ok(1)),
        (
            r#"{"name": "n", "mappings": [{"target": "a", "attribute": "b"}, {"target": "c", "expression": "[d]"}]}"#,
            Ok(2),
        ),
        (
            r#"{"mappings": [{"target": "a"}]}"#,
            Err("mappings[0]: give exactly one of"),
        ),
        (
            r#"{"mappings": [{"target": "a", "constant": "x", "attribute": "y"}]}"#,
            Err("exactly one"),
        ),
        (
            r#"{"mappings": [{"target": "a", "expresion": "x"}]}"#,
            Err("did you mean `expression`?"),
        ),
        (
            r#"{"mappings": [{"target": "a", "constant": "x", "apply": "never"}]}"#,
            Err("`apply` is `never`"),
        ),
        (
            r#"{"mappings": [{"target": "a", "constant": "x", "matchingPriority": -1}]}"#,
            Err("matchingPriority"),
        ),
        (
            r#"{"mappings": [{"target": "a", "constant": "x"}, {"target": "a", "constant": "y"}]}"#,
            Err("already written by mappings[0]"),
        ),
        (
            r#"{"mappings": [{"target": "", "constant": "x"}]}"#,
            Err("`target` is empty"),
        ),
        (r#"{"mapping": []}"#, Err("unknown key `mapping`")),
        (r#"{"mappings": {}}"#, Err("must be an array")),
        (r#"42"#, Err("must be a JSON object or array")),
        (r#"{"#, Err("invalid JSON")),
    ];

    #[test]
    fn mapping_format_cases() {
        for (input, expected) in CASES {
            let got = MappingSet::from_json_str(input).map(|s| s.mappings.len());
            match (expected, &got) {
                (Ok(n), Ok(m)) => assert_eq!(n, m, "{input}"),
                (Err(frag), Err(msg)) => assert!(msg.contains(frag), "{input}: {msg}"),
                _ => panic!("{input}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn mapping_format_fields_and_round_trip() {
        let text = r#"{"name": "n", "mappings": [
            {"target": "upn", "expression": "Join(\"@\", [a], \"x\")", "apply": "create", "default": "d", "matchingPriority": 2, "description": "why"}]}"#;
        let set = MappingSet::from_json_str(text).unwrap();
        let m = &set.mappings[0];
        assert_eq!(
            m.source,
            Source::Expression("Join(\"@\", [a], \"x\")".into())
        );
        assert_eq!(
            (m.apply, m.default.as_deref(), m.matching_priority),
            (Apply::OnCreate, Some("d"), 2)
        );
        let again = MappingSet::from_json_str(&set.to_json().to_string()).unwrap();
        assert_eq!(set, again);
    }
}
