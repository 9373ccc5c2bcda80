//! The receivables sections of report.html (SPEC 4.1): aging by bucket and the collections
//! ladder.

use super::*;

pub(super) fn aging(ctx: &Ctx) -> Result<String> {
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

pub(super) fn collections(ctx: &Ctx) -> Result<String> {
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
