//! How input files are read, below the sources and shared by all of them: the bytes and the one
//! gzip policy (bytes.rs), JSON scanned once with the line of every record (json.rs), CSV split
//! with real line numbers (csv_file.rs), header names compared after one normalisation and the
//! column specs of each source (columns.rs), one record's fields and faults (record.rs), frames in
//! a table's exact schema (frame.rs), the common typed path of the tabular sources (tabular.rs,
//! convert.rs) and the parsing of values (values.rs). Nothing here imports a source
//! (`ingest::sources`); the sources import from here.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};

pub mod bytes;
pub mod columns;
pub mod convert;
pub mod csv_file;
pub mod frame;
pub mod json;
pub mod record;
pub mod tabular;
pub mod values;

/// One row that could not be accepted: it goes to the rejected_rows table.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Canonical source name, e.g. "usage", "activity".
    pub source: String,
    /// The file as given (relative to the input folder).
    pub file: String,
    /// 1-based line number in the file (JSON arrays: the line the record starts on).
    pub line: i64,
    /// The column (or JSON field) at fault, by its name in the file; empty when the whole row is bad.
    pub column: String,
    /// What was expected and what was found, in words.
    pub reason: String,
    /// The raw text of the row (truncated to a few KB).
    pub raw: String,
}

/// What a reader made of one file before typing: every accepted row as text in canonical column
/// names (all String, plus `source_line` Int64 and `source_file` String), and the rows it could
/// not even split into fields (bad JSON, wrong field count, invalid UTF-8).
pub struct RawRead {
    /// The canonical table this file feeds, e.g. "activity" or "audit_records".
    pub table: &'static str,
    pub frame: DataFrame,
    /// Rows seen in the file (records, JSON objects), rejected or not.
    pub rows_read: u64,
    pub rejected: Vec<Rejected>,
}

/// One input file as the manifest reports it.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// The canonical table it feeds.
    pub table: &'static str,
    pub path: PathBuf,
    /// Path relative to the input folder, with `/` separators: how outputs name the file.
    pub display: String,
    pub size: u64,
    pub sha256: String,
    /// Records read (accepted + rejected).
    pub rows_read: u64,
    /// The file carries rows an earlier conversion rejected (`billrisk ingest`): all of its
    /// `rows_read` rows of this table are rejected rows, not input rows.
    pub carried: bool,
}

/// Size and sha256 of a file, streamed.
pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path).map_err(|e| Error::input_file(path.to_path_buf(), e))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).map_err(|e| Error::input_file(path.to_path_buf(), e))?;
    Ok((n, format!("{:x}", h.finalize())))
}
