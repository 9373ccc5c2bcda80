//! Accepted, not applied: a payment in another currency than the invoice it names is never netted
//! 1:1 against it; it becomes unapplied credit of the customer in the payment's currency (kind
//! currency_mismatch, with the reason in words) and the invoice stays open.

use super::*;

#[test]
fn a_payment_in_another_currency_is_credit_not_a_payment_of_the_invoice() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/payments.csv",
        format!(
            "{PAYMENTS_HEADER}PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card\n\
             PAY-2,aaaa-1,INV-1,2026-10-21,30.00,EUR,card\n"
        ),
    );
    let ran = run_ok(&w, false, &[]);
    assert_eq!(ran.counts("receivables/payments.csv"), (2, 2, 0));
    assert!(ran.rejected.is_empty());
    // INV-1 (USD 100): only the USD 40 applies.
    assert_eq!(col_text(&w, "aging_invoices", "paid"), ["40.0000"]);
    assert_eq!(col_text(&w, "aging_invoices", "outstanding"), ["60.0000"]);
    assert_eq!(
        col_text(&w, "unapplied_credit", "kind"),
        ["currency_mismatch"]
    );
    assert_eq!(col_text(&w, "unapplied_credit", "source_id"), ["PAY-2"]);
    assert_eq!(col_text(&w, "unapplied_credit", "currency"), ["EUR"]);
    assert_eq!(col_text(&w, "unapplied_credit", "amount"), ["30.0000"]);
    let reason = &col_text(&w, "unapplied_credit", "reason")[0];
    assert!(
        reason.starts_with("payment PAY-2 of 30.00 EUR on 2026-10-21 names invoice INV-1"),
        "{reason}"
    );
    assert!(reason.contains("USD"), "{reason}");
    // One aging line per currency: EUR holds the credit, USD the debt.
    assert_eq!(col_text(&w, "aging_customers", "currency"), ["EUR", "USD"]);
    assert_eq!(
        col_text(&w, "aging_customers", "total_outstanding"),
        ["0.0000", "60.0000"]
    );
    assert_eq!(
        col_text(&w, "aging_customers", "unapplied_credit"),
        ["30.0000", "0.0000"]
    );
    assert_eq!(
        col_text(&w, "aging_customers", "net_outstanding"),
        ["-30.0000", "60.0000"]
    );
}
