//! The previous run a run compares with (SPEC 4.6): `--previous DIR`, or by default the `--out`
//! folder about to be replaced. Reads its manifest.json and the tables the comparison needs
//! (`analysis::changes::NEEDED`), checks each against the sha256 the manifest lists, and says
//! what it cannot compare. Nothing here writes: a bad previous run fails the run before --out is
//! touched.
//!
//! - a folder that is not a run's output (no folder, no manifest.json, a manifest without
//!   billrisk_version or as_of, a `billrisk ingest` folder), or a run from a later as-of date:
//!   `Error::PreviousRun`, exit 2. As the implicit default (--out), the first is simply no
//!   previous run, and a later as-of date is not compared (both said on stderr);
//! - a damaged one (manifest.json not JSON, a listed table missing, unreadable or not matching
//!   its sha256): `Error::InputFile`, exit 1, whether named or implicit;
//! - a table the manifest does not list, or that lacks a column the comparison reads (an older
//!   or newer billrisk): that topic is not compared, and the run says so;
//! - a different config (tier edges, ladder, budget warning share, ...): compared all the same,
//!   and the sections that differ are named, since a change may then come from the config.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::analysis::changes::{RunTables, NEEDED};
use crate::config::Config;
use crate::error::{Error, Problem, Result};
use crate::schema;

/// An earlier run's output, as far as the comparison reads it.
pub struct PreviousRun {
    pub dir: PathBuf,
    pub as_of: NaiveDate,
    /// The billrisk version that wrote it.
    pub version: String,
    /// Written with --pseudonymize: names in its tables are pseudonyms.
    pub pseudonymized: bool,
    /// The --out folder being replaced (no --previous given).
    pub implicit: bool,
    /// Tables by name (those of `NEEDED` that it has with the columns the comparison reads).
    pub tables: BTreeMap<String, DataFrame>,
    /// What could not be compared, in words ("budget status: tables/budget_status.parquet has
    /// no column status").
    pub not_compared: Vec<String>,
    /// Facts worth knowing about the comparison (another version, another config, pseudonyms).
    pub notes: Vec<String>,
    config: Option<Value>,
}

fn wrong(dir: &Path, message: impl Into<String>) -> Error {
    Error::PreviousRun {
        path: dir.to_path_buf(),
        message: message.into(),
    }
}

