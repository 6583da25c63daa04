//! `mapexpr check`: parse and type-check one expression.

use std::path::PathBuf;

use mapexpr::{CompileOptions, Diagnostic, Severity};

use super::Format;

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    expression: super::ExprArgs,
    /// Source attribute schema (JSON) for unknown-attribute and case checks.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    deny_warnings: bool,
    #[command(flatten)]
    limits: super::LimitArgs,
}

/// Runs `check`: exit 0 when clean, 1 for warnings with `--deny-warnings`, 2 for errors.
pub fn run(a: Args) -> i32 {
    let (src, origin) = match a.expression.source() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let schema = match super::load_schema(a.schema.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let opts = CompileOptions {
        schema: schema.as_ref(),
        limits: a.limits.limits(),
    };
    let diags = mapexpr::diagnose(&src, &opts);
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, hints) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Hint),
    );
    match a.format {
        Format::Json | Format::Graph => {
            let out = serde_json::json!({
                "diagnostics": diags,
                "errors": errors,
                "warnings": warnings,
                "hints": hints,
            });
            outln!("{out}");
        }
        Format::Human => {
            for d in &diags {
                out!("{}", d.render(&src, &origin));
                outln!();
            }
            outln!("{}", summary(errors, warnings, hints));
        }
    }
    exit_code(&diags, a.deny_warnings)
}

fn summary(errors: usize, warnings: usize, hints: usize) -> String {
    if errors + warnings + hints == 0 {
        return "ok: no problems found".to_owned();
    }
    format!("{errors} error(s), {warnings} warning(s), {hints} hint(s)")
}

fn exit_code(diags: &[Diagnostic], deny_warnings: bool) -> i32 {
    if diags.iter().any(|d| d.severity == Severity::Error) {
        2
    } else if deny_warnings && diags.iter().any(|d| d.severity == Severity::Warning) {
        1
    } else {
        0
    }
}
