//! The analyses of a run as plans: pure functions from the inputs (and what earlier phases
//! collected) to structs of LazyFrames, one struct per phase. Nothing here collects or writes.
//!
//! The analyses run in three phases. Within a phase, independent plans run as one parallel plan
//! (collect_all), except phase 1's, each collected alone (collect::collect_each says why); a
//! result that later phases share (aging, budget status, exposure, each signal
//! family, the anomalies, the risk scores) is collected once and read from memory afterwards,
//! because the closures in some expressions keep Polars from recognising the repeated subplans
//! itself. Before phase 1, the row-scaling reductions of usage (cost per customer and day,
//! usage_daily, the usage signal summaries) are collected on their own (see collect.rs).
//!
//! 1. [`Phase1Plans`]: receivables base, budgets, reconciliation and every signal family but
//!    payment; the budgets read their burn-up ([`BurnUpPlans`]), collected just before.
//! 2. [`Phase2Plans`]: exposure and the payment signals; then [`anomalies`] with the analysts'
//!    feedback and [`risk_scores`].
//! 3. [`Phase3Plans`]: what depends on the risk scores (review queue, risk-driven dunning) and
//!    the converted totals.

use chrono::NaiveDate;
use polars::prelude::*;

use super::collect::phase;
use crate::analysis;
use crate::config::Config;
use crate::ingest::Inputs;
use crate::schema;

/// The row-scaling reductions of usage the phases read, collected (see collect.rs).
pub struct UsageReductions {
    /// Cost per customer and day (usage_daily::cost_per_customer_day): what budgets,
    /// reconciliation, exposure and the payment signals read of usage.
    pub customer_days: LazyFrame,
    /// usage_daily, staged as a file.
    pub usage_daily: LazyFrame,
    /// The usage signals' summary of usage (usage_signals::usage_summary).
    pub summary: LazyFrame,
    /// The round-the-clock signals and the GPU share per day: the two parts of the usage signals
    /// that read usage lines again.
    pub round_the_clock: LazyFrame,
    pub gpu_daily: LazyFrame,
    /// What the activity signals read of the customers' history of events and linked_accounts'
    /// keys, collected before the phase (collect::activity_parts; on a cluster, computed there).
    pub activity: crate::cluster::activity_reductions::ActivityParts,
}

phase! {
    /// Before phase 1: the budgets' burn-up (budgets::burn_up_of), read by budget_status and
    /// budget_daily.
    BurnUpPlans => BurnUp {
        grid: LazyFrame = "__budget_grid",
        chosen: LazyFrame = "__budget_chosen",
    }
}

phase! {
    /// Phase 1: receivables base, budgets, reconciliation and the signal families.
    Phase1Plans => Phase1 {
        aging_invoices: LazyFrame = schema::aging_invoices::TABLE,
        unapplied_credit: LazyFrame = schema::unapplied_credit::TABLE,
        /// aging_customers before the collections actions are added (phase 3).
        aging_base: LazyFrame = "__aging_base",
        budget_status: LazyFrame = schema::budget_status::TABLE,
        budget_daily: LazyFrame = schema::budget_daily::TABLE,
        reconciliation: LazyFrame = schema::reconciliation::TABLE,
        signals_usage: LazyFrame = "__signals_usage",
        signals_activity: LazyFrame = "__signals_activity",
        signals_identity: LazyFrame = "__signals_identity",
        signals_fraud: LazyFrame = "__signals_fraud",
    }
}

phase! {
    /// Phase 2: exposure and the payment signals (they read the receivables base).
    Phase2Plans => Phase2 {
        exposure: LazyFrame = schema::exposure::TABLE,
        signals_payment: LazyFrame = "__signals_payment",
    }
}

phase! {
    /// Phase 3: what depends on the risk scores, and the converted totals.
    Phase3Plans => Phase3 {
        budget_alerts: LazyFrame = schema::budget_alerts::TABLE,
        collections_actions: LazyFrame = schema::collections_actions::TABLE,
        aging_customers: LazyFrame = schema::aging_customers::TABLE,
        risk_review: LazyFrame = schema::risk_review::TABLE,
        /// With a reporting currency only.
        converted_totals: Option<LazyFrame> = schema::converted_totals::TABLE,
    }
}

/// The budgets' burn-up, collected before phase 1.
pub fn burn_up(
    inputs: &Inputs,
    usage: &UsageReductions,
    as_of: NaiveDate,
    config: &Config,
) -> BurnUpPlans {
    let [grid, chosen] = analysis::budgets::burn_up_of(
        usage.customer_days.clone(),
        inputs.budgets.clone(),
        inputs.fx_rates.clone(),
        as_of,
        config.reporting_currency.as_deref(),
        &config.budgets,
    );
    BurnUpPlans { grid, chosen }
}

