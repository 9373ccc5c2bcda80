//! Billing reconciliation (SPEC 4.3): cost against what the partner invoiced, per customer,
//! service month (YYYY-MM) and currency, from usage, billed line items and the partner's invoices,
//! up to the as-of date A; into the `reconciliation` table.
//!
//! - cost = usage cost by usage_date month + billed line items (licences, which the daily usage
//!   file does not hold) by charge_start_date month, only rows dated by A. Float64: rated cost is
//!   an estimate with 8+ decimals, not a ledger balance.
//! - invoiced = the partner's invoices issued by A, credit notes included, by their service_month,
//!   else the month before the issue date (invoices bill the month just ended).
//! - status: `unbilled` for cost and no invoice in a month before A's month, `in_progress` for the
//!   same in A's month (or later), which is not invoiced yet by design; `invoice_without_cost` for
//!   an invoice and no cost; `negative_margin` when invoiced falls short of cost by more than half
//!   a cent; `ok` otherwise. A month with neither cost nor invoice (free meters only) has no row.
//! - unbilled_cost = the cost of a month without any invoice (unbilled and in_progress alike):
//!   what risk counts as usage not yet invoiced.
//! - margin_pct = margin / invoiced x 100, null unless invoiced > 0.
//!
//! Float sums go through Decimal(38, 10) (`order_free_sum`): rounding each value to 10^-10 and
//! summing exactly makes the total independent of summation order, so the table is byte-identical
//! whatever the thread count (SPEC 6), and 0.1 + 0.2 + 0.3 is 0.6.
//!
//! Currencies are not converted: cost in EUR and an invoice in USD for the same month are two rows
//! (unbilled, invoice_without_cost), which is what a reconciler needs to see.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::order_free_sum;

use crate::schema::{billed as bi, invoices as inv, reconciliation as rc, usage as us};

/// `reconciliation.status` values.
pub const STATUS_OK: &str = "ok";
pub const STATUS_NEGATIVE_MARGIN: &str = "negative_margin";
pub const STATUS_UNBILLED: &str = "unbilled";
pub const STATUS_IN_PROGRESS: &str = "in_progress";
pub const STATUS_INVOICE_WITHOUT_COST: &str = "invoice_without_cost";

const INVOICE_COUNT: &str = "_invoice_count";

/// Cost and amounts within half a cent of zero count as none.
const HALF_CENT: f64 = 0.005;

