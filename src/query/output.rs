//! What `billrisk query` does with a result: a plain-text table for a terminal, or a file whose
//! format follows its extension (.csv, .parquet, .json). Files are written beside their target
//! and renamed into place, so a failed write never leaves half a file.
//!
//! CSV cells that start with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading `'`, so
//! a spreadsheet shows input text instead of running it as a formula (SPEC section 6); Parquet
//! and JSON keep every value exactly as it is. JSON is an array of objects, one per row, keys in
//! column order, ledger money as exact decimal numbers, dates as "YYYY-MM-DD" and timestamps as
//! RFC 3339 UTC.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDate};
use polars::prelude::*;

use crate::error::{Error, Result};

/// Rows printed by [`format_table`] before "... N more rows".
pub const DISPLAY_ROWS: usize = 50;
/// Longer cells are cut, so one long text cannot push every other column off the screen.
const MAX_CELL_CHARS: usize = 60;

/// The result as a table for a terminal: every column, the first [`DISPLAY_ROWS`] rows.
pub fn format_table(df: &DataFrame) -> String {
    format_table_rows(df, DISPLAY_ROWS)
}

/// The result as a table for a terminal: every column, the first `limit` rows, then a line
/// saying how many more there are.
pub fn format_table_rows(df: &DataFrame, limit: usize) -> String {
    if df.width() == 0 {
        return "(no columns)\n".into();
    }
    let shown = df.height().min(limit);
    let columns: Vec<(String, bool, Vec<String>)> = df
        .columns()
        .iter()
        .map(|column| {
            let dtype = column.dtype();
            let right = dtype.is_primitive_numeric() || dtype.is_decimal();
            let cells = (0..shown)
                .map(|i| {
                    column
                        .get(i)
                        .map_or_else(|e| e.to_string(), |v| cell_text(&v))
                })
                .map(|text| for_terminal(&text))
                .collect();
            (for_terminal(column.name()), right, cells)
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .map(|(name, _, cells)| {
            cells
                .iter()
                .chain(std::iter::once(name))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut out = String::new();
    let line = |cells: Vec<(&str, bool)>, out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|((text, right), width)| {
                let pad = width - text.chars().count();
                if *right {
                    format!("{}{text}", " ".repeat(pad))
                } else {
                    format!("{text}{}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(parts.join(" | ").trim_end());
        out.push('\n');
    };
    line(
        columns
            .iter()
            .map(|(n, _, _)| (n.as_str(), false))
            .collect(),
        &mut out,
    );
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&rule.join("-+-"));
    out.push('\n');
    for i in 0..shown {
        line(
            columns
                .iter()
                .map(|(_, right, cells)| (cells[i].as_str(), *right))
                .collect(),
            &mut out,
        );
    }
    let total = df.height();
    if total > shown {
        let _ = writeln!(out, "... {} more rows ({total} rows in all)", total - shown);
    } else {
        let _ = writeln!(out, "({total} row{})", if total == 1 { "" } else { "s" });
    }
    out
}

/// One line, no control characters (a value from an input file could carry terminal escape
/// sequences), at most [`MAX_CELL_CHARS`] characters.
fn for_terminal(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            clean.extend(c.escape_default());
        } else {
            clean.push(c);
        }
    }
    if clean.chars().count() > MAX_CELL_CHARS {
        let mut cut: String = clean.chars().take(MAX_CELL_CHARS - 1).collect();
        cut.push('…');
        cut
    } else {
        clean
    }
}

/// A value as text: exact decimals, ISO dates, RFC 3339 UTC timestamps, "null" for null.
fn cell_text(value: &AnyValue) -> String {
    match value {
        AnyValue::Null => "null".into(),
        AnyValue::String(s) => (*s).to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        // Shortest text that reads back as the same number: nothing hidden, nothing invented.
        AnyValue::Float64(f) => f.to_string(),
        AnyValue::Float32(f) => f.to_string(),
        AnyValue::Decimal(v, _, scale) => decimal_text(*v, *scale),
        AnyValue::Date(days) => date_text(*days),
        AnyValue::Datetime(v, unit, tz) => datetime_text(*v, *unit, tz.is_some()),
        AnyValue::DatetimeOwned(v, unit, tz) => datetime_text(*v, *unit, tz.is_some()),
        other => other.to_string(),
    }
}

fn decimal_text(value: i128, scale: usize) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let digits = value.unsigned_abs().to_string();
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn date_text(days: i32) -> String {
    NaiveDate::from_num_days_from_ce_opt(days + 719_163).map_or_else(
        || format!("{days} days after 1970-01-01"),
        |d| d.to_string(),
    )
}

/// Timestamps are instants stored in UTC; with a time zone they print as UTC (`Z`), without one
/// as the naive wall-clock time they are.
fn datetime_text(value: i64, unit: TimeUnit, zoned: bool) -> String {
    let moment = match unit {
        TimeUnit::Nanoseconds => Some(DateTime::from_timestamp_nanos(value)),
        TimeUnit::Microseconds => DateTime::from_timestamp_micros(value),
        TimeUnit::Milliseconds => DateTime::from_timestamp_millis(value),
    };
    match moment {
        Some(m) if zoned => m.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
        Some(m) => m.naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string(),
        None => value.to_string(),
    }
}

/// A value as a JSON literal.
fn json_value(value: &AnyValue) -> String {
    let quoted = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    match value {
        AnyValue::Null => "null".into(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Float32(f) if f.is_finite() => f.to_string(),
        AnyValue::Float64(f) if f.is_finite() => {
            serde_json::Number::from_f64(*f).map_or_else(|| "null".into(), |n| n.to_string())
        }
        AnyValue::Float32(_) | AnyValue::Float64(_) => "null".into(),
        // Exact decimal text is a valid JSON number: no detour through binary floating point.
        AnyValue::Decimal(v, _, scale) => decimal_text(*v, *scale),
        v if v.dtype().is_integer() => v.to_string(),
        other => quoted(&cell_text(other)),
    }
}

/// How a query result is written: a table for people, or CSV, JSON or Parquet for other tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Parquet,
}

impl Format {
    /// The format a file name's extension names (.csv, .json, .parquet).
    pub fn of_file(path: &Path) -> Result<Format> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("json") => Ok(Format::Json),
            Some("parquet") => Ok(Format::Parquet),
            _ => Err(Error::output(
                path.to_path_buf(),
                "unknown format: expected a file name ending in .csv, .parquet or .json \
                         (or --format csv|json|parquet)",
            )),
        }
    }
}

/// The result encoded in `format`: CSV with formula-like cells neutralised, JSON as an array of
/// objects in column order, Parquet, or the table `format_table` prints.
pub fn encode(df: &mut DataFrame, format: Format) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    match format {
        Format::Table => bytes = format_table(df).into_bytes(),
        Format::Csv => {
            let mut safe = spreadsheet_safe(df).map_err(|e| e.to_string())?;
            CsvWriter::new(&mut bytes)
                .include_header(true)
                .finish(&mut safe)
                .map_err(|e| e.to_string())?;
        }
        Format::Parquet => {
            ParquetWriter::new(&mut bytes)
                .finish(df)
                .map_err(|e| e.to_string())?;
        }
        Format::Json => write_json(df, &mut bytes).map_err(|e| e.to_string())?,
    }
    Ok(bytes)
}

