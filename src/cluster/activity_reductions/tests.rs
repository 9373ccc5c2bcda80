//! The activity history's reductions on both engines against hand-computed figures and against
//! the local plan (`activity::local_history`), and the signals they feed.

use super::*;
use crate::analysis::anomalies::activity::{
    activity_signals, activity_signals_with, local_history,
};
use crate::cluster::reductions::tests::{f64s, strs};
use crate::schema::{anomalies as an, audit_records as aud};
use crate::testutil::{d, frame};

/// A = 2026-10-14: window Oct 8 ..= 14, history Jul 10 ..= Oct 7 (defaults).
fn a() -> NaiveDate {
    d(2026, 10, 14)
}

fn cfg() -> AnomalyConfig {
    AnomalyConfig::default()
}

/// Usage: subscription s1 is c1's; s2 is c2's and c3's (the least, c2, wins); T2 is a customer
/// (a tenant an event may name).
fn usage() -> DataFrame {
    let given = df!(
        u::CUSTOMER_ID => ["c1", "c3", "c2", "T2"],
        u::ENTITLEMENT_ID => [Some("s1"), Some("s2"), Some("s2"), None],
        u::USAGE_DATE => [d(2026, 9, 1); 4],
    )
    .unwrap();
    frame(&crate::schema::usage::DEF, given).collect().unwrap()
}

const DISK: &str = "Microsoft.Compute/disks/write";
const VM: &str = "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE";
const ROLE: &str = "Microsoft.Authorization/roleAssignments/write";

/// Converted Activity Log events, unmapped (customer_id as the log gives it): day,
/// subscription, tenant, customer_id, operation, status, caller, client IP, location,
/// resource_id.
#[allow(clippy::type_complexity)]
fn activity() -> DataFrame {
    let rows: Vec<(
        &str,
        Option<&str>,
        Option<&str>,
        Option<&str>,
        &str,
        &str,
        Option<&str>,
        Option<&str>,
        Option<&str>,
        Option<&str>,
    )> = vec![
        // c1 (by subscription): a write, a failed write, VM writes in two regions on Sep 3
        // (one from the resource id), a failed one, one region on Sep 4.
        (
            "2026-09-01",
            Some("s1"),
            None,
            None,
            DISK,
            "Succeeded",
            Some("Alice@C1.com"),
            Some("10.0.0.1"),
            None,
            None,
        ),
        (
            "2026-09-02",
            Some("s1"),
            None,
            None,
            DISK,
            "Failed",
            Some(" "),
            Some("10.0.0.2"),
            None,
            None,
        ),
        (
            "2026-09-03",
            Some("s1"),
            None,
            None,
            VM,
            "Succeeded",
            Some("alice@c1.com"),
            None,
            Some("East US"),
            None,
        ),
        (
            "2026-09-03",
            Some("s1"),
            None,
            None,
            VM,
            "Succeeded",
            None,
            None,
            None,
            Some("/subscriptions/s1/providers/x/locations/West Europe/vm1"),
        ),
        (
            "2026-09-03",
            Some("s1"),
            None,
            None,
            VM,
            "Failed",
            None,
            None,
            Some("northeurope"),
            None,
        ),
        (
            "2026-09-04",
            Some("s1"),
            None,
            None,
            VM,
            "Succeeded",
            None,
            None,
            Some("eastus"),
            None,
        ),
        // A role assignment from a client IP (linked_accounts' "client IP").
        (
            "2026-09-05",
            Some("s1"),
            None,
            None,
            ROLE,
            "Succeeded",
            Some("Alice@C1.com"),
            Some("10.0.0.7"),
            None,
            None,
        ),
        // Before the history: ignored.
        (
            "2026-07-01",
            Some("s1"),
            None,
            None,
            DISK,
            "Succeeded",
            Some("old@c1.com"),
            Some("10.9.9.9"),
            None,
            None,
        ),
        // T2 by its tenant; a read.
        (
            "2026-09-10",
            None,
            Some("T2"),
            None,
            "Microsoft.Storage/storageAccounts/read",
            "Succeeded",
            Some("bob@t2.com"),
            Some("10.0.0.9"),
            None,
            None,
        ),
        // A tenant that is no customer of usage: its own id, lower-case; "Success" is a success.
        (
            "2026-10-01",
            None,
            Some("Other-Tenant"),
            None,
            "x/write",
            "Success",
            None,
            Some("  "),
            None,
            None,
        ),
        // The subscription wins over the event's own customer_id; Started is neither.
        (
            "2026-09-20",
            Some("s2"),
            None,
            Some("cX"),
            "Microsoft.Web/sites/write",
            "Started",
            Some("Carol@C2.com"),
            Some("2001:DB8::1"),
            None,
            None,
        ),
        // No customer at all: ignored.
        (
            "2026-09-21",
            Some("s9"),
            None,
            None,
            DISK,
            "Succeeded",
            Some("nobody@x.com"),
            Some("10.1.1.1"),
            None,
            None,
        ),
        // The window (not history): a new caller and a new IP for c1.
        (
            "2026-10-10",
            Some("s1"),
            None,
            None,
            DISK,
            "Succeeded",
            Some("mallory@evil.com"),
            Some("203.0.113.5"),
            None,
            None,
        ),
        (
            "2026-10-11",
            Some("s1"),
            None,
            None,
            DISK,
            "Succeeded",
            Some("alice@c1.com"),
            Some("10.0.0.1"),
            None,
            None,
        ),
        // c1's caller writes for c2 too: a new caller for c2, and a link between the two.
        (
            "2026-10-12",
            Some("s2"),
            None,
            None,
            DISK,
            "Succeeded",
            Some("alice@c1.com"),
            None,
            None,
            None,
        ),
    ];
    let given = df!(
        act::EVENT_TIME => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        act::SUBSCRIPTION_ID => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        act::TENANT_ID => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        act::CUSTOMER_ID => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        act::OPERATION => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        act::STATUS => rows.iter().map(|r| r.5).collect::<Vec<_>>(),
        act::CALLER => rows.iter().map(|r| r.6).collect::<Vec<_>>(),
        act::CLIENT_IP => rows.iter().map(|r| r.7).collect::<Vec<_>>(),
        act::LOCATION => rows.iter().map(|r| r.8).collect::<Vec<_>>(),
        act::RESOURCE_ID => rows.iter().map(|r| r.9).collect::<Vec<_>>(),
    )
    .unwrap();
    frame(&act::DEF, given).collect().unwrap()
}

