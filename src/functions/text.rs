//! Text functions with .NET fidelity: Left, Mid, Word, InStr, Split, Replace,
//! NormalizeDiacritics, PCase, ToLower, ToUpper, ConvertToBase64, ConvertToUTF8Hex.
//!
//! Bodies handle one value; the VM maps the `maps_multi` functions over a multi-valued
//! source (V4). Positions and lengths are UTF-16 code units ([`crate::text::utf16`]). A body
//! hands its input back borrowed whenever it does not change it, so that no-op transforms
//! (ToLower of lower-case text, NormalizeDiacritics of ASCII) never allocate.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use super::{Args, ConstArgs, Env, PrepareError, SiteData};
use crate::error::{ErrorCode, FnError};
use crate::text::case::{self, CaseRules};
use crate::text::charset::CharSet;
use crate::text::regex_dotnet::{CharFilter, DotnetRegex, Expander, RegexError, RegexErrorKind};
use crate::text::{diacritics, titlecase, utf16};
use crate::value::{Value, truncate_for_message};

type Out<'a> = Result<Value<'a>, FnError>;

// ---------------------------------------------------------------------------------------
// Extractors: Null gives "" (F6).

/// `Left(string, numChars)`: the first numChars code units; Null → `""`, 0 → `""`,
/// negative or too long → the whole string.
pub fn left<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Out<'a> {
    let Some(s) = args.take(0).into_text()? else {
        return Ok(Value::str(""));
    };
    let n = args.get(1).to_int()?;
    if n == 0 {
        return Ok(Value::str(""));
    }
    if n < 0 {
        return Ok(Value::Str(s));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    Ok(Value::Str(sub(s, |t| utf16::left(t, n))))
}

/// `Mid(source, start, length)`: up to length code units from the 1-based start.
/// Rules in order: Null → `""`; length 0 → `""`; length < 0 → the whole source;
/// start < 1 → `invalid-start`; start past the end → `""`.
pub fn mid<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Out<'a> {
    let Some(s) = args.take(0).into_text()? else {
        return Ok(Value::str(""));
    };
    let length = args.get(2).to_int()?;
    if length == 0 {
        return Ok(Value::str(""));
    }
    if length < 0 {
        return Ok(Value::Str(s));
    }
    let start = args.get(1).to_int()?;
    if start < 1 {
        return Err(invalid_start(start));
    }
    let start = usize::try_from(start - 1).unwrap_or(usize::MAX);
    if start >= utf16::len(&s) {
        return Ok(Value::str(""));
    }
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    Ok(Value::Str(sub(s, |t| utf16::substring(t, start, length))))
}

/// `Word(string, wordNumber, delimiters)`: the n-th maximal run of non-delimiters;
/// Null → `""`; n < 1 or too few words → `""`; no delimiters → the whole string is the word.
pub fn word<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Out<'a> {
    let Some(s) = args.take(0).into_text()? else {
        return Ok(Value::str(""));
    };
    let n = args.get(1).to_int()?;
    if n < 1 {
        return Ok(Value::str(""));
    }
    let delims = args.get(2).text()?.unwrap_or(Cow::Borrowed(""));
    let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
    Ok(Value::Str(sub(s, |t| nth_word(t, &delims, index))))
}

fn nth_word<'t>(s: &'t str, delims: &str, index: usize) -> &'t str {
    if delims.is_empty() {
        return if index == 0 { s } else { "" };
    }
    let set = CharSet::new(delims);
    s.split(|c| set.contains(c))
        .filter(|w| !w.is_empty())
        .nth(index)
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------
// InStr

/// How InStr compares (`vbBinaryCompare` = 0, `vbTextCompare` = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compare {
    Binary,
    Text,
}

