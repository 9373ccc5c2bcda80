//! The one orchestrator (SPEC 2, 5): resolves the input folder, ingests every source, fixes the
//! as-of date, builds every analysis as one lazy plan, collects them together (collect_all, so
//! Polars runs independent parts in parallel and scans shared inputs once), checks the rejected
//! share of each source, and writes tables, reports, action lists and the manifest into a staging
//! folder that replaces --out in one step. Nothing else in billrisk touches the output folder.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use crate::analysis;
use crate::cluster::{reductions, Engine as ReductionEngine};
use crate::config::Config;
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::{self, FileInfo, Inputs};
use crate::output::{self, Staging};
use crate::progress::Progress;
use crate::report;
use crate::schema;

/// Where the inputs come from.
#[derive(Debug, Clone)]
pub enum InputSource {
    /// The sample data compiled into the binary.
    Bundled,
    Folder(PathBuf),
}

pub struct RunOptions {
    pub input: InputSource,
    pub out: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub config: Config,
    /// The config file's path and text, for the manifest.
    pub config_origin: Option<PathBuf>,
    /// `--pseudonymize`: the HMAC key; every output is written with pseudonyms.
    pub pseudonym_key: Option<Vec<u8>>,
    /// `--cluster df://HOST:PORT`: the reductions over usage rows run on that Ballista cluster.
    pub cluster: Option<String>,
}

/// Per source: rows read, accepted and rejected (by reason), for validate and the manifest.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceCounts {
    pub files: usize,
    pub rows_read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
}

/// What a successful run reports back to main.
pub struct RunOutcome {
    pub as_of: NaiveDate,
    pub out: PathBuf,
    pub tables: BTreeMap<String, DataFrame>,
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
}

/// Reads and checks every input: typed tables stay lazy; rejected rows are collected.
pub fn ingest(input: &InputSource, progress: &mut Progress) -> Result<Ingested> {
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
    let (inputs, rejected) =
        progress.stage("checking rows", || -> Result<(Inputs, DataFrame)> {
            let usage = match &loaded.usage_file {
                Some(_) => loaded.inputs.usage.clone(),
                None => {
                    output::sink_parquet(
                        loaded.inputs.usage.clone(),
                        &staged_usage,
                        // The output's own compression: unless pseudonymized, this very file
                        // becomes inputs/usage.parquet (a copy, not a second encoding), and it
                        // is marked as canonical usage, as `billrisk ingest` writes it.
                        output::TABLE_COMPRESSION,
                        Some(schema::usage::TABLE),
                        "checking rows",
                    )?;
                    output::scan_own_parquet(&staged_usage)?
                }
            };
            let mut plans: Vec<(String, LazyFrame)> = loaded
                .inputs
                .named()
                .into_iter()
                .filter(|(name, _)| *name != schema::usage::TABLE)
                .map(|(name, lf)| (name.to_string(), sort_input(lf)))
                .collect();
            plans.push((REJECTED.to_string(), loaded.rejected.clone()));
            let mut frames = collect_all(plans)?;
            let mut rejected = frames.remove(REJECTED).unwrap_or_default();
            let mut accepted = BTreeMap::new();
            for (table, df) in &frames {
                for (file, n) in ingest::rows_per_file(df.clone().lazy())? {
                    accepted.insert((table.clone(), file), n);
                }
            }
            // Only files with value checks of their own need their accepted rows counted; a
            // converted usage file has none (and is then the only usage file).
            if loaded.usage_file.is_none() {
                for (file, n) in ingest::rows_per_file(usage.clone())? {
                    accepted.insert((schema::usage::TABLE.to_string(), file), n);
                }
            }
            rejected = with_value_rejects(&loaded, &accepted, rejected)?;
            let mut take = |name: &str| {
                frames
                    .remove(name)
                    .map(|df| df.lazy())
                    .ok_or_else(|| Error::Internal(format!("input table {name} was not collected")))
            };
            let activity = take(schema::activity::TABLE)?;
            let mut inputs = Inputs {
                activity: activity.clone(),
                usage,
                billed: take(schema::billed::TABLE)?,
                invoices: take(schema::invoices::TABLE)?,
                payments: take(schema::payments::TABLE)?,
                audit_records: take(schema::audit_records::TABLE)?,
                budgets: take(schema::budgets::TABLE)?,
                customers: take(schema::customers::TABLE)?,
                fraud_events: take(schema::fraud_events::TABLE)?,
                fx_rates: take(schema::fx_rates::TABLE)?,
                dispositions: take(schema::dispositions::TABLE)?,
            };
            let lookups = collect_streaming(ingest::customer_lookups(&inputs.usage))?;
            inputs.activity = ingest::map_activity_to_customers(
                activity,
                lookups.into_iter().map(|df| df.lazy()).collect(),
            )
            .collect()
            .stage("activity")?
            .lazy();
            Ok((inputs, ingest::fill_raw(rejected, &loaded.files)?))
        })?;
    let per_file_rejected = ingest::count_by(&rejected, schema::rejected_rows::FILE)?;
    let mut sources: BTreeMap<String, SourceCounts> = BTreeMap::new();
    for def in schema::INPUT_TABLES {
        sources.insert(def.name.to_string(), SourceCounts::default());
    }
    for f in &loaded.files {
        let s = sources.entry(f.table.to_string()).or_default();
        // A conversion's rejected rows file is not one of the source's files.
        s.files += usize::from(!f.carried);
        s.rows_read += f.rows_read;
    }
    {
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
    }
    for s in sources.values_mut() {
        s.accepted = s.rows_read.saturating_sub(s.rejected);
    }
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
    })
}

