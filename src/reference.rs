//! A small tree-walking evaluator over the checked AST: the oracle the VM is tested against
//! (case corpus, conformance cases, proptest, fuzzing). Enabled by the `reference` feature.
//!
//! It shares everything that is not evaluation order with the VM — the function bodies and
//! the multi-valued mapping rule ([`functions::invoke`]), comparisons ([`binary`]), IIF
//! conditions ([`condition`]), call-site preparation (`prepare` fns) and the
//! [`EvalContext`]/[`Outcome`] types — and re-derives the rest directly from spec §3.6:
//! arguments left to right, depth first; lazy IIF branches, Switch keys/values/default,
//! Coalesce arguments after the first non-Null one, SelectUniqueValue rules after the first
//! unique one; Ignore ends the evaluation at once.
//!
//! What it deliberately does not share: bytecode, jumps, Switch tables, the `&` flattening
//! done by the compiler and constant folding. Prepare fns see a slot's constant value when
//! the argument is *closed* (no attribute, no impure or lazy-only function below it); the
//! value is computed by this evaluator itself.
//!
//! One known difference: the VM folds constant subexpressions at compile time, so they do
//! not charge the step budget or the output budget at run time, while this evaluator charges
//! them. The two can therefore disagree on `limit-exceeded` only for expressions whose
//! constant parts alone come close to a budget (the fuzz target tolerates exactly that).
//! Likewise a fused string chain charges one step per node where the generic Join charges
//! one per piece, so a step budget of a handful of steps can end differently.

use std::borrow::Cow;

use crate::compile::{binary, condition};
use crate::context::{FixedClock, TakenSet};
use crate::datetime::DateTime;
use crate::error::{ErrorCode, EvalError, FnError};
use crate::functions::{self, ConstArgs, ConstSlot, Env, FnSpec, Imp, LazyKind};
use crate::syntax::Span;
use crate::syntax::ast::{BinOp, Call, Constant, Expr, ExprKind};
use crate::value::{Record, Value};
use crate::vm::{EvalContext, Outcome};

/// Evaluates a checked expression against a record, the way the VM evaluates its compiled
/// program. Errors carry the same codes and spans as the VM's.
pub fn eval<'r, R: Record>(
    expr: &'r Expr,
    record: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    let mut env = Env::new(ctx.clock, &mut *ctx.rng, ctx.oracle, ctx.limits);
    let mut w = Walker {
        record: Some(record as &dyn DynRecord),
        env: &mut env,
    };
    match w.expr(expr) {
        Ok(v) => Ok(Outcome::Value(v)),
        Err(Stop::Ignore) => Ok(Outcome::Ignore),
        Err(Stop::Error(e)) => Err(e),
    }
}

/// Why evaluation stopped early.
enum Stop {
    /// IgnoreFlowIfNullOrEmpty fired.
    Ignore,
    /// An error.
    Error(EvalError),
}

/// Object-safe view of a record (`Record::get` is all the reference needs).
trait DynRecord {
    fn value(&self, name: &str) -> Value<'_>;
}

impl<R: Record + ?Sized> DynRecord for R {
    fn value(&self, name: &str) -> Value<'_> {
        self.get(name)
    }
}

struct Walker<'w, 'r, 'e> {
    /// `None` while folding a closed subtree (which reads no attribute).
    record: Option<&'r dyn DynRecord>,
    env: &'w mut Env<'e>,
}

fn at(e: FnError, span: Span) -> Stop {
    Stop::Error(EvalError::at(e, span))
}

