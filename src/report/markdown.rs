//! report.md: the report's findings as text, fit for an e-mail or a ticket: the headline list,
//! then tables of the top collections actions, budget alerts and the risk review with reasons,
//! reconciliation exceptions and data quality. Same rows as the HTML report (`findings`).
//! Every cell of input text goes through `escape_md`.

use std::fmt::Write;

use super::findings::{self, RiskRow};
use super::format::{escape_md, money_text, number_text};
use super::summary::Summary;
use super::ReportData;
use crate::config::ReportConfig;
use crate::error::Result;

fn customer(name: &str, id: &str) -> String {
    if name == id {
        escape_md(id)
    } else {
        format!("{} ({})", escape_md(name), escape_md(id))
    }
}

fn opt_num(v: Option<f64>, decimals: usize) -> String {
    v.map(|v| number_text(v, decimals)).unwrap_or_default()
}

/// Per-currency money list: "2,870.75 USD; 750.10 EUR".
pub(crate) fn per_currency<'a>(items: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let parts: Vec<String> = items
        .map(|(cur, amount)| format!("{} {cur}", plain_to_text(amount)))
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join("; ")
    }
}

/// "1234.56" (summary form) to "1,234.56".
pub(crate) fn plain_to_text(plain: &str) -> String {
    let negative = plain.starts_with('-');
    let body = plain.trim_start_matches('-');
    let (int, frac) = body.split_once('.').unwrap_or((body, "00"));
    let int = int
        .parse::<i128>()
        .map(super::format::thousands)
        .unwrap_or_else(|_| int.to_string());
    format!("{}{int}.{frac}", if negative { "-" } else { "" })
}

/// The headline list shared by the Markdown report (and mirrored by the HTML cards).
pub(crate) fn headlines(summary: &Summary) -> Vec<(String, String)> {
    let conv = |v: &Option<String>| -> String {
        match (&summary.reporting_currency, v) {
            (Some(rc), Some(v))
                if summary.receivables.len() > 1 || !summary.receivables.contains_key(rc) =>
            {
                format!(" (≈ {} {rc} in total)", plain_to_text(v))
            }
            _ => String::new(),
        }
    };
    let rc = summary.receivables_converted.as_ref();
    [
        (
            "Total outstanding".to_string(),
            format!(
                "{}{}",
                per_currency(
                    summary
                        .receivables
                        .iter()
                        .map(|(c, r)| (c, &r.total_outstanding))
                ),
                conv(&rc.and_then(|r| r.total_outstanding.clone()))
            ),
        ),
        (
            "Overdue (past due)".to_string(),
            format!(
                "{}{}",
                per_currency(summary.receivables.iter().map(|(c, r)| (c, &r.overdue))),
                conv(&rc.and_then(|r| r.overdue.clone()))
            ),
        ),
        (
            "Net outstanding (after credit)".to_string(),
            per_currency(
                summary
                    .receivables
                    .iter()
                    .map(|(c, r)| (c, &r.net_outstanding)),
            ),
        ),
        (
            "Customers to suspend".to_string(),
            format!(
                "{} (suspend or write-off review)",
                summary.customers_to_suspend
            ),
        ),
        (
            "Budgets".to_string(),
            format!(
                "{} over budget, {} forecast over budget, {} at warning",
                summary.customers_over_budget,
                summary.customers_forecast_over_budget,
                summary.customers_budget_warning
            ),
        ),
        (
            "Risk".to_string(),
            format!(
                "{} critical, {} high",
                summary.customers_critical_risk, summary.customers_high_risk
            ),
        ),
        (
            "Total exposure".to_string(),
            format!(
                "{}{}",
                per_currency(summary.total_exposure.iter()),
                conv(&summary.total_exposure_converted)
            ),
        ),
    ]
    .into_iter()
    .chain(facts(summary))
    .collect()
}

/// The headline facts that are not figures of money or customers (anomalies, rejected rows).
pub(crate) fn facts(summary: &Summary) -> Vec<(String, String)> {
    let a = &summary.anomalies;
    vec![
        (
            "Anomalies".to_string(),
            format!(
                "{} ({} active, {} suppressed by analysts)",
                a.total, a.active, a.suppressed
            ),
        ),
        (
            "Rejected input rows".to_string(),
            format!(
                "{} of {} read",
                number_text(summary.rejected_rows as f64, 0),
                number_text(summary.input_rows_read as f64, 0)
            ),
        ),
    ]
}

fn more(out: &mut String, shown: usize, total: usize, file: &str) {
    if total > shown {
        let _ = writeln!(out, "\n…and {} more in {file}.", total - shown);
    }
}

/// " (new)" after a row that is new or worse since the previous run.
pub(crate) fn new_mark(new: bool) -> &'static str {
    if new {
        " (new)"
    } else {
        ""
    }
}

