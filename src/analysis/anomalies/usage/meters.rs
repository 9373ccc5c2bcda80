//! `new_meter` and `gpu_meter`: meters first seen in the recent window, and the GPU and high-core
//! matcher (`gpu_patterns`) that also labels GPU spikes (see `usage/mod.rs`).

use polars::prelude::*;

use super::config::UsageSignalConfig;
use super::shared::{
    anomaly_rows, new_thing_score, since_words, with_history_and_level, Window, FIRST, GPU_BEFORE,
    HISTORY, IS_GPU, METER, METER_KEYS, RECENT_COST, RECENT_SUM,
};
use crate::analysis::anomalies::evidence::int_text;
use crate::analysis::reasons::{GPU_METER, NEW_METER};
use crate::schema::{anomalies as an, usage as us};

/// The distinct meters (subcategory, name) of a usage summary with `is_gpu`: whether
/// `gpu_patterns` match them.
pub(super) fn gpu_meters(summary: LazyFrame, cfg: &UsageSignalConfig) -> LazyFrame {
    summary
        .select(METER_KEYS.map(col))
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(
            gpu_meter_match(
                concat_str([col(us::METER_SUBCATEGORY), col(us::METER_NAME)], " ", true),
                &cfg.gpu_patterns,
            )
            .alias(IS_GPU),
        )
}

/// Regex of the GPU matcher: a pattern at the start of a word (words split on anything but
/// letters and digits), then either the end of the word, or letters followed by a digit (a series:
/// NC24s, NCv3, NCasT4, NVadsA10). Words without a digit after the prefix (HBase, HCI, NVMe) and
/// words that merely contain a pattern (DNS, Dv3) do not match. None when no pattern is given.
pub fn gpu_regex(patterns: &[String]) -> Option<String> {
    let alternatives: Vec<String> = patterns
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.chars()
                .map(|c| {
                    if "\\.+*?()|[]{}^$#&-~".contains(c) {
                        format!("\\{c}")
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect();
    if alternatives.is_empty() {
        return None;
    }
    Some(format!(
        "(?i)(?:^|[^a-z0-9])(?:{})(?:[a-z]*[0-9]|[^a-z0-9]|$)",
        alternatives.join("|")
    ))
}

/// Whether a meter text (subcategory and name) is a GPU or high-core series (see [`gpu_regex`]).
pub fn gpu_meter_match(text: Expr, patterns: &[String]) -> Expr {
    match gpu_regex(patterns) {
        Some(re) => text.str().contains(lit(re), false).fill_null(lit(false)),
        None => lit(false),
    }
}

pub(super) fn new_meters(
    summary: LazyFrame,
    history: LazyFrame,
    level: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let meters = meters_per_customer(summary, cfg);
    let gpu_before = meters
        .clone()
        .filter(col(IS_GPU).and(col(FIRST).lt(lit(w.recent_start))))
        .group_by([col(us::CUSTOMER_ID)])
        .agg([lit(true).alias(GPU_BEFORE)]);
    let fresh = with_history_and_level(
        meters.filter(col(FIRST).gt_eq(lit(w.recent_start))),
        history,
        level,
    )
    .left_join(gpu_before, col(us::CUSTOMER_ID), col(us::CUSTOMER_ID))
    .with_column(col(GPU_BEFORE).fill_null(lit(false)));

    let established = col(HISTORY).gt_eq(lit(cfg.min_history_days));
    let big_enough = col(RECENT_COST).gt_eq(lit(cfg.new_meter_min_cost));
    let entity = || {
        when(col(METER).neq(lit("")))
            .then(concat_str(
                [col(us::METER_CATEGORY), col(METER)],
                " / ",
                false,
            ))
            .otherwise(col(us::METER_CATEGORY))
    };
    let plain = fresh.clone().filter(
        col(IS_GPU)
            .not()
            .and(established.clone())
            .and(big_enough.clone()),
    );
    let gpu = fresh.filter(
        col(IS_GPU).and(
            established.and(big_enough).or(col(GPU_BEFORE)
                .not()
                .and(col(RECENT_COST).gt_eq(lit(cfg.gpu_min_cost)))),
        ),
    );
    let history_words = |what: &str| {
        when(col(HISTORY).gt(lit(0)))
            .then(concat_str(
                [
                    lit(format!(", {what} in ")),
                    int_text(col(HISTORY)),
                    lit(" days of history"),
                ],
                "",
                false,
            ))
            .otherwise(lit(", on a customer with no earlier usage"))
    };
    let plain_reason = concat_str(
        [
            lit("New meter "),
            entity(),
            lit(": "),
            since_words(w),
            history_words("never used"),
        ],
        "",
        false,
    );
    let gpu_reason = concat_str(
        [
            lit("New GPU meter "),
            entity(),
            lit(": "),
            since_words(w),
            when(col(GPU_BEFORE))
                .then(history_words("never used"))
                .otherwise(history_words("no GPU use")),
        ],
        "",
        false,
    );
    let part = |lf: LazyFrame, signal: &'static str, reason: Expr| {
        anomaly_rows(
            lf,
            signal,
            entity(),
            col(FIRST),
            col(RECENT_COST),
            lit(0.0),
            new_thing_score(w, cfg),
            reason,
        )
    };
    concat(
        [
            part(plain, NEW_METER, plain_reason),
            part(gpu, GPU_METER, gpu_reason),
        ],
        UnionArgs::default(),
    )
    .unwrap_or_else(|_| an::DEF.empty().lazy())
}

/// Per customer, currency, meter category and meter (subcategory, else name): the first day, the
/// recent cost and whether it is a GPU meter (cached: new meters and earlier GPU use read it).
fn meters_per_customer(summary: LazyFrame, cfg: &UsageSignalConfig) -> LazyFrame {
    let meter = when(col(us::METER_SUBCATEGORY).neq(lit("")))
        .then(col(us::METER_SUBCATEGORY))
        .otherwise(col(us::METER_NAME));
    summary
        .clone()
        .join(
            gpu_meters(summary, cfg),
            METER_KEYS.map(col),
            METER_KEYS.map(col),
            JoinArgs::new(JoinType::Left),
        )
        .with_column(meter.alias(METER))
        .group_by([
            col(us::CUSTOMER_ID),
            col(us::CURRENCY),
            col(us::METER_CATEGORY),
            col(METER),
        ])
        .agg([
            col(FIRST).min(),
            col(RECENT_SUM)
                .sum()
                .cast(DataType::Float64)
                .alias(RECENT_COST),
            col(IS_GPU).fill_null(lit(false)).any(true),
        ])
        .cache()
}
