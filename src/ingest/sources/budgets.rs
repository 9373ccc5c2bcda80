//! budgets*: monthly spending budget per customer, into `budgets` (budget Float64). An empty
//! month is a standing budget for every month.

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::tabular::{any_header, select_schema, Format, Source};
use crate::schema::budgets as b;
use polars::prelude::LazyFrame;

const SPECS: &[ColumnSpec] = &[
    spec(b::CUSTOMER_ID, &["customerid"], Kind::Id, Need::Required),
    spec(b::MONTH, &["month"], Kind::Month, Need::Column),
    spec(
        b::BUDGET,
        &["budget", "amount"],
        Kind::Float,
        Need::Required,
    ),
    spec(b::CURRENCY, &["currency"], Kind::Currency, Need::Required),
];

fn finish(lf: LazyFrame) -> LazyFrame {
    select_schema(lf, &b::DEF)
}

pub const SOURCE: Source = Source {
    table: b::TABLE,
    formats: &[Format {
        name: "partner",
        specs: SPECS,
        detect: any_header,
        finish,
    }],
    accepts: "",
};
