//! PCase: proper case (spec §5 PCase, F12).
//!
//! Without separators PCase is .NET `TextInfo.ToTitleCase` (invariant) applied after an
//! invariant lower-casing; with the lower-casing done first, ToTitleCase reduces to a small
//! state machine over general categories, written out here so that it can be tested rule by
//! rule. With a separator list every code point of the list separates words.

use std::borrow::Cow;

use unicode_general_category::{GeneralCategory as Gc, get_general_category};

use super::case::{CaseRules, to_lower, upper_char};
use super::charset::CharSet;

/// `PCase(source)`: invariant lower case, then ToTitleCase's word rules.
pub fn pcase(s: &str) -> Cow<'_, str> {
    let lower = to_lower(s, CaseRules::Invariant);
    let mut inside = false;
    let titled = map_with_state(&lower, |c| {
        if inside {
            if is_separator(c) {
                inside = false;
            }
            c
        } else if is_letter(c) {
            inside = true;
            title_char(c)
        } else {
            c
        }
    });
    finish(s, lower, titled)
}

/// `PCase(source, wordSeparators)` with a non-empty or empty separator list: the first code
/// point of each run of non-separators is upper-cased, the rest lower-cased.
pub fn pcase_with_separators<'s>(s: &'s str, separators: &str) -> Cow<'s, str> {
    let lower = to_lower(s, CaseRules::Invariant);
    let separators = CharSet::new(separators);
    let mut at_start = true;
    let titled = map_with_state(&lower, |c| {
        if separators.contains(c) {
            at_start = true;
            c
        } else if at_start {
            at_start = false;
            upper_char(c, CaseRules::Invariant)
        } else {
            c
        }
    });
    finish(s, lower, titled)
}

/// Title case: the invariant upper case, except the four digraphs that have a title-case form.
pub fn title_char(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        _ => upper_char(c, CaseRules::Invariant),
    }
}

fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    matches!(
        get_general_category(c),
        Gc::UppercaseLetter
            | Gc::LowercaseLetter
            | Gc::TitlecaseLetter
            | Gc::ModifierLetter
            | Gc::OtherLetter
    )
}

/// The word separators of ToTitleCase: white space, controls, format characters, punctuation
/// other than the apostrophe, and symbols.
fn is_separator(c: char) -> bool {
    if c == '\'' {
        return false;
    }
    if c.is_ascii() {
        return !c.is_ascii_alphanumeric();
    }
    matches!(
        get_general_category(c),
        Gc::SpaceSeparator
            | Gc::LineSeparator
            | Gc::ParagraphSeparator
            | Gc::Control
            | Gc::Format
            | Gc::ConnectorPunctuation
            | Gc::DashPunctuation
            | Gc::OpenPunctuation
            | Gc::ClosePunctuation
            | Gc::InitialPunctuation
            | Gc::FinalPunctuation
            | Gc::OtherPunctuation
            | Gc::MathSymbol
            | Gc::CurrencySymbol
            | Gc::ModifierSymbol
            | Gc::OtherSymbol
    )
}

/// Applies a char mapping that may depend on state; `None` when nothing changes.
fn map_with_state(s: &str, mut f: impl FnMut(char) -> char) -> Option<String> {
    let mut out: Option<String> = None;
    for (i, c) in s.char_indices() {
        let m = f(c);
        match &mut out {
            Some(buf) => buf.push(m),
            None if m != c => {
                let mut buf = String::with_capacity(s.len() + 4);
                buf.push_str(s.get(..i).unwrap_or(""));
                buf.push(m);
                out = Some(buf);
            }
            None => {}
        }
    }
    out
}

/// The result of both steps, borrowed from the input when it did not change.
fn finish<'s>(s: &'s str, lower: Cow<'s, str>, titled: Option<String>) -> Cow<'s, str> {
    let result = match titled {
        Some(t) => Cow::Owned(t),
        None => lower,
    };
    if matches!(result, Cow::Owned(_)) && result == s {
        Cow::Borrowed(s)
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_rules() {
        let cases: &[(&str, &str)] = &[
            ("PABLO GONSALVES (SECOND)", "Pablo Gonsalves (Second)"),
            ("GREGORY JAMES", "Gregory James"),
            ("jean-luc o'neil", "Jean-Luc O'neil"),
            ("o’neil", "O’Neil"),
            ("3rd street", "3Rd Street"),
            ("abc123def", "Abc123def"),
            ("snake_case word", "Snake_Case Word"),
            ("ǆemal ǉubljana", "ǅemal ǈubljana"),
            ("ÉCOLE ÉLÉMENTAIRE", "École Élémentaire"),
            ("straße", "Straße"),
            ("ßtraße", "ßtraße"),
            ("i\u{307}stanbul", "I\u{307}stanbul"),
            ("ıSTANBUL", "ıstanbul"),
            ("hello\tworld\nagain", "Hello\tWorld\nAgain"),
            ("a+b=c", "A+B=C"),
            ("", ""),
            ("😀abc", "😀Abc"),
            ("e\u{301}cole", "E\u{301}cole"),
        ];
        for &(s, want) in cases {
            assert_eq!(pcase(s), want, "{s:?}");
        }
    }

    #[test]
    fn custom_separators() {
        let cases: &[(&str, &str, &str)] = &[
            ("PINTO-DE'SILVA", " '-", "Pinto-De'Silva"),
            ("3rd street", " ", "3rd Street"),
            ("HELLO WORLD", "", "Hello world"),
            ("a.b.c", ".", "A.B.C"),
            ("..a..b", ".", "..A..B"),
            ("ǆemal", " ", "Ǆemal"),
        ];
        for &(s, seps, want) in cases {
            assert_eq!(pcase_with_separators(s, seps), want, "{s:?} {seps:?}");
        }
    }

    #[test]
    fn unchanged_borrows() {
        assert!(matches!(pcase("Hello World"), Cow::Borrowed(_)));
    }

    proptest! {
        #[test]
        fn idempotent(s in "\\PC*") {
            let once = pcase(&s).into_owned();
            prop_assert_eq!(pcase(&once).into_owned(), once.clone());
        }

        #[test]
        fn idempotent_with_separators(s in "[a-zA-Z '\\-.]*", seps in "[ '\\-]*") {
            let once = pcase_with_separators(&s, &seps).into_owned();
            prop_assert_eq!(pcase_with_separators(&once, &seps).into_owned(), once.clone());
        }
    }
}
