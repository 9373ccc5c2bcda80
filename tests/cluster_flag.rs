//! `--cluster` whatever the build: an export that `billrisk ingest` did not convert is refused
//! before any cluster is contacted, and a build without the cluster feature says how to get one.

use crate::common::*;

#[test]
fn cluster_runs_refuse_an_unconverted_export_naming_it() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["ingest", "--input", "in", "--out", "conv"])
        .assert()
        .success();
    // Tonight's export beside the converted files: fine for a local run, not for the cluster.
    w.write(
        "conv/usage/tonight.csv",
        "CustomerId,UsageDate,MeterCategory,EntitlementId,Quantity,BillingPreTaxTotal,BillingCurrency\n\
         aaaa-1,11/03/2026,Storage,sub-1,1,2.25,USD\n",
    );
    w.write("out/keep.txt", "x");
    let out = w
        .cmd()
        .args(["run", "--input", "conv", "--out", "out"])
        .args(["--cluster", "df://127.0.0.1:9"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("tonight.csv"), "{err}");
    assert!(err.contains("run `billrisk ingest"), "{err}");
    assert!(w.path("out/keep.txt").exists());
    assert!(!w.path("out/manifest.json").exists());
    // The bundled sample data is CSV: refused too, as a usage error.
    let out = w
        .cmd()
        .args(["run", "--out", "out2", "--cluster", "df://127.0.0.1:9"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("needs --input"), "{err}");
}

#[cfg(not(feature = "cluster"))]
#[test]
fn a_build_without_the_cluster_feature_says_how_to_get_one() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["ingest", "--input", "in", "--out", "conv"])
        .assert()
        .success();
    for args in [
        vec![
            "run",
            "--input",
            "conv",
            "--out",
            "out",
            "--cluster",
            "df://127.0.0.1:9",
        ],
        vec!["cluster", "scheduler", "--bind", "127.0.0.1:9"],
    ] {
        let out = w.cmd().args(&args).assert().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains("--features cluster"), "{err}");
    }
    assert!(!w.path("out").exists());
}
