//! A tiny hand-made [`ReportData`] (four customers, as of 2026-10-20) with every output table in
//! its schema dtypes: the input of the report's snapshot tests, of the browser test and of a
//! quick look at the report without running the pipeline. Its figures are consistent with each
//! other (budget_daily sums to budget_status, buckets sum to totals) so the report reads true.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{InputSummaryRow, ReportData};
use crate::error::{Error, PolarsContext, Result};
use crate::schema::{
    self, aging_customers as ag, aging_invoices as ai, anomalies as an, budget_alerts as ba,
    budget_daily as bd, budget_status as bs, changes as ch, collections_actions as ca,
    customers as cu, reconciliation as rc, rejected_rows as rj, risk_scores as rs,
    usage_daily as ud,
};

fn d(month: u32, day: u32) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, month, day)
        .ok_or_else(|| Error::Internal(format!("bad example date 2026-{month}-{day}")))
}

/// Casts the named columns to ledger money and checks the frame against its table schema.
fn typed(df: PolarsResult<DataFrame>, money: &[&str]) -> Result<DataFrame> {
    let casts: Vec<Expr> = money
        .iter()
        .map(|c| col(*c).cast(schema::ledger_money()))
        .collect();
    df.stage("report example")?
        .lazy()
        .with_columns(casts)
        .collect()
        .stage("report example")
}

/// The tiny report with ordinary customer names.
pub fn tiny() -> Result<ReportData> {
    tiny_with_names([
        "Contoso Ltd",
        "Fabrikam GmbH",
        "Northwind Traders",
        "Tailspin Toys",
    ])
}

/// The tiny report with the given names for customers c1..c4 (hostile names for escaping tests).
pub fn tiny_with_names(names: [&str; 4]) -> Result<ReportData> {
    let ids = ["c1", "c2", "c3", "c4"];
    let as_of = d(10, 20)?;
    let mut data = ReportData::empty(as_of, "billrisk 0.1.0");
    data.reporting_currency = Some("USD".to_string());

    receivables(&mut data, ids, names)?;
    budgets(&mut data, ids, names)?;
    findings(&mut data, ids, names)?;
    usage_and_inputs(&mut data, ids)?;
    since_last_run(&mut data, names)?;
    Ok(data)
}

/// Daily spend in October up to the 20th:
/// c1 40/day with 500 on the 14th: 19 x 40 + 500 = 1,260 (crosses 800 and 1,000 on the 14th);
/// c2 65/day: 1,300, forecast 1,300 + 11 x 65 = 2,015 >= 2,000;
/// c3 5/day: 100; c4 70/day to the 10th, then nothing: 700 (crosses 640 on the 10th).
fn daily(id: &str, day: u32) -> f64 {
    match id {
        "c1" if day == 14 => 500.0,
        "c1" => 40.0,
        "c2" => 65.0,
        "c3" => 5.0,
        _ if day <= 10 => 70.0,
        _ => 0.0,
    }
}

