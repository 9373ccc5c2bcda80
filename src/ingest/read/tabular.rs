//! The common path of every tabular source (usage, billed, invoices, payments, budgets, customers,
//! fx_rates, dispositions): one file in any supported container (.csv, .csv.gz, .json, .jsonl,
//! .parquet) becomes text columns under canonical names, then typed rows and rejected rows.
//! A source lists its formats (Partner Center and FOCUS for usage); the header decides which one
//! a file is in.

use std::path::Path;

use polars::prelude::*;

use super::columns::{locate, normalize_header, ColumnSpec, Need};
use super::convert::{is_native, typed, Present, Typed};
use super::{csv_file, hash_file, json, FileInfo, Rejected};
use crate::error::{Error, PolarsContext, Result};
use crate::schema;

/// One way a source's files can be laid out.
pub struct Format {
    pub name: &'static str,
    pub specs: &'static [ColumnSpec],
    /// Whether a header (normalised names) is in this format.
    pub detect: fn(&[String]) -> bool,
    /// Typed spec columns -> the canonical table's schema, in order.
    pub finish: fn(LazyFrame) -> LazyFrame,
}

/// A tabular source: its canonical table and formats (the first whose `detect` matches wins;
/// the last is the fallback and names the required columns in errors).
pub struct Source {
    pub table: &'static str,
    pub formats: &'static [Format],
    /// For a folder that takes several shapes (usage/, billed/), all it accepts: appended to a
    /// missing-column error, so a file of another shape says what would have been read. Empty
    /// for a folder of one shape.
    pub accepts: &'static str,
}

pub fn any_header(_: &[String]) -> bool {
    true
}

/// What one file contributed.
pub struct FileRead {
    pub info: FileInfo,
    pub typed: Option<Typed>,
    pub structural: Vec<Rejected>,
}

fn choose<'a>(source: &'a Source, header: &[String]) -> &'a Format {
    let normalized: Vec<String> = header.iter().map(|h| normalize_header(h)).collect();
    source
        .formats
        .iter()
        .find(|f| (f.detect)(&normalized))
        .unwrap_or_else(|| source.formats.last().expect("a source has a format"))
}

/// What the source's folder accepts, appended to a missing-column error (see `Source::accepts`).
fn accepted_shapes(source: &Source) -> String {
    if source.accepts.is_empty() {
        String::new()
    } else {
        format!("; {}/ accepts {}", source.table, source.accepts)
    }
}

/// Checks required columns and returns (spec index, header index) of the present ones.
fn present_columns<'a>(
    source: &Source,
    format: &'a Format,
    header: &[String],
    path: &Path,
) -> Result<Vec<(usize, &'a ColumnSpec, usize)>> {
    let found = locate(format.specs, header);
    let mut out = Vec::new();
    for (i, (spec, at)) in format.specs.iter().zip(found).enumerate() {
        match at {
            Some(h) => out.push((i, spec, h)),
            None if spec.need != Need::Optional => {
                return Err(Error::MissingColumn {
                    path: path.to_path_buf(),
                    column: spec.name.to_string(),
                    expected: spec.aliases.join(", "),
                    found: header.join(", "),
                    accepts: accepted_shapes(source),
                })
            }
            None => {}
        }
    }
    Ok(out)
}

/// Reads one file of `source`. `display` is the path relative to the input folder.
pub fn read_file(source: &Source, path: &Path, display: &str, scratch: &Path) -> Result<FileRead> {
    let lower = display.to_ascii_lowercase();
    if lower.ends_with(".parquet") {
        return read_parquet(source, path, display);
    }
    if lower.ends_with(".json")
        || lower.ends_with(".jsonl")
        || lower.ends_with(".json.gz")
        || lower.ends_with(".jsonl.gz")
    {
        let rows = json::read(path, display, source.table)?;
        return from_text_frame(
            source,
            path,
            display,
            rows.header,
            rows.frame,
            rows.info,
            rows.rejected,
        );
    }
    let mut chosen = None;
    let pre = csv_file::prepass(path, display, source.table, scratch, |header| {
        let format = choose(source, header);
        let present = present_columns(source, format, header, path)?;
        let wanted = present
            .iter()
            .map(|(_, s, h)| (*h, s.name.to_string()))
            .collect();
        chosen = Some((format, present));
        Ok(wanted)
    })?;
    let info = FileInfo {
        table: source.table,
        path: path.to_path_buf(),
        display: display.to_string(),
        size: pre.size,
        sha256: pre.sha256.clone(),
        rows_read: pre.records,
        carried: false,
    };
    // A zero-byte file has no header: nothing to read, nothing to check. A header alone (its
    // columns checked) has nothing to scan.
    let Some((format, present)) = chosen.filter(|_| pre.records > 0) else {
        return Ok(FileRead {
            info,
            typed: None,
            structural: pre.rejected,
        });
    };
    let raw = csv_file::scan(&pre)?;
    let presents = presents(&present, &pre.header, |_, _| false);
    Ok(checked(
        source,
        format,
        raw,
        &presents,
        display,
        info,
        pre.rejected,
    ))
}

