//! The usage signals' reductions over raw usage lines, written once as SQL text that both Polars'
//! SQL engine and DataFusion (on a Ballista cluster) run (as `reductions`, whose reasons apply):
//! - [`summary_sql`]: the summary per customer, currency, subscription, meter and region
//!   (`usage_signals::usage_summary`), what new meters, new regions, peers, the customer's history
//!   and usual spend, and linked accounts' usage country read;
//! - [`gpu_daily_sql`]: the cost per spike series and day of the GPU meters
//!   (`usage_signals::gpu_daily`); the GPU meters are matched by regex on the summary's distinct
//!   meters first, locally (a few hundred), and named in the SQL;
//! - [`resource_days_sql`]: round_the_clock's compute lines of the recent window per resource and
//!   day, each with whether the resource had usage before the window (the newness check).
//!
//! A local run keeps the Polars plans of `usage_signals` (streamed, memory-tuned); the tests pin
//! the SQL on both engines to hand-computed figures and to those plans. Every cost is an exact
//! Decimal(38, 10) sum, so the results do not depend on how rows are split or ordered.
//! round_the_clock's hours are summed per unit on the cluster (a line's hours are its quantity
//! times the unit's leading number, "10 Hours"), then multiplied and added here: the same figure
//! as the local plan's for units of one hour; for others it may differ in the last bit, which
//! only moves a resource-day exactly at the `round_the_clock_hours` threshold.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::reductions::{Reduction, USAGE_TABLE};
use super::Engine;
use crate::analysis::usage_signals::{self as signals, columns as c, UsageSignalConfig};
use crate::analysis::{exact, order_free_sum, text};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::usage::{CORRECTION, USAGE};
use crate::schema::usage as u;

/// Names of the reductions in the manifest.
pub const USAGE_SUMMARY: &str = "usage_summary";
pub const GPU_DAILY: &str = "gpu_daily";
pub const RESOURCE_DAYS: &str = "round_the_clock_resource_days";

/// Working columns of [`resource_days_sql`]'s result.
const SEEN_BEFORE: &str = "seen_before";
const USAGE_DAY: &str = "usage_day";

/// A text as an SQL literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn date(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

/// The consumption lines up to the as-of date with a customer, as the signals read them
/// (`usage_signals::usage_lines`): text keys without nulls (regions and resource ids as the
/// canonical table has them, lower case), null quantities and costs as 0, and round_the_clock's
/// resource key.
fn lines_sql(as_of: NaiveDate) -> String {
    format!(
        "(SELECT {cust}, {country},
    COALESCE({cur}, '') AS {cur}, COALESCE({ent}, '') AS {ent},
    COALESCE({cat}, '') AS {cat}, COALESCE({sub}, '') AS {sub}, COALESCE({name}, '') AS {name},
    COALESCE({region}, '') AS {region}, COALESCE({unit}, '') AS {unit},
    CASE WHEN COALESCE({res}, '') <> '' THEN {res}
         ELSE 'meter:/' || COALESCE({cat}, '') || '/' || COALESCE({name}, '') END AS {key},
    COALESCE({qty}, 0.0) AS {qty}, COALESCE({cost}, 0.0) AS {cost}, {date} AS {day}
FROM {t}
WHERE {date} <= {as_of} AND {cust} IS NOT NULL
  AND ({ccat} IS NULL OR {ccat} = '{usage}')
  AND ({class} IS NULL OR {class} <> '{correction}')) AS l",
        cust = u::CUSTOMER_ID,
        country = u::CUSTOMER_COUNTRY,
        cur = u::CURRENCY,
        ent = u::ENTITLEMENT_ID,
        cat = u::METER_CATEGORY,
        sub = u::METER_SUBCATEGORY,
        name = u::METER_NAME,
        region = u::REGION,
        unit = u::UNIT,
        res = u::RESOURCE_ID,
        key = c::RESOURCE,
        qty = u::QUANTITY,
        cost = u::COST,
        date = u::USAGE_DATE,
        day = USAGE_DAY,
        t = USAGE_TABLE,
        as_of = date(as_of),
        ccat = u::CHARGE_CATEGORY,
        class = u::CHARGE_CLASS,
        usage = USAGE,
        correction = CORRECTION,
    )
}