/// Customers, aging and the collections ladder.
fn receivables(data: &mut ReportData, ids: [&str; 4], names: [&str; 4]) -> Result<()> {
    data.customers = df!(
        cu::CUSTOMER_ID => ids,
        cu::CUSTOMER_NAME => names,
        cu::COUNTRY => ["US", "DE", "US", "GB"],
        cu::CREATED_DATE => [d(1, 5)?, d(3, 1)?, d(2, 2)?, d(9, 30)?],
        cu::VERIFIED => [true, true, true, false],
        cu::CREDIT_LIMIT => [5000.0, 4000.0, 2000.0, 1000.0],
        cu::SOURCE_FILE => ["customers.csv"; 4],
        cu::SOURCE_LINE => [2i64, 3, 4, 5],
    )
    .stage("report example")?;

    // USD: total 2000.75 + 300.00 + 570.00 = 2870.75, past due 1200.50 + 800.25 + 450.00 = 2450.75.
    // EUR: total 750.10, past due 250.10, credit 100.00, net 650.10.
    data.aging_customers = typed(
        df!(
            ag::CUSTOMER_ID => ["c1", "c2", "c3", "c4"],
            ag::CURRENCY => ["USD", "EUR", "USD", "USD"],
            ag::BUCKET_CURRENT => ["0", "500.00", "300.00", "120.00"],
            ag::BUCKET_1_30 => ["0", "250.10", "0", "0"],
            ag::BUCKET_31_60 => ["1200.50", "0", "0", "450.00"],
            ag::BUCKET_61_90 => ["800.25", "0", "0", "0"],
            ag::BUCKET_91_120 => ["0", "0", "0", "0"],
            ag::BUCKET_120_PLUS => ["0", "0", "0", "0"],
            ag::TOTAL_OUTSTANDING => ["2000.75", "750.10", "300.00", "570.00"],
            ag::UNAPPLIED_CREDIT => ["0", "100.00", "0", "0"],
            ag::NET_OUTSTANDING => ["2000.75", "650.10", "300.00", "570.00"],
            ag::OLDEST_DAYS_PAST_DUE => [Some(62i64), Some(12), None, Some(33)],
            ag::DSO_90D => [75.3, 41.0, 20.5, 38.2],
            ag::ACTION => [Some("suspend"), Some("reminder"), None, Some("final_notice")],
        ),
        &[
            ag::BUCKET_CURRENT,
            ag::BUCKET_1_30,
            ag::BUCKET_31_60,
            ag::BUCKET_61_90,
            ag::BUCKET_91_120,
            ag::BUCKET_120_PLUS,
            ag::TOTAL_OUTSTANDING,
            ag::UNAPPLIED_CREDIT,
            ag::NET_OUTSTANDING,
        ],
    )?;

    data.aging_invoices = typed(
        df!(
            ai::INVOICE_ID => ["inv-1", "inv-2", "inv-3", "inv-4", "inv-5", "inv-6", "inv-7"],
            ai::CUSTOMER_ID => ["c1", "c1", "c2", "c2", "c3", "c4", "c4"],
            ai::CURRENCY => ["USD", "USD", "EUR", "EUR", "USD", "USD", "USD"],
            ai::ISSUE_DATE => [d(8, 1)?, d(9, 1)?, d(9, 8)?, d(10, 2)?, d(10, 5)?, d(8, 18)?, d(10, 10)?],
            ai::DUE_DATE => [d(8, 19)?, d(9, 15)?, d(10, 8)?, d(11, 1)?, d(11, 4)?, d(9, 17)?, d(11, 9)?],
            ai::AMOUNT => ["1000.25", "1200.50", "250.10", "500.00", "300.00", "450.00", "120.00"],
            ai::PAID => ["200.00", "0", "0", "0", "0", "0", "0"],
            ai::OUTSTANDING => ["800.25", "1200.50", "250.10", "500.00", "300.00", "450.00", "120.00"],
            ai::DAYS_PAST_DUE => [62i64, 35, 12, -12, -15, 33, -20],
            ai::BUCKET => ["61-90", "31-60", "1-30", "current", "current", "31-60", "current"],
        ),
        &[ai::AMOUNT, ai::PAID, ai::OUTSTANDING],
    )?;

    data.collections_actions = typed(
        df!(
            ca::CUSTOMER_ID => ["c1", "c4", "c2"],
            ca::CUSTOMER_NAME => [names[0], names[3], names[1]],
            ca::CURRENCY => ["USD", "USD", "EUR"],
            ca::PAST_DUE => ["2000.75", "450.00", "250.10"],
            ca::OLDEST_DAYS_PAST_DUE => [62i64, 33, 12],
            ca::ACTION => ["suspend", "final_notice", "reminder"],
            ca::REASON => [
                "oldest invoice inv-1 62 days past due",
                "oldest invoice inv-6 33 days past due",
                "oldest invoice inv-3 12 days past due",
            ],
        ),
        &[ca::PAST_DUE],
    )?;
    Ok(())
}

