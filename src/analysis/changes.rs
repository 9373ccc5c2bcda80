//! What changed since the previous run (SPEC 4.6): this run's tables against an earlier run's,
//! into the `changes` table, one row per change, most urgent first; and the state carried from
//! run to run: `first_seen` of every alert (customer and reason code) and the `new` mark of the
//! action lists.
//!
//! Each topic compares one table of the two runs, keyed as the table is:
//! - customer (risk_scores): `new_customer`, a customer this run has and the previous had not;
//! - risk (risk_scores, per customer): `risk_newly_critical`, `risk_newly_high` (the tier reached
//!   critical or high from below, or a new customer arrived there), `tier_up` (low to medium),
//!   `tier_down`. One row per customer: a move to critical is not also a tier_up;
//! - collections (collections_actions, per customer and currency): `action_escalated` (a harder
//!   step on the ladder, or a first action), `action_eased` (a gentler step), `action_cleared`
//!   (no action any more);
//! - past_due (aging_customers.past_due): `newly_past_due`, past due now, nothing before;
//! - budget (budget_status.status): `budget_newly_over`, `budget_newly_forecast_over`,
//!   `budget_newly_warning` (the status reached it from a milder one or none), `budget_cleared`
//!   (over, forecast_over or warning before, none of them now), `budget_status_changed` (any
//!   other change of a status both runs have, e.g. over -> forecast_over in a new month);
//! - anomaly (anomalies, per customer and reason code; an alert is active when one of its rows is
//!   not suppressed): `new_anomaly` (active now, absent before), `anomaly_reactivated` (suppressed
//!   before, active now: a disposition expired), `anomaly_suppressed` (active before, suppressed
//!   now: a disposition's effect), `anomaly_ended` (active before, absent now);
//! - exposure (exposure, per customer and currency): `exposure_grown`, when exposure grew by at
//!   least `changes.exposure_growth_share` of its previous value and by at least
//!   `changes.exposure_growth_min` (so 2 -> 5 USD is not news); a previous value of zero or less
//!   counts as growth from nothing.
//!
//! A customer, currency or alert absent from a run has no state there: an absent collections
//! action, budget status or alert is "none", absent exposure or past due is 0. Nothing is listed
//! for a state that did not change; a new customer's calm states (tier low or medium, budget ok
//! or no_budget) are in its new_customer row only.
//!
//! Comparing needs only the previous run's tables (never its inputs): a topic whose previous
//! table is missing or lacks a column listed in [`NEEDED`] is left out (the caller says so).

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::budgets::status as st;
use crate::analysis::collections::LADDER;
use crate::analysis::risk::TIERS;
use crate::schema::{
    aging_customers as ag, anomalies as an, budget_status as bs, carried, changes as ch,
    collections_actions as ca, exposure as ex, risk_review as rv, risk_scores as rs,
};

/// `[changes]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChangesConfig {
    /// exposure_grown: exposure grew by at least this share of its previous value (0.5 = +50 %) ...
    pub exposure_growth_share: f64,
    /// ... and by at least this amount (in the exposure's currency).
    pub exposure_growth_min: f64,
}

impl Default for ChangesConfig {
    fn default() -> Self {
        ChangesConfig {
            exposure_growth_share: 0.5,
            exposure_growth_min: 100.0,
        }
    }
}

/// Change kinds, the most urgent first: `priority` is the position here plus one.
pub const KINDS: [&str; 18] = [
    "risk_newly_critical",
    "risk_newly_high",
    "action_escalated",
    "budget_newly_over",
    "budget_newly_forecast_over",
    "new_anomaly",
    "anomaly_reactivated",
    "newly_past_due",
    "exposure_grown",
    "new_customer",
    "tier_up",
    "budget_newly_warning",
    "anomaly_suppressed",
    "tier_down",
    "action_eased",
    "action_cleared",
    "budget_cleared",
    "anomaly_ended",
];
/// Any other budget status change; sorts with budget_cleared (see `priority`).
pub const BUDGET_STATUS_CHANGED: &str = "budget_status_changed";

/// Topics, each compared from one table.
pub const TOPIC_CUSTOMER: &str = "customer";
pub const TOPIC_RISK: &str = "risk";
pub const TOPIC_COLLECTIONS: &str = "collections";
pub const TOPIC_PAST_DUE: &str = "past_due";
pub const TOPIC_BUDGET: &str = "budget";
pub const TOPIC_ANOMALY: &str = "anomaly";
pub const TOPIC_EXPOSURE: &str = "exposure";

/// The columns each topic reads of the previous run's table.
pub const NEEDED: [(&str, &str, &[&str]); 6] = [
    (
        rs::TABLE,
        "customers seen for the first time, risk tiers",
        &[rs::CUSTOMER_ID, rs::TIER, rs::RISK_SCORE],
    ),
    (
        ca::TABLE,
        "collections actions",
        &[ca::CUSTOMER_ID, ca::CURRENCY, ca::ACTION],
    ),
    (
        ag::TABLE,
        "past due amounts",
        &[ag::CUSTOMER_ID, ag::CURRENCY, ag::PAST_DUE],
    ),
    (
        bs::TABLE,
        "budget status",
        &[bs::CUSTOMER_ID, bs::CURRENCY, bs::STATUS],
    ),
    (
        an::TABLE,
        "anomalies and their first_seen dates",
        &[an::CUSTOMER_ID, an::SIGNAL, an::DATE, an::SUPPRESSED],
    ),
    (
        ex::TABLE,
        "exposure",
        &[ex::CUSTOMER_ID, ex::CURRENCY, ex::EXPOSURE],
    ),
];

/// One run's tables, as far as they are there (a previous run may lack some).
#[derive(Clone, Default)]
pub struct RunTables {
    pub risk_scores: Option<LazyFrame>,
    pub collections_actions: Option<LazyFrame>,
    pub aging_customers: Option<LazyFrame>,
    pub budget_status: Option<LazyFrame>,
    pub anomalies: Option<LazyFrame>,
    pub exposure: Option<LazyFrame>,
}

