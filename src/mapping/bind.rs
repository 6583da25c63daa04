//! Binding a record straight into a mapping set's slot table, borrowing instead of copying.
//!
//! Three ways in, one table out (slot `i` holds the attribute `CompiledSet::attributes()[i]`):
//!
//! - **JSON text** ([`SlotIndex::bind_into`]): one NDJSON line. A hand-written scanner walks the
//!   object once, looks each key up in a small open-addressing table, skips the values of
//!   attributes the set does not read without building anything, and borrows every string
//!   without escapes from the line (escaped ones are unescaped into an owned string, the only
//!   copy). It is deliberately strict: anything it is not sure about — any syntax error, a
//!   fractional or out-of-range number, an object or nested list, app role objects, a lone
//!   surrogate, nesting deeper than [`MAX_FAST_DEPTH`] — makes it give up, and the line goes
//!   through the serde_json binder instead ([`SlotIndex::bind_serde`]), which produces the exact
//!   values and error messages. So the fast path only ever answers where both agree (spec §3.1,
//!   like `value::json_to_value`), and the tests compare the two on generated lines.
//! - **A parsed `serde_json` object** (`CompiledSet::bind_json_borrowed`): one pass over the
//!   object's entries, strings borrowed from it.
//! - **The caller's own records** ([`Binder`]): a sync engine keeps its users in its own structs
//!   or rows. [`Binder::new`] maps each slot to the engine's field number once; per record,
//!   [`Binder::bind`] only asks the engine for those fields and stores what it hands back
//!   (typically `Value::str(&user.mail)`, a borrow) in a slot table whose allocation is reused
//!   from record to record.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::datetime::DateTime;
use crate::error::{ErrorCode, FnError};
use crate::value::{AppRole, Record, Value};

/// Why a line could not be bound.
#[derive(Debug)]
pub enum BindError {
    /// Not JSON, or JSON that is not an object.
    Syntax(String),
    /// An attribute the set reads holds a value mapexpr cannot represent (`invalid-input`).
    Input(FnError),
}

/// Attribute name → slot, for the binders.
#[derive(Clone, Debug, Default)]
pub struct SlotIndex {
    /// For the serde_json binder (the slow path).
    index: HashMap<String, usize>,
    /// For the fast scanner.
    keys: KeyTable,
    len: usize,
    /// The slot of `appRoleAssignments`, whose list elements may be role objects (those lines
    /// go through serde_json).
    roles: Option<usize>,
    /// The key order of the lines bound so far, a hint for the scanner.
    order: KeyOrder,
}

