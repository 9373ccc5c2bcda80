//! fx_rates*: date, currency, rate into the reporting currency (Float64), into `fx_rates`.

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::tabular::{any_header, select_schema, Format, Source};
use crate::schema::fx_rates as f;
use polars::prelude::LazyFrame;

const SPECS: &[ColumnSpec] = &[
    spec(f::DATE, &["date"], Kind::Date, Need::Required),
    spec(f::CURRENCY, &["currency"], Kind::Currency, Need::Required),
    spec(f::RATE, &["rate"], Kind::Float, Need::Required),
];

fn finish(lf: LazyFrame) -> LazyFrame {
    select_schema(lf, &f::DEF)
}

pub const SOURCE: Source = Source {
    table: f::TABLE,
    formats: &[Format {
        name: "partner",
        specs: SPECS,
        detect: any_header,
        finish,
    }],
    accepts: "",
};
