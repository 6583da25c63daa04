//! The ASCII form of a string chain: the chain's transforms folded into one byte table per
//! piece, so that building `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",
//! [givenName], [surname]))), "contoso.com"))` writes each name once, already stripped and
//! lower-cased, and visits two Joins instead of five nodes.
//!
//! On ASCII text every transform a chain fuses is a map of single bytes: ToLower and ToUpper
//! change letters, NormalizeDiacritics changes nothing, StripSpaces and a class deletion
//! delete bytes. A byte of the result comes from one piece (an attribute, a constant, a
//! separator) and has passed through exactly the transforms between that piece and the
//! root; composing them gives one table per piece (a byte → its image, or deleted).
//! Constants and separators are mapped once, here, at compile time.
//!
//! The subtle part is `Join`, which skips empty pieces *as they are at the Join*, before
//! the transforms above it. Written through the whole table, a piece can look empty only
//! because a transform above the Join deleted it: `StripSpaces(Join(".", " ", "x"))` is
//! `".x"`, not `"x"`. So each child of a Join (and of a concatenation, whose emptiness its
//! own parent may ask about) gets a rule, fixed at compile time:
//! - `Empty::Raw`: no deleting transform between the group and the child: a leaf is empty
//!   when its text is, a group when none of its children was present;
//! - `Empty::Written`: the transforms above the group delete nothing that the child's own
//!   transforms do not already delete, so nothing was written for the child exactly when
//!   the child is empty.
//!
//! A chain with a child that fits neither rule, a Switch, a pushed value, `Left` or `Trim`
//! (neither is a map of single bytes) has no ASCII plan and is built by the node walk.

use super::chain::{Node, Unary};
use crate::text::regex_dotnet::CharFilter;

/// A byte's image in a [`Table`]: deleted.
const DELETED: u8 = 0xFF;

/// A map of ASCII bytes: each byte's image, or [`DELETED`].
type Table = [u8; 128];

/// How the bytes of a piece are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Map {
    /// Copied as they are.
    Same,
    /// ASCII lower case (ToLower, possibly with NormalizeDiacritics).
    Lower,
    /// ASCII upper case.
    Upper,
    /// Through `AsciiPlan::tables[i]` (anything that deletes, or a mix of cases).
    Table(u16),
}

/// When a child of a group counts as empty (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Empty {
    /// By its own text (a leaf) or its children (a group), before the transforms above.
    Raw,
    /// By what was written for it.
    Written,
}

/// A node of the plan; children are indices into `AsciiPlan::nodes`.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    /// The gathered text of chain node `node` (an attribute), written through `map`.
    Attr { node: u32, map: Map },
    /// Constant text, already mapped; `raw_empty`: the constant itself was empty.
    Text { text: String, raw_empty: bool },
    /// A Join: the separator is already mapped.
    Join {
        sep: String,
        children: Vec<(u32, Empty)>,
    },
    /// A concatenation.
    Concat(Vec<(u32, Empty)>),
}

/// A chain's ASCII plan (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct AsciiPlan {
    steps: Vec<Step>,
    tables: Vec<Table>,
}

impl AsciiPlan {
    /// The plan of a chain's nodes (the root is the last), when every node can be lowered.
    pub fn of(nodes: &[Node], filters: &[CharFilter]) -> Option<AsciiPlan> {
        let root = u32::try_from(nodes.len().checked_sub(1)?).ok()?;
        let mut b = Builder {
            nodes,
            filters,
            plan: AsciiPlan {
                steps: Vec::new(),
                tables: Vec::new(),
            },
        };
        let (group, table) = b.strip(root)?;
        // A leaf root can be Null (a transform keeps Null); groups never are.
        if !matches!(nodes.get(group as usize)?, Node::Join(..) | Node::Concat(_)) {
            return None;
        }
        b.lower(group, &table)?;
        Some(b.plan)
    }

    /// Builds the chain into `buf` from the texts [`super::chain::Chain::gather`] read,
    /// by chain node (`None` for Null). Every text must be ASCII.
    pub fn eval(&self, texts: &[Option<&str>], buf: &mut String) -> Option<()> {
        let root = self.steps.len().checked_sub(1)?;
        self.step(root, texts, buf)?;
        Some(())
    }

