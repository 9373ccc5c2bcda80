//! Tabular sources downloaded as JSON (the Partner Center API, scripts): a JSON array of objects,
//! an object wrapping one (`{"value":[...]}`, `{"items":[...]}`, `{"records":[...]}`), or JSON
//! lines. Each object is a row; its top-level fields are columns (nested values kept as JSON
//! text), all as text for the common typed path. A row's line is the line its object opens on.

use std::io::Read;
use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use super::{csv_file, FileInfo, Rejected};
use crate::error::{Error, Result};
use crate::schema;

pub struct JsonRows {
    pub header: Vec<String>,
    pub frame: DataFrame,
    pub info: FileInfo,
    pub rejected: Vec<Rejected>,
}

/// The bytes of a file, decoded when gzipped.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let err = |e: std::io::Error| Error::InputFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(err)?;
    let mut buf = Vec::new();
    if csv_file::is_gzip(path) {
        flate2::read::MultiGzDecoder::new(f)
            .read_to_end(&mut buf)
            .map_err(err)?;
    } else {
        std::io::BufReader::new(f)
            .read_to_end(&mut buf)
            .map_err(err)?;
    }
    Ok(buf)
}

/// Byte ranges of the elements of the first top-level array (or of an array that is the value of
/// a top-level object's field), found with a string-aware bracket scanner. Returns None when the
/// text is not such a document (then it is read as JSON lines).
pub fn array_elements(bytes: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    let mut array_depth = None;
    let mut start = None;
    let mut out = Vec::new();
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)?;
    if bytes[first] != b'[' && bytes[first] != b'{' {
        return None;
    }
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                if start.is_none() && array_depth == Some(depth) {
                    start = Some(i);
                }
            }
            b'[' | b'{' => {
                if array_depth.is_none() && b == b'[' && depth <= 1 {
                    array_depth = Some(depth + 1);
                } else if array_depth == Some(depth) && start.is_none() {
                    start = Some(i);
                }
                depth += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if array_depth == Some(depth + 1) && b == b']' {
                    if let Some(s) = start.take() {
                        out.push((s, i));
                    }
                    return Some(out);
                }
                if array_depth == Some(depth) {
                    if let Some(s) = start.take() {
                        out.push((s, i + 1));
                    }
                }
            }
            b',' if array_depth == Some(depth) => {
                if let Some(s) = start.take() {
                    out.push((s, i));
                }
            }
            _ if !b.is_ascii_whitespace() && array_depth == Some(depth) && start.is_none() => {
                start = Some(i);
            }
            _ => {}
        }
    }
    // Unterminated: whatever element was open is the truncated tail.
    if let Some(s) = start {
        out.push((s, bytes.len()));
    }
    array_depth.map(|_| out)
}

/// Splits a file into (line, text of one record) pairs: array elements or non-blank lines.
pub fn records(bytes: &[u8]) -> Vec<(i64, &[u8])> {
    if let Some(elems) = array_elements(bytes) {
        // Elements come in file order, so each one's line is the previous one's plus the newlines
        // between them: one pass over the file (counting from the start for every element made a
        // 200k-element array quadratic; benches/ingest.rs measures it).
        let (mut line, mut counted) = (1i64, 0usize);
        return elems
            .into_iter()
            .map(|(s, e)| {
                let upto = s.min(bytes.len()).max(counted);
                line += memchr::memchr_iter(b'\n', &bytes[counted..upto]).count() as i64;
                counted = upto;
                (line, &bytes[s..e])
            })
            .collect();
    }
    let mut out = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let t = line.trim_ascii();
        if !t.is_empty() {
            out.push((i as i64 + 1, t));
        }
    }
    out
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

