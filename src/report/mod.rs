//! The reports people read and the files automation reads, rendered from the collected output
//! tables (SPEC section 5): `summary.json` (headline figures under stable keys), `report.html`
//! (one self-contained page with inline SVG charts), `report.md` (the same findings as text for an
//! e-mail or a ticket) and the action CSVs (neutralised against formula injection).
//!
//! Rendering is pure: a [`ReportData`] of collected frames in, a `String` out; the pipeline writes
//! the files. Every piece of input text is escaped on the way out (`format::escape_html`,
//! `format::escape_md`, `actions::neutralise`).
//!
//! `findings.rs` reads the rows and words both reports show; `html/` and `markdown.rs` lay them
//! out, one function per section; `summary.rs` the headline figures; `charts.rs` the SVG.
//! `example.rs` (test builds and the `example-report` feature only) is a tiny hand-made report.
//!
//! ```ignore
//! let summary = report::summarize(&data, &cfg.report)?;
//! let json = report::render_summary_json(&summary)?;
//! let html = report::render_html(&data, &summary, &cfg.report)?;
//! let md = report::render_markdown(&data, &summary, &cfg.report)?;
//! let csv = report::render_csv(&data.collections_actions)?;
//! ```

pub mod actions;
pub mod charts;
/// The tiny hand-made report of the tests: unit tests, and the browser test through the cargo
/// feature `example-report` (never in the release library).
#[cfg(any(test, feature = "example-report"))]
pub mod example;
pub mod findings;
pub mod format;
pub mod html;
pub mod markdown;
pub mod summary;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use crate::analysis::budgets::status as budget_status;
use crate::schema;

pub use actions::render_csv;
pub use html::render_html;
pub use markdown::render_markdown;
pub use summary::{render_summary_json, summarize, Summary};

/// Collections actions from the gentlest to the hardest (SPEC 4.1).
pub const ACTIONS: [&str; 5] = [
    "reminder",
    "second_notice",
    "final_notice",
    "suspend",
    "write_off_review",
];
/// Actions that stop service or end the relationship: "customers to suspend".
pub const SUSPEND_ACTIONS: [&str; 2] = ["suspend", "write_off_review"];
/// Risk tiers from the lowest (SPEC 4.4).
pub const TIERS: [&str; 4] = ["low", "medium", "high", "critical"];
/// Budget statuses that call for attention, the most urgent first (SPEC 4.2).
pub const BUDGET_ALERT_STATUSES: [&str; 4] = [
    budget_status::OVER,
    budget_status::FORECAST_OVER,
    budget_status::WARNING,
    budget_status::CURRENCY_MISMATCH,
];
/// Aging bucket columns of aging_customers with their labels, current first (SPEC 4.1).
pub const BUCKETS: [(&str, &str); 6] = [
    (schema::aging_customers::BUCKET_CURRENT, "current"),
    (schema::aging_customers::BUCKET_1_30, "1-30"),
    (schema::aging_customers::BUCKET_31_60, "31-60"),
    (schema::aging_customers::BUCKET_61_90, "61-90"),
    (schema::aging_customers::BUCKET_91_120, "91-120"),
    (schema::aging_customers::BUCKET_120_PLUS, "120+"),
];

/// One input source's row accounting (SPEC 6), as in manifest.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputSummaryRow {
    /// Canonical source name (usage, invoices, ...).
    pub source: String,
    /// Data rows read from its files.
    pub rows_read: u64,
    /// Rows that became rows of the canonical table.
    pub accepted: u64,
    /// Rows written to rejected_rows.
    pub rejected: u64,
}

