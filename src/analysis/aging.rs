//! Receivables aging (SPEC 4.1): from the partner's invoices and payments and the as-of date A,
//! the state of every invoice issued by A (`aging_invoices`), every credit the customer holds
//! (`unapplied_credit`), and one line per customer and currency with bucket sums, credit, net
//! outstanding, oldest days past due and DSO (`aging_customers`); `converted_totals` sums a
//! customer's currencies into the reporting currency.
//!
//! Rules, beyond SPEC 4.1's:
//! - Only rows dated on or before A count: invoices by issue_date, payments by payment_date.
//! - A payment applies to its invoice only when the invoice is in the ledger, issued by A and in
//!   the payment's currency. A payment to another customer's invoice still applies: the invoice id
//!   is what a remittance names. Every other payment is credit of the paying customer in the
//!   payment's currency, one `unapplied_credit` row each, with its kind and the reason in words.
//! - Refunds (negative payments) are handled like any payment, which is what a ledger does: a refund
//!   against an invoice lowers its paid amount (an overpaid invoice's credit shrinks; a paid invoice
//!   can open again); a refund against a credit note lowers the credit the note leaves; a refund
//!   naming no invoice is a negative `refund` credit row. Credit can so go below zero, and net
//!   outstanding above total outstanding: money paid back that the customer was not owed.
//! - Per invoice, `outstanding = amount - paid` (SPEC 4.1), for every invoice: negative for a
//!   credit note and for an overpaid invoice. `credit` is what the invoice leaves as customer
//!   credit: the overpayment, or the credit note's |amount| less refunds against it (0 otherwise),
//!   so `credit = max(0, -outstanding)` for an invoice and `-outstanding` for a credit note. An
//!   invoice is open while outstanding > 0.005 and it is not a credit note; only open invoices
//!   count in buckets and totals (rounding dust below that stays in `outstanding` alone), and
//!   credit reaches the customer's figures through `unapplied_credit`, never twice.
//! - A missing due date counts as due on the issue date (due on receipt).
//! - If an invoice_id appears twice, payments apply to its first row (by source file and line); the
//!   other rows still count, unpaid, so no money disappears without trace.
//! - DSO (`dso_90d`) = total_outstanding / invoiced × D, where invoiced is the sum of the customer's
//!   positive invoices in that currency issued in the D days ending on A (D = dso_window_days,
//!   default 90); null when nothing was invoiced in that window.
//!
//! All ledger money is Decimal(38, 4) from input to output; only DSO and the converted totals,
//! which are ratios and estimates, are Float64.

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::fx;
use crate::error::{Error, Result};
use crate::schema::{
    self, aging_customers as ac, aging_invoices as ai, converted_totals as ct, invoices as inv,
    payments as pay, unapplied_credit as uc,
};

/// Outstanding above this (0.005, in units of 10^-4) makes an invoice open (SPEC 4.1).
pub const OPEN_THRESHOLD_UNITS: i128 = 50;

/// `aging_invoices.status` values.
pub const STATUS_OPEN: &str = "open";
pub const STATUS_PAID: &str = "paid";
pub const STATUS_OVERPAID: &str = "overpaid";
pub const STATUS_CREDIT_NOTE: &str = "credit_note";

/// Label of the bucket of invoices not yet due.
pub const BUCKET_CURRENT: &str = "current";

/// `unapplied_credit.kind` values.
pub const KIND_UNAPPLIED_PAYMENT: &str = "unapplied_payment";
pub const KIND_REFUND: &str = "refund";
pub const KIND_UNKNOWN_INVOICE: &str = "unknown_invoice";
pub const KIND_CURRENCY_MISMATCH: &str = "currency_mismatch";
pub const KIND_NOT_YET_ISSUED: &str = "not_yet_issued";
pub const KIND_OVERPAYMENT: &str = "overpayment";
pub const KIND_CREDIT_NOTE: &str = "credit_note";

// Working columns of intermediate frames, never in an output.
const FIRST: &str = "_first_row_of_id";
const FOUND: &str = "_invoice_found";
const INV_CURRENCY: &str = "_invoice_currency";
const INV_ISSUE_DATE: &str = "_invoice_issue_date";
const KIND: &str = "_credit_kind";
const PAID_SUM: &str = "_paid_sum";
const RAW: &str = "_amount_less_paid";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgingConfig {
    /// Upper edges, in days past due, of the past-due buckets: [30, 60, 90, 120] gives 1-30, 31-60,
    /// 61-90, 91-120 and 120+. Positive and increasing.
    pub bucket_edges: Vec<i64>,
    /// Days of invoicing, ending on the as-of date, that DSO divides by.
    pub dso_window_days: i64,
}

impl Default for AgingConfig {
    fn default() -> Self {
        AgingConfig {
            bucket_edges: vec![30, 60, 90, 120],
            dso_window_days: 90,
        }
    }
}

impl AgingConfig {
    /// A config error naming the key when the edges or the window make no sense.
    pub fn validate(&self) -> Result<()> {
        let increasing = self.bucket_edges.windows(2).all(|w| w[0] < w[1]);
        if self.bucket_edges.iter().any(|&e| e < 1) || !increasing {
            return Err(Error::config("aging.bucket_edges", format!(
                    "expected positive, strictly increasing days such as [30, 60, 90, 120], found {:?}",
                    self.bucket_edges
                )));
        }
        if self.dso_window_days < 1 {
            return Err(Error::config(
                "aging.dso_window_days",
                format!(
                    "expected a positive number of days, found {}",
                    self.dso_window_days
                ),
            ));
        }
        Ok(())
    }

    /// The edges actually used: invalid ones are dropped rather than panicking, should a caller
    /// skip `validate`.
    fn edges(&self) -> Vec<i64> {
        let mut e: Vec<i64> = self
            .bucket_edges
            .iter()
            .copied()
            .filter(|&e| e >= 1)
            .collect();
        e.sort_unstable();
        e.dedup();
        e
    }

    /// Bucket labels in order: `current`, `1-30`, `31-60`, `61-90`, `91-120`, `120+` by default.
    pub fn bucket_labels(&self) -> Vec<String> {
        let edges = self.edges();
        let mut labels = vec![BUCKET_CURRENT.to_string()];
        let mut lo = 1;
        for &e in &edges {
            labels.push(format!("{lo}-{e}"));
            lo = e + 1;
        }
        labels.push(format!("{}+", lo - 1));
        labels
    }

    /// aging_customers column of each bucket, in order: `bucket_current`, `bucket_1_30`, ...,
    /// `bucket_120_plus` by default (schema::aging_customers::BUCKET_*).
    pub fn bucket_columns(&self) -> Vec<String> {
        self.bucket_labels()
            .iter()
            .map(|l| bucket_column(l))
            .collect()
    }

    fn window_days(&self) -> i64 {
        self.dso_window_days.max(1)
    }
}

/// The aging_customers column of a bucket label: `1-30` -> `bucket_1_30`, `120+` -> `bucket_120_plus`.
pub fn bucket_column(label: &str) -> String {
    format!("bucket_{}", label.replace('-', "_").replace('+', "_plus"))
}

