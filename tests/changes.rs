//! `billrisk run --previous` (SPEC 4.6, issue 22): the changes table on a generated pair of days
//! checked against the two runs' own tables, the implicit previous run (--out), --no-previous,
//! --fail-on-new, first_seen carried across runs, and every bad previous run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::*;
use polars::prelude::*;
use predicates::prelude::*;

fn table(dir: &Path, name: &str) -> DataFrame {
    let f = std::fs::File::open(dir.join(format!("tables/{name}.parquet"))).unwrap();
    ParquetReader::new(f).finish().unwrap()
}

fn key(df: &DataFrame, i: usize, cols: &[&str]) -> Vec<String> {
    cols.iter()
        .map(|c| strs(df, c)[i].clone().unwrap_or_default())
        .collect()
}

/// (key columns) -> value, read straight from a table.
fn state(df: &DataFrame, keys: &[&str], value: &str) -> BTreeMap<Vec<String>, String> {
    let v = strs(df, value);
    (0..df.height())
        .map(|i| (key(df, i, keys), v[i].clone().unwrap_or_default()))
        .collect()
}

/// Per customer and reason code: "active" when any row is not suppressed, else "suppressed".
fn alerts(df: &DataFrame) -> BTreeMap<Vec<String>, String> {
    let sup = strs(df, "suppressed");
    let mut out: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for i in 0..df.height() {
        let k = key(df, i, &["customer_id", "signal"]);
        let active = sup[i].as_deref() != Some("true");
        let e = out.entry(k).or_insert_with(|| "suppressed".into());
        if active {
            *e = "active".into();
        }
    }
    out
}

type Row = (String, String, String, String, String, String); // topic, customer, currency, signal, before, after

fn changes_rows(out: &Path) -> BTreeSet<Row> {
    let c = table(out, "changes");
    (0..c.height())
        .map(|i| {
            let k = key(
                &c,
                i,
                &[
                    "topic",
                    "customer_id",
                    "currency",
                    "signal",
                    "before",
                    "after",
                ],
            );
            (
                k[0].clone(),
                k[1].clone(),
                k[2].clone(),
                k[3].clone(),
                k[4].clone(),
                k[5].clone(),
            )
        })
        .collect()
}

