//! Partner Center fraud events (SPEC 4.4, family `fraud`): one anomaly per Azure fraud
//! notification raised by A. Open events (Active, Investigating, or any status Partner Center
//! adds later) score by severity; an event resolved as Fraud scores strongest; an event resolved
//! for any other reason (Ignore) stays in the table for the audit trail but is suppressed, so it
//! never counts in a risk score. An event listed more than once (several exports) counts once,
//! with its latest state.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{count_text, date_lit, date_text, to_anomalies, AnomalyConfig};
use crate::analysis::reasons::{FAMILY_FRAUD, FRAUD_EVENT};
use crate::schema::{anomalies as an, fraud_events as fe};

/// Every fraud-family anomaly, in the anomalies schema (not yet sorted).
pub fn fraud_signals(fraud_events: LazyFrame, as_of: NaiveDate, cfg: &AnomalyConfig) -> LazyFrame {
    const STATUS: &str = "_status";
    const RESOLVED: &str = "_resolved_reason";
    const SEVERITY: &str = "_severity";
    let resolved = col(STATUS).eq(lit("resolved"));
    let confirmed = resolved.clone().and(col(RESOLVED).eq(lit("fraud")));
    let by_severity = when(col(SEVERITY).eq(lit("high")))
        .then(lit(cfg.fraud_score_high))
        .when(col(SEVERITY).eq(lit("low")))
        .then(lit(cfg.fraud_score_low))
        .otherwise(lit(cfg.fraud_score_medium));
    let state = when(confirmed.clone())
        .then(lit("resolved by Partner Center as fraud"))
        .when(resolved.clone())
        .then(concat_str(
            [
                lit("resolved by Partner Center as "),
                col(fe::RESOLVED_REASON).fill_null(lit("not fraud")),
            ],
            "",
            false,
        ))
        .otherwise(col(fe::EVENT_STATUS).fill_null(lit("status unknown")));
    const KEY: &str = "_event_key";
    let events = fraud_events
        .filter(
            col(fe::CUSTOMER_ID)
                .is_not_null()
                .and(col(fe::EVENT_TIME).dt().date().lt_eq(date_lit(as_of))),
        )
        .sort(
            [fe::EVENT_TIME, fe::SOURCE_FILE, fe::SOURCE_LINE],
            SortMultipleOptions::default()
                .with_order_descending(true)
                .with_maintain_order(true),
        )
        // Events without an id are each their own event.
        .with_column(
            coalesce(&[
                col(fe::EVENT_ID),
                concat_str(
                    [col(fe::SOURCE_FILE), col(fe::SOURCE_LINE).cast(DataType::String)],
                    ":",
                    true,
                ),
            ])
            .alias(KEY),
        )
        .unique_stable(
            Some(cols([fe::CUSTOMER_ID, KEY])),
            UniqueKeepStrategy::First,
        )
        .with_columns([
            col(fe::EVENT_STATUS).str().to_lowercase().alias(STATUS),
            col(fe::RESOLVED_REASON).str().to_lowercase().alias(RESOLVED),
            col(fe::SEVERITY).str().to_lowercase().alias(SEVERITY),
        ])
        .with_columns([
            lit(FAMILY_FRAUD).alias(an::FAMILY),
            lit(FRAUD_EVENT).alias(an::SIGNAL),
            coalesce(&[
                col(fe::ENTITY_NAME),
                col(fe::SUBSCRIPTION_ID),
                col(fe::EVENT_ID),
            ])
            .alias(an::ENTITY),
            col(fe::EVENT_TIME).dt().date().alias(an::DATE),
            col(fe::HIT_COUNT).cast(DataType::Float64).alias(an::ACTUAL),
            lit(NULL).cast(DataType::Float64).alias(an::EXPECTED),
            when(confirmed)
                .then(lit(cfg.fraud_score_confirmed))
                .otherwise(by_severity)
                .alias(an::SCORE),
            concat_str(
                [
                    lit("Partner Center fraud alert "),
                    col(fe::EVENT_TYPE).fill_null(lit("(type not given)")),
                    lit(" ("),
                    col(fe::SEVERITY).fill_null(lit("unknown")),
                    lit(" severity, "),
                    state,
                    lit(") on "),
                    coalesce(&[
                        col(fe::ENTITY_NAME),
                        col(fe::SUBSCRIPTION_ID),
                        lit("the customer"),
                    ]),
                    lit(", "),
                    when(col(fe::HIT_COUNT).is_null())
                        .then(lit("hits not given"))
                        .otherwise(concat_str(
                            [count_text(col(fe::HIT_COUNT)), lit(" hit(s)")],
                            "",
                            false,
                        )),
                    lit(", raised on "),
                    date_text(col(fe::EVENT_TIME).dt().date()),
                ],
                "",
                false,
            )
            .alias(an::REASON),
            resolved
                .and(col(RESOLVED).neq(lit("fraud")).fill_null(lit(true)))
                .alias(an::SUPPRESSED),
        ]);
    to_anomalies(events)
}
