//! Run fails with a message (exit 1, --out untouched): a required source without any file names
//! the source and the path expected; an input folder that does not exist is named.

use super::*;

#[test]
fn missing_required_source_is_named() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    std::fs::remove_file(w.path("in/receivables/payments.csv")).unwrap();
    run_fails(
        &w,
        &["missing required input payments", "receivables/payments"],
    );
}

#[test]
fn missing_input_folder_is_named() {
    let w = Workdir::new();
    sentinel(&w);
    w.cmd()
        .args(["run", "--input", "no-such-folder", "--out", "out"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no-such-folder"));
    out_unchanged(&w);
}
