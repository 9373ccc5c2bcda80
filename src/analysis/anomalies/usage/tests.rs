//! Unit tests of the usage family on tiny frames, checked against hand-computed figures.

use super::peers::{band_expr, NO_LIMIT_BAND};
use super::*;
use crate::analysis::anomalies::evidence::{amount_text, plain_amount};
use crate::analysis::reasons::{
    GPU_METER, NEW_METER, NEW_REGION, PEER_OUTLIER, ROUND_THE_CLOCK, USAGE_SPIKE,
};
use crate::schema;
use crate::schema::customers as cu;
use chrono::Datelike;
use chrono::{Duration, Weekday};

/// A = Wednesday 2026-10-14; recent window = 2026-10-08 ..= 2026-10-14 (7 days).
fn a() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 14).unwrap()
}

fn day(days_before_a: i64) -> NaiveDate {
    a() - Duration::days(days_before_a)
}

#[derive(Clone)]
struct Line {
    customer: &'static str,
    ent: &'static str,
    category: &'static str,
    sub: &'static str,
    name: &'static str,
    region: &'static str,
    resource: &'static str,
    unit: &'static str,
    qty: f64,
    cost: f64,
    date: NaiveDate,
    currency: &'static str,
    country: &'static str,
}

/// A D4s v3 VM line of `customer` in westeurope, `days_before_a` days before A.
fn vm(customer: &'static str, days_before_a: i64, cost: f64) -> Line {
    Line {
        customer,
        ent: "sub1",
        category: "Virtual Machines",
        sub: "Dv3 Series",
        name: "D4s v3",
        region: "westeurope",
        resource: "",
        unit: "1 Hour",
        qty: 0.0,
        cost,
        date: day(days_before_a),
        currency: "USD",
        country: "US",
    }
}

/// A D4s v3 resource of `customer` running `qty` hours a day at `cost` a day, on each of `days`
/// (days before A).
fn running(
    customer: &'static str,
    resource: &'static str,
    qty: f64,
    cost: f64,
    days: std::ops::RangeInclusive<i64>,
) -> impl Iterator<Item = Line> {
    days.map(move |d| Line {
        resource,
        qty,
        ..vm(customer, d, cost)
    })
}

/// The canonical usage table of `lines`, as ingest writes it: ids (here resource ids) and regions
/// lower case, regions without spaces (the signals rely on it; a test may spell them otherwise,
/// as exports do).
fn usage_frame(lines: &[Line]) -> LazyFrame {
    let s = |f: fn(&Line) -> &'static str| lines.iter().map(f).collect::<Vec<_>>();
    let lowered = |f: fn(&Line) -> &'static str, blanks: &str| {
        lines
            .iter()
            .map(|l| f(l).to_lowercase().replace(' ', blanks))
            .collect::<Vec<_>>()
    };
    let n = lines.len();
    df!(
        us::CUSTOMER_ID => s(|l| l.customer),
        us::CUSTOMER_NAME => s(|l| l.customer),
        us::CUSTOMER_COUNTRY => s(|l| l.country),
        us::INVOICE_NUMBER => vec![None::<&str>; n],
        us::SUBSCRIPTION_ID => vec!["plan"; n],
        us::ENTITLEMENT_ID => s(|l| l.ent),
        us::USAGE_DATE => lines.iter().map(|l| l.date).collect::<Vec<_>>(),
        us::METER_CATEGORY => s(|l| l.category),
        us::METER_SUBCATEGORY => s(|l| l.sub),
        us::METER_NAME => s(|l| l.name),
        us::METER_ID => vec!["m"; n],
        us::REGION => lowered(|l| l.region, ""),
        us::RESOURCE_ID => lowered(|l| l.resource, " "),
        us::CHARGE_TYPE => vec!["Usage"; n],
        us::CHARGE_CATEGORY => vec!["Usage"; n],
        us::CHARGE_CLASS => vec![None::<&str>; n],
        us::SUB_ACCOUNT_ID => vec![None::<&str>; n],
        us::UNIT_PRICE => vec![1.0; n],
        us::QUANTITY => lines.iter().map(|l| l.qty).collect::<Vec<_>>(),
        us::UNIT => s(|l| l.unit),
        us::COST => lines.iter().map(|l| l.cost).collect::<Vec<_>>(),
        us::CURRENCY => s(|l| l.currency),
        us::SOURCE_FILE => vec!["f.csv"; n],
        us::SOURCE_LINE => (1..=n as i64).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
}

