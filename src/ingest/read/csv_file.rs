//! Delimited files as they are downloaded. A structural pre-pass with the `csv` crate reads each
//! file once (gzip, by the policy of bytes.rs, decoded on the fly), hashing its bytes for the manifest, counting its records,
//! and finding the rows Polars cannot be trusted with: wrong field count (a truncated last line),
//! invalid UTF-8, records spanning lines. A clean file is then scanned by Polars directly (record
//! i is on line i + 2); any other file is rewritten once, good records only, with each record's
//! line number, into the run's scratch folder and scanned from there. Either way every record is
//! accounted for with its real line number.
//!
//! The small CSV files of the activity/ folder and fraud events are split in memory instead
//! ([`read_csv`]): rows checked for field count and UTF-8, columns found by `normalize_header`.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::bytes::{cut, decoded, is_gzip_file, raw_string, raw_text, RAW_LIMIT};
use super::columns::normalize_header;
use super::record::RowFault;
use super::Rejected;
use crate::error::{Error, Result};
use crate::files::{out_err, Hashing};
use crate::schema;

/// Name of the line-number column in a rewritten copy.
const LINE_COL: &str = "__line";

/// What the pre-pass learnt about one file.
pub struct Prepass {
    pub header: Vec<String>,
    /// Data records (header excluded), rejected or not.
    pub records: u64,
    pub size: u64,
    pub sha256: String,
    /// Rows rejected for their structure.
    pub rejected: Vec<Rejected>,
    /// The file Polars reads, and whether line numbers come from a `__line` column.
    pub scan_path: PathBuf,
    pub rewritten: bool,
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
    /// Blank lines skipped so far.
    blanks: u64,
}

/// One record: its first line, whether it spanned lines, its bytes without the line end, and
/// whether it ended inside an open quote (a truncated file).
struct Rec<'a> {
    line: i64,
    multiline: bool,
    bytes: &'a [u8],
    open_quote: bool,
}