/// A file already split into text columns (JSON): header names and a frame with one String column
/// per header entry (named by the header) plus source_line.
fn from_text_frame(
    source: &Source,
    path: &Path,
    display: &str,
    header: Vec<String>,
    frame: DataFrame,
    info: FileInfo,
    structural: Vec<Rejected>,
) -> Result<FileRead> {
    if header.is_empty() {
        return Ok(FileRead {
            info,
            typed: None,
            structural,
        });
    }
    let format = choose(source, &header);
    let present = present_columns(source, format, &header, path)?;
    let presents = presents(&present, &header, |_, _| false);
    let mut cols = raw_columns(&presents);
    cols.push(col(schema::SOURCE_LINE));
    let raw = frame.lazy().select(cols);
    Ok(checked(
        source, format, raw, &presents, display, info, structural,
    ))
}

/// The present columns of a file as [`typed`] takes them, each `native` where `native(spec,
/// header)` says the file already stores it typed.
fn presents<'a>(
    present: &[(usize, &'a ColumnSpec, usize)],
    header: &[String],
    native: impl Fn(&ColumnSpec, &str) -> bool,
) -> Vec<Present<'a>> {
    present
        .iter()
        .map(|(_, s, h)| Present {
            spec: s,
            header: header[*h].clone(),
            native: native(s, &header[*h]),
        })
        .collect()
}

/// Each present column under its canonical name: as the file has it where native, else as text.
fn raw_columns(presents: &[Present]) -> Vec<Expr> {
    presents
        .iter()
        .map(|p| {
            let c = col(p.header.as_str());
            let c = if p.native {
                c
            } else {
                c.cast(DataType::String)
            };
            c.alias(p.spec.name)
        })
        .collect()
}

/// One file's typed and rejected rows, the accepted ones finished into the format's canonical
/// columns.
fn checked(
    source: &Source,
    format: &Format,
    raw: LazyFrame,
    presents: &[Present],
    display: &str,
    info: FileInfo,
    structural: Vec<Rejected>,
) -> FileRead {
    let t = typed(raw, format.specs, presents, source.table, display);
    FileRead {
        info,
        typed: Some(Typed {
            accepted: (format.finish)(t.accepted),
            rejected: t.rejected,
        }),
        structural,
    }
}

fn read_parquet(source: &Source, path: &Path, display: &str) -> Result<FileRead> {
    let err = |e: PolarsError| Error::input_file(path.to_path_buf(), e);
    let (size, sha256) = hash_file(path)?;
    let pl_path = PlRefPath::try_from_path(path).map_err(err)?;
    let mut lf = LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()).map_err(err)?;
    let file_schema = lf.collect_schema().map_err(err)?;
    let header: Vec<String> = file_schema.iter_names().map(|n| n.to_string()).collect();
    let rows = lf
        .clone()
        .select([len().alias("n")])
        .collect()
        .map_err(err)?
        .column("n")
        .map_err(err)?
        .get(0)
        .map_err(err)?
        .extract::<u64>()
        .unwrap_or(0);
    let info = FileInfo {
        table: source.table,
        path: path.to_path_buf(),
        display: display.to_string(),
        size,
        sha256,
        rows_read: rows,
        carried: false,
    };
    let format = choose(source, &header);
    let present = present_columns(source, format, &header, path)?;
    // A column the file already types as billrisk would (DATE, DOUBLE, DECIMAL) is taken as it
    // is; any other becomes text and is parsed like a CSV field.
    let presents = presents(&present, &header, |spec, name| {
        file_schema
            .get(name)
            .is_some_and(|dtype| is_native(spec.kind, dtype))
    });
    // Parquet has no lines: source_line is the 1-based row number.
    let mut cols = raw_columns(&presents);
    cols.push((col("__row").cast(DataType::Int64) + lit(1i64)).alias(schema::SOURCE_LINE));
    let raw = lf.with_row_index("__row", None).select(cols);
    Ok(checked(
        source,
        format,
        raw,
        &presents,
        display,
        info,
        Vec::new(),
    ))
}

/// Keys that identify one row of a source across all its files: (table, key column).
const UNIQUE_KEYS: [(&str, &str); 2] = [
    (schema::invoices::TABLE, schema::invoices::INVOICE_ID),
    (schema::payments::TABLE, schema::payments::PAYMENT_ID),
];

/// Longest repeated key quoted in a reason.
const MAX_KEY_IN_REASON: i64 = 120;

