//! Payment signals (SPEC 4.4, family `payment`) from usage, payments, invoices, customer master
//! data and the aging of receivables: prepaid instruments, consumption far beyond cleared
//! payments, new customers spending fast, unverified customers, and balances past the credit
//! limit. Late payment alone is not a signal (the collections ladder handles it), nor is a budget
//! overrun (the budget alerts do); both count in exposure instead.
//!
//! Unbilled usage (for over_credit_limit) follows exposure.rs: usage up to A in a month for which
//! the partner has not invoiced the customer (no positive invoice issued by A with that
//! service_month). Credit limits carry no currency: each currency's balance is compared with the
//! limit on its own, and a limit that is missing or not positive means "no limit".

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use crate::analysis::exposure::unbilled_usage;
use crate::analysis::{div_const, order_free_sum};

use super::config::AnomalyConfig;
use super::evidence::{count_text, date_text, money_text, num_text};
use super::table::{date_lit, union};
use crate::analysis::reasons::{
    FAMILY_PAYMENT, FAST_NEW_CUSTOMER, LARGE_PURCHASE, OVER_CREDIT_LIMIT, PREPAID_INSTRUMENT,
    UNVERIFIED, USAGE_BEFORE_PAYMENT,
};
use crate::analysis::usage_daily::PURCHASE_COST;
use crate::schema::{
    aging_customers as ag, anomalies as an, customers as cu, payments as pay, usage as us,
};

const N: &str = "_n";
const USED: &str = "_used";
const PAID: &str = "_paid";
const FIRST: &str = "_first";
const UNBILLED: &str = "_unbilled";
const NET: &str = "_net";

/// Every payment-family anomaly, in the anomalies schema (not yet sorted).
pub fn payment_signals(
    usage: LazyFrame,
    payments: LazyFrame,
    invoices: LazyFrame,
    customers: LazyFrame,
    aging_customers: LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let a = date_lit(as_of);
    let usage = usage.filter(col(us::USAGE_DATE).lt_eq(a.clone()));
    let payments = payments.filter(col(pay::PAYMENT_DATE).lt_eq(a));
    let customers = unique_customers(customers);
    union(vec![
        prepaid_instrument(&payments, as_of, cfg.payment_lookback_days),
        usage_before_payment(&usage, &payments, as_of, cfg),
        fast_new_customer(&usage, &customers, as_of, cfg),
        unverified(&customers, as_of),
        over_credit_limit(&usage, invoices, &customers, aging_customers, as_of),
        large_purchase(&usage, &payments, &customers, as_of, cfg),
    ])
}

/// One row per customer (the first in input order), so joins cannot multiply rows.
pub(crate) fn unique_customers(customers: LazyFrame) -> LazyFrame {
    customers
        .filter(col(cu::CUSTOMER_ID).is_not_null())
        .unique_stable(Some(cols([cu::CUSTOMER_ID])), UniqueKeepStrategy::First)
}

fn tagged(signal: &'static str, as_of: NaiveDate) -> [Expr; 4] {
    [
        lit(FAMILY_PAYMENT).alias(an::FAMILY),
        lit(signal).alias(an::SIGNAL),
        lit(false).alias(an::SUPPRESSED),
        date_lit(as_of).alias(an::DATE),
    ]
}

fn days_between(from: Expr, to: Expr) -> Expr {
    (to.cast(DataType::Int32) - from.cast(DataType::Int32)).cast(DataType::Float64)
}

fn cust_currency() -> [Expr; 2] {
    [col(an::CUSTOMER_ID), col(us::CURRENCY)]
}

