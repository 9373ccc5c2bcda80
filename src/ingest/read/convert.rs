//! From text to typed columns, row by row accounted for: every column of a file arrives as text,
//! is parsed by its `Kind`, and a row whose required or present value does not parse goes to
//! rejected_rows (file, line, the column as the file names it, expected and found) instead of the
//! canonical table. A value that parses but is out of the range billrisk can use is rejected the
//! same way: amounts and numbers beyond +-10^18, and in usage, billed and the ledger, dates outside
//! 1990-01-01..2100-12-31. Both come out of one lazy plan per file, so the orchestrator's
//! collect_all scans each file once for both.

use std::collections::HashMap;

use polars::prelude::*;

use super::columns::{ColumnSpec, Kind, Need};
use super::values;
use crate::schema::{self, rejected_rows as rj};

const REJECT_COLUMN: &str = "__reject_column";
const REJECT_REASON: &str = "__reject_reason";
const REJECTED: &str = "__rejected";
/// Longest found value quoted in a reason.
const MAX_FOUND: i64 = 120;

/// Largest amount or number accepted, in either sign: 10^18, far above any real invoice, cost or
/// quantity and far below what the exact sums hold (ledger money is Decimal(38, 4), up to 10^34;
/// Float64 costs are summed as Decimal(38, 10), up to 1.7 x 10^28), so that summing up to 10^10
/// values cannot overflow. An overflowing Decimal sum panics in Polars' debug build and wraps
/// silently in release; a Float64 beyond 10^28 does not even cast and would sum as nothing.
const MAX_ABS: f64 = 1e18;
const MAX_LEDGER_UNITS: i128 = 1_000_000_000_000_000_000 * 10_000;
const MAX_ABS_TEXT: &str = "-1000000000000000000 and 1000000000000000000";

/// Sources whose dates drive the as-of date and days past due (usage, billed line items, the
/// ledger): a date outside these years is a typo or a placeholder (9999-12-31, 1900-01-01), and
/// taken at face value it would move the as-of date to year 9999 or age an invoice by a million
/// days, so the row is rejected. Other sources keep any calendar date: a disposition valid until
/// 9999-12-31 means "for good", a customer created in 1900 harms nothing.
const BOUNDED_DATE_SOURCES: [&str; 4] = [
    schema::usage::TABLE,
    schema::billed::TABLE,
    schema::invoices::TABLE,
    schema::payments::TABLE,
];
const FIRST_DATE: (i32, u32, u32) = (1990, 1, 1);
const LAST_DATE: (i32, u32, u32) = (2100, 12, 31);

/// The dtype a kind parses into.
pub fn dtype_of(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Id | Kind::Currency | Kind::Month => DataType::String,
        Kind::Date => DataType::Date,
        Kind::Timestamp => schema::timestamp_utc(),
        Kind::Float => DataType::Float64,
        Kind::Money => schema::ledger_money(),
        Kind::Bool => DataType::Boolean,
        Kind::Int => DataType::Int64,
    }
}

/// A present column: its canonical spec, the name the file gave it, and whether the file already
/// stores it typed (see [`is_native`]); otherwise it arrives as text.
pub struct Present<'a> {
    pub spec: &'a ColumnSpec,
    pub header: String,
    pub native: bool,
}

/// Whether a column a file stores as `dtype` is taken as a value of `kind` as it is, without a
/// round trip through text: a typed Parquet file (what DuckDB, pandas or Polars write when they
/// convert an export: dates as DATE, amounts as DOUBLE or DECIMAL) is read at Parquet speed and
/// checked for range and emptiness like text. Text kinds are never native (a String column is
/// cleaned and parsed as text anyway). Float32 goes through text so 0.1f32 stays 0.1 rather
/// than 0.10000000149; a Decimal with more than 4 decimals goes through text so the money check
/// names the value; timestamps go through text so a zone-less datetime is read as UTC the same
/// way as its text would be.
pub fn is_native(kind: Kind, dtype: &DataType) -> bool {
    match kind {
        Kind::Date => matches!(dtype, DataType::Date),
        Kind::Float => {
            matches!(dtype, DataType::Float64 | DataType::Decimal(_, _)) || dtype.is_integer()
        }
        Kind::Int => dtype.is_integer(),
        Kind::Money => {
            dtype.is_integer()
                || matches!(dtype, DataType::Decimal(_, s) if *s <= schema::LEDGER_SCALE)
        }
        Kind::Bool => matches!(dtype, DataType::Boolean),
        Kind::Text | Kind::Id | Kind::Currency | Kind::Month | Kind::Timestamp => false,
    }
}

