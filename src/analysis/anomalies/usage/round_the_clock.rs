//! `round_the_clock`: new compute running 24/7 over the last `round_the_clock_days` days, on
//! resources never seen before the recent window (see `usage/mod.rs`).

use polars::prelude::*;

use super::config::UsageSignalConfig;
use super::shared::{
    anomaly_rows, min2, new_thing_score, since_words, Window, DAY, FIRST, HISTORY, HOURS, LEVEL,
    N_RES, QUAL_ALL, QUAL_LAST, RECENT_COST, RESOURCE,
};
use crate::analysis::anomalies::evidence::int_text;
use crate::analysis::reasons::ROUND_THE_CLOCK;
use crate::analysis::{order_free_sum, text};
use crate::schema::usage as us;

/// A line's resource: its resource id (lower case in the canonical table, as every id: see
/// schema.rs); lines without one are counted per meter, one "resource" per customer and meter.
fn resource_expr() -> Expr {
    when(col(us::RESOURCE_ID).neq(lit("")))
        .then(col(us::RESOURCE_ID))
        .otherwise(concat_str(
            [lit("meter:"), col(us::METER_CATEGORY), col(us::METER_NAME)],
            "/",
            false,
        ))
}

/// Working column: whether a line of the recent window is compute.
const IS_COMPUTE: &str = "_is_compute";

/// Keys of a round_the_clock row.
const GROUP: [&str; 4] = [
    us::CUSTOMER_ID,
    us::CURRENCY,
    us::METER_CATEGORY,
    us::METER_NAME,
];

/// The compute lines of the recent window summed per resource and day: the GROUP keys, the
/// resource, the day, the hours (`order_free_sum`) and the cost (`order_free_sum`). The part of
/// round_the_clock that reads usage lines; on a cluster, `cluster::signal_reductions` gives the
/// same frame.
pub(super) fn resource_days(lines: LazyFrame, w: &Window) -> LazyFrame {
    // Case-insensitive tests of every line's unit and meter category, without lowered copies.
    let in_hours = || text::test(col(us::UNIT), |u| text::contains_ignore_case(u, "hour"));
    let compute = text::test(col(us::METER_CATEGORY), |c| {
        text::eq_ignore_case(c, "virtual machines")
    })
    .or(in_hours());
    // "10 Hours" units count tens of hours.
    let multiple = text::number(col(us::UNIT), text::leading_number).fill_null(lit(1.0));
    let hours = when(in_hours())
        .then(col(us::QUANTITY) * multiple)
        .otherwise(col(us::QUANTITY));
    let mut resource_day_keys: Vec<Expr> = GROUP.map(col).to_vec();
    resource_day_keys.push(col(RESOURCE));
    resource_day_keys.push(col(DAY));
    // The text tests run on the recent window's lines only: a column computed after the day's
    // filter, filtered on, where one predicate of both ran the tests on every line (its plan
    // alone at 10.8M lines: 0.83-0.87 s instead of 0.99-1.09 s, two runs each).
    lines
        .filter(col(DAY).gt_eq(lit(w.recent_start)))
        .with_column(compute.alias(IS_COMPUTE))
        .filter(col(IS_COMPUTE))
        .with_columns([resource_expr().alias(RESOURCE), hours.alias(HOURS)])
        .group_by(resource_day_keys)
        .agg([order_free_sum(col(HOURS)), order_free_sum(col(us::COST))])
}

/// The compute resources of the recent window that ran full days (`round_the_clock_hours`) on
/// each of the last `round_the_clock_days` days they existed: per resource, those days' count,
/// the first day and the recent cost (cached: the newness check and the rows both read it).
/// `recent` is [`resource_days`]'.
fn full_day_resources(recent: LazyFrame, w: &Window, cfg: &UsageSignalConfig) -> LazyFrame {
    let mut resource_keys: Vec<Expr> = GROUP.map(col).to_vec();
    resource_keys.push(col(RESOURCE));
    let full_day = || col(HOURS).gt_eq(lit(cfg.round_the_clock_hours));
    // Every day of the last rtc_days on which the resource existed must be a full day: a VM's
    // daily quantity is already 24 hours on its first day, so a resource that started on A
    // qualifies with that one day (evidence from the first morning), one that started earlier
    // needs each of the last rtc_days.
    let needed = min2(lit(w.a) - col(FIRST) + lit(1), lit(w.rtc_days));
    recent
        .group_by(resource_keys)
        .agg([
            full_day()
                .filter(col(DAY).gt(lit(w.a - w.rtc_days)))
                .cast(DataType::Int32)
                .sum()
                .alias(QUAL_LAST),
            full_day().cast(DataType::Int32).sum().alias(QUAL_ALL),
            col(DAY).min().alias(FIRST),
            order_free_sum(col(us::COST)).alias(RECENT_COST),
        ])
        .filter(col(QUAL_LAST).eq(needed).and(col(QUAL_LAST).gt(lit(0))))
        .cache()
}

