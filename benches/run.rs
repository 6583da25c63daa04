//! `run/` — the batch ceiling. Generates an NDJSON file of N synthetic users (N from
//! `MAPEXPR_BENCH_USERS`, default 100 000; 1 000 000 with `MAPEXPR_BENCH_FULL=1`) in a temp
//! dir, then measures, on the file's bytes in memory:
//!
//! - what any `mapexpr run` must pay before evaluating anything — cutting lines
//!   (`lines_1thread`), and parsing every line with serde_json: into a `serde_json::Value`
//!   (`parse_value_*`, the old ceiling), into a typed struct of the record's 25 attributes with
//!   borrowed strings (`parse_borrowed_struct_1thread`, what one writes knowing the schema), and
//!   validating it while building nothing (`parse_ignored_*`, `IgnoredAny`: the fastest
//!   serde_json can read a line, and the ceiling the pipeline is held to);
//! - the mapping module's binder alone (`bind_1thread`: each line into the set's slot table);
//! - the `run` pipeline itself (`mapping::batch::run` with the 30-mapping set, output
//!   serialized to a sink, plugged in at [`run_pipeline`]), on 1 and 2 threads.

use std::borrow::Cow;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};

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
/// set, returning the dir, the mappings file and the input bytes. The dir is removed by [`Files`]'s drop.
struct Files {
    dir: PathBuf,
    mappings: PathBuf,
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
        bytes,
    }
}

/// The non-empty lines of `buf`, cut with memchr.
fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    buf.split(|b| *b == b'\n').filter(|l| !l.is_empty())
}

/// Cuts `buf` into lines and checks each is UTF-8 (what reading costs before any parsing).
fn split_lines(buf: &[u8]) -> usize {
    let mut n = 0;
    for line in lines(buf) {
        assert!(std::str::from_utf8(line).is_ok());
        n += 1;
    }
    n
}

/// Parses every line of `buf` into a `serde_json::Value` object; returns the line count.
fn parse_value(buf: &[u8]) -> usize {
    let mut n = 0;
    for line in lines(buf) {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert!(v.is_object());
        n += 1;
    }
    n
}

/// Validates every line with serde_json, building nothing (`IgnoredAny`).
fn parse_ignored(buf: &[u8]) -> usize {
    let mut n = 0;
    for line in lines(buf) {
        let text = std::str::from_utf8(line).unwrap();
        serde_json::from_str::<serde::de::IgnoredAny>(black_box(text)).unwrap();
        n += 1;
    }
    n
}

/// The synthetic user's 25 attributes, strings borrowed from the line where they have no
/// escapes; other keys are skipped.
#[allow(non_snake_case, dead_code)]
#[derive(serde::Deserialize)]
struct BorrowedUser<'a> {
    #[serde(borrow)]
    WorkerID: Option<Cow<'a, str>>,
    #[serde(borrow)]
    UserID: Option<Cow<'a, str>>,
    #[serde(borrow)]
    FirstName: Option<Cow<'a, str>>,
    #[serde(borrow)]
    LastName: Option<Cow<'a, str>>,
    #[serde(borrow)]
    PreferredFirstName: Option<Cow<'a, str>>,
    #[serde(borrow)]
    PreferredLastName: Option<Cow<'a, str>>,
    #[serde(borrow)]
    Email: Option<Cow<'a, str>>,
    #[serde(borrow)]
    WorkPhone: Option<Cow<'a, str>>,
    #[serde(borrow)]
    Mobile: Option<Cow<'a, str>>,
    #[serde(borrow)]
    BusinessTitle: Option<Cow<'a, str>>,
    #[serde(borrow)]
    Department: Option<Cow<'a, str>>,
    #[serde(borrow)]
    Company: Option<Cow<'a, str>>,
    #[serde(borrow)]
    CountryReferenceTwoLetter: Option<Cow<'a, str>>,
    #[serde(borrow)]
    City: Option<Cow<'a, str>>,
    #[serde(borrow)]
    State: Option<Cow<'a, str>>,
    #[serde(borrow)]
    PostalCode: Option<Cow<'a, str>>,
    #[serde(borrow)]
    AddressLineData: Option<Cow<'a, str>>,
    #[serde(borrow)]
    CostCenter: Option<Cow<'a, str>>,
    #[serde(borrow)]
    LocationName: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ManagerID: Option<Cow<'a, str>>,
    #[serde(borrow)]
    StatusHireDate: Option<Cow<'a, str>>,
    #[serde(borrow)]
    Active: Option<Cow<'a, str>>,
    #[serde(borrow)]
    WorkerType: Option<Cow<'a, str>>,
    #[serde(borrow)]
    JobCode: Option<Cow<'a, str>>,
    #[serde(borrow)]
    SupervisoryOrganization: Option<Cow<'a, str>>,
}

/// Parses every line into [`BorrowedUser`].
fn parse_borrowed_struct(buf: &[u8]) -> usize {
    let mut n = 0;
    for line in lines(buf) {
        let text = std::str::from_utf8(line).unwrap();
        let u: BorrowedUser<'_> = serde_json::from_str(text).unwrap();
        assert!(u.WorkerID.is_some());
        black_box(&u);
        n += 1;
    }
    n
}

