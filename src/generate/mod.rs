//! `billrisk generate`: a deterministic synthetic input folder in exactly the layout of SPEC
//! section 3 and the real formats of FORMATS.md, with planted risk scenarios (crypto mining,
//! stolen card, account takeover, chronic non-payer, budget blowout) and benign look-alikes, from
//! a customer count, a number of days, a seed and an end date. Same spec, same bytes: every
//! random draw comes from a ChaCha8 stream keyed by seed, purpose and customer (`world`), no map
//! is iterated in hash order and no wall clock is read.
//!
//! `world` builds the model (customers, subscriptions, meters, daily quantities and costs, FX);
//! `usage`, `ledger` and `activity` render it into files. SAMPLE_README.md documents the layout,
//! every quirk and the scenario ids for the bundled sample data.

pub mod activity;
pub mod ledger;
pub mod usage;
pub mod world;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The README placed beside the bundled sample data.
pub const SAMPLE_README: &str = include_str!("SAMPLE_README.md");

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSpec {
    pub customers: usize,
    pub days: u32,
    pub seed: u64,
    /// The last usage date: the natural as-of date of the data.
    pub end: chrono::NaiveDate,
    pub out: PathBuf,
    /// Write usage as Parquet (dates DATE, amounts DOUBLE, the rest text, as a conversion tool
    /// writes them) instead of CSV.
    pub parquet: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedFile {
    pub path: PathBuf,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSummary {
    /// Every file written, sorted by path.
    pub files: Vec<GeneratedFile>,
    pub usage_rows: u64,
}

pub(crate) fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::output(path.to_path_buf(), e)
}

/// A buffered output file, gzip-compressed or not.
pub(crate) enum FileSink {
    Plain(BufWriter<File>),
    Gzip(Box<flate2::write::GzEncoder<BufWriter<File>>>),
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            FileSink::Plain(w) => w.write(buf),
            FileSink::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            FileSink::Plain(w) => w.flush(),
            FileSink::Gzip(w) => w.flush(),
        }
    }
}

impl FileSink {
    pub(crate) fn finish(self) -> std::io::Result<()> {
        match self {
            FileSink::Plain(mut w) => w.flush(),
            FileSink::Gzip(w) => w.finish()?.flush(),
        }
    }
}

pub(crate) fn create_file(path: &Path, gzip: bool) -> Result<FileSink> {
    let f = File::create(path).map_err(|e| io_err(path, e))?;
    let w = BufWriter::with_capacity(1 << 20, f);
    Ok(if gzip {
        // mtime 0 and no file name: the gzip header must not depend on the clock.
        FileSink::Gzip(Box::new(
            flate2::GzBuilder::new()
                .mtime(0)
                .write(w, flate2::Compression::default()),
        ))
    } else {
        FileSink::Plain(w)
    })
}

