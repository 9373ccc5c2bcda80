//! Accepted, adding no rows: a file with only its header (with or without a final newline, with a
//! BOM) is 0 rows read; its columns are still checked.

use super::*;

#[test]
fn header_only_files_add_no_rows() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write("in/usage/header_only.csv", USAGE_HEADER);
    w.write(
        "in/usage/header_no_newline.csv",
        USAGE_HEADER.trim_end_matches('\n'),
    );
    w.write(
        "in/receivables/invoices_more.csv",
        format!("\u{feff}{INVOICES_HEADER}"),
    );
    let ran = run_ok(&w, false, &[]);
    for f in [
        "usage/header_only.csv",
        "usage/header_no_newline.csv",
        "receivables/invoices_more.csv",
    ] {
        assert_eq!(ran.counts(f), (0, 0, 0), "{f}");
    }
    assert!(ran.rejected.is_empty());
    assert_eq!(w.table("out", "usage_daily").height(), 2);
    assert_eq!(col_text(&w, "aging_invoices", "outstanding"), ["60.0000"]);
}

#[test]
fn a_header_only_file_missing_a_column_still_fails() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/usage/header_only.csv",
        "CustomerId,UsageDate,BillingCurrency\n",
    );
    run_fails(&w, &["header_only.csv", "missing required column cost"]);
}
