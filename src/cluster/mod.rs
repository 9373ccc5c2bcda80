//! Beyond one machine (issue 23): the reductions whose cost grows with raw usage rows, run on an
//! Apache DataFusion Ballista cluster instead of local Polars.
//!
//! - [`reductions`]: each reduction once, as SQL text both Polars and DataFusion run, and what
//!   turns either engine's result into the frame the rest of the run reads (always compiled: the
//!   default build tests the Polars side).
//! - `client` (feature `cluster`): `billrisk run --cluster df://HOST:PORT` connects to a
//!   scheduler, checks its versions, submits each reduction's SQL over the converted Parquet
//!   files, and reads the Arrow result into Polars through Arrow IPC stream bytes.
//! - `roles` (feature `cluster`): `billrisk cluster scheduler` and `billrisk cluster executor`,
//!   the Ballista scheduler and executor as roles of this one binary.
//!
//! [`Engine`] is the seam the orchestrator chooses in one place: `Local` runs the memory-tuned
//! Polars plans of `analysis::usage_daily` as before; `Cluster` runs the SQL on the cluster and
//! fails the run on any cluster fault (never a silent fall-back to local).

use std::path::Path;

use polars::prelude::DataFrame;
use serde::Serialize;

use crate::error::{Error, Result};

pub mod activity_reductions;
pub mod reductions;
pub mod signal_reductions;

#[cfg(feature = "cluster")]
mod client;
#[cfg(feature = "cluster")]
pub mod roles;

#[cfg(feature = "cluster")]
pub use client::{http_get, Cluster};

/// Which engine computes the reductions over raw usage rows.
pub enum Engine {
    /// Polars on this machine (the default).
    Local,
    /// A Ballista cluster (`--cluster df://HOST:PORT`).
    #[cfg(feature = "cluster")]
    Cluster(Box<Cluster>),
}

/// One reduction run on the cluster, for the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct JobRecord {
    pub reduction: String,
    /// The scheduler's job id.
    pub job_id: Option<String>,
    /// From submitting the SQL to the last result row read into Polars.
    pub seconds: f64,
    pub rows: u64,
    /// Bytes of the Arrow IPC stream the result came back as.
    pub ipc_bytes: u64,
}

/// The manifest's `reductions` entry: which engine computed them, and on a cluster the scheduler
/// and every job.
#[derive(Debug, Clone, Serialize)]
pub struct ReductionsRecord {
    /// "polars" (local) or "ballista".
    pub engine: &'static str,
    pub scheduler: Option<String>,
    pub jobs: Vec<JobRecord>,
}

impl Engine {
    /// The engine `--cluster` asks for: local without it; with it, a connection to the
    /// scheduler whose versions have been checked (a scheduler that cannot be reached fails
    /// here, before any input is read).
    pub fn connect(cluster: Option<&str>) -> Result<Engine> {
        match cluster {
            None => Ok(Engine::Local),
            #[cfg(feature = "cluster")]
            Some(url) => Ok(Engine::Cluster(Box::new(Cluster::connect(url)?))),
            #[cfg(not(feature = "cluster"))]
            Some(url) => Err(Error::config("--cluster", format!(
                    "{url}: this billrisk was built without the cluster feature; build it with `cargo build --release --features cluster`"
                ))),
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Engine::Local)
    }

    /// Runs `reduction` on the cluster over the converted usage file, or None on the local
    /// engine (the caller runs its own plan).
    pub fn remote(
        &mut self,
        reduction: &reductions::Reduction,
        usage_file: &Path,
    ) -> Result<Option<DataFrame>> {
        match self {
            Engine::Local => {
                let _ = (reduction, usage_file);
                Ok(None)
            }
            #[cfg(feature = "cluster")]
            Engine::Cluster(c) => c.run(reduction, usage_file).map(Some),
        }
    }

    /// Makes the converted Parquet `file` the cluster's table `name` (besides usage, which
    /// [`Engine::remote`] registers); nothing on the local engine.
    pub fn register(&mut self, name: &str, file: &Path) -> Result<()> {
        match self {
            Engine::Local => {
                let _ = (name, file);
                Ok(())
            }
            #[cfg(feature = "cluster")]
            Engine::Cluster(c) => c.register(name, file),
        }
    }

    pub fn record(&self) -> ReductionsRecord {
        match self {
            Engine::Local => ReductionsRecord {
                engine: "polars",
                scheduler: None,
                jobs: Vec::new(),
            },
            #[cfg(feature = "cluster")]
            Engine::Cluster(c) => ReductionsRecord {
                engine: "ballista",
                scheduler: Some(c.url().to_string()),
                jobs: c.jobs().to_vec(),
            },
        }
    }
}

/// With `--cluster`, usage and activity must come from files `billrisk ingest` converted (the
/// executors read them as they are, without billrisk's parsing and checks): the first export
/// among them that is not fails the run, named, with what to do.
/// `input` is the input folder, None for the bundled sample data.
pub fn check_converted(input: Option<&std::path::Path>) -> Result<()> {
    let dir = match input {
        Some(dir) => dir,
        None => {
            return Err(Error::config("--cluster", "needs --input: a folder converted with `billrisk ingest` (the bundled sample data is CSV)"))
        }
    };
    if let Some(file) = crate::ingest::unconverted(
        dir,
        &[
            crate::schema::usage::TABLE,
            crate::schema::activity::TABLE,
            crate::schema::audit_records::TABLE,
        ],
    )?
    .into_iter()
    .next()
    {
        return Err(Error::NotConverted { path: file });
    }
    Ok(())
}

/// `billrisk cluster scheduler|executor`: runs the role until the process is stopped.
pub fn role(role: crate::cli::ClusterRole) -> Result<()> {
    #[cfg(feature = "cluster")]
    {
        use crate::cli::ClusterRole;
        match role {
            ClusterRole::Scheduler { bind } => roles::scheduler(&bind),
            ClusterRole::Executor {
                scheduler,
                bind,
                concurrency,
            } => roles::executor(&scheduler, &bind, concurrency),
        }
    }
    #[cfg(not(feature = "cluster"))]
    {
        let _ = role;
        Err(Error::config("billrisk cluster", "this billrisk was built without the cluster feature; build it with `cargo build --release --features cluster`"))
    }
}
