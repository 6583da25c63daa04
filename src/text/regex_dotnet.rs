//! .NET regular expressions on the `regex` crate's syntax and engine (spec §5 Replace, F14).
//!
//! Entra's Replace runs `System.Text.RegularExpressions`. The `regex` crate is a different
//! dialect, so a pattern is first translated ([`translate`]): constructs that mean something
//! else in the crate are rewritten (`\<` is a literal in .NET, a word boundary in the crate),
//! constructs the crate cannot run (lookaround, backreferences, …) are rejected by name, and
//! crate-only syntax is rejected with a hint. Matching then follows .NET's iteration
//! ([`Matches`]) and replacement strings follow .NET's substitution rules ([`Expander`]):
//! the crate's own `replace_all` and `$name` expansion differ on empty matches and `$1a`.
//! Patterns are compiled with `regex-automata`'s meta engine, the one inside `regex::Regex`,
//! configured as `regex` configures it (`DotnetRegex::search` says why it is used directly).
//!
//! Known differences that remain (spec §5 Replace, "accepted differences"): without `(?m)`,
//! `$` matches only at the very end (.NET also before a final `\n`); Unicode class membership
//! and case folding follow the crate; an empty match advances one code point, not one UTF-16
//! code unit.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex_automata::meta;
use regex_automata::util::prefilter::Prefilter;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternID, Span};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, HirKind};

use super::linear::Linear;

/// What kind of pattern error this is (maps to `invalid-regex` / `dotnet-only-regex`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegexErrorKind {
    /// A syntax error, or syntax of another dialect.
    Invalid,
    /// A .NET construct the `regex` crate cannot run.
    DotnetOnly,
}

/// A pattern that cannot be used, with a message naming the construct and its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegexError {
    /// Invalid or .NET-only.
    pub kind: RegexErrorKind,
    /// A lowercase phrase with backticked inputs.
    pub message: String,
    /// How to fix it, when we know.
    pub help: Option<String>,
}

impl RegexError {
    #[cold]
    fn invalid(message: String) -> RegexError {
        RegexError {
            kind: RegexErrorKind::Invalid,
            message,
            help: None,
        }
    }

    #[cold]
    fn dotnet_only(construct: &str, pos: usize) -> RegexError {
        RegexError {
            kind: RegexErrorKind::DotnetOnly,
            message: format!(
                "{construct} at position {} is a .NET-only regex construct that mapexpr cannot run",
                pos + 1
            ),
            help: None,
        }
    }

    fn help(mut self, help: &str) -> RegexError {
        self.help = Some(help.to_owned());
        self
    }
}

/// The crate configuration `regex::Regex::new` uses (leftmost-first, UTF-8, empty matches
/// only between code points, the same NFA and lazy-DFA limits), so that moving from the
/// `regex` wrapper to the engine underneath it changed no match and no error.
fn meta_config() -> meta::Config {
    meta::Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .utf8_empty(true)
        .nfa_size_limit(Some(10 * (1 << 20)))
        .hybrid_cache_capacity(2 * (1 << 20))
}

/// A compiled .NET pattern.
///
/// It runs on `regex-automata`'s meta engine (the engine of `regex::Regex`) rather than on
/// the `regex` wrapper, because the wrapper cannot search anchored at a position: see
/// `DotnetRegex::search` for why that matters.
#[derive(Debug)]
pub struct DotnetRegex {
    /// The translated pattern, compiled.
    re: meta::Regex,
    /// The pattern's prefix literals (`+` for `\+(…)`), when every match starts with one
    /// of a finite set of them.
    prefixes: Option<Vec<Vec<u8>>>,
    /// A searcher for [`Self::prefixes`], built on first use: the meta engine builds its
    /// own from the same literals without sharing it, and for several literals (a leading
    /// alternation: a Teddy or Aho-Corasick searcher) a second build at compile time would
    /// add about 4 % to compiling the pattern.
    starts: OnceLock<Option<Prefilter>>,
    /// The crate's group indexes for each .NET group number. .NET numbers unnamed groups
    /// first, then named groups, and a name used twice is one group; the crate numbers all
    /// groups left to right and needs distinct names, so a repeated name `n` is renamed `n.2`,
    /// `n.3`, … (`.` cannot occur in a .NET name).
    numbers: Vec<Vec<usize>>,
    /// Capture slots for every group (two per group, the whole match included).
    slot_len: usize,
    /// The fewest bytes a match spans: a shorter rest of the haystack needs no search (the
    /// last step of an iteration usually ends there).
    min_len: usize,
    /// The direct walk, when the pattern is linear (see [`Linear`]): it replaces the
    /// anchored engine search at the first possible start.
    linear: Option<Linear>,
}

