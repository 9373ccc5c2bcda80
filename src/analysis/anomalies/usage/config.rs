//! Section `[usage_signals]` of the config: the thresholds of the usage signals.

use serde::{Deserialize, Serialize};

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
