//! Exports as they come (issue 20): the FinOps Foundation's FOCUS sample rows, FOCUS rows in
//! Microsoft's export shape (charge categories, `/subscriptions/<guid>` sub-accounts, offsets,
//! GPU series only in the SKU columns), Activity Log records of the documented Entra ID sign-in
//! and activity schemas, and a Microsoft Graph partner billing download (manifest plus gzip JSON
//! lines). Every figure is checked against a sum computed here, independently of billrisk.

use crate::bad_input::{input_text, run_fails, run_ok};
use crate::common::*;

fn receivables(w: &Workdir) {
    w.write(
        "in/receivables/invoices.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\nI1,c1,2024-09-01,2024-09-30,1,USD\n",
    );
    w.write(
        "in/receivables/payments.csv",
        "payment_id,customer_id,invoice_id,payment_date,amount,currency,instrument\nP1,c1,I1,2024-09-02,1,USD,card\n",
    );
}

/// The fields of one CSV record (RFC 4180 quotes), written here so the test does not lean on the
/// parser it checks.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A decimal text in units of 10^-15, exactly (the sample has at most 14 decimals; billrisk sums
/// at 10^-10, so figures are compared at 10^-8).
fn exact_units(s: &str) -> i128 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac: String = frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(15)
        .collect();
    let sign = if int.starts_with('-') { -1 } else { 1 };
    let whole: i128 = int.trim_start_matches('-').parse().unwrap();
    sign * (whole * 1_000_000_000_000_000 + frac.parse::<i128>().unwrap())
}

const SAMPLE: &str = include_str!("fixtures/focus_sample/focus_sample_first37.csv");

#[test]
fn focus_sample_rows_are_all_read_and_billed_cost_ties_out_by_charge_category() {
    let w = Workdir::new();
    receivables(&w);
    w.write("in/usage/focus_sample_first37.csv", SAMPLE);
    let ran = run_ok(&w, false, &[]);
    assert!(ran.rejected.is_empty(), "{:?}", ran.rejected);
    assert_eq!(
        ran.counts("usage/focus_sample_first37.csv"),
        (37, 37, 0),
        "every row read and accepted"
    );

    // The independent side: BilledCost per ChargeCategory (and the corrections) from the file.
    let mut lines = SAMPLE.lines();
    let header = split_csv(lines.next().unwrap());
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (cost, category, class) = (at("BilledCost"), at("ChargeCategory"), at("ChargeClass"));
    let mut by_category = std::collections::BTreeMap::<String, i128>::new();
    let (mut total, mut consumption) = (0i128, 0i128);
    for line in lines {
        let f = split_csv(line);
        let units = exact_units(&f[cost]);
        total += units;
        *by_category.entry(f[category].clone()).or_default() += units;
        if f[category] == "Usage" && f[class] != "Correction" {
            consumption += units;
        }
    }
    // And by hand (Python's decimal module over the same file).
    assert_eq!(total, exact_units("11594.444040610000008"));
    assert_eq!(consumption, exact_units("8466.19039999"));

    // billrisk's canonical usage: the same totals per category, the raw texts kept.
    let costs: Vec<f64> = input_text(&w, "usage", "cost")
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let cats = input_text(&w, "usage", "charge_category");
    let to_units = |x: f64| (x * 1e8).round() as i128;
    let near = |a: i128, b: i128| (a / 10_000_000 - b).abs() <= 1; // b in 10^-8 units
    let billrisk_total: f64 = costs.iter().sum();
    assert!(near(total, to_units(billrisk_total)), "{billrisk_total}");
    for (cat, expected) in &by_category {
        let got: f64 = costs
            .iter()
            .zip(&cats)
            .filter(|(_, c)| *c == cat)
            .map(|(x, _)| *x)
            .sum();
        assert!(near(*expected, to_units(got)), "{cat}: {got}");
    }
    assert_eq!(
        input_text(&w, "usage", "charge_class")
            .iter()
            .filter(|c| *c == "Correction")
            .count(),
        2
    );
    // Money owed (reconciliation cost) is every charge's BilledCost ...
    let recon: f64 = f64s(&w.table("out", "reconciliation"), "cost")
        .into_iter()
        .flatten()
        .sum();
    assert!(near(total, to_units(recon)), "{recon}");
    // ... and the usage series are consumption only: no purchase, tax, credit or correction.
    let daily: f64 = f64s(&w.table("out", "usage_daily"), "cost")
        .into_iter()
        .flatten()
        .sum();
    assert!(near(consumption, to_units(daily)), "{daily}");
    // Nothing misread: AWS account ids, Oracle compartments and GCP projects stay as written
    // (lower-cased ids), every date is in September 2024, RegionId is the region.
    let mut subs = input_text(&w, "usage", "entitlement_id");
    subs.sort();
    subs.dedup();
    assert_eq!(
        subs,
        [
            "438839167390",
            "517389287820",
            "663626350770",
            "ocid1.compartment.oc1..dev",
            "ocid1.compartment.oc1..prod",
            "proj-helios-dev",
            "proj-helios-prod",
            "sub-2b7c",
            "sub-4d3e",
            "sub-9a1f"
        ]
    );
    assert!(input_text(&w, "usage", "usage_date")
        .iter()
        .all(|d| d.starts_with("2024-09-")));
    assert_eq!(input_text(&w, "usage", "region")[0], "eu-west-1");
    // No usage signal is about a purchase, a tax or a credit row.
    let an = w.table("out", "anomalies");
    let reasons = strs(&an, "reason");
    assert!(
        reasons
            .iter()
            .flatten()
            .all(|r| !r.contains("Tax") && !r.contains("Other (Security)")),
        "{an}"
    );
}

