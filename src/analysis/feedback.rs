//! Analyst feedback (SPEC 4.5): applies the dispositions table to the anomalies table. A
//! disposition names a customer, a reason_code that is a signal code, a family or `*`, a verdict
//! and a valid_until date. A `legitimate` or `planned` verdict suppresses the customer's matching
//! anomalies while A <= valid_until (an empty valid_until never expires): the rows stay in the
//! anomalies table with suppressed = true, so the audit trail is complete, and risk.rs leaves them
//! out of the score. A `fraud` verdict (valid on the same terms) makes the customer critical in
//! risk.rs. Matching follows `reasons::disposition_matches`, as Polars expressions.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::anomalies::{date_lit, to_anomalies};
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
            col(di::CUSTOMER_ID)
                .is_not_null()
                .and(wanted)
                .and(
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
    let active = valid_dispositions(
        dispositions,
        as_of,
        &[VERDICT_LEGITIMATE, VERDICT_PLANNED],
    )
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
