//! Frames in the exact schema of their table, built column by column from the rows a JSON or
//! in-memory CSV reader accepted (activity, audit records, fraud events).

use chrono::NaiveDateTime;
use polars::prelude::*;

use super::values::timestamp_micros;
use crate::error::{Error, PolarsContext, Result};
use crate::schema::TableDef;

pub(crate) fn str_column<S: AsRef<str>>(
    name: &str,
    values: impl Iterator<Item = Option<S>>,
) -> Column {
    StringChunked::from_iter_options(name.into(), values).into_column()
}

pub(crate) fn i64_column(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values).into_column()
}

/// Datetime(us, UTC) from UTC instants.
pub(crate) fn ts_column(name: &str, values: impl Iterator<Item = Option<NaiveDateTime>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.map(|v| v.map(timestamp_micros)))
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

/// The columns in the order and dtypes of the table definition; a mismatch is a bug here.
pub(crate) fn assemble(
    def: &TableDef,
    height: usize,
    mut columns: Vec<Column>,
) -> Result<DataFrame> {
    let mut ordered = Vec::with_capacity(columns.len());
    for (name, dtype) in (def.columns)() {
        let i = columns
            .iter()
            .position(|c| c.name().as_str() == name)
            .ok_or_else(|| {
                Error::Internal(format!("reader of {} builds no column {name}", def.name))
            })?;
        let column = columns.swap_remove(i);
        if column.dtype() != &dtype {
            return Err(Error::Internal(format!(
                "reader of {} builds {name} as {}, schema says {dtype}",
                def.name,
                column.dtype()
            )));
        }
        ordered.push(column);
    }
    DataFrame::new(height, ordered).stage("reading input files")
}