fn prepaid_instrument(payments: &LazyFrame, as_of: NaiveDate, lookback_days: i64) -> LazyFrame {
    let from = as_of - Duration::days(lookback_days.max(0));
    payments
        .clone()
        .filter(
            paid_by_prepaid_card()
                .and(col(pay::PAYMENT_DATE).gt_eq(date_lit(from)))
                .and(col(pay::AMOUNT).cast(DataType::Float64).gt(lit(0.0))),
        )
        .group_by([col(pay::CUSTOMER_ID), col(pay::CURRENCY)])
        .agg([
            len().cast(DataType::Float64).alias(N),
            col(pay::AMOUNT).sum().cast(DataType::Float64).alias(PAID),
            col(pay::PAYMENT_DATE).max(),
        ])
        .with_columns(tagged(PREPAID_INSTRUMENT, as_of))
        .with_columns([
            col(pay::CUSTOMER_ID).alias(an::ENTITY),
            col(pay::PAYMENT_DATE).alias(an::DATE),
            col(PAID).alias(an::ACTUAL),
            lit(0.0).alias(an::EXPECTED),
            lit(1.0).alias(an::SCORE),
            concat_str(
                [
                    lit("Paid by prepaid card "),
                    count_text(col(N)),
                    lit(format!(" time(s) in the last {lookback_days} days: ")),
                    money_text(col(PAID), col(pay::CURRENCY)),
                    lit(", the last on "),
                    date_text(col(pay::PAYMENT_DATE)),
                ],
                "",
                false,
            )
            .alias(an::REASON),
        ])
}

fn usage_before_payment(
    usage: &LazyFrame,
    payments: &LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let used = usage.clone().group_by(cust_currency()).agg([
        order_free_sum(col(us::COST)).alias(USED),
        col(us::USAGE_DATE).min().alias(FIRST),
    ]);
    let paid = payments
        .clone()
        .group_by([col(pay::CUSTOMER_ID), col(pay::CURRENCY)])
        .agg([col(pay::AMOUNT).sum().cast(DataType::Float64).alias(PAID)]);
    let excess = col(USED) - col(PAID);
    let share = excess.clone() / col(USED);
    let min_share = cfg.usage_before_payment_min_share.max(f64::MIN_POSITIVE);
    used.join(
        paid,
        cust_currency(),
        cust_currency(),
        JoinArgs::new(JoinType::Left),
    )
    .with_column(col(PAID).fill_null(lit(0.0)))
    .filter(
        col(USED)
            .gt(lit(0.0))
            .and(
                excess
                    .clone()
                    .gt_eq(lit(cfg.usage_before_payment_min_excess)),
            )
            .and(share.clone().gt_eq(lit(min_share))),
    )
    .with_columns(tagged(USAGE_BEFORE_PAYMENT, as_of))
    .with_columns([
        col(an::CUSTOMER_ID).alias(an::ENTITY),
        col(USED).alias(an::ACTUAL),
        col(PAID).alias(an::EXPECTED),
        div_const(share.clone(), min_share).alias(an::SCORE),
        concat_str(
            [
                lit("Usage of "),
                money_text(col(USED), col(us::CURRENCY)),
                lit(" since "),
                date_text(col(FIRST)),
                lit(" against "),
                money_text(col(PAID), col(us::CURRENCY)),
                lit(" of payments received ("),
                num_text(share * lit(100.0), 0),
                lit("% unpaid)"),
            ],
            "",
            false,
        )
        .alias(an::REASON),
    ])
}