fn compare_type(v: &Value<'_>) -> Result<Compare, FnError> {
    let n = match v {
        Value::Int(n) => Some(*n),
        Value::Str(s) => crate::value::parse_integer_text(s),
        Value::Multi(m) if m.len() == 1 => return compare_type(&m[0]),
        _ => None,
    };
    match n {
        Some(0) => Ok(Compare::Binary),
        Some(1) => Ok(Compare::Text),
        _ => Err(FnError::new(
            ErrorCode::InvalidCompareType,
            format!(
                "`{}` is not a compare type; use vbBinaryCompare or vbTextCompare",
                truncate_for_message(&v.render_scalar())
            ),
        )),
    }
}

/// `InStr(value1, value2, start?, compareType?)`: the 1-based position of value2 in value1
/// at or after start, 0 when absent (VB `Strings.InStr`, F9).
pub fn instr<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Out<'a> {
    let start = if args.present(2) {
        args.get(2).to_int()?
    } else {
        1
    };
    if start < 1 {
        return Err(invalid_start(start));
    }
    let compare = if args.present(3) {
        compare_type(args.get(3))?
    } else {
        Compare::Binary
    };
    let hay = args.get(0).text()?.unwrap_or(Cow::Borrowed(""));
    if hay.is_empty() {
        return Ok(Value::Int(0));
    }
    let len = utf16::len(&hay);
    if usize::try_from(start).map_or(true, |s| s > len + 1) {
        return Ok(Value::Int(0));
    }
    let needle = args.get(1).text()?.unwrap_or(Cow::Borrowed(""));
    if needle.is_empty() {
        return Ok(Value::Int(start));
    }
    let from = utf16::byte_offset(&hay, usize::try_from(start - 1).unwrap_or(usize::MAX));
    let rest = hay.get(from..).unwrap_or("");
    env.charge(1 + (rest.len() as u64 >> 6))?;
    let found = match compare {
        Compare::Binary => rest.find(needle.as_ref()),
        Compare::Text => find_ignoring_case(rest, &needle),
    };
    Ok(Value::Int(match found {
        Some(at) => i64::try_from(utf16::unit_offset(&hay, from + at) + 1).unwrap_or(i64::MAX),
        None => 0,
    }))
}

/// Byte offset in `hay` of the first occurrence of `needle` comparing code points after
/// invariant simple lower-casing (vbTextCompare, our decision: no width, kana or ligature
/// folding). Both sides are lowered once and searched with `str::find`, which is linear; the
/// mapping is one code point to one code point, so the match's code point index carries back.
fn find_ignoring_case(hay: &str, needle: &str) -> Option<usize> {
    let lower_hay = case::to_lower(hay, CaseRules::Invariant);
    let lower_needle = case::to_lower(needle, CaseRules::Invariant);
    let at = lower_hay.find(lower_needle.as_ref())?;
    let nth = lower_hay.get(..at)?.chars().count();
    hay.char_indices().nth(nth).map(|(i, _)| i)
}

