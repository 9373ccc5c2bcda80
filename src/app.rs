//! The commands of SPEC section 2: runs the command with its settings (resolved from flags, the
//! config file and the environment by settings.rs) and maps the outcome to an exit code.
//! `main.rs` only parses and prints.

use std::path::{Path, PathBuf};

use crate::cli::Cli;
use crate::config::DEFAULT_TOML;
use crate::error::{Error, Result};
use crate::generate::GenerateSpec;
use crate::pipeline;
use crate::progress::Progress;
use crate::settings::{
    CommandSettings, IngestSettings, InputSettings, QuerySettings, RunSettings, Settings,
};

/// Exit codes (SPEC 2).
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_TIER_REACHED: u8 = 3;

/// Runs the parsed command; Ok(exit code) or the error to print.
pub fn execute(cli: Cli) -> Result<u8> {
    let Settings { verbosity, command } = Settings::resolve(cli)?;
    let mut progress = Progress::new(verbosity);
    match command {
        CommandSettings::Run(settings) => run(settings, &mut progress),
        CommandSettings::Validate(settings) => validate(settings, &mut progress),
        CommandSettings::Ingest(settings) => convert(settings, &mut progress),
        CommandSettings::Query(settings) => query(settings, &mut progress),
        CommandSettings::Generate(spec) => generate(spec, &progress),
        CommandSettings::Init(out) => init(out),
        CommandSettings::Cluster(role) => crate::cluster::role(role).map(|()| EXIT_OK),
    }
}

fn run(settings: RunSettings, progress: &mut Progress) -> Result<u8> {
    let RunSettings {
        options,
        fail_on,
        fail_on_new,
    } = settings;
    let outcome = pipeline::run(&options, progress)?;
    progress.note(&format!(
        "wrote {} (as of {})",
        outcome.out.display(),
        outcome.as_of
    ));
    if let Some(tier) = fail_on {
        if pipeline::tier_reached(&outcome, tier)? {
            progress.note(&format!(
                "a customer reached risk tier {}: exit 3",
                tier.as_str()
            ));
            return Ok(EXIT_TIER_REACHED);
        }
    }
    if let Some(tier) = fail_on_new {
        // Without a previous run nothing was known before: every customer is new.
        let reached = if outcome.compared {
            pipeline::tier_newly_reached(&outcome, tier)?
        } else {
            progress.note(&format!(
                "--fail-on-new {}: no previous run's risk tiers to compare with, so every customer counts as new",
                tier.as_str()
            ));
            pipeline::tier_reached(&outcome, tier)?
        };
        if reached {
            progress.note(&format!(
                "a customer newly reached risk tier {}: exit 3",
                tier.as_str()
            ));
            return Ok(EXIT_TIER_REACHED);
        }
    }
    Ok(EXIT_OK)
}

fn validate(settings: InputSettings, progress: &mut Progress) -> Result<u8> {
    let InputSettings { source, config, .. } = settings;
    let ing = pipeline::validate(&source, progress)?;
    print_out(format!("{}\n", pipeline::validation_report(&ing)).as_bytes())?;
    match pipeline::check_rejected_share(&ing.sources, config.input.max_rejected_share) {
        Ok(()) => Ok(EXIT_OK),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(EXIT_FAILED)
        }
    }
}

/// `billrisk ingest`: the inputs, checked once, as canonical Parquet in --out.
fn convert(settings: IngestSettings, progress: &mut Progress) -> Result<u8> {
    let IngestSettings {
        source,
        config,
        out,
    } = settings;
    let ing = pipeline::convert(&source, &out, &config, progress)?;
    print_out(format!("{}\n", pipeline::validation_report(&ing)).as_bytes())?;
    progress.note(&format!("wrote {}", out.display()));
    Ok(EXIT_OK)
}

fn generate(spec: GenerateSpec, progress: &Progress) -> Result<u8> {
    let summary = crate::generate::generate(&spec)?;
    progress.note(&format!(
        "wrote {} files, {} usage rows, to {}",
        summary.files.len(),
        summary.usage_rows,
        spec.out.display()
    ));
    Ok(EXIT_OK)
}

/// `billrisk query`: every table of an earlier run's --out, or of a run computed now.
fn query(settings: QuerySettings, progress: &mut Progress) -> Result<u8> {
    use crate::query::{self, Catalog};
    let QuerySettings {
        sql,
        origin,
        out,
        input,
        output,
        format,
        params,
    } = settings;
    // {{as_of}} defaults to the as-of date of the run queried (SPEC 7): every shipped query runs
    // against an --out without parameters.
    let wants_as_of = query::placeholders(&sql).iter().any(|p| p == "as_of")
        && !params
            .iter()
            .any(|p| p.split_once('=').is_some_and(|(n, _)| n.trim() == "as_of"));
    let mut run_as_of = None;
    let catalog = match (&out, input) {
        (Some(dir), _) => {
            let catalog = Catalog::from_out_dir(dir)?;
            if wants_as_of {
                run_as_of = query::run_as_of(dir)?;
            }
            catalog
        }
        (None, None) => {
            return Err(Error::Internal(
                "query without --out has no input settings".into(),
            ))
        }
        (
            None,
            Some(InputSettings {
                source,
                config,
                as_of,
                ..
            }),
        ) => {
            // The same tables as a run without a previous one: empty changes, first_seen, new.
            let (as_of, tables) = pipeline::query_tables(&source, as_of, &config, progress)?;
            run_as_of = Some(as_of);
            let mut catalog = Catalog::new();
            for (name, df) in tables {
                catalog.register(&name, polars::prelude::IntoLazy::lazy(df));
            }
            catalog
        }
    };
    let mut params = params;
    if let (true, Some(d)) = (wants_as_of, run_as_of) {
        progress.note(&format!(
            "{{{{as_of}}}} = {d}, the run's as-of date (--param as_of=YYYY-MM-DD for another)"
        ));
        params.push(format!("as_of={d}"));
    }
    let sql = query::substitute_params(&sql, &params)?;
    let mut result = query::run_sql(&catalog, &sql, &origin)?;
    let to_stdout = |result: &mut polars::prelude::DataFrame, format| -> Result<()> {
        let bytes = query::encode(result, format)
            .map_err(|reason| Error::output("standard output", reason))?;
        print_out(&bytes)
    };
    match &output {
        Some(path) if path.as_os_str() == "-" => {
            to_stdout(&mut result, format.unwrap_or(query::Format::Csv))?
        }
        Some(path) => {
            query::write_result(&mut result, path, format)?;
            progress.note(&format!(
                "wrote {} rows to {}",
                result.height(),
                path.display()
            ));
        }
        None => to_stdout(&mut result, format.unwrap_or(query::Format::Table))?,
    }
    Ok(EXIT_OK)
}

/// Writes to standard output. When the reader has gone (`billrisk query ... | head`), the rest is
/// dropped quietly and the command still succeeds, as ripgrep does: the reader got what it asked
/// for.
fn print_out(bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::output("standard output", e))
        }
        _ => Ok(()),
    }
}

fn init(out: Option<PathBuf>) -> Result<u8> {
    match out {
        None => print_out(DEFAULT_TOML.as_bytes())?,
        Some(path) => write_new(&path, DEFAULT_TOML)?,
    }
    Ok(EXIT_OK)
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            Error::config_because(
                path.display().to_string(),
                "cannot create the file (it must not exist yet)",
                e,
            )
        })?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::output(path.to_path_buf(), e))
}
