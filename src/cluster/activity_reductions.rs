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
//! - [`linked_callers_sql`], [`linked_ips_sql`], [`linked_operations_sql`]: what
//!   linked_accounts reads of the events of the window and the history
//!   (`analysis::anomalies::linked::local_link_keys`): per customer and caller its first day and
//!   first write's day; per customer and client IP of a Microsoft.Authorization write its first
//!   day; per customer and operation its first time and day (a new customer's first three
//!   operations in time order are the three with the least first times, then names).
//!
//! The SQL reads the converted activity file(s) as they are, as `activity_0`, `activity_1`...,
//! and maps each event to its customer itself, from the converted usage (table `usage`) as
//! `ingest::map_activity_to_customers` does on the client: the subscription's least customer_id,
//! else the tenant when it is a customer of usage, else the event's own customer_id, else its
//! tenant. A local run keeps `local_history` and `local_link_keys`; the tests pin the SQL on both
//! engines to hand-computed figures and to them. The results are counts, minima and distinct
//! values: the same on any engine and any number of executors. The window's own events (7 days)
//! are still read on the client for the activity signals' evidence (see the README).

use chrono::NaiveDate;
use polars::prelude::*;

use super::reductions::{Reduction, USAGE_TABLE};
use super::Engine;
use crate::analysis::anomalies::activity::{history_columns as h, window_bounds, ActivityHistory};
use crate::analysis::anomalies::linked::{key_columns as k, link_events_start, LinkKeys};
use crate::analysis::anomalies::AnomalyConfig;
use crate::error::{Error, PolarsContext, Result};
use crate::schema::{activity as a, usage as u};

/// Names of the reductions in the manifest.
pub const ACTIVITY_CUSTOMERS: &str = "activity_history_per_customer";
pub const ACTIVITY_CALLERS: &str = "activity_known_callers";
pub const ACTIVITY_IPS: &str = "activity_known_ips";
pub const LINKED_CALLERS: &str = "linked_accounts_callers";
pub const LINKED_IPS: &str = "linked_accounts_ips";
pub const LINKED_OPERATIONS: &str = "linked_accounts_operations";

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
/// activity files, mapped to customers: customer_id, event_time, day, op, st (status),
/// caller_key, client_ip, region.
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
    e.{time} AS event_time, CAST(e.{time} AS DATE) AS day,
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

/// linked_accounts' keys (`linked::local_link_keys`) over the events from
/// `history_days + window_days` before A up to A: per customer and caller, the first day and
/// the first write's day.
pub fn linked_callers_sql(tables: usize, as_of: NaiveDate, cfg: &AnomalyConfig) -> Reduction {
    let sql = format!(
        "SELECT customer_id, caller_key AS {caller}, MIN(day) AS {first},
    MIN(CASE WHEN op LIKE '%/write' THEN day ELSE NULL END) AS {write}
FROM {events}
WHERE caller_key IS NOT NULL
GROUP BY customer_id, caller_key",
        caller = a::CALLER,
        first = k::FIRST_DAY,
        write = k::FIRST_WRITE,
        events = events_sql(tables, link_events_start(as_of, cfg), as_of),
    );
    Reduction {
        name: LINKED_CALLERS,
        sql,
    }
}

/// linked_accounts' keys: per customer and client IP of a Microsoft.Authorization write, the
/// first day.
pub fn linked_ips_sql(tables: usize, as_of: NaiveDate, cfg: &AnomalyConfig) -> Reduction {
    let sql = format!(
        "SELECT customer_id, client_ip, MIN(day) AS {first}
FROM {events}
WHERE op LIKE '%/write' AND op LIKE 'microsoft.authorization/%' AND client_ip IS NOT NULL
GROUP BY customer_id, client_ip",
        first = k::FIRST_DAY,
        events = events_sql(tables, link_events_start(as_of, cfg), as_of),
    );
    Reduction {
        name: LINKED_IPS,
        sql,
    }
}

/// linked_accounts' keys: per customer and operation, the first time and day (a new customer's
/// first operations are the first three by time, then name).
pub fn linked_operations_sql(tables: usize, as_of: NaiveDate, cfg: &AnomalyConfig) -> Reduction {
    let sql = format!(
        "SELECT customer_id, op AS {op}, MIN(event_time) AS {time}, MIN(day) AS {first}
FROM {events}
GROUP BY customer_id, op",
        op = k::OPERATION,
        time = k::FIRST_TIME,
        first = k::FIRST_DAY,
        events = events_sql(tables, link_events_start(as_of, cfg), as_of),
    );
    Reduction {
        name: LINKED_OPERATIONS,
        sql,
    }
}

/// The three results (either engine) as `local_link_keys` gives them: columns and dtypes.
pub fn link_keys_of(callers: LazyFrame, ips: LazyFrame, operations: LazyFrame) -> LinkKeys {
    let text = |c: &str| col(c).cast(DataType::String);
    let day = |c: &str| col(c).cast(DataType::Date);
    LinkKeys {
        callers: callers.select([
            text(a::CUSTOMER_ID),
            text(a::CALLER),
            day(k::FIRST_DAY),
            day(k::FIRST_WRITE),
        ]),
        ips: ips.select([text(a::CUSTOMER_ID), text(a::CLIENT_IP), day(k::FIRST_DAY)]),
        operations: operations.select([
            text(a::CUSTOMER_ID),
            text(k::OPERATION),
            col(k::FIRST_TIME).cast(crate::schema::timestamp_utc()),
            day(k::FIRST_DAY),
        ]),
    }
}

/// What the activity signals and linked_accounts read of the events, from a cluster.
#[derive(Clone)]
pub struct ActivityParts {
    pub history: ActivityHistory,
    pub link_keys: LinkKeys,
}

/// The activity reductions on a cluster engine over the converted activity files of `input`
/// (registered as `activity_0`...) and usage, collected; None on the local engine or without
/// activity files (the caller computes them locally from the events it holds: none).
pub fn activity_parts(
    engine: &mut Engine,
    usage_file: &std::path::Path,
    input: &std::path::Path,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> Result<Option<ActivityParts>> {
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
    let history = history_of(
        remote(customers_sql(n, as_of, cfg))?,
        remote(callers_sql(n, as_of, cfg))?,
        remote(ips_sql(n, as_of, cfg))?,
    );
    let link_keys = link_keys_of(
        remote(linked_callers_sql(n, as_of, cfg))?,
        remote(linked_ips_sql(n, as_of, cfg))?,
        remote(linked_operations_sql(n, as_of, cfg))?,
    );
    let collected = |lf: LazyFrame| -> Result<LazyFrame> {
        Ok(lf.collect().stage("activity reductions")?.lazy())
    };
    Ok(Some(ActivityParts {
        history: ActivityHistory {
            customers: collected(history.customers)?,
            callers: collected(history.callers)?,
            ips: collected(history.ips)?,
        },
        link_keys: LinkKeys {
            callers: collected(link_keys.callers)?,
            ips: collected(link_keys.ips)?,
            operations: collected(link_keys.operations)?,
        },
    }))
}

#[cfg(test)]
mod tests;
