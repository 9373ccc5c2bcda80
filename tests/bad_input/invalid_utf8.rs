//! Row rejected where a row has bytes that are not UTF-8 (reason names UTF-8, line and raw text
//! kept); run fails with a message (exit 1, --out untouched) when the header itself is not UTF-8
//! and so no required column can be matched.

use super::*;

#[test]
fn a_row_with_invalid_utf8_is_rejected() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let mut bytes = INVOICES_HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"INV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD,2026-09\n");
    bytes.extend_from_slice(b"INV-2,aaaa-1,2026-10-01,2026-10-31,7.00,USD,\xc3\x28\n");
    bytes.extend_from_slice(b"INV-3,aaaa-1,2026-10-01,2026-10-31,3.00,USD,2026-09\n");
    w.write("in/receivables/invoices.csv", bytes);
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("receivables/invoices.csv"), (3, 2, 1));
    let rej = ran.rejected_in("receivables/invoices.csv");
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].line, 3);
    assert!(rej[0].reason.contains("UTF-8"), "{}", rej[0].reason);
    assert!(
        rej[0].raw.starts_with("INV-2,aaaa-1,2026-10-01"),
        "{}",
        rej[0].raw
    );
    // INV-2 is not in the ledger: 60 (INV-1) + 3 (INV-3).
    assert_eq!(
        col_text(&w, "aging_customers", "total_outstanding"),
        ["63.0000"]
    );
}

#[test]
fn a_header_with_invalid_utf8_fails_naming_the_column() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/invoices.csv",
        b"invoice_id,customer_id,issue_date,due_\xff_date,amount,currency\nINV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD\n",
    );
    run_fails(
        &w,
        &[
            "invoices.csv: missing required column due_date",
            "expected one of [duedate]",
        ],
    );
}
