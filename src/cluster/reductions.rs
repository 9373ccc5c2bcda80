//! The reductions over raw usage rows, written once as SQL text that both Polars' SQL engine and
//! DataFusion (on a Ballista cluster) run, plus what turns either engine's result into the frame
//! the rest of the run reads.
//!
//! Why SQL text: it is the one language both engines take without a translation layer of ours.
//! A Polars expression tree cannot be shipped to DataFusion, and DataFusion's logical plans
//! cannot be run by Polars; a hand-kept pair of plans would drift. The text below is the
//! definition; [`run_polars`] runs it on Polars, the cluster client (feature `cluster`) on
//! DataFusion, and the tests check both against hand-computed figures and against the local
//! engine's memory-tuned plans (`analysis::usage_daily`), which a local run keeps using (their
//! integer series ids and streamed sort hold a 10M-row run under 3 GiB; see the README).
//!
//! Only standard SQL both engines accept: `CAST(x AS DECIMAL(38, 10))`, `SUM`, `COUNT(*)`,
//! `COALESCE`, `CASE`, `DATE 'YYYY-MM-DD'` literals, `GROUP BY`. Every money and quantity sum is
//! a sum of exact Decimal(38, 10) values (see `analysis::exact`), so it does not depend on the
//! order in which rows, partitions or executors add up: the results are the same bits on either
//! engine and on any number of executors. (One documented edge: a float exactly half-way between
//! two 10-decimal values rounds to even in Polars and away from zero in Arrow; usage amounts
//! carry at most 8-10 decimals and do not land there.)
//!
//! Results come back unsorted (a distributed GROUP BY has no order); [`customer_days`] and
//! [`usage_daily`] sort them and give them the local tables' exact columns and dtypes.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::usage_daily::PURCHASE_COST;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::usage::{CORRECTION, PURCHASE, USAGE};
use crate::schema::{usage as u, usage_daily as d};

/// The table name the reductions read: the converted usage (`usage/usage.parquet`).
pub const USAGE_TABLE: &str = "usage";

/// Name of the per-line count in [`usage_daily_sql`] (`rows` is an SQL keyword).
const LINES: &str = "line_count";

/// A reduction: its name (for the manifest and messages) and its SQL text.
#[derive(Debug, Clone)]
pub struct Reduction {
    pub name: &'static str,
    pub sql: String,
}

/// Name of [`customer_days_sql`] in the manifest.
pub const CUSTOMER_DAYS: &str = "cost_per_customer_day";
/// Name of [`usage_daily_sql`] in the manifest.
pub const USAGE_DAILY: &str = "usage_daily";

/// Cost per customer, currency and day over every charge (`usage_daily::cost_per_customer_day`):
/// `cost` the exact sum of every charge, `purchase_cost` of the Purchase charges.
pub fn customer_days_sql() -> Reduction {
    let sql = format!(
        "SELECT {cust}, {cur}, {date},
    COALESCE(SUM(CAST({cost} AS DECIMAL(38, 10))), CAST(0 AS DECIMAL(38, 10))) AS {cost},
    COALESCE(SUM(CASE WHEN {cat} = '{purchase}' THEN CAST({cost} AS DECIMAL(38, 10))
                      ELSE CAST(0 AS DECIMAL(38, 10)) END), CAST(0 AS DECIMAL(38, 10))) AS {pc}
FROM {t}
GROUP BY {cust}, {cur}, {date}",
        cust = u::CUSTOMER_ID,
        cur = u::CURRENCY,
        date = u::USAGE_DATE,
        cost = u::COST,
        cat = u::CHARGE_CATEGORY,
        purchase = PURCHASE,
        pc = PURCHASE_COST,
        t = USAGE_TABLE,
    );
    Reduction {
        name: CUSTOMER_DAYS,
        sql,
    }
}