/// The rows of a source, all its files together. Where the source has a unique key (invoice_id,
/// payment_id), the first row of each key, by source_file then source_line, is kept and every
/// later row with that key goes to rejected_rows, naming where the key was first seen: an invoice
/// or payment exported twice (overlapping exports, a re-sent file) must not count twice in the
/// ledger. Returns the kept rows (sorted by file and line) and, for a keyed source, the rejected
/// rows (rejected_rows schema, `raw` null until the orchestrator fills it).
pub fn reject_repeated_keys(
    def: &schema::TableDef,
    rows: LazyFrame,
) -> Result<(LazyFrame, Option<LazyFrame>)> {
    use schema::rejected_rows as rj;
    let Some(&(_, key)) = UNIQUE_KEYS.iter().find(|(t, _)| *t == def.name) else {
        return Ok((rows, None));
    };
    const ORD: &str = "__ord";
    const FIRST_ORD: &str = "__first_ord";
    const FIRST_KEY: &str = "__first_key";
    const FIRST_FILE: &str = "__first_file";
    const FIRST_LINE: &str = "__first_line";
    // The smallest position is order-independent, so which row is "first" does not depend on
    // how the window groups are evaluated, only on the explicit sort.
    let first_ord = col(ORD).min().over([col(key)]).stage("ingest")?;
    let ordered = rows
        .sort(
            [schema::SOURCE_FILE, schema::SOURCE_LINE],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_row_index(ORD, None)
        .with_column(first_ord.alias(FIRST_ORD));
    let kept = ordered
        .clone()
        .filter(col(ORD).eq(col(FIRST_ORD)))
        .select(def.column_names().into_iter().map(col).collect::<Vec<_>>());
    let firsts = kept.clone().select([
        col(key).alias(FIRST_KEY),
        col(schema::SOURCE_FILE).alias(FIRST_FILE),
        col(schema::SOURCE_LINE).alias(FIRST_LINE),
    ]);
    let where_first = when(col(FIRST_FILE).eq(col(schema::SOURCE_FILE)))
        .then(lit(""))
        .otherwise(concat_str([col(FIRST_FILE), lit(" ")], "", false));
    let reason = concat_str(
        [
            lit(format!("expected a unique {key}, found '")),
            col(key).str().slice(lit(0), lit(MAX_KEY_IN_REASON)),
            lit("' again (first at "),
            where_first,
            lit("line "),
            col(FIRST_LINE).cast(DataType::String),
            lit(")"),
        ],
        "",
        false,
    );
    let rejected = ordered
        .filter(col(ORD).neq(col(FIRST_ORD)))
        .join(
            firsts,
            [col(key)],
            [col(FIRST_KEY)],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            lit(def.name).alias(rj::SOURCE),
            col(schema::SOURCE_FILE).alias(rj::FILE),
            col(schema::SOURCE_LINE).alias(rj::LINE),
            lit(key).alias(rj::COLUMN),
            reason.alias(rj::REASON),
            lit(NULL).cast(DataType::String).alias(rj::RAW),
        ]);
    Ok((kept, Some(rejected)))
}

