//! Table and column names of every canonical input table and every output table, with their
//! dtypes. This module is the one place a column name is spelled; ingestion, analyses, reports,
//! queries and tests all refer to these constants, so `aging_customers` is `aging_customers` all
//! the way through.
//!
//! Money dtypes (also in README.md):
//! - ledger money (invoices.amount, payments.amount and everything derived from them in the aging
//!   tables) is `Decimal(38, 4)`: exact to a hundredth of a cent;
//! - rated usage, billed line items, budgets, credit limits, forecasts and exposure are `Float64`:
//!   Partner Center rates usage with 8+ decimals and scientific notation, and these figures are
//!   estimates, not ledger balances.

use polars::prelude::*;

/// Exact ledger money: DECIMAL(38, 4).
pub const LEDGER_PRECISION: usize = 38;
pub const LEDGER_SCALE: usize = 4;

pub fn ledger_money() -> DataType {
    DataType::Decimal(LEDGER_PRECISION, LEDGER_SCALE)
}

/// TIMESTAMP UTC, microseconds.
pub fn timestamp_utc() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

/// Provenance columns present on every canonical input table.
pub const SOURCE_FILE: &str = "source_file";
pub const SOURCE_LINE: &str = "source_line";

/// A table: its stable name and its columns with dtypes, in output order.
pub struct TableDef {
    pub name: &'static str,
    pub columns: fn() -> Vec<(&'static str, DataType)>,
}

impl TableDef {
    pub fn schema(&self) -> Schema {
        (self.columns)()
            .into_iter()
            .map(|(n, d)| Field::new(n.into(), d))
            .collect()
    }

    pub fn column_names(&self) -> Vec<&'static str> {
        (self.columns)().into_iter().map(|(n, _)| n).collect()
    }

    /// The table's columns in schema order, as they are: the select that ends an analysis whose
    /// columns already have the table's dtypes.
    pub fn columns_exprs(&self) -> Vec<Expr> {
        self.column_names().into_iter().map(col).collect()
    }

    /// The table's columns in schema order, each cast to its schema dtype.
    pub fn conformed_exprs(&self) -> Vec<Expr> {
        (self.columns)()
            .into_iter()
            .map(|(name, dtype)| col(name).cast(dtype))
            .collect()
    }

    /// `lf` reduced to exactly this table's columns, in schema order, with the schema's dtypes.
    pub fn conform(&self, lf: LazyFrame) -> LazyFrame {
        lf.select(self.conformed_exprs())
    }

    /// An empty frame of this table, for optional sources that are absent.
    pub fn empty(&self) -> DataFrame {
        DataFrame::empty_with_schema(&self.schema())
    }
}

