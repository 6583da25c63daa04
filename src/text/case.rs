//! Invariant and Turkish simple case mapping (spec §5 ToLower/ToUpper, F11).
//!
//! .NET maps case code point by code point with the **simple** mappings of UnicodeData.txt,
//! so lengths never change: `ToUpper("straße")` is `STRAßE`. Rust's `char::to_uppercase` and
//! `char::to_lowercase` apply the full (SpecialCasing) mappings; they agree with the simple
//! mappings whenever they return one character, so we use them for that case and carry the
//! simple mappings of the few characters whose full mapping has several characters.

use std::borrow::Cow;

/// Which case rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseRules {
    /// The invariant culture (and every well-formed culture that is not Turkish or Azeri).
    Invariant,
    /// `tr` and `az`: dotted and dotless i.
    Turkic,
}

/// Why a culture name was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCulture;

/// Reads a culture name: `""` is the invariant culture; well-formed names are
/// `lang[-Script][-REGION]` (2–3 letters, 4 letters, 2 letters or 3 digits), any case.
pub fn parse_culture(name: &str) -> Result<CaseRules, BadCulture> {
    if name.is_empty() {
        return Ok(CaseRules::Invariant);
    }
    let mut parts = name.split('-');
    let lang = parts.next().unwrap_or("");
    if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(BadCulture);
    }
    let mut rest: Vec<&str> = parts.collect();
    // An optional 4-letter script comes first, then an optional region.
    if let Some(first) = rest.first() {
        if first.len() == 4 && first.bytes().all(|b| b.is_ascii_alphabetic()) {
            rest.remove(0);
        }
    }
    match rest.as_slice() {
        [] => {}
        [region] if is_region(region) => {}
        _ => return Err(BadCulture),
    }
    if lang.eq_ignore_ascii_case("tr") || lang.eq_ignore_ascii_case("az") {
        Ok(CaseRules::Turkic)
    } else {
        Ok(CaseRules::Invariant)
    }
}

fn is_region(s: &str) -> bool {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
        || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
}

/// The simple upper-case mapping of `c` under `rules`.
pub fn upper_char(c: char, rules: CaseRules) -> char {
    if c.is_ascii() {
        if rules == CaseRules::Turkic && c == 'i' {
            return '\u{130}';
        }
        return c.to_ascii_uppercase();
    }
    match c {
        // Windows invariant behaviour, kept by .NET: dotless i has no invariant upper case.
        '\u{131}' => {
            return if rules == CaseRules::Turkic { 'I' } else { c };
        }
        // Greek with ypogegrammeni: the simple mapping goes to the prosgegrammeni capital.
        '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => {
            return char::from_u32(c as u32 + 8).unwrap_or(c);
        }
        '\u{1FB3}' => return '\u{1FBC}',
        '\u{1FC3}' => return '\u{1FCC}',
        '\u{1FF3}' => return '\u{1FFC}',
        _ => {}
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        // ß, ŉ, ǰ, ligatures and the like have no simple upper-case mapping.
        _ => c,
    }
}

/// The simple lower-case mapping of `c` under `rules`.
pub fn lower_char(c: char, rules: CaseRules) -> char {
    if c.is_ascii() {
        if rules == CaseRules::Turkic && c == 'I' {
            return '\u{131}';
        }
        return c.to_ascii_lowercase();
    }
    if c == '\u{130}' {
        // Invariant keeps İ (Windows behaviour); Turkish lowers it to a plain i.
        return if rules == CaseRules::Turkic { 'i' } else { c };
    }
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Upper-cases `s`; borrowed when nothing changes.
pub fn to_upper(s: &str, rules: CaseRules) -> Cow<'_, str> {
    ascii_case(s, rules, true).unwrap_or_else(|| map_chars(s, |c| upper_char(c, rules)))
}

/// Lower-cases `s`; borrowed when nothing changes.
pub fn to_lower(s: &str, rules: CaseRules) -> Cow<'_, str> {
    ascii_case(s, rules, false).unwrap_or_else(|| map_chars(s, |c| lower_char(c, rules)))
}

/// The invariant case mapping of ASCII text is ASCII's own: borrowed when no letter changes,
/// else one copy mapped in place. `None` for other text or rules (the char-by-char mapping).
fn ascii_case(s: &str, rules: CaseRules, upper: bool) -> Option<Cow<'_, str>> {
    if rules != CaseRules::Invariant || !s.is_ascii() {
        return None;
    }
    let mut out = String::new();
    Some(if ascii_case_into(s, upper, &mut out) {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    })
}

