//! `billrisk ingest`: inputs checked once and written as canonical Parquet; a run from the
//! converted folder gives the tables a run from the exports gives, rejected rows included.

use crate::common::*;

/// Outputs of a run (tables, inputs, action lists, report) by sha256, from its manifest.
fn outputs(w: &Workdir, out: &str) -> Vec<(String, String)> {
    let m = w.json(&format!("{out}/manifest.json"));
    let mut v: Vec<(String, String)> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["file"].as_str().unwrap().to_string(),
                o["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The minimal inputs with a bad usage row and an invoice exported twice.
fn inputs_with_rejects(w: &Workdir) {
    minimal_inputs(w, "in");
    w.write(
        "in/usage/usage-2.csv",
        "CustomerId,UsageDate,MeterCategory,EntitlementId,Quantity,BillingPreTaxTotal,BillingCurrency\n\
         aaaa-1,11/03/2026,Storage,sub-1,1,2.25,USD\n\
         aaaa-1,13/45/2026,Storage,sub-1,1,9.99,USD\n",
    );
    w.write(
        "in/receivables/invoices-again.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\nINV-1,aaaa-1,2026-10-01,2026-10-31,100.00,USD\n",
    );
    w.write("lenient.toml", "[input]\nmax_rejected_share = 0.9\n");
}

#[test]
fn a_run_from_converted_inputs_writes_the_tables_of_a_run_from_the_exports() {
    let w = Workdir::new();
    inputs_with_rejects(&w);
    let conf = ["--config", "lenient.toml"];
    let converted = w
        .cmd()
        .args(["ingest", "--input", "in", "--out", "conv"])
        .args(conf)
        .assert()
        .success();
    // The per-source summary: usage read 4 rows, accepted 3, rejected 1.
    let summary = String::from_utf8(converted.get_output().stdout.clone()).unwrap();
    let usage_line = summary.lines().find(|l| l.starts_with("usage")).unwrap();
    assert_eq!(
        usage_line.split_whitespace().collect::<Vec<_>>(),
        ["usage", "2", "4", "3", "1"],
        "{summary}"
    );
    for f in [
        "conv/usage/usage.parquet",
        "conv/receivables/invoices.parquet",
        "conv/receivables/payments.parquet",
        "conv/rejected_rows.parquet",
        "conv/manifest.json",
    ] {
        assert!(w.path(f).is_file(), "{f} missing");
    }
    // Optional sources that were absent are not written.
    assert!(!w.path("conv/budgets.parquet").exists());
    let usage = w.table_at(&w.path("conv"), "usage/usage.parquet");
    // Rows keep the export's file and line, in file then line order.
    assert_eq!(f64s(&usage, "cost"), [Some(2.25), Some(10.5), Some(11.5)]);
    assert_eq!(
        strs(&usage, "source_file"),
        [
            Some("usage/usage-2.csv".into()),
            Some("usage/usage.csv".into()),
            Some("usage/usage.csv".into())
        ]
    );
    assert_eq!(
        strs(&usage, "source_line"),
        [Some("2".into()), Some("2".into()), Some("3".into())]
    );

    for (input, out) in [("in", "from-exports"), ("conv", "from-converted")] {
        w.cmd()
            .args(["run", "-q", "--input", input, "--out", out])
            .args(conf)
            .assert()
            .success();
    }
    assert_eq!(outputs(&w, "from-exports"), outputs(&w, "from-converted"));
    // The converted usage is copied into the output, never linked: the output must not share
    // its bytes with a file of the input folder.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        for f in [
            "conv/usage/usage.parquet",
            "from-converted/inputs/usage.parquet",
        ] {
            assert_eq!(std::fs::metadata(w.path(f)).unwrap().nlink(), 1, "{f}");
        }
    }
    let rej = w.table("from-converted", "rejected_rows");
    assert_eq!(
        strs(&rej, "file"),
        [
            // invoices-again.csv sorts first, so its INV-1 is the one kept.
            Some("receivables/invoices.csv".into()),
            Some("usage/usage-2.csv".into())
        ]
    );
    assert_eq!(strs(&rej, "line"), [Some("2".into()), Some("3".into())]);

    // The manifest accounts for the converted files and for the conversion's rejected rows.
    let m = w.json("from-converted/manifest.json");
    let line = |source: &str, file: &str| {
        m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["source"] == source && i["file"] == file)
            .unwrap_or_else(|| panic!("no {source} {file} in {m}"))
            .clone()
    };
    let u = line("usage", "usage/usage.parquet");
    assert_eq!(
        (u["rows_read"].as_u64(), u["rejected"].as_u64()),
        (Some(3), Some(0))
    );
    for source in ["usage", "invoices"] {
        let r = line(source, "rejected_rows.parquet");
        assert_eq!(
            (
                r["rows_read"].as_u64(),
                r["accepted"].as_u64(),
                r["rejected"].as_u64()
            ),
            (Some(1), Some(0), Some(1)),
            "{source}"
        );
    }
}

