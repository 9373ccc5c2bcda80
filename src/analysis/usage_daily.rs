//! usage_daily (SPEC 5): daily cost and quantity of consumption (Usage charges, see
//! `ingest::usage::is_consumption`) per customer, Azure subscription (entitlement) and meter
//! category, in the usage's own currency, up to the as-of date. The series every usage
//! signal and chart starts from. Sorted by customer_id, usage_date, entitlement_id, meter_category
//! and currency.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::analysis::usage_signals::columns::FIRST;
use crate::analysis::{exact, order_free_sum};
use crate::ingest::read::values::date_days;
use crate::ingest::usage::{is_consumption, PURCHASE};

use crate::schema::{usage as u, usage_daily as d};

// Working columns.
const SERIES_ID: &str = "_series";
const CUSTOMER_RANK: &str = "_customer_rank";
const FIRST_DAY: &str = "_first_day";
const KEY_HASH: &str = "_key_hash";
const NARROW_HASH: &str = "_narrow_hash";
const PREFIX: &str = "_prefix";
const KEY: &str = "_key";
const KEY_LOW: &str = "_key_low";

/// The keys of a series: customer, subscription, meter category, currency.
const SERIES_KEYS: [&str; 4] = [
    d::CUSTOMER_ID,
    d::ENTITLEMENT_ID,
    d::METER_CATEGORY,
    d::CURRENCY,
];

/// Two of the series keys, subscription and meter category: in real exports a subscription
/// belongs to one customer and bills in one currency, so these two alone tell the series apart,
/// and a line's series is then found from them (see [`SeriesMatch`]).
const NARROW_KEYS: [&str; 2] = [d::ENTITLEMENT_ID, d::METER_CATEGORY];

/// The lines usage_daily sums: consumption up to the as-of date. Purchases, tax, credits and
/// corrections are money (budgets, reconciliation and exposure read them through
/// cost_per_customer_day), not a usage series.
fn consumption(usage: LazyFrame, as_of: NaiveDate) -> LazyFrame {
    usage.filter(col(u::USAGE_DATE).lt_eq(lit(as_of)).and(is_consumption()))
}

/// usage_daily's series (customer, subscription, meter category, currency: 98k of them at 10.8M
/// usage lines), one row each, sorted as the table sorts them (nulls last), numbered in that order
/// (`_series`), with their customer's dense rank (`_customer_rank`), their first day of
/// consumption (`_first_day`), a 64-bit hash of their four keys (`_key_hash`) and one of their
/// [`NARROW_KEYS`] (`_narrow_hash`). Collected before
/// [`usage_daily`], which reads it.
pub fn series(usage: LazyFrame, as_of: NaiveDate) -> LazyFrame {
    numbered(
        consumption(usage, as_of)
            .group_by(SERIES_KEYS.map(col))
            .agg([col(u::USAGE_DATE).min().alias(FIRST_DAY)]),
    )
}

/// [`series`], from the usage signals' groups of the same usage and as-of date
/// (`usage_signals::usage_groups`: the consumption lines up to the as-of date on finer keys, a
/// missing value its own key, with their first day) instead of a scan of usage of its own: the
/// same frame.
pub fn series_of_groups(groups: LazyFrame) -> LazyFrame {
    numbered(
        groups
            .group_by(SERIES_KEYS.map(col))
            .agg([col(FIRST).min().cast(DataType::Date).alias(FIRST_DAY)]),
    )
}

