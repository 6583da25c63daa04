//! Streaming batch runs: NDJSON or CSV records in, one output record per input record out, in
//! input order, on all cores, in memory bounded independently of the input size.
//!
//! Shape: a reader thread cuts the input into chunks of lines and sends them over a bounded
//! channel to worker threads; workers bind and evaluate each record and serialize the results;
//! the calling thread writes finished chunks in sequence. A fixed number of *tokens* circulates
//! from the writer back to the reader, and the reader needs one to start a chunk, so at most
//! that many chunks exist at once — read, in a worker, or waiting for an earlier chunk — even
//! when one chunk is slow. Each token carries a chunk's buffers (its lines back to back, its
//! output and reject bytes), so after the first few chunks nothing is allocated per chunk or
//! per record: a worker binds each line into one reused slot table (borrowing the line), and
//! writes each attribute into the output buffer as soon as it is computed.
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

use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde_json::Value as Json;

use super::bind::{BindError, load4, load8, needs_escape, plain_run, recycle, specials};
use super::compiled::input_failure;
use super::{CompiledSet, Failure, Mode};
use crate::context::{Clock, Limits, RandomSource, UniquenessOracle};
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
    // Each token is a set of chunk buffers: the writer hands them back once it has written
    // the chunk, so in steady state no chunk allocates.
    let (token_tx, token_rx) = sync_channel::<Buffers>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(Buffers::default());
    }
    // CSV headers are read before any thread starts, so every worker shares them.
    let (source, columns) = match format {
        InputFormat::Ndjson => (Source::Lines(LineReader::new(input)), None),
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
        let written = write_chunks(done_rx, &token_tx, output, rejects, progress);
        // A reader still waiting for a token (the writer stopped on an error) stops too.
        drop(token_tx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err("the reader thread stopped unexpectedly".to_owned()));
        let summary = written?;
        read?;
        Ok(summary)
    })
}

enum Source<R: Read> {
    Lines(LineReader<R>),
    Csv(Box<csv::Reader<R>>),
}

struct CsvColumns {
    names: Vec<String>,
    /// For each slot of the set's layout, the column holding it.
    slots: Vec<Option<usize>>,
}

/// A chunk's buffers, kept from chunk to chunk (see the token channel in [`run`]).
#[derive(Default)]
struct Buffers {
    /// NDJSON: the chunk's lines back to back, as read.
    data: Vec<u8>,
    /// NDJSON: `data` once the reader has found it all valid UTF-8 (`data` is then empty, and
    /// the lines are at the same positions here). The reader checks a whole chunk at once, off
    /// the workers' path, and a worker then needs no check per line; a chunk holding invalid
    /// UTF-8 stays in `data`, and each of its lines is checked (and rejected) on its own.
    text: String,
    items: Vec<Item>,
    /// Serialized output lines.
    out: Vec<u8>,
    /// Serialized reject lines.
    rej: Vec<u8>,
}

struct Chunk {
    seq: u64,
    bufs: Buffers,
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
    /// A line, at `data[start..end]`.
    Line {
        line: u64,
        start: usize,
        end: usize,
    },
    Csv {
        line: u64,
        record: csv::ByteRecord,
    },
}

/// A finished chunk: serialized output and reject lines (in `bufs`), and counts.
struct Done {
    seq: u64,
    bufs: Buffers,
    written: u64,
    rejected: u64,
    blank: u64,
    end_offset: u64,
}

/// The least one read of NDJSON input asks for (a few pages: fewer system calls on a pipe,
/// and a small chunk of long lines still reads whole lines at a time).
const MIN_READ: usize = 16 << 10;

/// Stop starting new chunks past this many bytes, so huge lines do not make huge chunks.
const CHUNK_BYTES: usize = 4 << 20;

/// A longer NDJSON line is rejected without being held in memory, which keeps memory bounded
/// even for an input that is one enormous line.
pub const MAX_LINE: usize = 16 << 20;

/// How much of an over-long line is echoed in its reject entry.
const ECHO_HEAD: usize = 256;

/// Cuts NDJSON input into chunks of lines, reading it straight into each chunk's buffer.
///
/// A chunk's lines are read in blocks into its `data`, where the worker binds them in place,
/// so each input byte is copied once from the input (no intermediate buffer, no copy per
/// line). A block usually ends inside a line (or a few lines past the chunk's last one): that
/// tail is kept in `carry` and starts the next chunk. Reads are sized from the lines seen so
/// far to end just past the chunk's last line, so the tail stays small.
struct LineReader<R> {
    input: R,
    /// Bytes read but not yet in a chunk: the start of the next chunk's first line.
    carry: Vec<u8>,
    eof: bool,
    /// Lines seen so far (the 1-based number of the last one).
    line: u64,
    /// Input bytes in chunks so far.
    offset: u64,
    /// Average line length so far, to size reads; 0 before the first chunk.
    per_line: usize,
}

impl Buffers {
    /// Empties the buffers for the next chunk, keeping their allocations (a chunk's text goes
    /// back to being bytes).
    fn clear(&mut self) {
        if self.data.capacity() < self.text.capacity() {
            self.data = std::mem::take(&mut self.text).into_bytes();
        }
        self.data.clear();
        self.text.clear();
        self.items.clear();
        self.out.clear();
        self.rej.clear();
    }

    /// Turns `data` into `text` when all of it is UTF-8 (no copy either way). Lines end at a
    /// `\n`, which is never part of a multi-byte sequence, so every line of valid text is valid
    /// on its own.
    fn check_text(&mut self) {
        match String::from_utf8(std::mem::take(&mut self.data)) {
            Ok(text) => self.text = text,
            Err(e) => self.data = e.into_bytes(),
        }
    }
}