/// FOCUS rows as Microsoft's export writes them (FocusCost 1.2-preview): x_ columns, SubAccountId
/// `/subscriptions/<guid>`, ChargeCategory and ChargeClass.
const MS_HEADER: &str = "BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeClass,ChargeDescription,SubAccountId,SubAccountName,x_CustomerId,x_CustomerName,ServiceName,ServiceCategory,RegionId,SkuId,SkuMeter,SkuPriceDetails,x_SkuMeterCategory,ConsumedQuantity,ConsumedUnit,ResourceId";
const SUB1: &str = "6f1d2c3b-aaaa-4bbb-8ccc-000000000001";
const SUB2: &str = "6f1d2c3b-aaaa-4bbb-8ccc-000000000002";

fn ms_row(
    cost: &str,
    start: &str,
    category: &str,
    class: &str,
    sub: &str,
    customer: &str,
    region: &str,
    sku: (&str, &str, &str),
) -> String {
    let (service_category, meter, details) = sku;
    format!(
        "{cost},USD,{start},{start},{category},{class},{category} charge,/subscriptions/{sub},Sub,{customer},Contoso,Virtual Machines,{service_category},{region},1234567,{meter},\"{details}\",Virtual Machines,24,Hours,/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1\n"
    )
}

const D4: (&str, &str, &str) = (
    "Compute",
    "D4s v5",
    r#"{""InstanceSeries"":""Dsv5"",""CoreCount"":4}"#,
);