/// customers rows: (customer_id, country, credit_limit).
fn customers_frame(rows: &[(&str, &str, Option<f64>)]) -> LazyFrame {
    let n = rows.len();
    df!(
        cu::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        cu::CUSTOMER_NAME => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        cu::COUNTRY => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        cu::CREATED_DATE => vec![day(100); n],
        cu::VERIFIED => vec![true; n],
        cu::CREDIT_LIMIT => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        cu::SOURCE_FILE => vec!["c.csv"; n],
        cu::SOURCE_LINE => (1..=n as i64).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
}

#[derive(Debug, Clone, PartialEq)]
struct Row {
    customer: String,
    entity: String,
    signal: String,
    date: String,
    actual: f64,
    expected: f64,
    score: f64,
    reason: String,
}

fn run_with(lines: &[Line], customers: LazyFrame, cfg: &UsageSignalConfig) -> Vec<Row> {
    let usage = usage_frame(lines);
    let daily =
        crate::analysis::usage_daily::usage_daily_collecting_series(usage.clone(), a()).unwrap();
    let df = usage_signals(usage, daily, customers, a(), cfg)
        .collect()
        .unwrap();
    assert_eq!(df.schema().as_ref(), &schema::anomalies::DEF.schema());
    let text = |c: &str| {
        df.column(c)
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let num = |c: &str| {
        df.column(c)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect::<Vec<_>>()
    };
    let (cust, ent, sig, date, reason) = (
        text(an::CUSTOMER_ID),
        text(an::ENTITY),
        text(an::SIGNAL),
        text(an::DATE),
        text(an::REASON),
    );
    let (actual, expected, score) = (num(an::ACTUAL), num(an::EXPECTED), num(an::SCORE));
    for (f, s) in text(an::FAMILY).iter().zip(text(an::SUPPRESSED)) {
        assert_eq!((f.as_str(), s.as_str()), ("usage", "false"));
    }
    (0..df.height())
        .map(|i| Row {
            customer: cust[i].clone(),
            entity: ent[i].clone(),
            signal: sig[i].clone(),
            date: date[i].clone(),
            actual: actual[i],
            expected: expected[i],
            score: score[i],
            reason: reason[i].clone(),
        })
        .collect()
}

fn run(lines: &[Line]) -> Vec<Row> {
    run_with(lines, customers_frame(&[]), &UsageSignalConfig::default())
}

/// The rows of one signal.
fn of_signal<'a>(rows: &'a [Row], signal: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r.signal == signal).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn empty_usage_gives_an_empty_anomalies_table() {
    // run() also checks the output schema equals the anomalies table's.
    assert_eq!(run(&[]), vec![]);
}

#[test]
fn spike_is_flagged_with_its_exact_score() {
    // 28 baseline days of 100, except the same weekday (Wednesday) 7, 14, 21, 28 days back:
    // 100, 120, 90, 110. Weekday points sorted 90 100 110 120: median 105; deviations
    // 15 5 5 15, MAD 10; scale = max(1.4826 x 10, 0.1 x 105, 5) = 14.826.
    // A costs 300: score = (300 - 105) / 14.826 = 13.152569...
    let mut lines: Vec<Line> = (1..=28)
        .map(|d| {
            let cost = match d {
                14 => 120.0,
                21 => 90.0,
                28 => 110.0,
                _ => 100.0,
            };
            vm("c1", d, cost)
        })
        .collect();
    lines.push(vm("c1", 0, 300.0));
    // Usage after A never counts.
    lines.push(vm("c1", -1, 1_000_000.0));
    let rows = run(&lines);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        (
            r.customer.as_str(),
            r.signal.as_str(),
            r.entity.as_str(),
            r.date.as_str()
        ),
        ("c1", USAGE_SPIKE, "sub1/Virtual Machines", "2026-10-14")
    );
    assert!(close(r.actual, 300.0) && close(r.expected, 105.0));
    assert!(close(r.score, 195.0 / 14.826), "{}", r.score);
    // 300 / 105 = 2.857 -> "2.9x"
    assert_eq!(
        r.reason,
        "Virtual Machines spend 2.9x its 28-day Wednesday median: 300.00 USD on 2026-10-14, subscription sub1"
    );
}

#[test]
fn flat_series_with_zero_mad_uses_the_median_floor() {
    // 1000 a day for 40 days: MAD 0, scale = max(0, 0.1 x 1000, 5) = 100.
    // sub1: A = 2000 -> score (2000 - 1000) / 100 = 10, flagged, finite.
    // sub2: A = 1200 -> score 2, not flagged.
    let mut lines = Vec::new();
    for d in 1..=40 {
        lines.push(vm("flat", d, 1000.0));
        lines.push(Line {
            ent: "sub2",
            ..vm("flat", d, 1000.0)
        });
    }
    lines.push(vm("flat", 0, 2000.0));
    lines.push(Line {
        ent: "sub2",
        ..vm("flat", 0, 1200.0)
    });
    let rows = run(&lines);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].entity, "sub1/Virtual Machines");
    assert!(close(rows[0].score, 10.0) && close(rows[0].expected, 1000.0));
    assert_eq!(
        rows[0].reason,
        "Virtual Machines spend 2.0x its 28-day Wednesday median: 2,000.00 USD on 2026-10-14, subscription sub1"
    );
}

