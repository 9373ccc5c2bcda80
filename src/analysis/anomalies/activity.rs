//! Activity signals (SPEC 4.4, family `activity`) from the Azure Activity Log (canonical
//! `activity`) and Partner Center audit records: bursts of resource creation, callers and client
//! IPs never seen before, privileged role assignments, bursts of failed operations, VM
//! deployments in many regions in one day, and the audit record operations that precede account
//! takeovers (spending limit raised, new user, password reset). Events in the window
//! [A - window_days + 1, A] are compared with the customer's own history, the `history_days`
//! before the window. An event belongs to its customer_id, else to its tenant (a customer's
//! CustomerId is its tenant id); events with neither are ignored.

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::config::AnomalyConfig;
use super::evidence::{count_text, date_text, num_text};
use super::table::{date_lit, union};
use crate::analysis::div_const;
use crate::analysis::reasons::{
    ACTIVITY_BURST, FAILED_OPS_BURST, FAMILY_ACTIVITY, MULTI_REGION_DEPLOY, NEW_CALLER, NEW_IP,
    NEW_USER, PASSWORD_RESET, ROLE_ASSIGNMENT, SPENDING_LIMIT_RAISED,
};
use crate::analysis::text::lowercase;
use crate::schema::{activity as act, anomalies as an, audit_records as aud};

// Working columns of the prepared events (not in any output).
pub(super) const DAY: &str = "_day";
pub(super) const OP: &str = "_op";
const ST: &str = "_status";
const N: &str = "_n";
const BASELINE: &str = "_baseline";
pub(super) const CALLER_KEY: &str = "_caller_key";

const ROLE_ASSIGNMENT_WRITE: &str = "microsoft.authorization/roleassignments/write";
const VM_WRITE: &str = "microsoft.compute/virtualmachines/write";
const VMSS_WRITE: &str = "microsoft.compute/virtualmachinescalesets/write";

/// Columns of [`ActivityHistory`]'s frames.
pub mod history_columns {
    /// The customer's first day with an event in the history (Date).
    pub const FIRST_DAY: &str = "first_day";
    /// Successful resource writes in the history (Float64).
    pub const WRITES: &str = "writes";
    /// Failed operations in the history (Float64).
    pub const FAILED: &str = "failed";
    /// The most regions VMs or scale sets were written in on one day of the history (Float64;
    /// null: no VM write).
    pub const MAX_REGIONS: &str = "max_regions";
    /// A caller, lower-case (String).
    pub const CALLER_KEY: &str = "caller_key";
}
use history_columns as h;

/// What the activity signals read of the customers' history (the `history_days` before the
/// window), the part of the events that grows with the history: per customer (`customer_id`)
/// its first day, writes, failed operations and most regions a day ([`history_columns`]);
/// the distinct callers (`customer_id`, `caller_key`) and client IPs (`customer_id`,
/// `client_ip`, lower-case) seen. [`local_history`] computes it with Polars;
/// `cluster::activity_reductions` with SQL on a cluster.
#[derive(Clone)]
pub struct ActivityHistory {
    pub customers: LazyFrame,
    pub callers: LazyFrame,
    pub ips: LazyFrame,
}

/// The first day of the window and of the history before it.
pub fn window_bounds(as_of: NaiveDate, cfg: &AnomalyConfig) -> [NaiveDate; 2] {
    let window_start = as_of - Duration::days(cfg.window_days.max(1) - 1);
    [
        window_start,
        window_start - Duration::days(cfg.history_days.max(0)),
    ]
}

