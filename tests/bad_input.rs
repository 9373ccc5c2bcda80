//! Bad input: a clear error naming file, column, expected and found (exit 1, --out untouched), or
//! a row in rejected_rows with its line number; never a panic.

use crate::common::*;
use predicates::prelude::*;

fn sentinel(w: &Workdir) {
    w.write("out/sentinel.txt", "earlier run");
}

fn out_unchanged(w: &Workdir) {
    assert_eq!(
        std::fs::read_to_string(w.path("out/sentinel.txt")).unwrap(),
        "earlier run"
    );
    assert_eq!(std::fs::read_dir(w.path("out")).unwrap().count(), 1);
}

#[test]
fn missing_required_column_names_file_column_expected_and_found() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/usage/usage.csv",
        "CustomerId,UsageDate,BillingCurrency\nc1,11/01/2026,USD\n",
    );
    sentinel(&w);
    w.cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("usage.csv"))
        .stderr(predicate::str::contains("missing required column cost"))
        .stderr(predicate::str::contains("billingpretaxtotal"))
        .stderr(predicate::str::contains(
            "found columns [CustomerId, UsageDate, BillingCurrency]",
        ));
    out_unchanged(&w);
}

#[test]
fn missing_required_source_is_named() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    std::fs::remove_file(w.path("in/receivables/payments.csv")).unwrap();
    sentinel(&w);
    w.cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing required input payments"))
        .stderr(predicate::str::contains("receivables/payments"));
    out_unchanged(&w);
    w.cmd()
        .args(["run", "--input", "no-such-folder", "--out", "out"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no-such-folder"));
}

#[test]
fn malformed_rows_go_to_rejected_rows_with_their_lines() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let mut text = String::from("CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency\n");
    for i in 0..200 {
        text.push_str(&format!("c1,11/{:02}/2026,1.0,USD\n", (i % 28) + 1));
    }
    text.push_str("c1,13/45/2026,1.0,USD\n"); // line 202: bad date
    text.push_str("c1,11/01/2026,abc,USD\n"); // line 203: bad money
    text.push_str("c1,11/01/2026,1.0\n"); // line 204: wrong field count
    text.push_str("c1,11/01/2026,1.0,US\n"); // line 205: bad currency
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"c1,11/01/2026,1.0,\xff\xfe\n"); // line 206: invalid UTF-8
    bytes.extend_from_slice(b"c1,11/0"); // line 207: truncated last line
    w.write("in/usage/u.csv", bytes);
    w.cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .success();
    let rej = w.table("out", "rejected_rows");
    assert_eq!(
        strs(&rej, "line"),
        ["202", "203", "204", "205", "206", "207"].map(|s| Some(s.to_string()))
    );
    let reasons = strs(&rej, "reason");
    assert!(reasons[0]
        .as_deref()
        .unwrap()
        .contains("found '13/45/2026'"));
    assert!(reasons[1].as_deref().unwrap().contains("found 'abc'"));
    assert!(reasons[2]
        .as_deref()
        .unwrap()
        .contains("expected 4 fields as in the header, found 3"));
    assert!(reasons[4].as_deref().unwrap().contains("UTF-8"));
    assert_eq!(strs(&rej, "column")[0].as_deref(), Some("UsageDate"));
    assert_eq!(
        strs(&rej, "raw")[0].as_deref(),
        Some("c1,13/45/2026,1.0,USD")
    );
    let m = w.json("out/manifest.json");
    let f = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "usage/u.csv")
        .unwrap()
        .clone();
    assert_eq!(f["rows_read"], 206);
    assert_eq!(f["rejected"], 6);
    assert_eq!(f["accepted"], 200);
    // The accepted rows are all there: 200 x 1.0, plus minimal_inputs' 10.5 + 11.5.
    let daily = w.table("out", "usage_daily");
    let total: f64 = f64s(&daily, "cost").into_iter().flatten().sum();
    assert_eq!(total, 222.0);
}

#[test]
fn too_many_rejected_rows_fail_the_run_and_leave_out_alone() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/usage/u.csv",
        "CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency\nc1,11/01/2026,x,USD\nc1,11/01/2026,1,USD\n",
    );
    sentinel(&w);
    w.cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "source usage: 1 of 4 rows rejected (25.0 %)",
        ));
    out_unchanged(&w);
    // validate says the same and exits 1.
    w.cmd()
        .args(["validate", "--input", "in"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("usage"))
        .stdout(predicate::str::contains("u.csv:2 BillingPreTaxTotal"));
}

#[test]
fn zero_byte_and_header_only_files_add_no_rows() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write("in/usage/empty.csv", "");
    w.write(
        "in/usage/header_only.csv",
        "CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency\n",
    );
    w.cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .assert()
        .success();
    let daily = w.table("out", "usage_daily");
    assert_eq!(daily.height(), 2);
}

#[test]
fn unreadable_file_names_the_file_and_leaves_out_alone() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    // A .csv.gz that is not gzip at all: the file cannot be read, the run stops.
    w.write("in/usage/broken.csv.gz", "this is not gzip data\n");
    sentinel(&w);
    w.cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read"))
        .stderr(predicate::str::contains("broken.csv.gz"));
    out_unchanged(&w);
}
