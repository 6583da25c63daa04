//! The type checker: arity, slot types, the multi-valued rule, static validation of constant
//! arguments (through each function's `prepare`), constant folding of pure calls, schema
//! lookups and the lints of spec §6. It reports every problem in one pass.
//!
//! Invariant: after `check` reports no error, the compiler never meets an unknown function,
//! a wrong arity, an empty required slot or an invalid constant argument.

mod schema;

use crate::context::Limits;
use crate::diagnostic::Diagnostic;
use crate::error::ErrorCode;
use crate::functions::{self, Arity, ConstArgs, Doc, FnSpec, Imp, LazyKind, ParamKind, Returns};
use crate::syntax::Span;
use crate::syntax::ast::{BinOp, Call, Constant, Expr, ExprKind};
use crate::value::Value;

pub use schema::{AttrDef, Schema};

/// Static types (spec §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Text.
    Str,
    /// Boolean.
    Bool,
    /// Integer.
    Int,
    /// DateTime.
    Date,
    /// Multi-valued.
    Multi,
    /// Always Null.
    Null,
    /// Unknown (an attribute without schema, a pass-through).
    Any,
    /// `vbTextCompare` / `vbBinaryCompare`.
    Enum,
}

impl Ty {
    fn join(self, other: Ty) -> Ty {
        match (self, other) {
            (a, b) if a == b => a,
            (Ty::Null, b) => b,
            (a, Ty::Null) => a,
            _ => Ty::Any,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Str => "String",
            Ty::Bool => "Boolean",
            Ty::Int => "Integer",
            Ty::Date => "DateTime",
            Ty::Multi => "multi-valued",
            Ty::Null => "Null",
            Ty::Any => "any",
            Ty::Enum => "compare type",
        }
    }
}

/// Options of a check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions<'s> {
    /// The source object's attributes; enables `unknown-attribute` and case checks.
    pub schema: Option<&'s Schema>,
    /// Limits (also used by constant folding).
    pub limits: Limits,
}

/// The result of checking an expression.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The static type of the whole expression.
    pub ty: Ty,
    /// Every error, warning and hint, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        crate::diagnostic::has_errors(&self.diagnostics)
    }
}

/// Checks a parsed expression.
pub fn check(expr: &Expr, opts: &CheckOptions<'_>) -> Checked {
    let mut c = Checker {
        opts,
        diags: Vec::new(),
    };
    let info = c.expr(expr, Ctx::default());
    let mut diagnostics = c.diags;
    diagnostics.sort_by_key(|d| (d.span.start, std::cmp::Reverse(d.severity)));
    Checked {
        ty: info.ty,
        diagnostics,
    }
}

/// Where a node stands.
#[derive(Clone, Copy, Default)]
struct Ctx {
    /// Inside a lazily evaluated position (IIF branch, Switch key/value, later Coalesce or
    /// SelectUniqueValue argument): a failing constant is `always-fails`, not an error.
    lazy: bool,
    /// Inside an IIF condition or a CBool argument (comparisons are documented there).
    condition: bool,
    /// Inside Redact.
    redacted: bool,
    /// Number of enclosing calls and operators.
    depth: u32,
    /// The left operand of a `&` (so the `ampersand-operator` lint fires once per chain).
    concat_child: bool,
}

impl Ctx {
    fn nested(self) -> Ctx {
        Ctx {
            depth: self.depth + 1,
            concat_child: false,
            ..self
        }
    }
}

/// What the checker knows about a node.
struct Info {
    ty: Ty,
    /// The value, when the node is a constant or a folded pure call.
    konst: Option<Value<'static>>,
    /// An error was reported in this subtree.
    failed: bool,
}

impl Info {
    fn of(ty: Ty) -> Info {
        Info {
            ty,
            konst: None,
            failed: false,
        }
    }
    fn konst(v: Value<'static>) -> Info {
        let ty = match &v {
            Value::Null => Ty::Null,
            Value::Str(_) => Ty::Str,
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Date(_) => Ty::Date,
            Value::Multi(_) => Ty::Multi,
            Value::Role(_) => Ty::Any,
        };
        Info {
            ty,
            konst: Some(v),
            failed: false,
        }
    }
    fn failed(ty: Ty) -> Info {
        Info {
            ty,
            konst: None,
            failed: true,
        }
    }
}

struct Checker<'o, 's> {
    opts: &'o CheckOptions<'s>,
    diags: Vec<Diagnostic>,
}