/// `usage_signals::usage_summary`: per summary key, the least usage country, the first day, and
/// the exact cost in the baseline `[baseline_start, recent_start)` and in the recent window.
/// The dates are `usage_signals::window_dates`'.
pub fn summary_sql(dates: [NaiveDate; 3]) -> Reduction {
    let [as_of, recent_start, baseline_start] = dates;
    let keys = c::SUMMARY_KEYS.join(", ");
    let exact_or_zero = |cond: String| {
        format!(
            "SUM(CASE WHEN {cond} THEN CAST({cost} AS DECIMAL(38, 10)) ELSE CAST(0 AS DECIMAL(38, 10)) END)",
            cost = u::COST
        )
    };
    let sql = format!(
        "SELECT {keys}, MIN({country}) AS {country}, MIN({day}) AS {first},
    {base} AS {base_sum},
    {recent} AS {recent_sum}
FROM {lines}
GROUP BY {keys}",
        country = u::CUSTOMER_COUNTRY,
        day = USAGE_DAY,
        first = c::FIRST,
        base = exact_or_zero(format!(
            "{USAGE_DAY} >= {} AND {USAGE_DAY} < {}",
            date(baseline_start),
            date(recent_start)
        )),
        base_sum = c::BASE_SUM,
        recent = exact_or_zero(format!("{USAGE_DAY} >= {}", date(recent_start))),
        recent_sum = c::RECENT_SUM,
        lines = lines_sql(as_of),
    );
    Reduction {
        name: USAGE_SUMMARY,
        sql,
    }
}

/// `usage_signals::gpu_daily`: the exact cost per spike series and day of the lines of `meters`
/// (subcategory, name: `usage_signals::gpu_meter_keys`).
pub fn gpu_daily_sql(as_of: NaiveDate, meters: &[(String, String)]) -> Reduction {
    let matched = if meters.is_empty() {
        "1 = 0".to_string()
    } else {
        meters
            .iter()
            .map(|(sub, name)| {
                format!(
                    "({} = {} AND {} = {})",
                    u::METER_SUBCATEGORY,
                    quoted(sub),
                    u::METER_NAME,
                    quoted(name)
                )
            })
            .collect::<Vec<_>>()
            .join("\n   OR ")
    };
    let keys = [
        u::CUSTOMER_ID,
        u::CURRENCY,
        u::ENTITLEMENT_ID,
        u::METER_CATEGORY,
        USAGE_DAY,
    ]
    .join(", ");
    let sql = format!(
        "SELECT {keys}, SUM(CAST({cost} AS DECIMAL(38, 10))) AS {gpu}
FROM {lines}
WHERE {matched}
GROUP BY {keys}",
        cost = u::COST,
        gpu = c::GPU_COST,
        lines = lines_sql(as_of),
    );
    Reduction {
        name: GPU_DAILY,
        sql,
    }
}

/// round_the_clock's reads of the lines: the compute lines (meter category Virtual Machines, or
/// a unit in hours, ignoring case) of the recent window per customer, currency, meter category,
/// meter name, resource, day and unit, with exact quantity and cost sums; and per such resource
/// the first day it had usage before the recent window (null: none).
pub fn resource_days_sql(as_of: NaiveDate, recent_start: NaiveDate) -> Reduction {
    let keys = [
        u::CUSTOMER_ID,
        u::CURRENCY,
        u::METER_CATEGORY,
        u::METER_NAME,
        c::RESOURCE,
        USAGE_DAY,
        u::UNIT,
    ];
    let sql = format!(
        "SELECT {r_keys}, r.{qty} AS {qty}, r.{cost} AS {cost}, s.{seen} AS {seen}
FROM (
  SELECT {keys}, SUM(CAST({qty} AS DECIMAL(38, 10))) AS {qty},
      SUM(CAST({cost} AS DECIMAL(38, 10))) AS {cost}
  FROM {lines}
  WHERE {day} >= {start}
    AND (LOWER({cat}) = 'virtual machines' OR LOWER({unit}) LIKE '%hour%')
  GROUP BY {keys}
) AS r
LEFT JOIN (
  SELECT {cust}, {res}, MIN({day}) AS {seen}
  FROM {lines}
  WHERE {day} < {start}
  GROUP BY {cust}, {res}
) AS s ON r.{cust} = s.{cust} AND r.{res} = s.{res}",
        r_keys = keys
            .iter()
            .map(|k| format!("r.{k} AS {k}"))
            .collect::<Vec<_>>()
            .join(", "),
        keys = keys.join(", "),
        qty = u::QUANTITY,
        cost = u::COST,
        seen = SEEN_BEFORE,
        lines = lines_sql(as_of),
        day = USAGE_DAY,
        start = date(recent_start),
        cat = u::METER_CATEGORY,
        unit = u::UNIT,
        cust = u::CUSTOMER_ID,
        res = c::RESOURCE,
    );
    Reduction {
        name: RESOURCE_DAYS,
        sql,
    }
}

/// A date column as the signals' day number (days since 1970-01-01, Int32).
fn day_number(name: &str) -> Expr {
    col(name).cast(DataType::Date).cast(DataType::Int32)
}

