//! Run fails with a message (exit 1, --out untouched) when a source's rejected share passes
//! input.max_rejected_share (5 % by default); `validate` says the same and lists the rows.

use super::*;
use predicates::prelude::*;

#[test]
fn too_many_rejected_rows_fail_the_run_and_leave_out_alone() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/usage/u.csv",
        "CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency\nc1,11/01/2026,x,USD\nc1,11/01/2026,1,USD\n",
    );
    // 1 rejected of 4 usage rows (2 in usage.csv, 2 in u.csv).
    run_fails(&w, &["source usage: 1 of 4 rows rejected (25.0 %)"]);
    w.cmd()
        .args(["validate", "--input", "in"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("usage"))
        .stdout(predicate::str::contains("u.csv:2 BillingPreTaxTotal"));
    // The same inputs pass with a higher limit, the row in rejected_rows.
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("usage/u.csv"), (2, 1, 1));
    assert_eq!(
        ran.lines_in("usage/u.csv"),
        [(2, "BillingPreTaxTotal".into())]
    );
}
