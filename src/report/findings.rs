//! The report's findings as plain Rust rows, read once from the collected frames and ordered the
//! way a person reads them (hardest action, highest score, most urgent status first). Both the
//! HTML and the Markdown renderers show these rows, so the two reports cannot disagree.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::format::{bools, dates, days_from_date, floats, ints, money, strings};
use super::{ReportData, ACTIONS, BUCKETS, TIERS};
use crate::error::Result;
use crate::schema::{
    aging_customers as ag, anomalies as an, budget_alerts as ba, budget_status as bs,
    collections_actions as ca, customers as cu, reconciliation as rc, rejected_rows as rj,
    risk_scores as rs, usage_daily as ud,
};

/// Customer id to name, from the customers table, then risk_scores, then collections_actions.
pub fn names(data: &ReportData) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (df, id, name) in [
        (
            &data.collections_actions,
            ca::CUSTOMER_ID,
            ca::CUSTOMER_NAME,
        ),
        (&data.risk_scores, rs::CUSTOMER_ID, rs::CUSTOMER_NAME),
        (&data.customers, cu::CUSTOMER_ID, cu::CUSTOMER_NAME),
    ] {
        // Later sources win: the customer master is the reference.
        for (i, n) in strings(df, id)?.into_iter().zip(strings(df, name)?) {
            if let (Some(i), Some(n)) = (i, n) {
                if !n.trim().is_empty() {
                    out.insert(i, n);
                }
            }
        }
    }
    Ok(out)
}

fn name_of(names: &BTreeMap<String, String>, id: &str, own: Option<String>) -> String {
    own.filter(|n| !n.trim().is_empty())
        .or_else(|| names.get(id).cloned())
        .unwrap_or_else(|| id.to_string())
}

/// `new` of an action list row (SPEC 4.6): all false when the frame has no such column.
fn new_marks(df: &polars::prelude::DataFrame) -> Result<Vec<bool>> {
    if df.column(crate::schema::carried::NEW).is_err() {
        return Ok(vec![false; df.height()]);
    }
    Ok(bools(df, crate::schema::carried::NEW)?
        .into_iter()
        .map(|b| b == Some(true))
        .collect())
}

/// `first_seen` of a frame: all None when it has no such column.
fn first_seen_dates(df: &polars::prelude::DataFrame) -> Result<Vec<Option<NaiveDate>>> {
    if df.column(crate::schema::carried::FIRST_SEEN).is_err() {
        return Ok(vec![None; df.height()]);
    }
    dates(df, crate::schema::carried::FIRST_SEEN)
}

/// Position in an ordered list of codes; unknown codes after all known ones.
pub fn rank(order: &[&str], v: &str) -> usize {
    order.iter().position(|o| *o == v).unwrap_or(order.len())
}

/// Step of a collections action on the ladder; unknown actions below every known one.
pub fn hardness(action: &str) -> i64 {
    ACTIONS
        .iter()
        .position(|a| *a == action)
        .map_or(-1, |p| p as i64)
}

#[derive(Debug, Clone)]
pub struct CollectionRow {
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    pub past_due: i128,
    pub oldest_days_past_due: Option<i64>,
    pub action: String,
    pub reason: String,
    /// A first or harder action since the previous run.
    pub new: bool,
}

