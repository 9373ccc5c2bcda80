//! `billrisk query`: SQL over every canonical input table and every output table (SPEC section 7).
//! A [`Catalog`] maps table names to LazyFrames, either computed by the pipeline or read from the
//! `tables/*.parquet` and `inputs/*.parquet` of an earlier run's `--out` folder; [`run_sql`] runs
//! one statement on it with Polars' SQL engine; the result is printed with [`format_table`] or
//! written with [`write_result`]. The ready queries for analysts live in `queries/`, one statement
//! per file, and every one of them runs in this module's tests.
//!
//! Polars SQL is a subset of SQL: CTEs, inner/left/full/cross joins, `IN (subquery)`, window
//! functions (`ROW_NUMBER() OVER (...)`), `CASE`, `DATE 'YYYY-MM-DD'`, `date ± INTERVAL '7 days'`,
//! `STRFTIME`, `DATE_PART` and `SHOW TABLES` work. Scalar subqueries in comparisons
//! (`= (SELECT MAX(..))`) do not (use `IN (SELECT ..)`); a window's `ORDER BY` cannot mix ASC and
//! DESC; two dates subtract to a duration, not a number (subtract `CAST(d AS INTEGER)`, the days
//! since 1970, for a day count). A test pins each of these, so a Polars upgrade that lifts one
//! shows up.

mod output;
mod sql_text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::error::{Error, Result};

pub use output::{encode, format_table, format_table_rows, write_result, Format, DISPLAY_ROWS};
pub use sql_text::{placeholders, substitute_params};

/// Folder of an earlier run's `--out` holding one Parquet file per output table.
pub const TABLES_DIR: &str = "tables";
/// Folder of an earlier run's `--out` holding one Parquet file per canonical input table.
pub const INPUTS_DIR: &str = "inputs";

/// The as-of date of an earlier run's output folder, from its manifest.json; None when it has
/// no manifest (a folder of Parquet files put together by hand). A manifest that is not JSON or
/// whose as_of is not a date is an error naming it.
pub fn run_as_of(out: &Path) -> Result<Option<chrono::NaiveDate>> {
    let path = out.join("manifest.json");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::input_file(path, e)),
    };
    let bad = |found: String| {
        Error::input_file(
            path.clone(),
            format!("expected a run manifest with as_of YYYY-MM-DD, found {found}"),
        )
    };
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| bad(format!("an error: {e}")))?;
    match v.get("as_of").and_then(|a| a.as_str()) {
        None => Ok(None),
        Some(a) => chrono::NaiveDate::parse_from_str(a, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad(format!("{a:?}"))),
    }
}

/// Every table a query can name, by name.
#[derive(Clone, Default)]
pub struct Catalog {
    tables: BTreeMap<String, LazyFrame>,
}

impl Catalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a table under `name`.
    pub fn register(&mut self, name: &str, frame: LazyFrame) {
        self.tables.insert(name.to_string(), frame);
    }

    /// Every `tables/*.parquet` and `inputs/*.parquet` of an earlier run's output folder, each
    /// under its file stem. The Parquet footers are read here, so a damaged file is reported by
    /// name before any query runs.
    pub fn from_out_dir(out: &Path) -> Result<Catalog> {
        if !out.is_dir() {
            return Err(Error::input_file(out.to_path_buf(), "not a folder; --out expects the output folder of an earlier `billrisk run --out DIR`"));
        }
        let mut catalog = Catalog::new();
        let mut origin_of: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut output_tables = 0usize;
        for sub in [TABLES_DIR, INPUTS_DIR] {
            for path in parquet_files(&out.join(sub))? {
                let Some(name) = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .map(str::to_string)
                else {
                    return Err(Error::input_file(
                        path,
                        "the file name is not valid UTF-8, so it cannot name a table",
                    ));
                };
                if let Some(first) = origin_of.get(&name) {
                    return Err(Error::input_file(
                        path.clone(),
                        format!(
                            "table {name} is defined twice, here and in {}; remove one of them",
                            first.display()
                        ),
                    ));
                }
                catalog.register(&name, scan_table(&path)?);
                origin_of.insert(name, path);
                if sub == TABLES_DIR {
                    output_tables += 1;
                }
            }
        }
        if output_tables == 0 {
            return Err(Error::input_file(out.to_path_buf(), format!(
                    "expected the output folder of an earlier `billrisk run --out DIR`, with \
                     {TABLES_DIR}/*.parquet (one file per table, e.g. {TABLES_DIR}/aging_customers.parquet) \
                     and {INPUTS_DIR}/*.parquet; found {}",
                    describe_entries(out)
                )));
        }
        Ok(catalog)
    }

    /// Table names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    /// The frame registered under `name`.
    pub fn get(&self, name: &str) -> Option<&LazyFrame> {
        self.tables.get(name)
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("tables", &self.names())
            .finish()
    }
}

/// The `.parquet` files directly in `dir`, sorted by name; none when the folder does not exist.
fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let unreadable = |e: std::io::Error| Error::input_file(dir.to_path_buf(), e);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        let is_parquet = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if is_parquet && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn scan_table(path: &Path) -> Result<LazyFrame> {
    let unreadable = |e: PolarsError| {
        Error::input_file_because(path.to_path_buf(), "not a readable Parquet table", e)
    };
    let source = PlRefPath::try_from_path(path).map_err(unreadable)?;
    // No globbing: a file name with `[` or `*` is a name, not a pattern.
    let args = ScanArgsParquet {
        glob: false,
        ..Default::default()
    };
    let mut frame = LazyFrame::scan_parquet(source, args).map_err(unreadable)?;
    frame.collect_schema().map_err(unreadable)?;
    Ok(frame)
}

/// "a, b, c" for the first entries of a folder, or "an empty folder".
fn describe_entries(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    match names.len() {
        0 => "an empty folder".into(),
        n if n > 10 => format!("{}, ... ({n} entries)", names[..10].join(", ")),
        _ => names.join(", "),
    }
}

/// Runs one SQL statement over the catalog. `origin` names where the SQL came from (the query
/// file's path, or "command line") in every error.
pub fn run_sql(catalog: &Catalog, sql: &str, origin: &str) -> Result<DataFrame> {
    let query_error = |message: String| Error::query(origin, message);
    match sql_text::count_statements(sql) {
        0 => return Err(query_error("no SQL statement found (only blanks or comments)".into())),
        1 => {}
        n => {
            return Err(query_error(format!(
                "found {n} statements separated by `;`; billrisk query runs exactly one (put each in its own file)"
            )))
        }
    }
    let mut context = SQLContext::new();
    for (name, frame) in &catalog.tables {
        context.register(name, frame.clone());
    }
    let explain = |e: PolarsError| query_error(explain_polars_error(catalog, e));
    context
        .execute(sql)
        .map_err(explain)?
        .collect()
        .map_err(explain)
}

/// Polars' own message (it quotes the offending part of the SQL), without the query plan it
/// appends for developers, and with the table names when the SQL names a table that does not
/// exist.
fn explain_polars_error(catalog: &Catalog, error: PolarsError) -> String {
    let mut message = error.to_string();
    if let Some(plan) = message.find("\n\nResolved plan until failure") {
        message.truncate(plan);
    }
    let message = message.trim().to_string();
    if message.contains("relation '") && message.contains("not found") {
        format!("{message}; the tables are: {}", catalog.names().join(", "))
    } else {
        message
    }
}

#[cfg(test)]
mod tests;
