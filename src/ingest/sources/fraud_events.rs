//! Partner Center Azure fraud notifications into the `fraud_events` table (schema.rs), from the
//! API's JSON (an array, a page {"value"|"items": [...]}, or JSON lines) or from a CSV with the
//! same camelCase field names, plain or gzip-compressed. Times without a zone are UTC; the
//! "not yet" sentinel 9999-12-31T23:59:59.997 becomes a null occurrence; hitCount, a string in
//! the API, becomes a whole number; event types new to billrisk are kept as written.

use std::path::Path;

use chrono::NaiveDateTime;

use crate::error::{Error, Result};
use crate::ingest::read::bytes::{layout, line_count, load_file, raw_text, strip_bom, Layout};
use crate::ingest::read::csv_file::{join_fields, read_csv, CsvRecord};
use crate::ingest::read::frame::{assemble, i64_column, str_column, ts_column};
use crate::ingest::read::json::{for_each_json_record, JsonRecord};
use crate::ingest::read::record::{
    field, json_text, non_null, parse_time_value, FieldFault, RowFault,
};
use crate::ingest::read::values::{is_open_ended, normalize_id, parse_f64, parse_timestamp_utc};
use crate::ingest::read::RawRead;
use crate::schema;

// Field names; CSV headers are matched to them ignoring case, spaces and underscores.
const EVENT_TIME: &[&str] = &["eventTime"];
const EVENT_ID: &[&str] = &["eventId"];
const CUSTOMER_TENANT_ID: &[&str] = &["customerTenantId", "customerId"];
const CUSTOMER_NAME: &[&str] = &["customerFriendlyName", "customerName"];
const SUBSCRIPTION_ID: &[&str] = &["subscriptionId"];
const ENTITY_ID: &[&str] = &["entityId"];
const ENTITY_NAME: &[&str] = &["entityName"];
const HIT_COUNT: &[&str] = &["hitCount"];
const EVENT_STATUS: &[&str] = &["eventStatus"];
const RESOLVED_REASON: &[&str] = &["resolvedReason"];
const FIRST_OCCURRENCE: &[&str] = &["firstOccurrence"];
const LAST_OCCURRENCE: &[&str] = &["lastOccurrence"];
const EVENT_TYPE: &[&str] = &["eventType"];
const SEVERITY: &[&str] = &["severity"];
const CONFIDENCE_LEVEL: &[&str] = &["confidenceLevel"];
const DESCRIPTION: &[&str] = &["description", "displayName"];
const COUNTRY: &[&str] = &["country"];

/// Reads one fraud events file. An empty file gives zero rows; a file that cannot be opened, or
/// a CSV without an eventTime column, is an error.
pub fn read_fraud_events_file(path: &Path, display_name: &str) -> Result<RawRead> {
    let loaded = load_file(path)?;
    let data = strip_bom(&loaded.bytes);
    let mut rows = Vec::new();
    let mut faults = Vec::new();

    match layout(display_name, data) {
        Layout::Json => {
            for_each_json_record(data, |record| match record {
                JsonRecord::Object {
                    line,
                    start,
                    end,
                    object,
                } => {
                    let get =
                        |names: &[&str]| names.iter().find_map(|n| json_text(field(&object, n)));
                    match parse_time_value("eventTime", field(&object, "eventTime")) {
                        Ok(t) => rows.push(fraud_row(t, get, line)),
                        Err(fault) => faults.push(fault.at(line, raw_text(data, start, end))),
                    }
                }
                JsonRecord::Bad {
                    line,
                    start,
                    end,
                    reason,
                } => faults.push(RowFault {
                    line,
                    column: String::new(),
                    reason,
                    raw: raw_text(data, start, end),
                }),
            });
        }
        Layout::Csv => {
            let csv = read_csv(data);
            if !csv.header.is_empty() {
                let time_index = csv.index(EVENT_TIME).ok_or_else(|| Error::MissingColumn {
                    path: path.to_path_buf(),
                    column: "eventTime".into(),
                    expected: "eventTime".into(),
                    found: csv.header.join(", "),
                    accepts: String::new(),
                })?;
                let time_column = csv.name(time_index).to_string();
                for record in &csv.records {
                    match record {
                        CsvRecord::Row { line, fields } => {
                            let get = |names: &[&str]| {
                                csv.index(names)
                                    .and_then(|i| fields.get(i))
                                    .and_then(|v| non_null(v))
                            };
                            let time = match get(EVENT_TIME) {
                                None => Err(FieldFault::missing(&time_column)),
                                Some(t) => parse_timestamp_utc(&t)
                                    .ok_or_else(|| FieldFault::bad(&time_column, &t)),
                            };
                            match time {
                                Ok(t) => rows.push(fraud_row(t, get, *line)),
                                Err(fault) => faults.push(fault.at(*line, join_fields(fields))),
                            }
                        }
                        CsvRecord::Bad(fault) => faults.push(fault.clone()),
                    }
                }
            }
        }
    }
    if let Some(reason) = loaded.decode_error {
        faults.push(RowFault {
            line: line_count(data) + 1,
            column: String::new(),
            reason: format!("expected a complete gzip stream, found {reason}"),
            raw: String::new(),
        });
    }

    let frame = fraud_frame(&rows, display_name)?;
    let rejected: Vec<_> = faults
        .into_iter()
        .map(|f| f.into_rejected(schema::fraud_events::TABLE, display_name))
        .collect();
    Ok(RawRead {
        table: schema::fraud_events::TABLE,
        rows_read: (rows.len() + rejected.len()) as u64,
        frame,
        rejected,
    })
}