impl DotnetRegex {
    /// Translates and compiles a .NET pattern.
    pub fn new(pattern: &str) -> Result<DotnetRegex, RegexError> {
        let tr = translate(pattern)?;
        // Parsed once here (rather than inside the meta builder) so that the prefix
        // prefilter comes from the same syntax tree. Same syntax options as `regex`.
        let hir = syntax::parse_with(&tr.pattern, &syntax::Config::new().utf8(true))
            .map_err(|e| syntax_error(pattern, &tr, &e.to_string()))?;
        let re = meta::Builder::new()
            .configure(meta_config())
            .build_from_hir(&hir)
            .map_err(|e| match e.size_limit() {
                Some(limit) => RegexError::invalid(format!(
                    "the pattern `{pattern}` compiles to more than {limit} bytes"
                )),
                None => syntax_error(pattern, &tr, &e.to_string()),
            })?;
        // What `Prefilter::from_hir_prefix` extracts, kept as bytes until first needed.
        let mut extractor = Extractor::new();
        extractor.kind(ExtractKind::Prefix);
        let mut seq = extractor.extract(&hir);
        seq.optimize_for_prefix_by_preference();
        let prefixes = seq
            .literals()
            .map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect());
        let mut numbers: Vec<Vec<usize>> = vec![vec![0]];
        let mut named: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, name) in re
            .group_info()
            .pattern_names(PatternID::ZERO)
            .enumerate()
            .skip(1)
        {
            match name.map(|n| n.split('.').next().unwrap_or(n)) {
                None => numbers.push(vec![i]),
                Some(base) => match named.iter_mut().find(|(n, _)| *n == base) {
                    Some((_, idxs)) => idxs.push(i),
                    None => named.push((base, vec![i])),
                },
            }
        }
        numbers.extend(named.into_iter().map(|(_, idxs)| idxs));
        Ok(DotnetRegex {
            linear: Linear::new(&hir),
            slot_len: re.group_info().slot_len(),
            min_len: hir.properties().minimum_len().unwrap_or(0),
            re,
            prefixes,
            starts: OnceLock::new(),
            numbers,
        })
    }

    fn crate_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.re.group_info().pattern_names(PatternID::ZERO)
    }

    /// The .NET group number of a group reference: a number written in decimal, or a name.
    pub fn group(&self, reference: &str) -> Option<usize> {
        if !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_digit()) {
            let n: usize = reference.parse().ok()?;
            return (n < self.numbers.len()).then_some(n);
        }
        if reference.contains('.') {
            return None;
        }
        let i = self.crate_names().position(|n| n == Some(reference))?;
        self.numbers.iter().position(|idxs| idxs.contains(&i))
    }

    /// The highest .NET group number (`$+`).
    pub fn last_group(&self) -> usize {
        self.numbers.len().saturating_sub(1)
    }

    /// The span .NET group `number` captured in one match: for a name used more than once,
    /// the last of its groups that took part, as .NET keeps the last capture.
    pub fn capture(&self, caps: &Caps, number: usize) -> Option<(usize, usize)> {
        self.numbers
            .get(number)?
            .iter()
            .rev()
            .find_map(|&i| caps.get(i))
    }

    /// The distinct group names, in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for name in self.crate_names().flatten() {
            let base = name.split('.').next().unwrap_or(name);
            if !out.contains(&base) {
                out.push(base);
            }
        }
        out
    }

    fn piece(&self, number: usize) -> Piece {
        Piece::Group(self.numbers.get(number).cloned().unwrap_or_default())
    }

    /// The .NET matches of this pattern in `hay`, with every group's span when `groups`
    /// (else only the whole match's, which is cheaper to find).
    pub fn matches<'r, 'h>(&'r self, hay: &'h str, groups: bool) -> Matches<'r, 'h> {
        Matches {
            re: self,
            hay,
            pos: 0,
            fast: Fast {
                anchored: true,
                budget: hay.len(),
            },
            caps: Caps::new(if groups { self.slot_len } else { 2 }),
        }
    }

    /// The leftmost-first match starting at or after `at`, with its groups in `caps`.
    ///
    /// An unanchored search runs three automata: a forward DFA to find where the match
    /// ends, a reverse DFA to find where it starts, then (for groups) a one-pass DFA over
    /// the match. When the pattern has prefix literals, the first place one occurs is the
    /// only place the leftmost match can start, and an anchored search there runs only the
    /// last of the three (or only the forward DFA without groups): on a short attribute
    /// value that is about half the work. If no match starts there, this call and every
    /// later one of the same iteration (`anchored` is cleared) searches unanchored, so a
    /// haystack full of false starts costs one extra failed attempt, never a quadratic scan.
    ///
    /// A linear pattern ([`Linear`]) goes further: it finds its possible starts itself (with
    /// or without prefix literals) and replaces the anchored search by its walk. A failed
    /// walk moves on to the next possible start (`john.doe@x` for `\w+@\w+` fails at `j`,
    /// `o`, `h` and `n` before `d`), as long as the bytes the failed walks of the iteration
    /// examined stay within the haystack's length (`budget`); past that the engine takes
    /// over, so the walks at most double the work of one pass over the haystack.
    fn search(
        &self,
        hay: &str,
        mut at: usize,
        caps: &mut Caps,
        fast: &mut Fast,
    ) -> Option<(usize, usize)> {
        if fast.anchored {
            if let Some(linear) = &self.linear {
                loop {
                    // No possible start: no match at or after `at`.
                    let start = linear.candidate(hay, at)?;
                    match linear.walk(hay, start, caps.slots_mut()) {
                        Ok(end) => {
                            if let [s, e, ..] = caps.slots_mut() {
                                (*s, *e) = (NonMaxUsize::new(start), NonMaxUsize::new(end));
                            }
                            return Some((start, end));
                        }
                        Err(reached) => {
                            let cost = reached.saturating_sub(start) + 1;
                            if cost > fast.budget {
                                fast.anchored = false;
                                return self.unanchored(hay, start, caps);
                            }
                            fast.budget -= cost;
                            // No match starts at `start`: the next character may.
                            at = next_start(hay, start, start);
                        }
                    }
                }
            }
            let starts = self.starts.get_or_init(|| {
                let lits = self.prefixes.as_ref()?;
                Prefilter::new(MatchKind::LeftmostFirst, lits)
            });
            if let Some(starts) = starts {
                // No occurrence of a prefix literal: no match can start at or after `at`.
                let candidate = starts.find(hay.as_bytes(), Span::from(at..hay.len()))?;
                let input = Input::new(hay)
                    .range(candidate.start..)
                    .anchored(Anchored::Yes);
                if self.re.search_slots(&input, caps.slots_mut()).is_some() {
                    return caps.get(0);
                }
                fast.anchored = false;
                at = candidate.start;
            }
        }
        self.unanchored(hay, at, caps)
    }

    /// The engine's leftmost-first search from `at`.
    fn unanchored(&self, hay: &str, at: usize, caps: &mut Caps) -> Option<(usize, usize)> {
        self.re
            .search_slots(&Input::new(hay).range(at..), caps.slots_mut())?;
        caps.get(0)
    }
}

/// Capture slots held without allocating: eight groups, the whole match included.
const INLINE_SLOTS: usize = 16;

/// The capture slots of one match: crate group `i` spans slots `2i` and `2i + 1`. Held
/// inline up to eight groups, so a search allocates nothing. A plain array rather than a
/// `SmallVec`: it is built in place, where a `SmallVec` of the same size was filled through
/// a `memset` call and then moved with a `memcpy` on every Replace call.
#[derive(Clone, Debug)]
pub struct Caps {
    inline: [Option<NonMaxUsize>; INLINE_SLOTS],
    /// The slots of a pattern with more groups than fit inline; empty otherwise.
    spill: Vec<Option<NonMaxUsize>>,
    /// How many slots are in use.
    len: usize,
}

impl Caps {
    #[inline]
    fn new(len: usize) -> Caps {
        let spill = if len > INLINE_SLOTS {
            vec![None; len]
        } else {
            Vec::new()
        };
        Caps {
            inline: [None; INLINE_SLOTS],
            spill,
            len,
        }
    }

    #[inline]
    fn slots(&self) -> &[Option<NonMaxUsize>] {
        self.inline.get(..self.len).unwrap_or(&self.spill)
    }

    #[inline]
    fn slots_mut(&mut self) -> &mut [Option<NonMaxUsize>] {
        match self.inline.get_mut(..self.len) {
            Some(slots) => slots,
            None => &mut self.spill,
        }
    }

    /// The span of crate group `i`, when it took part in the match.
    #[inline]
    pub fn get(&self, i: usize) -> Option<(usize, usize)> {
        let slots = self.slots();
        let start = slots.get(2 * i).copied().flatten()?;
        let end = slots.get(2 * i + 1).copied().flatten()?;
        Some((start.get(), end.get()))
    }
}

/// .NET match iteration: the search resumes where the last match ended, an empty match is
/// allowed right after a non-empty one, and after an empty match the search moves on one
/// code point (`x*` on `xab` matches `x`, then empty at 1, 2 and 3). A lending iterator:
/// the groups of the match [`Matches::next`] returned are in [`Matches::caps`].
pub struct Matches<'r, 'h> {
    re: &'r DotnetRegex,
    hay: &'h str,
    pos: usize,
    fast: Fast,
    caps: Caps,
}

/// What the fast paths of [`DotnetRegex::search`] may still do in one iteration.
struct Fast {
    /// An anchored attempt at the first possible start is still worth making.
    anchored: bool,
    /// The bytes failed linear walks may still examine.
    budget: usize,
}

impl Matches<'_, '_> {
    /// The span of the next match.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<(usize, usize)> {
        // Checked here, inline, rather than in `search`: the last call of an iteration
        // usually ends here, without the call.
        if self.hay.len().checked_sub(self.pos)? < self.re.min_len {
            return None;
        }
        let (start, end) = self
            .re
            .search(self.hay, self.pos, &mut self.caps, &mut self.fast)?;
        self.pos = next_start(self.hay, start, end);
        Some((start, end))
    }

    /// The groups of the last match.
    pub fn caps(&self) -> &Caps {
        &self.caps
    }
}

/// Where the search resumes after a match `[start, end)`: at its end, or one code point
/// further after an empty match.
pub fn next_start(hay: &str, start: usize, end: usize) -> usize {
    if start == end {
        end + hay
            .get(end..)
            .and_then(|r| r.chars().next())
            .map_or(1, char::len_utf8)
    } else {
        end
    }
}

/// One piece of a parsed replacement string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Lit(String),
    /// The crate indexes of one .NET group (see [`DotnetRegex::capture`]).
    Group(Vec<usize>),
    Before,
    After,
    Input,
}

/// A replacement string parsed with .NET's substitution rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expander {
    pieces: Vec<Piece>,
    /// Some piece refers to a group other than the whole match (see [`Self::needs_groups`]).
    groups: bool,
}

