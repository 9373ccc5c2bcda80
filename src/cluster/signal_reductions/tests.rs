//! The usage signals' reductions on both engines against hand-computed figures and against the
//! local plans (`usage_signals`).

use super::*;
use crate::cluster::reductions::{run_polars, tests::f64s, tests::strs};

/// A = Wednesday 2026-10-14: recent window Oct 8 ..= 14, baseline Sep 10 ..= Oct 7 (defaults).
fn a() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 14).unwrap()
}

fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

/// Usage lines with every canonical column: the ones given, nulls elsewhere.
fn lines() -> DataFrame {
    let vm = Some("Virtual Machines");
    let nc = (Some("NCv3 Series"), Some("NC6s v3"));
    let given = df!(
        u::CUSTOMER_ID => [Some("c1"), Some("c1"), Some("c1"), Some("c1"), Some("c1"), Some("c1"), Some("c1"), Some("c1"), Some("c1"), None, Some("c2"), Some("c1")],
        u::CUSTOMER_COUNTRY => [Some("US"), Some("US"), Some("US"), Some("US"), None, Some("US"), Some("US"), Some("US"), Some("US"), Some("US"), Some("DE"), Some("US")],
        u::CURRENCY => [Some("USD"), Some("USD"), Some("USD"), Some("USD"), Some("USD"), Some("USD"), Some("USD"), Some("USD"), Some("USD"), Some("USD"), None, Some("USD")],
        u::ENTITLEMENT_ID => [Some("s1"), Some("s1"), Some("s1"), Some("s1"), Some("s1"), Some("s1"), Some("s1"), Some("s1"), Some("s1"), Some("s1"), None, Some("s1")],
        u::METER_CATEGORY => [vm, vm, vm, vm, Some("Storage"), vm, vm, vm, vm, vm, vm, vm],
        u::METER_SUBCATEGORY => [nc.0, nc.0, nc.0, nc.0, Some("Tables"), Some("Dv3 Series"), nc.0, nc.0, nc.0, nc.0, nc.0, nc.0],
        u::METER_NAME => [nc.1, nc.1, nc.1, nc.1, Some("LRS"), Some("D4s v3"), nc.1, nc.1, nc.1, nc.1, nc.1, nc.1],
        u::REGION => [Some("westeurope"), Some("westeurope"), Some("westeurope"), Some("westeurope"), None, Some("westeurope"), Some("westeurope"), Some("westeurope"), Some("westeurope"), Some("westeurope"), Some("eastus"), Some("westeurope")],
        u::RESOURCE_ID => [Some("/subs/vm1"), Some("/subs/vm1"), Some("/subs/vm1"), Some("/subs/vm1"), None, Some(""), Some("/subs/vm1"), Some("/subs/vm1"), Some("/subs/vm1"), Some("/subs/vm1"), Some("/subs/vm2"), Some("/subs/vm1")],
        u::UNIT => [Some("1 Hour"), Some("1 Hour"), Some("1 Hour"), Some("1 Hour"), Some("10K"), Some("10 Hours"), Some("1 Hour"), Some("1 Hour"), Some("1 Hour"), Some("1 Hour"), Some("1 Hour"), Some("1 Hour")],
        u::USAGE_DATE => [d(10, 12), d(10, 13), d(10, 13), d(9, 20), d(9, 15), d(10, 14), d(10, 12), d(10, 12), d(10, 15), d(10, 12), d(10, 14), d(10, 14)],
        u::CHARGE_CATEGORY => [Some("Usage"), None, Some("Usage"), Some("Usage"), Some("Usage"), Some("Usage"), Some("Usage"), Some("Purchase"), Some("Usage"), Some("Usage"), Some("Usage"), Some("Usage")],
        u::CHARGE_CLASS => [None, None, None, None, None, None, Some("Correction"), None, None, None, None, None],
        u::QUANTITY => [Some(24.0), Some(24.0), None, Some(1.0), Some(3.0), Some(2.4), Some(-24.0), Some(1.0), Some(24.0), Some(24.0), Some(23.5), Some(24.0)],
        // 0.1 + 0.2 is 0.30000000000000004 as floats, 0.3 as exact sums.
        u::COST => [10.0, 0.1, 0.2, 5.0, 2.0, 60.0, -1.0, 100.0, 50.0, 7.0, 3.0, 50.0],
    )
    .unwrap();
    let empty = crate::schema::usage::DEF.empty();
    concat(
        [empty.lazy(), given.lazy()],
        UnionArgs {
            to_supertypes: true,
            diagonal: true,
            ..Default::default()
        },
    )
    .unwrap()
    .collect()
    .unwrap()
}

