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
fn query_results_go_to_standard_output_as_csv_or_json() {
    let out = sample_run();
    let w = Workdir::new();
    let sql = "SELECT customer_id, tier, risk_score FROM risk_scores ORDER BY customer_id";
    let to_stdout = |extra: &[&str]| {
        let output = w
            .cmd()
            .args(["query", sql, "--out"])
            .arg(out)
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    // `--output -` is CSV on standard output, the same bytes as the CSV file.
    let csv = to_stdout(&["--output", "-"]);
    w.cmd()
        .args(["query", sql, "--output", "r.csv", "--out"])
        .arg(out)
        .assert()
        .success();
    assert_eq!(csv, std::fs::read_to_string(w.path("r.csv")).unwrap());
    assert!(csv.starts_with("customer_id,tier,risk_score\n"), "{csv}");
    let rows = csv.lines().count() - 1;
    assert_eq!(rows, 100);
    // --format json to standard output: an array of objects, one per row, in column order.
    let json: serde_json::Value = serde_json::from_str(&to_stdout(&["--format", "json"])).unwrap();
    let array = json.as_array().unwrap();
    assert_eq!(array.len(), rows);
    let first_csv_row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(array[0]["customer_id"], first_csv_row[0]);
    assert_eq!(array[0]["tier"], first_csv_row[1]);
    // --format wins over a file's extension.
    w.cmd()
        .args([
            "query", sql, "--format", "json", "--output", "r.txt", "--out",
        ])
        .arg(out)
        .assert()
        .success();
    let from_file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("r.txt")).unwrap()).unwrap();
    assert_eq!(from_file, json);
}

#[test]
fn a_reader_that_stops_early_ends_the_query_quietly() {
    use std::io::Read;
    let out = sample_run();
    // Every usage row as CSV: megabytes, far more than a pipe holds, so billrisk is still writing
    // when the reader goes away (as with `billrisk query ... | head -1`).
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("billrisk"))
        .args(["query", "SELECT * FROM usage", "--format", "csv", "--out"])
        .arg(out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
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
    // The sample has alerts in its last 7 days: a table of them, with its row count.
    let printed = String::from_utf8_lossy(&explicit.stdout);
    assert!(
        printed.contains("2026-11-1") && printed.contains(" rows"),
        "{printed}"
    );
}