/// Phase 1's plans.
pub fn phase1(
    inputs: &Inputs,
    usage: &UsageReductions,
    burn_up: &BurnUp,
    as_of: NaiveDate,
    config: &Config,
) -> Phase1Plans {
    let aging_invoices = analysis::aging::aging_invoices(
        inputs.invoices.clone(),
        inputs.payments.clone(),
        as_of,
        &config.aging,
    );
    let credit =
        analysis::aging::unapplied_credit(inputs.invoices.clone(), inputs.payments.clone(), as_of);
    let aging_base = analysis::aging::aging_customers(
        aging_invoices.clone(),
        credit.clone(),
        inputs.invoices.clone(),
        as_of,
        &config.aging,
    );
    Phase1Plans {
        aging_invoices,
        unapplied_credit: credit,
        aging_base,
        budget_status: analysis::budgets::budget_status_of(
            burn_up.grid.clone().lazy(),
            burn_up.chosen.clone().lazy(),
            as_of,
            &config.budgets,
        ),
        budget_daily: analysis::budgets::budget_daily_of(burn_up.grid.clone().lazy()),
        reconciliation: analysis::reconciliation::reconciliation(
            usage.customer_days.clone(),
            inputs.billed.clone(),
            inputs.invoices.clone(),
            as_of,
        ),
        signals_usage: usage_signals(inputs, usage, as_of, config),
        signals_activity: analysis::anomalies::activity::activity_signals_with(
            inputs.activity.clone(),
            usage.activity.history.clone(),
            inputs.audit_records.clone(),
            as_of,
            &config.anomalies,
        ),
        // linked_accounts and high_risk_country (the usage country from the summary).
        signals_identity: analysis::anomalies::linked::identity_signals(
            inputs.activity.clone(),
            Some(usage.activity.link_keys.clone()),
            inputs.customers.clone(),
            usage.summary.clone(),
            as_of,
            &config.anomalies,
        ),
        signals_fraud: analysis::anomalies::fraud_signals(
            inputs.fraud_events.clone(),
            as_of,
            &config.anomalies,
        ),
    }
}

/// The usage signals, from the summary and the two streamed parts, as signal strengths.
fn usage_signals(
    inputs: &Inputs,
    usage: &UsageReductions,
    as_of: NaiveDate,
    config: &Config,
) -> LazyFrame {
    let signals = &config.usage_signals;
    let from_summary = analysis::usage_signals::summary_signals(
        usage.summary.clone(),
        usage.gpu_daily.clone(),
        usage.usage_daily.clone(),
        inputs.customers.clone(),
        as_of,
        signals,
    );
    analysis::usage_signals::as_strength(
        analysis::usage_signals::sorted_signals(vec![from_summary, usage.round_the_clock.clone()]),
        signals,
    )
}

/// Phase 2's plans.
pub fn phase2(
    inputs: &Inputs,
    phase1: &Phase1,
    customer_days: LazyFrame,
    as_of: NaiveDate,
    config: &Config,
) -> Phase2Plans {
    let aging_base = phase1.aging_base.clone().lazy();
    Phase2Plans {
        exposure: analysis::exposure::exposure(
            aging_base.clone(),
            customer_days.clone(),
            inputs.invoices.clone(),
            phase1.budget_status.clone().lazy(),
            as_of,
        ),
        signals_payment: analysis::anomalies::payment_signals(
            customer_days,
            inputs.payments.clone(),
            inputs.invoices.clone(),
            inputs.customers.clone(),
            aging_base,
            as_of,
            &config.anomalies,
        ),
    }
}

/// The anomalies of every signal family, with the analysts' feedback (dispositions).
pub fn anomalies(
    inputs: &Inputs,
    phase1: &mut Phase1,
    signals_payment: DataFrame,
    as_of: NaiveDate,
) -> LazyFrame {
    let take = |df: &mut DataFrame| std::mem::take(df).lazy();
    analysis::anomalies::all_anomalies(
        vec![
            take(&mut phase1.signals_usage),
            take(&mut phase1.signals_activity),
            signals_payment.lazy(),
            take(&mut phase1.signals_fraud),
            take(&mut phase1.signals_identity),
        ],
        inputs.dispositions.clone(),
        as_of,
    )
}

/// The risk scores, from the anomalies and the exposure.
pub fn risk_scores(
    inputs: &Inputs,
    anomalies: &DataFrame,
    exposure: &DataFrame,
    as_of: NaiveDate,
    config: &Config,
) -> LazyFrame {
    analysis::risk::risk_scores(
        anomalies.clone().lazy(),
        inputs.customers.clone(),
        exposure.clone().lazy(),
        inputs.dispositions.clone(),
        as_of,
        &config.risk,
    )
}

/// Phase 3's plans.
pub fn phase3(
    inputs: &Inputs,
    phase1: &Phase1,
    risk_scores: &DataFrame,
    as_of: NaiveDate,
    config: &Config,
) -> Phase3Plans {
    let aging_base = phase1.aging_base.clone().lazy();
    let collections = analysis::collections::collections_actions(
        phase1.aging_invoices.clone().lazy(),
        aging_base.clone(),
        inputs.customers.clone(),
        Some(analysis::risk::risk_tiers(risk_scores.clone().lazy())),
        &config.collections,
    );
    let aging_customers = analysis::collections::with_actions(aging_base, collections.clone());
    let converted_totals = config.reporting_currency.as_deref().map(|cur| {
        let rates = analysis::fx::rates_at(inputs.fx_rates.clone(), as_of, cur);
        analysis::aging::converted_totals(aging_customers.clone(), rates, cur)
    });
    Phase3Plans {
        budget_alerts: analysis::budgets::budget_alerts(
            phase1.budget_status.clone().lazy(),
            inputs.customers.clone(),
        ),
        collections_actions: collections,
        aging_customers,
        risk_review: analysis::risk::risk_review(
            risk_scores.clone().lazy(),
            config.report.review_min_tier,
        ),
        converted_totals,
    }
}