impl<'r> Walker<'_, 'r, '_> {
    fn expr(&mut self, e: &'r Expr) -> Result<Value<'r>, Stop> {
        match &e.kind {
            ExprKind::Str(s) => Ok(Value::str(s)),
            ExprKind::Int { value, .. } => Ok(Value::Int(*value)),
            ExprKind::Const(c) => Ok(match c {
                Constant::VbTextCompare => Value::Int(1),
                Constant::VbBinaryCompare => Value::Int(0),
                Constant::True => Value::Bool(true),
                Constant::False => Value::Bool(false),
            }),
            ExprKind::Attr(name) => Ok(match self.record {
                Some(r) => r.value(name),
                None => Value::Null,
            }),
            ExprKind::Binary {
                op: BinOp::Concat,
                lhs,
                rhs,
            } => {
                // Spec §3.7: both operands rendered (Null as ""), concatenated; one String.
                // A chain `a & b & c` is one value built once, so only the whole chain's
                // length is checked against the value limit (as the VM does).
                let mut parts = crate::syntax::ast::concat_operands(lhs);
                parts.push(rhs);
                let mut vals = Vec::with_capacity(parts.len());
                for p in parts {
                    vals.push(self.expr(p)?);
                }
                let mut out = String::new();
                let mut len = 0usize;
                for v in &vals {
                    if let Some(t) = v.text().map_err(|x| at(x, e.span))? {
                        len += t.len();
                    }
                }
                self.env.check_len(len).map_err(|x| at(x, e.span))?;
                for v in &vals {
                    if let Some(t) = v.text().map_err(|x| at(x, e.span))? {
                        out.push_str(&t);
                    }
                }
                let v = Value::string(out);
                self.env.account(&v).map_err(|x| at(x, e.span))?;
                Ok(v)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let a = self.expr(lhs)?;
                let b = self.expr(rhs)?;
                binary(*op, &a, &b).map_err(|x| at(x, e.span))
            }
            ExprKind::Call(call) => {
                let Some(spec) = functions::lookup(&call.name) else {
                    return Err(at(
                        FnError::new(ErrorCode::UnknownFunction, "unknown function"),
                        e.span,
                    ));
                };
                match spec.imp {
                    Imp::Native { eval, prepare, .. } => self.native(e, call, spec, eval, prepare),
                    Imp::Lazy(kind) => self.lazy(e, call, kind),
                    Imp::NotYet => Err(at(
                        FnError::new(
                            ErrorCode::NotYetSupported,
                            format!("`{}` is not supported", spec.name),
                        ),
                        call.name_span,
                    )),
                }
            }
        }
    }

    fn native(
        &mut self,
        e: &'r Expr,
        call: &'r Call,
        spec: &'static FnSpec,
        eval: functions::NativeFn,
        prepare: Option<functions::PrepareFn>,
    ) -> Result<Value<'r>, Stop> {
        let n = call.args.len();
        let total = if spec.name == "FormatDateTime" { 4 } else { n };
        let mut by_slot: Vec<Option<&'r Expr>> = vec![None; total];
        for (i, a) in call.args.iter().enumerate() {
            if let Some(slot) = by_slot.get_mut(spec.slot_of(n, i)) {
                *slot = a.expr.as_ref();
            }
        }
        let mut present = 0u64;
        for (i, x) in by_slot.iter().enumerate() {
            if x.is_some() && i < 64 {
                present |= 1 << i;
            }
        }
        let site = match prepare {
            Some(p) => {
                let consts: Vec<Option<Value<'static>>> = by_slot
                    .iter()
                    .map(|x| x.and_then(|x| self.closed_value(x)))
                    .collect();
                let slots: Vec<ConstSlot<'_>> = by_slot
                    .iter()
                    .zip(&consts)
                    .map(|(x, v)| ConstSlot {
                        present: x.is_some(),
                        value: v.as_ref(),
                    })
                    .collect();
                p(&ConstArgs { slots: &slots })
                    .map_err(|err| at(FnError::new(err.code, err.message), e.span))?
            }
            None => None,
        };
        let mut vals = Vec::with_capacity(total);
        for x in &by_slot {
            vals.push(match x {
                Some(x) => self.expr(x)?,
                None => Value::Null,
            });
        }
        functions::invoke(spec, eval, &mut vals, present, site.as_deref(), self.env)
            .map_err(|x| at(x, e.span))
    }

