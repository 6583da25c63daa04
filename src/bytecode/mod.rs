//! Bytecode: opcodes, the compiled [`Program`] and its disassembler.
//!
//! A program is a straight line of [`Op`]s with forward jumps only (the language has no
//! loops), so the number of ops executed is bounded by the code length. Spans live in side
//! tables, off the hot path: call sites carry theirs, other failing ops are found by pc.

use std::fmt::Write as _;

pub mod ascii;
pub mod chain;

use crate::functions::{FnSpec, NativeFn, SiteData};
use crate::syntax::Span;
use crate::syntax::ast::BinOp;
use crate::value::Value;

macro_rules! index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            /// The index as usize.
            #[inline]
            pub fn get(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index!(/// An index into `Program::code`.
    CodeIdx);
index!(/// An index into `Program::consts`.
    ConstIdx);
index!(/// An attribute slot: an index into `Program::attributes()`.
    SlotIdx);
index!(/// An index into `Program::calls`.
    CallIdx);
index!(/// An index into `Program::tables`.
    TableIdx);
index!(/// An index into `Program::chains`.
    ChainIdx);

/// One instruction. Each doc comment states the stack effect, top of stack on the right.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// `[] -> [c]`: push a constant (borrowed from the program).
    Const(ConstIdx),
    /// `[] -> [v]`: push an attribute read from the record (borrowed from the record).
    Attr(SlotIdx),
    /// `[a1 … an] -> [r]`: call a native function; `n` is the call site's slot count.
    Call(CallIdx),
    /// `[a1 … an] -> [s]`: concatenate the texts of `n` values (Null counts as `""`).
    Concat(u32),
    /// `[a b] -> [bool]`: compare.
    Cmp(BinOp),
    /// `[c] -> []`: jump when the condition is False; fail unless it is a Boolean or
    /// `True`/`False` text (`invalid-condition`).
    JumpIfFalse(CodeIdx),
    /// `[] -> []`: jump.
    Jump(CodeIdx),
    /// `[s] -> []`: render the Switch source and jump to the value block of the first
    /// constant key equal to it, or to the table's default block.
    SwitchTable(TableIdx),
    /// `[s k] -> [s]` when unequal, `[s k] -> []` plus a jump when equal: one dynamic
    /// Switch key.
    SwitchKeyEq(CodeIdx),
    /// `[s] -> [s]`: fail unless the Switch source has one text (a list of two or more
    /// values is `multi-valued-argument`), before any dynamic key is evaluated.
    SwitchSource,
    /// `[v] -> []`: discard.
    Pop,
    /// `[v] -> [v]` plus a jump when `v` is not Null; `[v] -> []` otherwise (Coalesce).
    JumpIfNotNull(CodeIdx),
    /// `[v] -> [v]` plus a jump when `v` is a usable candidate the oracle does not know;
    /// `[v] -> []` otherwise (SelectUniqueValue).
    UniqueOrNext(CodeIdx),
    /// `[] -> !`: fail with `no-unique-value`.
    FailNoUnique,
    /// `[v] -> [v]`, or finish with the Ignore outcome when `v` is Null or `""`.
    IgnoreIfEmpty,
    /// `[v] -> !`: finish with `v`.
    Return,
    /// `[] -> !`: finish with a constant (peephole of `Const; Return`).
    ReturnConst(ConstIdx),
    /// `[] -> !`: finish with an attribute (peephole of `Attr; Return`).
    ReturnAttr(SlotIdx),
    /// `[] -> []`: compare an attribute with a constant (`=`, or `<>` when `ne`) and jump to
    /// `target` when the comparison is False; when True, skip the 3 ops it replaced (peephole
    /// of `Attr; Const; Cmp; JumpIfFalse`, whose span it borrows from the `Cmp` at pc + 2).
    JumpUnlessAttrEq {
        /// The attribute.
        slot: SlotIdx,
        /// The constant.
        konst: ConstIdx,
        /// Where to go when False.
        target: CodeIdx,
        /// `<>` instead of `=`.
        ne: bool,
    },
    /// `[] -> []`: `Attr; SwitchTable` in one op.
    SwitchAttr(SlotIdx, TableIdx),
    /// `[] -> []`: when an attribute the chain reads is multi-valued, jump to the chain's
    /// generic code (skipping its leaves), so that errors come in the generic order.
    ChainGuard(ChainIdx),
    /// `[v1 … vk] -> [v1 … vk]`, or `[v1 … vk] -> []` plus a jump to the chain's generic code
    /// when the leaf just computed (`vk`) is multi-valued: a later leaf must not fail before
    /// the generic code would have failed on this one.
    LeafGuard(ChainIdx, u32),
    /// `[] -> [s]` plus a jump to the chain's end: build a string chain into one buffer
    /// (see [`chain`]); `[] -> []` and fall through to the generic code of the same
    /// expression when the chain bails out (a multi-valued attribute).
    StrChain(ChainIdx),
}

