//! What every usage signal shares: the working column names, the windows derived from the as-of
//! date, the customer's history and usual spend, the robust scale and scores, the "since" words,
//! and the row of the anomalies table a signal becomes.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use super::config::UsageSignalConfig;
use crate::analysis::anomalies::evidence::{amount_text, day_text, int_text};
use crate::analysis::reasons::FAMILY_USAGE;
use crate::schema::{anomalies as an, usage as us};

// Working columns (never in an output table).
pub const DAY: &str = "day"; // usage_date as days since 1970-01-01 (Int32)
/// Keys of [`usage_summary`].
pub const SUMMARY_KEYS: [&str; 7] = [
    us::CUSTOMER_ID,
    us::CURRENCY,
    us::ENTITLEMENT_ID,
    us::METER_CATEGORY,
    us::METER_SUBCATEGORY,
    us::METER_NAME,
    us::REGION,
];
/// What the GPU matcher reads of a meter.
pub const METER_KEYS: [&str; 2] = [us::METER_SUBCATEGORY, us::METER_NAME];
/// A spike series (the keys of usage_daily but the day) and its day.
pub(super) const SERIES: [&str; 4] = [
    us::CUSTOMER_ID,
    us::CURRENCY,
    us::ENTITLEMENT_ID,
    us::METER_CATEGORY,
];
pub const SERIES_DAY: [&str; 5] = [
    us::CUSTOMER_ID,
    us::CURRENCY,
    us::ENTITLEMENT_ID,
    us::METER_CATEGORY,
    DAY,
];
pub(super) const LAG: &str = "lag";
pub(super) const SID: &str = "series_id";
pub(super) const BDAY: &str = "baseline_day";
pub(super) const BCOST: &str = "baseline_cost";
pub const GPU_COST: &str = "gpu_cost";
pub const IS_GPU: &str = "is_gpu";
pub const BASE_SUM: &str = "baseline_sum"; // Decimal
pub const RECENT_SUM: &str = "recent_sum"; // Decimal
pub(super) const GPU_BEFORE: &str = "gpu_before";
pub(super) const METER: &str = "meter";
pub const FIRST: &str = "first_day";
pub(super) const FIRST_USE: &str = "first_use_day";
pub(super) const HISTORY: &str = "history_days";
pub(super) const RECENT_COST: &str = "recent_cost";
pub(super) const LEVEL: &str = "level";
pub(super) const N_ALL: &str = "n_all";
pub(super) const MED_ALL: &str = "median_all";
pub(super) const MAD_ALL: &str = "mad_all";
pub(super) const MAX_ALL: &str = "max_all";
pub(super) const N_WD: &str = "n_weekday";
pub(super) const MED_WD: &str = "median_weekday";
pub(super) const MAD_WD: &str = "mad_weekday";
pub(super) const MEDIAN: &str = "median";
pub(super) const MAD: &str = "mad";
pub(super) const USE_WD: &str = "use_weekday";
pub(super) const SCORE: &str = "score_raw";
pub const RESOURCE: &str = "resource_key";
pub const HOURS: &str = "hours";
pub(super) const QUAL_LAST: &str = "qualifying_last";
pub(super) const QUAL_ALL: &str = "qualifying_recent";
pub(super) const N_RES: &str = "resources";
pub(super) const COUNTRY: &str = "peer_country";
pub(super) const BAND: &str = "band";
pub(super) const AVG: &str = "daily_average";
pub(super) const PEER_LEVEL: &str = "peer_level";
pub(super) const PEER_N: &str = "peer_n";
pub(super) const PEER_DESC: &str = "peer_desc";

/// The as-of date and the windows derived from it, in days since 1970-01-01.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// A, the as-of date.
    pub(super) a: i32,
    /// First day of the recent window.
    pub(super) recent_start: i32,
    /// First day of the baseline before the recent window (for the customer's usual spend).
    pub(super) baseline_start: i32,
    pub(super) recent_days: i32,
    pub(super) baseline_days: i32,
    pub(super) rtc_days: i32,
}

impl Window {
    pub(super) fn new(as_of: NaiveDate, cfg: &UsageSignalConfig) -> Window {
        // Days since 1970-01-01, the physical value of a polars Date (719,163 days from CE).
        let a = as_of.num_days_from_ce() - 719_163;
        let recent_days = cfg.recent_days.clamp(1, 3660) as i32;
        let baseline_days = cfg.baseline_days.clamp(1, 3660) as i32;
        let rtc_days = cfg.round_the_clock_days.clamp(1, recent_days as i64) as i32;
        let recent_start = a - recent_days + 1;
        Window {
            a,
            recent_start,
            baseline_start: recent_start - baseline_days,
            recent_days,
            baseline_days,
            rtc_days,
        }
    }
}

/// Per customer: first day of usage, days of history before the recent window, usage country.
pub(super) fn customer_history(summary: LazyFrame, w: &Window) -> LazyFrame {
    summary
        .group_by([col(us::CUSTOMER_ID)])
        .agg([
            col(FIRST).min().alias(FIRST_USE),
            col(us::CUSTOMER_COUNTRY).drop_nulls().min(),
        ])
        .with_column(max2(lit(w.recent_start) - col(FIRST_USE), lit(0)).alias(HISTORY))
}

