//! The analyses of SPEC section 4. Each is a pure function from LazyFrames (and the as-of date and
//! its config section) to LazyFrames: no paths, no printing, no collect. The pipeline collects.
//!
//! - usage_daily: daily cost per customer, Azure subscription and meter category (SPEC 5)
//! - aging, collections: receivables aging and the collections ladder (SPEC 4.1)
//! - budgets: month-to-date spend, forecast and status (SPEC 4.2)
//! - exposure: net outstanding + unbilled usage + forecast to month end (SPEC 4.4)
//! - reconciliation: cost against invoiced (SPEC 4.3)
//! - anomalies, risk, feedback: signals, risk scores and analyst feedback (SPEC 4.4, 4.5)
//! - usage_signals: the usage family of anomalies (spikes, new meters, GPU, round-the-clock
//!   compute, new regions, peer outliers; SPEC 4.4)

pub mod aging;
pub mod anomalies;
pub mod budgets;
pub mod collections;
pub mod exposure;
pub mod feedback;
pub mod fx;
pub mod reasons;
pub mod reconciliation;
pub mod risk;
pub mod usage_daily;
pub mod usage_signals;

use polars::prelude::{DataType, Expr};

/// Sum of a Float64 column that does not depend on the order of the rows: each value rounded to
/// 10^-10 (far below any currency's cent), summed exactly as Decimal, converted back. Every float
/// money or quantity sum uses it, so tables are byte-identical whatever the thread count (a plain
/// float sum changes in its last digits with the partitioning of a parallel group-by).
pub fn order_free_sum(e: Expr) -> Expr {
    e.cast(DataType::Decimal(38, 10))
        .sum()
        .cast(DataType::Float64)
}

/// The one formatter of amounts in reason texts, alerts and reports.
/// A number as text with thousands separators and `decimals` decimals: 1234567.891 -> 1,234,567.89.
pub fn number_text(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let plain = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match plain.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (plain.as_str(), None),
    };
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    // -0.00 reads as 0.00.
    let negative = value < 0.0 && plain.bytes().any(|b| b.is_ascii_digit() && b != b'0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&grouped);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}
