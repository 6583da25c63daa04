//! Built-in functions: one file per family, and ONE registry table ([`REGISTRY`]) that the
//! checker, the compiler, the docs (`mapexpr functions`) and the tests all read.
//!
//! A native function receives its arguments already evaluated, one per parameter slot, and
//! returns a value. Functions that map over a multi-valued source (V4) are written for a
//! single value; the VM applies them element by element. Lazy functions (IIF, Switch,
//! Coalesce, SelectUniqueValue) are compiled to jumps and have no native body.

use std::any::Any;
use std::borrow::Cow;

use crate::context::{Clock, Limits, RandomSource, UniquenessOracle};
use crate::datetime::DateTime;
use crate::error::{ErrorCode, FnError};
use crate::value::Value;

mod registry;

pub mod convert;
pub mod datetime;
pub mod directory;
pub mod generate;
pub mod logic;
pub mod multivalue;
#[cfg(test)]
mod own_cases;
pub mod string;
pub mod text;

pub use registry::{REGISTRY, lookup};

/// What a parameter slot accepts (spec §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Text; Integer, Boolean and DateTime are rendered.
    Str,
    /// Integer or integer text.
    Int,
    /// Integer or integer text; text with a fraction is truncated (DateAdd's `value` only).
    IntFix,
    /// Boolean or `True`/`False` text.
    Bool,
    /// DateTime or date text.
    Date,
    /// `vbTextCompare`/`vbBinaryCompare` or 0/1.
    Enum,
    /// Anything.
    Any,
    /// A list; a single value is a one-element list.
    List,
}

/// How often a parameter may occur.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly once, never empty.
    Required,
    /// Once, may be omitted or left empty.
    Optional,
    /// One or more times (the last parameter only).
    Repeating,
}

/// One parameter of a signature.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// The Graph key (spec §7.2), also the name shown by `explain`.
    pub key: &'static str,
    /// What the slot accepts.
    pub kind: ParamKind,
    /// Required, optional or repeating.
    pub arity: Arity,
}

/// The static result type of a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// Text.
    Str,
    /// Boolean.
    Bool,
    /// Integer.
    Int,
    /// DateTime.
    Date,
    /// A list.
    Multi,
    /// Unknown (passes through one of its arguments).
    Any,
}

/// Where a function is documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doc {
    /// In Microsoft's app-provisioning reference.
    Reference,
    /// Not in the reference (F22: Len, Trim); lint `undocumented-function`.
    Undocumented,
}

/// How a function is evaluated.
#[derive(Clone, Copy)]
pub enum Imp {
    /// A native body.
    Native {
        /// The body.
        eval: NativeFn,
        /// Compile-time validation of constant arguments and per-call-site precomputation.
        prepare: Option<PrepareFn>,
        /// True when the result depends only on the arguments (constant folding allowed).
        pure: bool,
    },
    /// Compiled to jumps by the compiler.
    Lazy(LazyKind),
    /// The signature is known; evaluation lands with a later issue (`not-yet-supported`).
    NotYet,
}

/// The functions with lazily evaluated arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LazyKind {
    /// `IIF(condition, valueIfTrue, valueIfFalse)`.
    Iif,
    /// `Switch(source, default, key, value, …)`.
    Switch,
    /// `Coalesce(source…)`.
    Coalesce,
    /// `SelectUniqueValue(rule…)`.
    SelectUniqueValue,
    /// `IgnoreFlowIfNullOrEmpty(expression)`: not lazy, but its Ignore outcome is an opcode.
    IgnoreFlow,
}

/// A function's registry entry.
#[derive(Clone, Copy)]
pub struct FnSpec {
    /// Canonical name (registry casing).
    pub name: &'static str,
    /// Parameters in slot order.
    pub params: &'static [Param],
    /// Static result type.
    pub returns: Returns,
    /// True when a multi-valued first argument maps the function over its values (V4).
    pub maps_multi: bool,
    /// Where it is documented.
    pub doc: Doc,
    /// How it is evaluated.
    pub imp: Imp,
    /// One line for `mapexpr functions`.
    pub summary: &'static str,
}

impl FnSpec {
    /// Fewest arguments a call may have.
    pub fn min_args(&self) -> usize {
        self.params
            .iter()
            .filter(|p| p.arity != Arity::Optional)
            .count()
    }

    /// Most arguments a call may have (`None`: unbounded).
    pub fn max_args(&self) -> Option<usize> {
        if self.params.iter().any(|p| p.arity == Arity::Repeating) {
            None
        } else {
            Some(self.params.len())
        }
    }

