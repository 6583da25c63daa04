//! A set of code points given as text (Word's delimiters, PCase's separators).
//!
//! `str::contains(char)` is linear in the set, which makes a scan quadratic when an
//! attribute supplies a long delimiter list; this set answers in constant time for ASCII
//! and by binary search otherwise.

/// The code points of a string.
#[derive(Clone, Debug)]
pub struct CharSet {
    ascii: [bool; 128],
    other: Vec<char>,
}

impl CharSet {
    /// The set of the code points of `s`.
    pub fn new(s: &str) -> CharSet {
        let mut ascii = [false; 128];
        let mut other = Vec::new();
        for c in s.chars() {
            match ascii.get_mut(c as usize) {
                Some(slot) => *slot = true,
                None => other.push(c),
            }
        }
        other.sort_unstable();
        other.dedup();
        CharSet { ascii, other }
    }

    /// True when `c` is in the set.
    pub fn contains(&self, c: char) -> bool {
        match self.ascii.get(c as usize) {
            Some(b) => *b,
            None => self.other.binary_search(&c).is_ok(),
        }
    }

    /// True for the empty set.
    pub fn is_empty(&self) -> bool {
        self.other.is_empty() && !self.ascii.iter().any(|b| *b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        let set = CharSet::new(",!&# 😀é");
        for c in [',', '!', '&', '#', ' ', '😀', 'é'] {
            assert!(set.contains(c), "{c:?}");
        }
        for c in ['a', 'e', '\u{0}', '\u{7F}', '😁'] {
            assert!(!set.contains(c), "{c:?}");
        }
        assert!(CharSet::new("").is_empty());
        assert!(!CharSet::new("x").is_empty());
    }
}
