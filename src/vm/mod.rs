//! The dispatch loop. It never sees the AST: only the [`Program`]'s ops, constants, call
//! sites and tables.
//!
//! Values on the stack borrow from the record and from the program's constants, so a
//! pass-through (`[mail]`) or a constant result is returned without copying.

use std::borrow::Cow;
use std::cell::Cell;
use std::mem::ManuallyDrop;

use smallvec::SmallVec;

use crate::bytecode::chain::{self, Applied, Gathered, Unary};
use crate::bytecode::{
    Arg, CallIdx, CallSite, ChainIdx, CodeIdx, ConstIdx, Entry, Leaf, Op, Pick, Program, SlotIdx,
    TableIdx,
};
use crate::compile::{binary, condition};
use crate::context::{Clock, Limits, RandomSource, UniquenessOracle};
use crate::error::{ErrorCode, EvalError, FnError};
use crate::functions::{self, Env};
use crate::text::regex_dotnet::CharFilter;
use crate::value::{Record, Value, buffers, equals};

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
        EvalContext {
            clock,
            rng,
            oracle,
            limits,
        }
    }
}

impl Program {
    /// Evaluates the program against a record.
    ///
    /// Inlined into the caller so that the two cheapest shapes, a pass-through and a
    /// constant, cost a slot read and no call at all; every other entry goes through one
    /// out-of-line call (`picking` for decisions, `general` for the rest), each with
    /// a stack frame sized for its own work.
    #[inline(always)]
    pub fn eval<'r, R: Record + ?Sized>(
        &'r self,
        record: &'r R,
        ctx: &mut EvalContext<'_>,
    ) -> Result<Outcome<'r>, EvalError> {
        match &self.entry {
            Entry::Attr(slot) => Ok(Outcome::Value(read_attr(self, record, *slot))),
            Entry::Const(c) => match self.consts.get(c.get()) {
                Some(v) => Ok(Outcome::Value(v.reborrow())),
                None => general(self, record, ctx),
            },
            Entry::Pick { .. }
            | Entry::PickEmpty { .. }
            | Entry::Switch(..)
            | Entry::ShortSwitch(..)
            | Entry::Decide => picking(self, record, ctx),
            Entry::Chain(c) => chained(self, *c, record, ctx),
            Entry::Filter(slot, filter) => filtered(self, *slot, filter, record, ctx),
            Entry::Transform(slot, op) => transformed(self, *slot, *op, record, ctx),
            Entry::Date(slot, c) => dated(self, *slot, *c, record, ctx),
            _ => general(self, record, ctx),
        }
    }
}

/// The decision entries: an attribute compared, tested or looked up, and a constant or
/// attribute returned. No stack, no environment, except when `IsNullOrEmpty`/`IsPresent`
/// meets a list: the generic code decides that.
#[inline(never)]
fn picking<'r, R: Record + ?Sized>(
    p: &'r Program,
    record: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    match &p.entry {
        Entry::Pick {
            slot,
            key,
            ne,
            then,
            els,
        } => {
            let v = read_attr(p, record, *slot);
            if let Value::Str(s) = &v {
                let leaf = if (**s == **key) != *ne { *then } else { *els };
                v.release();
                return Ok(Outcome::Value(leaf_value(p, record, leaf)));
            }
            // Anything but text compares through the generic equality (and its errors).
            v.release();
        }
        Entry::PickEmpty {
            slot,
            present,
            then,
            els,
        } => {
            let v = read_attr(p, record, *slot);
            let empty = match &v {
                Value::Null => Some(true),
                Value::Str(s) => Some(s.is_empty()),
                // Lists and other types: the generic code decides.
                _ => None,
            };
            v.release();
            if let Some(empty) = empty {
                let leaf = if empty != *present { *then } else { *els };
                return Ok(Outcome::Value(leaf_value(p, record, leaf)));
            }
            return general(p, record, ctx);
        }
        Entry::ShortSwitch(slot, sw) => {
            let v = read_attr(p, record, *slot);
            if let Value::Str(s) = &v {
                let pick = sw.pick(s);
                v.release();
                return Ok(Outcome::Value(match pick {
                    Pick::Const(c) => c.reborrow(),
                    Pick::Attr(a) => read_attr(p, record, *a),
                }));
            }
            v.release();
        }
        Entry::Switch(slot, t) => {
            let v = read_attr(p, record, *slot);
            if let (Value::Str(s), Some(table)) = (&v, p.tables.get(t.get())) {
                let block = table.lookup(s);
                v.release();
                if let Some(leaf) = Leaf::of(p.code.get(block.get())) {
                    return Ok(Outcome::Value(leaf_value(p, record, leaf)));
                }
            } else {
                v.release();
            }
        }
        _ => {}
    }
    decide(p, record)
}