/// Catches a literal start < 1 (InStr slot 3) and a bad compare type (slot 4) at compile time.
pub fn prepare_instr(args: &ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError> {
    if let Some(Ok(n)) = args.constant(2).map(Value::to_int) {
        if n < 1 {
            return Err(PrepareError::at(
                2,
                ErrorCode::InvalidStart,
                invalid_start(n).message,
            ));
        }
    }
    if let Some(v) = args.constant(3) {
        compare_type(v).map_err(|e| {
            PrepareError::at(3, e.code, e.message)
                .with_help("write vbBinaryCompare (0) or vbTextCompare (1)")
        })?;
    }
    Ok(None)
}

/// Catches a literal Mid start < 1 at compile time.
pub fn prepare_mid(args: &ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError> {
    if let Some(Ok(n)) = args.constant(1).map(Value::to_int) {
        if n < 1 {
            return Err(
                PrepareError::at(1, ErrorCode::InvalidStart, invalid_start(n).message)
                    .with_help("positions are 1-based: the first character is 1"),
            );
        }
    }
    Ok(None)
}

#[cold]
fn invalid_start(n: i64) -> FnError {
    FnError::new(
        ErrorCode::InvalidStart,
        format!("start position `{n}` is less than 1"),
    )
}

// ---------------------------------------------------------------------------------------
// Split

/// `Split(source, delimiter)`: cut at every non-overlapping occurrence, empty elements kept;
/// Null → Null; delimiter `""` or Null → `[source]`; a multi-valued source is split value by
/// value and the pieces concatenated.
pub fn split<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Out<'a> {
    let delim = args.get(1).text()?.map(Cow::into_owned).unwrap_or_default();
    let mut pieces = Vec::new();
    match args.take(0) {
        Value::Null => return Ok(Value::Null),
        Value::Multi(list) => {
            for v in list.into_vec() {
                if let Some(s) = v.into_text()? {
                    split_into(s, &delim, &mut pieces, env)?;
                }
            }
        }
        single => {
            if let Some(s) = single.into_text()? {
                split_into(s, &delim, &mut pieces, env)?;
            }
        }
    }
    Ok(Value::multi(pieces))
}

fn split_into<'a>(
    s: Cow<'a, str>,
    delim: &str,
    out: &mut Vec<Value<'a>>,
    env: &mut Env<'_>,
) -> Result<(), FnError> {
    if delim.is_empty() {
        out.push(Value::Str(s));
        return check_multi_len(out.len(), env);
    }
    match s {
        Cow::Borrowed(b) => {
            for p in b.split(delim) {
                env.charge(1)?;
                out.push(Value::str(p));
                check_multi_len(out.len(), env)?;
            }
        }
        Cow::Owned(o) => {
            for p in o.split(delim) {
                env.charge(1)?;
                out.push(Value::string(p.to_owned()));
                check_multi_len(out.len(), env)?;
            }
        }
    }
    Ok(())
}

fn check_multi_len(n: usize, env: &Env<'_>) -> Result<(), FnError> {
    if n > env.limits.max_multi_len {
        return Err(FnError::new(
            ErrorCode::LimitExceeded,
            format!(
                "a multi-valued value exceeds the limit of {} values",
                env.limits.max_multi_len
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Transforms: Null gives Null.

/// `NormalizeDiacritics(source)`: the table of spec §5 (F10); borrowed when nothing changes.
pub fn normalize_diacritics<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Out<'a> {
    Ok(match args.take(0).into_text()? {
        None => Value::Null,
        Some(s) => Value::Str(transform(s, diacritics::normalize)),
    })
}

/// `PCase(source, wordSeparators?)`: proper case (F12).
pub fn pcase<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Out<'a> {
    let Some(s) = args.take(0).into_text()? else {
        return Ok(Value::Null);
    };
    let separators = if args.present(1) {
        args.get(1).text()?
    } else {
        None
    };
    let out = match separators {
        None => transform(s, titlecase::pcase),
        Some(seps) => transform(s, |t| titlecase::pcase_with_separators(t, &seps)),
    };
    env.check_len(out.len())?;
    Ok(Value::Str(out))
}

/// `ToLower(source, culture?)`: simple lower-case mapping (F11).
pub fn to_lower<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Out<'a> {
    let rules = case_rules(args)?;
    Ok(match args.take(0).into_text()? {
        None => Value::Null,
        // An owned ASCII string (built by an inner call) is lowered in place: the invariant
        // mapping of ASCII is ASCII's own.
        Some(Cow::Owned(mut o)) if rules == CaseRules::Invariant && o.is_ascii() => {
            o.make_ascii_lowercase();
            Value::string(o)
        }
        Some(s) => Value::Str(transform(s, |t| case::to_lower(t, rules))),
    })
}

/// `ToUpper(source, culture?)`: simple upper-case mapping (F11).
pub fn to_upper<'a>(args: &mut Args<'_, 'a>, _env: &mut Env<'_>) -> Out<'a> {
    let rules = case_rules(args)?;
    Ok(match args.take(0).into_text()? {
        None => Value::Null,
        Some(Cow::Owned(mut o)) if rules == CaseRules::Invariant && o.is_ascii() => {
            o.make_ascii_uppercase();
            Value::string(o)
        }
        Some(s) => Value::Str(transform(s, |t| case::to_upper(t, rules))),
    })
}

