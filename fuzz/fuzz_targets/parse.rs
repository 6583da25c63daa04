//! Any bytes → parse + check (+ compile): no panic, and the limits hold on every accepted
//! tree: source length, nesting depth, arguments per call; every diagnostic span lies on
//! character boundaries inside the source.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mapexpr::syntax::ast::{Expr, ExprKind};
use mapexpr::{CheckOptions, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    let parsed = match mapexpr::syntax::parse_with(src, &limits) {
        Ok(p) => p,
        Err(diags) => {
            assert!(!diags.is_empty(), "a failed parse reports at least one diagnostic");
            for d in &diags {
                assert_span(src, d.span.start, d.span.end);
            }
            return;
        }
    };
    assert!(src.encode_utf16().count() <= limits.max_expression_len);
    let depth = call_depth(&parsed.expr);
    assert!(depth <= limits.max_depth, "depth {depth} over the limit for {src:?}");
    parsed.expr.walk(&mut |e| {
        if let ExprKind::Call(c) = &e.kind {
            assert!(c.args.len() <= limits.max_args);
        }
        assert_span(src, e.span.start, e.span.end);
    });
    let checked = mapexpr::check::check(&parsed.expr, &CheckOptions { schema: None, limits: limits.clone() });
    for d in &checked.diagnostics {
        assert_span(src, d.span.start, d.span.end);
    }
    if !checked.has_errors() {
        let _ = mapexpr::compile(src);
    }
});

fn assert_span(src: &str, start: u32, end: u32) {
    let (s, e) = (start as usize, end as usize);
    assert!(s <= e && e <= src.len(), "span {s}..{e} outside a source of {} bytes", src.len());
    assert!(src.is_char_boundary(s) && src.is_char_boundary(e), "span {s}..{e} splits a character");
}

/// Nesting of calls in the tree (each call is one open parenthesis), without recursion.
fn call_depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 0usize)];
    while let Some((e, d)) = stack.pop() {
        match &e.kind {
            ExprKind::Call(c) => {
                max = max.max(d + 1);
                for a in &c.args {
                    if let Some(x) = &a.expr {
                        stack.push((x, d + 1));
                    }
                }
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                stack.push((lhs, d));
                stack.push((rhs, d));
            }
            _ => {}
        }
    }
    max
}
