//! Reader of the activity/ folder: one file of Azure Activity Log events (diagnostic-settings
//! export, REST / `az monitor activity-log list` JSON, or the portal's "Download as CSV") or of
//! Partner Center audit records, plain or gzip-compressed, into the canonical `activity` table and
//! the `audit_records` table (schema.rs), with every record it could not read as a `Rejected` row.
//!
//! The table of each record is decided by its content, not by the file name: an object with
//! operationType or operationDate (or a CSV with Date-Time / Action columns) is an audit record.
//!
//! The file-level machinery it shares with fraud_events.rs (gzip, JSON records with their lines,
//! CSV rows, faults, frames in a table's schema) is in `ingest::read`; audit.rs maps the records
//! that are audit records and imports nothing from here.

use std::path::Path;

use chrono::NaiveDateTime;
use polars::prelude::*;
use serde_json::{Map, Value};

use super::audit::{self, AuditRow};
use crate::error::{Error, Result};
use crate::ingest::read::bytes::{layout, line_count, load_file, raw_text, strip_bom, Layout};
use crate::ingest::read::csv_file::{join_fields, read_csv, CsvFile, CsvRecord};
use crate::ingest::read::frame::{assemble, i64_column, str_column, ts_column};
use crate::ingest::read::json::{for_each_json_record, JsonRecord};
use crate::ingest::read::record::{
    field, non_null, object_of, parse_time_value, text, value_text, FieldFault, RowFault,
};
use crate::ingest::read::values::{
    client_ip, looks_like_guid, normalize_id, parse_timestamp_utc, subscription_of_resource,
    tenant_of_resource,
};
use crate::ingest::read::{RawRead, Rejected};
use crate::schema;

const UPN_CLAIM: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";
const NAME_CLAIM: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name";
const TENANT_CLAIM: &str = "http://schemas.microsoft.com/identity/claims/tenantid";

/// How an activity event was exported (the `shape` column).
const SHAPE_DIAGNOSTIC: &str = "diagnostic";
const SHAPE_REST: &str = "rest";
const SHAPE_PORTAL_CSV: &str = "portal_csv";

/// Reads one activity/ file into one `RawRead` per table it holds (activity, audit_records, or
/// both). An empty file gives one empty `RawRead`; a file that cannot be opened is an error.
pub fn read_activity_file(path: &Path, display_name: &str) -> Result<Vec<RawRead>> {
    let loaded = load_file(path)?;
    let data = strip_bom(&loaded.bytes);
    let mut found = FileContent::default();

    match layout(display_name, data) {
        Layout::Json => read_json_records(data, &mut found),
        Layout::Csv => read_csv_records(data, path, &mut found)?,
    }
    if let Some(reason) = &loaded.decode_error {
        found.unclassified.push(RowFault {
            line: line_count(data) + 1,
            column: String::new(),
            reason: format!("expected a complete gzip stream, found {reason}"),
            raw: String::new(),
        });
    }
    found.into_raw_reads(display_name)
}

/// What one file held, before it becomes `RawRead`s.
#[derive(Default)]
struct FileContent {
    activity: Vec<ActivityRow>,
    activity_faults: Vec<RowFault>,
    audit: Vec<AuditRow>,
    audit_faults: Vec<RowFault>,
    /// Faults that cannot be tied to a table (broken JSON): they go to the file's main table.
    unclassified: Vec<RowFault>,
    /// What a CSV header said the file holds (true: audit records), even without rows.
    header_says_audit: Option<bool>,
}

impl FileContent {
    fn into_raw_reads(self, display_name: &str) -> Result<Vec<RawRead>> {
        let has_activity = !self.activity.is_empty() || !self.activity_faults.is_empty();
        let has_audit = !self.audit.is_empty() || !self.audit_faults.is_empty();
        // The file name is only a hint, used when the content says nothing.
        let home_is_audit = if has_activity {
            false
        } else {
            has_audit
                || self
                    .header_says_audit
                    .unwrap_or_else(|| display_name.to_ascii_lowercase().contains("audit"))
        };
        let (mut activity_faults, mut audit_faults) = (self.activity_faults, self.audit_faults);
        if home_is_audit {
            audit_faults.extend(self.unclassified);
        } else {
            activity_faults.extend(self.unclassified);
        }

        let mut reads = Vec::new();
        if !self.activity.is_empty() || !activity_faults.is_empty() || !home_is_audit {
            let frame = activity_frame(&self.activity, display_name)?;
            reads.push(raw_read(
                schema::activity::TABLE,
                frame,
                activity_faults,
                display_name,
            ));
        }
        // An empty file yields its main table alone, with zero rows.
        if !self.audit.is_empty() || !audit_faults.is_empty() || home_is_audit {
            let frame = audit::audit_frame(&self.audit, display_name)?;
            reads.push(raw_read(
                schema::audit_records::TABLE,
                frame,
                audit_faults,
                display_name,
            ));
        }
        Ok(reads)
    }
}

fn raw_read(
    table: &'static str,
    frame: DataFrame,
    mut faults: Vec<RowFault>,
    file: &str,
) -> RawRead {
    // Broken JSON and unusable records were collected apart: give them back in file order.
    faults.sort_by_key(|f| f.line);
    let rejected: Vec<Rejected> = faults
        .into_iter()
        .map(|f| f.into_rejected(table, file))
        .collect();
    RawRead {
        table,
        rows_read: (frame.height() + rejected.len()) as u64,
        frame,
        rejected,
    }
}

