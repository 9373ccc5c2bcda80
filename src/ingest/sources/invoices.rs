//! receivables/invoices*: the partner's own invoices to its customers, into `invoices`.
//! amount is exact ledger money, Decimal(38, 4); a negative amount is a credit note.

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::tabular::{any_header, select_schema, Format, Source};
use crate::schema::invoices as i;
use polars::prelude::LazyFrame;

const SPECS: &[ColumnSpec] = &[
    spec(
        i::INVOICE_ID,
        &["invoiceid", "invoicenumber"],
        Kind::Text,
        Need::Required,
    ),
    spec(i::CUSTOMER_ID, &["customerid"], Kind::Id, Need::Required),
    spec(
        i::ISSUE_DATE,
        &["issuedate", "invoicedate"],
        Kind::Date,
        Need::Required,
    ),
    spec(i::DUE_DATE, &["duedate"], Kind::Date, Need::Required),
    spec(i::AMOUNT, &["amount", "total"], Kind::Money, Need::Required),
    spec(i::CURRENCY, &["currency"], Kind::Currency, Need::Required),
    spec(
        i::SERVICE_MONTH,
        &["servicemonth"],
        Kind::Month,
        Need::Optional,
    ),
];

fn finish(lf: LazyFrame) -> LazyFrame {
    select_schema(lf, &i::DEF)
}

pub const SOURCE: Source = Source {
    table: i::TABLE,
    formats: &[Format {
        name: "partner",
        specs: SPECS,
        detect: any_header,
        finish,
    }],
    accepts: "",
};
