//! Usage signals (SPEC 4.4, usage family): from canonical usage (one row per rated usage line)
//! and the customer master, finds the consumption patterns of theft of service and writes them as
//! rows of the `anomalies` table (family "usage"), each with its evidence in words.
//!
//! Signals, all dated within the last `recent_days` days up to the as-of date A (usage after A is
//! ignored; everything before the recent window is history):
//! - `usage_spike`: a day's cost per customer, Azure subscription (entitlement) and meter category
//!   far above its robust trailing baseline: median and MAD of the previous `baseline_days` days
//!   (the day itself excluded), zero-filled from the series' first day, weekday-aware (the same
//!   weekday's points when there are at least `weekday_min_points`, else all days), with floors:
//!   scale = max(1.4826 x MAD, mad_floor_share x median, abs_floor). A spike also needs
//!   `min_spike_cost` above the median, `spike_min_baseline_days` of baseline, and a new high
//!   (above `spike_min_over_max` x the largest baseline day), so a sparse series coming back to its
//!   usual level is not a spike, and a jump to a new steady level is flagged on its first day only
//!   (new meters, regions and round-the-clock compute describe what follows).
//! - `new_meter` / `gpu_meter`: a meter (category / subcategory, else category / meter name) first
//!   seen in the recent window. GPU and high-core series (matched by `gpu_patterns`) are reported as
//!   `gpu_meter` only, and also when the customer has little history, as long as it never used a
//!   GPU meter before.
//! - `round_the_clock`: compute hours (Virtual Machines, or a unit in hours) of at least
//!   `round_the_clock_hours` per resource on each of the last `round_the_clock_days` days, on
//!   resources never seen before the recent window: crypto mining runs 24/7 on new compute. An
//!   established 24/7 production server (any resource seen before the window) is deliberately no
//!   signal at all: most real servers run 24/7, and their newness is what the miner cannot hide.
//! - `new_region`: usage in a region the customer never used before.
//! - `peer_outlier`: customers with less than `min_history_days` of history (cold start) are
//!   compared with established peers of the same currency, country and credit-limit band (SPEC's
//!   size band), falling back to currency and country, then currency alone, when a group has fewer
//!   than `peer_min_peers` peers. Peers are established customers with usage in the recent
//!   window; each side's figure is its average day over the window (a cold start's over the days
//!   since its first usage). The band comes from customers.credit_limit only: banding a new
//!   customer by its own early spend would put a fraudster among big spenders and hide it.
//!
//! Rows (entity; date; actual; expected), one per signal and entity, amounts in the billing currency:
//! - usage_spike: "<entitlement_id>/<meter category>"; the day; its cost; the baseline median.
//! - new_meter, gpu_meter: "<category> / <subcategory or meter name>"; first day seen; cost since; 0.
//! - round_the_clock: "<category> / <meter name>"; first day of the new resources; their cost; 0.
//! - new_region: the region; first day seen; cost since; 0.
//! - peer_outlier: "peers <group>"; A; the customer's average day; the peers' median day.
//!
//! Score (comparable across usage signals): a robust z, (actual - expected) / scale, capped at
//! `score_cap`. For spikes, expected and scale come from the series' baseline; for peer outliers,
//! from the peers' median and MAD; new meters, regions and round-the-clock compute have no
//! baseline of their own (expected 0), so their average day since first seen is divided by
//! max(abs_floor, mad_floor_share x the customer's average daily spend over the baseline before the
//! recent window): a new meter weighs in proportion to the customer's usual spend. For those
//! signals `actual` is the cost since first seen (the figure in the reason), not the average day.
//!
//! Cost: the usage lines up to A are read once into a summary per customer, currency,
//! subscription, meter and region (about 90x fewer rows), which new meters, new regions, peers
//! and the customer's history and usual spend group further; spikes read usage_daily and the GPU
//! lines' daily cost. All linear in rows. round_the_clock reads the recent window's compute lines, and checks the
//! newness of the few resources it flags with a semi join of the history (linear in rows, hashing
//! only the flagged customers). Spike baselines are built only for candidate days (recent days
//! costing at least `min_spike_cost`), each joined on an integer series id with its
//! `baseline_days` earlier days: linear in candidates. No cross join but candidates x the small
//! frame of baseline lags; no per-row Rust closure.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::analysis::{div_const, exact, order_free_sum, text};
use crate::ingest::usage::is_consumption;
use serde::{Deserialize, Serialize};

use crate::analysis::reasons::{
    FAMILY_USAGE, GPU_METER, NEW_METER, NEW_REGION, PEER_OUTLIER, ROUND_THE_CLOCK, USAGE_SPIKE,
};
use crate::schema::{anomalies as an, customers as cu, usage as us, usage_daily as ud};

/// Thresholds of the usage signals: section `[usage_signals]` of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageSignalConfig {
    /// Days up to the as-of date in which signals count; earlier usage is history.
    pub recent_days: i64,
    /// Length of the trailing baseline of usage_spike, in days (the day itself excluded).
    pub baseline_days: i64,
    /// Days of usage before the recent window a customer needs for new_meter and new_region;
    /// customers with less are cold starts, compared with peers (peer_outlier).
    pub min_history_days: i64,
    /// A day is a spike when (actual - median) / scale reaches this robust z.
    pub spike_score_threshold: f64,
    /// ... and when it is at least this much (currency units) above the median.
    pub min_spike_cost: f64,
    /// ... and when its baseline has at least this many days since the series began.
    pub spike_min_baseline_days: i64,
    /// ... and when it exceeds this multiple of the largest baseline day (1.0 = a new high).
    pub spike_min_over_max: f64,
    /// Same-weekday points needed to compare a day with its own weekday only.
    pub weekday_min_points: i64,
    /// Floor of the scale as a share of the median (or of the customer's usual daily spend).
    pub mad_floor_share: f64,
    /// Absolute floor of the scale, in currency units: a flat or sparse series cannot divide by 0.
    pub abs_floor: f64,
    /// Scores are capped at this value.
    pub score_cap: f64,
    /// GPU and high-core VM series, matched case-insensitively on meter subcategory and name as a
    /// whole word, or as a series prefix followed by letters and a digit (NC24s, NCv3, NDasrA100).
    pub gpu_patterns: Vec<String>,
    /// Cost in the recent window a new meter (or a new GPU meter) needs to be reported.
    pub new_meter_min_cost: f64,
    /// Cost a GPU meter needs when the customer never used a GPU meter before (any history).
    pub gpu_min_cost: f64,
    /// Hours a day per resource that count as running around the clock.
    pub round_the_clock_hours: f64,
    /// Consecutive days up to A a new resource must run around the clock (at most recent_days).
    pub round_the_clock_days: i64,
    /// Cost of the round-the-clock resources in the recent window needed to report them.
    pub round_the_clock_min_cost: f64,
    /// Cost in the recent window usage in a new region needs to be reported.
    pub new_region_min_cost: f64,
    /// Regions that are not places (meter zones, global services); compared lower-case.
    pub ignored_regions: Vec<String>,
    /// Peers a group needs before a cold-start customer is compared with it.
    pub peer_min_peers: i64,
    /// A cold-start customer is flagged when its daily average reaches this multiple of the peers'
    /// median daily average ...
    pub peer_multiple: f64,
    /// ... and is at least this much (currency units a day) above it.
    pub peer_min_excess: f64,
    /// Credit-limit edges of the size bands, ascending: [1000, 10000] gives under 1,000,
    /// 1,000 to 10,000, and 10,000 and over; customers without a credit limit are their own band.
    pub peer_size_band_edges: Vec<f64>,
}

