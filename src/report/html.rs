//! report.html: one self-contained page (inline CSS, inline SVG charts, a few lines of inline JS
//! that make tables sortable; no network, fonts, images or external scripts). It opens with the
//! headline figures, then one section per analysis: receivables aging, the collections ladder,
//! budgets with burn-up charts, risk with the score distribution and the top customers' usage
//! series, billing reconciliation and data quality.
//!
//! Every input text goes through `escape_html` (also inside SVG). As a second line of defence a
//! Content-Security-Policy allows no network at all and only the one inline script whose SHA-256
//! hash it names, so even a mistake in escaping could not run injected script.
//! Sections are rendered in parallel with rayon; they only read the collected frames.

use std::collections::BTreeMap;
use std::fmt::Write;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::charts::{
    self, BarChart, Line, LineChart, Marker, Orientation, Series, BUCKET_COLOURS, PALETTE,
};
use super::findings::{self, RiskRow};
use super::format::{days_from_date, escape_html, money_text, number_text};
use super::markdown::{facts, plain_to_text};
use super::summary::Summary;
use super::{ReportData, ACTIONS, BUCKETS};
use crate::analysis::reasons;
use crate::config::ReportConfig;
use crate::error::Result;

struct Ctx<'a> {
    data: &'a ReportData,
    summary: &'a Summary,
    cfg: &'a ReportConfig,
    names: BTreeMap<String, String>,
}

/// One table cell: escaped HTML content, an optional sort key, right-aligned when numeric.
struct Cell {
    html: String,
    sort: Option<String>,
    numeric: bool,
}

fn text(s: &str) -> Cell {
    Cell {
        html: escape_html(s),
        sort: None,
        numeric: false,
    }
}

fn raw(html: String) -> Cell {
    Cell {
        html,
        sort: None,
        numeric: false,
    }
}

fn num(v: Option<f64>, decimals: usize) -> Cell {
    Cell {
        html: v.map(|v| number_text(v, decimals)).unwrap_or_default(),
        sort: Some(v.map(|v| v.to_string()).unwrap_or_default()),
        numeric: true,
    }
}

fn money_cell(units: i128) -> Cell {
    Cell {
        html: money_text(units),
        sort: Some((units as f64 / super::format::MONEY_SCALE as f64).to_string()),
        numeric: true,
    }
}

fn customer_cell(name: &str, id: &str) -> Cell {
    let html = if name == id {
        escape_html(id)
    } else {
        format!(
            "{}<br><span class=\"id\">{}</span>",
            escape_html(name),
            escape_html(id)
        )
    };
    Cell {
        html,
        sort: Some(name.to_string()),
        numeric: false,
    }
}

/// A "new" mark after a row that is new or worse since the previous run.
fn new_badge(new: bool) -> &'static str {
    if new {
        " <span class=\"new\">new</span>"
    } else {
        ""
    }
}

fn tier_badge(tier: &str) -> String {
    let t = escape_html(tier);
    let class = if super::TIERS.contains(&tier) {
        tier
    } else {
        "unknown"
    };
    format!("<span class=\"tier tier-{class}\">{t}</span>")
}

