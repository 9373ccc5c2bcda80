//! Writing into the staging folder (which replaces --out in one step, see output::Staging):
//! the output tables and the canonical inputs of a run (staged files copied, not re-encoded),
//! the reports and action lists (rendered purely from [`report::ReportData`], written here),
//! the canonical tables of `billrisk ingest`, and pseudonymizing before anything is written.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::collect::reduce;
use super::ingest::Ingested;
use super::manifest::ManifestOutput;
use super::tables::{InputTables, OutputTables, Staged, TableMut};
use crate::analysis;
use crate::config::Config;
use crate::error::{Error, PolarsContext, Result};
use crate::output;
use crate::progress::Progress;
use crate::report;
use crate::schema;

/// Replaces every personal value in every table (`--pseudonymize`): staged tables are read into
/// memory first, since names must be replaced before anything is written.
pub fn pseudonymize(
    tables: &mut OutputTables,
    inputs: &mut InputTables,
    key: &[u8],
    progress: &mut Progress,
) -> Result<()> {
    let mut frames: Vec<(&str, &mut DataFrame)> = Vec::new();
    frames.extend(tables.frames_mut()?);
    for (name, table) in inputs.iter_mut() {
        frames.push((name.as_str(), table.load()?));
    }
    let p = crate::pseudonymize::Pseudonymizer::new(key.to_vec());
    progress.stage("pseudonymizing", || p.apply_all(frames))
}

