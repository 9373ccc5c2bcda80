//! Exposure (SPEC 4.4): what each customer could cost the partner if it stopped paying on the
//! as-of date A, per customer and currency, into the `exposure` table that risk scoring reads.
//! exposure = net_outstanding (aging_customers, what is invoiced and unpaid, less credit)
//!          + unbilled_usage (usage up to A that the partner has not invoiced yet)
//!          + forecast_to_month_end (budget_status forecast - mtd_spend: usage still to come in M).
//!
//! Unbilled usage rule: a usage row dated on or before A is unbilled when the customer has no
//! partner invoice for the row's service month (YYYY-MM of usage_date), counting only invoices
//! issued on or before A with a positive amount and a service_month. Credit notes never bill a
//! month, invoices without service_month cannot be matched to one, and Partner Center's own
//! InvoiceNumber on usage is ignored: it says Microsoft billed the partner, not that the partner
//! billed the customer. The three parts do not overlap: unbilled usage ends at A, the forecast
//! starts the day after.
//! Money is Float64 here (net_outstanding is cast from the exact ledger Decimal), as exposure is
//! an estimate. A part a customer lacks counts 0.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::{exact, order_free_sum};

use crate::schema::aging_customers as ac;
use crate::schema::budget_status as bs;
use crate::schema::exposure as ex;
use crate::schema::invoices as inv;
use crate::schema::usage as u;

const USAGE_MONTH: &str = "_usage_month";
const MONTH_START: &str = "_month_start";

/// Per customer and currency: net_outstanding, unbilled_usage, forecast_to_month_end and their
/// sum, exposure. `aging_customers` needs customer_id, currency, net_outstanding; `budget_status`
/// customer_id, currency, mtd_spend, forecast. Sorted by customer_id, currency.
pub fn exposure(
    aging_customers: LazyFrame,
    usage: LazyFrame,
    invoices: LazyFrame,
    budget_status: LazyFrame,
    as_of: NaiveDate,
) -> LazyFrame {
    let keys = || [col(ex::CUSTOMER_ID), col(ex::CURRENCY)];
    let outstanding = aging_customers
        .group_by([col(ac::CUSTOMER_ID), col(ac::CURRENCY)])
        .agg([col(ac::NET_OUTSTANDING)
            .sum()
            .cast(DataType::Float64)
            .alias(ex::NET_OUTSTANDING)]);

    let unbilled = unbilled_usage(
        usage.filter(
            col(u::USAGE_DATE)
                .lt_eq(lit(as_of))
                .and(col(u::CUSTOMER_ID).is_not_null())
                .and(col(u::CURRENCY).is_not_null()),
        ),
        invoices,
        as_of,
        ex::UNBILLED_USAGE,
    );

    let to_come = budget_status
        .group_by([col(bs::CUSTOMER_ID), col(bs::CURRENCY)])
        .agg([
            order_free_sum(col(bs::FORECAST) - col(bs::MTD_SPEND)).alias(ex::FORECAST_TO_MONTH_END)
        ]);

    let full = || JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns);
    let parts = [
        ex::NET_OUTSTANDING,
        ex::UNBILLED_USAGE,
        ex::FORECAST_TO_MONTH_END,
    ];
    outstanding
        .join(unbilled, keys(), keys(), full())
        .join(to_come, keys(), keys(), full())
        .with_columns(parts.map(|p| col(p).fill_null(lit(0.0))))
        .with_column(
            (col(ex::NET_OUTSTANDING) + col(ex::UNBILLED_USAGE) + col(ex::FORECAST_TO_MONTH_END))
                .alias(ex::EXPOSURE),
        )
        .select(ex::DEF.columns_exprs())
        .sort(
            [ex::CUSTOMER_ID, ex::CURRENCY],
            SortMultipleOptions::default(),
        )
}