    /// Writes step `i`; `Some(true)` when it is not empty by its own rule (`Empty::Raw`).
    fn step(&self, i: usize, texts: &[Option<&str>], buf: &mut String) -> Option<bool> {
        match self.steps.get(i)? {
            Step::Attr { .. } | Step::Text { .. } => self.child(i as u32, texts, buf),
            Step::Join { sep, children } => {
                let mut any = false;
                for &(c, empty) in children {
                    let before = buf.len();
                    if any {
                        buf.push_str(sep);
                    }
                    let start = buf.len();
                    let raw = self.child(c, texts, buf)?;
                    let present = match empty {
                        Empty::Raw => raw,
                        Empty::Written => buf.len() > start,
                    };
                    if present {
                        any = true;
                    } else {
                        // An empty piece contributes nothing, not even its separator.
                        buf.truncate(before);
                    }
                }
                Some(any)
            }
            Step::Concat(children) => {
                let mut any = false;
                for &(c, empty) in children {
                    let start = buf.len();
                    let raw = self.child(c, texts, buf)?;
                    any |= match empty {
                        Empty::Raw => raw,
                        Empty::Written => buf.len() > start,
                    };
                }
                Some(any)
            }
        }
    }

    /// A group's child: leaves are written here, without a call.
    #[inline(always)]
    fn child(&self, c: u32, texts: &[Option<&str>], buf: &mut String) -> Option<bool> {
        match self.steps.get(c as usize)? {
            Step::Attr { node, map } => {
                let t = texts.get(*node as usize)?.unwrap_or("");
                self.write(t, *map, buf);
                Some(!t.is_empty())
            }
            Step::Text { text, raw_empty } => {
                buf.push_str(text);
                Some(!raw_empty)
            }
            _ => self.step(c as usize, texts, buf),
        }
    }

    /// Appends `t` (ASCII) through `map`.
    #[inline(always)]
    fn write(&self, t: &str, map: Map, buf: &mut String) {
        match map {
            Map::Same => buf.push_str(t),
            Map::Lower => {
                let start = buf.len();
                buf.push_str(t);
                if let Some(tail) = buf.get_mut(start..) {
                    tail.make_ascii_lowercase();
                }
            }
            Map::Upper => {
                let start = buf.len();
                buf.push_str(t);
                if let Some(tail) = buf.get_mut(start..) {
                    tail.make_ascii_uppercase();
                }
            }
            Map::Table(k) => {
                let Some(table) = self.tables.get(usize::from(k)) else {
                    return;
                };
                for &b in t.as_bytes() {
                    // `& 0x7F` changes no ASCII byte; it bounds the index for the compiler.
                    let m = table[usize::from(b & 0x7F)];
                    if m != DELETED {
                        buf.push(char::from(m));
                    }
                }
            }
        }
    }
}

struct Builder<'a> {
    nodes: &'a [Node],
    filters: &'a [CharFilter],
    plan: AsciiPlan,
}