/// A sortable table; `headers` are (label, numeric).
fn table(headers: &[(&str, bool)], rows: Vec<Vec<Cell>>) -> String {
    let mut out = String::from("<div class=\"scroll\"><table class=\"sortable\"><thead><tr>");
    for (h, numeric) in headers {
        let _ = write!(
            out,
            "<th{} title=\"Sort\">{}</th>",
            if *numeric { " class=\"num\"" } else { "" },
            escape_html(h)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            let class = if c.numeric { " class=\"num\"" } else { "" };
            match c.sort {
                Some(s) => {
                    let _ = write!(
                        out,
                        "<td{class} data-sort=\"{}\">{}</td>",
                        escape_html(&s),
                        c.html
                    );
                }
                None => {
                    let _ = write!(out, "<td{class}>{}</td>", c.html);
                }
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

fn figure(svg: String, caption: &str) -> String {
    format!(
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        escape_html(caption)
    )
}

fn headline(ctx: &Ctx) -> Result<String> {
    let s = ctx.summary;
    let mut out = String::from("<section id=\"headlines\"><h2>Headlines</h2><div class=\"cards\">");
    let per_cur = |items: Vec<(&String, &String)>| -> String {
        if items.is_empty() {
            return "<div class=\"big\">0.00</div>".to_string();
        }
        items
            .into_iter()
            .map(|(c, v)| {
                format!(
                    "<div class=\"big\"><span class=\"n\">{}</span> <span class=\"cur\">{}</span></div>",
                    escape_html(&plain_to_text(v)),
                    escape_html(c)
                )
            })
            .collect()
    };
    let converted = |v: Option<&String>| -> String {
        match (&s.reporting_currency, v) {
            (Some(rc), Some(v)) if s.receivables.len() > 1 || !s.receivables.contains_key(rc) => {
                format!(
                    "<div class=\"sub\">≈ {} {} in total</div>",
                    escape_html(&plain_to_text(v)),
                    escape_html(rc)
                )
            }
            _ => String::new(),
        }
    };
    let conv = s.receivables_converted.as_ref();
    let card = |out: &mut String, title: &str, body: String, alert: bool| {
        let _ = write!(
            out,
            "<div class=\"card{}\"><div class=\"label\">{}</div>{body}</div>",
            if alert { " alert" } else { "" },
            escape_html(title)
        );
    };
    card(
        &mut out,
        "Total outstanding",
        per_cur(
            s.receivables
                .iter()
                .map(|(c, r)| (c, &r.total_outstanding))
                .collect(),
        ) + &converted(conv.and_then(|c| c.total_outstanding.as_ref())),
        false,
    );
    card(
        &mut out,
        "Overdue (past due)",
        per_cur(s.receivables.iter().map(|(c, r)| (c, &r.overdue)).collect())
            + &converted(conv.and_then(|c| c.overdue.as_ref())),
        s.customers_past_due > 0,
    );
    card(
        &mut out,
        "Customers to suspend",
        format!(
            "<div class=\"big\">{}</div><div class=\"sub\">suspend or write-off review</div>",
            s.customers_to_suspend
        ),
        s.customers_to_suspend > 0,
    );
    card(
        &mut out,
        "Over budget",
        format!(
            "<div class=\"big\">{}</div><div class=\"sub\">{} more forecast over, {} at warning</div>",
            s.customers_over_budget, s.customers_forecast_over_budget, s.customers_budget_warning
        ),
        s.customers_over_budget > 0,
    );
    card(
        &mut out,
        "Critical / high risk",
        format!(
            "<div class=\"big\">{} <span class=\"cur\">critical</span></div><div class=\"big\">{} <span class=\"cur\">high</span></div>",
            s.customers_critical_risk, s.customers_high_risk
        ),
        s.customers_critical_risk > 0,
    );
    card(
        &mut out,
        "Total exposure",
        per_cur(s.total_exposure.iter().collect())
            + &converted(s.total_exposure_converted.as_ref()),
        false,
    );
    out.push_str("</div><ul class=\"facts\">");
    for (label, value) in facts(s) {
        let _ = write!(
            out,
            "<li><strong>{}:</strong> {}</li>",
            escape_html(&label),
            escape_html(&value)
        );
    }
    out.push_str("</ul></section>");
    Ok(out)
}

fn aging(ctx: &Ctx) -> Result<String> {
    let rows = findings::aging(ctx.data, &ctx.names)?;
    let mut out = String::from("<section id=\"aging\"><h2>Receivables aging</h2>");
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">No open receivables.</p></section>");
        return Ok(out);
    }
    out.push_str("<p>Open invoices by days past due, per currency (SPEC 4.1). Each bar is a customer, split by aging bucket; the largest past-due balances first.</p>");
    // Totals per currency and bucket.
    let mut headers: Vec<(&str, bool)> = vec![("Currency", false)];
    headers.extend(BUCKETS.iter().map(|(_, l)| (*l, true)));
    headers.extend([
        ("Total", true),
        ("Credit", true),
        ("Net", true),
        ("Customers", true),
    ]);
    let trs: Vec<Vec<Cell>> = ctx
        .summary
        .receivables
        .iter()
        .map(|(cur, r)| {
            let mut row = vec![text(cur)];
            for v in r.buckets.in_order() {
                row.push(Cell {
                    html: escape_html(&plain_to_text(v)),
                    sort: Some(v.clone()),
                    numeric: true,
                });
            }
            for v in [
                &r.total_outstanding,
                &r.unapplied_credit,
                &r.net_outstanding,
            ] {
                row.push(Cell {
                    html: escape_html(&plain_to_text(v)),
                    sort: Some(v.clone()),
                    numeric: true,
                });
            }
            row.push(num(Some(r.customers as f64), 0));
            row
        })
        .collect();
    out.push_str(&table(&headers, trs));
    // One chart per currency.
    let mut by_cur: BTreeMap<&str, Vec<&findings::AgingRow>> = BTreeMap::new();
    for r in &rows {
        by_cur.entry(r.currency.as_str()).or_default().push(r);
    }
    out.push_str("<div class=\"charts\">");
    for (cur, rs) in &by_cur {
        let top: Vec<&&findings::AgingRow> = rs
            .iter()
            .filter(|r| r.total > 0)
            .take(ctx.cfg.top_customers)
            .collect();
        if top.is_empty() {
            continue;
        }
        let chart = BarChart {
            title: format!("Aging by bucket, {cur}"),
            categories: top.iter().map(|r| r.name.clone()).collect(),
            series: BUCKETS
                .iter()
                .enumerate()
                .map(|(k, (_, label))| Series {
                    name: label.to_string(),
                    colour: BUCKET_COLOURS[k].to_string(),
                    values: top.iter().map(|r| r.buckets[k] as f64 / 1e4).collect(),
                })
                .collect(),
            value_label: cur.to_string(),
            orientation: Orientation::Horizontal,
            width: 560.0,
            height: 60.0 + 28.0 * top.len() as f64,
        };
        out.push_str(&figure(
            chart.to_svg(),
            &format!(
                "Outstanding {cur} by aging bucket, top {} customers by past due",
                top.len()
            ),
        ));
    }
    out.push_str("</div><h3>Customers by past due</h3>");
    let mut headers: Vec<(&str, bool)> = vec![("Customer", false), ("Currency", false)];
    headers.extend(BUCKETS.iter().map(|(_, l)| (*l, true)));
    headers.extend([
        ("Total", true),
        ("Net", true),
        ("Oldest days", true),
        ("Action", false),
    ]);
    let trs = rows
        .iter()
        .filter(|r| r.total > 0 || r.net != 0)
        .take(ctx.cfg.top_customers)
        .map(|r| {
            let mut row = vec![customer_cell(&r.name, &r.customer_id), text(&r.currency)];
            row.extend(r.buckets.iter().map(|b| money_cell(*b)));
            row.push(money_cell(r.total));
            row.push(money_cell(r.net));
            row.push(num(r.oldest_days_past_due.map(|d| d as f64), 0));
            row.push(text(r.action.as_deref().unwrap_or("")));
            row
        })
        .collect();
    out.push_str(&table(&headers, trs));
    out.push_str("</section>");
    Ok(out)
}

/// Most rows any one table shows; the CSVs and Parquet tables hold all.
const MAX_TABLE_ROWS: usize = 500;

fn collections(ctx: &Ctx) -> Result<String> {
    let rows = findings::collections(ctx.data, &ctx.names)?;
    let mut out = String::from("<section id=\"collections\"><h2>Collections ladder</h2>");
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">No customer needs a collections action.</p></section>");
        return Ok(out);
    }
    out.push_str("<p>Reminder from 1 day past due, second notice from 15, final notice from 30, suspend from 45, write-off review from 90; a high or critical risk tier moves a customer one step further. All actions are in <code>actions/collections.csv</code>.</p>");
    let counts: Vec<f64> = ACTIONS
        .iter()
        .map(|a| rows.iter().filter(|r| r.action == *a).count() as f64)
        .collect();
    let chart = BarChart {
        title: "Customers per collections action".into(),
        categories: ACTIONS.iter().map(|a| a.replace('_', " ")).collect(),
        series: vec![Series {
            name: "customers".into(),
            colour: PALETTE[0].into(),
            values: counts,
        }],
        value_label: "customers".into(),
        orientation: Orientation::Vertical,
        width: 560.0,
        height: 240.0,
    };
    out.push_str("<div class=\"charts\">");
    out.push_str(&figure(
        chart.to_svg(),
        "Customer-currency pairs per action, gentlest to hardest",
    ));
    // Amounts per action and currency.
    let mut sums: BTreeMap<(usize, String), (usize, i128)> = BTreeMap::new();
    for r in &rows {
        let e = sums
            .entry((findings::rank(&ACTIONS, &r.action), r.currency.clone()))
            .or_insert((0, 0));
        e.0 += 1;
        e.1 += r.past_due;
    }
    let trs = sums
        .iter()
        .map(|((k, cur), (n, amt))| {
            let action = ACTIONS.get(*k).copied().unwrap_or("other");
            vec![
                Cell {
                    html: escape_html(action),
                    sort: Some(k.to_string()),
                    numeric: false,
                },
                text(cur),
                num(Some(*n as f64), 0),
                money_cell(*amt),
            ]
        })
        .collect();
    out.push_str("<div>");
    out.push_str(&table(
        &[
            ("Action", false),
            ("Currency", false),
            ("Customers", true),
            ("Past due", true),
        ],
        trs,
    ));
    out.push_str("</div></div><h3>Customers with actions</h3>");
    let trs = rows
        .iter()
        .take(MAX_TABLE_ROWS)
        .map(|r| {
            vec![
                customer_cell(&r.name, &r.customer_id),
                Cell {
                    html: format!("{}{}", escape_html(&r.action), new_badge(r.new)),
                    sort: Some(findings::hardness(&r.action).to_string()),
                    numeric: false,
                },
                money_cell(r.past_due),
                text(&r.currency),
                num(r.oldest_days_past_due.map(|d| d as f64), 0),
                text(&r.reason),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            ("Customer", false),
            ("Action", false),
            ("Past due", true),
            ("Currency", false),
            ("Oldest days past due", true),
            ("Reason", false),
        ],
        trs,
    ));
    if rows.len() > MAX_TABLE_ROWS {
        let _ = write!(out, "<p class=\"note\">First {MAX_TABLE_ROWS} of {} rows; all are in actions/collections.csv.</p>", rows.len());
    }
    out.push_str("</section>");
    Ok(out)
}