/// A native call site: the function, its prepared data and its span.
pub struct CallSite {
    /// The registry entry.
    pub spec: &'static FnSpec,
    /// The body.
    pub eval: NativeFn,
    /// Number of argument slots on the stack.
    pub argc: u32,
    /// Bit `i` set when slot `i` was written.
    pub present: u64,
    /// Data from `prepare` (compiled regex, parsed format).
    pub site: Option<SiteData>,
    /// Span of the call in the source.
    pub span: Span,
}

/// A Switch over constant keys.
pub struct SwitchTable {
    /// Rendered keys and their value blocks, first occurrence only, in source order.
    pub keys: Vec<(String, CodeIdx)>,
    /// Hash index for large tables (built when there are more than 8 keys).
    pub index: Option<std::collections::HashMap<String, CodeIdx>>,
    /// Small tables whose keys are all at most 16 bytes (country codes, department
    /// abbreviations): the keys as [`ShortKey`]s, so a lookup compares two words per key
    /// instead of following each key's pointer to compare bytes.
    pub(crate) short: Option<Vec<(ShortKey, CodeIdx)>>,
    /// The default block.
    pub default: CodeIdx,
}

impl SwitchTable {
    /// Builds the table and its lookup structure from the first-occurrence keys.
    pub fn new(keys: Vec<(String, CodeIdx)>, default: CodeIdx) -> SwitchTable {
        let index = (keys.len() > 8).then(|| keys.iter().cloned().collect());
        let short = if keys.len() > 8 {
            None
        } else {
            keys.iter()
                .map(|(k, c)| ShortKey::of(k.as_bytes()).map(|s| (s, *c)))
                .collect()
        };
        SwitchTable {
            keys,
            index,
            short,
            default,
        }
    }

    /// The block for `key`.
    #[inline]
    pub fn lookup(&self, key: &str) -> CodeIdx {
        if let Some(short) = &self.short {
            // Every key is short, so a long input matches none.
            let Some(k) = ShortKey::of(key.as_bytes()) else {
                return self.default;
            };
            return short
                .iter()
                .find(|(s, _)| s.same(&k))
                .map_or(self.default, |(_, c)| *c);
        }
        match &self.index {
            Some(map) => map.get(key).copied().unwrap_or(self.default),
            None => {
                // Length and first byte reject most keys before a full comparison.
                let first = key.as_bytes().first();
                self.keys
                    .iter()
                    .find(|(k, _)| {
                        k.len() == key.len() && k.as_bytes().first() == first && k == key
                    })
                    .map_or(self.default, |(_, c)| *c)
            }
        }
    }
}

/// A small Switch laid out for one lookup: each key (as a [`ShortKey`]) beside its result,
/// a constant value or an attribute. Choosing reads the attribute and this one allocation;
/// through the table it also read the table's key list, the chosen block's op and the
/// constant table in turn, each load waiting for the one before.
#[derive(Clone, Debug)]
pub(crate) struct ShortSwitch {
    /// The keys in use.
    len: usize,
    /// The keys (first occurrence, source order) and their results.
    keys: [(ShortKey, Pick); 8],
    /// The default's result.
    default: Pick,
}

