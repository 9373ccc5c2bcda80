//! Ingestion: finds the files of each source in the input folder (SPEC section 3), reads them as
//! they were downloaded, and turns each source into its canonical table (schema.rs) plus the rows
//! it rejected. Analyses only ever see `Inputs`.

use polars::prelude::*;

use crate::schema;

/// Every canonical input table as a LazyFrame with the schema of `schema.rs`. Absent optional
/// sources are empty frames of the right schema, so analyses never branch on presence.
#[derive(Clone)]
pub struct Inputs {
    pub usage: LazyFrame,
    pub billed: LazyFrame,
    pub invoices: LazyFrame,
    pub payments: LazyFrame,
    pub activity: LazyFrame,
    pub audit_records: LazyFrame,
    pub budgets: LazyFrame,
    pub customers: LazyFrame,
    pub fraud_events: LazyFrame,
    pub fx_rates: LazyFrame,
    pub dispositions: LazyFrame,
}

impl Inputs {
    /// All tables empty: the starting point for unit tests, which replace the ones they need.
    pub fn empty() -> Inputs {
        Inputs {
            usage: schema::usage::DEF.empty().lazy(),
            billed: schema::billed::DEF.empty().lazy(),
            invoices: schema::invoices::DEF.empty().lazy(),
            payments: schema::payments::DEF.empty().lazy(),
            activity: schema::activity::DEF.empty().lazy(),
            audit_records: schema::audit_records::DEF.empty().lazy(),
            budgets: schema::budgets::DEF.empty().lazy(),
            customers: schema::customers::DEF.empty().lazy(),
            fraud_events: schema::fraud_events::DEF.empty().lazy(),
            fx_rates: schema::fx_rates::DEF.empty().lazy(),
            dispositions: schema::dispositions::DEF.empty().lazy(),
        }
    }

    /// (table name, frame) for every input, in SPEC order: what `billrisk query` registers.
    pub fn named(&self) -> Vec<(&'static str, LazyFrame)> {
        vec![
            (schema::usage::TABLE, self.usage.clone()),
            (schema::billed::TABLE, self.billed.clone()),
            (schema::invoices::TABLE, self.invoices.clone()),
            (schema::payments::TABLE, self.payments.clone()),
            (schema::activity::TABLE, self.activity.clone()),
            (schema::audit_records::TABLE, self.audit_records.clone()),
            (schema::budgets::TABLE, self.budgets.clone()),
            (schema::customers::TABLE, self.customers.clone()),
            (schema::fraud_events::TABLE, self.fraud_events.clone()),
            (schema::fx_rates::TABLE, self.fx_rates.clone()),
            (schema::dispositions::TABLE, self.dispositions.clone()),
        ]
    }
}

/// One row that could not be accepted: it goes to the rejected_rows table.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Canonical source name, e.g. "usage", "activity".
    pub source: String,
    /// The file as given (relative to the input folder).
    pub file: String,
    /// 1-based line number in the file (JSON arrays: the line the record starts on).
    pub line: i64,
    /// The column (or JSON field) at fault, by its name in the file; empty when the whole row is bad.
    pub column: String,
    /// What was expected and what was found, in words.
    pub reason: String,
    /// The raw text of the row (truncated to a few KB).
    pub raw: String,
}

/// What a reader made of one file before typing: every accepted row as text in canonical column
/// names (all String, plus `source_line` Int64 and `source_file` String), and the rows it could
/// not even split into fields (bad JSON, wrong field count, invalid UTF-8).
pub struct RawRead {
    /// The canonical table this file feeds, e.g. "activity" or "audit_records".
    pub table: &'static str,
    pub frame: DataFrame,
    /// Rows seen in the file (records, JSON objects), rejected or not.
    pub rows_read: u64,
    pub rejected: Vec<Rejected>,
}
pub mod values;
