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
    if s.contains(' ') {
        let mut out = crate::value::buffers::take(s.len());
        out.extend(s.chars().filter(|c| *c != ' '));
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// `Trim`: strips leading and trailing White_Space code points (spec, F22).
#[inline]
pub fn trim(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}
