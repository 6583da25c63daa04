//! Fused string building: a tree of Join/Append/`&`/StripSpaces/NormalizeDiacritics/ToLower/
//! ToUpper/Trim over attributes and constants, evaluated into ONE buffer.
//!
//! The generic path builds every intermediate string separately; a chain writes each piece
//! once, at the end of a single buffer, and applies the unary transforms to the tail in place.
//! A steady-state evaluation of `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",
//! [givenName], [surname]))), "contoso.com"))` therefore allocates only its output.
//!
//! A chain handles single values only. When an attribute turns out to be multi-valued (or
//! anything but text, an integer, a Boolean, a date or Null) it *bails out*, and the VM runs
//! the generic code of the same expression, which follows right after the `StrChain` op; so
//! every semantic corner (multi-valued mapping, errors) stays in one place.

use std::borrow::Cow;

use super::{CodeIdx, SlotIdx};
use crate::text::case::{self, CaseRules};
use crate::text::diacritics;
use crate::value::Value;

/// A unary text transform that maps Null to Null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    /// `StripSpaces`.
    StripSpaces,
    /// `NormalizeDiacritics`.
    NormalizeDiacritics,
    /// `ToLower` (invariant).
    ToLower,
    /// `ToUpper` (invariant).
    ToUpper,
    /// `Trim`.
    Trim,
    /// `Replace(x, , "[class]+", , "", , )`: delete the characters of a class; the index of
    /// the filter in `Chain::filters`.
    Filter(u32),
    /// `Left(x, n)` with a constant `n`; unlike the others, Null gives `""`.
    Left(i64),
}

impl Unary {
    /// The transform a one-argument call of `name` is (without a culture, ToLower and
    /// ToUpper are invariant): shared by the chain compiler and the VM's transform entry.
    pub fn of_name(name: &str) -> Option<Unary> {
        Some(match name {
            "StripSpaces" => Unary::StripSpaces,
            "NormalizeDiacritics" => Unary::NormalizeDiacritics,
            "ToLower" => Unary::ToLower,
            "ToUpper" => Unary::ToUpper,
            "Trim" => Unary::Trim,
            _ => return None,
        })
    }

    /// The transform of a whole text: what the function of the same name returns for a
    /// text argument, as `s` itself, a part of it, or built into `out` (empty; its buffer
    /// is taken from the thread's spare ones only when something is built). `None` for
    /// `Filter` and `Left`, which need their data.
    pub fn apply_into<'s>(self, s: &'s str, out: &mut String) -> Option<Applied<'s>> {
        let built = |changed: bool| {
            if changed {
                Applied::Built
            } else {
                Applied::Same
            }
        };
        // Other text under a case mapping: the function's own result, moved in.
        let owned = |out: &mut String, c: Cow<'_, str>| match c {
            Cow::Borrowed(_) => Applied::Same,
            Cow::Owned(o) => {
                *out = o;
                Applied::Built
            }
        };
        Some(match self {
            Unary::StripSpaces => built(crate::text::strip_spaces_into(s, out)),
            Unary::NormalizeDiacritics => built(diacritics::normalize_to(s, out)),
            Unary::ToLower | Unary::ToUpper if s.is_ascii() => {
                built(case::ascii_case_into(s, self == Unary::ToUpper, out))
            }
            Unary::ToLower => owned(out, case::to_lower(s, CaseRules::Invariant)),
            Unary::ToUpper => owned(out, case::to_upper(s, CaseRules::Invariant)),
            Unary::Trim => {
                let t = crate::text::trim(s);
                if t.len() == s.len() {
                    Applied::Same
                } else {
                    Applied::Part(t)
                }
            }
            Unary::Filter(_) | Unary::Left(_) => return None,
        })
    }
}

/// What a transform made of a text (see [`Unary::apply_into`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied<'s> {
    /// The text itself.
    Same,
    /// A part of it (Trim).
    Part(&'s str),
    /// A new text, in the output buffer.
    Built,
}

