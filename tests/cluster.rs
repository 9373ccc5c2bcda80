//! `billrisk run --cluster` (issue 23): the reductions over usage rows on a Ballista cluster of
//! `billrisk cluster` processes on 127.0.0.1 give the tables of a local run; faults fail the run
//! cleanly (exit 1, the address named, --out untouched). Every process a test starts is killed
//! when the test ends (Drop), and every wait is bounded.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A process started by a test, killed and reaped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("billrisk")
}

/// A port on 127.0.0.1 free now, whose next port is free too (an executor takes both).
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two consecutive free ports on 127.0.0.1");
}

fn get(addr: &str, path: &str) -> Option<serde_json::Value> {
    billrisk::cluster::http_get(addr, path, Duration::from_secs(2))
        .ok()
        .and_then(|b| serde_json::from_str(&b).ok())
}

/// A scheduler and `executors` executors, each a `billrisk cluster` process on 127.0.0.1;
/// returns once every executor has registered.
struct Cluster {
    addr: String,
    _scheduler: Proc,
    executors: Vec<Proc>,
}

impl Cluster {
    fn start(w: &Workdir, executors: usize) -> Cluster {
        let port = free_port_pair();
        let addr = format!("127.0.0.1:{port}");
        let log = |name: &str| std::fs::File::create(w.path(&format!("{name}.log"))).unwrap();
        let scheduler = Proc(
            Command::new(bin())
                .args(["cluster", "scheduler", "--bind", &addr])
                .stdout(log("scheduler"))
                .stderr(log("scheduler.err"))
                .spawn()
                .unwrap(),
        );
        let started = Instant::now();
        while get(&addr, "/api/state").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the scheduler did not answer on {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut procs = Vec::new();
        for i in 0..executors {
            let bind = format!("127.0.0.1:{}", free_port_pair());
            procs.push(Proc(
                Command::new(bin())
                    .args(["cluster", "executor", "--scheduler", &addr, "--bind", &bind])
                    .args(["--concurrency", "2"])
                    .stdout(log(&format!("executor{i}")))
                    .stderr(log(&format!("executor{i}.err")))
                    .spawn()
                    .unwrap(),
            ));
        }
        let started = Instant::now();
        loop {
            let n = get(&addr, "/api/executors")
                .and_then(|v| v.as_array().map(Vec::len))
                .unwrap_or(0);
            if n == executors {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "{n} of {executors} executors registered with {addr}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Cluster {
            addr,
            _scheduler: scheduler,
            executors: procs,
        }
    }

    fn url(&self) -> String {
        format!("df://{}", self.addr)
    }
}

/// Generated data (60 customers, 40 days), converted with `billrisk ingest` into `conv`, and a
/// local run of it into `local`.
fn converted_with_local_run(w: &Workdir) {
    w.cmd()
        .args([
            "generate",
            "--customers",
            "60",
            "--days",
            "40",
            "--out",
            "gen",
        ])
        .assert()
        .success();
    w.cmd()
        .args(["ingest", "--input", "gen", "--out", "conv"])
        .assert()
        .success();
    w.cmd()
        .args(["-q", "run", "--input", "conv", "--out", "local"])
        .assert()
        .success();
}

/// Every output of a run (tables, inputs, reports, action lists) by sha256, from its manifest.
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

fn assert_same_outputs(w: &Workdir, a: &str, b: &str) {
    let (x, y) = (outputs(w, a), outputs(w, b));
    assert!(x.len() > 20, "{x:?}");
    for ((fa, ha), (fb, hb)) in x.iter().zip(&y) {
        assert_eq!(fa, fb);
        assert_eq!(ha, hb, "{fa} differs between {a} and {b}");
    }
    assert_eq!(x.len(), y.len());
}

#[test]
fn a_run_on_a_two_executor_cluster_writes_the_tables_of_a_local_run() {
    let w = Workdir::new();
    converted_with_local_run(&w);
    let cluster = Cluster::start(&w, 2);
    let run = w
        .cmd()
        .args(["-v", "run", "--input", "conv", "--out", "cl"])
        .args(["--cluster", &cluster.url()])
        .assert();
    let out = run.get_output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every table, input table, report and action list is the same bytes: the reductions'
    // sums are exact Decimal sums on both engines.
    assert_same_outputs(&w, "local", "cl");
    let m = w.json("cl/manifest.json");
    let r = &m["reductions"];
    assert_eq!(r["engine"], "ballista");
    assert_eq!(r["scheduler"], cluster.url().as_str());
    let jobs = r["jobs"].as_array().unwrap();
    let names: Vec<&str> = jobs
        .iter()
        .map(|j| j["reduction"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "customer_by_subscription",
            "tenants",
            "cost_per_customer_day",
            "usage_daily",
            "usage_summary",
            "gpu_daily",
            "round_the_clock_resource_days",
            "activity_history_per_customer",
            "activity_known_callers",
            "activity_known_ips",
            "linked_accounts_callers",
            "linked_accounts_ips",
            "linked_accounts_operations"
        ]
    );
    for j in jobs {
        assert!(!j["job_id"].as_str().unwrap().is_empty(), "{j}");
        // Few client IPs write Microsoft.Authorization (role assignments) in this data.
        let least = if j["reduction"] == "linked_accounts_ips" {
            1
        } else {
            11
        };
        assert!(j["rows"].as_u64().unwrap() >= least, "{j}");
        assert!(j["seconds"].as_f64().unwrap() > 0.0, "{j}");
    }
    // The data has what the cluster's reductions feed: the usage signals (GPU spikes and
    // meters, round_the_clock) and the activity signals read of the history (new callers and
    // IPs, bursts, multi-region deployments) are in the tables compared above.
    let signals = w.table("local", "anomalies");
    let signal = signals.column("signal").unwrap().str().unwrap();
    for s in [
        "gpu_meter",
        "round_the_clock",
        "new_region",
        "usage_spike",
        "new_caller",
        "new_ip",
        "activity_burst",
        "failed_ops_burst",
        "multi_region_deploy",
        "linked_accounts",
    ] {
        assert!(signal.iter().any(|v| v == Some(s)), "no {s} in {signals}");
    }
    // The rows of usage_daily the cluster sent are the table's rows.
    let daily = w.table("cl", "usage_daily");
    assert_eq!(jobs[3]["rows"].as_u64().unwrap(), daily.height() as u64);
    assert_eq!(
        w.json("local/manifest.json")["reductions"]["engine"],
        "polars"
    );
    drop(cluster);
}

#[test]
fn a_one_executor_cluster_splits_each_job_over_its_task_slots() {
    let w = Workdir::new();
    converted_with_local_run(&w);
    // One executor with 2 task slots: each job is planned for 2 partitions, so every
    // aggregation is a partial stage and a final one (on one partition it is one stage, and one
    // core does the whole job).
    let cluster = Cluster::start(&w, 1);
    let run = w
        .cmd()
        .args(["-q", "run", "--input", "conv", "--out", "cl"])
        .args(["--cluster", &cluster.url()])
        .assert();
    let out = run.get_output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_outputs(&w, "local", "cl");
    let jobs = get(&cluster.addr, "/api/jobs").unwrap();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 13, "{jobs:?}");
    for j in jobs {
        assert!(j["num_stages"].as_u64().unwrap() >= 2, "{j}");
    }
    drop(cluster);
}

#[test]
fn an_executor_killed_mid_job_fails_over_or_fails_the_run_cleanly() {
    let w = Workdir::new();
    converted_with_local_run(&w);
    let mut cluster = Cluster::start(&w, 2);
    w.write("cl/keep.txt", "an earlier run");
    let mut run = Proc(
        Command::new(bin())
            .current_dir(w.path(""))
            .args(["-q", "run", "--input", "conv", "--out", "cl"])
            .args(["--cluster", &cluster.url()])
            // A job that would wait for the lost executor fails the run within the test's bound.
            .env("BILLRISK_CLUSTER_JOB_TIMEOUT", "120")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(w.path("run.err")).unwrap())
            .spawn()
            .unwrap(),
    );
    // Kill one executor as soon as the scheduler has a job (or after 20 s at the latest).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let jobs = get(&cluster.addr, "/api/jobs")
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0);
        if jobs > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(cluster.executors.remove(0));
    let status = loop {
        if let Some(s) = run.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the run did not end after an executor was killed"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let err = std::fs::read_to_string(w.path("run.err")).unwrap();
    if status.success() {
        // Failed over to the other executor: the same tables.
        eprintln!("the run failed over to the other executor");
        assert_same_outputs(&w, "local", "cl");
    } else {
        eprintln!("the run failed cleanly: {err}");
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(err.contains(&cluster.url()), "{err}");
        // --out untouched.
        assert_eq!(
            std::fs::read_to_string(w.path("cl/keep.txt")).unwrap(),
            "an earlier run"
        );
        assert!(!w.path("cl/manifest.json").exists());
    }
    drop(cluster);
}

