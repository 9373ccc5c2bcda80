//! Row rejected: a bad date, non-numeric money, a wrong field count, a bad currency, invalid UTF-8
//! and a truncated last line each put their row into rejected_rows with its line, the column as
//! the file names it, "expected ..., found '...'" and the raw text; the 200 good rows count.

use super::*;

#[test]
fn malformed_rows_go_to_rejected_rows_with_their_lines() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let mut text = String::from(USAGE_HEADER);
    for i in 0..200 {
        text.push_str(&format!("c1,11/{:02}/2026,1.0,USD\n", (i % 28) + 1));
    }
    text.push_str("c1,13/45/2026,1.0,USD\n"); // line 202: bad date
    text.push_str("c1,11/01/2026,abc,USD\n"); // line 203: bad money
    text.push_str("c1,11/01/2026,1.0\n"); // line 204: wrong field count
    text.push_str("c1,11/01/2026,1.0,US\n"); // line 205: bad currency
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"c1,11/01/2026,1.0,\xff\xfe\n"); // line 206: invalid UTF-8
    bytes.extend_from_slice(b"c1,11/0"); // line 207: truncated last line
    w.write("in/usage/u.csv", bytes);
    let ran = run_ok(&w, false, &[]);
    let rej = ran.rejected_in("usage/u.csv");
    assert_eq!(
        rej.iter().map(|r| r.line).collect::<Vec<_>>(),
        [202, 203, 204, 205, 206, 207]
    );
    assert_eq!(
        rej.iter().map(|r| r.column.as_str()).collect::<Vec<_>>(),
        [
            "UsageDate",
            "BillingPreTaxTotal",
            "",
            "BillingCurrency",
            "",
            ""
        ]
    );
    assert_eq!(
        rej[0].reason,
        "expected a date (MM/DD/YYYY or YYYY-MM-DD), found '13/45/2026'"
    );
    assert_eq!(
        rej[1].reason,
        "expected a number (1234.56 or 9.99E-08), found 'abc'"
    );
    assert_eq!(rej[2].reason, "expected 4 fields as in the header, found 3");
    assert_eq!(
        rej[3].reason,
        "expected a three-letter currency code (USD), found 'US'"
    );
    assert!(rej[4].reason.contains("UTF-8"), "{}", rej[4].reason);
    assert_eq!(rej[5].reason, "expected 4 fields as in the header, found 2");
    assert_eq!(rej[0].raw, "c1,13/45/2026,1.0,USD");
    assert_eq!(rej[2].raw, "c1,11/01/2026,1.0");
    assert_eq!(rej[5].raw, "c1,11/0");
    assert!(rej.iter().all(|r| r.source == "usage"));
    assert_eq!(ran.counts("usage/u.csv"), (206, 200, 6));
    // The accepted rows are all there: 200 x 1.0, plus minimal_inputs' 10.5 + 11.5.
    assert_eq!(f64_sum(&w, "usage_daily", "cost"), 222.0);
}
