//! The one error type of billrisk. Variants are grouped by what the user must fix (an input file,
//! its columns, the config, a query, the output folder); every message names the file, column or
//! query, what was expected and what was found. `main` alone prints them and maps them to exit
//! codes (SPEC section 2).

use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// A file could not be opened, read or decoded.
    #[error("cannot read {path}: {reason}")]
    InputFile { path: PathBuf, reason: String },

    /// A required source has no file at all.
    #[error("missing required input {source_name}: expected {expected} under {dir}, found none")]
    MissingSource {
        source_name: &'static str,
        dir: PathBuf,
        expected: String,
    },

    /// A file lacks a required column (matched by normalised name).
    #[error("{path}: missing required column {column}; expected one of [{expected}], found columns [{found}]{accepts}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        expected: String,
        found: String,
        /// Empty, or "; <folder> accepts ...": the shapes of file the folder takes.
        accepts: String,
    },

    /// A value the run cannot do without is malformed (a whole file, not a row: rows are rejected).
    #[error("{path}, line {line}, column {column}: expected {expected}, found {found:?}")]
    BadValue {
        path: PathBuf,
        line: u64,
        column: String,
        expected: String,
        found: String,
    },

    /// Too large a share of a source's rows was rejected.
    #[error("source {source_name}: {rejected} of {read} rows rejected ({share:.1} %), over the limit of {limit:.1} % (input.max_rejected_share); see rejected_rows or run `billrisk validate`")]
    TooManyRejected {
        source_name: String,
        read: u64,
        rejected: u64,
        share: f64,
        limit: f64,
    },

    /// Bad config file or flag combination: usage error, exit 2.
    #[error("config {origin}: {message}")]
    Config { origin: String, message: String },

    /// Bad SQL in `billrisk query`.
    #[error("query {origin}: {message}")]
    Query { origin: String, message: String },

    /// The output folder could not be written or moved into place.
    #[error("cannot write output {path}: {reason}")]
    Output { path: PathBuf, reason: String },

    /// A Polars failure that no input should cause: a bug in billrisk.
    #[error("internal error in {stage} (this is a bug in billrisk, please report it): {source}")]
    Polars {
        stage: &'static str,
        #[source]
        source: polars::error::PolarsError,
    },

    /// `--cluster` with an export among usage and activity that `billrisk ingest` did not convert.
    #[error("{path} is an export, not a converted file: with --cluster, usage and activity must come from files `billrisk ingest` wrote (the executors read them as they are); run `billrisk ingest --input <exports> --out <folder>` first and run from that folder")]
    NotConverted { path: PathBuf },

    /// `--cluster` or a `billrisk cluster` role: the scheduler could not be reached, an executor
    /// was lost, a job failed, the versions differ. Names the address and what happened; a run
    /// never falls back to the local engine.
    #[error("cluster {address}: {message}")]
    Cluster { address: String, message: String },

    /// Anything else that is billrisk's fault, not the user's.
    #[error("internal error (this is a bug in billrisk, please report it): {0}")]
    Internal(String),
}

impl Error {
    /// Exit code of SPEC section 2: 2 for usage and config errors, 1 for a failed run.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config { .. } => 2,
            _ => 1,
        }
    }

    /// A hint printed after the message, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::MissingSource { .. } => Some(
                "the input folder needs usage/, receivables/invoices* and receivables/payments*; `billrisk generate --out DIR` writes an example",
            ),
            Error::MissingColumn { .. } => Some(
                "columns are matched by name ignoring case, spaces, underscores and a BOM; rename the column or check the file is the right export",
            ),
            Error::Config { .. } => Some("`billrisk init` writes a commented default config"),
            Error::Cluster { .. } => Some(
                "nothing was written; check the scheduler (`billrisk cluster scheduler`) and its executors, or run without --cluster to compute locally",
            ),
            _ => None,
        }
    }
}

/// Wraps a Polars error as an internal error of a named stage.
pub trait PolarsContext<T> {
    fn stage(self, stage: &'static str) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn stage(self, stage: &'static str) -> Result<T> {
        self.map_err(|source| Error::Polars { stage, source })
    }
}
