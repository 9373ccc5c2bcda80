//! Bad input (SPEC 6), one case per file. Each case runs the real binary and states in its first
//! line what billrisk does: accepts the rows, rejects the row into rejected_rows (file, line,
//! column, reason, raw text), or fails the run with one message naming file, column, expected and
//! found (exit 1, --out untouched). Never a panic.

use crate::common::*;

mod absurd_amounts;
mod absurd_dates;
mod bom_and_crlf;
mod duplicate_invoice_ids;
mod duplicate_payment_ids;
mod header_only_file;
mod invalid_utf8;
mod malformed_rows;
mod misnamed_gzip;
mod missing_column;
mod missing_file;
mod payment_in_other_currency;
mod too_many_rejected;
mod truncated_json;
mod truncated_last_line;
mod unreadable_gzip;
mod very_long_fields;
mod wrong_typed_json;
mod zero_byte_file;

/// An earlier run's output: a failed run must leave it exactly as it was.
pub fn sentinel(w: &Workdir) {
    w.write("out/sentinel.txt", "earlier run");
}

pub fn out_unchanged(w: &Workdir) {
    assert_eq!(
        std::fs::read_to_string(w.path("out/sentinel.txt")).unwrap(),
        "earlier run"
    );
    assert_eq!(std::fs::read_dir(w.path("out")).unwrap().count(), 1);
}

/// A config that never fails the run on its rejected share, for cases with few rows.
pub const LAX: &str = "[input]\nmax_rejected_share = 1.0\n";

/// One row of rejected_rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Rej {
    pub source: String,
    pub file: String,
    pub line: i64,
    pub column: String,
    pub reason: String,
    pub raw: String,
}

/// What a successful run left: its rejected rows (in table order) and manifest.
pub struct Ran {
    pub rejected: Vec<Rej>,
    pub manifest: serde_json::Value,
}

impl Ran {
    /// (rows_read, accepted, rejected) of one input file in the manifest.
    pub fn counts(&self, file: &str) -> (u64, u64, u64) {
        let f = self.manifest["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == file)
            .unwrap_or_else(|| panic!("{file} not in the manifest"));
        let n = |k: &str| f[k].as_u64().unwrap();
        (n("rows_read"), n("accepted"), n("rejected"))
    }

    /// The rejected rows of one file.
    pub fn rejected_in(&self, file: &str) -> Vec<&Rej> {
        self.rejected.iter().filter(|r| r.file == file).collect()
    }

    /// (line, column) of the rejected rows of one file.
    pub fn lines_in(&self, file: &str) -> Vec<(i64, String)> {
        self.rejected_in(file)
            .into_iter()
            .map(|r| (r.line, r.column.clone()))
            .collect()
    }
}

/// Runs `billrisk run --input in --out out -q` (plus `args`), asserts it succeeds, and reads
/// rejected_rows and the manifest. With `lax`, the rejected share never fails the run.
pub fn run_ok(w: &Workdir, lax: bool, args: &[&str]) -> Ran {
    let mut all = vec!["run", "--input", "in", "--out", "out", "-q"];
    if lax {
        w.write("lax.toml", LAX);
        all.extend(["--config", "lax.toml"]);
    }
    all.extend(args);
    w.cmd().args(&all).assert().success();
    let rej = w.table("out", "rejected_rows");
    let s = |c: &str| -> Vec<String> {
        strs(&rej, c)
            .into_iter()
            .map(|v| v.unwrap_or_default())
            .collect()
    };
    let (source, file, column, reason, raw) =
        (s("source"), s("file"), s("column"), s("reason"), s("raw"));
    let line: Vec<i64> = s("line").iter().map(|l| l.parse().unwrap()).collect();
    let rejected = (0..rej.height())
        .map(|i| Rej {
            source: source[i].clone(),
            file: file[i].clone(),
            line: line[i],
            column: column[i].clone(),
            reason: reason[i].clone(),
            raw: raw[i].clone(),
        })
        .collect();
    Ran {
        rejected,
        manifest: w.json("out/manifest.json"),
    }
}

/// Runs `billrisk run --input in --out out` over an earlier output and asserts it fails with
/// exit 1, every `fragment` in its message, and --out left alone.
pub fn run_fails(w: &Workdir, fragments: &[&str]) {
    sentinel(w);
    let out = w
        .cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for f in fragments {
        assert!(stderr.contains(f), "{f:?} not in stderr:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    out_unchanged(w);
}

/// One column of an output table as text, by row, nulls as "null".
pub fn col_text(w: &Workdir, table: &str, column: &str) -> Vec<String> {
    strs(&w.table("out", table), column)
        .into_iter()
        .map(|v| v.unwrap_or_else(|| "null".into()))
        .collect()
}

/// One column of a canonical input table as the run wrote it (out/inputs/), nulls as "null".
pub fn input_text(w: &Workdir, table: &str, column: &str) -> Vec<String> {
    let df = w.table_at(&w.path("out/inputs"), &format!("{table}.parquet"));
    strs(&df, column)
        .into_iter()
        .map(|v| v.unwrap_or_else(|| "null".into()))
        .collect()
}

/// Sum of a usage_daily-style Float64 column.
pub fn f64_sum(w: &Workdir, table: &str, column: &str) -> f64 {
    f64s(&w.table("out", table), column)
        .into_iter()
        .flatten()
        .sum()
}

/// The header of minimal_inputs' invoice and payment files.
pub const INVOICES_HEADER: &str =
    "invoice_id,customer_id,issue_date,due_date,amount,currency,service_month\n";
pub const PAYMENTS_HEADER: &str =
    "payment_id,customer_id,invoice_id,payment_date,amount,currency,instrument\n";
pub const USAGE_HEADER: &str = "CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency\n";
