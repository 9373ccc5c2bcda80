//! The action lists people act on (SPEC section 5, actions/*.csv): collections (the ladder's
//! customers, hardest action first) and risk_review (customers at or above a risk tier, with
//! their reasons); budget_alerts is built beside the budgets (`analysis::budgets::budget_alerts`).
//! And `render_csv`, which writes any of them as a CSV that is safe to open in a spreadsheet.
//!
//! The builders are lazy (output tables in, LazyFrame out) so the pipeline collects them with
//! everything else. Their columns are the source tables' columns, named by the schema constants.
//!
//! Formula neutralisation rule (`neutralise`): a spreadsheet runs a cell as a formula when it
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return. Cells of numeric columns (integer,
//! float, decimal) are numbers we printed and are never touched, so `-12.50` stays a number. A
//! cell of any other column that starts with one of those characters gets a leading `'` unless
//! the whole cell is a plain decimal number (`-12.50`, `+3`), which no spreadsheet runs as code.

use polars::prelude::*;

use super::{ACTIONS, TIERS};
use crate::error::{Error, PolarsContext, Result};
use crate::schema::{collections_actions as ca, risk_scores as rs};

/// The collections ladder as an action list: hardest action first, then the largest past-due
/// amount, then customer and currency (deterministic).
pub fn collections(collections_actions: LazyFrame) -> LazyFrame {
    collections_actions
        .with_column(rank_expr(ca::ACTION, &ACTIONS).alias(RANK))
        .sort_by_exprs(
            [
                col(RANK),
                col(ca::PAST_DUE),
                col(ca::CUSTOMER_ID),
                col(ca::CURRENCY),
            ],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, true, false, false])
                .with_nulls_last(true),
        )
        .drop(cols([RANK]))
}

const RANK: &str = "__rank";

/// Position of the column's value in `order` (unknown values rank after all known ones).
fn rank_expr(column: &str, order: &[&str]) -> Expr {
    order
        .iter()
        .enumerate()
        .rev()
        .fold(lit(order.len() as i32), |rest, (i, v)| {
            when(col(column).eq(lit(*v)))
                .then(lit(i as i32))
                .otherwise(rest)
        })
}

/// Columns of risk_review, in order.
pub fn risk_review_schema() -> Schema {
    let src = rs::DEF.schema();
    [
        rs::CUSTOMER_ID,
        rs::CUSTOMER_NAME,
        rs::TIER,
        rs::RISK_SCORE,
        rs::EXPOSURE,
        rs::CURRENCY,
        rs::TOP_REASONS,
        rs::USAGE,
        rs::ACTIVITY,
        rs::PAYMENT,
        rs::FRAUD,
    ]
    .into_iter()
    .filter_map(|n| src.get(n).map(|dt| Field::new(n.into(), dt.clone())))
    .collect()
}