impl<R: Read> LineReader<R> {
    fn new(input: R) -> LineReader<R> {
        LineReader {
            input,
            carry: Vec::new(),
            eof: false,
            line: 0,
            offset: 0,
            per_line: 0,
        }
    }

    /// Fills `bufs.data` and `bufs.items` with up to `max` lines (fewer at the end of the
    /// input or past [`CHUNK_BYTES`]). Returns false when no line is left for another chunk.
    fn fill(&mut self, bufs: &mut Buffers, max: usize) -> std::io::Result<bool> {
        let data = &mut bufs.data;
        data.extend_from_slice(&self.carry);
        self.carry.clear();
        let first = self.offset;
        // `start`: where the next line begins; `seen`: bytes after it known to hold no line
        // end.
        let (mut start, mut seen) = (0usize, 0usize);
        while bufs.items.len() < max && start < CHUNK_BYTES {
            let rest = data.get(start + seen..).unwrap_or_default();
            if let Some(at) = memchr::memchr(b'\n', rest) {
                let end = start + seen + at;
                self.push(&mut bufs.items, data, start, end, true);
                (start, seen) = (end + 1, 0);
                continue;
            }
            seen = data.len() - start;
            if self.eof {
                if seen > 0 {
                    self.push(&mut bufs.items, data, start, data.len(), false);
                    start = data.len();
                }
                break;
            }
            if seen > MAX_LINE {
                let item = self.skip_long_line(data, start)?;
                bufs.items.push(item);
                seen = 0;
                continue;
            }
            // Enough for the lines still missing, judged by the lines so far, plus one.
            let missing = (max - bufs.items.len()).min(CHUNK_BYTES / self.per_line.max(1));
            let want = (missing + 1)
                .saturating_mul(self.per_line.max(1))
                .clamp(MIN_READ, CHUNK_BYTES);
            if self.read(data, want)? == 0 {
                self.eof = true;
            }
        }
        self.carry
            .extend_from_slice(data.get(start..).unwrap_or_default());
        data.truncate(start);
        let lines = bufs.items.len().max(1);
        self.per_line = ((self.offset - first) as usize / lines).max(1);
        Ok(!(self.eof && self.carry.is_empty()))
    }

    /// Appends up to `want` bytes of input to `data`; returns how many (0 at the end).
    fn read(&mut self, data: &mut Vec<u8>, want: usize) -> std::io::Result<usize> {
        // `read_to_end` through `take` reads into the vector's spare room without zeroing
        // it first (for files, standard input and byte slices) and retries interrupted
        // reads.
        (&mut self.input).take(want as u64).read_to_end(data)
    }

    /// Records the line `data[start..end]` (`newline`: it ended with `\n`, which is not part
    /// of it; a `\r` before it is dropped too).
    fn push(
        &mut self,
        items: &mut Vec<Item>,
        data: &[u8],
        start: usize,
        end: usize,
        newline: bool,
    ) {
        self.line += 1;
        let len = end - start + usize::from(newline);
        self.offset += len as u64;
        let line = self.line;
        if len > MAX_LINE {
            let head = data
                .get(start..start + ECHO_HEAD)
                .unwrap_or_default()
                .to_vec();
            items.push(Item::TooLong { line, len, head });
            return;
        }
        let end = if newline && end > start && data.get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        let body = data.get(start..end).unwrap_or_default();
        if body.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            items.push(Item::Blank);
        } else {
            items.push(Item::Line { line, start, end });
        }
    }

    /// The line starting at `data[start]` is over [`MAX_LINE`] bytes: keeps its first
    /// [`ECHO_HEAD`] bytes, reads and drops the rest up to its end, and leaves `data` holding
    /// whatever followed it.
    #[cold]
    fn skip_long_line(&mut self, data: &mut Vec<u8>, start: usize) -> std::io::Result<Item> {
        let head = data
            .get(start..start + ECHO_HEAD)
            .unwrap_or_default()
            .to_vec();
        let mut len = data.len() - start;
        data.truncate(start);
        self.line += 1;
        loop {
            if self.read(data, CHUNK_BYTES)? == 0 {
                self.eof = true;
                break;
            }
            let rest = data.get(start..).unwrap_or_default();
            if let Some(at) = memchr::memchr(b'\n', rest) {
                len += at + 1;
                data.drain(start..start + at + 1);
                break;
            }
            len += rest.len();
            data.truncate(start);
        }
        self.offset += len as u64;
        Ok(Item::TooLong {
            line: self.line,
            len,
            head,
        })
    }
}