/// 40 days of steady VM usage for tenant-1 (10.00 a day), then in the last days a reservation
/// purchase, a tax row, a credit on the day of a real 40x spike, a GPU VM seen only in SkuMeter and
/// SkuPriceDetails, and an offset charge period; and a new customer's large purchase.
fn ms_focus(w: &Workdir) {
    let mut csv = format!("{MS_HEADER}\n");
    let day = |d: i64| {
        (chrono::NaiveDate::from_ymd_opt(2024, 9, 1).unwrap() + chrono::Duration::days(d))
            .format("%Y-%m-%dT00:00:00Z")
            .to_string()
    };
    for d in 0..40 {
        // Day 30 (2024-10-01) is written with a -08:00 offset that puts it on 2024-09-30 locally.
        let start = if d == 30 {
            "2024-09-30T23:00:00-08:00".to_string()
        } else {
            day(d)
        };
        let cost = if d == 37 { "400.00" } else { "10.00" };
        csv += &ms_row(cost, &start, "Usage", "", SUB1, "tenant-1", "eastus", D4);
    }
    // 2024-10-08 (day 37): a real spike of 400 against 10 a day, with a credit of -390 that day.
    csv += &ms_row(
        "-390.00",
        &day(37),
        "Credit",
        "",
        SUB1,
        "tenant-1",
        "eastus",
        D4,
    );
    // 2024-10-09: tax of 1010 (101x a day of usage); a correction of an earlier period.
    csv += &ms_row(
        "1010.00",
        &day(38),
        "Tax",
        "",
        SUB1,
        "tenant-1",
        "eastus",
        D4,
    );
    csv += &ms_row(
        "500.00",
        &day(38),
        "Usage",
        "Correction",
        SUB1,
        "tenant-1",
        "eastus",
        D4,
    );
    // 2024-10-10: a one-year reservation bought up front, in another region.
    csv += &ms_row(
        "1121.84",
        &day(39),
        "Purchase",
        "",
        SUB1,
        "tenant-1",
        "southeastasia",
        D4,
    );
    // A GPU VM on another subscription of tenant-1 from 2024-10-05: the series is only in SkuMeter
    // and SkuPriceDetails (ServiceCategory says Compute, SkuId is a number).
    for d in 34..40 {
        csv += &ms_row(
            "50.00",
            &day(d),
            "Usage",
            "",
            SUB2,
            "tenant-1",
            "eastus",
            (
                "Compute",
                "NC24ads A100 v4",
                r#"{""InstanceSeries"":""NCadsA100v4"",""CoreCount"":24}"#,
            ),
        );
    }
    // A customer first billed on 2024-10-09 buys 2,000.00 of reservations the next day.
    csv += &ms_row(
        "5.00",
        &day(38),
        "Usage",
        "",
        "9e0e0e0e-0000-4000-8000-0000000000aa",
        "tenant-new",
        "eastus",
        D4,
    );
    csv += &ms_row(
        "2000.00",
        &day(39),
        "Purchase",
        "",
        "9e0e0e0e-0000-4000-8000-0000000000aa",
        "tenant-new",
        "eastus",
        D4,
    );
    w.write("in/usage/focus_cost_2024-10.csv", csv);
}

fn anomalies(w: &Workdir) -> Vec<(String, String, String, String)> {
    let an = w.table("out", "anomalies");
    let col = |c: &str| -> Vec<String> {
        strs(&an, c)
            .into_iter()
            .map(|v| v.unwrap_or_default())
            .collect()
    };
    let (cust, sig, date, entity) = (
        col("customer_id"),
        col("signal"),
        col("date"),
        col("entity"),
    );
    (0..an.height())
        .map(|i| {
            (
                cust[i].clone(),
                sig[i].clone(),
                date[i].clone(),
                entity[i].clone(),
            )
        })
        .collect()
}