pub(super) fn round_the_clock(
    lines: LazyFrame,
    level: LazyFrame,
    history: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let per_resource = full_day_resources(resource_days(lines.clone(), w), w, cfg);

    // New resources only: drop those seen in any usage before the recent window. The history's
    // lines are matched against the flagged resources (a few thousand), so what is held is the
    // flagged set, not the distinct resources of the whole history: that unique set of long
    // resource ids took 4.2 s and 2.9 GiB at 10M usage lines. Most flagged resources are old
    // ones that ran the day before the window too: they are found among that one day's lines.
    // Only the customers of the rest have their earlier lines keyed and matched, which is where
    // this plan spent its time (3.1 of 3.7 s at 10M lines) when every earlier line was.
    let flagged = per_resource.clone().select(who());
    let keyed = |lf: LazyFrame| lf.select([col(us::CUSTOMER_ID), resource_expr().alias(RESOURCE)]);
    let earlier = lines.filter(col(DAY).lt(lit(w.recent_start)));
    // Both are read twice below: cached, or each reading would scan usage again (Polars' common
    // subplan elimination did not merge them: three scans for the day before the window).
    let seen_last_day = keyed(earlier.clone().filter(col(DAY).eq(lit(w.recent_start - 1))))
        .join(flagged.clone(), who(), who(), JoinArgs::new(JoinType::Semi))
        .cache();
    let unresolved = flagged
        .join(
            seen_last_day.clone(),
            who(),
            who(),
            JoinArgs::new(JoinType::Anti),
        )
        .cache();
    let their_customers = unresolved
        .clone()
        .select([col(us::CUSTOMER_ID)])
        .unique(None, UniqueKeepStrategy::Any);
    let seen_before = keyed(earlier.join(
        their_customers,
        [col(us::CUSTOMER_ID)],
        [col(us::CUSTOMER_ID)],
        JoinArgs::new(JoinType::Semi),
    ))
    .join(unresolved, who(), who(), JoinArgs::new(JoinType::Semi));
    // concat fails only on an empty list, which this is not.
    let seen = concat([seen_last_day, seen_before], UnionArgs::default())
        .unwrap_or_else(|_| per_resource.clone().select(who()).clear());
    rows(per_resource, seen, level, history, w, cfg)
}

/// A flagged resource's keys: customer and resource.
fn who() -> [Expr; 2] {
    [col(us::CUSTOMER_ID), col(RESOURCE)]
}

/// round_the_clock from reductions instead of lines: `recent` as [`resource_days`] gives it, and
/// `seen` the (customer_id, resource) pairs with usage before the recent window (at least those
/// of the flagged resources). What a cluster run reads (see `cluster::signal_reductions`).
pub(super) fn round_the_clock_reduced(
    recent: LazyFrame,
    seen: LazyFrame,
    level: LazyFrame,
    history: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    rows(
        full_day_resources(recent, w, cfg),
        seen,
        level,
        history,
        w,
        cfg,
    )
}

/// The round_the_clock rows of the full-day resources not in `seen`.
fn rows(
    per_resource: LazyFrame,
    seen: LazyFrame,
    level: LazyFrame,
    history: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let fresh = per_resource.join(seen, who(), who(), JoinArgs::new(JoinType::Anti));

    let groups = fresh
        .group_by(GROUP.map(col))
        .agg([
            col(RESOURCE).n_unique().cast(DataType::Int64).alias(N_RES),
            col(FIRST).min(),
            order_free_sum(col(RECENT_COST)),
            col(QUAL_ALL).max(),
        ])
        .filter(col(RECENT_COST).gt_eq(lit(cfg.round_the_clock_min_cost)))
        // Established customers only: on a customer without history every server is new, so
        // new 24-hour compute says nothing there (peers and payment signals judge new customers).
        .join(
            history.select([col(us::CUSTOMER_ID), col(HISTORY)]),
            [col(us::CUSTOMER_ID)],
            [col(us::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(HISTORY).gt_eq(lit(cfg.min_history_days)))
        .join(
            level,
            [col(us::CUSTOMER_ID), col(us::CURRENCY)],
            [col(us::CUSTOMER_ID), col(us::CURRENCY)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(LEVEL).fill_null(lit(0.0)));
    let reason = concat_str(
        [
            lit("Compute running 24 h a day for "),
            int_text(col(QUAL_ALL)),
            when(col(QUAL_ALL).eq(lit(1)))
                .then(lit(" day on "))
                .otherwise(lit(" days on ")),
            int_text(col(N_RES)),
            when(col(N_RES).eq(lit(1)))
                .then(lit(" new resource ("))
                .otherwise(lit(" new resources (")),
            col(us::METER_CATEGORY),
            lit(", "),
            col(us::METER_NAME),
            lit("): "),
            since_words(w),
        ],
        "",
        false,
    );
    anomaly_rows(
        groups,
        ROUND_THE_CLOCK,
        concat_str([col(us::METER_CATEGORY), col(us::METER_NAME)], " / ", false),
        col(FIRST),
        col(RECENT_COST),
        lit(0.0),
        new_thing_score(w, cfg),
        reason,
    )
}
