//! billrisk: receivables aging, budget forecasts, billing reconciliation and explained risk scores
//! for cloud resellers. `main.rs` parses the command line and calls into this library.
//!
//! Layout: `cli` (flags), `settings` (flags, config file and environment resolved once), `config`
//! (the config file), `schema` (every table and column name), `tier` (the risk tier), `ingest`
//! (one file per source), `analysis` (one file per definition of SPEC section 4), `report`
//! (HTML, Markdown, summary, action CSVs), `pipeline` (the one orchestrator), `generate`
//! (synthetic data), `query` (SQL).

pub mod analysis;
pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod output;
pub mod pipeline;
pub mod previous_run;
pub mod progress;
pub mod pseudonymize;
pub mod query;
pub mod report;
pub mod sample;
pub mod schema;
pub mod settings;
pub mod tier;

#[cfg(test)]
pub(crate) mod testutil;