#[test]
fn focus_charge_categories_ids_offsets_and_sku_columns_mean_what_they_say() {
    let w = Workdir::new();
    receivables(&w);
    ms_focus(&w);
    let ran = run_ok(&w, false, &["--as-of", "2024-10-10"]);
    assert!(ran.rejected.is_empty(), "{:?}", ran.rejected);

    // SubAccountId /subscriptions/<guid>: the GUID for joins, the text as written kept.
    let ents = input_text(&w, "usage", "entitlement_id");
    let raw = input_text(&w, "usage", "sub_account_id");
    assert_eq!(ents[0], SUB1);
    assert_eq!(raw[0], format!("/subscriptions/{SUB1}"));
    assert_eq!(input_text(&w, "usage", "customer_id")[0], "tenant-1");
    // 2024-09-30T23:00:00-08:00 is 2024-10-01 in UTC.
    assert_eq!(input_text(&w, "usage", "usage_date")[30], "2024-10-01");

    let found = anomalies(&w);
    let of = |cust: &str, signal: &str| -> Vec<(String, String)> {
        found
            .iter()
            .filter(|a| a.0 == cust && a.1 == signal)
            .map(|a| (a.2.clone(), a.3.clone()))
            .collect()
    };
    // The real spike of 2024-10-08 is found, gross of its credit; the tax and purchase days are no
    // spike, the correction no spike either.
    assert_eq!(
        of("tenant-1", "usage_spike"),
        [("2024-10-08".to_string(), format!("{SUB1}/Virtual Machines"))],
        "{found:?}"
    );
    // The purchase's region is no new region; the established customer's purchase is no signal.
    assert!(of("tenant-1", "new_region").is_empty(), "{found:?}");
    assert!(of("tenant-1", "large_purchase").is_empty(), "{found:?}");
    // The GPU VM is a gpu_meter, read from SkuMeter / SkuPriceDetails, not a new_meter
    // "Virtual Machines / Compute".
    assert_eq!(
        of("tenant-1", "gpu_meter"),
        [(
            "2024-10-05".to_string(),
            "Virtual Machines / NCadsA100v4".to_string()
        )],
        "{found:?}"
    );
    assert!(of("tenant-1", "new_meter").is_empty(), "{found:?}");
    // The new customer's purchase is evidence of its own (payment family).
    assert_eq!(
        of("tenant-new", "large_purchase"),
        [("2024-10-10".to_string(), "tenant-new".to_string())],
        "{found:?}"
    );
    let an = w.table("out", "anomalies");
    let reason = strs(&an, "reason")
        .into_iter()
        .zip(strs(&an, "signal"))
        .find(|(_, s)| s.as_deref() == Some("large_purchase"))
        .and_then(|(r, _)| r)
        .unwrap();
    assert!(
        reason.contains("2,000.00 USD") && reason.contains("first billed on 2024-10-09"),
        "{reason}"
    );

    // usage_daily: consumption only, 10.00 on both 2024-09-30 and 2024-10-01, 400.00 on 10-08.
    let daily = w.table("out", "usage_daily");
    let d = strs(&daily, "usage_date");
    let e = strs(&daily, "entitlement_id");
    let c = f64s(&daily, "cost");
    let cost_on = |day: &str| -> f64 {
        (0..daily.height())
            .filter(|&i| d[i].as_deref() == Some(day) && e[i].as_deref() == Some(SUB1))
            .map(|i| c[i].unwrap())
            .sum()
    };
    assert_eq!(cost_on("2024-09-30"), 10.0);
    assert_eq!(cost_on("2024-10-01"), 10.0);
    assert_eq!(cost_on("2024-10-08"), 400.0);
    assert_eq!(cost_on("2024-10-09"), 10.0);
    assert_eq!(cost_on("2024-10-10"), 10.0);

    // Money owed keeps every charge: tenant-1's reconciliation cost for October is the sum of its
    // October BilledCost (10 days x 10 + 390 more on the spike day, -390 credit, 1010 tax, 500
    // correction, 1121.84 purchase, 6 x 50 GPU) = 100 + 390 - 390 + 1010 + 500 + 1121.84 + 300.
    let recon = w.table("out", "reconciliation");
    let rc = strs(&recon, "customer_id");
    let rm = strs(&recon, "service_month");
    let rcost = f64s(&recon, "cost");
    let october: f64 = (0..recon.height())
        .filter(|&i| rc[i].as_deref() == Some("tenant-1") && rm[i].as_deref() == Some("2024-10"))
        .map(|i| rcost[i].unwrap())
        .sum();
    assert!((october - 3031.84).abs() < 1e-6, "{recon}");
}

#[test]
fn activity_on_a_focus_subscription_joins_its_customer() {
    let w = Workdir::new();
    receivables(&w);
    ms_focus(&w);
    w.write(
        "in/activity/events.json",
        format!(
            r#"{{"time": "2024-10-09T10:00:00Z", "resourceId": "/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM9", "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", "category": "Administrative", "resultType": "Success", "callerIpAddress": "203.0.113.9", "identity": {{"claims": {{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "ops@contoso.com"}}}}}}
"#,
            SUB1.to_uppercase()
        ),
    );
    run_ok(&w, false, &[]);
    assert_eq!(input_text(&w, "activity", "customer_id"), ["tenant-1"]);
    assert_eq!(input_text(&w, "activity", "subscription_id"), [SUB1]);
}