impl SlotIndex {
    /// The index of a layout's names (slot `i` is `names[i]`). A layout never repeats a name;
    /// if `names` does, the first occurrence gets the value in both binders (found by the
    /// `bind` fuzz target) and the later slot stays Null.
    pub fn new(names: &[String]) -> SlotIndex {
        let mut index = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            index.entry(n.clone()).or_insert(i);
        }
        SlotIndex {
            index,
            keys: KeyTable::new(names),
            len: names.len(),
            roles: names.iter().position(|n| n == "appRoleAssignments"),
            order: KeyOrder::new(names.len()),
        }
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the set reads no attribute.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot of an attribute name.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.keys.get(name.as_bytes())
    }

    /// Parses one JSON object into a new slot table; unread attributes are skipped unparsed.
    /// See [`SlotIndex::bind_into`] to reuse the table's allocation.
    pub fn bind<'t>(&self, text: &'t str) -> Result<Vec<Value<'t>>, BindError> {
        let mut slots = Vec::new();
        self.bind_into(text, &mut slots)?;
        Ok(slots)
    }

    /// Parses one JSON object into `slots` (cleared first, then one value per slot), borrowing
    /// its strings from `text`. The fast scanner runs first; a line it is not sure about goes
    /// through [`SlotIndex::bind_serde`], so values and errors are exactly serde_json's. On an
    /// error, `slots` holds no meaningful values.
    pub fn bind_into<'t>(
        &self,
        text: &'t str,
        slots: &mut Vec<Value<'t>>,
    ) -> Result<(), BindError> {
        if self.scan_into(text, slots).is_ok() {
            return Ok(());
        }
        self.bind_serde_into(text, slots)
    }

    /// The fast scanner into `slots`. With at most 64 slots the table is not cleared first:
    /// the scanner overwrites the slots the line holds and notes them in a mask, and only the
    /// others are cleared afterwards (usually none: lines of one export hold the same
    /// attributes).
    #[inline]
    fn scan_into<'t>(&self, text: &'t str, slots: &mut Vec<Value<'t>>) -> Fast<()> {
        let tracked = self.len <= 64;
        if tracked {
            if slots.len() != self.len {
                slots.clear();
                slots.resize_with(self.len, || Value::Null);
            }
        } else {
            reset(slots, self.len);
        }
        let mut scan = Scan {
            text,
            b: text.as_bytes(),
            i: 0,
        };
        let seen = scan.record(self, slots)?;
        if tracked {
            let all = u64::MAX >> (64 - self.len.max(1));
            if seen & all != all {
                clear_unseen(slots, seen);
            }
        }
        Ok(())
    }

    /// The fast scanner alone, on a fresh table: `None` when it defers (tests compare it with
    /// serde_json).
    #[cfg(test)]
    fn bind_fast<'t>(&self, text: &'t str) -> Option<Vec<Value<'t>>> {
        let mut slots = Vec::new();
        self.scan_into(text, &mut slots).ok().map(|()| slots)
    }

    /// The serde_json binder: the reference the fast scanner is tested against, and the path
    /// for lines the scanner leaves alone (errors, rare value shapes).
    pub fn bind_serde<'t>(&self, text: &'t str) -> Result<Vec<Value<'t>>, BindError> {
        let mut slots = Vec::new();
        self.bind_serde_into(text, &mut slots)?;
        Ok(slots)
    }

    fn bind_serde_into<'t>(
        &self,
        text: &'t str,
        slots: &mut Vec<Value<'t>>,
    ) -> Result<(), BindError> {
        slots.clear();
        slots.resize(self.len, Value::Null);
        let mut first_error = None;
        let mut de = serde_json::Deserializer::from_str(text);
        ObjectSeed {
            index: self,
            slots,
            error: &mut first_error,
        }
        .deserialize(&mut de)
        .map_err(|e| BindError::Syntax(e.to_string()))?;
        de.end().map_err(|e| BindError::Syntax(e.to_string()))?;
        match first_error {
            Some(e) => Err(BindError::Input(e)),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Key lookup

/// A small open-addressing table from attribute name bytes to slot. Sized at four entries per
/// name so that a key the set does not read (most keys of a wide record) usually lands on an
/// empty entry at once; the stored 32-bit fingerprint avoids comparing bytes on collisions.
#[derive(Clone, Debug, Default)]
struct KeyTable {
    /// `(fingerprint, slot + 1)`; a zero slot marks an empty entry.
    table: Vec<(u32, u32)>,
    names: Vec<Box<[u8]>>,
    /// For each name, whether JSON writes it without escapes (no `"`, `\` or control
    /// character), so that its raw bytes in a line can be compared with it directly.
    plain: Vec<bool>,
    /// For each plain name of up to [`PATTERN_BYTES`]` - 1` bytes, the name and its closing
    /// quote as a [`KeyPattern`].
    patterns: Vec<Option<KeyPattern>>,
    /// `64 - log2(table.len())`: the index is the hash's top bits.
    shift: u32,
}

impl KeyTable {
    fn new(names: &[String]) -> KeyTable {
        let size = (names.len() * 4).next_power_of_two().max(8);
        let mut table = vec![(0u32, 0u32); size];
        let shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        for (slot, name) in names.iter().enumerate() {
            let h = key_hash(name.as_bytes());
            let mut i = (h >> shift) as usize;
            // The table has at least four times as many entries as names: a free one exists.
            while let Some(entry) = table.get_mut(i) {
                if entry.1 == 0 {
                    *entry = (h as u32, slot as u32 + 1);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        KeyTable {
            table,
            names: names.iter().map(|n| n.as_bytes().into()).collect(),
            plain: names.iter().map(|n| !needs_escape(n.as_bytes())).collect(),
            patterns: names
                .iter()
                .map(|n| KeyPattern::new(n.as_bytes()))
                .collect(),
            shift,
        }
    }

    /// The length of `slot`'s name when the key starting at `b[at]` (just after its opening
    /// quote) is exactly that name, written without escapes: the name's bytes, then the
    /// closing quote. A plain name holds no quote or backslash, so those bytes are the whole
    /// key and no escape can hide in them; any other spelling of the name (with escapes) is
    /// left to the general lookup.
    #[inline(always)]
    fn matches_at(&self, slot: usize, b: &[u8], at: usize) -> Option<usize> {
        if let (Some(Some(p)), Some(raw)) = (
            self.patterns.get(slot),
            b.get(at..).and_then(<[u8]>::first_chunk::<PATTERN_BYTES>),
        ) {
            return p.matches(raw).then_some(p.len);
        }
        let name = self.names.get(slot)?;
        let n = name.len();
        let raw = b.get(at..at + n)?;
        (b.get(at + n) == Some(&b'"') && same_key(name, raw) && self.plain.get(slot) == Some(&true))
            .then_some(n)
    }

    #[inline(always)]
    fn get(&self, key: &[u8]) -> Option<usize> {
        let h = key_hash(key);
        let mask = self.table.len().wrapping_sub(1);
        let mut i = (h >> self.shift) as usize;
        loop {
            let &(fp, slot) = self.table.get(i)?;
            if slot == 0 {
                return None;
            }
            let slot = slot as usize - 1;
            if fp == h as u32 && self.names.get(slot).is_some_and(|n| same_key(n, key)) {
                return Some(slot);
            }
            i = (i + 1) & mask;
        }
    }
}

/// The order in which lines have held the attributes the set reads, kept as a hint: entry 0
/// is the slot (+ 1) of the first such key of the last line bound, entry `s + 1` the slot
/// (+ 1) of the one that followed slot `s`; 0 means no guess. Records of one export list
/// their attributes in the same order, so the scanner compares the key at hand with the
/// guessed name directly (one word comparison and a quote) instead of finding the key's end,
/// hashing it and probing the table. A wrong guess costs that comparison, then the key goes
/// through the table as before; the hint never decides what a key is.
///
/// The index is shared by the worker threads of a run, so the hint is a table of relaxed
/// atomics: each is a plain load or store, and it is written only when a line's order
/// differs from the guess (never, in steady state), so threads do not contend for it. A
/// stale or mixed guess from another thread is merely wrong, never unsafe.
#[derive(Debug, Default)]
struct KeyOrder(Vec<AtomicU32>);

impl KeyOrder {
    fn new(len: usize) -> KeyOrder {
        KeyOrder((0..=len).map(|_| AtomicU32::new(0)).collect())
    }

    /// The guessed slot after state `at` (0: the start of the object, `s + 1`: after slot
    /// `s`).
    #[inline(always)]
    fn guess(&self, at: usize) -> Option<usize> {
        let g = self.0.get(at)?.load(Ordering::Relaxed);
        (g as usize).checked_sub(1)
    }

    /// Records that slot `slot` followed state `at`.
    #[inline(always)]
    fn learn(&self, at: usize, slot: usize) {
        if let Some(e) = self.0.get(at) {
            let v = slot as u32 + 1;
            if e.load(Ordering::Relaxed) != v {
                e.store(v, Ordering::Relaxed);
            }
        }
    }
}

impl Clone for KeyOrder {
    fn clone(&self) -> KeyOrder {
        KeyOrder(
            self.0
                .iter()
                .map(|e| AtomicU32::new(e.load(Ordering::Relaxed)))
                .collect(),
        )
    }
}

/// The bytes a [`KeyPattern`] compares: the longest name it holds is one less (the closing
/// quote is part of the pattern).
const PATTERN_BYTES: usize = 32;

/// A plain name followed by its closing quote, zero-padded to [`PATTERN_BYTES`], with a mask
/// per word of the bytes that count. Comparing a key with it is four word comparisons and no
/// branch on the name's length: the names of a record have many lengths one after the other,
/// which the processor would otherwise mispredict at every key.
#[derive(Clone, Debug)]
struct KeyPattern {
    words: [u64; 4],
    masks: [u64; 4],
    /// The name's length (without the quote).
    len: usize,
}

impl KeyPattern {
    fn new(name: &[u8]) -> Option<KeyPattern> {
        if name.len() >= PATTERN_BYTES || needs_escape(name) {
            return None;
        }
        let mut bytes = [0u8; PATTERN_BYTES];
        let mut mask = [0u8; PATTERN_BYTES];
        for (i, &c) in name.iter().chain([&b'"']).enumerate() {
            *bytes.get_mut(i)? = c;
            *mask.get_mut(i)? = 0xff;
        }
        let words = [0, 8, 16, 24].map(|at| load8(&bytes, at));
        let masks = [0, 8, 16, 24].map(|at| load8(&mask, at));
        Some(KeyPattern {
            words,
            masks,
            len: name.len(),
        })
    }

    /// True when `raw` starts with the name and its closing quote.
    #[inline(always)]
    fn matches(&self, raw: &[u8; PATTERN_BYTES]) -> bool {
        let mut diff = 0;
        for (k, (w, m)) in self.words.iter().zip(&self.masks).enumerate() {
            diff |= (load8(raw, 8 * k) ^ w) & m;
        }
        diff == 0
    }
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Byte equality for short keys with (possibly overlapping) word loads instead of a call to
/// `memcmp`; attribute names are mostly 4–24 bytes.
#[inline(always)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if load8(a, at) != load8(b, at) {
                return false;
            }
            at += 8;
        }
        load8(a, n - 8) == load8(b, n - 8)
    } else if n >= 4 {
        load4(a, 0) == load4(b, 0) && load4(a, n - 4) == load4(b, n - 4)
    } else {
        a == b
    }
}

#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(K).rotate_left(26)
}

/// The eight bytes at `at` as a little-endian word (0 past the end).
#[inline]
pub(crate) fn load8(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(<[u8]>::first_chunk::<8>)
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// The four bytes at `at` as a little-endian word (0 past the end).
#[inline]
pub(crate) fn load4(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(<[u8]>::first_chunk::<4>)
        .map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

/// A fast hash of a short key, reading it in (possibly overlapping) words; the table compares
/// the bytes, so the quality only affects speed.
#[inline]
fn key_hash(k: &[u8]) -> u64 {
    let n = k.len();
    let mut h = (n as u64).wrapping_mul(K);
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            h = mix(h, load8(k, at));
            at += 8;
        }
        h = mix(h, load8(k, n - 8));
    } else if n >= 4 {
        h = mix(h, (load4(k, 0) << 32) | load4(k, n - 4));
    } else if let (Some(&a), Some(&b)) = (k.first(), k.last()) {
        let m = k.get(n / 2).copied().unwrap_or(0);
        h = mix(h, (u64::from(a) << 16) | (u64::from(m) << 8) | u64::from(b));
    }
    h ^ (h >> 31)
}

// ---------------------------------------------------------------------------------------------
// The fast scanner

/// The fast scanner gave up on the line; serde_json binds it instead.
#[derive(Debug)]
struct Defer;

type Fast<T> = Result<T, Defer>;

/// Nesting the scanner follows inside skipped values; deeper lines go through serde_json
/// (which skips ignored values at any depth).
pub const MAX_FAST_DEPTH: usize = 64;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// One flag bit per byte of `w` that is `"`, `\` or a control character (< 0x20): the bytes
/// that end a run of plain string content in JSON. Only the lowest flag is exact (a borrow can
/// flag a byte above a real one), which is the only one used.
#[inline]
pub(crate) fn specials(w: u64) -> u64 {
    // `"` (0x22) and the control characters are exactly the bytes that are below 0x21 once
    // bit 1 is flipped (the flip maps 0x00..=0x1f onto itself and 0x22 to 0x20, and keeps
    // everything else at 0x21 or above), so one "less than" test finds them all; the
    // backslash takes an equality test.
    let x = w ^ (ONES * 0x02);
    let s = w ^ (ONES * u64::from(b'\\'));
    ((x.wrapping_sub(ONES * 0x21) & !x) | (s.wrapping_sub(ONES) & !s)) & HIGH
}

/// The offset, from `at`, of the first `"`, `\` or control byte in `b[at..]` (or the length of
/// the rest when there is none), reading eight bytes at a time; the last few bytes of `b` are
/// read as one word padded with a plain byte.
#[inline(always)]
pub(crate) fn plain_run(b: &[u8], at: usize) -> usize {
    // Sixteen bytes at a time: most strings (keys, codes, names) end within the first two
    // words, and the first flag of a pair is taken without a branch, so a string's length
    // does not steer a branch the processor would mispredict.
    let from = b.get(at..).unwrap_or_default();
    let mut pairs = from.chunks_exact(16);
    let mut i = 0;
    for pair in &mut pairs {
        let m = u128::from(specials(load8(pair, 0))) | (u128::from(specials(load8(pair, 8))) << 64);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 16;
    }
    // Under 16 bytes left (the end of the line): a word, then the rest padded with a plain
    // byte.
    let mut rest = pairs.remainder();
    if let Some(w) = rest.first_chunk::<8>() {
        let m = specials(u64::from_le_bytes(*w));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
        rest = rest.get(8..).unwrap_or_default();
    }
    let mut w = [b'A'; 8];
    for (d, s) in w.iter_mut().zip(rest) {
        *d = *s;
    }
    let m = specials(u64::from_le_bytes(w));
    i + ((m.trailing_zeros() / 8) as usize).min(rest.len())
}

/// True when `b` holds a `"`, `\` or control byte (text that JSON must escape). Reads whole
/// words, the last one overlapping the one before, so a short string costs one or two word
/// tests and no byte loop; the output writer calls it for every string it writes.
#[inline]
pub(crate) fn needs_escape(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if specials(load8(b, at)) != 0 {
                return true;
            }
            at += 8;
        }
        specials(load8(b, n - 8)) != 0
    } else if n >= 4 {
        // Two overlapping halves of one word: flags are per byte, so any special byte shows.
        specials((load4(b, 0) << 32) | load4(b, n - 4)) != 0
    } else {
        b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\')
    }
}

