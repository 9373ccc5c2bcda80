//! `usage_spike`: a day's cost per customer, Azure subscription and meter category far above its
//! robust, weekday-aware trailing baseline (see the family's opening comment in `usage/mod.rs`).

use polars::prelude::*;

use super::config::UsageSignalConfig;
use super::shared::{
    anomaly_rows, min2, robust_scale, Window, BCOST, BDAY, DAY, FIRST, GPU_COST, LAG, MAD, MAD_ALL,
    MAD_WD, MAX_ALL, MEDIAN, MED_ALL, MED_WD, N_ALL, N_WD, SCORE, SERIES, SERIES_DAY, SID, USE_WD,
};
use crate::analysis::anomalies::evidence::{amount_text, day_text, ratio_text};
use crate::analysis::reasons::USAGE_SPIKE;
use crate::schema::{usage as us, usage_daily as ud};

pub(super) fn usage_spikes(
    summary: LazyFrame,
    gpu_daily: LazyFrame,
    usage_daily: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let (in_window, first) = series_in_window(summary, usage_daily, w);
    let stats = baseline_stats(in_window, w, cfg);
    let cap = cfg.score_cap;
    // The GPU cost of the spikes' days only (a few rows), joined last: joined to every series day
    // of the windows (3.4M rows at 10.8M usage lines) on the five keys, it was a fifth of the
    // signals' plan.
    let series_day_cols = || SERIES_DAY.map(col);
    let scored = scored_spikes(stats, first, cfg)
        .join(
            gpu_daily,
            series_day_cols(),
            series_day_cols(),
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(GPU_COST).fill_null(lit(0.0)));
    let reason = spike_reason(w);
    anomaly_rows(
        scored,
        USAGE_SPIKE,
        concat_str(
            [col(us::ENTITLEMENT_ID), col(us::METER_CATEGORY)],
            "/",
            false,
        ),
        col(DAY),
        col(us::COST),
        col(MEDIAN),
        min2(col(SCORE), lit(cap)),
        reason,
    )
}

/// Per series (an integer id SID) and day of the baseline and recent windows: the day's cost and
/// the series' first day (cached: the candidates and their baselines both read it); and the
/// series with their ids.
fn series_in_window(
    summary: LazyFrame,
    usage_daily: LazyFrame,
    w: &Window,
) -> (LazyFrame, LazyFrame) {
    let series = SERIES;
    // A series' daily cost is usage_daily's (same keys, the same exact sum), read back instead of
    // grouping every usage line again: that group-by has nearly a group per line and was most
    // of this signal's time (about 10 s of 12 s at 10M usage rows). Only the GPU share, a few
    // lines, is summed here.
    // Only the days of the baseline and recent windows are read (the filter reaches the scan);
    // a series' first day comes from the summary.
    let window_start = w.recent_start - w.baseline_days;
    let text = |c: &'static str| col(c).fill_null(lit("")).alias(c);
    let day = || col(ud::USAGE_DATE).cast(DataType::Int32);
    let daily = usage_daily
        .filter(
            col(ud::CUSTOMER_ID)
                .is_not_null()
                .and(day().lt_eq(lit(w.a)))
                .and(day().gt_eq(lit(window_start))),
        )
        .select([
            col(ud::CUSTOMER_ID),
            text(ud::CURRENCY),
            text(ud::ENTITLEMENT_ID),
            text(ud::METER_CATEGORY),
            day().alias(DAY),
            col(ud::COST).fill_null(lit(0.0)),
        ]);
    // Each series gets a small integer id: the baseline rows (candidates x baseline_days) then
    // carry and join on two integers instead of four strings. Sorted first, so the ids are the
    // same however often the plan evaluates this frame.
    let first = summary
        .group_by(series.map(col))
        .agg([col(FIRST).min()])
        .sort(series, SortMultipleOptions::default())
        .with_row_index(SID, None);
    let in_window = daily
        .join(
            first.clone(),
            series.map(col),
            series.map(col),
            JoinArgs::new(JoinType::Inner),
        )
        .cache();

    (in_window, first)
}