fn budgets(ctx: &Ctx) -> Result<String> {
    let rows = findings::budget_alerts(ctx.data, &ctx.names)?;
    let mut out = String::from("<section id=\"budgets\"><h2>Budgets</h2>");
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">No customer is over, forecast over or near their budget.</p></section>");
        return Ok(out);
    }
    out.push_str("<p>Month-to-date spend against the monthly budget, with the forecast to month end. Burn-up charts show cumulative spend (solid) against the budget (dashed) for the customers at risk. \"Reached on\" is the day spend reached the budget, or for a forecast overrun the day it is forecast to.</p>");
    out.push_str("<div class=\"charts\">");
    let keys: Vec<(String, String)> = rows
        .iter()
        .take(ctx.cfg.top_customers)
        .map(|r| (r.customer_id.clone(), r.currency.clone()))
        .collect();
    let burn_ups = findings::burn_ups(ctx.data, &keys)?;
    for (r, key) in rows.iter().zip(&keys) {
        let Some(series) = burn_ups.get(key) else {
            continue;
        };
        let chart = LineChart {
            title: format!("Budget burn-up: {}", r.name),
            lines: vec![
                Line {
                    name: "cumulative spend".into(),
                    colour: PALETTE[0].into(),
                    points: series.iter().map(|(d, c, _)| (*d as f64, *c)).collect(),
                    dashed: false,
                },
                Line {
                    name: "budget".into(),
                    colour: PALETTE[3].into(),
                    points: series
                        .iter()
                        .filter_map(|(d, _, b)| Some((*d as f64, (*b)?)))
                        .collect(),
                    dashed: true,
                },
            ],
            markers: Vec::new(),
            x_dates: true,
            value_label: r.currency.clone(),
            width: 560.0,
            height: 240.0,
        };
        let caption = format!(
            "{} ({}){}: {}, {} of budget",
            r.name,
            r.customer_id,
            r.month
                .as_ref()
                .map(|m| format!(", {m}"))
                .unwrap_or_default(),
            r.status.replace('_', " "),
            r.utilization
                .map(|u| format!("{} %", number_text(u * 100.0, 1)))
                .unwrap_or_default()
        );
        out.push_str(&figure(chart.to_svg(), &caption));
    }
    out.push_str("</div><h3>Budget alerts</h3>");
    let trs = rows
        .iter()
        .take(MAX_TABLE_ROWS)
        .map(|r| {
            vec![
                customer_cell(&r.name, &r.customer_id),
                Cell {
                    html: format!("{}{}", escape_html(&r.status), new_badge(r.new)),
                    sort: Some(
                        findings::rank(&super::BUDGET_ALERT_STATUSES, &r.status).to_string(),
                    ),
                    numeric: false,
                },
                text(&r.currency),
                num(r.budget, 2),
                num(r.mtd_spend, 2),
                num(r.utilization.map(|u| u * 100.0), 1),
                num(r.forecast, 2),
                text(
                    &r.budget_crossed_on
                        .or(r.forecast_crossed_on)
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ),
                raw(format!(
                    "{}<div class=\"why\">{}</div>",
                    escape_html(&r.action),
                    escape_html(&r.why)
                )),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            ("Customer", false),
            ("Status", false),
            ("Currency", false),
            ("Budget", true),
            ("Spend to date", true),
            ("Used %", true),
            ("Forecast", true),
            ("Reached on", false),
            ("Action and why", false),
        ],
        trs,
    ));
    out.push_str("</section>");
    Ok(out)
}

