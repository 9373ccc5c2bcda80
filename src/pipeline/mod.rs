//! The one orchestrator (SPEC 2, 5): resolves the input folder, ingests every source, fixes the
//! as-of date, builds every analysis as lazy plans, collects them (collect_all, so Polars runs
//! independent parts in parallel and scans shared inputs once, where that is faster), checks the
//! rejected
//! share of each source, and writes tables, reports, action lists and the manifest into a staging
//! folder that replaces --out in one step. Nothing else in billrisk touches the output folder.
//!
//! The entry points are here: [`run`], [`convert`] (`billrisk ingest`), [`validate`] and
//! [`query_tables`] (what `billrisk query` without --out queries), all on [`compute`]. A run, in
//! the order of its modules:
//! - `ingest`: reading and checking the inputs, row accounting, per-source counts, the
//!   rejected-share limit, usage staged as a Parquet file;
//! - `plan`: the analyses as pure functions returning a struct of plans per phase;
//! - `collect`: the engine, collect_all, the streamed row-scaling reductions of usage (the one
//!   place that decides where they run), per-plan timing;
//! - `tables`: the typed output tables ([`OutputTables`]) and their fixed order;
//! - `previous`: the comparison with the previous run (reading one is crate::previous_run);
//! - `write` and `manifest`: everything written into the staging folder.

mod collect;
mod ingest;
mod manifest;
mod plan;
mod previous;
mod tables;
mod write;

use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::cluster::{reductions, Engine as ReductionEngine};
use crate::config::Config;
use crate::error::{Error, PolarsContext, Result};
use crate::output::{self, Staging};
use crate::progress::Progress;

pub use collect::read_staged;
pub use ingest::{
    check_rejected_share, ingest, resolve_as_of, validation_report, Ingested, SourceCounts,
};
pub use previous::{compare_with_previous, tier_newly_reached};
pub use tables::{Analyses, InputTables, OutputTables, Staged, TableMut};

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
    /// `--previous DIR`: the earlier run to compare with (default: --out, when it holds one).
    pub previous: Option<PathBuf>,
    /// `--no-previous`: compare with nothing.
    pub no_previous: bool,
    /// `--cluster df://HOST:PORT`: the reductions over usage rows run on that Ballista cluster.
    pub cluster: Option<String>,
}

/// What a successful run reports back to main.
pub struct RunOutcome {
    pub as_of: NaiveDate,
    pub out: PathBuf,
    pub tables: OutputTables,
    /// Whether the run's risk tiers were compared with a previous run's (tables/changes.parquet
    /// has the tier changes).
    pub compared: bool,
}

/// Everything a run computes, before anything is written.
pub struct Computed {
    pub as_of: NaiveDate,
    pub ingested: Ingested,
    /// The output tables of SPEC 5 but `changes` (see [`compare_with_previous`]). A staged table
    /// (usage_daily) is a Parquet file in `ingested`'s scratch folder, written exactly as the
    /// output's own tables; it lives as long as `ingested` does.
    pub tables: Analyses,
    /// Canonical input tables by name (usage staged, see `ingested.staged_inputs`).
    pub inputs: InputTables,
}

/// The usage_daily table, staged beside the staged usage (see [`compute`]).
const STAGED_USAGE_DAILY: &str = "staged_usage_daily.parquet";

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
    let ing = ingest::ingest_with(input, engine, progress)?;
    check_rejected_share(&ing.sources, config.input.max_rejected_share)?;
    let as_of = resolve_as_of(&ing.inputs, as_of)?;
    progress.note(&format!("as-of date {as_of}"));
    let inputs = &ing.inputs;

    // The row-scaling reductions of usage first (see collect.rs), then the three phases of
    // plan.rs.
    let daily_file = ing.scratch.path().join(STAGED_USAGE_DAILY);
    let usage = usage_reductions(&ing, as_of, config, engine, &daily_file, progress)?;
    let customer_days = usage.customer_days.clone();
    let phases = ing.phase_engine();
    let mut phase1 = progress.stage("analyses: aging, budgets, signals", || {
        let burn_up = plan::burn_up(inputs, &usage, as_of, config).collect(phases)?;
        plan::phase1(inputs, &usage, &burn_up, as_of, config).collect_each(phases)
    })?;
    let phase2 = progress.stage("analyses: exposure, anomalies", || {
        plan::phase2(inputs, &phase1, customer_days, as_of, config).collect(phases)
    })?;
    let anomalies = plan::anomalies(inputs, &mut phase1, phase2.signals_payment, as_of)
        .collect()
        .stage("anomalies")?;
    let risk_scores = progress.stage("analyses: risk, collections", || {
        plan::risk_scores(inputs, &anomalies, &phase2.exposure, as_of, config)
            .collect()
            .stage("risk scores")
    })?;
    let phase3 = plan::phase3(inputs, &phase1, &risk_scores, as_of, config).collect(phases)?;

    let tables = Analyses {
        aging_customers: phase3.aging_customers,
        aging_invoices: phase1.aging_invoices,
        anomalies,
        budget_alerts: phase3.budget_alerts,
        budget_daily: phase1.budget_daily,
        budget_status: phase1.budget_status,
        collections_actions: phase3.collections_actions,
        converted_totals: phase3.converted_totals,
        exposure: phase2.exposure,
        reconciliation: phase1.reconciliation,
        rejected_rows: ing.rejected.clone(),
        risk_review: phase3.risk_review,
        risk_scores,
        unapplied_credit: phase1.unapplied_credit,
        usage_daily: Staged::File(daily_file),
    };
    let inputs = input_tables(&ing)?;
    Ok(Computed {
        as_of,
        ingested: ing,
        tables,
        inputs,
    })
}

