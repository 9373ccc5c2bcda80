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
//!
//! Layout: this file holds the config, the windows, the entry points the orchestrator calls (the
//! summary, the GPU daily cost, the signal plans) and the pieces every signal shares (history,
//! usual spend, scales, the anomalies row); one file per signal: `spikes` (usage_spike), `meters`
//! (new_meter, gpu_meter and the GPU matcher), `regions` (new_region), `round_the_clock`, `peers`
//! (peer_outlier). The words and numbers of the reasons come from `anomalies::evidence`.

mod meters;
mod peers;
mod regions;
mod round_the_clock;
mod spikes;
#[cfg(test)]
mod tests;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::anomalies::evidence::{amount_text, day_text, int_text};
use crate::analysis::reasons::FAMILY_USAGE;
use crate::analysis::{div_const, exact, order_free_sum, text};
use crate::ingest::usage::is_consumption;
use crate::schema::{anomalies as an, usage as us};

pub use meters::{gpu_meter_match, gpu_regex};
use meters::{gpu_meters, new_meters};
use peers::peer_outliers;
use regions::new_regions;
use round_the_clock::round_the_clock;
use spikes::usage_spikes;

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
