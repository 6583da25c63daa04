//! Allocations of the batch path in steady state (counted, not timed): binding a JSON line
//! into a reused slot table, binding an engine's record with a `Binder`, and a whole `run`
//! whose mappings allocate nothing themselves, which must not allocate per record.
//!
//! Its own test binary because it installs a counting `#[global_allocator]` (a test-only
//! `unsafe impl GlobalAlloc`, outside the library crate, like `tests/alloc.rs`). The count is
//! process-wide, since `run` works on several threads, so the binary has no libtest harness
//! (`harness = false` in Cargo.toml): its `main` runs the one check with no other thread of
//! the test process alive. Under libtest the harness's main thread could allocate (its
//! bookkeeping for the running test) inside an open count on a loaded machine, which made
//! the check flaky in CI.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use mapexpr::mapping::batch::{BatchOptions, InputFormat, run};
use mapexpr::mapping::bind::{Binder, Field};
use mapexpr::mapping::{CompiledSet, MappingSet, Mode};
use mapexpr::{CompileOptions, Limits, TakenSet};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the only
// addition is an atomic counter increment, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs_of(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    f();
    ALLOCS.load(Ordering::Relaxed) - before
}

/// Direct and pass-through mappings, a constant and an Ignore: the VM allocates nothing for
/// them, so whatever `run` allocates per record is the batch path's own.
const SET: &str = r#"[
    {"target": "id", "attribute": "id"},
    {"target": "name", "expression": "[name]"},
    {"target": "company", "constant": "Contoso"},
    {"target": "phone", "expression": "IgnoreFlowIfNullOrEmpty([phone])"},
    {"target": "dept", "attribute": "dept", "default": "none"}
]"#;

fn input(records: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..records {
        let phone = if i % 3 == 0 { "" } else { "+1 425 555 0100" };
        out.extend_from_slice(
            format!(
                "{{\"id\": \"{i}\", \"name\": \"Zoë Åkesson {i}\", \"phone\": \"{phone}\", \"unused\": [1, {{\"a\": null}}], \"title\": \"Engineer\"}}\n"
            )
            .as_bytes(),
        );
    }
    out
}

fn run_batch(set: &CompiledSet, input: &[u8], threads: usize) -> (usize, Vec<u8>) {
    let oracle = TakenSet::new();
    let opts = BatchOptions {
        threads,
        mode: Mode::Create,
        now: None,
        seed: Some(3),
        oracle: &oracle,
        limits: Limits::default(),
        chunk_records: 256,
    };
    let mut out = Vec::with_capacity(input.len() * 2);
    let summary = run(
        set,
        input,
        InputFormat::Ndjson,
        &mut out,
        &mut std::io::sink(),
        &opts,
        &mut |_| {},
    )
    .expect("the run completes");
    assert_eq!(summary.rejected, 0);
    (summary.written as usize, out)
}

fn main() {
    batch_path_does_not_allocate_per_record();
    println!("alloc_batch: batch_path_does_not_allocate_per_record ... ok");
}

fn batch_path_does_not_allocate_per_record() {
    let set = MappingSet::from_json_str(SET).expect("the set loads");
    let set = CompiledSet::compile(&set, &CompileOptions::default()).expect("the set compiles");

    // Binding a line into a reused table: nothing once the table exists. (Text with escapes
    // is the one copy the binder makes, so these lines have none.)
    let line = r#"{"id": "7", "name": "Zoë Åkesson", "phone": "555", "unused": [1, {"a": null}], "dept": "IT"}"#;
    let mut slots = Vec::new();
    set.bind_json_text_into(line, &mut slots).expect("binds");
    let n = allocs_of(|| {
        for _ in 0..100 {
            set.bind_json_text_into(line, &mut slots).expect("binds");
        }
    });
    assert_eq!(n, 0, "bind_json_text_into allocated {n} times in 100 lines");

    // An engine's records through a Binder: nothing, either way.
    let fields = ["dept", "id", "name", "phone"];
    let users: Vec<[String; 4]> = (0..50)
        .map(|i| {
            [
                "IT".into(),
                format!("{i}"),
                format!("user {i}"),
                String::new(),
            ]
        })
        .collect();
    let mut binder = Binder::new(set.attributes(), |a| fields.iter().position(|f| *f == a));
    let mut table = Vec::new();
    binder.bind_into(&mut table, |f| Field::Str(&users[0][f]));
    drop(binder.bind(|f| Field::Str(&users[0][f])));
    let n = allocs_of(|| {
        for u in &users {
            binder.bind_into(&mut table, |f| Field::Str(&u[f]));
            let bound = binder.bind(|f| Field::Str(&u[f]));
            assert_eq!(bound.fields().len(), table.len());
        }
    });
    assert_eq!(n, 0, "the binder allocated {n} times for 50 users");

    // A whole run: the allocations of 4 000 more records are a few per chunk at most (the
    // ordering map's node), not per record.
    for threads in [1, 2] {
        let (small, big) = (input(2_000), input(6_000));
        let mut outs = Vec::new();
        let a = allocs_of(|| outs.push(run_batch(&set, &small, threads)));
        let b = allocs_of(|| outs.push(run_batch(&set, &big, threads)));
        assert_eq!(outs[0].0, 2_000);
        assert_eq!(outs[1].0, 6_000);
        let per_record = (b as f64 - a as f64) / 4_000.0;
        assert!(
            per_record < 0.05,
            "{threads} thread(s): {a} allocations for 2 000 records, {b} for 6 000 ({per_record:.3} per record)"
        );
        // The output is what the set says, in order.
        let first = outs[1].1.split(|b| *b == b'\n').next().unwrap_or_default();
        assert_eq!(
            std::str::from_utf8(first).unwrap(),
            r#"{"id":"0","name":"Zoë Åkesson 0","company":"Contoso","dept":"none"}"#
        );
    }
}
