//! summary.json: the run's headline figures under stable keys, for schedulers, dashboards and
//! alerting. Computed from the collected output tables of a [`ReportData`].
//!
//! Money is written as a JSON string with exactly two decimals (`"1234.56"`, no separators):
//! ledger totals are summed exactly from the Decimal(38, 4) columns in integer ten-thousandths and
//! rounded half away from zero to the cent once, at the end, so they tie back to the ledger; a
//! JSON number would pass through a binary float in most readers. Money maps are keyed by ISO
//! currency code and sorted. Counts are JSON integers. Keys are only ever added; a key that
//! changes meaning or disappears bumps `summary_version`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::format::{bools, float_to_units, floats, money, money_plain, strings};
use super::{InputSummaryRow, ReportData, ACTIONS, BUCKETS, SUSPEND_ACTIONS, TIERS};
use crate::config::ReportConfig;
use crate::error::{Error, Result};
use crate::schema::{
    aging_customers as ag, anomalies as an, budget_status as bs, collections_actions as ca,
    risk_scores as rs,
};

/// Layout version of summary.json.
pub const SUMMARY_VERSION: u32 = 1;

/// Headline figures of one run (summary.json).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Layout version of this file (1); bumped when a key changes meaning or is removed.
    pub summary_version: u32,
    /// The as-of date A of every figure, `YYYY-MM-DD`.
    pub as_of: String,
    /// Program and version that wrote the file, e.g. `billrisk 0.1.0`.
    pub generated_by: String,
    /// ISO code of the reporting currency, or null when totals are per currency only.
    pub reporting_currency: Option<String>,
    /// What changed since the previous run (tables/changes.parquet); null without a previous run.
    pub since_last_run: Option<SinceSummary>,
    /// Receivables per currency (from aging_customers), keyed by ISO code.
    pub receivables: BTreeMap<String, ReceivablesTotals>,
    /// The receivables converted into the reporting currency at the as-of rates; null without a
    /// reporting currency.
    pub receivables_converted: Option<ConvertedTotals>,
    /// Customers with an open balance (total_outstanding > 0) in any currency.
    pub customers_with_open_balance: usize,
    /// Customers with any past-due amount (buckets 1-30 and older) in any currency.
    pub customers_past_due: usize,
    /// Customers per collections action (collections_actions; every action of the ladder is a
    /// key, 0 when none). A customer with actions in two currencies counts under each action.
    pub collections_actions: BTreeMap<String, usize>,
    /// Customers with the action suspend or write_off_review (in any currency).
    pub customers_to_suspend: usize,
    /// Customers whose month-to-date spend reached their budget (budget_status over).
    pub customers_over_budget: usize,
    /// Customers not yet over budget whose forecast to month end reaches it (forecast_over).
    pub customers_forecast_over_budget: usize,
    /// Customers past the warning share of their budget only (warning).
    pub customers_budget_warning: usize,
    /// Customers in risk tier high.
    pub customers_high_risk: usize,
    /// Customers in risk tier critical.
    pub customers_critical_risk: usize,
    /// Customers per risk tier (every tier is a key).
    pub risk_tiers: BTreeMap<String, usize>,
    /// Sum of risk_scores.exposure per currency (net outstanding + unbilled usage + forecast).
    pub total_exposure: BTreeMap<String, String>,
    /// total_exposure converted into the reporting currency; null without a reporting currency
    /// or when a currency has no rate.
    pub total_exposure_converted: Option<String>,
    /// Anomaly rows (signals with evidence).
    pub anomalies: AnomalyCounts,
    /// Rows rejected by ingestion (rows of rejected_rows).
    pub rejected_rows: u64,
    /// Data rows read from every input file.
    pub input_rows_read: u64,
    /// Row accounting per input source, in source order.
    pub inputs: Vec<InputSummaryRow>,
}

/// What changed since the previous run, counted from tables/changes.parquet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SinceSummary {
    /// As-of date of the previous run compared with, `YYYY-MM-DD`.
    pub previous_as_of: String,
    /// Rows of the changes table.
    pub changes: usize,
    /// Changes per kind (every kind is a key, 0 when none).
    pub by_kind: BTreeMap<String, usize>,
    /// Customers whose risk tier newly reached critical (new customers included).
    pub customers_newly_critical: usize,
    /// Customers whose risk tier newly reached high.
    pub customers_newly_high: usize,
    /// Customers seen for the first time.
    pub new_customers: usize,
    /// Customers with a first or harder collections action in some currency.
    pub customers_action_escalated: usize,
    /// Customers newly over budget.
    pub customers_newly_over_budget: usize,
    /// Customers newly forecast over budget.
    pub customers_newly_forecast_over_budget: usize,
    /// Customers newly past due.
    pub customers_newly_past_due: usize,
    /// Customers with an alert (reason code) not active in the previous run.
    pub customers_with_new_anomalies: usize,
    /// Customers whose exposure grew past `changes.exposure_growth_share`.
    pub customers_exposure_grown: usize,
    /// What could not be compared with the previous run, in words.
    pub not_compared: Vec<String>,
}