/// The entries without their own out-of-line function (`IgnoreFlowIfNullOrEmpty` around a
/// direct path, a direct call) and the generic loop.
#[inline(never)]
fn general<'r, R: Record + ?Sized>(
    p: &'r Program,
    record: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    match &p.entry {
        Entry::Ignoring(inner) => {
            // Each path falls back to the generic code of the whole program, whose
            // IgnoreFlowIfNullOrEmpty has then already decided: mapping its result again
            // changes nothing.
            let out = match &**inner {
                Entry::Attr(slot) => Ok(Outcome::Value(read_attr(p, record, *slot))),
                Entry::Chain(c) => chained(p, *c, record, ctx),
                Entry::Filter(slot, filter) => filtered(p, *slot, filter, record, ctx),
                Entry::Transform(slot, op) => transformed(p, *slot, *op, record, ctx),
                Entry::Date(slot, c) => dated(p, *slot, *c, record, ctx),
                Entry::Call(c, args) => match p.calls.get(c.get()) {
                    Some(site) => direct_call(p, site, args, record, ctx),
                    None => generic(p, record, ctx),
                },
                _ => generic(p, record, ctx),
            };
            return out.map(|o| match o {
                Outcome::Value(v) if v.is_null_or_empty() => Outcome::Ignore,
                o => o,
            });
        }
        Entry::Call(c, args) => {
            if let Some(site) = p.calls.get(c.get()) {
                return direct_call(p, site, args, record, ctx);
            }
        }
        Entry::Attr(_)
        | Entry::Const(_)
        | Entry::Pick { .. }
        | Entry::PickEmpty { .. }
        | Entry::Switch(..)
        | Entry::ShortSwitch(..)
        | Entry::Decide
        | Entry::Chain(_)
        | Entry::Filter(..)
        | Entry::Transform(..)
        | Entry::Date(..)
        | Entry::Generic => {}
    }
    generic(p, record, ctx)
}

/// The generic loop, with the buffer pool when the program builds strings.
#[inline(never)]
fn generic<'r, R: Record + ?Sized>(
    p: &'r Program,
    record: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    if !p.builds_strings {
        let mut env = Env::new(ctx.clock, &mut *ctx.rng, ctx.oracle, ctx.limits);
        return run(p, record, &mut env);
    }
    let pool = buffers::take_all();
    let mut env = Env::with_pool(ctx.clock, &mut *ctx.rng, ctx.oracle, ctx.limits, pool);
    let out = run(p, record, &mut env);
    buffers::restore(env.into_pool());
    out
}