fn case_rules(args: &Args<'_, '_>) -> Result<CaseRules, FnError> {
    if let Some(rules) = args.site::<CaseRules>() {
        return Ok(*rules);
    }
    if !args.present(1) {
        return Ok(CaseRules::Invariant);
    }
    match args.get(1).text()? {
        None => Ok(CaseRules::Invariant),
        Some(name) => case::parse_culture(&name).map_err(|_| bad_culture(&name)),
    }
}

#[cold]
fn bad_culture(name: &str) -> FnError {
    FnError::new(
        ErrorCode::InvalidCulture,
        format!("`{}` is not a culture name", truncate_for_message(name)),
    )
}

/// Validates a constant culture of ToLower/ToUpper and stores its case rules.
pub fn prepare_case(args: &ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError> {
    let Some(v) = args.constant(1) else {
        return Ok(None);
    };
    let rules = match v.text() {
        Ok(None) => CaseRules::Invariant,
        Ok(Some(name)) => case::parse_culture(&name).map_err(|_| {
            PrepareError::at(1, ErrorCode::InvalidCulture, bad_culture(&name).message)
                .with_help("write `lang[-Script][-REGION]`, e.g. `en-US`, `tr-TR` or `az-Latn-AZ`")
        })?,
        Err(_) => return Ok(None),
    };
    Ok(Some(Box::new(rules)))
}

/// `ConvertToBase64(source)`: Base64 of the UTF-16LE bytes (.NET `Encoding.Unicode`).
pub fn convert_to_base64<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Out<'a> {
    let Some(s) = args.take(0).into_text()? else {
        return Ok(Value::Null);
    };
    let bytes: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    env.check_len(bytes.len().saturating_mul(4) / 3 + 4)?;
    Ok(Value::string(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

/// `ConvertToUTF8Hex(source)`: the UTF-8 bytes as upper-case hex pairs.
pub fn convert_to_utf8_hex<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Out<'a> {
    let Some(s) = args.take(0).into_text()? else {
        return Ok(Value::Null);
    };
    env.check_len(s.len().saturating_mul(2))?;
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xF)]));
    }
    Ok(Value::string(out))
}

// ---------------------------------------------------------------------------------------
// Replace

/// Replace's five modes (spec §5 Replace, F14), selected by which optional slots are present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceMode {
    /// oldValue + replacementValue.
    Literal,
    /// oldValue + template.
    Template,
    /// regexPattern + replacementValue.
    Regex,
    /// regexPattern + regexGroupName + replacementValue.
    Group,
    /// regexPattern + regexGroupName + replacementAttributeName.
    Fallback,
}

const OLD: usize = 1;
const PATTERN: usize = 2;
const GROUP: usize = 3;
const REPLACEMENT: usize = 4;
const ATTRIBUTE: usize = 5;
const TEMPLATE: usize = 6;

/// The steps a character-class deletion charges: one, plus one per 64 bytes of input. Shared
/// with the VM's direct filter entry, which checks the budget before deleting.
pub fn deletion_steps(src: &str) -> u64 {
    1 + (src.len() as u64 >> 6)
}

/// The written-argument mask of `Replace(source, , regexPattern, , replacementValue, , )`:
/// the shape that deletes a character class when the pattern is one class and the
/// replacement is `""` (see `CharFilter`). Shared by the string chains and the VM's entry.
pub fn is_class_deletion_mask(present: u64) -> bool {
    present == 0b1_0101
}

