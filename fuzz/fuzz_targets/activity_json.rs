//! The Azure activity log reader (JSON array, {"value": [...]}, JSON lines; diagnostic, REST and
//! audit record shapes) and the fraud events reader. The first byte picks the reader and the
//! layout; the rest is the file. Checks that rows read = accepted + rejected.
#![no_main]
use billrisk::ingest::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let name = match pick % 4 {
        0 => "activity.json",
        1 => "activity.jsonl",
        2 => "activity.csv",
        _ => "fraud_events.json",
    };
    let _ = if pick % 4 == 3 {
        fuzzing::fraud_events_bytes(name, body)
    } else {
        fuzzing::activity_bytes(name, body)
    };
});