/// The typed rows of one file and its rejected rows.
pub struct Typed {
    /// Canonical columns of the specs (absent optional ones as typed nulls), plus source_file and
    /// source_line. The source module derives its remaining columns from these.
    pub accepted: LazyFrame,
    /// rejected_rows schema, `raw` still null (filled from the file by the orchestrator).
    pub rejected: LazyFrame,
}

/// `raw` has one column per present spec (named by spec.name): String, or the file's own dtype
/// where the spec is `native`; and `source_line` (Int64).
pub fn typed(
    raw: LazyFrame,
    specs: &[ColumnSpec],
    present: &[Present<'_>],
    source: &str,
    file: &str,
) -> Typed {
    // Three passes of expressions, so each costly step runs once per value: clean the text,
    // parse it, flag the first failing column. The reason text is built for rejected rows only.
    let mut cleaned = Vec::new();
    let mut parsed = Vec::new();
    let mut bad: Vec<(Expr, Expr, String)> = Vec::new(); // (is bad, reason, header)
    for spec in specs {
        let value = format!("__v_{}", spec.name);
        let text = format!("__c_{}", spec.name);
        match present.iter().find(|p| p.spec.name == spec.name) {
            None => parsed.push(lit(NULL).cast(dtype_of(spec.kind)).alias(value)),
            Some(p) => {
                // What the file holds: the cleaned text, or for a native column (no text to
                // clean) the value itself, written out only in a rejection reason.
                let held = if p.native {
                    parsed.push(native(col(spec.name), spec.kind).alias(value.as_str()));
                    col(spec.name)
                } else {
                    cleaned.push(clean(col(spec.name)).alias(text.as_str()));
                    parsed.push(parse(col(text.as_str()), spec.kind).alias(value.as_str()));
                    col(text.as_str())
                };
                let has_text = held.clone().is_not_null();
                let found = || {
                    held.clone()
                        .cast(DataType::String)
                        .str()
                        .slice(lit(0), lit(MAX_FOUND))
                };
                let found_reason = |expected: &str| {
                    concat_str(
                        [
                            lit(format!("expected {expected}, found '")),
                            found(),
                            lit("'"),
                        ],
                        "",
                        false,
                    )
                };
                bad.push((
                    has_text.clone().and(col(value.as_str()).is_null()),
                    found_reason(spec.kind.expected()),
                    p.header.clone(),
                ));
                if let Some((out_of_range, expected)) =
                    range_check(col(value.as_str()), spec.kind, source)
                {
                    bad.push((out_of_range, found_reason(&expected), p.header.clone()));
                }
                if spec.need == Need::Required {
                    bad.push((
                        has_text.not(),
                        lit(format!(
                            "expected {}, found an empty field",
                            spec.kind.expected()
                        )),
                        p.header.clone(),
                    ));
                }
            }
        }
    }
    // Whether a row fails any check: one Boolean per check, or-ed (a check that is null, as a
    // comparison with a null value is, does not fail). Which column fails first, and why, is
    // worked out for the rejected rows only: as nested when/then over every row, it built a new
    // text column per check (a 1M-line folder's usage has 25 checks), 7% of its typing in a
    // `perf` profile.
    let rejected_flag = bad
        .iter()
        .map(|(c, _, _)| c.clone().fill_null(lit(false)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    // Nested from the last check outwards, so the first failing column wins.
    let mut reject_column = lit(NULL).cast(DataType::String);
    let mut reject_reason = lit(NULL).cast(DataType::String);
    for (c, r, h) in bad.into_iter().rev() {
        reject_column = when(c.clone()).then(lit(h)).otherwise(reject_column);
        reject_reason = when(c).then(r).otherwise(reject_reason);
    }
    let staged = raw
        .with_columns(cleaned)
        .with_columns(parsed)
        .with_column(rejected_flag.alias(REJECTED));

    let mut out_cols: Vec<Expr> = specs
        .iter()
        .map(|s| col(format!("__v_{}", s.name)).alias(s.name))
        .collect();
    out_cols.push(lit(file.to_string()).alias(schema::SOURCE_FILE));
    out_cols.push(col(schema::SOURCE_LINE));
    let accepted = staged.clone().filter(col(REJECTED).not()).select(out_cols);
    let rejected = staged
        .filter(col(REJECTED))
        .with_columns([
            reject_column.alias(REJECT_COLUMN),
            reject_reason.alias(REJECT_REASON),
        ])
        .select([
            lit(source.to_string()).alias(rj::SOURCE),
            lit(file.to_string()).alias(rj::FILE),
            col(schema::SOURCE_LINE).alias(rj::LINE),
            col(REJECT_COLUMN).alias(rj::COLUMN),
            col(REJECT_REASON).alias(rj::REASON),
            lit(NULL).cast(DataType::String).alias(rj::RAW),
        ]);
    Typed { accepted, rejected }
}

/// For a parsed value that is valid but out of the range billrisk can use: (is out of range, the
/// expected range in words). Money and numbers are bounded everywhere; dates only in the sources
/// of `BOUNDED_DATE_SOURCES`.
fn range_check(value: Expr, kind: Kind, source: &str) -> Option<(Expr, String)> {
    let date = |(y, m, d): (i32, u32, u32)| {
        chrono::NaiveDate::from_ymd_opt(y, m, d).map(|d| lit(d).cast(DataType::Date))
    };
    match kind {
        Kind::Money => {
            let max = |units: i128| {
                lit(Scalar::new_decimal(
                    units,
                    schema::LEDGER_PRECISION,
                    schema::LEDGER_SCALE,
                ))
            };
            let out = value
                .clone()
                .gt(max(MAX_LEDGER_UNITS))
                .or(value.lt(max(-MAX_LEDGER_UNITS)));
            Some((out, format!("an amount between {MAX_ABS_TEXT}")))
        }
        Kind::Float => {
            let out = value.clone().gt(lit(MAX_ABS)).or(value.lt(lit(-MAX_ABS)));
            Some((out, format!("a number between {MAX_ABS_TEXT}")))
        }
        Kind::Date | Kind::Timestamp if BOUNDED_DATE_SOURCES.contains(&source) => {
            let (first, last) = (date(FIRST_DATE)?, date(LAST_DATE)?);
            let day = value.cast(DataType::Date);
            let out = day.clone().lt(first).or(day.gt(last));
            let (fy, fm, fd) = FIRST_DATE;
            let (ly, lm, ld) = LAST_DATE;
            Some((
                out,
                format!("a date between {fy}-{fm:02}-{fd:02} and {ly}-{lm:02}-{ld:02}"),
            ))
        }
        _ => None,
    }
}

/// Trimmed text with the spreadsheet apostrophe guard and NULL tokens removed; empty -> null.
fn clean(e: Expr) -> Expr {
    per_value(e, clean_value)
}

/// A function of one text value: `Cow::Borrowed` of the same text when nothing changes.
pub(crate) type ValueFn = for<'a> fn(&'a str) -> Option<std::borrow::Cow<'a, str>>;

/// One value of [`clean`]: `Some(s)` unchanged when there is nothing to clean.
fn clean_value(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    // Most values need nothing: first and last byte printable ASCII (no blank to trim, Unicode
    // blanks are not ASCII), no apostrophe first, and not four bytes long like NULL. One branch
    // instead of trimming and comparing every value of a 10-million-row column.
    let b = s.as_bytes();
    if let (Some(&first), Some(&last)) = (b.first(), b.last()) {
        let plain = |c: u8| c > b' ' && c < 0x7f;
        if plain(first) && plain(last) && first != b'\'' && b.len() != 4 {
            return Some(std::borrow::Cow::Borrowed(s));
        }
    }
    let t = s.trim();
    let t = t.strip_prefix('\'').unwrap_or(t);
    if t.is_empty() || t == "NULL" || t == "null" {
        None
    } else {
        Some(std::borrow::Cow::Borrowed(t))
    }
}

/// Lower case (Unicode, as Polars' to_lowercase and std's).
fn lower_value(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !needs_lowering(s.as_bytes()) {
        Some(std::borrow::Cow::Borrowed(s))
    } else if s.is_ascii() {
        // ASCII text lowers byte by byte (the same answer as Unicode's rules, and no per-char
        // lookup for every resource id of every usage line).
        Some(std::borrow::Cow::Owned(s.to_ascii_lowercase()))
    } else {
        Some(std::borrow::Cow::Owned(s.to_lowercase()))
    }
}

/// Whether a text has an ASCII upper-case letter or any non-ASCII byte. Tested 16 bytes at a
/// time without an early exit, which the compiler turns into vector instructions: the values
/// tested are mostly long ids (resource ids of every usage line) that are lower case already.
fn needs_lowering(b: &[u8]) -> bool {
    let flag = |acc: bool, &c: &u8| acc | (c.wrapping_sub(b'A') < 26) | (c >= 0x80);
    let mut chunks = b.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, flag) {
            return true;
        }
    }
    chunks.remainder().iter().fold(false, flag)
}