/// The series (their keys and first day), sorted, numbered, ranked and hashed (see [`series`]).
fn numbered(series: LazyFrame) -> LazyFrame {
    series
        .sort(
            SERIES_KEYS,
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .with_row_index(SERIES_ID, None)
        .with_columns([
            col(d::CUSTOMER_ID)
                .rank(
                    RankOptions {
                        method: RankMethod::Dense,
                        descending: false,
                    },
                    None,
                )
                .alias(CUSTOMER_RANK),
            Hashed::Full.key_hash(),
            Hashed::Narrow.key_hash(),
        ])
}

/// usage_daily of `usage`, given its [`series`] collected. The table has nearly a row per usage
/// line (8.8M rows at 10.8M lines). Grouping, sorting and holding that many rows on four text
/// keys took 4 GiB at 10M lines, so the rows are grouped and sorted on one integer key (see
/// [`DailyKey`]), and the text keys are gathered back last by series id, as the rows stream to the
/// file.
///
/// Each line finds its series as [`SeriesMatch::of`] says: by a join on one u64 hash where the
/// series' hashes are distinct, else by a join on the four text keys.
pub fn usage_daily(
    usage: LazyFrame,
    series: &DataFrame,
    as_of: NaiveDate,
) -> PolarsResult<LazyFrame> {
    let key = DailyKey::of(series, as_of, 64)?;
    daily_of_series(usage, series, as_of, SeriesMatch::of(series)?, &key)
}

/// How each consumption line finds its series (one of the collected [`series`]).
///
/// By a hash of some of its keys, a join on one u64, when no two series share that hash: every
/// line's keys are those of one series, and only that series has the line's hash, so the hash names
/// the series exactly (checked on the collected series each run, not assumed). The [`NARROW_KEYS`]
/// first: the line's customer and currency are then neither hashed nor even read (usage_daily's
/// stage at 10.8M lines from the converted folder: 3.57-4.10 s instead of 4.15-4.33, three
/// alternating pairs). Then all four keys. Otherwise (two series with the same 64-bit hash of their
/// four keys, which no test data has ever had) by a join on the four text keys, which gives the
/// same table more slowly: Polars joins on several text columns by encoding each line's keys into
/// one byte string, hashing and comparing it (`memcmp` led a `perf` profile of a 10M-line run).
#[derive(Debug, Clone, Copy, PartialEq)]
enum SeriesMatch {
    /// By a hash of some keys.
    Hash(Hashed),
    /// By the four text keys.
    Keys,
}

/// The keys a line's series is found by the hash of.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Hashed {
    /// The [`NARROW_KEYS`] (the series' `_narrow_hash`).
    Narrow,
    /// The four keys (the series' `_key_hash`).
    Full,
}

impl SeriesMatch {
    fn of(series: &DataFrame) -> PolarsResult<SeriesMatch> {
        for hashed in [Hashed::Narrow, Hashed::Full] {
            if series.column(hashed.name())?.n_unique()? == series.height() {
                return Ok(SeriesMatch::Hash(hashed));
            }
        }
        Ok(SeriesMatch::Keys)
    }
}

impl Hashed {
    /// The name of the hash column (in the series, and of each line).
    fn name(self) -> &'static str {
        match self {
            Hashed::Narrow => NARROW_HASH,
            Hashed::Full => KEY_HASH,
        }
    }

    /// A 64-bit hash of these keys of each line (Polars' own vectorised hash, as its group-bys
    /// use; nulls hash to a value of their own).
    fn key_hash(self) -> Expr {
        let name = self.name();
        let output = move |_: &Schema, _: &[Field]| Ok(Field::new(name.into(), DataType::UInt64));
        match self {
            Hashed::Narrow => {
                let [first, rest @ ..] = NARROW_KEYS.map(col);
                first.map_many(hash_columns, &rest, output)
            }
            Hashed::Full => {
                let [first, rest @ ..] = SERIES_KEYS.map(col);
                first.map_many(hash_columns, &rest, output)
            }
        }
        .alias(name)
    }
}

/// [`series`] collected, then [`usage_daily`]: for tests and benches, which have no pipeline to
/// collect the series.
pub fn usage_daily_collecting_series(
    usage: LazyFrame,
    as_of: NaiveDate,
) -> PolarsResult<LazyFrame> {
    let series = series(usage.clone(), as_of).collect()?;
    usage_daily(usage, &series, as_of)
}

fn hash_columns(cols: &mut [Column]) -> PolarsResult<Column> {
    // A fixed seed: the series and the lines are hashed in separate plans.
    let seed = PlSeedableRandomStateQuality::seed_from_u64(0x5eed_b111);
    let (first, rest) = cols
        .split_first()
        .ok_or_else(|| polars_err!(ComputeError: "no series keys to hash"))?;
    let mut hashes = Vec::new();
    first
        .cast(&DataType::String)?
        .str()?
        .vec_hash(seed.clone(), &mut hashes)?;
    for c in rest {
        c.cast(&DataType::String)?
            .str()?
            .vec_hash_combine(seed.clone(), &mut hashes)?;
    }
    Ok(UInt64Chunked::from_vec(KEY_HASH.into(), hashes).into_column())
}