/// The budget tables.
fn budgets(data: &mut ReportData, ids: [&str; 4], names: [&str; 4]) -> Result<()> {
    let budgets = [1000.0, 2000.0, 500.0, 800.0];
    let (mut b_id, mut b_cur, mut b_day, mut b_spend, mut b_cum, mut b_budget) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (k, id) in ids.iter().enumerate() {
        let mut cum = 0.0;
        for day in 1..=20 {
            let s = daily(id, day);
            cum += s;
            b_id.push(*id);
            b_cur.push(if *id == "c2" { "EUR" } else { "USD" });
            b_day.push(d(10, day)?);
            b_spend.push(s);
            b_cum.push(cum);
            b_budget.push(budgets[k]);
        }
    }
    data.budget_daily = df!(
        bd::CUSTOMER_ID => b_id,
        bd::CURRENCY => b_cur,
        bd::USAGE_DATE => b_day,
        bd::SPEND => b_spend,
        bd::CUMULATIVE_SPEND => b_cum,
        bd::BUDGET => b_budget,
    )
    .stage("report example")?;

    // Daily rate r = spend of the last 7 days / 7: c1 (6 x 40 + 500) / 7 = 105.714...,
    // forecast 1,260 + 11 x 105.714... = 2,422.857...; c4 spent nothing in the last 7 days.
    data.budget_status = df!(
        bs::CUSTOMER_ID => ids,
        bs::MONTH => ["2026-10"; 4],
        bs::CURRENCY => ["USD", "EUR", "USD", "USD"],
        bs::BUDGET => budgets,
        bs::MTD_SPEND => [1260.0, 1300.0, 100.0, 700.0],
        bs::UTILIZATION => [1.26, 0.65, 0.2, 0.875],
        bs::FORECAST => [2422.857142857143, 2015.0, 155.0, 700.0],
        bs::STATUS => ["over", "forecast_over", "ok", "warning"],
        bs::WARNING_CROSSED_ON => [Some(d(10, 14)?), None, None, Some(d(10, 10)?)],
        bs::BUDGET_CROSSED_ON => [Some(d(10, 14)?), None, None, None],
        bs::FORECAST_CROSSED_ON => [None, Some(d(10, 31)?), None, None],
        bs::DAILY_RATE => [105.71428571428571, 65.0, 5.0, 0.0],
        bs::DAYS_LEFT => [11i64; 4],
        bs::BUDGET_ORIGINAL => budgets,
        bs::BUDGET_CURRENCY => ["USD", "EUR", "USD", "USD"],
        bs::BUDGET_NOTE => ["budget for 2026-10"; 4],
    )
    .stage("report example")?;
    // Written by hand (not by analysis::budgets) so the report's snapshots do not change with
    // the wording of the budget actions.
    data.budget_alerts = df!(
        ba::CUSTOMER_ID => ["c1", "c2", "c4"],
        ba::CUSTOMER_NAME => [names[0], names[1], names[3]],
        ba::CURRENCY => ["USD", "EUR", "USD"],
        ba::STATUS => ["over", "forecast_over", "warning"],
        ba::MTD_SPEND => [1260.0, 1300.0, 700.0],
        ba::BUDGET => [1000.0, 2000.0, 800.0],
        ba::FORECAST => [2422.857142857143, 2015.0, 700.0],
        ba::UTILIZATION => [1.26, 0.65, 0.875],
        ba::DAILY_RATE => [105.71428571428571, 65.0, 0.0],
        ba::FORECAST_CROSSED_ON => [None, Some(d(10, 31)?), None],
        ba::ACTION => [
            "Contact the customer now; consider lowering the spending limit",
            "Contact the customer: spend reaches the budget around 2026-10-31",
            "Tell the customer: spend reached the warning level",
        ],
        ba::WHY => [
            "month-to-date spend 1,260.00 USD is 126 % of the 1,000.00 USD budget",
            "forecast 2,015.00 EUR = 1,300.00 + 65.00/day x 11 days left",
            "month-to-date spend 700.00 USD is 87.5 % of the 800.00 USD budget",
        ],
    )
    .stage("report example")?;
    Ok(())
}