impl Expander {
    /// Parses `replacement` for `re`: `$$`, `$n` (maximal digit run), `${name}`, `$&`,
    /// `` $` ``, `$'`, `$+`, `$_`; a reference to a group that does not exist, and `$`
    /// before anything else, is literal text.
    pub fn new(replacement: &str, re: &DotnetRegex) -> Expander {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = replacement;
        while let Some(at) = rest.find('$') {
            lit.push_str(rest.get(..at).unwrap_or(""));
            let after = rest.get(at + 1..).unwrap_or("");
            let mut piece = None;
            let mut consumed = 0usize;
            match after.chars().next() {
                Some('$') => {
                    lit.push('$');
                    consumed = 1;
                }
                Some('&') => (piece, consumed) = (Some(Piece::Group(vec![0])), 1),
                Some('`') => (piece, consumed) = (Some(Piece::Before), 1),
                Some('\'') => (piece, consumed) = (Some(Piece::After), 1),
                Some('_') => (piece, consumed) = (Some(Piece::Input), 1),
                Some('+') => (piece, consumed) = (Some(re.piece(re.last_group())), 1),
                Some(d) if d.is_ascii_digit() => {
                    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                    if let Some(g) = after.get(..digits).and_then(|n| re.group(n)) {
                        (piece, consumed) = (Some(re.piece(g)), digits);
                    } else {
                        lit.push('$');
                    }
                }
                Some('{') => {
                    let group = after.find('}').and_then(|close| {
                        let name = after.get(1..close)?;
                        re.group(name).map(|g| (g, close + 1))
                    });
                    match group {
                        Some((g, len)) => (piece, consumed) = (Some(re.piece(g)), len),
                        None => lit.push('$'),
                    }
                }
                _ => lit.push('$'),
            }
            if let Some(p) = piece {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(p);
            }
            rest = after.get(consumed..).unwrap_or("");
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        let groups = pieces
            .iter()
            .any(|p| matches!(p, Piece::Group(g) if g.as_slice() != [0]));
        Expander { pieces, groups }
    }

    /// The replacement text when it has no substitutions.
    pub fn literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// True when the expansion refers to a capture group other than the whole match.
    #[inline]
    pub fn needs_groups(&self) -> bool {
        self.groups
    }

    /// Appends the expansion for one match of `hay` whose groups are in `caps`.
    #[inline]
    pub fn expand(&self, caps: &Caps, hay: &str, out: &mut String) {
        for piece in &self.pieces {
            let text = match piece {
                Piece::Lit(s) => s.as_str(),
                Piece::Group(g) => g
                    .iter()
                    .rev()
                    .find_map(|&i| caps.get(i))
                    .and_then(|(s, e)| hay.get(s..e))
                    .unwrap_or(""),
                Piece::Before => caps.get(0).and_then(|(s, _)| hay.get(..s)).unwrap_or(""),
                Piece::After => caps.get(0).and_then(|(_, e)| hay.get(e..)).unwrap_or(""),
                Piece::Input => hay,
            };
            out.push_str(text);
        }
    }
}

/// Text up to this many bytes after the first deletion is filtered on the stack (a power
/// of two).
const SHORT: usize = 64;

/// Deletion of every character of one class: what `Replace(x, , "[()\s-]+", , "", , )`
/// amounts to, done without the regex engine.
#[derive(Clone, Debug)]
pub struct CharFilter {
    /// Membership of each ASCII character: one table load per byte in the common case.
    ascii: [bool; 128],
    /// The class's members above ASCII, as sorted, disjoint, inclusive code point ranges.
    wide: Vec<(char, char)>,
}

impl CharFilter {
    /// A filter when `pattern` is a single character-class atom (`[…]`, `\s`, `\p{…}`, …),
    /// optionally followed by `+` or `*`, so that deleting its matches deletes exactly the
    /// characters of the class. The atom goes through the full translation, so a filter
    /// exists only for a pattern [`DotnetRegex::new`] accepts (`\p{IsGreek}` is refused
    /// there, not read as the crate's script), and a caller holding a filter need not
    /// compile the pattern at all.
    pub fn for_pattern(pattern: &str) -> Option<CharFilter> {
        let atom = pattern.strip_suffix(['+', '*']).unwrap_or(pattern);
        let shape = atom.starts_with('[')
            || matches!(atom, "\\d" | "\\D" | "\\w" | "\\W" | "\\s" | "\\S")
            || atom.starts_with("\\p{")
            || atom.starts_with("\\P{");
        if !shape {
            return None;
        }
        let tr = translate(atom).ok()?;
        // The crate's parser resolves the class (Unicode tables, negation, case) to ranges;
        // a one-member class comes back as a literal.
        let hir = syntax::parse_with(&tr.pattern, &syntax::Config::new().utf8(true)).ok()?;
        let ranges: Vec<(char, char)> = match hir.kind() {
            HirKind::Class(Class::Unicode(class)) => {
                class.iter().map(|r| (r.start(), r.end())).collect()
            }
            HirKind::Literal(lit) => {
                let text = std::str::from_utf8(&lit.0).ok()?;
                let mut chars = text.chars();
                let c = chars.next()?;
                if chars.next().is_some() {
                    return None;
                }
                vec![(c, c)]
            }
            _ => return None,
        };
        let mut ascii = [false; 128];
        for (b, slot) in ascii.iter_mut().enumerate() {
            let c = char::from(b as u8);
            *slot = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        }
        let wide = ranges
            .into_iter()
            .filter(|&(_, hi)| !hi.is_ascii())
            .collect();
        Some(CharFilter { ascii, wide })
    }

    /// True when `c` is in the class.
    pub fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.ascii[c as usize];
        }
        // The ranges are sorted and disjoint: the last one starting at or before `c` is the
        // only one that can hold it.
        let after = self.wide.partition_point(|&(lo, _)| lo <= c);
        after > 0 && self.wide.get(after - 1).is_some_and(|&(_, hi)| c <= hi)
    }

    /// `s` without the characters of the class; borrowed when none occurs, else one
    /// allocation of the input's length less the first deleted character.
    ///
    /// ASCII text (the usual attribute value, checked a word at a time) costs one table load
    /// per byte: up to 64 bytes after the first deletion are compacted on the stack without a
    /// branch on each byte (a phone number's deletions are too irregular to predict), longer
    /// text is copied as whole runs between deletions. Other text decodes its characters and
    /// looks the non-ASCII ones up in the sorted ranges.
    pub fn remove<'s>(&self, s: &'s str) -> Cow<'s, str> {
        let mut out = String::new();
        if self.remove_into(s, &mut out) {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(s)
        }
    }

    /// [`CharFilter::remove`] into `out` (empty; a spare buffer is taken only when a
    /// character is deleted): true when something was deleted and `out` holds the rest,
    /// false when `s` stays as it is (`out` untouched).
    pub fn remove_into(&self, s: &str, out: &mut String) -> bool {
        let bytes = s.as_bytes();
        if bytes.is_ascii() {
            // `& 0x7F` changes no ASCII byte; it lets the compiler see the index is in range.
            let member = |b: u8| self.ascii[usize::from(b & 0x7F)];
            let Some(first) = bytes.iter().position(|&b| member(b)) else {
                return false;
            };
            if let Some(rest) = bytes.get(first..).filter(|r| r.len() <= SHORT) {
                // Short text (a phone number): every byte is stored and the end moves past
                // it only when it is kept, without a branch on the (irregular) deletions.
                let mut kept = [0u8; SHORT];
                let mut n = 0usize;
                for &b in rest {
                    // `n` never reaches `SHORT` (it is at most the bytes seen so far).
                    kept[n & (SHORT - 1)] = b;
                    n += usize::from(!member(b));
                }
                let Ok(kept) = std::str::from_utf8(kept.get(..n).unwrap_or(&[])) else {
                    return false;
                };
                *out = crate::value::buffers::take(first + n);
                out.push_str(s.get(..first).unwrap_or(""));
                out.push_str(kept);
                return true;
            }
            *out = crate::value::buffers::take(s.len() - 1);
            out.push_str(s.get(..first).unwrap_or(""));
            let mut run = first + 1;
            for (i, &b) in bytes.iter().enumerate().skip(run) {
                if member(b) {
                    if run < i {
                        out.push_str(s.get(run..i).unwrap_or(""));
                    }
                    run = i + 1;
                }
            }
            out.push_str(s.get(run..).unwrap_or(""));
            return true;
        }
        let mut run = 0;
        let mut deleted = false;
        for (i, c) in s.char_indices() {
            if self.contains(c) {
                if !deleted {
                    *out = crate::value::buffers::take(s.len() - c.len_utf8());
                    deleted = true;
                }
                out.push_str(s.get(run..i).unwrap_or(""));
                run = i + c.len_utf8();
            }
        }
        if deleted {
            out.push_str(s.get(run..).unwrap_or(""));
        }
        deleted
    }
}