impl Default for UsageSignalConfig {
    fn default() -> Self {
        UsageSignalConfig {
            recent_days: 7,
            baseline_days: 28,
            min_history_days: 14,
            spike_score_threshold: 6.0,
            min_spike_cost: 50.0,
            spike_min_baseline_days: 7,
            spike_min_over_max: 1.0,
            weekday_min_points: 3,
            mad_floor_share: 0.1,
            abs_floor: 5.0,
            score_cap: 100.0,
            gpu_patterns: [
                "NC", "ND", "NV", "NCv3", "NDv2", "NDasr", "A100", "H100", "V100", "T4", "HB",
                "HC", "GPU",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            new_meter_min_cost: 100.0,
            gpu_min_cost: 1.0,
            round_the_clock_hours: 23.0,
            round_the_clock_days: 3,
            round_the_clock_min_cost: 50.0,
            new_region_min_cost: 50.0,
            ignored_regions: [
                "",
                "global",
                "unknown",
                "unassigned",
                "zone 1",
                "zone 2",
                "zone 3",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            peer_min_peers: 5,
            peer_multiple: 5.0,
            peer_min_excess: 50.0,
            peer_size_band_edges: vec![1_000.0, 10_000.0, 100_000.0],
        }
    }
}

// Working columns (never in an output table).
const DAY: &str = "day"; // usage_date as days since 1970-01-01 (Int32)
/// Keys of [`usage_summary`].
const SUMMARY_KEYS: [&str; 7] = [
    us::CUSTOMER_ID,
    us::CURRENCY,
    us::ENTITLEMENT_ID,
    us::METER_CATEGORY,
    us::METER_SUBCATEGORY,
    us::METER_NAME,
    us::REGION,
];
/// What the GPU matcher reads of a meter.
const METER_KEYS: [&str; 2] = [us::METER_SUBCATEGORY, us::METER_NAME];
/// A spike series (the keys of usage_daily but the day) and its day.
const SERIES: [&str; 4] = [
    us::CUSTOMER_ID,
    us::CURRENCY,
    us::ENTITLEMENT_ID,
    us::METER_CATEGORY,
];
const SERIES_DAY: [&str; 5] = [
    us::CUSTOMER_ID,
    us::CURRENCY,
    us::ENTITLEMENT_ID,
    us::METER_CATEGORY,
    DAY,
];
const LAG: &str = "lag";
const SID: &str = "series_id";
const BDAY: &str = "baseline_day";
const BCOST: &str = "baseline_cost";
const GPU_COST: &str = "gpu_cost";
const IS_GPU: &str = "is_gpu";
const BASE_SUM: &str = "baseline_sum"; // Decimal
const RECENT_SUM: &str = "recent_sum"; // Decimal
const GPU_BEFORE: &str = "gpu_before";
const METER: &str = "meter";
const FIRST: &str = "first_day";
const FIRST_USE: &str = "first_use_day";
const HISTORY: &str = "history_days";
const RECENT_COST: &str = "recent_cost";
const LEVEL: &str = "level";
const N_ALL: &str = "n_all";
const MED_ALL: &str = "median_all";
const MAD_ALL: &str = "mad_all";
const MAX_ALL: &str = "max_all";
const N_WD: &str = "n_weekday";
const MED_WD: &str = "median_weekday";
const MAD_WD: &str = "mad_weekday";
const MEDIAN: &str = "median";
const MAD: &str = "mad";
const USE_WD: &str = "use_weekday";
const SCORE: &str = "score_raw";
const RESOURCE: &str = "resource_key";
const HOURS: &str = "hours";
const QUAL_LAST: &str = "qualifying_last";
const QUAL_ALL: &str = "qualifying_recent";
const N_RES: &str = "resources";
const COUNTRY: &str = "peer_country";
const BAND: &str = "band";
const AVG: &str = "daily_average";
const PEER_LEVEL: &str = "peer_level";
const PEER_N: &str = "peer_n";
const PEER_DESC: &str = "peer_desc";

/// The as-of date and the windows derived from it, in days since 1970-01-01.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// A, the as-of date.
    a: i32,
    /// First day of the recent window.
    recent_start: i32,
    /// First day of the baseline before the recent window (for the customer's usual spend).
    baseline_start: i32,
    recent_days: i32,
    baseline_days: i32,
    rtc_days: i32,
}

impl Window {
    fn new(as_of: NaiveDate, cfg: &UsageSignalConfig) -> Window {
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

/// Usage signals of every customer as rows of the `anomalies` table, sorted by customer_id,
/// signal, entity and date. `usage` and `customers` have the canonical schemas of schema.rs,
/// `usage_daily` that of the usage_daily table. The orchestrator runs the same parts as separate
/// plans (see [`usage_summary`]); this composes them into one.
pub fn usage_signals(
    usage: LazyFrame,
    usage_daily: LazyFrame,
    customers: LazyFrame,
    as_of: NaiveDate,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let summary = usage_summary(usage.clone(), as_of, cfg).cache();
    let gpu = gpu_daily(usage.clone(), summary.clone(), as_of, cfg);
    sorted_signals(vec![
        summary_signals(summary.clone(), gpu, usage_daily, customers, as_of, cfg),
        round_the_clock_signals(usage, summary, as_of, cfg),
    ])
}

/// The usage lines up to A summed per customer, currency, subscription (entitlement), meter
/// (category, subcategory, name) and region: first day, usage country, and the exact (Decimal)
/// cost in the baseline before the recent window and in the recent window. Every family reads
/// usage through this summary except round_the_clock (per resource and day) and the GPU share of
/// spikes (per subscription and day).
///
/// Plans: collect this first, on its own (about 90x fewer rows than lines: 120k rows for 10.8M
/// usage lines); then [`gpu_daily`] and [`round_the_clock_signals`], which read usage again; then
/// [`summary_signals`]. Before, every family read a cached copy of the priced lines, which held
/// seven text columns of every line in memory while the families ran (2.1 GiB at 10M lines).
/// Sums stay Decimal until the last group-by, so each figure is the exact sum over the lines,
/// whatever the grouping.
pub fn usage_summary(usage: LazyFrame, as_of: NaiveDate, cfg: &UsageSignalConfig) -> LazyFrame {
    let w = Window::new(as_of, cfg);
    let day = || col(DAY);
    // The window sums are sums of columns masked beforehand (adding exact zeros changes no sum),
    // plain aggregations that Polars' streaming group-by runs as they are, rather than filters
    // inside the aggregation.
    let masked = |mask: Expr| {
        when(mask)
            .then(exact(col(us::COST)))
            .otherwise(exact(lit(0.0)))
    };
    usage_lines(usage, &w)
        .select(
            SUMMARY_KEYS
                .map(col)
                .into_iter()
                .chain([
                    col(us::CUSTOMER_COUNTRY),
                    day(),
                    masked(
                        day()
                            .gt_eq(lit(w.baseline_start))
                            .and(day().lt(lit(w.recent_start))),
                    )
                    .alias(BASE_SUM),
                    masked(day().gt_eq(lit(w.recent_start))).alias(RECENT_SUM),
                ])
                .collect::<Vec<_>>(),
        )
        .group_by(SUMMARY_KEYS.map(col))
        .agg([
            // min skips nulls.
            col(us::CUSTOMER_COUNTRY).min(),
            day().min().alias(FIRST),
            col(BASE_SUM).sum(),
            col(RECENT_SUM).sum(),
        ])
}

/// Per spike series (customer, currency, subscription, meter category) and day, the cost of GPU
/// meters, for the days that have any (a spike is labelled GPU when they make most of its cost).
/// `summary` is [`usage_summary`]'s: its distinct meters are matched once, not every line.
pub fn gpu_daily(
    usage: LazyFrame,
    summary: LazyFrame,
    as_of: NaiveDate,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let w = Window::new(as_of, cfg);
    let meter_keys = || METER_KEYS.map(col);
    let gpu = gpu_meters(summary, cfg)
        .filter(col(IS_GPU))
        .select(meter_keys());
    let series_day = || SERIES_DAY.map(col);
    usage_lines(usage, &w)
        .join(
            gpu,
            meter_keys(),
            meter_keys(),
            JoinArgs::new(JoinType::Semi),
        )
        .group_by(series_day())
        .agg([order_free_sum(col(us::COST)).alias(GPU_COST)])
}

/// round_the_clock rows (anomalies columns): reads usage per resource and day, and the
/// customer's usual spend from `summary` ([`usage_summary`]). Collected alone on Polars' streaming
/// engine it took 6.3 s and 1.4 GiB at 10M usage lines; inside a plan with the other families,
/// 13.5 s and 4.8 GiB.
pub fn round_the_clock_signals(
    usage: LazyFrame,
    summary: LazyFrame,
    as_of: NaiveDate,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let w = Window::new(as_of, cfg);
    let history = customer_history(summary.clone(), &w).cache();
    round_the_clock(
        usage_lines(usage, &w),
        usual_spend(summary, history.clone(), &w),
        history,
        &w,
        cfg,
    )
}

/// Every family but round_the_clock (anomalies columns, unsorted): spikes from `usage_daily` and
/// `gpu_daily` ([`gpu_daily`]), new meters, new regions and peer outliers from `summary`
/// ([`usage_summary`]) and the customer master.
pub fn summary_signals(
    summary: LazyFrame,
    gpu_daily: LazyFrame,
    usage_daily: LazyFrame,
    customers: LazyFrame,
    as_of: NaiveDate,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let w = Window::new(as_of, cfg);
    // Cached: several families read each (Polars does not merge differently projected copies).
    let history = customer_history(summary.clone(), &w).cache();
    let level = usual_spend(summary.clone(), history.clone(), &w).cache();
    let parts = [
        usage_spikes(summary.clone(), gpu_daily, usage_daily, &w, cfg),
        new_meters(summary.clone(), history.clone(), level.clone(), &w, cfg),
        new_regions(summary.clone(), history.clone(), level, &w, cfg),
        peer_outliers(summary, history, customers, &w, cfg),
    ];
    // concat fails only on an empty list, which this is not.
    concat(parts, UnionArgs::default()).unwrap_or_else(|_| an::DEF.empty().lazy())
}

/// Signal rows of any families in one table, sorted by customer, signal, entity, date, reason and
/// actual: a total order (no two families share a signal), so the input order never shows.
pub fn sorted_signals(parts: Vec<LazyFrame>) -> LazyFrame {
    concat(parts, UnionArgs::default())
        .unwrap_or_else(|_| an::DEF.empty().lazy())
        .sort(
            // Reason (which names the currency) and actual break the rare ties of a customer
            // billed in two currencies, so the order never depends on group-by order.
            [
                an::CUSTOMER_ID,
                an::SIGNAL,
                an::ENTITY,
                an::DATE,
                an::REASON,
                an::ACTUAL,
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
}

/// Consumption lines up to A with the columns the signals read; text keys without nulls so that
/// joins match missing values with each other. Only Usage charges are consumption (see
/// [`is_consumption`]): a purchase, a tax row, a credit or a correction is money, not usage, and
/// never feeds a baseline, a spike, a new meter or a new region (gross usage, before credits).
fn usage_lines(usage: LazyFrame, w: &Window) -> LazyFrame {
    let text = |c: &'static str| col(c).fill_null(lit("")).alias(c);
    usage
        .filter(
            col(us::USAGE_DATE)
                .cast(DataType::Int32)
                .lt_eq(lit(w.a))
                .and(col(us::CUSTOMER_ID).is_not_null())
                .and(is_consumption()),
        )
        .select([
            col(us::CUSTOMER_ID),
            col(us::CUSTOMER_COUNTRY),
            text(us::CURRENCY),
            text(us::ENTITLEMENT_ID),
            text(us::METER_CATEGORY),
            text(us::METER_SUBCATEGORY),
            text(us::METER_NAME),
            text::lowercase(col(us::REGION).fill_null(lit(""))).alias(us::REGION),
            text(us::RESOURCE_ID),
            text(us::UNIT),
            col(us::QUANTITY).fill_null(lit(0.0)),
            col(us::COST).fill_null(lit(0.0)),
            col(us::USAGE_DATE).cast(DataType::Int32).alias(DAY),
        ])
}

/// The distinct meters (subcategory, name) of a usage summary with `is_gpu`: whether
/// `gpu_patterns` match them.
fn gpu_meters(summary: LazyFrame, cfg: &UsageSignalConfig) -> LazyFrame {
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
/// The usage signals with their score restated as a strength, the convention every family's
/// `score` follows in the anomalies table and the risk score: 1.0 at the spike threshold (a robust
/// z of `spike_score_threshold`), 2.0 at twice it. The raw z stays readable as score x threshold.
pub fn as_strength(signals: LazyFrame, cfg: &UsageSignalConfig) -> LazyFrame {
    let threshold = if cfg.spike_score_threshold > 0.0 {
        cfg.spike_score_threshold
    } else {
        1.0
    };
    signals.with_column(div_const(col(an::SCORE), threshold).alias(an::SCORE))
}

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

/// Per customer: first day of usage, days of history before the recent window, usage country.
fn customer_history(summary: LazyFrame, w: &Window) -> LazyFrame {
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
fn usual_spend(summary: LazyFrame, history: LazyFrame, w: &Window) -> LazyFrame {
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

// ------------------------------------------------------------------------------------------
// usage_spike
// ------------------------------------------------------------------------------------------

fn usage_spikes(
    summary: LazyFrame,
    gpu_daily: LazyFrame,
    usage_daily: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let series = SERIES;
    let series_day_cols = || SERIES_DAY.map(col);
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
            gpu_daily,
            series_day_cols(),
            series_day_cols(),
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col(GPU_COST).fill_null(lit(0.0)))
        .join(
            first.clone(),
            series.map(col),
            series.map(col),
            JoinArgs::new(JoinType::Inner),
        )
        .cache();

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
        .select([col(SID), col(DAY), col(FIRST), col(us::COST), col(GPU_COST)])
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
    let stats = joined.group_by([col(SID), col(DAY)]).agg([
        col(us::COST).first(),
        col(GPU_COST).first(),
        len().cast(DataType::Int64).alias(N_ALL),
        v().median().alias(MED_ALL),
        (v() - v().median()).abs().median().alias(MAD_ALL),
        v().max().alias(MAX_ALL),
        same_wd().cast(DataType::Int64).sum().alias(N_WD),
        v_wd().median().alias(MED_WD),
        (v_wd() - v_wd().median()).abs().median().alias(MAD_WD),
    ]);

    let cap = cfg.score_cap;
    let scored = stats
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
        );

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
    let reason = when(col(MEDIAN).gt(lit(0.0)))
        .then(with_ratio)
        .otherwise(against_zero);

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

// ------------------------------------------------------------------------------------------
// new_meter, gpu_meter
// ------------------------------------------------------------------------------------------

fn new_meters(
    summary: LazyFrame,
    history: LazyFrame,
    level: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let meter = when(col(us::METER_SUBCATEGORY).neq(lit("")))
        .then(col(us::METER_SUBCATEGORY))
        .otherwise(col(us::METER_NAME));
    let meters = summary
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
        .cache();
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

// ------------------------------------------------------------------------------------------
// new_region
// ------------------------------------------------------------------------------------------

fn new_regions(
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

// ------------------------------------------------------------------------------------------
// round_the_clock
// ------------------------------------------------------------------------------------------

fn round_the_clock(
    lines: LazyFrame,
    level: LazyFrame,
    history: LazyFrame,
    w: &Window,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
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
    // Lines without a resource id are counted per meter: one "resource" per customer and meter.
    let resource = || {
        when(col(us::RESOURCE_ID).neq(lit("")))
            .then(text::lowercase(col(us::RESOURCE_ID)))
            .otherwise(concat_str(
                [lit("meter:"), col(us::METER_CATEGORY), col(us::METER_NAME)],
                "/",
                false,
            ))
    };
    let group = [
        us::CUSTOMER_ID,
        us::CURRENCY,
        us::METER_CATEGORY,
        us::METER_NAME,
    ];
    let mut resource_keys: Vec<Expr> = group.map(col).to_vec();
    resource_keys.push(col(RESOURCE));
    let mut resource_day_keys = resource_keys.clone();
    resource_day_keys.push(col(DAY));

    let recent = lines
        .clone()
        .filter(col(DAY).gt_eq(lit(w.recent_start)).and(compute))
        .with_columns([resource().alias(RESOURCE), hours.alias(HOURS)])
        .group_by(resource_day_keys)
        .agg([order_free_sum(col(HOURS)), order_free_sum(col(us::COST))]);
    let full_day = || col(HOURS).gt_eq(lit(cfg.round_the_clock_hours));
    // Every day of the last rtc_days on which the resource existed must be a full day: a VM's
    // daily quantity is already 24 hours on its first day, so a resource that started on A
    // qualifies with that one day (evidence from the first morning), one that started earlier
    // needs each of the last rtc_days.
    let needed = min2(lit(w.a) - col(FIRST) + lit(1), lit(w.rtc_days));
    let per_resource = recent
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
        .cache();

    // New resources only: drop those seen in any usage before the recent window. The history's
    // lines are matched against the flagged resources (a few thousand), so what is held is the
    // flagged set, not the distinct resources of the whole history: that unique set of long
    // resource ids took 4.2 s and 2.9 GiB at 10M usage lines.
    let who = || [col(us::CUSTOMER_ID), col(RESOURCE)];
    let flagged = per_resource.clone().select(who());
    let seen = lines
        .filter(col(DAY).lt(lit(w.recent_start)))
        .select([col(us::CUSTOMER_ID), resource().alias(RESOURCE)])
        .join(flagged, who(), who(), JoinArgs::new(JoinType::Semi))
        .unique(None, UniqueKeepStrategy::Any);
    let fresh = per_resource.join(seen, who(), who(), JoinArgs::new(JoinType::Anti));

    let groups = fresh
        .group_by(group.map(col))
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

// ------------------------------------------------------------------------------------------
// peer_outlier
// ------------------------------------------------------------------------------------------

fn peer_outliers(
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
    let units = summary
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
        .cache();
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
    let scored = cold
        .with_columns([
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
        .with_column(
            ((col(AVG) - col(MEDIAN)) / robust_scale(col(MAD), col(MEDIAN), cfg)).alias(SCORE),
        );
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
    let reason = when(col(MEDIAN).gt(lit(0.0)))
        .then(with_ratio)
        .otherwise(against_zero);
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

const NO_LIMIT_BAND: &str = "none";

/// Size band of a credit limit: "under 1,000", "1,000 to 10,000", "100,000 and over", or
/// NO_LIMIT_BAND when the customer has no credit limit on file.
fn band_expr(limit: Expr, edges: &[f64]) -> Expr {
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

/// A config amount with thousands separators and no decimals when whole: 10000 -> "10,000".
fn plain_amount(x: f64) -> String {
    let whole = x.abs().trunc() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    let frac = x.abs() - x.abs().trunc();
    if frac > 0.0 {
        out.push_str(&format!("{frac:.2}")[1..]);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

// ------------------------------------------------------------------------------------------
// Shared pieces
// ------------------------------------------------------------------------------------------

/// Adds the customer's history days and usual daily spend (0 when it has none).
fn with_history_and_level(lf: LazyFrame, history: LazyFrame, level: LazyFrame) -> LazyFrame {
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
fn robust_scale(mad: Expr, median: Expr, cfg: &UsageSignalConfig) -> Expr {
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
fn new_thing_score(w: &Window, cfg: &UsageSignalConfig) -> Expr {
    let days = (lit(w.a) - col(FIRST) + lit(1)).cast(DataType::Float64);
    let scale = max2(
        col(LEVEL) * lit(cfg.mad_floor_share),
        lit(cfg.abs_floor.max(f64::MIN_POSITIVE)),
    );
    min2(col(RECENT_COST) / days / scale, lit(cfg.score_cap))
}

/// "1,830.00 USD in the last 5 days" (or "on 2026-10-14" for a single day), from RECENT_COST,
/// FIRST and the currency.
fn since_words(w: &Window) -> Expr {
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
fn anomaly_rows(
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

fn max2(a: Expr, b: Expr) -> Expr {
    when(a.clone().gt_eq(b.clone())).then(a).otherwise(b)
}

fn min2(a: Expr, b: Expr) -> Expr {
    when(a.clone().lt_eq(b.clone())).then(a).otherwise(b)
}

/// A day number (days since 1970-01-01) as text in a chrono format.
fn day_text(day: Expr, format: &str) -> Expr {
    day.cast(DataType::Date).dt().strftime(format)
}

fn int_text(x: Expr) -> Expr {
    x.cast(DataType::Int64).cast(DataType::String)
}

/// Zero-padded last `width` digits of a non-negative integer below 10^width.
fn padded(x: Expr, width: u32) -> Expr {
    (x + lit(10_i64.pow(width)))
        .cast(DataType::String)
        .str()
        .tail(lit(width as i64))
}

/// Money as text with thousands separators and 2 decimals: 3212.4 -> "3,212.40", -5.5 -> "-5.50".
/// Built from expressions (no per-row closure): groups of three digits, highest first.
pub fn amount_text(x: Expr) -> Expr {
    let cents = (x.clone().abs() * lit(100.0))
        .round(0, RoundMode::HalfAwayFromZero)
        .cast(DataType::Int64);
    let whole = cents.clone().floor_div(lit(100_i64));
    let group = |k: u32| (whole.clone().floor_div(lit(1000_i64.pow(k)))) % lit(1000_i64);
    // Levels 1..=5 (thousands to quadrillions); the highest group of each branch is unpadded.
    let mut text = whole.clone().cast(DataType::String);
    for level in 1..=5u32 {
        let mut parts = vec![whole
            .clone()
            .floor_div(lit(1000_i64.pow(level)))
            .cast(DataType::String)];
        for k in (0..level).rev() {
            parts.push(lit(","));
            parts.push(padded(group(k), 3));
        }
        text = when(whole.clone().gt_eq(lit(1000_i64.pow(level))))
            .then(concat_str(parts, "", false))
            .otherwise(text);
    }
    let sign = when(x.lt(lit(0.0)).and(cents.clone().gt(lit(0_i64))))
        .then(lit("-"))
        .otherwise(lit(""));
    concat_str(
        [sign, text, lit("."), padded(cents % lit(100_i64), 2)],
        "",
        false,
    )
}

/// A multiple as text: whole from 10 up ("41"), one decimal below ("2.9").
fn ratio_text(r: Expr) -> Expr {
    let tenths = (r.clone() * lit(10.0))
        .round(0, RoundMode::HalfAwayFromZero)
        .cast(DataType::Int64);
    when(r.clone().gt_eq(lit(9.95)))
        .then(int_text(r.round(0, RoundMode::HalfAwayFromZero)))
        .otherwise(concat_str(
            [
                tenths.clone().floor_div(lit(10_i64)).cast(DataType::String),
                lit("."),
                (tenths % lit(10_i64)).cast(DataType::String),
            ],
            "",
            false,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;
    use chrono::{Duration, Weekday};

    /// A = Wednesday 2026-10-14; recent window = 2026-10-08 ..= 2026-10-14 (7 days).
    fn a() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, 14).unwrap()
    }

    fn day(days_before_a: i64) -> NaiveDate {
        a() - Duration::days(days_before_a)
    }

    #[derive(Clone)]
    struct Line {
        customer: &'static str,
        ent: &'static str,
        category: &'static str,
        sub: &'static str,
        name: &'static str,
        region: &'static str,
        resource: &'static str,
        unit: &'static str,
        qty: f64,
        cost: f64,
        date: NaiveDate,
        currency: &'static str,
        country: &'static str,
    }

    /// A D4s v3 VM line of `customer` in westeurope, `days_before_a` days before A.
    fn vm(customer: &'static str, days_before_a: i64, cost: f64) -> Line {
        Line {
            customer,
            ent: "sub1",
            category: "Virtual Machines",
            sub: "Dv3 Series",
            name: "D4s v3",
            region: "westeurope",
            resource: "",
            unit: "1 Hour",
            qty: 0.0,
            cost,
            date: day(days_before_a),
            currency: "USD",
            country: "US",
        }
    }

    fn usage_frame(lines: &[Line]) -> LazyFrame {
        let s = |f: fn(&Line) -> &'static str| lines.iter().map(f).collect::<Vec<_>>();
        let n = lines.len();
        df!(
            us::CUSTOMER_ID => s(|l| l.customer),
            us::CUSTOMER_NAME => s(|l| l.customer),
            us::CUSTOMER_COUNTRY => s(|l| l.country),
            us::INVOICE_NUMBER => vec![None::<&str>; n],
            us::SUBSCRIPTION_ID => vec!["plan"; n],
            us::ENTITLEMENT_ID => s(|l| l.ent),
            us::USAGE_DATE => lines.iter().map(|l| l.date).collect::<Vec<_>>(),
            us::METER_CATEGORY => s(|l| l.category),
            us::METER_SUBCATEGORY => s(|l| l.sub),
            us::METER_NAME => s(|l| l.name),
            us::METER_ID => vec!["m"; n],
            us::REGION => s(|l| l.region),
            us::RESOURCE_ID => s(|l| l.resource),
            us::CHARGE_TYPE => vec!["Usage"; n],
            us::CHARGE_CATEGORY => vec!["Usage"; n],
            us::CHARGE_CLASS => vec![None::<&str>; n],
            us::SUB_ACCOUNT_ID => vec![None::<&str>; n],
            us::UNIT_PRICE => vec![1.0; n],
            us::QUANTITY => lines.iter().map(|l| l.qty).collect::<Vec<_>>(),
            us::UNIT => s(|l| l.unit),
            us::COST => lines.iter().map(|l| l.cost).collect::<Vec<_>>(),
            us::CURRENCY => s(|l| l.currency),
            us::SOURCE_FILE => vec!["f.csv"; n],
            us::SOURCE_LINE => (1..=n as i64).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    /// customers rows: (customer_id, country, credit_limit).
    fn customers_frame(rows: &[(&str, &str, Option<f64>)]) -> LazyFrame {
        let n = rows.len();
        df!(
            cu::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            cu::CUSTOMER_NAME => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            cu::COUNTRY => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            cu::CREATED_DATE => vec![day(100); n],
            cu::VERIFIED => vec![true; n],
            cu::CREDIT_LIMIT => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            cu::SOURCE_FILE => vec!["c.csv"; n],
            cu::SOURCE_LINE => (1..=n as i64).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Row {
        customer: String,
        entity: String,
        signal: String,
        date: String,
        actual: f64,
        expected: f64,
        score: f64,
        reason: String,
    }

    fn run_with(lines: &[Line], customers: LazyFrame, cfg: &UsageSignalConfig) -> Vec<Row> {
        let usage = usage_frame(lines);
        let daily = crate::analysis::usage_daily::usage_daily(usage.clone(), a());
        let df = usage_signals(usage, daily, customers, a(), cfg)
            .collect()
            .unwrap();
        assert_eq!(df.schema().as_ref(), &schema::anomalies::DEF.schema());
        let text = |c: &str| {
            df.column(c)
                .unwrap()
                .cast(&DataType::String)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let num = |c: &str| {
            df.column(c)
                .unwrap()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect::<Vec<_>>()
        };
        let (cust, ent, sig, date, reason) = (
            text(an::CUSTOMER_ID),
            text(an::ENTITY),
            text(an::SIGNAL),
            text(an::DATE),
            text(an::REASON),
        );
        let (actual, expected, score) = (num(an::ACTUAL), num(an::EXPECTED), num(an::SCORE));
        for (f, s) in text(an::FAMILY).iter().zip(text(an::SUPPRESSED)) {
            assert_eq!((f.as_str(), s.as_str()), ("usage", "false"));
        }
        (0..df.height())
            .map(|i| Row {
                customer: cust[i].clone(),
                entity: ent[i].clone(),
                signal: sig[i].clone(),
                date: date[i].clone(),
                actual: actual[i],
                expected: expected[i],
                score: score[i],
                reason: reason[i].clone(),
            })
            .collect()
    }

    fn run(lines: &[Line]) -> Vec<Row> {
        run_with(lines, customers_frame(&[]), &UsageSignalConfig::default())
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn empty_usage_gives_an_empty_anomalies_table() {
        // run() also checks the output schema equals the anomalies table's.
        assert_eq!(run(&[]), vec![]);
    }

    #[test]
    fn spike_is_flagged_with_its_exact_score() {
        // 28 baseline days of 100, except the same weekday (Wednesday) 7, 14, 21, 28 days back:
        // 100, 120, 90, 110. Weekday points sorted 90 100 110 120: median 105; deviations
        // 15 5 5 15, MAD 10; scale = max(1.4826 x 10, 0.1 x 105, 5) = 14.826.
        // A costs 300: score = (300 - 105) / 14.826 = 13.152569...
        let mut lines: Vec<Line> = (1..=28)
            .map(|d| {
                let cost = match d {
                    14 => 120.0,
                    21 => 90.0,
                    28 => 110.0,
                    _ => 100.0,
                };
                vm("c1", d, cost)
            })
            .collect();
        lines.push(vm("c1", 0, 300.0));
        // Usage after A never counts.
        lines.push(vm("c1", -1, 1_000_000.0));
        let rows = run(&lines);
        assert_eq!(rows.len(), 1, "{rows:?}");
        let r = &rows[0];
        assert_eq!(
            (
                r.customer.as_str(),
                r.signal.as_str(),
                r.entity.as_str(),
                r.date.as_str()
            ),
            ("c1", USAGE_SPIKE, "sub1/Virtual Machines", "2026-10-14")
        );
        assert!(close(r.actual, 300.0) && close(r.expected, 105.0));
        assert!(close(r.score, 195.0 / 14.826), "{}", r.score);
        // 300 / 105 = 2.857 -> "2.9x"
        assert_eq!(
            r.reason,
            "Virtual Machines spend 2.9x its 28-day Wednesday median: 300.00 USD on 2026-10-14, subscription sub1"
        );
    }

    #[test]
    fn flat_series_with_zero_mad_uses_the_median_floor() {
        // 1000 a day for 40 days: MAD 0, scale = max(0, 0.1 x 1000, 5) = 100.
        // sub1: A = 2000 -> score (2000 - 1000) / 100 = 10, flagged, finite.
        // sub2: A = 1200 -> score 2, not flagged.
        let mut lines = Vec::new();
        for d in 1..=40 {
            lines.push(vm("flat", d, 1000.0));
            lines.push(Line {
                ent: "sub2",
                ..vm("flat", d, 1000.0)
            });
        }
        lines.push(vm("flat", 0, 2000.0));
        lines.push(Line {
            ent: "sub2",
            ..vm("flat", 0, 1200.0)
        });
        let rows = run(&lines);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].entity, "sub1/Virtual Machines");
        assert!(close(rows[0].score, 10.0) && close(rows[0].expected, 1000.0));
        assert_eq!(
            rows[0].reason,
            "Virtual Machines spend 2.0x its 28-day Wednesday median: 2,000.00 USD on 2026-10-14, subscription sub1"
        );
    }

    #[test]
    fn sparse_series_uses_the_absolute_floor_and_needs_a_new_high() {
        // Lines of 80 only every 4th day (40 days back), nothing in between (zero-filled).
        // For A the Wednesdays 7, 14, 21, 28 days back are 0, 0, 0, 80: median 0, MAD 0,
        // scale = max(0, 0, abs_floor 5) = 5.
        // sparseA: A = 80 -> z = 16 but 80 is no higher than the baseline's largest day: no spike
        //          (the same holds on A-4, also 80).
        // sparseB: A = 400 -> z = 400 / 5 = 80, a new high: flagged, expected 0.
        let mut lines = Vec::new();
        for d in (0..=40).filter(|d| d % 4 == 0) {
            lines.push(Line {
                ent: "sparseA",
                ..vm("sparse", d, 80.0)
            });
            let cost = if d == 0 { 400.0 } else { 80.0 };
            lines.push(Line {
                ent: "sparseB",
                ..vm("sparse", d, cost)
            });
        }
        let rows = run(&lines);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].entity, "sparseB/Virtual Machines");
        assert!(close(rows[0].score, 80.0) && close(rows[0].expected, 0.0));
        assert_eq!(
            rows[0].reason,
            "Virtual Machines spend 400.00 USD on 2026-10-14, subscription sparseB against its 28-day Wednesday median of 0.00 USD"
        );
    }

    fn weekly_batch() -> Vec<Line> {
        // 60 a day, 2000 every Saturday for 8 weeks; the recent Saturday grew to 2100.
        (0..=56)
            .map(|d| {
                let cost = match (d, day(d).weekday()) {
                    (4, _) => 2100.0,
                    (_, Weekday::Sat) => 2000.0,
                    _ => 60.0,
                };
                vm("batch", d, cost)
            })
            .collect()
    }

    #[test]
    fn weekly_batch_job_is_not_flagged_on_its_saturday() {
        // Saturday A-4 against the 4 earlier Saturdays (2000 each): median 2000, MAD 0,
        // scale = max(0, 200, 5) = 200, z = (2100 - 2000) / 200 = 0.5. Weekdays: 60 vs 60.
        assert_eq!(run(&weekly_batch()), vec![]);
        // Without weekday awareness (all 28 days: 24 x 60 and 4 x 2000: median 60, MAD 0,
        // scale = max(0, 6, 5) = 6) the same Saturday scores (2100 - 60) / 6 = 340.
        let cfg = UsageSignalConfig {
            weekday_min_points: 99,
            ..Default::default()
        };
        let rows = run_with(&weekly_batch(), customers_frame(&[]), &cfg);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].date, "2026-10-10");
        assert!(
            close(rows[0].score, 100.0),
            "340 capped at 100: {}",
            rows[0].score
        );
    }

    #[test]
    fn steady_growth_of_two_percent_a_week_is_not_flagged() {
        // cost = 1000 x 1.02^(t/7). On any day the Wednesday points are actual x 1.02^-1..-4:
        // median = actual x (1.02^-2 + 1.02^-3) / 2 = 0.9517 x actual, scale = 0.1 x median
        // (MAD is ~1 %), z = (1 - 0.9517) / 0.09517 = 0.51, far below 6.
        let lines: Vec<Line> = (0..=90)
            .map(|d| vm("grow", d, 1000.0 * 1.02_f64.powf((90 - d) as f64 / 7.0)))
            .collect();
        assert_eq!(run(&lines), vec![]);
    }

    #[test]
    fn large_steady_spender_is_not_flagged() {
        // 49,500 and 50,500 on alternate days; A = 50,500: median <= 50,500, MAD <= 500,
        // scale >= 0.1 x 49,500 = 4,950, z <= 1000 / 4950 = 0.2.
        let lines: Vec<Line> = (0..=60)
            .map(|d| vm("big", d, if d % 2 == 0 { 50_500.0 } else { 49_500.0 }))
            .collect();
        assert_eq!(run(&lines), vec![]);
    }

    #[test]
    fn new_gpu_meter_is_a_gpu_meter_not_a_new_meter() {
        // "gpu": D4s v3 at 20 a day from A-60; NC24s v3 (NCv3 Series) at 366 a day from A-4.
        // History before the window (A-6) = 54 days; usual spend = 20 a day, so
        // scale = max(5, 0.1 x 20) = 5; average day 1830 / 5 = 366; score 366 / 5 = 73.2.
        // "newgpu": first usage A-2, NCasT4_v3 at 10 a day: no history, never used a GPU:
        // flagged for any spend; score (30 / 3) / 5 = 2.
        let mut lines: Vec<Line> = (0..=60).map(|d| vm("gpu", d, 20.0)).collect();
        for d in 0..=4 {
            lines.push(Line {
                sub: "NCv3 Series",
                name: "NC24s v3",
                ..vm("gpu", d, 366.0)
            });
        }
        for d in 0..=2 {
            lines.push(Line {
                sub: "",
                name: "Standard_NCasT4_v3",
                ..vm("newgpu", d, 10.0)
            });
        }
        let rows = run(&lines);
        let gpu: Vec<&Row> = rows.iter().filter(|r| r.signal == GPU_METER).collect();
        assert_eq!(gpu.len(), 2, "{rows:?}");
        assert_eq!(
            (
                gpu[0].customer.as_str(),
                gpu[0].entity.as_str(),
                gpu[0].date.as_str()
            ),
            ("gpu", "Virtual Machines / NCv3 Series", "2026-10-10")
        );
        assert!(close(gpu[0].actual, 1830.0) && close(gpu[0].expected, 0.0));
        assert!(close(gpu[0].score, 73.2), "{}", gpu[0].score);
        assert_eq!(
            gpu[0].reason,
            "New GPU meter Virtual Machines / NCv3 Series: 1,830.00 USD in the last 5 days, no GPU use in 54 days of history"
        );
        assert_eq!(gpu[1].customer, "newgpu");
        assert!(close(gpu[1].score, 2.0));
        assert_eq!(
            gpu[1].reason,
            "New GPU meter Virtual Machines / Standard_NCasT4_v3: 30.00 USD in the last 3 days, on a customer with no earlier usage"
        );
        assert!(rows.iter().all(|r| r.signal != NEW_METER), "{rows:?}");
        // The series' first GPU day is also a spike: 386 against a Saturday median of 20,
        // scale max(0, 2, 5) = 5, z = 366 / 5 = 73.2; labelled GPU (366 of 386 is GPU).
        let spikes: Vec<&Row> = rows.iter().filter(|r| r.signal == USAGE_SPIKE).collect();
        assert_eq!(spikes.len(), 1, "{rows:?}");
        assert!(close(spikes[0].score, 73.2));
        assert_eq!(
            spikes[0].reason,
            "GPU Virtual Machines spend 19x its 28-day Saturday median: 386.00 USD on 2026-10-10, subscription sub1"
        );
    }

    #[test]
    fn new_plain_meter_is_a_new_meter() {
        // 60 days of D4s v3 at 20, then SQL Database at 150 a day for 2 days: 300 >= 100.
        // usual spend 20 -> scale 5; average day 150 -> score 30.
        let mut lines: Vec<Line> = (0..=60).map(|d| vm("nm", d, 20.0)).collect();
        for d in 0..=1 {
            lines.push(Line {
                category: "SQL Database",
                sub: "",
                name: "vCore",
                ..vm("nm", d, 150.0)
            });
        }
        let rows = run(&lines);
        let new: Vec<&Row> = rows.iter().filter(|r| r.signal == NEW_METER).collect();
        assert_eq!(new.len(), 1, "{rows:?}");
        assert_eq!(new[0].entity, "SQL Database / vCore");
        assert!(close(new[0].score, 30.0));
        assert_eq!(
            new[0].reason,
            "New meter SQL Database / vCore: 300.00 USD in the last 2 days, never used in 54 days of history"
        );
    }

    #[test]
    fn gpu_matcher_on_positive_and_negative_names() {
        let names = [
            ("NC24s v3", true),
            ("ND96asr A100 v4", true),
            ("Standard_NV12", true),
            ("NCv3 Series", true),
            ("NCasT4_v3", true),
            ("NVadsA10 v5", true),
            ("HB120rs v3", true),
            ("GPU-accelerated", true),
            ("D4s v3", false),
            ("Dv3 Series", false),
            ("DNS", false),
            ("Azure DNS Zone", false),
            ("Bandwidth", false),
            ("HBase", false),
            ("Azure Stack HCI", false),
            ("NVMe Disk", false),
            ("Standard_D2s_v3", false),
        ];
        let df = df!("name" => names.iter().map(|n| n.0).collect::<Vec<_>>())
            .unwrap()
            .lazy()
            .select([gpu_meter_match(
                col("name"),
                &UsageSignalConfig::default().gpu_patterns,
            )])
            .collect()
            .unwrap();
        let got: Vec<bool> = df
            .column("name")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        for ((name, want), got) in names.iter().zip(got) {
            assert_eq!(got, *want, "{name}");
        }
        assert_eq!(gpu_regex(&[]), None);
    }

    #[test]
    fn round_the_clock_on_new_compute_not_on_an_old_server() {
        // Old server: D4s v3, 24 h every day from A-60 at 48 a day: established, no signal.
        // New resource (id in mixed case): D8s v3 from A-4, "10 Hours" units x 2.4 = 24 h a day,
        // 240 a day. Another new resource on D2s v3 runs 12 h a day: not round the clock.
        // Usual spend 48 a day -> scale max(4.8, 5) = 5; average day 240 -> score 48.
        let mut lines: Vec<Line> = (0..=60)
            .map(|d| Line {
                resource: "/subscriptions/s/vms/old",
                qty: 24.0,
                ..vm("rtc", d, 48.0)
            })
            .collect();
        // Another customer's old meter without resource ids (counted as one resource per meter),
        // 24 h a day from A-60 too: established, no signal.
        lines.extend((0..=60).map(|d| Line {
            name: "D16s v3",
            resource: "",
            qty: 24.0,
            ..vm("rtc-meter", d, 48.0)
        }));
        for d in 0..=4 {
            let resource = if d % 2 == 0 {
                "/subscriptions/s/VMs/New"
            } else {
                "/subscriptions/s/vms/new"
            };
            lines.push(Line {
                name: "D8s v3",
                resource,
                unit: "10 Hours",
                qty: 2.4,
                ..vm("rtc", d, 240.0)
            });
            lines.push(Line {
                name: "D2s v3",
                resource: "/subscriptions/s/vms/half",
                qty: 12.0,
                ..vm("rtc", d, 60.0)
            });
        }
        let rows = run(&lines);
        let rtc: Vec<&Row> = rows
            .iter()
            .filter(|r| r.signal == ROUND_THE_CLOCK)
            .collect();
        assert_eq!(rtc.len(), 1, "{rows:?}");
        assert_eq!(
            (rtc[0].entity.as_str(), rtc[0].date.as_str()),
            ("Virtual Machines / D8s v3", "2026-10-10")
        );
        assert!(close(rtc[0].actual, 1200.0) && close(rtc[0].score, 48.0));
        assert_eq!(
            rtc[0].reason,
            "Compute running 24 h a day for 5 days on 1 new resource (Virtual Machines, D8s v3): 1,200.00 USD in the last 5 days"
        );
    }

    #[test]
    fn round_the_clock_fires_on_the_first_day_of_new_compute_of_an_established_customer() {
        // "est": a D4s v3 server 10 h a day from A-60 (history 54 days, usual spend 48 a day).
        // On A it starts two new GPU nodes at 24 h: one day is enough (a VM's first day already
        // has its 24 hours). A third new node started on A-1 ran 24 h then 20 h on A: no.
        // "fresh": a customer whose first usage is A-1 runs a new node 24 h a day: every server of
        // a new customer is new, so no signal.
        let mut lines: Vec<Line> = (0..=60)
            .map(|d| Line {
                resource: "/subscriptions/s/vms/old",
                qty: 10.0,
                ..vm("est", d, 48.0)
            })
            .collect();
        for node in ["/subscriptions/s/vms/gpu1", "/subscriptions/s/vms/gpu2"] {
            lines.push(Line {
                name: "NC24s v3",
                resource: node,
                qty: 24.0,
                ..vm("est", 0, 73.44)
            });
        }
        for (d, qty) in [(1, 24.0), (0, 20.0)] {
            lines.push(Line {
                name: "NC6s v3",
                resource: "/subscriptions/s/vms/gpu3",
                qty,
                ..vm("est", d, 60.0)
            });
        }
        for d in 0..=1 {
            lines.push(Line {
                resource: "/subscriptions/f/vms/a",
                qty: 24.0,
                ..vm("fresh", d, 100.0)
            });
        }
        let rows = run(&lines);
        let rtc: Vec<&Row> = rows
            .iter()
            .filter(|r| r.signal == ROUND_THE_CLOCK)
            .collect();
        assert_eq!(rtc.len(), 1, "{rows:?}");
        assert_eq!(
            (
                rtc[0].customer.as_str(),
                rtc[0].entity.as_str(),
                rtc[0].date.as_str()
            ),
            ("est", "Virtual Machines / NC24s v3", "2026-10-14")
        );
        // 146.88 on one day over max(0.1 x 48, 5) = 5: 29.376.
        assert!(close(rtc[0].actual, 146.88) && close(rtc[0].score, 29.376));
        assert_eq!(
            rtc[0].reason,
            "Compute running 24 h a day for 1 day on 2 new resources (Virtual Machines, NC24s v3): 146.88 USD on 2026-10-14"
        );
    }

    #[test]
    fn summary_sums_each_window_exactly_and_keeps_the_first_day() {
        // A = 2026-10-14; recent window from A-6, baseline (28 days) from.
        // Lines of one VM meter: A-40 (before the baseline: first day only), A-20 and A-7
        // (baseline), A-6 and A (recent), A+1 (after A: ignored). 0.1 + 0.2 is exactly 0.3 here,
        // as Decimal, where a float sum would give 0.30000000000000004.
        let lines = [
            vm("c1", 40, 1000.0),
            vm("c1", 20, 0.1),
            vm("c1", 7, 0.2),
            vm("c1", 6, 5.25),
            vm("c1", 0, 4.75),
            vm("c1", -1, 999.0),
            Line {
                region: "NorthEurope",
                country: "IE",
                ..vm("c1", 3, 7.0)
            },
        ];
        let df = usage_summary(usage_frame(&lines), a(), &UsageSignalConfig::default())
            .sort([us::REGION], SortMultipleOptions::default())
            .collect()
            .unwrap();
        assert_eq!(df.height(), 2);
        let text = |c: &str| -> Vec<String> {
            let s = df.column(c).unwrap().as_materialized_series().clone();
            s.str()
                .unwrap()
                .iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect()
        };
        let num = |c: &str| -> Vec<f64> {
            let s = df.column(c).unwrap().cast(&DataType::Float64).unwrap();
            s.f64().unwrap().into_no_null_iter().collect()
        };
        assert_eq!(text(us::REGION), ["northeurope", "westeurope"]);
        assert_eq!(text(us::CUSTOMER_COUNTRY), ["IE", "US"]);
        let days_since_1970 =
            |d: NaiveDate| (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as f64;
        assert_eq!(
            num(FIRST),
            [days_since_1970(day(3)), days_since_1970(day(40))]
        );
        assert_eq!(num(BASE_SUM), [0.0, 0.3]);
        assert_eq!(num(RECENT_SUM), [7.0, 10.0]);
        let base = df.column(BASE_SUM).unwrap().dtype().clone();
        assert!(matches!(base, DataType::Decimal(_, _)), "{base:?}");
    }

    #[test]
    fn parts_collected_apart_give_the_same_signals() {
        // The orchestrator collects the summary first, then round_the_clock and the GPU share,
        // then the rest from those frames; the rows must be those of usage_signals. The lines
        // make a spike, a GPU meter, a new region and round-the-clock compute.
        let mut lines: Vec<Line> = (8..=40).map(|d| vm("c1", d, 100.0)).collect();
        lines.push(vm("c1", 2, 900.0));
        for d in 0..=4 {
            lines.push(Line {
                sub: "NCv3 Series",
                name: "NC6s v3",
                resource: "/subscriptions/s/vms/gpu",
                qty: 24.0,
                region: "eastus",
                ..vm("c1", d, 300.0)
            });
        }
        let usage = usage_frame(&lines);
        let daily = crate::analysis::usage_daily::usage_daily(usage.clone(), a());
        let cfg = UsageSignalConfig::default();
        let customers = customers_frame(&[]);
        let whole = usage_signals(usage.clone(), daily.clone(), customers.clone(), a(), &cfg)
            .collect()
            .unwrap();
        let summary = usage_summary(usage.clone(), a(), &cfg)
            .collect()
            .unwrap()
            .lazy();
        let rtc = round_the_clock_signals(usage.clone(), summary.clone(), a(), &cfg)
            .collect()
            .unwrap()
            .lazy();
        let gpu = gpu_daily(usage, summary.clone(), a(), &cfg)
            .collect()
            .unwrap()
            .lazy();
        let apart = sorted_signals(vec![
            summary_signals(summary, gpu, daily, customers, a(), &cfg),
            rtc,
        ])
        .collect()
        .unwrap();
        let signals: Vec<String> = whole
            .column(an::SIGNAL)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect();
        for s in [USAGE_SPIKE, GPU_METER, NEW_REGION, ROUND_THE_CLOCK] {
            assert!(signals.iter().any(|x| x == s), "{s} missing: {signals:?}");
        }
        assert!(whole.equals_missing(&apart), "{whole}\n{apart}");
    }

    #[test]
    fn new_region_is_flagged_and_usage_after_a_is_ignored() {
        // 60 days in westeurope at 100; southeastasia from A-2 at 180 a day = 540.
        // Usual spend 100 -> scale max(10, 5) = 10; average day 180 -> score 18.
        // brazilsouth appears only after A: ignored.
        let mut lines: Vec<Line> = (0..=60).map(|d| vm("reg", d, 100.0)).collect();
        for d in 0..=2 {
            lines.push(Line {
                region: "southeastasia",
                ..vm("reg", d, 180.0)
            });
        }
        lines.push(Line {
            region: "brazilsouth",
            ..vm("reg", -1, 10_000.0)
        });
        let rows = run(&lines);
        let regions: Vec<&Row> = rows.iter().filter(|r| r.signal == NEW_REGION).collect();
        assert_eq!(regions.len(), 1, "{rows:?}");
        assert_eq!(
            (regions[0].entity.as_str(), regions[0].date.as_str()),
            ("southeastasia", "2026-10-12")
        );
        assert!(close(regions[0].actual, 540.0) && close(regions[0].score, 18.0));
        assert_eq!(
            regions[0].reason,
            "New region southeastasia: 540.00 USD in the last 3 days, never used in 54 days of history"
        );
        assert!(
            rows.iter().all(|r| r.date.as_str() <= "2026-10-14"),
            "{rows:?}"
        );
    }

    #[test]
    fn cold_start_customer_is_compared_with_peers() {
        // Six established DE customers (credit limit 5,000: band 1,000 to 10,000) spending
        // 40, 45, 50, 55, 60, 65 a day: median 52.5; deviations 12.5 7.5 2.5 2.5 7.5 12.5,
        // MAD 7.5; scale = max(1.4826 x 7.5 = 11.1195, 5.25, 5) = 11.1195.
        // "fake" (from A-2, limit 2,000) spends 1,000 a day: 1000 >= 5 x 52.5 and
        // score = (1000 - 52.5) / 11.1195 = 85.2106...; "honest" spends 60 a day: not flagged.
        let mut lines = Vec::new();
        let mut customers = Vec::new();
        let peers = ["p1", "p2", "p3", "p4", "p5", "p6"];
        for (i, p) in peers.iter().enumerate() {
            for d in 0..=60 {
                lines.push(Line {
                    currency: "EUR",
                    country: "DE",
                    ..vm(p, d, 40.0 + 5.0 * i as f64)
                });
            }
            customers.push((*p, "DE", Some(5_000.0)));
        }
        for d in 0..=2 {
            lines.push(Line {
                currency: "EUR",
                country: "DE",
                ..vm("fake", d, 1000.0)
            });
            lines.push(Line {
                currency: "EUR",
                country: "DE",
                ..vm("honest", d, 60.0)
            });
        }
        customers.push(("fake", "de", Some(2_000.0)));
        customers.push(("honest", "DE", Some(3_000.0)));
        // "nolimit" (no credit limit: a band without peers) falls back to the 6 DE peers:
        // 500 a day, score (500 - 52.5) / 11.1195 = 40.2446...
        for d in 0..=2 {
            lines.push(Line {
                currency: "EUR",
                country: "DE",
                ..vm("nolimit", d, 500.0)
            });
        }
        customers.push(("nolimit", "DE", None));
        let rows = run_with(
            &lines,
            customers_frame(&customers),
            &UsageSignalConfig::default(),
        );
        assert_eq!(rows.len(), 2, "{rows:?}");
        let fallback = &rows[1];
        assert_eq!(
            (fallback.customer.as_str(), fallback.entity.as_str()),
            ("nolimit", "peers DE")
        );
        assert!(close(fallback.score, 447.5 / 11.1195), "{}", fallback.score);
        assert_eq!(
            fallback.reason,
            "New customer (3 days of usage) spending 500.00 EUR a day, 9.5x the median of 6 peers (DE): 52.50 EUR a day"
        );
        let r = &rows[0];
        assert_eq!(
            (
                r.customer.as_str(),
                r.signal.as_str(),
                r.entity.as_str(),
                r.date.as_str()
            ),
            (
                "fake",
                PEER_OUTLIER,
                "peers DE, credit limit 1,000 to 10,000",
                "2026-10-14"
            )
        );
        assert!(close(r.actual, 1000.0) && close(r.expected, 52.5));
        assert!(close(r.score, 947.5 / 11.1195), "{}", r.score);
        // 1000 / 52.5 = 19.05 -> "19x"
        assert_eq!(
            r.reason,
            "New customer (3 days of usage) spending 1,000.00 EUR a day, 19x the median of 6 peers (DE, credit limit 1,000 to 10,000): 52.50 EUR a day"
        );
    }

    #[test]
    fn size_bands_follow_the_credit_limit_edges() {
        let limits = [
            None,
            Some(999.0),
            Some(1_000.0),
            Some(9_999.0),
            Some(10_000.0),
        ];
        let df = df!("limit" => limits.to_vec())
            .unwrap()
            .lazy()
            .select([band_expr(col("limit"), &[10_000.0, 1_000.0]).alias("band")])
            .collect()
            .unwrap();
        let got: Vec<&str> = df
            .column("band")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        assert_eq!(
            got,
            [
                NO_LIMIT_BAND,
                "under 1,000",
                "1,000 to 10,000",
                "1,000 to 10,000",
                "10,000 and over"
            ]
        );
    }

    #[test]
    fn amounts_have_thousands_separators_and_two_decimals() {
        let values = [
            0.0,
            5.5,
            -5.5,
            999.994,
            999.999,
            3212.4,
            1_234_567.891,
            1e12,
            -0.001,
        ];
        let df = df!("x" => values.to_vec())
            .unwrap()
            .lazy()
            .select([amount_text(col("x")).alias("x")])
            .collect()
            .unwrap();
        let got: Vec<&str> = df
            .column("x")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect();
        assert_eq!(
            got,
            [
                "0.00",
                "5.50",
                "-5.50",
                "999.99",
                "1,000.00",
                "3,212.40",
                "1,234,567.89",
                "1,000,000,000,000.00",
                "0.00"
            ]
        );
        assert_eq!(plain_amount(10_000.0), "10,000");
        assert_eq!(plain_amount(1_500.5), "1,500.50");
    }

    #[test]
    fn default_toml_section_equals_the_defaults() {
        let text = crate::config::DEFAULT_TOML;
        let start = text
            .find("[usage_signals]")
            .expect("section in default.toml");
        let body = &text[start + "[usage_signals]".len()..];
        let end = body.find("\n[").unwrap_or(body.len());
        let parsed: UsageSignalConfig = toml::from_str(&body[..end]).unwrap();
        assert_eq!(parsed, UsageSignalConfig::default());
    }

    #[test]
    fn strength_is_one_at_the_spike_threshold() {
        let cfg = UsageSignalConfig::default();
        let rows = df!(an::SCORE => [6.0f64, 12.0, 3.0]).unwrap().lazy();
        let out = as_strength(rows, &cfg).collect().unwrap();
        let v: Vec<f64> = out
            .column(an::SCORE)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        // threshold 6: 6 -> 1.0, 12 -> 2.0, 3 -> 0.5.
        assert_eq!(v, [1.0, 2.0, 0.5]);
    }
}
