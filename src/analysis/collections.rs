//! The collections ladder (SPEC 4.1): from aging_invoices, aging_customers, the customer master
//! and, when known, each customer's risk tier, one `collections_actions` row per customer and
//! currency that needs chasing, with the action and the reason in words; `with_actions` copies the
//! action into aging_customers.
//!
//! The action follows the customer's oldest past-due open invoice in that currency: reminder from
//! 1 day past due, second_notice from 15, final_notice from 30, suspend from 45, write_off_review
//! from 90 (configurable). Nothing is done while the past-due total in that currency is under
//! `min_past_due` (1.00), so rounding leftovers are never dunned. A customer whose risk tier is in
//! `risk_step_tiers` (high, critical) moves one step further up the ladder, never past
//! write_off_review, and only when the ladder already calls for an action: risk alone does not
//! start dunning. Unapplied credit does not lower the past-due total (SPEC counts past due
//! gross), but the reason says how much credit the customer holds, so a collector can apply it
//! before chasing.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::aging::{money, money_text, STATUS_OPEN};
use crate::schema::{
    aging_customers as ac, aging_invoices as ai, collections_actions as ca, customers as cu,
    risk_scores as rs,
};
use crate::tier::Tier;

/// The ladder's actions, mildest first; the position + 1 is the action's severity.
pub const LADDER: [&str; 5] = [
    "reminder",
    "second_notice",
    "final_notice",
    "suspend",
    "write_off_review",
];

const SEVERITY: &str = "_severity";
const BASE_SEVERITY: &str = "_base_severity";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionsConfig {
    /// No action while a customer's past-due total in a currency is under this amount.
    pub min_past_due: f64,
    /// Days past due of the oldest past-due invoice from which each action applies.
    pub reminder_from_days: i64,
    pub second_notice_from_days: i64,
    pub final_notice_from_days: i64,
    pub suspend_from_days: i64,
    pub write_off_review_from_days: i64,
    /// Risk tiers (risk_scores.tier) that move a customer one step further up the ladder.
    pub risk_step_tiers: Vec<Tier>,
}

impl Default for CollectionsConfig {
    fn default() -> Self {
        CollectionsConfig {
            min_past_due: 1.00,
            reminder_from_days: 1,
            second_notice_from_days: 15,
            final_notice_from_days: 30,
            suspend_from_days: 45,
            write_off_review_from_days: 90,
            risk_step_tiers: vec![Tier::High, Tier::Critical],
        }
    }
}

impl CollectionsConfig {
    /// The from-days of each `LADDER` action, in ladder order.
    pub fn thresholds(&self) -> [i64; 5] {
        [
            self.reminder_from_days,
            self.second_notice_from_days,
            self.final_notice_from_days,
            self.suspend_from_days,
            self.write_off_review_from_days,
        ]
    }

    /// `min_past_due` in ledger units (10^-4), rounded: the comparison itself stays exact.
    fn min_past_due_units(&self) -> i128 {
        if self.min_past_due.is_finite() {
            (self.min_past_due * 10_000.0).round() as i128
        } else {
            0
        }
    }
}

