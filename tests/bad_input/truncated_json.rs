//! Row rejected: a JSON record cut off by the end of the file (JSON lines, a JSON array, fraud
//! events) or broken mid-file is rejected with the line it starts on ("expected a complete JSON
//! object, found the end of the file" / "found invalid JSON ..."); the records before and after
//! it are read.

use super::*;

const EVENT: &str = r#"{"callerIpAddress":"1.2.3.4","category":"Administrative","operationName":"Microsoft.Compute/virtualMachines/write","resourceId":"/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1","resultType":"Success","time":"2026-11-01T07:30:36Z"}"#;

#[test]
fn cut_off_json_lines_and_arrays_keep_the_good_records() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    // JSON lines: good, broken in the middle, good, cut off at the end.
    w.write(
        "in/activity/diag.jsonl",
        format!(
            "{EVENT}\n{}\n{EVENT}\n{}",
            r#"{"time":"2026-11-01T07:30:36Z","operationName":"x","resourceId":"/subscriptions/sub-1""#,
            &EVENT[..60]
        ),
    );
    // A JSON array (REST export) cut off inside its third element.
    w.write(
        "in/activity/rest.json",
        format!("[\n{EVENT},\n{EVENT},\n{}", &EVENT[..80]),
    );
    w.write(
        "in/fraud_events.json",
        "[{\"eventId\":\"e1\",\"eventTime\":\"2026-11-01T00:00:00\",\"customerTenantId\":\"aaaa-1\",\"eventType\":\"CryptoMining\",\"eventStatus\":\"Active\",\"hitCount\":\"3\"},\n\
         {\"eventId\":\"e2\",\"eventTime\":\"2026-11-01T",
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("activity/diag.jsonl"), (4, 2, 2));
    let diag = ran.rejected_in("activity/diag.jsonl");
    assert_eq!(diag.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
    assert!(
        diag[0]
            .reason
            .starts_with("expected a JSON object, found invalid JSON"),
        "{}",
        diag[0].reason
    );
    assert!(
        diag[1]
            .reason
            .starts_with("expected a complete JSON object, found the end of the file"),
        "{}",
        diag[1].reason
    );
    assert_eq!(diag[1].raw, &EVENT[..60]);
    assert_eq!(ran.counts("activity/rest.json"), (3, 2, 1));
    let rest = ran.rejected_in("activity/rest.json");
    assert_eq!(rest[0].line, 4);
    assert!(
        rest[0]
            .reason
            .starts_with("expected a complete JSON object"),
        "{}",
        rest[0].reason
    );
    assert_eq!(ran.counts("fraud_events.json"), (2, 1, 1));
    let fraud = ran.rejected_in("fraud_events.json");
    assert_eq!(fraud[0].line, 2);
    assert!(
        fraud[0]
            .reason
            .starts_with("expected a complete JSON object"),
        "{}",
        fraud[0].reason
    );
    assert_eq!(fraud[0].source, "fraud_events");
    // The good records are in the tables, with their lines.
    let files = input_text(&w, "activity", "source_file");
    let lines = input_text(&w, "activity", "source_line");
    let mut read: Vec<(String, String)> = files.into_iter().zip(lines).collect();
    read.sort();
    assert_eq!(
        read,
        [
            ("activity/diag.jsonl", "1"),
            ("activity/diag.jsonl", "3"),
            ("activity/rest.json", "2"),
            ("activity/rest.json", "3"),
        ]
        .map(|(f, l)| (f.to_string(), l.to_string()))
    );
    assert_eq!(input_text(&w, "fraud_events", "event_id"), ["e1"]);
}
