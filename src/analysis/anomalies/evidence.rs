//! The words and numbers of anomaly reasons: amounts, counts, multiples, days and dates as text,
//! the same in every family. Expressions (no per-row Rust closure) where a signal formats every
//! row of a large plan (`amount_text`, `ratio_text`); `num_text` and `money_text` map through
//! [`number_text`](crate::analysis::number_text), the formatter of reports and alerts.

use polars::prelude::*;

pub use crate::analysis::number_text;

/// Expression: a Float64 number as text (see `number_text`); null stays null.
pub(crate) fn num_text(e: Expr, decimals: usize) -> Expr {
    e.cast(DataType::Float64).map(
        move |c: Column| {
            let ca = c.f64()?;
            let out: StringChunked = ca
                .iter()
                .map(|v| v.map(|v| number_text(v, decimals)))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Expression: an amount with thousands separators, 2 decimals and its currency: "3,212.40 USD".
pub(crate) fn money_text(amount: Expr, currency: Expr) -> Expr {
    concat_str(
        [
            num_text(amount, 2),
            currency.fill_null(lit("(no currency)")),
        ],
        " ",
        false,
    )
}

/// Expression: a count as text with thousands separators.
pub(crate) fn count_text(e: Expr) -> Expr {
    num_text(e, 0)
}

/// Expression: a Date as ISO text.
pub(crate) fn date_text(e: Expr) -> Expr {
    e.dt().strftime("%Y-%m-%d")
}

/// A config amount with thousands separators and no decimals when whole: 10000 -> "10,000".
pub(crate) fn plain_amount(x: f64) -> String {
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

/// A day number (days since 1970-01-01) as text in a chrono format.
pub(crate) fn day_text(day: Expr, format: &str) -> Expr {
    day.cast(DataType::Date).dt().strftime(format)
}

pub(crate) fn int_text(x: Expr) -> Expr {
    x.cast(DataType::Int64).cast(DataType::String)
}

/// Zero-padded last `width` digits of a non-negative integer below 10^width.
pub(crate) fn padded(x: Expr, width: u32) -> Expr {
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
pub(crate) fn ratio_text(r: Expr) -> Expr {
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