/// Usage cost not invoiced yet, per customer and currency (columns customer_id, currency and
/// `name`, Float64), by the unbilled usage rule above, from `usage` already limited to rows up to
/// A. Also the over-credit-limit signal's rule (anomalies/payment.rs). Usage is summed per
/// customer, currency and month first, as exact Decimals, and the month is written as YYYY-MM
/// once per such group rather than once per usage row; the per-month sums add up bit for bit to
/// [`order_free_sum`] over the rows.
pub fn unbilled_usage(
    usage: LazyFrame,
    invoices: LazyFrame,
    as_of: NaiveDate,
    name: &str,
) -> LazyFrame {
    let invoiced_months = invoices
        .filter(
            col(inv::ISSUE_DATE)
                .lt_eq(lit(as_of))
                .and(col(inv::AMOUNT).cast(DataType::Float64).gt(lit(0.0)))
                .and(col(inv::SERVICE_MONTH).is_not_null())
                .and(col(inv::CUSTOMER_ID).is_not_null()),
        )
        .select([col(inv::CUSTOMER_ID), col(inv::SERVICE_MONTH)])
        .unique(None, UniqueKeepStrategy::Any);
    usage
        .group_by([
            col(u::CUSTOMER_ID),
            col(u::CURRENCY),
            col(u::USAGE_DATE).dt().month_start().alias(MONTH_START),
        ])
        .agg([exact(col(u::COST)).sum().alias(name)])
        .with_column(col(MONTH_START).dt().strftime("%Y-%m").alias(USAGE_MONTH))
        .join(
            invoiced_months,
            [col(u::CUSTOMER_ID), col(USAGE_MONTH)],
            [col(inv::CUSTOMER_ID), col(inv::SERVICE_MONTH)],
            JoinArgs::new(JoinType::Anti),
        )
        .group_by([col(u::CUSTOMER_ID), col(u::CURRENCY)])
        .agg([col(name).sum().cast(DataType::Float64)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ledger_money;

    use crate::testutil::d;

    #[test]
    fn exposure_sums_net_outstanding_unbilled_usage_and_forecast_to_month_end() {
        let as_of = d(2026, 11, 10);
        let aging = df!(
            ac::CUSTOMER_ID => ["a", "b"],
            ac::CURRENCY => ["USD", "EUR"],
            ac::NET_OUTSTANDING => ["1200.5", "-50"],
        )
        .unwrap()
        .lazy()
        .with_column(col(ac::NET_OUTSTANDING).cast(ledger_money()));
        let usage = df!(
            u::CUSTOMER_ID => ["a", "a", "a", "a", "b", "b"],
            u::CURRENCY => ["USD", "USD", "USD", "USD", "EUR", "EUR"],
            u::USAGE_DATE => [
                d(2026, 10, 20), d(2026, 11, 1), d(2026, 11, 10), d(2026, 11, 12),
                d(2026, 9, 30), d(2026, 11, 2),
            ],
            u::COST => [300.0, 100.0, 50.0, 999.0, 80.0, 20.0],
            // Microsoft's invoice number says nothing about the partner's invoice to the customer.
            u::INVOICE_NUMBER => [Some("G1"), None, None, None, Some("G0"), None],
        )
        .unwrap()
        .lazy();
        let invoices = df!(
            inv::INVOICE_ID => ["i1", "i2", "i3"],
            inv::CUSTOMER_ID => ["a", "b", "b"],
            inv::ISSUE_DATE => [d(2026, 11, 5), d(2026, 11, 15), d(2026, 11, 3)],
            inv::AMOUNT => ["300", "80", "-20"],
            inv::SERVICE_MONTH => ["2026-10", "2026-09", "2026-11"],
        )
        .unwrap()
        .lazy()
        .with_column(col(inv::AMOUNT).cast(ledger_money()));
        let status = df!(
            bs::CUSTOMER_ID => ["a"],
            bs::CURRENCY => ["USD"],
            bs::MTD_SPEND => [150.0],
            bs::FORECAST => [600.0],
        )
        .unwrap()
        .lazy();
        let out = exposure(aging, usage, invoices, status, as_of)
            .collect()
            .unwrap();
        assert_eq!(out.schema().as_ref(), &ex::DEF.schema());
        let f = |name: &str| -> Vec<Option<f64>> {
            out.column(name).unwrap().f64().unwrap().iter().collect()
        };
        let ids: Vec<_> = out
            .column(ex::CUSTOMER_ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(ids, ["a", "b"]);
        // a: October is invoiced (i1, issued 11-05 <= A); November 100 + 50 is not; the 11-12 row
        // (999) is after A. unbilled 150; forecast to month end 600 - 150 = 450;
        // exposure 1,200.50 + 150 + 450 = 1,800.50.
        // b: the September invoice i2 is issued 11-15, after A, so September's 80 is unbilled;
        // the November credit note i3 bills nothing: + 20. unbilled 100; no budget row: 0;
        // exposure -50 + 100 + 0 = 50.
        assert_eq!(f(ex::NET_OUTSTANDING), [Some(1200.5), Some(-50.0)]);
        assert_eq!(f(ex::UNBILLED_USAGE), [Some(150.0), Some(100.0)]);
        assert_eq!(f(ex::FORECAST_TO_MONTH_END), [Some(450.0), Some(0.0)]);
        assert_eq!(f(ex::EXPOSURE), [Some(1800.5), Some(50.0)]);
    }

    #[test]
    fn customer_in_only_one_part_still_gets_a_row() {
        // c has only a budget_status row: exposure = 0 + 0 + (90 - 30) = 60.
        let aging = crate::schema::aging_customers::DEF.empty().lazy();
        let usage = crate::schema::usage::DEF.empty().lazy();
        let invoices = crate::schema::invoices::DEF.empty().lazy();
        let status = df!(
            bs::CUSTOMER_ID => ["c"],
            bs::CURRENCY => ["USD"],
            bs::MTD_SPEND => [30.0],
            bs::FORECAST => [90.0],
        )
        .unwrap()
        .lazy();
        let out = exposure(aging, usage, invoices, status, d(2026, 11, 10))
            .collect()
            .unwrap();
        assert_eq!(out.height(), 1);
        assert_eq!(
            out.column(ex::EXPOSURE).unwrap().f64().unwrap().get(0),
            Some(60.0)
        );
    }
}