/// The minimal inputs in `in`, converted into `conv`.
fn converted_minimal_inputs() -> Workdir {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["ingest", "-q", "--input", "in", "--out", "conv"])
        .assert()
        .success();
    w
}

#[test]
fn new_exports_beside_converted_files_are_read_with_them() {
    let w = converted_minimal_inputs();
    // The next day's export, dropped beside the converted usage.
    w.write(
        "conv/usage/usage-2026-11-03.csv",
        "CustomerId,UsageDate,MeterCategory,EntitlementId,Quantity,BillingPreTaxTotal,BillingCurrency\n\
         aaaa-1,11/03/2026,Virtual Machines,sub-1,24,12.5,USD\n",
    );
    w.cmd()
        .args(["run", "-q", "--input", "conv", "--out", "out"])
        .assert()
        .success();
    let daily = w.table("out", "usage_daily");
    assert_eq!(f64s(&daily, "cost"), [Some(10.5), Some(11.5), Some(12.5)]);
    assert_eq!(w.json("out/manifest.json")["as_of"], "2026-11-03");
}

#[test]
fn a_converted_file_in_the_wrong_place_is_an_error_naming_it() {
    let w = converted_minimal_inputs();
    std::fs::rename(
        w.path("conv/receivables/payments.parquet"),
        w.path("conv/receivables/invoices-2.parquet"),
    )
    .unwrap();
    let out = w
        .cmd()
        .args(["run", "-q", "--input", "conv", "--out", "out"])
        .assert()
        .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("receivables/invoices-2.parquet"), "{err}");
    assert!(err.contains("as table payments"), "{err}");
    assert!(!w.path("out").exists());
}

#[test]
fn converting_into_the_input_folder_is_refused_and_leaves_it_alone() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let before = sha256_tree(&w.path("in"));
    for out in ["in", "."] {
        let r = w
            .cmd()
            .args(["ingest", "-q", "--input", "in", "--out", out])
            .assert()
            .code(1);
        let err = String::from_utf8(r.get_output().stderr.clone()).unwrap();
        assert!(err.contains("holds, the input folder"), "{err}");
    }
    assert_eq!(sha256_tree(&w.path("in")), before);
}

#[test]
fn converting_a_converted_folder_again_writes_the_same_files() {
    let w = Workdir::new();
    inputs_with_rejects(&w);
    for (input, out) in [("in", "conv"), ("conv", "conv2")] {
        w.cmd()
            .args(["ingest", "-q", "--input", input, "--out", out])
            .args(["--config", "lenient.toml"])
            .assert()
            .success();
    }
    let parquet = |dir: &str| -> Vec<(String, String)> {
        sha256_tree(&w.path(dir))
            .into_iter()
            .filter(|(f, _)| f.ends_with(".parquet"))
            .collect()
    };
    let first = parquet("conv");
    assert_eq!(first.len(), 4, "{first:?}");
    assert_eq!(first, parquet("conv2"));
    // The second manifest lists the converted files, the rejected rows carried as rejected.
    let m = w.json("conv2/manifest.json");
    let carried: Vec<_> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["file"] == "rejected_rows.parquet")
        .map(|i| (i["source"].clone(), i["rejected"].as_u64()))
        .collect();
    assert_eq!(
        carried,
        [("invoices".into(), Some(1)), ("usage".into(), Some(1))]
    );
}

/// A converted Parquet file whose footer is intact but whose pages are damaged passes the checks
/// of the scan and fails only when the analyses read it. That is the user's file, not a bug in
/// billrisk: it used to be reported as "internal error ... please report it".
#[test]
fn a_damaged_converted_file_read_by_the_analyses_is_the_users_error_not_a_bug() {
    let w = Workdir::new();
    w.cmd()
        .args(["ingest", "-q", "--out", "conv"])
        .assert()
        .success();
    let path = w.path("conv/activity/activity.parquet");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    let footer = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    // Every byte between the leading magic and the footer: each page header is garbage.
    bytes[4..n - 8 - footer].fill(0x5A);
    std::fs::write(&path, bytes).unwrap();
    let out = w
        .cmd()
        .args(["run", "-q", "--input", "conv", "--out", "out"])
        .assert()
        .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(err.contains("cannot read the input files"), "{err}");
    assert!(err.contains("caused by: parquet"), "{err}");
    assert!(!err.contains("bug"), "{err}");
    assert!(!w.path("out").exists());
}
