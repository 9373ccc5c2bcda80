//! Delimited files as they are downloaded. One pass per file (gzip, by the policy of bytes.rs,
//! decoded on the fly) hashes its bytes for the manifest, counts its records, finds the rows that
//! cannot be read as rows (wrong field count, a truncated last line, invalid UTF-8), and splits
//! every good record into fields, keeping the columns the source reads as text together with the
//! record's first line. Those are staged in batches as an uncompressed Parquet file in the run's
//! scratch folder, which Polars scans: a file is split into fields once, here, not a second time by
//! Polars' CSV reader (whose line counting runs on one thread), and a file with quoted newlines,
//! blank lines or stray quotes needs no rewritten copy. Every record is accounted for with its
//! real line number.
//!
//! The small CSV files of the activity/ folder and fraud events are split in memory instead
//! ([`read_csv`]): rows checked for field count and UTF-8, columns found by `normalize_header`.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::bytes::{cut, decoded, is_gzip_file, raw_string, raw_text, RAW_LIMIT};
use super::columns::normalize_header;
use super::record::RowFault;
use super::Rejected;
use crate::error::{Error, Result};
use crate::files::{out_err, Hashing};
use crate::schema;

/// What the pre-pass learnt about one file.
pub struct Prepass {
    pub header: Vec<String>,
    /// Data records (header excluded), rejected or not.
    pub records: u64,
    pub size: u64,
    pub sha256: String,
    /// Rows rejected for their structure.
    pub rejected: Vec<Rejected>,
    /// The wanted columns of the good records as text, and `source_line` (see [`Stager`]); none
    /// for a file without a header (zero bytes).
    pub staged: Option<PathBuf>,
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::input_file(path.to_path_buf(), e))
}

/// Splits a byte stream into CSV records by lines, keeping each record's true first line:
/// a record continues over a newline while a quoted field is open (RFC 4180 quote parity);
/// blank lines are skipped but counted. Hand-written because the `csv` crate reports the
/// position where reading started, which lands on a skipped blank line, not on the record.
struct Records<R> {
    inner: R,
    line: i64,
    buf: Vec<u8>,
}

/// One record: its first line, its bytes without the line end, and
/// whether it ended inside an open quote (a truncated file).
struct Rec<'a> {
    line: i64,
    bytes: &'a [u8],
    open_quote: bool,
}

impl<R: io::BufRead> Records<R> {
    fn new(inner: R) -> Self {
        Records {
            inner,
            line: 0,
            buf: Vec::new(),
        }
    }

    fn next(&mut self) -> io::Result<Option<Rec<'_>>> {
        self.buf.clear();
        let mut start = 0i64;
        let mut quotes = 0usize;
        loop {
            // Each line is read straight into the record's buffer (no copy per line).
            let from = self.buf.len();
            let n = self.inner.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                // End of file inside a quoted field.
                let bytes = trim_line_end(&self.buf);
                return Ok(Some(Rec {
                    line: start,
                    bytes,
                    open_quote: true,
                }));
            }
            self.line += 1;
            if from == 0 {
                if trim_line_end(&self.buf).is_empty() {
                    self.buf.clear();
                    continue;
                }
                start = self.line;
            }
            quotes += memchr::memchr_iter(b'"', &self.buf[from..]).count();
            if quotes.is_multiple_of(2) {
                let bytes = trim_line_end(&self.buf);
                return Ok(Some(Rec {
                    line: start,
                    bytes,
                    open_quote: false,
                }));
            }
        }
    }
}

fn trim_line_end(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && (b[end - 1] == b'\n' || b[end - 1] == b'\r') {
        end -= 1;
    }
    &b[..end]
}

