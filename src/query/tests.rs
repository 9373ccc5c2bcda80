//! Tests of the catalog and of every ready query in queries/, on one small hand-made world:
//! four customers (c1..c4) seen consistently in every input and output table, as of 2026-10-19.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use super::*;
use crate::schema::{self, TableDef};

const AS_OF: &str = "2026-10-19";

/// A frame with exactly the table's schema: the listed columns from the rows (an empty cell is
/// null), every other column all null.
fn table(def: &TableDef, columns: &[&str], rows: &[&[&str]]) -> (&'static str, DataFrame) {
    for c in columns {
        assert!(
            def.column_names().contains(c),
            "{} has no column {c}",
            def.name
        );
    }
    for r in rows {
        assert_eq!(
            r.len(),
            columns.len(),
            "row of {} has the wrong width: {r:?}",
            def.name
        );
    }
    let height = rows.len();
    let series: Vec<Column> = (def.columns)()
        .into_iter()
        .map(|(name, dtype)| {
            let Some(idx) = columns.iter().position(|c| *c == name) else {
                return Column::full_null(name.into(), height, &dtype);
            };
            let cells: Vec<Option<&str>> = rows
                .iter()
                .map(|r| Some(r[idx]).filter(|s| !s.is_empty()))
                .collect();
            typed(name, &dtype, &cells).into_column()
        })
        .collect();
    (def.name, DataFrame::new(height, series).unwrap())
}

fn typed(name: &str, dtype: &DataType, cells: &[Option<&str>]) -> Series {
    let name: PlSmallStr = name.into();
    let parsed =
        |f: &dyn Fn(&str) -> i64| -> Vec<Option<i64>> { cells.iter().map(|c| c.map(f)).collect() };
    match dtype {
        DataType::String => Series::new(name, cells.to_vec()),
        DataType::Boolean => Series::new(
            name,
            cells
                .iter()
                .map(|c| c.map(|s| s.parse::<bool>().unwrap()))
                .collect::<Vec<_>>(),
        ),
        DataType::Float64 => Series::new(
            name,
            cells
                .iter()
                .map(|c| c.map(|s| s.parse::<f64>().unwrap()))
                .collect::<Vec<_>>(),
        ),
        DataType::Int64 => Series::new(name, parsed(&|s| s.parse().unwrap())),
        DataType::Int32 => Series::new(
            name,
            cells
                .iter()
                .map(|c| c.map(|s| s.parse::<i32>().unwrap()))
                .collect::<Vec<_>>(),
        ),
        DataType::UInt32 => Series::new(
            name,
            cells
                .iter()
                .map(|c| c.map(|s| s.parse::<u32>().unwrap()))
                .collect::<Vec<_>>(),
        ),
        DataType::Date => {
            let days: Vec<Option<i32>> = cells
                .iter()
                .map(|c| {
                    c.map(|s| {
                        (date(s) - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
                    })
                })
                .collect();
            Series::new(name, days).cast(&DataType::Date).unwrap()
        }
        DataType::Datetime(TimeUnit::Microseconds, _) => {
            let micros = parsed(&|s| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                    .unwrap()
                    .and_utc()
                    .timestamp_micros()
            });
            Series::new(name, micros).cast(dtype).unwrap()
        }
        DataType::Decimal(_, _) => Series::new(name, cells.to_vec()).cast(dtype).unwrap(),
        other => panic!("no test conversion for {other:?}"),
    }
}

