//! JSON as it is downloaded, scanned once with the line each record starts on: JSON lines (or
//! objects one after another), a top-level array, or an object wrapping the records
//! (`{"records"|"value"|"items": [...]}`, pretty-printed or not). Broken JSON becomes a rejected
//! stretch and reading resumes at the next line that opens an object; a truncated record is
//! rejected at the line it starts on. The activity and fraud readers take the records one by one
//! ([`for_each_json_record`]); tabular sources (the Partner Center API, scripts) take them as a
//! frame of text columns ([`read`]), each object's top-level fields as columns (nested values kept
//! as JSON text), for the common typed path.

use std::path::Path;

use polars::prelude::*;
use serde_json::{Map, Value};

use super::bytes::{raw_text, read_bytes, strip_bom};
use super::{hash_file, FileInfo, Rejected};
use crate::error::{Error, Result};
use crate::schema;

/// Keys of the objects that wrap a list of records: diagnostic exports ({"records": [...]}),
/// REST pages ({"value": [...], "nextLink": ...}) and Partner Center pages ({"items": [...]}).
const WRAPPER_KEYS: [&str; 3] = ["records", "value", "items"];

/// One JSON record of a file: an object with the byte span and the line its `{` is on, or a
/// stretch of text that could not be read as one.
#[derive(Debug)]
pub enum JsonRecord {
    Object {
        line: i64,
        start: usize,
        end: usize,
        object: Map<String, Value>,
    },
    Bad {
        line: i64,
        start: usize,
        end: usize,
        reason: String,
    },
}

/// Every record of a JSON file: JSON lines (or objects one after another), a top-level array, or
/// a wrapper object holding an array under records/value/items (pretty-printed or not). Broken
/// JSON becomes `Bad` stretches and reading resumes at the next line that starts an object;
/// a truncated tail is one `Bad` at the line it starts on.
/// Records are handed over one by one, so a large file never holds all its parsed objects.
pub fn for_each_json_record(data: &[u8], mut sink: impl FnMut(JsonRecord)) {
    Scanner {
        data,
        line_pos: 0,
        line: 1,
        sink: &mut sink,
    }
    .run()
}

pub(crate) const TRUNCATED: &str =
    "expected a complete JSON object, found the end of the file (truncated)";

struct Scanner<'a, 's> {
    data: &'a [u8],
    /// Line number (1-based) of byte `line_pos`: offsets are asked in increasing order, so
    /// counting newlines from the last answer keeps the scan linear.
    line_pos: usize,
    line: i64,
    sink: &'s mut dyn FnMut(JsonRecord),
}

/// A JSON value that did not parse: at the end of the data (truncated) or on a syntax error.
struct Fail {
    eof: bool,
    message: String,
}

enum ObjectOutcome {
    Record(Map<String, Value>, usize),
    /// A wrapper whose records were pushed; reading resumes at the offset.
    Wrapper(usize),
    Failed(Fail),
}

impl Scanner<'_, '_> {
    fn run(mut self) {
        let len = self.data.len();
        let mut p = 0;
        loop {
            p = self.skip_ws(p);
            let Some(b) = self.byte(p) else { break };
            p = match b {
                b'[' => self.array(p).unwrap_or(len),
                b'{' => self.top_object(p),
                _ => {
                    let q = self.resync(p, true);
                    let reason = format!("expected a JSON object, found {:?}", self.snippet(p));
                    self.bad(p, q, reason);
                    q
                }
            };
        }
    }

    fn top_object(&mut self, open: usize) -> usize {
        let len = self.data.len();
        match self.object(open) {
            ObjectOutcome::Record(object, end) => {
                self.push(open, end, Value::Object(object));
                end
            }
            ObjectOutcome::Wrapper(end) => end,
            ObjectOutcome::Failed(Fail { eof: true, .. }) => {
                self.bad(open, len, TRUNCATED.into());
                len
            }
            ObjectOutcome::Failed(Fail { message, .. }) => {
                let q = self.resync(open, true);
                self.bad(
                    open,
                    q,
                    format!("expected a JSON object, found invalid JSON ({message})"),
                );
                q
            }
        }
    }