    /// The parameter that argument `i` fills (repeating parameters absorb the rest).
    pub fn param_for(&self, i: usize) -> Option<&'static Param> {
        let params: &'static [Param] = self.params;
        match params.get(i) {
            Some(p) => Some(p),
            None => params.last().filter(|p| p.arity == Arity::Repeating),
        }
    }

    /// The parameter slot that written argument `i` of `n` fills: the 3-argument
    /// FormatDateTime has no styles slot, so its arguments fill slots 0, 2 and 3.
    pub fn slot_of(&self, n: usize, i: usize) -> usize {
        if self.name == "FormatDateTime" && n == 3 && i > 0 {
            i + 1
        } else {
            i
        }
    }

    /// How many slots a body sees for `n` written arguments (FormatDateTime: always 4).
    pub fn slot_count(&self, n: usize) -> usize {
        if self.name == "FormatDateTime" { 4 } else { n }
    }

    /// The signature as text: `Mid(source: Str, start: Int, length: Int) -> Str`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let suffix = match p.arity {
                    Arity::Required => "",
                    Arity::Optional => "?",
                    Arity::Repeating => "…",
                };
                format!("{}{}: {:?}", p.key, suffix, p.kind)
            })
            .collect();
        format!("{}({}) -> {:?}", self.name, params.join(", "), self.returns)
    }
}

/// A native function body.
pub type NativeFn = for<'a> fn(&mut Args<'_, 'a>, &mut Env<'_>) -> Result<Value<'a>, FnError>;

/// Per-call-site data computed at compile time (a compiled regex, a parsed format string).
pub type SiteData = Box<dyn Any + Send + Sync>;

/// Validates constant arguments and precomputes call-site data.
///
/// Called by the checker (errors become diagnostics on the argument) and by the compiler
/// (the data is stored with the call).
pub type PrepareFn = fn(&ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError>;

/// What `prepare` sees: for each written slot, whether it is present and, when the
/// argument is a constant, its value.
pub struct ConstArgs<'c> {
    /// One entry per argument slot as written (empty slots are `present: false`).
    pub slots: &'c [ConstSlot<'c>],
}

/// One argument slot seen at compile time.
#[derive(Clone, Debug)]
pub struct ConstSlot<'c> {
    /// False for an empty or omitted slot.
    pub present: bool,
    /// The value when the argument is a constant (after folding).
    pub value: Option<&'c Value<'static>>,
}

impl<'c> ConstSlot<'c> {
    /// A slot written with a constant, or (`None`) an empty one.
    pub fn constant(value: Option<&'c Value<'static>>) -> Self {
        ConstSlot {
            present: value.is_some(),
            value,
        }
    }
}

impl ConstArgs<'_> {
    /// Number of slots as written.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when no slots were written.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// True when slot `i` has an argument.
    #[inline]
    pub fn present(&self, i: usize) -> bool {
        self.slots.get(i).is_some_and(|s| s.present)
    }

    /// The constant value of slot `i`, if it is present and constant.
    pub fn constant(&self, i: usize) -> Option<&Value<'static>> {
        self.slots.get(i).and_then(|s| s.value)
    }
}

/// A compile-time error found by `prepare`, located at one argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrepareError {
    /// The argument slot at fault (its span is used), or `None` for the whole call.
    pub arg: Option<usize>,
    /// The code.
    pub code: ErrorCode,
    /// A lowercase phrase.
    pub message: String,
    /// A fix, when one exists ("use `\\d`").
    pub help: Option<String>,
}

impl PrepareError {
    /// An error on argument `arg`.
    #[cold]
    pub fn at(arg: usize, code: ErrorCode, message: impl Into<String>) -> PrepareError {
        PrepareError {
            arg: Some(arg),
            code,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> PrepareError {
        self.help = Some(help.into());
        self
    }
}

/// The evaluated arguments of one native call.
///
/// `vals` holds one value per slot as written (empty slots hold Null and are not present).
pub struct Args<'s, 'a> {
    vals: &'s mut [Value<'a>],
    present: u64,
    site: Option<&'s (dyn Any + Send + Sync)>,
}

impl<'s, 'a> Args<'s, 'a> {
    /// Wraps argument values. Bit `i` of `present` is set when slot `i` has an argument;
    /// slots past 63 always count as present.
    pub fn new(
        vals: &'s mut [Value<'a>],
        present: u64,
        site: Option<&'s (dyn Any + Send + Sync)>,
    ) -> Self {
        Args {
            vals,
            present,
            site,
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.vals.len()
    }

    /// True when there are no slots.
    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    /// True when slot `i` exists and has an argument.
    pub fn present(&self, i: usize) -> bool {
        i < self.vals.len() && (i >= 64 || self.present & (1 << i) != 0)
    }

    /// Borrows slot `i` (Null when out of range).
    #[inline]
    pub fn get(&self, i: usize) -> &Value<'a> {
        const NULL: &Value<'static> = &Value::Null;
        self.vals.get(i).unwrap_or(NULL)
    }