/// Binds every line into the 30-mapping set's slot table (one table, reused).
fn bind_lines(buf: &[u8]) -> usize {
    let set = set30();
    let mut slots = Vec::new();
    let mut n = 0;
    for line in lines(buf) {
        let text = std::str::from_utf8(line).unwrap();
        set.bind_json_text_into(black_box(text), &mut slots)
            .unwrap();
        black_box(&slots);
        n += 1;
    }
    n
}

/// Splits `buf` at a newline near the middle and runs `f` on both halves on two threads.
fn on_2_threads(buf: &[u8], f: fn(&[u8]) -> usize) -> usize {
    let mid = buf.len() / 2;
    let cut = mid
        + buf[mid..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
    let (a, b) = buf.split_at(cut);
    std::thread::scope(|s| {
        let h = s.spawn(|| f(a));
        let nb = f(b);
        h.join().unwrap() + nb
    })
}

/// The 30-mapping set, compiled once.
fn set30() -> &'static mapexpr::mapping::CompiledSet {
    static SET: std::sync::OnceLock<mapexpr::mapping::CompiledSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| common::set30_compiled("workday-to-ad-30"))
}

/// ===== PLUG-IN POINT for the `run` pipeline =====
///
/// The library entry point behind `mapexpr run --input users.ndjson` (`mapping::batch::run`)
/// with the 30-mapping set, `threads` workers, the NDJSON read from `input` (the file's
/// bytes, in memory like the ceilings'), output and rejects serialized to a sink, a fixed
/// clock and seed. Returns the number of records written. Swap in another pipeline here; while
/// this returns `None` the `run/ndjson/pipeline_*` benchmarks are skipped.
fn run_pipeline(_mappings: &Path, input: &[u8], threads: usize) -> Option<usize> {
    use mapexpr::mapping::Mode;
    use mapexpr::mapping::batch::{BatchOptions, InputFormat};
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
    let summary = mapexpr::mapping::batch::run(
        set30(),
        input,
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
    g.bench_function("lines_1thread", |b| {
        b.iter(|| assert_eq!(split_lines(black_box(&files.bytes)), n))
    });
    g.bench_function("parse_value_1thread", |b| {
        b.iter(|| assert_eq!(parse_value(black_box(&files.bytes)), n))
    });
    g.bench_function("parse_borrowed_struct_1thread", |b| {
        b.iter(|| assert_eq!(parse_borrowed_struct(black_box(&files.bytes)), n))
    });
    g.bench_function("parse_ignored_1thread", |b| {
        b.iter(|| assert_eq!(parse_ignored(black_box(&files.bytes)), n))
    });
    g.bench_function("bind_1thread", |b| {
        b.iter(|| assert_eq!(bind_lines(black_box(&files.bytes)), n))
    });
    for threads in [1, 2] {
        if run_pipeline(&files.mappings, &files.bytes, threads).is_some() {
            g.bench_function(format!("pipeline_{threads}thread"), |b| {
                b.iter(|| {
                    assert_eq!(
                        run_pipeline(&files.mappings, black_box(&files.bytes), threads),
                        Some(n)
                    )
                })
            });
        }
    }
    g.bench_function("parse_value_2threads", |b| {
        b.iter(|| assert_eq!(on_2_threads(black_box(&files.bytes), parse_value), n))
    });
    g.bench_function("parse_ignored_2threads", |b| {
        b.iter(|| assert_eq!(on_2_threads(black_box(&files.bytes), parse_ignored), n))
    });
    g.finish();
}

/// `MAPEXPR_RUN_ONCE=<what>:<file>` runs one variant once over a saved input instead of the
/// benchmarks, for callgrind: instruction counts over N and 2N users, subtracted, give the
/// exact cost per record without the start-up (the timings here are too noisy to steer by).
/// `generate:<file>` writes `MAPEXPR_BENCH_USERS` users to `<file>`; `pipeline1`,
/// `pipeline2`, `bind`, `ignored`, `borrowed` and `lines` run over it.
fn run_once(spec: &str) {
    let (what, file) = spec
        .split_once(':')
        .expect("MAPEXPR_RUN_ONCE is <what>:<file>");
    if what == "generate" {
        let files = generate(users());
        std::fs::write(file, &files.bytes).unwrap();
        return;
    }
    let bytes = std::fs::read(file).unwrap();
    let n = match what {
        "pipeline1" => run_pipeline(Path::new(""), &bytes, 1).unwrap(),
        "pipeline2" => run_pipeline(Path::new(""), &bytes, 2).unwrap(),
        "bind" => bind_lines(&bytes),
        "ignored" => parse_ignored(&bytes),
        "borrowed" => parse_borrowed_struct(&bytes),
        "lines" => split_lines(&bytes),
        other => panic!("unknown MAPEXPR_RUN_ONCE variant {other}"),
    };
    eprintln!("{what}: {n} records");
}

criterion_group!(benches, run);

fn main() {
    if let Ok(spec) = std::env::var("MAPEXPR_RUN_ONCE") {
        run_once(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
