//! Risk scores (SPEC 4.4): one row per customer with usage (an exposure row) or any anomaly, from
//! the anomalies table, the customers table (names), the exposure per customer and currency, and
//! the analysts' dispositions. Into risk_scores, and from it the rows of
//! actions/risk_review.csv and the risk tiers that drive dunning.
//!
//! Arithmetic: each unsuppressed anomaly has strength = its score clamped to [0, max_strength]
//! (a missing score counts 1.0) and contributes weight(signal) x strength. A signal counts once
//! per customer, with its strongest row, so a repeated signal cannot pile up. Contributions are
//! summed per family and capped by the family's cap (each family column shows the capped figure,
//! rounded to cents); risk_score = min(100, sum of the family columns). Tiers: critical from
//! `tier_critical`, high from `tier_high`, medium from `tier_medium`, else low; a valid fraud
//! verdict of an analyst makes the customer critical whatever its score.
//!
//! top_reasons: the reasons of the `top_reasons` strongest contributing signals, strongest first,
//! joined with "; " (an analyst's fraud verdict comes first). exposure: the customer's exposure in
//! its one currency; a customer with exposure in several currencies shows the currency with the
//! largest exposure (amounts in different currencies are never added).

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::feedback::{valid_dispositions, VERDICT_FRAUD};
use crate::analysis::anomalies::payment::unique_customers;
use crate::analysis::reasons::{self, FAMILIES};
use crate::schema::{
    anomalies as an, customers as cu, dispositions as di, risk_review as rv, risk_scores as rs,
};

pub const TIER_LOW: &str = "low";
pub const TIER_MEDIUM: &str = "medium";
pub const TIER_HIGH: &str = "high";
pub const TIER_CRITICAL: &str = "critical";
/// Tiers from least to most severe.
pub const TIERS: [&str; 4] = [TIER_LOW, TIER_MEDIUM, TIER_HIGH, TIER_CRITICAL];

/// 0 for low up to 3 for critical; None for a word that is no tier.
pub fn tier_rank(tier: &str) -> Option<usize> {
    let t = tier.trim().to_ascii_lowercase();
    TIERS.iter().position(|x| *x == t)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Points a signal adds at strength 1.0, per reason code.
    pub weights: SignalWeights,
    /// Most points a family can add, however many of its signals fire.
    pub family_caps: FamilyCaps,
    /// Anomaly scores are clamped to this strength before weighting.
    pub max_strength: f64,
    /// Lowest risk_score of the medium tier.
    pub tier_medium: f64,
    /// Lowest risk_score of the high tier.
    pub tier_high: f64,
    /// Lowest risk_score of the critical tier.
    pub tier_critical: f64,
    /// How many reasons top_reasons lists.
    pub top_reasons: usize,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            weights: SignalWeights::default(),
            family_caps: FamilyCaps::default(),
            max_strength: 2.0,
            tier_medium: 25.0,
            tier_high: 50.0,
            tier_critical: 75.0,
            top_reasons: 3,
        }
    }
}

/// One weight per reason code (reasons.rs); a field per code so a typo in a config is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalWeights {
    pub usage_spike: f64,
    pub new_meter: f64,
    pub gpu_meter: f64,
    pub round_the_clock: f64,
    pub new_region: f64,
    pub peer_outlier: f64,
    pub activity_burst: f64,
    pub new_caller: f64,
    pub role_assignment: f64,
    pub new_ip: f64,
    pub failed_ops_burst: f64,
    pub multi_region_deploy: f64,
    pub spending_limit_raised: f64,
    pub new_user: f64,
    pub password_reset: f64,
    pub prepaid_instrument: f64,
    pub usage_before_payment: f64,
    pub fast_new_customer: f64,
    pub unverified: f64,
    pub over_credit_limit: f64,
    pub fraud_event: f64,
}

impl Default for SignalWeights {
    fn default() -> Self {
        // Calibrated so that the crypto-mining, stolen-card and account-takeover profiles reach
        // high or critical while any one weak signal stays low (tests below).
        SignalWeights {
            usage_spike: 12.0,
            new_meter: 8.0,
            gpu_meter: 15.0,
            round_the_clock: 15.0,
            new_region: 8.0,
            peer_outlier: 10.0,
            activity_burst: 10.0,
            new_caller: 10.0,
            role_assignment: 12.0,
            new_ip: 6.0,
            failed_ops_burst: 8.0,
            multi_region_deploy: 15.0,
            spending_limit_raised: 12.0,
            new_user: 6.0,
            password_reset: 8.0,
            prepaid_instrument: 12.0,
            usage_before_payment: 12.0,
            fast_new_customer: 12.0,
            unverified: 8.0,
            over_credit_limit: 10.0,
            fraud_event: 40.0,
        }
    }
}