/// The reductions over every usage line (and the activity events' history) that the phases read,
/// collected: on a cluster, its SQL; locally, the streamed Polars plans of collect.rs. usage_daily
/// is streamed to `daily_file`.
fn usage_reductions(
    ing: &Ingested,
    as_of: NaiveDate,
    config: &Config,
    engine: &mut ReductionEngine,
    daily_file: &std::path::Path,
    progress: &mut Progress,
) -> Result<plan::UsageReductions> {
    let inputs = &ing.inputs;
    let usage_file = ing
        .staged_inputs
        .get(crate::schema::usage::TABLE)
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
                None => collect::customer_days(&inputs.usage),
            }
        },
    )?;
    // Locally, usage_daily's series and the usage signals' summary both come from one grouping
    // of the consumption lines (a cluster computes each itself, and the local plans below run
    // only on the local engine).
    let signals = &config.usage_signals;
    let groups = if engine.is_local() {
        Some(progress.stage("analyses: usage summary", || {
            collect::usage_groups(&inputs.usage, as_of, signals)
        })?)
    } else {
        None
    };
    let local_groups = || {
        groups
            .clone()
            .ok_or_else(|| Error::Internal("usage groups are made on the local engine only".into()))
    };
    progress.stage("analyses: usage_daily", || -> Result<()> {
        match engine.remote(&reductions::usage_daily_sql(as_of), &usage_file)? {
            Some(df) => {
                collect::reduce_to_file(reductions::usage_daily(df.lazy()), daily_file, "analyses")
            }
            None => collect::usage_daily(&inputs.usage, local_groups()?, as_of, daily_file),
        }
    })?;
    progress.stage("analyses: usage and activity signal parts", || {
        let [summary, round_the_clock, gpu_daily] =
            match crate::cluster::signal_reductions::usage_signal_parts(
                engine,
                &usage_file,
                as_of,
                signals,
            )? {
                Some(parts) => parts,
                None => {
                    collect::usage_signal_parts(&inputs.usage, local_groups()?, as_of, signals)?
                }
            };
        // On a cluster, the activity reductions over the converted activity file(s); locally,
        // the same parts collected from the events.
        let activity = match crate::cluster::activity_reductions::activity_parts(
            engine,
            &usage_file,
            &ing.input_dir,
            as_of,
            &config.anomalies,
        )? {
            Some(parts) => parts,
            None => collect::activity_parts(&inputs.activity, as_of, &config.anomalies)?,
        };
        Ok(plan::UsageReductions {
            customer_days: customer_days.clone(),
            usage_daily: output::scan_own_parquet(daily_file)?,
            summary,
            round_the_clock,
            gpu_daily,
            activity,
        })
    })
}

/// The canonical input tables: collected together, except the staged ones (usage).
fn input_tables(ing: &Ingested) -> Result<InputTables> {
    let collected = collect::collect_named(
        ing.inputs
            .named()
            .into_iter()
            .filter(|(name, _)| !ing.staged_inputs.contains_key(*name))
            .map(|(name, lf)| (name.to_string(), lf))
            .collect(),
        ing.phase_engine(),
    )?;
    let mut inputs: InputTables = collected
        .into_iter()
        .map(|(name, df)| (name, Staged::Frame(df)))
        .collect();
    for (name, file) in &ing.staged_inputs {
        inputs.insert(name.clone(), Staged::File(file.clone()));
    }
    Ok(inputs)
}