/// [`Entry::Chain`]: the chain writes the result straight into its output buffer. The
/// generic code runs instead for a multi-valued attribute (the chain bails out) or a result
/// beyond a limit (the generic code reports it with the same error). The result is built
/// in this function's return slot: returning an `Option` to convert made the caller copy
/// it back through the stack, which stalled on store forwarding.
#[inline(never)]
fn chained<'r, R: Record + ?Sized>(
    p: &'r Program,
    c: ChainIdx,
    rec: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    let limits = ctx.limits;
    let Some(chain) = p
        .chains
        .get(c.get())
        .filter(|ch| ch.nodes.len() as u64 <= limits.max_steps)
    else {
        return generic(p, rec, ctx);
    };
    let attr = |slot: SlotIdx| read_attr(p, rec, slot);
    // Built where it is returned (see `in_place`).
    let mut r = in_place();
    let Some(out) = slot_string(&mut r) else {
        return generic(p, rec, ctx);
    };
    if let Some(flat) = &chain.flat {
        if flat.eval_into(&attr, out) {
            if fits(out.len(), limits) {
                return r;
            }
            buffers::give(std::mem::take(out));
            return generic(p, rec, ctx);
        }
    }
    let mut g = Gathered::default();
    let gathered = chain.gather(&attr, &mut g).is_some();
    let built = match &chain.ascii {
        // ASCII text: the transforms are byte tables applied while writing.
        Some(plan) if gathered && g.is_ascii() => {
            *out = buffers::take(g.capacity);
            plan.eval(g.texts(), out)
                .map_or(Err(chain::Bail), |()| Ok(true))
        }
        _ => {
            let mut scratch = SCRATCH.with(Cell::take);
            let built = if gathered {
                *out = buffers::take(g.capacity);
                chain.eval(&attr, &[], Some(&g), out, &mut scratch)
            } else {
                *out = buffers::take(chain.capacity_hint(&attr, &[]));
                chain.eval(&attr, &[], None, out, &mut scratch)
            };
            SCRATCH.with(|s| s.set(scratch));
            built
        }
    };
    match built {
        Ok(true) if fits(out.len(), limits) => r,
        Ok(false) => {
            buffers::give(std::mem::take(out));
            Ok(Outcome::Value(Value::Null))
        }
        _ => {
            buffers::give(std::mem::take(out));
            generic(p, rec, ctx)
        }
    }
}

/// A result holding an empty string to build the value in. Returning a string built
/// elsewhere moves it into the result right after it was written, and the move's wide loads
/// of the narrow stores just made wait for them to reach the cache (store forwarding
/// fails): a `ToUpper([UserID])` mapping in a set took 33 ns that way, 20 ns built in place.
#[inline(always)]
fn in_place<'r>() -> Result<Outcome<'r>, EvalError> {
    Ok(Outcome::Value(Value::Str(Cow::Owned(String::new()))))
}

/// The string of an [`in_place`] result.
#[inline(always)]
fn slot_string<'a>(r: &'a mut Result<Outcome<'_>, EvalError>) -> Option<&'a mut String> {
    match r {
        Ok(Outcome::Value(Value::Str(Cow::Owned(s)))) => Some(s),
        _ => None,
    }
}

/// A directly built result is within the limits (else the generic code reports it).
#[inline]
fn fits(len: usize, limits: &Limits) -> bool {
    len <= limits.max_value_bytes && len <= limits.max_output_bytes
}

/// [`Entry::Filter`]: a class deletion on a text attribute, when it stays within the steps
/// the generic Replace charges for it.
#[inline(never)]
fn filtered<'r, R: Record + ?Sized>(
    p: &'r Program,
    slot: SlotIdx,
    filter: &CharFilter,
    rec: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    let max_steps = ctx.limits.max_steps;
    on_text(p, slot, rec, ctx, |s, out| {
        if functions::text::deletion_steps(s) > max_steps {
            return None;
        }
        Some(if filter.remove_into(s, out) {
            Applied::Built
        } else {
            Applied::Same
        })
    })
}

