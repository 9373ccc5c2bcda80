//! The planted scenarios of `billrisk generate`, end to end through the binary: what each issue's
//! "done when" promises, checked on the bundled sample and on freshly generated data.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::common::*;
use polars::prelude::*;
use predicates::prelude::*;

/// One run of the bundled sample, shared by the tests of this module (read-only).
pub fn sample_run() -> &'static PathBuf {
    static RUN: OnceLock<(Workdir, PathBuf)> = OnceLock::new();
    &RUN.get_or_init(|| {
        let w = Workdir::new();
        w.cmd().args(["run", "-q"]).assert().success();
        let out = w.path("billrisk-out");
        (w, out)
    })
    .1
}

fn read(out: &std::path::Path, rel: &str) -> DataFrame {
    let f = std::fs::File::open(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    ParquetReader::new(f).finish().unwrap()
}

fn labels() -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/sample_data/labels.csv"
    ))
    .unwrap();
    label_map(&text)
}

fn label_map(text: &str) -> BTreeMap<String, (String, String)> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), (r[2].to_string(), r[3].to_string()))
        })
        .collect()
}

fn customer_of(labels: &BTreeMap<String, (String, String)>, scenario: &str) -> String {
    labels
        .iter()
        .find(|(_, (s, _))| s == scenario)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no {scenario} in labels"))
}

/// Exact ledger sums: Decimal(38, 4) read through its text, in ten-thousandths.
fn units(df: &DataFrame, col: &str) -> Vec<i128> {
    strs(df, col)
        .into_iter()
        .map(|v| {
            let s = v.unwrap_or_else(|| "0".into());
            let neg = s.starts_with('-');
            let t = s.trim_start_matches('-');
            let (i, f) = t.split_once('.').unwrap_or((t, ""));
            let f = format!("{f:0<4}");
            let v: i128 = i.parse::<i128>().unwrap() * 10_000 + f[..4].parse::<i128>().unwrap();
            if neg {
                -v
            } else {
                v
            }
        })
        .collect()
}

fn row_of(df: &DataFrame, key: &str, value: &str) -> DataFrame {
    df.clone()
        .lazy()
        .filter(col(key).eq(lit(value.to_string())))
        .collect()
        .unwrap()
}

#[test]
fn chronic_non_payer_is_in_the_oldest_buckets_with_suspend_or_write_off_review() {
    let out = sample_run();
    let who = customer_of(&labels(), "chronic_non_payer");
    let aging = row_of(
        &read(out, "tables/aging_customers.parquet"),
        "customer_id",
        &who,
    );
    assert_eq!(aging.height(), 1, "{aging}");
    let old: i128 = units(&aging, "bucket_91_120")[0] + units(&aging, "bucket_120_plus")[0];
    assert!(old > 0, "{aging}");
    let action = strs(&aging, "action")[0].clone().unwrap();
    assert!(
        ["suspend", "write_off_review"].contains(&action.as_str()),
        "{action}"
    );
    // And it is on the collections action list (CSV) with a reason in words.
    let csv_text = std::fs::read_to_string(out.join("actions/collections.csv")).unwrap();
    let line = csv_text
        .lines()
        .find(|l| l.contains(&who))
        .expect("in collections.csv");
    assert!(
        line.contains(&action) && line.contains("days past due"),
        "{line}"
    );
}

#[test]
fn ledger_totals_reconcile_to_the_cent_with_the_input_ledger() {
    let out = sample_run();
    let inv = read(out, "tables/aging_invoices.parquet");
    // Per invoice, exactly: outstanding = amount - paid (SPEC 4.1, negative for a credit note or
    // an overpaid invoice), and credit is what a credit note or an overpaid invoice leaves.
    let (a, p, o, c) = (
        units(&inv, "amount"),
        units(&inv, "paid"),
        units(&inv, "outstanding"),
        units(&inv, "credit"),
    );
    let status = strs(&inv, "status");
    for i in 0..inv.height() {
        assert_eq!(a[i] - p[i], o[i], "invoice row {i}");
        let leaves_credit = matches!(status[i].as_deref(), Some("credit_note" | "overpaid"));
        assert_eq!(
            c[i],
            if leaves_credit { -o[i] } else { 0 },
            "invoice row {i}"
        );
    }
    // Issued invoices are exactly the input invoices dated up to the as-of date.
    let input = read(out, "inputs/invoices.parquet");
    let as_of = NaiveDateLit::parse("2026-11-15");
    let issued: i128 = input
        .clone()
        .lazy()
        .filter(col("issue_date").lt_eq(lit(as_of)))
        .collect()
        .map(|df| units(&df, "amount").into_iter().sum())
        .unwrap();
    assert_eq!(issued, a.iter().sum::<i128>());
    // Customer totals are the sum of their open invoices' outstanding.
    let cust = read(out, "tables/aging_customers.parquet");
    let open: i128 = o.iter().filter(|v| **v > 50).sum();
    let total: i128 = units(&cust, "total_outstanding").into_iter().sum();
    assert_eq!(open, total);
}