/// One node of a chain; children are indices into `Chain::nodes`. `repr(u8)`: the kind is
/// a plain byte read by the walk's dispatch, not a niche decoded out of a string's capacity.
#[derive(Clone, Debug, PartialEq)]
#[repr(u8)]
pub enum Node {
    /// An attribute.
    Attr(SlotIdx),
    /// Constant text.
    Text(String),
    /// `Join(sep, children…)`: Null and `""` pieces are skipped; never Null.
    Join(String, Vec<u32>),
    /// `Append(a, b)` and `a & b & …`: Null counts as `""`; never Null.
    Concat(Vec<u32>),
    /// A transform of one child; Null stays Null (except `Left`).
    Unary(Unary, u32),
    /// `Switch([a], default, key, value, …)` over constant keys whose default and values are
    /// attributes or text (children), such as `Switch([PreferredFirstName],
    /// [PreferredFirstName], "", [FirstName])`: only the chosen child is written.
    Switch {
        /// The source attribute.
        src: SlotIdx,
        /// The rendered keys and their children, in source order (the first equal key wins).
        keys: Vec<(String, u32)>,
        /// The default's child.
        default: u32,
    },
    /// A value the generic code computed just before the chain (the `k`-th of
    /// `Chain::pushed`): any pure subexpression the chain does not fuse itself (a Switch, an
    /// IIF, a Mid…).
    Pushed(u32),
}

/// A compiled chain.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The nodes; the root is the last.
    pub nodes: Vec<Node>,
    /// Where the generic code of the same expression ends (the chain jumps there).
    pub end: CodeIdx,
    /// Character filters of `Unary::Filter` nodes.
    pub filters: Vec<crate::text::regex_dotnet::CharFilter>,
    /// How many values the code before the chain pushed for `Node::Pushed` leaves.
    pub pushed: u32,
    /// Where the generic code of the expression starts (the `ChainGuard` jumps there).
    pub fallback: CodeIdx,
    /// The same chain as a flat list of pieces, when it is one Join or concatenation of
    /// attributes and constant text (see [`Flat`]).
    pub flat: Option<Flat>,
    /// What [`Chain::capacity_hint`] adds up, found once at compile time.
    pub sizes: Sizes,
    /// The chain with its transforms folded into byte tables, for ASCII input (see
    /// [`super::ascii`]); only for chains that [`Chain::gather`] reads.
    pub ascii: Option<super::ascii::AsciiPlan>,
}

/// The parts of a chain's length known at compile time, and the attributes whose lengths
/// are added at run time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sizes {
    /// Constant text, separators, and slack for transforms that grow text (`ß` → `ss`).
    pub fixed: usize,
    /// The attributes the chain reads itself, one entry per node.
    pub attrs: Vec<SlotIdx>,
    /// Every constant text and separator is ASCII: with ASCII attributes the whole result
    /// is ASCII, and the transforms take their ASCII forms (see [`Gathered`]).
    pub ascii: bool,
}

impl Sizes {
    /// The sizes of a chain's nodes.
    pub fn of(nodes: &[Node]) -> Sizes {
        let mut sizes = Sizes {
            fixed: 8,
            attrs: Vec::new(),
            ascii: true,
        };
        for node in nodes {
            match node {
                Node::Text(t) => {
                    sizes.fixed += t.len();
                    sizes.ascii &= t.is_ascii();
                }
                Node::Attr(slot) => sizes.attrs.push(*slot),
                Node::Join(sep, children) => {
                    sizes.fixed += sep.len() * children.len().saturating_sub(1);
                    sizes.ascii &= sep.is_ascii();
                }
                Node::Pushed(_) | Node::Concat(_) | Node::Unary(..) | Node::Switch { .. } => {}
            }
        }
        sizes
    }
}

