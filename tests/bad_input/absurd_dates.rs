//! Row rejected in usage, billed, invoices and payments: a valid calendar date outside 1990-01-01
//! to 2100-12-31 (1900-01-01, 2999-01-01, 9999-12-31) is "expected a date between 1990-01-01 and
//! 2100-12-31, found '...'", so it cannot move the as-of date to 9999 or age an invoice by
//! millions of days. Other sources keep any calendar date (a disposition valid until 9999-12-31).

use super::*;

#[test]
fn far_future_and_1900_dates_are_rejected_in_usage_and_the_ledger() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/invoices.csv",
        format!(
            "{INVOICES_HEADER}INV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD,\n\
             INV-2,aaaa-1,1900-01-01,1900-01-31,10,USD,\n\
             INV-3,aaaa-1,2026-10-01,9999-12-31,20,USD,\n\
             INV-4,aaaa-1,2999-01-01,2999-01-31,30,USD,\n\
             INV-5,aaaa-1,2100-12-31,2100-12-31,40,USD,\n"
        ),
    );
    w.write(
        "in/receivables/payments.csv",
        format!(
            "{PAYMENTS_HEADER}PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card\n\
             PAY-2,aaaa-1,INV-1,1900-01-05,5,USD,card\n"
        ),
    );
    w.write(
        "in/usage/far.csv",
        format!(
            "{USAGE_HEADER}aaaa-1,12/31/9999,1.5,USD\n\
             aaaa-1,01/01/1900,2.5,USD\n\
             aaaa-1,11/02/2026,3.0,USD\n"
        ),
    );
    w.write(
        "in/dispositions.csv",
        "customer_id,reason_code,verdict,valid_until,analyst,note\n\
         aaaa-1,spend_spike,planned,9999-12-31,ana,for good\n",
    );
    let ran = run_ok(&w, true, &[]);
    let why =
        |found: &str| format!("expected a date between 1990-01-01 and 2100-12-31, found '{found}'");
    assert_eq!(ran.counts("receivables/invoices.csv"), (5, 2, 3));
    let inv = ran.rejected_in("receivables/invoices.csv");
    assert_eq!(
        inv.iter()
            .map(|r| (r.line, r.column.as_str(), r.reason.clone()))
            .collect::<Vec<_>>(),
        [
            (3, "issue_date", why("1900-01-01")),
            (4, "due_date", why("9999-12-31")),
            (5, "issue_date", why("2999-01-01")),
        ]
    );
    assert_eq!(ran.counts("receivables/payments.csv"), (2, 1, 1));
    assert_eq!(
        ran.lines_in("receivables/payments.csv"),
        [(3, "payment_date".into())]
    );
    assert_eq!(ran.counts("usage/far.csv"), (3, 1, 2));
    let usage = ran.rejected_in("usage/far.csv");
    assert_eq!(usage[0].reason, why("12/31/9999"));
    assert_eq!(usage[1].reason, why("01/01/1900"));
    assert_eq!(ran.counts("dispositions.csv"), (1, 1, 0));
    // The as-of date stays the last real usage day, and INV-1 is 2 days past due.
    assert_eq!(ran.manifest["as_of"], "2026-11-02");
    // INV-5 (issued 2100-12-31, the last date allowed) is in the ledger, not yet issued at A.
    assert_eq!(col_text(&w, "aging_invoices", "invoice_id"), ["INV-1"]);
    assert_eq!(col_text(&w, "aging_invoices", "days_past_due"), ["2"]);
    assert_eq!(col_text(&w, "aging_invoices", "outstanding"), ["60.0000"]);
    // 10.5 + 11.5 + 3.0
    assert_eq!(f64_sum(&w, "usage_daily", "cost"), 25.0);
}