/// Fields of one record as the csv crate splits them (quotes removed, "" unescaped).
fn fields(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => rec.iter().map(|f| f.to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// Number of fields (RFC 4180), and whether the quoting is malformed (a quote inside an unquoted
/// field, or text after a closing quote). Malformed records are counted the way the `csv` crate
/// splits them (the tests check [`split_fields`] through it).
#[cfg(test)]
fn field_count(bytes: &[u8]) -> (usize, bool) {
    let mut spans = Vec::new();
    if split_fields(bytes, &mut spans) {
        (fields(bytes).len(), true)
    } else {
        (spans.len(), false)
    }
}

/// Where one field of a record lies: a quoted field's span is inside its quotes, with any quote
/// in it still doubled (`escaped`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
}

/// Splits a record into fields (RFC 4180) as spans of `bytes`, and says whether the quoting is
/// malformed (a quote inside an unquoted field, text after a closing quote, a bare carriage
/// return: the csv crate ends a record there); `spans` is then incomplete and the caller splits
/// the record with the csv crate instead ([`fields`]).
///
/// The record is read 64 bytes at a time as bit masks of its commas, quotes and carriage returns;
/// a comma separates fields when an even number of quotes precede it (quote parity, by a prefix
/// XOR of the quote mask). A field with no quote and no carriage return is plain text; one with
/// either is checked on its own to be one quoted field (quotes inside doubled). A well-formed
/// record's fields are exactly these; a malformed one always has a field that fails the check.
/// A record that ends inside quotes (only at the end of a truncated file) is split by
/// [`split_fields_stepwise`]. At 1M usage lines the per-field `memchr3` calls it replaces took
/// 14% of the reading stage's CPU in a `perf` profile (a Partner Center record has 55 fields).
/// Hand-written: the csv crate splits a record into owned fields or a record buffer, not into
/// spans of a record already in memory; simd-csv (the SIMD reader of the xan tool) reads a byte
/// stream into records itself, without the records' first line numbers and blank-line counts of
/// [`Records`] and with its own handling of malformed quotes, where a malformed record here must
/// be split exactly as the csv crate splits it. Only the field split of a record in memory is
/// replaced.
fn split_fields(bytes: &[u8], spans: &mut Vec<Span>) -> bool {
    spans.clear();
    let mut field_start = 0usize;
    // Whether the field being read so far holds a quote or a carriage return.
    let mut special_pending = false;
    // All ones while inside quotes at the end of the previous block.
    let mut inside_carry = 0u64;
    for (k, chunk) in bytes.chunks(64).enumerate() {
        let base = k * 64;
        let (commas, quotes, returns) = block_masks(chunk);
        let inside = prefix_xor(quotes) ^ inside_carry;
        inside_carry = 0u64.wrapping_sub(inside >> 63);
        let special = quotes | returns;
        let mut separators = commas & !inside;
        let mut from_bit = 0u32;
        while separators != 0 {
            let bit = separators.trailing_zeros();
            let in_field = special & bits_between(from_bit, bit);
            let end = base + bit as usize;
            if !push_field(
                bytes,
                field_start,
                end,
                special_pending || in_field != 0,
                spans,
            ) {
                return true;
            }
            field_start = end + 1;
            special_pending = false;
            from_bit = bit + 1;
            separators &= separators - 1;
        }
        special_pending |= special & bits_between(from_bit, 64) != 0;
    }
    if inside_carry != 0 {
        // Ends inside quotes: the stepwise split says how far the fields go.
        return split_fields_stepwise(bytes, spans);
    }
    !push_field(bytes, field_start, bytes.len(), special_pending, spans)
}

/// The masks of commas, quotes and carriage returns of up to 64 bytes (bit i: byte i).
fn block_masks(chunk: &[u8]) -> (u64, u64, u64) {
    let mut block = [0u8; 64];
    let block = if let Ok(full) = <&[u8; 64]>::try_from(chunk) {
        full
    } else {
        block[..chunk.len()].copy_from_slice(chunk);
        &block
    };
    let (mut commas, mut quotes, mut returns) = (0u64, 0u64, 0u64);
    let (lanes, _) = block.as_chunks::<16>();
    for (lane, bytes) in lanes.iter().enumerate() {
        let (c, q, r) = lane_masks(bytes);
        commas |= u64::from(c) << (16 * lane);
        quotes |= u64::from(q) << (16 * lane);
        returns |= u64::from(r) << (16 * lane);
    }
    (commas, quotes, returns)
}

/// [`block_masks`] of 16 bytes, with SSE2's byte compares (part of every x86-64 processor; the
/// compiler did not vectorise the byte loop, which took longer than the memchr calls it replaced).
#[cfg(target_arch = "x86_64")]
fn lane_masks(bytes: &[u8; 16]) -> (u16, u16, u16) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: `bytes` is 16 bytes long (its type says so) and loadu reads 16 bytes from any
    // alignment; SSE2, the only feature these intrinsics need, is part of the x86-64 baseline
    // every x86-64 build targets.
    let mask = |c: u8| unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().cast());
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8))) as u16
    };
    (mask(b','), mask(b'"'), mask(b'\r'))
}