/// Reconciliation, anomalies, risk scores and the review queue.
fn findings(data: &mut ReportData, ids: [&str; 4], names: [&str; 4]) -> Result<()> {
    data.reconciliation = df!(
        rc::CUSTOMER_ID => ["c1", "c2", "c4"],
        rc::SERVICE_MONTH => ["2026-09"; 3],
        rc::CURRENCY => ["USD", "EUR", "USD"],
        rc::COST => [900.0, 600.0, 500.0],
        rc::INVOICED => [1000.25, 0.0, 450.0],
        rc::MARGIN => [100.25, -600.0, -50.0],
        rc::STATUS => ["ok", "not_invoiced", "negative_margin"],
    )
    .stage("report example")?;

    data.anomalies = df!(
        an::CUSTOMER_ID => ["c1", "c1", "c2", "c4"],
        an::ENTITY => ["sub-1/Virtual Machines", "c1", "sub-2", "sub-4/Storage"],
        an::FAMILY => ["usage", "fraud", "activity", "usage"],
        an::SIGNAL => ["gpu_meter", "fraud_event", "new_caller", "usage_spike"],
        an::DATE => [d(10, 14)?, d(10, 15)?, d(10, 18)?, d(10, 6)?],
        an::ACTUAL => [460.0, 1.0, 12.0, 70.0],
        an::EXPECTED => [11.2, 0.0, 0.0, 20.0],
        an::SCORE => [41.1, 40.0, 18.0, 3.5],
        an::REASON => [
            "GPU VM spend 41x its 28-day median: 460.00 USD on 2026-10-14",
            "Partner Center fraud notification: crypto mining (High)",
            "New caller ops@fabrikam.example wrote 12 resources on 2026-10-18",
            "Storage spend 3.5x its baseline on 2026-10-06 (planned load test)",
        ],
        an::SUPPRESSED => [false, false, false, true],
    )
    .stage("report example")?;

    data.risk_scores = df!(
        rs::CUSTOMER_ID => ids,
        rs::CUSTOMER_NAME => names,
        rs::RISK_SCORE => [92.0, 71.0, 5.0, 38.0],
        rs::TIER => ["critical", "high", "low", "medium"],
        rs::EXPOSURE => [3600.75, 2815.10, 455.0, 1270.0],
        rs::CURRENCY => ["USD", "EUR", "USD", "USD"],
        rs::TOP_REASONS => [
            "GPU VM spend 41x its 28-day median: 460.00 USD on 2026-10-14; Partner Center fraud notification: crypto mining (High)",
            "New caller ops@fabrikam.example wrote 12 resources on 2026-10-18",
            "",
            "unverified customer created 20 days ago",
        ],
        rs::USAGE => [45.0, 0.0, 5.0, 8.0],
        rs::ACTIVITY => [0.0, 71.0, 0.0, 0.0],
        rs::PAYMENT => [7.0, 0.0, 0.0, 30.0],
        rs::FRAUD => [40.0, 0.0, 0.0, 0.0],
        rs::SUPPRESSED_COUNT => [0u32, 0, 1, 0],
    )
    .stage("report example")?;
    data.risk_review = crate::analysis::risk::risk_review(
        data.risk_scores.clone().lazy(),
        crate::tier::Tier::High,
    )
    .collect()
    .stage("report example")?;
    Ok(())
}