/// [`Entry::Date`]: FormatDateTime of a text attribute with prepared styles and formats.
/// Null gives Null (as the function does); text that parses is formatted in the result
/// itself; anything else (a failed parse, a list, a number) runs the generic call, which
/// reports it.
#[inline(never)]
fn dated<'r, R: Record + ?Sized>(
    p: &'r Program,
    slot: SlotIdx,
    c: CallIdx,
    rec: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    let data = p
        .calls
        .get(c.get())
        .and_then(|site| site.site.as_deref())
        .and_then(|d| d.downcast_ref::<functions::datetime::FormatDateTimeSite>());
    let Some((Some(styles), Some(input), Some(output))) =
        data.map(|d| (d.styles, d.input.as_ref(), d.output.as_ref()))
    else {
        return generic(p, rec, ctx);
    };
    let s = match read_attr(p, rec, slot) {
        Value::Null => return Ok(Outcome::Value(Value::Null)),
        Value::Str(Cow::Borrowed(s)) => s,
        other => {
            other.release();
            return generic(p, rec, ctx);
        }
    };
    let clock = ctx.clock;
    let Ok(d) = input.parse_exact_stamp(s, styles, || clock.now()) else {
        return generic(p, rec, ctx);
    };
    let mut r = in_place();
    let Some(out) = slot_string(&mut r) else {
        return generic(p, rec, ctx);
    };
    output.format_stamp_into(&d, out);
    if fits(out.len(), ctx.limits) {
        r
    } else {
        buffers::give(std::mem::take(out));
        generic(p, rec, ctx)
    }
}

/// [`Entry::Transform`]: a text transform of a text attribute.
#[inline(never)]
fn transformed<'r, R: Record + ?Sized>(
    p: &'r Program,
    slot: SlotIdx,
    op: Unary,
    rec: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    on_text(p, slot, rec, ctx, |s, out| op.apply_into(s, out))
}

/// The text-of-one-attribute entries: `f` of the attribute's text, borrowed when it changes
/// nothing; Null stays Null. The generic call runs instead for anything but text or Null,
/// when `f` declines (`None`), or for a result over a value limit. A changed text is
/// built in the result itself (see [`in_place`]).
#[inline(always)]
fn on_text<'r, R: Record + ?Sized>(
    p: &'r Program,
    slot: SlotIdx,
    rec: &'r R,
    ctx: &mut EvalContext<'_>,
    f: impl for<'s> FnOnce(&'s str, &mut String) -> Option<Applied<'s>>,
) -> Result<Outcome<'r>, EvalError> {
    match read_attr(p, rec, slot) {
        Value::Null => Ok(Outcome::Value(Value::Null)),
        Value::Str(Cow::Borrowed(s)) => {
            let mut r = in_place();
            let Some(out) = slot_string(&mut r) else {
                return generic(p, rec, ctx);
            };
            match f(s, out) {
                Some(Applied::Same) => Ok(Outcome::Value(Value::str(s))),
                Some(Applied::Part(kept)) => Ok(Outcome::Value(Value::str(kept))),
                Some(Applied::Built) if fits(out.len(), ctx.limits) => r,
                _ => {
                    buffers::give(std::mem::take(out));
                    generic(p, rec, ctx)
                }
            }
        }
        other => {
            other.release();
            generic(p, rec, ctx)
        }
    }
}

/// [`Entry::Call`]: one native call over attributes and constants, with its arguments built
/// in place instead of pushed through the operand stack.
#[inline]
fn direct_call<'r, R: Record + ?Sized>(
    p: &'r Program,
    site: &'r CallSite,
    args: &[Arg],
    rec: &'r R,
    ctx: &mut EvalContext<'_>,
) -> Result<Outcome<'r>, EvalError> {
    // In place: no operand stack, no moves of the argument array. `ManuallyDrop` because
    // only the first `args.len()` slots are ever filled; they are released below, on every
    // path (a record may hand out owned values).
    let mut vals = ManuallyDrop::new([const { Value::Null }; INLINE]);
    let Some(filled) = vals.get_mut(..args.len()) else {
        let mut env = Env::new(ctx.clock, &mut *ctx.rng, ctx.oracle, ctx.limits);
        return run(p, rec, &mut env);
    };
    // Whether an argument holds an owned buffer or a list (a folded constant can be a
    // list), found while the arguments are built instead of in a second pass.
    let mut tracked = false;
    for (v, a) in filled.iter_mut().zip(args) {
        let arg = match *a {
            Arg::Attr(s) => read_attr(p, rec, s),
            Arg::Const(k) => konst(p, k),
            Arg::Null => continue,
        };
        tracked |= matches!(arg, Value::Str(Cow::Owned(_)) | Value::Multi(_));
        // The slot holds Null: skip its drop glue.
        std::mem::forget(std::mem::replace(v, arg));
    }
    let mut env = Env::new(ctx.clock, &mut *ctx.rng, ctx.oracle, ctx.limits);
    let site_data = site.site.as_deref();
    let out = if tracked {
        functions::invoke(
            site.spec,
            site.eval,
            filled,
            site.present,
            site_data,
            &mut env,
        )
    } else {
        functions::invoke_untracked(site.eval, filled, site.present, site_data, &mut env)
    };
    for v in filled.iter_mut() {
        if v.owns_memory() {
            drop(std::mem::take(v));
        }
    }
    out.map(Outcome::Value)
        .map_err(|e| EvalError::at(e, site.span))
}

