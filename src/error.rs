//! The one error type of billrisk. Variants are grouped by what the user must fix (an input file,
//! its columns, the config, a query, the output folder); every message names the file, column or
//! query, what was expected and what was found. `main` alone prints them and maps them to exit
//! codes (SPEC section 2).

use std::path::PathBuf;

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of a library or the system that stopped billrisk (an I/O, Polars, CSV or JSON
/// error), kept as the `source` of billrisk's error so that `main` prints it on a "caused by"
/// line of its own instead of flattened into the message.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, Error)]
pub enum Error {
    /// A file could not be opened, read or decoded: `reason` in billrisk's words (what it
    /// expected and found; empty when the cause says it all), `source` the error that stopped it.
    /// Made by [`Error::input_file`] where a library's error is the cause.
    #[error("cannot read {path}{}", colon(.reason))]
    InputFile {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<Cause>,
    },

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

    /// Bad config file or flag combination: usage error, exit 2. `source`: the error that stopped
    /// reading a file the config or a flag names (made by [`Error::config`]).
    #[error("config {origin}{}", colon(.message))]
    Config {
        origin: String,
        message: String,
        #[source]
        source: Option<Cause>,
    },

    /// `--previous DIR` names no earlier run usable for the comparison (not a billrisk output, or
    /// from a later as-of date): usage error, exit 2. A damaged one is an `InputFile` error.
    #[error("--previous {path}: {message}")]
    PreviousRun { path: PathBuf, message: String },

    /// Bad SQL in `billrisk query`.
    #[error("query {origin}: {message}")]
    Query {
        origin: String,
        message: String,
        /// The error that stopped reading the query file.
        #[source]
        source: Option<Cause>,
    },

    /// The output folder could not be written or moved into place: `reason` and `source` as for
    /// `InputFile`; made by [`Error::output`].
    #[error("cannot write output {path}{}", colon(.reason))]
    Output {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<Cause>,
    },

    /// Polars could not read an input file when a plan ran (an I/O error, or a file its reader
    /// finds damaged: a Parquet page that fails to decode, a file truncated or replaced while the
    /// run read it): the user's file or disk, not a bug. The cause is Polars' own message.
    #[error("cannot read the input files in {stage}: a file is damaged, or changed while billrisk read it")]
    InputData {
        stage: &'static str,
        #[source]
        source: polars::error::PolarsError,
    },

    /// A Polars failure that no input should cause: a bug in billrisk. The cause (printed after
    /// the message, as every `#[source]`) is Polars' own message.
    #[error("internal error in {stage} (this is a bug in billrisk, please report it)")]
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

    /// billrisk's fault, with the library error that showed it (made by [`Error::internal`]).
    #[error("internal error in {what} (this is a bug in billrisk, please report it)")]
    InternalCause {
        what: String,
        #[source]
        source: Cause,
    },
}

/// `": reason"`, or nothing for an empty reason (the cause then follows on its own line).
fn colon(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}

/// `words`, then the words `cause` carries (if any), and its cause.
fn because(words: String, cause: impl Problem) -> (String, Option<Cause>) {
    let (more, source) = cause.split();
    let text = match (words.is_empty(), more.is_empty()) {
        (_, true) => words,
        (true, false) => more,
        (false, false) => format!("{words}: {more}"),
    };
    (text, source)
}

/// What went wrong with a file: billrisk's own words (a `String` or `&str`), or the error of a
/// library or the system (kept whole as the cause).
pub trait Problem {
    /// The words of the message and the cause.
    fn split(self) -> (String, Option<Cause>);
}

impl Problem for String {
    fn split(self) -> (String, Option<Cause>) {
        (self, None)
    }
}

impl Problem for &str {
    fn split(self) -> (String, Option<Cause>) {
        (self.to_string(), None)
    }
}

macro_rules! problem_is_the_cause {
    ($($t:ty),*) => {$(
        impl Problem for $t {
            fn split(self) -> (String, Option<Cause>) {
                (String::new(), Some(Box::new(self)))
            }
        }
    )*};
}

problem_is_the_cause!(
    std::io::Error,
    polars::error::PolarsError,
    csv::Error,
    serde_json::Error,
    toml::de::Error
);

/// A billrisk error about the same file keeps its words and cause (`cannot read X: ...` is not
/// said twice); any other is the cause.
impl Problem for Error {
    fn split(self) -> (String, Option<Cause>) {
        match self {
            Error::InputFile { reason, source, .. } | Error::Output { reason, source, .. } => {
                (reason, source)
            }
            other => (String::new(), Some(Box::new(other))),
        }
    }
}

impl Error {
    /// `cannot read PATH`, with the problem as its reason or its cause.
    pub fn input_file(path: impl Into<PathBuf>, problem: impl Problem) -> Error {
        let (reason, source) = problem.split();
        Error::InputFile {
            path: path.into(),
            reason,
            source,
        }
    }

    /// `cannot read PATH: REASON`, caused by `cause`.
    pub fn input_file_because(
        path: impl Into<PathBuf>,
        reason: impl Into<String>,
        cause: impl Problem,
    ) -> Error {
        let (reason, source) = because(reason.into(), cause);
        Error::InputFile {
            path: path.into(),
            reason,
            source,
        }
    }

    /// `config ORIGIN: MESSAGE`, with the problem as its message or its cause.
    pub fn config(origin: impl Into<String>, problem: impl Problem) -> Error {
        let (message, source) = problem.split();
        Error::Config {
            origin: origin.into(),
            message,
            source,
        }
    }

    /// `config ORIGIN: MESSAGE`, caused by `cause`.
    pub fn config_because(
        origin: impl Into<String>,
        message: impl Into<String>,
        cause: impl Problem,
    ) -> Error {
        let (message, source) = because(message.into(), cause);
        Error::Config {
            origin: origin.into(),
            message,
            source,
        }
    }

    /// `query ORIGIN: MESSAGE`, with the problem as its message or its cause.
    pub fn query(origin: impl Into<String>, problem: impl Problem) -> Error {
        let (message, source) = problem.split();
        Error::Query {
            origin: origin.into(),
            message,
            source,
        }
    }

    /// `query ORIGIN: MESSAGE`, caused by `cause`.
    pub fn query_because(
        origin: impl Into<String>,
        message: impl Into<String>,
        cause: impl Problem,
    ) -> Error {
        let (message, source) = because(message.into(), cause);
        Error::Query {
            origin: origin.into(),
            message,
            source,
        }
    }

    /// An internal error (a bug) in `what`, caused by `cause`.
    pub fn internal(
        what: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::InternalCause {
            what: what.into(),
            source: Box::new(cause),
        }
    }

    /// `cannot write output PATH`, with the problem as its reason or its cause.
    pub fn output(path: impl Into<PathBuf>, problem: impl Problem) -> Error {
        let (reason, source) = problem.split();
        Error::Output {
            path: path.into(),
            reason,
            source,
        }
    }

    /// Exit code of SPEC section 2: 2 for usage and config errors, 1 for a failed run.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config { .. } | Error::PreviousRun { .. } => 2,
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
            Error::InputData { .. } => Some(
                "check that no input file is truncated or was rewritten during the run; a Parquet file written by `billrisk ingest` can be converted again",
            ),
            Error::PreviousRun { .. } => Some(
                "--previous takes the --out folder of an earlier `billrisk run`; --no-previous runs without comparing",
            ),
            Error::Cluster { .. } => Some(
                "nothing was written; check the scheduler (`billrisk cluster scheduler`) and its executors, or run without --cluster to compute locally",
            ),
            _ => None,
        }
    }
}

