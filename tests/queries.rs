//! Every shipped query in queries/ runs against the bundled sample's output, through the binary,
//! with its result snapshotted; one answer is checked against the pipeline's own tables.

use crate::common::*;
use crate::scenarios::sample_run;

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
    let out = sample_run();
    let files = shipped();
    assert!(files.len() >= 10, "only {} queries", files.len());
    for q in files {
        let name = q.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&q).unwrap();
        let w = Workdir::new();
        let mut cmd = w.cmd();
        cmd.args(["query", "-f"]).arg(&q).arg("--out").arg(out);
        if text.contains("{{as_of}}") {
            cmd.args(["--param", "as_of=2026-11-15"]);
        }
        let output = cmd.output().unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        insta::assert_snapshot!(format!("query_{name}"), stdout);
    }
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