/// Receivables of one currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReceivablesTotals {
    /// Sum of open invoices' outstanding amounts.
    pub total_outstanding: String,
    /// The past-due part of total_outstanding (every bucket but current).
    pub overdue: String,
    /// Unapplied payments, overpayments and credit notes.
    pub unapplied_credit: String,
    /// total_outstanding - unapplied_credit (negative when customers are in credit).
    pub net_outstanding: String,
    /// Amount per aging bucket, under the aging_customers column names.
    pub buckets: Buckets,
    /// Customers with a row in this currency.
    pub customers: usize,
}

/// Open amounts per aging bucket (days past due), keys as the aging_customers columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Buckets {
    /// Not yet due (days past due <= 0).
    pub bucket_current: String,
    /// 1 to 30 days past due.
    pub bucket_1_30: String,
    /// 31 to 60 days past due.
    pub bucket_31_60: String,
    /// 61 to 90 days past due.
    pub bucket_61_90: String,
    /// 91 to 120 days past due.
    pub bucket_91_120: String,
    /// More than 120 days past due.
    pub bucket_120_plus: String,
}

impl Buckets {
    fn from_units(u: &[i128; 6]) -> Buckets {
        Buckets {
            bucket_current: money_plain(u[0]),
            bucket_1_30: money_plain(u[1]),
            bucket_31_60: money_plain(u[2]),
            bucket_61_90: money_plain(u[3]),
            bucket_91_120: money_plain(u[4]),
            bucket_120_plus: money_plain(u[5]),
        }
    }

    /// The amounts in `BUCKETS` order, current first.
    pub fn in_order(&self) -> [&String; 6] {
        [
            &self.bucket_current,
            &self.bucket_1_30,
            &self.bucket_31_60,
            &self.bucket_61_90,
            &self.bucket_91_120,
            &self.bucket_120_plus,
        ]
    }
}

/// Receivables converted into the reporting currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvertedTotals {
    /// The reporting currency.
    pub currency: String,
    /// Converted total_outstanding; null when some currency has no rate.
    pub total_outstanding: Option<String>,
    /// Converted overdue; null when some currency has no rate.
    pub overdue: Option<String>,
    /// Converted net_outstanding; null when some currency has no rate.
    pub net_outstanding: Option<String>,
    /// Currencies with receivables but no rate on or before the as-of date (sorted).
    pub unconverted_currencies: Vec<String>,
}

/// Anomaly counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AnomalyCounts {
    /// All anomaly rows.
    pub total: usize,
    /// Rows not suppressed by an analyst's disposition.
    pub active: usize,
    /// Rows suppressed by a disposition (kept for the audit trail).
    pub suppressed: usize,
}

#[derive(Default)]
struct Exact {
    total: i128,
    overdue: i128,
    credit: i128,
    net: i128,
    buckets: [i128; 6],
    customers: BTreeSet<String>,
}

fn sum_checked(a: i128, b: i128) -> Result<i128> {
    a.checked_add(b)
        .ok_or_else(|| Error::Internal("report: a money total overflows 128 bits".to_string()))
}

/// Distinct customers whose `column` equals one of `values`.
fn customers_where(
    df: &polars::prelude::DataFrame,
    id: &str,
    column: &str,
    values: &[&str],
) -> Result<usize> {
    let ids = strings(df, id)?;
    let vals = strings(df, column)?;
    Ok(ids
        .iter()
        .zip(vals.iter())
        .filter(|(_, v)| v.as_deref().is_some_and(|v| values.contains(&v)))
        .filter_map(|(i, _)| i.clone())
        .collect::<BTreeSet<_>>()
        .len())
}

/// Rate into the reporting currency per currency, from `data.fx_rates`; the reporting currency
/// itself is always 1, even when the rates table is empty.
pub(crate) fn rates(data: &ReportData) -> Result<BTreeMap<String, f64>> {
    let cur = strings(&data.fx_rates, crate::schema::fx_rates::CURRENCY)?;
    let rate = floats(&data.fx_rates, crate::analysis::fx::RATE)?;
    let mut out: BTreeMap<String, f64> = cur
        .into_iter()
        .zip(rate)
        .filter_map(|(c, r)| Some((c?, r.filter(|r| r.is_finite())?)))
        .collect();
    if let Some(rc) = &data.reporting_currency {
        out.insert(rc.clone(), 1.0);
    }
    Ok(out)
}

