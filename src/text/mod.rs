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
