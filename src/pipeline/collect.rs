//! How plans become frames: the engine choice, `collect_all` (independent plans run as one
//! parallel plan), the streamed collection of the row-scaling reductions, and the per-plan timing
//! developers switch on with BILLRISK_TIME_PLANS. The environment variables of the pipeline
//! (BILLRISK_ENGINE, BILLRISK_TIME_PLANS) are read once, into environment::Environment, and used here.
//!
//! The row-scaling reductions (usage_daily, cost per customer and day, the usage signal
//! summaries, the activity per-customer sets, the report's daily cost) all go through
//! [`reduce`] or [`reduce_to_file`]: that is the one place that decides where a reduction of every
//! usage line runs (today: locally, on Polars' streaming engine; a cluster engine plugs in there).
//!
//! A phase is a struct of plans declared with [`phase!`]: collecting it gives a struct of frames
//! with the same fields, so a table a later phase reads cannot be missing at run time.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis;
use crate::analysis::usage_signals::UsageSignalConfig;
use crate::cluster::activity_reductions::ActivityParts;
use crate::environment::EngineChoice;
use crate::error::{Error, PolarsContext, Result};
use crate::output;

/// Collects plans together on one engine: the frames, in the order of `plans`.
fn collect_frames(plans: Vec<LazyFrame>, engine: Engine) -> Result<Vec<DataFrame>> {
    let n = plans.len();
    let dfs = LazyFrame::collect_all_with_engine(
        plans.into_iter().map(|lf| lf.logical_plan).collect(),
        engine,
        OptFlags::default(),
    )
    .stage("analyses")?;
    if dfs.len() != n {
        return Err(Error::Internal(format!(
            "{n} plans gave {} frames",
            dfs.len()
        )));
    }
    Ok(dfs)
}

/// Collects plans together on Polars' streaming engine, whatever BILLRISK_ENGINE says: plans
/// that would hold usage lines whole on the in-memory engine.
fn collect_streaming(plans: Vec<LazyFrame>) -> Result<Vec<DataFrame>> {
    let timed = TimedPlan::start();
    let dfs = collect_frames(plans, Engine::Streaming)?;
    if let Some(t) = timed {
        let rows: Vec<String> = dfs.iter().map(|df| df.height().to_string()).collect();
        t.report(&format!("streamed ({} rows)", rows.join(", ")));
    }
    Ok(dfs)
}

/// The row-scaling reductions (a plan that reads every usage line and gives a table that is
/// small, or at least grouped): the frames, in the order of `plans`. The seam for a cluster
/// engine: today they are streamed locally, together.
pub(crate) fn reduce(plans: Vec<LazyFrame>) -> Result<Vec<DataFrame>> {
    collect_streaming(plans)
}

/// One row-scaling reduction, collected alone (see [`reduce`]).
pub(crate) fn reduce_one(plan: LazyFrame) -> Result<DataFrame> {
    let mut dfs = reduce(vec![plan])?;
    dfs.pop()
        .ok_or_else(|| Error::Internal("a reduction gave no frame".into()))
}

/// A row-scaling reduction whose result has nearly a row per usage line (usage_daily): streamed
/// into a Parquet file written exactly as the output's own tables, never held in memory.
pub(crate) fn reduce_to_file(plan: LazyFrame, file: &Path, stage: &'static str) -> Result<()> {
    output::sink_parquet(plan, file, output::TABLE_COMPRESSION, None, stage)
}

/// Cost per customer and day, collected once: what budgets, reconciliation, exposure and the
/// payment signals read of usage (each read usage on its own before).
pub(crate) fn customer_days(usage: &LazyFrame) -> Result<LazyFrame> {
    Ok(reduce_one(analysis::usage_daily::cost_per_customer_day(usage.clone()))?.lazy())
}

/// The usage signals' groups of the consumption lines (usage_signals::usage_groups), collected
/// once: the usage summary and usage_daily's series both come from them. At 10M usage lines the
/// series took a scan of usage of their own, 1.3 s.
pub(crate) fn usage_groups(
    usage: &LazyFrame,
    as_of: NaiveDate,
    signals: &UsageSignalConfig,
) -> Result<LazyFrame> {
    let groups = analysis::usage_signals::usage_groups(usage.clone(), as_of, signals);
    Ok(reduce_one(groups)?.lazy())
}