use crate::schema::activity as act;

/// The events as a run holds them: mapped to customers on the client.
fn mapped() -> LazyFrame {
    let usage = usage().lazy();
    crate::ingest::map_activity_to_customers(
        activity().lazy(),
        crate::ingest::customer_lookups(&usage),
    )
}

fn run_polars2(r: &Reduction) -> LazyFrame {
    let mut ctx = polars::sql::SQLContext::new();
    ctx.register(USAGE_TABLE, usage().lazy());
    ctx.register(&activity_table(0), activity().lazy());
    ctx.execute(&r.sql).unwrap()
}

#[cfg(feature = "cluster")]
fn run_datafusion(r: &Reduction) -> LazyFrame {
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, mut df) in [
        (USAGE_TABLE.to_string(), usage()),
        (activity_table(0), activity()),
    ] {
        let file = dir.path().join(format!("{name}.parquet"));
        ParquetWriter::new(std::fs::File::create(&file).unwrap())
            .finish(&mut df)
            .unwrap();
        files.push((name, file));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = SessionConfig::new().with_target_partitions(4).set_bool(
            "datafusion.execution.parquet.schema_force_view_types",
            false,
        );
        let ctx = SessionContext::new_with_config(config);
        for (name, file) in &files {
            ctx.register_parquet(name, file.to_str().unwrap(), ParquetReadOptions::default())
                .await
                .unwrap();
        }
        let frame = ctx.sql(&r.sql).await.unwrap();
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await.unwrap();
        crate::cluster::client::into_polars(r.name, &schema, &batches)
            .unwrap()
            .0
            .lazy()
    })
}

