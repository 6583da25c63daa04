//! Streaming batch runs: NDJSON or CSV records in, one output record per input record out, in
//! input order, on all cores, in memory bounded independently of the input size.
//!
//! Shape: a reader thread cuts the input into chunks of lines and sends them over a bounded
//! channel to worker threads; workers bind and evaluate each record and serialize the results;
//! the calling thread writes finished chunks in sequence. A fixed number of *tokens* circulates
//! from the writer back to the reader, and the reader needs one to start a chunk, so at most
//! that many chunks exist at once — read, in a worker, or waiting for an earlier chunk — even
//! when one chunk is slow.
//!
//! Records and failures (the contract the CLI documents):
//! - A record with any failing mapping is **rejected whole**: nothing of it is written to the
//!   output, and its reject entry lists every failing mapping. Unusable input (invalid UTF-8,
//!   bad JSON, not an object, a value mapexpr cannot represent in an attribute the set reads,
//!   a CSV row with the wrong number of fields) is rejected with target `null`, code
//!   `invalid-input`.
//! - A reject is one JSON line: `{"line": 7, "errors": [{"target": "mail", "code":
//!   "invalid-date", "message": "…"}], "input": …}`; `input` is the record as read (the JSON
//!   object, a CSV row as an object of header → cell, or the line as text when it is not
//!   JSON, invalid UTF-8 replaced by U+FFFD). `line` is the 1-based physical line where the
//!   record starts.
//! - NDJSON lines holding only white space are skipped and counted as `blank`; every other
//!   line is a record, so `read = written + rejected`.
//! - Output: one JSON object per line, attributes in mapping order. A Null result (after the
//!   default) is written as `null` (the attribute is cleared); an IgnoreFlowIfNullOrEmpty
//!   outcome and a create-only mapping in update mode leave the attribute out.
//! - CSV: the header row names the attributes; an empty cell is Null (absent); a cell whose
//!   text is a JSON array (`["a","b"]`) is multi-valued, read like an NDJSON array; any other
//!   cell is text. All values are text, which every parameter kind accepts (integer text in
//!   Integer slots, `True`/`False` in Boolean slots).
//! - `Now()` is read once per record (every mapping of a record sees the same instant). With
//!   a seed, each record's Guid/RandomString stream is derived from the seed and the record's
//!   line number, so the output does not depend on the thread count.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde_json::Value as Json;

use super::bind::BindError;
use super::compiled::input_failure;
use super::{CompiledSet, Failure, Mode, value_to_json};
use crate::context::{FixedClock, Limits, RandomSource, UniquenessOracle};
use crate::datetime::DateTime;
use crate::functions::generate::SeededRng;
use crate::value::{SlotRecord, Value, json_to_value};
use crate::vm::EvalContext;

/// The input's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// How a batch runs.
pub struct BatchOptions<'o> {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Create (every mapping) or update (create-only mappings skipped).
    pub mode: Mode,
    /// The instant `Now()` returns; `None` = the system clock, read once per record.
    pub now: Option<DateTime>,
    /// Seed for Guid/RandomString; `None` = operating-system entropy.
    pub seed: Option<u64>,
    /// The SelectUniqueValue oracle (read-only: values produced during the run are not added).
    pub oracle: &'o dyn UniquenessOracle,
    /// Evaluation limits.
    pub limits: Limits,
    /// Records per chunk.
    pub chunk_records: usize,
}

/// Counts of a run; `read = written + rejected`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records read (blank lines excluded).
    pub read: u64,
    /// Records written to the output.
    pub written: u64,
    /// Records written to the rejects.
    pub rejected: u64,
    /// Blank NDJSON lines skipped.
    pub blank: u64,
    /// Input bytes consumed so far.
    pub bytes: u64,
}

