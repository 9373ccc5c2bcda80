//! Run fails with a message (exit 1, --out untouched): a file without a required column names the
//! file, the column, the header names it accepts and the columns it found.

use super::*;

#[test]
fn missing_required_column_names_file_column_expected_and_found() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/usage/usage.csv",
        "CustomerId,UsageDate,BillingCurrency\nc1,11/01/2026,USD\n",
    );
    run_fails(
        &w,
        &[
            "usage.csv",
            "missing required column cost",
            "billingpretaxtotal",
            "found columns [CustomerId, UsageDate, BillingCurrency]",
        ],
    );
}

#[test]
fn missing_ledger_column_is_named_too() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/invoices.csv",
        "invoice_id,customer_id,issue_date,amount,currency\nINV-1,aaaa-1,2026-10-01,100.00,USD\n",
    );
    run_fails(
        &w,
        &[
            "invoices.csv: missing required column due_date; expected one of [duedate], \
             found columns [invoice_id, customer_id, issue_date, amount, currency]",
        ],
    );
}
