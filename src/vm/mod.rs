//! The dispatch loop. It never sees the AST: only the [`Program`]'s ops, constants, call
//! sites and tables.
//!
//! Values on the stack borrow from the record and from the program's constants, so a
//! pass-through (`[mail]`) or a constant result is returned without copying.

use std::borrow::Cow;

use crate::bytecode::{Op, Program};
use crate::compile::{binary, condition};
use crate::context::{Clock, Limits, RandomSource, UniquenessOracle};
use crate::error::{ErrorCode, EvalError, FnError};
use crate::functions::{self, Env};
use crate::value::{Record, Value};

/// The result of an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// A value (possibly Null or multi-valued).
    Value(Value<'a>),
    /// IgnoreFlowIfNullOrEmpty fired: leave the target attribute out (F19).
    Ignore,
}

impl<'a> Outcome<'a> {
    /// The value, or `None` for Ignore.
    pub fn value(&self) -> Option<&Value<'a>> {
        match self {
            Outcome::Value(v) => Some(v),
            Outcome::Ignore => None,
        }
    }

    /// Detaches the outcome from the record and program.
    pub fn into_owned(self) -> Outcome<'static> {
        match self {
            Outcome::Value(v) => Outcome::Value(v.into_owned()),
            Outcome::Ignore => Outcome::Ignore,
        }
    }
}

/// Everything an evaluation may observe besides its record (F17, F18, S9).
pub struct EvalContext<'c> {
    /// Where `Now()` reads the time.
    pub clock: &'c dyn Clock,
    /// Where Guid and RandomString draw.
    pub rng: &'c mut dyn RandomSource,
    /// The SelectUniqueValue oracle.
    pub oracle: &'c dyn UniquenessOracle,
    /// The limits.
    pub limits: &'c Limits,
}

impl<'c> EvalContext<'c> {
    /// Bundles the pieces.
    pub fn new(
        clock: &'c dyn Clock,
        rng: &'c mut dyn RandomSource,
        oracle: &'c dyn UniquenessOracle,
        limits: &'c Limits,
    ) -> Self {
        EvalContext { clock, rng, oracle, limits }
    }
}

impl Program {
    /// Evaluates the program against a record.
    pub fn eval<'r, R: Record + ?Sized>(
        &'r self,
        record: &'r R,
        ctx: &mut EvalContext<'_>,
    ) -> Result<Outcome<'r>, EvalError> {
        let mut env = Env::new(ctx.clock, &mut *ctx.rng, ctx.oracle, ctx.limits);
        run(self, record, &mut env)
    }
}

/// Small stacks live inline; deeper ones spill to the heap once.
const INLINE: usize = 8;

