//! Partner Center audit records into the `audit_records` table (schema.rs): the JSON records of
//! the audit API (customerId, customerName, userPrincipalName, applicationId, resourceType,
//! operationType, operationDate, operationStatus, resourceOldValue, resourceNewValue) and the
//! portal's CSV export (Date-Time, Affected customer, Action, Partner user). Files are found and
//! split by activity.rs, which calls these mappers for the records that are audit records; this
//! file imports only `ingest::read`, never activity.rs.
//!
//! Operation types come as PascalCase from the API and as words or snake_case elsewhere; they are
//! normalised to snake_case so that rules can name them once (increase_spending_limit).

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::ingest::read::csv_file::CsvFile;
use crate::ingest::read::frame::{assemble, i64_column, str_column, ts_column};
use crate::ingest::read::record::{field, json_text, non_null, parse_time_value, FieldFault};
use crate::ingest::read::values::{looks_like_guid, normalize_id, parse_timestamp_utc};
use crate::schema;

// Names of each field in the API's JSON and in the portal's CSV export.
const OPERATION_DATE: &[&str] = &["operationDate", "Date-Time", "Date"];
const CUSTOMER_ID: &[&str] = &["customerId"];
const CUSTOMER_NAME: &[&str] = &["customerName", "Affected customer"];
const USER_PRINCIPAL_NAME: &[&str] = &["userPrincipalName", "Partner user"];
const APPLICATION_ID: &[&str] = &["applicationId"];
const RESOURCE_TYPE: &[&str] = &["resourceType"];
const OPERATION_TYPE: &[&str] = &["operationType", "Action"];
const OPERATION_STATUS: &[&str] = &["operationStatus", "Status"];
const RESOURCE_OLD_VALUE: &[&str] = &["resourceOldValue"];
const RESOURCE_NEW_VALUE: &[&str] = &["resourceNewValue"];

/// One accepted audit record, already normalised.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditRow {
    operation_date: NaiveDateTime,
    customer_id: Option<String>,
    customer_name: Option<String>,
    user_principal_name: Option<String>,
    application_id: Option<String>,
    resource_type: Option<String>,
    operation_type: Option<String>,
    operation_status: Option<String>,
    resource_old_value: Option<String>,
    resource_new_value: Option<String>,
    line: i64,
}

/// An audit record rather than an activity event: it has operationType or operationDate.
pub(crate) fn is_audit_record(obj: &Map<String, Value>) -> bool {
    field(obj, "operationType").is_some() || field(obj, "operationDate").is_some()
}

/// A CSV of audit records: a date column and an action / operation type column.
pub(crate) fn is_audit_header(csv: &CsvFile) -> bool {
    csv.index(OPERATION_DATE).is_some() && csv.index(OPERATION_TYPE).is_some()
}

pub(crate) fn audit_from_json(obj: &Map<String, Value>, line: i64) -> Result<AuditRow, FieldFault> {
    let operation_date = parse_time_value("operationDate", field(obj, "operationDate"))?;
    // Old and new values are objects in the API: kept as compact JSON text.
    let get = |names: &[&str]| names.iter().find_map(|n| json_text(field(obj, n)));
    Ok(audit_row(operation_date, get, line))
}

pub(crate) fn audit_from_csv(
    csv: &CsvFile,
    fields: &[String],
    line: i64,
) -> Result<AuditRow, FieldFault> {
    let get = |names: &[&str]| {
        csv.index(names)
            .and_then(|i| fields.get(i))
            .and_then(|v| non_null(v))
    };
    let column = csv
        .index(OPERATION_DATE)
        .map_or("operationDate", |i| csv.name(i));
    let operation_date = match get(OPERATION_DATE) {
        None => return Err(FieldFault::missing(column)),
        Some(t) => parse_timestamp_utc(&t).ok_or_else(|| FieldFault::bad(column, &t))?,
    };
    Ok(audit_row(operation_date, get, line))
}

fn audit_row(
    operation_date: NaiveDateTime,
    get: impl Fn(&[&str]) -> Option<String>,
    line: i64,
) -> AuditRow {
    let customer_name = get(CUSTOMER_NAME);
    // The portal export names the customer; when it shows the tenant id instead, that is the id.
    let customer_id = get(CUSTOMER_ID)
        .or_else(|| customer_name.clone().filter(|n| looks_like_guid(n)))
        .and_then(|c| normalize_id(&c));
    AuditRow {
        operation_date,
        customer_id,
        customer_name,
        user_principal_name: get(USER_PRINCIPAL_NAME),
        application_id: get(APPLICATION_ID),
        resource_type: get(RESOURCE_TYPE),
        operation_type: get(OPERATION_TYPE)
            .map(|t| snake_case(&t))
            .filter(|t| !t.is_empty()),
        operation_status: get(OPERATION_STATUS),
        resource_old_value: get(RESOURCE_OLD_VALUE),
        resource_new_value: get(RESOURCE_NEW_VALUE),
        line,
    }
}