impl RunTables {
    /// The table of a [`NEEDED`] entry by name.
    pub fn set(&mut self, table: &str, lf: LazyFrame) {
        let slot = match table {
            t if t == rs::TABLE => &mut self.risk_scores,
            t if t == ca::TABLE => &mut self.collections_actions,
            t if t == ag::TABLE => &mut self.aging_customers,
            t if t == bs::TABLE => &mut self.budget_status,
            t if t == an::TABLE => &mut self.anomalies,
            t if t == ex::TABLE => &mut self.exposure,
            _ => return,
        };
        *slot = Some(lf);
    }
}

const B: &str = ch::BEFORE;
const A: &str = ch::AFTER;
const PREV: &str = "_prev";
/// The customer id of the names joined onto the changes.
const NAME_ID: &str = "_name_id";
const EXPOSURE_CURRENCY: &str = "_exposure_currency";
const X1: &str = "_x1";
const X2: &str = "_x2";
const X3: &str = "_x3";

/// Position of a text value in `order` (0 first); -1 for null or anything else.
fn rank_in(e: Expr, order: &[&str]) -> Expr {
    order
        .iter()
        .enumerate()
        .rev()
        .fold(lit(-1i32), |otherwise, (i, v)| {
            when(e.clone().eq(lit(*v)))
                .then(lit(i as i32))
                .otherwise(otherwise)
        })
}

/// Whether a text value is one of `values` (false for null).
fn one_of(e: Expr, values: &[&str]) -> Expr {
    values.iter().fold(lit(false), |acc, v| {
        acc.or(e.clone().eq(lit(*v)).fill_null(lit(false)))
    })
}

/// An amount as text with two decimals ("1234.50").
fn money_text(e: Expr) -> Expr {
    e.round(2, RoundMode::HalfAwayFromZero)
        .cast(DataType::Decimal(38, 2))
        .cast(DataType::String)
}

/// A score as text with one decimal ("81.0").
fn score_text(e: Expr) -> Expr {
    e.round(1, RoundMode::HalfAwayFromZero)
        .cast(DataType::Decimal(38, 1))
        .cast(DataType::String)
}

fn text(parts: Vec<Expr>) -> Expr {
    concat_str(parts, "", true)
}

/// Full outer join of this run's and the previous run's rows on `keys` (nulls equal, keys
/// coalesced).
fn outer(cur: LazyFrame, prev: LazyFrame, keys: &[&str]) -> LazyFrame {
    let mut args = JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns);
    args.nulls_equal = true;
    let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    cur.join(prev, on.clone(), on, args)
}

/// `cur` and `prev` side by side on `keys` (a full join, null keys equal): the keys with the
/// columns `now` of the current run and `before` of the previous one.
fn compare(
    cur: LazyFrame,
    prev: LazyFrame,
    keys: &[&str],
    now: impl IntoIterator<Item = Expr>,
    before: impl IntoIterator<Item = Expr>,
) -> LazyFrame {
    let key_cols = || keys.iter().map(|k| col(*k));
    outer(
        cur.select(key_cols().chain(now).collect::<Vec<_>>()),
        prev.select(key_cols().chain(before).collect::<Vec<_>>()),
        keys,
    )
}

/// The common columns of every topic's rows (`signal` and `first_seen` null unless given).
fn rows(lf: LazyFrame, topic: &str, currency: bool, kind: Expr, reason: Expr) -> LazyFrame {
    rows_with(
        lf,
        topic,
        currency,
        kind,
        reason,
        [
            lit(NULL).cast(DataType::String),
            lit(NULL).cast(DataType::Date),
        ],
    )
}

/// [`rows`] with the signal and first_seen columns given.
fn rows_with(
    lf: LazyFrame,
    topic: &str,
    currency: bool,
    kind: Expr,
    reason: Expr,
    [signal, first_seen]: [Expr; 2],
) -> LazyFrame {
    lf.with_columns([kind.alias(ch::KIND), reason.alias(ch::REASON)])
        .filter(col(ch::KIND).is_not_null())
        .select([
            col(ch::CUSTOMER_ID),
            if currency {
                col(ch::CURRENCY)
            } else {
                lit(NULL).cast(DataType::String).alias(ch::CURRENCY)
            },
            lit(topic).alias(ch::TOPIC),
            col(ch::KIND),
            signal.cast(DataType::String).alias(ch::SIGNAL),
            col(B).cast(DataType::String),
            col(A).cast(DataType::String),
            col(ch::REASON),
            first_seen.cast(DataType::Date).alias(ch::FIRST_SEEN),
        ])
}