/// usage_daily has nearly a row per usage row (a row per customer, subscription, meter category
/// and day): it is streamed to `file`, never held in memory, and written to the output as a copy
/// of that file. `groups`: [`usage_groups`] of the same usage and as-of date.
pub(crate) fn usage_daily(
    usage: &LazyFrame,
    groups: LazyFrame,
    as_of: NaiveDate,
    file: &Path,
) -> Result<()> {
    use analysis::usage_daily as ud;
    let series = ud::series_of_groups(groups).collect().stage("analyses")?;
    let plan = ud::usage_daily(usage.clone(), &series, as_of).stage("analyses")?;
    reduce_to_file(plan, file, "analyses")
}

/// The usage signals read usage through a small summary (from `groups`, [`usage_groups`] of the
/// same usage and as-of date); the two parts that read usage lines again (round_the_clock, the
/// GPU share of spikes) are streamed apart from the shared plan, which would hold the lines they
/// read whole (see usage_signals::usage_summary). The summary, the round-the-clock signals and
/// the GPU share per day.
pub(crate) fn usage_signal_parts(
    usage: &LazyFrame,
    groups: LazyFrame,
    as_of: NaiveDate,
    signals: &UsageSignalConfig,
) -> Result<[LazyFrame; 3]> {
    use analysis::usage_signals as us;
    let summary = us::summary_of_groups(groups)
        .collect()
        .stage("analyses")?
        .lazy();
    let streamed = reduce(vec![
        us::round_the_clock_signals(usage.clone(), summary.clone(), as_of, signals),
        us::gpu_daily(usage.clone(), summary.clone(), as_of, signals),
    ])?;
    match <[DataFrame; 2]>::try_from(streamed) {
        Ok([round_the_clock, gpu_daily]) => Ok([summary, round_the_clock.lazy(), gpu_daily.lazy()]),
        Err(v) => Err(Error::Internal(format!("2 plans gave {} frames", v.len()))),
    }
}

/// What the activity signals and linked_accounts read of the customers' history of events
/// (`activity::local_history`, `linked::local_link_keys`), collected together before the signals:
/// the history's per-customer counts and first-seen sets are small, and each signal family then
/// reads them instead of grouping the events again in its own plan. At 10M usage lines (570k
/// events) the activity and identity signals took 2.3-2.7 s planned whole, 1.1-1.7 s with these
/// collected first (alternating in one process; the same rows). A cluster computes the same parts
/// itself (cluster::activity_reductions).
pub(crate) fn activity_parts(
    activity: &LazyFrame,
    as_of: NaiveDate,
    cfg: &crate::analysis::anomalies::AnomalyConfig,
) -> Result<ActivityParts> {
    use crate::analysis::anomalies::{activity as a, linked as l};
    let history = a::local_history(activity.clone(), as_of, cfg);
    let keys = l::local_link_keys(activity.clone(), as_of, cfg);
    let frames = collect_frames(
        vec![
            history.customers,
            history.callers,
            history.ips,
            keys.callers,
            keys.ips,
            keys.operations,
        ],
        Engine::Streaming,
    )?;
    let [customers, callers, ips, link_callers, link_ips, operations] =
        <[DataFrame; 6]>::try_from(frames)
            .map_err(|v| Error::Internal(format!("6 plans gave {} frames", v.len())))?;
    Ok(ActivityParts {
        history: a::ActivityHistory {
            customers: customers.lazy(),
            callers: callers.lazy(),
            ips: ips.lazy(),
        },
        link_keys: l::LinkKeys {
            callers: link_callers.lazy(),
            ips: link_ips.lazy(),
            operations: operations.lazy(),
        },
    })
}

/// Developer aid for the benchmarks (issue 8): with BILLRISK_TIME_PLANS set, the time and peak
/// memory of each plan (or group of plans) collected, on stderr.
struct TimedPlan {
    started: std::time::Instant,
    resident_before: Option<f64>,
}

