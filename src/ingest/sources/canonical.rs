//! Inputs billrisk has already checked: `billrisk ingest` converts an input folder once into
//! canonical Parquet files (the tables of schema.rs, in the layout of SPEC section 3), each marked
//! in its Parquet key-value metadata with the table it holds. A run reads a marked file as it is:
//! no parsing and no value checks, because the file holds exactly the rows that passed them when
//! it was written. The rows the conversion rejected travel in a marked `rejected_rows.parquet`
//! beside them, so a run from the converted folder reports them as if it had read the exports.
//!
//! Rows keep the file and line of the export they came from (source_file, source_line), so
//! evidence and rejected rows still point into the original files.

use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::schema::{self, TableDef};

/// Parquet key-value metadata key naming the canonical table a file holds.
pub const TABLE_KEY: &str = "billrisk:table";
/// Parquet key-value metadata key with the billrisk version that wrote the file.
pub const VERSION_KEY: &str = "billrisk:version";
/// The rejected rows of a conversion, at the top of the converted folder.
pub const REJECTED_FILE: &str = "rejected_rows.parquet";

/// The key-value metadata that marks a file as canonical table `table`.
pub fn metadata(table: &str) -> KeyValueMetadata {
    KeyValueMetadata::from_static(vec![
        (TABLE_KEY.to_string(), table.to_string()),
        (
            VERSION_KEY.to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ])
}

/// Every table a marked file may hold: the canonical inputs and the rejected rows.
pub fn def(table: &str) -> Option<&'static TableDef> {
    schema::INPUT_TABLES
        .into_iter()
        .chain([&schema::rejected_rows::DEF])
        .find(|d| d.name == table)
}

/// Where a converted folder keeps each table (SPEC section 3 layout), relative to its top.
pub fn layout(table: &str) -> String {
    use schema::*;
    match table {
        t if t == usage::TABLE || t == billed::TABLE => format!("{t}/{t}.parquet"),
        t if t == invoices::TABLE || t == payments::TABLE => format!("receivables/{t}.parquet"),
        t if t == activity::TABLE || t == audit_records::TABLE => format!("activity/{t}.parquet"),
        t => format!("{t}.parquet"),
    }
}

/// The table a Parquet file is marked with and the version that wrote it, from its footer;
/// None for any other Parquet file (an export converted by another tool).
pub fn marker(path: &Path) -> Result<Option<(String, String)>> {
    let err = |e: PolarsError| Error::input_file(path.to_path_buf(), e);
    let f = std::fs::File::open(path).map_err(|e| Error::input_file(path.to_path_buf(), e))?;
    let mut reader = ParquetReader::new(f);
    let meta = reader.get_metadata().map_err(err)?;
    let get = |key: &str| {
        meta.key_value_metadata()
            .as_ref()
            .and_then(|kv| kv.iter().find(|k| k.key == key))
            .and_then(|k| k.value.clone())
    };
    Ok(get(TABLE_KEY).map(|t| (t, get(VERSION_KEY).unwrap_or_default())))
}

/// A marked file as a lazy scan, after checking that its columns and dtypes are exactly those
/// of `def` (a file written by a billrisk with another schema must be converted again).
pub fn scan(path: &Path, def: &TableDef) -> Result<LazyFrame> {
    let err = |reason: String| Error::input_file(path.to_path_buf(), reason);
    let p = PlRefPath::try_from_path(path).map_err(|e| err(e.to_string()))?;
    let mut lf =
        LazyFrame::scan_parquet(p, ScanArgsParquet::default()).map_err(|e| err(e.to_string()))?;
    let found = lf.collect_schema().map_err(|e| err(e.to_string()))?;
    let expected = def.schema();
    // Only a refused file needs the version that wrote it, for the message.
    let again = || {
        let version = marker(path)
            .ok()
            .flatten()
            .map(|(_, v)| v)
            .unwrap_or_default();
        format!(
            "written by billrisk {version} for table {}; convert the exports again with `billrisk ingest`",
            def.name
        )
    };
    for (name, dtype) in expected.iter() {
        match found.get(name) {
            None => {
                return Err(err(format!(
                    "expected column {name} ({dtype}), found none: {}",
                    again()
                )))
            }
            Some(d) if d != dtype => {
                return Err(err(format!(
                    "column {name}: expected {dtype}, found {d}: {}",
                    again()
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.iter_names().find(|n| expected.get(n).is_none()) {
        return Err(err(format!("unexpected column {extra}: {}", again())));
    }
    Ok(lf.select(def.column_names().into_iter().map(col).collect::<Vec<_>>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, df: &mut DataFrame, table: Option<&str>) {
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .with_key_value_metadata(table.map(metadata))
            .finish(df)
            .unwrap();
    }

    #[test]
    fn a_marked_file_names_its_table_and_an_unmarked_one_nothing() {
        let d = tempfile::tempdir().unwrap();
        let marked = d.path().join("m.parquet");
        let plain = d.path().join("p.parquet");
        write(
            &marked,
            &mut schema::fx_rates::DEF.empty(),
            Some("fx_rates"),
        );
        write(&plain, &mut schema::fx_rates::DEF.empty(), None);
        let (table, version) = marker(&marked).unwrap().unwrap();
        assert_eq!(table, "fx_rates");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        assert_eq!(marker(&plain).unwrap(), None);
    }

    #[test]
    fn a_marked_file_with_another_schema_is_refused_with_the_column() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("usage.parquet");
        // usage with usage_date as text, as an older or foreign writer might have it.
        let mut df = schema::usage::DEF
            .empty()
            .lazy()
            .with_column(col(schema::usage::USAGE_DATE).cast(DataType::String))
            .collect()
            .unwrap();
        write(&path, &mut df, Some("usage"));
        let e = scan(&path, &schema::usage::DEF).err().unwrap().to_string();
        assert!(e.contains("usage.parquet"), "{e}");
        assert!(
            e.contains("column usage_date: expected date, found str"),
            "{e}"
        );
        assert!(e.contains("billrisk ingest"), "{e}");
        let ok = d.path().join("ok.parquet");
        write(&ok, &mut schema::usage::DEF.empty(), Some("usage"));
        let lf = scan(&ok, &schema::usage::DEF).unwrap();
        assert_eq!(lf.collect().unwrap().height(), 0);
    }

    #[test]
    fn every_table_has_a_place_in_the_input_layout() {
        assert_eq!(layout("usage"), "usage/usage.parquet");
        assert_eq!(layout("invoices"), "receivables/invoices.parquet");
        assert_eq!(layout("audit_records"), "activity/audit_records.parquet");
        assert_eq!(layout("customers"), "customers.parquet");
        assert_eq!(layout("rejected_rows"), REJECTED_FILE);
        for t in schema::INPUT_TABLES {
            assert!(def(t.name).is_some());
        }
    }
}
