//! How a file's columns are found: header names are compared after one normalisation, the one
//! every reader uses (case, spaces and other white space, underscores, hyphens, dots, quotes and a
//! BOM removed), against the names each source has gone by over
//! time (MPNID/MpnId, Unit/UnitOfMeasure, ResourceURI/ResourceUri ...). Each canonical column says
//! how its text is parsed and whether the run can do without it.

/// How a column's text becomes a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Trimmed text; empty is null.
    Text,
    /// Trimmed, lower-cased identifier (GUIDs compare case-insensitively).
    Id,
    /// Three-letter ISO currency code, upper-cased.
    Currency,
    /// Calendar date, US or ISO.
    Date,
    /// Instant in UTC, US or ISO, offsets applied.
    Timestamp,
    /// Float64, plain or scientific notation, apostrophe guard tolerated.
    Float,
    /// Exact ledger money, Decimal(38, 4).
    Money,
    /// true/false, yes/no, 1/0.
    Bool,
    /// Month "YYYY-MM".
    Month,
    /// Whole number.
    Int,
}

impl Kind {
    /// What a value of this kind looks like, for rejection reasons.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Text | Kind::Id => "text",
            Kind::Currency => "a three-letter currency code (USD)",
            Kind::Date => "a date (MM/DD/YYYY or YYYY-MM-DD)",
            Kind::Timestamp => "a date and time (ISO 8601 or MM/DD/YYYY hh:mm:ss AM/PM)",
            Kind::Float => "a number (1234.56 or 9.99E-08)",
            Kind::Money => "an amount with at most 4 decimals (1234.56)",
            Kind::Bool => "true or false",
            Kind::Month => "a month (YYYY-MM)",
            Kind::Int => "a whole number",
        }
    }
}

/// Whether a column must be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The column must exist and every row must have a valid value, or the row is rejected.
    Required,
    /// The column must exist; empty values are allowed (null), malformed ones are rejected.
    Column,
    /// May be absent; when present, malformed values are rejected.
    Optional,
}

/// One canonical column of a source and the header names it is found under.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    /// Accepted header names, already normalised (see `normalize_header`).
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub need: Need,
}

pub const fn spec(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    need: Need,
) -> ColumnSpec {
    ColumnSpec {
        name,
        aliases,
        kind,
        need,
    }
}

/// "Customer Id", "customer_id", "\u{feff}CustomerId", "Event\u{a0}initiated-by" -> lower case
/// without white space (any: tabs, no-break spaces, line ends), underscores, hyphens, dots, quotes
/// or a BOM. The one header normaliser of every reader: tabular sources, the portal's activity
/// CSV, audit records and fraud events CSVs.
pub fn normalize_header(h: &str) -> String {
    h.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | '"' | '\u{feff}') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Where each spec's column is in a header: Some(index) or None when absent.
pub fn locate(specs: &[ColumnSpec], header: &[String]) -> Vec<Option<usize>> {
    let normalized: Vec<String> = header.iter().map(|h| normalize_header(h)).collect();
    specs
        .iter()
        .map(|s| {
            s.aliases
                .iter()
                .find_map(|a| normalized.iter().position(|h| h == a))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_whatever_their_spelling() {
        assert_eq!(normalize_header("\u{feff}CustomerId"), "customerid");
        assert_eq!(normalize_header(" Customer_ID "), "customerid");
        assert_eq!(normalize_header("Resource URI"), "resourceuri");
        assert_eq!(normalize_header("Event initiated by"), "eventinitiatedby");
    }

    /// There were two normalisers: the tabular one (a leading BOM; space, tab, `_`, `-`, `.`, `"`)
    /// and the activity/fraud CSV one (a BOM anywhere; any white space, `_`, `-`, `"`). The one
    /// left removes the union, so every header either matched still matches.
    #[test]
    fn headers_either_old_normaliser_matched_still_match() {
        let tabular_inputs = [
            ("\u{feff}CustomerId", "customerid"),
            ("Customer\tId", "customerid"),
            ("Resource.URI", "resourceuri"),
            ("\"Billing-PreTax_Total\"", "billingpretaxtotal"),
        ];
        let activity_inputs = [
            ("Event\u{a0}initiated by", "eventinitiatedby"),
            ("Operation name\r", "operationname"),
            ("Date-Time\u{feff}", "datetime"),
            ("\"Affected customer\"", "affectedcustomer"),
            ("Time\n", "time"),
        ];
        for (header, want) in tabular_inputs.into_iter().chain(activity_inputs) {
            assert_eq!(normalize_header(header), want, "{header:?}");
        }
    }

    #[test]
    fn locate_finds_renamed_columns_in_any_order() {
        const SPECS: [ColumnSpec; 2] = [
            spec(
                "unit",
                &["unit", "unitofmeasure"],
                Kind::Text,
                Need::Optional,
            ),
            spec("customer_id", &["customerid"], Kind::Id, Need::Required),
        ];
        let header = vec![
            "UnitOfMeasure".to_string(),
            "x".into(),
            "CUSTOMER_ID".into(),
        ];
        assert_eq!(locate(&SPECS, &header), vec![Some(0), Some(2)]);
        assert_eq!(locate(&SPECS, &["a".to_string()]), vec![None, None]);
    }
}