impl TimedPlan {
    fn start() -> Option<TimedPlan> {
        crate::environment::environment()
            .time_plans
            .then(|| TimedPlan {
                resident_before: crate::progress::reset_peak_memory(),
                started: std::time::Instant::now(),
            })
    }

    fn report(self, what: &str) {
        let gib = |g: Option<f64>| g.map_or("?".into(), |g| format!("{g:.2}"));
        eprintln!(
            "plan {what}: {:.2} s, resident before {} GiB, peak {} GiB",
            self.started.elapsed().as_secs_f64(),
            gib(self.resident_before),
            gib(crate::progress::peak_memory_gib()),
        );
    }
}

/// A staged table read into memory (pseudonymizing, `billrisk query` without --out).
pub fn read_staged(file: &Path) -> Result<DataFrame> {
    output::scan_own_parquet(file)?
        .collect()
        .stage("staged table")
}

/// The engine that collects a run's phases (and its input tables, the previous run's
/// annotations), chosen once per run from the number of usage lines (developer aid:
/// BILLRISK_ENGINE=streaming, in-memory or auto picks one whatever the size).
///
/// Polars' streaming engine above [`IN_MEMORY_UP_TO_LINES`]: at 10M usage lines it reads the
/// collected usage reductions (1.8M rows of cost per customer and day, usage_daily's 8.8M rows) in
/// batches; run whole in memory, the phases took 5.1 s instead of 3.6 s (each plan collected
/// alone) and the run peaked at 2.44-2.54 GiB instead of 2.04-2.07 (2 alternating runs each).
/// At or below it, Polars' in-memory engine: its plans start with less overhead (the streaming
/// engine's tasks wake and yield on every small plan), so the run from the converted 1M folder
/// took 1.57-1.69 s instead of 1.72-2.31 s (4 alternating runs each) and the bundled sample 0.22-0.24
/// s instead of 0.32-0.37 (3 each), tables byte-identical. The row-scaling reductions of usage
/// always stream ([`reduce`]).
pub(crate) fn phase_engine(usage_lines: u64) -> Engine {
    engine_for(crate::environment::environment().engine, usage_lines)
}

/// [`phase_engine`] for a given BILLRISK_ENGINE choice.
fn engine_for(choice: EngineChoice, usage_lines: u64) -> Engine {
    match choice {
        EngineChoice::InMemory => Engine::InMemory,
        EngineChoice::Auto => Engine::Auto,
        EngineChoice::Streaming => Engine::Streaming,
        EngineChoice::BySize if usage_lines <= IN_MEMORY_UP_TO_LINES => Engine::InMemory,
        EngineChoice::BySize => Engine::Streaming,
    }
}

/// The most usage lines a run collects its phases with Polars' in-memory engine for (see
/// [`phase_engine`]): measured better at 1.07M lines, worse at 10.8M; the crossover between was
/// not measured, and 2M keeps the phases' frames small (cost per customer and day has about a
/// row per six usage lines).
pub(crate) const IN_MEMORY_UP_TO_LINES: u64 = 2_000_000;

/// The engine for plans over small frames whatever the run's size (the previous run's
/// annotations of the action lists): the in-memory engine unless BILLRISK_ENGINE says otherwise.
pub(crate) fn small_frames_engine() -> Engine {
    phase_engine(0)
}

/// Collects named plans together, so Polars optimises and runs them as one: the frames, in the
/// order of `plans` (the names label the timings of BILLRISK_TIME_PLANS).
pub(crate) fn collect_all(
    plans: Vec<(String, LazyFrame)>,
    engine: Engine,
) -> Result<Vec<DataFrame>> {
    // Developer aid for the benchmarks (issue 8): collect each plan alone and print its time, to
    // find the expensive analysis. Slower overall (shared subplans run once per plan).
    if crate::environment::environment().time_plans {
        return collect_each(plans, engine);
    }
    let frames = plans.into_iter().map(|(_, lf)| lf).collect();
    collect_frames(frames, engine)
}

