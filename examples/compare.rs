//! Prints a table of median ns per evaluation for every workload: the VM (slot and JSON
//! records), the hand-written native baseline, the `regex` crate directly (Replace rows), the
//! reference evaluator (with `--features reference`) and CEL (bound per evaluation, and
//! prebound), with the ratios VM/native and CEL/VM.
//!
//! `cargo run --release --example compare` (under a minute). The variants of one workload
//! are timed in interleaved batches (batch 1 of every variant, then batch 2, …), so a noisy
//! neighbour hits them alike; the number shown is the median over batches of the mean ns per
//! call inside a batch. `MAPEXPR_BENCH_ONLY=upn` keeps the workloads whose name contains it.
//! `MAPEXPR_PROFILE=upn_ascii` (or `set30`, `set30api` / `set30each` (the set through
//! `CompiledSet::apply_with` / `apply_each`), or one of its mappings: `set30/mailNickname`)
//! runs only the VM in a loop, for a profiler.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mapexpr::mapping::Mode;
use mapexpr::{Outcome, SlotRecord, Value};

#[path = "../benches/common/mod.rs"]
mod common;

use common::{Env, Prepared};

const BATCHES: usize = 101;
const BATCH_TARGET: Duration = Duration::from_micros(1500);

type Variant<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// Median ns per call for each variant, measured in interleaved batches.
fn measure(variants: &mut [Variant<'_>]) -> Vec<f64> {
    // Calibrate: calls per batch so that one batch takes about BATCH_TARGET.
    let iters: Vec<u64> = variants
        .iter_mut()
        .map(|(_, f)| {
            let mut n = 1u64;
            loop {
                let t = Instant::now();
                for _ in 0..n {
                    f();
                }
                let e = t.elapsed();
                if e >= BATCH_TARGET / 4 || n >= 1 << 24 {
                    let per = e.as_nanos() as f64 / n as f64;
                    return ((BATCH_TARGET.as_nanos() as f64 / per.max(0.1)) as u64).max(1);
                }
                n *= 2;
            }
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(BATCHES); variants.len()];
    for _ in 0..BATCHES {
        for (i, (_, f)) in variants.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..iters[i] {
                f();
            }
            samples[i].push(t.elapsed().as_nanos() as f64 / iters[i] as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect()
}

struct Row {
    name: String,
    cols: Vec<(&'static str, f64)>,
}

impl Row {
    fn get(&self, k: &str) -> Option<f64> {
        self.cols.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }
}

const COLUMNS: &[&str] = &[
    "vm_slot",
    "vm_set",
    "vm_each",
    "vm_json",
    "native",
    "regex",
    "reference",
    "cel",
    "cel_prebound",
];

fn print(rows: &[Row]) {
    print!("{:<16}", "workload");
    for c in COLUMNS {
        print!(" {c:>12}");
    }
    println!(" {:>10} {:>10} {:>12}", "vm/native", "cel/vm", "cel_pre/vm");
    for r in rows {
        print!("{:<16}", r.name);
        for c in COLUMNS {
            match r.get(c) {
                Some(v) if v >= 10_000.0 => print!(" {:>12.0}", v),
                Some(v) => print!(" {:>12.1}", v),
                None => print!(" {:>12}", "-"),
            }
        }
        let vm = r.get("vm_slot");
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}", a / b),
            _ => "-".to_owned(),
        };
        println!(
            " {:>10} {:>10} {:>12}",
            ratio(vm, r.get("native")),
            ratio(r.get("cel"), vm),
            ratio(r.get("cel_prebound"), vm)
        );
    }
}

/// `MAPEXPR_PROFILE=<workload>|set30`: only the VM on a `SlotRecord`, in a loop for five
/// seconds, for `perf record` or `valgrind --tool=callgrind` (`MAPEXPR_PROFILE_ITERS` then
/// bounds the loop instead).
fn profile(name: &str) {
    let iters: Option<u64> = std::env::var("MAPEXPR_PROFILE_ITERS")
        .ok()
        .map(|v| v.parse().unwrap());
    let until = Instant::now() + Duration::from_secs(5);
    let mut env = Env::new();
    let mut ctx = env.ctx();
    let mut n = 0u64;
    let done = |n: u64| iters.map_or_else(|| n % 1024 == 0 && Instant::now() >= until, |i| n >= i);
    if name == "set30" {
        let base = common::cel_base();
        let s = common::Set30::new(&base);
        let rec = SlotRecord::new(&s.slots);
        let rec = &rec;
        let mut out: Vec<Value<'_>> = Vec::with_capacity(30);
        while !done(n) {
            out.clear();
            for p in &s.programs {
                if let Outcome::Value(v) = p.eval(black_box(rec), &mut ctx).unwrap() {
                    out.push(v);
                }
            }
            black_box(&out);
            n += 1;
        }
    } else if name == "set30api" {
        // The set through `CompiledSet::apply_with`, as the `vm_set` variant.
        let base = common::cel_base();
        let s = common::Set30::new(&base);
        let rec = SlotRecord::new(&s.set_slots);
        let rec = &rec;
        let mut out: Vec<Value<'_>> = Vec::with_capacity(30);
        while !done(n) {
            out.clear();
            s.set
                .apply_with(black_box(rec), Mode::Create, &mut ctx, |_, _, v| {
                    out.push(v)
                })
                .unwrap();
            black_box(&out);
            n += 1;
        }
    } else if name == "set30each" {
        // The set through `CompiledSet::apply_each`, as the `vm_each` variant.
        let base = common::cel_base();
        let s = common::Set30::new(&base);
        let rec = SlotRecord::new(&s.set_slots);
        let mut total = 0usize;
        while !done(n) {
            s.set
                .apply_each(black_box(&rec), Mode::Create, &mut ctx, |_, _, v| {
                    if let Value::Str(t) = v {
                        total += t.len();
                    }
                })
                .unwrap();
            n += 1;
        }
        black_box(total);
    } else if let Some(target) = name.strip_prefix("set30/") {
        // One mapping of the set, by its target attribute, on the set's record.
        let base = common::cel_base();
        let s = common::Set30::new(&base);
        let rec = SlotRecord::new(&s.slots);
        let at = common::SET30
            .iter()
            .position(|(t, _)| *t == target)
            .expect("a target attribute of the 30-mapping set");
        let p = &s.programs[at];
        while !done(n) {
            black_box(p.eval(black_box(&rec), &mut ctx).unwrap());
            n += 1;
        }
    } else {
        let w = common::workloads()
            .into_iter()
            .find(|w| w.name == name)
            .expect("a workload name");
        let p = Prepared::new(w);
        let rec = p.slot_record();
        while !done(n) {
            let out = p.program.eval(black_box(&rec), &mut ctx).unwrap();
            p.check(&out);
            n += 1;
        }
    }
    println!("{name}: {n} evaluations");
}

/// `MAPEXPR_SPLIT=1`: the 30-mapping set one mapping at a time (median ns per evaluation of
/// 21 batches), to see where a record's time goes.
fn split() {
    let base = common::cel_base();
    let s = common::Set30::new(&base);
    let rec = SlotRecord::new(&s.slots);
    let mut env = Env::new();
    let mut ctx = env.ctx();
    let mut total = 0.0;
    for ((target, expr), p) in common::SET30.iter().zip(&s.programs) {
        let mut medians = Vec::new();
        for _ in 0..21 {
            let n = 20_000u32;
            let t = Instant::now();
            for _ in 0..n {
                black_box(p.eval(black_box(&rec), &mut ctx).unwrap());
            }
            medians.push(t.elapsed().as_secs_f64() * 1e9 / f64::from(n));
        }
        medians.sort_by(f64::total_cmp);
        let m = medians[medians.len() / 2];
        total += m;
        let shown: String = expr.chars().take(60).collect();
        println!("{m:8.1} ns  {target:<28} {shown}");
    }
    println!("{total:8.1} ns  total");
}

fn main() {
    if let Ok(name) = std::env::var("MAPEXPR_PROFILE") {
        return profile(&name);
    }
    if std::env::var("MAPEXPR_SPLIT").is_ok() {
        return split();
    }
    let started = Instant::now();
    let only = std::env::var("MAPEXPR_BENCH_ONLY").ok();
    let base = common::cel_base();
    let mut rows = Vec::new();
    println!("median ns per evaluation (interleaved batches; lower is better)\n");

    for w in common::workloads() {
        if only.as_deref().is_some_and(|f| !w.name.contains(f)) {
            continue;
        }
        let mut p = Prepared::new(w);
        common::cel_expect(&mut p, &base);
        let p = &p;
        let (mut e1, mut e2) = (Env::new(), Env::new());
        #[cfg(feature = "reference")]
        let mut e3 = Env::new();
        let rec = p.slot_record();
        let mut variants: Vec<Variant<'_>> = Vec::new();
        {
            let mut ctx = e1.ctx();
            variants.push((
                "vm_slot",
                Box::new(move || {
                    let out = p.program.eval(black_box(&rec), &mut ctx).unwrap();
                    p.check(&out);
                }),
            ));
        }
        {
            let mut ctx = e2.ctx();
            variants.push((
                "vm_json",
                Box::new(move || {
                    let out = p.program.eval(black_box(&p.json), &mut ctx).unwrap();
                    p.check(&out);
                }),
            ));
        }
        variants.push((
            "native",
            Box::new(move || {
                let out = (p.w.native)(black_box(&p.slots), &p.native_idx);
                assert_eq!(out, p.w.expected.as_str());
            }),
        ));
        if p.regex.is_some() {
            variants.push((
                "regex",
                Box::new(move || {
                    let out = black_box(p).regex_direct().unwrap();
                    assert_eq!(out, p.w.expected.as_str());
                }),
            ));
        }
        #[cfg(feature = "reference")]
        {
            let mut ctx = e3.ctx();
            variants.push((
                "reference",
                Box::new(move || {
                    // By name, so on the JsonRecord: compare with vm_json.
                    let out =
                        mapexpr::reference::eval(&p.ast, black_box(&p.json), &mut ctx).unwrap();
                    p.check(&out);
                }),
            ));
        }
        if let Some(cp) = &p.cel {
            let base = &base;
            variants.push((
                "cel",
                Box::new(move || {
                    let scope = common::cel_bind(base, black_box(&cp.vars));
                    assert_eq!(cp.program.execute(&scope).unwrap(), cp.expected);
                }),
            ));
            let scope = common::cel_bind(base, &cp.vars);
            variants.push((
                "cel_prebound",
                Box::new(move || {
                    assert_eq!(cp.program.execute(black_box(&scope)).unwrap(), cp.expected);
                }),
            ));
        }
        let medians = measure(&mut variants);
        rows.push(Row {
            name: p.w.name.to_owned(),
            cols: variants.iter().map(|(n, _)| *n).zip(medians).collect(),
        });
    }

    if only.as_deref().is_none_or(|f| "set30".contains(f)) {
        rows.push(set30(&base));
    }
    print(&rows);
    println!(
        "\n(set30: ns per record for all 30 mappings; bind: slot table from a parsed JSON record)"
    );
    println!("total {:.1} s", started.elapsed().as_secs_f64());
}

fn set30(base: &cel::Context<'_>) -> Row {
    let s = common::Set30::new(base);
    let s = &s;
    #[cfg(feature = "reference")]
    let asts: Vec<_> = common::SET30
        .iter()
        .map(|(_, e)| mapexpr::syntax::parse(e).unwrap().expr)
        .collect();
    let (mut e1, mut e2, mut e3, mut e4) = (Env::new(), Env::new(), Env::new(), Env::new());
    // Like the native variant: every result is kept (in a reused vector) and the last one is
    // asserted inside the loop; all 30 are checked once before timing.
    let last = common::SET30_EXPECTED[29];
    let check_last = |out: &[Value<'_>]| match out.last() {
        Some(Value::Str(v)) if **v == *last => {}
        other => panic!("last mapping: got {other:?}"),
    };
    {
        let mut ctx = e1.ctx();
        let rec = SlotRecord::new(&s.slots);
        for (i, p) in s.programs.iter().enumerate() {
            match p.eval(&rec, &mut ctx).unwrap() {
                Outcome::Value(Value::Str(v)) if *v == *common::SET30_EXPECTED[i] => {}
                other => panic!("mapping {}: got {other:?}", common::SET30[i].0),
            }
        }
    }
    // Declared before the variants so that the results they keep may borrow from them.
    let (rec_slots, rec_set) = (SlotRecord::new(&s.slots), SlotRecord::new(&s.set_slots));
    let (rec_slots, rec_set, json) = (&rec_slots, &rec_set, &s.json);
    let mut variants: Vec<Variant<'_>> = Vec::new();
    {
        let mut ctx = e1.ctx();
        let mut out: Vec<Value<'_>> = Vec::with_capacity(30);
        variants.push((
            "vm_slot",
            Box::new(move || {
                out.clear();
                for p in &s.programs {
                    if let Outcome::Value(v) = p.eval(black_box(rec_slots), &mut ctx).unwrap() {
                        out.push(v);
                    }
                }
                check_last(&out);
            }),
        ));
    }
    {
        let mut ctx = e2.ctx();
        let mut out: Vec<Value<'_>> = Vec::with_capacity(30);
        variants.push((
            "vm_json",
            Box::new(move || {
                out.clear();
                for p in &s.programs {
                    if let Outcome::Value(v) = p.eval(black_box(json), &mut ctx).unwrap() {
                        out.push(v);
                    }
                }
                check_last(&out);
            }),
        ));
    }
    {
        // The same through the mapping-set API a sync engine uses (`CompiledSet::apply_with`).
        let mut ctx = e3.ctx();
        let set = &s.set;
        let mut out: Vec<Value<'_>> = Vec::with_capacity(30);
        variants.push((
            "vm_set",
            Box::new(move || {
                out.clear();
                set.apply_with(black_box(rec_set), Mode::Create, &mut ctx, |_, _, v| {
                    out.push(v)
                })
                .unwrap();
                check_last(&out);
            }),
        ));
    }
    {
        // Streaming, as `run` and a sync engine that serializes each value use the set:
        // `CompiledSet::apply_each` hands every result by reference (its buffer is then
        // reused for the next one); the lengths are summed and the last value asserted.
        let mut ctx = e4.ctx();
        let set = &s.set;
        variants.push((
            "vm_each",
            Box::new(move || {
                let mut total = 0usize;
                set.apply_each(black_box(rec_set), Mode::Create, &mut ctx, |i, _, v| {
                    if let Value::Str(t) = v {
                        total += t.len();
                        if i == 29 {
                            assert_eq!(**t, *last);
                        }
                    }
                })
                .unwrap();
                black_box(total);
            }),
        ));
    }
    let mut out = Vec::with_capacity(30);
    variants.push((
        "native",
        Box::new(move || {
            common::native_set30(black_box(&s.slots), &s.native_idx, &mut out);
            assert_eq!(out[29], common::SET30_EXPECTED[29]);
        }),
    ));
    // CEL keeps its results and asserts the last one too (every one was checked at setup).
    let cel_last = s.cel_expected.last().unwrap();
    let mut cel_out = Vec::with_capacity(30);
    variants.push((
        "cel",
        Box::new(move || {
            let scope = common::cel_bind(base, black_box(&s.cel_vars));
            cel_out.clear();
            cel_out.extend(s.cel.iter().map(|p| p.execute(&scope).unwrap()));
            assert_eq!(cel_out.last(), Some(cel_last));
        }),
    ));
    let scope = common::cel_bind(base, &s.cel_vars);
    let mut cel_out = Vec::with_capacity(30);
    variants.push((
        "cel_prebound",
        Box::new(move || {
            cel_out.clear();
            cel_out.extend(s.cel.iter().map(|p| p.execute(black_box(&scope)).unwrap()));
            assert_eq!(cel_out.last(), Some(cel_last));
        }),
    ));
    let obj = s.json_value.as_object().unwrap();
    let names = s.layout.names();
    let mut slots = Vec::with_capacity(names.len());
    variants.push((
        "bind",
        Box::new(move || {
            common::bind_borrowed(black_box(obj), names, &mut slots);
            assert_eq!(slots.len(), names.len());
        }),
    ));
    let index = mapexpr::mapping::bind::SlotIndex::new(names);
    variants.push((
        "bind_text",
        Box::new(move || {
            let slots = index.bind(black_box(common::USER_JSON)).unwrap();
            assert_eq!(slots.len(), names.len());
        }),
    ));
    #[cfg(feature = "reference")]
    {
        let mut e5 = Env::new();
        let asts = &asts;
        let mut out: Vec<Value<'_>> = Vec::with_capacity(30);
        // The tree walker reads by name: on the JsonRecord (compare with vm_json).
        variants.push((
            "reference",
            Box::new(move || {
                let mut ctx = e5.ctx();
                out.clear();
                for a in asts {
                    let r = mapexpr::reference::eval(a, black_box(json), &mut ctx).unwrap();
                    if let Outcome::Value(v) = r {
                        out.push(v);
                    }
                }
                check_last(&out);
            }),
        ));
    }
    let medians = measure(&mut variants);
    let cols: Vec<(&'static str, f64)> = variants.iter().map(|(n, _)| *n).zip(medians).collect();
    let get = |k: &str| cols.iter().find(|(n, _)| *n == k).map(|(_, v)| *v).unwrap();
    println!(
        "bind, the set's {} attributes: {:.1} ns from a parsed JSON object (borrowed), {:.1} ns from JSON text (mapping::bind, parse included)\n",
        names.len(),
        get("bind"),
        get("bind_text")
    );
    Row {
        name: "set30".to_owned(),
        cols,
    }
}