impl Builder<'_> {
    /// Skips the transforms from node `i` down to the first node that is not one; returns
    /// that node and the composed map of the transforms skipped (alone).
    fn strip(&self, mut i: u32) -> Option<(u32, Table)> {
        let mut table = IDENTITY;
        // From the top down: each transform met applies before the ones above it.
        while let Node::Unary(op, c) = self.nodes.get(i as usize)? {
            table = compose(&table, &self.op_table(*op)?);
            i = *c;
        }
        Some((i, table))
    }

    /// The byte map of one transform on ASCII, or `None` when it is not one.
    fn op_table(&self, op: Unary) -> Option<Table> {
        let mut t = [0u8; 128];
        for (b, out) in (0u8..).zip(t.iter_mut()) {
            *out = match op {
                Unary::ToLower => b.to_ascii_lowercase(),
                Unary::ToUpper => b.to_ascii_uppercase(),
                Unary::NormalizeDiacritics => b,
                Unary::StripSpaces if b == b' ' => DELETED,
                Unary::StripSpaces => b,
                Unary::Filter(f) => {
                    if self.filters.get(f as usize)?.contains(char::from(b)) {
                        DELETED
                    } else {
                        b
                    }
                }
                Unary::Trim | Unary::Left(_) => return None,
            };
        }
        Some(t)
    }

    /// Lowers node `i` (not a transform), whose bytes go through `table` (every transform
    /// above it); returns its step index.
    fn lower(&mut self, i: u32, table: &Table) -> Option<u32> {
        let step = match self.nodes.get(i as usize)? {
            Node::Attr(_) => Step::Attr {
                node: i,
                map: self.map(table)?,
            },
            Node::Text(t) => Step::Text {
                text: mapped(t, table)?,
                raw_empty: t.is_empty(),
            },
            Node::Join(sep, children) => Step::Join {
                sep: mapped(sep, table)?,
                children: self.children(children, table)?,
            },
            Node::Concat(children) => Step::Concat(self.children(children, table)?),
            Node::Unary(..) | Node::Switch { .. } | Node::Pushed(_) => return None,
        };
        self.plan.steps.push(step);
        u32::try_from(self.plan.steps.len() - 1).ok()
    }

    /// Lowers a group's children (the group's bytes go through `above`), each with the rule
    /// that decides its emptiness (see the module documentation).
    fn children(&mut self, children: &[u32], above: &Table) -> Option<Vec<(u32, Empty)>> {
        children
            .iter()
            .map(|&c| {
                let (inner, own) = self.strip(c)?;
                let rule = if own.iter().all(|&m| m != DELETED) {
                    Empty::Raw
                } else if own
                    .iter()
                    .all(|&m| m == DELETED || above[usize::from(m & 0x7F)] != DELETED)
                {
                    // What survives the child's own transforms survives the group's too.
                    Empty::Written
                } else {
                    return None;
                };
                let step = self.lower(inner, &compose(above, &own))?;
                Some((step, rule))
            })
            .collect()
    }

    /// How a piece whose bytes go through `table` is written.
    fn map(&mut self, table: &Table) -> Option<Map> {
        let same = |f: fn(u8) -> u8| (0u8..).zip(table).all(|(b, &m)| m == f(b));
        Some(if same(|b| b) {
            Map::Same
        } else if same(|b| b.to_ascii_lowercase()) {
            Map::Lower
        } else if same(|b| b.to_ascii_uppercase()) {
            Map::Upper
        } else {
            let k = match self.plan.tables.iter().position(|t| t == table) {
                Some(k) => k,
                None => {
                    self.plan.tables.push(*table);
                    self.plan.tables.len() - 1
                }
            };
            Map::Table(u16::try_from(k).ok()?)
        })
    }
}

/// The identity map.
const IDENTITY: Table = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = b as u8;
        b += 1;
    }
    t
};

/// `outer ∘ inner`: each byte through `inner`, then `outer`.
fn compose(outer: &Table, inner: &Table) -> Table {
    let mut t = [DELETED; 128];
    for (out, &m) in t.iter_mut().zip(inner) {
        if m != DELETED {
            *out = outer[usize::from(m & 0x7F)];
        }
    }
    t
}