fn fast_new_customer(
    usage: &LazyFrame,
    customers: &LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    const DAYS: &str = "_days";
    const DAILY: &str = "_daily";
    let from = as_of - Duration::days(cfg.new_customer_days.max(0));
    let threshold = cfg.new_customer_daily_spend.max(f64::MIN_POSITIVE);
    let new_customers = customers
        .clone()
        .filter(
            col(cu::CREATED_DATE)
                .gt_eq(date_lit(from))
                .and(col(cu::CREATED_DATE).lt_eq(date_lit(as_of))),
        )
        .select([col(cu::CUSTOMER_ID), col(cu::CREATED_DATE)]);
    usage
        .clone()
        .join(
            new_customers,
            [col(us::CUSTOMER_ID)],
            [col(cu::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(us::USAGE_DATE).gt_eq(col(cu::CREATED_DATE)))
        .group_by(cust_currency())
        .agg([
            order_free_sum(col(us::COST)).alias(USED),
            col(cu::CREATED_DATE).first(),
        ])
        // The creation day counts: a customer created today has one day of spend.
        .with_column((days_between(col(cu::CREATED_DATE), date_lit(as_of)) + lit(1.0)).alias(DAYS))
        .with_column((col(USED) / col(DAYS)).alias(DAILY))
        .filter(col(DAILY).gt_eq(lit(threshold)))
        .with_columns(tagged(FAST_NEW_CUSTOMER, as_of))
        .with_columns([
            col(an::CUSTOMER_ID).alias(an::ENTITY),
            col(DAILY).alias(an::ACTUAL),
            lit(threshold).alias(an::EXPECTED),
            div_const(col(DAILY), threshold).alias(an::SCORE),
            concat_str(
                [
                    lit("Customer created on "),
                    date_text(col(cu::CREATED_DATE)),
                    lit(" already spends "),
                    money_text(col(DAILY), col(us::CURRENCY)),
                    lit(" a day ("),
                    money_text(col(USED), col(us::CURRENCY)),
                    lit(" in "),
                    count_text(col(DAYS)),
                    lit(" day(s))"),
                ],
                "",
                false,
            )
            .alias(an::REASON),
        ])
}

/// Working columns of large_purchase.
const BOUGHT: &str = "_bought";
const LAST: &str = "_last";
const SINCE: &str = "_since";
const NEW: &str = "_new";
const PREPAID: &str = "_prepaid";
const WHY: &str = "_why";

/// What makes a large purchase's buyer a risk: new (created or first billed on SINCE), not
/// verified, paying by prepaid card.
fn large_purchase_buyer() -> Expr {
    // The parts that apply, joined by ", " (concat_str skips the nulls).
    concat_str(
        [
            when(col(NEW))
                .then(concat_str(
                    [
                        when(col(cu::CREATED_DATE).is_not_null())
                            .then(lit("created on "))
                            .otherwise(lit("first billed on ")),
                        date_text(col(SINCE)),
                    ],
                    "",
                    false,
                ))
                .otherwise(lit(NULL).cast(DataType::String)),
            when(col(cu::VERIFIED).eq(lit(false)))
                .then(lit("not verified"))
                .otherwise(lit(NULL).cast(DataType::String)),
            when(col(PREPAID))
                .then(lit("paying by prepaid card"))
                .otherwise(lit(NULL).cast(DataType::String)),
        ],
        ", ",
        true,
    )
}

/// large_purchase: Purchase charges (`purchase_cost` of usage_daily::cost_per_customer_day) of
/// at least `large_purchase_min_cost` in the last `large_purchase_days` days by a customer that is
/// new, unverified or pays by prepaid card: buying a year of reserved GPUs with a stolen card is
/// theft that no usage baseline sees. An established, verified customer's purchase is no signal
/// (nor a usage spike: purchases never feed usage baselines). `usage` is the cost per customer
/// and day, every charge: a customer absent from the customer master is new while its first
/// charge is within `new_customer_days`.
fn large_purchase(
    usage: &LazyFrame,
    payments: &LazyFrame,
    customers: &LazyFrame,
    as_of: NaiveDate,
    cfg: &AnomalyConfig,
) -> LazyFrame {
    let from = as_of - Duration::days(cfg.large_purchase_days.max(1) - 1);
    let new_from = as_of - Duration::days(cfg.new_customer_days.max(0));
    let lookback = as_of - Duration::days(cfg.payment_lookback_days.max(0));
    let threshold = cfg.large_purchase_min_cost.max(f64::MIN_POSITIVE);
    let first_seen = usage
        .clone()
        .group_by([col(us::CUSTOMER_ID)])
        .agg([col(us::USAGE_DATE).min().alias(FIRST)]);
    let prepaid = payments
        .clone()
        .filter(paid_by_prepaid_card().and(col(pay::PAYMENT_DATE).gt_eq(date_lit(lookback))))
        .group_by([col(pay::CUSTOMER_ID)])
        .agg([len().gt(lit(0)).alias(PREPAID)]);
    let master = customers.clone().select([
        col(cu::CUSTOMER_ID),
        col(cu::CREATED_DATE),
        col(cu::VERIFIED),
    ]);
    let left = || JoinArgs::new(JoinType::Left);
    let since = coalesce(&[col(cu::CREATED_DATE), col(FIRST)]);
    let why = large_purchase_buyer();
    usage
        .clone()
        .filter(
            col(us::USAGE_DATE)
                .gt_eq(date_lit(from))
                .and(col(us::USAGE_DATE).lt_eq(date_lit(as_of))),
        )
        .group_by(cust_currency())
        .agg([
            order_free_sum(col(PURCHASE_COST)).alias(BOUGHT),
            when(col(PURCHASE_COST).neq(exact_zero()))
                .then(col(us::USAGE_DATE))
                .otherwise(lit(NULL).cast(DataType::Date))
                .max()
                .alias(LAST),
        ])
        .filter(col(BOUGHT).gt_eq(lit(threshold)))
        .join(
            first_seen,
            [col(an::CUSTOMER_ID)],
            [col(us::CUSTOMER_ID)],
            left(),
        )
        .join(
            master,
            [col(an::CUSTOMER_ID)],
            [col(cu::CUSTOMER_ID)],
            left(),
        )
        .join(
            prepaid,
            [col(an::CUSTOMER_ID)],
            [col(pay::CUSTOMER_ID)],
            left(),
        )
        .with_columns([since.alias(SINCE), col(PREPAID).fill_null(lit(false))])
        .with_column(
            col(SINCE)
                .gt_eq(date_lit(new_from))
                .fill_null(lit(false))
                .alias(NEW),
        )
        .with_column(why.alias(WHY))
        .filter(
            col(NEW)
                .or(col(cu::VERIFIED).eq(lit(false)).fill_null(lit(false)))
                .or(col(PREPAID)),
        )
        .with_columns(tagged(LARGE_PURCHASE, as_of))
        .with_columns([
            col(an::CUSTOMER_ID).alias(an::ENTITY),
            col(LAST).alias(an::DATE),
            col(BOUGHT).alias(an::ACTUAL),
            lit(threshold).alias(an::EXPECTED),
            div_const(col(BOUGHT), threshold).alias(an::SCORE),
            concat_str(
                [
                    lit("Purchases (reservations, savings plans, marketplace) of "),
                    money_text(col(BOUGHT), col(us::CURRENCY)),
                    lit(format!(
                        " in the last {} day(s), the last on ",
                        cfg.large_purchase_days.max(1)
                    )),
                    date_text(col(LAST)),
                    lit(", by a customer "),
                    col(WHY),
                ],
                "",
                false,
            )
            .alias(an::REASON),
        ])
}

fn exact_zero() -> Expr {
    crate::analysis::exact(lit(0.0))
}

fn unverified(customers: &LazyFrame, as_of: NaiveDate) -> LazyFrame {
    customers
        .clone()
        .filter(col(cu::VERIFIED).eq(lit(false)))
        .with_columns(tagged(UNVERIFIED, as_of))
        .with_columns([
            col(cu::CUSTOMER_ID).alias(an::ENTITY),
            lit(0.0).alias(an::ACTUAL),
            lit(1.0).alias(an::EXPECTED),
            lit(1.0).alias(an::SCORE),
            lit("The customer's identity has not been verified (customer master data)")
                .alias(an::REASON),
        ])
}

fn over_credit_limit(
    usage: &LazyFrame,
    invoices: LazyFrame,
    customers: &LazyFrame,
    aging_customers: LazyFrame,
    as_of: NaiveDate,
) -> LazyFrame {
    const BALANCE: &str = "_balance";
    // The rule of exposure.rs: a usage row is unbilled while the customer has no invoice
    // (issued by A, positive, with a service_month) for the row's month.
    let unbilled = unbilled_usage(usage.clone(), invoices, as_of, UNBILLED);
    let net = aging_customers.select([
        col(ag::CUSTOMER_ID),
        col(ag::CURRENCY),
        col(ag::NET_OUTSTANDING).cast(DataType::Float64).alias(NET),
    ]);
    let limits = customers
        .clone()
        .filter(col(cu::CREDIT_LIMIT).gt(lit(0.0)))
        .select([col(cu::CUSTOMER_ID), col(cu::CREDIT_LIMIT)]);
    net.join(
        unbilled,
        cust_currency(),
        cust_currency(),
        JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
    )
    .join(
        limits,
        [col(an::CUSTOMER_ID)],
        [col(cu::CUSTOMER_ID)],
        JoinArgs::new(JoinType::Inner),
    )
    .with_columns([
        col(NET).fill_null(lit(0.0)),
        col(UNBILLED).fill_null(lit(0.0)),
    ])
    .with_column((col(NET) + col(UNBILLED)).alias(BALANCE))
    .filter(col(BALANCE).gt(col(cu::CREDIT_LIMIT)))
    .with_columns(tagged(OVER_CREDIT_LIMIT, as_of))
    .with_columns([
        col(an::CUSTOMER_ID).alias(an::ENTITY),
        col(BALANCE).alias(an::ACTUAL),
        col(cu::CREDIT_LIMIT).alias(an::EXPECTED),
        (col(BALANCE) / col(cu::CREDIT_LIMIT)).alias(an::SCORE),
        concat_str(
            [
                lit("Balance of "),
                money_text(col(BALANCE), col(us::CURRENCY)),
                lit(" (net outstanding "),
                money_text(col(NET), col(us::CURRENCY)),
                lit(" plus unbilled usage "),
                money_text(col(UNBILLED), col(us::CURRENCY)),
                lit(") is over the credit limit of "),
                money_text(col(cu::CREDIT_LIMIT), col(us::CURRENCY)),
            ],
            "",
            false,
        )
        .alias(an::REASON),
    ])
}

/// A payment made with a prepaid card (the instrument compared ignoring case).
fn paid_by_prepaid_card() -> Expr {
    col(pay::INSTRUMENT)
        .str()
        .to_lowercase()
        .eq(lit("prepaid_card"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::usage_daily::cost_per_customer_day;
    use crate::schema::invoices as inv;
    use crate::testutil::{d, f64s, frame, r4, strs};

    #[test]
    fn large_purchase_flags_new_unverified_and_prepaid_buyers_only() {
        // A = 2026-10-14, window 10-08..10-14, minimum 500.
        // n1: created 10-01 (new), buys 800 on 10-12 and 300 on 10-13: 1,100, score 2.2.
        // e1: created 2025, verified, buys 5,000: an established customer, no signal.
        // u1: created 2025 but unverified, buys 600: score 1.2.
        // c1: created 2025, verified, pays by prepaid card, buys 520 (and 900 on 10-01, before
        //     the window): score 1.04.
        // s1: new but buys only 100; its 10,000 of Usage is no purchase.
        let usage = df!(
            us::CUSTOMER_ID => ["n1", "n1", "n1", "e1", "u1", "c1", "c1", "s1", "s1"],
            us::USAGE_DATE => ["2026-10-12", "2026-10-13", "2026-10-13", "2026-10-13", "2026-10-14",
                "2026-10-01", "2026-10-09", "2026-10-14", "2026-10-14"],
            us::COST => [800.0, 300.0, 50.0, 5000.0, 600.0, 900.0, 520.0, 100.0, 10000.0],
            us::CURRENCY => ["USD"; 9],
            us::CHARGE_CATEGORY => ["Purchase", "Purchase", "Usage", "Purchase", "Purchase",
                "Purchase", "Purchase", "Purchase", "Usage"],
        )
        .unwrap();
        let customers = df!(
            cu::CUSTOMER_ID => ["n1", "e1", "u1", "c1", "s1"],
            cu::CREATED_DATE => ["2026-10-01", "2025-01-01", "2025-01-01", "2025-01-01", "2026-10-10"],
            cu::VERIFIED => [Some(true), Some(true), Some(false), Some(true), Some(true)],
        )
        .unwrap();
        let payments = df!(
            pay::PAYMENT_ID => ["pay1"],
            pay::CUSTOMER_ID => ["c1"],
            pay::PAYMENT_DATE => ["2026-09-01"],
            pay::AMOUNT => [10.0],
            pay::CURRENCY => ["USD"],
            pay::INSTRUMENT => ["prepaid_card"],
        )
        .unwrap();
        let out = payment_signals(
            cost_per_customer_day(frame(&us::DEF, usage)),
            frame(&pay::DEF, payments),
            inv::DEF.empty().lazy(),
            frame(&cu::DEF, customers),
            ag::DEF.empty().lazy(),
            d(2026, 10, 14),
            &AnomalyConfig::default(),
        )
        .filter(col(an::SIGNAL).eq(lit(LARGE_PURCHASE)))
        .sort([an::CUSTOMER_ID], SortMultipleOptions::default())
        .collect()
        .unwrap();
        assert_eq!(strs(&out, an::CUSTOMER_ID), ["c1", "n1", "u1"]);
        assert_eq!(f64s(&out, an::ACTUAL), [520.0, 1100.0, 600.0]);
        assert_eq!(f64s(&out, an::EXPECTED), [500.0, 500.0, 500.0]);
        assert_eq!(
            f64s(&out, an::SCORE)
                .into_iter()
                .map(r4)
                .collect::<Vec<_>>(),
            [1.04, 2.2, 1.2]
        );
        assert_eq!(
            strs(&out, an::DATE),
            ["2026-10-09", "2026-10-13", "2026-10-14"]
        );
        assert_eq!(
            strs(&out, an::REASON),
            [
                "Purchases (reservations, savings plans, marketplace) of 520.00 USD in the last 7 day(s), the last on 2026-10-09, by a customer paying by prepaid card",
                "Purchases (reservations, savings plans, marketplace) of 1,100.00 USD in the last 7 day(s), the last on 2026-10-13, by a customer created on 2026-10-01",
                "Purchases (reservations, savings plans, marketplace) of 600.00 USD in the last 7 day(s), the last on 2026-10-14, by a customer not verified",
            ]
        );
    }

    fn run() -> DataFrame {
        let usage = df!(
            us::CUSTOMER_ID => ["p1", "p1", "p1", "p1", "p1", "p1", "p2", "p2", "p2", "p3", "p3", "p3"],
            us::USAGE_DATE => ["2026-10-10", "2026-10-11", "2026-10-12", "2026-10-13", "2026-10-14", "2026-10-15",
                "2026-08-15", "2026-09-15", "2026-10-10", "2026-08-15", "2026-09-15", "2026-10-10"],
            us::COST => [600.0, 600.0, 600.0, 600.0, 600.0, 9999.0, 4000.0, 4000.0, 3000.0, 1000.0, 1000.0, 1000.0],
            us::CURRENCY => ["USD"; 12],
        )
        .unwrap();
        let payments = df!(
            pay::PAYMENT_ID => ["pay1", "pay2", "pay3", "pay4", "pay5"],
            pay::CUSTOMER_ID => ["p1", "p2", "p2", "p3", "p3"],
            pay::PAYMENT_DATE => ["2026-10-10", "2026-09-20", "2026-10-20", "2026-08-20", "2026-09-25"],
            pay::AMOUNT => [100.0, 4000.0, 4000.0, 1000.0, 1000.0],
            pay::CURRENCY => ["USD"; 5],
            pay::INSTRUMENT => ["prepaid_card", "bank_transfer", "bank_transfer", "card", "card"],
        )
        .unwrap();
        let invoices = df!(
            inv::INVOICE_ID => ["INV-8", "INV-9", "INV-3a", "INV-3b"],
            inv::CUSTOMER_ID => ["p2", "p2", "p3", "p3"],
            inv::ISSUE_DATE => ["2026-09-01", "2026-10-01", "2026-09-01", "2026-10-01"],
            inv::AMOUNT => [4000.0, 4000.0, 1000.0, 1000.0],
            inv::CURRENCY => ["USD"; 4],
            inv::SERVICE_MONTH => [Some("2026-08"), Some("2026-09"), None, None],
        )
        .unwrap();
        let customers = df!(
            cu::CUSTOMER_ID => ["p1", "p2", "p3"],
            cu::CUSTOMER_NAME => ["Stolen", "Established", "Late"],
            cu::CREATED_DATE => ["2026-10-10", "2025-01-01", "2025-01-01"],
            cu::VERIFIED => [Some(false), Some(true), None],
            cu::CREDIT_LIMIT => [Some(5000.0), Some(6000.0), None],
        )
        .unwrap();
        let aging = df!(
            ag::CUSTOMER_ID => ["p2", "p3"],
            ag::CURRENCY => ["USD", "USD"],
            ag::NET_OUTSTANDING => [4000.0, 1000.0],
        )
        .unwrap();
        payment_signals(
            cost_per_customer_day(frame(&us::DEF, usage)),
            frame(&pay::DEF, payments),
            frame(&inv::DEF, invoices),
            frame(&cu::DEF, customers),
            frame(&ag::DEF, aging),
            d(2026, 10, 14),
            &AnomalyConfig::default(),
        )
        .sort(
            [an::CUSTOMER_ID, an::SIGNAL],
            SortMultipleOptions::default(),
        )
        .collect()
        .unwrap()
    }

    #[test]
    fn each_payment_signal_fires_on_its_case_only() {
        let out = run();
        // p1 (created 10-10, unverified, 600 a day, paid 100 by prepaid card): four signals.
        // p2 (established, 11,000 used against 4,000 paid: 64 % unpaid < 80 %): only its balance
        // 4,000 net + 3,000 usage after the last invoiced month (09) = 7,000 > 6,000.
        // p3 (paid late but paid: 3,000 used, 2,000 paid, 33 % unpaid; no credit limit): nothing.
        assert_eq!(strs(&out, an::CUSTOMER_ID), ["p1", "p1", "p1", "p1", "p2"]);
        assert_eq!(
            strs(&out, an::SIGNAL),
            [
                "fast_new_customer",
                "prepaid_instrument",
                "unverified",
                "usage_before_payment",
                "over_credit_limit"
            ]
        );
        // fast: 5 x 600 = 3,000 over 5 days (10-10..10-14, 10-15 is after A) = 600 a day vs 200:
        // score 3. usage_before_payment: 3,000 used vs 100 paid, share 2,900 / 3,000 = 0.96667,
        // score 0.96667 / 0.8 = 1.20833. over_credit_limit: 7,000 / 6,000 = 1.16667.
        assert_eq!(f64s(&out, an::ACTUAL), [600.0, 100.0, 0.0, 3000.0, 7000.0]);
        assert_eq!(f64s(&out, an::EXPECTED), [200.0, 0.0, 1.0, 100.0, 6000.0]);
        assert_eq!(
            f64s(&out, an::SCORE)
                .into_iter()
                .map(r4)
                .collect::<Vec<_>>(),
            [3.0, 1.0, 1.0, 1.2083, 1.1667]
        );
        assert_eq!(
            strs(&out, an::REASON),
            [
                "Customer created on 2026-10-10 already spends 600.00 USD a day (3,000.00 USD in 5 day(s))",
                "Paid by prepaid card 1 time(s) in the last 180 days: 100.00 USD, the last on 2026-10-10",
                "The customer's identity has not been verified (customer master data)",
                "Usage of 3,000.00 USD since 2026-10-10 against 100.00 USD of payments received (97% unpaid)",
                "Balance of 7,000.00 USD (net outstanding 4,000.00 USD plus unbilled usage 3,000.00 USD) is over the credit limit of 6,000.00 USD",
            ]
        );
        assert_eq!(strs(&out, an::DATE)[1], "2026-10-10");
    }

    #[test]
    fn stolen_card_scores_high() {
        use crate::analysis::risk::{risk_scores, RiskConfig};
        use crate::schema::dispositions as di;
        // p1's four payment signals from payment_signals, plus a usage peer_outlier at 1.0.
        let peer = df!(
            an::CUSTOMER_ID => ["p1"],
            an::FAMILY => ["usage"],
            an::SIGNAL => ["peer_outlier"],
            an::SCORE => [1.0],
            an::SUPPRESSED => [false],
        )
        .unwrap();
        let anomalies = union(vec![run().lazy(), frame(&an::DEF, peer)]);
        let out = risk_scores(
            anomalies,
            cu::DEF.empty().lazy(),
            df!("customer_id" => ["p1"], "currency" => ["USD"], "exposure" => [1.0])
                .unwrap()
                .lazy(),
            di::DEF.empty().lazy(),
            d(2026, 10, 14),
            &RiskConfig::default(),
        )
        .collect()
        .unwrap();
        // p1: fast 12 x 2 (3.0 clamped) + prepaid 12 + unverified 8 + usage before payment
        // 12 x 1.20833 = 14.5 -> 58.5 -> payment cap 50; usage 10: 60, high.
        // p2: over the credit limit 10 x 1.16667 = 11.67: low.
        assert_eq!(strs(&out, "customer_id"), ["p1", "p2"]);
        assert_eq!(f64s(&out, "risk_score"), [60.0, 11.67]);
        assert_eq!(strs(&out, "tier"), ["high", "low"]);
    }
}
