//! The risk tier (SPEC 4.5): low < medium < high < critical. One type for the command line
//! (`--fail-on`, `--fail-on-new`), the config (`report.review_min_tier`,
//! `collections.risk_step_tiers`) and the analyses; the tables hold its lower-case name.

use std::fmt;
use std::str::FromStr;

use clap::ValueEnum;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A risk tier, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Tier {
    Low,
    Medium,
    High,
    Critical,
}

impl Tier {
    /// Every tier, least severe first.
    pub const ALL: [Tier; 4] = [Tier::Low, Tier::Medium, Tier::High, Tier::Critical];

    /// The name in the tables and the config: "low", "medium", "high", "critical".
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Low => "low",
            Tier::Medium => "medium",
            Tier::High => "high",
            Tier::Critical => "critical",
        }
    }

    /// A tier's name, ignoring case and surrounding spaces; None for a word that is no tier.
    pub fn parse(text: &str) -> Option<Tier> {
        let t = text.trim();
        Tier::ALL
            .into_iter()
            .find(|tier| tier.as_str().eq_ignore_ascii_case(t))
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Tier, String> {
        Tier::parse(s).ok_or_else(|| format!("expected low, medium, high or critical, found {s:?}"))
    }
}

impl Serialize for Tier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Tier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tier, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_ordered_and_parsed_ignoring_case() {
        assert!(
            Tier::Low < Tier::Medium && Tier::Medium < Tier::High && Tier::High < Tier::Critical
        );
        assert_eq!(Tier::parse(" HIGH "), Some(Tier::High));
        assert_eq!(Tier::parse("bogus"), None);
        assert_eq!("critical".parse::<Tier>(), Ok(Tier::Critical));
    }

    #[test]
    fn config_reads_and_writes_the_lower_case_name() {
        #[derive(Serialize, Deserialize)]
        struct C {
            t: Tier,
        }
        let c: C = toml::from_str("t = \"Medium\"").unwrap();
        assert_eq!(c.t, Tier::Medium);
        assert_eq!(toml::to_string(&c).unwrap().trim(), "t = \"medium\"");
        let err = toml::from_str::<C>("t = \"severe\"")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("expected low, medium, high or critical"),
            "{err}"
        );
    }
}