/// Functions of other dialects, with the app-provisioning equivalent where one exists.
const OTHER_DIALECT: &[(&str, &str)] = &[
    ("LCase", "use `ToLower(…)`"),
    ("UCase", "use `ToUpper(…)`"),
    ("Right", "there is no Right; combine `Mid(…)` with `Len(…)`"),
    ("LTrim", "use `Trim(…)`"),
    ("RTrim", "use `Trim(…)`"),
    (
        "Error",
        "raise no errors from expressions; use `IgnoreFlowIfNullOrEmpty(…)` to skip a value",
    ),
    ("DNComponent", "not available in app provisioning"),
    ("EscapeDNComponent", "not available in app provisioning"),
    ("ConvertFromBase64", "not available in app provisioning"),
    ("ConvertFromUTF8Hex", "not available in app provisioning"),
    ("StringFromSid", "not available in app provisioning"),
    ("StringFromGuid", "not available in app provisioning"),
    ("CGuid", "not available in app provisioning"),
    (
        "CNum",
        "not available in app provisioning; integer text is accepted where integers are",
    ),
    ("CRef", "not available in app provisioning"),
    ("IsBitSet", "use `BitAnd(…)` and compare the result"),
    ("BitOr", "not available in app provisioning"),
    ("Contains", "use `InStr(…) > 0`"),
    ("IsDate", "not available in app provisioning"),
    ("IsEmpty", "use `IsNullOrEmpty(…)`"),
    ("IsNothing", "use `IsNull(…)`"),
    ("IsGuid", "not available in app provisioning"),
    ("IsNumber", "not available in app provisioning"),
    ("IsRef", "not available in app provisioning"),
    ("PadLeft", "not available in app provisioning"),
    ("PadRight", "not available in app provisioning"),
    ("RandomNum", "use `RandomString(…)`"),
    ("ReplaceChars", "use `Replace(…)`"),
    ("Select", "not available in app provisioning"),
    ("Where", "not available in app provisioning"),
    (
        "DefaultDomain",
        "seen only in Graph's function list; not usable in mappings",
    ),
    (
        "AppRoleAssignments",
        "use `AppRoleAssignmentsComplex([appRoleAssignments])` or `SingleAppRoleAssignment(…)`",
    ),
    (
        "AssertiveAppRoleAssignmentsComplex",
        "use `AppRoleAssignmentsComplex([appRoleAssignments])`",
    ),
    (
        "Prepend",
        "use `Join(\"\", prefix, value)` or `Append(prefix, value)`",
    ),
    ("Concat", "use `Join(\"\", a, b)`"),
    ("Substring", "use `Mid(source, start, length)`"),
];

/// Calls whose presence in an IIF branch makes Entra fail even when that branch is not chosen.
const EAGER_FAILERS: &[&str] = &[
    "FormatDateTime",
    "CDate",
    "NumFromDate",
    "DateAdd",
    "DateDiff",
    "DateFromNum",
    "Item",
];