/// The non-null values of a String column.
fn strings(df: &DataFrame, column: &str) -> Vec<String> {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Every table of schema.rs, a few rows each, consistent ids. The planted answer for
/// prepaid_forecast_over_budget: c2 is the only customer both forecast over (or over) budget and
/// paying by prepaid card (c1 is over but pays by bank transfer, c3 forecast over but by card,
/// c4 prepaid but only at warning).
fn world() -> Vec<(&'static str, DataFrame)> {
    use schema::*;
    vec![
        table(&usage::DEF,
            &["customer_id", "customer_name", "customer_country", "invoice_number", "subscription_id", "entitlement_id", "usage_date", "meter_category", "meter_subcategory", "meter_name", "region", "charge_type", "unit_price", "quantity", "unit", "cost", "currency", "source_file", "source_line"],
            &[
                &["c1", "Alpha GmbH", "DE", "", "sub-1", "e1", "2026-10-18", "Virtual Machines", "Dv5 Series", "D4s v5", "westeurope", "new", "0.2", "24", "1 Hour", "120.5", "EUR", "usage/u.csv", "2"],
                &["c2", "Beta Ltd", "GB", "", "sub-2", "e2", "2026-10-19", "Virtual Machines", "NCasT4_v3 Series", "NC64as T4 v3", "eastus", "new", "33.3333", "24", "1 Hour", "800", "GBP", "usage/u.csv", "3"],
                &["c3", "Gamma Inc", "US", "G000123", "sub-3", "e3", "2026-10-01", "Storage", "Standard SSD", "E10 LRS Disk", "eastus", "new", "0.3333", "30", "1/Month", "10", "USD", "usage/u.csv", "4"],
            ]),
        table(&billed::DEF,
            &["customer_id", "customer_name", "invoice_number", "subscription_id", "product_name", "charge_type", "charge_start_date", "charge_end_date", "quantity", "total", "currency", "source_file", "source_line"],
            &[&["c1", "Alpha GmbH", "G000100", "sub-1", "Azure plan", "new", "2026-09-01", "2026-09-30", "1", "700", "EUR", "billed/b.csv", "2"]]),
        table(&invoices::DEF,
            &["invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency", "service_month"],
            &[
                &["inv-1", "c1", "2026-08-01", "2026-08-31", "1000", "EUR", "2026-07"],
                &["inv-2", "c2", "2026-10-06", "2026-10-13", "400", "GBP", "2026-10"],
                &["inv-3", "c3", "2026-06-01", "2026-07-01", "500", "USD", "2026-05"],
                &["inv-4", "c4", "2026-07-31", "2026-08-30", "300", "EUR", "2026-07"],
                &["inv-5", "c1", "2026-10-01", "2026-10-31", "250", "EUR", "2026-10"],
            ]),
        table(&payments::DEF,
            &["payment_id", "customer_id", "invoice_id", "payment_date", "amount", "currency", "instrument"],
            &[
                &["p1", "c1", "inv-1", "2026-09-20", "1000", "EUR", "bank_transfer"],
                &["p2", "c2", "inv-2", "2026-10-10", "100", "GBP", "prepaid_card"],
                &["p3", "c4", "", "2026-10-01", "50", "EUR", "prepaid_card"],
                &["p4", "c3", "inv-3", "2026-08-15", "200", "USD", "card"],
                &["p5", "c2", "inv-2", "2026-10-12", "20", "GBP", "prepaid_card"],
                &["p6", "c3", "inv-3", "2026-09-01", "-20", "USD", "card"],
            ]),
        table(&activity::DEF,
            &["event_time", "customer_id", "subscription_id", "caller", "operation", "operation_lower", "status", "client_ip", "location", "role", "resource_id", "source_file", "source_line"],
            &[
                &["2026-10-18 02:10:00", "c2", "e2", "alice@evil.example", "Microsoft.Compute/virtualMachines/write", "microsoft.compute/virtualmachines/write", "Succeeded", "203.0.113.7", "eastus", "", "/subscriptions/e2/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "activity/a.json", "1"],
                &["2026-10-18 02:15:00", "c2", "e2", "alice@evil.example", "Microsoft.Authorization/roleAssignments/write", "microsoft.authorization/roleassignments/write", "Succeeded", "203.0.113.7", "", "Owner", "/subscriptions/e2/providers/Microsoft.Authorization/roleAssignments/r1", "activity/a.json", "2"],
                &["2026-10-19 09:00:00", "c2", "e2", "alice@evil.example", "Microsoft.Compute/virtualMachines/write", "microsoft.compute/virtualmachines/write", "Failed", "198.51.100.9", "westeurope", "", "/subscriptions/e2/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm2", "activity/a.json", "3"],
                &["2026-10-17 23:59:00", "c2", "e2", "alice@evil.example", "Microsoft.Resources/deployments/validate/action", "microsoft.resources/deployments/validate/action", "Succeeded", "203.0.113.7", "", "", "/subscriptions/e2/resourceGroups/rg", "activity/a.json", "4"],
                &["2026-10-18 08:00:00", "c2", "e2", "bob@beta.example", "Microsoft.Storage/storageAccounts/write", "microsoft.storage/storageaccounts/write", "Succeeded", "192.0.2.1", "uksouth", "", "/subscriptions/e2/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/s1", "activity/a.json", "5"],
                &["2026-10-18 08:30:00", "c1", "e1", "alice@evil.example", "Microsoft.Compute/virtualMachines/write", "microsoft.compute/virtualmachines/write", "Succeeded", "192.0.2.2", "westeurope", "", "/subscriptions/e1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm9", "activity/a.json", "6"],
            ]),
        table(&audit_records::DEF,
            &["operation_date", "customer_id", "customer_name", "user_principal_name", "resource_type", "operation_type", "operation_status", "resource_old_value", "resource_new_value"],
            &[&["2026-10-17 14:00:00", "c2", "Beta Ltd", "admin@partner.example", "customer", "increase_spending_limit", "succeeded", "1000", "5000"]]),
        table(&budgets::DEF,
            &["customer_id", "month", "budget", "currency"],
            &[
                &["c1", "", "200", "EUR"],
                &["c2", "2026-10", "1500", "GBP"],
                &["c3", "2026-10", "20", "USD"],
                &["c4", "", "70", "EUR"],
            ]),
        table(&customers::DEF,
            &["customer_id", "customer_name", "country", "created_date", "verified", "credit_limit"],
            &[
                &["c1", "Alpha GmbH", "DE", "2025-01-10", "true", "50000"],
                &["c2", "Beta Ltd", "GB", "2026-10-05", "false", "2000"],
                &["c3", "Gamma Inc", "US", "2024-06-01", "true", "10000"],
                &["c4", "Delta SAS", "FR", "2026-09-25", "false", "5000"],
            ]),
        table(&fraud_events::DEF,
            &["event_time", "event_id", "customer_id", "customer_name", "subscription_id", "entity_name", "hit_count", "event_status", "resolved_reason", "first_occurrence", "last_occurrence", "event_type", "severity", "confidence_level", "country"],
            &[
                &["2026-10-15 06:00:00", "ev1", "c3", "Gamma Inc", "e3", "vm-miner", "12", "Active", "", "2026-10-14 22:00:00", "", "CryptoMining", "High", "High", "US"],
                &["2026-09-01 06:00:00", "ev2", "c1", "Alpha GmbH", "e1", "vm-batch", "2", "Resolved", "Ignore", "2026-08-31 10:00:00", "2026-08-31 12:00:00", "UsageAnomaly", "Low", "Low", "DE"],
                &["2026-10-18 07:00:00", "ev3", "c2", "Beta Ltd", "e2", "vm1", "3", "Investigating", "", "2026-10-18 02:30:00", "", "DeploymentAnomaly", "Medium", "Medium", "GB"],
            ]),
        table(&fx_rates::DEF,
            &["date", "currency", "rate"],
            &[&["2026-10-19", "EUR", "1"], &["2026-10-19", "GBP", "1.15"], &["2026-10-19", "USD", "0.92"]]),
        table(&dispositions::DEF,
            &["customer_id", "reason_code", "verdict", "valid_until", "analyst", "note"],
            &[
                &["c1", "usage_spike", "legitimate", "2026-10-25", "ana", "planned migration to Dv5"],
                &["c4", "*", "planned", "2026-12-31", "ben", "reseller pilot"],
            ]),
        table(&usage_daily::DEF,
            &["customer_id", "entitlement_id", "meter_category", "usage_date", "currency", "cost", "quantity", "rows"],
            &[
                &["c1", "e1", "Virtual Machines", "2026-10-18", "EUR", "120.5", "24", "3"],
                &["c1", "e1", "Virtual Machines", "2026-10-19", "EUR", "130", "24", "3"],
                &["c1", "e1", "Storage", "2026-10-19", "EUR", "5.25", "30", "1"],
                &["c2", "e2", "Virtual Machines", "2026-10-18", "GBP", "300", "9", "2"],
                &["c2", "e2", "Virtual Machines", "2026-10-19", "GBP", "800", "24", "4"],
                &["c3", "e3", "Storage", "2026-10-19", "USD", "10", "30", "1"],
                &["c4", "e4", "Virtual Machines", "2026-09-28", "EUR", "40", "12", "1"],
                &["c4", "e4", "Virtual Machines", "2026-10-19", "EUR", "60", "18", "2"],
            ]),
        table(&rejected_rows::DEF,
            &["source", "file", "line", "column", "reason", "raw"],
            &[
                &["usage", "usage/u.csv", "7", "UsageDate", "expected a date (MM/DD/YYYY or ISO 8601), found \"13/45/2026\"", "c1,13/45/2026,..."],
                &["usage", "usage/u.csv", "9", "UsageDate", "expected a date (MM/DD/YYYY or ISO 8601), found \"13/45/2026\"", "c2,13/45/2026,..."],
                &["payments", "receivables/payments.csv", "3", "amount", "expected a decimal number, found \"12,5\"", "p9,c2,,2026-10-01,\"12,5\",GBP,card"],
            ]),
        table(&aging_invoices::DEF,
            &["invoice_id", "customer_id", "currency", "issue_date", "due_date", "amount", "paid", "outstanding", "days_past_due", "bucket"],
            &[
                &["inv-1", "c1", "EUR", "2026-08-01", "2026-08-31", "1000", "1000", "0", "49", "31_60"],
                &["inv-2", "c2", "GBP", "2026-10-06", "2026-10-13", "400", "120", "280", "6", "1_30"],
                &["inv-3", "c3", "USD", "2026-06-01", "2026-07-01", "500", "180", "320", "110", "91_120"],
                &["inv-4", "c4", "EUR", "2026-07-31", "2026-08-30", "300", "0", "300", "50", "31_60"],
                &["inv-5", "c1", "EUR", "2026-10-01", "2026-10-31", "250", "0", "250", "-12", "current"],
            ]),
        table(&aging_customers::DEF,
            &["customer_id", "currency", "bucket_current", "bucket_1_30", "bucket_31_60", "bucket_61_90", "bucket_91_120", "bucket_120_plus", "total_outstanding", "unapplied_credit", "net_outstanding", "oldest_days_past_due", "dso_90d", "action"],
            &[
                &["c1", "EUR", "250", "0", "0", "0", "0", "0", "250", "0", "250", "-12", "30.5", ""],
                &["c2", "GBP", "0", "280", "0", "0", "0", "0", "280", "0", "280", "6", "40", "reminder"],
                &["c3", "USD", "0", "0", "0", "0", "320", "0", "320", "0", "320", "110", "95.4", "write_off_review"],
                &["c4", "EUR", "0", "0", "300", "0", "0", "0", "300", "50", "250", "50", "120", "suspend"],
            ]),
        table(&collections_actions::DEF,
            &["customer_id", "customer_name", "currency", "past_due", "oldest_days_past_due", "action", "reason"],
            &[
                &["c2", "Beta Ltd", "GBP", "280", "6", "reminder", "1 invoice 6 days past due"],
                &["c3", "Gamma Inc", "USD", "320", "110", "write_off_review", "1 invoice 110 days past due"],
                &["c4", "Delta SAS", "EUR", "300", "50", "suspend", "1 invoice 50 days past due"],
            ]),
        table(&budget_status::DEF,
            &["customer_id", "month", "currency", "budget", "mtd_spend", "utilization", "forecast", "status", "warning_crossed_on", "budget_crossed_on"],
            &[
                &["c1", "2026-10", "EUR", "200", "255.75", "1.27875", "600", "over", "2026-10-18", "2026-10-19"],
                &["c2", "2026-10", "GBP", "1500", "1100", "0.733333", "3400", "forecast_over", "", ""],
                &["c3", "2026-10", "USD", "20", "10", "0.5", "25", "forecast_over", "", ""],
                &["c4", "2026-10", "EUR", "70", "60", "0.857143", "65", "warning", "2026-10-19", ""],
            ]),
        table(&budget_daily::DEF,
            &["customer_id", "usage_date", "spend", "cumulative_spend", "budget"],
            &[
                &["c1", "2026-10-18", "120.5", "120.5", "200"],
                &["c1", "2026-10-19", "135.25", "255.75", "200"],
                &["c2", "2026-10-18", "300", "300", "1500"],
                &["c2", "2026-10-19", "800", "1100", "1500"],
                &["c4", "2026-10-19", "60", "60", "70"],
            ]),
        table(&reconciliation::DEF,
            &["customer_id", "service_month", "currency", "cost", "invoiced", "margin", "status"],
            &[
                &["c1", "2026-07", "EUR", "800", "1000", "200", "ok"],
                &["c1", "2026-10", "EUR", "255.75", "250", "-5.75", "negative_margin"],
                &["c2", "2026-10", "GBP", "1100", "400", "-700", "negative_margin"],
                &["c3", "2026-05", "USD", "450", "500", "50", "ok"],
                &["c4", "2026-07", "EUR", "280", "300", "20", "ok"],
                &["c4", "2026-10", "EUR", "60", "0", "-60", "unbilled"],
            ]),
        table(&anomalies::DEF,
            &["customer_id", "entity", "family", "signal", "date", "actual", "expected", "score", "reason", "suppressed"],
            &[
                &["c2", "e2", "usage", "gpu_meter", "2026-10-19", "800", "0", "0.9", "GPU VM spend 800.00 GBP on 2026-10-19, never used before", "false"],
                &["c2", "alice@evil.example", "activity", "new_caller", "2026-10-18", "3", "0", "0.7", "alice@evil.example made 3 write operations, never seen before", "false"],
                &["c1", "e1", "usage", "usage_spike", "2026-10-10", "130", "40", "0.5", "Virtual Machines spend 3.3x its 28-day median", "true"],
                &["c1", "e1", "usage", "usage_spike", "2026-10-19", "135.25", "40", "0.55", "Virtual Machines spend 3.4x its 28-day median", "true"],
                &["c4", "c4", "payment", "prepaid_instrument", "2026-10-01", "50", "0", "0.4", "pays by prepaid card", "false"],
                &["c3", "ev1", "fraud", "fraud_event", "2026-10-15", "12", "0", "1", "Partner Center CryptoMining event, high severity", "false"],
            ]),
        table(&risk_scores::DEF,
            &["customer_id", "customer_name", "risk_score", "tier", "exposure", "currency", "top_reasons", "usage", "activity", "payment", "fraud"],
            &[
                &["c2", "Beta Ltd", "82", "critical", "3680", "GBP", "GPU VM spend 800.00 GBP on 2026-10-19; new caller alice@evil.example", "40", "25", "17", "0"],
                &["c3", "Gamma Inc", "60", "high", "335", "USD", "Partner Center CryptoMining event", "0", "0", "0", "60"],
                &["c4", "Delta SAS", "35", "medium", "315", "EUR", "pays by prepaid card; unverified", "0", "0", "35", "0"],
                &["c1", "Alpha GmbH", "5", "low", "850", "EUR", "", "5", "0", "0", "0"],
            ]),
        table(&changes::DEF,
            &["priority", "customer_id", "customer_name", "currency", "topic", "kind", "signal", "before", "after", "reason", "first_seen"],
            &[
                &["1", "c2", "Beta Ltd", "", "risk", "risk_newly_critical", "", "high", "critical", "risk tier high -> critical, score 60.0 -> 82.0: GPU VM spend 800.00 GBP on 2026-10-19", ""],
                &["3", "c3", "Gamma Inc", "USD", "collections", "action_escalated", "", "reminder", "final_notice", "collections action reminder -> final_notice", ""],
                &["6", "c2", "Beta Ltd", "", "anomaly", "new_anomaly", "gpu_meter", "", "active", "GPU VM spend 800.00 GBP on 2026-10-19, never used before", "2026-10-19"],
                &["10", "c4", "Delta SAS", "", "customer", "new_customer", "", "", "medium", "first seen in this run, at risk tier medium (score 35.0)", ""],
            ]),
    ]
}

/// The fixture frame of one table.
fn fixture(name: &str) -> DataFrame {
    world()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture for table {name}"))
        .1
}

/// Every table of schema.rs, by name. Fails when a new table is added to schema.rs's lists
/// without a fixture here, so every shipped query keeps running against every table.
fn catalog() -> Catalog {
    use schema::*;
    let defs: Vec<&TableDef> = INPUT_TABLES
        .iter()
        .copied()
        .chain([
            &usage_daily::DEF,
            &rejected_rows::DEF,
            &aging_invoices::DEF,
            &aging_customers::DEF,
            &collections_actions::DEF,
            &budget_status::DEF,
            &budget_daily::DEF,
            &reconciliation::DEF,
            &anomalies::DEF,
            &risk_scores::DEF,
            &changes::DEF,
        ])
        .collect();
    let mut catalog = Catalog::new();
    for def in defs {
        let frame = fixture(def.name);
        assert_eq!(
            frame.schema().as_ref(),
            &def.schema(),
            "fixture of {}",
            def.name
        );
        catalog.register(def.name, frame.lazy());
    }
    // A run's anomalies carry first_seen (a run without a previous run: each alert's first date).
    let anomalies =
        crate::analysis::changes::with_first_seen(fixture(anomalies::TABLE).lazy(), None);
    catalog.register(anomalies::TABLE, anomalies);
    assert_eq!(
        catalog.names().len(),
        world().len(),
        "a fixture table is not in schema.rs"
    );
    catalog
}

fn queries_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("queries")
}

fn ready_queries() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(queries_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

/// Runs a query file the way `billrisk query -f FILE --param as_of=...` does.
fn run_file(catalog: &Catalog, path: &Path) -> Result<DataFrame> {
    let text = std::fs::read_to_string(path).unwrap();
    let params: Vec<String> = placeholders(&text)
        .into_iter()
        .map(|name| match name.as_str() {
            "as_of" => format!("as_of={AS_OF}"),
            other => panic!("{}: no test value for parameter {other}", path.display()),
        })
        .collect();
    let sql = substitute_params(&text, &params)?;
    run_sql(catalog, &sql, &path.display().to_string())
}

#[test]
fn every_ready_query_runs_and_matches_its_snapshot() {
    let catalog = catalog();
    let files = ready_queries();
    assert!(
        files.len() >= 12,
        "only {} queries in queries/",
        files.len()
    );
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("-- "),
            "{} must open with a `--` comment saying what it answers",
            path.display()
        );
        assert_eq!(sql_text::count_statements(&text), 1, "{}", path.display());
        let df = run_file(&catalog, path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            df.height() > 0,
            "{} returns no rows on the test world",
            path.display()
        );
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::with_settings!({ description => format!("queries/{name}.sql on the test world, as_of {AS_OF}") }, {
            insta::assert_snapshot!(name, format_table(&df));
        });
    }
}