/// A chain that is one `Join`, `Append` or `&` over attributes and constant text only —
/// `Append([sAMAccountName], "@contoso.com")`, `Join(" ", [givenName], [sn])` — the most
/// common string mapping. It is built without walking the node tree: one pass sums the
/// lengths, one pass copies, into a buffer of exactly the right size.
#[derive(Clone, Debug, PartialEq)]
pub struct Flat {
    /// `Some(separator)` for a Join (Null and `""` pieces are skipped with their separator);
    /// `None` for a concatenation (Null counts as `""`).
    pub sep: Option<String>,
    /// The pieces, at most [`Flat::MAX`].
    pub pieces: Vec<Piece>,
}

/// A piece of a [`Flat`] chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Constant text.
    Text(String),
    /// An attribute.
    Attr(SlotIdx),
}

impl Flat {
    /// The most pieces a flat chain holds (their texts are gathered on the stack).
    pub const MAX: usize = 8;

    /// The flat form of a chain's nodes, when the root is a Join or concatenation whose
    /// children are all attributes or text.
    pub fn of(nodes: &[Node]) -> Option<Flat> {
        let (sep, children) = match nodes.last()? {
            Node::Join(sep, c) => (Some(sep.clone()), c),
            Node::Concat(c) => (None, c),
            _ => return None,
        };
        if children.len() > Flat::MAX {
            return None;
        }
        let pieces = children
            .iter()
            .map(|&c| match nodes.get(c as usize)? {
                Node::Attr(slot) => Some(Piece::Attr(*slot)),
                Node::Text(t) => Some(Piece::Text(t.clone())),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Flat { sep, pieces })
    }

    /// Builds the string into `out` (empty; a spare buffer of the exact length is taken).
    /// False when an attribute is anything but borrowed text or Null (a number to render, a
    /// list, a value the record built): the node walk handles those.
    pub fn eval_into<'v>(&'v self, attr: &impl Fn(SlotIdx) -> Value<'v>, out: &mut String) -> bool {
        self.texts(attr).is_some_and(|(texts, count, len)| {
            let sep = self.sep.as_deref().unwrap_or("");
            let len = len + sep.len() * count.saturating_sub(1);
            *out = crate::value::buffers::take(len);
            for (i, t) in texts.iter().take(count).enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                out.push_str(t);
            }
            true
        })
    }

    /// The pieces' texts without the empty ones (at most [`Flat::MAX`]), their count and
    /// total length; `None` when an attribute is anything but borrowed text or Null.
    #[inline(always)]
    fn texts<'v>(
        &'v self,
        attr: &impl Fn(SlotIdx) -> Value<'v>,
    ) -> Option<([&'v str; Flat::MAX], usize, usize)> {
        let mut texts: [&'v str; Flat::MAX] = [""; Flat::MAX];
        let mut len = 0usize;
        let mut count = 0usize;
        for p in &self.pieces {
            let t: &'v str = match p {
                Piece::Text(t) => t,
                Piece::Attr(slot) => {
                    let v = attr(*slot);
                    let t = match &v {
                        Value::Str(Cow::Borrowed(t)) => Some(*t),
                        Value::Null => Some(""),
                        _ => None,
                    };
                    // Borrowed text and Null own nothing: no call into the drop glue.
                    v.release();
                    t?
                }
            };
            // A Join skips empty pieces; a concatenation may as well (they add nothing).
            if !t.is_empty() {
                *texts.get_mut(count)? = t;
                count += 1;
                len += t.len();
            }
        }
        Some((texts, count, len))
    }
}

impl Chain {
    /// True when every attribute the chain reads itself (not through a leaf) is a single
    /// value. Checked before the leaves are computed: the generic code's calls could fail
    /// only on a multi-valued attribute, and such a failure must come before any leaf's, as
    /// in the generic evaluation order.
    pub fn attrs_are_single<'v>(&self, attr: &impl Fn(SlotIdx) -> Value<'v>) -> bool {
        self.nodes.iter().all(|n| match n {
            Node::Attr(slot) | Node::Switch { src: slot, .. } => {
                !matches!(attr(*slot), Value::Multi(_) | Value::Role(_))
            }
            _ => true,
        })
    }
}