fn read_chunks<R: Read>(
    mut source: Source<R>,
    chunk_records: usize,
    work: &SyncSender<Chunk>,
    tokens: &Receiver<Buffers>,
) -> Result<(), String> {
    let mut seq = 0u64;
    let mut offset = 0u64;
    loop {
        // A token is free only when fewer than the limit of chunks exist; the writer hangs up
        // when it stops early, and then reading stops too.
        let Ok(mut bufs) = tokens.recv() else {
            return Ok(());
        };
        bufs.clear();
        let mut bytes = 0usize;
        let mut eof = false;
        while bufs.items.len() < chunk_records && bytes < CHUNK_BYTES {
            match &mut source {
                Source::Lines(r) => {
                    eof = !r
                        .fill(&mut bufs, chunk_records)
                        .map_err(|e| format!("cannot read the input: {e}"))?;
                    bufs.check_text();
                    offset = r.offset;
                    break;
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
                    bufs.items.push(Item::Csv { line: at, record });
                }
            }
        }
        if !bufs.items.is_empty() {
            if work
                .send(Chunk {
                    seq,
                    bufs,
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

/// What a worker keeps from record to record.
struct Worker<'a, 'o> {
    set: &'a CompiledSet,
    opts: &'a BatchOptions<'o>,
    columns: Option<&'a CsvColumns>,
    /// Each mapping's `,"target":`, escaped once.
    keys: Vec<Key>,
    /// The random source when no seed is given.
    entropy: Option<SeededRng>,
    /// The slot table's allocation between chunks (always empty).
    spare: Vec<Value<'static>>,
}

fn work(
    set: &CompiledSet,
    opts: &BatchOptions<'_>,
    columns: Option<&CsvColumns>,
    work: &Mutex<Receiver<Chunk>>,
    done: &SyncSender<Done>,
) {
    let mut w = Worker {
        set,
        opts,
        columns,
        keys: set
            .targets()
            .map(|t| {
                let mut k = Vec::with_capacity(t.len() + 4);
                k.push(b',');
                json_str(&mut k, t);
                k.push(b':');
                Key::new(k)
            })
            .collect(),
        entropy: if opts.seed.is_none() {
            Some(SeededRng::from_entropy())
        } else {
            None
        },
        spare: Vec::new(),
    };
    loop {
        let chunk = match work.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(Chunk {
            seq,
            mut bufs,
            end_offset,
        }) = chunk
        else {
            return;
        };
        let (mut out, mut rej) = (std::mem::take(&mut bufs.out), std::mem::take(&mut bufs.rej));
        let (written, rejected, blank) = w.chunk(&bufs, &mut out, &mut rej);
        bufs.out = out;
        bufs.rej = rej;
        let d = Done {
            seq,
            bufs,
            written,
            rejected,
            blank,
            end_offset,
        };
        if done.send(d).is_err() {
            return;
        }
    }
}

impl Worker<'_, '_> {
    /// Binds, evaluates and serializes one chunk; returns (written, rejected, blank).
    fn chunk(&mut self, bufs: &Buffers, out: &mut Vec<u8>, rej: &mut Vec<u8>) -> (u64, u64, u64) {
        let (mut written, mut rejected, mut blank) = (0, 0, 0);
        // One slot table for the whole chunk: every record borrows from `bufs`.
        let mut slots = recycle(std::mem::take(&mut self.spare));
        for item in &bufs.items {
            let (line, result) = match item {
                Item::Blank => {
                    blank += 1;
                    continue;
                }
                Item::TooLong { line, len, head } => {
                    let msg = format!("the line is {len} bytes long; the limit is {MAX_LINE}");
                    let echo =
                        Echo::Value(Json::String(format!("{}…", String::from_utf8_lossy(head))));
                    (*line, Err((vec![input_failure(msg)], echo)))
                }
                Item::Line { line, start, end } => match bufs.text.get(*start..*end) {
                    Some(text) => (*line, self.json_text(text, *line, &mut slots, out)),
                    None => {
                        let bytes = bufs.data.get(*start..*end).unwrap_or_default();
                        (*line, self.json_record(bytes, *line, &mut slots, out))
                    }
                },
                Item::Csv { line, record } => match self.columns {
                    Some(cols) => (*line, self.csv_record(cols, record, *line, &mut slots, out)),
                    None => continue,
                },
            };
            match result {
                Ok(()) => written += 1,
                Err((failures, input)) => {
                    rejected += 1;
                    write_reject(rej, line, &failures, &input);
                }
            }
        }
        self.spare = recycle(slots);
        (written, rejected, blank)
    }

    fn json_record<'t>(
        &mut self,
        bytes: &'t [u8],
        line: u64,
        slots: &mut Vec<Value<'t>>,
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
        self.json_text(text, line, slots, out)
    }

    /// [`Worker::json_record`] for a line known to be UTF-8.
    fn json_text<'t>(
        &mut self,
        text: &'t str,
        line: u64,
        slots: &mut Vec<Value<'t>>,
        out: &mut Vec<u8>,
    ) -> Result<(), Rejected> {
        let lossy = || Echo::Value(Json::String(text.to_owned()));
        match self.set.bind_json_text_into(text, slots) {
            Ok(()) => {}
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
        }
        self.evaluate(slots, line, Some(text), out)
            .map_err(|f| (f, Echo::Raw(text.to_owned())))
    }

    fn csv_record<'t>(
        &mut self,
        cols: &CsvColumns,
        record: &'t csv::ByteRecord,
        line: u64,
        slots: &mut Vec<Value<'t>>,
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
        slots.clear();
        for (slot, col) in cols.slots.iter().enumerate() {
            let Some(cell) = col.and_then(|c| record.get(c)) else {
                slots.push(Value::Null);
                continue;
            };
            let name = self.set.attributes().get(slot).map_or("", String::as_str);
            let Ok(text) = std::str::from_utf8(cell) else {
                return Err((
                    vec![input_failure(format!("column `{name}` is not valid UTF-8"))],
                    echo(),
                ));
            };
            slots.push(csv_cell(name, text).map_err(|f| (vec![f], echo()))?);
        }
        self.evaluate(slots, line, None, out)
            .map_err(|f| (f, echo()))
    }

    /// Applies the set to one bound record and appends its output line to `out`; on failure
    /// `out` is left as it was.
    /// `json` is the NDJSON line the slots were bound from (see [`write_attribute`]).
    fn evaluate(
        &mut self,
        slots: &[Value<'_>],
        line: u64,
        json: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<(), Vec<Failure>> {
        let clock = RecordClock(match self.opts.now {
            Some(t) => std::sync::OnceLock::from(t),
            None => std::sync::OnceLock::new(),
        });
        let mut rng = RecordRng {
            entropy: self.entropy.as_mut(),
            seed: seed_for(self.opts.seed.unwrap_or(0), line),
            seeded: None,
        };
        let mut ctx = EvalContext::new(&clock, &mut rng, self.opts.oracle, &self.opts.limits);
        let record = SlotRecord::new(slots);
        let start = out.len();
        let keys = &self.keys;
        let applied = self
            .set
            .apply_each(&record, self.opts.mode, &mut ctx, |i, _, value| {
                // Every key is written with a comma before it; the first comma becomes the
                // opening brace below, so no attribute tests whether it is the first.
                match keys.get(i) {
                    Some(key) => write_attribute(out, key, value, json),
                    None => {
                        out.extend_from_slice(b",\"\":");
                        write_value(out, value);
                    }
                }
            });
        match applied {
            Ok(()) => {
                match out.get_mut(start) {
                    Some(first) => *first = b'{',
                    None => out.push(b'{'),
                }
                out.extend_from_slice(b"}\n");
                Ok(())
            }
            Err(failures) => {
                out.truncate(start);
                Err(failures)
            }
        }
    }
}

/// How a rejected record is echoed: raw JSON text, or a JSON value built from it.
enum Echo {
    Raw(String),
    Value(Json),
}

type Rejected = (Vec<Failure>, Echo);

/// A CSV cell: empty → Null, JSON-array text → multi-valued, anything else → text (borrowed).
fn csv_cell<'t>(name: &str, text: &'t str) -> Result<Value<'t>, Failure> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    if text.starts_with('[') && text.ends_with(']') {
        if let Ok(v @ Json::Array(_)) = serde_json::from_str::<Json>(text) {
            return json_to_value(name, &v).map_err(|e| input_failure(e.message));
        }
    }
    Ok(Value::str(text))
}

/// One record's `Now()`: the run's fixed instant, or the system clock read at the first call
/// and kept, so every mapping of the record sees the same instant and a record that never
/// calls `Now()` never reads the clock.
struct RecordClock(std::sync::OnceLock<DateTime>);

impl Clock for RecordClock {
    fn now(&self) -> DateTime {
        *self.0.get_or_init(DateTime::now_utc)
    }
}

/// One record's random source: the worker's entropy source without a seed; with one, a
/// stream derived from the seed and the line (the same on any thread), set up only when the
/// record first draws.
struct RecordRng<'e> {
    entropy: Option<&'e mut SeededRng>,
    seed: u64,
    seeded: Option<SeededRng>,
}