#[test]
fn sparse_series_uses_the_absolute_floor_and_needs_a_new_high() {
    // Lines of 80 only every 4th day (40 days back), nothing in between (zero-filled).
    // For A the Wednesdays 7, 14, 21, 28 days back are 0, 0, 0, 80: median 0, MAD 0,
    // scale = max(0, 0, abs_floor 5) = 5.
    // sparseA: A = 80 -> z = 16 but 80 is no higher than the baseline's largest day: no spike
    //          (the same holds on A-4, also 80).
    // sparseB: A = 400 -> z = 400 / 5 = 80, a new high: flagged, expected 0.
    let mut lines = Vec::new();
    for d in (0..=40).filter(|d| d % 4 == 0) {
        lines.push(Line {
            ent: "sparseA",
            ..vm("sparse", d, 80.0)
        });
        let cost = if d == 0 { 400.0 } else { 80.0 };
        lines.push(Line {
            ent: "sparseB",
            ..vm("sparse", d, cost)
        });
    }
    let rows = run(&lines);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].entity, "sparseB/Virtual Machines");
    assert!(close(rows[0].score, 80.0) && close(rows[0].expected, 0.0));
    assert_eq!(
        rows[0].reason,
        "Virtual Machines spend 400.00 USD on 2026-10-14, subscription sparseB against its 28-day Wednesday median of 0.00 USD"
    );
}

fn weekly_batch() -> Vec<Line> {
    // 60 a day, 2000 every Saturday for 8 weeks; the recent Saturday grew to 2100.
    (0..=56)
        .map(|d| {
            let cost = match (d, day(d).weekday()) {
                (4, _) => 2100.0,
                (_, Weekday::Sat) => 2000.0,
                _ => 60.0,
            };
            vm("batch", d, cost)
        })
        .collect()
}

#[test]
fn weekly_batch_job_is_not_flagged_on_its_saturday() {
    // Saturday A-4 against the 4 earlier Saturdays (2000 each): median 2000, MAD 0,
    // scale = max(0, 200, 5) = 200, z = (2100 - 2000) / 200 = 0.5. Weekdays: 60 vs 60.
    assert_eq!(run(&weekly_batch()), vec![]);
    // Without weekday awareness (all 28 days: 24 x 60 and 4 x 2000: median 60, MAD 0,
    // scale = max(0, 6, 5) = 6) the same Saturday scores (2100 - 60) / 6 = 340.
    let cfg = UsageSignalConfig {
        weekday_min_points: 99,
        ..Default::default()
    };
    let rows = run_with(&weekly_batch(), customers_frame(&[]), &cfg);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].date, "2026-10-10");
    assert!(
        close(rows[0].score, 100.0),
        "340 capped at 100: {}",
        rows[0].score
    );
}

#[test]
fn steady_growth_of_two_percent_a_week_is_not_flagged() {
    // cost = 1000 x 1.02^(t/7). On any day the Wednesday points are actual x 1.02^-1..-4:
    // median = actual x (1.02^-2 + 1.02^-3) / 2 = 0.9517 x actual, scale = 0.1 x median
    // (MAD is ~1 %), z = (1 - 0.9517) / 0.09517 = 0.51, far below 6.
    let lines: Vec<Line> = (0..=90)
        .map(|d| vm("grow", d, 1000.0 * 1.02_f64.powf((90 - d) as f64 / 7.0)))
        .collect();
    assert_eq!(run(&lines), vec![]);
}

#[test]
fn large_steady_spender_is_not_flagged() {
    // 49,500 and 50,500 on alternate days; A = 50,500: median <= 50,500, MAD <= 500,
    // scale >= 0.1 x 49,500 = 4,950, z <= 1000 / 4950 = 0.2.
    let lines: Vec<Line> = (0..=60)
        .map(|d| vm("big", d, if d % 2 == 0 { 50_500.0 } else { 49_500.0 }))
        .collect();
    assert_eq!(run(&lines), vec![]);
}