/// [`summary_sql`]'s result (either engine) as `usage_summary` gives it: its columns and dtypes.
pub fn summary(result: LazyFrame) -> LazyFrame {
    let mut cols: Vec<Expr> = c::SUMMARY_KEYS
        .iter()
        .map(|k| col(*k).cast(DataType::String))
        .collect();
    cols.extend([
        col(u::CUSTOMER_COUNTRY).cast(DataType::String),
        day_number(c::FIRST).alias(c::FIRST),
        exact(col(c::BASE_SUM)),
        exact(col(c::RECENT_SUM)),
    ]);
    result.select(cols)
}

/// [`gpu_daily_sql`]'s result (either engine) as `usage_signals::gpu_daily` gives it.
pub fn gpu_daily(result: LazyFrame) -> LazyFrame {
    result.select([
        col(u::CUSTOMER_ID).cast(DataType::String),
        col(u::CURRENCY).cast(DataType::String),
        col(u::ENTITLEMENT_ID).cast(DataType::String),
        col(u::METER_CATEGORY).cast(DataType::String),
        day_number(USAGE_DAY).alias(c::DAY),
        exact(col(c::GPU_COST)).cast(DataType::Float64),
    ])
}

/// [`resource_days_sql`]'s result (either engine) as round_the_clock reads it
/// (`usage_signals::round_the_clock_from_reductions`): the resource days (hours and cost per
/// resource and day, as the local plan sums them) and the resources seen before the window.
pub fn resource_days(result: LazyFrame) -> (LazyFrame, LazyFrame) {
    let in_hours = || text::test(col(u::UNIT), |s| text::contains_ignore_case(s, "hour"));
    let multiple = text::number(col(u::UNIT), text::leading_number).fill_null(lit(1.0));
    let quantity = exact(col(u::QUANTITY)).cast(DataType::Float64);
    let hours = when(in_hours())
        .then(quantity.clone() * multiple)
        .otherwise(quantity);
    let keys = [
        u::CUSTOMER_ID,
        u::CURRENCY,
        u::METER_CATEGORY,
        u::METER_NAME,
        c::RESOURCE,
    ];
    let mut day_keys: Vec<Expr> = keys
        .iter()
        .map(|k| col(*k).cast(DataType::String))
        .collect();
    day_keys.push(day_number(USAGE_DAY).alias(c::DAY));
    let recent = result
        .clone()
        .with_column(hours.alias(c::HOURS))
        .group_by(day_keys)
        .agg([
            order_free_sum(col(c::HOURS)),
            exact(col(u::COST)).sum().cast(DataType::Float64),
        ]);
    let who = [col(u::CUSTOMER_ID), col(c::RESOURCE)];
    let seen = result
        .filter(col(SEEN_BEFORE).is_not_null())
        .select(who)
        .unique(None, UniqueKeepStrategy::Any);
    (recent, seen)
}

/// The usage signals' three reductions on a cluster engine: the summary, the round_the_clock
/// rows and the GPU daily cost, as `pipeline::collect::usage_signal_parts` gives them locally;
/// None on the local engine (the caller runs the local plans).
pub fn usage_signal_parts(
    engine: &mut Engine,
    usage_file: &Path,
    as_of: NaiveDate,
    cfg: &UsageSignalConfig,
) -> Result<Option<[LazyFrame; 3]>> {
    if engine.is_local() {
        return Ok(None);
    }
    let dates = signals::window_dates(as_of, cfg);
    let mut remote = |r: Reduction| -> Result<LazyFrame> {
        engine
            .remote(&r, usage_file)?
            .map(DataFrame::lazy)
            .ok_or_else(|| Error::Internal(format!("the {} reduction did not run", r.name)))
    };
    let summary_lf = summary(remote(summary_sql(dates))?)
        .collect()
        .stage("usage summary")?
        .lazy();
    let gpu = signals::gpu_meter_keys(summary_lf.clone(), cfg)
        .collect()
        .stage("GPU meters")?;
    let texts = |name: &str| -> Result<Vec<String>> {
        Ok(gpu
            .column(name)
            .stage("GPU meters")?
            .str()
            .stage("GPU meters")?
            .iter()
            .map(|s| s.unwrap_or("").to_string())
            .collect())
    };
    let meters: Vec<(String, String)> = texts(u::METER_SUBCATEGORY)?
        .into_iter()
        .zip(texts(u::METER_NAME)?)
        .collect();
    let gpu_lf = gpu_daily(remote(gpu_daily_sql(as_of, &meters))?)
        .collect()
        .stage("GPU daily cost")?
        .lazy();
    let (recent, seen) = resource_days(remote(resource_days_sql(dates[0], dates[1]))?);
    let rtc =
        signals::round_the_clock_from_reductions(recent, seen, summary_lf.clone(), as_of, cfg)
            .collect()
            .stage("round_the_clock")?
            .lazy();
    Ok(Some([summary_lf, rtc, gpu_lf]))
}

#[cfg(test)]
mod tests;