/// A three-letter code in upper case, else null.
fn currency_value(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        if s.bytes().all(|b| b.is_ascii_uppercase()) {
            Some(std::borrow::Cow::Borrowed(s))
        } else {
            Some(std::borrow::Cow::Owned(s.to_ascii_uppercase()))
        }
    } else {
        None
    }
}

/// Applies `f` to every value of a String column, where most values come back unchanged (clean
/// text, lower-case ids): a column in which `f` changes nothing is kept as it is, so the common
/// case copies no string. Hand-written because Polars' string kernels (strip_chars, strip_prefix,
/// to_lowercase, when/then) each build a new column, four to five copies of every text column of
/// a 10-million-row file.
fn map_str_kept(c: Column, f: ValueFn) -> PolarsResult<Column> {
    use std::borrow::Cow;
    let name = c.name().clone();
    let s = c.cast(&DataType::String)?;
    let ca = s.str()?;
    let kept = |o: Option<&str>| {
        o.is_none_or(|v| matches!(f(v), Some(Cow::Borrowed(b)) if b.len() == v.len()))
    };
    // One pass when nothing changes; otherwise the values before the first change are kept as
    // they are and only the rest go through `f` again.
    let Some(first) = ca.iter().position(|o| !kept(o)) else {
        return Ok(s.with_name(name).into_column());
    };
    let out: StringChunked = ca
        .iter()
        .enumerate()
        .map(|(i, o)| {
            if i < first {
                o.map(Cow::Borrowed)
            } else {
                o.and_then(f)
            }
        })
        .collect();
    Ok(out.with_name(name).into_series().into_column())
}