/// The canonical table's columns, in its order.
pub fn select_schema(lf: LazyFrame, def: &schema::TableDef) -> LazyFrame {
    lf.select(def.column_names().into_iter().map(col).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(df: &DataFrame, c: &str) -> Vec<String> {
        df.column(c)
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("null").to_string())
            .collect()
    }

    #[test]
    fn a_repeated_invoice_id_is_kept_once_first_by_file_then_line() {
        use schema::invoices as i;
        // Rows arrive out of order on purpose: b.csv before a.csv, line 4 before line 2.
        let rows = df!(
            i::INVOICE_ID => ["INV-7", "INV-7", "INV-8", "INV-7", "INV-9"],
            i::AMOUNT => ["30", "20", "5", "10", "1"],
            schema::SOURCE_FILE => ["b.csv", "a.csv", "a.csv", "a.csv", "b.csv"],
            schema::SOURCE_LINE => [2i64, 4, 3, 2, 3],
        )
        .unwrap()
        .lazy();
        let def = schema::TableDef {
            name: i::TABLE,
            columns: || {
                vec![
                    (i::INVOICE_ID, DataType::String),
                    (i::AMOUNT, DataType::String),
                    (schema::SOURCE_FILE, DataType::String),
                    (schema::SOURCE_LINE, DataType::Int64),
                ]
            },
        };
        let (kept, rejected) = reject_repeated_keys(&def, rows).unwrap();
        let kept = kept.collect().unwrap();
        let rej = rejected
            .unwrap()
            .sort(["file", "line"], Default::default())
            .collect()
            .unwrap();
        // INV-7 first at a.csv line 2 (amount 10); a.csv:4 and b.csv:2 are repeats.
        assert_eq!(strs(&kept, i::INVOICE_ID), ["INV-7", "INV-8", "INV-9"]);
        assert_eq!(strs(&kept, i::AMOUNT), ["10", "5", "1"]);
        assert_eq!(strs(&rej, "file"), ["a.csv", "b.csv"]);
        assert_eq!(strs(&rej, "line"), ["4", "2"]);
        assert_eq!(strs(&rej, "column"), ["invoice_id", "invoice_id"]);
        assert_eq!(
            strs(&rej, "reason"),
            [
                "expected a unique invoice_id, found 'INV-7' again (first at line 2)",
                "expected a unique invoice_id, found 'INV-7' again (first at a.csv line 2)",
            ]
        );
        assert_eq!(strs(&rej, "raw"), ["null", "null"]);
    }

    /// A typed Parquet file (DATE, DOUBLE, DECIMAL, as DuckDB or pandas convert an export) and
    /// the same values as text give the same accepted rows and the same rejections, reasons
    /// quoting the value as written.
    #[test]
    fn typed_parquet_columns_are_taken_as_they_are_and_checked_like_text() {
        use schema::usage as u;
        let d = tempfile::tempdir().unwrap();
        let days = |v: &[i32]| {
            Int32Chunked::from_slice("UsageDate".into(), v)
                .into_date()
                .into_series()
                .into_column()
        };
        // 2026-11-01, 2026-11-02, 1900-01-01 (out of range), 2026-11-04, 2026-11-05
        let dates = [20758, 20759, -25567, 20761, 20762];
        let costs = [Some(1.25), Some(-0.0), Some(3.0), Some(f64::NAN), None];
        let common = || {
            (
                Column::new("CustomerId".into(), ["C1", "c1", "c2", "c2", "c3"]),
                Column::new("BillingCurrency".into(), ["USD"; 5]),
                Column::new("Quantity".into(), [1i64, 2, 3, 4, 5]),
            )
        };
        let write = |name: &str, date: Column, cost: Column, qty_text: bool| {
            let (c, cur, q) = common();
            let q = if qty_text {
                q.cast(&DataType::String).unwrap()
            } else {
                q
            };
            let mut df = DataFrame::new(5, vec![c, date, cost, cur, q]).unwrap();
            let path = d.path().join(name);
            ParquetWriter::new(std::fs::File::create(&path).unwrap())
                .finish(&mut df)
                .unwrap();
            path
        };
        let typed_path = write(
            "typed.parquet",
            days(&dates),
            Column::new("BillingPreTaxTotal".into(), costs),
            false,
        );
        let text_path = write(
            "text.parquet",
            days(&dates).cast(&DataType::String).unwrap(),
            Column::new("BillingPreTaxTotal".into(), costs)
                .cast(&DataType::String)
                .unwrap(),
            true,
        );
        let read = |path: &Path| {
            let r = read_file(
                &crate::ingest::sources::usage::SOURCE,
                path,
                "u.parquet",
                d.path(),
            )
            .unwrap();
            let t = r.typed.unwrap();
            let acc = t
                .accepted
                .select([
                    col(u::CUSTOMER_ID),
                    col(u::USAGE_DATE),
                    col(u::COST),
                    col(u::QUANTITY),
                ])
                .collect()
                .unwrap();
            let rej = t.rejected.collect().unwrap();
            (acc, rej)
        };
        let (acc, rej) = read(&typed_path);
        let (acc_text, rej_text) = read(&text_path);
        assert_eq!(acc, acc_text);
        assert_eq!(rej, rej_text);
        assert_eq!(acc.column(u::USAGE_DATE).unwrap().dtype(), &DataType::Date);
        assert_eq!(strs(&acc, u::CUSTOMER_ID), ["c1", "c1"]);
        let cost = acc.column(u::COST).unwrap().f64().unwrap();
        assert_eq!(cost.get(0), Some(1.25));
        assert!(cost.get(1).unwrap().is_sign_positive(), "-0 is 0");
        assert_eq!(strs(&acc, u::QUANTITY), ["1.0", "2.0"]);
        // Parquet has no lines: the line is the 1-based row number.
        assert_eq!(strs(&rej, "line"), ["3", "4", "5"]);
        assert_eq!(
            strs(&rej, "reason"),
            [
                "expected a date between 1990-01-01 and 2100-12-31, found '1900-01-01'",
                "expected a number (1234.56 or 9.99E-08), found 'NaN'",
                "expected a number (1234.56 or 9.99E-08), found an empty field",
            ]
        );
    }

    #[test]
    fn a_source_without_a_key_is_left_alone() {
        let rows = df!("x" => [1, 1]).unwrap().lazy();
        let (kept, rejected) = reject_repeated_keys(&schema::usage::DEF, rows).unwrap();
        assert!(rejected.is_none());
        assert_eq!(kept.collect().unwrap().height(), 2);
    }
}
