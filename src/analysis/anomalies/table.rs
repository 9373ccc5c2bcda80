//! The anomalies table as the families build it: the empty table, a frame reduced to its columns
//! and dtypes, the union of families, and the date literal the windows compare with.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::schema::anomalies as an;

/// An empty anomalies frame.
pub fn empty_anomalies() -> LazyFrame {
    an::DEF.empty().lazy()
}

/// Selects and casts the anomalies columns, in schema order.
pub(crate) fn to_anomalies(lf: LazyFrame) -> LazyFrame {
    an::DEF.conform(lf)
}

/// Concatenates frames that hold (at least) the anomalies columns, reduced to exactly those; an
/// empty list gives an empty frame.
pub(crate) fn union(parts: Vec<LazyFrame>) -> LazyFrame {
    // The empty frame first makes the list non-empty, the only case concat rejects.
    let mut all = vec![empty_anomalies()];
    all.extend(parts.into_iter().map(to_anomalies));
    concat(all, UnionArgs::default()).unwrap_or_else(|_| empty_anomalies())
}

/// A date as a literal expression of dtype Date.
pub(crate) fn date_lit(d: NaiveDate) -> Expr {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    lit((d - epoch).num_days() as i32).cast(DataType::Date)
}