/// Usage, rejected rows, FX rates and the input accounting.
fn usage_and_inputs(data: &mut ReportData, ids: [&str; 4]) -> Result<()> {
    // Usage from 2026-09-22 (28 days of history before the 14th's spike) to the as-of date.
    let (mut u_id, mut u_day, mut u_meter, mut u_cost) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let start = d(9, 22)?;
    for offset in 0..=28 {
        let day = start + chrono::Duration::days(offset);
        let october = day >= d(10, 1)?;
        let dom = chrono::Datelike::day(&day);
        for id in ids {
            let cost = match (id, october) {
                ("c1", _) if october && dom == 14 => {
                    // The GPU meter appears beside the usual 40.
                    u_id.push(id);
                    u_day.push(day);
                    u_meter.push("Virtual Machines GPU");
                    u_cost.push(460.0);
                    40.0
                }
                ("c1", _) => 40.0,
                ("c2", _) => 65.0,
                ("c3", _) => 5.0,
                (_, true) => daily(id, dom),
                (_, false) => 20.0,
            };
            if cost > 0.0 {
                u_id.push(id);
                u_day.push(day);
                u_meter.push("Virtual Machines");
                u_cost.push(cost);
            }
        }
    }
    let n = u_id.len();
    data.usage_starts = u_day.iter().min().copied();
    data.usage_daily = df!(
        ud::CUSTOMER_ID => u_id,
        ud::ENTITLEMENT_ID => vec!["sub"; n],
        ud::METER_CATEGORY => u_meter,
        ud::USAGE_DATE => u_day,
        ud::CURRENCY => vec!["USD"; n],
        ud::COST => u_cost,
        ud::QUANTITY => vec![1.0; n],
        ud::ROWS => vec![1u32; n],
    )
    .stage("report example")?;

    data.rejected_rows = df!(
        rj::SOURCE => ["invoices", "usage"],
        rj::FILE => ["receivables/invoices.csv", "usage/2026-10.csv"],
        rj::LINE => [7i64, 120],
        rj::COLUMN => ["amount", "usage_date"],
        rj::REASON => ["expected a decimal amount, found \"12,3O\"", "expected a date, found \"31/02/2026\""],
        rj::RAW => ["inv-9,c1,2026-10-01,2026-10-31,\"12,3O\",USD", "c2,...,31/02/2026,..."],
    )
    .stage("report example")?;

    data.fx_rates = df!(crate::schema::fx_rates::CURRENCY => ["EUR", "USD"], crate::analysis::fx::RATE => [1.08, 1.0])
        .stage("report example")?;

    data.input_summary = vec![
        InputSummaryRow {
            source: "usage".into(),
            rows_read: 110,
            accepted: 109,
            rejected: 1,
        },
        InputSummaryRow {
            source: "invoices".into(),
            rows_read: 8,
            accepted: 7,
            rejected: 1,
        },
        InputSummaryRow {
            source: "payments".into(),
            rows_read: 3,
            accepted: 3,
            rejected: 0,
        },
    ];
    Ok(())
}

/// The comparison with the run of the day before.
fn since_last_run(data: &mut ReportData, names: [&str; 4]) -> Result<()> {
    // Compared with the run of the day before: c1 became critical, c2 has a new caller, c3's
    // reminder was paid.
    data.since = Some(super::SinceLastRun {
        previous_as_of: d(10, 19)?,
        folder: "billrisk-out".into(),
        not_compared: Vec::new(),
        notes: Vec::new(),
    });
    data.changes = df!(
        ch::PRIORITY => [1i32, 6, 16],
        ch::CUSTOMER_ID => ["c1", "c2", "c3"],
        ch::CUSTOMER_NAME => [names[0], names[1], names[2]],
        ch::CURRENCY => [None, None, Some("USD")],
        ch::TOPIC => ["risk", "anomaly", "collections"],
        ch::KIND => ["risk_newly_critical", "new_anomaly", "action_cleared"],
        ch::SIGNAL => [None, Some("new_caller"), None],
        ch::BEFORE => [Some("high"), None, Some("reminder")],
        ch::AFTER => [Some("critical"), Some("active"), None],
        ch::REASON => [
            "risk tier high -> critical, score 70.0 -> 92.0: GPU VM spend 41x its 28-day median: 460.00 USD on 2026-10-14",
            "New caller ops@fabrikam.example wrote 12 resources on 2026-10-18",
            "no collections action any more (was reminder): nothing past due above the ladder's minimum",
        ],
        ch::FIRST_SEEN => [None, Some(d(10, 18)?), None],
    )
    .stage("report example")?;
    // What a run compared with the previous one carries: first_seen, and the `new` marks.
    {
        use crate::analysis::changes as chg;
        let changes = Some(data.changes.clone().lazy());
        data.anomalies = chg::with_first_seen(data.anomalies.clone().lazy(), None)
            .collect()
            .stage("report example")?;
        data.risk_review = chg::risk_review_with_new(
            data.risk_review.clone().lazy(),
            data.anomalies.clone().lazy(),
            changes.clone(),
        )
        .collect()
        .stage("report example")?;
        data.collections_actions =
            chg::collections_with_new(data.collections_actions.clone().lazy(), changes.clone())
                .collect()
                .stage("report example")?;
        data.budget_alerts =
            chg::budget_alerts_with_new(data.budget_alerts.clone().lazy(), changes)
                .collect()
                .stage("report example")?;
    }
    Ok(())
}
