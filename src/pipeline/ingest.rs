//! Reading the inputs for a run, a conversion, a validation or a query: every source parsed and
//! checked once, usage staged as a Parquet file in the scratch folder (never held whole), the
//! other sources and the rejected rows collected in one parallel plan, every row accounted for
//! (accepted or rejected, per file and per source), the rejected-share limit, the as-of date and
//! the per-source summary `billrisk validate` prints.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use super::collect::{self, collect_named, phase, reduce};
use super::InputSource;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::{self, FileInfo, Inputs};
use crate::output;
use crate::progress::Progress;
use crate::schema;

/// The canonical usage table, staged in the scratch folder (see [`ingest`]).
const STAGED_USAGE: &str = "staged_usage.parquet";

/// Per source: rows read, accepted and rejected (by reason), for validate and the manifest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceCounts {
    pub files: usize,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
}

/// Ingested inputs, collected rejected rows and counts: shared by run, validate and query.
pub struct Ingested {
    pub inputs: Inputs,
    pub rejected: DataFrame,
    pub files: Vec<FileInfo>,
    pub per_file_rejected: BTreeMap<String, u64>,
    pub sources: BTreeMap<String, SourceCounts>,
    /// Scratch space (bundled sample data, rewritten CSVs, staged tables); removed on drop.
    pub scratch: tempfile::TempDir,
    pub input_dir: PathBuf,
    /// Input tables staged as Parquet files in `scratch` (usage), by name; `inputs` scans them.
    pub staged_inputs: BTreeMap<String, PathBuf>,
    /// Rows of the canonical usage table: what the engine of the phases is chosen by
    /// (collect::phase_engine).
    pub usage_lines: u64,
}

impl Ingested {
    /// The Polars engine of the run's phases and input tables, by its number of usage lines
    /// (collect::phase_engine).
    pub(crate) fn phase_engine(&self) -> Engine {
        collect::phase_engine(self.usage_lines)
    }
}

phase! {
    /// Every input but usage (sorted as read) and the rejected rows found while reading.
    InputPlans => InputFrames {
        billed: LazyFrame = schema::billed::TABLE,
        invoices: LazyFrame = schema::invoices::TABLE,
        payments: LazyFrame = schema::payments::TABLE,
        activity: LazyFrame = schema::activity::TABLE,
        audit_records: LazyFrame = schema::audit_records::TABLE,
        budgets: LazyFrame = schema::budgets::TABLE,
        customers: LazyFrame = schema::customers::TABLE,
        fraud_events: LazyFrame = schema::fraud_events::TABLE,
        fx_rates: LazyFrame = schema::fx_rates::TABLE,
        dispositions: LazyFrame = schema::dispositions::TABLE,
        rejected: LazyFrame = "__rejected",
    }
}

impl InputPlans {
    fn new(loaded: &ingest::Loaded) -> InputPlans {
        let i = &loaded.inputs;
        InputPlans {
            billed: sort_input(i.billed.clone()),
            invoices: sort_input(i.invoices.clone()),
            payments: sort_input(i.payments.clone()),
            activity: sort_input(i.activity.clone()),
            audit_records: sort_input(i.audit_records.clone()),
            budgets: sort_input(i.budgets.clone()),
            customers: sort_input(i.customers.clone()),
            fraud_events: sort_input(i.fraud_events.clone()),
            fx_rates: sort_input(i.fx_rates.clone()),
            dispositions: sort_input(i.dispositions.clone()),
            rejected: loaded.rejected.clone(),
        }
    }
}