pub fn raw_of(rec: &[u8]) -> String {
    let s = String::from_utf8_lossy(rec);
    let mut s = s.into_owned();
    if s.len() > csv_file::MAX_RAW {
        let mut cut = csv_file::MAX_RAW;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

pub fn read(path: &Path, display: &str, table: &'static str) -> Result<JsonRows> {
    let (size, sha256) = super::hash_file(path)?;
    let bytes = read_bytes(path)?;
    let mut header: Vec<String> = Vec::new();
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    let mut lines: Vec<i64> = Vec::new();
    let mut rejected = Vec::new();
    let recs = records(&bytes);
    let total = recs.len() as u64;
    for (line, rec) in recs {
        match serde_json::from_slice::<Value>(rec) {
            Ok(Value::Object(map)) => {
                let row = lines.len();
                for (k, v) in map.iter() {
                    let idx = match header.iter().position(|h| h == k) {
                        Some(i) => i,
                        None => {
                            header.push(k.clone());
                            columns.push(vec![None; row]);
                            header.len() - 1
                        }
                    };
                    columns[idx].push(text_of(v));
                }
                lines.push(line);
                for c in columns.iter_mut() {
                    if c.len() < lines.len() {
                        c.push(None);
                    }
                }
            }
            Ok(_) => rejected.push(Rejected {
                source: table.to_string(),
                file: display.to_string(),
                line,
                column: String::new(),
                reason: "expected a JSON object, found another JSON value".into(),
                raw: raw_of(rec),
            }),
            Err(e) => rejected.push(Rejected {
                source: table.to_string(),
                file: display.to_string(),
                line,
                column: String::new(),
                reason: format!("expected a JSON object, found invalid JSON ({e})"),
                raw: raw_of(rec),
            }),
        }
    }
    let mut cols: Vec<Column> = header
        .iter()
        .zip(columns)
        .map(|(h, v)| Column::new(h.as_str().into(), v))
        .collect();
    cols.push(Column::new(schema::SOURCE_LINE.into(), lines));
    let frame = DataFrame::new_infer_height(cols).map_err(|e| Error::InputFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(JsonRows {
        header,
        frame,
        info: FileInfo {
            table,
            path: path.to_path_buf(),
            display: display.to_string(),
            size,
            sha256,
            rows_read: total,
            carried: false,
        },
        rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_elements_and_their_lines() {
        let text = b"{\"value\": [\n  {\"a\": \"x,]\"},\n  {\"a\": 2}\n]}";
        let recs = records(text);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].0, 2);
        assert_eq!(recs[0].1, b"{\"a\": \"x,]\"}");
        assert_eq!(recs[1].0, 3);
    }

    #[test]
    fn json_lines_and_truncated_arrays() {
        let recs = records(b"{\"a\":1}\n\n{\"a\":2}\n");
        assert_eq!(recs.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 3]);
        let recs = records(b"[{\"a\":1},\n{\"a\":");
        assert_eq!(recs.len(), 2);
        assert!(serde_json::from_slice::<Value>(recs[1].1).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn record_splitter_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let recs = records(&bytes);
            for (line, r) in recs {
                prop_assert!(line >= 1);
                prop_assert!(r.len() <= bytes.len());
            }
        }

        #[test]
        fn record_lines_count_the_newlines_before_them(
            bytes in proptest::collection::vec(prop_oneof![Just(b'['), Just(b']'), Just(b'{'), Just(b'}'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'a')], 0..300)
        ) {
            // The one-pass count must equal a count from the start of the file for each record.
            for (line, r) in records(&bytes) {
                let start = r.as_ptr() as usize - bytes.as_ptr() as usize;
                let before = bytes[..start].iter().filter(|b| **b == b'\n').count() as i64;
                prop_assert_eq!(line, before + 1);
            }
        }

        #[test]
        fn every_array_element_is_found(n in 0usize..20, pretty in any::<bool>()) {
            let elems: Vec<String> = (0..n).map(|i| format!("{{\"a\": \"x]{i},\", \"b\": [{i}]}}")).collect();
            let sep = if pretty { ",\n  " } else { "," };
            let text = format!("{{\"value\": [{}]}}", elems.join(sep));
            let recs = records(text.as_bytes());
            prop_assert_eq!(recs.len(), n);
            for (i, (line, r)) in recs.iter().enumerate() {
                prop_assert_eq!(std::str::from_utf8(r).unwrap(), elems[i].as_str());
                prop_assert_eq!(*line, if pretty { i as i64 + 1 } else { 1 });
            }
        }
    }
}
