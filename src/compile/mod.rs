//! Checked AST to [`Program`]: constant folding, attribute names resolved to slots,
//! per-call-site preparation (regexes and formats compiled once), Switch tables, jumps for
//! the lazy functions.
//!
//! Invariant: the compiler runs only on trees the checker accepted, so it never meets an
//! unknown function, a wrong arity or an empty required slot; if it does anyway it returns an
//! error instead of panicking.

use std::collections::HashMap;

use crate::bytecode::chain::{Chain, Node, Unary};
use crate::bytecode::{
    CallIdx, CallSite, ChainIdx, CodeIdx, ConstIdx, Op, Program, SlotIdx, SwitchTable, TableIdx,
};
use crate::context::Limits;
use crate::diagnostic::Diagnostic;
use crate::error::ErrorCode;
use crate::functions::{self, ConstArgs, FnSpec, Imp, LazyKind};
use crate::syntax::Span;
use crate::syntax::ast::{BinOp, Call, Constant, Expr, ExprKind};
use crate::value::Value;

/// Attribute names shared by the programs of one mapping set: each name gets one slot.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Layout {
    /// An empty layout.
    pub fn new() -> Self {
        Layout::default()
    }

    /// The slot of `name`, allocating one when new.
    pub fn slot(&mut self, name: &str) -> SlotIdx {
        if let Some(i) = self.index.get(name) {
            return SlotIdx(*i);
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), i);
        SlotIdx(i)
    }

    /// The slot of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<SlotIdx> {
        self.index.get(name).map(|i| SlotIdx(*i))
    }

    /// The names in slot order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Compiles a checked expression with its own attribute layout.
pub fn compile(expr: &Expr, source: &str, limits: &Limits) -> Result<Program, Diagnostic> {
    let mut layout = Layout::new();
    compile_in(expr, source, limits, &mut layout)
}

/// Compiles a checked expression, allocating attribute slots in a shared layout. The
/// program's attribute table is the layout's names at the time of compilation (a prefix of
/// the final layout), so slot numbers are valid for records laid out by the final layout.
pub fn compile_in(
    expr: &Expr,
    source: &str,
    limits: &Limits,
    layout: &mut Layout,
) -> Result<Program, Diagnostic> {
    let mut c = Compiler {
        code: Vec::new(),
        consts: Vec::new(),
        calls: Vec::new(),
        tables: Vec::new(),
        chains: Vec::new(),
        in_chain_fallback: false,
        spans: Vec::new(),
        layout,
        folded: HashMap::new(),
        limits,
        depth: 0,
        max_depth: 0,
        redacting: 0,
        redacted: Vec::new(),
    };
    c.fold(expr);
    c.emit(expr)?;
    c.op(Op::Return, -1);
    peephole(&mut c.code);
    let attributes = c.layout.names().to_vec();
    let builds_strings = c
        .code
        .iter()
        .any(|op| matches!(op, Op::Call(_) | Op::Concat(_) | Op::StrChain(_)));
    let decision_only = decision_only(&c.code, &c.tables);
    let entry = crate::bytecode::Entry::of(
        &c.code,
        &c.consts,
        &c.tables,
        &c.chains,
        &c.calls,
        decision_only,
    );
    Ok(Program {
        code: c.code,
        consts: c.consts,
        calls: c.calls,
        tables: c.tables,
        chains: c.chains,
        attributes,
        spans: c.spans,
        source: source.to_owned(),
        max_stack: c.max_depth.max(1) as usize,
        redacted: c.redacted,
        builds_strings,
        entry,
    })
}

