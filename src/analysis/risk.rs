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
//! joined with "; " (an analyst's fraud verdict comes first; empty when nothing contributes).
//! exposure: the customer's exposure in its one currency; a customer with exposure in several
//! currencies shows the currency with the largest exposure (amounts in different currencies are
//! never added).

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::order_free_sum;
use serde::{Deserialize, Serialize};

use crate::analysis::anomalies::feedback::{valid_dispositions, VERDICT_FRAUD};
use crate::analysis::anomalies::payment::unique_customers;
use crate::analysis::reasons::{self, FAMILIES};
use crate::error::{Error, PolarsContext, Result};
use crate::schema::{
    anomalies as an, customers as cu, dispositions as di, risk_review as rv, risk_scores as rs,
};
use crate::tier::Tier;

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
    /// Signals that corroborate each other: when a pattern's anchor and enough of its
    /// supporting signals fire together, the customer gets the pattern's bonus points on top of
    /// the anchor's family cap, and a reason line that says the evidence agrees.
    pub patterns: Vec<Pattern>,
    /// Signals that only say how much a customer spends (spikes, new meters, peers, a new
    /// customer spending fast, usage before payment, a balance over the credit limit)...
    pub spend_signals: Vec<String>,
    /// ...and the highest risk_score a customer gets when every signal it has is one of them:
    /// spending a lot is the customer's business until something else (an identity, an
    /// instrument, a caller, a region, a GPU) says otherwise.
    pub spend_only_max: f64,
}

/// A combination of signals that is stronger evidence than their sum: the anchor (a reason code)
/// and supporting codes (any family) dated within `window_days` of one of the anchor's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pattern {
    /// What the agreement means, in words ("crypto-mining pattern").
    pub name: String,
    /// The reason code the pattern is built around.
    pub anchor: String,
    /// Reason codes that corroborate the anchor.
    pub supporting: Vec<String>,
    /// Distinct supporting signals needed.
    pub min_supporting: usize,
    /// Points per distinct supporting signal...
    pub points_per_signal: f64,
    /// ...up to this many.
    pub max_points: f64,
    /// A supporting row counts when its date is at most this many days from an anchor row's.
    pub window_days: i64,
}

impl Default for Pattern {
    fn default() -> Self {
        Pattern {
            name: String::new(),
            anchor: String::new(),
            supporting: Vec::new(),
            min_supporting: 1,
            points_per_signal: 10.0,
            max_points: 30.0,
            window_days: 1,
        }
    }
}

/// The default patterns: the crypto-mining signature (a first-ever GPU series with round-the-clock
/// compute, a new region, the takeover's traces or Partner Center's alert). A spike does not
/// corroborate a new GPU meter: the GPU's cost is the spike.
pub fn default_patterns() -> Vec<Pattern> {
    vec![Pattern {
        name: "crypto-mining pattern".to_string(),
        anchor: reasons::GPU_METER.to_string(),
        supporting: [
            reasons::ROUND_THE_CLOCK,
            reasons::NEW_REGION,
            reasons::NEW_CALLER,
            reasons::MULTI_REGION_DEPLOY,
            reasons::FRAUD_EVENT,
        ]
        .iter()
        .map(|c| c.to_string())
        .collect(),
        ..Pattern::default()
    }]
}

