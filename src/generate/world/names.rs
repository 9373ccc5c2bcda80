//! Made-up names for generated customers and users: company names per country, their domain
//! slugs, weighted picks and client IP addresses.

use super::*;

pub(super) const ADJ: &[&str] = &[
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Blue Yonder",
    "Alpine",
    "Coho",
    "Litware",
    "Adventure",
    "Wide World",
    "Proseware",
    "Lucerne",
    "Margie's",
    "Trey",
    "Woodgrove",
    "Humongous",
    "Graphic",
    "Wingtip",
    "Relecloud",
    "Southridge",
    "Bellows",
    "Fourth Coffee",
    "Datum",
    "Consolidated",
    "Lamna",
    "Nod",
];
pub(super) const NOUN: &[&str] = &[
    "Traders",
    "Logistics",
    "Analytics",
    "Health",
    "Labs",
    "Media",
    "Energy",
    "Retail",
    "Systems",
    "Foods",
    "Insurance",
    "Studios",
    "Robotics",
    "Travel",
    "Bank",
    "Software",
    "Design",
    "Partners",
    "Clinics",
    "Works",
];
pub(super) const SUFFIX: &[(&str, &str)] = &[
    ("US", "Inc."),
    ("US", "LLC"),
    ("GB", "Ltd"),
    ("GB", "plc"),
    ("DE", "GmbH"),
    ("DE", "AG"),
    ("FR", "SAS"),
    ("FR", "SA"),
    ("NL", "B.V."),
    ("AU", "Pty Ltd"),
    ("CA", "Inc."),
    ("IE", "Ltd"),
    ("SE", "AB"),
    ("JP", "K.K."),
    ("ES", "S.L."),
    ("NG", "Ltd"),
];
pub(super) const FIRST: &[&str] = &[
    "alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "oscar", "peggy", "rupert", "sybil", "trent", "victor", "wendy",
];
pub(super) const LAST: &[&str] = &[
    "smith",
    "jones",
    "garcia",
    "muller",
    "martin",
    "dubois",
    "jansen",
    "brown",
    "tanaka",
    "wilson",
    "rossi",
    "lindqvist",
];

pub(super) fn company_name(rng: &mut ChaCha8Rng, country: &str, index: usize) -> String {
    let a = ADJ[rng.random_range(0..ADJ.len())];
    let n = NOUN[rng.random_range(0..NOUN.len())];
    let suffixes: Vec<&str> = SUFFIX
        .iter()
        .filter(|s| s.0 == country)
        .map(|s| s.1)
        .collect();
    let s = suffixes
        .get(rng.random_range(0..suffixes.len().max(1)))
        .copied()
        .unwrap_or("Ltd");
    // The index keeps names unique, as Partner Center customer names mostly are.
    format!("{a} {n} {index:04} {s}")
}

pub(super) fn slug(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

pub(super) fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (v, w) in items {
        if x < *w {
            return v;
        }
        x -= w;
    }
    &items[0].0
}

pub(super) fn ip(rng: &mut ChaCha8Rng, first: &[u8]) -> String {
    let a = first[rng.random_range(0..first.len())];
    format!(
        "{a}.{}.{}.{}",
        rng.random_range(1..255u8),
        rng.random_range(0..255u8),
        rng.random_range(1..255u8)
    )
}
