//! usage/: Partner Center new-commerce daily rated usage (billed or unbilled, 55 columns in the
//! real file, renamed over time), and FOCUS 1.0-1.2 cost exports as a second format, both into
//! the canonical `usage` table. One row per input row; money is Float64 (rated usage carries 8+
//! decimals and scientific notation).
//!
//! FOCUS mapping: customer_id = x_CustomerId when the export has it, else SubAccountId (for
//! other clouds the sub-account is what a reseller sells to); entitlement_id = SubAccountId;
//! usage_date = the date of ChargePeriodStart; cost = BilledCost; meter_category = ServiceName;
//! meter_subcategory = ServiceCategory (or x_SkuMeterSubcategory); meter_name = x_SkuMeterName,
//! else x_SkuDescription, else SkuId; region = RegionId (else RegionName).

use polars::prelude::*;

use super::columns::{spec, ColumnSpec, Kind, Need};
use super::tabular::{any_header, Format, Source};
use crate::schema::{self, usage as u};

const PARTNER_CENTER: &[ColumnSpec] = &[
    spec(
        u::CUSTOMER_ID,
        &["customerid", "customertenantid"],
        Kind::Id,
        Need::Required,
    ),
    spec(
        u::CUSTOMER_NAME,
        &["customername", "customercompanyname"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::CUSTOMER_COUNTRY,
        &["customercountry"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::INVOICE_NUMBER,
        &["invoicenumber"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::SUBSCRIPTION_ID,
        &["subscriptionid"],
        Kind::Id,
        Need::Optional,
    ),
    spec(
        u::ENTITLEMENT_ID,
        &["entitlementid"],
        Kind::Id,
        Need::Optional,
    ),
    spec(u::USAGE_DATE, &["usagedate"], Kind::Date, Need::Required),
    spec(
        u::METER_CATEGORY,
        &["metercategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::METER_SUBCATEGORY,
        &["metersubcategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(u::METER_NAME, &["metername"], Kind::Text, Need::Optional),
    spec(u::METER_ID, &["meterid"], Kind::Id, Need::Optional),
    spec(
        RESOURCE_LOCATION,
        &["resourcelocation"],
        Kind::Text,
        Need::Optional,
    ),
    spec(METER_REGION, &["meterregion"], Kind::Text, Need::Optional),
    spec(
        u::RESOURCE_ID,
        &["resourceuri", "resourceid", "instancename"],
        Kind::Id,
        Need::Optional,
    ),
    spec(u::CHARGE_TYPE, &["chargetype"], Kind::Text, Need::Optional),
    spec(
        u::UNIT_PRICE,
        &["effectiveunitprice", "unitprice"],
        Kind::Float,
        Need::Optional,
    ),
    spec(
        u::QUANTITY,
        &["quantity", "consumedquantity"],
        Kind::Float,
        Need::Optional,
    ),
    spec(
        u::UNIT,
        &["unit", "unitofmeasure", "unittype"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::COST,
        &["billingpretaxtotal", "pretaxcharges"],
        Kind::Float,
        Need::Required,
    ),
    spec(
        u::CURRENCY,
        &["billingcurrency", "currency"],
        Kind::Currency,
        Need::Required,
    ),
];

const FOCUS: &[ColumnSpec] = &[
    spec(
        u::CUSTOMER_ID,
        &["xcustomerid", "subaccountid"],
        Kind::Id,
        Need::Required,
    ),
    spec(
        u::CUSTOMER_NAME,
        &["xcustomername", "subaccountname"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::CUSTOMER_COUNTRY,
        &["xcustomercountry"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::INVOICE_NUMBER,
        &["invoiceid", "xinvoiceid"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::SUBSCRIPTION_ID,
        &["billingaccountid"],
        Kind::Id,
        Need::Optional,
    ),
    spec(
        u::ENTITLEMENT_ID,
        &["subaccountid"],
        Kind::Id,
        Need::Optional,
    ),
    spec(
        u::USAGE_DATE,
        &["chargeperiodstart"],
        Kind::Date,
        Need::Required,
    ),
    spec(
        u::METER_CATEGORY,
        &["servicename"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::METER_SUBCATEGORY,
        &["xskumetersubcategory", "servicecategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::METER_NAME,
        &["xskumetername", "xskudescription", "skuid"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::METER_ID,
        &["xskumeterid", "skupriceid"],
        Kind::Id,
        Need::Optional,
    ),
    spec(RESOURCE_LOCATION, &["regionid"], Kind::Text, Need::Optional),
    spec(METER_REGION, &["regionname"], Kind::Text, Need::Optional),
    spec(u::RESOURCE_ID, &["resourceid"], Kind::Id, Need::Optional),
    spec(
        u::CHARGE_TYPE,
        &["chargecategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::UNIT_PRICE,
        &["contractedunitprice", "listunitprice"],
        Kind::Float,
        Need::Optional,
    ),
    spec(
        u::QUANTITY,
        &["consumedquantity"],
        Kind::Float,
        Need::Optional,
    ),
    spec(u::UNIT, &["consumedunit"], Kind::Text, Need::Optional),
    spec(u::COST, &["billedcost"], Kind::Float, Need::Required),
    spec(
        u::CURRENCY,
        &["billingcurrency"],
        Kind::Currency,
        Need::Required,
    ),
];

const RESOURCE_LOCATION: &str = "__resource_location";
const METER_REGION: &str = "__meter_region";

fn is_focus(h: &[String]) -> bool {
    h.iter().any(|c| c == "billedcost") && h.iter().any(|c| c == "chargeperiodstart")
}

/// Region as a lower-case name without spaces ("West Europe" and "westeurope" are one region).
fn finish(lf: LazyFrame) -> LazyFrame {
    let region = coalesce(&[col(RESOURCE_LOCATION), col(METER_REGION)])
        .str()
        .to_lowercase()
        .str()
        .replace_all(lit(" "), lit(""), true);
    lf.with_column(region.alias(u::REGION)).select(
        u::DEF
            .column_names()
            .into_iter()
            .map(col)
            .collect::<Vec<_>>(),
    )
}

pub const SOURCE: Source = Source {
    table: schema::usage::TABLE,
    formats: &[
        Format {
            name: "focus",
            specs: FOCUS,
            detect: is_focus,
            finish,
        },
        Format {
            name: "partner_center",
            specs: PARTNER_CENTER,
            detect: any_header,
            finish,
        },
    ],
};
