//! How the report reads cells out of collected frames and writes figures as text: exact money
//! (Decimal ledger columns and Float64 estimates alike, as integer ten-thousandths), thousands
//! separators, dates, and the escaping of input text for HTML and Markdown. Every renderer goes
//! through these functions, so a customer name is escaped the same way everywhere.
//!
//! Columns are looked up by name (never by position). A column missing from an empty frame reads
//! as no values (an absent optional source); missing from a frame with rows it is a bug upstream
//! and an internal error.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};

/// Money is carried as integer units of 1/10,000 (the ledger's Decimal(38, 4) scale), so sums of
/// ledger columns are exact and Float64 estimates share the same formatting.
pub const MONEY_SCALE: i128 = 10_000;

fn column<'a>(df: &'a DataFrame, name: &str) -> Result<Option<&'a Column>> {
    match df.column(name) {
        Ok(c) => Ok(Some(c)),
        Err(_) if df.height() == 0 => Ok(None),
        Err(_) => Err(Error::Internal(format!(
            "report: a table with {} rows lacks column {name}; found [{}]",
            df.height(),
            df.get_column_names()
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A text column as owned strings (other dtypes are cast to their text form).
pub fn strings(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let Some(c) = column(df, name)? else {
        return Ok(Vec::new());
    };
    let c = c
        .cast(&DataType::String)
        .stage("report: read text column")?;
    let ca = c.str().stage("report: read text column")?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

/// A numeric column as f64 (Decimal is converted for display only).
pub fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let Some(c) = column(df, name)? else {
        return Ok(Vec::new());
    };
    let c = c
        .cast(&DataType::Float64)
        .stage("report: read number column")?;
    let ca = c.f64().stage("report: read number column")?;
    Ok(ca.iter().collect())
}

/// An integer column as i64.
pub fn ints(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    let Some(c) = column(df, name)? else {
        return Ok(Vec::new());
    };
    let c = c
        .cast(&DataType::Int64)
        .stage("report: read integer column")?;
    let ca = c.i64().stage("report: read integer column")?;
    Ok(ca.iter().collect())
}

/// A boolean column.
pub fn bools(df: &DataFrame, name: &str) -> Result<Vec<Option<bool>>> {
    let Some(c) = column(df, name)? else {
        return Ok(Vec::new());
    };
    let c = c
        .cast(&DataType::Boolean)
        .stage("report: read boolean column")?;
    let ca = c.bool().stage("report: read boolean column")?;
    Ok(ca.iter().collect())
}

/// A Date column.
pub fn dates(df: &DataFrame, name: &str) -> Result<Vec<Option<NaiveDate>>> {
    let Some(c) = column(df, name)? else {
        return Ok(Vec::new());
    };
    let c = c.cast(&DataType::Date).stage("report: read date column")?;
    let ca = c.date().stage("report: read date column")?;
    Ok(ca
        .physical()
        .iter()
        .map(|d| d.and_then(date_from_days))
        .collect())
}

/// Days since 1970-01-01 to a date.
pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(days as i64))
}

/// A date to days since 1970-01-01.
pub fn days_from_date(d: NaiveDate) -> i64 {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .map(|e| (d - e).num_days())
        .unwrap_or(0)
}

/// A money column as exact units of 1/10,000. Decimal columns are rescaled exactly (through their
/// Int128 physical values); Float64 columns are rounded to the nearest unit, which is exact for
/// every figure a person reads and documents that usage money is an estimate.
pub fn money(df: &DataFrame, name: &str) -> Result<Vec<Option<i128>>> {
    let Some(c) = column(df, name)? else {
        return Ok(Vec::new());
    };
    if c.dtype().is_decimal() {
        let c = c
            .cast(&DataType::Decimal(38, 4))
            .stage("report: read ledger money")?;
        let ca = c.decimal().stage("report: read ledger money")?;
        return Ok(ca.physical().iter().collect());
    }
    let c = c.cast(&DataType::Float64).stage("report: read money")?;
    let ca = c.f64().stage("report: read money")?;
    Ok(ca.iter().map(|v| v.and_then(float_to_units)).collect())
}

/// A float amount to units of 1/10,000; None for NaN and infinities.
pub fn float_to_units(v: f64) -> Option<i128> {
    let u = (v * MONEY_SCALE as f64).round();
    if u.is_finite() && u.abs() < 1e30 {
        Some(u as i128)
    } else {
        None
    }
}

/// Units to cents, rounding half away from zero (finance's rounding).
fn units_to_cents(units: i128) -> i128 {
    let half = MONEY_SCALE / 200;
    let c = (units.abs() + half) / (MONEY_SCALE / 100);
    if units < 0 {
        -c
    } else {
        c
    }
}

/// Money for machines: `-1234.56` (2 decimals, no separators).
pub fn money_plain(units: i128) -> String {
    let cents = units_to_cents(units);
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Money for people: `-1,234.56` (the ledger's own formatter, half-cents away from zero).
pub fn money_text(units: i128) -> String {
    crate::analysis::format_money(units, crate::schema::LEDGER_SCALE)
}

/// A float with `decimals` decimals and thousands separators: `12,345.7`; "n/a" when not finite.
pub fn number_text(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    crate::analysis::number_text(v, decimals)
}

/// A non-negative integer with thousands separators.
pub fn thousands(n: i128) -> String {
    let digits = n.abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Escapes text for HTML element content, attribute values and SVG text alike.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not valid in HTML text.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown table cell: backslash-escapes the characters that would end the
/// cell (`|`), open raw HTML (`<`, `>`), links and images (`[`, `]`), code spans (`` ` ``) and
/// the backslash itself; line breaks become spaces so a row stays one line. Emphasis characters
/// are left alone: they cannot hide or inject anything, and escaping them would clutter ids.
pub fn escape_md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '\\' | '|' | '<' | '>' | '[' | ']' | '`' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_half_away_from_zero() {
        // 1234.5650 -> 1,234.57; -0.0050 -> -0.01; 0.0049 -> 0.00
        assert_eq!(money_text(12_345_650), "1,234.57");
        assert_eq!(money_text(-50), "-0.01");
        assert_eq!(money_text(49), "0.00");
        assert_eq!(money_plain(-12_345_678_900), "-1234567.89");
        assert_eq!(money_text(1_000_000_000_000), "100,000,000.00");
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(number_text(1234567.891, 1), "1,234,567.9");
        assert_eq!(number_text(-0.04, 1), "0.0");
        assert_eq!(number_text(-999.0, 0), "-999");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn decimal_money_is_read_exactly() {
        let df = df!("m" => ["0.1000", "0.2000", "12345678901234.5678"])
            .unwrap()
            .lazy()
            .select([col("m").cast(crate::schema::ledger_money())])
            .collect()
            .unwrap();
        let m = money(&df, "m").unwrap();
        // 0.1 + 0.2 is exactly 0.3 in units: 1000 + 2000 = 3000.
        assert_eq!(m[0].unwrap() + m[1].unwrap(), 3000);
        assert_eq!(m[2], Some(123_456_789_012_345_678));
    }

    #[test]
    fn missing_column_of_empty_frame_reads_empty() {
        let df = DataFrame::empty();
        assert!(strings(&df, "x").unwrap().is_empty());
        let df = df!("a" => [1i64]).unwrap();
        assert!(strings(&df, "x").is_err());
    }

    proptest::proptest! {
        #[test]
        fn escaped_html_has_no_markup_characters(s in "\\PC*") {
            let e = escape_html(&s);
            proptest::prop_assert!(!e.contains(['<', '>', '"', '\'']));
            // Every & starts an entity we wrote.
            for (i, _) in e.match_indices('&') {
                let rest = &e[i..];
                proptest::prop_assert!(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|x| rest.starts_with(x)));
            }
        }

        #[test]
        fn escaped_markdown_cell_stays_one_cell(s in "\\PC*") {
            let e = escape_md(&s);
            proptest::prop_assert!(!e.contains('\n'));
            // Every | is escaped: no odd run of backslashes missing before it.
            let b = e.as_bytes();
            for (i, _) in e.match_indices('|') {
                let mut n = 0;
                while i > n && b[i - n - 1] == b'\\' {
                    n += 1;
                }
                proptest::prop_assert!(n % 2 == 1, "unescaped | in {e:?}");
            }
        }
    }

    #[test]
    fn html_and_markdown_escaping() {
        assert_eq!(
            escape_html("<script>alert('1')</script> & \"x\""),
            "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; &quot;x&quot;"
        );
        assert_eq!(
            escape_md("a|b <i>[x](y)</i>\nz"),
            "a\\|b \\<i\\>\\[x\\](y)\\</i\\> z"
        );
    }
}