/// The integer key usage_daily's rows are grouped and sorted on: (customer rank, day, series id),
/// whose order is the table's (by customer, day, then subscription, meter category and currency,
/// the series' own order), so one group-by and one sort on it give the rows in order. Polars
/// encodes several keys of a group-by or sort into one byte string per row, even integer ones;
/// on one u64 it does neither.
///
/// The three parts are packed into one u64 when their widths fit in 64 bits: the rank (a customer
/// without an id ranks after every customer, as nulls sort last), the day as days since the first
/// day of consumption, and the series id. They fit at any real size: 20,000 customers, 98k series
/// and 90 days take 15 + 7 + 17 bits. Otherwise (days spread over millennia with millions of
/// series) the key is two u64 columns, (rank, day) and the series id: the same table, more slowly.
#[derive(Debug, Clone, Copy)]
struct DailyKey {
    /// Days since 1970 of the first day of consumption (the day stored as 0).
    first_day: i64,
    /// The rank of a customer without an id: after every customer's.
    null_rank: u64,
    /// The bits the series id takes; None: the key is two columns.
    packed_series_bits: Option<u32>,
    /// The bits the day takes (in the one-column key).
    day_bits: u32,
}

impl DailyKey {
    /// The key for the collected `series` of a run as of `as_of`, packed when the parts fit in
    /// `max_bits` (64; less only in tests, to try the two-column key).
    fn of(series: &DataFrame, as_of: NaiveDate, max_bits: u32) -> PolarsResult<DailyKey> {
        let bits = |max: u64| (u64::BITS - max.leading_zeros()).max(1);
        let as_of_day = i64::from(date_days(as_of));
        let first_day = series
            .column(FIRST_DAY)?
            .as_materialized_series()
            .min::<i64>()?
            .unwrap_or(as_of_day);
        let null_rank = series
            .column(CUSTOMER_RANK)?
            .as_materialized_series()
            .max::<u64>()?
            .unwrap_or(0)
            + 1;
        let last_series = (series.height() as u64).saturating_sub(1);
        let day_bits = bits(as_of_day.saturating_sub(first_day).max(0) as u64);
        let series_bits = bits(last_series);
        let packed = bits(null_rank) + day_bits + series_bits <= max_bits;
        Ok(DailyKey {
            first_day,
            null_rank,
            packed_series_bits: packed.then_some(series_bits),
            day_bits,
        })
    }

    /// The series' customer rank, nulls after every rank.
    fn rank(&self) -> Expr {
        col(CUSTOMER_RANK)
            .cast(DataType::UInt64)
            .fill_null(lit(self.null_rank))
    }

    /// The part of the key each series gives (`_prefix`), and with two columns its id.
    fn of_series(&self) -> Vec<Expr> {
        match self.packed_series_bits {
            Some(s) => vec![(self.rank() * lit(1u64 << (self.day_bits + s))
                + col(SERIES_ID).cast(DataType::UInt64))
            .alias(PREFIX)],
            None => vec![
                (self.rank() * lit(1u64 << 32)).alias(PREFIX),
                col(SERIES_ID).cast(DataType::UInt64).alias(KEY_LOW),
            ],
        }
    }

    /// Days since the first day of consumption, as u64.
    fn day(&self, date: Expr) -> Expr {
        (date.cast(DataType::Int32).cast(DataType::Int64) - lit(self.first_day))
            .cast(DataType::UInt64)
    }

    /// The key of a line, from its series' part and its day: the columns to group and sort on.
    fn of_line(&self) -> Vec<Expr> {
        let day = self.day(col(u::USAGE_DATE));
        match self.packed_series_bits {
            Some(s) => vec![(col(PREFIX) + day * lit(1u64 << s)).alias(KEY)],
            None => vec![(col(PREFIX) + day).alias(KEY), col(KEY_LOW)],
        }
    }

    /// The key columns' names.
    fn names(&self) -> Vec<&'static str> {
        match self.packed_series_bits {
            Some(_) => vec![KEY],
            None => vec![KEY, KEY_LOW],
        }
    }

    /// The series id and the date, back from the key.
    fn unpacked(&self) -> [Expr; 2] {
        let (series, day) = match self.packed_series_bits {
            Some(s) => (
                col(KEY) % lit(1u64 << s),
                col(KEY).floor_div(lit(1u64 << s)) % lit(1u64 << self.day_bits),
            ),
            None => (col(KEY_LOW), col(KEY) % lit(1u64 << 32)),
        };
        [
            series.cast(IDX_DTYPE).alias(SERIES_ID),
            (day.cast(DataType::Int64) + lit(self.first_day))
                .cast(DataType::Int32)
                .cast(DataType::Date)
                .alias(d::USAGE_DATE),
        ]
    }
}