fn run<'r, R: Record + ?Sized>(p: &'r Program, rec: &'r R, env: &mut Env<'_>) -> Result<Outcome<'r>, EvalError> {
    let mut stack: Vec<Value<'r>> = Vec::with_capacity(if p.max_stack <= INLINE { INLINE } else { p.max_stack });
    let code = &p.code[..];
    let mut pc = 0usize;
    loop {
        let Some(op) = code.get(pc) else {
            return Err(EvalError::at(internal("fell off the end of the program"), p.span_at(pc)));
        };
        pc += 1;
        match *op {
            Op::Const(c) => match p.consts.get(c.get()) {
                Some(v) => stack.push(v.reborrow()),
                None => return Err(fail(p, pc - 1, internal("bad constant index"))),
            },
            Op::Attr(s) => {
                let name = p.attributes.get(s.get()).map_or("", String::as_str);
                stack.push(rec.get_slot(s.get(), name));
            }
            Op::Call(c) => {
                let Some(site) = p.calls.get(c.get()) else {
                    return Err(fail(p, pc - 1, internal("bad call index")));
                };
                let argc = site.argc as usize;
                let Some(base) = stack.len().checked_sub(argc) else {
                    return Err(EvalError::at(internal("stack underflow"), site.span));
                };
                let r = functions::invoke(site.spec, site.eval, &mut stack[base..], site.present, site.site.as_deref(), env)
                    .map_err(|e| EvalError::at(e, site.span))?;
                stack.truncate(base);
                stack.push(r);
            }
            Op::Concat(n) => {
                let n = n as usize;
                let Some(base) = stack.len().checked_sub(n) else {
                    return Err(fail(p, pc - 1, internal("stack underflow")));
                };
                let s = concat(&stack[base..], env).map_err(|e| fail(p, pc - 1, e))?;
                stack.truncate(base);
                stack.push(s);
            }
            Op::Cmp(op) => {
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else {
                    return Err(fail(p, pc - 1, internal("stack underflow")));
                };
                let r = binary(op, &a, &b).map_err(|e| fail(p, pc - 1, e))?;
                stack.push(r);
            }
            Op::JumpIfFalse(t) => {
                let c = stack.pop().unwrap_or(Value::Null);
                match condition(&c) {
                    Some(true) => {}
                    Some(false) => pc = t.get(),
                    None => return Err(fail(p, pc - 1, invalid_condition(&c))),
                }
            }
            Op::Jump(t) => pc = t.get(),
            Op::SwitchTable(t) => {
                let src = stack.pop().unwrap_or(Value::Null);
                let Some(table) = p.tables.get(t.get()) else {
                    return Err(fail(p, pc - 1, internal("bad table index")));
                };
                let text = src.text().map_err(|e| fail(p, pc - 1, e))?;
                pc = table.lookup(text.as_deref().unwrap_or("")).get();
            }
            Op::SwitchKeyEq(t) => {
                let key = stack.pop().unwrap_or(Value::Null);
                let Some(src) = stack.last() else {
                    return Err(fail(p, pc - 1, internal("stack underflow")));
                };
                let k = key.text().map_err(|e| fail(p, pc - 1, e))?;
                let s = src.text().map_err(|e| fail(p, pc - 1, e))?;
                if k.as_deref().unwrap_or("") == s.as_deref().unwrap_or("") {
                    stack.pop();
                    pc = t.get();
                }
            }
            Op::SwitchSource => {
                if let Some(src) = stack.last() {
                    src.text().map_err(|e| fail(p, pc - 1, e))?;
                }
            }
            Op::Pop => {
                stack.pop();
            }
            Op::JumpIfNotNull(t) => {
                if stack.last().is_some_and(|v| !v.is_null()) {
                    pc = t.get();
                } else {
                    stack.pop();
                }
            }
            Op::UniqueOrNext(t) => {
                let v = stack.pop().unwrap_or(Value::Null);
                let v = v.into_single().map_err(|e| fail(p, pc - 1, e))?;
                let text = v.text().map_err(|e| fail(p, pc - 1, e))?;
                let usable = match text.as_deref() {
                    Some(s) if !s.is_empty() => !env.oracle.is_taken(s),
                    _ => false,
                };
                if usable {
                    let owned = match text {
                        Some(Cow::Owned(s)) => Value::string(s),
                        _ => v,
                    };
                    stack.push(owned);
                    pc = t.get();
                }
            }
            Op::FailNoUnique => {
                return Err(fail(
                    p,
                    pc - 1,
                    FnError::new(ErrorCode::NoUniqueValue, "every SelectUniqueValue candidate is already taken"),
                ));
            }
            Op::IgnoreIfEmpty => {
                if stack.last().is_none_or(Value::is_null_or_empty) {
                    return Ok(Outcome::Ignore);
                }
            }
            Op::Return => {
                let v = stack.pop().unwrap_or(Value::Null);
                return Ok(Outcome::Value(v));
            }
        }
    }
}

/// `&` over n operands: one allocation for the result.
fn concat<'a>(vals: &[Value<'a>], env: &mut Env<'_>) -> Result<Value<'a>, FnError> {
    let mut len = 0usize;
    for v in vals {
        if let Some(t) = v.text()? {
            len += t.len();
        }
    }
    env.check_len(len)?;
    let mut s = String::with_capacity(len);
    for v in vals {
        if let Some(t) = v.text()? {
            s.push_str(&t);
        }
    }
    let v = Value::string(s);
    env.account(&v)?;
    Ok(v)
}

#[cold]
fn fail(p: &Program, pc: usize, e: FnError) -> EvalError {
    EvalError::at(e, p.span_at(pc))
}

#[cold]
fn internal(what: &str) -> FnError {
    FnError::new(ErrorCode::InvalidInput, format!("internal error: {what}"))
}

#[cold]
fn invalid_condition(v: &Value<'_>) -> FnError {
    let shown = match v {
        Value::Null => "no value".to_owned(),
        Value::Multi(m) => format!("a multi-valued value with {} values", m.len()),
        other => format!("`{}`", crate::value::truncate_for_message(&other.render_scalar())),
    };
    let code = if matches!(v, Value::Multi(m) if m.len() > 1) {
        ErrorCode::MultiValuedArgument
    } else {
        ErrorCode::InvalidCondition
    };
    FnError::new(code, format!("an IIF condition must be True or False, found {shown}"))
}
