//! The .NET custom date format engine (spec 5.F1): a tokenizer that keeps the column of every
//! token, a formatter (`DateTime.ToString(format, InvariantCulture)`) and a parser
//! (`DateTime.ParseExact(text, format, InvariantCulture, styles)`).
//!
//! The tokenizer mirrors .NET's `DateTimeFormat.FormatCustomized` and the parser mirrors
//! `DateTimeParse.ParseByFormat`, so that format strings mean the same thing in both
//! directions. Values are always UTC: `K` writes `Z` and `z` writes a zero offset.

use std::fmt;
use std::sync::OnceLock;

use super::styles::Styles;
use super::{Civil, DateTime, TICKS_PER_MINUTE, days_from_civil, days_in_month};

mod walk;

use walk::Walk;

/// The fields of an instant that formatting reads: a [`Civil`] without the weekday, which
/// only day names need (they work it out from the date). ParseExact's straight walk returns
/// these, so that a date the offset leaves alone never needs a day number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// 1..=9999.
    pub year: i32,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
    /// Ticks within the second, 0..=9_999_999.
    pub fraction: u32,
}

impl From<Civil> for Stamp {
    fn from(c: Civil) -> Stamp {
        Stamp {
            year: c.year,
            month: c.month,
            day: c.day,
            hour: c.hour,
            minute: c.minute,
            second: c.second,
            fraction: c.fraction,
        }
    }
}

impl Stamp {
    /// Day of the week, Sunday = 0 … Saturday = 6.
    fn weekday(&self) -> u8 {
        days_from_civil(self.year, self.month.into(), self.day.into())
            .map_or(0, |days| ((days + 1) % 7) as u8)
    }
}

/// One element of a format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    /// `d` (1), `dd` (2), `ddd` (3), `dddd…` (4).
    Day(u8),
    /// `f…` (`trim: false`) or `F…` (`trim: true`), 1–7 digits.
    Fraction {
        /// Number of digits.
        digits: u8,
        /// True for `F`: trailing zeros dropped, optional when parsing.
        trim: bool,
    },
    /// `g…`: the era, `A.D.`.
    Era,
    /// `h` (1) / `hh…` (2).
    Hour12(u8),
    /// `H` (1) / `HH…` (2).
    Hour24(u8),
    /// `m` (1) / `mm…` (2).
    Minute(u8),
    /// `s` (1) / `ss…` (2).
    Second(u8),
    /// `M` (1), `MM` (2), `MMM` (3), `MMMM…` (4).
    Month(u8),
    /// `t` (1) / `tt…` (2).
    AmPm(u8),
    /// `y…`: the number of `y`s.
    Year(u8),
    /// `z` (1), `zz` (2), `zzz…` (3).
    Offset(u8),
    /// `K`.
    OffsetK,
    /// `:`.
    TimeSep,
    /// `/`.
    DateSep,
    /// Unquoted `Z`: a literal that marks UTC when parsing.
    UtcZ,
    /// Unquoted `GMT` (any case): .NET's parser matches the word `GMT` and marks UTC, while
    /// its formatter writes `G` and formats the rest as specifiers; `rest` holds those.
    Gmt {
        /// The tokens of the two characters after `G`, for formatting.
        rest: Vec<Token>,
    },
    /// Unquoted `.`: optional when parsing if an `F` specifier follows.
    Dot,
    /// A literal character (unquoted, `\c`).
    Literal(char),
    /// A quoted literal (`'text'`, `"text"`).
    Quoted(String),
}

/// A format element and the column (0-based char index in the format string) it starts at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub spec: Spec,
    /// Where it starts.
    pub column: usize,
}

/// A parsed (tokenized) format string.
#[derive(Clone, Debug)]
pub struct Format {
    tokens: Vec<Token>,
    /// The tokens lowered for [`Format::format`], built on first use (a format read by
    /// FormatDateTime is only ever parsed with or formatted with, not both).
    output: OnceLock<Output>,
    /// The tokens lowered for [`Format::parse_exact`], built on first use.
    input: OnceLock<Input>,
}

/// A format lowered for [`Format::parse_exact`].
#[derive(Clone, Debug)]
struct Input {
    /// One step per token, for the general parser.
    ops: Box<[In]>,
    /// The straight walk, when the format has its shape (it falls back on the general
    /// parser for anything else).
    walk: Option<Walk>,
}

/// Formats are equal when their tokens are (the lowered forms follow from them).
impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.tokens == other.tokens
    }
}

impl Eq for Format {}

/// A format lowered for [`Format::format`].
#[derive(Clone, Debug, PartialEq, Eq)]
enum Output {
    /// Every field has a fixed length.
    Template(Template),
    /// The general case.
    Steps {
        /// The steps.
        steps: Vec<Out>,
        /// The most bytes they can write, so that the output is allocated once.
        max_len: usize,
    },
}

/// One step of [`Format::format`]. The tokens are lowered once, when the format is parsed,
/// so that formatting runs a short list of cheap steps: runs of literal text are merged into
/// one copy, `GMT`'s inner tokens are flattened, and each number names the one field it
/// reads (a loop over the tokens themselves had the compiler precompute the digits of every
/// field before the loop, used or not).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Out {
    /// One character written as is.
    Char(char),
    /// Text written as is.
    Text(Box<str>),
    /// A field below 100 written as exactly two digits (`MM`, `dd`, `HH`, `yy`, …).
    Two(Field),
    /// The year as exactly four digits (`yyyy`; years are 1–9999).
    Year4,
    /// A field zero-padded to `width` digits.
    Num {
        /// Which.
        field: Field,
        /// The minimum number of digits.
        width: u8,
    },
    /// `f…` (`trim: false`) or `F…` (`trim: true`).
    Fraction {
        /// Number of digits, 1–7.
        digits: u8,
        /// Trailing zeros (and a `.` before an empty field) dropped.
        trim: bool,
    },
    /// `ddd` (`abbr`) or `dddd`.
    DayName {
        /// The three-letter form.
        abbr: bool,
    },
    /// `MMM` (`abbr`) or `MMMM`.
    MonthName {
        /// The three-letter form.
        abbr: bool,
    },
    /// `t` (`A`/`P`, `long: false`) or `tt` (`AM`/`PM`).
    AmPm {
        /// The two-letter form.
        long: bool,
    },
}

/// The numeric field an [`Out::Num`] writes; the index into [`Format::format`]'s table of
/// field values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Year,
    /// The year modulo 100 (`y`, `yy`).
    Year2,
    Month,
    Day,
    Hour24,
    /// 1–12.
    Hour12,
    Minute,
    Second,
}

/// A format whose output always has the same length (numbers with a fixed digit count, the
/// fraction's `f`s, literal text, three-letter names, AM/PM): [`Format::format`] copies the
/// text, placeholders included, in one allocation of the exact size and overwrites each
/// field in place, where the steps would push character by character.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Template {
    /// The output with ASCII placeholders where the fields go.
    text: Box<[u8]>,
    /// The two-digit fields (a four-digit year is two), the common case, written from a
    /// table of pairs without a `match` per field.
    pairs: Box<[PairSlot]>,
    /// The first fraction field: where it starts and its digit count.
    fraction: Option<(usize, usize)>,
    /// The other fields, each with its byte range in `text`. They are written out of line:
    /// inline, the compiler computed every value they might need (names, all the fraction
    /// divisions) before the loop, used or not.
    slots: Box<[Slot]>,
}

/// A two-digit field of a [`Template`]: its place in the text and which value goes there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PairSlot {
    at: usize,
    what: Pair,
}

/// The values below 100 a [`PairSlot`] writes; the index into [`Template::format`]'s table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pair {
    /// The year's first two digits (years are below 10 000).
    Century,
    /// The year's last two digits.
    Year2,
    Month,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
}

impl Pair {
    fn of(field: Field) -> Option<Pair> {
        Some(match field {
            Field::Year => return None,
            Field::Year2 => Pair::Year2,
            Field::Month => Pair::Month,
            Field::Day => Pair::Day,
            Field::Hour24 => Pair::Hour24,
            Field::Hour12 => Pair::Hour12,
            Field::Minute => Pair::Minute,
            Field::Second => Pair::Second,
        })
    }
}

/// A field of a [`Template`] other than a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    /// Where it starts in the text.
    at: usize,
    /// How many bytes it takes.
    len: usize,
    /// What goes there.
    what: SlotKind,
}

/// What a [`Slot`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotKind {
    /// The year, zero-padded to the slot's length (more than four digits).
    Year,
    /// The first `len` digits of the fraction.
    Fraction,
    /// `ddd`.
    DayAbbr,
    /// `MMM`.
    MonthAbbr,
    /// `t` (one byte) or `tt` (two).
    AmPm,
}

impl Template {
    /// The template of lowered steps, if every step has a fixed length.
    fn of(steps: &[Out], len: usize) -> Option<Template> {
        let mut text = Vec::with_capacity(len);
        let mut pairs = Vec::with_capacity(steps.len());
        let mut fraction = None;
        let mut slots = Vec::with_capacity(steps.len());
        for step in steps {
            let at = text.len();
            let (what, len) = match step {
                Out::Char(c) => {
                    text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    continue;
                }
                Out::Text(t) => {
                    text.extend_from_slice(t.as_bytes());
                    continue;
                }
                Out::Two(field) => {
                    let what = Pair::of(*field)?;
                    pairs.push(PairSlot { at, what });
                    text.extend_from_slice(b"00");
                    continue;
                }
                Out::Year4 => {
                    pairs.push(PairSlot {
                        at,
                        what: Pair::Century,
                    });
                    pairs.push(PairSlot {
                        at: at + 2,
                        what: Pair::Year2,
                    });
                    text.extend_from_slice(b"0000");
                    continue;
                }
                // Years have at most four digits.
                Out::Num {
                    field: Field::Year,
                    width,
                } if *width >= 4 => (SlotKind::Year, usize::from(*width)),
                Out::Fraction {
                    digits,
                    trim: false,
                } if fraction.is_none() => {
                    fraction = Some((at, usize::from(*digits)));
                    text.resize(at + usize::from(*digits), b'0');
                    continue;
                }
                Out::Fraction {
                    digits,
                    trim: false,
                } => (SlotKind::Fraction, usize::from(*digits)),
                Out::DayName { abbr: true } => (SlotKind::DayAbbr, 3),
                Out::MonthName { abbr: true } => (SlotKind::MonthAbbr, 3),
                Out::AmPm { long } => (SlotKind::AmPm, if *long { 2 } else { 1 }),
                Out::Num { .. }
                | Out::Fraction { .. }
                | Out::DayName { .. }
                | Out::MonthName { .. } => return None,
            };
            slots.push(Slot { at, len, what });
            text.resize(at + len, b'0');
        }
        Some(Template {
            text: text.into(),
            pairs: pairs.into(),
            fraction,
            slots: slots.into(),
        })
    }