/// The mode for the present slots, or the `replace-mode` message.
pub fn replace_mode(present: impl Fn(usize) -> bool) -> Result<ReplaceMode, String> {
    let p: [bool; 7] = std::array::from_fn(|i| i > 0 && present(i));
    let [_, old, pat, grp, rep, attr, tmpl] = p;
    let msg = |m: &str| Err(m.to_owned());
    match (old, pat) {
        (true, true) => msg("oldValue and regexPattern cannot be combined"),
        (false, false) => msg("Replace needs oldValue or regexPattern"),
        (true, false) => {
            if grp || attr {
                msg("oldValue cannot be combined with regexGroupName or replacementAttributeName")
            } else if rep && tmpl {
                msg("oldValue takes replacementValue or template, not both")
            } else if rep {
                Ok(ReplaceMode::Literal)
            } else if tmpl {
                Ok(ReplaceMode::Template)
            } else {
                msg("oldValue needs replacementValue or template")
            }
        }
        (false, true) => {
            if tmpl {
                msg("template works with oldValue, not with regexPattern")
            } else if grp {
                match (rep, attr) {
                    (true, true) => msg(
                        "regexGroupName takes replacementValue or replacementAttributeName, not both",
                    ),
                    (true, false) => Ok(ReplaceMode::Group),
                    (false, true) => Ok(ReplaceMode::Fallback),
                    (false, false) => {
                        msg("regexGroupName needs replacementValue or replacementAttributeName")
                    }
                }
            } else if attr {
                msg("replacementAttributeName needs regexGroupName")
            } else if rep {
                Ok(ReplaceMode::Regex)
            } else {
                msg("regexPattern needs replacementValue")
            }
        }
    }
}

const MODES_HELP: &str = "the modes are oldValue + replacementValue, oldValue + template, \
regexPattern + replacementValue, regexPattern + regexGroupName + replacementValue, and \
regexPattern + regexGroupName + replacementAttributeName";

/// What `prepare_replace` computes for a call site with a constant pattern.
#[derive(Debug)]
pub struct ReplaceSite {
    /// The mode the call's present slots select (checked once, here).
    mode: ReplaceMode,
    regex: Option<Arc<DotnetRegex>>,
    group: Option<usize>,
    expander: Option<Expander>,
    filter: Option<CharFilter>,
}

/// Checks the mode, compiles a constant pattern, resolves a constant group name, parses a
/// constant replacement, and lowers `[class]+` → `""` deletions to a character filter
/// (which then needs no compiled pattern).
pub fn prepare_replace(args: &ConstArgs<'_>) -> Result<Option<SiteData>, PrepareError> {
    let mode = replace_mode(|i| args.present(i)).map_err(|m| PrepareError {
        arg: None,
        code: ErrorCode::ReplaceMode,
        message: m,
        help: Some(MODES_HELP.to_owned()),
    })?;
    if matches!(mode, ReplaceMode::Literal | ReplaceMode::Template) {
        return Ok(None);
    }
    let Some(Ok(Some(pattern))) = args.constant(PATTERN).map(Value::text) else {
        return Ok(None);
    };
    let mut site = ReplaceSite {
        mode,
        regex: None,
        group: None,
        expander: None,
        filter: None,
    };
    let replacement = match mode {
        ReplaceMode::Regex => args
            .constant(REPLACEMENT)
            .and_then(|v| v.text().ok().flatten()),
        _ => None,
    };
    if replacement.as_deref() == Some("") {
        // A class deletion runs on the filter alone; building the filter translated and
        // parsed the pattern, so it is known to be valid without compiling it.
        if let Some(filter) = CharFilter::for_pattern(&pattern) {
            site.filter = Some(filter);
            return Ok(Some(Box::new(site)));
        }
    }
    let re = cached_regex(&pattern).map_err(|e| prepare_regex_error(PATTERN, e))?;
    if matches!(mode, ReplaceMode::Group | ReplaceMode::Fallback) {
        if let Some(Ok(Some(name))) = args.constant(GROUP).map(Value::text) {
            let g = re.group(&name).ok_or_else(|| {
                let e = unknown_group(&name);
                PrepareError::at(GROUP, e.code, e.message).with_help(group_help(&re))
            })?;
            site.group = Some(g);
        }
    }
    if let Some(rep) = replacement {
        site.expander = Some(Expander::new(&rep, &re));
    }
    site.regex = Some(re);
    Ok(Some(Box::new(site)))
}