/// `billrisk query` without --out: every input and output table, in memory, as a run without a
/// previous one has them (empty changes, first_seen, new), and the as-of date.
pub fn query_tables(
    input: &InputSource,
    as_of: Option<NaiveDate>,
    config: &Config,
    progress: &mut Progress,
) -> Result<(NaiveDate, Vec<(String, DataFrame)>)> {
    let computed = compute(input, as_of, config, progress)?;
    let tables = compare_with_previous(computed.tables, None, config)?;
    // Staged files go with `computed`'s scratch folder: read into memory.
    let mut frames = Vec::new();
    for (name, table) in computed.inputs {
        let df = match table {
            Staged::Frame(df) => df,
            Staged::File(file) => read_staged(&file)?,
        };
        frames.push((name, df));
    }
    for (name, df) in tables.into_frames()? {
        frames.push((name.to_string(), df));
    }
    Ok((computed.as_of, frames))
}

/// `billrisk run`.
pub fn run(opts: &RunOptions, progress: &mut Progress) -> Result<RunOutcome> {
    // The engine of the reductions, chosen here once: with --cluster, usage and activity must be
    // converted files, and a scheduler that cannot be reached fails the run before any reading.
    if opts.cluster.is_some() {
        crate::cluster::check_converted(match &opts.input {
            InputSource::Folder(dir) => Some(dir.as_path()),
            InputSource::Bundled => None,
        })?;
    }
    let mut engine = ReductionEngine::connect(opts.cluster.as_deref())?;
    let staging = Staging::begin(&opts.out)?;
    // SPEC 4.6: the run to compare with is read before anything is written (a wrong or damaged
    // one fails the run with --out untouched), and before --out is replaced.
    let previous =
        crate::previous_run::resolve(opts.previous.as_deref(), opts.no_previous, &opts.out)?;
    if let (Some(p), Some(as_of)) = (&previous, opts.as_of) {
        if !p.implicit {
            p.check_as_of(as_of)?;
        }
    }
    let Computed {
        as_of,
        ingested: ing,
        tables,
        inputs: mut input_tables,
    } = compute_with(&opts.input, opts.as_of, &opts.config, &mut engine, progress)?;
    let previous = previous::checked_previous(previous, as_of, &opts.config, progress)?;
    let mut tables = progress.stage("changes since the previous run", || {
        compare_with_previous(tables, previous.as_ref(), &opts.config)
    })?;
    // Staged tables are copied into the output, except when names must be replaced first:
    // pseudonymizing reads and rewrites every table in memory.
    if let Some(key) = &opts.pseudonym_key {
        write::pseudonymize(&mut tables, &mut input_tables, key, progress)?;
    }
    output::fault_point("analyses")?;

    let root = staging.path().to_path_buf();
    let mut outputs = progress.stage("writing tables", || {
        write::write_tables(&root, &mut tables, &mut input_tables, ing.scratch.path())
    })?;
    let mut report_data = write::report_data(&opts.config, as_of, &tables, &input_tables, &ing)?;
    report_data.since = previous.as_ref().map(previous::since_last_run);
    outputs.extend(write::write_reports(
        &root,
        &report_data,
        &opts.config,
        progress,
    )?);
    output::fault_point("reports")?;

    let facts = manifest::RunFacts {
        opts,
        as_of,
        ingested: &ing,
        previous: previous.as_ref(),
        changes: tables.changes.height() as u64,
        reductions: engine.record(),
    };
    manifest::write_run_manifest(&root, facts, outputs, progress)?;
    output::fault_point("manifest")?;
    progress.stage("moving output into place", || staging.commit())?;
    Ok(RunOutcome {
        as_of,
        out: opts.out.clone(),
        tables,
        // --fail-on-new needs the previous run's risk tiers.
        compared: previous
            .as_ref()
            .is_some_and(|p| p.tables.contains_key(crate::schema::risk_scores::TABLE)),
    })
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
    progress.stage("writing canonical inputs", || -> Result<()> {
        let outputs = write::write_canonical(&root, &ing)?;
        manifest::write_convert_manifest(&root, input, &ing, outputs)
    })?;
    progress.stage("moving output into place", || staging.commit())?;
    Ok(ing)
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
pub fn tier_reached(outcome: &RunOutcome, tier: crate::tier::Tier) -> Result<bool> {
    crate::analysis::risk::reaches_tier(&outcome.tables.analyses.risk_scores, tier)
}