    /// Fills the template for an instant.
    fn format(&self, c: &Stamp) -> String {
        // Years are 1..=9999.
        let year = c.year.unsigned_abs();
        let hour12 = match c.hour % 12 {
            0 => 12,
            h => h,
        };
        // By `Pair`; every value is below 100.
        let values = [
            (year / 100) as u8,
            (year % 100) as u8,
            c.month,
            c.day,
            c.hour,
            hour12,
            c.minute,
            c.second,
        ];
        let mut buf = crate::value::buffers::take(self.text.len()).into_bytes();
        buf.extend_from_slice(&self.text);
        for p in self.pairs.iter() {
            let pair = PAIRS
                .get(usize::from(values[p.what as usize]))
                .unwrap_or(&[b'0'; 2]);
            if let Some(dst) = buf.get_mut(p.at..p.at + 2) {
                dst.copy_from_slice(pair);
            }
        }
        if let Some((at, n)) = self.fraction {
            if let Some(dst) = buf.get_mut(at..at + n) {
                write_digits(dst, fraction_digits(c.fraction, n));
            }
        }
        if !self.slots.is_empty() {
            fill_slots(&mut buf, &self.slots, c);
        }
        // Only ASCII placeholders were overwritten, with ASCII: always valid UTF-8.
        String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// Writes the [`Template`] fields other than pairs and the first fraction.
#[inline(never)]
fn fill_slots(buf: &mut [u8], slots: &[Slot], c: &Stamp) {
    for slot in slots {
        let Some(dst) = buf.get_mut(slot.at..slot.at + slot.len) else {
            continue;
        };
        let name = match slot.what {
            SlotKind::Year => {
                write_digits(dst, c.year.unsigned_abs());
                continue;
            }
            SlotKind::Fraction => {
                write_digits(dst, fraction_digits(c.fraction, slot.len));
                continue;
            }
            SlotKind::DayAbbr => abbr(DAYS[usize::from(c.weekday() % 7)]),
            SlotKind::MonthAbbr => abbr(MONTHS[usize::from(c.month.saturating_sub(1) % 12)]),
            SlotKind::AmPm => {
                if c.hour < 12 {
                    "AM"
                } else {
                    "PM"
                }
            }
        };
        for (d, s) in dst.iter_mut().zip(name.bytes()) {
            *d = s;
        }
    }
}

/// Writes `v` as decimal digits filling `dst`, zero-padded (higher digits dropped).
fn write_digits(dst: &mut [u8], mut v: u32) {
    for d in dst.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// The first `n` (1–7) digits of a fraction of a second in ticks.
fn fraction_digits(ticks: u32, n: usize) -> u32 {
    // Constant divisors: a multiply and a shift each.
    match n {
        1 => ticks / 1_000_000,
        2 => ticks / 100_000,
        3 => ticks / 10_000,
        4 => ticks / 1_000,
        5 => ticks / 100,
        6 => ticks / 10,
        _ => ticks,
    }
}

/// One token as [`Format::parse_exact`] reads it: the common elements in a compact form the
/// token loop handles inline, everything else left to [`Parser::element`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum In {
    /// A one-letter (1–2 digits) or doubled (2 digits) numeric specifier.
    Num {
        /// Which field it sets.
        field: NumIn,
        /// 1 or 2.
        width: u8,
    },
    /// `yyy` to `yyyyyyyyy`: exactly that many digits.
    Year(u8),
    /// An ASCII literal other than the space (which AllowInnerWhite makes optional).
    Byte(u8),
    /// `z`, `zz`, `zzz`.
    Offset(u8),
    /// Anything else (and `.`, which the loop handles itself).
    Other,
}

/// The field an [`In::Num`] sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NumIn {
    Day,
    Month,
    Hour12,
    Hour24,
    Minute,
    Second,
    /// `y`, `yy`: a two-digit year.
    Year2,
}

/// Lowers one token for parsing (see [`In`]).
fn lower_in(spec: &Spec) -> In {
    let num = |field, width: &u8| In::Num {
        field,
        width: *width,
    };
    match spec {
        Spec::Day(n @ (1 | 2)) => num(NumIn::Day, n),
        Spec::Month(n @ (1 | 2)) => num(NumIn::Month, n),
        Spec::Hour12(n) => num(NumIn::Hour12, n),
        Spec::Hour24(n) => num(NumIn::Hour24, n),
        Spec::Minute(n) => num(NumIn::Minute, n),
        Spec::Second(n) => num(NumIn::Second, n),
        Spec::Year(n @ (1 | 2)) => num(NumIn::Year2, n),
        // Up to nine digits always fit an i32.
        Spec::Year(n @ 3..=9) => In::Year(*n),
        Spec::TimeSep => In::Byte(b':'),
        Spec::DateSep => In::Byte(b'/'),
        Spec::Literal(c) if c.is_ascii() && *c != ' ' => In::Byte(*c as u8),
        Spec::Offset(n) => In::Offset(*n),
        _ => In::Other,
    }
}

/// The values of the numeric fields, indexed by [`Field`].
fn field_values(c: &Stamp) -> [u32; 8] {
    // Years are 1..=9999, never negative.
    [
        c.year.unsigned_abs(),
        c.year.unsigned_abs() % 100,
        c.month.into(),
        c.day.into(),
        c.hour.into(),
        match c.hour % 12 {
            0 => 12,
            h => h.into(),
        },
        c.minute.into(),
        c.second.into(),
    ]
}

/// Lowers tokens for formatting (see [`Out`]).
fn lower(tokens: &[Token], max_len: usize) -> Vec<Out> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut text = String::with_capacity(max_len);
    lower_into(tokens, &mut out, &mut text);
    flush_text(&mut out, &mut text);
    out
}

/// Appends the steps of `tokens` to `out`; literal text collects in `text` until a field
/// comes.
fn lower_into(tokens: &[Token], out: &mut Vec<Out>, text: &mut String) {
    for t in tokens {
        let step = match &t.spec {
            Spec::Day(n @ (1 | 2)) => Out::Num {
                field: Field::Day,
                width: *n,
            },
            Spec::Day(n) => Out::DayName { abbr: *n == 3 },
            Spec::Fraction { digits, trim } => Out::Fraction {
                digits: *digits,
                trim: *trim,
            },
            Spec::Hour12(w) => Out::Num {
                field: Field::Hour12,
                width: *w,
            },
            Spec::Hour24(w) => Out::Num {
                field: Field::Hour24,
                width: *w,
            },
            Spec::Minute(w) => Out::Num {
                field: Field::Minute,
                width: *w,
            },
            Spec::Second(w) => Out::Num {
                field: Field::Second,
                width: *w,
            },
            Spec::Month(n @ (1 | 2)) => Out::Num {
                field: Field::Month,
                width: *n,
            },
            Spec::Month(n) => Out::MonthName { abbr: *n == 3 },
            Spec::AmPm(n) => Out::AmPm { long: *n != 1 },
            Spec::Year(n @ (1 | 2)) => Out::Num {
                field: Field::Year2,
                width: *n,
            },
            Spec::Year(n) => Out::Num {
                field: Field::Year,
                width: *n,
            },
            Spec::Era => {
                text.push_str("A.D.");
                continue;
            }
            Spec::Offset(1) => {
                text.push_str("+0");
                continue;
            }
            Spec::Offset(2) => {
                text.push_str("+00");
                continue;
            }
            Spec::Offset(_) => {
                text.push_str("+00:00");
                continue;
            }
            Spec::OffsetK | Spec::UtcZ => {
                text.push('Z');
                continue;
            }
            Spec::TimeSep => {
                text.push(':');
                continue;
            }
            Spec::DateSep => {
                text.push('/');
                continue;
            }
            Spec::Dot => {
                text.push('.');
                continue;
            }
            Spec::Literal(c) => {
                text.push(*c);
                continue;
            }
            Spec::Quoted(q) => {
                text.push_str(q);
                continue;
            }
            Spec::Gmt { rest } => {
                text.push('G');
                lower_into(rest, out, text);
                continue;
            }
        };
        flush_text(out, text);
        out.push(match step {
            // Every field but the year is below 100; the year is below 10 000.
            Out::Num {
                field: Field::Year,
                width: 4,
            } => Out::Year4,
            Out::Num { field, width: 2 } if field != Field::Year => Out::Two(field),
            step => step,
        });
    }
}

/// Turns the literal text collected so far into a step.
fn flush_text(out: &mut Vec<Out>, text: &mut String) {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => {}
        (Some(c), None) => out.push(Out::Char(c)),
        (Some(_), Some(_)) => out.push(Out::Text(text.as_str().into())),
    }
    text.clear();
}

/// A malformed format string: what is wrong and the column of the bad token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// 0-based char index within the format string.
    pub column: usize,
    /// A lowercase phrase.
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.column)
    }
}

/// Why ParseExact failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The text does not match the format (`invalid-date`); the phrase says where.
    NoMatch(String),
    /// The text matched but the instant is outside the DateTime range (`date-out-of-range`).
    OutOfRange,
}