fn prepare_regex_error(arg: usize, e: RegexError) -> PrepareError {
    let fe = regex_error(e.clone());
    let err = PrepareError::at(arg, fe.code, fe.message);
    match e.help {
        Some(h) => err.with_help(h),
        None => err,
    }
}

fn regex_error(e: RegexError) -> FnError {
    let code = match e.kind {
        RegexErrorKind::Invalid => ErrorCode::InvalidRegex,
        RegexErrorKind::DotnetOnly => ErrorCode::DotnetOnlyRegex,
    };
    FnError::new(code, e.message)
}

#[cold]
fn unknown_group(name: &str) -> FnError {
    FnError::new(
        ErrorCode::UnknownRegexGroup,
        format!(
            "the pattern has no group named `{}`",
            truncate_for_message(name)
        ),
    )
}

fn group_help(re: &DotnetRegex) -> String {
    let names: Vec<String> = re.names().into_iter().map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "the pattern has no named groups; name one with `(?<name>…)`".to_owned()
    } else {
        format!("the pattern's groups are {}", names.join(", "))
    }
}

/// Compiled patterns, most recent last; small and bounded. Shared by run-time compilation
/// of dynamic patterns and by `prepare`, which the checker and the compiler both call for a
/// constant pattern: it is compiled once per process, not once per pass or per mapping.
static CACHE: Mutex<Vec<(String, Arc<DotnetRegex>)>> = Mutex::new(Vec::new());
const CACHE_SIZE: usize = 64;

fn cached_regex(pattern: &str) -> Result<Arc<DotnetRegex>, RegexError> {
    if let Ok(cache) = CACHE.lock() {
        if let Some((_, re)) = cache.iter().find(|(p, _)| p == pattern) {
            return Ok(Arc::clone(re));
        }
    }
    let re = Arc::new(DotnetRegex::new(pattern)?);
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CACHE_SIZE {
            cache.remove(0);
        }
        cache.push((pattern.to_owned(), Arc::clone(&re)));
    }
    Ok(re)
}

fn compile_cached(pattern: &str) -> Result<Arc<DotnetRegex>, FnError> {
    cached_regex(pattern).map_err(regex_error)
}

