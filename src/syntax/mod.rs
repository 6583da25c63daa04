//! Source text to AST. The only module that names pest.
//!
//! `parse` runs the linear pre-scan (`scan`) first — limits and lexical mistakes — and only
//! then pest, so pest's recursion is bounded by the depth limit. pest's rule names never leak:
//! its errors are turned into `unexpected-token` diagnostics naming readable tokens.

pub mod ast;
mod scan;

use pest::Parser as _;
use pest::iterators::Pair;

use crate::context::Limits;
use crate::diagnostic::Diagnostic;
use crate::error::ErrorCode;

use ast::{Arg, BinOp, Call, Constant, Expr, ExprKind};

/// A half-open range of byte offsets into the UTF-8 source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The source text under the span (empty when out of range).
    pub fn text(self, src: &str) -> &str {
        src.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }
}

/// The pest parser; kept private so `Rule` never leaks into the public API.
mod grammar {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/expr.pest"]
    pub(super) struct ExprParser;
}

use grammar::{ExprParser, Rule};

/// A parsed expression and the warnings found while parsing.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The tree.
    pub expr: Expr,
    /// Warnings (`unknown-escape`, `length-over-10000`).
    pub warnings: Vec<Diagnostic>,
}

/// Parses an expression with the default limits.
pub fn parse(src: &str) -> Result<Parsed, Vec<Diagnostic>> {
    parse_with(src, &Limits::default())
}

/// Parses an expression; errors carry spans and stable codes.
pub fn parse_with(src: &str, limits: &Limits) -> Result<Parsed, Vec<Diagnostic>> {
    let warnings = scan::scan(src, limits)?;
    if src.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
        return Err(vec![Diagnostic::error(
            ErrorCode::UnexpectedToken,
            Span::new(0, src.len()),
            "expected an expression, found end of input",
        )]);
    }
    let mut pairs =
        ExprParser::parse(Rule::expression, src).map_err(|e| vec![pest_error(src, e)])?;
    let expression = pairs.next().ok_or_else(|| vec![internal(src)])?;
    let comparison = expression
        .into_inner()
        .next()
        .ok_or_else(|| vec![internal(src)])?;
    let mut errors = Vec::new();
    let expr = build_comparison(comparison, &mut errors);
    if errors.is_empty() {
        Ok(Parsed { expr, warnings })
    } else {
        Err(errors)
    }
}

#[cold]
fn internal(src: &str) -> Diagnostic {
    Diagnostic::error(
        ErrorCode::UnexpectedToken,
        Span::new(0, src.len()),
        "the expression could not be parsed",
    )
}

fn span_of(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn build_comparison(p: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let mut lhs = match it.next() {
        Some(c) => build_concat(c, errors),
        None => return placeholder(span),
    };
    let mut count = 0;
    while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
        count += 1;
        if count == 2 {
            errors.push(
                Diagnostic::error(
                    ErrorCode::ChainedComparison,
                    span_of(&op),
                    format!(
                        "comparison operators cannot be chained; found a second `{}`",
                        op.as_str()
                    ),
                )
                .with_help(
                    "compare two values at a time and combine the results with nested `IIF`",
                ),
            );
        }
        let op = match op.as_str() {
            "=" => BinOp::Eq,
            "<>" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            _ => BinOp::Ge,
        };
        let rhs = build_concat(rhs, errors);
        let span = lhs.span.to(rhs.span);
        lhs = Expr {
            kind: ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        };
    }
    lhs
}

fn build_concat(p: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    let span = span_of(&p);
    let mut it = p.into_inner().filter(|x| x.as_rule() != Rule::amp);
    let mut lhs = match it.next() {
        Some(o) => build_operand(o, errors),
        None => return placeholder(span),
    };
    for o in it {
        let rhs = build_operand(o, errors);
        let span = lhs.span.to(rhs.span);
        lhs = Expr {
            kind: ExprKind::Binary {
                op: BinOp::Concat,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        };
    }
    lhs
}

fn placeholder(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Str(String::new()),
        span,
    }
}

