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
//!
//! Layout: `cells` (escaped cells, tables, figures, badges), one file per group of sections
//! (`headline`: since the last run and the headlines; `receivables`; `budgets`; `risk`;
//! `quality`: reconciliation, data quality, glossary), and here the page itself: CSS, script,
//! Content-Security-Policy and the order of the sections.

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

mod budgets;
mod cells;
mod headline;
mod quality;
mod receivables;
mod risk;

use budgets::*;
use cells::*;
use headline::*;
use quality::*;
use receivables::*;
use risk::*;

struct Ctx<'a> {
    data: &'a ReportData,
    summary: &'a Summary,
    cfg: &'a ReportConfig,
    names: BTreeMap<String, String>,
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
