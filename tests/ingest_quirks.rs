//! Every quirk of FORMATS.md, read end to end through the binary, with values checked by hand.

use crate::common::*;

/// Partner Center columns in the real order (a subset is enough: extra columns are ignored).
const PC_HEADER: &str = "PartnerId,CustomerId,CustomerName,CustomerCountry,InvoiceNumber,SubscriptionId,ChargeStartDate,UsageDate,MeterCategory,MeterSubCategory,MeterName,MeterRegion,Unit,ResourceLocation,ResourceURI,ChargeType,UnitPrice,Quantity,BillingPreTaxTotal,BillingCurrency,EntitlementId";

fn receivables(w: &Workdir) {
    w.write(
        "in/receivables/invoices.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\nI1,c1,2026-10-01,2026-10-31,1,USD\n",
    );
    w.write(
        "in/receivables/payments.csv",
        "payment_id,customer_id,invoice_id,payment_date,amount,currency,instrument\nP1,c1,I1,2026-10-02,1,USD,card\n",
    );
}

#[test]
fn usage_quirks_bom_crlf_us_dates_scientific_apostrophe_renamed_reordered_gzip_focus() {
    let w = Workdir::new();
    receivables(&w);
    // 1. Real column order, zero-padded US dates, scientific notation, apostrophe guard, BOM, CRLF.
    let a = format!(
        "\u{feff}{PC_HEADER}\r\n\
         p,C1,Contoso,US,G1,S,11/01/2026,11/01/2026,Virtual Machines,NCv3 Series,NC24s v3,US East,1 Hour,East US,/SUBSCRIPTIONS/E1/x,Usage,1,'22.000000,10.25,USD,E1\r\n\
         p,C1,Contoso,US,G1,S,11/01/2026,11/01/2026,Virtual Machines,NCv3 Series,NC24s v3,US East,1 Hour,East US,/x,Usage,1,1,9.99E-08,USD,E1\r\n"
    );
    w.write("in/usage/G1_BilledUsage_c000.csv", a);
    // 2. Shuffled, renamed columns (UnitOfMeasure, ResourceUri), non-padded US dates with a time.
    w.write(
        "in/usage/shuffled.csv",
        "BillingCurrency,BillingPreTaxTotal,UsageDate,customer id,EntitlementId,MeterCategory,UnitOfMeasure,ResourceUri\n\
         USD,1.5,11/2/2026 0:00,c1,e1,Virtual Machines,1 Hour,/r\n",
    );
    // 3. gzip, ISO dates.
    w.write_gz(
        "in/usage/unbilled.csv.gz",
        "CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency,EntitlementId,MeterCategory\n\
         c1,2026-11-02T00:00:00,2.5,usd,E1,Virtual Machines\n",
    );
    // 4. FOCUS 1.2 with NULL tokens.
    w.write(
        "in/usage/focus.csv",
        "BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,SubAccountId,SubAccountName,ServiceName,RegionId,ConsumedQuantity,ChargeCategory,InvoiceId\n\
         3.0,USD,2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,aws-123,Fabrikam,Amazon EC2,us-east-1,5,Usage,NULL\n",
    );
    w.cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .success();
    let rej = w.table("out", "rejected_rows");
    assert_eq!(rej.height(), 0, "{rej}");
    let daily = w.table("out", "usage_daily");
    let ids = strs(&daily, "customer_id");
    let dates = strs(&daily, "usage_date");
    let cost = f64s(&daily, "cost");
    let qty = f64s(&daily, "quantity");
    // c1 on 11-01: 10.25 + 9.99e-8 (quantity 22 + 1); on 11-02: 1.5 + 2.5 = 4.0 (ids lower-cased,
    // so E1 and e1 are one subscription); aws-123 on 11-02: 3.0 from FOCUS.
    let rows: Vec<(Option<String>, Option<String>, Option<f64>, Option<f64>)> = ids
        .into_iter()
        .zip(dates)
        .zip(cost)
        .zip(qty)
        .map(|(((a, b), c), d)| (a, b, c, d))
        .collect();
    assert_eq!(rows.len(), 3, "{daily}");
    assert_eq!(rows[0].0.as_deref(), Some("aws-123"));
    assert_eq!(rows[0].2, Some(3.0));
    assert_eq!(rows[1].0.as_deref(), Some("c1"));
    assert_eq!(rows[1].1.as_deref(), Some("2026-11-01"));
    assert!((rows[1].2.unwrap() - 10.250_000_099_9).abs() < 1e-12);
    assert_eq!(rows[1].3, Some(23.0));
    assert_eq!(rows[2].1.as_deref(), Some("2026-11-02"));
    assert_eq!(rows[2].2, Some(4.0));
    let m = w.json("out/manifest.json");
    let total_read: u64 = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rows_read"].as_u64().unwrap())
        .sum();
    assert_eq!(total_read, 2 + 1 + 1 + 1 + 1 + 1);
}

