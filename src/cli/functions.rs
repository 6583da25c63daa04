//! `mapexpr functions`: every function with its signature.

use mapexpr::functions::{Doc, Imp, REGISTRY};

use super::Format;

/// Arguments of `functions`.
#[derive(clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Runs `functions`.
pub fn run(a: Args) -> i32 {
    match a.format {
        Format::Human => {
            for f in REGISTRY {
                let mut notes = Vec::new();
                if f.maps_multi {
                    notes.push("maps over multi-valued sources");
                }
                if f.doc == Doc::Undocumented {
                    notes.push("not in Microsoft's app-provisioning reference");
                }
                if let Imp::NotYet = f.imp {
                    notes.push("not supported by this build yet");
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", notes.join("; "))
                };
                outln!("{}\n    {}{notes}", f.signature(), f.summary);
            }
        }
        Format::Json | Format::Graph => {
            let list: Vec<serde_json::Value> = REGISTRY
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "name": f.name,
                        "signature": f.signature(),
                        "parameters": f.params.iter().map(|p| serde_json::json!({
                            "key": p.key,
                            "kind": format!("{:?}", p.kind),
                            "arity": format!("{:?}", p.arity),
                        })).collect::<Vec<_>>(),
                        "returns": format!("{:?}", f.returns),
                        "mapsMultiValued": f.maps_multi,
                        "documented": f.doc == Doc::Reference,
                        "supported": !matches!(f.imp, Imp::NotYet),
                        "summary": f.summary,
                    })
                })
                .collect();
            outln!("{}", serde_json::Value::Array(list));
        }
    }
    0
}