#[cfg(not(target_arch = "x86_64"))]
fn lane_masks(bytes: &[u8; 16]) -> (u16, u16, u16) {
    lane_masks_bytewise(bytes)
}

/// [`lane_masks`] byte by byte: the other architectures' masks (and, in the tests, the answer
/// the SSE2 ones are checked against).
#[cfg(any(test, not(target_arch = "x86_64")))]
fn lane_masks_bytewise(bytes: &[u8; 16]) -> (u16, u16, u16) {
    let (mut c, mut q, mut r) = (0u16, 0u16, 0u16);
    for (i, &b) in bytes.iter().enumerate() {
        c |= u16::from(b == b',') << i;
        q |= u16::from(b == b'"') << i;
        r |= u16::from(b == b'\r') << i;
    }
    (c, q, r)
}

/// Bit i set when an odd number of the bits up to and including i are set in `x`.
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// The bits from `from` (included) to `to` (excluded), `to` at most 64.
fn bits_between(from: u32, to: u32) -> u64 {
    let upto = if to >= 64 { u64::MAX } else { (1u64 << to) - 1 };
    let below = if from >= 64 {
        u64::MAX
    } else {
        (1u64 << from) - 1
    };
    upto & !below
}

/// Adds the field `bytes[start..end]` to `spans`: as it is when it holds no quote and no carriage
/// return (`special` false), else when it is one well-formed quoted field; false when it is not.
fn push_field(
    bytes: &[u8],
    start: usize,
    end: usize,
    special: bool,
    spans: &mut Vec<Span>,
) -> bool {
    if !special {
        spans.push(Span {
            start,
            end,
            escaped: false,
        });
        return true;
    }
    let field = &bytes[start..end];
    let [b'"', inner @ .., b'"'] = field else {
        return false;
    };
    // Every quote inside comes doubled.
    let mut escaped = false;
    let mut i = 0;
    while let Some(j) = memchr::memchr(b'"', &inner[i..]) {
        if inner.get(i + j + 1) != Some(&b'"') {
            return false;
        }
        escaped = true;
        i += j + 2;
    }
    spans.push(Span {
        start: start + 1,
        end: end - 1,
        escaped,
    });
    true
}

/// [`split_fields`] one field at a time, jumping between special bytes with memchr: what a record
/// that ends inside quotes is split with.
fn split_fields_stepwise(bytes: &[u8], spans: &mut Vec<Span>) -> bool {
    // Jumps from one special byte to the next with memchr (SIMD) instead of stepping through every
    // byte: a Partner Center record is ~700 bytes with a few quoted JSON fields. Same states as
    // the RFC 4180 automaton in the tests (`field_count_reference`), checked against it there.
    spans.clear();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            // A quoted field: up to a quote not followed by another one.
            let start = i + 1;
            let mut escaped = false;
            i += 1;
            loop {
                let close = match memchr::memchr(b'"', &bytes[i..]) {
                    // The record ends inside the quotes (its line count already says so).
                    None => bytes.len(),
                    Some(j) => i + j,
                };
                let span = Span {
                    start,
                    end: close,
                    escaped,
                };
                i = close + 1;
                match bytes.get(i) {
                    None => {
                        spans.push(span);
                        return false;
                    }
                    Some(b'"') => {
                        escaped = true;
                        i += 1;
                    }
                    Some(b',') => {
                        spans.push(span);
                        i += 1;
                        break;
                    }
                    // Text after a closing quote.
                    Some(_) => return true,
                }
            }
        } else {
            // A plain field: up to the next comma; a quote or a bare carriage return in it is
            // malformed.
            let end = match memchr::memchr3(b',', b'"', b'\r', &bytes[i..]) {
                None => bytes.len(),
                Some(j) if bytes[i + j] == b',' => i + j,
                Some(_) => return true,
            };
            spans.push(Span {
                start: i,
                end,
                escaped: false,
            });
            if end == bytes.len() {
                return false;
            }
            i = end + 1;
        }
    }
}

/// The text of one field of a well-formed record (`text` is the record), quotes unescaped; an
/// empty field is null, as Polars reads one.
fn span_text<'a>(text: &'a str, span: &Span) -> Option<Cow<'a, str>> {
    let v = text.get(span.start..span.end)?;
    if v.is_empty() {
        None
    } else if span.escaped {
        Some(Cow::Owned(v.replace("\"\"", "\"")))
    } else {
        Some(Cow::Borrowed(v))
    }
}

