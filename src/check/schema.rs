//! Source attribute schemas: names, single/multi-valued, types (spec §3.2).

use std::collections::HashMap;

use serde::Deserialize;

use super::Ty;

/// One attribute definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrDef {
    /// Exact name.
    pub name: String,
    /// The checker type (`Multi` for multi-valued attributes).
    pub ty: Ty,
    /// Known to be non-null.
    pub required: bool,
    /// A Reference-typed attribute (`switch-reference-attribute`).
    pub reference: bool,
}

/// The attributes of a source object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    attrs: HashMap<String, AttrDef>,
}

/// An attribute as written in a schema file or an Entra directory definition.
#[derive(Deserialize)]
struct RawAttr {
    name: String,
    #[serde(default, rename = "type")]
    ty: Option<String>,
    #[serde(default)]
    multivalued: bool,
    #[serde(default)]
    required: bool,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Schema::default()
    }

    /// Adds an attribute with an Entra type name (`String`, `Integer`, `Boolean`, `DateTime`,
    /// `Reference`, `Binary`).
    pub fn add(&mut self, name: &str, type_name: &str, multivalued: bool, required: bool) {
        let base = match type_name.to_ascii_lowercase().as_str() {
            "integer" | "int" => Ty::Int,
            "boolean" | "bool" => Ty::Bool,
            _ => Ty::Str,
        };
        let ty = if multivalued { Ty::Multi } else { base };
        let reference = type_name.eq_ignore_ascii_case("reference");
        self.attrs.insert(
            name.to_owned(),
            AttrDef {
                name: name.to_owned(),
                ty,
                required,
                reference,
            },
        );
    }

    /// Reads a schema file. Accepted shapes: `{"attributes": [{"name", "type", "multivalued",
    /// "required"}]}` (an Entra directory object), a bare array of such objects, or a map
    /// `{"name": "String", "proxyAddresses": "String[]"}` (a `[]` suffix marks multi-valued).
    pub fn from_json_str(text: &str) -> Result<Schema, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid schema JSON: {e}"))?;
        Schema::from_json(&v)
    }

    /// See [`Schema::from_json_str`].
    pub fn from_json(v: &serde_json::Value) -> Result<Schema, String> {
        let mut s = Schema::new();
        let list = match v {
            serde_json::Value::Array(a) => Some(a),
            serde_json::Value::Object(o) => match o.get("attributes") {
                Some(serde_json::Value::Array(a)) => Some(a),
                _ => None,
            },
            _ => return Err("a schema must be a JSON object or array".to_owned()),
        };
        match list {
            Some(items) => {
                for item in items {
                    let a: RawAttr = serde_json::from_value(item.clone())
                        .map_err(|e| format!("invalid attribute definition: {e}"))?;
                    s.add(
                        &a.name,
                        a.ty.as_deref().unwrap_or("String"),
                        a.multivalued,
                        a.required,
                    );
                }
            }
            None => {
                let Some(obj) = v.as_object() else {
                    return Err("a schema must be a JSON object or array".to_owned());
                };
                for (name, t) in obj {
                    let t = t
                        .as_str()
                        .ok_or_else(|| format!("the type of `{name}` must be text"))?;
                    let (t, multi) = match t.strip_suffix("[]") {
                        Some(base) => (base, true),
                        None => (t, false),
                    };
                    s.add(name, t, multi, false);
                }
            }
        }
        Ok(s)
    }

    /// The definition of `name` (exact).
    pub fn get(&self, name: &str) -> Option<&AttrDef> {
        self.attrs.get(name)
    }

    /// A defined name equal to `name` ignoring case.
    pub fn find_case_insensitive(&self, name: &str) -> Option<&str> {
        self.attrs
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }

    /// All names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attrs.keys().map(String::as_str)
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    /// True when no attribute is defined.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}