/// The invariant culture's standard formats (one-character format strings).
fn standard(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "MM/dd/yyyy",
        'D' => "dddd, dd MMMM yyyy",
        'f' => "dddd, dd MMMM yyyy HH:mm",
        'F' => "dddd, dd MMMM yyyy HH:mm:ss",
        'g' => "MM/dd/yyyy HH:mm",
        'G' => "MM/dd/yyyy HH:mm:ss",
        'M' | 'm' => "MMMM dd",
        'O' | 'o' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'R' | 'r' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "HH:mm",
        'T' => "HH:mm:ss",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'U' => "dddd, dd MMMM yyyy HH:mm:ss",
        'Y' | 'y' => "yyyy MMMM",
        _ => return None,
    })
}

impl Format {
    /// Tokenizes a format string. One character is a standard format; anything longer is a
    /// custom format.
    pub fn parse(format: &str) -> Result<Format, FormatError> {
        let chars: Vec<char> = format.chars().collect();
        match chars.as_slice() {
            [] => Err(FormatError {
                column: 0,
                message: "the format is empty".to_owned(),
            }),
            [c] => match standard(*c) {
                Some(expansion) => {
                    let inner: Vec<char> = expansion.chars().collect();
                    let mut tokens = tokenize(&inner, 0)?;
                    for t in &mut tokens {
                        t.column = 0;
                    }
                    Ok(Format::new(tokens))
                }
                None => Err(FormatError {
                    column: 0,
                    message: format!("`{c}` is not a standard date format"),
                }),
            },
            _ => Ok(Format::new(tokenize(&chars, 0)?)),
        }
    }

    fn new(tokens: Vec<Token>) -> Format {
        Format {
            tokens,
            output: OnceLock::new(),
            input: OnceLock::new(),
        }
    }

    /// Lowers the format for formatting now rather than on first use (for a format kept
    /// in call-site data).
    pub fn prepare_output(&self) {
        self.output();
    }

    /// Lowers the format for parsing now rather than on first use.
    pub fn prepare_input(&self) {
        self.input();
    }

    fn output(&self) -> &Output {
        self.output.get_or_init(|| {
            let max_len = max_len(&self.tokens);
            let steps = lower(&self.tokens, max_len);
            match Template::of(&steps, max_len) {
                Some(t) => Output::Template(t),
                None => Output::Steps { steps, max_len },
            }
        })
    }

    fn input(&self) -> &Input {
        self.input.get_or_init(|| Input {
            ops: self.tokens.iter().map(|t| lower_in(&t.spec)).collect(),
            walk: Walk::of(&self.tokens),
        })
    }

    /// The tokens, in order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// True when the format, used as FormatDateTime's input format, accepts the Entra rendering
    /// of a DateTime (`M/d/yyyy h:mm:ss tt`), which is what a DateTime source turns into
    /// (lint `datetime-source-format`). Checked on renderings with one- and two-digit fields.
    pub fn parses_entra_rendering(&self) -> bool {
        const SAMPLES: [&str; 3] = [
            "8/5/2021 5:04:09 AM",
            "12/25/2021 11:59:59 PM",
            "1/1/0001 12:00:00 AM",
        ];
        let epoch = || DateTime::MIN;
        SAMPLES
            .iter()
            .all(|s| self.parse_exact(s, Styles::DEFAULT, epoch).is_ok())
    }

    /// Formats an instant (`DateTime.ToString(format, InvariantCulture)` on a UTC value).
    pub fn format(&self, d: DateTime) -> String {
        self.format_stamp(&d.civil().into())
    }

    /// [`Format::format_stamp`] into `out` (which it replaces).
    #[inline]
    pub fn format_stamp_into(&self, c: &Stamp, out: &mut String) {
        *out = self.format_stamp(c);
    }

    /// [`Format::format`] of an instant given by its fields (as
    /// [`Format::parse_exact_stamp`] returns them).
    pub fn format_stamp(&self, c: &Stamp) -> String {
        match self.output() {
            Output::Template(t) => t.format(c),
            Output::Steps { steps, max_len } => format_steps(steps, *max_len, c, &field_values(c)),
        }
    }
}

/// Formats by running lowered steps (any format; [`Template`] is the fast path).
fn format_steps(steps: &[Out], max_len: usize, c: &Stamp, fields: &[u32; 8]) -> String {
    let mut out = crate::value::buffers::take(max_len);
    {
        for op in steps {
            match op {
                Out::Char(ch) => out.push(*ch),
                Out::Text(t) => out.push_str(t),
                Out::Two(field) => push2(&mut out, fields[*field as usize] % 100),
                Out::Year4 => {
                    let y = fields[Field::Year as usize] % 10_000;
                    push2(&mut out, y / 100);
                    push2(&mut out, y % 100);
                }
                Out::Num { field, width } => {
                    push_num(&mut out, fields[*field as usize], usize::from(*width));
                }
                Out::Fraction { digits, trim } => {
                    let n = usize::from(*digits);
                    let value = fraction_digits(c.fraction, n);
                    // Written straight into the output (no temporary string), then trimmed.
                    let start = out.len();
                    push_num(&mut out, value, n);
                    if *trim {
                        while out.len() > start && out.ends_with('0') {
                            out.pop();
                        }
                        if out.len() == start && out.ends_with('.') {
                            // .NET removes a '.' written just before an empty F field.
                            out.pop();
                        }
                    }
                }
                Out::DayName { abbr: short } => {
                    let name = DAYS[usize::from(c.weekday() % 7)];
                    out.push_str(if *short { abbr(name) } else { name });
                }
                Out::MonthName { abbr: short } => {
                    let name = MONTHS[usize::from(c.month.saturating_sub(1) % 12)];
                    out.push_str(if *short { abbr(name) } else { name });
                }
                Out::AmPm { long: false } => out.push(if c.hour < 12 { 'A' } else { 'P' }),
                Out::AmPm { long: true } => out.push_str(if c.hour < 12 { "AM" } else { "PM" }),
            }
        }
    }
    out
}

impl Format {
    /// Parses text like `DateTime.ParseExact(text, format, InvariantCulture, styles)`, then
    /// converts a parsed offset to UTC. `today` supplies the date when the format has no
    /// date part (unless NoCurrentDateDefault); it is called at most once.
    pub fn parse_exact(
        &self,
        text: &str,
        styles: Styles,
        today: impl FnOnce() -> DateTime,
    ) -> Result<DateTime, ParseError> {
        let input = self.input();
        if let Some(c) = input.walk.as_ref().and_then(|w| w.run(text, styles)) {
            // The walk validated every field.
            return civil_to_datetime(&c).ok_or(ParseError::OutOfRange);
        }
        self.parse_general(input, text, styles, today)
    }

    /// [`Format::parse_exact`] to the fields of the UTC instant: what FormatDateTime
    /// formats, without the round trip through ticks when the straight walk reads the text.
    pub fn parse_exact_stamp(
        &self,
        text: &str,
        styles: Styles,
        today: impl FnOnce() -> DateTime,
    ) -> Result<Stamp, ParseError> {
        let input = self.input();
        if let Some(c) = input.walk.as_ref().and_then(|w| w.run(text, styles)) {
            return Ok(c);
        }
        self.parse_general(input, text, styles, today)
            .map(|d| d.civil().into())
    }

    /// [`Format::parse_exact`] by the general parser alone, without the straight walk (for
    /// tests and fuzzing, which compare the two).
    #[doc(hidden)]
    pub fn parse_exact_general(
        &self,
        text: &str,
        styles: Styles,
        today: impl FnOnce() -> DateTime,
    ) -> Result<DateTime, ParseError> {
        self.parse_general(self.input(), text, styles, today)
    }

    fn parse_general(
        &self,
        input: &Input,
        text: &str,
        styles: Styles,
        today: impl FnOnce() -> DateTime,
    ) -> Result<DateTime, ParseError> {
        let mut p = Parser {
            s: text,
            i: 0,
            styles,
            r: Parsed::default(),
            error: None,
        };
        if p.run(&self.tokens, &input.ops).is_err() {
            return Err(p
                .error
                .unwrap_or_else(|| no_match("the text does not match")));
        }
        p.r.finish(styles, today)
    }
}

/// The instant of valid UTC fields.
fn civil_to_datetime(c: &Stamp) -> Option<DateTime> {
    DateTime::from_civil(
        c.year,
        c.month.into(),
        c.day.into(),
        c.hour.into(),
        c.minute.into(),
        c.second.into(),
        c.fraction,
    )
}

/// The most bytes the tokens can format to (a field's widest value: four-digit years,
/// `September`, `Wednesday`, `+00:00`).
fn max_len(tokens: &[Token]) -> usize {
    tokens
        .iter()
        .map(|t| match &t.spec {
            Spec::Day(1 | 2) | Spec::Month(1 | 2) => 2,
            Spec::Day(3) | Spec::Month(3) => 3,
            Spec::Day(_) | Spec::Month(_) => 9,
            Spec::Fraction { digits, .. } => usize::from(*digits),
            Spec::Era => 4,
            Spec::Hour12(_) | Spec::Hour24(_) | Spec::Minute(_) | Spec::Second(_) => 2,
            Spec::AmPm(n) => usize::from(*n).min(2),
            Spec::Year(n @ (1 | 2)) => usize::from(*n).max(2),
            Spec::Year(n) => usize::from(*n).max(4),
            Spec::Offset(1) => 2,
            Spec::Offset(2) => 3,
            Spec::Offset(_) => 6,
            Spec::OffsetK | Spec::UtcZ | Spec::TimeSep | Spec::DateSep | Spec::Dot => 1,
            Spec::Gmt { rest } => 1 + max_len(rest),
            Spec::Literal(c) => c.len_utf8(),
            Spec::Quoted(q) => q.len(),
        })
        .sum()
}

