//! The command line (SPEC section 2): clap definitions only. Each subcommand's arguments are
//! resolved into settings by the module that runs it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "billrisk",
    version,
    about = "Receivables aging, budget forecasts, billing reconciliation and explained risk scores for cloud resellers",
    long_about = None,
    after_help = "Examples:\n  billrisk run                                  # bundled sample data -> ./billrisk-out\n  billrisk run --input exports/ --out out/ --fail-on high\n  billrisk validate --input exports/\n  billrisk query -f queries/review_queue.sql --out out/\n  billrisk generate --customers 1000 --days 90 --seed 7 --out gen/\n  billrisk init > billrisk.toml"
)]
pub struct Cli {
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr (timings per stage, files read).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline and write tables, reports and action lists.
    #[command(
        after_help = "Examples:\n  billrisk run\n  billrisk run --input exports/ --out out/ --as-of 2026-10-31\n  billrisk run --input exports/ --config billrisk.toml --fail-on critical --reporting-currency EUR\n  billrisk run --input exports/ --out out/ --fail-on-new critical   # compared with the out/ it replaces\n  billrisk run --input exports/ --out today/ --previous yesterday/\n  BILLRISK_PSEUDONYM_KEY=$(cat key) billrisk run --input exports/ --out shared/ --pseudonymize\n\nExit codes: 0 success; 1 the run failed (--out unchanged); 2 usage or config error;\n3 success, but a customer reached the --fail-on tier, or newly reached the --fail-on-new tier."
    )]
    Run(RunArgs),
    /// Read and check every input, print a per-source summary; writes no tables.
    #[command(
        after_help = "Examples:\n  billrisk validate --input exports/\n  billrisk validate   # the bundled sample data"
    )]
    Validate(ValidateArgs),
    /// Check every input once and write it as canonical Parquet: runs and queries from that
    /// folder skip parsing and checking.
    #[command(
        after_help = "Examples:\n  billrisk ingest --input exports/ --out checked/\n  billrisk run --input checked/ --out out/\n\nThe folder has the input layout (usage/usage.parquet, receivables/invoices.parquet, ...),\nthe rejected rows in rejected_rows.parquet and a manifest.json; new exports can be added\nbeside the converted files. Exit codes: 0 written; 1 failed (--out unchanged); 2 usage error."
    )]
    Ingest(IngestArgs),
    /// SQL over every input and output table.
    #[command(
        after_help = "Examples:\n  billrisk query 'SELECT * FROM risk_scores ORDER BY risk_score DESC LIMIT 10'\n  billrisk query -f queries/review_queue.sql --out billrisk-out/\n  billrisk query -f queries/anomalies_last_7_days.sql --param as_of=2026-10-19 --output a.csv\n  billrisk query 'SELECT * FROM risk_scores' --out billrisk-out/ --format csv | head"
    )]
    Query(QueryArgs),
    /// Write deterministic synthetic inputs with planted risk scenarios.
    #[command(
        after_help = "Examples:\n  billrisk generate --customers 100 --days 75 --seed 42 --out sample/\n  billrisk generate --customers 20000 --days 60 --seed 1 --out big/"
    )]
    Generate(GenerateArgs),
    /// Print a commented default config (TOML) with every threshold and weight.
    #[command(
        after_help = "Examples:\n  billrisk init > billrisk.toml\n  billrisk init --out billrisk.toml"
    )]
    Init(InitArgs),
    /// Run a role of a Ballista cluster for `billrisk run --cluster` (a build with the cluster
    /// feature).
    #[command(
        after_help = "Examples:\n  billrisk cluster scheduler --bind 0.0.0.0:50050\n  billrisk cluster executor --scheduler sched.example:50050 --bind 0.0.0.0:50051 --concurrency 8\n  billrisk run --cluster df://sched.example:50050 --input /shared/checked --out out/\n\nAn executor serves Arrow Flight on its --bind port and task gRPC on the next port."
    )]
    Cluster(ClusterArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub role: ClusterRole,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ClusterRole {
    /// The scheduler: takes jobs from `billrisk run --cluster` and hands tasks to executors.
    Scheduler {
        /// Address and port to listen on (gRPC and the REST API).
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:50050")]
        bind: String,
    },
    /// An executor: runs tasks of the scheduler's jobs over the converted Parquet files (which
    /// it must be able to read at the same paths as the client).
    Executor {
        /// The scheduler's address and port.
        #[arg(long, value_name = "ADDR:PORT")]
        scheduler: String,
        /// Address and port of Arrow Flight; task gRPC takes the next port.
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:50051")]
        bind: String,
        /// Task slots (tasks run at once). Default: the cores of this machine.
        #[arg(long, value_name = "N")]
        concurrency: Option<usize>,
    },
}

pub use crate::tier::Tier;

#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Input folder (SPEC section 3 layout). Default: the bundled sample data.
    #[arg(long, value_name = "DIR")]
    pub input: Option<PathBuf>,
    /// TOML config file (see `billrisk init`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// As-of date A. Default: the last usage date in the data.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Show converted totals in this currency as well (needs fx_rates).
    #[arg(long, value_name = "CUR")]
    pub reporting_currency: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output folder; replaced in one step when the run succeeds.
    #[arg(long, value_name = "DIR", default_value = "billrisk-out")]
    pub out: PathBuf,
    /// Exit 3 when any customer reaches this risk tier.
    #[arg(long, value_name = "TIER")]
    pub fail_on: Option<Tier>,
    /// Exit 3 only when a customer newly reached this risk tier since the previous run (from
    /// below it, or as a new customer). Without a previous run every customer is new.
    #[arg(long, value_name = "TIER")]
    pub fail_on_new: Option<Tier>,
    /// Compare with this earlier run's output folder (its --out): tables/changes.parquet, the
    /// report's "Since the last run". Default: --out itself, when it holds a billrisk run.
    #[arg(long, value_name = "DIR", conflicts_with = "no_previous")]
    pub previous: Option<PathBuf>,
    /// Compare with no previous run, not even the --out being replaced.
    #[arg(long)]
    pub no_previous: bool,
    /// Replace customer names, domains, user principal names, e-mail and IP addresses in every
    /// output with keyed pseudonyms (HMAC-SHA256), for reports shared outside finance. The key
    /// comes from --pseudonym-key-file or the BILLRISK_PSEUDONYM_KEY environment variable.
    #[arg(long)]
    pub pseudonymize: bool,
    /// File holding the pseudonym key (at least 16 bytes; keep it secret, keep it stable:
    /// the same key gives the same pseudonyms run after run).
    #[arg(long, value_name = "FILE", requires = "pseudonymize")]
    pub pseudonym_key_file: Option<PathBuf>,
    /// Run the reductions over raw usage rows on a Ballista cluster (`billrisk cluster
    /// scheduler`); --input must be a folder converted with `billrisk ingest`, at a path the
    /// executors can read. Needs a build with the cluster feature.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// Input folder (SPEC section 3 layout). Default: the bundled sample data.
    #[arg(long, value_name = "DIR")]
    pub input: Option<PathBuf>,
    /// TOML config file (its input.max_rejected_share applies, as in a run).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder for the canonical Parquet inputs; replaced in one step when the conversion succeeds.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// The SQL statement (or use -f).
    #[arg(
        value_name = "SQL",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub sql: Option<String>,
    /// Read the SQL from a file, e.g. queries/review_queue.sql.
    #[arg(short = 'f', long = "file", value_name = "FILE.sql")]
    pub file: Option<PathBuf>,
    /// Read tables from an earlier run's output folder instead of computing them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Write the result to FILE.csv, FILE.parquet or FILE.json instead of printing it; `-` writes
    /// it to standard output (CSV unless --format says otherwise), for a pipe into other tools.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// table (printed for people, the default on standard output), csv, json or parquet; with
    /// --output FILE it wins over the file's extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<crate::query::Format>,
    /// Replace {{name}} in the SQL with value, e.g. --param as_of=2026-10-19. {{as_of}} defaults
    /// to the as-of date of the run queried.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Number of customers (planted scenarios included).
    #[arg(long, default_value_t = 100)]
    pub customers: usize,
    /// Number of days of usage, ending on --end.
    #[arg(long, default_value_t = 75)]
    pub days: u32,
    /// Random seed: the same seed and sizes give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Last usage date (the natural as-of date of the data).
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-11-15")]
    pub end: String,
    /// Output folder (created; must be empty or absent).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write usage as Parquet instead of CSV, typed as a conversion tool (DuckDB, pandas) writes
    /// an export: dates DATE, amounts and quantities DOUBLE, the rest text.
    #[arg(long)]
    pub parquet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Write to this file instead of standard output (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
