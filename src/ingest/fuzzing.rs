//! Entry points for the cargo-fuzz targets in fuzz/ (and their regression tests): each takes
//! arbitrary bytes as one input file, reads it end to end as `billrisk run` would, and checks the
//! row accounting. `Err` is a clean refusal of the file (missing column, unreadable gzip); a panic,
//! or a file whose accepted + rejected rows differ from the rows read, is a bug.

use std::path::Path;

use crate::error::{Error, PolarsContext, Result};
use crate::ingest::read::tabular;
use crate::ingest::sources::{activity, fraud_events};
use crate::ingest::RawRead;

/// Rows a file yielded once collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
}

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| Error::input_file(path.clone(), e))?;
    Ok(path)
}

fn temp_dir() -> Result<tempfile::TempDir> {
    tempfile::tempdir().map_err(|e| Error::Internal(format!("temporary folder: {e}")))
}

fn check(c: Counted, what: &str) -> Counted {
    assert_eq!(
        c.read,
        c.accepted + c.rejected,
        "{what}: rows read must equal accepted + rejected"
    );
    c
}

/// Reads `bytes` as a file named `name` (its extension picks CSV, JSON or Parquet) of the
/// tabular source `table` (usage, billed, invoices, payments, budgets, customers, fx_rates,
/// dispositions), collects the typed rows and the rejected rows.
pub fn tabular_bytes(table: &str, name: &str, bytes: &[u8]) -> Result<Counted> {
    let source = super::tabular_source(table)
        .ok_or_else(|| Error::Internal(format!("no tabular source {table}")))?;
    let dir = temp_dir()?;
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| Error::Internal(e.to_string()))?;
    let path = write_temp(dir.path(), name, bytes)?;
    let r = tabular::read_file(source, &path, name, &scratch)?;
    let mut c = Counted {
        read: r.info.rows_read,
        accepted: 0,
        rejected: r.structural.len() as u64,
    };
    if let Some(t) = r.typed {
        c.accepted = t.accepted.collect().stage("fuzz collect")?.height() as u64;
        c.rejected += t.rejected.collect().stage("fuzz collect")?.height() as u64;
    }
    Ok(check(c, table))
}

fn count_raw(reads: Vec<RawRead>, what: &str) -> Result<Counted> {
    let mut c = Counted {
        read: 0,
        accepted: 0,
        rejected: 0,
    };
    for r in reads {
        let one = Counted {
            read: r.rows_read,
            accepted: r.frame.height() as u64,
            rejected: r.rejected.len() as u64,
        };
        check(one, what);
        c.read += one.read;
        c.accepted += one.accepted;
        c.rejected += one.rejected;
    }
    Ok(c)
}

/// Reads `bytes` as an activity/ file named `name` (.json, .jsonl or .csv, optionally .gz).
pub fn activity_bytes(name: &str, bytes: &[u8]) -> Result<Counted> {
    let dir = temp_dir()?;
    let path = write_temp(dir.path(), name, bytes)?;
    count_raw(activity::read_activity_file(&path, name)?, "activity")
}

/// Reads `bytes` as a fraud_events file named `name`.
pub fn fraud_events_bytes(name: &str, bytes: &[u8]) -> Result<Counted> {
    let dir = temp_dir()?;
    let path = write_temp(dir.path(), name, bytes)?;
    count_raw(
        vec![fraud_events::read_fraud_events_file(&path, name)?],
        "fraud_events",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_invoice_file_counts_its_rows() {
        let csv = b"InvoiceId,CustomerId,InvoiceDate,DueDate,Amount,Currency\n\
INV-1,c1,2026-10-01,2026-10-31,100.00,USD\n\
INV-2,c1,not a date,2026-10-31,5,USD\n";
        let c = tabular_bytes("invoices", "invoices.csv", csv).unwrap();
        assert_eq!(
            c,
            Counted {
                read: 2,
                accepted: 1,
                rejected: 1
            }
        );
    }

    #[test]
    fn an_activity_array_counts_its_rows() {
        let c = activity_bytes("a.json", b"[{\"operationName\": 1}, 7]").unwrap();
        assert_eq!(c.read, c.accepted + c.rejected);
    }
}

/// Inputs the fuzzers found (fuzz/regressions/<target>/), kept as regression tests.
#[cfg(test)]
mod regressions {
    use super::*;
    use crate::ingest::read::values;

    #[test]
    fn a_zero_with_a_huge_exponent_is_parsed_at_once() {
        // "-00e-001783010508" looped 1.8 billion times dividing zero by ten.
        let text = include_str!("../../fuzz/regressions/values/zero_with_huge_exponent");
        assert_eq!(values::parse_decimal(text, 4), Ok(0));
        assert_eq!(values::parse_decimal("0e2000000000", 4), Ok(0));
        assert_eq!(values::parse_decimal("-0.000e-99", 2), Ok(0));
    }

    #[test]
    fn a_binary_header_keeps_the_row_accounting() {
        let bytes = include_bytes!("../../fuzz/regressions/csv_sources/customers_binary_header");
        // A header with NULs and invalid UTF-8, then two blank lines: Polars made a row of
        // nulls out of them, which was rejected although no row had been read.
        let c = tabular_bytes("customers", "customers.csv", &bytes[1..]).unwrap();
        assert_eq!(
            c,
            Counted {
                read: 0,
                accepted: 0,
                rejected: 0
            }
        );
    }
}