/// Why a chain could not produce the value itself.
#[derive(Debug)]
pub struct Bail;

impl Chain {
    /// An upper estimate of the built length, so the output buffer is allocated once: the
    /// constants, the attributes' texts and every separator, plus slack for transforms that
    /// grow text (`ß` → `ss`).
    pub fn capacity_hint<'v>(
        &self,
        attr: &impl Fn(SlotIdx) -> Value<'v>,
        pushed: &[Value<'_>],
    ) -> usize {
        let mut n = self.sizes.fixed;
        for slot in &self.sizes.attrs {
            let v = attr(*slot);
            n += match &v {
                Value::Str(s) => s.len(),
                Value::Null => 0,
                _ => 32,
            };
            v.release();
        }
        for v in pushed {
            n += match v {
                Value::Str(s) => s.len(),
                _ => 32,
            };
        }
        n
    }

    /// Evaluates the chain into `buf` (which must be empty). `Ok(false)` means Null.
    /// `gathered`: the attributes [`Chain::gather`] read (only without pushed values);
    /// `attr` still serves what is not written, such as a Switch's source.
    pub fn eval<'v, F: Fn(SlotIdx) -> Value<'v>>(
        &self,
        attr: &F,
        pushed: &[Value<'_>],
        gathered: Option<&Gathered<'v>>,
        buf: &mut String,
        scratch: &mut String,
    ) -> Result<bool, Bail> {
        let root = self.nodes.len().checked_sub(1).ok_or(Bail)? as u32;
        let cx = Cx {
            attr,
            pushed,
            texts: gathered.map(|g| &g.texts),
            ascii: gathered.is_some_and(|g| g.ascii),
        };
        self.node(root, &cx, buf, scratch)
    }

    /// Reads every attribute the chain writes, once, before building: their texts (by node)
    /// and the exact capacity, instead of one read to size the buffer and another to write.
    /// `None` (the caller then uses [`Chain::capacity_hint`] and [`Chain::eval`]) for a
    /// chain of more than [`GATHER`] nodes, or an attribute that is not borrowed text or
    /// Null (a number to render, a list to bail out on, a value the record built).
    #[inline]
    pub fn gather<'v>(
        &self,
        attr: &impl Fn(SlotIdx) -> Value<'v>,
        g: &mut Gathered<'v>,
    ) -> Option<()> {
        if self.nodes.len() > GATHER {
            return None;
        }
        g.capacity = self.sizes.fixed;
        g.ascii = self.sizes.ascii;
        for (node, text) in self.nodes.iter().zip(g.texts.iter_mut()) {
            if let Node::Attr(slot) = node {
                let v = attr(*slot);
                let t = match &v {
                    Value::Str(Cow::Borrowed(t)) => Some(*t),
                    Value::Null => None,
                    _ => {
                        v.release();
                        return None;
                    }
                };
                v.release();
                if let Some(t) = t {
                    g.capacity += t.len();
                    g.ascii &= t.is_ascii();
                }
                *text = t;
            }
        }
        Some(())
    }

    /// A Join's or concatenation's child: attributes and text (most children) are written
    /// here, without a recursive call.
    #[inline(always)]
    fn child<'v, F: Fn(SlotIdx) -> Value<'v>>(
        &self,
        i: u32,
        cx: &Cx<'_, '_, 'v, F>,
        buf: &mut String,
        scratch: &mut String,
    ) -> Result<bool, Bail> {
        match self.nodes.get(i as usize) {
            Some(Node::Text(t)) => {
                buf.push_str(t);
                Ok(true)
            }
            Some(Node::Attr(slot)) => attr_leaf(cx, i, *slot, buf),
            _ => self.node(i, cx, buf, scratch),
        }
    }