/// Adds the value-rejected rows of the files that have some. Which files do is known from the
/// accepted rows per (table, file): a file whose rows are not all accepted or already rejected. Their plans run
/// only then, so clean inputs are parsed and checked once (about 1 s less at 1M usage rows than
/// running every file's reject plan beside the inputs). Fails when a row is still missing.
fn with_value_rejects(
    loaded: &ingest::Loaded,
    accepted: &BTreeMap<(String, String), u64>,
    rejected: DataFrame,
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
    for df in collect_all(plans)?.into_values() {
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

/// Collects plans together on one engine: the frames, in the order of `plans`.
fn collect_frames(plans: Vec<LazyFrame>, engine: Engine) -> Result<Vec<DataFrame>> {
    let n = plans.len();
    let dfs = LazyFrame::collect_all_with_engine(
        plans.into_iter().map(|lf| lf.logical_plan).collect(),
        engine,
        OptFlags::default(),
    )
    .stage("analyses")?;
    if dfs.len() != n {
        return Err(Error::Internal(format!(
            "{n} plans gave {} frames",
            dfs.len()
        )));
    }
    Ok(dfs)
}

/// Collects plans together on Polars' streaming engine, whatever BILLRISK_ENGINE says: plans
/// that would hold usage lines whole on the in-memory engine.
fn collect_streaming(plans: Vec<LazyFrame>) -> Result<Vec<DataFrame>> {
    let timed = TimedPlan::start();
    let dfs = collect_frames(plans, Engine::Streaming)?;
    if let Some(t) = timed {
        let rows: Vec<String> = dfs.iter().map(|df| df.height().to_string()).collect();
        t.report(&format!("streamed ({} rows)", rows.join(", ")));
    }
    Ok(dfs)
}

/// Developer aid for the benchmarks (issue 8): with BILLRISK_TIME_PLANS set, the time and peak
/// memory of each plan (or group of plans) collected, on stderr.
struct TimedPlan {
    started: std::time::Instant,
    resident_before: Option<f64>,
}

impl TimedPlan {
    fn start() -> Option<TimedPlan> {
        std::env::var_os("BILLRISK_TIME_PLANS").map(|_| TimedPlan {
            resident_before: crate::progress::reset_peak_memory(),
            started: std::time::Instant::now(),
        })
    }

    fn report(self, what: &str) {
        let gib = |g: Option<f64>| g.map_or("?".into(), |g| format!("{g:.2}"));
        eprintln!(
            "plan {what}: {:.2} s, resident before {} GiB, peak {} GiB",
            self.started.elapsed().as_secs_f64(),
            gib(self.resident_before),
            gib(crate::progress::peak_memory_gib()),
        );
    }
}

/// A staged table read into memory (pseudonymizing, `billrisk query` without --out).
pub fn read_staged(file: &std::path::Path) -> Result<DataFrame> {
    output::scan_own_parquet(file)?
        .collect()
        .stage("staged table")
}

/// The engine of [`collect_all`]: Polars' streaming engine, which reads the staged usage in
/// batches where each plan's in-memory run held the columns it reads of every usage line. At 10M
/// usage lines from Parquet (commit f1da82d plus the integer-keyed usage_daily) the peak went
/// from 3.88 to 2.99 GiB and the run from 64.9 s to 62.9 s, tables byte-identical. (Before the
/// usage signals read a summary, streaming used 10 % more memory at 10M: their cached lines
/// dominated.) Developer aid: BILLRISK_ENGINE=in-memory or auto picks another engine.
fn engine() -> Engine {
    match std::env::var("BILLRISK_ENGINE").as_deref() {
        Ok("in-memory") => Engine::InMemory,
        Ok("auto") => Engine::Auto,
        _ => Engine::Streaming,
    }
}

/// Collects named plans together, so Polars optimises and runs them as one.
fn collect_all(plans: Vec<(String, LazyFrame)>) -> Result<BTreeMap<String, DataFrame>> {
    // Developer aid for the benchmarks (issue 8): collect each plan alone and print its time, to
    // find the expensive analysis. Slower overall (shared subplans run once per plan).
    if std::env::var_os("BILLRISK_TIME_PLANS").is_some() {
        let mut out = BTreeMap::new();
        for (name, lf) in plans {
            let timed = TimedPlan::start();
            let df = collect_frames(vec![lf], engine())?.remove(0);
            if let Some(t) = timed {
                t.report(&format!("{name} ({} rows)", df.height()));
            }
            out.insert(name, df);
        }
        return Ok(out);
    }
    let (names, frames): (Vec<String>, Vec<LazyFrame>) = plans.into_iter().unzip();
    let dfs = collect_frames(frames, engine())?;
    Ok(names.into_iter().zip(dfs).collect())
}

#[derive(Serialize)]
struct ManifestInput {
    source: String,
    file: String,
    size: u64,
    sha256: String,
    rows_read: u64,
    accepted: u64,
    rejected: u64,
}

#[derive(Serialize)]
struct ManifestOutput {
    file: String,
    rows: Option<u64>,
    sha256: String,
}

#[derive(Serialize)]
struct Manifest {
    billrisk_version: &'static str,
    as_of: String,
    input: String,
    config_file: Option<String>,
    config: Config,
    inputs: Vec<ManifestInput>,
    outputs: Vec<ManifestOutput>,
    timings_seconds: BTreeMap<String, f64>,
    /// Which engine computed the reductions over usage rows; on a cluster, its jobs.
    reductions: crate::cluster::ReductionsRecord,
}

/// The manifest's line for every input file: rows read, accepted and rejected.
fn manifest_inputs(ing: &Ingested) -> Vec<ManifestInput> {
    ing.files
        .iter()
        .map(|f| {
            // A conversion's rejected rows are all rejected rows of their source.
            let rejected = if f.carried {
                f.rows_read
            } else {
                ing.per_file_rejected.get(&f.display).copied().unwrap_or(0)
            };
            ManifestInput {
                source: f.table.to_string(),
                file: f.display.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
                rows_read: f.rows_read,
                accepted: f.rows_read.saturating_sub(rejected),
                rejected,
            }
        })
        .collect()
}

/// The manifest of a converted folder (`billrisk ingest`).
#[derive(Serialize)]
struct ConvertManifest {
    billrisk_version: &'static str,
    input: String,
    inputs: Vec<ManifestInput>,
    outputs: Vec<ManifestOutput>,
}

/// `billrisk ingest`: reads and checks every input once, exactly as a run does, and writes each
/// canonical table as a marked Parquet file in the layout of SPEC section 3 (see
/// ingest/canonical.rs), the rejected rows beside them and a manifest; all or nothing, like a
/// run's --out. A run or query from that folder reads the tables as they are.
pub fn convert(
    input: &InputSource,
    out: &std::path::Path,
    config: &Config,
    progress: &mut Progress,
) -> Result<Ingested> {
    use ingest::canonical;
    if let InputSource::Folder(dir) = input {
        let (i, o) = (std::path::absolute(dir), std::path::absolute(out));
        if let (Ok(i), Ok(o)) = (i, o) {
            if i.starts_with(&o) {
                return Err(output::out_err(
                    out,
                    "it is, or holds, the input folder: converting would replace the exports",
                ));
            }
        }
    }
    let ing = ingest(input, progress)?;
    check_rejected_share(&ing.sources, config.input.max_rejected_share)?;
    let staging = Staging::begin(out)?;
    let root = staging.path().to_path_buf();
    let mut outputs = Vec::new();
    progress.stage("writing canonical inputs", || -> Result<()> {
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
        let manifest = ConvertManifest {
            billrisk_version: env!("CARGO_PKG_VERSION"),
            input: describe(input),
            inputs: manifest_inputs(&ing),
            outputs,
        };
        let text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
        output::write_bytes(&root.join("manifest.json"), text.as_bytes())?;
        Ok(())
    })?;
    progress.stage("moving output into place", || staging.commit())?;
    Ok(ing)
}

/// Everything a run computes, before anything is written.
pub struct Computed {
    pub as_of: NaiveDate,
    pub ingested: Ingested,
    /// Output tables of SPEC 5 by name (rejected_rows included), except those in `staged`.
    pub tables: BTreeMap<String, DataFrame>,
    /// Output tables too large to hold (usage_daily): Parquet files in `ingested`'s scratch folder,
    /// written exactly as the output's own tables. Input tables staged the same way (usage) are
    /// in `ingested.staged_inputs`; both live as long as `ingested` does.
    pub staged: BTreeMap<String, PathBuf>,
    /// Canonical input tables by name, except the staged ones.
    pub inputs: BTreeMap<String, DataFrame>,
}

// Intermediate results shared between phases (not written).
const AGING_BASE: &str = "__aging_base";
const SIGNALS_USAGE: &str = "__signals_usage";
const SIGNALS_ACTIVITY: &str = "__signals_activity";
const SIGNALS_PAYMENT: &str = "__signals_payment";
const SIGNALS_FRAUD: &str = "__signals_fraud";

/// Collected frames by name.
struct Frames(BTreeMap<String, DataFrame>);

impl Frames {
    fn get(&self, name: &str) -> Result<&DataFrame> {
        self.0
            .get(name)
            .ok_or_else(|| Error::Internal(format!("{name} was not computed")))
    }
    fn lazy(&self, name: &str) -> Result<LazyFrame> {
        Ok(self.get(name)?.clone().lazy())
    }
    /// Removes an intermediate that is not an output table.
    fn take_lazy(&mut self, name: &str) -> Result<LazyFrame> {
        self.0
            .remove(name)
            .map(|df| df.lazy())
            .ok_or_else(|| Error::Internal(format!("{name} was not computed")))
    }
}
const REJECTED: &str = "__rejected";
/// The canonical usage table, staged in the scratch folder (see `ingest`).
const STAGED_USAGE: &str = "staged_usage.parquet";
/// The usage_daily table, staged beside it (see `compute`).
const STAGED_USAGE_DAILY: &str = "staged_usage_daily.parquet";

/// Canonical inputs in a stable order: by file and line, as they were read.
fn sort_input(lf: LazyFrame) -> LazyFrame {
    lf.sort(
        [schema::SOURCE_FILE, schema::SOURCE_LINE],
        SortMultipleOptions::default().with_maintain_order(true),
    )
}

/// Ingests, checks and computes every table: shared by `run` and `query`.
pub fn compute(
    input: &InputSource,
    as_of: Option<NaiveDate>,
    config: &Config,
    progress: &mut Progress,
) -> Result<Computed> {
    compute_with(input, as_of, config, &mut ReductionEngine::Local, progress)
}

/// [`compute`] with the reductions over usage rows on `engine` (see `cluster`): the local
/// Polars plans, or the same reductions' SQL on a Ballista cluster. Everything else is the same.
pub fn compute_with(
    input: &InputSource,
    as_of: Option<NaiveDate>,
    config: &Config,
    engine: &mut ReductionEngine,
    progress: &mut Progress,
) -> Result<Computed> {
    let ing = ingest(input, progress)?;
    check_rejected_share(&ing.sources, config.input.max_rejected_share)?;
    let as_of = resolve_as_of(&ing.inputs, as_of)?;
    progress.note(&format!("as-of date {as_of}"));

    let inputs = &ing.inputs;
    let reporting = config.reporting_currency.as_deref();
    let mut tables: BTreeMap<String, DataFrame> = BTreeMap::new();

    // The analyses run in three phases. Within a phase, independent plans run as one parallel
    // plan (collect_all); a result that later phases share (aging, budget status, exposure,
    // each signal family, the anomalies, the risk scores) is collected once and read from memory
    // afterwards, because the closures in some expressions keep Polars from recognising the
    // repeated subplans itself.
    //
    // Phase 1: receivables base, budgets, exposure, reconciliation and every signal family.
    let aging_invoices = analysis::aging::aging_invoices(
        inputs.invoices.clone(),
        inputs.payments.clone(),
        as_of,
        &config.aging,
    );
    let credit =
        analysis::aging::unapplied_credit(inputs.invoices.clone(), inputs.payments.clone(), as_of);
    let aging_base = analysis::aging::aging_customers(
        aging_invoices.clone(),
        credit.clone(),
        inputs.invoices.clone(),
        as_of,
        &config.aging,
    );
    // What budgets, reconciliation, exposure and the payment signals read of usage, collected
    // once (see usage_daily::cost_per_customer_day): each read usage on its own before.
    let usage_file = ing
        .staged_inputs
        .get(schema::usage::TABLE)
        .cloned()
        .ok_or_else(|| Error::Internal("usage was not staged".into()))?;
    let customer_days = progress.stage(
        "analyses: cost per customer and day",
        || -> Result<LazyFrame> {
            match engine.remote(&reductions::customer_days_sql(), &usage_file)? {
                Some(df) => reductions::customer_days(df.lazy())
                    .collect()
                    .stage("cost per customer and day")
                    .map(|df| df.lazy()),
                None => collect_streaming(vec![analysis::usage_daily::cost_per_customer_day(
                    inputs.usage.clone(),
                )])
                .map(|mut v| v.remove(0).lazy()),
            }
        },
    )?;
    let budget_status = analysis::budgets::budget_status(
        customer_days.clone(),
        inputs.budgets.clone(),
        inputs.fx_rates.clone(),
        as_of,
        reporting,
        &config.budgets,
    );
    // usage_daily has nearly a row per usage row (a row per customer, subscription, meter
    // category and day): it is streamed to a file beside the staged usage, never held in memory,
    // and written to the output as a copy of that file.
    let daily_file = ing.scratch.path().join(STAGED_USAGE_DAILY);
    progress.stage("analyses: usage_daily", || -> Result<()> {
        let daily = match engine.remote(&reductions::usage_daily_sql(as_of), &usage_file)? {
            Some(df) => reductions::usage_daily(df.lazy()),
            None => analysis::usage_daily::usage_daily(inputs.usage.clone(), as_of),
        };
        output::sink_parquet(
            daily,
            &daily_file,
            output::TABLE_COMPRESSION,
            None,
            "analyses",
        )
    })?;
    let phase1 = progress.stage("analyses: aging, budgets, signals", || {
        // The usage signals read usage through a small summary, collected first; the two parts
        // that read usage lines again (round_the_clock, the GPU share of spikes) are streamed
        // apart from the shared plan, which would hold the lines they read whole (see
        // usage_signals::usage_summary).
        let signals = &config.usage_signals;
        let summary = collect_streaming(vec![analysis::usage_signals::usage_summary(
            inputs.usage.clone(),
            as_of,
            signals,
        )])?
        .remove(0)
        .lazy();
        let mut streamed = collect_streaming(vec![
            analysis::usage_signals::round_the_clock_signals(
                inputs.usage.clone(),
                summary.clone(),
                as_of,
                signals,
            ),
            analysis::usage_signals::gpu_daily(
                inputs.usage.clone(),
                summary.clone(),
                as_of,
                signals,
            ),
        ])?;
        let gpu_daily = streamed.remove(1).lazy();
        let round_the_clock = streamed.remove(0).lazy();
        let usage_signals = analysis::usage_signals::summary_signals(
            summary,
            gpu_daily,
            output::scan_own_parquet(&daily_file)?,
            inputs.customers.clone(),
            as_of,
            signals,
        );
        collect_all(vec![
            (schema::aging_invoices::TABLE.into(), aging_invoices),
            (schema::unapplied_credit::TABLE.into(), credit),
            (AGING_BASE.into(), aging_base),
            (schema::budget_status::TABLE.into(), budget_status),
            (
                schema::budget_daily::TABLE.into(),
                analysis::budgets::budget_daily(
                    customer_days.clone(),
                    inputs.budgets.clone(),
                    inputs.fx_rates.clone(),
                    as_of,
                    reporting,
                    &config.budgets,
                ),
            ),
            (
                schema::reconciliation::TABLE.into(),
                analysis::reconciliation::reconciliation(
                    customer_days.clone(),
                    inputs.billed.clone(),
                    inputs.invoices.clone(),
                    as_of,
                ),
            ),
            (
                SIGNALS_USAGE.into(),
                analysis::usage_signals::as_strength(
                    analysis::usage_signals::sorted_signals(vec![usage_signals, round_the_clock]),
                    &config.usage_signals,
                ),
            ),
            (
                SIGNALS_ACTIVITY.into(),
                analysis::anomalies::activity_signals(
                    inputs.activity.clone(),
                    inputs.audit_records.clone(),
                    as_of,
                    &config.anomalies,
                ),
            ),
            (
                SIGNALS_FRAUD.into(),
                analysis::anomalies::fraud_signals(
                    inputs.fraud_events.clone(),
                    as_of,
                    &config.anomalies,
                ),
            ),
        ])
    })?;
    let mut phase1 = Frames(phase1);
    let aging_base = phase1.lazy(AGING_BASE)?;
    let exposure_plan = analysis::exposure::exposure(
        aging_base.clone(),
        customer_days.clone(),
        inputs.invoices.clone(),
        phase1.lazy(schema::budget_status::TABLE)?,
        as_of,
    );
    let payment_plan = analysis::anomalies::payment_signals(
        customer_days,
        inputs.payments.clone(),
        inputs.invoices.clone(),
        inputs.customers.clone(),
        aging_base.clone(),
        as_of,
        &config.anomalies,
    );

    // Phase 2: exposure, payment signals, then the anomalies with analyst feedback.
    let mut phase2 = Frames(progress.stage("analyses: exposure, anomalies", || {
        collect_all(vec![
            (schema::exposure::TABLE.into(), exposure_plan),
            (SIGNALS_PAYMENT.into(), payment_plan),
        ])
    })?);
    let anomalies_plan = analysis::anomalies::all_anomalies(
        vec![
            phase1.take_lazy(SIGNALS_USAGE)?,
            phase1.take_lazy(SIGNALS_ACTIVITY)?,
            phase2.take_lazy(SIGNALS_PAYMENT)?,
            phase1.take_lazy(SIGNALS_FRAUD)?,
        ],
        inputs.dispositions.clone(),
        as_of,
    );
    let anomalies = anomalies_plan.collect().stage("anomalies")?;

    // Phase 3: risk scores, then what depends on them (review queue, risk-driven dunning).
    let risk_scores = progress.stage("analyses: risk, collections", || {
        analysis::risk::risk_scores(
            anomalies.clone().lazy(),
            inputs.customers.clone(),
            phase2.lazy(schema::exposure::TABLE)?,
            inputs.dispositions.clone(),
            as_of,
            &config.risk,
        )
        .collect()
        .stage("risk scores")
    })?;
    let collections = analysis::collections::collections_actions(
        phase1.lazy(schema::aging_invoices::TABLE)?,
        aging_base.clone(),
        inputs.customers.clone(),
        Some(analysis::risk::risk_tiers(risk_scores.clone().lazy())),
        &config.collections,
    );
    let aging_customers = analysis::collections::with_actions(aging_base, collections.clone());
    let mut plans: Vec<(String, LazyFrame)> = vec![
        (
            schema::budget_alerts::TABLE.into(),
            analysis::budgets::budget_alerts(
                phase1.lazy(schema::budget_status::TABLE)?,
                inputs.customers.clone(),
            ),
        ),
        (schema::collections_actions::TABLE.into(), collections),
        (
            schema::aging_customers::TABLE.into(),
            aging_customers.clone(),
        ),
        (
            schema::risk_review::TABLE.into(),
            analysis::risk::risk_review(risk_scores.clone().lazy(), &config.report.review_min_tier),
        ),
    ];
    if let Some(cur) = reporting {
        let rates = analysis::fx::rates_at(inputs.fx_rates.clone(), as_of, cur);
        plans.push((
            schema::converted_totals::TABLE.into(),
            analysis::aging::converted_totals(aging_customers, rates, cur),
        ));
    }
    let phase3 = collect_all(plans)?;

    for (name, df) in phase1.0.into_iter().chain(phase2.0).chain(phase3) {
        if name != AGING_BASE {
            tables.insert(name, df);
        }
    }
    tables.insert(schema::anomalies::TABLE.into(), anomalies);
    tables.insert(schema::risk_scores::TABLE.into(), risk_scores);
    tables.insert(
        schema::rejected_rows::TABLE.to_string(),
        ing.rejected.clone(),
    );
    let input_tables = collect_all(
        inputs
            .named()
            .into_iter()
            .filter(|(name, _)| !ing.staged_inputs.contains_key(*name))
            .map(|(name, lf)| (name.to_string(), lf))
            .collect(),
    )?;
    Ok(Computed {
        as_of,
        staged: BTreeMap::from([(schema::usage_daily::TABLE.to_string(), daily_file)]),
        ingested: ing,
        tables,
        inputs: input_tables,
    })
}

/// `billrisk run`.
pub fn run(opts: &RunOptions, progress: &mut Progress) -> Result<RunOutcome> {
    // The engine of the reductions, chosen here once: with --cluster, usage and activity must be
    // converted files, and a scheduler that cannot be reached fails the run before any reading.
    if opts.cluster.is_some() {
        crate::cluster::check_converted(&opts.input)?;
    }
    let mut engine = ReductionEngine::connect(opts.cluster.as_deref())?;
    let staging = Staging::begin(&opts.out)?;
    let Computed {
        as_of,
        ingested: ing,
        mut tables,
        inputs: mut input_tables,
        mut staged,
    } = compute_with(&opts.input, opts.as_of, &opts.config, &mut engine, progress)?;
    // Staged tables are copied into the output, except when names must be replaced first:
    // pseudonymizing reads and rewrites every table in memory.
    let mut staged_inputs = ing.staged_inputs.clone();
    if let Some(key) = &opts.pseudonym_key {
        for (set, files) in [
            (&mut tables, &mut staged),
            (&mut input_tables, &mut staged_inputs),
        ] {
            for (name, file) in std::mem::take(files) {
                set.insert(name, read_staged(&file)?);
            }
        }
        let p = crate::pseudonymize::Pseudonymizer::new(key.clone());
        progress.stage("pseudonymizing", || p.apply(&mut tables, &mut input_tables))?;
    }
    output::fault_point("analyses")?;

    let root = staging.path().to_path_buf();
    let mut outputs = Vec::new();
    progress.stage("writing tables", || -> Result<()> {
        // Files staged in the scratch folder are copied, not re-encoded.
        for (dir, set, files) in [
            ("tables", &mut tables, &staged),
            ("inputs", &mut input_tables, &staged_inputs),
        ] {
            let mut names: Vec<String> = set.keys().chain(files.keys()).cloned().collect();
            names.sort();
            for name in names {
                let rel = format!("{dir}/{name}.parquet");
                let (rows, sha256) = match (set.get_mut(&name), files.get(&name)) {
                    (Some(df), _) => output::write_parquet(&root.join(&rel), df)?,
                    (None, Some(file)) => output::copy_table(file, &root.join(&rel))?,
                    (None, None) => {
                        return Err(Error::Internal(format!("{rel} has no data")));
                    }
                };
                outputs.push(ManifestOutput {
                    file: rel,
                    rows: Some(rows),
                    sha256,
                });
                output::fault_point("tables")?;
            }
        }
        Ok(())
    })?;

    // Reports and action lists (SPEC 5): rendering is pure, files are written here.
    let report_data = report_data(&opts.config, as_of, &tables, &staged, &input_tables, &ing)?;
    let rendered = progress.stage("rendering reports", || -> Result<Vec<(String, String)>> {
        let cfg = &opts.config.report;
        let summary = report::summarize(&report_data, cfg)?;
        Ok(vec![
            (
                "report.html".into(),
                report::render_html(&report_data, &summary, cfg)?,
            ),
            (
                "report.md".into(),
                report::render_markdown(&report_data, &summary, cfg)?,
            ),
            (
                "summary.json".into(),
                report::render_summary_json(&summary)?,
            ),
            (
                "actions/collections.csv".into(),
                report::render_csv(&report_data.collections_actions)?,
            ),
            (
                "actions/budget_alerts.csv".into(),
                report::render_csv(&report_data.budget_alerts)?,
            ),
            (
                "actions/risk_review.csv".into(),
                report::render_csv(&report_data.risk_review)?,
            ),
        ])
    })?;
    for (rel, text) in rendered {
        let sha256 = output::write_bytes(&root.join(&rel), text.as_bytes())?;
        outputs.push(ManifestOutput {
            file: rel,
            rows: None,
            sha256,
        });
    }
    output::fault_point("reports")?;

    let manifest = Manifest {
        billrisk_version: env!("CARGO_PKG_VERSION"),
        as_of: as_of.to_string(),
        input: describe(&opts.input),
        config_file: opts.config_origin.as_ref().map(|p| p.display().to_string()),
        config: opts.config.clone(),
        inputs: manifest_inputs(&ing),
        outputs,
        timings_seconds: progress
            .timings()
            .iter()
            .map(|(k, v)| (k.clone(), (v.as_secs_f64() * 1000.0).round() / 1000.0))
            .collect(),
        reductions: engine.record(),
    };
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    output::write_bytes(&root.join("manifest.json"), text.as_bytes())?;
    output::fault_point("manifest")?;
    progress.stage("moving output into place", || staging.commit())?;
    Ok(RunOutcome {
        as_of,
        out: opts.out.clone(),
        tables,
    })
}

/// Everything the report renderers read, from the collected tables.
fn report_data(
    config: &Config,
    as_of: NaiveDate,
    tables: &BTreeMap<String, DataFrame>,
    staged: &BTreeMap<String, PathBuf>,
    inputs: &BTreeMap<String, DataFrame>,
    ing: &Ingested,
) -> Result<report::ReportData> {
    let mut data =
        report::ReportData::empty(as_of, &format!("billrisk {}", env!("CARGO_PKG_VERSION")));
    let table = |name: &str| -> Result<DataFrame> {
        tables
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Internal(format!("{name} was not computed")))
    };
    data.reporting_currency = config.reporting_currency.clone();
    data.aging_customers = table(schema::aging_customers::TABLE)?;
    data.aging_invoices = table(schema::aging_invoices::TABLE)?;
    data.collections_actions = table(schema::collections_actions::TABLE)?;
    data.budget_status = table(schema::budget_status::TABLE)?;
    data.budget_daily = table(schema::budget_daily::TABLE)?;
    data.reconciliation = table(schema::reconciliation::TABLE)?;
    data.anomalies = table(schema::anomalies::TABLE)?;
    data.risk_scores = table(schema::risk_scores::TABLE)?;
    // The report's usage charts need daily cost per customer only: summed from usage_daily, from
    // the staged file or (pseudonymized runs) the collected table.
    let daily = match staged.get(schema::usage_daily::TABLE) {
        Some(file) => output::scan_own_parquet(file)?,
        None => table(schema::usage_daily::TABLE)?.lazy(),
    };
    // Streamed: 1.2 s instead of 2.5 s in memory at 10M usage lines.
    data.usage_daily =
        collect_streaming(vec![analysis::usage_daily::per_customer_day(daily)])?.remove(0);
    data.rejected_rows = table(schema::rejected_rows::TABLE)?;
    data.budget_alerts = table(schema::budget_alerts::TABLE)?;
    data.risk_review = table(schema::risk_review::TABLE)?;
    if let Some(c) = inputs.get(schema::customers::TABLE) {
        data.customers = c.clone();
    }
    if let (Some(cur), Some(fx)) = (
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

/// `billrisk validate`: reads and checks everything, writes nothing.
pub fn validate(input: &InputSource, progress: &mut Progress) -> Result<Ingested> {
    ingest(input, progress)
}

/// Input folder of an InputSource, for messages.
pub fn describe(input: &InputSource) -> String {
    match input {
        InputSource::Bundled => "bundled sample data".into(),
        InputSource::Folder(p) => p.display().to_string(),
    }
}

/// Whether any customer's risk tier is at or above `tier` (for --fail-on, exit 3).
pub fn tier_reached(outcome: &RunOutcome, tier: &str) -> Result<bool> {
    match outcome.tables.get(schema::risk_scores::TABLE) {
        Some(scores) => Ok(analysis::risk::reaches_tier(scores, tier)),
        None => Err(Error::Internal("risk_scores was not computed".into())),
    }
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