/// Converts per-currency unit amounts; None when a currency lacks a rate.
fn convert(amounts: &BTreeMap<String, i128>, rates: &BTreeMap<String, f64>) -> Option<String> {
    let mut total = 0.0f64;
    for (cur, units) in amounts {
        total += *units as f64 * rates.get(cur)?;
    }
    Some(money_plain(total.round() as i128))
}

/// The receivables of aging_customers summed exactly per currency, with the customers with an
/// open balance and those past due.
fn receivables_per_currency(
    a: &polars::prelude::DataFrame,
) -> Result<(BTreeMap<String, Exact>, BTreeSet<String>, BTreeSet<String>)> {
    let ids = strings(a, ag::CUSTOMER_ID)?;
    let curs = strings(a, ag::CURRENCY)?;
    let total = money(a, ag::TOTAL_OUTSTANDING)?;
    let credit = money(a, ag::UNAPPLIED_CREDIT)?;
    let net = money(a, ag::NET_OUTSTANDING)?;
    let buckets: Vec<Vec<Option<i128>>> = BUCKETS
        .iter()
        .map(|(c, _)| money(a, c))
        .collect::<Result<_>>()?;
    let mut per: BTreeMap<String, Exact> = BTreeMap::new();
    let mut open = BTreeSet::new();
    let mut past_due = BTreeSet::new();
    for i in 0..a.height() {
        let cur = curs[i].clone().unwrap_or_default();
        let e = per.entry(cur).or_default();
        let t = total[i].unwrap_or(0);
        e.total = sum_checked(e.total, t)?;
        e.credit = sum_checked(e.credit, credit[i].unwrap_or(0))?;
        e.net = sum_checked(e.net, net[i].unwrap_or(0))?;
        let mut overdue = 0i128;
        for (b, col) in buckets.iter().enumerate() {
            let v = col[i].unwrap_or(0);
            e.buckets[b] = sum_checked(e.buckets[b], v)?;
            if b > 0 {
                overdue = sum_checked(overdue, v)?;
            }
        }
        e.overdue = sum_checked(e.overdue, overdue)?;
        if let Some(id) = &ids[i] {
            e.customers.insert(id.clone());
            if t > 0 {
                open.insert(id.clone());
            }
            if overdue > 0 {
                past_due.insert(id.clone());
            }
        }
    }
    Ok((per, open, past_due))
}

/// The exposure of risk_scores summed exactly per currency.
fn exposure_per_currency(r: &polars::prelude::DataFrame) -> Result<BTreeMap<String, i128>> {
    let mut exposure: BTreeMap<String, i128> = BTreeMap::new();
    let ecur = strings(r, rs::CURRENCY)?;
    for (cur, v) in ecur.into_iter().zip(floats(r, rs::EXPOSURE)?) {
        let units = v.and_then(float_to_units).unwrap_or(0);
        let e = exposure.entry(cur.unwrap_or_default()).or_insert(0);
        *e = sum_checked(*e, units)?;
    }
    Ok(exposure)
}

