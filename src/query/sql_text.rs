//! The little lexing `billrisk query` needs before Polars sees the SQL: which parts of the text
//! are code, quoted strings, quoted identifiers or comments. With it, `{{name}}` parameters are
//! replaced (escaped inside quotes, ignored in comments) and statements are counted without being
//! fooled by a `;` inside a string or a comment.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::error::{Error, Result};

/// Where parameter errors come from, in `query {origin}: ...`.
const PARAM_ORIGIN: &str = "--param";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lexeme {
    Code,
    /// `'...'`, quotes included; `''` is an escaped quote.
    SingleQuoted,
    /// `"..."`, quotes included; `""` is an escaped quote.
    DoubleQuoted,
    /// `-- ...` up to the end of the line, or `/* ... */`.
    Comment,
}

/// The SQL cut into runs of one lexeme kind, in order; concatenated they give the text back.
/// Unterminated strings and comments run to the end (Polars then reports them).
fn runs(sql: &str) -> Vec<(Lexeme, &str)> {
    let bytes = sql.as_bytes();
    let mut runs = Vec::new();
    let (mut code_start, mut i) = (0, 0);
    while i < bytes.len() {
        let special = match bytes[i] {
            b'\'' => Some((Lexeme::SingleQuoted, quoted_end(bytes, i, b'\''))),
            b'"' => Some((Lexeme::DoubleQuoted, quoted_end(bytes, i, b'"'))),
            b'-' if bytes.get(i + 1) == Some(&b'-') => Some((
                Lexeme::Comment,
                find(bytes, i + 2, b"\n").unwrap_or(bytes.len()),
            )),
            b'/' if bytes.get(i + 1) == Some(&b'*') => Some((
                Lexeme::Comment,
                find(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2),
            )),
            _ => None,
        };
        match special {
            // Every boundary sits on an ASCII byte or the end, so the slices are valid UTF-8.
            Some((kind, end)) => {
                if code_start < i {
                    runs.push((Lexeme::Code, &sql[code_start..i]));
                }
                runs.push((kind, &sql[i..end]));
                i = end;
                code_start = end;
            }
            None => i += 1,
        }
    }
    if code_start < bytes.len() {
        runs.push((Lexeme::Code, &sql[code_start..]));
    }
    runs
}

fn quoted_end(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Number of non-empty statements: `;`-separated parts that hold more than blanks and comments.
pub(crate) fn count_statements(sql: &str) -> usize {
    let mut count = 0;
    let mut has_content = false;
    for (kind, text) in runs(sql) {
        match kind {
            Lexeme::Comment => {}
            Lexeme::SingleQuoted | Lexeme::DoubleQuoted => has_content = true,
            Lexeme::Code => {
                for ch in text.chars() {
                    if ch == ';' {
                        count += usize::from(has_content);
                        has_content = false;
                    } else if !ch.is_whitespace() {
                        has_content = true;
                    }
                }
            }
        }
    }
    count + usize::from(has_content)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `{{name}}` placeholders in one run: the byte range of each and its name (blanks inside the
/// braces allowed). Braces around anything else are left alone.
fn placeholders_in(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|p| from + p) {
        let Some(close) = text[open + 2..].find("}}").map(|p| open + 2 + p) else {
            break;
        };
        let name = text[open + 2..close].trim();
        if is_name(name) {
            found.push((open..close + 2, name));
            from = close + 2;
        } else {
            from = open + 2;
        }
    }
    found
}

/// Names of the `{{name}}` parameters the SQL uses outside comments, sorted and unique: what a
/// caller must pass as `--param name=VALUE`.
pub fn placeholders(sql: &str) -> Vec<String> {
    let names: BTreeSet<&str> = runs(sql)
        .into_iter()
        .filter(|(kind, _)| *kind != Lexeme::Comment)
        .flat_map(|(_, text)| placeholders_in(text).into_iter().map(|(_, name)| name))
        .collect();
    names.into_iter().map(str::to_string).collect()
}

fn param_error(message: String) -> Error {
    Error::query(PARAM_ORIGIN, message)
}

/// `NAME=VALUE` strings into a map; malformed, empty and repeated parameters are errors.
fn parse_params(params: &[String]) -> Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            return Err(param_error(format!(
                "expected NAME=VALUE, found {param:?} (a value is missing)"
            )));
        };
        let name = name.trim();
        if !is_name(name) {
            return Err(param_error(format!(
                "expected NAME=VALUE with NAME made of letters, digits and _, found {param:?}"
            )));
        }
        if value.is_empty() {
            return Err(param_error(format!(
                "parameter {name} has no value: expected {name}=VALUE"
            )));
        }
        if values.insert(name.to_string(), value.to_string()).is_some() {
            return Err(param_error(format!(
                "parameter {name} is given more than once"
            )));
        }
    }
    Ok(values)
}

/// A value written into code (not into quotes) must be one token: a number or a plain name.
fn is_bare_literal(value: &str) -> bool {
    let numeric = value.parse::<f64>().is_ok_and(f64::is_finite)
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c));
    numeric || is_name(value)
}