/// A constant, borrowed (a `match`, not `map_or(Value::Null, …)`, which would build and drop
/// the unused default through the drop glue on every call).
#[inline(always)]
fn konst(p: &Program, c: ConstIdx) -> Value<'_> {
    match p.consts.get(c.get()) {
        Some(v) => v.reborrow(),
        None => Value::Null,
    }
}

/// The value of a constant or attribute leaf.
#[inline]
fn leaf_value<'r, R: Record + ?Sized>(p: &'r Program, rec: &'r R, leaf: Leaf) -> Value<'r> {
    match leaf {
        Leaf::Const(c) => konst(p, c),
        Leaf::Attr(s) => read_attr(p, rec, s),
    }
}

thread_local! {
    /// The transform buffer of string chains (see `bytecode::chain`).
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// Stacks up to this depth live inline (no allocation); deeper ones spill to the heap once.
const INLINE: usize = 8;

type Stack<'r> = SmallVec<[Value<'r>; INLINE]>;

fn run<'r, R: Record + ?Sized>(
    p: &'r Program,
    rec: &'r R,
    env: &mut Env<'_>,
) -> Result<Outcome<'r>, EvalError> {
    let mut stack: Stack<'r> = SmallVec::new();
    if p.max_stack > INLINE {
        stack.reserve(p.max_stack);
    }
    let code = &p.code[..];
    let mut pc = 0usize;
    loop {
        let Some(op) = code.get(pc) else {
            return Err(EvalError::at(
                internal("fell off the end of the program"),
                p.span_at(pc),
            ));
        };
        pc += 1;
        match *op {
            Op::Const(c) => match p.consts.get(c.get()) {
                Some(v) => stack.push(v.reborrow()),
                None => return Err(fail(p, pc - 1, internal("bad constant index"))),
            },
            Op::Attr(s) => stack.push(read_attr(p, rec, s)),
            Op::Call(c) => {
                let Some(site) = p.calls.get(c.get()) else {
                    return Err(fail(p, pc - 1, internal("bad call index")));
                };
                let argc = site.argc as usize;
                let Some(base) = stack.len().checked_sub(argc) else {
                    return Err(EvalError::at(internal("stack underflow"), site.span));
                };
                let r = functions::invoke(
                    site.spec,
                    site.eval,
                    &mut stack[base..],
                    site.present,
                    site.site.as_deref(),
                    env,
                )
                .map_err(|e| EvalError::at(e, site.span))?;
                for v in stack.drain(base..) {
                    env.recycle(v);
                }
                stack.push(r);
            }
            Op::Concat(n) => {
                let n = n as usize;
                let Some(base) = stack.len().checked_sub(n) else {
                    return Err(fail(p, pc - 1, internal("stack underflow")));
                };
                let s = concat(&stack[base..], env).map_err(|e| fail(p, pc - 1, e))?;
                for v in stack.drain(base..) {
                    env.recycle(v);
                }
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
                let c = stack.pop().unwrap_or_default();
                match condition(&c) {
                    Some(true) => {}
                    Some(false) => pc = t.get(),
                    None => return Err(fail(p, pc - 1, invalid_condition(&c))),
                }
            }
            Op::Jump(t) => pc = t.get(),
            Op::SwitchTable(t) => {
                let src = stack.pop().unwrap_or_default();
                let Some(table) = p.tables.get(t.get()) else {
                    return Err(fail(p, pc - 1, internal("bad table index")));
                };
                let text = src.text().map_err(|e| fail(p, pc - 1, e))?;
                pc = table.lookup(text.as_deref().unwrap_or("")).get();
            }
            Op::SwitchKeyEq(t) => {
                let key = stack.pop().unwrap_or_default();
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
                let v = stack.pop().unwrap_or_default();
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
                    FnError::new(
                        ErrorCode::NoUniqueValue,
                        "every SelectUniqueValue candidate is already taken",
                    ),
                ));
            }
            Op::IgnoreIfEmpty => {
                if stack.last().is_none_or(Value::is_null_or_empty) {
                    return Ok(Outcome::Ignore);
                }
            }
            Op::Return => {
                let v = stack.pop().unwrap_or_default();
                return Ok(Outcome::Value(v));
            }
            Op::ReturnConst(c) => {
                return match p.consts.get(c.get()) {
                    Some(v) => Ok(Outcome::Value(v.reborrow())),
                    None => Err(fail(p, pc - 1, internal("bad constant index"))),
                };
            }
            Op::ReturnAttr(s) => return Ok(Outcome::Value(read_attr(p, rec, s))),
            Op::JumpUnlessAttrEq {
                slot,
                konst,
                target,
                ne,
            } => pc = attr_eq_jump(p, rec, pc - 1, slot, konst, target, ne)?,
            Op::ChainGuard(c) => {
                let Some(chain) = p.chains.get(c.get()) else {
                    return Err(fail(p, pc - 1, internal("bad chain index")));
                };
                if !chain.attrs_are_single(&|slot: SlotIdx| read_attr(p, rec, slot)) {
                    pc = chain.fallback.get();
                }
            }
            Op::LeafGuard(c, k) => {
                if matches!(stack.last(), Some(Value::Multi(_) | Value::Role(_))) {
                    let Some(chain) = p.chains.get(c.get()) else {
                        return Err(fail(p, pc - 1, internal("bad chain index")));
                    };
                    let Some(base) = stack.len().checked_sub(k as usize) else {
                        return Err(fail(p, pc - 1, internal("stack underflow")));
                    };
                    for v in stack.drain(base..) {
                        env.recycle(v);
                    }
                    pc = chain.fallback.get();
                }
            }
            Op::StrChain(c) => {
                let Some(chain) = p.chains.get(c.get()) else {
                    return Err(fail(p, pc - 1, internal("bad chain index")));
                };
                env.charge(chain.nodes.len() as u64)
                    .map_err(|e| fail(p, pc - 1, e))?;
                let Some(base) = stack.len().checked_sub(chain.pushed as usize) else {
                    return Err(fail(p, pc - 1, internal("stack underflow")));
                };
                let attr = |slot: SlotIdx| read_attr(p, rec, slot);
                let pushed = &stack[base..];
                let mut buf = env.buffer(chain.capacity_hint(&attr, pushed));
                // The scratch buffer stays on this thread between evaluations: unlike pooled
                // buffers it is never handed out as a result, so it is never lost.
                let mut scratch = SCRATCH.with(Cell::take);
                let built = chain.eval(&attr, pushed, None, &mut buf, &mut scratch);
                SCRATCH.with(|s| s.set(scratch));
                for v in stack.drain(base..) {
                    env.recycle(v);
                }
                match built {
                    Ok(present) => {
                        if present {
                            let v = Value::string(buf);
                            env.account(&v).map_err(|e| fail(p, pc - 1, e))?;
                            stack.push(v);
                        } else {
                            env.recycle(Value::string(buf));
                            stack.push(Value::Null);
                        }
                        pc = chain.end.get();
                    }
                    // A multi-valued value: the generic code that follows decides.
                    Err(_) => env.recycle(Value::string(buf)),
                }
            }
            Op::SwitchAttr(slot, t) => pc = switch_jump(p, pc - 1, &read_attr(p, rec, slot), t)?,
        }
    }
}