impl InputFrames {
    /// The collected input tables with their names (the rejected rows aside).
    fn named(&self) -> [(&'static str, &DataFrame); 10] {
        [
            (schema::billed::TABLE, &self.billed),
            (schema::invoices::TABLE, &self.invoices),
            (schema::payments::TABLE, &self.payments),
            (schema::activity::TABLE, &self.activity),
            (schema::audit_records::TABLE, &self.audit_records),
            (schema::budgets::TABLE, &self.budgets),
            (schema::customers::TABLE, &self.customers),
            (schema::fraud_events::TABLE, &self.fraud_events),
            (schema::fx_rates::TABLE, &self.fx_rates),
            (schema::dispositions::TABLE, &self.dispositions),
        ]
    }
}

/// Reads and checks every input: typed tables stay lazy; rejected rows are collected.
pub fn ingest(input: &InputSource, progress: &mut Progress) -> Result<Ingested> {
    ingest_with(input, &mut crate::cluster::Engine::Local, progress)
}

/// [`ingest`] with the customer lookups of usage (what maps activity to customers) on `engine`.
pub fn ingest_with(
    input: &InputSource,
    engine: &mut crate::cluster::Engine,
    progress: &mut Progress,
) -> Result<Ingested> {
    let scratch = output::scratch_dir()?;
    let input_dir = match input {
        InputSource::Bundled => {
            progress.note("no --input given: using the bundled sample data");
            crate::sample::extract(scratch.path())?
        }
        InputSource::Folder(p) => p.clone(),
    };
    let loaded = progress.stage("reading inputs", || {
        ingest::load(&input_dir, scratch.path())
    })?;
    // Every input is parsed once, here. Usage, the one source that grows with the business (tens
    // of millions of rows for a large distributor), is streamed into a Parquet file in the scratch
    // folder and scanned from there by every analysis, so it is never held in memory whole; the
    // other sources are collected in one parallel plan together with the rejected rows.
    // Usage that `billrisk ingest` already converted is that file already: scanned in place.
    let staged_usage = match &loaded.usage_file {
        Some(file) => file.clone(),
        None => scratch.path().join(STAGED_USAGE),
    };
    let (inputs, rejected, usage_lines) = progress.stage("checking rows", || {
        check_rows(&loaded, &staged_usage, engine)
    })?;
    let per_file_rejected = ingest::count_by(&rejected, schema::rejected_rows::FILE)?;
    let sources = source_counts(&loaded.files, &rejected)?;
    output::fault_point("ingest")?;
    Ok(Ingested {
        inputs,
        rejected,
        files: loaded.files,
        per_file_rejected,
        sources,
        scratch,
        input_dir,
        staged_inputs: BTreeMap::from([(schema::usage::TABLE.to_string(), staged_usage)]),
        usage_lines,
    })
}

/// Stages usage (unless converted already), collects the other inputs and the rejected rows,
/// accounts for every row and maps activity to customers; the inputs, the rejected rows and the
/// number of usage lines.
fn check_rows(
    loaded: &ingest::Loaded,
    staged_usage: &std::path::Path,
    engine: &mut crate::cluster::Engine,
) -> Result<(Inputs, DataFrame, u64)> {
    let usage = match &loaded.usage_file {
        Some(_) => loaded.inputs.usage.clone(),
        None => {
            output::sink_parquet(
                loaded.inputs.usage.clone(),
                staged_usage,
                // The output's own compression: unless pseudonymized, this very file
                // becomes inputs/usage.parquet (a copy, not a second encoding), and it
                // is marked as canonical usage, as `billrisk ingest` writes it.
                output::TABLE_COMPRESSION,
                Some(schema::usage::TABLE),
                "checking rows",
            )?;
            output::scan_own_parquet(staged_usage)?
        }
    };
    let usage_lines = crate::files::parquet_rows(staged_usage)?;
    let phases = collect::phase_engine(usage_lines);
    let frames = InputPlans::new(loaded).collect(phases)?;
    let mut accepted = BTreeMap::new();
    for (table, df) in frames.named() {
        for (file, n) in ingest::rows_per_file(df.clone().lazy())? {
            accepted.insert((table.to_string(), file), n);
        }
    }
    // Only files with value checks of their own need their accepted rows counted; a
    // converted usage file has none (and is then the only usage file).
    if loaded.usage_file.is_none() {
        for (file, n) in ingest::rows_per_file(usage.clone())? {
            accepted.insert((schema::usage::TABLE.to_string(), file), n);
        }
    }
    let rejected = with_value_rejects(loaded, &accepted, frames.rejected, phases)?;
    let lookups = match crate::cluster::reductions::customer_lookups(engine, staged_usage)? {
        Some(on_cluster) => on_cluster,
        None => reduce(ingest::customer_lookups(&usage))?,
    };
    let activity = ingest::map_activity_to_customers(
        frames.activity.lazy(),
        lookups.into_iter().map(|df| df.lazy()).collect(),
    )
    .collect()
    .stage("activity")?
    .lazy();
    let inputs = Inputs {
        activity,
        usage,
        billed: frames.billed.lazy(),
        invoices: frames.invoices.lazy(),
        payments: frames.payments.lazy(),
        audit_records: frames.audit_records.lazy(),
        budgets: frames.budgets.lazy(),
        customers: frames.customers.lazy(),
        fraud_events: frames.fraud_events.lazy(),
        fx_rates: frames.fx_rates.lazy(),
        dispositions: frames.dispositions.lazy(),
    };
    Ok((
        inputs,
        ingest::fill_raw(rejected, &loaded.files)?,
        usage_lines,
    ))
}

/// Per source: files, rows read, rejected (by kind of reason) and accepted.
fn source_counts(
    files: &[FileInfo],
    rejected: &DataFrame,
) -> Result<BTreeMap<String, SourceCounts>> {
    let mut sources: BTreeMap<String, SourceCounts> = BTreeMap::new();
    for def in schema::INPUT_TABLES {
        sources.insert(def.name.to_string(), SourceCounts::default());
    }
    for f in files {
        let s = sources.entry(f.table.to_string()).or_default();
        // A conversion's rejected rows file is not one of the source's files.
        s.files += usize::from(!f.carried);
        s.rows_read += f.rows_read;
    }
    use schema::rejected_rows as r;
    let src = rejected
        .column(r::SOURCE)
        .stage("rejected rows")?
        .str()
        .stage("rejected rows")?;
    let reason = rejected
        .column(r::REASON)
        .stage("rejected rows")?
        .str()
        .stage("rejected rows")?;
    for (s, why) in src.iter().zip(reason.iter()) {
        let e = sources.entry(s.unwrap_or("").to_string()).or_default();
        e.rejected += 1;
        *e.rejected_by_reason
            .entry(reason_kind(why.unwrap_or("")))
            .or_default() += 1;
    }
    for s in sources.values_mut() {
        s.accepted = s.rows_read.saturating_sub(s.rejected);
    }
    Ok(sources)
}

/// Adds the value-rejected rows of the files that have some. Which files do is known from the
/// accepted rows per (table, file): a file whose rows are not all accepted or already rejected. Their plans run
/// only then, so clean inputs are parsed and checked once (about 1 s less at 1M usage rows than
/// running every file's reject plan beside the inputs). Fails when a row is still missing.
fn with_value_rejects(
    loaded: &ingest::Loaded,
    accepted: &BTreeMap<(String, String), u64>,
    rejected: DataFrame,
    engine: Engine,
) -> Result<DataFrame> {
    let mut known = ingest::count_by(&rejected, schema::rejected_rows::FILE)?;
    let todo = ingest::unaccounted_files(&loaded.value_rejects, &loaded.files, accepted, &known);
    if todo.is_empty() {
        return Ok(rejected);
    }
    let plans = todo
        .iter()
        .map(|&i| (i.to_string(), loaded.value_rejects[i].plan.clone()))
        .collect();
    let mut out = rejected;
    for df in collect_named(plans, engine)?.into_values() {
        out.vstack_mut(&df).stage("rejected rows")?;
    }
    known = ingest::count_by(&out, schema::rejected_rows::FILE)?;
    let left = ingest::unaccounted_files(&loaded.value_rejects, &loaded.files, accepted, &known);
    if let Some(&i) = left.first() {
        return Err(Error::Internal(format!(
            "rows of {} are neither accepted nor rejected",
            loaded.value_rejects[i].file
        )));
    }
    Ok(out)
}

/// "expected a date (...), found '13/45/2025'" -> "expected a date (...)": groups reasons.
fn reason_kind(reason: &str) -> String {
    match reason.find(", found") {
        Some(i) => reason[..i].to_string(),
        None => reason.to_string(),
    }
}

/// Fails the run when a source's rejected share passes the configured limit.
pub fn check_rejected_share(sources: &BTreeMap<String, SourceCounts>, limit: f64) -> Result<()> {
    for (name, s) in sources {
        if s.rows_read == 0 {
            continue;
        }
        let share = s.rejected as f64 / s.rows_read as f64;
        if share > limit {
            return Err(Error::TooManyRejected {
                source_name: name.clone(),
                read: s.rows_read,
                rejected: s.rejected,
                share: share * 100.0,
                limit: limit * 100.0,
            });
        }
    }
    Ok(())
}

/// The as-of date: given, or the last usage date in the data.
pub fn resolve_as_of(inputs: &Inputs, given: Option<NaiveDate>) -> Result<NaiveDate> {
    if let Some(d) = given {
        return Ok(d);
    }
    let df = inputs
        .usage
        .clone()
        .select([col(schema::usage::USAGE_DATE).max()])
        .collect()
        .stage("as-of date")?;
    let v = df
        .column(schema::usage::USAGE_DATE)
        .stage("as-of date")?
        .date()
        .stage("as-of date")?
        .physical()
        .get(0);
    match v {
        Some(days) => Ok(ingest::values::date_from_days(days)),
        None => Err(Error::BadValue {
            path: PathBuf::from("usage/"),
            line: 0,
            column: "UsageDate".into(),
            expected: "at least one usage row with a valid date (or --as-of)".into(),
            found: "no usage rows".into(),
        }),
    }
}

/// Canonical inputs in a stable order: by file and line, as they were read.
fn sort_input(lf: LazyFrame) -> LazyFrame {
    lf.sort(
        [schema::SOURCE_FILE, schema::SOURCE_LINE],
        SortMultipleOptions::default().with_maintain_order(true),
    )
}

/// The per-source summary `billrisk validate` prints, for a data steward.
pub fn validation_report(ing: &Ingested) -> String {
    let mut s = String::new();
    s.push_str(&format!("input: {}\n\n", ing.input_dir.display()));
    s.push_str(&format!(
        "{:<14} {:>6} {:>12} {:>12} {:>10}\n",
        "source", "files", "rows read", "accepted", "rejected"
    ));
    for (name, c) in &ing.sources {
        s.push_str(&format!(
            "{:<14} {:>6} {:>12} {:>12} {:>10}\n",
            name, c.files, c.rows_read, c.accepted, c.rejected
        ));
        for (reason, n) in &c.rejected_by_reason {
            s.push_str(&format!("    {n:>8} x {reason}\n"));
        }
    }
    let total: u64 = ing.sources.values().map(|c| c.rejected).sum();
    if total > 0 {
        s.push_str("\nfirst rejected rows (file:line column: reason):\n");
        use schema::rejected_rows as r;
        let get = |c: &str| {
            ing.rejected
                .column(c)
                .ok()
                .and_then(|c| c.cast(&DataType::String).ok())
        };
        if let (Some(f), Some(l), Some(c), Some(why)) =
            (get(r::FILE), get(r::LINE), get(r::COLUMN), get(r::REASON))
        {
            if let (Ok(f), Ok(l), Ok(c), Ok(why)) = (f.str(), l.str(), c.str(), why.str()) {
                for i in 0..ing.rejected.height().min(20) {
                    s.push_str(&format!(
                        "  {}:{} {}: {}\n",
                        f.get(i).unwrap_or(""),
                        l.get(i).unwrap_or(""),
                        c.get(i).unwrap_or(""),
                        why.get(i).unwrap_or("")
                    ));
                }
            }
        }
    }
    s
}