/// One row per customer, service month and currency with cost or an invoice (reconciliation's
/// columns), sorted by customer, month, currency.
pub fn reconciliation(
    usage: LazyFrame,
    billed: LazyFrame,
    invoices: LazyFrame,
    as_of: NaiveDate,
) -> LazyFrame {
    let a = || lit(as_of);
    let month = |e: Expr| e.dt().to_string("%Y-%m");
    let keys = || {
        [
            col(rc::CUSTOMER_ID),
            col(rc::SERVICE_MONTH),
            col(rc::CURRENCY),
        ]
    };

    // Grouped on the month's first day and written as YYYY-MM once per group, not once per usage
    // row.
    let usage_cost = usage
        .filter(col(us::USAGE_DATE).lt_eq(a()))
        .group_by([
            col(us::CUSTOMER_ID).alias(rc::CUSTOMER_ID),
            col(us::USAGE_DATE)
                .dt()
                .month_start()
                .alias(rc::SERVICE_MONTH),
            col(us::CURRENCY).alias(rc::CURRENCY),
        ])
        .agg([order_free_sum(col(us::COST)).alias(rc::USAGE_COST)])
        .with_column(month(col(rc::SERVICE_MONTH)).alias(rc::SERVICE_MONTH));
    let billed_cost = billed
        .filter(col(bi::CHARGE_START_DATE).lt_eq(a()))
        .group_by([
            col(bi::CUSTOMER_ID).alias(rc::CUSTOMER_ID),
            month(col(bi::CHARGE_START_DATE)).alias(rc::SERVICE_MONTH),
            col(bi::CURRENCY).alias(rc::CURRENCY),
        ])
        .agg([order_free_sum(col(bi::TOTAL)).alias(rc::BILLED_COST)]);
    let invoiced = invoices
        .filter(col(inv::ISSUE_DATE).lt_eq(a()))
        .group_by([
            col(inv::CUSTOMER_ID).alias(rc::CUSTOMER_ID),
            coalesce(&[
                col(inv::SERVICE_MONTH),
                month(col(inv::ISSUE_DATE).dt().offset_by(lit("-1mo"))),
            ])
            .alias(rc::SERVICE_MONTH),
            col(inv::CURRENCY).alias(rc::CURRENCY),
        ])
        // Summed exactly as Decimal, converted once.
        .agg([
            col(inv::AMOUNT)
                .sum()
                .cast(DataType::Float64)
                .alias(rc::INVOICED),
            len().alias(INVOICE_COUNT),
        ]);

    let mut full = JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns);
    full.nulls_equal = true;

    let cost = col(rc::COST);
    let invoiced_amt = col(rc::INVOICED);
    let margin = col(rc::MARGIN);
    let has_invoice = col(INVOICE_COUNT).gt(lit(0));
    let has_cost = cost.clone().abs().gt(lit(HALF_CENT));
    let a_month = as_of.format("%Y-%m").to_string();
    let status = when(has_invoice.clone().not())
        .then(
            when(col(rc::SERVICE_MONTH).lt(lit(a_month)))
                .then(lit(STATUS_UNBILLED))
                .otherwise(lit(STATUS_IN_PROGRESS)),
        )
        .when(has_cost.clone().not())
        .then(lit(STATUS_INVOICE_WITHOUT_COST))
        .when(margin.clone().lt(lit(-HALF_CENT)))
        .then(lit(STATUS_NEGATIVE_MARGIN))
        .otherwise(lit(STATUS_OK));

    usage_cost
        .join(billed_cost, keys(), keys(), full.clone())
        .join(invoiced, keys(), keys(), full)
        .with_columns([
            col(rc::USAGE_COST).fill_null(lit(0.0)),
            col(rc::BILLED_COST).fill_null(lit(0.0)),
            col(rc::INVOICED).fill_null(lit(0.0)),
            col(INVOICE_COUNT).fill_null(lit(0)),
        ])
        .with_column((col(rc::USAGE_COST) + col(rc::BILLED_COST)).alias(rc::COST))
        .filter(has_invoice.clone().or(has_cost))
        .with_column((invoiced_amt.clone() - cost.clone()).alias(rc::MARGIN))
        .with_columns([
            status.alias(rc::STATUS),
            when(invoiced_amt.clone().gt(lit(0.0)))
                .then(margin / invoiced_amt * lit(100.0))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(rc::MARGIN_PCT),
            when(has_invoice)
                .then(lit(0.0))
                .otherwise(cost)
                .alias(rc::UNBILLED_COST),
        ])
        .select(rc::DEF.columns_exprs())
        .sort(
            [rc::CUSTOMER_ID, rc::SERVICE_MONTH, rc::CURRENCY],
            SortMultipleOptions::default(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{self, billed as bi, invoices as inv, usage as us};

    use crate::testutil::day as d;

    fn a() -> NaiveDate {
        d("2026-10-31")
    }

    /// (customer, date, cost, currency) as usage rows; other columns empty.
    fn usage(rows: &[(&str, &str, f64, &str)]) -> LazyFrame {
        let n = rows.len();
        df!(
            us::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            us::USAGE_DATE => rows.iter().map(|r| d(r.1)).collect::<Vec<_>>(),
            us::COST => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            us::CURRENCY => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            us::SOURCE_LINE => (2..n as i64 + 2).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    fn billed(rows: &[(&str, &str, f64, &str)]) -> LazyFrame {
        df!(
            bi::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            bi::CHARGE_START_DATE => rows.iter().map(|r| d(r.1)).collect::<Vec<_>>(),
            bi::TOTAL => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            bi::CURRENCY => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    /// (customer, issue_date, service_month or "", amount, currency)
    fn invoices(rows: &[(&str, &str, &str, &str, &str)]) -> LazyFrame {
        df!(
            inv::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            inv::ISSUE_DATE => rows.iter().map(|r| d(r.1)).collect::<Vec<_>>(),
            inv::SERVICE_MONTH => rows.iter().map(|r| (!r.2.is_empty()).then_some(r.2)).collect::<Vec<_>>(),
            inv::AMOUNT => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            inv::CURRENCY => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_column(col(inv::AMOUNT).cast(schema::ledger_money()))
    }

    fn strs(df: &DataFrame, c: &str) -> Vec<String> {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("NULL").to_string())
            .collect()
    }

    fn floats(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
        df.column(c).unwrap().f64().unwrap().iter().collect()
    }

    #[test]
    fn every_status_with_its_figures() {
        let u = usage(&[
            ("c1", "2026-09-03", 60.0, "EUR"),
            ("c1", "2026-09-30", 40.0, "EUR"),
            ("c1", "2026-08-10", 50.0, "EUR"),
            ("c2", "2026-09-15", 30.0, "EUR"),
            ("c2", "2026-10-31", 12.0, "EUR"),
            ("c2", "2026-11-01", 99.0, "EUR"), // after A: ignored
            ("c4", "2026-09-01", 0.0, "EUR"),  // free meter only: no row
        ]);
        let b = billed(&[
            ("c1", "2026-09-01", 20.0, "EUR"),
            ("c3", "2026-11-01", 5.0, "EUR"), // starts after A: ignored
        ]);
        let i = invoices(&[
            ("c1", "2026-10-02", "2026-09", "160.00", "EUR"),
            ("c1", "2026-10-05", "2026-09", "-10.00", "EUR"), // credit note nets in
            ("c1", "2026-09-05", "", "40.00", "EUR"),         // no service month: 2026-08
            ("c3", "2026-10-01", "2026-09", "80.00", "EUR"),
            ("c3", "2026-11-01", "2026-10", "70.00", "EUR"), // issued after A: ignored
        ]);
        let out = reconciliation(u, b, i, a()).collect().unwrap();
        assert_eq!(strs(&out, rc::CUSTOMER_ID), ["c1", "c1", "c2", "c2", "c3"]);
        assert_eq!(
            strs(&out, rc::SERVICE_MONTH),
            ["2026-08", "2026-09", "2026-09", "2026-10", "2026-09"]
        );
        assert_eq!(
            strs(&out, rc::STATUS),
            [
                "negative_margin",
                "ok",
                "unbilled",
                "in_progress",
                "invoice_without_cost"
            ]
        );
        // c1 08: cost 50, invoiced 40, margin -10, -25 %.
        // c1 09: cost 60 + 40 + 20 billed = 120, invoiced 160 - 10 = 150, margin 30, 20 %.
        // c2 09: cost 30 unbilled; c2 10: cost 12 in progress (A's month); c3 09: 80 invoiced, no cost.
        assert_eq!(
            floats(&out, rc::COST),
            [50.0, 120.0, 30.0, 12.0, 0.0].map(Some)
        );
        assert_eq!(
            floats(&out, rc::BILLED_COST),
            [0.0, 20.0, 0.0, 0.0, 0.0].map(Some)
        );
        assert_eq!(
            floats(&out, rc::INVOICED),
            [40.0, 150.0, 0.0, 0.0, 80.0].map(Some)
        );
        assert_eq!(
            floats(&out, rc::MARGIN),
            [-10.0, 30.0, -30.0, -12.0, 80.0].map(Some)
        );
        assert_eq!(
            floats(&out, rc::MARGIN_PCT),
            [Some(-25.0), Some(20.0), None, None, Some(100.0)]
        );
        assert_eq!(
            floats(&out, rc::UNBILLED_COST),
            [0.0, 0.0, 30.0, 12.0, 0.0].map(Some)
        );
    }

    #[test]
    fn float_sums_do_not_depend_on_order() {
        // In f64, 0.1 + 0.2 + 0.3 = 0.6000000000000001 but 0.3 + 0.2 + 0.1 = 0.6.
        let fwd = usage(&[
            ("c1", "2026-09-01", 0.1, "EUR"),
            ("c1", "2026-09-02", 0.2, "EUR"),
            ("c1", "2026-09-03", 0.3, "EUR"),
        ]);
        let rev = usage(&[
            ("c1", "2026-09-03", 0.3, "EUR"),
            ("c1", "2026-09-02", 0.2, "EUR"),
            ("c1", "2026-09-01", 0.1, "EUR"),
        ]);
        let none = || schema::invoices::DEF.empty().lazy();
        let billed_none = || schema::billed::DEF.empty().lazy();
        let f = reconciliation(fwd, billed_none(), none(), a())
            .collect()
            .unwrap();
        let r = reconciliation(rev, billed_none(), none(), a())
            .collect()
            .unwrap();
        assert_eq!(floats(&f, rc::COST), [Some(0.6)]);
        assert_eq!(floats(&r, rc::COST), [Some(0.6)]);
    }

    #[test]
    fn currencies_are_not_mixed() {
        let u = usage(&[("c1", "2026-09-10", 100.0, "EUR")]);
        let i = invoices(&[("c1", "2026-10-01", "2026-09", "110.00", "USD")]);
        let out = reconciliation(u, schema::billed::DEF.empty().lazy(), i, a())
            .collect()
            .unwrap();
        assert_eq!(strs(&out, rc::CURRENCY), ["EUR", "USD"]);
        assert_eq!(strs(&out, rc::STATUS), ["unbilled", "invoice_without_cost"]);
    }
}