/// Collects named plans one after another, each alone: the frames, in the order of `plans`. For a
/// phase of many plans that each read small collected frames (phase 1: the signal families, the
/// budgets, the receivables base) and use both cores on their own: run together, they were slower
/// on a 2-core machine: the phase at 1M usage lines from the converted folder took 0.88-1.02 s
/// together, 0.72-0.81 s each alone (3 alternating runs each); at 10M, 6.4-9.7 s together and
/// 6.4-8.1 s alone (5 runs each, within the host's noise), and whole 10M runs peaked at 2.04-2.09
/// GiB instead of 2.17-2.30 (2 paired runs). With BILLRISK_TIME_PLANS, each plan's time and peak
/// memory are printed.
pub(crate) fn collect_each(
    plans: Vec<(String, LazyFrame)>,
    engine: Engine,
) -> Result<Vec<DataFrame>> {
    let mut out = Vec::new();
    for (name, lf) in plans {
        let timed = TimedPlan::start();
        let df = collect_frames(vec![lf], engine)?.remove(0);
        if let Some(t) = timed {
            t.report(&format!("{name} ({} rows)", df.height()));
        }
        out.push(df);
    }
    Ok(out)
}

/// [`collect_all`] for plans keyed by name (the input tables, a file's rejected rows): the frames
/// by name.
pub(crate) fn collect_named(
    plans: Vec<(String, LazyFrame)>,
    engine: Engine,
) -> Result<BTreeMap<String, DataFrame>> {
    let names: Vec<String> = plans.iter().map(|(n, _)| n.clone()).collect();
    Ok(names.into_iter().zip(collect_all(plans, engine)?).collect())
}

/// One plan of a [`phase!`]: a LazyFrame, or an optional one (a table only some runs have).
pub(crate) trait Planned {
    type Collected;
    /// Adds the plan to `plans`; whether it did.
    fn push(self, name: &str, plans: &mut Vec<(String, LazyFrame)>) -> bool;
    /// The plan's frame from the collected ones, in the order they were pushed.
    fn take(pushed: bool, frames: &mut std::vec::IntoIter<DataFrame>) -> Result<Self::Collected>;
}

fn next_frame(frames: &mut std::vec::IntoIter<DataFrame>) -> Result<DataFrame> {
    frames
        .next()
        .ok_or_else(|| Error::Internal("a phase gave fewer frames than plans".into()))
}

impl Planned for LazyFrame {
    type Collected = DataFrame;
    fn push(self, name: &str, plans: &mut Vec<(String, LazyFrame)>) -> bool {
        plans.push((name.to_string(), self));
        true
    }
    fn take(_: bool, frames: &mut std::vec::IntoIter<DataFrame>) -> Result<DataFrame> {
        next_frame(frames)
    }
}

impl Planned for Option<LazyFrame> {
    type Collected = Option<DataFrame>;
    fn push(self, name: &str, plans: &mut Vec<(String, LazyFrame)>) -> bool {
        self.is_some_and(|lf| lf.push(name, plans))
    }
    fn take(pushed: bool, frames: &mut std::vec::IntoIter<DataFrame>) -> Result<Option<DataFrame>> {
        pushed.then(|| next_frame(frames)).transpose()
    }
}