/// Per customer and currency: average daily spend over the baseline before the recent window
/// (over the days the customer existed in it), the usual level new things are measured against.
pub(super) fn usual_spend(summary: LazyFrame, history: LazyFrame, w: &Window) -> LazyFrame {
    summary
        .group_by([col(us::CUSTOMER_ID), col(us::CURRENCY)])
        .agg([col(BASE_SUM).sum().cast(DataType::Float64).alias(us::COST)])
        .join(
            history.select([col(us::CUSTOMER_ID), col(HISTORY)]),
            [col(us::CUSTOMER_ID)],
            [col(us::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col(us::CUSTOMER_ID),
            col(us::CURRENCY),
            (col(us::COST)
                / max2(min2(col(HISTORY), lit(w.baseline_days)), lit(1)).cast(DataType::Float64))
            .alias(LEVEL),
        ])
}
/// Adds the customer's history days and usual daily spend (0 when it has none).
pub(super) fn with_history_and_level(
    lf: LazyFrame,
    history: LazyFrame,
    level: LazyFrame,
) -> LazyFrame {
    lf.join(
        history.select([col(us::CUSTOMER_ID), col(HISTORY)]),
        [col(us::CUSTOMER_ID)],
        [col(us::CUSTOMER_ID)],
        JoinArgs::new(JoinType::Inner),
    )
    .join(
        level,
        [col(us::CUSTOMER_ID), col(us::CURRENCY)],
        [col(us::CUSTOMER_ID), col(us::CURRENCY)],
        JoinArgs::new(JoinType::Left),
    )
    .with_column(col(LEVEL).fill_null(lit(0.0)))
}

/// max(1.4826 x MAD, mad_floor_share x median, abs_floor): never zero when abs_floor > 0.
pub(super) fn robust_scale(mad: Expr, median: Expr, cfg: &UsageSignalConfig) -> Expr {
    max2(
        max2(
            mad.fill_null(lit(0.0)) * lit(1.4826),
            median.fill_null(lit(0.0)) * lit(cfg.mad_floor_share),
        ),
        lit(cfg.abs_floor.max(f64::MIN_POSITIVE)),
    )
}

/// Score of something new (expected 0): its average day since first seen (FIRST) over
/// max(abs_floor, mad_floor_share x the customer's usual daily spend), capped.
pub(super) fn new_thing_score(w: &Window, cfg: &UsageSignalConfig) -> Expr {
    let days = (lit(w.a) - col(FIRST) + lit(1)).cast(DataType::Float64);
    let scale = max2(
        col(LEVEL) * lit(cfg.mad_floor_share),
        lit(cfg.abs_floor.max(f64::MIN_POSITIVE)),
    );
    min2(col(RECENT_COST) / days / scale, lit(cfg.score_cap))
}

/// "1,830.00 USD in the last 5 days" (or "on 2026-10-14" for a single day), from RECENT_COST,
/// FIRST and the currency.
pub(super) fn since_words(w: &Window) -> Expr {
    let days = lit(w.a) - col(FIRST) + lit(1);
    concat_str(
        [
            amount_text(col(RECENT_COST)),
            lit(" "),
            col(us::CURRENCY),
            when(days.clone().gt(lit(1)))
                .then(concat_str(
                    [lit(" in the last "), int_text(days), lit(" days")],
                    "",
                    false,
                ))
                .otherwise(concat_str(
                    [lit(" on "), day_text(lit(w.a), "%Y-%m-%d")],
                    "",
                    false,
                )),
        ],
        "",
        false,
    )
}

/// Selects a signal's rows in the columns and dtypes of the anomalies table.
#[allow(clippy::too_many_arguments)]
pub(super) fn anomaly_rows(
    lf: LazyFrame,
    signal: &'static str,
    entity: Expr,
    day: Expr,
    actual: Expr,
    expected: Expr,
    score: Expr,
    reason: Expr,
) -> LazyFrame {
    lf.select([
        col(us::CUSTOMER_ID).alias(an::CUSTOMER_ID),
        entity.alias(an::ENTITY),
        lit(FAMILY_USAGE).alias(an::FAMILY),
        lit(signal).alias(an::SIGNAL),
        day.cast(DataType::Date).alias(an::DATE),
        actual.cast(DataType::Float64).alias(an::ACTUAL),
        expected.cast(DataType::Float64).alias(an::EXPECTED),
        score.cast(DataType::Float64).alias(an::SCORE),
        reason.alias(an::REASON),
        lit(false).alias(an::SUPPRESSED),
    ])
}

pub(super) fn max2(a: Expr, b: Expr) -> Expr {
    when(a.clone().gt_eq(b.clone())).then(a).otherwise(b)
}

pub(super) fn min2(a: Expr, b: Expr) -> Expr {
    when(a.clone().lt_eq(b.clone())).then(a).otherwise(b)
}