/// Per candidate day (a recent day costing at least `min_spike_cost`): its cost, and
/// the median, MAD and maximum of its baseline days, over all days and over the same weekday.
fn baseline_stats(in_window: LazyFrame, w: &Window, cfg: &UsageSignalConfig) -> LazyFrame {
    // Only days that could be spikes get a baseline: a spike costs at least min_spike_cost.
    let lags = Series::new(LAG.into(), (1..=w.baseline_days).collect::<Vec<i32>>())
        .into_frame()
        .lazy();
    let candidates = in_window
        .clone()
        .filter(
            col(DAY)
                .gt_eq(lit(w.recent_start))
                .and(col(us::COST).gt_eq(lit(cfg.min_spike_cost)))
                .and(col(us::COST).gt(lit(0.0))),
        )
        .select([col(SID), col(DAY), col(FIRST), col(us::COST)])
        .cross_join(lags, None)
        .with_column((col(DAY) - col(LAG)).alias(BDAY))
        // Zero-fill from the series' first day, not before it.
        .filter(col(BDAY).gt_eq(col(FIRST)));
    let baseline_values =
        in_window.select([col(SID), col(DAY).alias(BDAY), col(us::COST).alias(BCOST)]);
    let joined = candidates
        .join(
            baseline_values,
            [col(SID), col(BDAY)],
            [col(SID), col(BDAY)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(BCOST).fill_null(lit(0.0)));

    let v = || col(BCOST);
    let same_wd = || (col(LAG) % lit(7)).eq(lit(0));
    let v_wd = || v().filter(same_wd());
    joined.group_by([col(SID), col(DAY)]).agg([
        col(us::COST).first(),
        len().cast(DataType::Int64).alias(N_ALL),
        v().median().alias(MED_ALL),
        (v() - v().median()).abs().median().alias(MAD_ALL),
        v().max().alias(MAX_ALL),
        same_wd().cast(DataType::Int64).sum().alias(N_WD),
        v_wd().median().alias(MED_WD),
        (v_wd() - v_wd().median()).abs().median().alias(MAD_WD),
    ])
}

/// The candidate days that are spikes, with their robust z (SCORE), the median they are measured
/// against and the series' keys.
fn scored_spikes(stats: LazyFrame, first: LazyFrame, cfg: &UsageSignalConfig) -> LazyFrame {
    let series = SERIES;
    stats
        .with_column(col(N_WD).gt_eq(lit(cfg.weekday_min_points)).alias(USE_WD))
        .with_columns([
            when(col(USE_WD))
                .then(col(MED_WD))
                .otherwise(col(MED_ALL))
                .alias(MEDIAN),
            when(col(USE_WD))
                .then(col(MAD_WD))
                .otherwise(col(MAD_ALL))
                .alias(MAD),
        ])
        .with_column(
            ((col(us::COST) - col(MEDIAN)) / robust_scale(col(MAD), col(MEDIAN), cfg)).alias(SCORE),
        )
        .filter(
            col(N_ALL)
                .gt_eq(lit(cfg.spike_min_baseline_days))
                .and(col(SCORE).gt_eq(lit(cfg.spike_score_threshold)))
                .and((col(us::COST) - col(MEDIAN)).gt_eq(lit(cfg.min_spike_cost)))
                .and(col(us::COST).gt(col(MAX_ALL) * lit(cfg.spike_min_over_max))),
        )
        .join(
            first.select(
                series
                    .iter()
                    .map(|c| col(*c))
                    .chain([col(SID)])
                    .collect::<Vec<_>>(),
            ),
            [col(SID)],
            [col(SID)],
            JoinArgs::new(JoinType::Inner),
        )
}

/// The reason of a spike: its multiple of the baseline median (or the amounts, against a zero
/// median), the day and the subscription.
fn spike_reason(w: &Window) -> Expr {
    // "GPU Virtual Machines" when GPU meters make most of the day's cost of the series.
    let label = when((col(GPU_COST) * lit(2.0)).gt(col(us::COST)))
        .then(concat_str(
            [lit("GPU "), col(us::METER_CATEGORY)],
            "",
            false,
        ))
        .otherwise(col(us::METER_CATEGORY));
    let median_words = concat_str(
        [
            lit(format!("its {}-day ", w.baseline_days)),
            when(col(USE_WD))
                .then(concat_str([day_text(col(DAY), "%A"), lit(" ")], "", false))
                .otherwise(lit("")),
            lit("median"),
        ],
        "",
        false,
    );
    let cur = || col(us::CURRENCY);
    let tail = || {
        [
            lit(" on "),
            day_text(col(DAY), "%Y-%m-%d"),
            lit(", subscription "),
            col(us::ENTITLEMENT_ID),
        ]
    };
    let with_ratio = concat_str(
        [
            label.clone(),
            lit(" spend "),
            ratio_text(col(us::COST) / col(MEDIAN)),
            lit("x "),
            median_words.clone(),
            lit(": "),
            amount_text(col(us::COST)),
            lit(" "),
            cur(),
        ]
        .into_iter()
        .chain(tail())
        .collect::<Vec<_>>(),
        "",
        false,
    );
    let against_zero = concat_str(
        [
            label,
            lit(" spend "),
            amount_text(col(us::COST)),
            lit(" "),
            cur(),
        ]
        .into_iter()
        .chain(tail())
        .chain([
            lit(" against "),
            median_words,
            lit(" of "),
            amount_text(col(MEDIAN)),
            lit(" "),
            cur(),
        ])
        .collect::<Vec<_>>(),
        "",
        false,
    );
    when(col(MEDIAN).gt(lit(0.0)))
        .then(with_ratio)
        .otherwise(against_zero)
}