/// The four series keys of each row, taken from `keys` (the collected series' keys, row i that of
/// series id i) at the row's series id: a gather, with no hash table to build and probe. At 10.8M
/// usage lines, usage_daily's plan collected alone took 3.41-4.02 s with the left join on the id
/// this replaces, 3.05-3.47 s with the gather (alternating in one process, two runs each).
fn series_keys_of_ids(keys: &DataFrame) -> PolarsResult<Vec<Expr>> {
    keys.columns()
        .iter()
        .map(|key| {
            let (key, name) = (key.clone(), key.name().clone());
            let field = key.field().into_owned();
            Ok(col(SERIES_ID)
                .map(
                    move |ids| key.take(ids.idx()?),
                    move |_, _| Ok(field.clone()),
                )
                .alias(name))
        })
        .collect()
}

/// usage_daily from the collected series, each line's series found `by` ([`SeriesMatch`]),
/// grouped and sorted on `key`.
fn daily_of_series(
    usage: LazyFrame,
    series: &DataFrame,
    as_of: NaiveDate,
    by: SeriesMatch,
    key: &DailyKey,
) -> PolarsResult<LazyFrame> {
    // Row i the keys of series i (numbered() made the ids so; sorted again, as the gather relies
    // on it), in one chunk.
    let mut keys = series
        .sort([SERIES_ID], SortMultipleOptions::default())?
        .select(SERIES_KEYS)?;
    keys.rechunk_mut();
    let series = series.clone().lazy();
    // Each series' part of the key, computed once on the collected series.
    let parts = |mut cols: Vec<Expr>| {
        cols.extend(key.of_series());
        series.clone().select(cols).collect()
    };
    let lines = consumption(usage, as_of);
    let numbered = if let SeriesMatch::Hash(hashed) = by {
        let hash = hashed.name();
        lines
            .select([
                hashed.key_hash(),
                col(u::USAGE_DATE),
                col(u::COST),
                col(u::QUANTITY),
            ])
            .join(
                parts(vec![col(hash)])?.lazy(),
                [col(hash)],
                [col(hash)],
                JoinArgs::new(JoinType::Inner),
            )
    } else {
        let mut match_nulls = JoinArgs::new(JoinType::Inner);
        match_nulls.nulls_equal = true;
        lines.join(
            parts(SERIES_KEYS.map(col).to_vec())?.lazy(),
            SERIES_KEYS.map(col),
            SERIES_KEYS.map(col),
            match_nulls,
        )
    };
    let mut line_cols = key.of_line();
    line_cols.extend([col(u::COST), col(u::QUANTITY)]);
    let mut table_cols = key.unpacked().to_vec();
    table_cols.extend([col(d::COST), col(d::QUANTITY), col(d::ROWS)]);
    let grouped = numbered
        .select(line_cols)
        .group_by(key.names().into_iter().map(col).collect::<Vec<_>>())
        .agg([
            order_free_sum(col(u::COST)).alias(d::COST),
            order_free_sum(col(u::QUANTITY)).alias(d::QUANTITY),
            len().cast(DataType::UInt32).alias(d::ROWS),
        ])
        // A total order of the keys, so the table never depends on input order.
        .sort(key.names(), SortMultipleOptions::default())
        .select(table_cols);
    Ok(grouped
        .with_columns(series_keys_of_ids(&keys)?)
        .select(d::DEF.columns_exprs()))
}

/// Usage summed per customer, currency and day, with `cost` the exact sum (Decimal(38, 10), see
/// [`exact`]) and no other column: all that budgets, reconciliation, exposure and the payment
/// signals read of usage. They take it in place of usage and give the same figures bit for bit,
/// because each of them sums cost with [`order_free_sum`] over groups of whole days (exact
/// Decimal sums of exact partial sums are the same sums). 1.8M rows for 10.8M usage lines:
/// collected once, it saves each of them a scan of the lines.
///
/// `cost` is every charge (BilledCost: usage, purchases, tax, credits, corrections), which is
/// money owed; `purchase_cost` (exact, like `cost`) the part that is Purchase charges, which the
/// payment family's large_purchase reads.
pub fn cost_per_customer_day(usage: LazyFrame) -> LazyFrame {
    let purchase = when(col(u::CHARGE_CATEGORY).eq(lit(PURCHASE)))
        .then(exact(col(u::COST)))
        .otherwise(exact(lit(0.0)));
    usage
        .group_by([col(u::CUSTOMER_ID), col(u::CURRENCY), col(u::USAGE_DATE)])
        .agg([
            exact(col(u::COST)).sum().alias(u::COST),
            purchase.sum().alias(PURCHASE_COST),
        ])
}

/// Column of [`cost_per_customer_day`]: the day's Purchase charges.
pub const PURCHASE_COST: &str = "purchase_cost";

