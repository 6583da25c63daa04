//! Command-line parsing (clap) and dispatch. Each subcommand lives in its own file and
//! returns the process exit code; nothing here panics on bad input.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

/// `println!` that never panics: when stdout is closed (`mapexpr functions | head`), the
/// process ends quietly with the status a SIGPIPE would give.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($t)*).is_err() {
            std::process::exit(141);
        }
    }};
}

/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout().lock(), $($t)*).is_err() {
            std::process::exit(141);
        }
    }};
}

mod check;
mod deps;
mod eval;
mod explain;
mod functions;
mod run;
mod test;
mod validate;

/// Compile, check and evaluate Microsoft Entra attribute-mapping expressions.
#[derive(Parser)]
#[command(name = "mapexpr", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check one expression; report every problem.
    Check(check::Args),
    /// Evaluate one expression against a record.
    Eval(eval::Args),
    /// Show the parsed tree with parameter names, and optionally the bytecode.
    Explain(explain::Args),
    /// List every function with its signature.
    Functions(functions::Args),
    /// Apply a mapping set to every record of an NDJSON or CSV file.
    Run(run::Args),
    /// Check every mapping of an exported Entra synchronization schema before importing it.
    Validate(validate::Args),
    /// Run expression or mapping test cases (also the Pester harness's JSON cases).
    Test(test::Args),
    /// List the source attributes an expression or a mapping set reads.
    Deps(deps::Args),
}

/// Output formats shared by the subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Human,
    /// One JSON object on stdout.
    Json,
    /// Microsoft Graph's parseExpression response (eval only).
    Graph,
}

/// Runs the CLI; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Functions(a) => functions::run(a),
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Test(a) => test::run(a),
        Command::Deps(a) => deps::run(a),
    }
}

/// The evaluation and parsing limits, shared by every subcommand that compiles or evaluates
/// (defaults: `mapexpr::Limits::default()`, documented in the README).
#[derive(clap::Args, Clone, Debug)]
pub struct LimitArgs {
    /// Hard expression length in UTF-16 code units.
    #[arg(long, value_name = "N")]
    max_expression_len: Option<usize>,
    /// Open parentheses at once.
    #[arg(long, value_name = "N")]
    max_depth: Option<usize>,
    /// Arguments in one call.
    #[arg(long, value_name = "N")]
    max_args: Option<usize>,
    /// Steps one evaluation may take.
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Bytes one value may hold.
    #[arg(long, value_name = "BYTES")]
    max_value_bytes: Option<usize>,
    /// Bytes one evaluation may build in all.
    #[arg(long, value_name = "BYTES")]
    max_output_bytes: Option<usize>,
    /// Values one multi-valued value may hold.
    #[arg(long, value_name = "N")]
    max_multi_len: Option<usize>,
}

impl LimitArgs {
    /// The limits: defaults overridden by the flags given.
    pub fn limits(&self) -> mapexpr::Limits {
        let mut l = mapexpr::Limits::default();
        if let Some(v) = self.max_expression_len {
            l.max_expression_len = v;
        }
        if let Some(v) = self.max_depth {
            l.max_depth = v;
        }
        if let Some(v) = self.max_args {
            l.max_args = v;
        }
        if let Some(v) = self.max_steps {
            l.max_steps = v;
        }
        if let Some(v) = self.max_value_bytes {
            l.max_value_bytes = v;
        }
        if let Some(v) = self.max_output_bytes {
            l.max_output_bytes = v;
        }
        if let Some(v) = self.max_multi_len {
            l.max_multi_len = v;
        }
        l
    }
}

/// Reads a file as UTF-8 text, with a message naming the file on failure.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "`{}` is not valid UTF-8 (first bad byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The expression to work on, as `check`, `eval` and `explain` take it.
#[derive(clap::Args)]
pub struct ExprArgs {
    /// The expression (or use --file).
    expr: Option<String>,
    /// Read the expression from a file.
    #[arg(long)]
    file: Option<PathBuf>,
}

impl ExprArgs {
    /// The source text and where it came from (`<expr>` or the file's path).
    pub fn source(&self) -> Result<(String, String), String> {
        expression_source(self.expr.clone(), self.file.clone())
    }
}

/// The expression from a positional argument or `--file`.
pub fn expression_source(
    expr: Option<String>,
    file: Option<PathBuf>,
) -> Result<(String, String), String> {
    match (expr, file) {
        (Some(e), None) => Ok((e, "<expr>".to_owned())),
        (None, Some(f)) => {
            let text = read_text(&f)?;
            // A trailing newline from an editor is not part of the expression.
            let text = text
                .strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(&text)
                .to_owned();
            Ok((text, f.display().to_string()))
        }
        (Some(_), Some(_)) => {
            Err("give the expression either as an argument or with --file, not both".to_owned())
        }
        (None, None) => Err("give an expression, or --file FILE".to_owned()),
    }
}

/// Loads a schema file for `--schema`.
pub fn load_schema(path: Option<&Path>) -> Result<Option<mapexpr::Schema>, String> {
    match path {
        None => Ok(None),
        Some(p) => {
            let text = read_text(p)?;
            mapexpr::Schema::from_json_str(&text)
                .map(Some)
                .map_err(|e| format!("`{}`: {e}", p.display()))
        }
    }
}

/// Prints diagnostics for people on stderr.
pub fn print_diagnostics(diags: &[mapexpr::Diagnostic], source: &str, origin: &str) {
    for d in diags {
        eprint!("{}", d.render(source, origin));
        eprintln!();
    }
}

/// Prints the diagnostics of a mapping set's expressions (at least `min` severe) on stderr,
/// each located at its mapping.
pub fn print_set_diagnostics(
    entries: &[mapexpr::mapping::MappingDiagnostics],
    min: mapexpr::Severity,
) {
    for m in entries {
        for d in m.diagnostics.iter().filter(|d| d.severity >= min) {
            eprint!("{}", d.render(&m.source, &m.origin));
            eprintln!("  = target attribute: `{}`", m.target);
            eprintln!();
        }
    }
}