    /// Takes slot `i`'s value out, leaving Null (Null when out of range).
    #[inline]
    pub fn take(&mut self, i: usize) -> Value<'a> {
        self.vals.get_mut(i).map(std::mem::take).unwrap_or_default()
    }

    /// All slots.
    pub fn values(&self) -> &[Value<'a>] {
        self.vals
    }

    /// The call-site data `prepare` computed, if it is of type `T`.
    #[inline]
    pub fn site<T: Any>(&self) -> Option<&'s T> {
        self.site.and_then(|s| s.downcast_ref::<T>())
    }
}

/// What a function body may observe besides its arguments.
pub struct Env<'e> {
    clock: &'e dyn Clock,
    now: Option<DateTime>,
    /// The random source of Guid and RandomString.
    pub rng: &'e mut dyn RandomSource,
    /// The SelectUniqueValue oracle.
    pub oracle: &'e dyn UniquenessOracle,
    /// The evaluation limits.
    pub limits: &'e Limits,
    steps: u64,
    clock_used: bool,
    /// Bytes of text built so far (the output budget).
    built: usize,
    /// Recycled string buffers: intermediate strings of one evaluation are built in buffers
    /// left over from earlier ones, so a steady-state evaluation allocates only its output.
    pool: Vec<String>,
}

impl<'e> Env<'e> {
    /// A fresh environment for one evaluation.
    pub fn new(
        clock: &'e dyn Clock,
        rng: &'e mut dyn RandomSource,
        oracle: &'e dyn UniquenessOracle,
        limits: &'e Limits,
    ) -> Self {
        Env {
            clock,
            now: None,
            rng,
            oracle,
            limits,
            steps: 0,
            clock_used: false,
            built: 0,
            pool: Vec::new(),
        }
    }

    /// Like [`Env::new`], reusing a pool of string buffers (see [`Env::into_pool`]).
    pub fn with_pool(
        clock: &'e dyn Clock,
        rng: &'e mut dyn RandomSource,
        oracle: &'e dyn UniquenessOracle,
        limits: &'e Limits,
        pool: Vec<String>,
    ) -> Self {
        let mut env = Env::new(clock, rng, oracle, limits);
        env.pool = pool;
        env
    }

    /// Gives the buffer pool back for the next evaluation.
    pub fn into_pool(self) -> Vec<String> {
        self.pool
    }

    /// An empty string with at least `capacity` bytes, from the pool when one is there.
    #[inline]
    pub fn buffer(&mut self, capacity: usize) -> String {
        match self.pool.pop() {
            Some(mut s) => {
                s.clear();
                s.reserve(capacity);
                s
            }
            None => String::with_capacity(capacity),
        }
    }

    /// Returns an owned string's buffer to the pool (borrowed values are simply dropped).
    #[inline]
    pub fn recycle(&mut self, v: Value<'_>) {
        match v {
            Value::Str(std::borrow::Cow::Owned(s)) => {
                crate::value::buffers::keep(&mut self.pool, s)
            }
            // Values that own nothing skip the drop glue.
            other => other.release(),
        }
    }

    /// `Now()`: the same instant for the whole evaluation.
    pub fn now(&mut self) -> DateTime {
        self.clock_used = true;
        *self.now.get_or_insert_with(|| self.clock.now())
    }

    /// True when something read the clock (`Now()`, or FormatDateTime filling in today's
    /// date). Constant folding discards such results: they are not constants.
    pub fn clock_used(&self) -> bool {
        self.clock_used
    }