/// `Replace(source, oldValue?, regexPattern?, regexGroupName?, replacementValue?,
/// replacementAttributeName?, template?)`: five modes (F14).
pub fn replace<'a>(args: &mut Args<'_, 'a>, env: &mut Env<'_>) -> Out<'a> {
    let site = args.site::<ReplaceSite>();
    let mode = match site {
        Some(s) => s.mode,
        None => replace_mode(|i| args.present(i))
            .map_err(|m| FnError::new(ErrorCode::ReplaceMode, m))?,
    };
    // Holds a pattern compiled at run time; a constant one is borrowed from the site.
    let mut compiled = None;
    match mode {
        ReplaceMode::Literal => {
            let Some(src) = args.take(0).into_text()? else {
                return Ok(Value::Null);
            };
            let old = args.get(OLD).text()?.unwrap_or(Cow::Borrowed(""));
            let rep = args.get(REPLACEMENT).text()?.unwrap_or(Cow::Borrowed(""));
            Ok(Value::Str(replace_literal(src, &old, &rep, env)?))
        }
        ReplaceMode::Template => {
            let Some(src) = args.take(0).into_text()? else {
                return Ok(Value::Null);
            };
            let Some(template) = args.take(TEMPLATE).into_text()? else {
                return Ok(Value::Null);
            };
            let old = args.get(OLD).text()?.unwrap_or(Cow::Borrowed(""));
            Ok(Value::Str(replace_literal(template, &old, &src, env)?))
        }
        ReplaceMode::Regex => {
            let Some(src) = args.take(0).into_text()? else {
                return Ok(Value::Null);
            };
            // A constant character-class deletion needs neither the regex nor the expander.
            if let Some(filter) = site.and_then(|s| s.filter.as_ref()) {
                env.charge(deletion_steps(&src))?;
                return Ok(Value::Str(transform(src, |t| filter.remove(t))));
            }
            let Some(re) = site_regex(site, args, &mut compiled)? else {
                return Ok(Value::Str(src));
            };
            let parsed;
            let expander = match site.and_then(|s| s.expander.as_ref()) {
                Some(e) => e,
                None => {
                    let rep = args.get(REPLACEMENT).text()?.unwrap_or(Cow::Borrowed(""));
                    parsed = Expander::new(&rep, re);
                    &parsed
                }
            };
            Ok(Value::Str(replace_regex(src, re, expander, env)?))
        }
        ReplaceMode::Group => {
            let Some(src) = args.take(0).into_text()? else {
                return Ok(Value::Null);
            };
            let Some(re) = site_regex(site, args, &mut compiled)? else {
                return Ok(Value::Str(src));
            };
            let Some(group) = site_group(site, args, re)? else {
                return Ok(Value::Str(src));
            };
            let rep = args.get(REPLACEMENT).text()?.unwrap_or(Cow::Borrowed(""));
            Ok(Value::Str(replace_group(src, re, group, &rep, env)?))
        }
        ReplaceMode::Fallback => {
            let src = args.take(0).into_text()?;
            if src.as_deref().is_some_and(|s| !s.is_empty()) {
                return Ok(src.map_or(Value::Null, Value::Str));
            }
            let unchanged = |src: Option<Cow<'a, str>>| src.map_or(Value::Null, Value::Str);
            let Some(re) = site_regex(site, args, &mut compiled)? else {
                return Ok(unchanged(src));
            };
            let Some(group) = site_group(site, args, re)? else {
                return Ok(unchanged(src));
            };
            let Some(other) = args.take(ATTRIBUTE).into_text()? else {
                return Ok(unchanged(src));
            };
            env.charge(1)?;
            let mut found = re.matches(&other, true);
            let span = found.next().and_then(|_| re.capture(found.caps(), group));
            Ok(match span {
                Some((s, e)) => Value::Str(sub(other, |t| t.get(s..e).unwrap_or(""))),
                None => unchanged(src),
            })
        }
    }
}

/// The call's pattern: the site's, borrowed (no reference count to touch on the hot path),
/// or the pattern argument's, compiled through the cache into `compiled`. Inline for the
/// site's; the argument's is compiled out of line.
#[inline]
fn site_regex<'r>(
    site: Option<&'r ReplaceSite>,
    args: &Args<'_, '_>,
    compiled: &'r mut Option<Arc<DotnetRegex>>,
) -> Result<Option<&'r DotnetRegex>, FnError> {
    if let Some(re) = site.and_then(|s| s.regex.as_deref()) {
        return Ok(Some(re));
    }
    argument_regex(args, compiled)
}

#[inline(never)]
fn argument_regex<'r>(
    args: &Args<'_, '_>,
    compiled: &'r mut Option<Arc<DotnetRegex>>,
) -> Result<Option<&'r DotnetRegex>, FnError> {
    match args.get(PATTERN).text()? {
        None => Ok(None),
        Some(p) => Ok(Some(&**compiled.insert(compile_cached(&p)?))),
    }
}

fn site_group(
    site: Option<&ReplaceSite>,
    args: &Args<'_, '_>,
    re: &DotnetRegex,
) -> Result<Option<usize>, FnError> {
    if let Some(g) = site.and_then(|s| s.group) {
        return Ok(Some(g));
    }
    match args.get(GROUP).text()? {
        None => Ok(None),
        Some(name) => re
            .group(&name)
            .map(Some)
            .ok_or_else(|| unknown_group(&name)),
    }
}

