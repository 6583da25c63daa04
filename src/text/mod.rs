//! Pure text algorithms with .NET fidelity, used by the text functions in
//! [`crate::functions::text`].
//!
//! Nothing here knows about [`crate::value::Value`] or the VM: every function takes and
//! returns plain strings, which keeps the .NET rules testable on their own.

pub mod case;
pub mod charset;
pub mod diacritics;
pub mod linear;
pub mod regex_dotnet;
pub mod titlecase;
pub mod utf16;

/// `StripSpaces`: removes every U+0020 and nothing else (spec, StripSpaces). Borrowed when
/// there is none.
pub fn strip_spaces(s: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    if strip_spaces_into(s, &mut out) {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// [`strip_spaces`] into `out` (empty; a spare buffer is taken only when there is a space):
/// true when `out` holds the result, false when `s` has no space (`out` untouched).
#[inline]
pub fn strip_spaces_into(s: &str, out: &mut String) -> bool {
    if !s.contains(' ') {
        return false;
    }
    *out = crate::value::buffers::take(s.len());
    out.extend(s.chars().filter(|c| *c != ' '));
    true
}

/// `Trim`: strips leading and trailing White_Space code points (spec, F22).
#[inline]
pub fn trim(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}
