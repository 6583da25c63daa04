//! The one function table. Checker, compiler, `mapexpr functions`, docs and tests read it.

use super::{Arity, Doc, FnSpec, Imp, LazyKind, Param, ParamKind, Returns};

const fn req(key: &'static str, kind: ParamKind) -> Param {
    Param {
        key,
        kind,
        arity: Arity::Required,
    }
}
const fn opt(key: &'static str, kind: ParamKind) -> Param {
    Param {
        key,
        kind,
        arity: Arity::Optional,
    }
}
const fn rep(key: &'static str, kind: ParamKind) -> Param {
    Param {
        key,
        kind,
        arity: Arity::Repeating,
    }
}

use ParamKind::{Any, Bool, Date, Enum, Int, IntFix, List, Str};

/// A pure native function without compile-time preparation.
const fn native(eval: super::NativeFn) -> Imp {
    Imp::Native {
        eval,
        prepare: None,
        pure: true,
    }
}

macro_rules! f {
    ($name:literal, [$($p:expr),*], $ret:ident, $maps:expr, $doc:ident, $imp:expr, $summary:literal) => {
        FnSpec {
            name: $name,
            params: &[$($p),*],
            returns: Returns::$ret,
            maps_multi: $maps,
            doc: Doc::$doc,
            imp: $imp,
            summary: $summary,
        }
    };
}

