//! billrisk: receivables aging, budget forecasts, billing reconciliation and explained risk scores
//! for cloud resellers. `main.rs` parses the command line and calls into this library.
//!
//! Layout: `cli` (flags), `config` (settings), `schema` (every table and column name), `ingest`
//! (one file per source), `analysis` (one file per definition of SPEC section 4), `report`
//! (HTML, Markdown, summary, action CSVs), `pipeline` (the one orchestrator), `generate`
//! (synthetic data), `query` (SQL).

pub mod analysis;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod pseudonymize;
pub mod query;
pub mod report;
pub mod sample;
pub mod schema;