#[test]
fn new_gpu_meter_is_a_gpu_meter_not_a_new_meter() {
    // "gpu": D4s v3 at 20 a day from A-60; NC24s v3 (NCv3 Series) at 366 a day from A-4.
    // History before the window (A-6) = 54 days; usual spend = 20 a day, so
    // scale = max(5, 0.1 x 20) = 5; average day 1830 / 5 = 366; score 366 / 5 = 73.2.
    // "newgpu": first usage A-2, NCasT4_v3 at 10 a day: no history, never used a GPU:
    // flagged for any spend; score (30 / 3) / 5 = 2.
    let mut lines: Vec<Line> = (0..=60).map(|d| vm("gpu", d, 20.0)).collect();
    for d in 0..=4 {
        lines.push(Line {
            sub: "NCv3 Series",
            name: "NC24s v3",
            ..vm("gpu", d, 366.0)
        });
    }
    for d in 0..=2 {
        lines.push(Line {
            sub: "",
            name: "Standard_NCasT4_v3",
            ..vm("newgpu", d, 10.0)
        });
    }
    let rows = run(&lines);
    let gpu = of_signal(&rows, GPU_METER);
    assert_eq!(gpu.len(), 2, "{rows:?}");
    assert_eq!(
        (
            gpu[0].customer.as_str(),
            gpu[0].entity.as_str(),
            gpu[0].date.as_str()
        ),
        ("gpu", "Virtual Machines / NCv3 Series", "2026-10-10")
    );
    assert!(close(gpu[0].actual, 1830.0) && close(gpu[0].expected, 0.0));
    assert!(close(gpu[0].score, 73.2), "{}", gpu[0].score);
    assert_eq!(
        gpu[0].reason,
        "New GPU meter Virtual Machines / NCv3 Series: 1,830.00 USD in the last 5 days, no GPU use in 54 days of history"
    );
    assert_eq!(gpu[1].customer, "newgpu");
    assert!(close(gpu[1].score, 2.0));
    assert_eq!(
        gpu[1].reason,
        "New GPU meter Virtual Machines / Standard_NCasT4_v3: 30.00 USD in the last 3 days, on a customer with no earlier usage"
    );
    assert!(rows.iter().all(|r| r.signal != NEW_METER), "{rows:?}");
    // The series' first GPU day is also a spike: 386 against a Saturday median of 20,
    // scale max(0, 2, 5) = 5, z = 366 / 5 = 73.2; labelled GPU (366 of 386 is GPU).
    let spikes = of_signal(&rows, USAGE_SPIKE);
    assert_eq!(spikes.len(), 1, "{rows:?}");
    assert!(close(spikes[0].score, 73.2));
    assert_eq!(
        spikes[0].reason,
        "GPU Virtual Machines spend 19x its 28-day Saturday median: 386.00 USD on 2026-10-10, subscription sub1"
    );
}

#[test]
fn new_plain_meter_is_a_new_meter() {
    // 60 days of D4s v3 at 20, then SQL Database at 150 a day for 2 days: 300 >= 100.
    // usual spend 20 -> scale 5; average day 150 -> score 30.
    let mut lines: Vec<Line> = (0..=60).map(|d| vm("nm", d, 20.0)).collect();
    for d in 0..=1 {
        lines.push(Line {
            category: "SQL Database",
            sub: "",
            name: "vCore",
            ..vm("nm", d, 150.0)
        });
    }
    let rows = run(&lines);
    let new = of_signal(&rows, NEW_METER);
    assert_eq!(new.len(), 1, "{rows:?}");
    assert_eq!(new[0].entity, "SQL Database / vCore");
    assert!(close(new[0].score, 30.0));
    assert_eq!(
        new[0].reason,
        "New meter SQL Database / vCore: 300.00 USD in the last 2 days, never used in 54 days of history"
    );
}

#[test]
fn gpu_matcher_on_positive_and_negative_names() {
    let names = [
        ("NC24s v3", true),
        ("ND96asr A100 v4", true),
        ("Standard_NV12", true),
        ("NCv3 Series", true),
        ("NCasT4_v3", true),
        ("NVadsA10 v5", true),
        ("HB120rs v3", true),
        ("GPU-accelerated", true),
        ("D4s v3", false),
        ("Dv3 Series", false),
        ("DNS", false),
        ("Azure DNS Zone", false),
        ("Bandwidth", false),
        ("HBase", false),
        ("Azure Stack HCI", false),
        ("NVMe Disk", false),
        ("Standard_D2s_v3", false),
    ];
    let df = df!("name" => names.iter().map(|n| n.0).collect::<Vec<_>>())
        .unwrap()
        .lazy()
        .select([gpu_meter_match(
            col("name"),
            &UsageSignalConfig::default().gpu_patterns,
        )])
        .collect()
        .unwrap();
    let got: Vec<bool> = df
        .column("name")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    for ((name, want), got) in names.iter().zip(got) {
        assert_eq!(got, *want, "{name}");
    }
    assert_eq!(gpu_regex(&[]), None);
}