/// Customers at or above `min_tier` (low, medium, high, critical), highest score first.
pub fn risk_review(risk_scores: LazyFrame, min_tier: &str) -> Result<LazyFrame> {
    let from = TIERS
        .iter()
        .position(|t| *t == min_tier)
        .ok_or_else(|| Error::Config {
            origin: "report.review_min_tier".to_string(),
            message: format!("expected one of {}, found {min_tier:?}", TIERS.join(", ")),
        })?;
    let wanted = TIERS[from..]
        .iter()
        .map(|t| col(rs::TIER).eq(lit(*t)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let columns: Vec<Expr> = risk_review_schema()
        .iter_names()
        .map(|n| col(n.clone()))
        .collect();
    Ok(risk_scores
        .filter(wanted)
        .sort_by_exprs(
            [col(rs::RISK_SCORE), col(rs::CUSTOMER_ID)],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .select(columns))
}

/// Whether the whole cell is a plain decimal number: optional sign, digits, optional fraction.
fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Neutralises one text cell against formula injection (rule in the module comment).
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !is_plain_number(cell) => {
            std::borrow::Cow::Owned(format!("'{cell}"))
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// A frame as CSV text: a header row, then one row per frame row, quoted where needed (RFC 4180),
/// dates ISO, Decimal money in its exact text form, nulls empty, text cells neutralised.
pub fn render_csv(df: &DataFrame) -> Result<String> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let csv_err = |e: ::csv::Error| Error::Internal(format!("writing an action CSV: {e}"));
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| neutralise(n.as_str()).into_owned())
        .collect();
    writer.write_record(&names).map_err(csv_err)?;
    let mut columns = Vec::with_capacity(df.width());
    for c in df.columns() {
        let numeric = c.dtype().is_primitive_numeric() || c.dtype().is_decimal();
        let text = c.cast(&DataType::String).stage("report: action CSV")?;
        columns.push((numeric, text));
    }
    let readers: Vec<(bool, &StringChunked)> = columns
        .iter()
        .map(|(n, c)| c.str().map(|s| (*n, s)))
        .collect::<PolarsResult<_>>()
        .stage("report: action CSV")?;
    let mut record: Vec<String> = Vec::with_capacity(df.width());
    for i in 0..df.height() {
        record.clear();
        for (numeric, ca) in &readers {
            let cell = ca.get(i).unwrap_or("");
            record.push(if *numeric {
                cell.to_string()
            } else {
                neutralise(cell).into_owned()
            });
        }
        writer.write_record(&record).map_err(csv_err)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Internal(format!("writing an action CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(format!("action CSV is not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    #[test]
    fn neutralise_rule() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(neutralise("@SUM(1)"), "'@SUM(1)");
        assert_eq!(
            neutralise("-2+3+cmd|' /C calc'!A0"),
            "'-2+3+cmd|' /C calc'!A0"
        );
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("\rx"), "'\rx");
        // Plain numbers are not code, even in a text column.
        assert_eq!(neutralise("-12.50"), "-12.50");
        assert_eq!(neutralise("+3"), "+3");
        assert_eq!(neutralise("-"), "'-");
        assert_eq!(neutralise("Contoso"), "Contoso");
    }

    proptest::proptest! {
        #[test]
        fn neutralised_cells_never_start_a_formula(s in "\\PC*|[-+=@\t\r][ -~]{0,12}") {
            let n = neutralise(&s);
            let risky = n.starts_with(['=', '+', '-', '@', '\t', '\r']);
            proptest::prop_assert!(!risky || is_plain_number(&n), "{n:?}");
        }
    }

    #[test]
    fn csv_neutralises_text_and_keeps_negative_numbers() {
        let df = df!(
            "customer_name" => ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@SUM(1)", "a,\"b\""],
            "past_due" => ["-12.5000", "1.0000", "0.0000", "2.0000"],
            "score" => [-1.5f64, 2.0, 3.0, 4.0],
        )
        .unwrap()
        .lazy()
        .with_column(col("past_due").cast(schema::ledger_money()))
        .collect()
        .unwrap();
        let csv = render_csv(&df).unwrap();
        assert_eq!(
            csv,
            "customer_name,past_due,score\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",-12.5000,-1.5\n\
             '+cmd|' /C calc'!A0,1.0000,2.0\n\
             '@SUM(1),0.0000,3.0\n\
             \"a,\"\"b\"\"\",2.0000,4.0\n"
        );
    }

    #[test]
    fn risk_review_from_min_tier() {
        let scores = df!(
            rs::CUSTOMER_ID => ["a", "b", "c"],
            rs::CUSTOMER_NAME => ["A", "B", "C"],
            rs::RISK_SCORE => [90.0, 40.0, 70.0],
            rs::TIER => ["critical", "medium", "high"],
            rs::EXPOSURE => [1.0, 2.0, 3.0],
            rs::CURRENCY => ["USD"; 3],
            rs::TOP_REASONS => ["x", "y", "z"],
            rs::USAGE => [1.0, 0.0, 0.0],
            rs::ACTIVITY => [0.0; 3],
            rs::PAYMENT => [0.0; 3],
            rs::FRAUD => [0.0; 3],
        )
        .unwrap()
        .lazy();
        let out = risk_review(scores.clone(), "high")
            .unwrap()
            .collect()
            .unwrap();
        let ids: Vec<_> = out
            .column(rs::CUSTOMER_ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("a"), Some("c")]);
        assert!(risk_review(scores, "severe").is_err());
    }

    #[test]
    fn collections_hardest_action_first() {
        let df = df!(
            ca::CUSTOMER_ID => ["a", "b", "c"],
            ca::CUSTOMER_NAME => ["A", "B", "C"],
            ca::CURRENCY => ["USD"; 3],
            ca::PAST_DUE => ["10.0000", "5.0000", "7.0000"],
            ca::OLDEST_DAYS_PAST_DUE => [3i64, 50, 50],
            ca::ACTION => ["reminder", "suspend", "suspend"],
            ca::REASON => ["", "", ""],
        )
        .unwrap()
        .lazy()
        .with_column(col(ca::PAST_DUE).cast(schema::ledger_money()));
        let out = collections(df).collect().unwrap();
        let ids: Vec<_> = out
            .column(ca::CUSTOMER_ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("c"), Some("b"), Some("a")]);
        assert_eq!(out.width(), 7);
    }
}
