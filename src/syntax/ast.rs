//! The abstract syntax tree. Every node carries its byte span; `Display` is the canonical
//! printer (Graph style) and printing then parsing gives the same tree.
//!
//! Equality (`PartialEq`) compares trees and ignores spans, so `parse(print(e)) == e` holds
//! even though the printed text has different offsets.

use std::fmt;

use super::Span;
use crate::functions;

/// An expression node.
///
/// `Clone`, `PartialEq`, `Drop` and `Display` are written by hand so that a long `&` chain
/// (a left-leaning tree as deep as the chain is long; the depth limit counts only
/// parentheses) is handled in a loop rather than by recursing once per operand. `Debug` is
/// still derived and recursive.
#[derive(Debug)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Byte span in the source text.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A function call.
    Call(Call),
    /// `[name]`.
    Attr(String),
    /// A string constant (escapes resolved).
    Str(String),
    /// An integer constant; `hex` remembers the `&H` spelling for the printer.
    Int {
        /// The value.
        value: i64,
        /// Written as `&H…`.
        hex: bool,
    },
    /// `vbTextCompare`, `vbBinaryCompare`, `True`, `False`.
    Const(Constant),
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
}

/// A call `Name(arg, …)`.
#[derive(Clone, Debug)]
pub struct Call {
    /// The name as written.
    pub name: String,
    /// Span of the name.
    pub name_span: Span,
    /// Every argument slot as written, empty ones included (S6).
    pub args: Vec<Arg>,
}

impl Call {
    /// A Switch's `(key, value)` pairs (the arguments after the source and the default), in
    /// source order; a pair with an empty slot, or a trailing lone key, is left out. The one
    /// reading of Switch's shape, for the compiler, its string chains and the reference
    /// evaluator.
    pub fn switch_pairs(&self) -> Vec<(&Expr, &Expr)> {
        self.args
            .get(2..)
            .unwrap_or(&[])
            .chunks(2)
            .filter_map(|p| match p {
                [k, v] => Some((k.expr.as_ref()?, v.expr.as_ref()?)),
                _ => None,
            })
            .collect()
    }
}

impl PartialEq for Call {
    fn eq(&self, other: &Self) -> bool {
        canonical_name(&self.name) == canonical_name(&other.name) && self.args == other.args
    }
}

/// One argument slot.
#[derive(Clone, Debug)]
pub struct Arg {
    /// The argument, or `None` for an empty slot.
    pub expr: Option<Expr>,
    /// Span of the slot (for an empty slot, the position between the commas).
    pub span: Span,
}

impl PartialEq for Arg {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

/// The named constants (S5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constant {
    /// `vbTextCompare` (1).
    VbTextCompare,
    /// `vbBinaryCompare` (0).
    VbBinaryCompare,
    /// `True`.
    True,
    /// `False`.
    False,
}

impl Constant {
    /// Recognises a constant name, ignoring case.
    pub fn from_name(name: &str) -> Option<Constant> {
        [
            Constant::VbTextCompare,
            Constant::VbBinaryCompare,
            Constant::True,
            Constant::False,
        ]
        .into_iter()
        .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The canonical spelling.
    pub fn name(self) -> &'static str {
        match self {
            Constant::VbTextCompare => "vbTextCompare",
            Constant::VbBinaryCompare => "vbBinaryCompare",
            Constant::True => "True",
            Constant::False => "False",
        }
    }
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `&` (S7).
    Concat,
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl BinOp {
    /// The operator's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Concat => "&",
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }

    /// True for the comparison operators.
    pub fn is_comparison(self) -> bool {
        self != BinOp::Concat
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        // `&` chains are left-leaning trees as deep as they are long; compare them operand
        // by operand instead of recursing down the left spine.
        match (&self.kind, &other.kind) {
            (
                ExprKind::Binary {
                    op: BinOp::Concat, ..
                },
                ExprKind::Binary {
                    op: BinOp::Concat, ..
                },
            ) => {
                let (a, b) = (concat_operands(self), concat_operands(other));
                a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y)
            }
            _ => self.kind == other.kind,
        }
    }
}

impl Clone for Expr {
    fn clone(&self) -> Expr {
        if !matches!(
            self.kind,
            ExprKind::Binary {
                op: BinOp::Concat,
                ..
            }
        ) {
            return Expr {
                kind: self.kind.clone(),
                span: self.span,
            };
        }
        // Rebuild the left spine bottom-up; only the operands are cloned recursively.
        let mut spine = Vec::new();
        let mut cur = self;
        while let ExprKind::Binary {
            op: BinOp::Concat,
            lhs,
            rhs,
        } = &cur.kind
        {
            spine.push((cur.span, &**rhs));
            cur = lhs;
        }
        let mut acc = cur.clone();
        for (span, rhs) in spine.into_iter().rev() {
            acc = Expr {
                kind: ExprKind::Binary {
                    op: BinOp::Concat,
                    lhs: Box::new(acc),
                    rhs: Box::new(rhs.clone()),
                },
                span,
            };
        }
        acc
    }
}