fn risk_table(out: &mut String, rows: &[RiskRow]) {
    out.push_str("| Customer | Tier | Score | Exposure | Alerting since | Reasons |\n|---|---|---:|---:|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {}{} | {} | {} {} | {} | {} |",
            customer(&r.name, &r.customer_id),
            escape_md(&r.tier),
            new_mark(r.new),
            opt_num(r.risk_score, 0),
            opt_num(r.exposure, 2),
            escape_md(&r.currency),
            r.first_seen.map(|d| d.to_string()).unwrap_or_default(),
            escape_md(&r.top_reasons)
        );
    }
}

/// "N of M customer-months reconcile", saying which rows are left out and why.
pub(crate) fn recon_count_text(c: &findings::ReconCounts) -> String {
    let mut s = format!("{} of {} customer-months reconcile.", c.ok, c.comparable);
    let in_progress = c.by_status.get("in_progress").copied().unwrap_or(0);
    if in_progress > 0 {
        s.push_str(&format!(
            " {in_progress} of the as-of month are in progress (not invoiced yet by design) and not counted."
        ));
    }
    if let (true, Some(h)) = (c.before_history > 0, &c.history_starts) {
        s.push_str(&format!(
            " {} in months before the usage history starts ({h}) are not counted: their cost is not in the data.",
            c.before_history
        ));
    }
    s
}

/// "Since the last run": the changes, most urgent first (SPEC 4.6).
fn since_last_run(
    out: &mut String,
    data: &ReportData,
    names: &std::collections::BTreeMap<String, String>,
    top: usize,
) -> Result<()> {
    out.push_str("## Since the last run\n\n");
    let Some(since) = &data.since else {
        out.push_str("No previous run to compare with (the first run into this --out, or --no-previous): every finding below is as of today.\n\n");
        return Ok(());
    };
    let rows = findings::changes(data, names)?;
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "Nothing changed since the run as of {}.",
            since.previous_as_of
        );
    } else {
        let _ = writeln!(
            out,
            "{} changes since the run as of {}: {}.\n",
            rows.len(),
            since.previous_as_of,
            escape_md(&findings::change_counts_text(&rows))
        );
        out.push_str(
            "| Customer | Change | Currency | Before | After | Alert first seen | Why |\n|---|---|---|---|---|---|---|\n",
        );
        let shown = (top * 3).min(rows.len());
        for r in &rows[..shown] {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                customer(&r.name, &r.customer_id),
                escape_md(&r.what()),
                escape_md(&r.currency),
                escape_md(&r.before),
                escape_md(&r.after),
                r.first_seen.map(|d| d.to_string()).unwrap_or_default(),
                escape_md(&r.reason)
            );
        }
        more(out, shown, rows.len(), "tables/changes.parquet");
    }
    for line in since.notes.iter() {
        let _ = writeln!(out, "\nNote: {}.", escape_md(line));
    }
    for line in since.not_compared.iter() {
        let _ = writeln!(out, "\nNot compared: {}.", escape_md(line));
    }
    out.push('\n');
    Ok(())
}

/// report.md text.
pub fn render_markdown(data: &ReportData, summary: &Summary, cfg: &ReportConfig) -> Result<String> {
    let top = cfg.top_customers;
    let names = findings::names(data)?;
    let mut out = String::new();
    let _ = writeln!(out, "# billrisk report as of {}\n", summary.as_of);
    let _ = writeln!(
        out,
        "Generated by {}. Money per currency; ledger totals are exact to the cent.\n",
        escape_md(&summary.generated_by)
    );
    since_last_run(&mut out, data, &names, top)?;
    out.push_str("## Headlines\n\n");
    for (label, value) in headlines(summary) {
        let _ = writeln!(out, "- **{label}:** {}", escape_md(&value));
    }

    collections_section(&mut out, data, &names, top)?;
    budget_section(&mut out, data, &names, top)?;
    review_section(&mut out, data, &names, cfg, top)?;
    reconciliation_section(&mut out, data, &names, top)?;
    data_quality_section(&mut out, data, summary, cfg)?;
    Ok(out)
}

/// "Collections actions": the first `top` actions.
fn collections_section(
    out: &mut String,
    data: &ReportData,
    names: &std::collections::BTreeMap<String, String>,
    top: usize,
) -> Result<()> {
    let coll = findings::collections(data, names)?;
    let _ = writeln!(out, "\n## Collections actions\n");
    if coll.is_empty() {
        out.push_str("No customer needs a collections action.\n");
    } else {
        out.push_str("| Customer | Action | Past due | Oldest days past due | Reason |\n|---|---|---:|---:|---|\n");
        for r in coll.iter().take(top) {
            let _ = writeln!(
                out,
                "| {} | {}{} | {} {} | {} | {} |",
                customer(&r.name, &r.customer_id),
                escape_md(&r.action),
                new_mark(r.new),
                money_text(r.past_due),
                escape_md(&r.currency),
                r.oldest_days_past_due
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                escape_md(&r.reason)
            );
        }
        more(
            out,
            top.min(coll.len()),
            coll.len(),
            "actions/collections.csv",
        );
    }
    Ok(())
}