/// usage_daily's sums (`usage_daily::usage_daily`): consumption up to the as-of date (a Usage
/// charge or one of unknown category, not a Correction), per customer, subscription, meter
/// category, currency and day: exact cost and quantity sums and the count of lines.
pub fn usage_daily_sql(as_of: NaiveDate) -> Reduction {
    let sql = format!(
        "SELECT {cust}, {ent}, {meter}, {cur}, {date},
    COALESCE(SUM(CAST({cost} AS DECIMAL(38, 10))), CAST(0 AS DECIMAL(38, 10))) AS {cost},
    COALESCE(SUM(CAST({qty} AS DECIMAL(38, 10))), CAST(0 AS DECIMAL(38, 10))) AS {qty},
    COUNT(*) AS {lines}
FROM {t}
WHERE {date} <= DATE '{as_of}'
  AND ({cat} IS NULL OR {cat} = '{usage}')
  AND ({class} IS NULL OR {class} <> '{correction}')
GROUP BY {cust}, {ent}, {meter}, {cur}, {date}",
        cust = u::CUSTOMER_ID,
        ent = u::ENTITLEMENT_ID,
        meter = u::METER_CATEGORY,
        cur = u::CURRENCY,
        date = u::USAGE_DATE,
        cost = u::COST,
        qty = u::QUANTITY,
        lines = LINES,
        t = USAGE_TABLE,
        as_of = as_of.format("%Y-%m-%d"),
        cat = u::CHARGE_CATEGORY,
        class = u::CHARGE_CLASS,
        usage = USAGE,
        correction = CORRECTION,
    );
    Reduction {
        name: USAGE_DAILY,
        sql,
    }
}

/// Names of [`subscription_customers_sql`] and [`tenants_sql`] in the manifest.
pub const SUBSCRIPTION_CUSTOMERS: &str = "customer_by_subscription";
pub const TENANTS: &str = "tenants";

/// The first of `ingest::customer_lookups`: per Azure subscription (entitlement) of usage, the
/// least customer_id; what maps activity events to customers.
pub fn subscription_customers_sql() -> Reduction {
    let sql = format!(
        "SELECT {ent}, MIN({cust}) AS cust_by_sub
FROM {t}
WHERE {ent} IS NOT NULL
GROUP BY {ent}",
        ent = u::ENTITLEMENT_ID,
        cust = u::CUSTOMER_ID,
        t = USAGE_TABLE,
    );
    Reduction {
        name: SUBSCRIPTION_CUSTOMERS,
        sql,
    }
}

/// The second of `ingest::customer_lookups`: the distinct customer_ids of usage (the tenants
/// an activity event may name).
pub fn tenants_sql() -> Reduction {
    let sql = format!(
        "SELECT DISTINCT {cust} AS tenant FROM {t}",
        cust = u::CUSTOMER_ID,
        t = USAGE_TABLE,
    );
    Reduction { name: TENANTS, sql }
}

/// The results (either engine) of [`subscription_customers_sql`] and [`tenants_sql`] as
/// `ingest::customer_lookups` gives them, for `ingest::map_activity_to_customers`.
pub fn customer_lookups_of(by_subscription: LazyFrame, tenants: LazyFrame) -> Vec<LazyFrame> {
    vec![
        by_subscription.select([
            col(u::ENTITLEMENT_ID).cast(DataType::String),
            col("cust_by_sub")
                .cast(DataType::String)
                .alias("__cust_by_sub"),
        ]),
        tenants.select([
            col("tenant").cast(DataType::String).alias("__tenant"),
            col("tenant")
                .cast(DataType::String)
                .alias("__cust_by_tenant"),
        ]),
    ]
}

/// `ingest::customer_lookups` on a cluster engine, collected; None on the local engine.
pub fn customer_lookups(
    engine: &mut super::Engine,
    usage_file: &std::path::Path,
) -> Result<Option<Vec<DataFrame>>> {
    if engine.is_local() {
        return Ok(None);
    }
    let mut remote = |r: Reduction| -> Result<LazyFrame> {
        engine
            .remote(&r, usage_file)?
            .map(DataFrame::lazy)
            .ok_or_else(|| Error::Internal(format!("the {} reduction did not run", r.name)))
    };
    let by_subscription = remote(subscription_customers_sql())?;
    let tenants = remote(tenants_sql())?;
    let mut out = Vec::new();
    for lf in customer_lookups_of(by_subscription, tenants) {
        out.push(lf.collect().stage("customer lookups")?);
    }
    Ok(Some(out))
}

