//! `peer_outlier`: cold-start customers compared with established peers of the same currency,
//! country and credit-limit band (see `usage/mod.rs`).

use polars::prelude::*;

use super::config::UsageSignalConfig;
use super::shared::{
    anomaly_rows, min2, robust_scale, Window, AVG, BAND, COUNTRY, FIRST_USE, HISTORY, MAD, MEDIAN,
    PEER_DESC, PEER_LEVEL, PEER_N, RECENT_COST, RECENT_SUM, SCORE,
};
use crate::analysis::anomalies::evidence::{amount_text, int_text, plain_amount, ratio_text};
use crate::analysis::reasons::PEER_OUTLIER;
use crate::schema::{customers as cu, usage as us};

pub(super) fn peer_outliers(
    summary: LazyFrame,
    history: LazyFrame,
    customers: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let units = daily_averages(summary, history, customers, w, cfg);
    let scored = scored_cold_starts(units, cfg);
    let reason = peer_reason(w);
    anomaly_rows(
        scored,
        PEER_OUTLIER,
        concat_str([lit("peers "), col(PEER_DESC)], "", false),
        lit(w.a),
        col(AVG),
        col(MEDIAN),
        min2(col(SCORE), lit(cfg.score_cap)),
        reason,
    )
}

/// Per customer and currency with recent usage: its average day over the recent window (AVG),
/// history days, country and credit-limit band (cached: peers and cold starts both read it).
fn daily_averages(
    summary: LazyFrame,
    history: LazyFrame,
    customers: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let master = customers
        .filter(col(cu::CUSTOMER_ID).is_not_null())
        .group_by([col(cu::CUSTOMER_ID)])
        .agg([
            col(cu::COUNTRY).drop_nulls().first(),
            col(cu::CREDIT_LIMIT).drop_nulls().first(),
        ]);
    let master_country = col(cu::COUNTRY)
        .str()
        .strip_chars(lit(NULL))
        .str()
        .to_uppercase();
    let usage_country = col(us::CUSTOMER_COUNTRY)
        .str()
        .strip_chars(lit(NULL))
        .str()
        .to_uppercase();
    let attributes = history
        .left_join(master, col(us::CUSTOMER_ID), col(cu::CUSTOMER_ID))
        .with_columns([
            when(master_country.clone().neq(lit("")))
                .then(master_country)
                .otherwise(usage_country)
                .fill_null(lit(""))
                .alias(COUNTRY),
            band_expr(col(cu::CREDIT_LIMIT), &cfg.peer_size_band_edges).alias(BAND),
        ]);
    summary
        .group_by([col(us::CUSTOMER_ID), col(us::CURRENCY)])
        .agg([col(RECENT_SUM)
            .sum()
            .cast(DataType::Float64)
            .alias(RECENT_COST)])
        .filter(col(RECENT_COST).gt(lit(0.0)))
        .join(
            attributes,
            [col(us::CUSTOMER_ID)],
            [col(us::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        // A customer that began inside the window is averaged over the days it existed.
        .with_column(
            (col(RECENT_COST)
                / min2(lit(w.a) - col(FIRST_USE) + lit(1), lit(w.recent_days))
                    .cast(DataType::Float64))
            .alias(AVG),
        )
        .cache()
}

/// The cold-start customers far above their peers' median day, with the peer group used (the
/// narrowest with `peer_min_peers` peers), its median, MAD and size, and the robust z (SCORE).
fn scored_cold_starts(units: LazyFrame, cfg: &UsageSignalConfig) -> LazyFrame {
    let established = col(HISTORY).gt_eq(lit(cfg.min_history_days));
    let peers = units.clone().filter(established.clone());
    let mut cold = units.filter(established.not());

    let levels: [&[&str]; 3] = [
        &[us::CURRENCY, COUNTRY, BAND],
        &[us::CURRENCY, COUNTRY],
        &[us::CURRENCY],
    ];
    for (i, keys) in levels.iter().enumerate() {
        let on: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
        let stats = peers.clone().group_by(on.clone()).agg([
            col(AVG).median().alias(format!("{MEDIAN}_{i}")),
            (col(AVG) - col(AVG).median())
                .abs()
                .median()
                .alias(format!("{MAD}_{i}")),
            len().cast(DataType::Int64).alias(format!("{PEER_N}_{i}")),
        ]);
        cold = cold.join(stats, on.clone(), on, JoinArgs::new(JoinType::Left));
    }
    let enough = |i: usize| {
        col(format!("{PEER_N}_{i}"))
            .fill_null(lit(0))
            .gt_eq(lit(cfg.peer_min_peers.max(1)))
    };
    let pick = |name: &str| {
        when(enough(0))
            .then(col(format!("{name}_0")))
            .when(enough(1))
            .then(col(format!("{name}_1")))
            .otherwise(col(format!("{name}_2")))
    };
    let band_words = when(col(BAND).eq(lit(NO_LIMIT_BAND)))
        .then(lit("no credit limit on file"))
        .otherwise(concat_str([lit("credit limit "), col(BAND)], "", false));
    let country_words = when(col(COUNTRY).neq(lit("")))
        .then(col(COUNTRY))
        .otherwise(lit("country unknown"));
    cold.with_columns([
        when(enough(0))
            .then(lit(1))
            .when(enough(1))
            .then(lit(2))
            .when(enough(2))
            .then(lit(3))
            .otherwise(lit(0))
            .alias(PEER_LEVEL),
        pick(MEDIAN).alias(MEDIAN),
        pick(MAD).alias(MAD),
        pick(PEER_N).alias(PEER_N),
        when(enough(0))
            .then(concat_str([country_words.clone(), band_words], ", ", false))
            .when(enough(1))
            .then(country_words)
            .otherwise(lit("all countries"))
            .alias(PEER_DESC),
    ])
    .filter(
        col(PEER_LEVEL)
            .gt(lit(0))
            .and(col(AVG).gt_eq(col(MEDIAN) * lit(cfg.peer_multiple)))
            .and((col(AVG) - col(MEDIAN)).gt_eq(lit(cfg.peer_min_excess))),
    )
    .with_column(((col(AVG) - col(MEDIAN)) / robust_scale(col(MAD), col(MEDIAN), cfg)).alias(SCORE))
}

/// The reason of a peer outlier: the customer's average day against its peers' median day.
fn peer_reason(w: &Window) -> Expr {
    let cur = || col(us::CURRENCY);
    let peers_words = || {
        [
            lit(" the median of "),
            int_text(col(PEER_N)),
            lit(" peers ("),
            col(PEER_DESC),
            lit(")"),
        ]
    };
    let head = || {
        [
            lit("New customer ("),
            int_text(lit(w.a) - col(FIRST_USE) + lit(1)),
            lit(" days of usage) spending "),
            amount_text(col(AVG)),
            lit(" "),
            cur(),
            lit(" a day, "),
        ]
    };
    let with_ratio = concat_str(
        head()
            .into_iter()
            .chain([ratio_text(col(AVG) / col(MEDIAN)), lit("x")])
            .chain(peers_words())
            .chain([
                lit(": "),
                amount_text(col(MEDIAN)),
                lit(" "),
                cur(),
                lit(" a day"),
            ])
            .collect::<Vec<_>>(),
        "",
        false,
    );
    let against_zero = concat_str(
        head()
            .into_iter()
            .chain([lit("while")])
            .chain(peers_words())
            .chain([lit(" spends 0.00 "), cur(), lit(" a day")])
            .collect::<Vec<_>>(),
        "",
        false,
    );
    when(col(MEDIAN).gt(lit(0.0)))
        .then(with_ratio)
        .otherwise(against_zero)
}

pub(super) const NO_LIMIT_BAND: &str = "none";

/// Size band of a credit limit: "under 1,000", "1,000 to 10,000", "100,000 and over", or
/// NO_LIMIT_BAND when the customer has no credit limit on file.
pub(super) fn band_expr(limit: Expr, edges: &[f64]) -> Expr {
    let mut edges: Vec<f64> = edges.iter().copied().filter(|e| e.is_finite()).collect();
    edges.sort_by(|a, b| a.total_cmp(b));
    edges.dedup();
    let Some(last) = edges.last() else {
        return when(limit.is_null())
            .then(lit(NO_LIMIT_BAND))
            .otherwise(lit("any"));
    };
    let mut band = lit(format!("{} and over", plain_amount(*last)));
    for i in (0..edges.len()).rev() {
        let label = if i == 0 {
            format!("under {}", plain_amount(edges[0]))
        } else {
            format!(
                "{} to {}",
                plain_amount(edges[i - 1]),
                plain_amount(edges[i])
            )
        };
        band = when(limit.clone().lt(lit(edges[i])))
            .then(lit(label))
            .otherwise(band);
    }
    when(limit.is_null())
        .then(lit(NO_LIMIT_BAND))
        .otherwise(band)
}
