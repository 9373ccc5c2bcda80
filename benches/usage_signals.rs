//! Benchmark of the usage signals (SPEC 4.4, usage family) on generated canonical usage of 100k
//! and 1M rows: 90 days of daily lines per customer, a few meters, resources and regions each, with
//! spikes, new GPU meters, new regions and cold-start customers planted so that every signal's
//! plan does real work. Throughput is reported in usage rows per second.
//!
//! Run with `cargo bench --bench usage_signals` (needs the `[[bench]]` entry in Cargo.toml).

use std::hint::black_box;

use billrisk::analysis::usage_signals::{usage_signals, UsageSignalConfig};
use billrisk::schema::{customers as cu, usage as us};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use polars::prelude::*;

const DAYS: usize = 90;
const LINES_PER_CUSTOMER_DAY: usize = 5;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 14).unwrap()
}

/// A small deterministic generator (splitmix64), so the bench needs no data files.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Canonical usage of about `rows` rows (whole customer-days) and the matching customers table.
fn generate(rows: usize) -> (DataFrame, DataFrame) {
    let customers = (rows / (DAYS * LINES_PER_CUSTOMER_DAY)).max(1);
    let a = as_of();
    let meters = [
        ("Virtual Machines", "Dv3 Series", "D4s v3", "1 Hour"),
        (
            "Storage",
            "Premium SSD Managed Disks",
            "P10 LRS Disk",
            "1/Month",
        ),
        ("Bandwidth", "", "Standard Data Transfer Out", "1 GB"),
        ("SQL Database", "", "vCore", "1 Hour"),
        ("Virtual Machines", "Dv3 Series", "D8s v3", "1 Hour"),
    ];
    let regions = ["westeurope", "northeurope", "eastus"];
    let countries = ["DE", "FR", "US", "GB"];
    let mut mix = Mix(42);

    let mut cust = Vec::with_capacity(rows);
    let mut country = Vec::with_capacity(rows);
    let mut ent = Vec::with_capacity(rows);
    let mut date = Vec::with_capacity(rows);
    let mut category = Vec::with_capacity(rows);
    let mut sub = Vec::with_capacity(rows);
    let mut name = Vec::with_capacity(rows);
    let mut region = Vec::with_capacity(rows);
    let mut resource = Vec::with_capacity(rows);
    let mut unit = Vec::with_capacity(rows);
    let mut qty = Vec::with_capacity(rows);
    let mut cost = Vec::with_capacity(rows);
    let mut currency = Vec::with_capacity(rows);

    for c in 0..customers {
        let id = format!("{c:08x}-0000-4000-8000-000000000000");
        let level = 10.0 + 2000.0 * mix.unit().powi(3);
        // One customer in 50 is a cold start: usage only in the last 5 days.
        let first_day = if c % 50 == 7 { 5 } else { DAYS };
        let planted = c % 97;
        for back in (0..first_day).rev() {
            let d = a - chrono::Duration::days(back as i64);
            for (m, (cat, s, n, u)) in meters.iter().enumerate() {
                let (mut s, mut n, mut r) = (*s, *n, regions[c % regions.len()]);
                let mut factor = 1.0 + 0.2 * (mix.unit() - 0.5);
                if back < 4 && m == 4 && planted == 3 {
                    (s, n) = ("NCv3 Series", "NC24s v3"); // a new GPU meter
                    factor = 20.0;
                }
                if back < 3 && m == 1 && planted == 5 {
                    r = "southeastasia"; // a new region
                }
                if back == 0 && m == 0 && planted == 11 {
                    factor = 30.0; // a spike
                }
                cust.push(id.clone());
                country.push(countries[c % countries.len()]);
                ent.push(format!("{id}-sub{}", m % 2));
                date.push(d);
                category.push(*cat);
                sub.push(s);
                name.push(n);
                region.push(r);
                resource.push(format!("/subscriptions/{id}/vm{m}"));
                unit.push(*u);
                qty.push(if *u == "1 Hour" { 24.0 } else { 1.0 });
                cost.push(level * factor / LINES_PER_CUSTOMER_DAY as f64);
                currency.push(if c % 4 == 0 { "EUR" } else { "USD" });
            }
        }
    }
    let n = cust.len();
    let usage = df!(
        us::CUSTOMER_ID => &cust,
        us::CUSTOMER_NAME => &cust,
        us::CUSTOMER_COUNTRY => &country,
        us::INVOICE_NUMBER => vec![None::<&str>; n],
        us::SUBSCRIPTION_ID => vec!["plan"; n],
        us::ENTITLEMENT_ID => &ent,
        us::USAGE_DATE => &date,
        us::METER_CATEGORY => &category,
        us::METER_SUBCATEGORY => &sub,
        us::METER_NAME => &name,
        us::METER_ID => vec!["meter"; n],
        us::REGION => &region,
        us::RESOURCE_ID => &resource,
        us::CHARGE_TYPE => vec!["Usage"; n],
        us::UNIT_PRICE => vec![1.0; n],
        us::QUANTITY => &qty,
        us::UNIT => &unit,
        us::COST => &cost,
        us::CURRENCY => &currency,
        us::SOURCE_FILE => vec!["usage.csv"; n],
        us::SOURCE_LINE => (1..=n as i64).collect::<Vec<_>>(),
    )
    .expect("usage frame");
    let ids: Vec<String> = (0..customers)
        .map(|c| format!("{c:08x}-0000-4000-8000-000000000000"))
        .collect();
    let customers_df = df!(
        cu::CUSTOMER_ID => &ids,
        cu::CUSTOMER_NAME => &ids,
        cu::COUNTRY => (0..customers).map(|c| countries[c % countries.len()]).collect::<Vec<_>>(),
        cu::CREATED_DATE => vec![a - chrono::Duration::days(400); customers],
        cu::VERIFIED => vec![true; customers],
        cu::CREDIT_LIMIT => (0..customers).map(|c| [500.0, 5_000.0, 50_000.0][c % 3]).collect::<Vec<_>>(),
        cu::SOURCE_FILE => vec!["customers.csv"; customers],
        cu::SOURCE_LINE => (1..=customers as i64).collect::<Vec<_>>(),
    )
    .expect("customers frame");
    (usage, customers_df)
}

fn bench_usage_signals(c: &mut Criterion) {
    let cfg = UsageSignalConfig::default();
    let mut group = c.benchmark_group("usage_signals");
    group.sample_size(10);
    for rows in [100_000usize, 1_000_000] {
        let (usage, customers) = generate(rows);
        // usage_daily is computed (and staged) before the signals in a run, so outside the timing.
        let daily = billrisk::analysis::usage_daily::usage_daily_collecting_series(
            usage.clone().lazy(),
            as_of(),
        )
        .expect("usage_daily plan")
        .collect()
        .expect("usage_daily");
        group.throughput(Throughput::Elements(usage.height() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(rows), &rows, |b, _| {
            b.iter(|| {
                let out = usage_signals(
                    usage.clone().lazy(),
                    daily.clone().lazy(),
                    customers.clone().lazy(),
                    as_of(),
                    &cfg,
                )
                .collect()
                .expect("usage signals");
                black_box(out.height())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_usage_signals);
criterion_main!(benches);