/// new_customer and the risk tier moves, from risk_scores.
fn risk_changes(cur: LazyFrame, prev: LazyFrame) -> [LazyFrame; 2] {
    let joined = compare(
        cur,
        prev,
        &[rs::CUSTOMER_ID],
        [
            col(rs::TIER).alias(A),
            col(rs::RISK_SCORE).alias(X1),
            col(rs::TOP_REASONS).alias(X3),
            col(rs::EXPOSURE).alias(ex::EXPOSURE),
            col(rs::CURRENCY).alias(EXPOSURE_CURRENCY),
        ],
        [
            col(rs::TIER).alias(B),
            col(rs::RISK_SCORE).alias(X2),
            lit(true).alias(PREV),
        ],
    )
    .filter(col(A).is_not_null());
    let new = col(PREV).is_null();
    let top = when(col(X3).is_null().or(col(X3).eq(lit(""))))
        .then(lit(""))
        .otherwise(text(vec![lit(": "), col(X3)]));
    let new_customer = rows(
        joined.clone().filter(new.clone()),
        TOPIC_CUSTOMER,
        false,
        lit("new_customer"),
        text(vec![
            lit("first seen in this run, at risk tier "),
            col(A),
            lit(" (score "),
            score_text(col(X1)),
            lit(")"),
            when(col(ex::EXPOSURE).is_not_null())
                .then(text(vec![
                    lit(", exposure "),
                    money_text(col(ex::EXPOSURE)),
                    lit(" "),
                    col(EXPOSURE_CURRENCY),
                ]))
                .otherwise(lit("")),
        ]),
    );
    let (rb, ra) = (rank_in(col(B), &TIERS), rank_in(col(A), &TIERS));
    let kind = when(ra.clone().eq(rb.clone()))
        .then(lit(NULL).cast(DataType::String))
        .when(ra.clone().eq(lit(3)))
        .then(lit("risk_newly_critical"))
        .when(ra.clone().eq(lit(2)).and(rb.clone().lt(lit(2))))
        .then(lit("risk_newly_high"))
        .when(new.clone())
        // A new customer's calm tier is in its new_customer row.
        .then(lit(NULL).cast(DataType::String))
        .when(ra.clone().gt(rb.clone()))
        .then(lit("tier_up"))
        .otherwise(lit("tier_down"));
    let reason = text(vec![
        when(new)
            .then(text(vec![lit("new customer at risk tier "), col(A)]))
            .otherwise(text(vec![lit("risk tier "), col(B), lit(" -> "), col(A)])),
        lit(", score "),
        when(col(X2).is_not_null())
            .then(text(vec![score_text(col(X2)), lit(" -> ")]))
            .otherwise(lit("")),
        score_text(col(X1)),
        top,
    ]);
    [new_customer, rows(joined, TOPIC_RISK, false, kind, reason)]
}

/// Collections actions escalated, eased or cleared, per customer and currency.
fn collections_changes(cur: LazyFrame, prev: LazyFrame) -> LazyFrame {
    let joined = compare(
        cur,
        prev,
        &[ca::CUSTOMER_ID, ca::CURRENCY],
        [col(ca::ACTION).alias(A), col(ca::REASON).alias(X3)],
        [col(ca::ACTION).alias(B)],
    );
    let (hb, ha) = (rank_in(col(B), &LADDER), rank_in(col(A), &LADDER));
    let kind = when(col(A).is_null().and(col(B).is_null()))
        .then(lit(NULL).cast(DataType::String))
        .when(col(A).is_null())
        .then(lit("action_cleared"))
        .when(col(B).is_null().or(ha.clone().gt(hb.clone())))
        .then(lit("action_escalated"))
        .when(ha.lt(hb))
        .then(lit("action_eased"))
        .otherwise(lit(NULL).cast(DataType::String));
    let reason = when(col(A).is_null())
        .then(text(vec![
            lit("no collections action any more (was "),
            col(B),
            lit("): nothing past due above the ladder's minimum"),
        ]))
        .otherwise(text(vec![
            when(col(B).is_null())
                .then(text(vec![lit("new collections action "), col(A)]))
                .otherwise(text(vec![
                    lit("collections action "),
                    col(B),
                    lit(" -> "),
                    col(A),
                ])),
            when(col(X3).is_null())
                .then(lit(""))
                .otherwise(text(vec![lit(": "), col(X3)])),
        ]));
    rows(joined, TOPIC_COLLECTIONS, true, kind, reason)
}

/// Customers past due now that were not before, per currency.
fn past_due_changes(cur: LazyFrame, prev: LazyFrame) -> LazyFrame {
    let eps = lit(crate::analysis::budgets::MONEY_EPSILON);
    let joined = compare(
        cur,
        prev,
        &[ag::CUSTOMER_ID, ag::CURRENCY],
        [
            col(ag::PAST_DUE).cast(DataType::Float64).alias(X1),
            col(ag::OLDEST_DAYS_PAST_DUE).alias(X3),
        ],
        [col(ag::PAST_DUE).cast(DataType::Float64).alias(X2)],
    )
    .with_columns([
        money_text(col(X2).fill_null(lit(0.0))).alias(B),
        money_text(col(X1).fill_null(lit(0.0))).alias(A),
    ]);
    let kind = when(
        col(X1)
            .gt(eps.clone())
            .and(col(X2).fill_null(lit(0.0)).lt_eq(eps)),
    )
    .then(lit("newly_past_due"))
    .otherwise(lit(NULL).cast(DataType::String));
    let reason = text(vec![
        lit("past due "),
        col(B),
        lit(" -> "),
        col(A),
        lit(" "),
        col(ag::CURRENCY),
        when(col(X3).is_not_null())
            .then(text(vec![
                lit(", oldest invoice "),
                col(X3).cast(DataType::String),
                lit(" days past due"),
            ]))
            .otherwise(lit("")),
    ]);
    rows(joined, TOPIC_PAST_DUE, true, kind, reason)
}

/// Budget status changes, per customer and currency.
fn budget_changes(cur: LazyFrame, prev: LazyFrame) -> LazyFrame {
    let joined = compare(
        cur,
        prev,
        &[bs::CUSTOMER_ID, bs::CURRENCY],
        [
            col(bs::STATUS).alias(A),
            col(bs::MTD_SPEND).alias(X1),
            col(bs::BUDGET).alias(X2),
            col(bs::FORECAST).alias(X3),
        ],
        [col(bs::STATUS).alias(B)],
    );
    let alert = |e: Expr| one_of(e, &[st::OVER, st::FORECAST_OVER, st::WARNING]);
    let (b, a) = (col(B), col(A));
    let kind = when(a.clone().eq(b.clone()).fill_null(lit(false)))
        .then(lit(NULL).cast(DataType::String))
        .when(a.clone().eq(lit(st::OVER)))
        .then(lit("budget_newly_over"))
        .when(
            a.clone()
                .eq(lit(st::FORECAST_OVER))
                .and(b.clone().neq(lit(st::OVER)).fill_null(lit(true))),
        )
        .then(lit("budget_newly_forecast_over"))
        .when(a.clone().eq(lit(st::WARNING)).and(alert(b.clone()).not()))
        .then(lit("budget_newly_warning"))
        .when(alert(b.clone()).and(alert(a.clone()).not()))
        .then(lit("budget_cleared"))
        .when(a.clone().is_not_null().and(b.clone().is_not_null()))
        .then(lit(BUDGET_STATUS_CHANGED))
        .otherwise(lit(NULL).cast(DataType::String));
    let figures = when(col(X2).is_not_null().and(col(X1).is_not_null()))
        .then(text(vec![
            lit(": spend to date "),
            money_text(col(X1)),
            lit(" of a budget of "),
            money_text(col(X2)),
            lit(" "),
            col(bs::CURRENCY),
            lit(", forecast "),
            money_text(col(X3)),
        ]))
        .otherwise(lit(""));
    let reason = text(vec![
        lit("budget status "),
        b.fill_null(lit("none")),
        lit(" -> "),
        a.fill_null(lit("none")),
        figures,
    ]);
    rows(joined, TOPIC_BUDGET, true, kind, reason)
}