/// Streams `input` through `set`, writing output and reject lines; calls `progress` after
/// every chunk with the running counts. Errors are I/O failures (the run stops); failing
/// records are not errors.
pub fn run<R: Read + Send>(
    set: &CompiledSet,
    input: R,
    format: InputFormat,
    output: &mut dyn Write,
    rejects: &mut dyn Write,
    opts: &BatchOptions<'_>,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let threads = opts.threads.max(1);
    let in_flight = threads * 4;
    let chunk_records = opts.chunk_records.max(1);
    let (work_tx, work_rx) = sync_channel::<Chunk>(in_flight);
    let (done_tx, done_rx) = sync_channel::<Done>(in_flight);
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(());
    }
    // CSV headers are read before any thread starts, so every worker shares them.
    let (source, columns) = match format {
        InputFormat::Ndjson => (
            Source::Lines(BufReader::with_capacity(1 << 18, input)),
            None,
        ),
        InputFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(true)
                .from_reader(input);
            let header = reader
                .byte_headers()
                .map_err(|e| format!("cannot read the CSV header: {e}"))?
                .clone();
            let mut names = Vec::with_capacity(header.len());
            for (i, h) in header.iter().enumerate() {
                let h = std::str::from_utf8(h)
                    .map_err(|_| format!("CSV header column {} is not valid UTF-8", i + 1))?;
                names.push(h.trim_start_matches('\u{feff}').to_owned());
            }
            let slots = set
                .attributes()
                .iter()
                .map(|a| names.iter().position(|n| n == a))
                .collect();
            (
                Source::Csv(Box::new(reader)),
                Some(CsvColumns { names, slots }),
            )
        }
    };
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_chunks(source, chunk_records, &work_tx, &token_rx));
        for _ in 0..threads {
            let (work_rx, done_tx, columns) = (&work_rx, done_tx.clone(), columns.as_ref());
            s.spawn(move || work(set, opts, columns, work_rx, &done_tx));
        }
        drop(done_tx);
        let written = write_chunks(done_rx, token_tx, output, rejects, progress);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err("the reader thread stopped unexpectedly".to_owned()));
        let summary = written?;
        read?;
        Ok(summary)
    })
}

enum Source<R: Read> {
    Lines(BufReader<R>),
    Csv(Box<csv::Reader<R>>),
}

struct CsvColumns {
    names: Vec<String>,
    /// For each slot of the set's layout, the column holding it.
    slots: Vec<Option<usize>>,
}

struct Chunk {
    seq: u64,
    items: Vec<Item>,
    end_offset: u64,
}

enum Item {
    Blank,
    /// A line over [`MAX_LINE`] bytes: only its length and first bytes are kept.
    TooLong {
        line: u64,
        len: usize,
        head: Vec<u8>,
    },
    Line {
        line: u64,
        bytes: Vec<u8>,
    },
    Csv {
        line: u64,
        record: csv::ByteRecord,
    },
}

/// A finished chunk: serialized output and reject lines, and counts.
struct Done {
    seq: u64,
    out: Vec<u8>,
    rej: Vec<u8>,
    written: u64,
    rejected: u64,
    blank: u64,
    end_offset: u64,
}

/// Stop starting new chunks past this many bytes, so huge lines do not make huge chunks.
const CHUNK_BYTES: usize = 4 << 20;

/// A longer NDJSON line is rejected without being held in memory, which keeps memory bounded
/// even for an input that is one enormous line.
pub const MAX_LINE: usize = 16 << 20;

/// How much of an over-long line is echoed in its reject entry.
const ECHO_HEAD: usize = 256;

/// Reads one line (with its `\n`) into `buf`, keeping at most `MAX_LINE + 1` bytes; returns
/// the full length consumed. A longer line is consumed to its end, and `buf` then holds only
/// its first [`ECHO_HEAD`] bytes.
fn read_line_capped<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0usize;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        let (take, done) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if total <= MAX_LINE {
            let room = (MAX_LINE + 1).saturating_sub(buf.len());
            buf.extend_from_slice(avail.get(..take.min(room)).unwrap_or_default());
        }
        total += take;
        r.consume(take);
        if total > MAX_LINE {
            buf.truncate(ECHO_HEAD);
        }
        if done {
            break;
        }
    }
    Ok(total)
}