/// The engines: Polars' SQL and (with the feature) DataFusion's.
fn engines() -> Vec<(&'static str, fn(&Reduction) -> LazyFrame)> {
    #[cfg_attr(not(feature = "cluster"), allow(unused_mut))]
    let mut v: Vec<(&'static str, fn(&Reduction) -> LazyFrame)> = vec![("polars", run_polars2)];
    #[cfg(feature = "cluster")]
    v.push(("datafusion", run_datafusion));
    v
}

fn on(engine: fn(&Reduction) -> LazyFrame) -> ActivityHistory {
    let (a_, c) = (a(), cfg());
    history_of(
        engine(&customers_sql(1, a_, &c)),
        engine(&callers_sql(1, a_, &c)),
        engine(&ips_sql(1, a_, &c)),
    )
}

fn sorted(lf: LazyFrame, keys: &[&str]) -> DataFrame {
    lf.sort(keys.to_vec(), SortMultipleOptions::default())
        .collect()
        .unwrap()
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// Sorted frames of a history, for comparing.
fn frames(hist: ActivityHistory) -> [DataFrame; 3] {
    [
        sorted(hist.customers, &[act::CUSTOMER_ID]),
        sorted(hist.callers, &[act::CUSTOMER_ID, h::CALLER_KEY]),
        sorted(hist.ips, &[act::CUSTOMER_ID, act::CLIENT_IP]),
    ]
}

#[test]
fn the_history_sql_gives_the_hand_computed_history_and_the_local_plan_on_each_engine() {
    let local = frames(local_history(mapped(), a(), &cfg()));
    for (engine, run) in engines() {
        let [customers, callers, ips] = frames(on(run));
        assert_eq!(
            strs(&customers, act::CUSTOMER_ID),
            [s("T2"), s("c1"), s("c2"), s("other-tenant")],
            "{engine}"
        );
        let days: Vec<Option<i32>> = customers
            .column(h::FIRST_DAY)
            .unwrap()
            .cast(&DataType::Int32)
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect();
        let n = |date: NaiveDate| {
            Some((date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32)
        };
        assert_eq!(
            days,
            [
                n(d(2026, 9, 10)),
                n(d(2026, 9, 1)),
                n(d(2026, 9, 20)),
                n(d(2026, 10, 1))
            ],
            "{engine}"
        );
        // c1: Sep 1's disk write, three VM writes and the role assignment succeeded; Sep 2's
        // and Sep 3's failed.
        assert_eq!(
            f64s(&customers, h::WRITES),
            [Some(0.0), Some(5.0), Some(0.0), Some(1.0)],
            "{engine}"
        );
        assert_eq!(
            f64s(&customers, h::FAILED),
            [Some(0.0), Some(2.0), Some(0.0), Some(0.0)],
            "{engine}"
        );
        // c1 on Sep 3: eastus and westeurope (the failed northeurope does not count).
        assert_eq!(
            f64s(&customers, h::MAX_REGIONS),
            [None, Some(2.0), None, None],
            "{engine}"
        );
        assert_eq!(
            strs(&callers, h::CALLER_KEY),
            [s("bob@t2.com"), s("alice@c1.com"), s("carol@c2.com")],
            "{engine}"
        );
        assert_eq!(
            strs(&ips, act::CLIENT_IP),
            [
                s("10.0.0.9"),
                s("10.0.0.1"),
                s("10.0.0.2"),
                s("10.0.0.7"),
                s("2001:db8::1")
            ],
            "{engine}"
        );
        for (got, want) in [customers, callers, ips].iter().zip(&local) {
            assert!(got.equals_missing(want), "{engine}: {got}\n{want}");
        }
    }
}

#[test]
fn the_signals_from_either_engines_history_are_the_local_signals() {
    let sort = |lf: LazyFrame| {
        sorted(
            lf,
            &[
                an::CUSTOMER_ID,
                an::SIGNAL,
                an::ENTITY,
                an::DATE,
                an::REASON,
            ],
        )
    };
    let no_audit = || aud::DEF.empty().lazy();
    let local = sort(activity_signals(mapped(), no_audit(), a(), &cfg()));
    // c1's new caller and new IP fire (c1's history goes back to Sep 1), and c2's new caller
    // (from Sep 20).
    assert_eq!(
        strs(&local, an::ENTITY),
        [s("mallory@evil.com"), s("203.0.113.5"), s("alice@c1.com")]
    );
    for (engine, run) in engines() {
        let got = sort(activity_signals_with(
            mapped(),
            on(run),
            no_audit(),
            a(),
            &cfg(),
        ));
        assert!(got.equals_missing(&local), "{engine}: {got}\n{local}");
    }
}

fn on_linked(engine: fn(&Reduction) -> LazyFrame, c: &AnomalyConfig) -> LinkKeys {
    link_keys_of(
        engine(&linked_callers_sql(1, a(), c)),
        engine(&linked_ips_sql(1, a(), c)),
        engine(&linked_operations_sql(1, a(), c)),
    )
}

fn link_frames(keys: LinkKeys) -> [DataFrame; 3] {
    [
        sorted(keys.callers, &[act::CUSTOMER_ID, act::CALLER]),
        sorted(keys.ips, &[act::CUSTOMER_ID, act::CLIENT_IP]),
        sorted(keys.operations, &[act::CUSTOMER_ID, k::OPERATION]),
    ]
}

fn days(df: &DataFrame, c: &str) -> Vec<Option<NaiveDate>> {
    df.column(c)
        .unwrap()
        .date()
        .unwrap()
        .as_date_iter()
        .collect()
}

#[test]
fn the_linked_keys_sql_gives_the_hand_computed_keys_and_the_local_plan_on_each_engine() {
    let local = link_frames(crate::analysis::anomalies::linked::local_link_keys(
        mapped(),
        a(),
        &cfg(),
    ));
    for (engine, run) in engines() {
        let [callers, ips, ops] = link_frames(on_linked(run, &cfg()));
        assert_eq!(
            strs(&callers, act::CALLER),
            [
                s("bob@t2.com"),
                s("alice@c1.com"),
                s("mallory@evil.com"),
                s("alice@c1.com"),
                s("carol@c2.com")
            ],
            "{engine}"
        );
        // The window and the history: alice's first write for c1 on Sep 1, for c2 on Oct 12;
        // bob only read; carol's Started write is a write.
        assert_eq!(
            days(&callers, k::FIRST_WRITE),
            [
                None,
                Some(d(2026, 9, 1)),
                Some(d(2026, 10, 10)),
                Some(d(2026, 10, 12)),
                Some(d(2026, 9, 20))
            ],
            "{engine}"
        );
        assert_eq!(strs(&ips, act::CLIENT_IP), [s("10.0.0.7")], "{engine}");
        assert_eq!(days(&ips, k::FIRST_DAY), [Some(d(2026, 9, 5))], "{engine}");
        // c1's three operations (by name: role, disk, VM writes), first on Sep 5, 1 and 3.
        let c1: Vec<Option<NaiveDate>> = strs(&ops, act::CUSTOMER_ID)
            .into_iter()
            .zip(days(&ops, k::FIRST_DAY))
            .filter(|(c, _)| c.as_deref() == Some("c1"))
            .map(|(_, day)| day)
            .collect();
        assert_eq!(
            c1,
            [
                Some(d(2026, 9, 5)),
                Some(d(2026, 9, 1)),
                Some(d(2026, 9, 3))
            ],
            "{engine}"
        );
        // T2's read, c2's two, other-tenant's one.
        assert_eq!(ops.height(), 7, "{engine}: {ops}");
        for (got, want) in [callers, ips, ops].iter().zip(&local) {
            assert!(got.equals_missing(want), "{engine}: {got}\n{want}");
        }
    }
}

#[test]
fn linked_accounts_from_either_engines_keys_are_the_local_ones() {
    use crate::analysis::anomalies::linked::{linked_accounts, linked_accounts_with};
    use crate::schema::customers as cu;
    let customers = frame(
        &cu::DEF,
        df!(
            cu::CUSTOMER_ID => ["c1", "c2", "T2"],
            cu::CUSTOMER_NAME => ["One", "Two", "Tee"],
            cu::CREATED_DATE => ["2026-10-01", "2026-10-02", "2020-01-01"],
        )
        .unwrap(),
    );
    let mut c = cfg();
    c.linked_min_customers = 2;
    let sort = |lf: LazyFrame| sorted(lf, &[an::CUSTOMER_ID, an::ENTITY]);
    let local = sort(linked_accounts(mapped(), customers.clone(), a(), &c));
    // c1 and c2, both new, share the caller alice.
    assert_eq!(
        strs(&local, an::ENTITY),
        [s("caller alice@c1.com"), s("caller alice@c1.com")]
    );
    for (engine, run) in engines() {
        let got = sort(linked_accounts_with(
            on_linked(run, &c),
            customers.clone(),
            a(),
            &c,
        ));
        assert!(got.equals_missing(&local), "{engine}: {got}\n{local}");
    }
}

#[test]
fn several_converted_activity_files_are_read_as_one() {
    let all = activity();
    let half = all.height() / 2;
    let mut ctx = polars::sql::SQLContext::new();
    ctx.register(USAGE_TABLE, usage().lazy());
    ctx.register(&activity_table(0), all.slice(0, half).lazy());
    ctx.register(
        &activity_table(1),
        all.slice(half as i64, all.height()).lazy(),
    );
    let (a_, c) = (a(), cfg());
    for (two, one) in [
        (customers_sql(2, a_, &c), customers_sql(1, a_, &c)),
        (callers_sql(2, a_, &c), callers_sql(1, a_, &c)),
        (
            linked_operations_sql(2, a_, &c),
            linked_operations_sql(1, a_, &c),
        ),
    ] {
        assert!(two.sql.contains("activity_1"), "{}", two.sql);
        let got = ctx.execute(&two.sql).unwrap().collect().unwrap();
        let want = run_polars2(&one).collect().unwrap();
        let keys: Vec<String> = want
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let sort = |df: DataFrame| {
            df.lazy()
                .sort(keys.clone(), SortMultipleOptions::default())
                .collect()
                .unwrap()
        };
        let (got, want) = (sort(got), sort(want));
        assert!(want.height() > 2);
        assert!(got.equals_missing(&want), "{}: {got}\n{want}", two.name);
    }
}