struct Compiler<'l> {
    code: Vec<Op>,
    consts: Vec<Value<'static>>,
    calls: Vec<CallSite>,
    tables: Vec<SwitchTable>,
    chains: Vec<Chain>,
    /// Emitting the generic fallback of a chain: no nested chains there.
    in_chain_fallback: bool,
    spans: Vec<(u32, Span)>,
    layout: &'l mut Layout,
    /// Constant value of every node that folds, keyed by node address (the tree is borrowed
    /// immutably for the whole compilation, so addresses are stable).
    folded: HashMap<usize, Value<'static>>,
    limits: &'l Limits,
    depth: i64,
    max_depth: i64,
    /// Inside a `Redact(…)` call: constants emitted now are hidden in displays (F20).
    redacting: u32,
    /// Per constant: shown as `[Redact]` by the disassembler.
    redacted: Vec<bool>,
}

fn key(e: &Expr) -> usize {
    e as *const Expr as usize
}

#[cold]
fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        ErrorCode::UnexpectedToken,
        span,
        format!("internal compiler error: {what}"),
    )
}

impl Compiler<'_> {
    // ---- folding -------------------------------------------------------------------------

    /// Computes the constant value of `e` and of every node below it (bottom-up, once).
    fn fold(&mut self, e: &Expr) -> Option<Value<'static>> {
        let v = self.fold_node(e);
        if let Some(v) = &v {
            self.folded.insert(key(e), v.clone());
        }
        v
    }

    fn konst(&self, e: &Expr) -> Option<&Value<'static>> {
        self.folded.get(&key(e))
    }

    fn fold_node(&mut self, e: &Expr) -> Option<Value<'static>> {
        match &e.kind {
            ExprKind::Str(s) => Some(Value::string(s.clone())),
            ExprKind::Int { value, .. } => Some(Value::Int(*value)),
            ExprKind::Const(c) => Some(constant_value(*c)),
            ExprKind::Attr(_) => None,
            ExprKind::Binary {
                op: BinOp::Concat, ..
            } => {
                // The whole chain in one linear pass; only its operands are recursed into.
                let parts = crate::syntax::ast::concat_operands(e);
                let vals: Vec<Option<Value<'static>>> =
                    parts.iter().map(|p| self.fold(p)).collect();
                let mut out = String::new();
                for v in vals {
                    out.push_str(v?.text().ok()?.as_deref().unwrap_or(""));
                }
                Some(Value::string(out))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.fold(lhs);
                let r = self.fold(rhs);
                let (l, r) = (l?, r?);
                binary(*op, &l, &r).ok()
            }
            ExprKind::Call(call) => {
                let vals: Vec<Option<Value<'static>>> = call
                    .args
                    .iter()
                    .map(|a| a.expr.as_ref().and_then(|x| self.fold(x)))
                    .collect();
                let spec = functions::lookup(&call.name)?;
                match spec.imp {
                    Imp::Native {
                        eval,
                        prepare,
                        pure,
                    } => {
                        if !pure
                            || call
                                .args
                                .iter()
                                .zip(&vals)
                                .any(|(a, v)| a.expr.is_some() && v.is_none())
                        {
                            return None;
                        }
                        let (slots, present) = functions::const_slots(spec, call.args.len(), |i| {
                            call.args.get(i)?.expr.as_ref()?;
                            Some(vals.get(i).and_then(Option::as_ref))
                        });
                        let site = match prepare {
                            Some(p) => p(&ConstArgs { slots: &slots }).ok()?,
                            None => None,
                        };
                        functions::fold(spec, eval, &slots, present, site.as_deref(), self.limits)?
                            .ok()
                    }
                    Imp::Lazy(LazyKind::Iif) => match vals.first()? {
                        Some(c) => match condition(c)? {
                            true => vals.get(1).cloned().flatten(),
                            false => vals.get(2).cloned().flatten(),
                        },
                        None => None,
                    },
                    Imp::Lazy(LazyKind::Coalesce) => {
                        for v in &vals {
                            match v {
                                Some(Value::Null) => continue,
                                Some(v) => return Some(v.clone()),
                                None => return None,
                            }
                        }
                        Some(Value::Null)
                    }
                    Imp::Lazy(LazyKind::Switch) => {
                        let source = vals
                            .first()?
                            .as_ref()?
                            .text()
                            .ok()?
                            .map(|s| s.into_owned())
                            .unwrap_or_default();
                        let mut i = 2;
                        while i + 1 < vals.len() {
                            let k = vals[i]
                                .as_ref()?
                                .text()
                                .ok()?
                                .map(|s| s.into_owned())
                                .unwrap_or_default();
                            if k == source {
                                return vals[i + 1].clone();
                            }
                            i += 2;
                        }
                        match call.args.get(1).and_then(|a| a.expr.as_ref()) {
                            Some(_) => vals.get(1).cloned().flatten(),
                            None => Some(Value::Null),
                        }
                    }
                    _ => None,
                }
            }
        }
    }

    // ---- emission ------------------------------------------------------------------------

    fn op(&mut self, op: Op, effect: i64) -> CodeIdx {
        let pc = CodeIdx(self.code.len() as u32);
        self.code.push(op);
        self.depth += effect;
        self.max_depth = self.max_depth.max(self.depth);
        pc
    }

    fn here(&self) -> CodeIdx {
        CodeIdx(self.code.len() as u32)
    }

    fn patch(&mut self, at: CodeIdx, target: CodeIdx) {
        if let Some(op) = self.code.get_mut(at.get()) {
            *op = match *op {
                Op::Jump(_) => Op::Jump(target),
                Op::JumpIfFalse(_) => Op::JumpIfFalse(target),
                Op::JumpIfNotNull(_) => Op::JumpIfNotNull(target),
                Op::UniqueOrNext(_) => Op::UniqueOrNext(target),
                Op::SwitchKeyEq(_) => Op::SwitchKeyEq(target),
                other => other,
            };
        }
    }

    fn span_here(&mut self, span: Span) {
        self.spans.push((self.code.len() as u32, span));
    }

    fn push_const(&mut self, v: Value<'static>) {
        let redact = self.redacting > 0;
        let idx = match self.consts.iter().position(|c| same_const(c, &v)) {
            Some(i) => {
                if let Some(r) = self.redacted.get_mut(i) {
                    *r |= redact;
                }
                i
            }
            None => {
                self.consts.push(v);
                self.redacted.push(redact);
                self.consts.len() - 1
            }
        };
        self.op(Op::Const(ConstIdx(idx as u32)), 1);
    }

    fn emit(&mut self, e: &Expr) -> Result<(), Diagnostic> {
        let redact = e
            .as_call()
            .is_some_and(|c| c.name.eq_ignore_ascii_case("Redact"));
        self.redacting += u32::from(redact);
        let r = self.emit_inner(e);
        self.redacting -= u32::from(redact);
        r
    }

    fn emit_inner(&mut self, e: &Expr) -> Result<(), Diagnostic> {
        if let Some(v) = self.konst(e).cloned() {
            self.push_const(v);
            return Ok(());
        }
        if !self.in_chain_fallback {
            if let Some(parts) = self.chain(e) {
                // A guard (when there are leaves), the leaves (left to right), the chain, then
                // the generic code of the same expression for when the chain bails out.
                let pushed = parts.leaves.len() as u32;
                let idx = ChainIdx(self.chains.len() as u32);
                let flat = crate::bytecode::chain::Flat::of(&parts.nodes);
                let sizes = crate::bytecode::chain::Sizes::of(&parts.nodes);
                let ascii = (pushed == 0 && parts.nodes.len() <= crate::bytecode::chain::GATHER)
                    .then(|| crate::bytecode::ascii::AsciiPlan::of(&parts.nodes, &parts.filters))
                    .flatten();
                self.chains.push(Chain {
                    flat,
                    sizes,
                    ascii,
                    nodes: parts.nodes,
                    end: CodeIdx(0),
                    filters: parts.filters,
                    pushed,
                    fallback: CodeIdx(0),
                });
                if pushed > 0 {
                    self.op(Op::ChainGuard(idx), 0);
                }
                for (k, leaf) in parts.leaves.iter().enumerate() {
                    self.emit(leaf)?;
                    if k + 1 < parts.leaves.len() {
                        self.op(Op::LeafGuard(idx, k as u32 + 1), 0);
                    }
                }
                self.span_here(e.span);
                self.op(Op::StrChain(idx), -i64::from(pushed));
                let fallback = self.here();
                if let Some(c) = self.chains.get_mut(idx.get()) {
                    c.fallback = fallback;
                }
                self.in_chain_fallback = true;
                let r = self.emit_inner(e);
                self.in_chain_fallback = false;
                r?;
                let end = self.here();
                if let Some(c) = self.chains.get_mut(idx.get()) {
                    c.end = end;
                }
                return Ok(());
            }
        }
        match &e.kind {
            ExprKind::Str(_) | ExprKind::Int { .. } | ExprKind::Const(_) => {
                Err(internal(e.span, "unfolded constant"))
            }
            ExprKind::Attr(name) => {
                let slot = self.layout.slot(name);
                self.op(Op::Attr(slot), 1);
                Ok(())
            }
            ExprKind::Binary {
                op: BinOp::Concat, ..
            } => {
                let parts = crate::syntax::ast::concat_operands(e);
                for p in &parts {
                    self.emit(p)?;
                }
                self.span_here(e.span);
                let n = parts.len() as i64;
                self.op(Op::Concat(n as u32), 1 - n);
                Ok(())
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.emit(lhs)?;
                self.emit(rhs)?;
                self.span_here(e.span);
                self.op(Op::Cmp(*op), -1);
                Ok(())
            }
            ExprKind::Call(call) => {
                let spec = functions::lookup(&call.name)
                    .ok_or_else(|| internal(e.span, "unknown function"))?;
                match spec.imp {
                    Imp::Native { eval, prepare, .. } => self.native(e, call, spec, eval, prepare),
                    Imp::Lazy(kind) => self.lazy(e, call, kind),
                    Imp::NotYet => Err(Diagnostic::error(
                        ErrorCode::NotYetSupported,
                        call.name_span,
                        format!(
                            "`{}` is not supported by this build of mapexpr yet",
                            spec.name
                        ),
                    )),
                }
            }
        }
    }

    /// The string chain for `e`, when `e` is a tree of string-building calls worth fusing
    /// (at least one Join, Append or `&` with something else around or inside it), with the
    /// pure subexpressions it does not fuse itself as leaves the code before it computes.
    fn chain<'e>(&mut self, e: &'e Expr) -> Option<ChainParts<'e>> {
        let mut parts = ChainParts::default();
        let root = self.chain_node(e, &mut parts)?;
        let root_is_leaf = matches!(parts.nodes.get(root as usize), Some(Node::Pushed(_)));
        (parts.builders >= 1 && parts.nodes.len() >= 3 && !root_is_leaf).then_some(parts)
    }

    fn chain_node<'e>(&mut self, e: &'e Expr, parts: &mut ChainParts<'e>) -> Option<u32> {
        let node = if let Some(v) = self.konst(e) {
            match v {
                Value::Str(s) => Node::Text(s.to_string()),
                Value::Int(_) | Value::Bool(_) | Value::Date(_) => Node::Text(v.render_scalar()),
                _ => return None,
            }
        } else {
            match self.chain_call(e, parts) {
                Some(node) => node,
                None if is_pure(e) => {
                    // Anything else pure is computed by generic code before the chain.
                    parts.leaves.push(e);
                    Node::Pushed(parts.leaves.len() as u32 - 1)
                }
                None => return None,
            }
        };
        parts.nodes.push(node);
        Some(parts.nodes.len() as u32 - 1)
    }

    /// A constant Switch key as the text the source is compared with (Null is `""`); `None`
    /// for a key that is not a constant (the dynamic-key code handles those).
    fn switch_key(&self, k: &Expr) -> Option<String> {
        let t = self.konst(k)?.text().ok()?;
        Some(t.map(|s| s.into_owned()).unwrap_or_default())
    }

    /// The chain node of a Switch result: only an attribute or a constant, because a chain
    /// evaluates nothing it was not asked for, so an unchosen value must not be able to fail.
    fn chain_simple<'e>(&mut self, x: &'e Expr, parts: &mut ChainParts<'e>) -> Option<u32> {
        let ok = matches!(x.kind, ExprKind::Attr(_))
            || matches!(
                self.konst(x),
                Some(Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::Date(_))
            );
        if ok { self.chain_node(x, parts) } else { None }
    }

    /// The chain node of a string-building call, attribute or `&`; `None` for anything else.
    fn chain_call<'e>(&mut self, e: &'e Expr, parts: &mut ChainParts<'e>) -> Option<Node> {
        let call = match &e.kind {
            ExprKind::Attr(name) => return Some(Node::Attr(self.layout.slot(name))),
            ExprKind::Binary {
                op: BinOp::Concat, ..
            } => {
                let operands = crate::syntax::ast::concat_operands(e);
                let mut children = Vec::with_capacity(operands.len());
                for p in operands {
                    children.push(self.chain_node(p, parts)?);
                }
                parts.builders += 1;
                return Some(Node::Concat(children));
            }
            ExprKind::Call(call) => call,
            _ => return None,
        };
        let spec = functions::lookup(&call.name)?;
        let slot = |i: usize| call.args.get(i).and_then(|a| a.expr.as_ref());
        let n = call.args.len();
        Some(match spec.name {
            "Join" if n >= 2 && call.args.iter().all(|a| a.expr.is_some()) => {
                let sep = match self.konst(slot(0)?)? {
                    Value::Str(s) => s.to_string(),
                    Value::Int(i) => i.to_string(),
                    _ => return None,
                };
                let mut children = Vec::with_capacity(n - 1);
                for a in call.args.iter().skip(1).filter_map(|a| a.expr.as_ref()) {
                    children.push(self.chain_node(a, parts)?);
                }
                parts.builders += 1;
                Node::Join(sep, children)
            }
            "Append" if n == 2 => {
                let a = self.chain_node(slot(0)?, parts)?;
                let b = self.chain_node(slot(1)?, parts)?;
                parts.builders += 1;
                Node::Concat(vec![a, b])
            }
            "Left" if n == 2 => {
                let count = self.konst(slot(1)?)?.to_int().ok()?;
                Node::Unary(Unary::Left(count), self.chain_node(slot(0)?, parts)?)
            }
            // Replace(x, , "[class]+", , "", , ): a character-class deletion.
            "Replace" => {
                let present = (0..n.max(7))
                    .fold(0u64, |m, i| m | (u64::from(slot(i).is_some()) << i.min(63)));
                if !functions::text::is_class_deletion_mask(present) {
                    return None;
                }
                let Value::Str(pattern) = self.konst(slot(2)?)? else {
                    return None;
                };
                let Value::Str(rep) = self.konst(slot(4)?)? else {
                    return None;
                };
                if !rep.is_empty() {
                    return None;
                }
                let filter = crate::text::regex_dotnet::CharFilter::for_pattern(pattern)?;
                parts.filters.push(filter);
                let f = parts.filters.len() as u32 - 1;
                Node::Unary(Unary::Filter(f), self.chain_node(slot(0)?, parts)?)
            }
            "Switch" => {
                let ExprKind::Attr(src) = &slot(0)?.kind else {
                    return None;
                };
                let src = self.layout.slot(src);
                let default = self.chain_simple(slot(1)?, parts)?;
                let mut keys = Vec::new();
                for (k, v) in call.switch_pairs() {
                    let key = self.switch_key(k)?;
                    keys.push((key, self.chain_simple(v, parts)?));
                }
                Node::Switch { src, keys, default }
            }
            name if n == 1 => Node::Unary(Unary::of_name(name)?, self.chain_node(slot(0)?, parts)?),
            _ => return None,
        })
    }

    fn native(
        &mut self,
        e: &Expr,
        call: &Call,
        spec: &'static FnSpec,
        eval: functions::NativeFn,
        prepare: Option<functions::PrepareFn>,
    ) -> Result<(), Diagnostic> {
        let n = call.args.len();
        let total = spec.slot_count(n);
        // Emit the slots in parameter order; empty and omitted slots push Null.
        let mut by_slot: Vec<Option<&Expr>> = vec![None; total];
        for (i, a) in call.args.iter().enumerate() {
            if let Some(slot) = by_slot.get_mut(spec.slot_of(n, i)) {
                *slot = a.expr.as_ref();
            }
        }
        let folded = &self.folded;
        let (slots, present) = functions::const_slots(spec, n, |i| {
            let x = call.args.get(i)?.expr.as_ref()?;
            Some(folded.get(&key(x)))
        });
        let site = match prepare {
            Some(p) => p(&ConstArgs { slots: &slots }).map_err(|err| {
                let mut d = Diagnostic::error(err.code, e.span, err.message);
                if let Some(h) = err.help {
                    d = d.with_help(h);
                }
                d
            })?,
            None => None,
        };
        for x in &by_slot {
            match x {
                Some(x) => self.emit(x)?,
                None => self.push_const(Value::Null),
            }
        }
        let idx = CallIdx(self.calls.len() as u32);
        self.calls.push(CallSite {
            spec,
            eval,
            argc: total as u32,
            present,
            site,
            span: e.span,
        });
        self.op(Op::Call(idx), 1 - total as i64);
        Ok(())
    }

    fn arg(call: &Call, i: usize) -> Option<&Expr> {
        call.args.get(i).and_then(|a| a.expr.as_ref())
    }

    fn lazy(&mut self, e: &Expr, call: &Call, kind: LazyKind) -> Result<(), Diagnostic> {
        let missing = || internal(e.span, "missing argument");
        match kind {
            LazyKind::Iif => {
                let cond = Self::arg(call, 0).ok_or_else(missing)?;
                let t = Self::arg(call, 1).ok_or_else(missing)?;
                let f = Self::arg(call, 2).ok_or_else(missing)?;
                if let Some(c) = self.konst(cond).and_then(condition) {
                    return self.emit(if c { t } else { f });
                }
                self.emit(cond)?;
                self.span_here(cond.span);
                let jf = self.op(Op::JumpIfFalse(CodeIdx(0)), -1);
                self.emit(t)?;
                let jend = self.op(Op::Jump(CodeIdx(0)), -1);
                let else_at = self.here();
                self.patch(jf, else_at);
                self.emit(f)?;
                let end = self.here();
                self.patch(jend, end);
                Ok(())
            }
            LazyKind::Coalesce => {
                let args: Vec<&Expr> = call.args.iter().filter_map(|a| a.expr.as_ref()).collect();
                let mut jumps = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    self.emit(a)?;
                    if i + 1 < args.len() {
                        jumps.push(self.op(Op::JumpIfNotNull(CodeIdx(0)), -1));
                    }
                }
                let end = self.here();
                for j in jumps {
                    self.patch(j, end);
                }
                Ok(())
            }
            LazyKind::SelectUniqueValue => {
                let mut jumps = Vec::new();
                for a in call.args.iter().filter_map(|a| a.expr.as_ref()) {
                    self.emit(a)?;
                    self.span_here(a.span);
                    jumps.push(self.op(Op::UniqueOrNext(CodeIdx(0)), -1));
                }
                self.span_here(e.span);
                self.op(Op::FailNoUnique, 1);
                let end = self.here();
                for j in jumps {
                    self.patch(j, end);
                }
                Ok(())
            }
            LazyKind::IgnoreFlow => {
                let x = Self::arg(call, 0).ok_or_else(missing)?;
                self.emit(x)?;
                self.op(Op::IgnoreIfEmpty, 0);
                Ok(())
            }
            LazyKind::Switch => self.switch(e, call),
        }
    }

    fn switch(&mut self, e: &Expr, call: &Call) -> Result<(), Diagnostic> {
        let source = Self::arg(call, 0).ok_or_else(|| internal(e.span, "missing Switch source"))?;
        let default = Self::arg(call, 1);
        let pairs = call.switch_pairs();
        let const_keys: Option<Vec<String>> =
            pairs.iter().map(|(k, _)| self.switch_key(k)).collect();
        self.emit(source)?;
        self.span_here(source.span);
        let mut ends = Vec::new();
        match const_keys {
            Some(keys) => {
                let table = TableIdx(self.tables.len() as u32);
                self.tables.push(SwitchTable::new(Vec::new(), CodeIdx(0)));
                self.op(Op::SwitchTable(table), -1);
                let base = self.depth;
                let mut entries: Vec<(String, CodeIdx)> = Vec::new();
                for (key, (_, value)) in keys.into_iter().zip(&pairs) {
                    self.depth = base;
                    let at = self.here();
                    self.emit(value)?;
                    ends.push(self.op(Op::Jump(CodeIdx(0)), 0));
                    // The first equal key wins; later duplicates are unreachable.
                    if !entries.iter().any(|(k, _)| *k == key) {
                        entries.push((key, at));
                    }
                }
                self.depth = base;
                let default_at = self.here();
                match default {
                    Some(d) => self.emit(d)?,
                    None => self.push_const(Value::Null),
                }
                if let Some(t) = self.tables.get_mut(table.get()) {
                    *t = SwitchTable::new(entries, default_at);
                }
            }
            None => {
                // The source's text is checked once, at the source, before any key runs
                // (as the table path does), not at the first key that meets it; the span
                // recorded after the source belongs to this op.
                self.op(Op::SwitchSource, 0);
                let mut hits = Vec::new();
                for (k, _) in &pairs {
                    self.emit(k)?;
                    self.span_here(k.span);
                    hits.push(self.op(Op::SwitchKeyEq(CodeIdx(0)), -1));
                }
                self.op(Op::Pop, -1);
                let base = self.depth;
                match default {
                    Some(d) => self.emit(d)?,
                    None => self.push_const(Value::Null),
                }
                ends.push(self.op(Op::Jump(CodeIdx(0)), 0));
                for (hit, (_, value)) in hits.into_iter().zip(&pairs) {
                    self.depth = base;
                    let at = self.here();
                    self.patch(hit, at);
                    self.emit(value)?;
                    ends.push(self.op(Op::Jump(CodeIdx(0)), 0));
                }
            }
        }
        let end = self.here();
        for j in ends {
            self.patch(j, end);
        }
        Ok(())
    }
}