impl<R: io::BufRead> Records<R> {
    fn new(inner: R) -> Self {
        Records {
            inner,
            line: 0,
            buf: Vec::new(),
            blanks: 0,
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
                    multiline: self.line > start,
                    bytes,
                    open_quote: true,
                }));
            }
            self.line += 1;
            if from == 0 {
                if trim_line_end(&self.buf).is_empty() {
                    self.blanks += 1;
                    self.buf.clear();
                    continue;
                }
                start = self.line;
            }
            quotes += memchr::memchr_iter(b'"', &self.buf[from..]).count();
            if quotes % 2 == 0 {
                let bytes = trim_line_end(&self.buf);
                return Ok(Some(Rec {
                    line: start,
                    multiline: self.line > start,
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
/// splits them, and their file is rewritten, so Polars never has to guess.
fn field_count(bytes: &[u8]) -> (usize, bool) {
    // Jumps from one special byte to the next with memchr (SIMD) instead of stepping through every
    // byte: a Partner Center record is ~700 bytes with a few quoted JSON fields. Same states as
    // the RFC 4180 automaton in the tests (`field_count_reference`), checked against it there.
    let mut n = 1;
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            // A quoted field: up to a quote not followed by another one.
            i += 1;
            loop {
                match memchr::memchr(b'"', &bytes[i..]) {
                    // The record ends inside the quotes (its line count already says so).
                    None => return (n, false),
                    Some(j) => {
                        i += j + 1;
                        match bytes.get(i) {
                            None => return (n, false),
                            Some(b'"') => i += 1,
                            Some(b',') => {
                                n += 1;
                                i += 1;
                                break;
                            }
                            // Text after a closing quote.
                            Some(_) => return (fields(bytes).len(), true),
                        }
                    }
                }
            }
        } else {
            // A plain field: up to the next comma; a quote or a bare carriage return in it is
            // malformed (the csv crate ends a record at the carriage return).
            match memchr::memchr3(b',', b'"', b'\r', &bytes[i..]) {
                None => return (n, false),
                Some(j) if bytes[i + j] == b',' => {
                    n += 1;
                    i += j + 1;
                }
                Some(_) => return (fields(bytes).len(), true),
            }
        }
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

/// Why a record cannot be read as a row, if it cannot; and whether its quoting is malformed.
fn structural_problem(rec: &Rec<'_>, width: usize) -> (Option<String>, bool) {
    if rec.open_quote {
        return (
            Some("expected a closing quote, found the end of the file".to_string()),
            true,
        );
    }
    let (n, malformed) = field_count(rec.bytes);
    (structural_reason(rec, n, width), malformed)
}

fn structural_reason(rec: &Rec<'_>, n: usize, width: usize) -> Option<String> {
    if n != width {
        return Some(format!(
            "expected {width} fields as in the header, found {n}"
        ));
    }
    if std::str::from_utf8(rec.bytes).is_err() {
        return Some("expected UTF-8 text, found invalid bytes".to_string());
    }
    None
}

/// Reads the file once: header, records, structural rejects, hash. Rewrites it into `scratch`
/// when Polars should not read it as it is.
pub fn prepass(path: &Path, display: &str, source: &str, scratch: &Path) -> Result<Prepass> {
    let mut hashing = Hashing {
        inner: BufReader::with_capacity(1 << 20, open(path)?),
        hasher: Sha256::new(),
        size: 0,
    };
    let mut header = Vec::new();
    let mut records = 0u64;
    let mut rejected = Vec::new();
    // A gzip file is always rewritten (Polars would decompress it whole into memory), so its
    // good records are written during this pass instead of decompressing it a second time.
    let gzip = is_gzip_file(path)?;
    let mut gz_copy: Option<Rewriter> = None;
    let mut clean = !gzip;
    {
        let mut recs = Records::new(BufReader::with_capacity(
            1 << 20,
            decoded(gzip, &mut hashing),
        ));
        let mut first = true;
        while let Some(rec) = recs.next().map_err(|e| read_err(path, e))? {
            if first {
                first = false;
                header = fields(rec.bytes).iter().map(|f| header_name(f)).collect();
                // A header with malformed quoting (text after a closing quote, a bare carriage
                // return) is split differently by Polars: the file is rewritten under c0..cN.
                if rec.line != 1 || rec.multiline || field_count(rec.bytes).1 {
                    clean = false;
                }
                if gzip {
                    gz_copy = Some(Rewriter::create(display, scratch, header.len())?);
                }
                continue;
            }
            records += 1;
            if rec.multiline || rec.line != records as i64 + 1 {
                clean = false;
            }
            let (problem, malformed) = structural_problem(&rec, header.len());
            if malformed {
                clean = false;
            }
            if problem.is_none() {
                if let Some(w) = gz_copy.as_mut() {
                    w.record(&rec, malformed)?;
                }
            }
            if let Some(reason) = problem {
                clean = false;
                rejected.push(Rejected {
                    source: source.to_string(),
                    file: display.to_string(),
                    line: rec.line,
                    column: String::new(),
                    reason,
                    raw: raw_string(rec.bytes),
                });
            }
        }
        if recs.blanks > 0 {
            clean = false;
        }
    }
    // Drain whatever the reader did not need, so the hash covers the whole file.
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| read_err(path, e))?;
    let sha256 = format!("{:x}", hashing.hasher.finalize());
    let size = hashing.size;

    let (scan_path, rewritten) = if clean || records == 0 {
        (path.to_path_buf(), false)
    } else if let Some(w) = gz_copy {
        (w.finish()?, true)
    } else {
        (rewrite(path, display, scratch, header.len())?, true)
    };
    Ok(Prepass {
        header,
        records,
        size,
        sha256,
        rejected,
        scan_path,
        rewritten,
    })
}

/// A plain CSV copy of a file's good records in `scratch`, each with its line number in a last
/// column `__line`, under the header c0..c{width-1},__line.
struct Rewriter {
    path: PathBuf,
    out: io::BufWriter<File>,
}

impl Rewriter {
    fn create(display: &str, scratch: &Path, width: usize) -> Result<Rewriter> {
        let name: String = display
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = scratch.join(format!("{name}.clean.csv"));
        let file = File::create(&path).map_err(|e| out_err(&path, e))?;
        let mut w = Rewriter {
            path,
            out: io::BufWriter::with_capacity(1 << 20, file),
        };
        let mut head: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
        head.push(LINE_COL.to_string());
        w.write(head.join(",").as_bytes())?;
        w.write(b"\n")?;
        Ok(w)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        self.out
            .write_all(bytes)
            .map_err(|e| out_err(&self.path, e))
    }

    /// One record without a structural problem. A well-formed record is copied as it is (its
    /// quoted fields stay quoted): only malformed quoting is split by the csv crate and rewritten.
    fn record(&mut self, rec: &Rec<'_>, malformed: bool) -> Result<()> {
        if malformed {
            let mut f = fields(rec.bytes);
            f.push(rec.line.to_string().into_bytes());
            // Rare (a stray quote): a writer per record is cheap enough here.
            let mut requote = csv::Writer::from_writer(Vec::new());
            let bytes = requote
                .write_record(&f)
                .map_err(|e| e.to_string())
                .and_then(|_| requote.into_inner().map_err(|e| e.to_string()))
                .map_err(|e| out_err(&self.path, e))?;
            self.write(&bytes)?;
            return Ok(());
        }
        self.write(rec.bytes)?;
        self.write(b",")?;
        self.write(rec.line.to_string().as_bytes())?;
        self.write(b"\n")
    }

    fn finish(mut self) -> Result<PathBuf> {
        use std::io::Write;
        self.out.flush().map_err(|e| out_err(&self.path, e))?;
        Ok(self.path)
    }
}

/// Second pass over a file found unclean: writes its good records to a copy in `scratch`.
fn rewrite(path: &Path, display: &str, scratch: &Path, width: usize) -> Result<PathBuf> {
    let mut w = Rewriter::create(display, scratch, width)?;
    let mut recs = Records::new(BufReader::with_capacity(
        1 << 20,
        decoded(
            is_gzip_file(path)?,
            BufReader::with_capacity(1 << 20, open(path)?),
        ),
    ));
    let mut first = true;
    while let Some(rec) = recs.next().map_err(|e| read_err(path, e))? {
        if first {
            first = false;
            continue;
        }
        let (problem, malformed) = structural_problem(&rec, width);
        if problem.is_none() {
            w.record(&rec, malformed)?;
        }
    }
    w.finish()
}

/// A lazy scan of the (possibly rewritten) file with the wanted columns renamed to canonical
/// names, every one as String, plus `source_line`.
pub fn scan(pre: &Prepass, wanted: &[(usize, &str)]) -> Result<LazyFrame> {
    let width = pre.header.len();
    let mut fields: Vec<Field> = (0..width)
        .map(|i| Field::new(format!("c{i}").into(), DataType::String))
        .collect();
    if pre.rewritten {
        fields.push(Field::new(LINE_COL.into(), DataType::String));
    }
    let schema: Schema = fields.into_iter().collect();
    let path = PlRefPath::try_from_path(&pre.scan_path).map_err(|e| read_err(&pre.scan_path, e))?;
    let mut reader = LazyCsvReader::new(path)
        .with_glob(false)
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_encoding(CsvEncoding::LossyUtf8)
        .with_missing_is_null(true);
    if !pre.rewritten {
        reader = reader.with_row_index(Some(RowIndex {
            name: "__row".into(),
            offset: 0,
        }));
    }
    let lf = reader.finish().map_err(|e| read_err(&pre.scan_path, e))?;
    let mut cols: Vec<Expr> = wanted
        .iter()
        .map(|(i, name)| col(format!("c{i}")).alias(*name))
        .collect();
    cols.push(if pre.rewritten {
        col(LINE_COL)
            .cast(DataType::Int64)
            .alias(schema::SOURCE_LINE)
    } else {
        (col("__row").cast(DataType::Int64) + lit(2i64)).alias(schema::SOURCE_LINE)
    });
    Ok(lf.select(cols))
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
        let pre = prepass(&p, name, "usage", dir.path()).unwrap();
        (pre, dir)
    }

    #[test]
    fn clean_file_is_scanned_in_place_and_counted() {
        let (pre, _d) = prepass_bytes(b"a,b\n1,2\n3,4\n", "x.csv");
        assert_eq!(pre.header, ["a", "b"]);
        assert_eq!(pre.records, 2);
        assert!(!pre.rewritten);
        assert!(pre.rejected.is_empty());
        assert_eq!(pre.size, 12);
        // sha256 of the exact bytes.
        assert_eq!(
            pre.sha256,
            format!("{:x}", Sha256::digest(b"a,b\n1,2\n3,4\n"))
        );
    }

    #[test]
    fn quoted_newlines_and_blank_lines_keep_true_line_numbers() {
        let text = b"a,b\n\"multi\nline\",1\n\nx,\n3\n";
        let (pre, _d) = prepass_bytes(text, "x.csv");
        assert!(pre.rewritten);
        assert_eq!(pre.records, 3);
        assert_eq!(pre.rejected.len(), 1);
        assert_eq!(pre.rejected[0].line, 6);
        assert_eq!(pre.rejected[0].raw, "3");
        let df = scan(&pre, &[(0, "a"), (1, "b")])
            .unwrap()
            .collect()
            .unwrap();
        let lines: Vec<i64> = df
            .column(schema::SOURCE_LINE)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(lines, [2, 5]);
        assert_eq!(
            df.column("a").unwrap().str().unwrap().get(0),
            Some("multi\nline")
        );
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
        let df = scan(&pre, &[(0, "a")]).unwrap().collect().unwrap();
        assert_eq!(df.height(), 2);
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
            let pre = prepass(&p, "f.csv", "usage", dir.path()).unwrap();
            if !pre.header.is_empty() && pre.records > 0 {
                let wanted: Vec<(usize, &str)> = (0..pre.header.len()).map(|i| (i, "x")).take(1).collect();
                let df = scan(&pre, &wanted).unwrap().collect().unwrap();
                prop_assert_eq!(df.height() as u64 + pre.rejected.len() as u64, pre.records);
            }
        }
    }
}