/// snake_case lower of PascalCase, camelCase, words or snake_case: "IncreaseSpendingLimit",
/// "increase_spending_limit" and "Increase spending limit" all give increase_spending_limit.
pub fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    let mut out = String::with_capacity(chars.len() + 4);
    let mut separate = false;
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            separate = !out.is_empty();
            continue;
        }
        if c.is_uppercase() && !out.is_empty() {
            let prev = i
                .checked_sub(1)
                .and_then(|p| chars.get(p))
                .copied()
                .unwrap_or(' ');
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            // A word starts at a capital after a small letter or digit, or at the last capital
            // of an acronym followed by a small letter (ABCDef -> abc_def).
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next.is_lowercase())
            {
                separate = true;
            }
        }
        if separate {
            out.push('_');
            separate = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

pub(crate) fn audit_frame(rows: &[AuditRow], file: &str) -> Result<polars::prelude::DataFrame> {
    use schema::audit_records as a;
    let s = |name: &str, f: fn(&AuditRow) -> Option<&str>| str_column(name, rows.iter().map(f));
    let columns = vec![
        ts_column(
            a::OPERATION_DATE,
            rows.iter().map(|r| Some(r.operation_date)),
        ),
        s(a::CUSTOMER_ID, |r| r.customer_id.as_deref()),
        s(a::CUSTOMER_NAME, |r| r.customer_name.as_deref()),
        s(a::USER_PRINCIPAL_NAME, |r| r.user_principal_name.as_deref()),
        s(a::APPLICATION_ID, |r| r.application_id.as_deref()),
        s(a::RESOURCE_TYPE, |r| r.resource_type.as_deref()),
        s(a::OPERATION_TYPE, |r| r.operation_type.as_deref()),
        s(a::OPERATION_STATUS, |r| r.operation_status.as_deref()),
        s(a::RESOURCE_OLD_VALUE, |r| r.resource_old_value.as_deref()),
        s(a::RESOURCE_NEW_VALUE, |r| r.resource_new_value.as_deref()),
        str_column(a::SOURCE_FILE, rows.iter().map(|_| Some(file))),
        i64_column(a::SOURCE_LINE, rows.iter().map(|r| Some(r.line))),
    ];
    assemble(&a::DEF, rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read::values::timestamp_micros;
    use crate::ingest::read::RawRead;
    use crate::ingest::sources::activity::read_activity_file;
    use chrono::NaiveDate;
    use polars::prelude::*;

    fn read(name: &str, content: &str) -> Vec<RawRead> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let reads = read_activity_file(&path, name).unwrap();
        for r in &reads {
            assert_eq!(r.rows_read, (r.frame.height() + r.rejected.len()) as u64);
        }
        reads
    }

    fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
        df.column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn operation_types_become_snake_case() {
        assert_eq!(
            snake_case("IncreaseSpendingLimit"),
            "increase_spending_limit"
        );
        assert_eq!(
            snake_case("increase_spending_limit"),
            "increase_spending_limit"
        );
        assert_eq!(
            snake_case("AzureFraudEventDetected"),
            "azure_fraud_event_detected"
        );
        assert_eq!(
            snake_case("resetCustomerUserPassword"),
            "reset_customer_user_password"
        );
        assert_eq!(
            snake_case(" Update customer spending budget "),
            "update_customer_spending_budget"
        );
        assert_eq!(snake_case("ADD_CUSTOMER"), "add_customer");
        assert_eq!(snake_case("ABCDef"), "abc_def");
        assert_eq!(snake_case("create-order"), "create_order");
        assert_eq!(snake_case(""), "");
    }

    #[test]
    fn api_json_audit_records_map_every_field() {
        let content = r#"{"totalCount": 2, "items": [
  {"partnerId": "p", "customerId": "0B1C-AA", "customerName": "Contoso", "userPrincipalName": "admin@partner.com",
   "applicationId": "app-1", "resourceType": "customer", "operationType": "UpdateCustomerSpendingBudget",
   "operationDate": "2025-11-14T09:30:00.5-05:00", "operationStatus": "succeeded",
   "resourceOldValue": {"amount": 100, "currency": "EUR"}, "resourceNewValue": "{\"amount\": 5000}"},
  {"customerId": "c2", "operationType": "AzureFraudEventDetected", "operationDate": "not a date"}
], "attributes": {"objectType": "Collection"}}"#;
        let reads = read("pc.json", content);
        assert_eq!(reads.len(), 1);
        let r = &reads[0];
        assert_eq!(r.table, schema::audit_records::TABLE);
        let df = &r.frame;
        use schema::audit_records as a;
        assert_eq!(df.schema().as_ref(), &a::DEF.schema());
        // 09:30:00.5 at -05:00 is 14:30:00.5 UTC.
        let t = NaiveDate::from_ymd_opt(2025, 11, 14)
            .unwrap()
            .and_hms_milli_opt(14, 30, 0, 500)
            .unwrap();
        let got: Vec<Option<i64>> = df
            .column(a::OPERATION_DATE)
            .unwrap()
            .datetime()
            .unwrap()
            .physical()
            .iter()
            .collect();
        assert_eq!(got, vec![Some(timestamp_micros(t))]);
        assert_eq!(strs(df, a::CUSTOMER_ID), vec![s("0b1c-aa")]);
        assert_eq!(strs(df, a::CUSTOMER_NAME), vec![s("Contoso")]);
        assert_eq!(
            strs(df, a::USER_PRINCIPAL_NAME),
            vec![s("admin@partner.com")]
        );
        assert_eq!(strs(df, a::APPLICATION_ID), vec![s("app-1")]);
        assert_eq!(strs(df, a::RESOURCE_TYPE), vec![s("customer")]);
        assert_eq!(
            strs(df, a::OPERATION_TYPE),
            vec![s("update_customer_spending_budget")]
        );
        assert_eq!(strs(df, a::OPERATION_STATUS), vec![s("succeeded")]);
        assert_eq!(
            strs(df, a::RESOURCE_OLD_VALUE),
            vec![s(r#"{"amount":100,"currency":"EUR"}"#)]
        );
        assert_eq!(
            strs(df, a::RESOURCE_NEW_VALUE),
            vec![s(r#"{"amount": 5000}"#)]
        );
        assert_eq!(
            df.column(a::SOURCE_LINE).unwrap().i64().unwrap().get(0),
            Some(2)
        );
        assert_eq!(r.rejected.len(), 1);
        let bad = &r.rejected[0];
        assert_eq!(
            (bad.source.as_str(), bad.line, bad.column.as_str()),
            ("audit_records", 6, "operationDate")
        );
        assert_eq!(bad.reason, "expected a date-time, found \"not a date\"");
        assert_eq!(r.rows_read, 2);
    }

    #[test]
    fn portal_csv_export_maps_to_audit_records() {
        let content = "Date-Time,Affected customer,Action,Partner user\n\
            11/14/2025 3:05:00 PM,Contoso Ltd,Increase spending limit,agent@partner.com\n\
            11/15/2025 8:00:00 AM,0B1C2D3E-0000-4000-8000-000000000001,AzureFraudEventDetected,\n";
        let reads = read("audit_export.csv", content);
        assert_eq!(reads.len(), 1);
        let df = &reads[0].frame;
        use schema::audit_records as a;
        assert_eq!(reads[0].table, a::TABLE);
        assert_eq!(
            strs(df, a::OPERATION_TYPE),
            vec![
                s("increase_spending_limit"),
                s("azure_fraud_event_detected")
            ]
        );
        assert_eq!(
            strs(df, a::CUSTOMER_NAME),
            vec![s("Contoso Ltd"), s("0B1C2D3E-0000-4000-8000-000000000001")]
        );
        // Only a tenant id shown as the customer becomes customer_id.
        assert_eq!(
            strs(df, a::CUSTOMER_ID),
            vec![None, s("0b1c2d3e-0000-4000-8000-000000000001")]
        );
        assert_eq!(
            strs(df, a::USER_PRINCIPAL_NAME),
            vec![s("agent@partner.com"), None]
        );
        let t = NaiveDate::from_ymd_opt(2025, 11, 14)
            .unwrap()
            .and_hms_opt(15, 5, 0)
            .unwrap();
        assert_eq!(
            df.column(a::OPERATION_DATE)
                .unwrap()
                .datetime()
                .unwrap()
                .physical()
                .get(0),
            Some(timestamp_micros(t))
        );
        assert_eq!(
            df.column(a::SOURCE_LINE)
                .unwrap()
                .i64()
                .unwrap()
                .iter()
                .flatten()
                .collect::<Vec<_>>(),
            vec![2, 3]
        );
    }
}