/// A chain under construction.
#[derive(Default)]
struct ChainParts<'e> {
    nodes: Vec<Node>,
    filters: Vec<crate::text::regex_dotnet::CharFilter>,
    leaves: Vec<&'e Expr>,
    builders: u32,
}

/// True when evaluating `e` twice gives the same result and draws nothing (no Now, Guid,
/// RandomString or SelectUniqueValue below it): such a subexpression may be computed for a
/// chain and again by the chain's fallback.
fn is_pure(e: &Expr) -> bool {
    let mut pure = true;
    e.walk(&mut |n| {
        if let Some(c) = n.as_call() {
            match functions::lookup(&c.name).map(|f| f.imp) {
                Some(Imp::Native { pure: p, .. }) => pure &= p,
                Some(Imp::Lazy(LazyKind::SelectUniqueValue)) | None => pure = false,
                _ => {}
            }
        }
    });
    pure
}

/// Fuses common op sequences into superinstructions, in place: replaced ops stay where they
/// are (dead), so no jump target moves and the span side table stays valid.
fn peephole(code: &mut [Op]) {
    for i in 0..code.len() {
        match code[i..] {
            [
                Op::Attr(slot),
                Op::Const(konst),
                Op::Cmp(op @ (BinOp::Eq | BinOp::Ne)),
                Op::JumpIfFalse(target),
                ..,
            ] => {
                code[i] = Op::JumpUnlessAttrEq {
                    slot,
                    konst,
                    target,
                    ne: op == BinOp::Ne,
                };
            }
            [Op::Attr(slot), Op::SwitchTable(t), ..] => code[i] = Op::SwitchAttr(slot, t),
            [Op::Const(c), Op::Return, ..] => code[i] = Op::ReturnConst(c),
            [Op::Attr(s), Op::Return, ..] => code[i] = Op::ReturnAttr(s),
            [Op::Const(c), Op::Jump(t), ..] if code.get(t.get()) == Some(&Op::Return) => {
                code[i] = Op::ReturnConst(c);
            }
            [Op::Attr(s), Op::Jump(t), ..] if code.get(t.get()) == Some(&Op::Return) => {
                code[i] = Op::ReturnAttr(s);
            }
            _ => {}
        }
    }
    // A jump to a return is that return.
    for i in 0..code.len() {
        if let Op::Jump(t) = code[i] {
            if let Some(op @ (Op::ReturnConst(_) | Op::ReturnAttr(_))) = code.get(t.get()).copied()
            {
                code[i] = op;
            }
        }
    }
}