struct Scan<'t> {
    text: &'t str,
    b: &'t [u8],
    i: usize,
}

/// A string's raw content `b[start..end]` and whether it holds escapes.
struct Raw {
    start: usize,
    end: usize,
    escaped: bool,
}

impl<'t> Scan<'t> {
    #[inline]
    fn peek(&self) -> Fast<u8> {
        self.b.get(self.i).copied().ok_or(Defer)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// [`Scan::ws`] behind one comparison: between the tokens of a record there is usually
    /// no white space at all (JSON writers print NDJSON compact).
    #[inline(always)]
    fn ws_fast(&mut self) {
        if self.b.get(self.i).is_some_and(|&c| c <= b' ') {
            self.ws();
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Fast<()> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Defer)
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Fast<()> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Defer)
        }
    }

    /// The whole line: one object, then only white space. Returns the mask of the slots it
    /// wrote (bit `s` for slot `s < 64`); slots it did not write are left as they were.
    fn record(&mut self, index: &SlotIndex, slots: &mut [Value<'t>]) -> Fast<u64> {
        let mut seen = 0u64;
        self.ws();
        self.eat(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
        } else {
            // The key-order state: 0 at the start, `s + 1` after the key of slot `s`.
            let mut state = 0;
            loop {
                self.eat(b'"')?;
                let guess = index.order.guess(state);
                let slot = match guess.and_then(|g| index.keys.matches_at(g, self.b, self.i)) {
                    Some(len) => {
                        self.i += len + 1;
                        guess
                    }
                    None => {
                        let key = self.string()?;
                        let slot = match self.b.get(key.start..key.end) {
                            Some(k) if !key.escaped => index.keys.get(k),
                            Some(_) => index.keys.get(self.unescape(&key)?.as_bytes()),
                            None => return Err(Defer),
                        };
                        if let Some(s) = slot {
                            index.order.learn(state, s);
                        }
                        slot
                    }
                };
                self.ws_fast();
                self.eat(b':')?;
                self.ws_fast();
                match slot {
                    Some(slot) => {
                        match slots.get_mut(slot) {
                            Some(dst) => self.value_into(dst, index.roles == Some(slot))?,
                            None => return Err(Defer),
                        }
                        // Past 64 slots the mask is not used (the table was cleared first).
                        seen |= 1u64.wrapping_shl(slot as u32);
                        state = slot + 1;
                    }
                    None => self.skip(0)?,
                }
                self.ws_fast();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.ws_fast();
                    }
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(Defer),
                }
            }
        }
        self.ws();
        if self.i == self.b.len() {
            Ok(seen)
        } else {
            Err(Defer)
        }
    }

    /// After an opening quote: finds the closing one, checking escapes as serde_json does for a
    /// string it skips (`\u` needs four hex digits; surrogates are checked only on unescaping).
    /// Most strings have no escape: one run to the closing quote, inline.
    #[inline(always)]
    fn string(&mut self) -> Fast<Raw> {
        let start = self.i;
        let end = start + plain_run(self.b, start);
        if self.b.get(end) == Some(&b'"') {
            self.i = end + 1;
            return Ok(Raw {
                start,
                end,
                escaped: false,
            });
        }
        self.i = end;
        self.string_escaped(start)
    }

    /// The rest of a string at an escape (or a control character, which defers).
    #[inline(never)]
    fn string_escaped(&mut self, start: usize) -> Fast<Raw> {
        let mut escaped = false;
        loop {
            self.i += plain_run(self.b, self.i);
            match self.peek()? {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    return Ok(Raw {
                        start,
                        end,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            self.i += 1;
                            self.hex4()?;
                        }
                        _ => return Err(Defer),
                    }
                }
                _ => return Err(Defer),
            }
        }
    }

    fn hex4(&mut self) -> Fast<u32> {
        let mut n = 0u32;
        for _ in 0..4 {
            let d = match self.peek()? {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                c @ b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(Defer),
            };
            n = n * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(n)
    }

    /// A string's text: borrowed from the line when it has no escapes.
    #[inline]
    fn text_of(&self, raw: &Raw) -> Fast<Cow<'t, str>> {
        if raw.escaped {
            self.unescape(raw).map(Cow::Owned)
        } else {
            self.text
                .get(raw.start..raw.end)
                .map(Cow::Borrowed)
                .ok_or(Defer)
        }
    }

    /// Decodes a string with escapes; a lone or reversed surrogate defers (serde_json rejects
    /// it in a string it reads).
    #[cold]
    fn unescape(&self, raw: &Raw) -> Fast<String> {
        let mut out = String::with_capacity(raw.end - raw.start);
        let mut sub = Scan {
            text: self.text,
            b: self.b,
            i: raw.start,
        };
        while sub.i < raw.end {
            let run = plain_run(sub.b, sub.i).min(raw.end - sub.i);
            out.push_str(sub.text.get(sub.i..sub.i + run).ok_or(Defer)?);
            sub.i += run;
            if sub.i >= raw.end {
                break;
            }
            sub.eat(b'\\')?;
            let c = sub.peek()?;
            sub.i += 1;
            match c {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let n = sub.hex4()?;
                    let c = match n {
                        0xD800..=0xDBFF => {
                            sub.literal(b"\\u")?;
                            let lo = sub.hex4()?;
                            if !(0xDC00..=0xDFFF).contains(&lo) {
                                return Err(Defer);
                            }
                            0x1_0000 + ((n - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        _ => n,
                    };
                    out.push(char::from_u32(c).ok_or(Defer)?);
                }
                _ => return Err(Defer),
            }
        }
        Ok(out)
    }

    /// A JSON integer that fits `i64` (serde_json hands those to the binder as integers);
    /// fractions, exponents, `-0` (a float to serde_json) and anything out of range defer.
    fn integer(&mut self) -> Fast<i64> {
        let neg = self.b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(&c @ b'0'..=b'9') = self.b.get(self.i) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(c - b'0')))
                .ok_or(Defer)?;
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.b.get(start) == Some(&b'0')) {
            return Err(Defer);
        }
        if let Some(b'.' | b'e' | b'E') = self.b.get(self.i) {
            return Err(Defer);
        }
        if neg {
            if n == 0 || n > 1 << 63 {
                return Err(Defer);
            }
            Ok((n as i64).wrapping_neg())
        } else {
            i64::try_from(n).map_err(|_| Defer)
        }
    }

    /// Skips a number, checking the JSON grammar (what serde_json accepts in a skipped value).
    fn skip_number(&mut self) -> Fast<()> {
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => {
                self.i += 1;
                if let Some(b'0'..=b'9') = self.b.get(self.i) {
                    return Err(Defer);
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return Err(Defer),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(Defer);
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(Defer);
            }
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    /// Skips any value the set does not read, building nothing.
    fn skip(&mut self, depth: usize) -> Fast<()> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                self.string().map(|_| ())
            }
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            open @ (b'[' | b'{') => {
                if depth >= MAX_FAST_DEPTH {
                    return Err(Defer);
                }
                let close = if open == b'[' { b']' } else { b'}' };
                self.i += 1;
                self.ws();
                if self.peek()? == close {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    if open == b'{' {
                        self.eat(b'"')?;
                        self.string()?;
                        self.ws();
                        self.eat(b':')?;
                        self.ws();
                    }
                    self.skip(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                        }
                        c if c == close => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(Defer),
                    }
                }
            }
            _ => Err(Defer),
        }
    }

    /// The value of an attribute the set reads (spec §3.1).
    /// [`Scan::value`] stored into `dst`; plain text (the common case) is written in place.
    #[inline(always)]
    fn value_into(&mut self, dst: &mut Value<'t>, roles: bool) -> Fast<()> {
        if self.b.get(self.i) == Some(&b'"') {
            self.i += 1;
            let raw = self.string()?;
            if !raw.escaped {
                let s = self.text.get(raw.start..raw.end).ok_or(Defer)?;
                match dst {
                    // The slot still holds the previous line's text for this attribute (the
                    // usual case in a batch): only the reference changes.
                    Value::Str(Cow::Borrowed(old)) => *old = s,
                    other => discard(std::mem::replace(other, Value::Str(Cow::Borrowed(s)))),
                }
                return Ok(());
            }
            let s = self.unescape(&raw)?;
            discard(std::mem::replace(dst, Value::string(s)));
            return Ok(());
        }
        let v = self.value(roles)?;
        discard(std::mem::replace(dst, v));
        Ok(())
    }

    fn value(&mut self, roles: bool) -> Fast<Value<'t>> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                let raw = self.string()?;
                self.text_of(&raw).map(Value::Str)
            }
            b'n' => self.literal(b"null").map(|()| Value::Null),
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'-' | b'0'..=b'9' => self.integer().map(Value::Int),
            // Role objects are read through serde_json.
            b'[' if !roles => self.list(),
            _ => Err(Defer),
        }
    }

    /// A list: text as is, integers and Booleans as their text, nulls dropped; an empty list
    /// is Null.
    fn list(&mut self) -> Fast<Value<'t>> {
        self.i += 1;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Ok(Value::Null);
        }
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    let raw = self.string()?;
                    out.push(Value::Str(self.text_of(&raw)?));
                }
                b'n' => self.literal(b"null")?,
                b't' => {
                    self.literal(b"true")?;
                    out.push(Value::str("True"));
                }
                b'f' => {
                    self.literal(b"false")?;
                    out.push(Value::str("False"));
                }
                b'-' | b'0'..=b'9' => {
                    let n = self.integer()?;
                    out.push(Value::string(n.to_string()));
                }
                _ => return Err(Defer),
            }
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    return Ok(Value::multi(out));
                }
                _ => return Err(Defer),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Binding the caller's own records

