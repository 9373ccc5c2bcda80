//! Settings: documented defaults, overridden by a TOML config file, overridden by flags.
//! `billrisk init` writes `default.toml` (beside this file), which lists every key with a comment;
//! a test keeps that template and `Config::default()` equal. Unknown keys are errors (exit 2) so a
//! typo cannot silently fall back to a default.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::analysis::aging::AgingConfig;
use crate::analysis::anomalies::usage::UsageSignalConfig;
use crate::analysis::anomalies::AnomalyConfig;
use crate::analysis::budgets::BudgetConfig;
use crate::analysis::changes::ChangesConfig;
use crate::analysis::collections::CollectionsConfig;
use crate::analysis::risk::RiskConfig;
use crate::error::{Error, Result};
use crate::tier::Tier;

/// The commented default config written by `billrisk init`.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// ISO code that converted totals are shown in (needs fx_rates); None = per currency only.
    pub reporting_currency: Option<String>,
    pub input: InputConfig,
    pub aging: AgingConfig,
    pub collections: CollectionsConfig,
    pub budgets: BudgetConfig,
    pub usage_signals: UsageSignalConfig,
    pub anomalies: AnomalyConfig,
    pub risk: RiskConfig,
    pub report: ReportConfig,
    /// What counts as a change since the previous run (SPEC 4.6).
    pub changes: ChangesConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reporting_currency: None,
            input: InputConfig::default(),
            aging: AgingConfig::default(),
            collections: CollectionsConfig::default(),
            budgets: BudgetConfig::default(),
            usage_signals: UsageSignalConfig::default(),
            anomalies: AnomalyConfig::default(),
            risk: RiskConfig::default(),
            report: ReportConfig::default(),
            changes: ChangesConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputConfig {
    /// A source whose rejected share of rows passes this fraction fails the run (exit 1).
    pub max_rejected_share: f64,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            max_rejected_share: 0.05,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// How many customers the report's top tables and anomaly series show.
    pub top_customers: usize,
    /// Lowest risk tier listed in actions/risk_review.csv and the report's risk review
    /// (low, medium, high or critical).
    pub review_min_tier: Tier,
    /// Days of history behind the baseline line drawn under each usage series (trailing median).
    pub baseline_days: usize,
    /// How many rejected rows the report shows as examples (all are in rejected_rows).
    pub rejected_examples: usize,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            top_customers: 10,
            review_min_tier: Tier::High,
            baseline_days: 28,
            rejected_examples: 20,
        }
    }
}

impl Config {
    /// Parses a config file's text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)
            .map_err(|e| Error::config_because(origin.to_string(), "not a valid config file", e))?;
        // Reason codes named in [risk] must exist: a typo would silently match nothing.
        config
            .risk
            .check_codes()
            .map_err(|message| Error::config(origin.to_string(), message))?;
        Ok(config)
    }

    /// The checks of values no single section can make alone, after flags were applied: a config
    /// error (exit 2) naming the key when a value makes no sense.
    pub fn validate(&self) -> Result<()> {
        self.aging.validate()?;
        for (key, v) in [
            (
                "changes.exposure_growth_share",
                self.changes.exposure_growth_share,
            ),
            (
                "changes.exposure_growth_min",
                self.changes.exposure_growth_min,
            ),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(
                    key,
                    format!("expected a number of 0 or more, found {v}"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.input.max_rejected_share) {
            return Err(Error::config(
                "input.max_rejected_share",
                format!(
                    "expected a share between 0 and 1, found {}",
                    self.input.max_rejected_share
                ),
            ));
        }
        Ok(())
    }

    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config_because(path.display().to_string(), "cannot read the file", e)
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_template_equals_default_config() {
        let parsed = Config::from_toml(DEFAULT_TOML, "default.toml").unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn every_key_is_in_the_template() {
        // Serialise the defaults and check each key appears in the commented template.
        let value = toml::Value::try_from(Config::default()).unwrap();
        fn keys(v: &toml::Value, out: &mut Vec<String>) {
            if let toml::Value::Table(t) = v {
                for (k, v) in t {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
        }
        let mut all = Vec::new();
        keys(&value, &mut all);
        for k in all {
            assert!(
                DEFAULT_TOML.contains(&k),
                "config key {k} is not in default.toml"
            );
        }
    }

    #[test]
    fn an_unknown_reason_code_in_a_pattern_is_a_config_error() {
        let text = "[[risk.patterns]]\nname = \"x\"\nanchor = \"gpu_metre\"\nsupporting = [\"new_region\"]\n";
        let err = Config::from_toml(text, "b.toml").unwrap_err().to_string();
        assert!(
            err.contains("b.toml")
                && err.contains("risk.patterns[0].anchor")
                && err.contains("expected a reason code")
                && err.contains("found 'gpu_metre'"),
            "{err}"
        );
        let text = "[risk]\nspend_signals = [\"usage_spike\", \"peers\"]\n";
        let err = Config::from_toml(text, "b.toml").unwrap_err().to_string();
        assert!(
            err.contains("risk.spend_signals") && err.contains("'peers'"),
            "{err}"
        );
        // Known codes load, and patterns = [] turns them off.
        let ok = Config::from_toml("[risk]\npatterns = []\n", "b.toml").unwrap();
        assert!(ok.risk.patterns.is_empty());
    }

    #[test]
    fn unknown_key_is_a_config_error() {
        let err = Config::from_toml("[aging]\nbuckets_typo = 1\n", "x.toml").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("x.toml"));
    }
}