    fn lazy(&mut self, e: &'r Expr, call: &'r Call, kind: LazyKind) -> Result<Value<'r>, Stop> {
        let arg = |i: usize| call.args.get(i).and_then(|a| a.expr.as_ref());
        let missing = || {
            at(
                FnError::new(ErrorCode::WrongArgumentCount, "missing argument"),
                e.span,
            )
        };
        match kind {
            LazyKind::Iif => {
                let (Some(c), Some(t), Some(f)) = (arg(0), arg(1), arg(2)) else {
                    return Err(missing());
                };
                let cv = self.expr(c)?;
                match condition(&cv) {
                    Some(true) => self.expr(t),
                    Some(false) => self.expr(f),
                    None => Err(at(invalid_condition(&cv), c.span)),
                }
            }
            LazyKind::Coalesce => {
                for a in call.args.iter().filter_map(|a| a.expr.as_ref()) {
                    let v = self.expr(a)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Ok(Value::Null)
            }
            LazyKind::SelectUniqueValue => {
                for a in call.args.iter().filter_map(|a| a.expr.as_ref()) {
                    let v = self.expr(a)?.into_single().map_err(|x| at(x, a.span))?;
                    let text = v.text().map_err(|x| at(x, a.span))?.map(Cow::into_owned);
                    if let Some(t) = text {
                        if !t.is_empty() && !self.env.oracle.is_taken(&t) {
                            return Ok(match v {
                                Value::Str(_) => v,
                                _ => Value::string(t),
                            });
                        }
                    }
                }
                Err(at(
                    FnError::new(
                        ErrorCode::NoUniqueValue,
                        "every SelectUniqueValue candidate is already taken",
                    ),
                    e.span,
                ))
            }
            LazyKind::IgnoreFlow => {
                let x = arg(0).ok_or_else(missing)?;
                let v = self.expr(x)?;
                if v.is_null_or_empty() {
                    Err(Stop::Ignore)
                } else {
                    Ok(v)
                }
            }
            LazyKind::Switch => {
                let source = arg(0).ok_or_else(missing)?;
                let s = self.expr(source)?;
                let pairs = call.switch_pairs();
                // The source must have one text even when no key is tried.
                let stext = s
                    .text()
                    .map_err(|x| at(x, source.span))?
                    .map(Cow::into_owned)
                    .unwrap_or_default();
                for (k, v) in pairs {
                    let kv = self.expr(k)?;
                    let kt = kv.text().map_err(|x| at(x, k.span))?;
                    if kt.as_deref().unwrap_or("") == stext {
                        return self.expr(v);
                    }
                }
                match arg(1) {
                    Some(d) => self.expr(d),
                    None => Ok(Value::Null),
                }
            }
        }
    }

    /// The value of a closed argument (no attribute, nothing impure or lazy-only below it),
    /// for prepare fns; `None` when the argument is not closed or its evaluation fails.
    fn closed_value(&self, e: &Expr) -> Option<Value<'static>> {
        if !closed(e) {
            return None;
        }
        let clock = FixedClock(DateTime::MIN);
        let mut rng = functions::NoRandom;
        let oracle = TakenSet::new();
        let mut env = Env::new(&clock, &mut rng, &oracle, self.env.limits);
        let mut w = Walker {
            record: None,
            env: &mut env,
        };
        w.expr(e).ok().map(Value::into_owned)
    }
}

/// True when `e` reads no attribute and calls only pure native functions and the lazy
/// functions IIF, Switch and Coalesce.
fn closed(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| match &x.kind {
        ExprKind::Attr(_) => ok = false,
        ExprKind::Call(c) => match functions::lookup(&c.name).map(|s| s.imp) {
            Some(Imp::Native { pure: true, .. }) => {}
            Some(Imp::Lazy(LazyKind::Iif | LazyKind::Switch | LazyKind::Coalesce)) => {}
            _ => ok = false,
        },
        _ => {}
    });
    ok
}

#[cold]
fn invalid_condition(v: &Value<'_>) -> FnError {
    let code = if matches!(v, Value::Multi(m) if m.len() > 1) {
        ErrorCode::MultiValuedArgument
    } else {
        ErrorCode::InvalidCondition
    };
    FnError::new(code, "an IIF condition must be True or False")
}