#[test]
fn readme_lists_every_ready_query_with_its_parameters() {
    let readme = std::fs::read_to_string(queries_dir().join("README.md")).unwrap();
    for path in ready_queries() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {file} |")))
            .unwrap_or_else(|| panic!("queries/README.md has no row for {file}"));
        let params = placeholders(&std::fs::read_to_string(&path).unwrap()).join(", ");
        assert!(
            row.trim_end()
                .ends_with(&format!("| {params} |").replace("|  |", "| |")),
            "{row}"
        );
    }
}

#[test]
fn prepaid_forecast_over_budget_finds_the_planted_customer() {
    let catalog = catalog();
    let df = run_file(
        &catalog,
        &queries_dir().join("prepaid_forecast_over_budget.sql"),
    )
    .unwrap();
    // Independently, from the fixture: customers with status over/forecast_over are c1, c2, c3;
    // prepaid_card payers are c2 (p2, p5) and c4 (p3); the intersection is c2 alone.
    let status = fixture(schema::budget_status::TABLE);
    let payments = fixture(schema::payments::TABLE);
    let over: BTreeSet<String> = strings(&status, "customer_id")
        .into_iter()
        .zip(strings(&status, "status"))
        .filter(|(_, s)| s == "over" || s == "forecast_over")
        .map(|(c, _)| c)
        .collect();
    let prepaid: BTreeSet<String> = strings(&payments, "customer_id")
        .into_iter()
        .zip(strings(&payments, "instrument"))
        .filter(|(_, instrument)| instrument == "prepaid_card")
        .map(|(c, _)| c)
        .collect();
    let expected: Vec<String> = over.intersection(&prepaid).cloned().collect();
    assert_eq!(expected, vec!["c2".to_string()]);

    let got = strings(&df, "customer_id");
    assert_eq!(got, expected);
    // c2 paid 100.0000 + 20.0000 by prepaid card = 120.0000; forecast 3400 - budget 1500 = 1900.
    let row = df.head(Some(1));
    assert_eq!(
        row.column("prepaid_amount").unwrap().get(0).unwrap(),
        AnyValue::Decimal(1_200_000, 38, 4)
    );
    assert_eq!(
        row.column("forecast_overrun")
            .unwrap()
            .f64()
            .unwrap()
            .get(0),
        Some(1900.0)
    );
}