#[test]
fn round_the_clock_on_new_compute_not_on_an_old_server() {
    // Old server: D4s v3, 24 h every day from A-60 at 48 a day: established, no signal.
    // New resource (id in mixed case): D8s v3 from A-4, "10 Hours" units x 2.4 = 24 h a day,
    // 240 a day. Another new resource on D2s v3 runs 12 h a day: not round the clock.
    // Usual spend 48 a day -> scale max(4.8, 5) = 5; average day 240 -> score 48.
    let mut lines: Vec<Line> =
        running("rtc", "/subscriptions/s/vms/old", 24.0, 48.0, 0..=60).collect();
    // Another customer's old meter without resource ids (counted as one resource per meter),
    // 24 h a day from A-60 too: established, no signal.
    lines.extend((0..=60).map(|d| Line {
        name: "D16s v3",
        resource: "",
        qty: 24.0,
        ..vm("rtc-meter", d, 48.0)
    }));
    for d in 0..=4 {
        let resource = if d % 2 == 0 {
            "/subscriptions/s/VMs/New"
        } else {
            "/subscriptions/s/vms/new"
        };
        lines.push(Line {
            name: "D8s v3",
            resource,
            unit: "10 Hours",
            qty: 2.4,
            ..vm("rtc", d, 240.0)
        });
        lines.push(Line {
            name: "D2s v3",
            resource: "/subscriptions/s/vms/half",
            qty: 12.0,
            ..vm("rtc", d, 60.0)
        });
    }
    let rows = run(&lines);
    let rtc = of_signal(&rows, ROUND_THE_CLOCK);
    assert_eq!(rtc.len(), 1, "{rows:?}");
    assert_eq!(
        (rtc[0].entity.as_str(), rtc[0].date.as_str()),
        ("Virtual Machines / D8s v3", "2026-10-10")
    );
    assert!(close(rtc[0].actual, 1200.0) && close(rtc[0].score, 48.0));
    assert_eq!(
        rtc[0].reason,
        "Compute running 24 h a day for 5 days on 1 new resource (Virtual Machines, D8s v3): 1,200.00 USD in the last 5 days"
    );
}

#[test]
fn round_the_clock_fires_on_the_first_day_of_new_compute_of_an_established_customer() {
    // "est": a D4s v3 server 10 h a day from A-60 (history 54 days, usual spend 48 a day).
    // On A it starts two new GPU nodes at 24 h: one day is enough (a VM's first day already
    // has its 24 hours). A third new node started on A-1 ran 24 h then 20 h on A: no.
    // "fresh": a customer whose first usage is A-1 runs a new node 24 h a day: every server of
    // a new customer is new, so no signal.
    let mut lines: Vec<Line> =
        running("est", "/subscriptions/s/vms/old", 10.0, 48.0, 0..=60).collect();
    for node in ["/subscriptions/s/vms/gpu1", "/subscriptions/s/vms/gpu2"] {
        lines.push(Line {
            name: "NC24s v3",
            resource: node,
            qty: 24.0,
            ..vm("est", 0, 73.44)
        });
    }
    for (d, qty) in [(1, 24.0), (0, 20.0)] {
        lines.push(Line {
            name: "NC6s v3",
            resource: "/subscriptions/s/vms/gpu3",
            qty,
            ..vm("est", d, 60.0)
        });
    }
    for d in 0..=1 {
        lines.push(Line {
            resource: "/subscriptions/f/vms/a",
            qty: 24.0,
            ..vm("fresh", d, 100.0)
        });
    }
    let rows = run(&lines);
    let rtc = of_signal(&rows, ROUND_THE_CLOCK);
    assert_eq!(rtc.len(), 1, "{rows:?}");
    assert_eq!(
        (
            rtc[0].customer.as_str(),
            rtc[0].entity.as_str(),
            rtc[0].date.as_str()
        ),
        ("est", "Virtual Machines / NC24s v3", "2026-10-14")
    );
    // 146.88 on one day over max(0.1 x 48, 5) = 5: 29.376.
    assert!(close(rtc[0].actual, 146.88) && close(rtc[0].score, 29.376));
    assert_eq!(
        rtc[0].reason,
        "Compute running 24 h a day for 1 day on 2 new resources (Virtual Machines, NC24s v3): 146.88 USD on 2026-10-14"
    );
}

