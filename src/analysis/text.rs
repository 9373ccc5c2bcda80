//! Tests of text values for the analyses that read every usage line, as Rust functions of each
//! value: Polars' `to_lowercase().contains(..)` or a regex `extract` build a lowered copy or run
//! a regex for each of ten million lines, to answer a question about a few distinct units and
//! meter categories.

use polars::prelude::*;

use crate::ingest::read::convert::per_text_value as per_value;
pub use crate::ingest::read::convert::{eq_ignore_case, lowercase};

/// Whether `needle` (lower-case ASCII) occurs in `s` ignoring case: the same answer as
/// `s.to_lowercase().contains(needle)`, without the copy for ASCII text.
pub fn contains_ignore_case(s: &str, needle: &str) -> bool {
    if s.is_ascii() {
        s.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    } else {
        s.to_lowercase().contains(needle)
    }
}

/// The whole number a text starts with after leading white space ("10 Hours" -> 10), as the
/// regex `^\s*([0-9]+)` extracts it; None without one.
pub fn leading_number(s: &str) -> Option<f64> {
    let t = s.trim_start();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        None
    } else {
        t[..digits].parse().ok()
    }
}

/// A Boolean of each value of a text expression (null stays null).
pub fn test(e: Expr, f: fn(&str) -> bool) -> Expr {
    per_value::<bool, BooleanChunked>(e, DataType::Boolean, move |s| Some(f(s)))
}

/// A Float64 of each value of a text expression (null, or None, gives null).
pub fn number(e: Expr, f: fn(&str) -> Option<f64>) -> Expr {
    per_value::<f64, Float64Chunked>(e, DataType::Float64, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answers_as_lower_casing_and_the_regex_would() {
        for s in [
            "1 Hour", "10 HOURS", "GB/Month", "", "hours", "Stunde", "ÉHOUR", "hou",
        ] {
            let lower = s.to_lowercase();
            assert_eq!(
                contains_ignore_case(s, "hour"),
                lower.contains("hour"),
                "{s}"
            );
            assert_eq!(eq_ignore_case(s, "hours"), lower == "hours", "{s}");
        }
        assert!(eq_ignore_case("Virtual Machines", "virtual machines"));
        assert!(!eq_ignore_case(
            "Virtual Machines Licenses",
            "virtual machines"
        ));
        assert_eq!(leading_number("10 Hours"), Some(10.0));
        assert_eq!(leading_number("  100/Month"), Some(100.0));
        assert_eq!(leading_number("\t7"), Some(7.0));
        assert_eq!(leading_number("Hours 10"), None);
        assert_eq!(leading_number("-5 Hours"), None);
        assert_eq!(leading_number(""), None);
    }

    #[test]
    fn the_expressions_keep_nulls() {
        let df = df!("u" => [Some("1 Hour"), None, Some("10 Hours"), Some("GB")])
            .unwrap()
            .lazy()
            .select([
                test(col("u"), |s| contains_ignore_case(s, "hour")).alias("h"),
                number(col("u"), leading_number).alias("n"),
                lowercase(col("u")).alias("l"),
            ])
            .collect()
            .unwrap();
        let h: Vec<Option<bool>> = df.column("h").unwrap().bool().unwrap().iter().collect();
        assert_eq!(h, [Some(true), None, Some(true), Some(false)]);
        let n: Vec<Option<f64>> = df.column("n").unwrap().f64().unwrap().iter().collect();
        assert_eq!(n, [Some(1.0), None, Some(10.0), None]);
        let l: Vec<Option<&str>> = df.column("l").unwrap().str().unwrap().iter().collect();
        assert_eq!(l, [Some("1 hour"), None, Some("10 hours"), Some("gb")]);
    }
}