#[test]
fn anomalies_window_is_the_seven_days_up_to_as_of() {
    let catalog = catalog();
    let df = run_file(&catalog, &queries_dir().join("anomalies_last_7_days.sql")).unwrap();
    // Window 2026-10-13..=2026-10-19: gpu_meter (10-19), new_caller (10-18), fraud_event (10-15);
    // usage_spike 10-19 is suppressed, usage_spike 10-10 and prepaid_instrument 10-01 are older.
    let signals = strings(&df, "signal");
    assert_eq!(signals, vec!["fraud_event", "gpu_meter", "new_caller"]);
}

#[test]
fn unknown_table_lists_the_tables_that_exist() {
    let mut catalog = Catalog::new();
    catalog.register("payments", schema::payments::DEF.empty().lazy());
    catalog.register(
        "aging_customers",
        schema::aging_customers::DEF.empty().lazy(),
    );
    let err = run_sql(&catalog, "SELECT * FROM payment", "command line").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("query command line: "), "{msg}");
    assert!(msg.contains("'payment'"), "{msg}");
    assert!(
        msg.ends_with("the tables are: aging_customers, payments"),
        "{msg}"
    );
    // The same inside a join.
    let err = run_sql(
        &catalog,
        "SELECT * FROM payments p JOIN invoices i ON i.invoice_id = p.invoice_id",
        "command line",
    )
    .unwrap_err();
    assert!(err.to_string().contains("'invoices'"), "{err}");
    assert!(
        err.to_string().ends_with("aging_customers, payments"),
        "{err}"
    );
}