/// Dates for literals in this module.
struct NaiveDateLit;
impl NaiveDateLit {
    fn parse(s: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
}

#[test]
fn budget_blowout_shows_forecast_over_before_over() {
    let w = Workdir::new();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/sample_data");
    let who = customer_of(&labels(), "budget_blowout");
    let status_on = |as_of: &str| {
        let out = format!("out-{as_of}");
        w.cmd()
            .args([
                "run", "-q", "--input", sample, "--out", &out, "--as-of", as_of,
            ])
            .assert()
            .success();
        let bs = row_of(&w.table(&out, "budget_status"), "customer_id", &who);
        strs(&bs, "status")[0].clone().unwrap()
    };
    assert_eq!(status_on("2026-11-13"), "forecast_over");
    assert_eq!(status_on("2026-11-15"), "over");
}

#[test]
fn budget_figures_match_a_hand_check_of_two_customers() {
    let out = sample_run();
    let usage = read(out, "inputs/usage.parquet");
    let status = read(out, "tables/budget_status.parquet");
    let labels = labels();
    for who in [
        customer_of(&labels, "budget_blowout"),
        customer_of(&labels, "steady_growth"),
    ] {
        // Recompute from the canonical usage, outside Polars' group-bys: mtd over Nov 1-15 and
        // the daily rate over Nov 9-15 (k = 7), then forecast = mtd + rate x 15 days left.
        let u = row_of(&usage, "customer_id", &who);
        let dates = strs(&u, "usage_date");
        let cost = f64s(&u, "cost");
        let (mut mtd, mut last7) = (0.0, 0.0);
        for (d, c) in dates.iter().zip(cost) {
            let d = d.clone().unwrap();
            if d.as_str() >= "2026-11-01" && d.as_str() <= "2026-11-15" {
                mtd += c.unwrap();
            }
            if d.as_str() >= "2026-11-09" && d.as_str() <= "2026-11-15" {
                last7 += c.unwrap();
            }
        }
        let row = row_of(&status, "customer_id", &who);
        let got_mtd = f64s(&row, "mtd_spend")[0].unwrap();
        let got_forecast = f64s(&row, "forecast")[0].unwrap();
        assert!((got_mtd - mtd).abs() < 1e-6, "{who}: {got_mtd} vs {mtd}");
        let forecast = mtd + last7 / 7.0 * 15.0;
        assert!(
            (got_forecast - forecast).abs() < 1e-6,
            "{who}: {got_forecast} vs {forecast}"
        );
        let budget = f64s(&row, "budget")[0].unwrap();
        assert!((f64s(&row, "utilization")[0].unwrap() - mtd / budget).abs() < 1e-9);
    }
    // The alerts CSV lists the blowout with what to do.
    let alerts = std::fs::read_to_string(out.join("actions/budget_alerts.csv")).unwrap();
    assert!(alerts.contains(&customer_of(&labels, "budget_blowout")));
}

/// Tiers of every labelled customer in a run: (scenario, expected, tier).
fn tiers(
    out: &std::path::Path,
    labels: &BTreeMap<String, (String, String)>,
) -> Vec<(String, String, String)> {
    let scores = read(out, "tables/risk_scores.parquet");
    let ids = strs(&scores, "customer_id");
    let tiers = strs(&scores, "tier");
    let by_id: BTreeMap<String, String> = ids
        .into_iter()
        .zip(tiers)
        .map(|(a, b)| (a.unwrap(), b.unwrap()))
        .collect();
    labels
        .iter()
        .map(|(id, (scenario, expected))| {
            (
                scenario.clone(),
                expected.clone(),
                by_id.get(id).cloned().unwrap_or_else(|| "low".into()),
            )
        })
        .collect()
}

/// The quality bar of issue 5: every planted fraud customer high or critical; no look-alike,
/// late payer, over-budget or normal customer high or critical.
fn assert_quality_bar(rows: &[(String, String, String)], context: &str) {
    let flagged = |t: &str| t == "high" || t == "critical";
    let fraud = rows.iter().filter(|r| r.1 == "fraud").count();
    let caught = rows
        .iter()
        .filter(|r| r.1 == "fraud" && flagged(&r.2))
        .count();
    let others = rows.len() - fraud;
    let false_pos = rows
        .iter()
        .filter(|r| r.1 != "fraud" && flagged(&r.2))
        .count();
    eprintln!(
        "quality bar, {context}: recall {caught}/{fraud}, false positives {false_pos}/{others} \
         (look-alikes, late payers, over-budget and normal customers at high or critical)"
    );
    for (scenario, expected, tier) in rows {
        if expected == "fraud" {
            assert!(flagged(tier), "{context}: {scenario} is only {tier}");
        } else {
            assert!(
                !flagged(tier),
                "{context}: {expected} customer ({scenario}) is {tier}"
            );
        }
    }
    // Crypto mining, stolen card, account takeover and the three members of the linked ring.
    assert_eq!(
        rows.iter().filter(|r| r.1 == "fraud").count(),
        6,
        "{context}"
    );
}

#[test]
fn quality_bar_holds_on_the_sample() {
    assert_quality_bar(&tiers(sample_run(), &labels()), "sample");
}

#[test]
fn quality_bar_holds_on_other_seeds_and_sizes() {
    for (customers, seed) in [(40, 1u64), (160, 7)] {
        let w = Workdir::new();
        w.cmd()
            .args([
                "-q",
                "generate",
                "--customers",
                &customers.to_string(),
                "--days",
                "60",
            ])
            .args(["--seed", &seed.to_string(), "--out", "gen"])
            .assert()
            .success();
        w.cmd()
            .args(["run", "-q", "--input", "gen", "--out", "out"])
            .assert()
            .success();
        let labels = label_map(&std::fs::read_to_string(w.path("gen/labels.csv")).unwrap());
        assert_quality_bar(
            &tiers(&w.path("out"), &labels),
            &format!("{customers} customers, seed {seed}"),
        );
    }
}

#[test]
fn fail_on_exits_3_when_a_customer_reaches_the_tier() {
    let w = Workdir::new();
    w.cmd()
        .args(["run", "-q", "--fail-on", "high"])
        .assert()
        .code(3);
    // The output was still written in full.
    assert!(w.path("billrisk-out/report.html").exists());
    // A tier nobody reaches leaves the exit code alone only when nobody reaches it: the sample has
    // a critical customer, so --fail-on critical exits 3 as well.
    w.cmd()
        .args(["run", "-q", "--fail-on", "critical"])
        .assert()
        .code(3);
    let review = std::fs::read_to_string(w.path("billrisk-out/actions/risk_review.csv")).unwrap();
    assert!(review.lines().count() >= 4, "{review}");
}

#[test]
fn reports_agree_with_the_tables() {
    let out = sample_run();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let cust = read(out, "tables/aging_customers.parquet");
    // Total outstanding per currency, exactly, as summary.json prints it (2 decimals).
    let currencies = strs(&cust, "currency");
    let totals = units(&cust, "total_outstanding");
    let mut by_cur: BTreeMap<String, i128> = BTreeMap::new();
    for (c, t) in currencies.into_iter().zip(totals) {
        *by_cur.entry(c.unwrap()).or_default() += t;
    }
    for (cur, t) in by_cur {
        let cents = (t + 50) / 100; // half away from zero for positive totals
        let text = format!("{}.{:02}", cents / 100, cents % 100);
        assert_eq!(
            summary["receivables"][&cur]["total_outstanding"],
            text.as_str(),
            "{cur}"
        );
    }
    let scores = read(out, "tables/risk_scores.parquet");
    let critical = strs(&scores, "tier")
        .iter()
        .filter(|t| t.as_deref() == Some("critical"))
        .count();
    assert_eq!(summary["customers_critical_risk"], critical as u64);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Self-contained: charts inline, nothing fetched (names may mention URLs, escaped as text).
    assert!(html.contains("<svg"));
    for external in ["src=\"http", "href=\"http", "url(http", "<link ", "@import"] {
        assert!(!html.contains(external), "report.html loads {external}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("2026-11-15"));
}

#[test]
fn runs_are_byte_identical_whatever_the_thread_count_and_engine() {
    let w = Workdir::new();
    // Compared with the day before, so changes and first_seen are tested too.
    w.cmd()
        .args(["run", "-q", "--as-of", "2026-11-14", "--out", "prev"])
        .assert()
        .success();
    // The sample is small, so its phases run on Polars' in-memory engine; "streaming" is the
    // engine of large runs (pipeline/collect.rs, phase_engine).
    for (threads, engine, out) in [
        ("1", None, "out1"),
        ("2", None, "out2"),
        ("2", Some("streaming"), "out_streaming"),
    ] {
        let mut cmd = w.cmd();
        if let Some(engine) = engine {
            cmd.env("BILLRISK_ENGINE", engine);
        }
        cmd.env("POLARS_MAX_THREADS", threads)
            .env("RAYON_NUM_THREADS", threads)
            .args(["run", "-q", "--previous", "prev", "--out", out])
            .assert()
            .success();
    }
    let a = sha256_tree(&w.path("out1/tables"));
    for other in ["out2", "out_streaming"] {
        assert_eq!(
            a,
            sha256_tree(&w.path(&format!("{other}/tables"))),
            "{other}"
        );
        assert_eq!(
            sha256_tree(&w.path("out1/inputs")),
            sha256_tree(&w.path(&format!("{other}/inputs"))),
            "{other}"
        );
        assert_eq!(
            std::fs::read(w.path("out1/report.html")).unwrap(),
            std::fs::read(w.path(&format!("{other}/report.html"))).unwrap(),
            "{other}"
        );
    }
    assert_eq!(a.len(), 15, "every table of SPEC 5 and more");
    assert!(
        w.table_at(&w.path("out1"), "tables/changes.parquet")
            .height()
            > 0
    );
}

#[test]
fn prepaid_customers_forecast_over_budget_in_one_command() {
    // The README's example question, answered from the bundled sample without an --out.
    let w = Workdir::new();
    let q = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/queries/prepaid_forecast_over_budget.sql"
    );
    w.cmd()
        .args(["query", "-q", "-f", q])
        .assert()
        .success()
        .stdout(predicate::str::contains("rows"));
}