/// Everything the report shows: collected output tables (schemas of `crate::schema`, looked up by
/// column name, extra columns ignored) and a few facts about the run.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub as_of: NaiveDate,
    /// e.g. "billrisk 0.1.0".
    pub generated_by: String,
    /// ISO code converted totals are shown in; None = per currency only.
    pub reporting_currency: Option<String>,
    pub aging_customers: DataFrame,
    pub aging_invoices: DataFrame,
    pub collections_actions: DataFrame,
    pub budget_status: DataFrame,
    pub budget_daily: DataFrame,
    pub reconciliation: DataFrame,
    pub anomalies: DataFrame,
    pub risk_scores: DataFrame,
    /// Daily usage cost per customer (usage_daily summed over subscriptions, meter categories and
    /// currencies: customer_id, usage_date, cost), for the usage charts. Only the rows of the
    /// customers the report charts ([`charted_customers`]) are needed; other rows are ignored.
    pub usage_daily: DataFrame,
    /// The first day of usage_daily (of every customer): where the usage history starts.
    pub usage_starts: Option<NaiveDate>,
    pub rejected_rows: DataFrame,
    /// The canonical customers table (names, for tables that lack them).
    pub customers: DataFrame,
    /// `analysis::budgets::budget_alerts` collected (schema::budget_alerts).
    pub budget_alerts: DataFrame,
    /// `actions::risk_review` collected.
    pub risk_review: DataFrame,
    /// `crate::analysis::fx::rates_at` collected (currency, rate into the reporting currency);
    /// an empty frame when there is no reporting currency.
    pub fx_rates: DataFrame,
    pub input_summary: Vec<InputSummaryRow>,
    /// `analysis::changes` collected (schema::changes), most urgent first; empty without a
    /// previous run.
    pub changes: DataFrame,
    /// The previous run compared with; None without one.
    pub since: Option<SinceLastRun>,
}

/// The previous run a run was compared with (SPEC 4.6), for "Since the last run".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinceLastRun {
    pub previous_as_of: NaiveDate,
    /// Its folder, as given (or the --out replaced).
    pub folder: String,
    /// Topics it could not be compared on, in words.
    pub not_compared: Vec<String>,
    /// Other version, other config, pseudonyms: in words.
    pub notes: Vec<String>,
}

impl ReportData {
    /// A report of nothing, with every table empty in its schema: the start of tests and of runs
    /// that fill in what they have.
    pub fn empty(as_of: NaiveDate, generated_by: &str) -> ReportData {
        ReportData {
            as_of,
            generated_by: generated_by.to_string(),
            reporting_currency: None,
            aging_customers: schema::aging_customers::DEF.empty(),
            aging_invoices: schema::aging_invoices::DEF.empty(),
            collections_actions: schema::collections_actions::DEF.empty(),
            budget_status: schema::budget_status::DEF.empty(),
            budget_daily: schema::budget_daily::DEF.empty(),
            reconciliation: schema::reconciliation::DEF.empty(),
            anomalies: schema::anomalies::DEF.empty(),
            risk_scores: schema::risk_scores::DEF.empty(),
            usage_daily: schema::usage_daily::DEF.empty(),
            usage_starts: None,
            rejected_rows: schema::rejected_rows::DEF.empty(),
            customers: schema::customers::DEF.empty(),
            budget_alerts: schema::budget_alerts::DEF.empty(),
            risk_review: schema::risk_review::DEF.empty(),
            fx_rates: DataFrame::empty(),
            input_summary: Vec::new(),
            changes: schema::changes::DEF.empty(),
            since: None,
        }
    }
}