// ---------------------------------------------------------------------------------------------
// Activity Log: records written from Microsoft's documented schemas (Azure Monitor activity log
// and Entra ID sign-in logs as exported by diagnostic settings), one per point.
// ---------------------------------------------------------------------------------------------

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn usage_of_tenant(w: &Workdir) {
    w.write(
        "in/usage/usage.csv",
        format!(
            "CustomerId,UsageDate,MeterCategory,EntitlementId,BillingPreTaxTotal,BillingCurrency\n{TENANT},2024-10-01,Virtual Machines,sub-1,10,USD\n"
        ),
    );
}

/// An interactive sign-in (category SignInLogs): `identity` is the display name, the user is in
/// properties.userPrincipalName, resourceId is tenant-scoped in upper case, no tenantId field.
const SIGN_IN: &str = r#"{"time": "2024-10-01T08:15:02.1234567Z", "resourceId": "/TENANTS/72F988BF-86F1-41AF-91AB-2D7CD011DB47/PROVIDERS/MICROSOFT.AADIAM", "operationName": "Sign-in activity", "operationVersion": "1.0", "category": "SignInLogs", "resultType": "0", "resultSignature": "None", "durationMs": 0, "callerIpAddress": "198.51.100.23", "correlationId": "0c2a1f0e-1111-4222-8333-444455556666", "identity": "Alex Wilber", "Level": 4, "location": "US", "properties": {"id": "66ea54eb-6301-4ee5-be62-ff5a759b0100", "createdDateTime": "2024-10-01T08:15:02.1234567+00:00", "userDisplayName": "Alex Wilber", "userPrincipalName": "AlexW@contoso.com", "userId": "d1e2f3a4-0000-4000-8000-000000000001", "appId": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "appDisplayName": "Azure Portal", "ipAddress": "198.51.100.23", "status": {"errorCode": 0}, "clientAppUsed": "Browser", "isInteractive": true}}"#;

/// A non-interactive sign-in with no user principal name anywhere: the display name is the caller.
const NON_INTERACTIVE: &str = r#"{"time": "2024-10-01T09:00:00Z", "resourceId": "/tenants/72f988bf-86f1-41af-91ab-2d7cd011db47/providers/Microsoft.aadiam", "operationName": "Sign-in activity", "category": "NonInteractiveUserSignInLogs", "resultType": "0", "callerIpAddress": "2001:DB8::17", "identity": "Sync Service", "properties": {"appDisplayName": "Office 365 Exchange Online", "isInteractive": false}}"#;

/// An administrative record whose callerIpAddress is a range, not an address.
const RANGE_IP: &str = r#"{"time": "2024-10-01T10:00:00Z", "resourceId": "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", "category": "Administrative", "resultType": "Success", "callerIpAddress": "127.0.0.0/8", "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "admin@contoso.com", "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}}}"#;

#[test]
fn sign_in_logs_give_the_user_as_caller_and_join_their_tenant() {
    let w = Workdir::new();
    receivables(&w);
    usage_of_tenant(&w);
    w.write("in/activity/signin.json", format!("{SIGN_IN}\n"));
    run_ok(&w, false, &[]);
    assert_eq!(input_text(&w, "activity", "caller"), ["AlexW@contoso.com"]);
    assert_eq!(input_text(&w, "activity", "tenant_id"), [TENANT]);
    assert_eq!(input_text(&w, "activity", "customer_id"), [TENANT]);
    assert_eq!(input_text(&w, "activity", "client_ip"), ["198.51.100.23"]);
}

#[test]
fn a_sign_in_without_a_user_principal_name_names_its_identity() {
    let w = Workdir::new();
    receivables(&w);
    usage_of_tenant(&w);
    w.write(
        "in/activity/noninteractive.json",
        format!("{NON_INTERACTIVE}\n"),
    );
    run_ok(&w, false, &[]);
    assert_eq!(input_text(&w, "activity", "caller"), ["Sync Service"]);
    assert_eq!(input_text(&w, "activity", "customer_id"), [TENANT]);
    assert_eq!(input_text(&w, "activity", "client_ip"), ["2001:db8::17"]);
    assert_eq!(
        input_text(&w, "activity", "client_ip_raw"),
        ["2001:DB8::17"]
    );
}