/// One slot of a record bound by a [`Binder`]: a borrowed view of one of the caller's fields.
/// It is `Copy` and owns nothing, so a table of them is overwritten record after record with
/// plain stores (no drop glue), and a mapping reading the slot gets a [`Value`] borrowing the
/// caller's data.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Field<'r> {
    /// No value (an absent or empty attribute).
    #[default]
    Null,
    /// Text, borrowed.
    Str(&'r str),
    /// An integer.
    Int(i64),
    /// A Boolean.
    Bool(bool),
    /// An instant.
    Date(DateTime),
    /// Any value the caller keeps as a [`Value`] (for example a multi-valued attribute built
    /// once per record), borrowed.
    Value(&'r Value<'r>),
    /// A multi-valued attribute kept as the caller's strings. A mapping reading it gets a list
    /// borrowing them, built when read (one allocation per read; keep a [`Field::Value`] to
    /// avoid it).
    Texts(&'r [String]),
}

impl<'r> Field<'r> {
    /// The value a mapping reads.
    #[inline]
    pub fn value(self) -> Value<'r> {
        match self {
            Field::Null => Value::Null,
            Field::Str(s) => Value::Str(Cow::Borrowed(s)),
            Field::Int(i) => Value::Int(i),
            Field::Bool(b) => Value::Bool(b),
            Field::Date(d) => Value::Date(d),
            Field::Value(v) => v.reborrow(),
            Field::Texts(t) => Value::multi(t.iter().map(|s| Value::str(s)).collect()),
        }
    }
}

impl<'r> From<&'r str> for Field<'r> {
    fn from(s: &'r str) -> Field<'r> {
        Field::Str(s)
    }
}

impl<'r> From<&'r String> for Field<'r> {
    fn from(s: &'r String) -> Field<'r> {
        Field::Str(s)
    }
}

impl<'r, T: Into<Field<'r>>> From<Option<T>> for Field<'r> {
    fn from(v: Option<T>) -> Field<'r> {
        v.map_or(Field::Null, Into::into)
    }
}

impl From<i64> for Field<'_> {
    fn from(i: i64) -> Self {
        Field::Int(i)
    }
}

impl From<bool> for Field<'_> {
    fn from(b: bool) -> Self {
        Field::Bool(b)
    }
}

/// A table of fields in slot order is a record the set's programs read by slot (like
/// [`SlotRecord`](crate::SlotRecord)): `set.apply(table.as_slice(), mode, ctx)`.
impl Record for [Field<'_>] {
    fn get(&self, _name: &str) -> Value<'_> {
        // Programs compiled for the set read by slot.
        Value::Null
    }
    #[inline]
    fn get_slot(&self, slot: usize, _name: &str) -> Value<'_> {
        self.get(slot).map_or(Value::Null, |f| f.value())
    }
}

/// Binds records the caller holds in its own types (a sync engine's user structs, database
/// rows) to a mapping set without copying: the set's slots are mapped to the caller's field
/// numbers once, and each record is bound by asking for just those fields and storing what
/// the caller hands back — a [`Field`] borrowing its data — in a slot table reused from
/// record to record.
///
/// ```
/// use mapexpr::mapping::bind::{Binder, Field};
///
/// // The engine's own row type and field numbering.
/// const FIELDS: [&str; 3] = ["mail", "givenName", "surname"];
/// struct Row { values: [String; 3] }
///
/// // The set reads `surname` and `givenName` (slot order comes from `CompiledSet::attributes`).
/// let attributes = ["surname".to_string(), "givenName".to_string()];
/// let binder = Binder::new(&attributes, |name| FIELDS.iter().position(|f| *f == name));
///
/// let rows = [Row { values: ["a@x".into(), "Zoë".into(), "Åkesson".into()] }];
/// let mut table = Vec::new();
/// for row in &rows {
///     binder.bind_into(&mut table, |field| Field::Str(&row.values[field]));
///     assert_eq!(table, [Field::Str("Åkesson"), Field::Str("Zoë")]);
///     // `set.apply(table.as_slice(), mode, &mut ctx)` evaluates the set on it.
/// }
/// ```
///
/// A slot whose attribute the caller does not have stays [`Field::Null`] without asking.
#[derive(Clone, Debug, Default)]
pub struct Binder {
    /// For each slot, the caller's field number, or [`NO_FIELD`].
    fields: Vec<usize>,
    /// The slot table's allocation between records for [`Binder::bind`] (always empty).
    spare: Vec<Field<'static>>,
}

/// The caller has no field for this slot.
const NO_FIELD: usize = usize::MAX;

impl Binder {
    /// Maps each of the set's attributes (`CompiledSet::attributes()`, in slot order) to the
    /// caller's field number with `field_of`, once.
    pub fn new(attributes: &[String], mut field_of: impl FnMut(&str) -> Option<usize>) -> Binder {
        Binder {
            fields: attributes
                .iter()
                .map(|a| field_of(a).unwrap_or(NO_FIELD))
                .collect(),
            spare: Vec::with_capacity(attributes.len()),
        }
    }