/// A result of a [`ShortSwitch`].
#[derive(Clone, Debug)]
pub(crate) enum Pick {
    /// A constant.
    Const(Value<'static>),
    /// An attribute.
    Attr(SlotIdx),
}

impl ShortSwitch {
    /// The short form of a table whose keys are all short and whose blocks all return a
    /// constant or an attribute.
    fn new(table: &SwitchTable, code: &[Op], consts: &[Value<'static>]) -> Option<ShortSwitch> {
        let pick = |c: CodeIdx| match Leaf::of(code.get(c.get()))? {
            Leaf::Const(k) => consts.get(k.get()).cloned().map(Pick::Const),
            Leaf::Attr(s) => Some(Pick::Attr(s)),
        };
        let short = table.short.as_ref()?;
        let mut keys: [(ShortKey, Pick); 8] = std::array::from_fn(|_| {
            (
                ShortKey {
                    lo: 0,
                    hi: 0,
                    len: 0,
                },
                Pick::Const(Value::Null),
            )
        });
        if short.len() > keys.len() {
            return None;
        }
        for (slot, (k, c)) in keys.iter_mut().zip(short) {
            *slot = (*k, pick(*c)?);
        }
        Some(ShortSwitch {
            len: short.len(),
            keys,
            default: pick(table.default)?,
        })
    }

    /// The result for `key` (what the table and its block give).
    #[inline]
    pub(crate) fn pick(&self, key: &str) -> &Pick {
        let Some(k) = ShortKey::of(key.as_bytes()) else {
            return &self.default;
        };
        self.keys
            .get(..self.len)
            .and_then(|keys| keys.iter().find(|(s, _)| s.same(&k)))
            .map_or(&self.default, |(_, p)| p)
    }
}

/// A string of at most 16 bytes as two words and its length. The words are the first and
/// the last 8 bytes (4 bytes below 8; three single bytes below 4), which overlap but
/// together cover every byte, so for a given length equal keys mean equal strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShortKey {
    lo: u64,
    hi: u64,
    len: usize,
}

impl ShortKey {
    /// The key of `s`, or `None` when it is longer than 16 bytes.
    #[inline]
    pub(crate) fn of(s: &[u8]) -> Option<ShortKey> {
        let len = s.len();
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(w)
        };
        let (lo, hi) = match len {
            0 => (0, 0),
            1..=3 => {
                let at = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
                (at(0) | at(len / 2) << 8 | at(len - 1) << 16, 0)
            }
            4..=7 => (word(s.get(..4)?), word(s.get(len - 4..)?)),
            8..=16 => (word(s.get(..8)?), word(s.get(len - 8..)?)),
            _ => return None,
        };
        Some(ShortKey { lo, hi, len })
    }

    /// Equality without a branch per field.
    #[inline]
    fn same(&self, other: &ShortKey) -> bool {
        ((self.lo ^ other.lo) | (self.hi ^ other.hi) | (self.len ^ other.len) as u64) == 0
    }
}

/// A compiled expression.
pub struct Program {
    pub(crate) code: Vec<Op>,
    pub(crate) consts: Vec<Value<'static>>,
    pub(crate) calls: Vec<CallSite>,
    pub(crate) tables: Vec<SwitchTable>,
    pub(crate) chains: Vec<chain::Chain>,
    pub(crate) attributes: Vec<String>,
    /// Spans of ops other than calls that can fail, sorted by pc.
    pub(crate) spans: Vec<(u32, Span)>,
    pub(crate) source: String,
    pub(crate) max_stack: usize,
    /// Per constant: it stands under `Redact(…)` and is displayed as `[Redact]` (F20).
    pub(crate) redacted: Vec<bool>,
    /// The program calls functions or concatenates: evaluation sets up the buffer pool.
    pub(crate) builds_strings: bool,
    /// How evaluation starts (see [`Entry`]).
    pub(crate) entry: Entry,
}

/// What a program that only reads one attribute or returns one constant does, for a
/// mapping set that runs such mappings without the VM (see [`Program::simple`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Simple {
    /// A pass-through of this slot.
    Attr(usize),
    /// This constant.
    Const(Value<'static>),
}

impl Program {
    /// The program as a pass-through or a constant, when it is one: evaluating it is then
    /// exactly reading the slot (with the record's own `get_slot`) or the constant.
    pub fn simple(&self) -> Option<Simple> {
        match &self.entry {
            Entry::Attr(slot) => Some(Simple::Attr(slot.get())),
            Entry::Const(c) => self.consts.get(c.get()).cloned().map(Simple::Const),
            _ => None,
        }
    }
}