#[test]
fn a_caller_ip_range_is_no_client_ip_and_its_text_is_kept() {
    let w = Workdir::new();
    receivables(&w);
    usage_of_tenant(&w);
    w.write("in/activity/range.json", format!("{RANGE_IP}\n"));
    run_ok(&w, false, &[]);
    assert_eq!(input_text(&w, "activity", "client_ip"), ["null"]);
    assert_eq!(input_text(&w, "activity", "client_ip_raw"), ["127.0.0.0/8"]);
    assert_eq!(input_text(&w, "activity", "caller"), ["admin@contoso.com"]);
    assert_eq!(input_text(&w, "activity", "customer_id"), [TENANT]);
}

// ---------------------------------------------------------------------------------------------
// Microsoft Graph partner billing export: manifest + gzip JSON-lines blobs.
// ---------------------------------------------------------------------------------------------

fn manifest(blobs: &[&str], attribute_set: &str) -> String {
    let list: Vec<String> = blobs
        .iter()
        .map(|b| format!(r#"{{"name": "{b}", "partitionValue": "default"}}"#))
        .collect();
    format!(
        r#"{{
  "id": "6fe687d7-1e0f-4bd6-9091-4672691f64bc",
  "schemaVersion": "2",
  "dataFormat": "compressedJSONLines",
  "createdDateTime": "2024-11-03T06:34:34.87Z",
  "eTag": "WYjLro78HdMg6vUWR",
  "partnerTenantId": "0e195b37-4574-4539-bc42-0e539b9684c0",
  "rootDirectory": "https://adlsreconbuprodeastus201.blob.core.windows.net/billedusagefastpath/v1/PartnerTenantId=0e195b37-4574-4539-bc42-0e539b9684c0/BillingMonth=202410/InvoiceId=G031809528/InvoiceVersion=202411/Fragment={attribute_set}/PartitionType=default",
  "sasToken": "skoid=redacted&sig=redacted",
  "partitionType": "Default",
  "blobCount": {},
  "blobs": [{}]
}}"#,
        blobs.len(),
        list.join(", ")
    )
}

/// A line item of billed daily rated usage, `full` attribute set (names as Microsoft's attribute
/// list, in camelCase).
fn full_line(customer: &str, date: &str, cost: &str) -> String {
    format!(
        r#"{{"partnerId": "0e195b37-4574-4539-bc42-0e539b9684c0", "partnerName": "Fabrikam CSP", "customerId": "{customer}", "customerName": "Contoso", "customerDomainName": "contoso.onmicrosoft.com", "customerCountry": "US", "mpnId": "1234567", "tier2MpnId": "", "invoiceNumber": "G031809528", "productId": "DZH318Z0BQPS", "skuId": "0001", "availabilityId": "DZH318Z0BQPS", "skuName": "Microsoft Azure plan", "productName": "Microsoft Azure", "publisherName": "Microsoft", "publisherId": "", "subscriptionDescription": "Azure plan", "subscriptionId": "5c2a8a1e-0000-4000-8000-000000000001", "chargeStartDate": "2024-10-01T00:00:00Z", "chargeEndDate": "2024-10-31T00:00:00Z", "usageDate": "{date}T00:00:00Z", "meterType": "1 Compute Hour", "meterCategory": "Virtual Machines", "meterId": "9cd9e9a2-0000-4000-8000-000000000001", "meterSubCategory": "Dv5 Series", "meterName": "D4s v5", "meterRegion": "US East", "unit": "1 Hour", "resourceLocation": "eastus", "consumedService": "Microsoft.Compute", "resourceGroup": "rg1", "resourceUri": "/subscriptions/sub-g1/resourcegroups/rg1/providers/microsoft.compute/virtualmachines/vm1", "chargeType": "new", "unitPrice": 0.2, "quantity": 24, "unitType": "1 Hour", "billingPreTaxTotal": {cost}, "billingCurrency": "USD", "pricingPreTaxTotal": {cost}, "pricingCurrency": "USD", "serviceInfo1": "", "serviceInfo2": "", "tags": "", "additionalInfo": "", "effectiveUnitPrice": 0.2, "pctoBCExchangeRate": 1, "pctoBCExchangeRateDate": "2024-10-01T00:00:00Z", "entitlementId": "sub-g1", "entitlementDescription": "Production", "partnerEarnedCreditPercentage": 0, "creditPercentage": 0, "creditType": "Credit Not Applicable", "benefitOrderId": "", "benefitId": "", "benefitType": ""}}"#
    )
}

