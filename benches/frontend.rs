//! `parse/`, `check/`, `compile/` — the front end on typical expressions and on a 40-mapping
//! set. Each group holds its expressions side by side. `compile/*/full` is the public
//! `mapexpr::compile` (parse + check + codegen), the number the issue's "≤ 25 µs per typical
//! expression" target is about; `compile/*/codegen` is the code generator alone on a parsed
//! tree; `compile/*/cel` is `cel::Program::compile` of the CEL equivalent, for scale.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mapexpr::{CheckOptions, Limits};

#[path = "common/mod.rs"]
mod common;

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

/// Typical expressions: the eval workloads that are single mappings a person writes.
fn typical() -> Vec<common::Workload> {
    common::workloads()
        .into_iter()
        .filter(|w| {
            matches!(
                w.name,
                "passthrough"
                    | "iif"
                    | "switch6"
                    | "upn_ascii"
                    | "replace_regex"
                    | "format_datetime"
                    | "switch250"
            )
        })
        .collect()
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse/typical");
    for w in typical() {
        g.bench_function(w.name, |b| {
            b.iter(|| {
                let p = mapexpr::syntax::parse(black_box(&w.expr)).unwrap();
                assert!(p.warnings.is_empty());
                p
            })
        });
    }
    g.finish();
    let set = common::set40();
    let mut g = c.benchmark_group("parse/set40");
    g.bench_function("all", |b| {
        b.iter(|| {
            for e in &set {
                let p = mapexpr::syntax::parse(black_box(e)).unwrap();
                assert!(p.warnings.is_empty());
            }
        })
    });
    g.finish();
}

fn check(c: &mut Criterion) {
    let opts = CheckOptions::default();
    let mut g = c.benchmark_group("check/typical");
    for w in typical() {
        let expr = mapexpr::syntax::parse(&w.expr).unwrap().expr;
        g.bench_function(w.name, |b| {
            b.iter(|| {
                let r = mapexpr::check::check(black_box(&expr), &opts);
                assert!(!r.has_errors());
                r
            })
        });
    }
    g.finish();
    let trees: Vec<_> = common::set40()
        .iter()
        .map(|e| mapexpr::syntax::parse(e).unwrap().expr)
        .collect();
    let mut g = c.benchmark_group("check/set40");
    g.bench_function("all", |b| {
        b.iter(|| {
            for t in &trees {
                assert!(!mapexpr::check::check(black_box(t), &opts).has_errors());
            }
        })
    });
    g.finish();
}

fn compile(c: &mut Criterion) {
    let limits = Limits::default();
    for w in typical() {
        let mut g = c.benchmark_group(format!("compile/{}", w.name));
        g.bench_function("full", |b| {
            b.iter(|| {
                let p = mapexpr::compile(black_box(&w.expr)).unwrap();
                assert!(!p.is_empty());
                p
            })
        });
        let expr = mapexpr::syntax::parse(&w.expr).unwrap().expr;
        g.bench_function("codegen", |b| {
            b.iter(|| {
                let p = mapexpr::compile::compile(black_box(&expr), &w.expr, &limits).unwrap();
                assert!(!p.is_empty());
                p
            })
        });
        // Replace with a regex: the library caches compiled patterns process-wide (64
        // entries), so `full` measures a cache hit after the first iteration. `full_cold`
        // cycles through 100 variants of the pattern (`|z{k}` appended) so every compile
        // misses the cache.
        if w.name == "replace_regex" {
            let cold: Vec<String> = (1..=100)
                .map(|k| {
                    w.expr
                        .replace(r#"\\d{10})""#, &format!(r#"\\d{{10}})|z{{{k}}}""#))
                })
                .collect();
            assert_ne!(cold[0], w.expr);
            let mut i = 0;
            g.bench_function("full_cold", |b| {
                b.iter(|| {
                    i = (i + 1) % cold.len();
                    let p = mapexpr::compile(black_box(&cold[i])).unwrap();
                    assert!(!p.is_empty());
                    p
                })
            });
        }
        if let Some(cel) = &w.cel {
            g.bench_function("cel", |b| {
                b.iter(|| cel::Program::compile(black_box(&cel.expr)).unwrap())
            });
        }
        g.finish();
    }
    let set = common::set40();
    let mut g = c.benchmark_group("compile/set40");
    g.bench_function("full", |b| {
        b.iter(|| {
            let (programs, layout) = common::compile_set(black_box(&set));
            assert_eq!(programs.len(), 40);
            layout
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse, check, compile
}
criterion_main!(benches);