/// The customers whose daily usage the report charts: the `top` highest risk scores of
/// `risk_scores`, in the risk section's order. At 10M usage lines usage_daily has 1.8M customer
/// days; a run reads only these customers' (see ReportData::usage_daily).
pub fn charted_customers(risk_scores: &DataFrame, top: usize) -> crate::error::Result<Vec<String>> {
    Ok(
        findings::risk(risk_scores, &std::collections::BTreeMap::new())?
            .into_iter()
            .take(top)
            .map(|r| r.customer_id)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ReportConfig;

    #[test]
    fn the_charted_customers_are_those_the_risk_section_draws() {
        let data = example::tiny().unwrap();
        let cfg = small_cfg();
        let charted = charted_customers(&data.risk_scores, cfg.top_customers).unwrap();
        assert_eq!(charted.len(), 2);
        let html = render_html(&data, &summarize(&data, &cfg).unwrap(), &cfg).unwrap();
        let drawn = html
            .split("Daily usage of the top customers")
            .nth(1)
            .unwrap();
        let drawn = drawn.split("</section>").next().unwrap();
        let captions: Vec<&str> = drawn
            .split("<figcaption>")
            .skip(1)
            .map(|c| c.split('<').next().unwrap())
            .collect();
        assert_eq!(captions, charted);
    }

    const HOSTILE: [&str; 4] = [
        "<script>alert(1)</script>",
        "=HYPERLINK(\"http://x\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1) | \"quoted\" 'name'",
    ];

    fn small_cfg() -> ReportConfig {
        ReportConfig {
            top_customers: 2,
            ..ReportConfig::default()
        }
    }

    #[test]
    fn summary_figures_are_exact() {
        let data = example::tiny().unwrap();
        let s = summarize(&data, &ReportConfig::default()).unwrap();
        // USD: 2000.75 + 300.00 + 570.00; past due 1200.50 + 800.25 + 450.00.
        assert_eq!(s.receivables["USD"].total_outstanding, "2870.75");
        assert_eq!(s.receivables["USD"].overdue, "2450.75");
        assert_eq!(s.receivables["EUR"].net_outstanding, "650.10");
        // 2870.75 + 750.10 x 1.08 = 2870.75 + 810.108 = 3680.858 -> 3680.86.
        let conv = s.receivables_converted.as_ref().unwrap();
        assert_eq!(conv.total_outstanding.as_deref(), Some("3680.86"));
        assert!(conv.unconverted_currencies.is_empty());
        assert_eq!(s.customers_to_suspend, 1);
        assert_eq!(
            (
                s.customers_over_budget,
                s.customers_forecast_over_budget,
                s.customers_budget_warning
            ),
            (1, 1, 1)
        );
        assert_eq!((s.customers_critical_risk, s.customers_high_risk), (1, 1));
        // USD exposure 3600.75 + 455.00 + 1270.00 = 5325.75.
        assert_eq!(s.total_exposure["USD"], "5325.75");
        assert_eq!((s.anomalies.total, s.anomalies.suppressed), (4, 1));
        assert_eq!((s.rejected_rows, s.input_rows_read), (2, 121));
    }

    #[test]
    fn missing_rate_leaves_converted_total_null() {
        let mut data = example::tiny().unwrap();
        data.fx_rates = df!("currency" => ["USD"], "rate" => [1.0]).unwrap();
        let s = summarize(&data, &ReportConfig::default()).unwrap();
        let conv = s.receivables_converted.unwrap();
        assert_eq!(conv.total_outstanding, None);
        assert_eq!(conv.unconverted_currencies, ["EUR"]);
        // Without any rates, the reporting currency itself still converts at 1.
        data.fx_rates = DataFrame::empty();
        let s = summarize(&data, &ReportConfig::default()).unwrap();
        assert_eq!(
            s.receivables_converted.unwrap().unconverted_currencies,
            ["EUR"]
        );
    }

    #[test]
    fn empty_report_renders() {
        let data = ReportData::empty(
            chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            "billrisk 0.1.0",
        );
        let cfg = ReportConfig::default();
        let s = summarize(&data, &cfg).unwrap();
        assert_eq!(s.customers_to_suspend, 0);
        assert!(render_html(&data, &s, &cfg)
            .unwrap()
            .contains("No open receivables."));
        assert!(render_markdown(&data, &s, &cfg)
            .unwrap()
            .contains("No customer needs a collections action."));
    }

    #[test]
    fn summary_json_snapshot() {
        let data = example::tiny().unwrap();
        let s = summarize(&data, &ReportConfig::default()).unwrap();
        insta::assert_snapshot!("summary_json", render_summary_json(&s).unwrap());
    }

    #[test]
    fn markdown_snapshot() {
        let data = example::tiny().unwrap();
        let cfg = ReportConfig::default();
        let s = summarize(&data, &cfg).unwrap();
        insta::assert_snapshot!("report_md", render_markdown(&data, &s, &cfg).unwrap());
    }

    #[test]
    fn html_snapshot() {
        let data = example::tiny().unwrap();
        let cfg = small_cfg();
        let s = summarize(&data, &cfg).unwrap();
        insta::assert_snapshot!("report_html", render_html(&data, &s, &cfg).unwrap());
    }

    #[test]
    fn html_is_deterministic_and_self_contained() {
        let data = example::tiny().unwrap();
        let cfg = ReportConfig::default();
        let s = summarize(&data, &cfg).unwrap();
        let a = render_html(&data, &s, &cfg).unwrap();
        assert_eq!(a, render_html(&data, &s, &cfg).unwrap());
        // No network: no external references of any kind.
        for needle in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!a.contains(needle), "report.html contains {needle}");
        }
        // Charts: aging (2 currencies), collections, 3 burn-ups, histogram, 4 usage series.
        assert_eq!(a.matches("<svg").count(), 11);
    }

    #[test]
    fn hostile_names_are_escaped_in_html() {
        let data = example::tiny_with_names(HOSTILE).unwrap();
        let cfg = ReportConfig::default();
        let s = summarize(&data, &cfg).unwrap();
        let html = render_html(&data, &s, &cfg).unwrap();
        // Our one script tag only.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("=HYPERLINK(&quot;http://x&quot;)"));
        assert!(html.contains("@SUM(1) | &quot;quoted&quot; &#39;name&#39;"));
        // Inside SVG too (chart category labels and titles).
        let svg_start = html.find("<svg").unwrap();
        assert!(html[svg_start..].contains("&lt;script&gt;"));
    }

    #[test]
    fn hostile_names_are_escaped_in_markdown() {
        let data = example::tiny_with_names(HOSTILE).unwrap();
        let cfg = ReportConfig::default();
        let s = summarize(&data, &cfg).unwrap();
        let md = render_markdown(&data, &s, &cfg).unwrap();
        assert!(md.contains("\\<script\\>alert(1)\\</script\\> (c1)"));
        assert!(md.contains("@SUM(1) \\| \"quoted\" 'name' (c4)"));
        assert!(md.contains("+cmd\\|' /C calc'!A0 (c3)") || !md.contains("(c3)"));
        // Every table row has as many unescaped cell separators as its table's header.
        let mut expected = None;
        for line in md.lines() {
            if !line.starts_with('|') {
                expected = None;
                continue;
            }
            let pipes = line.replace("\\|", "").matches('|').count();
            match expected {
                None => expected = Some(pipes),
                Some(n) => assert_eq!(pipes, n, "broken table row: {line}"),
            }
        }
    }

    #[test]
    fn hostile_names_are_neutralised_in_csv() {
        let data = example::tiny_with_names(HOSTILE).unwrap();
        let csv = render_csv(&data.collections_actions).unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""));
        assert!(csv.contains("'@SUM(1) | \"\"quoted\"\" 'name'"));
        let review = render_csv(&data.risk_review).unwrap();
        assert!(review.contains("\"'=HYPERLINK(\"\"http://x\"\")\""));
        let budget = render_csv(&data.budget_alerts).unwrap();
        assert!(budget.contains("'+cmd|' /C calc'!A0") || !budget.contains("c3,"));
        // No cell of any action CSV starts with a formula character.
        for text in [csv, review, budget] {
            let mut rdr = ::csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(text.as_bytes());
            for rec in rdr.records() {
                for cell in rec.unwrap().iter() {
                    let risky = cell.starts_with(['=', '+', '@', '\t', '\r'])
                        || (cell.starts_with('-') && cell.parse::<f64>().is_err());
                    assert!(!risky, "unneutralised cell {cell:?}");
                }
            }
        }
    }
}