/// Exposure grown past the configured share and amount, per customer and currency.
fn exposure_changes(cur: LazyFrame, prev: LazyFrame, cfg: &ChangesConfig) -> LazyFrame {
    let joined = compare(
        cur,
        prev,
        &[ex::CUSTOMER_ID, ex::CURRENCY],
        [col(ex::EXPOSURE).alias(X1)],
        [col(ex::EXPOSURE).alias(X2)],
    )
    .with_columns([
        col(X1).fill_null(lit(0.0)).alias(X1),
        col(X2).fill_null(lit(0.0)).alias(X2),
    ])
    .with_columns([money_text(col(X2)).alias(B), money_text(col(X1)).alias(A)]);
    let grown = (col(X1) - col(X2)).gt_eq(lit(cfg.exposure_growth_min)).and(
        col(X2)
            .lt_eq(lit(0.0))
            .or(col(X1).gt_eq(col(X2) * lit(1.0 + cfg.exposure_growth_share))),
    );
    let kind = when(grown)
        .then(lit("exposure_grown"))
        .otherwise(lit(NULL).cast(DataType::String));
    let reason = text(vec![
        lit("exposure "),
        col(B),
        lit(" -> "),
        col(A),
        lit(" "),
        col(ex::CURRENCY),
        when(col(X2).gt(lit(0.0)))
            .then(text(vec![
                lit(" (+"),
                ((col(X1) / col(X2) - lit(1.0)) * lit(100.0))
                    .round(0, RoundMode::HalfAwayFromZero)
                    .cast(DataType::Int64)
                    .cast(DataType::String),
                lit(" %)"),
            ]))
            .otherwise(lit(" (from none)")),
    ]);
    rows(joined, TOPIC_EXPOSURE, true, kind, reason)
}

const ACTIVE: &str = "active";
const SUPPRESSED: &str = "suppressed";

/// Per customer and reason code: "active" when a row is not suppressed, else "suppressed"; the
/// reason of its strongest row (active first).
fn alert_state(anomalies: LazyFrame, with_reason: bool) -> LazyFrame {
    let suppressed = col(an::SUPPRESSED).fill_null(lit(false));
    let mut sort_by = vec![an::CUSTOMER_ID, an::SIGNAL, "_s"];
    let mut desc = vec![false, false, false];
    let mut lf = anomalies.with_column(suppressed.alias("_s"));
    if with_reason {
        sort_by.extend([an::SCORE, an::DATE, an::REASON]);
        desc.extend([true, true, false]);
    }
    lf = lf
        .sort(
            sort_by,
            SortMultipleOptions::default()
                .with_order_descending_multi(desc)
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unique_stable(
            Some(cols([an::CUSTOMER_ID, an::SIGNAL])),
            UniqueKeepStrategy::First,
        );
    let state = when(col("_s")).then(lit(SUPPRESSED)).otherwise(lit(ACTIVE));
    let mut out = vec![col(an::CUSTOMER_ID), col(an::SIGNAL), state.alias("_state")];
    if with_reason {
        out.push(col(an::REASON).alias(X3));
    }
    lf.select(out)
}

/// New, reactivated, suppressed and ended alerts, per customer and reason code. `current` carries
/// first_seen (see [`with_first_seen`]).
fn anomaly_changes(current: LazyFrame, prev: LazyFrame) -> LazyFrame {
    let first = current
        .clone()
        .group_by([col(an::CUSTOMER_ID), col(an::SIGNAL)])
        .agg([col(carried::FIRST_SEEN).min()]);
    let prev_state = alert_state(prev.clone(), false).rename(["_state"], [B], true);
    // An ended alert keeps the first_seen it had.
    let prev_first = earliest(prev.clone()).rename([X1], ["_first_prev"], true);
    let prev_reason = prev
        .filter(col(an::SUPPRESSED).fill_null(lit(false)).not())
        .sort(
            [an::CUSTOMER_ID, an::SIGNAL, an::DATE],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, false, true])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unique_stable(
            Some(cols([an::CUSTOMER_ID, an::SIGNAL])),
            UniqueKeepStrategy::First,
        )
        .select([
            col(an::CUSTOMER_ID),
            col(an::SIGNAL),
            col(an::DATE).alias(X2),
        ]);
    let mut left = JoinArgs::new(JoinType::Left);
    left.nulls_equal = true;
    let keys = || vec![col(an::CUSTOMER_ID), col(an::SIGNAL)];
    let joined = outer(
        alert_state(current, true).rename(["_state"], [A], true),
        prev_state,
        &[an::CUSTOMER_ID, an::SIGNAL],
    )
    .join(first, keys(), keys(), left.clone())
    .join(prev_first, keys(), keys(), left.clone())
    .join(prev_reason, keys(), keys(), left)
    .with_column(
        coalesce(&[col(carried::FIRST_SEEN), col("_first_prev")]).alias(carried::FIRST_SEEN),
    );
    let (b, a) = (col(B), col(A));
    let kind = when(a.clone().eq(lit(ACTIVE)).and(b.clone().is_null()))
        .then(lit("new_anomaly"))
        .when(a.clone().eq(lit(ACTIVE)).and(b.clone().eq(lit(SUPPRESSED))))
        .then(lit("anomaly_reactivated"))
        .when(a.clone().eq(lit(SUPPRESSED)).and(b.clone().eq(lit(ACTIVE))))
        .then(lit("anomaly_suppressed"))
        .when(a.clone().is_null().and(b.clone().eq(lit(ACTIVE))))
        .then(lit("anomaly_ended"))
        .otherwise(lit(NULL).cast(DataType::String));
    let reason = when(a.clone().is_null())
        .then(text(vec![
            col(an::SIGNAL),
            lit(" no longer seen"),
            when(col(X2).is_not_null())
                .then(text(vec![
                    lit(" (last on "),
                    col(X2).cast(DataType::String),
                    lit(")"),
                ]))
                .otherwise(lit("")),
        ]))
        .when(a.eq(lit(SUPPRESSED)))
        .then(text(vec![
            lit("suppressed by an analyst's disposition: "),
            col(X3),
        ]))
        .when(b.eq(lit(SUPPRESSED)))
        .then(text(vec![
            lit("no longer suppressed (the disposition expired): "),
            col(X3),
        ]))
        .otherwise(col(X3));
    rows_with(
        joined,
        TOPIC_ANOMALY,
        false,
        kind,
        reason,
        [col(an::SIGNAL), col(carried::FIRST_SEEN)],
    )
}