/// One accepted fraud event, already normalised.
struct FraudRow {
    event_time: NaiveDateTime,
    event_id: Option<String>,
    customer_id: Option<String>,
    customer_name: Option<String>,
    subscription_id: Option<String>,
    entity_id: Option<String>,
    entity_name: Option<String>,
    hit_count: Option<i64>,
    event_status: Option<String>,
    resolved_reason: Option<String>,
    first_occurrence: Option<NaiveDateTime>,
    last_occurrence: Option<NaiveDateTime>,
    event_type: Option<String>,
    severity: Option<String>,
    confidence_level: Option<String>,
    description: Option<String>,
    country: Option<String>,
    line: i64,
}

/// An unreadable hit count or occurrence time leaves that value null rather than dropping the
/// event: a fraud notification is worth keeping with a gap.
fn fraud_row(
    event_time: NaiveDateTime,
    get: impl Fn(&[&str]) -> Option<String>,
    line: i64,
) -> FraudRow {
    let occurrence = |names: &[&str]| {
        get(names)
            .and_then(|t| parse_timestamp_utc(&t))
            .filter(|t| !is_open_ended(*t))
    };
    FraudRow {
        event_time,
        event_id: get(EVENT_ID),
        customer_id: get(CUSTOMER_TENANT_ID).and_then(|c| normalize_id(&c)),
        customer_name: get(CUSTOMER_NAME),
        subscription_id: get(SUBSCRIPTION_ID).and_then(|c| normalize_id(&c)),
        entity_id: get(ENTITY_ID),
        entity_name: get(ENTITY_NAME),
        hit_count: get(HIT_COUNT).and_then(|h| parse_count(&h)),
        event_status: get(EVENT_STATUS),
        resolved_reason: get(RESOLVED_REASON),
        first_occurrence: occurrence(FIRST_OCCURRENCE),
        last_occurrence: occurrence(LAST_OCCURRENCE),
        event_type: get(EVENT_TYPE),
        severity: get(SEVERITY),
        confidence_level: get(CONFIDENCE_LEVEL),
        description: get(DESCRIPTION),
        country: get(COUNTRY),
        line,
    }
}