fn risk_rows_table(rows: &[RiskRow]) -> String {
    let trs = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                customer_cell(&r.name, &r.customer_id),
                Cell {
                    html: format!("{}{}", tier_badge(&r.tier), new_badge(r.new)),
                    sort: Some(findings::rank(&super::TIERS, &r.tier).to_string()),
                    numeric: false,
                },
                num(r.risk_score, 0),
                num(r.exposure, 2),
                text(&r.currency),
                text(&r.first_seen.map(|d| d.to_string()).unwrap_or_default()),
            ];
            row.extend(r.families.iter().map(|f| num(*f, 0)));
            row.push(text(&r.top_reasons));
            row
        })
        .collect();
    let mut headers: Vec<(&str, bool)> = vec![
        ("Customer", false),
        ("Tier", false),
        ("Score", true),
        ("Exposure", true),
        ("Currency", false),
        ("Alerting since", false),
    ];
    headers.extend(reasons::FAMILIES.iter().map(|f| (*f, true)));
    headers.push(("Top reasons", false));
    table(&headers, trs)
}

fn risk(ctx: &Ctx) -> Result<String> {
    let mut rows = findings::risk(&ctx.data.risk_scores, &ctx.names)?;
    // The review queue carries what changed and since when (SPEC 4.6).
    let review: BTreeMap<String, (bool, Option<chrono::NaiveDate>)> =
        findings::risk(&ctx.data.risk_review, &ctx.names)?
            .into_iter()
            .map(|r| (r.customer_id, (r.new, r.first_seen)))
            .collect();
    for r in &mut rows {
        if let Some((new, first)) = review.get(&r.customer_id) {
            r.new = *new;
            r.first_seen = *first;
        }
    }
    let mut out = String::from("<section id=\"risk\"><h2>Fraud and misuse risk</h2>");
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">No risk scores.</p></section>");
        return Ok(out);
    }
    out.push_str("<p>Risk score 0–100 from usage, activity, payment and fraud signals (SPEC 4.4); the family columns show each family's contribution. Exposure = net outstanding + usage not yet invoiced + forecast to month end.</p>");
    let scores: Vec<f64> = rows.iter().filter_map(|r| r.risk_score).collect();
    let hist = charts::histogram(
        "Risk score distribution",
        &scores,
        0.0,
        100.0,
        10,
        PALETTE[0],
    );
    let tiers: Vec<String> = super::TIERS
        .iter()
        .rev()
        .map(|t| {
            format!(
                "{} {}",
                tier_badge(t),
                ctx.summary.risk_tiers.get(*t).copied().unwrap_or(0)
            )
        })
        .collect();
    let _ = write!(
        out,
        "<div class=\"charts\">{}<div><h3>Customers per tier</h3><p class=\"tiers\">{}</p></div></div>",
        figure(hist.to_svg(), "Customers per risk score band"),
        tiers.join(" ")
    );
    let top = &rows[..ctx.cfg.top_customers.min(rows.len())];
    out.push_str("<h3>Top customers by risk score</h3>");
    out.push_str(&risk_rows_table(top));

    // Usage series of the top customers, with baseline, anomalies and reasons.
    let ids: Vec<String> = top.iter().map(|r| r.customer_id.clone()).collect();
    let series = findings::usage_series(ctx.data, &ids)?;
    let anomalies = findings::anomalies(ctx.data)?;
    out.push_str("<h3>Daily usage of the top customers</h3><div class=\"charts\">");
    for r in top {
        let s = series.get(&r.customer_id).cloned().unwrap_or_default();
        let baseline = findings::trailing_median(&s, ctx.cfg.baseline_days);
        let found = anomalies.get(&r.customer_id).cloned().unwrap_or_default();
        let by_day: BTreeMap<i64, f64> = s.iter().copied().collect();
        let markers: Vec<Marker> = found
            .iter()
            .filter(|a| !a.suppressed)
            .filter_map(|a| {
                let d = days_from_date(a.date?);
                Some(Marker {
                    x: d as f64,
                    y: *by_day.get(&d)?,
                    label: a.reason.clone(),
                })
            })
            .collect();
        let mut body = String::new();
        if !s.is_empty() {
            let chart = LineChart {
                title: format!("Daily usage: {}", r.name),
                lines: vec![
                    Line {
                        name: "daily cost".into(),
                        colour: PALETTE[0].into(),
                        points: s.iter().map(|(d, v)| (*d as f64, *v)).collect(),
                        dashed: false,
                    },
                    Line {
                        name: format!("{}-day median", ctx.cfg.baseline_days),
                        colour: "#555555".into(),
                        points: baseline
                            .iter()
                            .filter_map(|(d, m)| Some((*d as f64, (*m)?)))
                            .collect(),
                        dashed: true,
                    },
                ],
                markers,
                x_dates: true,
                value_label: "cost per day".into(),
                width: 560.0,
                height: 240.0,
            };
            body.push_str(&chart.to_svg());
        } else {
            body.push_str("<p class=\"empty\">No usage.</p>");
        }
        let mut reasons_html = String::from("<ul class=\"reasons\">");
        for a in found.iter().take(8) {
            let _ = write!(
                reasons_html,
                "<li{}>{} <span class=\"code\">{}</span>{}</li>",
                if a.suppressed {
                    " class=\"suppressed\""
                } else {
                    ""
                },
                escape_html(&a.reason),
                escape_html(&a.signal),
                if a.suppressed {
                    " (suppressed by an analyst)"
                } else {
                    ""
                }
            );
        }
        if found.is_empty() && !r.top_reasons.is_empty() {
            let _ = write!(reasons_html, "<li>{}</li>", escape_html(&r.top_reasons));
        }
        reasons_html.push_str("</ul>");
        let _ = write!(
            out,
            "<figure class=\"customer\"><h4>{} {} <span class=\"score\">score {}</span></h4>{body}{reasons_html}<figcaption>{}</figcaption></figure>",
            escape_html(&r.name),
            tier_badge(&r.tier),
            r.risk_score.map(|v| number_text(v, 0)).unwrap_or_default(),
            escape_html(&r.customer_id)
        );
    }
    out.push_str("</div></section>");
    Ok(out)
}

