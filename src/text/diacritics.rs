//! NormalizeDiacritics: table-driven diacritic removal (spec §5 NormalizeDiacritics, F10).
//!
//! Entra does not decompose arbitrary text: it replaces the 261 sequences of its table and
//! leaves everything else alone. Input is scanned as clusters (a base character and the
//! combining marks after it); a cluster whose NFC form is a table key is replaced, any other
//! cluster is copied byte for byte, so text outside the table is never normalised.
//!
//! ASCII is skipped without looking at it character by character, and a lone character of
//! U+0080–U+024F (accented Latin names) is one read of a table built at compile time from
//! the same data; only clusters with combining marks and other scripts pay for NFC.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Removes the diacritics of the table; borrowed when nothing is replaced (always for ASCII).
pub fn normalize(s: &str) -> Cow<'_, str> {
    let mut out = String::new();
    if normalize_to(s, &mut out) {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// [`normalize`] into `out` (empty): true when `out` holds the result, false when nothing
/// is replaced (`out` then holds no buffer: one taken for the attempt goes back).
#[inline]
pub fn normalize_to(s: &str, out: &mut String) -> bool {
    if s.is_ascii() {
        return false;
    }
    *out = crate::value::buffers::take(s.len());
    if normalize_into(s, out) {
        true
    } else {
        crate::value::buffers::give(std::mem::take(out));
        false
    }
}

/// Writes `s` with the table's diacritics removed into `out` (cleared first) and returns
/// true, or returns false and leaves `out` empty when nothing is replaced. With a reused
/// `out`, normalising allocates nothing.
///
/// The scan is by bytes: ASCII runs are skipped, and a character of U+0080–U+024F (Latin-1
/// and Latin Extended-A/B, where accented names live) that no combining mark follows is
/// looked up in `LATIN` by its code point. Everything else (a cluster with combining
/// marks, any other script) goes through [`lookup`].
pub fn normalize_into(s: &str, out: &mut String) -> bool {
    out.clear();
    // ASCII is never replaced; `is_ascii` checks a word at a time.
    if s.is_ascii() {
        return false;
    }
    let bytes = s.as_bytes();
    let Some(mut p) = bytes.iter().position(|b| !b.is_ascii()) else {
        return false;
    };
    let mut replaced = false;
    let mut copied = 0usize;
    // `p` is always at a non-ASCII character that starts a cluster, or at a combining mark
    // after an ASCII character (or at the start), which joins that character's cluster.
    loop {
        let (c, next) = char_at(s, p);
        if u32::from(c) < LATIN_END && !mark_at(s, next) {
            // U+0080–U+024F (never a mark) standing alone: one table read.
            if let Some(r) = latin(c) {
                replace(s, out, &mut copied, &mut replaced, p, next, r);
            }
            p = next;
        } else {
            // The general path: the cluster (with an ASCII base before a leading mark) by
            // its NFC form.
            let start = if is_mark(c) && p > 0 { p - 1 } else { p };
            let end = cluster_end(s, next);
            if let Some(r) = s.get(start..end).and_then(lookup) {
                replace(s, out, &mut copied, &mut replaced, start, end, r);
            }
            p = end;
        }
        // ASCII between clusters never changes.
        match bytes
            .get(p..)
            .and_then(|t| t.iter().position(|b| !b.is_ascii()))
        {
            Some(skip) => p += skip,
            None => break,
        }
    }
    if replaced {
        out.push_str(s.get(copied..).unwrap_or(""));
    }
    replaced
}

/// The character at byte `p` (a character boundary) and the byte after it; U+0080–U+07FF
/// (two bytes) is decoded inline.
#[inline]
fn char_at(s: &str, p: usize) -> (char, usize) {
    let b = s.as_bytes();
    if let (Some(&lead @ 0xC2..=0xDF), Some(&cont)) = (b.get(p), b.get(p + 1)) {
        let cp = (u32::from(lead & 0x1F) << 6) | u32::from(cont & 0x3F);
        if let Some(c) = char::from_u32(cp) {
            return (c, p + 2);
        }
    }
    match s.get(p..).and_then(|t| t.chars().next()) {
        Some(c) => (c, p + c.len_utf8()),
        None => ('\0', s.len().max(p + 1)),
    }
}

/// Copies the text before the cluster `start..end` and then its replacement.
#[inline(always)]
fn replace(
    s: &str,
    out: &mut String,
    copied: &mut usize,
    replaced: &mut bool,
    start: usize,
    end: usize,
    with: &str,
) {
    if !*replaced {
        // A replacement is never longer than what it replaces.
        out.reserve(s.len());
        *replaced = true;
    }
    out.push_str(s.get(*copied..start).unwrap_or(""));
    // One or two ASCII letters (the table's replacements are ASCII): pushed one by one
    // rather than through a copy call.
    for &b in with.as_bytes() {
        out.push(char::from(b & 0x7F));
    }
    *copied = end;
}

/// True for a combining mark (none is below U+0300).
#[inline]
fn is_mark(c: char) -> bool {
    c >= '\u{300}' && is_combining_mark(c)
}

/// True when a combining mark starts at byte `i`.
#[inline]
fn mark_at(s: &str, i: usize) -> bool {
    match s.as_bytes().get(i) {
        // ASCII, and the lead bytes of U+0080–U+02FF.
        None | Some(0..=0xCB) => false,
        Some(_) => is_mark(char_at(s, i).0),
    }
}

/// Where the combining marks starting at byte `i` end.
fn cluster_end(s: &str, mut i: usize) -> usize {
    while mark_at(s, i) {
        i = char_at(s, i).1;
    }
    i
}

/// The end (exclusive) of the code points [`LATIN`] covers.
const LATIN_END: u32 = 0x250;
/// The first code point [`LATIN`] covers.
const LATIN_START: u32 = 0x80;

/// The replacement of a lone character of U+0080–U+024F; `None` outside that range or when
/// the table has none.
fn latin(c: char) -> Option<&'static str> {
    let i = usize::try_from(u32::from(c).checked_sub(LATIN_START)?).ok()?;
    LATIN.get(i).copied().filter(|r| !r.is_empty())
}

