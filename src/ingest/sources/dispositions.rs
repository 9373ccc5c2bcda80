//! dispositions*: analysts' verdicts on earlier alerts (SPEC 4.5), into `dispositions`.
//! reason_code and verdict are lower-cased; valid_until is a date.

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::tabular::{any_header, select_schema, Format, Source};
use crate::schema::dispositions as d;
use polars::prelude::LazyFrame;

const SPECS: &[ColumnSpec] = &[
    spec(d::CUSTOMER_ID, &["customerid"], Kind::Id, Need::Required),
    spec(
        d::REASON_CODE,
        &["reasoncode", "reason"],
        Kind::Id,
        Need::Required,
    ),
    spec(d::VERDICT, &["verdict"], Kind::Id, Need::Required),
    spec(d::VALID_UNTIL, &["validuntil"], Kind::Date, Need::Required),
    spec(d::ANALYST, &["analyst"], Kind::Text, Need::Optional),
    spec(d::NOTE, &["note", "notes"], Kind::Text, Need::Optional),
];

fn finish(lf: LazyFrame) -> LazyFrame {
    select_schema(lf, &d::DEF)
}

pub const SOURCE: Source = Source {
    table: d::TABLE,
    formats: &[Format {
        name: "partner",
        specs: SPECS,
        detect: any_header,
        finish,
    }],
    accepts: "",
};
