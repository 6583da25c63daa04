//! Mapping sets: the attribute mappings of one Entra object mapping, compiled once and applied
//! to many records.
//!
//! A [`MappingSet`] is an ordered list of [`Mapping`]s. Each names a target attribute, a
//! [`Source`] (an expression, a direct attribute or a constant), an optional default for a Null
//! result, an [`Apply`] mode and a matching priority — the concepts of an Entra
//! `attributeMapping`. Sets are read from mapexpr's own JSON format ([`MappingSet::from_json_str`],
//! documented there) or from an exported Entra synchronization schema ([`entra`]).
//!
//! [`CompiledSet`] compiles every mapping into one shared attribute [`Layout`](crate::compile::Layout):
//! a record is bound once into a slot table and every program reads from it. [`batch`] streams
//! NDJSON or CSV records through a compiled set on all cores; [`validate`] checks an exported
//! schema offline.

pub mod batch;
pub mod bind;
mod compiled;
pub mod entra;
mod format;
pub mod validate;

pub use compiled::{CompiledSet, Failure, MappingDiagnostics, SetError, value_to_json};

/// An ordered list of attribute mappings (one Entra object mapping).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingSet {
    /// A name for people (the file's `name`, or the Entra object mapping's name).
    pub name: Option<String>,
    /// The mappings, in order; output attributes appear in this order.
    pub mappings: Vec<Mapping>,
}

/// One attribute mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The target attribute written by this mapping.
    pub target: String,
    /// Where the value comes from.
    pub source: Source,
    /// The value used when the source yields Null (Entra's "default value if null"). An
    /// IgnoreFlowIfNullOrEmpty outcome is not Null: the attribute is left out, default or not.
    pub default: Option<String>,
    /// When the mapping applies.
    pub apply: Apply,
    /// Entra's matching precedence: 0 = not a matching attribute, 1 = first.
    pub matching_priority: u32,
    /// Where the mapping was read (`mappings[3]`, or
    /// `synchronizationRules[0].objectMappings[1].attributeMappings[4]`), for messages.
    pub origin: String,
}

/// The source of a mapping's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An expression in the mapping language.
    Expression(String),
    /// A source attribute copied as is (Entra's "Direct" mapping type).
    Attribute(String),
    /// A constant text.
    Constant(String),
}

/// When a mapping applies (Entra's `flowType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Apply {
    /// On creation and on every update (`Always`).
    #[default]
    Always,
    /// Only when the target object is created (`ObjectAddOnly`).
    OnCreate,
}

/// Whether a run provisions new objects or updates existing ones; create-only mappings are
/// skipped (their attributes left out) in [`Mode::Update`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Objects are created: every mapping applies.
    #[default]
    Create,
    /// Objects exist: mappings with [`Apply::OnCreate`] do not apply.
    Update,
}

impl MappingSet {
    /// Reads a mapping set from JSON text: mapexpr's own format, or an exported Entra
    /// synchronization schema (recognised by its `synchronizationRules`), from which the
    /// object mapping named `object` (or, without a name, the first enabled one with attribute
    /// mappings) is taken. See [`MappingSet::from_json_str`] for the own format.
    pub fn load(text: &str, object: Option<&str>) -> Result<MappingSet, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        if v.get("synchronizationRules").is_some() {
            entra::mapping_set(&v, object)
        } else {
            if object.is_some() {
                return Err("`--object` applies only to exported Entra schemas".to_owned());
            }
            format::from_json(&v)
        }
    }

    /// Reads mapexpr's own mapping-set format:
    ///
    /// ```json
    /// {
    ///   "name": "Workday to Active Directory",
    ///   "mappings": [
    ///     { "target": "employeeID", "attribute": "WorkerID", "matchingPriority": 1 },
    ///     { "target": "displayName",
    ///       "expression": "Join(\" \", [PreferredFirstName], [PreferredLastName])" },
    ///     { "target": "company", "constant": "Contoso" },
    ///     { "target": "department", "attribute": "Department", "default": "Unassigned" },
    ///     { "target": "userPrincipalName", "expression": "…", "apply": "create" }
    ///   ]
    /// }
    /// ```
    ///
    /// Each mapping has `target` and exactly one of `expression`, `attribute` (a direct
    /// mapping) or `constant`; optional `default` (text used when the result is Null),
    /// `apply` (`"always"`, the default, or `"create"`: only on object creation),
    /// `matchingPriority` (0, the default, = not matching) and `description` (ignored). A bare
    /// array of mappings is accepted too. Unknown keys are errors, so a typo (`"expresion"`)
    /// is not silently dropped; two mappings may not write the same target.
    pub fn from_json_str(text: &str) -> Result<MappingSet, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        format::from_json(&v)
    }

    /// The own JSON format of this set (the inverse of [`MappingSet::from_json_str`]).
    pub fn to_json(&self) -> serde_json::Value {
        format::to_json(self)
    }
}

/// Two mappings with one target would write the same output attribute twice.
pub(crate) fn check_duplicate_targets(set: &MappingSet) -> Result<(), String> {
    let mut seen = std::collections::HashMap::new();
    for m in &set.mappings {
        if let Some(first) = seen.insert(m.target.as_str(), m.origin.as_str()) {
            return Err(format!(
                "{}: target attribute `{}` is already written by {first}",
                m.origin, m.target
            ));
        }
    }
    Ok(())
}
