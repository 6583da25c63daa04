//! mapexpr: Microsoft Entra-style attribute-mapping expressions.
#![forbid(unsafe_code)]

pub mod context;
pub mod datetime;
pub mod error;
pub mod functions;
pub mod syntax;
pub mod text;
pub mod value;
