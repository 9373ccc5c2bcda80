//! Benchmarks of the activity signals and the risk scores on generated frames of several sizes,
//! throughput in input rows. Inputs are generated here, never committed.
//! Run: `cargo bench --bench risk` (needs `[[bench]] name = "risk" harness = false`).

use billrisk::analysis::anomalies::{activity_signals, AnomalyConfig};
use billrisk::analysis::risk::{risk_scores, RiskConfig};
use billrisk::schema::{activity as act, anomalies as an, customers as cu, dispositions as di};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use polars::prelude::*;

const AS_OF: (i32, u32, u32) = (2026, 10, 14);

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).unwrap_or_default()
}

/// `rows` Activity Log events of rows / 200 customers over 97 days, a few new callers, IPs and
/// regions near the as-of date.
fn activity(rows: usize) -> LazyFrame {
    const OPS: [&str; 4] = [
        "microsoft.compute/disks/write",
        "microsoft.compute/virtualmachines/write",
        "microsoft.authorization/roleassignments/write",
        "microsoft.storage/storageaccounts/read",
    ];
    const REGIONS: [&str; 5] = [
        "eastus",
        "westeurope",
        "southeastasia",
        "brazilsouth",
        "japaneast",
    ];
    let customers = (rows / 200).max(1);
    let epoch_days = (as_of() - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days();
    let mut time = Vec::with_capacity(rows);
    let (mut cust, mut op, mut status, mut caller, mut ip, mut loc, mut role) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in 0..rows {
        let c = i % customers;
        let day = epoch_days - (i * 7919 % 97) as i64;
        time.push((day * 86_400 + (i % 86_400) as i64) * 1_000_000);
        cust.push(format!("c{c:05}"));
        op.push(OPS[i % OPS.len()]);
        status.push(if i % 17 == 0 { "Failed" } else { "Succeeded" });
        let recent = day > epoch_days - 7;
        caller.push(if recent && i % 13 == 0 {
            format!("new{c}@x.io")
        } else {
            format!("u{c}@c.com")
        });
        ip.push(if recent && i % 11 == 0 {
            format!("203.0.113.{}", i % 250)
        } else {
            format!("10.0.{}.1", c % 250)
        });
        loc.push(REGIONS[if recent { i % 5 } else { 0 }]);
        role.push(if i % 3 == 0 { "Owner" } else { "Reader" });
    }
    let df = df!(
        act::EVENT_TIME => time,
        act::CUSTOMER_ID => cust,
        act::OPERATION_LOWER => op,
        act::STATUS => status,
        act::CALLER => caller,
        act::CLIENT_IP => ip,
        act::LOCATION => loc,
        act::ROLE => role,
    );
    let Ok(df) = df else {
        return act::DEF.empty().lazy();
    };
    let exprs: Vec<Expr> = act::DEF
        .schema()
        .iter()
        .map(|(name, dtype)| {
            if df.schema().contains(name) {
                col(name.clone()).cast(dtype.clone())
            } else {
                lit(NULL).cast(dtype.clone()).alias(name.clone())
            }
        })
        .collect();
    df.lazy().select(exprs)
}

/// `rows` anomalies over rows / 5 customers, signals cycling through every reason code.
fn anomalies(rows: usize) -> LazyFrame {
    let codes = billrisk::analysis::reasons::ALL;
    let customers = (rows / 5).max(1);
    let pick = |i: usize| &codes[i * 7 % codes.len()];
    let df = df!(
        an::CUSTOMER_ID => (0..rows).map(|i| format!("c{:05}", i % customers)).collect::<Vec<_>>(),
        an::ENTITY => (0..rows).map(|i| format!("e{i}")).collect::<Vec<_>>(),
        an::FAMILY => (0..rows).map(|i| pick(i).family).collect::<Vec<_>>(),
        an::SIGNAL => (0..rows).map(|i| pick(i).code).collect::<Vec<_>>(),
        an::DATE => (0..rows).map(|i| 20_000 + (i % 30) as i32).collect::<Vec<_>>(),
        an::ACTUAL => (0..rows).map(|i| i as f64).collect::<Vec<_>>(),
        an::EXPECTED => (0..rows).map(|_| 1.0).collect::<Vec<_>>(),
        an::SCORE => (0..rows).map(|i| (i % 40) as f64 / 10.0).collect::<Vec<_>>(),
        an::REASON => (0..rows).map(|i| format!("reason {i}")).collect::<Vec<_>>(),
        an::SUPPRESSED => (0..rows).map(|i| i % 29 == 0).collect::<Vec<_>>(),
    );
    let Ok(df) = df else {
        return an::DEF.empty().lazy();
    };
    df.lazy().with_column(col(an::DATE).cast(DataType::Date))
}

fn exposure(customers: usize) -> LazyFrame {
    let df = df!(
        "customer_id" => (0..customers).map(|c| format!("c{c:05}")).collect::<Vec<_>>(),
        "currency" => (0..customers).map(|_| "USD").collect::<Vec<_>>(),
        "exposure" => (0..customers).map(|c| c as f64 * 10.0).collect::<Vec<_>>(),
    );
    df.map(|d| d.lazy())
        .unwrap_or_else(|_| DataFrame::empty().lazy())
}

fn bench_activity(c: &mut Criterion) {
    let mut group = c.benchmark_group("activity_signals");
    group.sample_size(10);
    let cfg = AnomalyConfig::default();
    for rows in [10_000usize, 100_000, 1_000_000] {
        let Ok(events) = activity(rows).collect() else {
            continue;
        };
        let audit = billrisk::schema::audit_records::DEF.empty().lazy();
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::from_parameter(rows), &events, |b, events| {
            b.iter(|| {
                activity_signals(events.clone().lazy(), audit.clone(), as_of(), &cfg).collect()
            })
        });
    }
    group.finish();
}

fn bench_risk(c: &mut Criterion) {
    let mut group = c.benchmark_group("risk_scores");
    group.sample_size(10);
    let cfg = RiskConfig::default();
    for rows in [10_000usize, 100_000, 1_000_000] {
        let (Ok(an), Ok(exp)) = (anomalies(rows).collect(), exposure(rows / 5).collect()) else {
            continue;
        };
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(rows),
            &(an, exp),
            |b, (an, exp)| {
                b.iter(|| {
                    risk_scores(
                        an.clone().lazy(),
                        cu::DEF.empty().lazy(),
                        exp.clone().lazy(),
                        di::DEF.empty().lazy(),
                        as_of(),
                        &cfg,
                    )
                    .collect()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_activity, bench_risk);
criterion_main!(benches);
