//! The activity signals' reductions over the customers' history of Activity Log events, written
//! once as SQL text that both Polars' SQL engine and DataFusion (on a Ballista cluster) run (as
//! `reductions`, whose reasons apply): the part of the events that grows with the history
//! (`history_days`, 90 by default, against a window of 7), as
//! `analysis::anomalies::activity::local_history` computes it locally:
//! - [`customers_sql`]: per customer its first day, successful writes, failed operations, and the
//!   most regions VMs or scale sets were written in on one day (the bursts' baselines, who is
//!   seasoned enough for new callers and IPs, multi_region_deploy's history);
//! - [`callers_sql`], [`ips_sql`]: the first-seen sets, the distinct callers and client IPs
//!   each customer's history holds.
//!
//! The SQL reads the converted activity file(s) as they are, as `activity_0`, `activity_1`...,
//! and maps each event to its customer itself, from the converted usage (table `usage`) as
//! `ingest::map_activity_to_customers` does on the client: the subscription's least customer_id,
//! else the tenant when it is a customer of usage, else the event's own customer_id, else its
//! tenant. A local run keeps `local_history`; the tests pin the SQL on both engines to
//! hand-computed figures and to it. The counts are integers: the same on any engine and any
//! number of executors. The window's own events (7 days) are still read on the client, like
//! linked_accounts' (see the README).

use chrono::NaiveDate;
use polars::prelude::*;

use super::reductions::{Reduction, USAGE_TABLE};
use super::Engine;
use crate::analysis::anomalies::activity::{history_columns as h, window_bounds, ActivityHistory};
use crate::analysis::anomalies::AnomalyConfig;
use crate::error::{Error, PolarsContext, Result};
use crate::schema::{activity as a, usage as u};

/// Names of the reductions in the manifest.
pub const ACTIVITY_CUSTOMERS: &str = "activity_history_per_customer";
pub const ACTIVITY_CALLERS: &str = "activity_known_callers";
pub const ACTIVITY_IPS: &str = "activity_known_ips";

/// The name of the `i`-th converted activity file's table.
pub fn activity_table(i: usize) -> String {
    format!("activity_{i}")
}

const VM_WRITE: &str = "microsoft.compute/virtualmachines/write";
const VMSS_WRITE: &str = "microsoft.compute/virtualmachinescalesets/write";

fn date(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

/// The history's events (`activity::prepare`'s, from `from` to `to`) of the `tables` converted
/// activity files, mapped to customers: customer_id, day, op, st (status), caller_key,
/// client_ip, region.
fn events_sql(tables: usize, from: NaiveDate, to: NaiveDate) -> String {
    let cols = [
        a::EVENT_TIME,
        a::CUSTOMER_ID,
        a::SUBSCRIPTION_ID,
        a::TENANT_ID,
        a::OPERATION,
        a::OPERATION_LOWER,
        a::STATUS,
        a::CALLER,
        a::CLIENT_IP,
        a::LOCATION,
        a::RESOURCE_ID,
    ]
    .join(", ");
    let all = (0..tables.max(1))
        .map(|i| format!("SELECT {cols} FROM {}", activity_table(i)))
        .collect::<Vec<_>>()
        .join("\n  UNION ALL ");
    format!(
        "(SELECT * FROM (
  SELECT COALESCE(NULLIF(TRIM(COALESCE(b.cust_by_sub, t.tenant, e.{cust})), ''),
                  LOWER(NULLIF(TRIM(e.{tenant}), ''))) AS customer_id,
    CAST(e.{time} AS DATE) AS day,
    COALESCE(e.{op_lower}, LOWER(e.{op})) AS op,
    TRIM(LOWER(e.{status})) AS st,
    NULLIF(TRIM(LOWER(e.{caller})), '') AS caller_key,
    NULLIF(TRIM(LOWER(e.{ip})), '') AS client_ip,
    REPLACE(COALESCE(LOWER(NULLIF(TRIM(e.{loc}), '')),
      NULLIF(SPLIT_PART(SPLIT_PART(LOWER(e.{res}), '/locations/', 2), '/', 1), '')), ' ', '') AS region
  FROM ({all}) AS e
  LEFT JOIN (SELECT {ent} AS sub, MIN({ucust}) AS cust_by_sub FROM {usage}
             WHERE {ent} IS NOT NULL GROUP BY {ent}) AS b ON e.{sub} = b.sub
  LEFT JOIN (SELECT DISTINCT {ucust} AS tenant FROM {usage}) AS t ON e.{tenant} = t.tenant
) AS m
WHERE customer_id IS NOT NULL AND day >= {from} AND day <= {to}) AS ev",
        cust = a::CUSTOMER_ID,
        tenant = a::TENANT_ID,
        time = a::EVENT_TIME,
        op_lower = a::OPERATION_LOWER,
        op = a::OPERATION,
        status = a::STATUS,
        caller = a::CALLER,
        ip = a::CLIENT_IP,
        loc = a::LOCATION,
        res = a::RESOURCE_ID,
        sub = a::SUBSCRIPTION_ID,
        ent = u::ENTITLEMENT_ID,
        ucust = u::CUSTOMER_ID,
        usage = USAGE_TABLE,
        from = date(from),
        to = date(to),
    )
}

