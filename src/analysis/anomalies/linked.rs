//! Identity signals across customers: `linked_accounts` (family activity), one actor behind
//! several new customers, and `high_risk_country` (family payment), a customer in a country the
//! partner lists as high-risk for online fraud.
//!
//! linked_accounts. A customer is new when customers.created_date is within `linked_new_days`
//! days up to A. Every Activity Log event up to A (from `history_days + window_days` before A)
//! gives its customer link keys of five kinds:
//! - `caller`: the caller (lower-case) of a write: the same account acting in several tenants;
//! - `guest domain`: the home domain of a guest caller (`ann_fabrikam.com#EXT#@tenant...` ->
//!   fabrikam.com), except the free-mail domains of `linked_ignored_domains`;
//! - `client IP`: the client IP of a privileged operation (Microsoft.Authorization writes: role
//!   assignments, policies, locks);
//! - `domain pattern`: a caller's domain with every run of digits replaced by `#`, when it has
//!   digits (`bluefin01.onmicrosoft.com` -> `bluefin#.onmicrosoft.com`): accounts created by a
//!   script;
//! - `sign-up`: the created date and country of a new customer with its first three distinct
//!   operations, in order.
//!
//! A key used by any established customer (not new, or without a created date) is infrastructure
//! (an MSP's admin account, a corporate proxy, a partner's own staff) and links nobody. A key
//! shared by at least `linked_min_customers` new customers links each of them: one row per linked
//! customer, for its strongest link (most customers, then the kind in the order above, then the
//! value), dated the first day the key appears on it; actual = customers sharing it, expected =
//! the threshold; score = customers / threshold + 0.5 per further kind of link the customer
//! shares with other new customers (so three kinds of evidence weigh more than one).
//!
//! high_risk_country: one row per customer whose country (customers.country, else the
//! CustomerCountry of its usage) is in `high_risk_countries` (ISO codes, case-insensitive; empty
//! by default: nothing fires), dated A, score 1.0. risk.rs keeps its points under half the high
//! edge: a country is evidence, never enough alone.

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::activity::{blank_to_null, prepare, CALLER_KEY, DAY, OP};
use super::config::AnomalyConfig;
use super::evidence::{count_text, date_text};
use super::table::{date_lit, union};
use crate::analysis::reasons::{
    FAMILY_ACTIVITY, FAMILY_PAYMENT, HIGH_RISK_COUNTRY, LINKED_ACCOUNTS,
};
use crate::schema::{activity as act, anomalies as an, customers as cu};

const KIND: &str = "_kind";
const VALUE: &str = "_value";
const FIRST: &str = "_first_day";
const OTHER: &str = "_other";
const OTHER_NAME: &str = "_other_name";
const N: &str = "_n";
const KINDS: &str = "_kinds";
const RANK: &str = "_rank";
const IS_NEW: &str = "_is_new";
const NAMES: &str = "_names";
const COUNTRY: &str = "_country";
const USAGE_COUNTRY: &str = "_usage_country";

/// The kinds of link, strongest first, with the words of the reason.
const LINK_KINDS: [(&str, &str); 5] = [
    ("caller", "caller"),
    ("guest domain", "guest accounts from"),
    ("client IP", "client IP"),
    ("domain pattern", "the domain pattern"),
    ("sign-up", "the sign-up"),
];

/// Columns of [`LinkKeys`]' frames (besides customer_id, caller and client_ip).
pub mod key_columns {
    /// The first day (Date).
    pub const FIRST_DAY: &str = "first_day";
    /// The first day of a write (Date; null: none).
    pub const FIRST_WRITE: &str = "first_write_day";
    /// An operation, lower-case (String).
    pub const OPERATION: &str = "operation";
    /// Its first time (the events' timestamp).
    pub const FIRST_TIME: &str = "first_time";
}
use key_columns as k;

/// What linked_accounts reads of the events from `history_days + window_days` before A up to A
/// (callers and client IPs lower-case): per customer and caller its first day and first write's
/// day (`callers`: customer_id, caller, first_day, first_write_day); per customer and client IP
/// of a Microsoft.Authorization write its first day (`ips`: customer_id, client_ip, first_day);
/// per customer and operation its first time and day (`operations`: customer_id, operation,
/// first_time, first_day). [`local_link_keys`] computes them with Polars;
/// `cluster::activity_reductions` with SQL on a cluster.
#[derive(Clone)]
pub struct LinkKeys {
    pub callers: LazyFrame,
    pub ips: LazyFrame,
    pub operations: LazyFrame,
}

