//! Row rejected: an invoice_id already seen (first by file name, then line) rejects the later row,
//! column invoice_id, "expected a unique invoice_id, found 'INV-1' again (first at line 2)" (or
//! "first at <file> line N" across files), so payments apply once and the ledger is not
//! double-counted.

use super::*;

#[test]
fn a_repeated_invoice_id_is_rejected_and_counted_once() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/invoices.csv",
        format!(
            "{INVOICES_HEADER}INV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD,2026-09\n\
             INV-2,aaaa-1,2026-10-01,2026-10-31,10.00,USD,2026-09\n\
             INV-1,aaaa-1,2026-10-05,2026-11-04,50.00,USD,2026-09\n"
        ),
    );
    // An overlapping second export repeats INV-2 and adds INV-3.
    w.write(
        "in/receivables/invoices_2026-10.csv",
        format!(
            "{INVOICES_HEADER}INV-2,aaaa-1,2026-10-01,2026-10-31,10.00,USD,2026-09\n\
             INV-3,aaaa-1,2026-10-20,2026-11-19,7.00,USD,2026-09\n"
        ),
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("receivables/invoices.csv"), (3, 2, 1));
    assert_eq!(ran.counts("receivables/invoices_2026-10.csv"), (2, 1, 1));
    let rej: Vec<&Rej> = ran
        .rejected
        .iter()
        .filter(|r| r.source == "invoices")
        .collect();
    assert_eq!(rej.len(), 2);
    assert_eq!(
        (rej[0].file.as_str(), rej[0].line, rej[0].column.as_str()),
        ("receivables/invoices.csv", 4, "invoice_id")
    );
    assert_eq!(
        rej[0].reason,
        "expected a unique invoice_id, found 'INV-1' again (first at line 2)"
    );
    assert_eq!(
        rej[0].raw,
        "INV-1,aaaa-1,2026-10-05,2026-11-04,50.00,USD,2026-09"
    );
    assert_eq!(
        (rej[1].file.as_str(), rej[1].line),
        ("receivables/invoices_2026-10.csv", 2)
    );
    assert_eq!(
        rej[1].reason,
        "expected a unique invoice_id, found 'INV-2' again (first at receivables/invoices.csv line 3)"
    );
    // One row per id; the payment of 40 applies to the first INV-1 (amount 100).
    assert_eq!(
        col_text(&w, "aging_invoices", "invoice_id"),
        ["INV-1", "INV-2", "INV-3"]
    );
    assert_eq!(
        col_text(&w, "aging_invoices", "amount"),
        ["100.0000", "10.0000", "7.0000"]
    );
    assert_eq!(
        col_text(&w, "aging_invoices", "paid"),
        ["40.0000", "0.0000", "0.0000"]
    );
    // 60 + 10 + 7, not 60 + 50 + 10 + 10 + 7.
    assert_eq!(
        col_text(&w, "aging_customers", "total_outstanding"),
        ["77.0000"]
    );
}

#[test]
fn one_repeated_invoice_in_many_stays_under_the_rejected_limit() {
    // The default limit (5 %) still applies: 1 repeat among 40 invoices passes.
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let mut text = String::from(INVOICES_HEADER);
    for i in 1..=40 {
        text.push_str(&format!("INV-{i},aaaa-1,2026-10-01,2026-10-31,1.00,USD,\n"));
    }
    text.push_str("INV-40,aaaa-1,2026-10-01,2026-10-31,1.00,USD,\n");
    w.write("in/receivables/invoices.csv", text);
    let ran = run_ok(&w, false, &[]);
    assert_eq!(ran.counts("receivables/invoices.csv"), (41, 40, 1));
    assert_eq!(
        ran.lines_in("receivables/invoices.csv"),
        [(42, "invoice_id".into())]
    );
    assert_eq!(w.table("out", "aging_invoices").height(), 40);
    // INV-2..INV-40 open at 1.00 each; the 40.00 payment overpays INV-1 (1.00) by 39.00.
    assert_eq!(
        col_text(&w, "aging_customers", "total_outstanding"),
        ["39.0000"]
    );
    assert_eq!(
        col_text(&w, "aging_customers", "unapplied_credit"),
        ["39.0000"]
    );
}