/// [`ActivityHistory`] of `activity` (events mapped to customers), with Polars.
pub fn local_history(
    activity: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> ActivityHistory {
    let [window_start, history_start] = window_bounds(as_of, cfg);
    let hist = prepare(activity, history_start, window_start - Duration::days(1));
    let count = |which: Expr| which.cast(DataType::UInt32).sum().cast(DataType::Float64);
    let hist_max = vm_write_days(&hist)
        .group_by([col(act::CUSTOMER_ID)])
        .agg([col(REGIONS).max().alias(h::MAX_REGIONS)]);
    let customers = hist
        .clone()
        .group_by([col(act::CUSTOMER_ID)])
        .agg([
            col(DAY).min().alias(h::FIRST_DAY),
            count(is_write().and(is_success())).alias(h::WRITES),
            count(is_failed()).alias(h::FAILED),
        ])
        .join(
            hist_max,
            [col(act::CUSTOMER_ID)],
            [col(act::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        );
    let distinct = |c: &str, alias: &str| {
        hist.clone()
            .filter(col(c).is_not_null())
            .select([col(act::CUSTOMER_ID), col(c).alias(alias)])
            .unique(None, UniqueKeepStrategy::Any)
    };
    ActivityHistory {
        customers,
        callers: distinct(CALLER_KEY, h::CALLER_KEY),
        ips: distinct(act::CLIENT_IP, act::CLIENT_IP),
    }
}

/// Every activity-family anomaly, in the anomalies schema (not yet sorted; all_anomalies sorts).
pub fn activity_signals(
    activity: LazyFrame,
    audit_records: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let history = local_history(activity.clone(), as_of, cfg);
    activity_signals_with(activity, history, audit_records, as_of, cfg)
}

/// [`activity_signals`] over the window's events of `activity` and the customers' `history`
/// (either engine's).
pub fn activity_signals_with(
    activity: LazyFrame,
    history: ActivityHistory,
    audit_records: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let [window_start, _] = window_bounds(as_of, cfg);
    let history_days = cfg.history_days.max(1) as f64;

    let win = prepare(activity, window_start, as_of);
    // new_caller and new_ip judge only customers whose activity goes back at least
    // activity_min_history_days before the window: a new tenant's users and IPs are all new.
    let seasoned = history
        .customers
        .clone()
        .filter(col(h::FIRST_DAY).lt_eq(date_lit(
            window_start - Duration::days(cfg.activity_min_history_days.max(0)),
        )))
        .select([col(act::CUSTOMER_ID)]);
    let of_seasoned = |known: LazyFrame| {
        known.join(
            seasoned.clone(),
            [col(act::CUSTOMER_ID)],
            [col(act::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Semi),
        )
    };
    let known_callers = of_seasoned(
        history
            .callers
            .select([col(act::CUSTOMER_ID), col(h::CALLER_KEY).alias(CALLER_KEY)]),
    );
    let known_ips = of_seasoned(history.ips);
    let baseline = |count: &str| {
        history
            .customers
            .clone()
            .filter(col(count).gt(lit(0.0)))
            .select([
                col(act::CUSTOMER_ID),
                div_const(col(count), history_days).alias(BASELINE),
            ])
    };
    let hist_max = history
        .customers
        .clone()
        .filter(col(h::MAX_REGIONS).is_not_null())
        .select([col(act::CUSTOMER_ID), col(h::MAX_REGIONS).alias(HIST_MAX)]);

    let burst = Burst {
        signal: ACTIVITY_BURST,
        what: "resource writes",
        factor: cfg.burst_factor,
        min_count: cfg.burst_min_writes,
        floor: cfg.baseline_floor,
    };
    let failed = Burst {
        signal: FAILED_OPS_BURST,
        what: "failed operations",
        factor: cfg.failed_factor,
        min_count: cfg.failed_min_count,
        floor: cfg.baseline_floor,
    };
    union(vec![
        burst.signals(&win, baseline(h::WRITES), is_write().and(is_success())),
        new_caller(&win, known_callers, cfg.history_days),
        role_assignment(&win, &cfg.privileged_roles),
        new_ip(&win, known_ips, cfg.history_days),
        failed.signals(&win, baseline(h::FAILED), is_failed()),
        multi_region_deploy(&win, hist_max, cfg.multi_region_min_regions),
        audit_signals(audit_records, window_start, as_of),
    ])
}

/// Events from `from` to `to` with a customer (else the lower-case tenant), their day (`DAY`),
/// lower-case operation (`OP`) and status, caller (and lower-case in `CALLER_KEY`) and lower-case
/// client IP. linked.rs reads its link keys from these too.
// Lower-cased with text::lowercase, not Polars' str().to_lowercase(), which builds a new string
// char by char for every value: on the 570k events of a 10M-row run that was 2 s of CPU, where
// most values are lower case already or ASCII.
pub(super) fn prepare(activity: LazyFrame, from: NaiveDate, to: NaiveDate) -> LazyFrame {
    activity
        .with_columns([
            coalesce(&[
                blank_to_null(col(act::CUSTOMER_ID)),
                lowercase(blank_to_null(col(act::TENANT_ID))),
            ])
            .alias(act::CUSTOMER_ID),
            col(act::EVENT_TIME).dt().date().alias(DAY),
            coalesce(&[col(act::OPERATION_LOWER), lowercase(col(act::OPERATION))]).alias(OP),
            lowercase(col(act::STATUS))
                .str()
                .strip_chars(lit(NULL))
                .alias(ST),
            blank_to_null(col(act::CALLER)).alias(act::CALLER),
            // User principal names compare case-insensitively; the entity keeps the spelling.
            blank_to_null(lowercase(col(act::CALLER))).alias(CALLER_KEY),
            blank_to_null(lowercase(col(act::CLIENT_IP))).alias(act::CLIENT_IP),
        ])
        .filter(
            col(act::CUSTOMER_ID)
                .is_not_null()
                .and(col(DAY).gt_eq(date_lit(from)))
                .and(col(DAY).lt_eq(date_lit(to))),
        )
}

pub(super) fn blank_to_null(e: Expr) -> Expr {
    let trimmed = e.str().strip_chars(lit(NULL));
    when(trimmed.clone().eq(lit("")))
        .then(lit(NULL).cast(DataType::String))
        .otherwise(trimmed)
}

fn is_write() -> Expr {
    col(OP).str().ends_with(lit("/write"))
}

// The Activity Log says Succeeded (REST, portal) or Success (diagnostic resultType).
fn is_success() -> Expr {
    col(ST).eq(lit("succeeded")).or(col(ST).eq(lit("success")))
}

fn is_failed() -> Expr {
    col(ST).eq(lit("failed")).or(col(ST).eq(lit("failure")))
}

/// Columns every activity anomaly shares.
fn tagged(signal: &'static str) -> [Expr; 3] {
    [
        lit(FAMILY_ACTIVITY).alias(an::FAMILY),
        lit(signal).alias(an::SIGNAL),
        lit(false).alias(an::SUPPRESSED),
    ]
}

/// Customers with at least one caller (or IP) in their history: "never seen before" means
/// something only for them (a history from an export without callers or IPs does not count).
fn with_history(known: &LazyFrame) -> LazyFrame {
    known
        .clone()
        .select([col(act::CUSTOMER_ID)])
        .unique(None, UniqueKeepStrategy::Any)
}

fn key(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|n| col(*n)).collect()
}

/// A daily count compared with the customer's average per history day.
struct Burst {
    signal: &'static str,
    what: &'static str,
    factor: f64,
    min_count: u32,
    floor: f64,
}

impl Burst {
    /// `baseline`: customer_id and the usual count a day of the customers with some.
    fn signals(&self, win: &LazyFrame, baseline: LazyFrame, which: Expr) -> LazyFrame {
        let daily = win
            .clone()
            .filter(which.clone())
            .group_by([col(act::CUSTOMER_ID), col(DAY)])
            .agg([
                len().cast(DataType::Float64).alias(N),
                col(act::SUBSCRIPTION_ID)
                    .drop_nulls()
                    .min()
                    .alias(an::ENTITY),
            ]);
        let floor = lit(self.floor.max(f64::MIN_POSITIVE));
        let ratio = col(N) / col(BASELINE);
        daily
            .join(
                baseline,
                [col(act::CUSTOMER_ID)],
                [col(act::CUSTOMER_ID)],
                JoinArgs::new(JoinType::Left),
            )
            .with_column(
                when(col(BASELINE).fill_null(lit(0.0)).gt(floor.clone()))
                    .then(col(BASELINE))
                    .otherwise(floor)
                    .alias(BASELINE),
            )
            .filter(
                col(N)
                    .gt_eq(lit(self.min_count as f64))
                    .and(col(N).gt_eq(col(BASELINE) * lit(self.factor))),
            )
            .with_columns(tagged(self.signal))
            .with_columns([
                coalesce(&[col(an::ENTITY), col(act::CUSTOMER_ID)]).alias(an::ENTITY),
                col(DAY).alias(an::DATE),
                col(N).alias(an::ACTUAL),
                col(BASELINE).alias(an::EXPECTED),
                div_const(ratio.clone(), self.factor.max(f64::MIN_POSITIVE)).alias(an::SCORE),
                concat_str(
                    [
                        count_text(col(N)),
                        lit(format!(" {} on ", self.what)),
                        date_text(col(DAY)),
                        lit(", "),
                        num_text(ratio, 1),
                        lit("x the customer's usual rate (taken as "),
                        num_text(col(BASELINE), 1),
                        lit(" a day)"),
                    ],
                    "",
                    false,
                )
                .alias(an::REASON),
            ])
    }
}

/// Writes by callers never seen in the customer's history (`known`: customer_id and caller key).
fn new_caller(win: &LazyFrame, known: LazyFrame, history_days: i64) -> LazyFrame {
    let writes = col(act::CALLER)
        .is_not_null()
        .and(is_write())
        .and(is_failed().not());
    never_seen(win, known, CALLER_KEY, writes, &[act::CALLER])
        .with_columns(tagged(NEW_CALLER))
        .with_columns(first_time_row(
            col(act::CALLER),
            concat_str(
                [
                    lit("Caller "),
                    col(act::CALLER),
                    lit(format!(
                        ", never seen in the previous {history_days} days, made "
                    )),
                    count_text(col(N)),
                    lit(" write operation(s), the first on "),
                    date_text(col(DAY)),
                ],
                "",
                false,
            ),
        ))
}

/// Operations from client IPs never seen in the customer's history (`known`: customer_id and
/// client IP).
fn new_ip(win: &LazyFrame, known: LazyFrame, history_days: i64) -> LazyFrame {
    let with_ip = col(act::CLIENT_IP).is_not_null();
    never_seen(win, known, act::CLIENT_IP, with_ip, &[])
        .with_columns(tagged(NEW_IP))
        .with_columns(first_time_row(
            col(act::CLIENT_IP),
            concat_str(
                [
                    lit("Operations from client IP "),
                    col(act::CLIENT_IP),
                    lit(format!(
                        ", never seen in the previous {history_days} days: "
                    )),
                    count_text(col(N)),
                    lit(" event(s), the first on "),
                    date_text(col(DAY)),
                ],
                "",
                false,
            ),
        ))
}

/// The window's events (`which`) whose `key_col` the customer never used in its history (the
/// distinct customer_id and `key_col` of `known`), for customers that have one: per customer
/// and key, the events (`N`), the first `DAY` and the least value of each `keep` column.
fn never_seen(
    win: &LazyFrame,
    known: LazyFrame,
    key_col: &str,
    which: Expr,
    keep: &[&str],
) -> LazyFrame {
    let k = key(&[act::CUSTOMER_ID, key_col]);
    let mut agg = vec![len().cast(DataType::Float64).alias(N), col(DAY).min()];
    agg.extend(keep.iter().map(|c| col(*c).min()));
    win.clone()
        .filter(which)
        .join(known.clone(), k.clone(), k, JoinArgs::new(JoinType::Anti))
        .join(
            with_history(&known),
            [col(act::CUSTOMER_ID)],
            [col(act::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Semi),
        )
        .group_by(key(&[act::CUSTOMER_ID, key_col]))
        .agg(agg)
}

/// The anomalies columns of a first-time signal: `entity`, its first day, its events as actual,
/// expected 0, score 1, `reason`.
fn first_time_row(entity: Expr, reason: Expr) -> [Expr; 6] {
    [
        entity.alias(an::ENTITY),
        col(DAY).alias(an::DATE),
        col(N).alias(an::ACTUAL),
        lit(0.0).alias(an::EXPECTED),
        lit(1.0).alias(an::SCORE),
        reason.alias(an::REASON),
    ]
}

/// Successful role assignments of a privileged role, or of a role the log does not name.
fn role_assignment(win: &LazyFrame, privileged: &[String]) -> LazyFrame {
    let role = blank_to_null(col(act::ROLE));
    let role_l = role.clone().str().to_lowercase();
    // Names match whole; role definition ids (".../roleDefinitions/<guid>") match by their end.
    let is_privileged = privileged
        .iter()
        .map(|p| role_l.clone().str().ends_with(lit(p.trim().to_lowercase())))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    win.clone()
        .filter(col(OP).eq(lit(ROLE_ASSIGNMENT_WRITE)).and(is_success()))
        .with_column(role.alias(act::ROLE))
        .filter(col(act::ROLE).is_null().or(is_privileged))
        .with_column(
            coalesce(&[
                col(act::RESOURCE_ID),
                col(act::SUBSCRIPTION_ID),
                col(act::CUSTOMER_ID),
            ])
            .alias(an::ENTITY),
        )
        // Started/Accepted/Succeeded lines of one assignment are one event.
        .group_by(key(&[act::CUSTOMER_ID, DAY, an::ENTITY]))
        .agg([
            col(act::ROLE).drop_nulls().first(),
            col(act::CALLER).drop_nulls().min(),
        ])
        .with_columns(tagged(ROLE_ASSIGNMENT))
        .with_columns([
            col(DAY).alias(an::DATE),
            lit(1.0).alias(an::ACTUAL),
            lit(0.0).alias(an::EXPECTED),
            lit(1.0).alias(an::SCORE),
            concat_str(
                [
                    when(col(act::ROLE).is_null())
                        .then(lit("A role assignment (role not recorded)"))
                        .otherwise(concat_str(
                            [lit("Privileged role "), col(act::ROLE), lit(" assigned")],
                            "",
                            false,
                        )),
                    lit(" by "),
                    col(act::CALLER).fill_null(lit("an unknown caller")),
                    lit(" on "),
                    date_text(col(DAY)),
                ],
                "",
                false,
            )
            .alias(an::REASON),
        ])
}

// Working columns of the VM write days.
const REGION: &str = "_region";
const REGIONS: &str = "_regions";
const LIST: &str = "_region_list";
const HIST_MAX: &str = "_hist_max";

/// Per customer and day of `events`, the distinct regions VMs or scale sets were written in.
fn vm_write_days(events: &LazyFrame) -> LazyFrame {
    events
        .clone()
        .filter(
            col(OP)
                .eq(lit(VM_WRITE))
                .or(col(OP).eq(lit(VMSS_WRITE)))
                .and(is_failed().not()),
        )
        .with_column(
            coalesce(&[
                blank_to_null(col(act::LOCATION)).str().to_lowercase(),
                col(act::RESOURCE_ID)
                    .str()
                    .to_lowercase()
                    .str()
                    .extract(lit(r"/locations/([^/]+)"), 1),
            ])
            .str()
            .replace_all(lit(" "), lit(""), true)
            .alias(REGION),
        )
        .group_by([col(act::CUSTOMER_ID), col(DAY)])
        .agg([
            col(REGION)
                .drop_nulls()
                .n_unique()
                .cast(DataType::Float64)
                .alias(REGIONS),
            col(REGION)
                .drop_nulls()
                .unique()
                .sort(SortOptions::default())
                .str()
                .join(", ", true)
                .alias(LIST),
            col(act::SUBSCRIPTION_ID)
                .drop_nulls()
                .min()
                .alias(an::ENTITY),
        ])
}

/// Days on which VMs or scale sets were written in at least `min_regions` regions, and in more
/// regions than on any day of the customer's history (`hist_max`: customer_id and that most).
fn multi_region_deploy(win: &LazyFrame, hist_max: LazyFrame, min_regions: u32) -> LazyFrame {
    let min = min_regions.max(1) as f64;
    vm_write_days(win)
        .join(
            hist_max,
            [col(act::CUSTOMER_ID)],
            [col(act::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(HIST_MAX).fill_null(lit(0.0)))
        .filter(
            col(REGIONS)
                .gt_eq(lit(min))
                .and(col(REGIONS).gt(col(HIST_MAX))),
        )
        .with_columns(tagged(MULTI_REGION_DEPLOY))
        .with_columns([
            coalesce(&[col(an::ENTITY), col(act::CUSTOMER_ID)]).alias(an::ENTITY),
            col(DAY).alias(an::DATE),
            col(REGIONS).alias(an::ACTUAL),
            lit(min).alias(an::EXPECTED),
            div_const(col(REGIONS), min as f64).alias(an::SCORE),
            concat_str(
                [
                    lit("Virtual machines or scale sets deployed in "),
                    count_text(col(REGIONS)),
                    lit(" regions on "),
                    date_text(col(DAY)),
                    lit(" ("),
                    col(LIST),
                    lit("); at most "),
                    count_text(col(HIST_MAX)),
                    lit(" a day in the customer's history"),
                ],
                "",
                false,
            )
            .alias(an::REASON),
        ])
}

/// Partner Center audit records in the window: spending limit or budget raised, new user,
/// password reset.
fn audit_signals(audit: LazyFrame, from: NaiveDate, to: NaiveDate) -> LazyFrame {
    const OLD: &str = "_old";
    const NEW: &str = "_new";
    const OPT: &str = "_op_type";
    // The first number in a value: values come as plain numbers or as small JSON objects.
    let number = |c: &str| {
        col(c)
            .str()
            .replace_all(lit(","), lit(""), true)
            .str()
            .extract(lit(r"(-?[0-9]+(?:\.[0-9]+)?)"), 1)
            .cast(DataType::Float64)
    };
    let status = col(aud::OPERATION_STATUS).str().to_lowercase();
    let actor = coalesce(&[
        blank_to_null(col(aud::USER_PRINCIPAL_NAME)),
        concat_str(
            [lit("application "), blank_to_null(col(aud::APPLICATION_ID))],
            "",
            false,
        ),
    ])
    .fill_null(lit("an unknown user"));
    let raised = col(NEW).gt(col(OLD));
    let signal = when(col(OPT).eq(lit("increase_spending_limit")))
        .then(lit(SPENDING_LIMIT_RAISED))
        .when(
            col(OPT)
                .eq(lit("update_customer_spending_budget"))
                .and(raised.fill_null(lit(false))),
        )
        .then(lit(SPENDING_LIMIT_RAISED))
        .when(col(OPT).eq(lit("create_customer_user")))
        .then(lit(NEW_USER))
        .when(col(OPT).eq(lit("reset_customer_user_password")))
        .then(lit(PASSWORD_RESET))
        .otherwise(lit(NULL).cast(DataType::String));
    let amounts = when(col(OLD).is_not_null().and(col(NEW).is_not_null()))
        .then(concat_str(
            [
                lit(" from "),
                num_text(col(OLD), 2),
                lit(" to "),
                num_text(col(NEW), 2),
            ],
            "",
            false,
        ))
        .otherwise(lit(""));
    let what = when(col(an::SIGNAL).eq(lit(SPENDING_LIMIT_RAISED)))
        .then(concat_str(
            [lit("Partner Center: spending limit raised"), amounts],
            "",
            false,
        ))
        .when(col(an::SIGNAL).eq(lit(NEW_USER)))
        .then(lit(
            "Partner Center: a new user was created in the customer's tenant",
        ))
        .otherwise(lit("Partner Center: a customer user's password was reset"));
    audit
        .with_columns([
            col(aud::OPERATION_DATE).dt().date().alias(DAY),
            col(aud::OPERATION_TYPE)
                .str()
                .to_lowercase()
                .str()
                .strip_chars(lit(NULL))
                .alias(OPT),
            number(aud::RESOURCE_OLD_VALUE).alias(OLD),
            number(aud::RESOURCE_NEW_VALUE).alias(NEW),
        ])
        .filter(
            col(aud::CUSTOMER_ID)
                .is_not_null()
                .and(col(DAY).gt_eq(date_lit(from)))
                .and(col(DAY).lt_eq(date_lit(to)))
                .and(
                    status
                        .clone()
                        .is_null()
                        .or(status.clone().eq(lit("succeeded")))
                        .or(status.eq(lit("success"))),
                ),
        )
        .with_column(signal.alias(an::SIGNAL))
        .filter(col(an::SIGNAL).is_not_null())
        .with_columns([
            lit(FAMILY_ACTIVITY).alias(an::FAMILY),
            lit(false).alias(an::SUPPRESSED),
            actor.clone().alias(an::ENTITY),
            col(DAY).alias(an::DATE),
            when(col(an::SIGNAL).eq(lit(SPENDING_LIMIT_RAISED)))
                .then(col(NEW))
                .otherwise(lit(1.0))
                .alias(an::ACTUAL),
            when(col(an::SIGNAL).eq(lit(SPENDING_LIMIT_RAISED)))
                .then(col(OLD))
                .otherwise(lit(0.0))
                .alias(an::EXPECTED),
            lit(1.0).alias(an::SCORE),
            concat_str(
                [what, lit(" on "), date_text(col(DAY)), lit(" by "), actor],
                "",
                false,
            )
            .alias(an::REASON),
        ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{activity as act, audit_records as aud};
    use crate::testutil::{d, f64s, frame, r4, strs};

    /// One Activity Log event: day, customer_id, tenant_id, operation, status, caller, ip,
    /// location, role, resource_id.
    type Ev = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    const DISK: &str = "Microsoft.Compute/disks/write";
    const VM: &str = "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE";
    const ROLE: &str = "Microsoft.Authorization/roleAssignments/write";

    fn events(evs: &[Ev]) -> LazyFrame {
        let df = df!(
            act::EVENT_TIME => evs.iter().map(|e| e.0).collect::<Vec<_>>(),
            act::CUSTOMER_ID => evs.iter().map(|e| e.1).collect::<Vec<_>>(),
            act::TENANT_ID => evs.iter().map(|e| e.2).collect::<Vec<_>>(),
            act::SUBSCRIPTION_ID => evs.iter().map(|_| "sub-1").collect::<Vec<_>>(),
            act::OPERATION => evs.iter().map(|e| e.3).collect::<Vec<_>>(),
            act::OPERATION_LOWER => evs.iter().map(|e| e.3.to_lowercase()).collect::<Vec<_>>(),
            act::STATUS => evs.iter().map(|e| e.4).collect::<Vec<_>>(),
            act::CALLER => evs.iter().map(|e| e.5).collect::<Vec<_>>(),
            act::CLIENT_IP => evs.iter().map(|e| e.6).collect::<Vec<_>>(),
            act::LOCATION => evs.iter().map(|e| e.7).collect::<Vec<_>>(),
            act::ROLE => evs.iter().map(|e| e.8).collect::<Vec<_>>(),
            act::RESOURCE_ID => evs.iter().map(|e| e.9).collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&act::DEF, df)
    }

    fn no_audit() -> LazyFrame {
        aud::DEF.empty().lazy()
    }

    /// c1's normal history: one disk write a day by alice from 10.0.0.1 on 2026-09-01..09-10,
    /// and a VM in eastus on 09-05. Baseline = 10 writes / 90 days = 0.11 a day, under the floor
    /// of 1.0, so the baseline is 1.0.
    fn history() -> Vec<Ev> {
        const DAYS: [&str; 10] = [
            "2026-09-01",
            "2026-09-02",
            "2026-09-03",
            "2026-09-04",
            "2026-09-05",
            "2026-09-06",
            "2026-09-07",
            "2026-09-08",
            "2026-09-09",
            "2026-09-10",
        ];
        let mut evs: Vec<Ev> = DAYS
            .iter()
            .map(|day| {
                (
                    *day,
                    Some("c1"),
                    None,
                    DISK,
                    "Succeeded",
                    "alice@c1.com",
                    "10.0.0.1",
                    None,
                    None,
                    None,
                )
            })
            .collect();
        evs.push((
            "2026-09-05",
            Some("c1"),
            None,
            VM,
            "Succeeded",
            "alice@c1.com",
            "10.0.0.1",
            Some("eastus"),
            None,
            None,
        ));
        evs
    }

    fn signals(evs: &[Ev], audit: LazyFrame) -> DataFrame {
        let cfg = AnomalyConfig::default();
        activity_signals(events(evs), audit, d(2026, 10, 14), &cfg)
            .sort(
                [an::CUSTOMER_ID, an::SIGNAL, an::DATE, an::ENTITY],
                SortMultipleOptions::default(),
            )
            .collect()
            .unwrap()
    }

    #[test]
    fn new_callers_and_ips_count_only_on_customers_with_14_days_of_activity() {
        // c1's history starts 2026-09-01, 37 days before the window (10-08): seasoned. c2's
        // starts 2026-09-30, 8 days before it: a new tenant, whose next user is no news.
        let mut evs = history();
        for (who, day) in [("c2", "2026-09-30"), ("c2", "2026-10-01")] {
            evs.push((
                day,
                Some(who),
                None,
                DISK,
                "Succeeded",
                "ann@c2.com",
                "10.0.0.2",
                None,
                None,
                None,
            ));
        }
        for who in ["c1", "c2"] {
            evs.push((
                "2026-10-12",
                Some(who),
                None,
                DISK,
                "Succeeded",
                "mallory@x.example",
                "45.0.0.9",
                None,
                None,
                None,
            ));
        }
        let out = signals(&evs, no_audit());
        let rows: Vec<(String, String)> = strs(&out, an::CUSTOMER_ID)
            .into_iter()
            .zip(strs(&out, an::SIGNAL))
            .filter(|(_, s)| s == NEW_CALLER || s == NEW_IP)
            .collect();
        assert_eq!(
            rows,
            [
                ("c1".to_string(), NEW_CALLER.to_string()),
                ("c1".to_string(), NEW_IP.to_string())
            ]
        );
    }

    #[test]
    fn normal_history_and_normal_window_give_nothing() {
        let mut evs = history();
        // The window (10-08..10-14) looks like the history: a write a day, a VM in eastus.
        evs.push((
            "2026-10-13",
            Some("c1"),
            None,
            DISK,
            "Succeeded",
            "alice@c1.com",
            "10.0.0.1",
            None,
            None,
            None,
        ));
        evs.push((
            "2026-10-14",
            Some("c1"),
            None,
            VM,
            "Succeeded",
            "alice@c1.com",
            "10.0.0.1",
            Some("eastus"),
            None,
            None,
        ));
        evs.push((
            "2026-10-14",
            Some("c1"),
            None,
            DISK,
            "Failed",
            "alice@c1.com",
            "10.0.0.1",
            None,
            None,
            None,
        ));
        // A role assignment of a non-privileged role.
        evs.push((
            "2026-10-14",
            Some("c1"),
            None,
            ROLE,
            "Succeeded",
            "alice@c1.com",
            "10.0.0.1",
            None,
            Some("Reader"),
            Some("/ra/1"),
        ));
        // c4's history comes from an export without callers or IPs: its window's are not new.
        evs.push((
            "2026-09-01",
            Some("c4"),
            None,
            DISK,
            "Succeeded",
            "",
            "",
            None,
            None,
            None,
        ));
        evs.push((
            "2026-10-14",
            Some("c4"),
            None,
            DISK,
            "Succeeded",
            "dan@c4.com",
            "192.0.2.7",
            None,
            None,
            None,
        ));
        let out = signals(&evs, no_audit());
        assert_eq!(out.height(), 0, "{out}");
    }

    /// c1's history plus an account takeover in the window, and c2, c3 and unmapped events.
    fn takeover_events() -> Vec<Ev> {
        let mut evs = history();
        // activity_burst: 12 disk writes on 10-14 against a baseline of 1.0 a day:
        // 12 >= 10 and 12 >= 5 x 1.0; score = 12 / 1.0 / 5 = 2.4. Alice spelt in capitals is
        // still alice (no new caller).
        for _ in 0..12 {
            evs.push((
                "2026-10-14",
                Some("c1"),
                None,
                DISK,
                "Succeeded",
                "ALICE@C1.com",
                "10.0.0.1",
                None,
                None,
                None,
            ));
        }
        // new_caller and new_ip: mallory (spelt two ways), never seen, writes twice from a new IP
        // on 10-13, and
        // assigns Owner (a third write) and a role the log does not name (a fourth).
        evs.push((
            "2026-10-13",
            Some("c1"),
            None,
            DISK,
            "Succeeded",
            "Mallory@Evil.io",
            "203.0.113.9",
            None,
            None,
            None,
        ));
        evs.push((
            "2026-10-13",
            Some("c1"),
            None,
            DISK,
            "Succeeded",
            "mallory@evil.io",
            "203.0.113.9",
            None,
            None,
            None,
        ));
        evs.push((
            "2026-10-13",
            Some("c1"),
            None,
            ROLE,
            "Succeeded",
            "mallory@evil.io",
            "203.0.113.9",
            None,
            Some("Owner"),
            Some("/ra/2"),
        ));
        evs.push((
            "2026-10-13",
            Some("c1"),
            None,
            ROLE,
            "Succeeded",
            "mallory@evil.io",
            "203.0.113.9",
            None,
            None,
            Some("/ra/3"),
        ));
        // failed_ops_burst: 10 failures on 10-12 (10 >= 10 and >= 5 x 1.0): score 10 / 1 / 5 = 2.
        for _ in 0..10 {
            evs.push((
                "2026-10-12",
                Some("c1"),
                None,
                VM,
                "Failed",
                "alice@c1.com",
                "10.0.0.1",
                Some("eastus"),
                None,
                None,
            ));
        }
        // multi_region_deploy: VMs in 3 regions on 10-11 (history: 1 a day at most);
        // one region comes from the resource id. Score 3 / 3 = 1.
        evs.push((
            "2026-10-11",
            Some("c1"),
            None,
            VM,
            "Succeeded",
            "alice@c1.com",
            "10.0.0.1",
            Some("westeurope"),
            None,
            None,
        ));
        evs.push((
            "2026-10-11",
            Some("c1"),
            None,
            VM,
            "Succeeded",
            "alice@c1.com",
            "10.0.0.1",
            Some("eastus"),
            None,
            None,
        ));
        evs.push((
            "2026-10-11",
            Some("c1"),
            None,
            VM,
            "Accepted",
            "alice@c1.com",
            "10.0.0.1",
            None,
            None,
            Some("/subscriptions/sub-1/providers/Microsoft.Compute/locations/southeastasia/x"),
        ));
        // c2 has no history: its callers and IPs are not "new", 3 writes are no burst.
        for _ in 0..3 {
            evs.push((
                "2026-10-14",
                Some("c2"),
                None,
                DISK,
                "Succeeded",
                "bob@c2.com",
                "198.51.100.1",
                None,
                None,
                None,
            ));
        }
        // No customer id: attributed through the tenant (c3, no history): 10 writes are a burst
        // against the floor of 1.0 (score 10 / 1 / 5 = 2). Events with neither are ignored.
        for _ in 0..10 {
            evs.push((
                "2026-10-14",
                None,
                Some("C3"),
                DISK,
                "Succeeded",
                "carol@c3.com",
                "192.0.2.1",
                None,
                None,
                None,
            ));
            evs.push((
                "2026-10-14",
                None,
                None,
                DISK,
                "Succeeded",
                "x@y.z",
                "192.0.2.2",
                None,
                None,
                None,
            ));
        }
        // After A: never counts.
        evs.push((
            "2026-10-15",
            Some("c2"),
            None,
            ROLE,
            "Succeeded",
            "bob@c2.com",
            "198.51.100.1",
            None,
            Some("Owner"),
            Some("/ra/9"),
        ));

        evs
    }

    #[test]
    fn each_activity_signal_fires_on_its_case() {
        let evs = takeover_events();
        let out = signals(&evs, no_audit());
        let got: Vec<String> = strs(&out, an::CUSTOMER_ID)
            .iter()
            .zip(strs(&out, an::SIGNAL))
            .zip(strs(&out, an::DATE))
            .map(|((c, s), d)| format!("{c} {s} {d}"))
            .collect();
        assert_eq!(
            got,
            [
                "c1 activity_burst 2026-10-14",
                "c1 failed_ops_burst 2026-10-12",
                "c1 multi_region_deploy 2026-10-11",
                "c1 new_caller 2026-10-13",
                "c1 new_ip 2026-10-13",
                "c1 role_assignment 2026-10-13",
                "c1 role_assignment 2026-10-13",
                "c3 activity_burst 2026-10-14",
            ]
        );
        assert_eq!(
            f64s(&out, an::SCORE)
                .into_iter()
                .map(r4)
                .collect::<Vec<_>>(),
            [2.4, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0]
        );
        // new_caller: 4 writes by mallory; new_ip: 4 events from 203.0.113.9.
        assert_eq!(
            f64s(&out, an::ACTUAL),
            [12.0, 10.0, 3.0, 4.0, 4.0, 1.0, 1.0, 10.0]
        );
        let reasons = strs(&out, an::REASON);
        assert_eq!(reasons[0], "12 resource writes on 2026-10-14, 12.0x the customer's usual rate (taken as 1.0 a day)");
        assert_eq!(
            reasons[2],
            "Virtual machines or scale sets deployed in 3 regions on 2026-10-11 (eastus, southeastasia, westeurope); at most 1 a day in the customer's history"
        );
        assert_eq!(
            reasons[3],
            "Caller Mallory@Evil.io, never seen in the previous 90 days, made 4 write operation(s), the first on 2026-10-13"
        );
        assert_eq!(
            reasons[5],
            "Privileged role Owner assigned by mallory@evil.io on 2026-10-13"
        );
        assert_eq!(
            reasons[6],
            "A role assignment (role not recorded) by mallory@evil.io on 2026-10-13"
        );
        assert!(strs(&out, an::FAMILY).iter().all(|f| f == "activity"));
    }

    #[test]
    fn audit_records_give_spending_user_and_password_signals() {
        let df = df!(
            aud::OPERATION_DATE => ["2026-10-14", "2026-10-13", "2026-10-13", "2026-10-12", "2026-10-11", "2026-10-10", "2026-10-01", "2026-10-14"],
            aud::CUSTOMER_ID => ["c1", "c1", "c1", "c1", "c1", "c1", "c1", "c1"],
            aud::USER_PRINCIPAL_NAME => [Some("admin@partner.com"), None, Some("admin@partner.com"), Some("admin@partner.com"), Some("admin@partner.com"), Some("admin@partner.com"), Some("admin@partner.com"), Some("admin@partner.com")],
            aud::APPLICATION_ID => [None, Some("app-7"), None, None, None, None, None, None],
            aud::OPERATION_TYPE => ["increase_spending_limit", "update_customer_spending_budget", "update_customer_spending_budget", "create_customer_user", "reset_customer_user_password", "create_customer_user", "reset_customer_user_password", "add_customer"],
            aud::OPERATION_STATUS => ["Succeeded", "Succeeded", "Succeeded", "Succeeded", "Succeeded", "Failed", "Succeeded", "Succeeded"],
            aud::RESOURCE_OLD_VALUE => [Some("1000"), Some("{\"amount\": 800}"), Some("{\"amount\": 2,000}"), None, None, None, None, None],
            aud::RESOURCE_NEW_VALUE => [Some("5000"), Some("{\"amount\": 500}"), Some("{\"amount\": 2,500.50}"), None, None, None, None, None],
        )
        .unwrap();
        // Kept: the limit raise (10-14), the budget raise 2,000 -> 2,500.50 (10-13), the new user
        // (10-12), the password reset (10-11). Dropped: the budget lowered 800 -> 500, the failed
        // user creation, the reset before the window (10-01 < 10-08), add_customer.
        let out = signals(&history(), frame(&aud::DEF, df));
        assert_eq!(
            strs(&out, an::SIGNAL),
            [
                "new_user",
                "password_reset",
                "spending_limit_raised",
                "spending_limit_raised"
            ]
        );
        assert_eq!(f64s(&out, an::ACTUAL)[2..], [2500.5, 5000.0]);
        assert_eq!(f64s(&out, an::EXPECTED)[2..], [2000.0, 1000.0]);
        let reasons = strs(&out, an::REASON);
        assert_eq!(
            reasons[3],
            "Partner Center: spending limit raised from 1,000.00 to 5,000.00 on 2026-10-14 by admin@partner.com"
        );
        assert_eq!(
            reasons[0],
            "Partner Center: a new user was created in the customer's tenant on 2026-10-12 by admin@partner.com"
        );
    }

    #[test]
    fn account_takeover_scores_high() {
        use crate::analysis::risk::{risk_scores, RiskConfig};
        use crate::schema::{customers as cu, dispositions as di};
        let audit = df!(
            aud::OPERATION_DATE => ["2026-10-13"],
            aud::CUSTOMER_ID => ["c1"],
            aud::OPERATION_TYPE => ["increase_spending_limit"],
        )
        .unwrap();
        let anomalies = activity_signals(
            events(&takeover_events()),
            frame(&aud::DEF, audit),
            d(2026, 10, 14),
            &AnomalyConfig::default(),
        );
        let out = risk_scores(
            anomalies,
            cu::DEF.empty().lazy(),
            df!("customer_id" => ["c1"], "currency" => ["USD"], "exposure" => [1.0])
                .unwrap()
                .lazy(),
            di::DEF.empty().lazy(),
            d(2026, 10, 14),
            &RiskConfig::default(),
        )
        .collect()
        .unwrap();
        // c1: burst 10 x 2 (2.4 clamped) + failed 8 x 2 + multi-region 15 + new caller 10 +
        // new IP 6 + role 12 (twice, counted once) + spending limit 12 = 91 -> activity cap 50:
        // high. c3: burst 10 x 2 = 20: low.
        assert_eq!(strs(&out, "customer_id"), ["c1", "c3"]);
        assert_eq!(f64s(&out, "risk_score"), [50.0, 20.0]);
        assert_eq!(strs(&out, "tier"), ["high", "low"]);
    }
}