#[test]
fn bad_sql_names_the_file_and_the_offending_part() {
    let catalog = catalog();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.sql");
    std::fs::write(
        &path,
        "-- broken on purpose\nSELECT customer_id FROM customers WHERE AND country = 'DE'",
    )
    .unwrap();
    let err = run_file(&catalog, &path).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("query {}: ", path.display())),
        "{msg}"
    );
    // Polars (sqlparser) quotes the token it stumbled on and where.
    assert!(msg.contains("found: country at Line: 2"), "{msg}");
    assert!(matches!(err, Error::Query { .. }));

    let err = run_sql(
        &catalog,
        "SELECT no_such_column FROM customers",
        "command line",
    )
    .unwrap_err();
    assert!(err.to_string().contains("no_such_column"), "{err}");
}

#[test]
fn more_than_one_statement_is_refused() {
    let catalog = catalog();
    let err = run_sql(&catalog, "SELECT 1 AS a; SELECT 2 AS b;", "queries/two.sql").unwrap_err();
    assert_eq!(
        err.to_string(),
        "query queries/two.sql: found 2 statements separated by `;`; billrisk query runs exactly one (put each in its own file)"
    );
    let err = run_sql(&catalog, "-- nothing here\n", "command line").unwrap_err();
    assert!(err.to_string().contains("no SQL statement"), "{err}");
    // A trailing semicolon and a `;` inside a string are one statement.
    let df = run_sql(
        &catalog,
        "SELECT 'a;b' AS s FROM customers LIMIT 1;",
        "command line",
    )
    .unwrap();
    assert_eq!(df.column("s").unwrap().str().unwrap().get(0), Some("a;b"));
}

