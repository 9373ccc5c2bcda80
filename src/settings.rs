//! Every setting of a command, resolved in one place: the parsed command line (cli.rs), the config
//! file (config/), and the environment variables billrisk reads. Each clap argument struct is
//! destructured field by field, so a new flag that is not resolved here does not compile; the
//! commands in app.rs read only the structs below. Precedence: flags, then the config file, then
//! the defaults.
//!
//! The environment is read once, into [`Environment`] (environment.rs, below this module so that
//! the pipeline and progress.rs can read it without importing the settings): the pseudonym key,
//! and the developer aids of the benchmarks (BILLRISK_PEAK_MEMORY, BILLRISK_TIME_PLANS,
//! BILLRISK_ENGINE). Two variables stay where they act: the
//! failure-injection hook of the tests (output.rs, `BILLRISK_INJECT_FAILURE`: a test-only switch
//! checked at points deep in the writers, which threading a parameter through every writer
//! would not make safer) and `POLARS_HOT_TABLE_SIZE`, which Polars itself reads (set before
//! any thread starts by the binary's `tuning` module).

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::{
    Cli, Command, GenerateArgs, IngestArgs, InitArgs, InputArgs, QueryArgs, RunArgs, ValidateArgs,
};
use crate::config::Config;
pub use crate::environment::{environment, EngineChoice, Environment};
use crate::error::{Error, Result};
use crate::generate::GenerateSpec;
use crate::pipeline::{InputSource, RunOptions};
use crate::progress::Verbosity;
use crate::tier::Tier;

/// A command with its settings resolved.
pub struct Settings {
    pub verbosity: Verbosity,
    pub command: CommandSettings,
}

pub enum CommandSettings {
    Run(RunSettings),
    Validate(InputSettings),
    Ingest(IngestSettings),
    Query(QuerySettings),
    Generate(GenerateSpec),
    /// `billrisk init`: where to write the default config (None: standard output).
    Init(Option<PathBuf>),
    /// `billrisk cluster scheduler|executor`: a role of a Ballista cluster.
    Cluster(crate::cli::ClusterRole),
}

/// Where the inputs come from and how to read them (run, validate, query without --out).
pub struct InputSettings {
    pub source: InputSource,
    /// The config file with --reporting-currency applied, checked.
    pub config: Config,
    /// The config file's path, for the manifest.
    pub config_origin: Option<PathBuf>,
    /// --as-of (None: the last day with usage).
    pub as_of: Option<NaiveDate>,
}

/// `billrisk run`: the pipeline's options and the exit-3 tiers.
pub struct RunSettings {
    pub options: RunOptions,
    pub fail_on: Option<Tier>,
    pub fail_on_new: Option<Tier>,
}

/// `billrisk ingest`.
pub struct IngestSettings {
    pub source: InputSource,
    pub config: Config,
    pub out: PathBuf,
}

/// `billrisk query`.
pub struct QuerySettings {
    /// The SQL text and where it came from (the command line or the file's path).
    pub sql: String,
    pub origin: String,
    /// --out: the earlier run to query. None: compute a run now from `input`.
    pub out: Option<PathBuf>,
    /// The inputs of the run computed now; None with --out (its flags are then not read).
    pub input: Option<InputSettings>,
    pub output: Option<PathBuf>,
    pub format: Option<crate::query::Format>,
    pub params: Vec<String>,
}

impl Settings {
    /// Resolves the parsed command line (and the config file it names) into settings.
    pub fn resolve(cli: Cli) -> Result<Settings> {
        let Cli {
            quiet,
            verbose,
            command,
        } = cli;
        let verbosity = if quiet {
            Verbosity::Quiet
        } else if verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        let command = match command {
            Command::Run(args) => CommandSettings::Run(RunSettings::resolve(args)?),
            Command::Validate(ValidateArgs { input }) => {
                CommandSettings::Validate(InputSettings::resolve(input)?)
            }
            Command::Ingest(args) => CommandSettings::Ingest(IngestSettings::resolve(args)?),
            Command::Query(args) => CommandSettings::Query(QuerySettings::resolve(args)?),
            Command::Generate(args) => CommandSettings::Generate(generate_spec(args)?),
            Command::Init(InitArgs { out }) => CommandSettings::Init(out),
            Command::Cluster(crate::cli::ClusterArgs { role }) => CommandSettings::Cluster(role),
        };
        Ok(Settings { verbosity, command })
    }
}

