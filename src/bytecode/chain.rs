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
}

/// One node of a chain; children are indices into `Chain::nodes`.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// An attribute.
    Attr(SlotIdx),
    /// Constant text.
    Text(String),
    /// `Join(sep, children…)`: Null and `""` pieces are skipped; never Null.
    Join(String, Vec<u32>),
    /// `Append(a, b)` and `a & b & …`: Null counts as `""`; never Null.
    Concat(Vec<u32>),
    /// A transform of one child; Null stays Null.
    Unary(Unary, u32),
}

/// A compiled chain.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The nodes; the root is the last.
    pub nodes: Vec<Node>,
    /// Where the generic code of the same expression ends (the chain jumps there).
    pub end: CodeIdx,
}

/// Why a chain could not produce the value itself.
#[derive(Debug)]
pub struct Bail;

impl Chain {
    /// An upper estimate of the built length, so the output buffer is allocated once: the
    /// constants, the attributes' texts and every separator, plus slack for transforms that
    /// grow text (`ß` → `ss`).
    pub fn capacity_hint<'v>(&self, attr: &dyn Fn(SlotIdx) -> Value<'v>) -> usize {
        let mut n = 8;
        for node in &self.nodes {
            n += match node {
                Node::Text(t) => t.len(),
                Node::Attr(slot) => match attr(*slot) {
                    Value::Str(s) => s.len(),
                    Value::Null => 0,
                    _ => 32,
                },
                Node::Join(sep, children) => sep.len() * children.len().saturating_sub(1),
                Node::Concat(_) | Node::Unary(..) => 0,
            };
        }
        n
    }

    /// Evaluates the chain into `buf` (which must be empty). `Ok(false)` means Null.
    pub fn eval<'v>(
        &self,
        attr: &dyn Fn(SlotIdx) -> Value<'v>,
        buf: &mut String,
        scratch: &mut String,
    ) -> Result<bool, Bail> {
        let root = self.nodes.len().checked_sub(1).ok_or(Bail)? as u32;
        self.node(root, attr, buf, scratch)
    }

    fn node<'v>(
        &self,
        i: u32,
        attr: &dyn Fn(SlotIdx) -> Value<'v>,
        buf: &mut String,
        scratch: &mut String,
    ) -> Result<bool, Bail> {
        match self.nodes.get(i as usize).ok_or(Bail)? {
            Node::Text(t) => {
                buf.push_str(t);
                Ok(true)
            }
            Node::Attr(slot) => match attr(*slot) {
                Value::Null => Ok(false),
                Value::Str(s) => {
                    buf.push_str(&s);
                    Ok(true)
                }
                v @ (Value::Int(_) | Value::Bool(_) | Value::Date(_)) => {
                    use std::fmt::Write as _;
                    let _ = write!(buf, "{}", v.render_scalar());
                    Ok(true)
                }
                _ => Err(Bail),
            },
            Node::Join(sep, children) => {
                let mut any = false;
                for &c in children {
                    let before = buf.len();
                    if any {
                        buf.push_str(sep);
                    }
                    let start = buf.len();
                    let present = self.node(c, attr, buf, scratch)?;
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
                    self.node(c, attr, buf, scratch)?;
                }
                Ok(true)
            }
            Node::Unary(op, c) => {
                let start = buf.len();
                if !self.node(*c, attr, buf, scratch)? {
                    return Ok(false);
                }
                apply(*op, buf, start, scratch);
                Ok(true)
            }
        }
    }
}

/// Applies a transform to `buf[start..]` in place; `scratch` holds the new tail when its
/// length changes (both buffers are recycled, so this allocates nothing in steady state except
/// for non-ASCII case mapping and diacritics, which build their result).
fn apply(op: Unary, buf: &mut String, start: usize, scratch: &mut String) {
    let Some(tail) = buf.get_mut(start..) else {
        return;
    };
    let owned: String = match op {
        Unary::ToLower if tail.is_ascii() => return tail.make_ascii_lowercase(),
        Unary::ToUpper if tail.is_ascii() => return tail.make_ascii_uppercase(),
        Unary::NormalizeDiacritics if tail.is_ascii() => return,
        Unary::StripSpaces => {
            if !tail.contains(' ') {
                return;
            }
            scratch.clear();
            scratch.extend(tail.chars().filter(|c| *c != ' '));
            buf.truncate(start);
            buf.push_str(scratch);
            return;
        }
        Unary::Trim => {
            let t = tail.trim_matches(char::is_whitespace);
            if t.len() == tail.len() {
                return;
            }
            scratch.clear();
            scratch.push_str(t);
            buf.truncate(start);
            buf.push_str(scratch);
            return;
        }
        Unary::ToLower => match case::to_lower(tail, CaseRules::Invariant) {
            Cow::Borrowed(_) => return,
            Cow::Owned(s) => s,
        },
        Unary::ToUpper => match case::to_upper(tail, CaseRules::Invariant) {
            Cow::Borrowed(_) => return,
            Cow::Owned(s) => s,
        },
        Unary::NormalizeDiacritics => match diacritics::normalize(tail) {
            Cow::Borrowed(_) => return,
            Cow::Owned(s) => s,
        },
    };
    buf.truncate(start);
    buf.push_str(&owned);
}
