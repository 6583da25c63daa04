//! `mapexpr run`: apply a mapping set to every record of an NDJSON or CSV file.
//!
//! The record/reject contract is documented on `mapexpr::mapping::batch`. Exit status: 0 when
//! every record was written, 1 when some were rejected (the output is still complete for the
//! others), 2 when the run could not start or stopped (unreadable files, a mapping set that
//! does not compile, an I/O error).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;
use mapexpr::mapping::batch::{self, BatchOptions, InputFormat, Summary};
use mapexpr::mapping::{CompiledSet, MappingSet, Mode};
use mapexpr::{CompileOptions, Severity, TakenSet};

/// Arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// The mapping set: mapexpr's JSON format or an exported Entra synchronization schema.
    #[arg(long)]
    mappings: PathBuf,
    /// With an exported schema: the object mapping to run (its name, source or target object
    /// name); default the first enabled one.
    #[arg(long)]
    object: Option<String>,
    /// The records: `.ndjson`/`.jsonl` (one JSON object per line) or `.csv` (header row =
    /// attribute names; an empty cell is absent; a cell holding a JSON array such as
    /// `["a","b"]` is multi-valued); `-` reads standard input (NDJSON unless --input-format).
    #[arg(long)]
    input: PathBuf,
    /// The input format, when the file extension does not tell.
    #[arg(long, value_enum)]
    input_format: Option<InFormat>,
    /// Where output records go (NDJSON); default standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Where rejected records go (NDJSON, with line number, failing mappings and errors). A
    /// record with any failing mapping is rejected whole: nothing of it reaches the output.
    /// Default: the first few are shown on standard error.
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Worker threads; default the number of cores.
    #[arg(long)]
    threads: Option<usize>,
    /// The instant `Now()` returns (RFC 3339); default the system clock.
    #[arg(long)]
    now: Option<String>,
    /// Seed for Guid and RandomString (the same seed gives the same output).
    #[arg(long)]
    seed: Option<u64>,
    /// `create`: every mapping applies; `update`: create-only mappings are left out.
    #[arg(long, value_enum, default_value = "create")]
    mode: RunMode,
    /// Source attribute schema (JSON) for unknown-attribute and case checks.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// A value that already exists in the target (SelectUniqueValue); repeatable. The set is
    /// read-only: values produced during the run are not added to it.
    #[arg(long)]
    taken: Vec<String>,
    /// A file of taken values, one per line.
    #[arg(long)]
    taken_file: Option<PathBuf>,
    /// Show the mapping set's warnings.
    #[arg(long)]
    warnings: bool,
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    limits: super::LimitArgs,
}

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InFormat {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// Run modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunMode {
    /// The objects are created: every mapping applies.
    Create,
    /// The objects exist: create-only mappings are left out.
    Update,
}

/// The output buffer (see where it is used).
const WRITE_BUFFER: usize = 64 << 10;

/// How many rejects are shown on standard error without `--rejects`.
const SHOWN_REJECTS: usize = 10;