/// The one-character keys of [`TABLE`] in U+0080–U+024F by code point (`""` when a code
/// point has none), built from the table at compile time. A lone precomposed character in
/// this range is its own NFC form, so this answers exactly what [`lookup`] does (the tests
/// check every code point).
static LATIN: [&str; (LATIN_END - LATIN_START) as usize] = latin_table();

const fn latin_table() -> [&'static str; (LATIN_END - LATIN_START) as usize] {
    let mut t = [""; (LATIN_END - LATIN_START) as usize];
    let mut k = 0;
    while k < TABLE_DATA.len() {
        let (key, replacement) = TABLE_DATA[k];
        let b = key.as_bytes();
        // Two-byte UTF-8 sequences are exactly U+0080–U+07FF.
        if b.len() == 2 && b[0] & 0xE0 == 0xC0 {
            let cp = ((b[0] as u32 & 0x1F) << 6) | (b[1] as u32 & 0x3F);
            if cp >= LATIN_START && cp < LATIN_END {
                t[(cp - LATIN_START) as usize] = replacement;
            }
        }
        k += 1;
    }
    t
}

/// The replacement of one cluster, matched by canonical equivalence (its NFC form).
pub fn lookup(cluster: &str) -> Option<&'static str> {
    // Fast path: a lone precomposed character that is already in NFC (almost every
    // accented letter in real names) is its own key; no normalisation needed.
    let mut chars = cluster.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if unicode_normalization::is_nfc_quick(std::iter::once(c))
            == unicode_normalization::IsNormalized::Yes
        {
            let singles = single_keys();
            return singles
                .binary_search_by_key(&c, |(k, _)| *k)
                .ok()
                .and_then(|i| singles.get(i))
                .map(|(_, v)| *v);
        }
    }
    // Every key has at most 3 code points in NFC; a small stack buffer avoids allocating.
    let mut buf = [0u8; 16];
    let mut len = 0usize;
    for (n, c) in cluster.nfc().enumerate() {
        if n >= 3 {
            return None;
        }
        let w = c.encode_utf8(buf.get_mut(len..)?).len();
        len += w;
    }
    let key = std::str::from_utf8(buf.get(..len)?).ok()?;
    TABLE
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .and_then(|i| TABLE.get(i))
        .map(|(_, v)| *v)
}