/// True when every op reachable from the start is a decision or a constant/attribute return
/// (see `Program::decision_only`).
fn decision_only(code: &[Op], tables: &[SwitchTable]) -> bool {
    let mut seen = vec![false; code.len()];
    let mut todo = vec![0usize];
    while let Some(pc) = todo.pop() {
        let Some(op) = code.get(pc) else { return false };
        if std::mem::replace(&mut seen[pc], true) {
            continue;
        }
        match *op {
            Op::ReturnConst(_) | Op::ReturnAttr(_) => {}
            Op::Jump(t) => todo.push(t.get()),
            Op::JumpUnlessAttrEq { target, .. } => {
                todo.push(target.get());
                todo.push(pc + 4);
            }
            Op::SwitchAttr(_, t) => match tables.get(t.get()) {
                Some(table) => {
                    todo.push(table.default.get());
                    todo.extend(table.keys.iter().map(|(_, c)| c.get()));
                }
                None => return false,
            },
            _ => return false,
        }
    }
    true
}

/// `vbTextCompare` is 1 and `vbBinaryCompare` 0 at run time.
fn constant_value(c: Constant) -> Value<'static> {
    match c {
        Constant::VbTextCompare => Value::Int(1),
        Constant::VbBinaryCompare => Value::Int(0),
        Constant::True => Value::Bool(true),
        Constant::False => Value::Bool(false),
    }
}