/// The collections ladder: hardest action first, then largest past due.
pub fn collections(
    data: &ReportData,
    names: &BTreeMap<String, String>,
) -> Result<Vec<CollectionRow>> {
    let df = &data.collections_actions;
    let ids = strings(df, ca::CUSTOMER_ID)?;
    let own = strings(df, ca::CUSTOMER_NAME)?;
    let cur = strings(df, ca::CURRENCY)?;
    let due = money(df, ca::PAST_DUE)?;
    let oldest = ints(df, ca::OLDEST_DAYS_PAST_DUE)?;
    let action = strings(df, ca::ACTION)?;
    let reason = strings(df, ca::REASON)?;
    let new = new_marks(df)?;
    let mut rows: Vec<CollectionRow> = (0..df.height())
        .map(|i| {
            let id = ids[i].clone().unwrap_or_default();
            CollectionRow {
                name: name_of(names, &id, own[i].clone()),
                customer_id: id,
                currency: cur[i].clone().unwrap_or_default(),
                past_due: due[i].unwrap_or(0),
                oldest_days_past_due: oldest[i],
                action: action[i].clone().unwrap_or_default(),
                reason: reason[i].clone().unwrap_or_default(),
                new: new[i],
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        hardness(&b.action)
            .cmp(&hardness(&a.action))
            .then(b.past_due.cmp(&a.past_due))
            .then(a.customer_id.cmp(&b.customer_id))
            .then(a.currency.cmp(&b.currency))
    });
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct AgingRow {
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    pub buckets: [i128; 6],
    pub total: i128,
    pub credit: i128,
    pub net: i128,
    pub oldest_days_past_due: Option<i64>,
    pub action: Option<String>,
}

impl AgingRow {
    pub fn past_due(&self) -> i128 {
        self.buckets[1..].iter().sum()
    }
}

/// Receivables per customer and currency, largest past due first.
pub fn aging(data: &ReportData, names: &BTreeMap<String, String>) -> Result<Vec<AgingRow>> {
    let df = &data.aging_customers;
    let ids = strings(df, ag::CUSTOMER_ID)?;
    let cur = strings(df, ag::CURRENCY)?;
    let buckets: Vec<Vec<Option<i128>>> = BUCKETS
        .iter()
        .map(|(c, _)| money(df, c))
        .collect::<Result<_>>()?;
    let total = money(df, ag::TOTAL_OUTSTANDING)?;
    let credit = money(df, ag::UNAPPLIED_CREDIT)?;
    let net = money(df, ag::NET_OUTSTANDING)?;
    let oldest = ints(df, ag::OLDEST_DAYS_PAST_DUE)?;
    let action = strings(df, ag::ACTION)?;
    let mut rows: Vec<AgingRow> = (0..df.height())
        .map(|i| {
            let id = ids[i].clone().unwrap_or_default();
            let mut b = [0i128; 6];
            for (k, col) in buckets.iter().enumerate() {
                b[k] = col[i].unwrap_or(0);
            }
            AgingRow {
                name: name_of(names, &id, None),
                customer_id: id,
                currency: cur[i].clone().unwrap_or_default(),
                buckets: b,
                total: total[i].unwrap_or(0),
                credit: credit[i].unwrap_or(0),
                net: net[i].unwrap_or(0),
                oldest_days_past_due: oldest[i],
                action: action[i].clone(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.past_due()
            .cmp(&a.past_due())
            .then(b.total.cmp(&a.total))
            .then(a.customer_id.cmp(&b.customer_id))
            .then(a.currency.cmp(&b.currency))
    });
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct BudgetRow {
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    pub status: String,
    pub budget: Option<f64>,
    pub mtd_spend: Option<f64>,
    pub utilization: Option<f64>,
    pub forecast: Option<f64>,
    pub forecast_crossed_on: Option<NaiveDate>,
    pub action: String,
    pub why: String,
    /// From budget_status (same customer and currency).
    pub month: Option<String>,
    pub budget_crossed_on: Option<NaiveDate>,
    /// The status was reached since the previous run.
    pub new: bool,
}

/// Budget alerts (from `data.budget_alerts`, with month and crossing date from budget_status):
/// most urgent status, then highest utilisation.
pub fn budget_alerts(
    data: &ReportData,
    names: &BTreeMap<String, String>,
) -> Result<Vec<BudgetRow>> {
    let st = &data.budget_status;
    let mut status_facts: BTreeMap<(String, String), (Option<String>, Option<NaiveDate>)> =
        BTreeMap::new();
    let (sid, scur) = (strings(st, bs::CUSTOMER_ID)?, strings(st, bs::CURRENCY)?);
    let (smonth, scrossed) = (strings(st, bs::MONTH)?, dates(st, bs::BUDGET_CROSSED_ON)?);
    for i in 0..st.height() {
        let key = (
            sid[i].clone().unwrap_or_default(),
            scur[i].clone().unwrap_or_default(),
        );
        status_facts.insert(key, (smonth[i].clone(), scrossed[i]));
    }
    let df = &data.budget_alerts;
    let ids = strings(df, ba::CUSTOMER_ID)?;
    let own = strings(df, ba::CUSTOMER_NAME)?;
    let cur = strings(df, ba::CURRENCY)?;
    let status = strings(df, ba::STATUS)?;
    let budget = floats(df, ba::BUDGET)?;
    let mtd = floats(df, ba::MTD_SPEND)?;
    let util = floats(df, ba::UTILIZATION)?;
    let forecast = floats(df, ba::FORECAST)?;
    let fcross = dates(df, ba::FORECAST_CROSSED_ON)?;
    let action = strings(df, ba::ACTION)?;
    let why = strings(df, ba::WHY)?;
    let new = new_marks(df)?;
    let mut rows: Vec<BudgetRow> = (0..df.height())
        .map(|i| {
            let id = ids[i].clone().unwrap_or_default();
            let currency = cur[i].clone().unwrap_or_default();
            let (month, crossed) = status_facts
                .get(&(id.clone(), currency.clone()))
                .cloned()
                .unwrap_or((None, None));
            BudgetRow {
                name: name_of(names, &id, own[i].clone()),
                customer_id: id,
                currency,
                status: status[i].clone().unwrap_or_default(),
                budget: budget[i],
                mtd_spend: mtd[i],
                utilization: util[i],
                forecast: forecast[i],
                forecast_crossed_on: fcross[i],
                action: action[i].clone().unwrap_or_default(),
                why: why[i].clone().unwrap_or_default(),
                month,
                budget_crossed_on: crossed,
                new: new[i],
            }
        })
        .collect();
    let order = super::BUDGET_ALERT_STATUSES;
    rows.sort_by(|a, b| {
        rank(&order, &a.status)
            .cmp(&rank(&order, &b.status))
            .then(
                b.utilization
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&a.utilization.unwrap_or(f64::NEG_INFINITY)),
            )
            .then(a.customer_id.cmp(&b.customer_id))
            .then(a.currency.cmp(&b.currency))
    });
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct RiskRow {
    pub customer_id: String,
    pub name: String,
    pub risk_score: Option<f64>,
    pub tier: String,
    pub exposure: Option<f64>,
    pub currency: String,
    pub top_reasons: String,
    /// Contribution per signal family, in `reasons::FAMILIES` order.
    pub families: Vec<Option<f64>>,
    /// The tier rose (or the customer is new) since the previous run (risk_review only).
    pub new: bool,
    /// The customer's oldest active alert was first seen then (risk_review only).
    pub first_seen: Option<NaiveDate>,
}

/// Risk rows of a risk_scores-shaped frame (risk_scores or risk_review), highest score first.
pub fn risk(
    df: &polars::prelude::DataFrame,
    names: &BTreeMap<String, String>,
) -> Result<Vec<RiskRow>> {
    let ids = strings(df, rs::CUSTOMER_ID)?;
    let own = strings(df, rs::CUSTOMER_NAME)?;
    let score = floats(df, rs::RISK_SCORE)?;
    let tier = strings(df, rs::TIER)?;
    let exposure = floats(df, rs::EXPOSURE)?;
    let cur = strings(df, rs::CURRENCY)?;
    let reasons = strings(df, rs::TOP_REASONS)?;
    let fams: Vec<Vec<Option<f64>>> = crate::analysis::reasons::FAMILIES
        .iter()
        .map(|f| {
            if df.column(f).is_ok() {
                floats(df, f)
            } else {
                Ok(vec![None; df.height()])
            }
        })
        .collect::<Result<_>>()?;
    let new = new_marks(df)?;
    let first_seen = first_seen_dates(df)?;
    let mut rows: Vec<RiskRow> = (0..df.height())
        .map(|i| {
            let id = ids[i].clone().unwrap_or_default();
            RiskRow {
                name: name_of(names, &id, own[i].clone()),
                customer_id: id,
                risk_score: score[i],
                tier: tier[i].clone().unwrap_or_default(),
                exposure: exposure[i],
                currency: cur[i].clone().unwrap_or_default(),
                top_reasons: reasons[i].clone().unwrap_or_default(),
                families: fams.iter().map(|f| f[i]).collect(),
                new: new[i],
                first_seen: first_seen[i],
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.risk_score
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.risk_score.unwrap_or(f64::NEG_INFINITY))
            .then(rank(&TIERS, &b.tier).cmp(&rank(&TIERS, &a.tier)))
            .then(a.customer_id.cmp(&b.customer_id))
    });
    Ok(rows)
}

#[derive(Debug, Clone)]
pub struct AnomalyRow {
    pub customer_id: String,
    pub date: Option<NaiveDate>,
    pub family: String,
    pub signal: String,
    pub actual: Option<f64>,
    pub score: Option<f64>,
    pub reason: String,
    pub suppressed: bool,
}

/// Anomalies, grouped by customer, highest score first within each.
pub fn anomalies(data: &ReportData) -> Result<BTreeMap<String, Vec<AnomalyRow>>> {
    let df = &data.anomalies;
    let ids = strings(df, an::CUSTOMER_ID)?;
    let dates_ = dates(df, an::DATE)?;
    let fam = strings(df, an::FAMILY)?;
    let sig = strings(df, an::SIGNAL)?;
    let act = floats(df, an::ACTUAL)?;
    let score = floats(df, an::SCORE)?;
    let reason = strings(df, an::REASON)?;
    let sup = bools(df, an::SUPPRESSED)?;
    let mut out: BTreeMap<String, Vec<AnomalyRow>> = BTreeMap::new();
    for i in 0..df.height() {
        let id = ids[i].clone().unwrap_or_default();
        out.entry(id.clone()).or_default().push(AnomalyRow {
            customer_id: id,
            date: dates_[i],
            family: fam[i].clone().unwrap_or_default(),
            signal: sig[i].clone().unwrap_or_default(),
            actual: act[i],
            score: score[i],
            reason: reason[i].clone().unwrap_or_default(),
            suppressed: sup[i].unwrap_or(false),
        });
    }
    for rows in out.values_mut() {
        rows.sort_by(|a, b| {
            b.score
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.score.unwrap_or(f64::NEG_INFINITY))
                .then(a.date.cmp(&b.date))
                .then(a.signal.cmp(&b.signal))
        });
    }
    Ok(out)
}

/// A customer's daily series: (days since epoch, value).
pub type DailySeries = Vec<(i64, f64)>;

/// Daily usage cost per customer (summed over subscriptions and meters), zero-filled over every
/// day from the first usage day to the as-of date, for the given customers.
pub fn usage_series(
    data: &ReportData,
    customers: &[String],
) -> Result<BTreeMap<String, DailySeries>> {
    let df = &data.usage_daily;
    let ids = strings(df, ud::CUSTOMER_ID)?;
    let day = dates(df, ud::USAGE_DATE)?;
    let cost = floats(df, ud::COST)?;
    let last = days_from_date(data.as_of);
    let mut sums: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    let mut first = i64::MAX;
    for i in 0..df.height() {
        let (Some(id), Some(d)) = (&ids[i], day[i]) else {
            continue;
        };
        let d = days_from_date(d);
        if d > last || !customers.contains(id) {
            continue;
        }
        first = first.min(d);
        *sums.entry(id.clone()).or_default().entry(d).or_insert(0.0) += cost[i].unwrap_or(0.0);
    }
    Ok(customers
        .iter()
        .map(|id| {
            let by_day = sums.get(id);
            let series = if first == i64::MAX {
                Vec::new()
            } else {
                (first..=last)
                    .map(|d| (d, by_day.and_then(|m| m.get(&d)).copied().unwrap_or(0.0)))
                    .collect()
            };
            (id.clone(), series)
        })
        .collect())
}

/// The chart's baseline: for each day, the median of the `window` days before it (not the day
/// itself, so a spike stands out against it); None until a week of history exists. This is a
/// picture of "normal", simpler than the anomaly detector's weekday-aware baseline.
pub fn trailing_median(series: &[(i64, f64)], window: usize) -> Vec<(i64, Option<f64>)> {
    series
        .iter()
        .enumerate()
        .map(|(i, (d, _))| {
            let from = i.saturating_sub(window);
            let mut past: Vec<f64> = series[from..i].iter().map(|(_, v)| *v).collect();
            if past.len() < 7 {
                return (*d, None);
            }
            past.sort_by(f64::total_cmp);
            let n = past.len();
            let m = if n % 2 == 1 {
                past[n / 2]
            } else {
                (past[n / 2 - 1] + past[n / 2]) / 2.0
            };
            (*d, Some(m))
        })
        .collect()
}

/// A burn-up series: (days since epoch, cumulative spend, budget) in date order.
pub type BurnUp = Vec<(i64, f64, Option<f64>)>;

/// Budget burn-up series of the given (customer, currency) pairs, in one pass over budget_daily.
pub fn burn_ups(
    data: &ReportData,
    wanted: &[(String, String)],
) -> Result<BTreeMap<(String, String), BurnUp>> {
    use crate::schema::budget_daily as bd;
    let df = &data.budget_daily;
    let ids = strings(df, bd::CUSTOMER_ID)?;
    let cur = strings(df, bd::CURRENCY)?;
    let day = dates(df, bd::USAGE_DATE)?;
    let cum = floats(df, bd::CUMULATIVE_SPEND)?;
    let budget = floats(df, bd::BUDGET)?;
    let mut out: BTreeMap<(String, String), BurnUp> = BTreeMap::new();
    for i in 0..df.height() {
        let (Some(id), Some(c), Some(d)) = (&ids[i], &cur[i], day[i]) else {
            continue;
        };
        let key = (id.clone(), c.clone());
        if wanted.contains(&key) {
            out.entry(key)
                .or_default()
                .push((days_from_date(d), cum[i].unwrap_or(0.0), budget[i]));
        }
    }
    for series in out.values_mut() {
        series.sort_by_key(|r| r.0);
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct ReconRow {
    pub customer_id: String,
    pub name: String,
    pub service_month: String,
    pub currency: String,
    pub cost: Option<f64>,
    pub invoiced: Option<f64>,
    pub margin: Option<f64>,
    pub status: String,
}

/// Reconciliation statuses in the order the report lists exceptions: the real ones first.
/// `in_progress` (the as-of month, not invoiced yet by design) is no exception and not listed.
pub const RECON_EXCEPTIONS: [&str; 3] = ["negative_margin", "unbilled", "invoice_without_cost"];

/// How the reconciliation rows count (SPEC 4.3, for "N of M customer-months reconcile").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconCounts {
    /// Rows per status, every row.
    pub by_status: BTreeMap<String, usize>,
    /// Rows that can reconcile: neither in progress nor in a month before the usage history.
    pub comparable: usize,
    /// Of those, rows with status ok.
    pub ok: usize,
    /// Rows in months before the first usage month (invoices of months without usage data).
    pub before_history: usize,
    /// The first month of the usage history (YYYY-MM), when there is usage.
    pub history_starts: Option<String>,
}

/// Reconciliation exceptions, real ones first (negative margin, cost without invoice, then
/// invoices without cost), lowest margin first within a status; in-progress rows and invoices
/// without cost in months before the usage history starts (whose cost billrisk cannot know) are
/// not listed; and the counts, which leave out both.
pub fn reconciliation(
    data: &ReportData,
    names: &BTreeMap<String, String>,
) -> Result<(Vec<ReconRow>, ReconCounts)> {
    let df = &data.reconciliation;
    let ids = strings(df, rc::CUSTOMER_ID)?;
    let month = strings(df, rc::SERVICE_MONTH)?;
    let cur = strings(df, rc::CURRENCY)?;
    let cost = floats(df, rc::COST)?;
    let inv = floats(df, rc::INVOICED)?;
    let margin = floats(df, rc::MARGIN)?;
    let status = strings(df, rc::STATUS)?;
    // The usage history starts with the first day of usage_daily.
    let history_starts = data.usage_starts.map(|d| d.format("%Y-%m").to_string());
    let mut counts = ReconCounts {
        history_starts: history_starts.clone(),
        ..ReconCounts::default()
    };
    let mut rows = Vec::new();
    for i in 0..df.height() {
        let st = status[i].clone().unwrap_or_default();
        *counts.by_status.entry(st.clone()).or_insert(0) += 1;
        let before_history = match (&history_starts, &month[i]) {
            (Some(h), Some(m)) => m < h,
            _ => false,
        };
        if before_history {
            counts.before_history += 1;
        } else if st != "in_progress" {
            counts.comparable += 1;
            counts.ok += usize::from(st == "ok");
        }
        // Listed: real exceptions. An invoice without cost before the usage history starts is
        // the history's edge, not an exception; billed line items there can still show one.
        if st == "ok" || st == "in_progress" || (before_history && st == "invoice_without_cost") {
            continue;
        }
        let id = ids[i].clone().unwrap_or_default();
        rows.push(ReconRow {
            name: name_of(names, &id, None),
            customer_id: id,
            service_month: month[i].clone().unwrap_or_default(),
            currency: cur[i].clone().unwrap_or_default(),
            cost: cost[i],
            invoiced: inv[i],
            margin: margin[i],
            status: st,
        });
    }
    rows.sort_by(|a, b| {
        rank(&RECON_EXCEPTIONS, &a.status)
            .cmp(&rank(&RECON_EXCEPTIONS, &b.status))
            .then(a.margin.unwrap_or(0.0).total_cmp(&b.margin.unwrap_or(0.0)))
            .then(a.customer_id.cmp(&b.customer_id))
            .then(a.service_month.cmp(&b.service_month))
    });
    Ok((rows, counts))
}

/// One row of tables/changes.parquet, for "Since the last run".
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub customer_id: String,
    pub name: String,
    pub currency: String,
    pub kind: String,
    pub signal: String,
    pub before: String,
    pub after: String,
    pub reason: String,
    pub first_seen: Option<NaiveDate>,
}

/// The changes since the previous run, in the table's order (most urgent first).
pub fn changes(data: &ReportData, names: &BTreeMap<String, String>) -> Result<Vec<ChangeRow>> {
    use crate::schema::changes as ch;
    let df = &data.changes;
    let get = |c: &str| strings(df, c);
    let (ids, own) = (get(ch::CUSTOMER_ID)?, get(ch::CUSTOMER_NAME)?);
    let (cur, kind, signal) = (get(ch::CURRENCY)?, get(ch::KIND)?, get(ch::SIGNAL)?);
    let (before, after, reason) = (get(ch::BEFORE)?, get(ch::AFTER)?, get(ch::REASON)?);
    let first = dates(df, ch::FIRST_SEEN)?;
    Ok((0..df.height())
        .map(|i| {
            let id = ids[i].clone().unwrap_or_default();
            ChangeRow {
                name: name_of(names, &id, own[i].clone()),
                customer_id: id,
                currency: cur[i].clone().unwrap_or_default(),
                kind: kind[i].clone().unwrap_or_default(),
                signal: signal[i].clone().unwrap_or_default(),
                before: before[i].clone().unwrap_or_default(),
                after: after[i].clone().unwrap_or_default(),
                reason: reason[i].clone().unwrap_or_default(),
                first_seen: first.get(i).copied().flatten(),
            }
        })
        .collect())
}

/// "2 risk_newly_critical, 1 action_escalated": changes per kind, in the table's order.
pub fn change_counts(rows: &[ChangeRow]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for r in rows {
        match out.iter_mut().find(|(k, _)| *k == r.kind) {
            Some((_, n)) => *n += 1,
            None => out.push((r.kind.clone(), 1)),
        }
    }
    out
}

/// The counts of the changes by kind in words, in order of first appearance: "2 newly
/// critical, 1 new anomaly" (unescaped).
pub fn change_counts_text(rows: &[ChangeRow]) -> String {
    change_counts(rows)
        .iter()
        .map(|(k, n)| format!("{n} {}", change_label(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ChangeRow {
    /// The change in words, with its signal when it has one: "new anomaly: new_caller".
    pub fn what(&self) -> String {
        if self.signal.is_empty() {
            change_label(&self.kind).to_string()
        } else {
            format!("{}: {}", change_label(&self.kind), self.signal)
        }
    }
}

/// A change's kind in words, for the reports.
pub fn change_label(kind: &str) -> &str {
    match kind {
        "risk_newly_critical" => "newly critical",
        "risk_newly_high" => "newly high risk",
        "action_escalated" => "collections action escalated",
        "budget_newly_over" => "newly over budget",
        "budget_newly_forecast_over" => "newly forecast over budget",
        "new_anomaly" => "new anomaly",
        "anomaly_reactivated" => "anomaly back (disposition expired)",
        "newly_past_due" => "newly past due",
        "exposure_grown" => "exposure grown",
        "new_customer" => "new customer",
        "tier_up" => "risk tier up",
        "budget_newly_warning" => "newly at budget warning",
        "anomaly_suppressed" => "anomaly suppressed (disposition)",
        "tier_down" => "risk tier down",
        "action_eased" => "collections action eased",
        "action_cleared" => "collections action cleared",
        "budget_cleared" => "budget alert cleared",
        "budget_status_changed" => "budget status changed",
        "anomaly_ended" => "anomaly ended",
        other => other,
    }
}

#[derive(Debug, Clone)]
pub struct RejectedExample {
    pub source: String,
    pub file: String,
    pub line: Option<i64>,
    pub column: String,
    pub reason: String,
    pub raw: String,
}

/// (source, column, reason) of rejected rows, with how many rows share it.
pub type RejectGroup = ((String, String, String), usize);

/// Rejected rows counted per (source, column, reason), most frequent first, cut to `limit`
/// groups (a reason that quotes the bad value makes every row its own group), and the first
/// `limit` rejected rows as examples, in source, file and line order.
pub fn rejected(
    data: &ReportData,
    limit: usize,
) -> Result<(Vec<RejectGroup>, Vec<RejectedExample>)> {
    let df = &data.rejected_rows;
    let src = strings(df, rj::SOURCE)?;
    let file = strings(df, rj::FILE)?;
    let line = ints(df, rj::LINE)?;
    let column = strings(df, rj::COLUMN)?;
    let reason = strings(df, rj::REASON)?;
    let raw = strings(df, rj::RAW)?;
    let mut groups: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut all = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let s = src[i].clone().unwrap_or_default();
        let c = column[i].clone().unwrap_or_default();
        let r = reason[i].clone().unwrap_or_default();
        *groups.entry((s.clone(), c.clone(), r.clone())).or_insert(0) += 1;
        all.push(RejectedExample {
            source: s,
            file: file[i].clone().unwrap_or_default(),
            line: line[i],
            column: c,
            reason: r,
            raw: raw[i].clone().unwrap_or_default(),
        });
    }
    all.sort_by(|a, b| (&a.source, &a.file, a.line).cmp(&(&b.source, &b.file, b.line)));
    all.truncate(limit);
    let mut groups: Vec<_> = groups.into_iter().collect();
    // Stable sort: equal counts stay in key order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.1));
    groups.truncate(limit);
    Ok((groups, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconciliation_lists_real_exceptions_first_and_counts_only_comparable_months() {
        use polars::prelude::*;
        let mut data = ReportData::empty(NaiveDate::from_ymd_opt(2026, 10, 20).unwrap(), "t");
        // Usage history starts on 2026-09-03.
        data.usage_starts = NaiveDate::from_ymd_opt(2026, 9, 3);
        data.reconciliation = df!(
            rc::CUSTOMER_ID => ["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
            rc::SERVICE_MONTH => ["2026-07", "2026-08", "2026-09", "2026-09", "2026-10", "2026-09", "2026-09"],
            rc::CURRENCY => ["USD"; 7],
            rc::COST => [Some(0.0), Some(80.0), Some(10.0), Some(30.0), Some(5.0), Some(50.0), Some(0.0)],
            rc::INVOICED => [Some(100.0), Some(60.0), Some(12.0), None, None, Some(45.0), Some(9.0)],
            rc::MARGIN => [Some(100.0), Some(-20.0), Some(2.0), Some(-30.0), Some(-5.0), Some(-5.0), Some(9.0)],
            rc::STATUS => ["invoice_without_cost", "negative_margin", "ok", "unbilled", "in_progress", "negative_margin", "invoice_without_cost"],
        )
        .unwrap();
        let (rows, counts) = reconciliation(&data, &BTreeMap::new()).unwrap();
        let listed: Vec<&str> = rows.iter().map(|r| r.customer_id.as_str()).collect();
        // Negative margins (lowest first; c2's month precedes the usage history but billed cost
        // shows it), then cost without an invoice, then invoices without cost; not c1 (an invoice
        // before the history) nor c5 (in progress).
        assert_eq!(listed, ["c2", "c6", "c4", "c7"]);
        // Comparable: c3, c4, c6, c7 (not c1, c2 before the history, nor c5 in progress).
        assert_eq!(
            (counts.ok, counts.comparable, counts.before_history),
            (1, 4, 2)
        );
        assert_eq!(counts.history_starts.as_deref(), Some("2026-09"));
        assert_eq!(
            super::super::markdown::recon_count_text(&counts),
            "1 of 4 customer-months reconcile. 1 of the as-of month are in progress (not invoiced yet by design) and not counted. 2 in months before the usage history starts (2026-09) are not counted: their cost is not in the data."
        );
    }

    #[test]
    fn trailing_median_excludes_the_day_itself() {
        // Days 0..9 at 10, day 10 at 100: its baseline is the median of the ten 10s before it.
        let mut s: Vec<(i64, f64)> = (0..10).map(|d| (d, 10.0)).collect();
        s.push((10, 100.0));
        let m = trailing_median(&s, 28);
        assert_eq!(m[6].1, None); // six days of history only
        assert_eq!(m[7].1, Some(10.0));
        assert_eq!(m[10].1, Some(10.0));
    }

    #[test]
    fn usage_series_is_zero_filled_and_summed() {
        let data = super::super::example::tiny().unwrap();
        let s = usage_series(&data, &["c1".to_string(), "c4".to_string()]).unwrap();
        // 2026-09-22 ..= 2026-10-20 is 29 days.
        assert_eq!(s["c1"].len(), 29);
        // c1 on 2026-10-14: 40 + 460 = 500.
        let oct14 = days_from_date(NaiveDate::from_ymd_opt(2026, 10, 14).unwrap());
        assert_eq!(s["c1"].iter().find(|(d, _)| *d == oct14).unwrap().1, 500.0);
        // c4 has no usage after the 10th: zero-filled.
        assert_eq!(s["c4"].last().unwrap().1, 0.0);
    }

    #[test]
    fn collections_hardest_action_first() {
        let data = super::super::example::tiny().unwrap();
        let names = names(&data).unwrap();
        let rows = collections(&data, &names).unwrap();
        let actions: Vec<_> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["suspend", "final_notice", "reminder"]);
        assert_eq!(rows[0].past_due, 20_007_500);
    }
}