/// Replaces every `{{name}}` in the SQL with the value of `--param name=VALUE`. Inside quotes the
/// value is escaped for that quote (`'{{customer}}'` with `o'hara` gives `'o''hara'`); outside
/// quotes only a number or a plain name is accepted, so a value cannot add SQL of its own.
/// Placeholders in comments are left as they are. A placeholder without a value, a parameter the
/// SQL does not use, and a malformed parameter are errors that name them.
pub fn substitute_params(sql: &str, params: &[String]) -> Result<String> {
    let values = parse_params(params)?;
    let mut used = BTreeSet::new();
    let mut missing = BTreeSet::new();
    let mut out = String::with_capacity(sql.len());
    for (kind, text) in runs(sql) {
        if kind == Lexeme::Comment {
            out.push_str(text);
            continue;
        }
        let mut last = 0;
        for (range, name) in placeholders_in(text) {
            out.push_str(&text[last..range.start]);
            match values.get(name) {
                Some(value) => {
                    used.insert(name);
                    match kind {
                        Lexeme::SingleQuoted => out.push_str(&value.replace('\'', "''")),
                        Lexeme::DoubleQuoted => out.push_str(&value.replace('"', "\"\"")),
                        _ if is_bare_literal(value) => out.push_str(value),
                        _ => {
                            return Err(param_error(format!(
                                "parameter {name}={value:?} is not a number or a plain name, so it must be \
                                 quoted in the SQL: write '{{{{{name}}}}}' instead of {{{{{name}}}}}"
                            )))
                        }
                    }
                }
                None => {
                    missing.insert(name);
                    out.push_str(&text[range.clone()]);
                }
            }
            last = range.end;
        }
        out.push_str(&text[last..]);
    }
    if !missing.is_empty() {
        let uses: Vec<String> = missing.iter().map(|n| format!("{{{{{n}}}}}")).collect();
        let flags: Vec<String> = missing
            .iter()
            .map(|n| format!("--param {n}=VALUE"))
            .collect();
        return Err(param_error(format!(
            "the SQL uses {} but no value was given: add {}",
            uses.join(", "),
            flags.join(" ")
        )));
    }
    let unused: Vec<&str> = values
        .keys()
        .map(String::as_str)
        .filter(|n| !used.contains(n))
        .collect();
    if !unused.is_empty() {
        return Err(param_error(format!(
            "parameter {} is not used: the SQL has no {}{}",
            unused.join(", "),
            unused
                .iter()
                .map(|n| format!("{{{{{n}}}}}"))
                .collect::<Vec<_>>()
                .join(", "),
            match placeholders(sql).as_slice() {
                [] => " (it takes no parameters)".to_string(),
                names => format!(" (it takes {})", names.join(", ")),
            }
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    fn message(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn statements_ignore_semicolons_in_strings_and_comments() {
        assert_eq!(count_statements("SELECT 1"), 1);
        assert_eq!(count_statements("SELECT 1;\n-- done; really\n"), 1);
        assert_eq!(
            count_statements("SELECT ';' AS a, \"x;y\" FROM t /* ; */"),
            1
        );
        assert_eq!(count_statements("SELECT 1; SELECT 2"), 2);
        assert_eq!(count_statements("SELECT 'it''s; fine'; ;"), 1);
        assert_eq!(
            count_statements("-- only a comment\n /* and another */ ;"),
            0
        );
    }

    #[test]
    fn quoted_values_are_escaped_for_their_quote() {
        let sql =
            "SELECT * FROM customers WHERE customer_name = '{{name}}' AND \"{{col}}\" = {{n}}";
        let out = substitute_params(sql, &params(&["name=O'Hara", "col=a\"b", "n=12.5"])).unwrap();
        assert_eq!(
            out,
            "SELECT * FROM customers WHERE customer_name = 'O''Hara' AND \"a\"\"b\" = 12.5"
        );
    }

    #[test]
    fn injection_through_an_unquoted_placeholder_is_refused() {
        let err = substitute_params(
            "SELECT * FROM t LIMIT {{n}}",
            &params(&["n=1; DROP TABLE t"]),
        );
        let msg = message(err.unwrap_err());
        assert!(msg.contains("must be quoted"), "{msg}");
        assert!(msg.contains("'{{n}}'"), "{msg}");
    }

    #[test]
    fn missing_values_are_named() {
        let sql = "SELECT * FROM t WHERE d <= DATE '{{as_of}}' AND x = {{ limit }}";
        let msg = message(substitute_params(sql, &[]).unwrap_err());
        assert_eq!(
            msg,
            "query --param: the SQL uses {{as_of}}, {{limit}} but no value was given: add --param as_of=VALUE --param limit=VALUE"
        );
        let msg = message(substitute_params(sql, &params(&["as_of"])).unwrap_err());
        assert!(msg.contains("\"as_of\" (a value is missing)"), "{msg}");
        let msg = message(substitute_params(sql, &params(&["as_of="])).unwrap_err());
        assert!(msg.contains("parameter as_of has no value"), "{msg}");
    }

    #[test]
    fn unused_and_repeated_params_are_named() {
        let sql = "-- {{as_of}} in a comment is documentation, not a use\nSELECT DATE '{{as_of}}'";
        assert_eq!(
            substitute_params(sql, &params(&["as_of=2026-10-19"])).unwrap(),
            "-- {{as_of}} in a comment is documentation, not a use\nSELECT DATE '2026-10-19'"
        );
        let msg =
            message(substitute_params(sql, &params(&["as_of=2026-10-19", "days=7"])).unwrap_err());
        assert_eq!(
            msg,
            "query --param: parameter days is not used: the SQL has no {{days}} (it takes as_of)"
        );
        let msg = message(
            substitute_params(sql, &params(&["as_of=2026-10-19", "as_of=2026-10-20"])).unwrap_err(),
        );
        assert!(msg.contains("as_of is given more than once"), "{msg}");
    }

    #[test]
    fn placeholders_are_listed_once_and_sorted_outside_comments() {
        let sql = "-- {{ignored}}\nSELECT '{{b}}', {{a}}, '{{b}}', '{{not a name}}'";
        assert_eq!(placeholders(sql), vec!["a".to_string(), "b".to_string()]);
    }
}