/// Runs a reduction's SQL on Polars' SQL engine over `usage`.
pub fn run_polars(reduction: &Reduction, usage: LazyFrame) -> Result<LazyFrame> {
    let mut ctx = polars::sql::SQLContext::new();
    ctx.register(USAGE_TABLE, usage);
    ctx.execute(&reduction.sql).map_err(|e| {
        Error::Internal(format!(
            "the {} reduction's SQL on Polars: {e}",
            reduction.name
        ))
    })
}

/// A reduction's result (either engine) as `cost_per_customer_day` gives it: customer_id,
/// currency, usage_date, cost and purchase_cost as Decimal(38, 10), sorted by the keys.
pub fn customer_days(result: LazyFrame) -> LazyFrame {
    let exact = |c: &str| col(c).cast(DataType::Decimal(38, 10));
    result
        .select([
            col(u::CUSTOMER_ID).cast(DataType::String),
            col(u::CURRENCY).cast(DataType::String),
            col(u::USAGE_DATE).cast(DataType::Date),
            exact(u::COST),
            exact(PURCHASE_COST),
        ])
        .sort(
            [u::CUSTOMER_ID, u::CURRENCY, u::USAGE_DATE],
            SortMultipleOptions::default().with_nulls_last(true),
        )
}

/// A reduction's result (either engine) as the usage_daily table: its columns and dtypes (cost
/// and quantity the exact sums as Float64, rows UInt32), sorted as `usage_daily::usage_daily`
/// sorts it: by customer, day, subscription, meter category and currency, nulls last.
pub fn usage_daily(result: LazyFrame) -> LazyFrame {
    let text = |c: &str| col(c).cast(DataType::String);
    result
        .select([
            text(d::CUSTOMER_ID),
            text(d::ENTITLEMENT_ID),
            text(d::METER_CATEGORY),
            col(d::USAGE_DATE).cast(DataType::Date),
            text(d::CURRENCY),
            col(d::COST)
                .cast(DataType::Decimal(38, 10))
                .cast(DataType::Float64),
            col(d::QUANTITY)
                .cast(DataType::Decimal(38, 10))
                .cast(DataType::Float64),
            col(LINES).cast(DataType::UInt32).alias(d::ROWS),
        ])
        .sort(
            [
                d::CUSTOMER_ID,
                d::USAGE_DATE,
                d::ENTITLEMENT_ID,
                d::METER_CATEGORY,
                d::CURRENCY,
            ],
            SortMultipleOptions::default().with_nulls_last(true),
        )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::usage_daily as local;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    /// Usage lines with every canonical column: the ones given, nulls elsewhere.
    pub(crate) fn lines() -> DataFrame {
        let given = df!(
            u::CUSTOMER_ID => [Some("c2"), Some("c1"), Some("c1"), Some("c1"), None, Some("c1"), Some("c1"), Some("c1")],
            u::ENTITLEMENT_ID => [Some("s1"), Some("s1"), Some("s1"), None, Some("s9"), Some("s1"), Some("s1"), Some("s1")],
            u::METER_CATEGORY => ["Storage", "Storage", "Storage", "Storage", "Storage", "Storage", "Storage", "Storage"],
            u::USAGE_DATE => [day(1), day(1), day(1), day(2), day(1), day(3), day(1), day(1)],
            u::CURRENCY => ["USD"; 8],
            u::CHARGE_CATEGORY => [None, Some("Usage"), None, None, None, None, Some("Purchase"), Some("Usage")],
            u::CHARGE_CLASS => [None, None, None, None, None, None, None, Some("Correction")],
            // 0.1 + 0.2 is 0.30000000000000004 as floats, 0.3 as exact sums.
            u::COST => [1.5, 0.1, 0.2, 4.0, 8.0, 16.0, 100.0, -0.05],
            u::QUANTITY => [Some(1.0), Some(2.0), None, Some(3.0), Some(4.0), Some(5.0), Some(1.0), Some(1.0)],
        )
        .unwrap();
        let empty = crate::schema::usage::DEF.empty();
        concat(
            [empty.lazy(), given.lazy()],
            UnionArgs {
                to_supertypes: true,
                diagonal: true,
                ..Default::default()
            },
        )
        .unwrap()
        .collect()
        .unwrap()
    }

    pub(crate) fn f64s(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
        df.column(c)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect()
    }

    pub(crate) fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    }

    /// The hand-computed usage_daily of [`lines`] as of the 2nd, checked on a result of either
    /// engine.
    pub(crate) fn check_usage_daily(out: &DataFrame) {
        // c1 s1 on the 1st: 0.1 + 0.2 (the Purchase and the Correction are not consumption);
        // c1 without a subscription on the 2nd: 4; c2 s1 on the 1st: 1.5; no customer s9 on the
        // 1st: 8 (nulls last). The 3rd is after the as-of date.
        assert_eq!(
            strs(out, d::CUSTOMER_ID),
            [
                Some("c1".into()),
                Some("c1".into()),
                Some("c2".into()),
                None
            ]
        );
        assert_eq!(
            strs(out, d::ENTITLEMENT_ID),
            [
                Some("s1".into()),
                None,
                Some("s1".into()),
                Some("s9".into())
            ]
        );
        assert_eq!(
            f64s(out, d::COST),
            [Some(0.3), Some(4.0), Some(1.5), Some(8.0)]
        );
        // A null quantity adds nothing.
        assert_eq!(
            f64s(out, d::QUANTITY),
            [Some(2.0), Some(3.0), Some(1.0), Some(4.0)]
        );
        let rows: Vec<Option<u32>> = out.column(d::ROWS).unwrap().u32().unwrap().iter().collect();
        assert_eq!(rows, [Some(2), Some(1), Some(1), Some(1)]);
        assert_eq!(**out.schema(), d::DEF.schema());
    }

    /// The hand-computed cost per customer and day of [`lines`], on a result of either engine.
    pub(crate) fn check_customer_days(out: &DataFrame) {
        // c1 on the 1st: every charge, 0.1 + 0.2 + 100 - 0.05 = 100.25, of which 100 Purchase;
        // c1 on the 2nd 4, on the 3rd 16; c2 on the 1st 1.5; no customer on the 1st 8.
        assert_eq!(
            strs(out, u::CUSTOMER_ID),
            [
                Some("c1".into()),
                Some("c1".into()),
                Some("c1".into()),
                Some("c2".into()),
                None
            ]
        );
        assert_eq!(
            f64s(out, u::COST),
            [Some(100.25), Some(4.0), Some(16.0), Some(1.5), Some(8.0)]
        );
        assert_eq!(
            f64s(out, PURCHASE_COST),
            [Some(100.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0)]
        );
        assert_eq!(
            out.column(u::COST).unwrap().dtype(),
            &DataType::Decimal(38, 10)
        );
    }

    /// Runs a reduction's SQL on DataFusion (the engine Ballista distributes, here in this
    /// process) over [`lines`] written as Parquet, and reads the result back as the client does.
    #[cfg(feature = "cluster")]
    fn on_datafusion(reduction: &Reduction) -> DataFrame {
        on_datafusion_over(reduction, lines())
    }

    /// [`on_datafusion`] over the usage lines `df`.
    #[cfg(feature = "cluster")]
    pub(crate) fn on_datafusion_over(reduction: &Reduction, mut df: DataFrame) -> DataFrame {
        use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("usage.parquet");
        ParquetWriter::new(std::fs::File::create(&file).unwrap())
            .finish(&mut df)
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // Several partitions, as on a cluster.
            let config = SessionConfig::new().with_target_partitions(4).set_bool(
                "datafusion.execution.parquet.schema_force_view_types",
                false,
            );
            let ctx = SessionContext::new_with_config(config);
            ctx.register_parquet(
                USAGE_TABLE,
                file.to_str().unwrap(),
                ParquetReadOptions::default(),
            )
            .await
            .unwrap();
            let frame = ctx.sql(&reduction.sql).await.unwrap();
            let schema = frame.schema().as_arrow().clone();
            let batches = frame.collect().await.unwrap();
            super::super::client::into_polars(reduction.name, &schema, &batches)
                .unwrap()
                .0
        })
    }

    #[cfg(feature = "cluster")]
    #[test]
    fn usage_daily_sql_on_datafusion_gives_the_hand_computed_table_and_the_local_plan() {
        let out = usage_daily(on_datafusion(&usage_daily_sql(day(2))).lazy())
            .collect()
            .unwrap();
        check_usage_daily(&out);
        let plan = local::usage_daily_collecting_series(lines().lazy(), day(2))
            .unwrap()
            .collect()
            .unwrap();
        assert!(out.equals_missing(&plan), "{out}\n{plan}");
    }

    #[cfg(feature = "cluster")]
    #[test]
    fn customer_days_sql_on_datafusion_gives_the_hand_computed_table_and_the_local_plan() {
        let out = customer_days(on_datafusion(&customer_days_sql()).lazy())
            .collect()
            .unwrap();
        check_customer_days(&out);
        let plan = customer_days(local::cost_per_customer_day(lines().lazy()))
            .collect()
            .unwrap();
        assert!(out.equals_missing(&plan), "{out}\n{plan}");
    }

    /// The lookups of [`lines`] on a result of either engine, sorted: subscriptions s1 (least
    /// customer c1) and s9 (no customer), the tenants c1, c2 and none.
    fn check_lookups(lookups: Vec<LazyFrame>, engine: &str) {
        let mut lookups = lookups.into_iter();
        let (subs, tenants) = (lookups.next().unwrap(), lookups.next().unwrap());
        let subs = subs
            .sort([u::ENTITLEMENT_ID], SortMultipleOptions::default())
            .collect()
            .unwrap();
        assert_eq!(
            strs(&subs, u::ENTITLEMENT_ID),
            [Some("s1".into()), Some("s9".into())],
            "{engine}"
        );
        assert_eq!(
            strs(&subs, "__cust_by_sub"),
            [Some("c1".into()), None],
            "{engine}"
        );
        let tenants = tenants
            .sort(
                ["__tenant"],
                SortMultipleOptions::default().with_nulls_last(true),
            )
            .collect()
            .unwrap();
        assert_eq!(
            strs(&tenants, "__cust_by_tenant"),
            [Some("c1".into()), Some("c2".into()), None],
            "{engine}"
        );
    }

    #[test]
    fn the_customer_lookups_sql_gives_the_hand_computed_lookups_and_the_local_plan() {
        let run = |r: Reduction| run_polars(&r, lines().lazy()).unwrap();
        check_lookups(
            customer_lookups_of(run(subscription_customers_sql()), run(tenants_sql())),
            "polars",
        );
        check_lookups(crate::ingest::customer_lookups(&lines().lazy()), "local");
        #[cfg(feature = "cluster")]
        {
            let run = |r: Reduction| on_datafusion(&r).lazy();
            check_lookups(
                customer_lookups_of(run(subscription_customers_sql()), run(tenants_sql())),
                "datafusion",
            );
        }
    }

    #[test]
    fn usage_daily_sql_on_polars_gives_the_hand_computed_table() {
        let out = usage_daily(run_polars(&usage_daily_sql(day(2)), lines().lazy()).unwrap())
            .collect()
            .unwrap();
        check_usage_daily(&out);
    }

    #[test]
    fn usage_daily_sql_on_polars_equals_the_local_plan() {
        let sql = usage_daily(run_polars(&usage_daily_sql(day(2)), lines().lazy()).unwrap())
            .collect()
            .unwrap();
        let plan = local::usage_daily_collecting_series(lines().lazy(), day(2))
            .unwrap()
            .collect()
            .unwrap();
        check_usage_daily(&plan);
        assert!(sql.equals_missing(&plan), "{sql}\n{plan}");
    }

    #[test]
    fn customer_days_sql_on_polars_gives_the_hand_computed_table() {
        let out = customer_days(run_polars(&customer_days_sql(), lines().lazy()).unwrap())
            .collect()
            .unwrap();
        check_customer_days(&out);
        let plan = customer_days(local::cost_per_customer_day(lines().lazy()))
            .collect()
            .unwrap();
        assert!(out.equals_missing(&plan), "{out}\n{plan}");
    }
}