/// A header field as written, for messages and rejected rows: lossy UTF-8, without a BOM or
/// surrounding blanks (matching uses `normalize_header` on top of this).
fn header_name(field: &[u8]) -> String {
    String::from_utf8_lossy(field)
        .trim_start_matches('\u{feff}')
        .trim()
        .to_string()
}

fn read_err(path: &Path, e: impl crate::error::Problem) -> Error {
    Error::input_file(path.to_path_buf(), e)
}

/// A record that can be read as a row: its text, split into `spans` (well-formed quoting), or
/// its fields as the csv crate splits them (malformed quoting).
enum Good<'a> {
    Text(&'a str),
    Fields(Vec<Vec<u8>>),
}

/// Whether a record can be read as a row (`Err` says why not), `spans` holding its fields when
/// its quoting is well formed.
fn check_record<'a>(
    rec: &Rec<'a>,
    width: usize,
    spans: &mut Vec<Span>,
) -> std::result::Result<Good<'a>, String> {
    if rec.open_quote {
        return Err("expected a closing quote, found the end of the file".to_string());
    }
    let split = if split_fields(rec.bytes, spans) {
        Some(fields(rec.bytes))
    } else {
        None
    };
    let n = split.as_ref().map_or(spans.len(), Vec::len);
    if n != width {
        return Err(format!(
            "expected {width} fields as in the header, found {n}"
        ));
    }
    let text = std::str::from_utf8(rec.bytes)
        .map_err(|_| "expected UTF-8 text, found invalid bytes".to_string())?;
    Ok(match split {
        Some(f) => Good::Fields(f),
        None => Good::Text(text),
    })
}

/// Reads the file once: header, records, structural rejects, hash, and the good records' wanted
/// columns staged in `scratch`. `wanted` gets the header (names as written) and returns the
/// columns to keep: (index in the header, name to give it); it may refuse the file (a missing
/// column).
pub fn prepass(
    path: &Path,
    display: &str,
    source: &str,
    scratch: &Path,
    wanted: impl FnOnce(&[String]) -> Result<Vec<(usize, String)>>,
) -> Result<Prepass> {
    let mut hashing = Hashing {
        inner: BufReader::with_capacity(1 << 20, open(path)?),
        hasher: Sha256::new(),
        size: 0,
    };
    let mut header = Vec::new();
    let mut records = 0u64;
    let mut rejected = Vec::new();
    let gzip = is_gzip_file(path)?;
    let mut stager: Option<Stager> = None;
    let mut wanted = Some(wanted);
    let mut spans = Vec::new();
    {
        let mut recs = Records::new(BufReader::with_capacity(
            1 << 20,
            decoded(gzip, &mut hashing),
        ));
        while let Some(rec) = recs.next().map_err(|e| read_err(path, e))? {
            let Some(stage) = stager.as_mut() else {
                header = fields(rec.bytes).iter().map(|f| header_name(f)).collect();
                // A header of no fields (a file holding only a BOM) has no columns to look for:
                // the file is read as having no header, and any record after it is rejected.
                let columns = match wanted.take() {
                    Some(w) if !header.is_empty() => w(&header)?,
                    _ => Vec::new(),
                };
                stager = Some(Stager::create(display, scratch, columns)?);
                continue;
            };
            records += 1;
            match check_record(&rec, header.len(), &mut spans) {
                Ok(Good::Text(text)) => stage.text(rec.line, text, &spans)?,
                Ok(Good::Fields(f)) => stage.fields(rec.line, &f)?,
                Err(reason) => rejected.push(Rejected {
                    source: source.to_string(),
                    file: display.to_string(),
                    line: rec.line,
                    column: String::new(),
                    reason,
                    raw: raw_string(rec.bytes),
                }),
            }
        }
    }
    // Drain whatever the reader did not need, so the hash covers the whole file.
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| read_err(path, e))?;
    let sha256 = format!("{:x}", hashing.hasher.finalize());
    let size = hashing.size;
    let staged = match stager {
        Some(s) => Some(s.finish()?),
        None => None,
    };
    Ok(Prepass {
        header,
        records,
        size,
        sha256,
        rejected,
        staged,
    })
}

/// Rows per batch (and row group) of a staged file: the most text of one file held at a time.
const STAGE_ROWS: usize = 64 * 1024;

/// Numbers the staged files of a run, so two inputs never share one.
static STAGED_FILES: AtomicU64 = AtomicU64::new(0);