impl RandomSource for RecordRng<'_> {
    fn next_u64(&mut self) -> u64 {
        if let Some(e) = self.entropy.as_deref_mut() {
            return e.next_u64();
        }
        let seed = self.seed;
        self.seeded
            .get_or_insert_with(|| SeededRng::from_seed(seed))
            .next_u64()
    }
}

/// Mixes the run's seed with a line number (SplitMix64 finalizer) so neighbouring lines get
/// unrelated streams.
fn seed_for(seed: u64, line: u64) -> u64 {
    let mut z = seed ^ line.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One output attribute's `,"target":`, escaped once, also kept in a fixed-size block when it
/// is short so that [`write_attribute`] copies it with a few word stores.
struct Key {
    bytes: Vec<u8>,
    /// `bytes` padded with zeros, when they fit.
    block: Option<[u8; KEY_BLOCK]>,
}

/// The longest key written as a block (`,"extensionAttribute15":` is 25 bytes).
const KEY_BLOCK: usize = 32;

/// The longest text value written by [`write_short`].
const SHORT_TEXT: usize = 32;

/// The room [`write_short`] writes into: a key block, two quotes, the text and a word of
/// slack for its last store.
const SHORT_ROOM: usize = KEY_BLOCK + SHORT_TEXT + 16;

impl Key {
    fn new(bytes: Vec<u8>) -> Key {
        let block = (bytes.len() <= KEY_BLOCK).then(|| {
            let mut block = [0u8; KEY_BLOCK];
            for (d, s) in block.iter_mut().zip(&bytes) {
                *d = *s;
            }
            block
        });
        Key { bytes, block }
    }
}

/// Appends `,"target":value` for one output attribute.
///
/// Most attributes are short text that needs no escape (names, codes, addresses), and for
/// those the general path — a call to `memcpy` for the key, another for the text, a capacity
/// check per piece — costs more than the bytes themselves. So a short text value is written
/// by [`write_short`] into room reserved at once, and the line is then cut to its real
/// length. Anything else (long text, text to escape, other values) takes the general path,
/// which writes the same bytes.
///
/// `json` is the NDJSON line the record was bound from. Text the binder borrowed from it —
/// an attribute passed through, or part of one — is the content of a JSON string without
/// escapes, so it holds no byte JSON must escape (a quote would have ended the string, a
/// backslash would be an escape, a control character is not JSON); and the line goes on
/// after it. Such text is copied from the line as four whole words, with neither a test for
/// escapes nor a branch on its length.
#[inline]
fn write_attribute(out: &mut Vec<u8>, key: &Key, value: &Value<'_>, json: Option<&str>) {
    if let (Value::Str(s), Some(block)) = (value, &key.block) {
        if let Some(words) = json.and_then(|line| words_in_line(line.as_bytes(), s.as_bytes())) {
            let base = out.len();
            out.extend_from_slice(&[0u8; SHORT_ROOM]);
            if let Some(room) = out
                .get_mut(base..)
                .and_then(<[u8]>::first_chunk_mut::<SHORT_ROOM>)
            {
                if let Some(n) = write_words(room, block, key.bytes.len(), words, s.len()) {
                    out.truncate(base + n);
                    return;
                }
            }
            out.truncate(base);
        }
        if s.len() <= SHORT_TEXT {
            let base = out.len();
            out.extend_from_slice(&[0u8; SHORT_ROOM]);
            let written = out
                .get_mut(base..)
                .and_then(<[u8]>::first_chunk_mut::<SHORT_ROOM>)
                .and_then(|room| write_short(room, block, key.bytes.len(), s.as_bytes()));
            match written {
                Some(n) => {
                    out.truncate(base + n);
                    return;
                }
                None => out.truncate(base),
            }
        }
    }
    out.extend_from_slice(&key.bytes);
    write_value(out, value);
}

/// When `text` (at most [`SHORT_TEXT`] bytes) starts within `line` and the line has
/// [`SHORT_TEXT`] bytes from there, those bytes: the text (wholly inside them) and whatever
/// follows it.
#[inline(always)]
fn words_in_line<'l>(line: &'l [u8], text: &[u8]) -> Option<&'l [u8; SHORT_TEXT]> {
    if text.len() > SHORT_TEXT {
        return None;
    }
    // Where the text starts in the line, if it does: addresses compared as numbers (text
    // elsewhere gives an offset past the line's end, or wraps around to one).
    let at = (text.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
    line.get(at..)?.first_chunk::<SHORT_TEXT>()
}