/// Writes the result to `output` in `format`, or in the format its extension names; the file
/// appears whole or not at all.
pub fn write_result(df: &mut DataFrame, output: &Path, format: Option<Format>) -> Result<()> {
    let format = match format {
        Some(f) => f,
        None => Format::of_file(output)?,
    };
    let failed = |reason: String| Error::output(output.to_path_buf(), reason);
    let bytes = encode(df, format).map_err(failed)?;
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| failed(e.to_string()))?;
    {
        let mut writer = BufWriter::new(temp.as_file());
        writer
            .write_all(&bytes)
            .map_err(|e| failed(e.to_string()))?;
        writer.flush().map_err(|e| failed(e.to_string()))?;
    }
    temp.persist(output)
        .map_err(|e| failed(e.error.to_string()))?;
    Ok(())
}

/// String cells that a spreadsheet would run as a formula, prefixed with `'`.
fn spreadsheet_safe(df: &DataFrame) -> PolarsResult<DataFrame> {
    let text_columns: Vec<Expr> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| {
            let name = c.name().clone();
            when(
                col(name.clone())
                    .str()
                    .contains(lit(r"^[=+\-@\t\r]"), false),
            )
            .then(concat_str([lit("'"), col(name.clone())], "", false))
            .otherwise(col(name.clone()))
            .alias(name)
        })
        .collect();
    df.clone().lazy().with_columns(text_columns).collect()
}

