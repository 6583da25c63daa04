//! `eval/` — every workload's variants side by side in one criterion group, so they share the
//! machine's state of the moment (2 shared cores: compare within a group, not across runs).
//!
//! Variants: `vm_slot` (the VM on a `SlotRecord`), `vm_json` (the VM on a hash-map
//! `JsonRecord`), `native` (hand-written Rust on the same slot values), `regex` (the `regex`
//! crate called directly, Replace workloads only), `reference` (the tree-walking evaluator,
//! with `--features reference`), `cel` (variables bound inside the loop) and `cel_prebound`
//! (context built once). Programs compile outside the timed loop; results are asserted
//! inside it.
//!
//! Also `eval/set30` (30 mappings applied to one record; `vm_set` and `vm_each` through
//! `CompiledSet::apply_with` / `apply_each`) and `eval/bind` (building the set's
//! slot table: from a parsed JSON object, from JSON text, from an engine's own rows).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mapexpr::mapping::Mode;
use mapexpr::mapping::bind::Field;
use mapexpr::{Outcome, SlotRecord, Value};

#[path = "common/mod.rs"]
mod common;

use common::{Env, Prepared, Set30};

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

fn workloads(c: &mut Criterion) {
    let base = common::cel_base();
    let filter: Option<String> = std::env::var("MAPEXPR_BENCH_ONLY").ok();
    for w in common::workloads() {
        if filter.as_deref().is_some_and(|f| !w.name.contains(f)) {
            continue;
        }
        let mut p = Prepared::new(w);
        common::cel_expect(&mut p, &base);
        let mut env = Env::new();
        let mut g = c.benchmark_group(format!("eval/{}", p.w.name));

        g.bench_function("vm_slot", |b| {
            let rec = p.slot_record();
            let mut ctx = env.ctx();
            b.iter(|| {
                let out = p.program.eval(black_box(&rec), &mut ctx).unwrap();
                p.check(&out);
                out
            })
        });
        g.bench_function("vm_json", |b| {
            let mut ctx = env.ctx();
            b.iter(|| {
                let out = p.program.eval(black_box(&p.json), &mut ctx).unwrap();
                p.check(&out);
                out
            })
        });
        g.bench_function("native", |b| {
            b.iter(|| {
                let out = (p.w.native)(black_box(&p.slots), &p.native_idx);
                assert_eq!(out, p.w.expected.as_str());
                out
            })
        });
        if p.regex.is_some() {
            g.bench_function("regex", |b| {
                b.iter(|| {
                    let out = black_box(&p).regex_direct().unwrap();
                    assert_eq!(out, p.w.expected.as_str());
                    out
                })
            });
        }
        #[cfg(feature = "reference")]
        // The reference evaluator walks the tree and reads attributes by name, which a
        // `SlotRecord` cannot answer: it runs on the `JsonRecord` (compare with `vm_json`).
        g.bench_function("reference", |b| {
            let mut ctx = env.ctx();
            b.iter(|| {
                let out = mapexpr::reference::eval(&p.ast, black_box(&p.json), &mut ctx).unwrap();
                p.check(&out);
                out
            })
        });
        if let Some(cp) = &p.cel {
            g.bench_function("cel", |b| {
                b.iter(|| {
                    let scope = common::cel_bind(&base, black_box(&cp.vars));
                    let out = cp.program.execute(&scope).unwrap();
                    assert_eq!(out, cp.expected);
                    out
                })
            });
            g.bench_function("cel_prebound", |b| {
                let scope = common::cel_bind(&base, &cp.vars);
                b.iter(|| {
                    let out = cp.program.execute(black_box(&scope)).unwrap();
                    assert_eq!(out, cp.expected);
                    out
                })
            });
        }
        g.finish();
    }
}