/// The wanted columns of a file's good records as text (empty fields null), and `source_line`,
/// written batch by batch to an uncompressed Parquet file in `scratch`: a scratch file read once
/// by the same run, where compression would only cost time.
struct Stager {
    path: PathBuf,
    /// (index in the header, column name)
    wanted: Vec<(usize, String)>,
    columns: Vec<StringChunkedBuilder>,
    lines: Vec<i64>,
    writer: polars::io::parquet::write::BatchedWriter<File>,
}

impl Stager {
    fn create(display: &str, scratch: &Path, wanted: Vec<(usize, String)>) -> Result<Stager> {
        // The number makes the name unique; the file's own name, cut short so that a deep input
        // folder cannot make it too long for the file system, only helps whoever looks.
        let name: String = display
            .chars()
            .rev()
            .take(80)
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let n = STAGED_FILES.fetch_add(1, Ordering::Relaxed);
        let path = scratch.join(format!("text_{n}_{name}.parquet"));
        let mut schema: Schema = wanted
            .iter()
            .map(|(_, c)| Field::new(c.as_str().into(), DataType::String))
            .collect();
        schema.with_column(schema::SOURCE_LINE.into(), DataType::Int64);
        let file = File::create(&path).map_err(|e| out_err(&path, e))?;
        let writer = ParquetWriter::new(file)
            .with_compression(ParquetCompression::Uncompressed)
            .with_statistics(StatisticsOptions {
                min_value: false,
                max_value: false,
                distinct_count: false,
                null_count: false,
                binary_statistics_truncate_length: None,
            })
            .set_parallel(false)
            .batched(&schema)
            .map_err(|e| out_err(&path, e))?;
        let columns = Self::builders(&wanted);
        Ok(Stager {
            path,
            wanted,
            columns,
            lines: Vec::with_capacity(STAGE_ROWS),
            writer,
        })
    }

    fn builders(wanted: &[(usize, String)]) -> Vec<StringChunkedBuilder> {
        wanted
            .iter()
            .map(|(_, c)| StringChunkedBuilder::new(c.as_str().into(), STAGE_ROWS))
            .collect()
    }

    /// A well-formed record: its text and its fields' spans.
    fn text(&mut self, line: i64, text: &str, spans: &[Span]) -> Result<()> {
        for ((i, _), b) in self.wanted.iter().zip(self.columns.iter_mut()) {
            b.append_option(spans.get(*i).and_then(|s| span_text(text, s)));
        }
        self.end_row(line)
    }

    /// A record with malformed quoting, split by the csv crate (valid UTF-8, checked).
    fn fields(&mut self, line: i64, fields: &[Vec<u8>]) -> Result<()> {
        for ((i, _), b) in self.wanted.iter().zip(self.columns.iter_mut()) {
            let v = fields
                .get(*i)
                .and_then(|f| std::str::from_utf8(f).ok())
                .filter(|v| !v.is_empty());
            b.append_option(v);
        }
        self.end_row(line)
    }

    fn end_row(&mut self, line: i64) -> Result<()> {
        self.lines.push(line);
        if self.lines.len() >= STAGE_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let height = self.lines.len();
        let builders = std::mem::replace(&mut self.columns, Self::builders(&self.wanted));
        let mut cols: Vec<Column> = builders
            .into_iter()
            .map(|b| b.finish().into_column())
            .collect();
        let lines = std::mem::replace(&mut self.lines, Vec::with_capacity(STAGE_ROWS));
        cols.push(Column::new(schema::SOURCE_LINE.into(), lines));
        let df = DataFrame::new(height, cols).map_err(|e| out_err(&self.path, e))?;
        self.writer
            .write_batch(&df)
            .map_err(|e| out_err(&self.path, e))
    }

    fn finish(mut self) -> Result<PathBuf> {
        if !self.lines.is_empty() {
            self.flush()?;
        }
        self.writer.finish().map_err(|e| out_err(&self.path, e))?;
        Ok(self.path)
    }
}

/// A lazy scan of the staged columns of a file: the wanted columns under their names, every one
/// as String, plus `source_line`.
pub fn scan(pre: &Prepass) -> Result<LazyFrame> {
    let Some(path) = pre.staged.as_ref() else {
        return Err(Error::Internal("a CSV file scanned before staging".into()));
    };
    let pl_path = PlRefPath::try_from_path(path).map_err(|e| read_err(path, e))?;
    LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()).map_err(|e| read_err(path, e))
}

