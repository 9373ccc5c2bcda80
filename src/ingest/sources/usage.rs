//! usage/: Partner Center new-commerce daily rated usage (billed or unbilled, 55 columns in the
//! real file, renamed over time), and FOCUS 1.0-1.2 cost exports as a second format, both into
//! the canonical `usage` table. One row per input row; money is Float64 (rated usage carries 8+
//! decimals and scientific notation).
//!
//! FOCUS mapping:
//! - customer_id = x_CustomerId when the export has it, else SubAccountId (for other clouds the
//!   sub-account is what a reseller sells to); entitlement_id = SubAccountId. Microsoft writes
//!   SubAccountId as `/subscriptions/<guid>`: both ids keep the GUID alone (what activity logs and
//!   Partner Center's EntitlementId carry), and `sub_account_id` keeps the text as written.
//! - usage_date = the UTC date of ChargePeriodStart: FOCUS times are UTC, so an offset is applied
//!   first (2024-09-30T23:00:00-08:00 is 2024-10-01).
//! - cost = BilledCost (what is owed; EffectiveCost and ListCost are not read).
//! - charge_type = ChargeCategory as written (ChargeType in FOCUS 0.5), charge_category the same
//!   in FOCUS's spelling (Usage, Purchase, Tax, Credit, Adjustment; Usage when absent), and
//!   charge_class = ChargeClass (Correction, else null).
//! - meter_category = ServiceName, else x_SkuMeterCategory; meter_subcategory =
//!   x_SkuMeterSubcategory, else the InstanceSeries of SkuPriceDetails, else ServiceSubcategory,
//!   else ServiceCategory; meter_name = x_SkuMeterName, else SkuMeter, else x_SkuDescription,
//!   else the InstanceType of SkuPriceDetails, else ChargeDescription, else SkuId (numeric in
//!   Microsoft's export). The GPU and high-core matcher reads subcategory and name, so a GPU VM
//!   series is found in whichever of these columns the export fills.
//! - region = RegionId, else RegionName.
//!
//! Partner Center rows are consumption: charge_category is Usage, except Credit for a ChargeType
//! of refund, credit or customerCredit and Tax for tax (values a usage file may carry; the daily
//! rated usage of new commerce says "new" or "Usage" for its consumption rows).

use std::borrow::Cow;

use polars::prelude::*;

