//! Delimited files as they are downloaded. A structural pre-pass with the `csv` crate reads each
//! file once (gzip decoded on the fly), hashing its bytes for the manifest, counting its records,
//! and finding the rows Polars cannot be trusted with: wrong field count (a truncated last line),
//! invalid UTF-8, records spanning lines. A clean file is then scanned by Polars directly (record
//! i is on line i + 2); any other file is rewritten once, good records only, with each record's
//! line number, into the run's scratch folder and scanned from there. Either way every record is
//! accounted for with its real line number.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::Rejected;
use crate::error::{Error, Result};
use crate::schema;

/// Longest raw text kept for a rejected row.
pub const MAX_RAW: usize = 2048;
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

/// Counts and hashes every byte that passes through.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

pub fn is_gzip(path: &Path) -> bool {
    path.to_string_lossy().to_ascii_lowercase().ends_with(".gz")
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::InputFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn decoded<'a, R: Read + 'a>(path: &Path, r: R) -> Box<dyn Read + 'a> {
    if is_gzip(path) {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else {
        Box::new(r)
    }
}

fn reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(r)
}

fn raw_text(rec: &csv::ByteRecord) -> String {
    let joined = rec.iter().collect::<Vec<_>>().join(&b","[..]);
    let mut s = String::from_utf8_lossy(&joined).into_owned();
    if s.len() > MAX_RAW {
        let mut cut = MAX_RAW;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::InputFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
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
    let mut clean = !is_gzip(path);
    {
        let mut rdr = reader(decoded(path, &mut hashing));
        let mut rec = csv::ByteRecord::new();
        let mut first = true;
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    // The csv crate only fails on I/O (a corrupt gzip stream): the file is unreadable.
                    return Err(read_err(path, e));
                }
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0) as i64;
            if first {
                first = false;
                header = rec
                    .iter()
                    .map(|f| {
                        String::from_utf8_lossy(f)
                            .trim_start_matches('\u{feff}')
                            .trim()
                            .to_string()
                    })
                    .collect();
                if line != 1 {
                    clean = false;
                }
                continue;
            }
            records += 1;
            if line != records as i64 + 1 {
                clean = false; // blank lines or multi-line records: line != index + 2
            }
            let reason = if rec.len() != header.len() {
                Some(format!(
                    "expected {} fields as in the header, found {}",
                    header.len(),
                    rec.len()
                ))
            } else if std::str::from_utf8(rec.as_slice()).is_err() {
                Some("expected UTF-8 text, found invalid bytes".to_string())
            } else {
                None
            };
            if let Some(reason) = reason {
                clean = false;
                rejected.push(Rejected {
                    source: source.to_string(),
                    file: display.to_string(),
                    line,
                    column: String::new(),
                    reason,
                    raw: raw_text(&rec),
                });
            }
        }
    }
    // Drain whatever the csv reader did not need, so the hash covers the whole file.
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| read_err(path, e))?;
    let sha256 = format!("{:x}", hashing.hasher.finalize());
    let size = hashing.size;

    let (scan_path, rewritten) = if clean || records == 0 {
        (path.to_path_buf(), false)
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

/// Writes the good records with their line numbers to a plain CSV in `scratch`.
fn rewrite(path: &Path, display: &str, scratch: &Path, width: usize) -> Result<PathBuf> {
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
    let out_path = scratch.join(format!("{name}.clean.csv"));
    let out = File::create(&out_path).map_err(|e| Error::Output {
        path: out_path.clone(),
        reason: e.to_string(),
    })?;
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 20)
        .from_writer(out);
    let write_err = |e: csv::Error| Error::Output {
        path: out_path.clone(),
        reason: e.to_string(),
    };
    let mut head: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    head.push(LINE_COL.to_string());
    w.write_record(&head).map_err(write_err)?;
    let mut rdr = reader(decoded(
        path,
        BufReader::with_capacity(1 << 20, open(path)?),
    ));
    let mut rec = csv::ByteRecord::new();
    let mut first = true;
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| read_err(path, e))?
    {
        if first {
            first = false;
            continue;
        }
        if rec.len() != width || std::str::from_utf8(rec.as_slice()).is_err() {
            continue;
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(0).to_string();
        rec.push_field(line.as_bytes());
        w.write_byte_record(&rec).map_err(write_err)?;
    }
    w.flush().map_err(|e| Error::Output {
        path: out_path.clone(),
        reason: e.to_string(),
    })?;
    Ok(out_path)
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
    let mut r = BufReader::new(decoded(path, BufReader::new(open(path)?)));
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
            let mut s = String::from_utf8_lossy(&buf)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            if s.len() > MAX_RAW {
                let mut cut = MAX_RAW;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            }
            out.insert(n, s);
        }
    }
    Ok(out)
}