/// A whole count written as "12", "12.0" or 1.2E+01.
fn parse_count(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>().ok().or_else(|| {
        let v = parse_f64(t)?;
        (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
    })
}

fn fraud_frame(rows: &[FraudRow], file: &str) -> Result<polars::prelude::DataFrame> {
    use schema::fraud_events as f;
    let s = |name: &str, get: fn(&FraudRow) -> Option<&str>| str_column(name, rows.iter().map(get));
    let columns = vec![
        ts_column(f::EVENT_TIME, rows.iter().map(|r| Some(r.event_time))),
        s(f::EVENT_ID, |r| r.event_id.as_deref()),
        s(f::CUSTOMER_ID, |r| r.customer_id.as_deref()),
        s(f::CUSTOMER_NAME, |r| r.customer_name.as_deref()),
        s(f::SUBSCRIPTION_ID, |r| r.subscription_id.as_deref()),
        s(f::ENTITY_ID, |r| r.entity_id.as_deref()),
        s(f::ENTITY_NAME, |r| r.entity_name.as_deref()),
        i64_column(f::HIT_COUNT, rows.iter().map(|r| r.hit_count)),
        s(f::EVENT_STATUS, |r| r.event_status.as_deref()),
        s(f::RESOLVED_REASON, |r| r.resolved_reason.as_deref()),
        ts_column(f::FIRST_OCCURRENCE, rows.iter().map(|r| r.first_occurrence)),
        ts_column(f::LAST_OCCURRENCE, rows.iter().map(|r| r.last_occurrence)),
        s(f::EVENT_TYPE, |r| r.event_type.as_deref()),
        s(f::SEVERITY, |r| r.severity.as_deref()),
        s(f::CONFIDENCE_LEVEL, |r| r.confidence_level.as_deref()),
        s(f::DESCRIPTION, |r| r.description.as_deref()),
        s(f::COUNTRY, |r| r.country.as_deref()),
        str_column(f::SOURCE_FILE, rows.iter().map(|_| Some(file))),
        i64_column(f::SOURCE_LINE, rows.iter().map(|r| Some(r.line))),
    ];
    assemble(&f::DEF, rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read::values::timestamp_micros;
    use chrono::NaiveDate;
    use polars::prelude::*;

    fn read(name: &str, content: &str) -> RawRead {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let r = read_fraud_events_file(&path, name).unwrap();
        assert_eq!(r.rows_read, (r.frame.height() + r.rejected.len()) as u64);
        assert_eq!(
            r.frame.schema().as_ref(),
            &schema::fraud_events::DEF.schema()
        );
        r
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

    fn times(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
        df.column(name)
            .unwrap()
            .datetime()
            .unwrap()
            .physical()
            .iter()
            .collect()
    }

    fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
        df.column(name).unwrap().i64().unwrap().iter().collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, sec: u32, ms: u32) -> Option<i64> {
        Some(timestamp_micros(
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_milli_opt(h, mi, sec, ms)
                .unwrap(),
        ))
    }

    #[test]
    fn api_json_page_maps_every_field() {
        let content = r#"{"items": [
  {
    "eventTime": "2025-11-14T01:02:03.123",
    "eventId": "ev-1",
    "customerTenantId": "AB12CD34-0000-4000-8000-00000000FFFF",
    "customerFriendlyName": "Contoso",
    "subscriptionId": "SUB-1",
    "subscriptionName": "Prod",
    "entityId": "vm-id",
    "entityName": "vm1",
    "hitCount": "12",
    "eventStatus": "Active",
    "resolvedReason": null,
    "firstOccurrence": "2025-11-13T22:00:00",
    "lastOccurrence": "9999-12-31T23:59:59.997",
    "eventType": "BrandNewDetector",
    "severity": "High",
    "confidenceLevel": "Medium",
    "displayName": "Crypto mining",
    "description": "Connections to mining pools",
    "country": "US",
    "affectedResources": [{"id": "x"}]
  },
  {"eventTime": "2025-11-15T00:00:00Z", "eventType": "UsageAnomalyDetection", "hitCount": 3, "lastOccurrence": "2025-11-15T01:00:00Z", "displayName": "Only display"},
  {"eventId": "no-time"}
]}"#;
        let r = read("fraud.json", content);
        let df = &r.frame;
        use schema::fraud_events as f;
        assert_eq!(
            times(df, f::EVENT_TIME),
            vec![
                micros(2025, 11, 14, 1, 2, 3, 123),
                micros(2025, 11, 15, 0, 0, 0, 0)
            ]
        );
        assert_eq!(
            strs(df, f::CUSTOMER_ID),
            vec![s("ab12cd34-0000-4000-8000-00000000ffff"), None]
        );
        assert_eq!(strs(df, f::SUBSCRIPTION_ID), vec![s("sub-1"), None]);
        assert_eq!(ints(df, f::HIT_COUNT), vec![Some(12), Some(3)]);
        assert_eq!(
            times(df, f::FIRST_OCCURRENCE),
            vec![micros(2025, 11, 13, 22, 0, 0, 0), None]
        );
        // 9999-12-31 means "not yet": null.
        assert_eq!(
            times(df, f::LAST_OCCURRENCE),
            vec![None, micros(2025, 11, 15, 1, 0, 0, 0)]
        );
        assert_eq!(
            strs(df, f::EVENT_TYPE),
            vec![s("BrandNewDetector"), s("UsageAnomalyDetection")]
        );
        assert_eq!(
            strs(df, f::DESCRIPTION),
            vec![s("Connections to mining pools"), s("Only display")]
        );
        assert_eq!(strs(df, f::RESOLVED_REASON), vec![None, None]);
        assert_eq!(strs(df, f::EVENT_STATUS), vec![s("Active"), None]);
        assert_eq!(strs(df, f::ENTITY_NAME), vec![s("vm1"), None]);
        assert_eq!(strs(df, f::CUSTOMER_NAME), vec![s("Contoso"), None]);
        assert_eq!(strs(df, f::SEVERITY), vec![s("High"), None]);
        assert_eq!(strs(df, f::CONFIDENCE_LEVEL), vec![s("Medium"), None]);
        assert_eq!(strs(df, f::COUNTRY), vec![s("US"), None]);
        assert_eq!(ints(df, f::SOURCE_LINE), vec![Some(2), Some(24)]);
        assert_eq!(r.rejected.len(), 1);
        let bad = &r.rejected[0];
        assert_eq!(
            (bad.source.as_str(), bad.line, bad.column.as_str()),
            ("fraud_events", 25, "eventTime")
        );
        assert_eq!(r.rows_read, 3);
    }

    #[test]
    fn csv_with_any_case_headers() {
        let content = "EventTime,event_id,CUSTOMERTENANTID,hitCount,Last Occurrence,eventType,eventStatus\n\
            11/14/2025 1:48:53 AM,e1,TEN-1,12,9999-12-31T23:59:59.997,NetworkConnectionsToCryptoMiningPools,Resolved\n\
            2025-11-14T05:00:00+02:00,e2,ten-2,\"7\",2025-11-14T06:00:00,VirtualMachineDeploymentAnomaly,Active\n\
            yesterday,e3,ten-3,1,,x,Active\n";
        let r = read("fraud_events.csv", content);
        let df = &r.frame;
        use schema::fraud_events as f;
        // 05:00 at +02:00 is 03:00 UTC.
        assert_eq!(
            times(df, f::EVENT_TIME),
            vec![
                micros(2025, 11, 14, 1, 48, 53, 0),
                micros(2025, 11, 14, 3, 0, 0, 0)
            ]
        );
        assert_eq!(strs(df, f::EVENT_ID), vec![s("e1"), s("e2")]);
        assert_eq!(strs(df, f::CUSTOMER_ID), vec![s("ten-1"), s("ten-2")]);
        assert_eq!(ints(df, f::HIT_COUNT), vec![Some(12), Some(7)]);
        assert_eq!(
            times(df, f::LAST_OCCURRENCE),
            vec![None, micros(2025, 11, 14, 6, 0, 0, 0)]
        );
        assert_eq!(strs(df, f::EVENT_STATUS), vec![s("Resolved"), s("Active")]);
        assert_eq!(ints(df, f::SOURCE_LINE), vec![Some(2), Some(3)]);
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(
            (r.rejected[0].line, r.rejected[0].column.as_str()),
            (4, "EventTime")
        );
        assert_eq!(r.rows_read, 3);
    }

    #[test]
    fn json_lines_empty_files_and_bad_lines() {
        let r = read(
            "fraud.jsonl",
            "{\"eventTime\": \"2025-11-14T01:00:00\", \"hitCount\": \"1.0\"}\n{oops\n{\"eventTime\": \"2025-11-14T02:00:00\", \"hitCount\": \"many\"}\n",
        );
        assert_eq!(
            ints(&r.frame, schema::fraud_events::HIT_COUNT),
            vec![Some(1), None]
        );
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].line, 2);
        for (name, content) in [
            ("f.json", ""),
            ("f.csv", ""),
            ("f.json", "[]"),
            ("f.json", "{\"value\": []}"),
        ] {
            let r = read(name, content);
            assert_eq!(
                (r.frame.height(), r.rows_read),
                (0, 0),
                "{name} {content:?}"
            );
        }
    }

    #[test]
    fn csv_without_event_time_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, "eventId,hitCount\ne1,2\n").unwrap();
        assert!(matches!(
            read_fraud_events_file(&path, "f.csv"),
            Err(Error::MissingColumn { .. })
        ));
    }
}