    fn node<'v, F: Fn(SlotIdx) -> Value<'v>>(
        &self,
        i: u32,
        cx: &Cx<'_, '_, 'v, F>,
        buf: &mut String,
        scratch: &mut String,
    ) -> Result<bool, Bail> {
        match self.nodes.get(i as usize).ok_or(Bail)? {
            Node::Text(t) => {
                buf.push_str(t);
                Ok(true)
            }
            Node::Attr(slot) => attr_leaf(cx, i, *slot, buf),
            Node::Pushed(k) => leaf(cx.pushed.get(*k as usize).ok_or(Bail)?, buf),
            Node::Switch { src, keys, default } => {
                let v = (cx.attr)(*src);
                let pick = |text: &str| {
                    keys.iter()
                        .find(|(k, _)| k == text)
                        .map_or(*default, |(_, c)| *c)
                };
                let child = match &v {
                    Value::Null => pick(""),
                    Value::Str(s) => pick(s),
                    Value::Int(_) | Value::Bool(_) | Value::Date(_) => pick(&v.render_scalar()),
                    // A list: the generic code reports it (or maps it) in its own order.
                    _ => {
                        v.release();
                        return Err(Bail);
                    }
                };
                v.release();
                self.node(child, cx, buf, scratch)
            }
            Node::Join(sep, children) => {
                let mut any = false;
                for &c in children {
                    let before = buf.len();
                    if any {
                        buf.push_str(sep);
                    }
                    let start = buf.len();
                    let present = self.child(c, cx, buf, scratch)?;
                    if !present || buf.len() == start {
                        // A Null or empty piece contributes nothing, not even its separator.
                        buf.truncate(before);
                    } else {
                        any = true;
                    }
                }
                Ok(true)
            }
            Node::Concat(children) => {
                for &c in children {
                    self.child(c, cx, buf, scratch)?;
                }
                Ok(true)
            }
            Node::Unary(op, c) => {
                let start = buf.len();
                if !self.node(*c, cx, buf, scratch)? {
                    // Left of Null is "", every other transform keeps Null.
                    return Ok(matches!(op, Unary::Left(_)));
                }
                match op {
                    Unary::Filter(f) => {
                        let filter = self.filters.get(*f as usize).ok_or(Bail)?;
                        let Some(tail) = buf.get(start..) else {
                            return Err(Bail);
                        };
                        if let Cow::Owned(kept) = filter.remove(tail) {
                            buf.truncate(start);
                            buf.push_str(&kept);
                        }
                    }
                    Unary::Left(n) => {
                        let Some(tail) = buf.get(start..) else {
                            return Err(Bail);
                        };
                        let keep = match usize::try_from(*n) {
                            // 0 keeps nothing; negative keeps everything (spec, Left).
                            Ok(n) => crate::text::utf16::left(tail, n).len(),
                            Err(_) => tail.len(),
                        };
                        buf.truncate(start + keep);
                    }
                    op => apply(*op, buf, start, scratch, cx.ascii),
                }
                Ok(true)
            }
        }
    }
}

/// Chains of at most this many nodes read their attributes up front ([`Chain::gather`]).
pub const GATHER: usize = 8;

/// The attributes of a chain, read once: [`Chain::gather`] fills it (it lives in the
/// caller's frame: it is never moved).
#[derive(Default)]
pub struct Gathered<'v> {
    /// By node index: the text of each attribute node (`None` for Null and other nodes).
    texts: [Option<&'v str>; GATHER],
    /// The exact length of the pieces, plus slack for transforms that grow text.
    pub capacity: usize,
    /// Every attribute, constant and separator is ASCII.
    ascii: bool,
}

impl<'v> Gathered<'v> {
    /// The texts read, by chain node.
    pub fn texts(&self) -> &[Option<&'v str>] {
        &self.texts
    }

    /// Every text read, constant and separator is ASCII.
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }
}

