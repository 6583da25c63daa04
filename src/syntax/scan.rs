//! The pre-scan: one linear pass over the source before pest runs.
//!
//! It enforces the length, depth and argument-count limits without recursion (so a
//! 50,000-deep input is rejected before any recursive parser sees it) and reports the lexical
//! mistakes that deserve a specific code and message: unterminated strings and attributes,
//! smart quotes, unsupported operators, decimal numbers, integer overflow, stray characters.
//! It also collects the `unknown-escape` warnings.

use crate::context::Limits;
use crate::diagnostic::Diagnostic;
use crate::error::ErrorCode;

use super::Span;

/// Scans `src`; returns warnings, or every error found (the scan goes on after most errors).
pub fn scan(src: &str, limits: &Limits) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();

    let utf16_len = src.encode_utf16().count();
    if utf16_len > limits.max_expression_len {
        errors.push(
            Diagnostic::error(
                ErrorCode::ExpressionTooLong,
                Span::new(0, src.len()),
                format!(
                    "the expression is {utf16_len} characters long; the limit is {}",
                    limits.max_expression_len
                ),
            )
            .with_help("split the logic across several attribute mappings"),
        );
        return Err(errors);
    }
    if utf16_len > limits.warn_expression_len {
        warnings.push(Diagnostic::warning(
            ErrorCode::LengthOver10000,
            Span::new(0, src.len()),
            format!(
                "the expression is {utf16_len} characters long; Entra rejects expressions over {} characters",
                limits.warn_expression_len
            ),
        ));
    }

    let bytes = src.as_bytes();
    let mut i = 0usize;
    // Argument counters of the open parentheses (commas seen so far), innermost last.
    let mut open: Vec<(usize, usize)> = Vec::new();
    // True when the previous token ended an operand (so `&` concatenates, `-` subtracts).
    let mut after_operand = false;

    while i < bytes.len() {
        let c = match src[i..].chars().next() {
            Some(c) => c,
            None => break,
        };
        let len = c.len_utf8();
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                i += 1;
                continue;
            }
            '"' => {
                match scan_string(src, i, &mut warnings) {
                    Some(end) => i = end,
                    None => {
                        errors.push(
                            Diagnostic::error(
                                ErrorCode::UnterminatedString,
                                Span::new(i, src.len()),
                                "unterminated string constant",
                            )
                            .with_help(
                                "add the closing `\"`; write `\\\"` for a quote inside a string",
                            ),
                        );
                        return Err(errors);
                    }
                }
                after_operand = true;
                continue;
            }
            '[' => {
                let rest = &src[i + 1..];
                let stop = rest.find([']', '\r', '\n']);
                match stop {
                    Some(k) if rest.as_bytes().get(k) == Some(&b']') => {
                        if k == 0 {
                            errors.push(Diagnostic::error(
                                ErrorCode::EmptyAttributeName,
                                Span::new(i, i + 2),
                                "empty attribute name `[]`",
                            ));
                        }
                        i += k + 2;
                    }
                    _ => {
                        let end = i + 1 + stop.unwrap_or(rest.len());
                        errors.push(
                            Diagnostic::error(
                                ErrorCode::UnterminatedAttribute,
                                Span::new(i, end),
                                "unterminated attribute reference",
                            )
                            .with_help("add the closing `]` (attribute names cannot contain `]` or line breaks)"),
                        );
                        i = end;
                    }
                }
                after_operand = true;
                continue;
            }
            '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}' => {
                errors.push(
                    Diagnostic::error(
                        ErrorCode::SmartQuote,
                        Span::new(i, i + len),
                        format!("curly quote `{c}`"),
                    )
                    .with_help("replace curly quotes with straight double quotes `\"`"),
                );
                i += len;
                continue;
            }
            '(' => {
                if open.len() >= limits.max_depth {
                    errors.push(Diagnostic::error(
                        ErrorCode::NestingTooDeep,
                        Span::new(i, i + 1),
                        format!("nesting deeper than {} levels", limits.max_depth),
                    ));
                    return Err(errors);
                }
                open.push((i, 0));
                after_operand = false;
            }
            ')' => {
                open.pop();
                after_operand = true;
            }
            ',' => {
                if let Some((pos, commas)) = open.last_mut() {
                    *commas += 1;
                    if *commas + 1 > limits.max_args {
                        errors.push(Diagnostic::error(
                            ErrorCode::TooManyArguments,
                            Span::new(*pos, i + 1),
                            format!("more than {} arguments in one call", limits.max_args),
                        ));
                        return Err(errors);
                    }
                }
                after_operand = false;
            }
            '=' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    errors.push(
                        Diagnostic::error(
                            ErrorCode::UnsupportedOperator,
                            Span::new(i, i + 2),
                            "unsupported operator `==`",
                        )
                        .with_fix(Span::new(i, i + 2), "="),
                    );
                    i += 2;
                    after_operand = false;
                    continue;
                }
                after_operand = false;
            }
            '<' | '>' => {
                let next = bytes.get(i + 1).copied();
                if next == Some(b'=') || (c == '<' && next == Some(b'>')) {
                    i += 1;
                }
                after_operand = false;
            }
            '!' => {
                let (span, msg) = if bytes.get(i + 1) == Some(&b'=') {
                    (Span::new(i, i + 2), "unsupported operator `!=`")
                } else {
                    (Span::new(i, i + 1), "unsupported operator `!`")
                };
                let mut d = Diagnostic::error(ErrorCode::UnsupportedOperator, span, msg);
                d = if span.end - span.start == 2 {
                    d.with_fix(span, "<>")
                } else {
                    d.with_help("negate with `Not(…)`")
                };
                errors.push(d);
                i = span.end as usize;
                after_operand = false;
                continue;
            }
            '&' => {
                let next = bytes.get(i + 1).copied();
                if next == Some(b'&') {
                    errors.push(
                        Diagnostic::error(ErrorCode::UnsupportedOperator, Span::new(i, i + 2), "unsupported operator `&&`")
                            .with_help("there is no AND: nest `IIF` on the true branch, `IIF(a, IIF(b, x, y), y)`"),
                    );
                    i += 2;
                    after_operand = false;
                    continue;
                }
                if !after_operand && matches!(next, Some(b'H') | Some(b'h')) {
                    let digits = bytes[i + 2..]
                        .iter()
                        .take_while(|b| b.is_ascii_hexdigit())
                        .count();
                    if digits > 16 {
                        errors.push(Diagnostic::error(
                            ErrorCode::IntegerOverflow,
                            Span::new(i, i + 2 + digits),
                            "hex literal longer than 16 digits does not fit 64 bits",
                        ));
                    }
                    if digits > 0 {
                        i += 2 + digits;
                        after_operand = true;
                        continue;
                    }
                }
                after_operand = false;
            }
            '|' => {
                let w = if bytes.get(i + 1) == Some(&b'|') {
                    2
                } else {
                    1
                };
                errors.push(
                    Diagnostic::error(
                        ErrorCode::UnsupportedOperator,
                        Span::new(i, i + w),
                        format!("unsupported operator `{}`", &src[i..i + w]),
                    )
                    .with_help(
                        "there is no OR: nest `IIF` on the false branch, `IIF(a, x, IIF(b, x, y))`",
                    ),
                );
                i += w;
                after_operand = false;
                continue;
            }
            '+' | '*' | '/' => {
                let help = if c == '+' {
                    "concatenate with `Join(\"\", a, b)` or `&`"
                } else {
                    "there is no arithmetic in this language"
                };
                errors.push(
                    Diagnostic::error(
                        ErrorCode::UnsupportedOperator,
                        Span::new(i, i + 1),
                        format!("unsupported operator `{c}`"),
                    )
                    .with_help(help),
                );
                after_operand = false;
            }
            '-' => {
                let digit_follows = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if after_operand || !digit_follows {
                    errors.push(
                        Diagnostic::error(ErrorCode::UnsupportedOperator, Span::new(i, i + 1), "unsupported operator `-`")
                            .with_help("there is no arithmetic; a negative number is written `-5` with no space"),
                    );
                    i += 1;
                    after_operand = false;
                    continue;
                }
                i = scan_number(src, i, &mut errors);
                after_operand = true;
                continue;
            }
            '0'..='9' => {
                i = scan_number(src, i, &mut errors);
                after_operand = true;
                continue;
            }
            c if c.is_ascii_alphabetic() => {
                let end = i + bytes[i..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let word = &src[i..end];
                if after_operand
                    && (word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or"))
                {
                    let help = if word.eq_ignore_ascii_case("and") {
                        "there is no AND: nest `IIF` on the true branch, `IIF(a, IIF(b, x, y), y)`"
                    } else {
                        "there is no OR: nest `IIF` on the false branch, `IIF(a, x, IIF(b, x, y))`"
                    };
                    errors.push(
                        Diagnostic::error(
                            ErrorCode::UnsupportedOperator,
                            Span::new(i, end),
                            format!("unsupported operator `{word}`"),
                        )
                        .with_help(help),
                    );
                    after_operand = false;
                } else {
                    after_operand = true;
                }
                i = end;
                continue;
            }
            other => {
                let what = if other.is_whitespace() {
                    format!("unexpected white space character U+{:04X}", other as u32)
                } else {
                    format!("unexpected character `{}`", other.escape_debug())
                };
                errors.push(Diagnostic::error(
                    ErrorCode::UnexpectedToken,
                    Span::new(i, i + len),
                    what,
                ));
                i += len;
                continue;
            }
        }
        i += len;
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(errors)
    }
}

