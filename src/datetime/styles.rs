//! DateTimeStyles (spec 5.F2): a number 0–255 or a comma-separated list of names.

/// A validated DateTimeStyles bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Styles(pub u8);

impl Styles {
    /// `AllowLeadingWhite`.
    pub const ALLOW_LEADING_WHITE: u8 = 1;
    /// `AllowTrailingWhite`.
    pub const ALLOW_TRAILING_WHITE: u8 = 2;
    /// `AllowInnerWhite`.
    pub const ALLOW_INNER_WHITE: u8 = 4;
    /// `NoCurrentDateDefault`.
    pub const NO_CURRENT_DATE_DEFAULT: u8 = 8;
    /// `AdjustToUniversal`.
    pub const ADJUST_TO_UNIVERSAL: u8 = 16;
    /// `AssumeLocal`.
    pub const ASSUME_LOCAL: u8 = 32;
    /// `AssumeUniversal`.
    pub const ASSUME_UNIVERSAL: u8 = 64;
    /// `RoundtripKind`.
    pub const ROUNDTRIP_KIND: u8 = 128;

    /// What an empty slot and the 3-argument form mean: RoundtripKind | AllowLeadingWhite |
    /// AllowTrailingWhite.
    pub const DEFAULT: Styles = Styles(131);

    /// True when every bit of `flag` is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag == flag
    }
}

const NAMES: &[(&str, u8)] = &[
    ("None", 0),
    ("AllowLeadingWhite", 1),
    ("AllowTrailingWhite", 2),
    ("AllowInnerWhite", 4),
    ("AllowWhiteSpaces", 7),
    ("NoCurrentDateDefault", 8),
    ("AdjustToUniversal", 16),
    ("AssumeLocal", 32),
    ("AssumeUniversal", 64),
    ("RoundtripKind", 128),
];

/// Parses the text of a styles slot: integer text 0–255, or names separated by commas
/// (white space around names ignored, names case-insensitive, optional `DateTimeStyles.`
/// prefix). Text that is empty or only white space means the default (131) *(our decision:
/// an attribute that holds nothing behaves like an empty slot)*. The error is a message for
/// `invalid-datetime-styles`.
pub fn parse_styles(text: &str) -> Result<Styles, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Styles::DEFAULT);
    }
    let bits = if let Some(n) = crate::value::parse_integer_text(t) {
        u8::try_from(n).map_err(|_| {
            format!("`{t}` is not a DateTimeStyles value; numbers run from 0 to 255")
        })?
    } else {
        let mut bits = 0u8;
        for part in t.split(',') {
            let name = part.trim();
            let bare = match name.get(..15) {
                Some(p) if p.eq_ignore_ascii_case("DateTimeStyles.") => {
                    name.get(15..).unwrap_or("")
                }
                _ => name,
            };
            let Some((_, v)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(bare)) else {
                return Err(format!(
                    "unknown DateTimeStyles name `{}`",
                    crate::value::truncate_for_message(name)
                ));
            };
            bits |= v;
        }
        bits
    };
    check(Styles(bits))
}

/// The combinations .NET rejects with an ArgumentException.
pub fn check(s: Styles) -> Result<Styles, String> {
    if s.has(Styles::ASSUME_LOCAL) && s.has(Styles::ASSUME_UNIVERSAL) {
        return Err(format!(
            "DateTimeStyles {} combines AssumeLocal with AssumeUniversal",
            s.0
        ));
    }
    if s.has(Styles::ROUNDTRIP_KIND)
        && s.0 & (Styles::ADJUST_TO_UNIVERSAL | Styles::ASSUME_LOCAL | Styles::ASSUME_UNIVERSAL)
            != 0
    {
        return Err(format!(
            "DateTimeStyles {} combines RoundtripKind with AdjustToUniversal, AssumeLocal or AssumeUniversal",
            s.0
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(text, bits or None for an error)`.
    const CASES: &[(&str, Option<u8>)] = &[
        ("", Some(131)),
        ("  ", Some(131)),
        ("0", Some(0)),
        ("32", Some(32)),
        (" 7 ", Some(7)),
        ("131", Some(131)),
        ("255", None),
        ("256", None),
        ("-1", None),
        ("None", Some(0)),
        ("allowwhitespaces", Some(7)),
        ("AllowLeadingWhite, AllowTrailingWhite", Some(3)),
        ("DateTimeStyles.AssumeUniversal", Some(64)),
        (
            "datetimestyles.NoCurrentDateDefault ,AllowInnerWhite",
            Some(12),
        ),
        ("RoundtripKind,AllowWhiteSpaces", Some(135)),
        ("AssumeLocal, AssumeUniversal", None),
        ("RoundtripKind, AdjustToUniversal", None),
        ("RoundtripKind, AssumeLocal", None),
        ("160", None),
        ("Bogus", None),
        ("AllowLeadingWhite,", None),
        ("DateTimeStyles.", None),
        ("1.5", None),
    ];

    #[test]
    fn styles_cases() {
        for (text, want) in CASES {
            assert_eq!(
                parse_styles(text).ok().map(|s| s.0),
                *want,
                "styles {text:?}"
            );
        }
    }
}