/// Appends one CSV field, quoted when it holds a delimiter, a quote, a line break or edge spaces.
pub(crate) fn csv_field(buf: &mut Vec<u8>, s: &str) {
    let needs = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || s.starts_with(' ')
        || s.ends_with(' ');
    if !needs {
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    buf.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

/// Writes a small CSV file (header plus rows) under `out`.
pub(crate) fn write_csv<S: AsRef<str>>(
    out: &Path,
    rel: &str,
    header: &[&str],
    rows: &[Vec<S>],
) -> Result<GeneratedFile> {
    let path = out.join(rel);
    let mut w = create_file(&path, false)?;
    let mut line = Vec::with_capacity(512);
    let mut put = |w: &mut FileSink, fields: &mut dyn Iterator<Item = &str>| -> Result<()> {
        line.clear();
        for (k, f) in fields.enumerate() {
            if k > 0 {
                line.push(b',');
            }
            csv_field(&mut line, f);
        }
        line.push(b'\n');
        w.write_all(&line).map_err(|e| io_err(&path, e))
    };
    put(&mut w, &mut header.iter().copied())?;
    for r in rows {
        put(&mut w, &mut r.iter().map(|s| s.as_ref()))?;
    }
    w.finish().map_err(|e| io_err(&path, e))?;
    Ok(GeneratedFile {
        path,
        rows: rows.len() as u64,
    })
}

/// Writes the whole input folder for `spec`. `out` must be absent or empty.
pub fn generate(spec: &GenerateSpec) -> Result<GenerateSummary> {
    let out = &spec.out;
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| io_err(out, e))?;
        if entries.next().is_some() {
            return Err(Error::output(
                out.clone(),
                "the folder is not empty; generate writes only into an absent or empty folder",
            ));
        }
    }
    if spec.customers == 0 || spec.days == 0 {
        return Err(Error::config(
            "generate",
            format!(
                "--customers and --days must be at least 1, found {} and {}",
                spec.customers, spec.days
            ),
        ));
    }
    for dir in ["usage", "billed", "receivables", "activity"] {
        let p = out.join(dir);
        std::fs::create_dir_all(&p).map_err(|e| io_err(&p, e))?;
    }

    let w = world::build(spec.customers, spec.days, spec.seed, spec.end);
    let daily: Vec<Vec<f64>> = w
        .customers
        .iter()
        .map(|c| c.daily_cost(w.dates.len()))
        .collect();

    let mut files = usage::write_all(&w, out, spec.parquet)?;
    let usage_rows = files.iter().map(|f| f.rows).sum();
    files.extend(ledger::write_billed(&w, out)?);
    let l = ledger::ledger(&w, &daily);
    files.extend(ledger::write_receivables(&w, out, &l)?);
    files.push(ledger::write_budgets(&w, out, &daily)?);
    files.push(ledger::write_customers(&w, out)?);
    files.push(ledger::write_fx(&w, out)?);
    files.push(ledger::write_dispositions(&w, out)?);
    files.push(ledger::write_labels(&w, out)?);
    files.extend(activity::write_activity(&w, out)?);
    files.push(activity::write_fraud_events(&w, out)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(GenerateSummary { files, usage_rows })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Read;

    use chrono::{Duration, NaiveDate};
    use sha2::{Digest, Sha256};

    use super::*;

    fn end() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 15).unwrap()
    }

    fn spec(out: &Path, seed: u64) -> GenerateSpec {
        GenerateSpec {
            customers: 30,
            days: 75,
            seed,
            end: end(),
            out: out.to_path_buf(),
            parquet: false,
        }
    }

    fn hashes(root: &Path) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                    m.insert(
                        rel,
                        format!("{:x}", Sha256::digest(std::fs::read(&p).unwrap())),
                    );
                }
            }
        }
        m
    }

    /// Text of a file, gunzipped when it ends in .gz.
    fn text(p: &Path) -> Vec<u8> {
        let raw = std::fs::read(p).unwrap();
        if p.to_string_lossy().ends_with(".gz") {
            let mut s = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut s)
                .unwrap();
            s
        } else {
            raw
        }
    }

    fn norm(h: &str) -> String {
        h.trim_start_matches('\u{feff}')
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    }

    /// Rows of a CSV file as maps of normalised column name to value.
    fn rows(p: &Path) -> Vec<BTreeMap<String, String>> {
        let bytes = text(p);
        let mut r = csv::Reader::from_reader(&bytes[..]);
        let header: Vec<String> = r.headers().unwrap().iter().map(norm).collect();
        r.records()
            .map(|rec| {
                header
                    .iter()
                    .cloned()
                    .zip(rec.unwrap().iter().map(String::from))
                    .collect()
            })
            .collect()
    }

    fn usage_files(root: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root.join("usage"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    }

    fn us_date(s: &str) -> NaiveDate {
        let d = s.split(' ').next().unwrap();
        let p: Vec<u32> = d.split('/').map(|x| x.parse().unwrap()).collect();
        NaiveDate::from_ymd_opt(p[2] as i32, p[0], p[1]).unwrap()
    }

    fn label_of(root: &Path, scenario: &str) -> String {
        rows(&root.join("labels.csv"))
            .into_iter()
            .find(|r| r["scenario"] == scenario)
            .unwrap()["customerid"]
            .clone()
    }

    #[test]
    fn same_seed_gives_identical_bytes_and_another_seed_differs() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let sa = generate(&spec(a.path(), 7)).unwrap();
        generate(&spec(b.path(), 7)).unwrap();
        generate(&spec(c.path(), 8)).unwrap();
        let (ha, hb, hc) = (hashes(a.path()), hashes(b.path()), hashes(c.path()));
        assert_eq!(ha, hb);
        assert_eq!(ha.len(), sa.files.len());
        assert_ne!(ha.get("customers.csv"), hc.get("customers.csv"));
        assert_ne!(
            ha.get("receivables/invoices.csv"),
            hc.get("receivables/invoices.csv")
        );
        // 30 customers x 75 days x 3 to 9 meters
        assert!(
            sa.usage_rows > 30 * 75 * 3 && sa.usage_rows < 30 * 75 * 12,
            "{}",
            sa.usage_rows
        );
    }

    #[test]
    fn refuses_a_non_empty_output_folder() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("x"), "x").unwrap();
        match generate(&spec(d.path(), 1)) {
            Err(Error::Output { path, .. }) => assert_eq!(path, d.path()),
            other => panic!("expected Error::Output, got {other:?}"),
        }
    }

    #[test]
    fn writes_every_file_of_the_layout() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 3)).unwrap();
        let root = d.path();
        for f in [
            "receivables/invoices.csv",
            "receivables/payments.csv",
            "budgets.csv",
            "customers.csv",
            "fraud_events.json",
            "fx_rates.csv",
            "dispositions.csv",
            "labels.csv",
            "activity/audit_records.json",
            "activity/diag_202611.jsonl",
            "activity/diag_records_202611.json",
            "activity/rest_202611.json",
            "activity/portal_202611.csv",
            "usage/UnbilledUsage_202611_c001.csv",
        ] {
            assert!(root.join(f).is_file(), "{f} missing");
        }
        let usage: Vec<String> = usage_files(root)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // 75 days ending 2026-11-15 span Sep, Oct, Nov: 3 months x 2 parts.
        assert_eq!(usage.len(), 6, "{usage:?}");
        assert!(usage
            .iter()
            .any(|n| n.starts_with('G') && n.contains("_BilledUsage_c000")));
        assert!(std::fs::read_dir(root.join("billed")).unwrap().count() >= 2);
        // the hostile names are there, CSV-quoted
        let names: Vec<String> = rows(&root.join("customers.csv"))
            .into_iter()
            .map(|r| r["customername"].clone())
            .collect();
        assert!(names.contains(&"=HYPERLINK(\"http://x\")".to_string()));
        assert!(names.contains(&"<script>alert(1)</script>".to_string()));
        assert!(names.iter().any(|n| n.contains(", ")));
    }

    #[test]
    fn usage_header_has_the_55_columns_in_order() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 3)).unwrap();
        let last = usage_files(d.path()).pop().unwrap();
        let t = text(&last);
        let header = std::str::from_utf8(&t).unwrap().lines().next().unwrap();
        let cols: Vec<&str> = header.split(',').collect();
        assert_eq!(cols, usage::USAGE_COLUMNS.to_vec());
        assert_eq!(cols.len(), 55);
        assert_eq!(&cols[52..], ["BenefitId", "BenefitOrderId", "BenefitType"]);
    }

    #[test]
    fn labels_name_each_planted_scenario_as_often_as_planted() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 5)).unwrap();
        let labels = rows(&d.path().join("labels.csv"));
        assert_eq!(labels.len(), 30);
        for s in world::PLANTED {
            assert_eq!(
                labels.iter().filter(|r| r["scenario"] == s.id()).count(),
                world::PLANTED.iter().filter(|p| **p == s).count(),
                "{}",
                s.id()
            );
        }
        // Crypto mining, stolen card, account takeover and the three linked-ring members.
        assert_eq!(
            labels.iter().filter(|r| r["expected"] == "fraud").count(),
            6
        );
        assert_eq!(
            labels.iter().filter(|r| r["expected"] == "benign").count(),
            4 + 5 + 3 + 2
        );
        assert_eq!(
            labels.iter().filter(|r| r["scenario"] == "normal").count(),
            30 - 24
        );
        // Every fraud has its first day, nothing else has one.
        for r in &labels {
            assert_eq!(
                r["expected"] == "fraud",
                !r["firstfraudday"].is_empty(),
                "{r:?}"
            );
        }
        let mut ring: Vec<String> = labels
            .iter()
            .filter(|r| r["scenario"] == "linked_ring")
            .map(|r| r["customername"].clone())
            .collect();
        ring.sort();
        assert_eq!(
            ring,
            [
                "Bluefin Trading 01 Ltd",
                "Bluefin Trading 02 Ltd",
                "Bluefin Trading 03 Ltd"
            ]
        );
    }

    #[test]
    fn chronic_non_payer_stopped_paying_over_120_days_before_end() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 11)).unwrap();
        let id = label_of(d.path(), "chronic_non_payer");
        let pays: Vec<NaiveDate> = rows(&d.path().join("receivables/payments.csv"))
            .into_iter()
            .filter(|r| r["customerid"] == id)
            .map(|r| NaiveDate::parse_from_str(&r["paymentdate"], "%Y-%m-%d").unwrap())
            .collect();
        assert!(!pays.is_empty());
        assert!(
            pays.iter().all(|p| *p < end() - Duration::days(120)),
            "{pays:?}"
        );
        // and it has unpaid invoices more than 120 and 91-120 days past due
        let overdue: Vec<i64> = rows(&d.path().join("receivables/invoices.csv"))
            .into_iter()
            .filter(|r| r["customerid"] == id)
            .map(|r| {
                (end() - NaiveDate::parse_from_str(&r["duedate"], "%Y-%m-%d").unwrap()).num_days()
            })
            .filter(|dpd| *dpd > 0 && (end() - Duration::days(*dpd)) >= end() - Duration::days(160))
            .collect();
        assert!(
            overdue.iter().any(|d| *d > 120) && overdue.iter().any(|d| (91..=120).contains(d)),
            "{overdue:?}"
        );
    }

    #[test]
    fn stolen_card_customer_is_new_and_pays_by_prepaid_card() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 12)).unwrap();
        let id = label_of(d.path(), "stolen_card");
        let c = rows(&d.path().join("customers.csv"))
            .into_iter()
            .find(|r| r["customerid"] == id)
            .unwrap();
        let created = NaiveDate::parse_from_str(&c["createddate"], "%Y-%m-%d").unwrap();
        assert!(end() - created <= Duration::days(14));
        assert_eq!(c["verified"], "false");
        let pays: Vec<_> = rows(&d.path().join("receivables/payments.csv"))
            .into_iter()
            .filter(|r| r["customerid"] == id)
            .collect();
        assert_eq!(pays.len(), 1);
        assert_eq!(pays[0]["instrument"], "prepaid_card");
    }

    #[test]
    fn gpu_meters_appear_for_crypto_mining_and_the_gpu_look_alikes_only() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 13)).unwrap();
        let id = label_of(d.path(), "crypto_mining");
        let expansion = label_of(d.path(), "gpu_expansion");
        let trial = label_of(d.path(), "gpu_trial");
        let mut gpu_rows = 0;
        let mut normal_rows_before = 0;
        let mut expansion_nodes: BTreeMap<String, NaiveDate> = BTreeMap::new();
        let mut trial_rows = vec![];
        for f in usage_files(d.path()) {
            for r in rows(&f) {
                let gpu = r["metersubcategory"].contains("NCv3")
                    || r["metersubcategory"].contains("ND A100");
                let date = us_date(&r["usagedate"]);
                let qty = r["quantity"].trim_start_matches('\'').to_string();
                if gpu && r["customerid"] == expansion {
                    assert_eq!(qty, "24.000000");
                    let node = r["resourceuri"].to_ascii_lowercase();
                    let first = expansion_nodes.entry(node).or_insert(date);
                    *first = (*first).min(date);
                } else if gpu && r["customerid"] == trial {
                    trial_rows.push((date, qty));
                } else if gpu {
                    gpu_rows += 1;
                    assert_eq!(r["customerid"], id);
                    assert!(date >= end() - Duration::days(4), "{date}");
                    assert_eq!(qty, "24.000000");
                } else if r["customerid"] == id && date < end() - Duration::days(4) {
                    normal_rows_before += 1;
                }
            }
        }
        // 4 GPU VMs x 5 days, and an established history before them.
        assert_eq!(gpu_rows, 20);
        assert!(normal_rows_before > 100);
        // Two nodes all along, two more from 4 days before end.
        let mut firsts: Vec<NaiveDate> = expansion_nodes.values().copied().collect();
        firsts.sort();
        assert_eq!(firsts.len(), 4, "{expansion_nodes:?}");
        assert!(firsts[1] < end() - Duration::days(30));
        assert_eq!(firsts[2..], [end() - Duration::days(4); 2]);
        // The trial: one row, 5 hours, 3 days before end.
        assert_eq!(
            trial_rows,
            [(end() - Duration::days(3), "5.000000".to_string())]
        );
    }

    #[test]
    fn every_usage_quirk_appears_in_the_bytes() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 21)).unwrap();
        let files = usage_files(d.path());
        let texts: Vec<Vec<u8>> = files.iter().map(|p| text(p)).collect();
        let has = |needle: &[u8]| {
            texts
                .iter()
                .any(|t| t.windows(needle.len()).any(|w| w == needle))
        };
        assert!(has(b"E-0"), "scientific notation");
        assert!(has(b",'"), "apostrophe guard");
        assert!(has(b"\r\n"), "CRLF");
        assert!(
            texts.iter().any(|t| t.starts_with(&[0xEF, 0xBB, 0xBF])),
            "BOM"
        );
        assert!(has(b" 00:00,"), "legacy time");
        let gz: Vec<&PathBuf> = files
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
            .collect();
        assert_eq!(gz.len(), 1);
        assert_eq!(&std::fs::read(gz[0]).unwrap()[..2], &[0x1f, 0x8b]);
        let shuffled = texts
            .iter()
            .find(|t| t.windows(13).any(|w| w == b"UnitOfMeasure"))
            .expect("renamed header");
        let header = std::str::from_utf8(shuffled)
            .unwrap()
            .lines()
            .next()
            .unwrap();
        assert!(
            header.contains("ResourceUri")
                && header.contains("MPNID")
                && !header.starts_with("PartnerId")
        );
        // non-padded dates (9/1/2026-like) in one file, zero-padded in the others
        let non_padded = texts
            .iter()
            .filter(|t| {
                !t.windows(4)
                    .any(|w| w == b",09/" || w == b",10/" || w == b",11/")
            })
            .count();
        assert!(non_padded >= 1);
        // JSON text in Tags is quoted with its inner quotes doubled
        assert!(has(b"\"{\"\"env\"\":"));
    }

    #[test]
    fn budget_blowout_forecast_crosses_before_mtd() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 17)).unwrap();
        let w = world::build(30, 75, 17, end());
        let c = w
            .customers
            .iter()
            .find(|c| c.scenario == world::Scenario::BudgetBlowout)
            .unwrap();
        let budget: f64 = rows(&d.path().join("budgets.csv"))
            .into_iter()
            .find(|r| r["customerid"] == c.id)
            .unwrap()["budget"]
            .parse()
            .unwrap();
        let daily = c.daily_cost(w.dates.len());
        let n = daily.len();
        // mtd and forecast as of end - back
        let at = |back: usize| {
            let mut w2 = world::build(1, 1, 0, end() - Duration::days(back as i64));
            w2.dates = w.dates[..n - back].to_vec();
            w2.start = w.start;
            ledger::mtd_and_forecast(&w2, &daily[..n - back])
        };
        let (mtd_end, _) = at(0);
        let (mtd_prev, _) = at(1);
        let (mtd_3, forecast_3) = at(3);
        assert!(
            mtd_prev < budget && budget <= mtd_end,
            "{mtd_prev} {budget} {mtd_end}"
        );
        assert!(
            mtd_3 < budget && forecast_3 >= budget,
            "{mtd_3} {forecast_3} {budget}"
        );
    }

    #[test]
    fn parquet_usage_has_the_same_rows() {
        let d = tempfile::tempdir().unwrap();
        let mut s = spec(d.path(), 4);
        s.customers = 12;
        s.days = 10;
        s.parquet = true;
        let sum = generate(&s).unwrap();
        let pq: Vec<_> = sum
            .files
            .iter()
            .filter(|f| f.path.extension().is_some_and(|e| e == "parquet"))
            .collect();
        assert!(!pq.is_empty());
        let total: u64 = pq.iter().map(|f| f.rows).sum();
        assert_eq!(total, sum.usage_rows);
        // Typed as a conversion tool writes it: dates DATE, amounts DOUBLE, every value present.
        use polars::prelude::*;
        let df = ParquetReader::new(std::fs::File::open(&pq[0].path).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.height() as u64, pq[0].rows);
        for (name, dtype) in [
            ("UsageDate", DataType::Date),
            ("BillingPreTaxTotal", DataType::Float64),
            ("Quantity", DataType::Float64),
            ("CustomerId", DataType::String),
        ] {
            let c = df.column(name).unwrap();
            assert_eq!(c.dtype(), &dtype, "{name}");
            assert_eq!(c.null_count(), 0, "{name}");
        }
    }

    #[test]
    fn tiny_and_one_day_specs_do_not_panic() {
        for (customers, days) in [(1, 1), (5, 2), (12, 31), (25, 400)] {
            let d = tempfile::tempdir().unwrap();
            let mut s = spec(d.path(), 9);
            s.customers = customers;
            s.days = days;
            let sum = generate(&s).unwrap();
            assert!(sum.usage_rows > 0, "{customers} x {days}");
        }
    }

    #[test]
    fn activity_has_every_shape_quirk_and_the_takeover() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 23)).unwrap();
        let act = d.path().join("activity");
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(act.join("diag_202611.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(
            lines.iter().any(|r| r.get("resourceId").is_none()),
            "record without resourceId"
        );
        assert!(
            lines.iter().any(|r| r["durationMs"].is_string())
                && lines.iter().any(|r| r["durationMs"].is_number())
        );
        assert!(lines.iter().any(|r| r["operationName"]
            .as_str()
            .is_some_and(|o| o.starts_with("MICROSOFT."))));
        assert!(lines.iter().any(|r| r["time"]
            .as_str()
            .is_some_and(|t| t.ends_with(" AM") || t.ends_with(" PM"))));
        assert!(lines
            .iter()
            .any(|r| r["properties"]["responseBody"].is_string()));
        // the takeover: a never-seen caller assigns Owner, then bursts of VM writes and failures
        let ato = label_of(d.path(), "account_takeover");
        let ato_tenant = |r: &&serde_json::Value| {
            r["identity"]["claims"]["http://schemas.microsoft.com/identity/claims/tenantid"]
                == ato.as_str()
        };
        let owner = lines
            .iter()
            .filter(ato_tenant)
            .find(|r| r["properties"]["requestbody"].is_string())
            .expect("role assignment");
        let attacker = owner["identity"]["claims"]
            ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(attacker.starts_with("support.admin@"));
        let by_attacker: Vec<_> = lines
            .iter()
            .filter(ato_tenant)
            .filter(|r| {
                r["identity"]["claims"]["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"]
                    == attacker.as_str()
            })
            .collect();
        assert!(
            by_attacker
                .iter()
                .filter(|r| r["resultType"] == "Failure")
                .count()
                >= 20
        );
        let records: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(act.join("diag_records_202611.json")).unwrap(),
        )
        .unwrap();
        assert!(records["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["properties"]["responseBody"].is_object()));
        let rest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(act.join("rest_202611.json")).unwrap())
                .unwrap();
        assert!(
            rest[0]["operationName"]["value"].is_string()
                && rest[0]["httpRequest"]["clientIpAddress"].is_string()
        );
        let portal = rows(&act.join("portal_202611.csv"));
        assert!(!portal.is_empty() && portal[0].contains_key("eventinitiatedby"));
        let audit: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(act.join("audit_records.json")).unwrap())
                .unwrap();
        let ops: Vec<&str> = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["customerId"] == ato.as_str())
            .map(|r| r["operationType"].as_str().unwrap())
            .collect();
        for op in [
            "increase_spending_limit",
            "create_customer_user",
            "reset_customer_user_password",
        ] {
            assert!(ops.contains(&op), "{op}");
        }
        let fraud: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.path().join("fraud_events.json")).unwrap(),
        )
        .unwrap();
        let crypto = label_of(d.path(), "crypto_mining");
        let ev = fraud
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["customerTenantId"] == crypto.as_str())
            .unwrap();
        assert_eq!(ev["eventType"], "NetworkConnectionsToCryptoMiningPools");
        assert_eq!(ev["lastOccurrence"], "9999-12-31T23:59:59.997");
        assert!(ev["hitCount"].is_string());
    }

    #[test]
    fn invoices_tie_to_usage_and_billed_cost_times_the_markup() {
        let d = tempfile::tempdir().unwrap();
        generate(&spec(d.path(), 31)).unwrap();
        let w = world::build(30, 75, 31, end());
        let oct = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        // October lies wholly inside the usage window (Sep 2 - Nov 15): no estimated part.
        let mut usage: BTreeMap<String, f64> = BTreeMap::new();
        for f in usage_files(d.path()) {
            for r in rows(&f) {
                let day = us_date(&r["usagedate"]);
                if day >= oct && day < NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() {
                    *usage.entry(r["customerid"].clone()).or_default() +=
                        r["billingpretaxtotal"].parse::<f64>().unwrap();
                }
            }
        }
        let mut billed: BTreeMap<String, f64> = BTreeMap::new();
        for e in std::fs::read_dir(d.path().join("billed")).unwrap() {
            let p = e.unwrap().path();
            for r in rows(&p) {
                if us_date(&r["chargestartdate"]) == oct {
                    *billed.entry(r["customerid"].clone()).or_default() +=
                        r["total"].parse::<f64>().unwrap();
                }
            }
        }
        let invoices = rows(&d.path().join("receivables/invoices.csv"));
        let mut checked = 0;
        for c in w.customers.iter().filter(|c| c.created < w.start) {
            let inv = invoices
                .iter()
                .find(|r| {
                    r["customerid"] == c.id
                        && r["servicemonth"] == "2026-10"
                        && !r["invoiceid"].starts_with("CN")
                })
                .unwrap();
            let cost = usage.get(&c.id).copied().unwrap_or(0.0)
                + billed.get(&c.id).copied().unwrap_or(0.0);
            let amount: f64 = inv["amount"].parse().unwrap();
            assert!(
                (amount - cost * c.markup).abs() < 0.01,
                "{}: {amount} vs {cost} x {}",
                c.id,
                c.markup
            );
            checked += 1;
        }
        assert!(checked >= 20);
    }

    /// Writes a dataset for a look by hand: BILLRISK_GEN_OUT=/tmp/x cargo test --lib generate -- --ignored
    #[test]
    #[ignore]
    fn write_dataset_for_inspection() {
        let out = PathBuf::from(
            std::env::var("BILLRISK_GEN_OUT").unwrap_or_else(|_| "/tmp/billrisk-gen".into()),
        );
        let customers = std::env::var("BILLRISK_GEN_CUSTOMERS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(100);
        let days = std::env::var("BILLRISK_GEN_DAYS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(75);
        let t = std::time::Instant::now();
        let s = generate(&GenerateSpec {
            customers,
            days,
            seed: 42,
            end: end(),
            out,
            parquet: false,
        })
        .unwrap();
        eprintln!("{} usage rows in {:?}", s.usage_rows, t.elapsed());
        for f in s.files {
            eprintln!("{:>9} {}", f.rows, f.path.display());
        }
    }
}
