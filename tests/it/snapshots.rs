//! Golden files: rendered diagnostics and bytecode disassembly, reviewed as diffs.
//! `UPDATE_SNAPSHOTS=1 cargo test --test it snapshots` rewrites them.

use std::fmt::Write as _;
use std::path::Path;

use mapexpr::CompileOptions;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    expr: String,
}

fn render(expr: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{expr}\n");
    let opts = CompileOptions::default();
    for d in mapexpr::diagnose(expr, &opts) {
        out.push_str(&d.render(expr, "<expr>"));
        out.push('\n');
    }
    if let Ok(c) = mapexpr::compile_with(expr, &opts) {
        out.push_str(&c.program.disassemble());
    }
    out
}

#[test]
fn snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/snapshots");
    let file: File =
        toml::from_str(&std::fs::read_to_string(dir.join("cases.toml")).expect("cases.toml"))
            .expect("valid TOML");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for c in &file.case {
        let path = dir.join(format!("{}.txt", c.name));
        let got = render(&c.expr);
        if update {
            std::fs::write(&path, &got).expect("write snapshot");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != got {
            stale.push(format!("--- {}\n{got}", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots differ (UPDATE_SNAPSHOTS=1 to accept):\n{}",
        stale.join("\n")
    );
}
