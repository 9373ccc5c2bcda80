//! customers*: customer master data, into `customers` (credit_limit Float64).

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::tabular::{any_header, select_schema, Format, Source};
use crate::schema::customers as c;
use polars::prelude::LazyFrame;

const SPECS: &[ColumnSpec] = &[
    spec(c::CUSTOMER_ID, &["customerid"], Kind::Id, Need::Required),
    spec(
        c::CUSTOMER_NAME,
        &["customername", "name"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        c::COUNTRY,
        &["country", "customercountry"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        c::CREATED_DATE,
        &["createddate", "created"],
        Kind::Date,
        Need::Optional,
    ),
    spec(c::VERIFIED, &["verified"], Kind::Bool, Need::Optional),
    spec(
        c::CREDIT_LIMIT,
        &["creditlimit"],
        Kind::Float,
        Need::Optional,
    ),
];

fn finish(lf: LazyFrame) -> LazyFrame {
    select_schema(lf, &c::DEF)
}

pub const SOURCE: Source = Source {
    table: c::TABLE,
    formats: &[Format {
        name: "partner",
        specs: SPECS,
        detect: any_header,
        finish,
    }],
    accepts: "",
};