/// Per customer and reason code of a previous run's anomalies: the earliest first_seen (or date,
/// for a run without first_seen), as `X1`.
fn earliest(prev: LazyFrame) -> LazyFrame {
    let has_first = prev
        .clone()
        .collect_schema()
        .map(|s| s.contains(carried::FIRST_SEEN))
        .unwrap_or(false);
    let since = if has_first {
        coalesce(&[col(carried::FIRST_SEEN), col(an::DATE)])
    } else {
        col(an::DATE)
    };
    prev.group_by([col(an::CUSTOMER_ID), col(an::SIGNAL)])
        .agg([since.min().cast(DataType::Date).alias(X1)])
}

/// `anomalies` with `first_seen`: the earliest date of the customer's alert with that reason
/// code, in this run or (carried) in the previous run's first_seen or dates.
pub fn with_first_seen(anomalies: LazyFrame, previous: Option<LazyFrame>) -> LazyFrame {
    let keys = || vec![col(an::CUSTOMER_ID), col(an::SIGNAL)];
    let mut left = JoinArgs::new(JoinType::Left);
    left.nulls_equal = true;
    left.maintain_order = MaintainOrderJoin::Left;
    let current = anomalies
        .clone()
        .group_by(keys())
        .agg([col(an::DATE).min().alias(X1)]);
    let first = match previous {
        Some(prev) => {
            let prev_first = earliest(prev).rename([X1], [X2], true);
            current
                .join(prev_first, keys(), keys(), left.clone())
                .select([
                    col(an::CUSTOMER_ID),
                    col(an::SIGNAL),
                    when(col(X2).lt(col(X1)))
                        .then(col(X2))
                        .otherwise(col(X1))
                        .cast(DataType::Date)
                        .alias(carried::FIRST_SEEN),
                ])
        }
        None => current.select([
            col(an::CUSTOMER_ID),
            col(an::SIGNAL),
            col(X1).cast(DataType::Date).alias(carried::FIRST_SEEN),
        ]),
    };
    anomalies.join(first, keys(), keys(), left)
}

/// The priority of a kind: its position in [`KINDS`] plus one.
fn priority(kind: Expr) -> Expr {
    let cleared = KINDS
        .iter()
        .position(|k| *k == "budget_cleared")
        .unwrap_or(KINDS.len()) as i32
        + 1;
    KINDS.iter().enumerate().rev().fold(
        when(kind.clone().eq(lit(BUDGET_STATUS_CHANGED)))
            .then(lit(cleared))
            .otherwise(lit(KINDS.len() as i32 + 1)),
        |otherwise, (i, k)| {
            when(kind.clone().eq(lit(*k)))
                .then(lit(i as i32 + 1))
                .otherwise(otherwise)
        },
    )
}

