//! The opening sections of report.html: "Since the last run" (SPEC 4.6) and the headline figures.

use super::*;

/// "Since the last run" (SPEC 4.6): the changes, most urgent first.
pub(super) fn since_last_run(ctx: &Ctx) -> Result<String> {
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
        let _ = write!(
            out,
            "<p>{} changes since the run as of {}: {}.</p>",
            rows.len(),
            since.previous_as_of,
            escape_html(&findings::change_counts_text(&rows))
        );
        let trs = rows
            .iter()
            .take(MAX_TABLE_ROWS)
            .map(|r| {
                vec![
                    customer_cell(&r.name, &r.customer_id),
                    text(&r.what()),
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

pub(super) fn headline(ctx: &Ctx) -> Result<String> {
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