fn build_operand(p: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    let span = span_of(&p);
    match p.as_rule() {
        Rule::group => match p.into_inner().next() {
            // Parentheses produce no node; the printer adds them back where needed.
            Some(c) => build_comparison(c, errors),
            None => placeholder(span),
        },
        Rule::call => build_call(p, errors),
        Rule::attribute => {
            let s = p.as_str();
            let name = s.get(1..s.len().saturating_sub(1)).unwrap_or("");
            Expr {
                kind: ExprKind::Attr(name.to_owned()),
                span,
            }
        }
        Rule::string => Expr {
            kind: ExprKind::Str(unescape(p.as_str())),
            span,
        },
        Rule::integer => {
            let s = p.as_str();
            let kind = match s.strip_prefix("&H").or_else(|| s.strip_prefix("&h")) {
                // The 64-bit pattern is read as i64 (`&HFFFFFFFFFFFFFFFF` = -1); the pre-scan
                // already rejected more than 16 digits.
                Some(hex) => ExprKind::Int {
                    value: u64::from_str_radix(hex, 16).unwrap_or(0) as i64,
                    hex: true,
                },
                None => ExprKind::Int {
                    value: s.parse().unwrap_or(0),
                    hex: false,
                },
            };
            Expr { kind, span }
        }
        Rule::constant => {
            let name = p.as_str();
            match Constant::from_name(name) {
                Some(c) => Expr {
                    kind: ExprKind::Const(c),
                    span,
                },
                None => {
                    errors.push(unknown_identifier(name, span));
                    placeholder(span)
                }
            }
        }
        _ => placeholder(span),
    }
}

fn build_call(p: Pair<'_, Rule>, errors: &mut Vec<Diagnostic>) -> Expr {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let (name, name_span) = match it.next() {
        Some(n) => (n.as_str().to_owned(), span_of(&n)),
        None => return placeholder(span),
    };
    let mut args = Vec::new();
    if let Some(list) = it.next() {
        for a in list.into_inner() {
            let aspan = span_of(&a);
            let expr = a.into_inner().next().map(|c| build_comparison(c, errors));
            args.push(Arg { expr, span: aspan });
        }
    }
    // `F()` and `F( )` have zero arguments, not one empty one.
    if args.len() == 1 && args[0].expr.is_none() {
        args.clear();
    }
    Expr {
        kind: ExprKind::Call(Call {
            name,
            name_span,
            args,
        }),
        span,
    }
}

/// Resolves `\\` and `\"`; any other `\c` stays as the two characters (S3).
fn unescape(quoted: &str) -> String {
    let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some(e @ ('\\' | '"')) => out.push(e),
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Names from other dialects that get a specific hint.
const CONNECT_LITERALS: &[(&str, &str)] = &[
    (
        "NULL",
        "there is no Null literal in app provisioning; test with `IsNull(…)` or use `\"\"`",
    ),
    (
        "Nothing",
        "there is no Nothing literal in app provisioning; test with `IsNull(…)` or use `\"\"`",
    ),
    (
        "IgnoreThisFlow",
        "not available in app provisioning; wrap the value in `IgnoreFlowIfNullOrEmpty(…)`",
    ),
    (
        "AuthoritativeNull",
        "not available in app provisioning; wrap the value in `IgnoreFlowIfNullOrEmpty(…)`",
    ),
    (
        "CRLF",
        "not available in app provisioning; write the line break inside a string",
    ),
];

#[cold]
fn unknown_identifier(name: &str, span: Span) -> Diagnostic {
    let d = Diagnostic::error(
        ErrorCode::UnknownIdentifier,
        span,
        format!("unknown identifier `{name}`"),
    );
    if let Some((_, hint)) = CONNECT_LITERALS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        return d.with_help(*hint);
    }
    let known = ["vbTextCompare", "vbBinaryCompare", "True", "False"];
    if let Some(best) = crate::check::did_you_mean(name, known.iter().copied()) {
        return d
            .with_fix(span, best)
            .with_help(format!("did you mean `{best}`?"));
    }
    if crate::functions::lookup(name).is_some() {
        return d.with_help(format!("`{name}` is a function: call it with `{name}(…)`"));
    }
    d.with_help("a bare name must be `True`, `False`, `vbTextCompare` or `vbBinaryCompare`; quote text, bracket attributes (`[name]`)")
}