/// The changes SPEC 4.6 and the README define, computed here from the two runs' tables with
/// plain maps (not billrisk's Polars plan).
fn expected(prev: &Path, cur: &Path) -> BTreeSet<Row> {
    let mut out = BTreeSet::new();
    let tier_rank = |t: &str| {
        ["low", "medium", "high", "critical"]
            .iter()
            .position(|x| *x == t)
    };
    let row = |topic: &str, k: &[String], cur: &str, sig: &str, b: &str, a: &str| -> Row {
        (
            topic.into(),
            k[0].clone(),
            cur.into(),
            sig.into(),
            b.into(),
            a.into(),
        )
    };
    // Risk tiers and new customers.
    let (tb, ta) = (
        state(&table(prev, "risk_scores"), &["customer_id"], "tier"),
        state(&table(cur, "risk_scores"), &["customer_id"], "tier"),
    );
    for (k, a) in &ta {
        match tb.get(k) {
            None => {
                out.insert(row("customer", k, "", "", "", a));
                if tier_rank(a) >= Some(2) {
                    out.insert(row("risk", k, "", "", "", a));
                }
            }
            Some(b) if b != a => {
                out.insert(row("risk", k, "", "", b, a));
            }
            _ => {}
        }
    }
    // Collections actions, per customer and currency.
    let ks = ["customer_id", "currency"];
    let (ab, aa) = (
        state(&table(prev, "collections_actions"), &ks, "action"),
        state(&table(cur, "collections_actions"), &ks, "action"),
    );
    for k in ab.keys().chain(aa.keys()).collect::<BTreeSet<_>>() {
        let (b, a) = (ab.get(k), aa.get(k));
        if b != a {
            let s = |v: Option<&String>| v.cloned().unwrap_or_default();
            out.insert(row("collections", k, &k[1], "", &s(b), &s(a)));
        }
    }
    // Budget status.
    let alert = |s: Option<&String>| {
        s.is_some_and(|s| ["over", "forecast_over", "warning"].contains(&s.as_str()))
    };
    let (bb, ba) = (
        state(&table(prev, "budget_status"), &ks, "status"),
        state(&table(cur, "budget_status"), &ks, "status"),
    );
    for k in bb.keys().chain(ba.keys()).collect::<BTreeSet<_>>() {
        let (b, a) = (bb.get(k), ba.get(k));
        let listed = b != a && !(b.is_none() && !alert(a)) && !(a.is_none() && !alert(b));
        if listed {
            let s = |v: Option<&String>| v.cloned().unwrap_or_default();
            out.insert(row("budget", k, &k[1], "", &s(b), &s(a)));
        }
    }
    // Alerts per customer and reason code.
    let (nb, na) = (
        alerts(&table(prev, "anomalies")),
        alerts(&table(cur, "anomalies")),
    );
    for k in nb.keys().chain(na.keys()).collect::<BTreeSet<_>>() {
        let (b, a) = (nb.get(k).map(String::as_str), na.get(k).map(String::as_str));
        let listed = matches!(
            (b, a),
            (None, Some("active"))
                | (Some("suppressed"), Some("active"))
                | (Some("active"), Some("suppressed"))
                | (Some("active"), None)
        );
        if listed {
            out.insert(row(
                "anomaly",
                k,
                "",
                &k[1],
                b.unwrap_or(""),
                a.unwrap_or(""),
            ));
        }
    }
    // Exposure grown by 50 % and 100 (the defaults).
    let num = |df: &DataFrame| -> BTreeMap<Vec<String>, f64> {
        let v = f64s(df, "exposure");
        (0..df.height())
            .map(|i| (key(df, i, &ks), v[i].unwrap_or(0.0)))
            .collect()
    };
    let (eb, ea) = (num(&table(prev, "exposure")), num(&table(cur, "exposure")));
    for (k, a) in &ea {
        let b = eb.get(k).copied().unwrap_or(0.0);
        if a - b >= 100.0 && (b <= 0.0 || *a >= b * 1.5) {
            out.insert(row(
                "exposure",
                k,
                &k[1],
                "",
                &format!("{b:.2}"),
                &format!("{a:.2}"),
            ));
        }
    }
    // Newly past due.
    let pd = |df: &DataFrame| -> BTreeMap<Vec<String>, f64> {
        let v = f64s(df, "past_due");
        (0..df.height())
            .map(|i| (key(df, i, &ks), v[i].unwrap_or(0.0)))
            .collect()
    };
    let (pb, pa) = (
        pd(&table(prev, "aging_customers")),
        pd(&table(cur, "aging_customers")),
    );
    for (k, a) in &pa {
        let b = pb.get(k).copied().unwrap_or(0.0);
        if *a > 0.005 && b <= 0.005 {
            out.insert(row(
                "past_due",
                k,
                &k[1],
                "",
                &format!("{b:.2}"),
                &format!("{a:.2}"),
            ));
        }
    }
    out
}

