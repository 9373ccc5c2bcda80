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
//! Layout: this file holds the entry points the orchestrator calls (the summary, the GPU daily
//! cost, the signal plans); `config` the `[usage_signals]` section; `shared` what every signal
//! uses (working column names, the windows, history, usual spend, scales, the anomalies row); one
//! file per signal: `spikes` (usage_spike), `meters` (new_meter, gpu_meter and the GPU matcher),
//! `regions` (new_region), `round_the_clock`, `peers` (peer_outlier). Signals import `shared` and
//! `config`, never this file, so the modules form no cycle. The words and numbers of the reasons
//! come from `anomalies::evidence`.

mod config;
mod meters;
mod peers;
mod regions;
mod round_the_clock;
mod shared;
mod spikes;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::{div_const, exact, order_free_sum};
use crate::ingest::usage::is_consumption;
use crate::schema::{anomalies as an, usage as us};

pub use config::UsageSignalConfig;
pub use meters::{gpu_meter_match, gpu_regex};
use meters::{gpu_meters, new_meters};
use peers::peer_outliers;
use regions::new_regions;
use round_the_clock::{round_the_clock, round_the_clock_reduced};
use shared::{
    customer_history, usual_spend, Window, BASE_SUM, DAY, FIRST, GPU_COST, IS_GPU, METER_KEYS,
    RECENT_SUM, SERIES_DAY, SUMMARY_KEYS,
};
use spikes::usage_spikes;

/// The working columns of the frames a cluster run gives in place of [`usage_summary`],
/// [`gpu_daily`]'s lines and round_the_clock's resource days (see `cluster::signal_reductions`).
pub mod columns {
    pub use super::shared::{
        BASE_SUM, DAY, FIRST, GPU_COST, HOURS, METER_KEYS, RECENT_SUM, RESOURCE, SERIES_DAY,
        SUMMARY_KEYS,
    };
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
/// whatever the grouping. The orchestrator collects [`usage_groups`] and takes this summary
/// ([`summary_of_groups`]) and usage_daily's series from it: one scan of usage for both.
pub fn usage_summary(usage: LazyFrame, as_of: NaiveDate, cfg: &UsageSignalConfig) -> LazyFrame {
    summary_of_groups(usage_groups(usage, as_of, cfg))
}

/// The consumption lines up to A, with or without a customer, grouped on the summary's keys as
/// they are (a missing value its own key; the region lower case): the summary's columns per
/// group. [`summary_of_groups`] gives [`usage_summary`] from it, and usage_daily's series (per
/// customer, subscription, meter category and currency, which tell a missing value from an empty
/// one) come from it too (`usage_daily::series_of_groups`): about as many rows as the summary.
pub fn usage_groups(usage: LazyFrame, as_of: NaiveDate, cfg: &UsageSignalConfig) -> LazyFrame {
    let w = Window::new(as_of, cfg);
    let day = || col(DAY);
    // The window sums are sums of columns masked beforehand (adding exact zeros changes no sum),
    // plain aggregations that Polars' streaming group-by runs as they are, rather than filters
    // inside the aggregation.
    let masked = |mask: Expr| {
        when(mask)
            .then(exact(col(us::COST).fill_null(lit(0.0))))
            .otherwise(exact(lit(0.0)))
    };
    // Regions are lower case in the canonical table (schema.rs), as ingest writes them: lowering
    // them again here and in `usage_lines` cost 0.5 s of CPU at 10.8M usage lines.
    let keys = SUMMARY_KEYS.map(col);
    usage
        .filter(
            col(us::USAGE_DATE)
                .cast(DataType::Int32)
                .lt_eq(lit(w.a))
                .and(is_consumption()),
        )
        .select(
            keys.into_iter()
                .chain([
                    col(us::CUSTOMER_COUNTRY),
                    col(us::USAGE_DATE).cast(DataType::Int32).alias(DAY),
                    col(us::COST),
                ])
                .collect::<Vec<_>>(),
        )
        .with_columns([
            masked(
                day()
                    .gt_eq(lit(w.baseline_start))
                    .and(day().lt(lit(w.recent_start))),
            )
            .alias(BASE_SUM),
            masked(day().gt_eq(lit(w.recent_start))).alias(RECENT_SUM),
        ])
        .group_by(SUMMARY_KEYS.map(col))
        .agg(summary_sums(DAY))
}

/// What the summary holds per group, the first day the least of `day`; the same over groups of
/// groups (min of minima, exact sums of exact sums).
fn summary_sums(day: &str) -> [Expr; 4] {
    [
        // min skips nulls.
        col(us::CUSTOMER_COUNTRY).min(),
        col(day).min().alias(FIRST),
        col(BASE_SUM).sum(),
        col(RECENT_SUM).sum(),
    ]
}

/// [`usage_summary`] from [`usage_groups`]: the groups with a customer, their text keys without
/// nulls (joins then match missing values with each other), regrouped where that made two keys
/// one (a missing subscription and an empty one).
pub fn summary_of_groups(groups: LazyFrame) -> LazyFrame {
    let [customer, texts @ ..] = SUMMARY_KEYS;
    groups
        .filter(col(customer).is_not_null())
        .with_columns(
            texts
                .iter()
                .map(|c| col(*c).fill_null(lit("")))
                .collect::<Vec<_>>(),
        )
        .group_by(SUMMARY_KEYS.map(col))
        .agg(summary_sums(FIRST))
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

/// round_the_clock rows (as [`round_the_clock_signals`]) from reductions rather than lines:
/// `resource_days`, the recent window's compute lines per resource and day (the keys customer_id,
/// currency, meter_category, meter_name, resource and day, `hours` and `cost` as Float64 exact
/// sums), and `seen`, the (customer_id, resource) pairs with usage before the recent window. What
/// a cluster run gives (see `cluster::signal_reductions`).
pub fn round_the_clock_from_reductions(
    resource_days: LazyFrame,
    seen: LazyFrame,
    summary: LazyFrame,
    as_of: NaiveDate,
    cfg: &UsageSignalConfig,
) -> LazyFrame {
    let w = Window::new(as_of, cfg);
    let history = customer_history(summary.clone(), &w).cache();
    round_the_clock_reduced(
        resource_days,
        seen,
        usual_spend(summary, history.clone(), &w),
        history,
        &w,
        cfg,
    )
}

/// The distinct GPU meters of a summary ([`usage_summary`]): their subcategory and name (empty
/// for none), sorted. [`gpu_daily`] reads the lines of these meters; a cluster run names them in
/// its SQL.
pub fn gpu_meter_keys(summary: LazyFrame, cfg: &UsageSignalConfig) -> LazyFrame {
    gpu_meters(summary, cfg)
        .filter(col(IS_GPU))
        .select(METER_KEYS.map(col))
        .sort(METER_KEYS, SortMultipleOptions::default())
}

/// The as-of date, the first day of the recent window and the first day of the baseline before
/// it, as the signals count them (for the SQL of a cluster run).
pub fn window_dates(as_of: NaiveDate, cfg: &UsageSignalConfig) -> [NaiveDate; 3] {
    let w = Window::new(as_of, cfg);
    let date = |d: i32| NaiveDate::from_num_days_from_ce_opt(d + 719_163).unwrap_or(as_of);
    [date(w.a), date(w.recent_start), date(w.baseline_start)]
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
            text(us::REGION),
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