/// Turns a pest error into an `unexpected-token` diagnostic with readable token names.
#[cold]
fn pest_error(src: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let (found, span) = token_at(src, pos);
    let mut expected: Vec<&str> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut v: Vec<&str> = positives.iter().map(|r| rule_name(*r)).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    // pest names the rules it tried, not the literal `,` and `)` of an argument list: after
    // a complete operand inside an open call, those are what the author most likely missed.
    let inside_call = open_parens(src, pos) > 0;
    if inside_call && expected.contains(&"`&`") {
        expected.retain(|x| *x != "end of input");
        expected.insert(0, "`)`");
        expected.insert(0, "`,`");
    }
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&expected))
    };
    let mut d = Diagnostic::error(ErrorCode::UnexpectedToken, span, message);
    if found == "end of input" && src.matches('(').count() > src.matches(')').count() {
        d = d.with_help("a `)` is missing");
    } else if expected.contains(&"`,`") && expected.contains(&"`)`") {
        d = d.with_help("separate arguments with `,`");
    }
    d
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Readable names for grammar rules (pest's rule names never reach a message).
fn rule_name(r: Rule) -> &'static str {
    match r {
        Rule::expression | Rule::comparison | Rule::concat | Rule::arg | Rule::operand => {
            "an expression"
        }
        Rule::group => "`(`",
        Rule::call => "a function call",
        Rule::args => "an argument",
        Rule::attribute => "an attribute",
        Rule::string => "a string",
        Rule::integer => "an integer",
        Rule::constant | Rule::name => "a name",
        Rule::cmp_op => "a comparison operator",
        Rule::amp => "`&`",
        Rule::EOI => "end of input",
        Rule::WHITESPACE => "white space",
    }
}