fn write_json(df: &DataFrame, writer: &mut impl Write) -> std::io::Result<()> {
    let keys: Vec<String> = df
        .columns()
        .iter()
        .map(|c| serde_json::Value::String(c.name().to_string()).to_string())
        .collect();
    writer.write_all(b"[")?;
    for row in 0..df.height() {
        writer.write_all(if row == 0 { b"\n{" } else { b",\n{" })?;
        for (i, (column, key)) in df.columns().iter().zip(&keys).enumerate() {
            let value = column
                .get(row)
                .map_or_else(|_| "null".to_string(), |v| json_value(&v));
            if i > 0 {
                writer.write_all(b",")?;
            }
            write!(writer, "{key}:{value}")?;
        }
        writer.write_all(b"}")?;
    }
    writer.write_all(b"\n]\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;

    fn sample() -> DataFrame {
        let mut df = df!(
            "customer_id" => ["c1", "c2", "c3"],
            "customer_name" => [Some("=HYPERLINK(\"x\")"), Some("Beta \"B\" Ltd"), None],
            "risk_score" => [Some(82.5), None, Some(0.1)],
            "hits" => [3i64, 0, -2],
            "flag" => [true, false, true],
            "amount" => ["1234.5600", "-0.0100", "0"],
            "day" => [19_649i32, 19_650, 20_380],
            "at" => [1_760_000_000_000_000i64, 0, 1],
        )
        .unwrap();
        df = df
            .lazy()
            .with_columns([
                col("amount").cast(crate::schema::ledger_money()),
                col("day").cast(DataType::Date),
                col("at").cast(crate::schema::timestamp_utc()),
            ])
            .collect()
            .unwrap();
        df
    }

    #[test]
    fn decimals_and_dates_print_exactly() {
        assert_eq!(decimal_text(12_345_600, 4), "1234.5600");
        assert_eq!(decimal_text(-100, 4), "-0.0100");
        assert_eq!(decimal_text(0, 4), "0.0000");
        assert_eq!(decimal_text(-5, 0), "-5");
        // 20_380 days after 1970-01-01 = 2025-10-19 (2025-01-01 is day 20_089; + 291 days).
        assert_eq!(date_text(20_380), "2025-10-19");
        assert_eq!(
            datetime_text(1_000_000, TimeUnit::Microseconds, true),
            "1970-01-01T00:00:01Z"
        );
    }

    #[test]
    fn table_shows_every_column_and_counts_the_rest() {
        let df = sample();
        let text = format_table_rows(&df, 2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        for name in [
            "customer_id",
            "customer_name",
            "risk_score",
            "hits",
            "flag",
            "amount",
            "day",
            "at",
        ] {
            assert!(lines[0].contains(name), "{text}");
        }
        assert!(lines[2].contains("1234.5600"), "{text}");
        assert!(lines[3].contains("-0.0100"), "{text}");
        assert_eq!(lines[4], "... 1 more rows (3 rows in all)");
        assert!(format_table(&df).ends_with("(3 rows)\n"));
    }

    #[test]
    fn control_characters_and_long_cells_are_tamed() {
        assert_eq!(for_terminal("a\u{1b}[31mred\nx"), "a\\u{1b}[31mred\\nx");
        let long = "x".repeat(100);
        let cut = for_terminal(&long);
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn unknown_extension_is_refused_with_the_choices() {
        let dir = tempfile::tempdir().unwrap();
        let mut df = sample();
        let err = write_result(&mut df, &dir.path().join("result.xlsx"), None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("result.xlsx"), "{msg}");
        assert!(msg.contains(".csv, .parquet or .json"), "{msg}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no stray temp file"
        );
    }

    #[test]
    fn parquet_round_trips_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.parquet");
        let mut df = sample();
        write_result(&mut df, &path, None).unwrap();
        let back = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals_missing(&df), "{back}\n{df}");
        assert_eq!(back.schema(), df.schema());
    }

    #[test]
    fn csv_round_trips_and_neutralises_formulas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.CSV");
        let mut df = sample();
        write_result(&mut df, &path, None).unwrap();
        let back = CsvReadOptions::default()
            .with_has_header(true)
            .try_into_reader_with_file_path(Some(path.clone()))
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(back.height(), 3);
        let names = back.column("customer_name").unwrap().str().unwrap().clone();
        assert_eq!(names.get(0), Some("'=HYPERLINK(\"x\")"));
        assert_eq!(names.get(1), Some("Beta \"B\" Ltd"));
        assert_eq!(names.get(2), None);
        let hits = back.column("hits").unwrap().i64().unwrap();
        assert_eq!(
            hits.iter().collect::<Vec<_>>(),
            vec![Some(3), Some(0), Some(-2)]
        );
        let scores = back.column("risk_score").unwrap().f64().unwrap();
        assert_eq!(
            scores.iter().collect::<Vec<_>>(),
            vec![Some(82.5), None, Some(0.1)]
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("1234.5600"), "{text}");
        assert!(text.contains("2023-10-19"), "{text}");
    }

    #[test]
    fn json_is_an_array_of_objects_in_column_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        let mut df = sample();
        write_result(&mut df, &path, None).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("[\n{\"customer_id\":\"c1\",\"customer_name\":"),
            "{text}"
        );
        let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["customer_name"], "=HYPERLINK(\"x\")");
        assert_eq!(rows[0]["risk_score"], 82.5);
        assert_eq!(rows[0]["hits"], 3);
        assert_eq!(rows[0]["flag"], true);
        // 19_649 days after 1970-01-01 = 2023-10-19.
        assert_eq!(rows[0]["day"], "2023-10-19");
        assert_eq!(rows[0]["at"], "2025-10-09T08:53:20Z");
        assert!(text.contains("\"amount\":1234.5600"), "{text}");
        assert_eq!(rows[1]["amount"].as_f64(), Some(-0.01));
        assert!(rows[1]["risk_score"].is_null());
        assert!(rows[2]["customer_name"].is_null());
        // An empty result is an empty array, still valid JSON.
        let mut empty = df.head(Some(0));
        write_result(&mut empty, &path, None).unwrap();
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(rows.is_empty());
    }
}
