//! Binding a JSON line straight into a slot table, borrowing from the line.
//!
//! Going through `serde_json::Value` costs a map node and an owned string per attribute and
//! then a second conversion; this binder walks the object once, skips attributes the set does
//! not read without building them, and keeps every string without escapes borrowed from the
//! input line. It implements spec §3.1 exactly like `value::json_to_value`, which the tests
//! compare it with.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{ErrorCode, FnError};
use crate::value::{AppRole, Value};

/// Why a line could not be bound.
#[derive(Debug)]
pub enum BindError {
    /// Not JSON, or JSON that is not an object.
    Syntax(String),
    /// An attribute the set reads holds a value mapexpr cannot represent (`invalid-input`).
    Input(FnError),
}

/// Attribute name → slot, for the binder.
#[derive(Clone, Debug, Default)]
pub struct SlotIndex {
    index: HashMap<String, usize>,
    len: usize,
}

impl SlotIndex {
    /// The index of a layout's names (slot `i` is `names[i]`).
    pub fn new(names: &[String]) -> SlotIndex {
        SlotIndex {
            index: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect(),
            len: names.len(),
        }
    }

    /// Parses one JSON object into a slot table; unread attributes are skipped unparsed.
    pub fn bind<'t>(&self, text: &'t str) -> Result<Vec<Value<'t>>, BindError> {
        let mut slots = vec![Value::Null; self.len];
        let mut first_error = None;
        let mut de = serde_json::Deserializer::from_str(text);
        ObjectSeed {
            index: self,
            slots: &mut slots,
            error: &mut first_error,
        }
        .deserialize(&mut de)
        .map_err(|e| BindError::Syntax(e.to_string()))?;
        de.end().map_err(|e| BindError::Syntax(e.to_string()))?;
        match first_error {
            Some(e) => Err(BindError::Input(e)),
            None => Ok(slots),
        }
    }
}

struct ObjectSeed<'s, 't> {
    index: &'s SlotIndex,
    slots: &'s mut Vec<Value<'t>>,
    error: &'s mut Option<FnError>,
}

impl<'de, 's> DeserializeSeed<'de> for ObjectSeed<'s, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 's> Visitor<'de> for ObjectSeed<'s, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (the record must be a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match self.index.index.get(key.as_ref()) {
                Some(&slot) => {
                    let v = map.next_value_seed(AttrSeed { name: &key })?;
                    match v {
                        Ok(v) => {
                            if let Some(s) = self.slots.get_mut(slot) {
                                *s = v;
                            }
                        }
                        Err(e) => {
                            if self.error.is_none() {
                                *self.error = Some(e);
                            }
                        }
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// One attribute's value (spec §3.1); an unrepresentable value is `Ok(Err(invalid-input))`
/// so that parsing goes on and the JSON stays checked to the end.
struct AttrSeed<'n> {
    name: &'n str,
}

type Attr<'t> = Result<Value<'t>, FnError>;

#[cold]
fn bad(name: &str, what: &str) -> FnError {
    FnError::new(
        ErrorCode::InvalidInput,
        format!("attribute `{name}` holds {what}"),
    )
}

impl<'de> DeserializeSeed<'de> for AttrSeed<'_> {
    type Value = Attr<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Attr<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttrSeed<'_> {
    type Value = Attr<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }
    fn visit_unit<E>(self) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Null))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Int(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Attr<'de>, E> {
        Ok(i64::try_from(u)
            .map(Value::Int)
            .map_err(|_| bad(self.name, "a fractional or out-of-range number")))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Attr<'de>, E> {
        Ok(Err(bad(self.name, "a fractional or out-of-range number")))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::string(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::string(s)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attr<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err(bad(self.name, "an object")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attr<'de>, A::Error> {
        let roles = self.name == "appRoleAssignments";
        let mut out = Vec::new();
        let mut error = None;
        while let Some(item) = seq.next_element_seed(ItemSeed { roles })? {
            match item {
                Item::Null => {}
                Item::Value(v) => out.push(v),
                Item::Bad(what) => {
                    if error.is_none() {
                        error = Some(bad(self.name, what));
                    }
                }
            }
        }
        Ok(match error {
            Some(e) => Err(e),
            None => Ok(Value::multi(out)),
        })
    }
}

/// One element of a list: text as is, numbers and Booleans rendered, null dropped, objects
/// only in `appRoleAssignments`.
struct ItemSeed {
    roles: bool,
}

enum Item<'t> {
    Null,
    Value(Value<'t>),
    Bad(&'static str),
}

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Item<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Item<'de>, D::Error> {
        if self.roles {
            // Role objects need their fields: go through serde_json's value for them.
            let v = serde_json::Value::deserialize(d)?;
            return Ok(match v {
                serde_json::Value::Object(_) => match serde_json::from_value::<AppRole>(v) {
                    Ok(r) => Item::Value(Value::Role(std::sync::Arc::new(r))),
                    Err(_) => Item::Bad(
                        "an app role assignment that is not {id, value, displayName} text",
                    ),
                },
                other => plain_item(other),
            });
        }
        d.deserialize_any(self)
    }
}