/// The one-character keys of [`TABLE`] as characters, sorted, for integer binary search.
fn single_keys() -> &'static [(char, &'static str)] {
    static SINGLES: std::sync::OnceLock<Vec<(char, &'static str)>> = std::sync::OnceLock::new();
    SINGLES.get_or_init(|| {
        let mut v: Vec<(char, &'static str)> = TABLE
            .iter()
            .filter_map(|(k, r)| {
                let mut it = k.chars();
                match (it.next(), it.next()) {
                    (Some(c), None) => Some((c, *r)),
                    _ => None,
                }
            })
            .collect();
        v.sort_unstable_by_key(|(c, _)| *c);
        v
    })
}

/// The table of spec §5 NormalizeDiacritics: NFC keys sorted by code point, generated from
/// the spec's table (each sequence NFC-normalised). Every replacement is ASCII (tested;
/// `normalize_into` relies on it).
pub static TABLE: &[(&str, &str)] = TABLE_DATA;

/// [`TABLE`]'s contents, as a constant so that [`LATIN`] can be built from them.
const TABLE_DATA: &[(&str, &str)] = &[
    ("\u{41}\u{331}", "A"),        // A̱
    ("\u{43}\u{304}", "C"),        // C̄
    ("\u{43}\u{331}", "C"),        // C̱
    ("\u{44}\u{304}", "D"),        // D̄
    ("\u{45}\u{30A}\u{304}", "E"), // E̊̄
    ("\u{45}\u{331}", "E"),        // E̱
    ("\u{47}\u{331}", "G"),        // G̱
    ("\u{49}\u{331}", "I"),        // I̱
    ("\u{4C}\u{304}", "L"),        // L̄
    ("\u{4E}\u{304}", "N"),        // N̄
    ("\u{4F}\u{331}", "O"),        // O̱
    ("\u{52}\u{304}", "R"),        // R̄
    ("\u{53}\u{304}", "S"),        // S̄
    ("\u{53}\u{331}", "S"),        // S̱
    ("\u{54}\u{304}", "T"),        // T̄
    ("\u{55}\u{307}\u{304}", "U"), // U̇̄
    ("\u{55}\u{331}", "U"),        // U̱
    ("\u{59}\u{331}", "Y"),        // Y̱
    ("\u{5A}\u{304}", "Z"),        // Z̄
    ("\u{61}\u{331}", "a"),        // a̱
    ("\u{63}\u{304}", "c"),        // c̄
    ("\u{63}\u{331}", "c"),        // c̱
    ("\u{64}\u{304}", "d"),        // d̄
    ("\u{65}\u{30A}\u{304}", "e"), // e̊̄
    ("\u{65}\u{331}", "e"),        // e̱
    ("\u{67}\u{331}", "g"),        // g̱
    ("\u{69}\u{331}", "i"),        // i̱
    ("\u{6C}\u{304}", "l"),        // l̄
    ("\u{6E}\u{304}", "n"),        // n̄
    ("\u{6F}\u{331}", "o"),        // o̱
    ("\u{72}\u{304}", "r"),        // r̄
    ("\u{73}\u{304}", "s"),        // s̄
    ("\u{73}\u{331}", "s"),        // s̱
    ("\u{74}\u{304}", "t"),        // t̄
    ("\u{75}\u{307}\u{304}", "u"), // u̇̄
    ("\u{75}\u{331}", "u"),        // u̱
    ("\u{79}\u{331}", "y"),        // y̱
    ("\u{7A}\u{304}", "z"),        // z̄
    ("\u{C0}", "A"),               // À
    ("\u{C1}", "A"),               // Á
    ("\u{C2}", "A"),               // Â
    ("\u{C3}", "A"),               // Ã
    ("\u{C4}", "A"),               // Ä
    ("\u{C5}", "A"),               // Å
    ("\u{C5}\u{304}", "A"),        // Å̄
    ("\u{C6}", "AE"),              // Æ
    ("\u{C7}", "C"),               // Ç
    ("\u{C8}", "E"),               // È
    ("\u{C9}", "E"),               // É
    ("\u{CA}", "E"),               // Ê
    ("\u{CA}\u{304}", "E"),        // Ê̄
    ("\u{CB}", "E"),               // Ë
    ("\u{CB}\u{304}", "E"),        // Ë̄
    ("\u{CC}", "I"),               // Ì
    ("\u{CD}", "I"),               // Í
    ("\u{CE}", "I"),               // Î
    ("\u{CF}", "I"),               // Ï
    ("\u{D1}", "N"),               // Ñ
    ("\u{D2}", "O"),               // Ò
    ("\u{D3}", "O"),               // Ó
    ("\u{D4}", "O"),               // Ô
    ("\u{D5}", "O"),               // Õ
    ("\u{D6}", "O"),               // Ö
    ("\u{D8}", "OE"),              // Ø
    ("\u{D8}\u{304}", "OE"),       // Ø̄
    ("\u{D9}", "U"),               // Ù
    ("\u{DA}", "U"),               // Ú
    ("\u{DB}", "U"),               // Û
    ("\u{DC}", "U"),               // Ü
    ("\u{DD}", "Y"),               // Ý
    ("\u{DF}", "ss"),              // ß
    ("\u{E0}", "a"),               // à
    ("\u{E1}", "a"),               // á
    ("\u{E2}", "a"),               // â
    ("\u{E3}", "a"),               // ã
    ("\u{E4}", "a"),               // ä
    ("\u{E5}", "a"),               // å
    ("\u{E5}\u{304}", "a"),        // å̄
    ("\u{E6}", "ae"),              // æ
    ("\u{E7}", "c"),               // ç
    ("\u{E8}", "e"),               // è
    ("\u{E9}", "e"),               // é
    ("\u{EA}", "e"),               // ê
    ("\u{EA}\u{304}", "e"),        // ê̄
    ("\u{EB}", "e"),               // ë
    ("\u{EB}\u{304}", "e"),        // ë̄
    ("\u{EC}", "i"),               // ì
    ("\u{ED}", "i"),               // í
    ("\u{EE}", "i"),               // î
    ("\u{EF}", "i"),               // ï
    ("\u{F1}", "n"),               // ñ
    ("\u{F2}", "o"),               // ò
    ("\u{F3}", "o"),               // ó
    ("\u{F4}", "o"),               // ô
    ("\u{F5}", "o"),               // õ
    ("\u{F6}", "o"),               // ö
    ("\u{F8}", "oe"),              // ø
    ("\u{F8}\u{304}", "oe"),       // ø̄
    ("\u{F9}", "u"),               // ù
    ("\u{FA}", "u"),               // ú
    ("\u{FB}", "u"),               // û
    ("\u{FC}", "u"),               // ü
    ("\u{FD}", "y"),               // ý
    ("\u{FF}", "y"),               // ÿ
    ("\u{100}", "A"),              // Ā
    ("\u{100}\u{300}", "A"),       // Ā̀
    ("\u{100}\u{301}", "A"),       // Ā́
    ("\u{100}\u{302}", "A"),       // Ā̂
    ("\u{100}\u{303}", "A"),       // Ā̃
    ("\u{100}\u{308}", "A"),       // Ā̈
    ("\u{101}", "a"),              // ā
    ("\u{101}\u{300}", "a"),       // ā̀
    ("\u{101}\u{301}", "a"),       // ā́
    ("\u{101}\u{302}", "a"),       // ā̂
    ("\u{101}\u{303}", "a"),       // ā̃
    ("\u{101}\u{308}", "a"),       // ā̈
    ("\u{102}", "A"),              // Ă
    ("\u{103}", "a"),              // ă
    ("\u{104}", "A"),              // Ą
    ("\u{105}", "a"),              // ą
    ("\u{106}", "C"),              // Ć
    ("\u{107}", "c"),              // ć
    ("\u{10C}", "C"),              // Č
    ("\u{10D}", "c"),              // č
    ("\u{10E}", "D"),              // Ď
    ("\u{10F}", "d"),              // ď
    ("\u{112}", "E"),              // Ē
    ("\u{112}\u{302}", "E"),       // Ē̂
    ("\u{112}\u{303}", "E"),       // Ē̃
    ("\u{113}", "e"),              // ē
    ("\u{113}\u{302}", "e"),       // ē̂
    ("\u{113}\u{303}", "e"),       // ē̃
    ("\u{116}", "E"),              // Ė
    ("\u{117}", "e"),              // ė
    ("\u{118}", "E"),              // Ę
    ("\u{119}", "e"),              // ę
    ("\u{11A}", "E"),              // Ě
    ("\u{11B}", "e"),              // ě
    ("\u{11E}", "G"),              // Ğ
    ("\u{11F}", "g"),              // ğ
    ("\u{12A}", "I"),              // Ī
    ("\u{12A}\u{300}", "I"),       // Ī̀
    ("\u{12A}\u{301}", "I"),       // Ī́
    ("\u{12A}\u{302}", "I"),       // Ī̂
    ("\u{12A}\u{303}", "I"),       // Ī̃
    ("\u{12B}", "i"),              // ī
    ("\u{12B}\u{300}", "i"),       // ī̀
    ("\u{12B}\u{301}", "i"),       // ī́
    ("\u{12B}\u{302}", "i"),       // ī̂
    ("\u{12B}\u{303}", "i"),       // ī̃
    ("\u{130}", "I"),              // İ
    ("\u{131}", "i"),              // ı
    ("\u{13D}", "L"),              // Ľ
    ("\u{13E}", "l"),              // ľ
    ("\u{141}", "L"),              // Ł
    ("\u{142}", "l"),              // ł
    ("\u{143}", "N"),              // Ń
    ("\u{144}", "n"),              // ń
    ("\u{147}", "N"),              // Ň
    ("\u{148}", "n"),              // ň
    ("\u{14C}", "O"),              // Ō
    ("\u{14C}\u{302}", "O"),       // Ō̂
    ("\u{14C}\u{303}", "O"),       // Ō̃
    ("\u{14C}\u{308}", "O"),       // Ō̈
    ("\u{14D}", "o"),              // ō
    ("\u{14D}\u{302}", "o"),       // ō̂
    ("\u{14D}\u{303}", "o"),       // ō̃
    ("\u{14D}\u{308}", "o"),       // ō̈
    ("\u{150}", "O"),              // Ő
    ("\u{151}", "o"),              // ő
    ("\u{152}\u{304}", "OE"),      // Œ̄
    ("\u{153}\u{304}", "oe"),      // œ̄
    ("\u{158}", "R"),              // Ř
    ("\u{159}", "r"),              // ř
    ("\u{15A}", "S"),              // Ś
    ("\u{15B}", "s"),              // ś
    ("\u{15E}", "S"),              // Ş
    ("\u{15F}", "s"),              // ş
    ("\u{160}", "S"),              // Š
    ("\u{161}", "s"),              // š
    ("\u{164}", "T"),              // Ť
    ("\u{165}", "t"),              // ť
    ("\u{16A}", "U"),              // Ū
    ("\u{16A}\u{300}", "U"),       // Ū̀
    ("\u{16A}\u{301}", "U"),       // Ū́
    ("\u{16A}\u{302}", "U"),       // Ū̂
    ("\u{16A}\u{303}", "U"),       // Ū̃
    ("\u{16B}", "u"),              // ū
    ("\u{16B}\u{300}", "u"),       // ū̀
    ("\u{16B}\u{301}", "u"),       // ū́
    ("\u{16B}\u{302}", "u"),       // ū̂
    ("\u{16B}\u{303}", "u"),       // ū̃
    ("\u{16E}", "U"),              // Ů
    ("\u{16F}", "u"),              // ů
    ("\u{170}", "U"),              // Ű
    ("\u{171}", "u"),              // ű
    ("\u{178}", "Y"),              // Ÿ
    ("\u{179}", "Z"),              // Ź
    ("\u{17A}", "z"),              // ź
    ("\u{17B}", "Z"),              // Ż
    ("\u{17C}", "z"),              // ż
    ("\u{17D}", "Z"),              // Ž
    ("\u{17E}", "z"),              // ž
    ("\u{1D5}", "U"),              // Ǖ
    ("\u{1D6}", "u"),              // ǖ
    ("\u{1DE}", "A"),              // Ǟ
    ("\u{1DF}", "a"),              // ǟ
    ("\u{1E0}", "A"),              // Ǡ
    ("\u{1E1}", "a"),              // ǡ
    ("\u{1E2}", "AE"),             // Ǣ
    ("\u{1E3}", "ae"),             // ǣ
    ("\u{1EC}", "O"),              // Ǭ
    ("\u{1ED}", "o"),              // ǭ
    ("\u{218}", "S"),              // Ș
    ("\u{219}", "s"),              // ș
    ("\u{21A}", "T"),              // Ț
    ("\u{21B}", "t"),              // ț
    ("\u{22A}", "O"),              // Ȫ
    ("\u{22B}", "o"),              // ȫ
    ("\u{22C}", "O"),              // Ȭ
    ("\u{22D}", "o"),              // ȭ
    ("\u{230}", "O"),              // Ȱ
    ("\u{231}", "o"),              // ȱ
    ("\u{232}", "Y"),              // Ȳ
    ("\u{232}\u{300}", "Y"),       // Ȳ̀
    ("\u{232}\u{301}", "Y"),       // Ȳ́
    ("\u{232}\u{303}", "Y"),       // Ȳ̃
    ("\u{233}", "y"),              // ȳ
    ("\u{233}\u{300}", "y"),       // ȳ̀
    ("\u{233}\u{301}", "y"),       // ȳ́
    ("\u{233}\u{303}", "y"),       // ȳ̃
    ("\u{1E0E}", "D"),             // Ḏ
    ("\u{1E0F}", "d"),             // ḏ
    ("\u{1E14}", "E"),             // Ḕ
    ("\u{1E15}", "e"),             // ḕ
    ("\u{1E16}", "E"),             // Ḗ
    ("\u{1E17}", "e"),             // ḗ
    ("\u{1E20}", "G"),             // Ḡ
    ("\u{1E21}", "g"),             // ḡ
    ("\u{1E38}", "L"),             // Ḹ
    ("\u{1E39}", "l"),             // ḹ
    ("\u{1E3A}", "L"),             // Ḻ
    ("\u{1E3B}", "l"),             // ḻ
    ("\u{1E48}", "N"),             // Ṉ
    ("\u{1E49}", "n"),             // ṉ
    ("\u{1E50}", "O"),             // Ṑ
    ("\u{1E51}", "o"),             // ṑ
    ("\u{1E52}", "O"),             // Ṓ
    ("\u{1E53}", "o"),             // ṓ
    ("\u{1E5C}", "R"),             // Ṝ
    ("\u{1E5D}", "r"),             // ṝ
    ("\u{1E5E}", "R"),             // Ṟ
    ("\u{1E5F}", "r"),             // ṟ
    ("\u{1E6E}", "T"),             // Ṯ
    ("\u{1E6F}", "t"),             // ṯ
    ("\u{1E72}\u{304}", "U"),      // Ṳ̄
    ("\u{1E73}\u{304}", "u"),      // ṳ̄
    ("\u{1E7A}", "U"),             // Ṻ
    ("\u{1E7B}", "u"),             // ṻ
    ("\u{1E94}", "Z"),             // Ẕ
    ("\u{1E95}", "z"),             // ẕ
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_has_261_sorted_nfc_keys() {
        assert_eq!(TABLE.len(), 261);
        for pair in TABLE.windows(2) {
            if let [a, b] = pair {
                assert!(a.0 < b.0, "{:?} before {:?}", a.0, b.0);
            }
        }
        for (k, v) in TABLE {
            let nfc: String = k.nfc().collect();
            assert_eq!(&nfc, k);
            assert!(v.is_ascii() && !v.is_empty());
        }
    }

    #[test]
    fn every_key_in_every_spelling() {
        use unicode_normalization::UnicodeNormalization;
        for (k, v) in TABLE {
            assert_eq!(normalize(k), *v, "{k:?}");
            let nfd: String = k.nfd().collect();
            assert_eq!(normalize(&nfd), *v, "nfd {nfd:?}");
            let wrapped = format!("x{nfd}y");
            assert_eq!(normalize(&wrapped), format!("x{v}y"));
        }
    }

    #[test]
    fn examples() {
        let cases: &[(&str, &str)] = &[
            ("Zoë", "Zoe"),
            ("Zoe\u{308}", "Zoe"),
            ("Æsir Øster Straße Łódź", "AEsir OEster Strasse Lodz"),
            ("Müller", "Muller"),
            ("a\u{304}\u{301}", "a"),
            ("\u{101}\u{301}", "a"),
            ("\u{113}\u{301}", "e"),
            ("ễ ồ", "ễ ồ"),
            (
                "e\u{302}\u{303} o\u{302}\u{300}",
                "e\u{302}\u{303} o\u{302}\u{300}",
            ),
            ("œ Œ ẞ", "œ Œ ẞ"),
            ("œ\u{304}", "oe"),
            ("ı İ ł Ł ß", "i I l L ss"),
            ("\u{212B}", "A"),
            ("😀é", "😀e"),
            ("\u{301}e", "\u{301}e"),
            ("e\u{301}\u{301}", "e\u{301}\u{301}"),
            ("日本", "日本"),
        ];
        for &(s, want) in cases {
            assert_eq!(normalize(s), want, "{s:?}");
        }
    }

    #[test]
    fn misses_borrow() {
        assert!(matches!(normalize("John Smith"), Cow::Borrowed(_)));
        assert!(matches!(normalize("日本 ễ"), Cow::Borrowed(_)));
    }

    /// The scan before the Latin fast path: every character through [`lookup`]. The fast
    /// scan must give the same result on every input.
    fn normalize_reference(s: &str) -> Option<String> {
        let mut out = String::new();
        let mut replaced = false;
        let mut copied = 0usize;
        let mut iter = s.char_indices().peekable();
        while let Some((start, first)) = iter.next() {
            let mut end = start + first.len_utf8();
            while let Some(&(i, c)) = iter.peek() {
                if !is_combining_mark(c) {
                    break;
                }
                end = i + c.len_utf8();
                iter.next();
            }
            if let Some(replacement) = lookup(&s[start..end]) {
                replaced = true;
                out.push_str(&s[copied..start]);
                out.push_str(replacement);
                copied = end;
            }
        }
        out.push_str(&s[copied..]);
        replaced.then_some(out)
    }

    /// [`LATIN`] answers exactly what the NFC lookup does for every code point it covers,
    /// and no code point below U+0300 is a combining mark (the fast path relies on both).
    #[test]
    fn latin_table_matches_lookup_on_every_code_point() {
        let mut hits = 0;
        for cp in 0..0x300u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            assert!(!is_combining_mark(c), "{cp:#x}");
            if (LATIN_START..LATIN_END).contains(&cp) {
                assert_eq!(latin(c), lookup(&c.to_string()), "{cp:#x} {c}");
                hits += usize::from(latin(c).is_some());
            } else {
                assert_eq!(latin(c), None);
            }
        }
        // Every one-character key of the table below U+0250.
        let singles = TABLE
            .iter()
            .filter(|(k, _)| k.chars().count() == 1 && k.chars().all(|c| (c as u32) < LATIN_END))
            .count();
        assert_eq!(hits, singles);
        assert!(hits > 100, "{hits}");
    }

    #[test]
    fn fast_scan_edges() {
        let cases: &[(&str, &str)] = &[
            ("é", "e"),
            ("e\u{301}", "e"),
            ("xé", "xe"),
            ("éx", "ex"),
            ("a\u{331}", "a"),
            ("ab\u{331}c", "ab\u{331}c"),
            ("xa\u{331}y", "xay"),
            ("\u{331}a", "\u{331}a"),
            ("é\u{331}", "é\u{331}"),
            ("\u{101}\u{301}x", "ax"),
            ("\u{c5}\u{304}", "A"),
            ("Zoë.Åkesson-Müller", "Zoe.Akesson-Muller"),
            ("Zoe\u{308}.A\u{30a}kesson", "Zoe.Akesson"),
            ("· ° \u{a0}", "· ° \u{a0}"),
            ("ɏ ə ȳ", "ɏ ə y"),
            ("日本é", "日本e"),
            ("ḏ", "d"),
            ("", ""),
        ];
        for &(s, want) in cases {
            assert_eq!(normalize(s), want, "{s:?}");
            assert_eq!(
                normalize_reference(s).as_deref().unwrap_or(s),
                want,
                "{s:?}"
            );
        }
    }

    proptest! {
        /// The fast scan agrees with the reference scan, replaced or not.
        #[test]
        fn fast_scan_matches_reference(s in "[a-zA-Z .@\u{80}-\u{24f}\u{300}-\u{36f}\u{1e00}-\u{1eff}\u{4e00}-\u{4e05}\u{212b}\u{1f600}]{0,24}") {
            let mut out = String::from("stale");
            let replaced = normalize_into(&s, &mut out);
            let want = normalize_reference(&s);
            prop_assert_eq!(replaced, want.is_some());
            prop_assert_eq!(out, want.unwrap_or_default());
        }

        #[test]
        fn fast_scan_matches_reference_anywhere(s in "\\PC{0,24}") {
            prop_assert_eq!(normalize(&s).into_owned(), normalize_reference(&s).unwrap_or_else(|| s.clone()));
        }

        #[test]
        fn idempotent(s in "\\PC*") {
            let once = normalize(&s).into_owned();
            prop_assert_eq!(normalize(&once).into_owned(), once);
        }

        #[test]
        fn identity_outside_table(s in "[a-zA-Z0-9 .@\u{4E00}-\u{4E10}\u{1EBF}\u{1EC5}]*") {
            prop_assert_eq!(normalize(&s), s.as_str());
        }
    }
}
