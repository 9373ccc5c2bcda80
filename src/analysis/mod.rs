//! The analyses of SPEC section 4. Each is a pure function from LazyFrames (and the as-of date and
//! its config section) to LazyFrames: no paths, no printing, no collect. The pipeline collects.
//!
//! - usage_daily: daily cost per customer, Azure subscription and meter category (SPEC 5)
//! - aging, collections: receivables aging and the collections ladder (SPEC 4.1)
//! - budgets: month-to-date spend, forecast and status (SPEC 4.2)
//! - exposure: net outstanding + unbilled usage + forecast to month end (SPEC 4.4)
//! - reconciliation: cost against invoiced (SPEC 4.3)
//! - anomalies: the signal families (activity, payment, fraud, linked accounts, and usage/: spikes,
//!   new meters and GPU, new regions, round-the-clock compute, peer outliers), the evidence words
//!   of their reasons and analyst feedback (SPEC 4.4, 4.5); risk: the risk scores
//! - text: fast tests of text values for the analyses that read every usage line

pub mod aging;
pub mod anomalies;
pub mod budgets;
pub mod changes;
pub mod collections;
pub mod exposure;
pub mod fx;
pub mod reasons;
pub mod reconciliation;
pub mod risk;
pub mod text;
pub mod usage_daily;

/// The usage family's former path (`analysis::usage_signals`), kept for the orchestrator and the
/// benches.
pub use anomalies::usage as usage_signals;

use polars::prelude::{DataType, Expr};

/// Sum of a Float64 column that does not depend on the order of the rows: each value rounded to
/// 10^-10 (far below any currency's cent), summed exactly as Decimal, converted back. Every float
/// money or quantity sum uses it, so tables are byte-identical whatever the thread count (a plain
/// float sum changes in its last digits with the partitioning of a parallel group-by).
pub fn order_free_sum(e: Expr) -> Expr {
    exact(e).sum().cast(DataType::Float64)
}

/// A float as the Decimal(38, 10) that [`order_free_sum`] adds up. Partial sums of it can be
/// summed again (Decimal addition is exact), so a sum of per-group partial sums, converted once,
/// is bit for bit [`order_free_sum`] over the rows.
pub fn exact(e: Expr) -> Expr {
    e.cast(DataType::Decimal(38, 10))
}

/// `e / c` for a constant `c`, computed as `e * (1 / c)`. Polars divides a Float64 column by a
/// scalar as a multiplication by the reciprocal (polars-compute `prim_true_div_scalar`), but
/// element by element when the column is itself one value long, so `e / lit(c)` could change in
/// its last bit from run to run with how a parallel plan split the rows (seen on the 1M-row
/// benchmark: a score of 1.239941201931073 in one run, ...0732 in the next). A multiplication
/// is the same operation either way, so every division by a constant goes through here.
pub fn div_const(e: Expr, c: f64) -> Expr {
    e * polars::prelude::lit(1.0 / c)
}

/// The one formatter of amounts in reason texts, alerts and reports.
/// A number as text with thousands separators and `decimals` decimals: 1234567.891 -> 1,234,567.89.
/// Floats round as `format!` does (to the nearest decimal of the float's exact value).
pub fn number_text(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    signed_grouped(value < 0.0, &format!("{:.*}", decimals, value.abs()))
}

/// Exact (Decimal) money: `units` × 10^-scale rounded half away from zero to cents, with thousands
/// separators: 3120.005 -> "3,120.01", -0.004 -> "0.00". The ledger's formatter (aging reasons,
/// the report's money cells).
pub fn format_money(units: i128, scale: usize) -> String {
    let mut cents = units.unsigned_abs();
    if scale >= 2 {
        let div = 10u128.pow((scale - 2) as u32);
        cents = if div > 1 {
            (cents + div / 2) / div
        } else {
            cents
        };
    } else {
        cents *= 10u128.pow((2 - scale) as u32);
    }
    signed_grouped(units < 0, &format!("{}.{:02}", cents / 100, cents % 100))
}

/// `plain` (unsigned digits, optionally a point and decimals) with thousands separators in its
/// whole part, and a minus sign when `negative` and not all of its digits are zero (-0.00 reads as
/// 0.00): the layout every amount and number in words shares.
fn signed_grouped(negative: bool, plain: &str) -> String {
    let (int, frac) = match plain.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (plain, None),
    };
    let mut out = String::with_capacity(int.len() + int.len() / 3 + 4);
    if negative && plain.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    /// The value of the 1M-row benchmark whose score changed between runs: x / 0.8 and x * 1.25
    /// differ in the last bit, so a plain `/ lit(0.8)` gives one in a one-row frame (element by
    /// element) and the other in a longer one (reciprocal).
    #[test]
    fn division_by_a_constant_does_not_depend_on_the_frame_length() {
        let u = 6213.46601967_f64;
        let x = (u - 50.0) / u;
        assert_ne!(x / 0.8, x * 1.25, "the example must show the difference");
        let score = |n: usize| -> f64 {
            df!("x" => vec![x; n])
                .unwrap()
                .lazy()
                .select([div_const(col("x"), 0.8).alias("s")])
                .collect()
                .unwrap()
                .column("s")
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap()
        };
        assert_eq!(score(1).to_bits(), score(3).to_bits());
        assert_eq!(score(1), 1.2399412019310732);
    }
}
