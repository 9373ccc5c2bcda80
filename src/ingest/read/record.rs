//! One record of a JSON or CSV file on its way into a table: lenient access to a JSON object's
//! fields (exact name first, then ignoring case; null tokens are absent), and the faults that
//! make a record a rejected row, with the field at fault and what was expected and found.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::bytes::cut;
use super::values::{is_null_token, parse_timestamp_utc};
use super::Rejected;

/// A record that could not be accepted, before it is tied to a table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowFault {
    pub line: i64,
    pub column: String,
    pub reason: String,
    pub raw: String,
}

impl RowFault {
    pub(crate) fn into_rejected(self, source: &str, file: &str) -> Rejected {
        Rejected {
            source: source.to_string(),
            file: file.to_string(),
            line: self.line,
            column: self.column,
            reason: self.reason,
            raw: self.raw,
        }
    }
}

/// A field of a parsed record that makes the record unusable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldFault {
    pub column: String,
    pub reason: String,
}

impl FieldFault {
    pub(crate) fn missing(column: &str) -> FieldFault {
        FieldFault {
            column: column.to_string(),
            reason: "expected a date-time, found no value".into(),
        }
    }

    pub(crate) fn bad(column: &str, found: &str) -> FieldFault {
        FieldFault {
            column: column.to_string(),
            reason: format!("expected a date-time, found {:?}", cut(found, 100)),
        }
    }

    pub(crate) fn at(self, line: i64, raw: String) -> RowFault {
        RowFault {
            line,
            column: self.column,
            reason: self.reason,
            raw,
        }
    }
}

/// A required instant from a JSON field: a string in any shape `parse_timestamp_utc` reads.
pub(crate) fn parse_time_value(
    column: &str,
    value: Option<&Value>,
) -> Result<NaiveDateTime, FieldFault> {
    match value {
        None => Err(FieldFault::missing(column)),
        Some(Value::String(s)) if is_null_token(s) => Err(FieldFault::missing(column)),
        Some(Value::String(s)) => parse_timestamp_utc(s).ok_or_else(|| FieldFault::bad(column, s)),
        Some(other) => Err(FieldFault::bad(column, &other.to_string())),
    }
}

/// A field by name, exact first, then ignoring case; JSON null counts as absent.
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// A scalar as trimmed text; null tokens, objects and arrays give None.
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => non_null(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A scalar, or the `value` (else `localizedValue`) of the REST API's {value, localizedValue}.
pub(crate) fn value_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(m) => text(field(m, "value")).or_else(|| text(field(m, "localizedValue"))),
        other => text(Some(other)),
    }
}

/// A scalar as text, and objects or arrays as compact JSON text.
pub(crate) fn json_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(_) | Value::Array(_) => v.map(|v| v.to_string()),
        other => text(Some(other)),
    }
}

/// An object, or JSON text holding one (exports carry properties and request bodies both ways).
pub(crate) fn object_of(v: Option<&Value>) -> Option<Cow<'_, Map<String, Value>>> {
    match v? {
        Value::Object(m) => Some(Cow::Borrowed(m)),
        Value::String(s) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => Some(Cow::Owned(m)),
                _ => None,
            }
        }
        _ => None,
    }
}

pub(crate) fn non_null(s: &str) -> Option<String> {
    (!is_null_token(s)).then(|| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn fields_are_found_exactly_then_ignoring_case_and_null_is_absent() {
        let o = object(json!({"Time": "a", "time": "b", "Level": "x", "gone": null}));
        assert_eq!(text(field(&o, "time")), Some("b".into()));
        assert_eq!(text(field(&o, "level")), Some("x".into()));
        assert_eq!(field(&o, "gone"), None);
        assert_eq!(field(&o, "missing"), None);
    }

    #[test]
    fn values_as_text() {
        assert_eq!(text(Some(&json!(" x "))), Some("x".into()));
        assert_eq!(text(Some(&json!("NULL"))), None);
        assert_eq!(text(Some(&json!(5))), Some("5".into()));
        assert_eq!(text(Some(&json!(true))), Some("true".into()));
        assert_eq!(text(Some(&json!({"a": 1}))), None);
        assert_eq!(json_text(Some(&json!({"a": 1}))), Some("{\"a\":1}".into()));
        assert_eq!(json_text(Some(&json!([1, 2]))), Some("[1,2]".into()));
        let rest = json!({"value": "Succeeded", "localizedValue": "Erfolgreich"});
        assert_eq!(value_text(Some(&rest)), Some("Succeeded".into()));
        let localized = json!({"localizedValue": "Erfolgreich"});
        assert_eq!(value_text(Some(&localized)), Some("Erfolgreich".into()));
        let inner = json!("{\"b\": 2}");
        assert_eq!(object_of(Some(&inner)).map(|m| m.len()), Some(1));
        assert!(object_of(Some(&json!("not an object"))).is_none());
    }

    #[test]
    fn a_bad_time_becomes_a_row_fault_naming_the_field() {
        assert_eq!(
            parse_time_value("time", Some(&json!(12345))),
            Err(FieldFault::bad("time", "12345"))
        );
        assert_eq!(
            parse_time_value("time", Some(&json!("null"))),
            Err(FieldFault::missing("time"))
        );
        assert!(parse_time_value("time", Some(&json!("2026-11-01T07:30:36Z"))).is_ok());
        let fault = FieldFault::bad("time", &"9".repeat(300)).at(4, "raw".into());
        assert_eq!(fault.line, 4);
        assert_eq!(
            fault.reason.len(),
            "expected a date-time, found \"\"".len() + 100
        );
        let rejected = fault.into_rejected("activity", "activity/a.json");
        assert_eq!(
            (
                rejected.source.as_str(),
                rejected.file.as_str(),
                rejected.column.as_str()
            ),
            ("activity", "activity/a.json", "time")
        );
    }
}
