//! Throughput of ingestion, the largest cost of a run from CSV exports: `pipeline::ingest` reads
//! and checks every input of a folder `billrisk generate` wrote (structural pre-pass, sha256,
//! typing and row checks, usage streamed to its staged Parquet file, the other sources collected),
//! at several sizes, in MB of input per second and in usage rows per second. A second group reads
//! a 200,000-element JSON array (a usage or audit export from an API) through the JSON scanner
//! (`ingest::read::json`), whose line numbering used to be quadratic in the element count. Inputs are generated here from a
//! fixed seed, never committed.
//!
//! Run: `cargo bench --bench ingest` (release build; `-- --save-baseline NAME` to keep a baseline).

use std::hint::black_box;
use std::io::Write;
use std::path::Path;

use billrisk::generate::{generate, GenerateSpec};
use billrisk::ingest::read::json;
use billrisk::pipeline::{ingest, InputSource};
use billrisk::progress::{Progress, Verbosity};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Bytes of every file under `dir`.
fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read bench folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                total += entry.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total
}

fn ingest_folders(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("temp dir");
    let mut group = c.benchmark_group("ingest_folder");
    group.sample_size(10);
    // customers x 60 days x ~6 meters: about 18k, 72k and 290k usage rows.
    for customers in [50usize, 200, 800] {
        let dir = root.path().join(format!("c{customers}"));
        let summary = generate(&GenerateSpec {
            customers,
            days: 60,
            seed: 7,
            end: NaiveDate::from_ymd_opt(2026, 11, 15).expect("date"),
            out: dir.clone(),
            parquet: false,
        })
        .expect("generate bench inputs");
        let input = InputSource::Folder(dir.clone());
        let run = || {
            let mut progress = Progress::new(Verbosity::Quiet);
            let ing = ingest(&input, &mut progress).expect("ingest");
            black_box(ing.rejected.height())
        };
        group.throughput(Throughput::Bytes(folder_bytes(&dir)));
        group.bench_function(BenchmarkId::new("bytes", customers), |b| b.iter(run));
        group.throughput(Throughput::Elements(summary.usage_rows));
        group.bench_function(BenchmarkId::new("usage_rows", customers), |b| b.iter(run));
    }
    group.finish();
}

/// A pretty-printed `{"value": [...]}` array of `n` audit records, as an API client saves it.
fn json_array_text(n: u64) -> Vec<u8> {
    let mut f = Vec::new();
    writeln!(f, "{{\"value\": [").expect("write");
    for i in 0..n {
        let sep = if i + 1 < n { "," } else { "" };
        writeln!(
            f,
            "  {{\n    \"customerId\": \"c{:06}\",\n    \"operationType\": \"update_customer\",\n    \"operationDate\": \"2026-11-{:02}T10:00:00Z\",\n    \"userPrincipalName\": \"admin{}@example.com\"\n  }}{sep}",
            i % 5000,
            1 + i % 28,
            i % 97
        )
        .expect("write");
    }
    writeln!(f, "]}}").expect("write");
    f
}

/// Splitting a JSON array into records with their line numbers, at 50k and 200k elements: the
/// same elements per second at both sizes is what linear means (before, 4x the elements took
/// about 16x the time).
fn json_array(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_array");
    group.sample_size(10);
    for n in [50_000u64, 200_000] {
        let bytes = json_array_text(n);
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("records", n), &bytes, |b, bytes| {
            b.iter(|| {
                let mut records = 0usize;
                json::for_each_json_record(bytes, |_| records += 1);
                black_box(records)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ingest_folders, json_array);
criterion_main!(benches);