impl InputSettings {
    pub fn resolve(args: InputArgs) -> Result<InputSettings> {
        let InputArgs {
            input,
            config: config_origin,
            as_of,
            reporting_currency,
        } = args;
        let config = resolve_config(config_origin.as_ref(), reporting_currency.as_deref())?;
        let as_of = match as_of {
            Some(v) => Some(parse_date_flag("--as-of", &v)?),
            None => None,
        };
        Ok(InputSettings {
            source: input_source(input),
            config,
            config_origin,
            as_of,
        })
    }
}

impl RunSettings {
    pub fn resolve(args: RunArgs) -> Result<RunSettings> {
        let RunArgs {
            input,
            out,
            fail_on,
            fail_on_new,
            previous,
            no_previous,
            pseudonymize,
            pseudonym_key_file,
            cluster,
        } = args;
        let InputSettings {
            source,
            config,
            config_origin,
            as_of,
        } = InputSettings::resolve(input)?;
        let pseudonym_key = if pseudonymize {
            Some(crate::pseudonymize::load_key(
                pseudonym_key_file.as_deref(),
                environment().pseudonym_key.as_deref(),
            )?)
        } else {
            None
        };
        Ok(RunSettings {
            options: RunOptions {
                input: source,
                out,
                as_of,
                config,
                config_origin,
                pseudonym_key,
                previous,
                no_previous,
                cluster,
            },
            fail_on,
            fail_on_new,
        })
    }
}

impl IngestSettings {
    pub fn resolve(args: IngestArgs) -> Result<IngestSettings> {
        let IngestArgs { input, config, out } = args;
        Ok(IngestSettings {
            config: resolve_config(config.as_ref(), None)?,
            source: input_source(input),
            out,
        })
    }
}

impl QuerySettings {
    pub fn resolve(args: QueryArgs) -> Result<QuerySettings> {
        let QueryArgs {
            sql,
            file,
            out,
            input,
            output,
            format,
            params,
        } = args;
        let (sql, origin) = match (sql, file) {
            (Some(sql), None) => (sql, "command line".to_string()),
            (None, Some(path)) => (
                std::fs::read_to_string(&path).map_err(|e| {
                    Error::query_because(
                        path.display().to_string(),
                        "cannot read the query file",
                        e,
                    )
                })?,
                path.display().to_string(),
            ),
            _ => {
                return Err(Error::config(
                    "billrisk query",
                    "expected SQL text or -f FILE.sql",
                ))
            }
        };
        // With --out the run exists already: its input flags are not read.
        let input = match out {
            Some(_) => None,
            None => Some(InputSettings::resolve(input)?),
        };
        Ok(QuerySettings {
            sql,
            origin,
            out,
            input,
            output,
            format,
            params,
        })
    }
}

fn generate_spec(args: GenerateArgs) -> Result<GenerateSpec> {
    let GenerateArgs {
        customers,
        days,
        seed,
        end,
        out,
        parquet,
    } = args;
    Ok(GenerateSpec {
        customers,
        days,
        seed,
        end: parse_date_flag("--end", &end)?,
        out,
        parquet,
    })
}

pub fn parse_date_flag(flag: &str, value: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        Error::config(
            flag.to_string(),
            format!("expected a date YYYY-MM-DD, found {value:?}"),
        )
    })
}

/// The config file (or the defaults) with --reporting-currency applied, checked.
fn resolve_config(path: Option<&PathBuf>, reporting_currency: Option<&str>) -> Result<Config> {
    let mut config = match path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(cur) = reporting_currency {
        let c = crate::ingest::values::parse_currency(cur).ok_or_else(|| {
            Error::config(
                "--reporting-currency",
                format!("expected a three-letter currency code, found {cur:?}"),
            )
        })?;
        config.reporting_currency = Some(c);
    }
    config.validate()?;
    Ok(config)
}

fn input_source(input: Option<PathBuf>) -> InputSource {
    match input {
        Some(p) => InputSource::Folder(p),
        None => InputSource::Bundled,
    }
}
