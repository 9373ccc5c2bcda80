//! `billrisk run --cluster df://HOST:PORT`: the client side. Connects to a Ballista scheduler
//! (its REST API answers on the same port as its gRPC), checks that it and this billrisk run the
//! same Ballista and DataFusion (and, for a billrisk scheduler, the same billrisk), submits each
//! reduction's SQL over the converted usage file, and reads the result into Polars as one Arrow
//! IPC stream (DataFusion RecordBatches -> IPC stream bytes -> Polars' IpcStreamReader: columns
//! are copied as buffers, never row by row).

use std::io::{Cursor, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::execution_plans::DistributedQueryExec;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use datafusion_proto::protobuf::LogicalPlanNode;
use polars::prelude::{DataFrame, IpcStreamReader, SerReader};

use super::reductions::{Reduction, USAGE_TABLE};
use super::JobRecord;
use crate::error::{Error, Result};

/// How long the scheduler's REST API may take to answer the version check.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one reduction may take on the cluster before the run fails (bounded: a cluster
/// that hangs never hangs the nightly run). BILLRISK_CLUSTER_JOB_TIMEOUT (seconds) overrides it.
const JOB_TIMEOUT: Duration = Duration::from_secs(3600);

/// A connection to a Ballista scheduler, and the jobs it ran for this run.
pub struct Cluster {
    url: String,
    runtime: tokio::runtime::Runtime,
    ctx: SessionContext,
    registered: Option<PathBuf>,
    jobs: Vec<JobRecord>,
    job_timeout: Duration,
}

impl Cluster {
    /// Connects to `url` (`df://HOST:PORT`): the scheduler must answer, run this billrisk's
    /// Ballista and DataFusion versions, and have at least one executor.
    pub fn connect(url: &str) -> Result<Cluster> {
        let fail = |message: String| Error::Cluster {
            address: url.to_string(),
            message,
        };
        let addr = url
            .strip_prefix("df://")
            .filter(|a| {
                a.rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            })
            .ok_or_else(|| {
                Error::config(
                    "--cluster",
                    format!("expected df://HOST:PORT, found {url:?}"),
                )
            })?
            .to_string();
        let state = http_get(&addr, "/api/state", PROBE_TIMEOUT).map_err(|e| {
            fail(format!(
                "cannot reach the Ballista scheduler ({e}); is `billrisk cluster scheduler --bind {addr}` running?"
            ))
        })?;
        let state: serde_json::Value = serde_json::from_str(&state).map_err(|e| {
            fail(format!(
                "the scheduler's /api/state is not Ballista's JSON ({e}): is this a Ballista scheduler?"
            ))
        })?;
        let field = |k: &str| state.get(k).and_then(|v| v.as_str()).unwrap_or("unknown");
        let (ballista, datafusion) = (field("version"), field("datafusion_version"));
        if ballista != ballista_core::BALLISTA_VERSION
            || datafusion != datafusion::DATAFUSION_VERSION
        {
            return Err(fail(format!(
                "version mismatch: the scheduler runs Ballista {ballista} (DataFusion {datafusion}), this billrisk Ballista {} (DataFusion {}); run the scheduler and executors from the same billrisk binary",
                ballista_core::BALLISTA_VERSION,
                datafusion::DATAFUSION_VERSION
            )));
        }
        if let Some(rest) = field("scheduler_id").strip_prefix(super::roles::SCHEDULER_ID_PREFIX) {
            let theirs = rest.split('_').next().unwrap_or("");
            if theirs != env!("CARGO_PKG_VERSION") {
                return Err(fail(format!(
                    "version mismatch: the scheduler is billrisk {theirs}, this is billrisk {}; run the scheduler and executors from the same billrisk binary",
                    env!("CARGO_PKG_VERSION")
                )));
            }
        }
        let executors = http_get(&addr, "/api/executors", PROBE_TIMEOUT)
            .map_err(|e| fail(format!("cannot list the scheduler's executors ({e})")))?;
        let executors: serde_json::Value = serde_json::from_str(&executors)
            .map_err(|e| fail(format!("the scheduler's /api/executors is not JSON ({e})")))?;
        let executors = executors.as_array().cloned().unwrap_or_default();
        if executors.is_empty() {
            return Err(fail(
                "no executor is registered with the scheduler; start one with `billrisk cluster executor --scheduler HOST:PORT`".into(),
            ));
        }
        // One partition per executor task slot, so that every core of the cluster has a share.
        // Ballista 55 reports an executor's slots (its --concurrency) as `vcores`; reading a
        // field it does not have made one 2-slot executor run every job as one partition.
        let slots: usize = executors
            .iter()
            .map(|e| {
                e.pointer("/specification/vcores")
                    .or_else(|| e.pointer("/specification/task_slots"))
                    .and_then(|v| v.as_u64())
                    .unwrap_or(1) as usize
            })
            .sum();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the client runtime: {e}")))?;
        // Plain Utf8 strings rather than DataFusion's Utf8View: what the IPC stream carries to
        // Polars, in the Arrow layout every Arrow reader takes.
        let config = SessionConfig::new_with_ballista()
            .with_target_partitions(slots.max(1))
            .set_bool(
                "datafusion.execution.parquet.schema_force_view_types",
                false,
            );
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(config)
            .build();
        let ctx = runtime
            .block_on(SessionContext::remote_with_state(url, state))
            .map_err(|e| fail(format!("cannot open a session: {e}")))?;
        let job_timeout = std::env::var("BILLRISK_CLUSTER_JOB_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(JOB_TIMEOUT, Duration::from_secs);
        Ok(Cluster {
            url: url.to_string(),
            runtime,
            ctx,
            registered: None,
            jobs: Vec::new(),
            job_timeout,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn jobs(&self) -> &[JobRecord] {
        &self.jobs
    }

    fn fail(&self, message: String) -> Error {
        Error::Cluster {
            address: self.url.clone(),
            message,
        }
    }

    /// Registers the Parquet `file` (absolute path: the executors open it) as table `name`.
    pub fn register(&mut self, name: &str, file: &Path) -> Result<()> {
        let file = std::path::absolute(file)
            .map_err(|e| self.fail(format!("cannot make {} absolute: {e}", file.display())))?;
        let path = file.to_string_lossy().to_string();
        let ctx = &self.ctx;
        self.runtime
            .block_on(async {
                let _ = ctx.deregister_table(name);
                ctx.register_parquet(name, &path, ParquetReadOptions::default())
                    .await
            })
            .map_err(|e| {
                self.fail(format!(
                    "cannot register {} as table {name}: {e}",
                    file.display()
                ))
            })
    }

    /// Runs one reduction over `usage_file` (absolute path: the executors open it) and returns
    /// its result as a Polars frame.
    pub fn run(&mut self, reduction: &Reduction, usage_file: &Path) -> Result<DataFrame> {
        let file = std::path::absolute(usage_file)
            .map_err(|e| Error::input_file(usage_file.to_path_buf(), e))?;
        if self.registered.as_deref() != Some(file.as_path()) {
            let path = file.to_string_lossy().to_string();
            let ctx = &self.ctx;
            self.runtime
                .block_on(async {
                    let _ = ctx.deregister_table(USAGE_TABLE);
                    ctx.register_parquet(USAGE_TABLE, &path, ParquetReadOptions::default())
                        .await
                })
                .map_err(|e| {
                    self.fail(format!(
                        "cannot register {} as table {USAGE_TABLE}: {e}",
                        file.display()
                    ))
                })?;
            self.registered = Some(file.clone());
        }
        let started = Instant::now();
        let ctx = self.ctx.clone();
        let sql = reduction.sql.clone();
        let timeout = self.job_timeout;
        let planned: Arc<std::sync::Mutex<Option<Arc<dyn ExecutionPlan>>>> = Arc::default();
        let keep = planned.clone();
        let outcome = self.runtime.block_on(async move {
            tokio::time::timeout(timeout, async move {
                let df = ctx.sql(&sql).await?;
                let plan = df.create_physical_plan().await?;
                if let Ok(mut p) = keep.lock() {
                    *p = Some(plan.clone());
                }
                let schema = plan.schema();
                let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
                Ok::<_, datafusion::error::DataFusionError>((schema, batches))
            })
            .await
        });
        let job_id = planned
            .lock()
            .ok()
            .and_then(|p| p.as_ref().and_then(|p| job_id(p)));
        let job = || {
            job_id
                .clone()
                .map_or("(not accepted by the scheduler)".to_string(), |j| {
                    format!("{j}")
                })
        };
        let (schema, batches) = match outcome {
            Err(_) => {
                return Err(self.fail(format!(
                    "the {} job {} did not finish within {} s (BILLRISK_CLUSTER_JOB_TIMEOUT)",
                    reduction.name,
                    job(),
                    timeout.as_secs()
                )))
            }
            Ok(Err(e)) => {
                return Err(self.fail(format!("the {} job {} failed: {e}", reduction.name, job())))
            }
            Ok(Ok(done)) => done,
        };
        let (df, ipc_bytes) = into_polars(reduction.name, &schema, &batches)?;
        self.jobs.push(JobRecord {
            reduction: reduction.name.to_string(),
            job_id,
            seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            rows: df.height() as u64,
            ipc_bytes,
        });
        Ok(df)
    }
}

/// DataFusion's record batches as a Polars frame, through one Arrow IPC stream in memory (the
/// columns' buffers are copied, never a row at a time), and the stream's size in bytes.
pub(crate) fn into_polars(
    name: &str,
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[datafusion::arrow::record_batch::RecordBatch],
) -> Result<(DataFrame, u64)> {
    let mut bytes = Vec::new();
    {
        let ipc_err = |e: datafusion::arrow::error::ArrowError| {
            Error::Internal(format!("{name} result as Arrow IPC: {e}"))
        };
        let mut writer = StreamWriter::try_new(&mut bytes, schema).map_err(ipc_err)?;
        for b in batches {
            writer.write(b).map_err(ipc_err)?;
        }
        writer.finish().map_err(ipc_err)?;
    }
    let df = IpcStreamReader::new(Cursor::new(&bytes))
        .finish()
        .map_err(|e| Error::Internal(format!("{name} result into Polars: {e}")))?;
    Ok((df, bytes.len() as u64))
}

/// The scheduler job id of a distributed plan: its DistributedQueryExec node's, once the
/// scheduler accepted the job.
fn job_id(plan: &Arc<dyn ExecutionPlan>) -> Option<String> {
    if let Some(exec) = plan.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>() {
        return exec.job_id().map(|j| j.to_string());
    }
    plan.children().into_iter().find_map(job_id)
}

/// GET `path` from the HTTP server at `addr` (HOST:PORT), with bounded waits: the body of a 200
/// answer. Used for the scheduler's REST API (the same port as its gRPC), by the client and by
/// the tests waiting for executors to register.
pub fn http_get(addr: &str, path: &str, timeout: Duration) -> std::result::Result<String, String> {
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr} resolves to no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&sock, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    // One write: a server may answer (and close) as soon as it has the request line.
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "not an HTTP answer".to_string())?;
    let status = head.lines().next().unwrap_or("");
    if !status.contains(" 200") {
        return Err(format!("GET {path} answered {status:?}"));
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Ok(dechunk(body));
    }
    Ok(body.to_string())
}

/// The body of a chunked HTTP answer.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let (Some(chunk), Some(next)) = (after.get(..n), after.get(n..)) else {
            break;
        };
        if n == 0 {
            break;
        }
        out.push_str(chunk);
        rest = next.trim_start_matches("\r\n");
    }
    out
}
