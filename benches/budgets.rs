//! Criterion bench of `budget_status` (SPEC 4.2) on generated usage frames of 100k and 1M rows,
//! throughput in usage rows per second. Inputs are generated here, never committed: one customer
//! per 500 rows, spread over November 2026 up to the as-of date, every tenth customer billed in
//! EUR against a USD budget so the fx conversion path is measured too.
//!
//! Run with `cargo bench --bench budgets` (needs `[[bench]] name = "budgets" harness = false`).

use billrisk::analysis::budgets::{budget_status, BudgetConfig};
use billrisk::schema::{budgets as b, fx_rates as fx, usage as u};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use polars::prelude::*;

const ROWS_PER_CUSTOMER: usize = 500;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).expect("a valid date")
}

/// `rows` usage rows: customer, currency, date (days 1..=24 of November), cost.
fn usage_frame(rows: usize) -> DataFrame {
    let customers = (rows / ROWS_PER_CUSTOMER).max(1);
    let customer = |i: usize| i % customers;
    let ids: Vec<String> = (0..rows).map(|i| format!("c{:07}", customer(i))).collect();
    let currencies: Vec<&str> = (0..rows)
        .map(|i| if customer(i) % 10 == 0 { "EUR" } else { "USD" })
        .collect();
    let dates: Vec<NaiveDate> = (0..rows)
        .map(|i| NaiveDate::from_ymd_opt(2026, 11, 1 + (i % 24) as u32).expect("a valid date"))
        .collect();
    // Deterministic costs between 0 and 99.9 (a multiplicative hash, no RNG needed).
    let costs: Vec<f64> = (0..rows)
        .map(|i| ((i * 7919) % 1000) as f64 / 10.0)
        .collect();
    df!(
        u::CUSTOMER_ID => ids,
        u::CURRENCY => currencies,
        u::USAGE_DATE => dates,
        u::COST => costs,
    )
    .expect("bench usage frame")
}

/// One standing USD budget per customer.
fn budgets_frame(rows: usize) -> DataFrame {
    let customers = (rows / ROWS_PER_CUSTOMER).max(1);
    df!(
        b::CUSTOMER_ID => (0..customers).map(|c| format!("c{c:07}")).collect::<Vec<_>>(),
        b::MONTH => vec![None::<&str>; customers],
        b::BUDGET => (0..customers).map(|c| 20_000.0 + (c % 7) as f64 * 1_000.0).collect::<Vec<_>>(),
        b::CURRENCY => vec!["USD"; customers],
        b::SOURCE_FILE => vec!["budgets.csv"; customers],
        b::SOURCE_LINE => (2..customers as i64 + 2).collect::<Vec<_>>(),
    )
    .expect("bench budgets frame")
}

fn fx_frame() -> DataFrame {
    df!(
        fx::DATE => [NaiveDate::from_ymd_opt(2026, 11, 1).expect("a valid date")],
        fx::CURRENCY => ["EUR"],
        fx::RATE => [1.08],
    )
    .expect("bench fx frame")
}

fn bench_budget_status(c: &mut Criterion) {
    let mut group = c.benchmark_group("budget_status");
    group.sample_size(10);
    let cfg = BudgetConfig::default();
    let rates = fx_frame();
    for rows in [100_000usize, 1_000_000] {
        let usage = usage_frame(rows);
        let budgets = budgets_frame(rows);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::from_parameter(rows), &rows, |bench, _| {
            bench.iter(|| {
                budget_status(
                    usage.clone().lazy(),
                    budgets.clone().lazy(),
                    rates.clone().lazy(),
                    as_of(),
                    Some("USD"),
                    &cfg,
                )
                .collect()
                .expect("budget_status")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_budget_status);
criterion_main!(benches);
