//! Partner Center fraud events (SPEC 4.4, family `fraud`): one anomaly per Azure fraud
//! notification raised by A. Open events (Active, Investigating, or any status Partner Center
//! adds later) score by severity; an event resolved as Fraud scores strongest; an event resolved
//! for any other reason (Ignore) stays in the table for the audit trail but is suppressed, so it
//! never counts in a risk score. An event listed more than once (several exports) counts once,
//! with its latest state.

use chrono::NaiveDate;
use polars::prelude::*;

use super::config::AnomalyConfig;
use super::evidence::{count_text, date_text};
use super::table::{date_lit, to_anomalies};
use crate::analysis::reasons::{FAMILY_FRAUD, FRAUD_EVENT};
use crate::schema::{anomalies as an, fraud_events as fe};

/// Every fraud-family anomaly, in the anomalies schema (not yet sorted).
pub fn fraud_signals(fraud_events: LazyFrame, as_of: NaiveDate, cfg: &AnomalyConfig) -> LazyFrame {
    const STATUS: &str = "_status";
    const RESOLVED: &str = "_resolved_reason";
    const SEVERITY: &str = "_severity";
    // An event without its time is dated by its first occurrence.
    let event_day = coalesce(&[col(fe::EVENT_TIME), col(fe::FIRST_OCCURRENCE)])
        .dt()
        .date();
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
                .and(event_day.clone().lt_eq(date_lit(as_of))),
        )
        .sort(
            [fe::EVENT_TIME, fe::SOURCE_FILE, fe::SOURCE_LINE],
            SortMultipleOptions::default()
                .with_order_descending(true)
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        // Events without an id are each their own event.
        .with_column(
            coalesce(&[
                col(fe::EVENT_ID),
                concat_str(
                    [
                        col(fe::SOURCE_FILE),
                        col(fe::SOURCE_LINE).cast(DataType::String),
                    ],
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
            col(fe::RESOLVED_REASON)
                .str()
                .to_lowercase()
                .alias(RESOLVED),
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
            event_day.clone().alias(an::DATE),
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
                    date_text(event_day.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bools, d, f64s, frame, strs};

    #[test]
    fn fraud_events_score_by_status_and_severity() {
        let df = df!(
            fe::EVENT_TIME => ["2026-10-10", "2026-10-12", "2026-10-11", "2026-10-12", "2026-10-13", "2026-10-13", "2026-10-20"],
            fe::EVENT_ID => ["e1", "e1", "e2", "e3", "e4", "e5", "e6"],
            fe::CUSTOMER_ID => ["c1", "c1", "c1", "c2", "c3", "c4", "c4"],
            fe::ENTITY_NAME => [Some("vm-miner"), Some("vm-miner"), None, None, None, None, None],
            fe::SUBSCRIPTION_ID => ["sub-1", "sub-1", "sub-2", "sub-3", "sub-4", "sub-5", "sub-5"],
            fe::HIT_COUNT => [Some(3i64), Some(12), None, Some(1), Some(2), Some(1), Some(1)],
            fe::EVENT_STATUS => ["Active", "Resolved", "Investigating", "Active", "Resolved", "New", "Active"],
            fe::RESOLVED_REASON => [None, Some("Fraud"), None, None, Some("Ignore"), None, None],
            fe::EVENT_TYPE => ["NetworkConnectionsToCryptoMiningPools", "NetworkConnectionsToCryptoMiningPools", "UsageAnomalyDetection", "VirtualMachineDeploymentAnomaly", "UsageAnomalyDetection", "SomethingNew", "UsageAnomalyDetection"],
            fe::SEVERITY => [Some("High"), Some("High"), Some("Low"), Some("High"), Some("High"), None, Some("High")],
        )
        .unwrap();
        let out = fraud_signals(
            frame(&fe::DEF, df),
            d(2026, 10, 14),
            &AnomalyConfig::default(),
        )
        .sort([an::CUSTOMER_ID, an::DATE], SortMultipleOptions::default())
        .collect()
        .unwrap();
        // e1 listed twice: its latest state (Resolved as Fraud on 10-12) counts, score 2.0.
        // e2 Investigating, Low: 0.5. e3 Active, High: 1.5. e4 Resolved as Ignore: kept,
        // suppressed. e5 unknown status and severity: medium, 1.0. e6 is after A.
        assert_eq!(strs(&out, an::CUSTOMER_ID), ["c1", "c1", "c2", "c3", "c4"]);
        assert_eq!(
            strs(&out, an::DATE),
            [
                "2026-10-11",
                "2026-10-12",
                "2026-10-12",
                "2026-10-13",
                "2026-10-13"
            ]
        );
        assert_eq!(f64s(&out, an::SCORE), [0.5, 2.0, 1.5, 1.5, 1.0]);
        assert_eq!(
            bools(&out, an::SUPPRESSED),
            [false, false, false, true, false]
        );
        assert_eq!(
            strs(&out, an::ENTITY),
            ["sub-2", "vm-miner", "sub-3", "sub-4", "sub-5"]
        );
        assert!(strs(&out, an::SIGNAL).iter().all(|s| s == "fraud_event"));
        assert_eq!(
            strs(&out, an::REASON)[1],
            "Partner Center fraud alert NetworkConnectionsToCryptoMiningPools (High severity, resolved by Partner Center as fraud) on vm-miner, 12 hit(s), raised on 2026-10-12"
        );
        assert_eq!(
            strs(&out, an::REASON)[3],
            "Partner Center fraud alert UsageAnomalyDetection (High severity, resolved by Partner Center as Ignore) on sub-4, 2 hit(s), raised on 2026-10-13"
        );
    }
}