/// Writes tables/ and inputs/, each in name order: the manifest's lines for them.
///
/// Staged files (usage_daily, the canonical usage: 430 MB at 10M usage lines) are placed and
/// hashed each on a thread of its own while the collected tables are encoded on two: copying
/// and hashing is byte work outside Polars, and done one after the other it made the whole stage
/// (2.1 s of a 10M-line run). Those in the run's `scratch` folder are hard-linked when the file
/// system allows (see output::place_scratch_table); the others (usage converted by `billrisk
/// ingest`, scanned in the input folder) are copied.
pub fn write_tables(
    root: &Path,
    tables: &mut OutputTables,
    inputs: &mut InputTables,
    scratch: &Path,
) -> Result<Vec<ManifestOutput>> {
    let mut set: Vec<(String, TableMut<'_>)> = tables
        .named_mut()
        .into_iter()
        .map(|(name, table)| (format!("tables/{name}.parquet"), table))
        .collect();
    set.extend(
        inputs
            .iter_mut()
            .map(|(name, table)| (format!("inputs/{name}.parquet"), table.as_table_mut())),
    );
    let mut frames = Vec::new();
    let mut files = Vec::new();
    for (i, (rel, table)) in set.into_iter().enumerate() {
        match table {
            TableMut::Frame(df) => frames.push((i, rel, df)),
            TableMut::File(file) => files.push((i, rel, file)),
        }
    }
    frames.sort_by_key(|(_, _, df)| df.estimated_size());
    let queue = std::sync::Mutex::new(frames);
    let mut written: Vec<(usize, Result<ManifestOutput>)> = std::thread::scope(|scope| {
        let copies: Vec<_> = files
            .into_iter()
            .map(|(i, rel, file)| {
                scope.spawn(move || {
                    let to = root.join(&rel);
                    let copied = if file.starts_with(scratch) {
                        output::place_scratch_table(file, &to)
                    } else {
                        output::copy_table(file, &to)
                    };
                    (i, table_written(rel, copied))
                })
            })
            .collect();
        // The collected tables are encoded by two workers, this thread and one more, each taking
        // the largest table left: one table (activity, 295 MB in memory at 10M usage lines) took
        // 0.74 s of the 1.2 s their encoding took one after the other, with a core idle.
        let encode = || {
            let mut written = Vec::new();
            loop {
                // The lock is never held across a panic, so a poisoned queue is still whole.
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                let Some((i, rel, df)) = next else { break };
                let encoded = output::write_parquet(&root.join(&rel), df);
                written.push((i, table_written(rel, encoded)));
            }
            written
        };
        let helper = scope.spawn(encode);
        let mut written = encode();
        match helper.join() {
            Ok(more) => written.extend(more),
            Err(_) => written.push((
                usize::MAX,
                Err(Error::Internal("encoding a table panicked".into())),
            )),
        }
        for copy in copies {
            written.push(copy.join().unwrap_or_else(|_| {
                (
                    usize::MAX,
                    Err(Error::Internal("copying a staged table panicked".into())),
                )
            }));
        }
        written
    });
    written.sort_by_key(|(i, _)| *i);
    written.into_iter().map(|(_, w)| w).collect()
}

/// The manifest's line for a table written at `rel`, once the fault point after each table
/// passed (tests inject a failure there).
fn table_written(rel: String, written: Result<(u64, String)>) -> Result<ManifestOutput> {
    let (rows, sha256) = written?;
    output::fault_point("tables")?;
    Ok(ManifestOutput {
        file: rel,
        rows: Some(rows),
        sha256,
    })
}

/// Renders the reports and action lists (SPEC 5) and writes them: the manifest's lines for them.
pub fn write_reports(
    root: &Path,
    data: &report::ReportData,
    config: &Config,
    progress: &mut Progress,
) -> Result<Vec<ManifestOutput>> {
    let rendered = progress.stage("rendering reports", || -> Result<Vec<(String, String)>> {
        let cfg = &config.report;
        let summary = report::summarize(data, cfg)?;
        Ok(vec![
            (
                "report.html".into(),
                report::render_html(data, &summary, cfg)?,
            ),
            (
                "report.md".into(),
                report::render_markdown(data, &summary, cfg)?,
            ),
            (
                "summary.json".into(),
                report::render_summary_json(&summary)?,
            ),
            (
                "actions/collections.csv".into(),
                report::render_csv(&data.collections_actions)?,
            ),
            (
                "actions/budget_alerts.csv".into(),
                report::render_csv(&data.budget_alerts)?,
            ),
            (
                "actions/risk_review.csv".into(),
                report::render_csv(&data.risk_review)?,
            ),
        ])
    })?;
    let mut outputs = Vec::new();
    for (rel, text) in rendered {
        let sha256 = output::write_bytes(&root.join(&rel), text.as_bytes())?;
        outputs.push(ManifestOutput {
            file: rel,
            rows: None,
            sha256,
        });
    }
    Ok(outputs)
}

/// Everything the report renderers read, from the collected tables.
pub fn report_data(
    config: &Config,
    as_of: NaiveDate,
    tables: &OutputTables,
    inputs: &InputTables,
    ing: &Ingested,
) -> Result<report::ReportData> {
    let mut data =
        report::ReportData::empty(as_of, &format!("billrisk {}", env!("CARGO_PKG_VERSION")));
    let t = &tables.analyses;
    data.reporting_currency = config.reporting_currency.clone();
    data.aging_customers = t.aging_customers.clone();
    data.aging_invoices = t.aging_invoices.clone();
    data.collections_actions = t.collections_actions.clone();
    data.budget_status = t.budget_status.clone();
    data.budget_daily = t.budget_daily.clone();
    data.reconciliation = t.reconciliation.clone();
    data.anomalies = t.anomalies.clone();
    data.risk_scores = t.risk_scores.clone();
    // The report's usage charts need daily cost per customer of the customers it charts, and the
    // first day of usage: from the staged file or (pseudonymized runs) the collected table.
    // Summing every customer's days took 1.4 s at 10M usage lines, for 1.8M rows of which the
    // report draws ten customers'.
    let charted = report::charted_customers(&t.risk_scores, config.report.top_customers)?;
    let daily = t.usage_daily.lazy()?;
    let [per_day, first] = <[DataFrame; 2]>::try_from(reduce(vec![
        analysis::usage_daily::per_customer_day(daily.clone().filter(
            col(schema::usage_daily::CUSTOMER_ID).is_in(
                lit(Series::new(PlSmallStr::EMPTY, charted)).implode(false),
                false,
            ),
        )),
        daily.select([col(schema::usage_daily::USAGE_DATE).min()]),
    ])?)
    .map_err(|v| Error::Internal(format!("2 plans gave {} frames", v.len())))?;
    data.usage_daily = per_day;
    data.usage_starts = first
        .column(schema::usage_daily::USAGE_DATE)
        .stage("usage_daily")?
        .date()
        .stage("usage_daily")?
        .as_date_iter()
        .next()
        .flatten();
    data.rejected_rows = t.rejected_rows.clone();
    data.budget_alerts = t.budget_alerts.clone();
    data.risk_review = t.risk_review.clone();
    data.changes = tables.changes.clone();
    if let Some(Staged::Frame(c)) = inputs.get(schema::customers::TABLE) {
        data.customers = c.clone();
    }
    if let (Some(cur), Some(Staged::Frame(fx))) = (
        &config.reporting_currency,
        inputs.get(schema::fx_rates::TABLE),
    ) {
        data.fx_rates = analysis::fx::rates_at(fx.clone().lazy(), as_of, cur)
            .collect()
            .stage("fx rates")?;
    }
    data.input_summary = ing
        .sources
        .iter()
        .filter(|(_, c)| c.files > 0)
        .map(|(name, c)| report::InputSummaryRow {
            source: name.clone(),
            rows_read: c.rows_read,
            accepted: c.accepted,
            rejected: c.rejected,
        })
        .collect();
    Ok(data)
}

/// `billrisk ingest`'s tables: each canonical input table as a marked Parquet file in the layout
/// of SPEC section 3 (see ingest/canonical.rs), empty ones left out, and the rejected rows
/// beside them: the manifest's lines for them.
pub fn write_canonical(root: &Path, ing: &Ingested) -> Result<Vec<ManifestOutput>> {
    use crate::ingest::canonical;
    let mut outputs = Vec::new();
    for (name, lf) in ing.inputs.named() {
        let rel = canonical::layout(name);
        let (rows, sha256) = match ing.staged_inputs.get(name) {
            Some(file) => output::copy_table(file, &root.join(&rel))?,
            None => {
                let mut df = lf.collect().stage("writing canonical inputs")?;
                if df.height() == 0 {
                    continue;
                }
                output::write_marked_parquet(&root.join(&rel), &mut df, Some(name))?
            }
        };
        outputs.push(ManifestOutput {
            file: rel,
            rows: Some(rows),
            sha256,
        });
    }
    if ing.rejected.height() > 0 {
        let mut df = ing.rejected.clone();
        let (rows, sha256) = output::write_marked_parquet(
            &root.join(canonical::REJECTED_FILE),
            &mut df,
            Some(schema::rejected_rows::TABLE),
        )?;
        outputs.push(ManifestOutput {
            file: canonical::REJECTED_FILE.to_string(),
            rows: Some(rows),
            sha256,
        });
    }
    Ok(outputs)
}