/// Every invoice issued by `as_of`: aging_invoices' columns, sorted by customer, currency, invoice.
pub fn aging_invoices(
    invoices: LazyFrame,
    payments: LazyFrame,
    as_of: NaiveDate,
    cfg: &AgingConfig,
) -> LazyFrame {
    let issued = ledger(invoices, payments, as_of).issued;
    let dpd = col(ai::DAYS_PAST_DUE);
    let edges = cfg.edges();
    let labels = cfg.bucket_labels();
    // Nested from the last edge outwards: the smallest edge is tested first, so each label needs
    // only its upper bound.
    let mut bucket = lit(labels.last().cloned().unwrap_or_default());
    for (i, &e) in edges.iter().enumerate().rev() {
        bucket = when(dpd.clone().lt_eq(lit(e)))
            .then(lit(labels[i + 1].clone()))
            .otherwise(bucket);
    }
    let bucket = when(col(ai::STATUS).neq(lit(STATUS_OPEN)))
        .then(lit(NULL).cast(DataType::String))
        .when(dpd.lt_eq(lit(0i64)))
        .then(lit(BUCKET_CURRENT))
        .otherwise(bucket);
    issued
        .with_column(bucket.alias(ai::BUCKET))
        .select(ai::DEF.columns_exprs())
        .sort(
            [
                ai::CUSTOMER_ID,
                ai::CURRENCY,
                ai::INVOICE_ID,
                ai::ISSUE_DATE,
                ai::DUE_DATE,
                ai::AMOUNT,
                ai::PAID,
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
}

/// Every credit a customer holds on `as_of`, one row per source (unapplied_credit's columns):
/// payments that could not be applied (with the reason) and overpaid invoices and credit notes.
pub fn unapplied_credit(invoices: LazyFrame, payments: LazyFrame, as_of: NaiveDate) -> LazyFrame {
    let Ledger { issued, payments } = ledger(invoices, payments, as_of);
    let from_payments = payments.filter(col(KIND).is_not_null()).select([
        col(pay::CUSTOMER_ID).alias(uc::CUSTOMER_ID),
        col(pay::CURRENCY).alias(uc::CURRENCY),
        col(KIND).alias(uc::KIND),
        col(pay::PAYMENT_ID).alias(uc::SOURCE_ID),
        col(pay::PAYMENT_DATE).alias(uc::DATE),
        col(pay::AMOUNT).alias(uc::AMOUNT),
        payment_credit_reason().alias(uc::REASON),
    ]);

    let is_note = col(ai::STATUS).eq(lit(STATUS_CREDIT_NOTE));
    let from_invoices = issued.filter(col(ai::CREDIT).neq(money(0))).select([
        col(ai::CUSTOMER_ID).alias(uc::CUSTOMER_ID),
        col(ai::CURRENCY).alias(uc::CURRENCY),
        when(is_note.clone())
            .then(lit(KIND_CREDIT_NOTE))
            .otherwise(lit(KIND_OVERPAYMENT))
            .alias(uc::KIND),
        col(ai::INVOICE_ID).alias(uc::SOURCE_ID),
        col(ai::ISSUE_DATE).alias(uc::DATE),
        col(ai::CREDIT).alias(uc::AMOUNT),
        invoice_credit_reason().alias(uc::REASON),
    ]);
    concat([from_payments, from_invoices], UnionArgs::default())
        .unwrap_or_else(|_| uc::DEF.empty().lazy())
        .sort(
            [
                uc::CUSTOMER_ID,
                uc::CURRENCY,
                uc::DATE,
                uc::KIND,
                uc::SOURCE_ID,
                uc::AMOUNT,
                uc::REASON,
            ],
            SortMultipleOptions::default().with_maintain_order(true),
        )
}

/// The reason of an unapplied payment or refund: what it is, and why it could not be applied.
fn payment_credit_reason() -> Expr {
    let amount = col(pay::AMOUNT);
    let is_refund = amount.clone().lt(money(0));
    let magnitude = when(is_refund.clone())
        .then(money(0) - amount.clone())
        .otherwise(amount.clone());
    let what = concat_str(
        [
            when(is_refund)
                .then(lit("refund "))
                .otherwise(lit("payment ")),
            text(col(pay::PAYMENT_ID)),
            lit(" of "),
            money_text(magnitude),
            lit(" "),
            text(col(pay::CURRENCY)),
            lit(" on "),
            col(pay::PAYMENT_DATE).dt().to_string("%Y-%m-%d"),
            lit(" "),
        ],
        "",
        false,
    );
    let invoice = text(col(pay::INVOICE_ID));
    let why = when(col(KIND).eq(lit(KIND_UNKNOWN_INVOICE)))
        .then(concat_str(
            [
                lit("names invoice "),
                invoice.clone(),
                lit(", which is not in the ledger"),
            ],
            "",
            false,
        ))
        .when(col(KIND).eq(lit(KIND_NOT_YET_ISSUED)))
        .then(concat_str(
            [
                lit("names invoice "),
                invoice.clone(),
                lit(", not issued by the as-of date"),
            ],
            "",
            false,
        ))
        .when(col(KIND).eq(lit(KIND_CURRENCY_MISMATCH)))
        .then(concat_str(
            [
                lit("names invoice "),
                invoice,
                lit(", which is in "),
                text(col(INV_CURRENCY)),
            ],
            "",
            false,
        ))
        .when(col(KIND).eq(lit(KIND_REFUND)))
        .then(lit("names no invoice; it lowers the customer's credit"))
        .otherwise(lit("names no invoice"));
    concat_str([what, why], "", false)
}

/// The reason of a credit on an invoice: a credit note (less refunds, plus payments against it)
/// or an overpaid invoice.
fn invoice_credit_reason() -> Expr {
    let is_note = col(ai::STATUS).eq(lit(STATUS_CREDIT_NOTE));
    let paid = col(ai::PAID);
    let note_reason = concat_str(
        [
            lit("credit note "),
            text(col(ai::INVOICE_ID)),
            lit(" of "),
            money_text(money(0) - col(ai::AMOUNT)),
            lit(" "),
            text(col(ai::CURRENCY)),
            when(paid.clone().lt(money(0)))
                .then(concat_str(
                    [
                        lit(", less "),
                        money_text(money(0) - paid.clone()),
                        lit(" refunded against it"),
                    ],
                    "",
                    false,
                ))
                .when(paid.clone().gt(money(0)))
                .then(concat_str(
                    [
                        lit(", plus "),
                        money_text(paid.clone()),
                        lit(" paid against it"),
                    ],
                    "",
                    false,
                ))
                .otherwise(lit("")),
        ],
        "",
        false,
    );
    let over_reason = concat_str(
        [
            lit("invoice "),
            text(col(ai::INVOICE_ID)),
            lit(" of "),
            money_text(col(ai::AMOUNT)),
            lit(" "),
            text(col(ai::CURRENCY)),
            lit(" paid "),
            money_text(paid),
            lit(": "),
            money_text(col(ai::CREDIT)),
            lit(" overpaid"),
        ],
        "",
        false,
    );
    when(is_note).then(note_reason).otherwise(over_reason)
}

/// One row per customer and currency with any open invoice or any credit row: aging_customers'
/// columns (bucket columns from `cfg`), `action` left null for `collections::with_actions`.
/// `aging_invoices` and `credit` are the outputs of the two functions above; `invoices` the
/// canonical input, for the DSO denominator.
pub fn aging_customers(
    aging_invoices: LazyFrame,
    credit: LazyFrame,
    invoices: LazyFrame,
    as_of: NaiveDate,
    cfg: &AgingConfig,
) -> LazyFrame {
    let keys = [ac::CUSTOMER_ID, ac::CURRENCY];
    let key_exprs = || [col(ac::CUSTOMER_ID), col(ac::CURRENCY)];
    let labels = cfg.bucket_labels();
    let bucket_cols = cfg.bucket_columns();
    let outstanding = col(ai::OUTSTANDING);
    let past_due = col(ai::DAYS_PAST_DUE).gt(lit(0i64));

    let mut aggs: Vec<Expr> = labels
        .iter()
        .zip(&bucket_cols)
        .map(|(label, name)| {
            when(col(ai::BUCKET).eq(lit(label.clone())))
                .then(outstanding.clone())
                .otherwise(money(0))
                .sum()
                .alias(name.as_str())
        })
        .collect();
    aggs.extend([
        outstanding.clone().sum().alias(ac::TOTAL_OUTSTANDING),
        when(past_due.clone())
            .then(outstanding)
            .otherwise(money(0))
            .sum()
            .alias(ac::PAST_DUE),
        when(past_due)
            .then(col(ai::DAYS_PAST_DUE))
            .otherwise(lit(NULL).cast(DataType::Int64))
            .max()
            .alias(ac::OLDEST_DAYS_PAST_DUE),
        len().cast(DataType::Int64).alias(ac::OPEN_INVOICES),
    ]);
    let owed = aging_invoices
        .filter(col(ai::STATUS).eq(lit(STATUS_OPEN)))
        .group_by(key_exprs())
        .agg(aggs);

    let credit = credit
        .group_by([col(uc::CUSTOMER_ID), col(uc::CURRENCY)])
        .agg([col(uc::AMOUNT).sum().alias(ac::UNAPPLIED_CREDIT)]);

    let window = cfg.window_days();
    let window_start = as_of
        .checked_sub_signed(chrono::Duration::days(window))
        .unwrap_or(NaiveDate::MIN);
    let invoiced = invoices
        .filter(
            col(inv::ISSUE_DATE)
                .gt(lit(window_start))
                .and(col(inv::ISSUE_DATE).lt_eq(lit(as_of)))
                .and(col(inv::AMOUNT).gt(money(0))),
        )
        .group_by([col(inv::CUSTOMER_ID), col(inv::CURRENCY)])
        .agg([col(inv::AMOUNT).sum().alias(ac::INVOICED_WINDOW)]);

    let mut full = JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns);
    full.nulls_equal = true;
    let mut left = JoinArgs::new(JoinType::Left);
    left.nulls_equal = true;

    let mut zero_filled: Vec<Expr> = bucket_cols
        .iter()
        .map(|c| col(c.as_str()).fill_null(money(0)))
        .collect();
    zero_filled.extend([
        col(ac::TOTAL_OUTSTANDING).fill_null(money(0)),
        col(ac::UNAPPLIED_CREDIT).fill_null(money(0)),
        col(ac::PAST_DUE).fill_null(money(0)),
        col(ac::OPEN_INVOICES).fill_null(lit(0i64)),
        col(ac::INVOICED_WINDOW).fill_null(money(0)),
    ]);
    let total = col(ac::TOTAL_OUTSTANDING);
    let invoiced_w = col(ac::INVOICED_WINDOW);
    let dso = when(invoiced_w.clone().gt(money(0)))
        .then(
            total.clone().cast(DataType::Float64) / invoiced_w.cast(DataType::Float64)
                * lit(window as f64),
        )
        .otherwise(lit(NULL).cast(DataType::Float64));

    let mut order: Vec<Expr> = vec![col(ac::CUSTOMER_ID), col(ac::CURRENCY)];
    order.extend(bucket_cols.iter().map(|c| col(c.as_str())));
    order.extend(
        [
            ac::TOTAL_OUTSTANDING,
            ac::UNAPPLIED_CREDIT,
            ac::NET_OUTSTANDING,
            ac::OLDEST_DAYS_PAST_DUE,
            ac::DSO_90D,
            ac::ACTION,
            ac::PAST_DUE,
            ac::OPEN_INVOICES,
            ac::INVOICED_WINDOW,
        ]
        .map(col),
    );

    owed.join(credit, key_exprs(), key_exprs(), full)
        .join(invoiced, key_exprs(), key_exprs(), left)
        .with_columns(zero_filled)
        .with_columns([
            (total - col(ac::UNAPPLIED_CREDIT)).alias(ac::NET_OUTSTANDING),
            dso.alias(ac::DSO_90D),
            lit(NULL).cast(DataType::String).alias(ac::ACTION),
        ])
        .select(order)
        .sort(keys, SortMultipleOptions::default())
}

/// Per customer: total, credit and net outstanding summed over its currencies in
/// `reporting_currency` (converted_totals' columns), with `rates` from `fx::rates_at`. A customer
/// with any currency lacking a rate gets nulls and the currencies in `missing_rates`: a partial sum
/// would understate what is owed.
pub fn converted_totals(
    aging_customers: LazyFrame,
    rates: LazyFrame,
    reporting_currency: &str,
) -> LazyFrame {
    let missing = col(fx::RATE).is_null();
    let converted = |name: &str| {
        when(missing.clone().any(true))
            .then(lit(NULL).cast(DataType::Float64))
            // Each converted row rounded to 10^-6 and summed exactly: the same total whatever
            // the order the currencies arrive in.
            .otherwise(
                (col(name).cast(DataType::Float64) * col(fx::RATE))
                    .cast(DataType::Decimal(38, 6))
                    .sum()
                    .cast(DataType::Float64),
            )
            .alias(name)
    };
    aging_customers
        .join(
            rates.select([col(schema::fx_rates::CURRENCY), col(fx::RATE)]),
            [col(ac::CURRENCY)],
            [col(schema::fx_rates::CURRENCY)],
            JoinArgs::new(JoinType::Left),
        )
        .group_by([col(ac::CUSTOMER_ID)])
        .agg([
            converted(ac::TOTAL_OUTSTANDING),
            converted(ac::UNAPPLIED_CREDIT),
            converted(ac::NET_OUTSTANDING),
            col(ac::CURRENCY)
                .filter(missing)
                .fill_null(lit("(none)"))
                .unique()
                .sort(SortOptions::default())
                .str()
                .join(", ", true)
                .alias(ct::MISSING_RATES),
        ])
        .with_columns([
            lit(reporting_currency.to_string()).alias(ct::CURRENCY),
            when(col(ct::MISSING_RATES).eq(lit("")))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(col(ct::MISSING_RATES))
                .alias(ct::MISSING_RATES),
        ])
        .select(ct::DEF.columns_exprs())
        .sort([ct::CUSTOMER_ID], SortMultipleOptions::default())
}

/// A ledger money literal: `units` in 10^-4 of the currency, as Decimal(38, 4).
pub fn money(units: i128) -> Expr {
    lit(Scalar::new_decimal(
        units,
        schema::LEDGER_PRECISION,
        schema::LEDGER_SCALE,
    ))
}

/// Decimal money as text for people: rounded half away from zero to cents, thousands separated
/// by commas (`-3120.005` -> `-3,120.01`). Null stays null.
pub fn money_text(e: Expr) -> Expr {
    e.cast(schema::ledger_money()).map(
        |c: Column| {
            let ca = c.decimal()?;
            let scale = ca.scale();
            let out: StringChunked = ca
                .physical()
                .iter()
                .map(|v| v.map(|v| crate::analysis::format_money(v, scale)))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::String)),
    )
}

