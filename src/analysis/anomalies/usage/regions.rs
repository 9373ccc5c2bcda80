//! `new_region`: usage in a region the customer never used before (see `usage/mod.rs`).

use polars::prelude::*;

use super::config::UsageSignalConfig;
use super::shared::{
    anomaly_rows, new_thing_score, since_words, with_history_and_level, Window, FIRST, HISTORY,
    RECENT_COST, RECENT_SUM,
};
use crate::analysis::anomalies::evidence::int_text;
use crate::analysis::reasons::NEW_REGION;
use crate::schema::usage as us;

pub(super) fn new_regions(
    summary: LazyFrame,
    history: LazyFrame,
    level: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let ignored = cfg.ignored_regions.iter().fold(lit(false), |acc, r| {
        acc.or(col(us::REGION).eq(lit(r.trim().to_lowercase())))
    });
    let regions = summary
        .filter(col(us::REGION).neq(lit("")).and(ignored.not()))
        .group_by([col(us::CUSTOMER_ID), col(us::CURRENCY), col(us::REGION)])
        .agg([
            col(FIRST).min(),
            col(RECENT_SUM)
                .sum()
                .cast(DataType::Float64)
                .alias(RECENT_COST),
        ]);
    let fresh = with_history_and_level(
        regions.filter(col(FIRST).gt_eq(lit(w.recent_start))),
        history,
        level,
    )
    .filter(
        col(HISTORY)
            .gt_eq(lit(cfg.min_history_days))
            .and(col(RECENT_COST).gt_eq(lit(cfg.new_region_min_cost))),
    );
    let reason = concat_str(
        [
            lit("New region "),
            col(us::REGION),
            lit(": "),
            since_words(w),
            lit(", never used in "),
            int_text(col(HISTORY)),
            lit(" days of history"),
        ],
        "",
        false,
    );
    anomaly_rows(
        fresh,
        NEW_REGION,
        col(us::REGION),
        col(FIRST),
        col(RECENT_COST),
        lit(0.0),
        new_thing_score(w, cfg),
        reason,
    )
}