fn set30(c: &mut Criterion) {
    let base = common::cel_base();
    let s = Set30::new(&base);
    let mut env = Env::new();
    let mut g = c.benchmark_group("eval/set30");

    let check = |i: usize, out: &Outcome<'_>| match out {
        Outcome::Value(Value::Str(v)) if **v == *common::SET30_EXPECTED[i] => {}
        other => panic!("mapping {}: got {other:?}", common::SET30[i].0),
    };
    g.bench_function("vm_slot", |b| {
        let rec = SlotRecord::new(&s.slots);
        let mut ctx = env.ctx();
        b.iter(|| {
            for (i, p) in s.programs.iter().enumerate() {
                let out = p.eval(black_box(&rec), &mut ctx).unwrap();
                check(i, &out);
            }
        })
    });
    g.bench_function("vm_json", |b| {
        let mut ctx = env.ctx();
        b.iter(|| {
            for (i, p) in s.programs.iter().enumerate() {
                let out = p.eval(black_box(&s.json), &mut ctx).unwrap();
                check(i, &out);
            }
        })
    });
    // Through the mapping-set API: every result kept (`CompiledSet::apply_with`), and
    // streamed by reference (`CompiledSet::apply_each`, as `run` uses it: each result's
    // buffer is reused for the next).
    g.bench_function("vm_set", |b| {
        let rec = SlotRecord::new(&s.set_slots);
        let mut ctx = env.ctx();
        let mut out: Vec<Value<'_>> = Vec::with_capacity(30);
        b.iter(|| {
            out.clear();
            s.set
                .apply_with(black_box(&rec), Mode::Create, &mut ctx, |_, _, v| {
                    out.push(v)
                })
                .unwrap();
            assert_eq!(out[29], Value::str(common::SET30_EXPECTED[29]));
        })
    });
    g.bench_function("vm_each", |b| {
        let rec = SlotRecord::new(&s.set_slots);
        let mut ctx = env.ctx();
        b.iter(|| {
            let mut total = 0usize;
            s.set
                .apply_each(black_box(&rec), Mode::Create, &mut ctx, |i, _, v| {
                    if let Value::Str(t) = v {
                        total += t.len();
                        if i == 29 {
                            assert_eq!(**t, *common::SET30_EXPECTED[29]);
                        }
                    }
                })
                .unwrap();
            total
        })
    });
    g.bench_function("native", |b| {
        let mut out = Vec::with_capacity(30);
        b.iter(|| {
            common::native_set30(black_box(&s.slots), &s.native_idx, &mut out);
            for (o, e) in out.iter().zip(common::SET30_EXPECTED) {
                assert_eq!(o, e);
            }
        })
    });
    #[cfg(feature = "reference")]
    {
        let asts: Vec<_> = common::SET30
            .iter()
            .map(|(_, e)| mapexpr::syntax::parse(e).unwrap().expr)
            .collect();
        g.bench_function("reference", |b| {
            let mut ctx = env.ctx();
            b.iter(|| {
                for (i, a) in asts.iter().enumerate() {
                    let out = mapexpr::reference::eval(a, black_box(&s.json), &mut ctx).unwrap();
                    check(i, &out);
                }
            })
        });
    }
    g.bench_function("cel", |b| {
        b.iter(|| {
            let scope = common::cel_bind(&base, black_box(&s.cel_vars));
            for (p, e) in s.cel.iter().zip(&s.cel_expected) {
                assert_eq!(&p.execute(&scope).unwrap(), e);
            }
        })
    });
    g.bench_function("cel_prebound", |b| {
        let scope = common::cel_bind(&base, &s.cel_vars);
        b.iter(|| {
            for (p, e) in s.cel.iter().zip(&s.cel_expected) {
                assert_eq!(&p.execute(black_box(&scope)).unwrap(), e);
            }
        })
    });
    g.finish();

    // Binding: from a parsed JSON object to the set's slot table (what a batch runner pays per
    // record before evaluating), compared with building a `JsonRecord` from the same object.
    let mut g = c.benchmark_group("eval/bind");
    let obj = s.json_value.as_object().unwrap();
    let names = s.layout.names();
    g.bench_function("slot_borrowed", |b| {
        let mut out = Vec::with_capacity(names.len());
        b.iter(|| {
            common::bind_borrowed(black_box(obj), names, &mut out);
            assert_eq!(out.len(), names.len());
            out.len()
        })
    });
    // The mapping module's binder: one JSON text line straight into the slot table
    // (parsing included, strings borrowed, unread attributes skipped), a new table per call…
    let index = mapexpr::mapping::bind::SlotIndex::new(names);
    g.bench_function("slot_from_text", |b| {
        b.iter(|| {
            let slots = index.bind(black_box(common::USER_JSON)).unwrap();
            assert_eq!(slots.len(), names.len());
            slots
        })
    });
    // …and into one table kept between records, as `run` does.
    g.bench_function("slot_from_text_reused", |b| {
        let mut slots = Vec::new();
        b.iter(|| {
            index
                .bind_into(black_box(common::USER_JSON), &mut slots)
                .unwrap();
            assert_eq!(slots.len(), names.len());
        })
    });
    // The serde_json binder the scanner falls back to (the previous `slot_from_text`).
    g.bench_function("slot_from_text_serde", |b| {
        b.iter(|| {
            let slots = index.bind_serde(black_box(common::USER_JSON)).unwrap();
            assert_eq!(slots.len(), names.len());
            slots
        })
    });
    // A parsed serde_json object through the set's own binder, strings borrowed.
    let set = set30_compiled();
    assert_eq!(set.attributes(), names, "one layout, one slot order");
    g.bench_function("bind_json_borrowed", |b| {
        let mut slots = Vec::new();
        b.iter(|| {
            set.bind_json_borrowed(black_box(obj), &mut slots).unwrap();
            assert_eq!(slots.len(), names.len());
        })
    });
    // A sync engine's own rows (here one `String` per field, in the engine's field order, which
    // is not the set's slot order): field numbers computed once, strings borrowed, the table's
    // allocation reused (`mapping::bind::Binder`).
    let fields: Vec<String> = obj.keys().rev().cloned().collect();
    let row: Vec<String> = fields
        .iter()
        .map(|f| obj[f].as_str().unwrap().to_owned())
        .collect();
    let binder = mapexpr::mapping::bind::Binder::new(set.attributes(), |a| {
        fields.iter().position(|f| f == a)
    });
    // Records in memory for the cycle: one table kept across records (`Binder::bind_into`).
    g.bench_function("binder_engine_row", |b| {
        let mut table = Vec::new();
        b.iter(|| {
            let row = black_box(&row);
            binder.bind_into(&mut table, |f| Field::Str(&row[f]));
            assert_eq!(table.len(), 25);
            black_box(&table);
        })
    });
    // Rows that live only while processed: the binder's own table (`Binder::bind`).
    g.bench_function("binder_engine_row_scoped", |b| {
        let mut binder = binder.clone();
        b.iter(|| {
            let row = black_box(&row);
            let bound = binder.bind(|f| Field::Str(&row[f]));
            assert_eq!(bound.fields().len(), 25);
            black_box(&bound);
        })
    });
    g.bench_function("json_record", |b| {
        b.iter(|| {
            let r = mapexpr::JsonRecord::from_json(black_box(&s.json_value)).unwrap();
            assert!(r.names().next().is_some());
            r
        })
    });
    g.bench_function("cel_context", |b| {
        b.iter(|| common::cel_bind(&base, black_box(&s.cel_vars)))
    });
    g.finish();
}

/// The 30-mapping set as a `CompiledSet` (one mapping per `SET30` entry).
fn set30_compiled() -> mapexpr::mapping::CompiledSet {
    let compiled = common::set30_compiled("set30");
    assert_eq!(compiled.attributes().len(), 25);
    compiled
}

criterion_group! {
    name = benches;
    config = config();
    targets = workloads, set30
}
criterion_main!(benches);
