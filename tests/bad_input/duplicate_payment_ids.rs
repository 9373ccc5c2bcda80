//! Row rejected: a payment_id already seen (first by file name, then line) rejects the later row,
//! column payment_id, "expected a unique payment_id, found 'PAY-1' again (first at line 2)", so a
//! payment exported twice is not applied twice.

use super::*;

#[test]
fn a_repeated_payment_id_is_rejected_and_applied_once() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/payments.csv",
        format!(
            "{PAYMENTS_HEADER}PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card\n\
             PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card\n\
             PAY-2,aaaa-1,INV-1,2026-10-25,5.00,USD,card\n"
        ),
    );
    w.write(
        "in/receivables/payments_late.csv",
        format!("{PAYMENTS_HEADER}PAY-2,aaaa-1,INV-1,2026-10-25,5.00,USD,card\n"),
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("receivables/payments.csv"), (3, 2, 1));
    assert_eq!(ran.counts("receivables/payments_late.csv"), (1, 0, 1));
    let rej: Vec<&Rej> = ran
        .rejected
        .iter()
        .filter(|r| r.source == "payments")
        .collect();
    assert_eq!(rej.len(), 2);
    assert_eq!((rej[0].line, rej[0].column.as_str()), (3, "payment_id"));
    assert_eq!(
        rej[0].reason,
        "expected a unique payment_id, found 'PAY-1' again (first at line 2)"
    );
    assert_eq!(rej[0].raw, "PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card");
    assert_eq!(
        (rej[1].file.as_str(), rej[1].line),
        ("receivables/payments_late.csv", 2)
    );
    assert_eq!(
        rej[1].reason,
        "expected a unique payment_id, found 'PAY-2' again (first at receivables/payments.csv line 4)"
    );
    // 100 - 40 - 5, not 100 - 40 - 40 - 5 - 5.
    assert_eq!(col_text(&w, "aging_invoices", "paid"), ["45.0000"]);
    assert_eq!(col_text(&w, "aging_invoices", "outstanding"), ["55.0000"]);
}