#[test]
fn json_and_parquet_inputs_are_read_like_csv() {
    let w = Workdir::new();
    receivables(&w);
    w.write(
        "in/usage/api.json",
        "{\"value\": [\n {\"customerId\": \"C1\", \"usageDate\": \"2026-11-01T00:00:00\", \"billingPreTaxTotal\": 1.25, \"billingCurrency\": \"USD\"},\n {\"customerId\": \"C1\", \"usageDate\": \"2026-11-01\", \"billingPreTaxTotal\": \"oops\", \"billingCurrency\": \"USD\"}\n]}",
    );
    w.write(
        "in/usage/lines.jsonl",
        "{\"CustomerId\": \"c2\", \"UsageDate\": \"11/01/2026\", \"BillingPreTaxTotal\": 2, \"BillingCurrency\": \"EUR\"}\nnot json\n",
    );
    w.write("lenient.toml", "[input]\nmax_rejected_share = 0.9\n");
    w.cmd()
        .args([
            "run",
            "--input",
            "in",
            "--out",
            "out",
            "-q",
            "--config",
            "lenient.toml",
        ])
        .assert()
        .success();
    let daily = w.table("out", "usage_daily");
    assert_eq!(
        strs(&daily, "customer_id"),
        [Some("c1".into()), Some("c2".into())]
    );
    assert_eq!(f64s(&daily, "cost"), [Some(1.25), Some(2.0)]);
    let rej = w.table("out", "rejected_rows");
    assert_eq!(
        strs(&rej, "file"),
        [
            Some("usage/api.json".into()),
            Some("usage/lines.jsonl".into())
        ]
    );
    assert_eq!(strs(&rej, "line"), [Some("3".into()), Some("2".into())]);
    assert_eq!(
        strs(&rej, "column")[0].as_deref(),
        Some("billingPreTaxTotal")
    );
    // Parquet: write the canonical usage of that run back as an input.
    let w2 = Workdir::new();
    receivables(&w2);
    std::fs::create_dir_all(w2.path("in/usage")).unwrap();
    let mut df = polars::prelude::df!(
        "CustomerId" => ["c9"], "UsageDate" => ["2026-11-05"], "BillingPreTaxTotal" => [7.5f64], "BillingCurrency" => ["USD"]
    )
    .unwrap();
    let f = std::fs::File::create(w2.path("in/usage/u.parquet")).unwrap();
    polars::prelude::ParquetWriter::new(f)
        .finish(&mut df)
        .unwrap();
    w2.cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .assert()
        .success();
    let daily = w2.table("out", "usage_daily");
    assert_eq!(f64s(&daily, "cost"), [Some(7.5)]);
    assert_eq!(w2.json("out/manifest.json")["as_of"], "2026-11-05");
}

/// Usage is streamed to disk without a sort (issue 8), so the canonical order (source_file, then
/// source_line) comes from reading files in the order of their names as displayed. Here that
/// order differs from the folder walk's: "2026.csv" sorts before "2026/b.csv" as text ('.' <
/// '/') but after it as a path. A rejected row in the middle must leave the others in line order.
#[test]
fn staged_usage_keeps_file_then_line_order_and_every_accepted_row() {
    let w = Workdir::new();
    receivables(&w);
    let header =
        "CustomerId,UsageDate,BillingPreTaxTotal,BillingCurrency,EntitlementId,MeterCategory";
    // 20 rows, so one rejected row of 23 stays under the 5 % rejected-share limit.
    let b: String = (1..=20)
        .map(|d| format!("c1,2026-11-{d:02},{d},USD,e1,VM\n"))
        .collect();
    w.write("in/usage/2026/b.csv", format!("{header}\n{b}"));
    w.write(
        "in/usage/2026.csv",
        format!(
            "{header}\nc2,2026-11-01,3,USD,e2,VM\nc2,not a date,4,USD,e2,VM\nc2,2026-11-03,5,USD,e2,VM\n"
        ),
    );
    w.cmd()
        .args(["run", "--input", "in", "--out", "out"])
        .assert()
        .success();
    let usage = w.table_at(&w.path("out"), "inputs/usage.parquet");
    let mut files = vec!["usage/2026.csv".to_string(); 2];
    files.extend(vec!["usage/2026/b.csv".to_string(); 20]);
    assert_eq!(
        strs(&usage, "source_file"),
        files.into_iter().map(Some).collect::<Vec<_>>()
    );
    let mut lines = vec![2, 4];
    lines.extend(2..=21);
    assert_eq!(
        strs(&usage, "source_line"),
        lines
            .iter()
            .map(|l| Some(l.to_string()))
            .collect::<Vec<_>>()
    );
    let mut cost = vec![Some(3.0), Some(5.0)];
    cost.extend((1..=20).map(|d| Some(d as f64)));
    assert_eq!(f64s(&usage, "cost"), cost);
    let rej = w.table("out", "rejected_rows");
    assert_eq!(strs(&rej, "line"), [Some("3".to_string())]);
    // The manifest counts the staged rows: 3 read, 2 accepted, 1 rejected in 2026.csv.
    let manifest = w.json("out/manifest.json");
    let file = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "usage/2026.csv")
        .unwrap();
    assert_eq!(file["rows_read"], 3);
    assert_eq!(file["accepted"], 2);
    assert_eq!(file["rejected"], 1);
}