fn reconciliation(ctx: &Ctx) -> Result<String> {
    let (rows, recon_counts) = findings::reconciliation(ctx.data, &ctx.names)?;
    let counts = &recon_counts.by_status;
    let mut out = String::from("<section id=\"reconciliation\"><h2>Billing reconciliation</h2>");
    if counts.is_empty() {
        out.push_str("<p class=\"empty\">No reconciliation rows.</p></section>");
        return Ok(out);
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{} {}", escape_html(s), n))
        .collect();
    let _ = write!(
        out,
        "<p>{} Customer-months by status: {}.</p>",
        escape_html(&super::markdown::recon_count_text(&recon_counts)),
        parts.join(", ")
    );
    if !rows.is_empty() {
        let trs = rows
            .iter()
            .take(MAX_TABLE_ROWS)
            .map(|r| {
                vec![
                    customer_cell(&r.name, &r.customer_id),
                    text(&r.service_month),
                    text(&r.status),
                    num(r.cost, 2),
                    num(r.invoiced, 2),
                    num(r.margin, 2),
                    text(&r.currency),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                ("Customer", false),
                ("Service month", false),
                ("Status", false),
                ("Cost", true),
                ("Invoiced", true),
                ("Margin", true),
                ("Currency", false),
            ],
            trs,
        ));
    }
    out.push_str("</section>");
    Ok(out)
}

/// "Since the last run" (SPEC 4.6): the changes, most urgent first.
fn since_last_run(ctx: &Ctx) -> Result<String> {
    let mut out = String::from("<section id=\"since\"><h2>Since the last run</h2>");
    let Some(since) = &ctx.data.since else {
        out.push_str("<p class=\"empty\">No previous run to compare with (the first run into this --out, or --no-previous): every finding below is as of today.</p></section>");
        return Ok(out);
    };
    let rows = findings::changes(ctx.data, &ctx.names)?;
    if rows.is_empty() {
        let _ = write!(
            out,
            "<p class=\"empty\">Nothing changed since the run as of {}.</p>",
            since.previous_as_of
        );
    } else {
        let counts: Vec<String> = findings::change_counts(&rows)
            .iter()
            .map(|(k, n)| format!("{n} {}", findings::change_label(k)))
            .collect();
        let _ = write!(
            out,
            "<p>{} changes since the run as of {}: {}.</p>",
            rows.len(),
            since.previous_as_of,
            escape_html(&counts.join(", "))
        );
        let trs = rows
            .iter()
            .take(MAX_TABLE_ROWS)
            .map(|r| {
                let what = if r.signal.is_empty() {
                    findings::change_label(&r.kind).to_string()
                } else {
                    format!("{}: {}", findings::change_label(&r.kind), r.signal)
                };
                vec![
                    customer_cell(&r.name, &r.customer_id),
                    text(&what),
                    text(&r.currency),
                    text(&r.before),
                    text(&r.after),
                    text(&r.first_seen.map(|d| d.to_string()).unwrap_or_default()),
                    text(&r.reason),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                ("Customer", false),
                ("Change", false),
                ("Currency", false),
                ("Before", false),
                ("After", false),
                ("Alert first seen", false),
                ("Why", false),
            ],
            trs,
        ));
        if rows.len() > MAX_TABLE_ROWS {
            let _ = write!(
                out,
                "<p>…and {} more in tables/changes.parquet.</p>",
                rows.len() - MAX_TABLE_ROWS
            );
        }
    }
    for line in &since.notes {
        let _ = write!(out, "<p class=\"note\">Note: {}.</p>", escape_html(line));
    }
    for line in &since.not_compared {
        let _ = write!(
            out,
            "<p class=\"note\">Not compared: {}.</p>",
            escape_html(line)
        );
    }
    out.push_str("</section>");
    Ok(out)
}

fn data_quality(ctx: &Ctx) -> Result<String> {
    let mut out = String::from("<section id=\"data-quality\"><h2>Data quality</h2>");
    if !ctx.summary.inputs.is_empty() {
        let trs = ctx
            .summary
            .inputs
            .iter()
            .map(|r| {
                vec![
                    text(&r.source),
                    num(Some(r.rows_read as f64), 0),
                    num(Some(r.accepted as f64), 0),
                    num(Some(r.rejected as f64), 0),
                    num(
                        Some(if r.rows_read > 0 {
                            r.rejected as f64 / r.rows_read as f64 * 100.0
                        } else {
                            0.0
                        }),
                        2,
                    ),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                ("Source", false),
                ("Rows read", true),
                ("Accepted", true),
                ("Rejected", true),
                ("Rejected %", true),
            ],
            trs,
        ));
    }
    let (groups, examples) = findings::rejected(ctx.data, ctx.cfg.rejected_examples)?;
    if groups.is_empty() {
        out.push_str("<p class=\"empty\">No rows were rejected.</p>");
    } else {
        out.push_str("<h3>Rejected rows by reason</h3>");
        let trs = groups
            .iter()
            .map(|((s, c, r), n)| vec![text(s), text(c), text(r), num(Some(*n as f64), 0)])
            .collect();
        out.push_str(&table(
            &[
                ("Source", false),
                ("Column", false),
                ("Reason", false),
                ("Rows", true),
            ],
            trs,
        ));
        if groups.len() == ctx.cfg.rejected_examples {
            out.push_str("<p class=\"note\">The most frequent reasons only; every rejected row is in rejected_rows.</p>");
        }
        let _ = write!(out, "<h3>First {} rejected rows</h3>", examples.len());
        let trs = examples
            .iter()
            .map(|e| {
                vec![
                    text(&e.source),
                    text(&e.file),
                    num(e.line.map(|l| l as f64), 0),
                    text(&e.column),
                    text(&e.reason),
                    raw(format!("<code>{}</code>", escape_html(&e.raw))),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                ("Source", false),
                ("File", false),
                ("Line", true),
                ("Column", false),
                ("Reason", false),
                ("Raw", false),
            ],
            trs,
        ));
    }
    out.push_str("</section>");
    Ok(out)
}

fn glossary() -> String {
    let mut out = String::from("<section id=\"glossary\"><details><summary>Reason codes</summary><table><thead><tr><th>Code</th><th>Family</th><th>Meaning</th></tr></thead><tbody>");
    for r in reasons::ALL {
        let _ = write!(
            out,
            "<tr><td><span class=\"code\">{}</span></td><td>{}</td><td>{}</td></tr>",
            escape_html(r.code),
            escape_html(r.family),
            escape_html(r.meaning)
        );
    }
    out.push_str("</tbody></table></details></section>");
    out
}

const CSS: &str = r#"
:root{--fg:#1d2330;--muted:#5b6472;--line:#e3e6ea;--bg:#f5f6f8;--card:#fff;--accent:#0072B2;--alert:#D55E00}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#1d2330;color:#fff;padding:18px 24px}
header h1{margin:0;font-size:22px;font-weight:600}
header p{margin:4px 0 0;color:#c9ced6;font-size:13px}
nav{background:#fff;border-bottom:1px solid var(--line);padding:8px 24px;font-size:14px;position:sticky;top:0;z-index:1}
nav a{color:var(--accent);text-decoration:none;margin-right:16px}
main{max-width:1180px;margin:0 auto;padding:8px 24px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:16px 0}
h2{margin:0 0 8px;font-size:19px}
h3{margin:18px 0 8px;font-size:16px}
h4{margin:0 0 6px;font-size:15px}
p{margin:6px 0;max-width:80ch}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}
.card{border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:6px;padding:10px 12px}
.card.alert{border-left-color:var(--alert)}
.card .label{color:var(--muted);font-size:13px}
.card .big{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.35}
.card .n{white-space:nowrap}
.card .cur{font-size:13px;font-weight:500;color:var(--muted)}
.card .sub{font-size:12.5px;color:var(--muted)}
.facts{margin:10px 0 0;padding-left:18px;color:var(--muted);font-size:14px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \25BC";font-size:10px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:hover{background:#f7f9fc}
.id{color:var(--muted);font-size:11.5px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code,.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;background:#f0f2f5;padding:0 4px;border-radius:3px}
code{overflow-wrap:anywhere}
.code{white-space:nowrap}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:14px;align-items:start}
figure{margin:8px 0;min-width:0}
figure.customer{border:1px solid var(--line);border-radius:6px;padding:10px}
figcaption{color:var(--muted);font-size:12.5px}
svg.chart{max-width:100%;height:auto;display:block}
.tier{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;line-height:1.6}
.new{display:inline-block;padding:0 6px;border-radius:10px;font-size:11px;font-weight:700;background:#0072B2;color:#fff;margin-left:4px}
.tier-critical{background:#D55E00;color:#fff}
.tier-high{background:#E69F00;color:#1d2330}
.tier-medium{background:#F0E442;color:#1d2330}
.tier-low{background:#d7ebf7;color:#1d2330}
.tier-unknown{background:#eee}
.tiers .tier{margin-right:4px}
.score{color:var(--muted);font-weight:500;font-size:13px}
.reasons{margin:6px 0;padding-left:18px;font-size:13.5px}
.reasons .suppressed{color:var(--muted);text-decoration:line-through}
.empty,.note{color:var(--muted)}
.why{color:var(--muted);font-size:12.5px}
footer{color:var(--muted);font-size:12.5px;text-align:center;padding:16px}
@media print{nav{display:none}section{break-inside:avoid}}
"#;

const SCRIPT: &str = r#"
(function () {
  function key(cell, numeric) {
    var v = cell.hasAttribute('data-sort') ? cell.getAttribute('data-sort') : cell.textContent;
    if (!numeric) return v.toLowerCase();
    var n = parseFloat(v);
    return isNaN(n) ? -Infinity : n;
  }
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    var head = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(head, function (th, i) {
      th.tabIndex = 0;
      function sort() {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(head, function (o) { o.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var numeric = th.classList.contains('num');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[i], numeric), y = key(b.cells[i], numeric);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
    });
  });
  document.body.dataset.ready = '1';
})();
"#;

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The CSP source expression allowing exactly our inline script.
fn script_hash() -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(SCRIPT.as_bytes())))
}

/// report.html text.
pub fn render_html(data: &ReportData, summary: &Summary, cfg: &ReportConfig) -> Result<String> {
    let ctx = Ctx {
        data,
        summary,
        cfg,
        names: findings::names(data)?,
    };
    type SectionFn = fn(&Ctx) -> Result<String>;
    let sections: [SectionFn; 8] = [
        since_last_run,
        headline,
        aging,
        collections,
        budgets,
        risk,
        reconciliation,
        data_quality,
    ];
    let parts: Vec<String> = sections
        .par_iter()
        .map(|f| f(&ctx))
        .collect::<Result<Vec<_>>>()?;
    let title = format!("billrisk report as of {}", summary.as_of);
    let mut out = String::with_capacity(parts.iter().map(String::len).sum::<usize>() + 16_384);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src {}\">\
<title>{}</title><style>{CSS}</style></head><body>",
        script_hash(),
        escape_html(&title)
    );
    let _ = write!(
        out,
        "<header><h1>{}</h1><p>Generated by {}{}. Money per currency; ledger totals exact to the cent.</p></header>",
        escape_html(&title),
        escape_html(&summary.generated_by),
        summary
            .reporting_currency
            .as_ref()
            .map(|c| format!("; converted totals in {}", escape_html(c)))
            .unwrap_or_default()
    );
    out.push_str("<nav><a href=\"#since\">Since the last run</a><a href=\"#headlines\">Headlines</a><a href=\"#aging\">Aging</a><a href=\"#collections\">Collections</a><a href=\"#budgets\">Budgets</a><a href=\"#risk\">Risk</a><a href=\"#reconciliation\">Reconciliation</a><a href=\"#data-quality\">Data quality</a></nav><main>");
    for p in parts {
        out.push_str(&p);
    }
    out.push_str(&glossary());
    let _ = writeln!(
        out,
        "</main><footer>{} · as of {}</footer><script>{SCRIPT}</script></body></html>",
        escape_html(&summary.generated_by),
        escape_html(&summary.as_of)
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