/// Reads the given 1-based lines of a file (decoded when gzipped): the raw text of rejected rows.
pub fn read_lines(path: &Path, lines: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
    use std::io::BufRead;
    let wanted: std::collections::HashSet<i64> = lines.iter().copied().collect();
    let max = lines.iter().copied().max().unwrap_or(0);
    let mut out = std::collections::HashMap::new();
    let mut r = BufReader::new(decoded(is_gzip_file(path)?, BufReader::new(open(path)?)));
    let mut buf = Vec::new();
    let mut n = 0i64;
    while n < max {
        buf.clear();
        let got = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| read_err(path, e))?;
        if got == 0 {
            break;
        }
        n += 1;
        if wanted.contains(&n) {
            let s = String::from_utf8_lossy(&buf);
            out.insert(
                n,
                cut(s.trim_end_matches(['\r', '\n']), RAW_LIMIT).to_string(),
            );
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// In memory: the small CSV files of the activity/ folder and fraud events, split by the csv
// crate into rows checked for field count and UTF-8.
// ---------------------------------------------------------------------------------------------

/// A CSV file split into rows; columns are found by normalised name.
pub(crate) struct CsvFile {
    /// Header names as written (BOM removed).
    pub header: Vec<String>,
    normalized: Vec<String>,
    pub records: Vec<CsvRecord>,
}

pub(crate) enum CsvRecord {
    Row { line: i64, fields: Vec<String> },
    Bad(RowFault),
}

impl CsvFile {
    /// The first column whose normalised name equals one of the normalised aliases.
    pub(crate) fn index(&self, aliases: &[&str]) -> Option<usize> {
        aliases.iter().find_map(|alias| {
            let alias = normalize_header(alias);
            self.normalized.iter().position(|h| *h == alias)
        })
    }

    /// A column's name as written in the file, for rejected rows.
    pub(crate) fn name(&self, index: usize) -> &str {
        self.header.get(index).map_or("", |h| h.as_str())
    }
}

pub(crate) fn read_csv(data: &[u8]) -> CsvFile {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut header: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line() as i64;
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                records.push(CsvRecord::Bad(RowFault {
                    line,
                    column: String::new(),
                    reason: format!("expected a CSV row, found {e}"),
                    raw: String::new(),
                }));
                break;
            }
        }
        let line = record.position().map_or(line, |p| p.line() as i64);
        if record.len() == 1
            && record
                .get(0)
                .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            continue; // a blank line
        }
        if header.is_empty() {
            header = record.iter().map(header_name).collect();
            continue;
        }
        let raw = || {
            let joined: Vec<u8> = record.iter().collect::<Vec<_>>().join(&b","[..]);
            raw_text(&joined, 0, joined.len())
        };
        if record.len() != header.len() {
            records.push(CsvRecord::Bad(RowFault {
                line,
                column: String::new(),
                reason: format!("expected {} fields, found {}", header.len(), record.len()),
                raw: raw(),
            }));
            continue;
        }
        let mut fields = Vec::with_capacity(record.len());
        let mut fault = None;
        for (i, f) in record.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => fields.push(s.to_string()),
                Err(_) => {
                    fault = Some(RowFault {
                        line,
                        column: header.get(i).cloned().unwrap_or_default(),
                        reason: "expected UTF-8 text, found invalid bytes".into(),
                        raw: raw(),
                    });
                    break;
                }
            }
        }
        records.push(match fault {
            Some(f) => CsvRecord::Bad(f),
            None => CsvRecord::Row { line, fields },
        });
    }
    let normalized = header.iter().map(|h| normalize_header(h)).collect();
    CsvFile {
        header,
        normalized,
        records,
    }
}

