//! Section `[anomalies]` of the config: the thresholds of the activity, payment, fraud and
//! linked-account signals.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyConfig {
    /// Days up to A (inclusive) whose events are examined.
    pub window_days: i64,
    /// Days before the window that form the customer's own history.
    pub history_days: i64,
    /// new_caller, new_ip: only customers whose activity starts at least this many days before
    /// the window (a new tenant's first users and IPs are all new).
    pub activity_min_history_days: i64,
    /// activity_burst: a day's successful writes must reach this multiple of the customer's
    /// average writes per history day...
    pub burst_factor: f64,
    /// ...and at least this many writes.
    pub burst_min_writes: u32,
    /// Floor of the daily baselines (events per day), so a quiet history cannot divide by zero.
    pub baseline_floor: f64,
    /// failed_ops_burst: a day's failed operations must reach this multiple of the baseline...
    pub failed_factor: f64,
    /// ...and at least this many failures.
    pub failed_min_count: u32,
    /// multi_region_deploy: distinct regions of VM / scale-set writes in one day (also more than
    /// the customer's busiest history day).
    pub multi_region_min_regions: u32,
    /// role_assignment: role names (case-insensitive) that count as privileged. A role assignment
    /// whose role is not recorded counts too; one with a known other role does not.
    pub privileged_roles: Vec<String>,
    /// prepaid_instrument: payments within this many days before A are examined.
    pub payment_lookback_days: i64,
    /// usage_before_payment: usage cost must exceed cleared payments by at least this amount...
    pub usage_before_payment_min_excess: f64,
    /// ...and the excess must be at least this share of the usage cost.
    pub usage_before_payment_min_share: f64,
    /// fast_new_customer: customers created at most this many days before A...
    pub new_customer_days: i64,
    /// ...whose average daily usage cost since creation reaches this amount (any currency).
    pub new_customer_daily_spend: f64,
    /// large_purchase: Purchase charges (FOCUS ChargeCategory) in the last this many days up to A
    /// (inclusive)...
    pub large_purchase_days: i64,
    /// ...summing to at least this amount (billing currency), by a customer that is new (created,
    /// else first billed, within new_customer_days), unverified, or paid by prepaid card within
    /// payment_lookback_days. Score = purchases / this amount.
    pub large_purchase_min_cost: f64,
    /// fraud_event: score of an open (Active, Investigating) event by severity.
    pub fraud_score_low: f64,
    pub fraud_score_medium: f64,
    pub fraud_score_high: f64,
    /// fraud_event: score of an event Partner Center resolved as Fraud (the strongest evidence).
    pub fraud_score_confirmed: f64,
    /// linked_accounts: customers created at most this many days before A (inclusive) are new...
    pub linked_new_days: i64,
    /// ...and a caller, guest domain, client IP, domain pattern or sign-up shared by at least this
    /// many new customers (and by no established one) links them.
    pub linked_min_customers: u32,
    /// Guest home domains that link nobody (free mail: many unrelated people use them).
    pub linked_ignored_domains: Vec<String>,
    /// high_risk_country: ISO country codes the partner treats as high-risk for online fraud
    /// (empty: the signal is off).
    pub high_risk_countries: Vec<String>,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            window_days: 7,
            history_days: 90,
            activity_min_history_days: 14,
            burst_factor: 5.0,
            burst_min_writes: 10,
            baseline_floor: 1.0,
            failed_factor: 5.0,
            failed_min_count: 10,
            multi_region_min_regions: 3,
            privileged_roles: vec![
                "Owner".to_string(),
                "Contributor".to_string(),
                "User Access Administrator".to_string(),
            ],
            payment_lookback_days: 180,
            usage_before_payment_min_excess: 1000.0,
            usage_before_payment_min_share: 0.8,
            new_customer_days: 30,
            new_customer_daily_spend: 200.0,
            large_purchase_days: 7,
            large_purchase_min_cost: 500.0,
            fraud_score_low: 0.5,
            fraud_score_medium: 1.0,
            fraud_score_high: 1.5,
            fraud_score_confirmed: 2.0,
            linked_new_days: 30,
            linked_min_customers: 3,
            linked_ignored_domains: [
                "gmail.com",
                "outlook.com",
                "hotmail.com",
                "live.com",
                "yahoo.com",
                "icloud.com",
                "proton.me",
                "protonmail.com",
                "gmx.de",
                "web.de",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            high_risk_countries: vec![],
        }
    }
}