/// The first day of the events linked_accounts reads.
pub fn link_events_start(as_of: NaiveDate, cfg: &AnomalyConfig) -> NaiveDate {
    as_of - Duration::days(cfg.window_days.max(1) - 1 + cfg.history_days.max(0))
}

/// [`LinkKeys`] of `activity` (events mapped to customers), with Polars.
pub fn local_link_keys(activity: LazyFrame, as_of: NaiveDate, cfg: &AnomalyConfig) -> LinkKeys {
    let events = key_events(activity, link_events_start(as_of, cfg), as_of);
    let is_write = col(OP).str().ends_with(lit("/write"));
    LinkKeys {
        callers: events
            .clone()
            .filter(col(act::CALLER).is_not_null())
            .group_by([col(act::CUSTOMER_ID), col(act::CALLER)])
            .agg([
                col(DAY).min().alias(k::FIRST_DAY),
                col(DAY)
                    .filter(is_write.clone())
                    .min()
                    .alias(k::FIRST_WRITE),
            ]),
        ips: events
            .clone()
            .filter(
                is_write
                    .and(col(OP).str().starts_with(lit("microsoft.authorization/")))
                    .and(col(act::CLIENT_IP).is_not_null()),
            )
            .group_by([col(act::CUSTOMER_ID), col(act::CLIENT_IP)])
            .agg([col(DAY).min().alias(k::FIRST_DAY)]),
        operations: events
            .group_by([col(act::CUSTOMER_ID), col(OP).alias(k::OPERATION)])
            .agg([
                col(act::EVENT_TIME).min().alias(k::FIRST_TIME),
                col(DAY).min().alias(k::FIRST_DAY),
            ]),
    }
}

/// `linked_accounts` rows (anomalies columns, unsorted).
pub fn linked_accounts(
    activity: LazyFrame,
    customers: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    linked_accounts_with(local_link_keys(activity, as_of, cfg), customers, as_of, cfg)
}

/// [`linked_accounts`] from the events' link keys (either engine's).
pub fn linked_accounts_with(
    keys: LinkKeys,
    customers: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let new_from = as_of - Duration::days(cfg.linked_new_days.max(1) - 1);
    let custs = customers_with_is_new(customers, new_from, as_of);
    let keys = link_keys(keys, custs.clone(), cfg);
    let min = cfg.linked_min_customers.max(2);
    let links = shared_links(keys, min);
    let best = strongest_links(links, custs);
    linked_rows(best, min, new_from)
}

/// The customers (one row each) with `IS_NEW`: created from `new_from` up to A.
fn customers_with_is_new(customers: LazyFrame, new_from: NaiveDate, as_of: NaiveDate) -> LazyFrame {
    super::payment::unique_customers(customers)
        .select([
            col(cu::CUSTOMER_ID),
            col(cu::CUSTOMER_NAME),
            col(cu::COUNTRY),
            col(cu::CREATED_DATE),
        ])
        .with_column(
            col(cu::CREATED_DATE)
                .gt_eq(date_lit(new_from))
                .and(col(cu::CREATED_DATE).lt_eq(date_lit(as_of)))
                .fill_null(lit(false))
                .alias(IS_NEW),
        )
        .cache()
}

/// The events from `from` up to A with a customer (else the lower-case tenant), their day, and
/// their operation, caller and client IP in lower case.
fn key_events(activity: LazyFrame, from: NaiveDate, as_of: NaiveDate) -> LazyFrame {
    prepare(activity, from, as_of)
        .select([
            col(act::CUSTOMER_ID),
            col(DAY),
            col(act::EVENT_TIME),
            col(OP),
            col(CALLER_KEY).alias(act::CALLER),
            col(act::CLIENT_IP),
        ])
        .cache()
}