/// Runs `run`.
pub fn run(a: Args) -> i32 {
    match start(a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn start(a: Args) -> Result<i32, String> {
    let set = MappingSet::load(&super::read_text(&a.mappings)?, a.object.as_deref())
        .map_err(|e| format!("`{}`: {e}", a.mappings.display()))?;
    let schema = super::load_schema(a.schema.as_deref())?;
    let compiled = match CompiledSet::compile(
        &set,
        &CompileOptions {
            schema: schema.as_ref(),
            limits: a.limits.limits(),
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            super::print_set_diagnostics(&e.mappings, Severity::Warning);
            let n = e
                .mappings
                .iter()
                .filter(|m| m.diagnostics.iter().any(|d| d.is_error()))
                .count();
            return Err(format!(
                "{n} mapping(s) of `{}` do not compile",
                a.mappings.display()
            ));
        }
    };
    if a.warnings {
        super::print_set_diagnostics(compiled.warnings(), Severity::Warning);
    }
    if !a.quiet {
        let name = set
            .name
            .as_deref()
            .map(|n| format!("`{n}`: "))
            .unwrap_or_default();
        eprintln!(
            "mapping set {name}{} mapping(s) reading {} source attribute(s)",
            set.mappings.len(),
            compiled.attributes().len()
        );
    }
    let now = match &a.now {
        Some(t) => Some(
            mapexpr::datetime::parse_rfc3339(t)
                .ok_or_else(|| format!("--now `{t}` is not an RFC 3339 instant"))?,
        ),
        None => None,
    };
    let mut oracle: TakenSet = a.taken.iter().collect();
    if let Some(path) = &a.taken_file {
        super::read_text(path)?
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.is_empty())
            .for_each(|l| oracle.insert(l));
    }
    let format = match a.input_format {
        Some(InFormat::Csv) => InputFormat::Csv,
        Some(InFormat::Ndjson) => InputFormat::Ndjson,
        None => match a.input.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => InputFormat::Csv,
            _ => InputFormat::Ndjson,
        },
    };
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let opts = BatchOptions {
        threads,
        mode: if a.mode == RunMode::Update {
            Mode::Update
        } else {
            Mode::Create
        },
        now,
        seed: a.seed,
        oracle: &oracle,
        limits: a.limits.limits(),
        chunk_records: 512,
    };

    // The batch hands over whole chunks (hundreds of KB): a buffer smaller than a chunk lets
    // `BufWriter` pass them straight to the file instead of copying them first, while small
    // writes (a chunk of rejects) are still gathered.
    let mut output: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(BufWriter::with_capacity(WRITE_BUFFER, create(p)?)),
        None => Box::new(BufWriter::with_capacity(
            WRITE_BUFFER,
            std::io::stdout().lock(),
        )),
    };
    let mut rejects: Box<dyn Write> = match &a.rejects {
        Some(p) => Box::new(BufWriter::with_capacity(WRITE_BUFFER, create(p)?)),
        None => Box::new(StderrRejects { shown: 0 }),
    };

    let started = Instant::now();
    let (input, size): (Box<dyn std::io::Read + Send>, Option<u64>) = if a.input.as_os_str() == "-"
    {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = File::open(&a.input)
            .map_err(|e| format!("cannot read `{}`: {e}", a.input.display()))?;
        let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        (Box::new(f), size)
    };
    let bar = progress_bar(size, a.quiet);
    let mut on_progress = |s: &Summary| {
        if let Some(bar) = &bar {
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            if size.is_some() {
                bar.set_position(s.bytes);
            }
            bar.set_message(format!(
                "{} records ({:.0}/s), {} rejected",
                s.read,
                s.read as f64 / secs,
                s.rejected
            ));
        }
    };
    let result = batch::run(
        &compiled,
        input,
        format,
        &mut output,
        &mut rejects,
        &opts,
        &mut on_progress,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    drop(output);
    let summary = result?;
    if a.rejects.is_none() && summary.rejected as usize > SHOWN_REJECTS {
        eprintln!(
            "… and {} more rejected record(s); use --rejects FILE to keep them all",
            summary.rejected as usize - SHOWN_REJECTS
        );
    }
    if !a.quiet {
        let secs = started.elapsed().as_secs_f64();
        let blank = if summary.blank > 0 {
            format!(", {} blank line(s) skipped", summary.blank)
        } else {
            String::new()
        };
        eprintln!(
            "read {} record(s): {} written, {} rejected{blank} in {secs:.2}s ({:.0} records/s, {threads} thread(s))",
            summary.read,
            summary.written,
            summary.rejected,
            summary.read as f64 / secs.max(1e-9),
        );
    }
    Ok(if summary.rejected > 0 { 1 } else { 0 })
}

fn create(p: &std::path::Path) -> Result<File, String> {
    File::create(p).map_err(|e| format!("cannot write `{}`: {e}", p.display()))
}

/// A progress bar on a terminal only: records/s always, percentage and ETA when the input
/// size is known.
fn progress_bar(size: Option<u64>, quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let target = indicatif::ProgressDrawTarget::stderr_with_hz(4);
    let bar = match size {
        Some(len) => {
            let bar = indicatif::ProgressBar::with_draw_target(Some(len), target);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} ETA {eta}")
            {
                bar.set_style(style);
            }
            bar
        }
        None => {
            let bar = indicatif::ProgressBar::with_draw_target(None, target);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar
        }
    };
    Some(bar)
}

/// Without `--rejects`, the first few reject lines are shown on standard error.
struct StderrRejects {
    shown: usize,
}

impl Write for StderrRejects {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for line in buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if self.shown < SHOWN_REJECTS {
                self.shown += 1;
                eprintln!("rejected: {}", String::from_utf8_lossy(line));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