fn read_chunks<R: Read>(
    mut source: Source<R>,
    chunk_records: usize,
    work: &SyncSender<Chunk>,
    tokens: &Receiver<()>,
) -> Result<(), String> {
    let mut seq = 0u64;
    let mut line = 0u64;
    let mut offset = 0u64;
    loop {
        // A token is free only when fewer than the limit of chunks exist; the writer hangs up
        // when it stops early, and then reading stops too.
        if tokens.recv().is_err() {
            return Ok(());
        }
        let mut items = Vec::with_capacity(chunk_records);
        let mut bytes = 0usize;
        let mut eof = false;
        while items.len() < chunk_records && bytes < CHUNK_BYTES {
            match &mut source {
                Source::Lines(r) => {
                    let mut buf = Vec::new();
                    let n = read_line_capped(r, &mut buf)
                        .map_err(|e| format!("cannot read the input: {e}"))?;
                    if n == 0 {
                        eof = true;
                        break;
                    }
                    line += 1;
                    offset += n as u64;
                    bytes += buf.len();
                    if n > MAX_LINE {
                        items.push(Item::TooLong {
                            line,
                            len: n,
                            head: buf,
                        });
                        continue;
                    }
                    if buf.last() == Some(&b'\n') {
                        buf.pop();
                        if buf.last() == Some(&b'\r') {
                            buf.pop();
                        }
                    }
                    if buf.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                        items.push(Item::Blank);
                    } else {
                        items.push(Item::Line { line, bytes: buf });
                    }
                }
                Source::Csv(r) => {
                    let mut record = csv::ByteRecord::new();
                    let more = r
                        .read_byte_record(&mut record)
                        .map_err(|e| format!("cannot read the CSV input: {e}"))?;
                    if !more {
                        eof = true;
                        break;
                    }
                    let at = record.position().map_or(0, |p| p.line());
                    bytes += record.as_slice().len();
                    offset = r.position().byte();
                    items.push(Item::Csv { line: at, record });
                }
            }
        }
        if !items.is_empty() {
            if work
                .send(Chunk {
                    seq,
                    items,
                    end_offset: offset,
                })
                .is_err()
            {
                return Ok(());
            }
            seq += 1;
        }
        if eof {
            return Ok(());
        }
    }
}

fn work(
    set: &CompiledSet,
    opts: &BatchOptions<'_>,
    columns: Option<&CsvColumns>,
    work: &Mutex<Receiver<Chunk>>,
    done: &SyncSender<Done>,
) {
    let mut entropy = if opts.seed.is_none() {
        Some(SeededRng::from_entropy())
    } else {
        None
    };
    loop {
        let chunk = match work.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(chunk) = chunk else { return };
        let mut d = Done {
            seq: chunk.seq,
            out: Vec::with_capacity(chunk.items.len() * 256),
            rej: Vec::new(),
            written: 0,
            rejected: 0,
            blank: 0,
            end_offset: chunk.end_offset,
        };
        for item in &chunk.items {
            let (line, result) = match item {
                Item::Blank => {
                    d.blank += 1;
                    continue;
                }
                Item::TooLong { line, len, head } => {
                    let msg = format!("the line is {len} bytes long; the limit is {MAX_LINE}");
                    let echo =
                        Echo::Value(Json::String(format!("{}…", String::from_utf8_lossy(head))));
                    (*line, Err((vec![input_failure(msg)], echo)))
                }
                Item::Line { line, bytes } => (
                    *line,
                    json_record(set, opts, bytes, *line, entropy.as_mut(), &mut d.out),
                ),
                Item::Csv { line, record } => match columns {
                    Some(cols) => (
                        *line,
                        csv_record(set, opts, cols, record, *line, entropy.as_mut(), &mut d.out),
                    ),
                    None => continue,
                },
            };
            match result {
                Ok(()) => d.written += 1,
                Err((failures, input)) => {
                    d.rejected += 1;
                    write_reject(&mut d.rej, line, &failures, &input);
                }
            }
        }
        if done.send(d).is_err() {
            return;
        }
    }
}