/// Declares a phase: a struct of plans (each field a `LazyFrame` or an `Option<LazyFrame>`, with
/// the name its timing is printed under) and the struct of frames `collect` gives, field by
/// field, from one [`collect_all`] in field order.
macro_rules! phase {
    (
        $(#[$doc:meta])*
        $plans:ident => $frames:ident {
            $($(#[$fdoc:meta])* $field:ident: $ty:ty = $name:expr),* $(,)?
        }
    ) => {
        $(#[$doc])*
        pub struct $plans {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        #[doc = concat!("The collected frames of [`", stringify!($plans), "`], field by field.")]
        pub struct $frames {
            $(pub $field: <$ty as $crate::pipeline::collect::Planned>::Collected,)*
        }

        impl $plans {
            /// Collects every plan of the phase together (one collect_all) on `engine`.
            #[allow(dead_code)]
            pub fn collect(self, engine: polars::prelude::Engine) -> $crate::error::Result<$frames> {
                self.collect_by($crate::pipeline::collect::collect_all, engine)
            }

            /// Collects the plans of the phase one after another, each alone (see
            /// collect::collect_each), on `engine`.
            #[allow(dead_code)]
            pub fn collect_each(self, engine: polars::prelude::Engine) -> $crate::error::Result<$frames> {
                self.collect_by($crate::pipeline::collect::collect_each, engine)
            }

            fn collect_by(
                self,
                collect: fn(
                    Vec<(String, polars::prelude::LazyFrame)>,
                    polars::prelude::Engine,
                ) -> $crate::error::Result<Vec<polars::prelude::DataFrame>>,
                engine: polars::prelude::Engine,
            ) -> $crate::error::Result<$frames> {
                use $crate::pipeline::collect::Planned;
                let mut plans = Vec::new();
                $(let $field = Planned::push(self.$field, $name, &mut plans);)*
                let mut frames = collect(plans, engine)?.into_iter();
                Ok($frames {
                    $($field: <$ty as Planned>::take($field, &mut frames)?,)*
                })
            }
        }
    };
}
pub(crate) use phase;

#[cfg(test)]
mod tests {
    use super::*;

    phase! {
        /// Two plans and an optional one, declared out of name order.
        TestPlans => TestFrames {
            second: LazyFrame = "b",
            maybe: Option<LazyFrame> = "m",
            first: LazyFrame = "a",
        }
    }

    fn frame(v: &[i64]) -> LazyFrame {
        df!("x" => v).expect("frame").lazy()
    }

    fn values(df: &DataFrame) -> Vec<Option<i64>> {
        df.column("x")
            .expect("x")
            .i64()
            .expect("i64")
            .iter()
            .collect()
    }

    #[test]
    fn a_phase_gives_each_field_its_own_frame() {
        let frames = TestPlans {
            second: frame(&[2, 3]),
            maybe: Some(frame(&[7])),
            first: frame(&[1]),
        }
        .collect(Engine::Streaming)
        .expect("collect");
        assert_eq!(values(&frames.first), vec![Some(1)]);
        assert_eq!(values(&frames.second), vec![Some(2), Some(3)]);
        assert_eq!(frames.maybe.as_ref().map(values), Some(vec![Some(7)]));
    }

    #[test]
    fn an_absent_optional_plan_is_none_and_shifts_nothing() {
        let frames = TestPlans {
            second: frame(&[2]),
            maybe: None,
            first: frame(&[1, 1]),
        }
        .collect(Engine::InMemory)
        .expect("collect");
        assert!(frames.maybe.is_none());
        assert_eq!(values(&frames.first), vec![Some(1), Some(1)]);
        assert_eq!(values(&frames.second), vec![Some(2)]);
    }

    #[test]
    fn small_runs_collect_their_phases_in_memory_and_large_ones_streaming() {
        let by_size = |lines| engine_for(EngineChoice::BySize, lines);
        assert!(matches!(by_size(0), Engine::InMemory));
        assert!(matches!(by_size(1_068_836), Engine::InMemory));
        assert!(matches!(by_size(IN_MEMORY_UP_TO_LINES), Engine::InMemory));
        assert!(matches!(
            by_size(IN_MEMORY_UP_TO_LINES + 1),
            Engine::Streaming
        ));
        assert!(matches!(by_size(10_761_955), Engine::Streaming));
        // BILLRISK_ENGINE wins whatever the size.
        assert!(matches!(
            engine_for(EngineChoice::Streaming, 10),
            Engine::Streaming
        ));
        assert!(matches!(
            engine_for(EngineChoice::InMemory, 10_761_955),
            Engine::InMemory
        ));
        assert!(matches!(engine_for(EngineChoice::Auto, 10), Engine::Auto));
    }

    #[test]
    fn collect_all_keeps_the_order_of_the_plans() {
        let dfs = collect_all(
            vec![("z".into(), frame(&[3])), ("a".into(), frame(&[1]))],
            Engine::Streaming,
        )
        .expect("collect");
        assert_eq!(values(&dfs[0]), vec![Some(3)]);
        assert_eq!(values(&dfs[1]), vec![Some(1)]);
    }
}
