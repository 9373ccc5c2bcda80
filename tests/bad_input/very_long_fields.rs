//! Accepted when the long value is valid (a 1 MB customer name, a 100,000-character meter
//! category); row rejected when it is not (a 100,000-digit cost), with the found value in the
//! reason cut at 120 characters and the raw text at 2048 bytes. No panic, no blow-up.

use super::*;

#[test]
fn long_fields_are_kept_or_rejected_with_bounded_text() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let name = "N".repeat(1_000_000);
    let meter = "M".repeat(100_000);
    let digits = "9".repeat(100_000);
    w.write(
        "in/usage/long.csv",
        format!(
            "CustomerId,CustomerName,UsageDate,MeterCategory,BillingPreTaxTotal,BillingCurrency\n\
             aaaa-1,{name},11/02/2026,VM,1.25,USD\n\
             aaaa-1,Contoso,11/02/2026,VM,{digits},USD\n\
             aaaa-1,Contoso,11/02/2026,{meter},1.0,USD\n"
        ),
    );
    w.write(
        "in/customers.csv",
        format!(
            "customer_id,customer_name,country,created_date,verified,credit_limit\n\
             aaaa-1,{name},DE,2026-01-01,true,1000\n"
        ),
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("usage/long.csv"), (3, 2, 1));
    assert_eq!(ran.counts("customers.csv"), (1, 1, 0));
    let rej = ran.rejected_in("usage/long.csv");
    assert_eq!(
        (rej[0].line, rej[0].column.as_str()),
        (3, "BillingPreTaxTotal")
    );
    assert_eq!(
        rej[0].reason,
        format!(
            "expected a number (1234.56 or 9.99E-08), found '{}'",
            "9".repeat(120)
        )
    );
    assert_eq!(rej[0].raw.len(), 2048);
    assert!(rej[0].raw.starts_with("aaaa-1,Contoso,11/02/2026,VM,9999"));
    // The long category is a category of its own: 10.5 + 11.5 + 1.25 + 1.0.
    assert_eq!(f64_sum(&w, "usage_daily", "cost"), 24.25);
    let categories = col_text(&w, "usage_daily", "meter_category");
    assert!(categories.contains(&meter));
    // The name reaches the risk table whole.
    assert_eq!(col_text(&w, "risk_scores", "customer_name"), [name]);
}
