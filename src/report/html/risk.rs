//! The risk section of report.html (SPEC 4.4): the score distribution, the review table and
//! the top customers' usage series with their reasons.

use super::*;

pub(super) fn risk_rows_table(rows: &[RiskRow]) -> String {
    let trs = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                customer_cell(&r.name, &r.customer_id),
                Cell {
                    html: format!("{}{}", tier_badge(&r.tier), new_badge(r.new)),
                    sort: Some(findings::rank(&crate::report::TIERS, &r.tier).to_string()),
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

pub(super) fn risk(ctx: &Ctx) -> Result<String> {
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
    let tiers: Vec<String> = crate::report::TIERS
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
        let body = usage_chart(ctx, r, &s, &baseline, &found);
        let reasons_html = reasons_list(&found, &r.top_reasons);
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

/// The daily usage chart of one top customer: its daily cost, its trailing median and a marker
/// per unsuppressed anomaly; "No usage." without a series.
fn usage_chart(
    ctx: &Ctx,
    r: &RiskRow,
    s: &[(i64, f64)],
    baseline: &[(i64, Option<f64>)],
    found: &[findings::AnomalyRow],
) -> String {
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
    body
}

/// The reasons of one top customer: its first eight anomalies (suppressed ones marked), else its
/// top reasons.
fn reasons_list(found: &[findings::AnomalyRow], top_reasons: &str) -> String {
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
    if found.is_empty() && !top_reasons.is_empty() {
        let _ = write!(reasons_html, "<li>{}</li>", escape_html(top_reasons));
    }
    reasons_html.push_str("</ul>");
    reasons_html
}
