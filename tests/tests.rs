//! The one integration test binary: every file below is a module, so the Polars-sized binary is
//! linked once. Each runs the real `billrisk` binary in a fresh temporary folder.

mod common;

mod atomic_output;
mod bad_input;
mod changes;
mod cli;
#[cfg(feature = "cluster")]
mod cluster;
mod cluster_flag;
mod converted_inputs;
mod ingest_quirks;
mod pseudonymize;
mod queries;
mod real_exports;
mod replay;
mod report_browser;
mod scenarios;
