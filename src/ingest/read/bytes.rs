//! The bytes of an input file as it was downloaded, shared by every reader: the one gzip policy
//! ([`is_gzip`]: by the gzip magic number, so a gzip file named .csv or .json is still read),
//! whole-file loading for the JSON and in-memory CSV readers, streaming decoding for the CSV
//! pre-pass, byte-order marks, JSON-or-CSV layout, and the text of a record kept in a rejected row.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Rejected rows keep at most this many bytes of the record's text.
pub(crate) const RAW_LIMIT: usize = 2048;

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The one gzip policy of every reader: a file is gzip when its bytes start with the gzip magic
/// number, whatever its name (a download renamed to .csv is still read), or when it is named .gz
/// (so a .gz file that is not gzip is reported as a broken gzip stream, not read as text).
pub fn is_gzip(path: &Path, head: &[u8]) -> bool {
    head.starts_with(&GZIP_MAGIC)
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn input_err(path: &Path, e: impl crate::error::Problem) -> Error {
    Error::input_file(path.to_path_buf(), e)
}

/// [`is_gzip`] for a file on disk, from its first two bytes.
pub fn is_gzip_file(path: &Path) -> Result<bool> {
    let mut head = Vec::with_capacity(GZIP_MAGIC.len());
    std::fs::File::open(path)
        .and_then(|f| f.take(GZIP_MAGIC.len() as u64).read_to_end(&mut head))
        .map_err(|e| input_err(path, e))?;
    Ok(is_gzip(path, &head))
}

/// A reader of the decoded bytes: gunzipped (every member of a multi-member file) when `gzip`.
pub fn decoded<'a, R: Read + 'a>(gzip: bool, r: R) -> Box<dyn Read + 'a> {
    if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else {
        Box::new(r)
    }
}

/// The whole decoded file; a gzip stream that breaks off is an error naming the file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| input_err(path, e))?;
    if !is_gzip(path, &raw) {
        return Ok(raw);
    }
    let mut buf = Vec::new();
    decoded(true, raw.as_slice())
        .read_to_end(&mut buf)
        .map_err(|e| input_err(path, e))?;
    Ok(buf)
}

pub(crate) struct Loaded {
    pub bytes: Vec<u8>,
    /// A gzip stream that broke off: what was decoded is kept, the break is reported.
    pub decode_error: Option<String>,
}

/// The file's bytes, gunzipped by [`is_gzip`]. A gzip stream that breaks off keeps what it
/// decoded before the break (the caller reports the break as a rejected row).
pub(crate) fn load_file(path: &Path) -> Result<Loaded> {
    let input_error = |e: std::io::Error| Error::input_file(path.to_path_buf(), e);
    let raw = std::fs::read(path).map_err(input_error)?;
    // Parquet is columnar and typed: none of the shapes these readers know.
    if raw.starts_with(b"PAR1") {
        return Err(Error::input_file(
            path.to_path_buf(),
            "expected JSON, JSON lines or CSV (optionally .gz), found a Parquet file",
        ));
    }
    if !is_gzip(path, &raw) || raw.is_empty() {
        return Ok(Loaded {
            bytes: raw,
            decode_error: None,
        });
    }
    let mut bytes = Vec::new();
    // read_to_end keeps what it decoded before an error: a truncated archive still yields rows.
    let decode_error = flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut bytes)
        .err()
        .map(|e| e.to_string());
    Ok(Loaded {
        bytes,
        decode_error,
    })
}

pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Json,
    Csv,
}

/// JSON when the content starts like JSON or the name says .json/.jsonl/.ndjson, CSV otherwise.
pub(crate) fn layout(display_name: &str, data: &[u8]) -> Layout {
    let first = data.iter().copied().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{') | Some(b'[')) {
        return Layout::Json;
    }
    let name = display_name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        Layout::Json
    } else {
        Layout::Csv
    }
}

pub(crate) fn line_count(data: &[u8]) -> i64 {
    data.iter().filter(|&&b| b == b'\n').count() as i64
}

/// The record's text for a rejected row, cut to `RAW_LIMIT` bytes.
pub(crate) fn raw_text(data: &[u8], start: usize, end: usize) -> String {
    let end = end.min(data.len()).min(start.saturating_add(RAW_LIMIT));
    let slice = data.get(start..end).unwrap_or(&[]);
    String::from_utf8_lossy(slice).trim().to_string()
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A record's bytes as the text of a rejected row: lossy UTF-8, cut to `RAW_LIMIT` bytes.
pub(crate) fn raw_string(bytes: &[u8]) -> String {
    cut(&String::from_utf8_lossy(bytes), RAW_LIMIT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(text: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_is_known_by_its_magic_number_whatever_the_name() {
        let bytes = gz(b"a,b\n1,2\n");
        assert!(is_gzip(Path::new("x.csv"), &bytes));
        assert!(is_gzip(Path::new("x.json"), &bytes));
        assert!(is_gzip(Path::new("x.CSV.GZ"), b"not gzip"));
        assert!(!is_gzip(Path::new("x.csv"), b"a,b\n"));
        assert!(!is_gzip(Path::new("x.csv"), &[0x1f]));
    }

    #[test]
    fn every_whole_file_reader_decodes_a_misnamed_gzip_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("renamed.csv");
        std::fs::write(&path, gz(b"a,b\n1,2\n")).unwrap();
        assert!(is_gzip_file(&path).unwrap());
        assert_eq!(read_bytes(&path).unwrap(), b"a,b\n1,2\n");
        let loaded = load_file(&path).unwrap();
        assert_eq!(loaded.bytes, b"a,b\n1,2\n");
        assert_eq!(loaded.decode_error, None);
        let plain = dir.path().join("plain.csv");
        std::fs::write(&plain, b"a\n").unwrap();
        assert!(!is_gzip_file(&plain).unwrap());
        assert_eq!(read_bytes(&plain).unwrap(), b"a\n");
    }

    #[test]
    fn raw_text_is_cut_on_a_character_boundary() {
        let long = "é".repeat(RAW_LIMIT);
        let raw = raw_string(long.as_bytes());
        assert_eq!(raw.len(), RAW_LIMIT);
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("abc", 5), "abc");
    }
}