/// Text of a column for a reason, `?` where it is null (a null would blank the whole reason).
fn text(e: Expr) -> Expr {
    e.cast(DataType::String).fill_null(lit("?"))
}

/// Days since 1970-01-01, the physical value of a polars Date.
fn epoch_days(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::default()).num_days()
}

/// The invoices issued by A with what was paid on them, and the payments dated by A with the
/// credit kind of those that cannot be applied (null kind = applied).
struct Ledger {
    issued: LazyFrame,
    payments: LazyFrame,
}

fn ledger(invoices: LazyFrame, payments: LazyFrame, as_of: NaiveDate) -> Ledger {
    let a = || lit(as_of);
    let invoices = invoices
        .select([
            col(inv::INVOICE_ID),
            col(inv::CUSTOMER_ID),
            col(inv::CURRENCY),
            col(inv::ISSUE_DATE),
            col(inv::DUE_DATE),
            col(inv::AMOUNT).cast(schema::ledger_money()),
            col(inv::SOURCE_FILE),
            col(inv::SOURCE_LINE),
        ])
        .sort(
            [inv::INVOICE_ID, inv::SOURCE_FILE, inv::SOURCE_LINE],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .with_column(
            col(inv::INVOICE_ID)
                .neq_missing(col(inv::INVOICE_ID).shift(lit(1)))
                .fill_null(lit(true))
                .alias(FIRST),
        );
    let lookup = invoices.clone().filter(col(FIRST)).select([
        col(inv::INVOICE_ID),
        col(inv::CURRENCY).alias(INV_CURRENCY),
        col(inv::ISSUE_DATE).alias(INV_ISSUE_DATE),
        lit(true).alias(FOUND),
    ]);

    let kind = when(col(pay::INVOICE_ID).is_null())
        .then(
            when(col(pay::AMOUNT).lt(money(0)))
                .then(lit(KIND_REFUND))
                .otherwise(lit(KIND_UNAPPLIED_PAYMENT)),
        )
        .when(col(FOUND).is_null())
        .then(lit(KIND_UNKNOWN_INVOICE))
        .when(
            col(INV_ISSUE_DATE)
                .is_null()
                .or(col(INV_ISSUE_DATE).gt(a())),
        )
        .then(lit(KIND_NOT_YET_ISSUED))
        .when(col(INV_CURRENCY).neq_missing(col(pay::CURRENCY)))
        .then(lit(KIND_CURRENCY_MISMATCH))
        .otherwise(lit(NULL).cast(DataType::String));
    let payments = payments
        .filter(col(pay::PAYMENT_DATE).lt_eq(a()))
        .select([
            col(pay::PAYMENT_ID),
            col(pay::CUSTOMER_ID),
            col(pay::INVOICE_ID),
            col(pay::PAYMENT_DATE),
            col(pay::AMOUNT).cast(schema::ledger_money()),
            col(pay::CURRENCY),
        ])
        .join(
            lookup,
            [col(pay::INVOICE_ID)],
            [col(inv::INVOICE_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(kind.alias(KIND));

    let applied = payments
        .clone()
        .filter(col(KIND).is_null())
        .group_by([col(pay::INVOICE_ID)])
        .agg([col(pay::AMOUNT).sum().alias(PAID_SUM)]);

    let raw = col(RAW);
    let is_note = col(inv::AMOUNT).lt(money(0));
    let status = when(is_note.clone())
        .then(lit(STATUS_CREDIT_NOTE))
        .when(raw.clone().gt(money(OPEN_THRESHOLD_UNITS)))
        .then(lit(STATUS_OPEN))
        .when(raw.clone().lt(money(0)))
        .then(lit(STATUS_OVERPAID))
        .otherwise(lit(STATUS_PAID));
    // SPEC 4.1: outstanding = amount - paid for every invoice, negative for a credit note and an
    // overpaid invoice; only open invoices count in buckets and totals.
    let outstanding = raw.clone();
    let credit = when(is_note.or(raw.clone().lt(money(0))))
        .then(money(0) - raw.clone())
        .otherwise(money(0));
    let due = coalesce(&[col(inv::DUE_DATE), col(inv::ISSUE_DATE)]);
    let days_past_due = lit(epoch_days(as_of)) - due.cast(DataType::Int32).cast(DataType::Int64);

    let issued = invoices
        .filter(col(inv::ISSUE_DATE).lt_eq(a()))
        .join(
            applied,
            [col(inv::INVOICE_ID)],
            [col(pay::INVOICE_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            when(col(FIRST))
                .then(col(PAID_SUM).fill_null(money(0)))
                .otherwise(money(0))
                .alias(ai::PAID),
        )
        .with_column((col(inv::AMOUNT) - col(ai::PAID)).alias(RAW))
        .with_columns([
            status.alias(ai::STATUS),
            outstanding.alias(ai::OUTSTANDING),
            credit.alias(ai::CREDIT),
            days_past_due.alias(ai::DAYS_PAST_DUE),
        ]);
    Ledger { issued, payments }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::format_money;

    use crate::testutil::day as d;

    /// As-of date of the hand-made cases.
    fn a() -> NaiveDate {
        d("2026-10-31")
    }

    /// Money text -> units of 10^-4 (exact, no float).
    fn units(s: &str) -> i128 {
        let neg = s.starts_with('-');
        let s = s.trim_start_matches('-');
        let (w, f) = s.split_once('.').unwrap_or((s, ""));
        let f = format!("{f:0<4}");
        let v = w.parse::<i128>().unwrap() * 10_000 + f[..4].parse::<i128>().unwrap();
        if neg {
            -v
        } else {
            v
        }
    }

    /// (invoice_id, customer_id, currency, issue, due, amount)
    fn invoices(rows: &[(&str, &str, &str, &str, &str, &str)]) -> LazyFrame {
        let n = rows.len();
        df!(
            inv::INVOICE_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            inv::CUSTOMER_ID => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            inv::ISSUE_DATE => rows.iter().map(|r| d(r.3)).collect::<Vec<_>>(),
            inv::DUE_DATE => rows.iter().map(|r| d(r.4)).collect::<Vec<_>>(),
            inv::AMOUNT => rows.iter().map(|r| r.5).collect::<Vec<_>>(),
            inv::CURRENCY => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            inv::SERVICE_MONTH => vec![None::<&str>; n],
            inv::SOURCE_FILE => vec!["invoices.csv"; n],
            inv::SOURCE_LINE => (2..n as i64 + 2).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_column(col(inv::AMOUNT).cast(schema::ledger_money()))
    }

    /// (payment_id, customer_id, invoice_id or "", date, amount, currency)
    fn payments(rows: &[(&str, &str, &str, &str, &str, &str)]) -> LazyFrame {
        let n = rows.len();
        df!(
            pay::PAYMENT_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            pay::CUSTOMER_ID => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            pay::INVOICE_ID => rows.iter().map(|r| (!r.2.is_empty()).then_some(r.2)).collect::<Vec<_>>(),
            pay::PAYMENT_DATE => rows.iter().map(|r| d(r.3)).collect::<Vec<_>>(),
            pay::AMOUNT => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            pay::CURRENCY => rows.iter().map(|r| r.5).collect::<Vec<_>>(),
            pay::INSTRUMENT => vec!["bank_transfer"; n],
            pay::SOURCE_FILE => vec!["payments.csv"; n],
            pay::SOURCE_LINE => (2..n as i64 + 2).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_column(col(pay::AMOUNT).cast(schema::ledger_money()))
    }

    fn no_payments() -> LazyFrame {
        schema::payments::DEF.empty().lazy()
    }

    use crate::testutil::opt_strs as strs;

    fn decs(df: &DataFrame, c: &str) -> Vec<Option<i128>> {
        let col = df.column(c).unwrap();
        assert_eq!(
            col.dtype(),
            &schema::ledger_money(),
            "{c} must be ledger money"
        );
        col.decimal().unwrap().physical().iter().collect()
    }

    fn ints(df: &DataFrame, c: &str) -> Vec<Option<i64>> {
        df.column(c).unwrap().i64().unwrap().iter().collect()
    }

    fn aged(i: LazyFrame, p: LazyFrame, as_of: NaiveDate) -> DataFrame {
        aging_invoices(i, p, as_of, &AgingConfig::default())
            .collect()
            .unwrap()
    }

    fn customers(i: LazyFrame, p: LazyFrame, as_of: NaiveDate) -> DataFrame {
        let cfg = AgingConfig::default();
        let ai = aging_invoices(i.clone(), p.clone(), as_of, &cfg);
        let cr = unapplied_credit(i.clone(), p, as_of);
        aging_customers(ai, cr, i, as_of, &cfg).collect().unwrap()
    }

    #[test]
    fn default_labels_and_columns_match_the_schema() {
        let cfg = AgingConfig::default();
        assert_eq!(
            cfg.bucket_labels(),
            ["current", "1-30", "31-60", "61-90", "91-120", "120+"]
        );
        assert_eq!(
            cfg.bucket_columns(),
            [
                ac::BUCKET_CURRENT,
                ac::BUCKET_1_30,
                ac::BUCKET_31_60,
                ac::BUCKET_61_90,
                ac::BUCKET_91_120,
                ac::BUCKET_120_PLUS
            ]
        );
        assert!(cfg.validate().is_ok());
        let bad = AgingConfig {
            bucket_edges: vec![30, 30, 90],
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().exit_code(), 2);
    }

    #[test]
    fn format_money_rounds_half_away_and_groups_thousands() {
        assert_eq!(format_money(units("3120.005"), 4), "3,120.01");
        assert_eq!(format_money(units("-3120.005"), 4), "-3,120.01");
        assert_eq!(format_money(units("0.0049"), 4), "0.00");
        assert_eq!(format_money(units("-0.0049"), 4), "0.00");
        assert_eq!(format_money(units("1234567.8"), 4), "1,234,567.80");
        assert_eq!(format_money(units("999.994"), 4), "999.99");
        assert_eq!(format_money(12, 0), "12.00");
    }

    #[test]
    fn every_bucket_edge() {
        // Due dates so that A - due = -5, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121 days.
        let days = [-5i64, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121];
        let ids: Vec<String> = days.iter().map(|x| format!("INV-{:03}", x + 100)).collect();
        let dues: Vec<String> = days
            .iter()
            .map(|x| (a() - chrono::Duration::days(*x)).to_string())
            .collect();
        let rows: Vec<_> = ids
            .iter()
            .zip(&dues)
            .map(|(id, due)| {
                (
                    id.as_str(),
                    "c1",
                    "EUR",
                    "2026-01-01",
                    due.as_str(),
                    "10.00",
                )
            })
            .collect();
        let out = aged(invoices(&rows), no_payments(), a());
        assert_eq!(ints(&out, ai::DAYS_PAST_DUE), days.map(Some));
        let expected = [
            "current", "current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "91-120",
            "91-120", "120+",
        ];
        assert_eq!(
            strs(&out, ai::BUCKET),
            expected.map(|s| Some(s.to_string()))
        );

        let c = customers(invoices(&rows), no_payments(), a());
        assert_eq!(c.height(), 1);
        // Two invoices of 10.00 per bucket, one (121 days) in 120+.
        for (col_name, want) in [
            (ac::BUCKET_CURRENT, "20"),
            (ac::BUCKET_1_30, "20"),
            (ac::BUCKET_31_60, "20"),
            (ac::BUCKET_61_90, "20"),
            (ac::BUCKET_91_120, "20"),
            (ac::BUCKET_120_PLUS, "10"),
            (ac::TOTAL_OUTSTANDING, "110"),
            (ac::PAST_DUE, "90"),
        ] {
            assert_eq!(decs(&c, col_name), [Some(units(want))], "{col_name}");
        }
        assert_eq!(ints(&c, ac::OLDEST_DAYS_PAST_DUE), [Some(121)]);
        assert_eq!(ints(&c, ac::OPEN_INVOICES), [Some(11)]);
    }

    #[test]
    fn custom_edges_relabel_the_buckets() {
        let cfg = AgingConfig {
            bucket_edges: vec![15, 45],
            ..Default::default()
        };
        assert_eq!(cfg.bucket_labels(), ["current", "1-15", "16-45", "45+"]);
        assert_eq!(cfg.bucket_columns()[3], "bucket_45_plus");
        let rows = [
            ("I1", "c1", "EUR", "2026-01-01", "2026-10-16", "1.00"), // 15 days
            ("I2", "c1", "EUR", "2026-01-01", "2026-10-15", "1.00"), // 16 days
            ("I3", "c1", "EUR", "2026-01-01", "2026-09-15", "1.00"), // 46 days
        ];
        let out = aging_invoices(invoices(&rows), no_payments(), a(), &cfg)
            .collect()
            .unwrap();
        assert_eq!(
            strs(&out, ai::BUCKET),
            ["1-15", "16-45", "45+"].map(|s| Some(s.to_string()))
        );
    }

    #[test]
    fn payment_after_as_of_is_ignored_so_a_back_dated_run_shows_the_invoice_open() {
        let i = invoices(&[("INV-1", "c1", "EUR", "2026-09-01", "2026-10-01", "100.00")]);
        let p = payments(&[("P1", "c1", "INV-1", "2026-11-02", "100.00", "EUR")]);
        // A = 2026-10-31: the payment of 11-02 does not count; 30 days past due, in 1-30.
        let out = aged(i.clone(), p.clone(), a());
        assert_eq!(decs(&out, ai::PAID), [Some(0)]);
        assert_eq!(decs(&out, ai::OUTSTANDING), [Some(units("100"))]);
        assert_eq!(strs(&out, ai::BUCKET), [Some("1-30".into())]);
        assert_eq!(strs(&out, ai::STATUS), [Some("open".into())]);
        // Nor is it credit.
        assert_eq!(
            unapplied_credit(i.clone(), p.clone(), a())
                .collect()
                .unwrap()
                .height(),
            0
        );
        // A = 2026-11-02: paid, closed, no bucket.
        let later = aged(i, p, d("2026-11-02"));
        assert_eq!(decs(&later, ai::OUTSTANDING), [Some(0)]);
        assert_eq!(strs(&later, ai::STATUS), [Some("paid".into())]);
        assert_eq!(strs(&later, ai::BUCKET), [None]);
    }

    #[test]
    fn partial_payment_remainder_stays_in_the_invoices_own_bucket_and_not_yet_due_is_current() {
        let i = invoices(&[
            ("INV-1", "c1", "EUR", "2026-07-01", "2026-07-31", "1000.00"), // 92 days
            ("INV-2", "c1", "EUR", "2026-10-20", "2026-11-19", "250.00"),  // due in 19 days
        ]);
        let p = payments(&[
            ("P1", "c1", "INV-1", "2026-08-15", "400.00", "EUR"),
            ("P2", "c1", "INV-1", "2026-09-15", "199.99", "EUR"),
        ]);
        let out = aged(i.clone(), p.clone(), a());
        // INV-1: 1000.00 - 400.00 - 199.99 = 400.01, 92 days -> 91-120.
        assert_eq!(decs(&out, ai::PAID), [Some(units("599.99")), Some(0)]);
        assert_eq!(
            decs(&out, ai::OUTSTANDING),
            [Some(units("400.01")), Some(units("250"))]
        );
        assert_eq!(
            strs(&out, ai::BUCKET),
            [Some("91-120".into()), Some("current".into())]
        );
        assert_eq!(ints(&out, ai::DAYS_PAST_DUE), [Some(92), Some(-19)]);
        let c = customers(i, p, a());
        assert_eq!(decs(&c, ac::BUCKET_91_120), [Some(units("400.01"))]);
        assert_eq!(decs(&c, ac::BUCKET_CURRENT), [Some(units("250"))]);
        assert_eq!(decs(&c, ac::TOTAL_OUTSTANDING), [Some(units("650.01"))]);
        assert_eq!(ints(&c, ac::OLDEST_DAYS_PAST_DUE), [Some(92)]);
    }

    #[test]
    fn invoice_issued_after_as_of_is_excluded_and_a_payment_to_it_is_credit() {
        let i = invoices(&[
            ("INV-1", "c1", "EUR", "2026-10-01", "2026-10-31", "10.00"),
            ("INV-2", "c1", "EUR", "2026-11-01", "2026-12-01", "70.00"),
        ]);
        let p = payments(&[("P1", "c1", "INV-2", "2026-10-30", "70.00", "EUR")]);
        let out = aged(i.clone(), p.clone(), a());
        assert_eq!(strs(&out, ai::INVOICE_ID), [Some("INV-1".into())]);
        let cr = unapplied_credit(i.clone(), p.clone(), a())
            .collect()
            .unwrap();
        assert_eq!(strs(&cr, uc::KIND), [Some(KIND_NOT_YET_ISSUED.into())]);
        assert_eq!(decs(&cr, uc::AMOUNT), [Some(units("70"))]);
        let c = customers(i, p, a());
        // total 10.00 (due today: current), credit 70.00, net 10.00 - 70.00 = -60.00.
        assert_eq!(decs(&c, ac::TOTAL_OUTSTANDING), [Some(units("10"))]);
        assert_eq!(decs(&c, ac::UNAPPLIED_CREDIT), [Some(units("70"))]);
        assert_eq!(decs(&c, ac::NET_OUTSTANDING), [Some(units("-60"))]);
        assert_eq!(ints(&c, ac::OLDEST_DAYS_PAST_DUE), [None]);
    }

    #[test]
    fn credit_sources_each_reported_with_kind_and_reason() {
        let i = invoices(&[
            ("INV-1", "c1", "EUR", "2026-09-01", "2026-10-01", "100.00"), // overpaid by 20.00
            ("CN-1", "c1", "EUR", "2026-09-10", "2026-09-10", "-50.00"), // credit note, 10.00 refunded
            ("INV-2", "c2", "EUR", "2026-09-01", "2026-10-01", "300.00"), // paid in USD: stays open
        ]);
        let p = payments(&[
            ("P1", "c1", "INV-1", "2026-09-20", "120.00", "EUR"),
            ("R1", "c1", "CN-1", "2026-09-25", "-10.00", "EUR"),
            ("P2", "c1", "", "2026-10-05", "5.55", "EUR"), // unapplied
            ("R2", "c1", "", "2026-10-06", "-1.11", "EUR"), // refund naming no invoice
            ("P3", "c2", "INV-404", "2026-10-07", "30.00", "EUR"), // unknown invoice
            ("P4", "c2", "INV-2", "2026-10-08", "300.00", "USD"), // currency mismatch
        ]);
        let out = aged(i.clone(), p.clone(), a());
        assert_eq!(
            strs(&out, ai::INVOICE_ID),
            ["CN-1", "INV-1", "INV-2"].map(|s| Some(s.into()))
        );
        assert_eq!(
            strs(&out, ai::STATUS),
            ["credit_note", "overpaid", "open"].map(|s| Some(s.into()))
        );
        // CN-1: -50 - (-10) = -40 -> outstanding -40, credit 40; INV-1: 100 - 120 = -20 ->
        // outstanding -20, credit 20 (SPEC 4.1: outstanding = amount - paid, for every invoice).
        assert_eq!(
            decs(&out, ai::OUTSTANDING),
            [Some(units("-40")), Some(units("-20")), Some(units("300"))]
        );
        assert_eq!(
            decs(&out, ai::CREDIT),
            [Some(units("40")), Some(units("20")), Some(0)]
        );
        assert_eq!(strs(&out, ai::BUCKET), [None, None, Some("1-30".into())]);

        let cr = unapplied_credit(i.clone(), p.clone(), a())
            .collect()
            .unwrap();
        let kinds = strs(&cr, uc::KIND);
        assert_eq!(
            kinds,
            [
                ("c1", KIND_OVERPAYMENT),
                ("c1", KIND_CREDIT_NOTE),
                ("c1", KIND_UNAPPLIED_PAYMENT),
                ("c1", KIND_REFUND),
                ("c2", KIND_UNKNOWN_INVOICE),
                ("c2", KIND_CURRENCY_MISMATCH),
            ]
            .map(|(_, k)| Some(k.to_string()))
        );
        assert_eq!(
            strs(&cr, uc::CURRENCY),
            ["EUR", "EUR", "EUR", "EUR", "EUR", "USD"].map(|s| Some(s.into()))
        );
        assert_eq!(
            decs(&cr, uc::AMOUNT),
            ["20", "40", "5.55", "-1.11", "30", "300"].map(|s| Some(units(s)))
        );
        let reasons = strs(&cr, uc::REASON);
        // Sorted by date within customer and currency: INV-1 (09-01) before CN-1 (09-10).
        assert_eq!(
            reasons[0].as_deref(),
            Some("invoice INV-1 of 100.00 EUR paid 120.00: 20.00 overpaid")
        );
        assert_eq!(
            reasons[1].as_deref(),
            Some("credit note CN-1 of 50.00 EUR, less 10.00 refunded against it")
        );
        assert_eq!(
            reasons[2].as_deref(),
            Some("payment P2 of 5.55 EUR on 2026-10-05 names no invoice")
        );
        assert_eq!(
            reasons[3].as_deref(),
            Some("refund R2 of 1.11 EUR on 2026-10-06 names no invoice; it lowers the customer's credit")
        );
        assert_eq!(
            reasons[4].as_deref(),
            Some("payment P3 of 30.00 EUR on 2026-10-07 names invoice INV-404, which is not in the ledger")
        );
        assert_eq!(
            reasons[5].as_deref(),
            Some("payment P4 of 300.00 USD on 2026-10-08 names invoice INV-2, which is in EUR")
        );

        let c = customers(i, p, a());
        assert_eq!(
            strs(&c, ac::CUSTOMER_ID),
            ["c1", "c2", "c2"].map(|s| Some(s.into()))
        );
        assert_eq!(
            strs(&c, ac::CURRENCY),
            ["EUR", "EUR", "USD"].map(|s| Some(s.into()))
        );
        // c1 EUR: nothing open; credit 40 + 20 + 5.55 - 1.11 = 64.44; net -64.44.
        // c2 EUR: 300.00 open (30 days), credit 30.00 (unknown invoice), net 270.00.
        // c2 USD: credit 300.00 (not mixed with EUR), net -300.00.
        assert_eq!(
            decs(&c, ac::TOTAL_OUTSTANDING),
            [Some(0), Some(units("300")), Some(0)]
        );
        assert_eq!(
            decs(&c, ac::UNAPPLIED_CREDIT),
            [Some(units("64.44")), Some(units("30")), Some(units("300"))]
        );
        assert_eq!(
            decs(&c, ac::NET_OUTSTANDING),
            [
                Some(units("-64.44")),
                Some(units("270")),
                Some(units("-300"))
            ]
        );
        assert_eq!(ints(&c, ac::OLDEST_DAYS_PAST_DUE), [None, Some(30), None]);
        assert_eq!(strs(&c, ac::ACTION), [None, None, None]);
    }

    #[test]
    fn refund_against_a_paid_invoice_opens_it_again() {
        let i = invoices(&[("INV-1", "c1", "EUR", "2026-08-01", "2026-08-31", "80.00")]);
        let p = payments(&[
            ("P1", "c1", "INV-1", "2026-08-20", "80.00", "EUR"),
            ("R1", "c1", "INV-1", "2026-09-01", "-30.00", "EUR"),
        ]);
        let out = aged(i, p, a());
        // 80.00 - (80.00 - 30.00) = 30.00 owed again, 61 days past due.
        assert_eq!(decs(&out, ai::PAID), [Some(units("50"))]);
        assert_eq!(decs(&out, ai::OUTSTANDING), [Some(units("30"))]);
        assert_eq!(strs(&out, ai::BUCKET), [Some("61-90".into())]);
    }

    #[test]
    fn sums_are_exact_decimals_and_dust_is_not_open() {
        // 0.1 + 0.2 paid on 0.30 leaves exactly 0 (in floats 0.30 - 0.1 - 0.2 = -5.5e-17);
        // 0.0049 left over is dust: not open, kept in outstanding; 0.0051 is open.
        let i = invoices(&[
            ("I1", "c1", "EUR", "2026-09-01", "2026-10-01", "0.30"),
            ("I2", "c1", "EUR", "2026-09-01", "2026-10-01", "1.0049"),
            ("I3", "c1", "EUR", "2026-09-01", "2026-10-01", "1.0051"),
            ("I4", "c1", "EUR", "2026-09-01", "2026-10-01", "0.10"),
            ("I5", "c1", "EUR", "2026-09-01", "2026-10-01", "0.20"),
        ]);
        let p = payments(&[
            ("P1", "c1", "I1", "2026-10-01", "0.1", "EUR"),
            ("P2", "c1", "I1", "2026-10-01", "0.2", "EUR"),
            ("P3", "c1", "I2", "2026-10-01", "1.00", "EUR"),
            ("P4", "c1", "I3", "2026-10-01", "1.00", "EUR"),
        ]);
        let out = aged(i.clone(), p.clone(), a());
        assert_eq!(
            strs(&out, ai::STATUS),
            ["paid", "paid", "open", "open", "open"].map(|s| Some(s.into()))
        );
        assert_eq!(
            decs(&out, ai::OUTSTANDING),
            [
                Some(0),
                Some(49),
                Some(51),
                Some(units("0.1")),
                Some(units("0.2"))
            ]
        );
        let c = customers(i, p, a());
        // Open: 0.0051 + 0.10 + 0.20 = 0.3051 exactly, all 30 days past due.
        assert_eq!(decs(&c, ac::BUCKET_1_30), [Some(3051)]);
        assert_eq!(decs(&c, ac::TOTAL_OUTSTANDING), [Some(3051)]);
    }

    #[test]
    fn dso_over_the_window() {
        // Invoiced in (A-90, A]: 600 + 300 = 900 (the 2026-08-02 invoice is exactly 90 days
        // back, outside; credit notes are not sales). Outstanding 300 + 150 = 450 (INV-1 paid).
        // DSO = 450 / 900 x 90 = 45.
        let i = invoices(&[
            ("INV-0", "c1", "EUR", "2026-08-02", "2026-09-01", "150.00"),
            ("INV-1", "c1", "EUR", "2026-08-03", "2026-09-02", "600.00"),
            ("INV-2", "c1", "EUR", "2026-10-31", "2026-11-30", "300.00"),
            ("CN-1", "c1", "EUR", "2026-10-01", "2026-10-01", "-100.00"),
        ]);
        let p = payments(&[("P1", "c1", "INV-1", "2026-09-01", "600.00", "EUR")]);
        let c = customers(i, p, a());
        assert_eq!(decs(&c, ac::INVOICED_WINDOW), [Some(units("900"))]);
        assert_eq!(decs(&c, ac::TOTAL_OUTSTANDING), [Some(units("450"))]);
        let dso: Vec<_> = c
            .column(ac::DSO_90D)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(dso, [Some(45.0)]);
        // Nothing invoiced in the window: null.
        let old = invoices(&[("INV-9", "c1", "EUR", "2026-01-01", "2026-02-01", "10.00")]);
        let c = customers(old, no_payments(), a());
        assert_eq!(c.column(ac::DSO_90D).unwrap().null_count(), 1);
    }

    #[test]
    fn duplicate_invoice_id_gets_the_payment_once() {
        let i = invoices(&[
            ("INV-1", "c1", "EUR", "2026-10-01", "2026-10-31", "100.00"),
            ("INV-1", "c1", "EUR", "2026-10-01", "2026-10-31", "100.00"),
        ]);
        let p = payments(&[("P1", "c1", "INV-1", "2026-10-15", "100.00", "EUR")]);
        let out = aged(i, p, a());
        assert_eq!(decs(&out, ai::PAID), [Some(0), Some(units("100"))]);
    }

    #[test]
    fn converted_totals_sum_currencies_and_refuse_to_guess_a_missing_rate() {
        let i = invoices(&[
            ("I1", "c1", "EUR", "2026-10-01", "2026-10-31", "100.00"),
            ("I2", "c1", "USD", "2026-10-01", "2026-10-31", "50.00"),
            ("I3", "c2", "EUR", "2026-10-01", "2026-10-31", "10.00"),
            ("I4", "c2", "JPY", "2026-10-01", "2026-10-31", "1000"),
        ]);
        let c = customers(i, no_payments(), a()).lazy();
        let rates = df!(
            schema::fx_rates::CURRENCY => ["EUR", "USD"],
            fx::RATE => [1.5f64, 1.0],
        )
        .unwrap()
        .lazy();
        let out = converted_totals(c, rates, "USD").collect().unwrap();
        let total: Vec<_> = out
            .column(ct::TOTAL_OUTSTANDING)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        // c1: 100 x 1.5 + 50 x 1 = 200; c2: JPY has no rate -> null.
        assert_eq!(total, [Some(200.0), None]);
        assert_eq!(strs(&out, ct::MISSING_RATES), [None, Some("JPY".into())]);
        assert_eq!(
            strs(&out, ct::CURRENCY),
            [Some("USD".into()), Some("USD".into())]
        );
    }

    /// Seeded synthetic ledger for the differential test: unique invoice ids, several currencies,
    /// dates around A, partial, full, over-, split and late payments, refunds, credit notes,
    /// unapplied payments, unknown invoices and currency mismatches. Besides the canonical columns
    /// each frame carries plain integers (days since 1970, amounts in 10^-4) that only the SQL side
    /// reads, so the two computations share nothing but the raw numbers.
    fn synthetic_ledger(n_invoices: usize, seed: u64, as_of: NaiveDate) -> (DataFrame, DataFrame) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let a_day = epoch_days(as_of);
        let currencies = ["EUR", "USD", "GBP", "CHF"];
        let n_customers = (n_invoices / 30).max(1);
        let main_currency: Vec<&str> = (0..n_customers)
            .map(|_| currencies[rng.random_range(0..3)])
            .collect();
        let date = |day: i64| NaiveDate::default() + chrono::Duration::days(day);

        let (mut i_id, mut i_cust, mut i_cur, mut i_issue, mut i_due, mut i_amt) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut p_id, mut p_cust, mut p_inv, mut p_day, mut p_amt, mut p_cur) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut pay = |cust: String, inv: Option<String>, day: i64, amt: i128, cur: &str| {
            p_id.push(format!("P-{:07}", p_id.len()));
            p_cust.push(cust);
            p_inv.push(inv);
            p_day.push(day);
            p_amt.push(amt);
            p_cur.push(cur.to_string());
        };
        for k in 0..n_invoices {
            let c = rng.random_range(0..n_customers);
            let cust = format!("c{c:05}");
            let cur = if rng.random_bool(0.95) {
                main_currency[c]
            } else {
                currencies[rng.random_range(0..4)]
            };
            let mut issue = a_day - rng.random_range(0..=400);
            if rng.random_bool(0.05) {
                issue = a_day + rng.random_range(1..=30);
            }
            let due = issue + [0, 14, 30, 45, 60][rng.random_range(0..5)];
            let cents = rng.random_bool(0.8);
            let amount: i128 = if rng.random_bool(0.04) {
                -(rng.random_range(1..=1_000_000i128))
            } else if cents {
                rng.random_range(0..=500_000i128) * 100
            } else {
                rng.random_range(0..=50_000_000i128)
            };
            let id = format!("INV-{k:07}");
            let roll: f64 = rng.random();
            let pay_cur = if rng.random_bool(0.03) {
                currencies[rng.random_range(0..4)]
            } else {
                cur
            };
            let pay_day = issue + rng.random_range(0..=120);
            if amount < 0 {
                // A refund against some credit notes, partial or whole.
                if roll < 0.4 {
                    let refund = if rng.random_bool(0.5) {
                        amount
                    } else {
                        amount / 3
                    };
                    pay(cust.clone(), Some(id.clone()), pay_day, refund, pay_cur);
                }
            } else if roll < 0.45 {
                pay(cust.clone(), Some(id.clone()), pay_day, amount, pay_cur);
            } else if roll < 0.65 {
                // Partial, in whole cents.
                let part = amount * rng.random_range(1..=99) / 100 / 100 * 100;
                pay(cust.clone(), Some(id.clone()), pay_day, part, pay_cur);
            } else if roll < 0.75 {
                // Split in two; the second may land after A.
                let first = amount / 2;
                pay(cust.clone(), Some(id.clone()), pay_day, first, pay_cur);
                pay(
                    cust.clone(),
                    Some(id.clone()),
                    pay_day + rng.random_range(0..=60),
                    amount - first,
                    cur,
                );
            } else if roll < 0.82 {
                let extra = rng.random_range(1..=20_000i128);
                pay(
                    cust.clone(),
                    Some(id.clone()),
                    pay_day,
                    amount + extra,
                    pay_cur,
                );
            } else if roll < 0.84 {
                // Paid, then partly refunded.
                pay(cust.clone(), Some(id.clone()), pay_day, amount, pay_cur);
                pay(
                    cust.clone(),
                    Some(id.clone()),
                    pay_day + 5,
                    -(amount / 4),
                    pay_cur,
                );
            }
            if issue > a_day && rng.random_bool(0.3) {
                // Paid ahead of an invoice issued after A.
                pay(
                    cust.clone(),
                    Some(id.clone()),
                    a_day - rng.random_range(0..=10),
                    amount,
                    cur,
                );
            }
            if rng.random_bool(0.03) {
                let amt = rng.random_range(-100_000..=2_000_000i128);
                pay(
                    cust.clone(),
                    None,
                    a_day - rng.random_range(-10..=200),
                    amt,
                    cur,
                );
            }
            if rng.random_bool(0.01) {
                let ghost = format!("INV-X{k:06}");
                pay(
                    cust.clone(),
                    Some(ghost),
                    a_day - rng.random_range(-10..=200),
                    123_400,
                    cur,
                );
            }
            i_id.push(id);
            i_cust.push(cust);
            i_cur.push(cur.to_string());
            i_issue.push(issue);
            i_due.push(due);
            i_amt.push(amount);
        }
        let n = i_id.len();
        let dec = |name: &str, v: Vec<i128>| {
            Int128Chunked::from_vec(name.into(), v)
                .into_decimal_unchecked(schema::LEDGER_PRECISION, schema::LEDGER_SCALE)
                .into_series()
                .into_column()
        };
        let as_i64 = |v: &[i128]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
        let mut invoices = df!(
            inv::INVOICE_ID => &i_id,
            inv::CUSTOMER_ID => &i_cust,
            inv::ISSUE_DATE => i_issue.iter().map(|&x| date(x)).collect::<Vec<_>>(),
            inv::DUE_DATE => i_due.iter().map(|&x| date(x)).collect::<Vec<_>>(),
            inv::CURRENCY => &i_cur,
            inv::SERVICE_MONTH => vec![None::<&str>; n],
            inv::SOURCE_FILE => vec!["invoices.csv"; n],
            inv::SOURCE_LINE => (2..n as i64 + 2).collect::<Vec<_>>(),
            "issue_day" => &i_issue,
            "due_day" => &i_due,
            "amount_units" => as_i64(&i_amt),
        )
        .unwrap();
        invoices.with_column(dec(inv::AMOUNT, i_amt)).unwrap();
        let m = p_id.len();
        let mut payments = df!(
            pay::PAYMENT_ID => &p_id,
            pay::CUSTOMER_ID => &p_cust,
            pay::INVOICE_ID => &p_inv,
            pay::PAYMENT_DATE => p_day.iter().map(|&x| date(x)).collect::<Vec<_>>(),
            pay::CURRENCY => &p_cur,
            pay::INSTRUMENT => vec!["card"; m],
            pay::SOURCE_FILE => vec!["payments.csv"; m],
            pay::SOURCE_LINE => (2..m as i64 + 2).collect::<Vec<_>>(),
            "pay_day" => &p_day,
            "amount_units" => as_i64(&p_amt),
        )
        .unwrap();
        payments.with_column(dec(pay::AMOUNT, p_amt)).unwrap();
        (invoices, payments)
    }

    /// Per (customer, currency): i64 columns of a collected SQL result, after the two key columns.
    fn sql_map(
        df: &DataFrame,
        cols: &[&str],
    ) -> std::collections::HashMap<(String, String), Vec<i128>> {
        let cust = strs(df, "customer_id");
        let cur = strs(df, "currency");
        let values: Vec<Vec<Option<i64>>> = cols
            .iter()
            .map(|c| {
                let s = df.column(c).unwrap().cast(&DataType::Int64).unwrap();
                s.i64().unwrap().iter().collect()
            })
            .collect();
        (0..df.height())
            .map(|r| {
                let key = (cust[r].clone().unwrap(), cur[r].clone().unwrap());
                (
                    key,
                    values.iter().map(|v| v[r].unwrap_or(0) as i128).collect(),
                )
            })
            .collect()
    }

    fn dec_sum(df: &DataFrame, c: &str) -> i128 {
        decs(df, c).into_iter().map(|v| v.unwrap()).sum()
    }

    #[test]
    fn differential_against_sql_on_100k_invoices() {
        let as_of = a();
        let a_day = epoch_days(as_of);
        let (invoices, payments) = synthetic_ledger(100_000, 20261031, as_of);
        assert!(
            payments.height() > 80_000,
            "payments: {}",
            payments.height()
        );
        let cfg = AgingConfig::default();
        let ai_lf = aging_invoices(
            invoices.clone().lazy(),
            payments.clone().lazy(),
            as_of,
            &cfg,
        );
        let cr_lf = unapplied_credit(invoices.clone().lazy(), payments.clone().lazy(), as_of);
        let ac_lf = aging_customers(
            ai_lf.clone(),
            cr_lf.clone(),
            invoices.clone().lazy(),
            as_of,
            &cfg,
        );
        let (aged, credit, cust) = (
            ai_lf.collect().unwrap(),
            cr_lf.collect().unwrap(),
            ac_lf.collect().unwrap(),
        );

        let mut ctx = polars::sql::SQLContext::new();
        ctx.register("invoices", invoices.lazy());
        ctx.register("payments", payments.lazy());
        let state = format!(
            "WITH inv AS (
                SELECT invoice_id AS inv_id, customer_id, currency AS inv_currency, due_day,
                       amount_units, 1 AS found
                FROM invoices WHERE issue_day <= {a_day}),
             applied AS (
                SELECT p.invoice_id, SUM(p.amount_units) AS paid
                FROM payments p INNER JOIN inv i ON p.invoice_id = i.inv_id
                WHERE p.pay_day <= {a_day} AND p.currency = i.inv_currency
                GROUP BY p.invoice_id),
             state AS (
                SELECT i.customer_id, i.inv_currency AS currency, i.due_day, i.amount_units,
                       COALESCE(x.paid, 0) AS paid, i.amount_units - COALESCE(x.paid, 0) AS rest
                FROM inv i LEFT JOIN applied x ON i.inv_id = x.invoice_id)"
        );
        let run = |ctx: &mut polars::sql::SQLContext, q: String| {
            ctx.execute(&q).unwrap().collect().unwrap()
        };
        let buckets = run(
            &mut ctx,
            format!(
                "{state}
                SELECT customer_id, currency,
                  SUM(CASE WHEN {a_day} - due_day <= 0 THEN rest ELSE 0 END) AS b_current,
                  SUM(CASE WHEN {a_day} - due_day BETWEEN 1 AND 30 THEN rest ELSE 0 END) AS b_1_30,
                  SUM(CASE WHEN {a_day} - due_day BETWEEN 31 AND 60 THEN rest ELSE 0 END) AS b_31_60,
                  SUM(CASE WHEN {a_day} - due_day BETWEEN 61 AND 90 THEN rest ELSE 0 END) AS b_61_90,
                  SUM(CASE WHEN {a_day} - due_day BETWEEN 91 AND 120 THEN rest ELSE 0 END) AS b_91_120,
                  SUM(CASE WHEN {a_day} - due_day > 120 THEN rest ELSE 0 END) AS b_120_plus,
                  SUM(rest) AS total
                FROM state WHERE amount_units >= 0 AND rest > 50
                GROUP BY customer_id, currency"
            ),
        );
        let invoice_credit = run(
            &mut ctx,
            format!(
                "{state}
                SELECT customer_id, currency,
                  SUM(CASE WHEN amount_units < 0 OR rest < 0 THEN -rest ELSE 0 END) AS credit,
                  SUM(CASE WHEN (amount_units < 0 AND rest <> 0) OR (amount_units >= 0 AND rest < 0)
                      THEN 1 ELSE 0 END) AS credit_rows
                FROM state GROUP BY customer_id, currency"
            ),
        );
        let payment_credit = run(
            &mut ctx,
            format!(
                "WITH inv AS (
                    SELECT invoice_id AS inv_id, currency AS inv_currency, 1 AS found
                    FROM invoices WHERE issue_day <= {a_day})
                SELECT p.customer_id, p.currency, SUM(p.amount_units) AS credit, COUNT(*) AS credit_rows
                FROM payments p LEFT JOIN inv i ON p.invoice_id = i.inv_id
                WHERE p.pay_day <= {a_day}
                  AND (p.invoice_id IS NULL OR i.found IS NULL OR i.inv_currency <> p.currency)
                GROUP BY p.customer_id, p.currency"
            ),
        );
        let totals = run(
            &mut ctx,
            format!(
                "{state}
                SELECT SUM(amount_units) AS amount, SUM(paid) AS paid, COUNT(*) AS n FROM state"
            ),
        );
        let all_paid = run(
            &mut ctx,
            format!("SELECT SUM(amount_units) AS paid FROM payments WHERE pay_day <= {a_day}"),
        );

        // Expected per (customer, currency): 6 buckets, total, credit; and whether a row is due.
        let mut expected: std::collections::HashMap<(String, String), (Vec<i128>, bool)> =
            Default::default();
        let bucket_cols = [
            "b_current",
            "b_1_30",
            "b_31_60",
            "b_61_90",
            "b_91_120",
            "b_120_plus",
            "total",
        ];
        for (k, v) in sql_map(&buckets, &bucket_cols) {
            let e = expected.entry(k).or_insert((vec![0; 8], false));
            e.0[..7].copy_from_slice(&v);
            e.1 = true;
        }
        for credit in [&invoice_credit, &payment_credit] {
            for (k, v) in sql_map(credit, &["credit", "credit_rows"]) {
                let e = expected.entry(k).or_insert((vec![0; 8], false));
                e.0[7] += v[0];
                e.1 |= v[1] > 0;
            }
        }
        expected.retain(|_, (_, has_row)| *has_row);

        let got_cols = [
            ac::BUCKET_CURRENT,
            ac::BUCKET_1_30,
            ac::BUCKET_31_60,
            ac::BUCKET_61_90,
            ac::BUCKET_91_120,
            ac::BUCKET_120_PLUS,
            ac::TOTAL_OUTSTANDING,
            ac::UNAPPLIED_CREDIT,
        ];
        let got_vals: Vec<Vec<Option<i128>>> = got_cols.iter().map(|c| decs(&cust, c)).collect();
        let keys: Vec<(String, String)> = strs(&cust, ac::CUSTOMER_ID)
            .into_iter()
            .zip(strs(&cust, ac::CURRENCY))
            .map(|(a, b)| (a.unwrap(), b.unwrap()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            keys, sorted,
            "aging_customers is sorted by customer_id, currency"
        );
        assert_eq!(
            keys.len(),
            expected.len(),
            "one row per customer and currency with open invoices or credit"
        );
        assert!(keys.len() > 3000, "rows: {}", keys.len());
        for (r, key) in keys.iter().enumerate() {
            let got: Vec<i128> = got_vals.iter().map(|v| v[r].unwrap()).collect();
            let (want, _) = expected
                .get(key)
                .unwrap_or_else(|| panic!("unexpected row {key:?}"));
            assert_eq!(&got, want, "{key:?}: buckets, total, credit");
        }
        // Net = total - credit, row by row.
        let net = decs(&cust, ac::NET_OUTSTANDING);
        for r in 0..keys.len() {
            assert_eq!(
                net[r].unwrap(),
                got_vals[6][r].unwrap() - got_vals[7][r].unwrap()
            );
        }

        // Ledger identity, exact: issued amounts - applied payments = outstanding - credit, with
        // issued amounts and applied payments also equal to the SQL sums.
        let sql_amount = totals
            .column("amount")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap() as i128;
        let sql_paid = totals
            .column("paid")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap() as i128;
        let (amount, paid) = (dec_sum(&aged, ai::AMOUNT), dec_sum(&aged, ai::PAID));
        let (outstanding, inv_credit) =
            (dec_sum(&aged, ai::OUTSTANDING), dec_sum(&aged, ai::CREDIT));
        assert_eq!((amount, paid), (sql_amount, sql_paid));
        assert_eq!(amount - paid, outstanding);
        // Credit is the negative part of what no open invoice holds: every credit note's
        // -outstanding, every overpaid invoice's.
        let neg_outstanding: i128 = decs(&aged, ai::OUTSTANDING)
            .into_iter()
            .zip(strs(&aged, ai::STATUS))
            .filter(|(_, s)| matches!(s.as_deref(), Some(STATUS_CREDIT_NOTE | STATUS_OVERPAID)))
            .map(|(v, _)| -v.unwrap())
            .sum();
        assert_eq!(inv_credit, neg_outstanding);
        // And every payment dated by A is either applied or a credit row.
        let payment_credit_sum: i128 = decs(&credit, uc::AMOUNT)
            .into_iter()
            .zip(strs(&credit, uc::KIND))
            .filter(|(_, k)| !matches!(k.as_deref(), Some(KIND_OVERPAYMENT | KIND_CREDIT_NOTE)))
            .map(|(v, _)| v.unwrap())
            .sum();
        let all = all_paid
            .column("paid")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap() as i128;
        assert_eq!(paid + payment_credit_sum, all);
        // The generator reached every kind of credit and every status.
        let mut kinds: Vec<_> = strs(&credit, uc::KIND).into_iter().flatten().collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), 7, "{kinds:?}");
        let mut statuses: Vec<_> = strs(&aged, ai::STATUS).into_iter().flatten().collect();
        statuses.sort();
        statuses.dedup();
        assert_eq!(statuses, ["credit_note", "open", "overpaid", "paid"]);
        // Every invoice issued by A is in aging_invoices, once.
        let sql_n = totals
            .column("n")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(aged.height() as i64, sql_n);
    }
}