#[test]
fn round_the_clock_knows_resources_seen_long_before_the_window() {
    // "back": an old server 10 h a day from A-60 (established). Four resources run 24 h a day
    // over the last 5 days (240 a day each), none of them on A-7, the day before the window:
    // - "restarted" ran 24 h a day from A-60 to A-30 (in upper case then), then stopped;
    // - "renamed" had a single Bandwidth line (not compute) on A-20: seen in usage;
    // - "other" ran long before, but at another customer: new here;
    // - "new" never ran before.
    // Only "other" and "new" are new resources: 2 of them, 2,400 in 5 days.
    let mut lines: Vec<Line> =
        running("back", "/subscriptions/s/vms/old", 10.0, 48.0, 0..=60).collect();
    lines.extend(running(
        "back",
        "/subscriptions/s/VMs/Restarted",
        24.0,
        48.0,
        30..=60,
    ));
    lines.extend(running(
        "elsewhere",
        "/subscriptions/s/vms/other",
        24.0,
        48.0,
        30..=60,
    ));
    lines.push(Line {
        category: "Bandwidth",
        name: "Data Transfer Out",
        unit: "1 GB",
        resource: "/subscriptions/s/vms/renamed",
        qty: 3.0,
        ..vm("back", 20, 0.5)
    });
    for d in 0..=4 {
        for resource in [
            "/subscriptions/s/vms/restarted",
            "/subscriptions/s/vms/renamed",
            "/subscriptions/s/vms/other",
            "/subscriptions/s/vms/new",
        ] {
            lines.push(Line {
                name: "D8s v3",
                resource,
                qty: 24.0,
                ..vm("back", d, 240.0)
            });
        }
    }
    let rows = run(&lines);
    let rtc = of_signal(&rows, ROUND_THE_CLOCK);
    assert_eq!(rtc.len(), 1, "{rows:?}");
    assert_eq!(rtc[0].customer, "back");
    assert!(close(rtc[0].actual, 2400.0), "{rows:?}");
    assert_eq!(
        rtc[0].reason,
        "Compute running 24 h a day for 5 days on 2 new resources (Virtual Machines, D8s v3): 2,400.00 USD in the last 5 days"
    );
}

#[test]
fn round_the_clock_reads_usage_three_times_not_once_per_use() {
    // The recent window, the day before it, and the earlier lines of the customers still
    // unresolved: three reads of usage. The day before the window is read by two parts of the
    // plan, and uncached each read usage again (five reads: 3.4-4.0 s of a 10M-line run, 2.1-2.9 s
    // with three).
    let lines: Vec<Line> = running("c1", "/subscriptions/s/vms/a", 24.0, 48.0, 0..=20).collect();
    let usage = usage_frame(&lines);
    let width = usage.clone().collect_schema().unwrap().len();
    let cfg = UsageSignalConfig::default();
    let summary = usage_summary(usage.clone(), a(), &cfg)
        .collect()
        .unwrap()
        .lazy();
    let plan = round_the_clock_signals(usage, summary, a(), &cfg)
        .explain(true)
        .unwrap();
    // Each read of the usage frame shows as its columns projected out of all `width`.
    let reads = plan.matches(&format!("/{width} COLUMNS")).count();
    assert_eq!(reads, 3, "{plan}");
}