    /// The caller's field number for each slot (`None`: the slot stays Null).
    pub fn fields(&self) -> impl Iterator<Item = Option<usize>> + '_ {
        self.fields.iter().map(|&f| (f != NO_FIELD).then_some(f))
    }

    /// Binds one record into `table`, which the caller keeps between records: `field(n)` is
    /// asked for each field number the set needs, in slot order, and its answer is stored as
    /// is. The table is overwritten in place: no allocation, no copy, no drop. This suits
    /// records that outlive the table's use, such as a cycle's users loaded in memory (`'r`
    /// is theirs); see [`Binder::bind`] for records that live only while processed.
    #[inline]
    pub fn bind_into<'r>(
        &self,
        table: &mut Vec<Field<'r>>,
        mut field: impl FnMut(usize) -> Field<'r>,
    ) {
        if table.len() != self.fields.len() {
            table.clear();
            table.resize(self.fields.len(), Field::Null);
        }
        for (dst, &f) in table.iter_mut().zip(&self.fields) {
            *dst = if f == NO_FIELD { Field::Null } else { field(f) };
        }
    }

    /// Binds one record into the binder's own table and returns it, for records that live
    /// only while they are processed (rows read one at a time): the table borrows the record
    /// and gives its allocation back to the binder when dropped.
    #[inline]
    pub fn bind<'b, 'r>(&'b mut self, field: impl FnMut(usize) -> Field<'r>) -> Bound<'b, 'r> {
        let mut values = relifetime(std::mem::take(&mut self.spare));
        self.bind_into(&mut values, field);
        Bound {
            values,
            home: &mut self.spare,
        }
    }
}

/// Empties a field table and hands its allocation over for fields of another lifetime (the
/// in-place collection keeps the buffer: same layout, no element kept).
#[inline]
fn relifetime<'b>(mut v: Vec<Field<'_>>) -> Vec<Field<'b>> {
    v.clear();
    v.into_iter().map(|_| Field::Null).collect()
}

/// One record bound by [`Binder::bind`]: the set's slot table, borrowing the record. It is a
/// [`Record`] read by slot, so `CompiledSet::apply` takes it directly.
#[derive(Debug)]
pub struct Bound<'b, 'r> {
    values: Vec<Field<'r>>,
    home: &'b mut Vec<Field<'static>>,
}

impl<'r> Bound<'_, 'r> {
    /// The slot table.
    pub fn fields(&self) -> &[Field<'r>] {
        &self.values
    }
}

impl Drop for Bound<'_, '_> {
    fn drop(&mut self) {
        *self.home = relifetime(std::mem::take(&mut self.values));
    }
}

impl Record for Bound<'_, '_> {
    fn get(&self, _name: &str) -> Value<'_> {
        Value::Null
    }
    #[inline]
    fn get_slot(&self, slot: usize, name: &str) -> Value<'_> {
        self.values.as_slice().get_slot(slot, name)
    }
}

/// Empties a slot table and hands its allocation over for values of another lifetime, so a
/// worker reuses one table for every record even though each record's values borrow a
/// different line or struct. (`Vec`'s in-place collection keeps the buffer: the element types
/// have the same layout, and no element is kept.)
#[inline]
pub fn recycle<'b>(v: Vec<Value<'_>>) -> Vec<Value<'b>> {
    v.into_iter()
        .filter_map(|x| {
            discard(x);
            None
        })
        .collect()
}

/// Drops a slot value, inline: most slot values own nothing (Null, borrowed text, numbers),
/// and for those this is one test instead of a call to the general drop glue.
#[inline(always)]
pub(crate) fn discard(v: Value<'_>) {
    if matches!(
        v,
        Value::Null
            | Value::Str(Cow::Borrowed(_))
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Date(_)
    ) {
        std::mem::forget(v);
    } else {
        drop(v);
    }
}

/// Clears the slots whose bit is not in `seen` (the attributes a line did not hold).
#[inline(never)]
fn clear_unseen(slots: &mut [Value<'_>], seen: u64) {
    for (i, s) in slots.iter_mut().enumerate().take(64) {
        if seen & (1 << i) == 0 {
            discard(std::mem::take(s));
        }
    }
}

/// Resets a slot table to `len` Nulls, keeping its allocation.
#[inline]
fn reset(slots: &mut Vec<Value<'_>>, len: usize) {
    if slots.len() != len {
        slots.clear();
        slots.resize_with(len, || Value::Null);
        return;
    }
    for s in slots.iter_mut() {
        discard(std::mem::take(s));
    }
}

// ---------------------------------------------------------------------------------------------
// The serde_json binder (slow path and reference)

struct ObjectSeed<'s, 't> {
    index: &'s SlotIndex,
    slots: &'s mut [Value<'t>],
    error: &'s mut Option<FnError>,
}

