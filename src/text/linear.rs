//! A direct matcher for the patterns attribute mappings mostly use: a straight sequence of
//! literals, character classes with counted repetitions, capture groups and the `^`/`$`
//! anchors, where the next character always decides what the pattern does next.
//!
//! `\+(?<isdCode>\d* )(?<phoneNumber>\d{10})` is such a pattern: `\d*` can only stop at the
//! space, because a space is not a digit. For these patterns a match attempt at one start
//! position is a single left-to-right walk that writes the capture slots as it passes the
//! group boundaries: no automaton state, no search cache to check out of a pool, no slot
//! bookkeeping per byte. The regex engine's one-pass DFA handles the same patterns but pays
//! for its generality (epsilon transitions, slot masks per transition, its cache) on every
//! byte; on a short attribute value that costs several times the walk.
//!
//! [`Linear::new`] accepts a pattern only when the walk provably finds exactly the match the
//! engine's leftmost-first search would find at that start (the proof is on `new`); any
//! other pattern keeps running on the engine. A failed attempt proves only that no match
//! starts at that position: the caller ([`super::regex_dotnet::DotnetRegex`]) tries the
//! next possible start while the failed walks stay within a budget, then continues with
//! the engine, so a haystack full of false starts never costs a quadratic number of walks.

use regex_automata::util::primitives::NonMaxUsize;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look};

/// A set of characters, looked up by UTF-8 byte: one table load decides an ASCII character
/// (the common case); a byte that starts a longer character sends the lookup to the ranges.
#[derive(Clone, Debug)]
struct CharSet {
    /// [`NO`], [`ASCII`] (an ASCII member) or [`WIDE`] (a lead byte: look at the ranges;
    /// only when there are any, else `NO`), for each byte value.
    table: [u8; 256],
    /// The members above ASCII, as sorted, disjoint, inclusive ranges.
    wide: Box<[(char, char)]>,
}

const NO: u8 = 0;
const ASCII: u8 = 1;
const WIDE: u8 = 2;

impl CharSet {
    fn new(class: &ClassUnicode) -> CharSet {
        let mut table = [NO; 256];
        let mut wide = Vec::new();
        for r in class.ranges() {
            let (lo, hi) = (u32::from(r.start()), r.end());
            for b in lo..=u32::from(hi).min(0x7F) {
                if let Some(t) = table.get_mut(b as usize) {
                    *t = ASCII;
                }
            }
            if !hi.is_ascii() {
                wide.push((r.start().max('\u{80}'), hi));
            }
        }
        if !wide.is_empty() {
            // Every byte that can start a character above ASCII (0xC2..=0xF4 in valid UTF-8).
            for t in table.iter_mut().skip(0xC0) {
                *t = WIDE;
            }
        }
        CharSet {
            table,
            wide: wide.into_boxed_slice(),
        }
    }

    #[inline(always)]
    fn class_of(&self, b: u8) -> u8 {
        self.table[usize::from(b)]
    }

    /// True when the non-ASCII character `c` is a member.
    fn has_wide(&self, c: char) -> bool {
        // Sorted and disjoint: the last range starting at or before `c` is the only candidate.
        let after = self.wide.partition_point(|&(lo, _)| lo <= c);
        after > 0 && self.wide.get(after - 1).is_some_and(|&(_, hi)| c <= hi)
    }

    /// The byte length of the character above ASCII starting at byte `pos` of `hay`, when
    /// it is a member. Out of line: the ASCII test is the one the loops need inlined.
    #[inline(never)]
    fn wide_at(&self, hay: &str, pos: usize) -> Option<usize> {
        let c = hay.get(pos..)?.chars().next()?;
        self.has_wide(c).then(|| c.len_utf8())
    }
}

/// One element of the walk.
#[derive(Clone, Debug)]
enum Step {
    /// This ASCII character comes next (a one-byte literal: `+`, `-`, a space, `@`).
    Byte(u8),
    /// These bytes (UTF-8, more than one) come next.
    Lit(Box<[u8]>),
    /// Between `min` and `max` characters of `set`, as many as the next characters allow;
    /// with `stop_at_min`, exactly `min` (a lazy repetition whose rest always matches).
    Class {
        /// The index of the class in [`Linear::sets`].
        set: usize,
        min: u32,
        max: u32,
        stop_at_min: bool,
    },
    /// The current position goes into capture slot `n` (skipped when the caller did not
    /// ask for that slot).
    Slot(usize),
    /// `^` (without `(?m)`): only at the start of the haystack.
    Start,
    /// `$` (without `(?m)`): only at the end of the haystack.
    End,
}

