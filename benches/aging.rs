//! Throughput of receivables aging (SPEC 4.1): aging_invoices, unapplied_credit and
//! aging_customers collected together on a generated ledger of 1M invoices and about 1M payments,
//! in ledger rows (invoices + payments) per second. Inputs are generated here from a fixed seed,
//! never committed.
//!
//! Run: `cargo bench --bench aging` (release build; `-- --save-baseline NAME` to keep a baseline).

use std::hint::black_box;

use billrisk::analysis::aging::{aging_customers, aging_invoices, unapplied_credit, AgingConfig};
use billrisk::schema::{self, invoices as inv, payments as pay};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use polars::prelude::*;
use rand::{Rng, SeedableRng};

/// A ledger of `n` invoices over 3% of as many customers, with one payment per invoice on
/// average: full, partial, over- and late payments, some unapplied or in another currency.
fn ledger(n: usize, as_of: NaiveDate) -> (DataFrame, DataFrame) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let epoch = NaiveDate::default();
    let a_day = as_of.signed_duration_since(epoch).num_days();
    let currencies = ["EUR", "USD", "GBP"];
    let customers = (n / 30).max(1);
    let date = |d: i64| epoch + chrono::Duration::days(d);

    let (mut i_id, mut i_cust, mut i_cur, mut i_issue, mut i_due, mut i_amt) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut p_id, mut p_cust, mut p_inv, mut p_date, mut p_amt, mut p_cur) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for k in 0..n {
        let c = rng.random_range(0..customers);
        let cust = format!("c{c:06}");
        let cur = currencies[c % 3];
        let issue = a_day - rng.random_range(-20..=400);
        let amount: i128 = if rng.random_bool(0.03) {
            -rng.random_range(1..=1_000_000)
        } else {
            rng.random_range(0..=500_000) * 100
        };
        let id = format!("INV-{k:08}");
        let roll: f64 = rng.random();
        let paid = if roll < 0.5 {
            Some(amount)
        } else if roll < 0.75 {
            Some(amount / 3)
        } else if roll < 0.85 {
            Some(amount + 12_300)
        } else if roll < 0.95 {
            None
        } else {
            Some(amount)
        };
        if let Some(p) = paid {
            p_id.push(format!("P-{:08}", p_id.len()));
            p_cust.push(cust.clone());
            // 5% name no invoice, 1% another currency.
            p_inv.push((!rng.random_bool(0.05)).then(|| id.clone()));
            p_cur.push(if rng.random_bool(0.01) { "CHF" } else { cur });
            p_date.push(date(issue + rng.random_range(0..=90)));
            p_amt.push(p);
        }
        i_id.push(id);
        i_cust.push(cust);
        i_cur.push(cur);
        i_issue.push(date(issue));
        i_due.push(date(issue + 30));
        i_amt.push(amount);
    }
    let dec = |name: &str, v: Vec<i128>| {
        Int128Chunked::from_vec(name.into(), v)
            .into_decimal_unchecked(schema::LEDGER_PRECISION, schema::LEDGER_SCALE)
            .into_series()
            .into_column()
    };
    let mut invoices = df!(
        inv::INVOICE_ID => i_id,
        inv::CUSTOMER_ID => i_cust,
        inv::ISSUE_DATE => i_issue,
        inv::DUE_DATE => i_due,
        inv::CURRENCY => i_cur,
        inv::SERVICE_MONTH => vec![None::<&str>; n],
        inv::SOURCE_FILE => vec!["invoices.csv"; n],
        inv::SOURCE_LINE => (2..n as i64 + 2).collect::<Vec<_>>(),
    )
    .expect("invoice frame");
    invoices
        .with_column(dec(inv::AMOUNT, i_amt))
        .expect("invoice amounts");
    let m = p_id.len();
    let mut payments = df!(
        pay::PAYMENT_ID => p_id,
        pay::CUSTOMER_ID => p_cust,
        pay::INVOICE_ID => p_inv,
        pay::PAYMENT_DATE => p_date,
        pay::CURRENCY => p_cur,
        pay::INSTRUMENT => vec!["bank_transfer"; m],
        pay::SOURCE_FILE => vec!["payments.csv"; m],
        pay::SOURCE_LINE => (2..m as i64 + 2).collect::<Vec<_>>(),
    )
    .expect("payment frame");
    payments
        .with_column(dec(pay::AMOUNT, p_amt))
        .expect("payment amounts");
    (invoices, payments)
}

fn bench_aging(c: &mut Criterion) {
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).expect("date");
    let cfg = AgingConfig::default();
    let mut group = c.benchmark_group("aging");
    group.sample_size(10);
    for n in [100_000usize, 1_000_000] {
        let (invoices, payments) = ledger(n, as_of);
        group.throughput(Throughput::Elements(
            (invoices.height() + payments.height()) as u64,
        ));
        group.bench_function(format!("aging_invoices+aging_customers/{n}"), |b| {
            b.iter(|| {
                let (i, p) = (invoices.clone().lazy(), payments.clone().lazy());
                let aged = aging_invoices(i.clone(), p.clone(), as_of, &cfg);
                let credit = unapplied_credit(i.clone(), p, as_of);
                let customers = aging_customers(aged.clone(), credit, i, as_of, &cfg);
                // One plan for both, as the pipeline collects them: the shared ledger runs once.
                let opt = aged.get_current_optimizations();
                let out = LazyFrame::collect_all_with_engine(
                    vec![aged.logical_plan, customers.logical_plan],
                    Engine::Auto,
                    opt,
                )
                .expect("aging");
                black_box(out)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_aging);
criterion_main!(benches);