/// Runs a decision-only program (IIF/Switch over attributes and constants): no stack, no
/// environment, nothing to drop.
fn decide<'r, R: Record + ?Sized>(p: &'r Program, rec: &'r R) -> Result<Outcome<'r>, EvalError> {
    let mut pc = 0usize;
    // Forward jumps only: at most `code.len()` steps.
    for _ in 0..=p.code.len() {
        let Some(op) = p.code.get(pc) else { break };
        match *op {
            Op::ReturnConst(c) => {
                if let Some(v) = p.consts.get(c.get()) {
                    return Ok(Outcome::Value(v.reborrow()));
                }
                break;
            }
            Op::ReturnAttr(s) => return Ok(Outcome::Value(read_attr(p, rec, s))),
            Op::Jump(t) => pc = t.get(),
            Op::JumpUnlessAttrEq {
                slot,
                konst,
                target,
                ne,
            } => pc = attr_eq_jump(p, rec, pc, slot, konst, target, ne)?,
            Op::SwitchAttr(slot, t) => pc = switch_jump(p, pc, &read_attr(p, rec, slot), t)?,
            _ => break,
        }
    }
    Err(fail(p, pc, internal("malformed decision program")))
}

/// Reads the attribute in `slot`.
#[inline]
fn read_attr<'r, R: Record + ?Sized>(p: &'r Program, rec: &'r R, slot: SlotIdx) -> Value<'r> {
    let name = p.attributes.get(slot.get()).map_or("", String::as_str);
    rec.get_slot(slot.get(), name)
}