/// Where a match attempt may start.
#[derive(Clone, Debug)]
enum Starts {
    /// Only where this byte occurs: every match begins with this ASCII character.
    Byte(u8),
    /// Only at a member of the set: every match begins with one of its characters.
    Set(Box<CharSet>),
    /// Only at the search position: the pattern can match empty, or begins with `^`.
    Here,
}

/// A compiled linear pattern (see the module documentation).
#[derive(Clone, Debug)]
pub struct Linear {
    steps: Box<[Step]>,
    /// The classes of the steps, apart so that a step stays small (a class is a 256-byte
    /// table) and the walk over the steps touches few cache lines.
    sets: Box<[CharSet]>,
    starts: Starts,
}

/// A step as lowered from the syntax tree, before the analysis fixes its behaviour.
enum Raw {
    Lit(Box<[u8]>),
    Class {
        class: ClassUnicode,
        min: u32,
        max: u32,
        greedy: bool,
    },
    Slot(usize),
    Start,
    End,
}

/// What the rest of a pattern, from some step on, can do.
#[derive(Clone)]
struct Rest {
    /// The characters its first consumed character can be.
    first: ClassUnicode,
    /// It can match without consuming anything (at least at the end of the haystack).
    nullable: bool,
    /// It matches without consuming anything wherever it is tried (nullable, no anchor).
    free: bool,
}

/// Patterns with more steps than this stay on the engine: the walk is meant for the short
/// patterns of attribute mappings, and the analysis is quadratic in the worst case.
const MAX_STEPS: usize = 64;

impl Linear {
    /// The walk for `hir`, or `None` when the pattern is not linear or a choice in it could
    /// need more than the next character to decide.
    ///
    /// Why the walk finds the engine's match. The only choices in a linear pattern are the
    /// counts of its variable repetitions. At such a repetition of class `C`, with the next
    /// character `c`: when `c` is not in `C`, the count is at its maximum or the haystack
    /// ends, it must stop. When `c` is in `C`, stopping would leave the rest to start at
    /// `c`, which the rest cannot consume because `C` and the rest's first characters are
    /// disjoint (checked here). The rest could still succeed without consuming anything, but
    /// only if it matches empty right here: with a `$` in it that needs the haystack to end,
    /// and it does not (`c` is there); without an anchor (`free`) it always can, and then a
    /// greedy repetition prefers to go on (after which the rest, being free, still matches)
    /// while a lazy one prefers to stop (`stop_at_min`). So at every choice the alternative
    /// the engine's priority order picks first is the only one that can succeed or is the
    /// one that succeeds, and a failed walk means that no match starts there. `^` is
    /// accepted only before the first consuming step, where no repetition can choose around
    /// it, and every group takes part in every match (none sits under a repetition or an
    /// alternation), so the walk writes every slot it was asked for.
    pub fn new(hir: &Hir) -> Option<Linear> {
        let mut raw = Vec::new();
        lower(hir, &mut raw)?;
        if raw.len() > MAX_STEPS {
            return None;
        }
        // `^` only before anything is consumed.
        let consumes = |r: &Raw| matches!(r, Raw::Lit(_) | Raw::Class { .. });
        if let Some(first) = raw.iter().position(consumes) {
            if raw.iter().skip(first).any(|r| matches!(r, Raw::Start)) {
                return None;
            }
        }
        let mut rest = Rest {
            first: ClassUnicode::empty(),
            nullable: true,
            free: true,
        };
        let mut steps = Vec::with_capacity(raw.len());
        let mut sets = Vec::new();
        // Backwards: each step's choice depends on what can follow it.
        for r in raw.into_iter().rev() {
            let (step, next) = match r {
                Raw::Slot(n) => (Step::Slot(n), rest),
                Raw::Start => (
                    Step::Start,
                    Rest {
                        free: false,
                        ..rest
                    },
                ),
                Raw::End => (
                    Step::End,
                    Rest {
                        // Nothing can be consumed once the haystack has ended.
                        first: ClassUnicode::empty(),
                        nullable: rest.nullable,
                        free: false,
                    },
                ),
                Raw::Lit(bytes) => {
                    let c = std::str::from_utf8(&bytes).ok()?.chars().next()?;
                    (
                        match *bytes {
                            [b] => Step::Byte(b),
                            _ => Step::Lit(bytes),
                        },
                        Rest {
                            first: char_class(c),
                            nullable: false,
                            free: false,
                        },
                    )
                }
                Raw::Class {
                    class,
                    min,
                    max,
                    greedy,
                } => {
                    if min < max {
                        let mut overlap = class.clone();
                        overlap.intersect(&rest.first);
                        if !overlap.ranges().is_empty() {
                            return None;
                        }
                    }
                    sets.push(CharSet::new(&class));
                    let stop_at_min = !greedy && min < max && rest.free;
                    let next = if min == 0 {
                        let mut first = class;
                        first.union(&rest.first);
                        Rest { first, ..rest }
                    } else {
                        Rest {
                            first: class,
                            nullable: false,
                            free: false,
                        }
                    };
                    (
                        Step::Class {
                            // Renumbered below, when the steps are put in order.
                            set: sets.len() - 1,
                            min,
                            max,
                            stop_at_min,
                        },
                        next,
                    )
                }
            };
            steps.push(step);
            rest = next;
        }
        steps.reverse();
        sets.reverse();
        for step in &mut steps {
            if let Step::Class { set, .. } = step {
                *set = sets.len() - 1 - *set;
            }
        }
        let anchored = steps.iter().any(|s| matches!(s, Step::Start));
        let starts = if anchored || rest.nullable {
            Starts::Here
        } else {
            match rest.first.ranges() {
                [r] if r.start() == r.end() && r.start().is_ascii() => {
                    Starts::Byte(r.start() as u8)
                }
                _ => Starts::Set(Box::new(CharSet::new(&rest.first))),
            }
        };
        Some(Linear {
            steps: steps.into_boxed_slice(),
            sets: sets.into_boxed_slice(),
            starts,
        })
    }

