//! `mapexpr validate`: check an exported Entra synchronization schema offline.
//!
//! Exit status for CI: 0 when the schema is safe to import (no errors; warnings allowed), 1
//! when any error was found, 2 when the file cannot be read or is not a schema.

use std::path::PathBuf;

use mapexpr::Severity;
use mapexpr::mapping::validate::{Finding, Report, validate_schema};
use serde_json::{Value as Json, json};

use super::Format;

/// Arguments of `validate`.
#[derive(clap::Args)]
pub struct Args {
    /// The exported schema (JSON from "Download schema" or Graph's `…/jobs/{id}/schema`).
    schema: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Also show hints (human format; JSON always has them).
    #[arg(long)]
    hints: bool,
}

/// Runs `validate`.
pub fn run(a: Args) -> i32 {
    let report = match super::read_text(&a.schema).and_then(|t| validate_schema(&t)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: `{}`: {e}", a.schema.display());
            return 2;
        }
    };
    match a.format {
        Format::Json | Format::Graph => outln!("{}", json_report(&report)),
        Format::Human => human(&report, a.hints),
    }
    if report.is_safe() { 0 } else { 1 }
}

fn human(report: &Report, hints: bool) {
    let min = if hints {
        Severity::Hint
    } else {
        Severity::Warning
    };
    for f in report
        .findings
        .iter()
        .filter(|f| f.diagnostic.severity >= min)
    {
        out!("{}", render(f));
        outln!();
    }
    let (e, w, h) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Hint),
    );
    outln!(
        "{} attribute mapping(s) in {} object mapping(s): {e} error(s), {w} warning(s), {h} hint(s)",
        report.attribute_mappings,
        report.object_mappings
    );
    outln!(
        "{}",
        if report.is_safe() {
            "ok: safe to import"
        } else {
            "not safe to import: fix the errors above"
        }
    );
}

/// A finding with its location; with an expression, the caret rendering of the diagnostic.
fn render(f: &Finding) -> String {
    let d = &f.diagnostic;
    let mut out = match &f.expression {
        Some(src) => d.render(src, &f.location),
        None => {
            let sev = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Hint => "hint",
            };
            let mut s = format!("{sev}[{}]: {}\n --> {}\n", d.code, d.message, f.location);
            if let Some(h) = &d.help {
                s.push_str(&format!("  = help: {h}\n"));
            }
            s
        }
    };
    if let Some(t) = &f.target {
        out.push_str(&format!("  = target attribute: `{t}`\n"));
    }
    out
}

fn json_report(report: &Report) -> Json {
    let findings: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "location": f.location,
                "target": f.target,
                "code": f.diagnostic.code.as_str(),
                "severity": f.diagnostic.severity,
                "message": f.diagnostic.message,
                "help": f.diagnostic.help,
                "expression": f.expression,
                "span": f.expression.as_ref().map(|_| [f.diagnostic.span.start, f.diagnostic.span.end]),
            })
        })
        .collect();
    json!({
        "safe": report.is_safe(),
        "errors": report.count(Severity::Error),
        "warnings": report.count(Severity::Warning),
        "hints": report.count(Severity::Hint),
        "objectMappings": report.object_mappings,
        "attributeMappings": report.attribute_mappings,
        "findings": findings,
    })
}