/// The invariant upper (or lower) case of ASCII `s` into `out` (empty; a spare buffer is
/// taken) when a letter changes: true then, false (and `out` untouched) when none does.
#[inline]
pub fn ascii_case_into(s: &str, upper: bool, out: &mut String) -> bool {
    let changes = |b: u8| {
        if upper {
            b.is_ascii_lowercase()
        } else {
            b.is_ascii_uppercase()
        }
    };
    if !s.bytes().any(changes) {
        return false;
    }
    *out = crate::value::buffers::take(s.len());
    out.push_str(s);
    if upper {
        out.make_ascii_uppercase();
    } else {
        out.make_ascii_lowercase();
    }
    true
}

/// Applies a 1:1 char mapping, copying only from the first character that changes.
pub fn map_chars(s: &str, f: impl Fn(char) -> char) -> Cow<'_, str> {
    for (i, c) in s.char_indices() {
        let m = f(c);
        if m != c {
            let mut out = crate::value::buffers::take(s.len() + 4);
            out.push_str(s.get(..i).unwrap_or(""));
            out.push(m);
            let rest = s.get(i + c.len_utf8()..).unwrap_or("");
            out.extend(rest.chars().map(&f));
            return Cow::Owned(out);
        }
    }
    Cow::Borrowed(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseRules::{Invariant, Turkic};

    #[test]
    fn ascii_fast_path_equals_the_char_mapping() {
        let all: String = (0u8..128).map(char::from).collect();
        for text in [all.as_str(), "john.smith", "JOHN", "MiXeD 123 ~"] {
            assert_eq!(
                to_upper(text, Invariant),
                map_chars(text, |c| upper_char(c, Invariant))
            );
            assert_eq!(
                to_lower(text, Invariant),
                map_chars(text, |c| lower_char(c, Invariant))
            );
        }
        assert!(matches!(to_upper("ABC 1", Invariant), Cow::Borrowed(_)));
        assert!(matches!(to_lower("abc 1", Invariant), Cow::Borrowed(_)));
    }

    #[test]
    fn upper() {
        let cases: &[(&str, CaseRules, &str)] = &[
            ("straße", Invariant, "STRAßE"),
            ("istanbul", Turkic, "İSTANBUL"),
            ("ıi", Invariant, "ıI"),
            ("ıi", Turkic, "Iİ"),
            ("ǆ ǅ", Invariant, "Ǆ Ǆ"),
            ("ŉǰﬁ", Invariant, "ŉǰﬁ"),
            (
                "\u{1F80}\u{1FB3}\u{1FC3}\u{1FF3}\u{1F88}",
                Invariant,
                "\u{1F88}\u{1FBC}\u{1FCC}\u{1FFC}\u{1F88}",
            ),
            ("σς", Invariant, "ΣΣ"),
            ("😀a", Invariant, "😀A"),
        ];
        for &(s, r, want) in cases {
            assert_eq!(to_upper(s, r), want, "{s:?} {r:?}");
        }
    }

    #[test]
    fn lower() {
        let cases: &[(&str, CaseRules, &str)] = &[
            ("ISPARTA", Turkic, "ısparta"),
            ("İ", Invariant, "İ"),
            ("İI", Turkic, "iı"),
            ("ΟΔΟΣ", Invariant, "οδοσ"),
            ("ǄǅǇ", Invariant, "ǆǆǉ"),
            ("\u{1F88}\u{1FBC}", Invariant, "\u{1F80}\u{1FB3}"),
            ("ẞ", Invariant, "ß"),
        ];
        for &(s, r, want) in cases {
            assert_eq!(to_lower(s, r), want, "{s:?} {r:?}");
        }
    }

    #[test]
    fn no_change_borrows() {
        assert!(matches!(
            to_lower("john.smith@contoso.com", Invariant),
            Cow::Borrowed(_)
        ));
        assert!(matches!(to_upper("ABC ß", Invariant), Cow::Borrowed(_)));
    }

    #[test]
    fn cultures() {
        let good: &[(&str, CaseRules)] = &[
            ("", Invariant),
            ("en-US", Invariant),
            ("de-DE", Invariant),
            ("xx-XX", Invariant),
            ("tr", Turkic),
            ("TR-tr", Turkic),
            ("az-Latn-AZ", Turkic),
            ("az-Cyrl", Turkic),
            ("es-419", Invariant),
            ("fil", Invariant),
        ];
        for &(name, want) in good {
            assert_eq!(parse_culture(name), Ok(want), "{name:?}");
        }
        for bad in [
            "e",
            "english",
            "en_US",
            "en-",
            "-US",
            "en-USA",
            "en-Latn-US-x",
            "en-12",
            "tr-TR-",
            "en US",
        ] {
            assert_eq!(parse_culture(bad), Err(BadCulture), "{bad:?}");
        }
    }
}