/// `cannot read PATH: WORDS (the previous run's output is damaged; ...)`, with the cause the
/// problem carries.
fn damaged(path: &Path, problem: impl Problem) -> Error {
    let (words, source) = problem.split();
    let advice = "the previous run's output is damaged; pass --previous with another run, or --no-previous to run without comparing";
    Error::InputFile {
        path: path.to_path_buf(),
        reason: if words.is_empty() {
            advice.to_string()
        } else {
            format!("{words} ({advice})")
        },
        source,
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{:x}", h.finalize()))
}

/// The previous run to compare with: `explicit` (--previous), else `out` when it holds a run's
/// output, unless `disabled` (--no-previous).
pub fn resolve(explicit: Option<&Path>, disabled: bool, out: &Path) -> Result<Option<PreviousRun>> {
    if disabled {
        return Ok(None);
    }
    match explicit {
        Some(dir) => load(dir, false).map(Some),
        None => {
            if !out.join("manifest.json").is_file() {
                return Ok(None);
            }
            match load(out, true) {
                Ok(p) => Ok(Some(p)),
                // Only a damaged output stops the run; a folder that is no run's output is
                // simply nothing to compare with.
                Err(Error::PreviousRun { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        }
    }
}

/// Reads and checks an earlier run's output folder (module comment).
pub fn load(dir: &Path, implicit: bool) -> Result<PreviousRun> {
    if !dir.is_dir() {
        return Err(wrong(
            dir,
            if dir.exists() {
                "expected the output folder of an earlier billrisk run, found a file"
            } else {
                "expected the output folder of an earlier billrisk run, found no such folder"
            },
        ));
    }
    let manifest_path = dir.join("manifest.json");
    let text = match std::fs::read(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(wrong(
            dir,
            "expected the output folder of an earlier billrisk run, found no manifest.json in it",
        )),
        Err(e) => return Err(damaged(&manifest_path, e)),
    };
    let manifest: Value = serde_json::from_slice(&text).map_err(|e| {
        let not_json = Error::input_file_because(manifest_path.clone(), "expected JSON", e);
        damaged(&manifest_path, not_json)
    })?;
    let version = manifest
        .get("billrisk_version")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            wrong(
                dir,
                "expected the manifest.json of a billrisk run, found one without billrisk_version",
            )
        })?
        .to_string();
    let as_of_text = manifest.get("as_of").and_then(Value::as_str).ok_or_else(|| {
        wrong(
            dir,
            "expected the output of `billrisk run`, found a folder without an as-of date (a `billrisk ingest` folder?)",
        )
    })?;
    let as_of = NaiveDate::parse_from_str(as_of_text, "%Y-%m-%d").map_err(|_| {
        damaged(
            &manifest_path,
            format!("expected as_of YYYY-MM-DD, found {as_of_text:?}"),
        )
    })?;
    let listed: BTreeMap<String, String> = manifest
        .get("outputs")
        .and_then(Value::as_array)
        .map(|outs| {
            outs.iter()
                .filter_map(|o| {
                    Some((
                        o.get("file")?.as_str()?.to_string(),
                        o.get("sha256")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let pseudonymized = manifest
        .get("pseudonymized")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut run = PreviousRun {
        dir: dir.to_path_buf(),
        as_of,
        version,
        pseudonymized,
        implicit,
        tables: BTreeMap::new(),
        not_compared: Vec::new(),
        notes: Vec::new(),
        config: manifest.get("config").cloned(),
    };
    read_tables(&listed, &mut run)?;
    if run.version != env!("CARGO_PKG_VERSION") {
        run.notes.push(format!(
            "the previous run was written by billrisk {} (this is {})",
            run.version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if run.pseudonymized {
        run.notes.push(
            "the previous run is pseudonymized: compared by customer id and reason code (ids are never pseudonymized), so its names are pseudonyms".into(),
        );
    }
    Ok(run)
}

/// Reads the tables the comparison needs into `run`, each checked against the sha256
/// manifest.json lists (`listed`); a table missing or without a needed column is not compared.
fn read_tables(listed: &BTreeMap<String, String>, run: &mut PreviousRun) -> Result<()> {
    let dir = run.dir.clone();
    for (table, topic, columns) in NEEDED {
        let rel = format!("tables/{table}.parquet");
        let path = dir.join(&rel);
        let Some(sha) = listed.get(&rel) else {
            run.not_compared
                .push(format!("{topic}: the previous run has no {rel}"));
            continue;
        };
        let actual = sha256_file(&path).map_err(|e| damaged(&path, e))?;
        if &actual != sha {
            return Err(damaged(
                &path,
                format!("expected the sha256 manifest.json lists ({sha}), found {actual}"),
            ));
        }
        let df = crate::output::read_parquet(&path).map_err(|e| damaged(&path, e))?;
        let missing: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| df.column(c).is_err())
            .collect();
        if !missing.is_empty() {
            run.not_compared.push(format!(
                "{topic}: the previous run's {rel} has no column {}",
                missing.join(", ")
            ));
            continue;
        }
        run.tables.insert(table.to_string(), df);
    }
    Ok(())
}

impl PreviousRun {
    /// Refuses a previous run from a later as-of date than `as_of` (exit 2).
    pub fn check_as_of(&self, as_of: NaiveDate) -> Result<()> {
        if self.as_of > as_of {
            return Err(wrong(
                &self.dir,
                format!(
                    "expected a run as of {as_of} or earlier, found one as of {} (a later date than this run)",
                    self.as_of
                ),
            ));
        }
        Ok(())
    }

    /// Notes the config sections that differ from `config` (top-level keys of the manifest's
    /// config), so a tier or action change can be read knowing the rules moved too.
    pub fn compare_config(&mut self, config: &Config) {
        let Some(prev) = &self.config else {
            self.notes
                .push("the previous run's manifest has no config: the rules may differ".into());
            return;
        };
        let Ok(Value::Object(now)) = serde_json::to_value(config) else {
            return;
        };
        let Value::Object(before) = prev else { return };
        // A section the previous run's billrisk did not have yet is no difference of rules.
        let mut differ: Vec<String> = now
            .iter()
            .filter(|(k, v)| before.get(*k).is_some_and(|b| b != *v))
            .map(|(k, _)| k.clone())
            .chain(before.keys().filter(|k| !now.contains_key(*k)).cloned())
            .collect();
        differ.sort();
        differ.dedup();
        if !differ.is_empty() {
            self.notes.push(format!(
                "the previous run used another config in [{}]: some changes may come from the config, not the data",
                differ.join("], [")
            ));
        }
    }

    /// The tables for `analysis::changes`, lazily.
    pub fn run_tables(&self) -> RunTables {
        let mut t = RunTables::default();
        for (name, df) in &self.tables {
            t.set(name, df.clone().lazy());
        }
        t
    }

    /// Its anomalies (with first_seen when it has them), to carry first_seen.
    pub fn anomalies(&self) -> Option<LazyFrame> {
        self.tables
            .get(schema::anomalies::TABLE)
            .map(|df| df.clone().lazy())
    }
}