/// Splits `f` into tokens; `base` is the column of `f[0]` in the whole format.
fn tokenize(f: &[char], base: usize) -> Result<Vec<Token>, FormatError> {
    let mut tokens = Vec::with_capacity(f.len());
    let mut i = 0;
    while let Some(&c) = f.get(i) {
        let column = base + i;
        let run = f
            .get(i..)
            .map_or(0, |rest| rest.iter().take_while(|&&x| x == c).count());
        let (spec, len) = match c {
            'd' => (Spec::Day(run.min(4) as u8), run),
            'f' | 'F' => {
                if run > 7 {
                    return Err(FormatError {
                        column,
                        message: format!(
                            "`{}` has more than 7 fraction digits",
                            c.to_string().repeat(run)
                        ),
                    });
                }
                (
                    Spec::Fraction {
                        digits: run as u8,
                        trim: c == 'F',
                    },
                    run,
                )
            }
            'g' => (Spec::Era, run),
            'h' => (Spec::Hour12(run.min(2) as u8), run),
            'H' => (Spec::Hour24(run.min(2) as u8), run),
            'm' => (Spec::Minute(run.min(2) as u8), run),
            's' => (Spec::Second(run.min(2) as u8), run),
            'M' => (Spec::Month(run.min(4) as u8), run),
            't' => (Spec::AmPm(run.min(2) as u8), run),
            'y' => (Spec::Year(run.min(255) as u8), run),
            'z' => (Spec::Offset(run.min(3) as u8), run),
            'K' => (Spec::OffsetK, 1),
            ':' => (Spec::TimeSep, 1),
            '/' => (Spec::DateSep, 1),
            'Z' => (Spec::UtcZ, 1),
            '.' => (Spec::Dot, 1),
            'G' if is_gmt(f.get(i..i + 3)) => {
                let rest = f
                    .get(i + 1..i + 3)
                    .map_or(Ok(Vec::new()), |r| tokenize(r, column + 1))?;
                (Spec::Gmt { rest }, 3)
            }
            '\'' | '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match f.get(j) {
                        None => {
                            return Err(FormatError {
                                column,
                                message: format!("unterminated `{c}` quote"),
                            });
                        }
                        Some(&q) if q == c => break,
                        Some('\\') => match f.get(j + 1) {
                            Some(&e) => {
                                text.push(e);
                                j += 2;
                            }
                            None => {
                                return Err(FormatError {
                                    column,
                                    message: format!("unterminated `{c}` quote"),
                                });
                            }
                        },
                        Some(&x) => {
                            text.push(x);
                            j += 1;
                        }
                    }
                }
                (Spec::Quoted(text), j + 1 - i)
            }
            '%' => match f.get(i + 1) {
                Some('%') => {
                    return Err(FormatError {
                        column,
                        message: "`%%` is not a valid format element".to_owned(),
                    });
                }
                Some(&n) => {
                    let inner = tokenize(&[n], column + 1)?;
                    tokens.extend(inner);
                    i += 2;
                    continue;
                }
                None => {
                    return Err(FormatError {
                        column,
                        message: "a trailing `%` has no specifier after it".to_owned(),
                    });
                }
            },
            '\\' => match f.get(i + 1) {
                Some(&n) => (Spec::Literal(n), 2),
                None => {
                    return Err(FormatError {
                        column,
                        message: "a trailing `\\` has nothing to escape".to_owned(),
                    });
                }
            },
            other => (Spec::Literal(other), 1),
        };
        tokens.push(Token { spec, column });
        i += len.max(1);
    }
    Ok(tokens)
}

/// `G` followed by `M`/`m` and `T`/`t`: .NET's parser matches the word `GMT` ignoring case.
fn is_gmt(s: Option<&[char]>) -> bool {
    matches!(s, Some(['G', 'M' | 'm', 'T' | 't']))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn abbr(name: &str) -> &str {
    name.get(..3).unwrap_or(name)
}

/// `00` to `99`.
static PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// The ASCII digit of `n % 10`.
fn digit(n: u32) -> char {
    char::from(b'0' + (n % 10) as u8)
}

/// Writes `n` (below 100) as two digits: the common fixed-width field (`MM`, `dd`, `HH`, …).
#[inline(always)]
fn push2(out: &mut String, n: u32) {
    out.push(digit(n / 10));
    out.push(digit(n));
}

/// Writes `n` zero-padded to `width` digits, like `{n:0width$}`, digit by digit without
/// going through `core::fmt` (it dominated FormatDateTime's time).
#[inline(always)]
fn push_num(out: &mut String, n: u32, width: usize) {
    match (n, width) {
        (0..=9, 0 | 1) => out.push(digit(n)),
        (0..=99, 0..=2) if n >= 10 || width == 2 => push2(out, n),
        (0..=9999, 0..=4) if n >= 1000 || width == 4 => {
            push2(out, n / 100);
            push2(out, n % 100);
        }
        _ => push_num_slow(out, n, width),
    }
}

/// [`push_num`] for the rare widths and values: three-digit or padded fields, fractions.
fn push_num_slow(out: &mut String, n: u32, width: usize) {
    let mut len = 1;
    let mut v = n / 10;
    while v > 0 {
        len += 1;
        v /= 10;
    }
    for _ in len..width {
        out.push('0');
    }
    let mut pow = 10u32.pow(len as u32 - 1);
    while pow > 0 {
        out.push(digit(n / pow));
        pow /= 10;
    }
}

/// Fields collected while parsing; `None` = not given.
#[derive(Default)]
struct Parsed {
    year: Option<i32>,
    two_digit_year: bool,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    hour12: bool,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    fraction: Option<u32>,
    weekday: Option<u8>,
    offset_minutes: Option<i32>,
}

fn no_match(msg: impl Into<String>) -> ParseError {
    ParseError::NoMatch(msg.into())
}

impl Parsed {
    fn finish(
        self,
        styles: Styles,
        today: impl FnOnce() -> DateTime,
    ) -> Result<DateTime, ParseError> {
        let mut year = self.year;
        if self.two_digit_year {
            // Two-digit-year rule with TwoDigitYearMax 2049.
            year = year.map(|y| {
                if y < 100 {
                    if y <= 49 { 2000 + y } else { 1900 + y }
                } else {
                    y
                }
            });
        }
        let (mut month, mut day) = (self.month, self.day);
        if year.is_none() || month.is_none() || day.is_none() {
            if month.is_none() && day.is_none() {
                if year.is_none() {
                    if styles.has(Styles::NO_CURRENT_DATE_DEFAULT) {
                        (year, month, day) = (Some(1), Some(1), Some(1));
                    } else {
                        let c = today().civil();
                        (year, month, day) =
                            (Some(c.year), Some(c.month.into()), Some(c.day.into()));
                    }
                } else {
                    (month, day) = (Some(1), Some(1));
                }
            } else {
                if year.is_none() {
                    year = Some(today().civil().year);
                }
                month = month.or(Some(1));
                day = day.or(Some(1));
            }
        }
        let (year, month, day) = (year.unwrap_or(1), month.unwrap_or(1), day.unwrap_or(1));
        let mut hour = self.hour.unwrap_or(0);
        if self.hour12 {
            if hour > 12 {
                return Err(no_match(format!(
                    "hour {hour} is above 12 in a 12-hour field"
                )));
            }
            if self.pm == Some(true) {
                if hour != 12 {
                    hour += 12;
                }
            } else if hour == 12 {
                hour = 0;
            }
        } else {
            match self.pm {
                Some(false) if hour >= 12 => {
                    return Err(no_match(format!("hour {hour} contradicts AM")));
                }
                Some(true) if hour < 12 => {
                    return Err(no_match(format!("hour {hour} contradicts PM")));
                }
                _ => {}
            }
        }
        if days_in_month(year, month) < day || day == 0 {
            return Err(no_match(format!(
                "{year:04}-{month:02}-{day:02} is not a calendar date"
            )));
        }
        let local = DateTime::from_civil(
            year,
            month,
            day,
            hour,
            self.minute.unwrap_or(0),
            self.second.unwrap_or(0),
            self.fraction.unwrap_or(0),
        )
        .ok_or_else(|| no_match("a time field is out of range"))?;
        if let Some(w) = self.weekday {
            if local.weekday() != w {
                return Err(no_match(format!(
                    "the day name does not match {year:04}-{month:02}-{day:02}"
                )));
            }
        }
        let utc = local.ticks() - i64::from(self.offset_minutes.unwrap_or(0)) * TICKS_PER_MINUTE;
        DateTime::from_ticks(utc).ok_or(ParseError::OutOfRange)
    }
}

/// The ParseExact state. `i` is a byte index into `s`, always on a character boundary: the
/// parser works on the UTF-8 text directly (every specifier matches ASCII) and counts
/// characters only to say where an error is.
struct Parser<'s> {
    s: &'s str,
    i: usize,
    styles: Styles,
    r: Parsed,
    /// Why parsing stopped, once it has.
    error: Option<ParseError>,
}

/// Parsing stopped; the reason is in [`Parser::error`]. Keeping the message out of the
/// return values lets every step return in a register.
struct Stop;

/// The result of one parsing step.
type Step<T = ()> = Result<T, Stop>;

/// The names `ddd`/`MMM` (`abbr`) or `dddd`/`MMMM` match.
fn names(all: &'static [&'static str], abbreviated: bool) -> impl Iterator<Item = &'static str> {
    all.iter()
        .map(move |n| if abbreviated { abbr(n) } else { n })
}

