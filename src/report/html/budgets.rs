//! The budgets section of report.html (SPEC 4.2): status per customer and burn-up charts for
//! the customers at risk of an overrun.

use super::*;

pub(super) fn budgets(ctx: &Ctx) -> Result<String> {
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
                        findings::rank(&crate::report::BUDGET_ALERT_STATUSES, &r.status)
                            .to_string(),
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
