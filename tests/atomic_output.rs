//! A run that fails at any point leaves --out byte-identical, with no staging folder or lock left
//! behind; two runs at once on one --out cannot corrupt it (one waits for nothing: it is refused).

use std::path::Path;

use crate::common::*;
use predicates::prelude::*;

/// Every file below `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Nothing but `out` (and the input folder) in the work folder: no staging folder, no lock.
fn no_leftovers(w: &Workdir) {
    let mut names: Vec<String> = std::fs::read_dir(w.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["in", "out"], "leftovers beside --out");
}

#[test]
fn a_failure_at_any_point_leaves_out_byte_identical() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    // A complete earlier run is the --out to protect, plus a file of the user's own.
    w.cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .assert()
        .success();
    w.write("out/sentinel.txt", "earlier run");
    let before = snapshot(&w.path("out"));
    assert!(before.len() > 20);
    for point in [
        "ingest", "analyses", "tables", "reports", "manifest", "swap",
    ] {
        w.cmd()
            .args(["run", "--input", "in", "--out", "out", "-q"])
            .env("BILLRISK_INJECT_FAILURE", point)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "failure injected at {point}"
            )));
        assert!(
            snapshot(&w.path("out")) == before,
            "--out changed after a failure at {point}"
        );
        no_leftovers(&w);
    }
    // Without the injection the same command replaces --out whole (the sentinel goes).
    w.cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .assert()
        .success();
    assert!(!w.path("out/sentinel.txt").exists());
    no_leftovers(&w);
}

#[test]
fn two_runs_at_once_on_one_out_leave_one_complete_output() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let bin = assert_cmd::cargo::cargo_bin("billrisk");
    let start = || {
        std::process::Command::new(&bin)
            .current_dir(w.dir.path())
            .args(["run", "--input", "in", "--out", "out", "-q"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut refused = 0;
    for o in [&a, &b] {
        if !o.status.success() {
            assert_eq!(o.status.code(), Some(1));
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("another billrisk run"), "{err}");
            refused += 1;
        }
    }
    assert!(refused <= 1, "both runs failed");
    // Whatever the interleaving, --out is one complete run: every file the manifest lists is
    // there with the sha256 it records, and nothing else.
    let m = w.json("out/manifest.json");
    let listed = m["outputs"].as_array().unwrap();
    for f in listed {
        let bytes = std::fs::read(w.path(&format!("out/{}", f["file"].as_str().unwrap()))).unwrap();
        use sha2::Digest;
        assert_eq!(
            format!("{:x}", sha2::Sha256::digest(&bytes)),
            f["sha256"].as_str().unwrap()
        );
    }
    assert_eq!(snapshot(&w.path("out")).len(), listed.len() + 1);
    no_leftovers(&w);
}

/// The names in a folder that start with `prefix`, sorted.
fn names_starting(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    let tmp_dir = tempfile::tempdir().unwrap();
    let tmp = tmp_dir.path().to_path_buf();
    // Killed while writing tables (abort, like kill -9: no clean-up runs).
    let killed = w
        .cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .env("TMPDIR", &tmp)
        .env("BILLRISK_INJECT_FAILURE", "abort:tables")
        .output()
        .unwrap();
    assert!(!killed.status.success());
    assert!(!w.path("out").exists());
    assert_eq!(names_starting(w.dir.path(), ".billrisk-tmp-out-").len(), 1);
    assert_eq!(names_starting(w.dir.path(), ".out.lock").len(), 1);
    assert_eq!(names_starting(&tmp, "billrisk-scratch-").len(), 1);
    // A scratch folder of a live process (this test) is never touched.
    let live = tmp.join(format!("billrisk-scratch-{}-keep", std::process::id()));
    std::fs::create_dir(&live).unwrap();

    w.cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .env("TMPDIR", &tmp)
        .assert()
        .success();
    no_leftovers(&w);
    assert_eq!(
        names_starting(&tmp, "billrisk-scratch-"),
        [format!("billrisk-scratch-{}-keep", std::process::id())]
    );
}

#[test]
fn a_run_killed_between_the_two_renames_gets_its_old_out_back() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .assert()
        .success();
    let before = snapshot(&w.path("out"));
    // Killed after the old --out was moved aside, before the new one was moved in.
    let killed = w
        .cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .env("BILLRISK_INJECT_FAILURE", "abort:swap")
        .output()
        .unwrap();
    assert!(!killed.status.success());
    assert!(!w.path("out").exists());
    assert_eq!(names_starting(w.dir.path(), ".out.old-").len(), 1);
    // The next run puts the old --out back before it starts; failing itself, it leaves it so.
    w.cmd()
        .args(["run", "--input", "in", "--out", "out", "-q"])
        .env("BILLRISK_INJECT_FAILURE", "ingest")
        .assert()
        .code(1);
    assert!(snapshot(&w.path("out")) == before, "--out not restored");
    no_leftovers(&w);
}
