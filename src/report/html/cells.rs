//! The building blocks of report.html: escaped table cells, sortable tables, figures and
//! badges. Every text goes through `escape_html`.

use super::*;

/// One table cell: escaped HTML content, an optional sort key, right-aligned when numeric.
pub(super) struct Cell {
    pub(super) html: String,
    pub(super) sort: Option<String>,
    pub(super) numeric: bool,
}

pub(super) fn text(s: &str) -> Cell {
    Cell {
        html: escape_html(s),
        sort: None,
        numeric: false,
    }
}

pub(super) fn raw(html: String) -> Cell {
    Cell {
        html,
        sort: None,
        numeric: false,
    }
}

pub(super) fn num(v: Option<f64>, decimals: usize) -> Cell {
    Cell {
        html: v.map(|v| number_text(v, decimals)).unwrap_or_default(),
        sort: Some(v.map(|v| v.to_string()).unwrap_or_default()),
        numeric: true,
    }
}

pub(super) fn money_cell(units: i128) -> Cell {
    Cell {
        html: money_text(units),
        sort: Some((units as f64 / crate::report::format::MONEY_SCALE as f64).to_string()),
        numeric: true,
    }
}

pub(super) fn customer_cell(name: &str, id: &str) -> Cell {
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
pub(super) fn new_badge(new: bool) -> &'static str {
    if new {
        " <span class=\"new\">new</span>"
    } else {
        ""
    }
}

pub(super) fn tier_badge(tier: &str) -> String {
    let t = escape_html(tier);
    let class = if crate::report::TIERS.contains(&tier) {
        tier
    } else {
        "unknown"
    };
    format!("<span class=\"tier tier-{class}\">{t}</span>")
}

/// A sortable table; `headers` are (label, numeric).
pub(super) fn table(headers: &[(&str, bool)], rows: Vec<Vec<Cell>>) -> String {
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

pub(super) fn figure(svg: String, caption: &str) -> String {
    format!(
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        escape_html(caption)
    )
}

/// Most rows any one table shows; the CSVs and Parquet tables hold all.
pub(super) const MAX_TABLE_ROWS: usize = 500;