fn cfg() -> UsageSignalConfig {
    UsageSignalConfig::default()
}

fn sorted(lf: LazyFrame, keys: &[&str]) -> DataFrame {
    lf.sort(keys.to_vec(), SortMultipleOptions::default())
        .collect()
        .unwrap()
}

fn i32s(df: &DataFrame, c: &str) -> Vec<Option<i32>> {
    df.column(c).unwrap().i32().unwrap().iter().collect()
}

/// Days since 1970-01-01 of a date (the signals' day numbers).
fn n(date: NaiveDate) -> Option<i32> {
    Some((date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32)
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// The GPU meters of the fixture, as the pipeline names them in the SQL.
fn gpu_meters() -> Vec<(String, String)> {
    vec![("NCv3 Series".into(), "NC6s v3".into())]
}

/// The engines: Polars' SQL and (with the feature) DataFusion's, each over [`lines`].
fn engines() -> Vec<(&'static str, Box<dyn Fn(&Reduction) -> LazyFrame>)> {
    #[cfg_attr(not(feature = "cluster"), allow(unused_mut))]
    let mut v: Vec<(&'static str, Box<dyn Fn(&Reduction) -> LazyFrame>)> = vec![(
        "polars",
        Box::new(|r: &Reduction| run_polars(r, lines().lazy()).unwrap()),
    )];
    #[cfg(feature = "cluster")]
    v.push((
        "datafusion",
        Box::new(|r: &Reduction| {
            crate::cluster::reductions::tests::on_datafusion_over(r, lines()).lazy()
        }),
    ));
    v
}

#[test]
fn the_summary_sql_gives_the_hand_computed_summary_and_the_local_plan_on_each_engine() {
    let local = sorted(
        signals::usage_summary(lines().lazy(), a(), &cfg()),
        &c::SUMMARY_KEYS,
    );
    for (engine, run) in engines() {
        let out = sorted(
            summary(run(&summary_sql(signals::window_dates(a(), &cfg())))),
            &c::SUMMARY_KEYS,
        );
        // c1's NC meter: lines on Sep 20 (baseline, 5) and Oct 12-14 (10 + 0.1 + 0.2 + 50; the
        // Correction, the Purchase, the 15th and the line without customer are not counted),
        // the region lower-cased; c1's D4s v3 on the 14th (60); c1's storage on Sep 15 (2, no
        // region); c2 without currency nor subscription (empty keys), 3 on the 14th.
        assert_eq!(
            strs(&out, u::CUSTOMER_ID),
            [s("c1"), s("c1"), s("c1"), s("c2")],
            "{engine}"
        );
        assert_eq!(
            strs(&out, u::METER_NAME),
            [s("LRS"), s("D4s v3"), s("NC6s v3"), s("NC6s v3")],
            "{engine}"
        );
        assert_eq!(
            strs(&out, u::REGION),
            [s(""), s("westeurope"), s("westeurope"), s("eastus")],
            "{engine}"
        );
        assert_eq!(
            strs(&out, u::CURRENCY),
            [s("USD"), s("USD"), s("USD"), s("")],
            "{engine}"
        );
        assert_eq!(
            f64s(&out, c::BASE_SUM),
            [Some(2.0), Some(0.0), Some(5.0), Some(0.0)],
            "{engine}"
        );
        assert_eq!(
            f64s(&out, c::RECENT_SUM),
            [Some(0.0), Some(60.0), Some(60.3), Some(3.0)],
            "{engine}"
        );
        assert_eq!(
            i32s(&out, c::FIRST),
            [n(d(9, 15)), n(d(10, 14)), n(d(9, 20)), n(d(10, 14))],
            "{engine}"
        );
        assert_eq!(
            strs(&out, u::CUSTOMER_COUNTRY),
            [None, s("US"), s("US"), s("DE")],
            "{engine}"
        );
        assert!(out.equals_missing(&local), "{engine}\n{out}\n{local}");
    }
}

#[test]
fn the_gpu_daily_sql_gives_the_hand_computed_costs_and_the_local_plan_on_each_engine() {
    let summary_lf = signals::usage_summary(lines().lazy(), a(), &cfg());
    // The pipeline's GPU meters of the fixture: the NC series only.
    let keys = signals::gpu_meter_keys(summary_lf.clone(), &cfg())
        .collect()
        .unwrap();
    assert_eq!(strs(&keys, u::METER_NAME), [s("NC6s v3")]);
    let series_day = c::SERIES_DAY;
    let local = sorted(
        signals::gpu_daily(lines().lazy(), summary_lf, a(), &cfg()),
        &series_day,
    );
    for (engine, run) in engines() {
        let out = sorted(
            gpu_daily(run(&gpu_daily_sql(a(), &gpu_meters()))),
            &series_day,
        );
        // c1's NC lines per day: Sep 20 5, Oct 12 10, Oct 13 0.1 + 0.2, Oct 14 50; c2's 3.
        assert_eq!(
            f64s(&out, c::GPU_COST),
            [Some(5.0), Some(10.0), Some(0.3), Some(50.0), Some(3.0)],
            "{engine}"
        );
        assert_eq!(
            i32s(&out, c::DAY),
            [
                n(d(9, 20)),
                n(d(10, 12)),
                n(d(10, 13)),
                n(d(10, 14)),
                n(d(10, 14))
            ],
            "{engine}"
        );
        assert!(out.equals_missing(&local), "{engine}\n{out}\n{local}");
        // No GPU meter: no rows.
        let none = gpu_daily(run(&gpu_daily_sql(a(), &[]))).collect().unwrap();
        assert_eq!(none.height(), 0, "{engine}");
    }
}

#[test]
fn the_resource_days_sql_gives_the_hand_computed_days_and_the_local_round_the_clock() {
    let summary_lf = signals::usage_summary(lines().lazy(), a(), &cfg());
    let local = signals::round_the_clock_signals(lines().lazy(), summary_lf.clone(), a(), &cfg())
        .collect()
        .unwrap();
    // The one new 24-hour resource is c1's D4s v3 without a resource id (2.4 x "10 Hours" on
    // the 14th, 60): vm1 ran full days on the 12th to the 14th but was seen on Sep 20, c2's
    // vm2 ran 23.5 hours on a customer without history.
    assert_eq!(local.height(), 1);
    assert_eq!(f64s(&local, crate::schema::anomalies::ACTUAL), [Some(60.0)]);
    let day_keys = [
        u::CUSTOMER_ID,
        u::CURRENCY,
        u::METER_CATEGORY,
        u::METER_NAME,
        c::RESOURCE,
        c::DAY,
    ];
    for (engine, run) in engines() {
        let (recent, seen) = resource_days(run(&resource_days_sql(a(), d(10, 8))));
        let days = sorted(recent.clone(), &day_keys);
        assert_eq!(
            strs(&days, c::RESOURCE),
            [
                s("meter:/Virtual Machines/D4s v3"),
                s("/subs/vm1"),
                s("/subs/vm1"),
                s("/subs/vm1"),
                s("/subs/vm2")
            ],
            "{engine}"
        );
        assert_eq!(
            f64s(&days, c::HOURS),
            [Some(24.0), Some(24.0), Some(24.0), Some(24.0), Some(23.5)],
            "{engine}"
        );
        assert_eq!(
            f64s(&days, u::COST),
            [Some(60.0), Some(10.0), Some(0.3), Some(50.0), Some(3.0)],
            "{engine}"
        );
        let seen = sorted(seen, &[u::CUSTOMER_ID]);
        assert_eq!(strs(&seen, c::RESOURCE), [s("/subs/vm1")], "{engine}");
        let rows = signals::round_the_clock_from_reductions(
            recent,
            seen.lazy(),
            summary_lf.clone(),
            a(),
            &cfg(),
        )
        .collect()
        .unwrap();
        assert!(rows.equals_missing(&local), "{engine}\n{rows}\n{local}");
    }
}

#[test]
fn quotes_in_meter_names_are_sql_literals() {
    let r = gpu_daily_sql(a(), &[("O'Brien".into(), "x".into())]);
    assert!(r.sql.contains("'O''Brien'"), "{}", r.sql);
    let out = run_polars(&r, lines().lazy()).unwrap().collect().unwrap();
    assert_eq!(out.height(), 0);
}
