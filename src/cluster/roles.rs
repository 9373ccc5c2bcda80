//! `billrisk cluster scheduler` and `billrisk cluster executor`: the Ballista scheduler and
//! executor as roles of this one binary, so a partner deploys a single file.
//!
//! Ports: the scheduler listens on its `--bind` port (gRPC for clients and executors, and the REST
//! API that `--cluster` reads its versions from). An executor serves Arrow Flight (results and
//! shuffle data) on its `--bind` port and takes tasks over gRPC on the port after it, so several
//! executors on one host need only different `--bind` ports (two apart).
//!
//! Faults are detected quickly: executors send a heartbeat every 5 s and the scheduler takes an
//! executor silent for 20 s as lost (Ballista's defaults, 60 s and 180 s, would leave a job
//! waiting minutes for a dead executor).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::error::{Error, Result};

/// A billrisk scheduler's id starts with this, then its billrisk version and `_`: the client
/// refuses a scheduler of another billrisk version.
pub const SCHEDULER_ID_PREFIX: &str = "billrisk-";
/// Seconds between an executor's heartbeats.
const HEARTBEAT_SECONDS: u64 = 5;
/// Seconds without a heartbeat after which the scheduler takes an executor as lost.
const EXECUTOR_TIMEOUT_SECONDS: u64 = 20;
/// How often the scheduler looks for lost executors.
const EXPIRE_INTERVAL_SECONDS: u64 = 5;

fn resolve(flag: &str, addr: &str) -> Result<SocketAddr> {
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            Error::config(
                flag,
                format!("expected ADDR:PORT (e.g. 127.0.0.1:50050), found {addr:?}"),
            )
        })
}

fn runtime(address: &str) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .map_err(|e| Error::Cluster {
            address: address.to_string(),
            message: format!("cannot start the runtime: {e}"),
        })
}

/// Runs the scheduler on `bind` until the process is stopped.
pub fn scheduler(bind: &str) -> Result<()> {
    let addr = resolve("--bind", bind)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let config = SchedulerConfig {
        scheduler_id: format!(
            "{SCHEDULER_ID_PREFIX}{}_{}_{nanos}",
            env!("CARGO_PKG_VERSION"),
            std::process::id()
        ),
        bind_host: addr.ip().to_string(),
        bind_port: addr.port(),
        external_host: addr.ip().to_string(),
        executor_timeout_seconds: EXECUTOR_TIMEOUT_SECONDS,
        expire_dead_executor_interval_seconds: EXPIRE_INTERVAL_SECONDS,
        no_executors_grace_period_seconds: EXECUTOR_TIMEOUT_SECONDS,
        ..SchedulerConfig::default()
    };
    let fail = |what: &str, e: ballista_core::error::BallistaError| Error::Cluster {
        address: addr.to_string(),
        message: format!("{what}: {e}"),
    };
    eprintln!(
        "billrisk {} cluster scheduler (Ballista {}, DataFusion {}) on {addr}",
        env!("CARGO_PKG_VERSION"),
        ballista_core::BALLISTA_VERSION,
        datafusion::DATAFUSION_VERSION
    );
    runtime(&addr.to_string())?.block_on(async {
        let cluster = BallistaCluster::new_from_config(&config)
            .await
            .map_err(|e| fail("cannot set up the scheduler", e))?;
        start_server(cluster, addr, Arc::new(config))
            .await
            .map_err(|e| fail("the scheduler stopped", e))
    })
}

/// Runs an executor registered with the scheduler at `scheduler` until the process is stopped:
/// Arrow Flight on `bind`'s port, task gRPC on the next port, `concurrency` task slots (default:
/// the cores of this machine).
pub fn executor(scheduler: &str, bind: &str, concurrency: Option<usize>) -> Result<()> {
    let addr = resolve("--bind", bind)?;
    let sched = resolve("--scheduler", scheduler)?;
    let grpc_port = addr.port().checked_add(1).ok_or_else(|| {
        Error::config(
            "--bind",
            format!(
                "the port after {} is taken for task gRPC: choose a lower port",
                addr.port()
            ),
        )
    })?;
    let work_dir = tempfile::Builder::new()
        .prefix("billrisk-executor-")
        .tempdir()
        .map_err(|e| Error::Cluster {
            address: addr.to_string(),
            message: format!("cannot create a work folder: {e}"),
        })?;
    let (scheduler_host, scheduler_port) = match scheduler.rsplit_once(':') {
        Some((h, _)) => (h.trim_matches(['[', ']']).to_string(), sched.port()),
        None => (sched.ip().to_string(), sched.port()),
    };
    let config = ExecutorProcessConfig {
        bind_host: addr.ip().to_string(),
        external_host: (!addr.ip().is_unspecified()).then(|| addr.ip().to_string()),
        port: addr.port(),
        grpc_port,
        scheduler_host,
        scheduler_port,
        scheduler_connect_timeout_seconds: 10,
        vcores: concurrency.unwrap_or(0),
        work_dir: Some(work_dir.path().to_string_lossy().to_string()),
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        ..ExecutorProcessConfig::default()
    };
    eprintln!(
        "billrisk {} cluster executor on {addr} (task gRPC port {grpc_port}), scheduler {scheduler}",
        env!("CARGO_PKG_VERSION")
    );
    let result = runtime(&addr.to_string())?.block_on(start_executor_process(Arc::new(config)));
    drop(work_dir);
    result.map_err(|e| Error::Cluster {
        address: addr.to_string(),
        message: format!("the executor stopped (scheduler {scheduler}): {e}"),
    })
}
