//! One file per input source: which columns it needs and under which names, and how its records
//! become rows of its canonical table (schema.rs). The tabular sources (usage, billed, invoices,
//! payments, budgets, customers, dispositions, fx_rates) declare their formats for the common path
//! of `read::tabular`; activity.rs reads the activity/ folder (Azure Activity Log events, and
//! audit records through audit.rs), fraud_events.rs the fraud notifications, graph_export.rs the
//! Microsoft Graph billing downloads, canonical.rs the marked Parquet files of `billrisk ingest`.

pub mod activity;
pub mod audit;
pub mod billed;
pub mod budgets;
pub mod canonical;
pub mod customers;
pub mod dispositions;
pub mod fraud_events;
pub mod fx_rates;
pub mod graph_export;
pub mod invoices;
pub mod payments;
pub mod usage;