fn parse(cleaned: Expr, kind: Kind) -> Expr {
    match kind {
        Kind::Text => cleaned,
        Kind::Id => per_value(cleaned, lower_value),
        Kind::Currency => per_value(cleaned, currency_value),
        Kind::Float => finite(cleaned.cast(DataType::Float64)),
        Kind::Int => cleaned.cast(DataType::Int64),
        Kind::Date => per_column(cleaned, parse_dates, dtype_of(kind)),
        Kind::Timestamp => per_column(cleaned, parse_timestamps, dtype_of(kind)),
        Kind::Money => per_column(cleaned, parse_money, dtype_of(kind)),
        Kind::Bool => per_column(cleaned, parse_bools, dtype_of(kind)),
        Kind::Month => per_column(cleaned, parse_months, dtype_of(kind)),
    }
}

/// Non-finite values are not amounts (null, so the row is rejected); a negative zero is zero.
fn finite(v: Expr) -> Expr {
    when(v.clone().is_finite().not())
        .then(lit(NULL).cast(DataType::Float64))
        .when(v.clone().eq(lit(0.0)))
        .then(lit(0.0))
        .otherwise(v)
}

/// The value of a native column (see [`is_native`]): a cast, null where it does not fit (an
/// unsigned integer beyond Int64, a Decimal beyond Decimal(38, 4)), which rejects the row.
fn native(e: Expr, kind: Kind) -> Expr {
    match kind {
        Kind::Float => finite(e.cast(DataType::Float64)),
        _ => e.cast(dtype_of(kind)),
    }
}

