//! The commands of SPEC section 2: resolves flags and the config file into settings, runs the
//! command, and maps the outcome to an exit code. `main.rs` only parses and prints.

use std::path::Path;

use chrono::NaiveDate;

use crate::cli::{
    Cli, Command, GenerateArgs, IngestArgs, InitArgs, InputArgs, QueryArgs, RunArgs, ValidateArgs,
};
use crate::config::{Config, DEFAULT_TOML};
use crate::error::{Error, Result};
use crate::pipeline::{self, InputSource, RunOptions};
use crate::progress::{Progress, Verbosity};

/// Exit codes (SPEC 2).
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_TIER_REACHED: u8 = 3;

pub fn verbosity(cli: &Cli) -> Verbosity {
    if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    }
}

/// Runs the parsed command; Ok(exit code) or the error to print.
pub fn execute(cli: Cli) -> Result<u8> {
    let mut progress = Progress::new(verbosity(&cli));
    match cli.command {
        Command::Run(args) => run(args, &mut progress),
        Command::Validate(args) => validate(args, &mut progress),
        Command::Ingest(args) => convert(args, &mut progress),
        Command::Query(args) => query(args, &mut progress),
        Command::Generate(args) => generate(args, &progress),
        Command::Init(args) => init(args),
        Command::Cluster(args) => crate::cluster::role(args.role).map(|()| EXIT_OK),
    }
}

pub fn parse_date_flag(flag: &str, value: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| Error::Config {
        origin: flag.to_string(),
        message: format!("expected a date YYYY-MM-DD, found {value:?}"),
    })
}

/// Settings from flags, then the config file, then defaults.
pub fn resolve_config(args: &InputArgs) -> Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(cur) = &args.reporting_currency {
        let c = crate::ingest::values::parse_currency(cur).ok_or_else(|| Error::Config {
            origin: "--reporting-currency".into(),
            message: format!("expected a three-letter currency code, found {cur:?}"),
        })?;
        config.reporting_currency = Some(c);
    }
    config.aging.validate()?;
    if crate::analysis::risk::tier_rank(&config.report.review_min_tier).is_none() {
        return Err(Error::Config {
            origin: "report.review_min_tier".into(),
            message: format!(
                "expected low, medium, high or critical, found {:?}",
                config.report.review_min_tier
            ),
        });
    }
    if !(0.0..=1.0).contains(&config.input.max_rejected_share) {
        return Err(Error::Config {
            origin: "input.max_rejected_share".into(),
            message: format!(
                "expected a share between 0 and 1, found {}",
                config.input.max_rejected_share
            ),
        });
    }
    Ok(config)
}

pub fn input_source(args: &InputArgs) -> InputSource {
    match &args.input {
        Some(p) => InputSource::Folder(p.clone()),
        None => InputSource::Bundled,
    }
}

fn run(args: RunArgs, progress: &mut Progress) -> Result<u8> {
    let config = resolve_config(&args.input)?;
    let as_of = match &args.input.as_of {
        Some(v) => Some(parse_date_flag("--as-of", v)?),
        None => None,
    };
    let pseudonym_key = if args.pseudonymize {
        Some(crate::pseudonymize::load_key(
            args.pseudonym_key_file.as_deref(),
        )?)
    } else {
        None
    };
    let opts = RunOptions {
        input: input_source(&args.input),
        out: args.out.clone(),
        as_of,
        config,
        config_origin: args.input.config.clone(),
        pseudonym_key,
        cluster: args.cluster.clone(),
    };
    let outcome = pipeline::run(&opts, progress)?;
    progress.note(&format!(
        "wrote {} (as of {})",
        outcome.out.display(),
        outcome.as_of
    ));
    if let Some(tier) = args.fail_on {
        if pipeline::tier_reached(&outcome, tier.as_str())? {
            progress.note(&format!(
                "a customer reached risk tier {}: exit 3",
                tier.as_str()
            ));
            return Ok(EXIT_TIER_REACHED);
        }
    }
    Ok(EXIT_OK)
}