use crate::ingest::read::columns::{spec, ColumnSpec, Kind, Need};
use crate::ingest::read::convert::{eq_ignore_case, per_text_value, per_value};
use crate::ingest::read::tabular::{any_header, Format, Source};
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
        u::SUB_ACCOUNT_ID,
        &["subaccountid"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        CHARGE_PERIOD_START,
        &["chargeperiodstart"],
        Kind::Timestamp,
        Need::Required,
    ),
    spec(
        u::METER_CATEGORY,
        &["servicename", "xskumetercategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        X_SKU_METER_SUBCATEGORY,
        &["xskumetersubcategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        SERVICE_SUBCATEGORY,
        &["servicesubcategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        SERVICE_CATEGORY,
        &["servicecategory"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        X_SKU_METER_NAME,
        &["xskumetername"],
        Kind::Text,
        Need::Optional,
    ),
    spec(SKU_METER, &["skumeter"], Kind::Text, Need::Optional),
    spec(
        X_SKU_DESCRIPTION,
        &["xskudescription"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        SKU_PRICE_DETAILS,
        &["skupricedetails"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        CHARGE_DESCRIPTION,
        &["chargedescription"],
        Kind::Text,
        Need::Optional,
    ),
    spec(SKU_ID, &["skuid"], Kind::Text, Need::Optional),
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
        &["chargecategory", "chargetype"],
        Kind::Text,
        Need::Optional,
    ),
    spec(
        u::CHARGE_CLASS,
        &["chargeclass"],
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
// FOCUS columns that only feed canonical ones.
const CHARGE_PERIOD_START: &str = "__charge_period_start";
const X_SKU_METER_SUBCATEGORY: &str = "__x_sku_meter_subcategory";
const SERVICE_SUBCATEGORY: &str = "__service_subcategory";
const SERVICE_CATEGORY: &str = "__service_category";
const X_SKU_METER_NAME: &str = "__x_sku_meter_name";
const SKU_METER: &str = "__sku_meter";
const X_SKU_DESCRIPTION: &str = "__x_sku_description";
const SKU_PRICE_DETAILS: &str = "__sku_price_details";
const CHARGE_DESCRIPTION: &str = "__charge_description";
const SKU_ID: &str = "__sku_id";

/// FOCUS ChargeCategory values, in FOCUS's spelling.
pub const USAGE: &str = "Usage";
pub const PURCHASE: &str = "Purchase";
pub const TAX: &str = "Tax";
pub const CREDIT: &str = "Credit";
pub const ADJUSTMENT: &str = "Adjustment";
/// FOCUS ChargeClass of a correction of an earlier period.
pub const CORRECTION: &str = "Correction";

fn is_focus(h: &[String]) -> bool {
    h.iter().any(|c| c == "billedcost") && h.iter().any(|c| c == "chargeperiodstart")
}

/// Region as a lower-case name without spaces ("West Europe" and "westeurope" are one region).
fn region() -> Expr {
    per_value(
        coalesce(&[col(RESOURCE_LOCATION), col(METER_REGION)]),
        region_value,
    )
}

/// One region name as [`region`] spells it: lower case (Unicode), spaces removed. A name already
/// so (Partner Center's ResourceLocation) is kept as it is, so the column is not copied; Polars'
/// `to_lowercase` and `replace_all` built two new columns of every usage line, lowering char by
/// char (8% of the typing of a 1M-line folder's usage in a `perf` profile).
fn region_value(s: &str) -> Option<Cow<'_, str>> {
    if s.bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase() && b != b' ')
    {
        return Some(Cow::Borrowed(s));
    }
    let lower = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    };
    Some(Cow::Owned(lower.replace(' ', "")))
}
fn select_canonical(lf: LazyFrame) -> LazyFrame {
    lf.select(
        u::DEF
            .column_names()
            .into_iter()
            .map(col)
            .collect::<Vec<_>>(),
    )
}

/// A value spelled as in `canonical` when it is one of them in any case, else as written.
fn canonical_spelling(e: Expr, canonical: &'static [&'static str]) -> Expr {
    per_text_value::<String, StringChunked>(e, DataType::String, move |v| {
        let spelled = canonical.iter().find(|c| eq_ignore_case(v, c));
        Some(spelled.map_or(v, |c| *c).to_string())
    })
}

/// Whether a text is one of `values` in any case (null stays null).
fn is_one_of(e: Expr, values: &'static [&'static str]) -> Expr {
    per_text_value::<bool, BooleanChunked>(e, DataType::Boolean, move |v| {
        Some(values.iter().any(|t| eq_ignore_case(v, t)))
    })
}

/// Partner Center: consumption, but refunds and credits (Credit) and tax (Tax).
fn finish_partner_center(lf: LazyFrame) -> LazyFrame {
    // Tested value by value: Polars' to_lowercase built a lowered copy of every line's text.
    let kind = || col(u::CHARGE_TYPE);
    let category = when(is_one_of(kind(), &["refund", "credit", "customercredit"]))
        .then(lit(CREDIT))
        .when(is_one_of(kind(), &["tax"]))
        .then(lit(TAX))
        .otherwise(lit(USAGE));
    select_canonical(lf.with_columns([
        region().alias(u::REGION),
        category.alias(u::CHARGE_CATEGORY),
        lit(NULL).cast(DataType::String).alias(u::CHARGE_CLASS),
        lit(NULL).cast(DataType::String).alias(u::SUB_ACCOUNT_ID),
    ]))
}

/// The GUID of a `/subscriptions/<guid>` id (lower-case ids in), else the id as it is.
fn subscription_guid(id: Expr) -> Expr {
    when(id.clone().str().starts_with(lit("/subscriptions/")))
        .then(id.clone().str().extract(lit(r"^/subscriptions/([^/]+)"), 1))
        .otherwise(id)
}

fn finish_focus(lf: LazyFrame) -> LazyFrame {
    let subcategory = coalesce(&[
        col(X_SKU_METER_SUBCATEGORY),
        sku_detail(col(SKU_PRICE_DETAILS), "InstanceSeries"),
        col(SERVICE_SUBCATEGORY),
        col(SERVICE_CATEGORY),
    ]);
    let name = coalesce(&[
        col(X_SKU_METER_NAME),
        col(SKU_METER),
        col(X_SKU_DESCRIPTION),
        sku_detail(col(SKU_PRICE_DETAILS), "InstanceType"),
        col(CHARGE_DESCRIPTION),
        col(SKU_ID),
    ]);
    let category = canonical_spelling(
        col(u::CHARGE_TYPE),
        &[USAGE, PURCHASE, TAX, CREDIT, ADJUSTMENT],
    )
    .fill_null(lit(USAGE));
    select_canonical(
        lf.with_columns([
            region().alias(u::REGION),
            subscription_guid(col(u::CUSTOMER_ID)).alias(u::CUSTOMER_ID),
            subscription_guid(col(u::ENTITLEMENT_ID)).alias(u::ENTITLEMENT_ID),
            col(CHARGE_PERIOD_START)
                .cast(DataType::Date)
                .alias(u::USAGE_DATE),
            subcategory.alias(u::METER_SUBCATEGORY),
            name.alias(u::METER_NAME),
            category.alias(u::CHARGE_CATEGORY),
            canonical_spelling(col(u::CHARGE_CLASS), &[CORRECTION]).alias(u::CHARGE_CLASS),
        ]),
    )
}

/// The value of `key` (any case) in a JSON object held as text (FOCUS SkuPriceDetails), as text;
/// null when the text is not such an object or lacks the key.
fn sku_detail(e: Expr, key: &'static str) -> Expr {
    per_text_value::<String, StringChunked>(e, DataType::String, move |t| json_field(t, key))
}

/// `key`'s value (compared case-insensitively) in a JSON object's text: a string as it is, a
/// number or boolean as written; None for anything else.
pub fn json_field(text: &str, key: &str) -> Option<String> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let obj = v.as_object()?;
    let (_, found) = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?;
    match found {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether a usage row is consumption: a Usage charge (or one of unknown category) that is not a
/// correction of an earlier period. Usage signals, spikes and usage_daily read these rows only;
/// purchases, tax, credits, adjustments and corrections are money, never a usage baseline.
pub fn is_consumption() -> Expr {
    col(u::CHARGE_CATEGORY)
        .is_null()
        .or(col(u::CHARGE_CATEGORY).eq(lit(USAGE)))
        .and(
            col(u::CHARGE_CLASS)
                .is_null()
                .or(col(u::CHARGE_CLASS).neq(lit(CORRECTION))),
        )
}

pub const SOURCE: Source = Source {
    table: schema::usage::TABLE,
    formats: &[
        Format {
            name: "focus",
            specs: FOCUS,
            detect: is_focus,
            finish: finish_focus,
        },
        Format {
            name: "partner_center",
            specs: PARTNER_CENTER,
            detect: any_header,
            finish: finish_partner_center,
        },
    ],
    accepts: super::graph_export::USAGE_SHAPES,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_price_details_fields_are_read_in_any_case() {
        let details = r#"{"InstanceType":"Standard_NC24ads_A100_v4","instanceseries":"NCadsA100v4","CoreCount":24}"#;
        assert_eq!(
            json_field(details, "InstanceSeries").as_deref(),
            Some("NCadsA100v4")
        );
        assert_eq!(json_field(details, "coreCount").as_deref(), Some("24"));
        assert_eq!(json_field(details, "MemorySize"), None);
        assert_eq!(json_field("NULL", "InstanceSeries"), None);
        assert_eq!(json_field("{broken", "InstanceSeries"), None);
    }

    #[test]
    fn focus_ids_dates_and_categories_are_normalised() {
        let raw = df!(
            u::CUSTOMER_ID => [Some("/subscriptions/ab-1"), Some("tenant-2")],
            u::ENTITLEMENT_ID => [Some("/subscriptions/ab-1/resourcegroups/rg"), Some("sub-9")],
            CHARGE_PERIOD_START => ["2024-10-01T07:00:00Z", "2024-10-01T00:00:00Z"],
            u::CHARGE_TYPE => [Some("purchase"), None],
            u::CHARGE_CLASS => [Some("correction"), None],
            X_SKU_METER_SUBCATEGORY => [None::<&str>, None],
            SKU_PRICE_DETAILS => [Some(r#"{"InstanceSeries":"NCadsA100v4"}"#), None],
            SERVICE_CATEGORY => ["Compute", "Compute"],
            SKU_METER => [Some("NC24ads A100 v4"), None],
            SKU_ID => ["1234567", "1234567"],
        )
        .unwrap()
        .lazy()
        .with_column(
            col(CHARGE_PERIOD_START)
                .str()
                .to_datetime(
                    Some(TimeUnit::Microseconds),
                    Some(TimeZone::UTC),
                    StrptimeOptions {
                        format: Some("%Y-%m-%dT%H:%M:%SZ".into()),
                        ..Default::default()
                    },
                    lit("raise"),
                )
                .alias(CHARGE_PERIOD_START),
        );
        let text = |n: &str| lit(NULL).cast(DataType::String).alias(n);
        let lf = raw.with_columns(
            [
                u::CUSTOMER_NAME,
                u::CUSTOMER_COUNTRY,
                u::INVOICE_NUMBER,
                u::SUBSCRIPTION_ID,
                u::SUB_ACCOUNT_ID,
                u::METER_CATEGORY,
                SERVICE_SUBCATEGORY,
                X_SKU_METER_NAME,
                X_SKU_DESCRIPTION,
                CHARGE_DESCRIPTION,
                u::METER_ID,
                RESOURCE_LOCATION,
                METER_REGION,
                u::RESOURCE_ID,
                u::UNIT,
                u::CURRENCY,
                schema::SOURCE_FILE,
            ]
            .map(text)
            .into_iter()
            .chain([
                lit(NULL).cast(DataType::Float64).alias(u::UNIT_PRICE),
                lit(NULL).cast(DataType::Float64).alias(u::QUANTITY),
                lit(1.0).alias(u::COST),
                lit(1i64).alias(schema::SOURCE_LINE),
            ])
            .collect::<Vec<_>>(),
        );
        let out = finish_focus(lf).collect().unwrap();
        let s = |c: &str| -> Vec<Option<String>> {
            out.column(c)
                .unwrap()
                .cast(&DataType::String)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        assert_eq!(
            s(u::CUSTOMER_ID),
            [Some("ab-1".into()), Some("tenant-2".into())]
        );
        assert_eq!(
            s(u::ENTITLEMENT_ID),
            [Some("ab-1".into()), Some("sub-9".into())]
        );
        assert_eq!(
            s(u::USAGE_DATE),
            [Some("2024-10-01".into()), Some("2024-10-01".into())]
        );
        assert_eq!(
            s(u::CHARGE_CATEGORY),
            [Some("Purchase".into()), Some("Usage".into())]
        );
        assert_eq!(s(u::CHARGE_CLASS), [Some("Correction".into()), None]);
        assert_eq!(
            s(u::METER_SUBCATEGORY),
            [Some("NCadsA100v4".into()), Some("Compute".into())]
        );
        assert_eq!(
            s(u::METER_NAME),
            [Some("NC24ads A100 v4".into()), Some("1234567".into())]
        );
    }

    #[test]
    fn regions_and_charge_categories_read_as_polars_lowercasing_would() {
        use crate::testutil::opt_strs;
        let locations = [
            Some("West Europe"),
            Some("westeurope"),
            Some("GermanyWestCentral"),
            Some("Région  Île"),
            Some(" "),
            Some(""),
            None,
            None,
        ];
        let meter_regions = [
            None,
            Some("EU West"),
            None,
            None,
            None,
            None,
            Some("US East 2"),
            None,
        ];
        let kinds = [
            Some("Usage"),
            Some("REFUND"),
            Some("customerCredit"),
            Some("Tax"),
            Some("new"),
            Some("taxes"),
            None,
            Some("Crédit"),
        ];
        let text = |n: &str| lit(NULL).cast(DataType::String).alias(n);
        let lf = df!(
            RESOURCE_LOCATION => locations,
            METER_REGION => meter_regions,
            u::CHARGE_TYPE => kinds,
        )
        .unwrap()
        .lazy();
        let out = finish_partner_center(
            lf.clone().with_columns(
                u::DEF
                    .column_names()
                    .into_iter()
                    .filter(|c| ![u::CHARGE_TYPE, u::REGION].contains(c))
                    .map(text)
                    .collect::<Vec<_>>(),
            ),
        )
        .collect()
        .unwrap();
        // Polars' own string kernels, what region() used before.
        let reference = lf
            .select([coalesce(&[col(RESOURCE_LOCATION), col(METER_REGION)])
                .str()
                .to_lowercase()
                .str()
                .replace_all(lit(" "), lit(""), true)
                .alias(u::REGION)])
            .collect()
            .unwrap();
        assert_eq!(opt_strs(&out, u::REGION), opt_strs(&reference, u::REGION));
        let want = |v: &[Option<&str>]| -> Vec<Option<String>> {
            v.iter().map(|o| o.map(str::to_string)).collect()
        };
        assert_eq!(
            opt_strs(&out, u::REGION),
            want(&[
                Some("westeurope"),
                Some("westeurope"),
                Some("germanywestcentral"),
                Some("régionîle"),
                Some(""),
                Some(""),
                Some("useast2"),
                None,
            ])
        );
        assert_eq!(
            opt_strs(&out, u::CHARGE_CATEGORY),
            want(&[
                Some(USAGE),
                Some(CREDIT),
                Some(CREDIT),
                Some(TAX),
                Some(USAGE),
                Some(USAGE),
                Some(USAGE),
                Some(USAGE),
            ])
        );
    }
}