impl Parser<'_> {
    fn run(&mut self, tokens: &[Token], ops: &[In]) -> Step {
        let is_white = |t: Option<&Token>| matches!(t, Some(Token { spec: Spec::Literal(c), .. }) if c.is_whitespace());
        let leading = self.styles.has(Styles::ALLOW_LEADING_WHITE);
        let trailing = self.styles.has(Styles::ALLOW_TRAILING_WHITE);
        let inner = self.styles.has(Styles::ALLOW_INNER_WHITE);
        // .NET trims the format too: AllowTrailingWhite drops white space at its end (and
        // before a closing quote), AllowLeadingWhite at its start (and after an opening quote).
        let (mut start, mut end) = (0, tokens.len());
        if trailing {
            while end > 0 && is_white(tokens.get(end - 1)) {
                end -= 1;
            }
        }
        if leading {
            self.skip_white();
            while start < end && is_white(tokens.get(start)) {
                start += 1;
            }
        }
        let mut k = start;
        while k < end {
            let Some(t) = tokens.get(k) else { break };
            if inner {
                self.skip_white();
            }
            match ops.get(k).copied().unwrap_or(In::Other) {
                In::Num { field, width } => {
                    if field == NumIn::Year2 {
                        self.r.two_digit_year = true;
                    }
                    let v = self.num(width)?;
                    match field {
                        NumIn::Day => self.set(|r| &mut r.day, v, "day")?,
                        NumIn::Month => self.set(|r| &mut r.month, v, "month")?,
                        NumIn::Hour12 => {
                            self.r.hour12 = true;
                            self.set(|r| &mut r.hour, v, "hour")?;
                        }
                        NumIn::Hour24 => self.set(|r| &mut r.hour, v, "hour")?,
                        NumIn::Minute => self.set(|r| &mut r.minute, v, "minute")?,
                        NumIn::Second => self.set(|r| &mut r.second, v, "second")?,
                        // At most two digits: always an i32.
                        NumIn::Year2 => self.set(|r| &mut r.year, v as i32, "year")?,
                    }
                    k += 1;
                    continue;
                }
                In::Year(n) => {
                    let (v, got) = self.digits_u32(usize::from(n));
                    if got < usize::from(n) {
                        return Err(self.expected(&format!("a {n}-digit year")));
                    }
                    self.set(|r| &mut r.year, v as i32, "year")?;
                    k += 1;
                    continue;
                }
                In::Byte(b) => {
                    if !self.eat(b) {
                        return Err(self.expected(&format!("`{}`", char::from(b))));
                    }
                    k += 1;
                    continue;
                }
                In::Offset(n) => {
                    let off = self.offset(n)?;
                    self.set(|r| &mut r.offset_minutes, off, "offset")?;
                    k += 1;
                    continue;
                }
                In::Other => {}
            }
            match &t.spec {
                Spec::Dot => {
                    // .NET makes the dot optional only when at least two `F`s follow it (its
                    // look-ahead skips one character before testing for `F`).
                    if !self.eat(b'.') {
                        match tokens.get(k + 1) {
                            Some(Token {
                                spec: Spec::Fraction { trim: true, digits },
                                ..
                            }) if *digits >= 2 => k += 1,
                            _ => return Err(self.expected("`.`")),
                        }
                    }
                }
                Spec::Quoted(text) => {
                    let mut text = text.as_str();
                    if leading && k == start {
                        text = text.trim_start();
                    }
                    if trailing && k + 1 == end {
                        text = text.trim_end();
                    }
                    self.quoted(text)?;
                }
                spec => self.element(spec)?,
            }
            k += 1;
        }
        if trailing {
            self.skip_white();
        }
        if self.i < self.s.len() {
            let rest: String = self
                .s
                .get(self.i..)
                .unwrap_or("")
                .chars()
                .take(20)
                .collect();
            return Err(self.fail(format!("unexpected `{rest}` after the date")));
        }
        Ok(())
    }

    fn quoted(&mut self, text: &str) -> Step {
        for c in text.chars() {
            if c == ' ' && self.styles.has(Styles::ALLOW_INNER_WHITE) {
                self.skip_white();
            } else {
                self.lit(c)?;
            }
        }
        Ok(())
    }

    fn element(&mut self, spec: &Spec) -> Step {
        match spec {
            Spec::Day(n @ (1 | 2)) => {
                let v = self.num(*n)?;
                self.set(|r| &mut r.day, v, "day")
            }
            Spec::Day(n) => {
                let w = self
                    .name(names(&DAYS, *n == 3))
                    .ok_or_else(|| self.expected("a day name"))?;
                self.set(|r| &mut r.weekday, w as u8, "day of the week")
            }
            Spec::Fraction { digits, trim } => {
                let max = usize::from(*digits);
                let (v, n) = self.digits_u32(max);
                if n < max && !trim {
                    return Err(self.expected(&format!("{max} fraction digits")));
                }
                let ticks = v * 10u32.pow((7 - n.min(7)) as u32);
                self.set(|r| &mut r.fraction, ticks, "fraction")
            }
            Spec::Era => {
                if self.eat_word("A.D.") || self.eat_word("AD") {
                    Ok(())
                } else {
                    Err(self.expected("`A.D.`"))
                }
            }
            Spec::Hour12(n) => {
                let v = self.num(*n)?;
                self.r.hour12 = true;
                self.set(|r| &mut r.hour, v, "hour")
            }
            Spec::Hour24(n) => {
                let v = self.num(*n)?;
                self.set(|r| &mut r.hour, v, "hour")
            }
            Spec::Minute(n) => {
                let v = self.num(*n)?;
                self.set(|r| &mut r.minute, v, "minute")
            }
            Spec::Second(n) => {
                let v = self.num(*n)?;
                self.set(|r| &mut r.second, v, "second")
            }
            Spec::Month(n @ (1 | 2)) => {
                let v = self.num(*n)?;
                self.set(|r| &mut r.month, v, "month")
            }
            Spec::Month(n) => {
                let m = self
                    .name(names(&MONTHS, *n == 3))
                    .ok_or_else(|| self.expected("a month name"))?;
                self.set(|r| &mut r.month, m as u32 + 1, "month")
            }
            Spec::AmPm(n) => {
                let pm = if *n == 1 {
                    // .NET compares the first letter of the designator case-sensitively.
                    let pm = match self.byte() {
                        Some(b'A') => false,
                        Some(b'P') => true,
                        _ => return Err(self.expected("`A` or `P`")),
                    };
                    self.i += 1;
                    pm
                } else if self.eat_word("AM") {
                    false
                } else if self.eat_word("PM") {
                    true
                } else {
                    return Err(self.expected("`AM` or `PM`"));
                };
                self.set(|r| &mut r.pm, pm, "AM/PM designator")
            }
            Spec::Year(n) => {
                let v = if *n <= 2 {
                    self.r.two_digit_year = true;
                    u64::from(self.num(*n)?)
                } else {
                    self.digits(usize::from(*n), usize::from(*n))
                        .ok_or_else(|| self.expected(&format!("a {n}-digit year")))?
                };
                let v =
                    i32::try_from(v).map_err(|_| self.fail("the year is too large".to_owned()))?;
                self.set(|r| &mut r.year, v, "year")
            }
            Spec::Offset(n) => {
                let off = self.offset(*n)?;
                self.set(|r| &mut r.offset_minutes, off, "offset")
            }
            Spec::OffsetK => {
                if self.eat(b'Z') {
                    self.set(|r| &mut r.offset_minutes, 0, "offset")
                } else if matches!(self.byte(), Some(b'+' | b'-')) {
                    let off = self.offset(3)?;
                    self.set(|r| &mut r.offset_minutes, off, "offset")
                } else {
                    Ok(())
                }
            }
            Spec::TimeSep => self.lit(':'),
            Spec::DateSep => self.lit('/'),
            Spec::UtcZ => {
                if self.eat(b'Z') || self.eat_word("GMT") {
                    self.set(|r| &mut r.offset_minutes, 0, "offset")
                } else {
                    Err(self.expected("`Z`"))
                }
            }
            Spec::Gmt { .. } => {
                if self.rest().starts_with("GMT") {
                    self.i += 3;
                    self.set(|r| &mut r.offset_minutes, 0, "offset")
                } else {
                    Err(self.expected("`GMT`"))
                }
            }
            Spec::Dot => self.lit('.'),
            Spec::Literal(c) => {
                if *c == ' ' && self.styles.has(Styles::ALLOW_INNER_WHITE) {
                    Ok(())
                } else {
                    self.lit(*c)
                }
            }
            Spec::Quoted(text) => self.quoted(text),
        }
    }

    /// The text not yet consumed.
    fn rest(&self) -> &str {
        self.s.get(self.i..).unwrap_or("")
    }

    /// The byte at the cursor.
    fn byte(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    #[inline]
    fn skip_white(&mut self) {
        loop {
            match self.byte() {
                // `char::is_whitespace` on ASCII.
                Some(b' ' | b'\t'..=b'\r') => self.i += 1,
                None | Some(0..=0x7F) => return,
                Some(_) => match self.rest().chars().next() {
                    Some(c) if c.is_whitespace() => self.i += c.len_utf8(),
                    _ => return,
                },
            }
        }
    }

    /// Consumes the ASCII byte `b` if it is next.
    #[inline]
    fn eat(&mut self, b: u8) -> bool {
        if self.byte() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    #[inline]
    fn lit(&mut self, c: char) -> Step {
        let matched = if c.is_ascii() {
            self.eat(c as u8)
        } else if self.rest().starts_with(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        };
        if matched {
            Ok(())
        } else {
            Err(self.expected(&format!("`{c}`")))
        }
    }

    /// True when the text continues with the ASCII `word`, ignoring ASCII case (a byte of
    /// a non-ASCII character never equals an ASCII letter, so this is the comparison by
    /// characters).
    fn at_word(&self, word: &str) -> bool {
        self.rest()
            .as_bytes()
            .get(..word.len())
            .is_some_and(|got| got.eq_ignore_ascii_case(word.as_bytes()))
    }

    /// Matches the ASCII `word` ignoring ASCII case.
    fn eat_word(&mut self, word: &str) -> bool {
        let matched = self.at_word(word);
        if matched {
            self.i += word.len();
        }
        matched
    }

    /// The longest of `names` (ASCII) that matches here, ignoring case; its index.
    fn name(&mut self, names: impl Iterator<Item = &'static str>) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (k, n) in names.enumerate() {
            if self.at_word(n) && best.is_none_or(|(_, l)| n.len() > l) {
                best = Some((k, n.len()));
            }
        }
        let (k, len) = best?;
        self.i += len;
        Some(k)
    }

    /// Up to `max` ASCII digits (saturating): the value and how many were read.
    #[inline]
    fn digits_u64(&mut self, max: usize) -> (u64, usize) {
        let mut v = 0u64;
        let mut n = 0;
        while n < max {
            match self.byte() {
                Some(b @ b'0'..=b'9') => {
                    v = v.saturating_mul(10).saturating_add(u64::from(b - b'0'));
                    self.i += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        (v, n)
    }

    /// Up to `max` (at most 9) ASCII digits: the value and how many were read.
    #[inline]
    fn digits_u32(&mut self, max: usize) -> (u32, usize) {
        let mut v = 0u32;
        let mut n = 0;
        while n < max.min(9) {
            match self.byte() {
                Some(b @ b'0'..=b'9') => {
                    v = v * 10 + u32::from(b - b'0');
                    self.i += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        (v, n)
    }

    /// Between `min` and `max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u64> {
        let (v, n) = self.digits_u64(max);
        (n >= min).then_some(v)
    }

    /// A one-letter specifier takes 1–2 digits, a doubled one exactly 2.
    #[inline]
    fn num(&mut self, width: u8) -> Step<u32> {
        let b = self.s.as_bytes();
        let digit = |k: usize| {
            b.get(k)
                .filter(|d| d.is_ascii_digit())
                .map(|d| u32::from(d - b'0'))
        };
        match (digit(self.i), digit(self.i + 1)) {
            (Some(tens), Some(ones)) => {
                self.i += 2;
                Ok(tens * 10 + ones)
            }
            (Some(one), None) if width == 1 => {
                self.i += 1;
                Ok(one)
            }
            (first, _) => {
                // The error points after the digit read, as .NET's does.
                self.i += usize::from(first.is_some());
                Err(self.expected(if width == 1 {
                    "1 or 2 digits"
                } else {
                    "2 digits"
                }))
            }
        }
    }

    /// `z` (sign, 1–2 digit hours), `zz` (sign, 2-digit hours), `zzz` (sign, 1–2 digit
    /// hours, optional `:`, 2-digit minutes). Hours 0–14, minutes 0–59.
    #[inline]
    fn offset(&mut self, n: u8) -> Step<i32> {
        let sign = match self.byte() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(self.expected("an offset sign `+` or `-`")),
        };
        self.i += 1;
        let hours = if n == 2 {
            self.digits(2, 2)
        } else {
            self.digits(1, 2)
        }
        .ok_or_else(|| self.expected("offset hours"))?;
        let minutes = if n >= 3 {
            self.eat(b':');
            self.digits(2, 2)
                .ok_or_else(|| self.expected("2-digit offset minutes"))?
        } else {
            0
        };
        if hours > 14 || minutes > 59 {
            return Err(self.fail(format!("the offset {hours}:{minutes:02} is out of range")));
        }
        Ok(sign * (hours * 60 + minutes) as i32)
    }

    /// Stops parsing with `message`.
    #[cold]
    fn fail(&mut self, message: String) -> Stop {
        self.error = Some(ParseError::NoMatch(message));
        Stop
    }

    /// Stops parsing: `what` is missing here (the position counts characters, not bytes).
    #[cold]
    fn expected(&mut self, what: &str) -> Stop {
        let message = if self.i >= self.s.len() {
            format!("expected {what} at the end of the text")
        } else {
            let col = self.s.get(..self.i).map_or(self.i, |p| p.chars().count());
            format!("expected {what} at position {col}")
        };
        self.fail(message)
    }

    /// Sets a field, failing when it was already given with another value (.NET
    /// `CheckNewValue`).
    #[inline]
    fn set<T: PartialEq + Copy>(
        &mut self,
        slot: fn(&mut Parsed) -> &mut Option<T>,
        v: T,
        what: &str,
    ) -> Step {
        match slot(&mut self.r) {
            Some(old) if *old != v => {
                Err(self.fail(format!("the {what} is given twice with different values")))
            }
            free => {
                *free = Some(v);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod push_num_tests {
    #[test]
    fn push_num_matches_core_fmt() {
        for n in [
            0u32,
            1,
            7,
            9,
            10,
            42,
            99,
            100,
            999,
            1000,
            2021,
            9999,
            12345,
            1_000_000,
            9_999_999,
            u32::MAX,
        ] {
            for width in 0..12 {
                let mut out = String::new();
                super::push_num(&mut out, n, width);
                assert_eq!(out, format!("{n:0width$}"), "{n} {width}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, f: u32) -> DateTime {
        DateTime::from_civil(y, mo, d, h, mi, s, f).unwrap_or(DateTime::MIN)
    }

    fn today() -> DateTime {
        dt(2021, 8, 25, 17, 41, 18, 0)
    }

    fn fmt(format: &str, d: DateTime) -> String {
        match Format::parse(format) {
            Ok(f) => f.format(d),
            Err(e) => format!("error: {e}"),
        }
    }

    /// `(format, output)` for 2009-06-01T13:45:30.0615000 (a Monday) and, for the `F` rows,
    /// fractions as noted.
    #[test]
    fn format_cases() {
        let d = dt(2009, 6, 1, 13, 45, 30, 615_000);
        let cases: &[(&str, &str)] = &[
            ("d", "06/01/2009"),
            ("%d", "1"),
            ("dd", "01"),
            ("ddd", "Mon"),
            ("dddd", "Monday"),
            ("ddddd", "Monday"),
            ("%f", "0"),
            ("ff", "06"),
            ("fff", "061"),
            ("ffff", "0615"),
            ("fffffff", "0615000"),
            ("%F", ""),
            ("FF", "06"),
            ("FFFFFFF", "0615"),
            ("ss.F", "30"),
            ("ss.FF", "30.06"),
            ("%g", "A.D."),
            ("gg", "A.D."),
            ("%h", "1"),
            ("hh", "01"),
            ("hhh", "01"),
            ("%H", "13"),
            ("HH", "13"),
            ("%K", "Z"),
            ("%m", "45"),
            ("mm", "45"),
            ("%M", "6"),
            ("MM", "06"),
            ("MMM", "Jun"),
            ("MMMM", "June"),
            ("MMMMM", "June"),
            ("%s", "30"),
            ("ss", "30"),
            ("%t", "P"),
            ("tt", "PM"),
            ("%y", "9"),
            ("yy", "09"),
            ("yyy", "2009"),
            ("yyyy", "2009"),
            ("yyyyy", "02009"),
            ("%z", "+0"),
            ("zz", "+00"),
            ("zzz", "+00:00"),
            ("HH:mm", "13:45"),
            ("MM/dd/yyyy", "06/01/2009"),
            ("'yyyy'", "yyyy"),
            ("\"MM\"-MM", "MM-06"),
            ("'it''s'", "its"),
            ("'a\\'b'", "a'b"),
            ("\\y\\y", "yy"),
            ("yyyyMMddHHmmss.fZ", "20090601134530.0Z"),
            ("yyyy-MM-ddTHH:mm:ssK", "2009-06-01T13:45:30Z"),
            ("GMT", "G6T"),
            ("D", "Monday, 01 June 2009"),
            ("f", "Monday, 01 June 2009 13:45"),
            ("F", "Monday, 01 June 2009 13:45:30"),
            ("g", "06/01/2009 13:45"),
            ("G", "06/01/2009 13:45:30"),
            ("M", "June 01"),
            ("m", "June 01"),
            ("O", "2009-06-01T13:45:30.0615000Z"),
            ("o", "2009-06-01T13:45:30.0615000Z"),
            ("R", "Mon, 01 Jun 2009 13:45:30 GMT"),
            ("r", "Mon, 01 Jun 2009 13:45:30 GMT"),
            ("s", "2009-06-01T13:45:30"),
            ("t", "13:45"),
            ("T", "13:45:30"),
            ("u", "2009-06-01 13:45:30Z"),
            ("U", "Monday, 01 June 2009 13:45:30"),
            ("Y", "2009 June"),
            ("y", "2009 June"),
            ("", "error: the format is empty at column 0"),
            ("x", "error: `x` is not a standard date format at column 0"),
            (
                "ffffffff",
                "error: `ffffffff` has more than 7 fraction digits at column 0",
            ),
            (
                "yyyy FFFFFFFF",
                "error: `FFFFFFFF` has more than 7 fraction digits at column 5",
            ),
            ("yyyy'MM", "error: unterminated `'` quote at column 4"),
            ("yy\"MM", "error: unterminated `\"` quote at column 2"),
            ("'ab\\'", "error: unterminated `'` quote at column 0"),
            (
                "yyyy%",
                "error: a trailing `%` has no specifier after it at column 4",
            ),
            (
                "%%",
                "error: `%%` is not a valid format element at column 0",
            ),
            (
                "yy\\",
                "error: a trailing `\\` has nothing to escape at column 2",
            ),
            ("%'", "error: unterminated `'` quote at column 1"),
        ];
        for (f, want) in cases {
            assert_eq!(fmt(f, d), *want, "format {f:?}");
        }
    }

    #[test]
    fn format_hours_and_fractions() {
        let cases: &[(DateTime, &str, &str)] = &[
            (dt(2021, 1, 1, 0, 5, 0, 0), "h:mm tt", "12:05 AM"),
            (dt(2021, 1, 1, 12, 5, 0, 0), "h:mm tt", "12:05 PM"),
            (dt(2021, 1, 1, 23, 5, 0, 0), "hh:mm t", "11:05 P"),
            (dt(2021, 1, 1, 0, 0, 0, 0), "HH:mm:ss.FFF", "00:00:00"),
            (dt(2021, 1, 1, 0, 0, 0, 0), "HH:mm:ss,FFF", "00:00:00,"),
            (dt(2021, 1, 1, 0, 0, 0, 1), "ss.FFFFFFF", "00.0000001"),
            (dt(2021, 1, 1, 0, 0, 0, 1), "ss.FFFFFF", "00"),
            (dt(2021, 1, 1, 0, 0, 0, 9_999_999), "ss.f", "00.9"),
            (dt(2021, 1, 1, 0, 0, 0, 9_999_999), "ss.ffffff", "00.999999"),
            (dt(5, 1, 1, 0, 0, 0, 0), "y yy yyy yyyy", "5 05 005 0005"),
            (dt(2000, 1, 1, 0, 0, 0, 0), "%y", "0"),
            (
                DateTime::MAX,
                "yyyy-MM-ddTHH:mm:ss.fffffff",
                "9999-12-31T23:59:59.9999999",
            ),
            (DateTime::MIN, "dddd d MMMM yyyy", "Monday 1 January 0001"),
        ];
        for (d, f, want) in cases {
            assert_eq!(fmt(f, *d), *want, "format {f:?}");
        }
    }

    fn parse(text: &str, format: &str, styles: u8) -> String {
        let f = match Format::parse(format) {
            Ok(f) => f,
            Err(e) => return format!("format error: {e}"),
        };
        match f.parse_exact(text, Styles(styles), today) {
            Ok(d) => {
                let c = d.civil();
                format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}",
                    c.year, c.month, c.day, c.hour, c.minute, c.second, c.fraction
                )
            }
            Err(ParseError::NoMatch(_)) => "invalid-date".to_owned(),
            Err(ParseError::OutOfRange) => "date-out-of-range".to_owned(),
        }
    }

    #[test]
    fn parse_cases() {
        const D: u8 = 131;
        let cases: &[(&str, &str, u8, &str)] = &[
            (
                "20150123105347.1Z",
                "yyyyMMddHHmmss.fZ",
                D,
                "2015-01-23T10:53:47.1000000",
            ),
            (
                "2021-08-18-07:00",
                "yyyy-MM-ddzzz",
                D,
                "2021-08-18T07:00:00.0000000",
            ),
            (
                "2021-08-18+0530",
                "yyyy-MM-ddzzz",
                D,
                "2021-08-17T18:30:00.0000000",
            ),
            (
                "2021-08-18+5:30",
                "yyyy-MM-ddzzz",
                D,
                "2021-08-17T18:30:00.0000000",
            ),
            (
                "2021-08-18+14:00",
                "yyyy-MM-ddzzz",
                D,
                "2021-08-17T10:00:00.0000000",
            ),
            ("2021-08-18+15:00", "yyyy-MM-ddzzz", D, "invalid-date"),
            ("2021-08-18+05:60", "yyyy-MM-ddzzz", D, "invalid-date"),
            (
                "2021-08-18 -7",
                "yyyy-MM-dd z",
                D,
                "2021-08-18T07:00:00.0000000",
            ),
            (
                "2021-08-18 -07",
                "yyyy-MM-dd zz",
                D,
                "2021-08-18T07:00:00.0000000",
            ),
            ("2021-08-18 -7", "yyyy-MM-dd zz", D, "invalid-date"),
            (
                "2021-08-18T10:00:00Z",
                "yyyy-MM-ddTHH:mm:ssK",
                D,
                "2021-08-18T10:00:00.0000000",
            ),
            (
                "2021-08-18T10:00:00+02:00",
                "yyyy-MM-ddTHH:mm:ssK",
                D,
                "2021-08-18T08:00:00.0000000",
            ),
            (
                "2021-08-18T10:00:00",
                "yyyy-MM-ddTHH:mm:ssK",
                D,
                "2021-08-18T10:00:00.0000000",
            ),
            (
                "25/08/2021",
                "dd/MM/yyyy",
                32,
                "2021-08-25T00:00:00.0000000",
            ),
            ("5/8/2021", "d/M/yyyy", 0, "2021-08-05T00:00:00.0000000"),
            ("5/8/2021", "dd/MM/yyyy", 0, "invalid-date"),
            ("123/8/2021", "d/M/yyyy", 0, "invalid-date"),
            ("31/04/2021", "dd/MM/yyyy", 0, "invalid-date"),
            ("29/02/2020", "dd/MM/yyyy", 0, "2020-02-29T00:00:00.0000000"),
            ("29/02/2021", "dd/MM/yyyy", 0, "invalid-date"),
            (
                "  2021-01-02  ",
                "yyyy-MM-dd",
                D,
                "2021-01-02T00:00:00.0000000",
            ),
            ("  2021-01-02", "yyyy-MM-dd", 0, "invalid-date"),
            ("2021-01-02  ", "yyyy-MM-dd", 1, "invalid-date"),
            (
                "2021 - 01 -02",
                "yyyy-MM-dd",
                4,
                "2021-01-02T00:00:00.0000000",
            ),
            (
                "2021  01 02",
                "yyyy MM dd",
                4,
                "2021-01-02T00:00:00.0000000",
            ),
            ("202101 02", "yyyy MM dd", 4, "2021-01-02T00:00:00.0000000"),
            ("2021 01 02", "yyyy MM dd", 0, "2021-01-02T00:00:00.0000000"),
            ("2021  01 02", "yyyy MM dd", 0, "invalid-date"),
            ("12:00 AM", "hh:mm tt", D, "2021-08-25T00:00:00.0000000"),
            ("12:00 PM", "hh:mm tt", D, "2021-08-25T12:00:00.0000000"),
            ("01:00 pm", "hh:mm tt", D, "2021-08-25T13:00:00.0000000"),
            ("1:00 P", "h:mm t", D, "2021-08-25T13:00:00.0000000"),
            ("12:30", "hh:mm", D, "2021-08-25T00:30:00.0000000"),
            ("13:30", "hh:mm", D, "invalid-date"),
            ("13:30 PM", "HH:mm tt", D, "2021-08-25T13:30:00.0000000"),
            ("13:30 AM", "HH:mm tt", D, "invalid-date"),
            ("11:30 PM", "HH:mm tt", D, "invalid-date"),
            ("10:00", "HH:mm", 8 | 3, "0001-01-01T10:00:00.0000000"),
            ("24:00", "HH:mm", D, "invalid-date"),
            ("10:60", "HH:mm", D, "invalid-date"),
            ("2021", "yyyy", D, "2021-01-01T00:00:00.0000000"),
            ("03-15", "MM-dd", D, "2021-03-15T00:00:00.0000000"),
            ("2021-15", "yyyy-dd", D, "2021-01-15T00:00:00.0000000"),
            ("21-03-15", "yy-MM-dd", D, "2021-03-15T00:00:00.0000000"),
            ("49-03-15", "yy-MM-dd", D, "2049-03-15T00:00:00.0000000"),
            ("50-03-15", "yy-MM-dd", D, "1950-03-15T00:00:00.0000000"),
            ("99-03-15", "yy-MM-dd", D, "1999-03-15T00:00:00.0000000"),
            ("00-03-15", "yy-MM-dd", D, "2000-03-15T00:00:00.0000000"),
            ("5-03-15", "y-MM-dd", D, "2005-03-15T00:00:00.0000000"),
            ("0021-03-15", "yyyy-MM-dd", D, "0021-03-15T00:00:00.0000000"),
            ("021-03-15", "yyy-MM-dd", D, "0021-03-15T00:00:00.0000000"),
            (
                "02021-03-15",
                "yyyyy-MM-dd",
                D,
                "2021-03-15T00:00:00.0000000",
            ),
            ("0000-03-15", "yyyy-MM-dd", D, "invalid-date"),
            ("10000-03-15", "yyyyy-MM-dd", D, "invalid-date"),
            (
                "Mon, 01 Jun 2009 13:45:30 GMT",
                "R",
                D,
                "2009-06-01T13:45:30.0000000",
            ),
            ("Tue, 01 Jun 2009 13:45:30 GMT", "R", D, "invalid-date"),
            (
                "monday 1 june 2009",
                "dddd d MMMM yyyy",
                D,
                "2009-06-01T00:00:00.0000000",
            ),
            (
                "MON 1 JUN 2009",
                "ddd d MMM yyyy",
                D,
                "2009-06-01T00:00:00.0000000",
            ),
            ("May 2009", "MMMM yyyy", D, "2009-05-01T00:00:00.0000000"),
            ("Sept 2009", "MMMM yyyy", D, "invalid-date"),
            (
                "2009-06-01T13:45:30.0615000Z",
                "O",
                D,
                "2009-06-01T13:45:30.0615000",
            ),
            (
                "2009-06-01T13:45:30.0615000+01:00",
                "o",
                D,
                "2009-06-01T12:45:30.0615000",
            ),
            (
                "2009-06-01 13:45:30Z",
                "u",
                D,
                "2009-06-01T13:45:30.0000000",
            ),
            ("10:00:01", "HH:mm:ss.FFF", D, "2021-08-25T10:00:01.0000000"),
            (
                "10:00:01.5",
                "HH:mm:ss.FFF",
                D,
                "2021-08-25T10:00:01.5000000",
            ),
            (
                "10:00:01.",
                "HH:mm:ss.FFF",
                D,
                "2021-08-25T10:00:01.0000000",
            ),
            ("10:00:01", "HH:mm:ss.FF", D, "2021-08-25T10:00:01.0000000"),
            ("10:00:01", "HH:mm:ss.F", D, "invalid-date"),
            ("10:00:01.5", "HH:mm:ss.F", D, "2021-08-25T10:00:01.5000000"),
            ("10:00:01.", "HH:mm:ss.F", D, "2021-08-25T10:00:01.0000000"),
            ("1:00 p", "h:mm t", D, "invalid-date"),
            ("1:00 pM", "h:mm tt", D, "2021-08-25T13:00:00.0000000"),
            ("2021", "yyyy  ", D, "2021-01-01T00:00:00.0000000"),
            ("2021", "yyyy  ", 0, "invalid-date"),
            ("2021", "  yyyy", 1, "2021-01-01T00:00:00.0000000"),
            ("2021", "yyyy' '", D, "2021-01-01T00:00:00.0000000"),
            ("2021x", "yyyy'x '", D, "2021-01-01T00:00:00.0000000"),
            ("x2021", "' x'yyyy", 1, "2021-01-01T00:00:00.0000000"),
            ("2021x", "yyyy'x '", 0, "invalid-date"),
            ("10:00:01.1234", "HH:mm:ss.FFF", D, "invalid-date"),
            ("10:00:01", "HH:mm:ss\\.FFF", D, "invalid-date"),
            ("10:00:01.5", "HH:mm:ss.f", D, "2021-08-25T10:00:01.5000000"),
            ("10:00:01", "HH:mm:ss.f", D, "invalid-date"),
            (
                "10:00:01.1234567",
                "HH:mm:ss.fffffff",
                D,
                "2021-08-25T10:00:01.1234567",
            ),
            ("A.D. 2009", "g yyyy", D, "2009-01-01T00:00:00.0000000"),
            ("ad 2009", "g yyyy", D, "2009-01-01T00:00:00.0000000"),
            ("3 3", "d d", D, "2021-01-03T00:00:00.0000000"),
            ("3 4", "d d", D, "invalid-date"),
            ("2021yyyy", "yyyy'yyyy'", D, "2021-01-01T00:00:00.0000000"),
            ("2021YYYY", "yyyy'yyyy'", D, "invalid-date"),
            ("d2021", "\\dyyyy", D, "2021-01-01T00:00:00.0000000"),
            ("7", "%d", D, "2021-01-07T00:00:00.0000000"),
            (
                "2021-08-18Z",
                "yyyy-MM-ddZ",
                D,
                "2021-08-18T00:00:00.0000000",
            ),
            ("2021-08-18Z+01:00", "yyyy-MM-ddZzzz", D, "invalid-date"),
            (
                "2021-08-18 GMT",
                "yyyy-MM-dd GMT",
                D,
                "2021-08-18T00:00:00.0000000",
            ),
            (
                "0001-01-01T00:00:00+01:00",
                "yyyy-MM-ddTHH:mm:sszzz",
                D,
                "date-out-of-range",
            ),
            (
                "9999-12-31T23:00:00-01:00",
                "yyyy-MM-ddTHH:mm:sszzz",
                D,
                "date-out-of-range",
            ),
            ("", "yyyy", D, "invalid-date"),
            ("2021-01-01x", "yyyy-MM-dd", D, "invalid-date"),
            ("2021-01", "yyyy-MM-dd", D, "invalid-date"),
            ("２０２１", "yyyy", D, "invalid-date"),
        ];
        for (text, f, styles, want) in cases {
            assert_eq!(
                parse(text, f, *styles),
                *want,
                "ParseExact({text:?}, {f:?}, {styles})"
            );
        }
    }

    #[test]
    fn entra_rendering_lint() {
        for (f, want) in [
            ("M/d/yyyy h:mm:ss tt", true),
            ("M/d/yyyy h:m:s tt", true),
            ("MM/dd/yyyy hh:mm:ss tt", false),
            ("yyyy-MM-dd", false),
            ("G", false),
        ] {
            assert_eq!(
                Format::parse(f).map(|f| f.parses_entra_rendering()),
                Ok(want),
                "{f}"
            );
        }
    }

    #[test]
    fn columns_of_tokens() {
        let f = Format::parse("yyyy-'T'%d\\x")
            .map(|f| f.tokens().iter().map(|t| t.column).collect::<Vec<_>>());
        assert_eq!(f, Ok(vec![0, 4, 5, 9, 10]));
    }

    fn arb_date() -> impl proptest::strategy::Strategy<Value = DateTime> {
        use proptest::strategy::Strategy;
        (0..=DateTime::MAX.ticks()).prop_map(|t| DateTime::from_ticks(t).unwrap_or(DateTime::MIN))
    }

    /// Which formats get a template: fixed-length outputs only.
    #[test]
    fn templates_only_for_fixed_lengths() {
        for (f, templated) in [
            ("yyyyMMddHHmmss.fZ", true),
            ("yyyy-MM-ddTHH:mm:ss.fffffffK", true),
            ("ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", true),
            ("hh:mm tt zzz", true),
            ("yy yyyyy g", true),
            ("GMT", false),
            ("d", true),
            ("%d", false),
            ("yyy", false),
            ("ss.FFF", false),
            ("dddd", false),
            ("MMMM", false),
            ("%H", false),
        ] {
            let parsed = Format::parse(f).map(|f| matches!(f.output(), Output::Template(_)));
            assert_eq!(parsed, Ok(templated), "{f}");
        }
    }

    proptest::proptest! {
        /// The template and the steps write the same text.
        #[test]
        fn template_matches_steps(d in arb_date(), f in "((yyyy|yy|yyyyy|MM|MMM|dd|ddd|HH|hh|mm|ss|f{1,7}|tt|t|zzz|zz|z|K|Z|g)([-:/. T]|'é'|\\\\x|\"q\")){1,10}") {
            let parsed = Format::parse(&f).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let c = Stamp::from(d.civil());
            let fields = field_values(&c);
            let max_len = max_len(parsed.tokens());
            let steps = format_steps(&lower(parsed.tokens(), max_len), max_len, &c, &fields);
            proptest::prop_assert!(matches!(parsed.output(), Output::Template(_)), "{}", f);
            proptest::prop_assert_eq!(parsed.format(d), steps, "{}", f);
        }

        /// Formats that carry every field round-trip exactly.
        #[test]
        fn round_trip_full(d in arb_date(), k in 0usize..8) {
            let formats = [
                "yyyy-MM-ddTHH:mm:ss.fffffffK",
                "O",
                "dddd, dd MMMM yyyy hh:mm:ss.fffffff tt",
                "ddd d MMM yyyy h:m:s.FFFFFFF t zzz",
                "yyyyMMddHHmmssfffffff",
                "'y'yyyy\\-M/d H:%m:ss.FFFFFFF 'Z'z",
                "g yyyyy MM dd HH mm ss fffffff",
                "yyyy-MM-dd HH:mm:ss.FFFFFFFZ",
            ];
            let f = Format::parse(formats[k]).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let text = f.format(d);
            proptest::prop_assert_eq!(f.parse_exact(&text, Styles::DEFAULT, today), Ok(d), "{}", text);
        }

        /// Formats that drop fields round-trip to the truncated value.
        #[test]
        fn round_trip_truncated(d in arb_date()) {
            let f = Format::parse("yyyyMMddHHmmss.fZ").map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let text = f.format(d);
            let back = f.parse_exact(&text, Styles::DEFAULT, today);
            proptest::prop_assert_eq!(back.map(|b| b.ticks()), Ok(d.ticks() - d.ticks() % 1_000_000));
        }

        /// Neither direction panics on arbitrary formats and text, and a format error points
        /// inside the format.
        #[test]
        fn never_panics(f in "\\PC{0,12}", text in "\\PC{0,20}", styles in 0u8..=255, d in arb_date()) {
            let parsed = Format::parse(&f);
            if let Err(e) = &parsed {
                proptest::prop_assert!(e.column < f.chars().count().max(1), "{:?} {:?}", f, e);
            }
            if let Ok(f) = parsed {
                let _ = f.format(d);
                let _ = f.parse_exact(&text, Styles(styles), today);
                let formatted = f.format(d);
                let _ = f.parse_exact(&formatted, Styles(styles), today);
            }
        }

        /// Formats drawn from the specifier alphabet: errors point inside the format, and
        /// parsing a formatted value never panics (and succeeds when the format has no
        /// adjacent numeric fields to confuse, which we do not assert).
        #[test]
        fn specifier_alphabet(f in "[dfFghHKmMstyzGTZ:/'\"%\\\\ .,0-9-]{1,16}", d in arb_date(), styles in 0u8..=255) {
            match Format::parse(&f) {
                Err(e) => proptest::prop_assert!(e.column < f.chars().count(), "{:?} {:?}", f, e),
                Ok(fmt) => {
                    let text = fmt.format(d);
                    let _ = fmt.parse_exact(&text, Styles(styles), today);
                }
            }
        }

        /// Random specifier sequences after a four-digit year, each followed by a separator,
        /// parse back to the same value truncated to milliseconds.
        #[test]
        fn specifier_combinations(d in arb_date(), picks in proptest::collection::vec(0usize..12, 1..6)) {
            let parts = ["MM", "dd", "HH", "mm", "ss", "fff", "MMMM", "dddd", "HH|tt", "d", "M", "MMM"];
            let fmt: String = std::iter::once("yyyy|".to_owned()).chain(picks.iter().map(|&p| format!("{}|", parts[p]))).collect();
            let f = Format::parse(&fmt).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let text = f.format(d);
            let back = f.parse_exact(&text, Styles::DEFAULT, today);
            let has_day = picks.iter().any(|&p| matches!(p, 1 | 9));
            let has_month = picks.iter().any(|&p| matches!(p, 0 | 6 | 10 | 11));
            if picks.contains(&7) && !(has_day && has_month) {
                // The day name must agree with a date defaulted to the 1st or January.
                return Ok(());
            }
            proptest::prop_assert!(back.is_ok(), "{} {:?}", text, back);
            let c = d.civil();
            let b = back.map(|b| b.civil()).unwrap_or(c);
            proptest::prop_assert_eq!(b.year, c.year);
            if picks.iter().any(|&p| matches!(p, 0 | 6 | 10 | 11)) {
                proptest::prop_assert_eq!(b.month, c.month);
            }
            if picks.iter().any(|&p| matches!(p, 1 | 9)) {
                proptest::prop_assert_eq!(b.day, c.day);
            }
        }
    }
}
