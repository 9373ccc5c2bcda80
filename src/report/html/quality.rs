//! The closing sections of report.html: billing reconciliation (SPEC 4.3), data quality
//! (rows read, rejected, by reason) and the glossary of reason codes.

use super::*;

pub(super) fn reconciliation(ctx: &Ctx) -> Result<String> {
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
        escape_html(&crate::report::markdown::recon_count_text(&recon_counts)),
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

pub(super) fn data_quality(ctx: &Ctx) -> Result<String> {
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

pub(super) fn glossary() -> String {
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