    /// The first position at or after `at` where a match can start, or `None` when no match
    /// can start at or after `at`.
    #[inline]
    pub fn candidate(&self, hay: &str, at: usize) -> Option<usize> {
        let rest = hay.as_bytes().get(at..)?;
        match &self.starts {
            Starts::Here => Some(at),
            Starts::Byte(b) => {
                // memchr's vector search pays a fixed cost to set up; an attribute value is
                // usually shorter than one vector, and a byte loop is cheaper there.
                let i = if rest.len() < SHORT {
                    rest.iter().position(|x| x == b)?
                } else {
                    memchr::memchr(*b, rest)?
                };
                Some(at + i)
            }
            Starts::Set(set) => {
                let mut pos = at;
                loop {
                    match set.class_of(*hay.as_bytes().get(pos)?) {
                        ASCII => return Some(pos),
                        WIDE if set.wide_at(hay, pos).is_some() => return Some(pos),
                        // A continuation byte is never a start; skipping byte by byte lands
                        // on the next character boundary.
                        _ => pos += 1,
                    }
                }
            }
        }
    }

    /// The end of the match starting at `start` (a character boundary of `hay`), with the
    /// group boundaries written into `slots` (only the slots it has: two for a search that
    /// wants only the whole match). Slots 0 and 1, the whole match, are the caller's to
    /// write. When no match starts there: `Err` with the position where the walk failed
    /// (the bytes before it were examined).
    #[inline]
    pub fn walk(
        &self,
        hay: &str,
        start: usize,
        slots: &mut [Option<NonMaxUsize>],
    ) -> Result<usize, usize> {
        let bytes = hay.as_bytes();
        let mut pos = start;
        for step in self.steps.iter() {
            match step {
                Step::Byte(b) => {
                    if bytes.get(pos) != Some(b) {
                        return Err(pos);
                    }
                    pos += 1;
                }
                Step::Lit(lit) => {
                    let end = pos + lit.len();
                    if bytes.get(pos..end) != Some(&lit[..]) {
                        return Err(pos);
                    }
                    pos = end;
                }
                Step::Class {
                    set,
                    min,
                    max,
                    stop_at_min,
                } => {
                    let Some(set) = self.sets.get(*set) else {
                        return Err(pos);
                    };
                    let limit = if *stop_at_min { *min } else { *max };
                    let n = repeat(set, hay, &mut pos, limit);
                    if n < *min {
                        return Err(pos);
                    }
                }
                Step::Slot(i) => {
                    if let Some(slot) = slots.get_mut(*i) {
                        *slot = NonMaxUsize::new(pos);
                    }
                }
                Step::Start => {
                    if pos != 0 {
                        return Err(pos);
                    }
                }
                Step::End => {
                    if pos != bytes.len() {
                        return Err(pos);
                    }
                }
            }
        }
        Ok(pos)
    }
}