/// Wraps a Polars error of a named stage: a failure to read the input files is the user's
/// ([`Error::InputData`]), anything else an internal error ([`Error::Polars`]).
pub trait PolarsContext<T> {
    fn stage(self, stage: &'static str) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn stage(self, stage: &'static str) -> Result<T> {
        self.map_err(|source| {
            if is_read_failure(&source) {
                Error::InputData { stage, source }
            } else {
                Error::Polars { stage, source }
            }
        })
    }
}

/// Whether a Polars error is a failure to read a file: an I/O error, or a file the Parquet
/// reader cannot decode (polars-parquet turns every `ParquetError` into a ComputeError whose
/// message starts with "parquet: "). A plan's other errors (a missing column, a dtype that does
/// not fit) are billrisk's: the inputs were checked before any plan ran.
pub fn is_read_failure(e: &polars::error::PolarsError) -> bool {
    use polars::error::PolarsError as P;
    match e {
        P::IO { .. } => true,
        P::ComputeError(msg) => msg.starts_with("parquet: "),
        P::Context { error, .. } | P::ExprContext { error, .. } => is_read_failure(error),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::error::PolarsError;
    use std::error::Error as _;

    /// A damaged input file read at collect time used to be reported as a bug in billrisk.
    #[test]
    fn a_file_polars_cannot_read_is_the_users_and_a_plan_error_is_a_bug() {
        let damaged: polars::error::PolarsResult<()> = Err(PolarsError::ComputeError(
            "parquet: File out of specification: Dictionary Index is out-of-bounds".into(),
        ));
        let e = damaged.stage("analyses").unwrap_err();
        assert!(matches!(e, Error::InputData { .. }), "{e}");
        assert!(!e.to_string().contains("bug"), "{e}");
        assert!(e.hint().is_some());
        // The cause is kept, for main's "caused by" line.
        let cause = e.source().map(|c| c.to_string()).unwrap_or_default();
        assert!(cause.contains("Dictionary Index"), "{cause}");

        let io: polars::error::PolarsResult<()> =
            Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short read").into());
        assert!(matches!(io.stage("analyses"), Err(Error::InputData { .. })));

        let plan: polars::error::PolarsResult<()> =
            Err(PolarsError::ColumnNotFound("\"score\" not found".into()));
        let e = plan.stage("analyses").unwrap_err();
        assert!(matches!(e, Error::Polars { .. }), "{e}");
        assert!(e.to_string().contains("this is a bug"), "{e}");
        assert!(e.source().is_some());
    }

    /// A library's error is kept as the source, not flattened into the message; billrisk's own
    /// words are the message and have no source.
    #[test]
    fn causes_are_kept_as_sources_and_words_are_the_message() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::input_file("a.csv", io);
        assert_eq!(e.to_string(), "cannot read a.csv");
        assert_eq!(
            e.source().map(|c| c.to_string()).as_deref(),
            Some("no such file")
        );

        let e = Error::input_file("a.csv", "expected a CSV header, found none");
        assert_eq!(
            e.to_string(),
            "cannot read a.csv: expected a CSV header, found none"
        );
        assert!(e.source().is_none());

        let json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let e = Error::input_file_because("m.json", "expected JSON", json);
        assert_eq!(e.to_string(), "cannot read m.json: expected JSON");
        assert!(e.source().is_some());

        // A billrisk error about the same file keeps its words and cause once.
        let inner = Error::input_file(
            "t.parquet",
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short read"),
        );
        let (words, cause) = inner.split();
        assert_eq!(words, "");
        assert_eq!(cause.map(|c| c.to_string()).as_deref(), Some("short read"));

        let e = Error::output("out", std::io::Error::other("disk full"));
        assert_eq!(e.to_string(), "cannot write output out");
        assert_eq!(
            e.source().map(|c| c.to_string()).as_deref(),
            Some("disk full")
        );
        let e = Error::config_because(
            "x.toml",
            "cannot read the file",
            std::io::Error::other("gone"),
        );
        assert_eq!(e.to_string(), "config x.toml: cannot read the file");
        assert!(e.source().is_some());
        assert_eq!(e.exit_code(), 2);

        let e = Error::internal("manifest", std::io::Error::other("broken"));
        assert_eq!(
            e.to_string(),
            "internal error in manifest (this is a bug in billrisk, please report it)"
        );
        assert_eq!(e.source().map(|c| c.to_string()).as_deref(), Some("broken"));
    }
}