impl SignalWeights {
    /// The weight of a reason code; None for a code without a weight (it then adds nothing).
    pub fn weight(&self, code: &str) -> Option<f64> {
        use reasons::*;
        let w = match code {
            USAGE_SPIKE => self.usage_spike,
            NEW_METER => self.new_meter,
            GPU_METER => self.gpu_meter,
            ROUND_THE_CLOCK => self.round_the_clock,
            NEW_REGION => self.new_region,
            PEER_OUTLIER => self.peer_outlier,
            ACTIVITY_BURST => self.activity_burst,
            NEW_CALLER => self.new_caller,
            ROLE_ASSIGNMENT => self.role_assignment,
            NEW_IP => self.new_ip,
            FAILED_OPS_BURST => self.failed_ops_burst,
            MULTI_REGION_DEPLOY => self.multi_region_deploy,
            SPENDING_LIMIT_RAISED => self.spending_limit_raised,
            NEW_USER => self.new_user,
            PASSWORD_RESET => self.password_reset,
            PREPAID_INSTRUMENT => self.prepaid_instrument,
            USAGE_BEFORE_PAYMENT => self.usage_before_payment,
            FAST_NEW_CUSTOMER => self.fast_new_customer,
            UNVERIFIED => self.unverified,
            OVER_CREDIT_LIMIT => self.over_credit_limit,
            FRAUD_EVENT => self.fraud_event,
            _ => return None,
        };
        Some(w)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FamilyCaps {
    pub usage: f64,
    pub activity: f64,
    pub payment: f64,
    pub fraud: f64,
}

impl Default for FamilyCaps {
    fn default() -> Self {
        FamilyCaps {
            usage: 50.0,
            activity: 50.0,
            payment: 50.0,
            fraud: 80.0,
        }
    }
}

impl FamilyCaps {
    pub fn cap(&self, family: &str) -> Option<f64> {
        match family {
            reasons::FAMILY_USAGE => Some(self.usage),
            reasons::FAMILY_ACTIVITY => Some(self.activity),
            reasons::FAMILY_PAYMENT => Some(self.payment),
            reasons::FAMILY_FRAUD => Some(self.fraud),
            _ => None,
        }
    }
}

// Working columns.
const CONTRIB: &str = "_contribution";
const VERDICT_TEXT: &str = "_verdict";
const TOP: &str = "_top";

/// Exposure input columns: customer_id, currency, exposure (Float64).
pub const EXPOSURE_CUSTOMER_ID: &str = rs::CUSTOMER_ID;
pub const EXPOSURE_CURRENCY: &str = rs::CURRENCY;
pub const EXPOSURE: &str = rs::EXPOSURE;

/// The risk_scores table (schema.rs), sorted by risk_score descending, then customer_id.
pub fn risk_scores(
    anomalies: LazyFrame,
    customers: LazyFrame,
    exposure: LazyFrame,
    dispositions: LazyFrame,
    as_of: NaiveDate,
    cfg: &RiskConfig,
) -> LazyFrame {
    // Unknown signals and families weigh nothing.
    let weight = lookup(
        col(an::SIGNAL),
        reasons::ALL
            .iter()
            .map(|r| (r.code, lit(cfg.weights.weight(r.code).unwrap_or(0.0))))
            .collect(),
        lit(0.0),
    );
    let cap = lookup(
        col(an::FAMILY),
        FAMILIES
            .iter()
            .map(|f| (*f, lit(cfg.family_caps.cap(f).unwrap_or(0.0))))
            .collect(),
        lit(0.0),
    );
    let strength = col(an::SCORE)
        .fill_null(lit(1.0))
        .fill_nan(lit(1.0))
        .clip(lit(0.0), lit(cfg.max_strength.max(0.0)));

    // The strongest row of each signal per customer.
    let per_signal = anomalies
        .clone()
        .filter(col(an::SUPPRESSED).fill_null(lit(false)).not())
        .with_column((weight * strength).alias(CONTRIB))
        .sort(
            [an::CUSTOMER_ID, an::SIGNAL, CONTRIB, an::DATE, an::ENTITY, an::REASON],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, false, true, true, false, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unique_stable(
            Some(cols([an::CUSTOMER_ID, an::SIGNAL])),
            UniqueKeepStrategy::First,
        );

    let family_cols: Vec<Expr> = FAMILIES
        .iter()
        .map(|f| {
            col(CONTRIB)
                .filter(col(an::FAMILY).eq(lit(*f)))
                .sum()
                .alias(*f)
        })
        .collect();
    let families = per_signal
        .clone()
        .group_by([col(an::CUSTOMER_ID), col(an::FAMILY)])
        .agg([col(CONTRIB).sum()])
        .with_column(
            when(col(CONTRIB).gt(cap.clone()))
                .then(cap)
                .otherwise(col(CONTRIB))
                .round(2, RoundMode::HalfAwayFromZero)
                .alias(CONTRIB),
        )
        .group_by([col(an::CUSTOMER_ID)])
        .agg(family_cols);

    let top = per_signal
        .filter(col(CONTRIB).gt(lit(0.0)))
        .group_by([col(an::CUSTOMER_ID)])
        .agg([col(an::REASON)
            .sort_by(
                [col(CONTRIB), col(an::SIGNAL)],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .head(Some(cfg.top_reasons))
            .str()
            .join("; ", true)
            .alias(TOP)]);

    let suppressed = anomalies
        .clone()
        .group_by([col(an::CUSTOMER_ID)])
        .agg([col(an::SUPPRESSED)
            .fill_null(lit(false))
            .cast(DataType::UInt32)
            .sum()
            .alias(rs::SUPPRESSED_COUNT)]);

    let verdicts = valid_dispositions(dispositions, as_of, &[VERDICT_FRAUD])
        .with_column(
            concat_str(
                [
                    lit("An analyst marked this customer as fraud"),
                    when(col(di::ANALYST).is_null())
                        .then(lit(""))
                        .otherwise(concat_str([lit(" ("), col(di::ANALYST), lit(")")], "", false)),
                    when(col(di::NOTE).is_null())
                        .then(lit(""))
                        .otherwise(concat_str([lit(": "), col(di::NOTE)], "", false)),
                ],
                "",
                false,
            )
            .alias(VERDICT_TEXT),
        )
        .group_by([col(di::CUSTOMER_ID)])
        .agg([col(VERDICT_TEXT).min()]);

    let exposure_one = exposure
        .filter(col(EXPOSURE_CUSTOMER_ID).is_not_null())
        .group_by([col(EXPOSURE_CUSTOMER_ID), col(EXPOSURE_CURRENCY)])
        .agg([col(EXPOSURE).sum()])
        .sort(
            [EXPOSURE_CUSTOMER_ID, EXPOSURE, EXPOSURE_CURRENCY],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, true, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unique_stable(
            Some(cols([EXPOSURE_CUSTOMER_ID])),
            UniqueKeepStrategy::First,
        );

    let ids = concat(
        [
            anomalies.select([col(an::CUSTOMER_ID)]),
            exposure_one.clone().select([col(EXPOSURE_CUSTOMER_ID).alias(rs::CUSTOMER_ID)]),
            verdicts.clone().select([col(di::CUSTOMER_ID).alias(rs::CUSTOMER_ID)]),
        ],
        UnionArgs::default(),
    )
    // concat rejects only an empty list, and this one has three frames.
    .unwrap_or_else(|_| rs::DEF.empty().lazy().select([col(rs::CUSTOMER_ID)]))
    .filter(col(rs::CUSTOMER_ID).is_not_null())
    .unique(None, UniqueKeepStrategy::Any);

    let names = unique_customers(customers).select([col(cu::CUSTOMER_ID), col(cu::CUSTOMER_NAME)]);
    let left = |lf: LazyFrame, other: LazyFrame, other_key: &str| {
        lf.join(
            other,
            [col(rs::CUSTOMER_ID)],
            [col(other_key)],
            JoinArgs::new(JoinType::Left),
        )
    };
    let mut joined = left(ids, names, cu::CUSTOMER_ID);
    joined = left(joined, families, an::CUSTOMER_ID);
    joined = left(joined, top, an::CUSTOMER_ID);
    joined = left(joined, suppressed, an::CUSTOMER_ID);
    joined = left(joined, exposure_one, EXPOSURE_CUSTOMER_ID);
    joined = left(joined, verdicts, di::CUSTOMER_ID);

    let family_sum = FAMILIES
        .iter()
        .map(|f| col(*f))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0));
    let score = col(rs::RISK_SCORE);
    let tier = when(col(VERDICT_TEXT).is_not_null())
        .then(lit(TIER_CRITICAL))
        .when(score.clone().gt_eq(lit(cfg.tier_critical)))
        .then(lit(TIER_CRITICAL))
        .when(score.clone().gt_eq(lit(cfg.tier_high)))
        .then(lit(TIER_HIGH))
        .when(score.gt_eq(lit(cfg.tier_medium)))
        .then(lit(TIER_MEDIUM))
        .otherwise(lit(TIER_LOW));
    let top_reasons = concat_str([col(VERDICT_TEXT), col(TOP)], "; ", true);

    joined
        .with_columns(
            FAMILIES
                .iter()
                .map(|f| col(*f).fill_null(lit(0.0)))
                .chain([col(rs::SUPPRESSED_COUNT).fill_null(lit(0u32))])
                .collect::<Vec<_>>(),
        )
        .with_column(
            when(family_sum.clone().gt(lit(100.0)))
                .then(lit(100.0))
                .otherwise(family_sum)
                .round(2, RoundMode::HalfAwayFromZero)
                .alias(rs::RISK_SCORE),
        )
        .with_columns([
            tier.alias(rs::TIER),
            top_reasons.alias(rs::TOP_REASONS),
            col(VERDICT_TEXT).is_not_null().alias(rs::FRAUD_VERDICT),
        ])
        .select(
            rs::DEF
                .schema()
                .iter()
                .map(|(name, dtype)| col(name.clone()).cast(dtype.clone()))
                .collect::<Vec<_>>(),
        )
        .sort(
            [rs::RISK_SCORE, rs::CUSTOMER_ID],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_maintain_order(true),
        )
}

/// Expression: `pairs`' value for the key's value, else `default`.
fn lookup(key: Expr, pairs: Vec<(&str, Expr)>, default: Expr) -> Expr {
    pairs.into_iter().rev().fold(default, |otherwise, (k, v)| {
        when(key.clone().eq(lit(k))).then(v).otherwise(otherwise)
    })
}

/// Expression: the rank of the tier column (0 low .. 3 critical; null for anything else).
fn tier_rank_expr(tier: Expr) -> Expr {
    lookup(
        tier,
        TIERS
            .iter()
            .enumerate()
            .map(|(i, t)| (*t, lit(i as i32)))
            .collect(),
        lit(NULL).cast(DataType::Int32),
    )
}

/// Rows of actions/risk_review.csv: customers at `min_tier` or worse, worst tier first, then
/// highest risk_score, largest exposure, customer_id. An unknown `min_tier` lists every customer.
pub fn risk_review(risk_scores: LazyFrame, min_tier: &str) -> LazyFrame {
    const RANK: &str = "_tier_rank";
    let min = tier_rank(min_tier).unwrap_or(0) as i32;
    risk_scores
        .with_column(tier_rank_expr(col(rs::TIER)).alias(RANK))
        .filter(col(RANK).gt_eq(lit(min)))
        .sort(
            [RANK, rs::RISK_SCORE, rs::EXPOSURE, rs::CUSTOMER_ID],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, true, true, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .select(
            rv::DEF
                .schema()
                .iter()
                .map(|(name, dtype)| col(name.clone()).cast(dtype.clone()))
                .collect::<Vec<_>>(),
        )
}

/// The (customer_id, tier) pairs that drive risk-based dunning in collections.
pub fn risk_tiers(risk_scores: LazyFrame) -> LazyFrame {
    risk_scores.select([col(rs::CUSTOMER_ID), col(rs::TIER)])
}

/// Whether some customer reached `tier` or worse (`--fail-on`, exit 3). An unknown tier, or a
/// frame without a tier column, is never reached.
pub fn reaches_tier(risk_scores: &DataFrame, tier: &str) -> bool {
    let Some(min) = tier_rank(tier) else {
        return false;
    };
    let Ok(column) = risk_scores.column(rs::TIER) else {
        return false;
    };
    let Ok(values) = column.str() else {
        return false;
    };
    values
        .iter()
        .flatten()
        .any(|t| tier_rank(t).is_some_and(|r| r >= min))
}
