//! The command line as a user meets it: the bundled sample run, exit codes, init, help.

use crate::common::*;
use predicates::prelude::*;

#[test]
fn run_with_no_arguments_uses_the_bundled_sample_and_accounts_for_every_row() {
    let w = Workdir::new();
    w.cmd()
        .arg("run")
        .assert()
        .success()
        .stderr(predicate::str::contains("bundled sample data"))
        .stderr(predicate::str::contains("as-of date"));
    for t in ["usage_daily", "rejected_rows"] {
        assert!(
            w.path(&format!("billrisk-out/tables/{t}.parquet")).exists(),
            "{t}"
        );
    }
    let manifest = w.json("billrisk-out/manifest.json");
    let inputs = manifest["inputs"].as_array().unwrap();
    assert!(!inputs.is_empty());
    for f in inputs {
        let read = f["rows_read"].as_u64().unwrap();
        let acc = f["accepted"].as_u64().unwrap();
        let rej = f["rejected"].as_u64().unwrap();
        assert_eq!(read, acc + rej, "{}", f["file"]);
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
    // usage_daily's rows sum to the accepted usage rows.
    let daily = w.table("billrisk-out", "usage_daily");
    let rows: u64 = daily
        .column("rows")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .map(u64::from)
        .sum();
    let accepted_usage: u64 = inputs
        .iter()
        .filter(|f| f["source"] == "usage")
        .map(|f| f["accepted"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, accepted_usage);
}

#[test]
fn init_prints_a_commented_config_that_run_accepts() {
    let w = Workdir::new();
    let out = w
        .cmd()
        .arg("init")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("max_rejected_share"));
    w.write("billrisk.toml", &text);
    minimal_inputs(&w, "in");
    w.cmd()
        .args([
            "run",
            "--input",
            "in",
            "--out",
            "out",
            "--config",
            "billrisk.toml",
        ])
        .assert()
        .success();
    // init --out refuses to overwrite.
    w.cmd()
        .args(["init", "--out", "billrisk.toml"])
        .assert()
        .code(2);
}

#[test]
fn bad_config_is_a_usage_error_and_names_the_key() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write("bad.toml", "[input]\nmax_rejected_shar = 0.1\n");
    w.cmd()
        .args([
            "run", "--input", "in", "--out", "out", "--config", "bad.toml",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains("max_rejected_shar"));
    assert!(!w.path("out").exists());
    w.cmd()
        .args(["run", "--input", "in", "--as-of", "2026-13-01"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--as-of"));
    w.cmd().args(["run", "--bogus"]).assert().code(2);
}

/// A risk tier that is no tier, in `report.review_min_tier` or in `collections.risk_step_tiers`
/// (which used to match nothing, silently), is a config error naming the line and the value.
#[test]
fn an_unknown_risk_tier_in_the_config_is_a_usage_error() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    for (name, toml) in [
        ("review.toml", "[report]\nreview_min_tier = \"severe\"\n"),
        (
            "steps.toml",
            "[collections]\nrisk_step_tiers = [\"High\", \"severe\"]\n",
        ),
    ] {
        w.write(name, toml);
        w.cmd()
            .args(["run", "--input", "in", "--out", "out", "--config", name])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(name))
            .stderr(predicate::str::contains("line 2"))
            .stderr(predicate::str::contains(
                "expected low, medium, high or critical, found \"severe\"",
            ));
        assert!(!w.path("out").exists());
    }
}

#[test]
fn help_has_examples() {
    let w = Workdir::new();
    for sub in ["run", "validate", "query", "generate", "init"] {
        w.cmd()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"));
    }
}

#[test]
fn as_of_defaults_to_the_last_usage_date_and_a_rerun_is_byte_identical() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["run", "--input", "in", "--out", "a"])
        .assert()
        .success();
    w.cmd()
        .args(["run", "--input", "in", "--out", "b"])
        .assert()
        .success();
    assert_eq!(w.json("a/manifest.json")["as_of"], "2026-11-02");
    assert_eq!(
        sha256_tree(&w.path("a/tables")),
        sha256_tree(&w.path("b/tables"))
    );
}

/// An error's cause (the system's or a library's error) is printed on a "caused by" line of its
/// own after billrisk's message, not flattened into it.
#[test]
fn errors_print_their_cause_chain() {
    let w = Workdir::new();
    let out = w
        .cmd()
        .args(["run", "--config", "missing.toml"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: config missing.toml: cannot read the file\n  caused by: "),
        "{err}"
    );
    assert!(err.contains("(os error 2)"), "{err}");
    let out = w
        .cmd()
        .args(["query", "-f", "missing.sql"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: query missing.sql: cannot read the query file\n  caused by: "),
        "{err}"
    );

    // A previous run whose manifest is not JSON: billrisk's words, then serde_json's.
    w.write("prev/manifest.json", "not json");
    let out = w
        .cmd()
        .args(["run", "--previous", "prev", "--out", "out"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("manifest.json: expected JSON (the previous run's output is damaged"),
        "{err}"
    );
    assert!(
        err.contains("\n  caused by: expected ident at line 1"),
        "{err}"
    );
}