/// A translated pattern and, for each of its characters, the position of the source
/// character it came from (to report crate errors at the user's position).
#[derive(Clone, Debug)]
pub struct Translated {
    /// The pattern in `regex` crate syntax.
    pub pattern: String,
    map: Vec<usize>,
}

/// Translates a .NET pattern to `regex` crate syntax (spec §5 Replace, regex dialect table).
pub fn translate(pattern: &str) -> Result<Translated, RegexError> {
    let src: Vec<char> = pattern.chars().collect();
    let mut tr = Tr::new(&src);
    tr.run()?;
    Ok(Translated {
        pattern: tr.out,
        map: tr.map,
    })
}

struct Tr<'p> {
    src: &'p [char],
    i: usize,
    out: String,
    map: Vec<usize>,
    x_mode: bool,
    names: Vec<String>,
}

/// Whether the last token was a quantifier (and whether it was made lazy).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quantified {
    No,
    Yes,
    Lazy,
}

/// An element of a character class.
enum Item {
    Char(char),
    Set(String),
}

impl<'p> Tr<'p> {
    fn new(src: &'p [char]) -> Self {
        Tr {
            src,
            i: 0,
            out: String::new(),
            map: Vec::new(),
            x_mode: false,
            names: Vec::new(),
        }
    }

    fn at(&self, k: usize) -> Option<char> {
        self.src.get(k).copied()
    }

    fn emit(&mut self, s: &str, pos: usize) {
        for c in s.chars() {
            self.out.push(c);
            self.map.push(pos);
        }
    }

    /// A character that must match itself, written so that the crate cannot misread it
    /// (in a class, in `(?x)` mode, or as an operator).
    fn emit_literal(&mut self, c: char, pos: usize) {
        if c.is_alphanumeric() {
            let mut buf = [0u8; 4];
            self.emit(c.encode_utf8(&mut buf), pos);
        } else {
            self.emit(&format!("\\x{{{:X}}}", c as u32), pos);
        }
    }

    fn run(&mut self) -> Result<(), RegexError> {
        // .NET rejects a quantifier on a quantifier (`a**`, `a{2}{3}`) that the crate accepts;
        // only the lazy `?` may follow one.
        let mut quantified = Quantified::No;
        while let Some(c) = self.at(self.i) {
            let pos = self.i;
            let is_quantifier =
                matches!(c, '*' | '+' | '?') || (c == '{' && self.quantifier_end(pos).is_some());
            if is_quantifier {
                quantified = match (quantified, c) {
                    (Quantified::Yes, '?') => Quantified::Lazy,
                    (Quantified::No, _) => Quantified::Yes,
                    _ => {
                        return Err(RegexError::invalid(format!(
                            "nested quantifier `{c}` at position {}",
                            pos + 1
                        ))
                        .help("group the quantified part first, e.g. `(?:a*)*`"));
                    }
                };
            } else if !(self.x_mode && c.is_whitespace()) {
                quantified = Quantified::No;
            }
            match c {
                '\\' => {
                    if let Some(item) = self.escape(false)? {
                        match item {
                            Item::Char(ch) => self.emit_literal(ch, pos),
                            Item::Set(s) => self.emit(&s, pos),
                        }
                    }
                }
                '[' => self.class()?,
                '(' => self.group()?,
                '{' => self.brace(),
                '}' => {
                    self.emit("\\}", pos);
                    self.i += 1;
                }
                '#' if self.x_mode => {
                    // A comment to the end of the line in (?x) mode: copied for the crate,
                    // which reads it the same way, but not interpreted.
                    while let Some(ch) = self.at(self.i) {
                        let mut buf = [0u8; 4];
                        self.emit(ch.encode_utf8(&mut buf), self.i);
                        self.i += 1;
                        if ch == '\n' {
                            break;
                        }
                    }
                }
                _ => {
                    let mut buf = [0u8; 4];
                    self.emit(c.encode_utf8(&mut buf), pos);
                    self.i += 1;
                }
            }
        }
        Ok(())
    }