pub(crate) fn join_fields(fields: &[String]) -> String {
    let joined = fields.join(",");
    cut(&joined, RAW_LIMIT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prepass_bytes(bytes: &[u8], name: &str) -> (Prepass, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let pre = prepass(&p, name, "usage", dir.path(), every_column).unwrap();
        (pre, dir)
    }

    /// Keeps every column, named c0, c1, ...
    fn every_column(header: &[String]) -> Result<Vec<(usize, String)>> {
        Ok((0..header.len()).map(|i| (i, format!("c{i}"))).collect())
    }

    fn texts(df: &DataFrame, c: &str) -> Vec<Option<String>> {
        let col = df.column(c).unwrap().str().unwrap().clone();
        col.iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn clean_file_is_scanned_in_place_and_counted() {
        let (pre, _d) = prepass_bytes(b"a,b\n1,2\n3,4\n", "x.csv");
        assert_eq!(pre.header, ["a", "b"]);
        assert_eq!(pre.records, 2);
        assert!(pre.rejected.is_empty());
        assert_eq!(pre.size, 12);
        // sha256 of the exact bytes.
        assert_eq!(
            pre.sha256,
            format!("{:x}", Sha256::digest(b"a,b\n1,2\n3,4\n"))
        );
        let df = scan(&pre).unwrap().collect().unwrap();
        assert_eq!(texts(&df, "c1"), [Some("2".into()), Some("4".into())]);
    }

    /// Fields as Polars read them: quotes removed and "" unescaped, empty fields null, stray
    /// quotes split as the csv crate splits them; only the wanted columns, under their names.
    #[test]
    fn fields_are_staged_unquoted_and_only_the_wanted_ones() {
        let text = b"a,b,c\r\n\"x,\"\"y\"\"\",,\"\"\r\nab\"c\"d,2,3\r\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, text).unwrap();
        let pre = prepass(&p, "f.csv", "usage", dir.path(), |h| {
            assert_eq!(h, ["a", "b", "c"]);
            Ok(vec![(2, "third".to_string()), (0, "first".to_string())])
        })
        .unwrap();
        let df = scan(&pre).unwrap().collect().unwrap();
        assert_eq!(
            df.get_column_names(),
            ["third", "first", schema::SOURCE_LINE]
        );
        assert_eq!(
            texts(&df, "first"),
            [Some("x,\"y\"".into()), Some("ab\"c\"d".into())]
        );
        assert_eq!(texts(&df, "third"), [None, Some("3".into())]);
    }

    #[test]
    fn quoted_newlines_and_blank_lines_keep_true_line_numbers() {
        let text = b"a,b\n\"multi\nline\",1\n\nx,\n3\n";
        let (pre, _d) = prepass_bytes(text, "x.csv");
        assert_eq!(pre.records, 3);
        assert_eq!(pre.rejected.len(), 1);
        assert_eq!(pre.rejected[0].line, 6);
        assert_eq!(pre.rejected[0].raw, "3");
        let df = scan(&pre).unwrap().collect().unwrap();
        let lines: Vec<i64> = df
            .column(schema::SOURCE_LINE)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(lines, [2, 5]);
        assert_eq!(
            df.column("c0").unwrap().str().unwrap().get(0),
            Some("multi\nline")
        );
    }

    /// A file deep in the input folder still gets a staged file (names are limited to 255 bytes).
    #[test]
    fn a_long_display_path_is_staged_under_a_short_name() {
        let long = format!("{}/x.csv", ["d".repeat(200), "e".repeat(200)].join("/"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, b"a\n1\n").unwrap();
        let pre = prepass(&p, &long, "usage", dir.path(), every_column).unwrap();
        let df = scan(&pre).unwrap().collect().unwrap();
        assert_eq!(texts(&df, "c0"), [Some("1".into())]);
    }

    #[test]
    fn gzip_is_decoded_and_hashed_as_stored() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a\n1\n2\n").unwrap();
        let gz = enc.finish().unwrap();
        let (pre, _d) = prepass_bytes(&gz, "x.csv.gz");
        assert_eq!(pre.records, 2);
        assert_eq!(pre.size, gz.len() as u64);
        let df = scan(&pre).unwrap().collect().unwrap();
        assert_eq!(texts(&df, "c0"), [Some("1".into()), Some("2".into())]);
    }

    /// The byte-by-byte RFC 4180 automaton `field_count` replaced (the fuzzers ran against it).
    fn field_count_reference(bytes: &[u8]) -> (usize, bool) {
        #[derive(PartialEq)]
        enum S {
            Start,
            Plain,
            Quoted,
            QuoteInQuoted,
        }
        let mut n = 1;
        let mut st = S::Start;
        for &b in bytes {
            st = match (st, b) {
                (S::Start, b'"') => S::Quoted,
                (S::Start | S::Plain, b',') => {
                    n += 1;
                    S::Start
                }
                // A stray quote, or a bare carriage return (the csv crate ends a record there).
                (S::Start | S::Plain, b'"' | b'\r') => return (fields(bytes).len(), true),
                (S::Start | S::Plain, _) => S::Plain,
                (S::Quoted, b'"') => S::QuoteInQuoted,
                (S::Quoted, _) => S::Quoted,
                (S::QuoteInQuoted, b'"') => S::Quoted,
                (S::QuoteInQuoted, b',') => {
                    n += 1;
                    S::Start
                }
                (S::QuoteInQuoted, _) => return (fields(bytes).len(), true),
            };
        }
        (n, false)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn field_count_agrees_with_the_byte_automaton(
            bytes in proptest::collection::vec(prop_oneof![Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n'), Just(b'a'), any::<u8>()], 0..60)
        ) {
            prop_assert_eq!(field_count(&bytes), field_count_reference(&bytes));
        }

        /// The SSE2 masks of 16 bytes are the byte-by-byte ones.
        #[test]
        fn lane_masks_agree_with_the_bytes(
            bytes in proptest::array::uniform16(prop_oneof![Just(b','), Just(b'"'), Just(b'\r'), any::<u8>()])
        ) {
            prop_assert_eq!(lane_masks(&bytes), lane_masks_bytewise(&bytes));
        }

        /// The 64-byte mask split gives the stepwise split's answer and spans, across blocks.
        #[test]
        fn split_fields_agrees_with_the_stepwise_split(
            bytes in proptest::collection::vec(prop_oneof![Just(b','), Just(b'"'), Just(b'"'), Just(b'\r'), Just(b'a'), any::<u8>()], 0..300)
        ) {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            let malformed = split_fields(&bytes, &mut ours);
            prop_assert_eq!(malformed, split_fields_stepwise(&bytes, &mut theirs));
            if !malformed {
                prop_assert_eq!(ours, theirs);
            }
        }

        /// Well-formed records of many fields (plain, quoted with commas, doubled quotes and line
        /// ends inside), most longer than a 64-byte block: both splits give the same spans.
        #[test]
        fn well_formed_records_split_alike_across_blocks(
            fields in proptest::collection::vec(
                (any::<bool>(), proptest::collection::vec(prop_oneof![Just(','), Just('"'), Just('\r'), Just('a'), Just('é'), Just(' ')], 0..40)),
                1..20,
            )
        ) {
            let record: Vec<String> = fields
                .into_iter()
                .map(|(quoted, chars)| {
                    let text: String = chars.into_iter().collect();
                    if quoted {
                        format!("\"{}\"", text.replace('"', "\"\""))
                    } else {
                        text.replace([',', '"', '\r'], "")
                    }
                })
                .collect();
            let record = record.join(",");
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            prop_assert!(!split_fields(record.as_bytes(), &mut ours));
            prop_assert!(!split_fields_stepwise(record.as_bytes(), &mut theirs));
            prop_assert_eq!(ours, theirs);
        }

        /// The fields staged from a well-formed record are the csv crate's (empty as null).
        #[test]
        fn split_fields_agrees_with_the_csv_crate(
            text in proptest::collection::vec(prop_oneof![Just(','), Just('"'), Just('\r'), Just('a'), Just('é'), any::<char>()], 0..60)
        ) {
            let text: String = text.into_iter().collect();
            let mut spans = Vec::new();
            if !text.is_empty() && !text.contains('\n') && !text.starts_with('\u{feff}') && !split_fields(text.as_bytes(), &mut spans) && memchr::memchr_iter(b'"', text.as_bytes()).count().is_multiple_of(2) {
                let ours: Vec<String> = spans.iter().map(|s| span_text(&text, s).map(|v| v.into_owned()).unwrap_or_default()).collect();
                let theirs: Vec<String> = fields(text.as_bytes()).into_iter().map(|f| String::from_utf8(f).unwrap()).collect();
                prop_assert_eq!(ours, theirs);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_bytes_are_read_without_panic_and_every_record_is_accounted(
            bytes in proptest::collection::vec(prop_oneof![Just(b','), Just(b'\n'), Just(b'"'), Just(b'\r'), Just(0xffu8), any::<u8>()], 0..300)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("f.csv");
            std::fs::write(&p, &bytes).unwrap();
            let pre = prepass(&p, "f.csv", "usage", dir.path(), |h| {
                Ok(every_column(h)?.into_iter().take(1).collect())
            }).unwrap();
            if !pre.header.is_empty() && pre.records > 0 {
                let df = scan(&pre).unwrap().collect().unwrap();
                prop_assert_eq!(df.height() as u64 + pre.rejected.len() as u64, pre.records);
            }
        }
    }
}