/// usage_daily summed over subscriptions, meter categories and currencies: cost per customer and
/// day, sorted (what the report's usage charts draw). Columns customer_id, usage_date, cost.
pub fn per_customer_day(daily: LazyFrame) -> LazyFrame {
    daily
        .group_by([col(d::CUSTOMER_ID), col(d::USAGE_DATE)])
        .agg([order_free_sum(col(d::COST)).alias(d::COST)])
        .sort(
            [d::CUSTOMER_ID, d::USAGE_DATE],
            SortMultipleOptions::default().with_nulls_last(true),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(out: &DataFrame) -> Vec<f64> {
        out.column(d::COST)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    }
    use crate::ingest::Inputs;

    /// Usage lines of a test with the charge columns the canonical table has (null: consumption).
    fn charged(df: DataFrame) -> LazyFrame {
        df.lazy().with_columns([
            lit(NULL).cast(DataType::String).alias(u::CHARGE_CATEGORY),
            lit(NULL).cast(DataType::String).alias(u::CHARGE_CLASS),
        ])
    }

    #[test]
    fn sums_per_day_and_ignores_usage_after_as_of() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let mut usage = Inputs::empty().usage.collect().unwrap();
        let extra = df!(
            u::CUSTOMER_ID => ["c1", "c1", "c1", "c2"],
            u::ENTITLEMENT_ID => ["s1", "s1", "s1", "s9"],
            u::METER_CATEGORY => ["Virtual Machines"; 4],
            u::USAGE_DATE => [day(1), day(1), day(3), day(1)],
            u::CURRENCY => ["USD"; 4],
            u::COST => [1.25, 2.5, 100.0, 7.0],
            u::QUANTITY => [1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        // Fill the other columns with nulls of the right dtypes through a diagonal concat.
        usage = concat(
            [usage.lazy(), extra.lazy()],
            UnionArgs {
                to_supertypes: true,
                diagonal: true,
                ..Default::default()
            },
        )
        .unwrap()
        .collect()
        .unwrap();
        let out = usage_daily_collecting_series(usage.lazy(), day(2))
            .unwrap()
            .collect()
            .unwrap();
        // c1 on the 1st: 1.25 + 2.5 = 3.75 over 2 rows; the 3rd is after A; c2 7.0.
        assert_eq!(out.height(), 2);
        let cost = costs(&out);
        assert_eq!(cost, [3.75, 7.0]);
        let rows: Vec<u32> = out
            .column(d::ROWS)
            .unwrap()
            .u32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(rows, [2, 1]);
    }

    #[test]
    fn sorted_by_customer_then_day_whatever_the_input_order() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let usage = df!(
            u::CUSTOMER_ID => ["c2", "c1", "c1", "c1", "c1"],
            u::ENTITLEMENT_ID => ["s1", "s2", "s1", "s1", "s2"],
            u::METER_CATEGORY => ["Storage", "Storage", "Storage", "Network", "Storage"],
            u::USAGE_DATE => [day(1), day(2), day(2), day(1), day(1)],
            u::CURRENCY => ["USD"; 5],
            u::COST => [1.0, 2.0, 3.0, 4.0, 5.0],
            u::QUANTITY => [1.0; 5],
        )
        .unwrap();
        let out = usage_daily_collecting_series(charged(usage), day(30))
            .unwrap()
            .collect()
            .unwrap();
        let cost = costs(&out);
        // c1 on the 1st (s1 Network, s2 Storage), c1 on the 2nd (s1, s2), then c2.
        assert_eq!(cost, [4.0, 5.0, 3.0, 2.0, 1.0]);
    }

    #[test]
    fn days_packed_with_the_series_into_one_key_come_back_whole_and_in_order() {
        // The key packs the days since the first day of consumption (1900-03-01 here, 73k days
        // before the as-of date): days before 1970 (negative) and far ahead must come back as
        // the same dates, in date order.
        let date = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let days = [
            date(2100, 1, 1),
            date(1969, 12, 31),
            date(1900, 3, 1),
            date(1969, 12, 31),
            date(2026, 11, 1),
        ];
        let usage = df!(
            u::CUSTOMER_ID => ["c1", "c1", "c1", "c1", "c2"],
            u::ENTITLEMENT_ID => ["s1"; 5],
            u::METER_CATEGORY => ["Storage"; 5],
            u::USAGE_DATE => days,
            u::CURRENCY => ["USD"; 5],
            u::COST => [1.0, 2.0, 4.0, 8.0, 16.0],
            u::QUANTITY => [1.0; 5],
        )
        .unwrap();
        let out = usage_daily_collecting_series(charged(usage), date(2100, 1, 1))
            .unwrap()
            .collect()
            .unwrap();
        let got: Vec<NaiveDate> = out
            .column(d::USAGE_DATE)
            .unwrap()
            .date()
            .unwrap()
            .as_date_iter()
            .map(Option::unwrap)
            .collect();
        assert_eq!(
            got,
            [
                date(1900, 3, 1),
                date(1969, 12, 31),
                date(2100, 1, 1),
                date(2026, 11, 1)
            ]
        );
        // The two lines of c1 on 1969-12-31 are one row.
        assert_eq!(costs(&out), [4.0, 10.0, 1.0, 16.0]);
    }

    /// Lines of three customers (one without an id), subscriptions with and without ids, two
    /// currencies and a purchase, out of order.
    fn mixed_lines() -> LazyFrame {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let usage = df!(
            u::CUSTOMER_ID => [Some("c2"), None, Some("c1"), Some("c1"), Some("c1"), None, Some("c2")],
            u::ENTITLEMENT_ID => [Some("s1"), Some("s1"), None, Some("s1"), Some("s2"), Some("s1"), Some("s1")],
            u::METER_CATEGORY => ["Storage", "Storage", "Network", "Storage", "Storage", "Storage", "Storage"],
            u::USAGE_DATE => [day(2), day(1), day(1), day(2), day(1), day(1), day(2)],
            u::CURRENCY => ["USD", "USD", "EUR", "USD", "USD", "USD", "EUR"],
            u::COST => [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
            u::QUANTITY => [1.0; 7],
        )
        .unwrap();
        charged(usage)
    }

    /// usage_daily of `usage` as of the 30th, collected, by the given path and key.
    fn daily(usage: LazyFrame, series: &DataFrame, by: SeriesMatch, key: &DailyKey) -> DataFrame {
        daily_of_series(usage, series, day30(), by, key)
            .unwrap()
            .collect()
            .unwrap()
    }

    #[test]
    fn by_key_hash_and_by_text_keys_give_the_same_table() {
        let usage = mixed_lines();
        let s = series(usage.clone(), day30()).collect().unwrap();
        let key = DailyKey::of(&s, day30(), 64).unwrap();
        let by_hash = daily(usage.clone(), &s, SeriesMatch::Hash(Hashed::Full), &key);
        let by_text = daily(usage, &s, SeriesMatch::Keys, &key);
        assert!(by_hash.equals_missing(&by_text), "{by_hash}\n{by_text}");
        // c1 on the 1st: s2, then the line without a subscription (nulls last); c1 on the 2nd;
        // c2 on the 2nd: EUR, then USD; no customer (last): 2 + 32 on the 1st.
        assert_eq!(costs(&by_hash), [16.0, 4.0, 8.0, 64.0, 1.0, 34.0]);
    }

    #[test]
    fn the_key_in_one_column_and_in_two_give_the_same_table() {
        // 3 customer ranks (2 bits), days 0..29 since the first (5 bits), 6 series (3 bits): 10
        // bits, packed into one u64 unless the key may have fewer.
        let usage = mixed_lines();
        let s = series(usage.clone(), day30()).collect().unwrap();
        let one = DailyKey::of(&s, day30(), 64).unwrap();
        let two = DailyKey::of(&s, day30(), 9).unwrap();
        assert_eq!((one.packed_series_bits, one.day_bits), (Some(3), 5));
        assert_eq!(two.packed_series_bits, None);
        let by = SeriesMatch::Hash(Hashed::Full);
        let packed = daily(usage.clone(), &s, by, &one);
        let wide = daily(usage, &s, by, &two);
        assert!(packed.equals_missing(&wide), "{packed}\n{wide}");
        assert_eq!(costs(&wide), [16.0, 4.0, 8.0, 64.0, 1.0, 34.0]);
        let days: Vec<i32> = wide
            .column(d::USAGE_DATE)
            .unwrap()
            .cast(&DataType::Int32)
            .unwrap()
            .i32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let day = |d: u32| date_days(NaiveDate::from_ymd_opt(2026, 11, d).unwrap());
        assert_eq!(days, [day(1), day(1), day(2), day(2), day(2), day(1)]);
    }

    #[test]
    fn lines_found_by_subscription_and_meter_category_alone_give_the_same_table() {
        // Each subscription of one customer and currency (as in real exports): the narrow hash
        // tells the series apart. A line without a subscription or customer is a series too.
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let usage = charged(
            df!(
                u::CUSTOMER_ID => [Some("c2"), Some("c1"), Some("c1"), None, Some("c2"), Some("c1")],
                u::ENTITLEMENT_ID => [Some("s3"), Some("s1"), None, Some("s9"), Some("s3"), Some("s1")],
                u::METER_CATEGORY => ["Storage", "Storage", "Network", "Storage", "Compute", "Storage"],
                u::USAGE_DATE => [day(2), day(1), day(1), day(1), day(2), day(1)],
                u::CURRENCY => ["EUR", "USD", "USD", "USD", "EUR", "USD"],
                u::COST => [1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
                u::QUANTITY => [1.0; 6],
            )
            .unwrap(),
        );
        let s = series(usage.clone(), day30()).collect().unwrap();
        let key = DailyKey::of(&s, day30(), 64).unwrap();
        assert_eq!(
            SeriesMatch::of(&s).unwrap(),
            SeriesMatch::Hash(Hashed::Narrow)
        );
        let narrow = daily(usage.clone(), &s, SeriesMatch::of(&s).unwrap(), &key);
        let by_text = daily(usage, &s, SeriesMatch::Keys, &key);
        assert!(narrow.equals_missing(&by_text), "{narrow}\n{by_text}");
        // c1 on the 1st: s1 (2 + 32), no subscription (nulls last); c2 on the 2nd: s3 Compute,
        // then s3 Storage; no customer (last).
        assert_eq!(costs(&narrow), [34.0, 4.0, 16.0, 1.0, 8.0]);
    }

    #[test]
    fn the_narrow_hash_is_not_used_where_a_subscription_has_two_customers() {
        // mixed_lines: s1 Storage is a series of c2, of c1 and of no customer.
        let s = series(mixed_lines(), day30()).collect().unwrap();
        assert_eq!(
            SeriesMatch::of(&s).unwrap(),
            SeriesMatch::Hash(Hashed::Full)
        );
    }

    #[test]
    fn series_sharing_a_hash_are_still_told_apart_by_their_keys() {
        // Two series with one hash (forced here; 64-bit hashes of real keys have never collided)
        // must not be summed together: usage_daily then matches lines on the text keys.
        let usage = mixed_lines();
        let mut s = series(usage.clone(), day30()).collect().unwrap();
        let n = s.height();
        for hash in [KEY_HASH, NARROW_HASH] {
            s.with_column(UInt64Chunked::from_vec(hash.into(), vec![7; n]).into_column())
                .unwrap();
        }
        assert_eq!(SeriesMatch::of(&s).unwrap(), SeriesMatch::Keys);
        let out = usage_daily(usage, &s, day30()).unwrap().collect().unwrap();
        assert_eq!(costs(&out), [16.0, 4.0, 8.0, 64.0, 1.0, 34.0]);
    }

    #[test]
    fn series_from_the_usage_signals_groups_are_the_series_of_the_lines() {
        // Lines without a customer or a subscription, two currencies and a purchase: the
        // groups keep missing values apart from empty ones, as the series do.
        let usage = crate::testutil::frame(&u::DEF, mixed_lines().collect().unwrap()).with_column(
            when(col(u::COST).eq(lit(8.0)))
                .then(lit(PURCHASE))
                .otherwise(col(u::CHARGE_CATEGORY))
                .alias(u::CHARGE_CATEGORY),
        );
        let cfg = crate::analysis::usage_signals::UsageSignalConfig::default();
        let groups = crate::analysis::usage_signals::usage_groups(usage.clone(), day30(), &cfg);
        let of_groups = series_of_groups(groups).collect().unwrap();
        let of_lines = series(usage, day30()).collect().unwrap();
        assert!(
            of_groups.equals_missing(&of_lines),
            "{of_groups}\n{of_lines}"
        );
        // c1 (s2, no subscription), c2 (EUR, USD), no customer; the purchase (c1 s1) is none.
        assert_eq!(of_lines.height(), 5);
    }

    fn day30() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    #[test]
    fn null_keys_group_together_and_sort_last_on_either_engine() {
        // Rows without a customer or a subscription still count: nulls match each other (one
        // group per day) and sort after every value, as in a plain sort with nulls last.
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let usage = df!(
            u::CUSTOMER_ID => [None, Some("c1"), None, Some("c1"), Some("c1")],
            u::ENTITLEMENT_ID => [Some("s1"), None, Some("s1"), Some("s1"), None],
            u::METER_CATEGORY => ["Storage"; 5],
            u::USAGE_DATE => [day(1), day(1), day(1), day(1), day(2)],
            u::CURRENCY => ["USD"; 5],
            u::COST => [1.0, 2.0, 4.0, 8.0, 16.0],
            u::QUANTITY => [1.0; 5],
        )
        .unwrap();
        for engine in [Engine::InMemory, Engine::Streaming] {
            let plan = usage_daily_collecting_series(charged(usage.clone()), day(30))
                .unwrap()
                .logical_plan;
            let out = LazyFrame::collect_all_with_engine(vec![plan], engine, OptFlags::default())
                .unwrap()
                .pop()
                .unwrap();
            // c1 on the 1st: s1 (8), then no subscription (2); c1 on the 2nd (16); no customer
            // on the 1st: 1 + 4.
            assert_eq!(costs(&out), [8.0, 2.0, 16.0, 5.0], "{engine:?}");
            let subs: Vec<Option<&str>> = out
                .column(d::ENTITLEMENT_ID)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .collect();
            assert_eq!(subs, [Some("s1"), None, None, Some("s1")], "{engine:?}");
        }
    }

    #[test]
    fn per_customer_day_sums_subscriptions_meters_and_currencies() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let daily = df!(
            d::CUSTOMER_ID => ["c2", "c1", "c1", "c1"],
            d::ENTITLEMENT_ID => ["s1", "s1", "s2", "s1"],
            d::METER_CATEGORY => ["Storage", "Storage", "Network", "Storage"],
            d::USAGE_DATE => [day(1), day(2), day(2), day(1)],
            d::CURRENCY => ["USD", "USD", "EUR", "USD"],
            d::COST => [1.5, 2.25, 0.5, 4.0],
        )
        .unwrap();
        let out = per_customer_day(daily.lazy()).collect().unwrap();
        let ids: Vec<Option<&str>> = out
            .column(d::CUSTOMER_ID)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        let cost = costs(&out);
        // c1 on the 1st: 4.0; c1 on the 2nd: 2.25 + 0.5 (two subscriptions); c2 on the 1st: 1.5.
        assert_eq!(ids, [Some("c1"), Some("c1"), Some("c2")]);
        assert_eq!(cost, [4.0, 2.75, 1.5]);
    }

    #[test]
    fn cost_per_customer_day_gives_reconciliation_the_figures_of_the_lines() {
        // Floats that do not add up exactly as floats: 0.1 + 0.2 + 0.3 is 0.6000000000000001.
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let usage = df!(
            u::CUSTOMER_ID => ["c1", "c1", "c1", "c1", "c2"],
            u::USAGE_DATE => [day(1), day(1), day(2), day(1), day(3)],
            u::CURRENCY => ["USD", "USD", "USD", "EUR", "USD"],
            u::COST => [0.1, 0.2, 0.3, 5.0, 1e-9],
        )
        .unwrap();
        let usage = charged(usage);
        let days = cost_per_customer_day(usage.clone())
            .sort(
                [u::CUSTOMER_ID, u::CURRENCY, u::USAGE_DATE],
                SortMultipleOptions::default(),
            )
            .collect()
            .unwrap();
        // One row per customer, currency and day; cost an exact Decimal sum.
        assert_eq!(days.height(), 4);
        let cost: Vec<f64> = days
            .column(u::COST)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(cost, [5.0, 0.3, 0.3, 1e-9]);
        // Reconciliation from the day sums equals reconciliation from the lines, bit for bit:
        // c1 USD 2026-10 is 0.6 (not 0.6000000000000001).
        let recon = |usage: LazyFrame| {
            crate::analysis::reconciliation::reconciliation(
                usage,
                crate::ingest::Inputs::empty().billed,
                crate::ingest::Inputs::empty().invoices,
                day(31),
            )
            .collect()
            .unwrap()
        };
        let from_lines = recon(usage.clone());
        let from_days = recon(cost_per_customer_day(usage));
        assert!(
            from_lines.equals_missing(&from_days),
            "{from_lines}\n{from_days}"
        );
        let c1_usd = from_days
            .clone()
            .lazy()
            .filter(
                col(crate::schema::reconciliation::CUSTOMER_ID)
                    .eq(lit("c1"))
                    .and(col(crate::schema::reconciliation::CURRENCY).eq(lit("USD"))),
            )
            .collect()
            .unwrap();
        assert_eq!(
            c1_usd
                .column(crate::schema::reconciliation::USAGE_COST)
                .unwrap()
                .f64()
                .unwrap()
                .get(0),
            Some(0.6)
        );
    }
}
