//! Ingestion: finds the files of each source in the input folder (SPEC section 3), reads them as
//! they were downloaded, and turns each source into its canonical table (schema.rs) plus the rows
//! it rejected. Analyses only ever see `Inputs`.
//!
//! `sources/` has one file per source (usage.rs, invoices.rs, activity.rs, ...): which columns it
//! needs and under which names, and how its records become rows. `read/` is how files are read,
//! below every source: bytes and the one gzip policy, JSON and CSV with real line numbers, header
//! names, frames, the common typed path of tabular sources and the parsing of values. This file
//! finds the files, sends each to its reader and accounts for every row. The orchestrator
//! collects.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, PolarsContext, Result};
use crate::schema;
use read::{csv_file, tabular};
use sources::{
    activity, billed, budgets, customers, dispositions, fraud_events, fx_rates, graph_export,
    invoices, payments,
};

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod read;
pub mod sources;

pub use read::{hash_file, FileInfo, RawRead, Rejected};
// The paths code outside ingest used before the readers moved into read/ and sources/.
pub use read::{convert, values};
pub use sources::{canonical, usage};

/// Every canonical input table as a LazyFrame with the schema of `schema.rs`. Absent optional
/// sources are empty frames of the right schema, so analyses never branch on presence.
#[derive(Clone)]
pub struct Inputs {
    pub usage: LazyFrame,
    pub billed: LazyFrame,
    pub invoices: LazyFrame,
    pub payments: LazyFrame,
    pub activity: LazyFrame,
    pub audit_records: LazyFrame,
    pub budgets: LazyFrame,
    pub customers: LazyFrame,
    pub fraud_events: LazyFrame,
    pub fx_rates: LazyFrame,
    pub dispositions: LazyFrame,
}

impl Inputs {
    /// All tables empty: the starting point for unit tests, which replace the ones they need.
    pub fn empty() -> Inputs {
        Inputs {
            usage: schema::usage::DEF.empty().lazy(),
            billed: schema::billed::DEF.empty().lazy(),
            invoices: schema::invoices::DEF.empty().lazy(),
            payments: schema::payments::DEF.empty().lazy(),
            activity: schema::activity::DEF.empty().lazy(),
            audit_records: schema::audit_records::DEF.empty().lazy(),
            budgets: schema::budgets::DEF.empty().lazy(),
            customers: schema::customers::DEF.empty().lazy(),
            fraud_events: schema::fraud_events::DEF.empty().lazy(),
            fx_rates: schema::fx_rates::DEF.empty().lazy(),
            dispositions: schema::dispositions::DEF.empty().lazy(),
        }
    }

    /// (table name, frame) for every input, in SPEC order: what `billrisk query` registers.
    pub fn named(&self) -> Vec<(&'static str, LazyFrame)> {
        vec![
            (schema::usage::TABLE, self.usage.clone()),
            (schema::billed::TABLE, self.billed.clone()),
            (schema::invoices::TABLE, self.invoices.clone()),
            (schema::payments::TABLE, self.payments.clone()),
            (schema::activity::TABLE, self.activity.clone()),
            (schema::audit_records::TABLE, self.audit_records.clone()),
            (schema::budgets::TABLE, self.budgets.clone()),
            (schema::customers::TABLE, self.customers.clone()),
            (schema::fraud_events::TABLE, self.fraud_events.clone()),
            (schema::fx_rates::TABLE, self.fx_rates.clone()),
            (schema::dispositions::TABLE, self.dispositions.clone()),
        ]
    }
}

/// Which reader a discovered file goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Tabular(&'static str),
    Activity,
    FraudEvents,
    /// A Parquet file `billrisk ingest` wrote, holding this canonical table (or rejected_rows).
    Canonical(&'static str),
}

impl Reader {
    /// Whether a file this reader's place in the layout holds may be marked as `table`.
    fn may_hold(self, table: &str) -> bool {
        match self {
            Reader::Tabular(t) | Reader::Canonical(t) => t == table,
            Reader::Activity => {
                table == schema::activity::TABLE || table == schema::audit_records::TABLE
            }
            Reader::FraudEvents => table == schema::fraud_events::TABLE,
        }
    }
}

