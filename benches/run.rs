//! `run/` — the batch ceiling. Generates an NDJSON file of N synthetic users (N from
//! `MAPEXPR_BENCH_USERS`, default 100 000; 1 000 000 with `MAPEXPR_BENCH_FULL=1`) in a temp
//! dir, then measures what any `mapexpr run` must pay before evaluating anything: reading the
//! file and parsing every line with serde_json, on 1 and 2 threads; then the `run` pipeline
//! itself (`mapping::batch::run` with the 30-mapping set, plugged in at [`run_pipeline`]).

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;

fn users() -> usize {
    if let Ok(n) = std::env::var("MAPEXPR_BENCH_USERS") {
        return n.parse().expect("MAPEXPR_BENCH_USERS is a number");
    }
    if std::env::var("MAPEXPR_BENCH_FULL").is_ok_and(|v| v == "1") {
        1_000_000
    } else {
        100_000
    }
}

/// Writes `n` users shaped like `common::USER_JSON` (values vary per user) and the 30-mapping
/// set, returning (dir, mappings file, input file). The dir is removed by [`Files`]'s drop.
struct Files {
    dir: PathBuf,
    mappings: PathBuf,
    input: PathBuf,
    bytes: Vec<u8>,
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn generate(n: usize) -> Files {
    let dir = std::env::temp_dir().join(format!("mapexpr-bench-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let template: serde_json::Value = serde_json::from_str(common::USER_JSON).unwrap();
    let input = dir.join("users.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    let countries = ["SE", "US", "DE", "FR", "GB", "AU"];
    for i in 0..n {
        let mut u = template.clone();
        let o = u.as_object_mut().unwrap();
        o.insert("WorkerID".into(), format!("{}", 21_000_000 + i).into());
        o.insert("UserID".into(), format!("user{i}").into());
        o.insert("FirstName".into(), format!("Zoë{}", i % 997).into());
        o.insert(
            "LastName".into(),
            format!("Åkesson-Müller {}", i % 1009).into(),
        );
        o.insert("Email".into(), format!("user{i}@contoso.com").into());
        o.insert(
            "CountryReferenceTwoLetter".into(),
            countries[i % countries.len()].into(),
        );
        o.insert("Active".into(), if i % 10 == 0 { "0" } else { "1" }.into());
        serde_json::to_writer(&mut out, &u).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    drop(out);
    // The mapping file's format belongs to the `run` branch; this is one target=expression
    // per line, to adapt when plugging the pipeline in.
    let mappings = dir.join("mappings.txt");
    let text: String = common::SET30
        .iter()
        .map(|(t, e)| format!("{t}={e}\n"))
        .collect();
    std::fs::write(&mappings, text).unwrap();
    let bytes = std::fs::read(&input).unwrap();
    Files {
        dir,
        mappings,
        input,
        bytes,
    }
}

/// Parses every line of `buf` into a `serde_json::Value` object; returns the line count.
fn parse_lines(buf: &[u8]) -> usize {
    let mut n = 0;
    for line in buf.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert!(v.is_object());
        n += 1;
    }
    n
}

/// Splits `buf` at a newline near the middle and parses both halves on two threads.
fn parse_lines_2(buf: &[u8]) -> usize {
    let mid = buf.len() / 2;
    let cut = mid
        + buf[mid..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
    let (a, b) = buf.split_at(cut);
    std::thread::scope(|s| {
        let h = s.spawn(|| parse_lines(a));
        let nb = parse_lines(b);
        h.join().unwrap() + nb
    })
}

/// ===== PLUG-IN POINT for the `run` pipeline =====
///
/// The library entry point behind `mapexpr run --input users.ndjson` (`mapping::batch::run`)
/// with the 30-mapping set, `threads` workers, output and rejects to a sink, a fixed clock
/// and seed. Returns the number of records written. Swap in another pipeline here; while
/// this returns `None` the `run/ndjson/pipeline_*` benchmarks are skipped.
fn run_pipeline(_mappings: &Path, input: &Path, threads: usize) -> Option<usize> {
    use mapexpr::mapping::batch::{BatchOptions, InputFormat};
    use mapexpr::mapping::{Apply, CompiledSet, Mapping, MappingSet, Mode, Source};
    use std::sync::OnceLock;
    static SET: OnceLock<CompiledSet> = OnceLock::new();
    let set = SET.get_or_init(|| {
        let set = MappingSet {
            name: Some("workday-to-ad-30".into()),
            mappings: common::SET30
                .iter()
                .enumerate()
                .map(|(i, (t, e))| Mapping {
                    target: (*t).into(),
                    source: Source::Expression((*e).into()),
                    default: None,
                    apply: Apply::Always,
                    matching_priority: 0,
                    origin: format!("mappings[{i}]"),
                })
                .collect(),
        };
        CompiledSet::compile(&set, &mapexpr::CompileOptions::default()).unwrap()
    });
    let oracle = mapexpr::TakenSet::new();
    let opts = BatchOptions {
        threads,
        mode: Mode::Create,
        now: Some(mapexpr::DateTime::MIN),
        seed: Some(7),
        oracle: &oracle,
        limits: mapexpr::Limits::default(),
        chunk_records: 512,
    };
    let file = std::fs::File::open(input).unwrap();
    let summary = mapexpr::mapping::batch::run(
        set,
        file,
        InputFormat::Ndjson,
        &mut std::io::sink(),
        &mut std::io::sink(),
        &opts,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(summary.rejected, 0, "no synthetic user is rejected");
    Some(summary.written as usize)
}

fn run(c: &mut Criterion) {
    let n = users();
    let files = generate(n);
    eprintln!(
        "run/: {n} users, {:.1} MB of NDJSON ({} bytes/user) in {}",
        files.bytes.len() as f64 / 1e6,
        files.bytes.len() / n.max(1),
        files.dir.display()
    );
    let mut g = c.benchmark_group("run/ndjson");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(if n > 200_000 { 20 } else { 5 }));
    g.bench_function("read_parse_1thread", |b| {
        b.iter(|| {
            let buf = std::fs::read(black_box(&files.input)).unwrap();
            assert_eq!(parse_lines(&buf), n);
        })
    });
    g.bench_function("parse_1thread", |b| {
        b.iter(|| assert_eq!(parse_lines(black_box(&files.bytes)), n))
    });
    g.bench_function("parse_2threads", |b| {
        b.iter(|| assert_eq!(parse_lines_2(black_box(&files.bytes)), n))
    });
    for threads in [1, 2] {
        if run_pipeline(&files.mappings, &files.input, threads).is_some() {
            g.bench_function(format!("pipeline_{threads}thread"), |b| {
                b.iter(|| {
                    assert_eq!(
                        run_pipeline(&files.mappings, &files.input, threads),
                        Some(n)
                    )
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, run);
criterion_main!(benches);