impl RiskConfig {
    /// Every reason code named in `patterns` and `spend_signals` is one of reasons.rs; the error
    /// names the key, what was expected and what was found.
    pub fn check_codes(&self) -> std::result::Result<(), String> {
        let known = || {
            reasons::ALL
                .iter()
                .map(|r| r.code)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let check = |key: String, code: &str| {
            if reasons::by_code(code.trim()).is_some() {
                Ok(())
            } else {
                Err(format!(
                    "{key}: expected a reason code ({}), found '{code}'",
                    known()
                ))
            }
        };
        for (i, p) in self.patterns.iter().enumerate() {
            check(format!("risk.patterns[{i}].anchor"), &p.anchor)?;
            for c in &p.supporting {
                check(format!("risk.patterns[{i}].supporting"), c)?;
            }
        }
        for c in &self.spend_signals {
            check("risk.spend_signals".to_string(), c)?;
        }
        Ok(())
    }
}

/// A signal in a few words, for the reason line of a pattern ("GPU meter, round-the-clock use and
/// a new region ... agree").
pub fn phrase(code: &str) -> String {
    use reasons::*;
    let p = match code {
        USAGE_SPIKE => "a usage spike",
        NEW_METER => "a new meter",
        GPU_METER => "GPU meter",
        ROUND_THE_CLOCK => "round-the-clock use",
        NEW_REGION => "a new region",
        PEER_OUTLIER => "spend far above peers",
        ACTIVITY_BURST => "a burst of resource creation",
        NEW_CALLER => "a new caller",
        ROLE_ASSIGNMENT => "a privileged role assignment",
        NEW_IP => "a new client IP",
        FAILED_OPS_BURST => "a burst of failed operations",
        MULTI_REGION_DEPLOY => "deployments in many regions",
        SPENDING_LIMIT_RAISED => "a raised spending limit",
        NEW_USER => "a new user",
        PASSWORD_RESET => "a password reset",
        LINKED_ACCOUNTS => "links to other new customers",
        HIGH_RISK_COUNTRY => "a high-risk country",
        PREPAID_INSTRUMENT => "a prepaid card",
        USAGE_BEFORE_PAYMENT => "usage before payment",
        FAST_NEW_CUSTOMER => "a new customer spending fast",
        UNVERIFIED => "an unverified identity",
        OVER_CREDIT_LIMIT => "a balance over the credit limit",
        FRAUD_EVENT => "a Partner Center fraud alert",
        other => return other.replace('_', " "),
    };
    p.to_string()
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
            patterns: default_patterns(),
            spend_signals: [
                reasons::USAGE_SPIKE,
                reasons::NEW_METER,
                reasons::PEER_OUTLIER,
                reasons::FAST_NEW_CUSTOMER,
                reasons::USAGE_BEFORE_PAYMENT,
                reasons::OVER_CREDIT_LIMIT,
            ]
            .iter()
            .map(|c| c.to_string())
            .collect(),
            spend_only_max: 45.0,
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
    pub linked_accounts: f64,
    pub prepaid_instrument: f64,
    pub usage_before_payment: f64,
    pub fast_new_customer: f64,
    pub unverified: f64,
    pub over_credit_limit: f64,
    pub large_purchase: f64,
    /// At most half of `tier_high` counts, whatever the weight: never enough alone for high.
    pub high_risk_country: f64,
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
            linked_accounts: 20.0,
            prepaid_instrument: 12.0,
            usage_before_payment: 12.0,
            fast_new_customer: 12.0,
            unverified: 8.0,
            over_credit_limit: 10.0,
            large_purchase: 12.0,
            high_risk_country: 10.0,
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
            LINKED_ACCOUNTS => self.linked_accounts,
            PREPAID_INSTRUMENT => self.prepaid_instrument,
            USAGE_BEFORE_PAYMENT => self.usage_before_payment,
            FAST_NEW_CUSTOMER => self.fast_new_customer,
            UNVERIFIED => self.unverified,
            OVER_CREDIT_LIMIT => self.over_credit_limit,
            LARGE_PURCHASE => self.large_purchase,
            HIGH_RISK_COUNTRY => self.high_risk_country,
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
        // Usage alone stays below high (50): a new region, new servers running all day and a
        // spike are what growth and migrations look like too; only a pattern's corroboration
        // (the mining signature) or another family lifts a customer to high.
        FamilyCaps {
            usage: 45.0,
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
const BONUS: &str = "_bonus";
const PATTERN_TEXT: &str = "_pattern_reasons";
const ADATE: &str = "_anchor_day";
const SDAY: &str = "_support_day";
const NSUP: &str = "_n_supporting";
const BEYOND_SPEND: &str = "_beyond_spend";
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
    let per_signal = strongest_per_signal(anomalies.clone(), cfg);
    let (families, pattern_text) = family_points(per_signal.clone(), anomalies.clone(), cfg);
    let is_spend = cfg.spend_signals.iter().fold(lit(false), |acc, c| {
        acc.or(col(an::SIGNAL).eq(lit(c.trim().to_ascii_lowercase())))
    });
    let beyond_spend = per_signal
        .clone()
        .filter(col(CONTRIB).gt(lit(0.0)).and(is_spend.not()))
        .group_by([col(an::CUSTOMER_ID)])
        .agg([col(an::SIGNAL).count().gt(lit(0)).alias(BEYOND_SPEND)]);
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

    let verdicts = fraud_verdicts(dispositions, as_of);
    let exposure_one = largest_exposure(exposure);

    let ids = concat(
        [
            anomalies.select([col(an::CUSTOMER_ID)]),
            exposure_one
                .clone()
                .select([col(EXPOSURE_CUSTOMER_ID).alias(rs::CUSTOMER_ID)]),
            verdicts
                .clone()
                .select([col(di::CUSTOMER_ID).alias(rs::CUSTOMER_ID)]),
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
    joined = left(joined, pattern_text, an::CUSTOMER_ID);
    joined = left(joined, beyond_spend, an::CUSTOMER_ID);
    joined = left(joined, suppressed, an::CUSTOMER_ID);
    joined = left(joined, exposure_one, EXPOSURE_CUSTOMER_ID);
    joined = left(joined, verdicts, di::CUSTOMER_ID);

    score_and_tier(joined, cfg)
}

/// The risk_scores rows from the customers joined with their family points, reasons, exposure
/// and verdicts: the score (capped at 100, spend alone at spend_only_max), the tier, the top
/// reasons, in the table's columns and dtypes, highest score first.
fn score_and_tier(joined: LazyFrame, cfg: &RiskConfig) -> LazyFrame {
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
    let top_reasons = concat_str([col(VERDICT_TEXT), col(PATTERN_TEXT), col(TOP)], "; ", true);

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
                .alias(rs::RISK_SCORE),
        )
        // Spend alone is capped at spend_only_max.
        .with_column(
            when(
                col(BEYOND_SPEND)
                    .fill_null(lit(false))
                    .not()
                    .and(col(rs::RISK_SCORE).gt(lit(cfg.spend_only_max))),
            )
            .then(lit(cfg.spend_only_max))
            .otherwise(col(rs::RISK_SCORE))
            .round(2, RoundMode::HalfAwayFromZero)
            .alias(rs::RISK_SCORE),
        )
        .with_columns([
            tier.alias(rs::TIER),
            top_reasons.alias(rs::TOP_REASONS),
            col(VERDICT_TEXT).is_not_null().alias(rs::FRAUD_VERDICT),
        ])
        .select(rs::DEF.conformed_exprs())
        .sort(
            [rs::RISK_SCORE, rs::CUSTOMER_ID],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_maintain_order(true),
        )
}

/// The strongest row of each signal per customer (suppressed rows left out), with its points
/// (CONTRIB): the signal's weight times its capped strength.
fn strongest_per_signal(anomalies: LazyFrame, cfg: &RiskConfig) -> LazyFrame {
    // Unknown signals and families weigh nothing.
    let weight = lookup(
        col(an::SIGNAL),
        reasons::ALL
            .iter()
            .map(|r| (r.code, lit(cfg.weights.weight(r.code).unwrap_or(0.0))))
            .collect(),
        lit(0.0),
    );
    let strength = col(an::SCORE)
        .fill_null(lit(1.0))
        .fill_nan(lit(1.0))
        .clip(lit(0.0), lit(cfg.max_strength.max(0.0)));

    // The strongest row of each signal per customer.
    anomalies
        .filter(col(an::SUPPRESSED).fill_null(lit(false)).not())
        .with_column(
            // A high-risk country is evidence, never enough alone for high.
            when(col(an::SIGNAL).eq(lit(reasons::HIGH_RISK_COUNTRY)))
                .then(min2f(
                    weight.clone() * strength.clone(),
                    lit((cfg.tier_high * 0.5).max(0.0)),
                ))
                .otherwise(weight * strength)
                .alias(CONTRIB),
        )
        .sort(
            [
                an::CUSTOMER_ID,
                an::SIGNAL,
                CONTRIB,
                an::DATE,
                an::ENTITY,
                an::REASON,
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, false, true, true, false, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unique_stable(
            Some(cols([an::CUSTOMER_ID, an::SIGNAL])),
            UniqueKeepStrategy::First,
        )
}

/// Per customer, each family's points (capped per family, plus the pattern bonuses on top of the
/// cap), and the pattern reason texts.
fn family_points(
    per_signal: LazyFrame,
    anomalies: LazyFrame,
    cfg: &RiskConfig,
) -> (LazyFrame, LazyFrame) {
    let cap = lookup(
        col(an::FAMILY),
        FAMILIES
            .iter()
            .map(|f| (*f, lit(cfg.family_caps.cap(f).unwrap_or(0.0))))
            .collect(),
        lit(0.0),
    );
    let family_cols: Vec<Expr> = FAMILIES
        .iter()
        .map(|f| order_free_sum(col(CONTRIB).filter(col(an::FAMILY).eq(lit(*f)))).alias(*f))
        .collect();
    let families = per_signal
        .group_by([col(an::CUSTOMER_ID), col(an::FAMILY)])
        .agg([order_free_sum(col(CONTRIB))])
        .with_column(
            when(col(CONTRIB).gt(cap.clone()))
                .then(cap)
                .otherwise(col(CONTRIB))
                .alias(CONTRIB),
        );
    // Pattern bonuses land in the anchor's family, on top of its cap.
    let (bonus, pattern_text) = pattern_bonuses(anomalies, &cfg.patterns);
    let families = concat(
        [
            families,
            bonus.clone().select([
                col(an::CUSTOMER_ID),
                col(an::FAMILY),
                col(BONUS).alias(CONTRIB),
            ]),
        ],
        UnionArgs::default(),
    )
    .unwrap_or_else(|_| an::DEF.empty().lazy().select([col(an::CUSTOMER_ID)]))
    .group_by([col(an::CUSTOMER_ID), col(an::FAMILY)])
    .agg([order_free_sum(col(CONTRIB)).round(2, RoundMode::HalfAwayFromZero)])
    .group_by([col(an::CUSTOMER_ID)])
    .agg(family_cols);
    (families, pattern_text)
}

/// Per customer with a valid fraud verdict at A: the verdict's words (VERDICT_TEXT).
fn fraud_verdicts(dispositions: LazyFrame, as_of: NaiveDate) -> LazyFrame {
    valid_dispositions(dispositions, as_of, &[VERDICT_FRAUD])
        .with_column(
            concat_str(
                [
                    lit("An analyst marked this customer as fraud"),
                    when(col(di::ANALYST).is_null())
                        .then(lit(""))
                        .otherwise(concat_str(
                            [lit(" ("), col(di::ANALYST), lit(")")],
                            "",
                            false,
                        )),
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
        .agg([col(VERDICT_TEXT).min()])
}

/// Per customer, its largest exposure (the billing currency of the largest, on a tie the first).
fn largest_exposure(exposure: LazyFrame) -> LazyFrame {
    exposure
        .filter(col(EXPOSURE_CUSTOMER_ID).is_not_null())
        .group_by([col(EXPOSURE_CUSTOMER_ID), col(EXPOSURE_CURRENCY)])
        .agg([order_free_sum(col(EXPOSURE))])
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
/// highest risk_score, largest exposure, customer_id.
pub fn risk_review(risk_scores: LazyFrame, min_tier: Tier) -> LazyFrame {
    const RANK: &str = "_tier_rank";
    let min = min_tier as i32;
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
        .select(rv::DEF.conformed_exprs())
}

/// A pattern's supporting signal codes: known codes, not its anchor, each once, in the
/// config's order.
fn supporting_codes(p: &Pattern, anchor: &str) -> Vec<&'static str> {
    p.supporting
        .iter()
        .filter_map(|c| reasons::by_code(c.trim()).map(|r| r.code))
        .filter(|c| *c != anchor)
        .fold(vec![], |mut v, c| {
            if !v.contains(&c) {
                v.push(c);
            }
            v
        })
}

/// "GPU meter, round-the-clock use and a new region on 2026-11-03 agree: crypto-mining pattern
/// (+20 points)", from the phrases of the signals that agree (`words`, nulls skipped), the anchor
/// day and the bonus.
fn pattern_words(words: Vec<Expr>, p: &Pattern) -> Expr {
    concat_str(
        [
            concat_str(words, ", ", true)
                .str()
                .replace(lit(r", ([^,]*)$"), lit(" and $1"), false),
            lit(" on "),
            col(ADATE).dt().strftime("%Y-%m-%d"),
            lit(format!(" agree: {} (+", p.name.trim())),
            col(BONUS)
                .round(0, RoundMode::HalfAwayFromZero)
                .cast(DataType::Int64)
                .cast(DataType::String),
            lit(" points)"),
        ],
        "",
        false,
    )
}

/// Per pattern and customer, the bonus of its best-supported anchor day: rows (customer_id,
/// family of the anchor, bonus), and per customer the reason lines of every pattern that fired,
/// strongest first ("GPU meter, round-the-clock use and a new region on 2026-11-03 agree:
/// crypto-mining pattern (+20 points)"). Suppressed rows neither anchor nor support.
fn pattern_bonuses(anomalies: LazyFrame, patterns: &[Pattern]) -> (LazyFrame, LazyFrame) {
    let live = anomalies
        .filter(col(an::SUPPRESSED).fill_null(lit(false)).not())
        .select([col(an::CUSTOMER_ID), col(an::SIGNAL), col(an::DATE)])
        .filter(col(an::DATE).is_not_null())
        .cache();
    let day = |c: &str| col(c).cast(DataType::Int32);
    let mut parts = vec![];
    for p in patterns {
        let Some(anchor) = reasons::by_code(p.anchor.trim()) else {
            continue;
        };
        let support = supporting_codes(p, anchor.code);
        if support.is_empty() {
            continue;
        }
        let anchors = live
            .clone()
            .filter(col(an::SIGNAL).eq(lit(anchor.code)))
            .select([col(an::CUSTOMER_ID), col(an::DATE).alias(ADATE)])
            .unique(None, UniqueKeepStrategy::Any);
        let supporting = live
            .clone()
            .filter(
                support
                    .iter()
                    .fold(lit(false), |acc, c| acc.or(col(an::SIGNAL).eq(lit(*c)))),
            )
            .select([
                col(an::CUSTOMER_ID),
                col(an::SIGNAL),
                col(an::DATE).alias(SDAY),
            ]);
        let has = |c: &str| col(an::SIGNAL).eq(lit(c.to_string())).any(true);
        let words: Vec<Expr> = std::iter::once(lit(phrase(anchor.code)))
            .chain(support.iter().map(|c| {
                when(col(format!("_has_{c}")))
                    .then(lit(phrase(c)))
                    .otherwise(lit(NULL).cast(DataType::String))
            }))
            .collect();
        let min_sup = p.min_supporting.max(1) as u32;
        let part = anchors
            .join(
                supporting,
                [col(an::CUSTOMER_ID)],
                [col(an::CUSTOMER_ID)],
                JoinArgs::new(JoinType::Inner),
            )
            .filter(
                (day(SDAY) - day(ADATE))
                    .abs()
                    .lt_eq(lit(p.window_days.max(0) as i32)),
            )
            .group_by([col(an::CUSTOMER_ID), col(ADATE)])
            .agg(
                std::iter::once(col(an::SIGNAL).n_unique().alias(NSUP))
                    .chain(support.iter().map(|c| has(c).alias(format!("_has_{c}"))))
                    .collect::<Vec<_>>(),
            )
            .filter(col(NSUP).cast(DataType::UInt32).gt_eq(lit(min_sup)))
            .with_column(
                min2f(
                    col(NSUP).cast(DataType::Float64) * lit(p.points_per_signal.max(0.0)),
                    lit(p.max_points.max(0.0)),
                )
                .round(2, RoundMode::HalfAwayFromZero)
                .alias(BONUS),
            )
            // The best-supported anchor day, the earliest of equals.
            .sort(
                [an::CUSTOMER_ID, BONUS, ADATE],
                SortMultipleOptions::default()
                    .with_order_descending_multi([false, true, false])
                    .with_maintain_order(true),
            )
            .unique_stable(Some(cols([an::CUSTOMER_ID])), UniqueKeepStrategy::First)
            .with_column(pattern_words(words, p).alias(PATTERN_TEXT))
            .select([
                col(an::CUSTOMER_ID),
                lit(anchor.family).alias(an::FAMILY),
                col(BONUS),
                col(PATTERN_TEXT),
            ]);
        parts.push(part);
    }
    let empty = || {
        df!(
            an::CUSTOMER_ID => Vec::<String>::new(),
            an::FAMILY => Vec::<String>::new(),
            BONUS => Vec::<f64>::new(),
            PATTERN_TEXT => Vec::<String>::new(),
        )
        .map(|d| d.lazy())
        .unwrap_or_default()
    };
    let all = if parts.is_empty() {
        empty()
    } else {
        concat(parts, UnionArgs::default()).unwrap_or_else(|_| empty())
    }
    .cache();
    let text = all
        .clone()
        .group_by([col(an::CUSTOMER_ID)])
        .agg([col(PATTERN_TEXT)
            .sort_by(
                [col(BONUS), col(PATTERN_TEXT)],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .str()
            .join("; ", true)]);
    (
        all.select([col(an::CUSTOMER_ID), col(an::FAMILY), col(BONUS)]),
        text,
    )
}

fn min2f(a: Expr, b: Expr) -> Expr {
    when(a.clone().lt_eq(b.clone())).then(a).otherwise(b)
}

/// The (customer_id, tier) pairs that drive risk-based dunning in collections.
pub fn risk_tiers(risk_scores: LazyFrame) -> LazyFrame {
    risk_scores.select([col(rs::CUSTOMER_ID), col(rs::TIER)])
}

/// Whether some customer reached `tier` or worse (`--fail-on`, exit 3). A frame without a text
/// tier column, or with a value that is no tier, is an internal error: `--fail-on` must never
/// pass silently because the table it reads is wrong.
pub fn reaches_tier(risk_scores: &DataFrame, tier: Tier) -> Result<bool> {
    let values = risk_scores
        .column(rs::TIER)
        .and_then(|c| c.str())
        .stage("--fail-on: risk_scores.tier")?;
    let mut reached = false;
    for value in values.iter() {
        let found = value.and_then(Tier::parse).ok_or_else(|| {
            Error::Internal(format!(
                "--fail-on: risk_scores.tier holds {value:?}, expected low, medium, high or critical"
            ))
        })?;
        reached |= found >= tier;
    }
    Ok(reached)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{anomalies as an, customers as cu, dispositions as di};
    use crate::testutil::{bools, d, f64s, frame, strs};

    const A: (i32, u32, u32) = (2026, 10, 14);

    /// Anomalies (customer, signal, score, suppressed); family from reasons.rs; reason
    /// "<signal> <score> of <customer>".
    fn anomalies(rows: &[(&str, &str, f64, bool)]) -> LazyFrame {
        let df = df!(
            an::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            an::FAMILY => rows.iter().map(|r| reasons::by_code(r.1).unwrap().family).collect::<Vec<_>>(),
            an::SIGNAL => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            an::DATE => rows.iter().map(|_| "2026-10-14").collect::<Vec<_>>(),
            an::ENTITY => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            an::SCORE => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            an::REASON => rows.iter().map(|r| format!("{} {} of {}", r.1, r.2, r.0)).collect::<Vec<_>>(),
            an::SUPPRESSED => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&an::DEF, df)
    }

    fn exposure(rows: &[(&str, &str, f64)]) -> LazyFrame {
        df!(
            EXPOSURE_CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            EXPOSURE_CURRENCY => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            EXPOSURE => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    fn customers() -> LazyFrame {
        let df = df!(
            cu::CUSTOMER_ID => ["r1", "r2", "r1"],
            cu::CUSTOMER_NAME => ["One", "Two", "One again"],
        )
        .unwrap();
        frame(&cu::DEF, df)
    }

    fn dispositions(rows: &[(&str, &str, &str, Option<&str>)]) -> LazyFrame {
        let df = df!(
            di::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            di::REASON_CODE => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            di::VERDICT => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            di::VALID_UNTIL => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            di::ANALYST => rows.iter().map(|_| "ann").collect::<Vec<_>>(),
            di::NOTE => rows.iter().map(|_| "chargeback").collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&di::DEF, df)
    }

    fn no_dispositions() -> LazyFrame {
        di::DEF.empty().lazy()
    }

    fn scores(
        an_rows: &[(&str, &str, f64, bool)],
        exp: &[(&str, &str, f64)],
        disp: LazyFrame,
        cfg: &RiskConfig,
    ) -> DataFrame {
        risk_scores(
            anomalies(an_rows),
            customers(),
            exposure(exp),
            disp,
            d(A.0, A.1, A.2),
            cfg,
        )
        .collect()
        .unwrap()
    }

    #[test]
    fn every_reason_code_has_a_weight_and_every_family_a_cap() {
        let cfg = RiskConfig::default();
        for r in reasons::ALL {
            assert!(
                cfg.weights.weight(r.code).is_some(),
                "{} has no weight",
                r.code
            );
        }
        for f in FAMILIES {
            assert!(cfg.family_caps.cap(f).is_some());
        }
    }

    #[test]
    fn score_arithmetic_caps_exposure_and_fraud_verdict() {
        let rows = [
            // r1: usage_spike 3.0 is clamped to 2: 12 x 2 = 24; its weaker row (1.0) does not add;
            // new_region 8 x 1 = 8; usage = 32. new_ip 6 x 1 = 6. unverified 8 x 1 = 8. The
            // suppressed prepaid card adds nothing. Total 32 + 6 + 8 = 46: medium.
            ("r1", "usage_spike", 3.0, false),
            ("r1", "usage_spike", 1.0, false),
            ("r1", "new_region", 1.0, false),
            ("r1", "new_ip", 1.0, false),
            ("r1", "unverified", 1.0, false),
            ("r1", "prepaid_instrument", 1.0, true),
            // r2: usage 15x2 + 15x2 + 8x2 = 76 -> cap 45, plus the crypto-mining pattern (GPU
            // meter with round-the-clock use, a new region, deployments in many regions and a
            // fraud alert on the same day: 4 x 10, at most 30) = 75; activity 15x2 + 12x2 = 54 -> 50;
            // payment 12x2 x 3 = 72 -> 50; fraud 40 x 2 = 80 (cap 80). 230 -> 100: critical.
            ("r2", "gpu_meter", 2.0, false),
            ("r2", "round_the_clock", 2.5, false),
            ("r2", "new_region", 2.0, false),
            ("r2", "multi_region_deploy", 2.0, false),
            ("r2", "role_assignment", 2.0, false),
            ("r2", "usage_before_payment", 2.0, false),
            ("r2", "fast_new_customer", 2.0, false),
            ("r2", "prepaid_instrument", 2.0, false),
            ("r2", "fraud_event", 2.0, false),
            // r5: unverified, 8: low; its fraud verdict expired on 10-13.
            ("r5", "unverified", 1.0, false),
        ];
        let exp = [
            // r1: one currency, summed: 100 + 50 = 150 USD.
            ("r1", "USD", 100.0),
            ("r1", "USD", 50.0),
            // r3: no anomaly; two currencies: the largest, 300 EUR, not a sum.
            ("r3", "EUR", 300.0),
            ("r3", "USD", 200.0),
        ];
        let disp = dispositions(&[
            // r4: no anomaly, no usage, but an analyst's fraud verdict: listed, critical.
            ("r4", "*", "Fraud", None),
            ("r5", "*", "fraud", Some("2026-10-13")),
        ]);
        let out = scores(&rows, &exp, disp, &RiskConfig::default());
        assert_eq!(strs(&out, rs::CUSTOMER_ID), ["r2", "r1", "r5", "r3", "r4"]);
        assert_eq!(f64s(&out, rs::RISK_SCORE), [100.0, 46.0, 8.0, 0.0, 0.0]);
        assert_eq!(
            strs(&out, rs::TIER),
            ["critical", "medium", "low", "low", "critical"]
        );
        assert_eq!(f64s(&out, rs::USAGE), [75.0, 32.0, 0.0, 0.0, 0.0]);
        assert!(strs(&out, rs::TOP_REASONS)[0].starts_with(
            "GPU meter, round-the-clock use, a new region, deployments in many regions and a \
             Partner Center fraud alert on 2026-10-14 agree: crypto-mining pattern (+30 points); "
        ));
        assert_eq!(f64s(&out, rs::ACTIVITY), [50.0, 6.0, 0.0, 0.0, 0.0]);
        assert_eq!(f64s(&out, rs::PAYMENT), [50.0, 8.0, 8.0, 0.0, 0.0]);
        assert_eq!(f64s(&out, rs::FRAUD), [80.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(
            strs(&out, rs::CUSTOMER_NAME),
            ["Two", "One", "<null>", "<null>", "<null>"]
        );
        assert_eq!(f64s(&out, rs::EXPOSURE)[1], 150.0);
        assert_eq!(f64s(&out, rs::EXPOSURE)[3], 300.0);
        assert_eq!(strs(&out, rs::CURRENCY)[1..4], ["USD", "<null>", "EUR"]);
        assert_eq!(
            out.column(rs::SUPPRESSED_COUNT)
                .unwrap()
                .u32()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            [Some(0), Some(1), Some(0), Some(0), Some(0)]
        );
        assert_eq!(
            bools(&out, rs::FRAUD_VERDICT),
            [false, false, false, false, true]
        );
        // Strongest first; new_region and unverified tie at 8 and go by code.
        assert_eq!(
            strs(&out, rs::TOP_REASONS)[1],
            "usage_spike 3 of r1; new_region 1 of r1; unverified 1 of r1"
        );
        assert_eq!(
            strs(&out, rs::TOP_REASONS)[4],
            "An analyst marked this customer as fraud (ann): chargeback"
        );
        assert_eq!(strs(&out, rs::TOP_REASONS)[3], "");
        assert_eq!(out.schema().as_ref(), &rs::DEF.schema());
    }

    #[test]
    fn tier_edges_are_inclusive() {
        let mut cfg = RiskConfig::default();
        cfg.weights.usage_spike = 25.0;
        cfg.weights.new_ip = 25.0;
        cfg.weights.gpu_meter = 0.0;
        cfg.spend_only_max = 100.0;
        cfg.family_caps.usage = 100.0;
        let rows = [
            ("e1", "usage_spike", 1.0, false),    // 25 x 1 = 25.00: medium
            ("e2", "usage_spike", 0.9996, false), // 24.99: low
            ("e3", "usage_spike", 2.0, false),    // 50: high
            ("e4", "usage_spike", 2.0, false),    // 50 + 25 = 75: critical
            ("e4", "new_ip", 1.0, false),
            ("e5", "usage_spike", 1.9996, false), // 49.99: medium
            ("e6", "gpu_meter", 2.0, false),      // weight 0: 0, low, no reasons
        ];
        let out = scores(&rows, &[], no_dispositions(), &cfg);
        assert_eq!(
            strs(&out, rs::CUSTOMER_ID),
            ["e4", "e3", "e5", "e1", "e2", "e6"]
        );
        assert_eq!(
            f64s(&out, rs::RISK_SCORE),
            [75.0, 50.0, 49.99, 25.0, 24.99, 0.0]
        );
        assert_eq!(
            strs(&out, rs::TIER),
            ["critical", "high", "medium", "medium", "low", "low"]
        );
        assert_eq!(strs(&out, rs::TOP_REASONS)[5], "");
    }

    /// The calibration of the defaults: each profile with every score at 1.0 (the weakest case
    /// in which its signals fire).
    fn profiles() -> DataFrame {
        let mut rows = vec![];
        let mut add = |c: &'static str, signals: &[&'static str]| {
            for s in signals {
                rows.push((c, *s, 1.0, false));
            }
        };
        // usage 15 + 15 + 8 + 12 = 50 -> cap 45, + the mining pattern (round the clock, new
        // region, fraud event: 3 x 10 = 30) = 75; fraud 40: 115 -> 100.
        add(
            "crypto",
            &[
                "gpu_meter",
                "round_the_clock",
                "new_region",
                "usage_spike",
                "fraud_event",
            ],
        );
        // payment 12 + 12 + 12 + 8 = 44, usage 10: 54.
        add(
            "stolen_card",
            &[
                "prepaid_instrument",
                "usage_before_payment",
                "fast_new_customer",
                "unverified",
                "peer_outlier",
            ],
        );
        // activity 10 + 6 + 12 + 10 + 15 + 12 = 65 -> cap 50.
        add(
            "takeover",
            &[
                "new_caller",
                "new_ip",
                "role_assignment",
                "activity_burst",
                "multi_region_deploy",
                "spending_limit_raised",
            ],
        );
        add(
            "takeover_big",
            &[
                "new_caller",
                "new_ip",
                "role_assignment",
                "activity_burst",
                "multi_region_deploy",
                "spending_limit_raised",
            ],
        );
        add("unverified_only", &["unverified"]); // 8
        add("prepaid_only", &["prepaid_instrument"]); // 12
        add("over_limit_only", &["over_credit_limit"]); // 10
        rows.push(("new_ip_only", "new_ip", 5.0, false)); // clamped to 2: 12
        rows.push(("verdict", "unverified", 1.0, false)); // 8, but a fraud verdict
        let exp = [
            // A late payer and an over-budget customer have exposure and no signal.
            ("late_payer", "USD", 90_000.0),
            ("over_budget", "USD", 20_000.0),
            ("takeover", "USD", 100.0),
            ("takeover_big", "USD", 5_000.0),
        ];
        let disp = dispositions(&[("verdict", "*", "fraud", Some("2026-12-31"))]);
        scores(&rows, &exp, disp, &RiskConfig::default())
    }

    fn tier_of(out: &DataFrame, customer: &str) -> (String, f64) {
        let i = strs(out, rs::CUSTOMER_ID)
            .iter()
            .position(|c| c == customer)
            .unwrap();
        (strs(out, rs::TIER)[i].clone(), f64s(out, rs::RISK_SCORE)[i])
    }

    #[test]
    fn fraud_profiles_are_high_or_critical_and_benign_ones_low() {
        let out = profiles();
        assert_eq!(tier_of(&out, "crypto"), ("critical".into(), 100.0));
        assert_eq!(tier_of(&out, "stolen_card"), ("high".into(), 54.0));
        assert_eq!(tier_of(&out, "takeover"), ("high".into(), 50.0));
        assert_eq!(tier_of(&out, "unverified_only"), ("low".into(), 8.0));
        assert_eq!(tier_of(&out, "prepaid_only"), ("low".into(), 12.0));
        assert_eq!(tier_of(&out, "over_limit_only"), ("low".into(), 10.0));
        assert_eq!(tier_of(&out, "new_ip_only"), ("low".into(), 12.0));
        assert_eq!(tier_of(&out, "late_payer"), ("low".into(), 0.0));
        assert_eq!(tier_of(&out, "over_budget"), ("low".into(), 0.0));
        assert_eq!(tier_of(&out, "verdict"), ("critical".into(), 8.0));
    }

    /// Rows (customer, signal, score, date) unsuppressed.
    fn dated(rows: &[(&str, &str, f64, &str)]) -> LazyFrame {
        let df = df!(
            an::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            an::FAMILY => rows.iter().map(|r| reasons::by_code(r.1).unwrap().family).collect::<Vec<_>>(),
            an::SIGNAL => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            an::DATE => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            an::ENTITY => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            an::SCORE => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            an::REASON => rows.iter().map(|r| format!("{} of {}", r.1, r.0)).collect::<Vec<_>>(),
            an::SUPPRESSED => rows.iter().map(|_| false).collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&an::DEF, df)
    }

    #[test]
    fn corroborating_first_day_evidence_is_high_and_usage_alone_is_not() {
        let rows = [
            // The mining signature on its first day: GPU 15 x 2 + round the clock 15 x 2 + new
            // region 8 x 2 = 76 -> cap 45; two supporting signals within a day: +20 = 65, high.
            ("miner", "gpu_meter", 2.0, "2026-10-14"),
            ("miner", "round_the_clock", 2.0, "2026-10-14"),
            ("miner", "new_region", 2.0, "2026-10-14"),
            // GPU and a new region only (the medium 46 of before): 45 + 10 = 55, high.
            ("gpu_region", "gpu_meter", 2.0, "2026-10-14"),
            ("gpu_region", "new_region", 2.0, "2026-10-13"),
            // A region move or an established GPU user adding nodes: new region, new 24 h
            // servers and a spike, but no new GPU series: 30 + 16 + 24 = 70 -> cap 45, medium.
            ("mover", "round_the_clock", 2.0, "2026-10-14"),
            ("mover", "new_region", 2.0, "2026-10-14"),
            ("mover", "usage_spike", 2.0, "2026-10-14"),
            // A first GPU trial and its spike the same day: a spike does not corroborate (the
            // GPU's cost is the spike): 30 + 24 = 54 -> 45, medium.
            ("trial", "gpu_meter", 2.0, "2026-10-09"),
            ("trial", "usage_spike", 2.0, "2026-10-09"),
            // Across families: a GPU meter (15 x 1) and a new caller (10 x 1) the same day: usage
            // 15 + 10 = 25 (the bonus lands in the anchor's family), activity 10: 35, medium.
            ("cross", "gpu_meter", 1.0, "2026-10-14"),
            ("cross", "new_caller", 1.0, "2026-10-14"),
        ];
        let out = risk_scores(
            dated(&rows),
            customers(),
            exposure(&[]),
            no_dispositions(),
            d(A.0, A.1, A.2),
            &RiskConfig::default(),
        )
        .collect()
        .unwrap();
        assert_eq!(tier_of(&out, "miner"), ("high".into(), 65.0));
        assert_eq!(tier_of(&out, "gpu_region"), ("high".into(), 55.0));
        assert_eq!(tier_of(&out, "mover"), ("medium".into(), 45.0));
        assert_eq!(tier_of(&out, "trial"), ("medium".into(), 45.0));
        // cross: usage 15 + 10 bonus = 25, activity 10: 35, medium.
        assert_eq!(tier_of(&out, "cross"), ("medium".into(), 35.0));
        let reasons_of = |c: &str| {
            let i = strs(&out, rs::CUSTOMER_ID)
                .iter()
                .position(|x| x == c)
                .unwrap();
            strs(&out, rs::TOP_REASONS)[i].clone()
        };
        assert_eq!(
            reasons_of("miner"),
            "GPU meter, round-the-clock use and a new region on 2026-10-14 agree: \
             crypto-mining pattern (+20 points); gpu_meter of miner; round_the_clock of miner; \
             new_region of miner"
        );
        assert_eq!(
            reasons_of("cross"),
            "GPU meter and a new caller on 2026-10-14 agree: crypto-mining pattern (+10 points); \
             gpu_meter of cross; new_caller of cross"
        );
        assert_eq!(
            reasons_of("mover"),
            "round_the_clock of mover; usage_spike of mover; new_region of mover"
        );
        // No patterns: the old arithmetic (usage capped, nothing on top).
        let cfg = RiskConfig {
            patterns: vec![],
            ..RiskConfig::default()
        };
        let plain = risk_scores(
            dated(&rows),
            customers(),
            exposure(&[]),
            no_dispositions(),
            d(A.0, A.1, A.2),
            &cfg,
        )
        .collect()
        .unwrap();
        assert_eq!(tier_of(&plain, "miner"), ("medium".into(), 45.0));
        assert_eq!(tier_of(&plain, "gpu_region"), ("medium".into(), 45.0));
    }

    #[test]
    fn spend_alone_stays_below_high() {
        let rows = [
            // A new verified customer ramping up: peers 10 x 2 + fast new customer 12 x 1.5 +
            // usage before payment 12 x 1.25 = 53, all spend: capped at 45, medium.
            ("ramp", "peer_outlier", 2.0, "2026-10-14"),
            ("ramp", "fast_new_customer", 1.5, "2026-10-14"),
            ("ramp", "usage_before_payment", 1.25, "2026-10-14"),
            // The same spend with an unverified identity: 53 + 8 = 61, high.
            ("card", "peer_outlier", 2.0, "2026-10-14"),
            ("card", "fast_new_customer", 1.5, "2026-10-14"),
            ("card", "usage_before_payment", 1.25, "2026-10-14"),
            ("card", "unverified", 1.0, "2026-10-14"),
        ];
        let out = risk_scores(
            dated(&rows),
            customers(),
            exposure(&[]),
            no_dispositions(),
            d(A.0, A.1, A.2),
            &RiskConfig::default(),
        )
        .collect()
        .unwrap();
        assert_eq!(tier_of(&out, "ramp"), ("medium".into(), 45.0));
        assert_eq!(tier_of(&out, "card"), ("high".into(), 61.0));
        // The family columns keep their figures; only the score is capped.
        let i = strs(&out, rs::CUSTOMER_ID)
            .iter()
            .position(|c| c == "ramp")
            .unwrap();
        assert_eq!(f64s(&out, rs::PAYMENT)[i], 33.0);
    }

    #[test]
    fn risk_review_lists_worst_first_and_reaches_tier() {
        let out = profiles();
        let review = risk_review(out.clone().lazy(), Tier::High)
            .collect()
            .unwrap();
        // Critical first (crypto 90, then the verdict at 8), then high by score (stolen card 54),
        // then the two takeovers at 50 by exposure (5,000 before 100).
        assert_eq!(
            strs(&review, rv::CUSTOMER_ID),
            [
                "crypto",
                "verdict",
                "stolen_card",
                "takeover_big",
                "takeover"
            ]
        );
        assert_eq!(review.schema().as_ref(), &rv::DEF.schema());
        assert_eq!(
            risk_review(out.clone().lazy(), Tier::Low)
                .collect()
                .unwrap()
                .height(),
            out.height()
        );

        assert!(reaches_tier(&out, Tier::Critical).unwrap());
        let no_critical = out
            .clone()
            .lazy()
            .filter(col(rs::TIER).neq(lit(TIER_CRITICAL)))
            .collect()
            .unwrap();
        assert!(!reaches_tier(&no_critical, Tier::Critical).unwrap());
        assert!(reaches_tier(&no_critical, Tier::High).unwrap());
        let lows = out
            .clone()
            .lazy()
            .filter(col(rs::TIER).eq(lit(TIER_LOW)))
            .collect()
            .unwrap();
        assert!(!reaches_tier(&lows, Tier::Medium).unwrap());
        assert!(reaches_tier(&lows, Tier::Low).unwrap());

        let tiers = risk_tiers(profiles().lazy()).collect().unwrap();
        let names: Vec<String> = tiers
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, [rs::CUSTOMER_ID, rs::TIER]);
    }

    /// `--fail-on` used to pass silently (never reached) when the tier column was missing or held
    /// a word that is no tier; both are now errors.
    #[test]
    fn reaches_tier_fails_on_a_missing_column_or_an_unknown_tier() {
        let no_column = df!(rs::CUSTOMER_ID => ["c1"]).unwrap();
        assert!(reaches_tier(&no_column, Tier::Low).is_err());
        let unknown = df!(rs::CUSTOMER_ID => ["c1", "c2"], rs::TIER => ["low", "severe"]).unwrap();
        let err = reaches_tier(&unknown, Tier::Critical)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"severe\""), "{err}");
        let not_text = df!(rs::CUSTOMER_ID => ["c1"], rs::TIER => [3i32]).unwrap();
        assert!(reaches_tier(&not_text, Tier::Low).is_err());
    }
}