    /// An object read member by member, so that a wrapper's array is scanned record by record
    /// (with lines, and keeping the records before a truncation) instead of parsed whole.
    fn object(&mut self, open: usize) -> ObjectOutcome {
        let len = self.data.len();
        let mut map = Map::new();
        let mut wrapper = false;
        let mut p = open + 1;
        loop {
            p = self.skip_ws(p);
            let fail = |eof: bool, message: String| Fail { eof, message };
            let failure = match self.byte(p) {
                None => fail(true, "end of file".into()),
                Some(b'}') => {
                    return if wrapper {
                        ObjectOutcome::Wrapper(p + 1)
                    } else {
                        ObjectOutcome::Record(map, p + 1)
                    };
                }
                Some(b',') => {
                    p += 1;
                    continue;
                }
                Some(b'"') => match self.parse_at(p) {
                    Ok((Value::String(key), end)) => {
                        p = self.skip_ws(end);
                        match self.byte(p) {
                            Some(b':') => {
                                p = self.skip_ws(p + 1);
                                if self.is_wrapped_array(&key, p) {
                                    wrapper = true;
                                    match self.array(p) {
                                        Some(end) => p = end,
                                        // The array reported its own truncation.
                                        None => return ObjectOutcome::Wrapper(len),
                                    }
                                    continue;
                                }
                                match self.parse_at(p) {
                                    Ok((value, end)) => {
                                        if !wrapper {
                                            map.insert(key, value);
                                        }
                                        p = end;
                                        continue;
                                    }
                                    Err(f) => f,
                                }
                            }
                            None => fail(true, "end of file".into()),
                            Some(_) => fail(false, format!("expected `:` after key {key:?}")),
                        }
                    }
                    Ok(_) => fail(false, "expected a key".into()),
                    Err(f) => f,
                },
                Some(_) => fail(
                    false,
                    format!("expected a key, found {:?}", self.snippet(p)),
                ),
            };
            if !wrapper {
                return ObjectOutcome::Failed(failure);
            }
            // The wrapper's records are in; what breaks after them is one rejected stretch.
            let reason = if failure.eof {
                "expected `}` closing the file's object, found the end of the file (truncated)"
                    .to_string()
            } else {
                format!(
                    "expected `}}` closing the file's object, found invalid JSON ({})",
                    failure.message
                )
            };
            self.bad(p, len, reason);
            return ObjectOutcome::Wrapper(len);
        }
    }

    /// A wrapper key whose value is an array of objects (or empty).
    fn is_wrapped_array(&self, key: &str, p: usize) -> bool {
        WRAPPER_KEYS.iter().any(|w| key.eq_ignore_ascii_case(w))
            && self.byte(p) == Some(b'[')
            && matches!(
                self.byte(self.skip_ws(p + 1)),
                Some(b'{') | Some(b']') | None
            )
    }

    /// The records of an array starting at `open` (`[`). Returns the offset after `]`, or None
    /// when the data ended first (already reported).
    fn array(&mut self, open: usize) -> Option<usize> {
        let len = self.data.len();
        let mut p = open + 1;
        loop {
            p = self.skip_ws(p);
            match self.byte(p) {
                None => {
                    self.bad(
                        p,
                        p,
                        "expected `]` closing the array of records, found the end of the file (truncated)".into(),
                    );
                    return None;
                }
                Some(b']') => return Some(p + 1),
                Some(b',') => p += 1,
                Some(_) => match self.parse_at(p) {
                    Ok((value, end)) => {
                        self.push(p, end, value);
                        p = end;
                    }
                    Err(Fail { eof: true, .. }) => {
                        self.bad(p, len, TRUNCATED.into());
                        return None;
                    }
                    Err(Fail { message, .. }) => {
                        let q = self.resync(p, false);
                        self.bad(
                            p,
                            q,
                            format!("expected a JSON object, found invalid JSON ({message})"),
                        );
                        if q >= len {
                            return None;
                        }
                        p = q;
                    }
                },
            }
        }
    }

    /// One JSON value at `p` and the offset just after it.
    fn parse_at(&self, p: usize) -> Result<(Value, usize), Fail> {
        let slice = self.data.get(p..).unwrap_or(&[]);
        let mut values = serde_json::Deserializer::from_slice(slice).into_iter::<Value>();
        match values.next() {
            Some(Ok(value)) => Ok((value, p + values.byte_offset())),
            Some(Err(e)) => {
                let message = e.to_string();
                // Positions in serde's message are relative to `p`, hence wrong: drop them.
                let message = match message.rfind(" at line ") {
                    Some(i) => message[..i].to_string(),
                    None => message,
                };
                Err(Fail {
                    eof: e.is_eof(),
                    message,
                })
            }
            None => Err(Fail {
                eof: true,
                message: "end of file".into(),
            }),
        }
    }

