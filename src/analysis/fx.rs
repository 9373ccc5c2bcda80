//! Currency conversion for the reporting currency (SPEC `--reporting-currency`): the rate of each
//! currency on the as-of date is its latest fx_rates row dated on or before A (period-end
//! revaluation, as finance does for receivables). A currency with no such rate stays unconverted
//! and the converted figure is null, never a guess.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::schema::fx_rates as fx;

/// Column of `rates_at`'s output: units of the reporting currency per unit of `currency`.
pub const RATE: &str = "rate";

/// One row per currency: its rate into the reporting currency on `as_of`. The reporting currency
/// itself is always present with rate 1.
pub fn rates_at(fx_rates: LazyFrame, as_of: NaiveDate, reporting_currency: &str) -> LazyFrame {
    let latest = fx_rates
        .filter(col(fx::DATE).lt_eq(lit(as_of)))
        .filter(col(fx::CURRENCY).neq(lit(reporting_currency.to_string())))
        .sort_by_exprs(
            [col(fx::CURRENCY), col(fx::DATE)],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .group_by([col(fx::CURRENCY)])
        .agg([col(fx::RATE).last().alias(RATE)]);
    let own = df!(fx::CURRENCY => [reporting_currency.to_string()], RATE => [1.0f64])
        .map(|d| d.lazy())
        .unwrap_or_else(|_| latest.clone().limit(0));
    concat([own, latest], UnionArgs::default())
        .unwrap_or_else(|_| fx_rates_empty())
        .sort([fx::CURRENCY], SortMultipleOptions::default())
}

fn fx_rates_empty() -> LazyFrame {
    df!(fx::CURRENCY => Vec::<String>::new(), RATE => Vec::<f64>::new())
        .map(|d| d.lazy())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::d;

    #[test]
    fn latest_rate_on_or_before_as_of() {
        let rates = df!(
            fx::DATE => [d(2026, 10, 1), d(2026, 10, 15), d(2026, 10, 20), d(2026, 10, 10)],
            fx::CURRENCY => ["EUR", "EUR", "EUR", "GBP"],
            fx::RATE => [1.05, 1.08, 1.20, 1.25],
        )
        .unwrap()
        .lazy();
        let out = rates_at(rates, d(2026, 10, 16), "USD").collect().unwrap();
        let cur: Vec<_> = out
            .column(fx::CURRENCY)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        let rate: Vec<_> = out
            .column(RATE)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        // EUR: 10-20 is after the as-of date, so 10-15's 1.08; GBP 1.25; USD itself 1.
        assert_eq!(cur, ["EUR", "GBP", "USD"]);
        assert_eq!(rate, [1.08, 1.25, 1.0]);
    }
}