/// "Budget alerts": the first `top` alerts.
fn budget_section(
    out: &mut String,
    data: &ReportData,
    names: &std::collections::BTreeMap<String, String>,
    top: usize,
) -> Result<()> {
    let budget = findings::budget_alerts(data, names)?;
    let _ = writeln!(out, "\n## Budget alerts\n");
    if budget.is_empty() {
        out.push_str("No customer is over, forecast over or near their budget.\n");
    } else {
        out.push_str("| Customer | Status | Currency | Budget | Spend to date | Used | Forecast | Reached on | Action |\n|---|---|---|---:|---:|---:|---:|---|---|\n");
        for r in budget.iter().take(top) {
            let _ = writeln!(
                out,
                "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} |",
                customer(&r.name, &r.customer_id),
                escape_md(&r.status),
                new_mark(r.new),
                escape_md(&r.currency),
                opt_num(r.budget, 2),
                opt_num(r.mtd_spend, 2),
                r.utilization
                    .map(|u| format!("{} %", number_text(u * 100.0, 1)))
                    .unwrap_or_default(),
                opt_num(r.forecast, 2),
                r.budget_crossed_on
                    .or(r.forecast_crossed_on)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                escape_md(&r.action)
            );
        }
        more(
            out,
            top.min(budget.len()),
            budget.len(),
            "actions/budget_alerts.csv",
        );
    }
    Ok(())
}

/// "Risk review": the first `top` customers of the review queue.
fn review_section(
    out: &mut String,
    data: &ReportData,
    names: &std::collections::BTreeMap<String, String>,
    cfg: &ReportConfig,
    top: usize,
) -> Result<()> {
    let review = findings::risk(&data.risk_review, names)?;
    let _ = writeln!(out, "\n## Risk review\n");
    if review.is_empty() {
        let _ = writeln!(
            out,
            "No customer at or above the {} tier.",
            escape_md(cfg.review_min_tier.as_str())
        );
    } else {
        risk_table(out, &review[..top.min(review.len())]);
        more(
            out,
            top.min(review.len()),
            review.len(),
            "actions/risk_review.csv",
        );
    }
    Ok(())
}

/// "Billing reconciliation exceptions" (only when there is a reconciliation).
fn reconciliation_section(
    out: &mut String,
    data: &ReportData,
    names: &std::collections::BTreeMap<String, String>,
    top: usize,
) -> Result<()> {
    let (recon, counts) = findings::reconciliation(data, names)?;
    if !counts.by_status.is_empty() {
        let _ = writeln!(out, "\n## Billing reconciliation exceptions\n");
        if recon.is_empty() {
            out.push_str("No exceptions: no negative margin, no cost without an invoice.\n");
        } else {
            out.push_str("| Customer | Service month | Status | Currency | Cost | Invoiced | Margin |\n|---|---|---|---|---:|---:|---:|\n");
            for r in recon.iter().take(top) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    customer(&r.name, &r.customer_id),
                    escape_md(&r.service_month),
                    escape_md(&r.status),
                    escape_md(&r.currency),
                    opt_num(r.cost, 2),
                    opt_num(r.invoiced, 2),
                    opt_num(r.margin, 2)
                );
            }
            more(
                out,
                top.min(recon.len()),
                recon.len(),
                "tables/reconciliation.parquet",
            );
        }
        let _ = writeln!(out, "\n{}", recon_count_text(&counts));
    }
    Ok(())
}

/// "Data quality": rows read, accepted and rejected per source, and the rejected rows by reason.
fn data_quality_section(
    out: &mut String,
    data: &ReportData,
    summary: &Summary,
    cfg: &ReportConfig,
) -> Result<()> {
    let _ = writeln!(out, "\n## Data quality\n");
    if summary.inputs.is_empty() {
        out.push_str("No input accounting was given.\n");
    } else {
        out.push_str("| Source | Rows read | Accepted | Rejected |\n|---|---:|---:|---:|\n");
        for r in &summary.inputs {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape_md(&r.source),
                number_text(r.rows_read as f64, 0),
                number_text(r.accepted as f64, 0),
                number_text(r.rejected as f64, 0)
            );
        }
    }
    let (groups, _) = findings::rejected(data, cfg.rejected_examples)?;
    if !groups.is_empty() {
        out.push_str("\n| Source | Column | Reason | Rows |\n|---|---|---|---:|\n");
        for ((s, c, r), n) in &groups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {n} |",
                escape_md(s),
                escape_md(c),
                escape_md(r)
            );
        }
    }
    Ok(())
}