impl Drop for Expr {
    /// Drops the tree without recursing once per level: a long `&` chain is a tree tens of
    /// thousands of nodes deep, and the compiler-generated drop would overflow the stack.
    fn drop(&mut self) {
        let mut stack = Vec::new();
        take_children(&mut self.kind, &mut stack);
        while let Some(mut e) = stack.pop() {
            take_children(&mut e.kind, &mut stack);
        }
    }
}

/// Moves a node's children out (leaving childless placeholders) so they drop one by one.
fn take_children(kind: &mut ExprKind, out: &mut Vec<Expr>) {
    match kind {
        ExprKind::Binary { lhs, rhs, .. } => {
            out.push(std::mem::replace(&mut **lhs, Expr::placeholder()));
            out.push(std::mem::replace(&mut **rhs, Expr::placeholder()));
        }
        ExprKind::Call(c) => out.extend(c.args.iter_mut().filter_map(|a| a.expr.take())),
        _ => {}
    }
}

/// The operands of a left-leaning `&` chain, left to right, collected iteratively.
pub fn concat_operands(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut cur = e;
    while let ExprKind::Binary {
        op: BinOp::Concat,
        lhs,
        rhs,
    } = &cur.kind
    {
        out.push(&**rhs);
        cur = lhs;
    }
    out.push(cur);
    out.reverse();
    out
}

impl Expr {
    /// A childless node that owns nothing (what a dropped node's children are swapped for).
    fn placeholder() -> Expr {
        Expr {
            kind: ExprKind::Int {
                value: 0,
                hex: false,
            },
            span: Span::default(),
        }
    }

    /// The call, if this node is one.
    pub fn as_call(&self) -> Option<&Call> {
        match &self.kind {
            ExprKind::Call(c) => Some(c),
            _ => None,
        }
    }

    /// The attribute name, if this node is `[name]`.
    pub fn as_attr(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Attr(a) => Some(a),
            _ => None,
        }
    }

    /// Visits this node and every node below it, parents first.
    pub fn walk<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        // An explicit stack: trees are at most `max_depth` deep, but walking must not recurse
        // on the thread stack in any case.
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            match &e.kind {
                ExprKind::Call(c) => {
                    for a in c.args.iter().rev() {
                        if let Some(x) = &a.expr {
                            stack.push(x);
                        }
                    }
                }
                ExprKind::Binary { lhs, rhs, .. } => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                _ => {}
            }
        }
    }

    /// Every attribute the expression reads, in first-use order, without duplicates.
    pub fn attributes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.walk(&mut |e| {
            if let Some(a) = e.as_attr() {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        });
        out
    }
}

/// The registry casing of a function name, or the name as written when unknown.
pub fn canonical_name(name: &str) -> &str {
    match functions::lookup(name) {
        Some(f) => f.name,
        None => name,
    }
}

/// Writes a string constant with `\` and `"` escaped.
pub fn write_string_literal(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// Binding strength for the printer: operands 3, `&` 2, comparisons 1.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::Concat, ..
        } => 2,
        ExprKind::Binary { .. } => 1,
        _ => 3,
    }
}

impl fmt::Display for Expr {
    /// Canonical source: registry casing, `", "` between arguments, one space around
    /// operators, parentheses only where precedence needs them (spec §7.2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Call(c) => {
                f.write_str(canonical_name(&c.name))?;
                f.write_str("(")?;
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        // An empty slot prints as nothing: `Replace([x], "-", , , "_", , )`.
                        f.write_str(", ")?;
                    }
                    if let Some(x) = &a.expr {
                        write!(f, "{x}")?;
                    }
                }
                f.write_str(")")
            }
            ExprKind::Attr(a) => write!(f, "[{a}]"),
            ExprKind::Str(s) => write_string_literal(f, s),
            ExprKind::Int { value, hex: false } => write!(f, "{value}"),
            ExprKind::Int { value, hex: true } => write!(f, "&H{:X}", *value as u64),
            ExprKind::Const(c) => f.write_str(c.name()),
            ExprKind::Binary {
                op: BinOp::Concat, ..
            } => {
                // A chain `a & b & c` is a left-leaning tree as deep as it is long: print its
                // operands in a loop rather than recursing down the left spine. `&` is
                // left-associative: the first operand needs parentheses only when it is a
                // comparison, later ones also when they are `&` chains themselves.
                for (i, operand) in concat_operands(self).into_iter().enumerate() {
                    if i == 0 {
                        write_operand(f, operand, precedence(operand) < 2)?;
                    } else {
                        f.write_str(" & ")?;
                        write_operand(f, operand, precedence(operand) <= 2)?;
                    }
                }
                Ok(())
            }
            ExprKind::Binary { op, lhs, rhs } => {
                // Comparisons are non-associative: any comparison operand needs parentheses
                // (`&` chains are printed above).
                let (lp, rp) = (precedence(lhs) <= 1, precedence(rhs) <= 1);
                write_operand(f, lhs, lp)?;
                write!(f, " {} ", op.as_str())?;
                write_operand(f, rhs, rp)
            }
        }
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr, paren: bool) -> fmt::Result {
    if paren {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}