    fn push(&mut self, start: usize, end: usize, value: Value) {
        let line = self.line_at(start);
        match value {
            Value::Object(object) => (self.sink)(JsonRecord::Object {
                line,
                start,
                end,
                object,
            }),
            other => {
                let kind = match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                };
                (self.sink)(JsonRecord::Bad {
                    line,
                    start,
                    end,
                    reason: format!("expected a JSON object, found {kind}"),
                });
            }
        }
    }

    fn bad(&mut self, start: usize, end: usize, reason: String) {
        let line = self.line_at(start);
        (self.sink)(JsonRecord::Bad {
            line,
            start,
            end,
            reason,
        });
    }

    fn line_at(&mut self, offset: usize) -> i64 {
        let offset = offset.min(self.data.len());
        if offset < self.line_pos {
            self.line_pos = 0;
            self.line = 1;
        }
        let newlines = self
            .data
            .get(self.line_pos..offset)
            .map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
        self.line += newlines as i64;
        self.line_pos = offset;
        self.line
    }

    /// Where reading resumes after broken JSON at `p`: the first later line whose first
    /// non-blank character opens an object (or, at top level, an array).
    fn resync(&self, p: usize, top_level: bool) -> usize {
        let len = self.data.len();
        let mut i = p;
        loop {
            let Some(nl) = self
                .data
                .get(i..)
                .and_then(|s| s.iter().position(|&b| b == b'\n'))
            else {
                return len;
            };
            let line_start = i + nl + 1;
            let q = self.skip_blanks(line_start);
            match self.byte(q) {
                Some(b'{') => return q,
                Some(b'[') if top_level => return q,
                None => return len,
                _ => i = line_start,
            }
        }
    }

    fn snippet(&self, p: usize) -> String {
        let rest = self.data.get(p..).unwrap_or(&[]);
        let line_end = rest
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(rest.len())
            .min(40);
        String::from_utf8_lossy(rest.get(..line_end).unwrap_or(&[]))
            .trim()
            .to_string()
    }

    fn byte(&self, p: usize) -> Option<u8> {
        self.data.get(p).copied()
    }

    fn skip_ws(&self, mut p: usize) -> usize {
        while matches!(self.byte(p), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            p += 1;
        }
        p
    }

    fn skip_blanks(&self, mut p: usize) -> usize {
        while matches!(self.byte(p), Some(b' ' | b'\t' | b'\r')) {
            p += 1;
        }
        p
    }
}

/// A tabular source's JSON file as text columns under the names in the file.
pub struct JsonRows {
    pub header: Vec<String>,
    pub frame: DataFrame,
    pub info: FileInfo,
    pub rejected: Vec<Rejected>,
}

/// The objects of a file as text columns, in the order their fields first appear.
#[derive(Default)]
struct TextColumns {
    header: Vec<String>,
    columns: Vec<Vec<Option<String>>>,
    lines: Vec<i64>,
}

impl TextColumns {
    fn push(&mut self, line: i64, object: &Map<String, Value>) {
        let row = self.lines.len();
        for (k, v) in object.iter() {
            let idx = match self.header.iter().position(|h| h == k) {
                Some(i) => i,
                None => {
                    self.header.push(k.clone());
                    self.columns.push(vec![None; row]);
                    self.header.len() - 1
                }
            };
            self.columns[idx].push(text_of(v));
        }
        self.lines.push(line);
        for c in self.columns.iter_mut() {
            if c.len() < self.lines.len() {
                c.push(None);
            }
        }
    }
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

/// Reads one JSON file of a tabular source (`table`): every object a row of text columns plus
/// `source_line`, every record that is not an object a rejected row.
pub fn read(path: &Path, display: &str, table: &'static str) -> Result<JsonRows> {
    let (size, sha256) = hash_file(path)?;
    let bytes = read_bytes(path)?;
    let data = strip_bom(&bytes);
    let mut rows = TextColumns::default();
    let mut rejected = Vec::new();
    let mut total = 0u64;
    for_each_json_record(data, |record| {
        total += 1;
        match record {
            JsonRecord::Object { line, object, .. } => rows.push(line, &object),
            JsonRecord::Bad {
                line,
                start,
                end,
                reason,
            } => rejected.push(Rejected {
                source: table.to_string(),
                file: display.to_string(),
                line,
                column: String::new(),
                reason,
                raw: raw_text(data, start, end),
            }),
        }
    });
    let mut cols: Vec<Column> = rows
        .header
        .iter()
        .zip(rows.columns)
        .map(|(h, v)| Column::new(h.as_str().into(), v))
        .collect();
    cols.push(Column::new(schema::SOURCE_LINE.into(), rows.lines));
    let frame =
        DataFrame::new_infer_height(cols).map_err(|e| Error::input_file(path.to_path_buf(), e))?;
    Ok(JsonRows {
        header: rows.header,
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

    /// (line, text of the record) of every object, and (line, reason) of every bad stretch.
    fn scan(data: &[u8]) -> (Vec<(i64, String)>, Vec<(i64, String)>) {
        let (mut objects, mut bad) = (Vec::new(), Vec::new());
        for_each_json_record(data, |r| match r {
            JsonRecord::Object {
                line, start, end, ..
            } => objects.push((line, raw_text(data, start, end))),
            JsonRecord::Bad { line, reason, .. } => bad.push((line, reason)),
        });
        (objects, bad)
    }

    #[test]
    fn array_elements_and_their_lines() {
        let text = b"{\"value\": [\n  {\"a\": \"x,]\"},\n  {\"a\": 2}\n]}";
        let (recs, bad) = scan(text);
        assert!(bad.is_empty());
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0], (2, "{\"a\": \"x,]\"}".to_string()));
        assert_eq!(recs[1].0, 3);
    }

    #[test]
    fn json_lines_and_truncated_arrays() {
        let (recs, _) = scan(b"{\"a\":1}\n\n{\"a\":2}\n");
        assert_eq!(recs.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 3]);
        let (recs, bad) = scan(b"[{\"a\":1},\n{\"a\":");
        assert_eq!(recs.len(), 1);
        assert_eq!(bad, [(2, TRUNCATED.to_string())]);
    }

