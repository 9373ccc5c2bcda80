//! File plumbing below both ingest and output: errors naming a file, a reader that hashes what
//! passes through it, and row counts from a Parquet footer. It imports nothing of billrisk but
//! `error`, so the readers (ingest) and the writer of --out (output) can share it without
//! importing each other.

use std::fs;
use std::path::Path;

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Problem, Result};

/// An output error naming the file: `e` is billrisk's words or the error that caused it.
pub(crate) fn out_err(path: &Path, e: impl Problem) -> Error {
    Error::output(path.to_path_buf(), e)
}

/// A reader that hashes (sha256) and counts the bytes read through it.
pub(crate) struct Hashing<R> {
    pub inner: R,
    pub hasher: Sha256,
    pub size: u64,
}

impl<R: std::io::Read> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// Rows of a Parquet file, from its footer.
pub fn parquet_rows(path: &Path) -> Result<u64> {
    let f = fs::File::open(path).map_err(|e| out_err(path, e))?;
    let n = ParquetReader::new(f)
        .num_rows()
        .map_err(|e| out_err(path, e))?;
    Ok(n as u64)
}
