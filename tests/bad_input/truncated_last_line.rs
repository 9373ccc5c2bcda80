//! Row rejected: a last line cut off mid-row (no final newline) is rejected as "expected 7 fields
//! as in the header, found 3" with its raw text; a complete last line without a final newline is
//! accepted.

use super::*;

#[test]
fn a_cut_off_last_line_is_rejected_and_a_complete_one_without_newline_accepted() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/receivables/invoices.csv",
        format!(
            "{INVOICES_HEADER}INV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD,2026-09\n\
             INV-2,aaaa-1,2026-10-01,2026-10-31,5.00,USD,2026-09\n\
             INV-3,aaaa-1,2026-1"
        ),
    );
    w.write(
        "in/receivables/payments.csv",
        format!(
            "{PAYMENTS_HEADER}PAY-1,aaaa-1,INV-1,2026-10-20,40.00,USD,card\n\
             PAY-2,aaaa-1,INV-2,2026-10-20,1.00,USD,card"
        ),
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("receivables/invoices.csv"), (3, 2, 1));
    assert_eq!(ran.counts("receivables/payments.csv"), (2, 2, 0));
    let rej = ran.rejected_in("receivables/invoices.csv");
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].line, 4);
    assert_eq!(rej[0].column, "");
    assert_eq!(rej[0].reason, "expected 7 fields as in the header, found 3");
    assert_eq!(rej[0].raw, "INV-3,aaaa-1,2026-1");
    // INV-1: 100 - 40; INV-2: 5 - 1 (the payment on the unterminated last line counts).
    assert_eq!(
        col_text(&w, "aging_invoices", "outstanding"),
        ["60.0000", "4.0000"]
    );
}

#[test]
fn a_cut_off_quoted_field_is_rejected() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let mut text = String::from(USAGE_HEADER);
    text.push_str("aaaa-1,11/03/2026,1.0,USD\n");
    text.push_str("aaaa-1,11/03/2026,\"1.0"); // an open quote at the end of the file
    w.write("in/usage/u.csv", text);
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("usage/u.csv"), (2, 1, 1));
    let rej = ran.rejected_in("usage/u.csv");
    assert_eq!(rej[0].line, 3);
    assert_eq!(
        rej[0].reason,
        "expected a closing quote, found the end of the file"
    );
    assert_eq!(f64_sum(&w, "usage_daily", "cost"), 23.0); // 10.5 + 11.5 + 1.0
}
