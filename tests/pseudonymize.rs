//! `--pseudonymize`: no customer name, domain, user principal name, e-mail or IP address of the
//! inputs survives in any output file, while the figures and the joins stay as they were.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;
use aho_corasick::AhoCorasickBuilder;
use polars::prelude::*;
use predicates::prelude::*;

const KEY: &str = "test-key-0123456789abcdef";

fn strings_of(df: &DataFrame, column: &str, into: &mut BTreeSet<String>) {
    if let Ok(c) = df.column(column) {
        for v in c.str().unwrap().iter().flatten() {
            let v = v.trim().to_lowercase();
            if !v.is_empty() {
                into.insert(v);
            }
        }
    }
}

/// Every personal value of the sample: read from the canonical inputs of a plain run, plus the
/// CustomerDomainName column of the raw usage files, which billrisk does not even read.
fn originals(w: &Workdir) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (table, columns) in [
        ("usage", &["customer_name"][..]),
        ("billed", &["customer_name"]),
        ("customers", &["customer_name"]),
        ("fraud_events", &["customer_name"]),
        ("audit_records", &["customer_name"]),
        ("activity", &["client_ip"]),
        ("dispositions", &["analyst"]),
    ] {
        let p = w.path(&format!("plain/inputs/{table}.parquet"));
        let df = ParquetReader::new(std::fs::File::open(&p).unwrap())
            .finish()
            .unwrap();
        for c in columns {
            strings_of(&df, c, &mut out);
        }
    }
    // Callers, fraud entities and UPNs are personal when they are addresses ("System",
    // "system" and "Pay-As-You-Go" are not).
    for (table, column) in [
        ("activity", "caller"),
        ("fraud_events", "entity_name"),
        ("audit_records", "user_principal_name"),
    ] {
        let p = w.path(&format!("plain/inputs/{table}.parquet"));
        let df = ParquetReader::new(std::fs::File::open(&p).unwrap())
            .finish()
            .unwrap();
        let mut all = BTreeSet::new();
        strings_of(&df, column, &mut all);
        out.extend(
            all.into_iter()
                .filter(|v| v.contains('@') || v.parse::<std::net::IpAddr>().is_ok()),
        );
    }
    let addresses: Vec<String> = out.iter().filter(|v| v.contains('@')).cloned().collect();
    for a in addresses {
        let (local, domain) = a.rsplit_once('@').unwrap();
        out.insert(domain.to_string());
        // A guest's home domain (linked_accounts names it): ops_bluefinmail.com#ext#@...
        if let Some((_, home)) = local.strip_suffix("#ext#").and_then(|h| h.rsplit_once('_')) {
            out.insert(home.to_string());
        }
    }
    let usage = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/usage");
    for f in std::fs::read_dir(usage).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        let mut text = String::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let at = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "CustomerDomainName")
            .unwrap();
        for rec in r.records() {
            out.insert(rec.unwrap()[at].to_lowercase());
        }
    }
    out
}

fn files_below(dir: &Path, into: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_below(&p, into);
        } else {
            into.push(p);
        }
    }
}