/// Haystacks shorter than this are searched for a start byte with a plain loop.
const SHORT: usize = 32;

/// Consumes up to `limit` members of `set` from `*pos`, and returns how many it consumed.
/// A run of ASCII members is counted by a tight loop over the bytes (one table load each);
/// only where a character above ASCII starts does the rest go out of line.
#[inline(always)]
fn repeat(set: &CharSet, hay: &str, pos: &mut usize, limit: u32) -> u32 {
    let rest = hay.as_bytes().get(*pos..).unwrap_or(&[]);
    let window = rest
        .get(..usize::try_from(limit).unwrap_or(usize::MAX))
        .unwrap_or(rest);
    let run = window
        .iter()
        .position(|&b| set.class_of(b) != ASCII)
        .unwrap_or(window.len());
    *pos += run;
    // `run` is at most `limit`, a `u32`.
    let n = run as u32;
    match window.get(run) {
        Some(&b) if set.class_of(b) == WIDE => repeat_wide(set, hay, pos, n, limit),
        _ => n,
    }
}

/// [`repeat`] from a character above ASCII on, `n` members already consumed.
#[inline(never)]
fn repeat_wide(set: &CharSet, hay: &str, pos: &mut usize, mut n: u32, limit: u32) -> u32 {
    while n < limit {
        let Some(&b) = hay.as_bytes().get(*pos) else {
            break;
        };
        let len = match set.class_of(b) {
            ASCII => 1,
            WIDE => match set.wide_at(hay, *pos) {
                Some(len) => len,
                None => break,
            },
            _ => break,
        };
        *pos += len;
        n += 1;
    }
    n
}

fn char_class(c: char) -> ClassUnicode {
    ClassUnicode::new([ClassUnicodeRange::new(c, c)])
}

/// Appends the steps of `hir`, or `None` when it is not linear.
fn lower(hir: &Hir, out: &mut Vec<Raw>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(lit) => {
            if !lit.0.is_empty() {
                out.push(Raw::Lit(lit.0.clone()));
            }
        }
        HirKind::Class(class) => out.push(Raw::Class {
            class: unicode(class)?,
            min: 1,
            max: 1,
            greedy: true,
        }),
        HirKind::Look(Look::Start) => out.push(Raw::Start),
        HirKind::Look(Look::End) => out.push(Raw::End),
        HirKind::Look(_) => return None,
        HirKind::Repetition(rep) => {
            let class = match rep.sub.kind() {
                HirKind::Class(class) => unicode(class)?,
                HirKind::Literal(lit) => {
                    // `a+`: a repetition of one character is one of a one-member class.
                    let mut chars = std::str::from_utf8(&lit.0).ok()?.chars();
                    let c = chars.next()?;
                    if chars.next().is_some() {
                        return None;
                    }
                    char_class(c)
                }
                _ => return None,
            };
            let max = rep.max.unwrap_or(u32::MAX);
            if max > 0 {
                out.push(Raw::Class {
                    class,
                    min: rep.min,
                    max,
                    greedy: rep.greedy,
                });
            }
        }
        HirKind::Capture(cap) => {
            let i = usize::try_from(cap.index).ok()?;
            out.push(Raw::Slot(2 * i));
            lower(&cap.sub, out)?;
            out.push(Raw::Slot(2 * i + 1));
        }
        HirKind::Concat(subs) => {
            for sub in subs {
                lower(sub, out)?;
            }
        }
        HirKind::Alternation(_) => return None,
    }
    Some(())
}

/// A class as code point ranges; a byte class only when it is all ASCII (the UTF-8 syntax
/// mode admits no other).
fn unicode(class: &Class) -> Option<ClassUnicode> {
    match class {
        Class::Unicode(u) => Some(u.clone()),
        Class::Bytes(b) => b.to_unicode_class(),
    }
}
