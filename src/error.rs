//! Error codes and the run-time error type.
//!
//! Every diagnostic and every evaluation error carries one stable kebab-case [`ErrorCode`]
//! (spec §2.3). Codes are data: tests, the CLI's JSON output and admins' scripts match on
//! them, so a code is never renamed.

use std::fmt;

use crate::syntax::Span;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// A stable diagnostic or error code (spec §2.3 and §6).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The kebab-case spelling used in output and case files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $text, )*
                }
            }

            /// Parses the kebab-case spelling.
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name {
                    $( $text => Some(ErrorCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    // --- syntax ---
    /// A token that cannot stand here.
    UnexpectedToken = "unexpected-token",
    /// A string constant without its closing quote.
    UnterminatedString = "unterminated-string",
    /// An attribute reference without its closing bracket.
    UnterminatedAttribute = "unterminated-attribute",
    /// `[]`.
    EmptyAttributeName = "empty-attribute-name",
    /// Curly quotes where a token starts.
    SmartQuote = "smart-quote",
    /// An integer literal that does not fit i64.
    IntegerOverflow = "integer-overflow",
    /// `AND`, `OR`, `+`, `==` and friends.
    UnsupportedOperator = "unsupported-operator",
    /// `a = b = c`.
    ChainedComparison = "chained-comparison",
    /// A bare name that is not a known constant.
    UnknownIdentifier = "unknown-identifier",
    /// Longer than the hard length limit.
    ExpressionTooLong = "expression-too-long",
    /// More open parentheses at once than the depth limit.
    NestingTooDeep = "nesting-too-deep",
    /// More arguments in one call than the limit.
    TooManyArguments = "too-many-arguments",
    // --- check ---
    /// A function name nobody knows.
    UnknownFunction = "unknown-function",
    /// A function of another dialect.
    UnsupportedFunction = "unsupported-function",
    /// A function of this dialect that this build cannot evaluate yet.
    NotYetSupported = "not-yet-supported",
    /// Too few or too many arguments.
    WrongArgumentCount = "wrong-argument-count",
    /// An empty slot where an argument is required.
    EmptyRequiredArg = "empty-required-arg",
    /// A value of the wrong type.
    TypeMismatch = "type-mismatch",
    /// A multi-valued value where one value is expected.
    MultiValuedArgument = "multi-valued-argument",
    /// Switch with a key but no value.
    SwitchUnpaired = "switch-unpaired",
    /// Replace with a combination of slots that selects no mode.
    ReplaceMode = "replace-mode",
    /// A regular expression that does not compile.
    InvalidRegex = "invalid-regex",
    /// A .NET regex construct the engine cannot run.
    DotnetOnlyRegex = "dotnet-only-regex",
    /// A regex group name that the pattern does not define.
    UnknownRegexGroup = "unknown-regex-group",
    /// A malformed date format string.
    InvalidFormat = "invalid-format",
    /// A malformed DateTimeStyles value.
    InvalidDatetimeStyles = "invalid-datetime-styles",
    /// An unknown DateAdd/DateDiff interval.
    InvalidInterval = "invalid-interval",
    /// A malformed culture name.
    InvalidCulture = "invalid-culture",
    /// A compare type other than binary/text.
    InvalidCompareType = "invalid-compare-type",
    /// SelectUniqueValue nested in a call.
    SelectuniquevalueNotTopLevel = "selectuniquevalue-not-top-level",
    /// An attribute the schema does not define.
    UnknownAttribute = "unknown-attribute",
    // --- run time ---
    /// Text that is not a date.
    InvalidDate = "invalid-date",
    /// A date outside 0001..9999 or a FILETIME outside its range.
    DateOutOfRange = "date-out-of-range",
    /// Text or Null where an integer is needed.
    InvalidInteger = "invalid-integer",
    /// A start position below 1.
    InvalidStart = "invalid-start",
    /// An IIF condition that is not a Boolean.
    InvalidCondition = "invalid-condition",
    /// A value CBool cannot convert.
    InvalidCast = "invalid-cast",
    /// More than one app role assignment.
    MultipleAppRoleAssignments = "multiple-app-role-assignments",
    /// Every SelectUniqueValue candidate is taken.
    NoUniqueValue = "no-unique-value",
    /// RandomString constraints that cannot be met.
    RandomStringSpec = "random-string-spec",
    /// A record value mapexpr cannot represent.
    InvalidInput = "invalid-input",
    /// A step, size or output budget was exceeded.
    LimitExceeded = "limit-exceeded",
    // --- lints (warnings and hints) ---
    /// See spec §6.
    EagerBranch = "eager-branch",
    /// See spec §6.
    IifNullCondition = "iif-null-condition",
    /// See spec §6.
    UnknownEscape = "unknown-escape",
    /// See spec §6.
    AttributeCaseMismatch = "attribute-case-mismatch",
    /// See spec §6.
    ItemIndexZero = "item-index-zero",
    /// See spec §6.
    LengthOver10000 = "length-over-10000",
    /// See spec §6.
    SwitchPredicateSource = "switch-predicate-source",
    /// See spec §6.
    SwitchReferenceAttribute = "switch-reference-attribute",
    /// See spec §6.
    AmpersandOperator = "ampersand-operator",
    /// See spec §6.
    UndocumentedFunction = "undocumented-function",
    /// See spec §6.
    FunctionNameCase = "function-name-case",
    /// See spec §6.
    ComparisonOutsideCondition = "comparison-outside-condition",
    /// See spec §6.
    CoalesceEmptyString = "coalesce-empty-string",
    /// See spec §6.
    DatetimeSourceFormat = "datetime-source-format",
    /// See spec §6.
    IgnoreflowNotTopLevel = "ignoreflow-not-top-level",
    /// See spec §6.
    ReplacementAttributeLiteral = "replacement-attribute-literal",
    /// See spec §6.
    AlwaysFails = "always-fails",
    /// See spec §6.
    RandomstringNotRedacted = "randomstring-not-redacted",
    /// See spec §6.
    SelectuniquevalueDiacritics = "selectuniquevalue-diacritics",
    /// See spec §6 (validate only).
    SelectuniquevalueMatchingAttribute = "selectuniquevalue-matching-attribute",
    /// See spec §6 (validate only).
    SelectuniquevalueFlowType = "selectuniquevalue-flow-type",
    /// See spec §6 (validate only).
    UnknownTargetAttribute = "unknown-target-attribute",
    /// See spec §6 (validate only).
    MultiValuedTarget = "multi-valued-target",
    /// See spec §6 (validate only).
    TreeMismatch = "tree-mismatch",
    /// See spec §6 (validate only).
    SchemaIncomplete = "schema-incomplete",
    /// A constant mapping without a default value (validate only).
    MissingDefaultValue = "missing-default-value",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error raised by a function body, before the VM attaches the span of the call.
///
/// Kept small and built only on the cold path: the hot path returns `Ok`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FnError {
    /// The stable code.
    pub code: ErrorCode,
    /// A lowercase phrase with backticked inputs.
    pub message: String,
}

impl FnError {
    /// Builds an error; `#[cold]` keeps message formatting off the hot path.
    #[cold]
    pub fn new(code: ErrorCode, message: impl Into<String>) -> FnError {
        FnError {
            code,
            message: message.into(),
        }
    }
}

/// An evaluation error: a [`FnError`] located at the call that raised it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct EvalError {
    /// The stable code.
    pub code: ErrorCode,
    /// A lowercase phrase with backticked inputs.
    pub message: String,
    /// Byte span of the failing call in the source text.
    pub span: Span,
}

impl EvalError {
    /// Locates a function error at `span`.
    #[cold]
    pub fn at(err: FnError, span: Span) -> EvalError {
        EvalError {
            code: err.code,
            message: err.message,
            span,
        }
    }
}