macro_rules! table {
    ($modname:ident, $tname:literal, { $($cname:ident : $cstr:literal => $dtype:expr),* $(,)? }) => {
        pub mod $modname {
            #[allow(unused_imports)]
            use super::*;
            pub const TABLE: &str = $tname;
            $(pub const $cname: &str = $cstr;)*
            pub const DEF: TableDef = TableDef { name: TABLE, columns };
            fn columns() -> Vec<(&'static str, DataType)> {
                vec![$(($cstr, $dtype)),*]
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Canonical input tables (SPEC section 3). customer_id, entitlement_id and subscription_id are
// trimmed and lower-cased GUIDs; currencies are upper-case ISO codes.
// ---------------------------------------------------------------------------------------------

table!(usage, "usage", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    CUSTOMER_COUNTRY: "customer_country" => DataType::String,
    INVOICE_NUMBER: "invoice_number" => DataType::String, // null while unbilled
    SUBSCRIPTION_ID: "subscription_id" => DataType::String, // billing subscription (Azure plan)
    ENTITLEMENT_ID: "entitlement_id" => DataType::String,   // the Azure subscription id
    USAGE_DATE: "usage_date" => DataType::Date,
    METER_CATEGORY: "meter_category" => DataType::String,
    METER_SUBCATEGORY: "meter_subcategory" => DataType::String,
    METER_NAME: "meter_name" => DataType::String,
    METER_ID: "meter_id" => DataType::String,
    REGION: "region" => DataType::String, // ResourceLocation, else MeterRegion; lower-case, no spaces (the analyses rely on it)
    RESOURCE_ID: "resource_id" => DataType::String, // lower-case, as every id (the analyses rely on it)
    CHARGE_TYPE: "charge_type" => DataType::String, // as written: PC ChargeType, FOCUS ChargeCategory
    // Usage, Purchase, Tax, Credit or Adjustment (FOCUS ChargeCategory; Partner Center rows are
    // Usage, refunds and credits Credit); only Usage that is not a Correction is consumption.
    CHARGE_CATEGORY: "charge_category" => DataType::String,
    CHARGE_CLASS: "charge_class" => DataType::String, // FOCUS ChargeClass: Correction, else null
    SUB_ACCOUNT_ID: "sub_account_id" => DataType::String, // FOCUS SubAccountId as written (/subscriptions/<guid>)
    UNIT_PRICE: "unit_price" => DataType::Float64,
    QUANTITY: "quantity" => DataType::Float64,
    UNIT: "unit" => DataType::String,
    COST: "cost" => DataType::Float64, // BillingPreTaxTotal (FOCUS: BilledCost)
    CURRENCY: "currency" => DataType::String, // BillingCurrency
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(billed, "billed", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    INVOICE_NUMBER: "invoice_number" => DataType::String,
    SUBSCRIPTION_ID: "subscription_id" => DataType::String,
    PRODUCT_NAME: "product_name" => DataType::String,
    CHARGE_TYPE: "charge_type" => DataType::String, // lower-case
    CHARGE_START_DATE: "charge_start_date" => DataType::Date,
    CHARGE_END_DATE: "charge_end_date" => DataType::Date,
    QUANTITY: "quantity" => DataType::Float64,
    TOTAL: "total" => DataType::Float64,
    CURRENCY: "currency" => DataType::String,
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(invoices, "invoices", {
    INVOICE_ID: "invoice_id" => DataType::String,
    CUSTOMER_ID: "customer_id" => DataType::String,
    ISSUE_DATE: "issue_date" => DataType::Date,
    DUE_DATE: "due_date" => DataType::Date,
    AMOUNT: "amount" => ledger_money(), // negative = credit note
    CURRENCY: "currency" => DataType::String,
    SERVICE_MONTH: "service_month" => DataType::String, // YYYY-MM, may be null
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(payments, "payments", {
    PAYMENT_ID: "payment_id" => DataType::String,
    CUSTOMER_ID: "customer_id" => DataType::String,
    INVOICE_ID: "invoice_id" => DataType::String, // null = unapplied
    PAYMENT_DATE: "payment_date" => DataType::Date,
    AMOUNT: "amount" => ledger_money(), // negative = refund
    CURRENCY: "currency" => DataType::String,
    INSTRUMENT: "instrument" => DataType::String, // card, prepaid_card, bank_transfer, direct_debit, other
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(activity, "activity", {
    EVENT_TIME: "event_time" => timestamp_utc(),
    CUSTOMER_ID: "customer_id" => DataType::String, // null when no usage row maps the subscription
    SUBSCRIPTION_ID: "subscription_id" => DataType::String, // Azure subscription id, lower-case
    TENANT_ID: "tenant_id" => DataType::String,
    OPERATION: "operation" => DataType::String, // as written
    OPERATION_LOWER: "operation_lower" => DataType::String,
    STATUS: "status" => DataType::String, // Started, Accepted, Succeeded, Failed
    CALLER: "caller" => DataType::String,
    CLIENT_IP: "client_ip" => DataType::String, // an IPv4 or IPv6 address, else null
    CLIENT_IP_RAW: "client_ip_raw" => DataType::String, // callerIpAddress (or its fallbacks) as written
    RESOURCE_ID: "resource_id" => DataType::String,
    CATEGORY: "category" => DataType::String,
    LEVEL: "level" => DataType::String,
    LOCATION: "location" => DataType::String, // region, lower-case, may be null
    ROLE: "role" => DataType::String, // role name of a role assignment, when known
    CORRELATION_ID: "correlation_id" => DataType::String,
    SHAPE: "shape" => DataType::String, // diagnostic, rest, portal_csv
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(audit_records, "audit_records", {
    OPERATION_DATE: "operation_date" => timestamp_utc(),
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    USER_PRINCIPAL_NAME: "user_principal_name" => DataType::String,
    APPLICATION_ID: "application_id" => DataType::String,
    RESOURCE_TYPE: "resource_type" => DataType::String,
    OPERATION_TYPE: "operation_type" => DataType::String, // snake_case, e.g. increase_spending_limit
    OPERATION_STATUS: "operation_status" => DataType::String,
    RESOURCE_OLD_VALUE: "resource_old_value" => DataType::String,
    RESOURCE_NEW_VALUE: "resource_new_value" => DataType::String,
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(budgets, "budgets", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    MONTH: "month" => DataType::String, // YYYY-MM; null = every month (standing budget)
    BUDGET: "budget" => DataType::Float64,
    CURRENCY: "currency" => DataType::String,
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(customers, "customers", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    COUNTRY: "country" => DataType::String,
    CREATED_DATE: "created_date" => DataType::Date,
    VERIFIED: "verified" => DataType::Boolean,
    CREDIT_LIMIT: "credit_limit" => DataType::Float64,
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(fraud_events, "fraud_events", {
    EVENT_TIME: "event_time" => timestamp_utc(),
    EVENT_ID: "event_id" => DataType::String,
    CUSTOMER_ID: "customer_id" => DataType::String, // customerTenantId
    CUSTOMER_NAME: "customer_name" => DataType::String,
    SUBSCRIPTION_ID: "subscription_id" => DataType::String,
    ENTITY_ID: "entity_id" => DataType::String,
    ENTITY_NAME: "entity_name" => DataType::String,
    HIT_COUNT: "hit_count" => DataType::Int64,
    EVENT_STATUS: "event_status" => DataType::String, // Active, Investigating, Resolved
    RESOLVED_REASON: "resolved_reason" => DataType::String, // Fraud, Ignore
    FIRST_OCCURRENCE: "first_occurrence" => timestamp_utc(),
    LAST_OCCURRENCE: "last_occurrence" => timestamp_utc(), // null for 9999-12-31 ("not yet")
    EVENT_TYPE: "event_type" => DataType::String,
    SEVERITY: "severity" => DataType::String, // Low, Medium, High
    CONFIDENCE_LEVEL: "confidence_level" => DataType::String,
    DESCRIPTION: "description" => DataType::String,
    COUNTRY: "country" => DataType::String,
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(fx_rates, "fx_rates", {
    DATE: "date" => DataType::Date,
    CURRENCY: "currency" => DataType::String,
    RATE: "rate" => DataType::Float64, // 1 unit of currency = rate units of the reporting currency
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

table!(dispositions, "dispositions", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    REASON_CODE: "reason_code" => DataType::String, // a reason code, a family, or *
    VERDICT: "verdict" => DataType::String, // legitimate, fraud, planned
    VALID_UNTIL: "valid_until" => DataType::Date,
    ANALYST: "analyst" => DataType::String,
    NOTE: "note" => DataType::String,
    SOURCE_FILE: "source_file" => DataType::String,
    SOURCE_LINE: "source_line" => DataType::Int64,
});

// ---------------------------------------------------------------------------------------------
// Output tables (SPEC section 5).
// ---------------------------------------------------------------------------------------------

table!(usage_daily, "usage_daily", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    ENTITLEMENT_ID: "entitlement_id" => DataType::String,
    METER_CATEGORY: "meter_category" => DataType::String,
    USAGE_DATE: "usage_date" => DataType::Date,
    CURRENCY: "currency" => DataType::String,
    COST: "cost" => DataType::Float64,
    QUANTITY: "quantity" => DataType::Float64,
    ROWS: "rows" => DataType::UInt32,
});

table!(rejected_rows, "rejected_rows", {
    SOURCE: "source" => DataType::String,
    FILE: "file" => DataType::String,
    LINE: "line" => DataType::Int64,
    COLUMN: "column" => DataType::String,
    REASON: "reason" => DataType::String,
    RAW: "raw" => DataType::String,
});

table!(aging_invoices, "aging_invoices", {
    INVOICE_ID: "invoice_id" => DataType::String,
    CUSTOMER_ID: "customer_id" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    ISSUE_DATE: "issue_date" => DataType::Date,
    DUE_DATE: "due_date" => DataType::Date,
    AMOUNT: "amount" => ledger_money(),
    PAID: "paid" => ledger_money(),
    OUTSTANDING: "outstanding" => ledger_money(),
    DAYS_PAST_DUE: "days_past_due" => DataType::Int64,
    BUCKET: "bucket" => DataType::String, // null unless open; labels from aging.bucket_edges
    STATUS: "status" => DataType::String, // open, paid, overpaid, credit_note
    CREDIT: "credit" => ledger_money(), // what the invoice leaves as customer credit (overpayment, credit note); outstanding = amount - paid
});

// Detail of aging_customers.unapplied_credit: one row per payment that could not be applied and
// per overpaid invoice or credit note. Positive amounts are credit to the customer.
table!(unapplied_credit, "unapplied_credit", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    KIND: "kind" => DataType::String, // unapplied_payment, refund, unknown_invoice, currency_mismatch, not_yet_issued, overpayment, credit_note
    SOURCE_ID: "source_id" => DataType::String, // payment_id, or invoice_id for overpayment and credit_note
    DATE: "date" => DataType::Date, // payment_date, or the invoice's issue_date
    AMOUNT: "amount" => ledger_money(),
    REASON: "reason" => DataType::String,
});

table!(aging_customers, "aging_customers", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    BUCKET_CURRENT: "bucket_current" => ledger_money(),
    BUCKET_1_30: "bucket_1_30" => ledger_money(),
    BUCKET_31_60: "bucket_31_60" => ledger_money(),
    BUCKET_61_90: "bucket_61_90" => ledger_money(),
    BUCKET_91_120: "bucket_91_120" => ledger_money(),
    BUCKET_120_PLUS: "bucket_120_plus" => ledger_money(),
    TOTAL_OUTSTANDING: "total_outstanding" => ledger_money(),
    UNAPPLIED_CREDIT: "unapplied_credit" => ledger_money(),
    NET_OUTSTANDING: "net_outstanding" => ledger_money(),
    OLDEST_DAYS_PAST_DUE: "oldest_days_past_due" => DataType::Int64,
    DSO_90D: "dso_90d" => DataType::Float64, // over aging.dso_window_days (default 90)
    ACTION: "action" => DataType::String,
    PAST_DUE: "past_due" => ledger_money(), // open outstanding with days_past_due > 0
    OPEN_INVOICES: "open_invoices" => DataType::Int64,
    INVOICED_WINDOW: "invoiced_window" => ledger_money(), // DSO denominator: invoiced over the window
});

// aging_customers summed per customer in the reporting currency at the as-of rates.
table!(converted_totals, "converted_totals", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CURRENCY: "currency" => DataType::String, // the reporting currency
    TOTAL_OUTSTANDING: "total_outstanding" => DataType::Float64, // null when a currency has no rate
    UNAPPLIED_CREDIT: "unapplied_credit" => DataType::Float64,
    NET_OUTSTANDING: "net_outstanding" => DataType::Float64,
    MISSING_RATES: "missing_rates" => DataType::String, // currencies without a rate, comma separated
});

table!(collections_actions, "collections_actions", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    PAST_DUE: "past_due" => ledger_money(),
    OLDEST_DAYS_PAST_DUE: "oldest_days_past_due" => DataType::Int64,
    ACTION: "action" => DataType::String, // reminder, second_notice, final_notice, suspend, write_off_review
    REASON: "reason" => DataType::String,
    INVOICES_PAST_DUE: "invoices_past_due" => DataType::Int64,
    OLDEST_INVOICE_ID: "oldest_invoice_id" => DataType::String,
    BASE_ACTION: "base_action" => DataType::String, // the ladder's step before any risk step
    RISK_TIER: "risk_tier" => DataType::String, // set when the tier moved the customer a step up
    UNAPPLIED_CREDIT: "unapplied_credit" => ledger_money(),
});

table!(budget_status, "budget_status", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    MONTH: "month" => DataType::String, // YYYY-MM, the month containing the as-of date
    CURRENCY: "currency" => DataType::String, // the usage currency; budget is converted into it
    BUDGET: "budget" => DataType::Float64, // effective budget in `currency`; null: none or not convertible
    MTD_SPEND: "mtd_spend" => DataType::Float64,
    UTILIZATION: "utilization" => DataType::Float64, // mtd_spend / budget; null without a positive budget
    FORECAST: "forecast" => DataType::Float64, // month-end spend at the trailing daily rate
    STATUS: "status" => DataType::String, // over, forecast_over, warning, ok, no_budget, currency_mismatch
    WARNING_CROSSED_ON: "warning_crossed_on" => DataType::Date,
    BUDGET_CROSSED_ON: "budget_crossed_on" => DataType::Date,
    FORECAST_CROSSED_ON: "forecast_crossed_on" => DataType::Date, // projected, forecast_over rows only
    DAILY_RATE: "daily_rate" => DataType::Float64, // r: trailing k-day spend / k
    DAYS_LEFT: "days_left" => DataType::Int64, // days of the month after the as-of date
    BUDGET_ORIGINAL: "budget_original" => DataType::Float64, // the budget as written in budgets
    BUDGET_CURRENCY: "budget_currency" => DataType::String, // its currency
    BUDGET_NOTE: "budget_note" => DataType::String, // which budget applied, and any conversion
});

table!(budget_daily, "budget_daily", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    USAGE_DATE: "usage_date" => DataType::Date, // every day of the month up to the as-of date
    SPEND: "spend" => DataType::Float64, // 0 on days without usage
    CUMULATIVE_SPEND: "cumulative_spend" => DataType::Float64,
    BUDGET: "budget" => DataType::Float64, // the effective budget, the same every day
});

// Rows of actions/budget_alerts.csv.
table!(budget_alerts, "budget_alerts", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    STATUS: "status" => DataType::String, // over, forecast_over, warning, currency_mismatch
    MTD_SPEND: "mtd_spend" => DataType::Float64,
    BUDGET: "budget" => DataType::Float64,
    FORECAST: "forecast" => DataType::Float64,
    UTILIZATION: "utilization" => DataType::Float64,
    DAILY_RATE: "daily_rate" => DataType::Float64,
    FORECAST_CROSSED_ON: "forecast_crossed_on" => DataType::Date,
    ACTION: "action" => DataType::String,
    WHY: "why" => DataType::String,
});

// What a customer could cost the partner if it stopped paying today (SPEC 4.4), per currency.
table!(exposure, "exposure", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    NET_OUTSTANDING: "net_outstanding" => DataType::Float64, // aging_customers.net_outstanding
    UNBILLED_USAGE: "unbilled_usage" => DataType::Float64, // usage up to A in months not yet invoiced
    FORECAST_TO_MONTH_END: "forecast_to_month_end" => DataType::Float64, // budget_status forecast - mtd
    EXPOSURE: "exposure" => DataType::Float64,
});

table!(reconciliation, "reconciliation", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    SERVICE_MONTH: "service_month" => DataType::String,
    CURRENCY: "currency" => DataType::String,
    COST: "cost" => DataType::Float64,
    INVOICED: "invoiced" => DataType::Float64,
    MARGIN: "margin" => DataType::Float64,
    STATUS: "status" => DataType::String, // ok, negative_margin, unbilled, in_progress, invoice_without_cost
    USAGE_COST: "usage_cost" => DataType::Float64,
    BILLED_COST: "billed_cost" => DataType::Float64,
    MARGIN_PCT: "margin_pct" => DataType::Float64, // margin / invoiced; null unless invoiced > 0
    UNBILLED_COST: "unbilled_cost" => DataType::Float64, // cost of a month with no invoice at all
});

table!(anomalies, "anomalies", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    ENTITY: "entity" => DataType::String,
    FAMILY: "family" => DataType::String,
    SIGNAL: "signal" => DataType::String,
    DATE: "date" => DataType::Date,
    ACTUAL: "actual" => DataType::Float64,
    EXPECTED: "expected" => DataType::Float64,
    SCORE: "score" => DataType::Float64,
    REASON: "reason" => DataType::String,
    SUPPRESSED: "suppressed" => DataType::Boolean,
});

table!(risk_scores, "risk_scores", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    RISK_SCORE: "risk_score" => DataType::Float64,
    TIER: "tier" => DataType::String, // low, medium, high, critical
    EXPOSURE: "exposure" => DataType::Float64,
    CURRENCY: "currency" => DataType::String,
    TOP_REASONS: "top_reasons" => DataType::String,
    USAGE: "usage" => DataType::Float64,
    ACTIVITY: "activity" => DataType::Float64,
    PAYMENT: "payment" => DataType::Float64,
    FRAUD: "fraud" => DataType::Float64,
    SUPPRESSED_COUNT: "suppressed_count" => DataType::UInt32, // suppressed anomalies (dispositions, fraud events resolved as not fraud)
    FRAUD_VERDICT: "fraud_verdict" => DataType::Boolean, // a valid analyst fraud verdict
});

// actions/risk_review.csv: customers at the review tier or worse, worst first.
table!(risk_review, "risk_review", {
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    TIER: "tier" => DataType::String,
    RISK_SCORE: "risk_score" => DataType::Float64,
    EXPOSURE: "exposure" => DataType::Float64,
    CURRENCY: "currency" => DataType::String,
    TOP_REASONS: "top_reasons" => DataType::String,
    USAGE: "usage" => DataType::Float64,
    ACTIVITY: "activity" => DataType::Float64,
    PAYMENT: "payment" => DataType::Float64,
    FRAUD: "fraud" => DataType::Float64,
    SUPPRESSED_COUNT: "suppressed_count" => DataType::UInt32,
});

// What changed since the previous run (SPEC 4.6): one row per change, most urgent first.
table!(changes, "changes", {
    PRIORITY: "priority" => DataType::Int32, // 1 = most urgent (risk_newly_critical) ... 18
    CUSTOMER_ID: "customer_id" => DataType::String,
    CUSTOMER_NAME: "customer_name" => DataType::String,
    CURRENCY: "currency" => DataType::String, // null where the change is not per currency (risk, anomalies)
    TOPIC: "topic" => DataType::String, // customer, risk, collections, past_due, budget, anomaly, exposure
    KIND: "kind" => DataType::String, // see analysis::changes::KINDS
    SIGNAL: "signal" => DataType::String, // the reason code of anomaly changes, else null
    BEFORE: "before" => DataType::String, // the previous run's state (tier, action, status, amount); null = none
    AFTER: "after" => DataType::String, // this run's state; null = none
    REASON: "reason" => DataType::String,
    FIRST_SEEN: "first_seen" => DataType::Date, // anomaly changes: when the alert was first seen
});

/// Columns the previous-run comparison adds to other output tables (SPEC 4.6).
pub mod carried {
    /// anomalies, risk_review: the date an alert (customer and reason code) was first seen,
    /// carried from run to run; in risk_review, the customer's oldest standing alert.
    pub const FIRST_SEEN: &str = "first_seen";
    /// Action lists (collections_actions, budget_alerts, risk_review): the row is new or worse
    /// since the previous run; null without a previous run.
    pub const NEW: &str = "new";
}

/// Every canonical input table, in SPEC order.
pub const INPUT_TABLES: [&TableDef; 11] = [
    &usage::DEF,
    &billed::DEF,
    &invoices::DEF,
    &payments::DEF,
    &activity::DEF,
    &audit_records::DEF,
    &budgets::DEF,
    &customers::DEF,
    &fraud_events::DEF,
    &fx_rates::DEF,
    &dispositions::DEF,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_table_has_provenance_columns() {
        for t in INPUT_TABLES {
            let names = t.column_names();
            assert!(names.contains(&SOURCE_FILE), "{} lacks source_file", t.name);
            assert!(names.contains(&SOURCE_LINE), "{} lacks source_line", t.name);
            assert_eq!(t.empty().height(), 0);
        }
    }
}