#[test]
fn an_unreachable_scheduler_fails_the_run_naming_it() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["ingest", "--input", "in", "--out", "conv"])
        .assert()
        .success();
    let port = free_port_pair();
    w.write("out/keep.txt", "x");
    let out = w
        .cmd()
        .args(["run", "--input", "conv", "--out", "out"])
        .args(["--cluster", &format!("df://127.0.0.1:{port}")])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains(&format!(
            "cluster df://127.0.0.1:{port}: cannot reach the Ballista scheduler"
        )),
        "{err}"
    );
    assert!(w.path("out/keep.txt").exists());
    assert!(!w.path("out/manifest.json").exists());
}

/// A fake scheduler that answers its REST API with other versions, once per request.
fn fake_scheduler(state: &'static str) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        // One request: the version check comes first and fails the run.
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 1024];
            let mut request = Vec::new();
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{state}",
                state.len()
            );
        }
    });
    (addr, handle)
}

#[test]
fn a_scheduler_of_another_ballista_version_fails_the_run() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["ingest", "--input", "in", "--out", "conv"])
        .assert()
        .success();
    let (addr, handle) =
        fake_scheduler(r#"{"scheduler_id":"x","version":"54.0.0","datafusion_version":"54.1.0"}"#);
    let out = w
        .cmd()
        .args(["run", "--input", "conv", "--out", "out"])
        .args(["--cluster", &format!("df://{addr}")])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains(&format!("cluster df://{addr}: version mismatch: the scheduler runs Ballista 54.0.0 (DataFusion 54.1.0)")), "{err}");
    assert!(!w.path("out").exists());
    handle.join().unwrap();
}

