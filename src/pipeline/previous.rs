//! The comparison with the previous run (SPEC 4.6), wired into a run: which previous run is
//! compared once the as-of date is known, the `changes` table, first_seen in anomalies and
//! risk_review, the `new` column of the action lists, what the report says about it and
//! --fail-on-new. Reading a previous output folder is src/previous_run.rs; the comparison
//! itself is analysis::changes.

use chrono::NaiveDate;
use polars::prelude::*;

use super::collect::phase;
use super::tables::{Analyses, OutputTables};
use super::RunOutcome;
use crate::analysis;
use crate::config::Config;
use crate::error::{PolarsContext, Result};
use crate::previous_run::PreviousRun;
use crate::progress::Progress;
use crate::report;
use crate::schema;

/// The previous run once this run's as-of date is known: a named one from a later date is an
/// error (exit 2); the implicit one (--out) is then not compared. Says on stderr what is
/// compared and what is not.
pub fn checked_previous(
    previous: Option<PreviousRun>,
    as_of: NaiveDate,
    config: &Config,
    progress: &mut Progress,
) -> Result<Option<PreviousRun>> {
    let Some(mut p) = previous else {
        return Ok(None);
    };
    if let Err(e) = p.check_as_of(as_of) {
        if p.implicit {
            progress.note(&format!(
                "not comparing with {}: it holds a run as of {}, later than this run's {as_of}",
                p.dir.display(),
                p.as_of
            ));
            return Ok(None);
        }
        return Err(e);
    }
    p.compare_config(config);
    progress.note(&format!(
        "comparing with the previous run in {} (as of {}){}",
        p.dir.display(),
        p.as_of,
        if p.implicit {
            ", the --out being replaced (--no-previous to not compare)"
        } else {
            ""
        }
    ));
    for line in p.notes.iter().chain(&p.not_compared) {
        progress.note(&format!("  {line}"));
    }
    Ok(Some(p))
}

/// What the report says about the comparison.
pub fn since_last_run(p: &PreviousRun) -> report::SinceLastRun {
    report::SinceLastRun {
        previous_as_of: p.as_of,
        folder: p.dir.display().to_string(),
        not_compared: p.not_compared.clone(),
        notes: p.notes.clone(),
    }
}

phase! {
    /// The action lists with their `new` column.
    AnnotatedPlans => Annotated {
        collections_actions: LazyFrame = schema::collections_actions::TABLE,
        budget_alerts: LazyFrame = schema::budget_alerts::TABLE,
        risk_review: LazyFrame = schema::risk_review::TABLE,
    }
}

/// SPEC 4.6: `changes` against the previous run (empty without one), first_seen in anomalies
/// and risk_review, and the `new` column of the action lists (null without a previous run).
/// Shared by `run` and `query` (which has no previous run).
pub fn compare_with_previous(
    mut tables: Analyses,
    previous: Option<&PreviousRun>,
    config: &Config,
) -> Result<OutputTables> {
    use analysis::changes as ch;
    let lazy = |df: &DataFrame| df.clone().lazy();
    let anomalies = ch::with_first_seen(
        lazy(&tables.anomalies),
        previous.and_then(|p| p.anomalies()),
    )
    .collect()
    .stage("first_seen")?;
    let current = ch::RunTables {
        risk_scores: Some(lazy(&tables.risk_scores)),
        collections_actions: Some(lazy(&tables.collections_actions)),
        aging_customers: Some(lazy(&tables.aging_customers)),
        budget_status: Some(lazy(&tables.budget_status)),
        anomalies: Some(anomalies.clone().lazy()),
        exposure: Some(lazy(&tables.exposure)),
    };
    let changes = match previous {
        Some(p) => ch::changes(&current, &p.run_tables(), &config.changes)
            .collect()
            .stage("changes")?,
        None => schema::changes::DEF.empty(),
    };
    let known = previous.map(|_| changes.clone().lazy());
    let annotated = AnnotatedPlans {
        collections_actions: ch::collections_with_new(
            lazy(&tables.collections_actions),
            known.clone(),
        ),
        budget_alerts: ch::budget_alerts_with_new(lazy(&tables.budget_alerts), known.clone()),
        risk_review: ch::risk_review_with_new(
            lazy(&tables.risk_review),
            anomalies.clone().lazy(),
            known,
        ),
    }
    .collect(super::collect::small_frames_engine())?;
    tables.collections_actions = annotated.collections_actions;
    tables.budget_alerts = annotated.budget_alerts;
    tables.risk_review = annotated.risk_review;
    tables.anomalies = anomalies;
    Ok(OutputTables {
        analyses: tables,
        changes,
    })
}

/// Whether some customer newly reached `tier` or worse since the previous run (for
/// --fail-on-new, exit 3): a risk change from below the tier (or from nothing, a new customer)
/// to it or above.
pub fn tier_newly_reached(outcome: &RunOutcome, tier: crate::tier::Tier) -> Result<bool> {
    use schema::changes as c;
    let min = tier as usize;
    let changes = &outcome.tables.changes;
    let col_str = |name: &str| -> Result<Vec<Option<String>>> {
        let s = changes.column(name).stage("--fail-on-new")?;
        Ok(s.str()
            .stage("--fail-on-new")?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    };
    let (topic, before, after) = (col_str(c::TOPIC)?, col_str(c::BEFORE)?, col_str(c::AFTER)?);
    let rank = |v: &Option<String>| v.as_deref().and_then(analysis::risk::tier_rank);
    Ok((0..changes.height()).any(|i| {
        matches!(
            topic[i].as_deref(),
            Some(analysis::changes::TOPIC_RISK | analysis::changes::TOPIC_CUSTOMER)
        ) && rank(&after[i]).is_some_and(|a| a >= min)
            && rank(&before[i]).is_none_or(|b| b < min)
    }))
}