/// How a rejected record is echoed: raw JSON text, or a JSON value built from it.
enum Echo {
    Raw(String),
    Value(Json),
}

type Rejected = (Vec<Failure>, Echo);

fn json_record(
    set: &CompiledSet,
    opts: &BatchOptions<'_>,
    bytes: &[u8],
    line: u64,
    entropy: Option<&mut SeededRng>,
    out: &mut Vec<u8>,
) -> Result<(), Rejected> {
    let lossy = || Echo::Value(Json::String(String::from_utf8_lossy(bytes).into_owned()));
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let msg = format!(
                "the line is not valid UTF-8 (invalid byte at column {})",
                e.valid_up_to() + 1
            );
            return Err((vec![input_failure(msg)], lossy()));
        }
    };
    let slots = match set.bind_json_text(text) {
        Ok(slots) => slots,
        Err(BindError::Input(e)) => {
            return Err((vec![input_failure(e.message)], Echo::Raw(text.to_owned())));
        }
        Err(BindError::Syntax(e)) => {
            // Only on the error path: tell "not JSON" from "JSON but not an object".
            let failure = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => {
                    return Err((
                        vec![input_failure("the record must be a JSON object")],
                        Echo::Raw(text.to_owned()),
                    ));
                }
                Err(_) => input_failure(format!("the line is not valid JSON: {e}")),
            };
            return Err((vec![failure], lossy()));
        }
    };
    evaluate(set, opts, &slots, line, entropy, out).map_err(|f| (f, Echo::Raw(text.to_owned())))
}

fn csv_record(
    set: &CompiledSet,
    opts: &BatchOptions<'_>,
    cols: &CsvColumns,
    record: &csv::ByteRecord,
    line: u64,
    entropy: Option<&mut SeededRng>,
    out: &mut Vec<u8>,
) -> Result<(), Rejected> {
    let echo = || {
        let mut o = serde_json::Map::new();
        for (i, cell) in record.iter().enumerate() {
            let name = cols
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("column{}", i + 1));
            o.insert(
                name,
                Json::String(String::from_utf8_lossy(cell).into_owned()),
            );
        }
        Echo::Value(Json::Object(o))
    };
    if record.len() != cols.names.len() {
        let msg = format!(
            "the row has {} fields, the header has {}",
            record.len(),
            cols.names.len()
        );
        return Err((vec![input_failure(msg)], echo()));
    }
    let mut slots = Vec::with_capacity(cols.slots.len());
    for (slot, col) in cols.slots.iter().enumerate() {
        let Some(cell) = col.and_then(|c| record.get(c)) else {
            slots.push(Value::Null);
            continue;
        };
        let name = set.attributes().get(slot).map_or("", String::as_str);
        let Ok(text) = std::str::from_utf8(cell) else {
            return Err((
                vec![input_failure(format!("column `{name}` is not valid UTF-8"))],
                echo(),
            ));
        };
        slots.push(csv_cell(name, text).map_err(|f| (vec![f], echo()))?);
    }
    evaluate(set, opts, &slots, line, entropy, out).map_err(|f| (f, echo()))
}

/// A CSV cell: empty → Null, JSON-array text → multi-valued, anything else → text.
fn csv_cell(name: &str, text: &str) -> Result<Value<'static>, Failure> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    if text.starts_with('[') && text.ends_with(']') {
        if let Ok(v @ Json::Array(_)) = serde_json::from_str::<Json>(text) {
            return json_to_value(name, &v).map_err(|e| input_failure(e.message));
        }
    }
    Ok(Value::string(text.to_owned()))
}