/// An IIF condition's truth (F4): a Boolean or `True`/`False` text; `None` otherwise.
pub(crate) fn condition(v: &Value<'_>) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Value::Multi(m) if m.len() == 1 => condition(&m[0]),
        _ => None,
    }
}

/// Evaluates `a op b` (shared with the VM so both agree).
pub(crate) fn binary<'a>(
    op: BinOp,
    a: &Value<'a>,
    b: &Value<'a>,
) -> Result<Value<'a>, crate::error::FnError> {
    use std::cmp::Ordering::*;
    Ok(match op {
        BinOp::Concat => {
            let x = a.text()?;
            let y = b.text()?;
            let mut s = String::with_capacity(
                x.as_deref().map_or(0, str::len) + y.as_deref().map_or(0, str::len),
            );
            s.push_str(x.as_deref().unwrap_or(""));
            s.push_str(y.as_deref().unwrap_or(""));
            Value::string(s)
        }
        BinOp::Eq => Value::Bool(crate::value::equals(a, b)?),
        BinOp::Ne => Value::Bool(!crate::value::equals(a, b)?),
        BinOp::Lt => Value::Bool(crate::value::compare(a, b)? == Less),
        BinOp::Le => Value::Bool(crate::value::compare(a, b)? != Greater),
        BinOp::Gt => Value::Bool(crate::value::compare(a, b)? == Greater),
        BinOp::Ge => Value::Bool(crate::value::compare(a, b)? != Less),
    })
}

fn same_const(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}