/// Every change between the previous run's tables and this run's (module comment), sorted by
/// priority, customer, currency, signal, before and after. `current.anomalies` must carry
/// first_seen ([`with_first_seen`]). A topic runs only when both runs have its table.
pub fn changes(current: &RunTables, previous: &RunTables, cfg: &ChangesConfig) -> LazyFrame {
    let mut parts: Vec<LazyFrame> = Vec::new();
    let both = |a: &Option<LazyFrame>, b: &Option<LazyFrame>| match (a, b) {
        (Some(a), Some(b)) => Some((a.clone(), b.clone())),
        _ => None,
    };
    if let Some((c, p)) = both(&current.risk_scores, &previous.risk_scores) {
        parts.extend(risk_changes(c, p));
    }
    if let Some((c, p)) = both(&current.collections_actions, &previous.collections_actions) {
        parts.push(collections_changes(c, p));
    }
    if let Some((c, p)) = both(&current.aging_customers, &previous.aging_customers) {
        parts.push(past_due_changes(c, p));
    }
    if let Some((c, p)) = both(&current.budget_status, &previous.budget_status) {
        parts.push(budget_changes(c, p));
    }
    if let Some((c, p)) = both(&current.anomalies, &previous.anomalies) {
        parts.push(anomaly_changes(c, p));
    }
    if let Some((c, p)) = both(&current.exposure, &previous.exposure) {
        parts.push(exposure_changes(c, p, cfg));
    }
    let all = if parts.is_empty() {
        ch::DEF.empty().lazy()
    } else {
        // Every part has the same columns, in the same order (`rows`).
        concat(parts, UnionArgs::default()).unwrap_or_else(|_| ch::DEF.empty().lazy())
    };
    let names = match &current.risk_scores {
        Some(rs_lf) => rs_lf.clone().select([
            col(rs::CUSTOMER_ID).alias(NAME_ID),
            col(rs::CUSTOMER_NAME).alias(ch::CUSTOMER_NAME),
        ]),
        None => DataFrame::empty_with_schema(
            &[
                Field::new(NAME_ID.into(), DataType::String),
                Field::new(ch::CUSTOMER_NAME.into(), DataType::String),
            ]
            .into_iter()
            .collect(),
        )
        .lazy(),
    }
    .unique_stable(Some(cols([NAME_ID])), UniqueKeepStrategy::First);
    all.with_column(priority(col(ch::KIND)).alias(ch::PRIORITY))
        .join(
            names,
            [col(ch::CUSTOMER_ID)],
            [col(NAME_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .sort(
            [
                ch::PRIORITY,
                ch::CUSTOMER_ID,
                ch::CURRENCY,
                ch::SIGNAL,
                ch::BEFORE,
                ch::AFTER,
            ],
            SortMultipleOptions::default()
                .with_nulls_last(false)
                .with_maintain_order(true),
        )
        .select(ch::DEF.conformed_exprs())
}

/// Kinds by which a row of an action list is new or worse since the previous run.
const NEW_COLLECTIONS: [&str; 1] = ["action_escalated"];
const NEW_BUDGET: [&str; 3] = [
    "budget_newly_over",
    "budget_newly_forecast_over",
    "budget_newly_warning",
];
const NEW_RISK: [&str; 4] = [
    "risk_newly_critical",
    "risk_newly_high",
    "tier_up",
    "new_customer",
];

/// An action list with the `new` column: true when `changes` has a row of one of `kinds` for
/// the row's customer (and currency, when `by_currency`); null when there is no previous run.
fn with_new(
    list: LazyFrame,
    changes: Option<LazyFrame>,
    kinds: &[&str],
    by_currency: bool,
) -> LazyFrame {
    let Some(changes) = changes else {
        return list.with_column(lit(NULL).cast(DataType::Boolean).alias(carried::NEW));
    };
    let mut keys = vec![ch::CUSTOMER_ID];
    if by_currency {
        keys.push(ch::CURRENCY);
    }
    let hits = changes
        .filter(one_of(col(ch::KIND), kinds))
        .select(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .unique_stable(None, UniqueKeepStrategy::First)
        .with_column(lit(true).alias(carried::NEW));
    let mut left = JoinArgs::new(JoinType::Left);
    left.nulls_equal = true;
    left.maintain_order = MaintainOrderJoin::Left;
    let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    list.join(hits, on.clone(), on, left)
        .with_column(col(carried::NEW).fill_null(lit(false)))
}

/// collections_actions with `new`: a first or harder action since the previous run.
pub fn collections_with_new(list: LazyFrame, changes: Option<LazyFrame>) -> LazyFrame {
    with_new(list, changes, &NEW_COLLECTIONS, true)
}

/// budget_alerts with `new`: the status was reached since the previous run.
pub fn budget_alerts_with_new(list: LazyFrame, changes: Option<LazyFrame>) -> LazyFrame {
    with_new(list, changes, &NEW_BUDGET, true)
}

/// risk_review with `new` (the customer's tier rose, or it is a new customer) and `first_seen`
/// (its oldest active alert, from anomalies with first_seen).
pub fn risk_review_with_new(
    list: LazyFrame,
    anomalies: LazyFrame,
    changes: Option<LazyFrame>,
) -> LazyFrame {
    let oldest = anomalies
        .filter(col(an::SUPPRESSED).fill_null(lit(false)).not())
        .group_by([col(an::CUSTOMER_ID)])
        .agg([col(carried::FIRST_SEEN).min()]);
    let mut left = JoinArgs::new(JoinType::Left);
    left.maintain_order = MaintainOrderJoin::Left;
    let review = list.join(oldest, [col(rv::CUSTOMER_ID)], [col(an::CUSTOMER_ID)], left);
    with_new(review, changes, &NEW_RISK, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    fn risk(ids: &[&str], tiers: &[&str], scores: &[f64]) -> LazyFrame {
        let n = ids.len();
        df!(
            rs::CUSTOMER_ID => ids,
            rs::CUSTOMER_NAME => ids.iter().map(|i| format!("Name {i}")).collect::<Vec<_>>(),
            rs::TIER => tiers,
            rs::RISK_SCORE => scores,
            rs::TOP_REASONS => vec!["why"; n],
            rs::EXPOSURE => vec![10.0; n],
            rs::CURRENCY => vec!["USD"; n],
        )
        .unwrap()
        .lazy()
    }

    fn anomalies(rows: &[(&str, &str, u32, bool)]) -> LazyFrame {
        df!(
            an::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            an::SIGNAL => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            an::DATE => rows.iter().map(|r| d(r.2)).collect::<Vec<_>>(),
            an::SUPPRESSED => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            an::SCORE => vec![1.0; rows.len()],
            an::REASON => rows.iter().map(|r| format!("{} of {}", r.1, r.0)).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    /// The previous run (as of Nov 14) and this run (Nov 15) of the hand-computed case.
    fn pair() -> (RunTables, RunTables) {
        let prev = RunTables {
            risk_scores: Some(risk(
                &["c1", "c2", "c3", "c4", "c5"],
                &["low", "medium", "high", "critical", "low"],
                &[10.0, 30.0, 60.0, 80.0, 5.0],
            )),
            collections_actions: Some(
                df!(
                    ca::CUSTOMER_ID => ["c1", "c2", "c3"],
                    ca::CURRENCY => ["USD", "USD", "EUR"],
                    ca::ACTION => ["reminder", "final_notice", "suspend"],
                )
                .unwrap()
                .lazy(),
            ),
            aging_customers: Some(
                df!(
                    ag::CUSTOMER_ID => ["c1", "c5"],
                    ag::CURRENCY => ["USD", "USD"],
                    ag::PAST_DUE => [100.0, 0.0],
                )
                .unwrap()
                .lazy(),
            ),
            budget_status: Some(
                df!(
                    bs::CUSTOMER_ID => ["c1", "c2", "c3"],
                    bs::CURRENCY => ["USD", "USD", "USD"],
                    bs::STATUS => ["ok", "warning", "over"],
                )
                .unwrap()
                .lazy(),
            ),
            anomalies: Some(
                anomalies(&[
                    ("c1", "usage_spike", 10, false),
                    ("c2", "new_ip", 13, false),
                    ("c3", "gpu_meter", 12, false),
                    ("c4", "new_caller", 11, true),
                ])
                .with_column(
                    // c1's spike was first seen on Nov 1 by an earlier run.
                    when(col(an::SIGNAL).eq(lit("usage_spike")))
                        .then(lit(d(1)).cast(DataType::Date))
                        .otherwise(col(an::DATE))
                        .alias(carried::FIRST_SEEN),
                ),
            ),
            exposure: Some(
                df!(
                    ex::CUSTOMER_ID => ["c1", "c2", "c3"],
                    ex::CURRENCY => ["USD", "USD", "USD"],
                    ex::EXPOSURE => [1000.0, 1000.0, 0.0],
                )
                .unwrap()
                .lazy(),
            ),
        };
        let cur_anomalies = with_first_seen(
            anomalies(&[
                ("c1", "usage_spike", 14, false),
                ("c1", "gpu_meter", 15, false),
                ("c2", "new_ip", 13, true),
                ("c4", "new_caller", 11, false),
            ]),
            prev.anomalies.clone(),
        );
        let cur = RunTables {
            risk_scores: Some(risk(
                &["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
                &[
                    "critical", "medium", "medium", "critical", "medium", "high", "low",
                ],
                &[85.0, 31.0, 40.0, 80.0, 26.0, 55.0, 1.0],
            )),
            collections_actions: Some(
                df!(
                    ca::CUSTOMER_ID => ["c1", "c2", "c5"],
                    ca::CURRENCY => ["USD", "USD", "USD"],
                    ca::ACTION => ["suspend", "final_notice", "reminder"],
                    ca::REASON => ["oldest invoice 50 days past due", "x", "y"],
                )
                .unwrap()
                .lazy(),
            ),
            aging_customers: Some(
                df!(
                    ag::CUSTOMER_ID => ["c1", "c5", "c6"],
                    ag::CURRENCY => ["USD", "USD", "USD"],
                    ag::PAST_DUE => [150.0, 20.0, 0.0],
                    ag::OLDEST_DAYS_PAST_DUE => [Some(50i64), Some(3), None],
                )
                .unwrap()
                .lazy(),
            ),
            budget_status: Some(
                df!(
                    bs::CUSTOMER_ID => ["c1", "c2", "c3", "c6", "c7"],
                    bs::CURRENCY => ["USD"; 5],
                    bs::STATUS => ["over", "forecast_over", "ok", "no_budget", "warning"],
                    bs::MTD_SPEND => [Some(120.0), Some(90.0), Some(1.0), None, Some(85.0)],
                    bs::BUDGET => [Some(100.0), Some(100.0), Some(100.0), None, Some(100.0)],
                    bs::FORECAST => [Some(200.0), Some(130.0), Some(2.0), None, Some(95.0)],
                )
                .unwrap()
                .lazy(),
            ),
            anomalies: Some(cur_anomalies),
            exposure: Some(
                df!(
                    ex::CUSTOMER_ID => ["c1", "c2", "c3", "c6"],
                    ex::CURRENCY => ["USD"; 4],
                    ex::EXPOSURE => [1600.0, 1400.0, 150.0, 50.0],
                )
                .unwrap()
                .lazy(),
            ),
        };
        (prev, cur)
    }

    fn text_col(df: &DataFrame, c: &str) -> Vec<String> {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("-").to_string())
            .collect()
    }

    #[test]
    fn hand_computed_pair_lists_exactly_the_changes_most_urgent_first() {
        let (prev, cur) = pair();
        let out = changes(&cur, &prev, &ChangesConfig::default())
            .collect()
            .unwrap();
        let rows: Vec<String> = (0..out.height())
            .map(|i| {
                [
                    ch::CUSTOMER_ID,
                    ch::CURRENCY,
                    ch::KIND,
                    ch::SIGNAL,
                    ch::BEFORE,
                    ch::AFTER,
                ]
                .iter()
                .map(|c| text_col(&out, c)[i].clone())
                .collect::<Vec<_>>()
                .join(" ")
            })
            .collect();
        assert_eq!(
            rows,
            [
                "c1 - risk_newly_critical - low critical",
                "c6 - risk_newly_high - - high",
                "c1 USD action_escalated - reminder suspend",
                "c5 USD action_escalated - - reminder",
                "c1 USD budget_newly_over - ok over",
                "c2 USD budget_newly_forecast_over - warning forecast_over",
                "c1 - new_anomaly gpu_meter - active",
                "c4 - anomaly_reactivated new_caller suppressed active",
                "c5 USD newly_past_due - 0.00 20.00",
                "c1 USD exposure_grown - 1000.00 1600.00",
                "c3 USD exposure_grown - 0.00 150.00",
                "c6 - new_customer - - high",
                "c7 - new_customer - - low",
                "c5 - tier_up - low medium",
                "c7 USD budget_newly_warning - - warning",
                "c2 - anomaly_suppressed new_ip active suppressed",
                "c3 - tier_down - high medium",
                "c3 EUR action_cleared - suspend -",
                "c3 USD budget_cleared - over ok",
                "c3 - anomaly_ended gpu_meter active -",
            ]
        );
        // Priorities follow KINDS; names come from this run's risk_scores.
        let prio: Vec<i32> = out
            .column(ch::PRIORITY)
            .unwrap()
            .i32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(&prio[..4], &[1, 2, 3, 3]);
        assert_eq!(prio[prio.len() - 1], 18);
        assert_eq!(text_col(&out, ch::CUSTOMER_NAME)[0], "Name c1");
        let reasons = text_col(&out, ch::REASON);
        assert_eq!(
            reasons[0],
            "risk tier low -> critical, score 10.0 -> 85.0: why"
        );
        assert_eq!(
            reasons[2],
            "collections action reminder -> suspend: oldest invoice 50 days past due"
        );
        assert_eq!(
            reasons[4],
            "budget status ok -> over: spend to date 120.00 of a budget of 100.00 USD, forecast 200.00"
        );
        assert_eq!(
            reasons[8],
            "past due 0.00 -> 20.00 USD, oldest invoice 3 days past due"
        );
        assert_eq!(reasons[9], "exposure 1000.00 -> 1600.00 USD (+60 %)");
        assert_eq!(reasons[10], "exposure 0.00 -> 150.00 USD (from none)");
        assert_eq!(reasons[19], "gpu_meter no longer seen (last on 2026-11-12)");
        // Alert changes carry first_seen: the new GPU meter's own date, the ended one's from the
        // previous run.
        let first = out
            .column(ch::FIRST_SEEN)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        let first: Vec<Option<&str>> = first.str().unwrap().iter().collect();
        assert_eq!(first[6], Some("2026-11-15"));
        assert_eq!(first[19], Some("2026-11-12"));
        assert_eq!(first[0], None);
    }

    #[test]
    fn first_seen_is_carried_from_the_previous_run() {
        let (_, cur) = pair();
        let a = cur.anomalies.unwrap().collect().unwrap();
        let sig = text_col(&a, an::SIGNAL);
        let first = a
            .column(carried::FIRST_SEEN)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        let first: Vec<&str> = first.str().unwrap().iter().map(|v| v.unwrap()).collect();
        // usage_spike: Nov 1 from the previous run, though seen on Nov 14 here; gpu_meter is new
        // (its own date); new_ip and new_caller keep the previous run's dates.
        assert_eq!(sig, ["usage_spike", "gpu_meter", "new_ip", "new_caller"]);
        assert_eq!(
            first,
            ["2026-11-01", "2026-11-15", "2026-11-13", "2026-11-11"]
        );
        // Without a previous run, first_seen is the alert's earliest date in this run.
        let alone = with_first_seen(
            anomalies(&[("c1", "x", 9, false), ("c1", "x", 7, true)]),
            None,
        )
        .collect()
        .unwrap();
        let f = alone
            .column(carried::FIRST_SEEN)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        assert_eq!(f.str().unwrap().get(0), Some("2026-11-07"));
    }

    #[test]
    fn same_state_gives_no_changes() {
        let (prev, _) = pair();
        let mut same = prev.clone();
        same.anomalies = Some(with_first_seen(
            prev.anomalies
                .clone()
                .unwrap()
                .drop(cols([carried::FIRST_SEEN])),
            prev.anomalies.clone(),
        ));
        // This run's tables carry the columns the previous run's lack.
        same.collections_actions = Some(
            prev.collections_actions
                .clone()
                .unwrap()
                .with_column(lit("r").alias(ca::REASON)),
        );
        same.aging_customers = Some(
            prev.aging_customers.clone().unwrap().with_column(
                lit(NULL)
                    .cast(DataType::Int64)
                    .alias(ag::OLDEST_DAYS_PAST_DUE),
            ),
        );
        same.budget_status = Some(prev.budget_status.clone().unwrap().with_columns([
            lit(1.0).alias(bs::MTD_SPEND),
            lit(1.0).alias(bs::BUDGET),
            lit(1.0).alias(bs::FORECAST),
        ]));
        let out = changes(&same, &prev, &ChangesConfig::default())
            .collect()
            .unwrap();
        assert_eq!(out.height(), 0, "{out}");
        assert_eq!(out.schema().as_ref(), &ch::DEF.schema());
    }

    #[test]
    fn exposure_growth_threshold_is_configurable() {
        let (prev, cur) = pair();
        let cfg = ChangesConfig {
            exposure_growth_share: 0.3,
            exposure_growth_min: 100.0,
        };
        let out = changes(&cur, &prev, &cfg).collect().unwrap();
        let grown: Vec<String> = text_col(&out, ch::KIND)
            .into_iter()
            .zip(text_col(&out, ch::CUSTOMER_ID))
            .filter(|(k, _)| k == "exposure_grown")
            .map(|(_, c)| c)
            .collect();
        // c2 1000 -> 1400 is +40 %: grown at a 30 % share, not at 50 %.
        assert_eq!(grown, ["c1", "c2", "c3"]);
    }

    #[test]
    fn action_lists_mark_new_rows() {
        let (prev, cur) = pair();
        let all = changes(&cur, &prev, &ChangesConfig::default());
        let coll =
            collections_with_new(cur.collections_actions.clone().unwrap(), Some(all.clone()))
                .collect()
                .unwrap();
        let new: Vec<Option<bool>> = coll
            .column(carried::NEW)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(new, [Some(true), Some(false), Some(true)]);
        let review = risk_review_with_new(
            risk(
                &["c1", "c2", "c6"],
                &["critical", "medium", "high"],
                &[85.0, 31.0, 55.0],
            ),
            cur.anomalies.clone().unwrap(),
            Some(all),
        )
        .collect()
        .unwrap();
        let new: Vec<Option<bool>> = review
            .column(carried::NEW)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(new, [Some(true), Some(false), Some(true)]);
        let first = review
            .column(carried::FIRST_SEEN)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        // c1: its oldest active alert is the spike first seen on Nov 1; c2's only alert is
        // suppressed; c6 has none.
        let first: Vec<Option<&str>> = first.str().unwrap().iter().collect();
        assert_eq!(first, [Some("2026-11-01"), None, None]);
        // Without a previous run the column is there, empty.
        let none = collections_with_new(cur.collections_actions.unwrap(), None)
            .collect()
            .unwrap();
        assert_eq!(none.column(carried::NEW).unwrap().null_count(), 3);
    }
}