fn read_json_records(data: &[u8], found: &mut FileContent) {
    for_each_json_record(data, |record| match record {
        JsonRecord::Object {
            line,
            start,
            end,
            object,
        } => {
            if audit::is_audit_record(&object) {
                match audit::audit_from_json(&object, line) {
                    Ok(row) => found.audit.push(row),
                    Err(fault) => found
                        .audit_faults
                        .push(fault.at(line, raw_text(data, start, end))),
                }
            } else {
                match activity_from_json(&object, line) {
                    Ok(row) => found.activity.push(row),
                    Err(fault) => found
                        .activity_faults
                        .push(fault.at(line, raw_text(data, start, end))),
                }
            }
        }
        JsonRecord::Bad {
            line,
            start,
            end,
            reason,
        } => found.unclassified.push(RowFault {
            line,
            column: String::new(),
            reason,
            raw: raw_text(data, start, end),
        }),
    });
}

fn read_csv_records(data: &[u8], path: &Path, found: &mut FileContent) -> Result<()> {
    let csv = read_csv(data);
    if csv.header.is_empty() {
        return Ok(());
    }
    if audit::is_audit_header(&csv) {
        found.header_says_audit = Some(true);
        for record in &csv.records {
            match record {
                CsvRecord::Row { line, fields } => match audit::audit_from_csv(&csv, fields, *line)
                {
                    Ok(row) => found.audit.push(row),
                    Err(fault) => found
                        .audit_faults
                        .push(fault.at(*line, join_fields(fields))),
                },
                CsvRecord::Bad(fault) => found.audit_faults.push(fault.clone()),
            }
        }
        return Ok(());
    }
    let portal = PortalColumns::find(&csv).ok_or_else(|| Error::MissingColumn {
        path: path.to_path_buf(),
        column: "Time".into(),
        expected:
            "Time with Operation name, Correlation id or Event category (portal activity log CSV), \
                   or Date-Time with Action (Partner Center audit records CSV)"
                .into(),
        found: csv.header.join(", "),
        accepts: String::new(),
    })?;
    found.header_says_audit = Some(false);
    for record in &csv.records {
        match record {
            CsvRecord::Row { line, fields } => match portal.row(&csv, fields, *line) {
                Ok(row) => found.activity.push(row),
                Err(fault) => found
                    .activity_faults
                    .push(fault.at(*line, join_fields(fields))),
            },
            CsvRecord::Bad(fault) => found.activity_faults.push(fault.clone()),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The activity table.
// ---------------------------------------------------------------------------------------------

/// One accepted activity event, already normalised.
#[derive(Debug, Clone, Default)]
struct ActivityRow {
    event_time: NaiveDateTime,
    subscription_id: Option<String>,
    tenant_id: Option<String>,
    operation: Option<String>,
    status: Option<String>,
    caller: Option<String>,
    client_ip: Option<String>,
    client_ip_raw: Option<String>,
    resource_id: Option<String>,
    category: Option<String>,
    level: Option<String>,
    location: Option<String>,
    role: Option<String>,
    correlation_id: Option<String>,
    shape: &'static str,
    line: i64,
}

/// A diagnostic-settings record or a REST event. REST events are told apart by eventTimestamp or
/// by operationName being an object ({value, localizedValue}).
fn activity_from_json(obj: &Map<String, Value>, line: i64) -> Result<ActivityRow, FieldFault> {
    let rest = field(obj, "eventTimestamp").is_some()
        || matches!(field(obj, "operationName"), Some(Value::Object(_)));
    let time_key = if rest { "eventTimestamp" } else { "time" };
    let time_value = field(obj, time_key)
        .or_else(|| field(obj, "time"))
        .or_else(|| field(obj, "eventTimestamp"));
    let event_time = parse_time_value(time_key, time_value)?;

    let identity = object_of(field(obj, "identity"));
    let authorization = identity
        .as_deref()
        .and_then(|i| object_of(field(i, "authorization")))
        .or_else(|| object_of(field(obj, "authorization")));
    let claims = identity
        .as_deref()
        .and_then(|i| object_of(field(i, "claims")))
        .or_else(|| object_of(field(obj, "claims")));
    let claim = |name: &str| claims.as_deref().and_then(|c| text(field(c, name)));
    let properties = object_of(field(obj, "properties"));
    let property = |name: &str| properties.as_deref().and_then(|p| text(field(p, name)));

    let resource_id = text(field(obj, "resourceId")).map(|r| r.to_ascii_lowercase());
    let subscription_id = resource_id
        .as_deref()
        .and_then(subscription_of_resource)
        .or_else(|| text(field(obj, "subscriptionId")).and_then(|s| normalize_id(&s)));
    // Tenant-scoped records (Entra ID sign-in and audit logs) name the tenant in their resourceId
    // (/tenants/<id>/providers/...) and may have no tenantId field; their properties name the
    // resource tenant too. Never properties.homeTenantId: a guest's home tenant is not the
    // tenant the record is about.
    let tenant_id = claim(TENANT_CLAIM)
        .or_else(|| claim("tid"))
        .or_else(|| text(field(obj, "tenantId")))
        .or_else(|| resource_id.as_deref().and_then(tenant_of_resource))
        .or_else(|| property("resourceTenantId"))
        .or_else(|| property("tenantId"))
        .and_then(|t| normalize_id(&t));
    let operation = value_text(field(obj, "operationName"));
    let status = if rest {
        value_text(field(obj, "status")).or_else(|| value_text(field(obj, "resultType")))
    } else {
        value_text(field(obj, "resultType")).or_else(|| value_text(field(obj, "status")))
    };
    // The caller, from where real records put it, in this order: REST `caller`; the upn claim
    // (full URI, then short); the sign-in logs' properties.userPrincipalName; an `identity` that
    // is a plain string (sign-in logs: the user's display name); the name claim (short, then full
    // URI); properties.userDisplayName; and last the appid claim (an application, not a person).
    let caller = text(field(obj, "caller"))
        .or_else(|| claim(UPN_CLAIM))
        .or_else(|| claim("upn"))
        .or_else(|| property("userPrincipalName"))
        .or_else(|| text(field(obj, "identity")))
        .or_else(|| claim("name"))
        .or_else(|| claim(NAME_CLAIM))
        .or_else(|| property("userDisplayName"))
        .or_else(|| claim("appid"));
    // callerIpAddress may be a range (127.0.0.0/8) or other text: only an address is a client
    // IP; the text as written stays in client_ip_raw. Fallbacks in order: httpRequest's
    // clientIpAddress (REST), the ipaddr claim, properties.ipAddress (sign-in logs).
    let client_ip_raw = text(field(obj, "callerIpAddress"))
        .or_else(|| {
            object_of(field(obj, "httpRequest")).and_then(|h| text(field(&h, "clientIpAddress")))
        })
        .or_else(|| claim("ipaddr"))
        .or_else(|| property("ipAddress"));
    let client_ip = client_ip_raw.as_deref().and_then(client_ip);
    let location = text(field(obj, "location"))
        .or_else(|| property("location"))
        .or_else(|| property("region"))
        .map(|l| l.to_ascii_lowercase());
    // The role assigned (request body of a roleAssignments/write) says more than the role that
    // let the caller act, so it comes first.
    let role = properties
        .as_deref()
        .and_then(role_from_properties)
        .or_else(|| {
            let auth = authorization.as_deref()?;
            object_of(field(auth, "evidence"))
                .and_then(|e| text(field(&e, "role")))
                .or_else(|| text(field(auth, "role")))
        });

    Ok(ActivityRow {
        event_time,
        subscription_id,
        tenant_id,
        operation,
        status,
        caller,
        client_ip,
        client_ip_raw,
        resource_id,
        category: value_text(field(obj, "category")),
        level: value_text(field(obj, "level")),
        location,
        role,
        correlation_id: text(field(obj, "correlationId")).map(|c| c.to_ascii_lowercase()),
        shape: if rest { SHAPE_REST } else { SHAPE_DIAGNOSTIC },
        line,
    })
}

/// Role names of the built-in roles that matter most when granted; other role definitions stay
/// as their id.
const BUILT_IN_ROLES: [(&str, &str); 4] = [
    ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"),
    ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
    (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "User Access Administrator",
    ),
    ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader"),
];

/// The role of a role assignment as the properties give it: a role name, or the roleDefinitionId
/// in properties or in the request body (JSON text or object, with or without an inner
/// `properties`).
fn role_from_properties(props: &Map<String, Value>) -> Option<String> {
    let named = |m: &Map<String, Value>| {
        text(field(m, "roleName")).or_else(|| text(field(m, "roleDefinitionName")))
    };
    let by_id = |m: &Map<String, Value>| {
        text(field(m, "roleDefinitionId")).and_then(|id| role_of_definition(&id))
    };
    if let Some(r) = named(props) {
        return Some(r);
    }
    for key in ["requestbody", "responseBody"] {
        if let Some(body) = object_of(field(props, key)) {
            let inner = object_of(field(&body, "properties"));
            let inner = inner.as_deref().unwrap_or(&body);
            if let Some(r) = named(inner).or_else(|| by_id(inner)) {
                return Some(r);
            }
        }
    }
    by_id(props)
}

fn role_of_definition(id: &str) -> Option<String> {
    let last = id
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()?
        .to_ascii_lowercase();
    if last.is_empty() {
        return None;
    }
    Some(
        BUILT_IN_ROLES
            .iter()
            .find(|(guid, _)| *guid == last)
            .map_or(last.clone(), |(_, name)| (*name).to_string()),
    )
}

/// Column positions of the portal's "Download as CSV" export.
struct PortalColumns {
    time: usize,
    correlation_id: Option<usize>,
    operation: Option<usize>,
    status: Option<usize>,
    category: Option<usize>,
    level: Option<usize>,
    subscription: Option<usize>,
    caller: Option<usize>,
    resource_type: Option<usize>,
    resource_group: Option<usize>,
    resource: Option<usize>,
}

impl PortalColumns {
    fn find(csv: &CsvFile) -> Option<PortalColumns> {
        let cols = PortalColumns {
            time: csv.index(&["Time", "Event time", "eventTimestamp"])?,
            correlation_id: csv.index(&["Correlation id", "correlationId"]),
            operation: csv.index(&["Operation name", "Operation"]),
            status: csv.index(&["Status"]),
            category: csv.index(&["Event category", "Category"]),
            level: csv.index(&["Level"]),
            subscription: csv.index(&["Subscription", "Subscription id"]),
            caller: csv.index(&["Event initiated by", "Caller"]),
            resource_type: csv.index(&["Resource type"]),
            resource_group: csv.index(&["Resource group", "Resource group name"]),
            resource: csv.index(&["Resource", "Resource id"]),
        };
        // Time alone could be any file; one more activity column makes it the portal export.
        (cols.operation.is_some() || cols.correlation_id.is_some() || cols.category.is_some())
            .then_some(cols)
    }

    fn row(&self, csv: &CsvFile, fields: &[String], line: i64) -> Result<ActivityRow, FieldFault> {
        let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).and_then(|v| non_null(v));
        let time_text = get(Some(self.time));
        let event_time = match &time_text {
            None => return Err(FieldFault::missing(csv.name(self.time))),
            Some(t) => {
                parse_timestamp_utc(t).ok_or_else(|| FieldFault::bad(csv.name(self.time), t))?
            }
        };
        let resource = get(self.resource);
        let subscription = get(self.subscription).filter(|s| looks_like_guid(s));
        let resource_id = resource_path(
            resource.as_deref(),
            subscription.as_deref(),
            get(self.resource_group).as_deref(),
            get(self.resource_type).as_deref(),
        );
        let subscription_id = resource_id
            .as_deref()
            .and_then(subscription_of_resource)
            .or_else(|| subscription.and_then(|s| normalize_id(&s)));
        Ok(ActivityRow {
            event_time,
            subscription_id,
            operation: get(self.operation),
            status: get(self.status),
            caller: get(self.caller),
            resource_id,
            category: get(self.category),
            level: get(self.level),
            correlation_id: get(self.correlation_id).map(|c| c.to_ascii_lowercase()),
            shape: SHAPE_PORTAL_CSV,
            line,
            ..ActivityRow::default()
        })
    }
}

/// The portal CSV gives a resource by name beside its group and type; the full id is rebuilt
/// when every part is known, so it reads like the resource ids of the JSON shapes.
fn resource_path(
    resource: Option<&str>,
    subscription: Option<&str>,
    group: Option<&str>,
    kind: Option<&str>,
) -> Option<String> {
    let resource = resource?;
    if resource.starts_with('/') {
        return Some(resource.to_ascii_lowercase());
    }
    match (subscription, group, kind) {
        (Some(s), Some(g), Some(k)) if k.contains('/') => Some(
            format!("/subscriptions/{s}/resourcegroups/{g}/providers/{k}/{resource}")
                .to_ascii_lowercase(),
        ),
        _ => Some(resource.to_ascii_lowercase()),
    }
}

fn activity_frame(rows: &[ActivityRow], file: &str) -> Result<DataFrame> {
    use schema::activity as a;
    let s = |name: &str, f: fn(&ActivityRow) -> Option<&str>| str_column(name, rows.iter().map(f));
    let columns = vec![
        ts_column(a::EVENT_TIME, rows.iter().map(|r| Some(r.event_time))),
        str_column(a::CUSTOMER_ID, rows.iter().map(|_| None::<&str>)),
        s(a::SUBSCRIPTION_ID, |r| r.subscription_id.as_deref()),
        s(a::TENANT_ID, |r| r.tenant_id.as_deref()),
        s(a::OPERATION, |r| r.operation.as_deref()),
        str_column(
            a::OPERATION_LOWER,
            rows.iter()
                .map(|r| r.operation.as_ref().map(|o| o.to_lowercase())),
        ),
        s(a::STATUS, |r| r.status.as_deref()),
        s(a::CALLER, |r| r.caller.as_deref()),
        s(a::CLIENT_IP, |r| r.client_ip.as_deref()),
        s(a::CLIENT_IP_RAW, |r| r.client_ip_raw.as_deref()),
        s(a::RESOURCE_ID, |r| r.resource_id.as_deref()),
        s(a::CATEGORY, |r| r.category.as_deref()),
        s(a::LEVEL, |r| r.level.as_deref()),
        s(a::LOCATION, |r| r.location.as_deref()),
        s(a::ROLE, |r| r.role.as_deref()),
        s(a::CORRELATION_ID, |r| r.correlation_id.as_deref()),
        s(a::SHAPE, |r| Some(r.shape)),
        str_column(a::SOURCE_FILE, rows.iter().map(|_| Some(file))),
        i64_column(a::SOURCE_LINE, rows.iter().map(|r| Some(r.line))),
    ];
    assemble(&a::DEF, rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read::json::TRUNCATED;
    use crate::ingest::read::values::timestamp_micros;
    use std::io::Write;

    use chrono::NaiveDate;

    fn write(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn read(name: &str, content: &str) -> Vec<RawRead> {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, name, content.as_bytes());
        let reads = read_activity_file(&path, name).unwrap();
        for r in &reads {
            assert_eq!(r.rows_read, (r.frame.height() + r.rejected.len()) as u64);
        }
        reads
    }

    fn activity(reads: &[RawRead]) -> &RawRead {
        reads
            .iter()
            .find(|r| r.table == schema::activity::TABLE)
            .unwrap()
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

    fn lines(df: &DataFrame) -> Vec<i64> {
        df.column(schema::SOURCE_LINE)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .flatten()
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

    fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, sec: u32, us: u32) -> i64 {
        timestamp_micros(
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_micro_opt(h, mi, sec, us)
                .unwrap(),
        )
    }

    const DIAGNOSTIC: &str = r#"{"time": "2025-11-14T01:48:53.1234567Z", "resourceId": "/SUBSCRIPTIONS/AB12CD34-0000-4000-8000-00000000FFFF/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM1", "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", "category": "Administrative", "resultType": " Succeeded ", "durationMs": "1234", "callerIpAddress": "203.0.113.7", "correlationId": "AAAA-1", "level": "Information", "location": "WestEurope", "identity": {"authorization": {"action": "Microsoft.Compute/virtualMachines/write", "scope": "/subscriptions/ab12", "evidence": {"role": "Contributor", "principalType": "User"}}, "claims": {"ipaddr": "198.51.100.1", "name": "Mallory", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "mallory@contoso.com", "http://schemas.microsoft.com/identity/claims/tenantid": "TENANT-A", "appid": "app-1"}}, "properties": {"statusCode": "Created", "responseBody": "{\"id\": \"x\"}"}}
{"time": "11/14/2025 1:48:53 PM", "resourceId": "/subscriptions/ab12/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/r1", "operationName": "Microsoft.Authorization/roleAssignments/write", "resultType": "Started", "durationMs": 12, "identity": {"authorization": {"evidence": {"role": "User Access Administrator"}}, "claims": {"ipaddr": "198.51.100.2", "name": "Eve"}}, "properties": {"requestbody": "{\"Id\":\"r1\",\"Properties\":{\"PrincipalId\":\"p\",\"RoleDefinitionId\":\"/subscriptions/ab12/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635\"}}"}}
{"time": "2025-11-14T02:00:00", "operationName": "Microsoft.ResourceHealth/healthevent/Activated/action", "category": "ResourceHealth", "level": "Informational", "identity": {"claims": {"appid": "app-9"}}}
"#;

    /// Entra ID sign-in records (diagnostic-settings export): `identity` is the display name,
    /// the user principal name is in properties, resourceId is tenant-scoped and there is no
    /// tenantId; and an administrative record whose callerIpAddress is a range.
    const SIGN_INS: &str = r#"{"time": "2024-10-01T08:15:02Z", "resourceId": "/TENANTS/72F988BF-86F1-41AF-91AB-2D7CD011DB47/PROVIDERS/MICROSOFT.AADIAM", "operationName": "Sign-in activity", "category": "SignInLogs", "resultType": "0", "callerIpAddress": "198.51.100.23", "identity": "Alex Wilber", "properties": {"userDisplayName": "Alex Wilber", "userPrincipalName": "AlexW@contoso.com", "ipAddress": "198.51.100.23"}}
{"time": "2024-10-01T09:00:00Z", "resourceId": "/tenants/72f988bf-86f1-41af-91ab-2d7cd011db47/providers/Microsoft.aadiam", "operationName": "Sign-in activity", "category": "NonInteractiveUserSignInLogs", "resultType": "0", "identity": "Sync Service", "properties": {"ipAddress": "2001:DB8::17"}}
{"time": "2024-10-01T10:00:00Z", "resourceId": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE", "callerIpAddress": "127.0.0.0/8", "identity": {"claims": {"appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"}}}
"#;

    #[test]
    fn sign_in_records_give_caller_tenant_and_only_addresses_as_client_ips() {
        use schema::activity as a;
        let reads = read("signins.json", SIGN_INS);
        let r = activity(&reads);
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        let df = &r.frame;
        // UPN from properties first, then the string identity, then the appid claim.
        assert_eq!(
            strs(df, a::CALLER),
            vec![
                s("AlexW@contoso.com"),
                s("Sync Service"),
                s("c44b4083-3bb0-49c1-b47d-974e53cbdf3c")
            ]
        );
        // The tenant of a tenant-scoped resourceId, any case.
        let tenant = s("72f988bf-86f1-41af-91ab-2d7cd011db47");
        assert_eq!(strs(df, a::TENANT_ID), vec![tenant.clone(), tenant, None]);
        assert_eq!(strs(df, a::SUBSCRIPTION_ID), vec![None, None, s("s1")]);
        // properties.ipAddress when there is no callerIpAddress; a range is no address.
        assert_eq!(
            strs(df, a::CLIENT_IP),
            vec![s("198.51.100.23"), s("2001:db8::17"), None]
        );
        assert_eq!(
            strs(df, a::CLIENT_IP_RAW),
            vec![s("198.51.100.23"), s("2001:DB8::17"), s("127.0.0.0/8")]
        );
    }

    #[test]
    fn diagnostic_json_lines_map_every_field() {
        let reads = read("act.jsonl", DIAGNOSTIC);
        assert_eq!(reads.len(), 1);
        let r = activity(&reads);
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(r.rows_read, 3);
        let df = &r.frame;
        assert_eq!(df.schema().as_ref(), &schema::activity::DEF.schema());
        // .1234567 s is truncated to microseconds: 123456.
        assert_eq!(
            times(df, schema::activity::EVENT_TIME),
            vec![
                Some(micros(2025, 11, 14, 1, 48, 53, 123_456)),
                Some(micros(2025, 11, 14, 13, 48, 53, 0)),
                Some(micros(2025, 11, 14, 2, 0, 0, 0)),
            ]
        );
        use schema::activity as a;
        assert_eq!(
            strs(df, a::SUBSCRIPTION_ID),
            vec![s("ab12cd34-0000-4000-8000-00000000ffff"), s("ab12"), None]
        );
        assert_eq!(
            strs(df, a::CALLER),
            vec![s("mallory@contoso.com"), s("Eve"), s("app-9")]
        );
        // callerIpAddress wins over the ipaddr claim; without it the claim is used.
        assert_eq!(
            strs(df, a::CLIENT_IP),
            vec![s("203.0.113.7"), s("198.51.100.2"), None]
        );
        // The assigned role (Owner, from the request body) wins over the caller's evidence role.
        assert_eq!(strs(df, a::ROLE), vec![s("Contributor"), s("Owner"), None]);
        assert_eq!(strs(df, a::TENANT_ID), vec![s("tenant-a"), None, None]);
        assert_eq!(
            strs(df, a::STATUS),
            vec![s("Succeeded"), s("Started"), None]
        );
        assert_eq!(
            strs(df, a::OPERATION)[0],
            s("MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE")
        );
        assert_eq!(
            strs(df, a::OPERATION_LOWER)[0],
            s("microsoft.compute/virtualmachines/write")
        );
        assert_eq!(
            strs(df, a::RESOURCE_ID)[0],
            s("/subscriptions/ab12cd34-0000-4000-8000-00000000ffff/resourcegroups/rg1/providers/microsoft.compute/virtualmachines/vm1")
        );
        assert_eq!(strs(df, a::LOCATION), vec![s("westeurope"), None, None]);
        assert_eq!(strs(df, a::CORRELATION_ID)[0], s("aaaa-1"));
        assert_eq!(strs(df, a::SHAPE), vec![s("diagnostic"); 3]);
        assert_eq!(strs(df, a::CUSTOMER_ID), vec![None, None, None]);
        assert_eq!(strs(df, a::SOURCE_FILE), vec![s("act.jsonl"); 3]);
        assert_eq!(lines(df), vec![1, 2, 3]);
    }

    #[test]
    fn rest_array_maps_value_objects() {
        let content = r#"[
  {
    "eventTimestamp": "2019-02-04T09:22:40.17-08:00",
    "caller": "ops@fabrikam.com",
    "operationName": {"value": "Microsoft.Compute/virtualMachineScaleSets/write", "localizedValue": "Create or Update Scale Set"},
    "status": {"value": "Failed", "localizedValue": "Failed"},
    "category": {"value": "Administrative"},
    "level": "Error",
    "resourceId": "/subscriptions/SUB-9/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss",
    "subscriptionId": "sub-other",
    "tenantId": "TEN-1",
    "httpRequest": {"clientIpAddress": "192.0.2.5", "method": "PUT"},
    "authorization": {"action": "x", "role": "Subscription Admin", "scope": "/subscriptions/sub-9"},
    "correlationId": "c-1",
    "properties": {}
  },
  {"eventTimestamp": "2019-02-04T10:00:00Z", "operationName": {"localizedValue": "Only localized"}, "subscriptionId": "SUB-7"}
]"#;
        let reads = read("rest.json", content);
        let r = activity(&reads);
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        let df = &r.frame;
        use schema::activity as a;
        // 09:22:40.17 at -08:00 is 17:22:40.17 UTC.
        assert_eq!(
            times(df, a::EVENT_TIME),
            vec![
                Some(micros(2019, 2, 4, 17, 22, 40, 170_000)),
                Some(micros(2019, 2, 4, 10, 0, 0, 0))
            ]
        );
        // The resourceId's subscription wins over subscriptionId; without one, subscriptionId.
        assert_eq!(strs(df, a::SUBSCRIPTION_ID), vec![s("sub-9"), s("sub-7")]);
        assert_eq!(
            strs(df, a::OPERATION),
            vec![
                s("Microsoft.Compute/virtualMachineScaleSets/write"),
                s("Only localized")
            ]
        );
        assert_eq!(strs(df, a::STATUS), vec![s("Failed"), None]);
        assert_eq!(strs(df, a::CATEGORY), vec![s("Administrative"), None]);
        assert_eq!(strs(df, a::CALLER), vec![s("ops@fabrikam.com"), None]);
        assert_eq!(strs(df, a::CLIENT_IP), vec![s("192.0.2.5"), None]);
        assert_eq!(strs(df, a::ROLE), vec![s("Subscription Admin"), None]);
        assert_eq!(strs(df, a::TENANT_ID), vec![s("ten-1"), None]);
        assert_eq!(strs(df, a::SHAPE), vec![s("rest"), s("rest")]);
        assert_eq!(lines(df), vec![2, 17]);
    }

    #[test]
    fn rest_value_wrapper_is_unwrapped() {
        let content = r#"{"value": [{"eventTimestamp": "2025-01-01T00:00:00Z", "operationName": {"value": "A"}}], "nextLink": null}"#;
        let r = &read("page.json", content)[0];
        assert_eq!(r.frame.height(), 1);
        assert_eq!(strs(&r.frame, schema::activity::OPERATION), vec![s("A")]);
    }

    #[test]
    fn portal_csv_with_bom_any_order_and_offset_after_am_pm() {
        let content = "\u{feff}TIME,Operation_Name,status,Event category,Level,Subscription,Event initiated by,Resource type,Resource group,Resource,Correlation ID\n\
            1/9/2007 10:41:00 AM +01:00,Create or Update Virtual Machine,Succeeded,Administrative,Informational,AB12CD34-0000-4000-8000-00000000FFFF,eve@contoso.com,Microsoft.Compute/virtualMachines,RG1,VM1,C-9\n\
            11/14/2025 1:48:53 PM,Delete,Failed,Administrative,Error,My Subscription,bob@contoso.com,,,,c-2\n\
            11/14/2025 1:48:53 PM,too,few\n\
            not a time,Delete,Failed,Administrative,Error,,,,,,c-3\n";
        let reads = read("portal.csv", content);
        let r = activity(&reads);
        let df = &r.frame;
        use schema::activity as a;
        assert_eq!(df.schema().as_ref(), &a::DEF.schema());
        // 10:41 AM at +01:00 is 09:41 UTC.
        assert_eq!(
            times(df, a::EVENT_TIME),
            vec![
                Some(micros(2007, 1, 9, 9, 41, 0, 0)),
                Some(micros(2025, 11, 14, 13, 48, 53, 0))
            ]
        );
        assert_eq!(
            strs(df, a::SUBSCRIPTION_ID),
            vec![s("ab12cd34-0000-4000-8000-00000000ffff"), None]
        );
        assert_eq!(
            strs(df, a::RESOURCE_ID),
            vec![
                s("/subscriptions/ab12cd34-0000-4000-8000-00000000ffff/resourcegroups/rg1/providers/microsoft.compute/virtualmachines/vm1"),
                None
            ]
        );
        assert_eq!(
            strs(df, a::CALLER),
            vec![s("eve@contoso.com"), s("bob@contoso.com")]
        );
        assert_eq!(strs(df, a::STATUS), vec![s("Succeeded"), s("Failed")]);
        assert_eq!(strs(df, a::CORRELATION_ID), vec![s("c-9"), s("c-2")]);
        assert_eq!(strs(df, a::SHAPE), vec![s("portal_csv"); 2]);
        assert_eq!(lines(df), vec![2, 3]);
        assert_eq!(r.rejected.len(), 2);
        assert_eq!(
            (r.rejected[0].line, r.rejected[0].reason.as_str()),
            (4, "expected 11 fields, found 3")
        );
        assert_eq!(
            (r.rejected[1].line, r.rejected[1].column.as_str()),
            (5, "TIME")
        );
        assert_eq!(
            r.rejected[1].reason,
            "expected a date-time, found \"not a time\""
        );
        assert_eq!(r.rejected[0].source, "activity");
        assert_eq!(r.rows_read, 4);
    }

    #[test]
    fn csv_row_with_invalid_utf8_is_rejected_at_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let mut content = b"Time,Operation name,Status\n11/14/2025 1:00:00 AM,ok,Succeeded\n11/14/2025 2:00:00 AM,".to_vec();
        content.extend_from_slice(&[0xff, 0xfe]);
        content.extend_from_slice(b",Failed\n");
        let path = write(&dir, "p.csv", &content);
        let reads = read_activity_file(&path, "p.csv").unwrap();
        let r = activity(&reads);
        assert_eq!(r.frame.height(), 1);
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(
            (r.rejected[0].line, r.rejected[0].column.as_str()),
            (3, "Operation name")
        );
        assert_eq!(r.rows_read, 2);
    }

    #[test]
    fn pretty_printed_records_file_gives_the_line_of_each_opening_brace() {
        let content = "{\n  \"records\": [\n    {\n      \"time\": \"2025-11-14T01:00:00Z\",\n      \"operationName\": \"A\"\n    },\n    {\n      \"time\": \"2025-11-14T02:00:00Z\",\n      \"properties\": {\n        \"x\": 1\n      },\n      \"operationName\": \"B\"\n    }, {\"time\": \"2025-11-14T03:00:00Z\", \"operationName\": \"C\"}\n  ]\n}\n";
        let r = &read("records.json", content)[0];
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(
            strs(&r.frame, schema::activity::OPERATION),
            vec![s("A"), s("B"), s("C")]
        );
        // Braces open on lines 3, 7 and 13 (the third shares its line with the second's end).
        assert_eq!(lines(&r.frame), vec![3, 7, 13]);
        assert_eq!(r.rows_read, 3);
    }

    #[test]
    fn bad_json_line_is_rejected_with_its_line_and_the_rest_kept() {
        let content = "{\"time\": \"2025-11-14T01:00:00Z\", \"operationName\": \"A\"}\n{\"time\": \"2025-11-14T01:00:00Z\", \"operationName\": }\n\n{\"operationName\": \"no time\"}\n{\"time\": \"2025-11-14T04:00:00Z\", \"operationName\": \"D\"}\n";
        let r = &read("a.json", content)[0];
        assert_eq!(
            strs(&r.frame, schema::activity::OPERATION),
            vec![s("A"), s("D")]
        );
        assert_eq!(lines(&r.frame), vec![1, 5]);
        assert_eq!(r.rejected.len(), 2);
        let bad = &r.rejected[0];
        assert_eq!((bad.line, bad.column.as_str()), (2, ""));
        assert!(
            bad.reason
                .starts_with("expected a JSON object, found invalid JSON"),
            "{}",
            bad.reason
        );
        assert_eq!(
            bad.raw,
            "{\"time\": \"2025-11-14T01:00:00Z\", \"operationName\": }"
        );
        let no_time = &r.rejected[1];
        assert_eq!((no_time.line, no_time.column.as_str()), (4, "time"));
        assert_eq!(no_time.reason, "expected a date-time, found no value");
        assert_eq!(r.rows_read, 4);
    }

    #[test]
    fn truncated_records_file_keeps_the_complete_records() {
        let content = "{\"records\": [\n{\"time\": \"2025-11-14T01:00:00Z\", \"operationName\": \"A\"},\n{\"time\": \"2025-11-14T02:00:00Z\", \"operationName\": \"B\"},\n{\"time\": \"2025-11-14T03:00:00Z\", \"operat";
        let r = &read("t.json", content)[0];
        assert_eq!(
            strs(&r.frame, schema::activity::OPERATION),
            vec![s("A"), s("B")]
        );
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].line, 4);
        assert_eq!(r.rejected[0].reason, TRUNCATED);
        assert_eq!(r.rows_read, 3);
    }

    #[test]
    fn truncated_last_json_line_is_one_rejected_row_at_its_line() {
        let content = "{\"time\": \"2025-11-14T01:00:00Z\"}\n{\"time\": \"2025-11-14T02:00:00Z\"}\n{\"time\": \"2025-11-14T03:0";
        let r = &read("t.jsonl", content)[0];
        assert_eq!(lines(&r.frame), vec![1, 2]);
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(
            (r.rejected[0].line, r.rejected[0].reason.as_str()),
            (3, TRUNCATED)
        );
        assert_eq!(r.rejected[0].raw, "{\"time\": \"2025-11-14T03:0");
        assert_eq!(r.rows_read, 3);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small linear congruential generator over bytes that matter to JSON and CSV parsers.
        let alphabet = b"{}[]\",:\n\r 0a\\t\xff\xc3";
        let mut state: u64 = 7;
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            let mut found = FileContent::default();
            read_json_records(&bytes, &mut found);
            let _ = read_csv(&bytes);
        }
    }

    #[test]
    fn parquet_file_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.parquet", b"PAR1\x00\x00PAR1");
        assert!(matches!(
            read_activity_file(&path, "a.parquet"),
            Err(Error::InputFile { .. })
        ));
    }

    #[test]
    fn truncated_json_lines_and_non_json_never_panic() {
        // Every prefix of a sample must read without panic and with consistent counts.
        let sample = format!("{DIAGNOSTIC}[{{\"value\": [1]}}, 3]\nnot json at all\n{{\"records\": [{{\"time\": \"2025-01-01\"}}]}}");
        for cut in 0..sample.len() {
            let Some(prefix) = sample.get(..cut) else {
                continue;
            };
            let mut records = 0;
            for_each_json_record(prefix.as_bytes(), |_| records += 1);
            let mut found = FileContent::default();
            read_json_records(prefix.as_bytes(), &mut found);
            assert_eq!(
                found.activity.len() + found.activity_faults.len() + found.unclassified.len(),
                records
            );
        }
        let r = &read("junk.json", "hello\nworld\n")[0];
        assert_eq!(
            (r.frame.height(), r.rejected.len(), r.rejected[0].line),
            (0, 1, 1)
        );
    }

    #[test]
    fn empty_and_zero_byte_files_give_zero_rows() {
        for (name, content) in [
            ("e.json", ""),
            ("e.csv", ""),
            ("e.jsonl", "\n  \n"),
            ("x", ""),
        ] {
            let reads = read(name, content);
            assert_eq!(reads.len(), 1, "{name}");
            assert_eq!(reads[0].table, schema::activity::TABLE);
            assert_eq!((reads[0].frame.height(), reads[0].rows_read), (0, 0));
            assert_eq!(
                reads[0].frame.schema().as_ref(),
                &schema::activity::DEF.schema()
            );
        }
        let reads = read("audit_2025.json", "");
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].table, schema::audit_records::TABLE);
        // A header outweighs the name.
        let reads = read("audit_2025.csv", "Time,Operation name\n");
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].table, schema::activity::TABLE);
        let reads = read("activity.csv", "Date-Time,Action\n");
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].table, schema::audit_records::TABLE);
    }

    #[test]
    fn gzip_file_is_decompressed() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(DIAGNOSTIC.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let path = write(&dir, "act.jsonl.gz", &bytes);
        let reads = read_activity_file(&path, "act.jsonl.gz").unwrap();
        assert_eq!(activity(&reads).frame.height(), 3);
        // A gzip cut short keeps what it decoded and reports the break.
        let path = write(&dir, "cut.jsonl.gz", &bytes[..bytes.len() - 10]);
        let reads = read_activity_file(&path, "cut.jsonl.gz").unwrap();
        let r = activity(&reads);
        assert!(r
            .rejected
            .iter()
            .any(|f| f.reason.starts_with("expected a complete gzip stream")));
        assert_eq!(r.rows_read, (r.frame.height() + r.rejected.len()) as u64);
    }

    #[test]
    fn missing_file_is_an_input_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_activity_file(&dir.path().join("nope.json"), "nope.json");
        assert!(matches!(err, Err(Error::InputFile { .. })));
    }

    #[test]
    fn unknown_csv_header_names_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "x.csv", b"a,b\n1,2\n");
        let err = read_activity_file(&path, "x.csv");
        assert!(matches!(err, Err(Error::MissingColumn { ref column, .. }) if column == "Time"));
    }

    #[test]
    fn audit_records_in_an_activity_file_are_found_by_content() {
        let content = "{\"time\": \"2025-11-14T01:00:00Z\", \"operationName\": \"A\"}\n{\"customerId\": \"C-1\", \"operationType\": \"IncreaseSpendingLimit\", \"operationDate\": \"2025-11-14T05:00:00Z\"}\n{broken\n";
        let reads = read("events.json", content);
        assert_eq!(reads.len(), 2);
        assert_eq!(activity(&reads).frame.height(), 1);
        // Broken JSON belongs to the file's main table: activity, since it has activity rows.
        assert_eq!(activity(&reads).rejected.len(), 1);
        let audit = reads
            .iter()
            .find(|r| r.table == schema::audit_records::TABLE)
            .unwrap();
        assert_eq!(
            strs(&audit.frame, schema::audit_records::OPERATION_TYPE),
            vec![s("increase_spending_limit")]
        );
        assert_eq!(lines(&audit.frame), vec![2]);
        assert_eq!(audit.rows_read, 1);
    }
}