/// The number of `(` not yet closed before `pos`, outside strings and attribute names.
fn open_parens(src: &str, pos: usize) -> usize {
    let mut depth = 0usize;
    let mut it = src.get(..pos).unwrap_or(src).chars();
    while let Some(c) = it.next() {
        match c {
            '"' => {
                while let Some(d) = it.next() {
                    match d {
                        '\\' => {
                            it.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '[' => {
                for d in it.by_ref() {
                    if d == ']' {
                        break;
                    }
                }
            }
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

/// Describes the token at `pos` and its span.
fn token_at(src: &str, pos: usize) -> (String, Span) {
    let rest = src.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return ("end of input".to_owned(), Span::new(src.len(), src.len()));
    };
    let len = match c {
        '"' => rest[1..].find('"').map_or(rest.len(), |k| k + 2),
        '[' => rest.find(']').map_or(rest.len(), |k| k + 1),
        c if c.is_ascii_alphanumeric() => rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count(),
        c => c.len_utf8(),
    };
    let text = &rest[..len.min(rest.len())];
    let shown = crate::value::truncate_for_message(text);
    (format!("`{shown}`"), Span::new(pos, pos + text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_code(src: &str) -> ErrorCode {
        match parse(src) {
            Ok(p) => panic!("expected an error for {src:?}, parsed {}", p.expr),
            Err(e) => e[0].code,
        }
    }

    #[test]
    fn round_trips_canonical_text() {
        for src in [
            "Replace([preferredLanguage], \"-\", , , \"_\", , )",
            "Mid([userPrincipalName], 1, 8)",
            "IIF([a] = \"x\", [b], [c])",
            "\"a\" & \"b\" = \"ab\"",
            "\"a\" & (\"b\" & \"c\")",
            "(\"a\" = \"b\") = \"c\"",
            "BitAnd(&HF, &HF7)",
            "Guid()",
            "F(, )",
            "InStr(\"a\", \"b\", , vbTextCompare)",
        ] {
            let p = parse(src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
            assert_eq!(p.expr.to_string(), src);
        }
    }

    #[test]
    fn canonical_casing_and_spacing() {
        let p = parse("instr( [x] ,\"/\",,)").unwrap();
        assert_eq!(p.expr.to_string(), "InStr([x], \"/\", , )");
    }

    #[test]
    fn syntax_error_codes() {
        assert_eq!(err_code("Join(\"a\", [b]"), ErrorCode::UnexpectedToken);
        assert_eq!(err_code("\"abc"), ErrorCode::UnterminatedString);
        assert_eq!(err_code("[abc"), ErrorCode::UnterminatedAttribute);
        assert_eq!(err_code("[]"), ErrorCode::EmptyAttributeName);
        assert_eq!(err_code("\u{201C}x\u{201D}"), ErrorCode::SmartQuote);
        assert_eq!(err_code("99999999999999999999"), ErrorCode::IntegerOverflow);
        assert_eq!(err_code("&H11112222333344445"), ErrorCode::IntegerOverflow);
        assert_eq!(err_code("[a] AND [b]"), ErrorCode::UnsupportedOperator);
        assert_eq!(err_code("[a] + [b]"), ErrorCode::UnsupportedOperator);
        assert_eq!(err_code("[a] == [b]"), ErrorCode::UnsupportedOperator);
        assert_eq!(err_code("[a] = [b] = [c]"), ErrorCode::ChainedComparison);
        assert_eq!(err_code("Nothing"), ErrorCode::UnknownIdentifier);
        assert_eq!(err_code("1.5"), ErrorCode::UnexpectedToken);
        assert_eq!(err_code("[a] [b]"), ErrorCode::UnexpectedToken);
        assert_eq!(err_code("\u{a0}[a]"), ErrorCode::UnexpectedToken);
        assert_eq!(err_code(""), ErrorCode::UnexpectedToken);
    }

    #[test]
    fn hex_and_negative_integers() {
        let e = parse("&HFFFFFFFFFFFFFFFF").unwrap().expr;
        assert_eq!(
            e.kind,
            ExprKind::Int {
                value: -1,
                hex: true
            }
        );
        let e = parse("-42").unwrap().expr;
        assert_eq!(
            e.kind,
            ExprKind::Int {
                value: -42,
                hex: false
            }
        );
        // After an operand `&` concatenates: `[a]&HF` reads the identifier `HF`.
        assert_eq!(err_code("[a]&HF"), ErrorCode::UnknownIdentifier);
    }

    #[test]
    fn escapes() {
        let p = parse(r#""a\"b\\c\d""#).unwrap();
        assert_eq!(p.expr.kind, ExprKind::Str("a\"b\\c\\d".to_owned()));
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].code, ErrorCode::UnknownEscape);
    }

    #[test]
    fn depth_limit_before_recursion() {
        let deep = format!("{}[a]{}", "F(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(err_code(&deep), ErrorCode::NestingTooDeep);
        let huge = format!("{}[a]{}", "Trim(".repeat(50_000), ")".repeat(50_000));
        assert_eq!(err_code(&huge), ErrorCode::ExpressionTooLong);
        // The deepest accepted input parses on a 2 MiB thread in a debug build.
        let ok = format!("{}[a]{}", "Trim((".repeat(50), "))".repeat(50));
        let t = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || parse(&ok).is_ok());
        assert!(t.unwrap().join().unwrap());
        let ok = format!("{}[a]{}", "Trim(".repeat(100), ")".repeat(100));
        assert!(parse(&ok).is_ok());
        let over = format!("{}[a]{}", "Trim(".repeat(101), ")".repeat(101));
        assert_eq!(err_code(&over), ErrorCode::NestingTooDeep);
    }
}