fn validate(args: ValidateArgs, progress: &mut Progress) -> Result<u8> {
    let config = resolve_config(&args.input)?;
    let source = input_source(&args.input);
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
fn convert(args: IngestArgs, progress: &mut Progress) -> Result<u8> {
    let input = InputArgs {
        input: args.input,
        config: args.config,
        as_of: None,
        reporting_currency: None,
    };
    let config = resolve_config(&input)?;
    let ing = pipeline::convert(&input_source(&input), &args.out, &config, progress)?;
    print_out(format!("{}\n", pipeline::validation_report(&ing)).as_bytes())?;
    progress.note(&format!("wrote {}", args.out.display()));
    Ok(EXIT_OK)
}

fn generate(args: GenerateArgs, progress: &Progress) -> Result<u8> {
    let end = parse_date_flag("--end", &args.end)?;
    let spec = crate::generate::GenerateSpec {
        customers: args.customers,
        days: args.days,
        seed: args.seed,
        end,
        out: args.out.clone(),
        parquet: args.parquet,
    };
    let summary = crate::generate::generate(&spec)?;
    progress.note(&format!(
        "wrote {} files, {} usage rows, to {}",
        summary.files.len(),
        summary.usage_rows,
        args.out.display()
    ));
    Ok(EXIT_OK)
}

/// `billrisk query`: every table of an earlier run's --out, or of a run computed now.
fn query(args: QueryArgs, progress: &mut Progress) -> Result<u8> {
    use crate::query::{self, Catalog};
    let (sql, origin) = match (&args.sql, &args.file) {
        (Some(sql), None) => (sql.clone(), "command line".to_string()),
        (None, Some(path)) => (
            std::fs::read_to_string(path).map_err(|e| Error::Query {
                origin: path.display().to_string(),
                message: format!("cannot read the query file: {e}"),
            })?,
            path.display().to_string(),
        ),
        _ => {
            return Err(Error::Config {
                origin: "billrisk query".into(),
                message: "expected SQL text or -f FILE.sql".into(),
            })
        }
    };
    let sql = query::substitute_params(&sql, &args.params)?;
    let catalog = match &args.out {
        Some(dir) => Catalog::from_out_dir(dir)?,
        None => {
            let config = resolve_config(&args.input)?;
            let as_of = match &args.input.as_of {
                Some(v) => Some(parse_date_flag("--as-of", v)?),
                None => None,
            };
            let computed = pipeline::compute(&input_source(&args.input), as_of, &config, progress)?;
            let mut catalog = Catalog::new();
            // Staged files go with `computed`'s scratch folder: read them into memory.
            for (name, file) in computed
                .staged
                .iter()
                .chain(&computed.ingested.staged_inputs)
            {
                let df = pipeline::read_staged(file)?;
                catalog.register(name, polars::prelude::IntoLazy::lazy(df));
            }
            for (name, df) in computed.inputs.into_iter().chain(computed.tables) {
                catalog.register(&name, polars::prelude::IntoLazy::lazy(df));
            }
            catalog
        }
    };
    let mut result = query::run_sql(&catalog, &sql, &origin)?;
    let to_stdout = |result: &mut polars::prelude::DataFrame, format| -> Result<()> {
        let bytes = query::encode(result, format).map_err(|reason| Error::Output {
            path: "standard output".into(),
            reason,
        })?;
        print_out(&bytes)
    };
    match &args.output {
        Some(path) if path.as_os_str() == "-" => {
            to_stdout(&mut result, args.format.unwrap_or(query::Format::Csv))?
        }
        Some(path) => {
            query::write_result(&mut result, path, args.format)?;
            progress.note(&format!(
                "wrote {} rows to {}",
                result.height(),
                path.display()
            ));
        }
        None => to_stdout(&mut result, args.format.unwrap_or(query::Format::Table))?,
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
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
            path: "standard output".into(),
            reason: e.to_string(),
        }),
        _ => Ok(()),
    }
}

fn init(args: InitArgs) -> Result<u8> {
    match args.out {
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
        .map_err(|e| Error::Config {
            origin: path.display().to_string(),
            message: format!("cannot create the file (it must not exist yet): {e}"),
        })?;
    f.write_all(text.as_bytes()).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