/// Writes the key (`len` bytes of `block`), then `"`, the first `n` bytes of `words` and `"`
/// at the start of `room`; returns the length written. All of `words` is copied (four word
/// stores) and what lies past the text is overwritten or cut off afterwards.
#[inline(always)]
fn write_words(
    room: &mut [u8; SHORT_ROOM],
    block: &[u8; KEY_BLOCK],
    len: usize,
    words: &[u8; SHORT_TEXT],
    n: usize,
) -> Option<usize> {
    *room.first_chunk_mut::<KEY_BLOCK>()? = *block;
    *room.get_mut(len)? = b'"';
    *room.get_mut(len + 1..)?.first_chunk_mut::<SHORT_TEXT>()? = *words;
    *room.get_mut(len + 1 + n)? = b'"';
    Some(len + n + 2)
}

/// Writes the key (`len` bytes of `block`) and the JSON string of `b` (at most
/// [`SHORT_TEXT`] bytes) at the start of `room`; returns the length written, or `None` when
/// `b` needs an escape. The key is one block copy; the text is copied in words, the last one
/// overlapping the one before (whatever lands past the end is cut off afterwards), each
/// tested for bytes to escape as it is copied.
#[inline(always)]
fn write_short(
    room: &mut [u8; SHORT_ROOM],
    block: &[u8; KEY_BLOCK],
    len: usize,
    b: &[u8],
) -> Option<usize> {
    *room.first_chunk_mut::<KEY_BLOCK>()? = *block;
    *room.get_mut(len)? = b'"';
    let text = len + 1;
    let n = b.len();
    let mut store = |to: usize, w: u64| -> Option<()> {
        *room.get_mut(text + to..)?.first_chunk_mut::<8>()? = w.to_le_bytes();
        Some(())
    };
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            let w = load8(b, i);
            if specials(w) != 0 {
                return None;
            }
            store(i, w)?;
            i += 8;
        }
        let w = load8(b, n - 8);
        if specials(w) != 0 {
            return None;
        }
        store(n - 8, w)?;
    } else if n >= 4 {
        let (h, t) = (load4(b, 0), load4(b, n - 4));
        if specials((h << 32) | t) != 0 {
            return None;
        }
        // Four bytes of the head word, then the tail word over the rest.
        store(0, h)?;
        store(n - 4, t)?;
    } else {
        for (k, &c) in b.iter().enumerate() {
            if c < 0x20 || c == b'"' || c == b'\\' {
                return None;
            }
            *room.get_mut(text + k)? = c;
        }
    }
    *room.get_mut(text + n)? = b'"';
    Some(text + n + 1)
}

/// An output value in JSON, byte for byte what `serde_json::to_writer(value_to_json(v))`
/// writes: text, integers and Booleans as themselves, Null as `null`, lists as arrays of
/// text, dates and role objects as their text.
fn write_value(out: &mut Vec<u8>, v: &Value<'_>) {
    match v {
        Value::Str(s) => json_str(out, s),
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => write_int(out, *i),
        Value::Multi(items) => {
            out.push(b'[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                match item {
                    Value::Str(s) => json_str(out, s),
                    other => json_str(out, &other.render_scalar()),
                }
            }
            out.push(b']');
        }
        other => json_str(out, &other.render_scalar()),
    }
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if i < 0 {
        out.push(b'-');
    }
    write_uint(out, i.unsigned_abs());
}

fn write_uint(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(at..).unwrap_or_default());
}

/// A JSON string, escaped exactly as serde_json does: `"` and `\`, the short forms `\b \f \n
/// \r \t`, other control characters as `\u00xx` (lower-case hex), everything else as is. The
/// plain runs between escapes are found eight bytes at a time and copied whole.
pub(crate) fn json_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    // Most output text needs no escape: a few word tests, then one copy.
    if !needs_escape(b) {
        out.extend_from_slice(b);
        out.push(b'"');
        return;
    }
    json_str_escaped(out, b);
}

#[cold]
fn json_str_escaped(out: &mut Vec<u8>, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = 0;
    loop {
        let run = plain_run(b, i);
        out.extend_from_slice(b.get(i..i + run).unwrap_or_default());
        i += run;
        let Some(&c) = b.get(i) else { break };
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]),
        }
        i += 1;
    }
    out.push(b'"');
}

fn write_reject(out: &mut Vec<u8>, line: u64, failures: &[Failure], input: &Echo) {
    // Written by hand to keep the keys in reading order (serde_json's map sorts them).
    out.extend_from_slice(b"{\"line\":");
    write_uint(out, line);
    out.extend_from_slice(b",\"errors\":[");
    for (i, f) in failures.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"target\":");
        match &f.target {
            Some(t) => json_str(out, t),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"code\":");
        json_str(out, f.error.code.as_str());
        out.extend_from_slice(b",\"message\":");
        json_str(out, &f.error.message);
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

