//! `mapexpr deps`: the source attributes an expression, or every mapping of a set, reads.
//!
//! Useful to know which attributes an export must contain, or which mappings a renamed
//! source attribute breaks.

use std::path::PathBuf;

use mapexpr::mapping::{MappingSet, Source};
use serde_json::json;

use super::Format;

/// Arguments of `deps`.
#[derive(clap::Args)]
pub struct Args {
    /// The expression.
    expr: Option<String>,
    /// Read the expression from a file.
    #[arg(long, conflicts_with = "mappings")]
    file: Option<PathBuf>,
    /// A mapping set (mapexpr's format or an exported Entra schema) instead of one expression.
    #[arg(long, conflicts_with = "expr")]
    mappings: Option<PathBuf>,
    /// With an exported schema: the object mapping (name, source or target object name).
    #[arg(long)]
    object: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Runs `deps`: exit 0, or 2 when the input cannot be read or parsed.
pub fn run(a: Args) -> i32 {
    let result = match &a.mappings {
        Some(path) => mappings(path, a.object.as_deref(), a.format),
        None => expression(a.expr.clone(), a.file.clone(), a.format),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            2
        }
    }
}

/// The attributes one expression reads, in first-use order; `Err("")` when the diagnostics
/// were printed already.
fn attributes_of(src: &str, origin: &str) -> Result<Vec<String>, String> {
    match mapexpr::syntax::parse(src) {
        Ok(p) => Ok(p.expr.attributes().into_iter().map(str::to_owned).collect()),
        Err(diags) => {
            super::print_diagnostics(&diags, src, origin);
            Err(String::new())
        }
    }
}

fn expression(expr: Option<String>, file: Option<PathBuf>, format: Format) -> Result<(), String> {
    let (src, origin) = super::expression_source(expr, file)?;
    let attrs = attributes_of(&src, &origin)?;
    match format {
        Format::Human => attrs.iter().for_each(|a| outln!("{a}")),
        _ => outln!("{}", json!({ "attributes": attrs })),
    }
    Ok(())
}

fn mappings(path: &std::path::Path, object: Option<&str>, format: Format) -> Result<(), String> {
    let set = MappingSet::load(&super::read_text(path)?, object)
        .map_err(|e| format!("`{}`: {e}", path.display()))?;
    let mut rows = Vec::new();
    let mut all: Vec<String> = Vec::new();
    let mut failed = false;
    for m in &set.mappings {
        let attrs = match &m.source {
            Source::Expression(e) => match attributes_of(e, &m.origin) {
                Ok(a) => a,
                Err(_) => {
                    failed = true;
                    continue;
                }
            },
            Source::Attribute(a) => vec![a.clone()],
            Source::Constant(_) => Vec::new(),
        };
        for a in &attrs {
            if !all.contains(a) {
                all.push(a.clone());
            }
        }
        rows.push((m.target.clone(), attrs));
    }
    if failed {
        return Err("some expressions do not parse".to_owned());
    }
    match format {
        Format::Human => {
            let width = rows.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
            for (t, attrs) in &rows {
                let list = if attrs.is_empty() {
                    "(constant)".to_owned()
                } else {
                    attrs.join(", ")
                };
                outln!("{t:width$}  <- {list}");
            }
            outln!();
            outln!("{} source attribute(s): {}", all.len(), all.join(", "));
        }
        _ => {
            let rows: Vec<_> = rows
                .iter()
                .map(|(t, a)| json!({ "target": t, "attributes": a }))
                .collect();
            outln!("{}", json!({ "mappings": rows, "attributes": all }));
        }
    }
    Ok(())
}