/// The same line item in the `basic` attribute set: no meter, region or country columns.
fn basic_line(customer: &str, date: &str, cost: &str) -> String {
    format!(
        r#"{{"additionalInfo": "", "benefitOrderId": "", "benefitType": "", "billingCurrency": "USD", "billingPreTaxTotal": {cost}, "chargeEndDate": "2024-10-31T00:00:00Z", "chargeStartDate": "2024-10-01T00:00:00Z", "chargeType": "new", "creditPercentage": 0, "creditType": "Credit Not Applicable", "customerId": "{customer}", "customerName": "Contoso", "effectiveUnitPrice": 0.2, "entitlementId": "sub-g1", "invoiceNumber": "G031809528", "partnerId": "0e195b37-4574-4539-bc42-0e539b9684c0", "partnerName": "Fabrikam CSP", "pctoBCExchangeRate": 1, "pricingCurrency": "USD", "pricingPreTaxTotal": {cost}, "productId": "DZH318Z0BQPS", "publisherName": "Microsoft", "quantity": 24, "resourceUri": "/subscriptions/sub-g1/x", "skuId": "0001", "skuName": "Microsoft Azure plan", "subscriptionId": "5c2a8a1e-0000-4000-8000-000000000001", "unitPrice": 0.2, "unitType": "1 Hour", "usageDate": "{date}T00:00:00Z"}}"#
    )
}

const BLOB_A: &str = "part-00000-b016029b-a7a7-4c46-9b5e-c925ac317ac6.c000.json.gz";
const BLOB_B: &str = "part-00001-b016029b-a7a7-4c46-9b5e-c925ac317ac6.c000.json.gz";

fn graph_download(w: &Workdir) {
    w.write(
        "in/usage/manifest.json",
        manifest(&[BLOB_A, BLOB_B], "full"),
    );
    w.write_gz(
        &format!("in/usage/{BLOB_A}"),
        format!(
            "{}\n{}\n",
            full_line("c1", "2024-10-01", "4.8"),
            full_line("c1", "2024-10-02", "5.2")
        ),
    );
    // Line 2 has a billingPreTaxTotal that is no number: rejected at its blob and line.
    w.write_gz(
        &format!("in/usage/{BLOB_B}"),
        format!(
            "{}\n{}\n",
            full_line("c2", "2024-10-02", "7.25"),
            full_line("c2", "2024-10-03", "\"n/a\"")
        ),
    );
}

#[test]
fn a_graph_billing_download_is_read_blob_by_blob_and_accounted() {
    let w = Workdir::new();
    receivables(&w);
    graph_download(&w);
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts(&format!("usage/{BLOB_A}")), (2, 2, 0));
    assert_eq!(ran.counts(&format!("usage/{BLOB_B}")), (2, 1, 1));
    let rej = ran.rejected_in(&format!("usage/{BLOB_B}"));
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].line, 2);
    assert_eq!(rej[0].column, "billingPreTaxTotal");
    assert!(rej[0].reason.contains("found 'n/a'"), "{}", rej[0].reason);
    // The manifest holds no rows and is no input of its own.
    assert!(ran.manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["file"] != "usage/manifest.json"));
    // 4.8 + 5.2 + 7.25 accepted, with the full attribute set's meter and region.
    let costs: f64 = input_text(&w, "usage", "cost")
        .iter()
        .map(|c| c.parse::<f64>().unwrap())
        .sum();
    assert!((costs - 17.25).abs() < 1e-9, "{costs}");
    assert_eq!(
        input_text(&w, "usage", "meter_category")[0],
        "Virtual Machines"
    );
    assert_eq!(input_text(&w, "usage", "region")[0], "eastus");
    assert_eq!(input_text(&w, "usage", "charge_category")[0], "Usage");
}

