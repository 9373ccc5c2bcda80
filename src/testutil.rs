//! Builders and readers of tiny frames for the unit tests of every module (test builds only):
//! dates, frames of a table from a few columns, and a column's values as plain Rust vectors.

use polars::prelude::*;

use crate::schema::TableDef;

pub fn d(y: i32, m: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// A frame of table `def` from `df`: dates and timestamps given as "YYYY-MM-DD" text, other
/// columns cast to their schema dtype, absent columns null.
pub fn frame(def: &TableDef, df: DataFrame) -> LazyFrame {
    let given = df.schema().clone();
    let exprs: Vec<Expr> = def
        .schema()
        .iter()
        .map(|(name, dtype)| match given.get(name) {
            None => lit(NULL).cast(dtype.clone()).alias(name.clone()),
            Some(DataType::String) if matches!(dtype, DataType::Date | DataType::Datetime(..)) => {
                col(name.clone())
                    .str()
                    .to_date(StrptimeOptions {
                        format: Some("%Y-%m-%d".into()),
                        ..Default::default()
                    })
                    .cast(dtype.clone())
            }
            Some(_) => col(name.clone()).cast(dtype.clone()),
        })
        .collect();
    df.lazy().select(exprs)
}

pub fn strs(df: &DataFrame, name: &str) -> Vec<String> {
    let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
    c.str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or("<null>").to_string())
        .collect()
}

pub fn f64s(df: &DataFrame, name: &str) -> Vec<f64> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

pub fn bools(df: &DataFrame, name: &str) -> Vec<bool> {
    df.column(name)
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

/// Rounds to 4 decimals so float figures compare exactly.
pub fn r4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// A date from "YYYY-MM-DD".
pub fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A column's values as text, None for null.
pub fn opt_strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
    c.str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}