/// One row per customer and currency that the ladder acts on (collections_actions' columns),
/// sorted by severity (write_off_review first), then past-due amount descending, customer, currency.
/// `risk_tiers` has customer_id and tier (risk_scores' names); None when risk is not scored.
pub fn collections_actions(
    aging_invoices: LazyFrame,
    aging_customers: LazyFrame,
    customers: LazyFrame,
    risk_tiers: Option<LazyFrame>,
    cfg: &CollectionsConfig,
) -> LazyFrame {
    let key_exprs = || [col(ca::CUSTOMER_ID), col(ca::CURRENCY)];
    let mut left = JoinArgs::new(JoinType::Left);
    left.nulls_equal = true;

    let dpd = col(ai::DAYS_PAST_DUE);
    let past_due = aging_invoices
        .filter(
            col(ai::STATUS)
                .eq(lit(STATUS_OPEN))
                .and(dpd.clone().gt(lit(0i64))),
        )
        .group_by([col(ai::CUSTOMER_ID), col(ai::CURRENCY)])
        .agg([
            col(ai::OUTSTANDING).sum().alias(ca::PAST_DUE),
            len().cast(DataType::Int64).alias(ca::INVOICES_PAST_DUE),
            dpd.clone().max().alias(ca::OLDEST_DAYS_PAST_DUE),
            col(ai::INVOICE_ID)
                .sort_by(
                    [dpd, col(ai::INVOICE_ID)],
                    SortMultipleOptions::default().with_order_descending_multi([true, false]),
                )
                .first()
                .alias(ca::OLDEST_INVOICE_ID),
        ])
        .filter(col(ca::PAST_DUE).gt_eq(money(cfg.min_past_due_units())));

    // Each threshold wraps the previous ones, so the outermost `when` tests the highest step.
    let oldest = col(ca::OLDEST_DAYS_PAST_DUE);
    let mut base = lit(0i32);
    for (i, t) in cfg.thresholds().iter().enumerate() {
        base = when(oldest.clone().gt_eq(lit(*t)))
            .then(lit(i as i32 + 1))
            .otherwise(base);
    }

    let stepping = risk_tiers
        .map(|t| stepping_tiers(t, &cfg.risk_step_tiers))
        .unwrap_or_else(|| {
            df!(ca::CUSTOMER_ID => Vec::<String>::new(), ca::RISK_TIER => Vec::<String>::new())
                .map(|d| d.lazy())
                .unwrap_or_default()
        });
    let names = customers
        .filter(col(cu::CUSTOMER_ID).is_not_null())
        .group_by([col(cu::CUSTOMER_ID)])
        .agg([col(cu::CUSTOMER_NAME)
            .drop_nulls()
            .min()
            .alias(ca::CUSTOMER_NAME)]);
    let credit = aging_customers.select([
        col(ac::CUSTOMER_ID),
        col(ac::CURRENCY),
        col(ac::UNAPPLIED_CREDIT),
    ]);

    let top = LADDER.len() as i32;
    let stepped = col(ca::RISK_TIER).is_not_null();
    let severity = when(stepped.clone())
        .then(
            when(col(BASE_SEVERITY).gt_eq(lit(top)))
                .then(lit(top))
                .otherwise(col(BASE_SEVERITY) + lit(1)),
        )
        .otherwise(col(BASE_SEVERITY));

    past_due
        .with_column(base.alias(BASE_SEVERITY))
        .filter(col(BASE_SEVERITY).gt(lit(0i32)))
        .join(
            stepping,
            [col(ca::CUSTOMER_ID)],
            [col(ca::CUSTOMER_ID)],
            left.clone(),
        )
        .join(
            names,
            [col(ca::CUSTOMER_ID)],
            [col(cu::CUSTOMER_ID)],
            left.clone(),
        )
        .join(credit, key_exprs(), key_exprs(), left)
        .with_columns([
            severity.alias(SEVERITY),
            col(ca::UNAPPLIED_CREDIT).fill_null(money(0)),
        ])
        .with_columns([
            action_name(col(SEVERITY)).alias(ca::ACTION),
            action_name(col(BASE_SEVERITY)).alias(ca::BASE_ACTION),
            reason().alias(ca::REASON),
        ])
        .sort_by_exprs(
            [
                col(SEVERITY),
                col(ca::PAST_DUE),
                col(ca::CUSTOMER_ID),
                col(ca::CURRENCY),
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, true, false, false])
                .with_maintain_order(true),
        )
        .select(ca::DEF.columns_exprs())
}

/// aging_customers with `action` taken from collections_actions (null where none), same rows and
/// column order.
pub fn with_actions(aging_customers: LazyFrame, collections_actions: LazyFrame) -> LazyFrame {
    const NEW_ACTION: &str = "_new_action";
    let keys = || [col(ac::CUSTOMER_ID), col(ac::CURRENCY)];
    let mut left = JoinArgs::new(JoinType::Left);
    left.nulls_equal = true;
    aging_customers
        .join(
            collections_actions.select([
                col(ca::CUSTOMER_ID),
                col(ca::CURRENCY),
                col(ca::ACTION).alias(NEW_ACTION),
            ]),
            keys(),
            keys(),
            left,
        )
        .with_column(col(NEW_ACTION).alias(ac::ACTION))
        .drop(cols([NEW_ACTION]))
        .sort(
            [ac::CUSTOMER_ID, ac::CURRENCY],
            SortMultipleOptions::default(),
        )
}

