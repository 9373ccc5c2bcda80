//! The CSV ingestion of every tabular source, end to end (structural pre-pass, Polars scan,
//! typing and rejection): the first byte picks the source and whether the file is gzipped, the
//! rest is the file. Checks that rows read = accepted + rejected.
#![no_main]
use billrisk::ingest::fuzzing;
use libfuzzer_sys::fuzz_target;

const SOURCES: [&str; 8] = [
    "usage",
    "billed",
    "invoices",
    "payments",
    "budgets",
    "customers",
    "fx_rates",
    "dispositions",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let table = SOURCES[(pick as usize) % SOURCES.len()];
    // Errors are clean refusals (missing required column ...); panics are bugs.
    let _ = fuzzing::tabular_bytes(table, &format!("{table}.csv"), body);
});
