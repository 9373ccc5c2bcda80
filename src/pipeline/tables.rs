//! The tables a run computes, typed: [`Analyses`] (every output table but `changes`, as `compute`
//! gives them) and [`OutputTables`] (with `changes`, after the comparison with the previous run).
//! One field per table, so a table a later step reads cannot be missing at run time. Where all
//! tables are walked (writing, pseudonymizing, query's catalog, the manifest),
//! [`OutputTables::named_mut`] gives them in the one fixed order: by name, as the files of
//! tables/ are listed in the manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::output;
use crate::schema;

/// A table held in memory, or one too large to hold: a Parquet file in the run's scratch folder,
/// written exactly as the output's own tables (copied into the output, not re-encoded).
pub enum Staged {
    Frame(DataFrame),
    File(PathBuf),
}

/// A table of [`OutputTables::named_mut`]: in memory (writable in place) or a staged file.
pub enum TableMut<'a> {
    Frame(&'a mut DataFrame),
    File(&'a Path),
}

impl Staged {
    pub fn as_table_mut(&mut self) -> TableMut<'_> {
        match self {
            Staged::Frame(df) => TableMut::Frame(df),
            Staged::File(file) => TableMut::File(file),
        }
    }

    /// The table as a plan: the frame, or a scan of the file.
    pub fn lazy(&self) -> Result<LazyFrame> {
        match self {
            Staged::Frame(df) => Ok(df.clone().lazy()),
            Staged::File(file) => output::scan_own_parquet(file),
        }
    }

    /// Reads a staged file into memory (pseudonymizing rewrites every table in memory).
    pub fn load(&mut self) -> Result<&mut DataFrame> {
        if let Staged::File(file) = self {
            *self = Staged::Frame(super::collect::read_staged(file)?);
        }
        match self {
            Staged::Frame(df) => Ok(df),
            Staged::File(_) => Err(Error::Internal("a staged table was not loaded".into())),
        }
    }
}

/// The canonical input tables as a run writes them to inputs/, by name (usage staged).
pub type InputTables = BTreeMap<String, Staged>;

/// Every output table of SPEC 5 but `changes`, as the analyses give them.
pub struct Analyses {
    pub aging_customers: DataFrame,
    pub aging_invoices: DataFrame,
    pub anomalies: DataFrame,
    pub budget_alerts: DataFrame,
    pub budget_daily: DataFrame,
    pub budget_status: DataFrame,
    pub collections_actions: DataFrame,
    /// With a reporting currency only.
    pub converted_totals: Option<DataFrame>,
    pub exposure: DataFrame,
    pub reconciliation: DataFrame,
    pub rejected_rows: DataFrame,
    pub risk_review: DataFrame,
    pub risk_scores: DataFrame,
    pub unapplied_credit: DataFrame,
    /// Nearly a row per usage row: staged as a file, in memory only once pseudonymized.
    pub usage_daily: Staged,
}

/// Every output table of SPEC 5: the analyses and what changed since the previous run.
pub struct OutputTables {
    pub analyses: Analyses,
    pub changes: DataFrame,
}

impl OutputTables {
    /// Every table with its name (its file is tables/NAME.parquet), in the fixed order of the
    /// output folder and the manifest: by name. converted_totals only with a reporting currency.
    pub fn named_mut(&mut self) -> Vec<(&'static str, TableMut<'_>)> {
        use schema as s;
        use TableMut::Frame;
        let Analyses {
            aging_customers,
            aging_invoices,
            anomalies,
            budget_alerts,
            budget_daily,
            budget_status,
            collections_actions,
            converted_totals,
            exposure,
            reconciliation,
            rejected_rows,
            risk_review,
            risk_scores,
            unapplied_credit,
            usage_daily,
        } = &mut self.analyses;
        let mut tables = vec![
            (s::aging_customers::TABLE, Frame(aging_customers)),
            (s::aging_invoices::TABLE, Frame(aging_invoices)),
            (s::anomalies::TABLE, Frame(anomalies)),
            (s::budget_alerts::TABLE, Frame(budget_alerts)),
            (s::budget_daily::TABLE, Frame(budget_daily)),
            (s::budget_status::TABLE, Frame(budget_status)),
            (s::changes::TABLE, Frame(&mut self.changes)),
            (s::collections_actions::TABLE, Frame(collections_actions)),
        ];
        if let Some(df) = converted_totals {
            tables.push((s::converted_totals::TABLE, Frame(df)));
        }
        tables.extend([
            (s::exposure::TABLE, Frame(exposure)),
            (s::reconciliation::TABLE, Frame(reconciliation)),
            (s::rejected_rows::TABLE, Frame(rejected_rows)),
            (s::risk_review::TABLE, Frame(risk_review)),
            (s::risk_scores::TABLE, Frame(risk_scores)),
            (s::unapplied_credit::TABLE, Frame(unapplied_credit)),
            (s::usage_daily::TABLE, usage_daily.as_table_mut()),
        ]);
        tables
    }

    /// Every table in memory (staged ones read), in the order of [`OutputTables::named_mut`].
    pub fn frames_mut(&mut self) -> Result<Vec<(&'static str, &mut DataFrame)>> {
        self.analyses.usage_daily.load()?;
        self.named_mut()
            .into_iter()
            .map(|(name, table)| match table {
                TableMut::Frame(df) => Ok((name, df)),
                TableMut::File(_) => Err(Error::Internal(format!("{name} was not loaded"))),
            })
            .collect()
    }

    /// Every table by name, in memory (`billrisk query` without --out: the scratch folder of
    /// the staged files goes away with the run).
    pub fn into_frames(mut self) -> Result<Vec<(&'static str, DataFrame)>> {
        Ok(self
            .frames_mut()?
            .into_iter()
            .map(|(name, df)| (name, std::mem::take(df)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(converted: bool) -> OutputTables {
        let d = DataFrame::default;
        OutputTables {
            analyses: Analyses {
                aging_customers: d(),
                aging_invoices: d(),
                anomalies: d(),
                budget_alerts: d(),
                budget_daily: d(),
                budget_status: d(),
                collections_actions: d(),
                converted_totals: converted.then(d),
                exposure: d(),
                reconciliation: d(),
                rejected_rows: d(),
                risk_review: d(),
                risk_scores: d(),
                unapplied_credit: d(),
                usage_daily: Staged::Frame(d()),
            },
            changes: d(),
        }
    }

    #[test]
    fn named_in_name_order_with_every_table() {
        let mut t = tables(true);
        let names: Vec<&str> = t.named_mut().into_iter().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 16);
        assert_eq!(names[6], "changes");
        assert_eq!(names[8], "converted_totals");
        assert_eq!(names[15], "usage_daily");
        let mut t = tables(false);
        assert_eq!(t.named_mut().len(), 15);
    }
}