#[test]
fn no_original_value_survives_in_any_output_and_the_figures_stay() {
    let w = Workdir::new();
    w.cmd()
        .args(["run", "--out", "plain", "-q"])
        .assert()
        .success();
    // The shared run replaces a plain run of the day before and is compared with it: what
    // changed (reasons in words) is pseudonymized too, and nothing of the plain run leaks.
    w.cmd()
        .args(["run", "--out", "shared", "-q", "--as-of", "2026-11-14"])
        .assert()
        .success();
    w.cmd()
        .args(["run", "--out", "shared", "-q", "--pseudonymize"])
        .env("BILLRISK_PSEUDONYM_KEY", KEY)
        .assert()
        .success();
    assert!(w.table("shared", "changes").height() > 0);

    let originals = originals(&w);
    // Enough of every kind to make the check mean something.
    assert!(originals.iter().filter(|v| v.contains('@')).count() > 50);
    assert!(
        originals
            .iter()
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
            .count()
            > 20
    );
    assert!(
        originals
            .iter()
            .filter(|v| v.ends_with(".onmicrosoft.com"))
            .count()
            > 50
    );
    assert!(originals.contains("alpine traders 0000 ag"));
    assert!(originals.contains("bluefinmail.com"));
    // Values of 4 characters or more are searched for inside every text; shorter ones
    // (none in the sample) would only be checked as whole cells.
    let long: Vec<&String> = originals
        .iter()
        .filter(|v| v.chars().count() >= 4)
        .collect();
    assert_eq!(long.len(), originals.len());
    let finder = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(&long)
        .unwrap();

    let mut files = Vec::new();
    files_below(&w.path("shared"), &mut files);
    assert!(files.len() >= 30, "{files:?}");
    let mut cells = 0usize;
    for f in &files {
        let name = f.display().to_string();
        if name.ends_with(".parquet") {
            let df = ParquetReader::new(std::fs::File::open(f).unwrap())
                .finish()
                .unwrap();
            for c in df.columns() {
                if c.dtype() != &DataType::String {
                    continue;
                }
                for v in c.str().unwrap().iter().flatten() {
                    cells += 1;
                    if let Some(m) = finder.find(v) {
                        panic!(
                            "{name} column {}: '{}' survives in {v:?}",
                            c.name(),
                            long[m.pattern().as_usize()]
                        );
                    }
                }
            }
        } else {
            let text = std::fs::read_to_string(f).unwrap();
            // Also the HTML-escaped forms (a name with & or ' would be written escaped).
            let unescaped = text
                .replace("&amp;", "&")
                .replace("&#39;", "'")
                .replace("&#x27;", "'")
                .replace("&quot;", "\"");
            if let Some(m) = finder.find(&unescaped) {
                let at = m.start();
                panic!(
                    "{name}: '{}' survives near {:?}",
                    long[m.pattern().as_usize()],
                    &unescaped[at.saturating_sub(60)..(at + 60).min(unescaped.len())]
                );
            }
        }
    }
    assert!(cells > 100_000, "only {cells} string cells checked");

    // The figures are the same; names are replaced one for one, so joins still work.
    let plain = w.table("plain", "risk_scores");
    let shared = w.table("shared", "risk_scores");
    assert_eq!(f64s(&plain, "risk_score"), f64s(&shared, "risk_score"));
    assert_eq!(strs(&plain, "customer_id"), strs(&shared, "customer_id"));
    let distinct = |df: &DataFrame| df.column("customer_name").unwrap().n_unique().unwrap();
    assert_eq!(distinct(&plain), distinct(&shared));
    let names = strs(&shared, "customer_name");
    assert!(
        names.iter().flatten().all(|n| n.starts_with("Customer ")),
        "{names:?}"
    );
    // The same customer has the same pseudonym in every table.
    let actions = w.table("shared", "collections_actions");
    for (id, name) in strs(&actions, "customer_id")
        .iter()
        .zip(strs(&actions, "customer_name"))
    {
        let i = strs(&shared, "customer_id")
            .iter()
            .position(|x| x == id)
            .unwrap();
        assert_eq!(names[i], name);
    }
}

#[test]
fn same_key_same_pseudonyms_other_key_other_pseudonyms() {
    let w = Workdir::new();
    w.write("key1", format!("{KEY}\n"));
    w.write("key2", "another-key-0123456789abcdef");
    for (out, key) in [("a", "key1"), ("b", "key1"), ("c", "key2")] {
        w.cmd()
            .args([
                "run",
                "--out",
                out,
                "-q",
                "--pseudonymize",
                "--pseudonym-key-file",
                key,
            ])
            .assert()
            .success();
    }
    let names = |out: &str| strs(&w.table(out, "risk_scores"), "customer_name");
    assert_eq!(names("a"), names("b"));
    assert_ne!(names("a"), names("c"));
    assert_eq!(
        std::fs::read(w.path("a/tables/anomalies.parquet")).unwrap(),
        std::fs::read(w.path("b/tables/anomalies.parquet")).unwrap()
    );
}

#[test]
fn pseudonymize_without_a_usable_key_is_a_usage_error() {
    let w = Workdir::new();
    w.cmd()
        .args(["run", "--out", "o", "--pseudonymize"])
        .env_remove("BILLRISK_PSEUDONYM_KEY")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("BILLRISK_PSEUDONYM_KEY"));
    w.cmd()
        .args(["run", "--out", "o", "--pseudonymize"])
        .env("BILLRISK_PSEUDONYM_KEY", "short")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least 16 bytes, found 5"));
    assert!(!w.path("o").exists());
}
