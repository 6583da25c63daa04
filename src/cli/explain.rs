//! `mapexpr explain`: the parsed tree with every argument's parameter name, and the bytecode.

use std::fmt::Write as _;

use mapexpr::CompileOptions;
use mapexpr::syntax::ast::{BinOp, Expr, ExprKind};

/// Arguments of `explain`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    expression: super::ExprArgs,
    /// Also print the bytecode disassembly.
    #[arg(long)]
    bytecode: bool,
}

/// Runs `explain`: exit 0, or 2 when the expression does not compile.
pub fn run(a: Args) -> i32 {
    let (src, origin) = match a.expression.source() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let parsed = match mapexpr::syntax::parse(&src) {
        Ok(p) => p,
        Err(diags) => {
            super::print_diagnostics(&diags, &src, &origin);
            return 2;
        }
    };
    outln!("{}", redacted(&parsed.expr));
    let mut out = String::new();
    tree(&parsed.expr, "", "", false, &mut out);
    out!("{out}");
    if a.bytecode {
        match mapexpr::compile_with(&src, &CompileOptions::default()) {
            Ok(c) => {
                outln!();
                out!("{}", c.program.disassemble());
            }
            Err(e) => {
                super::print_diagnostics(&e.diagnostics, &src, &origin);
                return 2;
            }
        }
    }
    0
}

/// Writes one node and its children as an indented tree. Values under `Redact` are shown as
/// `[Redact]` (F20).
fn tree(e: &Expr, label: &str, indent: &str, redacted: bool, out: &mut String) {
    let text = match &e.kind {
        ExprKind::Call(c) => format!("{}(…)", mapexpr::syntax::ast::canonical_name(&c.name)),
        ExprKind::Binary { op, .. } => format!("operator {}", op.as_str()),
        ExprKind::Str(_) | ExprKind::Int { .. } if redacted => "[Redact]".to_owned(),
        _ => e.to_string(),
    };
    let _ = writeln!(out, "{indent}{label}{text}");
    let child_indent = format!("{indent}    ");
    match &e.kind {
        ExprKind::Call(c) => {
            let spec = mapexpr::functions::lookup(&c.name);
            let n = c.args.len();
            let redact_here = redacted || spec.is_some_and(|s| s.name == "Redact");
            for (i, a) in c.args.iter().enumerate() {
                let key = spec
                    .and_then(|s| s.param_for(s.slot_of(n, i)))
                    .map_or("argument".to_owned(), |p| p.key.to_owned());
                let label = format!("{key}: ");
                match &a.expr {
                    Some(x) => tree(x, &label, &child_indent, redact_here, out),
                    None => {
                        let _ = writeln!(out, "{child_indent}{label}(empty)");
                    }
                }
            }
            if let Some(spec) = spec {
                // Show the optional slots the call leaves out, so Replace's seven are visible.
                for p in spec.params.iter().skip(n) {
                    if p.arity == mapexpr::functions::Arity::Optional {
                        let _ = writeln!(out, "{child_indent}{}: (omitted)", p.key);
                    }
                }
            }
        }
        ExprKind::Binary {
            op: BinOp::Concat, ..
        } => {
            // A `&` chain is listed flat: its tree is as deep as the chain is long.
            let parts = mapexpr::syntax::ast::concat_operands(e);
            for p in parts {
                tree(p, "operand: ", &child_indent, redacted, out);
            }
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            tree(lhs, "left: ", &child_indent, redacted, out);
            tree(rhs, "right: ", &child_indent, redacted, out);
        }
        _ => {}
    }
}

/// The expression with every constant under `Redact(…)` replaced by `"[Redact]"` (F20).
fn redacted(e: &Expr) -> Expr {
    let mut out = e.clone();
    mask(&mut out, false);
    out
}

fn mask(e: &mut Expr, under: bool) {
    match &mut e.kind {
        ExprKind::Str(_) | ExprKind::Int { .. } if under => {
            e.kind = ExprKind::Str("[Redact]".to_owned())
        }
        ExprKind::Call(c) => {
            let here = under || c.name.eq_ignore_ascii_case("Redact");
            for a in &mut c.args {
                if let Some(x) = &mut a.expr {
                    mask(x, here);
                }
            }
        }
        ExprKind::Binary { .. } => {
            // Iteratively over `&` chains (see `tree`).
            let mut stack = vec![e];
            while let Some(x) = stack.pop() {
                if !matches!(x.kind, ExprKind::Binary { .. }) {
                    mask(x, under);
                } else if let ExprKind::Binary { lhs, rhs, .. } = &mut x.kind {
                    stack.push(lhs);
                    stack.push(rhs);
                }
            }
        }
        _ => {}
    }
}