/// A chunk buffer that grew past this (a chunk of very long lines) is not kept for the next
/// chunk, so memory stays near what ordinary chunks need.
const KEEP_BUFFER: usize = 2 * CHUNK_BYTES;

fn write_chunks(
    done: Receiver<Done>,
    tokens: &SyncSender<Buffers>,
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
            let Done {
                mut bufs,
                written,
                rejected,
                blank,
                end_offset,
                ..
            } = d;
            output
                .write_all(&bufs.out)
                .map_err(|e| format!("cannot write the output: {e}"))?;
            rejects
                .write_all(&bufs.rej)
                .map_err(|e| format!("cannot write the rejects: {e}"))?;
            summary.written += written;
            summary.rejected += rejected;
            summary.read += written + rejected;
            summary.blank += blank;
            summary.bytes = end_offset;
            next += 1;
            for buf in [&mut bufs.data, &mut bufs.out, &mut bufs.rej] {
                if buf.capacity() > KEEP_BUFFER {
                    *buf = Vec::new();
                }
            }
            if bufs.text.capacity() > KEEP_BUFFER {
                bufs.text = String::new();
            }
            // The reader may be gone already (end of input); a lost token is harmless then.
            let _ = tokens.send(bufs);
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
        run_set(&compiled, input, format, threads, chunk)
    }

    fn run_set(
        compiled: &CompiledSet,
        input: &[u8],
        format: InputFormat,
        threads: usize,
        chunk: usize,
    ) -> (String, String, Summary) {
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
            compiled,
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

    /// Text is copied from the line only when it lies wholly inside it and the line has a
    /// block of bytes from its start.
    #[test]
    fn words_come_only_from_inside_the_line() {
        let buf =
            "{\"x\": \"0123456789abcdefghijklmnopqrstuvwxyz0123456789\"} and more after the line";
        let line = &buf.as_bytes()[..60];
        assert!(words_in_line(line, &buf.as_bytes()[7..20]).is_some());
        // Too close to the line's end for a block, reaching past it, before it, elsewhere.
        assert!(words_in_line(line, &buf.as_bytes()[40..45]).is_none());
        assert!(words_in_line(line, &buf.as_bytes()[50..62]).is_none());
        assert!(words_in_line(&buf.as_bytes()[7..60], &buf.as_bytes()[2..5]).is_none());
        assert!(words_in_line(line, b"0123456789").is_none());
        assert!(words_in_line(line, &buf.as_bytes()[7..7 + SHORT_TEXT + 1]).is_none());
    }

    /// Every output line is what serde_json writes for the set's results, however the values
    /// reach the writer: passed through from the line (copied as words, unchecked), cut out
    /// of it (Mid, Trim), chosen by IIF, unescaped (owned), rebuilt (Join of one piece),
    /// constants; with text of every length, non-ASCII, escapes, near the end of the line or
    /// not.
    #[test]
    fn batch_output_matches_serde_json_for_every_value_source() {
        use crate::mapping::value_to_json;
        use proptest::prelude::*;
        let set = MappingSet::from_json_str(
            r#"[{"target": "a", "expression": "[a]"}, {"target": "mid", "expression": "Mid([a], 2, 40)"},
                {"target": "trim", "expression": "Trim([b])"}, {"target": "pick", "expression": "IIF(IsNullOrEmpty([b]), [a], [b])"},
                {"target": "join", "expression": "Join(\"\", [b])"}, {"target": "k", "constant": "q\"x"},
                {"target": "b", "attribute": "b"}]"#,
        )
        .unwrap();
        let compiled = CompiledSet::compile(&set, &CompileOptions::default()).unwrap();
        let text = prop_oneof![
            "[a-z ]{0,40}",
            "[a-zA-Zéø€😀 ]{0,20}",
            Just("tab\\t \\\"quoted\\\" \\u00e9 \\\\".to_string()),
        ];
        let record = (text.clone(), text, "[a-z]{0,50}").prop_map(|(a, b, pad)| {
            format!("{{\"a\": \"{a}\", \"b\": \"{b}\", \"pad\": \"{pad}\"}}")
        });
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 200,
            ..ProptestConfig::default()
        });
        runner
            .run(&proptest::collection::vec(record, 1..20), |lines| {
                let input = lines.join("\n");
                let (out, rej, _) = run_set(&compiled, input.as_bytes(), InputFormat::Ndjson, 1, 7);
                prop_assert_eq!(rej, "");
                let oracle = TakenSet::new();
                let limits = Limits::default();
                let clock = crate::context::FixedClock(DateTime::MIN);
                let mut rng = crate::functions::NoRandom;
                let mut ctx = EvalContext::new(&clock, &mut rng, &oracle, &limits);
                for (line, got) in lines.iter().zip(out.lines()) {
                    let slots = compiled.bind_json_text(line).unwrap();
                    let record = SlotRecord::new(&slots);
                    let values = compiled.apply(&record, Mode::Create, &mut ctx).unwrap();
                    let fields: Vec<String> = values
                        .iter()
                        .map(|(t, v)| {
                            format!(
                                "{}:{}",
                                serde_json::to_string(t).unwrap(),
                                serde_json::to_string(&value_to_json(v)).unwrap()
                            )
                        })
                        .collect();
                    prop_assert_eq!(got, format!("{{{}}}", fields.join(",")));
                }
                prop_assert_eq!(out.lines().count(), lines.len());
                Ok(())
            })
            .unwrap();
    }

    /// Invalid UTF-8 anywhere on a line — in an attribute the set reads, in one it skips,
    /// outside any string — rejects that line alone, with the column of the first bad byte,
    /// whether its chunk is checked whole by the reader (and found bad) or the line sits
    /// alone in its chunk; valid lines around it, non-ASCII ones included, are written.
    #[test]
    fn invalid_utf8_rejects_only_its_line_with_its_column() {
        let lines: [&[u8]; 6] = [
            b"{\"a\": \"Zo\xc3\xab\"}",
            b"{\"a\": \"x\xffy\"}",
            b"{\"skipped\": \"\xc3\", \"a\": \"b\"}",
            b"{\"a\": \"ok\"} \xe2\x82",
            b"{\"a\": \"\xf0\x9f\x98\x80\"}",
            b"\xed\xa0\x80{}",
        ];
        let mut input = Vec::new();
        for l in lines {
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let want_out = "{\"n\":\"ZOË\",\"m\":\"\"}\n{\"n\":\"😀\",\"m\":\"\"}\n";
        let want_rej = [(2, 9), (3, 14), (4, 13), (6, 1)];
        for chunk in [1, 2, 1000] {
            let (out, rej, s) = batch(&input, InputFormat::Ndjson, 2, chunk);
            assert_eq!(out, want_out, "chunk {chunk}");
            assert_eq!((s.read, s.written, s.rejected), (6, 2, 4));
            let got: Vec<(u64, String)> = rej
                .lines()
                .map(|l| {
                    let v: Json = serde_json::from_str(l).unwrap();
                    (
                        v["line"].as_u64().unwrap(),
                        v["errors"][0]["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let want: Vec<(u64, String)> = want_rej
                .iter()
                .map(|&(line, col)| {
                    (
                        line,
                        format!("the line is not valid UTF-8 (invalid byte at column {col})"),
                    )
                })
                .collect();
            assert_eq!(got, want, "chunk {chunk}");
        }
    }

    /// Hands out its bytes a few at a time, like a pipe.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The reader cuts any input into the lines a plain split finds — numbered, with `\r\n`
    /// and a last line without an end, blank lines marked, lines across read and chunk
    /// boundaries whole — whatever the chunk size and however the input trickles in, and its
    /// byte offset ends at the input's length.
    #[test]
    fn line_reader_cuts_every_input_like_a_split() {
        use proptest::prelude::*;
        let line = prop_oneof![
            6 => "[a-z{}\":, ]{0,40}",
            1 => Just(String::new()),
            1 => Just(" \t ".to_string()),
            1 => (0usize..3, 1usize..40_000).prop_map(|(c, n)| "x".repeat(n) + ["", "\r", " "][c]),
        ];
        let input = (
            proptest::collection::vec(line, 0..60),
            any::<bool>(),
            any::<bool>(),
        );
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 300,
            ..ProptestConfig::default()
        });
        runner
            .run(
                &(
                    input,
                    1usize..700,
                    prop_oneof![Just(usize::MAX), 1usize..5000],
                ),
                |((lines, crlf, last_newline), max, piece)| {
                    let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
                    if last_newline && !lines.is_empty() {
                        text.push('\n');
                    }
                    let bytes = text.as_bytes();
                    // The reference: every `\n`-terminated piece, and a last unterminated
                    // one when it is not empty.
                    let mut want: Vec<Option<&[u8]>> = Vec::new();
                    let mut pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                    if pieces.last().is_some_and(|p| p.is_empty()) {
                        pieces.pop();
                    }
                    let n = pieces.len();
                    for (i, p) in pieces.into_iter().enumerate() {
                        let ended = i + 1 < n || bytes.last() == Some(&b'\n');
                        let p = if ended {
                            p.strip_suffix(b"\r").unwrap_or(p)
                        } else {
                            p
                        };
                        let blank = p.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
                        want.push((!blank).then_some(p));
                    }
                    let mut reader = LineReader::new(Trickle(bytes, piece));
                    let mut got: Vec<Option<Vec<u8>>> = Vec::new();
                    let mut bufs = Buffers::default();
                    loop {
                        bufs.data.clear();
                        bufs.items.clear();
                        let more = reader.fill(&mut bufs, max).unwrap();
                        prop_assert!(bufs.items.len() <= max);
                        for item in &bufs.items {
                            match item {
                                Item::Blank => got.push(None),
                                Item::Line { line, start, end } => {
                                    prop_assert_eq!(*line as usize, got.len() + 1);
                                    got.push(Some(bufs.data[*start..*end].to_vec()));
                                }
                                _ => prop_assert!(false, "no over-long line here"),
                            }
                        }
                        if !more {
                            break;
                        }
                    }
                    let want: Vec<Option<Vec<u8>>> =
                        want.into_iter().map(|p| p.map(<[u8]>::to_vec)).collect();
                    prop_assert_eq!(got, want);
                    prop_assert_eq!(reader.offset, bytes.len() as u64);
                    prop_assert_eq!(reader.line as usize, n);
                    Ok(())
                },
            )
            .unwrap();
    }

    /// Over-long lines are rejected with their full length wherever they are: in the middle,
    /// last without a line end, found too long while still being read or only at their end
    /// (`MAX_LINE` bytes and the line end); the lines around them are intact.
    #[test]
    fn line_reader_reports_over_long_lines_anywhere() {
        for (size, piece, ended) in [
            (MAX_LINE + 5, usize::MAX, true),
            (MAX_LINE + 5, usize::MAX, false),
            (MAX_LINE + 5, 1 << 20, true),
            (MAX_LINE, usize::MAX, true),
        ] {
            let long = vec![b'y'; size];
            let mut input = b"{}\n".to_vec();
            input.extend_from_slice(&long);
            if ended {
                input.extend_from_slice(b"\r\n{\"a\": 1}\n");
            }
            let mut reader = LineReader::new(Trickle(&input, piece));
            let mut bufs = Buffers::default();
            let mut items = Vec::new();
            loop {
                bufs.data.clear();
                bufs.items.clear();
                let more = reader.fill(&mut bufs, 2).unwrap();
                items.extend(bufs.items.drain(..).map(|item| match item {
                    Item::TooLong { line, len, head } => (line, len, head.len()),
                    Item::Line { line, start, end } => (line, end - start, 0),
                    _ => (0, 0, 0),
                }));
                assert!(bufs.data.len() <= MAX_LINE + CHUNK_BYTES + (1 << 20));
                if !more {
                    break;
                }
            }
            let mut want = vec![(1, 2, 0), (2, size + if ended { 2 } else { 0 }, ECHO_HEAD)];
            if ended {
                want.push((3, 8, 0));
            }
            assert_eq!(items, want, "size {size}, piece {piece}, ended {ended}");
            assert_eq!(reader.offset, input.len() as u64);
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

    /// `write_attribute` writes `,"target":` and the value exactly as the general path does
    /// (the key's bytes, then serde_json's bytes for the value), whether the short-text path
    /// takes it or not: text of every length around the word and block sizes, with and
    /// without bytes to escape anywhere in it, non-ASCII, keys too long for a block, other
    /// values, after output already in the buffer.
    #[test]
    fn attribute_writer_matches_the_general_path() {
        use crate::mapping::value_to_json;
        use proptest::prelude::*;
        let text = prop_oneof![
            "[a-zA-Z0-9 .@-]{0,40}",
            "\\PC{0,12}",
            (
                0usize..40,
                0usize..40,
                prop_oneof![Just('"'), Just('\\'), Just('\n'), Just('\u{1}'), Just('é')]
            )
                .prop_map(|(n, at, c)| {
                    let mut s: String = "abcdefghij".repeat(4).chars().take(n).collect();
                    s.insert(at.min(n), c);
                    s
                }),
        ];
        let value = prop_oneof![
            8 => text.prop_map(Value::string),
            1 => any::<i64>().prop_map(Value::Int),
            1 => Just(Value::Null),
            1 => Just(Value::Bool(true)),
        ];
        let target = prop_oneof!["[a-zA-Z0-9]{0,40}", Just("a\"b".to_string())];
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 4000,
            ..ProptestConfig::default()
        });
        runner
            .run(&(target, value, "[a-z]{0,3}"), |(t, v, prefix)| {
                let mut k = vec![b','];
                json_str(&mut k, &t);
                k.push(b':');
                let key = Key::new(k.clone());
                let mut got = prefix.clone().into_bytes();
                write_attribute(&mut got, &key, &v, None);
                let mut want = prefix.clone().into_bytes();
                want.extend_from_slice(&k);
                want.extend_from_slice(&serde_json::to_vec(&value_to_json(&v)).unwrap());
                prop_assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want)
                );
                // The same text borrowed from a line, as the binder leaves it (only text
                // without bytes to escape is ever borrowed from a line), with the line
                // going on for a while or ending soon after it.
                if let Value::Str(s) = &v {
                    if !needs_escape(s.as_bytes()) {
                        for tail in [
                            "\"}",
                            "\", \"pad\": \"a long enough value to pass the words\"}",
                        ] {
                            let line = format!("{{\"x\": \"{s}{tail}");
                            let inner = &line[7..7 + s.len()];
                            let mut got = prefix.clone().into_bytes();
                            write_attribute(&mut got, &key, &Value::str(inner), Some(&line));
                            prop_assert_eq!(
                                String::from_utf8_lossy(&got),
                                String::from_utf8_lossy(&want)
                            );
                        }
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    /// The hand-written output writer gives serde_json's bytes for every kind of value,
    /// including text that needs every kind of escape.
    #[test]
    fn output_writer_matches_serde_json() {
        use crate::mapping::value_to_json;
        use crate::value::{AppRole, List};
        use proptest::prelude::*;
        let text = prop_oneof![
            "\\PC{0,20}",
            proptest::collection::vec(any::<char>(), 0..12)
                .prop_map(|v| v.into_iter().collect::<String>()),
            proptest::collection::vec(0u8..0x80, 0..40)
                .prop_map(|v| v.into_iter().map(char::from).collect::<String>()),
        ];
        let scalar = prop_oneof![
            text.clone().prop_map(Value::string),
            any::<i64>().prop_map(Value::Int),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
            (0i64..3_155_378_975_999_999_999)
                .prop_map(|t| Value::Date(DateTime::from_ticks(t).unwrap_or(DateTime::MIN))),
            (
                proptest::option::of(text.clone()),
                proptest::option::of(text.clone())
            )
                .prop_map(|(id, value)| {
                    Value::Role(std::sync::Arc::new(AppRole {
                        id,
                        value,
                        display_name: None,
                    }))
                }),
        ];
        let value = prop_oneof![
            3 => scalar.clone(),
            1 => proptest::collection::vec(scalar, 1..4).prop_map(|v| Value::Multi(List::Owned(v))),
        ];
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 3000,
            ..ProptestConfig::default()
        });
        runner
            .run(&value, |v| {
                let mut got = Vec::new();
                write_value(&mut got, &v);
                let want = serde_json::to_vec(&value_to_json(&v)).unwrap();
                prop_assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want)
                );
                Ok(())
            })
            .unwrap();
        // Every control character, the quote, the backslash and DEL, one by one.
        for c in (0u8..0x80)
            .map(char::from)
            .chain(['\u{2028}', '\u{feff}', 'é'])
        {
            let s = format!("a{c}b");
            let mut got = Vec::new();
            json_str(&mut got, &s);
            assert_eq!(got, serde_json::to_vec(&s).unwrap(), "{c:?}");
        }
        for i in [0, 1, -1, 9, 10, i64::MIN, i64::MAX] {
            let mut got = Vec::new();
            write_int(&mut got, i);
            assert_eq!(got, i.to_string().into_bytes());
        }
    }
}
