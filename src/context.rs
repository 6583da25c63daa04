//! The evaluation context: clock, random source, uniqueness oracle and limits.
//!
//! Everything an expression can observe besides its record comes through here, so a sync
//! engine plugs in its own (a frozen clock in tests, a directory lookup for
//! SelectUniqueValue) and evaluation stays deterministic when it wants to be.

use std::collections::HashSet;

use crate::datetime::DateTime;

/// Where `Now()` reads the time (F17).
pub trait Clock: Send + Sync {
    /// The current instant (UTC).
    fn now(&self) -> DateTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime {
        DateTime::now_utc()
    }
}

/// A clock frozen at one instant (tests, `eval --now`).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub DateTime);

impl Clock for FixedClock {
    fn now(&self) -> DateTime {
        self.0
    }
}

/// Where `Guid()` and `RandomString()` draw randomness (F17).
pub trait RandomSource {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;

    /// A uniformly distributed number in `0..bound` (`bound > 0`), without modulo bias.
    fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0);
        if bound <= 1 {
            return 0;
        }
        // Lemire-style rejection: accept only draws below the largest multiple of `bound`.
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % bound;
            }
        }
    }
}

/// Answers whether a SelectUniqueValue candidate already exists in the target (F18).
pub trait UniquenessOracle: Send + Sync {
    /// True when `candidate` is already taken.
    fn is_taken(&self, candidate: &str) -> bool;
}

/// The CLI's default oracle: a set of taken values compared ignoring case (invariant simple
/// case folding, as directory matching does).
#[derive(Clone, Debug, Default)]
pub struct TakenSet {
    folded: HashSet<String>,
}

impl TakenSet {
    /// An empty set: nothing is taken.
    pub fn new() -> Self {
        TakenSet::default()
    }

    /// Marks `value` as taken.
    pub fn insert(&mut self, value: &str) {
        self.folded.insert(fold(value));
    }
}

impl<S: AsRef<str>> FromIterator<S> for TakenSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = TakenSet::new();
        for v in iter {
            set.insert(v.as_ref());
        }
        set
    }
}

impl UniquenessOracle for TakenSet {
    fn is_taken(&self, candidate: &str) -> bool {
        self.folded.contains(&fold(candidate))
    }
}

/// Simple (1:1) case folding by lower-casing each character whose lower-case mapping is one
/// character; characters with multi-character full mappings are kept, which is what simple
/// folding does for them.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        })
        .collect()
}

/// Limits that bound one evaluation (spec §2.2, S9); every limit has its own error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Hard expression length in UTF-16 code units (`expression-too-long`).
    pub max_expression_len: usize,
    /// Length above which the `length-over-10000` warning fires.
    pub warn_expression_len: usize,
    /// Open parentheses at once (`nesting-too-deep`).
    pub max_depth: usize,
    /// Arguments in one call (`too-many-arguments`).
    pub max_args: usize,
    /// Steps one evaluation may take (`limit-exceeded`).
    pub max_steps: u64,
    /// Bytes of text one value may hold (`limit-exceeded`).
    pub max_value_bytes: usize,
    /// Bytes all values built by one evaluation may hold together (`limit-exceeded`).
    pub max_output_bytes: usize,
    /// Elements one multi-valued value may hold (`limit-exceeded`).
    pub max_multi_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_expression_len: 100_000,
            warn_expression_len: 10_000,
            max_depth: 100,
            max_args: 2_048,
            max_steps: 1_000_000,
            max_value_bytes: 1 << 20,
            max_output_bytes: 16 << 20,
            max_multi_len: 100_000,
        }
    }
}