/// Constant ASCII text through `table` (`None` for other text).
fn mapped(t: &str, table: &Table) -> Option<String> {
    if !t.is_ascii() {
        return None;
    }
    Some(
        t.bytes()
            .filter_map(|b| {
                let m = table[usize::from(b & 0x7F)];
                (m != DELETED).then_some(char::from(m))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::chain::Gathered;
    use crate::value::Value;

    /// Chains over three attributes: every fused transform (and Trim, which has no plan),
    /// Join with separators that transforms delete or keep, Append and `&`.
    fn expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("[a]".to_owned()),
            Just("[b]".to_owned()),
            Just("[c]".to_owned()),
            "[ a-zA-Z().-]{0,3}".prop_map(|t| format!("\"{t}\"")),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (
                    prop::sample::select(vec![
                        "ToLower",
                        "ToUpper",
                        "StripSpaces",
                        "NormalizeDiacritics",
                        "Trim",
                    ]),
                    inner.clone()
                )
                    .prop_map(|(f, x)| format!("{f}({x})")),
                inner
                    .clone()
                    .prop_map(|x| format!(r#"Replace({x}, , "[()\s-]+", , "", , )"#)),
                (
                    prop::sample::select(vec!["", ".", " ", "@", " - ", "A b"]),
                    prop::collection::vec(inner.clone(), 2..4)
                )
                    .prop_map(|(sep, xs)| format!("Join(\"{sep}\", {})", xs.join(", "))),
                (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("Append({x}, {y})")),
                (inner.clone(), inner).prop_map(|(x, y)| format!("{x} & {y}")),
            ]
        })
    }

    fn value() -> impl Strategy<Value = Option<String>> {
        prop::option::weighted(0.85, "[ a-zA-Z().-]{0,4}")
    }

    /// The plan builds exactly what the node walk builds, for every chain that has one
    /// (and enough generated chains have one for this to mean something).
    #[test]
    fn plan_builds_what_the_walk_builds() {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(3000));
        let planned = std::cell::Cell::new(0usize);
        let strategy = (expr(), value(), value(), value());
        let result = runner.run(&strategy, |(e, a, b, c)| {
            let Ok(program) = crate::compile(&e) else {
                return Ok(());
            };
            let values: Vec<Value<'_>> = program
                .attributes
                .iter()
                .map(|n| {
                    let v = match n.as_str() {
                        "a" => &a,
                        "b" => &b,
                        _ => &c,
                    };
                    v.as_deref().map_or(Value::Null, Value::str)
                })
                .collect();
            let attr = |slot: super::super::SlotIdx| {
                values.get(slot.get()).map_or(Value::Null, Value::reborrow)
            };
            for chain in &program.chains {
                let Some(plan) = &chain.ascii else { continue };
                let mut g = Gathered::default();
                prop_assert!(chain.gather(&attr, &mut g).is_some(), "{}", e);
                prop_assert!(g.is_ascii());
                let mut walked = String::new();
                let mut scratch = String::new();
                let present = chain
                    .eval(&attr, &[], Some(&g), &mut walked, &mut scratch)
                    .map_err(|_| TestCaseError::fail(format!("the walk bailed out on {e}")))?;
                prop_assert!(present, "a group is never Null: {}", e);
                let mut built = String::new();
                prop_assert!(plan.eval(g.texts(), &mut built).is_some());
                prop_assert_eq!(&built, &walked, "{} with a={:?} b={:?} c={:?}", e, a, b, c);
                planned.set(planned.get() + 1);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        assert!(
            planned.get() >= 1000,
            "only {} chains had a plan",
            planned.get()
        );
    }

    /// The flagship chains have a plan (the tests above would pass vacuously otherwise), and
    /// chains that need more than byte maps have none.
    #[test]
    fn which_chains_have_a_plan() {
        let has_plan = |e: &str| {
            let p = crate::compile(e).unwrap();
            p.chains.iter().any(|c| c.ascii.is_some())
        };
        for e in [
            r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [surname]))), "contoso.com"))"#,
            r#"ToLower(NormalizeDiacritics(StripSpaces(Join(".", [a], [b]))))"#,
            r#"ToUpper(Append([a], "x")) & "y""#,
            // Deleting below the Join: each child is empty by what was written.
            r#"Join(".", StripSpaces([a]), StripSpaces([b]))"#,
        ] {
            assert!(has_plan(e), "{e}");
        }
        for e in [
            // Trim is not a map of single bytes.
            r#"Trim(Join(".", [a], [b]))"#,
            // The first child's own deletion is not the one above the Join: written through
            // both, " " would look empty although the Join keeps it.
            r#"StripSpaces(Join(".", Replace([a], , "[()-]+", , "", , ), [b]))"#,
        ] {
            let p = crate::compile(e).unwrap();
            assert!(p.chains.iter().all(|c| c.ascii.is_none()), "{e}");
        }
    }
}