/// What a chain reads: attributes and the values pushed before it, or the gathered texts.
struct Cx<'a, 'p, 'v, F> {
    attr: &'a F,
    pushed: &'a [Value<'p>],
    /// The gathered attribute texts, by node index.
    texts: Option<&'a [Option<&'v str>; GATHER]>,
    /// Everything written is ASCII (only with gathered texts): each transform takes its
    /// ASCII form (NormalizeDiacritics is then the identity).
    ascii: bool,
}

/// Appends the text of attribute node `i` (see [`leaf`]).
#[inline(always)]
fn attr_leaf<'v, F: Fn(SlotIdx) -> Value<'v>>(
    cx: &Cx<'_, '_, 'v, F>,
    i: u32,
    slot: SlotIdx,
    buf: &mut String,
) -> Result<bool, Bail> {
    if let Some(texts) = cx.texts {
        return Ok(match texts.get(i as usize).copied().flatten() {
            Some(t) => {
                buf.push_str(t);
                true
            }
            None => false,
        });
    }
    let v = (cx.attr)(slot);
    let r = leaf(&v, buf);
    v.release();
    r
}

/// Appends a leaf value's text; `Ok(false)` for Null; a list bails out. Inlined for text
/// and Null (nearly every leaf); the rendering of other scalars is out of line.
#[inline(always)]
fn leaf(v: &Value<'_>, buf: &mut String) -> Result<bool, Bail> {
    match v {
        Value::Null => Ok(false),
        Value::Str(s) => {
            buf.push_str(s);
            Ok(true)
        }
        v => scalar_leaf(v, buf),
    }
}

/// [`leaf`] for integers, Booleans and dates (rendered); a list bails out.
#[inline(never)]
fn scalar_leaf(v: &Value<'_>, buf: &mut String) -> Result<bool, Bail> {
    match v {
        Value::Int(_) | Value::Bool(_) | Value::Date(_) => {
            use std::fmt::Write as _;
            let _ = write!(buf, "{}", v.render_scalar());
            Ok(true)
        }
        _ => Err(Bail),
    }
}

/// Applies a transform to `buf[start..]` in place; `scratch` holds the new tail when its
/// length changes (both buffers are recycled, so this allocates nothing in steady state except
/// for non-ASCII case mapping and diacritics, which build their result).
fn apply(op: Unary, buf: &mut String, start: usize, scratch: &mut String, ascii: bool) {
    let Some(tail) = buf.get_mut(start..) else {
        return;
    };
    scratch.clear();
    let changed = match op {
        // Known ASCII: no check, and no diacritics to remove.
        Unary::ToLower if ascii => {
            tail.make_ascii_lowercase();
            false
        }
        Unary::ToUpper if ascii => {
            tail.make_ascii_uppercase();
            false
        }
        Unary::NormalizeDiacritics if ascii => false,
        Unary::ToLower if tail.is_ascii() => {
            tail.make_ascii_lowercase();
            false
        }
        Unary::ToUpper if tail.is_ascii() => {
            tail.make_ascii_uppercase();
            false
        }
        Unary::ToLower | Unary::ToUpper => {
            // Simple case mapping is one code point to one code point: map into scratch.
            let mut changed = false;
            for c in tail.chars() {
                let m = if op == Unary::ToLower {
                    case::lower_char(c, CaseRules::Invariant)
                } else {
                    case::upper_char(c, CaseRules::Invariant)
                };
                changed |= m != c;
                scratch.push(m);
            }
            changed
        }
        Unary::NormalizeDiacritics => diacritics::normalize_into(tail, scratch),
        Unary::StripSpaces if tail.contains(' ') => {
            scratch.extend(tail.chars().filter(|c| *c != ' '));
            true
        }
        Unary::Trim => {
            let t = crate::text::trim(tail);
            let changed = t.len() != tail.len();
            if changed {
                scratch.push_str(t);
            }
            changed
        }
        // StripSpaces without spaces; Filter and Left are applied by the caller.
        Unary::StripSpaces | Unary::Filter(_) | Unary::Left(_) => false,
    };
    if changed {
        buf.truncate(start);
        buf.push_str(scratch);
    }
}