/// The canonical files of `input` (`billrisk ingest` wrote them) holding `table`, in discovery
/// order: what `--cluster` reads on the executors.
pub fn converted(input: &Path, table: &str) -> Result<Vec<PathBuf>> {
    Ok(discover(input)?
        .into_iter()
        .filter(|f| matches!(f.reader, Reader::Canonical(t) if t == table))
        .map(|f| f.path)
        .collect())
}

/// The files of `input` that may hold one of `tables` and are not canonical (`billrisk ingest`
/// did not write them), in discovery order: what `--cluster` refuses (see `cluster`).
pub fn unconverted(input: &Path, tables: &[&str]) -> Result<Vec<PathBuf>> {
    Ok(discover(input)?
        .into_iter()
        .filter(|f| {
            !matches!(f.reader, Reader::Canonical(_)) && tables.iter().any(|t| f.reader.may_hold(t))
        })
        .map(|f| f.path)
        .collect())
}

/// A file found in the input folder.
#[derive(Debug, Clone)]
pub struct Found {
    pub reader: Reader,
    pub path: PathBuf,
    pub display: String,
}

const EXTENSIONS: [&str; 7] = [
    ".csv",
    ".csv.gz",
    ".json",
    ".jsonl",
    ".json.gz",
    ".jsonl.gz",
    ".parquet",
];

