//! A temporary work folder per test, with helpers to write inputs, run the binary and read its
//! Parquet outputs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use polars::prelude::*;

pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Writes gzip-compressed bytes.
    pub fn write_gz(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes.as_ref()).unwrap();
        self.write(rel, enc.finish().unwrap())
    }

    /// The billrisk binary, run in this folder.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("billrisk").expect("binary");
        c.current_dir(self.dir.path());
        c.env("NO_COLOR", "1");
        c
    }

    pub fn table(&self, out: &str, name: &str) -> DataFrame {
        let p = self.path(&format!("{out}/tables/{name}.parquet"));
        let f = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        ParquetReader::new(f).finish().unwrap()
    }

    pub fn json(&self, rel: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.path(rel)).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// A minimal valid input folder: one usage file, invoices, payments.
pub fn minimal_inputs(w: &Workdir, root: &str) {
    w.write(
        &format!("{root}/usage/usage.csv"),
        "CustomerId,CustomerName,UsageDate,MeterCategory,EntitlementId,Quantity,BillingPreTaxTotal,BillingCurrency\n\
         AAAA-1,Contoso,11/01/2026,Virtual Machines,SUB-1,24,10.5,USD\n\
         aaaa-1,Contoso,11/02/2026,Virtual Machines,sub-1,24,11.5,USD\n",
    );
    w.write(
        &format!("{root}/receivables/invoices.csv"),
        "invoice_id,customer_id,issue_date,due_date,amount,currency,service_month\n\
         INV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD,2026-09\n",
    );
    w.write(
        &format!("{root}/receivables/payments.csv"),
        "payment_id,customer_id,invoice_id,payment_date,amount,currency,instrument\n\
         PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card\n",
    );
}

pub fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
    df.column(c)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(|s| s.to_string()))
        .collect()
}

pub fn f64s(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
    df.column(c)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

pub fn sha256_tree(dir: &Path) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    format!("{:x}", Sha256::digest(&bytes)),
                ));
            }
        }
    }
    out.sort();
    out
}

impl Workdir {
    /// A Parquet file anywhere.
    pub fn table_at(&self, dir: &Path, rel: &str) -> DataFrame {
        let p = dir.join(rel);
        let f = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        ParquetReader::new(f).finish().unwrap()
    }
}