/// Every link key of every customer (customer, kind, value, first day, `IS_NEW`), from the
/// events' [`LinkKeys`].
fn link_keys(keys: LinkKeys, custs: LazyFrame, cfg: &AnomalyConfig) -> LazyFrame {
    let key = |lf: LazyFrame, day: &str, kind: &str, value: Expr| {
        lf.select([
            col(act::CUSTOMER_ID),
            col(day).alias(DAY),
            lit(kind.to_string()).alias(KIND),
            value.alias(VALUE),
        ])
    };
    let guest = col(act::CALLER)
        .str()
        .extract(lit(r"^[^@#]+_([a-z0-9.-]+\.[a-z]{2,})#ext#@"), 1);
    let ignored = cfg
        .linked_ignored_domains
        .iter()
        .fold(lit(false), |acc, d| {
            acc.or(col(VALUE).eq(lit(d.trim().to_ascii_lowercase())))
        });
    let domain = col(act::CALLER).str().extract(lit(r"@([^@]+)$"), 1);
    let pattern = domain
        .clone()
        .str()
        .replace_all(lit(r"[0-9]+"), lit("#"), false);
    let first_ops = sign_up_keys(keys.operations, custs.clone());
    let callers = keys.callers;
    union_keys(vec![
        key(
            callers.clone().filter(col(k::FIRST_WRITE).is_not_null()),
            k::FIRST_WRITE,
            "caller",
            col(act::CALLER),
        ),
        key(callers.clone(), k::FIRST_DAY, "guest domain", guest).filter(ignored.not()),
        key(keys.ips, k::FIRST_DAY, "client IP", col(act::CLIENT_IP)),
        key(
            callers.filter(
                domain
                    .str()
                    .contains(lit("[0-9]"), false)
                    .fill_null(lit(false)),
            ),
            k::FIRST_DAY,
            "domain pattern",
            pattern,
        ),
        first_ops,
    ])
    .filter(col(VALUE).is_not_null().and(col(VALUE).neq(lit(""))))
    .group_by([col(act::CUSTOMER_ID), col(KIND), col(VALUE)])
    .agg([col(DAY).min().alias(FIRST)])
    .join(
        custs.select([col(cu::CUSTOMER_ID), col(IS_NEW)]),
        [col(act::CUSTOMER_ID)],
        [col(cu::CUSTOMER_ID)],
        JoinArgs::new(JoinType::Left),
    )
    .with_column(col(IS_NEW).fill_null(lit(false)))
    .cache()
}