/// customer_id -> the lowest-sorting matching tier, for customers whose tier steps them up.
fn stepping_tiers(tiers: LazyFrame, step_tiers: &[Tier]) -> LazyFrame {
    let tier = col(rs::TIER).str().to_lowercase();
    let matches = step_tiers
        .iter()
        .map(|t| tier.clone().eq(lit(t.as_str())))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    tiers
        .filter(col(rs::CUSTOMER_ID).is_not_null().and(matches))
        .group_by([col(rs::CUSTOMER_ID).alias(ca::CUSTOMER_ID)])
        .agg([tier.min().alias(ca::RISK_TIER)])
}

/// Severity (1..=5) -> LADDER name; 0 -> null.
fn action_name(severity: Expr) -> Expr {
    let mut e = lit(NULL).cast(DataType::String);
    for (i, name) in LADDER.iter().enumerate().rev() {
        e = when(severity.clone().eq(lit(i as i32 + 1)))
            .then(lit(*name))
            .otherwise(e);
    }
    e
}

/// "2 invoices past due, oldest INV-1042 97 days past due; 3,120.00 EUR overdue; moved one step
/// up: risk tier high; 50.00 EUR unapplied credit on account".
fn reason() -> Expr {
    let n = col(ca::INVOICES_PAST_DUE);
    let days = col(ca::OLDEST_DAYS_PAST_DUE);
    let currency = col(ca::CURRENCY).fill_null(lit("?"));
    concat_str(
        [
            n.clone().cast(DataType::String),
            when(n.eq(lit(1i64)))
                .then(lit(" invoice"))
                .otherwise(lit(" invoices")),
            lit(" past due, oldest "),
            col(ca::OLDEST_INVOICE_ID).fill_null(lit("?")),
            lit(" "),
            days.clone().cast(DataType::String),
            when(days.eq(lit(1i64)))
                .then(lit(" day"))
                .otherwise(lit(" days")),
            lit(" past due; "),
            money_text(col(ca::PAST_DUE)),
            lit(" "),
            currency.clone(),
            lit(" overdue"),
            when(col(ca::RISK_TIER).is_not_null())
                .then(concat_str(
                    [lit("; moved one step up: risk tier "), col(ca::RISK_TIER)],
                    "",
                    false,
                ))
                .otherwise(lit("")),
            when(col(ca::UNAPPLIED_CREDIT).gt(money(0)))
                .then(concat_str(
                    [
                        lit("; "),
                        money_text(col(ca::UNAPPLIED_CREDIT)),
                        lit(" "),
                        currency,
                        lit(" unapplied credit on account"),
                    ],
                    "",
                    false,
                ))
                .otherwise(lit("")),
        ],
        "",
        false,
    )
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::analysis::aging::{aging_customers, aging_invoices, unapplied_credit, AgingConfig};
    use crate::schema::{self, invoices as inv, payments as pay};

    fn a() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()
    }

    /// (invoice_id, customer_id, currency, days past due on A, amount)
    fn invoices(rows: &[(&str, &str, &str, i64, &str)]) -> LazyFrame {
        let n = rows.len();
        df!(
            inv::INVOICE_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            inv::CUSTOMER_ID => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            inv::ISSUE_DATE => vec![NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(); n],
            inv::DUE_DATE => rows.iter().map(|r| a() - chrono::Duration::days(r.3)).collect::<Vec<_>>(),
            inv::AMOUNT => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
            inv::CURRENCY => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            inv::SERVICE_MONTH => vec![None::<&str>; n],
            inv::SOURCE_FILE => vec!["invoices.csv"; n],
            inv::SOURCE_LINE => (2..n as i64 + 2).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_column(col(inv::AMOUNT).cast(schema::ledger_money()))
    }

    fn unapplied(customer: &str, amount: &str, currency: &str) -> LazyFrame {
        df!(
            pay::PAYMENT_ID => ["P1"],
            pay::CUSTOMER_ID => [customer],
            pay::INVOICE_ID => [None::<&str>],
            pay::PAYMENT_DATE => [a()],
            pay::AMOUNT => [amount],
            pay::CURRENCY => [currency],
            pay::INSTRUMENT => ["card"],
            pay::SOURCE_FILE => ["payments.csv"],
            pay::SOURCE_LINE => [2i64],
        )
        .unwrap()
        .lazy()
        .with_column(col(pay::AMOUNT).cast(schema::ledger_money()))
    }

    fn customers() -> LazyFrame {
        df!(
            cu::CUSTOMER_ID => ["c1", "c2"],
            cu::CUSTOMER_NAME => ["Contoso", "Fabrikam"],
            cu::COUNTRY => ["DE", "FR"],
            cu::CREATED_DATE => [a(), a()],
            cu::VERIFIED => [true, true],
            cu::CREDIT_LIMIT => [1000.0, 1000.0],
            cu::SOURCE_FILE => ["customers.csv", "customers.csv"],
            cu::SOURCE_LINE => [2i64, 3],
        )
        .unwrap()
        .lazy()
    }

    fn tiers(rows: &[(&str, &str)]) -> LazyFrame {
        df!(
            rs::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            rs::TIER => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
    }

    /// (aging_customers with actions, collections_actions), both collected.
    fn run(
        i: LazyFrame,
        p: LazyFrame,
        risk: Option<LazyFrame>,
        cfg: &CollectionsConfig,
    ) -> (DataFrame, DataFrame) {
        let acfg = AgingConfig::default();
        let ai = aging_invoices(i.clone(), p.clone(), a(), &acfg);
        let cr = unapplied_credit(i.clone(), p, a());
        let ac = aging_customers(ai.clone(), cr, i, a(), &acfg);
        let actions = collections_actions(ai, ac.clone(), customers(), risk, cfg);
        let with = with_actions(ac, actions.clone());
        (with.collect().unwrap(), actions.collect().unwrap())
    }

    use crate::testutil::opt_strs as strs;

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn ladder_thresholds_follow_the_oldest_past_due_invoice() {
        // One customer per day count; each owes 10.00 in that single invoice.
        let days = [0i64, 1, 14, 15, 29, 30, 44, 45, 89, 90];
        let ids: Vec<String> = days.iter().map(|d| format!("c{d:03}")).collect();
        let inv_ids: Vec<String> = days.iter().map(|d| format!("INV-{d}")).collect();
        let rows: Vec<_> = days
            .iter()
            .enumerate()
            .map(|(k, d)| (inv_ids[k].as_str(), ids[k].as_str(), "EUR", *d, "10.00"))
            .collect();
        let no_pay = schema::payments::DEF.empty().lazy();
        let (with, actions) = run(invoices(&rows), no_pay, None, &CollectionsConfig::default());
        // 0 days: not past due, no row. Then sorted by severity, then customer id.
        assert_eq!(
            strs(&actions, ca::CUSTOMER_ID),
            some(&["c090", "c045", "c089", "c030", "c044", "c015", "c029", "c001", "c014"])
        );
        assert_eq!(
            strs(&actions, ca::ACTION),
            some(&[
                "write_off_review",
                "suspend",
                "suspend",
                "final_notice",
                "final_notice",
                "second_notice",
                "second_notice",
                "reminder",
                "reminder"
            ])
        );
        // aging_customers carries the action; c000 (not yet past due) has none.
        assert_eq!(strs(&with, ac::CUSTOMER_ID)[0].as_deref(), Some("c000"));
        assert_eq!(
            strs(&with, ac::ACTION),
            [
                None,
                Some("reminder"),
                Some("reminder"),
                Some("second_notice"),
                Some("second_notice"),
                Some("final_notice"),
                Some("final_notice"),
                Some("suspend"),
                Some("suspend"),
                Some("write_off_review")
            ]
            .map(|s| s.map(str::to_string))
        );
    }

    #[test]
    fn min_past_due_and_reason_in_words() {
        let rows = [
            ("INV-1", "c1", "EUR", 97, "3000.00"),
            ("INV-2", "c1", "EUR", 20, "120.00"),
            ("INV-3", "c1", "EUR", -3, "500.00"), // not yet due: not in past_due
            ("INV-4", "c2", "EUR", 50, "0.99"),   // 0.99 < 1.00: no action
            ("INV-5", "c2", "USD", 5, "1.00"),    // exactly 1.00: reminder
        ];
        let p = unapplied("c1", "50.00", "EUR");
        let (_, actions) = run(invoices(&rows), p, None, &CollectionsConfig::default());
        assert_eq!(strs(&actions, ca::CUSTOMER_ID), some(&["c1", "c2"]));
        assert_eq!(strs(&actions, ca::CURRENCY), some(&["EUR", "USD"]));
        assert_eq!(
            strs(&actions, ca::CUSTOMER_NAME),
            some(&["Contoso", "Fabrikam"])
        );
        assert_eq!(
            strs(&actions, ca::ACTION),
            some(&["write_off_review", "reminder"])
        );
        let past_due: Vec<_> = actions
            .column(ca::PAST_DUE)
            .unwrap()
            .decimal()
            .unwrap()
            .physical()
            .iter()
            .collect();
        // c1: 3000.00 + 120.00 = 3120.00; c2 USD: 1.00.
        assert_eq!(past_due, [Some(31_200_000), Some(10_000)]);
        assert_eq!(
            strs(&actions, ca::REASON),
            some(&[
                "2 invoices past due, oldest INV-1 97 days past due; 3,120.00 EUR overdue; \
                 50.00 EUR unapplied credit on account",
                "1 invoice past due, oldest INV-5 5 days past due; 1.00 USD overdue",
            ])
        );
        // Raising the floor to 2.00 drops c2.
        let cfg = CollectionsConfig {
            min_past_due: 2.0,
            ..Default::default()
        };
        let no_pay = schema::payments::DEF.empty().lazy();
        let (_, actions) = run(invoices(&rows), no_pay, None, &cfg);
        assert_eq!(strs(&actions, ca::CUSTOMER_ID), some(&["c1"]));
    }

    #[test]
    fn high_risk_moves_one_step_up_and_write_off_review_stays() {
        let rows = [
            ("INV-1", "c1", "EUR", 20, "100.00"), // second_notice -> final_notice (high)
            ("INV-2", "c2", "EUR", 95, "100.00"), // write_off_review stays (critical)
            ("INV-3", "c3", "EUR", 20, "100.00"), // medium: no step
            ("INV-4", "c4", "EUR", 0, "100.00"),  // high, but nothing past due: no action
        ];
        let risk = tiers(&[
            ("c1", "High"),
            ("c2", "critical"),
            ("c3", "medium"),
            ("c4", "high"),
        ]);
        let no_pay = schema::payments::DEF.empty().lazy();
        let (_, actions) = run(
            invoices(&rows),
            no_pay,
            Some(risk),
            &CollectionsConfig::default(),
        );
        assert_eq!(strs(&actions, ca::CUSTOMER_ID), some(&["c2", "c1", "c3"]));
        assert_eq!(
            strs(&actions, ca::ACTION),
            some(&["write_off_review", "final_notice", "second_notice"])
        );
        assert_eq!(
            strs(&actions, ca::BASE_ACTION),
            some(&["write_off_review", "second_notice", "second_notice"])
        );
        assert_eq!(
            strs(&actions, ca::RISK_TIER),
            [Some("critical"), Some("high"), None].map(|s| s.map(str::to_string))
        );
        assert_eq!(
            strs(&actions, ca::REASON)[1].as_deref(),
            Some("1 invoice past due, oldest INV-1 20 days past due; 100.00 EUR overdue; moved one step up: risk tier high")
        );
        assert_eq!(
            strs(&actions, ca::CUSTOMER_NAME),
            [
                Some("Fabrikam".to_string()),
                Some("Contoso".to_string()),
                None
            ]
        );
    }
}