impl<'de, 's> DeserializeSeed<'de> for ObjectSeed<'s, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 's> Visitor<'de> for ObjectSeed<'s, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (the record must be a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match self.index.index.get(key.as_ref()) {
                Some(&slot) => {
                    let v = map.next_value_seed(AttrSeed { name: &key })?;
                    match v {
                        Ok(v) => {
                            if let Some(s) = self.slots.get_mut(slot) {
                                *s = v;
                            }
                        }
                        Err(e) => {
                            if self.error.is_none() {
                                *self.error = Some(e);
                            }
                        }
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// One attribute's value (spec §3.1); an unrepresentable value is `Ok(Err(invalid-input))`
/// so that parsing goes on and the JSON stays checked to the end.
struct AttrSeed<'n> {
    name: &'n str,
}

type Attr<'t> = Result<Value<'t>, FnError>;

#[cold]
fn bad(name: &str, what: &str) -> FnError {
    FnError::new(
        ErrorCode::InvalidInput,
        format!("attribute `{name}` holds {what}"),
    )
}

impl<'de> DeserializeSeed<'de> for AttrSeed<'_> {
    type Value = Attr<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Attr<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttrSeed<'_> {
    type Value = Attr<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }
    fn visit_unit<E>(self) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Null))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Int(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Attr<'de>, E> {
        Ok(i64::try_from(u)
            .map(Value::Int)
            .map_err(|_| bad(self.name, "a fractional or out-of-range number")))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Attr<'de>, E> {
        Ok(Err(bad(self.name, "a fractional or out-of-range number")))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::string(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Attr<'de>, E> {
        Ok(Ok(Value::string(s)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attr<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err(bad(self.name, "an object")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attr<'de>, A::Error> {
        let roles = self.name == "appRoleAssignments";
        let mut out = Vec::new();
        let mut error = None;
        while let Some(item) = seq.next_element_seed(ItemSeed { roles })? {
            match item {
                Item::Null => {}
                Item::Value(v) => out.push(v),
                Item::Bad(what) => {
                    if error.is_none() {
                        error = Some(bad(self.name, what));
                    }
                }
            }
        }
        Ok(match error {
            Some(e) => Err(e),
            None => Ok(Value::multi(out)),
        })
    }
}

/// One element of a list: text as is, numbers and Booleans rendered, null dropped, objects
/// only in `appRoleAssignments`.
struct ItemSeed {
    roles: bool,
}

enum Item<'t> {
    Null,
    Value(Value<'t>),
    Bad(&'static str),
}

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Item<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Item<'de>, D::Error> {
        if self.roles {
            // Role objects need their fields: go through serde_json's value for them.
            let v = serde_json::Value::deserialize(d)?;
            return Ok(match v {
                serde_json::Value::Object(_) => match serde_json::from_value::<AppRole>(v) {
                    Ok(r) => Item::Value(Value::Role(std::sync::Arc::new(r))),
                    Err(_) => Item::Bad(
                        "an app role assignment that is not {id, value, displayName} text",
                    ),
                },
                other => plain_item(other),
            });
        }
        d.deserialize_any(self)
    }
}

use serde::Deserialize as _;

fn plain_item<'t>(v: serde_json::Value) -> Item<'t> {
    use serde_json::Value as J;
    match v {
        J::Null => Item::Null,
        J::String(s) => Item::Value(Value::string(s)),
        J::Bool(b) => Item::Value(Value::str(if b { "True" } else { "False" })),
        J::Number(n) => match n.as_i64() {
            Some(i) => Item::Value(Value::string(i.to_string())),
            None => Item::Bad("a fractional or out-of-range number in a list"),
        },
        J::Array(_) => Item::Bad("a nested list"),
        J::Object(_) => Item::Bad("an object in a list"),
    }
}

impl<'de> Visitor<'de> for ItemSeed {
    type Value = Item<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list element")
    }
    fn visit_unit<E>(self) -> Result<Item<'de>, E> {
        Ok(Item::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::str(if b { "True" } else { "False" })))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::string(i.to_string())))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Item<'de>, E> {
        Ok(match i64::try_from(u) {
            Ok(i) => Item::Value(Value::string(i.to_string())),
            Err(_) => Item::Bad("a fractional or out-of-range number in a list"),
        })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Item<'de>, E> {
        Ok(Item::Bad("a fractional or out-of-range number in a list"))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::Str(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::string(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Item<'de>, E> {
        Ok(Item::Value(Value::string(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Item::Bad("a nested list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Item::Bad("an object in a list"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binder agrees with `json_to_value` (the reference conversion of spec §3.1).
    #[test]
    fn binder_matches_json_to_value() {
        let names: Vec<String> = [
            "s", "i", "b", "n", "m", "e", "f", "o", "nested", "roles", "esc", "big",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let index = SlotIndex::new(&names);
        let lines = [
            r#"{"s": "a", "i": -3, "b": true, "n": null, "m": ["x", 1, false, null], "e": [], "esc": "q\"x", "unused": {"deep": [1, 2]}}"#,
            r#"{"f": 1.5}"#,
            r#"{"o": {"a": 1}}"#,
            r#"{"nested": [[1]]}"#,
            r#"{"roles": [{"id": "1", "value": "Admin", "displayName": "Administrator"}, "Plain"]}"#,
            r#"{"big": 18446744073709551615}"#,
            r#"{"s": "first", "s": "last"}"#,
        ];
        for line in lines {
            let parsed: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            let obj = parsed.as_object().expect("object");
            let want: Result<Vec<Value<'static>>, FnError> = names
                .iter()
                .map(|n| match obj.get(n) {
                    Some(v) => crate::value::json_to_value(
                        if n == "roles" {
                            "appRoleAssignments"
                        } else {
                            n
                        },
                        v,
                    ),
                    None => Ok(Value::Null),
                })
                .collect();
            let line = line.replace("\"roles\"", "\"appRoleAssignments\"");
            let mut names2 = names.clone();
            names2[9] = "appRoleAssignments".into();
            let got = SlotIndex::new(&names2).bind(&line);
            match (want, got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "{line}"),
                (Err(w), Err(BindError::Input(g))) => assert_eq!(w.code, g.code, "{line}"),
                (w, g) => panic!("{line}: {w:?} vs {g:?}"),
            }
        }
        let _ = index;
    }

    #[test]
    fn binder_rejects_non_objects_and_bad_json() {
        let index = SlotIndex::new(&["a".to_string()]);
        assert!(matches!(index.bind("[1]"), Err(BindError::Syntax(_))));
        assert!(matches!(index.bind("{\"a\": "), Err(BindError::Syntax(_))));
        assert!(matches!(
            index.bind("{\"a\": 1} x"),
            Err(BindError::Syntax(_))
        ));
        let v = index.bind(r#"{"a": "borrowed"}"#).expect("binds");
        assert!(matches!(&v[0], Value::Str(Cow::Borrowed("borrowed"))));
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Found by the `bind` fuzz target: with a name listed twice, the scanner filled the first
    /// slot and the serde_json binder the last.
    #[test]
    fn a_repeated_name_binds_its_first_slot_in_both_binders() {
        let index = SlotIndex::new(&names(&["City", "x", "City"]));
        let line = r#"{"City":"London","x":"1"}"#;
        let want = vec![Value::str("London"), Value::str("1"), Value::Null];
        assert_eq!(index.bind(line).expect("binds"), want);
        assert_eq!(index.bind_serde(line).expect("binds"), want);
    }

    /// Lines the fast scanner must bind itself, with what it must produce.
    #[test]
    fn fast_scanner_binds_common_lines_borrowing() {
        let index = SlotIndex::new(&names(&["a", "b", "c", "longer attribute name", "m"]));
        let line = r#" { "x": {"deep": [1, {"y": null}], "z": "\u00e9"}, "a": "Zoë", "b": -9223372036854775808,
            "c": "tab\there \ud83d\ude00", "longer attribute name": true, "m": ["x", 7, false, null, "\/"],
            "skip": [1.5e-3, -0.0, "", [], {}] } "#;
        let fast = index.bind_fast(line).expect("the scanner binds it");
        assert_eq!(fast, index.bind_serde(line).expect("serde_json binds it"));
        assert!(matches!(&fast[0], Value::Str(Cow::Borrowed("Zoë"))));
        assert_eq!(fast[1], Value::Int(i64::MIN));
        assert!(matches!(&fast[2], Value::Str(Cow::Owned(s)) if s == "tab\there \u{1F600}"));
        assert_eq!(fast[3], Value::Bool(true));
        assert_eq!(
            fast[4],
            Value::multi(vec![
                Value::str("x"),
                Value::str("7"),
                Value::str("False"),
                Value::str("/")
            ])
        );
        // Keys with escapes are looked up by their decoded text.
        let fast = index
            .bind_fast(r#"{"\u0061": "yes", "m": []}"#)
            .expect("binds");
        assert_eq!(
            fast,
            vec![
                Value::str("yes"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ]
        );
        // The last duplicate wins, as with serde_json.
        let fast = index
            .bind_fast(r#"{"a": "first", "a": "last"}"#)
            .expect("binds");
        assert_eq!(fast[0], Value::str("last"));
        assert_eq!(index.bind_fast("{}").expect("binds"), vec![Value::Null; 5]);
    }

    /// Lines the scanner must leave to serde_json: every error, and shapes it does not build.
    #[test]
    fn fast_scanner_defers_errors_and_rare_shapes() {
        let index = SlotIndex::new(&names(&["a", "appRoleAssignments"]));
        for line in [
            r#"{"a": 1.5}"#,
            r#"{"a": 1e3}"#,
            r#"{"a": -0}"#,
            r#"{"a": 9223372036854775808}"#,
            r#"{"a": 18446744073709551616}"#,
            r#"{"a": {"b": 1}}"#,
            r#"{"a": [[1]]}"#,
            r#"{"a": [1.5]}"#,
            r#"{"a": "\ud800"}"#,
            r#"{"a": "\udc00\ud800"}"#,
            r#"{"\ud800": 1}"#,
            r#"{"appRoleAssignments": [{"id": "1"}]}"#,
            r#"{"a": 01}"#,
            r#"{"x": 01}"#,
            r#"{"x": 1.}"#,
            r#"{"x": .5}"#,
            r#"{"x": 1e}"#,
            r#"{"x": -}"#,
            r#"{"x": "\x"}"#,
            r#"{"x": "\u12"}"#,
            "{\"x\": \"a\u{1}b\"}",
            r#"{"x": tru}"#,
            r#"{"x": nul}"#,
            r#"{"x": [1,]}"#,
            r#"{"x": 1,}"#,
            r#"{"x" 1}"#,
            r#"{x: 1}"#,
            r#"{"x": 1} 2"#,
            r#"{"x": 1"#,
            "[1, 2]",
            "",
            "\u{feff}{}",
        ] {
            assert!(index.bind_fast(line).is_none(), "{line}");
        }
        let deep = format!("{{\"x\": {}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(index.bind_fast(&deep).is_none());
        // serde_json skips deep unread values; the whole binder still binds the line.
        assert!(index.bind(&deep).is_ok());
    }

    /// A JSON-ish line from pieces that exercise every branch of the scanner, with mistakes.
    fn arb_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("appRoleAssignments".to_string()),
            Just("unread".to_string()),
            Just("\\u0062".to_string()),
            Just("\\ud800".to_string()),
            "[a-z]{0,10}",
        ];
        let string = prop_oneof![
            20 => "[a-zA-Z0-9 éøß😀]{0,12}",
            1 => Just("a\\\"b\\\\c\\/\\b\\f\\n\\r\\t".to_string()),
            1 => Just("\\u00e9\\ud83d\\ude00".to_string()),
            1 => Just("\\ud800".to_string()),
            1 => Just("\\udc00".to_string()),
            1 => Just("\\ud800\\u0041".to_string()),
            1 => Just("\\uZZZZ".to_string()),
            1 => Just("\u{1}".to_string()),
            1 => Just("\\q".to_string()),
        ]
        .prop_map(|s| format!("\"{s}\""));
        let number = prop_oneof![
            4 => Just("0"),
            1 => Just("-0"),
            4 => Just("7"),
            4 => Just("-12"),
            1 => Just("01"),
            1 => Just("1.5"),
            1 => Just("1."),
            1 => Just("2e10"),
            1 => Just("1e400"),
            1 => Just("-"),
            1 => Just("9223372036854775807"),
            1 => Just("9223372036854775808"),
            1 => Just("-9223372036854775808"),
            1 => Just("-9223372036854775809"),
            1 => Just("18446744073709551615"),
            1 => Just("18446744073709551616"),
        ]
        .prop_map(str::to_string);
        let scalar = prop_oneof![
            8 => string,
            4 => number,
            1 => Just("true".to_string()),
            1 => Just("false".to_string()),
            1 => Just("null".to_string()),
            1 => Just("nul".to_string()),
        ];
        let value = scalar.prop_recursive(3, 16, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec(("[a-z]{0,3}", inner), 0..3).prop_map(|v| {
                    let e: Vec<String> = v.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                    format!("{{{}}}", e.join(", "))
                }),
            ]
        });
        let ws = prop_oneof![Just(""), Just(" "), Just("\t"), Just(" \r\n ")];
        (
            proptest::collection::vec((key, ws.clone(), value), 0..6),
            ws,
            prop_oneof![6 => Just(None), 1 => (0usize..200, any::<char>()).prop_map(Some)],
        )
            .prop_map(|(entries, ws, mutation)| {
                let body: Vec<String> = entries
                    .iter()
                    .map(|(k, w, v)| format!("\"{k}\"{w}:{w}{v}"))
                    .collect();
                let mut line = format!("{ws}{{{}}}{ws}", body.join(&format!(",{ws}")));
                if let Some((at, c)) = mutation {
                    let at = line
                        .char_indices()
                        .map(|(i, _)| i)
                        .nth(at % (line.chars().count().max(1)))
                        .unwrap_or(0);
                    if at % 2 == 0 {
                        line.insert(at, c);
                    } else {
                        line.remove(at);
                    }
                }
                line
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4000, ..Default::default() })]

        /// Whenever the fast scanner binds a line, serde_json binds it to the same values; and
        /// the binder as a whole always answers like serde_json.
        #[test]
        fn fast_scanner_agrees_with_serde_json(line in arb_line()) {
            let index = SlotIndex::new(&names(&["a", "b", "appRoleAssignments"]));
            let slow = index.bind_serde(&line);
            if let Some(fast) = index.bind_fast(&line) {
                match &slow {
                    Ok(slow) => proptest::prop_assert_eq!(&fast, slow, "{}", line),
                    Err(e) => proptest::prop_assert!(false, "fast bound {line:?}, serde_json: {e:?}"),
                }
            }
            match (index.bind(&line), slow) {
                (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
                (Err(BindError::Syntax(a)), Err(BindError::Syntax(b))) => proptest::prop_assert_eq!(a, b),
                (Err(BindError::Input(a)), Err(BindError::Input(b))) => proptest::prop_assert_eq!(a.message, b.message),
                (a, b) => proptest::prop_assert!(false, "{line:?}: {a:?} vs {b:?}"),
            }
        }
    }

    /// `specials` flags its lowest byte exactly: for every byte value at every position of
    /// a word, after plain bytes and before any byte, the lowest flag is that byte when it is
    /// `"`, `\` or a control character, and past it otherwise.
    #[test]
    fn specials_finds_the_first_byte_to_escape() {
        let special = |c: u8| c < 0x20 || c == b'"' || c == b'\\';
        let plain = [b'a', b' ', b'!', b'#', b'[', b']', b'~', 0x80, 0xff];
        for c in 0..=255u8 {
            for pos in 0..8 {
                for &before in &plain {
                    for after in 0..=255u8 {
                        let mut w = [before; 8];
                        w[pos] = c;
                        if pos < 7 {
                            w[pos + 1] = after;
                        }
                        let first = w.iter().position(|&b| special(b)).unwrap_or(8);
                        let m = specials(u64::from_le_bytes(w));
                        let got = if m == 0 {
                            8
                        } else {
                            (m.trailing_zeros() / 8) as usize
                        };
                        assert_eq!(got, first, "{w:?}");
                        if pos == 7 {
                            break;
                        }
                    }
                }
            }
        }
    }

    /// A key is taken for the guessed name exactly when it is that name and its closing
    /// quote, for names of every length around the pattern's words and past its size, with
    /// the line going on for a while or ending right after the key.
    #[test]
    fn guessed_names_match_exactly_their_key() {
        for n in 0..=34 {
            let name: String = "abcdefghijklmnopqrstuvwxyz0123456789"
                .chars()
                .take(n)
                .collect();
            let keys = KeyTable::new(std::slice::from_ref(&name));
            let mut other = name.clone().into_bytes();
            if let Some(last) = other.last_mut() {
                *last = b'#';
            }
            let other = String::from_utf8(other).unwrap_or_default();
            let cases = [
                (format!("{name}\""), true),
                (format!("{name}x\""), false),
                (format!("{other}\""), other == name),
                (format!("{}\"", &name[..n.saturating_sub(1)]), n == 0),
                (format!("{name}\\\""), false),
            ];
            for (key, want) in cases {
                for tail in ["", ": \"some value, long enough to fill the pattern\"}"] {
                    let line = format!("{key}{tail}");
                    let got = keys.matches_at(0, line.as_bytes(), 0);
                    assert_eq!(got, want.then_some(n), "name {name:?}, line {line:?}");
                }
            }
        }
    }

    /// The names the key-order tests bind: prefixes of each other, one that JSON must escape
    /// (so it is never compared raw), a non-ASCII one, the role attribute.
    const ORDER_NAMES: [&str; 6] = ["a", "ab", "b", "q\"x", "Zoë", "appRoleAssignments"];

    /// One entry of a generated line: which key (the six names, an unread key, or a second
    /// "ab"), whether its spelling escapes its first character, and which value.
    fn order_entry(key: usize, spelling: usize, value: usize) -> String {
        let names = [
            "a",
            "ab",
            "b",
            "q\"x",
            "Zoë",
            "appRoleAssignments",
            "unread",
            "ab",
        ];
        let name = names[key % names.len()];
        let key = match spelling {
            // The first character as a `\u` escape.
            1 => {
                let mut chars = name.chars();
                let first = chars.next().unwrap_or('x');
                let rest = serde_json::to_string(chars.as_str()).unwrap();
                format!("\"\\u{:04x}{}", u32::from(first) & 0xffff, &rest[1..])
            }
            // Raw between quotes: not JSON for `q"x`, whose raw bytes must never pass for it.
            2 => format!("\"{name}\""),
            _ => serde_json::to_string(name).unwrap(),
        };
        let values = [
            r#""text""#,
            r#""Zoë é""#,
            r#""esc\"aped""#,
            "17",
            "null",
            "true",
            r#"["x", 2, null]"#,
            "[]",
            r#"{"n": [1, {"m": "k"}]}"#,
            "1.5",
        ];
        format!("{key}: {}", values[value % values.len()])
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1000, ..Default::default() })]

        /// The key-order guess is only a hint: over a run of lines with changing key orders,
        /// missing and repeated attributes, escaped spellings of names and unread keys, bound
        /// one after the other with one index into one reused table, every line binds exactly
        /// what the serde_json binder binds on its own (absent attributes back to Null).
        #[test]
        fn key_order_guess_never_changes_what_binds(
            lines in proptest::collection::vec(
                proptest::collection::vec((0usize..8, proptest::sample::select(vec![0, 0, 0, 0, 1, 2]), 0usize..10), 0..9),
                1..12,
            ),
        ) {
            let names = names(&ORDER_NAMES);
            let index = SlotIndex::new(&names);
            // All lines live as long as the table, as a chunk's lines do in a batch worker, so
            // the table keeps the last line's values until the next line overwrites them.
            let lines: Vec<String> = lines
                .iter()
                .map(|entries| {
                    let body: Vec<String> =
                        entries.iter().map(|&(k, e, v)| order_entry(k, e, v)).collect();
                    format!("{{{}}}", body.join(", "))
                })
                .collect();
            let mut table = Vec::new();
            let mut fast = Vec::new();
            for line in &lines {
                let want = SlotIndex::new(&names).bind_serde(line);
                // The scanner alone, on its own table, never binds what serde_json would not.
                if index.scan_into(line, &mut fast).is_ok() {
                    proptest::prop_assert_eq!(Some(&fast), want.as_ref().ok(), "{}", line);
                }
                let got = index.bind_into(line, &mut table);
                match (got, want) {
                    (Ok(()), Ok(want)) => proptest::prop_assert_eq!(&table, &want, "{}", line),
                    (Err(BindError::Syntax(a)), Err(BindError::Syntax(b))) => proptest::prop_assert_eq!(a, b),
                    (Err(BindError::Input(a)), Err(BindError::Input(b))) => proptest::prop_assert_eq!(a.message, b.message),
                    (a, b) => proptest::prop_assert!(false, "{line}: {a:?} vs {b:?}"),
                }
            }
        }
    }

    /// Lines of one export share their key order; a line in another order, one with a key
    /// the guess expects spelled with an escape, and one missing attributes all bind right
    /// into the same table, whose stale slots go back to Null.
    #[test]
    fn key_order_guess_follows_the_lines() {
        let index = SlotIndex::new(&names(&["a", "ab", "b"]));
        let mut table = Vec::new();
        let cases: [(&str, [Value<'static>; 3]); 6] = [
            (
                r#"{"a": "1", "ab": "2", "b": "3"}"#,
                [Value::str("1"), Value::str("2"), Value::str("3")],
            ),
            (
                r#"{"a": "4", "ab": "5", "b": "6"}"#,
                [Value::str("4"), Value::str("5"), Value::str("6")],
            ),
            (
                r#"{"b": "7", "a": "8", "x": 1, "ab": "9"}"#,
                [Value::str("8"), Value::str("9"), Value::str("7")],
            ),
            (
                r#"{"b": "7", "\u0061": "8", "ab": "9"}"#,
                [Value::str("8"), Value::str("9"), Value::str("7")],
            ),
            (
                r#"{"ab": "only"}"#,
                [Value::Null, Value::str("only"), Value::Null],
            ),
            (
                r#"{"a": "1", "a": "2"}"#,
                [Value::str("2"), Value::Null, Value::Null],
            ),
        ];
        for (line, want) in cases {
            // The scanner binds every one of them itself, through the guess or the table.
            index
                .scan_into(line, &mut table)
                .expect("the scanner binds it");
            assert_eq!(table, want, "{line}");
        }
        // The guess now expects "a" first: a key that only starts like it, or a key equal to
        // it followed by more text, is looked up in full.
        for (line, want) in [
            (
                r#"{"ab": "x", "a": "y"}"#,
                [Value::str("y"), Value::str("x"), Value::Null],
            ),
            (
                r#"{"a\u0062": "x"}"#,
                [Value::Null, Value::str("x"), Value::Null],
            ),
            (
                r#"{"a ": "x", "b": 1}"#,
                [Value::Null, Value::Null, Value::Int(1)],
            ),
        ] {
            index.bind_into(r#"{"a": "1"}"#, &mut table).expect("binds");
            index
                .scan_into(line, &mut table)
                .expect("the scanner binds it");
            assert_eq!(table, want, "{line}");
        }
        // A name JSON must escape is never taken from a line's raw bytes.
        let index = SlotIndex::new(&names(&["q\"x"]));
        index
            .bind_into(r#"{"q\"x": "1"}"#, &mut table)
            .expect("binds");
        assert_eq!(table, [Value::str("1")]);
        assert!(index.bind_into(r#"{"q"x": "2"}"#, &mut table).is_err());
        // A wide set (past the 64 slots the written-slot mask covers) clears the whole table
        // before each line instead.
        let wide: Vec<String> = (0..70).map(|i| format!("k{i}")).collect();
        let index = SlotIndex::new(&wide);
        let mut table = Vec::new();
        index
            .bind_into(r#"{"k0": "x", "k65": "y", "k69": 3}"#, &mut table)
            .expect("binds");
        assert_eq!(
            (&table[0], &table[65], &table[69]),
            (&Value::str("x"), &Value::str("y"), &Value::Int(3))
        );
        index
            .bind_into(r#"{"k65": "z"}"#, &mut table)
            .expect("binds");
        assert_eq!(table.iter().filter(|v| **v != Value::Null).count(), 1);
        assert_eq!(table[65], Value::str("z"));
    }

    #[test]
    fn binder_fills_slots_from_caller_fields() {
        // The caller's record: fields by number, some missing, one multi-valued, one integer.
        struct Row {
            name: String,
            mails: Vec<String>,
            level: i64,
            manager: Option<String>,
        }
        let attrs = names(&["level", "missing", "name", "mails", "name", "manager"]);
        let binder = Binder::new(&attrs, |a| match a {
            "name" => Some(0),
            "mails" => Some(1),
            "level" => Some(2),
            "manager" => Some(3),
            _ => None,
        });
        assert_eq!(
            binder.fields().collect::<Vec<_>>(),
            [Some(2), None, Some(0), Some(1), Some(0), Some(3)]
        );
        let rows = [
            Row {
                name: "Zoë".into(),
                mails: vec!["a@x".into(), "b@x".into()],
                level: 3,
                manager: Some("m1".into()),
            },
            Row {
                name: String::new(),
                mails: vec![],
                level: -1,
                manager: None,
            },
        ];
        let mut asked = Vec::new();
        let mut table = Vec::new();
        for row in &rows {
            binder.bind_into(&mut table, |f| {
                asked.push(f);
                match f {
                    0 => Field::from(&row.name),
                    1 => Field::Texts(&row.mails),
                    2 => Field::Int(row.level),
                    _ => Field::from(row.manager.as_deref()),
                }
            });
            assert_eq!(table.len(), 6);
            let rec = table.as_slice();
            assert_eq!(rec.get_slot(0, "level"), Value::Int(row.level));
            assert_eq!(rec.get_slot(1, "missing"), Value::Null);
            assert!(matches!(
                rec.get_slot(2, "name"),
                Value::Str(Cow::Borrowed(s)) if std::ptr::eq(s, row.name.as_str())
            ));
            let mails = rec.get_slot(3, "mails");
            if row.mails.is_empty() {
                assert_eq!(mails, Value::Null);
            } else {
                assert_eq!(
                    mails,
                    Value::multi(vec![Value::str("a@x"), Value::str("b@x")])
                );
            }
            assert_eq!(
                rec.get_slot(5, "manager"),
                row.manager.as_deref().map_or(Value::Null, Value::str)
            );
            assert_eq!(rec.get_slot(9, "past the end"), Value::Null);
        }
        // Only the fields the set reads were asked for, in slot order, once per slot.
        assert_eq!(asked, [2, 0, 1, 0, 3, 2, 0, 1, 0, 3]);

        // The scoped form: same table, allocation kept in the binder between records.
        let mut binder = binder;
        for row in &rows {
            let bound = binder.bind(|f| match f {
                0 => Field::Str(&row.name),
                _ => Field::Null,
            });
            assert_eq!(bound.fields().len(), 6);
            assert_eq!(bound.get_slot(2, "name"), Value::str(&row.name));
            assert_eq!(bound.get_slot(0, "level"), Value::Null);
        }
        let cap = binder.spare.capacity();
        assert!(cap >= 6);
        drop(binder.bind(|_| Field::Null));
        assert_eq!(binder.spare.capacity(), cap);

        // A value kept by the caller is lent as is (here a list).
        let list = Value::multi(vec![Value::str("x"), Value::Int(2)]);
        assert_eq!(Field::Value(&list).value(), list);
        assert_eq!(Field::from(true).value(), Value::Bool(true));
        assert_eq!(
            Field::Date(DateTime::MIN).value(),
            Value::Date(DateTime::MIN)
        );
    }

    /// The binder's table drives a compiled set like any record.
    #[test]
    fn binder_table_applies_a_set() {
        use crate::context::{FixedClock, Limits, TakenSet};
        use crate::functions::NoRandom;
        use crate::mapping::{CompiledSet, MappingSet, Mode};
        use crate::vm::EvalContext;
        let set = MappingSet::from_json_str(
            r#"[{"target": "upn", "expression": "ToLower([given] & \".\" & [sur] & \"@x.com\")"},
                {"target": "mail", "expression": "Item([mails], 2)"}, {"target": "s", "attribute": "sur"}]"#,
        )
        .unwrap();
        let set = CompiledSet::compile(&set, &crate::CompileOptions::default()).unwrap();
        struct User {
            given: String,
            sur: String,
            mails: Vec<String>,
        }
        let users = [User {
            given: "Zoë".into(),
            sur: "Lee".into(),
            mails: vec!["a@x".into(), "b@x".into()],
        }];
        let binder = Binder::new(set.attributes(), |a| {
            ["given", "sur", "mails"].iter().position(|f| *f == a)
        });
        let clock = FixedClock(DateTime::MIN);
        let (mut rng, oracle, limits) = (NoRandom, TakenSet::new(), Limits::default());
        let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
        let mut table = Vec::new();
        for u in &users {
            binder.bind_into(&mut table, |f| match f {
                0 => Field::Str(&u.given),
                1 => Field::Str(&u.sur),
                _ => Field::Texts(&u.mails),
            });
            let out = set.apply(table.as_slice(), Mode::Create, &mut ctx).unwrap();
            assert_eq!(
                out,
                [
                    ("upn", Value::str("zoë.lee@x.com")),
                    ("mail", Value::str("b@x")),
                    ("s", Value::str("Lee"))
                ]
            );
        }
    }
}
