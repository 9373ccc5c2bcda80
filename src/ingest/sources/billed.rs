//! billed/: Partner Center new-commerce invoice reconciliation line items (licences, seats),
//! optional; into the canonical `billed` table. Total is the amount to sum (Float64).

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::tabular::{any_header, select_schema, Format, Source};
use crate::schema::billed as b;
use polars::prelude::LazyFrame;

const SPECS: &[ColumnSpec] = &[
    spec(
        b::CUSTOMER_ID,
        &["customerid", "customertenantid"],
        Kind::Id,
        Need::Required,
    ),
    spec(
        b::CUSTOMER_NAME,
        &["customername"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        b::INVOICE_NUMBER,
        &["invoicenumber"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        b::SUBSCRIPTION_ID,
        &["subscriptionid"],
        Kind::Id,
        Need::Optional,
    ),
    spec(
        b::PRODUCT_NAME,
        &["productname", "skuname"],
        Kind::Text,
        Need::Optional,
    ),
    spec(b::CHARGE_TYPE, &["chargetype"], Kind::Id, Need::Optional),
    spec(
        b::CHARGE_START_DATE,
        &["chargestartdate", "orderdate"],
        Kind::Date,
        Need::Required,
    ),
    spec(
        b::CHARGE_END_DATE,
        &["chargeenddate"],
        Kind::Date,
        Need::Optional,
    ),
    spec(
        b::QUANTITY,
        &["quantity", "billablequantity"],
        Kind::Float,
        Need::Optional,
    ),
    spec(b::TOTAL, &["total"], Kind::Float, Need::Required),
    spec(
        b::CURRENCY,
        &["currency", "billingcurrency"],
        Kind::Currency,
        Need::Required,
    ),
];

fn finish(lf: LazyFrame) -> LazyFrame {
    select_schema(lf, &b::DEF)
}

pub const SOURCE: Source = Source {
    table: b::TABLE,
    formats: &[Format {
        name: "partner_center",
        specs: SPECS,
        detect: any_header,
        finish,
    }],
    accepts: super::graph_export::BILLED_SHAPES,
};