/// The `sign-up` keys: a new customer's created date and country with its first three distinct
/// operations, in order: by their first time, then name (as the events in time order give them).
/// `operations`: [`LinkKeys`]' operations.
fn sign_up_keys(operations: LazyFrame, custs: LazyFrame) -> LazyFrame {
    operations
        .join(
            custs
                .clone()
                .filter(col(IS_NEW))
                .select([col(cu::CUSTOMER_ID)]),
            [col(act::CUSTOMER_ID)],
            [col(cu::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Semi),
        )
        .sort(
            [act::CUSTOMER_ID, k::FIRST_TIME, k::OPERATION],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .group_by([col(act::CUSTOMER_ID)])
        .agg([
            col(k::FIRST_DAY).min().alias(DAY),
            col(k::OPERATION)
                .drop_nulls()
                .head(Some(3))
                .str()
                .join("|", true)
                .alias(OP),
        ])
        .join(
            custs,
            [col(act::CUSTOMER_ID)],
            [col(cu::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(IS_NEW))
        .select([
            col(act::CUSTOMER_ID),
            col(DAY),
            lit("sign-up").alias(KIND),
            concat_str(
                [
                    date_text(col(cu::CREATED_DATE)),
                    lit(" in "),
                    col(cu::COUNTRY).fill_null(lit("?")),
                    lit(" with first operations "),
                    col(OP),
                ],
                "",
                false,
            )
            .alias(VALUE),
        ])
}

/// The keys of new customers that no established customer uses (keys of established customers
/// are infrastructure, never a link) and that at least `min` new customers share, with `N`.
fn shared_links(keys: LazyFrame, min: u32) -> LazyFrame {
    let established = keys
        .clone()
        .filter(col(IS_NEW).not())
        .select([col(KIND), col(VALUE)])
        .unique(None, UniqueKeepStrategy::Any);
    let fresh = keys
        .filter(col(IS_NEW))
        .join(
            established,
            [col(KIND), col(VALUE)],
            [col(KIND), col(VALUE)],
            JoinArgs::new(JoinType::Anti),
        )
        .select([col(act::CUSTOMER_ID), col(KIND), col(VALUE), col(FIRST)])
        .cache();
    let groups = fresh
        .clone()
        .group_by([col(KIND), col(VALUE)])
        .agg([col(act::CUSTOMER_ID)
            .n_unique()
            .cast(DataType::Int64)
            .alias(N)])
        .filter(col(N).gt_eq(lit(min as i64)));
    fresh
        .join(
            groups,
            [col(KIND), col(VALUE)],
            [col(KIND), col(VALUE)],
            JoinArgs::new(JoinType::Inner),
        )
        .cache()
}

/// Each linked customer's strongest link (most customers, then the kind in the order of
/// `LINK_KINDS`, then the value), with the others' names (`NAMES`) and the number of kinds of
/// link it has (`KINDS`).
fn strongest_links(links: LazyFrame, custs: LazyFrame) -> LazyFrame {
    // The names of the others in each link.
    let others = links
        .clone()
        .select([col(KIND), col(VALUE), col(act::CUSTOMER_ID).alias(OTHER)])
        .join(
            custs.select([col(cu::CUSTOMER_ID), col(cu::CUSTOMER_NAME)]),
            [col(OTHER)],
            [col(cu::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(coalesce(&[col(cu::CUSTOMER_NAME), col(OTHER)]).alias(OTHER_NAME))
        .select([col(KIND), col(VALUE), col(OTHER), col(OTHER_NAME)]);
    let kind_rank =
        LINK_KINDS
            .iter()
            .enumerate()
            .fold(lit(LINK_KINDS.len() as i32), |acc, (i, (k, _))| {
                when(col(KIND).eq(lit(*k)))
                    .then(lit(i as i32))
                    .otherwise(acc)
            });
    let kinds_per_customer = links
        .clone()
        .group_by([col(act::CUSTOMER_ID)])
        .agg([col(KIND).n_unique().cast(DataType::Int64).alias(KINDS)]);
    links
        .join(
            others,
            [col(KIND), col(VALUE)],
            [col(KIND), col(VALUE)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(OTHER).neq(col(act::CUSTOMER_ID)))
        .group_by([col(act::CUSTOMER_ID), col(KIND), col(VALUE)])
        .agg([
            col(FIRST).first(),
            col(N).first(),
            col(OTHER_NAME)
                .sort(SortOptions::default())
                .str()
                .join(", ", true)
                .alias(NAMES),
        ])
        .with_column(kind_rank.alias(RANK))
        .sort(
            [act::CUSTOMER_ID, N, RANK, VALUE],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, true, false, false])
                .with_maintain_order(true),
        )
        .unique_stable(Some(cols([act::CUSTOMER_ID])), UniqueKeepStrategy::First)
        .join(
            kinds_per_customer,
            [col(act::CUSTOMER_ID)],
            [col(act::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Left),
        )
}

/// The anomalies rows of the strongest links: score and reason.
fn linked_rows(best: LazyFrame, min: u32, new_from: NaiveDate) -> LazyFrame {
    let kind_words = LINK_KINDS.iter().fold(col(KIND), |acc, (k, w)| {
        when(col(KIND).eq(lit(*k))).then(lit(*w)).otherwise(acc)
    });
    let score = col(N).cast(DataType::Float64) / lit(min as f64)
        + (col(KINDS).cast(DataType::Float64) - lit(1.0)) * lit(0.5);
    let reason = concat_str(
        [
            lit("Shares "),
            kind_words,
            lit(" "),
            col(VALUE),
            lit(" with "),
            count_text(col(N) - lit(1)),
            when(col(N).eq(lit(2)))
                .then(lit(" other customer created since "))
                .otherwise(lit(" other customers created since ")),
            lit(date_text_const(new_from)),
            lit(" ("),
            col(NAMES),
            lit(")"),
            when(col(KINDS).gt(lit(1)))
                .then(concat_str(
                    [
                        lit("; "),
                        count_text(col(KINDS)),
                        lit(" kinds of link to new customers in all"),
                    ],
                    "",
                    false,
                ))
                .otherwise(lit("")),
        ],
        "",
        false,
    );
    union(vec![best.select([
        col(act::CUSTOMER_ID).alias(an::CUSTOMER_ID),
        concat_str([col(KIND), col(VALUE)], " ", false).alias(an::ENTITY),
        lit(FAMILY_ACTIVITY).alias(an::FAMILY),
        lit(LINKED_ACCOUNTS).alias(an::SIGNAL),
        col(FIRST).alias(an::DATE),
        col(N).cast(DataType::Float64).alias(an::ACTUAL),
        lit(min as f64).alias(an::EXPECTED),
        score.alias(an::SCORE),
        reason.alias(an::REASON),
        lit(false).alias(an::SUPPRESSED),
    ])])
}

fn date_text_const(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn union_keys(parts: Vec<LazyFrame>) -> LazyFrame {
    let typed: Vec<LazyFrame> = parts
        .into_iter()
        .map(|p| {
            p.select([
                col(act::CUSTOMER_ID).cast(DataType::String),
                col(DAY).cast(DataType::Date),
                col(KIND).cast(DataType::String),
                col(VALUE).cast(DataType::String),
            ])
        })
        .collect();
    let empty = || {
        df!(
            act::CUSTOMER_ID => Vec::<String>::new(),
            DAY => Vec::<i32>::new(),
            KIND => Vec::<String>::new(),
            VALUE => Vec::<String>::new(),
        )
        .map(|d| d.lazy().with_column(col(DAY).cast(DataType::Date)))
        .unwrap_or_default()
    };
    concat(typed, UnionArgs::default()).unwrap_or_else(|_| empty())
}

/// Both signals of this module (anomalies columns, unsorted); `usage_summary` is any frame with
/// customer_id and customer_country (the usage summary of usage_signals).
/// `link_keys`: linked_accounts' keys computed on a cluster; None: from `activity` here.
pub fn identity_signals(
    activity: LazyFrame,
    link_keys: Option<LinkKeys>,
    customers: LazyFrame,
    usage_summary: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let keys = link_keys.unwrap_or_else(|| local_link_keys(activity, as_of, cfg));
    union(vec![
        linked_accounts_with(keys, customers.clone(), as_of, cfg),
        high_risk_country(customers, usage_summary, as_of, cfg),
    ])
}

/// `high_risk_country` rows (anomalies columns, unsorted). `usage_countries` has customer_id and
/// customer_country (any number of rows per customer).
pub fn high_risk_country(
    customers: LazyFrame,
    usage_countries: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let listed: Vec<String> = cfg
        .high_risk_countries
        .iter()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    if listed.is_empty() {
        return super::table::empty_anomalies();
    }
    let from_customers = super::payment::unique_customers(customers).select([
        col(cu::CUSTOMER_ID),
        blank_to_null(col(cu::COUNTRY))
            .str()
            .to_uppercase()
            .alias(COUNTRY),
    ]);
    let from_usage = usage_countries
        .select([
            col(cu::CUSTOMER_ID),
            blank_to_null(col(crate::schema::usage::CUSTOMER_COUNTRY))
                .str()
                .to_uppercase()
                .alias(USAGE_COUNTRY),
        ])
        .filter(col(USAGE_COUNTRY).is_not_null())
        .group_by([col(cu::CUSTOMER_ID)])
        .agg([col(USAGE_COUNTRY).min()]);
    let is_listed = listed
        .iter()
        .fold(lit(false), |acc, c| acc.or(col(COUNTRY).eq(lit(c.clone()))));
    let both = from_usage
        .join(
            from_customers,
            [col(cu::CUSTOMER_ID)],
            [col(cu::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
        )
        .with_column(coalesce(&[col(COUNTRY), col(USAGE_COUNTRY)]).alias(COUNTRY))
        .filter(is_listed.fill_null(lit(false)));
    union(vec![both.select([
        col(cu::CUSTOMER_ID).alias(an::CUSTOMER_ID),
        col(COUNTRY).alias(an::ENTITY),
        lit(FAMILY_PAYMENT).alias(an::FAMILY),
        lit(HIGH_RISK_COUNTRY).alias(an::SIGNAL),
        date_lit(as_of).alias(an::DATE),
        lit(1.0).alias(an::ACTUAL),
        lit(1.0).alias(an::EXPECTED),
        lit(1.0).alias(an::SCORE),
        concat_str(
            [
                lit("Country "),
                col(COUNTRY),
                lit(" is on the partner's list of high-risk countries for online fraud"),
            ],
            "",
            false,
        )
        .alias(an::REASON),
        lit(false).alias(an::SUPPRESSED),
    ])])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::usage as us;
    use crate::testutil::{d, f64s, frame, strs};

    const A: (i32, u32, u32) = (2026, 10, 14);

    /// Activity rows (customer, day, operation, caller, ip).
    fn activity(rows: &[(&str, &str, &str, &str, &str)]) -> LazyFrame {
        let df = df!(
            act::EVENT_TIME => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            act::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            act::OPERATION => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            act::OPERATION_LOWER => rows.iter().map(|r| r.2.to_lowercase()).collect::<Vec<_>>(),
            act::STATUS => rows.iter().map(|_| "Succeeded").collect::<Vec<_>>(),
            act::CALLER => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            act::CLIENT_IP => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&act::DEF, df)
    }

    /// Customers (id, name, country, created).
    fn customers(rows: &[(&str, &str, Option<&str>, &str)]) -> LazyFrame {
        let df = df!(
            cu::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            cu::CUSTOMER_NAME => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            cu::COUNTRY => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            cu::CREATED_DATE => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&cu::DEF, df)
    }

    const ROLE: &str = "Microsoft.Authorization/roleAssignments/write";
    const SITE: &str = "Microsoft.Web/sites/write";

    fn world() -> (LazyFrame, LazyFrame) {
        let custs = customers(&[
            ("n1", "Ring 1", Some("NG"), "2026-10-10"),
            ("n2", "Ring 2", Some("NG"), "2026-10-10"),
            ("n3", "Ring 3", Some("NG"), "2026-10-10"),
            ("n4", "Newcomer", Some("US"), "2026-10-01"),
            ("e1", "Old One", Some("US"), "2024-01-01"),
            ("e2", "Old Two", Some("DE"), "2024-01-01"),
        ]);
        let mut rows: Vec<(String, String, String, String, String)> = vec![];
        for i in 1..=3 {
            let c = format!("n{i}");
            let tenant = format!("ring0{i}.onmicrosoft.com");
            // The ring's guest (evil.com) from one IP makes itself Owner the day after sign-up.
            rows.push((
                c.clone(),
                "2026-10-11".into(),
                ROLE.into(),
                format!("ops_evil.com#EXT#@{tenant}"),
                "185.220.101.7".into(),
            ));
            // A free-mail guest in every tenant links nobody.
            rows.push((
                c.clone(),
                "2026-10-12".into(),
                SITE.into(),
                format!("bob_gmail.com#EXT#@{tenant}"),
                format!("20.0.0.{i}"),
            ));
            // The MSP's admin from its office, also on the established customers: no link.
            rows.push((
                c.clone(),
                "2026-10-12".into(),
                ROLE.into(),
                "admin@msp.example".into(),
                "203.0.113.10".into(),
            ));
        }
        for e in ["e1", "e2"] {
            rows.push((
                e.into(),
                "2026-08-01".into(),
                ROLE.into(),
                "admin@msp.example".into(),
                "203.0.113.10".into(),
            ));
        }
        // A new customer with its own users only.
        rows.push((
            "n4".into(),
            "2026-10-02".into(),
            SITE.into(),
            "ann@newcomer.example".into(),
            "52.1.1.1".into(),
        ));
        let refs: Vec<(&str, &str, &str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.0.as_str(),
                    r.1.as_str(),
                    r.2.as_str(),
                    r.3.as_str(),
                    r.4.as_str(),
                )
            })
            .collect();
        (activity(&refs), custs)
    }

    fn run(cfg: &AnomalyConfig) -> DataFrame {
        let (act, custs) = world();
        linked_accounts(act, custs, d(A.0, A.1, A.2), cfg)
            .sort([an::CUSTOMER_ID], SortMultipleOptions::default())
            .collect()
            .unwrap()
    }

    #[test]
    fn new_customers_sharing_keys_are_linked_and_infrastructure_is_not() {
        let out = run(&AnomalyConfig::default());
        assert_eq!(strs(&out, an::CUSTOMER_ID), ["n1", "n2", "n3"]);
        // Four kinds shared (guest domain evil.com, client IP 185.220.101.7, domain pattern
        // ring#.onmicrosoft.com, the sign-up of 2026-10-10 in NG with the same first operations);
        // the strongest by kind order is the guest domain. Score 3 / 3 + 0.5 x 3 = 2.5.
        assert_eq!(strs(&out, an::ENTITY), ["guest domain evil.com"; 3]);
        assert_eq!(strs(&out, an::DATE), ["2026-10-11"; 3]);
        assert_eq!(f64s(&out, an::ACTUAL), [3.0; 3]);
        assert_eq!(f64s(&out, an::EXPECTED), [3.0; 3]);
        assert_eq!(f64s(&out, an::SCORE), [2.5; 3]);
        assert_eq!(strs(&out, an::FAMILY), ["activity"; 3]);
        assert_eq!(
            strs(&out, an::REASON)[0],
            "Shares guest accounts from evil.com with 2 other customers created since 2026-09-15 \
             (Ring 2, Ring 3); 4 kinds of link to new customers in all"
        );
        assert_eq!(out.schema().as_ref(), &an::DEF.schema());
    }

    #[test]
    fn the_threshold_and_the_new_window_decide() {
        // Four customers needed: nobody is linked.
        let cfg = AnomalyConfig {
            linked_min_customers: 4,
            ..AnomalyConfig::default()
        };
        assert_eq!(run(&cfg).height(), 0);
        // A customer is new for 3 days only: the ring (created 2026-10-10, 5 days before A)
        // is established, so nothing links.
        let cfg = AnomalyConfig {
            linked_new_days: 3,
            ..AnomalyConfig::default()
        };
        assert_eq!(run(&cfg).height(), 0);
        // Without the free-mail exception gmail.com links the three as well, still one row
        // each (the guest domain evil.com and gmail.com tie on customers and kind: by value).
        let cfg = AnomalyConfig {
            linked_ignored_domains: vec![],
            ..AnomalyConfig::default()
        };
        let out = run(&cfg);
        assert_eq!(out.height(), 3);
        assert_eq!(strs(&out, an::ENTITY)[0], "guest domain evil.com");
        // gmail.com is one more guest domain, not another kind of link: 2.5 again.
        assert_eq!(f64s(&out, an::SCORE), [2.5; 3]);
    }

    #[test]
    fn a_listed_country_from_customers_or_usage_is_a_row() {
        let custs = customers(&[
            ("c1", "One", Some("ng"), "2024-01-01"),
            ("c2", "Two", Some("US"), "2024-01-01"),
            ("c3", "Three", None, "2024-01-01"),
        ]);
        let usage = df!(
            us::CUSTOMER_ID => ["c3", "c4", "c2"],
            us::CUSTOMER_COUNTRY => ["NG", "US", "NG"],
        )
        .unwrap()
        .lazy();
        let cfg = AnomalyConfig {
            high_risk_countries: vec![" NG ".into()],
            ..AnomalyConfig::default()
        };
        let out = high_risk_country(custs.clone(), usage.clone(), d(A.0, A.1, A.2), &cfg)
            .sort([an::CUSTOMER_ID], SortMultipleOptions::default())
            .collect()
            .unwrap();
        // c1 by its customer record, c3 by its usage; c2's record (US) wins over its usage.
        assert_eq!(strs(&out, an::CUSTOMER_ID), ["c1", "c3"]);
        assert_eq!(strs(&out, an::ENTITY), ["NG", "NG"]);
        assert_eq!(strs(&out, an::DATE), ["2026-10-14", "2026-10-14"]);
        assert_eq!(f64s(&out, an::SCORE), [1.0, 1.0]);
        assert_eq!(strs(&out, an::FAMILY), ["payment", "payment"]);
        assert_eq!(
            strs(&out, an::REASON)[0],
            "Country NG is on the partner's list of high-risk countries for online fraud"
        );
        // The default list is empty: nothing.
        let none = high_risk_country(custs, usage, d(A.0, A.1, A.2), &AnomalyConfig::default())
            .collect()
            .unwrap();
        assert_eq!(none.height(), 0);
    }
}
