//! Positions and lengths in UTF-16 code units on UTF-8 text (spec §5 intro, F22).
//!
//! Entra runs on .NET, where `string.Length` and every position count UTF-16 code units, so
//! `Left("😀a", 1)` must count the emoji as two. These helpers walk the `&str` without
//! allocating. A cut point that would fall between the two halves of a surrogate pair moves
//! one code unit later, so a pair is never split (our decision for the direction).

/// Length of `s` in UTF-16 code units.
pub fn len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars().map(char::len_utf16).sum()
}

/// Byte offset of the cut point after `units` UTF-16 code units; `s.len()` when `s` is
/// shorter. A cut inside a surrogate pair moves after the pair.
pub fn byte_offset(s: &str, units: usize) -> usize {
    if units == 0 {
        return 0;
    }
    let mut seen = 0usize;
    for (i, c) in s.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16();
    }
    s.len()
}

/// The UTF-16 position (code units before it) of byte offset `byte` in `s`.
///
/// `byte` must be a char boundary; anything past the end counts as the end.
pub fn unit_offset(s: &str, byte: usize) -> usize {
    let prefix = s.get(..byte).unwrap_or(s);
    len(prefix)
}

/// The first `n` code units of `s` (the whole string when shorter).
pub fn left(s: &str, n: usize) -> &str {
    let end = byte_offset(s, n);
    s.get(..end).unwrap_or(s)
}

/// Up to `count` code units of `s` starting at the 0-based code unit `start`.
///
/// Both cut points are computed from code unit positions, each moved after a surrogate pair
/// it would split.
pub fn substring(s: &str, start: usize, count: usize) -> &str {
    let from = byte_offset(s, start);
    let to = byte_offset(s, start.saturating_add(count));
    s.get(from..to).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("John Doe", 8),
            ("😀a", 3),
            ("Zoë", 3),
            ("e\u{308}", 2),
            ("😀😀", 4),
        ];
        for &(s, want) in cases {
            assert_eq!(len(s), want, "{s:?}");
        }
    }

    #[test]
    fn cuts_never_split_a_pair() {
        let cases: &[(&str, usize, &str)] = &[
            ("John Doe", 3, "Joh"),
            ("😀a", 0, ""),
            ("😀a", 1, "😀"),
            ("😀a", 2, "😀"),
            ("😀a", 3, "😀a"),
            ("😀a", 9, "😀a"),
            ("a😀", 2, "a😀"),
        ];
        for &(s, n, want) in cases {
            assert_eq!(left(s, n), want, "left({s:?}, {n})");
        }
        let subs: &[(&str, usize, usize, &str)] = &[
            ("John Doe", 2, 5, "hn Do"),
            ("😀a", 1, 1, ""),
            ("😀a", 1, 2, "a"),
            ("😀a", 0, 1, "😀"),
            ("😀a", 1, 5, "a"),
            ("abc", 5, 1, ""),
            ("abc", 1, usize::MAX, "bc"),
        ];
        for &(s, start, count, want) in subs {
            assert_eq!(
                substring(s, start, count),
                want,
                "substring({s:?}, {start}, {count})"
            );
        }
    }

    #[test]
    fn unit_offsets() {
        assert_eq!(unit_offset("😀ab", 4), 2);
        assert_eq!(unit_offset("😀ab", 5), 3);
        assert_eq!(unit_offset("ab", 99), 2);
    }
}
