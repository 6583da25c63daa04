//! mapexpr compiles and evaluates Microsoft Entra-style attribute-mapping expressions: the
//! VBA-like language identity provisioning uses to turn source records into target
//! attributes.
//!
//! The pipeline is `syntax` (pest grammar → AST with spans) → `check` (types, arity, constant
//! arguments, lints) → `compile` (bytecode with folded constants, prepared regexes and
//! formats, attribute slots, Switch tables) → `vm` (the evaluator).
//!
//! ```
//! use mapexpr::{compile, EvalContext, FixedClock, JsonRecord, Limits, NoRandom, Outcome, TakenSet, Value};
//!
//! let program = compile(r#"Join("@", StripSpaces(Join(".", [givenName], [surname])), "contoso.com")"#)
//!     .expect("the expression compiles");
//! let record = JsonRecord::from_json_str(r#"{"givenName": "John", "surname": "Smith"}"#).unwrap();
//!
//! let clock = FixedClock(mapexpr::DateTime::MIN);
//! let (mut rng, oracle, limits) = (NoRandom, TakenSet::new(), Limits::default());
//! let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
//! assert_eq!(program.eval(&record, &mut ctx).unwrap(), Outcome::Value(Value::str("John.Smith@contoso.com")));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Library code never unwraps or panics on anything (tests may). Indexing is allowed only
// where the index is bounded by construction (fixed tables indexed modulo their length, an
// element read right after its length was checked); `cargo clippy -- -W
// clippy::indexing_slicing` lists those places for review.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod bytecode;
pub mod check;
pub mod compile;
pub mod context;
pub mod datetime;
pub mod diagnostic;
pub mod error;
pub mod functions;
pub mod graph;
pub mod mapping;
#[cfg(feature = "reference")]
pub mod reference;
pub mod syntax;
pub mod text;
pub mod value;
pub mod vm;

pub use bytecode::Program;
pub use check::{CheckOptions, Schema, Ty};
pub use context::{
    Clock, FixedClock, Limits, RandomSource, SystemClock, TakenSet, UniquenessOracle,
};
pub use datetime::DateTime;
pub use diagnostic::{Diagnostic, Severity};
pub use error::{ErrorCode, EvalError, FnError};
pub use functions::NoRandom;
pub use mapping::{CompiledSet, Mapping, MappingSet};
pub use value::buffers::recycle;
pub use value::{JsonRecord, Record, SlotRecord, Value};
pub use vm::{EvalContext, Outcome};

/// Options for [`compile_with`].
#[derive(Clone, Debug, Default)]
pub struct CompileOptions<'s> {
    /// The source object's attributes, for `unknown-attribute` and case checks.
    pub schema: Option<&'s Schema>,
    /// Limits for parsing, checking and folding.
    pub limits: Limits,
}

/// A compiled program and the warnings and hints found on the way.
pub struct Compiled {
    /// The program.
    pub program: Program,
    /// Warnings and hints (never errors).
    pub warnings: Vec<Diagnostic>,
}

/// Compilation failed: every diagnostic found, errors and warnings.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{}", first_error(.diagnostics))]
pub struct CompileError {
    /// All diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

fn first_error(diags: &[Diagnostic]) -> String {
    match diags.iter().find(|d| d.is_error()) {
        Some(d) => format!("{}: {}", d.code, d.message),
        None => "compilation failed".to_owned(),
    }
}

impl CompileError {
    /// The first error's code.
    pub fn code(&self) -> Option<ErrorCode> {
        self.diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.code)
    }
}

/// Parses and checks `src`, returning every diagnostic (errors, warnings and hints).
pub fn diagnose(src: &str, opts: &CompileOptions<'_>) -> Vec<Diagnostic> {
    match front(src, opts) {
        Ok((_, diagnostics)) | Err(diagnostics) => diagnostics,
    }
}

/// Parse and check: the tree and every diagnostic in source order, or the syntax errors.
fn front(
    src: &str,
    opts: &CompileOptions<'_>,
) -> Result<(syntax::ast::Expr, Vec<Diagnostic>), Vec<Diagnostic>> {
    let parsed = syntax::parse_with(src, &opts.limits)?;
    let checked = check::check(
        &parsed.expr,
        &CheckOptions {
            schema: opts.schema,
            limits: opts.limits.clone(),
        },
    );
    let mut all = parsed.warnings;
    all.extend(checked.diagnostics);
    all.sort_by_key(|d| d.span.start);
    Ok((parsed.expr, all))
}

/// Compiles with default options.
pub fn compile(src: &str) -> Result<Program, CompileError> {
    compile_with(src, &CompileOptions::default()).map(|c| c.program)
}

/// Parses, checks and compiles `src`.
pub fn compile_with(src: &str, opts: &CompileOptions<'_>) -> Result<Compiled, CompileError> {
    let mut layout = compile::Layout::new();
    compile_in_layout(src, opts, &mut layout)
}

/// Like [`compile_with`], allocating attribute slots in a layout shared by several programs
/// (a mapping set), so one slot-ordered record serves all of them.
pub fn compile_in_layout(
    src: &str,
    opts: &CompileOptions<'_>,
    layout: &mut compile::Layout,
) -> Result<Compiled, CompileError> {
    let (expr, all) = front(src, opts).map_err(|diagnostics| CompileError { diagnostics })?;
    if diagnostic::has_errors(&all) {
        return Err(CompileError { diagnostics: all });
    }
    let program =
        compile::compile_in(&expr, src, &opts.limits, layout).map_err(|d| CompileError {
            diagnostics: vec![d],
        })?;
    Ok(Compiled {
        program,
        warnings: all,
    })
}
