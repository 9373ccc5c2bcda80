//! billrisk: receivables aging, budget forecasts, billing reconciliation and explained risk scores
//! for cloud resellers. `main.rs` parses the command line and calls into this library.
//!
//! Layout: `cli` (flags), `settings` (flags, config file and environment resolved once), `config`
//! (the config file), `schema` (every table and column name), `tier` (the risk tier), `ingest`
//! (one file per source), `analysis` (one file per definition of SPEC section 4), `report`
//! (HTML, Markdown, summary, action CSVs), `pipeline` (the one orchestrator), `generate`
//! (synthetic data), `query` (SQL).
//!
//! Layers, lowest first: a module imports only from its own layer's lower neighbours and below,
//! never from above, and no two modules import each other (`python3 scripts/module_cycles.py`
//! checks every pair of sibling modules, production code only):
//! 1. `error`, `schema`, `progress`, `sample`: vocabulary and plumbing with no billrisk imports
//!    but `error`;
//! 2. `files`: errors naming a file, a hashing reader, Parquet row counts, shared by the readers
//!    and the writer of --out;
//! 3. `ingest` (inside it `read`, the file formats, below `sources`, one file per source),
//!    `pseudonymize`, `query`;
//! 4. `analysis` (pure LazyFrame -> LazyFrame over `ingest::Inputs`), then `config`, which holds
//!    the analyses' settings;
//! 5. `report` (data in, String out), `output` (the all-or-nothing folder; marks tables with
//!    `ingest::canonical`), `generate`;
//! 6. `pipeline`, the one orchestrator; `cli` and `app` on top.

pub mod analysis;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod environment;
pub mod error;
pub mod files;
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