/// Lower case (Unicode, as Polars' `str().to_lowercase()`), without copying a column whose values
/// are already lower case: the analyses lower-case low-cardinality text of every usage line
/// (regions, ids) where most values already are.
pub fn lowercase(e: Expr) -> Expr {
    per_value(e, lower_value)
}

/// A text expression through a Rust function of each value (see [`map_str_kept`]); String out.
pub(crate) fn per_value(e: Expr, f: ValueFn) -> Expr {
    e.map(
        move |c| map_str_kept(c, f),
        |_, fld| Ok(Field::new(fld.name().clone(), DataType::String)),
    )
}

/// Whether two texts are equal once lower-cased (Unicode, as `a.to_lowercase() ==
/// b.to_lowercase()`), without lowering ASCII text.
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// A column of `dtype` (chunked array `C`) from a function of each text value (null stays null,
/// and so does a value `f` gives None for).
pub(crate) fn per_text_value<O, C>(
    e: Expr,
    dtype: DataType,
    f: impl Fn(&str) -> Option<O> + Send + Sync + 'static,
) -> Expr
where
    C: FromIterator<Option<O>> + IntoSeries,
{
    e.map(
        move |c| {
            let name = c.name().clone();
            let s = c.cast(&DataType::String)?;
            let out: C = s.str()?.iter().map(|o| o.and_then(&f)).collect();
            Ok(out.into_series().with_name(name).into_column())
        },
        move |_, fld| Ok(Field::new(fld.name().clone(), dtype.clone())),
    )
}

/// A text expression through a Rust parser of the whole column, into `dtype`.
fn per_column(e: Expr, f: fn(&StringChunked) -> Series, dtype: DataType) -> Expr {
    e.map(
        move |c| map_str(c, f),
        move |_, fld| Ok(Field::new(fld.name().clone(), dtype.clone())),
    )
}

fn map_str(c: Column, f: fn(&StringChunked) -> Series) -> PolarsResult<Column> {
    let name = c.name().clone();
    let s = c.cast(&DataType::String)?;
    let ca = s.str()?;
    Ok(f(ca).with_name(name).into_column())
}

/// Dates repeat heavily (one per usage day), so each distinct text is parsed once.
fn memo<T: Copy>(ca: &StringChunked, f: impl Fn(&str) -> Option<T>) -> Vec<Option<T>> {
    let mut cache: HashMap<&str, Option<T>> = HashMap::new();
    ca.iter()
        .map(|o| {
            o.and_then(|s| {
                if cache.len() > 65_536 {
                    cache.clear();
                }
                *cache.entry(s).or_insert_with(|| f(s))
            })
        })
        .collect()
}

/// Dates of a text column, US or ISO (null where a value is not one); also the typed Parquet
/// the generator writes.
pub(crate) fn parse_dates(ca: &StringChunked) -> Series {
    let v: Int32Chunked = memo(ca, |s| values::parse_date(s).map(values::date_days))
        .into_iter()
        .collect();
    v.into_date().into_series()
}

fn parse_timestamps(ca: &StringChunked) -> Series {
    let v: Int64Chunked = memo(ca, |s| {
        values::parse_timestamp_utc(s).map(values::timestamp_micros)
    })
    .into_iter()
    .collect();
    v.into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
}

fn parse_money(ca: &StringChunked) -> Series {
    let v: Int128Chunked = ca
        .iter()
        .map(|o| o.and_then(|s| values::parse_decimal(s, schema::LEDGER_SCALE as u32).ok()))
        .collect();
    v.into_decimal_unchecked(schema::LEDGER_PRECISION, schema::LEDGER_SCALE)
        .into_series()
}

fn parse_bools(ca: &StringChunked) -> Series {
    let v: BooleanChunked = ca.iter().map(|o| o.and_then(values::parse_bool)).collect();
    v.into_series()
}

