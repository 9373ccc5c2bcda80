//! receivables/payments*: payments received from customers, into `payments`. amount is exact
//! ledger money, Decimal(38, 4); a negative amount is a refund; an empty invoice_id is an
//! unapplied payment. instrument is lower-cased (card, prepaid_card, bank_transfer,
//! direct_debit, other); an unknown instrument is kept as written, lower-cased.

use polars::prelude::*;

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::tabular::{any_header, select_schema, Format, Source};
use crate::schema::payments as p;

const SPECS: &[ColumnSpec] = &[
    spec(p::PAYMENT_ID, &["paymentid"], Kind::Text, Need::Required),
    spec(p::CUSTOMER_ID, &["customerid"], Kind::Id, Need::Required),
    spec(
        p::INVOICE_ID,
        &["invoiceid", "invoicenumber"],
        Kind::Text,
        Need::Column,
    ),
    spec(
        p::PAYMENT_DATE,
        &["paymentdate", "date"],
        Kind::Date,
        Need::Required,
    ),
    spec(p::AMOUNT, &["amount"], Kind::Money, Need::Required),
    spec(p::CURRENCY, &["currency"], Kind::Currency, Need::Required),
    spec(
        p::INSTRUMENT,
        &["instrument", "paymentmethod"],
        Kind::Id,
        Need::Optional,
    ),
];

fn finish(lf: LazyFrame) -> LazyFrame {
    let lf = lf.with_column(
        col(p::INSTRUMENT)
            .str()
            .replace_all(lit(" "), lit("_"), true)
            .fill_null(lit("other"))
            .alias(p::INSTRUMENT),
    );
    select_schema(lf, &p::DEF)
}

pub const SOURCE: Source = Source {
    table: p::TABLE,
    formats: &[Format {
        name: "partner",
        specs: SPECS,
        detect: any_header,
        finish,
    }],
    accepts: "",
};