impl Checker<'_, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn expr(&mut self, e: &Expr, ctx: Ctx) -> Info {
        match &e.kind {
            ExprKind::Str(s) => Info::konst(Value::string(s.clone())),
            ExprKind::Int { value, .. } => Info::konst(Value::Int(*value)),
            ExprKind::Const(Constant::True) => Info::konst(Value::Bool(true)),
            ExprKind::Const(Constant::False) => Info::konst(Value::Bool(false)),
            ExprKind::Const(_) => Info::of(Ty::Enum),
            ExprKind::Attr(name) => self.attr(name, e.span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(e, *op, lhs, rhs, ctx),
            ExprKind::Call(call) => self.call(e, call, ctx),
        }
    }

    fn attr(&mut self, name: &str, span: Span) -> Info {
        let Some(schema) = self.opts.schema else {
            return Info::of(Ty::Any);
        };
        if let Some(def) = schema.get(name) {
            return Info::of(def.ty);
        }
        if let Some(other) = schema.find_case_insensitive(name) {
            let other = other.to_owned();
            self.push(
                Diagnostic::warning(
                    ErrorCode::AttributeCaseMismatch,
                    span,
                    format!("attribute names are case-sensitive: `[{name}]` is not defined, `[{other}]` is"),
                )
                .with_fix(span, format!("[{other}]"))
                .with_help(format!("did you mean `[{other}]`? (Entra rejects the mapping: SchemaInvalid)")),
            );
            return Info::of(Ty::Null);
        }
        let mut d = Diagnostic::error(
            ErrorCode::UnknownAttribute,
            span,
            format!("attribute `[{name}]` is not defined on the source object"),
        );
        if let Some(best) = did_you_mean(name, schema.names()) {
            d = d
                .with_fix(span, format!("[{best}]"))
                .with_help(format!("did you mean `[{best}]`?"));
        }
        self.push(d);
        Info::failed(Ty::Any)
    }

    fn binary(&mut self, e: &Expr, op: BinOp, lhs: &Expr, rhs: &Expr, ctx: Ctx) -> Info {
        if op == BinOp::Concat {
            return self.concat(e, ctx);
        }
        let inner = ctx.nested();
        let l = self.expr(lhs, inner);
        let r = self.expr(rhs, inner);
        let failed = l.failed || r.failed;
        for (side, info) in [(lhs, &l), (rhs, &r)] {
            match info.ty {
                Ty::Multi => self.push(
                    Diagnostic::error(
                        ErrorCode::MultiValuedArgument,
                        side.span,
                        format!(
                            "`{}` needs single values; this operand is multi-valued",
                            op.as_str()
                        ),
                    )
                    .with_help("pick one value with `Item(…, 1)` or combine them with `Join(…)`"),
                ),
                Ty::Enum => self.push(enum_misplaced(side.span)),
                _ => {}
            }
        }
        if !ctx.condition {
            self.push(
                Diagnostic::hint(
                    ErrorCode::ComparisonOutsideCondition,
                    e.span,
                    "Microsoft documents comparisons only in IIF conditions",
                )
                .with_help("wrap it in `CBool(…)` or use it as an `IIF` condition"),
            );
        }
        // `&` chains are checked by `concat`: only comparisons reach here.
        let ty = Ty::Bool;
        if failed {
            return Info::failed(ty);
        }
        if let (Some(a), Some(b)) = (&l.konst, &r.konst) {
            // The VM's own operator, so folding and evaluation agree by construction.
            let folded = crate::compile::binary(op, a, b).map(Value::into_owned);
            return match folded {
                Ok(v) => Info::konst(v),
                Err(err) => {
                    self.fold_failure(err.code, err.message, e.span, ctx);
                    Info::failed(ty)
                }
            };
        }
        Info::of(ty)
    }

    fn fold_failure(&mut self, code: ErrorCode, message: String, span: Span, ctx: Ctx) {
        if ctx.lazy {
            self.push(
                Diagnostic::warning(
                    ErrorCode::AlwaysFails,
                    span,
                    format!("this always fails when evaluated: {code}: {message}"),
                )
                .with_help("the branch holding it can never succeed"),
            );
        } else {
            self.push(Diagnostic::error(code, span, message));
        }
    }

    fn call(&mut self, e: &Expr, call: &Call, ctx: Ctx) -> Info {
        let Some(spec) = functions::lookup(&call.name) else {
            return self.unknown_call(call, ctx);
        };
        if spec.name != call.name {
            self.push(
                Diagnostic::hint(
                    ErrorCode::FunctionNameCase,
                    call.name_span,
                    format!(
                        "function names are case-insensitive, but the canonical spelling is `{}`",
                        spec.name
                    ),
                )
                .with_fix(call.name_span, spec.name),
            );
        }
        if spec.doc == Doc::Undocumented {
            self.push(
                Diagnostic::warning(
                    ErrorCode::UndocumentedFunction,
                    call.name_span,
                    format!(
                        "`{}` is not in the app-provisioning reference; Entra may reject it",
                        spec.name
                    ),
                )
                .with_help("it is documented for Entra cloud sync"),
            );
        }
        let mut failed = false;
        if let Imp::NotYet = spec.imp {
            self.push(Diagnostic::error(
                ErrorCode::NotYetSupported,
                call.name_span,
                format!(
                    "`{}` is not supported by this build of mapexpr yet",
                    spec.name
                ),
            ));
            failed = true;
        }
        if !self.arity(spec, call, e.span) {
            failed = true;
        }
        match spec.name {
            "IgnoreFlowIfNullOrEmpty" if ctx.depth > 0 => self.push(
                Diagnostic::warning(
                    ErrorCode::IgnoreflowNotTopLevel,
                    e.span,
                    "IgnoreFlowIfNullOrEmpty drops the whole attribute, not just this part",
                )
                .with_help("make it the outermost call of the expression"),
            ),
            "SelectUniqueValue" if ctx.depth > 0 => {
                self.push(
                    Diagnostic::error(
                        ErrorCode::SelectuniquevalueNotTopLevel,
                        e.span,
                        "SelectUniqueValue must be the whole expression",
                    )
                    .with_help("move the surrounding functions into each rule"),
                );
                failed = true;
            }
            "RandomString" if !ctx.redacted => self.push(
                Diagnostic::hint(
                    ErrorCode::RandomstringNotRedacted,
                    e.span,
                    "generated secrets appear in provisioning logs",
                )
                .with_fix(e.span, format!("Redact({e})")),
            ),
            _ => {}
        }
        if let Imp::Lazy(kind) = spec.imp {
            return self.lazy_call(e, spec, call, kind, ctx, failed);
        }

        // Evaluate every argument (all are unconditional for native functions).
        let slot_params = slot_params(spec, call.args.len());
        let inner = Ctx {
            depth: ctx.depth + 1,
            condition: spec.name == "CBool" || (ctx.condition && spec.name == "Not"),
            redacted: ctx.redacted || spec.name == "Redact",
            ..ctx
        };
        let mut infos: Vec<Option<Info>> = Vec::with_capacity(call.args.len());
        for (i, arg) in call.args.iter().enumerate() {
            let Some(x) = &arg.expr else {
                infos.push(None);
                continue;
            };
            let info = self.expr(x, inner);
            failed |= info.failed;
            if let Some(p) = slot_params.get(i).copied().flatten() {
                if !self.slot(spec, i, p.kind, &info, x) {
                    failed = true;
                }
            }
            infos.push(Some(info));
        }
        self.call_lints(spec, call, &infos, e);

        // The result type.
        let source_multi = infos
            .first()
            .and_then(|i| i.as_ref())
            .is_some_and(|i| i.ty == Ty::Multi);
        let ty = match spec.returns {
            Returns::Str if spec.maps_multi && source_multi => Ty::Multi,
            Returns::Str => Ty::Str,
            Returns::Bool => Ty::Bool,
            Returns::Int => Ty::Int,
            Returns::Date => Ty::Date,
            Returns::Multi => Ty::Multi,
            Returns::Any => match spec.name {
                "Redact" | "IgnoreFlowIfNullOrEmpty" | "RemoveDuplicates" => infos
                    .first()
                    .and_then(|i| i.as_ref())
                    .map_or(Ty::Any, |i| i.ty),
                _ => Ty::Any,
            },
        };
        if failed {
            return Info::failed(ty);
        }

        // Static validation of constant arguments, then folding.
        let Imp::Native {
            eval,
            prepare,
            pure,
        } = spec.imp
        else {
            return Info::of(ty);
        };
        let (slots, present) = functions::const_slots(spec, call.args.len(), |i| {
            infos
                .get(i)
                .and_then(Option::as_ref)
                .map(|info| info.konst.as_ref())
        });
        let site = match prepare {
            Some(prep) => match prep(&ConstArgs { slots: &slots }) {
                Ok(site) => site,
                Err(err) => {
                    let span = err
                        .arg
                        .and_then(|i| written_index(spec, call.args.len(), i))
                        .and_then(|i| call.args.get(i))
                        .map_or(e.span, |a| a.span);
                    let mut d = Diagnostic::error(err.code, span, err.message);
                    if let Some(h) = err.help {
                        d = d.with_help(h);
                    }
                    self.push(d);
                    return Info::failed(ty);
                }
            },
            None => None,
        };
        if pure {
            match functions::fold(
                spec,
                eval,
                &slots,
                present,
                site.as_deref(),
                &self.opts.limits,
            ) {
                Some(Ok(v)) => return Info::konst(v),
                Some(Err(err)) => {
                    self.fold_failure(err.code, err.message, e.span, ctx);
                    return Info::failed(ty);
                }
                // Not constant, or it read the clock (a time-only FormatDateTime input).
                None => {}
            }
        }
        Info::of(ty)
    }

    fn unknown_call(&mut self, call: &Call, ctx: Ctx) -> Info {
        if let Some((name, hint)) = OTHER_DIALECT
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&call.name))
        {
            self.push(
                Diagnostic::error(
                    ErrorCode::UnsupportedFunction,
                    call.name_span,
                    format!(
                        "`{name}` belongs to another Entra expression dialect, not app provisioning"
                    ),
                )
                .with_help(*hint),
            );
        } else {
            let mut d = Diagnostic::error(
                ErrorCode::UnknownFunction,
                call.name_span,
                format!("unknown function `{}`", call.name),
            );
            if let Some(best) = did_you_mean(&call.name, functions::REGISTRY.iter().map(|f| f.name))
            {
                d = d
                    .with_fix(call.name_span, best)
                    .with_help(format!("did you mean `{best}`?"));
            } else {
                d = d.with_help("`mapexpr functions` lists every function");
            }
            self.push(d);
        }
        for a in &call.args {
            if let Some(x) = &a.expr {
                self.expr(x, ctx.nested());
            }
        }
        Info::failed(Ty::Any)
    }

    /// Checks the argument count and empty slots; false on error.
    fn arity(&mut self, spec: &FnSpec, call: &Call, span: Span) -> bool {
        let n = call.args.len();
        let sig = spec.signature();
        let count_error = |expected: String| {
            Diagnostic::error(
                ErrorCode::WrongArgumentCount,
                span,
                format!("`{}` takes {expected}, found {n}", spec.name),
            )
            .with_help(format!("the signature is `{sig}`"))
        };
        match spec.name {
            "FormatDateTime" if n != 3 && n != 4 => {
                self.push(count_error("3 or 4 arguments".to_owned()));
                return false;
            }
            "Switch" if n < 3 => {
                self.push(count_error(
                    "at least 3 arguments (source, default, key, value)".to_owned(),
                ));
                return false;
            }
            "Switch" if n % 2 == 1 => {
                let last = call.args.last().map_or(span, |a| a.span);
                self.push(
                    Diagnostic::error(
                        ErrorCode::SwitchUnpaired,
                        last,
                        "this Switch key has no value",
                    )
                    .with_help("Switch takes a source, a default, then key/value pairs"),
                );
                return false;
            }
            "Replace" if n < 2 => {
                self.push(count_error("2 to 7 arguments".to_owned()));
                return false;
            }
            "SelectUniqueValue" if n < 2 => {
                self.push(count_error("at least 2 rules".to_owned()));
                return false;
            }
            "FormatDateTime" | "Switch" | "SelectUniqueValue" | "Replace" if n <= 7 => {}
            _ => {
                let min = spec.min_args();
                let max = spec.max_args();
                let bad = n < min || max.is_some_and(|m| n > m);
                if bad {
                    let expected = match max {
                        Some(m) if m == min => plural(m),
                        Some(m) => format!("{min} to {m} arguments"),
                        None => format!("at least {}", plural(min)),
                    };
                    self.push(count_error(expected));
                    return false;
                }
            }
        }
        let mut ok = true;
        let params = slot_params(spec, n);
        for (i, a) in call.args.iter().enumerate() {
            if a.expr.is_some() {
                continue;
            }
            let optional = params
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|p| p.arity == Arity::Optional);
            if !optional {
                let key = params
                    .get(i)
                    .copied()
                    .flatten()
                    .map_or("argument", |p| p.key);
                self.push(
                    Diagnostic::error(
                        ErrorCode::EmptyRequiredArg,
                        a.span,
                        format!("`{}` needs a value for `{key}` here", spec.name),
                    )
                    .with_help(format!("the signature is `{sig}`")),
                );
                ok = false;
            }
        }
        ok
    }

    /// Checks one argument against its slot kind; false on error.
    fn slot(
        &mut self,
        spec: &FnSpec,
        index: usize,
        kind: ParamKind,
        info: &Info,
        x: &Expr,
    ) -> bool {
        // Split splits every value of a multi-valued source and concatenates the pieces (V4).
        let mapping_source = (spec.maps_multi || spec.name == "Split") && index == 0;
        let mismatch = |what: &str| {
            Diagnostic::error(
                ErrorCode::TypeMismatch,
                x.span,
                format!(
                    "`{}` expects {what} here, found a {} value",
                    spec.name,
                    info.ty.name()
                ),
            )
        };
        match (kind, info.ty) {
            (ParamKind::List | ParamKind::Any, Ty::Enum)
            | (
                ParamKind::Str
                | ParamKind::Int
                | ParamKind::IntFix
                | ParamKind::Bool
                | ParamKind::Date,
                Ty::Enum,
            ) => {
                self.push(enum_misplaced(x.span));
                false
            }
            (ParamKind::List | ParamKind::Any, _) => true,
            (_, Ty::Multi) if mapping_source => true,
            (ParamKind::Enum, Ty::Multi) | (_, Ty::Multi) => {
                self.push(
                    Diagnostic::error(
                        ErrorCode::MultiValuedArgument,
                        x.span,
                        format!(
                            "`{}` expects a single value here, found a multi-valued one",
                            spec.name
                        ),
                    )
                    .with_help("pick one value with `Item(…, 1)` or combine them with `Join(…)`"),
                );
                false
            }
            (ParamKind::Int | ParamKind::IntFix, Ty::Bool | Ty::Date) => {
                self.push(mismatch("an integer"));
                false
            }
            (ParamKind::Int, Ty::Str) => match &info.konst {
                Some(Value::Str(s)) if crate::value::parse_integer_text(s).is_none() => {
                    self.push(Diagnostic::error(
                        ErrorCode::InvalidInteger,
                        x.span,
                        format!(
                            "`{}` is not an integer",
                            crate::value::truncate_for_message(s)
                        ),
                    ));
                    false
                }
                _ => true,
            },
            (ParamKind::Bool, Ty::Int | Ty::Date) => {
                self.push(
                    mismatch("a Boolean")
                        .with_help("compare it to get a Boolean, e.g. `InStr(…) > 0`"),
                );
                false
            }
            (ParamKind::Date, Ty::Int | Ty::Bool) => {
                self.push(mismatch("a date").with_help(
                    "dates come from `CDate(…)`, `Now()`, `DateFromNum(…)` or date text",
                ));
                false
            }
            (ParamKind::Enum, _) => match &info.konst {
                None if info.ty == Ty::Enum || info.ty == Ty::Any || info.ty == Ty::Int => true,
                Some(Value::Int(0 | 1)) => true,
                _ => {
                    self.push(Diagnostic::error(
                        ErrorCode::InvalidCompareType,
                        x.span,
                        "the compare type must be `vbBinaryCompare` (0) or `vbTextCompare` (1)",
                    ));
                    false
                }
            },
            _ => true,
        }
    }

    /// Lints that look at one native call.
    fn call_lints(&mut self, spec: &FnSpec, call: &Call, infos: &[Option<Info>], e: &Expr) {
        match spec.name {
            "Item" => {
                if let Some(Some(Info {
                    konst: Some(Value::Int(i)),
                    ..
                })) = infos.get(1)
                {
                    if *i <= 0 {
                        let span = call.args.get(1).map_or(e.span, |a| a.span);
                        self.push(
                            Diagnostic::warning(
                                ErrorCode::ItemIndexZero,
                                span,
                                "Item is 1-based; this index never yields a value",
                            )
                            .with_fix(span, "1"),
                        );
                    }
                }
            }
            "Replace" => {
                if let Some(a) = call.args.get(5) {
                    if let Some(Expr {
                        kind: ExprKind::Str(s),
                        span,
                    }) = &a.expr
                    {
                        self.push(
                            Diagnostic::warning(
                                ErrorCode::ReplacementAttributeLiteral,
                                *span,
                                "replacementAttributeName takes an attribute, not text",
                            )
                            .with_fix(*span, format!("[{s}]"))
                            .with_help(format!("did you mean `[{s}]`?")),
                        );
                    }
                }
            }
            "FormatDateTime" => {
                let n = call.args.len();
                let source_is_date = infos
                    .first()
                    .and_then(|i| i.as_ref())
                    .is_some_and(|i| i.ty == Ty::Date);
                let input_idx = if n == 3 { 1 } else { 2 };
                if source_is_date {
                    if let Some(Some(Info {
                        konst: Some(Value::Str(f)),
                        ..
                    })) = infos.get(input_idx)
                    {
                        if !format_parses_entra_text(f) {
                            let span = call.args.get(input_idx).map_or(e.span, |a| a.span);
                            self.push(
                                Diagnostic::warning(
                                    ErrorCode::DatetimeSourceFormat,
                                    span,
                                    "the source is a DateTime, which FormatDateTime reads as `M/d/yyyy h:mm:ss tt` text; this input format cannot parse it",
                                )
                                .with_fix(span, "\"M/d/yyyy h:mm:ss tt\""),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn lazy_call(
        &mut self,
        _e: &Expr,
        spec: &FnSpec,
        call: &Call,
        kind: LazyKind,
        ctx: Ctx,
        mut failed: bool,
    ) -> Info {
        let inner = ctx.nested();
        let lazy = Ctx {
            lazy: true,
            ..inner
        };
        let args: Vec<Option<&Expr>> = call.args.iter().map(|a| a.expr.as_ref()).collect();
        match kind {
            LazyKind::Iif => {
                if args.len() != 3 {
                    return Info::failed(Ty::Any);
                }
                let cond_ctx = Ctx {
                    condition: true,
                    ..inner
                };
                let cond = args[0].map(|c| (c, self.expr(c, cond_ctx)));
                let branch = |this: &mut Self, x: Option<&Expr>| x.map(|b| this.expr(b, lazy));
                let t = branch(self, args[1]);
                let f = branch(self, args[2]);
                let mut chosen: Option<bool> = None;
                if let Some((c, info)) = &cond {
                    failed |= info.failed;
                    match info.ty {
                        Ty::Int | Ty::Date => {
                            self.push(
                                Diagnostic::error(
                                    ErrorCode::TypeMismatch,
                                    c.span,
                                    format!(
                                        "an IIF condition must be a Boolean, found a {} value",
                                        info.ty.name()
                                    ),
                                )
                                .with_help("compare it to get a Boolean, e.g. `InStr(…) > 0`"),
                            );
                            failed = true;
                        }
                        Ty::Multi => {
                            self.push(Diagnostic::error(
                                ErrorCode::MultiValuedArgument,
                                c.span,
                                "an IIF condition must be a single value",
                            ));
                            failed = true;
                        }
                        Ty::Enum => {
                            self.push(enum_misplaced(c.span));
                            failed = true;
                        }
                        _ => {}
                    }
                    match &info.konst {
                        Some(Value::Bool(b)) => chosen = Some(*b),
                        Some(Value::Str(s)) if s.eq_ignore_ascii_case("true") => {
                            chosen = Some(true)
                        }
                        Some(Value::Str(s)) if s.eq_ignore_ascii_case("false") => {
                            chosen = Some(false)
                        }
                        Some(other) if !failed => {
                            self.fold_failure(
                                ErrorCode::InvalidCondition,
                                format!(
                                    "an IIF condition must be True or False, found `{}`",
                                    other.render_scalar()
                                ),
                                c.span,
                                ctx,
                            );
                            failed = true;
                        }
                        _ => {}
                    }
                    self.iif_null_condition(c);
                }
                for (b, info) in [(args[1], &t), (args[2], &f)] {
                    if let (Some(b), Some(info)) = (b, info) {
                        failed |= info.failed;
                        if info.konst.is_none() {
                            self.eager_branch(b);
                        }
                    }
                }
                let ty = t
                    .as_ref()
                    .map_or(Ty::Any, |i| i.ty)
                    .join(f.as_ref().map_or(Ty::Any, |i| i.ty));
                if failed {
                    return Info::failed(ty);
                }
                match chosen {
                    Some(true) => t.map_or(Info::of(ty), |i| Info {
                        ty: i.ty,
                        konst: i.konst,
                        failed: false,
                    }),
                    Some(false) => f.map_or(Info::of(ty), |i| Info {
                        ty: i.ty,
                        konst: i.konst,
                        failed: false,
                    }),
                    None => Info::of(ty),
                }
            }
            LazyKind::Switch => {
                let source = args
                    .first()
                    .copied()
                    .flatten()
                    .map(|s| (s, self.expr(s, inner)));
                if let Some((s, info)) = &source {
                    failed |= info.failed;
                    match info.ty {
                        Ty::Multi => {
                            self.push(Diagnostic::error(
                                ErrorCode::MultiValuedArgument,
                                s.span,
                                "a Switch source must be a single value",
                            ));
                            failed = true;
                        }
                        Ty::Enum => {
                            self.push(enum_misplaced(s.span));
                            failed = true;
                        }
                        _ => {}
                    }
                    self.switch_lints(s);
                }
                let mut ty = Ty::Null;
                for (i, a) in args.iter().enumerate().skip(1) {
                    if let Some(x) = a {
                        let info = self.expr(x, lazy);
                        failed |= info.failed;
                        if info.ty == Ty::Enum {
                            self.push(enum_misplaced(x.span));
                            failed = true;
                        }
                        // Slot 1 is the default, then keys (even) and values (odd).
                        if i == 1 || i % 2 == 1 {
                            ty = ty.join(info.ty);
                        } else if info.ty == Ty::Multi {
                            self.push(Diagnostic::error(
                                ErrorCode::MultiValuedArgument,
                                x.span,
                                "a Switch key must be a single value",
                            ));
                            failed = true;
                        }
                    }
                }
                if failed {
                    Info::failed(ty)
                } else {
                    Info::of(ty)
                }
            }
            LazyKind::Coalesce => {
                let mut ty = Ty::Null;
                let n = args.len();
                for (i, a) in args.iter().enumerate() {
                    if let Some(x) = a {
                        let info = self.expr(x, if i == 0 { inner } else { lazy });
                        failed |= info.failed;
                        if info.ty == Ty::Enum {
                            self.push(enum_misplaced(x.span));
                            failed = true;
                        }
                        ty = ty.join(info.ty);
                        if i + 1 < n
                            && x.as_attr().is_some()
                            && matches!(info.ty, Ty::Any | Ty::Str)
                        {
                            self.push(
                                Diagnostic::hint(
                                    ErrorCode::CoalesceEmptyString,
                                    x.span,
                                    format!("if `{x}` is \"\" Coalesce returns \"\"; only Null is skipped"),
                                )
                                .with_help("to skip empty values too, use `Switch(…, \"\", …)` or `IIF(IsNullOrEmpty(…), …)`"),
                            );
                        }
                    }
                }
                if failed {
                    Info::failed(ty)
                } else {
                    Info::of(ty)
                }
            }
            LazyKind::IgnoreFlow => {
                let Some(x) = args.first().copied().flatten() else {
                    return Info::failed(Ty::Any);
                };
                let info = self.expr(x, inner);
                if info.ty == Ty::Enum {
                    self.push(enum_misplaced(x.span));
                    failed = true;
                }
                if failed || info.failed {
                    Info::failed(info.ty)
                } else {
                    Info::of(info.ty)
                }
            }
            LazyKind::SelectUniqueValue => {
                for (i, a) in args.iter().enumerate() {
                    if let Some(x) = a {
                        let info = self.expr(x, if i == 0 { inner } else { lazy });
                        failed |= info.failed;
                        match info.ty {
                            Ty::Multi => {
                                self.push(Diagnostic::error(
                                    ErrorCode::MultiValuedArgument,
                                    x.span,
                                    "a SelectUniqueValue rule must yield a single value",
                                ));
                                failed = true;
                            }
                            Ty::Enum => {
                                self.push(enum_misplaced(x.span));
                                failed = true;
                            }
                            _ => {}
                        }
                        let mut normalised = false;
                        x.walk(&mut |n| {
                            if n.as_call()
                                .is_some_and(|c| c.name.eq_ignore_ascii_case("NormalizeDiacritics"))
                            {
                                normalised = true;
                            }
                        });
                        if !normalised && info.konst.is_none() {
                            self.push(
                                Diagnostic::hint(
                                    ErrorCode::SelectuniquevalueDiacritics,
                                    x.span,
                                    "Entra's uniqueness search fails on values with diacritics",
                                )
                                .with_help("pass the rule's text through `NormalizeDiacritics(…)`"),
                            );
                        }
                    }
                }
                let _ = spec;
                if failed {
                    Info::failed(Ty::Str)
                } else {
                    Info::of(Ty::Str)
                }
            }
        }
    }

    /// A whole `&` chain at once. The parser builds `a & b & c` as a left-leaning tree as
    /// deep as the chain is long, and the depth limit counts only parentheses, so walking
    /// the chain node by node would recurse once per operand (a few hundred operands
    /// overflow a 2 MiB stack in a debug build). The operands are collected iteratively and
    /// only they are recursed into; constant chains fold in one linear pass.
    fn concat(&mut self, e: &Expr, ctx: Ctx) -> Info {
        let inner = ctx.nested();
        let parts = crate::syntax::ast::concat_operands(e);
        let mut failed = false;
        let mut konsts: Vec<Option<Value<'static>>> = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let info = self.expr(
                part,
                Ctx {
                    concat_child: i == 0,
                    ..inner
                },
            );
            match info.ty {
                Ty::Multi => self.push(
                    Diagnostic::error(
                        ErrorCode::MultiValuedArgument,
                        part.span,
                        "`&` needs single values; this operand is multi-valued",
                    )
                    .with_help("pick one value with `Item(…, 1)` or combine them with `Join(…)`"),
                ),
                Ty::Enum => self.push(enum_misplaced(part.span)),
                _ => {}
            }
            failed |= info.failed;
            konsts.push(info.konst);
        }
        // Report the lint once per chain: at the outermost `&`.
        if !ctx.concat_child {
            let fix = format!(
                "Join(\"\", {})",
                parts
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.push(
                Diagnostic::warning(
                    ErrorCode::AmpersandOperator,
                    e.span,
                    "`&` is documented only for Entra cloud sync",
                )
                .with_fix(e.span, fix),
            );
        }
        if failed {
            return Info::failed(Ty::Str);
        }
        if konsts.iter().all(Option::is_some) {
            let mut out = String::new();
            for k in konsts.iter().flatten() {
                match k.text() {
                    Ok(t) => out.push_str(t.as_deref().unwrap_or("")),
                    Err(err) => {
                        self.fold_failure(err.code, err.message, e.span, ctx);
                        return Info::failed(Ty::Str);
                    }
                }
            }
            return Info::konst(Value::string(out));
        }
        Info::of(Ty::Str)
    }

    fn iif_null_condition(&mut self, cond: &Expr) {
        let nullable = |x: &Expr| match x.as_attr() {
            Some(name) => !self
                .opts
                .schema
                .and_then(|s| s.get(name))
                .is_some_and(|d| d.required),
            None => false,
        };
        let attr = match &cond.kind {
            ExprKind::Binary { op, lhs, rhs } if op.is_comparison() => {
                if nullable(lhs) {
                    Some(lhs.as_ref())
                } else if nullable(rhs) {
                    Some(rhs.as_ref())
                } else {
                    None
                }
            }
            ExprKind::Call(c)
                if ["IsNull", "IsNullOrEmpty", "IsPresent"]
                    .iter()
                    .any(|n| c.name.eq_ignore_ascii_case(n)) =>
            {
                c.args
                    .first()
                    .and_then(|a| a.expr.as_ref())
                    .filter(|x| nullable(x))
            }
            _ => None,
        };
        if let Some(a) = attr {
            self.push(
                Diagnostic::warning(
                    ErrorCode::IifNullCondition,
                    cond.span,
                    format!("Entra fails the IIF condition when `{a}` is null or empty; mapexpr evaluates it normally"),
                )
                .with_help(format!("to be safe in Entra, use `Switch({a}, <else>, \"\", <then-if-empty>)`")),
            );
        }
    }

    fn eager_branch(&mut self, branch: &Expr) {
        let mut found: Option<&Expr> = None;
        branch.walk(&mut |n| {
            if found.is_some() {
                return;
            }
            if let Some(c) = n.as_call() {
                let eager = EAGER_FAILERS.iter().any(|f| c.name.eq_ignore_ascii_case(f))
                    || (c.name.eq_ignore_ascii_case("Replace")
                        && c.args.get(2).is_some_and(|a| a.expr.is_some()));
                if eager {
                    found = Some(n);
                }
            }
        });
        if let Some(n) = found {
            let name = n.as_call().map_or("", |c| ast_canonical(&c.name));
            self.push(
                Diagnostic::warning(
                    ErrorCode::EagerBranch,
                    n.span,
                    format!("Entra evaluates both IIF branches, so `{name}(…)` can fail even when the other branch is chosen"),
                )
                .with_help(format!("move the IIF inside, e.g. `{name}(IIF(condition, [x], \"\"), …)`")),
            );
        }
    }

    fn switch_lints(&mut self, source: &Expr) {
        if let Some(c) = source.as_call() {
            if ["IsPresent", "IsNull", "IsNullOrEmpty"]
                .iter()
                .any(|n| c.name.eq_ignore_ascii_case(n))
            {
                self.push(
                    Diagnostic::warning(
                        ErrorCode::SwitchPredicateSource,
                        source.span,
                        "Microsoft cautions against switching on IsPresent/IsNull/IsNullOrEmpty",
                    )
                    .with_help(
                        "switch on the attribute itself with a `\"\"` key for the empty case",
                    ),
                );
            }
        }
        if let Some(name) = source.as_attr() {
            let reference = name == "manager"
                || self
                    .opts
                    .schema
                    .and_then(|s| s.get(name))
                    .is_some_and(|d| d.reference);
            if reference {
                self.push(Diagnostic::warning(
                    ErrorCode::SwitchReferenceAttribute,
                    source.span,
                    "Switch should not be used for reference attributes",
                ));
            }
        }
    }
}

fn ast_canonical(name: &str) -> &str {
    crate::syntax::ast::canonical_name(name)
}

/// True when a constant FormatDateTime input format can read the `M/d/yyyy h:mm:ss tt`
/// text that a DateTime source is rendered to (F16).
fn format_parses_entra_text(format: &str) -> bool {
    // A malformed format is reported by FormatDateTime's own validation.
    crate::datetime::format::Format::parse(format).map_or(true, |f| f.parses_entra_rendering())
}

fn enum_misplaced(span: Span) -> Diagnostic {
    Diagnostic::error(
        ErrorCode::TypeMismatch,
        span,
        "`vbTextCompare`/`vbBinaryCompare` can only be the compare type of InStr",
    )
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 argument".to_owned()
    } else {
        format!("{n} arguments")
    }
}

/// For each written argument, the parameter it fills (`None` past the signature). The
/// 3-argument FormatDateTime has no styles slot: its arguments fill slots 0, 2 and 3.
fn slot_params(spec: &FnSpec, n: usize) -> Vec<Option<&'static functions::Param>> {
    (0..n).map(|i| spec.param_for(spec.slot_of(n, i))).collect()
}

/// The written argument index that fills parameter slot `p` (inverse of `FnSpec::slot_of`).
fn written_index(spec: &FnSpec, n: usize, p: usize) -> Option<usize> {
    if spec.name == "FormatDateTime" && n == 3 {
        match p {
            0 => Some(0),
            1 => None,
            p => Some(p - 1),
        }
    } else {
        Some(p)
    }
}

/// The closest candidate within edit distance 2 (case-insensitive), for "did you mean".
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= 2 && *d < lower.len().max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