    /// Reads the escape at `self.i` (a backslash). Returns `None` when it emitted the
    /// translation itself (anchors and assertions outside classes).
    fn escape(&mut self, in_class: bool) -> Result<Option<Item>, RegexError> {
        let pos = self.i;
        let Some(c) = self.at(pos + 1) else {
            return Err(RegexError::invalid(format!(
                "the pattern ends with a lone `\\` at position {}",
                pos + 1
            )));
        };
        self.i += 2;
        let ch = |v: u32| Ok(Some(Item::Char(char::from_u32(v).unwrap_or('\u{FFFD}'))));
        match c {
            'a' => ch(7),
            'b' if in_class => ch(8),
            'e' => ch(0x1B),
            'f' => ch(0xC),
            'n' => ch(0xA),
            'r' => ch(0xD),
            't' => ch(9),
            'v' => ch(0xB),
            'c' => {
                let Some(x) = self
                    .at(self.i)
                    .filter(|x| x.is_ascii_alphabetic() || "@[\\]^_".contains(*x))
                else {
                    return Err(RegexError::invalid(format!(
                        "`\\c` at position {} must be followed by a letter",
                        pos + 1
                    )));
                };
                self.i += 1;
                ch(u32::from(x.to_ascii_uppercase() as u8 ^ 0x40))
            }
            'x' => {
                let v = self.hex(2).ok_or_else(|| {
                    RegexError::invalid(format!(
                        "`\\x` at position {} needs exactly two hex digits",
                        pos + 1
                    ))
                    .help("write `\\xHH`, e.g. `\\x41`")
                })?;
                ch(v)
            }
            'u' => {
                let v = self.hex(4).ok_or_else(|| {
                    RegexError::invalid(format!(
                        "`\\u` at position {} needs exactly four hex digits",
                        pos + 1
                    ))
                })?;
                if (0xD800..0xDC00).contains(&v)
                    && self.at(self.i) == Some('\\')
                    && self.at(self.i + 1) == Some('u')
                {
                    let save = self.i;
                    self.i += 2;
                    if let Some(low) = self.hex(4).filter(|l| (0xDC00..0xE000).contains(l)) {
                        return ch(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00));
                    }
                    self.i = save;
                }
                if (0xD800..0xE000).contains(&v) {
                    return Err(RegexError::invalid(format!(
                        "`\\u{v:04X}` at position {} is a lone surrogate, which cannot match UTF-8 text",
                        pos + 1
                    )));
                }
                ch(v)
            }
            '0' => Err(RegexError::dotnet_only("the octal escape `\\0`", pos)),
            '1'..='9' => {
                let digits: String = self
                    .src
                    .get(pos + 1..)
                    .unwrap_or(&[])
                    .iter()
                    .take_while(|d| d.is_ascii_digit())
                    .collect();
                if in_class {
                    Err(RegexError::dotnet_only(
                        &format!("the octal escape `\\{digits}`"),
                        pos,
                    ))
                } else {
                    Err(RegexError::dotnet_only(&format!("the backreference `\\{digits}`"), pos)
                        .help("backreferences cannot run on mapexpr's regex engine; match the text explicitly"))
                }
            }
            'k' if !in_class => Err(RegexError::dotnet_only(
                "the named backreference `\\k<…>`",
                pos,
            )),
            'G' if !in_class => Err(RegexError::dotnet_only("the anchor `\\G`", pos)),
            'Z' if !in_class => {
                Err(RegexError::dotnet_only("the anchor `\\Z`", pos).help("use `\\z` or `$`"))
            }
            'A' | 'z' | 'b' | 'B' if !in_class => {
                self.emit(&format!("\\{c}"), pos);
                Ok(None)
            }
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => Ok(Some(Item::Set(format!("\\{c}")))),
            'p' | 'P' => {
                if self.at(self.i) != Some('{') {
                    return Err(RegexError::invalid(format!(
                        "`\\{c}` at position {} must be followed by a `{{name}}`",
                        pos + 1
                    ))
                    .help("write `\\p{L}` (the one-letter `\\pL` form is not .NET syntax)"));
                }
                let start = self.i;
                while let Some(x) = self.at(self.i) {
                    self.i += 1;
                    if x == '}' {
                        let name: String = self
                            .src
                            .get(start + 1..self.i - 1)
                            .unwrap_or(&[])
                            .iter()
                            .collect();
                        return unicode_class(c, &name, pos).map(|set| Some(Item::Set(set)));
                    }
                }
                Err(RegexError::invalid(format!(
                    "`\\{c}{{` at position {} is not closed",
                    pos + 1
                )))
            }
            _ if c.is_alphanumeric() || c == '_' => Err(RegexError::invalid(format!(
                "unrecognized escape `\\{c}` at position {}",
                pos + 1
            ))),
            // `\<`, `\>`, `\.` and every other escaped symbol are literals in .NET.
            _ => Ok(Some(Item::Char(c))),
        }
    }

    fn hex(&mut self, n: usize) -> Option<u32> {
        let digits: String = self.src.get(self.i..self.i + n)?.iter().collect();
        if !digits.chars().all(|d| d.is_ascii_hexdigit()) {
            return None;
        }
        self.i += n;
        u32::from_str_radix(&digits, 16).ok()
    }

    /// A character class `[…]`, re-emitted item by item: .NET has no nested classes and no
    /// set operators, so `[`, `&&`, `~~` and `--` are literals there and are written as
    /// escapes for the crate.
    fn class(&mut self) -> Result<(), RegexError> {
        let open = self.i;
        self.i += 1;
        self.emit("[", open);
        if self.at(self.i) == Some('^') {
            self.emit("^", self.i);
            self.i += 1;
        }
        let mut first = true;
        loop {
            let pos = self.i;
            let Some(c) = self.at(pos) else {
                return Err(RegexError::invalid(format!(
                    "the character class `[` at position {} is not closed",
                    open + 1
                )));
            };
            if c == ']' && !first {
                self.emit("]", pos);
                self.i += 1;
                return Ok(());
            }
            if c == '-' && !first && self.at(pos + 1) == Some('[') {
                return Err(RegexError::dotnet_only("the class subtraction `-[…]`", pos));
            }
            first = false;
            let item = self.class_item()?;
            match item {
                Item::Set(s) => {
                    self.emit(&s, pos);
                }
                Item::Char(lo) => {
                    let dash = self.i;
                    if self.at(dash) == Some('-') && self.at(dash + 1).is_some_and(|n| n != ']') {
                        if self.at(dash + 1) == Some('[') {
                            return Err(RegexError::dotnet_only(
                                "the class subtraction `-[…]`",
                                dash,
                            ));
                        }
                        self.i += 1;
                        match self.class_item()? {
                            Item::Char(hi) if hi >= lo => {
                                self.emit_literal(lo, pos);
                                self.emit("-", dash);
                                self.emit_literal(hi, dash + 1);
                            }
                            Item::Char(_) => {
                                return Err(RegexError::invalid(format!(
                                    "the range at position {} is in reverse order",
                                    pos + 1
                                )));
                            }
                            Item::Set(_) => {
                                return Err(RegexError::invalid(format!(
                                    "a range at position {} cannot end in a class like `\\d`",
                                    pos + 1
                                )));
                            }
                        }
                    } else {
                        self.emit_literal(lo, pos);
                    }
                }
            }
        }
    }

    fn class_item(&mut self) -> Result<Item, RegexError> {
        let pos = self.i;
        match self.at(pos) {
            Some('\\') => match self.escape(true)? {
                Some(item) => Ok(item),
                None => Err(RegexError::invalid(format!(
                    "unexpected escape at position {}",
                    pos + 1
                ))),
            },
            Some('[') if self.at(pos + 1) == Some(':') && self.posix_class_end(pos).is_some() => {
                let end = self.posix_class_end(pos).unwrap_or(pos);
                let name: String = self
                    .src
                    .get(pos + 2..end.saturating_sub(2))
                    .unwrap_or(&[])
                    .iter()
                    .collect();
                let instead = match name.as_str() {
                    "digit" => "`\\d`",
                    "space" => "`\\s`",
                    "word" => "`\\w`",
                    "alpha" => "`\\p{L}`",
                    "upper" => "`\\p{Lu}`",
                    "lower" => "`\\p{Ll}`",
                    "alnum" => "`\\p{L}\\d` inside the class",
                    "punct" => "`\\p{P}`",
                    _ => "a Unicode class such as `\\p{L}` or `\\d`",
                };
                Err(RegexError::invalid(format!(
                    "`[:{name}:]` at position {} is POSIX class syntax, not .NET",
                    pos + 1
                ))
                .help(&format!("use {instead}")))
            }
            Some(c) => {
                self.i += 1;
                Ok(Item::Char(c))
            }
            None => Err(RegexError::invalid(
                "the character class is not closed".to_owned(),
            )),
        }
    }

    fn posix_class_end(&self, pos: usize) -> Option<usize> {
        let mut k = pos + 2;
        while self.at(k)?.is_ascii_alphabetic() {
            k += 1;
        }
        (k > pos + 2 && self.at(k)? == ':' && self.at(k + 1)? == ']').then_some(k + 2)
    }

    /// `(`: groups, options and the .NET-only group kinds.
    fn group(&mut self) -> Result<(), RegexError> {
        let pos = self.i;
        if self.at(pos + 1) != Some('?') {
            self.emit("(", pos);
            self.i += 1;
            return Ok(());
        }
        let next = self.at(pos + 2);
        match next {
            Some('#') => {
                let mut k = pos + 3;
                while let Some(c) = self.at(k) {
                    if c == ')' {
                        self.i = k + 1;
                        return Ok(());
                    }
                    k += 1;
                }
                Err(RegexError::invalid(format!("the comment `(?#` at position {} is not closed", pos + 1)))
            }
            Some('=') => Err(RegexError::dotnet_only("the lookahead `(?=…)`", pos).help("match the context too, capture the part to replace in a named group and pass its name as regexGroupName")),
            Some('!') => Err(RegexError::dotnet_only("the negative lookahead `(?!…)`", pos)),
            Some('>') => Err(RegexError::dotnet_only("the atomic group `(?>…)`", pos)),
            Some('(') => Err(RegexError::dotnet_only("the conditional `(?(…)…)`", pos)),
            Some('<') if self.at(pos + 3) == Some('=') => {
                Err(RegexError::dotnet_only("the lookbehind `(?<=…)`", pos).help("match the context too, capture the part to replace in a named group and pass its name as regexGroupName"))
            }
            Some('<') if self.at(pos + 3) == Some('!') => {
                Err(RegexError::dotnet_only("the negative lookbehind `(?<!…)`", pos))
            }
            Some(open @ ('<' | '\'')) => {
                let close = if open == '<' { '>' } else { '\'' };
                let start = pos + 3;
                let mut k = start;
                while let Some(c) = self.at(k) {
                    if c == close {
                        break;
                    }
                    k += 1;
                }
                if self.at(k).is_none() {
                    return Err(RegexError::invalid(format!("the group name at position {} is not closed", pos + 1)));
                }
                let name: String = self.src.get(start..k).unwrap_or(&[]).iter().collect();
                if name.contains('-') {
                    return Err(RegexError::dotnet_only(&format!("the balancing group `(?{open}{name}{close}…)`"), pos));
                }
                if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return Err(RegexError::invalid(format!("invalid group name `{name}` at position {}", pos + 1)));
                }
                if name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    return Err(RegexError::invalid(format!(
                        "the numbered group `(?<{name}>…)` at position {} is not supported",
                        pos + 1
                    ))
                    .help("give the group a name that starts with a letter"));
                }
                let seen = self.names.iter().filter(|n| **n == name).count();
                if seen == 0 {
                    self.emit(&format!("(?<{name}>"), pos);
                } else {
                    self.emit(&format!("(?<{name}.{}>", seen + 1), pos);
                }
                self.names.push(name);
                self.i = k + 1;
                Ok(())
            }
            Some('P') => Err(RegexError::invalid(format!(
                "`(?P` at position {} is Python/Rust syntax, not .NET",
                pos + 1
            ))
            .help("write named groups as `(?<name>…)`")),
            Some(':') => {
                self.emit("(?:", pos);
                self.i = pos + 3;
                Ok(())
            }
            _ => {
                let mut k = pos + 2;
                let mut negated = false;
                let mut flags = String::new();
                loop {
                    match self.at(k) {
                        Some(c @ ('i' | 'm' | 's' | 'x')) => {
                            if c == 'x' && !negated {
                                self.x_mode = true;
                            }
                            flags.push(c);
                        }
                        Some('-') => {
                            negated = true;
                            flags.push('-');
                        }
                        Some('n') => {
                            return Err(RegexError::dotnet_only("the option `n` (explicit capture)", pos)
                                .help("use non-capturing groups `(?:…)` instead"));
                        }
                        Some(c @ ('U' | 'R' | 'u')) => {
                            return Err(RegexError::invalid(format!(
                                "`{c}` at position {} is not a .NET regex option",
                                k + 1
                            ))
                            .help(".NET options are `i`, `m`, `s`, `x` and `n`"));
                        }
                        Some(end @ (':' | ')')) => {
                            self.emit(&format!("(?{flags}{end}"), pos);
                            self.i = k + 1;
                            return Ok(());
                        }
                        _ => {
                            return Err(RegexError::invalid(format!(
                                "unrecognized group construct at position {}",
                                pos + 1
                            )));
                        }
                    }
                    k += 1;
                }
            }
        }
    }

    /// The position of the `}` when the `{` at `pos` starts `{n}`, `{n,}` or `{n,m}`.
    fn quantifier_end(&self, pos: usize) -> Option<usize> {
        let mut k = pos + 1;
        let digits = |k: &mut usize| {
            let s = *k;
            while self.at(*k).is_some_and(|c| c.is_ascii_digit()) {
                *k += 1;
            }
            *k > s
        };
        if !digits(&mut k) {
            return None;
        }
        if self.at(k) == Some(',') {
            k += 1;
            digits(&mut k);
        }
        (self.at(k) == Some('}')).then_some(k)
    }

    /// `{`: a quantifier when it reads `{n}`, `{n,}` or `{n,m}`, else a literal in .NET.
    fn brace(&mut self) {
        let pos = self.i;
        match self.quantifier_end(pos) {
            Some(k) => {
                let text: String = self.src.get(pos..=k).unwrap_or(&[]).iter().collect();
                self.emit(&text, pos);
                self.i = k + 1;
            }
            None => {
                self.emit("\\{", pos);
                self.i += 1;
            }
        }
    }
}

