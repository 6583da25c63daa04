//! Diagnostics (errors, warnings, hints) and their rustc-style rendering.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::ErrorCode;
use crate::syntax::Span;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never blocks.
    Hint,
    /// Entra may behave differently or reject it; does not block compilation.
    Warning,
    /// Blocks compilation.
    Error,
}

/// A machine-applicable fix: replace `span` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What to replace.
    #[serde(serialize_with = "ser_span")]
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

/// One finding of the parser or the checker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code.
    #[serde(serialize_with = "ser_code")]
    pub code: ErrorCode,
    /// Error, warning or hint.
    pub severity: Severity,
    /// Byte span in the source.
    #[serde(serialize_with = "ser_span")]
    pub span: Span,
    /// A lowercase phrase with backticked inputs.
    pub message: String,
    /// A suggestion in words ("did you mean `ToLower`?").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// A machine-applicable fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

fn ser_span<S: serde::Serializer>(span: &Span, s: S) -> Result<S::Ok, S::Error> {
    [span.start, span.end].serialize(s)
}

fn ser_code<S: serde::Serializer>(code: &ErrorCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.as_str())
}

impl Diagnostic {
    /// An error.
    #[cold]
    pub fn error(code: ErrorCode, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            span,
            message: message.into(),
            help: None,
            fix: None,
        }
    }

    /// A warning.
    #[cold]
    pub fn warning(code: ErrorCode, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Warning,
            span,
            message: message.into(),
            help: None,
            fix: None,
        }
    }

    /// A hint.
    #[cold]
    pub fn hint(code: ErrorCode, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Hint,
            span,
            message: message.into(),
            help: None,
            fix: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a machine-applicable fix (and, when there is no help yet, a help line showing it).
    pub fn with_fix(mut self, span: Span, replacement: impl Into<String>) -> Diagnostic {
        let replacement = replacement.into();
        if self.help.is_none() {
            self.help = Some(format!("replace with `{replacement}`"));
        }
        self.fix = Some(Fix { span, replacement });
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic like rustc: header, location, the source line and a caret
    /// line under the span, then the help.
    pub fn render(&self, source: &str, origin: &str) -> String {
        let mut out = String::new();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Hint => "hint",
        };
        let _ = writeln!(out, "{sev}[{}]: {}", self.code, self.message);
        let (line_no, col, line_text, caret_start, caret_len) = locate(source, self.span);
        let gutter = line_no.to_string().len();
        let _ = writeln!(out, "{:gutter$}--> {origin}:{line_no}:{col}", "");
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{line_no} | {line_text}");
        let _ = writeln!(
            out,
            "{:gutter$} | {}{}",
            "",
            " ".repeat(caret_start),
            "^".repeat(caret_len.max(1))
        );
        if let Some(h) = &self.help {
            let _ = writeln!(out, "{:gutter$} = help: {h}", "");
        }
        out
    }
}

/// Line (1-based), column (1-based, in characters), the line's text (shortened around the
/// span when very long), and the caret's offset and width in characters within that text.
fn locate(source: &str, span: Span) -> (usize, usize, String, usize, usize) {
    let start = clamp_boundary(source, span.start as usize);
    let end = clamp_boundary(source, (span.end as usize).max(start));
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    let line_no = source[..start].matches('\n').count() + 1;
    let line = &source[line_start..line_end];
    let col_chars = source[line_start..start].chars().count();
    let span_chars = source[start..end.min(line_end)].chars().count();
    // Keep the rendered line readable: at most 60 characters of context on each side.
    const CONTEXT: usize = 60;
    let skip = col_chars.saturating_sub(CONTEXT);
    let take = CONTEXT + span_chars.min(200) + CONTEXT;
    let mut text: String = line.chars().skip(skip).take(take).map(printable).collect();
    let mut caret_start = col_chars - skip;
    if skip > 0 {
        text.insert(0, '…');
        caret_start += 1;
    }
    if line.chars().count() > skip + take {
        text.push('…');
    }
    (
        line_no,
        col_chars + 1,
        text,
        caret_start,
        span_chars.min(200),
    )
}

fn printable(c: char) -> char {
    if c == '\t' || c.is_control() { ' ' } else { c }
}

fn clamp_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// True when any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