#[test]
fn params_reach_the_query_escaped() {
    let catalog = catalog();
    let sql = substitute_params(
        "SELECT customer_id FROM customers WHERE customer_name = '{{name}}' OR country = '{{country}}' ORDER BY customer_id",
        &["name=Beta' OR '1'='1".to_string(), "country=FR".to_string()],
    )
    .unwrap();
    let df = run_sql(&catalog, &sql, "command line").unwrap();
    // The injected quote stays inside the string, so only the country matches: c4.
    let ids = strings(&df, "customer_id");
    assert_eq!(ids, vec!["c4"]);
}

#[test]
fn from_out_dir_reads_tables_and_inputs_by_stem() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    std::fs::create_dir_all(out.join(TABLES_DIR)).unwrap();
    std::fs::create_dir_all(out.join(INPUTS_DIR)).unwrap();
    let write = |path: PathBuf, df: &DataFrame| {
        let mut df = df.clone();
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .finish(&mut df)
            .unwrap();
    };
    write(
        out.join(TABLES_DIR).join("aging_customers.parquet"),
        &fixture(schema::aging_customers::TABLE),
    );
    write(
        out.join(TABLES_DIR).join("budget_status.parquet"),
        &fixture(schema::budget_status::TABLE),
    );
    write(
        out.join(INPUTS_DIR).join("customers.parquet"),
        &fixture(schema::customers::TABLE),
    );
    write(
        out.join(INPUTS_DIR).join("payments.parquet"),
        &fixture(schema::payments::TABLE),
    );
    std::fs::write(out.join(TABLES_DIR).join("notes.txt"), "not a table").unwrap();
    std::fs::write(out.join("report.html"), "<html></html>").unwrap();

    let catalog = Catalog::from_out_dir(out).unwrap();
    assert_eq!(
        catalog.names(),
        vec!["aging_customers", "budget_status", "customers", "payments"]
    );
    let df = run_file(
        &catalog,
        &queries_dir().join("prepaid_forecast_over_budget.sql"),
    )
    .unwrap();
    let ids = strings(&df, "customer_id");
    assert_eq!(ids, vec!["c2"]);
    // Ledger money keeps its exact dtype through Parquet: 250 + 280 + 320 + 250 = 1100.0000.
    let total = run_sql(
        &catalog,
        "SELECT SUM(net_outstanding) AS n FROM aging_customers",
        "command line",
    )
    .unwrap();
    assert_eq!(
        total.column("n").unwrap().get(0).unwrap(),
        AnyValue::Decimal(11_000_000, 38, 4)
    );
}