/// The shape of a whole program, found at compile time, so that `Program::eval` can run the
/// most common mapping shapes without the generic loop (no operand stack, no op dispatch, no
/// argument recycling). Every fast path falls back to the generic code for anything unusual
/// (a multi-valued attribute, a limit about to be exceeded), so semantics live in one place.
#[derive(Clone, Debug)]
// A plain byte tag: `Program::eval` is inlined into every caller, and its dispatch then
// reads one byte instead of decoding a niche.
#[repr(u8)]
pub(crate) enum Entry {
    /// Anything else: the generic loop.
    Generic,
    /// `[ReturnConst(c)]`: a constant mapping.
    Const(ConstIdx),
    /// `[ReturnAttr(s)]`: a pass-through.
    Attr(SlotIdx),
    /// `IIF([a] = "k", x, y)` (or `<>`) where `x` and `y` are constants or attributes: one
    /// text comparison picks the result. The key is kept here, next to the slot, so the
    /// comparison touches no other table.
    Pick {
        /// The attribute compared.
        slot: SlotIdx,
        /// The constant text it is compared with.
        key: Box<str>,
        /// `<>` instead of `=`.
        ne: bool,
        /// The result when the comparison holds.
        then: Leaf,
        /// The result otherwise.
        els: Leaf,
    },
    /// `IIF(IsNullOrEmpty([a]), x, y)` (or `IsPresent`) where `x` and `y` are constants or
    /// attributes: the usual "preferred name, else legal name" mapping.
    PickEmpty {
        /// The attribute tested.
        slot: SlotIdx,
        /// `IsPresent` instead of `IsNullOrEmpty`.
        present: bool,
        /// The result when the test holds.
        then: Leaf,
        /// The result otherwise.
        els: Leaf,
    },
    /// `Switch([a], default, key, value, …)` where the default and every value are constants
    /// or attributes: one table lookup picks the block, whose single op is the result.
    Switch(SlotIdx, TableIdx),
    /// [`Entry::Switch`] over at most 8 keys of at most 16 bytes: the keys and the results
    /// side by side in one allocation (see [`ShortSwitch`]).
    ShortSwitch(SlotIdx, Box<ShortSwitch>),
    /// Every reachable op is a decision (`JumpUnlessAttrEq`, `SwitchAttr`, `Jump`) or a
    /// `ReturnConst`/`ReturnAttr`: the VM runs it without a stack or an environment.
    Decide,
    /// `[StrChain(c), generic code…, Return]` where the chain needs no leaves: the chain
    /// builds the result directly into its output buffer.
    Chain(ChainIdx),
    /// `Replace([a], , "[class]+", , "", , )`: deleting the characters of a class from an
    /// attribute, done by the filter alone (the input comes back borrowed when nothing is
    /// deleted).
    Filter(SlotIdx, Box<crate::text::regex_dotnet::CharFilter>),
    /// `ToUpper([a])`, `ToLower([a])`, `Trim([a])`, `StripSpaces([a])` or
    /// `NormalizeDiacritics([a])` (no culture): the transform on the attribute's text, which
    /// comes back borrowed when nothing changes (an upper-case ID through `ToUpper`).
    Transform(SlotIdx, chain::Unary),
    /// `FormatDateTime([a], styles, "in", "out")` with constant styles and formats: the
    /// attribute's text parsed and formatted without the call's argument array, built in
    /// the result; anything unusual (Null aside), including every error, goes through the
    /// generic call.
    Date(SlotIdx, CallIdx),
    /// `IgnoreFlowIfNullOrEmpty(x)` where `x` has one of the shapes above: `x`'s entry,
    /// then the Ignore outcome for a Null or `""` value.
    Ignoring(Box<Entry>),
    /// `[Attr|Const × argc, Call(c), Return]`: one native call whose arguments are attributes
    /// and constants (FormatDateTime, Replace, Left, IsNullOrEmpty…).
    Call(CallIdx, Box<[Arg]>),
}