#[test]
fn generated_pair_of_days_lists_exactly_what_changed() {
    let w = Workdir::new();
    w.cmd()
        .args([
            "generate",
            "--customers",
            "60",
            "--days",
            "60",
            "--seed",
            "5",
            "--out",
            "gen",
        ])
        .assert()
        .success();
    w.cmd()
        .args([
            "run",
            "-q",
            "--input",
            "gen",
            "--as-of",
            "2026-11-14",
            "--out",
            "d1",
        ])
        .assert()
        .success();
    w.cmd()
        .args(["run", "--input", "gen", "--out", "d2", "--previous", "d1"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "comparing with the previous run in d1 (as of 2026-11-14)",
        ));
    let (d1, d2) = (w.path("d1"), w.path("d2"));
    let want = expected(&d1, &d2);
    let got = changes_rows(&d2);
    let only_got: Vec<_> = got.difference(&want).collect();
    let only_want: Vec<_> = want.difference(&got).collect();
    assert!(
        only_got.is_empty() && only_want.is_empty(),
        "listed but not expected: {only_got:#?}\nexpected but not listed: {only_want:#?}"
    );
    // A pair of days changes something in several topics (else this test proves little).
    let topics: BTreeSet<&str> = got.iter().map(|r| r.0.as_str()).collect();
    assert!(topics.len() >= 3, "topics {topics:?}");
    // The summary counts them; the report leads with them.
    let summary = w.json("d2/summary.json");
    let since = &summary["since_last_run"];
    assert_eq!(since["previous_as_of"], "2026-11-14");
    assert_eq!(since["changes"].as_u64(), Some(got.len() as u64));
    let md = std::fs::read_to_string(w.path("d2/report.md")).unwrap();
    let since_at = md.find("## Since the last run").unwrap();
    assert!(since_at < md.find("## Headlines").unwrap());
    assert!(md.contains(&format!(
        "{} changes since the run as of 2026-11-14",
        got.len()
    )));
    let html = std::fs::read_to_string(w.path("d2/report.html")).unwrap();
    assert!(html.find("id=\"since\"").unwrap() < html.find("id=\"headlines\"").unwrap());
    let manifest = w.json("d2/manifest.json");
    assert_eq!(manifest["previous_run"]["as_of"], "2026-11-14");
    assert_eq!(
        manifest["previous_run"]["changes"].as_u64(),
        Some(got.len() as u64)
    );
    // first_seen is carried: no alert of D is first seen after D, and every alert D-1 had keeps
    // a first_seen no later than D-1's.
    let (a1, a2) = (table(&d1, "anomalies"), table(&d2, "anomalies"));
    let first = |df: &DataFrame| -> BTreeMap<Vec<String>, String> {
        let f = strs(df, "first_seen");
        let mut m: BTreeMap<Vec<String>, String> = BTreeMap::new();
        for i in 0..df.height() {
            let v = f[i].clone().unwrap();
            let e = m
                .entry(key(df, i, &["customer_id", "signal"]))
                .or_insert(v.clone());
            if v < *e {
                *e = v;
            }
        }
        m
    };
    let (f1, f2) = (first(&a1), first(&a2));
    for (k, v) in &f2 {
        assert!(v.as_str() <= "2026-11-15");
        if let Some(before) = f1.get(k) {
            assert!(
                v <= before,
                "{k:?}: first_seen {v} after the previous run's {before}"
            );
        }
    }
    // The action lists carry `new`.
    let csv = std::fs::read_to_string(w.path("d2/actions/collections.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",new"));
}

#[test]
fn out_being_replaced_is_the_default_previous_run_and_no_previous_turns_it_off() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["run", "--input", "in"])
        .assert()
        .success()
        .stderr(predicate::str::contains("comparing with the previous run in").not());
    let s1 = w.json("billrisk-out/summary.json");
    assert!(s1["since_last_run"].is_null());
    // Run again: the same inputs, compared with the output it replaces: nothing changed.
    w.cmd()
        .args(["run", "--input", "in"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "comparing with the previous run in billrisk-out (as of 2026-11-02), the --out being replaced",
        ));
    assert_eq!(table(&w.path("billrisk-out"), "changes").height(), 0);
    let s2 = w.json("billrisk-out/summary.json");
    assert_eq!(s2["since_last_run"]["changes"], 0);
    let md = std::fs::read_to_string(w.path("billrisk-out/report.md")).unwrap();
    assert!(md.contains("Nothing changed since the run as of 2026-11-02."));
    w.cmd()
        .args(["run", "--input", "in", "--no-previous"])
        .assert()
        .success()
        .stderr(predicate::str::contains("comparing with the previous run in").not());
    assert!(w.json("billrisk-out/manifest.json")["previous_run"].is_null());
    // An earlier as-of date into the same --out: the run it replaces is later, so it is not
    // compared (a named --previous would be an error).
    w.cmd()
        .args(["run", "--input", "in", "--as-of", "2026-11-01"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "not comparing with billrisk-out: it holds a run as of 2026-11-02, later than this run's 2026-11-01",
        ));
    assert!(w.json("billrisk-out/manifest.json")["previous_run"].is_null());
}

