//! Every shipped query in queries/ runs against the bundled sample's output, through the binary,
//! without parameters, with its result snapshotted; one answer is checked against the pipeline's
//! own tables.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::common::*;
use crate::scenarios::sample_run;

/// The bundled sample run as of 2026-11-14, then as of 2026-11-15 into the same --out (compared
/// with it): an output with changes, shared by the tests of this module (read-only).
fn sample_pair_run() -> &'static PathBuf {
    static RUN: OnceLock<(Workdir, PathBuf)> = OnceLock::new();
    &RUN.get_or_init(|| {
        let w = Workdir::new();
        w.cmd()
            .args(["run", "-q", "--as-of", "2026-11-14"])
            .assert()
            .success();
        w.cmd().args(["run", "-q"]).assert().success();
        let out = w.path("billrisk-out");
        (w, out)
    })
    .1
}

fn shipped() -> Vec<std::path::PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/queries");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_query_runs_on_the_sample_with_a_snapshot() {
    let out = sample_pair_run();
    let files = shipped();
    assert!(files.len() >= 10, "only {} queries", files.len());
    for q in files {
        let name = q.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&q).unwrap();
        let w = Workdir::new();
        let mut cmd = w.cmd();
        // No --param: {{as_of}} is the run's as-of date, from its manifest.
        cmd.args(["query", "-f"]).arg(&q).arg("--out").arg(out);
        let output = cmd.output().unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        if text.contains("{{as_of}}") {
            assert!(
                String::from_utf8_lossy(&output.stderr).contains("{{as_of}} = 2026-11-15"),
                "{name}: as_of not defaulted"
            );
        }
        insta::assert_snapshot!(format!("query_{name}"), stdout);
    }
}

#[test]
fn changes_query_lists_the_changes_table_of_the_pair() {
    let out = sample_pair_run();
    let w = Workdir::new();
    let q = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/queries/changes_since_last_run.sql"
    );
    w.cmd()
        .args(["query", "-f", q, "--output", "q.csv", "--out"])
        .arg(out)
        .assert()
        .success();
    let text = std::fs::read_to_string(w.path("q.csv")).unwrap();
    let rows = csv::Reader::from_reader(text.as_bytes()).records().count();
    let changes = w.table_at(out, "tables/changes.parquet");
    assert_eq!(rows, changes.height());
    assert!(rows > 0, "a day of the sample changes nothing?");
}

#[test]
fn review_queue_lists_exactly_the_pipeline_s_review_customers() {
    let out = sample_run();
    let w = Workdir::new();
    let q = concat!(env!("CARGO_MANIFEST_DIR"), "/queries/review_queue.sql");
    w.cmd()
        .args(["query", "-f", q, "--output", "q.csv", "--out"])
        .arg(out)
        .assert()
        .success();
    let text = std::fs::read_to_string(w.path("q.csv")).unwrap();
    let mut from_query: Vec<String> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    from_query.sort();
    // The pipeline's risk_scores: customers at medium or above.
    let scores = w.table_at(out, "tables/risk_scores.parquet");
    let ids = strs(&scores, "customer_id");
    let tiers = strs(&scores, "tier");
    let mut expected: Vec<String> = ids
        .into_iter()
        .zip(tiers)
        .filter(|(_, t)| matches!(t.as_deref(), Some("medium" | "high" | "critical")))
        .map(|(i, _)| i.unwrap())
        .collect();
    expected.sort();
    assert_eq!(from_query, expected);
    assert!(!expected.is_empty());
}

#[test]
fn as_of_defaults_to_the_computed_run_without_out() {
    // No --out: the tables are computed from the bundled sample, as of its last usage date.
    let w = Workdir::new();
    let q = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/queries/anomalies_last_7_days.sql"
    );
    let with_default = w.cmd().args(["query", "-f", q]).output().unwrap();
    assert!(with_default.status.success());
    assert!(String::from_utf8_lossy(&with_default.stderr).contains("{{as_of}} = 2026-11-15"));
    let explicit = w
        .cmd()
        .args(["query", "-f", q, "--param", "as_of=2026-11-15"])
        .output()
        .unwrap();
    assert_eq!(with_default.stdout, explicit.stdout);
    assert!(String::from_utf8_lossy(&explicit.stdout).contains("rows)"));
}