use serde::Deserialize as _;

fn plain_item<'t>(v: serde_json::Value) -> Item<'t> {
    use serde_json::Value as J;
    match v {
        J::Null => Item::Null,
        J::String(s) => Item::Value(Value::string(s)),
        J::Bool(b) => Item::Value(Value::str(if b { "True" } else { "False" })),
        J::Number(n) => match n.as_i64() {
            Some(i) => Item::Value(Value::string(i.to_string())),
            None => Item::Bad("a fractional or out-of-range number in a list"),
        },
        J::Array(_) => Item::Bad("a nested list"),
        J::Object(_) => Item::Bad("an object in a list"),
    }
}

impl<'de> Visitor<'de> for ItemSeed {
    type Value = Item<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list element")
    }
    fn visit_unit<E>(self) -> Result<Item<'de>, E> {
        Ok(Item::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::str(if b { "True" } else { "False" })))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::string(i.to_string())))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Item<'de>, E> {
        Ok(match i64::try_from(u) {
            Ok(i) => Item::Value(Value::string(i.to_string())),
            Err(_) => Item::Bad("a fractional or out-of-range number in a list"),
        })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Item<'de>, E> {
        Ok(Item::Bad("a fractional or out-of-range number in a list"))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::string(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::string(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::Bad("a nested list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Item::Bad("an object in a list"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binder agrees with `json_to_value` (the reference conversion of spec §3.1).
    #[test]
    fn binder_matches_json_to_value() {
        let names: Vec<String> = [
            "s", "i", "b", "n", "m", "e", "f", "o", "nested", "roles", "esc", "big",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let index = SlotIndex::new(&names);
        let lines = [
            r#"{"s": "a", "i": -3, "b": true, "n": null, "m": ["x", 1, false, null], "e": [], "esc": "q\"x", "unused": {"deep": [1, 2]}}"#,
            r#"{"f": 1.5}"#,
            r#"{"o": {"a": 1}}"#,
            r#"{"nested": [[1]]}"#,
            r#"{"roles": [{"id": "1", "value": "Admin", "displayName": "Administrator"}, "Plain"]}"#,
            r#"{"big": 18446744073709551615}"#,
            r#"{"s": "first", "s": "last"}"#,
        ];
        for line in lines {
            let parsed: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            let obj = parsed.as_object().expect("object");
            let want: Result<Vec<Value<'static>>, FnError> = names
                .iter()
                .map(|n| match obj.get(n) {
                    Some(v) => crate::value::json_to_value(
                        if n == "roles" {
                            "appRoleAssignments"
                        } else {
                            n
                        },
                        v,
                    ),
                    None => Ok(Value::Null),
                })
                .collect();
            let line = line.replace("\"roles\"", "\"appRoleAssignments\"");
            let mut names2 = names.clone();
            names2[9] = "appRoleAssignments".into();
            let got = SlotIndex::new(&names2).bind(&line);
            match (want, got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{line}"),
                (Err(w), Err(BindError::Input(g))) => assert_eq!(w.code, g.code, "{line}"),
                (w, g) => panic!("{line}: {w:?} vs {g:?}"),
            }
        }
        let _ = index;
    }

    #[test]
    fn binder_rejects_non_objects_and_bad_json() {
        let index = SlotIndex::new(&["a".to_string()]);
        assert!(matches!(index.bind("[1]"), Err(BindError::Syntax(_))));
        assert!(matches!(index.bind("{\"a\": "), Err(BindError::Syntax(_))));
        assert!(matches!(
            index.bind("{\"a\": 1} x"),
            Err(BindError::Syntax(_))
        ));
        let v = index.bind(r#"{"a": "borrowed"}"#).expect("binds");
        assert!(matches!(&v[0], Value::Str(Cow::Borrowed("borrowed"))));
    }
}