#[test]
fn fail_on_new_exits_3_only_when_a_customer_newly_reaches_the_tier() {
    let w = Workdir::new();
    w.cmd()
        .args(["run", "-q", "--as-of", "2026-11-15"])
        .assert()
        .success();
    // The same data again: customers are critical, none newly.
    w.cmd()
        .args(["run", "-q", "--fail-on-new", "high"])
        .assert()
        .code(0);
    w.cmd()
        .args(["run", "-q", "--fail-on", "high"])
        .assert()
        .code(3);
    // Without a previous run every customer is new.
    w.cmd()
        .args(["run", "--no-previous", "--fail-on-new", "critical"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("every customer counts as new"));
}

#[test]
fn fail_on_new_exits_3_when_a_new_customer_arrives_critical() {
    // Yesterday's run had no usage for the customer that is critical today: a previous run of
    // the sample as of a date before its fraud scenarios is compared.
    let w = Workdir::new();
    w.cmd()
        .args(["run", "-q", "--as-of", "2026-09-05", "--out", "early"])
        .assert()
        .success();
    let early = table(&w.path("early"), "risk_scores");
    let late_out = w.path("billrisk-out");
    w.cmd()
        .args([
            "run",
            "-q",
            "--previous",
            "early",
            "--fail-on-new",
            "critical",
        ])
        .assert()
        .code(3);
    let changes = table(&late_out, "changes");
    let kinds = strs(&changes, "kind");
    assert!(kinds
        .iter()
        .any(|k| k.as_deref() == Some("risk_newly_critical")));
    // Every customer listed as newly critical was not critical in the early run.
    let early_tier: BTreeMap<String, String> = strs(&early, "customer_id")
        .into_iter()
        .zip(strs(&early, "tier"))
        .map(|(i, t)| (i.unwrap(), t.unwrap()))
        .collect();
    for (id, k) in strs(&changes, "customer_id").into_iter().zip(kinds) {
        if k.as_deref() == Some("risk_newly_critical") {
            assert_ne!(
                early_tier.get(&id.unwrap()).map(String::as_str),
                Some("critical")
            );
        }
    }
}

fn assert_untouched(w: &Workdir, args: &[&str], code: i32, message: &str) {
    let before = sha256_tree(&w.path("billrisk-out"));
    w.cmd()
        .args(args)
        .assert()
        .code(code)
        .stderr(predicate::str::contains(message));
    assert_eq!(
        sha256_tree(&w.path("billrisk-out")),
        before,
        "--out changed"
    );
    let beside: Vec<_> = std::fs::read_dir(w.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "left beside --out: {beside:?}");
}

/// A run into billrisk-out to protect, and a copy of it as the previous run to spoil.
fn with_out_and_previous() -> Workdir {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["run", "-q", "--input", "in"])
        .assert()
        .success();
    w.cmd()
        .args([
            "run",
            "-q",
            "--input",
            "in",
            "--out",
            "prev",
            "--no-previous",
        ])
        .assert()
        .success();
    w
}

#[test]
fn previous_that_is_not_a_billrisk_output_is_a_usage_error() {
    let w = with_out_and_previous();
    assert_untouched(
        &w,
        &["run", "--input", "in", "--previous", "in"],
        2,
        "--previous in: expected the output folder of an earlier billrisk run, found no manifest.json in it",
    );
    assert_untouched(
        &w,
        &["run", "--input", "in", "--previous", "nowhere"],
        2,
        "found no such folder",
    );
    // A converted input folder is not a run's output either.
    w.cmd()
        .args(["ingest", "-q", "--input", "in", "--out", "checked"])
        .assert()
        .success();
    assert_untouched(
        &w,
        &["run", "--input", "in", "--previous", "checked"],
        2,
        "a `billrisk ingest` folder?",
    );
}

#[test]
fn previous_from_a_later_as_of_date_is_a_usage_error() {
    let w = with_out_and_previous();
    // prev is as of 2026-11-02; this run as of 2026-11-01.
    assert_untouched(
        &w,
        &[
            "run",
            "--input",
            "in",
            "--as-of",
            "2026-11-01",
            "--previous",
            "prev",
        ],
        2,
        "expected a run as of 2026-11-01 or earlier, found one as of 2026-11-02",
    );
}

#[test]
fn damaged_previous_run_fails_the_run() {
    let w = with_out_and_previous();
    // A table that no longer matches its manifest.
    let risk = w.path("prev/tables/risk_scores.parquet");
    let mut bytes = std::fs::read(&risk).unwrap();
    let n = bytes.len();
    bytes.truncate(n / 2);
    std::fs::write(&risk, bytes).unwrap();
    assert_untouched(
        &w,
        &["run", "--input", "in", "--previous", "prev"],
        1,
        "the previous run's output is damaged",
    );
    // A manifest that is not JSON.
    w.write("prev/manifest.json", "{ not json");
    assert_untouched(
        &w,
        &["run", "--input", "in", "--previous", "prev"],
        1,
        "expected JSON",
    );
    // The implicit previous run (--out) is checked the same way.
    let risk = w.path("billrisk-out/tables/exposure.parquet");
    std::fs::write(&risk, b"PAR1 not parquet").unwrap();
    assert_untouched(&w, &["run", "--input", "in"], 1, "--no-previous");
}