/// Headline figures of the run.
pub fn summarize(data: &ReportData, _cfg: &ReportConfig) -> Result<Summary> {
    // Receivables, exactly, per currency.
    let (per, open, past_due) = receivables_per_currency(&data.aging_customers)?;
    let receivables: BTreeMap<String, ReceivablesTotals> = per
        .iter()
        .map(|(cur, e)| {
            (
                cur.clone(),
                ReceivablesTotals {
                    total_outstanding: money_plain(e.total),
                    overdue: money_plain(e.overdue),
                    unapplied_credit: money_plain(e.credit),
                    net_outstanding: money_plain(e.net),
                    buckets: Buckets::from_units(&e.buckets),
                    customers: e.customers.len(),
                },
            )
        })
        .collect();

    let rates = rates(data)?;
    let receivables_converted = data.reporting_currency.as_ref().map(|rc| {
        let pick = |f: fn(&Exact) -> i128| -> BTreeMap<String, i128> {
            per.iter().map(|(c, e)| (c.clone(), f(e))).collect()
        };
        ConvertedTotals {
            currency: rc.clone(),
            total_outstanding: convert(&pick(|e| e.total), &rates),
            overdue: convert(&pick(|e| e.overdue), &rates),
            net_outstanding: convert(&pick(|e| e.net), &rates),
            unconverted_currencies: per
                .keys()
                .filter(|c| !rates.contains_key(*c))
                .cloned()
                .collect(),
        }
    });

    // Collections ladder.
    let c = &data.collections_actions;
    let mut collections_actions = BTreeMap::new();
    for action in ACTIONS {
        collections_actions.insert(
            action.to_string(),
            customers_where(c, ca::CUSTOMER_ID, ca::ACTION, &[action])?,
        );
    }
    let customers_to_suspend = customers_where(c, ca::CUSTOMER_ID, ca::ACTION, &SUSPEND_ACTIONS)?;

    // Budgets.
    let b = &data.budget_status;
    let customers_over_budget = customers_where(b, bs::CUSTOMER_ID, bs::STATUS, &["over"])?;
    let customers_forecast_over_budget =
        customers_where(b, bs::CUSTOMER_ID, bs::STATUS, &["forecast_over"])?;
    let customers_budget_warning = customers_where(b, bs::CUSTOMER_ID, bs::STATUS, &["warning"])?;

    // Risk.
    let r = &data.risk_scores;
    let mut risk_tiers = BTreeMap::new();
    for tier in TIERS {
        risk_tiers.insert(
            tier.to_string(),
            customers_where(r, rs::CUSTOMER_ID, rs::TIER, &[tier])?,
        );
    }
    let exposure = exposure_per_currency(r)?;
    let total_exposure_converted = data
        .reporting_currency
        .as_ref()
        .and_then(|_| convert(&exposure, &rates));

    // Anomalies.
    let suppressed = bools(&data.anomalies, an::SUPPRESSED)?;
    let n_suppressed = suppressed.iter().filter(|s| **s == Some(true)).count();
    let anomalies = AnomalyCounts {
        total: data.anomalies.height(),
        active: data.anomalies.height() - n_suppressed,
        suppressed: n_suppressed,
    };

    let since_last_run = match &data.since {
        Some(since) => Some(since_summary(data, since)?),
        None => None,
    };

    Ok(Summary {
        summary_version: SUMMARY_VERSION,
        as_of: data.as_of.format("%Y-%m-%d").to_string(),
        generated_by: data.generated_by.clone(),
        reporting_currency: data.reporting_currency.clone(),
        since_last_run,
        receivables,
        receivables_converted,
        customers_with_open_balance: open.len(),
        customers_past_due: past_due.len(),
        collections_actions,
        customers_to_suspend,
        customers_over_budget,
        customers_forecast_over_budget,
        customers_budget_warning,
        customers_high_risk: risk_tiers.get("high").copied().unwrap_or(0),
        customers_critical_risk: risk_tiers.get("critical").copied().unwrap_or(0),
        risk_tiers,
        total_exposure: exposure
            .into_iter()
            .map(|(c, u)| (c, money_plain(u)))
            .collect(),
        total_exposure_converted,
        anomalies,
        rejected_rows: data.rejected_rows.height() as u64,
        input_rows_read: data.input_summary.iter().map(|r| r.rows_read).sum(),
        inputs: data.input_summary.clone(),
    })
}

fn since_summary(data: &ReportData, since: &super::SinceLastRun) -> Result<SinceSummary> {
    use crate::analysis::changes::{BUDGET_STATUS_CHANGED, KINDS};
    use crate::schema::changes as ch;
    let c = &data.changes;
    let kinds = strings(c, ch::KIND)?;
    let mut by_kind: BTreeMap<String, usize> = KINDS
        .iter()
        .chain([&BUDGET_STATUS_CHANGED])
        .map(|k| (k.to_string(), 0))
        .collect();
    for k in kinds.into_iter().flatten() {
        *by_kind.entry(k).or_insert(0) += 1;
    }
    let n = |kind: &str| customers_where(c, ch::CUSTOMER_ID, ch::KIND, &[kind]);
    Ok(SinceSummary {
        previous_as_of: since.previous_as_of.format("%Y-%m-%d").to_string(),
        changes: c.height(),
        by_kind,
        customers_newly_critical: n("risk_newly_critical")?,
        customers_newly_high: n("risk_newly_high")?,
        new_customers: n("new_customer")?,
        customers_action_escalated: n("action_escalated")?,
        customers_newly_over_budget: n("budget_newly_over")?,
        customers_newly_forecast_over_budget: n("budget_newly_forecast_over")?,
        customers_newly_past_due: n("newly_past_due")?,
        customers_with_new_anomalies: customers_where(
            c,
            ch::CUSTOMER_ID,
            ch::KIND,
            &["new_anomaly", "anomaly_reactivated"],
        )?,
        customers_exposure_grown: n("exposure_grown")?,
        not_compared: since.not_compared.clone(),
    })
}

/// summary.json text: pretty-printed, keys in declaration order, a trailing newline.
pub fn render_summary_json(summary: &Summary) -> Result<String> {
    let mut s = serde_json::to_string_pretty(summary)
        .map_err(|e| Error::internal("serialising summary.json", e))?;
    s.push('\n');
    Ok(s)
}
