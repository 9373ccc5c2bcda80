//! Accepted: a UTF-8 BOM and CRLF line ends (as Excel saves) change nothing: columns match, values
//! carry no trailing \r, a rejected row's raw text has no \r, and lines count as in the file.

use super::*;

#[test]
fn bom_and_crlf_files_read_like_plain_ones() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/invoices.csv",
        "\u{feff}invoice_id,customer_id,issue_date,due_date,amount,currency\r\n\
         INV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD\r\n\
         INV-2,aaaa-1,2026-10-01,2026-10-31,x,USD\r\n\
         INV-3,aaaa-1,2026-10-15,2026-11-14,25.50,USD\r\n",
    );
    w.write(
        "in/usage/bom.csv",
        format!("\u{feff}{}", "CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency\r\naaaa-1,11/02/2026,2.25,USD\r\n"),
    );
    // A file that is only a BOM, and one of blank CRLF lines: no rows.
    w.write("in/usage/bom_only.csv", "\u{feff}");
    w.write("in/usage/blank_lines.csv", "\r\n\r\n");
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("receivables/invoices.csv"), (3, 2, 1));
    let rej = ran.rejected_in("receivables/invoices.csv");
    assert_eq!(rej.len(), 1);
    assert_eq!((rej[0].line, rej[0].column.as_str()), (3, "amount"));
    assert_eq!(rej[0].raw, "INV-2,aaaa-1,2026-10-01,2026-10-31,x,USD");
    assert_eq!(ran.counts("usage/bom.csv"), (1, 1, 0));
    assert_eq!(ran.counts("usage/bom_only.csv"), (0, 0, 0));
    assert_eq!(ran.counts("usage/blank_lines.csv"), (0, 0, 0));
    // The currency parsed (no "USD\r"), so the rows age and sum: 100 - 40 paid, and 25.50.
    assert_eq!(
        col_text(&w, "aging_invoices", "invoice_id"),
        ["INV-1", "INV-3"]
    );
    assert_eq!(col_text(&w, "aging_invoices", "currency"), ["USD", "USD"]);
    assert_eq!(
        col_text(&w, "aging_invoices", "outstanding"),
        ["60.0000", "25.5000"]
    );
    // 10.5 + 11.5 + 2.25
    assert_eq!(f64_sum(&w, "usage_daily", "cost"), 24.25);
}
