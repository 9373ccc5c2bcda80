//! Accepted, adding no rows: a zero-byte file (CSV, gzip of nothing, JSON) is read as an empty
//! file: 0 rows read in the manifest, nothing rejected. A required source whose only file is
//! empty still runs (no invoices: a payment naming INV-1 becomes unapplied credit).

use super::*;

#[test]
fn zero_byte_files_add_no_rows() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write("in/usage/empty.csv", "");
    w.write_gz("in/usage/empty.csv.gz", "");
    w.write("in/activity/empty.json", "");
    w.write("in/fraud_events.json", "");
    let ran = run_ok(&w, false, &[]);
    for f in [
        "usage/empty.csv",
        "usage/empty.csv.gz",
        "activity/empty.json",
        "fraud_events.json",
    ] {
        assert_eq!(ran.counts(f), (0, 0, 0), "{f}");
    }
    assert!(ran.rejected.is_empty());
    assert_eq!(w.table("out", "usage_daily").height(), 2);
    assert_eq!(f64_sum(&w, "usage_daily", "cost"), 22.0); // 10.5 + 11.5
}

#[test]
fn an_empty_invoices_file_leaves_payments_unapplied() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write("in/receivables/invoices.csv", "");
    let ran = run_ok(&w, false, &[]);
    assert_eq!(ran.counts("receivables/invoices.csv"), (0, 0, 0));
    assert_eq!(w.table("out", "aging_invoices").height(), 0);
    assert_eq!(
        col_text(&w, "unapplied_credit", "kind"),
        ["unknown_invoice"]
    );
    assert_eq!(col_text(&w, "unapplied_credit", "amount"), ["40.0000"]);
}