fn evaluate(
    set: &CompiledSet,
    opts: &BatchOptions<'_>,
    slots: &[Value<'_>],
    line: u64,
    entropy: Option<&mut SeededRng>,
    out: &mut Vec<u8>,
) -> Result<(), Vec<Failure>> {
    let clock = FixedClock(opts.now.unwrap_or_else(DateTime::now_utc));
    let mut seeded;
    let rng: &mut dyn RandomSource = match (opts.seed, entropy) {
        (None, Some(e)) => e,
        (seed, _) => {
            // A per-record stream: the same seed and line give the same values on any thread.
            seeded = SeededRng::from_seed(seed_for(seed.unwrap_or(0), line));
            &mut seeded
        }
    };
    let mut ctx = EvalContext::new(&clock, rng, opts.oracle, &opts.limits);
    let record = SlotRecord::new(slots);
    let attrs = set.apply(&record, opts.mode, &mut ctx)?;
    write_output(out, &attrs);
    Ok(())
}

/// Mixes the run's seed with a line number (SplitMix64 finalizer) so neighbouring lines get
/// unrelated streams.
fn seed_for(seed: u64, line: u64) -> u64 {
    let mut z = seed ^ line.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn write_output(out: &mut Vec<u8>, attrs: &[(&str, Value<'_>)]) {
    out.push(b'{');
    for (i, (target, value)) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_string(out, target);
        out.push(b':');
        match value {
            Value::Str(s) => json_string(out, s),
            // Writing a serde_json value into a Vec cannot fail.
            other => {
                let _ = serde_json::to_writer(&mut *out, &value_to_json(other));
            }
        }
    }
    out.extend_from_slice(b"}\n");
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    // Serializing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_reject(out: &mut Vec<u8>, line: u64, failures: &[Failure], input: &Echo) {
    // Written by hand to keep the keys in reading order (serde_json's map sorts them).
    out.extend_from_slice(format!("{{\"line\":{line},\"errors\":[").as_bytes());
    for (i, f) in failures.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"target\":");
        match &f.target {
            Some(t) => json_string(out, t),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"code\":");
        json_string(out, f.error.code.as_str());
        out.extend_from_slice(b",\"message\":");
        json_string(out, &f.error.message);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"input\":");
    match input {
        Echo::Raw(text) => out.extend_from_slice(text.trim_end().as_bytes()),
        Echo::Value(v) => {
            // Writing a serde_json value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
    out.extend_from_slice(b"}\n");
}

fn write_chunks(
    done: Receiver<Done>,
    tokens: SyncSender<()>,
    output: &mut dyn Write,
    rejects: &mut dyn Write,
    progress: &mut dyn FnMut(&Summary),
) -> Result<Summary, String> {
    let mut pending = std::collections::BTreeMap::new();
    let mut next = 0u64;
    let mut summary = Summary::default();
    for d in done {
        pending.insert(d.seq, d);
        while let Some(d) = pending.remove(&next) {
            output
                .write_all(&d.out)
                .map_err(|e| format!("cannot write the output: {e}"))?;
            rejects
                .write_all(&d.rej)
                .map_err(|e| format!("cannot write the rejects: {e}"))?;
            summary.written += d.written;
            summary.rejected += d.rejected;
            summary.read += d.written + d.rejected;
            summary.blank += d.blank;
            summary.bytes = d.end_offset;
            next += 1;
            // The reader may be gone already (end of input); a lost token is harmless then.
            let _ = tokens.send(());
            progress(&summary);
        }
    }
    output
        .flush()
        .map_err(|e| format!("cannot write the output: {e}"))?;
    rejects
        .flush()
        .map_err(|e| format!("cannot write the rejects: {e}"))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompileOptions;
    use crate::context::TakenSet;
    use crate::mapping::MappingSet;

    fn batch(
        input: &[u8],
        format: InputFormat,
        threads: usize,
        chunk: usize,
    ) -> (String, String, Summary) {
        let set = MappingSet::from_json_str(
            r#"[{"target": "n", "expression": "ToUpper([a])"}, {"target": "d", "expression": "IgnoreFlowIfNullOrEmpty(CDate([d]))"},
                {"target": "m", "expression": "Join(\"|\", [m])"}]"#,
        )
        .unwrap();
        let compiled = CompiledSet::compile(&set, &CompileOptions::default()).unwrap();
        let oracle = TakenSet::new();
        let opts = BatchOptions {
            threads,
            mode: Mode::Create,
            now: None,
            seed: Some(1),
            oracle: &oracle,
            limits: Limits::default(),
            chunk_records: chunk,
        };
        let (mut out, mut rej) = (Vec::new(), Vec::new());
        let s = run(
            &compiled,
            input,
            format,
            &mut out,
            &mut rej,
            &opts,
            &mut |_| {},
        )
        .unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(rej).unwrap(),
            s,
        )
    }

    #[test]
    fn batch_ndjson_keeps_order_and_accounts_for_every_line() {
        let mut input = Vec::new();
        for i in 0..500 {
            match i % 7 {
                0 => input.extend_from_slice(b"{not json\n"),
                1 => input.extend_from_slice(b"{\"a\": \"x\xff\"}\n"),
                2 => input.extend_from_slice(b"{\"d\": \"nope\"}\n"),
                3 => input.extend_from_slice(b"   \n"),
                _ => input.extend_from_slice(
                    format!("{{\"a\": \"r{i}\", \"m\": [\"1\", \"2\"]}}\r\n").as_bytes(),
                ),
            }
        }
        for (threads, chunk) in [(1, 1), (3, 7), (4, 1000)] {
            let (out, rej, s) = batch(&input, InputFormat::Ndjson, threads, chunk);
            let blank = (0..500).filter(|i| i % 7 == 3).count() as u64;
            assert_eq!((s.read, s.blank), (500 - blank, blank));
            assert_eq!(s.read, s.written + s.rejected);
            assert_eq!(out.lines().count() as u64, s.written);
            assert_eq!(rej.lines().count() as u64, s.rejected);
            let expected: Vec<String> = (0..500)
                .filter(|i| i % 7 > 3)
                .map(|i| format!("{{\"n\":\"R{i}\",\"m\":\"1|2\"}}"))
                .collect();
            assert_eq!(out.lines().collect::<Vec<_>>(), expected);
            let lines: Vec<u64> = rej
                .lines()
                .map(|l| {
                    serde_json::from_str::<Json>(l).unwrap()["line"]
                        .as_u64()
                        .unwrap()
                })
                .collect();
            let want: Vec<u64> = (0..500u64).filter(|i| i % 7 < 3).map(|i| i + 1).collect();
            assert_eq!(lines, want);
        }
    }

    #[test]
    fn batch_rejects_over_long_lines_without_holding_them() {
        let mut input = b"{\"a\": \"x\"}\n{\"a\": \"".to_vec();
        input.resize(input.len() + MAX_LINE, b'y');
        input.extend_from_slice(b"\"}\n{\"a\": \"z\"}");
        let (out, rej, s) = batch(&input, InputFormat::Ndjson, 2, 1);
        assert_eq!((s.read, s.written, s.rejected), (3, 2, 1));
        assert_eq!(out, "{\"n\":\"X\",\"m\":\"\"}\n{\"n\":\"Z\",\"m\":\"\"}\n");
        assert!(rej.starts_with("{\"line\":2,"), "{}", &rej[..100]);
        assert!(rej.contains("the limit is 16777216"));
        assert!(rej.len() < 1000);
    }

    #[test]
    fn batch_csv_reads_cells_and_json_arrays() {
        let input = "a,m,d\nann,\"[\"\"x\"\",\"\"y\"\"]\",\nbob,,2021-08-25\ncid\n";
        let (out, rej, s) = batch(input.as_bytes(), InputFormat::Csv, 2, 1);
        assert_eq!((s.read, s.written, s.rejected), (3, 2, 1));
        assert_eq!(
            out,
            "{\"n\":\"ANN\",\"m\":\"x|y\"}\n{\"n\":\"BOB\",\"d\":\"8/25/2021 12:00:00 AM\",\"m\":\"\"}\n"
        );
        assert!(rej.starts_with("{\"line\":4,\"errors\":[{\"target\":null,\"code\":\"invalid-input\",\"message\":\"the row has 1 fields, the header has 3\"}]"), "{rej}");
    }
}