/// Every ordinal, non-overlapping occurrence of `old` replaced by `rep`; `old` empty → unchanged.
fn replace_literal<'a>(
    src: Cow<'a, str>,
    old: &str,
    rep: &str,
    env: &mut Env<'_>,
) -> Result<Cow<'a, str>, FnError> {
    if old.is_empty() || !src.contains(old) {
        return Ok(src);
    }
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    for (at, _) in src.match_indices(old) {
        env.charge(1)?;
        out.push_str(src.get(last..at).unwrap_or(""));
        out.push_str(rep);
        env.check_len(out.len())?;
        last = at + old.len();
    }
    out.push_str(src.get(last..).unwrap_or(""));
    env.check_len(out.len())?;
    Ok(Cow::Owned(out))
}

/// Regex mode: every .NET match replaced by the expansion; groups are captured only when
/// the replacement refers to one. No match hands the input back as it came (borrowed stays
/// borrowed); otherwise the output is one allocation of the input's length, which holds
/// the result unless the expansions are longer than what they replace.
fn replace_regex<'a>(
    src: Cow<'a, str>,
    re: &DotnetRegex,
    ex: &Expander,
    env: &mut Env<'_>,
) -> Result<Cow<'a, str>, FnError> {
    let mut found = re.matches(&src, ex.needs_groups());
    let Some((mut start, mut end)) = found.next() else {
        return Ok(src);
    };
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    loop {
        env.charge(1)?;
        out.push_str(src.get(last..start).unwrap_or(""));
        ex.expand(found.caps(), &src, &mut out);
        env.check_len(out.len())?;
        last = end;
        match found.next() {
            Some(next) => (start, end) = next,
            None => break,
        }
    }
    out.push_str(src.get(last..).unwrap_or(""));
    env.check_len(out.len())?;
    Ok(if out == *src { src } else { Cow::Owned(out) })
}

fn replace_group<'a>(
    src: Cow<'a, str>,
    re: &DotnetRegex,
    group: usize,
    rep: &str,
    env: &mut Env<'_>,
) -> Result<Cow<'a, str>, FnError> {
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut found = re.matches(&src, group != 0);
    while found.next().is_some() {
        env.charge(1)?;
        let Some((start, end)) = re.capture(found.caps(), group) else {
            continue;
        };
        let buf = out.get_or_insert_with(|| String::with_capacity(src.len()));
        buf.push_str(src.get(last..start).unwrap_or(""));
        buf.push_str(rep);
        env.check_len(buf.len())?;
        last = end;
    }
    Ok(match out {
        None => src,
        Some(mut buf) => {
            buf.push_str(src.get(last..).unwrap_or(""));
            env.check_len(buf.len())?;
            Cow::Owned(buf)
        }
    })
}

// ---------------------------------------------------------------------------------------
// Helpers

/// A sub-slice of a possibly borrowed string: borrowed stays borrowed, owned is copied only
/// when the slice is shorter.
fn sub<'a>(s: Cow<'a, str>, f: impl for<'x> Fn(&'x str) -> &'x str) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(f(b)),
        Cow::Owned(o) => {
            let part = f(&o);
            if part.len() == o.len() {
                Cow::Owned(o)
            } else {
                Cow::Owned(part.to_owned())
            }
        }
    }
}

/// Applies a transform that returns its input borrowed when nothing changes, keeping the
/// caller's borrow (or allocation) in that case.
fn transform<'a>(s: Cow<'a, str>, f: impl for<'x> FnOnce(&'x str) -> Cow<'x, str>) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => f(b),
        Cow::Owned(o) => {
            let changed = match f(&o) {
                Cow::Borrowed(_) => None,
                Cow::Owned(n) => Some(n),
            };
            Cow::Owned(changed.unwrap_or(o))
        }
    }
}

#[cfg(test)]
mod tests;