/// The history's first and last day.
fn history_days(as_of: NaiveDate, cfg: &AnomalyConfig) -> (NaiveDate, NaiveDate) {
    let [window_start, history_start] = window_bounds(as_of, cfg);
    (history_start, window_start - chrono::Duration::days(1))
}

/// Per customer of the history: first day, successful writes, failed operations, and the most
/// regions VMs or scale sets were written in on one day (null: none).
pub fn customers_sql(tables: usize, as_of: NaiveDate, cfg: &AnomalyConfig) -> Reduction {
    let (from, to) = history_days(as_of, cfg);
    let events = events_sql(tables, from, to);
    let failed = "(st = 'failed' OR st = 'failure')";
    let sql = format!(
        "SELECT c.customer_id AS customer_id, c.{first} AS {first}, c.{writes} AS {writes},
    c.{failed_n} AS {failed_n}, r.{max} AS {max}
FROM (
  SELECT customer_id, MIN(day) AS {first},
    SUM(CASE WHEN op LIKE '%/write' AND (st = 'succeeded' OR st = 'success') THEN 1 ELSE 0 END) AS {writes},
    SUM(CASE WHEN {failed} THEN 1 ELSE 0 END) AS {failed_n}
  FROM {events}
  GROUP BY customer_id
) AS c
LEFT JOIN (
  SELECT customer_id, MAX(regions) AS {max}
  FROM (
    SELECT customer_id, day, COUNT(DISTINCT region) AS regions
    FROM {events}
    WHERE (op = '{VM_WRITE}' OR op = '{VMSS_WRITE}') AND NOT {failed}
    GROUP BY customer_id, day
  ) AS d
  GROUP BY customer_id
) AS r ON c.customer_id = r.customer_id",
        first = h::FIRST_DAY,
        writes = h::WRITES,
        failed_n = h::FAILED,
        max = h::MAX_REGIONS,
    );
    Reduction {
        name: ACTIVITY_CUSTOMERS,
        sql,
    }
}

fn distinct_sql(
    name: &'static str,
    column: &str,
    tables: usize,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> Reduction {
    let (from, to) = history_days(as_of, cfg);
    let sql = format!(
        "SELECT DISTINCT customer_id, {column} FROM {events} WHERE {column} IS NOT NULL",
        events = events_sql(tables, from, to),
    );
    Reduction { name, sql }
}

/// The distinct callers (lower-case) of each customer's history.
pub fn callers_sql(tables: usize, as_of: NaiveDate, cfg: &AnomalyConfig) -> Reduction {
    distinct_sql(ACTIVITY_CALLERS, "caller_key", tables, as_of, cfg)
}

/// The distinct client IPs (lower-case) of each customer's history.
pub fn ips_sql(tables: usize, as_of: NaiveDate, cfg: &AnomalyConfig) -> Reduction {
    distinct_sql(ACTIVITY_IPS, "client_ip", tables, as_of, cfg)
}

/// The three results (either engine) as `local_history` gives them: columns and dtypes.
pub fn history_of(customers: LazyFrame, callers: LazyFrame, ips: LazyFrame) -> ActivityHistory {
    let text = |c: &str| col(c).cast(DataType::String);
    ActivityHistory {
        customers: customers.select([
            text(a::CUSTOMER_ID),
            col(h::FIRST_DAY).cast(DataType::Date),
            col(h::WRITES).cast(DataType::Float64),
            col(h::FAILED).cast(DataType::Float64),
            col(h::MAX_REGIONS).cast(DataType::Float64),
        ]),
        callers: callers.select([
            text(a::CUSTOMER_ID),
            text("caller_key").alias(h::CALLER_KEY),
        ]),
        ips: ips.select([text(a::CUSTOMER_ID), text(a::CLIENT_IP)]),
    }
}

/// The activity history on a cluster engine over the converted activity files of `input`
/// (registered as `activity_0`...) and usage, collected; None on the local engine or without
/// activity files (the caller computes it locally from the events it holds: none).
pub fn activity_history(
    engine: &mut Engine,
    usage_file: &std::path::Path,
    input: &std::path::Path,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> Result<Option<ActivityHistory>> {
    if engine.is_local() {
        return Ok(None);
    }
    let activity_files = crate::ingest::converted(input, a::TABLE)?;
    if activity_files.is_empty() {
        return Ok(None);
    }
    for (i, file) in activity_files.iter().enumerate() {
        engine.register(&activity_table(i), file)?;
    }
    let n = activity_files.len();
    let mut remote = |r: Reduction| -> Result<LazyFrame> {
        engine
            .remote(&r, usage_file)?
            .map(DataFrame::lazy)
            .ok_or_else(|| Error::Internal(format!("the {} reduction did not run", r.name)))
    };
    let customers = remote(customers_sql(n, as_of, cfg))?;
    let callers = remote(callers_sql(n, as_of, cfg))?;
    let ips = remote(ips_sql(n, as_of, cfg))?;
    let history = history_of(customers, callers, ips);
    let collected =
        |lf: LazyFrame| -> Result<LazyFrame> { Ok(lf.collect().stage("activity history")?.lazy()) };
    Ok(Some(ActivityHistory {
        customers: collected(history.customers)?,
        callers: collected(history.callers)?,
        ips: collected(history.ips)?,
    }))
}

#[cfg(test)]
mod tests;