fn parse_months(ca: &StringChunked) -> Series {
    let v: StringChunked = ca.iter().map(|o| o.and_then(values::parse_month)).collect();
    v.into_series()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::read::columns::spec;

    fn reasons(rej: &DataFrame) -> Vec<&str> {
        rej.column(rj::REASON)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect()
    }

    /// `lower_value` gives std's Unicode lower case, borrowing what is lower case already, and
    /// `needs_lowering` sees an upper-case or non-ASCII byte wherever it is (in the 16-byte
    /// chunks or in the remainder).
    #[test]
    fn lower_value_agrees_with_unicode_lower_case() {
        let long = "/subscriptions/6a935361-a7c3-4baa-8f50-8094664a05ae/resourcegroups/rg-data";
        let mut cases = vec![
            String::new(),
            "a".into(),
            "Z".into(),
            "@[`{".into(),
            long.to_string(),
            "ÉTÉ".into(),
            "straße".into(),
            "ΣΑΣ".into(),
        ];
        for i in 0..long.len() {
            let mut upper = long.to_string();
            upper.replace_range(i..=i, &long[i..=i].to_ascii_uppercase());
            cases.push(upper);
            let mut accented = long.to_string();
            accented.replace_range(i..=i, "é");
            cases.push(accented);
        }
        for s in &cases {
            let lowered = lower_value(s).unwrap();
            assert_eq!(lowered, s.to_lowercase(), "{s}");
            let borrowed = matches!(lowered, std::borrow::Cow::Borrowed(_));
            assert_eq!(borrowed, s.to_lowercase() == *s && s.is_ascii(), "{s}");
        }
    }

    /// The one-branch path of `clean_value` gives what trimming and comparing give.
    #[test]
    fn clean_value_fast_path_agrees_with_the_definition() {
        fn slow(s: &str) -> Option<String> {
            let t = s.trim();
            let t = t.strip_prefix('\'').unwrap_or(t);
            (!(t.is_empty() || t == "NULL" || t == "null")).then(|| t.to_string())
        }
        for v in [
            "", " ", "a", "ab", "NULL", "null", "Null", "'NULL", " NULL", "'x", "' x", " x ", "x ",
            "\tx", "x\r", "\u{a0}x", "x\u{a0}", "\u{3000}", "é", "abcd", "abcde", "'", "''",
            "x\u{7f}", "\u{1f}x",
        ] {
            assert_eq!(clean_value(v).map(|c| c.into_owned()), slow(v), "{v:?}");
        }
    }

    #[test]
    fn parses_each_kind_and_rejects_with_the_file_s_column_name() {
        let specs = [
            spec("d", &["d"], Kind::Date, Need::Required),
            spec("amount", &["amount"], Kind::Money, Need::Required),
            spec("cost", &["cost"], Kind::Float, Need::Optional),
            spec("cur", &["cur"], Kind::Currency, Need::Required),
            spec("note", &["note"], Kind::Text, Need::Optional),
        ];
        let raw = df!(
            "d" => ["11/01/2025", "2025-11-02", "13/45/2025", "11/03/2025", ""],
            "amount" => ["12.50", "'7", "1", "1.23456", "2"],
            "cost" => ["9.99E-08", "-0", "x", "1", "1"],
            "cur" => ["usd", "EUR", "USD", "USD", "USD"],
            schema::SOURCE_LINE => [2i64, 3, 4, 5, 6],
        )
        .unwrap()
        .lazy();
        let present: Vec<Present> = specs[..4]
            .iter()
            .map(|s| Present {
                spec: s,
                header: s.name.to_uppercase(),
                native: false,
            })
            .collect();
        let t = typed(raw, &specs, &present, "invoices", "inv.csv");
        let acc = t.accepted.collect().unwrap();
        let rej = t.rejected.collect().unwrap();
        // Lines 2 and 3 pass; 4 has a bad date (first failing column wins), 5 has 5 decimals,
        // 6 an empty required date.
        assert_eq!(acc.height(), 2);
        assert_eq!(
            acc.column("amount").unwrap().dtype(),
            &schema::ledger_money()
        );
        let amounts: Vec<String> = acc
            .column("amount")
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(amounts, ["12.5000", "7.0000"]);
        let cost = acc.column("cost").unwrap().f64().unwrap();
        assert_eq!(cost.get(0), Some(9.99e-8));
        assert!(cost.get(1).unwrap().is_sign_positive());
        assert_eq!(
            acc.column("cur").unwrap().str().unwrap().get(0),
            Some("USD")
        );
        assert_eq!(acc.column("note").unwrap().null_count(), 2);
        let lines: Vec<i64> = rej
            .column(rj::LINE)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(lines, [4, 5, 6]);
        let cols: Vec<&str> = rej
            .column(rj::COLUMN)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(cols, ["D", "AMOUNT", "D"]);
        let reasons = reasons(&rej);
        assert_eq!(
            reasons[0],
            "expected a date (MM/DD/YYYY or YYYY-MM-DD), found '13/45/2025'"
        );
        assert_eq!(
            reasons[2],
            "expected a date (MM/DD/YYYY or YYYY-MM-DD), found an empty field"
        );
    }

    /// [`typed`] of `raw` with every spec present under its own name (native or text): the
    /// accepted and the rejected rows.
    fn typed_frames(
        specs: &[ColumnSpec],
        raw: LazyFrame,
        native: bool,
        source: &str,
    ) -> (DataFrame, DataFrame) {
        let present: Vec<Present> = specs
            .iter()
            .map(|s| Present {
                spec: s,
                header: s.name.to_string(),
                native,
            })
            .collect();
        let file = if native { "inv.parquet" } else { "inv.csv" };
        let t = typed(raw, specs, &present, source, file);
        (t.accepted.collect().unwrap(), t.rejected.collect().unwrap())
    }

    #[test]
    fn an_empty_optional_value_fails_no_check_whose_answer_is_null() {
        // The range check of an empty optional amount compares a null: neither rejected nor lost.
        let specs = [
            spec("d", &["d"], Kind::Date, Need::Required),
            spec("amount", &["amount"], Kind::Money, Need::Optional),
            spec("cost", &["cost"], Kind::Float, Need::Optional),
        ];
        let raw = df!(
            "d" => ["2025-11-02", "2025-11-03", "2025-11-04"],
            "amount" => [None, Some("1e40"), Some("3")],
            "cost" => [None, Some("1"), None::<&str>],
            schema::SOURCE_LINE => [2i64, 3, 4],
        )
        .unwrap()
        .lazy();
        let (acc, rej) = typed_frames(&specs, raw, false, "invoices");
        let lines = |df: &DataFrame, c: &str| -> Vec<i64> {
            df.column(c)
                .unwrap()
                .i64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        assert_eq!(lines(&acc, schema::SOURCE_LINE), [2, 4]);
        assert_eq!(lines(&rej, rj::LINE), [3]);
        assert_eq!(
            rej.column(rj::COLUMN).unwrap().str().unwrap().get(0),
            Some("amount")
        );
    }

    #[test]
    fn ledger_amounts_and_dates_out_of_range_are_rejected_with_the_range() {
        let specs = [
            spec("d", &["d"], Kind::Date, Need::Required),
            spec("amount", &["amount"], Kind::Money, Need::Required),
            spec("cost", &["cost"], Kind::Float, Need::Optional),
        ];
        let raw = || {
            df!(
                "d" => ["2026-01-01", "1900-01-01", "9999-12-31", "2100-12-31", "1990-01-01", "2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01"],
                "amount" => ["1000000000000000", "1", "1", "1", "1", "1000000000000000000", "1000000000000000000.0001", "-1000000000000000000.0001", "1"],
                "cost" => ["1e18", "1", "1", "1", "1", "-1e18", "1", "1", "-2E+18"],
                schema::SOURCE_LINE => [2i64, 3, 4, 5, 6, 7, 8, 9, 10],
            )
            .unwrap()
            .lazy()
        };
        let (acc, rej) = typed_frames(&specs, raw(), false, "invoices");
        let lines = |df: &DataFrame| -> Vec<i64> {
            df.column(schema::SOURCE_LINE)
                .or_else(|_| df.column(rj::LINE))
                .unwrap()
                .i64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        // 10^15 and exactly 10^18 are amounts, +-10^18 numbers; the range edges 1990-01-01 and
        // 2100-12-31 are dates.
        assert_eq!(lines(&acc), [2, 5, 6, 7]);
        let amount = acc
            .column("amount")
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        assert_eq!(amount.str().unwrap().get(0), Some("1000000000000000.0000"));
        assert_eq!(lines(&rej), [3, 4, 8, 9, 10]);
        let reasons = reasons(&rej);
        assert_eq!(
            reasons,
            [
                "expected a date between 1990-01-01 and 2100-12-31, found '1900-01-01'",
                "expected a date between 1990-01-01 and 2100-12-31, found '9999-12-31'",
                "expected an amount between -1000000000000000000 and 1000000000000000000, \
                 found '1000000000000000000.0001'",
                "expected an amount between -1000000000000000000 and 1000000000000000000, \
                 found '-1000000000000000000.0001'",
                "expected a number between -1000000000000000000 and 1000000000000000000, \
                 found '-2E+18'",
            ]
        );
        // Outside the ledger and usage, any calendar date is kept (valid until 9999-12-31 = for good).
        let (_, rej) = typed_frames(&specs, raw(), false, "dispositions");
        assert_eq!(lines(&rej), [8, 9, 10]);
    }

    #[test]
    fn typed_money_flags_and_counts_are_taken_as_they_are_and_range_checked() {
        let specs = [
            spec("amount", &["amount"], Kind::Money, Need::Required),
            spec("paid", &["paid"], Kind::Bool, Need::Optional),
            spec("n", &["n"], Kind::Int, Need::Optional),
        ];
        let dec = |units: &[i128], scale: usize| {
            Int128Chunked::from_slice("amount".into(), units)
                .into_decimal_unchecked(38, scale)
                .into_series()
                .into_column()
        };
        assert!(is_native(Kind::Money, &DataType::Decimal(18, 2)));
        assert!(is_native(Kind::Money, &DataType::Int32));
        assert!(!is_native(Kind::Money, &DataType::Decimal(18, 6)));
        assert!(!is_native(Kind::Money, &DataType::Float64));
        assert!(is_native(Kind::Float, &DataType::Float64));
        assert!(!is_native(Kind::Float, &DataType::Float32));
        assert!(!is_native(Kind::Timestamp, &DataType::Date));
        assert!(!is_native(Kind::Id, &DataType::String));
        // 12.34, 10^18 + 0.01 (beyond the ledger's range), null (required).
        let amount = dec(&[1234, 100_000_000_000_000_000_001, 0], 2);
        let amount = amount
            .as_materialized_series()
            .zip_with(
                &BooleanChunked::from_slice("m".into(), &[true, true, false]),
                &Series::full_null("amount".into(), 3, &DataType::Decimal(38, 2)),
            )
            .unwrap()
            .into_column();
        let raw = DataFrame::new(
            3,
            vec![
                amount,
                Column::new("paid".into(), [Some(true), None, Some(false)]),
                Column::new("n".into(), [7u64, u64::MAX, 1]),
                Column::new(schema::SOURCE_LINE.into(), [1i64, 2, 3]),
            ],
        )
        .unwrap()
        .lazy();
        let (acc, rej) = typed_frames(&specs, raw, true, "invoices");
        assert_eq!(acc.height(), 1);
        assert_eq!(
            acc.column("amount").unwrap().dtype(),
            &schema::ledger_money()
        );
        let shown = acc
            .column("amount")
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        assert_eq!(shown.str().unwrap().get(0), Some("12.3400"));
        assert_eq!(
            acc.column("paid").unwrap().bool().unwrap().get(0),
            Some(true)
        );
        assert_eq!(acc.column("n").unwrap().i64().unwrap().get(0), Some(7));
        let reasons = reasons(&rej);
        assert_eq!(
            reasons,
            [
                "expected an amount between -1000000000000000000 and 1000000000000000000, \
                 found '1000000000000000000.01'",
                "expected an amount with at most 4 decimals (1234.56), found an empty field",
            ]
        );
    }
}
