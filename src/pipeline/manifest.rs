//! The manifests: a run's manifest.json (SPEC 5: version, as-of date, input, config, every input
//! file with its rows read, accepted and rejected, every output file with its sha256, the
//! previous run compared with, the timings) and the manifest of a folder `billrisk ingest`
//! converted. Their field order is the file's order: keep it.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use super::ingest::Ingested;
use super::{describe, RunOptions};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::output;
use crate::previous_run::PreviousRun;
use crate::progress::Progress;

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

/// An output file: its path in the output folder, rows (tables only) and sha256.
#[derive(Serialize)]
pub struct ManifestOutput {
    pub file: String,
    pub rows: Option<u64>,
    pub sha256: String,
}

/// The manifest's record of the previous run compared with (SPEC 4.6).
#[derive(Serialize)]
struct ManifestPrevious {
    folder: String,
    as_of: String,
    billrisk_version: String,
    pseudonymized: bool,
    /// The --out folder this run replaced (no --previous given).
    implicit: bool,
    changes: u64,
    not_compared: Vec<String>,
    notes: Vec<String>,
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
    /// Written with --pseudonymize.
    pseudonymized: bool,
    /// The run compared with; null without one.
    previous_run: Option<ManifestPrevious>,
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

/// What a run's manifest says beyond its inputs and outputs.
pub struct RunFacts<'a> {
    pub opts: &'a RunOptions,
    pub as_of: NaiveDate,
    pub ingested: &'a Ingested,
    pub previous: Option<&'a PreviousRun>,
    /// Rows of the changes table.
    pub changes: u64,
    /// Which engine computed the reductions over usage rows; on a cluster, its jobs.
    pub reductions: crate::cluster::ReductionsRecord,
}

/// Writes a run's manifest.json into `root` (the staging folder).
pub fn write_run_manifest(
    root: &Path,
    facts: RunFacts<'_>,
    outputs: Vec<ManifestOutput>,
    progress: &Progress,
) -> Result<()> {
    let opts = facts.opts;
    let manifest = Manifest {
        billrisk_version: env!("CARGO_PKG_VERSION"),
        as_of: facts.as_of.to_string(),
        input: describe(&opts.input),
        config_file: opts.config_origin.as_ref().map(|p| p.display().to_string()),
        config: opts.config.clone(),
        inputs: manifest_inputs(facts.ingested),
        outputs,
        pseudonymized: opts.pseudonym_key.is_some(),
        previous_run: facts.previous.map(|p| ManifestPrevious {
            folder: p.dir.display().to_string(),
            as_of: p.as_of.to_string(),
            billrisk_version: p.version.clone(),
            pseudonymized: p.pseudonymized,
            implicit: p.implicit,
            changes: facts.changes,
            not_compared: p.not_compared.clone(),
            notes: p.notes.clone(),
        }),
        timings_seconds: progress
            .timings()
            .iter()
            .map(|(k, v)| (k.clone(), (v.as_secs_f64() * 1000.0).round() / 1000.0))
            .collect(),
        reductions: facts.reductions,
    };
    write_json(root, &manifest)
}

/// Writes a converted folder's manifest.json into `root` (the staging folder).
pub fn write_convert_manifest(
    root: &Path,
    input: &super::InputSource,
    ing: &Ingested,
    outputs: Vec<ManifestOutput>,
) -> Result<()> {
    let manifest = ConvertManifest {
        billrisk_version: env!("CARGO_PKG_VERSION"),
        input: describe(input),
        inputs: manifest_inputs(ing),
        outputs,
    };
    write_json(root, &manifest)
}

fn write_json(root: &Path, manifest: &impl Serialize) -> Result<()> {
    let text =
        serde_json::to_string_pretty(manifest).map_err(|e| Error::internal("manifest", e))?;
    output::write_bytes(&root.join("manifest.json"), text.as_bytes())?;
    Ok(())
}