/// [`Entry::Filter`] for a call of Replace that deletes a character class from an attribute.
fn class_deletion(site: &CallSite, args: &[Arg], consts: &[Value<'static>]) -> Option<Entry> {
    if site.spec.name != "Replace" || !crate::functions::text::is_class_deletion_mask(site.present)
    {
        return None;
    }
    let text = |i: usize| match args.get(i)? {
        Arg::Const(k) => match consts.get(k.get())? {
            Value::Str(s) => Some(s.as_ref()),
            _ => None,
        },
        Arg::Attr(_) | Arg::Null => None,
    };
    let (Some(Arg::Attr(slot)), Some(pattern), Some("")) = (args.first(), text(2), text(4)) else {
        return None;
    };
    let filter = crate::text::regex_dotnet::CharFilter::for_pattern(pattern)?;
    Some(Entry::Filter(*slot, Box::new(filter)))
}

/// A result of an [`Entry::Pick`]: a constant or an attribute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Leaf {
    /// A constant.
    Const(ConstIdx),
    /// An attribute.
    Attr(SlotIdx),
}

impl Leaf {
    /// The leaf of a `ReturnConst`/`ReturnAttr` op.
    pub(crate) fn of(op: Option<&Op>) -> Option<Leaf> {
        match op? {
            Op::ReturnConst(c) => Some(Leaf::Const(*c)),
            Op::ReturnAttr(s) => Some(Leaf::Attr(*s)),
            _ => None,
        }
    }
}

/// [`Entry::Transform`] for a one-argument call of a text transform on an attribute.
fn transform(site: &CallSite, args: &[Arg]) -> Option<Entry> {
    let [Arg::Attr(slot)] = args else {
        return None;
    };
    if site.site.is_some() {
        return None;
    }
    let op = chain::Unary::of_name(site.spec.name)?;
    Some(Entry::Transform(*slot, op))
}

/// [`Entry::Date`] for a FormatDateTime of an attribute whose styles and formats were all
/// prepared at compile time.
fn formatted_date(site: &CallSite, args: &[Arg], c: CallIdx) -> Option<Entry> {
    if site.spec.name != "FormatDateTime" {
        return None;
    }
    let data = site
        .site
        .as_deref()?
        .downcast_ref::<crate::functions::datetime::FormatDateTimeSite>()?;
    let (Some(Arg::Attr(slot)), Some(_), Some(_), Some(_)) =
        (args.first(), data.styles, &data.input, &data.output)
    else {
        return None;
    };
    Some(Entry::Date(*slot, c))
}

/// An argument of an [`Entry::Call`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Arg {
    /// An attribute.
    Attr(SlotIdx),
    /// A constant.
    Const(ConstIdx),
    /// An empty or omitted argument: the slot keeps the Null it starts with.
    Null,
}