/// Every function of the app-provisioning dialect plus `Len` and `Trim` (F22), sorted by name.
pub static REGISTRY: &[FnSpec] = &[
    f!(
        "Append",
        [req("source", Str), req("suffix", Str)],
        Str,
        true,
        Reference,
        native(super::string::append),
        "source then suffix; Null counts as \"\""
    ),
    f!(
        "AppRoleAssignmentsComplex",
        [req("source", List)],
        Multi,
        false,
        Reference,
        Imp::Native {
            eval: super::directory::app_role_assignments_complex,
            prepare: None,
            pure: true
        },
        "each app role assignment as JSON object text"
    ),
    f!(
        "BitAnd",
        [req("value1", Int), req("value2", Int)],
        Int,
        false,
        Reference,
        native(super::convert::bit_and),
        "64-bit bitwise AND"
    ),
    f!(
        "CBool",
        [req("expression", Any)],
        Bool,
        false,
        Reference,
        native(super::logic::cbool),
        "Boolean conversion"
    ),
    f!(
        "CDate",
        [req("expression", Str)],
        Date,
        false,
        Reference,
        Imp::Native {
            eval: super::datetime::cdate,
            prepare: None,
            pure: true
        },
        "parse date text to a UTC DateTime"
    ),
    f!(
        "Coalesce",
        [rep("source", Any)],
        Any,
        false,
        Reference,
        Imp::Lazy(LazyKind::Coalesce),
        "first non-Null argument"
    ),
    f!(
        "ConvertToBase64",
        [req("source", Str)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::convert_to_base64,
            prepare: None,
            pure: true
        },
        "Base64 of the UTF-16LE bytes"
    ),
    f!(
        "ConvertToUTF8Hex",
        [req("source", Str)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::convert_to_utf8_hex,
            prepare: None,
            pure: true
        },
        "upper-case hex of the UTF-8 bytes"
    ),
    f!(
        "Count",
        [req("attribute", List)],
        Int,
        false,
        Reference,
        native(super::multivalue::count),
        "number of values"
    ),
    f!(
        "CStr",
        [req("value", Any)],
        Str,
        false,
        Reference,
        native(super::convert::cstr),
        "text rendering"
    ),
    f!(
        "DateAdd",
        [
            req("interval", Str),
            req("value", IntFix),
            req("dateTime", Date)
        ],
        Date,
        false,
        Reference,
        Imp::Native {
            eval: super::datetime::date_add,
            prepare: Some(super::datetime::prepare_date_add),
            pure: true
        },
        "VB DateAdd"
    ),
    f!(
        "DateDiff",
        [req("interval", Str), req("date1", Date), req("date2", Date)],
        Int,
        false,
        Reference,
        Imp::Native {
            eval: super::datetime::date_diff,
            prepare: Some(super::datetime::prepare_interval),
            pure: true
        },
        "VB DateDiff"
    ),
    f!(
        "DateFromNum",
        [req("value", Int)],
        Date,
        false,
        Reference,
        Imp::Native {
            eval: super::datetime::date_from_num,
            prepare: None,
            pure: true
        },
        "Windows FILETIME to DateTime"
    ),
    f!(
        "FormatDateTime",
        [
            req("source", Str),
            opt("dateTimeStyles", Str),
            req("inputFormat", Str),
            req("outputFormat", Str)
        ],
        Str,
        false,
        Reference,
        Imp::Native {
            eval: super::datetime::format_date_time,
            prepare: Some(super::datetime::prepare_format_date_time),
            pure: true
        },
        ".NET ParseExact then custom format"
    ),
    f!(
        "Guid",
        [],
        Str,
        false,
        Reference,
        Imp::Native {
            eval: super::generate::guid,
            prepare: None,
            pure: false
        },
        "random version-4 GUID, lower case"
    ),
    f!(
        "IgnoreFlowIfNullOrEmpty",
        [req("expression", Any)],
        Any,
        false,
        Reference,
        Imp::Lazy(LazyKind::IgnoreFlow),
        "drop the attribute when Null or \"\""
    ),
    f!(
        "IIF",
        [
            req("condition", Bool),
            req("valueIfTrue", Any),
            req("valueIfFalse", Any)
        ],
        Any,
        false,
        Reference,
        Imp::Lazy(LazyKind::Iif),
        "lazy conditional"
    ),
    f!(
        "InStr",
        [
            req("value1", Str),
            req("value2", Str),
            opt("start", Int),
            opt("compareType", Enum)
        ],
        Int,
        false,
        Reference,
        Imp::Native {
            eval: super::text::instr,
            prepare: Some(super::text::prepare_instr),
            pure: true
        },
        "1-based position, 0 if absent"
    ),
    f!(
        "IsNull",
        [req("expression", Any)],
        Bool,
        false,
        Reference,
        native(super::logic::is_null),
        "value is Null"
    ),
    f!(
        "IsNullOrEmpty",
        [req("expression", Any)],
        Bool,
        false,
        Reference,
        native(super::logic::is_null_or_empty),
        "Null or \"\""
    ),
    f!(
        "IsPresent",
        [req("expression", Any)],
        Bool,
        false,
        Reference,
        native(super::logic::is_present),
        "not Null and not \"\""
    ),
    f!(
        "IsString",
        [req("expression", Any)],
        Bool,
        false,
        Reference,
        native(super::logic::is_string),
        "a single non-Null value"
    ),
    f!(
        "Item",
        [req("attribute", List), req("index", Int)],
        Any,
        false,
        Reference,
        native(super::multivalue::item),
        "1-based element, Null out of range"
    ),
    f!(
        "Join",
        [req("separator", Str), rep("source", List)],
        Str,
        false,
        Reference,
        native(super::string::join),
        "join non-empty values"
    ),
    f!(
        "Left",
        [req("string", Str), req("numChars", Int)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::left,
            prepare: None,
            pure: true
        },
        "first n characters"
    ),
    f!(
        "Len",
        [req("source", Str)],
        Int,
        false,
        Undocumented,
        native(super::string::len),
        "UTF-16 length"
    ),
    f!(
        "Mid",
        [req("source", Str), req("start", Int), req("length", Int)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::mid,
            prepare: Some(super::text::prepare_mid),
            pure: true
        },
        "substring, 1-based"
    ),
    f!(
        "NormalizeDiacritics",
        [req("source", Str)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::normalize_diacritics,
            prepare: None,
            pure: true
        },
        "table-driven diacritic removal"
    ),
    f!(
        "Not",
        [req("source", Any)],
        Bool,
        false,
        Reference,
        native(super::logic::not),
        "negation"
    ),
    f!(
        "Now",
        [],
        Date,
        false,
        Reference,
        Imp::Native {
            eval: super::datetime::now,
            prepare: None,
            pure: false
        },
        "current UTC time"
    ),
    f!(
        "NumFromDate",
        [req("value", Date)],
        Int,
        false,
        Reference,
        Imp::Native {
            eval: super::datetime::num_from_date,
            prepare: None,
            pure: true
        },
        "DateTime to Windows FILETIME"
    ),
    f!(
        "PCase",
        [req("source", Str), opt("wordSeparators", Str)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::pcase,
            prepare: None,
            pure: true
        },
        "proper case"
    ),
    f!(
        "RandomString",
        [
            req("length", Int),
            req("minimumNumbers", Int),
            req("minimumSpecialCharacters", Int),
            req("minimumCapital", Int),
            req("minimumLowerCase", Int),
            opt("charactersToAvoid", Str)
        ],
        Str,
        false,
        Reference,
        Imp::Native {
            eval: super::generate::random_string,
            prepare: Some(super::generate::prepare_random_string),
            pure: false
        },
        "random password-like text"
    ),
    f!(
        "Redact",
        [req("source", Any)],
        Any,
        false,
        Reference,
        native(super::convert::redact),
        "value unchanged, hidden in logs"
    ),
    f!(
        "RemoveDuplicates",
        [req("attribute", List)],
        Any,
        false,
        Reference,
        native(super::multivalue::remove_duplicates),
        "distinct values, first-occurrence order"
    ),
    f!(
        "Replace",
        [
            req("source", Str),
            opt("Find", Str),
            opt("RegularExpression", Str),
            opt("RegularExpressionGroupName", Str),
            opt("Replacement", Str),
            opt("ReplacementPropertyName", Str),
            opt("Template", Str)
        ],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::replace,
            prepare: Some(super::text::prepare_replace),
            pure: true
        },
        "literal, template and regex replacement (five modes)"
    ),
    f!(
        "SelectUniqueValue",
        [rep("uniqueValueRule", Str)],
        Str,
        false,
        Reference,
        Imp::Lazy(LazyKind::SelectUniqueValue),
        "first rule value not taken in the target"
    ),
    f!(
        "SingleAppRoleAssignment",
        [req("source", List)],
        Str,
        false,
        Reference,
        Imp::Native {
            eval: super::directory::single_app_role_assignment,
            prepare: None,
            pure: true
        },
        "the one assignment's display name"
    ),
    f!(
        "Split",
        [req("source", Str), req("delimiter", Str)],
        Multi,
        false,
        Reference,
        Imp::Native {
            eval: super::text::split,
            prepare: None,
            pure: true
        },
        "split at a delimiter string"
    ),
    f!(
        "StripSpaces",
        [req("source", Str)],
        Str,
        true,
        Reference,
        native(super::string::strip_spaces),
        "remove U+0020"
    ),
    f!(
        "Switch",
        [
            req("source", Str),
            opt("defaultValue", Any),
            rep("switchValue", Any)
        ],
        Any,
        false,
        Reference,
        Imp::Lazy(LazyKind::Switch),
        "lookup table"
    ),
    f!(
        "ToLower",
        [req("source", Str), opt("culture", Str)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::to_lower,
            prepare: Some(super::text::prepare_case),
            pure: true
        },
        "lower case (simple mapping)"
    ),
    f!(
        "ToUpper",
        [req("source", Str), opt("culture", Str)],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::to_upper,
            prepare: Some(super::text::prepare_case),
            pure: true
        },
        "upper case (simple mapping)"
    ),
    f!(
        "Trim",
        [req("source", Str)],
        Str,
        true,
        Undocumented,
        native(super::string::trim),
        "strip leading and trailing white space"
    ),
    f!(
        "Word",
        [
            req("string", Str),
            req("wordNumber", Int),
            req("delimiters", Str)
        ],
        Str,
        true,
        Reference,
        Imp::Native {
            eval: super::text::word,
            prepare: None,
            pure: true
        },
        "n-th word"
    ),
];

/// Finds a function by name, ignoring ASCII case (S1).
pub fn lookup(name: &str) -> Option<&'static FnSpec> {
    REGISTRY.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        for w in REGISTRY.windows(2) {
            assert!(
                w[0].name.to_ascii_lowercase() < w[1].name.to_ascii_lowercase(),
                "{} before {}",
                w[0].name,
                w[1].name
            );
        }
        assert_eq!(REGISTRY.len(), 45);
    }
}
