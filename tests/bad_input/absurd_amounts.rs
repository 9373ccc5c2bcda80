//! Accepted up to 10^18 in either sign, exactly (1e15 is 1000000000000000.0000, -0 is 0); beyond
//! (1E+400, 34 nines, a 9e27 usage cost) the row is rejected: "expected an amount (a number)
//! between -1000000000000000000 and 1000000000000000000, found '...'". Before this bound such
//! values overflowed the exact sums and panicked.

use super::*;

#[test]
fn ledger_amounts_up_to_1e18_are_exact_and_beyond_are_rejected() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let nines = "9".repeat(34);
    w.write(
        "in/receivables/invoices.csv",
        format!(
            "{INVOICES_HEADER}INV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD,\n\
             INV-2,aaaa-1,2026-10-01,2026-10-31,1000000000000000,USD,\n\
             INV-3,aaaa-1,2026-10-01,2026-10-31,-0,USD,\n\
             INV-4,aaaa-1,2026-10-01,2026-10-31,1E+400,USD,\n\
             INV-5,aaaa-1,2026-10-01,2026-10-31,1e15,USD,\n\
             INV-6,aaaa-1,2026-10-01,2026-10-31,{nines},USD,\n\
             INV-7,aaaa-1,2026-10-01,2026-10-31,{nines},USD,\n\
             INV-8,aaaa-1,2026-10-01,2026-10-31,999999999999999999.9999,USD,\n"
        ),
    );
    w.write(
        "in/receivables/payments.csv",
        format!(
            "{PAYMENTS_HEADER}PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card\n\
             PAY-2,aaaa-1,INV-6,2026-10-20,{nines},USD,card\n\
             PAY-3,aaaa-1,INV-3,2026-10-20,-0.00,USD,card\n"
        ),
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("receivables/invoices.csv"), (8, 5, 3));
    assert_eq!(ran.counts("receivables/payments.csv"), (3, 2, 1));
    let range = "expected an amount between -1000000000000000000 and 1000000000000000000, found '";
    let inv = ran.rejected_in("receivables/invoices.csv");
    assert_eq!(
        inv.iter()
            .map(|r| (r.line, r.column.as_str()))
            .collect::<Vec<_>>(),
        [(5, "amount"), (7, "amount"), (8, "amount")]
    );
    // 1E+400 is no decimal at all; 34 nines is one, out of range.
    assert_eq!(
        inv[0].reason,
        "expected an amount with at most 4 decimals (1234.56), found '1E+400'"
    );
    assert_eq!(inv[1].reason, format!("{range}{nines}'"));
    let pay = ran.rejected_in("receivables/payments.csv");
    assert_eq!(
        (pay[0].line, pay[0].reason.clone()),
        (3, format!("{range}{nines}'"))
    );
    assert_eq!(
        col_text(&w, "aging_invoices", "invoice_id"),
        ["INV-1", "INV-2", "INV-3", "INV-5", "INV-8"]
    );
    assert_eq!(
        col_text(&w, "aging_invoices", "amount"),
        [
            "100.0000",
            "1000000000000000.0000",
            "0.0000",
            "1000000000000000.0000",
            "999999999999999999.9999"
        ]
    );
    // Exact to the last digit: 60 + 10^15 + 10^15 + (10^18 - 0.0001).
    assert_eq!(
        col_text(&w, "aging_customers", "total_outstanding"),
        ["1002000000000000059.9999"]
    );
}

#[test]
fn usage_costs_beyond_1e18_are_rejected_not_summed_as_nothing() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/usage/big.csv",
        format!(
            "{USAGE_HEADER}aaaa-1,11/02/2026,9e27,USD\n\
             aaaa-1,11/02/2026,9e27,USD\n\
             aaaa-1,11/02/2026,1e15,USD\n\
             aaaa-1,11/02/2026,-0,USD\n"
        ),
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("usage/big.csv"), (4, 2, 2));
    let rej = ran.rejected_in("usage/big.csv");
    assert_eq!(
        rej.iter()
            .map(|r| (r.line, r.column.as_str()))
            .collect::<Vec<_>>(),
        [(2, "BillingPreTaxTotal"), (3, "BillingPreTaxTotal")]
    );
    assert_eq!(
        rej[0].reason,
        "expected a number between -1000000000000000000 and 1000000000000000000, found '9e27'"
    );
    // 10.5 + 11.5 + 1e15 + 0, to f64 precision: the cost sum goes through Decimal(38, 10), and
    // 1e15 x 10^10 is not exact in f64 (it comes back as 1e15 + 0.09).
    let total = f64_sum(&w, "usage_daily", "cost");
    assert!((total - (1e15 + 22.0)).abs() < 0.5, "{total}");
}