    #[test]
    fn a_tabular_json_file_is_text_columns_with_lines_and_rejects() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.jsonl");
        std::fs::write(
            &path,
            "\u{feff}{\"a\": 1, \"b\": {\"c\": true}}\nnot json\n{\"a\": \"x\"}\n",
        )
        .unwrap();
        let rows = read(&path, "usage/u.jsonl", "usage").unwrap();
        assert_eq!(rows.header, ["a", "b"]);
        assert_eq!(rows.info.rows_read, 3);
        let a: Vec<Option<&str>> = rows
            .frame
            .column("a")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(a, [Some("1"), Some("x")]);
        let b: Vec<Option<&str>> = rows
            .frame
            .column("b")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(b, [Some("{\"c\":true}"), None]);
        let lines: Vec<Option<i64>> = rows
            .frame
            .column(schema::SOURCE_LINE)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(lines, [Some(1), Some(3)]);
        assert_eq!(rows.rejected.len(), 1);
        assert_eq!(rows.rejected[0].line, 2);
        assert_eq!(rows.rejected[0].raw, "not json");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Every record the scanner hands over: (line, start offset).
    fn starts(data: &[u8]) -> Vec<(i64, usize)> {
        let mut out = Vec::new();
        for_each_json_record(data, |r| match r {
            JsonRecord::Object { line, start, .. } | JsonRecord::Bad { line, start, .. } => {
                out.push((line, start))
            }
        });
        out
    }

    proptest! {
        #[test]
        fn record_splitter_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            for (line, start) in starts(&bytes) {
                prop_assert!(line >= 1);
                prop_assert!(start <= bytes.len());
            }
        }

        #[test]
        fn record_lines_count_the_newlines_before_them(
            bytes in proptest::collection::vec(prop_oneof![Just(b'['), Just(b']'), Just(b'{'), Just(b'}'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'a')], 0..300)
        ) {
            // The one-pass count must equal a count from the start of the file for each record.
            for (line, start) in starts(&bytes) {
                let before = bytes[..start].iter().filter(|b| **b == b'\n').count() as i64;
                prop_assert_eq!(line, before + 1);
            }
        }

        #[test]
        fn every_array_element_is_found(n in 0usize..20, pretty in any::<bool>()) {
            let elems: Vec<String> = (0..n).map(|i| format!("{{\"a\": \"x]{i},\", \"b\": [{i}]}}")).collect();
            let sep = if pretty { ",\n  " } else { "," };
            let text = format!("{{\"value\": [{}]}}", elems.join(sep));
            let mut recs = Vec::new();
            for_each_json_record(text.as_bytes(), |r| {
                if let JsonRecord::Object { line, start, end, .. } = r {
                    recs.push((line, text[start..end].to_string()));
                }
            });
            prop_assert_eq!(recs.len(), n);
            for (i, (line, r)) in recs.iter().enumerate() {
                prop_assert_eq!(r.as_str(), elems[i].as_str());
                prop_assert_eq!(*line, if pretty { i as i64 + 1 } else { 1 });
            }
        }
    }
}