/// The general categories .NET accepts in `\p{…}` (besides named blocks `IsXxx`).
const DOTNET_CATEGORIES: &[&str] = &[
    "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "Z", "Zs",
    "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co", "Cn", "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
    "S", "Sm", "Sc", "Sk", "So",
];

/// `\p{name}`: .NET knows general categories and named blocks; the crate knows categories and
/// scripts but no blocks (and would read `IsGreek` as the script Greek, a different set).
fn unicode_class(c: char, name: &str, pos: usize) -> Result<String, RegexError> {
    if DOTNET_CATEGORIES.contains(&name) {
        return Ok(format!("\\{c}{{{name}}}"));
    }
    if name.starts_with("Is") {
        return Err(
            RegexError::dotnet_only(&format!("the Unicode block `\\{c}{{{name}}}`"), pos).help(
                "write the block as a code point range, e.g. `[\\u0370-\\u03FF]` for IsGreek",
            ),
        );
    }
    Err(RegexError::invalid(format!(
        "`\\{c}{{{name}}}` at position {} is not a .NET Unicode category",
        pos + 1
    ))
    .help("use a general category such as `\\p{L}`, `\\p{Lu}` or `\\p{Nd}`"))
}

/// Turns a crate syntax error (its multi-line text, with a caret under the translated
/// pattern) into `invalid-regex` at the user's position.
fn syntax_error(pattern: &str, tr: &Translated, text: &str) -> RegexError {
    let lines: Vec<&str> = text.lines().collect();
    let what = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or("syntax error")
        .to_owned();
    // The caret line is the pattern's column plus four spaces of indentation.
    let column = lines
        .iter()
        .find(|l| l.trim_start().starts_with('^') && l.trim().chars().all(|c| c == '^'))
        .map(|l| {
            l.chars()
                .take_while(|c| *c == ' ')
                .count()
                .saturating_sub(4)
        });
    let pos = column
        .and_then(|c| tr.map.get(c).copied())
        .or(column.map(|_| pattern.chars().count()));
    let message = match pos {
        Some(p) if !pattern.contains('\n') => {
            format!("{what} at position {} in `{pattern}`", p + 1)
        }
        _ => format!("{what} in `{pattern}`"),
    };
    RegexError::invalid(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(pattern: &str, replacement: &str, hay: &str) -> String {
        let re = DotnetRegex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e:?}"));
        let ex = Expander::new(replacement, &re);
        let mut out = String::new();
        let mut last = 0;
        let mut found = re.matches(hay, true);
        while let Some((start, end)) = found.next() {
            out.push_str(&hay[last..start]);
            ex.expand(found.caps(), hay, &mut out);
            last = end;
        }
        out.push_str(&hay[last..]);
        out
    }

    #[test]
    fn translations() {
        let cases: &[(&str, &str)] = &[
            (r"\+(?<isd>\d* )", r"\x{2B}(?<isd>\d* )"),
            (r"(?'n'a)", "(?<n>a)"),
            (r"a\<b\>", r"a\x{3C}b\x{3E}"),
            (r"[\b]\e\cA", r"[\x{8}]\x{1B}\x{1}"),
            ("a(?#note)b", "ab"),
            ("a{b", r"a\{b"),
            ("a{2}b{1,}c{1,3}", "a{2}b{1,}c{1,3}"),
            ("a??b*?c{2}?", "a??b*?c{2}?"),
            ("a{,3}", r"a\{,3\}"),
            ("[a&&b~~c]", r"[a\x{26}\x{26}b\x{7E}\x{7E}c]"),
            ("[--/]", r"[\x{2D}-\x{2F}]"),
            ("[a-]", r"[a\x{2D}]"),
            ("[a-c-e]", r"[a-c\x{2D}e]"),
            ("[[a]", r"[\x{5B}a]"),
            ("[]a]", r"[\x{5D}a]"),
            ("[^a-z0-9]", "[^a-z0-9]"),
            (r"[()\s-]+", r"[\x{28}\x{29}\s\x{2D}]+"),
            (r"(?i)ab(?-i:c)", "(?i)ab(?-i:c)"),
            (r"\uD83D\uDE00", r"\x{1F600}"),
            (r"\p{Lu}\P{L}", r"\p{Lu}\P{L}"),
        ];
        for &(net, want) in cases {
            assert_eq!(
                translate(net).map(|t| t.pattern),
                Ok(want.to_owned()),
                "{net}"
            );
        }
    }

    #[test]
    fn rejections() {
        use RegexErrorKind::{DotnetOnly, Invalid};
        let cases: &[(&str, RegexErrorKind, &str)] = &[
            ("a(?=b)", DotnetOnly, "lookahead `(?=…)` at position 2"),
            ("a(?!b)", DotnetOnly, "negative lookahead"),
            ("(?<=a)b", DotnetOnly, "lookbehind `(?<=…)` at position 1"),
            ("(?<!a)b", DotnetOnly, "negative lookbehind"),
            (r"(a)\1", DotnetOnly, "backreference `\\1`"),
            (r"(?<x>a)\k<x>", DotnetOnly, "named backreference"),
            ("(?<a-b>x)", DotnetOnly, "balancing group"),
            ("(?'a-b'x)", DotnetOnly, "balancing group"),
            ("(?>a)", DotnetOnly, "atomic group"),
            ("(?(a)b|c)", DotnetOnly, "conditional"),
            (r"\Ga", DotnetOnly, "`\\G`"),
            (r"a\Z", DotnetOnly, "`\\Z`"),
            (r"\012", DotnetOnly, "octal"),
            ("(?n)a", DotnetOnly, "option `n`"),
            ("[a-z-[aeiou]]", DotnetOnly, "class subtraction"),
            ("(?P<n>a)", Invalid, "`(?P`"),
            ("(?U)a", Invalid, "not a .NET regex option"),
            ("[[:alpha:]]", Invalid, "`[:alpha:]` at position 2 is POSIX"),
            (r"\pL", Invalid, "`\\p`"),
            ("(abc", Invalid, "unclosed group"),
            ("a)", Invalid, "unopened group"),
            ("*a", Invalid, "position 1"),
            (r"\q", Invalid, "unrecognized escape `\\q`"),
            ("a\\", Invalid, "lone `\\`"),
            ("[abc", Invalid, "not closed"),
            ("[z-a]", Invalid, "reverse order"),
            ("[a--b]", Invalid, "reverse order"),
            ("a**", Invalid, "nested quantifier `*` at position 3"),
            ("a{2}{3}", Invalid, "nested quantifier `{`"),
            (
                r"\p{IsGreek}",
                DotnetOnly,
                "the Unicode block `\\p{IsGreek}` at position 1",
            ),
            (r"[\P{IsGreek}]", DotnetOnly, "Unicode block"),
            (r"\p{Greek}", Invalid, "not a .NET Unicode category"),
            (r"\p{Nope}", Invalid, "not a .NET Unicode category"),
            ("a+?+", Invalid, "nested quantifier `+`"),
            (r"\x4", Invalid, "two hex digits"),
        ];
        for &(net, kind, needle) in cases {
            match DotnetRegex::new(net) {
                Ok(_) => panic!("{net} compiled"),
                Err(e) => {
                    assert_eq!(e.kind, kind, "{net}: {e:?}");
                    assert!(
                        e.message.contains(needle),
                        "{net}: {:?} lacks {needle:?}",
                        e.message
                    );
                }
            }
        }
    }

    #[test]
    fn dotnet_iteration_and_substitution() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("x*", "-", "xab", "--a-b-"),
            ("a*", "-", "baaac", "-b--c-"),
            ("", "-", "ab", "-a-b-"),
            ("", "-", "😀", "-😀-"),
            (
                r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})",
                "${phoneNumber}",
                "+91 9998887777",
                "9998887777",
            ),
            ("[a-zA-Z_]*", "", "john_doe72", "72"),
            ("(a)(b)", "$2$1", "ab", "ba"),
            ("(a)", "$1x", "a", "ax"),
            ("(a)", "$12", "a", "$12"),
            ("(a)", "${1}2", "a", "a2"),
            ("(a)", "${nope}", "a", "${nope}"),
            ("(a)", "${1", "a", "${1"),
            ("b", "$$", "abc", "a$c"),
            ("b", "[$&]", "abc", "a[b]c"),
            ("b", "[$`]", "abc", "a[a]c"),
            ("b", "[$']", "abc", "a[c]c"),
            ("b", "[$_]", "abc", "a[abc]c"),
            ("(?<n>a)(b)", "$+", "ab", "a"),
            ("(?<n>a)(?<n>b)", "${n.2}", "ab", "${n.2}"),
            ("(?<n>a)(b)", "$1$2", "ab", "ba"),
            ("(?<n>a)|(?<n>b)", "[${n}]", "ab", "[a][b]"),
            ("(?<n>a)(?<n>b)", "[${n}$1]", "ab", "[bb]"),
            ("(?<n>a)(x)|(?<n>b)", "[$1$2]", "axb", "[xa][b]"),
            ("b", "$", "abc", "a$c"),
            ("b", "$x", "abc", "a$xc"),
            ("b", "$0$0", "abc", "abbc"),
            ("(a)|(b)", "[$2]", "ab", "[][b]"),
            (r"a\<b\>", "!", "a<b>", "!"),
            ("a{b", "!", "a{b", "!"),
            ("(?i)X", "y", "xX", "yy"),
            ("^", ">", "ab", ">ab"),
            ("$", "<", "ab", "ab<"),
            ("a]", "!", "a]", "!"),
            (r"a\ b", "!", "a b", "!"),
            (r"(?x) a \  b # comment (?=", "!", "a b", "!"),
            (r"(?x)[ ]", "!", "a b", "a!b"),
            (r"\#\%\-\!", "!", "#%-!", "!"),
            (r"[\<\>]", "", "<a>", "a"),
            (r"\u00e9", "e", "café", "cafe"),
            (r"\x41\cJ", "!", "A\n", "!"),
            (r"(?s).+", "!", "a\nb", "!"),
            (".+", "!", "a\nb", "!\n!"),
            (r"(?m)^b", "!", "a\nb", "a\n!"),
            (r"\bb\b", "!", "a b c", "a ! c"),
            (r"\p{Lu}+", "", "ÉCOLE école", " école"),
        ];
        for &(pat, rep, hay, want) in cases {
            assert_eq!(replace(pat, rep, hay), want, "{pat} / {rep} / {hay}");
        }
    }

    proptest::proptest! {
        #[test]
        fn char_filter_equals_regex_deletion(
            class in "\\[\\^?[a-c()\\- ]{1,5}\\]|\\\\[sdwSDW]",
            quant in "[+*]?",
            // Short text, and ASCII text around the 64 bytes filtered on the stack.
            hay in "[a-d() \\-\n5é]{0,12}|[a-d() 5-]{56,72}",
        ) {
            let pattern = format!("{class}{quant}");
            if let (Some(f), Ok(_)) = (CharFilter::for_pattern(&pattern), DotnetRegex::new(&pattern)) {
                proptest::prop_assert_eq!(f.remove(&hay).into_owned(), replace(&pattern, "", &hay));
            }
        }
    }

    /// Every group's span in one match.
    type Spans = Vec<Option<(usize, usize)>>;

    /// The matches of `pattern` in `hay` with every group's span: on our searcher, and by
    /// .NET iteration over the `regex` crate's own unanchored search (the reference for the
    /// anchored fast path).
    fn all_groups(pattern: &str, hay: &str) -> (Vec<Spans>, Vec<Spans>) {
        let re = DotnetRegex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e:?}"));
        let reference = regex::Regex::new(&translate(pattern).unwrap().pattern).unwrap();
        let groups = reference.captures_len();
        let mut want = Vec::new();
        let mut pos = 0;
        while pos <= hay.len() {
            let Some(caps) = reference.captures_at(hay, pos) else {
                break;
            };
            let m = caps.get(0).unwrap();
            want.push(
                (0..groups)
                    .map(|i| caps.get(i).map(|g| (g.start(), g.end())))
                    .collect(),
            );
            pos = next_start(hay, m.start(), m.end());
        }
        let mut got = Vec::new();
        let mut found = re.matches(hay, true);
        while found.next().is_some() {
            got.push((0..groups).map(|i| found.caps().get(i)).collect());
        }
        (got, want)
    }

    #[test]
    fn anchored_search_cases() {
        let cases: &[(&str, &str)] = &[
            // The first `+` starts no match; the later ones do.
            (r"\+(\d+) (\d{3})", "+x +1 234 ++5 678 +9 01"),
            (r"(Mr|Ms)\. (\w+)", "Mr Mr. Smith, Ms. Jones, Ms.X"),
            (r"\bfoo(\d?)", "afoo foo1 foofoo foo"),
            (r"(?m)^a(b*)", "ab\nxab\nabb"),
            (r"é(\w)", "éé éa😀éb"),
            (r"x(y)?z*", "xxyzz xz"),
            (
                r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})",
                "+1 4255550100 / +44 2071234567",
            ),
        ];
        for &(pattern, hay) in cases {
            let (got, want) = all_groups(pattern, hay);
            assert!(!want.is_empty(), "{pattern} on {hay:?} should match");
            assert_eq!(got, want, "{pattern} on {hay:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn anchored_search_equals_unanchored(
            pattern in proptest::sample::select(vec![
                r"\+(\d*) (\d{2})",
                r"(Mr|Ms)\. (\w+)",
                r"\bfo(o?)",
                r"(?m)^a(b*)",
                r"ab|(c)",
                r"x(y)?z?",
                r"é(\w)",
                r"(a)|b*",
            ]),
            hay in "[abcxyz+ 0-9.éMrsfo\n]{0,24}",
        ) {
            let (got, want) = all_groups(pattern, &hay);
            proptest::prop_assert_eq!(got, want);
        }
    }

    /// A pattern from pieces that are mostly linear (see `Linear`), sometimes not: atoms
    /// with quantifiers, wrapped in groups, with anchors at the ends or in the middle.
    fn linear_ish_pattern() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        const ATOMS: &[&str] = &[
            "a", "b", "é", " ", r"\d", "[ab]", "[^a]", r"\s", "[a-c]", ".", "x", "(?i:a)", r"\+",
            "😀", "ab", "[é😀]", r"\w", "[^é]",
        ];
        const QUANTS: &[&str] = &[
            "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "*?", "+?", "??", "{1,3}?", "{0}",
        ];
        let element = (0..ATOMS.len(), 0..QUANTS.len(), 0..5usize);
        (
            proptest::collection::vec(element, 1..6),
            0..4usize,
            0..4usize,
            proptest::option::of((0..6usize, 0..6usize)),
        )
            .prop_map(|(elements, head, tail, span)| {
                let n = elements.len();
                let mut out = String::new();
                if head == 1 {
                    out.push('^');
                }
                for (i, &(atom, quant, wrap)) in elements.iter().enumerate() {
                    if span.is_some_and(|(a, _)| a % n == i) {
                        out.push_str("(?<outer>");
                    }
                    if i == 1 && head == 2 {
                        out.push('^');
                    }
                    if i == 1 && tail == 2 {
                        out.push('$');
                    }
                    let body = format!("{}{}", ATOMS[atom], QUANTS[quant]);
                    match wrap {
                        1 => out.push_str(&format!("({body})")),
                        2 => out.push_str(&format!("(?<g{i}>{body})")),
                        // A quantified group: not linear.
                        3 if quant == 0 => out.push_str(&format!("({})+", ATOMS[atom])),
                        _ => out.push_str(&body),
                    }
                    if span.is_some_and(|(a, b)| a % n <= i && (a % n).max(b % n) == i) {
                        out.push(')');
                    }
                }
                if tail == 1 {
                    out.push('$');
                }
                if head == 3 {
                    out = format!("{out}|z");
                }
                out
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The linear walk (and the engine where it gives way) finds exactly the regex
        /// crate's matches and groups, over the whole .NET iteration, with and without
        /// group capture.
        #[test]
        fn linear_walk_equals_regex_crate(
            pattern in linear_ish_pattern(),
            hay in "[ab éx+1😀\n]{0,14}",
        ) {
            let (got, want) = all_groups(&pattern, &hay);
            proptest::prop_assert_eq!(&got, &want, "{}", pattern);
            let re = DotnetRegex::new(&pattern).unwrap();
            let mut spans = Vec::new();
            let mut found = re.matches(&hay, false);
            while let Some(m) = found.next() {
                spans.push(Some(m));
            }
            let whole: Vec<_> = want.iter().map(|g| g[0]).collect();
            proptest::prop_assert_eq!(spans, whole, "{} (whole matches only)", pattern);
        }
    }

    #[test]
    fn linear_patterns() {
        // (pattern, takes the walk); `a|b` is the class `[ab]` to the parser.
        let cases: &[(&str, bool)] = &[
            (r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})", true),
            (r"^(\w+)@contoso\.com$", true),
            (r"(\d{3})-(\d{4})", true),
            ("a*?b", true),
            ("(?i)abc", true),
            (r"\s+", true),
            ("", true),
            ("^", true),
            ("a$b", true),
            // The repetition could stop at a character the rest starts with.
            (r"\d*\d{10}", false),
            ("a*a", false),
            (r"(\w+)\.(\w+)", true),
            (r"(\w+)\s*(\w+)", false),
            ("a|b", true),
            ("ab|cd", false),
            ("(ab)+", false),
            ("(?:ab)*", false),
            (r"\bfoo", false),
            ("(?m)^a", false),
            ("a^", false),
            ("a?^b", false),
        ];
        for &(pattern, linear) in cases {
            let re = DotnetRegex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e:?}"));
            assert_eq!(re.linear.is_some(), linear, "{pattern}");
        }
    }

    #[test]
    fn linear_walk_cases() {
        let cases: &[(&str, &str)] = &[
            (r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})", "+1 4255550100"),
            (
                r"\+(?<isdCode>\d* )(?<phoneNumber>\d{10})",
                "x+1 42555501 +44 2071234567 +1 42555501009",
            ),
            // Unicode digits are `\d` too, and a digit run may mix them with ASCII ones.
            (r"\+(\d* )(\d{3})", "+١٢ ٣4٥ +1 234"),
            (r"^(\w+)@contoso\.com$", "jdoe@contoso.com"),
            (r"^(\w+)@contoso\.com$", "jdoe@contoso.com.evil"),
            (r"(\w+)\.(\w+)", "john.doe, ä.ö, .x"),
            ("a*?b", "aab b aaa"),
            ("a*?", "aab"),
            ("a+?", "aab"),
            ("a{2,}?c", "aaac ac"),
            (r"[é😀]+x", "é😀éx 😀x ex"),
            (r"\d*$", "ab12"),
            ("a*$", "aab"),
            ("^a*", "aab"),
            ("^", "ab"),
            ("$", "ab"),
            ("", "😀a"),
            ("x{0}y", "xy"),
            // Failed walks at `j`, `o`, `h`, `n`, then a match at `d`.
            (r"(\w+)@(\w+)", "john.doe@contoso x@y"),
            // The first failed walk uses up most of the budget; the engine finds the rest.
            (r"\d+x", "1111111111111111 12x 3x"),
            (r"(\d{3})-(\d{4})", "12-345 555-1234 5555-12345"),
        ];
        for &(pattern, hay) in cases {
            let (got, want) = all_groups(pattern, hay);
            assert_eq!(got, want, "{pattern} on {hay:?}");
        }
    }

    #[test]
    fn char_filters() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (r"[()\s-]+", "+1 (999) 888-7777", Some("+19998887777")),
            (r"\s", "a b\tc", Some("abc")),
            (r"\s+", "a b\tc", Some("abc")),
            ("[^0-9]*", "+1 (999)", Some("1999")),
            (r"\p{L}", "a1é2", Some("12")),
            ("[a-z]+x", "abc", None),
            ("(a)", "abc", None),
            ("a+", "abc", None),
            ("[é]+", "café é", Some("caf ")),
            (r"\p{Pd}", "a–b—c-d", Some("abcd")),
            ("[^a-zé]+", "aé-b1😀", Some("aéb")),
            (r"[\uD83D\uDE00\s]+", "a😀 b😁", Some("ab😁")),
            ("[a]|[b]+", "abcabc", Some("cc")),
            ("[ab]{2}", "abc", None),
            ("[ab]?", "abc", None),
            // Refused by the translation: no filter (the pattern's compile reports it).
            (r"\p{IsGreek}+", "αβ", None),
            (r"\p{Greek}", "αβ", None),
            ("[a-z-[aeiou]]", "ab", None),
        ];
        for &(pat, hay, want) in cases {
            let filter = CharFilter::for_pattern(pat);
            assert_eq!(
                filter.as_ref().map(|f| f.remove(hay).into_owned()),
                want.map(str::to_owned),
                "{pat}"
            );
            if want.is_some() {
                assert_eq!(replace(pat, "", hay), want.unwrap_or(""), "{pat} via regex");
            }
        }
    }
}
