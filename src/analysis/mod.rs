//! The analyses of SPEC section 4. Each is a pure function from LazyFrames (and the as-of date and
//! its config section) to LazyFrames: no paths, no printing, no collect. The pipeline collects.
//!
//! - usage_daily: daily cost per customer, Azure subscription and meter category (SPEC 5)
//! - aging, collections: receivables aging and the collections ladder (SPEC 4.1)
//! - budgets: month-to-date spend, forecast and status (SPEC 4.2)
//! - exposure: net outstanding + unbilled usage + forecast to month end (SPEC 4.4)
//! - reconciliation: cost against invoiced (SPEC 4.3)
//! - anomalies, risk: signals, risk scores and analyst feedback (SPEC 4.4, 4.5)

pub mod aging;
pub mod anomalies;
pub mod budgets;
pub mod collections;
pub mod exposure;
pub mod fx;
pub mod reasons;
pub mod reconciliation;
pub mod risk;
pub mod usage_daily;
