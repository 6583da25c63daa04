//! Microsoft Graph compatibility (spec §7): the `attributeMappingSource` tree of a parsed
//! expression, as Graph's `parseExpression` returns it and exported schemas store it.

use serde_json::{Value as Json, json};

use crate::functions;
use crate::syntax::ast::{Expr, ExprKind, write_string_literal};

/// The `attributeMappingSource` node of an expression (keys `expression`, `name`,
/// `parameters`, `type`, in that order).
pub fn tree(e: &Expr) -> Json {
    match &e.kind {
        ExprKind::Attr(name) => node(format!("[{name}]"), name.clone(), Vec::new(), "Attribute"),
        ExprKind::Str(s) => {
            let mut lit = String::new();
            let _ = write_string_literal(&mut lit, s);
            node(lit, s.clone(), Vec::new(), "Constant")
        }
        ExprKind::Int { value, .. } => node(
            format!("\"{value}\""),
            value.to_string(),
            Vec::new(),
            "Constant",
        ),
        ExprKind::Const(c) => node(
            c.name().to_owned(),
            c.name().to_owned(),
            Vec::new(),
            "Constant",
        ),
        ExprKind::Binary { op, lhs, rhs } => node(
            e.to_string(),
            op.as_str().to_owned(),
            vec![param("left", tree(lhs)), param("right", tree(rhs))],
            "Function",
        ),
        ExprKind::Call(call) => {
            let spec = functions::lookup(&call.name);
            let n = call.args.len();
            let mut params = Vec::new();
            for (i, a) in call.args.iter().enumerate() {
                let Some(x) = &a.expr else { continue };
                let key = match spec {
                    Some(spec) => {
                        let p = spec.slot_of(n, i);
                        spec.param_for(p).map_or("argument", |p| p.key)
                    }
                    None => "argument",
                };
                params.push(param(key, tree(x)));
            }
            let name = spec.map_or(call.name.as_str(), |s| s.name).to_owned();
            node(e.to_string(), name, params, "Function")
        }
    }
}

fn node(expression: String, name: String, parameters: Vec<Json>, ty: &str) -> Json {
    // serde_json's default map is sorted by key, and Graph's order (expression, name,
    // parameters, type; key, value) happens to be alphabetical, so it is kept as is.
    let mut m = serde_json::Map::new();
    m.insert("expression".into(), Json::String(expression));
    m.insert("name".into(), Json::String(name));
    m.insert("parameters".into(), Json::Array(parameters));
    m.insert("type".into(), Json::String(ty.to_owned()));
    Json::Object(m)
}

fn param(key: &str, value: Json) -> Json {
    json!({ "key": key, "value": value })
}
