//! `--pseudonymize`: replaces customer names, domains, user principal names, e-mail addresses and
//! IP addresses in every output (tables, inputs, reports, action lists) with keyed pseudonyms, for
//! reports shared outside finance.
//!
//! A pseudonym is HMAC-SHA256(key, kind + value) cut to 12 hex digits (48 bits: among a million
//! distinct values a collision has odds of about 1 in 500,000). The same value under the same key
//! always gives the same pseudonym, so joins and group-bys still work across tables and runs;
//! without the key the originals cannot be recovered or confirmed by guessing. Values are compared
//! case-insensitively (Alice@Contoso.com and alice@contoso.com are one person).
//!
//! How every string cell is treated:
//! - columns that hold such a value whole (customer_name, caller, client_ip, user_principal_name,
//!   entity_name, analyst) are replaced whole;
//! - rejected_rows.raw (the raw line, which carries columns billrisk does not even read, such as
//!   CustomerDomainName) becomes a keyed digest of the line: the file and line number still locate it;
//! - every other text (reasons, evidence, notes, descriptions) is scrubbed: every known value (the
//!   whole-value columns above and the domains of their addresses), every e-mail address and every
//!   IPv4 address found in it is replaced by its pseudonym.
//!
//! Pseudonyms look like `Customer 3f9a1b2c4d5e`, `user-3f9a1b2c4d5e@d-0a1b2c3d4e5f.example`,
//! `d-0a1b2c3d4e5f.example` (RFC 2606 reserves .example), `ip-3f9a1b2c4d5e`, `name-3f9a1b2c4d5e`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use hmac::{Hmac, Mac};
use polars::prelude::*;
use regex::Regex;
use sha2::Sha256;

use crate::error::{Error, PolarsContext, Result};
use crate::schema;

/// The environment variable that holds the key when no key file is given.
pub const KEY_ENV: &str = "BILLRISK_PSEUDONYM_KEY";
/// A key shorter than this is refused: a short key can be guessed, and with it every pseudonym.
pub const MIN_KEY_BYTES: usize = 16;
/// Known values shorter than this are replaced only where they are a whole cell, never inside
/// other text (a customer called "AB" must not turn every "AB" in a meter name into a pseudonym).
const MIN_SCRUB_CHARS: usize = 4;
const DIGEST_HEX: usize = 12;