/// `JumpUnlessAttrEq` at pc `at`: the next pc (`at + 4` when the comparison holds, else the
/// target). Errors take the span of the fused `Cmp` at `at + 2`.
#[inline]
fn attr_eq_jump<R: Record + ?Sized>(
    p: &Program,
    rec: &R,
    at: usize,
    slot: SlotIdx,
    konst: ConstIdx,
    target: CodeIdx,
    ne: bool,
) -> Result<usize, EvalError> {
    let a = read_attr(p, rec, slot);
    let Some(b) = p.consts.get(konst.get()) else {
        return Err(fail(p, at, internal("bad constant index")));
    };
    let eq = match (&a, b) {
        // The common case, without building or dropping anything.
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => equals(&a, b).map_err(|e| fail(p, at + 2, e))?,
    };
    Ok(if eq != ne { at + 4 } else { target.get() })
}

/// `SwitchAttr` at pc `at`: the block of the key equal to the source's text. Errors take
/// the span recorded for the fused `SwitchTable` at `at + 1`.
#[inline]
fn switch_jump(p: &Program, at: usize, src: &Value<'_>, t: TableIdx) -> Result<usize, EvalError> {
    let Some(table) = p.tables.get(t.get()) else {
        return Err(fail(p, at, internal("bad table index")));
    };
    Ok(match src {
        Value::Str(s) => table.lookup(s),
        other => {
            let text = other.text().map_err(|e| fail(p, at + 1, e))?;
            table.lookup(text.as_deref().unwrap_or(""))
        }
    }
    .get())
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
    let mut s = env.buffer(len);
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
        other => format!(
            "`{}`",
            crate::value::truncate_for_message(&other.render_scalar())
        ),
    };
    let code = if matches!(v, Value::Multi(m) if m.len() > 1) {
        ErrorCode::MultiValuedArgument
    } else {
        ErrorCode::InvalidCondition
    };
    FnError::new(
        code,
        format!("an IIF condition must be True or False, found {shown}"),
    )
}