    /// Charges `n` steps against the step budget (`limit-exceeded` when it runs out).
    /// Functions whose work grows with their input (Join, Replace, Split) charge per element.
    #[inline]
    pub fn charge(&mut self, n: u64) -> Result<(), FnError> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.limits.max_steps {
            return Err(FnError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "the evaluation exceeded its step budget of {}",
                    self.limits.max_steps
                ),
            ));
        }
        Ok(())
    }

    /// A new value of `bytes` is within the per-value limit and the output budget.
    #[inline]
    fn fits_new(&self, bytes: usize) -> bool {
        bytes <= self.limits.max_value_bytes
            && self.built.saturating_add(bytes) <= self.limits.max_output_bytes
    }

    /// Checks a string about to be built against the per-value size limit, before the work
    /// is done (the output budget is counted by [`Env::account`] on the built value).
    #[inline]
    pub fn check_len(&self, bytes: usize) -> Result<(), FnError> {
        if bytes > self.limits.max_value_bytes {
            return Err(FnError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "a value of {bytes} bytes exceeds the limit of {} bytes",
                    self.limits.max_value_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Checks the number of values of a multi-valued value being built.
    #[inline]
    pub fn check_multi_len(&self, n: usize) -> Result<(), FnError> {
        if n > self.limits.max_multi_len {
            return Err(FnError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "a multi-valued value of {n} values exceeds the limit of {}",
                    self.limits.max_multi_len
                ),
            ));
        }
        Ok(())
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Accounts for a value a function (or `&`) has just built: every owned string in it
    /// must fit the per-value limit, and together they count against the output budget
    /// (spec §2.2). Borrowed text (a record value or a constant passed through) is free.
    /// Called by [`invoke`] for every native result, so no function can hand on an
    /// oversized value even if its body forgot `check_len`.
    pub fn account(&mut self, v: &Value<'_>) -> Result<(), FnError> {
        self.account_new(v, &Seen::default())
    }

    /// Like [`Env::account`], but an owned string whose buffer is in `seen` (an argument
    /// handed on, possibly grown in place) counts only the bytes it gained.
    fn account_new(&mut self, v: &Value<'_>, seen: &Seen) -> Result<(), FnError> {
        let mut bytes = 0usize;
        let mut one = |s: &String| -> Result<(), FnError> {
            self.check_len(s.len())?;
            let before = seen.len_of(s.as_ptr() as usize).unwrap_or(0);
            bytes = bytes.saturating_add(s.len().saturating_sub(before));
            Ok(())
        };
        match v {
            Value::Str(Cow::Owned(s)) => one(s)?,
            Value::Multi(list) => {
                for x in list.iter() {
                    if let Value::Str(Cow::Owned(s)) = x {
                        one(s)?;
                    }
                }
            }
            _ => {}
        }
        self.built = self.built.saturating_add(bytes);
        if self.built > self.limits.max_output_bytes {
            return Err(FnError::new(
                ErrorCode::LimitExceeded,
                format!(
                    "the evaluation built more than its output budget of {} bytes",
                    self.limits.max_output_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// Heap addresses and lengths of the owned strings among a call's arguments (and in their
/// lists), so that a result handing one on is not counted as built twice. (A body that frees
/// an argument and then allocates its result at the same address is under-counted by at
/// most that argument's length, which the per-value limit bounds: the budget stays a bound.)
///
/// Kept on the stack (this runs for every call): the elements of lists longer than
/// `MAX_LIST` are not tracked, so a body handing one of those on is counted as building it —
/// an over-count, which keeps the budget a bound.
#[derive(Default)]
struct Seen {
    addrs: smallvec::SmallVec<[(usize, usize); 8]>,
}

impl Seen {
    const MAX_LIST: usize = 8;

    /// True when `v` holds a buffer [`Seen::of`] records.
    #[inline]
    fn tracks(v: &Value<'_>) -> bool {
        matches!(v, Value::Str(Cow::Owned(_)) | Value::Multi(_))
    }

    fn of(vals: &[Value<'_>]) -> Seen {
        let mut addrs = smallvec::SmallVec::new();
        for v in vals {
            match v {
                Value::Str(Cow::Owned(s)) => addrs.push((s.as_ptr() as usize, s.len())),
                Value::Multi(list) if list.len() <= Self::MAX_LIST => {
                    addrs.extend(list.iter().filter_map(|x| match x {
                        Value::Str(Cow::Owned(s)) => Some((s.as_ptr() as usize, s.len())),
                        _ => None,
                    }))
                }
                _ => {}
            }
        }
        Seen { addrs }
    }

    /// The length the buffer at `addr` had among the arguments, if it was one of theirs.
    fn len_of(&self, addr: usize) -> Option<usize> {
        self.addrs.iter().find(|(a, _)| *a == addr).map(|(_, n)| *n)
    }
}

/// Calls a native body, applying the multi-valued mapping rule (V4): when the function maps
/// and its first argument is a list, the body runs once per element and the results form a
/// list. Shared by the VM, the reference evaluator and constant folding so that all three
/// agree by construction.
#[inline]
pub fn invoke<'a>(
    spec: &FnSpec,
    eval: NativeFn,
    vals: &mut [Value<'a>],
    present: u64,
    site: Option<&(dyn Any + Send + Sync)>,
    env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    if spec.maps_multi {
        if let Some(Value::Multi(_)) = vals.first() {
            let Some(Value::Multi(list)) = vals.first_mut().map(std::mem::take) else {
                return Ok(Value::Null);
            };
            env.check_multi_len(list.len())?;
            let mut out = Vec::with_capacity(list.len());
            let mut scratch: Vec<Value<'a>> = Vec::with_capacity(vals.len());
            for elem in list.into_vec() {
                env.charge(1)?;
                scratch.clear();
                scratch.push(elem);
                scratch.extend(vals.iter().skip(1).cloned());
                // Only the element itself may be handed on without counting: the other
                // arguments were cloned for this call, so handing one on is a new buffer.
                let seen = Seen::of(&scratch[..1]);
                let v = eval(&mut Args::new(&mut scratch, present, site), env)?;
                // Each element is accounted as it is built, so a long list of big results
                // stops at the output budget instead of piling up first.
                env.account_new(&v, &seen)?;
                // Null results are dropped so that the list invariant (no nested Null) holds.
                match v {
                    Value::Null => {}
                    Value::Multi(inner) => out.extend(inner.into_vec()),
                    other => out.push(other),
                }
            }
            return Ok(Value::multi(out));
        }
    }
    // Most calls take only borrowed arguments: nothing to track, nothing to look up.
    if !vals.iter().any(Seen::tracks) {
        return invoke_untracked(eval, vals, present, site, env);
    }
    let seen = Seen::of(vals);
    let v = eval(&mut Args::new(vals, present, site), env)?;
    env.account_new(&v, &seen)?;
    Ok(v)
}

/// [`invoke`] when no argument holds an owned buffer or a list (the caller has checked, as
/// the VM's direct call does while it builds the arguments): no multi-valued mapping and
/// nothing handed on to track.
#[inline]
pub fn invoke_untracked<'a>(
    eval: NativeFn,
    vals: &mut [Value<'a>],
    present: u64,
    site: Option<&(dyn Any + Send + Sync)>,
    env: &mut Env<'_>,
) -> Result<Value<'a>, FnError> {
    let v = eval(&mut Args::new(vals, present, site), env)?;
    match &v {
        // The usual result, well within the limits: what `account_new` would do, inline.
        Value::Str(Cow::Owned(s)) if env.fits_new(s.len()) => env.built += s.len(),
        Value::Str(Cow::Owned(_)) | Value::Multi(_) => {
            env.account_new(&v, &Seen::default())?;
        }
        _ => {}
    }
    Ok(v)
}

/// The slots a native body (and its `prepare`) sees, in parameter order, with the presence
/// mask. `arg(i)` describes written argument `i`: `None` for an empty slot, `Some(value)`
/// for a written one (`value` when it is a constant). Shared by the checker and the
/// compiler so both see exactly what the VM will pass.
pub fn const_slots<'v>(
    spec: &FnSpec,
    n: usize,
    arg: impl Fn(usize) -> Option<Option<&'v Value<'static>>>,
) -> (Vec<ConstSlot<'v>>, u64) {
    let mut slots = vec![
        ConstSlot {
            present: false,
            value: None
        };
        spec.slot_count(n)
    ];
    let mut present = 0u64;
    for i in 0..n {
        let p = spec.slot_of(n, i);
        if let (Some(value), Some(slot)) = (arg(i), slots.get_mut(p)) {
            slot.present = true;
            slot.value = value;
            if p < 64 {
                present |= 1 << p;
            }
        }
    }
    (slots, present)
}

/// Constant-folds a pure call whose written slots are all constants: `None` when it cannot
/// be folded (a slot is not constant, or the body read the clock, which a fold must never
/// freeze), otherwise the body's result.
pub fn fold(
    spec: &FnSpec,
    eval: NativeFn,
    slots: &[ConstSlot<'_>],
    present: u64,
    site: Option<&(dyn Any + Send + Sync)>,
    limits: &Limits,
) -> Option<Result<Value<'static>, FnError>> {
    if slots.iter().any(|s| s.present && s.value.is_none()) {
        return None;
    }
    let mut vals: Vec<Value<'static>> = slots
        .iter()
        .map(|s| s.value.cloned().unwrap_or_default())
        .collect();
    let clock = crate::context::FixedClock(DateTime::MIN);
    let mut rng = NoRandom;
    let oracle = crate::context::TakenSet::new();
    let mut env = Env::new(&clock, &mut rng, &oracle, limits);
    let folded = invoke(spec, eval, &mut vals, present, site, &mut env);
    if env.clock_used() {
        return None;
    }
    Some(folded.map(Value::into_owned))
}

/// A random source for contexts that must not draw (constant folding of pure functions).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRandom;

impl RandomSource for NoRandom {
    fn next_u64(&mut self) -> u64 {
        0
    }
}