#[test]
fn summary_sums_each_window_exactly_and_keeps_the_first_day() {
    // A = 2026-10-14; recent window from A-6, baseline (28 days) from.
    // Lines of one VM meter: A-40 (before the baseline: first day only), A-20 and A-7
    // (baseline), A-6 and A (recent), A+1 (after A: ignored). 0.1 + 0.2 is exactly 0.3 here,
    // as Decimal, where a float sum would give 0.30000000000000004.
    let lines = [
        vm("c1", 40, 1000.0),
        vm("c1", 20, 0.1),
        vm("c1", 7, 0.2),
        vm("c1", 6, 5.25),
        vm("c1", 0, 4.75),
        vm("c1", -1, 999.0),
        Line {
            region: "NorthEurope",
            country: "IE",
            ..vm("c1", 3, 7.0)
        },
    ];
    let df = usage_summary(usage_frame(&lines), a(), &UsageSignalConfig::default())
        .sort([us::REGION], SortMultipleOptions::default())
        .collect()
        .unwrap();
    assert_eq!(df.height(), 2);
    let text = |c: &str| -> Vec<String> {
        let s = df.column(c).unwrap().as_materialized_series().clone();
        s.str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect()
    };
    let num = |c: &str| -> Vec<f64> {
        let s = df.column(c).unwrap().cast(&DataType::Float64).unwrap();
        s.f64().unwrap().into_no_null_iter().collect()
    };
    assert_eq!(text(us::REGION), ["northeurope", "westeurope"]);
    assert_eq!(text(us::CUSTOMER_COUNTRY), ["IE", "US"]);
    let days_since_1970 =
        |d: NaiveDate| (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as f64;
    assert_eq!(
        num(FIRST),
        [days_since_1970(day(3)), days_since_1970(day(40))]
    );
    assert_eq!(num(BASE_SUM), [0.0, 0.3]);
    assert_eq!(num(RECENT_SUM), [7.0, 10.0]);
    let base = df.column(BASE_SUM).unwrap().dtype().clone();
    assert!(matches!(base, DataType::Decimal(_, _)), "{base:?}");
}

#[test]
fn parts_collected_apart_give_the_same_signals() {
    // The orchestrator collects the summary first, then round_the_clock and the GPU share,
    // then the rest from those frames; the rows must be those of usage_signals. The lines
    // make a spike, a GPU meter, a new region and round-the-clock compute.
    let mut lines: Vec<Line> = (8..=40).map(|d| vm("c1", d, 100.0)).collect();
    lines.push(vm("c1", 2, 900.0));
    for d in 0..=4 {
        lines.push(Line {
            sub: "NCv3 Series",
            name: "NC6s v3",
            resource: "/subscriptions/s/vms/gpu",
            qty: 24.0,
            region: "eastus",
            ..vm("c1", d, 300.0)
        });
    }
    let usage = usage_frame(&lines);
    let daily =
        crate::analysis::usage_daily::usage_daily_collecting_series(usage.clone(), a()).unwrap();
    let cfg = UsageSignalConfig::default();
    let customers = customers_frame(&[]);
    let whole = usage_signals(usage.clone(), daily.clone(), customers.clone(), a(), &cfg)
        .collect()
        .unwrap();
    let summary = usage_summary(usage.clone(), a(), &cfg)
        .collect()
        .unwrap()
        .lazy();
    let rtc = round_the_clock_signals(usage.clone(), summary.clone(), a(), &cfg)
        .collect()
        .unwrap()
        .lazy();
    let gpu = gpu_daily(usage, summary.clone(), a(), &cfg)
        .collect()
        .unwrap()
        .lazy();
    let apart = sorted_signals(vec![
        summary_signals(summary, gpu, daily, customers, a(), &cfg),
        rtc,
    ])
    .collect()
    .unwrap();
    let signals: Vec<String> = whole
        .column(an::SIGNAL)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect();
    for s in [USAGE_SPIKE, GPU_METER, NEW_REGION, ROUND_THE_CLOCK] {
        assert!(signals.iter().any(|x| x == s), "{s} missing: {signals:?}");
    }
    assert!(whole.equals_missing(&apart), "{whole}\n{apart}");
}

#[test]
fn new_region_is_flagged_and_usage_after_a_is_ignored() {
    // 60 days in westeurope at 100; southeastasia from A-2 at 180 a day = 540.
    // Usual spend 100 -> scale max(10, 5) = 10; average day 180 -> score 18.
    // brazilsouth appears only after A: ignored.
    let mut lines: Vec<Line> = (0..=60).map(|d| vm("reg", d, 100.0)).collect();
    for d in 0..=2 {
        lines.push(Line {
            region: "southeastasia",
            ..vm("reg", d, 180.0)
        });
    }
    lines.push(Line {
        region: "brazilsouth",
        ..vm("reg", -1, 10_000.0)
    });
    let rows = run(&lines);
    let regions = of_signal(&rows, NEW_REGION);
    assert_eq!(regions.len(), 1, "{rows:?}");
    assert_eq!(
        (regions[0].entity.as_str(), regions[0].date.as_str()),
        ("southeastasia", "2026-10-12")
    );
    assert!(close(regions[0].actual, 540.0) && close(regions[0].score, 18.0));
    assert_eq!(
        regions[0].reason,
        "New region southeastasia: 540.00 USD in the last 3 days, never used in 54 days of history"
    );
    assert!(
        rows.iter().all(|r| r.date.as_str() <= "2026-10-14"),
        "{rows:?}"
    );
}

#[test]
fn cold_start_customer_is_compared_with_peers() {
    // Six established DE customers (credit limit 5,000: band 1,000 to 10,000) spending
    // 40, 45, 50, 55, 60, 65 a day: median 52.5; deviations 12.5 7.5 2.5 2.5 7.5 12.5,
    // MAD 7.5; scale = max(1.4826 x 7.5 = 11.1195, 5.25, 5) = 11.1195.
    // "fake" (from A-2, limit 2,000) spends 1,000 a day: 1000 >= 5 x 52.5 and
    // score = (1000 - 52.5) / 11.1195 = 85.2106...; "honest" spends 60 a day: not flagged.
    let mut lines = Vec::new();
    let mut customers = Vec::new();
    let peers = ["p1", "p2", "p3", "p4", "p5", "p6"];
    for (i, p) in peers.iter().enumerate() {
        for d in 0..=60 {
            lines.push(Line {
                currency: "EUR",
                country: "DE",
                ..vm(p, d, 40.0 + 5.0 * i as f64)
            });
        }
        customers.push((*p, "DE", Some(5_000.0)));
    }
    for d in 0..=2 {
        lines.push(Line {
            currency: "EUR",
            country: "DE",
            ..vm("fake", d, 1000.0)
        });
        lines.push(Line {
            currency: "EUR",
            country: "DE",
            ..vm("honest", d, 60.0)
        });
    }
    customers.push(("fake", "de", Some(2_000.0)));
    customers.push(("honest", "DE", Some(3_000.0)));
    // "nolimit" (no credit limit: a band without peers) falls back to the 6 DE peers:
    // 500 a day, score (500 - 52.5) / 11.1195 = 40.2446...
    for d in 0..=2 {
        lines.push(Line {
            currency: "EUR",
            country: "DE",
            ..vm("nolimit", d, 500.0)
        });
    }
    customers.push(("nolimit", "DE", None));
    let rows = run_with(
        &lines,
        customers_frame(&customers),
        &UsageSignalConfig::default(),
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let fallback = &rows[1];
    assert_eq!(
        (fallback.customer.as_str(), fallback.entity.as_str()),
        ("nolimit", "peers DE")
    );
    assert!(close(fallback.score, 447.5 / 11.1195), "{}", fallback.score);
    assert_eq!(
        fallback.reason,
        "New customer (3 days of usage) spending 500.00 EUR a day, 9.5x the median of 6 peers (DE): 52.50 EUR a day"
    );
    let r = &rows[0];
    assert_eq!(
        (
            r.customer.as_str(),
            r.signal.as_str(),
            r.entity.as_str(),
            r.date.as_str()
        ),
        (
            "fake",
            PEER_OUTLIER,
            "peers DE, credit limit 1,000 to 10,000",
            "2026-10-14"
        )
    );
    assert!(close(r.actual, 1000.0) && close(r.expected, 52.5));
    assert!(close(r.score, 947.5 / 11.1195), "{}", r.score);
    // 1000 / 52.5 = 19.05 -> "19x"
    assert_eq!(
        r.reason,
        "New customer (3 days of usage) spending 1,000.00 EUR a day, 19x the median of 6 peers (DE, credit limit 1,000 to 10,000): 52.50 EUR a day"
    );
}

#[test]
fn size_bands_follow_the_credit_limit_edges() {
    let limits = [
        None,
        Some(999.0),
        Some(1_000.0),
        Some(9_999.0),
        Some(10_000.0),
    ];
    let df = df!("limit" => limits.to_vec())
        .unwrap()
        .lazy()
        .select([band_expr(col("limit"), &[10_000.0, 1_000.0]).alias("band")])
        .collect()
        .unwrap();
    let got: Vec<&str> = df
        .column("band")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(
        got,
        [
            NO_LIMIT_BAND,
            "under 1,000",
            "1,000 to 10,000",
            "1,000 to 10,000",
            "10,000 and over"
        ]
    );
}

#[test]
fn amounts_have_thousands_separators_and_two_decimals() {
    let values = [
        0.0,
        5.5,
        -5.5,
        999.994,
        999.999,
        3212.4,
        1_234_567.891,
        1e12,
        -0.001,
    ];
    let df = df!("x" => values.to_vec())
        .unwrap()
        .lazy()
        .select([amount_text(col("x")).alias("x")])
        .collect()
        .unwrap();
    let got: Vec<&str> = df
        .column("x")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(
        got,
        [
            "0.00",
            "5.50",
            "-5.50",
            "999.99",
            "1,000.00",
            "3,212.40",
            "1,234,567.89",
            "1,000,000,000,000.00",
            "0.00"
        ]
    );
    assert_eq!(plain_amount(10_000.0), "10,000");
    assert_eq!(plain_amount(1_500.5), "1,500.50");
}

#[test]
fn default_toml_section_equals_the_defaults() {
    let text = crate::config::DEFAULT_TOML;
    let start = text
        .find("[usage_signals]")
        .expect("section in default.toml");
    let body = &text[start + "[usage_signals]".len()..];
    let end = body.find("\n[").unwrap_or(body.len());
    let parsed: UsageSignalConfig = toml::from_str(&body[..end]).unwrap();
    assert_eq!(parsed, UsageSignalConfig::default());
}

#[test]
fn strength_is_one_at_the_spike_threshold() {
    let cfg = UsageSignalConfig::default();
    let rows = df!(an::SCORE => [6.0f64, 12.0, 3.0]).unwrap().lazy();
    let out = as_strength(rows, &cfg).collect().unwrap();
    let v: Vec<f64> = out
        .column(an::SCORE)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    // threshold 6: 6 -> 1.0, 12 -> 2.0, 3 -> 0.5.
    assert_eq!(v, [1.0, 2.0, 0.5]);
}
