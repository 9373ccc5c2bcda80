//! Row rejected when a record is not a JSON object (a number, a string, null, an array element
//! that is not an object) or its time is not a date-time (a number): "expected a JSON object,
//! found ..." / "expected a date-time, found ...", with its line; in JSON lines, text that is not
//! an object is one rejected row up to the next line starting with { or [. Otherwise accepted,
//! leniently:
//! a number or boolean where text is expected is kept as its text ("5", "true"); an object or
//! array where text is expected is dropped to null in activity and kept as JSON text in fraud
//! events; a hitCount that is not a whole number becomes null.

use super::*;

#[test]
fn activity_records_of_the_wrong_type_are_rejected_and_wrong_fields_kept_leniently() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/activity/diag.jsonl",
        concat!(
            r#"{"callerIpAddress":5,"category":["x"],"operationName":{"a":1},"resourceId":7,"resultType":true,"time":"2026-11-01T07:30:36Z"}"#,
            "\n",
            r#"{"callerIpAddress":"1.2.3.4","operationName":"op","time":12345}"#,
            "\n",
            "42\n",
            "\"text\"\n",
            "null\n",
            r#"{"time":"2026-11-01T08:00:00Z","operationName":"Microsoft.Compute/virtualMachines/write","resourceId":"/subscriptions/sub-1/x","identity":"not an object","properties":[1,2]}"#,
            "\n",
        ),
    );
    w.write(
        "in/activity/rest.json",
        r#"{"value": [{"eventTimestamp":"2026-11-01T09:00:00Z","operationName":{"value":5},"status":"x"}, 7, "x"]}"#,
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("activity/diag.jsonl"), (4, 2, 2));
    let diag = ran.rejected_in("activity/diag.jsonl");
    assert_eq!(
        diag.iter()
            .map(|r| (r.line, r.column.as_str(), r.reason.as_str()))
            .collect::<Vec<_>>(),
        [
            (2, "time", "expected a date-time, found \"12345\""),
            (3, "", "expected a JSON object, found \"42\""),
        ]
    );
    // Lines 3 to 5 are one rejected stretch, raw text and all.
    assert_eq!(diag[1].raw, "42\n\"text\"\nnull");
    assert_eq!(ran.counts("activity/rest.json"), (3, 1, 2));
    assert_eq!(
        ran.rejected_in("activity/rest.json")
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, "expected a JSON object, found a number"),
            (1, "expected a JSON object, found a string"),
        ]
    );
    // Accepted, sorted by file then line: diag line 1 and 6, rest line 1.
    let files = input_text(&w, "activity", "source_file");
    let mut order: Vec<usize> = (0..files.len()).collect();
    let lines = input_text(&w, "activity", "source_line");
    order.sort_by_key(|&i| (files[i].clone(), lines[i].clone()));
    let pick = |c: &str| {
        let v = input_text(&w, "activity", c);
        order.iter().map(|&i| v[i].clone()).collect::<Vec<_>>()
    };
    assert_eq!(pick("source_line"), ["1", "6", "1"]);
    // A number is no IP address: kept as written in client_ip_raw only.
    assert_eq!(pick("client_ip"), ["null", "null", "null"]);
    assert_eq!(pick("client_ip_raw"), ["5", "null", "null"]);
    assert_eq!(pick("resource_id"), ["7", "/subscriptions/sub-1/x", "null"]);
    assert_eq!(pick("status"), ["true", "null", "x"]);
    assert_eq!(
        pick("operation"),
        ["null", "Microsoft.Compute/virtualMachines/write", "5"]
    );
    assert_eq!(pick("category"), ["null", "null", "null"]);
}

#[test]
fn fraud_events_of_the_wrong_type_are_rejected_or_kept_as_text() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "in/fraud_events.json",
        concat!(
            "[",
            r#"{"eventId":"e1","eventTime":"2026-11-01T00:00:00","customerTenantId":"aaaa-1","eventType":7,"eventStatus":["Active"],"hitCount":{"n":1},"firstOccurrence":5},"#,
            "\n",
            r#"{"eventId":5,"eventTime":123,"customerTenantId":{"x":1},"eventType":["a"],"hitCount":"abc"},"#,
            "\n",
            r#"{"eventId":"e3","eventTime":"2026-11-02T00:00:00","customerTenantId":"aaaa-1","eventType":"CryptoMining","eventStatus":"Active","hitCount":"x3"}"#,
            "]"
        ),
    );
    w.write(
        "in/fraud_events_page.json",
        r#"{"value": {"eventId":"e9"}}"#,
    );
    let ran = run_ok(&w, true, &[]);
    assert_eq!(ran.counts("fraud_events.json"), (3, 2, 1));
    assert_eq!(
        ran.rejected_in("fraud_events.json")
            .iter()
            .map(|r| (r.line, r.column.as_str(), r.reason.as_str()))
            .collect::<Vec<_>>(),
        [(2, "eventTime", "expected a date-time, found \"123\"")]
    );
    // A page whose value is an object, not an array, is read as one record without a time.
    assert_eq!(ran.counts("fraud_events_page.json"), (1, 0, 1));
    assert_eq!(
        ran.lines_in("fraud_events_page.json"),
        [(1, "eventTime".into())]
    );
    assert_eq!(input_text(&w, "fraud_events", "event_id"), ["e1", "e3"]);
    assert_eq!(
        input_text(&w, "fraud_events", "event_type"),
        ["7", "CryptoMining"]
    );
    assert_eq!(
        input_text(&w, "fraud_events", "event_status"),
        ["[\"Active\"]", "Active"]
    );
    assert_eq!(
        input_text(&w, "fraud_events", "hit_count"),
        ["null", "null"]
    );
    assert_eq!(
        input_text(&w, "fraud_events", "first_occurrence"),
        ["null", "null"]
    );
}