#[test]
fn from_out_dir_without_tables_says_what_it_expected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.html"), "<html></html>").unwrap();
    let msg = Catalog::from_out_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("tables/*.parquet"), "{msg}");
    assert!(msg.contains("found report.html"), "{msg}");

    let msg = Catalog::from_out_dir(&dir.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not a folder"), "{msg}");

    std::fs::create_dir_all(dir.path().join(TABLES_DIR)).unwrap();
    std::fs::write(
        dir.path().join(TABLES_DIR).join("broken.parquet"),
        "not parquet",
    )
    .unwrap();
    let msg = Catalog::from_out_dir(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("broken.parquet"), "{msg}");
    assert!(msg.contains("not a readable Parquet table"), "{msg}");
}

/// The limits of Polars SQL that queries/README.md and the module doc tell analysts about.
#[test]
fn polars_sql_limits_documented_for_analysts_hold() {
    let catalog = catalog();
    let run = |sql: &str| run_sql(&catalog, sql, "command line");
    let err = run(
        "SELECT * FROM budget_daily WHERE usage_date = (SELECT MAX(usage_date) FROM budget_daily)",
    )
    .unwrap_err();
    assert!(err.to_string().contains("use 'IN' instead"), "{err}");
    let err = run(
        "SELECT ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY cost DESC, meter_category) AS n FROM usage_daily",
    )
    .unwrap_err();
    assert!(err.to_string().contains("mixed asc/desc"), "{err}");
    // 2026-10-31 - 2026-10-19 = 12 days, through days since 1970.
    let df = run("SELECT CAST(DATE '2026-10-31' AS INTEGER) - CAST(DATE '2026-10-19' AS INTEGER) AS days FROM customers LIMIT 1")
        .unwrap();
    assert_eq!(
        df.column("days").unwrap().get(0).unwrap().extract::<i64>(),
        Some(12)
    );
    let df =
        run("SELECT DATE '2026-10-31' - DATE '2026-10-19' AS gap FROM customers LIMIT 1").unwrap();
    assert!(matches!(
        df.column("gap").unwrap().dtype(),
        DataType::Duration(_)
    ));
    assert!(format_table(&df).contains("12d"));
    let tables = run("SHOW TABLES").unwrap();
    assert_eq!(
        strings(&tables, tables.get_column_names()[0]).len(),
        catalog.names().len()
    );
}
