//! Accepted: a gzip file whose name lost its .gz (gzip bytes in a file named .csv, .json or
//! .jsonl, as a download renamed by hand or by a browser) is read like the .gz file it is: gzip is
//! recognised by its first bytes, the same for every source. Before, a usage CSV like this failed
//! the run with its compressed bytes quoted as column names.

use super::*;

const EVENT: &str = r#"{"callerIpAddress":"1.2.3.4","category":"Administrative","operationName":"Microsoft.Compute/virtualMachines/write","resourceId":"/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1","resultType":"Success","time":"2026-11-01T07:30:36Z"}"#;

#[test]
fn gzip_bytes_under_a_plain_name_are_read_like_the_gz_file() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    // A usage CSV (gzip, named .csv), with a bad amount on line 3 to show lines are kept.
    w.write_gz(
        "in/usage/renamed.csv",
        format!(
            "{USAGE_HEADER}c7,11/03/2026,2.5,USD\nc7,11/04/2026,oops,USD\nc7,11/05/2026,4,USD\n"
        ),
    );
    // A usage JSON file (gzip, named .json), the JSON path of tabular sources.
    w.write_gz(
        "in/usage/api.json",
        r#"{"value": [{"customerId": "c8", "usageDate": "2026-11-03", "billingPreTaxTotal": 1.25, "billingCurrency": "USD"}]}"#,
    );
    // Activity log events (gzip, named .jsonl).
    w.write_gz("in/activity/diag.jsonl", format!("{EVENT}\n{EVENT}\n"));
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("usage/renamed.csv"), (3, 2, 1));
    assert_eq!(
        ran.lines_in("usage/renamed.csv"),
        [(3, "BillingPreTaxTotal".to_string())]
    );
    assert_eq!(ran.counts("usage/api.json"), (1, 1, 0));
    assert_eq!(ran.counts("activity/diag.jsonl"), (2, 2, 0));
    let mut read: Vec<(String, String)> = input_text(&w, "usage", "source_file")
        .into_iter()
        .zip(input_text(&w, "usage", "cost"))
        .filter(|(f, _)| f != "usage/usage.csv")
        .collect();
    read.sort();
    assert_eq!(
        read,
        [
            ("usage/api.json", "1.25"),
            ("usage/renamed.csv", "2.5"),
            ("usage/renamed.csv", "4.0"),
        ]
        .map(|(f, c)| (f.to_string(), c.to_string()))
    );
}