/// Columns whose whole value is replaced, the kind of value they hold, and whether every value
/// is also searched for in free text. Callers and fraud entities are searched for only when they
/// are addresses, IPs or domains (so are UPNs: Partner Center writes "system" for its own
/// changes): "System" as a caller or "Production" as a subscription name are
/// not personal, and scrubbing such words from every text would garble it.
const WHOLE_COLUMNS: [(&str, Kind, Scrub); 7] = [
    ("customer_name", Kind::Customer, Scrub::Always),
    ("caller", Kind::Auto, Scrub::IfAddress),
    ("client_ip", Kind::Auto, Scrub::Always),
    ("client_ip_raw", Kind::Auto, Scrub::Always),
    ("user_principal_name", Kind::Auto, Scrub::IfAddress),
    ("entity_name", Kind::Auto, Scrub::IfAddress),
    ("analyst", Kind::Auto, Scrub::Always),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scrub {
    Always,
    IfAddress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A customer's name.
    Customer,
    /// Decided by the value's shape: e-mail/UPN, IP address, domain, or another name.
    Auto,
}

/// Reads the key from `file` (its bytes, trailing newline removed) or else from `env_key`, the
/// value of BILLRISK_PSEUDONYM_KEY (read once by settings.rs).
pub fn load_key(file: Option<&Path>, env_key: Option<&std::ffi::OsStr>) -> Result<Vec<u8>> {
    let (origin, mut key) = match file {
        Some(p) => (
            p.display().to_string(),
            std::fs::read(p).map_err(|e| Error::config_because(p.display().to_string(), "cannot read the pseudonym key file", e))?,
        ),
        None => match env_key {
            Some(v) => (KEY_ENV.to_string(), v.to_string_lossy().into_owned().into_bytes()),
            None => {
                return Err(Error::config("--pseudonymize", format!(
                        "expected a key in --pseudonym-key-file or the {KEY_ENV} environment variable, found neither"
                    )))
            }
        },
    };
    while matches!(key.last(), Some(b'\n' | b'\r')) {
        key.pop();
    }
    if key.len() < MIN_KEY_BYTES {
        return Err(Error::config(origin, format!(
                "expected a pseudonym key of at least {MIN_KEY_BYTES} bytes, found {} (e.g. `openssl rand -hex 32`)",
                key.len()
            )));
    }
    Ok(key)
}

/// Keyed pseudonyms for one run.
pub struct Pseudonymizer {
    key: Vec<u8>,
    email: Regex,
    ipv4: Regex,
}

/// The known values of one run, ready for scrubbing text.
struct Dictionary {
    /// Known values (lower-case) and their pseudonyms, in the order of the automaton's patterns.
    pseudonyms: Vec<String>,
    /// Lower-case known value -> pseudonym, for whole cells.
    whole: HashMap<String, String>,
    matcher: Option<AhoCorasick>,
}

impl Pseudonymizer {
    pub fn new(key: Vec<u8>) -> Pseudonymizer {
        Pseudonymizer {
            key,
            // Unwraps on constant patterns, checked by the unit tests.
            email: Regex::new(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("email pattern"),
            ipv4: Regex::new(r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b")
                .expect("ipv4 pattern"),
        }
    }

    fn digest(&self, kind: &str, value: &str) -> String {
        // HMAC accepts a key of any length: new_from_slice cannot fail for it.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.trim().to_lowercase().as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(DIGEST_HEX);
        for b in bytes.iter().take(DIGEST_HEX / 2) {
            hex.push_str(&format!("{b:02x}"));
        }
        hex
    }

    fn domain(&self, domain: &str) -> String {
        format!("d-{}.example", self.digest("domain", domain))
    }

    /// The pseudonym of an e-mail address or user principal name: the domain part is the
    /// domain's own pseudonym, so addresses of one tenant still group together.
    fn address(&self, value: &str) -> String {
        let v = value.trim();
        match v.rsplit_once('@') {
            Some((_, domain)) => format!("user-{}@{}", self.digest("user", v), self.domain(domain)),
            None => format!("user-{}", self.digest("user", v)),
        }
    }

    fn pseudonym(&self, kind: Kind, value: &str) -> String {
        let v = value.trim();
        if kind == Kind::Customer {
            return format!("Customer {}", self.digest("customer", v));
        }
        if v.contains('@') {
            self.address(v)
        } else if v.parse::<std::net::IpAddr>().is_ok() {
            format!("ip-{}", self.digest("ip", v))
        } else if looks_like_domain(v) {
            self.domain(v)
        } else {
            format!("name-{}", self.digest("name", v))
        }
    }

    /// Replaces every personal value in `tables` and `inputs` (in place). The known values are
    /// gathered from the whole-value columns of both sets first, so a name is scrubbed from free
    /// text wherever it appears.
    pub fn apply(
        &self,
        tables: &mut BTreeMap<String, DataFrame>,
        inputs: &mut BTreeMap<String, DataFrame>,
    ) -> Result<()> {
        self.apply_all(
            tables
                .iter_mut()
                .chain(inputs.iter_mut())
                .map(|(name, df)| (name.as_str(), df))
                .collect(),
        )
    }

    /// [`Pseudonymizer::apply`] over named frames in a fixed order (the pipeline's output
    /// tables, then its input tables): the dictionary is gathered in that order.
    pub fn apply_all(&self, mut frames: Vec<(&str, &mut DataFrame)>) -> Result<()> {
        let dict = self.dictionary(frames.iter().map(|(_, df)| &**df))?;
        for (name, df) in frames.iter_mut() {
            **df = self.frame(name, df, &dict)?;
        }
        Ok(())
    }

    fn dictionary<'a>(&self, frames: impl Iterator<Item = &'a DataFrame>) -> Result<Dictionary> {
        let mut whole: BTreeMap<String, String> = BTreeMap::new();
        let mut searched: std::collections::BTreeSet<String> = Default::default();
        for df in frames {
            for (column, kind, scrub) in WHOLE_COLUMNS {
                let Ok(c) = df.column(column) else { continue };
                let Ok(s) = c.str() else { continue };
                for v in s.iter().flatten() {
                    let key = v.trim().to_lowercase();
                    if key.is_empty() || whole.contains_key(&key) {
                        continue;
                    }
                    if let Some((local, d)) = key.rsplit_once('@') {
                        if !d.is_empty() {
                            whole.entry(d.to_string()).or_insert_with(|| self.domain(d));
                            searched.insert(d.to_string());
                            // The domain pattern linked_accounts names (digits as #).
                            let pattern = digits_as_hash(d);
                            if pattern != d {
                                whole
                                    .entry(pattern.clone())
                                    .or_insert_with(|| self.domain(&pattern));
                                searched.insert(pattern);
                            }
                        }
                        // A guest's home domain (ann_fabrikam.com#ext#@tenant...).
                        if let Some(home) = guest_home_domain(local) {
                            whole
                                .entry(home.clone())
                                .or_insert_with(|| self.domain(&home));
                            searched.insert(home);
                        }
                    }
                    let address = key.contains('@')
                        || key.parse::<std::net::IpAddr>().is_ok()
                        || looks_like_domain(&key);
                    if scrub == Scrub::Always || address {
                        searched.insert(key.clone());
                    }
                    whole.insert(key, self.pseudonym(kind, v));
                }
            }
        }
        let scrubbed: Vec<(&String, &String)> = whole
            .iter()
            .filter(|(k, _)| k.chars().count() >= MIN_SCRUB_CHARS && searched.contains(*k))
            .collect();
        let matcher = if scrubbed.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(scrubbed.iter().map(|(k, _)| k.as_str()))
                    .map_err(|e| Error::internal("the pseudonym dictionary", e))?,
            )
        };
        let pseudonyms = scrubbed.iter().map(|(_, p)| (*p).clone()).collect();
        Ok(Dictionary {
            pseudonyms,
            whole: whole.into_iter().collect(),
            matcher,
        })
    }

    fn frame(&self, table: &str, df: &DataFrame, dict: &Dictionary) -> Result<DataFrame> {
        let mut columns = Vec::with_capacity(df.width());
        for c in df.columns() {
            if c.dtype() != &DataType::String {
                columns.push(c.clone());
                continue;
            }
            let name = c.name().as_str();
            let whole = WHOLE_COLUMNS
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, k, _)| *k);
            let s = c.str().stage("pseudonymize")?;
            let mut cache: HashMap<&str, String> = HashMap::new();
            let values: Vec<Option<String>> = s
                .iter()
                .map(|v| {
                    v.map(|v| {
                        cache
                            .entry(v)
                            .or_insert_with(|| {
                                if table == schema::rejected_rows::TABLE && name == "raw" {
                                    if v.is_empty() {
                                        String::new()
                                    } else {
                                        format!("redacted-{}", self.digest("raw", v))
                                    }
                                } else if let Some(kind) = whole {
                                    match dict.whole.get(&v.trim().to_lowercase()) {
                                        Some(p) => p.clone(),
                                        None if v.trim().is_empty() => v.to_string(),
                                        None => self.pseudonym(kind, v),
                                    }
                                } else {
                                    self.scrub(v, dict)
                                }
                            })
                            .clone()
                    })
                })
                .collect();
            let mapped = StringChunked::from_iter_options(c.name().clone(), values.into_iter());
            columns.push(mapped.into_column());
        }
        DataFrame::new(df.height(), columns).stage("pseudonymize")
    }

    /// Replaces known values, e-mail addresses and IPv4 addresses inside free text. Matches are
    /// found on the original text in one pass, so a pseudonym is never pseudonymized again.
    fn scrub(&self, text: &str, dict: &Dictionary) -> String {
        if let Some(p) = dict.whole.get(&text.trim().to_lowercase()) {
            return p.clone();
        }
        // (start, end, replacement), from every matcher; overlaps resolved below.
        let mut spans: Vec<(usize, usize, String)> = Vec::new();
        if let Some(m) = &dict.matcher {
            for hit in m.find_iter(text) {
                if on_word_boundaries(text, hit.start(), hit.end()) {
                    spans.push((
                        hit.start(),
                        hit.end(),
                        dict.pseudonyms[hit.pattern().as_usize()].clone(),
                    ));
                }
            }
        }
        for m in self.email.find_iter(text) {
            spans.push((m.start(), m.end(), self.address(m.as_str())));
        }
        for m in self.ipv4.find_iter(text) {
            spans.push((
                m.start(),
                m.end(),
                format!("ip-{}", self.digest("ip", m.as_str())),
            ));
        }
        if spans.is_empty() {
            return text.to_string();
        }
        // Leftmost first, longest first at one start; drop what overlaps an earlier span.
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, replacement) in spans {
            if start < at {
                continue;
            }
            out.push_str(&text[at..start]);
            out.push_str(&replacement);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// A known value found inside text counts only as a whole word: "Contoso" inside "Contosoville"
/// is another word.
/// A domain with every run of digits replaced by `#` (linked_accounts' domain pattern).
fn digits_as_hash(d: &str) -> String {
    let mut out = String::with_capacity(d.len());
    let mut in_digits = false;
    for c in d.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// The home domain of a guest account's local part: "ann_fabrikam.com#ext#" -> fabrikam.com.
fn guest_home_domain(local: &str) -> Option<String> {
    let head = local.strip_suffix("#ext#")?;
    let (_, home) = head.rsplit_once('_')?;
    looks_like_domain(home).then(|| home.to_string())
}

fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

fn looks_like_domain(v: &str) -> bool {
    let labels: Vec<&str> = v.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|l| COMMON_TLDS.contains(&l.to_ascii_lowercase().as_str()))
}

/// Top-level domains that tell a domain ("contoso.com") from a dotted name ("j.doe"). A domain
/// under another TLD is still pseudonymized, only as a name (`name-...`) rather than `d-....example`.
const COMMON_TLDS: [&str; 40] = [
    "com", "net", "org", "io", "co", "biz", "info", "cloud", "app", "dev", "edu", "gov", "eu",
    "uk", "de", "fr", "nl", "be", "at", "ch", "it", "es", "pt", "se", "no", "dk", "fi", "pl", "cz",
    "ie", "us", "ca", "au", "nz", "jp", "in", "br", "mx", "za", "sg",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pseudonymizer {
        Pseudonymizer::new(b"0123456789abcdef-test-key".to_vec())
    }

    #[test]
    fn the_same_value_gives_the_same_pseudonym_and_another_key_another() {
        let a = p();
        let b = Pseudonymizer::new(b"another key, 16 bytes or more".to_vec());
        assert_eq!(
            a.pseudonym(Kind::Customer, "Contoso Ltd"),
            a.pseudonym(Kind::Customer, " contoso ltd ")
        );
        assert_ne!(
            a.pseudonym(Kind::Customer, "Contoso Ltd"),
            b.pseudonym(Kind::Customer, "Contoso Ltd")
        );
        assert_ne!(
            a.pseudonym(Kind::Customer, "Contoso Ltd"),
            a.pseudonym(Kind::Customer, "Fabrikam")
        );
        let name = a.pseudonym(Kind::Customer, "Contoso Ltd");
        assert!(name.starts_with("Customer ") && name.len() == "Customer ".len() + DIGEST_HEX);
    }

    #[test]
    fn shapes_are_kept_and_a_tenant_keeps_one_domain() {
        let a = p();
        let alice = a.pseudonym(Kind::Auto, "Alice@Contoso.onmicrosoft.com");
        let bob = a.pseudonym(Kind::Auto, "bob@contoso.onmicrosoft.com");
        let (_, d1) = alice.split_once('@').unwrap();
        let (_, d2) = bob.split_once('@').unwrap();
        assert_eq!(d1, d2);
        assert_eq!(d1, a.pseudonym(Kind::Auto, "contoso.onmicrosoft.com"));
        assert!(a.pseudonym(Kind::Auto, "203.0.113.7").starts_with("ip-"));
        assert!(a.pseudonym(Kind::Auto, "2001:db8::1").starts_with("ip-"));
        assert!(a.pseudonym(Kind::Auto, "j.doe").starts_with("name-"));
        assert!(a
            .pseudonym(Kind::Auto, "Pay-As-You-Go")
            .starts_with("name-"));
    }

    #[test]
    fn guest_home_domains_and_domain_patterns_are_scrubbed_too() {
        let a = p();
        let df = df!(
            "caller" => ["ops_bluefinmail.com#EXT#@bluefin01.onmicrosoft.com"],
        )
        .unwrap();
        let dict = a.dictionary([&df].into_iter()).unwrap();
        let out = a.scrub(
            "Shares guest accounts from bluefinmail.com with 2 other customers; the domain pattern bluefin#.onmicrosoft.com",
            &dict,
        );
        for gone in ["bluefinmail", "bluefin#", "bluefin01"] {
            assert!(!out.contains(gone), "{gone} survived in {out}");
        }
        assert!(out.contains(&a.domain("bluefinmail.com")), "{out}");
        assert_eq!(
            guest_home_domain("ann_fabrikam.com#ext#"),
            Some("fabrikam.com".into())
        );
        assert_eq!(guest_home_domain("ann"), None);
        assert_eq!(digits_as_hash("a01b2.example.com"), "a#b#.example.com");
    }

    #[test]
    fn free_text_loses_known_names_addresses_and_ips_but_keeps_other_words() {
        let a = p();
        let df = df!(
            "customer_name" => ["Contoso Ltd", "AB"],
            "caller" => ["alice@contoso.com", "10.1.2.3"],
            "entity_name" => ["System", "Production"],
        )
        .unwrap();
        // Service words in the entity column are replaced there, but not searched for in text.
        assert_eq!(
            a.scrub(
                "System restart in Production",
                &a.dictionary([&df].into_iter()).unwrap()
            ),
            "System restart in Production"
        );
        let dict = a.dictionary([&df].into_iter()).unwrap();
        let text = "New caller Alice@Contoso.com (from 10.1.2.3) for CONTOSO LTD; see bob@fabrikam.io at 198.51.100.20. ABBA, AB, Contoso Ltdx";
        let out = a.scrub(text, &dict);
        for gone in [
            "alice",
            "Alice",
            "10.1.2.3",
            "CONTOSO LTD",
            "bob@",
            "fabrikam",
            "198.51.100.20",
            "contoso.com",
        ] {
            assert!(!out.contains(gone), "{gone} survived in {out}");
        }
        // Short names are replaced only as a whole cell; words that merely contain a name stay.
        assert!(out.contains("ABBA, AB, Contoso Ltdx"), "{out}");
        assert!(out.contains(&a.pseudonym(Kind::Customer, "Contoso Ltd")));
        assert!(out.contains(&a.address("alice@contoso.com")));
        assert_eq!(a.scrub("AB", &dict), a.pseudonym(Kind::Customer, "AB"));
        // A pseudonym is not pseudonymized again.
        let once = a.scrub("x alice@contoso.com y", &dict);
        assert_eq!(once, format!("x {} y", a.address("alice@contoso.com")));
    }

    #[test]
    fn tables_are_replaced_consistently_and_raw_rows_are_digested() {
        let a = p();
        let mut tables = BTreeMap::new();
        tables.insert(
            "risk_scores".to_string(),
            df!("customer_id" => ["c1"], "customer_name" => ["Contoso Ltd"], "top_reasons" => ["new_caller: alice@contoso.com"], "risk_score" => [1.5]).unwrap(),
        );
        tables.insert(
            "rejected_rows".to_string(),
            df!("line" => [2i64], "raw" => [Some("c1,Contoso Ltd,contoso.com,x")], "reason" => [Some("expected a number, found 'x'")]).unwrap(),
        );
        let mut inputs = BTreeMap::new();
        inputs.insert(
            "activity".to_string(),
            df!("caller" => [Some("alice@contoso.com"), None], "client_ip" => [Some("203.0.113.7"), Some("")]).unwrap(),
        );
        a.apply(&mut tables, &mut inputs).unwrap();
        let r = &tables["risk_scores"];
        assert_eq!(
            r.column("customer_id").unwrap().str().unwrap().get(0),
            Some("c1")
        );
        assert_eq!(
            r.column("customer_name")
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .unwrap(),
            a.pseudonym(Kind::Customer, "Contoso Ltd")
        );
        assert_eq!(
            r.column("top_reasons")
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .unwrap(),
            format!("new_caller: {}", a.address("alice@contoso.com"))
        );
        assert_eq!(
            r.column("risk_score").unwrap().f64().unwrap().get(0),
            Some(1.5)
        );
        let raw = tables["rejected_rows"]
            .column("raw")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap()
            .to_string();
        assert!(raw.starts_with("redacted-") && !raw.contains("contoso"));
        let act = &inputs["activity"];
        let callers: Vec<Option<&str>> = act
            .column("caller")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            callers,
            [Some(a.address("alice@contoso.com").as_str()), None]
        );
        let ips: Vec<Option<&str>> = act
            .column("client_ip")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ips[1], Some(""));
        assert!(ips[0].unwrap().starts_with("ip-"));
    }

    #[test]
    fn short_or_missing_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("k");
        std::fs::write(&short, "too short\n").unwrap();
        let e = load_key(Some(&short), None).unwrap_err().to_string();
        assert!(e.contains("at least 16 bytes, found 9"), "{e}");
        let good = dir.path().join("g");
        std::fs::write(&good, "0123456789abcdef0123\n").unwrap();
        assert_eq!(
            load_key(Some(&good), None).unwrap(),
            b"0123456789abcdef0123"
        );
        let missing = load_key(Some(&dir.path().join("none")), None).unwrap_err();
        assert_eq!(missing.exit_code(), 2);
    }
}
