//! The environment variables billrisk reads, read once per process: the pseudonym key and the
//! developer aids of the benchmarks. The settings (settings.rs) hand the key to the commands;
//! progress.rs and the pipeline read the aids through [`environment`]. This module imports
//! nothing of the crate but the name of the key's variable, so every layer may read it.

use std::ffi::OsString;
use std::sync::OnceLock;

/// The environment variables billrisk reads, read once.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// BILLRISK_PSEUDONYM_KEY: the pseudonym key when no --pseudonym-key-file is given.
    pub pseudonym_key: Option<OsString>,
    /// BILLRISK_PEAK_MEMORY set: each stage line gives the peak resident memory so far.
    pub peak_memory: bool,
    /// BILLRISK_TIME_PLANS set: each plan collected alone, with its time and peak memory.
    pub time_plans: bool,
    /// BILLRISK_ENGINE: the Polars engine of the analyses (default: by the size of the run).
    pub engine: EngineChoice,
}

/// BILLRISK_ENGINE: `streaming`, `in-memory` or `auto`; anything else (or unset) is chosen by
/// the size of the run (see pipeline/collect.rs, `phase_engine`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineChoice {
    #[default]
    BySize,
    Streaming,
    InMemory,
    Auto,
}

impl Environment {
    /// The variables as the process has them now.
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var_os(name);
        Environment {
            pseudonym_key: var(crate::pseudonymize::KEY_ENV),
            peak_memory: var("BILLRISK_PEAK_MEMORY").is_some(),
            time_plans: var("BILLRISK_TIME_PLANS").is_some(),
            engine: match var("BILLRISK_ENGINE").as_deref().and_then(|v| v.to_str()) {
                Some("streaming") => EngineChoice::Streaming,
                Some("in-memory") => EngineChoice::InMemory,
                Some("auto") => EngineChoice::Auto,
                _ => EngineChoice::BySize,
            },
        }
    }
}

/// The process's environment, read on first use and kept for the rest of the process.
pub fn environment() -> &'static Environment {
    static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
    ENVIRONMENT.get_or_init(Environment::from_process)
}
