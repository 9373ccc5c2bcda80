//! The action lists people act on (SPEC section 5, actions/*.csv) are output tables built by the
//! analyses (collections_actions, budget_alerts, risk_review, each already in working order);
//! this module writes them with `render_csv`, as CSV that is safe to open in a spreadsheet.
//!
//! Formula neutralisation rule (`neutralise`): a spreadsheet runs a cell as a formula when it
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return. Cells of numeric columns (integer,
//! float, decimal) are numbers we printed and are never touched, so `-12.50` stays a number. A
//! cell of any other column that starts with one of those characters gets a leading `'` unless
//! the whole cell is a plain decimal number (`-12.50`, `+3`), which no spreadsheet runs as code.

use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};

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
    let csv_err = |e: ::csv::Error| Error::internal("writing an action CSV", e);
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
        .map_err(|e| Error::internal("writing an action CSV", e))?;
    String::from_utf8(bytes).map_err(|e| Error::internal("an action CSV, not UTF-8", e))
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
}