impl Entry {
    /// Classifies a finished program.
    pub(crate) fn of(
        code: &[Op],
        consts: &[Value<'static>],
        tables: &[SwitchTable],
        chains: &[chain::Chain],
        calls: &[CallSite],
        decision_only: bool,
    ) -> Entry {
        match code.first() {
            Some(Op::ReturnConst(c)) => return Entry::Const(*c),
            Some(Op::ReturnAttr(s)) => return Entry::Attr(*s),
            Some(Op::JumpUnlessAttrEq {
                slot,
                konst,
                target,
                ne,
            }) => {
                let key = match consts.get(konst.get()) {
                    Some(Value::Str(k)) => Some(k),
                    _ => None,
                };
                let then = Leaf::of(code.get(4));
                let els = Leaf::of(code.get(target.get()));
                if let (Some(key), Some(then), Some(els)) = (key, then, els) {
                    return Entry::Pick {
                        slot: *slot,
                        key: key.as_ref().into(),
                        ne: *ne,
                        then,
                        els,
                    };
                }
            }
            Some(Op::SwitchAttr(slot, t)) => {
                let leaves = |table: &SwitchTable| {
                    std::iter::once(table.default)
                        .chain(table.keys.iter().map(|(_, c)| *c))
                        .all(|c| Leaf::of(code.get(c.get())).is_some())
                };
                if let Some(short) = tables
                    .get(t.get())
                    .and_then(|table| ShortSwitch::new(table, code, consts))
                {
                    return Entry::ShortSwitch(*slot, Box::new(short));
                }
                if tables.get(t.get()).is_some_and(leaves) {
                    return Entry::Switch(*slot, *t);
                }
            }
            _ => {}
        }
        if let [Op::Attr(slot), Op::Call(c), Op::JumpIfFalse(t), ..] = code {
            let test = calls
                .get(c.get())
                .filter(|site| site.argc == 1)
                .and_then(|site| match site.spec.name {
                    "IsNullOrEmpty" => Some(false),
                    "IsPresent" => Some(true),
                    _ => None,
                });
            let then = Leaf::of(code.get(3));
            let els = Leaf::of(code.get(t.get()));
            if let (Some(present), Some(then), Some(els)) = (test, then, els) {
                return Entry::PickEmpty {
                    slot: *slot,
                    present,
                    then,
                    els,
                };
            }
        }
        if decision_only {
            return Entry::Decide;
        }
        match code {
            [body @ .., Op::IgnoreIfEmpty, Op::Return] => {
                let inner = match body {
                    [Op::Attr(s)] => Some(Entry::Attr(*s)),
                    _ => Entry::building(body, consts, chains, calls),
                };
                inner.map_or(Entry::Generic, |e| Entry::Ignoring(Box::new(e)))
            }
            [body @ .., Op::Return] => {
                Entry::building(body, consts, chains, calls).unwrap_or(Entry::Generic)
            }
            _ => Entry::Generic,
        }
    }

    /// The string-building shapes of a program's `body` (its code before the final ops that
    /// return the value): a whole-body chain, a class deletion or a single call.
    fn building(
        body: &[Op],
        consts: &[Value<'static>],
        chains: &[chain::Chain],
        calls: &[CallSite],
    ) -> Option<Entry> {
        match body {
            [Op::StrChain(c), ..]
                if chains
                    .get(c.get())
                    .is_some_and(|ch| ch.pushed == 0 && ch.end.get() == body.len()) =>
            {
                Some(Entry::Chain(*c))
            }
            [args @ .., Op::Call(c)]
                if calls
                    .get(c.get())
                    .is_some_and(|site| site.argc as usize == args.len()) =>
            {
                let args: Box<[Arg]> = args
                    .iter()
                    .map(|op| match *op {
                        Op::Attr(s) => Some(Arg::Attr(s)),
                        Op::Const(k) if matches!(consts.get(k.get()), Some(Value::Null)) => {
                            Some(Arg::Null)
                        }
                        Op::Const(k) => Some(Arg::Const(k)),
                        _ => None,
                    })
                    .collect::<Option<_>>()?;
                let site = calls.get(c.get())?;
                Some(
                    class_deletion(site, &args, consts)
                        .or_else(|| transform(site, &args))
                        .or_else(|| formatted_date(site, &args, *c))
                        .unwrap_or(Entry::Call(*c, args)),
                )
            }
            _ => None,
        }
    }
}

impl Program {
    /// The attribute table: slot `i` reads `attributes()[i]`.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }

    /// The source text the program was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The span recorded for the op at `pc` (cold path).
    #[cold]
    pub(crate) fn span_at(&self, pc: usize) -> Span {
        match self.spans.binary_search_by_key(&(pc as u32), |(p, _)| *p) {
            Ok(i) => self.spans[i].1,
            Err(_) => Span::new(0, self.source.len()),
        }
    }

    /// The number of ops.
    pub fn len(&self) -> usize {
        self.code.len()
    }

    /// True for an empty program (never produced by the compiler).
    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    /// Human-readable disassembly with the source text of each call's span.
    pub fn disassemble(&self) -> String {
        let mut out = String::new();
        if self.redacted.iter().any(|r| *r) {
            let _ = writeln!(out, "; (source hidden: it holds redacted values)");
        } else {
            let _ = writeln!(out, "; {}", self.source.replace('\n', " "));
        }
        let _ = writeln!(
            out,
            "; {} ops, {} constants, {} calls, {} attributes, max stack {}",
            self.code.len(),
            self.consts.len(),
            self.calls.len(),
            self.attributes.len(),
            self.max_stack
        );
        let entry = match &self.entry {
            Entry::Generic => "generic loop",
            Entry::Const(_) => "constant",
            Entry::Attr(_) => "pass-through",
            Entry::Pick { .. } => "pick by comparison",
            Entry::PickEmpty { .. } => "pick by emptiness",
            Entry::Switch(..) => "switch table",
            Entry::ShortSwitch(..) => "switch table (short keys beside their results)",
            Entry::Decide => "decisions",
            Entry::Chain(c) => match self.chains.get(c.get()).and_then(|c| c.flat.as_ref()) {
                Some(_) => "flat string chain",
                None => "string chain",
            },
            Entry::Filter(..) => "character filter",
            Entry::Transform(_, op) => match op {
                chain::Unary::ToUpper => "text transform (ToUpper)",
                chain::Unary::ToLower => "text transform (ToLower)",
                chain::Unary::Trim => "text transform (Trim)",
                chain::Unary::StripSpaces => "text transform (StripSpaces)",
                chain::Unary::NormalizeDiacritics => "text transform (NormalizeDiacritics)",
                chain::Unary::Filter(_) | chain::Unary::Left(_) => "text transform",
            },
            Entry::Date(..) => "date format (FormatDateTime)",
            Entry::Call(..) => "direct call",
            Entry::Ignoring(_) => "ignore-if-empty around a direct path",
        };
        let _ = writeln!(out, "; entry: {entry}");
        for (pc, op) in self.code.iter().enumerate() {
            let text = match op {
                Op::Const(c) if self.redacted.get(c.get()).copied().unwrap_or(false) => {
                    "const     [Redact]".to_owned()
                }
                Op::Const(c) => format!("const     {}", show_const(self.consts.get(c.get()))),
                Op::Attr(s) => format!(
                    "attr      #{} [{}]",
                    s.0,
                    self.attributes.get(s.get()).map_or("?", String::as_str)
                ),
                Op::Call(c) => match self.calls.get(c.get()) {
                    Some(site) => {
                        let src = if self.redacted.iter().any(|r| *r) {
                            "…"
                        } else {
                            site.span.text(&self.source)
                        };
                        format!(
                            "call      {}/{}{}   ; {}",
                            site.spec.name,
                            site.argc,
                            if site.site.is_some() {
                                " +prepared"
                            } else {
                                ""
                            },
                            crate::value::truncate_for_message(src)
                        )
                    }
                    None => "call      ?".to_owned(),
                },
                Op::Concat(n) => format!("concat    {n}"),
                Op::Cmp(op) => format!("cmp       {}", op.as_str()),
                Op::JumpIfFalse(t) => format!("jfalse    @{}", t.0),
                Op::Jump(t) => format!("jump      @{}", t.0),
                Op::SwitchTable(t) => match self.tables.get(t.get()) {
                    Some(table) => {
                        let keys: Vec<String> = table
                            .keys
                            .iter()
                            .map(|(k, c)| format!("{k:?}=>@{}", c.0))
                            .collect();
                        format!(
                            "switch    {{{}}} default @{}{}",
                            keys.join(", "),
                            table.default.0,
                            if table.index.is_some() {
                                " (hashed)"
                            } else {
                                ""
                            }
                        )
                    }
                    None => "switch    ?".to_owned(),
                },
                Op::SwitchKeyEq(t) => format!("keyeq     @{}", t.0),
                Op::SwitchSource => "switchsrc".to_owned(),
                Op::Pop => "pop".to_owned(),
                Op::JumpIfNotNull(t) => format!("jnotnull  @{}", t.0),
                Op::UniqueOrNext(t) => format!("unique    @{}", t.0),
                Op::FailNoUnique => "fail      no-unique-value".to_owned(),
                Op::IgnoreIfEmpty => "ignoreifempty".to_owned(),
                Op::Return => "return".to_owned(),
                Op::ReturnConst(c) if self.redacted.get(c.get()).copied().unwrap_or(false) => {
                    "return    [Redact]".to_owned()
                }
                Op::ReturnConst(c) => format!("return    {}", show_const(self.consts.get(c.get()))),
                Op::ReturnAttr(s) => format!(
                    "return    #{} [{}]",
                    s.0,
                    self.attributes.get(s.get()).map_or("?", String::as_str)
                ),
                Op::JumpUnlessAttrEq {
                    slot,
                    konst,
                    target,
                    ne,
                } => format!(
                    "jattrne   #{} [{}] {} {} else @{}",
                    slot.0,
                    self.attributes.get(slot.get()).map_or("?", String::as_str),
                    if *ne { "<>" } else { "=" },
                    show_const(self.consts.get(konst.get())),
                    target.0
                ),
                Op::ChainGuard(c) => match self.chains.get(c.get()) {
                    Some(ch) => format!("chainguard else @{}", ch.fallback.0),
                    None => "chainguard ?".to_owned(),
                },
                Op::LeafGuard(c, k) => match self.chains.get(c.get()) {
                    Some(ch) => format!("leafguard {k} else @{}", ch.fallback.0),
                    None => "leafguard ?".to_owned(),
                },
                Op::StrChain(c) => match self.chains.get(c.get()) {
                    Some(ch) => format!(
                        "strchain  {} nodes, else fall through; end @{}",
                        ch.nodes.len(),
                        ch.end.0
                    ),
                    None => "strchain  ?".to_owned(),
                },
                Op::SwitchAttr(slot, t) => format!(
                    "switchattr #{} [{}] table {}",
                    slot.0,
                    self.attributes.get(slot.get()).map_or("?", String::as_str),
                    t.0
                ),
            };
            let _ = writeln!(out, "{pc:4}  {text}");
        }
        out
    }
}

fn show_const(v: Option<&Value<'static>>) -> String {
    match v {
        Some(Value::Str(s)) => format!("{:?}", crate::value::truncate_for_message(s)),
        Some(Value::Null) => "Null".to_owned(),
        Some(v) => v.to_string(),
        None => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pass-throughs and constants (also folded ones) are recognised; anything that computes
    /// is not.
    #[test]
    fn simple_programs() {
        let simple = |e: &str| crate::compile(e).unwrap().simple();
        assert_eq!(simple("[mail]"), Some(Simple::Attr(0)));
        assert_eq!(
            simple(r#""Workday""#),
            Some(Simple::Const(Value::str("Workday")))
        );
        assert_eq!(
            simple(r#"Join(".", "a", "b")"#),
            Some(Simple::Const(Value::str("a.b")))
        );
        assert_eq!(simple("ToUpper([mail])"), None);
        assert_eq!(simple(r#"IIF([a] = "x", [b], [c])"#), None);
    }

    /// Short keys agree with string equality; long strings have none.
    #[test]
    fn short_keys_are_string_equality() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "aa",
            "aba",
            "abb",
            "US",
            "SE",
            "AU",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "abcdefgh",
            "abcdefgi",
            "0123456789abcdef",
            "0123456789abcdeF",
            "é",
            "ÅÄ",
        ];
        for x in words {
            for y in words {
                let (kx, ky) = (ShortKey::of(x.as_bytes()), ShortKey::of(y.as_bytes()));
                assert_eq!(kx.unwrap().same(&ky.unwrap()), x == y, "{x:?} vs {y:?}");
            }
        }
        assert!(ShortKey::of(b"0123456789abcdefg").is_none());
    }

    proptest! {
        #[test]
        fn short_keys_decide_like_strings(a in proptest::collection::vec(0u8..4, 0..18),
                                          b in proptest::collection::vec(0u8..4, 0..18)) {
            match (ShortKey::of(&a), ShortKey::of(&b)) {
                (Some(x), Some(y)) => prop_assert_eq!(x.same(&y), a == b),
                (x, y) => {
                    prop_assert_eq!(x.is_none(), a.len() > 16);
                    prop_assert_eq!(y.is_none(), b.len() > 16);
                }
            }
        }

        /// The table as built (short keys, or a hash beyond 8 keys) and the plain scan pick the same block as a first-match search.
        #[test]
        fn switch_lookup_is_first_match(keys in proptest::collection::vec("[ab]{0,3}|[ab]{15,18}", 0..12),
                                        probe in "[ab]{0,3}|[ab]{15,18}") {
            let mut firsts: Vec<(String, CodeIdx)> = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                if !firsts.iter().any(|(f, _)| f == k) {
                    firsts.push((k.clone(), CodeIdx(i as u32)));
                }
            }
            let expected = firsts
                .iter()
                .find(|(k, _)| *k == probe)
                .map_or(CodeIdx(99), |(_, c)| *c);
            let table = SwitchTable::new(firsts.clone(), CodeIdx(99));
            prop_assert_eq!(table.lookup(&probe), expected);
            let scan = SwitchTable { short: None, index: None, ..SwitchTable::new(firsts, CodeIdx(99)) };
            prop_assert_eq!(scan.lookup(&probe), expected);
        }
    }
}
