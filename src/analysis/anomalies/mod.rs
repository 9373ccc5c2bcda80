//! Anomaly signals of SPEC 4.4 (activity, payment and Partner Center fraud families; the usage
//! family in `usage/`), and the anomalies table that gathers every family. Each
//! signal becomes one row of the anomalies schema with its evidence: the entity it concerns, the
//! day, the observed figure (`actual`), what the customer's own history or the threshold makes
//! normal (`expected`), a `score` and a reason in words. Analysts' dispositions (feedback.rs) then
//! mark rows as suppressed without removing them.
//!
//! Layout: one module per family (`activity`, `payment`, `fraud`, `linked`, and `usage/` with a
//! file per usage signal); `evidence` formats the words and numbers of reasons; `table` builds the
//! anomalies table the families share; `config` is the `[anomalies]` section; `feedback` applies
//! the dispositions. The families import `config`, `evidence` and `table`, never this file, so the
//! modules form no cycle.
//!
//! The `score` of a row is the strength of its evidence: 1.0 is a clear case, just at the
//! threshold of its signal (binary signals such as `unverified` are 1.0); larger means stronger
//! (a burst 3 times its threshold scores 3.0). risk.rs caps it (`risk.max_strength`) before
//! weighting, so one extreme figure cannot dominate a score.
//!
//! Activity signals look at a recent window (`window_days` up to the as-of date A) and compare it
//! with the customer's own history (`history_days` before the window). Events dated after A never
//! count.

pub mod activity;
pub mod config;
pub mod evidence;
pub mod feedback;
pub mod fraud;
pub mod linked;
pub mod payment;
pub mod table;
pub mod usage;

use chrono::NaiveDate;
use polars::prelude::*;

pub use activity::activity_signals;
pub use fraud::fraud_signals;
pub use linked::{high_risk_country, linked_accounts};
pub use payment::payment_signals;

use crate::schema::anomalies as an;
pub use config::AnomalyConfig;
use feedback::apply_dispositions;
pub use table::empty_anomalies;
use table::union;

/// Every family's signals in one table: concatenated, dispositions applied (SPEC 4.5), sorted by
/// customer_id, family, signal, date, entity, reason, then the figures.
pub fn all_anomalies(
    parts: Vec<LazyFrame>,
    dispositions: LazyFrame,
    as_of: NaiveDate,
) -> LazyFrame {
    let all = union(parts);
    apply_dispositions(all, dispositions, as_of).sort(
        [
            an::CUSTOMER_ID,
            an::FAMILY,
            an::SIGNAL,
            an::DATE,
            an::ENTITY,
            an::REASON,
            an::SCORE,
            an::ACTUAL,
            an::EXPECTED,
        ],
        SortMultipleOptions::default()
            .with_nulls_last(true)
            .with_maintain_order(true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::number_text;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(number_text(1234567.891, 2), "1,234,567.89");
        assert_eq!(number_text(999.999, 2), "1,000.00");
        assert_eq!(number_text(-1500.0, 2), "-1,500.00");
        assert_eq!(number_text(-0.001, 2), "0.00");
        assert_eq!(number_text(42.0, 0), "42");
        assert_eq!(number_text(123456.0, 0), "123,456");
    }

    #[test]
    fn union_of_nothing_is_an_empty_anomalies_frame() {
        let df = all_anomalies(
            vec![],
            crate::schema::dispositions::DEF.empty().lazy(),
            NaiveDate::default(),
        )
        .collect()
        .unwrap();
        assert_eq!(df.height(), 0);
        assert_eq!(df.schema().as_ref(), &an::DEF.schema());
    }
}