fn supported(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// Every supported file below `dir`, sorted by path (so runs are reproducible).
fn files_below(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| Error::input_file(d.clone(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::input_file(d.clone(), e))?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if supported(&entry.file_name().to_string_lossy()) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Entries of `dir` whose name starts with `prefix` (files, or every file inside a folder).
fn entries_with_prefix(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::input_file(dir.to_path_buf(), e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if !name.starts_with(prefix) {
            continue;
        }
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_below(&p)?);
        } else if supported(&name) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Finds every input file by the layout of SPEC section 3. Required sources must have a file.
pub fn discover(input: &Path) -> Result<Vec<Found>> {
    if !input.is_dir() {
        return Err(Error::input_file(
            input.to_path_buf(),
            "expected an input folder, found none",
        ));
    }
    let display = |p: &Path| {
        p.strip_prefix(input)
            .unwrap_or(p)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    let dir_or_empty = |d: PathBuf| {
        if d.is_dir() {
            files_below(&d)
        } else {
            Ok(Vec::new())
        }
    };
    let receivables = input.join("receivables");
    let groups: Vec<(Reader, Vec<PathBuf>, Option<&str>)> = vec![
        // A Microsoft Graph billing download is checked against its manifest here, and the
        // manifest (no rows) left out (see graph_export.rs).
        (
            Reader::Tabular(schema::usage::TABLE),
            graph_export::resolve(dir_or_empty(input.join("usage"))?)?,
            Some("usage/*.csv"),
        ),
        (
            Reader::Tabular(schema::billed::TABLE),
            graph_export::resolve(dir_or_empty(input.join("billed"))?)?,
            None,
        ),
        (
            Reader::Tabular(schema::invoices::TABLE),
            entries_with_prefix(&receivables, "invoices")?,
            Some("receivables/invoices*.csv"),
        ),
        (
            Reader::Tabular(schema::payments::TABLE),
            entries_with_prefix(&receivables, "payments")?,
            Some("receivables/payments*.csv"),
        ),
        (
            Reader::Activity,
            dir_or_empty(input.join("activity"))?,
            None,
        ),
        (
            Reader::Tabular(schema::budgets::TABLE),
            entries_with_prefix(input, "budgets")?,
            None,
        ),
        (
            Reader::Tabular(schema::customers::TABLE),
            entries_with_prefix(input, "customers")?,
            None,
        ),
        (
            Reader::FraudEvents,
            entries_with_prefix(input, "fraud_events")?,
            None,
        ),
        (
            Reader::Tabular(schema::fx_rates::TABLE),
            entries_with_prefix(input, "fx_rates")?,
            None,
        ),
        (
            Reader::Tabular(schema::dispositions::TABLE),
            entries_with_prefix(input, "dispositions")?,
            None,
        ),
        // The rows a conversion rejected: read only from a file `billrisk ingest` marked.
        (
            Reader::Canonical(schema::rejected_rows::TABLE),
            entries_with_prefix(input, "rejected_rows")?,
            None,
        ),
    ];
    let mut out = Vec::new();
    for (reader, paths, required) in groups {
        let paths = paths
            .into_iter()
            .map(|p| Ok((marked(reader, &p, &display(&p))?, p)))
            .collect::<Result<Vec<_>>>()?;
        let paths: Vec<(Reader, PathBuf)> = paths
            .into_iter()
            .filter_map(|(r, p)| r.map(|r| (r, p)))
            .collect();
        if paths.is_empty() {
            if let (Some(expected), Reader::Tabular(name)) = (required, reader) {
                return Err(Error::MissingSource {
                    source_name: name,
                    dir: input.to_path_buf(),
                    expected: expected.to_string(),
                });
            }
        }
        out.extend(paths.into_iter().map(|(reader, p)| Found {
            reader,
            display: display(&p),
            path: p,
        }));
    }
    Ok(out)
}

/// The reader of a file found at `reader`'s place in the layout: a Parquet file marked by
/// `billrisk ingest` is canonical (when its table belongs there), any other file keeps the
/// place's reader. None for a file that is not an input (an unmarked rejected_rows file).
fn marked(reader: Reader, path: &Path, display: &str) -> Result<Option<Reader>> {
    let carried_place = matches!(reader, Reader::Canonical(_));
    if !display.to_ascii_lowercase().ends_with(".parquet") {
        return Ok((!carried_place).then_some(reader));
    }
    match canonical::marker(path)? {
        None => Ok((!carried_place).then_some(reader)),
        Some((table, version)) => match canonical::def(&table) {
            Some(def) if reader.may_hold(def.name) => Ok(Some(Reader::Canonical(def.name))),
            _ => Err(Error::input_file(path.to_path_buf(), format!(
                    "marked by billrisk {version} as table {table}, which does not belong at {display}"
                ))),
        },
    }
}

pub(crate) fn tabular_source(table: &str) -> Option<&'static tabular::Source> {
    const SOURCES: [&tabular::Source; 8] = [
        &usage::SOURCE,
        &billed::SOURCE,
        &invoices::SOURCE,
        &payments::SOURCE,
        &budgets::SOURCE,
        &customers::SOURCE,
        &fx_rates::SOURCE,
        &dispositions::SOURCE,
    ];
    SOURCES.into_iter().find(|s| s.table == table)
}

/// Everything ingestion produced, still lazy.
pub struct Loaded {
    pub inputs: Inputs,
    /// rejected_rows found by the structural pre-pass, the JSON readers and the unique-key check;
    /// `raw` is filled in by `fill_raw` after collection.
    pub rejected: LazyFrame,
    /// Per tabular file, the plan of the rows its values reject: run only for files whose rows are
    /// not all accounted for once the inputs are collected (see `unaccounted_files`).
    pub value_rejects: Vec<FileRejects>,
    pub files: Vec<FileInfo>,
    /// The one usage file when it is canonical (`billrisk ingest` wrote it): already the staged
    /// usage table, so it is scanned where it is instead of being streamed into a copy.
    pub usage_file: Option<PathBuf>,
}

/// The value-rejected rows of one file, as a plan.
pub struct FileRejects {
    pub table: &'static str,
    /// As in `FileInfo::display` and the source_file column.
    pub file: String,
    pub plan: LazyFrame,
}

/// One file's contribution: typed frame for its table, rejected rows.
struct Part {
    table: &'static str,
    accepted: Option<LazyFrame>,
    rejected: Option<LazyFrame>,
    structural: Vec<Rejected>,
    info: Vec<FileInfo>,
    /// Rejected rows an earlier conversion found (a marked rejected_rows file).
    carried: Option<LazyFrame>,
}

fn read_found(f: &Found, scratch: &Path) -> Result<Vec<Part>> {
    match f.reader {
        Reader::Tabular(table) => {
            let source = tabular_source(table)
                .ok_or_else(|| Error::Internal(format!("no reader for source {table}")))?;
            let r = tabular::read_file(source, &f.path, &f.display, scratch)?;
            let (accepted, rejected) = match r.typed {
                Some(t) => (Some(t.accepted), Some(t.rejected)),
                None => (None, None),
            };
            Ok(vec![Part {
                table,
                accepted,
                rejected,
                structural: r.structural,
                info: vec![r.info],
                carried: None,
            }])
        }
        Reader::Canonical(table) => read_canonical(f, table),
        Reader::Activity | Reader::FraudEvents => read_raw(f),
    }
}

/// A file `billrisk ingest` wrote: a canonical table taken as it is, or the rejected rows of the
/// conversion, reported per source as that many rows read and rejected.
fn read_canonical(f: &Found, table: &'static str) -> Result<Vec<Part>> {
    let def = canonical::def(table)
        .ok_or_else(|| Error::Internal(format!("no canonical table {table}")))?;
    let lf = canonical::scan(&f.path, def)?;
    let (size, sha256) = hash_file(&f.path)?;
    let info = |table: &'static str, rows_read: u64, first: bool, carried: bool| FileInfo {
        table,
        path: f.path.clone(),
        display: f.display.clone(),
        size: if first { size } else { 0 },
        sha256: sha256.clone(),
        rows_read,
        carried,
    };
    if table != schema::rejected_rows::TABLE {
        let rows = crate::files::parquet_rows(&f.path)?;
        return Ok(vec![Part {
            table,
            accepted: Some(lf),
            rejected: None,
            structural: Vec::new(),
            info: vec![info(table, rows, true, false)],
            carried: None,
        }]);
    }
    let rows = lf.collect().stage("rejected rows")?;
    let per_source = count_by(&rows, schema::rejected_rows::SOURCE)?;
    let mut infos = Vec::new();
    for (i, (source, n)) in per_source.into_iter().enumerate() {
        let source = canonical::def(&source)
            .filter(|d| d.name != schema::rejected_rows::TABLE)
            .ok_or_else(|| {
                Error::input_file(
                    f.path.clone(),
                    format!("rejected rows of an unknown source {source:?}"),
                )
            })?;
        infos.push(info(source.name, n, i == 0, true));
    }
    Ok(vec![Part {
        table,
        accepted: None,
        rejected: None,
        structural: Vec::new(),
        info: infos,
        carried: Some(rows.lazy()),
    }])
}

/// Rows per value of a text column, in value order.
pub fn count_by(df: &DataFrame, column: &str) -> Result<std::collections::BTreeMap<String, u64>> {
    let c = df
        .column(column)
        .stage("counting")?
        .str()
        .stage("counting")?;
    let mut out = std::collections::BTreeMap::new();
    for v in c.iter() {
        *out.entry(v.unwrap_or("").to_string()).or_insert(0) += 1;
    }
    Ok(out)
}

/// Readers that produce typed frames themselves (JSON-shaped sources).
fn read_raw(f: &Found) -> Result<Vec<Part>> {
    let reads: Vec<RawRead> = raw_readers(f)?;
    let (size, sha256) = hash_file(&f.path)?;
    let mut parts = Vec::new();
    for (i, r) in reads.into_iter().enumerate() {
        parts.push(Part {
            table: r.table,
            accepted: Some(r.frame.lazy()),
            rejected: None,
            structural: r.rejected,
            // A file feeding two tables is reported once per table; size and hash only once.
            info: vec![FileInfo {
                table: r.table,
                path: f.path.clone(),
                display: f.display.clone(),
                size: if i == 0 { size } else { 0 },
                sha256: sha256.clone(),
                rows_read: r.rows_read,
                carried: false,
            }],
            carried: None,
        });
    }
    Ok(parts)
}

/// Reads every input. Files are read in parallel (structural checks, hashing, JSON parsing);
/// the typed frames stay lazy.
pub fn load(input: &Path, scratch: &Path) -> Result<Loaded> {
    let found = discover(input)?;
    let usage_files: Vec<&Found> = found
        .iter()
        .filter(|f| f.reader.may_hold(schema::usage::TABLE))
        .collect();
    let usage_file = match usage_files[..] {
        [f] if f.reader == Reader::Canonical(schema::usage::TABLE) => Some(f.path.clone()),
        _ => None,
    };
    // Largest files first, one task each, so that the last ones to finish are small: a 1.5 GB
    // export started last would leave the other core idle while it is read. Results keep the
    // order of `found`.
    let mut by_size: Vec<(u64, usize)> = found
        .iter()
        .enumerate()
        .map(|(i, f)| (std::fs::metadata(&f.path).map(|m| m.len()).unwrap_or(0), i))
        .collect();
    by_size.sort_by(|a, b| b.cmp(a));
    let mut done: Vec<(usize, Result<Vec<Part>>)> = by_size
        .par_iter()
        .with_max_len(1)
        .map(|&(_, i)| (i, read_found(&found[i], scratch)))
        .collect();
    done.sort_by_key(|(i, _)| *i);
    let results = done.into_iter().map(|(_, r)| r);
    let mut parts = Vec::new();
    for r in results {
        parts.extend(r?);
    }
    let mut files = Vec::new();
    let mut structural = Vec::new();
    let mut rejected_frames = Vec::new();
    let mut value_rejects = Vec::new();
    // Per table, (file as displayed, rows): concatenated in file order, each file's rows in line
    // order, so a table is already in (source_file, source_line) order, the canonical order, and
    // usage can be streamed to disk without a sort.
    let mut by_table: std::collections::BTreeMap<&'static str, Vec<(String, LazyFrame)>> =
        Default::default();
    for p in parts {
        // A tabular part has exactly one file.
        let display = p.info.first().map(|f| f.display.clone());
        files.extend(p.info);
        structural.extend(p.structural);
        rejected_frames.extend(p.carried);
        if let (Some(plan), Some(file)) = (p.rejected, display.clone()) {
            value_rejects.push(FileRejects {
                table: p.table,
                file,
                plan,
            });
        }
        if let Some(a) = p.accepted {
            by_table
                .entry(p.table)
                .or_default()
                .push((display.unwrap_or_default(), a));
        }
    }
    rejected_frames.push(rejected_frame(&structural).stage("rejected rows")?.lazy());

    let mut table = |def: &schema::TableDef| -> Result<LazyFrame> {
        match by_table.remove(def.name) {
            None => Ok(def.empty().lazy()),
            Some(mut frames) => {
                frames.sort_by(|a, b| a.0.cmp(&b.0));
                let frames = frames.into_iter().map(|(_, lf)| lf).collect::<Vec<_>>();
                let all = concat(frames, UnionArgs::default()).stage("ingest")?;
                // Ids repeat across files as often as within one (overlapping exports).
                let (kept, repeated) = tabular::reject_repeated_keys(def, all)?;
                rejected_frames.extend(repeated);
                Ok(kept)
            }
        }
    };
    let inputs = Inputs {
        usage: table(&schema::usage::DEF)?,
        billed: table(&schema::billed::DEF)?,
        invoices: table(&schema::invoices::DEF)?,
        payments: table(&schema::payments::DEF)?,
        activity: table(&schema::activity::DEF)?,
        audit_records: table(&schema::audit_records::DEF)?,
        budgets: table(&schema::budgets::DEF)?,
        customers: table(&schema::customers::DEF)?,
        fraud_events: table(&schema::fraud_events::DEF)?,
        fx_rates: table(&schema::fx_rates::DEF)?,
        dispositions: table(&schema::dispositions::DEF)?,
    };
    let rejected = concat(rejected_frames, UnionArgs::default()).stage("rejected rows")?;
    Ok(Loaded {
        inputs,
        rejected,
        value_rejects,
        files,
        usage_file,
    })
}

/// Rows per file of a canonical table, by its source_file column.
pub fn rows_per_file(table: LazyFrame) -> Result<std::collections::BTreeMap<String, u64>> {
    let counts = table
        .group_by([col(schema::SOURCE_FILE)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .collect()
        .stage("counting rows")?;
    let files = counts
        .column(schema::SOURCE_FILE)
        .stage("counting rows")?
        .str()
        .stage("counting rows")?;
    let n = counts
        .column("n")
        .stage("counting rows")?
        .u64()
        .stage("counting rows")?;
    Ok(files
        .iter()
        .zip(n.iter())
        .map(|(f, n)| (f.unwrap_or("").to_string(), n.unwrap_or(0)))
        .collect())
}

/// The files some of whose rows are neither among the accepted rows (`accepted`, rows per
/// (table, file)) nor among the `rejected` rows found so far (rows per file): those rows are
/// value rejects, and only these files' reject plans need to run. A clean file's plan would
/// re-read and re-check every row to find none.
pub fn unaccounted_files(
    value_rejects: &[FileRejects],
    files: &[FileInfo],
    accepted: &std::collections::BTreeMap<(String, String), u64>,
    rejected: &std::collections::BTreeMap<String, u64>,
) -> Vec<usize> {
    value_rejects
        .iter()
        .enumerate()
        .filter(|(_, v)| {
            let read: u64 = files
                .iter()
                .filter(|f| f.table == v.table && f.display == v.file)
                .map(|f| f.rows_read)
                .sum();
            let kept = accepted
                .get(&(v.table.to_string(), v.file.clone()))
                .copied()
                .unwrap_or(0);
            let known = rejected.get(&v.file).copied().unwrap_or(0);
            kept + known < read
        })
        .map(|(i, _)| i)
        .collect()
}

/// The usage side of [`map_activity_to_customers`]: the customer of each Azure subscription
/// (usage entitlement_id) and every known customer (tenant). Small tables, read from all of usage:
/// collect them on the streaming engine (at 10M usage lines, 0.75 GiB instead of 1.9 GiB).
pub fn customer_lookups(usage: &LazyFrame) -> Vec<LazyFrame> {
    use schema::usage as u;
    let by_subscription = usage
        .clone()
        .filter(col(u::ENTITLEMENT_ID).is_not_null())
        .group_by([col(u::ENTITLEMENT_ID)])
        .agg([col(u::CUSTOMER_ID).min().alias("__cust_by_sub")]);
    let tenants = usage
        .clone()
        .select([col(u::CUSTOMER_ID).alias("__tenant")])
        .unique(None, UniqueKeepStrategy::Any)
        .with_column(col("__tenant").alias("__cust_by_tenant"));
    vec![by_subscription, tenants]
}

/// Activity events name an Azure subscription (usage entitlement_id) or a tenant (customer_id):
/// the subscription wins, then the tenant when it is a known customer. `lookups` are
/// [`customer_lookups`]'s; events keep their order.
pub fn map_activity_to_customers(activity: LazyFrame, lookups: Vec<LazyFrame>) -> LazyFrame {
    use schema::activity as a;
    use schema::usage as u;
    let mut lookups = lookups.into_iter();
    let (Some(by_subscription), Some(tenants)) = (lookups.next(), lookups.next()) else {
        return activity;
    };
    let mut in_order = JoinArgs::new(JoinType::Left);
    in_order.maintain_order = MaintainOrderJoin::Left;
    activity
        .join(
            by_subscription,
            [col(a::SUBSCRIPTION_ID)],
            [col(u::ENTITLEMENT_ID)],
            in_order.clone(),
        )
        .join(tenants, [col(a::TENANT_ID)], [col("__tenant")], in_order)
        .with_column(
            coalesce(&[
                col("__cust_by_sub"),
                col("__cust_by_tenant"),
                col(a::CUSTOMER_ID),
            ])
            .alias(a::CUSTOMER_ID),
        )
        .select(
            a::DEF
                .column_names()
                .into_iter()
                .map(col)
                .collect::<Vec<_>>(),
        )
}

/// Rejected rows found outside Polars, as a frame of the rejected_rows schema.
pub fn rejected_frame(rows: &[Rejected]) -> PolarsResult<DataFrame> {
    use schema::rejected_rows as r;
    df!(
        r::SOURCE => rows.iter().map(|x| x.source.clone()).collect::<Vec<_>>(),
        r::FILE => rows.iter().map(|x| x.file.clone()).collect::<Vec<_>>(),
        r::LINE => rows.iter().map(|x| x.line).collect::<Vec<_>>(),
        r::COLUMN => rows.iter().map(|x| x.column.clone()).collect::<Vec<_>>(),
        r::REASON => rows.iter().map(|x| x.reason.clone()).collect::<Vec<_>>(),
        r::RAW => rows.iter().map(|x| Some(x.raw.clone())).collect::<Vec<_>>(),
    )
}

/// Fills the raw text of rejected rows that only have a line number, reading those lines from
/// their files, and sorts the table by source, file, line, column.
pub fn fill_raw(rejected: DataFrame, files: &[FileInfo]) -> Result<DataFrame> {
    use schema::rejected_rows as r;
    let file_col = rejected
        .column(r::FILE)
        .stage("rejected rows")?
        .str()
        .stage("rejected rows")?
        .clone();
    let line_col = rejected
        .column(r::LINE)
        .stage("rejected rows")?
        .i64()
        .stage("rejected rows")?
        .clone();
    let raw_col = rejected
        .column(r::RAW)
        .stage("rejected rows")?
        .str()
        .stage("rejected rows")?
        .clone();
    let mut wanted: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for i in 0..rejected.height() {
        if raw_col.get(i).is_none() {
            if let (Some(f), Some(l)) = (file_col.get(i), line_col.get(i)) {
                wanted.entry(f.to_string()).or_default().push(l);
            }
        }
    }
    let texts: Vec<(String, std::collections::HashMap<i64, String>)> = wanted
        .into_par_iter()
        .map(|(display, lines)| {
            let path = files
                .iter()
                .find(|f| f.display == display)
                .map(|f| f.path.clone());
            let map = match path {
                Some(p) if !display.to_ascii_lowercase().ends_with(".parquet") => {
                    csv_file::read_lines(&p, &lines).unwrap_or_default()
                }
                _ => Default::default(),
            };
            (display, map)
        })
        .collect();
    let lookup: std::collections::HashMap<String, std::collections::HashMap<i64, String>> =
        texts.into_iter().collect();
    let raw: StringChunked = (0..rejected.height())
        .map(|i| match raw_col.get(i) {
            Some(s) => Some(s.to_string()),
            None => {
                let f = file_col.get(i)?;
                let l = line_col.get(i)?;
                lookup.get(f).and_then(|m| m.get(&l)).cloned()
            }
        })
        .collect();
    let mut out = rejected;
    out.with_column(raw.with_name(r::RAW.into()).into_column())
        .stage("rejected rows")?;
    out.lazy()
        .sort(
            [r::SOURCE, r::FILE, r::LINE, r::COLUMN],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
        .stage("rejected rows")
}

/// The JSON-shaped readers (activity logs, audit records, fraud events).
fn raw_readers(f: &Found) -> Result<Vec<RawRead>> {
    match f.reader {
        Reader::Activity => activity_reader(&f.path, &f.display),
        Reader::FraudEvents => fraud_reader(&f.path, &f.display).map(|r| vec![r]),
        Reader::Tabular(_) | Reader::Canonical(_) => {
            Err(Error::Internal("tabular file sent to a JSON reader".into()))
        }
    }
}

fn activity_reader(path: &Path, display: &str) -> Result<Vec<RawRead>> {
    activity::read_activity_file(path, display)
}

fn fraud_reader(path: &Path, display: &str) -> Result<RawRead> {
    fraud_events::read_fraud_events_file(path, display)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn info(display: &str, rows_read: u64) -> FileInfo {
        FileInfo {
            table: schema::usage::TABLE,
            path: PathBuf::from(display),
            display: display.to_string(),
            size: 0,
            sha256: String::new(),
            rows_read,
            carried: false,
        }
    }

    fn rejects(file: &str) -> FileRejects {
        FileRejects {
            table: schema::usage::TABLE,
            file: file.to_string(),
            plan: schema::rejected_rows::DEF.empty().lazy(),
        }
    }

    #[test]
    fn only_files_with_rows_unaccounted_for_run_their_reject_plans() {
        let files = [info("a.csv", 10), info("b.csv", 10), info("c.csv", 10)];
        let plans = [rejects("a.csv"), rejects("b.csv"), rejects("c.csv")];
        let accepted: BTreeMap<(String, String), u64> = [
            (("usage".to_string(), "a.csv".to_string()), 10), // clean
            (("usage".to_string(), "b.csv".to_string()), 8),  // 1 structural + 1 by value
            (("usage".to_string(), "c.csv".to_string()), 7),  // 3 structural
        ]
        .into_iter()
        .collect();
        let rejected: BTreeMap<String, u64> = [("b.csv".to_string(), 1), ("c.csv".to_string(), 3)]
            .into_iter()
            .collect();
        assert_eq!(unaccounted_files(&plans, &files, &accepted, &rejected), [1]);
        // A file none of whose rows was accepted is all value rejects until shown otherwise.
        assert_eq!(
            unaccounted_files(&plans, &files, &BTreeMap::new(), &rejected),
            [0, 1, 2]
        );
    }

    #[test]
    fn rows_per_file_counts_the_source_file_column() {
        let df = df!(schema::SOURCE_FILE => ["a.csv", "b.csv", "a.csv"]).unwrap();
        let n = rows_per_file(df.lazy()).unwrap();
        assert_eq!(n.get("a.csv"), Some(&2));
        assert_eq!(n.get("b.csv"), Some(&1));
    }
}