#[test]
fn a_scheduler_without_executors_fails_the_run() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["ingest", "--input", "in", "--out", "conv"])
        .assert()
        .success();
    let cluster = Cluster::start(&w, 0);
    let out = w
        .cmd()
        .args(["run", "--input", "conv", "--out", "out"])
        .args(["--cluster", &cluster.url()])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("no executor is registered"), "{err}");
    assert!(!w.path("out").exists());
    drop(cluster);
}

#[test]
fn a_job_that_does_not_finish_in_time_fails_the_run_and_never_falls_back_to_local() {
    let w = Workdir::new();
    minimal_inputs(&w, "in");
    w.cmd()
        .args(["ingest", "--input", "in", "--out", "conv"])
        .assert()
        .success();
    let cluster = Cluster::start(&w, 1);
    w.write("out/keep.txt", "x");
    let out = w
        .cmd()
        .args(["run", "--input", "conv", "--out", "out"])
        .args(["--cluster", &cluster.url()])
        .env("BILLRISK_CLUSTER_JOB_TIMEOUT", "0")
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains(&format!(
            "cluster {}: the customer_by_subscription job",
            cluster.url()
        )),
        "{err}"
    );
    assert!(err.contains("did not finish within 0 s"), "{err}");
    assert!(w.path("out/keep.txt").exists());
    assert!(!w.path("out/manifest.json").exists());
    drop(cluster);
}