#[test]
fn previous_run_of_another_version_is_compared_where_its_tables_allow() {
    let w = with_out_and_previous();
    // An older billrisk without budget_status.status and without an exposure table.
    let manifest = w.path("prev/manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    m["billrisk_version"] = "0.0.9".into();
    // ... which had no [changes] settings yet: not a difference of rules.
    m["config"].as_object_mut().unwrap().remove("changes");
    let outputs = m["outputs"].as_array_mut().unwrap();
    outputs.retain(|o| o["file"] != "tables/exposure.parquet");
    let bs = w.path("prev/tables/budget_status.parquet");
    let df = ParquetReader::new(std::fs::File::open(&bs).unwrap())
        .finish()
        .unwrap();
    let mut df = df.drop("status").unwrap();
    ParquetWriter::new(std::fs::File::create(&bs).unwrap())
        .finish(&mut df)
        .unwrap();
    let sha = sha256_tree(&w.path("prev/tables"))
        .into_iter()
        .find(|(f, _)| f == "budget_status.parquet")
        .unwrap()
        .1;
    for o in m["outputs"].as_array_mut().unwrap() {
        if o["file"] == "tables/budget_status.parquet" {
            o["sha256"] = sha.clone().into();
        }
    }
    std::fs::write(&manifest, serde_json::to_string(&m).unwrap()).unwrap();
    w.cmd()
        .args(["run", "--input", "in", "--previous", "prev"])
        .assert()
        .success()
        .stderr(predicate::str::contains("written by billrisk 0.0.9"))
        .stderr(predicate::str::contains(
            "budget status: the previous run's tables/budget_status.parquet has no column status",
        ))
        .stderr(predicate::str::contains(
            "exposure: the previous run has no tables/exposure.parquet",
        ))
        .stderr(predicate::str::contains("another config").not());
    let m = w.json("billrisk-out/manifest.json");
    assert_eq!(
        m["previous_run"]["not_compared"].as_array().unwrap().len(),
        2
    );
    let s = w.json("billrisk-out/summary.json");
    assert_eq!(
        s["since_last_run"]["not_compared"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let md = std::fs::read_to_string(w.path("billrisk-out/report.md")).unwrap();
    assert!(md.contains("Not compared: exposure: the previous run has no tables/exposure.parquet."));
}

#[test]
fn pseudonymized_previous_run_is_compared_by_id_and_says_so() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args([
            "run",
            "-q",
            "--input",
            "in",
            "--out",
            "prev",
            "--pseudonymize",
        ])
        .env("BILLRISK_PSEUDONYM_KEY", "0123456789abcdef0123456789abcdef")
        .assert()
        .success();
    w.cmd()
        .args(["run", "--input", "in", "--previous", "prev"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "the previous run is pseudonymized",
        ));
    // Same data: compared by customer id, nothing changed (no customer is "new" because its name
    // is a pseudonym there).
    assert_eq!(table(&w.path("billrisk-out"), "changes").height(), 0);
    assert_eq!(
        w.json("billrisk-out/manifest.json")["previous_run"]["pseudonymized"],
        true
    );
    let md = std::fs::read_to_string(w.path("billrisk-out/report.md")).unwrap();
    assert!(md.contains("the previous run is pseudonymized"));
}

#[test]
fn previous_run_with_another_config_is_compared_and_names_the_sections() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write(
        "strict.toml",
        "[risk]\ntier_high = 40.0\n\n[changes]\nexposure_growth_min = 10.0\n",
    );
    w.cmd()
        .args([
            "run",
            "-q",
            "--input",
            "in",
            "--out",
            "prev",
            "--config",
            "strict.toml",
        ])
        .assert()
        .success();
    w.cmd()
        .args(["run", "--input", "in", "--previous", "prev"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "the previous run used another config in [changes], [risk]: some changes may come from the config, not the data",
        ));
    let m = w.json("billrisk-out/manifest.json");
    let notes = m["previous_run"]["notes"].as_array().unwrap();
    assert!(notes
        .iter()
        .any(|n| n.as_str().unwrap().contains("[changes], [risk]")));
}

#[test]
fn analyst_dispositions_show_as_changes() {
    let w = Workdir::new();
    w.cmd()
        .args([
            "generate",
            "--customers",
            "40",
            "--days",
            "60",
            "--seed",
            "5",
            "--out",
            "gen",
        ])
        .assert()
        .success();
    w.cmd()
        .args(["run", "-q", "--input", "gen", "--out", "prev"])
        .assert()
        .success();
    // An active alert to mark legitimate, and a low-tier customer to mark as fraud.
    let a = table(&w.path("prev"), "anomalies");
    let (ids, sig, sup) = (
        strs(&a, "customer_id"),
        strs(&a, "signal"),
        strs(&a, "suppressed"),
    );
    let i = (0..a.height())
        .find(|&i| sup[i].as_deref() == Some("false"))
        .expect("an active alert");
    let (alerted, signal) = (ids[i].clone().unwrap(), sig[i].clone().unwrap());
    let r = table(&w.path("prev"), "risk_scores");
    let low = strs(&r, "customer_id")
        .into_iter()
        .zip(strs(&r, "tier"))
        .find(|(id, t)| t.as_deref() == Some("low") && id.as_deref() != Some(&alerted))
        .and_then(|(id, _)| id)
        .expect("a low-tier customer");
    let mut dispositions = std::fs::read_to_string(w.path("gen/dispositions.csv")).unwrap();
    dispositions.push_str(&format!(
        "{alerted},{signal},legitimate,2099-12-31,a.analyst,reviewed\n{low},*,fraud,2099-12-31,a.analyst,stolen card\n"
    ));
    w.write("gen/dispositions.csv", dispositions);
    w.cmd()
        .args(["run", "-q", "--input", "gen", "--previous", "prev"])
        .assert()
        .success();
    let c = table(&w.path("billrisk-out"), "changes");
    let (cid, kind, csig, reason) = (
        strs(&c, "customer_id"),
        strs(&c, "kind"),
        strs(&c, "signal"),
        strs(&c, "reason"),
    );
    let found = |who: &str, k: &str| {
        (0..c.height()).find(|&j| cid[j].as_deref() == Some(who) && kind[j].as_deref() == Some(k))
    };
    let j = found(&alerted, "anomaly_suppressed").expect("the suppressed alert");
    assert_eq!(csig[j].as_deref(), Some(signal.as_str()));
    assert!(reason[j]
        .as_deref()
        .unwrap()
        .starts_with("suppressed by an analyst's disposition"));
    let j = found(&low, "risk_newly_critical").expect("the fraud verdict");
    assert!(reason[j]
        .as_deref()
        .unwrap()
        .contains("An analyst marked this customer as fraud (a.analyst): stolen card"));
}

#[test]
fn generated_pair_across_a_month_end_lists_exactly_what_changed() {
    // Budgets start again on the 1st: statuses change without any spend.
    let w = Workdir::new();
    w.cmd()
        .args([
            "generate",
            "--customers",
            "60",
            "--days",
            "60",
            "--seed",
            "5",
            "--out",
            "gen",
        ])
        .assert()
        .success();
    for (as_of, out) in [("2026-10-31", "d1"), ("2026-11-01", "d2")] {
        w.cmd()
            .args([
                "run", "-q", "--input", "gen", "--as-of", as_of, "--out", out,
            ])
            .args(if out == "d2" {
                vec!["--previous", "d1"]
            } else {
                vec![]
            })
            .assert()
            .success();
    }
    let (d1, d2) = (w.path("d1"), w.path("d2"));
    let (want, got) = (expected(&d1, &d2), changes_rows(&d2));
    assert_eq!(got, want);
    assert!(
        got.iter().any(|r| r.0 == "budget"),
        "no budget change at a month end"
    );
}

#[test]
fn negative_exposure_growth_share_is_a_config_error() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.write("bad.toml", "[changes]\nexposure_growth_share = -0.5\n");
    w.cmd()
        .args(["run", "--input", "in", "--config", "bad.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "config changes.exposure_growth_share: expected a number of 0 or more, found -0.5",
        ));
    assert!(!w.path("billrisk-out").exists());
}