#[test]
fn a_basic_attribute_set_download_lacks_optional_columns_only() {
    let w = Workdir::new();
    receivables(&w);
    w.write("in/usage/manifest.json", manifest(&[BLOB_A], "basic"));
    w.write_gz(
        &format!("in/usage/{BLOB_A}"),
        format!(
            "{}\n{}\n",
            basic_line("c1", "2024-10-01", "4.8"),
            basic_line("c1", "2024-10-02", "5.2")
        ),
    );
    let ran = run_ok(&w, false, &[]);
    assert_eq!(ran.counts(&format!("usage/{BLOB_A}")), (2, 2, 0));
    assert_eq!(input_text(&w, "usage", "meter_category"), ["null", "null"]);
    assert_eq!(
        input_text(&w, "usage", "entitlement_id"),
        ["sub-g1", "sub-g1"]
    );
}

#[test]
fn a_blob_the_manifest_names_but_the_folder_lacks_fails_the_run_naming_it() {
    let w = Workdir::new();
    receivables(&w);
    graph_download(&w);
    std::fs::remove_file(w.path(&format!("in/usage/{BLOB_B}"))).unwrap();
    run_fails(
        &w,
        &[
            "manifest.json",
            &format!("names blob {BLOB_B} (partition default), which is not in"),
        ],
    );
}

#[test]
fn a_blob_no_manifest_names_fails_the_run_naming_it() {
    let w = Workdir::new();
    receivables(&w);
    graph_download(&w);
    w.write_gz(
        "in/usage/part-00007-0badc0de.c000.json.gz",
        full_line("c3", "2024-10-02", "1.0"),
    );
    run_fails(
        &w,
        &[
            "part-00007-0badc0de.c000.json.gz",
            "no Microsoft Graph billing manifest in its folder names",
        ],
    );
}

#[test]
fn a_billed_reconciliation_download_lands_in_billed() {
    let w = Workdir::new();
    receivables(&w);
    usage_of_tenant(&w);
    w.write("in/billed/manifest.json", manifest(&[BLOB_A], "full"));
    let line = |charge: &str, total: &str| {
        format!(
            r#"{{"partnerId": "0e195b37", "customerId": "{TENANT}", "customerName": "Contoso", "customerDomainName": "contoso.onmicrosoft.com", "customerCountry": "US", "invoiceNumber": "G031809528", "mpnId": "1", "resellerMpnId": "", "orderId": "o1", "orderDate": "2024-10-01T00:00:00Z", "productId": "CFQ7TTC0LH18", "skuId": "0001", "availabilityId": "CFQ7TTC0LHSF", "skuName": "Microsoft 365 Business Basic", "productName": "Microsoft 365 Business Basic", "chargeType": "{charge}", "unitPrice": 6, "quantity": 10, "subtotal": {total}, "taxTotal": 0, "total": {total}, "currency": "USD", "publisherName": "Microsoft", "subscriptionId": "5c2a8a1e-0000-4000-8000-000000000009", "chargeStartDate": "2024-10-01T00:00:00Z", "chargeEndDate": "2024-10-31T00:00:00Z", "termAndBillingCycle": "1 Month Subscription", "effectiveUnitPrice": 6, "unitType": "Licenses", "billableQuantity": 10, "billingFrequency": "Monthly", "pricingCurrency": "USD", "pcToBCExchangeRate": 1, "productCategory": "Software"}}"#
        )
    };
    w.write_gz(
        &format!("in/billed/{BLOB_A}"),
        format!(
            "{}\n{}\n",
            line("cycleCharge", "60"),
            line("customerCredit", "-6")
        ),
    );
    let ran = run_ok(&w, false, &[]);
    assert_eq!(ran.counts(&format!("billed/{BLOB_A}")), (2, 2, 0));
    let totals: f64 = input_text(&w, "billed", "total")
        .iter()
        .map(|c| c.parse::<f64>().unwrap())
        .sum();
    assert_eq!(totals, 54.0);
}

#[test]
fn a_file_of_another_shape_in_usage_says_which_shapes_usage_accepts() {
    let w = Workdir::new();
    receivables(&w);
    w.write(
        "in/usage/something.json",
        r#"[{"id": "1", "displayName": "not usage"}]"#,
    );
    run_fails(
        &w,
        &[
            "something.json: missing required column customer_id",
            "usage/ accepts Partner Center daily rated usage",
            "a FOCUS 1.0-1.2 cost export",
            "a Microsoft Graph billing export",
        ],
    );
}
