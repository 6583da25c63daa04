//! Records: where attribute values come from.
//!
//! The VM reads attributes through the [`Record`] trait, so a sync engine can evaluate against
//! its own storage without copying: it returns `Value::Str(Cow::Borrowed(..))` into its data.
//! Attribute names are resolved to slot numbers at compile time; a record that stores its
//! values in slot order ([`SlotRecord`]) answers without hashing.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Value;
use crate::error::{ErrorCode, FnError};

/// A source of attribute values.
pub trait Record {
    /// The value of the attribute `name` (exact, case-sensitive lookup, S2); Null when absent.
    fn get(&self, name: &str) -> Value<'_>;

    /// The value of the attribute in `slot` of the program's attribute table (see
    /// `Program::attributes`). The default looks the name up; slot-ordered records override it.
    fn get_slot(&self, slot: usize, name: &str) -> Value<'_> {
        let _ = slot;
        self.get(name)
    }

    /// A name the record holds that equals `name` ignoring case, for the
    /// `attribute-case-mismatch` warning. Called only on the cold path.
    fn find_case_insensitive(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }
}

impl<R: Record + ?Sized> Record for &R {
    fn get(&self, name: &str) -> Value<'_> {
        (**self).get(name)
    }
    #[inline]
    fn get_slot(&self, slot: usize, name: &str) -> Value<'_> {
        (**self).get_slot(slot, name)
    }
    fn find_case_insensitive(&self, name: &str) -> Option<String> {
        (**self).find_case_insensitive(name)
    }
}

/// A record whose values are stored in the order of a program's (or mapping set's) attribute
/// table: `values[slot]`. Binding is free and lookups never hash.
#[derive(Clone, Copy, Debug)]
pub struct SlotRecord<'r, 'a> {
    values: &'r [Value<'a>],
}

impl<'r, 'a> SlotRecord<'r, 'a> {
    /// Wraps values laid out in slot order; missing trailing slots read as Null.
    pub fn new(values: &'r [Value<'a>]) -> Self {
        SlotRecord { values }
    }
}

impl Record for SlotRecord<'_, '_> {
    fn get(&self, _name: &str) -> Value<'_> {
        // A slot record has no names; the VM always asks by slot.
        Value::Null
    }
    #[inline]
    fn get_slot(&self, slot: usize, _name: &str) -> Value<'_> {
        match self.values.get(slot) {
            Some(v) => v.reborrow(),
            None => Value::Null,
        }
    }
}

/// An app role assignment (F21), as found in `appRoleAssignments`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRole {
    /// The assignment's id.
    pub id: Option<String>,
    /// The role's value.
    pub value: Option<String>,
    /// The role's display name.
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
}

impl AppRole {
    /// Compact JSON with keys in the order `id`, `value`, `displayName` (spec, AppRoleAssignmentsComplex).
    pub fn to_json(&self) -> String {
        // Serializing three optional strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A record read from a JSON object (spec §3.1): the ready record type of the CLI and tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonRecord {
    attrs: HashMap<String, Value<'static>>,
}

impl JsonRecord {
    /// An empty record.
    pub fn new() -> Self {
        JsonRecord::default()
    }

    /// Sets an attribute.
    pub fn insert(&mut self, name: impl Into<String>, value: Value<'static>) {
        self.attrs.insert(name.into(), value);
    }

    /// Parses JSON text: a plain object, or Graph's `expressionInputObject`
    /// (`{"properties":[{"key":…,"value":…}]}`).
    pub fn from_json_str(text: &str) -> Result<JsonRecord, FnError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            FnError::new(
                ErrorCode::InvalidInput,
                format!("the record is not valid JSON: {e}"),
            )
        })?;
        JsonRecord::from_json(&v)
    }

    /// Converts a JSON object per spec §3.1. Values mapexpr cannot represent are
    /// `invalid-input` naming the attribute.
    pub fn from_json(v: &serde_json::Value) -> Result<JsonRecord, FnError> {
        let obj = v.as_object().ok_or_else(|| {
            FnError::new(ErrorCode::InvalidInput, "the record must be a JSON object")
        })?;
        let mut rec = JsonRecord::new();
        if let Some(props) = graph_properties(obj) {
            for (k, v) in props {
                rec.attrs.insert(k.to_owned(), json_to_value(k, v)?);
            }
            return Ok(rec);
        }
        for (k, v) in obj {
            rec.attrs.insert(k.clone(), json_to_value(k, v)?);
        }
        Ok(rec)
    }

    /// The attribute names, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attrs.keys().map(String::as_str)
    }
}

/// Recognises Graph's `{"properties":[{"key","value"}]}` input shape.
fn graph_properties(
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Option<Vec<(&str, &serde_json::Value)>> {
    if obj.len() != 1 {
        return None;
    }
    let props = obj.get("properties")?.as_array()?;
    let mut out = Vec::with_capacity(props.len());
    for p in props {
        let p = p.as_object()?;
        let key = p.get("key")?.as_str()?;
        out.push((key, p.get("value").unwrap_or(&serde_json::Value::Null)));
    }
    Some(out)
}

/// Converts one attribute's JSON value (spec §3.1).
pub fn json_to_value(name: &str, v: &serde_json::Value) -> Result<Value<'static>, FnError> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::String(s) => Value::Str(Cow::Owned(s.clone())),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => return Err(bad_input(name, "a fractional or out-of-range number")),
        },
        J::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    J::Null => {}
                    J::String(s) => out.push(Value::Str(Cow::Owned(s.clone()))),
                    J::Bool(b) => {
                        out.push(Value::string(if *b { "True" } else { "False" }.to_owned()))
                    }
                    J::Number(n) => match n.as_i64() {
                        Some(i) => out.push(Value::string(i.to_string())),
                        None => {
                            return Err(bad_input(
                                name,
                                "a fractional or out-of-range number in a list",
                            ));
                        }
                    },
                    J::Object(_) if name == "appRoleAssignments" => {
                        let role: AppRole = serde_json::from_value(item.clone()).map_err(|_| {
                            bad_input(
                                name,
                                "an app role assignment that is not {id, value, displayName} text",
                            )
                        })?;
                        out.push(Value::Role(std::sync::Arc::new(role)));
                    }
                    J::Object(_) => return Err(bad_input(name, "an object in a list")),
                    J::Array(_) => return Err(bad_input(name, "a nested list")),
                }
            }
            Value::multi(out)
        }
        J::Object(_) => return Err(bad_input(name, "an object")),
    })
}

#[cold]
fn bad_input(name: &str, what: &str) -> FnError {
    FnError::new(
        ErrorCode::InvalidInput,
        format!("attribute `{name}` holds {what}"),
    )
}

impl Record for JsonRecord {
    fn get(&self, name: &str) -> Value<'_> {
        match self.attrs.get(name) {
            Some(v) => v.reborrow(),
            None => Value::Null,
        }
    }

    fn find_case_insensitive(&self, name: &str) -> Option<String> {
        let lower = name.to_lowercase();
        self.attrs
            .keys()
            .find(|k| k.as_str() != name && k.to_lowercase() == lower)
            .cloned()
    }
}