/// Scans a string starting at the `"` at `start`; returns the offset after the closing quote,
/// or `None` when it is unterminated. Records `unknown-escape` warnings.
fn scan_string(src: &str, start: usize, warnings: &mut Vec<Diagnostic>) -> Option<usize> {
    let mut it = src[start + 1..].char_indices();
    while let Some((k, c)) = it.next() {
        match c {
            '"' => return Some(start + 1 + k + 1),
            '\\' => {
                let (_, e) = it.next()?;
                if e != '\\' && e != '"' {
                    let at = start + 1 + k;
                    let span = Span::new(at, at + 1 + e.len_utf8());
                    warnings.push(
                        Diagnostic::warning(
                            ErrorCode::UnknownEscape,
                            span,
                            format!(
                                "`\\{e}` is not an escape; it is kept as the two characters `\\{e}`"
                            ),
                        )
                        .with_fix(span, format!("\\\\{e}"))
                        .with_help(format!("write `\\\\{e}` to make the backslash explicit")),
                    );
                }
            }
            _ => {}
        }
    }
    None
}

/// Scans `-?digits`; reports decimals and overflow. Returns the offset after the number.
fn scan_number(src: &str, start: usize, errors: &mut Vec<Diagnostic>) -> usize {
    let bytes = src.as_bytes();
    let mut i = start;
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    i += bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let end = i
            + 1
            + bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        errors.push(
            Diagnostic::error(
                ErrorCode::UnexpectedToken,
                Span::new(start, end),
                format!("decimal number `{}`", &src[start..end]),
            )
            .with_help("there are no decimal numbers; quote it to use it as text")
            .with_fix(Span::new(start, end), format!("\"{}\"", &src[start..end])),
        );
        return end;
    }
    if src[start..i].parse::<i64>().is_err() {
        errors.push(Diagnostic::error(
            ErrorCode::IntegerOverflow,
            Span::new(start, i),
            format!("integer `{}` does not fit 64 bits", &src[start..i]),
        ));
    }
    i
}
