//! Analyst feedback (SPEC 4.5): applies the dispositions table to the anomalies table. A
//! disposition names a customer, a reason_code that is a signal code, a family or `*`, a verdict
//! and a valid_until date. A `legitimate` or `planned` verdict suppresses the customer's matching
//! anomalies while A <= valid_until (an empty valid_until never expires): the rows stay in the
//! anomalies table with suppressed = true, so the audit trail is complete, and risk.rs leaves them
//! out of the score. A `fraud` verdict (valid on the same terms) makes the customer critical in
//! risk.rs. Matching follows `reasons::disposition_matches`, as Polars expressions.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::anomalies::table::{date_lit, to_anomalies};
use crate::schema::{anomalies as an, dispositions as di};

pub const VERDICT_LEGITIMATE: &str = "legitimate";
pub const VERDICT_PLANNED: &str = "planned";
pub const VERDICT_FRAUD: &str = "fraud";

/// Working column: the disposition's reason_code, trimmed and lower-case.
pub(crate) const CODE: &str = "_code";

/// Dispositions with one of `verdicts` (compared case-insensitively) that are still valid at A:
/// customer_id, `CODE`, and the disposition's other columns.
pub(crate) fn valid_dispositions(
    dispositions: LazyFrame,
    as_of: NaiveDate,
    verdicts: &[&str],
) -> LazyFrame {
    let verdict = col(di::VERDICT)
        .str()
        .strip_chars(lit(NULL))
        .str()
        .to_lowercase();
    let wanted = verdicts
        .iter()
        .map(|v| verdict.clone().eq(lit(*v)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    dispositions
        .filter(
            col(di::CUSTOMER_ID).is_not_null().and(wanted).and(
                col(di::VALID_UNTIL)
                    .is_null()
                    .or(col(di::VALID_UNTIL).gt_eq(date_lit(as_of))),
            ),
        )
        .with_column(
            col(di::REASON_CODE)
                .str()
                .strip_chars(lit(NULL))
                .str()
                .to_lowercase()
                .alias(CODE),
        )
}

/// The anomalies with `suppressed` set where a valid legitimate or planned disposition matches
/// (rows already suppressed stay so), in their input order.
pub fn apply_dispositions(
    anomalies: LazyFrame,
    dispositions: LazyFrame,
    as_of: NaiveDate,
) -> LazyFrame {
    const ROW: &str = "_row";
    const HIT: &str = "_hit";
    let active = valid_dispositions(dispositions, as_of, &[VERDICT_LEGITIMATE, VERDICT_PLANNED])
        .select([col(di::CUSTOMER_ID), col(CODE)]);
    let indexed = anomalies.with_row_index(ROW, None);
    let hits = indexed
        .clone()
        .select([
            col(ROW),
            col(an::CUSTOMER_ID),
            col(an::FAMILY),
            col(an::SIGNAL),
        ])
        .join(
            active,
            [col(an::CUSTOMER_ID)],
            [col(di::CUSTOMER_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col(CODE)
                .eq(lit("*"))
                .or(col(CODE).eq(col(an::SIGNAL)))
                .or(col(CODE).eq(col(an::FAMILY))),
        )
        .select([col(ROW)])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(lit(true).alias(HIT));
    let marked = indexed
        .join(hits, [col(ROW)], [col(ROW)], JoinArgs::new(JoinType::Left))
        .with_column(
            col(an::SUPPRESSED)
                .fill_null(lit(false))
                .or(col(HIT).fill_null(lit(false)))
                .alias(an::SUPPRESSED),
        )
        .sort([ROW], SortMultipleOptions::default());
    to_anomalies(marked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bools, d, frame, strs};

    pub(crate) fn anomalies(rows: &[(&str, &str, &str, f64, bool)]) -> LazyFrame {
        let df = df!(
            an::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            an::FAMILY => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            an::SIGNAL => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            an::DATE => rows.iter().map(|_| "2026-10-14").collect::<Vec<_>>(),
            an::ENTITY => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            an::SCORE => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            an::REASON => rows.iter().map(|r| format!("{} of {}", r.2, r.0)).collect::<Vec<_>>(),
            an::SUPPRESSED => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&an::DEF, df)
    }

    pub(crate) fn dispositions(rows: &[(&str, &str, &str, Option<&str>)]) -> LazyFrame {
        let df = df!(
            di::CUSTOMER_ID => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            di::REASON_CODE => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            di::VERDICT => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            di::VALID_UNTIL => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            di::ANALYST => rows.iter().map(|_| "ann").collect::<Vec<_>>(),
            di::NOTE => rows.iter().map(|_| "checked").collect::<Vec<_>>(),
        )
        .unwrap();
        frame(&di::DEF, df)
    }

    #[test]
    fn dispositions_suppress_by_code_family_and_star_until_valid_until() {
        let rows = [
            ("c1", "usage", "usage_spike", 1.0, false),
            ("c1", "usage", "new_meter", 1.0, false),
            ("c1", "activity", "new_ip", 1.0, false),
            ("c1", "payment", "prepaid_instrument", 1.0, false),
            ("c2", "activity", "new_ip", 1.0, false),
            ("c3", "payment", "unverified", 1.0, false),
            ("c3", "fraud", "fraud_event", 1.0, false),
            ("c4", "fraud", "fraud_event", 1.5, true),
        ];
        let disp = dispositions(&[
            // By code, valid to the end of the month.
            ("c1", "usage_spike", "legitimate", Some("2026-10-31")),
            // By family, valid through A itself (A <= valid_until), written loosely.
            ("c1", " Activity ", "Planned", Some("2026-10-14")),
            // Expired the day before A: suppresses nothing.
            ("c2", "*", "legitimate", Some("2026-10-13")),
            // `*` without an end date: everything of c3.
            ("c3", "*", "legitimate", None),
            // A fraud verdict never suppresses.
            ("c1", "payment", "fraud", None),
        ]);
        let out = apply_dispositions(anomalies(&rows), disp, d(2026, 10, 14))
            .collect()
            .unwrap();
        // Every row stays, in order; c4's row was suppressed already (resolved as Ignore).
        assert_eq!(
            strs(&out, an::CUSTOMER_ID),
            ["c1", "c1", "c1", "c1", "c2", "c3", "c3", "c4"]
        );
        assert_eq!(
            bools(&out, an::SUPPRESSED),
            [true, false, true, false, false, true, true, true]
        );
        assert_eq!(out.schema().as_ref(), &an::DEF.schema());
    }

    #[test]
    fn all_anomalies_marks_and_sorts() {
        let a = anomalies(&[("c2", "activity", "new_ip", 1.0, false)]);
        let b = anomalies(&[
            ("c1", "payment", "unverified", 1.0, false),
            ("c1", "activity", "new_ip", 1.0, false),
        ]);
        let disp = dispositions(&[("c1", "new_ip", "legitimate", Some("2026-12-31"))]);
        let out = crate::analysis::anomalies::all_anomalies(vec![a, b], disp, d(2026, 10, 14))
            .collect()
            .unwrap();
        assert_eq!(strs(&out, an::CUSTOMER_ID), ["c1", "c1", "c2"]);
        assert_eq!(strs(&out, an::SIGNAL), ["new_ip", "unverified", "new_ip"]);
        assert_eq!(bools(&out, an::SUPPRESSED), [true, false, false]);
    }
}
